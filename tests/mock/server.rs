//! The server itself: what `/mock/stats` counts (concurrency, bodies), reset, the route index,
//! start and shutdown, and the ignored 2,048-stream load test.

use std::time::Duration;

use serde_json::{Value, json};
use streamperf::mock::{MockServer, MockSnapshot, mock_text, path_for};
use streamperf::protocol::Protocol;

use super::{chat, client, http_client, json_of, options, post, post_json, start, text, wait_for};

#[tokio::test]
async fn stats_count_concurrency_exactly() {
    // Held open: the streams wait 10 s for their first token, so all 8 are in flight together.
    let mock = start(1, 1, 3).await;
    let c = client();
    let sends = (0..8).map(|i| {
        let body = chat(true, json!({"user": format!("u{i}")}));
        post_json(&c, mock.url("/v1/chat/completions?ttft_ms=10000"), &body).send()
    });
    let open: Vec<_> = futures_util::future::join_all(sends).await;
    assert!(open.iter().all(|r| r.as_ref().is_ok_and(|r| r.status() == 200)));
    let snap = mock.stats.snapshot();
    assert_eq!((snap.requests, snap.in_flight, snap.max_in_flight), (8, 8, 8));
    drop(open);
    assert_eq!(wait_for(&mock, |s| s.in_flight == 0).await.in_flight, 0);
    let mut users: Vec<Value> = mock.stats.bodies().iter().map(|b| b["user"].clone()).collect();
    users.sort_by_key(|u| u.to_string());
    assert_eq!(users, (0..8).map(|i| json!(format!("u{i}"))).collect::<Vec<_>>());

    // Closed loop, 4 workers × 5 requests: the count leaves in flight before [DONE] is sent, so
    // the mock never sees a fifth request and reads 0 the moment a lone client finishes.
    mock.stats.reset();
    let worker = |c: reqwest::Client| {
        let url = mock.url("/v1/chat/completions?ttft_ms=5");
        async move {
            for _ in 0..5 {
                let resp = post_json(&c, url.clone(), &chat(true, json!({}))).send().await;
                let body = resp.expect("sent").text().await.expect("body");
                assert!(body.ends_with("data: [DONE]\n\n"));
            }
        }
    };
    futures_util::future::join_all((0..4).map(|_| worker(c.clone()))).await;
    let snap = mock.stats.snapshot();
    assert_eq!((snap.requests, snap.in_flight, snap.bodies_seen), (20, 0, 20));
    assert!((1..=4).contains(&snap.max_in_flight), "{snap:?}");
    assert_eq!(snap.first_content_us.count, 20);
    assert!(snap.first_content_us.p50 >= 5_000);
    let last = text(post(&mock, "/v1/chat/completions", &chat(true, json!({}))).await).await;
    assert!(last.ends_with("[DONE]\n\n"));
    assert_eq!(mock.stats.snapshot().in_flight, 0, "already 0 when [DONE] arrives");
}

#[tokio::test]
async fn stats_and_reset_endpoints() {
    let mock = start(1, 1, 2).await;
    let body = chat(true, json!({"tag": "first"}));
    text(post(&mock, "/v1/chat/completions", &body).await).await;

    let c = client();
    let get = |path: &'static str| c.get(mock.url(path)).send();
    let snap: MockSnapshot = json_of(get("/mock/stats").await.expect("stats")).await;
    assert_eq!((snap.requests, snap.bodies_seen, snap.in_flight), (1, 1, 0));
    assert!(snap.bodies.is_none());
    assert_eq!(snap.first_content_us.count, 1);
    let v: Value = json_of(get("/mock/stats?bodies=1").await.expect("stats")).await;
    assert_eq!(v["bodies"], json!([body]));

    let resp = c.post(mock.url("/mock/reset")).send().await.expect("reset");
    assert_eq!(resp.status(), 200);
    let snap: MockSnapshot = json_of(get("/mock/stats").await.expect("stats")).await;
    assert_eq!(snap, MockSnapshot::default());
    assert_eq!(get("/nope").await.expect("404").status(), 404);
    mock.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn port_in_use_is_a_clear_error() {
    let mock = start(1, 1, 1).await;
    let mut taken = options(1, 1, 1);
    taken.port = mock.addr.port();
    let err = MockServer::start(taken).await.expect_err("port is taken");
    assert_eq!(
        err.to_string(),
        format!("port {} is in use: pick another with --port", mock.addr.port())
    );
}

#[tokio::test]
async fn dropping_the_handle_keeps_serving() {
    let mock = start(1, 1, 2).await;
    let (url, stats) = (mock.url("/v1/stream"), mock.stats.clone());
    drop(mock);
    let resp = client().get(&url).send().await.expect("still listening");
    assert_eq!(text(resp).await, mock_text(2));
    assert_eq!(stats.snapshot().requests, 1);
}

#[tokio::test]
async fn shutdown_ends_stalled_streams() {
    let mock = start(1, 1, 5).await;
    let stats = mock.stats.clone();
    let resp = post(&mock, "/v1/chat/completions?fail=stall:1", &chat(true, json!({}))).await;
    assert_eq!(resp.status(), 200);
    tokio::time::timeout(Duration::from_secs(5), mock.shutdown())
        .await
        .expect("shutdown does not wait on a stalled stream")
        .expect("clean shutdown");
    assert!(resp.text().await.is_err(), "the stalled body was cut");
    assert_eq!(stats.snapshot().in_flight, 0);
}

#[tokio::test]
async fn index_lists_every_protocol_route() {
    let mock = start(1, 1, 1).await;
    let resp = client().get(mock.url("/")).send().await.expect("GET /");
    assert_eq!(resp.status(), 200);
    let listing = text(resp).await;
    for p in Protocol::ALL {
        let path = path_for(p).split('?').next().unwrap_or_default().replace("/mock:", "/{model}:");
        assert!(listing.contains(&path), "{p:?} {path} missing from:\n{listing}");
    }
}

/// The benchmark's shape: 2,048 concurrent streams. Ignored by default (run it with
/// `cargo test --release --test mock -- --ignored`): on a 2-core machine the client shares
/// the cores, so the bound is loose; it guards against the mock becoming expensive per token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test, run explicitly in release mode"]
async fn sustains_2048_concurrent_streams() {
    const N: usize = 2048;
    let mock = start(200, 20, 64).await;
    let c = http_client(N, Duration::from_secs(5));
    let started = tokio::time::Instant::now();
    let reqs = (0..N).map(|_| {
        let req = post_json(&c, mock.url("/v1/chat/completions"), &chat(true, json!({})));
        async move {
            let mut resp = req.send().await.expect("sent");
            let mut n = 0usize;
            while let Some(chunk) = resp.chunk().await.expect("clean body") {
                n += chunk.len();
            }
            n
        }
    });
    let handles: Vec<_> = reqs.map(tokio::spawn).collect();
    for h in handles {
        assert!(h.await.expect("task") > 0);
    }
    let wall = started.elapsed();
    let snap = mock.stats.snapshot();
    eprintln!("2048 streams in {wall:?}; server first content: {:?}", snap.first_content_us);
    assert_eq!(snap.requests, N as u64);
    // Opening 2,048 connections takes the client a while, so not all overlap; most do.
    assert!(snap.max_in_flight > N as u64 / 2, "{snap:?}");
    assert!(snap.first_content_us.p99 < 250_000, "first content late: {snap:?}");
    // Ideal: 200 ms + 63 × 20 ms = 1.46 s, plus the client's connection ramp.
    assert!(wall < Duration::from_secs(6), "{wall:?}");
}
