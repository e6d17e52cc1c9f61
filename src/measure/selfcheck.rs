//! Self-check: is the client itself the bottleneck?
//!
//! While a load runs, [`SelfCheck`] samples the client's own health: how late a periodic
//! timer task wakes (tokio scheduling lag), how much of the machine's CPU the process used,
//! and, for open-loop runs, how far behind schedule requests left. [`SelfCheck::finish`]
//! turns these into a [`ClientHealth`], marked `client_bound` with plain reasons when the
//! client's own limits may have shaped the measured latencies (20,000 streams on 2 cores).
//!
//! The decision is the pure function `verdict` over the measured numbers, so its thresholds
//! are tested with injected values rather than with real load.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How often the sampler wakes. Often enough to catch stalls of a few timer periods in a
/// one-second run (100 samples), rare enough to cost nothing measurable.
const PERIOD: Duration = Duration::from_millis(10);

/// Scheduling lag p99 above which the run is client-bound, in ms. An idle runtime wakes a
/// timer 0–2 ms late (tokio's timer wheel has 1 ms slots, plus the OS wake-up), so 10 ms is
/// well clear of that noise, yet it is half the gap of a 20 ms/token stream: a client that
/// late on 1 % of its wake-ups adds visible delay to the TTFT and ITL it reports.
const LAG_P99_LIMIT_MS: f64 = 10.0;

/// A single stall longer than this, in ms, marks the run too. Ten timer periods: every stream
/// in flight during such a stall has its timestamps shifted by up to a tenth of a second.
/// Higher than the p99 limit because one stall, unlike a sustained lag, may be a one-off
/// (a page-fault storm, a noisy neighbour), and only a long one matters on its own.
const LAG_MAX_LIMIT_MS: f64 = 100.0;

/// Share of all available cores' time above which the run is client-bound. Past ~90 %,
/// runnable threads queue for a core: the OS delays the client no matter how idle its event
/// loop looks (this also catches a runtime with fewer workers than cores being starved by a
/// mock server in the same process, whose CPU counts here, as it competes for the cores).
const CPU_SHARE_LIMIT: f64 = 0.9;

/// The CPU rule is skipped for shorter runs: in a few hundred milliseconds, start-up work
/// (connections, TLS handshakes) can use all cores without delaying anything that matters.
const CPU_MIN_WALL: Duration = Duration::from_millis(500);

/// A send more than this behind its intended instant is counted in `late_sends`, in µs. A
/// tokio timer fires 0–2 ms after its deadline (1 ms slots, rounded up, plus the OS wake-up;
/// measured: p99 2.0 ms on an idle 2-core VM), so anything under 5 ms is timer noise.
const LATE_SEND_US: u64 = 5_000;

/// A send more than this behind schedule, in µs, counts toward the send-lateness rule: well
/// above timer granularity, and enough to change the arrival pattern a server sees.
const VERY_LATE_SEND_US: u64 = 10_000;

/// Share of sends that may be very late before the run is client-bound: more than 1 % is the
/// same as the p99 lateness exceeding 10 ms, but counted exactly rather than from buckets.
const VERY_LATE_SHARE_LIMIT: f64 = 0.01;

/// Fewer very late sends than this never mark a run: in a run of 50 requests, one or two
/// stragglers are noise, not a client that cannot keep up.
const MIN_VERY_LATE_SENDS: u64 = 3;

/// The client's own health over a run, and whether it may have shaped the numbers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientHealth {
    /// True when the client's own limits may have shaped the measured latencies.
    pub client_bound: bool,
    /// Why, one English sentence per tripped rule, each with the measured value.
    pub reasons: Vec<String>,
    /// Median lateness of the sampler's 10 ms timer, milliseconds.
    pub scheduling_lag_p50_ms: f64,
    /// 99th percentile lateness of the sampler's 10 ms timer, milliseconds.
    pub scheduling_lag_p99_ms: f64,
    /// Largest lateness of the sampler's 10 ms timer, milliseconds.
    pub scheduling_lag_max_ms: f64,
    /// Process CPU time (user + system) ÷ (wall time × available cores), 0..1.
    pub cpu_share: f64,
    /// Sends that left more than 5 ms behind their intended instant (open loop).
    pub late_sends: u64,
    /// 99th percentile of how late sends left, milliseconds (0 without open-loop sends).
    pub send_lateness_p99_ms: f64,
    /// Timer samples taken (about one per 10 ms when the runtime keeps up).
    pub samples: u64,
}

/// Started when the load starts; samples in a background tokio task until finished.
///
/// Dropping it without [`finish`](Self::finish) stops the sampler too.
#[derive(Debug)]
pub struct SelfCheck {
    started: Instant,
    cpu_at_start: Option<Duration>,
    sends: Arc<SendLateness>,
    stop: oneshot::Sender<()>,
    sampler: JoinHandle<Histogram<u64>>,
}

impl SelfCheck {
    /// Records the process CPU time and spawns the sampler on the current tokio runtime.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, as [`tokio::spawn`] does.
    pub fn start() -> SelfCheck {
        let (stop, stopped) = oneshot::channel();
        SelfCheck {
            started: Instant::now(),
            cpu_at_start: process_cpu_time(),
            sends: Arc::new(SendLateness::new()),
            stop,
            sampler: tokio::spawn(sample_lag(stopped)),
        }
    }

    /// Notes that an open-loop request left `late` after its intended instant. Lock-free (a
    /// few relaxed atomic adds), so any number of tasks may call it on every send.
    pub fn note_send_lateness(&self, late: Duration) {
        self.sends.note(late);
    }

    /// A cheap, cloneable handle for sending tasks that cannot borrow the check (`'static`
    /// spawned tasks); what it notes counts as [`note_send_lateness`](Self::note_send_lateness).
    pub fn send_lateness_recorder(&self) -> SendLatenessRecorder {
        SendLatenessRecorder(Arc::clone(&self.sends))
    }

    /// Stops the sampler and returns the verdict over the whole run.
    pub async fn finish(self) -> ClientHealth {
        // Wall and CPU time end here, before waiting for the sampler, which under heavy load
        // may take a while to notice the stop.
        let wall = self.started.elapsed();
        let cpu =
            process_cpu_time().zip(self.cpu_at_start).map(|(end, start)| end.saturating_sub(start));
        // An error means the sampler already ended, which is fine.
        let _ = self.stop.send(());
        // A panicked sampler leaves no lag samples rather than failing the run.
        let lag = self.sampler.await.unwrap_or_else(|_| new_histogram());
        let observed = Observed {
            lag_p50_ms: quantile_ms(&lag, 0.5),
            lag_p99_ms: quantile_ms(&lag, 0.99),
            lag_max_ms: us_to_ms(lag.max()),
            samples: lag.len(),
            cpu_share: cpu.map_or(0.0, |cpu| cpu_share(cpu, wall, available_cores())),
            cores: available_cores(),
            wall,
            sends: self.sends.snapshot(),
        };
        observed.into_health()
    }
}

/// Notes open-loop send lateness into a [`SelfCheck`]; clone one per sending task.
#[derive(Debug, Clone)]
pub struct SendLatenessRecorder(Arc<SendLateness>);

impl SendLatenessRecorder {
    /// Same as [`SelfCheck::note_send_lateness`].
    pub fn note(&self, late: Duration) {
        self.0.note(late);
    }
}

/// Everything measured, in the units the rules use.
#[derive(Debug, Clone, Default)]
struct Observed {
    lag_p50_ms: f64,
    lag_p99_ms: f64,
    lag_max_ms: f64,
    samples: u64,
    cpu_share: f64,
    cores: usize,
    wall: Duration,
    sends: SendCounts,
}

impl Observed {
    fn into_health(self) -> ClientHealth {
        let (client_bound, reasons) = verdict(&self);
        ClientHealth {
            client_bound,
            reasons,
            scheduling_lag_p50_ms: self.lag_p50_ms,
            scheduling_lag_p99_ms: self.lag_p99_ms,
            scheduling_lag_max_ms: self.lag_max_ms,
            cpu_share: self.cpu_share,
            late_sends: self.sends.late,
            send_lateness_p99_ms: self.sends.p99_ms,
            samples: self.samples,
        }
    }
}

/// Decides whether the client may have shaped the numbers; one reason per tripped rule.
fn verdict(observed: &Observed) -> (bool, Vec<String>) {
    let reasons: Vec<String> = [
        lag_p99_reason(observed),
        lag_max_reason(observed),
        cpu_reason(observed),
        send_reason(&observed.sends),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!reasons.is_empty(), reasons)
}

// The lag rules cannot tell a busy event loop from one starved by other processes (a mock
// server on the same cores, a compiler): either way the client read its sockets late.
fn lag_p99_reason(o: &Observed) -> Option<String> {
    (o.lag_p99_ms > LAG_P99_LIMIT_MS).then(|| {
        format!(
            "runtime scheduling lag p99 {:.1} ms (timer every {} ms, limit {LAG_P99_LIMIT_MS} \
             ms): the client's own event loop was busy or short of CPU, so timestamps may include \
             client delay",
            o.lag_p99_ms,
            PERIOD.as_millis(),
        )
    })
}

fn lag_max_reason(o: &Observed) -> Option<String> {
    // A sustained lag is already explained by the p99 rule; this one is for a lone stall.
    (o.lag_max_ms > LAG_MAX_LIMIT_MS && o.lag_p99_ms <= LAG_P99_LIMIT_MS).then(|| {
        format!(
            "the client's event loop stalled once for {:.1} ms (limit {LAG_MAX_LIMIT_MS} ms): \
             streams in flight at that moment have timestamps delayed by the client",
            o.lag_max_ms,
        )
    })
}

fn cpu_reason(o: &Observed) -> Option<String> {
    (o.wall >= CPU_MIN_WALL && o.cpu_share > CPU_SHARE_LIMIT).then(|| {
        format!(
            "the process used {:.0} % of {} core(s) over {:.1} s (limit {:.0} %): the client, \
             and anything else in this process such as a built-in mock, had no CPU to spare, \
             so responses may have been read late",
            o.cpu_share * 100.0,
            o.cores,
            o.wall.as_secs_f64(),
            CPU_SHARE_LIMIT * 100.0,
        )
    })
}

fn send_reason(s: &SendCounts) -> Option<String> {
    let share = if s.sends == 0 { 0.0 } else { s.very_late as f64 / s.sends as f64 };
    (s.very_late >= MIN_VERY_LATE_SENDS && share > VERY_LATE_SHARE_LIMIT).then(|| {
        format!(
            "{} of {} sends ({:.1} %) left more than {} ms behind schedule (p99 lateness {:.1} \
             ms, limit {:.0} %): the client could not keep the requested arrival rate, so the \
             server saw less load than asked",
            s.very_late,
            s.sends,
            share * 100.0,
            VERY_LATE_SEND_US / 1_000,
            s.p99_ms,
            VERY_LATE_SHARE_LIMIT * 100.0,
        )
    })
}

/// Wakes every [`PERIOD`] and records how late each wake-up was, in µs, until `stop` fires
/// or its sender is dropped.
async fn sample_lag(mut stop: oneshot::Receiver<()>) -> Histogram<u64> {
    let mut lag = new_histogram();
    loop {
        // A fresh deadline from now after each wake (like `MissedTickBehavior::Delay`): after
        // a long stall, catching up on missed ticks would record a burst of fake lags.
        let deadline = Instant::now() + PERIOD;
        tokio::select! {
            biased;
            _ = &mut stop => break,
            () = tokio::time::sleep_until(deadline) => {
                let late = Instant::now().saturating_duration_since(deadline);
                record(&mut lag, duration_us(late));
            }
        }
    }
    lag
}

fn new_histogram() -> Histogram<u64> {
    // `new` auto-resizes, so no lag is rejected for being too large.
    Histogram::new(3).expect("3 significant digits is a valid HDR precision")
}

fn record(hist: &mut Histogram<u64>, us: u64) {
    // `saturating_record` alone would clamp to the initial range (about 2 ms) instead of
    // growing; only a failed resize (a 32-bit usize) falls back to it.
    if hist.record(us).is_err() {
        hist.saturating_record(us);
    }
}

fn quantile_ms(hist: &Histogram<u64>, quantile: f64) -> f64 {
    if hist.is_empty() { 0.0 } else { us_to_ms(hist.value_at_quantile(quantile)) }
}

fn us_to_ms(us: u64) -> f64 {
    us as f64 / 1_000.0
}

fn duration_us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Cores this process may use (cgroup quotas and affinity included on Linux); 1 if unknown.
fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// `cpu` ÷ (`wall` × `cores`), clamped to 0..1 (rounding between the two clocks can
/// overshoot slightly); 0 for an empty interval.
fn cpu_share(cpu: Duration, wall: Duration, cores: usize) -> f64 {
    let capacity = wall.as_secs_f64() * cores as f64;
    if capacity <= 0.0 { 0.0 } else { (cpu.as_secs_f64() / capacity).clamp(0.0, 1.0) }
}

/// User plus system CPU time of the whole process so far; `None` where unavailable.
#[cfg(unix)]
fn process_cpu_time() -> Option<Duration> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` points to writable memory the size of a `rusage`, which getrusage
    // fills on success; we read it only when the call returned 0.
    let usage = unsafe {
        if libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) != 0 {
            return None;
        }
        usage.assume_init()
    };
    Some(timeval(usage.ru_utime)? + timeval(usage.ru_stime)?)
}

#[cfg(not(unix))]
fn process_cpu_time() -> Option<Duration> {
    None
}

#[cfg(unix)]
fn timeval(t: libc::timeval) -> Option<Duration> {
    let micros = u32::try_from(t.tv_usec).ok()?;
    Some(Duration::from_secs(u64::try_from(t.tv_sec).ok()?) + Duration::from_micros(micros.into()))
}

/// Lateness of open-loop sends, shared by every sending task: counters and a small
/// log-linear histogram of atomics, so noting a send never takes a lock.
#[derive(Debug)]
struct SendLateness {
    sends: AtomicU64,
    late: AtomicU64,
    very_late: AtomicU64,
    buckets: Box<[AtomicU64]>,
}

/// What [`SendLateness`] held when read.
#[derive(Debug, Clone, Default, PartialEq)]
struct SendCounts {
    sends: u64,
    late: u64,
    very_late: u64,
    p99_ms: f64,
}

impl SendLateness {
    fn new() -> SendLateness {
        SendLateness {
            sends: AtomicU64::new(0),
            late: AtomicU64::new(0),
            very_late: AtomicU64::new(0),
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn note(&self, late: Duration) {
        let us = duration_us(late);
        // Relaxed: each counter is read only after the load ended, by `finish`.
        self.sends.fetch_add(1, Ordering::Relaxed);
        if us > LATE_SEND_US {
            self.late.fetch_add(1, Ordering::Relaxed);
        }
        if us > VERY_LATE_SEND_US {
            self.very_late.fetch_add(1, Ordering::Relaxed);
        }
        self.buckets[bucket_of(us)].fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> SendCounts {
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).collect();
        SendCounts {
            sends: self.sends.load(Ordering::Relaxed),
            late: self.late.load(Ordering::Relaxed),
            very_late: self.very_late.load(Ordering::Relaxed),
            p99_ms: bucket_quantile_us(&counts, 0.99).map_or(0.0, us_to_ms),
        }
    }
}

/// Sub-buckets per power of two: values are kept within 1/8 (12.5 %).
const SUB_BITS: u32 = 3;
const SUB: usize = 1 << SUB_BITS;
/// Lateness is clamped to 2^32 µs (71 minutes), far beyond any meaningful value.
const MAX_EXPONENT: u32 = 31;
/// Values below `SUB` get a bucket each; then `SUB` buckets per power of two up to 2^32.
const BUCKETS: usize = SUB + (MAX_EXPONENT - SUB_BITS + 1) as usize * SUB;

/// The bucket of `us`: exact below 8, then 8 buckets per power of two.
fn bucket_of(us: u64) -> usize {
    let us = us.min(u64::from(u32::MAX));
    if us < SUB as u64 {
        return us as usize;
    }
    let exponent = 63 - us.leading_zeros(); // >= SUB_BITS
    let sub = (us >> (exponent - SUB_BITS)) as usize & (SUB - 1);
    SUB + (exponent - SUB_BITS) as usize * SUB + sub
}

/// The largest value in bucket `index`, in µs (as HDR reports a quantile: never under it).
fn bucket_high_us(index: usize) -> u64 {
    if index < SUB {
        return index as u64;
    }
    let shift = ((index - SUB) / SUB) as u32;
    let sub = ((index - SUB) % SUB) as u64;
    ((SUB as u64 + sub + 1) << shift) - 1
}

/// The value at `quantile` of bucket `counts`, in µs; `None` when all are empty.
fn bucket_quantile_us(counts: &[u64], quantile: f64) -> Option<u64> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    // The rank of the quantile value, 1-based, as HDR histograms count it.
    let rank = ((quantile * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0;
    counts.iter().enumerate().find_map(|(index, &count)| {
        seen += count;
        (seen >= rank).then(|| bucket_high_us(index))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A healthy run: small lag, moderate CPU, a second long, sends on time.
    fn healthy() -> Observed {
        Observed {
            lag_p50_ms: 1.0,
            lag_p99_ms: 1.9,
            lag_max_ms: 4.0,
            samples: 300,
            cpu_share: 0.3,
            cores: 2,
            wall: Duration::from_secs(3),
            sends: SendCounts { sends: 1_000, late: 20, very_late: 0, p99_ms: 1.2 },
        }
    }

    fn reasons(observed: &Observed) -> Vec<String> {
        let (bound, reasons) = verdict(observed);
        assert_eq!(bound, !reasons.is_empty(), "the flag follows the reasons");
        reasons
    }

    #[test]
    fn a_healthy_run_is_not_client_bound() {
        assert_eq!(verdict(&healthy()), (false, vec![]));
    }

    #[test]
    fn values_at_the_limits_do_not_trip() {
        let observed = Observed {
            lag_p99_ms: LAG_P99_LIMIT_MS,
            lag_max_ms: LAG_MAX_LIMIT_MS,
            cpu_share: CPU_SHARE_LIMIT,
            sends: SendCounts { sends: 1_000, late: 10, very_late: 10, p99_ms: 10.0 },
            ..healthy()
        };
        assert_eq!(reasons(&observed), Vec::<String>::new());
    }

    #[test]
    fn sustained_scheduling_lag_is_reported_with_its_value() {
        let observed = Observed { lag_p99_ms: 38.24, lag_max_ms: 60.0, ..healthy() };
        let reasons = reasons(&observed);
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(reasons[0].contains("scheduling lag p99 38.2 ms"), "{}", reasons[0]);
        assert!(reasons[0].contains("timer every 10 ms"), "{}", reasons[0]);
    }

    #[test]
    fn a_lone_long_stall_is_reported() {
        let observed = Observed { lag_max_ms: 250.0, ..healthy() };
        let reasons = reasons(&observed);
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(reasons[0].contains("stalled once for 250.0 ms"), "{}", reasons[0]);
    }

    #[test]
    fn a_long_stall_within_sustained_lag_gives_one_lag_reason() {
        let observed = Observed { lag_p99_ms: 300.0, lag_max_ms: 900.0, ..healthy() };
        let reasons = reasons(&observed);
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(reasons[0].contains("p99 300.0 ms"), "{}", reasons[0]);
    }

    #[test]
    fn a_busy_cpu_is_reported_with_share_and_cores() {
        let observed = Observed { cpu_share: 0.973, ..healthy() };
        let reasons = reasons(&observed);
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(reasons[0].contains("used 97 % of 2 core(s) over 3.0 s"), "{}", reasons[0]);
    }

    #[test]
    fn a_busy_cpu_in_a_very_short_run_is_not_judged() {
        let observed = Observed { cpu_share: 1.0, wall: Duration::from_millis(200), ..healthy() };
        assert!(reasons(&observed).is_empty());
    }

    #[test]
    fn more_than_one_percent_very_late_sends_are_reported() {
        let sends = SendCounts { sends: 1_000, late: 40, very_late: 25, p99_ms: 31.0 };
        let reasons = reasons(&Observed { sends, ..healthy() });
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        let reason = &reasons[0];
        assert!(reason.contains("25 of 1000 sends (2.5 %)"), "{reason}");
        assert!(reason.contains("p99 lateness 31.0 ms"), "{reason}");
    }

    #[test]
    fn a_few_stragglers_in_a_small_run_are_noise() {
        // 2 of 50 is 4 %, but two late sends are not a pattern.
        let sends = SendCounts { sends: 50, late: 2, very_late: 2, p99_ms: 15.0 };
        assert!(reasons(&Observed { sends, ..healthy() }).is_empty());
        let sends = SendCounts { sends: 50, late: 3, very_late: 3, p99_ms: 15.0 };
        assert_eq!(reasons(&Observed { sends, ..healthy() }).len(), 1);
    }

    #[test]
    fn closed_loop_runs_have_no_send_rule() {
        let sends = SendCounts::default();
        assert!(reasons(&Observed { sends, ..healthy() }).is_empty());
    }

    #[test]
    fn every_tripped_rule_gives_its_own_reason() {
        let observed = Observed {
            lag_p99_ms: 50.0,
            cpu_share: 1.0,
            sends: SendCounts { sends: 100, late: 90, very_late: 80, p99_ms: 120.0 },
            ..healthy()
        };
        assert_eq!(reasons(&observed).len(), 3);
    }

    #[test]
    fn health_carries_the_measured_numbers() {
        let health = Observed { lag_p99_ms: 12.5, ..healthy() }.into_health();
        assert!(health.client_bound);
        assert_eq!(health.scheduling_lag_p99_ms, 12.5);
        assert_eq!(health.late_sends, 20);
        assert_eq!(health.send_lateness_p99_ms, 1.2);
        assert_eq!(health.samples, 300);
    }

    #[test]
    fn cpu_share_divides_by_all_cores_and_clamps() {
        let wall = Duration::from_secs(2);
        assert_eq!(cpu_share(Duration::from_secs(1), wall, 2), 0.25);
        assert_eq!(cpu_share(Duration::from_secs(5), wall, 2), 1.0);
        assert_eq!(cpu_share(Duration::from_secs(1), Duration::ZERO, 2), 0.0);
    }

    #[test]
    fn process_cpu_time_grows_with_work() {
        let start = process_cpu_time().expect("getrusage works on unix");
        // Burn CPU until the clock moves: getrusage has at least µs resolution.
        let mut x = 0u64;
        while process_cpu_time().unwrap() <= start {
            for i in 0..10_000u64 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
            }
        }
        assert!(process_cpu_time().unwrap() > start);
    }

    #[test]
    fn buckets_hold_every_value_within_an_eighth() {
        let mut last = 0;
        for us in (0..5_000).chain([65_535, 1 << 20, 123_456_789, u64::from(u32::MAX)]) {
            let index = bucket_of(us);
            assert!(index >= last, "buckets are monotonic at {us}");
            assert!(index < BUCKETS, "{us} fits");
            let high = bucket_high_us(index);
            assert!(high >= us, "{us} ≤ its bucket's top {high}");
            assert!((high - us) as f64 <= us as f64 / 8.0, "{us} within 1/8 of {high}");
            last = index;
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1, "huge values are clamped");
    }

    #[test]
    fn send_lateness_counts_and_p99() {
        let sends = SendLateness::new();
        for _ in 0..980 {
            sends.note(Duration::from_micros(500));
        }
        for _ in 0..10 {
            sends.note(Duration::from_millis(6));
        }
        for _ in 0..10 {
            sends.note(Duration::from_millis(40));
        }
        let counts = sends.snapshot();
        assert_eq!((counts.sends, counts.late, counts.very_late), (1_000, 20, 10));
        // Rank 990 is the last of the 6 ms sends; its bucket's top is within 1/8 above.
        assert!((6.0..=6.75).contains(&counts.p99_ms), "{}", counts.p99_ms);
    }

    #[test]
    fn empty_send_lateness_has_zero_p99() {
        assert_eq!(SendLateness::new().snapshot(), SendCounts::default());
    }

    #[tokio::test]
    async fn finish_reports_noted_sends() {
        let check = SelfCheck::start();
        check.note_send_lateness(Duration::from_micros(200));
        check.note_send_lateness(Duration::from_millis(6));
        check.note_send_lateness(Duration::from_millis(30));
        let health = check.finish().await;
        assert_eq!(health.late_sends, 2);
        assert!(health.send_lateness_p99_ms >= 30.0, "{health:?}");
        assert!((0.0..=1.0).contains(&health.cpu_share), "{health:?}");
    }

    #[test]
    fn json_field_names_are_stable() {
        let json = serde_json::to_value(ClientHealth::default()).unwrap();
        for field in [
            "client_bound",
            "reasons",
            "scheduling_lag_p50_ms",
            "scheduling_lag_p99_ms",
            "scheduling_lag_max_ms",
            "cpu_share",
            "late_sends",
            "send_lateness_p99_ms",
            "samples",
        ] {
            assert!(json.get(field).is_some(), "{field}");
        }
    }

    /// Streams that wake every `itl` and then spend `work` of CPU on a "token", `count` of
    /// them on this runtime; returns their handles to abort.
    fn spawn_streams(count: usize, itl: Duration, work: Duration) -> Vec<JoinHandle<()>> {
        (0..count)
            .map(|_| {
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(itl).await;
                        let start = std::time::Instant::now();
                        while start.elapsed() < work {
                            std::hint::spin_loop();
                        }
                    }
                })
            })
            .collect()
    }

    /// An open-loop sender aiming at one request every `gap`, noting how late each left.
    fn spawn_sender(check: &SelfCheck, gap: Duration) -> JoinHandle<()> {
        let sends = check.send_lateness_recorder();
        tokio::spawn(async move {
            let mut due = Instant::now();
            loop {
                due += gap;
                tokio::time::sleep_until(due).await;
                sends.note(Instant::now().saturating_duration_since(due));
            }
        })
    }

    /// Runs `streams` streams and a sender for two seconds, then finishes the check.
    async fn measure(streams: usize, itl: Duration, send_gap: Duration) -> ClientHealth {
        let check = SelfCheck::start();
        let mut tasks = spawn_streams(streams, itl, Duration::from_micros(20));
        tasks.push(spawn_sender(&check, send_gap));
        tokio::time::sleep(Duration::from_secs(2)).await;
        let health = check.finish().await;
        tasks.iter().for_each(JoinHandle::abort);
        println!("{streams} streams every {itl:?}: {health:#?}");
        health
    }

    // The measurements below need the machine to themselves: run them alone, e.g.
    // `cargo test --release --lib selfcheck -- --ignored --test-threads=1 --nocapture`.

    /// 20,000 streams of 1 ms tokens at 20 µs of CPU each would need 400 cores.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "measures real load: run alone"]
    async fn overloaded_runtime_is_client_bound() {
        let health = measure(20_000, Duration::from_millis(1), Duration::from_millis(1)).await;
        assert!(health.client_bound, "{health:#?}");
        assert!(health.reasons.iter().any(|r| r.contains("scheduling lag")), "{health:#?}");
        assert!(health.scheduling_lag_p99_ms > LAG_P99_LIMIT_MS, "{health:#?}");
    }

    /// 10 streams of 20 ms tokens and 100 sends/s: a light load.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "measures real load: run alone"]
    async fn light_load_is_not_client_bound() {
        let health = measure(10, Duration::from_millis(20), Duration::from_millis(10)).await;
        assert!(!health.client_bound, "{health:#?}");
        assert!(health.samples > 100, "{health:#?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "measures real load: run alone"]
    async fn idle_runtime_is_not_client_bound() {
        let check = SelfCheck::start();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let health = check.finish().await;
        println!("idle: {health:#?}");
        assert!(!health.client_bound, "{health:#?}");
        assert!(health.samples > 50, "{health:#?}");
    }
}
