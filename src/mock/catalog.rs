//! What the mock serves, in one table: the routes (for `GET /`, the startup line and 404s),
//! each protocol's route and a minimal request body for it (for `streamperf demo` and tests),
//! streaming and non-streaming.

use serde_json::{Value, json};

use crate::measure::protocol::Protocol;

/// One route of the mock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Route {
    /// `POST`, `GET` or `GET|POST`.
    pub method: &'static str,
    /// The path, with `{model}` where Gemini takes the model.
    pub path: &'static str,
    /// What it serves.
    pub what: &'static str,
}

/// Every route, streaming ones first.
pub(crate) const ROUTES: [Route; 17] = [
    route(
        "POST",
        "/v1/chat/completions",
        "OpenAI chat completions (SSE; one JSON object without stream:true)",
    ),
    route(
        "POST",
        "/v1/completions",
        "OpenAI legacy completions (SSE; one JSON object without stream:true)",
    ),
    route(
        "POST",
        "/v1/responses",
        "OpenAI Responses API events (SSE; one JSON object without stream:true)",
    ),
    route(
        "POST",
        "/v1/messages",
        "Anthropic Messages events (SSE; one JSON object without stream:true)",
    ),
    route("POST", "/v1beta/models/{model}:streamGenerateContent?alt=sse", "Google Gemini (SSE)"),
    route("POST", "/v1beta/models/{model}:generateContent", "Google Gemini (one JSON object)"),
    route("POST", "/api/chat", "Ollama chat (NDJSON; one JSON object with stream:false)"),
    route("POST", "/api/generate", "Ollama generate (NDJSON; one JSON object with stream:false)"),
    route("POST", "/generate_stream", "Hugging Face TGI (SSE)"),
    route("POST", "/generate", "Hugging Face TGI (one JSON object)"),
    route(
        "POST",
        "/v1/chat-messages",
        "Dify chat app (SSE; one JSON object with response_mode blocking)",
    ),
    route(
        "POST",
        "/v1/workflows/run",
        "Dify workflow (SSE, ?framing=event-lines; one JSON object with response_mode blocking)",
    ),
    route("GET|POST", "/v1/stream", "plain chunked text"),
    route("GET", "/mock/stats", "what the mock recorded (?bodies=1 adds the bodies)"),
    route("POST", "/mock/reset", "forget what was recorded"),
    route("GET", "/", "this list"),
    route(
        "",
        "query",
        "ttft_ms itl_ms tokens reasoning_tokens tokens_per_chunk jitter_ms usage=false \
         fail=status:N|close:k|stall:k|error:k|pause:k:ms",
    ),
];

const fn route(method: &'static str, path: &'static str, what: &'static str) -> Route {
    Route { method, path, what }
}

/// The route table as text, one route a line.
pub fn listing() -> String {
    ROUTES.iter().map(|r| format!("{:<9} {:<54} {}\n", r.method, r.path, r.what)).collect()
}

/// The mock's route for `protocol`, query included where the route needs one. `Generic`
/// gets the Dify workflow in the original README's framing (`event: <name>` lines and a bare
/// `{"outputs": …}` payload), the shape the seed's `first_token_event`, `completion_event`
/// and `output_path` rules were written for.
pub fn path_for(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::OpenAiChat => "/v1/chat/completions",
        Protocol::OpenAiCompletions => "/v1/completions",
        Protocol::OpenAiResponses => "/v1/responses",
        Protocol::Anthropic => "/v1/messages",
        Protocol::Gemini => "/v1beta/models/mock:streamGenerateContent?alt=sse",
        Protocol::Dify => "/v1/chat-messages",
        Protocol::Ollama => "/api/chat",
        Protocol::Tgi => "/generate_stream",
        Protocol::Generic => "/v1/workflows/run?framing=event-lines",
    }
}

/// The prompt every demo body carries.
const PROMPT: &str = "Write a short essay about AI.";

/// A minimal valid streaming request body for [`path_for`]`(protocol)`, as the real API
/// expects it (usage requested where it must be asked for).
pub fn request_body_for(protocol: Protocol) -> Value {
    let messages = json!([{"role": "user", "content": PROMPT}]);
    match protocol {
        Protocol::OpenAiChat => json!({
            "model": "mock", "messages": messages, "stream": true,
            "stream_options": {"include_usage": true},
        }),
        Protocol::OpenAiCompletions => json!({
            "model": "mock", "prompt": PROMPT, "stream": true,
            "stream_options": {"include_usage": true},
        }),
        Protocol::OpenAiResponses => json!({"model": "mock", "input": PROMPT, "stream": true}),
        // `max_tokens` is required by the real API; this one never caps the mock's defaults.
        Protocol::Anthropic => {
            json!({"model": "mock", "max_tokens": 4096, "messages": messages, "stream": true})
        }
        Protocol::Gemini => json!({"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]}),
        Protocol::Ollama => json!({"model": "mock", "messages": messages, "stream": true}),
        Protocol::Tgi => json!({"inputs": PROMPT}),
        Protocol::Dify | Protocol::Generic => json!({
            "inputs": {}, "query": PROMPT, "response_mode": "streaming",
            "conversation_id": "", "user": "streamperf",
        }),
    }
}

/// The mock's non-streaming route for `protocol` (for `Generic`, the Dify workflow's).
pub fn whole_path_for(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Gemini => "/v1beta/models/mock:generateContent",
        Protocol::Tgi => "/generate",
        Protocol::Generic => "/v1/workflows/run",
        other => path_for(other),
    }
}

/// A minimal valid request body for [`whole_path_for`]`(protocol)` that asks for the answer
/// whole, as the real API expects it: `"stream": false`, or Dify's `blocking` mode.
pub fn whole_request_body_for(protocol: Protocol) -> Value {
    let mut body = request_body_for(protocol);
    match protocol {
        Protocol::Dify | Protocol::Generic => body["response_mode"] = json!("blocking"),
        Protocol::Gemini | Protocol::Tgi => {}
        _ => {
            body["stream"] = json!(false);
            if let Some(fields) = body.as_object_mut() {
                fields.remove("stream_options");
            }
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_protocol_has_a_listed_route_and_a_body() {
        for p in Protocol::ALL {
            let path = path_for(p);
            let bare = path.split('?').next().unwrap_or(path).replace("/mock:", "/{model}:");
            assert!(ROUTES.iter().any(|r| r.path.starts_with(&bare)), "{p:?}: {path}");
            assert!(request_body_for(p).is_object());
        }
        for p in Protocol::ALL {
            let path = whole_path_for(p).replace("/mock:", "/{model}:");
            assert!(ROUTES.iter().any(|r| r.path == path), "{p:?}: {path}");
            let body = whole_request_body_for(p);
            assert_ne!(body["stream"], true, "{p:?}");
            assert_ne!(body["response_mode"], "streaming", "{p:?}");
        }
        assert_eq!(listing().lines().count(), ROUTES.len());
    }
}
