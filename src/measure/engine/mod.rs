//! The measuring engine: closed-loop (`closed`) and open-loop ([`open`]) load, one
//! connection per worker.
//!
//! Each worker owns one HTTP connection and drives it in its own task ([`conn`]), so a body
//! frame is read and timestamped without crossing tasks. Connections are opened before the
//! clock starts and kept alive from one request to the next. [`control`] stops a run early
//! without losing it; `backoff` brakes on a target that refuses connections.
//!
//! The engine never prints. It emits [`EngineEvent`]s on a channel; the terminal lines, the
//! aggregator and the result file are consumers of that channel (oha's split of engine and UI).

mod backoff;
mod closed;
pub mod conn;
mod connections;
pub mod control;
pub mod failure;
pub mod fetch;
mod local;
pub mod open;
pub mod proxy;
mod reading;
mod redirect;
pub mod request;
pub mod sessions;
mod socket;
pub mod target;
pub mod tls;
mod tls_options;
mod whole;
mod worker;

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::measure::protocol::StreamFormat;
use crate::measure::record::RequestRecord;
use crate::measure::tokens::Tokenizer;
pub use backoff::UNREACHABLE_AFTER;
pub use closed::ClosedLoop;
use conn::Connection;
pub use connections::ConnectionStats;
use connections::Counters;
pub use control::{Phase, RunControl, StopReason};
pub use open::OpenLoop;
use redirect::Redirects;
pub use sessions::{History, SessionSource};
use target::PreparedRequest;
pub use target::RequestSpec;
pub use tls_options::TlsOptions;

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
    /// A request was handed to its connection.
    Started {
        /// 1-based request number.
        request_id: u64,
        /// When it was sent.
        at: Instant,
    },
    /// A request saw its first token (for the original tool's `[001] first token: …` line).
    FirstToken {
        /// 1-based request number.
        request_id: u64,
        /// Time to first token.
        ttft: Duration,
        /// When it arrived.
        at: Instant,
    },
    /// A request finished, successfully or not.
    Finished {
        /// Its measurements.
        record: Box<RequestRecord>,
        /// When it finished.
        at: Instant,
    },
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

/// What the engine needs of a run's configuration: plain values, so that the measuring core
/// knows nothing of config files or flags (`Config::engine_settings` builds them).
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// HTTP method of every request.
    pub method: String,
    /// Longest a whole request may take.
    pub timeout: Duration,
    /// How response bodies are framed and interpreted.
    pub format: StreamFormat,
    /// Token counter when a stream reports no usage: a name or a `tokenizer.json` path.
    pub tokenizer: String,
    /// Keep each response's extracted text in its record.
    pub save_output: bool,
    /// Requests kept apart from the statistics.
    pub warmup: Warmup,
    /// How https servers are verified.
    pub tls: TlsOptions,
    /// The proxy each target goes through.
    pub proxy: proxy::ProxySettings,
    /// Redirects one request may follow.
    pub max_redirects: u32,
}

/// Bodies made for each request number, when a workload has more distinct requests than it
/// could render up front (a synthetic prompt per request). Called before the request's clock
/// starts; it must be cheap (microseconds; a dataset counts a record's prompt on its first
/// use) and the same for the same number.
pub trait BodySource: Send + Sync + std::fmt::Debug {
    /// The body of request number `index` (0-based).
    fn body(&self, index: u64) -> MadeBody;
}

/// A body made for one request, and the output length it asks for (kept in the record, so the
/// report can count the answers that stopped short).
#[derive(Debug, Clone, Default)]
pub struct MadeBody {
    /// The request body.
    pub bytes: bytes::Bytes,
    /// The output length asked for, if the body asks for one.
    pub output_tokens: Option<u64>,
    /// The prompt's length as built, for a record whose server reports none.
    pub input_tokens: Option<u64>,
    /// Headers of this request's own (a trace row's), over the configured ones; checked
    /// when the workload was read.
    pub headers: Vec<(String, String)>,
}

/// Everything a worker needs to send and measure requests; shared by all workers.
#[derive(Debug)]
pub struct Engine {
    requests: Vec<PreparedRequest>,
    /// Each request's own body, when the workload makes one per request.
    bodies: Option<Arc<dyn BodySource>>,
    /// Where 3xx answers lead (`--max-redirects`).
    redirects: Redirects,
    timeout: Duration,
    format: StreamFormat,
    /// Counts output tokens when a stream reports no usage; loaded before any clock starts.
    tokenizer: Tokenizer,
    save_output: bool,
    warmup: Warmup,
    /// When the load started (after pre-connecting).
    started: OnceLock<Instant>,
    detected_format: OnceLock<String>,
    preconnect: OnceLock<Preconnect>,
    /// How this engine's runs used their connections, pre-connects included.
    connections: connections::Counters,
    /// Requests in a row, across workers, that could not connect.
    connect_failures_in_a_row: AtomicU64,
    /// Multi-turn sessions: each job is a conversation whose turns wait for the replies.
    sessions: Option<Arc<dyn SessionSource>>,
    /// The next request number, when jobs are sessions of several requests.
    next_request: AtomicU64,
    /// This process's part of a sharded run: (index, count).
    shard: Option<(u64, u64)>,
    /// When the load is to start (`--start-at`), connections opened before.
    start_at: Option<std::time::SystemTime>,
    /// How far from `start_at` the load actually started, seconds (late is positive).
    start_skew: OnceLock<f64>,
    /// When the load started, wall clock.
    started_wall: OnceLock<std::time::SystemTime>,
}

impl Engine {
    /// Prepares every distinct request of `specs` (sent in order, cycled); fails on a bad
    /// method, URL or header before anything is sent.
    pub fn new(settings: &EngineSettings, specs: &[RequestSpec]) -> anyhow::Result<Engine> {
        let specs: Vec<&RequestSpec> = specs.iter().collect();
        let s = settings;
        let requests = target::prepare_all(&s.method, &specs, &s.tls, &s.proxy)?;
        if requests.is_empty() {
            anyhow::bail!("the workload has no requests");
        }
        let redirects = Redirects::new(s.max_redirects, &s.tls, &s.proxy, &requests);
        Ok(Engine {
            requests,
            bodies: None,
            redirects,
            timeout: s.timeout,
            format: s.format.clone(),
            tokenizer: Tokenizer::from_spec(&s.tokenizer)?,
            save_output: s.save_output,
            warmup: s.warmup,
            started: OnceLock::new(),
            detected_format: OnceLock::new(),
            preconnect: OnceLock::new(),
            connections: connections::Counters::default(),
            connect_failures_in_a_row: AtomicU64::new(0),
            sessions: None,
            next_request: AtomicU64::new(0),
            shard: None,
            start_at: None,
            start_skew: OnceLock::new(),
            started_wall: OnceLock::new(),
        })
    }

    /// Sends every request with the body `bodies` makes for its number, in place of the
    /// specs' own (their URLs and headers still apply).
    pub fn with_bodies(mut self, bodies: Arc<dyn BodySource>) -> Engine {
        self.bodies = Some(bodies);
        self
    }

    /// Runs multi-turn sessions: each job of the loop (a closed-loop slot, an open-loop
    /// arrival) is session number `job`, whose turns `sessions` makes from the replies so far.
    pub fn with_sessions(mut self, sessions: Arc<dyn SessionSource>) -> Engine {
        self.sessions = Some(sessions);
        self
    }

    /// Runs shard `index` of `count`: job k is the run's job `index + k × count` (its body,
    /// data row, request number and warm-up judged as in the one-process run).
    pub fn with_shard(mut self, index: u64, count: u64) -> Engine {
        self.shard = Some((index, count));
        self
    }

    /// Starts the load at `at` (wall clock), after connecting: shards on several machines start
    /// together.
    pub fn with_start_at(mut self, at: std::time::SystemTime) -> Engine {
        self.start_at = Some(at);
        self
    }

    /// When the load started, Unix seconds (wall clock).
    pub fn started_unix(&self) -> Option<f64> {
        let at = self.started_wall.get()?;
        at.duration_since(std::time::UNIX_EPOCH).ok().map(|d| d.as_secs_f64())
    }

    /// `at` on the wall clock, Unix seconds: the load's start plus the time since it.
    fn unix_of(&self, at: Instant) -> Option<f64> {
        let started = *self.started.get()?;
        let since = at.saturating_duration_since(started).as_secs_f64();
        let before = started.saturating_duration_since(at).as_secs_f64();
        Some(self.started_unix()? + since - before)
    }

    /// How far from `--start-at` the load started, seconds (positive: late).
    pub fn start_skew(&self) -> Option<f64> {
        self.start_skew.get().copied()
    }

    /// Waits, connections open, for the `--start-at` instant (at once when it has passed),
    /// unless the run is stopped first; notes how far off the start was.
    async fn wait_for_start(&self, control: &RunControl) {
        let Some(at) = self.start_at else { return };
        if let Ok(ahead) = at.duration_since(std::time::SystemTime::now()) {
            tokio::select! {
                _ = tokio::time::sleep(ahead) => {}
                _ = control.reached(Phase::Draining) => {}
            }
        }
        let skew = match std::time::SystemTime::now().duration_since(at) {
            Ok(late) => late.as_secs_f64(),
            Err(early) => -early.duration().as_secs_f64(),
        };
        let _ = self.start_skew.set(skew);
    }

    /// Whether answers are kept while they stream: for `--save-output`, and for sessions,
    /// whose next turn sends them back.
    fn keeps_answers(&self) -> bool {
        self.save_output || self.sessions.is_some()
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
        self.connections.snapshot().opened
    }

    /// How the connections were used so far.
    pub fn connection_stats(&self) -> ConnectionStats {
        self.connections.snapshot()
    }

    /// Stops the run as `unreachable` when nothing has ever connected and
    /// [`UNREACHABLE_AFTER`] requests in a row could not.
    fn judge_reachability(&self, failed_to_connect: bool, control: &RunControl) {
        let in_a_row = &self.connect_failures_in_a_row;
        if !failed_to_connect {
            // Read first: a healthy run never writes the shared counter.
            if in_a_row.load(Ordering::Relaxed) != 0 {
                in_a_row.store(0, Ordering::Relaxed);
            }
            return;
        }
        let failures = in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
        if failures >= UNREACHABLE_AFTER && self.connections_opened() == 0 {
            control.stop_sending(StopReason::Unreachable);
        }
    }

    /// Opens one connection for a worker before the clock starts; `None` when it fails (the
    /// worker's first request then connects inside the measurement).
    async fn preconnect_one(&self, worker: u64) -> Option<Connection> {
        // The request this worker most likely sends first says where to connect.
        let first = &self.requests[(worker as usize) % self.requests.len()];
        let limit = self.timeout.min(PRECONNECT_LIMIT);
        let conn = Connection::open(first.target(), limit).await.ok();
        if conn.is_some() {
            Counters::bump(&self.connections.opened);
        }
        conn
    }

    /// Marks the instant the load started (after pre-connecting), for duration warm-ups.
    fn mark_started(&self) -> Instant {
        let _ = self.started_wall.get_or_init(std::time::SystemTime::now);
        *self.started.get_or_init(Instant::now)
    }

    /// When the load started; `now` before it has.
    fn started(&self) -> Instant {
        self.started.get().copied().unwrap_or_else(Instant::now)
    }
}

/// Requests whose measurements are kept apart from the statistics (`--warmup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Warmup {
    /// No warm-up.
    #[default]
    None,
    /// The first N requests.
    Requests(u64),
    /// Requests scheduled within this long of the start.
    Duration(Duration),
}

impl Warmup {
    /// Whether request `index` (0-based), scheduled at `sched` in a load started at `start`,
    /// is a warm-up request.
    pub fn covers(self, index: u64, sched: Instant, start: Instant) -> bool {
        match self {
            Warmup::None => false,
            Warmup::Requests(n) => index < n,
            Warmup::Duration(d) => sched.saturating_duration_since(start) < d,
        }
    }
}
