//! Every stream protocol end to end against the built-in mock: the mock is told when to send
//! what (TTFT, reasoning tokens, answer tokens, gap between chunks, tokens per chunk), and the
//! run must measure exactly that, with `auto` detection and with the format forced.

mod support;

use std::time::Duration;

use streamperf::cli::RunArgs;
use streamperf::mock::{self, MockOptions, MockServer};
use streamperf::protocol::Protocol;
use streamperf::record::TokenSource;
use streamperf::run::RunOutput;
use support::{args, run_args};

const MS: f64 = 0.001;

async fn start(options: MockOptions) -> MockServer {
    MockServer::start(MockOptions { port: 0, ..options }).await.expect("mock starts")
}

/// `-n requests -p concurrency` against `path` on `mock` with `protocol`'s request body.
async fn run(
    mock: &MockServer,
    protocol: Protocol,
    query: &str,
    format: Option<&str>,
) -> RunOutput {
    let dir = tempfile::tempdir().unwrap();
    let path = mock::path_for(protocol);
    let sep = if path.contains('?') { '&' } else { '?' };
    let query = if query.is_empty() { String::new() } else { format!("{sep}{query}") };
    let args = RunArgs {
        body: Some(mock::request_body_for(protocol).to_string()),
        format: format.map(str::to_owned),
        ..args(format!("{}{query}", mock.url(path)), 4, 2, dir.path())
    };
    run_args(&args).await
}

/// Protocols whose mock route streams reasoning before the answer.
fn streams_reasoning(protocol: Protocol) -> bool {
    matches!(
        protocol,
        Protocol::OpenAiChat
            | Protocol::OpenAiResponses
            | Protocol::Anthropic
            | Protocol::Gemini
            | Protocol::Ollama
    )
}

/// 50 reasoning tokens then 30 answer tokens, 5 ms apart, the first 60 ms after the request:
/// TTFT ≈ 60 ms, TTFAT − TTFT ≈ 250 ms, ITL ≈ 5 ms, 80 output tokens (30 without reasoning).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_protocol_measures_what_the_mock_sent() {
    let mock = start(MockOptions {
        ttft_ms: 60,
        itl_ms: 5,
        tokens: 30,
        reasoning_tokens: 50,
        ..MockOptions::default()
    })
    .await;
    for protocol in Protocol::ALL.into_iter().filter(|p| *p != Protocol::Generic) {
        for format in [None, Some(protocol.name())] {
            let out = run(&mock, protocol, "", format).await;
            let name = format!("{} ({})", protocol.name(), format.unwrap_or("auto"));
            let s = &out.result.summary;
            assert_eq!(s.success_count, 4, "{name}: {:?}", s.failure_examples);
            let detected = out.detected_format.as_deref().unwrap_or_default();
            assert!(detected.ends_with(&format!("/{}", protocol.name())), "{name}: {detected}");

            let ttft = s.ttft.as_ref().unwrap().p50;
            assert!((60.0 * MS..90.0 * MS).contains(&ttft), "{name}: TTFT p50 {ttft}");
            let ttfat = s.ttfat.as_ref().unwrap().p50;
            let reasoning = streams_reasoning(protocol);
            let thinking = ttfat - ttft;
            match reasoning {
                true => assert!(
                    (245.0 * MS..300.0 * MS).contains(&thinking),
                    "{name}: TTFAT − TTFT = {thinking}"
                ),
                false => assert!(thinking.abs() < 1e-9, "{name}: no reasoning, TTFAT = TTFT"),
            }
            let itl = s.itl.as_ref().unwrap().p50;
            assert!((4.0 * MS..8.0 * MS).contains(&itl), "{name}: ITL p50 {itl}");
            let tokens = if reasoning { 80 } else { 30 };
            for record in &out.result.metrics {
                // TGI's `generated_tokens` counts the end-of-sequence token too.
                let extra = u64::from(protocol == Protocol::Tgi);
                assert_eq!(record.output_tokens, Some(tokens + extra), "{name}");
                assert_eq!(record.token_source, TokenSource::Usage, "{name}");
            }
        }
    }
}

/// A chunk of 4 tokens every 20 ms: per-chunk ITL is the gap, per-token ITL a quarter of it,
/// whether the tokens per chunk come from running usage totals (vLLM's
/// `continuous_usage_stats`), from the tokenizer (no usage at all), or from the tokenizer
/// when the final usage does not match the chunk count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_tokens_per_chunk_give_per_token_itl() {
    let mock = start(MockOptions {
        ttft_ms: 10,
        itl_ms: 20,
        tokens: 40,
        tokens_per_chunk: 4,
        ..MockOptions::default()
    })
    .await;
    let continuous = r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true,"continuous_usage_stats":true}}"#;
    for (body, query, source) in [
        (continuous, "", TokenSource::Usage),
        (support::CHAT_BODY, "", TokenSource::Usage),
        (support::CHAT_BODY, "?usage=false", TokenSource::Tokenizer),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("{}{query}", mock.url("/v1/chat/completions"));
        let args = RunArgs { body: Some(body.into()), ..args(url, 2, 2, dir.path()) };
        let out = run_args(&args).await;
        let s = &out.result.summary;
        let case = format!("{source:?} {query} {}", body.len());
        assert_eq!(s.success_count, 2, "{case}: {:?}", s.failure_examples);
        for record in &out.result.metrics {
            assert_eq!(record.output_tokens, Some(40), "{case}");
            assert_eq!(record.token_source, source, "{case}");
        }
        let chunk = s.itl.as_ref().unwrap().p50;
        let token = s.itl_token.as_ref().expect("per-token ITL").p50;
        assert!((19.0 * MS..26.0 * MS).contains(&chunk), "{case}: chunk ITL {chunk}");
        let ratio = chunk / token;
        assert!((3.9..4.1).contains(&ratio), "{case}: chunk/token ITL = {ratio}");
        // 9 gaps of 4 tokens each per request.
        assert_eq!(s.itl_token.as_ref().unwrap().count, 2 * 9 * 4, "{case}");
    }
}

/// A pause in the middle of a stream is each request's longest gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_mid_stream_is_the_max_gap() {
    let mock =
        start(MockOptions { ttft_ms: 5, itl_ms: 2, tokens: 20, ..MockOptions::default() }).await;
    let dir = tempfile::tempdir().unwrap();
    let url = mock.url("/v1/chat/completions?fail=pause:10:300");
    let out = run_args(&args(url, 2, 2, dir.path())).await;
    let s = &out.result.summary;
    assert_eq!(s.success_count, 2, "{:?}", s.failure_examples);
    for record in &out.result.metrics {
        let gap = record.max_gap.expect("gaps measured");
        assert!(gap >= Duration::from_millis(295), "max gap {gap:?}");
    }
    assert!(s.max_gap.as_ref().unwrap().p50 >= 0.295);
    assert!(s.itl.as_ref().unwrap().p50 < 0.02, "one stall does not move the median");
}

/// `auto` names the framing and adapter it picked for every route the mock serves, including
/// the ones `path_for` does not use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_names_the_format_of_every_mock_route() {
    let mock =
        start(MockOptions { ttft_ms: 1, itl_ms: 1, tokens: 3, ..MockOptions::default() }).await;
    let routes = [
        ("/v1/chat/completions", Protocol::OpenAiChat, "sse/openai-chat"),
        ("/v1/completions", Protocol::OpenAiCompletions, "sse/openai-completions"),
        ("/v1/responses", Protocol::OpenAiResponses, "sse/openai-responses"),
        ("/v1/messages", Protocol::Anthropic, "sse/anthropic"),
        ("/v1beta/models/m:streamGenerateContent?alt=sse", Protocol::Gemini, "sse/gemini"),
        ("/v1/chat-messages", Protocol::Dify, "sse/dify"),
        ("/v1/workflows/run", Protocol::Dify, "sse/dify"),
        ("/v1/workflows/run?framing=event-lines", Protocol::Dify, "sse/dify"),
        ("/api/chat", Protocol::Ollama, "ndjson/ollama"),
        ("/api/generate", Protocol::Ollama, "ndjson/ollama"),
        ("/generate_stream", Protocol::Tgi, "sse/tgi"),
        ("/v1/stream", Protocol::Generic, "raw/raw"),
    ];
    for (path, protocol, want) in routes {
        let dir = tempfile::tempdir().unwrap();
        let args = RunArgs {
            body: Some(mock::request_body_for(protocol).to_string()),
            ..args(mock.url(path), 2, 1, dir.path())
        };
        let out = run_args(&args).await;
        let s = &out.result.summary;
        assert_eq!(s.success_count, 2, "{path}: {:?}", s.failure_examples);
        assert_eq!(out.detected_format.as_deref(), Some(want), "{path}");
        assert!(out.report.contains(&format!("Format:      {want}")), "{path}: {}", out.report);
    }
}

/// Each protocol's in-stream error is a `stream_error` carrying the provider's message, and a
/// stream cut before its end marker is `incomplete`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_errors_and_cut_streams_are_classified() {
    let mock =
        start(MockOptions { ttft_ms: 1, itl_ms: 1, tokens: 8, ..MockOptions::default() }).await;
    for protocol in Protocol::ALL.into_iter().filter(|p| *p != Protocol::Generic) {
        for (fault, class) in [("error:3", "stream_error"), ("close:3", "incomplete")] {
            let out = run(&mock, protocol, &format!("fail={fault}"), None).await;
            let s = &out.result.summary;
            let name = format!("{} fail={fault}", protocol.name());
            assert_eq!(s.failed_count, 4, "{name}: {s:?}");
            let classes: Vec<&str> = s.failures.keys().map(|c| c.as_str()).collect();
            assert_eq!(classes, [class], "{name}: {:?}", s.failure_examples);
            let example = s.failure_examples.values().next().unwrap();
            let why = if class == "stream_error" { "mock in-stream error" } else { "broke off" };
            assert!(example.contains(why), "{name}: {example}");
        }
    }
}
