//! The Grafana dashboard in `deploy/grafana/streamperf.json` asks only for what
//! `--metrics-listen` serves: every metric an expression (or the instance variable) names is a
//! sample of the live page, and every label it matches exactly (`quantile="0.99"`) is one the
//! page writes. A renamed metric fails here rather than as a blank panel on someone's screen.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::Value;
use streamperf::live::{LiveFigures, live_exposition};
use streamperf::metrics::{Stats, Summary};
use streamperf::record::ErrorClass;

const DASHBOARD: &str = include_str!("../deploy/grafana/streamperf.json");

/// A metric selector in an expression: the name and its exact (`=`) label matchers.
type Selector = (String, Vec<(String, String)>);

fn dashboard() -> Value {
    serde_json::from_str(DASHBOARD).expect("the dashboard is JSON")
}

fn stats(p50: f64, p99: f64) -> Stats {
    Stats { p50, p90: p99, p99, mean: p50, count: 4, ..Stats::default() }
}

/// A run with every family the page can write: failures, input tokens, an ended window.
fn full_page() -> String {
    let run = Summary {
        success_count: 4,
        failed_count: 1,
        failures: [(ErrorClass::Timeout, 1)].into(),
        total_output_tokens: 400,
        total_input_tokens: 800,
        input_tokens_reported: 4,
        ttft: Some(stats(0.1, 0.3)),
        total_time: Some(stats(1.0, 2.0)),
        itl: Some(stats(0.01, 0.05)),
        ..Summary::default()
    };
    live_exposition(&LiveFigures {
        run: &run,
        window: Some(&run),
        window_seconds: 10.0,
        in_flight: 2,
        sent: 7,
        elapsed: Duration::from_secs(30),
    })
}

/// The page's samples: name and labels (the sample's values hold no comma or quote).
fn samples(page: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let lines = page.lines().filter(|line| !line.starts_with('#'));
    lines
        .map(|line| {
            let series = line.rsplit_once(' ').expect("a value").0;
            let (name, labels) = series.split_once('{').unwrap_or((series, "}"));
            let pairs =
                labels.trim_end_matches('}').split(',').filter_map(|pair| pair.split_once('='));
            let labels = pairs.map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()));
            (name.to_string(), labels.collect())
        })
        .collect()
}

/// Every PromQL expression of the dashboard: the panels' targets and the variables' queries.
fn expressions(dashboard: &Value) -> Vec<String> {
    let panels = dashboard["panels"].as_array().expect("panels");
    let targets = panels.iter().flat_map(|panel| panel["targets"].as_array().expect("targets"));
    let mut exprs: Vec<String> =
        targets.map(|t| t["expr"].as_str().expect("an expr").to_string()).collect();
    let variables = dashboard["templating"]["list"].as_array().expect("variables");
    exprs.extend(
        variables
            .iter()
            .filter(|v| v["type"] == "query")
            .map(|v| v["query"].as_str().expect("a query").to_string()),
    );
    exprs
}

/// The `streamperf_…` selectors of `expr`, with their `label="value"` matchers (`=~`, `!=`
/// and `!~` match patterns, not values, and are skipped).
fn selectors(expr: &str) -> Vec<Selector> {
    let mut found = Vec::new();
    for (at, _) in expr.match_indices("streamperf_") {
        if expr[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &expr[at..];
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
        let (name, after) = rest.split_at(end.unwrap_or(rest.len()));
        let matchers = after.strip_prefix('{').map_or(Vec::new(), |inner| {
            let inner = &inner[..inner.find('}').expect("a closing brace")];
            inner.split(',').filter_map(exact).collect()
        });
        found.push((name.to_string(), matchers));
    }
    found
}

/// `label="value"` as a pair; `None` for the other matchers.
fn exact(matcher: &str) -> Option<(String, String)> {
    let (label, value) = matcher.trim().split_once('=')?;
    if label.ends_with('!') || value.starts_with('~') {
        return None;
    }
    Some((label.trim().to_string(), value.trim().trim_matches('"').to_string()))
}

/// What in `expr` the page does not serve, one line each.
fn unserved(expr: &str, served: &[(String, BTreeMap<String, String>)]) -> Vec<String> {
    let serves = |(name, matchers): &Selector| {
        served
            .iter()
            .any(|(n, labels)| n == name && matchers.iter().all(|(k, v)| labels.get(k) == Some(v)))
    };
    selectors(expr).into_iter().filter(|s| !serves(s)).map(|s| format!("{s:?} in {expr}")).collect()
}

#[test]
fn every_expression_names_only_what_the_live_page_serves() {
    let served = samples(&full_page());
    let exprs = expressions(&dashboard());
    assert!(exprs.len() >= 10, "{exprs:?}");
    let missing: Vec<String> = exprs.iter().flat_map(|e| unserved(e, &served)).collect();
    assert!(missing.is_empty(), "the page serves none of:\n{}", missing.join("\n"));
    assert!(exprs.iter().all(|e| !selectors(e).is_empty()), "each expression names a metric");
}

#[test]
fn the_check_catches_a_wrong_name_or_quantile() {
    let served = samples(&full_page());
    assert!(unserved("rate(streamperf_requests_total[1m])", &served).is_empty());
    assert_eq!(unserved("rate(streamperf_request_total[1m])", &served).len(), 1);
    assert_eq!(unserved(r#"streamperf_ttft_seconds{quantile="0.95"}"#, &served).len(), 1);
    assert_eq!(unserved("streamperf_window_ttft_p95_seconds", &served).len(), 1);
    let pattern = r#"streamperf_ttft_seconds_sum{instance=~"$instance"}"#;
    assert!(unserved(pattern, &served).is_empty(), "a pattern matcher is not a value");
}

#[test]
fn the_panels_show_rates_failures_in_flight_latencies_and_tokens() {
    let exprs = expressions(&dashboard()).join("\n");
    let named: BTreeSet<String> = selectors(&exprs).into_iter().map(|s| s.0).collect();
    for wanted in [
        "streamperf_requests_sent_total",
        "streamperf_requests_total",
        "streamperf_failures_total",
        "streamperf_in_flight",
        "streamperf_output_tokens_total",
        "streamperf_ttft_seconds",
        "streamperf_window_ttft_p50_seconds",
        "streamperf_window_ttft_p99_seconds",
        "streamperf_e2e_seconds",
        "streamperf_window_e2e_p99_seconds",
        "streamperf_itl_seconds",
        "streamperf_window_itl_p99_seconds",
    ] {
        assert!(named.contains(wanted), "no panel shows {wanted}");
    }
    assert!(exprs.contains("rate(streamperf_requests_sent_total"), "the request rate");
}

#[test]
fn the_dashboard_takes_its_prometheus_from_a_data_source_variable() {
    let dashboard = dashboard();
    assert!(dashboard["schemaVersion"].as_u64().expect("schemaVersion") >= 36);
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    let source = variables.iter().find(|v| v["name"] == "DS_PROMETHEUS").expect("the variable");
    assert_eq!((&source["type"], &source["query"]), (&"datasource".into(), &"prometheus".into()));
    let mut ids = BTreeSet::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        let title = &panel["title"];
        assert!(ids.insert(panel["id"].as_u64().expect("an id")), "a repeated id at {title}");
        let uids = std::iter::once(panel).chain(panel["targets"].as_array().unwrap());
        for uid in uids.map(|p| &p["datasource"]["uid"]) {
            assert_eq!(uid, "${DS_PROMETHEUS}", "{title}");
        }
        let grid = &panel["gridPos"];
        let right = grid["x"].as_u64().unwrap() + grid["w"].as_u64().unwrap();
        assert!(right <= 24, "{title} is wider than the 24-column grid");
    }
}

/// `promtool check rules` parses every expression (as recording rules, with Grafana's
/// variables filled in): a typo in PromQL fails here. Runs when promtool is on PATH, and must
/// with `STREAMPERF_REQUIRE_PROMTOOL=1`, as the exposition tests.
#[test]
fn promtool_parses_every_expression() {
    let required = std::env::var_os("STREAMPERF_REQUIRE_PROMTOOL").is_some_and(|v| v == "1");
    let rules: Vec<String> = expressions(&dashboard())
        .iter()
        .filter(|e| !e.starts_with("label_values("))
        .enumerate()
        .map(|(i, e)| {
            let e = e.replace("$__rate_interval", "1m").replace("$instance", ".*");
            format!("      - record: streamperf:check_{i}\n        expr: '{e}'\n")
        })
        .collect();
    let file = tempfile::NamedTempFile::new().unwrap();
    let text = format!("groups:\n  - name: dashboard\n    rules:\n{}", rules.concat());
    std::fs::write(file.path(), text).unwrap();
    match std::process::Command::new("promtool").arg("check").arg("rules").arg(file.path()).output()
    {
        Ok(out) => assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) if required => panic!("STREAMPERF_REQUIRE_PROMTOOL=1 but promtool cannot run: {e}"),
        Err(_) => eprintln!("SKIPPED: promtool is not on PATH"),
    }
}
