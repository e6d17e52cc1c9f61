//! What an SLO can name: the metrics (with their aliases, units and where a summary or a
//! record keeps them), the statistics of a distribution, and the comparison operators.

use crate::analyse::metrics::{Stats, Summary};
use crate::measure::record::RequestRecord;

/// A metric an SLO can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Metric {
    Ttft,
    Ttfb,
    Ttfat,
    E2e,
    Itl,
    Tpot,
    MaxGap,
    QueueWait,
    TokensPerSecond,
    ErrorRate,
    Throughput,
    OutputTokenThroughput,
}

/// Accepted metric names (aliases included), for parsing and error messages.
pub(super) const METRICS: &[(&str, Metric)] = &[
    ("ttft", Metric::Ttft),
    ("ttfb", Metric::Ttfb),
    ("ttfat", Metric::Ttfat),
    ("e2e", Metric::E2e),
    ("total_time", Metric::E2e),
    ("itl", Metric::Itl),
    ("tpot", Metric::Tpot),
    ("max_gap", Metric::MaxGap),
    ("queue_wait", Metric::QueueWait),
    ("tokens_per_second", Metric::TokensPerSecond),
    ("error_rate", Metric::ErrorRate),
    ("throughput", Metric::Throughput),
    ("output_token_throughput", Metric::OutputTokenThroughput),
    ("output_tokens_per_s", Metric::OutputTokenThroughput),
];

impl Metric {
    pub(super) fn from_name(name: &str) -> Option<Metric> {
        METRICS.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
    }

    /// Whether the metric is a distribution and so takes a statistic.
    pub(super) fn has_stats(self) -> bool {
        !matches!(self, Metric::ErrorRate | Metric::Throughput | Metric::OutputTokenThroughput)
    }

    pub(super) fn is_duration(self) -> bool {
        self.has_stats() && self != Metric::TokensPerSecond
    }

    pub(super) fn unit(self) -> &'static str {
        match self {
            Metric::ErrorRate => "%",
            Metric::Throughput => "req/s",
            Metric::TokensPerSecond | Metric::OutputTokenThroughput => "tokens/s",
            _ => "s",
        }
    }

    /// Base units → the unit shown in [`super::SloResult`] (a fraction → percent).
    pub(super) fn display_scale(self) -> f64 {
        if self == Metric::ErrorRate { 100.0 } else { 1.0 }
    }

    pub(super) fn stats(self, s: &Summary) -> Option<&Stats> {
        let stats = match self {
            Metric::Ttft => &s.ttft,
            Metric::Ttfb => &s.ttfb,
            Metric::Ttfat => &s.ttfat,
            Metric::E2e => &s.total_time,
            Metric::Itl => &s.itl,
            Metric::Tpot => &s.tpot,
            Metric::MaxGap => &s.max_gap,
            Metric::QueueWait => &s.queue_wait,
            Metric::TokensPerSecond => &s.tokens_per_second,
            _ => return None,
        };
        stats.as_ref()
    }

    /// The record's own value: `None` when not per-request, `Some(None)` when it lacks one.
    pub(super) fn record_value(self, r: &RequestRecord) -> Option<Option<f64>> {
        let duration = match self {
            Metric::Ttft => r.ttft,
            Metric::Ttfb => r.ttfb,
            Metric::Ttfat => r.ttfat,
            Metric::E2e => r.total_time,
            Metric::Tpot => r.tpot,
            Metric::MaxGap => r.max_gap,
            Metric::QueueWait => r.queue_wait,
            Metric::TokensPerSecond => return Some(r.tokens_per_second),
            _ => return None,
        };
        Some(duration.map(|d| d.as_secs_f64()))
    }
}

/// A statistic of a distribution metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stat {
    P50,
    P90,
    P95,
    P99,
    Mean,
    Median,
    Max,
    Min,
}

pub(super) const STATS: &[(&str, Stat)] = &[
    ("p50", Stat::P50),
    ("p90", Stat::P90),
    ("p95", Stat::P95),
    ("p99", Stat::P99),
    ("mean", Stat::Mean),
    ("median", Stat::Median),
    ("max", Stat::Max),
    ("min", Stat::Min),
];

impl Stat {
    pub(super) fn from_name(name: &str) -> Option<Stat> {
        STATS.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
    }

    pub(super) fn of(self, s: &Stats) -> f64 {
        match self {
            Stat::P50 => s.p50,
            Stat::P90 => s.p90,
            Stat::P95 => s.p95,
            Stat::P99 => s.p99,
            Stat::Mean => s.mean,
            Stat::Median => s.median,
            Stat::Max => s.max,
            Stat::Min => s.min,
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    pub(super) fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Op::Lt => value < threshold,
            Op::Le => value <= threshold,
            Op::Gt => value > threshold,
            Op::Ge => value >= threshold,
        }
    }
}
