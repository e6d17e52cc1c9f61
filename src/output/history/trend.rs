//! `streamperf report --trend --label X [--metric ttft.p50]`: one metric over the runs with a
//! label, oldest first. The metric names are the SLO names (`ttft.p95`, `e2e.p50`,
//! `error_rate`, `throughput`, `output_token_throughput`, …; see [`crate::analyse::slo`]), so what a
//! run gates on can be watched over time. [`points`] is the data side; the text table is the
//! plain rendering (an HTML chart can be drawn from the same points). The command itself is
//! in `commands/report.rs`.

use serde::Serialize;

use crate::analyse::metrics::Summary;
use crate::analyse::slo::Slo;
use crate::i18n::Lang;

/// A metric named as in an SLO, without the comparison.
#[derive(Debug, Clone)]
pub struct TrendMetric {
    /// As written, e.g. `ttft.p50`.
    pub name: String,
    /// Reuses the SLO parser and measurer: the threshold is never looked at.
    probe: Slo,
}

impl TrendMetric {
    /// Parses `ttft.p50`, `error_rate`, … (the SLO metric names).
    pub fn parse(name: &str) -> anyhow::Result<TrendMetric> {
        let name = name.trim();
        let probe = Slo::parse(&format!("{name}<0")).map_err(|e| {
            // The SLO parser names `--slo name<0`; say `--metric name` instead.
            let text = format!("{e:#}");
            let reason = text.split_once("`: ").map_or(text.as_str(), |(_, r)| r);
            anyhow::anyhow!("`--metric {name}`: {reason}")
        })?;
        Ok(TrendMetric { name: name.to_string(), probe })
    }

    /// The metric's value in a summary and its unit (`s`, `%`, `req/s`, `tokens/s`).
    pub fn value(&self, summary: &Summary) -> (Option<f64>, String) {
        let r = self.probe.check(summary);
        (r.measured, r.unit)
    }
}

/// One run's value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    /// Run id.
    pub run: i64,
    /// When it was stored (UTC, RFC 3339).
    pub time: String,
    /// The value (`None` when the run did not measure it, e.g. no successful request).
    pub value: Option<f64>,
    /// Unit of `value`: `s`, `%`, `req/s` or `tokens/s`.
    pub unit: String,
}

/// The metric in each run, in the order given.
pub fn points(metric: &TrendMetric, runs: &[(i64, String, Summary)]) -> Vec<TrendPoint> {
    runs.iter()
        .map(|(run, time, summary)| {
            let (value, unit) = metric.value(summary);
            TrendPoint { run: *run, time: time.clone(), value, unit }
        })
        .collect()
}

/// The text table: run, time, value, and the change from the first run.
pub fn render(lang: Lang, label: &str, metric: &str, points: &[TrendPoint]) -> String {
    let (title, run, time, change) = match lang {
        Lang::En => (format!("{metric} of runs labelled `{label}`"), "run", "time", "vs first"),
        Lang::Zh => (format!("标签 `{label}` 各次运行的 {metric}"), "运行", "时间", "相对首次"),
    };
    let first = points.iter().find_map(|p| p.value);
    let mut out = format!("{title}\n{run:>6}  {time:<19}  {:>12}  {change:>9}\n", metric);
    for p in points {
        let value = p.value.map_or("-".to_string(), |v| show(v, &p.unit));
        let delta = match (first, p.value) {
            (Some(f), Some(v)) if f != 0.0 => format!("{:+.1}%", (v - f) / f * 100.0),
            _ => "-".to_string(),
        };
        let when = crate::output::history::list::local_time(&p.time);
        out.push_str(&format!(
            "{:>6}  {when:<19}  {value:>12}  {delta:>9}\n",
            format!("#{}", p.run)
        ));
    }
    out
}

/// A value in its unit; seconds as milliseconds.
fn show(value: f64, unit: &str) -> String {
    match unit {
        "s" => format!("{:.1} ms", value * 1e3),
        "%" => format!("{value:.2} %"),
        _ => format!("{value:.2} {unit}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyse::metrics::Stats;

    fn summary(ttft_p50: f64, failed: u64) -> Summary {
        Summary {
            total_requests: 100,
            failed_count: failed,
            success_count: 100 - failed,
            duration: 10.0,
            throughput: 9.0,
            ttft: Some(Stats { p50: ttft_p50, p99: ttft_p50 * 2.0, ..Stats::default() }),
            ..Summary::default()
        }
    }

    #[test]
    fn points_follow_the_metric_in_its_unit() {
        let runs = vec![
            (1, "2026-01-01T00:00:00Z".to_string(), summary(0.2, 0)),
            (4, "2026-01-02T00:00:00Z".to_string(), summary(0.3, 5)),
            (7, "2026-01-03T00:00:00Z".to_string(), Summary::default()),
        ];
        let ttft = points(&TrendMetric::parse("ttft.p99").unwrap(), &runs);
        let values: Vec<Option<f64>> = ttft.iter().map(|p| p.value).collect();
        assert_eq!(values, [Some(0.4), Some(0.6), None]);
        assert_eq!((ttft[1].run, ttft[1].unit.as_str()), (4, "s"));
        let errors = points(&TrendMetric::parse("error_rate").unwrap(), &runs);
        assert_eq!(errors[1].value, Some(5.0));
        assert_eq!(errors[1].unit, "%");
        let text = render(Lang::En, "a", "ttft.p99", &ttft);
        assert!(
            text.contains("#4") && text.contains("600.0 ms") && text.contains("+50.0%"),
            "{text}"
        );
    }

    #[test]
    fn bad_metric_names_the_flag() {
        let err = TrendMetric::parse("ttft.p42").unwrap_err().to_string();
        assert!(err.starts_with("`--metric ttft.p42`: unknown statistic"), "{err}");
        let err = TrendMetric::parse("latency").unwrap_err().to_string();
        assert!(err.contains("unknown metric `latency`"), "{err}");
    }
}
