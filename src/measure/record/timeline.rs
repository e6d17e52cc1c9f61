//! The [`Timeline`]: one request's raw monotonic instants as the engine records them, and
//! [`Timeline::into_record`], the one place every derived metric (TTFT, TPOT, tokens/s, …) is
//! computed (README, "Metrics"). Apart from the record's JSON form so the arithmetic reads on its
//! own.

use std::time::Duration;

use tokio::time::Instant;

use super::{Failure, RequestRecord, TokenSource};
use crate::measure::tokens::Tokenizer;

/// Raw instants of one request, on one monotonic clock (README, "Metrics").
///
/// The engine only stores `Instant::now()` values and counters here; all arithmetic happens in
/// [`Timeline::into_record`], after the stream has ended.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// When the schedule wanted the request sent (closed loop: equals `send`).
    pub sched: Instant,
    /// When the request was handed to the HTTP client.
    pub send: Instant,
    /// Time spent opening a connection for this request (TCP, TLS, HTTP handshake); `None`
    /// when it reused its worker's open connection.
    pub connect: Option<Duration>,
    /// Response head received.
    pub headers: Option<Instant>,
    /// First body bytes.
    pub first_byte: Option<Instant>,
    /// First framed event of any kind.
    pub first_event: Option<Instant>,
    /// First event carrying generated content (or the original tool's `first_token_event`).
    pub first_token: Option<Instant>,
    /// First visible answer content.
    pub first_answer: Option<Instant>,
    /// Last content-bearing event.
    pub last_token: Option<Instant>,
    /// Stream terminator or EOF.
    pub end: Option<Instant>,
    /// When the request's deadline cut the stream off (a timeout): the time since the last
    /// content event is its final stall, which `max_gap` includes.
    pub timed_out: Option<Instant>,
    /// Every content-bearing event, in arrival order.
    pub pieces: Vec<Piece>,
    /// The generated text (answer, reasoning, tool calls) in arrival order; each piece ends
    /// at its `end` offset. Tokenized after the stream, when the API reports no usage.
    pub text: String,
    /// Body reads (raw mode) or dispatched events (framed modes): the original tool's "chunks".
    pub chunks: u64,
    /// Body bytes received.
    pub bytes: u64,
    /// Output tokens reported by the API, if it did.
    pub usage_output_tokens: Option<u64>,
    /// Input (prompt) tokens reported by the API, if it did.
    pub usage_input_tokens: Option<u64>,
    /// Reasoning tokens reported by the API, if it did.
    pub usage_reasoning_tokens: Option<u64>,
    /// Input tokens the API says it served from its prefix cache.
    pub usage_cached_tokens: Option<u64>,
    /// Whether `chunks` counts body reads (raw mode) rather than events.
    pub raw_mode: bool,
    /// Whether only a marker event (the original tool's `first_token_event`) sets `first_token`.
    pub first_token_by_marker: bool,
}

impl Timeline {
    /// A timeline whose request was scheduled at `sched` and sent at `send`.
    pub fn new(sched: Instant, send: Instant) -> Self {
        Timeline {
            sched,
            send,
            connect: None,
            headers: None,
            first_byte: None,
            first_event: None,
            first_token: None,
            first_answer: None,
            last_token: None,
            end: None,
            timed_out: None,
            pieces: Vec::new(),
            text: String::new(),
            chunks: 0,
            bytes: 0,
            usage_output_tokens: None,
            usage_input_tokens: None,
            usage_reasoning_tokens: None,
            usage_cached_tokens: None,
            raw_mode: false,
            first_token_by_marker: false,
        }
    }

    /// Records a content-bearing event that arrived at `at` carrying the generated text
    /// `parts` (reasoning, answer, tool call), with the running output-token total the API
    /// reported on the same event, if any.
    pub fn content_at(&mut self, at: Instant, parts: &[Option<&str>], reported: Option<u64>) {
        if !self.first_token_by_marker {
            self.first_token.get_or_insert(at);
        }
        self.last_token = Some(at);
        for part in parts.iter().flatten() {
            self.text.push_str(part);
        }
        self.pieces.push(Piece { at, end: self.text.len(), reported });
    }

    /// Turns the instants into the metrics README's "Metrics" defines. `tokenizer` counts the
    /// generated text when the API reported no usage, and splits it over the chunks for the
    /// per-token inter-token latency.
    pub fn into_record(
        self,
        request_id: u64,
        failure: Option<Failure>,
        tokenizer: &Tokenizer,
    ) -> RequestRecord {
        let start = self.sched;
        let since = |t: Option<Instant>| t.map(|t| t.saturating_duration_since(start));
        let piece_tokens = self.piece_tokens(tokenizer);
        let counted = piece_tokens
            .as_ref()
            .map(|(counts, source)| (counts.iter().map(|&n| u64::from(n)).sum::<u64>(), *source));
        let (output_tokens, token_source) = match (self.usage_output_tokens, counted) {
            (Some(n), _) => (n, TokenSource::Usage),
            (None, Some((n, source))) if source != TokenSource::Usage => (n, source),
            (None, _) if self.raw_mode => (self.chunks, TokenSource::Chunks),
            (None, _) => (self.pieces.len() as u64, TokenSource::Events),
        };
        let decode = match (self.first_token, self.last_token) {
            (Some(a), Some(b)) if b > a => Some(b - a),
            _ => None,
        };
        let tpot = decode.filter(|_| output_tokens >= 2).map(|d| d / (output_tokens - 1) as u32);
        let tokens_per_second = decode
            .filter(|_| output_tokens >= 2)
            .map(|d| (output_tokens - 1) as f64 / d.as_secs_f64());
        let total_time = since(self.end);
        let chunks_per_second =
            total_time.filter(|t| !t.is_zero()).map(|t| self.chunks as f64 / t.as_secs_f64());
        let itl: Vec<Duration> =
            self.pieces.windows(2).map(|w| w[1].at.saturating_duration_since(w[0].at)).collect();
        // A stream cut off by its deadline stalled from its last content to the cut (#17).
        let final_stall = match (self.last_token, self.timed_out) {
            (Some(last), Some(cut)) => Some(cut.saturating_duration_since(last)),
            _ => None,
        };
        let itl_token = match &piece_tokens {
            Some((counts, _)) => per_token_gaps(&itl, counts),
            None => Vec::new(),
        };
        let (error, error_class, timeout_phase) = match failure {
            Some(f) => (Some(f.message), Some(f.class), f.phase),
            None => (None, None, None),
        };
        RequestRecord {
            request_id,
            ttft: since(self.first_token),
            total_time,
            total_tokens: output_tokens,
            tokens_per_second,
            error,
            ttfb: since(self.first_byte),
            ttfat: since(self.first_answer),
            queue_wait: Some(self.send.saturating_duration_since(self.sched)),
            connect: self.connect,
            tpot,
            max_gap: itl.iter().copied().chain(final_stall).max(),
            chunks: self.chunks,
            bytes: self.bytes,
            chunks_per_second,
            output_tokens: Some(output_tokens),
            reasoning_tokens: self.usage_reasoning_tokens,
            input_tokens: self.usage_input_tokens,
            requested_output_tokens: None,
            cached_tokens: self.usage_cached_tokens,
            started_at: None,
            session: None,
            turn: None,
            content_encoding: None,
            token_source,
            status: None,
            error_class,
            timeout_phase,
            finish_reason: None,
            final_url: None,
            level: None,
            warmup: false,
            output: None,
            reasoning: None,
            itl,
            itl_token,
        }
    }

    /// Whether [`Timeline::into_record`] will run the tokenizer over the text: the API
    /// reported neither a running total on every piece nor a total equal to the piece count.
    pub fn needs_tokenizer(&self) -> bool {
        !self.pieces.is_empty()
            && reported_deltas(&self.pieces).is_none()
            && self.usage_output_tokens != Some(self.pieces.len() as u64)
    }

    /// How many tokens each piece carried, and where that came from: the API's running
    /// totals when it reported one on every piece (vLLM's `continuous_usage_stats`); one per
    /// piece when the reported total equals the piece count (no tokenizing needed); else the
    /// tokenizer over the whole text. `None` when nothing can tell (`--tokenizer events`).
    fn piece_tokens(&self, tokenizer: &Tokenizer) -> Option<(Vec<u32>, TokenSource)> {
        if self.pieces.is_empty() {
            return None;
        }
        if let Some(counts) = reported_deltas(&self.pieces) {
            return Some((counts, TokenSource::Usage));
        }
        if self.usage_output_tokens == Some(self.pieces.len() as u64) {
            return Some((vec![1; self.pieces.len()], TokenSource::Usage));
        }
        let ends: Vec<usize> = self.pieces.iter().map(|p| p.end).collect();
        let counts = tokenizer.count_pieces(&self.text, &ends)?;
        let source = match tokenizer {
            Tokenizer::Chars => TokenSource::Chars,
            _ => TokenSource::Tokenizer,
        };
        Some((counts, source))
    }
}

/// One content-bearing event of a stream.
#[derive(Debug, Clone, Copy)]
pub struct Piece {
    /// When the read that completed it returned.
    pub at: Instant,
    /// Where its text ends in [`Timeline::text`].
    pub end: usize,
    /// The running output-token total the API reported on the same event.
    pub reported: Option<u64>,
}

/// Tokens per piece from running totals reported on every piece, when they never decrease.
fn reported_deltas(pieces: &[Piece]) -> Option<Vec<u32>> {
    let mut previous = 0u64;
    pieces
        .iter()
        .map(|piece| {
            let total = piece.reported?;
            let delta = total.checked_sub(previous)?;
            previous = total;
            u32::try_from(delta).ok()
        })
        .collect()
}

/// The per-token view of the chunk gaps (README, "Metrics"): each gap divided by the tokens the
/// later chunk carried, weighted by that count. A chunk that completed no token (its text
/// only began one) passes its gap on to the next chunk that did.
fn per_token_gaps(gaps: &[Duration], counts: &[u32]) -> Vec<(Duration, u32)> {
    let mut out = Vec::with_capacity(gaps.len());
    let mut pending = Duration::ZERO;
    for (gap, &tokens) in gaps.iter().zip(counts.iter().skip(1)) {
        pending += *gap;
        if tokens > 0 {
            out.push((pending / tokens, tokens));
            pending = Duration::ZERO;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::record::ErrorClass;

    const MS: Duration = Duration::from_millis(1);

    fn events() -> Tokenizer {
        Tokenizer::from_spec("events").unwrap()
    }

    /// A stream sent at t0: first byte at 5 ms, tokens at 100, 110, 130 ms, end at 140 ms.
    fn timeline() -> (Timeline, Instant) {
        let t0 = Instant::now();
        let mut tl = Timeline::new(t0, t0);
        tl.first_byte = Some(t0 + 5 * MS);
        for at in [100, 110, 130] {
            tl.content_at(t0 + at * MS, &[Some("x")], None);
        }
        tl.first_answer = Some(t0 + 100 * MS);
        tl.end = Some(t0 + 140 * MS);
        tl.chunks = 7;
        (tl, t0)
    }

    #[test]
    fn derived_metrics_follow_design_section_2() {
        let (tl, _) = timeline();
        let r = tl.into_record(1, None, &events());
        assert_eq!(r.ttfb, Some(5 * MS));
        assert_eq!(r.ttft, Some(100 * MS));
        assert_eq!(r.total_time, Some(140 * MS));
        assert_eq!(r.output_tokens, Some(3));
        assert_eq!(r.token_source, TokenSource::Events);
        assert_eq!(r.tpot, Some(15 * MS), "(130 - 100) / (3 - 1)");
        assert!((r.tokens_per_second.unwrap() - 2.0 / 0.030).abs() < 1e-9);
        assert!((r.chunks_per_second.unwrap() - 7.0 / 0.140).abs() < 1e-9);
        assert_eq!(r.itl, vec![10 * MS, 20 * MS]);
        assert_eq!(r.max_gap, Some(20 * MS));
        assert_eq!(r.connect, None, "a reused connection");
        assert!(r.is_success());
    }

    #[test]
    fn connect_time_is_kept_and_written_in_seconds() {
        let (mut tl, _) = timeline();
        tl.connect = Some(3 * MS);
        let r = tl.into_record(1, None, &events());
        assert_eq!(r.connect, Some(3 * MS));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["connect"], 0.003);
        let reused = serde_json::to_value(timeline().0.into_record(2, None, &events())).unwrap();
        assert!(reused["connect"].is_null(), "null when the connection was reused");
        let back: RequestRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back.connect, Some(3 * MS));
    }

    #[test]
    fn usage_beats_counting() {
        let (mut tl, _) = timeline();
        tl.usage_output_tokens = Some(31);
        let r = tl.into_record(1, None, &events());
        assert_eq!(
            (r.output_tokens, r.total_tokens, r.token_source),
            (Some(31), 31, TokenSource::Usage)
        );
        assert_eq!(r.tpot, Some(Duration::from_micros(1000)), "30 ms / 30");
    }

    #[test]
    fn tokenizer_counts_when_usage_is_absent_and_splits_the_gaps_per_token() {
        let t0 = Instant::now();
        let mut tl = Timeline::new(t0, t0);
        // " the model" is 2 tokens in o200k_base, " stream" 1: gaps of 40 and 10 ms.
        tl.content_at(t0 + 100 * MS, &[Some(" hello")], None);
        tl.content_at(t0 + 140 * MS, &[Some(" the"), Some(" model")], None);
        tl.content_at(t0 + 150 * MS, &[Some(" stream")], None);
        tl.end = Some(t0 + 150 * MS);
        let r = tl.into_record(1, None, &Tokenizer::from_spec("o200k_base").unwrap());
        assert_eq!((r.output_tokens, r.token_source), (Some(4), TokenSource::Tokenizer));
        assert_eq!(r.itl, vec![40 * MS, 10 * MS], "per chunk");
        assert_eq!(r.itl_token, vec![(20 * MS, 2), (10 * MS, 1)], "per token");
        assert_eq!(r.tpot, Some(50 * MS / 3));
    }

    #[test]
    fn running_usage_totals_give_tokens_per_chunk() {
        let t0 = Instant::now();
        let mut tl = Timeline::new(t0, t0);
        for (at, total) in [(100, 4), (120, 8), (140, 12)] {
            tl.content_at(t0 + at * MS, &[Some("abcd")], Some(total));
        }
        tl.usage_output_tokens = Some(12);
        let r = tl.into_record(1, None, &events());
        assert_eq!((r.output_tokens, r.token_source), (Some(12), TokenSource::Usage));
        assert_eq!(r.itl, vec![20 * MS, 20 * MS]);
        assert_eq!(r.itl_token, vec![(5 * MS, 4), (5 * MS, 4)]);
    }

    #[test]
    fn a_chunk_without_a_whole_token_passes_its_gap_on() {
        let gaps = [10 * MS, 20 * MS, 30 * MS];
        assert_eq!(per_token_gaps(&gaps, &[1, 0, 2, 1]), vec![(15 * MS, 2), (30 * MS, 1)]);
        assert_eq!(reported_deltas(&[]), Some(vec![]));
    }

    #[test]
    fn a_marker_defines_the_first_token_when_configured() {
        let t0 = Instant::now();
        let mut tl = Timeline::new(t0, t0);
        tl.first_token_by_marker = true;
        tl.content_at(t0 + 10 * MS, &[Some("x")], None);
        assert_eq!(tl.first_token, None, "content before the marker is not the first token");
        tl.first_token.get_or_insert(t0 + 20 * MS);
        assert_eq!(tl.into_record(1, None, &events()).ttft, Some(20 * MS));
    }

    #[test]
    fn a_failure_keeps_its_timings() {
        let (mut tl, _) = timeline();
        tl.end = None;
        let f = Failure::new(ErrorClass::Incomplete, "closed");
        let r = tl.into_record(2, Some(f), &events());
        assert_eq!(r.error_class, Some(ErrorClass::Incomplete));
        assert_eq!(r.error.as_deref(), Some("closed"));
        assert_eq!(r.ttft, Some(100 * MS));
        assert_eq!(r.total_time, None);
    }

    #[test]
    fn a_timed_out_streams_final_stall_is_its_max_gap() {
        let (mut tl, t0) = timeline();
        tl.end = None;
        tl.timed_out = Some(t0 + 530 * MS);
        let timeout = Failure::new(ErrorClass::Timeout, "timed out");
        let r = tl.into_record(1, Some(timeout), &events());
        assert_eq!(r.max_gap, Some(400 * MS), "from the last token at 130 ms to the cut");
        assert_eq!(r.itl, vec![10 * MS, 20 * MS], "the stall is no inter-token gap");
        // Before any token there is no gap, only a TTFT that never came.
        let t0 = Instant::now();
        let mut tl = Timeline::new(t0, t0);
        tl.timed_out = Some(t0 + 500 * MS);
        assert_eq!(tl.into_record(2, None, &events()).max_gap, None);
    }
}
