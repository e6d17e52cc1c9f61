//! Multi-turn sessions against the built-in mock: each later turn carries the earlier turns
//! and the mock's own replies, records say their session and turn, and a Dify conversation
//! goes on under the `conversation_id` its first answer gave. The mock keeps every body, so
//! the tests read what was sent. Bounded: a few sessions of 3 turns, one at a time.

mod support;

use std::path::Path;

use serde_json::Value;
use streamperf::cli::RunArgs;
use streamperf::mock::{MockOptions, MockServer};
use support::{args, run_args};

/// The mock, quick, its model answering 6 tokens unless asked for another length.
async fn mock() -> MockServer {
    let options =
        MockOptions { port: 0, ttft_ms: 1, itl_ms: 0, tokens: 6, ..MockOptions::default() };
    MockServer::start(options).await.unwrap()
}

/// `--turns 3 --input-tokens 40 --output-tokens 5 --model mock -n SESSIONS -p 1` to `path`.
fn three_turns(mock: &MockServer, path: &str, sessions: u64, dir: &Path) -> RunArgs {
    RunArgs {
        body: None,
        input_tokens: Some("40".into()),
        output_tokens: Some("5".into()),
        model: Some("mock".into()),
        turns: Some("3".into()),
        save_output: true,
        ..args(mock.url(path), sessions, 1, dir)
    }
}

/// The roles of a chat body's messages.
fn roles(body: &Value) -> Vec<&str> {
    body["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect()
}

/// A 3-turn conversation: turn 3 sends user, assistant, user, assistant, user, the assistant
/// messages being what the mock answered; the records say session 1..2, turn 1..3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_turn_carries_the_earlier_turns_and_the_servers_replies() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let out = run_args(&three_turns(&mock, "/v1/chat/completions", 2, dir.path())).await;
    let s = &out.result.summary;
    assert_eq!((s.total_requests, s.success_count), (6, 6), "2 sessions of 3 turns");
    let records = &out.result.metrics;
    let turns: Vec<_> = records.iter().map(|r| (r.session, r.turn)).collect();
    assert_eq!(
        turns,
        [
            (Some(1), Some(1)),
            (Some(1), Some(2)),
            (Some(1), Some(3)),
            (Some(2), Some(1)),
            (Some(2), Some(2)),
            (Some(2), Some(3))
        ]
    );
    let bodies = mock.stats.bodies();
    assert_eq!(bodies.len(), 6);
    assert_eq!(roles(&bodies[0]), ["user"]);
    assert_eq!(roles(&bodies[2]), ["user", "assistant", "user", "assistant", "user"]);
    let third = bodies[2]["messages"].as_array().unwrap();
    assert_eq!(third[1]["content"].as_str(), records[0].output.as_deref(), "the mock's own reply");
    assert_eq!(third[3]["content"].as_str(), records[1].output.as_deref());
    assert_eq!(third[0], bodies[0]["messages"][0], "the first turn again, as sent");
    assert_eq!(third[2], bodies[1]["messages"][2]);
    assert_ne!(bodies[3]["messages"][0], bodies[0]["messages"][0], "sessions differ");
    assert_eq!(out.result.config["sessions"]["turns"], 3);
}

/// A Dify chat app keeps the conversation itself: the later queries carry the
/// `conversation_id` the first answer gave, and nothing else of the history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dify_conversation_goes_on_under_its_conversation_id() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let out = run_args(&three_turns(&mock, "/v1/chat-messages", 1, dir.path())).await;
    assert_eq!(out.result.summary.success_count, 3);
    let bodies = mock.stats.bodies();
    let ids: Vec<&str> = bodies.iter().map(|b| b["conversation_id"].as_str().unwrap()).collect();
    assert_eq!(ids[0], "", "a new conversation");
    assert!(!ids[1].is_empty() && ids[1] == ids[2], "{ids:?}");
    assert!(bodies.iter().all(|b| b["query"].is_string() && b.get("messages").is_none()));
}

/// A server with a prefix cache: later turns find the conversation so far cached, so their
/// TTFT is lower, and the report's hit rate is the mock's own count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn later_turns_hit_the_prefix_cache_and_the_report_says_how_much() {
    let options = MockOptions {
        port: 0,
        ttft_ms: 100,
        itl_ms: 0,
        tokens: 6,
        prefix_cache: true,
        ..MockOptions::default()
    };
    let mock = MockServer::start(options).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let a = RunArgs {
        input_tokens: Some("200".into()),
        turn_input_tokens: Some("20".into()),
        ..three_turns(&mock, "/v1/chat/completions", 2, dir.path())
    };
    let out = run_args(&a).await;
    let s = &out.result.summary;
    assert_eq!(s.success_count, 6);
    let (first, later) =
        (s.ttft_first_turn.as_ref().unwrap(), s.ttft_later_turns.as_ref().unwrap());
    assert!(first.p50 > 0.09, "a first turn waits the whole 100 ms: {first:?}");
    let lengths: Vec<_> =
        out.result.metrics.iter().map(|r| (r.cached_tokens, r.input_tokens)).collect();
    assert!(later.p50 < first.p50 / 3.0, "mostly cached: {later:?} vs {first:?} {lengths:?}");
    let stats = mock.stats.snapshot();
    assert_eq!(s.total_cached_tokens, stats.cached_tokens);
    assert_eq!(s.cache_reported_input_tokens, stats.prompt_tokens);
    let rate = s.cache_hit_rate.unwrap();
    assert!((rate - stats.cached_tokens as f64 / stats.prompt_tokens as f64).abs() < 1e-12);
    assert!(out.report.contains("Prefix cache hits"), "{}", out.report);
    let cached: Vec<_> = out.result.metrics.iter().map(|r| r.cached_tokens.unwrap()).collect();
    assert_eq!((cached[0], cached[3]), (0, 0), "nothing cached on a first turn");
    assert!(cached[1] > 0 && cached[2] > cached[1], "{cached:?}");
}

/// A ShareGPT conversation with `--turns all` sends every human turn in order, each after the
/// mock's reply to the one before; `--think-time` waits between turns, outside every latency.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sharegpt_conversation_sends_every_human_turn_with_think_time() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chat.json");
    std::fs::write(
        &file,
        r#"[{"conversations": [{"from": "human", "value": "one"}, {"from": "gpt", "value": "dataset reply"},
            {"from": "human", "value": "two"}, {"from": "gpt", "value": "x"}, {"from": "human", "value": "three"}]}]"#,
    )
    .unwrap();
    let a = RunArgs {
        body: None,
        dataset: Some(file),
        model: Some("mock".into()),
        turns: Some("all".into()),
        think_time: Some("100ms".into()),
        ..args(mock.url("/v1/chat/completions"), 1, 1, dir.path())
    };
    let out = run_args(&a).await;
    assert_eq!(out.result.summary.success_count, 3);
    let bodies = mock.stats.bodies();
    let users = |b: &Value| -> Vec<String> {
        let messages = b["messages"].as_array().unwrap();
        let users = messages.iter().filter(|m| m["role"] == "user");
        users.map(|m| m["content"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(users(&bodies[2]), ["one", "two", "three"]);
    let replies =
        bodies[2]["messages"].as_array().unwrap().iter().filter(|m| m["role"] == "assistant");
    assert!(replies.clone().all(|m| m["content"] != "dataset reply"), "the server's replies");
    assert!(out.result.summary.duration >= 0.2, "two pauses of 100 ms");
    assert!(out.result.metrics.iter().all(|r| r.total_time.unwrap().as_secs_f64() < 0.1));
}

/// Misuses are named before anything is sent.
#[test]
fn turns_need_prompts_and_a_number() {
    let resolve =
        |a: RunArgs| streamperf::config::Config::resolve(&a).map(|_| ()).unwrap_err().to_string();
    let base = RunArgs {
        url: Some("http://127.0.0.1:9/v1/chat/completions".into()),
        ..RunArgs::default()
    };
    let e = resolve(RunArgs { turns: Some("3".into()), ..base.clone() });
    assert!(e.contains("`--turns` needs the turns' prompts"), "{e}");
    let e = resolve(RunArgs {
        turns: Some("all".into()),
        input_tokens: Some("5".into()),
        model: Some("m".into()),
        ..base.clone()
    });
    assert!(e.contains("with --input-tokens give a number"), "{e}");
    let e = resolve(RunArgs { think_time: Some("1s".into()), ..base.clone() });
    assert!(e.starts_with("`--think-time` shapes multi-turn sessions"), "{e}");
    let e = resolve(RunArgs { turns: Some("zero".into()), input_tokens: Some("5".into()), ..base });
    assert!(e.starts_with("`--turns zero`"), "{e}");
}

/// Open loop: `--rate` starts new sessions on schedule, whatever the earlier ones are doing;
/// `-n` counts sessions, and the progress counts their requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_loop_starts_sessions_at_the_rate() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let a = RunArgs {
        rate: vec![20.0],
        arrival: Some("constant".into()),
        ..three_turns(&mock, "/v1/chat/completions", 4, dir.path())
    };
    let out = run_args(&a).await;
    assert_eq!(out.result.summary.success_count, 12, "4 sessions of 3 turns");
    let firsts = out.result.metrics.iter().filter(|r| r.turn == Some(1)).count();
    assert_eq!(firsts, 4);
    let sessions: std::collections::BTreeSet<_> =
        out.result.metrics.iter().map(|r| r.session.unwrap()).collect();
    assert_eq!(sessions.into_iter().collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(out.result.config["load"]["rate"], 20.0);
}
