//! Sending one request and timing its stream. All timestamps of a run are taken here.
//!
//! The hot path: `Instant::now()` is read the moment `chunk().await` returns, before the bytes
//! are framed or parsed; framing, JSON decoding and bookkeeping follow the timestamp.

use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use super::{Engine, EngineEvent, failure};
use crate::protocol::{Adapter, Interpretation};
use crate::record::{ErrorClass, Failure, RequestRecord, Timeline, TimeoutPhase};
use crate::stream::{Event, Framer, Framing};

/// What measuring one request produced.
pub struct Measured {
    /// The request's record.
    pub record: RequestRecord,
    /// `framing/adapter` as used, when a response body was read.
    pub format_name: Option<String>,
}

/// Per-request state filled while the response streams in; survives a timeout.
struct Progress {
    timeline: Timeline,
    status: Option<u16>,
    done: bool,
    finish_reason: Option<String>,
    answer: Option<String>,
    reasoning: Option<String>,
    format_name: Option<String>,
}

/// Sends `request` and measures it as request number `request_id` (1-based).
pub async fn measure(
    engine: &Engine,
    request: reqwest::RequestBuilder,
    request_id: u64,
    events: &UnboundedSender<EngineEvent>,
) -> Measured {
    let send = Instant::now();
    let mut progress = Progress {
        timeline: Timeline::new(send, send),
        status: None,
        done: false,
        finish_reason: None,
        answer: engine.save_output.then(String::new),
        reasoning: engine.save_output.then(String::new),
        format_name: None,
    };
    let deadline = send + engine.timeout;
    let outcome =
        tokio::time::timeout_at(deadline, read(engine, request, request_id, events, &mut progress))
            .await;
    let failure = match outcome {
        Ok(result) => result.err(),
        // The completion marker arrived and only the connection drain timed out: a success.
        Err(_) if progress.done => None,
        Err(_) => Some(failure::timeout(phase(&progress.timeline), engine.timeout)),
    };
    let mut record = progress.timeline.into_record(request_id, failure);
    record.status = progress.status;
    record.finish_reason = progress.finish_reason;
    record.output = progress.answer;
    record.reasoning = progress.reasoning.filter(|r| !r.is_empty());
    Measured { record, format_name: progress.format_name }
}

/// The phase a request had reached when its deadline passed.
fn phase(timeline: &Timeline) -> TimeoutPhase {
    match (timeline.first_byte, timeline.first_token) {
        (None, _) => TimeoutPhase::FirstByte,
        (Some(_), None) => TimeoutPhase::FirstToken,
        (Some(_), Some(_)) => TimeoutPhase::Total,
    }
}

async fn read(
    engine: &Engine,
    request: reqwest::RequestBuilder,
    request_id: u64,
    events: &UnboundedSender<EngineEvent>,
    progress: &mut Progress,
) -> Result<(), Failure> {
    let mut response = request.send().await.map_err(|e| failure::from_send_error(&e))?;
    progress.timeline.headers = Some(Instant::now());
    let status = response.status();
    progress.status = Some(status.as_u16());
    if !status.is_success() {
        return Err(status_failure(response).await);
    }
    let content_type = response.headers().get(reqwest::header::CONTENT_TYPE);
    let framing = framing_for(engine, content_type.and_then(|v| v.to_str().ok()));
    let mut framer = Framer::new(framing);
    let mut adapter = Adapter::new(&engine.format, framing);
    let raw = framing == Framing::Raw;
    progress.timeline.raw_mode = raw;
    progress.timeline.first_token_by_marker = adapter.first_token_by_marker();
    let mut batch: Vec<Event> = Vec::with_capacity(8);
    let result = loop {
        let chunk = response.chunk().await;
        // The timestamp of this read: nothing may sit between the await and this line.
        let now = Instant::now();
        let bytes = match chunk {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                framer.finish(&mut batch);
                if let Err(f) =
                    apply_all(&mut adapter, &mut batch, now, raw, request_id, events, progress)
                {
                    break Err(f);
                }
                break eof(&adapter, now, progress);
            }
            Err(e) => break Err(failure::from_body_error(&e)),
        };
        let tl = &mut progress.timeline;
        tl.first_byte.get_or_insert(now);
        tl.bytes += bytes.len() as u64;
        if raw {
            tl.chunks += 1;
        }
        framer.feed(&bytes, &mut batch);
        if let Err(f) = apply_all(&mut adapter, &mut batch, now, raw, request_id, events, progress)
        {
            break Err(f);
        }
        if progress.done {
            break Ok(());
        }
    };
    progress.format_name = Some(format!("{}/{}", framing_name(framing), adapter.name()));
    if result.is_ok() && progress.done {
        // Read to the end so the keep-alive connection goes back to the pool; its timing
        // is already taken. Errors here do not fail a completed request.
        while let Ok(Some(_)) = response.chunk().await {}
    }
    result
}

fn framing_for(engine: &Engine, content_type: Option<&str>) -> Framing {
    use crate::config::FormatKind;
    match engine.format.kind {
        FormatKind::Sse | FormatKind::Openai => Framing::Sse,
        FormatKind::Raw => Framing::Raw,
        FormatKind::Auto => Framing::from_content_type(content_type),
    }
}

fn framing_name(framing: Framing) -> &'static str {
    match framing {
        Framing::Sse => "sse",
        Framing::Raw => "raw",
    }
}

/// Interprets the events one read completed, all stamped with that read's instant.
fn apply_all(
    adapter: &mut Adapter,
    batch: &mut Vec<Event>,
    now: Instant,
    raw: bool,
    request_id: u64,
    events: &UnboundedSender<EngineEvent>,
    progress: &mut Progress,
) -> Result<(), Failure> {
    for event in batch.drain(..) {
        let tl = &mut progress.timeline;
        if !raw {
            tl.chunks += 1;
        }
        tl.first_event.get_or_insert(now);
        let meaning = adapter.interpret(&event);
        let had_token = tl.first_token.is_some();
        apply(meaning, now, progress)?;
        if !had_token {
            if let Some(first) = progress.timeline.first_token {
                let ttft = first.saturating_duration_since(progress.timeline.sched);
                let _ = events.send(EngineEvent::FirstToken { request_id, ttft });
            }
        }
        if progress.done {
            break;
        }
    }
    batch.clear();
    Ok(())
}

fn apply(meaning: Interpretation, now: Instant, progress: &mut Progress) -> Result<(), Failure> {
    if let Some(message) = meaning.error {
        return Err(Failure::new(ErrorClass::StreamError, message));
    }
    if let Some(message) = meaning.malformed {
        return Err(Failure::new(ErrorClass::Malformed, message));
    }
    let tl = &mut progress.timeline;
    let answer = meaning.answer.filter(|a| !a.is_empty());
    let reasoning = meaning.reasoning.filter(|r| !r.is_empty());
    if answer.is_some() || reasoning.is_some() {
        tl.content_at(now);
    }
    if meaning.token_marker {
        tl.first_token.get_or_insert(now);
    }
    if let Some(text) = answer {
        tl.first_answer.get_or_insert(now);
        if let Some(out) = &mut progress.answer {
            out.push_str(&text);
        }
    }
    if let (Some(text), Some(out)) = (reasoning, &mut progress.reasoning) {
        out.push_str(&text);
    }
    if meaning.output_tokens.is_some() {
        tl.usage_output_tokens = meaning.output_tokens;
    }
    if meaning.reasoning_tokens.is_some() {
        tl.usage_reasoning_tokens = meaning.reasoning_tokens;
    }
    if meaning.finish_reason.is_some() {
        progress.finish_reason = meaning.finish_reason;
    }
    if meaning.done {
        tl.end = Some(now);
        progress.done = true;
    }
    Ok(())
}

/// A clean end of body: complete if the format needs no marker, else `incomplete`.
fn eof(adapter: &Adapter, now: Instant, progress: &mut Progress) -> Result<(), Failure> {
    if adapter.eof_completes() {
        progress.timeline.end = Some(now);
        progress.done = true;
        Ok(())
    } else {
        Err(Failure::new(
            ErrorClass::Incomplete,
            format!("stream ended before its completion marker ({} format)", adapter.name()),
        ))
    }
}

/// Reads at most the first KiB of an error response, bounded in time by the caller.
async fn status_failure(mut response: reqwest::Response) -> Failure {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    while body.len() < failure::BODY_EXCERPT {
        match tokio::time::timeout(Duration::from_secs(5), response.chunk()).await {
            Ok(Ok(Some(bytes))) => body.extend_from_slice(&bytes),
            _ => break,
        }
    }
    failure::from_status(status, retry_after.as_deref(), &body)
}
