//! The Prometheus text exposition format 0.0.4, written: the one writer behind the end-of-run
//! file ([`prometheus`](super::prometheus)) and the live `/metrics` page
//! ([`exposition`](crate::output::live::exposition)), so that both escape, type and leave out
//! values the same way.
//!
//! A family with no samples writes nothing, and a NaN or infinite value is never written: a
//! metric that was not measured is absent, which Prometheus and Grafana show as "no data",
//! rather than a number that poisons every sum and rate it enters.

use crate::analyse::metrics::Stats;

/// A sample's label pairs.
pub(crate) type Labels = Vec<(&'static str, String)>;

/// One metric family: its samples as (name suffix, label pairs, value).
pub(crate) struct Family {
    name: String,
    help: String,
    kind: &'static str,
    /// (name suffix, labels, value): the suffix is `_sum` or `_count` in a summary, else empty.
    samples: Vec<(&'static str, Labels, f64)>,
}

impl Family {
    /// An empty family called `name`, of type `kind` (`counter`, `gauge`, `summary`).
    pub(crate) fn new(
        name: impl Into<String>,
        kind: &'static str,
        help: impl Into<String>,
    ) -> Self {
        Family { name: name.into(), help: help.into(), kind, samples: Vec::new() }
    }

    /// Adds a sample unless `value` is NaN or infinite.
    pub(crate) fn sample(self, labels: Labels, value: f64) -> Self {
        self.suffixed("", labels, value)
    }

    /// Adds a sample of `{name}{suffix}` unless `value` is NaN or infinite.
    pub(crate) fn suffixed(mut self, suffix: &'static str, labels: Labels, value: f64) -> Self {
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
        *out += &format!("# HELP {} {}\n", self.name, escape_help(&self.help));
        *out += &format!("# TYPE {} {}\n", self.name, self.kind);
        for (suffix, labels, value) in &self.samples {
            *out += &format!("{}{suffix}{} {}\n", self.name, label_set(labels), value);
        }
    }
}

/// A family of one unlabelled sample (a gauge or a counter).
pub(crate) fn single(name: &'static str, kind: &'static str, help: &str, value: f64) -> Family {
    Family::new(name, kind, help).sample(Vec::new(), value)
}

/// A quantile a summary writes: its `quantile` label, its short name (`p50`, for a metric
/// named after it) and where [`Stats`] keeps it.
#[derive(Clone, Copy)]
pub(crate) struct Quantile {
    pub(crate) label: &'static str,
    pub(crate) short: &'static str,
    pub(crate) of: fn(&Stats) -> f64,
}

pub(crate) const P50: Quantile = Quantile { label: "0.5", short: "p50", of: |s| s.p50 };
pub(crate) const P90: Quantile = Quantile { label: "0.9", short: "p90", of: |s| s.p90 };
pub(crate) const P95: Quantile = Quantile { label: "0.95", short: "p95", of: |s| s.p95 };
pub(crate) const P99: Quantile = Quantile { label: "0.99", short: "p99", of: |s| s.p99 };

/// A summary family: one sample per quantile of `stats`, then `_sum` (mean × count, as `Stats`
/// keeps no sum) and `_count`; nothing when `stats` is `None`. A `quantile` label belongs to a
/// summary only (`promtool check metrics` rejects it on a gauge).
pub(crate) fn summary(
    name: impl Into<String>,
    help: impl Into<String>,
    stats: Option<&Stats>,
    quantiles: &[Quantile],
) -> Family {
    let family = Family::new(name, "summary", help);
    let Some(st) = stats else { return family };
    quantiles
        .iter()
        .fold(family, |f, q| f.sample(vec![("quantile", q.label.to_string())], (q.of)(st)))
        .suffixed("_sum", Vec::new(), st.mean * st.count as f64)
        .suffixed("_count", Vec::new(), st.count as f64)
}

/// The families one after another: the whole exposition.
pub(crate) fn render(families: &[Family]) -> String {
    let mut out = String::new();
    for family in families {
        family.write(&mut out);
    }
    out
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

/// The checks every exposition's tests run: a strict reader of the format, and `promtool`.
#[cfg(test)]
pub(crate) mod check {
    use std::collections::{BTreeMap, HashMap, HashSet};

    /// A parsed sample: name, labels (unescaped), value.
    pub(crate) type Sample = (String, BTreeMap<String, String>, f64);

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
    pub(crate) fn parse(text: &str) -> Result<Vec<Sample>, String> {
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

    /// The value of the sample called `name` (with `label`, when given); panics without one.
    pub(crate) fn value(samples: &[Sample], name: &str, label: Option<(&str, &str)>) -> f64 {
        samples
            .iter()
            .find(|(n, l, _)| {
                n == name && label.is_none_or(|(k, v)| l.get(k).map(String::as_str) == Some(v))
            })
            .unwrap_or_else(|| panic!("no {name} {label:?}"))
            .2
    }

    /// `promtool check metrics` on `text`: `None` when promtool is not on PATH (allowed unless
    /// `STREAMPERF_REQUIRE_PROMTOOL=1`, which `.ci/run` sets after installing it), else whether
    /// it passed, with what it said.
    pub(crate) fn promtool_check(text: &str) -> Option<(bool, String)> {
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
                eprintln!("SKIPPED: promtool is not on PATH (the parser test still ran)");
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
}

#[cfg(test)]
mod tests {
    use super::check::parse;
    use super::*;

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

    #[test]
    fn a_summary_writes_its_quantiles_sum_and_count_and_nothing_without_stats() {
        let stats = Stats { mean: 0.25, count: 4, p50: 0.2, p99: 0.5, ..Stats::default() };
        let text = render(&[summary("m_seconds", "M.", Some(&stats), &[P50, P99])]);
        assert_eq!(
            text,
            "# HELP m_seconds M.\n# TYPE m_seconds summary\nm_seconds{quantile=\"0.5\"} 0.2\n\
             m_seconds{quantile=\"0.99\"} 0.5\nm_seconds_sum 1\nm_seconds_count 4\n"
        );
        assert_eq!(render(&[summary("m_seconds", "M.", None, &[P50])]), "");
        assert_eq!(render(&[single("g", "gauge", "G.", f64::NAN)]), "", "NaN is left out");
    }
}
