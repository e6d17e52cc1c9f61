//! Faults (`fail=status|close|stall|error|pause|close-idle`, `--close-after-response`): each
//! kind on the original routes, then every kind on each provider route, in that provider's own
//! error shapes.

use std::time::Duration;

use serde_json::{Value, json};
use streamperf::mock::{MockOptions, MockServer, path_for, request_body_for};
use streamperf::protocol::Protocol;

use super::{chat, events, json_of, options, post, start, text, wait_for, with_query};

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

/// Sends one HTTP/1.1 request for `path` on `tcp` and reads the response through the end of
/// its chunked body; `None` when the server closed the connection without answering.
async fn exchange(tcp: &mut tokio::net::TcpStream, path: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = chat(true, json!({})).to_string();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.expect("request written");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(b"0\r\n\r\n") {
        let read = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf));
        match read.await.expect("the mock answers or closes within 5 s") {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    (!got.is_empty()).then(|| String::from_utf8_lossy(&got).into_owned())
}

/// Whether the server closes `tcp` (EOF) within 5 s, with nothing more sent.
async fn closed_by_server(tcp: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf)).await;
    matches!(read, Ok(Ok(0)) | Ok(Err(_)))
}

#[tokio::test]
async fn close_after_response_closes_while_advertising_keep_alive() {
    let mock = MockServer::start(MockOptions { close_after_response: true, ..options(1, 1, 3) })
        .await
        .expect("mock starts");
    let mut tcp = tokio::net::TcpStream::connect(mock.addr).await.expect("connects");
    let answer = exchange(&mut tcp, "/v1/chat/completions").await.expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(!answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    assert!(answer.contains("[DONE]"), "the whole stream before the close: {answer}");
    assert!(closed_by_server(&mut tcp).await, "closed right after the response");
    let snap = mock.stats.snapshot();
    assert_eq!((snap.requests, snap.server_closes, snap.dropped_requests), (1, 1, 0));
}

#[tokio::test]
async fn fault_close_idle_drops_the_next_request_unanswered() {
    let mock = start(1, 1, 3).await;
    let mut tcp = tokio::net::TcpStream::connect(mock.addr).await.expect("connects");
    let path = "/v1/chat/completions?fail=close-idle";
    let first = exchange(&mut tcp, path).await.expect("the first request is answered");
    assert!(first.starts_with("HTTP/1.1 200") && first.contains("[DONE]"), "{first}");
    let snap = mock.stats.snapshot();
    assert_eq!((snap.server_closes, snap.dropped_requests), (0, 0), "kept open while idle");
    assert_eq!(exchange(&mut tcp, path).await, None, "the next one gets no byte back");
    let snap = wait_for(&mock, |s| s.dropped_requests == 1).await;
    assert_eq!((snap.requests, snap.server_closes, snap.dropped_requests), (1, 1, 1));
}
