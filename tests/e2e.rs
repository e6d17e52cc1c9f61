//! End to end: streamperf against the built-in mock on 127.0.0.1, asserting on what the mock
//! recorded and on the result file. Each test is bounded in requests and seconds.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

mod support;

use streamperf::cli::RunArgs;
use streamperf::mock::{MockOptions, MockServer};
use streamperf::record::{ErrorClass, TimeoutPhase};
use streamperf::report::json::read_result;
use support::{CHAT_BODY, args, run_args};

fn mock_options(ttft_ms: u64, itl_ms: u64, tokens: u64) -> MockOptions {
    MockOptions { port: 0, ttft_ms, itl_ms, tokens, jitter_ms: 0, ..MockOptions::default() }
}

async fn start_mock(ttft_ms: u64, itl_ms: u64, tokens: u64) -> MockServer {
    MockServer::start(mock_options(ttft_ms, itl_ms, tokens)).await.expect("mock starts")
}

fn chat_url(mock: &MockServer, query: &str) -> String {
    format!("http://{}/v1/chat/completions{query}", mock.addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttft_matches_the_mock_and_concurrency_is_exact() {
    let mock = start_mock(300, 2, 8).await;
    let dir = tempfile::tempdir().unwrap();
    let out = run_args(&args(chat_url(&mock, ""), 24, 8, dir.path())).await;

    let summary = &out.result.summary;
    assert_eq!(summary.success_count, 24, "{:?}", summary.failure_examples);
    let ttft = summary.ttft.as_ref().expect("ttft measured");
    assert!((0.300..=0.310).contains(&ttft.p50), "TTFT p50 {} not in [0.300, 0.310]", ttft.p50);
    // The role-only first chunk arrives at once: it is TTFB, not TTFT.
    assert!(summary.ttfb.as_ref().unwrap().p50 < 0.1);
    let snap = mock.stats.snapshot();
    assert_eq!(snap.requests, 24);
    assert_eq!(snap.max_in_flight, 8, "closed loop keeps exactly 8 in flight at the peak");
    let first = &out.result.metrics[0];
    assert_eq!(first.output_tokens, Some(8));
    assert_eq!(first.token_source, streamperf::record::TokenSource::Usage);
    assert_eq!(out.detected_format.as_deref(), Some("sse/openai-chat"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_rows_reach_the_mock_as_valid_json_and_cycle() {
    let mock = start_mock(1, 1, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let rows =
        ["say \"hi\", please", "line one\nline two", "写一个关于人工智能的短文", "back\\slash"];
    let mut csv = String::from("content,topic\n");
    for row in rows {
        csv.push_str(&format!("\"{}\",t\n", row.replace('"', "\"\"")));
    }
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/rows.csv"), &csv).unwrap();
    let (gbk, _, _) = encoding_rs::GBK.encode(&csv);
    std::fs::write(dir.path().join("data/rows-gbk.csv"), &gbk).unwrap();

    for (file, encoding) in [("data/rows.csv", "utf-8"), ("data/rows-gbk.csv", "gbk")] {
        mock.stats.reset();
        let config = serde_json::json!({
            "url": chat_url(&mock, ""),
            "body": {"messages": [{"role": "user", "content": "Q: {{content}}"}], "stream": true},
            "data_source": {"type": "csv", "file": file, "column": "content", "encoding": encoding},
            "concurrency": 1,
            "total_requests": 6
        });
        let path = dir.path().join(format!("config-{encoding}.json"));
        std::fs::write(&path, config.to_string()).unwrap();
        let args = RunArgs {
            config: Some(path),
            output: Some(dir.path().join("r.json")),
            quiet: true,
            ..RunArgs::default()
        };
        let out = run_args(&args).await;
        assert_eq!(out.result.summary.success_count, 6);
        let seen: Vec<String> = mock
            .stats
            .bodies()
            .iter()
            .map(|b| b["messages"][0]["content"].as_str().expect("valid JSON string").to_owned())
            .collect();
        let expected: Vec<String> =
            (0..6).map(|i| format!("Q: {}", rows[i % rows.len()])).collect();
        assert_eq!(seen, expected, "{encoding}: rows in order, cycled");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_classified_and_the_result_stays_valid() {
    let mock = start_mock(5, 5, 6).await;
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("?fail=status:500", ErrorClass::HttpStatus),
        ("?fail=close:3", ErrorClass::Incomplete),
        ("?fail=stall:2", ErrorClass::Timeout),
        ("?fail=error:2", ErrorClass::StreamError),
    ];
    for (query, class) in cases {
        let mut args = args(chat_url(&mock, query), 3, 3, dir.path());
        args.timeout = Some(0.5);
        let out = run_args(&args).await;
        let summary = &out.result.summary;
        assert_eq!(summary.failed_count, 3, "{query}");
        assert_eq!(summary.failures.get(&class), Some(&3), "{query}: {:?}", summary.failures);
        let record = &out.result.metrics[0];
        assert_eq!(record.error_class, Some(class));
        assert!(record.error.as_deref().is_some_and(|e| !e.is_empty()));
        if class == ErrorClass::Timeout {
            assert_eq!(record.timeout_phase, Some(TimeoutPhase::Total));
            assert!(record.ttft.is_some(), "a failed request keeps the timings it reached");
        }
        if class == ErrorClass::HttpStatus {
            assert_eq!(record.status, Some(500));
            assert!(record.error.as_deref().unwrap().contains("500"));
        }
        let path = out.result_path.expect("result written");
        assert_eq!(read_result(&path).expect("valid result file").summary.failed_count, 3);
    }
    let snap = mock.stats.snapshot();
    assert_eq!(snap.in_flight, 0, "stalled streams were abandoned, not leaked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_is_a_connect_failure() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }; // dropped: nothing listens there now
    let dir = tempfile::tempdir().unwrap();
    let out =
        run_args(&args(format!("http://127.0.0.1:{port}/v1/chat/completions"), 2, 2, dir.path()))
            .await;
    assert_eq!(out.result.summary.failures.get(&ErrorClass::Connect), Some(&2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_never_overwrites_the_first_result() {
    let mock = start_mock(1, 1, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let first = run_args(&args(chat_url(&mock, ""), 2, 1, dir.path())).await;
    let first_path = first.result_path.unwrap();
    let before = std::fs::read(&first_path).unwrap();
    let second = run_args(&args(chat_url(&mock, ""), 3, 1, dir.path())).await;
    let second_path = second.result_path.unwrap();
    assert_ne!(first_path, second_path);
    assert_eq!(std::fs::read(&first_path).unwrap(), before, "first result untouched");
    assert!(
        second.report.contains(&second_path.file_name().unwrap().to_string_lossy().to_string())
    );
    assert_eq!(read_result(&second_path).unwrap().summary.total_requests, 3);
}

/// The shipped example configs (the original tool's) run unchanged apart from the URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipped_example_configs_run_against_the_mock() {
    let mock = start_mock(5, 1, 4).await;
    let dir = tempfile::tempdir().unwrap();
    let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    for (file, route) in [
        ("config.json", "/v1/chat/completions"),
        ("config_csv_example.json", "/v1/chat/completions"),
        ("config_dify_sse.json", "/v1/workflows/run"),
        ("config.yaml", "/v1/chat/completions"),
        ("config.toml", "/v1/chat/completions"),
    ] {
        let args = RunArgs {
            config: Some(configs.join(file)),
            url: Some(format!("http://{}{route}", mock.addr)),
            requests: Some(6),
            concurrency: vec![3],
            output: Some(dir.path().join("r.json")),
            quiet: true,
            ..RunArgs::default()
        };
        let out = run_args(&args).await;
        let summary = &out.result.summary;
        assert_eq!(summary.success_count, 6, "{file}: {:?}", summary.failure_examples);
        assert!(summary.ttft.is_some(), "{file}");
    }
}

fn streamperf(args: &[&str], dir: &Path) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_streamperf"))
        .args(args)
        .current_dir(dir)
        .env("LANG", "C")
        .output()
        .expect("binary runs")
}

async fn streamperf_async(args: Vec<String>, dir: PathBuf) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        streamperf(&args, &dir)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_command_line_works_without_a_subcommand() {
    let mock = start_mock(2, 1, 4).await;
    let dir = tempfile::tempdir().unwrap();
    let url = chat_url(&mock, "");
    let args = ["-u", &url, "-n", "50", "-p", "10", "--body", CHAT_BODY, "--no-history"];
    let out =
        streamperf_async(args.iter().map(|s| s.to_string()).collect(), dir.path().into()).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("[001] first token:"), "per-request lines as in the seed");
    assert!(stdout.contains("done:"));
    assert!(stdout.contains("TTFT"));
    assert_eq!(mock.stats.snapshot().requests, 50);
    assert!(dir.path().join("test_results.json").exists(), "the seed's default result path");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chinese_report_with_lang_zh() {
    let mock = start_mock(2, 1, 4).await;
    let dir = tempfile::tempdir().unwrap();
    let url = chat_url(&mock, "");
    let args = [
        "run",
        "-u",
        &url,
        "-n",
        "4",
        "-p",
        "2",
        "--lang",
        "zh",
        "--body",
        CHAT_BODY,
        "--no-history",
    ];
    let out =
        streamperf_async(args.iter().map(|s| s.to_string()).collect(), dir.path().into()).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.contains("首token:"), "{stdout}");
    assert!(stdout.contains("测试报告"), "{stdout}");
    assert!(stdout.contains("【总体统计】"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_config_exits_2_with_one_message_and_sends_nothing() {
    let mock = start_mock(1, 1, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let config = format!(r#"{{"url": "{}", "concurency": 5}}"#, chat_url(&mock, ""));
    std::fs::write(dir.path().join("bad.json"), config).unwrap();
    let out = streamperf_async(
        vec!["-c".into(), "bad.json".into(), "--no-history".into()],
        dir.path().into(),
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("concurency") && stderr.contains("concurrency"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one clear message: {stderr}");
    assert_eq!(mock.stats.snapshot().requests, 0);
}

#[test]
fn demo_prints_the_full_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = streamperf(&["demo", "-n", "30", "-p", "10"], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("TTFT"), "{stdout}");
    assert!(!stdout.contains("Success: 0 "), "{stdout}");
    let _ = Duration::ZERO;
}

#[test]
fn demo_speaks_every_format_and_shows_reasoning_beside_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["demo", "-n", "6", "-p", "3", "--format", "anthropic", "--reasoning-tokens", "20"];
    let out = streamperf(&args, dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Format:      sse/anthropic"), "{stdout}");
    assert!(stdout.contains("[First token vs first answer (reasoning)]"), "{stdout}");
    assert!(stdout.contains("Succeeded:   6 (100.0%)"), "{stdout}");

    let bad = streamperf(&["demo", "--format", "generic"], dir.path());
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("`demo --format generic`: use one of openai-chat"), "{stderr}");
}

/// The original README's Dify block: TTFT is the `workflow_started` event, the output comes
/// from `data.outputs.result` of `workflow_finished`, with real Dify framing (JSON `event`
/// field) and the README's own (`event:` lines, outputs straight in `data:`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dify_workflow_with_the_seeds_stream_format() {
    let mock = start_mock(150, 5, 4).await;
    let dir = tempfile::tempdir().unwrap();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/config_dify_sse.json");
    for query in ["", "?framing=event-lines"] {
        let args = RunArgs {
            config: Some(config.clone()),
            url: Some(format!("http://{}/v1/workflows/run{query}", mock.addr)),
            requests: Some(2),
            concurrency: vec![2],
            output: Some(dir.path().join("r.json")),
            quiet: true,
            save_output: true,
            ..RunArgs::default()
        };
        let out = run_args(&args).await;
        assert_eq!(out.result.summary.success_count, 2, "{query}: {:?}", out.result.summary);
        let record = &out.result.metrics[0];
        assert!(
            record.ttft.unwrap() < Duration::from_millis(100),
            "{query}: workflow_started is immediate"
        );
        assert!(record.total_time.unwrap() >= Duration::from_millis(165), "{query}");
        assert_eq!(
            record.output.as_deref(),
            Some(streamperf::mock::mock_text(4).as_str()),
            "{query}"
        );
    }
}

/// Secrets (`Authorization`, `*api-key*`, `${ENV}` values) never appear in any output: not
/// in the terminal report, not in per-request lines, not in the result file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_any_output() {
    let mock = start_mock(1, 1, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let config = serde_json::json!({
        "url": chat_url(&mock, "?fail=status:401"),
        "headers": {"Authorization": "Bearer sk-header-secret-1234", "X-Api-Key": "${STREAMPERF_E2E_KEY}"},
        "body": {"messages": [{"role": "user", "content": "token ${STREAMPERF_E2E_KEY}"}], "stream": true},
        "total_requests": 2,
        "concurrency": 1
    });
    std::fs::write(dir.path().join("secret.json"), config.to_string()).unwrap();
    let out = tokio::task::spawn_blocking({
        let dir = dir.path().to_owned();
        move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_streamperf"))
                .args(["-c", "secret.json", "-o", "r.json", "--no-history"])
                .current_dir(&dir)
                .env("STREAMPERF_E2E_KEY", "env-secret-5678")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(out.status.success());
    let bodies = mock.stats.bodies();
    assert_eq!(
        bodies[0]["messages"][0]["content"], "token env-secret-5678",
        "the mock got the real value"
    );
    let result = std::fs::read_to_string(dir.path().join("r.json")).unwrap();
    let printed =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    for text in [&result, &printed] {
        assert!(!text.contains("sk-header-secret-1234"), "{text}");
        assert!(!text.contains("env-secret-5678"), "{text}");
    }
    assert!(result.contains("401"), "the failure itself is still reported");
}

/// The SLO gate: a failing objective makes the exit code 3, a passing one 0, and the report
/// lists each with its measured value and the goodput. `--export` and `--prometheus` write
/// their files beside the result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slos_gate_the_exit_code_and_exports_are_written() {
    let mock = start_mock(100, 2, 4).await;
    let dir = tempfile::tempdir().unwrap();
    let url = chat_url(&mock, "");
    let base = ["-u", &url, "-n", "6", "-p", "3", "-q", "--body", CHAT_BODY, "--no-history"];
    let run = |slo: &'static str, out: &'static str| {
        let mut args: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        args.extend(["--slo", slo, "--slo", "error_rate<1%", "-o", out].map(String::from));
        args.extend(["--export", "csv,md", "--prometheus", "metrics.prom"].map(String::from));
        streamperf_async(args, dir.path().to_path_buf())
    };
    let pass = run("ttft.p95<2s", "pass.json").await;
    let stdout = String::from_utf8_lossy(&pass.stdout);
    assert_eq!(pass.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("[Service-level objectives (SLOs)]"), "{stdout}");
    assert!(stdout.contains("ttft.p95<2s: 0.1"), "{stdout}");
    assert!(stdout.contains("— pass") && stdout.contains("Goodput:"), "{stdout}");

    let fail = run("ttft.p95<50ms", "fail.json").await;
    let stdout = String::from_utf8_lossy(&fail.stdout);
    assert_eq!(fail.status.code(), Some(3), "a failed SLO exits 3: {stdout}");
    assert!(stdout.contains("ttft.p95<50ms: 0.1") && stdout.contains("— fail"), "{stdout}");
    assert!(stdout.contains("error_rate<1%: 0") && stdout.contains("— pass"), "{stdout}");

    let result: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("fail.json")).unwrap()).unwrap();
    assert_eq!(result["slos"][0]["pass"], false);
    assert_eq!(result["summary"]["goodput"], 0.0, "no request met ttft < 50 ms");
    let csv = std::fs::read_to_string(dir.path().join("fail.csv")).expect("csv export");
    assert_eq!(csv.lines().count(), 7, "a header and one row a request");
    let md = std::fs::read_to_string(dir.path().join("fail.md")).expect("markdown export");
    assert!(md.contains("| TTFT |"), "{md}");
    let prom = std::fs::read_to_string(dir.path().join("metrics.prom")).expect("prometheus file");
    assert!(prom.contains("streamperf_ttft_seconds{quantile=\"0.5\"}"), "{prom}");
    assert!(prom.contains("streamperf_requests_total{outcome=\"success\"} 6"), "{prom}");
}

/// `streamperf report` renders a saved result again, from the file alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_result_renders_again() {
    let mock = start_mock(20, 1, 3).await;
    let dir = tempfile::tempdir().unwrap();
    let out = run_args(&args(chat_url(&mock, ""), 4, 2, dir.path())).await;
    let saved = out.result_path.expect("result written").display().to_string();
    let text =
        streamperf_async(["report", &saved].map(String::from).to_vec(), dir.path().to_path_buf())
            .await;
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(text.status.success(), "{}", String::from_utf8_lossy(&text.stderr));
    assert!(stdout.contains("[Time to first token (TTFT)]") && stdout.contains("Requests:    4"));
    let md = streamperf_async(
        ["report", &saved, "--format", "md", "-o", "again.md"].map(String::from).to_vec(),
        dir.path().to_path_buf(),
    )
    .await;
    assert!(md.status.success());
    let again = std::fs::read_to_string(dir.path().join("again.md")).unwrap();
    assert!(again.contains("| TTFT |"), "{again}");
    let bad = streamperf_async(
        ["report", &saved, "--format", "pdf"].map(String::from).to_vec(),
        dir.path().to_path_buf(),
    )
    .await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("`--format pdf`: use text"));
    let missing =
        streamperf_async(["report", "nope.json"].map(String::from).to_vec(), dir.path().into())
            .await;
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nope.json"));
}
