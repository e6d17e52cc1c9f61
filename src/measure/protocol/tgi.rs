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
//!
//! `POST /generate` answers whole: `{"generated_text", "details"}`, the text read from
//! `generated_text` (special tokens are not in it) and the counts from `details` as above.

use serde::Deserialize;
use serde_json::Value;

use super::Interpretation;
use super::lenient::{Count, Present, Text};
use super::support::{DoneMarker, kind_or_message, read_payload, read_whole};
use crate::measure::stream::Event;

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
        read_payload(&event.data, "event", DoneMarker::Malformed, interpret_chunk)
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

/// A whole `/generate` answer (`GenerateResponse`, or an `ErrorResponse`).
#[derive(Deserialize)]
struct Generated<'a> {
    #[serde(default, borrow)]
    generated_text: Text<'a>,
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

/// A whole `/generate` answer: `generated_text` is the answer and completes it.
pub(crate) fn whole(answer: &Value) -> Interpretation {
    read_whole(answer, |generated: &Generated| {
        let mut out = Interpretation {
            answer: generated.generated_text.non_empty().map(str::to_owned),
            done: generated.generated_text.0.is_some(),
            ..Interpretation::default()
        };
        if let Some(details) = &generated.details {
            read_details(details, &mut out);
        }
        out.error = describe_error(&generated.error, &generated.error_type);
        out
    })
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
        read_details(details, &mut out);
    }
    out.done = chunk.generated_text.0 || chunk.details.is_some();
    out.error = describe_error(&chunk.error, &chunk.error_type);
    out
}

/// The counts and finish reason of the final event or the whole answer.
fn read_details(details: &Details, out: &mut Interpretation) {
    out.output_tokens = details.generated_tokens.0;
    out.input_tokens = details.input_length.0.or(details.prompt_tokens.0);
    out.finish_reason = details.finish_reason.non_empty().map(str::to_owned);
}

/// `"<error_type>: <error>"` for an in-stream `ErrorResponse` (any string `error`, even an
/// empty one, makes the event one), as much of it as there is: `error` when both are empty.
fn describe_error(error: &Text, error_type: &Text) -> Option<String> {
    let message = Some(error.0.as_deref()?).filter(|m| !m.is_empty());
    let described = kind_or_message(error_type.non_empty(), message);
    Some(described.unwrap_or_else(|| "error".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::protocol::Protocol;
    use crate::measure::protocol::support::testing::check_looks_like;

    fn one(data: &str) -> Interpretation {
        Tgi::new().interpret(&Event { name: "message".into(), data: data.into(), id: None })
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
    fn looks_like_tgi_events() {
        let yes = [
            r#"{"token":{"id":2,"text":"</s>","special":true},"generated_text":"","details":null}"#,
            r#"{"generated_text":"x","details":{"generated_tokens":1}}"#,
        ];
        let no = [r#"{"token":"x"}"#, r#"{"error":"plain"}"#];
        check_looks_like(Protocol::Tgi, looks_like, &yes, &no);
    }
}
