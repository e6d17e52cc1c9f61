//! The fault matrix: one table of the ways real servers and networks misbehave, each run end to
//! end (`-n 2 -p 1`, so the second request also shows what the fault left of the connection)
//! against the built-in mock's faults, a listener that accepts and never answers, a refused
//! port and a `.invalid` host. Every row asserts the failure class (or success), that the
//! message names the cause, one record per request, a result file that reads back, and (by
//! finishing) no panic. docs/RELIABILITY.md is this table in words.

mod support;

use std::path::Path;

use streamperf::cli::RunArgs;
use streamperf::mock::{MockOptions, MockServer};
use streamperf::record::ErrorClass;
use support::{args, run_args};

const TOKENS: u64 = 12;
const CHAT: &str = "/v1/chat/completions";

/// What a row expects of both requests.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Both succeed with the plain stream's text and tokens.
    Same,
    /// Both succeed with the plain stream's tokens, the bytes that were no UTF-8 replaced.
    Lossy,
    /// Both fail as `class`, the message containing `cause`.
    Fails(ErrorClass, &'static str),
}

/// A row: its name, where the requests go (a mock path with its query, or a whole URL), the
/// `--timeout`, and what is expected.
struct Row {
    name: &'static str,
    target: Target,
    timeout: Option<f64>,
    expect: Expect,
}

enum Target {
    Mock(&'static str),
    Url(String),
}

fn row(name: &'static str, path: &'static str, expect: Expect) -> Row {
    Row { name, target: Target::Mock(path), timeout: None, expect }
}

fn timed(name: &'static str, path: &'static str, timeout: f64, expect: Expect) -> Row {
    Row { name, target: Target::Mock(path), timeout: Some(timeout), expect }
}

async fn mock() -> MockServer {
    let options =
        MockOptions { port: 0, ttft_ms: 5, itl_ms: 1, tokens: TOKENS, ..MockOptions::default() };
    MockServer::start(options).await.expect("mock starts")
}

/// A port nothing listens on: bound, then closed.
fn refused_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A listener that accepts every connection and never answers (held until the test ends).
async fn silent_listener() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (port, task)
}

/// Runs `row` and checks it; the plain stream's output is `plain` (text, tokens).
async fn check(mock: &MockServer, row: &Row, plain: &(String, u64), dir: &Path) {
    let url = match &row.target {
        Target::Mock(path) => mock.url(path),
        Target::Url(url) => url.clone(),
    };
    let output = dir.join(format!("{}.json", row.name.replace(' ', "-")));
    let args = RunArgs {
        timeout: row.timeout,
        save_output: true,
        output: Some(output.clone()),
        ..args(url, 2, 1, dir)
    };
    let out = run_args(&args).await;
    let name = row.name;
    let records = &out.result.metrics;
    assert_eq!(records.len(), 2, "{name}: one record per request");
    let back = streamperf::report::read_result(&output).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(back.summary.total_requests, 2, "{name}: the result file reads back");
    for record in records {
        match row.expect {
            Expect::Same => {
                assert!(record.is_success(), "{name}: {:?}", record.error);
                let text = record.output.clone().unwrap_or_default();
                assert_eq!((text, record.output_tokens.unwrap_or(0)), *plain, "{name}");
            }
            Expect::Lossy => {
                assert!(record.is_success(), "{name}: {:?}", record.error);
                let text = record.output.clone().unwrap_or_default();
                assert!(text.contains('\u{fffd}'), "{name}: {text:?}");
                assert_eq!(record.output_tokens, Some(plain.1), "{name}");
            }
            Expect::Fails(class, cause) => {
                let message = record.error.as_deref().unwrap_or_default();
                assert_eq!(record.error_class, Some(class), "{name}: {message}");
                assert!(message.contains(cause), "{name}: {message:?} does not name {cause:?}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_is_classified_named_and_recorded() {
    use ErrorClass::*;
    use Expect::*;
    let dir = tempfile::tempdir().unwrap();
    let mock = mock().await;
    let plain = {
        let args = RunArgs { save_output: true, ..args(mock.url(CHAT), 1, 1, dir.path()) };
        let record = run_args(&args).await.result.metrics[0].clone();
        assert!(record.is_success(), "{:?}", record.error);
        (record.output.unwrap(), record.output_tokens.unwrap())
    };
    let (silent, _held) = silent_listener().await;
    let rows = [
        row(
            "429 with Retry-After seconds",
            "/v1/chat/completions?fail=status:429",
            Fails(HttpStatus, "429 Too Many Requests (Retry-After: 1)"),
        ),
        row(
            "429 with Retry-After as an HTTP-date",
            "/v1/chat/completions?fail=throttle-date",
            Fails(HttpStatus, " GMT): "),
        ),
        row(
            "5xx with a proxy's HTML page",
            "/v1/chat/completions?fail=html:502",
            Fails(HttpStatus, "HTTP 502 Bad Gateway: 502 Bad Gateway 502 Bad Gateway nginx"),
        ),
        row("401", "/v1/chat/completions?fail=status:401", Fails(HttpStatus, "401")),
        row(
            "a gzip error response",
            "/v1/chat/completions?fail=status:503&ce=gzip",
            Fails(HttpStatus, "HTTP 503 Service Unavailable (Retry-After: 1): {\"error\""),
        ),
        timed(
            "slow headers past --timeout",
            "/v1/chat/completions?fail=slow-headers:3000",
            1.0,
            Fails(Timeout, "waiting for the response"),
        ),
        row(
            "close after an error response",
            "/v1/chat/completions?fail=status-close:502",
            Fails(HttpStatus, "HTTP 502 Bad Gateway"),
        ),
        row("invalid UTF-8 in an event", "/v1/chat/completions?fail=bad-utf8", Lossy),
        row(
            "binary garbage under text/event-stream",
            "/v1/chat/completions?fail=garbage:4096",
            Fails(Malformed, "; it starts \""),
        ),
        timed(
            "an endless stream",
            "/v1/chat/completions?fail=endless",
            1.0,
            Fails(Timeout, "timed out after 1.000s while streaming"),
        ),
        row(
            "redirect loop",
            "/v1/chat/completions?fail=redirect-loop",
            Fails(HttpStatus, "redirect loop"),
        ),
        timed(
            "stall mid-stream",
            "/v1/chat/completions?fail=stall:3",
            1.0,
            Fails(Timeout, "timed out after 1.000s while streaming"),
        ),
        row(
            "reset mid-stream",
            "/v1/chat/completions?fail=close:3",
            Fails(Incomplete, "stream broke off"),
        ),
        row("gzip stream", "/v1/chat/completions?ce=gzip", Same),
        row("br stream", "/v1/chat/completions?ce=br", Same),
        row("zstd stream", "/v1/chat/completions?ce=zstd", Same),
        row("deflate stream", "/v1/chat/completions?ce=deflate", Same),
        row(
            "plain bytes claimed gzip",
            "/v1/chat/completions?ce=garbage",
            Fails(Malformed, "gzip body could not be decoded"),
        ),
        row(
            "20 MB event",
            "/v1/chat/completions?fail=big-event:20000000",
            Fails(Malformed, "larger than --max-event-bytes"),
        ),
        timed(
            "endless line",
            "/v1/chat/completions?fail=endless-line",
            2.0,
            Fails(Malformed, "larger than --max-event-bytes"),
        ),
        Row {
            name: "accept and never answer",
            target: Target::Url(format!("http://127.0.0.1:{silent}{CHAT}")),
            timeout: Some(0.5),
            expect: Fails(Timeout, "waiting for the response"),
        },
        Row {
            name: "refused port",
            target: Target::Url(format!("http://127.0.0.1:{}{CHAT}", refused_port())),
            timeout: None,
            expect: Fails(Connect, "refused"),
        },
        Row {
            name: "invalid host",
            target: Target::Url(format!("http://streamperf-test.invalid{CHAT}")),
            timeout: None,
            expect: Fails(Connect, "streamperf-test.invalid"),
        },
    ];
    for row in &rows {
        check(&mock, row, &plain, dir.path()).await;
    }
}

/// `--compressed` asks for a compressed answer; a compressed answer's records say its coding
/// and count the bytes as sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_asks_and_records_say_the_coding() {
    let dir = tempfile::tempdir().unwrap();
    let mock = mock().await;
    let asked = RunArgs { compressed: true, ..args(mock.url(CHAT), 1, 1, dir.path()) };
    let out = run_args(&asked).await;
    let headers = out.result.config["headers"].to_string();
    assert!(headers.contains("gzip, deflate, br, zstd"), "{headers}");
    let plain = run_args(&args(mock.url(CHAT), 1, 1, dir.path())).await.result.metrics[0].clone();
    let gzip = args(mock.url(&format!("{CHAT}?ce=gzip")), 1, 1, dir.path());
    let gzip = run_args(&gzip).await.result.metrics[0].clone();
    assert_eq!(gzip.content_encoding.as_deref(), Some("gzip"));
    assert_eq!(plain.content_encoding, None);
    assert_eq!((gzip.chunks, gzip.output_tokens), (plain.chunks, plain.output_tokens));
    assert_ne!(gzip.bytes, plain.bytes, "bytes as they came on the wire");
}

/// No silent success: a 200 that is no stream of its framing is `malformed`, quoting its first
/// bytes; a complete stream with no token is a success, counted and warned as empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_that_is_no_stream_is_malformed_and_an_empty_one_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mock = mock().await;
    // Plain text labelled as SSE: no event in it.
    let text = args(mock.url("/v1/stream?ct=text/event-stream"), 1, 1, dir.path());
    let record = run_args(&text).await.result.metrics[0].clone();
    let message = record.error.unwrap_or_default();
    assert_eq!(record.error_class, Some(ErrorClass::Malformed), "{message}");
    assert!(message.starts_with("no sse event in the body ("), "{message}");
    assert!(message.contains("; it starts \""), "{message}");

    let empty = args(mock.url(&format!("{CHAT}?tokens=0")), 2, 1, dir.path());
    let out = run_args(&empty).await;
    assert_eq!((out.result.summary.success_count, out.result.summary.empty_count), (2, 2));
    let report = streamperf::report::render(
        &out.result,
        streamperf::cli::Lang::En,
        &streamperf::report::ReportInfo::default(),
    );
    assert!(report.contains("2 succeeded with no output token"), "{report}");
}
