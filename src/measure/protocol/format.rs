//! How a response body is framed and interpreted: the config's `stream_format` block and
//! `--format` ([`StreamFormat`], [`FormatKind`]). It lives with the protocols it names; the
//! config only reads it from files and flags.

use serde::Serialize;

use super::Protocol;

/// The original tool's `stream_format` block, plus `type: auto` (the default when absent) and the
/// generic adapter's paths.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StreamFormat {
    /// `auto` (default), a framing (`sse`, `ndjson`, `raw`: the generic rules on it) or a
    /// protocol (`openai-chat`, `anthropic`, …: that adapter on its own framing).
    #[serde(rename = "type")]
    pub kind: FormatKind,
    /// Event name whose arrival is the first token (the original tool's Dify behaviour).
    pub first_token_event: Option<String>,
    /// Event name that marks completion.
    pub completion_event: Option<String>,
    /// Dotted path of the output in the completion event's JSON payload, e.g.
    /// `data.outputs.result` (the original tool's).
    pub output_path: Option<String>,
    /// Dotted path of answer text in every event's JSON payload.
    pub content_path: Option<String>,
    /// Dotted path of reasoning text in every event's JSON payload.
    pub reasoning_path: Option<String>,
    /// Dotted path of the output-token count reported in an event's JSON payload.
    pub usage_path: Option<String>,
    /// Dotted path whose presence (not null, not false) makes an event an in-stream error.
    pub error_path: Option<String>,
    /// An event whose whole data, or whose event name, equals this ends the stream.
    pub done_marker: Option<String>,
    /// The largest event or line, and whole JSON answer, read (`--max-event-bytes`); `None`
    /// for the default, [`crate::measure::stream::limit::DEFAULT_MAX_EVENT_BYTES`].
    pub max_event_bytes: Option<usize>,
}

impl StreamFormat {
    /// Whether any of the generic adapter's rules or paths is set.
    pub fn has_generic_rules(&self) -> bool {
        [
            &self.first_token_event,
            &self.completion_event,
            &self.output_path,
            &self.content_path,
            &self.reasoning_path,
            &self.usage_path,
            &self.error_path,
            &self.done_marker,
        ]
        .iter()
        .any(|rule| rule.is_some())
    }

    /// The largest event or line read, in bytes: a larger one is `malformed`.
    pub fn max_event_bytes(&self) -> usize {
        self.max_event_bytes.unwrap_or(crate::measure::stream::limit::DEFAULT_MAX_EVENT_BYTES)
    }
}

/// How a response body is framed and interpreted (`stream_format.type`, `--format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FormatKind {
    /// Framing from `Content-Type`, protocol from the URL and the first payload's shape.
    #[default]
    Auto,
    /// Server-Sent Events with the generic rules (the original tool's `type: sse`).
    Sse,
    /// Newline-delimited JSON with the generic rules.
    Ndjson,
    /// Each body read is one chunk of content.
    Raw,
    /// One protocol's adapter on that protocol's framing.
    Protocol(Protocol),
}

impl FormatKind {
    /// Every accepted name, for help texts and errors.
    pub fn names() -> Vec<&'static str> {
        let mut names = vec!["auto", "sse", "ndjson", "raw"];
        names.extend(Protocol::ALL.iter().map(|p| p.name()));
        names
    }

    /// The kind named `name` (case-insensitive; `openai` means `openai-chat`).
    pub fn from_name(name: &str) -> Option<FormatKind> {
        let name = name.trim().to_ascii_lowercase();
        Some(match name.as_str() {
            "auto" => FormatKind::Auto,
            "sse" => FormatKind::Sse,
            "ndjson" | "jsonl" => FormatKind::Ndjson,
            "raw" => FormatKind::Raw,
            other => FormatKind::Protocol(Protocol::from_name(other)?),
        })
    }

    /// The name as written in configs and reports.
    pub fn name(self) -> &'static str {
        match self {
            FormatKind::Auto => "auto",
            FormatKind::Sse => "sse",
            FormatKind::Ndjson => "ndjson",
            FormatKind::Raw => "raw",
            FormatKind::Protocol(p) => p.name(),
        }
    }
}

impl Serialize for FormatKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}
