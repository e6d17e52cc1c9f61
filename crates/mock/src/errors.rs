//! Error responses in each API's own shape: bad requests (400), `?fail=status:<code>` (also
//! `status-close:<code>`), `?fail=throttle-date` and Dify's unknown conversation (404).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Which API's error body a route answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// `{"error": {"message", "type", …}}` (chat, completions, Responses, plain text).
    OpenAi,
    /// `{"code", "message", "status"}`.
    Dify,
    /// `{"type": "error", "error": {"type", "message"}}`.
    Anthropic,
    /// `{"error": {"code", "message", "status"}}`.
    Gemini,
    /// `{"error": "…"}`.
    Ollama,
    /// `{"error": "…", "error_type": "…"}`.
    Tgi,
}

/// A 400 with `message` in `style`.
pub(crate) fn bad_request(style: Style, message: &str) -> Response {
    client_error(style, 400, message)
}

/// A 4xx `code` about the request, with `message` in `style`.
pub(crate) fn client_error(style: Style, code: u16, message: &str) -> Response {
    let body = match style {
        Style::OpenAi => json!({"error": {
            "message": message, "type": "invalid_request_error", "param": null, "code": null,
        }}),
        Style::Dify => json!({"code": "invalid_param", "message": message, "status": code}),
        _ => body(style, code, message),
    };
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(body)).into_response()
}

/// Dify's answer to a `conversation_id` it never issued, word for word.
pub(crate) fn conversation_not_exists() -> Response {
    let body = json!({"code": "not_found", "message": "Conversation Not Exists.", "status": 404});
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

/// The answer to `fail=status:<code>`: the code with `style`'s error body, and
/// `Retry-After: 1` on 429 and 503 so clients' retry handling can be tested.
pub(crate) fn status_failure(style: Style, code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match style {
        // Kept exactly as before the other styles existed: tests and users match on it.
        Style::OpenAi => json!({"error": {"message": "mock failure", "type": "mock_error"}}),
        Style::Dify => json!({"code": "mock_error", "message": "mock failure", "status": code}),
        _ => body(style, code, "mock failure"),
    };
    let mut resp = (status, Json(body)).into_response();
    if matches!(code, 429 | 503) {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    resp
}

/// The answer to `fail=throttle-date`: `style`'s 429 as `status:429` sends it, but with
/// `Retry-After` as an HTTP-date (IMF-fixdate) 2 seconds ahead, at its one-second resolution, as
/// some gateways and CDNs send it: a client that reads only delay-seconds misreads it.
pub(crate) fn throttle_date(style: Style) -> Response {
    let mut resp = status_failure(style, 429);
    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(2);
    let date = at.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string();
    if let Ok(date) = HeaderValue::try_from(date) {
        resp.headers_mut().insert(header::RETRY_AFTER, date);
    }
    resp
}

/// The error body of the styles whose type depends on the status code.
fn body(style: Style, code: u16, message: &str) -> Value {
    match style {
        Style::Anthropic => {
            json!({"type": "error", "error": {"type": anthropic_type(code), "message": message}})
        }
        Style::Gemini => {
            json!({"error": {"code": code, "message": message, "status": gemini_status(code)}})
        }
        Style::Ollama => json!({"error": message}),
        Style::Tgi => json!({"error": message, "error_type": tgi_type(code)}),
        Style::OpenAi | Style::Dify => json!({"error": {"message": message}}),
    }
}

/// Anthropic's documented error types by HTTP status.
fn anthropic_type(code: u16) -> &'static str {
    match code {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

/// Google's canonical status names by HTTP status.
fn gemini_status(code: u16) -> &'static str {
    match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        500 => "INTERNAL",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "UNKNOWN",
    }
}

/// TGI's error types by HTTP status.
fn tgi_type(code: u16) -> &'static str {
    match code {
        400 | 422 => "validation",
        429 => "overloaded",
        _ => "generation",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn json_of(resp: Response) -> (u16, Value) {
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16).await.expect("a body");
        (status, serde_json::from_slice(&bytes).expect("a JSON body"))
    }

    #[tokio::test]
    async fn each_style_has_its_shape() {
        let (s, v) = json_of(status_failure(Style::Anthropic, 529)).await;
        assert_eq!(
            (s, v["type"].as_str(), v["error"]["type"].as_str()),
            (529, Some("error"), Some("overloaded_error"))
        );
        let (s, v) = json_of(status_failure(Style::Gemini, 429)).await;
        assert_eq!(
            (s, v["error"]["status"].as_str(), v["error"]["code"].as_u64()),
            (429, Some("RESOURCE_EXHAUSTED"), Some(429))
        );
        let (_, v) = json_of(status_failure(Style::Ollama, 500)).await;
        assert_eq!(v, json!({"error": "mock failure"}));
        let (_, v) = json_of(status_failure(Style::Tgi, 429)).await;
        assert_eq!(v, json!({"error": "mock failure", "error_type": "overloaded"}));
        let (_, v) = json_of(status_failure(Style::Dify, 502)).await;
        assert_eq!(v["status"], 502);
        let (s, v) = json_of(bad_request(Style::Gemini, "nope")).await;
        assert_eq!((s, v["error"]["status"].as_str()), (400, Some("INVALID_ARGUMENT")));
        let (_, v) = json_of(bad_request(Style::OpenAi, "nope")).await;
        assert_eq!(v["error"]["type"], "invalid_request_error");
    }

    #[test]
    fn retry_after_on_429_and_503_only() {
        for (code, retry) in [(429, true), (503, true), (500, false)] {
            let resp = status_failure(Style::Tgi, code);
            assert_eq!(resp.headers().contains_key(header::RETRY_AFTER), retry, "{code}");
        }
    }
}
