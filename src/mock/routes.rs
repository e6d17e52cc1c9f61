//! The mock's router and handlers: request parsing, overrides, status faults and error bodies
//! in each API's own style. Streaming itself lives in [`super::driver`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, Version, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::stream;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

use super::MockOptions;
use super::dify::{DifyChat, DifyRequest, DifyWorkflow, Framing};
use super::driver::{self, Framer};
use super::openai::{OpenAiChunks, OpenAiRequest};
use super::plain::PlainText;
use super::plan::{Fault, MockQuery, Schedule};
use super::stats::{InFlight, MockStats};

/// State shared by every handler.
#[derive(Debug)]
pub(crate) struct App {
    pub options: MockOptions,
    pub stats: Arc<MockStats>,
    pub next_id: AtomicU64,
    /// Turns true when the server stops; ends stalled streams.
    pub shutdown: watch::Receiver<bool>,
}

/// All routes of the mock.
pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/chat-messages", post(chat_messages))
        .route("/v1/workflows/run", post(workflows_run))
        .route("/v1/stream", get(plain_stream).post(plain_stream))
        .route("/mock/stats", get(stats))
        .route("/mock/reset", post(reset))
        .fallback(not_found)
        .with_state(app)
}

/// How a route reports bad requests.
#[derive(Debug, Clone, Copy)]
enum Style {
    OpenAi,
    Dify,
}

fn bad_request(style: Style, message: &str) -> Response {
    let body = match style {
        Style::OpenAi => json!({"error": {
            "message": message, "type": "invalid_request_error", "param": null, "code": null,
        }}),
        Style::Dify => json!({"code": "invalid_param", "message": message, "status": 400}),
    };
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// The answer to `fail=status:<code>`.
fn status_failure(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({"error": {"message": "mock failure", "type": "mock_error"}});
    let mut resp = (status, Json(body)).into_response();
    if matches!(code, 429 | 503) {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    resp
}

/// A request that passed validation, counted in flight.
struct Prepared {
    guard: InFlight,
    id: u64,
    created: i64,
    body: Value,
    schedule: Schedule,
    fault: Option<Fault>,
    framing: Option<String>,
    prompt_tokens: u64,
}

/// Counts the request (and its HTTP `version`), applies the query, parses and records the body
/// (`{}` when empty and `json_required` is false) and answers status faults and bad input
/// right away.
fn prepare(
    app: &App,
    start: Instant,
    version: Version,
    query: Result<Query<MockQuery>, QueryRejection>,
    raw: &Bytes,
    style: Style,
    json_required: bool,
) -> Result<Prepared, Box<Response>> {
    let guard = InFlight::enter(app.stats.clone(), version == Version::HTTP_2);
    let Query(query) = query.map_err(|e| Box::new(bad_request(style, &e.body_text())))?;
    let fault = match query.fail.as_deref().map(Fault::parse).transpose() {
        Ok(f) => f,
        Err(msg) => return Err(Box::new(bad_request(style, &msg))),
    };
    let body = match serde_json::from_slice::<Value>(raw) {
        Ok(v) => {
            app.stats.record_body(&v);
            v
        }
        Err(_) if !json_required => json!({}),
        Err(e) => {
            let msg = format!("invalid JSON body: {e}");
            return Err(Box::new(bad_request(style, &msg)));
        }
    };
    if let Some(Fault::Status(code)) = fault {
        return Err(Box::new(status_failure(code)));
    }
    let max_tokens = ["max_tokens", "max_completion_tokens"]
        .iter()
        .find_map(|k| body.get(k).and_then(Value::as_u64));
    let id = app.next_id.fetch_add(1, Ordering::Relaxed) + 1;
    let schedule = Schedule::new(start, &app.options, &query, max_tokens, id);
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    Ok(Prepared {
        guard,
        id,
        created,
        prompt_tokens: prompt_tokens(&body),
        body,
        schedule,
        fault,
        framing: query.framing,
    })
}

/// A rough prompt size (characters ÷ 4) for the usage reports: only its presence matters.
fn prompt_tokens(body: &Value) -> u64 {
    fn chars(v: &Value) -> usize {
        match v {
            Value::String(s) => s.chars().count(),
            Value::Array(a) => a.iter().map(chars).sum(),
            Value::Object(o) => o.values().map(chars).sum(),
            _ => 0,
        }
    }
    let n: usize = ["messages", "prompt", "query", "inputs", "input"]
        .iter()
        .filter_map(|k| body.get(k))
        .map(chars)
        .sum();
    (n as u64).div_ceil(4).max(1)
}

/// A streaming response of `content_type` driven by `framer`.
fn streaming(app: &App, p: Prepared, framer: impl Framer, content_type: &'static str) -> Response {
    let body = driver::body(framer, p.schedule, p.fault, p.guard, app.shutdown.clone());
    let mut resp = Response::new(body);
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

const SSE: &str = "text/event-stream";

async fn chat_completions(
    State(app): State<Arc<App>>,
    version: Version,
    query: Result<Query<MockQuery>, QueryRejection>,
    raw: Bytes,
) -> Response {
    let start = Instant::now();
    let p = match prepare(&app, start, version, query, &raw, Style::OpenAi, true) {
        Ok(p) => p,
        Err(resp) => return *resp,
    };
    let (model, include_usage) = OpenAiRequest::from_body(&p.body);
    let req = OpenAiRequest {
        id: p.id,
        created: p.created,
        model,
        include_usage,
        prompt_tokens: p.prompt_tokens,
        tokens: p.schedule.tokens,
        capped: p.schedule.capped,
    };
    if p.body.get("stream").and_then(Value::as_bool) == Some(true) {
        streaming(&app, p, OpenAiChunks::new(req), SSE)
    } else {
        not_streaming(&app, p, req).await
    }
}

/// Waits until the whole answer would be generated, then sends it at once.
async fn not_streaming(app: &App, mut p: Prepared, req: OpenAiRequest) -> Response {
    tokio::time::sleep_until(p.schedule.last_deadline()).await;
    match p.fault {
        Some(Fault::Error(_)) => {
            let body =
                json!({"error": {"message": "mock in-stream error", "type": "server_error"}});
            (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
        }
        Some(Fault::Close(_) | Fault::Stall(_)) => {
            let stall = matches!(p.fault, Some(Fault::Stall(_)));
            let mut shutdown = app.shutdown.clone();
            let mut guard = p.guard;
            // Headers go out, then the body stalls or aborts; the guard lives in the body so
            // that a stall stays in flight until the client leaves.
            let body = stream::once(async move {
                // As in the driver: a dropped handle is no reason to end a stall.
                if stall && shutdown.wait_for(|stop| *stop).await.is_err() {
                    std::future::pending::<()>().await;
                }
                guard.finish();
                Err::<Bytes, _>(std::io::Error::other("mock fault: connection closed"))
            });
            Response::new(Body::from_stream(body))
        }
        Some(Fault::Status(_)) | None => {
            let resp = Json(req.completion()).into_response();
            p.guard.stats().record_first_content(p.schedule.start.elapsed());
            p.guard.finish();
            resp
        }
    }
}

async fn chat_messages(
    State(app): State<Arc<App>>,
    version: Version,
    query: Result<Query<MockQuery>, QueryRejection>,
    raw: Bytes,
) -> Response {
    let start = Instant::now();
    let p = match prepare(&app, start, version, query, &raw, Style::Dify, true) {
        Ok(p) => p,
        Err(resp) => return *resp,
    };
    let chat = DifyChat::new(dify_request(&p));
    streaming(&app, p, chat, SSE)
}

async fn workflows_run(
    State(app): State<Arc<App>>,
    version: Version,
    query: Result<Query<MockQuery>, QueryRejection>,
    raw: Bytes,
) -> Response {
    let start = Instant::now();
    let p = match prepare(&app, start, version, query, &raw, Style::Dify, true) {
        Ok(p) => p,
        Err(resp) => return *resp,
    };
    let framing = match Framing::parse(p.framing.as_deref()) {
        Ok(f) => f,
        Err(msg) => return bad_request(Style::Dify, &msg),
    };
    let workflow = DifyWorkflow::new(dify_request(&p), framing);
    streaming(&app, p, workflow, SSE)
}

fn dify_request(p: &Prepared) -> DifyRequest {
    let conversation_id = p
        .body
        .get("conversation_id")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    DifyRequest {
        id: p.id,
        created: p.created,
        conversation_id,
        prompt_tokens: p.prompt_tokens,
        tokens: p.schedule.tokens,
    }
}

async fn plain_stream(
    State(app): State<Arc<App>>,
    version: Version,
    query: Result<Query<MockQuery>, QueryRejection>,
    raw: Bytes,
) -> Response {
    let start = Instant::now();
    match prepare(&app, start, version, query, &raw, Style::OpenAi, false) {
        Ok(p) => streaming(&app, p, PlainText, "text/plain; charset=utf-8"),
        Err(resp) => *resp,
    }
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

async fn not_found() -> Response {
    let body = json!({"error": {
        "message": "no such mock route; try POST /v1/chat/completions, /v1/chat-messages, \
                    /v1/workflows/run, /v1/stream or GET /mock/stats",
        "type": "invalid_request_error",
    }});
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}
