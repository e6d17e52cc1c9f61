//! Non-streaming answers end to end: every whole-answer route of the built-in mock, asked
//! for no stream, is read by its protocol's adapter as one answer: the text the mock sent, the
//! tokens its usage reports, its finish reason, and a TTFT that is the arrival of the whole
//! answer.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use streamperf::cli::{Lang, RunArgs};
use streamperf::mock::{
    self, MockOptions, MockServer, mock_reasoning_text, mock_text, whole_path_for,
    whole_request_body_for,
};
use streamperf::protocol::Protocol;
use streamperf::record::{ErrorClass, TokenSource};
use streamperf::report::{ReportInfo, read_result, render};
use streamperf::run::RunOutput;
use support::{args, run_args};

const TOKENS: u64 = 16;
const REASONING: u64 = 8;
const TTFT_MS: u64 = 30;
const ITL_MS: u64 = 2;
const NOTE: &str = "non-streaming: TTFT is the full answer";

/// One non-streaming route of the mock and what its answer holds.
struct Route {
    path: &'static str,
    body: Value,
    /// `json/<adapter>`.
    format: &'static str,
    /// The format has a reasoning field, so the mock's reasoning tokens are in the answer.
    reasoning: bool,
    /// Output tokens the answer's usage reports.
    usage_tokens: Option<u64>,
    finish_reason: Option<&'static str>,
}

/// Every whole-answer route of the mock.
fn routes() -> Vec<Route> {
    let with = |p: Protocol, extra: Value| {
        let mut body = whole_request_body_for(p);
        for (key, value) in extra.as_object().into_iter().flatten() {
            body[key] = value.clone();
        }
        body
    };
    let route = |path, p, format, reasoning: bool, usage_tokens, finish_reason| Route {
        path,
        body: with(p, json!({})),
        format,
        reasoning,
        usage_tokens,
        finish_reason,
    };
    let both = TOKENS + REASONING;
    let generate = json!({"model": "mock", "prompt": "hi", "stream": false});
    vec![
        route(
            "/v1/chat/completions",
            Protocol::OpenAiChat,
            "json/openai-chat",
            true,
            Some(both),
            Some("stop"),
        ),
        route(
            "/v1/completions",
            Protocol::OpenAiCompletions,
            "json/openai-completions",
            false,
            Some(TOKENS),
            Some("stop"),
        ),
        route(
            "/v1/responses",
            Protocol::OpenAiResponses,
            "json/openai-responses",
            true,
            Some(both),
            Some("completed"),
        ),
        route(
            "/v1/messages",
            Protocol::Anthropic,
            "json/anthropic",
            true,
            Some(both),
            Some("end_turn"),
        ),
        route(
            "/v1beta/models/mock:generateContent",
            Protocol::Gemini,
            "json/gemini",
            true,
            Some(both),
            Some("STOP"),
        ),
        route("/api/chat", Protocol::Ollama, "json/ollama", true, Some(both), Some("stop")),
        Route {
            body: generate,
            ..route(
                "/api/generate",
                Protocol::Ollama,
                "json/ollama",
                true,
                Some(both),
                Some("stop"),
            )
        },
        // TGI's `generated_tokens` counts the end-of-sequence token too.
        route("/generate", Protocol::Tgi, "json/tgi", false, Some(TOKENS + 1), Some("eos_token")),
        route("/v1/chat-messages", Protocol::Dify, "json/dify", false, Some(TOKENS), None),
        // A workflow reports only `total_tokens` (prompt and output together): no count.
        route("/v1/workflows/run", Protocol::Generic, "json/dify", false, None, None),
    ]
}

async fn start() -> MockServer {
    let options = MockOptions {
        port: 0,
        ttft_ms: TTFT_MS,
        itl_ms: ITL_MS,
        tokens: TOKENS,
        reasoning_tokens: REASONING,
        jitter_ms: 0,
        ..MockOptions::default()
    };
    MockServer::start(options).await.expect("mock starts")
}

/// `-n 3 -p 2 --save-output` against `route` plus `query`, with `format` forced or `auto`.
async fn run(mock: &MockServer, route: &Route, query: &str, format: Option<&str>) -> RunOutput {
    let dir = tempfile::tempdir().unwrap();
    let args = RunArgs {
        body: Some(route.body.to_string()),
        format: format.map(str::to_owned),
        save_output: true,
        ..args(format!("{}{query}", mock.url(route.path)), 3, 2, dir.path())
    };
    run_args(&args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_whole_route_gives_text_usage_finish_reason_and_ttft_at_arrival() {
    let mock = start().await;
    for route in routes() {
        let adapter = route.format.trim_start_matches("json/");
        for format in [None, Some(adapter)] {
            let out = run(&mock, &route, "", format).await;
            let name = format!("{} ({})", route.path, format.unwrap_or("auto"));
            let s = &out.result.summary;
            assert_eq!(
                (s.success_count, s.failed_count),
                (3, 0),
                "{name}: {:?}",
                s.failure_examples
            );
            assert_eq!(out.detected_format.as_deref(), Some(route.format), "{name}");
            assert_eq!(out.report.matches(NOTE).count(), 1, "{name}: {}", out.report);
            let reasoning = route.reasoning.then(|| mock_reasoning_text(REASONING));
            let counted = TOKENS + if route.reasoning { REASONING } else { 0 };
            // The mock sends the answer when its last token is due.
            let due = Duration::from_millis(TTFT_MS + ITL_MS * (counted - 1));
            for r in &out.result.metrics {
                assert_eq!(r.output.as_deref(), Some(mock_text(TOKENS).as_str()), "{name}");
                assert_eq!(r.reasoning, reasoning, "{name}");
                assert_eq!(r.finish_reason.as_deref(), route.finish_reason, "{name}");
                assert_eq!(r.chunks, 1, "{name}");
                match route.usage_tokens {
                    Some(n) => assert_eq!(
                        (r.output_tokens, r.token_source),
                        (Some(n), TokenSource::Usage),
                        "{name}"
                    ),
                    None => assert_eq!(
                        (r.output_tokens, r.token_source),
                        (Some(counted), TokenSource::Tokenizer),
                        "{name}"
                    ),
                }
                let (ttft, ttfb) = (r.ttft.expect("ttft"), r.ttfb.expect("ttfb"));
                assert!(ttft >= ttfb, "{name}: TTFT {ttft:?} < TTFB {ttfb:?}");
                assert!(ttft >= due, "{name}: TTFT {ttft:?} before the answer was due");
                assert_eq!(r.total_time, Some(ttft), "{name}: the answer ends where it starts");
                assert_eq!(r.ttfat, Some(ttft), "{name}");
                assert_eq!(r.tpot, None, "{name}: one arrival, no decode time");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_usage_the_tokenizer_counts_the_mock_tokens() {
    let mock = start().await;
    for route in routes() {
        let out = run(&mock, &route, "?usage=false", None).await;
        let s = &out.result.summary;
        assert_eq!(s.success_count, 3, "{}: {:?}", route.path, s.failure_examples);
        let counted = TOKENS + if route.reasoning { REASONING } else { 0 };
        for r in &out.result.metrics {
            assert_eq!(r.token_source, TokenSource::Tokenizer, "{}", route.path);
            assert_eq!(r.output_tokens, Some(counted), "{}", route.path);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_object_in_a_200_is_a_stream_error_with_its_message() {
    let mock = start().await;
    for route in routes() {
        let out = run(&mock, &route, "?fail=error:1", None).await;
        let s = &out.result.summary;
        assert_eq!(
            s.failures.get(&ErrorClass::StreamError),
            Some(&3),
            "{}: {:?}",
            route.path,
            s.failures
        );
        let example = &s.failure_examples[&ErrorClass::StreamError];
        assert!(example.contains("mock in-stream error"), "{}: {example}", route.path);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_note_is_in_chinese_saved_and_a_stream_has_none() {
    let mock = start().await;
    let dir = tempfile::tempdir().unwrap();
    let route = &routes()[0];
    let zh = RunArgs {
        body: Some(route.body.to_string()),
        lang: Some(Lang::Zh),
        ..args(mock.url(route.path), 2, 1, dir.path())
    };
    let out = run_args(&zh).await;
    assert_eq!(out.report.matches("非流式响应").count(), 1, "{}", out.report);
    // The result file keeps what the report needs: `streamperf report` says it again.
    let saved = read_result(out.result_path.as_deref().expect("a result file")).unwrap();
    let info = ReportInfo {
        detected_format: saved.config["detected_format"].as_str().map(str::to_owned),
        ..ReportInfo::default()
    };
    assert_eq!(render(&saved, Lang::En, &info).matches(NOTE).count(), 1);
    let streamed = RunArgs {
        body: Some(mock::request_body_for(Protocol::OpenAiChat).to_string()),
        ..args(mock.url(route.path), 2, 1, dir.path())
    };
    let out = run_args(&streamed).await;
    assert_eq!(out.detected_format.as_deref(), Some("sse/openai-chat"));
    assert!(!out.report.contains(NOTE), "{}", out.report);
}

#[test]
fn the_catalog_names_a_whole_route_for_every_protocol() {
    for p in Protocol::ALL {
        assert!(routes().iter().any(|r| r.path == whole_path_for(p)), "{p:?}");
    }
}
