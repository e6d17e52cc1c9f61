//! The built-in mock server through its public API and real HTTP on 127.0.0.1: event
//! sequences of every route, overrides, each fault, and what the mock records.
//! Every test uses few-millisecond delays and a handful of requests, except those that
//! measure the reasoning-to-answer gap and queueing for slots (a few hundred milliseconds,
//! lower bounds only) and the ignored load test.
//!
//! One test target (`cargo test --test mock`), a module per topic:
//! - `openai_dify`: the original routes: OpenAI chat (streaming and not), Dify chat and
//!   workflow, plain text;
//! - `providers`: the provider routes: legacy completions, Responses, Anthropic, Gemini,
//!   Ollama, TGI;
//! - `timing`: query overrides, tokens per chunk, usage options, the reasoning-to-answer gap;
//! - `faults`: every `fail=` kind on the original routes, then on each provider route;
//! - `server`: stats and reset, concurrency counts, the index, start and shutdown, the load
//!   test;
//! - `slots`: server capacity (`--slots`): queueing, the shifted schedule, the peak
//!   generating.
//!
//! This file holds what they share: starting the mock, a reqwest client, posting, and reading
//! SSE and NDJSON bodies.

mod faults;
mod openai_dify;
mod providers;
mod server;
mod slots;
mod timing;

use std::time::Duration;

use serde_json::{Value, json};
use streamperf::mock::{MockOptions, MockServer, MockSnapshot};

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

/// `body` with the fields of `extra` (an object) added or replaced.
fn merged(mut body: Value, extra: &Value) -> Value {
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    body
}

/// An OpenAI chat request, with the fields of `extra`.
fn chat(stream: bool, extra: Value) -> Value {
    let body = json!({
        "model": "gpt-mock",
        "messages": [{"role": "user", "content": "写一个关于AI的短文"}],
        "stream": stream,
    });
    merged(body, &extra)
}

/// `path` with `query` appended after `?` or `&`.
fn with_query(path: &str, query: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}{query}")
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

/// The `data` payloads of the events named `name`.
fn named(ev: &[Event], name: &str) -> Vec<Value> {
    ev.iter().filter(|e| e.name.as_deref() == Some(name)).map(Event::json).collect()
}

/// One JSON object per line (Ollama).
fn ndjson(body: &str) -> Vec<Value> {
    assert!(body.ends_with('\n'), "unterminated: {body:?}");
    body.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// The concatenated strings at `pointer` in `values` (those that have one).
fn joined(values: &[Value], pointer: &str) -> String {
    values.iter().filter_map(|v| v.pointer(pointer)?.as_str()).collect()
}
