//! Datasets against the built-in mock: every format's prompts reach the server in the file's
//! order, cycle, and shuffle the same way for the same seed; a bad file is one clear error
//! naming its line, before any request. The mock keeps each request body, so the tests read
//! what was sent. Bounded: at most 12 requests a run, one at a time so that order is arrival
//! order.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use streamperf::cli::RunArgs;
use streamperf::mock::{MockOptions, MockServer};
use streamperf::tokens::Tokenizer;
use support::{args, run_args};

/// The mock, quick, its model answering 16 tokens unless asked for another length.
async fn mock() -> MockServer {
    let options =
        MockOptions { port: 0, ttft_ms: 1, itl_ms: 0, tokens: 16, ..MockOptions::default() };
    MockServer::start(options).await.unwrap()
}

/// `text` as the file `name` in `dir`.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A user's flags: `--dataset FILE`, no body, `--model mock`, `-n N -p 1` to the chat route.
fn with_dataset(mock: &MockServer, file: &Path, n: u64, dir: &Path) -> RunArgs {
    RunArgs {
        body: None,
        dataset: Some(file.to_owned()),
        model: Some("mock".into()),
        ..args(mock.url("/v1/chat/completions"), n, 1, dir)
    }
}

/// The last user message of each body the mock received, in arrival order.
fn sent(mock: &MockServer) -> Vec<String> {
    let prompt = |b: &Value| {
        let messages = b["messages"].as_array().expect("a chat body");
        messages.last().unwrap()["content"].as_str().unwrap().to_owned()
    };
    mock.stats.bodies().iter().map(prompt).collect()
}

/// The same three prompts, a, b and c, in each format the issue names.
const FORMATS: [(&str, &str, &str); 6] = [
    ("prompts.jsonl", "jsonl", "{\"prompt\": \"a\"}\n{\"prompt\": \"b\"}\n{\"prompt\": \"c\"}\n"),
    (
        "messages.jsonl",
        "jsonl",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}]}\n\
         {\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"b\"}]}\n\
         {\"messages\": [{\"role\": \"user\", \"content\": \"c\"}]}\n",
    ),
    ("array.json", "json", "[{\"prompt\": \"a\"}, {\"prompt\": \"b\"}, \"c\"]"),
    (
        "sharegpt.json",
        "sharegpt",
        r#"[{"id": "1", "conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "one two three"}]},
            {"id": "2", "conversations": [{"from": "human", "value": "b"}, {"from": "gpt", "value": "four"}]},
            {"id": "3", "conversations": [{"from": "human", "value": "c"}]}]"#,
    ),
    ("lines.txt", "text", "a\nb\n\nc\n"),
    ("original.csv", "csv", "id,prompt\n1,a\n2,b\n3,c\n"),
];

/// Every format: the prompts arrive in the file's order, then again from the start; the result
/// says how the file was read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_sends_its_prompts_in_order_and_cycles() {
    for (name, format, text) in FORMATS {
        let mock = mock().await;
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), name, text);
        let out = run_args(&with_dataset(&mock, &file, 7, dir.path())).await;
        assert_eq!(out.result.summary.success_count, 7, "{name}");
        assert_eq!(sent(&mock), ["a", "b", "c", "a", "b", "c", "a"], "{name}");
        assert_eq!(out.result.config["data_source"]["type"], format, "{name}");
        let bodies = mock.stats.bodies();
        assert!(bodies.iter().all(|b| b["model"] == "mock" && b["stream"] == true), "{name}");
        if name == "messages.jsonl" {
            assert_eq!(bodies[1]["messages"][0]["content"], "Be brief.");
        }
    }
}

/// ShareGPT's replies are the default output lengths (counted with the run's tokenizer);
/// `output_tokens` in a record asks for that many; `--output-tokens` wins over both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lengths_come_from_the_records_unless_the_flag_says() {
    let (_, _, sharegpt) = FORMATS[3];
    let reply = Tokenizer::O200kBase.count("one two three").unwrap();
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "sharegpt.json", sharegpt);
    let out = run_args(&with_dataset(&mock, &file, 3, dir.path())).await;
    let asked: Vec<Value> = mock.stats.bodies().iter().map(|b| b["max_tokens"].clone()).collect();
    assert_eq!(asked, [Value::from(reply), Value::from(1), Value::Null]);
    let outputs: Vec<_> = out.result.metrics.iter().map(|r| r.output_tokens).collect();
    assert_eq!(outputs, [Some(reply), Some(1), Some(16)], "the mock answers what is asked");

    let mock = self::mock().await;
    let file = write(dir.path(), "lengths.jsonl", "{\"prompt\": \"a\", \"output_tokens\": 5}\n");
    run_args(&with_dataset(&mock, &file, 1, dir.path())).await;
    assert_eq!(mock.stats.bodies()[0]["max_tokens"], 5);
    let a =
        RunArgs { output_tokens: Some("7".into()), ..with_dataset(&mock, &file, 1, dir.path()) };
    run_args(&a).await;
    assert_eq!(mock.stats.bodies()[1]["max_tokens"], 7);
}

/// `--shuffle --seed S`: a permutation of the file, the same on every run with S, another
/// with another seed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shuffle_is_reproducible_with_its_seed() {
    let dir = tempfile::tempdir().unwrap();
    let lines: String = (0..12).map(|i| format!("p{i}\n")).collect();
    let file = write(dir.path(), "lines.txt", &lines);
    let order = |seed: Option<u64>| {
        let file = file.clone();
        let dir = dir.path().to_owned();
        async move {
            let mock = mock().await;
            let a = RunArgs {
                shuffle: seed.is_some(),
                seed,
                output: Some(dir.join(format!("result-{seed:?}.json"))),
                ..with_dataset(&mock, &file, 12, &dir)
            };
            let out = run_args(&a).await;
            assert_eq!(out.result.config["data_source"]["shuffle_seed"], serde_json::json!(seed));
            sent(&mock)
        }
    };
    let in_order = order(None).await;
    let expected: Vec<String> = (0..12).map(|i| format!("p{i}")).collect();
    assert_eq!(in_order, expected);
    let (first, again, other) = (order(Some(3)).await, order(Some(3)).await, order(Some(4)).await);
    assert_eq!(first, again);
    assert_ne!(first, in_order);
    assert_ne!(first, other);
    let mut sorted = first.clone();
    sorted.sort();
    let mut all = expected.clone();
    all.sort();
    assert_eq!(sorted, all, "every record once");
}

/// A bad record and an empty file are errors naming the file and line, and nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_dataset_is_one_clear_error_before_any_request() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "bad.jsonl",
            "{\"prompt\": \"a\"}\n{\"prompt\": \"b\", \"output_tokens\": \"x\"}\n",
            ":2: `output_tokens`",
        ),
        (
            "bad.json",
            "[{\"prompt\": \"a\"},\n {\"question\": \"b\"}]",
            ":2: a record needs `prompt`",
        ),
        ("empty.txt", "\n\n", ": the dataset has no records"),
        ("no-prompt.csv", "question\nwhy\n", ": no `prompt` column"),
    ];
    for (name, text, expected) in cases {
        let file = write(dir.path(), name, text);
        let config =
            streamperf::config::Config::resolve(&with_dataset(&mock, &file, 3, dir.path()))
                .expect("the flags are fine; the file is read when the run starts");
        let e = streamperf::run::execute(&config).await.unwrap_err().to_string();
        let at = format!("{}{expected}", file.display());
        assert!(e.starts_with(&at), "{name}: {e}");
    }
    assert_eq!(mock.stats.snapshot().requests, 0);
    assert!(!dir.path().join("result.json").exists());
}

/// Whole `body` records go as written; a config file's `data_source` names a JSONL dataset;
/// prompts go to any protocol's route in its own shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_configs_and_other_protocols() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let body = r#"{"model":"own","messages":[{"role":"user","content":"x"}],"stream":true}"#;
    let file = write(dir.path(), "bodies.jsonl", &format!("{{\"body\": {body}}}\n"));
    run_args(&with_dataset(&mock, &file, 2, dir.path())).await;
    let bodies = mock.stats.bodies();
    assert_eq!(bodies.len(), 2);
    let written: Value = serde_json::from_str(body).unwrap();
    assert!(bodies.iter().all(|b| *b == written), "{bodies:?}");

    mock.stats.reset();
    write(dir.path(), "d.jsonl", "{\"prompt\": \"a\"}\n{\"prompt\": \"b\"}\n");
    let config = write(
        dir.path(),
        "config.json",
        r#"{"url": "URL", "data_source": {"type": "jsonl", "file": "d.jsonl", "shuffle": false}}"#,
    );
    std::fs::write(
        &config,
        std::fs::read_to_string(&config).unwrap().replace("URL", &mock.url("/v1/messages")),
    )
    .unwrap();
    let a = RunArgs {
        url: None,
        body: None,
        config: Some(config),
        model: Some("claude".into()),
        ..args(String::new(), 3, 1, dir.path())
    };
    let out = run_args(&a).await;
    assert_eq!(out.result.summary.success_count, 3);
    let sent: Vec<Value> =
        mock.stats.bodies().iter().map(|b| b["messages"][0]["content"].clone()).collect();
    assert_eq!(sent, ["a", "b", "a"]);
    assert!(mock.stats.bodies().iter().all(|b| b["model"] == "claude" && b["max_tokens"].is_u64()));
}

/// A conversation (system, user, assistant, user) goes to every protocol's route in the
/// shape it takes, and streams.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_streams_on_every_protocol() {
    use streamperf::mock::path_for;
    use streamperf::protocol::Protocol;
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "chat.jsonl",
        r#"{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Bye"}], "output_tokens": 4}"#,
    );
    for protocol in Protocol::ALL.into_iter().filter(|p| *p != Protocol::Generic) {
        let a = RunArgs {
            url: Some(mock.url(path_for(protocol))),
            ..with_dataset(&mock, &file, 2, dir.path())
        };
        let out = run_args(&a).await;
        let s = &out.result.summary;
        assert_eq!((s.success_count, s.failed_count), (2, 0), "{protocol:?}");
        let expected = if protocol == Protocol::Dify { 16 } else { 4 };
        assert!(
            out.result.metrics.iter().all(|r| r.output_tokens == Some(expected)),
            "{protocol:?}"
        );
    }
}
