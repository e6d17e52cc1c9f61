//! The metric rows of a comparison: every summary metric of A and B, the change in percent and
//! whether the change is better or worse (lower latency, higher throughput and a lower error
//! rate are better).

use serde::Serialize;

use crate::analyse::metrics::{Stats, Summary};

/// Which way a change goes for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// B is better than A.
    Better,
    /// B is worse than A.
    Worse,
    /// The change is under `NOISE_PCT` percent.
    Same,
}

/// Changes smaller than this many percent get no better/worse hint.
pub const NOISE_PCT: f64 = 2.0;

/// One metric of both runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricRow {
    /// e.g. `ttft.p50`, `throughput`.
    pub metric: String,
    /// Unit of `a` and `b`: `s`, `req/s`, `tokens/s`, `%`, or empty for counts.
    pub unit: &'static str,
    /// A's value.
    pub a: Option<f64>,
    /// B's value.
    pub b: Option<f64>,
    /// (B − A) ÷ A in percent; for `error_rate`, B − A in percentage points.
    pub change: Option<f64>,
    /// Better or worse for B; `None` for metrics with no better side (counts).
    pub direction: Option<Direction>,
}

/// Whether a bigger value is better.
#[derive(Clone, Copy, PartialEq)]
enum Sense {
    Lower,
    Higher,
    Neutral,
}

/// A distribution of the summary.
type DistOf = fn(&Summary) -> &Option<Stats>;
/// A statistic of a distribution.
type StatOf = fn(&Stats) -> f64;
/// A single number of the summary.
type ScalarOf = fn(&Summary) -> Option<f64>;

/// Every metric the two summaries hold, in report order.
pub fn metric_rows(a: &Summary, b: &Summary) -> Vec<MetricRow> {
    let mut rows = Vec::new();
    let dists: [(&str, DistOf, Sense, &'static str); 9] = [
        ("ttft", |s| &s.ttft, Sense::Lower, "s"),
        ("ttfat", |s| &s.ttfat, Sense::Lower, "s"),
        ("ttfb", |s| &s.ttfb, Sense::Lower, "s"),
        ("e2e", |s| &s.total_time, Sense::Lower, "s"),
        ("itl", |s| &s.itl, Sense::Lower, "s"),
        ("tpot", |s| &s.tpot, Sense::Lower, "s"),
        ("max_gap", |s| &s.max_gap, Sense::Lower, "s"),
        ("tokens_per_second", |s| &s.tokens_per_second, Sense::Higher, "tokens/s"),
        ("output_tokens", |s| &s.output_tokens, Sense::Neutral, ""),
    ];
    for (name, get, sense, unit) in dists {
        let (x, y) = (get(a).as_ref(), get(b).as_ref());
        if x.is_none() && y.is_none() {
            continue;
        }
        let stats: [(&str, StatOf); 4] =
            [("p50", |s| s.p50), ("p90", |s| s.p90), ("p99", |s| s.p99), ("mean", |s| s.mean)];
        for (stat, of) in stats {
            rows.push(row(format!("{name}.{stat}"), unit, x.map(of), y.map(of), sense));
        }
    }
    let scalars: [(&str, ScalarOf, Sense, &'static str); 6] = [
        ("throughput", |s| Some(s.throughput), Sense::Higher, "req/s"),
        ("output_token_throughput", |s| Some(s.output_token_throughput), Sense::Higher, "tokens/s"),
        ("total_token_throughput", |s| s.total_token_throughput, Sense::Higher, "tokens/s"),
        ("goodput", |s| s.goodput, Sense::Higher, "req/s"),
        ("requests", |s| Some(s.total_requests as f64), Sense::Neutral, ""),
        ("successful", |s| Some(s.success_count as f64), Sense::Neutral, ""),
    ];
    for (name, get, sense, unit) in scalars {
        let (x, y) = (get(a), get(b));
        if x.is_some() || y.is_some() {
            rows.push(row(name.to_string(), unit, x, y, sense));
        }
    }
    rows.push(error_rate(a, b));
    rows
}

fn row(
    metric: String,
    unit: &'static str,
    a: Option<f64>,
    b: Option<f64>,
    sense: Sense,
) -> MetricRow {
    let change = match (a, b) {
        (Some(x), Some(y)) if x != 0.0 => Some((y - x) / x.abs() * 100.0),
        (Some(x), Some(y)) if x == y => Some(0.0),
        _ => None,
    };
    MetricRow { metric, unit, a, b, change, direction: direction(change, sense) }
}

/// The error rate in percent; its change in percentage points (a change from 0 % has no
/// percentage).
fn error_rate(a: &Summary, b: &Summary) -> MetricRow {
    let rate = |s: &Summary| s.error_rate().map(|r| r * 100.0);
    let (x, y) = (rate(a), rate(b));
    let change = x.zip(y).map(|(x, y)| y - x);
    // Points, not percent: any change of a tenth of a point is worth a hint.
    let direction = change.map(|c| match c {
        c if c <= -0.1 => Direction::Better,
        c if c >= 0.1 => Direction::Worse,
        _ => Direction::Same,
    });
    MetricRow { metric: "error_rate".into(), unit: "%", a: x, b: y, change, direction }
}

fn direction(change: Option<f64>, sense: Sense) -> Option<Direction> {
    let change = change?;
    if sense == Sense::Neutral {
        return None;
    }
    Some(match change {
        c if c.abs() < NOISE_PCT => Direction::Same,
        c if (c < 0.0) == (sense == Sense::Lower) => Direction::Better,
        _ => Direction::Worse,
    })
}
