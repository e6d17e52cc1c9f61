//! What the mock serves, in one table: the routes (for `GET /`, the startup line and 404s),
//! each protocol's route and a minimal request body for it (for `streamperf demo` and tests),
//! streaming and non-streaming. Protocols go by the names `streamperf run --format` gives them.

use serde_json::{Value, json};

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
pub(crate) const ROUTES: [Route; 18] = [
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
    route("GET", "/v1/models", "the models served (OpenAI's list): one, `mock`"),
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

/// The protocols the mock speaks, by the names `streamperf run --format` gives them.
pub const PROTOCOLS: [&str; 9] = [
    "openai-chat",
    "openai-completions",
    "openai-responses",
    "anthropic",
    "gemini",
    "dify",
    "ollama",
    "tgi",
    "generic",
];

/// The mock's route for `protocol` (one of [`PROTOCOLS`]), query included where the route
/// needs one. `generic` gets the Dify workflow in the original README's framing (`event:
/// <name>` lines and a bare `{"outputs": …}` payload), the shape the original tool's
/// `first_token_event`, `completion_event` and `output_path` rules were written for.
pub fn path_for(protocol: &str) -> Option<&'static str> {
    Some(match protocol {
        "openai-chat" => "/v1/chat/completions",
        "openai-completions" => "/v1/completions",
        "openai-responses" => "/v1/responses",
        "anthropic" => "/v1/messages",
        "gemini" => "/v1beta/models/mock:streamGenerateContent?alt=sse",
        "dify" => "/v1/chat-messages",
        "ollama" => "/api/chat",
        "tgi" => "/generate_stream",
        "generic" => "/v1/workflows/run?framing=event-lines",
        _ => return None,
    })
}

/// The prompt every demo body carries.
const PROMPT: &str = "Write a short essay about AI.";

/// A minimal valid streaming request body for [`path_for`]`(protocol)`, as the real API
/// expects it (usage requested where it must be asked for).
pub fn request_body_for(protocol: &str) -> Option<Value> {
    let messages = json!([{"role": "user", "content": PROMPT}]);
    Some(match protocol {
        "openai-chat" => json!({
            "model": "mock", "messages": messages, "stream": true,
            "stream_options": {"include_usage": true},
        }),
        "openai-completions" => json!({
            "model": "mock", "prompt": PROMPT, "stream": true,
            "stream_options": {"include_usage": true},
        }),
        "openai-responses" => json!({"model": "mock", "input": PROMPT, "stream": true}),
        // `max_tokens` is required by the real API; this one never caps the mock's defaults.
        "anthropic" => {
            json!({"model": "mock", "max_tokens": 4096, "messages": messages, "stream": true})
        }
        "gemini" => json!({"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]}),
        "ollama" => json!({"model": "mock", "messages": messages, "stream": true}),
        "tgi" => json!({"inputs": PROMPT}),
        "dify" | "generic" => json!({
            "inputs": {}, "query": PROMPT, "response_mode": "streaming",
            "conversation_id": "", "user": "streamperf",
        }),
        _ => return None,
    })
}

/// The mock's non-streaming route for `protocol` (for `generic`, the Dify workflow's).
pub fn whole_path_for(protocol: &str) -> Option<&'static str> {
    match protocol {
        "gemini" => Some("/v1beta/models/mock:generateContent"),
        "tgi" => Some("/generate"),
        "generic" => Some("/v1/workflows/run"),
        other => path_for(other),
    }
}

/// A minimal valid request body for [`whole_path_for`]`(protocol)` that asks for the answer
/// whole, as the real API expects it: `"stream": false`, or Dify's `blocking` mode.
pub fn whole_request_body_for(protocol: &str) -> Option<Value> {
    let mut body = request_body_for(protocol)?;
    match protocol {
        "dify" | "generic" => body["response_mode"] = json!("blocking"),
        "gemini" | "tgi" => {}
        _ => {
            body["stream"] = json!(false);
            if let Some(fields) = body.as_object_mut() {
                fields.remove("stream_options");
            }
        }
    }
    Some(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_protocol_has_a_listed_route_and_a_body() {
        for p in PROTOCOLS {
            let path = path_for(p).unwrap();
            let bare = path.split('?').next().unwrap_or(path).replace("/mock:", "/{model}:");
            assert!(ROUTES.iter().any(|r| r.path.starts_with(&bare)), "{p:?}: {path}");
            assert!(request_body_for(p).unwrap().is_object());
        }
        for p in PROTOCOLS {
            let path = whole_path_for(p).unwrap().replace("/mock:", "/{model}:");
            assert!(ROUTES.iter().any(|r| r.path == path), "{p:?}: {path}");
            let body = whole_request_body_for(p).unwrap();
            assert_ne!(body["stream"], true, "{p:?}");
            assert_ne!(body["response_mode"], "streaming", "{p:?}");
        }
        assert_eq!(listing().lines().count(), ROUTES.len());
        assert_eq!(
            (path_for("soap"), request_body_for("soap"), whole_path_for("soap")),
            (None, None, None)
        );
    }
}
