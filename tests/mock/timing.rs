//! Timing and token counts: query overrides, tokens per chunk (one `o200k_base` token per
//! word), continuous usage, `usage=false`, and the gap between reasoning and answer.

use std::time::Duration;

use serde_json::{Value, json};
use streamperf::mock::{mock_text, path_for, request_body_for};
use streamperf::protocol::Protocol;

use super::{Event, chat, events, joined, post, start, text, with_query};

#[tokio::test]
async fn query_overrides_timing_and_count() {
    let mock = start(1, 1, 50).await;
    let path = "/v1/chat/completions?ttft_ms=40&itl_ms=2&tokens=3";
    let ev = events(&text(post(&mock, path, &chat(true, json!({}))).await).await);
    assert_eq!(ev.len(), 1 + 3 + 1 + 1);
    let first = mock.stats.snapshot().first_content_us;
    assert_eq!(first.count, 1);
    assert!(first.p50 >= 40_000, "server waited the overridden ttft: {first:?}");

    let resp = post(&mock, "/v1/chat/completions?ttft_ms=abc", &chat(true, json!({}))).await;
    assert_eq!(resp.status(), 400);
    let resp = post(&mock, "/v1/chat/completions?fail=explode", &chat(true, json!({}))).await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn tokens_per_chunk_and_one_o200k_token_per_word() {
    let mock = start(1, 1, 10).await;
    let path = "/v1/chat/completions?tokens_per_chunk=3&reasoning_tokens=4";
    let body = chat(true, json!({"stream_options": {"include_usage": true}}));
    let ev = events(&text(post(&mock, path, &body).await).await);
    let chunks: Vec<Value> = ev.iter().filter(|e| e.data != "[DONE]").map(Event::json).collect();
    let bpe = tiktoken_rs::o200k_base_singleton();
    let sizes = |field: &str| -> Vec<usize> {
        let pointer = format!("/choices/0/delta/{field}");
        chunks
            .iter()
            .filter_map(|c| c.pointer(&pointer)?.as_str())
            .filter(|t| !t.is_empty())
            .map(|t| bpe.encode_ordinary(t).len())
            .collect()
    };
    assert_eq!(sizes("reasoning_content"), [3, 1]);
    assert_eq!(sizes("content"), [3, 3, 3, 1]);
    let answer = joined(&chunks, "/choices/0/delta/content");
    assert_eq!(bpe.encode_ordinary(&answer).len(), 10, "{answer:?}");
    let usage = &chunks.last().expect("usage chunk")["usage"];
    assert_eq!(usage["completion_tokens"], 14);
    assert_eq!(usage["completion_tokens_details"]["reasoning_tokens"], 4);
}

#[tokio::test]
async fn continuous_usage_stats_on_every_chunk() {
    let mock = start(1, 1, 4).await;
    let options = json!({"stream_options": {"continuous_usage_stats": true}});
    for p in [Protocol::OpenAiChat, Protocol::OpenAiCompletions] {
        let mut body = request_body_for(p);
        body["stream_options"] = options["stream_options"].clone();
        let ev = events(&text(post(&mock, path_for(p), &body).await).await);
        let chunks: Vec<Value> =
            ev.iter().filter(|e| e.data != "[DONE]").map(Event::json).collect();
        let running: Vec<u64> = chunks
            .iter()
            .map(|c| c["usage"]["completion_tokens"].as_u64().expect("usage on every chunk"))
            .collect();
        assert!(running.windows(2).all(|w| w[0] <= w[1]), "{p:?}: {running:?}");
        assert_eq!(running.last(), Some(&4), "{p:?}");
        assert!(chunks.iter().all(|c| c["usage"]["prompt_tokens"].as_u64().is_some()));
        assert!(chunks.iter().all(|c| c["choices"] != json!([])), "no usage-only chunk");
    }
}

#[tokio::test]
async fn usage_false_drops_every_token_count() {
    let mock = start(1, 1, 3).await;
    let cases = [
        (Protocol::OpenAiChat, "\"usage\""),
        (Protocol::OpenAiCompletions, "\"usage\""),
        (Protocol::OpenAiResponses, "output_tokens"),
        (Protocol::Anthropic, "output_tokens"),
        (Protocol::Gemini, "usageMetadata"),
        (Protocol::Ollama, "eval_count"),
        (Protocol::Tgi, "generated_tokens"),
        (Protocol::Dify, "completion_tokens"),
    ];
    for (p, field) in cases {
        let body = request_body_for(p);
        let path = with_query(path_for(p), "reasoning_tokens=2");
        let with = text(post(&mock, &path, &body).await).await;
        assert!(with.contains(field), "{p:?} reports {field} by default");
        let without = text(post(&mock, &with_query(&path, "usage=false"), &body).await).await;
        assert!(!without.contains(field), "{p:?}: {without}");
        assert!(without.contains(mock_text(1).as_str()), "{p:?} still streams the answer");
    }
}

/// With 20 reasoning tokens, 2 per chunk, the first answer chunk is due 10 inter-chunk gaps
/// after the first reasoning chunk. Lower bounds only: a busy machine can only add delay.
#[tokio::test]
async fn answer_starts_after_the_reasoning_chunks() {
    const ITL_MS: u64 = 25;
    const REASONING_CHUNKS: u64 = 10;
    let mock = start(5, ITL_MS, 3).await;
    let path = "/v1/chat/completions?reasoning_tokens=20&tokens_per_chunk=2";
    let sent = tokio::time::Instant::now();
    let mut resp = post(&mock, path, &chat(true, json!({}))).await;
    let (mut body, mut first_reasoning, mut first_answer) = (String::new(), None, None);
    while let Some(chunk) = resp.chunk().await.expect("a clean body") {
        let now = tokio::time::Instant::now();
        body.push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        if first_reasoning.is_none() && body.contains("\"reasoning_content\":\"") {
            first_reasoning = Some(now);
        }
        if first_answer.is_none() && body.contains("\"delta\":{\"content\":\"") {
            first_answer = Some(now);
        }
    }
    let (r, a) = (first_reasoning.expect("reasoning"), first_answer.expect("answer"));
    let gap = Duration::from_millis(REASONING_CHUNKS * ITL_MS);
    assert!(a - sent >= gap + Duration::from_millis(5), "answer due at ttft + 10 gaps");
    assert!(a - r >= gap.mul_f64(0.9), "reasoning→answer {:?} < 0.9 × {gap:?}", a - r);
}
