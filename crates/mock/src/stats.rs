//! What the mock recorded: request counts (also by HTTP version), requests in flight,
//! responses generating (holding a slot), prompt and cached tokens (`--prefix-cache`), Dify
//! conversations continued, bodies and server-side time to first content.
//!
//! The hot path touches only atomics; the bodies list and the histogram sit behind a `Mutex`
//! that each request locks at most once per list (when its body is parsed, when its first
//! content leaves).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// How many request bodies are kept; later ones are only counted.
pub const MAX_BODIES: usize = 10_000;

/// What the mock has seen. Shared as `Arc<MockStats>` by the server and its owner.
#[derive(Debug)]
pub struct MockStats {
    connections: AtomicU64,
    server_closes: AtomicU64,
    dropped_requests: AtomicU64,
    requests: AtomicU64,
    http2_requests: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    generating: AtomicU64,
    max_generating: AtomicU64,
    bodies_seen: AtomicU64,
    prompt_tokens: AtomicU64,
    cached_tokens: AtomicU64,
    dify_conversations_continued: AtomicU64,
    bodies: Mutex<Vec<serde_json::Value>>,
    /// When each kept body arrived, beside it: a trace replay's offsets are checked on them.
    arrivals: Mutex<Vec<std::time::Instant>>,
    /// Microseconds from handler entry to the first chunk (reasoning or answer) handed to hyper.
    first_content_us: Mutex<Histogram<u64>>,
}

impl Default for MockStats {
    fn default() -> Self {
        MockStats {
            connections: AtomicU64::new(0),
            server_closes: AtomicU64::new(0),
            dropped_requests: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            http2_requests: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
            generating: AtomicU64::new(0),
            max_generating: AtomicU64::new(0),
            bodies_seen: AtomicU64::new(0),
            prompt_tokens: AtomicU64::new(0),
            cached_tokens: AtomicU64::new(0),
            dify_conversations_continued: AtomicU64::new(0),
            bodies: Mutex::new(Vec::new()),
            arrivals: Mutex::new(Vec::new()),
            // Fixed bounds: an auto-resizing histogram would *clamp* in `saturating_record`
            // rather than grow. One hour is far beyond any stream the mock serves.
            first_content_us: Mutex::new(
                Histogram::new_with_bounds(1, 3_600_000_000, 3)
                    .expect("1 µs..1 h at 3 significant digits are valid bounds"),
            ),
        }
    }
}

/// A point-in-time copy of [`MockStats`], as served by `GET /mock/stats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MockSnapshot {
    /// TCP connections accepted: fewer than `requests` when clients keep connections alive.
    #[serde(default)]
    pub connections: u64,
    /// Kept-alive connections the server closed on purpose (`--close-after-response`,
    /// `fail=close-idle`).
    #[serde(default)]
    pub server_closes: u64,
    /// Requests read and dropped unanswered as their connection closed (`fail=close-idle`);
    /// not in `requests`.
    #[serde(default)]
    pub dropped_requests: u64,
    /// Requests received on the streaming routes (including rejected and failed ones).
    pub requests: u64,
    /// Those of `requests` that came over HTTP/2 (the rest came over HTTP/1.x): tells whether
    /// ALPN or prior knowledge picked HTTP/2.
    #[serde(default)]
    pub http2_requests: u64,
    /// Requests whose response has not produced its final chunk yet, including those waiting
    /// for a slot (`--slots`).
    pub in_flight: u64,
    /// Peak of `in_flight` since start or the last reset.
    pub max_in_flight: u64,
    /// Responses generating: holding one of the `--slots` (every started response without
    /// the option), not waiting for one.
    #[serde(default)]
    pub generating: u64,
    /// Peak of `generating` since start or the last reset: never above `--slots`.
    #[serde(default)]
    pub max_generating: u64,
    /// Request bodies parsed as JSON (all of them, also those beyond the kept 10,000).
    pub bodies_seen: u64,
    /// Prompt tokens of the requests served (as their usage reports them), summed.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Of `prompt_tokens`, those the prefix cache served (`--prefix-cache`; 0 without it):
    /// `cached_tokens / prompt_tokens` is the server-side hit rate.
    #[serde(default)]
    pub cached_tokens: u64,
    /// Dify chat requests that carried a `conversation_id` the mock had issued.
    #[serde(default)]
    pub dify_conversations_continued: u64,
    /// Server-side time to the first chunk (reasoning included), microseconds.
    pub first_content_us: LatencySummary,
    /// The kept bodies, only when asked for (`GET /mock/stats?bodies=1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bodies: Option<Vec<serde_json::Value>>,
}

/// Distribution summary of one latency, in microseconds (all zero when `count` is 0).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Number of samples.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest sample.
    pub max: u64,
    /// Arithmetic mean.
    pub mean: f64,
}

impl MockStats {
    /// A copy of the counters and the latency summary (without bodies).
    pub fn snapshot(&self) -> MockSnapshot {
        let first_content_us = {
            let h = lock(&self.first_content_us);
            if h.is_empty() {
                LatencySummary::default()
            } else {
                LatencySummary {
                    count: h.len(),
                    p50: h.value_at_quantile(0.50),
                    p90: h.value_at_quantile(0.90),
                    p99: h.value_at_quantile(0.99),
                    max: h.max(),
                    mean: h.mean(),
                }
            }
        };
        MockSnapshot {
            connections: self.connections.load(Ordering::SeqCst),
            server_closes: self.server_closes.load(Ordering::SeqCst),
            dropped_requests: self.dropped_requests.load(Ordering::SeqCst),
            requests: self.requests.load(Ordering::SeqCst),
            http2_requests: self.http2_requests.load(Ordering::SeqCst),
            in_flight: self.in_flight.load(Ordering::SeqCst),
            max_in_flight: self.max_in_flight.load(Ordering::SeqCst),
            generating: self.generating.load(Ordering::SeqCst),
            max_generating: self.max_generating.load(Ordering::SeqCst),
            bodies_seen: self.bodies_seen.load(Ordering::SeqCst),
            prompt_tokens: self.prompt_tokens.load(Ordering::SeqCst),
            cached_tokens: self.cached_tokens.load(Ordering::SeqCst),
            dify_conversations_continued: self.dify_conversations_continued.load(Ordering::SeqCst),
            first_content_us,
            bodies: None,
        }
    }

    /// The kept request bodies (at most 10,000), in arrival order.
    pub fn bodies(&self) -> Vec<serde_json::Value> {
        lock(&self.bodies).clone()
    }

    /// When each kept body arrived, in the same order as [`bodies`](Self::bodies).
    pub fn arrivals(&self) -> Vec<std::time::Instant> {
        lock(&self.arrivals).clone()
    }

    /// Forgets everything recorded so far. Requests still streaming stay counted in
    /// `in_flight` and `generating`, so the peaks restart from the current values rather than
    /// from 0.
    pub fn reset(&self) {
        self.connections.store(0, Ordering::SeqCst);
        self.server_closes.store(0, Ordering::SeqCst);
        self.dropped_requests.store(0, Ordering::SeqCst);
        self.requests.store(0, Ordering::SeqCst);
        self.http2_requests.store(0, Ordering::SeqCst);
        self.bodies_seen.store(0, Ordering::SeqCst);
        self.prompt_tokens.store(0, Ordering::SeqCst);
        self.cached_tokens.store(0, Ordering::SeqCst);
        self.dify_conversations_continued.store(0, Ordering::SeqCst);
        self.max_in_flight.store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
        self.max_generating.store(self.generating.load(Ordering::SeqCst), Ordering::SeqCst);
        lock(&self.bodies).clear();
        lock(&self.arrivals).clear();
        lock(&self.first_content_us).reset();
    }

    /// Counts one accepted connection.
    pub(crate) fn record_connection(&self) {
        self.connections.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts one connection closed on purpose.
    pub(crate) fn record_server_close(&self) {
        self.server_closes.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts one request dropped unanswered.
    pub(crate) fn record_dropped_request(&self) {
        self.dropped_requests.fetch_add(1, Ordering::SeqCst);
    }

    /// Keeps `body` if fewer than [`MAX_BODIES`] are kept; counts it either way.
    pub(crate) fn record_body(&self, body: &serde_json::Value) {
        let seen = self.bodies_seen.fetch_add(1, Ordering::SeqCst);
        // Cheap pre-check so that a long run stops cloning and locking once the list is full.
        if seen < MAX_BODIES as u64 {
            let at = std::time::Instant::now();
            let mut bodies = lock(&self.bodies);
            if bodies.len() < MAX_BODIES {
                bodies.push(body.clone());
                lock(&self.arrivals).push(at);
            }
        }
    }

    /// Adds one served request's prompt tokens and, of them, the cached ones.
    pub(crate) fn record_prompt(&self, prompt: u64, cached: u64) {
        self.prompt_tokens.fetch_add(prompt, Ordering::SeqCst);
        self.cached_tokens.fetch_add(cached, Ordering::SeqCst);
    }

    /// Counts one Dify chat request that continued a conversation.
    pub(crate) fn record_conversation_continued(&self) {
        self.dify_conversations_continued.fetch_add(1, Ordering::SeqCst);
    }

    /// Records one server-side time to first content.
    pub(crate) fn record_first_content(&self, elapsed: Duration) {
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        lock(&self.first_content_us).saturating_record(us.max(1));
    }
}

/// A poisoned lock only means another request panicked mid-record; the data is still usable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One request counted in flight, from handler entry until its final chunk is produced.
///
/// [`InFlight::finish`] is called just *before* the last chunk is handed to hyper, so that a
/// client which sends its next request the instant it reads the terminator never sees the
/// mock report one request too many. `Drop` covers every other way out (error responses,
/// aborted or cancelled bodies), decrementing exactly once.
#[derive(Debug)]
pub(crate) struct InFlight {
    stats: Arc<MockStats>,
    done: bool,
}

impl InFlight {
    /// Counts a new request (`http2`: it came over HTTP/2) and raises the peak if needed.
    pub(crate) fn enter(stats: Arc<MockStats>, http2: bool) -> InFlight {
        stats.requests.fetch_add(1, Ordering::SeqCst);
        if http2 {
            stats.http2_requests.fetch_add(1, Ordering::SeqCst);
        }
        let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight { stats, done: false }
    }

    /// The shared stats.
    pub(crate) fn stats(&self) -> &MockStats {
        &self.stats
    }

    /// Stops counting this request as in flight (idempotent).
    pub(crate) fn finish(&mut self) {
        if !self.done {
            self.done = true;
            self.stats.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.finish();
    }
}

/// One response counted as generating, from when it got its slot until it is dropped (the
/// slot's lifetime: see [`super::slots::Slot`]).
#[derive(Debug)]
pub(crate) struct Generating {
    stats: Arc<MockStats>,
}

impl Generating {
    /// Counts a response that starts generating and raises the peak if needed.
    pub(crate) fn enter(stats: Arc<MockStats>) -> Generating {
        let now = stats.generating.fetch_add(1, Ordering::SeqCst) + 1;
        stats.max_generating.fetch_max(now, Ordering::SeqCst);
        Generating { stats }
    }
}

impl Drop for Generating {
    fn drop(&mut self) {
        self.stats.generating.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_decrements_once_and_keeps_peak() {
        let stats = Arc::new(MockStats::default());
        let mut a = InFlight::enter(stats.clone(), false);
        let b = InFlight::enter(stats.clone(), true);
        a.finish();
        a.finish();
        drop(a);
        assert_eq!(stats.snapshot().in_flight, 1);
        drop(b);
        let s = stats.snapshot();
        assert_eq!((s.requests, s.http2_requests, s.in_flight, s.max_in_flight), (2, 1, 0, 2));
    }

    #[test]
    fn reset_keeps_live_requests() {
        let stats = Arc::new(MockStats::default());
        let live = InFlight::enter(stats.clone(), true);
        let generating = Generating::enter(stats.clone());
        drop(Generating::enter(stats.clone()));
        stats.record_body(&serde_json::json!({"a": 1}));
        stats.record_first_content(Duration::from_millis(3));
        stats.record_prompt(40, 32);
        stats.record_conversation_continued();
        stats.reset();
        let s = stats.snapshot();
        assert_eq!((s.requests, s.http2_requests, s.in_flight, s.max_in_flight), (0, 0, 1, 1));
        assert_eq!((s.generating, s.max_generating), (1, 1));
        assert_eq!((s.bodies_seen, s.first_content_us.count), (0, 0));
        assert_eq!((s.prompt_tokens, s.cached_tokens, s.dify_conversations_continued), (0, 0, 0));
        assert!(stats.bodies().is_empty());
        drop((live, generating));
        assert_eq!(stats.snapshot().generating, 0);
    }

    #[test]
    fn prompt_and_cached_tokens_add_up() {
        let stats = MockStats::default();
        stats.record_prompt(101, 0);
        stats.record_prompt(101, 96);
        stats.record_conversation_continued();
        let s = stats.snapshot();
        assert_eq!(
            (s.prompt_tokens, s.cached_tokens, s.dify_conversations_continued),
            (202, 96, 1)
        );
    }

    #[test]
    fn a_snapshot_from_before_the_token_counts_still_parses() {
        let mut old = serde_json::to_value(MockStats::default().snapshot()).unwrap();
        let fields = old.as_object_mut().unwrap();
        for new in ["prompt_tokens", "cached_tokens", "dify_conversations_continued"] {
            fields.remove(new).expect("serialized");
        }
        let parsed: MockSnapshot = serde_json::from_value(old).unwrap();
        assert_eq!(parsed, MockSnapshot::default());
    }

    #[test]
    fn latency_summary_in_microseconds() {
        let stats = MockStats::default();
        stats.record_first_content(Duration::from_millis(10));
        let s = stats.snapshot().first_content_us;
        assert_eq!(s.count, 1);
        assert!((9_990..=10_010).contains(&s.p50), "{s:?}");
    }
}
