//! Streams gone wrong: a head held back (`slow-headers:<ms>`), an event that is not UTF-8
//! (`bad-utf8`) and a stream without an end (`endless`).

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use streamperf_mock::mock_text;

use super::{CHAT, Conn, chat, content, events, exchange, start};

#[tokio::test]
async fn slow_headers_holds_the_head_back_then_streams_as_usual() {
    let mock = start().await;
    let mut conn = Conn::open(&mock).await;
    let sent = Instant::now();
    conn.send(&format!("{CHAT}?fail=slow-headers:300&ttft_ms=100"), &chat()).await;
    let head = conn.head().await;
    let head_at = sent.elapsed();
    let body = conn.body(&head).await;
    let done_at = sent.elapsed();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), Some("text/event-stream"));
    assert!(head_at >= Duration::from_millis(300), "the head came after {head_at:?}");
    // The time to first token counts from the head: 300 ms, then 100 ms, then the tokens.
    assert!(done_at >= Duration::from_millis(400), "the stream ended after {done_at:?}");
    let sse = String::from_utf8(body).unwrap();
    assert_eq!(content(&events(&sse)), mock_text(3));
    assert!(sse.ends_with("data: [DONE]\n\n"), "{sse}");

    let mut whole = chat();
    whole["stream"] = json!(false);
    let sent = Instant::now();
    let (head, body) = conn.exchange(&format!("{CHAT}?fail=slow-headers:200"), &whole).await;
    assert!(sent.elapsed() >= Duration::from_millis(200), "a whole answer waits too");
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (head.status, answer["choices"][0]["message"]["content"].as_str()),
        (200, Some(mock_text(3).as_str()))
    );
}

/// Where `needle` occurs in `haystack`.
fn positions(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    let found = haystack.windows(needle.len()).enumerate().filter(|(_, w)| *w == needle);
    found.map(|(at, _)| at).collect()
}

#[tokio::test]
async fn bad_utf8_puts_ff_fe_inside_the_first_content_string_only() {
    let mock = start().await;
    let (head, body) = exchange(&mock, &format!("{CHAT}?fail=bad-utf8"), &chat()).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), Some("text/event-stream"));
    assert!(std::str::from_utf8(&body).is_err(), "not UTF-8");
    let at = positions(&body, b"\xFF\xFE");
    assert_eq!(at.len(), 1, "once");
    let line_start = body[..at[0]].iter().rposition(|&b| b == b'\n').map_or(0, |n| n + 1);
    let line_end = at[0] + body[at[0]..].iter().position(|&b| b == b'\n').unwrap();
    let line = &body[line_start..line_end];
    assert!(line.starts_with(b"data: {"), "{}", String::from_utf8_lossy(line));
    assert_eq!(positions(line, b"\"content\":\" He\xFF\xFEllo\"").len(), 1, "mid-string");
    // Without the two bytes, the stream is the usual one, to its end marker.
    let mut clean = body.clone();
    clean.drain(at[0]..at[0] + 2);
    let sse = String::from_utf8(clean).expect("the rest is UTF-8");
    let events = events(&sse);
    assert_eq!(content(&events), mock_text(3));
    assert!(events[1]["choices"][0]["delta"]["content"] == " Hello", "the first content");
    assert!(sse.ends_with("data: [DONE]\n\n"));

    let ollama = json!({"model": "m", "messages": [{"role": "user", "content": "Hi"}]});
    let (head, body) = exchange(&mock, "/api/chat?fail=bad-utf8", &ollama).await;
    assert_eq!(head.header("content-type"), Some("application/x-ndjson"));
    assert_eq!(positions(&body, b"\"content\":\" He\xFF\xFEllo\"").len(), 1, "in its format");
    let last = body.trim_ascii_end().rsplit(|&b| b == b'\n').next().unwrap();
    let last: Value = serde_json::from_slice(last).expect("the last line is whole");
    assert_eq!(last["done"], true);
}

#[tokio::test]
async fn endless_streams_past_the_planned_tokens_without_end_or_usage() {
    let mock = start().await;
    let mut conn = Conn::open(&mock).await;
    let mut body = chat();
    body["stream_options"] = json!({"include_usage": true, "continuous_usage_stats": true});
    conn.send(&format!("{CHAT}?fail=endless"), &body).await;
    let head = conn.head().await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("transfer-encoding"), Some("chunked"));
    let mut sse = String::new();
    while content(&events(&sse)).len() < mock_text(50).len() {
        let piece = conn.chunk().await.expect("the stream never ends");
        sse.push_str(std::str::from_utf8(&piece).unwrap());
    }
    assert_eq!(content(&events(&sse)), mock_text(50), "50 tokens where 3 were planned");
    assert!(!sse.contains("[DONE]") && !sse.contains("usage"), "{sse}");
    assert!(events(&sse).iter().all(|e| e["choices"][0]["finish_reason"].is_null()));
    assert_eq!(mock.stats.snapshot().in_flight, 1);
    drop(conn);
    let gone = async {
        while mock.stats.snapshot().in_flight > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), gone).await.expect("ends with its client");

    // A whole answer never completes: the head, then nothing.
    let mut conn = Conn::open(&mock).await;
    let mut whole = chat();
    whole["stream"] = json!(false);
    conn.send(&format!("{CHAT}?fail=endless"), &whole).await;
    assert_eq!(conn.head().await.status, 200);
    let more = tokio::time::timeout(Duration::from_millis(300), conn.more()).await;
    assert!(more.is_err(), "no body: {:?}", conn.buf);

    // Nor does a stream keep the server from stopping.
    let mut endless = Conn::open(&mock).await;
    endless.send(&format!("{CHAT}?fail=endless"), &chat()).await;
    endless.head().await;
    endless.chunk().await.expect("a first event");
    let stopped = tokio::time::timeout(Duration::from_secs(5), mock.shutdown()).await;
    stopped.expect("the shutdown ends endless streams").expect("the mock stops cleanly");
}
