//! Protocol adapters: events → what they mean for measurement (content, usage, completion,
//! error). `openai` reads chat-completion chunks; `generic` applies the seed's `stream_format`
//! rules (Dify and any other SSE API); `raw` treats every chunk as content.

pub mod generic;
pub mod openai;

use crate::config::StreamFormat;
use crate::stream::{Event, Framing};

/// What one event means. Empty strings are never content.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Interpretation {
    /// Visible answer text carried by the event.
    pub answer: Option<String>,
    /// Reasoning ("thinking") text carried by the event.
    pub reasoning: Option<String>,
    /// The event counts as the first token even without content (the seed's
    /// `first_token_event`, or a tool-call delta).
    pub token_marker: bool,
    /// Output tokens reported by the API (the latest report wins).
    pub output_tokens: Option<u64>,
    /// Reasoning tokens reported by the API.
    pub reasoning_tokens: Option<u64>,
    /// Finish reason, when the API states one.
    pub finish_reason: Option<String>,
    /// The completion marker (`[DONE]`, the `completion_event`, …).
    pub done: bool,
    /// An in-stream error reported by the provider.
    pub error: Option<String>,
    /// The payload does not parse as the adapter's format.
    pub malformed: Option<String>,
}

/// Turns the events of one response into [`Interpretation`]s. One adapter per request.
#[derive(Debug)]
pub enum Adapter {
    /// Not decided yet (`auto` over SSE): decided by the first event with data.
    Auto(AutoState),
    /// OpenAI chat completions.
    OpenAi(openai::OpenAiChat),
    /// The seed's generic SSE rules.
    Generic(generic::Generic),
    /// Every raw chunk is content; EOF completes.
    Raw,
}

/// State for `Adapter::Auto`.
#[derive(Debug, Clone)]
pub struct AutoState {
    format: StreamFormat,
}

impl Adapter {
    /// The adapter for a response with `framing`, as configured by `format`.
    pub fn new(format: &StreamFormat, framing: Framing) -> Self {
        let _ = (format, framing);
        todo!()
    }

    /// Interprets one event.
    pub fn interpret(&mut self, event: &Event) -> Interpretation {
        let _ = event;
        todo!()
    }

    /// Whether a clean end of body without a completion marker counts as complete.
    pub fn eof_completes(&self) -> bool {
        todo!()
    }

    /// The adapter's name for reports: `openai-chat`, `sse`, `raw`, …
    pub fn name(&self) -> &'static str {
        todo!()
    }
}
