//! The aggregates a run's result carries: [`Summary`] and its per-metric [`Stats`]. Apart from
//! the [`Aggregator`](super::Aggregator) that fills them, because every output and the result
//! file read these types and never the histograms behind them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Bucket;
use crate::measure::record::ErrorClass;

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

/// The run's summary: the result file's `summary` (README, "Result file").
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
    /// Input plus output tokens of successful requests ÷ duration; `null` when no request
    /// reported its input tokens.
    #[serde(default)]
    pub total_token_throughput: Option<f64>,
    /// Failure counts by class.
    pub failures: BTreeMap<ErrorClass, u64>,
    /// First example message of each failure class.
    pub failure_examples: BTreeMap<ErrorClass, String>,
    /// `http_status` failures by status code (`{"429": 10, "503": 2}`).
    #[serde(default)]
    pub failures_by_status: BTreeMap<u16, u64>,
    /// Time to first token.
    pub ttft: Option<Stats>,
    /// Time to first byte.
    pub ttfb: Option<Stats>,
    /// Time to first answer token.
    pub ttfat: Option<Stats>,
    /// End-to-end time.
    pub total_time: Option<Stats>,
    /// Inter-token latency (per content chunk, pooled).
    pub itl: Option<Stats>,
    /// Inter-token latency per token: each chunk gap divided by the tokens that chunk
    /// carried, weighted by them (pooled).
    #[serde(default)]
    pub itl_token: Option<Stats>,
    /// Longest gap of each request (stalls).
    #[serde(default)]
    pub max_gap: Option<Stats>,
    /// Requests per second that met every per-request SLO (`--slo`); `null` without SLOs.
    #[serde(default)]
    pub goodput: Option<f64>,
    /// Time requests waited in the client before being sent (open loop with a cap).
    #[serde(default)]
    pub queue_wait: Option<Stats>,
    /// TTFT from the actual send rather than the intended one (the service-time view).
    #[serde(default)]
    pub service_ttft: Option<Stats>,
    /// End-to-end time from the actual send (the service-time view).
    #[serde(default)]
    pub service_total_time: Option<Stats>,
    /// Time per output token.
    pub tpot: Option<Stats>,
    /// Per-request decode rate.
    pub tokens_per_second: Option<Stats>,
    /// Per-request chunks ÷ e2e.
    pub chunks_per_second: Option<Stats>,
    /// Output tokens per request.
    pub output_tokens: Option<Stats>,
    /// Input (prompt) tokens per request, where the server reported them: the ISL beside the
    /// OSL of `output_tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<Stats>,
    /// Successful requests whose body asked for an output length (`--output-tokens`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub asked_output_tokens: u64,
    /// Of those, the ones whose answer was shorter than asked: the server stopped early.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub early_stops: u64,
    /// Successful requests whose answer held no output token: complete, but empty (a warning
    /// in the report, not a failure).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub empty_count: u64,
    /// Sum of the output tokens of successful requests.
    #[serde(default)]
    pub total_output_tokens: u64,
    /// Sum of the input tokens reported by successful requests.
    #[serde(default)]
    pub total_input_tokens: u64,
    /// Successful requests that reported their input tokens.
    #[serde(default)]
    pub input_tokens_reported: u64,
    /// Sum of the reasoning tokens reported by successful requests.
    #[serde(default)]
    pub total_reasoning_tokens: u64,
    /// Sum of the input tokens servers said they read from their prefix cache.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub total_cached_tokens: u64,
    /// The input tokens of the requests that said how many were cached.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_reported_input_tokens: u64,
    /// Cached input tokens ÷ input tokens, over the requests that reported both: the prefix
    /// cache's hit rate as the server counts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_hit_rate: Option<f64>,
    /// TTFT of sessions' first turns (`--turns`): nothing of the conversation cached yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_first_turn: Option<Stats>,
    /// TTFT of sessions' later turns, which carry the conversation so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_later_turns: Option<Stats>,
    /// How many successful requests took their token count from each source (`usage`,
    /// `tokenizer`, `chars`, `events`, `chunks`).
    #[serde(default)]
    pub token_sources: BTreeMap<String, u64>,
    /// The pooled inter-token latencies (per chunk) as at most
    /// [`HISTOGRAM_BUCKETS`](super::HISTOGRAM_BUCKETS) buckets, seconds: the per-request gaps are
    /// not kept in the result, so this is what a report draws the ITL distribution from. Empty when
    /// there were no gaps (and in older files).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub itl_histogram: Vec<Bucket>,
}

impl Summary {
    /// The share of requests that failed, 0..1; `None` for a run without requests. The one
    /// definition the SLOs, the report, the HTML page and `compare` use.
    pub fn error_rate(&self) -> Option<f64> {
        (self.total_requests > 0).then(|| self.failed_count as f64 / self.total_requests as f64)
    }

    /// The share of requests that succeeded, 0..1; `None` for a run without requests.
    pub fn success_rate(&self) -> Option<f64> {
        (self.total_requests > 0).then(|| self.success_count as f64 / self.total_requests as f64)
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
