//! What the protocol adapters share: reading an event's data into the adapter's typed
//! (borrowed) payload struct, the wording of `malformed` messages and of provider errors
//! (`"<kind>: <message>"`), and the one-field [`Interpretation`]s.
//!
//! What differs per format stays explicit in the adapters: what `[DONE]` means to it (a
//! [`DoneMarker`]), its word for one payload in messages, which fields of an error object
//! name the error's kind, and what stands in when an error has neither kind nor message.

use serde::Deserialize;
use serde_json::Value;

use super::Interpretation;
use crate::measure::stream::Event;

/// How much of a payload a `malformed` or error message quotes.
const PREVIEW_CHARS: usize = 80;

/// The start of a payload, for messages: its first 80 characters, and `…` when there is more.
pub(crate) fn preview(text: &str) -> String {
    match text.char_indices().nth(PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The payload does not parse as the adapter's format.
pub(crate) fn malformed(message: String) -> Interpretation {
    Interpretation { malformed: Some(message), ..Interpretation::default() }
}

/// An in-stream error reported by the provider.
pub(crate) fn error(message: String) -> Interpretation {
    Interpretation { error: Some(message), ..Interpretation::default() }
}

/// Appends generated tool-call text (a tool's name, a piece of its arguments), unless there
/// is none. It is generated output, so the event also marks a token (see
/// [`Interpretation::token_marker`]).
pub(crate) fn push_tool_call(out: &mut Interpretation, text: Option<&str>) {
    if let Some(text) = text.filter(|t| !t.is_empty()) {
        out.tool_call.get_or_insert_with(String::new).push_str(text);
        out.token_marker = true;
    }
}

/// What the data `[DONE]` (OpenAI's end marker) means to a format.
#[derive(Debug, Clone, Copy)]
pub(crate) enum DoneMarker {
    /// The end of the stream.
    Completes,
    /// Nothing: the format has no such marker, but proxies that front several APIs append
    /// it, and failing a finished request over it would be wrong.
    Ignored,
    /// Data that is not a JSON object, malformed like any other.
    Malformed,
}

impl DoneMarker {
    /// What `data` means when it is `[DONE]` and this format gives it a meaning.
    fn meaning(self, data: &str) -> Option<Interpretation> {
        if data.trim() != "[DONE]" {
            return None;
        }
        match self {
            DoneMarker::Completes => {
                Some(Interpretation { done: true, ..Interpretation::default() })
            }
            DoneMarker::Ignored => Some(Interpretation::default()),
            DoneMarker::Malformed => None,
        }
    }
}

/// Interprets an event's data with `read`, which gets it parsed into the adapter's typed
/// payload `T`. Blank data means nothing and `[DONE]` what `done` says; data that is not one
/// JSON object of `T`'s shape is malformed: `"<what> is not a JSON object: <preview>"` or
/// `"<what> is not valid JSON (<reason>): <preview>"`, `what` being the format's word for
/// one payload (`chunk`, `event`, `line`).
pub(crate) fn read_payload<'a, T: Deserialize<'a>>(
    data: &'a str,
    what: &str,
    done: DoneMarker,
    read: impl FnOnce(&T) -> Interpretation,
) -> Interpretation {
    if let Some(meaning) = done.meaning(data) {
        return meaning;
    }
    match parse_payload(data) {
        Ok(payload) => payload.as_ref().map(read).unwrap_or_default(),
        Err(why) => unparsed(what, &why, data),
    }
}

/// [`read_payload`] for the formats whose SSE event name repeats the payload's `type`
/// (Anthropic Messages, OpenAI Responses): `read` also gets the event name, which stands in
/// for a missing `type`, and data on an `error` event that does not parse is still the
/// provider's error (a gateway may answer `event: error` with plain text), not noise.
pub(crate) fn read_named_event<'a, T: Deserialize<'a>>(
    event: &'a Event,
    done: DoneMarker,
    read: impl FnOnce(&T, &str) -> Interpretation,
) -> Interpretation {
    if let Some(meaning) = done.meaning(&event.data) {
        return meaning;
    }
    match parse_payload(&event.data) {
        Ok(payload) => payload.map(|p| read(&p, &event.name)).unwrap_or_default(),
        Err(_) if event.name == "error" => error(format!("error: {}", preview(event.data.trim()))),
        Err(why) => unparsed("event", &why, &event.data),
    }
}

/// An event's data (trimmed) as a typed payload: `Ok(None)` when it is blank, which carries
/// nothing; `Err(why)` when it is not one well-formed JSON object of that shape.
fn parse_payload<'a, T: Deserialize<'a>>(data: &'a str) -> Result<Option<T>, String> {
    let data = data.trim();
    if data.is_empty() {
        return Ok(None);
    }
    if !data.starts_with('{') {
        return Err("not a JSON object".to_owned());
    }
    serde_json::from_str(data).map(Some).map_err(|e| format!("not valid JSON ({e})"))
}

/// The malformed meaning of data that did not parse, and why.
fn unparsed(what: &str, why: &str, data: &str) -> Interpretation {
    malformed(format!("{what} is {why}: {}", preview(data.trim())))
}

/// Interprets a whole (non-streaming) answer with `read`, which gets it as the adapter's
/// typed payload `T`, borrowed from `answer`. An answer that is not a JSON object, or whose
/// fields have shapes `T` refuses, is malformed.
pub(crate) fn read_whole<'a, T: Deserialize<'a>>(
    answer: &'a Value,
    read: impl FnOnce(&T) -> Interpretation,
) -> Interpretation {
    if !answer.is_object() {
        return malformed(format!("answer is not a JSON object: {}", preview(&answer.to_string())));
    }
    match T::deserialize(answer) {
        Ok(payload) => read(&payload),
        Err(e) => malformed(format!("answer is not valid ({e}): {}", preview(&answer.to_string()))),
    }
}

/// One field of an error object as text: a non-empty string, or a number (`"code": 429`).
pub(crate) fn error_field(error: &Value, key: &str) -> Option<String> {
    match error.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// An error's message: the error itself when it is a JSON string (`"error": "overloaded"`,
/// as it is, even empty), else its `message` string unless that is empty.
pub(crate) fn error_message(error: &Value) -> Option<&str> {
    match error {
        Value::String(s) => Some(s),
        _ => error.get("message").and_then(Value::as_str).filter(|s| !s.is_empty()),
    }
}

/// `"<kind>: <message>"`, or the kind alone when the message is missing or empty.
pub(crate) fn kind_and_message(kind: &str, message: Option<&str>) -> String {
    match message.filter(|m| !m.is_empty()) {
        Some(message) => format!("{kind}: {message}"),
        None => kind.to_owned(),
    }
}

/// [`kind_and_message`] when there is a kind, else the message alone; `None` when there is
/// neither.
pub(crate) fn kind_or_message(kind: Option<&str>, message: Option<&str>) -> Option<String> {
    match kind {
        Some(kind) => Some(kind_and_message(kind, message)),
        None => message.map(str::to_owned),
    }
}

/// What the adapters' tests share.
#[cfg(test)]
pub(crate) mod testing {
    use serde_json::Value;

    use crate::measure::protocol::Protocol;

    /// Typical first payloads of each format, in-stream errors included (their shapes are
    /// what tells some formats apart).
    pub(crate) const FIRST_PAYLOADS: [(Protocol, &str); 14] = [
        (
            Protocol::OpenAiChat,
            r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"delta":{"content":"x"}}]}"#,
        ),
        (Protocol::OpenAiChat, r#"{"error":{"type":"server_error","message":"x"}}"#),
        (
            Protocol::Anthropic,
            r#"{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":1}}}"#,
        ),
        (
            Protocol::Anthropic,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        ),
        (
            Protocol::OpenAiResponses,
            r#"{"type":"response.created","response":{"id":"resp_1","status":"in_progress"},"sequence_number":0}"#,
        ),
        (
            Protocol::OpenAiResponses,
            r#"{"type":"error","code":"server_error","message":"x","param":null}"#,
        ),
        (
            Protocol::Gemini,
            r#"{"candidates":[{"content":{"parts":[{"text":"The"}],"role":"model"},"index":0}],"modelVersion":"gemini-2.0-flash"}"#,
        ),
        (Protocol::Gemini, r#"{"candidates":[{"content":{"parts":[{"text":"x"}]}}]}"#),
        (
            Protocol::Dify,
            r#"{"event":"message","conversation_id":"c","message_id":"m","task_id":"t","answer":"Hi"}"#,
        ),
        (
            Protocol::Dify,
            r#"{"event":"workflow_started","task_id":"t","workflow_run_id":"r","data":{}}"#,
        ),
        (
            Protocol::Ollama,
            r#"{"model":"llama3.2","created_at":"2025-03-01T10:00:00Z","message":{"role":"assistant","content":"Hi"},"done":false}"#,
        ),
        (
            Protocol::Ollama,
            r#"{"model":"llama3.2","created_at":"2025-03-01T10:00:00Z","response":"The","done":false}"#,
        ),
        (
            Protocol::Tgi,
            r#"{"index":1,"token":{"id":22557,"text":"Deep","logprob":-0.97,"special":false},"generated_text":null,"details":null}"#,
        ),
        (Protocol::Tgi, r#"{"error":"Input validation error","error_type":"validation"}"#),
    ];

    /// Checks a format's `looks_like`: it accepts the [`FIRST_PAYLOADS`] of `own` and `yes`, and
    /// refuses the other formats' and `no`.
    pub(crate) fn check_looks_like(
        own: Protocol,
        looks_like: fn(&Value) -> bool,
        yes: &[&str],
        no: &[&str],
    ) {
        let samples = FIRST_PAYLOADS.iter().map(|(protocol, payload)| (*protocol == own, *payload));
        let extra = yes.iter().map(|p| (true, *p)).chain(no.iter().map(|p| (false, *p)));
        for (want, payload) in samples.chain(extra) {
            let value: Value = serde_json::from_str(payload).unwrap();
            assert_eq!(looks_like(&value), want, "{payload}");
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Chunk<'a> {
        #[serde(borrow)]
        text: &'a str,
    }

    fn event(name: &str, data: &str) -> Event {
        Event { name: name.into(), data: data.into(), id: None }
    }

    #[test]
    fn preview_cuts_at_80_characters_not_bytes() {
        assert_eq!(preview("short"), "short");
        assert_eq!(preview(&"x".repeat(80)), "x".repeat(80));
        assert_eq!(preview(&"é".repeat(81)), format!("{}…", "é".repeat(80)));
    }

    #[test]
    fn tool_call_text_appends_and_marks_a_token() {
        let mut out = Interpretation::default();
        push_tool_call(&mut out, None);
        push_tool_call(&mut out, Some(""));
        assert_eq!(out, Interpretation::default());
        push_tool_call(&mut out, Some("get_weather"));
        push_tool_call(&mut out, Some("{}"));
        assert_eq!(out.tool_call.as_deref(), Some("get_weather{}"));
        assert!(out.token_marker);
    }

    #[test]
    fn parse_payload_reads_trimmed_objects_and_says_why_not() {
        assert_eq!(parse_payload::<Chunk>(" {\"text\":\"a\"}\r"), Ok(Some(Chunk { text: "a" })));
        assert_eq!(parse_payload::<Chunk>(" \r\n"), Ok(None));
        assert_eq!(parse_payload::<Chunk>("[1]"), Err("not a JSON object".to_owned()));
        let cut = parse_payload::<Chunk>("{\"text\":").unwrap_err();
        assert!(cut.starts_with("not valid JSON (EOF"), "{cut}");
        let wrong = parse_payload::<Chunk>("{}").unwrap_err();
        assert!(wrong.contains("missing field `text`"), "{wrong}");
    }

    #[test]
    fn read_payload_quotes_what_did_not_parse() {
        let read = |data| {
            read_payload(data, "line", DoneMarker::Malformed, |c: &Chunk| error(c.text.into()))
        };
        assert_eq!(read(r#"{"text":"x"}"#), error("x".to_owned()));
        assert_eq!(read("  "), Interpretation::default());
        assert_eq!(read(" <html> "), malformed("line is not a JSON object: <html>".to_owned()));
        let long = read(&format!("{{{}", "x".repeat(300))).malformed.unwrap();
        assert!(long.starts_with("line is not valid JSON ("), "{long}");
        assert!(long.ends_with(&format!(": {{{}…", "x".repeat(79))), "{long}");
    }

    #[test]
    fn done_marker_by_format() {
        let read = |done| read_payload(" [DONE]\r", "chunk", done, |_: &Chunk| error("x".into()));
        assert_eq!(
            read(DoneMarker::Completes),
            Interpretation { done: true, ..Default::default() }
        );
        assert_eq!(read(DoneMarker::Ignored), Interpretation::default());
        let bad = malformed("chunk is not a JSON object: [DONE]".to_owned());
        assert_eq!(read(DoneMarker::Malformed), bad);
    }

    #[test]
    fn read_named_event_passes_the_name_and_keeps_plain_text_errors() {
        let read = |name, data| {
            read_named_event(&event(name, data), DoneMarker::Ignored, |c: &Chunk, name: &str| {
                error(format!("{name}/{}", c.text))
            })
        };
        assert_eq!(read("delta", r#"{"text":"x"}"#), error("delta/x".to_owned()));
        assert_eq!(read("error", ""), Interpretation::default());
        assert_eq!(read("error", "[DONE]"), Interpretation::default());
        assert_eq!(read("error", " upstream reset "), error("error: upstream reset".to_owned()));
        assert_eq!(read("ping", "pong"), malformed("event is not a JSON object: pong".to_owned()));
    }

    #[test]
    fn error_fields_and_messages() {
        let e = json!({"type": "", "code": 429, "status": "RESOURCE_EXHAUSTED", "message": ""});
        assert_eq!(error_field(&e, "type"), None);
        assert_eq!(error_field(&e, "code").as_deref(), Some("429"));
        assert_eq!(error_field(&e, "status").as_deref(), Some("RESOURCE_EXHAUSTED"));
        assert_eq!(error_field(&e, "missing"), None);
        assert_eq!(error_message(&e), None);
        assert_eq!(error_message(&json!({"message": "boom"})), Some("boom"));
        assert_eq!(error_message(&json!("overloaded")), Some("overloaded"));
        assert_eq!(error_message(&json!("")), Some(""));
        assert_eq!(error_message(&json!(7)), None);
    }

    #[test]
    fn kind_and_message_join() {
        assert_eq!(
            kind_and_message("overloaded_error", Some("Overloaded")),
            "overloaded_error: Overloaded"
        );
        assert_eq!(kind_and_message("error", Some("")), "error");
        assert_eq!(kind_and_message("500", None), "500");
        assert_eq!(kind_or_message(Some("500"), Some("boom")).as_deref(), Some("500: boom"));
        assert_eq!(kind_or_message(None, Some("boom")).as_deref(), Some("boom"));
        assert_eq!(kind_or_message(None, None), None);
    }
}
