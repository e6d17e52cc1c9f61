//! Prometheus: the run's summary in the text exposition format 0.0.4, for node_exporter's
//! textfile collector.
//!
//! Names start with `streamperf_`, times are seconds, every family has `# HELP` and `# TYPE`.
//! A metric that was not measured is left out, never written as NaN or infinity. Counts of a
//! run's requests end in `_total` and are typed `counter`, as the naming conventions (and
//! `promtool check metrics`) require; everything else is a gauge.

use crate::analyse::metrics::{Stats, Summary};
use crate::output::report::RunResult;

/// Content type of the format, for anyone serving it over HTTP.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The quantiles written for each latency metric.
const QUANTILES: [&str; 4] = ["0.5", "0.9", "0.95", "0.99"];

/// A sample's label pairs.
type Labels = Vec<(&'static str, String)>;

/// One metric family: its samples as (name suffix, label pairs, value).
struct Family {
    name: &'static str,
    help: &'static str,
    kind: &'static str,
    /// (name suffix, labels, value): the suffix is `_sum` or `_count` in a summary, else empty.
    samples: Vec<(&'static str, Labels, f64)>,
}

impl Family {
    fn new(name: &'static str, kind: &'static str, help: &'static str) -> Self {
        Family { name, help, kind, samples: Vec::new() }
    }

    /// Adds a sample unless `value` is NaN or infinite.
    fn sample(self, labels: Labels, value: f64) -> Self {
        self.suffixed("", labels, value)
    }

    /// Adds a sample of `{name}{suffix}` unless `value` is NaN or infinite.
    fn suffixed(mut self, suffix: &'static str, labels: Labels, value: f64) -> Self {
        if value.is_finite() {
            self.samples.push((suffix, labels, value));
        }
        self
    }

    /// HELP, TYPE and the samples; nothing at all when there are no samples.
    fn write(&self, out: &mut String) {
        if self.samples.is_empty() {
            return;
        }
        *out += &format!("# HELP {} {}\n", self.name, escape_help(self.help));
        *out += &format!("# TYPE {} {}\n", self.name, self.kind);
        for (suffix, labels, value) in &self.samples {
            *out += &format!("{}{suffix}{} {}\n", self.name, label_set(labels), value);
        }
    }
}

/// Renders the summary of `result` as Prometheus text.
pub fn render(result: &RunResult) -> String {
    let s = &result.summary;
    let mut families = vec![run_info(result), requests(s), failures(s)];
    families.extend(rates(s));
    families.extend(latencies(s));
    let mut out = String::new();
    for family in &families {
        family.write(&mut out);
    }
    out
}

/// `streamperf_run_info{url, model, version} 1`.
fn run_info(result: &RunResult) -> Family {
    let mut labels = Vec::new();
    if let Some(url) = result.config["url"].as_str() {
        labels.push(("url", url.to_string()));
    }
    if let Some(model) = result.config["body"]["model"].as_str() {
        labels.push(("model", model.to_string()));
    }
    labels.push(("version", result.tool.version.clone()));
    Family::new("streamperf_run_info", "gauge", "The run described by this file; always 1.")
        .sample(labels, 1.0)
}

/// Requests by outcome.
fn requests(s: &Summary) -> Family {
    let outcome = |o: &str| vec![("outcome", o.to_string())];
    Family::new("streamperf_requests_total", "counter", "Requests of the run by outcome.")
        .sample(outcome("success"), s.success_count as f64)
        .sample(outcome("failure"), s.failed_count as f64)
}

/// Failed requests by class.
fn failures(s: &Summary) -> Family {
    let family =
        Family::new("streamperf_failures_total", "counter", "Failed requests of the run by class.");
    s.failures.iter().fold(family, |family, (class, count)| {
        family.sample(vec![("class", class.as_str().to_string())], *count as f64)
    })
}

/// Duration and rates of the run.
fn rates(s: &Summary) -> [Family; 3] {
    let gauge = |name, help, value| Family::new(name, "gauge", help).sample(Vec::new(), value);
    [
        gauge("streamperf_duration_seconds", "Wall-clock duration of the run.", s.duration),
        gauge(
            "streamperf_throughput_requests_per_second",
            "Successful requests per second of the run.",
            s.throughput,
        ),
        gauge(
            "streamperf_output_tokens_per_second",
            "Output tokens of successful requests per second of the run.",
            s.output_token_throughput,
        ),
    ]
}

/// Quantiles of the latency metrics, in seconds.
fn latencies(s: &Summary) -> [Family; 5] {
    [
        quantiles("streamperf_ttft_seconds", "Time to first token.", &s.ttft),
        quantiles("streamperf_ttfat_seconds", "Time to first answer token.", &s.ttfat),
        quantiles("streamperf_e2e_seconds", "End-to-end request time.", &s.total_time),
        quantiles("streamperf_itl_seconds", "Inter-token latency per chunk.", &s.itl),
        quantiles("streamperf_tpot_seconds", "Time per output token after the first.", &s.tpot),
    ]
}

/// A summary family: one sample per quantile of `stats`, then `_sum` and `_count` (nothing
/// when `stats` is `None`). A `quantile` label belongs to a summary only (`promtool check
/// metrics` rejects it on a gauge).
fn quantiles(name: &'static str, help: &'static str, stats: &Option<Stats>) -> Family {
    let family = Family::new(name, "summary", help);
    let Some(st) = stats else { return family };
    QUANTILES
        .iter()
        .zip([st.p50, st.p90, st.p95, st.p99])
        .fold(family, |f, (q, v)| f.sample(vec![("quantile", q.to_string())], v))
        .suffixed("_sum", Vec::new(), st.mean * st.count as f64)
        .suffixed("_count", Vec::new(), st.count as f64)
}

/// `{a="x",b="y"}`, or nothing without labels.
fn label_set(labels: &[(&str, String)]) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let pairs: Vec<String> =
        labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape_label(v))).collect();
    format!("{{{}}}", pairs.join(","))
}

/// A label value escaped per the format: backslash, double quote, line feed.
fn escape_label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// HELP text escaped per the format: backslash and line feed.
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap, HashSet};

    use super::*;
    use crate::output::export::sample_result;

    /// A parsed sample: name, labels (unescaped), value.
    type Sample = (String, BTreeMap<String, String>, f64);

    fn is_metric_name(name: &str) -> bool {
        let mut chars = name.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }

    fn is_label_name(name: &str) -> bool {
        is_metric_name(name) && !name.contains(':')
    }

    /// Parses `{k="v",…}` after a metric name; returns the labels and the rest of the line.
    fn parse_labels(mut rest: &str) -> Result<(BTreeMap<String, String>, &str), String> {
        let mut labels = BTreeMap::new();
        let Some(inner) = rest.strip_prefix('{') else { return Ok((labels, rest)) };
        rest = inner;
        while let Some(eq) = rest.find('=') {
            let name = &rest[..eq];
            if !is_label_name(name) {
                return Err(format!("bad label name {name:?}"));
            }
            let mut chars =
                rest[eq + 1..].strip_prefix('"').ok_or("unquoted value")?.char_indices();
            let mut value = String::new();
            let end = loop {
                match chars.next().ok_or("unterminated value")? {
                    (_, '\\') => match chars.next().ok_or("dangling escape")?.1 {
                        'n' => value.push('\n'),
                        c @ ('\\' | '"') => value.push(c),
                        c => return Err(format!("bad escape \\{c}")),
                    },
                    (i, '"') => break i,
                    (_, c) => value.push(c),
                }
            };
            if labels.insert(name.to_string(), value).is_some() {
                return Err(format!("duplicate label {name}"));
            }
            rest = &rest[eq + 2 + end + 1..];
            rest = rest.strip_prefix(',').unwrap_or(rest);
            if let Some(after) = rest.strip_prefix('}') {
                return Ok((labels, after));
            }
        }
        rest.strip_prefix('}').map(|after| (labels, after)).ok_or_else(|| "no '}'".into())
    }

    /// Checks the whole exposition; returns its samples or the first problem.
    fn parse(text: &str) -> Result<Vec<Sample>, String> {
        let mut help = HashSet::new();
        let mut kind: HashMap<String, &str> = HashMap::new();
        let mut samples = Vec::new();
        for line in text.lines() {
            if line.trim().is_empty() {
                continue;
            }
            if let Some(comment) = line.strip_prefix('#') {
                let words: Vec<&str> = comment.trim_start().splitn(3, ' ').collect();
                let (name, fresh) = match words.as_slice() {
                    ["HELP", name, _] => (*name, help.insert(name.to_string())),
                    ["TYPE", name, t @ ("gauge" | "counter" | "summary")] => {
                        (*name, kind.insert(name.to_string(), t).is_none())
                    }
                    ["HELP" | "TYPE", ..] => return Err(format!("bad comment {line:?}")),
                    _ => continue,
                };
                if !is_metric_name(name) || !fresh {
                    return Err(format!("bad name or repeated comment {line:?}"));
                }
                continue;
            }
            let name_end = line.find(['{', ' ']).ok_or(format!("no value: {line:?}"))?;
            let name = &line[..name_end];
            if !is_metric_name(name) {
                return Err(format!("bad metric name {name:?}"));
            }
            // A summary's `_sum` and `_count` belong to the summary's family.
            let family = ["_sum", "_count"]
                .iter()
                .filter_map(|suffix| name.strip_suffix(suffix))
                .find(|base| kind.get(*base) == Some(&"summary"))
                .unwrap_or(name);
            if !help.contains(family) || !kind.contains_key(family) {
                return Err(format!("{name} has a sample before its HELP and TYPE"));
            }
            let (labels, rest) = parse_labels(&line[name_end..])?;
            if labels.contains_key("quantile") && kind[family] != "summary" {
                return Err(format!("a quantile label outside a summary: {line:?}"));
            }
            let value = rest.strip_prefix(' ').ok_or(format!("no space before value: {line:?}"))?;
            let value: f64 = value.parse().map_err(|_| format!("bad value {value:?}"))?;
            if !value.is_finite() {
                return Err(format!("non-finite value in {line:?}"));
            }
            samples.push((name.to_string(), labels, value));
        }
        Ok(samples)
    }

    fn value(samples: &[Sample], name: &str, label: Option<(&str, &str)>) -> f64 {
        samples
            .iter()
            .find(|(n, l, _)| {
                n == name && label.is_none_or(|(k, v)| l.get(k).map(String::as_str) == Some(v))
            })
            .unwrap_or_else(|| panic!("no {name} {label:?}"))
            .2
    }

    #[test]
    fn output_parses_and_carries_the_summary() {
        let result = sample_result();
        let text = render(&result);
        let samples = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(value(&samples, "streamperf_requests_total", Some(("outcome", "success"))), 1.0);
        assert_eq!(value(&samples, "streamperf_requests_total", Some(("outcome", "failure"))), 1.0);
        assert_eq!(value(&samples, "streamperf_failures_total", Some(("class", "timeout"))), 1.0);
        assert_eq!(value(&samples, "streamperf_duration_seconds", None), 2.0);
        assert_eq!(value(&samples, "streamperf_throughput_requests_per_second", None), 0.5);
        assert_eq!(value(&samples, "streamperf_output_tokens_per_second", None), 20.0);
        assert_eq!(value(&samples, "streamperf_ttft_seconds", Some(("quantile", "0.99"))), 0.12);
        assert_eq!(value(&samples, "streamperf_e2e_seconds", Some(("quantile", "0.5"))), 0.9);
        assert_eq!(value(&samples, "streamperf_tpot_seconds", Some(("quantile", "0.95"))), 0.02);
        let ttft = samples.iter().filter(|s| s.0 == "streamperf_ttft_seconds").count();
        assert_eq!(ttft, 4, "one sample per quantile");
        assert_eq!(value(&samples, "streamperf_ttft_seconds_count", None), 1.0);
        assert_eq!(value(&samples, "streamperf_ttft_seconds_sum", None), 0.12);
        let info = samples.iter().find(|s| s.0 == "streamperf_run_info").unwrap();
        assert_eq!(info.1["model"], "qwen-7b");
        assert_eq!(info.1["url"], "http://localhost:8000/v1/chat/completions");
    }

    #[test]
    fn label_values_are_escaped_and_read_back() {
        let mut result = sample_result();
        let url = "http://h/a\\b?q=\"x\"\nnext";
        result.config["url"] = url.into();
        result.config["body"]["model"] = serde_json::json!(["not", "a", "string"]);
        let text = render(&result);
        assert!(text.contains(r#"url="http://h/a\\b?q=\"x\"\nnext""#), "{text}");
        let samples = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let info = samples.iter().find(|s| s.0 == "streamperf_run_info").unwrap();
        assert_eq!(info.1["url"], url);
        assert!(!info.1.contains_key("model"), "a model that is not a string is left out");
    }

    #[test]
    fn missing_and_non_finite_metrics_are_left_out() {
        let mut result = sample_result();
        result.summary.ttfat = None;
        result.summary.throughput = f64::NAN;
        result.summary.output_token_throughput = f64::INFINITY;
        result.summary.tpot.as_mut().unwrap().p99 = f64::NAN;
        result.summary.failures.clear();
        let text = render(&result);
        let samples = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        for gone in [
            "streamperf_ttfat_seconds",
            "streamperf_throughput_requests_per_second",
            "streamperf_output_tokens_per_second",
            "streamperf_failures_total",
        ] {
            assert!(!text.contains(gone), "{gone} should be absent:\n{text}");
        }
        assert_eq!(samples.iter().filter(|s| s.0 == "streamperf_tpot_seconds").count(), 3);
        assert!(!text.contains(" NaN") && !text.contains(" inf"), "{text}");
    }

    #[test]
    fn the_checker_rejects_broken_lines() {
        let head = "# HELP m x\n# TYPE m gauge\n";
        assert!(parse(&format!("{head}m 1\n")).is_ok());
        for bad in [
            "m NaN",
            "m{a=\"x} 1",
            "m{a=\"x\\q\"} 1",
            "m{1a=\"x\"} 1",
            "other 1",
            "m{a=\"x\"}1",
            "9m 1",
            "m{quantile=\"0.5\"} 1",
        ] {
            assert!(parse(&format!("{head}{bad}\n")).is_err(), "{bad:?} should be rejected");
        }
        assert!(parse("m 1\n# HELP m x\n# TYPE m gauge\n").is_err(), "sample before HELP");
        assert!(parse(&format!("{head}# HELP m y\nm 1\n")).is_err(), "repeated HELP");
        assert!(parse("# HELP m x\n# TYPE m summry\nm 1\n").is_err(), "unknown type");
    }

    /// `promtool check metrics` on `text`: `None` when promtool is not on PATH (allowed unless
    /// `STREAMPERF_REQUIRE_PROMTOOL=1`, which `.ci/run` sets after installing it), else whether
    /// it passed, with what it said.
    fn promtool_check(text: &str) -> Option<(bool, String)> {
        use std::io::Write as _;
        use std::process::{Command, Stdio};

        let spawned = Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) if std::env::var_os("STREAMPERF_REQUIRE_PROMTOOL").is_some_and(|v| v == "1") => {
                panic!("STREAMPERF_REQUIRE_PROMTOOL=1 but promtool cannot run: {e}")
            }
            Err(_) => {
                eprintln!("SKIPPED: promtool is not on PATH (the parser test above still ran)");
                return None;
            }
        };
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Some((out.status.success() && said.trim().is_empty(), said))
    }

    #[test]
    fn promtool_check_metrics_accepts_the_output() {
        let mut result = sample_result();
        result.slos = crate::analyse::slo::evaluate(
            &[crate::analyse::slo::Slo::parse("ttft.p95<1s").unwrap()],
            &result.summary,
        );
        let text = render(&result);
        if let Some((ok, said)) = promtool_check(&text) {
            assert!(ok, "promtool: {said}\n{text}");
            // The same check fails on what it must reject (a counter without `_total`), so
            // a pass above means something.
            let bad = "# HELP m_requests x\n# TYPE m_requests counter\nm_requests 1\n";
            let (ok, said) = promtool_check(bad).unwrap();
            assert!(!ok, "promtool should complain about {bad:?}, said {said:?}");
        }
    }
}
