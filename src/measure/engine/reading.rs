//! How a response body is read: as one whole JSON answer, or framed as a stream. The format
//! decides first (a forced framing is read as it says); then the `Content-Type`; when that is
//! missing or generic (`text/plain`, `application/octet-stream`, `application/json`), the
//! body's first bytes ([`crate::measure::stream::sniff`]).
//!
//! Sniffing holds the first reads back, each with the instant it was taken, and [`Reads`]
//! hands them out again before reading on: the first-byte instant is still the first read's,
//! and an event's instant is still that of the read that completed it.
//!
//! A compressed body (`Content-Encoding`) is decoded read by read here, after each read's
//! instant and wire size were taken: everything past [`Reads`] sees plain bytes.

use std::collections::VecDeque;

use bytes::Bytes;
use hyper::body::Incoming;
use tokio::time::Instant;

use super::conn::Connection;
use super::failure;
use crate::measure::protocol::FormatKind;
use crate::measure::protocol::Protocol;
use crate::measure::record::{ErrorClass, Failure, Timeline};
use crate::measure::stream::Framing;
use crate::measure::stream::decode::Decoder;
use crate::measure::stream::sniff::{self, Declared, SNIFF_LIMIT, Sniffed};

/// One read of a body and the instant it was taken: bytes (decoded), the end (`None`) or why
/// the body failed.
pub(super) type Frame = (Instant, Option<Result<Bytes, Failure>>);

/// How a body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reading {
    /// To its end, then interpreted as one whole answer.
    Whole,
    /// Framed as it streams in.
    Stream(Framing),
}

/// How a response of `content_type` is read in format `kind`; reads the first bytes through
/// `reads` when the type does not tell.
pub(super) async fn choose(
    kind: FormatKind,
    content_type: Option<&str>,
    reads: &mut Reads<'_>,
    timeline: &mut Timeline,
) -> Reading {
    let declared = Declared::from_content_type(content_type);
    let sniffed = match needs_sniffing(kind, declared) {
        true => Some(reads.sniff(declared == Declared::Json, timeline).await),
        false => None,
    };
    reading(kind, declared, sniffed)
}

/// Whether the first bytes decide: in `auto` or a protocol format, when the type says JSON
/// or nothing about framing.
fn needs_sniffing(kind: FormatKind, declared: Declared) -> bool {
    matches!(kind, FormatKind::Auto | FormatKind::Protocol(_))
        && matches!(declared, Declared::Json | Declared::Generic)
}

/// How a body is read, by the format, what its type declares and what its first bytes showed
/// (when they were sniffed). A protocol keeps its own framing unless the body is one document.
fn reading(kind: FormatKind, declared: Declared, sniffed: Option<Sniffed>) -> Reading {
    let framing = match (kind, sniffed) {
        (FormatKind::Sse, _) => Framing::Sse,
        (FormatKind::Ndjson, _) => Framing::Ndjson,
        (FormatKind::Raw, _) => Framing::Raw,
        (_, Some(Sniffed::Json)) => return Reading::Whole,
        (FormatKind::Protocol(protocol), _) if protocol != Protocol::Generic => protocol.framing(),
        (_, Some(Sniffed::Sse)) => Framing::Sse,
        (_, Some(Sniffed::Ndjson)) => Framing::Ndjson,
        (_, Some(Sniffed::Raw)) => Framing::Raw,
        (_, None) => match declared {
            Declared::Stream(framing) => framing,
            _ => Framing::Raw,
        },
    };
    Reading::Stream(framing)
}

/// A body's reads: those held back while sniffing, then the connection's.
pub(super) struct Reads<'a> {
    connection: &'a mut Connection,
    body: &'a mut Incoming,
    held: VecDeque<Frame>,
    /// The body's `Content-Encoding` decoder, when it has one.
    decoder: Option<Decoder>,
    /// The body ended and the decoder's last bytes were handed out: the end is next.
    ended: bool,
}

impl<'a> Reads<'a> {
    /// The reads of `body`, a response on `connection`, decoded by `decoder` when compressed.
    pub(super) fn new(
        connection: &'a mut Connection,
        body: &'a mut Incoming,
        decoder: Option<Decoder>,
    ) -> Self {
        Reads { connection, body, held: VecDeque::new(), decoder, ended: false }
    }

    /// The next read: a held one, else the connection's next, which is counted in `timeline`
    /// (first byte, bytes) as it arrives.
    pub(super) async fn next(&mut self, timeline: &mut Timeline) -> Frame {
        match self.held.pop_front() {
            Some(frame) => frame,
            None => self.read(timeline).await,
        }
    }

    /// Reads the rest of the body; whether it ended cleanly (the connection can be reused).
    pub(super) async fn drain(&mut self) -> bool {
        while let Some((_, frame)) = self.held.pop_front() {
            match frame {
                Some(Ok(_)) => continue,
                Some(Err(_)) => return false,
                None => return true,
            }
        }
        self.connection.drain(self.body, usize::MAX).await
    }

    /// Reads until the first bytes show what the body is (at most [`SNIFF_LIMIT`] of them
    /// are looked at), holding each read for [`Reads::next`].
    async fn sniff(&mut self, json_declared: bool, timeline: &mut Timeline) -> Sniffed {
        let mut prefix = Vec::new();
        loop {
            let frame = self.read(timeline).await;
            let complete = match &frame.1 {
                Some(Ok(bytes)) => {
                    let room = SNIFF_LIMIT.saturating_sub(prefix.len());
                    prefix.extend_from_slice(&bytes[..bytes.len().min(room)]);
                    false
                }
                // An error ends the body too: what came decides, the error fails it later.
                None | Some(Err(_)) => true,
            };
            self.held.push_back(frame);
            if let Some(sniffed) = sniff::sniff(&prefix, json_declared, complete) {
                return sniffed;
            }
        }
    }

    /// The connection's next read, counted in `timeline` (bytes as on the wire), then decoded.
    async fn read(&mut self, timeline: &mut Timeline) -> Frame {
        if self.ended {
            return (Instant::now(), None);
        }
        // The instant is taken as the frame leaves the body: nothing sits between read and stamp.
        let (now, frame) = self.connection.frame(self.body).await;
        if let Some(Ok(bytes)) = &frame {
            timeline.first_byte.get_or_insert(now);
            timeline.bytes += bytes.len() as u64;
        }
        let frame = match (frame, &mut self.decoder) {
            (Some(Ok(bytes)), None) => Some(Ok(bytes)),
            (Some(Ok(bytes)), Some(decoder)) => Some(decoder.decode(&bytes).map_err(malformed)),
            (Some(Err(e)), _) => Some(Err(failure::from_body_error(&e))),
            (None, None) => None,
            // The codec's last bytes come as a read of their own, then the end.
            (None, Some(decoder)) => match decoder.finish() {
                Ok(rest) if rest.is_empty() => None,
                Ok(rest) => {
                    self.ended = true;
                    Some(Ok(rest))
                }
                Err(why) => Some(Err(malformed(why))),
            },
        };
        (now, frame)
    }
}

fn malformed(why: String) -> Failure {
    Failure::new(ErrorClass::Malformed, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTO: FormatKind = FormatKind::Auto;
    const OPENAI: FormatKind = FormatKind::Protocol(Protocol::OpenAiChat);
    const OLLAMA: FormatKind = FormatKind::Protocol(Protocol::Ollama);
    const GENERIC: FormatKind = FormatKind::Protocol(Protocol::Generic);

    fn stream(framing: Framing) -> Reading {
        Reading::Stream(framing)
    }

    #[test]
    fn stream_types_and_forced_framings_are_read_as_they_say() {
        let sse = Declared::Stream(Framing::Sse);
        for kind in [AUTO, GENERIC, OPENAI, FormatKind::Sse] {
            assert!(!needs_sniffing(kind, sse), "{kind:?}");
            assert_eq!(reading(kind, sse, None), stream(Framing::Sse), "{kind:?}");
        }
        let ndjson = Declared::Stream(Framing::Ndjson);
        assert_eq!(reading(AUTO, ndjson, None), stream(Framing::Ndjson));
        assert_eq!(reading(OLLAMA, ndjson, None), stream(Framing::Ndjson));
        for declared in [Declared::Json, Declared::Generic] {
            for forced in [FormatKind::Sse, FormatKind::Ndjson, FormatKind::Raw] {
                assert!(!needs_sniffing(forced, declared), "{forced:?}");
            }
            assert_eq!(reading(FormatKind::Raw, declared, None), stream(Framing::Raw));
        }
        assert!(!needs_sniffing(AUTO, Declared::Other));
        assert_eq!(reading(AUTO, Declared::Other, None), stream(Framing::Raw));
        assert_eq!(reading(OPENAI, Declared::Other, None), stream(Framing::Sse));
    }

    #[test]
    fn json_and_generic_types_are_read_as_their_first_bytes_show() {
        for declared in [Declared::Json, Declared::Generic] {
            for kind in [AUTO, GENERIC, OPENAI, OLLAMA] {
                assert!(needs_sniffing(kind, declared), "{kind:?} {declared:?}");
                assert_eq!(reading(kind, declared, Some(Sniffed::Json)), Reading::Whole);
            }
            let auto = |sniffed| reading(AUTO, declared, Some(sniffed));
            assert_eq!(auto(Sniffed::Sse), stream(Framing::Sse));
            assert_eq!(auto(Sniffed::Ndjson), stream(Framing::Ndjson));
            assert_eq!(auto(Sniffed::Raw), stream(Framing::Raw));
            // A protocol streams in its own framing, whatever the bytes looked like.
            for sniffed in [Sniffed::Sse, Sniffed::Ndjson, Sniffed::Raw] {
                assert_eq!(reading(OPENAI, declared, Some(sniffed)), stream(Framing::Sse));
                assert_eq!(reading(OLLAMA, declared, Some(sniffed)), stream(Framing::Ndjson));
            }
        }
    }
}
