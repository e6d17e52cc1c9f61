//! Dify service API streams: chat apps (`/chat-messages`, including agent apps and
//! chatflows), text generators (`/completion-messages`) and workflows (`/workflows/run`).
//!
//! Follows the event reference of Dify's API templates (`template_chat`,
//! `template_advanced_chat`, `template_workflow`) and the wire framing of
//! `base_app_generator.convert_to_event_stream`: every event is `data: {json}` whose
//! `"event"` field names it, and keep-alives are `event: ping` blocks without data. Some
//! proxies (and the original tool's README) also put the name on an `event:` line, so a non-default
//! SSE type wins over the JSON field.
//!
//! What counts:
//! * `message` / `agent_message` `answer` and workflow `text_chunk` `data.text` are the
//!   answer. Outputs repeated in `node_finished` and `workflow_finished` are not read again.
//! * `message_end` completes a chat: `metadata.usage.completion_tokens` and `prompt_tokens`.
//!   Workflows report only `total_tokens` (prompt + completion), so they give no count.
//! * `workflow_finished` completes a workflow; a status other than `succeeded` is an error.
//! * `error` events are errors (`code: message`).
//! * `agent_thought.thought` is not reasoning: Dify's agent runners save the text they have
//!   just streamed as `agent_message` chunks into it (or a fixed placeholder when there was
//!   none), so it would count the answer twice. Its `tool_input` is generated output that is
//!   streamed nowhere else, so it is a tool call, once per thought.
//! * `message_replace` (moderation swapping the whole answer for a preset text),
//!   `message_file`, `tts_message*`, `node_*`, `iteration_*`, `loop_*` and `ping` carry no
//!   generated text.
//!
//! In `blocking` mode the answer comes whole: a chat or completion app's message (`answer`,
//! `metadata.usage`), or a workflow run (`workflow_run_id` and `data` with `status`,
//! `outputs` and `error`; a status other than `succeeded` is an error, as above).

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::Value;

use super::Interpretation;
use super::lenient::{Count, Text};
use super::support::{DoneMarker, error, kind_or_message, read_payload, read_whole};
use crate::measure::stream::Event;

/// Event names of Dify's streaming APIs (chat, agent, completion, chatflow and workflow).
const EVENTS: &[&str] = &[
    "message",
    "agent_message",
    "agent_thought",
    "agent_log",
    "message_file",
    "message_end",
    "message_replace",
    "tts_message",
    "tts_message_end",
    "workflow_started",
    "workflow_finished",
    "node_started",
    "node_finished",
    "node_retry",
    "text_chunk",
    "text_replace",
    "iteration_started",
    "iteration_next",
    "iteration_completed",
    "loop_started",
    "loop_next",
    "loop_completed",
    "parallel_branch_started",
    "parallel_branch_finished",
    "error",
    "ping",
];

/// Top-level ids that every Dify chunk carries at least one of (the response converters add
/// them to each event).
const ID_KEYS: [&str; 4] = ["task_id", "conversation_id", "message_id", "workflow_run_id"];

/// Per-request state of the Dify adapter.
#[derive(Debug, Default)]
pub struct Dify {
    /// Ids of the agent thoughts whose tool call was already counted: Dify publishes the same
    /// thought again after saving it and after the tool answered.
    tool_thoughts: HashSet<String>,
}

impl Dify {
    /// A fresh adapter.
    pub fn new() -> Self {
        Dify::default()
    }

    /// Interprets one event: a JSON object named by its SSE type or its `"event"` field.
    pub fn interpret(&mut self, event: &Event) -> Interpretation {
        if event.name == "ping" {
            return Interpretation::default();
        }
        read_payload(&event.data, "event", DoneMarker::Malformed, |payload: &Payload| {
            self.interpret_payload(event_name(event, payload), payload)
        })
    }

    fn interpret_payload(&mut self, name: &str, payload: &Payload) -> Interpretation {
        match name {
            "message" | "agent_message" => answer(payload.answer.non_empty()),
            "text_chunk" => answer(payload.data_field(|d| &d.text, &payload.text)),
            "message_end" => message_end(payload),
            "workflow_finished" => workflow_finished(payload),
            "error" => error(describe_error(payload)),
            "agent_thought" => self.agent_thought(payload),
            _ => Interpretation::default(),
        }
    }

    /// An agent thought's tool call, the first time that thought carries one.
    fn agent_thought(&mut self, payload: &Payload) -> Interpretation {
        // `tool_input` is `{"<tool>": <arguments>}`, names included; `tool` alone otherwise.
        let Some(call) = payload.tool_input.non_empty().or(payload.tool.non_empty()) else {
            return Interpretation::default();
        };
        let id = payload.id.non_empty().unwrap_or_default();
        if !self.tool_thoughts.insert(id.to_owned()) {
            return Interpretation::default();
        }
        Interpretation {
            tool_call: Some(call.to_owned()),
            token_marker: true,
            ..Interpretation::default()
        }
    }
}

/// The fields of a Dify event that matter; everything else is skipped unparsed.
#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(default, borrow)]
    event: Text<'a>,
    /// `message` / `agent_message` delta.
    #[serde(default, borrow)]
    answer: Text<'a>,
    /// Workflow events' body.
    #[serde(default, borrow)]
    data: Option<Data<'a>>,
    /// `message_end` usage.
    #[serde(default)]
    metadata: Option<Metadata>,
    /// `error` events.
    #[serde(default, borrow)]
    code: Text<'a>,
    #[serde(default, borrow)]
    message: Text<'a>,
    /// Chat ids: a chatflow's `workflow_finished` carries them, a workflow's does not.
    #[serde(default, borrow)]
    message_id: Text<'a>,
    #[serde(default, borrow)]
    conversation_id: Text<'a>,
    /// `agent_thought` fields.
    #[serde(default, borrow)]
    id: Text<'a>,
    #[serde(default, borrow)]
    tool: Text<'a>,
    #[serde(default, borrow)]
    tool_input: Text<'a>,
    /// The original README's framing puts the inner `data` object straight in the SSE data
    /// field, so these may sit at the top level.
    #[serde(default, borrow)]
    text: Text<'a>,
    #[serde(default, borrow)]
    status: Text<'a>,
    #[serde(default, borrow)]
    error: Text<'a>,
}

/// The `data` object of workflow events.
#[derive(Deserialize)]
struct Data<'a> {
    /// `text_chunk`.
    #[serde(default, borrow)]
    text: Text<'a>,
    /// `workflow_finished`.
    #[serde(default, borrow)]
    status: Text<'a>,
    #[serde(default, borrow)]
    error: Text<'a>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    completion_tokens: Count,
    #[serde(default)]
    prompt_tokens: Count,
}

/// A whole (blocking-mode) answer: a message, a workflow run, or an error body.
#[derive(Deserialize)]
struct Blocking<'a> {
    #[serde(default, borrow)]
    answer: Text<'a>,
    #[serde(default)]
    metadata: Option<Metadata>,
    /// A workflow run.
    #[serde(default, borrow)]
    data: Option<Run<'a>>,
    #[serde(default, borrow)]
    code: Text<'a>,
    #[serde(default, borrow)]
    message: Text<'a>,
}

/// The `data` of a blocking workflow run.
#[derive(Deserialize)]
struct Run<'a> {
    #[serde(default, borrow)]
    status: Text<'a>,
    #[serde(default, borrow)]
    error: Text<'a>,
    /// The workflow's output variables, whatever their types.
    #[serde(default)]
    outputs: Option<serde_json::Map<String, Value>>,
}

impl<'a> Payload<'a> {
    /// A non-empty string from `data`, else from the same field at the top level.
    fn data_field<'s>(
        &'s self,
        field: impl Fn(&'s Data<'a>) -> &'s Text<'a>,
        top: &'s Text<'a>,
    ) -> Option<&'s str> {
        self.data.as_ref().and_then(|d| field(d).non_empty()).or(top.non_empty())
    }

    /// Whether the event belongs to a chat app (chatflows stream workflow events too).
    fn in_chat(&self) -> bool {
        self.message_id.non_empty().is_some() || self.conversation_id.non_empty().is_some()
    }
}

/// Whether a stream's first JSON payload has this format's shape (used by `auto`): a known
/// Dify event name in `"event"` plus one of the ids every Dify chunk carries.
pub(crate) fn looks_like(payload: &Value) -> bool {
    let Some(obj) = payload.as_object() else { return false };
    let known = obj.get("event").and_then(Value::as_str).is_some_and(|e| EVENTS.contains(&e));
    known && ID_KEYS.iter().any(|key| obj.contains_key(*key))
}

/// Whether a whole answer is a blocking workflow run: `workflow_run_id` and a `data` object.
pub(crate) fn looks_like_run(answer: &Value) -> bool {
    answer.get("workflow_run_id").is_some() && answer.get("data").is_some_and(Value::is_object)
}

/// A whole (blocking-mode) answer: a message with its usage, a workflow run with its
/// outputs, or Dify's `{"code", "message"}` error body.
pub(crate) fn whole(answer: &Value) -> Interpretation {
    read_whole(answer, |blocking: &Blocking| match &blocking.data {
        Some(run) => workflow_run(run),
        None if blocking.answer.0.is_some() => {
            let usage = blocking.metadata.as_ref().and_then(|m| m.usage.as_ref());
            Interpretation {
                answer: blocking.answer.non_empty().map(str::to_owned),
                output_tokens: usage.and_then(|u| u.completion_tokens.0),
                input_tokens: usage.and_then(|u| u.prompt_tokens.0),
                done: true,
                ..Interpretation::default()
            }
        }
        None => match kind_or_message(blocking.code.non_empty(), blocking.message.non_empty()) {
            Some(message) => error(message),
            None => Interpretation::default(),
        },
    })
}

/// A finished workflow run: every output variable is answer (strings as they are, other
/// values as JSON); workflows report no output count, only `total_tokens`.
fn workflow_run(run: &Run) -> Interpretation {
    let status = run.status.non_empty().unwrap_or("without a status");
    if status != "succeeded" {
        let message =
            run.error.non_empty().map_or_else(|| format!("workflow {status}"), str::to_owned);
        return error(message);
    }
    let mut text = String::new();
    for value in run.outputs.iter().flat_map(|o| o.values()) {
        match value {
            Value::String(s) => text.push_str(s),
            Value::Null => {}
            other => text.push_str(&other.to_string()),
        }
    }
    Interpretation {
        answer: (!text.is_empty()).then_some(text),
        done: true,
        ..Interpretation::default()
    }
}

/// The SSE type unless it is the default, else the payload's `"event"` string.
fn event_name<'a>(event: &'a Event, payload: &'a Payload) -> &'a str {
    if !event.name.is_empty() && event.name != "message" {
        return &event.name;
    }
    payload.event.non_empty().unwrap_or("message")
}

fn message_end(payload: &Payload) -> Interpretation {
    let usage = payload.metadata.as_ref().and_then(|m| m.usage.as_ref());
    Interpretation {
        output_tokens: usage.and_then(|u| u.completion_tokens.0),
        input_tokens: usage.and_then(|u| u.prompt_tokens.0),
        // Said once, at the end: the next turn of the conversation sends it back.
        conversation_id: payload.conversation_id.non_empty().map(str::to_owned),
        done: true,
        ..Interpretation::default()
    }
}

/// The end of a workflow run. In a chatflow, `message_end` follows with the usage and is the
/// completion marker: stopping here would lose it.
fn workflow_finished(payload: &Payload) -> Interpretation {
    let status = payload.data_field(|d| &d.status, &payload.status);
    // `partial-succeeded` (a node failed into its fallback branch) counts as an error too:
    // under load it usually means a model call failed and a default value was returned.
    let error = status.filter(|s| *s != "succeeded").map(|status| {
        let message = payload.data_field(|d| &d.error, &payload.error);
        message.map_or_else(|| format!("workflow {status}"), str::to_owned)
    });
    Interpretation { done: !payload.in_chat(), error, ..Interpretation::default() }
}

/// `"<code>: <message>"` for an `error` event, as much of it as there is (`error event`
/// when neither).
fn describe_error(payload: &Payload) -> String {
    kind_or_message(payload.code.non_empty(), payload.message.non_empty())
        .unwrap_or_else(|| "error event".to_owned())
}

fn answer(text: Option<&str>) -> Interpretation {
    Interpretation { answer: text.map(str::to_owned), ..Interpretation::default() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::protocol::Protocol;
    use crate::measure::protocol::support::testing::check_looks_like;
    use serde_json::json;

    fn event(name: &str, data: &str) -> Event {
        Event { name: name.into(), data: data.into(), id: None }
    }

    fn one(data: &str) -> Interpretation {
        Dify::new().interpret(&event("message", data))
    }

    #[test]
    fn ping_and_empty_data_mean_nothing() {
        let mut d = Dify::new();
        assert_eq!(d.interpret(&event("ping", "")), Interpretation::default());
        assert_eq!(d.interpret(&event("ping", "{}")), Interpretation::default());
        assert_eq!(d.interpret(&event("message", "  ")), Interpretation::default());
        let ping = r#"{"event":"ping","task_id":"t"}"#;
        assert_eq!(d.interpret(&event("message", ping)), Interpretation::default());
    }

    #[test]
    fn message_and_agent_message_are_answer() {
        let i = one(r#"{"event":"message","answer":"caf\u00e9","conversation_id":"c"}"#);
        assert_eq!(i.answer.as_deref(), Some("café"));
        assert_eq!(one(r#"{"event":"agent_message","answer":"x"}"#).answer.as_deref(), Some("x"));
        assert_eq!(one(r#"{"event":"message","answer":""}"#), Interpretation::default());
        // No name at all: a chat `message` is the default.
        assert_eq!(one(r#"{"answer":"y"}"#).answer.as_deref(), Some("y"));
    }

    #[test]
    fn sse_event_type_wins_over_the_json_field() {
        let mut d = Dify::new();
        let i = d.interpret(&event("message_end", r#"{"event":"message","answer":"x"}"#));
        assert!(i.done && i.answer.is_none());
    }

    #[test]
    fn message_end_reports_usage() {
        let i = one(
            r#"{"event":"message_end","metadata":{"usage":{"prompt_tokens":7,"completion_tokens":3.0,"latency":1.2}}}"#,
        );
        assert!(i.done);
        assert_eq!((i.output_tokens, i.input_tokens), (Some(3), Some(7)));
        let i = one(r#"{"event":"message_end","metadata":{"usage":null}}"#);
        assert!(i.done && i.output_tokens.is_none());
    }

    #[test]
    fn summary_events_do_not_repeat_text() {
        let mut d = Dify::new();
        let events = [
            r#"{"event":"text_chunk","workflow_run_id":"r","data":{"text":"Hi"}}"#,
            r#"{"event":"node_finished","workflow_run_id":"r","data":{"outputs":{"text":"Hi"},"status":"succeeded"}}"#,
            r#"{"event":"workflow_finished","workflow_run_id":"r","data":{"status":"succeeded","outputs":{"text":"Hi"},"total_tokens":99}}"#,
            r#"{"event":"message_replace","answer":"Blocked by moderation"}"#,
        ];
        let out: Vec<_> = events.iter().map(|e| d.interpret(&event("message", e))).collect();
        assert_eq!(out[0].answer.as_deref(), Some("Hi"));
        assert_eq!(out[1], Interpretation::default());
        assert_eq!(out[2], Interpretation { done: true, ..Interpretation::default() });
        assert_eq!(out[3], Interpretation::default());
    }

    #[test]
    fn workflow_errors() {
        let failed = r#"{"event":"workflow_finished","data":{"status":"failed","error":"429"}}"#;
        let i = one(failed);
        assert!(i.done);
        assert_eq!(i.error.as_deref(), Some("429"));
        let stopped = one(r#"{"event":"workflow_finished","data":{"status":"stopped"}}"#);
        assert_eq!(stopped.error.as_deref(), Some("workflow stopped"));
        let partial =
            r#"{"event":"workflow_finished","data":{"status":"partial-succeeded","error":null}}"#;
        assert_eq!(one(partial).error.as_deref(), Some("workflow partial-succeeded"));
        // A node that failed into its fallback branch is not the run's outcome.
        let node = r#"{"event":"node_finished","data":{"status":"failed","error":"boom"}}"#;
        assert_eq!(one(node), Interpretation::default());
    }

    #[test]
    fn chatflow_completes_at_message_end() {
        let mut d = Dify::new();
        let finished = r#"{"event":"workflow_finished","conversation_id":"c","message_id":"m","data":{"status":"succeeded"}}"#;
        assert_eq!(d.interpret(&event("message", finished)), Interpretation::default());
        let end = r#"{"event":"message_end","conversation_id":"c","message_id":"m","metadata":{"usage":{"completion_tokens":5}}}"#;
        assert_eq!(one(end).conversation_id.as_deref(), Some("c"));
        let i = d.interpret(&event("message", end));
        assert!(i.done);
        assert_eq!(i.output_tokens, Some(5));
        // A failed chatflow run is still an error.
        let failed = r#"{"event":"workflow_finished","message_id":"m","data":{"status":"failed","error":"x"}}"#;
        assert_eq!(d.interpret(&event("message", failed)).error.as_deref(), Some("x"));
    }

    #[test]
    fn seed_readme_framing_has_the_inner_object_at_the_top() {
        let mut d = Dify::new();
        let chunk = d.interpret(&event("text_chunk", r#"{"text":"Hi"}"#));
        assert_eq!(chunk.answer.as_deref(), Some("Hi"));
        let done = d.interpret(&event("workflow_finished", r#"{"outputs":{"result":"Hi"}}"#));
        assert_eq!(done, Interpretation { done: true, ..Interpretation::default() });
        let failed = d.interpret(&event("workflow_finished", r#"{"status":"failed"}"#));
        assert_eq!(failed.error.as_deref(), Some("workflow failed"));
    }

    #[test]
    fn error_events() {
        let i = one(r#"{"event":"error","status":400,"code":"invalid_param","message":"bad"}"#);
        assert_eq!(i.error.as_deref(), Some("invalid_param: bad"));
        assert!(!i.done);
        let mut d = Dify::new();
        let i = d.interpret(&event("error", r#"{"message":"mock in-stream error"}"#));
        assert_eq!(i.error.as_deref(), Some("mock in-stream error"));
        assert_eq!(one(r#"{"event":"error"}"#).error.as_deref(), Some("error event"));
    }

    #[test]
    fn agent_thoughts_give_tool_calls_once_and_no_reasoning() {
        let mut d = Dify::new();
        let mut send = |data: Value| d.interpret(&event("message", &data.to_string()));
        let first = json!({"event":"agent_thought","id":"a","position":1,"thought":"","tool":""});
        assert_eq!(send(first), Interpretation::default());
        let saved = json!({"event":"agent_thought","id":"a","thought":"Let me look","tool":"search","tool_input":"{\"search\": {\"q\": \"x\"}}"});
        let i = send(saved.clone());
        assert_eq!(i.tool_call.as_deref(), Some("{\"search\": {\"q\": \"x\"}}"));
        assert!(i.token_marker && i.reasoning.is_none() && i.answer.is_none());
        // Published again after the tool answered: already counted.
        let mut answered = saved;
        answered["observation"] = json!("result");
        assert_eq!(send(answered), Interpretation::default());
        let next = json!({"event":"agent_thought","id":"b","thought":"Final","tool":"calc"});
        assert_eq!(send(next).tool_call.as_deref(), Some("calc"));
    }

    #[test]
    fn malformed_payloads() {
        let i = one("<html>oops</html>");
        assert!(i.malformed.as_deref().unwrap().contains("<html>"));
        assert!(one(r#"{"event":"message","answer":"x""#).malformed.is_some());
        assert!(one("[1]").malformed.is_some());
        let long = format!("not json {}", "x".repeat(200));
        assert!(one(&long).malformed.unwrap().chars().count() < 150);
        // Unexpected scalar types read as absent rather than failing the event.
        let odd =
            one(r#"{"event":"message","answer":5,"metadata":{"usage":{"completion_tokens":"3"}}}"#);
        assert_eq!(odd, Interpretation::default());
    }

    #[test]
    fn looks_like_dify_events_with_dify_ids() {
        let yes = [
            r#"{"event":"agent_thought","conversation_id":"c","id":"a"}"#,
            r#"{"event":"error","message_id":"m","code":"x","message":"y"}"#,
            r#"{"event":"text_chunk","workflow_run_id":"r","data":{"text":"x"}}"#,
        ];
        let no = [
            r#"{"event":"message","data":"generic SSE without Dify ids"}"#,
            r#"{"event":"custom","task_id":"t"}"#,
            r#"["event", "message"]"#,
        ];
        check_looks_like(Protocol::Dify, looks_like, &yes, &no);
    }
}
