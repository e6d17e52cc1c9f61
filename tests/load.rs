//! Load models end to end against the built-in mock: the open loop keeps its schedule whatever
//! the server does (no coordinated omission), a cap makes requests queue visibly, runs stop on
//! a duration or an error limit, warm-ups stay out of the statistics, and a Ctrl-C never loses
//! a run. (The self-check's 3,000-stream run is in tests/selfcheck.rs: beside these timing
//! tests it would starve them of the two cores.)

mod support;

use std::time::Duration;

use streamperf::cli::RunArgs;
use streamperf::engine::StopReason;
use streamperf::mock::{MockOptions, MockServer};
use streamperf::record::ErrorClass;
use support::{args, run_args};

async fn start(ttft_ms: u64, itl_ms: u64, tokens: u64) -> MockServer {
    let options = MockOptions { port: 0, ttft_ms, itl_ms, tokens, ..MockOptions::default() };
    MockServer::start(options).await.expect("mock starts")
}

fn chat(mock: &MockServer, query: &str) -> String {
    format!("{}{query}", mock.url("/v1/chat/completions"))
}

/// TTFT 2 s at 20 requests per second: the mock sees 20 new requests a second and about 40 in
/// flight, and the reported TTFT stays 2 s: the client never waits for the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_keeps_its_schedule_against_a_slow_server() {
    let mock = start(2000, 5, 4).await;
    let dir = tempfile::tempdir().unwrap();
    let run = RunArgs {
        rate: vec![20.0],
        arrival: Some("constant".into()),
        duration: Some("3s".into()),
        requests: None,
        ..args(chat(&mock, ""), 1, 1, dir.path())
    };
    let out = run_args(&run).await;
    let (s, info) = (&out.result.summary, &out.result.run);
    assert_eq!(s.success_count, 60, "{:?}", s.failure_examples);
    let stats = mock.stats.snapshot();
    assert_eq!(stats.requests, 60, "20 a second for 3 s");
    assert!((38..=44).contains(&stats.max_in_flight), "in flight {}", stats.max_in_flight);
    let ttft = s.ttft.as_ref().unwrap();
    assert!((2.0..2.1).contains(&ttft.p99), "TTFT p99 {}", ttft.p99);
    assert_eq!(info.load_model, "open");
    assert_eq!(info.stop_reason, Some(StopReason::Duration));
    let achieved = info.achieved_rate.unwrap();
    assert!((achieved - 20.0).abs() < 0.2, "achieved {achieved} req/s");
    assert_eq!(info.queued_sends, 0);
    // The per-second series saw the load rise to ~40 in flight.
    let peak = out.result.timeseries.iter().map(|s| s.in_flight).max().unwrap();
    assert!((36..=44).contains(&peak), "series peak {peak}");
    assert!(out.report.contains("[Load]") && out.report.contains("open loop, 20 req/s"));
}

/// With `--max-in-flight 10` the server can take only 10 at a time: requests queue in the
/// client, `queue_wait` grows, the achieved rate drops to ~10 / 2 s, and the latencies, which
/// count from the intended send, show the wait; the service-time view does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cap_on_requests_in_flight_shows_as_queue_wait() {
    let mock = start(2000, 5, 4).await;
    let dir = tempfile::tempdir().unwrap();
    let run = RunArgs {
        rate: vec![20.0],
        arrival: Some("constant".into()),
        max_in_flight: Some(10),
        duration: Some("5s".into()),
        requests: None,
        ..args(chat(&mock, ""), 1, 1, dir.path())
    };
    let out = run_args(&run).await;
    let (s, info) = (&out.result.summary, &out.result.run);
    assert_eq!(mock.stats.snapshot().max_in_flight, 10);
    let achieved = info.achieved_rate.unwrap();
    assert!((4.0..6.5).contains(&achieved), "achieved {achieved} req/s");
    assert!(info.queued_sends > 0);
    let waits: Vec<f64> =
        out.result.metrics.iter().map(|r| r.queue_wait.unwrap().as_secs_f64()).collect();
    assert!(waits[..10].iter().all(|w| *w < 0.05), "the first 10 go at once: {waits:?}");
    assert!(waits.last().unwrap() > &1.0, "the wait grows: {waits:?}");
    let (ttft, service) = (s.ttft.as_ref().unwrap(), s.service_ttft.as_ref().unwrap());
    assert!(ttft.max > 3.0, "TTFT from the schedule includes the wait: {}", ttft.max);
    assert!(service.max < 2.1, "the service-time view does not: {}", service.max);
    assert!(out.report.contains("Queue wait:"), "{}", out.report);
}

/// `-d` alone ends a closed-loop run; `--max-errors` stops one that keeps failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duration_and_error_limits_stop_the_run() {
    let mock = start(50, 1, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let timed = RunArgs {
        duration: Some("1s".into()),
        requests: None,
        ..args(chat(&mock, ""), 1, 4, dir.path())
    };
    let out = run_args(&timed).await;
    let n = out.result.summary.success_count;
    assert!((40..=90).contains(&n), "4 workers × ~55 ms requests for 1 s: {n}");
    assert_eq!(out.result.run.stop_reason, Some(StopReason::Duration));
    assert_eq!(out.result.config["total_requests"], serde_json::Value::Null);
    assert_eq!(out.result.run.in_flight_at_stop.as_deref(), Some("awaited"));

    let failing = RunArgs {
        max_errors: Some(5),
        ..args(chat(&mock, "?fail=status:500"), 1000, 2, dir.path())
    };
    let out = run_args(&failing).await;
    let s = &out.result.summary;
    // The limit is judged as records arrive, so the requests already under way finish too.
    // Instant failures outrun the consumer a little on a busy machine; far fewer than 1000.
    assert!((5..200).contains(&s.failed_count), "stops soon after 5: {}", s.failed_count);
    assert_eq!(out.result.run.stop_reason, Some(StopReason::MaxErrors));
    assert!(out.report.contains("max_errors"), "{}", out.report);

    let rate = RunArgs {
        max_error_rate: Some("50%".into()),
        ..args(chat(&mock, "?fail=status:503"), 1000, 2, dir.path())
    };
    let out = run_args(&rate).await;
    let failed = out.result.summary.failed_count;
    assert!((10..200).contains(&failed), "judged after 10, stops soon after: {failed}");
    assert_eq!(out.result.run.stop_reason, Some(StopReason::MaxErrorRate));
}

/// `--cancel-at-deadline` cancels what is in flight at the deadline; the cancelled requests
/// stay in the result with their class.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_at_deadline_cancels_in_flight_requests() {
    let mock = start(5000, 1, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let run = RunArgs {
        duration: Some("300ms".into()),
        cancel_at_deadline: true,
        requests: None,
        ..args(chat(&mock, ""), 1, 3, dir.path())
    };
    let started = std::time::Instant::now();
    let out = run_args(&run).await;
    assert!(started.elapsed() < Duration::from_secs(3), "did not wait for the 5 s TTFT");
    let s = &out.result.summary;
    assert_eq!(s.failures.get(&ErrorClass::Cancelled), Some(&3), "{s:?}");
    assert_eq!(out.result.run.in_flight_at_stop.as_deref(), Some("cancelled"));
    let r = &out.result.metrics[0];
    assert!(r.ttfb.is_some(), "the role chunk arrived at once: timings reached are kept");
    assert!(r.ttft.is_none() && r.error.as_deref().unwrap().contains("cancelled"));
}

/// Warm-up requests are in the result but not in the statistics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warmup_requests_are_kept_apart() {
    let mock = start(5, 1, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let run = RunArgs { warmup: Some("4".into()), ..args(chat(&mock, ""), 12, 2, dir.path()) };
    let out = run_args(&run).await;
    assert_eq!(out.result.summary.total_requests, 8);
    assert_eq!(out.result.run.warmup_requests, 4);
    assert_eq!(out.result.metrics.len(), 12);
    let warm: Vec<u64> =
        out.result.metrics.iter().filter(|r| r.warmup).map(|r| r.request_id).collect();
    assert_eq!(warm, [1, 2, 3, 4]);
    assert!(
        out.report.contains("Warm-up:     4 requests, not in the statistics (TTFT P50 0.0"),
        "{}",
        out.report
    );
}

/// Workers start one after another over the ramp-up instead of all at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ramp_up_spreads_the_first_requests() {
    let mock = start(1000, 1, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let run = RunArgs { ramp_up: Some("900ms".into()), ..args(chat(&mock, ""), 4, 4, dir.path()) };
    let out = run_args(&run).await;
    assert_eq!(out.result.summary.success_count, 4);
    // Worker 4 starts 675 ms in, so the run takes at least 1.675 s, not ~1 s.
    assert!(out.result.summary.duration >= 1.6, "{}", out.result.summary.duration);
    assert!(out.result.summary.ttft.as_ref().unwrap().max < 1.1, "each TTFT is still ~1 s");
}

/// Waits (bounded) until the mock has seen `n` requests.
async fn wait_for_requests(mock: &MockServer, n: u64) {
    for _ in 0..500 {
        if mock.stats.snapshot().requests >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the mock never saw {n} requests");
}

fn interrupt(child: &std::process::Child) {
    // SAFETY: kill(2) with a pid we own and a valid signal number; no memory is touched.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0, "SIGINT delivered");
}

/// A real SIGINT to the running binary: the first stops sending and waits for the requests in
/// flight, the second cancels them; either way the result is valid, marked interrupted, and
/// holds every request that was sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_leaves_a_valid_interrupted_result() {
    let mock = start(150, 5, 4).await;
    let dir = tempfile::tempdir().unwrap();
    for presses in [1, 2] {
        mock.stats.reset();
        let out = dir.path().join(format!("interrupted-{presses}.json"));
        let url = chat(&mock, if presses == 2 { "?fail=stall:1" } else { "" });
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_streamperf"))
            .args(["-u", &url, "-n", "100000", "-p", "4", "-q", "--body", support::CHAT_BODY])
            .arg("--no-history")
            .arg("-o")
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("binary starts");
        // Stalled requests never end, so only the first 4 are ever sent in the second case.
        wait_for_requests(&mock, if presses == 2 { 4 } else { 8 }).await;
        interrupt(&child);
        if presses == 2 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            interrupt(&child);
        }
        let done = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap();
        let done = done.expect("binary exits");
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert!(done.status.success(), "exit {:?}: {stderr}", done.status);
        assert!(stderr.contains("interrupted: no new requests"), "{stderr}");

        let result: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&out).expect("result written")).unwrap();
        assert_eq!(result["run"]["interrupted"], true);
        assert_eq!(result["run"]["stop_reason"], "interrupted");
        let metrics = result["metrics"].as_array().unwrap();
        assert_eq!(metrics.len() as u64, mock.stats.snapshot().requests, "every request sent");
        match presses {
            1 => assert_eq!(result["summary"]["failed_count"], 0, "in flight were awaited"),
            _ => {
                assert_eq!(result["run"]["in_flight_at_stop"], "cancelled");
                assert_eq!(result["summary"]["failures"]["cancelled"], 4, "the 4 stalled ones");
            }
        }
    }
}

/// A sweep over 1, 2, 4, 8 workers against a mock whose requests take ~100 ms: throughput
/// rises as the mock's timing predicts (≈ 10 req/s per worker), in one table and one file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrency_sweep_scales_as_the_mock_predicts() {
    let mock = start(50, 5, 10).await;
    let dir = tempfile::tempdir().unwrap();
    let run = RunArgs { concurrency: vec![1, 2, 4, 8], ..args(chat(&mock, ""), 16, 1, dir.path()) };
    let out = run_args(&run).await;
    let levels = &out.result.levels;
    assert_eq!(levels.len(), 4);
    let per_worker: Vec<f64> =
        levels.iter().map(|l| l.summary.throughput / l.concurrency.unwrap() as f64).collect();
    for (level, rate) in levels.iter().zip(&per_worker) {
        assert_eq!(level.summary.success_count, 16, "{:?}", level.summary.failure_examples);
        // One request: 50 ms to the first token + 9 gaps of 5 ms ≈ 95 ms, so ≤ 10.5 req/s.
        assert!((7.0..10.6).contains(rate), "{}: {rate} req/s per worker", level.label());
    }
    let throughputs: Vec<f64> = levels.iter().map(|l| l.summary.throughput).collect();
    assert!(throughputs.windows(2).all(|w| w[1] > w[0] * 1.6), "rises: {throughputs:?}");
    assert_eq!(out.result.metrics.len(), 64);
    let mut ids: Vec<u64> = out.result.metrics.iter().map(|r| r.request_id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 64, "request ids are unique across levels");
    assert_eq!(out.result.metrics[63].level, Some(3));
    assert!(out.report.contains("[Sweep]") && out.report.contains("p=8"), "{}", out.report);
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("result.json")).unwrap()).unwrap();
    assert_eq!(file["levels"][2]["concurrency"], 4);
    assert_eq!(file["config"]["sweep"]["over"], "concurrency");
    assert_eq!(file["config"]["concurrency"], 8, "the level the top-level summary describes");
}

/// With `--slo`, each sweep level has its own goodput (requests meeting every SLO per second),
/// in the result and as a column of the sweep table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_levels_have_their_own_goodput() {
    let mock = start(20, 2, 5).await;
    let dir = tempfile::tempdir().unwrap();
    let run = RunArgs {
        concurrency: vec![1, 4],
        slo: vec!["ttft.p99<10s".into()],
        ..args(chat(&mock, ""), 8, 1, dir.path())
    };
    let out = run_args(&run).await;
    let levels = &out.result.levels;
    assert_eq!(levels.len(), 2);
    for level in levels {
        let s = &level.summary;
        assert_eq!(s.success_count, 8);
        // Every request met the SLO, so goodput is the level's success rate.
        let goodput = s.goodput.unwrap_or_else(|| panic!("{}: no goodput", level.label()));
        assert!(
            (goodput - s.throughput).abs() < 1e-9,
            "{}: {goodput} vs {}",
            level.label(),
            s.throughput
        );
    }
    assert!(levels[1].summary.goodput > levels[0].summary.goodput, "4 workers do more");
    assert_eq!(out.result.summary.goodput, levels[1].summary.goodput, "the top level is the last");
    let header = out.report.lines().find(|l| l.contains("TTFT P99") && l.contains("req/s"));
    assert!(header.is_some_and(|h| h.trim_end().ends_with("Goodput")), "{}", out.report);
}

/// `--sweep auto` against a mock with 4 generation slots: throughput doubles up to 4 workers and
/// then stops growing, so the knee is p=4, found by doubling and then bisecting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_auto_finds_the_knee_of_a_server_with_four_slots() {
    let options = MockOptions {
        port: 0,
        ttft_ms: 40,
        itl_ms: 5,
        tokens: 10,
        slots: Some(4),
        ..MockOptions::default()
    };
    let mock = MockServer::start(options).await.expect("mock starts");
    let dir = tempfile::tempdir().unwrap();
    let run = RunArgs { sweep: Some("auto".into()), ..args(chat(&mock, ""), 24, 1, dir.path()) };
    let out = run_args(&run).await;
    let levels: Vec<u64> = out.result.levels.iter().map(|l| l.concurrency.unwrap()).collect();
    assert_eq!(levels, [1, 2, 4, 5, 6, 8], "doubling to 8, then bisecting 4..8");
    assert!(out.report.contains("Knee: p=4 (doubling while throughput grows"), "{}", out.report);
    assert_eq!(
        out.result.config["sweep"]["auto"].as_str().map(|m| m.starts_with("doubling")),
        Some(true)
    );
}
