//! The engine against the built-in mock on 127.0.0.1: connections are opened before the clock,
//! kept alive, reopened after a broken response, and HTTP/2 runs in the worker's task too.
//! (Here, not beside the engine, so the measuring core imports no mock, even in its tests.)

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use streamperf::engine::conn::Connection;
use streamperf::engine::{
    ClosedLoop, Engine, EngineEvent, EngineSettings, Preconnect, RequestSpec, RunControl, target,
};
use streamperf::mock::{MockOptions, MockServer};
use streamperf::record::{ErrorClass, RequestRecord};

const CHAT_BODY: &str =
    r#"{"model":"mock","messages":[{"role":"user","content":"hi"}],"stream":true}"#;

async fn mock() -> MockServer {
    let options =
        MockOptions { port: 0, ttft_ms: 5, itl_ms: 1, tokens: 4, ..MockOptions::default() };
    MockServer::start(options).await.expect("mock starts")
}

fn chat_request(url: String) -> RequestSpec {
    RequestSpec {
        url,
        headers: vec![("content-type".into(), "application/json".into())],
        body: Bytes::from_static(CHAT_BODY.as_bytes()),
    }
}

/// Runs `total` requests to `url` with `concurrency` workers; returns the engine, its events
/// (first the pre-connect summary) and the records in request order.
async fn run(
    url: String,
    total: u64,
    concurrency: u64,
) -> (Arc<Engine>, Preconnect, Vec<RequestRecord>) {
    let settings = EngineSettings {
        method: "POST".into(),
        timeout: Duration::from_secs(2),
        format: Default::default(),
        tokenizer: "o200k_base".into(),
        save_output: false,
        warmup: Default::default(),
        tls: Default::default(),
        proxy: Default::default(),
        max_redirects: 5,
    };
    let engine = Arc::new(Engine::new(&settings, &[chat_request(url)]).expect("engine"));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let plan = ClosedLoop { concurrency, total: Some(total), ramp_up: None };
    engine.run_closed_loop(plan, Arc::new(RunControl::new()), tx).await;
    let mut preconnect = None;
    let mut records = Vec::new();
    while let Some(event) = rx.recv().await {
        match event {
            EngineEvent::Connected(p) => {
                assert!(records.is_empty(), "the summary comes before any request ends");
                preconnect = Some(p);
            }
            EngineEvent::Finished { record, .. } => records.push(*record),
            EngineEvent::FirstToken { .. } | EngineEvent::Started { .. } => {}
        }
    }
    records.sort_by_key(|r| r.request_id);
    (engine, preconnect.expect("pre-connect summary sent"), records)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_worker_keeps_one_connection_for_all_its_requests() {
    let mock = mock().await;
    let (engine, preconnect, records) = run(mock.url("/v1/chat/completions"), 24, 4).await;
    assert!(records.iter().all(RequestRecord::is_success), "{records:?}");
    assert_eq!((preconnect.opened, preconnect.failed), (4, 0));
    assert_eq!(engine.preconnect(), Some(preconnect));
    let snap = mock.stats.snapshot();
    assert_eq!(snap.requests, 24);
    assert_eq!(snap.connections, 4, "one connection per worker, reused: {snap:?}");
    assert_eq!(snap.http2_requests, 0, "plain http is HTTP/1.1");
    assert_eq!(engine.connections_opened(), 4);
    assert!(records.iter().all(|r| r.connect.is_none()), "all opened before the clock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_response_costs_the_connection_and_the_next_request_reopens_it() {
    let mock = mock().await;
    let (engine, _, records) = run(mock.url("/v1/chat/completions?fail=close:2"), 3, 1).await;
    assert!(records.iter().all(|r| r.error_class == Some(ErrorClass::Incomplete)), "{records:?}");
    assert_eq!(records[0].connect, None, "pre-connected");
    for record in &records[1..] {
        let connect = record.connect.expect("reopened inside the request");
        assert!(connect < record.ttfb.expect("bytes arrived"), "connecting is part of TTFB");
    }
    assert_eq!(mock.stats.snapshot().connections, 3);
    assert_eq!(engine.connections_opened(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_to_a_plain_http_server_is_a_tls_failure() {
    let mock = mock().await;
    let (_, preconnect, records) =
        run(format!("https://{}/v1/chat/completions", mock.addr), 2, 2).await;
    assert_eq!((preconnect.opened, preconnect.failed), (0, 2));
    for record in &records {
        assert_eq!(record.error_class, Some(ErrorClass::Tls), "{record:?}");
        assert!(record.error.as_deref().is_some_and(|e| e.contains("TLS")), "{record:?}");
    }
    assert_eq!(mock.stats.snapshot().requests, 0);
}

/// HTTP/2 (prior knowledge: the mock speaks h2c) on one connection, with hyper's connection
/// task run by the worker itself (`local`), request after request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_streams_and_reuses_its_connection_without_spawned_tasks() {
    let mock = mock().await;
    let spec = chat_request(mock.url("/v1/chat/completions"));
    let prepared = target::prepare_all_with("POST", &[&spec], &Default::default(), true)
        .expect("valid request");
    let request = &prepared[0];
    let mut conn =
        Connection::open(request.target(), Duration::from_secs(2)).await.expect("h2c connects");
    assert!(conn.is_h2());
    for _ in 0..3 {
        assert!(conn.ready().await);
        let response = conn.send(request.build(true)).await.expect("response head");
        assert_eq!(response.status(), 200);
        assert_eq!(response.version(), http::Version::HTTP_2);
        let mut body = response.into_body();
        let mut text = Vec::new();
        let mut last = None;
        while let (at, Some(frame)) = conn.frame(&mut body).await {
            text.extend_from_slice(&frame.expect("clean frame"));
            assert!(last.is_none_or(|t| t <= at), "frames stamped in order");
            last = Some(at);
        }
        assert!(String::from_utf8_lossy(&text).contains("data: [DONE]"));
    }
    let snap = mock.stats.snapshot();
    assert_eq!((snap.connections, snap.requests, snap.http2_requests), (1, 3, 3));
}
