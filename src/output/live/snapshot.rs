//! What the live view shows, as a plain value: the consumer of engine events keeps a
//! [`Tracker`] up to date (a few counter updates an event) and publishes a [`Snapshot`] a few
//! times a second; the view renders copies of it and never touches the run's state.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

use crate::analyse::metrics::Aggregator;
use crate::measure::engine::Phase;
use crate::measure::record::{ErrorClass, RequestRecord};

/// Seconds of history kept for the time series: enough for a screen's width of sparkline.
pub const HISTORY_SECONDS: usize = 300;

/// TTFT histogram buckets a doubling: each ~9 % wide, fine enough to show the spread of a
/// steady server (the dashboard merges neighbours to fit its width).
pub const BUCKETS_PER_OCTAVE: usize = 8;

/// TTFT histogram buckets: bucket `i` holds TTFTs in [2^(i/8), 2^((i+1)/8)) ms, i.e. from
/// 1 ms to about 17 minutes; below 1 ms counts in bucket 0, above in the last.
pub const TTFT_BUCKETS: usize = 20 * BUCKETS_PER_OCTAVE;

/// One second of the run, [t, t + 1 s) after the load started.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Point {
    /// Seconds since the load started.
    pub t: u64,
    /// Requests that finished (successfully or not) in this second.
    pub finished: u64,
    /// Output tokens of the requests that succeeded in this second.
    pub output_tokens: u64,
    /// Median TTFT (seconds) of the first tokens that arrived in this second.
    pub ttft_p50: Option<f64>,
    /// Requests in flight at the end of this second.
    pub in_flight: u64,
}

/// The header: what is being measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Header {
    /// The target, secrets redacted.
    pub url: String,
    /// `closed loop, concurrency 10` or `open loop, 5 req/s`, in the run's language.
    pub load: String,
    /// The sweep level (`p=4`, `5 req/s`), when this is one level of a sweep.
    pub level: Option<String>,
}

/// Everything the live view shows at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// What is being measured.
    pub header: Header,
    /// Time since the load started.
    pub elapsed: Duration,
    /// `--duration`, when the run has one.
    pub duration: Option<Duration>,
    /// Requests finished (warm-ups included, as the progress line counts).
    pub done: u64,
    /// Requests asked for, when the run has a count.
    pub total: Option<u64>,
    /// Requests sent and not finished.
    pub in_flight: u64,
    /// Measured requests that failed.
    pub failed: u64,
    /// Failed requests by class, most frequent first.
    pub errors: Vec<(ErrorClass, u64)>,
    /// TTFT p50 and p99 (seconds) of the measured successes, from the aggregator.
    pub ttft_p50: Option<f64>,
    /// See [`Snapshot::ttft_p50`].
    pub ttft_p99: Option<f64>,
    /// Output tokens of every success so far.
    pub output_tokens: u64,
    /// The last [`HISTORY_SECONDS`] complete seconds, oldest first.
    pub history: VecDeque<Point>,
    /// TTFT counts of the measured successes; see [`TTFT_BUCKETS`].
    pub ttft_buckets: [u64; TTFT_BUCKETS],
    /// Sending, draining after a stop, or cancelling.
    pub phase: Phase,
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot {
            header: Header::default(),
            elapsed: Duration::ZERO,
            duration: None,
            done: 0,
            total: None,
            in_flight: 0,
            failed: 0,
            errors: Vec::new(),
            ttft_p50: None,
            ttft_p99: None,
            output_tokens: 0,
            history: VecDeque::new(),
            ttft_buckets: [0; TTFT_BUCKETS],
            phase: Phase::Sending,
        }
    }
}

impl Snapshot {
    /// Finished requests per second so far.
    pub fn requests_per_second(&self) -> f64 {
        rate(self.done, self.elapsed)
    }

    /// Output tokens per second so far.
    pub fn tokens_per_second(&self) -> f64 {
        rate(self.output_tokens, self.elapsed)
    }

    /// The share of the run done, 0–1, by count or by duration; `None` when open-ended.
    pub fn fraction(&self) -> Option<f64> {
        let by_count = self.total.map(|t| self.done as f64 / t.max(1) as f64);
        let by_time = self.duration.map(|d| self.elapsed.as_secs_f64() / d.as_secs_f64().max(1e-9));
        let fraction = match (by_count, by_time) {
            (Some(a), Some(b)) => a.max(b), // whichever ends first
            (a, b) => a.or(b)?,
        };
        Some(fraction.clamp(0.0, 1.0))
    }

    /// Time left: by the duration, or by the rate so far for a count.
    pub fn eta(&self) -> Option<Duration> {
        if let Some(d) = self.duration {
            return Some(d.saturating_sub(self.elapsed));
        }
        let total = self.total?;
        let per_request = self.elapsed.as_secs_f64() / (self.done > 0).then_some(self.done)? as f64;
        Some(Duration::from_secs_f64(per_request * total.saturating_sub(self.done) as f64))
    }

    /// The lower edge of TTFT bucket `i`, seconds.
    pub fn bucket_floor(i: usize) -> f64 {
        2f64.powf(i as f64 / BUCKETS_PER_OCTAVE as f64) / 1000.0
    }
}

fn rate(n: u64, over: Duration) -> f64 {
    match over.as_secs_f64() {
        secs if secs > 0.0 => n as f64 / secs,
        _ => 0.0,
    }
}

/// The bucket of a TTFT; see [`TTFT_BUCKETS`].
fn bucket(ttft: Duration) -> usize {
    let ms = ttft.as_secs_f64() * 1000.0;
    if ms < 1.0 {
        return 0;
    }
    ((ms.log2() * BUCKETS_PER_OCTAVE as f64).floor() as usize).min(TTFT_BUCKETS - 1)
}

/// Builds snapshots from the run's events. Each `on_*` is a few additions; the percentiles
/// and the copy happen only in [`Tracker::snapshot`], on the view's timer.
#[derive(Debug)]
pub struct Tracker {
    snapshot: Snapshot,
    start: Instant,
    started: u64,
    errors: BTreeMap<ErrorClass, u64>,
    /// The second being filled, and the TTFTs (µs) of its first tokens.
    current: Point,
    current_ttfts: Vec<u32>,
}

impl Tracker {
    /// A tracker for one run (or one level of a sweep) whose load starts at `start`.
    pub fn new(
        header: Header,
        total: Option<u64>,
        duration: Option<Duration>,
        start: Instant,
    ) -> Self {
        let snapshot = Snapshot { header, total, duration, ..Snapshot::default() };
        Tracker {
            snapshot,
            start,
            started: 0,
            errors: BTreeMap::new(),
            current: Point::default(),
            current_ttfts: Vec::new(),
        }
    }

    /// The load (re)starts now: after the connections opened.
    pub fn restart(&mut self, start: Instant) {
        self.start = start;
        self.current = Point::default();
        self.current_ttfts.clear();
        self.snapshot.history.clear();
    }

    /// A request was sent at `at`.
    pub fn on_start(&mut self, at: Instant) {
        self.advance(at);
        self.started += 1;
    }

    /// A first token arrived at `at`, `ttft` after the request was scheduled.
    pub fn on_first_token(&mut self, at: Instant, ttft: Duration) {
        self.advance(at);
        self.current_ttfts.push(ttft.as_micros().min(u128::from(u32::MAX)) as u32);
    }

    /// A request finished at `at`. Warm-ups count as done, not in the statistics.
    pub fn on_finish(&mut self, at: Instant, record: &RequestRecord) {
        self.advance(at);
        let s = &mut self.snapshot;
        s.done += 1;
        self.current.finished += 1;
        if record.is_success() {
            let tokens = record.output_tokens.unwrap_or(record.total_tokens);
            s.output_tokens = s.output_tokens.saturating_add(tokens);
            self.current.output_tokens = self.current.output_tokens.saturating_add(tokens);
        }
        if record.warmup {
            return;
        }
        match record.error_class {
            Some(class) => {
                s.failed += 1;
                *self.errors.entry(class).or_insert(0) += 1;
            }
            None => {
                if let Some(ttft) = record.ttft {
                    s.ttft_buckets[bucket(ttft)] += 1;
                }
            }
        }
    }

    /// The snapshot at `now`: percentiles from `aggregator`, the phase from the run.
    pub fn snapshot(&mut self, now: Instant, aggregator: &Aggregator, phase: Phase) -> Snapshot {
        self.advance(now);
        let s = &mut self.snapshot;
        s.elapsed = now.saturating_duration_since(self.start);
        s.in_flight = self.started.saturating_sub(s.done);
        (s.ttft_p50, s.ttft_p99) = aggregator.snapshot_ttft();
        s.phase = phase;
        s.errors = self.errors.iter().map(|(&c, &n)| (c, n)).collect();
        s.errors.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
        s.clone()
    }

    /// Closes the seconds before the one `at` falls in, carrying the in-flight count over
    /// quiet seconds.
    fn advance(&mut self, at: Instant) {
        let t = at.saturating_duration_since(self.start).as_secs();
        while self.current.t < t {
            let in_flight = self.started.saturating_sub(self.snapshot.done);
            let closed =
                Point { in_flight, ttft_p50: median_secs(&mut self.current_ttfts), ..self.current };
            self.current_ttfts.clear();
            let history = &mut self.snapshot.history;
            if history.len() == HISTORY_SECONDS {
                history.pop_front();
            }
            history.push_back(closed);
            // A long quiet gap adds at most a screen of empty seconds.
            let next = (closed.t + 1).max(t.saturating_sub(HISTORY_SECONDS as u64));
            self.current = Point { t: next, ..Point::default() };
        }
    }
}

/// The lower median, seconds (as the result's per-second `ttft_p50` picks rank ⌈n/2⌉).
fn median_secs(values: &mut [u32]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let rank = values.len().div_ceil(2) - 1;
    let (_, &mut median, _) = values.select_nth_unstable(rank);
    Some(f64::from(median) / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::record::Failure;
    use crate::measure::record::testing::{failed, ok};

    fn tracker(start: Instant) -> Tracker {
        Tracker::new(Header::default(), Some(100), None, start)
    }

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn history_is_bounded_and_carries_in_flight_over_quiet_seconds() {
        let start = Instant::now();
        let mut t = tracker(start);
        t.on_start(start);
        t.on_start(start);
        t.on_first_token(start + secs(0.5), secs(0.2));
        t.on_first_token(start + secs(0.6), secs(0.4));
        t.on_first_token(start + secs(0.7), secs(0.3));
        t.on_finish(start + secs(0.9), &ok(1, secs(0.2), secs(0.9), 45));
        let snap = t.snapshot(start + secs(3.5), &Aggregator::new(), Phase::Sending);
        let h: Vec<_> = snap.history.iter().map(|p| (p.t, p.finished, p.in_flight)).collect();
        assert_eq!(h, [(0, 1, 1), (1, 0, 1), (2, 0, 1)], "second 3 is not complete yet");
        assert_eq!(snap.history[0].ttft_p50, Some(0.3));
        assert_eq!(snap.history[1].ttft_p50, None);
        assert_eq!(snap.in_flight, 1);

        // An hour later: never more than HISTORY_SECONDS points, the newest last.
        let snap = t.snapshot(start + secs(3600.5), &Aggregator::new(), Phase::Sending);
        assert_eq!(snap.history.len(), HISTORY_SECONDS);
        assert_eq!(snap.history.back().unwrap().t, 3599);
        assert!(snap.history.iter().all(|p| p.in_flight == 1 && p.finished == 0));
    }

    #[test]
    fn percentiles_rates_and_histogram_follow_the_records() {
        let start = Instant::now();
        let mut t = tracker(start);
        let mut agg = Aggregator::new();
        for (id, ms) in [(1, 100), (2, 200), (3, 300), (4, 1000)] {
            let r = ok(id, Duration::from_millis(ms), secs(1.0), 45);
            t.on_start(start);
            t.on_finish(start + secs(0.5), &r);
            agg.add(&r);
        }
        let snap = t.snapshot(start + secs(2.0), &agg, Phase::Sending);
        assert_eq!((snap.done, snap.failed, snap.in_flight), (4, 0, 0));
        assert_eq!((snap.ttft_p50, snap.ttft_p99), agg.snapshot_ttft());
        assert!((snap.ttft_p50.unwrap() - 0.2).abs() < 0.001, "{:?}", snap.ttft_p50);
        assert_eq!(snap.requests_per_second(), 2.0);
        assert_eq!(snap.output_tokens, 4 * ok(1, secs(0.1), secs(1.0), 45).output_tokens.unwrap());
        assert_eq!(snap.ttft_buckets.iter().sum::<u64>(), 4);
        // 100 ms: 2^(53/8) ≈ 98.7 ≤ 100 < 107.6 ≈ 2^(54/8).
        assert_eq!(snap.ttft_buckets[53], 1);
        assert!(Snapshot::bucket_floor(53) <= 0.1 && 0.1 < Snapshot::bucket_floor(54));
        assert_eq!(snap.fraction(), Some(0.04));
        assert_eq!(snap.eta(), Some(secs(0.5 * 96.0)));
        assert_eq!(bucket(Duration::from_micros(10)), 0);
        assert_eq!(bucket(Duration::from_secs(100_000)), TTFT_BUCKETS - 1);
    }

    #[test]
    fn errors_are_counted_by_class_most_frequent_first_warmups_aside() {
        let start = Instant::now();
        let mut t = tracker(start);
        let classes = [ErrorClass::Timeout, ErrorClass::HttpStatus, ErrorClass::HttpStatus];
        for (id, class) in classes.into_iter().enumerate() {
            t.on_finish(start, &failed(id as u64, Failure::new(class, "x")));
        }
        let mut warm = failed(9, Failure::new(ErrorClass::Connect, "x"));
        warm.warmup = true;
        t.on_finish(start, &warm);
        let snap = t.snapshot(start, &Aggregator::new(), Phase::Draining);
        assert_eq!(snap.errors, [(ErrorClass::HttpStatus, 2), (ErrorClass::Timeout, 1)]);
        assert_eq!((snap.done, snap.failed), (4, 3), "a warm-up is done but not an error");
        assert_eq!(snap.phase, Phase::Draining);
        assert_eq!(snap.ttft_p50, None);
    }

    #[test]
    fn duration_runs_report_their_share_and_time_left() {
        let snap =
            Snapshot { duration: Some(secs(60.0)), elapsed: secs(15.0), ..Snapshot::default() };
        assert_eq!(snap.fraction(), Some(0.25));
        assert_eq!(snap.eta(), Some(secs(45.0)));
        let open = Snapshot { elapsed: secs(15.0), ..Snapshot::default() };
        assert_eq!((open.fraction(), open.eta()), (None, None));
    }
}
