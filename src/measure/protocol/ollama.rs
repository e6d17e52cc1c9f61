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
//!
//! With `"stream": false` the whole answer is one such object, the last line's fields and
//! the whole text together.

use serde::Deserialize;
use serde_json::Value;

use super::Interpretation;
use super::lenient::{Count, Text};
use super::support::{DoneMarker, error_message, preview, read_payload, read_whole};
use crate::measure::stream::Event;

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
        read_payload(&event.data, "line", DoneMarker::Malformed, interpret_line)
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

/// A whole (`"stream": false`) answer: one line with the whole text, `"done": true`.
pub(crate) fn whole(answer: &Value) -> Interpretation {
    read_whole(answer, interpret_line)
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

/// The message of an in-stream error: Ollama's string, or a proxy's `{"message": …}`; no
/// kind (Ollama sends none), and the error's JSON, cut short, when there is no message.
fn describe_error(error: &Value) -> Option<String> {
    match error {
        Value::Null => None,
        Value::String(s) if s.is_empty() => Some("error".to_owned()),
        other => {
            Some(error_message(other).map_or_else(|| preview(&other.to_string()), str::to_owned))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::protocol::Protocol;
    use crate::measure::protocol::support::testing::check_looks_like;

    fn line(data: &str) -> Event {
        Event { name: String::new(), data: data.into(), id: None }
    }

    fn one(data: &str) -> Interpretation {
        Ollama::new().interpret(&line(data))
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
    fn looks_like_ollama_lines() {
        let no = [
            r#"{"model":"m","created_at":"t","response":"x"}"#,
            r#"{"model":"m","created_at":"t","response":"x","done":"false"}"#,
            r#"{"error":"model not found"}"#,
        ];
        check_looks_like(Protocol::Ollama, looks_like, &[], &no);
    }
}
