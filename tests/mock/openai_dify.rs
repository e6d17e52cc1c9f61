//! The original routes: OpenAI chat completions (streaming, capped and not streaming), Dify
//! chat and workflow (both framings), plain chunked text.

use serde_json::{Value, json};
use streamperf::mock::mock_text;

use super::{chat, client, events, json_of, post, start, text};

#[tokio::test]
async fn openai_stream_sequence_with_and_without_usage() {
    let mock = start(2, 1, 5).await;
    let resp = post(&mock, "/v1/chat/completions", &chat(true, json!({}))).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let ev = events(&text(resp).await);
    assert_eq!(ev.len(), 1 + 5 + 1 + 1, "role, 5 tokens, finish, [DONE]");
    let role = ev[0].json();
    assert_eq!(role["object"], "chat.completion.chunk");
    assert_eq!(role["model"], "gpt-mock");
    assert_eq!(role["choices"][0]["delta"]["role"], "assistant");
    let content: String = ev[1..6]
        .iter()
        .map(|e| e.json()["choices"][0]["delta"]["content"].as_str().expect("content").to_owned())
        .collect();
    assert_eq!(content, mock_text(5));
    assert_eq!(ev[6].json()["choices"][0]["finish_reason"], "stop");
    assert_eq!(ev[7].data, "[DONE]");

    let body = chat(true, json!({"stream_options": {"include_usage": true}}));
    let ev = events(&text(post(&mock, "/v1/chat/completions", &body).await).await);
    assert_eq!(ev.len(), 9);
    let usage = ev[7].json();
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], 5);
    assert_eq!(ev[8].data, "[DONE]");
}

#[tokio::test]
async fn max_tokens_caps_the_answer() {
    let mock = start(1, 1, 10).await;
    for key in ["max_tokens", "max_completion_tokens"] {
        let body = chat(true, json!({ key: 3, "stream_options": {"include_usage": true} }));
        let ev = events(&text(post(&mock, "/v1/chat/completions", &body).await).await);
        assert_eq!(ev.len(), 1 + 3 + 1 + 1 + 1, "{key}");
        assert_eq!(ev[4].json()["choices"][0]["finish_reason"], "length");
        assert_eq!(ev[5].json()["usage"]["completion_tokens"], 3);
    }
    // A cap above the answer changes nothing.
    let body = chat(true, json!({"max_tokens": 100}));
    let ev = events(&text(post(&mock, "/v1/chat/completions", &body).await).await);
    assert_eq!(ev.len(), 13);
    assert_eq!(ev[11].json()["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn non_streaming_completion_and_bad_json() {
    let mock = start(2, 1, 4).await;
    let resp = post(&mock, "/v1/chat/completions", &chat(false, json!({}))).await;
    assert_eq!(resp.status(), 200);
    let v: Value = json_of(resp).await;
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["choices"][0]["message"]["content"], mock_text(4));
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["usage"]["completion_tokens"], 4);

    let resp = client()
        .post(mock.url("/v1/chat/completions"))
        .body("{not json")
        .send()
        .await
        .expect("request reaches the mock");
    assert_eq!(resp.status(), 400);
    let v: Value = json_of(resp).await;
    assert_eq!(v["error"]["type"], "invalid_request_error");
    let snap = mock.stats.snapshot();
    assert_eq!((snap.requests, snap.bodies_seen, snap.in_flight), (2, 1, 0));
    assert_eq!(snap.first_content_us.count, 1);
}

#[tokio::test]
async fn dify_chat_sequence() {
    let mock = start(2, 1, 3).await;
    let body = json!({"inputs": {}, "query": "你的问题", "response_mode": "streaming",
                      "conversation_id": "", "user": "abc-123"});
    let resp = post(&mock, "/v1/chat-messages", &body).await;
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let ev = events(&text(resp).await);
    assert_eq!(ev.len(), 1 + 3 + 1);
    assert_eq!((ev[0].name.as_deref(), ev[0].data.as_str()), (Some("ping"), ""));
    let answer: String = ev[1..4]
        .iter()
        .map(|e| {
            let v = e.json();
            assert_eq!(v["event"], "message");
            assert!(v["conversation_id"].as_str().is_some_and(|c| !c.is_empty()));
            v["answer"].as_str().expect("answer").to_owned()
        })
        .collect();
    assert_eq!(answer, mock_text(3));
    let end = ev[4].json();
    assert_eq!(end["event"], "message_end");
    assert_eq!(end["metadata"]["usage"]["completion_tokens"], 3);
}

#[tokio::test]
async fn dify_workflow_both_framings() {
    let mock = start(2, 1, 4).await;
    let body = json!({"inputs": {"q": "hi"}, "response_mode": "streaming", "user": "u"});
    let ev = events(&text(post(&mock, "/v1/workflows/run", &body).await).await);
    let names: Vec<String> =
        ev.iter().map(|e| e.json()["event"].as_str().expect("event").to_owned()).collect();
    let mut expected = vec!["workflow_started", "node_started"];
    expected.extend(["text_chunk"; 4]);
    expected.extend(["node_finished", "workflow_finished"]);
    assert_eq!(names, expected);
    assert!(ev.iter().all(|e| e.name.is_none()), "real Dify uses data-only events");
    let chunks: String = ev[2..6]
        .iter()
        .map(|e| e.json()["data"]["text"].as_str().expect("text").to_owned())
        .collect();
    assert_eq!(chunks, mock_text(4));
    let done = ev[7].json();
    assert_eq!(done["data"]["status"], "succeeded");
    assert_eq!(done["data"]["outputs"]["result"], mock_text(4));
    assert!(done["data"]["total_tokens"].as_u64().is_some_and(|t| t >= 4));

    let path = "/v1/workflows/run?framing=event-lines";
    let ev = events(&text(post(&mock, path, &body).await).await);
    let names: Vec<&str> = ev.iter().map(|e| e.name.as_deref().expect("event:")).collect();
    assert_eq!(names, expected);
    let done = ev[7].json();
    assert_eq!(done, json!({"node_id": "llm", "outputs": {"result": mock_text(4)}}));
    assert_eq!(ev[2].json()["text"], mock_text(1));

    let resp = post(&mock, "/v1/workflows/run?framing=xml", &body).await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn plain_stream_get_and_post() {
    let mock = start(2, 1, 6).await;
    let resp = client().get(mock.url("/v1/stream")).send().await.expect("GET reaches the mock");
    assert_eq!(resp.headers()["content-type"], "text/plain; charset=utf-8");
    let mut resp = resp;
    let mut chunks = Vec::new();
    while let Some(c) = resp.chunk().await.expect("clean chunked body") {
        chunks.push(c);
    }
    assert_eq!(chunks.concat(), mock_text(6).as_bytes());
    assert!(chunks.len() >= 2, "tokens arrive over time, not as one block");

    let body = json!({"prompt": "你的提示词", "stream": true, "max_tokens": 2});
    assert_eq!(text(post(&mock, "/v1/stream", &body).await).await, mock_text(2));
    assert_eq!(mock.stats.snapshot().bodies_seen, 1, "the empty GET body is not recorded");
}
