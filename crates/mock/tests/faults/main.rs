//! The faults of gateways and failing servers, through the public API and real HTTP on
//! 127.0.0.1, checked on the status, headers and bytes the mock actually sends: answers in
//! place of the API's (`answered`: `html`, `throttle-date`, `garbage`, `status-close`) and
//! streams gone wrong (`streams`: `slow-headers`, `bad-utf8`, `endless`).
//!
//! This file holds what they share: starting the mock and a raw HTTP/1.1 connection that
//! keeps every byte (the crate has no HTTP client of its own, and these faults are about the
//! bytes and the connection a client would smooth over).

mod answered;
mod streams;

use std::time::Duration;

use serde_json::{Value, json};
use streamperf_mock::{MockOptions, MockServer};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// OpenAI's chat route, the one most tests use.
const CHAT: &str = "/v1/chat/completions";

/// A mock on a free port of 127.0.0.1 with short delays and 3-token answers.
async fn start() -> MockServer {
    let options = MockOptions { port: 0, ttft_ms: 1, itl_ms: 1, tokens: 3, ..Default::default() };
    MockServer::start(options).await.expect("the mock starts on a free port")
}

/// A streaming chat request.
fn chat() -> Value {
    json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "Hi"}]})
}

/// A response head: the status and the headers, names lowercased.
#[derive(Debug)]
struct Head {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Head {
    /// The value of header `name` (lowercase), if sent.
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// One keep-alive HTTP/1.1 connection to the mock, read byte by byte as it arrives.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// Longest any read waits: a test that hangs fails instead.
const PATIENCE: Duration = Duration::from_secs(10);

impl Conn {
    async fn open(mock: &MockServer) -> Conn {
        let stream = TcpStream::connect(mock.addr).await.expect("the mock accepts");
        Conn { stream, buf: Vec::new() }
    }

    /// POSTs `body` to `path`, keeping the connection alive (no `Connection: close`).
    async fn send(&mut self, path: &str, body: &Value) {
        let body = body.to_string();
        let request = format!(
            "POST {path} HTTP/1.1\r\nhost: mock\r\ncontent-type: application/json\r\n\
             content-length: {}\r\n\r\n{body}",
            body.len()
        );
        self.stream.write_all(request.as_bytes()).await.expect("the request is sent");
    }

    /// Reads more bytes into the buffer: false at the end of the connection.
    async fn more(&mut self) -> bool {
        self.buf.reserve(64 << 10);
        let read = tokio::time::timeout(PATIENCE, self.stream.read_buf(&mut self.buf)).await;
        read.expect("the mock answers in time").expect("the connection reads") > 0
    }

    /// The first `n` buffered bytes, reading until there are that many.
    async fn take(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            assert!(self.more().await, "the connection ended {n} bytes early");
        }
        self.buf.drain(..n).collect()
    }

    /// The bytes up to `end` (which is consumed, not returned).
    async fn until(&mut self, end: &[u8]) -> Vec<u8> {
        loop {
            if let Some(at) = self.buf.windows(end.len()).position(|w| w == end) {
                let found = self.take(at + end.len()).await;
                return found[..at].to_vec();
            }
            assert!(self.more().await, "the connection ended before {end:?}");
        }
    }

    /// The next response's head.
    async fn head(&mut self) -> Head {
        let head = String::from_utf8(self.until(b"\r\n\r\n").await).expect("an ASCII head");
        let mut lines = head.lines();
        let status = lines.next().expect("a status line")[9..12].parse().expect("a code");
        let headers = lines
            .map(|l| l.split_once(": ").expect("a header line"))
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned()))
            .collect();
        Head { status, headers }
    }

    /// The next piece of a chunked body, `None` after the last.
    async fn chunk(&mut self) -> Option<Vec<u8>> {
        let size = String::from_utf8(self.until(b"\r\n").await).expect("an ASCII size");
        let size = usize::from_str_radix(&size, 16).expect("a hex size");
        let data = self.take(size + 2).await;
        assert!(data.ends_with(b"\r\n"), "a chunk ends its line");
        (size > 0).then(|| data[..size].to_vec())
    }

    /// The whole body of the response `head` starts, its chunked encoding undone.
    async fn body(&mut self, head: &Head) -> Vec<u8> {
        if let Some(length) = head.header("content-length") {
            return self.take(length.parse().expect("a length")).await;
        }
        assert_eq!(head.header("transfer-encoding"), Some("chunked"), "{head:?}");
        let mut body = Vec::new();
        while let Some(piece) = self.chunk().await {
            body.extend_from_slice(&piece);
        }
        body
    }

    /// One whole exchange on this connection: the head and the body.
    async fn exchange(&mut self, path: &str, body: &Value) -> (Head, Vec<u8>) {
        self.send(path, body).await;
        let head = self.head().await;
        let body = self.body(&head).await;
        (head, body)
    }

    /// Whether the server closed the connection (nothing more buffered, then EOF).
    async fn closed(&mut self) -> bool {
        self.buf.is_empty() && !self.more().await
    }
}

/// One exchange on a connection of its own.
async fn exchange(mock: &MockServer, path: &str, body: &Value) -> (Head, Vec<u8>) {
    Conn::open(mock).await.exchange(path, body).await
}

/// The JSON of every `data:` line of an SSE body (`[DONE]` left out).
fn events(sse: &str) -> Vec<Value> {
    sse.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).expect("a JSON event"))
        .collect()
}

/// The answer text an OpenAI chat stream's events spell.
fn content(events: &[Value]) -> String {
    events.iter().filter_map(|e| e["choices"][0]["delta"]["content"].as_str()).collect()
}
