//! A run split over shards (`--shard I/N`) against the built-in mock: together the shards send
//! exactly the requests of the one-process run — the same prompts, the same request numbers —
//! with the concurrency split among them. Bounded: 30 requests a run.

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use streamperf::cli::RunArgs;
use streamperf::mock::{MockOptions, MockServer};
use support::{args, run_args};

async fn mock() -> MockServer {
    let options =
        MockOptions { port: 0, ttft_ms: 20, itl_ms: 1, tokens: 4, ..MockOptions::default() };
    MockServer::start(options).await.unwrap()
}

/// `-n 30 -p 3 --input-tokens 20` (a unique prompt per request number), maybe as one shard.
fn run(mock: &MockServer, shard: Option<&str>, dir: &std::path::Path) -> RunArgs {
    let name = shard.map_or("whole".to_owned(), |s| s.replace('/', "-"));
    RunArgs {
        body: None,
        input_tokens: Some("20".into()),
        model: Some("mock".into()),
        shard: shard.map(Into::into),
        output: Some(dir.join(format!("{name}.json"))),
        ..args(mock.url("/v1/chat/completions"), 30, 3, dir)
    }
}

fn prompts(mock: &MockServer) -> BTreeSet<String> {
    let prompt = |b: &Value| b["messages"][0]["content"].as_str().unwrap().to_owned();
    mock.stats.bodies().iter().map(prompt).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_shards_send_exactly_the_one_process_runs_requests() {
    let dir = tempfile::tempdir().unwrap();
    let whole = mock().await;
    let one = run_args(&run(&whole, None, dir.path())).await;
    assert_eq!(one.result.summary.success_count, 30);

    let shared = mock().await;
    let (a, b, c) = (
        run(&shared, Some("0/3"), dir.path()),
        run(&shared, Some("1/3"), dir.path()),
        run(&shared, Some("2/3"), dir.path()),
    );
    let (a, b, c) = tokio::join!(run_args(&a), run_args(&b), run_args(&c));
    let ids: BTreeSet<u64> = [&a, &b, &c]
        .iter()
        .flat_map(|out| out.result.metrics.iter().map(|r| r.request_id))
        .collect();
    assert_eq!(ids, (1..=30).collect(), "each request number once");
    for out in [&a, &b, &c] {
        assert_eq!(out.result.summary.success_count, 10);
    }
    assert_eq!(a.result.config["shard"], serde_json::json!({"index": 0, "count": 3}));
    assert_eq!(shared.stats.snapshot().requests, 30);
    assert!(shared.stats.snapshot().max_in_flight <= 3, "one worker a shard");
    assert_eq!(prompts(&shared), prompts(&whole), "the same prompts as one process");
}

#[test]
fn a_shard_that_does_not_exist_is_named() {
    let a = RunArgs {
        url: Some("http://127.0.0.1:9/v1/chat/completions".into()),
        shard: Some("3/3".into()),
        ..RunArgs::default()
    };
    let e = streamperf::config::Config::resolve(&a).unwrap_err().to_string();
    assert!(e.contains("shard 3 of 3 does not exist"), "{e}");
}

/// `--start-at`: shards connect first, then start together at the instant; each result says
/// how far off its start was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_start_together_at_the_instant_asked() {
    let dir = tempfile::tempdir().unwrap();
    let mock = mock().await;
    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_millis(1500);
    let asked = std::time::SystemTime::now() + std::time::Duration::from_millis(1500);
    let shard = |spec: &str| RunArgs {
        start_at: Some(at.to_string()),
        ..run(&mock, Some(spec), dir.path())
    };
    let (a, b) = (shard("0/2"), shard("1/2"));
    let (a, b) = tokio::join!(run_args(&a), run_args(&b));
    for out in [&a, &b] {
        let skew = out.result.run.start_skew.expect("a start skew");
        assert!(skew.abs() < 0.05, "started {skew} s off");
        assert_eq!(out.result.summary.success_count, 15);
    }
    let first = mock.stats.arrivals().into_iter().min().unwrap();
    let wall_first = std::time::SystemTime::now() - first.elapsed();
    let early = asked.duration_since(wall_first).unwrap_or_default();
    assert!(early < std::time::Duration::from_millis(20), "a request left {early:?} early");
}

/// The acceptance: `-n 300 -p 6` as 3 shards — the mock sees 300 requests, at most 6 in
/// flight, and `merge` equals the summary of the pooled records; a missing shard is refused
/// unless `--allow-partial`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_shards_equal_the_pooled_records() {
    let dir = tempfile::tempdir().unwrap();
    let mock = mock().await;
    let shard = |i: u64| RunArgs {
        requests: Some(300),
        concurrency: vec![6],
        ..run(&mock, Some(&format!("{i}/3")), dir.path())
    };
    let (a, b, c) = (shard(0), shard(1), shard(2));
    let (a, b, c) = tokio::join!(run_args(&a), run_args(&b), run_args(&c));
    let stats = mock.stats.snapshot();
    assert_eq!(stats.requests, 300);
    assert!(stats.max_in_flight <= 6, "{}", stats.max_in_flight);

    let files: Vec<_> = [&a, &b, &c].iter().map(|o| o.result_path.clone().unwrap()).collect();
    let read = |paths: &[std::path::PathBuf]| -> Vec<_> {
        paths.iter().map(|p| (p.clone(), streamperf::report::read_result(p).unwrap())).collect()
    };
    let merged = streamperf::output::merge::merge(read(&files), false).unwrap();
    let mut pooled = streamperf::metrics::Aggregator::new();
    for out in [&a, &b, &c] {
        out.result.metrics.iter().for_each(|r| pooled.add(r));
    }
    let pooled = pooled.summary(std::time::Duration::from_secs(1));
    let m = &merged.summary;
    assert_eq!((m.total_requests, m.success_count), (300, pooled.success_count));
    assert_eq!(m.total_output_tokens, pooled.total_output_tokens);
    for (x, y) in [(&m.ttft, &pooled.ttft), (&m.total_time, &pooled.total_time)] {
        let (x, y) = (x.as_ref().unwrap(), y.as_ref().unwrap());
        assert_eq!(
            (x.count, x.p50, x.p90, x.p99, x.min, x.max),
            (y.count, y.p50, y.p90, y.p99, y.min, y.max)
        );
    }
    assert_eq!(merged.metrics.len(), 300);
    let per_second: u64 = merged.timeseries.iter().map(|s| s.completed + s.failed).sum();
    assert_eq!(per_second, 300, "the shards' seconds on one clock");
    assert!(merged.config.get("shard").is_none());

    let e = streamperf::output::merge::merge(read(&files[..2]), false).unwrap_err().to_string();
    assert!(e.starts_with("shard 2 of 3 missing"), "{e}");
    let partial = streamperf::output::merge::merge(read(&files[..2]), true).unwrap();
    assert_eq!(partial.summary.total_requests, 200);
    let e = streamperf::output::merge::merge(read(&[files[0].clone(), files[0].clone()]), true);
    assert!(e.unwrap_err().to_string().starts_with("shard 0 twice"));

    // The command: the merged file written, its report printed; a missing shard is exit 2.
    let out_file = dir.path().join("merged.json");
    let merge = |paths: &[std::path::PathBuf]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_streamperf"))
            .arg("merge")
            .args(paths)
            .arg("-o")
            .arg(&out_file)
            .args(["--lang", "en"])
            .output()
            .unwrap()
    };
    let done = merge(&files);
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert!(done.status.success(), "{stdout}{}", String::from_utf8_lossy(&done.stderr));
    assert!(stdout.contains("300"), "{stdout}");
    assert_eq!(streamperf::report::read_result(&out_file).unwrap().summary.total_requests, 300);
    let refused = merge(&files[1..]);
    assert_eq!(refused.status.code(), Some(2), "a usage error, as every setup error");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("shard 0 of 3 missing"));
}

/// The open loop: `--rate 30 --arrival poisson --seed 7 -d 10s` as 3 shards started together sends,
/// all shards together, at the one-process run's instants (the mock's arrival times, from each
/// run's start, within 50 ms: two runs on a busy 2-core machine).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_shards_together_keep_the_one_process_schedule() {
    use std::time::{SystemTime, UNIX_EPOCH};
    let dir = tempfile::tempdir().unwrap();
    let open = |mock: &MockServer, shard: Option<&str>| RunArgs {
        requests: None,
        concurrency: Vec::new(),
        rate: vec![30.0],
        arrival: Some("poisson".into()),
        seed: Some(7),
        duration: Some("10s".into()),
        ..run(mock, shard, dir.path())
    };
    // Arrivals as seconds after `start` (Unix seconds), sorted.
    let offsets = |mock: &MockServer, start: f64| {
        let now = SystemTime::now();
        let mut at: Vec<f64> = mock
            .stats
            .arrivals()
            .iter()
            .map(|a| (now - a.elapsed()).duration_since(UNIX_EPOCH).unwrap().as_secs_f64() - start)
            .collect();
        at.sort_by(f64::total_cmp);
        at
    };
    let whole = mock().await;
    let one = run_args(&open(&whole, None)).await;
    let expected = offsets(&whole, one.result.run.started_unix.unwrap());

    let shared = mock().await;
    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_millis(1500);
    let shard =
        |spec: &str| RunArgs { start_at: Some(at.to_string()), ..open(&shared, Some(spec)) };
    let (a, b, c) = (shard("0/3"), shard("1/3"), shard("2/3"));
    let (a, _, _) = tokio::join!(run_args(&a), run_args(&b), run_args(&c));
    let start = a.result.run.started_unix.unwrap() - a.result.run.start_skew.unwrap();
    let got = offsets(&shared, start);
    assert_eq!(got.len(), expected.len(), "{got:?}\n{expected:?}");
    for (g, e) in got.iter().zip(&expected) {
        assert!((g - e).abs() < 0.05, "sent at {g:.3} s, one process at {e:.3} s");
    }
}

/// `merge` takes a folder or an unexpanded pattern as well as files, and a shard killed before
/// its result (its records file left) still counts, once `--allow-partial` says so; the merged
/// result lists its shards side by side in the report and the HTML page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_reads_folders_patterns_and_records_files() {
    let dir = tempfile::tempdir().unwrap();
    let mock = mock().await;
    let shard = |i: u64| run(&mock, Some(&format!("{i}/3")), dir.path());
    let (a, b, c) = (shard(0), shard(1), shard(2));
    let (a, ..) = tokio::join!(run_args(&a), run_args(&b), run_args(&c));
    let merge = |inputs: &[&str], out: &str, extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_streamperf"))
            .arg("merge")
            .args(inputs)
            .args(["-o", out, "--lang", "en"])
            .args(extra)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let read = |name: &str| streamperf::report::read_result(&dir.path().join(name)).unwrap();

    // A folder (the merge's own output left out of it) and a pattern no shell expanded.
    for (inputs, out) in
        [(vec!["."], "by-folder.json"), (vec!["0-3.json", "[12]-3.json"], "by-pattern.json")]
    {
        let done = merge(&inputs, out, &[]);
        let stdout = String::from_utf8_lossy(&done.stdout);
        assert!(
            done.status.success(),
            "{inputs:?}: {stdout}{}",
            String::from_utf8_lossy(&done.stderr)
        );
        let merged = read(out);
        assert_eq!(merged.summary.total_requests, 30, "{inputs:?}");
        let indices: Vec<_> = merged.shards.iter().map(|s| s.index).collect();
        assert_eq!(indices, [Some(0), Some(1), Some(2)]);
        assert!(merged.shards.iter().all(|s| s.start_skew.is_none() && s.client.is_some()));
        assert!(stdout.contains("[Shards]") && stdout.contains("ok/requests"), "{stdout}");
    }
    let html = streamperf::export::html::render(
        &read("by-folder.json"),
        streamperf::i18n::Lang::En,
        "now",
    );
    assert_eq!(html.matches("title=\"./").count(), 3, "a column a shard");

    // Shard 2 "killed": its result gone, its records file left.
    std::fs::remove_file(dir.path().join("2-3.json")).unwrap();
    let refused = merge(&["0-3.json", "1-3.json", "2-3.records.jsonl"], "partial.json", &[]);
    let e = String::from_utf8_lossy(&refused.stderr);
    assert!(e.contains("shard 2 of 3 missing") && e.contains("2-3.records.jsonl"), "{e}");
    let done =
        merge(&["0-3.json", "1-3.json", "2-3.records.jsonl"], "partial.json", &["--allow-partial"]);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let partial = read("partial.json");
    let whole = read("by-folder.json");
    assert_eq!(partial.summary.total_requests, 30);
    assert_eq!(partial.summary.ttft, whole.summary.ttft, "records sum up as their result did");
    assert_eq!(partial.metrics.len(), 30);
    assert!(
        a.result.metrics.iter().all(|r| r.started_at.is_some()),
        "records say when they started"
    );
}

/// Sessions split over shards: each shard runs its own sessions, and no two requests or
/// sessions of the run share a number, so the merged records read as one process's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_of_a_session_run_number_their_requests_apart() {
    let dir = tempfile::tempdir().unwrap();
    let mock = mock().await;
    let shard = |i: u64| RunArgs {
        requests: Some(6),
        concurrency: vec![2],
        turns: Some("2".into()),
        turn_input_tokens: Some("5".into()),
        ..run(&mock, Some(&format!("{i}/2")), dir.path())
    };
    let (a, b) = (shard(0), shard(1));
    let (a, b) = tokio::join!(run_args(&a), run_args(&b));
    let records: Vec<_> = [&a, &b].iter().flat_map(|o| o.result.metrics.clone()).collect();
    assert_eq!(records.len(), 12, "6 sessions of 2 turns");
    let ids: BTreeSet<u64> = records.iter().map(|r| r.request_id).collect();
    assert_eq!(ids.len(), 12, "request numbers repeat across shards: {ids:?}");
    let sessions: BTreeSet<(u64, u32)> =
        records.iter().map(|r| (r.session.unwrap(), r.turn.unwrap())).collect();
    assert_eq!(sessions, (1..=6).flat_map(|s| [(s, 1), (s, 2)]).collect());
}
