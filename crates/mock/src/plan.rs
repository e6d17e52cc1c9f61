//! Per-request plan: query-string overrides, how many tokens go in which chunk, and when each
//! chunk is due (the faults `fail=` injects are in `fault`).
//!
//! Every deadline is computed from the request's start (`start + ttft + k·itl + jitter_k`, `k`
//! counting chunks, reasoning and answer together), so
//! lateness of one wake-up never shifts the next one: no drift, even with 2,048 streams on two
//! cores. The start is handler entry, or the moment a request that waited for a slot
//! (`--slots`) got one. With `--prefix-cache` the ttft is the share of the prompt that was not
//! cached.

use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;

use super::MockOptions;
use super::fault::Fault;
use super::words::Part;

/// Query parameters accepted by every streaming route.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct MockQuery {
    /// Overrides `--ttft-ms`.
    pub ttft_ms: Option<u64>,
    /// Overrides `--itl-ms`.
    pub itl_ms: Option<u64>,
    /// Overrides `--tokens` (still capped by the body's max-tokens field).
    pub tokens: Option<u64>,
    /// Overrides `--reasoning-tokens`.
    pub reasoning_tokens: Option<u64>,
    /// Overrides `--tokens-per-chunk`.
    pub tokens_per_chunk: Option<u64>,
    /// Overrides `--jitter-ms`.
    pub jitter_ms: Option<u64>,
    /// `false` leaves out every usage and token-count field.
    pub usage: Option<bool>,
    /// A fault to inject, see [`Fault::parse`].
    pub fail: Option<String>,
    /// Workflow route only: `dify` (default) or `event-lines`.
    pub framing: Option<String>,
    /// Gemini route only: must be `sse` (the mock does not stream JSON arrays).
    pub alt: Option<String>,
    /// `fail=redirect:<code>` only: the `Location` to send (default: this URL without `fail`).
    pub to: Option<String>,
    /// Replaces the response's `Content-Type` (`none` leaves it out), as gateways that
    /// mislabel streams do.
    pub ct: Option<String>,
    /// Compresses the response (`gzip`, `deflate`, `br`, `zstd`; `garbage`: claims gzip,
    /// sends it plain), whatever the client asked.
    pub ce: Option<String>,
}

/// Tiny xorshift64 generator: jitter needs no quality, only to be cheap and reproducible.
#[derive(Debug, Clone)]
pub(crate) struct XorShift(u64);

impl XorShift {
    /// A generator seeded from the request id (spread by splitmix64; never zero).
    pub(crate) fn new(seed: u64) -> XorShift {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        XorShift((z ^ (z >> 31)) | 1)
    }

    /// The next 64 pseudo-random bits.
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform-ish in `0..=max`.
    fn up_to(&mut self, max: u64) -> u64 {
        if max == 0 { 0 } else { self.next() % (max + 1) }
    }
}

/// How many tokens a response streams, and how they are cut into chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Reasoning tokens, streamed first.
    pub reasoning: u64,
    /// Answer tokens.
    pub tokens: u64,
    /// Tokens per chunk (at least 1); the last chunk of each part may hold fewer.
    pub per_chunk: u64,
    /// True when the body's max-tokens field cut the output short (finish reason "length").
    pub capped: bool,
}

/// One chunk of a response: which part, which of the part's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkSpan {
    /// Reasoning or answer; a chunk never mixes them.
    pub part: Part,
    /// Index of its first token within the part.
    pub first: u64,
    /// Tokens in it (1..=per_chunk).
    pub tokens: u64,
}

impl Shape {
    /// The counts wanted by the options and the query, reasoning dropped when the format has
    /// no place for it, and both capped by `max_tokens`. The cap covers reasoning and answer
    /// together, as the real APIs count it, so a small cap can leave no answer at all.
    pub(crate) fn new(
        options: &MockOptions,
        query: &MockQuery,
        max_tokens: Option<u64>,
        reasoning: bool,
    ) -> Shape {
        let wanted_reasoning =
            if reasoning { query.reasoning_tokens.unwrap_or(options.reasoning_tokens) } else { 0 };
        let wanted_tokens = query.tokens.unwrap_or(options.tokens);
        let cap = max_tokens.unwrap_or(u64::MAX);
        let reasoning = wanted_reasoning.min(cap);
        let tokens = wanted_tokens.min(cap - reasoning);
        Shape {
            reasoning,
            tokens,
            per_chunk: query.tokens_per_chunk.unwrap_or(options.tokens_per_chunk).max(1),
            capped: reasoning + tokens < wanted_reasoning.saturating_add(wanted_tokens),
        }
    }

    /// The shape of `fail=endless`: the same reasoning, then an answer no client outlives,
    /// never cut by a cap.
    pub(crate) fn endless(self) -> Shape {
        Shape { tokens: u64::MAX / 4, capped: false, ..self }
    }

    /// Chunks of reasoning.
    pub(crate) fn reasoning_chunks(&self) -> u64 {
        self.reasoning.div_ceil(self.per_chunk)
    }

    /// Chunks in all: reasoning, then answer.
    pub(crate) fn chunks(&self) -> u64 {
        self.reasoning_chunks() + self.tokens.div_ceil(self.per_chunk)
    }

    /// Chunk `k` (0-based over reasoning and answer chunks together); `k < self.chunks()`.
    pub(crate) fn span(&self, k: u64) -> ChunkSpan {
        let (part, j, total) = match k.checked_sub(self.reasoning_chunks()) {
            None => (Part::Reasoning, k, self.reasoning),
            Some(j) => (Part::Answer, j, self.tokens),
        };
        let first = j * self.per_chunk;
        ChunkSpan { part, first, tokens: self.per_chunk.min(total - first) }
    }
}

/// When each chunk of one response is due, and what it holds.
#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    /// Handler entry: the first-content latency counts from here, waiting for a slot included.
    pub received: Instant,
    /// When generation starts: every deadline counts from here. Handler entry, unless the
    /// request had to wait for a slot ([`Schedule::restart`]).
    pub start: Instant,
    /// Delay before the first chunk (its uncached share with `--prefix-cache`).
    pub ttft: Duration,
    itl: Duration,
    jitter_us: u64,
    rng: XorShift,
    /// `fail=pause`: chunks from this index on are due this much later.
    pause: Option<(u64, Duration)>,
    /// Token counts and chunking.
    pub shape: Shape,
}

impl Schedule {
    /// Applies the query overrides to the options; `shape` holds the (capped) counts.
    pub(crate) fn new(
        start: Instant,
        options: &MockOptions,
        query: &MockQuery,
        shape: Shape,
        seed: u64,
    ) -> Schedule {
        Schedule {
            received: start,
            start,
            ttft: Duration::from_millis(query.ttft_ms.unwrap_or(options.ttft_ms)),
            itl: Duration::from_millis(query.itl_ms.unwrap_or(options.itl_ms)),
            jitter_us: query.jitter_ms.unwrap_or(options.jitter_ms).saturating_mul(1000),
            rng: XorShift::new(seed),
            pause: None,
            shape,
        }
    }

    /// Starts generating at `at` (a slot was granted then): every deadline shifts with it.
    pub(crate) fn restart(&mut self, at: Instant) {
        self.start = at;
    }

    /// Applies `fault` if it is a pause (other faults do not move deadlines).
    pub(crate) fn with_fault(mut self, fault: Option<Fault>) -> Schedule {
        if let Some(Fault::Pause { after, ms }) = fault {
            self.pause = Some((after, Duration::from_millis(ms)));
        }
        self
    }

    /// Prefills only what the prefix cache did not hold: of a `prompt` of which `cached` tokens
    /// were cached, the time to first token keeps the uncached share,
    /// `ttft × (prompt − cached) / prompt`.
    pub(crate) fn with_cached(mut self, prompt: u64, cached: u64) -> Schedule {
        let (prompt, cached) = (u128::from(prompt.max(1)), u128::from(cached.min(prompt)));
        let nanos = self.ttft.as_nanos() * (prompt - cached) / prompt;
        self.ttft = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        self
    }

    /// When chunk `k` (0-based) is due: `start + ttft + k·itl + jitter`, jitter drawn afresh
    /// for each delay and never accumulated.
    pub(crate) fn deadline(&mut self, k: u64) -> Instant {
        let steps = u32::try_from(k).unwrap_or(u32::MAX);
        let jitter = Duration::from_micros(self.rng.up_to(self.jitter_us));
        let pause = match self.pause {
            Some((after, pause)) if k >= after => pause,
            _ => Duration::ZERO,
        };
        self.start + self.ttft + self.itl.saturating_mul(steps) + jitter + pause
    }

    /// When a non-streaming answer is complete: the last chunk's deadline (ttft alone for an
    /// empty answer).
    pub(crate) fn last_deadline(&mut self) -> Instant {
        self.deadline(self.shape.chunks().saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_do_not_drift_and_jitter_stays_bounded() {
        let start = Instant::now();
        let options = MockOptions {
            ttft_ms: 100,
            itl_ms: 10,
            tokens: 64,
            jitter_ms: 2,
            ..MockOptions::default()
        };
        let query = MockQuery::default();
        let shape = Shape::new(&options, &query, None, true);
        let mut s = Schedule::new(start, &options, &query, shape, 7);
        for k in [0u64, 1, 19, 1000] {
            let base = start + Duration::from_millis(100 + 10 * k);
            let d = s.deadline(k);
            assert!(d >= base && d <= base + Duration::from_millis(2), "k={k}");
        }
    }

    #[test]
    fn a_pause_shifts_every_later_chunk() {
        let start = Instant::now();
        let options =
            MockOptions { ttft_ms: 10, itl_ms: 5, jitter_ms: 0, ..MockOptions::default() };
        let query = MockQuery::default();
        let shape = Shape::new(&options, &query, None, false);
        let mut s = Schedule::new(start, &options, &query, shape, 1)
            .with_fault(Some(Fault::Pause { after: 2, ms: 100 }));
        let due: Vec<u64> = (0..4).map(|k| (s.deadline(k) - start).as_millis() as u64).collect();
        assert_eq!(due, [10, 15, 120, 125]);
    }

    #[test]
    fn cached_prompt_tokens_shorten_the_ttft_in_proportion() {
        let options = MockOptions { ttft_ms: 1000, ..MockOptions::default() };
        let query = MockQuery::default();
        let shape = Shape::new(&options, &query, None, false);
        let ttft = |prompt, cached| {
            let s = Schedule::new(Instant::now(), &options, &query, shape, 1);
            s.with_cached(prompt, cached).ttft.as_millis()
        };
        assert_eq!(ttft(1000, 0), 1000);
        assert_eq!(ttft(1000, 992), 8);
        assert_eq!(ttft(512, 512), 0, "all cached: the first token at once");
        let query = MockQuery { ttft_ms: Some(200), ..MockQuery::default() };
        let s = Schedule::new(Instant::now(), &options, &query, shape, 1).with_cached(100, 50);
        assert_eq!(s.ttft.as_millis(), 100, "a query's ttft_ms shrinks alike");
    }

    #[test]
    fn the_cap_covers_reasoning_and_answer() {
        let options = MockOptions { tokens: 64, reasoning_tokens: 10, ..MockOptions::default() };
        let query = MockQuery { tokens: Some(50), ..MockQuery::default() };
        let shape = |cap, reasoning| Shape::new(&options, &query, cap, reasoning);
        let s = shape(Some(20), true);
        assert_eq!((s.reasoning, s.tokens, s.capped), (10, 10, true));
        let s = shape(Some(5), true);
        assert_eq!((s.reasoning, s.tokens, s.capped), (5, 0, true));
        let s = shape(Some(60), true);
        assert_eq!((s.reasoning, s.tokens, s.capped), (10, 50, false));
        // A format without reasoning ignores --reasoning-tokens altogether.
        let s = shape(Some(50), false);
        assert_eq!((s.reasoning, s.tokens, s.capped), (0, 50, false));
        let s = Shape::new(&options, &MockQuery::default(), Some(100), false);
        assert_eq!((s.tokens, s.capped), (64, false));
    }

    #[test]
    fn chunks_never_mix_parts() {
        let shape = Shape { reasoning: 5, tokens: 7, per_chunk: 3, capped: false };
        assert_eq!((shape.reasoning_chunks(), shape.chunks()), (2, 5));
        let spans: Vec<_> = (0..5).map(|k| shape.span(k)).collect();
        let r = |first, tokens| ChunkSpan { part: Part::Reasoning, first, tokens };
        let a = |first, tokens| ChunkSpan { part: Part::Answer, first, tokens };
        assert_eq!(spans, [r(0, 3), r(3, 2), a(0, 3), a(3, 3), a(6, 1)]);
        let none = Shape { reasoning: 0, tokens: 0, per_chunk: 1, capped: false };
        assert_eq!(none.chunks(), 0);
    }
}
