//! What the mock keeps from one request to the next, through its public API and real HTTP on
//! 127.0.0.1: the prefix cache (`--prefix-cache`, `prefix_cache`) and Dify's conversations
//! (`dify_conversations`).
//!
//! This file holds what they share: starting the mock and a small HTTP/1.1 client (the crate
//! has no HTTP client of its own, and one request a connection needs no more).

mod dify_conversations;
mod prefix_cache;

use serde_json::Value;
use streamperf_mock::{MockOptions, MockServer};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// A mock on a free port with short delays and 3-token answers; `prefix_cache` as given.
async fn start(prefix_cache: bool) -> MockServer {
    let options = MockOptions {
        port: 0,
        ttft_ms: 1,
        itl_ms: 1,
        tokens: 3,
        prefix_cache,
        ..Default::default()
    };
    MockServer::start(options).await.expect("the mock starts on a free port")
}

/// POSTs `body` as JSON to `path` on a connection of its own: the status and the body, its
/// chunked encoding undone.
async fn post(mock: &MockServer, path: &str, body: &Value) -> (u16, String) {
    let body = body.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        mock.addr,
        body.len()
    );
    let mut conn = TcpStream::connect(mock.addr).await.expect("the mock accepts");
    conn.write_all(request.as_bytes()).await.expect("the request is sent");
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).await.expect("the answer is read to its close");
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").expect("a head");
    let head = String::from_utf8_lossy(&answer[..split]).to_ascii_lowercase();
    let status = head[9..12].parse().expect("a status code");
    let mut body = answer[split + 4..].to_vec();
    if head.lines().any(|l| l == "transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (status, String::from_utf8(body).expect("a UTF-8 body"))
}

/// The payload of a chunked body.
fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line = rest.windows(2).position(|w| w == b"\r\n").expect("a chunk size line");
        let size = std::str::from_utf8(&rest[..line]).expect("an ASCII size");
        let size = usize::from_str_radix(size, 16).expect("a hex size");
        if size == 0 {
            return out;
        }
        let data = &rest[line + 2..];
        out.extend_from_slice(&data[..size]);
        rest = &data[size + 2..];
    }
}

/// The JSON of every `data:` line of an SSE body (`[DONE]` left out).
fn events(sse: &str) -> Vec<Value> {
    sse.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim_start)
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).expect("a JSON event"))
        .collect()
}

/// The JSON of a whole answer.
fn json(body: &str) -> Value {
    serde_json::from_str(body).expect("a JSON body")
}
