//! A target that does not accept connections: workers back off, a run where nothing ever
//! connected stops early as `unreachable` and says so, and a target that comes up (or was up
//! all along) is measured as before. Every run here ends in well under a second or two.

mod support;

use std::time::{Duration, Instant};

use streamperf::cli::RunArgs;
use streamperf::engine::StopReason;
use streamperf::mock::{MockOptions, MockServer};
use streamperf::record::ErrorClass;
use streamperf::run::RunOutput;
use support::{CHAT_BODY, run_args};

/// A loopback port nothing listens on: bound, then released.
fn refused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/v1/chat/completions")
}

/// `-d 3s` to `url`, with `extra` on top; the run and how long it took.
async fn run_for_3s(url: String, extra: impl FnOnce(&mut RunArgs)) -> (RunOutput, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let mut args = support::args(url, 0, 10, dir.path());
    args.requests = None;
    args.duration = Some("3s".into());
    extra(&mut args);
    let started = Instant::now();
    let out = run_args(&args).await;
    (out, started.elapsed())
}

/// What every run against a dead target shows: stopped early, few requests, all `connect`
/// failures, and the reason in words.
fn assert_stopped_as_unreachable(out: &RunOutput, took: Duration, port: u16) {
    let summary = &out.result.summary;
    assert_eq!(out.result.run.stop_reason, Some(StopReason::Unreachable), "{summary:?}");
    assert!(took < Duration::from_secs(2), "stopped early, not at -d 3s: {took:?}");
    assert!(summary.total_requests < 200, "{} requests to a dead port", summary.total_requests);
    assert!(summary.total_requests >= 20, "stopped after 20 in a row, not before");
    assert_eq!(summary.failures.get(&ErrorClass::Connect), Some(&summary.total_requests));
    let line = format!(
        "stopped: nothing ever connected to {} (20 connect failures in a row): is the server up?",
        url(port)
    );
    assert!(out.report.contains(&line), "{}", out.report);
    assert!(out.report.contains("unreachable"), "{}", out.report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_target_stops_the_closed_loop_early_as_unreachable() {
    let port = refused_port();
    let (out, took) = run_for_3s(url(port), |_| {}).await;
    assert_stopped_as_unreachable(&out, took, port);
    // Ten workers, each failing once and backing off before its second request.
    let delayed = out.result.connections.backoff_delayed;
    assert!(delayed >= 10, "backed off: {:?}", out.result.connections);
    let line = format!("back-off: {delayed} requests waited after failed connection attempts");
    assert!(out.report.contains(&line), "{}", out.report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_target_stops_the_open_loop_early_as_unreachable() {
    let port = refused_port();
    let (out, took) = run_for_3s(url(port), |args| args.rate = vec![100.0]).await;
    assert_stopped_as_unreachable(&out, took, port);
}

/// The open loop keeps its schedule: arrivals at a worker that is backing off fail at once
/// without a connection attempt, and say so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_loop_fails_arrivals_fast_while_backing_off() {
    let port = refused_port();
    let (out, took) = run_for_3s(url(port), |args| {
        args.rate = vec![1000.0];
        args.arrival = Some("constant".into());
    })
    .await;
    assert_stopped_as_unreachable(&out, took, port);
    let fast = out.result.connections.backoff_failed_fast;
    assert!(fast > 0, "{:?}", out.result.connections);
    let not_sent: Vec<_> = out
        .result
        .metrics
        .iter()
        .filter_map(|r| r.error.as_deref())
        .filter(|e| e.starts_with("not sent: backing off after"))
        .collect();
    assert_eq!(not_sent.len() as u64, fast, "{not_sent:?}");
    assert!(not_sent.iter().all(|e| e.contains("refused")), "{not_sent:?}");
    let line = format!("back-off: {fast} requests failed at once, without a connection attempt");
    assert!(out.report.contains(&line), "{}", out.report);
}

/// A server that comes up after the run started: a few `connect` failures, backed off, then
/// the run goes on to its end. The wait before the first request that connects is not in its
/// latency.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_comes_up_after_a_few_failures_is_measured_as_usual() {
    let port = refused_port();
    let options = MockOptions { port, ttft_ms: 5, itl_ms: 1, tokens: 4, ..MockOptions::default() };
    // One worker tries at 0, 10, 30, 70, 150, 310 ms …: the server is up well before the
    // 20th attempt (about 13 s in).
    let server = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        MockServer::start(options).await.expect("mock starts on the released port")
    });
    let dir = tempfile::tempdir().unwrap();
    let out = run_args(&support::args(url(port), 10, 1, dir.path())).await;
    let _mock = server.await.unwrap();

    let summary = &out.result.summary;
    assert_eq!(out.result.run.stop_reason, Some(StopReason::Completed), "{summary:?}");
    let failed = summary.failures.get(&ErrorClass::Connect).copied().unwrap_or_default();
    assert!((1..20).contains(&failed), "{summary:?}");
    assert_eq!(summary.success_count + failed, 10, "{summary:?}");
    assert_eq!(out.result.connections.backoff_delayed, failed, "one wait after each failure");
    let first = out.result.metrics.iter().find(|r| r.error.is_none()).expect("one succeeded");
    let ttft = first.ttft.expect("ttft");
    // It waited at least 10 ms (up to 1 s) before it was sent; 5 ms of TTFT plus a connect.
    assert!(ttft < Duration::from_millis(100), "the back-off is not in TTFT: {ttft:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_is_up_never_backs_off() {
    let options =
        MockOptions { port: 0, ttft_ms: 1, itl_ms: 1, tokens: 2, ..MockOptions::default() };
    let mock = MockServer::start(options).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = run_args(&support::args(url(mock.addr.port()), 20, 4, dir.path())).await;
    assert_eq!(out.result.summary.success_count, 20);
    let c = &out.result.connections;
    assert_eq!((c.backoff_delayed, c.backoff_failed_fast), (0, 0), "{c:?}");
    assert!(!out.report.contains("back-off"), "{}", out.report);
}

/// Through the binary, in Chinese: the exit code of a run that stopped early (0, as the README
/// says) and the reason in words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_says_in_chinese_that_nothing_connected() {
    let dir = tempfile::tempdir().unwrap();
    let url = url(refused_port());
    let cwd = dir.path().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_streamperf"))
            .args(["-u", &url, "-d", "3s", "-q", "--body", CHAT_BODY, "--no-history"])
            .args(["-o", "r.json", "--lang", "zh"])
            .current_dir(&cwd)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("已停止:始终无法连接到 http://127.0.0.1:"), "{stdout}");
    assert!(stdout.contains("(连续 20 次连接失败):服务器是否已启动?"), "{stdout}");
    assert!(dir.path().join("r.json").exists(), "the result is written");
}
