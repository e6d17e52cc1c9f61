//! The one streaming loop shared by every route: a slot (waiting for one if `--slots` are all
//! busy), preamble, timed chunks (reasoning first, then answer), then the terminator or an
//! injected fault. Protocols only say how bytes look, through [`Framer`].
//!
//! One response is one `unfold` stream polled by hyper's connection task: no extra task, no
//! channel. Each step sleeps until its precomputed deadline, writes the event into a reused
//! `BytesMut` and hands out the filled part as `Bytes` (sharing the allocation).

use std::io;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures_util::stream;
use tokio::sync::watch;

use super::fault::Fault;
use super::plan::Schedule;
use super::slots::{Slot, Slots};
use super::stats::InFlight;
use super::words::{Part, push_words};

/// One timed chunk handed to a framer: one or more tokens of one part.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chunk<'a> {
    /// Reasoning or answer (a chunk never mixes them).
    pub part: Part,
    /// Index of its first token within the part.
    pub first: u64,
    /// Tokens in the chunk.
    pub tokens: u64,
    /// The tokens' text, concatenated (needs no JSON escaping).
    pub text: &'a str,
    /// The last chunk of the response.
    pub last: bool,
}

impl Chunk<'_> {
    /// Output tokens sent so far, this chunk included, when the response has `reasoning`
    /// reasoning tokens in all (they all precede the answer).
    pub(crate) fn output_so_far(&self, reasoning: u64) -> u64 {
        match self.part {
            Part::Reasoning => self.first + self.tokens,
            Part::Answer => reasoning + self.first + self.tokens,
        }
    }

    /// Whether this is the first chunk of its part.
    pub(crate) fn opens_part(&self) -> bool {
        self.first == 0
    }
}

/// How one protocol frames its events. Every method appends to `buf`.
pub(crate) trait Framer: Send + 'static {
    /// Sent as soon as the response starts (role chunk, ping, workflow_started, …).
    fn preamble(&mut self, buf: &mut BytesMut);
    /// One chunk of reasoning or answer, written as one network write.
    fn chunk(&mut self, chunk: &Chunk<'_>, buf: &mut BytesMut);
    /// Everything after the last token, through the terminator (`[DONE]`, `message_end`, …).
    fn finish(&mut self, buf: &mut BytesMut);
    /// An in-stream error payload; the stream ends right after it.
    fn error(&mut self, buf: &mut BytesMut);
}

/// Where a stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for a slot; nothing is sent yet.
    Queued,
    Preamble,
    /// Chunk `k`, counting reasoning and answer chunks together.
    Chunk(u64),
    /// The fault fires where chunk `k` would have been.
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
    slots: Slots,
    /// Held from `Phase::Queued` until the stream ends or is dropped.
    slot: Option<Slot>,
    shutdown: watch::Receiver<bool>,
    buf: BytesMut,
    /// The current chunk's text, reused.
    text: String,
    phase: Phase,
}

/// Stands in the first chunk's text for the bytes of `fail=bad-utf8` until the framer has
/// written it: a private-use character no word holds and no framer escapes.
const BAD_UTF8_MARK: char = '\u{E000}';

/// Room for a few dozen events before `BytesMut` must allocate again.
const BUF_CAPACITY: usize = 4096;

/// Builds the response body that streams `schedule.shape`'s chunks through `framer`, once it
/// holds one of `slots`.
///
/// `guard` leaves the in-flight count, and the slot is freed, when the final chunk is produced
/// or, if the body is dropped earlier (client gone, abort), when the stream is dropped.
/// `shutdown` ends stalled streams when the server stops, so a graceful shutdown never waits
/// on them forever.
pub(crate) fn body<F: Framer>(
    framer: F,
    schedule: Schedule,
    fault: Option<Fault>,
    guard: InFlight,
    slots: Slots,
    shutdown: watch::Receiver<bool>,
) -> Body {
    let mut schedule = schedule;
    if fault == Some(Fault::Endless) {
        schedule.shape = schedule.shape.endless();
    }
    let driver = Driver {
        framer,
        schedule,
        fault,
        guard,
        slots,
        slot: None,
        shutdown,
        buf: BytesMut::with_capacity(BUF_CAPACITY),
        text: String::new(),
        phase: Phase::Queued,
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
                Phase::Queued => {
                    self.phase = Phase::Preamble;
                    self.slot = Some(self.slots.take(&mut self.schedule).await);
                }
                Phase::Preamble => {
                    self.phase = Phase::Chunk(0);
                    self.framer.preamble(&mut self.buf);
                    if !self.buf.is_empty() {
                        return Some(Ok(self.take()));
                    }
                }
                Phase::Chunk(k) => {
                    if self.endless_stopped() {
                        return Some(Err(io::Error::other(
                            "mock endless stream ended by shutdown",
                        )));
                    }
                    let chunks = self.schedule.shape.chunks();
                    let fault_now = self
                        .fault
                        .and_then(Fault::after_chunks)
                        .is_some_and(|at| at.min(chunks) == k);
                    if fault_now {
                        self.phase = Phase::Fault(k);
                        continue;
                    }
                    if k >= chunks {
                        self.phase = Phase::Finish;
                        continue;
                    }
                    tokio::time::sleep_until(self.schedule.deadline(k)).await;
                    self.write_chunk(k, chunks);
                    if k == 0 {
                        // Reasoning counts: it is the first generated output.
                        // From arrival: a wait for a slot is part of the time to first token.
                        let elapsed = self.schedule.received.elapsed();
                        self.guard.stats().record_first_content(elapsed);
                    }
                    self.phase = Phase::Chunk(k + 1);
                    return Some(Ok(self.take()));
                }
                Phase::Fault(k) => return self.fault(k).await,
                Phase::Finish => {
                    self.phase = Phase::Done;
                    self.framer.finish(&mut self.buf);
                    // Before the terminator reaches hyper: see `InFlight`.
                    self.end();
                    return (!self.buf.is_empty()).then(|| Ok(self.take()));
                }
                Phase::Done => return None,
            }
        }
    }

    /// Frames chunk `k` of `chunks` into the buffer.
    fn write_chunk(&mut self, k: u64, chunks: u64) {
        let span = self.schedule.shape.span(k);
        self.text.clear();
        push_words(&mut self.text, span.part, span.first, span.tokens);
        if let (0, Some(Fault::BigEvent(bytes))) = (k, self.fault) {
            // Padding that needs no JSON escaping, so the event is at least that large.
            let bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
            self.text.extend(std::iter::repeat_n('x', bytes.saturating_sub(self.text.len())));
        }
        let spoil = k == 0 && self.fault == Some(Fault::BadUtf8);
        if spoil {
            let mut mid = self.text.len() / 2;
            while !self.text.is_char_boundary(mid) {
                mid -= 1;
            }
            self.text.insert(mid, BAD_UTF8_MARK);
        }
        let chunk = Chunk {
            part: span.part,
            first: span.first,
            tokens: span.tokens,
            text: &self.text,
            last: k + 1 == chunks,
        };
        self.framer.chunk(&chunk, &mut self.buf);
        if spoil {
            self.spoil_utf8();
        }
    }

    /// `fail=bad-utf8`: the mark the framer copied into the event (it holds only this event)
    /// becomes the bytes 0xFF 0xFE, which no UTF-8 text holds.
    fn spoil_utf8(&mut self) {
        let mut mark = [0; 4];
        let mark = BAD_UTF8_MARK.encode_utf8(&mut mark).as_bytes();
        let mut out = BytesMut::with_capacity(self.buf.capacity());
        let mut rest = &self.buf[..];
        while let Some(at) = rest.windows(mark.len()).position(|w| w == mark) {
            out.extend_from_slice(&rest[..at]);
            out.extend_from_slice(&[0xFF, 0xFE]);
            rest = &rest[at + mark.len()..];
        }
        out.extend_from_slice(rest);
        self.buf = out;
    }

    /// `fail=endless` on a server that stops: the stream ends (aborted, as a stall does), or a
    /// graceful shutdown would wait for it forever.
    fn endless_stopped(&mut self) -> bool {
        let stopped = self.fault == Some(Fault::Endless) && *self.shutdown.borrow();
        if stopped {
            self.phase = Phase::Done;
            self.end();
        }
        stopped
    }

    /// Carries out the mid-stream fault, in place of chunk `k`.
    async fn fault(&mut self, k: u64) -> Option<io::Result<Bytes>> {
        if self.fault == Some(Fault::EndlessLine) {
            return self.endless_line();
        }
        self.phase = Phase::Done;
        match self.fault {
            Some(Fault::Error(_)) => {
                self.framer.error(&mut self.buf);
                self.end();
                Some(Ok(self.take()))
            }
            Some(Fault::Stall(_)) => {
                // Nothing more is sent. When the client goes away hyper drops this body,
                // which drops the guard; on server shutdown the stream is aborted instead.
                // Err: the `MockServer` handle was dropped, which does not stop the server.
                if self.shutdown.wait_for(|stop| *stop).await.is_err() {
                    std::future::pending::<()>().await;
                }
                self.end();
                Some(Err(io::Error::other("mock stall ended by shutdown")))
            }
            // Close, and the faults that do not end a stream (they never get here): abort
            // without a chunked terminator, so the client sees a truncated body.
            _ => {
                // The connection dies when the next chunk would have been due. Returning
                // Pending once lets hyper flush the tokens already handed over, which it
                // would otherwise discard together with the connection.
                tokio::time::sleep_until(self.schedule.deadline(k)).await;
                tokio::task::yield_now().await;
                self.end();
                Some(Err(io::Error::other("mock fault: connection closed mid-stream")))
            }
        }
    }

    /// `fail=endless-line`: one more piece of a line that never ends, as fast as the client
    /// reads; the stream stays in this phase until the client leaves (hyper drops the body)
    /// or the server shuts down.
    fn endless_line(&mut self) -> Option<io::Result<Bytes>> {
        static PIECE: [u8; 64 << 10] = [b'x'; 64 << 10];
        if *self.shutdown.borrow() {
            self.phase = Phase::Done;
            self.end();
            return Some(Err(io::Error::other("mock endless line ended by shutdown")));
        }
        Some(Ok(Bytes::from_static(&PIECE)))
    }

    /// Leaves the in-flight count and frees the slot for a waiting request: the response has
    /// produced its last output (what is left to do is hand it to hyper).
    fn end(&mut self) {
        self.guard.finish();
        self.slot = None;
    }

    /// Hands out what was written, keeping the rest of the allocation for the next event.
    fn take(&mut self) -> Bytes {
        self.buf.split().freeze()
    }
}

/// Test runs of a framer: the whole stream at zero delays, chunk by chunk.
#[cfg(test)]
pub(crate) async fn collect_chunks<F: Framer>(
    framer: F,
    shape: super::plan::Shape,
    fault: Option<Fault>,
) -> Vec<String> {
    use super::MockOptions;
    use super::plan::MockQuery;
    use super::stats::MockStats;
    use futures_util::StreamExt;
    use std::sync::Arc;

    let options = MockOptions { ttft_ms: 0, itl_ms: 0, ..MockOptions::default() };
    let now = tokio::time::Instant::now();
    let schedule = Schedule::new(now, &options, &MockQuery::default(), shape, 1);
    let (_tx, rx) = watch::channel(false);
    let stats = Arc::new(MockStats::default());
    let guard = InFlight::enter(stats.clone(), false);
    let slots = Slots::new(Some(1), stats);
    let mut s = body(framer, schedule, fault, guard, slots, rx).into_data_stream();
    let mut out = Vec::new();
    while let Some(Ok(chunk)) = s.next().await {
        out.push(String::from_utf8(chunk.to_vec()).expect("framers write UTF-8"));
    }
    out
}

/// Test run of `shape` through `framer`, concatenated.
#[cfg(test)]
pub(crate) async fn collect_shape<F: Framer>(
    framer: F,
    shape: super::plan::Shape,
    fault: Option<Fault>,
) -> String {
    collect_chunks(framer, shape, fault).await.concat()
}

/// Test run of `tokens` answer tokens, one per chunk, through `framer`, concatenated.
#[cfg(test)]
pub(crate) async fn collect<F: Framer>(framer: F, tokens: u64, fault: Option<Fault>) -> String {
    let shape = super::plan::Shape { reasoning: 0, tokens, per_chunk: 1, capped: false };
    collect_shape(framer, shape, fault).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Shape;

    /// `<`, each chunk as `[R|A text]`, `>`; `!` for an error.
    struct Tags;
    impl Framer for Tags {
        fn preamble(&mut self, buf: &mut BytesMut) {
            buf.extend_from_slice(b"<");
        }
        fn chunk(&mut self, chunk: &Chunk<'_>, buf: &mut BytesMut) {
            let tag = if chunk.part == Part::Reasoning { "R" } else { "A" };
            let last = if chunk.last { "$" } else { "" };
            buf.extend_from_slice(format!("[{tag}{}{last}]", chunk.text).as_bytes());
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
        assert_eq!(collect(Tags, 3, None).await, "<[A Hello][A world][A,$]>");
        assert_eq!(collect(Tags, 3, Some(Fault::Error(1))).await, "<[A Hello]!");
        // A fault later than the answer fires after the last chunk, before the terminator.
        assert_eq!(collect(Tags, 2, Some(Fault::Error(9))).await, "<[A Hello][A world$]!");
        assert_eq!(collect(Tags, 3, Some(Fault::Close(2))).await, "<[A Hello][A world]");
        let big = collect(Tags, 2, Some(Fault::BigEvent(20))).await;
        assert_eq!(big, format!("<[A Hello{}][A world$]>", "x".repeat(14)), "padded to 20");
    }

    /// The raw body of 3 answer tokens through `Tags` with `fault` at zero delays, and the
    /// switch that stops the server.
    fn tagged(fault: Fault) -> (axum::body::BodyDataStream, watch::Sender<bool>) {
        use crate::plan::{MockQuery, Schedule};
        use crate::stats::MockStats;
        use std::sync::Arc;

        let options = crate::MockOptions { ttft_ms: 0, itl_ms: 0, ..Default::default() };
        let shape = Shape { reasoning: 0, tokens: 3, per_chunk: 1, capped: false };
        let now = tokio::time::Instant::now();
        let schedule = Schedule::new(now, &options, &MockQuery::default(), shape, 1);
        let (stop, rx) = watch::channel(false);
        let stats = Arc::new(MockStats::default());
        let guard = InFlight::enter(stats.clone(), false);
        let slots = Slots::new(None, stats);
        (body(Tags, schedule, Some(fault), guard, slots, rx).into_data_stream(), stop)
    }

    #[tokio::test]
    async fn an_endless_line_never_ends_until_shutdown() {
        use futures_util::StreamExt;

        let (mut s, stop) = tagged(Fault::EndlessLine);
        assert_eq!(s.next().await.unwrap().unwrap(), "<", "the preamble first");
        for _ in 0..100 {
            let piece = s.next().await.unwrap().unwrap();
            assert!(piece.len() == 64 << 10 && piece.iter().all(|&b| b == b'x'));
        }
        stop.send_replace(true);
        assert!(s.next().await.unwrap().is_err(), "a shutdown ends it");
        assert!(s.next().await.is_none());
    }

    #[tokio::test]
    async fn bad_utf8_spoils_the_middle_of_the_first_chunk_only() {
        use futures_util::StreamExt;

        let (s, _stop) = tagged(Fault::BadUtf8);
        let pieces: Vec<Bytes> = s.map(|piece| piece.unwrap()).collect().await;
        assert_eq!(pieces.concat(), b"<[A He\xFF\xFEllo][A world][A,$]>");
        assert_eq!(pieces[1].as_ref(), b"[A He\xFF\xFEllo]", "one event, as one write");
    }

    #[tokio::test]
    async fn an_endless_stream_goes_on_past_its_tokens_until_shutdown() {
        use futures_util::StreamExt;

        let (mut s, stop) = tagged(Fault::Endless);
        assert_eq!(s.next().await.unwrap().unwrap(), "<");
        let mut text = String::new();
        for _ in 0..40 {
            let piece = s.next().await.unwrap().unwrap();
            let piece = std::str::from_utf8(&piece).unwrap();
            let word = piece.strip_prefix("[A").and_then(|p| p.strip_suffix(']'));
            text.push_str(word.unwrap_or_else(|| panic!("a plain answer chunk: {piece}")));
        }
        assert_eq!(text, crate::words::mock_text(40), "the words go on, never the last");
        stop.send_replace(true);
        assert!(s.next().await.unwrap().is_err(), "a shutdown ends it");
        assert!(s.next().await.is_none());
    }

    #[tokio::test]
    async fn reasoning_then_answer_in_chunks() {
        let shape = Shape { reasoning: 3, tokens: 4, per_chunk: 2, capped: false };
        let chunks = collect_chunks(Tags, shape, None).await;
        assert_eq!(
            chunks,
            ["<", "[R Let me]", "[R think]", "[A Hello world]", "[A, this$]", ">"],
            "one write per chunk, parts never mixed"
        );
        // Faults count chunks, reasoning included.
        let out = collect_shape(Tags, shape, Some(Fault::Error(3))).await;
        assert_eq!(out, "<[R Let me][R think][A Hello world]!");
    }

    #[test]
    fn output_so_far_counts_reasoning_first() {
        let c = Chunk { part: Part::Answer, first: 4, tokens: 2, text: "", last: false };
        assert_eq!(c.output_so_far(10), 16);
        let c = Chunk { part: Part::Reasoning, ..c };
        assert_eq!(c.output_so_far(10), 6);
        assert!(!c.opens_part());
    }
}
