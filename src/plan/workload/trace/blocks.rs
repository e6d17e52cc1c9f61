//! Prompts for trace rows that give lengths and block ids rather than text.
//!
//! A Mooncake row's `hash_ids` name the blocks of `block_tokens` tokens its prompt was made
//! of: two requests whose first k ids are the same had the same first k blocks of prompt,
//! which a server's prefix (KV) cache reuses. The replay keeps exactly that sharing. A prompt
//! is one block a hash id, each exactly `block_tokens` tokens and the same text for the same id
//! wherever it appears, the last cut so that the prompt is exactly `input_tokens` long. A
//! block opens with its id in brackets, ` [000000042]`, so blocks of different ids part within
//! their first eight tokens (five for ids below 10⁹, eight for the largest): less than the
//! smallest block a server caches prefixes in (16 tokens), so no two blocks share a cached
//! block by accident. What the ids do not cover (a row longer than its blocks, or a row with
//! no ids, as in BurstGPT) is a part of its own opened by ` (request 000000042)`, the request's
//! number in the run, so that it is shared with no other request.
//!
//! The text is cut from [`Prompts`]' corpus. Each block starts with a space and ends in a
//! visible character, so no token crosses from one block into the next: the prompt's tokens
//! are its blocks' tokens one after another (for the tiktoken encodings and `chars`; a Hugging
//! Face tokenizer may merge across a block's start, so its counts are near, not exact).

use super::{TraceContent, TraceRow};
use crate::measure::tokens::Tokenizer;
use crate::plan::workload::prompts::Prompts;

/// Tokens a hash id stands for when `--trace-block-tokens` is not given: the Mooncake
/// traces' block size.
pub const DEFAULT_BLOCK_TOKENS: u64 = 512;

/// Makes the prompts of block-id rows: the corpus cut and counted once, a block's size.
#[derive(Debug, Clone)]
pub struct BlockPrompts {
    prompts: Prompts,
    block_tokens: u64,
}

impl BlockPrompts {
    /// Cuts and counts the corpus with `tokenizer` (as [`Prompts::new`]: `events` counts with
    /// `o200k_base`); `block_tokens` is the tokens a hash id stands for (0 is taken as 1).
    pub fn new(tokenizer: &Tokenizer, block_tokens: u64) -> BlockPrompts {
        BlockPrompts { prompts: Prompts::new(tokenizer, 0), block_tokens: block_tokens.max(1) }
    }

    /// The tokens a hash id stands for.
    pub fn block_tokens(&self) -> u64 {
        self.block_tokens
    }

    /// The tokenizer the lengths are counted with.
    pub fn tokenizer(&self) -> &Tokenizer {
        self.prompts.tokenizer()
    }

    /// The prompt of exactly `input_tokens` tokens made of the blocks `hash_ids` name, sent
    /// as request number `request` of the run: any tokens past the blocks (all of them when
    /// there are no ids) are the request's own, so give every request sent its own number.
    pub fn prompt(&self, hash_ids: &[u64], input_tokens: u64, request: u64) -> String {
        let mut out = String::with_capacity(input_tokens as usize * 6);
        self.write(&mut out, hash_ids, input_tokens, request);
        out
    }

    /// [`prompt`](Self::prompt) written into `out` (cleared first), reusing its buffer.
    pub fn write(&self, out: &mut String, hash_ids: &[u64], input_tokens: u64, request: u64) {
        out.clear();
        let mut left = input_tokens;
        for &id in hash_ids {
            if left == 0 {
                break;
            }
            let tokens = left.min(self.block_tokens);
            self.prompts.push_piece(out, &format!(" [{id:09}]"), id, tokens);
            left -= tokens;
        }
        if left > 0 {
            self.prompts.push_piece(out, &format!(" (request {request:09})"), request, left);
        }
    }

    /// The prompt `row` sends as request number `request`, when it is made from blocks
    /// ([`TraceContent::Blocks`] with an input length); `None` when the row brings its own.
    pub fn for_row(&self, row: &TraceRow, request: u64) -> Option<String> {
        match (&row.content, row.input_tokens) {
            (TraceContent::Blocks, Some(tokens)) => {
                Some(self.prompt(&row.hash_ids, tokens, request))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use super::*;

    /// Cutting and counting the corpus takes a moment: once for every test.
    static O200K: LazyLock<BlockPrompts> =
        LazyLock::new(|| BlockPrompts::new(&Tokenizer::O200kBase, 512));

    fn tokens(text: &str) -> Vec<u32> {
        tiktoken_rs::o200k_base_singleton().encode_ordinary(text)
    }

    fn common(a: &[u32], b: &[u32]) -> usize {
        a.iter().zip(b).take_while(|(x, y)| x == y).count()
    }

    #[test]
    fn requests_sharing_their_first_block_ids_share_exactly_those_blocks() {
        let a = tokens(&O200K.prompt(&[1, 2, 3], 1536, 0));
        let b = tokens(&O200K.prompt(&[1, 2, 4], 1400, 1));
        let c = tokens(&O200K.prompt(&[5], 700, 2));
        assert_eq!((a.len(), b.len(), c.len()), (1536, 1400, 700));
        assert_eq!(a[..1024], b[..1024], "blocks 1 and 2: the same 1,024 tokens");
        let shared = common(&a, &b);
        assert!((1024..1024 + 8).contains(&shared), "blocks 3 and 4 part at once: {shared}");
        assert!(common(&a, &c) < 8, "block 5 shares nothing with block 1");
    }

    #[test]
    fn a_block_is_the_same_text_wherever_it_appears() {
        let alone = O200K.prompt(&[2], 512, 0);
        let first = O200K.prompt(&[1], 512, 0);
        let after = O200K.prompt(&[1, 2], 1024, 7);
        assert_eq!(after, format!("{first}{alone}"));
        assert!(alone.starts_with(" [000000002] "), "{alone:.40}");
        let cut = O200K.prompt(&[1, 2], 700, 0);
        // A cut block is the whole one's beginning, but for the last few tokens that fit.
        let shared = common(&tokens(&cut), &tokens(&after));
        assert!((512 + 170..=700).contains(&shared), "block 2 cut to 188 tokens: {shared}");
    }

    #[test]
    fn every_prompt_has_exactly_the_tokens_asked_for() {
        let ids: [&[u64]; 4] = [&[], &[7], &[7, 8, 9], &[u64::MAX]];
        for ids in ids {
            for length in [1, 2, 3, 5, 8, 100, 511, 512, 513, 1024, 1500, 2000] {
                let prompt = O200K.prompt(ids, length, 42);
                assert_eq!(Tokenizer::O200kBase.count(&prompt), Some(length), "{ids:?} {length}");
            }
        }
        let chars = BlockPrompts::new(&Tokenizer::Chars, 16);
        for length in [1, 5, 16, 17, 40] {
            assert_eq!(chars.prompt(&[3, 4], length, 0).chars().count() as u64, length);
        }
    }

    #[test]
    fn different_ids_and_different_requests_part_within_eight_tokens() {
        let ids = [0, 1, 2, 999_999_999, 1_000_000_000, u64::MAX - 1, u64::MAX];
        let mut heads: Vec<Vec<u32>> =
            ids.iter().map(|&id| tokens(&O200K.prompt(&[id], 512, 0))[..8].to_vec()).collect();
        // Rows without ids: each request's prompt is its own.
        heads.extend((0..3).map(|request| tokens(&O200K.prompt(&[], 512, request))[..8].to_vec()));
        let mut distinct = heads.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), heads.len());
        // Past its blocks, a row's tail is its own too.
        let (x, y) = (tokens(&O200K.prompt(&[5], 700, 1)), tokens(&O200K.prompt(&[5], 700, 2)));
        assert!((512..520).contains(&common(&x, &y)));
    }
}
