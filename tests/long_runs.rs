//! Long runs against the built-in mock: the records file holds every request while the result
//! keeps a bounded part, live metrics answer during the run and end equal to the result, and
//! a SIGKILL leaves every finished record on disk, each line whole. Bounded: each run sends at
//! most a few hundred requests over a few seconds.

mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use streamperf::cli::RunArgs;
use streamperf::mock::{MockOptions, MockServer};
use support::{args, run_args};

async fn mock(itl_ms: u64) -> MockServer {
    let options = MockOptions { port: 0, ttft_ms: 5, itl_ms, tokens: 8, ..MockOptions::default() };
    MockServer::start(options).await.unwrap()
}

/// `--max-records-in-result 5 -n 20`: the result's metrics hold 5, the records file all 20,
/// the report says where they are, and reading the result back gives all 20.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_result_keeps_a_bounded_part_and_the_records_file_all() {
    let mock = mock(0).await;
    let dir = tempfile::tempdir().unwrap();
    let a = RunArgs {
        max_records_in_result: Some(5),
        ..args(mock.url("/v1/chat/completions"), 20, 2, dir.path())
    };
    let out = run_args(&a).await;
    assert_eq!((out.result.summary.total_requests, out.result.metrics.len()), (20, 5));
    let info = out.result.records.clone().unwrap();
    assert_eq!((info.total, info.in_result), (20, 5));
    assert!(info.file.ends_with("result.records.jsonl"), "{}", info.file);
    let lines = streamperf::records::read_records(std::path::Path::new(&info.file)).unwrap();
    assert_eq!(lines.len(), 20);
    assert!(out.report.contains("hold the first 5 of 20 records"), "{}", out.report);
    let back = streamperf::report::read_result(&out.result_path.unwrap()).unwrap();
    assert_eq!(back.metrics.len(), 20, "read back whole");
}

/// Goodput counts every request that met the objectives, not only those kept in `metrics`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goodput_covers_the_records_beyond_the_result() {
    let mock = mock(0).await;
    let dir = tempfile::tempdir().unwrap();
    let a = RunArgs {
        max_records_in_result: Some(3),
        slo: vec!["ttft.p95<10s".into()],
        ..args(mock.url("/v1/chat/completions"), 12, 2, dir.path())
    };
    let out = run_args(&a).await;
    let s = &out.result.summary;
    assert_eq!((s.success_count, out.result.metrics.len()), (12, 3));
    let expected = 12.0 / s.duration;
    assert!((s.goodput.unwrap() - expected).abs() < 1e-9, "{:?} vs {expected}", s.goodput);
}

/// One GET of `path` on 127.0.0.1:`port`: the body, when the server answered 200.
fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_owned())
}

/// The value of the sample `name` (with exactly `labels`) in a Prometheus page.
fn sample(page: &str, name: &str, labels: &str) -> Option<f64> {
    let key = format!("{name}{labels} ");
    let line = page.lines().find(|l| l.starts_with(&key))?;
    line[key.len()..].trim().parse().ok()
}

/// `promtool check metrics` on `page`, when promtool is on PATH (required when
/// `STREAMPERF_REQUIRE_PROMTOOL=1`, as `.ci/run` sets).
fn promtool_accepts(page: &str) {
    let spawned = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = spawned else {
        let required = std::env::var_os("STREAMPERF_REQUIRE_PROMTOOL").is_some_and(|v| v == "1");
        assert!(!required, "STREAMPERF_REQUIRE_PROMTOOL=1 but promtool cannot run");
        return;
    };
    child.stdin.take().unwrap().write_all(page.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "promtool: {said}\n{page}");
}

/// `--metrics-listen`: the page answers while the run goes, promtool-clean, and its last
/// figures equal the result's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_metrics_answer_during_the_run_and_end_equal_to_the_result() {
    let mock = mock(20).await;
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let a = RunArgs {
        metrics_listen: Some(format!("127.0.0.1:{port}")),
        rate: vec![40.0],
        ..args(mock.url("/v1/chat/completions"), 60, 1, dir.path())
    };
    let run = tokio::spawn(async move { run_args(&a).await });
    let scraper = tokio::task::spawn_blocking(move || {
        let (mut pages, deadline) = (Vec::new(), Instant::now() + Duration::from_secs(20));
        while Instant::now() < deadline {
            match get(port, "/metrics") {
                Some(page) => pages.push(page),
                None if !pages.is_empty() => break, // the run is over
                None => {}
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        pages
    });
    let out = run.await.unwrap();
    let pages = scraper.await.unwrap();
    let during = pages.iter().filter(|p| sample(p, "streamperf_in_flight", "").is_some()).count();
    assert!(during >= 5, "scraped {} pages", pages.len());
    let last = pages.last().unwrap();
    promtool_accepts(last);
    let s = &out.result.summary;
    assert_eq!(sample(last, "streamperf_requests_sent_total", ""), Some(60.0));
    assert_eq!(
        sample(last, "streamperf_requests_total", "{outcome=\"success\"}"),
        Some(s.success_count as f64)
    );
    assert_eq!(
        sample(last, "streamperf_output_tokens_total", ""),
        Some(s.total_output_tokens as f64)
    );
    assert_eq!(sample(last, "streamperf_in_flight", ""), Some(0.0));
    let sent: Vec<f64> =
        pages.iter().filter_map(|p| sample(p, "streamperf_requests_sent_total", "")).collect();
    assert!(sent.windows(2).all(|w| w[0] <= w[1]), "a counter only grows: {sent:?}");
}

/// SIGKILL mid-run: the records file's lines are all whole records, as many as the mock
/// answered, give or take the requests in flight at the kill.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_leaves_every_finished_record_on_disk() {
    let mock = mock(10).await;
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("r.records.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_streamperf"))
        .args(["-u", &mock.url("/v1/chat/completions"), "--body", support::CHAT_BODY])
        .args(["--rate", "50", "-d", "30s", "-q", "--no-history"])
        .arg("-o")
        .arg(dir.path().join("r.json"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = |path: &std::path::Path| {
        std::fs::read(path).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while lines(&records) < 40 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // SAFETY: kill(2) on our own child's pid; no memory is touched.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
    child.wait().unwrap();
    let kept = streamperf::records::read_records(&records).unwrap();
    assert!(kept.len() >= 40, "{}", kept.len());
    let raw = std::fs::read_to_string(&records).unwrap();
    assert!(raw.ends_with('\n'), "every line whole");
    let answered = mock.stats.snapshot().requests;
    // Each request takes ~90 ms at 50 a second: a handful are in flight at any instant.
    assert!(
        kept.len() as u64 <= answered && answered - kept.len() as u64 <= 10,
        "{} of {answered}",
        kept.len()
    );
    assert!(!dir.path().join("r.json").exists(), "a killed run writes no result file");
}
