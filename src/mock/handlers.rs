//! One handler per streaming route: which [`Spec`] it reads its request with, and which framer
//! and content type answer it.

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Version};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::anthropic::AnthropicEvents;
use super::completions::{CompletionChunks, text_completion};
use super::dify::{DifyChat, DifyWorkflow, Framing};
use super::driver::Framer;
use super::errors::{Style, bad_request, client_error};
use super::gemini::GeminiChunks;
use super::ollama::{Endpoint, OllamaLines};
use super::openai::{OpenAiChunks, StreamOptions, chat_completion};
use super::plain::PlainText;
use super::plan::{Fault, MockQuery};
use super::responses::ResponsesEvents;
use super::routes::{App, Prepared, Spec, prepare, streaming};
use super::tgi::TgiEvents;

const SSE: &str = "text/event-stream";
/// What OpenAI's and Anthropic's servers send.
const SSE_UTF8: &str = "text/event-stream; charset=utf-8";
const NDJSON: &str = "application/x-ndjson";

type QueryResult = Result<Query<MockQuery>, QueryRejection>;

/// The OpenAI max-tokens fields (`max_completion_tokens` is the newer name).
const OPENAI_CAPS: &[&str] = &["/max_tokens", "/max_completion_tokens"];

const fn spec(style: Style, caps: &'static [&'static str], reasoning: bool) -> Spec {
    Spec { style, caps, reasoning, json_required: true }
}

const CHAT: Spec = spec(Style::OpenAi, OPENAI_CAPS, true);
const COMPLETIONS: Spec = spec(Style::OpenAi, &["/max_tokens"], false);
const RESPONSES: Spec = spec(Style::OpenAi, &["/max_output_tokens"], true);
const ANTHROPIC: Spec = spec(Style::Anthropic, &["/max_tokens"], true);
/// Google's JSON mapping accepts both spellings.
const GEMINI: Spec = spec(
    Style::Gemini,
    &["/generationConfig/maxOutputTokens", "/generation_config/max_output_tokens"],
    true,
);
const OLLAMA: Spec = spec(Style::Ollama, &["/options/num_predict"], true);
const TGI: Spec = spec(Style::Tgi, &["/parameters/max_new_tokens"], false);
const DIFY: Spec = spec(Style::Dify, OPENAI_CAPS, false);
/// Plain text takes any body, also none (`GET`).
const PLAIN: Spec = Spec { json_required: false, ..spec(Style::OpenAi, OPENAI_CAPS, false) };

/// Prepares the request and streams what `build` frames.
fn serve<F: Framer>(
    app: &App,
    version: Version,
    query: QueryResult,
    raw: &Bytes,
    spec: Spec,
    content_type: &'static str,
    build: impl FnOnce(&Prepared) -> F,
) -> Response {
    let start = Instant::now();
    match prepare(app, start, version, query, raw, spec) {
        Ok(p) => {
            let framer = build(&p);
            streaming(app, p, framer, content_type)
        }
        Err(resp) => *resp,
    }
}

/// `"stream": true` in the body (OpenAI's routes answer with one object otherwise).
fn wants_stream(body: &Value) -> bool {
    body.get("stream").and_then(Value::as_bool) == Some(true)
}

pub(crate) async fn chat_completions(
    State(app): State<Arc<App>>,
    version: Version,
    query: QueryResult,
    raw: Bytes,
) -> Response {
    let start = Instant::now();
    let p = match prepare(&app, start, version, query, &raw, CHAT) {
        Ok(p) => p,
        Err(resp) => return *resp,
    };
    let reply = p.reply(None);
    if !wants_stream(&p.body) {
        return not_streaming(&app, p, chat_completion(&reply)).await;
    }
    let framer = OpenAiChunks::new(reply, StreamOptions::from_body(&p.body));
    streaming(&app, p, framer, SSE)
}

pub(crate) async fn completions(
    State(app): State<Arc<App>>,
    version: Version,
    query: QueryResult,
    raw: Bytes,
) -> Response {
    let start = Instant::now();
    let p = match prepare(&app, start, version, query, &raw, COMPLETIONS) {
        Ok(p) => p,
        Err(resp) => return *resp,
    };
    let reply = p.reply(None);
    if !wants_stream(&p.body) {
        return not_streaming(&app, p, text_completion(&reply)).await;
    }
    let framer = CompletionChunks::new(reply, StreamOptions::from_body(&p.body));
    streaming(&app, p, framer, SSE_UTF8)
}

/// Waits until the whole answer would be generated, then sends `answer` at once.
async fn not_streaming(app: &App, mut p: Prepared, answer: Value) -> Response {
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
        // A pause already delayed the last deadline; a status fault never gets here.
        Some(Fault::Status(_) | Fault::Pause { .. }) | None => {
            let resp = Json(answer).into_response();
            p.guard.stats().record_first_content(p.schedule.start.elapsed());
            p.guard.finish();
            resp
        }
    }
}

pub(crate) async fn responses(
    State(app): State<Arc<App>>,
    version: Version,
    query: QueryResult,
    raw: Bytes,
) -> Response {
    serve(&app, version, query, &raw, RESPONSES, SSE_UTF8, |p| ResponsesEvents::new(p.reply(None)))
}

pub(crate) async fn messages(
    State(app): State<Arc<App>>,
    version: Version,
    query: QueryResult,
    raw: Bytes,
) -> Response {
    serve(&app, version, query, &raw, ANTHROPIC, SSE_UTF8, |p| AnthropicEvents::new(p.reply(None)))
}

/// `/v1beta/models/{model}:streamGenerateContent?alt=sse`. axum cannot match a literal after
/// a parameter within one segment, so the route takes the rest of the path and checks it.
pub(crate) async fn gemini(
    State(app): State<Arc<App>>,
    Path(rest): Path<String>,
    version: Version,
    query: QueryResult,
    raw: Bytes,
) -> Response {
    let Some(model) = rest.strip_suffix(":streamGenerateContent").filter(|m| !m.is_empty()) else {
        let message =
            format!("the mock serves only models/{{model}}:streamGenerateContent, not {rest:?}");
        return client_error(Style::Gemini, 404, &message);
    };
    let start = Instant::now();
    let p = match prepare(&app, start, version, query, &raw, GEMINI) {
        Ok(p) => p,
        Err(resp) => return *resp,
    };
    if p.query.alt.as_deref() != Some("sse") {
        // Without alt=sse Gemini streams one JSON array, a framing the mock does not serve.
        return bad_request(Style::Gemini, "the mock streams only with ?alt=sse");
    }
    let framer = GeminiChunks::new(p.reply(Some(model)));
    streaming(&app, p, framer, SSE)
}

pub(crate) async fn ollama_chat(
    State(app): State<Arc<App>>,
    version: Version,
    query: QueryResult,
    raw: Bytes,
) -> Response {
    serve(&app, version, query, &raw, OLLAMA, NDJSON, |p| {
        OllamaLines::new(p.reply(None), Endpoint::Chat)
    })
}

pub(crate) async fn ollama_generate(
    State(app): State<Arc<App>>,
    version: Version,
    query: QueryResult,
    raw: Bytes,
) -> Response {
    serve(&app, version, query, &raw, OLLAMA, NDJSON, |p| {
        OllamaLines::new(p.reply(None), Endpoint::Generate)
    })
}

pub(crate) async fn tgi(
    State(app): State<Arc<App>>,
    version: Version,
    query: QueryResult,
    raw: Bytes,
) -> Response {
    serve(&app, version, query, &raw, TGI, SSE, |p| TgiEvents::new(p.reply(None)))
}

pub(crate) async fn chat_messages(
    State(app): State<Arc<App>>,
    version: Version,
    query: QueryResult,
    raw: Bytes,
) -> Response {
    serve(&app, version, query, &raw, DIFY, SSE, |p| {
        let conversation_id = p
            .body
            .get("conversation_id")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        DifyChat::new(p.reply(None), conversation_id)
    })
}

pub(crate) async fn workflows_run(
    State(app): State<Arc<App>>,
    version: Version,
    query: QueryResult,
    raw: Bytes,
) -> Response {
    let start = Instant::now();
    let p = match prepare(&app, start, version, query, &raw, DIFY) {
        Ok(p) => p,
        Err(resp) => return *resp,
    };
    let framing = match Framing::parse(p.query.framing.as_deref()) {
        Ok(f) => f,
        Err(msg) => return bad_request(Style::Dify, &msg),
    };
    let workflow = DifyWorkflow::new(p.reply(None), framing);
    streaming(&app, p, workflow, SSE)
}

pub(crate) async fn plain_stream(
    State(app): State<Arc<App>>,
    version: Version,
    query: QueryResult,
    raw: Bytes,
) -> Response {
    serve(&app, version, query, &raw, PLAIN, "text/plain; charset=utf-8", |_| PlainText)
}
