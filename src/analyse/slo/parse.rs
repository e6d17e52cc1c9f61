//! Reading `metric[.stat] op threshold` into an [`Slo`], thresholds in base units, with
//! errors that name the flag and the part at fault (and the closest metric name).

use anyhow::Result;

use super::Slo;
use super::metric::{METRICS, Metric, Op, STATS, Stat};

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
}

/// Splits `text` at its first `<`, `<=`, `>` or `>=`.
pub(super) fn split_op(text: &str) -> Option<(&str, Op, &str)> {
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
pub(super) fn parse_target(target: &str) -> Result<(Metric, Option<Stat>), String> {
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
pub(super) fn parse_threshold(metric: Metric, text: &str) -> Result<f64, String> {
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
