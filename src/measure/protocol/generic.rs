//! The generic adapter: the original tool's `stream_format` rules (`first_token_event`,
//! `completion_event`, `output_path`) plus user paths (`content_path`, `reasoning_path`,
//! `usage_path`, `error_path`, `done_marker`), for any SSE or NDJSON API.
//!
//! An event's name is its SSE `event:` type, or, when that is the default `message`, the
//! top-level `"event"` string of its JSON payload: real Dify sends `data: {"event": …}`
//! lines without `event:` fields. With no path at all, every event's data is content
//! (README, "Result file"); with `output_path` only the completion event's value there is; with
//! `content_path`/`reasoning_path` every event's value there is.

use serde_json::Value;

use super::Interpretation;
use super::format::StreamFormat;
use super::path::{extract_text, resolve, resolve_str};
use crate::measure::stream::Event;

/// Names recognised as completion when `completion_event` is not configured: the original tool
/// auto-recognises `workflow_finished`; `message_end` ends Dify chat apps.
const AUTO_COMPLETION: [&str; 2] = ["workflow_finished", "message_end"];

/// Per-request state of the generic adapter.
#[derive(Debug, Default)]
pub struct Generic {
    rules: StreamFormat,
    /// An event with a name has been seen (the original tool's fallback first-token rule).
    named_seen: bool,
    /// `auto` fell back to these rules: no event looked like any protocol.
    fallback: bool,
}

impl Generic {
    /// The adapter for the rules in `format`.
    pub fn new(format: &StreamFormat) -> Self {
        Generic { rules: format.clone(), named_seen: false, fallback: false }
    }

    /// The rules `auto` falls back to when a payload looks like no protocol.
    pub fn fallback(format: &StreamFormat) -> Self {
        Generic { fallback: true, ..Generic::new(format) }
    }

    /// Whether `auto` fell back to these rules (see [`Generic::fallback`]).
    pub fn is_fallback(&self) -> bool {
        self.fallback
    }

    /// Whether only `first_token_event` marks the first token (README, "Metrics"), so content that
    /// arrives before it does not.
    pub fn first_token_by_marker(&self) -> bool {
        self.rules.first_token_event.is_some()
    }

    /// Whether a clean EOF completes: not when a completion event or marker was configured.
    pub fn eof_completes(&self) -> bool {
        self.rules.completion_event.is_none() && self.rules.done_marker.is_none()
    }

    /// Interprets one event.
    pub fn interpret(&mut self, event: &Event) -> Interpretation {
        let rules = &self.rules;
        let data = event.data.as_str();
        let marker = rules.done_marker.as_deref();
        if data.trim() == "[DONE]" || marker.is_some_and(|m| data.trim() == m) {
            return Interpretation { done: true, ..Interpretation::default() };
        }
        let payload = parse_object(data);
        let name = event_name(event, payload.as_ref());
        let completion = match (&rules.completion_event, name) {
            (_, Some(name)) if marker == Some(name) => true,
            (Some(wanted), Some(name)) => wanted == name,
            (None, Some(name)) => AUTO_COMPLETION.contains(&name),
            (_, None) => false,
        };
        let token_marker = match &rules.first_token_event {
            Some(wanted) => name == Some(wanted.as_str()),
            // The original tool: "otherwise the first event with an event type".
            None => rules.output_path.is_some() && !self.named_seen && name.is_some(),
        };
        self.named_seen |= name.is_some();
        let at = |path: &Option<String>| {
            path.as_deref().and_then(|p| extract_text(p, data, payload.as_ref()))
        };
        let answer = match (&rules.content_path, &rules.output_path) {
            (Some(_), _) => at(&rules.content_path),
            (None, Some(_)) if completion => at(&rules.output_path),
            (None, Some(_)) => None,
            // With only a reasoning path, the rest of the data is not answer.
            (None, None) if rules.reasoning_path.is_some() => None,
            (None, None) => (!data.is_empty()).then(|| data.to_owned()),
        };
        let payload = payload.as_ref();
        let count = |path: &Option<String>| {
            path.as_deref().zip(payload).and_then(|(p, v)| resolve(v, p)).and_then(Value::as_u64)
        };
        let error = match (&rules.error_path, payload) {
            (Some(path), Some(payload)) => error_at(payload, path),
            _ => None,
        };
        Interpretation {
            answer,
            reasoning: at(&rules.reasoning_path),
            token_marker,
            output_tokens: count(&rules.usage_path),
            done: completion,
            error: error.or_else(|| payload.and_then(|p| dify_error(name, p))),
            ..Interpretation::default()
        }
    }
}

/// The error at `path`: anything but absent, `null`, `false` and `""` is one.
fn error_at(payload: &Value, path: &str) -> Option<String> {
    match resolve(payload, path)? {
        Value::Null | Value::Bool(false) => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The payload as JSON, when it is a JSON object (other data is fine: it is just text).
fn parse_object(data: &str) -> Option<Value> {
    if !data.trim_start().starts_with('{') {
        return None;
    }
    serde_json::from_str(data).ok()
}

/// The SSE type unless it is the default, else the payload's `"event"` string.
fn event_name<'a>(event: &'a Event, payload: Option<&'a Value>) -> Option<&'a str> {
    if !event.name.is_empty() && event.name != "message" {
        return Some(&event.name);
    }
    payload.and_then(|p| p.get("event")).and_then(Value::as_str)
}

/// Dify's in-stream errors: an `error` event, or a workflow that finished unsuccessfully.
fn dify_error(name: Option<&str>, payload: &Value) -> Option<String> {
    match name? {
        "error" => {
            let message = resolve_str(payload, "message").unwrap_or("error event");
            Some(match resolve_str(payload, "code") {
                Some(code) => format!("{code}: {message}"),
                None => message.to_owned(),
            })
        }
        "workflow_finished" => {
            let status = resolve_str(payload, "data.status")?;
            if status == "succeeded" {
                return None;
            }
            let message = resolve_str(payload, "data.error").filter(|m| !m.is_empty());
            Some(message.map_or_else(|| format!("workflow {status}"), str::to_owned))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, data: &str) -> Event {
        Event { name: name.into(), data: data.into(), id: None }
    }

    fn seed_format() -> StreamFormat {
        StreamFormat {
            first_token_event: Some("workflow_started".into()),
            completion_event: Some("workflow_finished".into()),
            output_path: Some("data.outputs.result".into()),
            ..StreamFormat::default()
        }
    }

    #[test]
    fn seed_example_with_sse_event_lines() {
        let mut g = Generic::new(&seed_format());
        let started = g.interpret(&event("workflow_started", r#"{"workflow_id": "123"}"#));
        assert!(started.token_marker && started.answer.is_none() && !started.done);
        let node = g.interpret(&event("node_finished", r#"{"outputs": {"result": "中间"}}"#));
        assert_eq!(node, Interpretation::default());
        let done =
            g.interpret(&event("workflow_finished", r#"{"outputs": {"result": "最终结果"}}"#));
        assert!(done.done);
        assert_eq!(done.answer.as_deref(), Some("最终结果"));
        assert!(!g.eof_completes());
    }

    #[test]
    fn real_dify_names_come_from_the_json_event_field() {
        let mut g = Generic::new(&seed_format());
        let data = r#"{"event":"workflow_finished","data":{"status":"succeeded","outputs":{"result":"ok"}}}"#;
        let done = g.interpret(&event("message", data));
        assert!(done.done && done.error.is_none());
        assert_eq!(done.answer.as_deref(), Some("ok"));
    }

    #[test]
    fn first_named_event_is_the_token_when_only_output_path_is_set() {
        let format =
            StreamFormat { output_path: Some("data.text".into()), ..StreamFormat::default() };
        let mut g = Generic::new(&format);
        assert!(!g.interpret(&event("message", "plain")).token_marker);
        assert!(g.interpret(&event("message", r#"{"event":"a"}"#)).token_marker);
        assert!(!g.interpret(&event("b", "x")).token_marker);
        // Auto-recognised completion still gets the output.
        let done = g.interpret(&event("workflow_finished", r#"{"text":"t"}"#));
        assert!(done.done);
        assert_eq!(done.answer.as_deref(), Some("t"));
        assert!(g.eof_completes());
    }

    #[test]
    fn without_output_path_all_data_is_content_except_done() {
        let mut g = Generic::new(&StreamFormat::default());
        assert_eq!(g.interpret(&event("message", "hello")).answer.as_deref(), Some("hello"));
        let done = g.interpret(&event("message", "[DONE]"));
        assert!(done.done && done.answer.is_none());
        assert!(g.interpret(&event("message_end", "{}")).done);
    }

    #[test]
    fn user_paths_give_content_reasoning_usage_errors_and_the_end() {
        let format = StreamFormat {
            content_path: Some("out.text".into()),
            reasoning_path: Some("out.think".into()),
            usage_path: Some("stats.generated".into()),
            error_path: Some("failure".into()),
            done_marker: Some("END".into()),
            ..StreamFormat::default()
        };
        let mut g = Generic::new(&format);
        assert!(!g.eof_completes());
        let i = g.interpret(&event("message", r#"{"out":{"think":"hm","text":"Hi"}}"#));
        assert_eq!((i.answer.as_deref(), i.reasoning.as_deref()), (Some("Hi"), Some("hm")));
        let i = g.interpret(&event("message", r#"{"stats":{"generated":7},"failure":null}"#));
        assert_eq!((i.answer, i.output_tokens, i.error), (None, Some(7), None));
        let i = g.interpret(&event("message", r#"{"failure":{"code":5}}"#));
        assert_eq!(i.error.as_deref(), Some(r#"{"code":5}"#));
        assert!(g.interpret(&event("message", "END")).done);
        assert!(g.interpret(&event("END", "{}")).done, "the marker may be an event name");
        assert!(g.interpret(&event("message", "plain text")).answer.is_none());
    }

    #[test]
    fn dify_errors() {
        let mut g = Generic::new(&StreamFormat::default());
        let e = g.interpret(&event(
            "message",
            r#"{"event":"error","code":"invalid_param","message":"bad"}"#,
        ));
        assert_eq!(e.error.as_deref(), Some("invalid_param: bad"));
        let data = r#"{"event":"workflow_finished","data":{"status":"failed","error":"429"}}"#;
        let f = g.interpret(&event("message", data));
        assert!(f.done);
        assert_eq!(f.error.as_deref(), Some("429"));
        let data = r#"{"event":"workflow_finished","data":{"status":"stopped"}}"#;
        assert_eq!(g.interpret(&event("message", data)).error.as_deref(), Some("workflow stopped"));
    }
}
