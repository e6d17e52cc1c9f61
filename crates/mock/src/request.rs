//! What every route does with a request before its handler formats the answer: the shared
//! state ([`App`]), what it extracts ([`Incoming`]), counting, query overrides, body parsing,
//! status faults, and the streaming response. The router is in `routes`, the handlers in
//! `handlers`, the timed loop in `driver`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::{HeaderValue, Version, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

use super::MockOptions;
use super::conversations::Conversations;
use super::driver::{self, Framer};
use super::errors::{Style, bad_request, status_failure, throttle_date};
use super::fault::Fault;
use super::foreign;
use super::plan::{MockQuery, Schedule, Shape};
use super::prefix::PrefixCache;
use super::reply::Reply;
use super::slots::Slots;
use super::stats::{InFlight, MockStats};

/// State shared by every handler.
#[derive(Debug)]
pub(crate) struct App {
    pub options: MockOptions,
    pub stats: Arc<MockStats>,
    pub next_id: AtomicU64,
    /// `--slots`: how many responses may generate at once.
    pub slots: Slots,
    /// `--prefix-cache`: the blocks of the prompts seen so far.
    pub prefix_cache: Option<PrefixCache>,
    /// The Dify conversations issued so far.
    pub conversations: Conversations,
    /// Turns true when the server stops; ends stalled streams.
    pub shutdown: watch::Receiver<bool>,
}

/// How a route reads its request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    /// Its API's error bodies.
    pub style: Style,
    /// JSON pointers to the body's max-tokens field; the first present one caps the output.
    pub caps: &'static [&'static str],
    /// The format has a reasoning field (else `--reasoning-tokens` is ignored).
    pub reasoning: bool,
    /// A body that is not JSON is a 400 (else it counts as `{}`).
    pub json_required: bool,
}

/// What every streaming route reads from its request: the HTTP version, the query overrides
/// (a bad query is answered in the route's own error style, so it is kept as a `Result`) and
/// the raw body. It consumes the body, so it is a handler's last argument.
pub(crate) struct Incoming {
    app: Arc<App>,
    version: Version,
    query: Result<Query<MockQuery>, QueryRejection>,
    raw: Bytes,
}

impl FromRequest<Arc<App>> for Incoming {
    /// The body could not be read (axum's own answer, as with a plain `Bytes` argument).
    type Rejection = Response;

    async fn from_request(req: Request, app: &Arc<App>) -> Result<Incoming, Response> {
        let (mut parts, body) = req.into_parts();
        let version = parts.version;
        let query = Query::from_request_parts(&mut parts, app).await;
        let req = Request::from_parts(parts, body);
        let raw = Bytes::from_request(req, app).await.map_err(IntoResponse::into_response)?;
        Ok(Incoming { app: app.clone(), version, query, raw })
    }
}

/// A request that passed validation, counted in flight.
pub(crate) struct Prepared {
    pub app: Arc<App>,
    pub guard: InFlight,
    pub body: Value,
    pub schedule: Schedule,
    pub fault: Option<Fault>,
    pub query: MockQuery,
    reply: Reply,
}

impl Prepared {
    /// `fail=slow-headers:<ms>`: holds the response head back until `ms` milliseconds after
    /// the request came (or the server stops), then starts the answer's timing afresh, as a
    /// wait for a slot does: only the head is late, the stream after it is as usual.
    pub(crate) async fn hold_head(&mut self) {
        let Some(Fault::SlowHeaders(ms)) = self.fault else { return };
        let mut shutdown = self.app.shutdown.clone();
        let stopped = async move {
            // Err: the handle was dropped without `shutdown()`, which does not stop the server.
            if shutdown.wait_for(|stop| *stop).await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        let due = self.schedule.received + Duration::from_millis(ms);
        tokio::select! {
            () = tokio::time::sleep_until(due) => {}
            () = stopped => {}
        }
        self.schedule.restart(Instant::now());
    }

    /// The response's ids and counts; `model` replaces the body's `model` when given.
    pub(crate) fn reply(&self, model: Option<&str>) -> Reply {
        let mut reply = self.reply.clone();
        if let Some(m) = model {
            m.clone_into(&mut reply.model);
        }
        reply
    }
}

/// Counts the request (and its HTTP version), applies the query, parses and records the body
/// and answers bad input and status faults right away; then counts the prompt and, with
/// `--prefix-cache`, prefills it. The schedule starts now (and moves if the response has to
/// wait for a slot).
pub(crate) fn prepare(req: Incoming, spec: Spec) -> Result<Prepared, Box<Response>> {
    let start = Instant::now();
    let Incoming { app, version, query, raw } = req;
    let guard = InFlight::enter(app.stats.clone(), version == Version::HTTP_2);
    let bad = |msg: &str| Box::new(bad_request(spec.style, msg));
    let Query(mut query) = query.map_err(|e| bad(&e.body_text()))?;
    let fault = query.fail.as_deref().map(Fault::parse).transpose().map_err(|m| bad(&m))?;
    if query.tokens_per_chunk == Some(0) {
        return Err(bad("tokens_per_chunk must be at least 1"));
    }
    let body = match serde_json::from_slice::<Value>(&raw) {
        Ok(v) => {
            app.stats.record_body(&v);
            v
        }
        Err(_) if !spec.json_required => json!({}),
        Err(e) => return Err(bad(&format!("invalid JSON body: {e}"))),
    };
    if let Some(answer) = fault.and_then(|f| answered_at_once(f, spec.style)) {
        return Err(Box::new(answer));
    }
    let max_tokens = spec.caps.iter().find_map(|p| body.pointer(p).and_then(Value::as_u64));
    query.tokens = wanted_tokens(&app.options, &query, &body, max_tokens);
    let shape = Shape::new(&app.options, &query, max_tokens, spec.reasoning);
    let id = app.next_id.fetch_add(1, Ordering::Relaxed) + 1;
    let ids = prompt_ids(&body);
    let prompt_tokens = prompt_tokens(&ids);
    let cached_tokens = app.prefix_cache.as_ref().map(|cache| cache.prefill(&ids));
    let cached = cached_tokens.unwrap_or(0);
    app.stats.record_prompt(prompt_tokens, cached);
    let schedule = Schedule::new(start, &app.options, &query, shape, id)
        .with_fault(fault)
        .with_cached(prompt_tokens, cached);
    let reply = Reply {
        id,
        created: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        model: body.get("model").and_then(Value::as_str).unwrap_or("mock").to_owned(),
        prompt_tokens,
        cached_tokens,
        shape,
        // An endless stream never gets to its usage, and none is sent on the way either.
        usage: query.usage.unwrap_or(true) && fault != Some(Fault::Endless),
        start,
        ttft: schedule.ttft,
    };
    Ok(Prepared { app, guard, body, schedule, fault, query, reply })
}

/// What a fault answers in place of the route, before any generation: an error of the
/// route's API (`status`, `status-close`, `throttle-date`) or an answer not of its API at all
/// (`html`, `garbage`).
fn answered_at_once(fault: Fault, style: Style) -> Option<Response> {
    match fault {
        Fault::Status(code) | Fault::StatusClose(code) => Some(status_failure(style, code)),
        Fault::ThrottleDate => Some(throttle_date(style)),
        Fault::Html(code) => Some(foreign::html_page(code)),
        Fault::Garbage(bytes) => Some(foreign::garbage(bytes)),
        _ => None,
    }
}

/// The answer's length the request asks for, as a real server would produce it: a server told
/// to ignore its end-of-sequence token (`ignore_eos`: vLLM, SGLang, llama.cpp) generates until
/// the max-tokens field cuts it; `min_tokens` asks for at least that many (reasoning included).
fn wanted_tokens(
    options: &MockOptions,
    query: &MockQuery,
    body: &Value,
    max_tokens: Option<u64>,
) -> Option<u64> {
    let planned = query.tokens.unwrap_or(options.tokens);
    let reasoning = query.reasoning_tokens.unwrap_or(options.reasoning_tokens);
    if body.get("ignore_eos").and_then(Value::as_bool) == Some(true) && max_tokens.is_some() {
        return Some(u64::MAX / 2);
    }
    match body.get("min_tokens").and_then(Value::as_u64) {
        Some(min) => Some(planned.max(min.saturating_sub(reasoning))),
        None => query.tokens,
    }
}

/// The prompt's token ids, for the usage reports and the prefix cache: every string under the
/// prompt's keys (message texts, and their roles, which a chat template also spends tokens
/// on) encoded with `o200k_base`, each on its own, in the body's order, so a prompt of N
/// tokens counts N plus a fixed overhead and two bodies that start alike start with the same
/// ids. A separate system prompt (Anthropic's `system`) comes first, where a chat template
/// puts it, so that prompts sharing it share a prefix.
fn prompt_ids(body: &Value) -> Vec<u32> {
    fn push(v: &Value, ids: &mut Vec<u32>) {
        match v {
            Value::String(s) => crate::words::push_o200k_ids(ids, s),
            Value::Array(a) => a.iter().for_each(|v| push(v, ids)),
            Value::Object(o) => o.values().for_each(|v| push(v, ids)),
            _ => {}
        }
    }
    let keys = ["system", "messages", "prompt", "query", "inputs", "input", "contents"];
    let mut ids = Vec::new();
    keys.iter().filter_map(|k| body.get(k)).for_each(|v| push(v, &mut ids));
    ids
}

/// The prompt tokens a usage reports: never zero, as every request costs a server a token.
fn prompt_tokens(ids: &[u32]) -> u64 {
    (ids.len() as u64).max(1)
}

/// A streaming response of `content_type` driven by `framer`.
pub(crate) fn streaming(p: Prepared, framer: impl Framer, content_type: &'static str) -> Response {
    let slots = p.app.slots.clone();
    let body = driver::body(framer, p.schedule, p.fault, p.guard, slots, p.app.shutdown.clone());
    let mut resp = Response::new(body);
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::mock_text;

    #[test]
    fn prompt_ids_are_the_o200k_tokens_of_every_prompt_string_in_order() {
        let chat = json!({"model": "m", "messages": [{"role": "user", "content": mock_text(100)}]});
        // 100 one-token words, and the role: the chat template's fixed share.
        let ids = prompt_ids(&chat);
        assert_eq!(ids.len(), 101);
        let completion = json!({"model": "m", "prompt": mock_text(100), "max_tokens": 5});
        assert_eq!(
            prompt_ids(&completion),
            ids[1..],
            "the role first; model and limits are not prompt"
        );
        let anthropic = json!({"messages": [{"role": "user", "content": " Hi"}], "system": "Be"});
        let system = prompt_ids(&json!({"prompt": "Be"}));
        assert_eq!(prompt_ids(&anthropic)[..system.len()], system, "the system prompt first");
        assert!(prompt_ids(&json!({})).is_empty());
        assert_eq!(prompt_tokens(&[]), 1, "never zero");
    }

    #[test]
    fn ignore_eos_runs_to_the_limit_and_min_tokens_sets_a_floor() {
        let options = MockOptions { tokens: 64, ..MockOptions::default() };
        let query = MockQuery::default();
        let wanted = |body: Value, cap| wanted_tokens(&options, &query, &body, cap);
        assert_eq!(wanted(json!({}), Some(50)), None, "the plan's 64, cut by the cap later");
        assert_eq!(wanted(json!({"ignore_eos": true}), None), None, "no limit: the plan");
        let until_cap = wanted(json!({"ignore_eos": true}), Some(150)).unwrap();
        let raised = MockQuery { tokens: Some(until_cap), ..MockQuery::default() };
        let shape = Shape::new(&options, &raised, Some(150), false);
        assert_eq!((shape.tokens, shape.capped), (150, true), "finish reason length, as vLLM says");
        assert_eq!(wanted(json!({"min_tokens": 100}), None), Some(100));
        assert_eq!(wanted(json!({"min_tokens": 10}), None), Some(64), "a floor, not a cap");
    }
}
