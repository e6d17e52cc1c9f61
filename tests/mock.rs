//! The built-in mock server through its public API and real HTTP on 127.0.0.1: event
//! sequences of every route, overrides, each fault, and what the mock records.
//! Every test uses few-millisecond delays and a handful of requests, except the one that
//! measures the reasoning-to-answer gap (a few hundred milliseconds, lower bounds only).

use std::time::Duration;

use serde_json::{Value, json};
use streamperf::mock::{
    MockOptions, MockServer, MockSnapshot, mock_reasoning_text, mock_text, path_for,
    request_body_for,
};
use streamperf::protocol::Protocol;

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
                } else if let Some(d) = line.strip_prefix("data:") {
                    // TGI writes `data:` without the space.
                    ev.data = d.strip_prefix(' ').unwrap_or(d).into();
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
    assert_eq!(ev[2].json()["text"], mock_text(1));

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
async fn fault_pause_delays_then_completes() {
    let mock = start(1, 1, 4).await;
    let sent = tokio::time::Instant::now();
    let path = "/v1/chat/completions?fail=pause:2:150";
    let ev = events(&text(post(&mock, path, &chat(true, json!({}))).await).await);
    assert!(sent.elapsed() >= Duration::from_millis(150), "the pause was waited");
    assert_eq!(ev.len(), 1 + 4 + 1 + 1, "every token, then finish and [DONE]");
    assert_eq!(ev.last().map(|e| e.data.as_str()), Some("[DONE]"));
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

/// `path` with `query` appended after `?` or `&`.
fn with_query(path: &str, query: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}{query}")
}

/// The concatenated strings at `pointer` in `values` (those that have one).
fn joined(values: &[Value], pointer: &str) -> String {
    values.iter().filter_map(|v| v.pointer(pointer)?.as_str()).collect()
}

/// The `data` payloads of the events named `name`.
fn named(ev: &[Event], name: &str) -> Vec<Value> {
    ev.iter().filter(|e| e.name.as_deref() == Some(name)).map(Event::json).collect()
}

/// One JSON object per line (Ollama).
fn ndjson(body: &str) -> Vec<Value> {
    assert!(body.ends_with('\n'), "unterminated: {body:?}");
    body.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// What OpenAI's and Anthropic's servers send.
const SSE_UTF8: &str = "text/event-stream; charset=utf-8";

fn content_type(resp: &reqwest::Response) -> &str {
    resp.headers()["content-type"].to_str().expect("an ASCII content type")
}

/// Posts `request_body_for(protocol)` (with `extra` merged in) to `path_for(protocol)` plus
/// `query`, and checks the status and content type.
async fn call(mock: &MockServer, p: Protocol, query: &str, extra: Value, ct: &str) -> String {
    let mut body = request_body_for(p);
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let path =
        if query.is_empty() { path_for(p).to_owned() } else { with_query(path_for(p), query) };
    let resp = post(mock, &path, &body).await;
    assert_eq!(resp.status(), 200, "{p:?} {path}");
    assert_eq!(content_type(&resp), ct, "{p:?}");
    text(resp).await
}

#[tokio::test]
async fn completions_stream_sequence() {
    let mock = start(2, 1, 5).await;
    let p = Protocol::OpenAiCompletions;
    let ev = events(&call(&mock, p, "", json!({}), SSE_UTF8).await);
    assert_eq!(ev.len(), 5 + 1 + 1 + 1, "5 tokens, finish, usage, [DONE]");
    let chunks: Vec<Value> = ev[..6].iter().map(Event::json).collect();
    assert!(chunks.iter().all(|c| c["object"] == "text_completion"));
    assert_eq!(joined(&chunks, "/choices/0/text"), mock_text(5));
    assert_eq!(chunks[5]["choices"][0]["finish_reason"], "stop");
    assert_eq!(ev[6].json()["usage"]["completion_tokens"], 5);
    assert_eq!(ev[7].data, "[DONE]");
    // max_tokens caps; legacy completions have no reasoning field, so none is sent.
    let query = "reasoning_tokens=4";
    let out = call(&mock, p, query, json!({"max_tokens": 2}), SSE_UTF8);
    let ev = events(&out.await);
    assert_eq!(ev.len(), 2 + 1 + 1 + 1);
    assert_eq!(ev[2].json()["choices"][0]["finish_reason"], "length");
    assert_eq!(ev[3].json()["usage"]["completion_tokens"], 2);
    let v: Value = json_of(post(&mock, "/v1/completions", &json!({"prompt": "hi"})).await).await;
    assert_eq!(
        (v["object"].as_str(), v["choices"][0]["text"].as_str()),
        (Some("text_completion"), Some(mock_text(5).as_str()))
    );
}

#[tokio::test]
async fn responses_stream_with_reasoning() {
    let mock = start(2, 1, 4).await;
    let p = Protocol::OpenAiResponses;
    let out = call(&mock, p, "reasoning_tokens=3", json!({}), SSE_UTF8);
    let ev = events(&out.await);
    assert!(ev.iter().all(|e| e.json()["type"].as_str() == e.name.as_deref()));
    assert_eq!(ev[0].name.as_deref(), Some("response.created"));
    let position =
        |name: &str| ev.iter().position(|e| e.name.as_deref() == Some(name)).expect(name);
    let reasoning = named(&ev, "response.reasoning_summary_text.delta");
    let answer = named(&ev, "response.output_text.delta");
    assert_eq!((reasoning.len(), answer.len()), (3, 4));
    assert_eq!(joined(&reasoning, "/delta"), mock_reasoning_text(3));
    assert_eq!(joined(&answer, "/delta"), mock_text(4));
    assert!(
        position("response.reasoning_summary_text.done") < position("response.output_text.delta")
    );
    let last = ev.last().expect("events");
    assert_eq!(last.name.as_deref(), Some("response.completed"));
    let usage = &last.json()["response"]["usage"];
    assert_eq!(usage["output_tokens"], 7, "reasoning counts as output");
    assert_eq!(usage["output_tokens_details"]["reasoning_tokens"], 3);
    assert!(usage["input_tokens"].as_u64().is_some_and(|n| n > 0));

    let out = call(&mock, p, "", json!({"max_output_tokens": 2}), SSE_UTF8);
    let ev = events(&out.await);
    assert_eq!(named(&ev, "response.output_text.delta").len(), 2);
    assert_eq!(ev.last().and_then(|e| e.name.as_deref()), Some("response.incomplete"));
}

#[tokio::test]
async fn anthropic_messages_with_thinking() {
    let mock = start(2, 1, 5).await;
    let query = "reasoning_tokens=4&tokens_per_chunk=2";
    let out = call(&mock, Protocol::Anthropic, query, json!({}), SSE_UTF8);
    let ev = events(&out.await);
    assert!(ev.iter().all(|e| e.json()["type"].as_str() == e.name.as_deref()));
    let names: Vec<&str> = ev.iter().filter_map(|e| e.name.as_deref()).collect();
    assert_eq!(names[..3], ["message_start", "content_block_start", "ping"]);
    assert_eq!(names[names.len() - 2..], ["message_delta", "message_stop"]);
    assert_eq!(ev[0].json()["message"]["usage"]["output_tokens"], 1, "placeholder");
    let deltas = named(&ev, "content_block_delta");
    let of = |kind: &str| -> Vec<Value> {
        deltas.iter().filter(|d| d["delta"]["type"] == kind).cloned().collect()
    };
    let (thinking, answer) = (of("thinking_delta"), of("text_delta"));
    assert_eq!((thinking.len(), answer.len()), (2, 3), "2+2 thinking, 2+2+1 text");
    assert_eq!(joined(&thinking, "/delta/thinking"), mock_reasoning_text(4));
    assert_eq!(joined(&answer, "/delta/text"), mock_text(5));
    let last_thinking = deltas.iter().rposition(|d| d["delta"]["type"] == "thinking_delta");
    let first_text = deltas.iter().position(|d| d["delta"]["type"] == "text_delta");
    assert!(last_thinking.expect("thinking") < first_text.expect("text"));
    let blocks = named(&ev, "content_block_start");
    assert_eq!(
        blocks.iter().map(|b| b["content_block"]["type"].clone()).collect::<Vec<_>>(),
        [json!("thinking"), json!("text")]
    );
    let delta = &named(&ev, "message_delta")[0];
    assert_eq!(delta["usage"]["output_tokens"], 9, "cumulative, thinking included");
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");

    let out = call(&mock, Protocol::Anthropic, "", json!({"max_tokens": 3}), SSE_UTF8);
    let delta = &named(&events(&out.await), "message_delta")[0];
    assert_eq!(delta["delta"]["stop_reason"], "max_tokens");
    assert_eq!(delta["usage"]["output_tokens"], 3);
}

#[tokio::test]
async fn gemini_stream_generate_content() {
    let mock = start(2, 1, 4).await;
    let path = "/v1beta/models/gemini-mock:streamGenerateContent?alt=sse&reasoning_tokens=2";
    let body = request_body_for(Protocol::Gemini);
    let resp = post(&mock, path, &body).await;
    assert_eq!((resp.status().as_u16(), content_type(&resp)), (200, "text/event-stream"));
    let ev = events(&text(resp).await);
    assert!(ev.iter().all(|e| e.name.is_none()), "data-only events");
    let chunks: Vec<Value> = ev.iter().map(Event::json).collect();
    let parts: Vec<Value> = chunks
        .iter()
        .flat_map(|c| c["candidates"][0]["content"]["parts"].as_array().cloned().expect("parts"))
        .collect();
    let (thoughts, answer): (Vec<Value>, Vec<Value>) =
        parts.into_iter().partition(|p| p["thought"] == true);
    assert_eq!(joined(&thoughts, "/text"), mock_reasoning_text(2));
    assert_eq!(joined(&answer, "/text"), mock_text(4));
    let last = chunks.last().expect("chunks");
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(last["modelVersion"], "gemini-mock", "the model from the path");
    let usage = &last["usageMetadata"];
    assert_eq!(
        (usage["candidatesTokenCount"].as_u64(), usage["thoughtsTokenCount"].as_u64()),
        (Some(4), Some(2))
    );

    let mut capped = body.clone();
    capped["generationConfig"] = json!({"maxOutputTokens": 3});
    let ev = events(&text(post(&mock, path, &capped).await).await);
    let last = ev.last().expect("events").json();
    assert_eq!(last["candidates"][0]["finishReason"], "MAX_TOKENS");
    assert_eq!(last["usageMetadata"]["candidatesTokenCount"], 1, "2 of the 3 went to thoughts");

    let wrong = post(&mock, "/v1beta/models/gemini-mock:generateContent?alt=sse", &body).await;
    assert_eq!(wrong.status(), 404);
    let no_alt = post(&mock, "/v1beta/models/gemini-mock:streamGenerateContent", &body).await;
    assert_eq!(no_alt.status(), 400);
    let v: Value = json_of(no_alt).await;
    assert_eq!(v["error"]["status"], "INVALID_ARGUMENT");
}

#[tokio::test]
async fn ollama_chat_and_generate_ndjson() {
    let mock = start(2, 1, 4).await;
    let out =
        call(&mock, Protocol::Ollama, "reasoning_tokens=2", json!({}), "application/x-ndjson");
    let lines = ndjson(&out.await);
    assert_eq!(lines.len(), 2 + 4 + 1);
    assert_eq!(joined(&lines, "/message/thinking"), mock_reasoning_text(2));
    assert_eq!(joined(&lines, "/message/content"), mock_text(4));
    assert!(lines[..6].iter().all(|l| l["done"] == false));
    let done = &lines[6];
    assert_eq!((done["done"].clone(), done["done_reason"].clone()), (json!(true), json!("stop")));
    assert_eq!(done["eval_count"], 6, "thinking counts");
    assert!(done["prompt_eval_count"].as_u64().is_some_and(|n| n > 0));

    let body = json!({"model": "llama", "prompt": "hi", "options": {"num_predict": 2}});
    let resp = post(&mock, "/api/generate", &body).await;
    assert_eq!(content_type(&resp), "application/x-ndjson");
    let lines = ndjson(&text(resp).await);
    assert_eq!(joined(&lines, "/response"), mock_text(2));
    let done = lines.last().expect("lines");
    assert_eq!(
        (done["done_reason"].as_str(), done["eval_count"].as_u64()),
        (Some("length"), Some(2))
    );
    assert_eq!(done["model"], "llama");
}

#[tokio::test]
async fn tgi_generate_stream() {
    let mock = start(2, 1, 5).await;
    // TGI has no reasoning field: the reasoning tokens are ignored.
    let out =
        call(&mock, Protocol::Tgi, "reasoning_tokens=3", json!({}), "text/event-stream").await;
    assert!(out.lines().all(|l| l.is_empty() || l.starts_with("data:{")), "TGI's framing: {out}");
    let ev: Vec<Value> = events(&out).iter().map(Event::json).collect();
    assert_eq!(ev.len(), 5 + 1, "5 tokens and the EOS token");
    let visible: Vec<Value> =
        ev.iter().filter(|e| e["token"]["special"] == false).cloned().collect();
    assert_eq!(joined(&visible, "/token/text"), mock_text(5));
    let last = &ev[5];
    assert_eq!(last["generated_text"], mock_text(5));
    assert_eq!(last["details"]["finish_reason"], "eos_token");
    assert_eq!(last["details"]["generated_tokens"], 6, "the EOS counts, as in TGI");

    let out = call(
        &mock,
        Protocol::Tgi,
        "",
        json!({"parameters": {"max_new_tokens": 2}}),
        "text/event-stream",
    );
    let ev: Vec<Value> = events(&out.await).iter().map(Event::json).collect();
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[1]["details"]["finish_reason"], "length");
}

#[tokio::test]
async fn tokens_per_chunk_and_one_o200k_token_per_word() {
    let mock = start(1, 1, 10).await;
    let path = "/v1/chat/completions?tokens_per_chunk=3&reasoning_tokens=4";
    let body = chat(true, json!({"stream_options": {"include_usage": true}}));
    let ev = events(&text(post(&mock, path, &body).await).await);
    let chunks: Vec<Value> = ev.iter().filter(|e| e.data != "[DONE]").map(Event::json).collect();
    let bpe = tiktoken_rs::o200k_base_singleton();
    let sizes = |field: &str| -> Vec<usize> {
        let pointer = format!("/choices/0/delta/{field}");
        chunks
            .iter()
            .filter_map(|c| c.pointer(&pointer)?.as_str())
            .filter(|t| !t.is_empty())
            .map(|t| bpe.encode_ordinary(t).len())
            .collect()
    };
    assert_eq!(sizes("reasoning_content"), [3, 1]);
    assert_eq!(sizes("content"), [3, 3, 3, 1]);
    let answer = joined(&chunks, "/choices/0/delta/content");
    assert_eq!(bpe.encode_ordinary(&answer).len(), 10, "{answer:?}");
    let usage = &chunks.last().expect("usage chunk")["usage"];
    assert_eq!(usage["completion_tokens"], 14);
    assert_eq!(usage["completion_tokens_details"]["reasoning_tokens"], 4);
}

#[tokio::test]
async fn continuous_usage_stats_on_every_chunk() {
    let mock = start(1, 1, 4).await;
    let options = json!({"stream_options": {"continuous_usage_stats": true}});
    for p in [Protocol::OpenAiChat, Protocol::OpenAiCompletions] {
        let mut body = request_body_for(p);
        body["stream_options"] = options["stream_options"].clone();
        let ev = events(&text(post(&mock, path_for(p), &body).await).await);
        let chunks: Vec<Value> =
            ev.iter().filter(|e| e.data != "[DONE]").map(Event::json).collect();
        let running: Vec<u64> = chunks
            .iter()
            .map(|c| c["usage"]["completion_tokens"].as_u64().expect("usage on every chunk"))
            .collect();
        assert!(running.windows(2).all(|w| w[0] <= w[1]), "{p:?}: {running:?}");
        assert_eq!(running.last(), Some(&4), "{p:?}");
        assert!(chunks.iter().all(|c| c["usage"]["prompt_tokens"].as_u64().is_some()));
        assert!(chunks.iter().all(|c| c["choices"] != json!([])), "no usage-only chunk");
    }
}

#[tokio::test]
async fn usage_false_drops_every_token_count() {
    let mock = start(1, 1, 3).await;
    let cases = [
        (Protocol::OpenAiChat, "\"usage\""),
        (Protocol::OpenAiCompletions, "\"usage\""),
        (Protocol::OpenAiResponses, "output_tokens"),
        (Protocol::Anthropic, "output_tokens"),
        (Protocol::Gemini, "usageMetadata"),
        (Protocol::Ollama, "eval_count"),
        (Protocol::Tgi, "generated_tokens"),
        (Protocol::Dify, "completion_tokens"),
    ];
    for (p, field) in cases {
        let body = request_body_for(p);
        let path = with_query(path_for(p), "reasoning_tokens=2");
        let with = text(post(&mock, &path, &body).await).await;
        assert!(with.contains(field), "{p:?} reports {field} by default");
        let without = text(post(&mock, &with_query(&path, "usage=false"), &body).await).await;
        assert!(!without.contains(field), "{p:?}: {without}");
        assert!(without.contains(mock_text(1).as_str()), "{p:?} still streams the answer");
    }
}

/// With 20 reasoning tokens, 2 per chunk, the first answer chunk is due 10 inter-chunk gaps
/// after the first reasoning chunk. Lower bounds only: a busy machine can only add delay.
#[tokio::test]
async fn answer_starts_after_the_reasoning_chunks() {
    const ITL_MS: u64 = 25;
    const REASONING_CHUNKS: u64 = 10;
    let mock = start(5, ITL_MS, 3).await;
    let path = "/v1/chat/completions?reasoning_tokens=20&tokens_per_chunk=2";
    let sent = tokio::time::Instant::now();
    let mut resp = post(&mock, path, &chat(true, json!({}))).await;
    let (mut body, mut first_reasoning, mut first_answer) = (String::new(), None, None);
    while let Some(chunk) = resp.chunk().await.expect("a clean body") {
        let now = tokio::time::Instant::now();
        body.push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        if first_reasoning.is_none() && body.contains("\"reasoning_content\":\"") {
            first_reasoning = Some(now);
        }
        if first_answer.is_none() && body.contains("\"delta\":{\"content\":\"") {
            first_answer = Some(now);
        }
    }
    let (r, a) = (first_reasoning.expect("reasoning"), first_answer.expect("answer"));
    let gap = Duration::from_millis(REASONING_CHUNKS * ITL_MS);
    assert!(a - sent >= gap + Duration::from_millis(5), "answer due at ttft + 10 gaps");
    assert!(a - r >= gap.mul_f64(0.9), "reasoning→answer {:?} < 0.9 × {gap:?}", a - r);
}

/// Protocols added with the multi-provider mock; each gets every fault.
const NEW_ROUTES: [Protocol; 6] = [
    Protocol::OpenAiCompletions,
    Protocol::OpenAiResponses,
    Protocol::Anthropic,
    Protocol::Gemini,
    Protocol::Ollama,
    Protocol::Tgi,
];

/// Whether `v` is `p`'s error body for `fail=status:503`.
fn is_status_body(p: Protocol, v: &Value) -> bool {
    match p {
        Protocol::Anthropic => v["type"] == "error" && v["error"]["type"].is_string(),
        Protocol::Gemini => v["error"]["status"] == "UNAVAILABLE" && v["error"]["code"] == 503,
        Protocol::Ollama => v["error"] == "mock failure",
        Protocol::Tgi => v["error_type"] == "generation",
        _ => v["error"]["type"] == "mock_error",
    }
}

/// What `p`'s in-stream error looks like.
fn in_stream_error(p: Protocol) -> &'static str {
    match p {
        Protocol::OpenAiResponses => "event: response.failed",
        Protocol::Anthropic => {
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\""
        }
        Protocol::Gemini => "\"status\":\"INTERNAL\"",
        Protocol::Ollama => "{\"error\":\"mock in-stream error\"}",
        Protocol::Tgi => "\"error_type\":\"generation\"",
        _ => "{\"error\":{\"message\":\"mock in-stream error\"",
    }
}

#[tokio::test]
async fn faults_on_every_new_route() {
    let mock = start(1, 1, 6).await;
    for p in NEW_ROUTES {
        let body = request_body_for(p);
        let url =
            |fault: &str| with_query(path_for(p), &format!("reasoning_tokens=1&fail={fault}"));
        let resp = post(&mock, &url("status:503"), &body).await;
        assert_eq!(resp.status(), 503, "{p:?}");
        assert_eq!(resp.headers()["retry-after"], "1");
        let v: Value = json_of(resp).await;
        assert!(is_status_body(p, &v), "{p:?}: {v}");

        let out = text(post(&mock, &url("error:2"), &body).await).await;
        assert!(out.contains(in_stream_error(p)), "{p:?}: {out}");
        let last = out.lines().rfind(|l| !l.is_empty()).unwrap_or_default();
        assert!(last.contains("error"), "{p:?}: the error is the last thing sent: {out}");

        let mut resp = post(&mock, &url("close:2"), &body).await;
        let cut = loop {
            match resp.chunk().await {
                Ok(Some(_)) => {}
                Ok(None) => break false,
                Err(_) => break true,
            }
        };
        assert!(cut, "{p:?}: close must truncate the body");

        let mut resp = post(&mock, &url("stall:1"), &body).await;
        let read_all = async { while let Ok(Some(_)) = resp.chunk().await {} };
        let stalled = tokio::time::timeout(Duration::from_millis(150), read_all).await;
        assert!(stalled.is_err(), "{p:?}: a stalled stream must not end");
    }
    assert_eq!(wait_for(&mock, |s| s.in_flight == 0).await.in_flight, 0);
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
