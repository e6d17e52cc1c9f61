//! OpenAI chat completions: `choices[*].delta.content`, reasoning, tool calls, `usage`,
//! `[DONE]`. Also reads the legacy completions endpoint (`choices[*].text`), which every
//! OpenAI-compatible server streams the same way, and both endpoints' whole answers
//! (`chat.completion` with `choices[*].message`, `text_completion`).

use serde::Deserialize;
use serde_json::Value;

use super::lenient::{Count, Text};
use super::support::{
    DoneMarker, error_field, error_message, kind_or_message, preview, read_payload, read_whole,
};
use super::{Interpretation, Protocol};
use crate::measure::stream::Event;

/// Per-request state of the OpenAI adapter.
#[derive(Debug, Default)]
pub struct OpenAiChat {
    /// Reading the legacy completions endpoint (only the reported name differs: every
    /// OpenAI-compatible server streams both the same way).
    legacy: bool,
}

impl OpenAiChat {
    /// A fresh chat-completions adapter.
    pub fn new() -> Self {
        OpenAiChat::default()
    }

    /// A fresh legacy-completions adapter.
    pub fn completions() -> Self {
        OpenAiChat { legacy: true }
    }

    /// `openai-chat` or `openai-completions`.
    pub fn protocol(&self) -> Protocol {
        match self.legacy {
            true => Protocol::OpenAiCompletions,
            false => Protocol::OpenAiChat,
        }
    }

    /// Interprets one chunk: `[DONE]` completes, anything else must be a JSON object.
    pub fn interpret(&mut self, event: &Event) -> Interpretation {
        // An empty `data:` line carries nothing; not worth failing a request over.
        read_payload(&event.data, "chunk", DoneMarker::Completes, interpret_chunk)
    }
}

/// The fields of a chunk that matter; everything else is skipped unparsed.
#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(default, borrow)]
    choices: Option<Vec<Choice<'a>>>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<Value>,
    /// `"error"` on vLLM's older in-stream error, where the chunk is the error object itself:
    /// `{"object": "error", "message": …, "type": …, "code": …}`.
    #[serde(default, borrow)]
    object: Text<'a>,
    #[serde(default, borrow)]
    message: Text<'a>,
    #[serde(default, borrow, rename = "type")]
    kind: Text<'a>,
    #[serde(default)]
    code: Option<Value>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(default, borrow)]
    delta: Option<Delta<'a>>,
    /// A whole answer's message: the fields of a delta, all at once.
    #[serde(default, borrow)]
    message: Option<Delta<'a>>,
    /// Legacy completions.
    #[serde(default, borrow)]
    text: Text<'a>,
    #[serde(default, borrow)]
    finish_reason: Text<'a>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(default, borrow)]
    content: Text<'a>,
    /// DeepSeek, Qwen, vLLM.
    #[serde(default, borrow)]
    reasoning_content: Text<'a>,
    /// OpenRouter, newer vLLM.
    #[serde(default, borrow)]
    reasoning: Text<'a>,
    #[serde(default, borrow)]
    tool_calls: Option<Vec<ToolCall<'a>>>,
    /// The pre-tools function calling API.
    #[serde(default, borrow)]
    function_call: Option<Function<'a>>,
}

/// One tool-call delta: its name arrives first, then its arguments in pieces.
#[derive(Deserialize)]
struct ToolCall<'a> {
    #[serde(default, borrow)]
    function: Option<Function<'a>>,
}

#[derive(Deserialize)]
struct Function<'a> {
    #[serde(default, borrow)]
    name: Text<'a>,
    #[serde(default, borrow)]
    arguments: Text<'a>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: Count,
    #[serde(default)]
    completion_tokens: Count,
    #[serde(default)]
    completion_tokens_details: Option<UsageDetails>,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
    /// DeepSeek's count of prompt tokens its context cache served.
    #[serde(default)]
    prompt_cache_hit_tokens: Count,
}

#[derive(Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Count,
}

#[derive(Deserialize)]
struct UsageDetails {
    #[serde(default)]
    reasoning_tokens: Count,
}

/// Whether a first payload is a legacy completions chunk: `"object": "text_completion"`, or
/// choices with `text` and no `delta`.
pub(crate) fn looks_like_completions(payload: &Value) -> bool {
    if payload.get("object").and_then(Value::as_str) == Some("text_completion") {
        return true;
    }
    let first = payload.get("choices").and_then(Value::as_array).and_then(|c| c.first());
    first.is_some_and(|c| c.get("text").is_some() && c.get("delta").is_none())
}

/// Whether a first payload looks like OpenAI chat/completions (used by `auto`).
pub(crate) fn looks_like_openai(payload: &Value) -> bool {
    let Some(obj) = payload.as_object() else { return false };
    obj.get("choices").is_some_and(Value::is_array)
        || obj
            .get("object")
            .and_then(Value::as_str)
            .is_some_and(|o| o.starts_with("chat.completion") || o == "error")
        || obj.get("error").is_some_and(Value::is_object)
}

/// A whole (non-streaming) answer, `chat.completion` or `text_completion`: the same fields
/// as a chunk, with each choice's `message` in place of its `delta`. Its `choices` make it
/// complete.
pub(crate) fn whole(answer: &Value) -> Interpretation {
    read_whole(answer, |chunk: &Chunk| {
        let mut out = read_chunk(chunk, |choice| choice.message.as_ref());
        out.done = chunk.choices.is_some() && out.error.is_none();
        out
    })
}

fn interpret_chunk(chunk: &Chunk) -> Interpretation {
    read_chunk(chunk, |choice| choice.delta.as_ref())
}

/// Reads a chunk or a whole answer, whose choices carry their text where `text_of` says.
fn read_chunk<'c, 'a>(
    chunk: &'c Chunk<'a>,
    text_of: impl Fn(&'c Choice<'a>) -> Option<&'c Delta<'a>>,
) -> Interpretation {
    let mut out = Interpretation::default();
    if let Some(error) = chunk.error.as_ref().filter(|e| !e.is_null()) {
        out.error = Some(describe_error(error));
    } else if chunk.object.0.as_deref() == Some("error") {
        out.error = Some(describe_error_object(chunk));
    }
    for choice in chunk.choices.iter().flatten() {
        if let Some(delta) = text_of(choice) {
            push_text(&mut out.answer, &delta.content);
            // Some servers send both names with the same text; count it once.
            let reasoning = delta.reasoning_content.non_empty().or(delta.reasoning.non_empty());
            if let Some(text) = reasoning {
                out.reasoning.get_or_insert_with(String::new).push_str(text);
            }
            // Tool-call names and arguments are generated output, though not visible text.
            let calls = delta.tool_calls.iter().flatten().filter_map(|c| c.function.as_ref());
            for function in calls.chain(delta.function_call.as_ref()) {
                push_text(&mut out.tool_call, &function.name);
                push_text(&mut out.tool_call, &function.arguments);
            }
        }
        push_text(&mut out.answer, &choice.text);
        if let Some(reason) = &choice.finish_reason.0 {
            out.finish_reason = Some(reason.to_string());
        }
    }
    if let Some(usage) = &chunk.usage {
        out.output_tokens = usage.completion_tokens.0;
        out.input_tokens = usage.prompt_tokens.0;
        out.reasoning_tokens =
            usage.completion_tokens_details.as_ref().and_then(|d| d.reasoning_tokens.0);
        let cached = usage.prompt_tokens_details.as_ref().and_then(|d| d.cached_tokens.0);
        out.cached_tokens = cached.or(usage.prompt_cache_hit_tokens.0);
    }
    out
}

/// `"<type or code>: <message>"` for an in-stream `{"error": …}`, whichever of the two it
/// has; with neither, its JSON, cut short.
fn describe_error(error: &Value) -> String {
    let kind = error_field(error, "type").or_else(|| error_field(error, "code"));
    kind_or_message(kind.as_deref(), error_message(error))
        .unwrap_or_else(|| preview(&error.to_string()))
}

/// [`describe_error`] for vLLM's older error object, whose fields are the chunk's own.
fn describe_error_object(chunk: &Chunk) -> String {
    let code = match &chunk.code {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let kind = chunk.kind.non_empty().map(str::to_owned).or(code);
    kind_or_message(kind.as_deref(), chunk.message.non_empty())
        .unwrap_or_else(|| "error object without a message".to_owned())
}

fn push_text(slot: &mut Option<String>, text: &Text) {
    if let Some(text) = text.non_empty() {
        slot.get_or_insert_with(String::new).push_str(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(data: &str) -> Interpretation {
        let event = Event { name: "message".into(), data: data.into(), id: None };
        OpenAiChat::new().interpret(&event)
    }

    #[test]
    fn role_only_first_chunk_is_not_content() {
        let i = run(
            r#"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"finish_reason":null}],"usage":null}"#,
        );
        assert_eq!(i, Interpretation::default());
    }

    #[test]
    fn usage_chunk_with_empty_choices() {
        let i = run(
            r#"{"choices":[],"usage":{"prompt_tokens":19,"completion_tokens":10,"completion_tokens_details":{"reasoning_tokens":4}}}"#,
        );
        assert_eq!(i.output_tokens, Some(10));
        assert_eq!(i.reasoning_tokens, Some(4));
        assert_eq!(i.answer, None);
    }

    #[test]
    fn content_reasoning_finish_and_usage_on_one_chunk() {
        let i = run(
            r#"{"choices":[{"delta":{"content":"Hi","reasoning_content":"hm","reasoning":"hm"},"finish_reason":"stop"}],"usage":{"completion_tokens":3}}"#,
        );
        assert_eq!(i.answer.as_deref(), Some("Hi"));
        assert_eq!(i.reasoning.as_deref(), Some("hm"));
        assert_eq!(i.finish_reason.as_deref(), Some("stop"));
        assert_eq!(i.output_tokens, Some(3));
        let i = run(r#"{"choices":[{"delta":{"reasoning":"r"}}]}"#);
        assert_eq!(i.reasoning.as_deref(), Some("r"));
    }

    #[test]
    fn tool_calls_are_generated_output_but_not_answer() {
        let i = run(
            r#"{"choices":[{"delta":{"content":null,"tool_calls":[{"index":0,"function":{"name":"get","arguments":"{"}}]}}]}"#,
        );
        assert_eq!(i.tool_call.as_deref(), Some("get{"));
        assert_eq!(i.answer, None);
        assert_eq!(run(r#"{"choices":[{"delta":{"tool_calls":[]}}]}"#).tool_call, None);
        let legacy = run(r#"{"choices":[{"delta":{"function_call":{"arguments":"x"}}}]}"#);
        assert_eq!(legacy.tool_call.as_deref(), Some("x"));
    }

    #[test]
    fn unexpected_field_types_read_as_absent() {
        let i = run(
            r#"{"choices":[{"delta":{"content":[{"type":"text","text":"x"}],"tool_calls":null},"finish_reason":7}],"usage":{"completion_tokens":12.0,"completion_tokens_details":null}}"#,
        );
        assert_eq!(i.answer, None);
        assert_eq!(i.tool_call, None);
        assert_eq!(i.finish_reason, None);
        assert_eq!(i.output_tokens, Some(12));
        let i = run(r#"{"choices":null,"usage":null,"error":null}"#);
        assert_eq!(i, Interpretation::default());
        let i = run(r#"{"choices":[{"delta":{"content":"caf\u00e9 \"q\""}}]}"#);
        assert_eq!(i.answer.as_deref(), Some("café \"q\""));
        assert!(run(r#"{"choices":[{"delta":{"content":"x"}}"#).malformed.is_some());
    }

    #[test]
    fn legacy_text_done_error_and_garbage() {
        assert_eq!(run(r#"{"choices":[{"text":"\n\n"}]}"#).answer.as_deref(), Some("\n\n"));
        assert!(run("[DONE]").done);
        let e = run(r#"{"error":{"message":"Rate limit","type":"rate_limit_error","code":null}}"#);
        assert_eq!(e.error.as_deref(), Some("rate_limit_error: Rate limit"));
        let e = run(r#"{"error":{"message":"boom","code":500}}"#);
        assert_eq!(e.error.as_deref(), Some("500: boom"));
        assert!(run("<html>").malformed.is_some());
        assert!(run("[1,2]").malformed.is_some());
    }

    #[test]
    fn vllms_older_error_object_keeps_its_message() {
        let vllm = r#"{"object":"error","message":"This model's maximum context length is 4096 tokens","type":"BadRequestError","param":null,"code":400}"#;
        let e = run(vllm);
        let want = "BadRequestError: This model's maximum context length is 4096 tokens";
        assert_eq!(e.error.as_deref(), Some(want));
        let e = run(r#"{"object":"error","message":"overloaded","code":503}"#);
        assert_eq!(e.error.as_deref(), Some("503: overloaded"));
        let e = run(r#"{"object":"error"}"#);
        assert_eq!(e.error.as_deref(), Some("error object without a message"));
        assert!(looks_like_openai(&serde_json::from_str(vllm).unwrap()), "auto reads it as OpenAI");
        let whole = whole(&serde_json::from_str(vllm).unwrap());
        assert_eq!(whole.error.as_deref(), Some(want), "also as a whole answer");
        assert!(!whole.done);
        // Any other object name is no error.
        assert_eq!(run(r#"{"object":"chat.completion.chunk","message":"x"}"#).error, None);
    }
}
