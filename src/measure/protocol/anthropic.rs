//! Anthropic Messages streaming (`POST /v1/messages` with `"stream": true`), as the Messages
//! streaming guide describes it: `message_start`, then per content block
//! `content_block_start` / `content_block_delta`* / `content_block_stop`, then
//! `message_delta` (stop reason and cumulative usage) and `message_stop`, with `ping` and
//! `error` events possible anywhere. Each SSE event's `event:` name repeats the JSON `type`.
//!
//! A whole (non-streaming) answer is the `message` object: its `content` blocks (`text`,
//! `thinking`, tool uses with their `input`), `stop_reason` and `usage`, whose
//! `output_tokens` here is the real count.

use serde::Deserialize;
use serde_json::Value;

use super::Interpretation;
use super::lenient::{Count, Text};
use super::support::{
    DoneMarker, error, error_message, kind_and_message, push_tool_call, read_named_event,
    read_whole,
};
use crate::measure::stream::Event;

/// Every event type of a Messages stream; `auto` recognises the format by them.
const EVENT_TYPES: [&str; 8] = [
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "ping",
    "error",
];

/// Per-request state of the Anthropic Messages adapter.
#[derive(Debug, Default)]
pub struct Anthropic {}

impl Anthropic {
    /// A fresh adapter.
    pub fn new() -> Self {
        Anthropic::default()
    }

    /// Interprets one event: every payload must be a JSON object; its `type` (or, when the
    /// JSON has none, the SSE event name) says what it carries. `[DONE]` is not part of this
    /// format, but proxies that front several APIs append it: it means nothing.
    pub fn interpret(&mut self, event: &Event) -> Interpretation {
        read_named_event(event, DoneMarker::Ignored, interpret_payload)
    }
}

/// The fields of any Messages event that matter; everything else is skipped unparsed.
#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Text<'a>,
    /// `content_block_delta` (content) and `message_delta` (stop reason).
    #[serde(default, borrow)]
    delta: Option<Delta<'a>>,
    /// `content_block_start`: a tool-use block names its tool here.
    #[serde(default, borrow)]
    content_block: Option<Block<'a>>,
    /// `message_start`: the message shell with the input usage.
    #[serde(default)]
    message: Option<Message>,
    /// `message_delta`: cumulative usage.
    #[serde(default)]
    usage: Option<Usage>,
    /// `error`: `{"type": …, "message": …}`; untyped so any shape still reports.
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Text<'a>,
    #[serde(default, borrow)]
    text: Text<'a>,
    #[serde(default, borrow)]
    thinking: Text<'a>,
    #[serde(default, borrow)]
    partial_json: Text<'a>,
    #[serde(default, borrow)]
    stop_reason: Text<'a>,
}

#[derive(Deserialize)]
struct Block<'a> {
    #[serde(default, borrow)]
    name: Text<'a>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    usage: Option<Usage>,
}

/// A whole answer: the `message` object (or an `error` one).
#[derive(Deserialize)]
struct WholeMessage<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Text<'a>,
    #[serde(default, borrow)]
    content: Option<Vec<Content<'a>>>,
    #[serde(default, borrow)]
    stop_reason: Text<'a>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<Value>,
}

/// One content block of a whole answer.
#[derive(Deserialize)]
struct Content<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Text<'a>,
    #[serde(default, borrow)]
    text: Text<'a>,
    #[serde(default, borrow)]
    thinking: Text<'a>,
    /// Tool uses: the tool's name and its input, a JSON object.
    #[serde(default, borrow)]
    name: Text<'a>,
    #[serde(default)]
    input: Option<Value>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    input_tokens: Count,
    #[serde(default)]
    output_tokens: Count,
    #[serde(default)]
    cache_read_input_tokens: Count,
    #[serde(default)]
    cache_creation_input_tokens: Count,
}

impl Usage {
    /// The whole prompt: Anthropic's `input_tokens` leaves out what was read from or written
    /// to its cache.
    fn prompt(&self) -> Option<u64> {
        let parts = [self.input_tokens.0, self.cache_read_input_tokens.0];
        let all = parts.into_iter().chain([self.cache_creation_input_tokens.0]);
        all.flatten().reduce(|a, b| a + b)
    }
}

/// Whether a stream's first JSON payload has this format's shape (used by `auto`): a
/// Messages event type; an `error` only with Anthropic's nested `error` object, because a
/// bare `{"type":"error"}` is the Responses API's error event.
pub(crate) fn looks_like(payload: &Value) -> bool {
    let Some(kind) = payload.get("type").and_then(Value::as_str) else { return false };
    match kind {
        "error" => payload.get("error").is_some_and(Value::is_object),
        _ => EVENT_TYPES.contains(&kind),
    }
}

/// A whole (non-streaming) answer: a `message` object, complete with its `stop_reason` and
/// `usage`, or an `error` object.
pub(crate) fn whole(answer: &Value) -> Interpretation {
    read_whole(answer, |message: &WholeMessage| {
        if let Some(e) = message.error.as_ref().filter(|e| !e.is_null()) {
            return error(describe_error(Some(e)));
        }
        let mut out = Interpretation {
            finish_reason: owned(&message.stop_reason),
            output_tokens: message.usage.as_ref().and_then(|u| u.output_tokens.0),
            input_tokens: message.usage.as_ref().and_then(Usage::prompt),
            cached_tokens: message.usage.as_ref().and_then(|u| u.cache_read_input_tokens.0),
            done: message.kind.non_empty() == Some("message") || message.content.is_some(),
            ..Interpretation::default()
        };
        for block in message.content.iter().flatten() {
            read_block(block, &mut out);
        }
        out
    })
}

/// Text is answer, thinking reasoning, a tool use (`tool_use`, `server_tool_use`,
/// `mcp_tool_use`) its name and input; redacted thinking is encrypted, not text.
fn read_block(block: &Content, out: &mut Interpretation) {
    let push = |slot: &mut Option<String>, text: &Text| {
        if let Some(text) = text.non_empty() {
            slot.get_or_insert_with(String::new).push_str(text);
        }
    };
    match block.kind.non_empty() {
        Some("text") => push(&mut out.answer, &block.text),
        Some("thinking") => push(&mut out.reasoning, &block.thinking),
        _ => {
            let input = block.input.as_ref().filter(|i| !i.is_null()).map(Value::to_string);
            push_tool_call(out, block.name.non_empty());
            push_tool_call(out, input.as_deref());
        }
    }
}

fn interpret_payload(payload: &Payload, event_name: &str) -> Interpretation {
    match payload.kind.non_empty().unwrap_or(event_name) {
        "content_block_delta" => payload.delta.as_ref().map(block_delta).unwrap_or_default(),
        "content_block_start" => {
            payload.content_block.as_ref().map(block_start).unwrap_or_default()
        }
        "message_start" => message_start(payload),
        "message_delta" => message_delta(payload),
        "message_stop" => Interpretation { done: true, ..Interpretation::default() },
        "error" => error(describe_error(payload.error.as_ref())),
        // `ping`, `content_block_stop`, and event types added later (the guide asks clients
        // to tolerate unknown ones).
        _ => Interpretation::default(),
    }
}

/// Text, thinking, or tool input; `signature_delta` and `citations_delta` carry no
/// generated text.
fn block_delta(delta: &Delta) -> Interpretation {
    let mut out = Interpretation::default();
    match delta.kind.non_empty() {
        Some("text_delta") => out.answer = owned(&delta.text),
        Some("thinking_delta") => out.reasoning = owned(&delta.thinking),
        Some("input_json_delta") => push_tool_call(&mut out, delta.partial_json.non_empty()),
        _ => {}
    }
    out
}

/// A tool-use block (`tool_use`, `server_tool_use`, `mcp_tool_use`) opens with the tool's
/// name, which the model generated; its input follows as `input_json_delta`s. Text and
/// thinking blocks open empty.
fn block_start(block: &Block) -> Interpretation {
    let mut out = Interpretation::default();
    push_tool_call(&mut out, block.name.non_empty());
    out
}

/// Only the input count: `message_start.usage.output_tokens` is a placeholder (often 1),
/// not a count of generated tokens.
fn message_start(payload: &Payload) -> Interpretation {
    let usage = payload.message.as_ref().and_then(|m| m.usage.as_ref());
    Interpretation {
        input_tokens: usage.and_then(Usage::prompt),
        cached_tokens: usage.and_then(|u| u.cache_read_input_tokens.0),
        ..Interpretation::default()
    }
}

/// Stop reason and usage; `message_delta` counts are cumulative, so the latest is the total.
fn message_delta(payload: &Payload) -> Interpretation {
    let usage = payload.usage.as_ref();
    Interpretation {
        finish_reason: payload.delta.as_ref().and_then(|d| owned(&d.stop_reason)),
        output_tokens: usage.and_then(|u| u.output_tokens.0),
        input_tokens: usage.and_then(Usage::prompt),
        cached_tokens: usage.and_then(|u| u.cache_read_input_tokens.0),
        ..Interpretation::default()
    }
}

/// `"<error.type>: <error.message>"`, as much of it as the event has (`error` stands in for
/// a missing type).
fn describe_error(error: Option<&Value>) -> String {
    let kind = error.and_then(|e| e.get("type")).and_then(Value::as_str);
    let kind = kind.filter(|s| !s.is_empty()).unwrap_or("error");
    kind_and_message(kind, error.and_then(error_message))
}

fn owned(text: &Text) -> Option<String> {
    text.non_empty().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::protocol::Protocol;
    use crate::measure::protocol::support::testing::check_looks_like;

    fn run(name: &str, data: &str) -> Interpretation {
        let event = Event { name: name.into(), data: data.into(), id: None };
        Anthropic::new().interpret(&event)
    }

    #[test]
    fn message_start_reports_input_not_placeholder_output() {
        let i = run(
            "message_start",
            r#"{"type":"message_start","message":{"usage":{"input_tokens":25,"output_tokens":1}}}"#,
        );
        assert_eq!(i.input_tokens, Some(25));
        assert_eq!(i.output_tokens, None);
    }

    #[test]
    fn message_delta_and_stop() {
        let i = run(
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"output_tokens":42}}"#,
        );
        assert_eq!(i.output_tokens, Some(42));
        assert_eq!(i.finish_reason.as_deref(), Some("max_tokens"));
        assert!(!i.done);
        assert!(run("message_stop", r#"{"type":"message_stop"}"#).done);
    }

    #[test]
    fn ping_stop_signature_and_empty_deltas_are_nothing() {
        let nothing = Interpretation::default();
        assert_eq!(run("ping", r#"{"type": "ping"}"#), nothing);
        assert_eq!(
            run("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
            nothing
        );
        let signature = r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQB"}}"#;
        assert_eq!(run("content_block_delta", signature), nothing);
        let empty =
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""}}"#;
        assert_eq!(run("content_block_delta", empty), nothing);
        let start =
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#;
        assert_eq!(run("content_block_start", start), nothing);
        assert_eq!(run("message", ""), nothing);
        assert_eq!(run("message", "[DONE]"), nothing);
        assert_eq!(run("future_event", r#"{"type":"future_event","x":1}"#), nothing);
    }

    #[test]
    fn tool_use_name_and_input_are_tool_calls() {
        let start = run(
            "content_block_start",
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}"#,
        );
        assert_eq!(start.tool_call.as_deref(), Some("get_weather"));
        assert!(start.token_marker);
        let delta = run(
            "content_block_delta",
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\": \"Paris"}}"#,
        );
        assert_eq!(delta.tool_call.as_deref(), Some("{\"location\": \"Paris"));
        assert_eq!(delta.answer, None);
        assert!(delta.token_marker);
        let empty = run(
            "content_block_delta",
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#,
        );
        assert_eq!(empty, Interpretation::default());
    }

    #[test]
    fn error_events() {
        let overloaded =
            r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#;
        let i = run("error", overloaded);
        assert_eq!(i.error.as_deref(), Some("overloaded_error: Overloaded"));
        assert!(!i.done);
        // The SSE name stands in for a missing JSON `type`.
        let untyped = r#"{"error":{"type":"api_error","message":"Internal"}}"#;
        assert_eq!(run("error", untyped).error.as_deref(), Some("api_error: Internal"));
        assert_eq!(run("error", r#"{"type":"error"}"#).error.as_deref(), Some("error"));
        let plain = run("error", "upstream timed out");
        assert_eq!(plain.error.as_deref(), Some("error: upstream timed out"));
        assert_eq!(plain.malformed, None);
    }

    #[test]
    fn malformed_payloads() {
        let cut = r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}"#;
        assert!(run("content_block_delta", cut).malformed.unwrap().contains("not valid JSON"));
        let html = run("message", "<html>bad gateway</html>");
        assert!(html.malformed.unwrap().contains("<html>bad gateway"));
        assert!(run("message", "[1,2]").malformed.is_some());
        let long = "x".repeat(500);
        assert!(run("message", &long).malformed.unwrap().chars().count() < 120);
    }

    #[test]
    fn unexpected_field_types_read_as_absent() {
        let i = run(
            "content_block_delta",
            r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":["x"]}}"#,
        );
        assert_eq!(i, Interpretation::default());
        let i = run(
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":null},"usage":{"output_tokens":"7"}}"#,
        );
        assert_eq!(i, Interpretation::default());
        let i = run(
            "content_block_delta",
            r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"caf\u00e9"}}"#,
        );
        assert_eq!(i.answer.as_deref(), Some("café"));
    }

    #[test]
    fn looks_like_messages_events_only() {
        let yes = [
            r#"{"type":"ping"}"#,
            r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}"#,
        ];
        check_looks_like(Protocol::Anthropic, looks_like, &yes, &[r#"["message_start"]"#]);
    }
}
