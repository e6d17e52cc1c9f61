//! Per-second series of a run: requests started, completed, failed, in flight, output tokens
//! and the median TTFT of each second, for plotting load over time (the result file's
//! `timeseries`).
//!
//! The run's consumer feeds [`TimeSeries`] with the instants of its events; second `t` holds the
//! events in `[t, t + 1 s)` after the load started. Memory is one small tally per second: counters
//! plus the TTFTs of that second, kept as HDR bucket counts (3 significant digits, microseconds,
//! the same bucketing as [`crate::analyse::metrics`]) stored sparsely, so a second never holds more
//! entries than there are buckets in its TTFT range, however many requests it saw.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::measure::record::RequestRecord;

/// One second of a run: [t, t+1 s) after the load started.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Second {
    /// Seconds since the load started (0, 1, 2, …).
    pub t: u64,
    /// Requests sent in this second.
    pub started: u64,
    /// Requests that finished successfully in this second.
    pub completed: u64,
    /// Requests that failed in this second.
    pub failed: u64,
    /// Requests in flight at the end of this second: started so far − finished so far.
    pub in_flight: u64,
    /// Output tokens of the requests that completed (successfully) in this second.
    pub output_tokens: u64,
    /// Median TTFT, seconds, of the requests whose first token arrived in this second; `null`
    /// when none did. The HDR median: the value of rank ⌈n/2⌉ (the lower middle for an even
    /// count), within 0.1% (3 significant digits) and never outside that second's exact range.
    pub ttft_p50: Option<f64>,
}

/// Builds the per-second series of one run from its start, first-token and finish events.
#[derive(Debug, Clone)]
pub struct TimeSeries {
    start: Instant,
    /// Index `t` is second `t`; grows only up to the latest second that saw an event.
    tallies: Vec<Tally>,
}

impl TimeSeries {
    /// An empty series for a load that started at `start`.
    pub fn new(start: Instant) -> Self {
        TimeSeries { start, tallies: Vec::new() }
    }

    /// A request was sent at `at`.
    pub fn on_start(&mut self, at: Instant) {
        self.tally(at).started += 1;
    }

    /// A request's first token arrived at `at`, `ttft` after it was scheduled. The caller picks
    /// which requests count (the summary's TTFT counts successful ones only).
    pub fn on_first_token(&mut self, at: Instant, ttft: Duration) {
        self.tally(at).ttft.record(ttft);
    }

    /// `record`'s request finished at `at`. Its TTFT is not taken from here: it belongs to the
    /// second its first token arrived in, which [`TimeSeries::on_first_token`] reports.
    pub fn on_finish(&mut self, at: Instant, record: &RequestRecord) {
        let tally = self.tally(at);
        if record.is_success() {
            tally.completed += 1;
            // As the summary does: the counted tokens, or the original tool's total when absent.
            let tokens = record.output_tokens.unwrap_or(record.total_tokens);
            tally.output_tokens = tally.output_tokens.saturating_add(tokens);
        } else {
            tally.failed += 1;
        }
    }

    /// Every second from 0 to the last one with an event, with no gaps: a quiet second shows
    /// zero counts and the in-flight count carried over from before.
    pub fn seconds(&self) -> Vec<Second> {
        let (mut started, mut finished) = (0u64, 0u64);
        let mut out = Vec::with_capacity(self.tallies.len());
        for (t, tally) in self.tallies.iter().enumerate() {
            started += tally.started;
            finished += tally.completed + tally.failed;
            out.push(Second {
                t: t as u64,
                started: tally.started,
                completed: tally.completed,
                failed: tally.failed,
                // Saturating: a caller that reports a finish without its start must not wrap.
                in_flight: started.saturating_sub(finished),
                output_tokens: tally.output_tokens,
                ttft_p50: tally.ttft.median(),
            });
        }
        out
    }

    /// The tally of the second `at` falls in, created (with any missing seconds before it)
    /// on first use. An instant before the start counts in second 0.
    fn tally(&mut self, at: Instant) -> &mut Tally {
        let t = at.saturating_duration_since(self.start).as_secs() as usize;
        if t >= self.tallies.len() {
            self.tallies.resize_with(t + 1, Tally::default);
        }
        &mut self.tallies[t]
    }
}

/// The counters of one second.
#[derive(Debug, Clone, Default)]
struct Tally {
    started: u64,
    completed: u64,
    failed: u64,
    output_tokens: u64,
    ttft: Ttfts,
}

/// Largest TTFT kept, µs (71 minutes): longer ones are clamped, so bucket floors fit a `u32`
/// and the number of buckets, [`MAX_BUCKETS`], is finite.
const MAX_TTFT_US: u32 = u32::MAX;

/// HDR at 3 significant digits is exact below 2^11 µs; above, each power of two is cut into
/// 2^10 equal buckets.
const EXACT_BITS: u32 = 11;

/// Every bucket below [`MAX_TTFT_US`]: 2048 exact values, then 1024 per power of two up to
/// 2^32. No second can hold more entries than this, whatever its request count.
const MAX_BUCKETS: usize = (1 << EXACT_BITS) + (32 - EXACT_BITS as usize) * (1 << (EXACT_BITS - 1));

/// The TTFTs of one second, as HDR bucket counts.
///
/// Why sparse rather than an `hdrhistogram::Histogram` per second: a dense histogram holds
/// 1024 counters for every power of two up to its largest value (≈ 9,200 counters for a
/// 200 ms TTFT), i.e. tens of KB for every second of an hours-long run. Only the buckets
/// actually hit are kept here, 8 bytes each: never more than that second's first tokens nor
/// [`MAX_BUCKETS`], and since a second's TTFTs cluster, about a thousand even when 200,000
/// of them spread over 100–200 ms. A repeated bucket is a binary search; a new one shifts
/// the (short) vector.
#[derive(Debug, Clone, Default)]
struct Ttfts {
    /// (bucket floor µs, count), sorted by floor.
    buckets: Vec<(u32, u32)>,
    /// Exact extremes, µs: the median is kept inside them, as `metrics` does.
    min: u32,
    max: u32,
}

impl Ttfts {
    fn record(&mut self, ttft: Duration) {
        let us = micros(ttft);
        if self.buckets.is_empty() {
            (self.min, self.max) = (us, us);
        } else {
            (self.min, self.max) = (self.min.min(us), self.max.max(us));
        }
        let floor = bucket_floor(us);
        match self.buckets.binary_search_by_key(&floor, |&(f, _)| f) {
            Ok(i) => self.buckets[i].1 = self.buckets[i].1.saturating_add(1),
            Err(i) => self.buckets.insert(i, (floor, 1)),
        }
        debug_assert!(self.buckets.len() <= MAX_BUCKETS);
    }

    /// HDR's `value_at_quantile(0.5)`: the upper edge of the bucket holding rank ⌈n/2⌉, so
    /// "half took at most this" holds; clamped to the exact extremes. Seconds.
    fn median(&self) -> Option<f64> {
        let total: u64 = self.buckets.iter().map(|&(_, n)| u64::from(n)).sum();
        let rank = total.div_ceil(2);
        let mut seen = 0;
        let &(floor, _) = self.buckets.iter().find(|&&(_, n)| {
            seen += u64::from(n);
            seen >= rank
        })?;
        let us = bucket_ceil(floor).clamp(self.min, self.max);
        Some(f64::from(us) / 1e6)
    }
}

/// `d` in whole microseconds, rounded (as `metrics` records it), clamped to [`MAX_TTFT_US`].
fn micros(d: Duration) -> u32 {
    let us = d.as_nanos().saturating_add(500) / 1000;
    us.min(u128::from(MAX_TTFT_US)) as u32
}

/// log2 of the width of the bucket holding `us`: 0 (exact) below 2^11.
fn bucket_shift(us: u32) -> u32 {
    (u32::BITS - us.leading_zeros()).saturating_sub(EXACT_BITS)
}

/// The smallest value in the bucket holding `us` (HDR's `lowest_equivalent`).
fn bucket_floor(us: u32) -> u32 {
    let shift = bucket_shift(us);
    us >> shift << shift
}

/// The largest value in the bucket starting at `floor` (HDR's `highest_equivalent`).
fn bucket_ceil(floor: u32) -> u32 {
    floor + ((1u32 << bucket_shift(floor)) - 1)
}

#[cfg(test)]
mod tests {
    use hdrhistogram::Histogram;

    use super::*;
    use crate::measure::record::testing::{failed, ok};
    use crate::measure::record::{ErrorClass, Failure};

    const MS: Duration = Duration::from_millis(1);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn success(tokens: u64) -> RequestRecord {
        ok(1, ms(100), ms(500), tokens)
    }

    fn failure() -> RequestRecord {
        failed(2, Failure::new(ErrorClass::Timeout, "timed out"))
    }

    /// The series' median of `ttfts`, all first tokens landing in second 0.
    fn median_of(ttfts: &[u64]) -> Option<f64> {
        let t0 = Instant::now();
        let mut ts = TimeSeries::new(t0);
        for &t in ttfts {
            ts.on_first_token(t0 + ms(t), ms(t));
        }
        ts.seconds().first().and_then(|s| s.ttft_p50)
    }

    fn close(got: f64, want: f64) -> bool {
        (got - want).abs() <= want / 1000.0
    }

    #[test]
    fn counts_land_in_their_second_and_in_flight_carries_over() {
        let t0 = Instant::now();
        let mut ts = TimeSeries::new(t0);
        ts.on_start(t0 + ms(200));
        ts.on_start(t0 + ms(900));
        ts.on_start(t0 + ms(1500));
        ts.on_finish(t0 + ms(1700), &success(40));
        ts.on_finish(t0 + ms(1999), &failure());
        // Second 2 is quiet; the third request finishes in second 3.
        ts.on_finish(t0 + ms(3000), &success(25));
        let s = ts.seconds();
        let row =
            |s: &Second| (s.t, s.started, s.completed, s.failed, s.in_flight, s.output_tokens);
        let rows: Vec<_> = s.iter().map(row).collect();
        assert_eq!(
            rows,
            vec![(0, 2, 0, 0, 2, 0), (1, 1, 1, 1, 1, 40), (2, 0, 0, 0, 1, 0), (3, 0, 1, 0, 0, 25)]
        );
        assert!(s.iter().all(|s| s.ttft_p50.is_none()), "no first token was reported");
    }

    #[test]
    fn failed_requests_add_no_output_tokens() {
        let t0 = Instant::now();
        let mut ts = TimeSeries::new(t0);
        let mut partial = failure();
        partial.output_tokens = Some(17);
        ts.on_finish(t0 + ms(10), &partial);
        assert_eq!(ts.seconds()[0].output_tokens, 0);
        assert_eq!(ts.seconds()[0].failed, 1);
    }

    #[test]
    fn events_before_the_start_count_in_second_zero() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut ts = TimeSeries::new(t0);
        ts.on_start(t0 - ms(5));
        ts.on_first_token(t0 - ms(1), ms(3));
        let s = ts.seconds();
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].t, s[0].started, s[0].in_flight), (0, 1, 1));
        assert_eq!(s[0].ttft_p50, Some(0.003));
    }

    #[test]
    fn an_empty_series_has_no_seconds_and_a_late_event_fills_the_gap() {
        let t0 = Instant::now();
        let mut ts = TimeSeries::new(t0);
        assert!(ts.seconds().is_empty());
        ts.on_start(t0 + Duration::from_millis(4_200));
        let s = ts.seconds();
        assert_eq!(s.iter().map(|s| s.t).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
        assert_eq!(s.iter().map(|s| s.started).collect::<Vec<_>>(), vec![0, 0, 0, 0, 1]);
    }

    #[test]
    fn ttft_median_of_an_odd_count_is_the_middle_value() {
        let got = median_of(&[300, 120, 250, 90, 700]).unwrap();
        assert!(close(got, 0.250), "{got}");
    }

    #[test]
    fn ttft_median_of_an_even_count_is_the_lower_middle() {
        // HDR's p50 is rank ⌈n/2⌉: 200 ms here, not the mean of 200 and 300.
        let got = median_of(&[400, 100, 300, 200]).unwrap();
        assert!(close(got, 0.200), "{got}");
        assert!(got >= 0.200, "the bucket's upper edge: at least the true value");
    }

    #[test]
    fn a_single_ttft_is_exact() {
        // 123,457 µs sits in a 64 µs bucket; the clamp to the exact extremes undoes that.
        let t0 = Instant::now();
        let mut ts = TimeSeries::new(t0);
        ts.on_first_token(t0, Duration::from_micros(123_457));
        assert_eq!(ts.seconds()[0].ttft_p50, Some(0.123457));
    }

    #[test]
    fn ttft_median_belongs_to_the_second_of_the_first_token() {
        let t0 = Instant::now();
        let mut ts = TimeSeries::new(t0);
        ts.on_first_token(t0 + ms(300), ms(100));
        ts.on_first_token(t0 + ms(2_100), ms(800));
        ts.on_first_token(t0 + ms(2_600), ms(600));
        ts.on_first_token(t0 + ms(2_900), ms(900));
        let p50: Vec<_> = ts.seconds().iter().map(|s| s.ttft_p50).collect();
        assert_eq!(p50.len(), 3);
        assert!(close(p50[0].unwrap(), 0.100));
        assert_eq!(p50[1], None, "no first token in second 1");
        assert!(close(p50[2].unwrap(), 0.800));
    }

    #[test]
    fn bucketing_matches_hdrhistogram_at_three_digits() {
        let hdr = Histogram::<u64>::new_with_bounds(1, u64::from(u32::MAX), 3).unwrap();
        let mut v: u64 = 0;
        while v <= u64::from(u32::MAX) {
            let us = v as u32;
            assert_eq!(u64::from(bucket_floor(us)), hdr.lowest_equivalent(v), "floor of {v}");
            assert_eq!(u64::from(bucket_ceil(bucket_floor(us))), hdr.highest_equivalent(v));
            v = v * 3 / 2 + 7; // every scale, from exact values to the largest buckets
        }
        // The edges, where an off-by-one in the shift would show.
        for bit in 1..32 {
            for v in [(1u64 << bit) - 1, 1 << bit, (1 << bit) + 1] {
                let us = v as u32;
                assert_eq!(u64::from(bucket_floor(us)), hdr.lowest_equivalent(v), "floor of {v}");
                assert_eq!(u64::from(bucket_ceil(bucket_floor(us))), hdr.highest_equivalent(v));
            }
        }
    }

    #[test]
    fn median_matches_hdrhistogram_on_many_values() {
        let t0 = Instant::now();
        let mut ts = TimeSeries::new(t0);
        let mut hdr = Histogram::<u64>::new(3).unwrap();
        let mut x: u64 = 12345;
        for _ in 0..5_001 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let us = 20_000 + (x >> 33) % 2_000_000;
            ts.on_first_token(t0 + ms(10), Duration::from_micros(us));
            hdr.record(us).unwrap();
        }
        let want = hdr.value_at_quantile(0.5) as f64 / 1e6;
        assert_eq!(ts.seconds()[0].ttft_p50, Some(want));
    }

    #[test]
    fn second_serializes_with_the_documented_keys_and_round_trips() {
        let second = Second {
            t: 7,
            started: 12,
            completed: 10,
            failed: 1,
            in_flight: 4,
            output_tokens: 830,
            ttft_p50: Some(0.2345),
        };
        let json = serde_json::to_value(&second).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["t", "started", "completed", "failed", "in_flight", "output_tokens", "ttft_p50"]
        );
        assert_eq!(json["ttft_p50"], 0.2345);
        assert_eq!(serde_json::from_value::<Second>(json).unwrap(), second);
        let quiet = Second { t: 8, ttft_p50: None, ..second };
        let json = serde_json::to_string(&quiet).unwrap();
        assert!(json.contains(r#""ttft_p50":null"#), "{json}");
        assert_eq!(serde_json::from_str::<Second>(&json).unwrap(), quiet);
    }

    #[test]
    fn a_long_run_keeps_one_small_tally_per_second() {
        let t0 = Instant::now();
        let mut ts = TimeSeries::new(t0);
        let n: u64 = 100_000;
        let span_ms: u64 = 3_600_000;
        for i in 0..n {
            let sent = t0 + ms(i * span_ms / n);
            // TTFT 50–550 ms, total 2 s: every request starts, gets a token and finishes.
            let ttft = ms(50 + (i * 7_919) % 500);
            ts.on_start(sent);
            ts.on_first_token(sent + ttft, ttft);
            ts.on_finish(sent + 2_000 * MS, &success(10));
        }
        let s = ts.seconds();
        // The last request is sent at 3,599.964 s and finishes 2 s later, in second 3,601.
        assert_eq!(s.len(), 3_602);
        assert_eq!(s.iter().map(|s| s.started).sum::<u64>(), n);
        assert_eq!(s.iter().map(|s| s.completed).sum::<u64>(), n);
        assert_eq!(s.iter().map(|s| s.output_tokens).sum::<u64>(), 10 * n);
        assert_eq!(s.last().unwrap().in_flight, 0);
        assert!(s[100..3_500].iter().all(|s| (50..=62).contains(&s.in_flight)), "~28/s × 2 s");
        let widest = ts.tallies.iter().map(|t| t.ttft.buckets.len()).max().unwrap();
        assert!(widest <= 40, "at most one bucket per first token of the second: {widest}");
    }

    #[test]
    fn a_busy_second_does_not_grow_with_its_requests() {
        let t0 = Instant::now();
        let mut ts = TimeSeries::new(t0);
        // 200,000 first tokens in one second, TTFTs spread over 100–200 ms.
        for i in 0..200_000u64 {
            ts.on_first_token(t0, Duration::from_micros(100_000 + i % 100_000));
        }
        let buckets = ts.tallies[0].ttft.buckets.len();
        // 64 µs buckets up to 131,071 µs, then 128 µs ones: ~1,030 entries, not 200,000.
        assert!((1_000..=1_100).contains(&buckets), "{buckets}");
        assert!(close(ts.seconds()[0].ttft_p50.unwrap(), 0.150));
    }

    #[test]
    fn no_second_can_hold_more_than_every_bucket() {
        let mut ttfts = Ttfts::default();
        // One TTFT in every bucket up to the clamp, then beyond it, then all again.
        for _ in 0..2 {
            let mut floor = 0u32;
            loop {
                ttfts.record(Duration::from_micros(u64::from(floor)));
                let Some(next) = bucket_ceil(floor).checked_add(1) else { break };
                floor = next;
            }
            ttfts.record(Duration::from_secs(100_000));
        }
        assert_eq!(ttfts.buckets.len(), MAX_BUCKETS);
        assert_eq!(MAX_BUCKETS, 23_552, "2048 + 21 × 1024 entries of 8 bytes: 184 KiB at most");
        assert_eq!(ttfts.max, MAX_TTFT_US, "a TTFT past the clamp counts in the last bucket");
    }
}
