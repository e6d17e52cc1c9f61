//! Faults answered in place of the API's answer: a proxy's HTML page (`html:<code>`), a 429
//! whose `Retry-After` is a date (`throttle-date`), bytes of no format (`garbage:<bytes>`), and
//! an error after which the connection closes though it was kept alive (`status-close:<code>`).

use std::time::Duration;

use serde_json::{Value, json};

use super::{CHAT, Conn, chat, exchange, start};

#[tokio::test]
async fn html_answers_nginx_s_error_page_on_every_route() {
    let mock = start().await;
    let page = |title: &str| {
        format!(
            "<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center>\
             <hr><center>nginx</center></body></html>"
        )
    };
    let (head, body) = exchange(&mock, &format!("{CHAT}?fail=html:502"), &chat()).await;
    assert_eq!(head.status, 502);
    assert_eq!(head.header("content-type"), Some("text/html"));
    assert_eq!(head.header("server"), Some("nginx"));
    assert_eq!(String::from_utf8(body).unwrap(), page("502 Bad Gateway"));
    let ollama = json!({"model": "m", "messages": [{"role": "user", "content": "Hi"}]});
    let (head, body) = exchange(&mock, "/api/chat?fail=html:504", &ollama).await;
    assert_eq!((head.status, head.header("content-type")), (504, Some("text/html")));
    assert_eq!(String::from_utf8(body).unwrap(), page("504 Gateway Timeout"));
    assert_eq!(mock.stats.snapshot().requests, 2, "counted as requests");
}

#[tokio::test]
async fn throttle_date_is_the_route_s_429_with_an_http_date_two_seconds_ahead() {
    let mock = start().await;
    let (plain, plain_body) = exchange(&mock, &format!("{CHAT}?fail=status:429"), &chat()).await;
    let before = jiff::Timestamp::now();
    let (head, body) = exchange(&mock, &format!("{CHAT}?fail=throttle-date"), &chat()).await;
    let after = jiff::Timestamp::now();
    assert_eq!(head.status, 429);
    assert_eq!(head.header("content-type"), Some("application/json"));
    assert_eq!(body, plain_body, "status:429's body");
    assert_eq!(plain.header("retry-after"), Some("1"), "status:429 says seconds");
    let retry = head.header("retry-after").expect("a Retry-After");
    const IMF_FIXDATE: &str = "%a, %d %b %Y %H:%M:%S GMT";
    let when = jiff::fmt::strtime::parse(IMF_FIXDATE, retry).expect("an IMF-fixdate");
    let when = jiff::tz::TimeZone::UTC.to_timestamp(when.to_datetime().unwrap()).unwrap();
    assert_eq!(when.strftime(IMF_FIXDATE).to_string(), retry, "its weekday right");
    // Now + 2 s at one-second resolution: more than 1 s after the request, at most 2 s after
    // the answer.
    let (second, two) = (jiff::SignedDuration::from_secs(1), jiff::SignedDuration::from_secs(2));
    assert!(when > before + second && when <= after + two, "{retry}: {before} .. {after}");

    let anthropic = json!({"model": "m", "max_tokens": 8, "stream": true, "messages": []});
    let (head, body) = exchange(&mock, "/v1/messages?fail=throttle-date", &anthropic).await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((head.status, &body["error"]["type"]), (429, &json!("rate_limit_error")));
    assert!(head.header("retry-after").unwrap().ends_with(" GMT"));
}

#[tokio::test]
async fn garbage_is_exactly_that_many_random_bytes_as_an_event_stream() {
    let mock = start().await;
    let path = format!("{CHAT}?fail=garbage:100000");
    let (head, body) = exchange(&mock, &path, &chat()).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), Some("text/event-stream"));
    assert_eq!(body.len(), 100_000);
    assert!(std::str::from_utf8(&body).is_err(), "no text");
    let mut seen = [false; 256];
    body.iter().for_each(|&b| seen[usize::from(b)] = true);
    assert!(seen.iter().all(|&s| s), "every byte value 0..=255 occurs");
    assert_eq!(exchange(&mock, &path, &chat()).await.1, body, "the same bytes every time");

    let (head, body) = exchange(&mock, &format!("{CHAT}?fail=garbage:0"), &chat()).await;
    assert_eq!((head.status, body.len()), (200, 0));
    let (head, body) = exchange(&mock, &format!("{CHAT}?fail=garbage:10485761"), &chat()).await;
    let message = String::from_utf8(body).unwrap();
    assert_eq!(head.status, 400, "over 10 MiB");
    assert!(message.contains("garbage:<bytes> (at most 10485760)"), "{message}");
}

#[tokio::test]
async fn status_close_answers_as_status_does_then_closes_a_kept_alive_connection() {
    let mock = start().await;
    let mut conn = Conn::open(&mock).await;
    let (plain, plain_body) = conn.exchange(&format!("{CHAT}?fail=status:503"), &chat()).await;
    let (head, body) = conn.exchange(&format!("{CHAT}?fail=status-close:503"), &chat()).await;
    assert_eq!(mock.stats.snapshot().connections, 1, "status:503 kept the connection");
    assert_eq!((head.status, body.as_slice()), (503, plain_body.as_slice()), "status:503's");
    assert_eq!(head.header("retry-after"), Some("1"));
    assert_eq!(head.header("content-type"), plain.header("content-type"));
    assert_eq!(head.header("connection"), None, "keep-alive advertised");
    assert!(conn.closed().await, "then the server closes");
    assert_eq!(mock.stats.snapshot().server_closes, 1);

    let mut conn = Conn::open(&mock).await;
    let (head, body) = conn.exchange(&format!("{CHAT}?fail=status-close:400"), &chat()).await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((head.status, head.header("retry-after")), (400, None));
    assert_eq!(body, json!({"error": {"message": "mock failure", "type": "mock_error"}}));
    assert!(conn.closed().await);
    // The next connection is served as usual.
    let mut conn = Conn::open(&mock).await;
    assert_eq!(conn.exchange(CHAT, &chat()).await.0.status, 200);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(mock.stats.snapshot().server_closes, 2, "only the faulty responses closed");
}
