//! Self-check: is the client itself the bottleneck?
//!
//! While a load runs, [`SelfCheck`] samples the client's own health: how late a periodic
//! timer task wakes (tokio scheduling lag), how much of the machine's CPU the process used,
//! and, for open-loop runs, how far behind schedule requests left. [`SelfCheck::finish`]
//! turns these into a [`ClientHealth`], marked `client_bound` with plain reasons when the
//! client's own limits may have shaped the measured latencies (20,000 streams on 2 cores).
//!
//! One file an idea: `lag` (the timer probe), `cpu` (the process's CPU share) and `lateness`
//! (open-loop sends behind schedule) measure; `verdict` decides, a pure function of their
//! numbers, so its thresholds are tested with injected values rather than with real load.

mod cpu;
mod lag;
mod lateness;
mod verdict;

use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use cpu::{available_cores, cpu_share, process_cpu_time};
use lag::{new_histogram, quantile_ms, sample_lag};
use lateness::SendLateness;
use verdict::Observed;

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

pub(super) fn us_to_ms(us: u64) -> f64 {
    us as f64 / 1_000.0
}

pub(super) fn duration_us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use verdict::LAG_P99_LIMIT_MS;

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
