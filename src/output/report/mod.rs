//! Outputs: every one a consumer of the [`RunResult`]; none re-measures.

pub mod import;
pub mod json;
pub mod sweep;
pub mod terminal;

pub use json::{read_result, write_result};
pub use sweep::SweepOver;
pub use terminal::{ReportInfo, render};

use serde::{Deserialize, Serialize};

use crate::analyse::metrics::Summary;
use crate::analyse::slo::SloResult;
use crate::analyse::timeseries::Second;
use crate::measure::engine::{ConnectionStats, StopReason};
use crate::measure::record::RequestRecord;
use crate::measure::selfcheck::ClientHealth;

/// Version of the result file layout.
pub const SCHEMA_VERSION: u32 = 1;

/// The tool that wrote a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// Always `streamperf`.
    pub name: String,
    /// Crate version.
    pub version: String,
}

impl Default for ToolInfo {
    fn default() -> Self {
        ToolInfo { name: "streamperf".into(), version: env!("CARGO_PKG_VERSION").into() }
    }
}

/// A whole run: the result file (README, "Result file").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Who wrote it.
    pub tool: ToolInfo,
    /// The configuration that ran, secrets redacted (seed keys: url, concurrency,
    /// total_requests, timestamp).
    pub config: serde_json::Value,
    /// Aggregates.
    pub summary: Summary,
    /// One record per request, in request order.
    pub metrics: Vec<RequestRecord>,
    /// How the load was generated and why it stopped.
    #[serde(default)]
    pub run: RunInfo,
    /// The client's own health during the run (the self-check).
    #[serde(default)]
    pub client: Option<ClientHealth>,
    /// How the run (the last level, in a sweep) used its connections.
    #[serde(default)]
    pub connections: ConnectionStats,
    /// One entry per second of the run (of the last level, in a sweep).
    #[serde(default)]
    pub timeseries: Vec<Second>,
    /// Each `--slo` with its measured value and verdict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slos: Vec<SloResult>,
    /// A sweep's levels, in the order run; empty for a single run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<LevelResult>,
    /// The records file beside the result, which holds every request's record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<RecordsInfo>,
    /// The run's histograms, losslessly (a single run's, not a sweep's): what `streamperf
    /// merge` adds up across shards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<crate::analyse::metrics::Aggregator>,
    /// A merged result's shards (`streamperf merge`), each as its own result said.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<ShardRun>,
}

/// One shard of a merged run, as its own result said: what the report and the HTML show side
/// by side, and the shard's own client self-check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShardRun {
    /// The file it came from.
    pub file: String,
    /// Its `--shard` index; none for a records file or a run of its own.
    pub index: Option<u64>,
    /// When its load started, Unix seconds.
    pub started_unix: Option<f64>,
    /// How far from `--start-at` it started, seconds (positive: late).
    pub start_skew: Option<f64>,
    /// Its own duration, seconds.
    pub duration: f64,
    /// Requests it measured.
    pub total_requests: u64,
    /// Of those, successful.
    pub success_count: u64,
    /// Its TTFT P50, seconds.
    pub ttft_p50: Option<f64>,
    /// Its TTFT P99, seconds.
    pub ttft_p99: Option<f64>,
    /// Its output tokens per second.
    pub output_token_throughput: f64,
    /// Its client's self-check.
    pub client: Option<ClientHealth>,
}

/// Where every record of a run is, and how many of them `metrics` holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordsInfo {
    /// The records file (JSON lines), as the run wrote its path.
    pub file: String,
    /// Records in the file: every request the run finished.
    pub total: u64,
    /// Records in `metrics` (`--max-records-in-result`).
    pub in_result: u64,
}

impl RecordsInfo {
    /// Whether `metrics` holds only part of the records.
    pub fn truncated(&self) -> bool {
        self.in_result < self.total
    }
}

impl RunResult {
    /// The records the top-level summary describes: every request of a single run, or of a
    /// sweep's last level.
    pub fn last_level_records(&self) -> impl Iterator<Item = &RequestRecord> {
        let last = self.levels.len().checked_sub(1).map(|i| i as u32);
        self.metrics.iter().filter(move |r| r.level == last)
    }

    /// Of those, the measured ones: successful and not warm-up (what the distributions hold).
    pub fn measured_records(&self) -> impl Iterator<Item = &RequestRecord> {
        self.last_level_records().filter(|r| r.is_success() && !r.warmup)
    }
}

/// One level of a sweep: the concurrency or rate it ran at and everything measured there.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LevelResult {
    /// The closed-loop concurrency of this level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u64>,
    /// The open-loop rate of this level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Aggregates of this level.
    pub summary: Summary,
    /// How this level ran and why it stopped.
    pub run: RunInfo,
    /// The client's health during this level.
    pub client: Option<ClientHealth>,
    /// How this level used its connections.
    pub connections: ConnectionStats,
    /// One entry per second of this level.
    pub timeseries: Vec<Second>,
}

impl LevelResult {
    /// The level `value` of a sweep `over` concurrency or rate.
    pub fn new(
        over: SweepOver,
        value: f64,
        summary: &Summary,
        run: &RunInfo,
        client: &Option<ClientHealth>,
        timeseries: &[Second],
    ) -> Self {
        LevelResult {
            concurrency: (over == SweepOver::Concurrency).then_some(value as u64),
            rate: (over == SweepOver::Rate).then_some(value),
            summary: summary.clone(),
            run: run.clone(),
            client: client.clone(),
            connections: ConnectionStats::default(),
            timeseries: timeseries.to_vec(),
        }
    }

    /// `p=4` or `5 req/s`: the level as the sweep table names it.
    pub fn label(&self) -> String {
        match (self.concurrency, self.rate) {
            (Some(p), _) => format!("p={p}"),
            (_, Some(r)) => format!("{r} req/s"),
            _ => "?".into(),
        }
    }
}

/// How the load was generated and why it stopped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunInfo {
    /// `closed` (fixed concurrency) or `open` (a rate).
    pub load_model: String,
    /// With `--start-at`: how far from it the load started, seconds (positive: late).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_skew: Option<f64>,
    /// When the load started, Unix seconds (wall clock): shards' results line up by it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_unix: Option<f64>,
    /// Why sending stopped.
    pub stop_reason: Option<StopReason>,
    /// The user interrupted the run (Ctrl-C); every request that finished is in it.
    pub interrupted: bool,
    /// At a deadline or interruption, requests in flight were `awaited` or `cancelled`.
    pub in_flight_at_stop: Option<String>,
    /// Open loop: the rate asked for, requests per second.
    pub target_rate: Option<f64>,
    /// Open loop: the rate requests actually left at.
    pub achieved_rate: Option<f64>,
    /// Open loop: requests that waited for `--max-in-flight`.
    pub queued_sends: u64,
    /// Warm-up requests (in `metrics`, left out of `summary`).
    pub warmup_requests: u64,
}
