//! Service-level objectives: `--slo 'ttft.p95<800ms'`, checked against a run's summary.
//!
//! An SLO is `metric[.stat] op threshold`. Distribution metrics (`ttft`, `e2e`, `tpot`, …)
//! take a statistic (`p95`, `mean`, …); scalar metrics (`error_rate`, `throughput`,
//! `output_token_throughput`) take none. Thresholds are stored in base units: seconds for
//! durations, a fraction for `error_rate`, per second for rates.
//!
//! [`evaluate`] checks each SLO against a [`Summary`]; [`goodput`] counts the successful
//! requests that met every per-request SLO (see [`Slo::met_by`]). A run with a failed SLO
//! exits with [`EXIT_SLO_FAILED`].
//!
//! `parse` reads the text, `metric` holds the vocabulary (metrics, statistics, operators),
//! this file evaluates, and `goodput` counts the requests that met every objective.

mod goodput;
mod metric;
mod parse;

use std::fmt;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::analyse::metrics::Summary;
use crate::measure::record::RequestRecord;
pub use goodput::{goodput, is_good};
use metric::{Metric, Op, Stat};

/// The process exit code when any SLO fails.
pub const EXIT_SLO_FAILED: u8 = 3;

/// One objective, e.g. `ttft.p95<800ms`.
///
/// Serialized as its text, and deserialized by parsing it, so a config file's `slo:` list of
/// strings reads directly into `Vec<Slo>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slo {
    /// The objective as written.
    pub text: String,
    metric: Metric,
    stat: Option<Stat>,
    op: Op,
    /// Base units: seconds, a fraction (error rate) or per second.
    threshold: f64,
}

/// The outcome of one SLO against a run's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloResult {
    /// The objective as written.
    pub slo: String,
    /// The measured value in `unit` (seconds, percent, …); `None` when the run gave nothing
    /// to measure (e.g. no successful request), which counts as a failure.
    pub measured: Option<f64>,
    /// The unit of `measured`: `"s"`, `"%"`, `"req/s"` or `"tokens/s"`.
    pub unit: String,
    /// Whether the objective was met.
    pub pass: bool,
}

impl SloResult {
    /// One report line, e.g. `ttft.p95<800ms: 0.612 s — pass`.
    pub fn describe(&self) -> String {
        let verdict = if self.pass { "pass" } else { "fail" };
        let value = match self.measured {
            Some(v) if self.unit == "s" => format!("{v:.3} s"),
            Some(v) => format!("{v:.2} {}", self.unit),
            None => "not measured".to_string(),
        };
        format!("{}: {value} — {verdict}", self.slo)
    }
}

/// Checks every SLO against `summary`, in order.
pub fn evaluate(slos: &[Slo], summary: &Summary) -> Vec<SloResult> {
    slos.iter().map(|slo| slo.check(summary)).collect()
}

/// Whether any result failed: the run should exit with [`EXIT_SLO_FAILED`].
pub fn any_failed(results: &[SloResult]) -> bool {
    results.iter().any(|r| !r.pass)
}

impl Slo {
    /// Checks this SLO against the summary's measured value.
    pub fn check(&self, summary: &Summary) -> SloResult {
        let measured = self.measure(summary);
        SloResult {
            slo: self.text.clone(),
            measured: measured.map(|v| v * self.metric.display_scale()),
            unit: self.metric.unit().to_string(),
            pass: measured.is_some_and(|v| self.op.holds(v, self.threshold)),
        }
    }

    /// For goodput: whether this SLO applies per request and, if so, whether `record` meets
    /// it. The threshold is applied to the record's own value, whatever the statistic in the
    /// text. `None` when the SLO is not per-request (`error_rate`, `throughput`,
    /// `output_token_throughput`, and `itl`, whose gaps are pooled across requests). A failed
    /// request, or one without the value, meets no per-request SLO.
    pub fn met_by(&self, record: &RequestRecord) -> Option<bool> {
        let value = self.metric.record_value(record)?;
        Some(record.is_success() && value.is_some_and(|v| self.op.holds(v, self.threshold)))
    }

    /// The summary's value in base units, or `None` when the run measured nothing.
    fn measure(&self, summary: &Summary) -> Option<f64> {
        match self.metric {
            Metric::ErrorRate => summary.error_rate(),
            Metric::Throughput => (summary.duration > 0.0).then_some(summary.throughput),
            Metric::OutputTokenThroughput => {
                (summary.duration > 0.0).then_some(summary.output_token_throughput)
            }
            _ => {
                let stats = self.metric.stats(summary)?;
                Some(self.stat.unwrap_or(Stat::P50).of(stats))
            }
        }
    }
}

impl fmt::Display for Slo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl TryFrom<String> for Slo {
    type Error = anyhow::Error;

    fn try_from(text: String) -> Result<Slo> {
        Slo::parse(&text)
    }
}

impl From<Slo> for String {
    fn from(slo: Slo) -> String {
        slo.text
    }
}

#[cfg(test)]
mod tests;
