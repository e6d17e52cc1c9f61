//! The built-in mock server through its public API and real HTTP on 127.0.0.1: event
//! sequences of every route, overrides, each fault, and what the mock records.
//! Every test uses few-millisecond delays and a handful of requests.

use std::time::Duration;

use serde_json::{Value, json};
use streamperf::mock::{MockOptions, MockServer, MockSnapshot, mock_text};

fn options(ttft_ms: u64, itl_ms: u64, tokens: u64) -> MockOptions {
    MockOptions { port: 0, ttft_ms, itl_ms, tokens, jitter_ms: 0, ..MockOptions::default() }
}

async fn start(ttft_ms: u64, itl_ms: u64, tokens: u64) -> MockServer {
    MockServer::start(options(ttft_ms, itl_ms, tokens)).await.expect("mock starts on a free port")
}

fn client() -> reqwest::Client {
    http_client(16, Duration::from_secs(2))
}

/// An independent HTTP client (reqwest, a dev-dependency) so the mock is not only checked by
/// the engine it serves.
fn http_client(pool: usize, connect_timeout: Duration) -> reqwest::Client {
    streamperf::engine::tls::install_tls_provider();
    reqwest::Client::builder()
        .pool_max_idle_per_host(pool)
        .connect_timeout(connect_timeout)
        .tcp_nodelay(true)
        .no_proxy()
        .build()
        .expect("a client with these static options always builds")
}

/// A JSON POST (reqwest is built without its `json` feature).
fn post_json(c: &reqwest::Client, url: String, body: &Value) -> reqwest::RequestBuilder {
    c.post(url).header("content-type", "application/json").body(body.to_string())
}

async fn post(mock: &MockServer, path: &str, body: &Value) -> reqwest::Response {
    post_json(&client(), mock.url(path), body).send().await.expect("request reaches the mock")
}

async fn json_of<T: serde::de::DeserializeOwned>(resp: reqwest::Response) -> T {
    serde_json::from_str(&text(resp).await).expect("a JSON body")
}

async fn text(resp: reqwest::Response) -> String {
    resp.text().await.expect("complete body")
}

/// One SSE block: the `event:` field if any, and the `data:` payload.
#[derive(Debug)]
struct Event {
    name: Option<String>,
    data: String,
}

impl Event {
    fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("{e}: {}", self.data))
    }
}

/// Splits the mock's framing (`field: value` lines, blocks ended by a blank line).
fn events(body: &str) -> Vec<Event> {
    assert!(body.is_empty() || body.ends_with("\n\n"), "unterminated: {body:?}");
    body.split("\n\n")
        .filter(|b| !b.is_empty())
        .map(|block| {
            let mut ev = Event { name: None, data: String::new() };
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    ev.name = Some(n.into());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    ev.data = d.into();
                } else {
                    panic!("unexpected line {line:?}");
                }
            }
            ev
        })
        .collect()
}

fn chat(stream: bool, extra: Value) -> Value {
    let mut body = json!({
        "model": "gpt-mock",
        "messages": [{"role": "user", "content": "写一个关于AI的短文"}],
        "stream": stream,
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    body
}

/// Polls the mock's own record (not the client's view) until `done` holds, at most 5 s.
async fn wait_for(mock: &MockServer, done: impl Fn(&MockSnapshot) -> bool) -> MockSnapshot {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let snap = mock.stats.snapshot();
        if done(&snap) || tokio::time::Instant::now() >= deadline {
            return snap;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn openai_stream_sequence_with_and_without_usage() {
    let mock = start(2, 1, 5).await;
    let resp = post(&mock, "/v1/chat/completions", &chat(true, json!({}))).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let ev = events(&text(resp).await);
    assert_eq!(ev.len(), 1 + 5 + 1 + 1, "role, 5 tokens, finish, [DONE]");
    let role = ev[0].json();
    assert_eq!(role["object"], "chat.completion.chunk");
    assert_eq!(role["model"], "gpt-mock");
    assert_eq!(role["choices"][0]["delta"]["role"], "assistant");
    let content: String = ev[1..6]
        .iter()
        .map(|e| e.json()["choices"][0]["delta"]["content"].as_str().expect("content").to_owned())
        .collect();
    assert_eq!(content, mock_text(5));
    assert_eq!(ev[6].json()["choices"][0]["finish_reason"], "stop");
    assert_eq!(ev[7].data, "[DONE]");

    let body = chat(true, json!({"stream_options": {"include_usage": true}}));
    let ev = events(&text(post(&mock, "/v1/chat/completions", &body).await).await);
    assert_eq!(ev.len(), 9);
    let usage = ev[7].json();
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], 5);
    assert_eq!(ev[8].data, "[DONE]");
}

#[tokio::test]
async fn max_tokens_caps_the_answer() {
    let mock = start(1, 1, 10).await;
    for key in ["max_tokens", "max_completion_tokens"] {
        let body = chat(true, json!({ key: 3, "stream_options": {"include_usage": true} }));
        let ev = events(&text(post(&mock, "/v1/chat/completions", &body).await).await);
        assert_eq!(ev.len(), 1 + 3 + 1 + 1 + 1, "{key}");
        assert_eq!(ev[4].json()["choices"][0]["finish_reason"], "length");
        assert_eq!(ev[5].json()["usage"]["completion_tokens"], 3);
    }
    // A cap above the answer changes nothing.
    let body = chat(true, json!({"max_tokens": 100}));
    let ev = events(&text(post(&mock, "/v1/chat/completions", &body).await).await);
    assert_eq!(ev.len(), 13);
    assert_eq!(ev[11].json()["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn non_streaming_completion_and_bad_json() {
    let mock = start(2, 1, 4).await;
    let resp = post(&mock, "/v1/chat/completions", &chat(false, json!({}))).await;
    assert_eq!(resp.status(), 200);
    let v: Value = json_of(resp).await;
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["choices"][0]["message"]["content"], mock_text(4));
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["usage"]["completion_tokens"], 4);

    let resp = client()
        .post(mock.url("/v1/chat/completions"))
        .body("{not json")
        .send()
        .await
        .expect("request reaches the mock");
    assert_eq!(resp.status(), 400);
    let v: Value = json_of(resp).await;
    assert_eq!(v["error"]["type"], "invalid_request_error");
    let snap = mock.stats.snapshot();
    assert_eq!((snap.requests, snap.bodies_seen, snap.in_flight), (2, 1, 0));
    assert_eq!(snap.first_content_us.count, 1);
}

#[tokio::test]
async fn dify_chat_sequence() {
    let mock = start(2, 1, 3).await;
    let body = json!({"inputs": {}, "query": "你的问题", "response_mode": "streaming",
                      "conversation_id": "", "user": "abc-123"});
    let resp = post(&mock, "/v1/chat-messages", &body).await;
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let ev = events(&text(resp).await);
    assert_eq!(ev.len(), 1 + 3 + 1);
    assert_eq!((ev[0].name.as_deref(), ev[0].data.as_str()), (Some("ping"), ""));
    let answer: String = ev[1..4]
        .iter()
        .map(|e| {
            let v = e.json();
            assert_eq!(v["event"], "message");
            assert!(v["conversation_id"].as_str().is_some_and(|c| !c.is_empty()));
            v["answer"].as_str().expect("answer").to_owned()
        })
        .collect();
    assert_eq!(answer, mock_text(3));
    let end = ev[4].json();
    assert_eq!(end["event"], "message_end");
    assert_eq!(end["metadata"]["usage"]["completion_tokens"], 3);
}

#[tokio::test]
async fn dify_workflow_both_framings() {
    let mock = start(2, 1, 4).await;
    let body = json!({"inputs": {"q": "hi"}, "response_mode": "streaming", "user": "u"});
    let ev = events(&text(post(&mock, "/v1/workflows/run", &body).await).await);
    let names: Vec<String> =
        ev.iter().map(|e| e.json()["event"].as_str().expect("event").to_owned()).collect();
    let mut expected = vec!["workflow_started", "node_started"];
    expected.extend(["text_chunk"; 4]);
    expected.extend(["node_finished", "workflow_finished"]);
    assert_eq!(names, expected);
    assert!(ev.iter().all(|e| e.name.is_none()), "real Dify uses data-only events");
    let chunks: String = ev[2..6]
        .iter()
        .map(|e| e.json()["data"]["text"].as_str().expect("text").to_owned())
        .collect();
    assert_eq!(chunks, mock_text(4));
    let done = ev[7].json();
    assert_eq!(done["data"]["status"], "succeeded");
    assert_eq!(done["data"]["outputs"]["result"], mock_text(4));
    assert!(done["data"]["total_tokens"].as_u64().is_some_and(|t| t >= 4));

    let path = "/v1/workflows/run?framing=event-lines";
    let ev = events(&text(post(&mock, path, &body).await).await);
    let names: Vec<&str> = ev.iter().map(|e| e.name.as_deref().expect("event:")).collect();
    assert_eq!(names, expected);
    let done = ev[7].json();
    assert_eq!(done, json!({"node_id": "llm", "outputs": {"result": mock_text(4)}}));
    assert_eq!(ev[2].json()["text"], "Hello");

    let resp = post(&mock, "/v1/workflows/run?framing=xml", &body).await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn plain_stream_get_and_post() {
    let mock = start(2, 1, 6).await;
    let resp = client().get(mock.url("/v1/stream")).send().await.expect("GET reaches the mock");
    assert_eq!(resp.headers()["content-type"], "text/plain; charset=utf-8");
    let mut resp = resp;
    let mut chunks = Vec::new();
    while let Some(c) = resp.chunk().await.expect("clean chunked body") {
        chunks.push(c);
    }
    assert_eq!(chunks.concat(), mock_text(6).as_bytes());
    assert!(chunks.len() >= 2, "tokens arrive over time, not as one block");

    let body = json!({"prompt": "你的提示词", "stream": true, "max_tokens": 2});
    assert_eq!(text(post(&mock, "/v1/stream", &body).await).await, mock_text(2));
    assert_eq!(mock.stats.snapshot().bodies_seen, 1, "the empty GET body is not recorded");
}

#[tokio::test]
async fn query_overrides_timing_and_count() {
    let mock = start(1, 1, 50).await;
    let path = "/v1/chat/completions?ttft_ms=40&itl_ms=2&tokens=3";
    let ev = events(&text(post(&mock, path, &chat(true, json!({}))).await).await);
    assert_eq!(ev.len(), 1 + 3 + 1 + 1);
    let first = mock.stats.snapshot().first_content_us;
    assert_eq!(first.count, 1);
    assert!(first.p50 >= 40_000, "server waited the overridden ttft: {first:?}");

    let resp = post(&mock, "/v1/chat/completions?ttft_ms=abc", &chat(true, json!({}))).await;
    assert_eq!(resp.status(), 400);
    let resp = post(&mock, "/v1/chat/completions?fail=explode", &chat(true, json!({}))).await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn fault_status() {
    let mock = start(1, 1, 3).await;
    for code in [500u16, 429, 503] {
        let path = format!("/v1/chat/completions?fail=status:{code}");
        let resp = post(&mock, &path, &chat(true, json!({}))).await;
        assert_eq!(resp.status().as_u16(), code);
        let retry = resp.headers().get("retry-after").map(|v| v.as_bytes().to_vec());
        assert_eq!(retry.as_deref(), (code != 500).then_some(&b"1"[..]));
        let v: Value = json_of(resp).await;
        assert_eq!(v, json!({"error": {"message": "mock failure", "type": "mock_error"}}));
    }
    let resp = post(&mock, "/v1/chat-messages?fail=status:502", &json!({"query": "q"})).await;
    assert_eq!(resp.status(), 502);
    let snap = mock.stats.snapshot();
    assert_eq!((snap.requests, snap.in_flight, snap.first_content_us.count), (4, 0, 0));
}

#[tokio::test]
async fn fault_close_truncates_the_body() {
    let mock = start(1, 1, 10).await;
    let mut resp = post(&mock, "/v1/chat/completions?fail=close:3", &chat(true, json!({}))).await;
    assert_eq!(resp.status(), 200);
    let mut got = Vec::new();
    let err = loop {
        match resp.chunk().await {
            Ok(Some(c)) => got.extend_from_slice(&c),
            Ok(None) => panic!("body ended cleanly: {}", String::from_utf8_lossy(&got)),
            Err(e) => break e,
        }
    };
    assert!(err.is_body() || err.is_decode() || err.is_request(), "{err:?}");
    let ev = events(std::str::from_utf8(&got).expect("UTF-8"));
    assert_eq!(ev.len(), 1 + 3, "role chunk and 3 tokens before the cut");
    assert_eq!(wait_for(&mock, |s| s.in_flight == 0).await.in_flight, 0);
}

#[tokio::test]
async fn fault_stall_ends_when_the_client_leaves() {
    let mock = start(1, 1, 10).await;
    let mut resp = post(&mock, "/v1/chat/completions?fail=stall:2", &chat(true, json!({}))).await;
    let mut got = Vec::new();
    let read_all = async {
        while let Some(c) = resp.chunk().await.expect("no error while stalled") {
            got.extend_from_slice(&c);
        }
    };
    let timed_out = tokio::time::timeout(Duration::from_millis(300), read_all).await;
    assert!(timed_out.is_err(), "a stalled stream must not end");
    let ev = events(std::str::from_utf8(&got).expect("UTF-8"));
    assert_eq!(ev.len(), 1 + 2, "role chunk and 2 tokens before the stall");
    assert_eq!(mock.stats.snapshot().in_flight, 1);
    drop(resp);
    let snap = wait_for(&mock, |s| s.in_flight == 0).await;
    assert_eq!(snap.in_flight, 0, "the stalled stream ended with its client");
}

#[tokio::test]
async fn fault_error_in_stream() {
    let mock = start(1, 1, 10).await;
    let ev = events(
        &text(post(&mock, "/v1/chat/completions?fail=error:2", &chat(true, json!({}))).await).await,
    );
    assert_eq!(ev.len(), 1 + 2 + 1);
    assert_eq!(
        ev[3].json(),
        json!({"error": {"message": "mock in-stream error", "type": "server_error"}})
    );
    assert!(ev.iter().all(|e| e.data != "[DONE]"));

    let body = json!({"query": "q", "response_mode": "streaming"});
    let ev = events(&text(post(&mock, "/v1/chat-messages?fail=error:2", &body).await).await);
    assert_eq!(ev.len(), 1 + 2 + 1);
    assert_eq!(ev[3].json()["event"], "error");
    let ev = events(&text(post(&mock, "/v1/workflows/run?fail=error:1", &body).await).await);
    assert_eq!(ev.last().map(|e| e.json()["event"].clone()), Some(json!("error")));
    assert_eq!(mock.stats.snapshot().in_flight, 0);
}

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
