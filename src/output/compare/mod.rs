//! `streamperf compare RUN_A RUN_B`: two runs side by side, every summary metric with its
//! change in percent and whether that change is better or worse, and for the TTFT and
//! end-to-end distributions whether the difference is statistically significant.
//!
//! A run is named by its history id (`12`, `#12`), a label (its latest run) or a result file
//! (`*.json`). The significance rule ([`Rule`]): the Mann–Whitney U test ([`mannwhitney`])
//! on the successful, non-warm-up requests gives p < α, AND the medians differ by at least a
//! minimum practical effect (5 % by default). The second half matters: with thousands of
//! requests against a steady server, a shift of a fraction of a millisecond already gives
//! p ≈ 0, yet nobody would call two such runs different.

pub mod mannwhitney;
pub mod render;
mod rows;

use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::analyse::metrics::Summary;
use crate::output::history::History;

pub use rows::{Direction, MetricRow, metric_rows};

/// One side of the comparison.
#[derive(Debug, Clone)]
pub struct Side {
    /// How the user named it, resolved: `#12 model-a`, or the file path.
    pub name: String,
    /// When it ran (stored time for history runs, the result's timestamp for files).
    pub time: Option<String>,
    /// The summary (the last level's, for a sweep).
    pub summary: Summary,
    /// TTFTs of the successful, non-warm-up requests, seconds.
    pub ttft: Vec<f64>,
    /// End-to-end times of the same requests, seconds.
    pub e2e: Vec<f64>,
}

/// When a distribution difference is flagged significant.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rule {
    /// Significance level: p must be below it.
    pub alpha: f64,
    /// Minimum practical effect: |median B − median A| ÷ median A must reach it (a fraction).
    pub min_effect: f64,
}

impl Default for Rule {
    fn default() -> Self {
        Rule { alpha: 0.05, min_effect: 0.05 }
    }
}

impl Rule {
    /// The rule from `--alpha` (between 0 and 1) and `--min-effect` (`5%` or `0.05`); an error
    /// names the flag.
    pub fn parse(alpha: f64, min_effect: &str) -> anyhow::Result<Rule> {
        Ok(Rule { alpha: parse_alpha(alpha)?, min_effect: parse_effect(min_effect)? })
    }
}

/// The name of the test, as shown.
pub const METHOD: &str = "Mann-Whitney U, two-sided, normal approximation with tie correction";

/// One distribution tested.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Significance {
    /// `ttft` or `e2e`.
    pub metric: String,
    /// Median of A and of B, seconds (exact, from the samples).
    pub median_a: f64,
    /// See `median_a`.
    pub median_b: f64,
    /// (median B − median A) ÷ median A, percent.
    pub median_change_pct: Option<f64>,
    /// The test's outcome.
    pub test: mannwhitney::MannWhitney,
    /// p < α and the median change reached the minimum effect.
    pub significant: bool,
}

/// Everything `compare` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Run A's name.
    pub a: String,
    /// Run B's name.
    pub b: String,
    /// When A ran.
    pub a_time: Option<String>,
    /// When B ran.
    pub b_time: Option<String>,
    /// Every summary metric.
    pub metrics: Vec<MetricRow>,
    /// The significance method.
    pub method: &'static str,
    /// α and the minimum effect.
    pub rule: Rule,
    /// TTFT and e2e tests (absent where a side has no successful request).
    pub tests: Vec<Significance>,
}

/// Compares two sides under `rule`.
pub fn compare(a: &Side, b: &Side, rule: Rule) -> Comparison {
    let tests = [("ttft", &a.ttft, &b.ttft), ("e2e", &a.e2e, &b.e2e)]
        .into_iter()
        .filter_map(|(metric, x, y)| significance(metric, x, y, rule))
        .collect();
    Comparison {
        a: a.name.clone(),
        b: b.name.clone(),
        a_time: a.time.clone(),
        b_time: b.time.clone(),
        metrics: metric_rows(&a.summary, &b.summary),
        method: METHOD,
        rule,
        tests,
    }
}

/// Tests one distribution; `None` when a sample is empty.
pub fn significance(metric: &str, a: &[f64], b: &[f64], rule: Rule) -> Option<Significance> {
    let test = mannwhitney::test(a, b)?;
    let (median_a, median_b) = (median(a), median(b));
    let change = (median_a != 0.0).then(|| (median_b - median_a) / median_a);
    let large_enough = change.is_some_and(|c| c.abs() >= rule.min_effect);
    Some(Significance {
        metric: metric.to_string(),
        median_a,
        median_b,
        median_change_pct: change.map(|c| c * 100.0),
        test,
        significant: test.p < rule.alpha && large_enough,
    })
}

/// The exact median (mean of the middle two for an even count).
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n % 2 {
        1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// A side from `spec`: a result file when it ends in `.json`, else a history id or label (the
/// database opened once, on first need).
pub fn resolve(
    spec: &str,
    db: Option<&Path>,
    history: &mut Option<History>,
) -> anyhow::Result<Side> {
    if spec.to_ascii_lowercase().ends_with(".json") {
        return from_file(Path::new(spec));
    }
    if history.is_none() {
        let path = crate::output::history::db_for_command(db)?;
        *history = Some(History::open_existing(&path).with_context(|| format!("run `{spec}`"))?);
    }
    let history = history.as_ref().expect("opened above");
    let id = history.find(spec).with_context(|| format!("compare: run `{spec}`"))?;
    let run = history.load(id)?;
    let name = match &run.label {
        Some(label) => format!("#{} {label}", run.id),
        None => format!("#{}", run.id),
    };
    Ok(Side {
        name,
        time: Some(crate::output::history::list::local_time(&run.created_at)),
        summary: run.summary,
        ttft: run.ttft,
        e2e: run.e2e,
    })
}

/// A side from a result file.
pub fn from_file(path: &Path) -> anyhow::Result<Side> {
    let result = crate::output::report::read_result(path)?;
    let kept = || result.measured_records();
    Ok(Side {
        name: path.display().to_string(),
        time: result.config["timestamp"].as_str().map(str::to_owned),
        ttft: kept().filter_map(|r| r.ttft.map(|d| d.as_secs_f64())).collect(),
        e2e: kept().filter_map(|r| r.total_time.map(|d| d.as_secs_f64())).collect(),
        summary: result.summary,
    })
}

fn parse_alpha(alpha: f64) -> anyhow::Result<f64> {
    match alpha > 0.0 && alpha < 1.0 {
        true => Ok(alpha),
        false => anyhow::bail!("`--alpha {alpha}`: must be between 0 and 1, e.g. 0.05"),
    }
}

/// `5%` or `0.05` → 0.05.
fn parse_effect(text: &str) -> anyhow::Result<f64> {
    let trimmed = text.trim();
    let (number, scale) = match trimmed.strip_suffix('%') {
        Some(n) => (n.trim(), 100.0),
        None => (trimmed, 1.0),
    };
    match number.parse::<f64>().map(|v| v / scale) {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => anyhow::bail!("`--min-effect {text}`: use a percentage such as 5% (or 0.05)"),
    }
}

#[cfg(test)]
mod tests;
