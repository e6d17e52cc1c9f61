//! Prometheus: the run's summary in the text exposition format 0.0.4, for node_exporter's
//! textfile collector.
//!
//! Names start with `streamperf_`, times are seconds, every family has `# HELP` and `# TYPE`.
//! A metric that was not measured is left out, never written as NaN or infinity. Counts of a
//! run's requests end in `_total` and are typed `counter`, as the naming conventions (and
//! `promtool check metrics`) require; everything else is a gauge.

use super::promtext::{self, Family, P50, P90, P95, P99, Quantile};
use crate::analyse::metrics::{Stats, Summary};
use crate::output::report::RunResult;

/// Content type of the format, for anyone serving it over HTTP.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The quantiles written for each latency metric.
const QUANTILES: [Quantile; 4] = [P50, P90, P95, P99];

/// Renders the summary of `result` as Prometheus text.
pub fn render(result: &RunResult) -> String {
    let s = &result.summary;
    let mut families = vec![run_info(result), requests(s), failures(s)];
    families.extend(rates(s));
    families.extend(latencies(s));
    promtext::render(&families)
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

/// Requests by outcome; the live page writes the same family.
pub(crate) fn requests(s: &Summary) -> Family {
    let outcome = |o: &str| vec![("outcome", o.to_string())];
    Family::new("streamperf_requests_total", "counter", "Requests of the run by outcome.")
        .sample(outcome("success"), s.success_count as f64)
        .sample(outcome("failure"), s.failed_count as f64)
}

/// Failed requests by class (named as the result file names them); the live page writes the
/// same family.
pub(crate) fn failures(s: &Summary) -> Family {
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

/// A summary family of `stats` (nothing when it is `None`).
fn quantiles(name: &'static str, help: &'static str, stats: &Option<Stats>) -> Family {
    promtext::summary(name, help, stats.as_ref(), &QUANTILES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::export::promtext::check::{parse, promtool_check, value};
    use crate::output::export::sample_result;

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
