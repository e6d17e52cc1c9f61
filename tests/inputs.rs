//! Bad inputs from real servers, end to end against the built-in mock (#17): streams under a
//! missing or generic `Content-Type`, an event larger than `--max-event-bytes`, a line that
//! never ends, a response head with 150 headers, a 200 JSON error, vLLM's older error object,
//! a stream cut off by its timeout mid-stall, and HTTP failures broken down by status code.

mod support;

use std::time::{Duration, Instant};

use streamperf::cli::{Lang, RunArgs};
use streamperf::mock::{MockOptions, MockServer, whole_request_body_for};
use streamperf::protocol::Protocol;
use streamperf::record::{ErrorClass, RequestRecord, TokenSource};
use streamperf::run::RunOutput;
use support::{args, run_args};

const TOKENS: u64 = 15;
const CHAT: &str = "/v1/chat/completions";

async fn mock() -> MockServer {
    let options =
        MockOptions { port: 0, ttft_ms: 5, itl_ms: 1, tokens: TOKENS, ..MockOptions::default() };
    MockServer::start(options).await.expect("mock starts")
}

/// `-n requests -p 1` against `path` on `mock`, with `more` applied to the flags.
async fn run(
    mock: &MockServer,
    path: &str,
    requests: u64,
    more: impl FnOnce(&mut RunArgs),
) -> RunOutput {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut args = args(mock.url(path), requests, 1, dir.path());
    more(&mut args);
    run_args(&args).await
}

/// Every request succeeded.
fn all_succeeded(out: &RunOutput, what: &str) {
    let s = &out.result.summary;
    let errors: Vec<_> = out.result.metrics.iter().filter_map(|r| r.error.as_deref()).collect();
    assert_eq!((s.failed_count, s.success_count), (0, s.total_requests), "{what}: {errors:?}");
}

/// The one failure of a run, which must be of `class`.
fn failure(out: &RunOutput, class: ErrorClass) -> &RequestRecord {
    let record = &out.result.metrics[0];
    assert_eq!(record.error_class, Some(class), "{:?}", record.error);
    record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openai_stream_under_a_generic_or_missing_content_type_is_read_as_sse() {
    let mock = mock().await;
    let labelled = run(&mock, CHAT, 1, |_| {}).await;
    let chunks = labelled.result.metrics[0].chunks;
    for ct in ["text/plain", "application/json", "application/octet-stream", "none"] {
        for format in [None, Some("openai-chat")] {
            let path = format!("{CHAT}?ct={ct}");
            let out = run(&mock, &path, 2, |a| a.format = format.map(str::to_owned)).await;
            let what = format!("ct={ct} --format {format:?}");
            all_succeeded(&out, &what);
            assert_eq!(out.detected_format.as_deref(), Some("sse/openai-chat"), "{what}");
            for r in &out.result.metrics {
                assert_eq!((r.output_tokens, r.token_source), (Some(TOKENS), TokenSource::Usage));
                assert_eq!(r.chunks, chunks, "{what}: as under text/event-stream");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ndjson_and_whole_answers_under_text_plain_are_read_as_such() {
    let mock = mock().await;
    let ollama = r#"{"model":"mock","messages":[{"role":"user","content":"hi"}]}"#;
    let out = run(&mock, "/api/chat?ct=text/plain", 2, |a| a.body = Some(ollama.into())).await;
    all_succeeded(&out, "ollama");
    assert_eq!(out.detected_format.as_deref(), Some("ndjson/ollama"));
    assert_eq!(out.result.metrics[0].output_tokens, Some(TOKENS));

    let whole = whole_request_body_for(Protocol::OpenAiChat).to_string();
    let out = run(&mock, &format!("{CHAT}?ct=none"), 2, |a| a.body = Some(whole)).await;
    all_succeeded(&out, "whole answer");
    assert_eq!(out.detected_format.as_deref(), Some("json/openai-chat"));
    assert_eq!(out.result.metrics[0].output_tokens, Some(TOKENS));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_json_error_is_a_stream_error_whatever_its_content_type() {
    let mock = mock().await;
    let whole = whole_request_body_for(Protocol::OpenAiChat).to_string();
    for ct in ["", "&ct=text/plain", "&ct=none"] {
        let path = format!("{CHAT}?fail=error:1{ct}");
        let out = run(&mock, &path, 1, |a| a.body = Some(whole.clone())).await;
        let record = failure(&out, ErrorClass::StreamError);
        assert!(record.error.as_deref().is_some_and(|e| e.contains("server_error")), "{ct}");
        assert_eq!(record.status, Some(200));
    }
    // In a stream, sent as plain text.
    let out = run(&mock, &format!("{CHAT}?fail=error:3&ct=text/plain"), 1, |_| {}).await;
    failure(&out, ErrorClass::StreamError);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_over_max_event_bytes_is_malformed_naming_the_limit() {
    let mock = mock().await;
    let big = format!("{CHAT}?fail=big-event:{}", 2 << 20);
    let out = run(&mock, &big, 1, |a| a.max_event_bytes = Some("1MiB".into())).await;
    let record = failure(&out, ErrorClass::Malformed);
    let error = record.error.as_deref().unwrap_or_default();
    assert_eq!(error, "an SSE line is larger than --max-event-bytes (1 MiB)");
    // Under the default cap (16 MiB) the same event is read.
    let out = run(&mock, &big, 1, |_| {}).await;
    all_succeeded(&out, "a 2 MiB event under the default cap");
    assert!(out.result.metrics[0].bytes > 2 << 20);

    // A whole JSON answer is one event too.
    let whole = whole_request_body_for(Protocol::OpenAiChat).to_string();
    let path = format!("{CHAT}?tokens=200000&itl_ms=0");
    let out = run(&mock, &path, 1, |a| {
        a.body = Some(whole);
        a.max_event_bytes = Some("512KiB".into());
    })
    .await;
    let record = failure(&out, ErrorClass::Malformed);
    let error = record.error.as_deref().unwrap_or_default();
    assert_eq!(error, "the JSON answer is larger than --max-event-bytes (512 KiB)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_line_is_malformed_at_once_not_a_timeout() {
    let mock = mock().await;
    for (path, what) in [
        (format!("{CHAT}?fail=endless-line"), "an SSE line"),
        (format!("{CHAT}?fail=endless-line&ct=application/json"), "an SSE line"),
        ("/api/chat?fail=endless-line".to_owned(), "an NDJSON line"),
    ] {
        let started = Instant::now();
        let body = match path.starts_with("/api") {
            true => Some(r#"{"model":"mock","messages":[]}"#.to_owned()),
            false => None,
        };
        let out = run(&mock, &path, 1, |a| {
            a.max_event_bytes = Some("1MiB".into());
            a.timeout = Some(60.0);
            if body.is_some() {
                a.body = body;
            }
        })
        .await;
        let record = failure(&out, ErrorClass::Malformed);
        let want = format!("{what} is larger than --max-event-bytes (1 MiB)");
        assert_eq!(record.error.as_deref(), Some(want.as_str()), "{path}");
        assert!(started.elapsed() < Duration::from_secs(20), "{path}: {:?}", started.elapsed());
    }
    assert_eq!(mock.stats.snapshot().in_flight, 0, "the endless streams ended with the client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_head_with_150_headers_is_read() {
    let mock = mock().await;
    let out = run(&mock, &format!("{CHAT}?fail=headers:150"), 2, |_| {}).await;
    all_succeeded(&out, "150 headers");
    assert_eq!(out.result.metrics[0].output_tokens, Some(TOKENS));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_streams_final_stall_is_its_max_gap() {
    let mock = mock().await;
    let out = run(&mock, &format!("{CHAT}?fail=stall:3"), 1, |a| a.timeout = Some(0.6)).await;
    let record = failure(&out, ErrorClass::Timeout);
    // Three tokens by about 8 ms, then nothing until the deadline at 600 ms.
    let max_gap = record.max_gap.expect("a max gap");
    assert!(max_gap >= Duration::from_millis(500), "{max_gap:?}");
    assert!(max_gap <= Duration::from_millis(600), "{max_gap:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_failures_are_broken_down_by_status_code() {
    let mock = mock().await;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("codes.csv"), "code\n429\n503\n429\n").unwrap();
    let config = serde_json::json!({
        "url": mock.url(&format!("{CHAT}?fail=status:{{{{code}}}}")),
        "body": {"model": "mock", "messages": [{"role": "user", "content": "hi"}], "stream": true},
        "data_source": {"type": "csv", "file": "codes.csv", "column": "code"},
        "concurrency": 1,
        "total_requests": 3
    });
    let path = dir.path().join("config.json");
    std::fs::write(&path, config.to_string()).unwrap();
    for (lang, want) in [(Lang::En, "3 (429 ×2, 503 ×1)"), (Lang::Zh, "3次 (429 ×2, 503 ×1)")]
    {
        let args = RunArgs {
            config: Some(path.clone()),
            output: Some(dir.path().join("r.json")),
            quiet: true,
            lang: Some(lang),
            ..RunArgs::default()
        };
        let out = run_args(&args).await;
        let by_status = &out.result.summary.failures_by_status;
        assert_eq!(by_status.iter().collect::<Vec<_>>(), [(&429, &2), (&503, &1)]);
        let line = out.report.lines().find(|l| l.trim_start().starts_with("http_status"));
        assert!(line.is_some_and(|l| l.ends_with(want)), "{lang:?}: {line:?}\n{}", out.report);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vllms_older_error_object_keeps_its_message() {
    // vLLM before its `{"error": …}` chunks sent the error object itself as the data.
    let vllm = r#"{"object":"error","message":"This model's maximum context length is 4096 tokens","type":"BadRequestError","param":null,"code":400}"#;
    let server = raw_server(format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\n\r\ndata: {vllm}\n\ndata: [DONE]\n\n",
        vllm.len() + 22
    ))
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_args(&args(format!("http://{server}{CHAT}"), 1, 1, dir.path())).await;
    let record = failure(&out, ErrorClass::StreamError);
    let want = "BadRequestError: This model's maximum context length is 4096 tokens";
    assert_eq!(record.error.as_deref(), Some(want));
}

/// A loopback server that answers every request on every connection with `response`.
async fn raw_server(response: String) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let response = response.clone();
            tokio::spawn(async move {
                let mut buf = vec![0; 64 << 10];
                // One request a read is enough for these small bodies.
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 || socket.write_all(response.as_bytes()).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}
