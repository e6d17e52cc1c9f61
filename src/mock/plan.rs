//! Per-request plan: query-string overrides, injected faults, token schedule and token text.
//!
//! Every deadline is computed from the request's start (`start + ttft + k·itl + jitter_k`), so
//! lateness of one wake-up never shifts the next one: no drift, even with 2,048 streams on two
//! cores.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;

use super::MockOptions;

/// Query parameters accepted by every streaming route.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct MockQuery {
    /// Overrides `--ttft-ms`.
    pub ttft_ms: Option<u64>,
    /// Overrides `--itl-ms`.
    pub itl_ms: Option<u64>,
    /// Overrides `--tokens` (still capped by the body's `max_tokens`).
    pub tokens: Option<u64>,
    /// Overrides `--jitter-ms`.
    pub jitter_ms: Option<u64>,
    /// A fault to inject, see [`Fault::parse`].
    pub fail: Option<String>,
    /// Workflow route only: `dify` (default) or `event-lines`.
    pub framing: Option<String>,
}

/// A fault injected with `?fail=…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// `status:<code>`: answer `<code>` with a JSON error body right away.
    Status(u16),
    /// `close:<k>`: after k content tokens, abort the body (truncated chunked encoding).
    Close(u64),
    /// `stall:<k>`: after k content tokens, send nothing more until the client goes away.
    Stall(u64),
    /// `error:<k>`: after k content tokens, send an in-stream error payload and end.
    Error(u64),
}

impl Fault {
    /// Parses `status:<code>`, `close:<k>`, `stall:<k>` or `error:<k>`.
    pub(crate) fn parse(s: &str) -> Result<Fault, String> {
        let bad = || {
            format!("invalid fail={s:?}: expected status:<code>, close:<k>, stall:<k> or error:<k>")
        };
        let (kind, arg) = s.split_once(':').ok_or_else(bad)?;
        match kind {
            "status" => match arg.parse::<u16>() {
                Ok(code) if (100..=999).contains(&code) => Ok(Fault::Status(code)),
                _ => Err(bad()),
            },
            "close" | "stall" | "error" => {
                let k = arg.parse::<u64>().map_err(|_| bad())?;
                Ok(match kind {
                    "close" => Fault::Close(k),
                    "stall" => Fault::Stall(k),
                    _ => Fault::Error(k),
                })
            }
            _ => Err(bad()),
        }
    }

    /// After how many content tokens a mid-stream fault fires (`None` for `Status`).
    pub(crate) fn after_tokens(self) -> Option<u64> {
        match self {
            Fault::Status(_) => None,
            Fault::Close(k) | Fault::Stall(k) | Fault::Error(k) => Some(k),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Status(c) => write!(f, "status:{c}"),
            Fault::Close(k) => write!(f, "close:{k}"),
            Fault::Stall(k) => write!(f, "stall:{k}"),
            Fault::Error(k) => write!(f, "error:{k}"),
        }
    }
}

/// The tokens of every answer, cycled: mixed ASCII and CJK so that clients are exercised on
/// multi-byte UTF-8. None needs JSON escaping, so they are spliced into preformatted JSON as is.
pub(crate) const WORDS: [&str; 16] = [
    "Hello", " world", ", ", "this", " is", " a", " mock", " stream", ". ", "这是", "一个", "模拟",
    "的", "回答", "。", " ",
];

/// Token `k` of every answer.
pub(crate) fn word(k: u64) -> &'static str {
    WORDS[(k % WORDS.len() as u64) as usize]
}

/// The full text of an answer of `n` tokens (what the concatenated chunks spell).
pub fn mock_text(n: u64) -> String {
    (0..n).map(word).collect()
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

    fn next(&mut self) -> u64 {
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

/// When each token of one response is due, and how many there are.
#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    /// Handler entry: every deadline and the first-content latency count from here.
    pub start: Instant,
    ttft: Duration,
    itl: Duration,
    jitter_us: u64,
    rng: XorShift,
    /// Content tokens to send.
    pub tokens: u64,
    /// True when the body's `max_tokens` cut the answer short (finish reason "length").
    pub capped: bool,
}

impl Schedule {
    /// Applies the query overrides to the options and caps the count by `max_tokens`.
    pub(crate) fn new(
        start: Instant,
        options: &MockOptions,
        query: &MockQuery,
        max_tokens: Option<u64>,
        seed: u64,
    ) -> Schedule {
        let wanted = query.tokens.unwrap_or(options.tokens);
        let tokens = max_tokens.map_or(wanted, |m| m.min(wanted));
        Schedule {
            start,
            ttft: Duration::from_millis(query.ttft_ms.unwrap_or(options.ttft_ms)),
            itl: Duration::from_millis(query.itl_ms.unwrap_or(options.itl_ms)),
            jitter_us: query.jitter_ms.unwrap_or(options.jitter_ms).saturating_mul(1000),
            rng: XorShift::new(seed),
            tokens,
            capped: tokens < wanted,
        }
    }

    /// When token `k` (0-based) is due: `start + ttft + k·itl + jitter`, jitter drawn afresh
    /// for each delay and never accumulated.
    pub(crate) fn deadline(&mut self, k: u64) -> Instant {
        let steps = u32::try_from(k).unwrap_or(u32::MAX);
        let jitter = Duration::from_micros(self.rng.up_to(self.jitter_us));
        self.start + self.ttft + self.itl.saturating_mul(steps) + jitter
    }

    /// When a non-streaming answer is complete: the last token's deadline (ttft alone for an
    /// empty answer).
    pub(crate) fn last_deadline(&mut self) -> Instant {
        self.deadline(self.tokens.saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse() {
        assert_eq!(Fault::parse("status:503"), Ok(Fault::Status(503)));
        assert_eq!(Fault::parse("close:3"), Ok(Fault::Close(3)));
        assert_eq!(Fault::parse("stall:0"), Ok(Fault::Stall(0)));
        assert_eq!(Fault::parse("error:2"), Ok(Fault::Error(2)));
        for bad in ["", "close", "close:x", "status:42", "boom:1"] {
            assert!(Fault::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Fault::Error(2).to_string(), "error:2");
    }

    #[test]
    fn words_need_no_json_escaping() {
        for w in WORDS {
            assert_eq!(serde_json::to_string(w).expect("a str serializes"), format!("\"{w}\""));
        }
        assert_eq!(mock_text(3), "Hello world, ");
    }

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
        let query = MockQuery { tokens: Some(50), ..MockQuery::default() };
        let mut s = Schedule::new(start, &options, &query, Some(20), 7);
        assert_eq!((s.tokens, s.capped), (20, true));
        for k in [0u64, 1, 19, 1000] {
            let base = start + Duration::from_millis(100 + 10 * k);
            let d = s.deadline(k);
            assert!(d >= base && d <= base + Duration::from_millis(2), "k={k}");
        }
        let s = Schedule::new(start, &options, &MockQuery::default(), Some(100), 7);
        assert_eq!((s.tokens, s.capped), (64, false));
    }
}
