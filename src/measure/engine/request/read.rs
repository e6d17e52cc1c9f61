//! The hot path: reading the response body, as a stream (each frame stamped by
//! [`Connection::frame`] the moment it is read) or as one whole answer, and an error
//! response's excerpt. Apart from sending so the measuring loop reads on its own; nothing but
//! framing, decoding and bookkeeping runs between a read and its instant.

use std::time::Duration;

use hyper::body::Incoming;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use super::Progress;
use super::apply::{apply_all, apply_and_tell, eof};
use super::send::send_following;
use crate::measure::engine::conn::Connection;
use crate::measure::engine::reading::{self, Reading, Reads};
use crate::measure::engine::target::PreparedRequest;
use crate::measure::engine::{Engine, EngineEvent, failure, whole};
use crate::measure::protocol::Adapter;
use crate::measure::record::{ErrorClass, Failure};
use crate::measure::stream::decode::{Decoder, Encoding};
use crate::measure::stream::{Event, Framer, Framing};

/// Reads the response: its head, then its body as a stream or as one whole answer
/// ([`reading`]).
pub(super) async fn read(
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
    let decoder = decoder(&head.headers)?;
    progress.encoding = decoder.as_ref().map(|d| d.encoding());
    let mut reads = Reads::new(connection, &mut body, decoder);
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

/// The decoder of a compressed body (`Content-Encoding`); a coding streamperf cannot decode
/// fails the request as `malformed`, naming it.
fn decoder(headers: &http::HeaderMap) -> Result<Option<Decoder>, Failure> {
    let Some(value) = headers.get(http::header::CONTENT_ENCODING) else { return Ok(None) };
    let malformed = |why: String| Failure::new(ErrorClass::Malformed, why);
    let header = value.to_str().map_err(|_| malformed("an unreadable Content-Encoding".into()))?;
    match Encoding::from_header(header).map_err(malformed)? {
        Some(encoding) => Decoder::new(encoding).map(Some).map_err(|e| malformed(e.to_string())),
        None => Ok(None),
    }
}

/// Frames the body as it streams in and interprets each event with the read that completed it.
pub(super) async fn read_stream(
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
    // The body's first bytes, for the message when it turns out to be no stream at all.
    let mut head: Vec<u8> = Vec::new();
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
                if let Some(f) = no_stream(&adapter, framing, &head, progress) {
                    break Err(f);
                }
                break eof(&adapter, now, progress);
            }
            Some(Err(failure)) => break Err(failure),
        };
        if raw {
            progress.timeline.chunks += 1;
        }
        if head.len() < failure::QUOTED {
            head.extend_from_slice(&bytes[..bytes.len().min(failure::QUOTED - head.len())]);
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

/// A 200 that ended cleanly without being a stream of its framing is `malformed`, never a
/// success with nothing in it: an empty body, a body in which no event was framed, or one whose
/// events no protocol recognised (`auto` never decided). The message quotes its first bytes.
fn no_stream(
    adapter: &Adapter,
    framing: Framing,
    head: &[u8],
    progress: &Progress,
) -> Option<Failure> {
    let tl = &progress.timeline;
    let why = if tl.bytes == 0 {
        "the answer's body was empty".to_owned()
    } else if tl.first_event.is_none() {
        format!("no {} event in the body ({} bytes)", framing.name(), tl.bytes)
    } else if adapter.undecided() && tl.first_token.is_none() {
        format!("no protocol recognised in the body's {} events", tl.chunks)
    } else {
        return None;
    };
    let starts = match head.is_empty() {
        true => String::new(),
        false => format!("; it starts {}", failure::quote(head)),
    };
    Some(Failure::new(ErrorClass::Malformed, format!("{why}{starts}")))
}

/// Reads a whole (non-streaming) answer, then interprets it as one chunk that arrived with
/// the read that completed the body: its first token, first answer, last token and end.
pub(super) async fn read_whole(
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
        crate::measure::protocol::whole::interpret(&engine.format, &answer.bytes, path);
    progress.format_name = Some(format!("json/{}", protocol.name()));
    let tl = &mut progress.timeline;
    tl.chunks = 1;
    tl.first_event = Some(answer.arrived);
    // The whole answer is its first token, whatever marker event the generic rules name.
    tl.first_token_by_marker = false;
    apply_and_tell(meaning, answer.arrived, request_id, events, progress)
}

/// Reads at most the first KiB of an error response, bounded in time by the caller.
pub(super) async fn status_failure(
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
    // A gateway may compress error pages too: their words, not their gzip bytes.
    let decoded = decoder(&head.headers).ok().flatten().and_then(|mut d| d.decode(&excerpt).ok());
    let excerpt = decoded.map_or(excerpt, |bytes| bytes.to_vec());
    failure::from_status(head.status, retry_after, &excerpt)
}
