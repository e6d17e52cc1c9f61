//! Workloads of a given length against the built-in mock: a 1,000-token synthetic prompt in
//! the body each protocol streams with, an output length in each protocol's own field. The
//! mock counts prompts with `o200k_base` as streamperf cuts them, and honours the length
//! fields and `ignore_eos`, so the lengths are checked exactly. Bounded: 4 requests a protocol.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use streamperf::cli::RunArgs;
use streamperf::mock::{MockOptions, MockServer, path_for};
use streamperf::protocol::Protocol;
use streamperf::tokens::Tokenizer;
use streamperf::workload::bodies::{Ask, Message, body_for};
use streamperf::workload::prompts::Prompts;
use support::{args, run_args};

/// The prompt's length, and the output lengths asked for.
const PROMPT_TOKENS: u64 = 1_000;
const SHORT: u64 = 50;
const LONG: u64 = 100;

/// The mock as these tests run it: quick, its model answering `tokens` tokens unless told
/// otherwise.
async fn mock(tokens: u64) -> MockServer {
    let options = MockOptions { port: 0, ttft_ms: 1, itl_ms: 0, tokens, ..MockOptions::default() };
    MockServer::start(options).await.unwrap()
}

/// A user's flags for the standard benchmark: no body, `--input-tokens`, maybe
/// `--output-tokens`, `--model mock`; `-n` requests at `-p` to `url`, results in `dir`.
fn benchmark(
    url: String,
    input: &str,
    output: Option<&str>,
    n: u64,
    p: u64,
    dir: &Path,
) -> RunArgs {
    RunArgs {
        body: None,
        input_tokens: Some(input.into()),
        output_tokens: output.map(Into::into),
        model: Some("mock".into()),
        ..args(url, n, p, dir)
    }
}

/// Flags with the body `body_for` builds for `protocol` (4 requests at 2), results in `dir`.
fn with_built_body(
    mock: &MockServer,
    protocol: Protocol,
    prompt: &str,
    tokens: u64,
    dir: &Path,
) -> RunArgs {
    let messages = [Message::user(prompt)];
    let ask = Ask {
        model: "mock",
        messages: &messages,
        max_tokens: Some(tokens),
        allow_early_stop: false,
    };
    let built = body_for(protocol, &ask).expect("a body for every named protocol");
    let mut a = args(mock.url(path_for(protocol)), 4, 2, dir);
    a.body = Some(built.body.to_string());
    a.headers = built.headers.iter().map(|(n, v)| format!("{n}: {v}")).collect();
    a
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_bodies_stream_on_every_protocol_with_the_lengths_asked_for() {
    let mock = mock(64).await;
    let prompts = Prompts::new(&Tokenizer::O200kBase, 0);
    let prompt = prompts.prompt(1, PROMPT_TOKENS);
    assert_eq!(Tokenizer::O200kBase.count(&prompt), Some(PROMPT_TOKENS));

    for protocol in Protocol::ALL.into_iter().filter(|p| *p != Protocol::Generic) {
        for tokens in [SHORT, LONG] {
            let dir = tempfile::tempdir().unwrap();
            let a = with_built_body(&mock, protocol, &prompt, tokens, dir.path());
            let out = run_args(&a).await;
            let s = &out.result.summary;
            assert_eq!((s.success_count, s.failed_count), (4, 0), "{protocol:?}: {s:?}");
            let outputs: BTreeSet<_> = out.result.metrics.iter().map(|r| r.output_tokens).collect();
            // The mock's model stops by itself after 64 tokens unless told to ignore its end
            // (OpenAI-compatible routes) or it has no length field (Dify).
            let expected = match (protocol, tokens) {
                (Protocol::Dify, _) => 64,
                (_, SHORT) => SHORT,
                (Protocol::OpenAiChat | Protocol::OpenAiCompletions, _) => LONG,
                // TGI counts the end-of-sequence token among the generated ones.
                (Protocol::Tgi, _) => 65,
                _ => 64,
            };
            assert_eq!(outputs, BTreeSet::from([Some(expected)]), "{protocol:?} asked {tokens}");
            let inputs: BTreeSet<_> = out.result.metrics.iter().map(|r| r.input_tokens).collect();
            assert_eq!(inputs.len(), 1, "{protocol:?}: the same prompt counts the same");
            if let Some(Some(n)) = inputs.first() {
                // The prompt, plus the role a chat template spends tokens on.
                assert!((PROMPT_TOKENS..PROMPT_TOKENS + 3).contains(n), "{protocol:?}: {n}");
            }
        }
    }
}

/// The standard benchmark as a user types it: no body, `--input-tokens`, `--output-tokens`,
/// `--model`; the protocol from the URL. Every request its own prompt, of the length asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_and_output_tokens_make_the_standard_benchmark_in_one_command() {
    let mock = mock(64).await;
    let gemini = path_for(Protocol::Gemini);
    for (path, input, inputs) in [
        ("/v1/chat/completions", "1000", 1_000..=1_001),
        ("/v1/messages", "1000", 1_000..=1_001),
        (gemini, "200..400", 200..=401),
    ] {
        mock.stats.reset();
        let dir = tempfile::tempdir().unwrap();
        let a = benchmark(mock.url(path), input, Some("50"), 20, 4, dir.path());
        let out = run_args(&a).await;
        let s = &out.result.summary;
        assert_eq!((s.success_count, s.failed_count), (20, 0), "{path}: {s:?}");
        for r in &out.result.metrics {
            assert_eq!(r.output_tokens, Some(50), "{path}");
            let n = r.input_tokens.expect("the mock reports prompt tokens");
            assert!(inputs.contains(&n), "{path}: {n} prompt tokens");
        }
        let bodies = mock.stats.bodies();
        assert_eq!(bodies.len(), 20, "{path}");
        let prompts: BTreeSet<String> = bodies.iter().map(|b| b.to_string()).collect();
        assert_eq!(prompts.len(), 20, "{path}: every request its own prompt");
        assert_eq!(out.result.config["synthetic"]["input_tokens"], input, "{path}");
        assert!(out.report.contains("Lengths (ISL / OSL)"), "{}", out.report);
        assert!(out.report.contains("Output:      Mean 50.0 · P50 50 · P99 50"), "{}", out.report);
        if input == "1000" {
            assert!(
                out.report.contains("Input:       Mean 1001.0 · P50 1001 · P99 1001"),
                "{}",
                out.report
            );
        }
    }
}

/// `--input-tokens` on every protocol route of the mock, as a user passes it (the model for
/// the protocols that name one), and a normal law whose draws have the asked mean and spread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_protocol_route_takes_the_flags_and_a_normal_law_keeps_its_mean_and_spread() {
    let mock = mock(8).await;
    for protocol in Protocol::ALL.into_iter().filter(|p| *p != Protocol::Generic) {
        let dir = tempfile::tempdir().unwrap();
        let a = benchmark(mock.url(path_for(protocol)), "64", Some("8"), 6, 3, dir.path());
        let s = run_args(&a).await.result.summary;
        assert_eq!((s.success_count, s.failed_count), (6, 0), "{protocol:?}: {s:?}");
    }

    mock.stats.reset();
    let dir = tempfile::tempdir().unwrap();
    let a = benchmark(mock.url("/v1/chat/completions"), "1000±100", Some("4"), 200, 8, dir.path());
    let out = run_args(&a).await;
    // The mock counts each prompt plus one token for the role.
    let lengths: Vec<f64> =
        out.result.metrics.iter().map(|r| r.input_tokens.unwrap() as f64 - 1.0).collect();
    let mean = lengths.iter().sum::<f64>() / lengths.len() as f64;
    let sd =
        (lengths.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / lengths.len() as f64).sqrt();
    // n = 200: the mean's standard error is 7 tokens, the SD's about 5.
    assert!((mean - 1000.0).abs() < 25.0, "mean {mean}");
    assert!((sd - 100.0).abs() < 20.0, "sd {sd}");
}

/// Answers shorter than `--output-tokens` are counted and said: the mock's model ends after 64
/// tokens unless told to ignore its end, which only the OpenAI-compatible routes are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_that_stop_short_of_the_length_asked_are_counted_and_said() {
    let mock = mock(64).await;
    for (path, allow_early_stop, early) in [
        ("/v1/chat/completions", false, 0),
        ("/v1/chat/completions", true, 10),
        ("/v1/messages", false, 10),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let a = RunArgs {
            allow_early_stop,
            ..benchmark(mock.url(path), "32", Some("100"), 10, 2, dir.path())
        };
        let out = run_args(&a).await;
        let s = &out.result.summary;
        assert_eq!(
            (s.asked_output_tokens, s.early_stops),
            (10, early),
            "{path} {allow_early_stop}"
        );
        let said = "Early stops: 10 of 10 (100.0 %) shorter than the output length asked";
        assert_eq!(out.report.contains(said), early > 0, "{}", out.report);
        let asked: BTreeSet<_> =
            out.result.metrics.iter().map(|r| r.requested_output_tokens).collect();
        assert_eq!(asked, BTreeSet::from([Some(100)]));
    }
}

/// A body of one's own with `{{prompt}}` and `{{max_tokens}}`: filled per request, the length
/// as a number; the result file keeps the template.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_template_gets_each_requests_prompt_and_length() {
    let mock = mock(64).await;
    let template = r#"{"model":"mock","messages":[{"role":"user","content":"{{prompt}}"}],"stream":true,"stream_options":{"include_usage":true},"max_tokens":"{{max_tokens}}"}"#;
    let dir = tempfile::tempdir().unwrap();
    let a = RunArgs {
        body: Some(template.into()),
        input_tokens: Some("500".into()),
        output_tokens: Some("20".into()),
        ..args(mock.url("/v1/chat/completions"), 10, 2, dir.path())
    };
    let out = run_args(&a).await;
    assert_eq!(out.result.summary.success_count, 10);
    for r in &out.result.metrics {
        assert_eq!((r.input_tokens, r.output_tokens), (Some(501), Some(20)));
    }
    let bodies = mock.stats.bodies();
    assert!(bodies.iter().all(|b| b["max_tokens"] == 20), "{:?}", bodies[0]);
    assert_eq!(bodies.iter().map(|b| b.to_string()).collect::<BTreeSet<_>>().len(), 10);
    assert_eq!(out.result.config["body"]["messages"][0]["content"], "{{prompt}}");
}

/// Without `--model`, an OpenAI-compatible server is asked for its models first and the first
/// is used; a server that cannot say is an error before anything is measured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_model_the_servers_first_listed_model_is_used() {
    let mock = mock(8).await;
    let dir = tempfile::tempdir().unwrap();
    let a = RunArgs {
        model: None,
        ..benchmark(mock.url("/v1/chat/completions"), "64", None, 4, 2, dir.path())
    };
    let out = run_args(&a).await;
    assert_eq!(out.result.summary.success_count, 4);
    let built = &out.result.config["built_bodies"];
    assert_eq!((&built["model"], &built["model_listed"]), (&"mock".into(), &true.into()));
    assert!(mock.stats.bodies().iter().all(|b| b["model"] == "mock"));

    // Nothing listens on a port just released: the models list cannot be read.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/v1/chat/completions");
    let a = RunArgs { model: None, ..benchmark(url, "64", None, 4, 2, dir.path()) };
    let config = streamperf::config::Config::resolve(&a).unwrap();
    let e = streamperf::run::execute(&config).await.unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("no --model, and GET http://127.0.0.1:{port}/v1/models failed")),
        "{e}"
    );
    assert!(e.ends_with("name the model with --model"), "{e}");
}

/// A server that reports no usage: each record's input tokens are the prompt's length as
/// built, exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_usage_the_input_tokens_are_the_prompts_length_as_built() {
    let mock = mock(8).await;
    let dir = tempfile::tempdir().unwrap();
    let url = mock.url("/v1/chat/completions?usage=false");
    let a = benchmark(url, "300", None, 6, 2, dir.path());
    let out = run_args(&a).await;
    assert_eq!(out.result.summary.success_count, 6);
    assert!(
        out.result.metrics.iter().all(|r| r.input_tokens == Some(300)),
        "{:?}",
        out.result.metrics[0]
    );
}
