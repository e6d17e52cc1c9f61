//! Sending one request on its worker's connection and timing its stream. All timestamps of a
//! run are taken here or in [`Connection::frame`], which stamps each body frame the moment it
//! is taken out of the body.
//!
//! The hot path: the read, its `Instant::now()`, then framing, JSON decoding and bookkeeping.
//!
//! `send.rs` gets the response (reconnects, redirects), `read.rs` reads its body (the loop that
//! takes the timestamps), `apply.rs` applies what each event means to the timeline.

mod apply;
mod read;
mod send;

use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use super::conn::Connection;
use super::target::PreparedRequest;
use super::{Engine, EngineEvent, Phase, RunControl, failure};
use crate::measure::record::{ErrorClass, Failure, RequestRecord, Timeline, TimeoutPhase};

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
    /// The conversation the answer belongs to, when the server named one (Dify).
    pub conversation_id: Option<String>,
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
    conversation_id: Option<String>,
    /// The body's `Content-Encoding`, when it was compressed.
    encoding: Option<crate::measure::stream::decode::Encoding>,
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
        answer: engine.keeps_answers().then(String::new),
        reasoning: engine.save_output.then(String::new),
        format_name: None,
        conversation_id: None,
        encoding: None,
    };
    let reading = read::read(engine, prepared, conn, request_id, events, &mut progress);
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
    record.content_encoding = progress.encoding.map(|e| e.name().to_owned());
    Measured {
        record,
        format_name: progress.format_name,
        sent: send,
        reused: progress.reused,
        reconnected: progress.reconnected,
        resent: progress.resent,
        conversation_id: progress.conversation_id,
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
