//! OpenAI Responses API streaming (`POST /v1/responses` with `"stream": true`), as the
//! "Streaming events" API reference describes it: typed semantic events (`type`, also the
//! SSE `event:` name) such as `response.output_text.delta`, ending in `response.completed`,
//! `response.incomplete` or `response.failed`. There is no `[DONE]`.
//!
//! Only `*.delta` events carry text. The `*.done`, `response.content_part.*`,
//! `response.output_item.*` and terminal events repeat it in full, so they are not read for
//! text (the one exception: a tool call's name, which no delta carries).
//!
//! A whole (non-streaming) answer is the `response` object itself: its `output` items hold
//! the text (`message` content, `reasoning` summary and content, tool calls) and its
//! `status`, `usage` and `error` mean what they mean in the terminal events.

use serde::Deserialize;
use serde_json::Value;

use super::Interpretation;
use super::lenient::{Count, Text};
use super::support::{
    DoneMarker, error, error_field, kind_and_message, push_tool_call, read_named_event, read_whole,
};
use crate::measure::stream::Event;

/// Per-request state of the Responses adapter.
#[derive(Debug, Default)]
pub struct OpenAiResponses {}

impl OpenAiResponses {
    /// A fresh adapter.
    pub fn new() -> Self {
        OpenAiResponses::default()
    }

    /// Interprets one event: every payload must be a JSON object; its `type` (or, when the
    /// JSON has none, the SSE event name) says what it carries. OpenAI sends no `[DONE]`
    /// here, but compatible servers and proxies may append it: it means nothing.
    pub fn interpret(&mut self, event: &Event) -> Interpretation {
        read_named_event(event, DoneMarker::Ignored, interpret_payload)
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

/// `response.output_item.added`: only a tool call's name is read.
#[derive(Deserialize)]
struct Item<'a> {
    #[serde(default, borrow)]
    name: Text<'a>,
}

/// An output item of a whole answer: everything it generated.
#[derive(Deserialize)]
struct OutputItem<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Text<'a>,
    #[serde(default, borrow)]
    name: Text<'a>,
    /// `message` parts (`output_text`, `refusal`), `reasoning` parts (`reasoning_text`).
    #[serde(default, borrow)]
    content: Option<Vec<Part<'a>>>,
    /// `reasoning` summary parts (`summary_text`).
    #[serde(default, borrow)]
    summary: Option<Vec<Part<'a>>>,
    /// Function and MCP calls.
    #[serde(default, borrow)]
    arguments: Text<'a>,
    /// Custom tool calls.
    #[serde(default, borrow)]
    input: Text<'a>,
    /// Code interpreter calls.
    #[serde(default, borrow)]
    code: Text<'a>,
}

#[derive(Deserialize)]
struct Part<'a> {
    #[serde(default, borrow)]
    text: Text<'a>,
    #[serde(default, borrow)]
    refusal: Text<'a>,
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

/// A whole answer: the `response` object; its `output` is read only here, since the
/// terminal events repeat the streamed text in it.
#[derive(Deserialize)]
struct WholeResponse<'a> {
    #[serde(flatten, borrow)]
    response: Response<'a>,
    #[serde(default, borrow)]
    output: Option<Vec<OutputItem<'a>>>,
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
    #[serde(default)]
    input_tokens_details: Option<InputDetails>,
}

#[derive(Deserialize)]
struct InputDetails {
    #[serde(default)]
    cached_tokens: Count,
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

/// A whole (non-streaming) answer: a `response` object, complete when its status says so
/// (`completed`, `incomplete`), a failure when `failed` or carrying an error, or a bare
/// `{"error": …}`.
pub(crate) fn whole(answer: &Value) -> Interpretation {
    read_whole(answer, |whole: &WholeResponse| {
        let response = &whole.response;
        let failed = response.error.as_ref().is_some_and(|e| !e.is_null());
        let kind = match (response.status.non_empty(), failed) {
            (_, true) | (Some("failed"), _) => "response.failed",
            (Some("completed"), _) => "response.completed",
            (Some("incomplete"), _) => "response.incomplete",
            (Some(status), _) => {
                return error(format!("response status {status}: not a finished answer"));
            }
            (None, false) => return Interpretation::default(),
        };
        let mut out = finish(kind, response);
        for item in whole.output.iter().flatten() {
            read_item(item, &mut out);
        }
        out
    })
}

/// What one output item of a whole answer generated.
fn read_item(item: &OutputItem, out: &mut Interpretation) {
    let parts = |parts: &Option<Vec<Part>>, slot: &mut Option<String>| {
        for part in parts.iter().flatten() {
            if let Some(text) = part.text.non_empty().or(part.refusal.non_empty()) {
                slot.get_or_insert_with(String::new).push_str(text);
            }
        }
    };
    match item.kind.non_empty() {
        Some("message") => parts(&item.content, &mut out.answer),
        Some("reasoning") => {
            parts(&item.summary, &mut out.reasoning);
            parts(&item.content, &mut out.reasoning);
        }
        _ => {
            push_tool_call(out, item.name.non_empty());
            for text in [&item.arguments, &item.input, &item.code] {
                push_tool_call(out, text.non_empty());
            }
        }
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
    let Some(text) = text.non_empty() else { return out };
    match slot {
        Slot::Answer => out.answer = Some(text.to_owned()),
        Slot::Reasoning => out.reasoning = Some(text.to_owned()),
        Slot::ToolCall => push_tool_call(&mut out, Some(text)),
    }
    out
}

/// A function, custom-tool or MCP call item opens with the tool's name, which the model
/// generated and no delta repeats; its arguments follow as deltas.
fn tool_name(item: Option<&Item>) -> Interpretation {
    let mut out = Interpretation::default();
    push_tool_call(&mut out, item.and_then(|i| i.name.non_empty()));
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
        out.cached_tokens = usage.input_tokens_details.as_ref().and_then(|d| d.cached_tokens.0);
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
    kind_and_message(payload.code.non_empty().unwrap_or("error"), payload.message.non_empty())
}

/// `"<code>: <message>"` from an error object (`type` when there is no code).
fn describe_error(error: Option<&Value>, fallback: &str) -> String {
    let field = |key| error.and_then(|e| error_field(e, key));
    let code = field("code").or_else(|| field("type"));
    kind_and_message(code.as_deref().unwrap_or(fallback), field("message").as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::protocol::Protocol;
    use crate::measure::protocol::support::testing::check_looks_like;

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
    fn completed_reports_its_status_and_usage() {
        let i = run(
            r#"{"type":"response.completed","response":{"status":"completed","error":null,"incomplete_details":null,"usage":{"input_tokens":37,"input_tokens_details":{"cached_tokens":0},"output_tokens":11,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":48}}}"#,
        );
        assert!(i.done);
        assert_eq!(i.finish_reason.as_deref(), Some("completed"));
        assert_eq!(
            (i.input_tokens, i.output_tokens, i.reasoning_tokens),
            (Some(37), Some(11), Some(0))
        );
        assert_eq!(i.error, None);
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
        let yes = [r#"{"type":"response.output_text.delta","delta":"x"}"#];
        let no = [r#"{"type":"responses"}"#];
        check_looks_like(Protocol::OpenAiResponses, looks_like, &yes, &no);
    }
}
