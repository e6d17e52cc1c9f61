//! The mock's router: one handler a route (`handlers`), the mock's own pages (`/mock/stats`,
//! `/mock/reset`, `GET /`) and the layers that inject connection, header and redirect faults.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::catalog;
use super::handlers as h;
use super::request::App;

/// All routes of the mock.
pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(h::chat_completions))
        .route("/v1/completions", post(h::completions))
        .route("/v1/responses", post(h::responses))
        .route("/v1/messages", post(h::messages))
        .route("/v1beta/models/{*rest}", post(h::gemini))
        .route("/api/chat", post(h::ollama_chat))
        .route("/api/generate", post(h::ollama_generate))
        .route("/generate_stream", post(h::tgi))
        .route("/generate", post(h::tgi_generate))
        .route("/v1/chat-messages", post(h::chat_messages))
        .route("/v1/workflows/run", post(h::workflows_run))
        .route("/v1/stream", get(h::plain_stream).post(h::plain_stream))
        .route("/v1/models", get(models))
        .route("/mock/stats", get(stats))
        .route("/mock/reset", post(reset))
        .route("/", get(index))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(app.clone(), super::conn::close_connections))
        .layer(axum::middleware::from_fn(super::overrides::overrides))
        .layer(axum::middleware::from_fn(super::encoding::encode))
        .layer(axum::middleware::from_fn(super::redirect::redirects))
        .with_state(app)
}

/// `GET /mock/stats` query.
#[derive(Debug, Deserialize)]
struct StatsQuery {
    bodies: Option<String>,
}

async fn stats(State(app): State<Arc<App>>, Query(q): Query<StatsQuery>) -> Response {
    let mut snap = app.stats.snapshot();
    if matches!(q.bodies.as_deref(), Some("1" | "true" | "yes")) {
        snap.bodies = Some(app.stats.bodies());
    }
    Json(snap).into_response()
}

async fn reset(State(app): State<Arc<App>>) -> Response {
    app.stats.reset();
    Json(app.stats.snapshot()).into_response()
}

/// `GET /`: the route list, for a human with curl.
/// OpenAI's models list, as vLLM and SGLang serve it: what a client names when it has no model.
async fn models() -> Response {
    let model = json!({"id": "mock", "object": "model", "created": 0, "owned_by": "streamperf"});
    Json(json!({"object": "list", "data": [model]})).into_response()
}

async fn index() -> Response {
    let text = format!("streamperf mock\n\n{}", catalog::listing());
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

pub(crate) async fn not_found() -> Response {
    let body = json!({"error": {
        "message": "no such mock route; GET / lists them",
        "type": "invalid_request_error",
    }});
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}
