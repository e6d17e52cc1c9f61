//! The original tool's closed loop: N workers, each starting its next request the moment its
//! previous one ends; never more than N in flight. A worker whose request could not connect backs
//! off before its next one ([`super::backoff`]); that request's clock starts after the wait.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::{Barrier, watch};
use tokio::time::Instant;

use super::worker::Worker;
use super::{Engine, EngineEvent, Preconnect, RunControl};

/// How a closed-loop run is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClosedLoop {
    /// Requests in flight at all times.
    pub concurrency: u64,
    /// Stop after this many jobs: requests, or sessions when the engine runs sessions
    /// (`None`: until the run is stopped, e.g. by `--duration`).
    pub total: Option<u64>,
    /// Workers start one after another over this long instead of all at once.
    pub ramp_up: Option<Duration>,
}

impl Engine {
    /// Runs a closed loop until `plan.total` requests were sent or `control` stops sending.
    ///
    /// First every worker opens its connection, concurrently and before the clock starts (a
    /// lazily opened connection would add its handshake to the first round's latencies, and
    /// thousands of them at once delay the start of the load). Then all are released together
    /// (or spread over the ramp-up). Returns the wall time from that release to the last
    /// completion.
    pub async fn run_closed_loop(
        self: &Arc<Self>,
        plan: ClosedLoop,
        control: Arc<RunControl>,
        events: UnboundedSender<EngineEvent>,
    ) -> Duration {
        let workers = plan.total.map_or(plan.concurrency, |t| plan.concurrency.min(t));
        let next = Arc::new(AtomicU64::new(0));
        let opened = Arc::new(AtomicU64::new(0));
        // Two steps, so that `Connected` is sent after every connect and before any request:
        // `connected` waits for all workers, `go` releases them with the start instant.
        let connected = Arc::new(Barrier::new(workers as usize + 1));
        let (go, release) = watch::channel(None::<Instant>);
        let preconnect_started = Instant::now();
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                let (engine, next, events) = (Arc::clone(self), Arc::clone(&next), events.clone());
                let (opened, connected) = (Arc::clone(&opened), Arc::clone(&connected));
                let (control, mut release) = (Arc::clone(&control), release.clone());
                tokio::spawn(async move {
                    let conn = engine.preconnect_one(worker).await;
                    if conn.is_some() {
                        opened.fetch_add(1, Ordering::Relaxed);
                    }
                    connected.wait().await;
                    // Err: the sender is gone, only if the run itself was dropped.
                    let Ok(start) = release.wait_for(Option::is_some).await.map(|s| s.unwrap())
                    else {
                        return;
                    };
                    if let Some(ramp) = plan.ramp_up {
                        let offset = ramp.mul_f64(worker as f64 / workers as f64);
                        tokio::time::sleep_until(start + offset).await;
                    }
                    let mut slot = Worker::on(conn);
                    while control.sending() {
                        let job = next.fetch_add(1, Ordering::Relaxed);
                        if plan.total.is_some_and(|total| job >= total)
                            || !engine.wait_out(&slot.backoff, &control).await
                        {
                            break;
                        }
                        if !engine.run_job(job, None, &mut slot, &control, &events).await {
                            break;
                        }
                    }
                })
            })
            .collect();
        connected.wait().await;
        let opened = opened.load(Ordering::Relaxed);
        let preconnect =
            Preconnect { opened, failed: workers - opened, elapsed: preconnect_started.elapsed() };
        let _ = self.preconnect.set(preconnect);
        self.wait_for_start(&control).await;
        let _ = events.send(EngineEvent::Connected(preconnect));
        let started = self.mark_started();
        go.send_replace(Some(started));
        for worker in handles {
            // A panicking worker is a bug; surface it rather than hide lost requests.
            worker.await.expect("load worker panicked");
        }
        started.elapsed()
    }
}
