//! Streaming request bodies built for each protocol from a model, a conversation (a prompt is
//! one user message) and an output length, for runs that give no body of their own: the shape
//! each API documents, usage asked for where it must be, the length in the protocol's own
//! field, and, unless early stops are allowed, the end-of-sequence token ignored where the
//! server has a way to say so.

use serde_json::{Value, json};

use crate::measure::protocol::Protocol;

/// Who says a message of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Instructions before the conversation (a system prompt).
    System,
    /// The user's turn.
    User,
    /// The model's turn.
    Assistant,
}

impl Role {
    /// The name OpenAI-style message lists use.
    pub fn name(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One message of the conversation a request sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Who says it.
    pub role: Role,
    /// What is said, as text.
    pub content: String,
}

impl Message {
    /// A user's message: a prompt on its own.
    pub fn user(content: impl Into<String>) -> Message {
        Message { role: Role::User, content: content.into() }
    }
}

/// What a built request asks for.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    /// The model name (`--model`); Gemini takes it in the URL instead.
    pub model: &'a str,
    /// The conversation so far, ending with the user's turn: one user message for a prompt.
    pub messages: &'a [Message],
    /// The output length (`--output-tokens`); `None` leaves it to the server.
    pub max_tokens: Option<u64>,
    /// Let the server stop before `max_tokens` (`--allow-early-stop`).
    pub allow_early_stop: bool,
}

/// A request body and the headers its protocol needs besides `Content-Type`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Built {
    /// The JSON body.
    pub body: Value,
    /// Extra headers, e.g. Anthropic's `anthropic-version`.
    pub headers: Vec<(String, String)>,
}

/// The Messages API version sent when streamperf builds an Anthropic request.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Anthropic requires `max_tokens`; this is sent when no output length is asked for.
pub const ANTHROPIC_DEFAULT_MAX_TOKENS: u64 = 4096;

/// The body `protocol` streams with; `None` for `generic`, whose shape nobody can guess.
///
/// Chat APIs get the conversation as their message list (Anthropic and Gemini take the system
/// messages apart, Gemini calls the assistant `model`); prompt-only APIs (completions, TGI)
/// get the messages' text one after another; Dify keeps the history itself, by
/// `conversation_id`, and gets the last user turn as its `query`.
pub fn body_for(protocol: Protocol, ask: &Ask) -> Option<Built> {
    let m = ask.messages;
    let mut headers = Vec::new();
    let mut body = match protocol {
        Protocol::OpenAiChat => json!({
            "model": ask.model, "messages": openai_messages(m), "stream": true,
            "stream_options": {"include_usage": true},
        }),
        Protocol::OpenAiCompletions => json!({
            "model": ask.model, "prompt": all_text(m), "stream": true,
            "stream_options": {"include_usage": true},
        }),
        Protocol::OpenAiResponses => {
            let input = match m {
                [one] if one.role == Role::User => json!(one.content),
                _ => openai_messages(m),
            };
            json!({"model": ask.model, "input": input, "stream": true})
        }
        Protocol::Anthropic => {
            headers.push(("anthropic-version".to_owned(), ANTHROPIC_VERSION.to_owned()));
            // Required by the API; `limit` below sets the length asked for.
            let max = ANTHROPIC_DEFAULT_MAX_TOKENS;
            let turns = openai_messages(&chat(m));
            let mut body =
                json!({"model": ask.model, "max_tokens": max, "messages": turns, "stream": true});
            if let Some(system) = system(m) {
                body["system"] = json!(system);
            }
            body
        }
        Protocol::Gemini => {
            let contents: Vec<Value> = chat(m)
                .iter()
                .map(|t| {
                    let role = if t.role == Role::Assistant { "model" } else { "user" };
                    json!({"role": role, "parts": [{"text": t.content}]})
                })
                .collect();
            let mut body = json!({"contents": contents});
            if let Some(system) = system(m) {
                body["systemInstruction"] = json!({"parts": [{"text": system}]});
            }
            body
        }
        Protocol::Ollama => {
            json!({"model": ask.model, "messages": openai_messages(m), "stream": true})
        }
        Protocol::Tgi => json!({"inputs": all_text(m), "parameters": {}}),
        Protocol::Dify => json!({
            "inputs": {}, "query": last_user(m), "response_mode": "streaming",
            "conversation_id": "", "user": "streamperf",
        }),
        Protocol::Generic => return None,
    };
    if let Some(n) = ask.max_tokens {
        limit(protocol, &mut body, n, !ask.allow_early_stop);
    }
    Some(Built { body, headers })
}

/// The messages as OpenAI-style `{"role", "content"}` objects (Ollama's too).
pub fn openai_messages(messages: &[Message]) -> Value {
    let list = messages.iter().map(|m| json!({"role": m.role.name(), "content": m.content}));
    Value::Array(list.collect())
}

/// The messages' text, one after another, for APIs that take a single prompt.
fn all_text(messages: &[Message]) -> String {
    let texts: Vec<&str> = messages.iter().map(|m| m.content.as_str()).collect();
    texts.join("\n\n")
}

/// The last user message's text (the question of a Dify chat).
fn last_user(messages: &[Message]) -> &str {
    let last = messages.iter().rev().find(|m| m.role == Role::User);
    last.map_or("", |m| m.content.as_str())
}

/// The system messages' text, for APIs that take it apart from the turns.
fn system(messages: &[Message]) -> Option<String> {
    let texts: Vec<&str> =
        messages.iter().filter(|m| m.role == Role::System).map(|m| m.content.as_str()).collect();
    (!texts.is_empty()).then(|| texts.join("\n\n"))
}

/// The conversation's turns without its system messages.
fn chat(messages: &[Message]) -> Vec<Message> {
    messages.iter().filter(|m| m.role != Role::System).cloned().collect()
}

/// Sets the output length in `protocol`'s own field and, when `exact`, asks the servers that
/// can to ignore the end-of-sequence token (vLLM, SGLang and llama.cpp read `ignore_eos` on
/// their OpenAI-compatible routes; the others have no such switch).
fn limit(protocol: Protocol, body: &mut Value, n: u64, exact: bool) {
    let field = match protocol {
        Protocol::OpenAiChat | Protocol::OpenAiCompletions => "/max_tokens",
        Protocol::OpenAiResponses => "/max_output_tokens",
        Protocol::Anthropic => "/max_tokens",
        Protocol::Gemini => "/generationConfig/maxOutputTokens",
        Protocol::Ollama => "/options/num_predict",
        Protocol::Tgi => "/parameters/max_new_tokens",
        // Dify's apps set their model's length in the app, not per request.
        Protocol::Dify | Protocol::Generic => return,
    };
    set(body, field, json!(n));
    if exact && matches!(protocol, Protocol::OpenAiChat | Protocol::OpenAiCompletions) {
        set(body, "/ignore_eos", json!(true));
    }
}

/// Sets `value` at the JSON pointer `path`, creating the objects on the way.
fn set(body: &mut Value, path: &str, value: Value) {
    let mut at = body;
    let mut keys = path.trim_start_matches('/').split('/').peekable();
    while let Some(key) = keys.next() {
        let object = at.as_object_mut().expect("bodies are built as objects");
        if keys.peek().is_none() {
            object.insert(key.to_owned(), value);
            return;
        }
        at = object.entry(key).or_insert_with(|| json!({}));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(max_tokens: Option<u64>, allow_early_stop: bool) -> Ask<'static> {
        static PROMPT: std::sync::LazyLock<[Message; 1]> =
            std::sync::LazyLock::new(|| [Message::user("Call me Ishmael.")]);
        Ask { model: "m", messages: &*PROMPT, max_tokens, allow_early_stop }
    }

    #[test]
    fn every_protocol_puts_the_length_in_its_own_field() {
        let fields = [
            (Protocol::OpenAiChat, "/max_tokens"),
            (Protocol::OpenAiCompletions, "/max_tokens"),
            (Protocol::OpenAiResponses, "/max_output_tokens"),
            (Protocol::Anthropic, "/max_tokens"),
            (Protocol::Gemini, "/generationConfig/maxOutputTokens"),
            (Protocol::Ollama, "/options/num_predict"),
            (Protocol::Tgi, "/parameters/max_new_tokens"),
        ];
        for (protocol, field) in fields {
            let built = body_for(protocol, &ask(Some(50), false)).unwrap();
            assert_eq!(built.body.pointer(field), Some(&json!(50)), "{protocol:?}: {}", built.body);
        }
        let dify = body_for(Protocol::Dify, &ask(Some(50), false)).unwrap().body;
        assert_eq!(dify["response_mode"], "streaming");
        assert!(body_for(Protocol::Generic, &ask(None, false)).is_none());
    }

    #[test]
    fn ignore_eos_goes_only_where_servers_read_it_and_only_when_exact() {
        for protocol in Protocol::ALL {
            let Some(exact) = body_for(protocol, &ask(Some(50), false)) else { continue };
            let openai = matches!(protocol, Protocol::OpenAiChat | Protocol::OpenAiCompletions);
            assert_eq!(exact.body.get("ignore_eos").is_some(), openai, "{protocol:?}");
            let loose = body_for(protocol, &ask(Some(50), true)).unwrap();
            assert!(loose.body.get("ignore_eos").is_none(), "{protocol:?}");
            let unlimited = body_for(protocol, &ask(None, false)).unwrap();
            assert!(unlimited.body.get("ignore_eos").is_none(), "{protocol:?}");
        }
    }

    #[test]
    fn anthropic_gets_its_version_header_and_a_required_max_tokens() {
        let built = body_for(Protocol::Anthropic, &ask(None, false)).unwrap();
        assert_eq!(built.headers, [("anthropic-version".to_owned(), "2023-06-01".to_owned())]);
        assert_eq!(built.body["max_tokens"], ANTHROPIC_DEFAULT_MAX_TOKENS);
        let chat = body_for(Protocol::OpenAiChat, &ask(None, false)).unwrap();
        assert_eq!(chat.body["stream_options"]["include_usage"], true);
        assert_eq!(chat.body["messages"][0]["content"], "Call me Ishmael.");
    }

    #[test]
    fn a_conversation_goes_in_each_api_s_own_shape() {
        let m = [
            Message { role: Role::System, content: "Be brief.".into() },
            Message::user("Hi"),
            Message { role: Role::Assistant, content: "Hello!".into() },
            Message::user("Bye"),
        ];
        let ask = Ask { model: "m", messages: &m, max_tokens: None, allow_early_stop: false };
        let body = |p| body_for(p, &ask).unwrap().body;
        assert_eq!(body(Protocol::OpenAiChat)["messages"][2]["role"], "assistant");
        assert_eq!(body(Protocol::OpenAiResponses)["input"].as_array().unwrap().len(), 4);
        let anthropic = body(Protocol::Anthropic);
        assert_eq!(
            (&anthropic["system"], anthropic["messages"][0]["content"].as_str()),
            (&json!("Be brief."), Some("Hi"))
        );
        let gemini = body(Protocol::Gemini);
        assert_eq!(gemini["contents"][1], json!({"role": "model", "parts": [{"text": "Hello!"}]}));
        assert_eq!(gemini["systemInstruction"]["parts"][0]["text"], "Be brief.");
        assert_eq!(body(Protocol::OpenAiCompletions)["prompt"], "Be brief.\n\nHi\n\nHello!\n\nBye");
        assert_eq!(body(Protocol::Dify)["query"], "Bye");
        let one = [Message::user("Hi")];
        let ask = Ask { messages: &one, ..ask };
        assert_eq!(body_for(Protocol::OpenAiResponses, &ask).unwrap().body["input"], "Hi");
    }
}
