//! Anthropic Messages streaming (`POST /v1/messages` with `"stream": true`), as the Messages
//! streaming guide describes it: `message_start`, then per content block
//! `content_block_start` / `content_block_delta`* / `content_block_stop`, then
//! `message_delta` (stop reason and cumulative usage) and `message_stop`, with `ping` and
//! `error` events possible anywhere. Each SSE event's `event:` name repeats the JSON `type`.

use serde::Deserialize;
use serde_json::Value;

use super::Interpretation;
use super::lenient::{Count, Text};
use crate::stream::Event;

/// How much of a payload a `malformed` or error message quotes.
const PREVIEW_CHARS: usize = 80;

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
    /// JSON has none, the SSE event name) says what it carries.
    pub fn interpret(&mut self, event: &Event) -> Interpretation {
        let data = event.data.trim();
        // `[DONE]` is not part of this format, but proxies that front several APIs append
        // it; failing a finished request over it would be wrong.
        if data.is_empty() || data == "[DONE]" {
            return Interpretation::default();
        }
        let parsed = if data.starts_with('{') {
            serde_json::from_str::<Payload>(data).map_err(|e| format!("not valid JSON ({e})"))
        } else {
            Err("not a JSON object".to_owned())
        };
        match parsed {
            Ok(payload) => interpret_payload(&payload, &event.name),
            // A gateway may answer `event: error` with plain text: still an error, not noise.
            Err(_) if event.name == "error" => error(format!("error: {}", preview(data))),
            Err(why) => malformed(format!("event is {why}: {}", preview(data))),
        }
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

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    input_tokens: Count,
    #[serde(default)]
    output_tokens: Count,
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
        Some("input_json_delta") => set_tool_call(&mut out, &delta.partial_json),
        _ => {}
    }
    out
}

/// A tool-use block (`tool_use`, `server_tool_use`, `mcp_tool_use`) opens with the tool's
/// name, which the model generated; its input follows as `input_json_delta`s. Text and
/// thinking blocks open empty.
fn block_start(block: &Block) -> Interpretation {
    let mut out = Interpretation::default();
    set_tool_call(&mut out, &block.name);
    out
}

/// Only the input count: `message_start.usage.output_tokens` is a placeholder (often 1),
/// not a count of generated tokens.
fn message_start(payload: &Payload) -> Interpretation {
    let usage = payload.message.as_ref().and_then(|m| m.usage.as_ref());
    Interpretation {
        input_tokens: usage.and_then(|u| u.input_tokens.0),
        ..Interpretation::default()
    }
}

/// Stop reason and usage; `message_delta` counts are cumulative, so the latest is the total.
fn message_delta(payload: &Payload) -> Interpretation {
    let usage = payload.usage.as_ref();
    Interpretation {
        finish_reason: payload.delta.as_ref().and_then(|d| owned(&d.stop_reason)),
        output_tokens: usage.and_then(|u| u.output_tokens.0),
        input_tokens: usage.and_then(|u| u.input_tokens.0),
        ..Interpretation::default()
    }
}

/// `"<error.type>: <error.message>"`, as much of it as the event has.
fn describe_error(error: Option<&Value>) -> String {
    let field = |key| error.and_then(|e| e.get(key)).and_then(Value::as_str);
    let kind = field("type").filter(|s| !s.is_empty()).unwrap_or("error");
    let message = match error {
        Some(Value::String(text)) => Some(text.as_str()),
        _ => field("message"),
    };
    match message.filter(|s| !s.is_empty()) {
        Some(message) => format!("{kind}: {message}"),
        None => kind.to_owned(),
    }
}

/// Tool-call text is generated output, so the event also marks a token (see
/// [`Interpretation::token_marker`]).
fn set_tool_call(out: &mut Interpretation, text: &Text) {
    if let Some(text) = text.non_empty() {
        out.tool_call = Some(text.to_owned());
        out.token_marker = true;
    }
}

fn owned(text: &Text) -> Option<String> {
    text.non_empty().map(str::to_owned)
}

fn error(message: String) -> Interpretation {
    Interpretation { error: Some(message), ..Interpretation::default() }
}

fn malformed(message: String) -> Interpretation {
    Interpretation { malformed: Some(message), ..Interpretation::default() }
}

/// The start of a payload, for messages.
fn preview(text: &str) -> String {
    match text.char_indices().nth(PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;
    use crate::stream::{Framer, Framing};

    fn run(name: &str, data: &str) -> Interpretation {
        let event = Event { name: name.into(), data: data.into(), id: None };
        Anthropic::new().interpret(&event)
    }

    /// What a whole stream produced, in the terms of a fixture's `expected`.
    #[derive(Debug, Default, PartialEq)]
    struct Outcome {
        text: String,
        reasoning: Option<String>,
        output_tokens: Option<u64>,
        input_tokens: Option<u64>,
        finish_reason: Option<String>,
        first_content: Option<usize>,
        first_reasoning: Option<usize>,
        done: bool,
        error: Option<String>,
        events: usize,
    }

    /// Frames `body` (in two reads when `cut` is set) and interprets every event.
    fn run_body(body: &[u8], cut: Option<usize>) -> Outcome {
        let mut framer = Framer::new(Framing::Sse);
        let mut events = Vec::new();
        match cut {
            Some(at) => {
                framer.feed(&body[..at], &mut events);
                framer.feed(&body[at..], &mut events);
            }
            None => framer.feed(body, &mut events),
        }
        framer.finish(&mut events);
        let mut adapter = Anthropic::new();
        let mut o = Outcome { events: events.len(), ..Outcome::default() };
        for (index, event) in events.iter().enumerate() {
            let i = adapter.interpret(event);
            assert_eq!(i.malformed, None, "event {index}");
            if let Some(answer) = i.answer {
                o.first_content.get_or_insert(index);
                o.text.push_str(&answer);
            }
            if let Some(reasoning) = i.reasoning {
                o.first_reasoning.get_or_insert(index);
                o.reasoning.get_or_insert_with(String::new).push_str(&reasoning);
            }
            o.output_tokens = i.output_tokens.or(o.output_tokens);
            o.input_tokens = i.input_tokens.or(o.input_tokens);
            o.finish_reason = i.finish_reason.or(o.finish_reason.take());
            o.done |= i.done;
            o.error = i.error.or(o.error.take());
        }
        o
    }

    /// Runs a provider fixture whole and split at every byte, checking `expected`.
    fn check_fixture(name: &str) -> Outcome {
        let path = format!("{}/tests/fixtures/providers/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let fixture: Value = serde_json::from_str(&text).unwrap();
        let body = base64::engine::general_purpose::STANDARD
            .decode(fixture["body_b64"].as_str().unwrap())
            .unwrap();
        let want = &fixture["expected"];
        let got = run_body(&body, None);
        let index = |key: &str| want[key].as_u64().map(|n| n as usize);
        assert_eq!(got.text, want["text"].as_str().unwrap_or_default(), "{name}: text");
        assert_eq!(got.reasoning.as_deref(), want["reasoning_text"].as_str(), "{name}");
        assert_eq!(got.output_tokens, want["output_tokens_reported"].as_u64(), "{name}");
        assert_eq!(got.first_content, index("first_content_event_index"), "{name}");
        assert_eq!(got.first_reasoning, index("first_reasoning_event_index"), "{name}");
        assert_eq!(got.done, want["completion_seen"].as_bool().unwrap(), "{name}: done");
        assert_eq!(Some(got.events as u64), want["dispatched_event_count"].as_u64(), "{name}");
        match (&got.error, want["error"].as_str()) {
            (None, None) => {}
            (Some(g), Some(w)) => assert!(g.contains(w.split(": ").next().unwrap()), "{g}"),
            (g, w) => panic!("{name}: error {g:?}, expected {w:?}"),
        }
        for at in 1..body.len() {
            assert_eq!(run_body(&body, Some(at)), got, "{name}: split at {at}");
        }
        got
    }

    #[test]
    fn fixture_basic() {
        let got = check_fixture("anthropic-messages-basic");
        assert_eq!(got.input_tokens, Some(25));
        assert_eq!(got.finish_reason.as_deref(), Some("end_turn"));
    }

    #[test]
    fn fixture_thinking() {
        let got = check_fixture("anthropic-messages-thinking");
        assert_eq!(got.output_tokens, Some(186));
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
            r#"{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":1}}}"#,
            r#"{"type":"ping"}"#,
            r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}"#,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        ];
        let no = [
            r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"delta":{"content":"x"}}]}"#,
            r#"{"error":{"type":"server_error","message":"x"}}"#,
            r#"{"event":"message","answer":"x","conversation_id":"c"}"#,
            r#"{"model":"llama3","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"x"},"done":false}"#,
            r#"{"index":1,"token":{"id":1,"text":"x","special":false}}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"x"}]}}],"modelVersion":"gemini-2.0-flash"}"#,
            r#"{"type":"response.created","response":{"id":"resp_1"}}"#,
            r#"{"type":"error","code":"server_error","message":"x"}"#,
            r#"["message_start"]"#,
        ];
        for payload in yes {
            assert!(looks_like(&serde_json::from_str(payload).unwrap()), "{payload}");
        }
        for payload in no {
            assert!(!looks_like(&serde_json::from_str(payload).unwrap()), "{payload}");
        }
    }
}
