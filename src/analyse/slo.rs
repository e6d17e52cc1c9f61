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

use std::fmt;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::analyse::metrics::{Stats, Summary};
use crate::measure::record::RequestRecord;

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

/// Requests (successful, not warm-up) meeting every per-request SLO, ÷ `duration_secs`;
/// failed requests never count. With no per-request SLO this is the successful-request rate;
/// a non-positive duration gives 0.
pub fn goodput<'a>(
    slos: &[Slo],
    records: impl IntoIterator<Item = &'a RequestRecord>,
    duration_secs: f64,
) -> f64 {
    if duration_secs <= 0.0 {
        return 0.0;
    }
    let good = records
        .into_iter()
        .filter(|r| r.is_success() && !r.warmup)
        .filter(|r| slos.iter().all(|slo| slo.met_by(r) != Some(false)))
        .count();
    good as f64 / duration_secs
}

impl Slo {
    /// Parses `metric[.stat] op threshold`, e.g. `ttft.p95<800ms`, `e2e.p99 < 10s`,
    /// `error_rate<1%`, `throughput>5`. Whitespace is allowed around the operator.
    pub fn parse(text: &str) -> Result<Slo> {
        let err = |msg: String| anyhow::anyhow!("`--slo {text}`: {msg}");
        let (left, op, right) = split_op(text).ok_or_else(|| {
            err("missing comparison: write `metric.stat<threshold` (operators: <, <=, >, >=)"
                .into())
        })?;
        let (metric, stat) = parse_target(left.trim()).map_err(err)?;
        let threshold = parse_threshold(metric, right.trim()).map_err(err)?;
        Ok(Slo { text: text.to_string(), metric, stat, op, threshold })
    }

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
            Metric::ErrorRate => (summary.total_requests > 0)
                .then(|| summary.failed_count as f64 / summary.total_requests as f64),
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

/// A metric an SLO can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metric {
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
const METRICS: &[(&str, Metric)] = &[
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
    fn from_name(name: &str) -> Option<Metric> {
        METRICS.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
    }

    /// Whether the metric is a distribution and so takes a statistic.
    fn has_stats(self) -> bool {
        !matches!(self, Metric::ErrorRate | Metric::Throughput | Metric::OutputTokenThroughput)
    }

    fn is_duration(self) -> bool {
        self.has_stats() && self != Metric::TokensPerSecond
    }

    fn unit(self) -> &'static str {
        match self {
            Metric::ErrorRate => "%",
            Metric::Throughput => "req/s",
            Metric::TokensPerSecond | Metric::OutputTokenThroughput => "tokens/s",
            _ => "s",
        }
    }

    /// Base units → the unit shown in [`SloResult`] (a fraction → percent).
    fn display_scale(self) -> f64 {
        if self == Metric::ErrorRate { 100.0 } else { 1.0 }
    }

    fn stats(self, s: &Summary) -> Option<&Stats> {
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
    fn record_value(self, r: &RequestRecord) -> Option<Option<f64>> {
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
enum Stat {
    P50,
    P90,
    P95,
    P99,
    Mean,
    Median,
    Max,
    Min,
}

const STATS: &[(&str, Stat)] = &[
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
    fn from_name(name: &str) -> Option<Stat> {
        STATS.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
    }

    fn of(self, s: &Stats) -> f64 {
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
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Op::Lt => value < threshold,
            Op::Le => value <= threshold,
            Op::Gt => value > threshold,
            Op::Ge => value >= threshold,
        }
    }
}

/// Splits `text` at its first `<`, `<=`, `>` or `>=`.
fn split_op(text: &str) -> Option<(&str, Op, &str)> {
    let at = text.find(['<', '>'])?;
    let (left, rest) = text.split_at(at);
    let (op, len) = match (rest.starts_with('<'), rest[1..].starts_with('=')) {
        (true, true) => (Op::Le, 2),
        (true, false) => (Op::Lt, 1),
        (false, true) => (Op::Ge, 2),
        (false, false) => (Op::Gt, 1),
    };
    Some((left, op, &rest[len..]))
}

/// Parses `metric` or `metric.stat`, checking the statistic fits the metric.
fn parse_target(target: &str) -> Result<(Metric, Option<Stat>), String> {
    let (name, stat) = match target.split_once('.') {
        Some((name, stat)) => (name, Some(stat)),
        None => (target, None),
    };
    let metric = Metric::from_name(name).ok_or_else(|| unknown_metric(name))?;
    match (metric.has_stats(), stat) {
        (true, Some(stat)) => Stat::from_name(stat)
            .map(|s| (metric, Some(s)))
            .ok_or_else(|| format!("unknown statistic `{stat}`; known: {}", stat_names())),
        (true, None) => {
            Err(format!("`{name}` needs a statistic, e.g. `{name}.p95`; known: {}", stat_names()))
        }
        (false, None) => Ok((metric, None)),
        (false, Some(stat)) => Err(format!(
            "`{name}` is a single number and takes no statistic (`.{stat}`); write e.g. `{name}<…`"
        )),
    }
}

fn unknown_metric(name: &str) -> String {
    let names: Vec<&str> = METRICS.iter().map(|(n, _)| *n).collect();
    if name.is_empty() {
        return format!("missing metric before the operator; known: {}", names.join(", "));
    }
    let closest = names.iter().min_by_key(|n| strsim::levenshtein(n, name));
    let hint = match closest {
        Some(n) if strsim::levenshtein(n, name) <= 2 => format!(" (did you mean `{n}`?)"),
        _ => String::new(),
    };
    format!("unknown metric `{name}`{hint}; known: {}", names.join(", "))
}

fn stat_names() -> String {
    STATS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

/// Parses the threshold into base units for `metric`.
fn parse_threshold(metric: Metric, text: &str) -> Result<f64, String> {
    if text.is_empty() {
        return Err("missing threshold after the operator".into());
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(text.len());
    let (number, unit) = (&text[..split], text[split..].trim());
    let value: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| format!("threshold `{text}` does not start with a number"))?;
    if value < 0.0 {
        return Err(format!("threshold `{text}` is negative"));
    }
    if metric.is_duration() {
        duration_secs(value, unit, text)
    } else if metric == Metric::ErrorRate {
        fraction(value, unit, text)
    } else if unit.is_empty() {
        Ok(value)
    } else {
        Err(format!("unit `{unit}` in `{text}`: a rate is a plain number per second, e.g. `>5`"))
    }
}

fn duration_secs(value: f64, unit: &str, text: &str) -> Result<f64, String> {
    // Divide by exact powers of ten so `800ms` is the same f64 as `0.8`.
    match unit {
        "" | "s" => Ok(value),
        "ms" => Ok(value / 1e3),
        "us" | "µs" => Ok(value / 1e6),
        "m" => Ok(value * 60.0),
        _ => Err(format!("unknown unit `{unit}` in `{text}`; durations take ms, s, us, µs or m")),
    }
}

fn fraction(value: f64, unit: &str, text: &str) -> Result<f64, String> {
    match unit {
        "%" if value <= 100.0 => Ok(value / 100.0),
        "%" => Err(format!("error rate `{text}` is over 100%")),
        "" if value <= 1.0 => Ok(value),
        "" => Err(format!(
            "error rate `{text}` is over 1; write a fraction (0.01) or a percentage (`{value}%`)"
        )),
        _ => Err(format!("unknown unit `{unit}` in `{text}`; an error rate takes `%` or none")),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn slo(text: &str) -> Slo {
        Slo::parse(text).unwrap_or_else(|e| panic!("{text}: {e:#}"))
    }

    fn parse_err(text: &str) -> String {
        format!("{:#}", Slo::parse(text).expect_err(text))
    }

    fn stats(p50: f64, p95: f64, p99: f64) -> Stats {
        Stats {
            min: 0.0,
            max: p99,
            mean: p50,
            median: p50,
            stddev: 0.0,
            p50,
            p90: p95,
            p95,
            p99,
            count: 10,
        }
    }

    fn summary() -> Summary {
        Summary {
            success_count: 99,
            failed_count: 1,
            total_requests: 100,
            duration: 10.0,
            throughput: 9.9,
            output_token_throughput: 150.0,
            ttft: Some(stats(0.3, 0.612, 0.8)),
            total_time: Some(stats(4.0, 8.0, 9.5)),
            tpot: Some(stats(0.04, 0.05, 0.06)),
            tokens_per_second: Some(stats(25.0, 30.0, 35.0)),
            ..Summary::default()
        }
    }

    fn record(ttft_ms: Option<u64>, ok: bool, warmup: bool) -> RequestRecord {
        RequestRecord {
            ttft: ttft_ms.map(Duration::from_millis),
            total_time: Some(Duration::from_secs(2)),
            tokens_per_second: Some(30.0),
            error_class: (!ok).then_some(crate::measure::record::ErrorClass::Timeout),
            warmup,
            ..RequestRecord::default()
        }
    }

    #[test]
    fn parses_every_documented_form_into_base_units() {
        let cases = [
            ("ttft.p95<800ms", Metric::Ttft, Some(Stat::P95), Op::Lt, 0.8),
            ("e2e.p99 < 10s", Metric::E2e, Some(Stat::P99), Op::Lt, 10.0),
            ("total_time.max<=1m", Metric::E2e, Some(Stat::Max), Op::Le, 60.0),
            ("error_rate<1%", Metric::ErrorRate, None, Op::Lt, 0.01),
            ("error_rate<0.01", Metric::ErrorRate, None, Op::Lt, 0.01),
            ("tpot.p50<50ms", Metric::Tpot, Some(Stat::P50), Op::Lt, 0.05),
            ("itl.p99<=0.2s", Metric::Itl, Some(Stat::P99), Op::Le, 0.2),
            ("ttfat.p90<2s", Metric::Ttfat, Some(Stat::P90), Op::Lt, 2.0),
            ("throughput>5", Metric::Throughput, None, Op::Gt, 5.0),
            ("output_tokens_per_s>=100", Metric::OutputTokenThroughput, None, Op::Ge, 100.0),
            ("tokens_per_second.p50>20", Metric::TokensPerSecond, Some(Stat::P50), Op::Gt, 20.0),
            ("max_gap.p99<1s", Metric::MaxGap, Some(Stat::P99), Op::Lt, 1.0),
            ("queue_wait.mean<500us", Metric::QueueWait, Some(Stat::Mean), Op::Lt, 0.0005),
            ("ttfb.min < 250µs", Metric::Ttfb, Some(Stat::Min), Op::Lt, 0.00025),
            ("ttft.median<1.5", Metric::Ttft, Some(Stat::Median), Op::Lt, 1.5),
        ];
        for (text, metric, stat, op, threshold) in cases {
            let s = slo(text);
            assert_eq!((s.metric, s.stat, s.op), (metric, stat, op), "{text}");
            assert!((s.threshold - threshold).abs() < 1e-12, "{text}: {}", s.threshold);
            assert_eq!(s.text, text);
        }
    }

    #[test]
    fn rejects_bad_slos_naming_the_flag_and_the_bad_part() {
        let cases = [
            ("ttft.p95", "missing comparison"),
            ("latency.p95<1s", "unknown metric `latency`; known: ttft, ttfb"),
            ("ttftt.p95<1s", "did you mean `ttft`?"),
            ("<1s", "missing metric"),
            ("ttft<1s", "`ttft` needs a statistic"),
            ("ttft.p42<1s", "unknown statistic `p42`; known: p50, p90"),
            ("error_rate.p99<1%", "`error_rate` is a single number and takes no statistic"),
            ("throughput.mean>5", "takes no statistic"),
            ("ttft.p95<", "missing threshold"),
            ("ttft.p95<fast", "threshold `fast` does not start with a number"),
            ("ttft.p95<800 hours", "unknown unit `hours`"),
            ("ttft.p95<-1s", "negative"),
            ("error_rate<5", "over 1; write a fraction (0.01) or a percentage (`5%`)"),
            ("error_rate<150%", "over 100%"),
            ("throughput>5req", "unit `req`"),
        ];
        for (text, want) in cases {
            let msg = parse_err(text);
            assert!(msg.starts_with(&format!("`--slo {text}`: ")), "{msg}");
            assert!(msg.contains(want), "{text}: {msg}");
        }
    }

    #[test]
    fn check_passes_and_fails_with_the_measured_value() {
        let s = summary();
        let pass = slo("ttft.p95<800ms").check(&s);
        assert_eq!(
            pass,
            SloResult {
                slo: "ttft.p95<800ms".into(),
                measured: Some(0.612),
                unit: "s".into(),
                pass: true
            }
        );
        assert_eq!(pass.describe(), "ttft.p95<800ms: 0.612 s — pass");
        let fail = slo("e2e.p99<9s").check(&s);
        assert!(!fail.pass);
        assert_eq!(fail.measured, Some(9.5));
        assert!(slo("tokens_per_second.p50>20").check(&s).pass);
        assert!(!slo("throughput>10").check(&s).pass);
        let tokens = slo("output_token_throughput>=150").check(&s);
        assert!(tokens.pass);
        assert_eq!(tokens.unit, "tokens/s");
    }

    #[test]
    fn boundary_separates_strict_from_inclusive() {
        let s = summary();
        assert!(!slo("ttft.p99<800ms").check(&s).pass);
        assert!(slo("ttft.p99<=800ms").check(&s).pass);
        assert!(!slo("tpot.p50>40ms").check(&s).pass);
        assert!(slo("tpot.p50>=40ms").check(&s).pass);
    }

    #[test]
    fn unmeasured_metric_fails() {
        let s = Summary { ttft: None, ..summary() };
        let r = slo("ttft.p95<800ms").check(&s);
        assert_eq!((r.measured, r.pass), (None, false));
        assert_eq!(r.describe(), "ttft.p95<800ms: not measured — fail");
        let empty = Summary::default();
        assert!(!slo("error_rate<1%").check(&empty).pass);
        assert!(!slo("throughput>0").check(&empty).pass);
    }

    #[test]
    fn error_rate_percent_and_fraction_agree() {
        let s = summary(); // 1 failure in 100: exactly 1%.
        for text in ["error_rate<1%", "error_rate<0.01"] {
            let r = slo(text).check(&s);
            assert_eq!((r.measured, r.unit.as_str(), r.pass), (Some(1.0), "%", false), "{text}");
        }
        for text in ["error_rate<=1%", "error_rate<=0.01", "error_rate<2%"] {
            assert!(slo(text).check(&s).pass, "{text}");
        }
        assert_eq!(slo("error_rate<2%").check(&s).describe(), "error_rate<2%: 1.00 % — pass");
    }

    #[test]
    fn met_by_applies_the_threshold_to_the_records_own_value() {
        let ttft = slo("ttft.p95<800ms");
        assert_eq!(ttft.met_by(&record(Some(500), true, false)), Some(true));
        assert_eq!(ttft.met_by(&record(Some(800), true, false)), Some(false));
        assert_eq!(ttft.met_by(&record(Some(900), true, false)), Some(false));
        assert_eq!(ttft.met_by(&record(None, false, false)), Some(false));
        assert_eq!(ttft.met_by(&record(Some(100), false, false)), Some(false));
        assert_eq!(slo("tokens_per_second.p50>20").met_by(&record(None, true, false)), Some(true));
        assert_eq!(slo("e2e.p99<1s").met_by(&record(None, true, false)), Some(false));
    }

    #[test]
    fn met_by_is_none_for_run_level_metrics() {
        let r = record(Some(100), true, false);
        for text in ["error_rate<1%", "throughput>1", "output_tokens_per_s>1", "itl.p99<1s"] {
            assert_eq!(slo(text).met_by(&r), None, "{text}");
        }
    }

    #[test]
    fn goodput_counts_successful_non_warmup_requests_meeting_every_slo() {
        let slos = [slo("ttft.p95<800ms"), slo("e2e.p99<10s"), slo("error_rate<1%")];
        let records = [
            record(Some(100), true, false),  // good
            record(Some(700), true, false),  // good
            record(Some(900), true, false),  // ttft too slow
            record(Some(100), true, true),   // warm-up
            record(Some(100), false, false), // failed
            record(None, false, false),      // failed, no ttft
        ];
        assert_eq!(goodput(&slos, &records, 4.0), 0.5);
        assert_eq!(goodput(&[], &records, 2.0), 1.5);
        assert_eq!(goodput(&slos, &records, 0.0), 0.0);
    }

    #[test]
    fn evaluate_keeps_order_and_any_failed_reports_it() {
        let slos = [slo("ttft.p95<800ms"), slo("error_rate<1%")];
        let results = evaluate(&slos, &summary());
        let names: Vec<&str> = results.iter().map(|r| r.slo.as_str()).collect();
        assert_eq!(names, ["ttft.p95<800ms", "error_rate<1%"]);
        assert!(any_failed(&results));
        assert!(!any_failed(&results[..1]));
    }

    #[test]
    fn serde_reads_and_writes_the_text() {
        let slos: Vec<Slo> =
            serde_json::from_str(r#"["ttft.p95<800ms", "error_rate<1%"]"#).unwrap();
        assert_eq!(slos[0], slo("ttft.p95<800ms"));
        assert_eq!(serde_json::to_string(&slos).unwrap(), r#"["ttft.p95<800ms","error_rate<1%"]"#);
        let err = serde_json::from_str::<Vec<Slo>>(r#"["ttft<1s"]"#).unwrap_err();
        assert!(err.to_string().contains("`--slo ttft<1s`: `ttft` needs a statistic"), "{err}");
    }
}
