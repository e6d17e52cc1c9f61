//! Non-streaming answers: a body that holds the whole answer in one JSON object (by its
//! `Content-Type`, or by its first bytes when that says nothing: [`super::reading`]) is read to its
//! end and then interpreted at once ([`crate::measure::protocol::whole`]). Every instant of its
//! timeline after the first byte is the arrival of the read that completed the body: its TTFT is
//! the full answer (README, "Non-streaming answers").

use tokio::time::Instant;

use super::reading::Reads;
use crate::measure::record::{ErrorClass, Failure, Timeline};
use crate::measure::stream::limit::show_size;

/// A body read to its end.
pub(super) struct WholeBody {
    pub bytes: Vec<u8>,
    /// When the read that completed the body returned.
    pub arrived: Instant,
}

/// Reads the body to its end, at most `limit` bytes (`--max-event-bytes`: the whole answer is
/// one event; a runaway body would only fill memory). Its first byte and its bytes are
/// counted in `timeline` as they come, so a timeout names the right phase.
pub(super) async fn read_body(
    reads: &mut Reads<'_>,
    timeline: &mut Timeline,
    limit: usize,
) -> Result<WholeBody, Failure> {
    let mut bytes = Vec::new();
    let mut arrived = None;
    loop {
        let (now, frame) = reads.next(timeline).await;
        let chunk = match frame {
            Some(Ok(chunk)) => chunk,
            // An empty body arrived with its end.
            None => return Ok(WholeBody { bytes, arrived: arrived.unwrap_or(now) }),
            Some(Err(failure)) => return Err(failure),
        };
        arrived = Some(now);
        if bytes.len() + chunk.len() > limit {
            let message =
                format!("the JSON answer is larger than --max-event-bytes ({})", show_size(limit));
            return Err(Failure::new(ErrorClass::Malformed, message));
        }
        bytes.extend_from_slice(&chunk);
    }
}
