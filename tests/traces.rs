//! Trace replay against the built-in mock: rows leave at the trace's offsets (the mock notes
//! when each body arrived), Mooncake rows that share hash ids share exactly those prompt
//! blocks (the mock's prefix cache counts what it had seen), `--trace-speedup` shrinks the
//! offsets, and a bad row is one error naming its line before anything is sent. Bounded: a few
//! rows over at most two seconds a run.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use streamperf::cli::RunArgs;
use streamperf::mock::{MockOptions, MockServer};
use support::{args, run_args};

/// The mock with its prefix cache on, quick, answering what each row asks.
async fn mock() -> MockServer {
    let options = MockOptions {
        port: 0,
        ttft_ms: 1,
        itl_ms: 0,
        tokens: 16,
        prefix_cache: true,
        ..MockOptions::default()
    };
    MockServer::start(options).await.unwrap()
}

/// Three Mooncake rows at 0, 1 and 2 s: the second shares the first's first two blocks.
const MOONCAKE: &str = r#"{"timestamp": 27000, "input_length": 1536, "output_length": 5, "hash_ids": [1, 2, 3]}
{"timestamp": 28000, "input_length": 1400, "output_length": 5, "hash_ids": [1, 2, 4]}
{"timestamp": 29000, "input_length": 700, "output_length": 5, "hash_ids": [5]}
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `--trace FILE --model mock` to the chat route, results in `dir`.
fn replay(mock: &MockServer, trace: &Path, dir: &Path) -> RunArgs {
    let mut a = args(mock.url("/v1/chat/completions"), 0, 1, dir);
    a.requests = None;
    a.concurrency = Vec::new();
    a.body = None;
    a.trace = Some(trace.to_owned());
    a.model = Some("mock".into());
    a
}

/// Each body's arrival, from the first one's.
fn offsets(mock: &MockServer) -> Vec<Duration> {
    let arrivals = mock.stats.arrivals();
    arrivals.iter().map(|at| at.duration_since(arrivals[0])).collect()
}

fn assert_near(got: &[Duration], want_ms: &[u64]) {
    assert_eq!(got.len(), want_ms.len(), "{got:?}");
    for (g, w) in got.iter().zip(want_ms) {
        let diff = (g.as_secs_f64() * 1000.0 - *w as f64).abs();
        assert!(diff <= 20.0, "sent at {g:?}, the trace says {w} ms: {got:?}");
    }
}

/// The acceptance: 3 rows at 0/1/2 s arrive at those offsets; rows sharing two hash ids share
/// exactly 2 × 512 prompt tokens, the others none; lengths as the trace says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mooncake_trace_is_sent_on_its_schedule_with_its_shared_blocks() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let trace = write(dir.path(), "trace.jsonl", MOONCAKE);
    let out = run_args(&replay(&mock, &trace, dir.path())).await;
    let s = &out.result.summary;
    assert_eq!((s.total_requests, s.success_count), (3, 3));
    assert_near(&offsets(&mock), &[0, 1000, 2000]);
    let m = &out.result.metrics;
    let seen: Vec<_> =
        m.iter().map(|r| (r.input_tokens, r.cached_tokens, r.output_tokens)).collect();
    assert_eq!(
        seen,
        [
            (Some(1537), Some(0), Some(5)),
            (Some(1401), Some(1024), Some(5)),
            (Some(701), Some(0), Some(5))
        ],
        "the mock counts each prompt's o200k tokens (and the user role's, as a chat template \
         adds one) and what its cache had"
    );
    assert_eq!(out.result.run.load_model, "trace");
    assert_eq!(out.result.config["trace"]["block_tokens"], 512);
}

/// `--trace-speedup 2` halves every offset; `--trace-window` keeps a part, played from its
/// first row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speedup_and_window_reshape_the_schedule() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let trace = write(dir.path(), "trace.jsonl", MOONCAKE);
    let a = RunArgs { trace_speedup: Some(2.0), ..replay(&mock, &trace, dir.path()) };
    run_args(&a).await;
    assert_near(&offsets(&mock), &[0, 500, 1000]);

    mock.stats.reset();
    let a = RunArgs {
        trace_window: Some("1s..".into()),
        output: Some(dir.path().join("window.json")),
        ..replay(&mock, &trace, dir.path())
    };
    let out = run_args(&a).await;
    assert_eq!(out.result.summary.total_requests, 2);
    assert_near(&offsets(&mock), &[0, 1000]);
}

/// BurstGPT's CSV and a timestamped request trace (a whole body, and messages) replay too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burstgpt_and_request_traces_replay() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let burst = write(
        dir.path(),
        "burst.csv",
        "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n\
         5.0,ChatGPT,300,4,304,Conversation log\n5.2,GPT-4,120,3,123,Conversation log\n",
    );
    let out = run_args(&replay(&mock, &burst, dir.path())).await;
    let seen: Vec<_> =
        out.result.metrics.iter().map(|r| (r.input_tokens, r.output_tokens)).collect();
    assert_eq!(seen, [(Some(301), Some(4)), (Some(121), Some(3))], "and the role's token");
    assert_near(&offsets(&mock), &[0, 200]);

    mock.stats.reset();
    let requests = write(
        dir.path(),
        "requests.jsonl",
        r#"{"timestamp": 0, "body": {"model": "own", "messages": [{"role": "user", "content": "as written"}], "stream": true}, "headers": {"x-trace": "1"}}
{"timestamp": 100, "messages": [{"role": "user", "content": "built"}], "output_tokens": 2}
"#,
    );
    let a = RunArgs {
        output: Some(dir.path().join("requests.json")),
        ..replay(&mock, &requests, dir.path())
    };
    let out = run_args(&a).await;
    assert_eq!(out.result.summary.success_count, 2);
    let bodies = mock.stats.bodies();
    assert_eq!(
        (bodies[0]["model"].as_str(), bodies[1]["model"].as_str()),
        (Some("own"), Some("mock"))
    );
    assert_eq!(bodies[1]["max_tokens"], 2);
}

/// A bad row names the file and line; nothing is sent, and the flags a trace replaces are
/// errors beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_trace_is_one_clear_error_before_any_request() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.jsonl",
        "{\"timestamp\": 0, \"input_length\": 10, \"hash_ids\": [1]}\n{\"timestamp\": \"soon\", \"input_length\": 10}\n",
    );
    let config = streamperf::config::Config::resolve(&replay(&mock, &bad, dir.path())).unwrap();
    let e = streamperf::run::execute(&config).await.unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "{}:2: `timestamp` must be a number of milliseconds",
            bad.display()
        )),
        "{e}"
    );
    assert_eq!(mock.stats.snapshot().requests, 0);
    let with_rate = RunArgs { rate: vec![5.0], ..replay(&mock, &bad, dir.path()) };
    let e = streamperf::config::Config::resolve(&with_rate).unwrap_err().to_string();
    assert!(e.contains("`--rate` and `--trace`"), "{e}");
}
