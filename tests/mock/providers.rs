//! The provider routes, each in its real wire format: OpenAI legacy completions and the
//! Responses API, Anthropic Messages, Gemini, Ollama (NDJSON) and TGI.

use serde_json::{Value, json};
use streamperf::mock::{MockServer, mock_reasoning_text, mock_text, path_for, request_body_for};
use streamperf::protocol::Protocol;

use super::{Event, events, joined, json_of, merged, named, ndjson, post, start, text, with_query};

/// What OpenAI's and Anthropic's servers send.
const SSE_UTF8: &str = "text/event-stream; charset=utf-8";

fn content_type(resp: &reqwest::Response) -> &str {
    resp.headers()["content-type"].to_str().expect("an ASCII content type")
}

/// Posts `request_body_for(protocol)` (with `extra` merged in) to `path_for(protocol)` plus
/// `query`, and checks the status and content type.
async fn call(mock: &MockServer, p: Protocol, query: &str, extra: Value, ct: &str) -> String {
    let body = merged(request_body_for(p), &extra);
    let path =
        if query.is_empty() { path_for(p).to_owned() } else { with_query(path_for(p), query) };
    let resp = post(mock, &path, &body).await;
    assert_eq!(resp.status(), 200, "{p:?} {path}");
    assert_eq!(content_type(&resp), ct, "{p:?}");
    text(resp).await
}

#[tokio::test]
async fn completions_stream_sequence() {
    let mock = start(2, 1, 5).await;
    let p = Protocol::OpenAiCompletions;
    let ev = events(&call(&mock, p, "", json!({}), SSE_UTF8).await);
    assert_eq!(ev.len(), 5 + 1 + 1 + 1, "5 tokens, finish, usage, [DONE]");
    let chunks: Vec<Value> = ev[..6].iter().map(Event::json).collect();
    assert!(chunks.iter().all(|c| c["object"] == "text_completion"));
    assert_eq!(joined(&chunks, "/choices/0/text"), mock_text(5));
    assert_eq!(chunks[5]["choices"][0]["finish_reason"], "stop");
    assert_eq!(ev[6].json()["usage"]["completion_tokens"], 5);
    assert_eq!(ev[7].data, "[DONE]");
    // max_tokens caps; legacy completions have no reasoning field, so none is sent.
    let query = "reasoning_tokens=4";
    let out = call(&mock, p, query, json!({"max_tokens": 2}), SSE_UTF8);
    let ev = events(&out.await);
    assert_eq!(ev.len(), 2 + 1 + 1 + 1);
    assert_eq!(ev[2].json()["choices"][0]["finish_reason"], "length");
    assert_eq!(ev[3].json()["usage"]["completion_tokens"], 2);
    let v: Value = json_of(post(&mock, "/v1/completions", &json!({"prompt": "hi"})).await).await;
    assert_eq!(
        (v["object"].as_str(), v["choices"][0]["text"].as_str()),
        (Some("text_completion"), Some(mock_text(5).as_str()))
    );
}

#[tokio::test]
async fn responses_stream_with_reasoning() {
    let mock = start(2, 1, 4).await;
    let p = Protocol::OpenAiResponses;
    let out = call(&mock, p, "reasoning_tokens=3", json!({}), SSE_UTF8);
    let ev = events(&out.await);
    assert!(ev.iter().all(|e| e.json()["type"].as_str() == e.name.as_deref()));
    assert_eq!(ev[0].name.as_deref(), Some("response.created"));
    let position =
        |name: &str| ev.iter().position(|e| e.name.as_deref() == Some(name)).expect(name);
    let reasoning = named(&ev, "response.reasoning_summary_text.delta");
    let answer = named(&ev, "response.output_text.delta");
    assert_eq!((reasoning.len(), answer.len()), (3, 4));
    assert_eq!(joined(&reasoning, "/delta"), mock_reasoning_text(3));
    assert_eq!(joined(&answer, "/delta"), mock_text(4));
    assert!(
        position("response.reasoning_summary_text.done") < position("response.output_text.delta")
    );
    let last = ev.last().expect("events");
    assert_eq!(last.name.as_deref(), Some("response.completed"));
    let usage = &last.json()["response"]["usage"];
    assert_eq!(usage["output_tokens"], 7, "reasoning counts as output");
    assert_eq!(usage["output_tokens_details"]["reasoning_tokens"], 3);
    assert!(usage["input_tokens"].as_u64().is_some_and(|n| n > 0));

    let out = call(&mock, p, "", json!({"max_output_tokens": 2}), SSE_UTF8);
    let ev = events(&out.await);
    assert_eq!(named(&ev, "response.output_text.delta").len(), 2);
    assert_eq!(ev.last().and_then(|e| e.name.as_deref()), Some("response.incomplete"));
}

#[tokio::test]
async fn anthropic_messages_with_thinking() {
    let mock = start(2, 1, 5).await;
    let query = "reasoning_tokens=4&tokens_per_chunk=2";
    let out = call(&mock, Protocol::Anthropic, query, json!({}), SSE_UTF8);
    let ev = events(&out.await);
    assert!(ev.iter().all(|e| e.json()["type"].as_str() == e.name.as_deref()));
    let names: Vec<&str> = ev.iter().filter_map(|e| e.name.as_deref()).collect();
    assert_eq!(names[..3], ["message_start", "content_block_start", "ping"]);
    assert_eq!(names[names.len() - 2..], ["message_delta", "message_stop"]);
    assert_eq!(ev[0].json()["message"]["usage"]["output_tokens"], 1, "placeholder");
    let deltas = named(&ev, "content_block_delta");
    let of = |kind: &str| -> Vec<Value> {
        deltas.iter().filter(|d| d["delta"]["type"] == kind).cloned().collect()
    };
    let (thinking, answer) = (of("thinking_delta"), of("text_delta"));
    assert_eq!((thinking.len(), answer.len()), (2, 3), "2+2 thinking, 2+2+1 text");
    assert_eq!(joined(&thinking, "/delta/thinking"), mock_reasoning_text(4));
    assert_eq!(joined(&answer, "/delta/text"), mock_text(5));
    let last_thinking = deltas.iter().rposition(|d| d["delta"]["type"] == "thinking_delta");
    let first_text = deltas.iter().position(|d| d["delta"]["type"] == "text_delta");
    assert!(last_thinking.expect("thinking") < first_text.expect("text"));
    let blocks = named(&ev, "content_block_start");
    assert_eq!(
        blocks.iter().map(|b| b["content_block"]["type"].clone()).collect::<Vec<_>>(),
        [json!("thinking"), json!("text")]
    );
    let delta = &named(&ev, "message_delta")[0];
    assert_eq!(delta["usage"]["output_tokens"], 9, "cumulative, thinking included");
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");

    let out = call(&mock, Protocol::Anthropic, "", json!({"max_tokens": 3}), SSE_UTF8);
    let delta = &named(&events(&out.await), "message_delta")[0];
    assert_eq!(delta["delta"]["stop_reason"], "max_tokens");
    assert_eq!(delta["usage"]["output_tokens"], 3);
}

#[tokio::test]
async fn gemini_stream_generate_content() {
    let mock = start(2, 1, 4).await;
    let path = "/v1beta/models/gemini-mock:streamGenerateContent?alt=sse&reasoning_tokens=2";
    let body = request_body_for(Protocol::Gemini);
    let resp = post(&mock, path, &body).await;
    assert_eq!((resp.status().as_u16(), content_type(&resp)), (200, "text/event-stream"));
    let ev = events(&text(resp).await);
    assert!(ev.iter().all(|e| e.name.is_none()), "data-only events");
    let chunks: Vec<Value> = ev.iter().map(Event::json).collect();
    let parts: Vec<Value> = chunks
        .iter()
        .flat_map(|c| c["candidates"][0]["content"]["parts"].as_array().cloned().expect("parts"))
        .collect();
    let (thoughts, answer): (Vec<Value>, Vec<Value>) =
        parts.into_iter().partition(|p| p["thought"] == true);
    assert_eq!(joined(&thoughts, "/text"), mock_reasoning_text(2));
    assert_eq!(joined(&answer, "/text"), mock_text(4));
    let last = chunks.last().expect("chunks");
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(last["modelVersion"], "gemini-mock", "the model from the path");
    let usage = &last["usageMetadata"];
    assert_eq!(
        (usage["candidatesTokenCount"].as_u64(), usage["thoughtsTokenCount"].as_u64()),
        (Some(4), Some(2))
    );

    let mut capped = body.clone();
    capped["generationConfig"] = json!({"maxOutputTokens": 3});
    let ev = events(&text(post(&mock, path, &capped).await).await);
    let last = ev.last().expect("events").json();
    assert_eq!(last["candidates"][0]["finishReason"], "MAX_TOKENS");
    assert_eq!(last["usageMetadata"]["candidatesTokenCount"], 1, "2 of the 3 went to thoughts");

    let wrong = post(&mock, "/v1beta/models/gemini-mock:countTokens", &body).await;
    assert_eq!(wrong.status(), 404);
    let whole = post(&mock, "/v1beta/models/gemini-mock:generateContent", &body).await;
    assert_eq!(content_type(&whole), "application/json");
    let v: Value = json_of(whole).await;
    assert_eq!(v["candidates"][0]["content"]["parts"][0]["text"], mock_text(4));
    assert_eq!(v["usageMetadata"]["candidatesTokenCount"], 4);
    let no_alt = post(&mock, "/v1beta/models/gemini-mock:streamGenerateContent", &body).await;
    assert_eq!(no_alt.status(), 400);
    let v: Value = json_of(no_alt).await;
    assert_eq!(v["error"]["status"], "INVALID_ARGUMENT");
}

#[tokio::test]
async fn ollama_chat_and_generate_ndjson() {
    let mock = start(2, 1, 4).await;
    let out =
        call(&mock, Protocol::Ollama, "reasoning_tokens=2", json!({}), "application/x-ndjson");
    let lines = ndjson(&out.await);
    assert_eq!(lines.len(), 2 + 4 + 1);
    assert_eq!(joined(&lines, "/message/thinking"), mock_reasoning_text(2));
    assert_eq!(joined(&lines, "/message/content"), mock_text(4));
    assert!(lines[..6].iter().all(|l| l["done"] == false));
    let done = &lines[6];
    assert_eq!((done["done"].clone(), done["done_reason"].clone()), (json!(true), json!("stop")));
    assert_eq!(done["eval_count"], 6, "thinking counts");
    assert!(done["prompt_eval_count"].as_u64().is_some_and(|n| n > 0));

    let body = json!({"model": "llama", "prompt": "hi", "options": {"num_predict": 2}});
    let resp = post(&mock, "/api/generate", &body).await;
    assert_eq!(content_type(&resp), "application/x-ndjson");
    let lines = ndjson(&text(resp).await);
    assert_eq!(joined(&lines, "/response"), mock_text(2));
    let done = lines.last().expect("lines");
    assert_eq!(
        (done["done_reason"].as_str(), done["eval_count"].as_u64()),
        (Some("length"), Some(2))
    );
    assert_eq!(done["model"], "llama");
}

#[tokio::test]
async fn tgi_generate_stream() {
    let mock = start(2, 1, 5).await;
    // TGI has no reasoning field: the reasoning tokens are ignored.
    let out =
        call(&mock, Protocol::Tgi, "reasoning_tokens=3", json!({}), "text/event-stream").await;
    assert!(out.lines().all(|l| l.is_empty() || l.starts_with("data:{")), "TGI's framing: {out}");
    let ev: Vec<Value> = events(&out).iter().map(Event::json).collect();
    assert_eq!(ev.len(), 5 + 1, "5 tokens and the EOS token");
    let visible: Vec<Value> =
        ev.iter().filter(|e| e["token"]["special"] == false).cloned().collect();
    assert_eq!(joined(&visible, "/token/text"), mock_text(5));
    let last = &ev[5];
    assert_eq!(last["generated_text"], mock_text(5));
    assert_eq!(last["details"]["finish_reason"], "eos_token");
    assert_eq!(last["details"]["generated_tokens"], 6, "the EOS counts, as in TGI");

    let out = call(
        &mock,
        Protocol::Tgi,
        "",
        json!({"parameters": {"max_new_tokens": 2}}),
        "text/event-stream",
    );
    let ev: Vec<Value> = events(&out.await).iter().map(Event::json).collect();
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[1]["details"]["finish_reason"], "length");
}
