//! The text the mock streams: answer and reasoning words, one tokenizer token each.
//!
//! Every word is exactly one `o200k_base` token *in context*: each starts with a space (or is
//! a lone punctuation mark), so the tokenizer's pre-split puts every word in a piece of its
//! own and BPE cannot merge across words. A client that counts tokens with a tokenizer
//! therefore gets exactly the number the mock sent, for the whole answer and for any chunk.
//! A few words carry multi-byte UTF-8 (`é`, `ü`, CJK) so clients are exercised on it too.
//! None needs JSON escaping, so framers splice them into preformatted JSON as they are.

/// The answer's words, cycled.
pub(crate) const WORDS: [&str; 16] = [
    " Hello", " world", ",", " this", " is", " a", " mock", " stream", " of", " café", " tokens",
    " über", " 数据", " and", " 世界", ".",
];

/// The reasoning's words, cycled: distinct from the answer's so tests can tell them apart.
pub(crate) const REASONING_WORDS: [&str; 16] = [
    " Let",
    " me",
    " think",
    " about",
    " the",
    " question",
    " first",
    ",",
    " then",
    " answer",
    " it",
    " step",
    " by",
    " step",
    " carefully",
    ".",
];

/// Which part of a response a token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// Reasoning ("thinking"), streamed before the answer.
    Reasoning,
    /// The visible answer.
    Answer,
}

/// Token `k` (0-based) of the answer.
pub(crate) fn word(k: u64) -> &'static str {
    WORDS[(k % WORDS.len() as u64) as usize]
}

/// Token `k` (0-based) of `part`.
pub(crate) fn word_of(part: Part, k: u64) -> &'static str {
    match part {
        Part::Answer => word(k),
        Part::Reasoning => REASONING_WORDS[(k % REASONING_WORDS.len() as u64) as usize],
    }
}

/// Appends tokens `first..first + n` of `part` to `out`.
pub(crate) fn push_words(out: &mut String, part: Part, first: u64, n: u64) {
    for k in first..first + n {
        out.push_str(word_of(part, k));
    }
}

/// Appends the `o200k_base` token ids of `text` to `out`: the encoding every mock word is one
/// token of, with which the mock counts prompts (and finds their cached prefix).
pub(crate) fn push_o200k_ids(out: &mut Vec<u32>, text: &str) {
    out.extend(tiktoken_rs::o200k_base_singleton().encode_ordinary(text));
}

/// Loads the `o200k_base` table (the first call takes it from the crate's data).
pub(crate) fn load_o200k() {
    tiktoken_rs::o200k_base_singleton();
}

/// The full text of an answer of `n` tokens (what the concatenated chunks spell).
pub fn mock_text(n: u64) -> String {
    let mut s = String::new();
    push_words(&mut s, Part::Answer, 0, n);
    s
}

/// The full reasoning text of `n` reasoning tokens.
pub fn mock_reasoning_text(n: u64) -> String {
    let mut s = String::new();
    push_words(&mut s, Part::Reasoning, 0, n);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(text: &str) -> usize {
        tiktoken_rs::o200k_base_singleton().encode_ordinary(text).len()
    }

    #[test]
    fn words_need_no_json_escaping() {
        for w in WORDS.iter().chain(&REASONING_WORDS) {
            assert_eq!(serde_json::to_string(w).expect("a str serializes"), format!("\"{w}\""));
        }
        assert_eq!(mock_text(3), " Hello world,");
        assert_eq!(mock_reasoning_text(2), " Let me");
    }

    #[test]
    fn every_word_is_one_o200k_token() {
        for w in WORDS.iter().chain(&REASONING_WORDS) {
            assert_eq!(count(w), 1, "{w:?}");
        }
    }

    #[test]
    fn long_texts_count_one_token_per_word() {
        // Several cycles, so the wrap from the last word to the first is covered too.
        assert_eq!(count(&mock_text(500)), 500);
        assert_eq!(count(&mock_reasoning_text(500)), 500);
        // Reasoning then answer, as a client that tokenizes everything it received sees it.
        let both = mock_reasoning_text(37) + &mock_text(41);
        assert_eq!(count(&both), 78);
    }

    #[test]
    fn every_chunk_counts_its_own_words() {
        for part in [Part::Answer, Part::Reasoning] {
            for per_chunk in 1..=5u64 {
                let mut total = 0;
                for first in (0..64).step_by(per_chunk as usize) {
                    let mut chunk = String::new();
                    push_words(&mut chunk, part, first, per_chunk);
                    assert_eq!(count(&chunk), per_chunk as usize, "{part:?} {chunk:?}");
                    total += count(&chunk);
                }
                assert_eq!(total, 64usize.div_ceil(per_chunk as usize) * per_chunk as usize);
            }
        }
    }
}
