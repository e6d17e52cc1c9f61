//! Protocol adapters: events → what they mean for measurement (content, usage, completion, error).
//! `openai` reads chat-completion chunks; `generic` applies the original tool's `stream_format`
//! rules (Dify and any other SSE API); `raw` treats every chunk as content; [`whole`] reads a
//! non-streaming answer, one JSON object, with its protocol's module.

pub mod anthropic;
pub mod dify;
pub mod format;
pub mod gemini;
pub mod generic;
mod lenient;
pub mod ollama;
pub mod openai;
mod path;
pub mod responses;
mod support;
pub mod tgi;
pub mod whole;

use crate::measure::stream::{Event, Framing};
pub use format::{FormatKind, StreamFormat};

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
    /// The event counts as the first token even without content (the original tool's
    /// `first_token_event`, or a tool-call delta).
    pub token_marker: bool,
    /// Output tokens reported by the API, reasoning included (the latest report wins; on a
    /// content event it is the running total so far, as vLLM's `continuous_usage_stats`).
    pub output_tokens: Option<u64>,
    /// Input (prompt) tokens reported by the API.
    pub input_tokens: Option<u64>,
    /// Reasoning tokens reported by the API.
    pub reasoning_tokens: Option<u64>,
    /// Input tokens the server read from its prefix cache, when it says (OpenAI's
    /// `prompt_tokens_details.cached_tokens`, DeepSeek's `prompt_cache_hit_tokens`,
    /// Anthropic's `cache_read_input_tokens`, Gemini's `cachedContentTokenCount`).
    pub cached_tokens: Option<u64>,
    /// The conversation the answer belongs to (Dify's `conversation_id`), for the next turn.
    pub conversation_id: Option<String>,
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
    /// User-supplied paths and the original tool's `stream_format` rules.
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
    /// Not decided yet (`auto`): decided by the first event with data.
    Auto(AutoState),
    /// OpenAI chat completions or legacy completions.
    OpenAi(openai::OpenAiChat),
    /// OpenAI Responses API.
    Responses(responses::OpenAiResponses),
    /// Anthropic Messages.
    Anthropic(anthropic::Anthropic),
    /// Google Gemini.
    Gemini(gemini::Gemini),
    /// Dify chat and workflow apps.
    Dify(dify::Dify),
    /// Ollama.
    Ollama(ollama::Ollama),
    /// Hugging Face TGI.
    Tgi(tgi::Tgi),
    /// User paths and the original tool's generic rules.
    Generic(generic::Generic),
    /// Every raw chunk is content; EOF completes.
    Raw,
}

/// State for `Adapter::Auto`.
#[derive(Debug, Clone)]
pub struct AutoState {
    format: StreamFormat,
    /// What the request's URL path suggests, used when the payload's shape does not decide.
    hint: Option<Protocol>,
}

impl Adapter {
    /// The adapter for a response with `framing` to a request for `url_path`, as configured
    /// by `format`.
    ///
    /// Raw framing or `type: raw` → raw; a protocol → its adapter; `sse`/`ndjson`, or `auto`
    /// with any generic rule set → generic; otherwise `auto` decides at the first payload.
    pub fn new(format: &StreamFormat, framing: Framing, url_path: &str) -> Self {
        if framing == Framing::Raw || format.kind == FormatKind::Raw {
            return Adapter::Raw;
        }
        match format.kind {
            FormatKind::Protocol(protocol) => Adapter::of(protocol, format),
            FormatKind::Sse | FormatKind::Ndjson => Adapter::Generic(generic::Generic::new(format)),
            _ if format.has_generic_rules() => Adapter::Generic(generic::Generic::new(format)),
            _ => Adapter::Auto(AutoState {
                format: format.clone(),
                hint: Protocol::from_url_path(url_path),
            }),
        }
    }

    /// A fresh adapter of `protocol`.
    fn of(protocol: Protocol, format: &StreamFormat) -> Self {
        match protocol {
            Protocol::OpenAiChat => Adapter::OpenAi(openai::OpenAiChat::new()),
            Protocol::OpenAiCompletions => Adapter::OpenAi(openai::OpenAiChat::completions()),
            Protocol::OpenAiResponses => Adapter::Responses(responses::OpenAiResponses::new()),
            Protocol::Anthropic => Adapter::Anthropic(anthropic::Anthropic::new()),
            Protocol::Gemini => Adapter::Gemini(gemini::Gemini::new()),
            Protocol::Dify => Adapter::Dify(dify::Dify::new()),
            Protocol::Ollama => Adapter::Ollama(ollama::Ollama::new()),
            Protocol::Tgi => Adapter::Tgi(tgi::Tgi::new()),
            Protocol::Generic => Adapter::Generic(generic::Generic::new(format)),
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
                *self = state.decide(event);
                self.interpret(event)
            }
            Adapter::OpenAi(adapter) => adapter.interpret(event),
            Adapter::Responses(adapter) => adapter.interpret(event),
            Adapter::Anthropic(adapter) => adapter.interpret(event),
            Adapter::Gemini(adapter) => adapter.interpret(event),
            Adapter::Dify(adapter) => adapter.interpret(event),
            Adapter::Ollama(adapter) => adapter.interpret(event),
            Adapter::Tgi(adapter) => adapter.interpret(event),
            Adapter::Generic(adapter) => adapter.interpret(event),
            Adapter::Raw => Interpretation {
                answer: (!event.data.is_empty()).then(|| event.data.clone()),
                ..Interpretation::default()
            },
        }
    }

    /// Whether a clean end of body without a completion marker counts as complete: only for
    /// raw chunks and generic rules without a completion event. Every provider protocol has
    /// an end marker, and a stream cut before it is `incomplete`.
    pub fn eof_completes(&self) -> bool {
        match self {
            Adapter::Auto(_) | Adapter::Raw => true,
            Adapter::Generic(adapter) => adapter.eof_completes(),
            _ => false,
        }
    }

    /// Whether no protocol was recognised: `auto` still undecided, or fallen back to the
    /// generic rules because no event looked like any protocol.
    pub fn undecided(&self) -> bool {
        match self {
            Adapter::Auto(_) => true,
            Adapter::Generic(generic) => generic.is_fallback(),
            _ => false,
        }
    }

    /// Whether the first token is defined by a marker event (the original tool's
    /// `first_token_event`) rather than by the first content.
    pub fn first_token_by_marker(&self) -> bool {
        matches!(self, Adapter::Generic(adapter) if adapter.first_token_by_marker())
    }

    /// The adapter's name for reports: `openai-chat`, `anthropic`, `generic`, `raw`, …
    pub fn name(&self) -> &'static str {
        match self {
            Adapter::Auto(_) => "auto",
            Adapter::OpenAi(adapter) => adapter.protocol().name(),
            Adapter::Responses(_) => Protocol::OpenAiResponses.name(),
            Adapter::Anthropic(_) => Protocol::Anthropic.name(),
            Adapter::Gemini(_) => Protocol::Gemini.name(),
            Adapter::Dify(_) => Protocol::Dify.name(),
            Adapter::Ollama(_) => Protocol::Ollama.name(),
            Adapter::Tgi(_) => Protocol::Tgi.name(),
            Adapter::Generic(_) => Protocol::Generic.name(),
            Adapter::Raw => "raw",
        }
    }
}

impl Protocol {
    /// What a request's URL path suggests: the providers' documented endpoints.
    pub fn from_url_path(path: &str) -> Option<Protocol> {
        let path = path.split('?').next().unwrap_or_default().trim_end_matches('/');
        let ends = |suffix: &str| path.ends_with(suffix);
        Some(if ends("/chat/completions") {
            Protocol::OpenAiChat
        } else if ends("/completions") {
            Protocol::OpenAiCompletions
        } else if ends("/responses") {
            Protocol::OpenAiResponses
        } else if ends("/messages") {
            Protocol::Anthropic
        } else if ends(":streamGenerateContent") || ends(":generateContent") {
            Protocol::Gemini
        } else if ends("/chat-messages") || ends("/completion-messages") || ends("/workflows/run") {
            Protocol::Dify
        } else if ends("/api/chat") || ends("/api/generate") {
            Protocol::Ollama
        } else if ends("/generate_stream") || ends("/generate") {
            Protocol::Tgi
        } else {
            return None;
        })
    }
}

impl AutoState {
    /// The adapter for a stream whose first payload is `event`'s data: by the payload's shape, else
    /// by the URL, else the generic rules (for data that is not JSON: the original tool's "every
    /// event is content").
    fn decide(&self, event: &Event) -> Adapter {
        let data = event.data.trim_start();
        let payload = match data.starts_with('{') {
            true => serde_json::from_str::<serde_json::Value>(data).ok(),
            false => None,
        };
        let Some(payload) = payload else {
            return Adapter::Generic(generic::Generic::fallback(&self.format));
        };
        let by_shape = shape_of(&payload);
        match by_shape.or(self.hint) {
            // A legacy-completions chunk says so itself; the URL may be a proxy's.
            Some(Protocol::OpenAiChat | Protocol::OpenAiCompletions) => {
                let legacy = openai::looks_like_completions(&payload)
                    || (by_shape.is_none() && self.hint == Some(Protocol::OpenAiCompletions));
                match legacy {
                    true => Adapter::OpenAi(openai::OpenAiChat::completions()),
                    false => Adapter::OpenAi(openai::OpenAiChat::new()),
                }
            }
            Some(protocol) => Adapter::of(protocol, &self.format),
            None => Adapter::Generic(generic::Generic::fallback(&self.format)),
        }
    }
}

/// The protocol whose first payload looks like `payload`. The specific shapes go first:
/// OpenAI's test (`choices`, or an `error` object) is the broadest.
fn shape_of(payload: &serde_json::Value) -> Option<Protocol> {
    type Test = fn(&serde_json::Value) -> bool;
    let tests: [(Protocol, Test); 7] = [
        (Protocol::Anthropic, anthropic::looks_like),
        (Protocol::OpenAiResponses, responses::looks_like),
        (Protocol::Gemini, gemini::looks_like),
        (Protocol::Dify, dify::looks_like),
        (Protocol::Ollama, ollama::looks_like),
        (Protocol::Tgi, tgi::looks_like),
        (Protocol::OpenAiChat, openai::looks_like_openai),
    ];
    tests.iter().find(|(_, test)| test(payload)).map(|(protocol, _)| *protocol)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(data: &str) -> Event {
        Event { name: "message".into(), data: data.into(), id: None }
    }

    const OPENAI: FormatKind = FormatKind::Protocol(Protocol::OpenAiChat);

    #[test]
    fn auto_says_when_no_protocol_was_recognised() {
        let auto = || Adapter::new(&format(FormatKind::Auto), Framing::Sse, "/x");
        let mut adapter = auto();
        assert!(adapter.undecided(), "nothing seen yet");
        adapter.interpret(&event(r#"{"foo": 1}"#));
        assert!(adapter.undecided(), "a payload of no protocol's shape: {}", adapter.name());
        let mut adapter = auto();
        adapter.interpret(&event(r#"{"choices":[{"delta":{"content":"hi"}}]}"#));
        assert!(!adapter.undecided());
        let generic = Adapter::new(&format(FormatKind::Sse), Framing::Sse, "/x");
        assert!(!generic.undecided(), "generic rules the user chose are a protocol");
    }

    fn format(kind: FormatKind) -> StreamFormat {
        StreamFormat { kind, ..StreamFormat::default() }
    }

    #[test]
    fn new_picks_by_kind_and_framing() {
        let name = |f: &StreamFormat, framing| Adapter::new(f, framing, "").name();
        assert_eq!(name(&format(FormatKind::Auto), Framing::Sse), "auto");
        assert_eq!(name(&format(FormatKind::Auto), Framing::Raw), "raw");
        assert_eq!(name(&format(OPENAI), Framing::Sse), "openai-chat");
        assert_eq!(name(&format(OPENAI), Framing::Raw), "raw");
        assert_eq!(name(&format(FormatKind::Sse), Framing::Sse), "generic");
        assert_eq!(name(&format(FormatKind::Raw), Framing::Sse), "raw");
        let rules =
            StreamFormat { completion_event: Some("end".into()), ..StreamFormat::default() };
        assert_eq!(name(&rules, Framing::Sse), "generic");
        assert!(Adapter::new(&format(FormatKind::Auto), Framing::Sse, "").eof_completes());
        assert!(!Adapter::new(&format(OPENAI), Framing::Sse, "").eof_completes());
        assert!(!Adapter::new(&rules, Framing::Sse, "").eof_completes());
    }

    #[test]
    fn auto_decides_at_first_data_and_interprets_it() {
        let mut a = Adapter::new(&StreamFormat::default(), Framing::Sse, "");
        assert_eq!(a.interpret(&event("")), Interpretation::default());
        assert_eq!(a.name(), "auto");
        let first = a.interpret(&event(
            r#"{"object":"chat.completion.chunk","choices":[{"delta":{"content":"Hi"}}]}"#,
        ));
        assert_eq!(first.answer.as_deref(), Some("Hi"));
        assert_eq!(a.name(), "openai-chat");
        assert!(!a.eof_completes());

        let mut a = Adapter::new(&StreamFormat::default(), Framing::Sse, "");
        assert_eq!(a.interpret(&event("hello")).answer.as_deref(), Some("hello"));
        assert_eq!(a.name(), "generic");

        let mut a = Adapter::new(&StreamFormat::default(), Framing::Sse, "");
        let error = a.interpret(&event(r#"{"error":{"type":"server_error","message":"x"}}"#));
        assert_eq!(error.error.as_deref(), Some("server_error: x"));
        assert_eq!(a.name(), "openai-chat");
    }

    #[test]
    fn auto_prefers_the_payload_shape_then_the_url() {
        let decide = |path: &str, data: &str| {
            let mut a = Adapter::new(&StreamFormat::default(), Framing::Sse, path);
            a.interpret(&event(data));
            a.name()
        };
        let chunk = r#"{"object":"chat.completion.chunk","choices":[]}"#;
        assert_eq!(decide("/v1/messages", chunk), "openai-chat", "the shape wins");
        let legacy = r#"{"object":"text_completion","choices":[{"text":"a"}]}"#;
        assert_eq!(decide("/v1/chat/completions", legacy), "openai-completions");
        assert_eq!(
            decide("/v1/completions", r#"{"choices":[{"text":"a"}]}"#),
            "openai-completions"
        );
        assert_eq!(decide("/custom", r#"{"unknown":1}"#), "generic");
        assert_eq!(decide("/api/generate", r#"{"unknown":1}"#), "ollama", "the URL decides");
        assert_eq!(decide("/v1/messages", "not json"), "generic");
    }

    #[test]
    fn url_paths_name_their_protocols() {
        let cases = [
            ("/v1/chat/completions", Some(Protocol::OpenAiChat)),
            ("/v1/completions/", Some(Protocol::OpenAiCompletions)),
            ("/v1/responses", Some(Protocol::OpenAiResponses)),
            ("/v1/messages", Some(Protocol::Anthropic)),
            ("/v1beta/models/gemini-2.5-flash:streamGenerateContent", Some(Protocol::Gemini)),
            ("/v1/chat-messages", Some(Protocol::Dify)),
            ("/v1/workflows/run", Some(Protocol::Dify)),
            ("/api/chat", Some(Protocol::Ollama)),
            ("/generate_stream", Some(Protocol::Tgi)),
            ("/generate", Some(Protocol::Tgi)),
            ("/api/generate", Some(Protocol::Ollama)),
            ("/v1/stream", None),
        ];
        for (path, want) in cases {
            assert_eq!(Protocol::from_url_path(path), want, "{path}");
        }
        for protocol in Protocol::ALL {
            assert_eq!(Protocol::from_name(protocol.name()), Some(protocol));
        }
        assert_eq!(Protocol::from_name("openai"), Some(Protocol::OpenAiChat));
        assert_eq!(Protocol::Ollama.framing(), Framing::Ndjson);
    }

    #[test]
    fn raw_adapter_passes_text_through() {
        let mut a = Adapter::new(&StreamFormat::default(), Framing::Raw, "");
        let chunk = Event { data: "abc".into(), ..Event::default() };
        assert_eq!(a.interpret(&chunk).answer.as_deref(), Some("abc"));
        assert_eq!(a.interpret(&Event::default()).answer, None);
    }
}
