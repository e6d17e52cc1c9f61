//! Aggregation: per-request records → the run's summary, by HDR histograms (3 significant
//! digits, microseconds), with exact min/max/mean/stddev kept beside them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::record::{ErrorClass, RequestRecord};

/// Distribution statistics of one metric (seconds for times, per-second for rates).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median (equals p50).
    pub median: f64,
    /// Population standard deviation.
    pub stddev: f64,
    /// 50th percentile.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Number of values.
    pub count: u64,
}

/// The run's summary: the result file's `summary` (DESIGN §7).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Successful requests.
    pub success_count: u64,
    /// Failed requests.
    pub failed_count: u64,
    /// Requests sent.
    pub total_requests: u64,
    /// Wall-clock duration of the run, seconds.
    pub duration: f64,
    /// Successful requests ÷ duration.
    pub throughput: f64,
    /// Output tokens of successful requests ÷ duration.
    pub output_token_throughput: f64,
    /// Failure counts by class.
    pub failures: BTreeMap<ErrorClass, u64>,
    /// First example message of each failure class.
    pub failure_examples: BTreeMap<ErrorClass, String>,
    /// Time to first token.
    pub ttft: Option<Stats>,
    /// Time to first byte.
    pub ttfb: Option<Stats>,
    /// Time to first answer token.
    pub ttfat: Option<Stats>,
    /// End-to-end time.
    pub total_time: Option<Stats>,
    /// Inter-token latency (per content event, pooled).
    pub itl: Option<Stats>,
    /// Time per output token.
    pub tpot: Option<Stats>,
    /// Per-request decode rate.
    pub tokens_per_second: Option<Stats>,
    /// Per-request chunks ÷ e2e.
    pub chunks_per_second: Option<Stats>,
    /// Output tokens per request.
    pub output_tokens: Option<Stats>,
}

/// Collects records into histograms.
#[derive(Debug)]
pub struct Aggregator {}

impl Aggregator {
    /// An empty aggregator.
    pub fn new() -> Self {
        todo!()
    }

    /// Adds one finished request.
    pub fn add(&mut self, record: &RequestRecord) {
        let _ = record;
        todo!()
    }

    /// The summary of everything added, over a run of wall time `duration`.
    pub fn summary(&self, duration: Duration) -> Summary {
        let _ = duration;
        todo!()
    }
}

impl Default for Aggregator {
    fn default() -> Self {
        Self::new()
    }
}
