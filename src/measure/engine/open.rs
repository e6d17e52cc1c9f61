//! The open loop: requests leave at their scheduled instants whatever the responses do, so a
//! slow server cannot slow the client down and hide its own slowness (coordinated omission).
//!
//! One dispatcher walks the schedule and hands each request to an idle worker (each worker
//! owns one connection, as in the closed loop), starting a new worker when none is idle. With
//! `--max-in-flight` no new worker is started past the cap: the request waits for one, and its
//! latencies, which count from the scheduled instant, include that wait (`queue_wait`).
//! Nothing is dropped.
//!
//! A worker whose request could not connect backs off (`backoff`) without holding
//! the schedule: it is idle again at once, and a request handed to it before its back-off
//! ends fails at once as `connect` ("not sent: backing off …"), with no connection attempt.
//! So the schedule, the request count and the failure rate stay what a user arriving then
//! would have seen, while a target that is down gets about one attempt a second per worker
//! instead of one per arrival.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::conn::Connection;
use super::worker::Worker;
use super::{Engine, EngineEvent, Phase, Preconnect, RunControl};

/// How an open-loop run is shaped.
pub struct OpenLoop {
    /// Intended send instants as offsets from the start, non-decreasing.
    pub schedule: Box<dyn Iterator<Item = Duration> + Send>,
    /// Stop after this many jobs: requests, or sessions when the engine runs sessions
    /// (`None`: until the run is stopped).
    pub total: Option<u64>,
    /// Send nothing scheduled this long after the start or later (`--duration`).
    pub duration: Option<Duration>,
    /// At most this many requests in flight; later ones wait (and say so in `queue_wait`).
    pub max_in_flight: Option<u64>,
    /// Connections opened before the clock starts.
    pub preconnect: u64,
    /// Told how late each request left, when it left without waiting for the cap: the
    /// client's own tardiness (for the self-check).
    pub on_lateness: Option<Box<dyn Fn(Duration) + Send + Sync>>,
}

/// What sending found.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SendStats {
    /// Requests sent.
    pub sent: u64,
    /// From the start to the last send: the window the achieved rate is measured over.
    pub window: Duration,
    /// Requests that had to wait for the `--max-in-flight` cap.
    pub queued: u64,
}

impl SendStats {
    /// Requests per second actually sent.
    pub fn achieved_rate(&self) -> Option<f64> {
        let secs = self.window.as_secs_f64();
        (self.sent > 1 && secs > 0.0).then(|| (self.sent - 1) as f64 / secs)
    }
}

/// A request for a worker: its 0-based index and intended instant.
struct Job {
    index: u64,
    sched: Instant,
}

/// The dispatcher's workers: one job channel each, and the ids of the idle ones.
struct Pool {
    engine: Arc<Engine>,
    control: Arc<RunControl>,
    events: UnboundedSender<EngineEvent>,
    jobs: Vec<mpsc::Sender<Job>>,
    handles: Vec<JoinHandle<()>>,
    idle: Vec<usize>,
    idle_tx: mpsc::UnboundedSender<usize>,
    idle_rx: mpsc::UnboundedReceiver<usize>,
}

impl Pool {
    /// Starts a worker on `conn` (or on a connection it opens in its first request).
    fn spawn(&mut self, conn: Option<Connection>) -> usize {
        let id = self.jobs.len();
        let (tx, mut rx) = mpsc::channel::<Job>(1);
        let (engine, control) = (Arc::clone(&self.engine), Arc::clone(&self.control));
        let (events, idle) = (self.events.clone(), self.idle_tx.clone());
        self.handles.push(tokio::spawn(async move {
            let mut worker = Worker::on(conn);
            while let Some(Job { index, sched }) = rx.recv().await {
                let listening = match worker.backoff.pending(Instant::now()) {
                    Some(_) => {
                        let number = engine.request_number(index);
                        engine.fail_fast(number, sched, &worker.backoff, &control, &events)
                    }
                    None => {
                        let job =
                            engine.run_job(index, Some(sched), &mut worker, &control, &events);
                        job.await
                    }
                };
                if !listening || idle.send(id).is_err() {
                    break;
                }
            }
        }));
        self.jobs.push(tx);
        id
    }

    /// An idle worker, a new one under the cap, or (`None`) none without waiting.
    fn try_take(&mut self, cap: Option<u64>) -> Option<usize> {
        while let Ok(id) = self.idle_rx.try_recv() {
            self.idle.push(id);
        }
        if let Some(id) = self.idle.pop() {
            return Some(id);
        }
        cap.is_none_or(|cap| (self.jobs.len() as u64) < cap).then(|| self.spawn(None))
    }
}

impl Engine {
    /// Runs an open loop until the schedule ends, `plan.total` requests were sent, or
    /// `control` stops sending. Returns the wall time from the start to the last completion
    /// and what sending found.
    pub async fn run_open_loop(
        self: &Arc<Self>,
        plan: OpenLoop,
        control: Arc<RunControl>,
        events: UnboundedSender<EngineEvent>,
    ) -> (Duration, SendStats) {
        let (idle_tx, idle_rx) = mpsc::unbounded_channel();
        let mut pool = Pool {
            engine: Arc::clone(self),
            control: Arc::clone(&control),
            events: events.clone(),
            jobs: Vec::new(),
            handles: Vec::new(),
            idle: Vec::new(),
            idle_tx,
            idle_rx,
        };
        let preconnect_started = Instant::now();
        let wanted = plan.max_in_flight.map_or(plan.preconnect, |cap| plan.preconnect.min(cap));
        let conns = join_all((0..wanted).map(|w| self.preconnect_one(w))).await;
        let opened = conns.iter().filter(|c| c.is_some()).count() as u64;
        for conn in conns {
            let id = pool.spawn(conn);
            pool.idle.push(id);
        }
        let preconnect =
            Preconnect { opened, failed: wanted - opened, elapsed: preconnect_started.elapsed() };
        let _ = self.preconnect.set(preconnect);
        self.wait_for_start(&control).await;
        let _ = events.send(EngineEvent::Connected(preconnect));

        let start = self.mark_started();
        let stats = dispatch(&mut pool, plan, &control, start).await;
        // Closing the job channels lets every worker end after its request.
        pool.jobs.clear();
        for worker in pool.handles.drain(..) {
            worker.await.expect("load worker panicked");
        }
        (start.elapsed(), stats)
    }
}

/// Walks the schedule, handing each request to a worker at its instant.
async fn dispatch(
    pool: &mut Pool,
    plan: OpenLoop,
    control: &RunControl,
    start: Instant,
) -> SendStats {
    let mut stats = SendStats::default();
    for offset in plan.schedule {
        let past_deadline = plan.duration.is_some_and(|d| offset >= d);
        if past_deadline || plan.total.is_some_and(|total| stats.sent >= total) {
            break;
        }
        let sched = start + offset;
        tokio::select! {
            _ = tokio::time::sleep_until(sched) => {}
            _ = control.reached(Phase::Draining) => break,
        }
        let (id, waited) = match pool.try_take(plan.max_in_flight) {
            Some(id) => (id, false),
            None => {
                stats.queued += 1;
                tokio::select! {
                    id = pool.idle_rx.recv() => match id {
                        Some(id) => (id, true),
                        None => break,
                    },
                    _ = control.reached(Phase::Draining) => break,
                }
            }
        };
        if !control.sending() {
            pool.idle.push(id);
            break;
        }
        let now = Instant::now();
        if let (false, Some(note)) = (waited, &plan.on_lateness) {
            note(now.saturating_duration_since(sched));
        }
        // The worker is idle, so its one-slot channel has room: this never waits.
        if pool.jobs[id].send(Job { index: stats.sent, sched }).await.is_err() {
            break;
        }
        stats.sent += 1;
        stats.window = now.saturating_duration_since(start);
    }
    stats
}
