//! The measuring engine: closed-loop load, one connection per worker.
//!
//! Each worker owns one HTTP connection and drives it in its own task ([`conn`]), so a body
//! frame is read and timestamped without crossing tasks. Connections are opened before the
//! clock starts ([`Engine::run_closed_loop`]) and kept alive from one request to the next.
//!
//! The engine never prints. It emits [`EngineEvent`]s on a channel; the terminal lines, the
//! aggregator and the result file are consumers of that channel (oha's split of engine and UI).

pub mod conn;
pub mod failure;
mod local;
pub mod request;
mod socket;
pub mod target;
#[cfg(test)]
mod tests;
pub mod tls;

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::{Barrier, watch};
use tokio::time::Instant;

use crate::config::{Config, StreamFormat};
use crate::record::RequestRecord;
use crate::tokens::Tokenizer;
use crate::workload::Workload;
use conn::Connection;
use target::PreparedRequest;

/// Longest wait for the connections opened before the clock starts. A host that drops
/// connection attempts would otherwise hold the start for the whole request timeout with
/// nothing on screen; a worker whose pre-connect fails simply connects inside its first
/// (measured) request, which then fails as `connect` or `timeout` if the host stays silent.
const PRECONNECT_LIMIT: Duration = Duration::from_secs(10);

/// What the engine reports while it runs.
#[derive(Debug)]
pub enum EngineEvent {
    /// Every worker has tried to open its connection; the clock starts now.
    Connected(Preconnect),
    /// A request saw its first token (for the seed's `[001] first token: …` line).
    FirstToken {
        /// 1-based request number.
        request_id: u64,
        /// Time to first token.
        ttft: Duration,
    },
    /// A request finished, successfully or not.
    Finished(Box<RequestRecord>),
}

/// What opening the workers' connections before the clock started found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preconnect {
    /// Connections opened.
    pub opened: u64,
    /// Connections that failed to open (or timed out); their workers' first requests try
    /// again, inside the measurement, and fail as `connect`/`tls`/`timeout` if they must.
    pub failed: u64,
    /// Wall time from the first connect to all workers being released.
    pub elapsed: Duration,
}

/// Everything a worker needs to send and measure requests; shared by all workers.
#[derive(Debug)]
pub struct Engine {
    requests: Vec<PreparedRequest>,
    timeout: Duration,
    format: StreamFormat,
    /// Counts output tokens when a stream reports no usage; loaded before any clock starts.
    tokenizer: Tokenizer,
    save_output: bool,
    detected_format: OnceLock<String>,
    preconnect: OnceLock<Preconnect>,
    /// Every connection opened in this engine's runs, pre-connects included.
    connections_opened: AtomicU64,
}

impl Engine {
    /// Prepares every distinct request of `workload`; fails on a bad method, URL or header
    /// before anything is sent.
    pub fn new(config: &Config, workload: &Workload) -> anyhow::Result<Engine> {
        let specs: Vec<_> = (0..workload.len() as u64).map(|i| workload.request(i)).collect();
        let requests = target::prepare_all(&config.method, &specs, &config.tls)?;
        if requests.is_empty() {
            anyhow::bail!("the workload has no requests");
        }
        Ok(Engine {
            requests,
            timeout: config.timeout,
            format: config.stream_format.clone(),
            tokenizer: Tokenizer::from_spec(&config.tokenizer)?,
            save_output: config.save_output,
            detected_format: OnceLock::new(),
            preconnect: OnceLock::new(),
            connections_opened: AtomicU64::new(0),
        })
    }

    /// The stream format the first finished request used, e.g. `sse/openai-chat`.
    pub fn detected_format(&self) -> Option<&str> {
        self.detected_format.get().map(String::as_str)
    }

    /// What pre-connecting found, once a run has started.
    pub fn preconnect(&self) -> Option<Preconnect> {
        self.preconnect.get().copied()
    }

    /// Connections opened so far, pre-connects included: with keep-alive working, one per
    /// worker.
    pub fn connections_opened(&self) -> u64 {
        self.connections_opened.load(Ordering::Relaxed)
    }

    /// Runs the seed's closed loop: `concurrency` requests in flight at all times; a new one
    /// starts the moment one ends; never more; until `total` have been sent.
    ///
    /// First every worker opens its connection, concurrently and before the clock starts (a
    /// lazily opened connection would add its handshake to the first round's latencies, and
    /// thousands of them at once delay the start of the load). Then all are released together.
    /// Returns the wall time from that release to the last completion.
    pub async fn run_closed_loop(
        self: &Arc<Self>,
        concurrency: u64,
        total: u64,
        events: UnboundedSender<EngineEvent>,
    ) -> Duration {
        let workers = concurrency.min(total);
        let next = Arc::new(AtomicU64::new(0));
        let opened = Arc::new(AtomicU64::new(0));
        // Two steps, so that `Connected` is sent after every connect and before any request:
        // `connected` waits for all workers, `go` releases them.
        let connected = Arc::new(Barrier::new(workers as usize + 1));
        let (go, release) = watch::channel(false);
        let preconnect_started = Instant::now();
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                let (engine, next, events) = (Arc::clone(self), Arc::clone(&next), events.clone());
                let (opened, connected) = (Arc::clone(&opened), Arc::clone(&connected));
                let mut release = release.clone();
                tokio::spawn(async move {
                    // The request this worker most likely sends first says where to connect.
                    let first = &engine.requests[(worker as usize) % engine.requests.len()];
                    let limit = engine.timeout.min(PRECONNECT_LIMIT);
                    let mut conn = Connection::open(first.target(), limit).await.ok();
                    if conn.is_some() {
                        opened.fetch_add(1, Ordering::Relaxed);
                        engine.connections_opened.fetch_add(1, Ordering::Relaxed);
                    }
                    connected.wait().await;
                    // Err: the sender is gone, only if `run_closed_loop` itself was dropped.
                    if release.wait_for(|go| *go).await.is_err() {
                        return;
                    }
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        if index >= total {
                            break;
                        }
                        let record = engine.send_one(index, &mut conn, &events).await;
                        // A closed channel means nobody listens any more: stop quietly.
                        if events.send(EngineEvent::Finished(Box::new(record))).is_err() {
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
        let _ = events.send(EngineEvent::Connected(preconnect));
        let started = Instant::now();
        go.send_replace(true);
        for worker in handles {
            // A panicking worker is a bug; surface it rather than hide lost requests.
            worker.await.expect("load worker panicked");
        }
        started.elapsed()
    }

    /// Sends request number `index` (0-based) on the worker's connection `conn` and measures
    /// it. The connection is reused when it is still open and goes to the same target.
    async fn send_one(
        &self,
        index: u64,
        conn: &mut Option<Connection>,
        events: &UnboundedSender<EngineEvent>,
    ) -> RequestRecord {
        let prepared = &self.requests[(index % self.requests.len() as u64) as usize];
        if let Some(open) = conn {
            // Before the clock: the client's own bookkeeping is not the server's latency.
            let reusable = Arc::ptr_eq(open.target(), prepared.target())
                && tokio::time::timeout(self.timeout, open.ready()).await.unwrap_or(false);
            if !reusable {
                *conn = None;
            }
        }
        let outcome = request::measure(self, prepared, conn, index + 1, events).await;
        if outcome.record.connect.is_some() {
            self.connections_opened.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(name) = &outcome.format_name {
            if self.detected_format.get().is_none() {
                let _ = self.detected_format.set(name.clone());
            }
        }
        outcome.record
    }
}
