//! One request's measurements: the record every output consumes.
//!
//! The engine fills a [`Timeline`] with raw monotonic instants while the response streams in
//! (`timeline.rs`); [`Timeline::into_record`] turns it into a [`RequestRecord`], the result
//! file's JSON form (here). Every derived metric (TTFT, TPOT, tokens/s, …) is defined in
//! `timeline.rs` and only there (README, "Metrics"), so a number in any report can be traced to one
//! function. Failure classes live in `failure.rs`.

mod failure;
#[cfg(test)]
pub(crate) mod testing;
mod timeline;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use failure::{ErrorClass, Failure, TimeoutPhase};
pub use timeline::{Piece, Timeline};

/// Which source gave a record's `output_tokens`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenSource {
    /// The API's own usage report (e.g. `usage.completion_tokens`).
    Usage,
    /// Counted in the generated text with a tokenizer (`--tokenizer`, o200k_base by default).
    Tokenizer,
    /// Counted as characters of the generated text (`--tokenizer chars`).
    Chars,
    /// The number of content-bearing events.
    Events,
    /// The number of body reads (raw-chunk mode: the original tool's count).
    #[default]
    Chunks,
}

/// One request's metrics: an element of the result file's `metrics[]` (README, "Result file").
///
/// The first six fields are the original tool's and keep its meaning; durations are seconds as
/// floats, `null` where a value was not reached. Missing keys read as empty, so the original
/// tool's result files load too.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct RequestRecord {
    /// 1-based request number, in send order.
    pub request_id: u64,
    /// Time to first token.
    #[serde(with = "secs")]
    pub ttft: Option<Duration>,
    /// End-to-end time (`e2e`).
    #[serde(with = "secs")]
    pub total_time: Option<Duration>,
    /// The original tool's token count: `output_tokens` (chunks only when nothing better exists).
    pub total_tokens: u64,
    /// Per-request decode rate: (output_tokens − 1) ÷ (last token − first token).
    pub tokens_per_second: Option<f64>,
    /// Human error message, `null` on success.
    pub error: Option<String>,
    /// Time to first byte.
    #[serde(with = "secs")]
    pub ttfb: Option<Duration>,
    /// Time to first answer token.
    #[serde(with = "secs")]
    pub ttfat: Option<Duration>,
    /// Time spent waiting for a free slot in the client.
    #[serde(with = "secs")]
    pub queue_wait: Option<Duration>,
    /// Time this request spent opening a connection (part of its TTFB and TTFT); `null` when
    /// it reused an open one, as most requests do: connections are opened before the clock
    /// starts and kept alive.
    #[serde(with = "secs")]
    pub connect: Option<Duration>,
    /// Time per output token after the first.
    #[serde(with = "secs")]
    pub tpot: Option<Duration>,
    /// Longest gap between consecutive content events (a stall).
    #[serde(with = "secs")]
    pub max_gap: Option<Duration>,
    /// Body reads (raw) or events (framed).
    pub chunks: u64,
    /// Body bytes.
    pub bytes: u64,
    /// chunks ÷ e2e: the original tool's "generation rate".
    pub chunks_per_second: Option<f64>,
    /// Output tokens (see `token_source`).
    pub output_tokens: Option<u64>,
    /// Reasoning tokens, when the API reports them.
    pub reasoning_tokens: Option<u64>,
    /// Input (prompt) tokens, when the API reports them; else, for a body streamperf built,
    /// the prompt's length as built.
    pub input_tokens: Option<u64>,
    /// The output length the request asked for, when streamperf built its body
    /// (`--output-tokens`): a shorter `output_tokens` is an early stop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_output_tokens: Option<u64>,
    /// Input tokens the server served from its prefix cache, when it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<u64>,
    /// When the request started (an open loop's: its scheduled instant), Unix seconds on the
    /// wall clock: the records of a run's shards line up by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<f64>,
    /// The 1-based session (conversation) of a multi-turn run (`--turns`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<u64>,
    /// The 1-based turn within its session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turn: Option<u32>,
    /// The body's `Content-Encoding` (`gzip`, `deflate`, `br`, `zstd`), when it came compressed:
    /// `bytes` counts it as sent, the text is decoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    /// Where `output_tokens` came from.
    pub token_source: TokenSource,
    /// HTTP status code, when a response head arrived.
    pub status: Option<u16>,
    /// Failure class, `null` on success.
    pub error_class: Option<ErrorClass>,
    /// For timeouts: the phase reached.
    pub timeout_phase: Option<TimeoutPhase>,
    /// `stop`, `length`, `tool_calls`, … when the API says.
    pub finish_reason: Option<String>,
    /// The URL that answered, when redirects led away from the one requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_url: Option<String>,
    /// The sweep level (0-based index into the result's `levels`) this request ran in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<u32>,
    /// A warm-up request (`--warmup`): kept in the result, left out of the statistics.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub warmup: bool,
    /// Extracted answer text (only with `--save-output`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub output: Option<String>,
    /// Extracted reasoning text (only with `--save-output`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reasoning: Option<String>,
    /// Gaps between consecutive content chunks, consumed by the aggregator and not written
    /// to the result file.
    #[serde(skip)]
    pub itl: Vec<Duration>,
    /// The per-token view of `itl`: (gap ÷ tokens of the later chunk, that token count).
    #[serde(skip)]
    pub itl_token: Vec<(Duration, u32)>,
}

impl RequestRecord {
    /// Whether the request succeeded.
    pub fn is_success(&self) -> bool {
        self.error_class.is_none()
    }
}

/// `Option<Duration>` as seconds (float) or `null`.
mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_f64(d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let v: Option<f64> = Option::deserialize(d)?;
        Ok(v.filter(|v| v.is_finite() && *v >= 0.0).map(Duration::from_secs_f64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_original_tools_records_still_read() {
        let seed = r#"{"request_id": 1, "ttft": 0.234, "total_time": 2.456, "total_tokens": 45,
                       "tokens_per_second": 18.32, "error": null}"#;
        let r: RequestRecord = serde_json::from_str(seed).unwrap();
        assert_eq!(r.ttft, Some(Duration::from_secs_f64(0.234)));
        assert_eq!(r.total_tokens, 45);
    }
}
