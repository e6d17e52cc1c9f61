//! Sending one request on its worker's connection and timing its stream. All timestamps of a
//! run are taken here or in [`Connection::frame`], which stamps each body frame the moment it
//! is taken out of the body.
//!
//! The hot path: the read, its `Instant::now()`, then framing, JSON decoding and bookkeeping.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use super::conn::Connection;
use super::reading::{self, Reading, Reads};
use super::target::PreparedRequest;
use super::{Engine, EngineEvent, Phase, RunControl, failure, redirect, whole};
use crate::protocol::{Adapter, Interpretation};
use crate::record::{ErrorClass, Failure, RequestRecord, Timeline, TimeoutPhase};
use crate::stream::{Event, Framer, Framing};

/// What measuring one request produced.
pub struct Measured {
    /// The request's record.
    pub record: RequestRecord,
    /// `framing/adapter` as used, when a response body was read.
    pub format_name: Option<String>,
    /// When the request was handed to its connection.
    pub sent: Instant,
    /// It was answered on a connection that had answered an earlier request.
    pub reused: bool,
    /// Its kept-alive connection turned out closed by the server as it was sent: it went out
    /// on a new connection.
    pub reconnected: bool,
    /// Of those, it had been written to the closed connection and was sent again.
    pub resent: bool,
}

/// Per-request state filled while the response streams in; survives a timeout.
struct Progress {
    timeline: Timeline,
    deadline: Instant,
    /// Opening a connection right now (for the timeout phase).
    connecting: bool,
    status: Option<u16>,
    done: bool,
    /// The body was read to its end: the connection can take the next request.
    reusable: bool,
    /// Answered on a connection that had answered before.
    reused: bool,
    /// Sent on a new connection after the server closed the kept-alive one.
    reconnected: bool,
    /// Written to the closed one first, then sent again.
    resent: bool,
    /// Where redirects led, when they did.
    final_url: Option<String>,
    finish_reason: Option<String>,
    answer: Option<String>,
    reasoning: Option<String>,
    format_name: Option<String>,
}

/// Sends `prepared` on `conn` (opening a connection first when there is none) and measures it
/// as request number `request_id` (1-based), scheduled for `sched` (`None`: now). Leaves
/// `conn` open only when the response was read to its end, so the next request can reuse it.
/// A cancelled run ends the request at once as `cancelled`, with the timings it reached.
pub async fn measure(
    engine: &Engine,
    prepared: &PreparedRequest,
    conn: &mut Option<Connection>,
    request_id: u64,
    sched: Option<Instant>,
    control: &RunControl,
    events: &UnboundedSender<EngineEvent>,
) -> Measured {
    // The bookkeeping event goes first, so that its cost is not inside the measured latency.
    let _ = events.send(EngineEvent::Started { request_id, at: Instant::now() });
    let send = Instant::now();
    let deadline = send + engine.timeout;
    let mut progress = Progress {
        timeline: Timeline::new(sched.unwrap_or(send), send),
        deadline,
        connecting: false,
        status: None,
        done: false,
        reusable: false,
        reused: false,
        reconnected: false,
        resent: false,
        final_url: None,
        finish_reason: None,
        answer: engine.save_output.then(String::new),
        reasoning: engine.save_output.then(String::new),
        format_name: None,
    };
    let reading = read(engine, prepared, conn, request_id, events, &mut progress);
    let outcome = tokio::select! {
        outcome = tokio::time::timeout_at(deadline, reading) => Some(outcome),
        _ = control.reached(Phase::Cancelling) => None,
    };
    let failure = match outcome {
        Some(Ok(result)) => result.err(),
        // The completion marker arrived and only the connection drain timed out: a success.
        Some(Err(_)) | None if progress.done => None,
        Some(Err(_)) => {
            // The stall that ran into the deadline is this stream's last gap.
            progress.timeline.timed_out = Some(deadline);
            Some(failure::timeout(phase(&progress), engine.timeout))
        }
        None => {
            let why = control.reason().map_or("stopped", |r| r.as_str());
            Some(Failure::new(ErrorClass::Cancelled, format!("cancelled: the run stopped ({why})")))
        }
    };
    if !progress.reusable {
        // Mid-response (failed, timed out, not drained): the connection's state is unknown.
        *conn = None;
    }
    let timeline = progress.timeline;
    let mut record = if timeline.needs_tokenizer() && engine.tokenizer.counts_text() {
        // Tokenizing (and, the first time, loading the tables) is CPU work: on the blocking
        // pool it cannot delay the reads and timestamps of the streams sharing this thread.
        let tokenizer = engine.tokenizer.clone();
        let counting = move || timeline.into_record(request_id, failure, &tokenizer);
        tokio::task::spawn_blocking(counting).await.expect("token counting panicked")
    } else {
        timeline.into_record(request_id, failure, &engine.tokenizer)
    };
    record.status = progress.status;
    record.finish_reason = progress.finish_reason;
    record.final_url = progress.final_url;
    record.output = progress.answer;
    record.reasoning = progress.reasoning.filter(|r| !r.is_empty());
    Measured {
        record,
        format_name: progress.format_name,
        sent: send,
        reused: progress.reused,
        reconnected: progress.reconnected,
        resent: progress.resent,
    }
}

/// The phase a request had reached when its deadline passed.
fn phase(progress: &Progress) -> TimeoutPhase {
    let timeline = &progress.timeline;
    match (progress.connecting, timeline.first_byte, timeline.first_token) {
        (true, _, _) => TimeoutPhase::Connect,
        (false, None, _) => TimeoutPhase::FirstByte,
        (false, Some(_), None) => TimeoutPhase::FirstToken,
        (false, Some(_), Some(_)) => TimeoutPhase::Total,
    }
}

/// Sends the request and waits for its head, opening a connection when the worker has none.
///
/// A kept-alive connection the server closed just as the request went out (llama.cpp's server
/// closes after every response while advertising keep-alive) loses the request before any
/// response byte: it is sent once more on a new connection, as curl and browsers do, and the
/// time spent stays in this request. A new connection that does the same is a failure.
async fn send(
    prepared: &PreparedRequest,
    conn: &mut Option<Connection>,
    progress: &mut Progress,
) -> Result<http::Response<Incoming>, Failure> {
    let mut fresh = false;
    loop {
        let connection = match conn {
            Some(connection) => connection,
            None => {
                progress.connecting = true;
                let started = Instant::now();
                let limit = progress.deadline.saturating_duration_since(started);
                let opened = Connection::open(prepared.target(), limit).await?;
                progress.timeline.connect = Some(started.elapsed());
                progress.connecting = false;
                fresh = true;
                conn.insert(opened)
            }
        };
        let reused = connection.reused();
        match connection.send(prepared.build(connection.is_h2())).await {
            Ok(response) => {
                progress.reused = reused;
                return Ok(response);
            }
            // Closed just before the request was written: it never left, so sending it on a
            // new connection is always safe.
            Err(e) if e.unsent && !fresh => {
                progress.reconnected = true;
                *conn = None;
            }
            Err(e) if reused && !fresh && failure::lost_before_response(&e.error) => {
                progress.reconnected = true;
                progress.resent = true;
                *conn = None;
            }
            Err(e) => return Err(failure::from_send_error(&e.error)),
        }
    }
}

/// [`send`], following redirects (`--max-redirects`): the final response and the request
/// that got it. The redirects' small bodies are read so that a hop to the same server goes on
/// the same connection; each hop's time is in the request's.
async fn send_following<'a>(
    engine: &Engine,
    prepared: &'a PreparedRequest,
    conn: &mut Option<Connection>,
    progress: &mut Progress,
) -> Result<(http::Response<Incoming>, Cow<'a, PreparedRequest>), Failure> {
    let mut current = Cow::Borrowed(prepared);
    let mut chain = Vec::new(); // the URLs requested, once a redirect came
    loop {
        let response = send(&current, conn, progress).await?;
        let status = response.status();
        if engine.redirects.max == 0 || !status.is_redirection() {
            return Ok((response, current));
        }
        if chain.is_empty() {
            chain.extend(current.url());
        }
        let location = response.headers().get(http::header::LOCATION);
        let location = location.and_then(|v| v.to_str().ok());
        let max = engine.redirects.max;
        let hop = match redirect::next_hop(status, location, current.method(), &chain, max) {
            None => return Ok((response, current)),
            Some(hop) => hop.inspect_err(|_| progress.status = Some(status.as_u16()))?,
        };
        let next = engine.redirects.follow(&current, &hop)?;
        let mut body = response.into_body();
        let drained = match conn.as_mut() {
            Some(connection) => drain_at_most(connection, &mut body, REDIRECT_BODY_LIMIT).await,
            None => false,
        };
        let same_target = conn.as_ref().is_some_and(|c| Arc::ptr_eq(c.target(), next.target()));
        if !(drained && same_target) {
            *conn = None;
        }
        progress.final_url = Some(hop.url.to_string());
        chain.push(hop.url);
        current = Cow::Owned(next);
    }
}

/// A redirect's body is a line of HTML at most; a longer one costs its connection instead.
const REDIRECT_BODY_LIMIT: usize = 64 * 1024;

/// Reads `body` to its end if it is at most `limit` bytes; whether it ended cleanly.
async fn drain_at_most(connection: &mut Connection, body: &mut Incoming, limit: usize) -> bool {
    let mut read = 0;
    loop {
        match connection.frame(body).await.1 {
            Some(Ok(bytes)) if read + bytes.len() <= limit => read += bytes.len(),
            Some(_) => return false,
            None => return true,
        }
    }
}

/// Reads the response: its head, then its body as a stream or as one whole answer
/// ([`reading`]).
async fn read(
    engine: &Engine,
    prepared: &PreparedRequest,
    conn: &mut Option<Connection>,
    request_id: u64,
    events: &UnboundedSender<EngineEvent>,
    progress: &mut Progress,
) -> Result<(), Failure> {
    let (response, prepared) = send_following(engine, prepared, conn, progress).await?;
    let prepared = &*prepared;
    progress.timeline.headers = Some(Instant::now());
    let Some(connection) = conn.as_mut() else {
        return Err(Failure::new(ErrorClass::Incomplete, "the connection was lost"));
    };
    let (head, mut body) = response.into_parts();
    progress.status = Some(head.status.as_u16());
    if !head.status.is_success() {
        return Err(status_failure(connection, &head, &mut body, progress).await);
    }
    let content_type = head.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let mut reads = Reads::new(connection, &mut body);
    let kind = engine.format.kind;
    match reading::choose(kind, content_type, &mut reads, &mut progress.timeline).await {
        Reading::Whole => {
            read_whole(engine, prepared, &mut reads, request_id, events, progress).await
        }
        Reading::Stream(framing) => {
            read_stream(engine, prepared, &mut reads, framing, request_id, events, progress).await
        }
    }
}

/// Frames the body as it streams in and interprets each event with the read that completed it.
async fn read_stream(
    engine: &Engine,
    prepared: &PreparedRequest,
    reads: &mut Reads<'_>,
    framing: Framing,
    request_id: u64,
    events: &UnboundedSender<EngineEvent>,
    progress: &mut Progress,
) -> Result<(), Failure> {
    let mut framer = Framer::with_limit(framing, engine.format.max_event_bytes());
    let mut adapter = Adapter::new(&engine.format, framing, prepared.path());
    let raw = framing == Framing::Raw;
    progress.timeline.raw_mode = raw;
    progress.timeline.first_token_by_marker = adapter.first_token_by_marker();
    let mut batch: Vec<Event> = Vec::with_capacity(8);
    let result = loop {
        // `now` is the instant this frame left the body: nothing sat between read and stamp.
        let (now, frame) = reads.next(&mut progress.timeline).await;
        let bytes = match frame {
            Some(Ok(bytes)) => bytes,
            None => {
                progress.reusable = true;
                framer.finish(&mut batch);
                if let Err(f) =
                    apply_all(&mut adapter, &mut batch, now, raw, request_id, events, progress)
                {
                    break Err(f);
                }
                break eof(&adapter, now, progress);
            }
            Some(Err(e)) => break Err(failure::from_body_error(&e)),
        };
        if raw {
            progress.timeline.chunks += 1;
        }
        // The events completed before an oversized one still count: one may end the stream.
        let fed = framer.feed(&bytes, &mut batch);
        if let Err(f) = apply_all(&mut adapter, &mut batch, now, raw, request_id, events, progress)
        {
            break Err(f);
        }
        if progress.done {
            break Ok(());
        }
        if let Err(oversized) = fed {
            break Err(Failure::new(ErrorClass::Malformed, oversized.to_string()));
        }
    };
    progress.format_name = Some(format!("{}/{}", framing.name(), adapter.name()));
    if result.is_ok() && progress.done && !progress.reusable {
        // Read to the end so that the connection can carry the next request (HTTP/1.1 must
        // finish one response before the next); the timing is already taken. Errors here do
        // not fail a completed request, they only cost the connection.
        progress.reusable = reads.drain().await;
    }
    result
}

/// Reads a whole (non-streaming) answer, then interprets it as one chunk that arrived with
/// the read that completed the body: its first token, first answer, last token and end.
async fn read_whole(
    engine: &Engine,
    prepared: &PreparedRequest,
    reads: &mut Reads<'_>,
    request_id: u64,
    events: &UnboundedSender<EngineEvent>,
    progress: &mut Progress,
) -> Result<(), Failure> {
    let limit = engine.format.max_event_bytes();
    let answer = whole::read_body(reads, &mut progress.timeline, limit).await?;
    progress.reusable = true;
    let path = prepared.path();
    let (protocol, meaning) =
        crate::protocol::whole::interpret(&engine.format, &answer.bytes, path);
    progress.format_name = Some(format!("json/{}", protocol.name()));
    let tl = &mut progress.timeline;
    tl.chunks = 1;
    tl.first_event = Some(answer.arrived);
    // The whole answer is its first token, whatever marker event the generic rules name.
    tl.first_token_by_marker = false;
    apply_and_tell(meaning, answer.arrived, request_id, events, progress)
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
        apply_and_tell(meaning, now, request_id, events, progress)?;
        if progress.done {
            break;
        }
    }
    batch.clear();
    Ok(())
}

/// [`apply`], telling the live view when `meaning` gave the request its first token.
fn apply_and_tell(
    meaning: Interpretation,
    now: Instant,
    request_id: u64,
    events: &UnboundedSender<EngineEvent>,
    progress: &mut Progress,
) -> Result<(), Failure> {
    let had_token = progress.timeline.first_token.is_some();
    apply(meaning, now, progress)?;
    if let (false, Some(first)) = (had_token, progress.timeline.first_token) {
        let ttft = first.saturating_duration_since(progress.timeline.sched);
        let _ = events.send(EngineEvent::FirstToken { request_id, ttft, at: first });
    }
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
    let tool_call = meaning.tool_call.filter(|t| !t.is_empty());
    let parts = [reasoning.as_deref(), answer.as_deref(), tool_call.as_deref()];
    if parts.iter().any(Option::is_some) {
        tl.content_at(now, &parts, meaning.output_tokens);
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
    if meaning.input_tokens.is_some() {
        tl.usage_input_tokens = meaning.input_tokens;
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
async fn status_failure(
    connection: &mut Connection,
    head: &http::response::Parts,
    body: &mut Incoming,
    progress: &mut Progress,
) -> Failure {
    let retry_after = head.headers.get(http::header::RETRY_AFTER).and_then(|v| v.to_str().ok());
    let mut excerpt = Vec::new();
    while excerpt.len() < failure::BODY_EXCERPT {
        match tokio::time::timeout(Duration::from_secs(5), connection.frame(body)).await {
            Ok((_, Some(Ok(bytes)))) => excerpt.extend_from_slice(&bytes),
            Ok((_, None)) => {
                progress.reusable = true;
                break;
            }
            _ => break,
        }
    }
    failure::from_status(head.status, retry_after, &excerpt)
}
