//! The result file: never overwritten, round-trips, and keeps the seed's keys.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use streamperf::metrics::Aggregator;
use streamperf::record::{ErrorClass, RequestRecord, TokenSource};
use streamperf::report::json::{read_result, write_result};
use streamperf::report::{RunResult, SCHEMA_VERSION, ToolInfo};

fn record(id: u64, error: Option<(ErrorClass, &str)>) -> RequestRecord {
    let ok = error.is_none();
    let secs = |ms: u64| ok.then(|| Duration::from_millis(ms));
    RequestRecord {
        request_id: id,
        ttft: secs(200 + id),
        total_time: secs(2400 + id),
        total_tokens: if ok { 45 } else { 0 },
        tokens_per_second: ok.then_some(18.32),
        error: error.map(|(_, m)| m.to_string()),
        ttfb: secs(100),
        ttfat: secs(200 + id),
        queue_wait: Some(Duration::ZERO),
        connect: None,
        tpot: secs(50),
        max_gap: secs(80),
        chunks: 45,
        bytes: 12_636,
        chunks_per_second: ok.then_some(18.75),
        output_tokens: ok.then_some(45),
        reasoning_tokens: None,
        input_tokens: ok.then_some(12),
        requested_output_tokens: None,
        cached_tokens: None,
        started_at: None,
        session: None,
        turn: None,
        content_encoding: None,
        token_source: TokenSource::Usage,
        status: Some(if ok { 200 } else { 429 }),
        error_class: error.map(|(c, _)| c),
        timeout_phase: None,
        finish_reason: ok.then(|| "stop".to_string()),
        final_url: None,
        level: None,
        warmup: false,
        output: None,
        reasoning: None,
        itl: vec![Duration::from_millis(50); 3],
        itl_token: vec![(Duration::from_millis(25), 2); 3],
    }
}

fn sample(requests: u64) -> RunResult {
    let mut metrics: Vec<RequestRecord> = (1..requests).map(|i| record(i, None)).collect();
    metrics.push(record(requests, Some((ErrorClass::HttpStatus, "HTTP 429: slow down"))));
    let mut agg = Aggregator::new();
    metrics.iter().for_each(|r| agg.add(r));
    RunResult {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo::default(),
        config: serde_json::json!({
            "url": "http://127.0.0.1:8000/v1/chat/completions",
            "concurrency": 2,
            "total_requests": requests,
            "timestamp": "2026-11-27T21:30:00",
        }),
        summary: agg.summary(Duration::from_secs(5)),
        metrics,
        ..RunResult::default()
    }
}

fn json_of(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("read result");
    serde_json::from_str(&text).expect("valid JSON")
}

#[test]
fn a_second_write_goes_beside_the_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("test_results.json");
    let first = write_result(&sample(3), Some(&target)).expect("first write");
    assert_eq!(first, target);
    let before = std::fs::read(&first).expect("read first");

    let second = write_result(&sample(4), Some(&target)).expect("second write");
    let third = write_result(&sample(5), Some(&target)).expect("third write");
    assert_ne!(second, first);
    assert_ne!(third, second);
    assert_eq!(std::fs::read(&first).expect("read first again"), before, "first file unchanged");
    let name = second.file_name().and_then(|n| n.to_str()).expect("name");
    assert!(name.starts_with("test_results_") && name.ends_with(".json"), "{name}");
    assert_eq!(second.parent(), Some(dir.path()));
    assert_eq!(read_result(&second).expect("read second").metrics.len(), 4);
    assert_eq!(read_result(&third).expect("read third").metrics.len(), 5);
    // Only the three results: no temporary file left behind.
    assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 3);
}

#[test]
fn result_round_trips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let result = sample(10);
    let path = write_result(&result, Some(&dir.path().join("nested/run.json"))).expect("write");
    let back = read_result(&path).expect("read");
    // serde_json reads floats to within one ULP unless its `float_roundtrip` feature is on.
    let (a, b) = (&back.summary, &result.summary);
    assert_eq!((a.success_count, a.failed_count, a.total_requests), (9, 1, 10));
    assert_eq!(
        (a.failures.clone(), a.token_sources.clone()),
        (b.failures.clone(), b.token_sources.clone())
    );
    assert_eq!(a.failure_examples, b.failure_examples);
    let (ta, tb) = (a.ttft.clone().expect("ttft"), b.ttft.clone().expect("ttft"));
    for (x, y) in [(ta.mean, tb.mean), (ta.p99, tb.p99), (ta.stddev, tb.stddev), (ta.min, tb.min)] {
        assert!((x - y).abs() < 1e-12, "{x} vs {y}");
    }
    assert_eq!(a.itl.as_ref().map(|s| s.count), Some(27));
    assert_eq!(back.config, result.config);
    assert_eq!(back.metrics.len(), result.metrics.len());
    // Durations go through seconds as floats; ITL gaps are not written.
    assert_eq!(back.metrics[0].ttft, result.metrics[0].ttft);
    assert_eq!(back.metrics[9].error_class, Some(ErrorClass::HttpStatus));
    assert!(back.metrics[0].itl.is_empty());
}

#[test]
fn the_file_keeps_the_seed_layout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path =
        write_result(&sample(3), Some(&dir.path().join("test_results.json"))).expect("write");
    let v = json_of(&path);
    for key in ["url", "concurrency", "total_requests", "timestamp"] {
        assert!(v["config"].get(key).is_some(), "config.{key}");
    }
    assert_eq!(v["summary"]["success_count"], 2);
    assert_eq!(v["summary"]["failed_count"], 1);
    assert_eq!(v["summary"]["failures"]["http_status"], 1);
    assert_eq!(v["schema_version"], SCHEMA_VERSION);
    let first = v["metrics"][0].as_object().expect("metrics[0] is an object");
    let keys: Vec<&str> = first.keys().map(String::as_str).take(6).collect();
    assert_eq!(
        keys,
        ["request_id", "ttft", "total_time", "total_tokens", "tokens_per_second", "error"]
    );
    assert_eq!(first["request_id"], 1);
    assert_eq!(first["ttft"], 0.201);
    assert_eq!(first["error"], Value::Null);
    assert_eq!(v["metrics"][2]["ttft"], Value::Null);
    assert_eq!(v["metrics"][2]["error"], "HTTP 429: slow down");
    let top: Vec<&str> = v.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(
        top,
        [
            "schema_version",
            "tool",
            "config",
            "summary",
            "metrics",
            "run",
            "client",
            "connections",
            "timeseries"
        ],
        "the seed's sections first, then streamperf's"
    );
}

#[test]
fn errors_name_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("absent.json");
    let err = read_result(&missing).expect_err("missing file");
    assert!(format!("{err:#}").contains("absent.json"), "{err:#}");

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{not json").expect("write");
    let err = read_result(&bad).expect_err("bad file");
    assert!(format!("{err:#}").contains("bad.json"), "{err:#}");

    // A plain file where the directory should be.
    let blocked = dir.path().join("file");
    std::fs::write(&blocked, "").expect("write");
    let err = write_result(&sample(2), Some(&blocked.join("r.json"))).expect_err("no dir");
    assert!(format!("{err:#}").contains("file"), "{err:#}");
}

/// The original tool's `test_results.json` (the example in its README, with a failure): a user
/// switching over renders and compares the results they already have.
#[test]
fn the_original_tools_result_renders_and_compares() {
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("old.json");
    std::fs::write(
        &original,
        r#"{
  "config": {"url": "https://api.example.com/stream", "concurrency": 10,
             "total_requests": 3, "timestamp": "2024-01-15T10:30:00"},
  "summary": {"success_count": 2, "failed_count": 1},
  "metrics": [
    {"request_id": 1, "ttft": 0.234, "total_time": 2.456, "total_tokens": 45,
     "tokens_per_second": 18.32, "error": null},
    {"request_id": 2, "ttft": 0.334, "total_time": 2.956, "total_tokens": 50,
     "tokens_per_second": 16.9, "error": null},
    {"request_id": 3, "ttft": null, "total_time": 30.0, "total_tokens": 0,
     "tokens_per_second": null, "error": "TimeoutError()"}
  ]
}"#,
    )
    .unwrap();
    let new = write_result(&sample(20), Some(&dir.path().join("new.json"))).unwrap();
    let streamperf = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_streamperf"))
            .args(args)
            .env("LC_ALL", "C")
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };

    let text = streamperf(&["report", "old.json"]);
    assert!(text.contains("Succeeded:   2 (66.7%)"), "{text}");
    assert!(text.contains("Imported:") && text.contains("estimated"), "{text}");
    assert!(text.contains("timeout"), "the failure is classified: {text}");
    let html = streamperf(&["report", "old.json", "--format", "html"]);
    assert!(html.contains("data-chart=\"ttft-histogram\"") && html.contains("api.example.com"));

    let compared =
        streamperf(&["compare", "old.json", &new.display().to_string(), "--format", "json"]);
    let compared: Value = serde_json::from_str(&compared).unwrap();
    let p50 = compared["metrics"].as_array().unwrap().iter().find(|m| m["metric"] == "ttft.p50");
    assert!(
        p50.is_some_and(|m| m["a"].as_f64().is_some_and(|a| (a - 0.234).abs() < 0.001)),
        "{compared}"
    );
}
