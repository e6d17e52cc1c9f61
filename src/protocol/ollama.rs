//! Ollama's native streaming API: `/api/chat` and `/api/generate`, one JSON object per
//! NDJSON line, as `docs/api.md` in the Ollama repository describes them.
//!
//! * `message.content` (chat) and `response` (generate) are the answer; `message.thinking`
//!   and `thinking` are reasoning; `message.tool_calls` is a tool call, serialised as JSON
//!   (Ollama sends each call whole, not as deltas).
//! * The line with `"done": true` completes the stream and carries the counts: `eval_count`
//!   (every generated token, thinking included) and `prompt_eval_count` (the prompt tokens
//!   actually evaluated, so fewer when Ollama reused its prompt cache), and `done_reason`.
//! * `{"error": "…"}` is an in-stream error.

use serde::Deserialize;
use serde_json::Value;

use super::Interpretation;
use super::lenient::{Count, Text};
use crate::stream::Event;

/// How much of a payload a `malformed` message quotes.
const PREVIEW_CHARS: usize = 80;

/// Per-request state of the Ollama adapter.
#[derive(Debug, Default)]
pub struct Ollama {}

impl Ollama {
    /// A fresh adapter.
    pub fn new() -> Self {
        Ollama::default()
    }

    /// Interprets one line, which must be a JSON object; blank lines carry nothing.
    pub fn interpret(&mut self, event: &Event) -> Interpretation {
        let data = event.data.trim();
        if data.is_empty() {
            return Interpretation::default();
        }
        if !data.starts_with('{') {
            return malformed(format!("line is not a JSON object: {}", preview(data)));
        }
        match serde_json::from_str::<Line>(data) {
            Ok(line) => interpret_line(&line),
            Err(e) => malformed(format!("line is not valid JSON ({e}): {}", preview(data))),
        }
    }
}

/// The fields of a line that matter; everything else is skipped unparsed.
#[derive(Deserialize)]
struct Line<'a> {
    /// `/api/chat`.
    #[serde(default, borrow)]
    message: Option<Message<'a>>,
    /// `/api/generate`.
    #[serde(default, borrow)]
    response: Text<'a>,
    #[serde(default, borrow)]
    thinking: Text<'a>,
    #[serde(default)]
    done: Option<bool>,
    #[serde(default, borrow)]
    done_reason: Text<'a>,
    #[serde(default)]
    eval_count: Count,
    #[serde(default)]
    prompt_eval_count: Count,
    /// A string from Ollama; kept as JSON in case a proxy sends an object.
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(default, borrow)]
    content: Text<'a>,
    #[serde(default, borrow)]
    thinking: Text<'a>,
    /// Rare, so a `Value` costs nothing on ordinary lines.
    #[serde(default)]
    tool_calls: Option<Value>,
}

/// Whether a stream's first JSON payload has this format's shape (used by `auto`): `model`,
/// `created_at`, a `message` object or `response` string, and a boolean `done`.
pub(crate) fn looks_like(payload: &Value) -> bool {
    let Some(obj) = payload.as_object() else { return false };
    let is_str = |key| obj.get(key).is_some_and(Value::is_string);
    let body = obj.get("message").is_some_and(Value::is_object) || is_str("response");
    is_str("model")
        && is_str("created_at")
        && body
        && obj.get("done").is_some_and(Value::is_boolean)
}

fn interpret_line(line: &Line) -> Interpretation {
    let message = line.message.as_ref();
    let answer = message.and_then(|m| m.content.non_empty()).or(line.response.non_empty());
    let reasoning = message.and_then(|m| m.thinking.non_empty()).or(line.thinking.non_empty());
    let tool_call = message.and_then(|m| tool_calls(m.tool_calls.as_ref()));
    Interpretation {
        answer: answer.map(str::to_owned),
        reasoning: reasoning.map(str::to_owned),
        token_marker: tool_call.is_some(),
        tool_call,
        output_tokens: line.eval_count.0,
        input_tokens: line.prompt_eval_count.0,
        finish_reason: line.done_reason.non_empty().map(str::to_owned),
        done: line.done == Some(true),
        error: line.error.as_ref().and_then(describe_error),
        ..Interpretation::default()
    }
}

/// The tool calls as JSON text, unless there are none.
fn tool_calls(calls: Option<&Value>) -> Option<String> {
    match calls? {
        Value::Array(items) if items.is_empty() => None,
        Value::Null => None,
        calls => Some(calls.to_string()),
    }
}

/// The message of an in-stream error: Ollama's string, or a proxy's `{"message": …}`.
fn describe_error(error: &Value) -> Option<String> {
    match error {
        Value::Null => None,
        Value::String(s) if s.is_empty() => Some("error".to_owned()),
        Value::String(s) => Some(s.clone()),
        other => match other.get("message").and_then(Value::as_str) {
            Some(message) if !message.is_empty() => Some(message.to_owned()),
            _ => Some(preview(&other.to_string())),
        },
    }
}

fn malformed(message: String) -> Interpretation {
    Interpretation { malformed: Some(message), ..Interpretation::default() }
}

/// The start of a payload, for error messages.
fn preview(text: &str) -> String {
    match text.char_indices().nth(PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::{Framer, Framing};
    use base64::Engine as _;
    use serde_json::json;

    /// What a whole stream amounted to, as the fixtures state it.
    #[derive(Debug, Default, PartialEq)]
    struct Outcome {
        answer: String,
        reasoning: String,
        tool_calls: Vec<String>,
        output_tokens: Option<u64>,
        input_tokens: Option<u64>,
        finish_reason: Option<String>,
        first_answer: Option<usize>,
        first_reasoning: Option<usize>,
        done: bool,
        error: Option<String>,
        malformed: Option<String>,
        events: usize,
    }

    fn line(data: &str) -> Event {
        Event { name: String::new(), data: data.into(), id: None }
    }

    fn one(data: &str) -> Interpretation {
        Ollama::new().interpret(&line(data))
    }

    fn run(events: &[Event]) -> Outcome {
        let mut adapter = Ollama::new();
        let mut out = Outcome { events: events.len(), ..Outcome::default() };
        for (i, event) in events.iter().enumerate() {
            let m = adapter.interpret(event);
            if let Some(text) = m.answer {
                out.first_answer.get_or_insert(i);
                out.answer.push_str(&text);
            }
            if let Some(text) = m.reasoning {
                out.first_reasoning.get_or_insert(i);
                out.reasoning.push_str(&text);
            }
            out.tool_calls.extend(m.tool_call);
            out.output_tokens = m.output_tokens.or(out.output_tokens);
            out.input_tokens = m.input_tokens.or(out.input_tokens);
            out.finish_reason = m.finish_reason.or(out.finish_reason);
            out.done |= m.done;
            out.error = out.error.or(m.error);
            out.malformed = out.malformed.or(m.malformed);
        }
        out
    }

    /// The lines of `body` fed whole, or in two reads cut at byte `cut`.
    fn frame(body: &[u8], cut: Option<usize>) -> Vec<Event> {
        let mut framer = Framer::new(Framing::Ndjson);
        let mut events = Vec::new();
        let (a, b) = body.split_at(cut.unwrap_or(body.len()));
        framer.feed(a, &mut events);
        framer.feed(b, &mut events);
        framer.finish(&mut events);
        events
    }

    fn load(name: &str) -> (Vec<u8>, Value) {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/providers");
        let text = std::fs::read_to_string(format!("{dir}/{name}.json")).unwrap();
        let fixture: Value = serde_json::from_str(&text).unwrap();
        let body = fixture["body_b64"].as_str().unwrap();
        let body = base64::engine::general_purpose::STANDARD.decode(body).unwrap();
        (body, fixture["expected"].clone())
    }

    fn index(value: &Value) -> Option<usize> {
        value.as_u64().map(|i| i as usize)
    }

    /// Checks a fixture's expectations on the whole body, then the same outcome at every cut.
    fn check_fixture(name: &str) -> Outcome {
        let (body, expected) = load(name);
        let out = run(&frame(&body, None));
        assert_eq!(out.answer, expected["text"].as_str().unwrap(), "{name}");
        let reasoning = (!out.reasoning.is_empty()).then_some(out.reasoning.as_str());
        assert_eq!(reasoning, expected["reasoning_text"].as_str(), "{name}");
        assert_eq!(out.output_tokens, expected["output_tokens_reported"].as_u64(), "{name}");
        assert_eq!(out.first_answer, index(&expected["first_content_event_index"]), "{name}");
        assert_eq!(out.first_reasoning, index(&expected["first_reasoning_event_index"]));
        assert_eq!(out.done, expected["completion_seen"].as_bool().unwrap(), "{name}");
        match expected["error"].as_str() {
            Some(wanted) => assert!(out.error.as_deref().unwrap().contains(wanted), "{name}"),
            None => assert_eq!(out.error, None, "{name}"),
        }
        assert_eq!(out.malformed, None, "{name}");
        if let Some(count) = index(&expected["dispatched_event_count"]) {
            assert_eq!(out.events, count, "{name}");
        }
        for cut in 0..=body.len() {
            assert_eq!(run(&frame(&body, Some(cut))), out, "{name} cut at byte {cut}");
        }
        out
    }

    #[test]
    fn fixture_chat_ndjson() {
        let out = check_fixture("ollama-chat-ndjson");
        assert_eq!(out.input_tokens, Some(26));
        assert_eq!(out.finish_reason.as_deref(), Some("stop"));
    }

    #[test]
    fn fixture_generate_ndjson() {
        let out = check_fixture("ollama-generate-ndjson");
        assert_eq!(out.input_tokens, Some(26));
    }

    #[test]
    fn thinking_is_reasoning() {
        let i = one(
            r#"{"model":"qwen3","created_at":"t","message":{"role":"assistant","content":"","thinking":"Hmm"},"done":false}"#,
        );
        assert_eq!(i.reasoning.as_deref(), Some("Hmm"));
        assert_eq!(i.answer, None);
        let i =
            one(r#"{"model":"qwen3","created_at":"t","response":"","thinking":"Hm","done":false}"#);
        assert_eq!(i.reasoning.as_deref(), Some("Hm"));
    }

    #[test]
    fn tool_calls_are_serialised() {
        let i = one(
            r#"{"model":"m","created_at":"t","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},"done":false}"#,
        );
        let call: Value = serde_json::from_str(i.tool_call.as_deref().unwrap()).unwrap();
        assert_eq!(call[0]["function"]["arguments"]["city"], "Paris");
        assert!(i.token_marker && i.answer.is_none());
        let none = one(r#"{"message":{"content":"","tool_calls":[]},"done":false}"#);
        assert_eq!(none, Interpretation::default());
        assert_eq!(one(r#"{"message":{"tool_calls":null}}"#), Interpretation::default());
    }

    #[test]
    fn done_line_reports_counts_without_text() {
        let i = one(
            r#"{"model":"m","created_at":"t","response":"","done":true,"done_reason":"length","prompt_eval_count":5,"eval_count":9.0}"#,
        );
        assert!(i.done && i.answer.is_none());
        assert_eq!((i.output_tokens, i.input_tokens), (Some(9), Some(5)));
        assert_eq!(i.finish_reason.as_deref(), Some("length"));
        assert!(!one(r#"{"response":"x","done":false}"#).done);
    }

    #[test]
    fn errors() {
        let i = one(r#"{"error":"an error was encountered while running the model"}"#);
        assert_eq!(i.error.as_deref(), Some("an error was encountered while running the model"));
        assert!(!i.done);
        let i = one(r#"{"error":{"message":"overloaded","type":"server_error"}}"#);
        assert_eq!(i.error.as_deref(), Some("overloaded"));
        assert_eq!(one(r#"{"error":null,"response":"x"}"#).error, None);
    }

    #[test]
    fn blank_and_malformed_lines() {
        assert_eq!(one(""), Interpretation::default());
        assert_eq!(one(" \r"), Interpretation::default());
        assert!(one("data: {}").malformed.unwrap().contains("data: {}"));
        assert!(one(r#"{"response":"x""#).malformed.is_some());
        assert!(one(r#"{"done":"yes"}"#).malformed.is_some());
        // A CRLF line ending is not part of the JSON.
        assert_eq!(one("{\"response\":\"x\"}\r").answer.as_deref(), Some("x"));
    }

    #[test]
    fn looks_like_ollama_first_lines() {
        let chat = json!({"model":"llama3.2","created_at":"2025-03-01T10:00:00Z","message":{"role":"assistant","content":"Hi"},"done":false});
        let generate = json!({"model":"llama3.2","created_at":"2025-03-01T10:00:00Z","response":"The","done":false});
        assert!(looks_like(&chat) && looks_like(&generate));
    }

    #[test]
    fn looks_like_rejects_other_formats() {
        let negatives = [
            json!({"id":"c","object":"chat.completion.chunk","choices":[{"delta":{"content":"x"}}]}),
            json!({"error":{"message":"m","type":"server_error"}}),
            json!({"type":"message_start","message":{"id":"m"}}),
            json!({"candidates":[{"content":{"parts":[{"text":"x"}]}}]}),
            json!({"type":"response.created","response":{"id":"r"}}),
            json!({"event":"message","task_id":"t","answer":"x"}),
            json!({"token":{"id":1,"text":"x","special":false},"generated_text":null}),
            json!({"model":"m","created_at":"t","response":"x"}),
            json!({"model":"m","created_at":"t","response":"x","done":"false"}),
            json!({"error":"model not found"}),
        ];
        for n in &negatives {
            assert!(!looks_like(n), "{n}");
        }
    }
}
