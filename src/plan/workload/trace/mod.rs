//! Request traces for replay: when each request of a recorded workload was sent and how long
//! its prompt and answer were, so that a run can send the same requests at the same offsets.
//!
//! Three formats, as the published traces come:
//!
//! - **Mooncake** JSONL (the Mooncake, vLLM, SGLang and AIPerf traces): `timestamp` in
//!   milliseconds, `input_length`, `output_length` and `hash_ids`, where each id names one
//!   block of prompt tokens, so that requests sharing ids share those blocks of their prompts
//!   (and a server's prefix cache sees the sharing the trace recorded).
//! - **BurstGPT** CSV: `Timestamp` in seconds, `Request tokens`, `Response tokens` (`Model`,
//!   `Total tokens` and `Log Type` are not needed); every prompt is unique.
//! - **Requests** JSONL: `timestamp` in milliseconds and what to send, as a dataset record
//!   gives it (`body`, `messages` or `prompt`, optional `output_tokens` and `input_tokens`),
//!   plus optional `headers`.
//!
//! The whole file is read and checked before the run, so a bad row is an error naming the
//! file, the line and the field before anything is sent. Rows are sorted by time (stably:
//! rows of the same instant keep the file's order) and the first is sent at 0, whatever clock
//! the trace was recorded on.

mod blocks;
mod burstgpt;
mod jsonl;
mod summary;

use std::path::Path;
use std::time::Duration;

use anyhow::bail;
use bytes::Bytes;
use serde::Serialize;

pub use blocks::{BlockPrompts, DEFAULT_BLOCK_TOKENS};
pub use summary::TraceSummary;

use crate::plan::workload::bodies::Message;
use crate::plan::workload::dataset::text;

/// How a trace file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TraceFormat {
    /// Mooncake JSONL: timestamps, lengths and the prompt's block ids.
    Mooncake,
    /// BurstGPT CSV: timestamps and lengths.
    BurstGpt,
    /// Timestamped request JSONL: timestamps and what to send.
    Requests,
}

impl TraceFormat {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [TraceFormat; 3] =
        [TraceFormat::Mooncake, TraceFormat::BurstGpt, TraceFormat::Requests];

    /// The format's name, as `--trace-format` takes it.
    pub fn name(self) -> &'static str {
        match self {
            TraceFormat::Mooncake => "mooncake",
            TraceFormat::BurstGpt => "burstgpt",
            TraceFormat::Requests => "requests",
        }
    }

    /// The format called `name` (any case); the error lists the names.
    pub fn parse(name: &str) -> anyhow::Result<TraceFormat> {
        let lower = name.trim().to_ascii_lowercase();
        let found = TraceFormat::ALL.into_iter().find(|f| f.name() == lower);
        found.ok_or_else(|| {
            let names: Vec<&str> = TraceFormat::ALL.iter().map(|f| f.name()).collect();
            anyhow::anyhow!("unknown trace format {name:?}; expected one of {}", names.join(", "))
        })
    }
}

/// One request of a trace.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceRow {
    /// 1-based line of the file where the row is.
    pub line: usize,
    /// When to send it, from the trace's first request (which is at 0).
    pub at: Duration,
    /// The prompt's length, as the trace gives it.
    pub input_tokens: Option<u64>,
    /// The answer's length, as the trace gives it (`None` for BurstGPT's failed requests,
    /// which record 0).
    pub output_tokens: Option<u64>,
    /// Mooncake's block ids, one a block of the prompt (empty in the other formats).
    pub hash_ids: Vec<u64>,
    /// What to send.
    pub content: TraceContent,
    /// Headers the row sends besides the run's own (Requests format only).
    pub headers: Vec<(String, String)>,
}

/// What a trace row sends.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceContent {
    /// A prompt made from the row's `hash_ids` and `input_tokens` ([`BlockPrompts`]).
    Blocks,
    /// Messages to build the protocol's body from (a prompt is one user message).
    Messages(Vec<Message>),
    /// A whole body, sent as written.
    Body(Bytes),
}

/// A trace's requests, in the order they are sent.
#[derive(Debug, Clone)]
pub struct Trace {
    rows: Vec<TraceRow>,
    format: TraceFormat,
}

impl Trace {
    /// Reads the trace at `path` as `format`, else as the file suggests: a `.csv` file is
    /// BurstGPT; JSON lines whose first record has `hash_ids` or `input_length` are Mooncake,
    /// others are timestamped requests. Every row is checked; errors name the file, the line
    /// and the field, and an empty trace is one.
    pub fn read(path: &Path, format: Option<TraceFormat>) -> anyhow::Result<Trace> {
        let shown = path.display();
        let text = text::read_text(path, "utf-8")?;
        if text.trim().is_empty() {
            bail!("{shown}: the trace is empty: it has no requests to replay");
        }
        let format = format.unwrap_or_else(|| sniff(path, &text));
        let rows = match format {
            TraceFormat::Mooncake => jsonl::read(&text, jsonl::mooncake),
            TraceFormat::BurstGpt => burstgpt::read(&text),
            TraceFormat::Requests => jsonl::read(&text, jsonl::request),
        };
        let rows = rows.map_err(|e| anyhow::anyhow!("{shown}{e}"))?;
        Ok(Trace::sorted(rows, format))
    }

    /// `rows` sorted by time (stably) and moved so that the first is at 0.
    fn sorted(mut rows: Vec<TraceRow>, format: TraceFormat) -> Trace {
        rows.sort_by_key(|row| row.at);
        let mut trace = Trace { rows, format };
        trace.start_at_zero();
        trace
    }

    /// The requests, taken out of the trace, in the order they are sent.
    pub fn into_rows(self) -> Vec<TraceRow> {
        self.rows
    }

    /// The requests, in the order they are sent.
    pub fn rows(&self) -> &[TraceRow] {
        &self.rows
    }

    /// The number of requests.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no request is left: a trace is read with at least one, but a
    /// [`window`](Self::window) may keep none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The format the file was read as.
    pub fn format(&self) -> TraceFormat {
        self.format
    }

    /// Keeps the requests sent from `start` up to (not including) `end`, and moves them so
    /// that the first kept is sent at 0: replaying a trace's busy hour starts with its first
    /// request, not with the quiet before it. It may keep none ([`is_empty`](Self::is_empty)).
    pub fn window(&mut self, start: Duration, end: Option<Duration>) {
        self.rows.retain(|row| row.at >= start && end.is_none_or(|end| row.at < end));
        self.start_at_zero();
    }

    /// Sends the trace `factor` times as fast (2 halves every offset, 0.5 doubles it), to
    /// push a server harder with the same mix of requests.
    ///
    /// # Panics
    ///
    /// When `factor` is not a finite number above 0 (the flag's parser checks it).
    pub fn speedup(&mut self, factor: f64) {
        assert!(factor.is_finite() && factor > 0.0, "a speed-up is above 0, got {factor}");
        for row in &mut self.rows {
            // Rounded to the nanosecond; `as` saturates where a tiny factor would overflow.
            row.at = Duration::from_nanos((row.at.as_nanos() as f64 / factor).round() as u64);
        }
    }

    /// The numbers that tell what the trace will do: requests, span, rate, lengths, reuse.
    pub fn summary(&self) -> TraceSummary {
        TraceSummary::of(self)
    }

    fn start_at_zero(&mut self) {
        let first = self.rows.first().map_or(Duration::ZERO, |row| row.at);
        for row in &mut self.rows {
            row.at -= first;
        }
    }
}

/// The format a trace file looks like (see [`Trace::read`]).
fn sniff(path: &Path, text: &str) -> TraceFormat {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    if ext.as_deref() == Some("csv") {
        return TraceFormat::BurstGpt;
    }
    let first = text.lines().find(|line| !line.trim().is_empty()).unwrap_or_default();
    match serde_json::from_str::<serde_json::Value>(first) {
        Ok(serde_json::Value::Object(record))
            if record.contains_key("hash_ids") || record.contains_key("input_length") =>
        {
            TraceFormat::Mooncake
        }
        _ => TraceFormat::Requests,
    }
}

/// A timestamp field's `amount` of `unit`s (`nanos` nanoseconds each) as a time from the
/// trace's clock's start, rounded to the nanosecond (so that 27,482 ms is exactly that, not
/// 27.481999999 s). `got` is the value as the file writes it, for the error naming `field`.
fn offset(
    field: &str,
    amount: Option<f64>,
    unit: &str,
    nanos: f64,
    got: &dyn std::fmt::Display,
) -> Result<Duration, String> {
    let not_a_time = || format!("`{field}` must be a number of {unit}, got {got}");
    let amount = amount.filter(|a| a.is_finite()).ok_or_else(not_a_time)?;
    if amount < 0.0 {
        return Err(format!("`{field}` must not be negative, got {got}"));
    }
    let nanos = (amount * nanos).round();
    // Up to 584 years: a Unix time in milliseconds fits.
    if nanos >= u64::MAX as f64 {
        return Err(not_a_time());
    }
    Ok(Duration::from_nanos(nanos as u64))
}

#[cfg(test)]
mod tests;
