//! One handler per route: which [`Spec`] it reads its request with, whether the request asks
//! for a stream (its body's `stream`, `response_mode`, or the route itself), and which framer
//! and content type, or which whole JSON answer, answer it.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde_json::Value;

use super::conversations::Turn;
use super::driver::Framer;
use super::errors::{Style, bad_request, client_error, conversation_not_exists};
use super::fault::Fault;
use super::formats::anthropic::{self, AnthropicEvents};
use super::formats::completions::{CompletionChunks, text_completion};
use super::formats::dify::{self, DifyChat, DifyWorkflow, Framing};
use super::formats::gemini::{self, GeminiChunks};
use super::formats::ollama::{self, Endpoint, OllamaLines};
use super::formats::openai::{self, OpenAiChunks, StreamOptions, chat_completion};
use super::formats::plain::PlainText;
use super::formats::responses::ResponsesEvents;
use super::formats::tgi::{self, TgiEvents};
use super::reply::Reply;
use super::request::{Incoming, Prepared, Spec, prepare, streaming};

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

/// Prepares the request and streams what `build` frames.
async fn serve<F: Framer>(
    req: Incoming,
    spec: Spec,
    content_type: &'static str,
    build: impl FnOnce(&Prepared) -> F,
) -> Response {
    respond(req, spec, content_type, |p| Ok(Answer::Stream(build(p)))).await
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
    respond(req, spec, content_type, |p| {
        let reply = p.reply(None);
        Ok(match asks_to_stream(&p.body) {
            true => Answer::Stream(chunks(reply, StreamOptions::from_body(&p.body))),
            false => Answer::whole(reply, whole, openai::whole_error()),
        })
    })
    .await
}

/// `"stream": true` in the body: OpenAI's and Anthropic's APIs answer whole without it.
fn asks_to_stream(body: &Value) -> bool {
    body.get("stream").and_then(Value::as_bool) == Some(true)
}

pub(crate) async fn chat_completions(req: Incoming) -> Response {
    openai(req, CHAT, SSE, chat_completion, OpenAiChunks::new).await
}

pub(crate) async fn completions(req: Incoming) -> Response {
    openai(req, COMPLETIONS, SSE_UTF8, text_completion, CompletionChunks::new).await
}

/// Waits for a slot and until the whole answer would be generated, then sends what `answer`
/// builds at once. The slot is held until then (or, for a close or stall fault, by the body).
/// An error fault sends `error`, the provider's error object, in a 200, as gateways that
/// hide an upstream failure do.
async fn not_streaming(mut p: Prepared, answer: impl FnOnce() -> Value, error: Value) -> Response {
    let slot = p.app.slots.take(&mut p.schedule).await;
    tokio::time::sleep_until(p.schedule.last_deadline()).await;
    match p.fault {
        Some(Fault::Error(_)) => Json(error).into_response(),
        // A generation that never ends (`endless`) never completes a whole answer: its head
        // goes out when the planned answer would have been done, then nothing.
        Some(Fault::Close(_) | Fault::Stall(_) | Fault::Endless) => {
            let stall = matches!(p.fault, Some(Fault::Stall(_) | Fault::Endless));
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
        // A pause already delayed the last deadline, a status fault never gets here, and the
        // other faults (connection, redirect, stream shape) leave a whole answer as it is.
        _ => {
            let resp = Json(answer()).into_response();
            p.guard.stats().record_first_content(p.schedule.received.elapsed());
            p.guard.finish();
            resp
        }
    }
}

/// What a route answers a request with.
enum Answer<F> {
    /// The frames of a stream, sent with the route's content type.
    Stream(F),
    /// One JSON object, built when it is due; `error`, the provider's error object, instead
    /// for `fail=error:k`.
    Whole { answer: Box<dyn FnOnce() -> Value + Send>, error: Value },
}

impl<F> Answer<F> {
    /// The whole answer `answer` makes of `reply`, or `error`.
    fn whole(
        reply: Reply,
        answer: impl FnOnce(&Reply) -> Value + Send + 'static,
        error: Value,
    ) -> Answer<F> {
        Answer::Whole { answer: Box::new(move || answer(&reply)), error }
    }
}

/// Prepares the request and sends what `decide` answers it with (or the error it returns).
async fn respond<F: Framer>(
    req: Incoming,
    spec: Spec,
    content_type: &'static str,
    decide: impl FnOnce(&Prepared) -> Result<Answer<F>, Box<Response>>,
) -> Response {
    let mut p = match prepare(req, spec) {
        Ok(p) => p,
        Err(resp) => return *resp,
    };
    p.hold_head().await;
    match decide(&p) {
        Ok(Answer::Stream(framer)) => streaming(p, framer, content_type),
        Ok(Answer::Whole { answer, error }) => not_streaming(p, answer, error).await,
        Err(resp) => *resp,
    }
}

pub(crate) async fn responses(req: Incoming) -> Response {
    respond(req, RESPONSES, SSE_UTF8, |p| {
        let events = ResponsesEvents::new(p.reply(None));
        Ok(match asks_to_stream(&p.body) {
            true => Answer::Stream(events),
            false => {
                let error = events.failed();
                Answer::Whole { answer: Box::new(move || events.finished()), error }
            }
        })
    })
    .await
}

pub(crate) async fn messages(req: Incoming) -> Response {
    respond(req, ANTHROPIC, SSE_UTF8, |p| {
        let reply = p.reply(None);
        Ok(match asks_to_stream(&p.body) {
            true => Answer::Stream(AnthropicEvents::new(reply)),
            false => Answer::whole(reply, anthropic::message, anthropic::whole_error()),
        })
    })
    .await
}

/// `/v1beta/models/{model}:streamGenerateContent?alt=sse`, and `:generateContent`, which
/// answers whole. axum cannot match a literal after a parameter within one segment, so the
/// route takes the rest of the path and checks it.
pub(crate) async fn gemini(Path(rest): Path<String>, req: Incoming) -> Response {
    let method = |suffix| rest.strip_suffix(suffix).filter(|m: &&str| !m.is_empty());
    let (model, streams) = match (method(":streamGenerateContent"), method(":generateContent")) {
        (Some(model), _) => (model.to_owned(), true),
        (None, Some(model)) => (model.to_owned(), false),
        (None, None) => {
            let message = format!(
                "the mock serves only models/{{model}}:streamGenerateContent and \
                 :generateContent, not {rest:?}"
            );
            return client_error(Style::Gemini, 404, &message);
        }
    };
    respond(req, GEMINI, SSE, |p| {
        let reply = p.reply(Some(&model));
        if !streams {
            return Ok(Answer::whole(reply, gemini::generate_content, gemini::whole_error()));
        }
        if p.query.alt.as_deref() != Some("sse") {
            // Without alt=sse Gemini streams one JSON array, a framing the mock does not serve.
            let message = "the mock streams only with ?alt=sse";
            return Err(Box::new(bad_request(Style::Gemini, message)));
        }
        Ok(Answer::Stream(GeminiChunks::new(reply)))
    })
    .await
}

/// An Ollama route: NDJSON lines, or with `"stream": false` the whole answer.
async fn ollama(req: Incoming, endpoint: Endpoint) -> Response {
    respond(req, OLLAMA, NDJSON, |p| {
        let reply = p.reply(None);
        Ok(match p.body.get("stream").and_then(Value::as_bool) {
            Some(false) => {
                Answer::whole(reply, move |r| ollama::whole(r, endpoint), ollama::whole_error())
            }
            _ => Answer::Stream(OllamaLines::new(reply, endpoint)),
        })
    })
    .await
}

pub(crate) async fn ollama_chat(req: Incoming) -> Response {
    ollama(req, Endpoint::Chat).await
}

pub(crate) async fn ollama_generate(req: Incoming) -> Response {
    ollama(req, Endpoint::Generate).await
}

pub(crate) async fn tgi(req: Incoming) -> Response {
    serve(req, TGI, SSE, |p| TgiEvents::new(p.reply(None))).await
}

/// TGI's `/generate`: always the whole answer.
pub(crate) async fn tgi_generate(req: Incoming) -> Response {
    respond(req, TGI, SSE, |p| {
        let whole = Answer::<TgiEvents>::whole(p.reply(None), tgi::generated, tgi::whole_error());
        Ok(whole)
    })
    .await
}

/// Dify's `"response_mode": "blocking"`: the answer comes whole.
fn blocking(body: &Value) -> bool {
    body.get("response_mode").and_then(Value::as_str) == Some("blocking")
}

/// The conversation a Dify chat request goes on in (counted), or starts when its
/// `conversation_id` is empty or missing; Dify's 404 for an id the mock never issued.
fn conversation(p: &Prepared, reply: &Reply) -> Result<String, Box<Response>> {
    let given = p.body.get("conversation_id").and_then(Value::as_str);
    match p.app.conversations.turn(given, || dify::new_conversation_id(reply)) {
        Turn::First(id) => Ok(id),
        Turn::Next(id) => {
            p.app.stats.record_conversation_continued();
            Ok(id)
        }
        Turn::Unknown => Err(Box::new(conversation_not_exists())),
    }
}

pub(crate) async fn chat_messages(req: Incoming) -> Response {
    respond(req, DIFY, SSE, |p| {
        let reply = p.reply(None);
        let conversation_id = conversation(p, &reply)?;
        Ok(match blocking(&p.body) {
            true => Answer::whole(
                reply,
                move |r| dify::blocking_message(r, &conversation_id),
                dify::whole_error(),
            ),
            false => Answer::Stream(DifyChat::new(reply, &conversation_id)),
        })
    })
    .await
}

pub(crate) async fn workflows_run(req: Incoming) -> Response {
    respond(req, DIFY, SSE, |p| {
        let reply = p.reply(None);
        if blocking(&p.body) {
            let failed = dify::blocking_run(&reply, false);
            return Ok(Answer::whole(reply, |r| dify::blocking_run(r, true), failed));
        }
        let framing = Framing::parse(p.query.framing.as_deref())
            .map_err(|msg| Box::new(bad_request(Style::Dify, &msg)))?;
        Ok(Answer::Stream(DifyWorkflow::new(reply, framing)))
    })
    .await
}

pub(crate) async fn plain_stream(req: Incoming) -> Response {
    serve(req, PLAIN, "text/plain; charset=utf-8", |_| PlainText).await
}
