//! `--prefix-cache`: a model of a serving engine's prefix (KV) cache, as vLLM's automatic
//! prefix caching keeps it, so that a client can measure what prompt reuse is worth.
//!
//! The prompt's token ids are cut into blocks of 16; each full block is known by a hash of
//! its ids chained to the hash of the block before it, so a block is a hit only when the whole
//! prompt up to its end was seen before. A request's cached tokens are 16 × its leading hits;
//! then every full block of it is remembered. One cache serves every route and every request
//! of the server, as one engine would, for as long as the server runs: `POST /mock/reset`
//! forgets the counts, not the blocks.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

use super::stats::lock;

/// Tokens a block: vLLM's default block size.
pub(crate) const BLOCK_TOKENS: usize = 16;

/// Most block hashes kept (16 million prompt tokens, some 30 MB).
pub(crate) const MAX_BLOCKS: usize = 1_000_000;

/// The chain's start: the parent of a prompt's first block.
const ROOT: u64 = 0;

/// The block hashes seen so far, shared by every request of the server.
#[derive(Debug)]
pub(crate) struct PrefixCache {
    seen: Mutex<HashSet<u64>>,
    capacity: usize,
}

impl Default for PrefixCache {
    fn default() -> Self {
        PrefixCache::with_capacity(MAX_BLOCKS)
    }
}

impl PrefixCache {
    /// A cache that holds at most `capacity` blocks.
    fn with_capacity(capacity: usize) -> PrefixCache {
        PrefixCache { seen: Mutex::new(HashSet::new()), capacity }
    }

    /// Prefills the prompt `ids`: returns how many of its tokens the cache served (16 × its
    /// leading full blocks seen before), then remembers all its full blocks.
    pub(crate) fn prefill(&self, ids: &[u32]) -> u64 {
        let blocks = block_hashes(ids);
        let mut seen = lock(&self.seen);
        let hits = blocks.iter().take_while(|h| seen.contains(h)).count();
        for hash in blocks {
            // Full: start over rather than track recency. A real engine evicts the least
            // recently used blocks; a load test that fills 16 million tokens of distinct
            // prefixes loses its hits once either way.
            if seen.len() >= self.capacity && !seen.contains(&hash) {
                seen.clear();
            }
            seen.insert(hash);
        }
        (hits * BLOCK_TOKENS) as u64
    }

    /// Blocks remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        lock(&self.seen).len()
    }
}

/// The chain hash of each full block of `ids`, in order; a partial last block has none (it
/// is never cached, as in vLLM).
fn block_hashes(ids: &[u32]) -> Vec<u64> {
    let mut parent = ROOT;
    ids.chunks_exact(BLOCK_TOKENS)
        .map(|block| {
            parent = chain(parent, block);
            parent
        })
        .collect()
}

/// The hash of `block` after the block hashed `parent`.
fn chain(parent: u64, block: &[u32]) -> u64 {
    let mut h = DefaultHasher::new();
    parent.hash(&mut h);
    block.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` token ids counting up from `from`.
    fn ids(from: u32, n: u32) -> Vec<u32> {
        (from..from + n).collect()
    }

    #[test]
    fn only_full_leading_blocks_seen_before_are_hits() {
        let cache = PrefixCache::default();
        let prompt = ids(0, 40);
        assert_eq!(cache.prefill(&prompt), 0, "a cold cache");
        assert_eq!(cache.len(), 2, "two full blocks; the last 8 tokens are no block");
        assert_eq!(cache.prefill(&prompt), 32, "the partial block is prefilled again");
        let longer = ids(0, 70);
        assert_eq!(cache.prefill(&longer), 32, "the shared prefix, then new blocks");
        assert_eq!(cache.prefill(&ids(0, 15)), 0, "shorter than a block");
    }

    #[test]
    fn a_block_counts_only_with_everything_before_it() {
        let cache = PrefixCache::default();
        let mut a = ids(0, 48);
        cache.prefill(&a);
        a[0] = 999;
        assert_eq!(cache.prefill(&a), 0, "blocks 2 and 3 are the same ids after another block 1");
        let mut b = ids(0, 48);
        b[20] = 999;
        assert_eq!(cache.prefill(&b), 16, "block 1 only");
    }

    #[test]
    fn a_full_cache_starts_over() {
        let cache = PrefixCache::with_capacity(4);
        cache.prefill(&ids(0, 64));
        assert_eq!(cache.len(), 4);
        assert_eq!(cache.prefill(&ids(0, 64)), 64, "a full cache still hits");
        assert_eq!(cache.prefill(&ids(1000, 32)), 0);
        assert!(cache.len() <= 4, "never above the bound");
        assert_eq!(cache.len(), 2, "cleared to take the new blocks");
        assert_eq!(cache.prefill(&ids(0, 64)), 0, "the old blocks are gone");
        assert_eq!(MAX_BLOCKS, 1_000_000);
    }
}
