//! Non-streaming answers: a response whose `Content-Type` is JSON holds the whole answer in
//! one object, so it is read to its end and then interpreted at once
//! ([`crate::protocol::whole`]). Every instant of its timeline after the first byte is the
//! arrival of the read that completed the body: its TTFT is the full answer (DESIGN §8).

use hyper::body::Incoming;
use tokio::time::Instant;

use super::conn::Connection;
use super::failure;
use crate::config::FormatKind;
use crate::record::{ErrorClass, Failure, Timeline};

/// The largest whole answer read; a bigger one is `malformed` (no answer is that large, a
/// runaway body would only fill memory).
pub(super) const MAX_BODY: usize = 64 << 20;

/// Whether a response is read as one whole answer: its media type is JSON
/// (`application/json`, or any `…+json`), and the format is `auto` or a protocol. A forced
/// framing (`sse`, `ndjson`, `raw`) is read as it says.
pub(super) fn is_whole_answer(kind: FormatKind, content_type: Option<&str>) -> bool {
    let media_type = content_type.and_then(|ct| ct.split(';').next()).map(str::trim);
    let json = media_type.is_some_and(|mt| {
        let mt = mt.to_ascii_lowercase();
        mt == "application/json" || mt.ends_with("+json")
    });
    json && matches!(kind, FormatKind::Auto | FormatKind::Protocol(_))
}

/// A body read to its end.
pub(super) struct WholeBody {
    pub bytes: Vec<u8>,
    /// When the read that completed the body returned.
    pub arrived: Instant,
}

/// Reads `body` to its end, at most [`MAX_BODY`] bytes, counting its first byte and its
/// bytes in `timeline` as they come (a timeout then names the right phase).
pub(super) async fn read_body(
    connection: &mut Connection,
    body: &mut Incoming,
    timeline: &mut Timeline,
) -> Result<WholeBody, Failure> {
    let mut bytes = Vec::new();
    let mut arrived = None;
    loop {
        // `now` is the instant this frame left the body: nothing sat between read and stamp.
        let (now, frame) = connection.frame(body).await;
        let chunk = match frame {
            Some(Ok(chunk)) => chunk,
            // An empty body arrived with its end.
            None => return Ok(WholeBody { bytes, arrived: arrived.unwrap_or(now) }),
            Some(Err(e)) => return Err(failure::from_body_error(&e)),
        };
        timeline.first_byte.get_or_insert(now);
        timeline.bytes += chunk.len() as u64;
        arrived = Some(now);
        if bytes.len() + chunk.len() > MAX_BODY {
            let message = format!("the JSON answer is larger than {} MiB", MAX_BODY >> 20);
            return Err(Failure::new(ErrorClass::Malformed, message));
        }
        bytes.extend_from_slice(&chunk);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Protocol;

    #[test]
    fn json_media_types_are_whole_answers_unless_a_framing_is_forced() {
        let auto = FormatKind::Auto;
        for ct in ["application/json", "application/json; charset=utf-8", "Application/JSON"] {
            assert!(is_whole_answer(auto, Some(ct)), "{ct}");
        }
        assert!(is_whole_answer(auto, Some("application/vnd.api+json")));
        for ct in [None, Some("text/event-stream"), Some("application/x-ndjson")] {
            assert!(!is_whole_answer(auto, ct), "{ct:?}");
        }
        let ollama = FormatKind::Protocol(Protocol::Ollama);
        assert!(is_whole_answer(ollama, Some("application/json")));
        for forced in [FormatKind::Sse, FormatKind::Ndjson, FormatKind::Raw] {
            assert!(!is_whole_answer(forced, Some("application/json")), "{forced:?}");
        }
    }
}
