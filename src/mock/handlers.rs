//! One handler per streaming route: which [`Spec`] it reads its request with, and which framer
//! and content type answer it.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde_json::{Value, json};

use super::anthropic::AnthropicEvents;
use super::completions::{CompletionChunks, text_completion};
use super::dify::{DifyChat, DifyWorkflow, Framing};
use super::driver::Framer;
use super::errors::{Style, bad_request, client_error};
use super::gemini::GeminiChunks;
use super::ollama::{Endpoint, OllamaLines};
use super::openai::{OpenAiChunks, StreamOptions, chat_completion};
use super::plain::PlainText;
use super::plan::Fault;
use super::reply::Reply;
use super::responses::ResponsesEvents;
use super::routes::{Incoming, Prepared, Spec, prepare, streaming};
use super::tgi::TgiEvents;

const SSE: &str = "text/event-stream";
/// What OpenAI's and Anthropic's servers send.
const SSE_UTF8: &str = "text/event-stream; charset=utf-8";
const NDJSON: &str = "application/x-ndjson";

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

/// Prepares the request and streams what `build` frames, or sends the error `build` returns.
fn try_serve<F: Framer>(
    req: Incoming,
    spec: Spec,
    content_type: &'static str,
    build: impl FnOnce(&Prepared) -> Result<F, Box<Response>>,
) -> Response {
    let served = prepare(req, spec).and_then(|p| {
        let framer = build(&p)?;
        Ok(streaming(p, framer, content_type))
    });
    served.unwrap_or_else(|resp| *resp)
}

/// Prepares the request and streams what `build` frames.
fn serve<F: Framer>(
    req: Incoming,
    spec: Spec,
    content_type: &'static str,
    build: impl FnOnce(&Prepared) -> F,
) -> Response {
    try_serve(req, spec, content_type, |p| Ok(build(p)))
}

/// An OpenAI route: the `whole` answer as one object, or with `"stream": true` in the body
/// the stream `chunks` frames with the body's `stream_options`.
async fn openai<F: Framer>(
    req: Incoming,
    spec: Spec,
    content_type: &'static str,
    whole: fn(&Reply) -> Value,
    chunks: fn(Reply, StreamOptions) -> F,
) -> Response {
    let p = match prepare(req, spec) {
        Ok(p) => p,
        Err(resp) => return *resp,
    };
    let reply = p.reply(None);
    if p.body.get("stream").and_then(Value::as_bool) != Some(true) {
        return not_streaming(p, whole(&reply)).await;
    }
    let framer = chunks(reply, StreamOptions::from_body(&p.body));
    streaming(p, framer, content_type)
}

pub(crate) async fn chat_completions(req: Incoming) -> Response {
    openai(req, CHAT, SSE, chat_completion, OpenAiChunks::new).await
}

pub(crate) async fn completions(req: Incoming) -> Response {
    openai(req, COMPLETIONS, SSE_UTF8, text_completion, CompletionChunks::new).await
}

/// Waits for a slot and until the whole answer would be generated, then sends `answer` at
/// once. The slot is held until then (or, for a close or stall fault, by the body).
async fn not_streaming(mut p: Prepared, answer: Value) -> Response {
    let slot = p.app.slots.take(&mut p.schedule).await;
    tokio::time::sleep_until(p.schedule.last_deadline()).await;
    match p.fault {
        Some(Fault::Error(_)) => {
            let body =
                json!({"error": {"message": "mock in-stream error", "type": "server_error"}});
            (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
        }
        Some(Fault::Close(_) | Fault::Stall(_)) => {
            let stall = matches!(p.fault, Some(Fault::Stall(_)));
            let mut shutdown = p.app.shutdown.clone();
            let mut guard = p.guard;
            // Headers go out, then the body stalls or aborts; the guard lives in the body so
            // that a stall stays in flight until the client leaves.
            let body = stream::once(async move {
                // As in the driver: a dropped handle is no reason to end a stall.
                if stall && shutdown.wait_for(|stop| *stop).await.is_err() {
                    std::future::pending::<()>().await;
                }
                guard.finish();
                drop(slot);
                Err::<Bytes, _>(std::io::Error::other("mock fault: connection closed"))
            });
            Response::new(Body::from_stream(body))
        }
        // A pause already delayed the last deadline; a status fault never gets here.
        Some(
            Fault::Status(_)
            | Fault::Pause { .. }
            | Fault::Connection(_)
            | Fault::Redirect(_)
            | Fault::RedirectLoop,
        )
        | None => {
            let resp = Json(answer).into_response();
            p.guard.stats().record_first_content(p.schedule.received.elapsed());
            p.guard.finish();
            resp
        }
    }
}

pub(crate) async fn responses(req: Incoming) -> Response {
    serve(req, RESPONSES, SSE_UTF8, |p| ResponsesEvents::new(p.reply(None)))
}

pub(crate) async fn messages(req: Incoming) -> Response {
    serve(req, ANTHROPIC, SSE_UTF8, |p| AnthropicEvents::new(p.reply(None)))
}

/// `/v1beta/models/{model}:streamGenerateContent?alt=sse`. axum cannot match a literal after
/// a parameter within one segment, so the route takes the rest of the path and checks it.
pub(crate) async fn gemini(Path(rest): Path<String>, req: Incoming) -> Response {
    let Some(model) = rest.strip_suffix(":streamGenerateContent").filter(|m| !m.is_empty()) else {
        let message =
            format!("the mock serves only models/{{model}}:streamGenerateContent, not {rest:?}");
        return client_error(Style::Gemini, 404, &message);
    };
    try_serve(req, GEMINI, SSE, |p| {
        if p.query.alt.as_deref() != Some("sse") {
            // Without alt=sse Gemini streams one JSON array, a framing the mock does not serve.
            let message = "the mock streams only with ?alt=sse";
            return Err(Box::new(bad_request(Style::Gemini, message)));
        }
        Ok(GeminiChunks::new(p.reply(Some(model))))
    })
}

pub(crate) async fn ollama_chat(req: Incoming) -> Response {
    serve(req, OLLAMA, NDJSON, |p| OllamaLines::new(p.reply(None), Endpoint::Chat))
}

pub(crate) async fn ollama_generate(req: Incoming) -> Response {
    serve(req, OLLAMA, NDJSON, |p| OllamaLines::new(p.reply(None), Endpoint::Generate))
}

pub(crate) async fn tgi(req: Incoming) -> Response {
    serve(req, TGI, SSE, |p| TgiEvents::new(p.reply(None)))
}

pub(crate) async fn chat_messages(req: Incoming) -> Response {
    serve(req, DIFY, SSE, |p| {
        let conversation_id = p
            .body
            .get("conversation_id")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        DifyChat::new(p.reply(None), conversation_id)
    })
}

pub(crate) async fn workflows_run(req: Incoming) -> Response {
    try_serve(req, DIFY, SSE, |p| {
        let framing = Framing::parse(p.query.framing.as_deref())
            .map_err(|msg| Box::new(bad_request(Style::Dify, &msg)))?;
        Ok(DifyWorkflow::new(p.reply(None), framing))
    })
}

pub(crate) async fn plain_stream(req: Incoming) -> Response {
    serve(req, PLAIN, "text/plain; charset=utf-8", |_| PlainText)
}
