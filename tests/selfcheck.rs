//! The self-check tells a client-bound run from a light one. A test binary of its own: its
//! 3,000 streams take both cores for seconds, which would starve the timing tests of
//! tests/load.rs if they ran beside it (test binaries run one after another).

mod support;

use streamperf::cli::RunArgs;
use streamperf::mock::{MockOptions, MockServer};
use support::{args, run_args};

async fn start(ttft_ms: u64, itl_ms: u64, tokens: u64) -> MockServer {
    let options = MockOptions { port: 0, ttft_ms, itl_ms, tokens, ..MockOptions::default() };
    MockServer::start(options).await.expect("mock starts")
}

/// A run far beyond what the client can serve is marked client-bound, with a reason; a
/// light one is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_self_check_tells_a_client_bound_run() {
    let mock = start(1, 1, 5).await;
    let dir = tempfile::tempdir().unwrap();
    let light = run_args(&args(mock.url("/v1/chat/completions"), 20, 2, dir.path())).await;
    let health = light.result.client.expect("self-check ran");
    assert!(!health.client_bound, "{health:?}");

    let heavy_mock = start(1, 1, 300).await;
    let heavy = RunArgs {
        timeout: Some(60.0),
        ..args(heavy_mock.url("/v1/chat/completions"), 3000, 3000, dir.path())
    };
    let out = run_args(&heavy).await;
    let health = out.result.client.expect("self-check ran");
    assert!(health.client_bound, "{health:?}");
    assert!(!health.reasons.is_empty());
    assert!(out.report.contains("CLIENT-BOUND"), "{}", out.report);
}
