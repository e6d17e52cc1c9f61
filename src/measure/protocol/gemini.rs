//! Google Gemini `models/*:streamGenerateContent?alt=sse`: each SSE event is one
//! `GenerateContentResponse` (Gemini API reference, "Generating content"): text and thought
//! parts in `candidates[].content.parts[]`, `finishReason` on the candidate's last chunk,
//! and `usageMetadata`. There is no `[DONE]`; a candidate with `finishReason` completes.
//! A whole `generateContent` answer is one such response with every part in it.

use serde::Deserialize;
use serde_json::Value;

use super::Interpretation;
use super::lenient::{Count, Text};
use super::support::{
    DoneMarker, error_message, kind_and_message, push_tool_call, read_payload, read_whole,
};
use crate::measure::stream::Event;

/// Per-request state of the Gemini adapter.
#[derive(Debug, Default)]
pub struct Gemini {}

impl Gemini {
    /// A fresh adapter.
    pub fn new() -> Self {
        Gemini::default()
    }

    /// Interprets one event: every payload must be a `GenerateContentResponse` (or an
    /// `{"error": …}`) JSON object. `[DONE]` is not part of this format, but proxies that
    /// front several APIs append it: it means nothing.
    pub fn interpret(&mut self, event: &Event) -> Interpretation {
        read_payload(&event.data, "event", DoneMarker::Ignored, interpret_chunk)
    }
}

/// The fields of a `GenerateContentResponse` that matter; everything else is skipped.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Chunk<'a> {
    #[serde(default, borrow)]
    candidates: Option<Vec<Candidate<'a>>>,
    #[serde(default)]
    usage_metadata: Option<UsageMetadata>,
    /// Set instead of candidates when the prompt itself was blocked.
    #[serde(default, borrow)]
    prompt_feedback: Option<PromptFeedback<'a>>,
    /// Google's error shape, `{"code", "message", "status"}`; untyped so any shape reports.
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate<'a> {
    #[serde(default, borrow)]
    content: Option<Content<'a>>,
    #[serde(default, borrow)]
    finish_reason: Text<'a>,
    /// Omitted for the first candidate (proto3 JSON leaves out zero values).
    #[serde(default)]
    index: Count,
}

#[derive(Deserialize)]
struct Content<'a> {
    #[serde(default, borrow)]
    parts: Option<Vec<Part<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Part<'a> {
    #[serde(default, borrow)]
    text: Text<'a>,
    /// `true` on thought-summary parts. Untyped so that an odd value reads as "not a
    /// thought" instead of failing the chunk.
    #[serde(default)]
    thought: Option<Value>,
    #[serde(default, borrow)]
    function_call: Option<FunctionCall<'a>>,
    /// Code the model wrote for the code-execution tool.
    #[serde(default, borrow)]
    executable_code: Option<ExecutableCode<'a>>,
}

#[derive(Deserialize)]
struct FunctionCall<'a> {
    #[serde(default, borrow)]
    name: Text<'a>,
    /// Arbitrary JSON; rare enough that building a `Value` costs nothing that matters.
    #[serde(default)]
    args: Option<Value>,
}

#[derive(Deserialize)]
struct ExecutableCode<'a> {
    #[serde(default, borrow)]
    code: Text<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: Count,
    #[serde(default)]
    candidates_token_count: Count,
    #[serde(default)]
    thoughts_token_count: Count,
    #[serde(default)]
    cached_content_token_count: Count,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback<'a> {
    #[serde(default, borrow)]
    block_reason: Text<'a>,
}

/// Whether a stream's first JSON payload has this format's shape (used by `auto`): an
/// object with `candidates`, `usageMetadata`, `modelVersion` or `promptFeedback`. Gemini's
/// `{"error": …}` is left to the OpenAI test, which reads the same shape.
pub(crate) fn looks_like(payload: &Value) -> bool {
    let Some(object) = payload.as_object() else { return false };
    ["candidates", "usageMetadata", "modelVersion", "promptFeedback"]
        .iter()
        .any(|key| object.contains_key(*key))
}

/// A whole (non-streaming) `generateContent` answer: one `GenerateContentResponse` read as a
/// chunk, complete once it has its candidates (or the blocked prompt's feedback).
pub(crate) fn whole(answer: &Value) -> Interpretation {
    read_whole(answer, |chunk: &Chunk| {
        let mut out = interpret_chunk(chunk);
        out.done |= chunk.candidates.is_some();
        out
    })
}

fn interpret_chunk(chunk: &Chunk) -> Interpretation {
    let mut out = Interpretation::default();
    if let Some(error) = chunk.error.as_ref().filter(|e| !e.is_null()) {
        out.error = Some(describe_error(error));
    }
    // Only the first candidate: with `candidateCount` > 1 the others are alternatives, not
    // more output of the same answer.
    let first = chunk.candidates.iter().flatten().find(|c| c.index.0.unwrap_or(0) == 0);
    if let Some(candidate) = first {
        read_candidate(candidate, &mut out);
    }
    if let Some(usage) = &chunk.usage_metadata {
        read_usage(usage, &mut out);
    }
    if let Some(reason) = chunk.prompt_feedback.as_ref().and_then(|f| f.block_reason.non_empty()) {
        // A blocked prompt gets no candidate, so no `finishReason`: this is the final word,
        // as OpenAI's `content_filter` finish is.
        out.finish_reason = Some(reason.to_owned());
        out.done = true;
    }
    out
}

fn read_candidate(candidate: &Candidate, out: &mut Interpretation) {
    let parts = candidate.content.as_ref().and_then(|c| c.parts.as_ref());
    for part in parts.into_iter().flatten() {
        read_part(part, out);
    }
    if let Some(reason) = candidate.finish_reason.non_empty() {
        out.finish_reason = Some(reason.to_owned());
        out.done = true;
    }
}

/// Thought parts are reasoning, other text is answer; a function call is generated output
/// too, as its name followed by its JSON arguments.
fn read_part(part: &Part, out: &mut Interpretation) {
    if let Some(text) = part.text.non_empty() {
        let slot = match part.thought {
            Some(Value::Bool(true)) => &mut out.reasoning,
            _ => &mut out.answer,
        };
        slot.get_or_insert_with(String::new).push_str(text);
    }
    if let Some(call) = &part.function_call {
        let args = call.args.as_ref().filter(|a| !a.is_null()).map(Value::to_string);
        push_tool_call(out, call.name.non_empty());
        push_tool_call(out, args.as_deref());
    }
    if let Some(code) = &part.executable_code {
        push_tool_call(out, code.code.non_empty());
    }
}

/// Gemini's `candidatesTokenCount` leaves out thinking tokens (`thoughtsTokenCount`), while
/// OpenAI's and Anthropic's output counts include them; the sum keeps `output_tokens`
/// comparable across APIs. Nothing is reported until one of the two counts appears (early
/// chunks carry only the prompt count).
fn read_usage(usage: &UsageMetadata, out: &mut Interpretation) {
    let (candidates, thoughts) = (usage.candidates_token_count.0, usage.thoughts_token_count.0);
    if candidates.is_some() || thoughts.is_some() {
        out.output_tokens = Some(candidates.unwrap_or(0) + thoughts.unwrap_or(0));
    }
    out.reasoning_tokens = thoughts;
    out.input_tokens = usage.prompt_token_count.0;
    out.cached_tokens = usage.cached_content_token_count.0;
}

/// `"<status>: <message>"` (the status names the kind, `RESOURCE_EXHAUSTED`); the numeric
/// code, else `error`, stands in when there is no status.
fn describe_error(error: &Value) -> String {
    let status = match (error.get("status"), error.get("code")) {
        (Some(Value::String(s)), _) if !s.is_empty() => s.clone(),
        (_, Some(Value::Number(n))) => n.to_string(),
        _ => "error".to_owned(),
    };
    kind_and_message(&status, error_message(error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::protocol::Protocol;
    use crate::measure::protocol::support::testing::check_looks_like;

    fn run(data: &str) -> Interpretation {
        let event = Event { name: "message".into(), data: data.into(), id: None };
        Gemini::new().interpret(&event)
    }

    #[test]
    fn last_chunk_carries_text_finish_and_usage() {
        let i = run(
            r#"{"candidates": [{"content": {"parts": [{"text": " the lazy dog.\n"}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 8,"candidatesTokenCount": 11,"totalTokenCount": 19}}"#,
        );
        assert_eq!(i.answer.as_deref(), Some(" the lazy dog.\n"));
        assert!(i.done);
        assert_eq!(i.finish_reason.as_deref(), Some("STOP"));
        assert_eq!(
            (i.output_tokens, i.reasoning_tokens, i.input_tokens),
            (Some(11), None, Some(8))
        );
    }

    #[test]
    fn thought_parts_are_reasoning_and_usage_adds_thoughts() {
        let i = run(
            r#"{"candidates":[{"content":{"parts":[{"text":"Let me think.","thought":true},{"text":"Hi","thoughtSignature":"abc"}],"role":"model"}}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3,"thoughtsTokenCount":40}}"#,
        );
        assert_eq!(i.reasoning.as_deref(), Some("Let me think."));
        assert_eq!(i.answer.as_deref(), Some("Hi"));
        assert_eq!(i.output_tokens, Some(43));
        assert_eq!(i.reasoning_tokens, Some(40));
        assert_eq!(i.input_tokens, Some(5));
        assert!(!i.done);
        let odd = run(r#"{"candidates":[{"content":{"parts":[{"text":"x","thought":"yes"}]}}]}"#);
        assert_eq!(odd.answer.as_deref(), Some("x"));
    }

    #[test]
    fn prompt_only_usage_is_no_output_count() {
        let i = run(r#"{"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8}}"#);
        assert_eq!(i.output_tokens, None);
        assert_eq!(i.reasoning_tokens, None);
        assert_eq!(i.input_tokens, Some(8));
        let thinking_only = run(r#"{"usageMetadata":{"thoughtsTokenCount":12}}"#);
        assert_eq!(thinking_only.output_tokens, Some(12));
    }

    #[test]
    fn finish_reason_completes() {
        let i = run(
            r#"{"candidates":[{"content":{"parts":[{"text":""}]},"finishReason":"MAX_TOKENS"}]}"#,
        );
        assert!(i.done);
        assert_eq!(i.finish_reason.as_deref(), Some("MAX_TOKENS"));
        assert_eq!(i.answer, None);
        let blocked = run(
            r#"{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":3}}"#,
        );
        assert!(blocked.done);
        assert_eq!(blocked.finish_reason.as_deref(), Some("SAFETY"));
    }

    #[test]
    fn only_the_first_candidate_counts() {
        let i = run(
            r#"{"candidates":[{"index":1,"content":{"parts":[{"text":"B"}]},"finishReason":"STOP"},{"content":{"parts":[{"text":"A"}]}}]}"#,
        );
        assert_eq!(i.answer.as_deref(), Some("A"));
        assert!(!i.done);
    }

    #[test]
    fn function_calls_and_code_are_tool_calls() {
        let i = run(
            r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"get_weather","args":{"location":"Paris","unit":"celsius"}}}]}}]}"#,
        );
        assert_eq!(
            i.tool_call.as_deref(),
            Some(r#"get_weather{"location":"Paris","unit":"celsius"}"#)
        );
        assert!(i.token_marker);
        assert_eq!(i.answer, None);
        let code = run(
            r#"{"candidates":[{"content":{"parts":[{"executableCode":{"language":"PYTHON","code":"print(1)"}},{"codeExecutionResult":{"outcome":"OUTCOME_OK","output":"1\n"}}]}}]}"#,
        );
        assert_eq!(code.tool_call.as_deref(), Some("print(1)"));
        assert_eq!(code.answer, None);
    }

    #[test]
    fn empty_and_keepalive_events_are_nothing() {
        let nothing = Interpretation::default();
        assert_eq!(run(""), nothing);
        assert_eq!(run("[DONE]"), nothing);
        assert_eq!(
            run(r#"{"candidates":[{"content":{"parts":[{"text":""}],"role":"model"}}]}"#),
            nothing
        );
        assert_eq!(run(r#"{"candidates":[],"modelVersion":"gemini-2.5-pro"}"#), nothing);
        assert_eq!(run(r#"{"candidates":null,"usageMetadata":null,"error":null}"#), nothing);
    }

    #[test]
    fn error_payloads() {
        let i = run(
            r#"{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}}"#,
        );
        assert_eq!(i.error.as_deref(), Some("RESOURCE_EXHAUSTED: Resource has been exhausted"));
        assert!(!i.done);
        assert_eq!(
            run(r#"{"error":{"code":500,"message":"boom"}}"#).error.as_deref(),
            Some("500: boom")
        );
        assert_eq!(run(r#"{"error":"overloaded"}"#).error.as_deref(), Some("error: overloaded"));
    }

    #[test]
    fn malformed_payloads() {
        let cut = r#"{"candidates":[{"content":{"parts":[{"text":"x"}]}}"#;
        assert!(run(cut).malformed.unwrap().contains("not valid JSON"));
        assert!(run("<html>502</html>").malformed.unwrap().contains("<html>502"));
        assert!(run(r#"[{"candidates":[]}]"#).malformed.is_some());
    }

    #[test]
    fn looks_like_generate_content_responses_only() {
        let yes = [
            r#"{"usageMetadata":{"promptTokenCount":8}}"#,
            r#"{"modelVersion":"gemini-2.5-flash","responseId":"x"}"#,
            r#"{"promptFeedback":{"blockReason":"SAFETY"}}"#,
        ];
        let no = [
            // Gemini's error is left to the OpenAI test, which reads the same shape.
            r#"{"error":{"code":429,"message":"x","status":"RESOURCE_EXHAUSTED"}}"#,
            r#"[{"candidates":[]}]"#,
        ];
        check_looks_like(Protocol::Gemini, looks_like, &yes, &no);
    }
}
