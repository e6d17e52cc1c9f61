//! OpenAI Responses API streaming (`POST /v1/responses` with `"stream": true`), as the
//! "Streaming events" API reference describes it: typed semantic events (`type`, also the
//! SSE `event:` name) such as `response.output_text.delta`, ending in `response.completed`,
//! `response.incomplete` or `response.failed`. There is no `[DONE]`.
//!
//! Only `*.delta` events carry text. The `*.done`, `response.content_part.*`,
//! `response.output_item.*` and terminal events repeat it in full, so they are not read for
//! text (the one exception: a tool call's name, which no delta carries).

use serde::Deserialize;
use serde_json::Value;

use super::Interpretation;
use super::lenient::{Count, Text};
use crate::stream::Event;

/// How much of a payload a `malformed` or error message quotes.
const PREVIEW_CHARS: usize = 80;

/// Per-request state of the Responses adapter.
#[derive(Debug, Default)]
pub struct OpenAiResponses {}

impl OpenAiResponses {
    /// A fresh adapter.
    pub fn new() -> Self {
        OpenAiResponses::default()
    }

    /// Interprets one event: every payload must be a JSON object; its `type` (or, when the
    /// JSON has none, the SSE event name) says what it carries.
    pub fn interpret(&mut self, event: &Event) -> Interpretation {
        let data = event.data.trim();
        // OpenAI sends no `[DONE]` here, but compatible servers and proxies may append it;
        // failing a finished request over it would be wrong.
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

/// The fields of any streaming event that matter; everything else is skipped unparsed.
#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Text<'a>,
    /// The text of every `*.delta` event.
    #[serde(default, borrow)]
    delta: Text<'a>,
    /// `response.output_item.added`: a tool call's item names its tool.
    #[serde(default, borrow)]
    item: Option<Item<'a>>,
    /// The response object of the lifecycle events (`response.completed`, …).
    #[serde(default, borrow)]
    response: Option<Response<'a>>,
    /// The `error` event: `code`, `message`, flat in the event.
    #[serde(default, borrow)]
    code: Text<'a>,
    #[serde(default, borrow)]
    message: Text<'a>,
    /// Some compatible servers nest the `error` event's details instead.
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Item<'a> {
    #[serde(default, borrow)]
    name: Text<'a>,
}

#[derive(Deserialize)]
struct Response<'a> {
    #[serde(default, borrow)]
    status: Text<'a>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default, borrow)]
    incomplete_details: Option<IncompleteDetails<'a>>,
    /// `{"code", "message"}` on `response.failed`; untyped so any shape still reports.
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct IncompleteDetails<'a> {
    #[serde(default, borrow)]
    reason: Text<'a>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    input_tokens: Count,
    #[serde(default)]
    output_tokens: Count,
    #[serde(default)]
    output_tokens_details: Option<OutputDetails>,
}

#[derive(Deserialize)]
struct OutputDetails {
    #[serde(default)]
    reasoning_tokens: Count,
}

/// Where a `*.delta` event's text goes.
enum Slot {
    Answer,
    Reasoning,
    ToolCall,
}

/// Whether a stream's first JSON payload has this format's shape (used by `auto`): a `type`
/// starting with `response.`, or the flat `error` event (`{"type":"error","message":…}`,
/// unlike Anthropic's, which nests an `error` object).
pub(crate) fn looks_like(payload: &Value) -> bool {
    match payload.get("type").and_then(Value::as_str) {
        Some("error") => {
            payload.get("message").is_some_and(Value::is_string)
                && !payload.get("error").is_some_and(Value::is_object)
        }
        Some(kind) => kind.starts_with("response."),
        None => false,
    }
}

fn interpret_payload(payload: &Payload, event_name: &str) -> Interpretation {
    let kind = payload.kind.non_empty().unwrap_or(event_name);
    if let Some(slot) = delta_slot(kind) {
        return delta(slot, &payload.delta);
    }
    match kind {
        "response.output_item.added" => tool_name(payload.item.as_ref()),
        "response.completed" | "response.incomplete" | "response.failed" => {
            payload.response.as_ref().map(|r| finish(kind, r)).unwrap_or_else(|| finish_bare(kind))
        }
        "error" => error(describe_error_event(payload)),
        // Lifecycle (`response.created`, …), `*.done` and `*.added` summaries, tool progress
        // (`response.web_search_call.searching`, …): nothing new.
        _ => Interpretation::default(),
    }
}

/// The `*.delta` events that carry generated text, and what kind of text it is.
fn delta_slot(kind: &str) -> Option<Slot> {
    Some(match kind {
        // A refusal is the visible answer the model gave instead.
        "response.output_text.delta" | "response.refusal.delta" => Slot::Answer,
        "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
            Slot::Reasoning
        }
        "response.function_call_arguments.delta"
        | "response.custom_tool_call_input.delta"
        | "response.mcp_call_arguments.delta"
        | "response.code_interpreter_call_code.delta" => Slot::ToolCall,
        _ => return None,
    })
}

fn delta(slot: Slot, text: &Text) -> Interpretation {
    let mut out = Interpretation::default();
    let Some(text) = text.non_empty().map(str::to_owned) else { return out };
    match slot {
        Slot::Answer => out.answer = Some(text),
        Slot::Reasoning => out.reasoning = Some(text),
        Slot::ToolCall => set_tool_call(&mut out, text),
    }
    out
}

/// A function, custom-tool or MCP call item opens with the tool's name, which the model
/// generated and no delta repeats; its arguments follow as deltas.
fn tool_name(item: Option<&Item>) -> Interpretation {
    let mut out = Interpretation::default();
    if let Some(name) = item.and_then(|i| i.name.non_empty()) {
        set_tool_call(&mut out, name.to_owned());
    }
    out
}

/// A terminal event: usage, the finish reason (`incomplete_details.reason` when incomplete,
/// else the status), and completion or the failure's error.
fn finish(kind: &str, response: &Response) -> Interpretation {
    let mut out = finish_bare(kind);
    let reason = response.incomplete_details.as_ref().and_then(|d| d.reason.non_empty());
    if let Some(reason) = reason.or(response.status.non_empty()) {
        out.finish_reason = Some(reason.to_owned());
    }
    if let Some(usage) = &response.usage {
        out.output_tokens = usage.output_tokens.0;
        out.input_tokens = usage.input_tokens.0;
        out.reasoning_tokens =
            usage.output_tokens_details.as_ref().and_then(|d| d.reasoning_tokens.0);
    }
    if kind == "response.failed" {
        out.error = Some(describe_error(response.error.as_ref(), "response.failed"));
    }
    out
}

/// A terminal event without its response object: `response.failed` is still an error and
/// the others still complete.
fn finish_bare(kind: &str) -> Interpretation {
    match kind {
        "response.failed" => error("response.failed".to_owned()),
        _ => Interpretation { done: true, ..Interpretation::default() },
    }
}

/// The `error` event: flat `code`/`message`, or a nested `error` object.
fn describe_error_event(payload: &Payload) -> String {
    if let Some(nested) = payload.error.as_ref().filter(|e| e.is_object()) {
        return describe_error(Some(nested), "error");
    }
    let code = payload.code.non_empty().unwrap_or("error");
    match payload.message.non_empty() {
        Some(message) => format!("{code}: {message}"),
        None => code.to_owned(),
    }
}

/// `"<code>: <message>"` from an error object (`type` when there is no code).
fn describe_error(error: Option<&Value>, fallback: &str) -> String {
    let field = |key| match error.and_then(|e| e.get(key)) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let code = field("code").or_else(|| field("type")).unwrap_or_else(|| fallback.to_owned());
    match field("message") {
        Some(message) => format!("{code}: {message}"),
        None => code,
    }
}

/// Tool-call text is generated output, so the event also marks a token (see
/// [`Interpretation::token_marker`]).
fn set_tool_call(out: &mut Interpretation, text: String) {
    out.tool_call = Some(text);
    out.token_marker = true;
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

    fn run(data: &str) -> Interpretation {
        let name = serde_json::from_str::<Value>(data)
            .ok()
            .and_then(|v| v["type"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "message".to_owned());
        run_named(&name, data)
    }

    fn run_named(name: &str, data: &str) -> Interpretation {
        let event = Event { name: name.into(), data: data.into(), id: None };
        OpenAiResponses::new().interpret(&event)
    }

    /// What a whole stream produced, in the terms of a fixture's `expected`.
    #[derive(Debug, Default, PartialEq)]
    struct Outcome {
        text: String,
        reasoning: Option<String>,
        output_tokens: Option<u64>,
        reasoning_tokens: Option<u64>,
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
        let mut adapter = OpenAiResponses::new();
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
            o.reasoning_tokens = i.reasoning_tokens.or(o.reasoning_tokens);
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
        if let Some(n) = want.get("reasoning_tokens_reported") {
            assert_eq!(got.reasoning_tokens, n.as_u64(), "{name}: reasoning tokens");
        }
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
        let got = check_fixture("openai-responses-basic");
        assert_eq!(got.input_tokens, Some(37));
        assert_eq!(got.finish_reason.as_deref(), Some("completed"));
    }

    #[test]
    fn fixture_reasoning_summary() {
        let got = check_fixture("openai-responses-reasoning-summary");
        assert_eq!(got.reasoning_tokens, Some(192));
    }

    #[test]
    fn summary_events_do_not_repeat_text() {
        let nothing = Interpretation::default();
        let summaries = [
            r#"{"type":"response.output_text.done","item_id":"m","output_index":0,"content_index":0,"text":"Hi there"}"#,
            r#"{"type":"response.content_part.done","part":{"type":"output_text","text":"Hi there"}}"#,
            r#"{"type":"response.output_item.done","item":{"type":"message","content":[{"type":"output_text","text":"Hi there"}]}}"#,
            r#"{"type":"response.reasoning_summary_text.done","text":"hm"}"#,
            r#"{"type":"response.function_call_arguments.done","name":"f","arguments":"{}"}"#,
            r#"{"type":"response.output_item.added","item":{"type":"message","content":[]}}"#,
            r#"{"type":"response.created","response":{"status":"in_progress","usage":null}}"#,
        ];
        for summary in summaries {
            assert_eq!(run(summary), nothing, "{summary}");
        }
        let completed = run(
            r#"{"type":"response.completed","response":{"status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":"Hi there"}]}],"usage":{"input_tokens":5,"output_tokens":2}}}"#,
        );
        assert_eq!(completed.answer, None);
        assert!(completed.done);
        assert_eq!(completed.output_tokens, Some(2));
        assert_eq!(completed.reasoning_tokens, None);
    }

    #[test]
    fn deltas_by_kind_and_empty_deltas() {
        let answer = run(r#"{"type":"response.output_text.delta","delta":"Hi"}"#);
        assert_eq!(answer.answer.as_deref(), Some("Hi"));
        let refusal = run(r#"{"type":"response.refusal.delta","delta":"I can't"}"#);
        assert_eq!(refusal.answer.as_deref(), Some("I can't"));
        let reasoning = run(r#"{"type":"response.reasoning_text.delta","delta":"hm"}"#);
        assert_eq!(reasoning.reasoning.as_deref(), Some("hm"));
        assert_eq!(reasoning.answer, None);
        let empty = run(r#"{"type":"response.output_text.delta","delta":""}"#);
        assert_eq!(empty, Interpretation::default());
        // Without a JSON `type`, the SSE event name decides.
        let untyped = run_named("response.output_text.delta", r#"{"delta":"x"}"#);
        assert_eq!(untyped.answer.as_deref(), Some("x"));
        assert_eq!(run(""), Interpretation::default());
        assert_eq!(run("[DONE]"), Interpretation::default());
    }

    #[test]
    fn function_call_name_and_arguments_are_tool_calls() {
        let added = run(
            r#"{"type":"response.output_item.added","output_index":0,"item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"get_weather","arguments":""}}"#,
        );
        assert_eq!(added.tool_call.as_deref(), Some("get_weather"));
        assert!(added.token_marker);
        let args = run(
            r#"{"type":"response.function_call_arguments.delta","item_id":"fc_1","delta":"{\"location\":"}"#,
        );
        assert_eq!(args.tool_call.as_deref(), Some("{\"location\":"));
        assert!(args.token_marker);
        assert_eq!(args.answer, None);
        let empty = run(r#"{"type":"response.function_call_arguments.delta","delta":""}"#);
        assert_eq!(empty, Interpretation::default());
    }

    #[test]
    fn incomplete_completes_with_its_reason() {
        let i = run(
            r#"{"type":"response.incomplete","response":{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"usage":{"input_tokens":9,"output_tokens":16,"output_tokens_details":{"reasoning_tokens":16}}}}"#,
        );
        assert!(i.done);
        assert_eq!(i.finish_reason.as_deref(), Some("max_output_tokens"));
        assert_eq!(i.output_tokens, Some(16));
        assert_eq!(i.reasoning_tokens, Some(16));
        assert_eq!(i.error, None);
    }

    #[test]
    fn failed_and_error_events() {
        let failed = run(
            r#"{"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":"The model failed"},"usage":null}}"#,
        );
        assert_eq!(failed.error.as_deref(), Some("server_error: The model failed"));
        assert!(!failed.done);
        let bare = run(r#"{"type":"response.failed","response":{"status":"failed","error":null}}"#);
        assert_eq!(bare.error.as_deref(), Some("response.failed"));
        let flat = run(
            r#"{"type":"error","code":"rate_limit_exceeded","message":"Slow down","param":null,"sequence_number":1}"#,
        );
        assert_eq!(flat.error.as_deref(), Some("rate_limit_exceeded: Slow down"));
        let no_code = run(r#"{"type":"error","code":null,"message":"Oops"}"#);
        assert_eq!(no_code.error.as_deref(), Some("error: Oops"));
        let nested = run(
            r#"{"type":"error","error":{"type":"invalid_request_error","code":null,"message":"Bad"}}"#,
        );
        assert_eq!(nested.error.as_deref(), Some("invalid_request_error: Bad"));
        let plain = run_named("error", "upstream reset");
        assert_eq!(plain.error.as_deref(), Some("error: upstream reset"));
    }

    #[test]
    fn malformed_payloads() {
        let cut = r#"{"type":"response.output_text.delta","delta":"x""#;
        assert!(run_named("response.output_text.delta", cut).malformed.unwrap().contains("JSON"));
        assert!(run("not json").malformed.unwrap().contains("not json"));
        assert!(run("[1]").malformed.is_some());
    }

    #[test]
    fn looks_like_responses_events_only() {
        let yes = [
            r#"{"type":"response.created","response":{"id":"resp_1","status":"in_progress"},"sequence_number":0}"#,
            r#"{"type":"response.output_text.delta","delta":"x"}"#,
            r#"{"type":"error","code":"server_error","message":"x","param":null}"#,
        ];
        let no = [
            r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"delta":{"content":"x"}}]}"#,
            r#"{"error":{"type":"server_error","message":"x"}}"#,
            r#"{"event":"message","answer":"x","conversation_id":"c"}"#,
            r#"{"model":"llama3","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"x"},"done":false}"#,
            r#"{"index":1,"token":{"id":1,"text":"x","special":false}}"#,
            r#"{"type":"message_start","message":{"id":"msg_1"}}"#,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            r#"{"candidates":[],"modelVersion":"gemini-2.0-flash"}"#,
            r#"{"type":"responses"}"#,
        ];
        for payload in yes {
            assert!(looks_like(&serde_json::from_str(payload).unwrap()), "{payload}");
        }
        for payload in no {
            assert!(!looks_like(&serde_json::from_str(payload).unwrap()), "{payload}");
        }
    }
}
