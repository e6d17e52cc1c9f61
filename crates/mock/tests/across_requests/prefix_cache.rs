//! `--prefix-cache`: prompt tokens in 16-token blocks seen at the start of an earlier prompt
//! are cached, the time to first token keeps the uncached share, and the usage says how many
//! were cached in each API's own field.

use serde_json::{Value, json};
use streamperf_mock::{
    MockServer, mock_reasoning_text, mock_text, request_body_for, whole_path_for,
    whole_request_body_for,
};

use super::{events, json, post, start};

/// A streaming chat request of one user message, `content`, asking for the usage.
fn chat(content: &str) -> Value {
    json!({
        "model": "mock", "messages": [{"role": "user", "content": content}], "stream": true,
        "stream_options": {"include_usage": true},
    })
}

/// The usage of a streamed chat answer (its usage-only chunk).
async fn chat_usage(mock: &MockServer, path: &str, body: &Value) -> Value {
    let (status, sse) = post(mock, path, body).await;
    assert_eq!(status, 200, "{sse}");
    let usage = events(&sse).into_iter().find_map(|e| e.get("usage").cloned());
    usage.expect("a usage chunk")
}

/// The `o200k_base` token ids of `text`, the tokenizer the mock counts prompts with.
fn tokens(text: &str) -> Vec<u32> {
    tiktoken_rs::o200k_base_singleton().encode_ordinary(text)
}

#[tokio::test]
async fn a_repeated_prompt_is_served_from_the_cache_and_starts_sooner() {
    let mock = start(true).await;
    let body = chat(&mock_text(1000));
    // The query's ttft_ms still sets the time to first token; the cache shrinks it.
    let path = "/v1/chat/completions?ttft_ms=600";
    let cold = chat_usage(&mock, path, &body).await;
    let first = mock.stats.snapshot();
    mock.stats.reset();
    let warm = chat_usage(&mock, path, &body).await;
    let second = mock.stats.snapshot();

    let prompt = cold["prompt_tokens"].as_u64().unwrap();
    assert_eq!(prompt, 1 + 1000, "the role, then 1,000 one-token words");
    assert_eq!(cold["prompt_tokens_details"]["cached_tokens"], 0, "a cold cache");
    assert_eq!(warm["prompt_tokens"], prompt);
    let cached = 16 * (prompt / 16);
    assert_eq!(warm["prompt_tokens_details"]["cached_tokens"], cached, "every full block");

    // 600 ms for the whole prompt, 600 × 9 / 1,001 ≈ 5 ms for the 9 uncached tokens.
    let (cold_us, warm_us) = (first.first_content_us.max, second.first_content_us.max);
    assert!(cold_us >= 600_000, "{cold_us} µs");
    assert!(warm_us < 300_000, "{warm_us} µs");
    assert_eq!((first.prompt_tokens, first.cached_tokens), (prompt, 0));
    assert_eq!((second.prompt_tokens, second.cached_tokens), (prompt, cached), "the hit rate");
}

#[tokio::test]
async fn prompts_sharing_512_tokens_share_512_cached_tokens() {
    let mock = start(true).await;
    // The mock's prompt is the role's token, then the content's: 1 + 511 shared tokens, then
    // one that differs, then 100 alike again, which no longer count (a block is cached only
    // with everything before it).
    let shared = mock_text(511);
    let a = format!("{shared}{}{}", mock_reasoning_text(1), mock_text(100));
    let b = format!("{shared}{}{}", mock_text(1), mock_text(100));
    let ids = |content: &str| [tokens("user"), tokens(content)].concat();
    let (ids_a, ids_b) = (ids(&a), ids(&b));
    assert_eq!(ids_a[..512], ids_b[..512]);
    assert_ne!(ids_a[512], ids_b[512], "they differ right after 512 tokens");
    assert_eq!(ids_a.len(), 613);

    let first = chat_usage(&mock, "/v1/chat/completions", &chat(&a)).await;
    let second = chat_usage(&mock, "/v1/chat/completions", &chat(&b)).await;
    assert_eq!(first["prompt_tokens_details"]["cached_tokens"], 0);
    assert_eq!(second["prompt_tokens"], 613);
    assert_eq!(second["prompt_tokens_details"]["cached_tokens"], 512);
}

#[tokio::test]
async fn without_the_flag_no_cached_field_at_all() {
    let mock = start(false).await;
    let body = chat(&mock_text(100));
    for _ in 0..2 {
        let usage = chat_usage(&mock, "/v1/chat/completions", &body).await;
        assert!(usage.get("prompt_tokens_details").is_none(), "{usage}");
    }
    let mut whole = body.clone();
    whole["stream"] = json!(false);
    let (_, answer) = post(&mock, "/v1/chat/completions", &whole).await;
    assert!(!answer.contains("cached"), "{answer}");
    let gemini = json!({"contents": [{"role": "user", "parts": [{"text": mock_text(100)}]}]});
    let (_, sse) = post(&mock, "/v1beta/models/m:streamGenerateContent?alt=sse", &gemini).await;
    assert!(!sse.contains("cached"), "{sse}");
    let s = mock.stats.snapshot();
    assert_eq!((s.prompt_tokens, s.cached_tokens), (4 * 101, 0), "prompts still count");
}

/// The usage of a streamed Anthropic answer's `message_start`.
async fn message_usage(mock: &MockServer, body: &Value) -> Value {
    let (_, sse) = post(mock, "/v1/messages", body).await;
    events(&sse)[0]["message"]["usage"].clone()
}

#[tokio::test]
async fn anthropic_input_tokens_are_the_uncached_part() {
    let mock = start(true).await;
    let body = json!({
        "model": "mock", "max_tokens": 100, "stream": true, "system": mock_text(40),
        "messages": [{"role": "user", "content": mock_text(60)}],
    });
    let (cold, warm) = (message_usage(&mock, &body).await, message_usage(&mock, &body).await);
    let prompt = cold["input_tokens"].as_u64().unwrap();
    assert_eq!(prompt, 40 + 1 + 60, "the system prompt, the role and the message");
    assert_eq!(cold["cache_read_input_tokens"], 0);
    let (input, read) = (warm["input_tokens"].as_u64(), warm["cache_read_input_tokens"].as_u64());
    assert_eq!(read, Some(96));
    assert_eq!(input.unwrap() + read.unwrap(), prompt, "together the whole prompt");
}

/// A whole request for `protocol` (one of the catalog's) whose prompt is `prompt`.
fn whole_body(protocol: &str, prompt: &str) -> Value {
    fn replace(v: &mut Value, from: &Value, to: &str) {
        match v {
            s @ Value::String(_) if s == from => *s = json!(to),
            Value::Array(a) => a.iter_mut().for_each(|v| replace(v, from, to)),
            Value::Object(o) => o.values_mut().for_each(|v| replace(v, from, to)),
            _ => {}
        }
    }
    let demo = request_body_for("openai-completions").unwrap()["prompt"].clone();
    let mut body = whole_request_body_for(protocol).unwrap();
    replace(&mut body, &demo, prompt);
    body
}

#[tokio::test]
async fn each_api_reports_the_cached_tokens_in_its_own_field() {
    let fields = [
        ("openai-chat", Some("/usage/prompt_tokens_details/cached_tokens")),
        ("openai-completions", Some("/usage/prompt_tokens_details/cached_tokens")),
        ("openai-responses", Some("/usage/input_tokens_details/cached_tokens")),
        ("anthropic", Some("/usage/cache_read_input_tokens")),
        ("gemini", Some("/usageMetadata/cachedContentTokenCount")),
        ("dify", None),
        ("ollama", None),
        ("tgi", None),
    ];
    for (protocol, field) in fields {
        let mock = start(true).await;
        let path = whole_path_for(protocol).unwrap();
        let body = whole_body(protocol, &mock_text(100));
        post(&mock, path, &body).await;
        mock.stats.reset();
        let (status, answer) = post(&mock, path, &body).await;
        assert_eq!(status, 200, "{protocol}: {answer}");
        let s = mock.stats.snapshot();
        assert!(s.prompt_tokens >= 100, "{protocol}: {s:?}");
        assert_eq!(s.cached_tokens, 16 * (s.prompt_tokens / 16), "{protocol}");
        match field {
            Some(field) => {
                let cached = json(&answer).pointer(field).cloned();
                assert_eq!(cached, Some(json!(s.cached_tokens)), "{protocol}: {answer}");
            }
            None => assert!(!answer.contains("cache"), "{protocol}: {answer}"),
        }
    }
}
