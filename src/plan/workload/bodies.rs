//! Streaming request bodies built for each protocol from a model, a prompt and an output
//! length, for runs that give no body of their own: the shape each API documents, usage asked
//! for where it must be, the length in the protocol's own field, and, unless early stops are
//! allowed, the end-of-sequence token ignored where the server has a way to say so.

use serde_json::{Value, json};

use crate::measure::protocol::Protocol;

/// What a built request asks for.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    /// The model name (`--model`); Gemini takes it in the URL instead.
    pub model: &'a str,
    /// The prompt, as the user's one message.
    pub prompt: &'a str,
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
pub fn body_for(protocol: Protocol, ask: &Ask) -> Option<Built> {
    let messages = json!([{"role": "user", "content": ask.prompt}]);
    let mut headers = Vec::new();
    let mut body = match protocol {
        Protocol::OpenAiChat => json!({
            "model": ask.model, "messages": messages, "stream": true,
            "stream_options": {"include_usage": true},
        }),
        Protocol::OpenAiCompletions => json!({
            "model": ask.model, "prompt": ask.prompt, "stream": true,
            "stream_options": {"include_usage": true},
        }),
        Protocol::OpenAiResponses => {
            json!({"model": ask.model, "input": ask.prompt, "stream": true})
        }
        Protocol::Anthropic => {
            headers.push(("anthropic-version".to_owned(), ANTHROPIC_VERSION.to_owned()));
            // Required by the API; `limit` below sets the length asked for.
            let max = ANTHROPIC_DEFAULT_MAX_TOKENS;
            json!({"model": ask.model, "max_tokens": max, "messages": messages, "stream": true})
        }
        Protocol::Gemini => {
            json!({"contents": [{"role": "user", "parts": [{"text": ask.prompt}]}]})
        }
        Protocol::Ollama => json!({"model": ask.model, "messages": messages, "stream": true}),
        Protocol::Tgi => json!({"inputs": ask.prompt, "parameters": {}}),
        Protocol::Dify => json!({
            "inputs": {}, "query": ask.prompt, "response_mode": "streaming",
            "conversation_id": "", "user": "streamperf",
        }),
        Protocol::Generic => return None,
    };
    if let Some(n) = ask.max_tokens {
        limit(protocol, &mut body, n, !ask.allow_early_stop);
    }
    Some(Built { body, headers })
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
        Ask { model: "m", prompt: "Call me Ishmael.", max_tokens, allow_early_stop }
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
}
