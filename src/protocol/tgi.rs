//! Hugging Face Text Generation Inference `POST /generate_stream` (SSE), as its OpenAPI
//! reference describes `StreamResponse`: `token {id, text, logprob, special}`, and on the
//! last event `generated_text` and (when the request asked for `details`) `details
//! {finish_reason, generated_tokens, seed}`.
//!
//! * `token.text` of a non-special token is the answer, on every event including the last
//!   (a run cut by `max_new_tokens` ends on an ordinary token).
//! * A special token (`</s>`, `<|eot_id|>`) is not text, so it is not a content event, but it
//!   is a generated token: a token marker, which gives TTFT when nothing came before it.
//!   `generated_tokens` counts it. In practice it is the EOS on the last event.
//! * The event with a non-null `generated_text` or `details` completes the stream.
//!   `generated_text` repeats the streamed text and is never read.
//! * `details.generated_tokens` is the output count (EOS included), `finish_reason` the
//!   reason; the prompt size, from versions that report one, is the input count.
//! * `{"error": …, "error_type": …}` is an in-stream error.

use serde::Deserialize;
use serde_json::Value;

use super::Interpretation;
use super::lenient::{Count, Present, Text};
use crate::stream::Event;

/// How much of a payload a `malformed` message quotes.
const PREVIEW_CHARS: usize = 80;

/// Per-request state of the TGI adapter.
#[derive(Debug, Default)]
pub struct Tgi {}

impl Tgi {
    /// A fresh adapter.
    pub fn new() -> Self {
        Tgi::default()
    }

    /// Interprets one event, which must be a JSON object; empty data carries nothing.
    pub fn interpret(&mut self, event: &Event) -> Interpretation {
        let data = event.data.trim();
        if data.is_empty() {
            return Interpretation::default();
        }
        if !data.starts_with('{') {
            return malformed(format!("event is not a JSON object: {}", preview(data)));
        }
        match serde_json::from_str::<Chunk>(data) {
            Ok(chunk) => interpret_chunk(&chunk),
            Err(e) => malformed(format!("event is not valid JSON ({e}): {}", preview(data))),
        }
    }
}

/// The fields of a `StreamResponse` (or `ErrorResponse`) that matter.
#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(default, borrow)]
    token: Option<Token<'a>>,
    /// Only whether it is there: its text was streamed already.
    #[serde(default)]
    generated_text: Present,
    #[serde(default, borrow)]
    details: Option<Details<'a>>,
    #[serde(default, borrow)]
    error: Text<'a>,
    #[serde(default, borrow)]
    error_type: Text<'a>,
}

#[derive(Deserialize)]
struct Token<'a> {
    #[serde(default, borrow)]
    text: Text<'a>,
    #[serde(default)]
    special: Option<bool>,
}

#[derive(Deserialize)]
struct Details<'a> {
    #[serde(default, borrow)]
    finish_reason: Text<'a>,
    #[serde(default)]
    generated_tokens: Count,
    /// The prompt size, from versions that report it (`input_length`, or `prompt_tokens`).
    #[serde(default)]
    input_length: Count,
    #[serde(default)]
    prompt_tokens: Count,
}

/// Whether a stream's first JSON payload has this format's shape (used by `auto`): a
/// `token` object with `id` or `text`, a final event (`generated_text` with `details`), or
/// TGI's `{"error": "…", "error_type": "…"}`.
pub(crate) fn looks_like(payload: &Value) -> bool {
    let Some(obj) = payload.as_object() else { return false };
    let token = obj
        .get("token")
        .and_then(Value::as_object)
        .is_some_and(|t| t.contains_key("id") || t.contains_key("text"));
    let last = obj.contains_key("generated_text") && obj.contains_key("details");
    let error = obj.get("error").is_some_and(Value::is_string)
        && obj.get("error_type").is_some_and(Value::is_string);
    token || last || error
}

fn interpret_chunk(chunk: &Chunk) -> Interpretation {
    let mut out = Interpretation::default();
    if let Some(token) = &chunk.token {
        if token.special == Some(true) {
            out.token_marker = true;
        } else {
            out.answer = token.text.non_empty().map(str::to_owned);
        }
    }
    if let Some(details) = &chunk.details {
        out.output_tokens = details.generated_tokens.0;
        out.input_tokens = details.input_length.0.or(details.prompt_tokens.0);
        out.finish_reason = details.finish_reason.non_empty().map(str::to_owned);
    }
    out.done = chunk.generated_text.0 || chunk.details.is_some();
    out.error = describe_error(chunk);
    out
}

/// `"<error_type>: <error>"` for an in-stream `ErrorResponse`.
fn describe_error(chunk: &Chunk) -> Option<String> {
    let message = chunk.error.0.as_deref()?;
    Some(match (chunk.error_type.non_empty(), message) {
        (Some(kind), "") => kind.to_owned(),
        (Some(kind), message) => format!("{kind}: {message}"),
        (None, "") => "error".to_owned(),
        (None, message) => message.to_owned(),
    })
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
        output_tokens: Option<u64>,
        finish_reason: Option<String>,
        first_answer: Option<usize>,
        first_reasoning: Option<usize>,
        markers: usize,
        done: bool,
        error: Option<String>,
        malformed: Option<String>,
        events: usize,
    }

    fn one(data: &str) -> Interpretation {
        Tgi::new().interpret(&Event { name: "message".into(), data: data.into(), id: None })
    }

    fn run(events: &[Event]) -> Outcome {
        let mut adapter = Tgi::new();
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
            out.markers += usize::from(m.token_marker);
            out.output_tokens = m.output_tokens.or(out.output_tokens);
            out.finish_reason = m.finish_reason.or(out.finish_reason);
            out.done |= m.done;
            out.error = out.error.or(m.error);
            out.malformed = out.malformed.or(m.malformed);
        }
        out
    }

    /// The events of `body` fed whole, or in two reads cut at byte `cut`.
    fn frame(body: &[u8], cut: Option<usize>) -> Vec<Event> {
        let mut framer = Framer::new(Framing::Sse);
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

    #[test]
    fn fixture_generate_stream() {
        let name = "tgi-generate-stream";
        let (body, expected) = load(name);
        let whole = run(&frame(&body, None));
        assert_eq!(whole.answer, expected["text"].as_str().unwrap());
        let reasoning = (!whole.reasoning.is_empty()).then_some(whole.reasoning.as_str());
        assert_eq!(reasoning, expected["reasoning_text"].as_str());
        assert_eq!(whole.output_tokens, expected["output_tokens_reported"].as_u64());
        assert_eq!(whole.first_answer, index(&expected["first_content_event_index"]));
        assert_eq!(whole.first_reasoning, index(&expected["first_reasoning_event_index"]));
        assert_eq!(whole.done, expected["completion_seen"].as_bool().unwrap());
        assert_eq!(whole.error.as_deref(), expected["error"].as_str());
        assert_eq!(whole.malformed, None);
        assert_eq!(Some(whole.events), index(&expected["dispatched_event_count"]));
        assert_eq!(whole.finish_reason.as_deref(), Some("eos_token"));
        assert_eq!(whole.markers, 1, "the final `</s>` is a token marker");
        for cut in 0..=body.len() {
            assert_eq!(run(&frame(&body, Some(cut))), whole, "{name} cut at byte {cut}");
        }
    }

    #[test]
    fn generated_text_is_not_appended_and_completes() {
        let i = one(
            r#"{"index":3,"token":{"id":5,"text":" end","logprob":-0.1,"special":false},"generated_text":"Hello end","details":{"finish_reason":"length","generated_tokens":3,"seed":null}}"#,
        );
        assert_eq!(i.answer.as_deref(), Some(" end"), "the last ordinary token is text");
        assert!(i.done && !i.token_marker);
        assert_eq!(i.output_tokens, Some(3));
        assert_eq!(i.finish_reason.as_deref(), Some("length"));
        // Without `details: true` in the request only `generated_text` marks the end.
        let i = one(r#"{"token":{"id":2,"text":"</s>","special":true},"generated_text":""}"#);
        assert!(i.done && i.token_marker && i.answer.is_none() && i.output_tokens.is_none());
        let i = one(
            r#"{"token":{"id":1,"text":"x","special":false},"generated_text":null,"details":null}"#,
        );
        assert!(!i.done);
    }

    #[test]
    fn prompt_size_is_the_input_count() {
        let i = one(r#"{"generated_text":"x","details":{"generated_tokens":1,"input_length":7}}"#);
        assert_eq!(i.input_tokens, Some(7));
        let i = one(r#"{"generated_text":"x","details":{"generated_tokens":1,"prompt_tokens":4}}"#);
        assert_eq!(i.input_tokens, Some(4));
    }

    #[test]
    fn special_tokens_are_markers_not_text() {
        let i = one(r#"{"token":{"id":128009,"text":"<|eot_id|>","special":true}}"#);
        assert_eq!(i, Interpretation { token_marker: true, ..Interpretation::default() });
        let i = one(r#"{"token":{"id":1,"text":"","special":false}}"#);
        assert_eq!(i, Interpretation::default());
    }

    #[test]
    fn errors() {
        let i = one(
            r#"{"error":"Request failed during generation: Server error: OOM","error_type":"generation"}"#,
        );
        assert_eq!(
            i.error.as_deref(),
            Some("generation: Request failed during generation: Server error: OOM")
        );
        assert!(!i.done);
        assert_eq!(one(r#"{"error":"overloaded"}"#).error.as_deref(), Some("overloaded"));
        assert_eq!(
            one(r#"{"error":"","error_type":"validation"}"#).error.as_deref(),
            Some("validation")
        );
    }

    #[test]
    fn empty_and_malformed_payloads() {
        assert_eq!(one(""), Interpretation::default());
        assert!(one("[DONE]").malformed.unwrap().contains("[DONE]"));
        assert!(one(r#"{"token":{"text":"x"}"#).malformed.is_some());
        assert!(one(r#"{"token":"x"}"#).malformed.is_some());
        // Unexpected scalar types read as absent.
        let i = one(r#"{"token":{"text":7,"special":false},"details":{"generated_tokens":"3"}}"#);
        assert_eq!(i, Interpretation { done: true, ..Interpretation::default() });
    }

    #[test]
    fn looks_like_tgi_first_events() {
        let positives = [
            json!({"index":1,"token":{"id":22557,"text":"Deep","logprob":-0.97,"special":false},"generated_text":null,"details":null}),
            json!({"token":{"id":2,"text":"</s>","special":true},"generated_text":"","details":null}),
            json!({"generated_text":"x","details":{"generated_tokens":1}}),
            json!({"error":"Input validation error","error_type":"validation"}),
        ];
        for p in &positives {
            assert!(looks_like(p), "{p}");
        }
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
            json!({"model":"m","created_at":"t","response":"x","done":false}),
            json!({"token":"x"}),
            json!({"error":"plain"}),
        ];
        for n in &negatives {
            assert!(!looks_like(n), "{n}");
        }
    }
}
