//! The one streaming loop shared by every route: preamble, timed tokens, then the terminator
//! or an injected fault. Protocols only say how bytes look, through [`Framer`].
//!
//! One response is one `unfold` stream polled by hyper's connection task: no extra task, no
//! channel. Each step sleeps until its precomputed deadline, writes the event into a reused
//! `BytesMut` and hands out the filled part as `Bytes` (sharing the allocation).

use std::io;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures_util::stream;
use tokio::sync::watch;

use super::plan::{Fault, Schedule, word};
use super::stats::InFlight;

/// How one protocol frames its events. Every method appends to `buf`.
pub(crate) trait Framer: Send + 'static {
    /// Sent as soon as the response starts (role chunk, ping, workflow_started, …).
    fn preamble(&mut self, buf: &mut BytesMut);
    /// One content token.
    fn token(&mut self, token: &str, buf: &mut BytesMut);
    /// Everything after the last token, through the terminator (`[DONE]`, `message_end`, …).
    fn finish(&mut self, buf: &mut BytesMut);
    /// An in-stream error payload; the stream ends right after it.
    fn error(&mut self, buf: &mut BytesMut);
}

/// Where a stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Preamble,
    Token(u64),
    /// The fault fires where token `k` would have been.
    Fault(u64),
    Finish,
    Done,
}

/// The state threaded through `unfold`.
struct Driver<F> {
    framer: F,
    schedule: Schedule,
    fault: Option<Fault>,
    guard: InFlight,
    shutdown: watch::Receiver<bool>,
    buf: BytesMut,
    phase: Phase,
}

/// Room for a few dozen events before `BytesMut` must allocate again.
const BUF_CAPACITY: usize = 4096;

/// Builds the response body that streams `schedule.tokens` tokens through `framer`.
///
/// `guard` leaves the in-flight count when the final chunk is produced or, if the body is
/// dropped earlier (client gone, abort), when the stream is dropped. `shutdown` ends stalled
/// streams when the server stops, so a graceful shutdown never waits on them forever.
pub(crate) fn body<F: Framer>(
    framer: F,
    schedule: Schedule,
    fault: Option<Fault>,
    guard: InFlight,
    shutdown: watch::Receiver<bool>,
) -> Body {
    let driver = Driver {
        framer,
        schedule,
        fault,
        guard,
        shutdown,
        buf: BytesMut::with_capacity(BUF_CAPACITY),
        phase: Phase::Preamble,
    };
    Body::from_stream(stream::unfold(driver, |mut d| async move {
        let item = d.step().await?;
        Some((item, d))
    }))
}

impl<F: Framer> Driver<F> {
    /// Produces the next chunk, `None` at the end of the stream.
    async fn step(&mut self) -> Option<io::Result<Bytes>> {
        loop {
            match self.phase {
                Phase::Preamble => {
                    self.phase = Phase::Token(0);
                    self.framer.preamble(&mut self.buf);
                    if !self.buf.is_empty() {
                        return Some(Ok(self.take()));
                    }
                }
                Phase::Token(k) => {
                    let fault_now = self
                        .fault
                        .and_then(Fault::after_tokens)
                        .is_some_and(|at| at.min(self.schedule.tokens) == k);
                    if fault_now {
                        self.phase = Phase::Fault(k);
                        continue;
                    }
                    if k >= self.schedule.tokens {
                        self.phase = Phase::Finish;
                        continue;
                    }
                    tokio::time::sleep_until(self.schedule.deadline(k)).await;
                    self.framer.token(word(k), &mut self.buf);
                    if k == 0 {
                        let elapsed = self.schedule.start.elapsed();
                        self.guard.stats().record_first_content(elapsed);
                    }
                    self.phase = Phase::Token(k + 1);
                    return Some(Ok(self.take()));
                }
                Phase::Fault(k) => return self.fault(k).await,
                Phase::Finish => {
                    self.phase = Phase::Done;
                    self.framer.finish(&mut self.buf);
                    // Before the terminator reaches hyper: see `InFlight`.
                    self.guard.finish();
                    return (!self.buf.is_empty()).then(|| Ok(self.take()));
                }
                Phase::Done => return None,
            }
        }
    }

    /// Carries out the mid-stream fault, in place of token `k`.
    async fn fault(&mut self, k: u64) -> Option<io::Result<Bytes>> {
        self.phase = Phase::Done;
        match self.fault {
            Some(Fault::Error(_)) => {
                self.framer.error(&mut self.buf);
                self.guard.finish();
                Some(Ok(self.take()))
            }
            Some(Fault::Stall(_)) => {
                // Nothing more is sent. When the client goes away hyper drops this body,
                // which drops the guard; on server shutdown the stream is aborted instead.
                // Err: the `MockServer` handle was dropped, which does not stop the server.
                if self.shutdown.wait_for(|stop| *stop).await.is_err() {
                    std::future::pending::<()>().await;
                }
                self.guard.finish();
                Some(Err(io::Error::other("mock stall ended by shutdown")))
            }
            // Close, and Status which never reaches a body: abort without a chunked
            // terminator, so the client sees a truncated body.
            Some(Fault::Close(_) | Fault::Status(_)) | None => {
                // The connection dies when the next token would have been due. Returning
                // Pending once lets hyper flush the tokens already handed over, which it
                // would otherwise discard together with the connection.
                tokio::time::sleep_until(self.schedule.deadline(k)).await;
                tokio::task::yield_now().await;
                self.guard.finish();
                Some(Err(io::Error::other("mock fault: connection closed mid-stream")))
            }
        }
    }

    /// Hands out what was written, keeping the rest of the allocation for the next event.
    fn take(&mut self) -> Bytes {
        self.buf.split().freeze()
    }
}

/// A body-less driver for tests of framers: runs the stream to the end and concatenates it.
#[cfg(test)]
pub(crate) async fn collect<F: Framer>(framer: F, tokens: u64, fault: Option<Fault>) -> String {
    use super::MockOptions;
    use super::plan::MockQuery;
    use super::stats::MockStats;
    use futures_util::StreamExt;
    use std::sync::Arc;

    let options = MockOptions { ttft_ms: 0, itl_ms: 0, tokens, ..MockOptions::default() };
    let schedule =
        Schedule::new(tokio::time::Instant::now(), &options, &MockQuery::default(), None, 1);
    let (_tx, rx) = watch::channel(false);
    let guard = InFlight::enter(Arc::new(MockStats::default()), false);
    let body = body(framer, schedule, fault, guard, rx);
    let mut s = body.into_data_stream();
    let mut out = Vec::new();
    while let Some(Ok(chunk)) = s.next().await {
        out.extend_from_slice(&chunk);
    }
    String::from_utf8(out).expect("framers write UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Tags;
    impl Framer for Tags {
        fn preamble(&mut self, buf: &mut BytesMut) {
            buf.extend_from_slice(b"<");
        }
        fn token(&mut self, token: &str, buf: &mut BytesMut) {
            buf.extend_from_slice(token.as_bytes());
        }
        fn finish(&mut self, buf: &mut BytesMut) {
            buf.extend_from_slice(b">");
        }
        fn error(&mut self, buf: &mut BytesMut) {
            buf.extend_from_slice(b"!");
        }
    }

    #[tokio::test]
    async fn phases_in_order() {
        assert_eq!(collect(Tags, 3, None).await, "<Hello world, >");
        assert_eq!(collect(Tags, 3, Some(Fault::Error(1))).await, "<Hello!");
        // A fault later than the answer fires after the last token, before the terminator.
        assert_eq!(collect(Tags, 2, Some(Fault::Error(9))).await, "<Hello world!");
        assert_eq!(collect(Tags, 3, Some(Fault::Close(2))).await, "<Hello world");
    }
}
