//! Aggregation: per-request records → the run's summary, by HDR histograms (3 significant
//! digits, microseconds), with exact min/max/mean/stddev kept beside them.
//!
//! Percentiles come from the histograms (bounded memory, mergeable); min, max, mean and
//! standard deviation are exact, so a report never shows a max that no request had. This file
//! holds the [`Aggregator`]; `summary.rs` the result types it produces, `histogram.rs` the
//! per-metric series and bucketing.

mod histogram;
mod merge;
mod summary;

use std::collections::BTreeMap;
use std::time::Duration;

use histogram::Series;
pub use histogram::{Bucket, HISTOGRAM_BUCKETS, LOG_BUCKETS_RATIO, bucketize};
pub use summary::{Stats, Summary};

use crate::measure::record::{ErrorClass, RequestRecord, TokenSource};

/// Collects records into histograms. Serializable losslessly (a result file keeps it), so the
/// results of a run's shards can be [merged](Aggregator::merge) into what one process would
/// have reported.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Aggregator {
    success: u64,
    failed: u64,
    failures: BTreeMap<ErrorClass, u64>,
    failure_examples: BTreeMap<ErrorClass, String>,
    failures_by_status: BTreeMap<u16, u64>,
    total_output_tokens: u64,
    total_input_tokens: u64,
    input_tokens_reported: u64,
    asked_output_tokens: u64,
    early_stops: u64,
    /// Successful requests with no output token: complete streams with nothing in them.
    #[serde(default)]
    empty: u64,
    total_reasoning_tokens: u64,
    /// Cached input tokens, and the input tokens of the requests that said how many.
    cached_tokens: (u64, u64),
    /// A short list, not a map: `TokenSource` has no ordering, and there are three sources.
    token_sources: Vec<(TokenSource, u64)>,
    ttft: Series,
    ttfb: Series,
    ttfat: Series,
    total_time: Series,
    itl: Series,
    itl_token: Series,
    max_gap: Series,
    queue_wait: Series,
    service_ttft: Series,
    service_total_time: Series,
    tpot: Series,
    tokens_per_second: Series,
    chunks_per_second: Series,
    output_tokens: Series,
    input_tokens: Series,
    /// TTFT of sessions' first turns and of their later turns (`--turns`).
    ttft_first_turn: Series,
    ttft_later_turns: Series,
}

/// Microseconds per second: durations are recorded in µs.
const MICROS: f64 = 1e6;
/// Fixed point for rates: three decimals survive the integer histogram.
const MILLI: f64 = 1e3;

impl Aggregator {
    /// An empty aggregator.
    pub fn new() -> Self {
        Aggregator {
            success: 0,
            failed: 0,
            failures: BTreeMap::new(),
            failure_examples: BTreeMap::new(),
            failures_by_status: BTreeMap::new(),
            total_output_tokens: 0,
            total_input_tokens: 0,
            input_tokens_reported: 0,
            asked_output_tokens: 0,
            early_stops: 0,
            empty: 0,
            total_reasoning_tokens: 0,
            cached_tokens: (0, 0),
            token_sources: Vec::new(),
            ttft: Series::new(MICROS),
            ttfb: Series::new(MICROS),
            ttfat: Series::new(MICROS),
            total_time: Series::new(MICROS),
            itl: Series::new(MICROS),
            itl_token: Series::new(MICROS),
            max_gap: Series::new(MICROS),
            queue_wait: Series::new(MICROS),
            service_ttft: Series::new(MICROS),
            service_total_time: Series::new(MICROS),
            tpot: Series::new(MICROS),
            tokens_per_second: Series::new(MILLI),
            chunks_per_second: Series::new(MILLI),
            // Token counts are integers: recorded as-is they are exact below 2048, where a
            // ×1000 fixed point would show a median of 45 as 45.02.
            output_tokens: Series::new(1.0),
            input_tokens: Series::new(1.0),
            ttft_first_turn: Series::new(MICROS),
            ttft_later_turns: Series::new(MICROS),
        }
    }

    /// Adds one finished request.
    pub fn add(&mut self, record: &RequestRecord) {
        if let Some(class) = record.error_class {
            self.failed += 1;
            *self.failures.entry(class).or_insert(0) += 1;
            self.failure_examples
                .entry(class)
                .or_insert_with(|| record.error.clone().unwrap_or_default());
            if let (ErrorClass::HttpStatus, Some(status)) = (class, record.status) {
                *self.failures_by_status.entry(status).or_insert(0) += 1;
            }
            return;
        }
        self.success += 1;
        for (series, value) in [
            (&mut self.ttft, record.ttft),
            (&mut self.ttfb, record.ttfb),
            (&mut self.ttfat, record.ttfat),
            (&mut self.total_time, record.total_time),
            (&mut self.tpot, record.tpot),
            (&mut self.max_gap, record.max_gap),
            (&mut self.queue_wait, record.queue_wait),
            (&mut self.service_ttft, service(record.ttft, record.queue_wait)),
            (&mut self.service_total_time, service(record.total_time, record.queue_wait)),
        ] {
            if let Some(d) = value {
                series.duration(d);
            }
        }
        for gap in &record.itl {
            self.itl.duration(*gap);
        }
        for &(gap, tokens) in &record.itl_token {
            self.itl_token.duration_n(gap, tokens);
        }
        if let Some(n) = record.input_tokens {
            self.input_tokens.record(n as f64);
            self.total_input_tokens = self.total_input_tokens.saturating_add(n);
            self.input_tokens_reported += 1;
        }
        if let (Some(cached), Some(input)) = (record.cached_tokens, record.input_tokens) {
            self.cached_tokens.0 = self.cached_tokens.0.saturating_add(cached);
            self.cached_tokens.1 = self.cached_tokens.1.saturating_add(input);
        }
        match (record.turn, record.ttft) {
            (Some(1), Some(ttft)) => self.ttft_first_turn.duration(ttft),
            (Some(_), Some(ttft)) => self.ttft_later_turns.duration(ttft),
            _ => {}
        }
        if let Some(n) = record.reasoning_tokens {
            self.total_reasoning_tokens = self.total_reasoning_tokens.saturating_add(n);
        }
        if let Some(r) = record.tokens_per_second {
            self.tokens_per_second.record(r);
        }
        if let Some(r) = record.chunks_per_second {
            self.chunks_per_second.record(r);
        }
        let tokens = record.output_tokens.unwrap_or(record.total_tokens);
        if let Some(asked) = record.requested_output_tokens {
            self.asked_output_tokens += 1;
            self.early_stops += u64::from(tokens < asked);
        }
        self.empty += u64::from(tokens == 0);
        self.output_tokens.record(tokens as f64);
        self.total_output_tokens = self.total_output_tokens.saturating_add(tokens);
        match self.token_sources.iter_mut().find(|(s, _)| *s == record.token_source) {
            Some((_, n)) => *n += 1,
            None => self.token_sources.push((record.token_source, 1)),
        }
    }

    /// Successful requests so far.
    pub fn success_count(&self) -> u64 {
        self.success
    }

    /// Failed requests so far.
    pub fn failed_count(&self) -> u64 {
        self.failed
    }

    /// TTFT (p50, p99) in seconds so far, for a live progress line; `None` before any success.
    pub fn snapshot_ttft(&self) -> (Option<f64>, Option<f64>) {
        (self.ttft.quantile(0.5), self.ttft.quantile(0.99))
    }

    /// The summary of everything added, over a run of wall time `duration`.
    pub fn summary(&self, duration: Duration) -> Summary {
        let secs = duration.as_secs_f64();
        // A zero-length run has no rate; 0 keeps the JSON free of NaN/inf (which it cannot hold).
        let per_sec = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
        let token_sources =
            self.token_sources.iter().map(|(source, n)| (source_name(*source), *n)).collect();
        Summary {
            success_count: self.success,
            failed_count: self.failed,
            total_requests: self.success + self.failed,
            duration: secs,
            throughput: per_sec(self.success),
            output_token_throughput: per_sec(self.total_output_tokens),
            total_token_throughput: (self.input_tokens_reported > 0)
                .then(|| per_sec(self.total_input_tokens + self.total_output_tokens)),
            failures: self.failures.clone(),
            failure_examples: self.failure_examples.clone(),
            failures_by_status: self.failures_by_status.clone(),
            ttft: self.ttft.stats(),
            ttfb: self.ttfb.stats(),
            ttfat: self.ttfat.stats(),
            total_time: self.total_time.stats(),
            itl: self.itl.stats(),
            itl_token: self.itl_token.stats(),
            max_gap: self.max_gap.stats(),
            goodput: None,
            queue_wait: self.queue_wait.stats(),
            service_ttft: self.service_ttft.stats(),
            service_total_time: self.service_total_time.stats(),
            tpot: self.tpot.stats(),
            tokens_per_second: self.tokens_per_second.stats(),
            chunks_per_second: self.chunks_per_second.stats(),
            output_tokens: self.output_tokens.stats(),
            input_tokens: self.input_tokens.stats(),
            asked_output_tokens: self.asked_output_tokens,
            early_stops: self.early_stops,
            empty_count: self.empty,
            total_output_tokens: self.total_output_tokens,
            total_input_tokens: self.total_input_tokens,
            input_tokens_reported: self.input_tokens_reported,
            total_reasoning_tokens: self.total_reasoning_tokens,
            total_cached_tokens: self.cached_tokens.0,
            cache_reported_input_tokens: self.cached_tokens.1,
            cache_hit_rate: (self.cached_tokens.1 > 0)
                .then(|| self.cached_tokens.0 as f64 / self.cached_tokens.1 as f64),
            ttft_first_turn: self.ttft_first_turn.stats(),
            ttft_later_turns: self.ttft_later_turns.stats(),
            token_sources,
            itl_histogram: self.itl.buckets(HISTOGRAM_BUCKETS),
        }
    }
}

/// A latency from the intended send time, seen from the actual send instead.
fn service(latency: Option<Duration>, queue_wait: Option<Duration>) -> Option<Duration> {
    latency.map(|l| l.saturating_sub(queue_wait.unwrap_or_default()))
}

/// The result-file name of a token source (`usage`, `events`, …), taken from its serde name so
/// a source added to [`TokenSource`] needs no change here.
fn source_name(source: TokenSource) -> String {
    match serde_json::to_value(source) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{source:?}").to_lowercase(),
    }
}

impl Default for Aggregator {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::record::Failure;
    use crate::measure::record::testing::{failed, ok};

    /// The value at quantile `q` the way HDR defines it: rank ⌈q·n⌉ of the sorted values.
    fn naive(sorted: &[f64], q: f64) -> f64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
        sorted[rank - 1]
    }

    fn close(got: f64, want: f64, rel: f64) -> bool {
        (got - want).abs() <= want.abs() * rel + 1e-9
    }

    #[test]
    fn percentiles_match_a_sorted_vector_within_hdr_precision() {
        // A deterministic spread over four decades of whole microseconds (LCG, no rand crate).
        let mut x: u64 = 42;
        let mut values = Vec::new();
        let mut agg = Aggregator::new();
        for id in 0..5000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let micros = 1_000 + (x >> 33) % 9_999_000;
            let d = Duration::from_micros(micros);
            values.push(d.as_secs_f64());
            agg.add(&ok(id, d, d * 3, 10));
        }
        let s = agg.summary(Duration::from_secs(10));
        let ttft = s.ttft.expect("ttft stats");
        values.sort_by(f64::total_cmp);
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        assert_eq!(ttft.count, 5000);
        assert_eq!(ttft.min, values[0]);
        assert_eq!(ttft.max, values[values.len() - 1]);
        assert!(close(ttft.mean, mean, 1e-12), "{} vs {mean}", ttft.mean);
        assert!(close(ttft.stddev, var.sqrt(), 1e-9), "{} vs {}", ttft.stddev, var.sqrt());
        for (got, q) in [(ttft.p50, 0.5), (ttft.p90, 0.9), (ttft.p95, 0.95), (ttft.p99, 0.99)] {
            let want = naive(&values, q);
            assert!(close(got, want, 0.001), "p{}: {got} vs {want}", q * 100.0);
        }
        assert_eq!(ttft.median, ttft.p50);
        assert_eq!(agg.snapshot_ttft(), (Some(ttft.p50), Some(ttft.p99)));
    }

    #[test]
    fn rates_counts_and_itl_are_aggregated_over_successes_only() {
        let mut agg = Aggregator::new();
        let mut a = ok(1, Duration::from_millis(200), Duration::from_secs(2), 41);
        a.itl = vec![Duration::from_millis(10), Duration::from_millis(30)];
        a.tokens_per_second = Some(20.5);
        let mut b = ok(2, Duration::from_millis(400), Duration::from_secs(4), 81);
        b.itl = vec![Duration::from_millis(20)];
        b.tokens_per_second = Some(20.0);
        let mut c = failed(3, Failure::new(ErrorClass::Timeout, "too slow"));
        c.itl = vec![Duration::from_secs(100)];
        for r in [&a, &b, &c] {
            agg.add(r);
        }
        let s = agg.summary(Duration::from_secs(4));
        assert_eq!((s.success_count, s.failed_count, s.total_requests), (2, 1, 3));
        assert_eq!(s.duration, 4.0);
        assert_eq!(s.throughput, 0.5);
        assert_eq!(s.total_output_tokens, 122);
        assert_eq!(s.output_token_throughput, 30.5);
        let itl = s.itl.expect("itl");
        assert_eq!((itl.count, itl.min, itl.max), (3, 0.01, 0.03));
        assert!(close(itl.mean, 0.02, 1e-12));
        let tps = s.tokens_per_second.expect("tokens/s");
        assert_eq!((tps.min, tps.max, tps.mean), (20.0, 20.5, 20.25));
        let out = s.output_tokens.expect("output tokens");
        assert_eq!((out.min, out.max, out.p50, out.p99), (41.0, 81.0, 41.0, 81.0));
        assert_eq!(s.token_sources.get("usage"), Some(&2));
        assert!(s.tpot.is_none() && s.ttfb.is_some());
    }

    #[test]
    fn failures_are_counted_by_class_with_the_first_example() {
        let mut agg = Aggregator::new();
        agg.add(&failed(1, Failure::new(ErrorClass::Timeout, "first timeout")));
        agg.add(&failed(2, Failure::new(ErrorClass::HttpStatus, "HTTP 429")));
        agg.add(&failed(3, Failure::new(ErrorClass::Timeout, "second timeout")));
        let s = agg.summary(Duration::ZERO);
        assert_eq!(s.failures.get(&ErrorClass::Timeout), Some(&2));
        assert_eq!(s.failures.get(&ErrorClass::HttpStatus), Some(&1));
        assert_eq!(s.failure_examples[&ErrorClass::Timeout], "first timeout");
        assert_eq!((s.success_count, s.failed_count, s.throughput), (0, 3, 0.0));
        assert!(s.ttft.is_none() && s.total_time.is_none() && s.output_tokens.is_none());
    }

    #[test]
    fn http_status_failures_are_counted_by_code() {
        let mut agg = Aggregator::new();
        let status = |id, code| {
            let mut r = failed(id, Failure::new(ErrorClass::HttpStatus, format!("HTTP {code}")));
            r.status = Some(code);
            r
        };
        for (id, code) in [(1, 429), (2, 503), (3, 429)] {
            agg.add(&status(id, code));
        }
        let mut timeout = failed(4, Failure::new(ErrorClass::Timeout, "slow"));
        timeout.status = Some(200);
        agg.add(&timeout);
        let s = agg.summary(Duration::ZERO);
        assert_eq!(s.failures_by_status, BTreeMap::from([(429, 2), (503, 1)]));
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["failures_by_status"], serde_json::json!({"429": 2, "503": 1}));
        let back: Summary = serde_json::from_value(json).unwrap();
        assert_eq!(back.failures_by_status, s.failures_by_status);
    }

    #[test]
    fn empty_aggregator_has_no_stats_and_finite_numbers() {
        let agg = Aggregator::default();
        let s = agg.summary(Duration::ZERO);
        assert_eq!(s, Summary::default());
        assert_eq!(agg.snapshot_ttft(), (None, None));
    }

    #[test]
    fn the_itl_histogram_holds_every_gap_in_bounded_buckets() {
        let mut agg = Aggregator::new();
        let mut r = ok(1, Duration::from_millis(100), Duration::from_secs(1), 10);
        // 200 regular 20 ms gaps and one 2 s stall: a range of 100×, so log-spaced buckets.
        r.itl = vec![Duration::from_millis(20); 200];
        r.itl.push(Duration::from_secs(2));
        agg.add(&r);
        let buckets = agg.summary(Duration::from_secs(1)).itl_histogram;
        assert!(buckets.len() <= HISTOGRAM_BUCKETS && buckets.len() > 1);
        assert_eq!(buckets.iter().map(|b| b.count).sum::<u64>(), 201);
        assert_eq!((buckets[0].lo, buckets[buckets.len() - 1].hi), (0.02, 2.0));
        assert_eq!(buckets[0].count, 200, "the regular gaps share the first bucket");
        assert_eq!(buckets[buckets.len() - 1].count, 1, "the stall is the last one");
        let ratio = |b: &Bucket| b.hi / b.lo;
        assert!((ratio(&buckets[0]) - ratio(&buckets[30])).abs() < 1e-9, "equal ratios");
    }

    #[test]
    fn extreme_values_are_clamped_not_rejected() {
        let mut agg = Aggregator::new();
        let mut r = ok(1, Duration::ZERO, Duration::from_secs(u64::MAX / 4), 0);
        r.tokens_per_second = Some(f64::MAX);
        r.chunks_per_second = Some(f64::NAN);
        agg.add(&r);
        let s = agg.summary(Duration::from_secs(1));
        assert_eq!(s.ttft.expect("ttft").p99, 0.0);
        assert!(s.total_time.expect("e2e").p50.is_finite());
        assert_eq!(s.tokens_per_second.expect("tps").count, 1);
        assert!(s.chunks_per_second.is_none());
    }
}
