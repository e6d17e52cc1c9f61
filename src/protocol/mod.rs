//! Protocol adapters: events → what they mean for measurement (content, usage, completion,
//! error). `openai` reads chat-completion chunks; `generic` applies the seed's `stream_format`
//! rules (Dify and any other SSE API); `raw` treats every chunk as content.

pub mod anthropic;
pub mod dify;
pub mod gemini;
pub mod generic;
mod lenient;
pub mod ollama;
pub mod openai;
mod path;
pub mod responses;
pub mod tgi;

use crate::config::{FormatKind, StreamFormat};
use crate::stream::{Event, Framing};

/// What one event means. Empty strings are never content.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Interpretation {
    /// Visible answer text carried by the event.
    pub answer: Option<String>,
    /// Reasoning ("thinking") text carried by the event.
    pub reasoning: Option<String>,
    /// Other generated output that is neither answer nor reasoning: tool-call names and
    /// arguments. It counts as a generated token (TTFT, ITL, token counting), not as answer.
    pub tool_call: Option<String>,
    /// The event counts as the first token even without content (the seed's
    /// `first_token_event`, or a tool-call delta).
    pub token_marker: bool,
    /// Output tokens reported by the API, reasoning included (the latest report wins; on a
    /// content event it is the running total so far, as vLLM's `continuous_usage_stats`).
    pub output_tokens: Option<u64>,
    /// Input (prompt) tokens reported by the API.
    pub input_tokens: Option<u64>,
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

/// A stream protocol, by the name used in configs, `--format` and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OpenAI chat completions (`choices[].delta`) and compatible servers.
    OpenAiChat,
    /// OpenAI legacy completions (`choices[].text`).
    OpenAiCompletions,
    /// OpenAI Responses API (`response.output_text.delta`, …).
    OpenAiResponses,
    /// Anthropic Messages (`content_block_delta`, `message_stop`).
    Anthropic,
    /// Google Gemini `streamGenerateContent?alt=sse`.
    Gemini,
    /// Dify chat-messages and workflows.
    Dify,
    /// Ollama `/api/chat` and `/api/generate` (NDJSON).
    Ollama,
    /// Hugging Face TGI `/generate_stream`.
    Tgi,
    /// User-supplied paths and the seed's `stream_format` rules.
    Generic,
}

impl Protocol {
    /// Every protocol, in the order help texts list them.
    pub const ALL: [Protocol; 9] = [
        Protocol::OpenAiChat,
        Protocol::OpenAiCompletions,
        Protocol::OpenAiResponses,
        Protocol::Anthropic,
        Protocol::Gemini,
        Protocol::Dify,
        Protocol::Ollama,
        Protocol::Tgi,
        Protocol::Generic,
    ];

    /// The protocol's name: `openai-chat`, `anthropic`, …
    pub fn name(self) -> &'static str {
        match self {
            Protocol::OpenAiChat => "openai-chat",
            Protocol::OpenAiCompletions => "openai-completions",
            Protocol::OpenAiResponses => "openai-responses",
            Protocol::Anthropic => "anthropic",
            Protocol::Gemini => "gemini",
            Protocol::Dify => "dify",
            Protocol::Ollama => "ollama",
            Protocol::Tgi => "tgi",
            Protocol::Generic => "generic",
        }
    }

    /// The protocol named `name` (`openai` is kept as an alias of `openai-chat`).
    pub fn from_name(name: &str) -> Option<Protocol> {
        match name {
            "openai" => Some(Protocol::OpenAiChat),
            _ => Protocol::ALL.into_iter().find(|p| p.name() == name),
        }
    }

    /// The framing this protocol streams in.
    pub fn framing(self) -> Framing {
        match self {
            Protocol::Ollama => Framing::Ndjson,
            _ => Framing::Sse,
        }
    }
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
    ///
    /// Raw framing or `type: raw` → raw; `openai` → OpenAI; `sse`, or `auto` with any of the
    /// seed's event rules set → generic; otherwise `auto` decides at the first payload.
    pub fn new(format: &StreamFormat, framing: Framing) -> Self {
        if framing == Framing::Raw || format.kind == FormatKind::Raw {
            return Adapter::Raw;
        }
        let has_generic_rules = format.first_token_event.is_some()
            || format.completion_event.is_some()
            || format.output_path.is_some();
        match format.kind {
            FormatKind::Openai => Adapter::OpenAi(openai::OpenAiChat::new()),
            FormatKind::Sse => Adapter::Generic(generic::Generic::new(format)),
            _ if has_generic_rules => Adapter::Generic(generic::Generic::new(format)),
            _ => Adapter::Auto(AutoState { format: format.clone() }),
        }
    }

    /// Interprets one event.
    pub fn interpret(&mut self, event: &Event) -> Interpretation {
        match self {
            Adapter::Auto(state) => {
                if event.data.trim().is_empty() {
                    // Nothing to decide on yet; only a completion name could matter.
                    return generic::Generic::new(&state.format).interpret(event);
                }
                let decided = state.decide(event);
                *self = decided;
                self.interpret(event)
            }
            Adapter::OpenAi(adapter) => adapter.interpret(event),
            Adapter::Generic(adapter) => adapter.interpret(event),
            Adapter::Raw => Interpretation {
                answer: (!event.data.is_empty()).then(|| event.data.clone()),
                ..Interpretation::default()
            },
        }
    }

    /// Whether a clean end of body without a completion marker counts as complete.
    pub fn eof_completes(&self) -> bool {
        match self {
            Adapter::Auto(_) | Adapter::Raw => true,
            Adapter::OpenAi(_) => false,
            Adapter::Generic(adapter) => adapter.eof_completes(),
        }
    }

    /// Whether the first token is defined by a marker event (the seed's `first_token_event`)
    /// rather than by the first content.
    pub fn first_token_by_marker(&self) -> bool {
        matches!(self, Adapter::Generic(adapter) if adapter.first_token_by_marker())
    }

    /// The adapter's name for reports: `openai-chat`, `sse`, `raw`, …
    pub fn name(&self) -> &'static str {
        match self {
            Adapter::Auto(_) => "auto",
            Adapter::OpenAi(_) => "openai-chat",
            Adapter::Generic(_) => "generic",
            Adapter::Raw => "raw",
        }
    }
}

impl AutoState {
    /// The adapter for a stream whose first payload is `event`'s data: OpenAI when it looks
    /// like a chat-completions chunk (or an OpenAI error), else the generic rules.
    fn decide(&self, event: &Event) -> Adapter {
        let data = event.data.trim_start();
        let openai = data.starts_with('{')
            && serde_json::from_str::<serde_json::Value>(data)
                .is_ok_and(|payload| openai::looks_like_openai(&payload));
        if openai {
            Adapter::OpenAi(openai::OpenAiChat::new())
        } else {
            Adapter::Generic(generic::Generic::new(&self.format))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(data: &str) -> Event {
        Event { name: "message".into(), data: data.into(), id: None }
    }

    fn format(kind: FormatKind) -> StreamFormat {
        StreamFormat { kind, ..StreamFormat::default() }
    }

    #[test]
    fn new_picks_by_kind_and_framing() {
        let name = |f: &StreamFormat, framing| Adapter::new(f, framing).name();
        assert_eq!(name(&format(FormatKind::Auto), Framing::Sse), "auto");
        assert_eq!(name(&format(FormatKind::Auto), Framing::Raw), "raw");
        assert_eq!(name(&format(FormatKind::Openai), Framing::Sse), "openai-chat");
        assert_eq!(name(&format(FormatKind::Openai), Framing::Raw), "raw");
        assert_eq!(name(&format(FormatKind::Sse), Framing::Sse), "generic");
        assert_eq!(name(&format(FormatKind::Raw), Framing::Sse), "raw");
        let rules =
            StreamFormat { completion_event: Some("end".into()), ..StreamFormat::default() };
        assert_eq!(name(&rules, Framing::Sse), "generic");
        assert!(Adapter::new(&format(FormatKind::Auto), Framing::Sse).eof_completes());
        assert!(!Adapter::new(&format(FormatKind::Openai), Framing::Sse).eof_completes());
        assert!(!Adapter::new(&rules, Framing::Sse).eof_completes());
    }

    #[test]
    fn auto_decides_at_first_data_and_interprets_it() {
        let mut a = Adapter::new(&StreamFormat::default(), Framing::Sse);
        assert_eq!(a.interpret(&event("")), Interpretation::default());
        assert_eq!(a.name(), "auto");
        let first = a.interpret(&event(
            r#"{"object":"chat.completion.chunk","choices":[{"delta":{"content":"Hi"}}]}"#,
        ));
        assert_eq!(first.answer.as_deref(), Some("Hi"));
        assert_eq!(a.name(), "openai-chat");
        assert!(!a.eof_completes());

        let mut a = Adapter::new(&StreamFormat::default(), Framing::Sse);
        assert_eq!(a.interpret(&event("hello")).answer.as_deref(), Some("hello"));
        assert_eq!(a.name(), "generic");

        let mut a = Adapter::new(&StreamFormat::default(), Framing::Sse);
        let error = a.interpret(&event(r#"{"error":{"type":"server_error","message":"x"}}"#));
        assert_eq!(error.error.as_deref(), Some("server_error: x"));
        assert_eq!(a.name(), "openai-chat");
    }

    #[test]
    fn raw_adapter_passes_text_through() {
        let mut a = Adapter::new(&StreamFormat::default(), Framing::Raw);
        let chunk = Event { data: "abc".into(), ..Event::default() };
        assert_eq!(a.interpret(&chunk).answer.as_deref(), Some("abc"));
        assert_eq!(a.interpret(&Event::default()).answer, None);
    }
}
