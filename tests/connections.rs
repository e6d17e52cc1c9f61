//! Servers that close kept-alive connections, measured truthfully: the built-in mock closes
//! after every response (`--close-after-response`, as llama.cpp's server does), drops the next
//! request on a kept-alive connection (`fail=close-idle`), answers `Connection: close` or
//! HTTP/1.0. No request fails; every replaced connection is a reconnect, and the request that
//! paid for it records its `connect`.

mod support;

use streamperf::mock::{MockOptions, MockServer};
use streamperf::run::RunOutput;
use support::{args, run_args};

async fn mock(close_after_response: bool) -> MockServer {
    let options = MockOptions {
        port: 0,
        ttft_ms: 20,
        itl_ms: 1,
        tokens: 8,
        close_after_response,
        ..MockOptions::default()
    };
    MockServer::start(options).await.expect("mock starts")
}

/// `-n requests -p concurrency` against `path` on `mock`.
async fn run(mock: &MockServer, path: &str, requests: u64, concurrency: u64) -> RunOutput {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_args(&args(mock.url(path), requests, concurrency, dir.path())).await;
    let s = &out.result.summary;
    let errors: Vec<_> = out.result.metrics.iter().filter_map(|r| r.error.as_deref()).collect();
    assert_eq!((s.success_count, s.failed_count), (requests, 0), "{errors:?}");
    out
}

/// Requests that opened a connection themselves (the others used a pre-connected one or a
/// kept-alive one).
fn connecting(out: &RunOutput) -> u64 {
    out.result.metrics.iter().filter(|r| r.connect.is_some()).count() as u64
}

#[tokio::test]
async fn a_server_closing_after_each_response_costs_connects_not_failures() {
    for (requests, concurrency) in [(40, 1), (80, 4)] {
        let mock = mock(true).await;
        let out = run(&mock, "/v1/chat/completions", requests, concurrency).await;
        let c = &out.result.connections;
        // Each worker's first request uses its pre-connected connection; every later one
        // finds the server closed the last and opens a new one.
        let later = requests - concurrency;
        assert_eq!((c.reconnects, c.reused, c.opened), (later, 0, requests), "{c:?}");
        assert_eq!(connecting(&out), later, "each reconnect is timed in its request");
        assert!(c.resent <= c.reconnects, "{c:?}");
        let snap = mock.stats.snapshot();
        assert_eq!(snap.requests, requests, "each request answered once");
        assert_eq!(snap.connections, requests + c.resent, "a re-sent request's lost connection");
        assert!(out.report.contains("every request pays a connect"), "{}", out.report);
        assert!(out.report.contains(&format!("{later} reconnects")), "{}", out.report);
    }
}

#[tokio::test]
async fn a_request_lost_on_a_kept_alive_connection_is_sent_again_once() {
    for (requests, concurrency) in [(10, 1), (40, 4)] {
        let mock = mock(false).await;
        let out = run(&mock, "/v1/chat/completions?fail=close-idle", requests, concurrency).await;
        let c = &out.result.connections;
        let later = requests - concurrency;
        assert_eq!((c.reconnects, c.resent, c.reused), (later, later, 0), "{c:?}");
        assert_eq!(connecting(&out), later);
        let snap = mock.stats.snapshot();
        assert_eq!((snap.requests, snap.dropped_requests), (requests, later), "{snap:?}");
    }
}

#[tokio::test]
async fn connection_close_and_http_1_0_answers_are_honoured() {
    for fault in ["connection-close", "http10"] {
        let mock = mock(false).await;
        let out = run(&mock, &format!("/v1/chat/completions?fail={fault}"), 12, 2).await;
        let c = &out.result.connections;
        assert_eq!((c.reconnects, c.resent, c.reused), (10, 0, 0), "{fault}: {c:?}");
        assert_eq!(mock.stats.snapshot().connections, 12, "{fault}: no request sent twice");
    }
}

#[tokio::test]
async fn a_kept_alive_server_reuses_every_connection_and_says_nothing() {
    let mock = mock(false).await;
    let out = run(&mock, "/v1/chat/completions", 24, 3).await;
    let c = &out.result.connections;
    assert_eq!((c.opened, c.reused, c.reconnects, c.resent), (3, 21, 0, 0), "{c:?}");
    assert!(!out.report.contains("reconnects"), "{}", out.report);
    let json = serde_json::to_value(&out.result).expect("the result serializes");
    assert_eq!(json["connections"]["reused"], 21, "as the result file has it");
}

#[tokio::test]
async fn a_fresh_connection_that_loses_the_request_is_a_failure() {
    // A server that reads each request and closes without a byte: no connection was ever
    // kept alive, so nothing is sent again and both requests fail.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        for _ in 0..4 {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = tcp.read(&mut buf).await; // read the request, answer nothing, close
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/v1/chat/completions");
    let out = run_args(&args(url, 2, 1, dir.path())).await;
    let s = &out.result.summary;
    assert_eq!((s.success_count, s.failed_count), (0, 2));
    let first = &out.result.metrics[0];
    assert_eq!(first.error_class.map(|c| c.as_str()), Some("incomplete"), "{first:?}");
    assert_eq!(out.result.connections.resent, 0, "only a reused connection earns a re-send");
    server.abort();
}
