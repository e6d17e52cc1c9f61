//! Trace replay (`--trace`): the trace's rows sent on the trace's own schedule, each with the
//! prompt and output length it recorded. A Mooncake row's prompt is built from its hash ids'
//! blocks (rows sharing ids share those blocks exactly), a BurstGPT row's is unique, a request
//! row sends what it holds, with its own headers.

use std::path::PathBuf;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::bodies::Message;
use super::built::BuildSettings;
use super::trace::{BlockPrompts, Trace, TraceContent, TraceFormat, TraceRow, TraceSummary};
use crate::measure::engine::{BodySource, MadeBody};
use crate::measure::tokens::Tokenizer;

/// What `--trace` and its companions ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSettings {
    /// The trace file.
    pub file: PathBuf,
    /// How it is written; `None`: from the file.
    pub format: Option<TraceFormat>,
    /// Play it this many times as fast (`--trace-speedup`).
    pub speedup: f64,
    /// Only the rows from `.0` to `.1` (`--trace-window`).
    pub window: (Duration, Option<Duration>),
    /// Tokens per hash id's block (`--trace-block-tokens`).
    pub block_tokens: u64,
}

impl TraceSettings {
    /// The settings as the result file's `config.trace`.
    pub fn view(&self) -> serde_json::Value {
        serde_json::json!({
            "file": self.file.display().to_string(),
            "format": self.format.map(TraceFormat::name),
            "speedup": self.speedup,
            "window": [self.window.0.as_secs_f64(), self.window.1.map(|e| e.as_secs_f64())],
            "block_tokens": self.block_tokens,
        })
    }

    /// Reads the trace, cut to the window and sped up; an error when no row is left.
    pub fn read(&self) -> anyhow::Result<Trace> {
        let mut trace = Trace::read(&self.file, self.format)?;
        trace.window(self.window.0, self.window.1);
        if trace.is_empty() {
            anyhow::bail!(
                "{}: no row of the trace falls in `--trace-window` ({})",
                self.file.display(),
                window_text(self.window)
            );
        }
        trace.speedup(self.speedup);
        Ok(trace)
    }
}

/// A window as the user wrote it: `10s..20s`, `30s..`.
fn window_text((start, end): (Duration, Option<Duration>)) -> String {
    let end = end.map(|e| format!("{e:?}")).unwrap_or_default();
    format!("{start:?}..{end}")
}

/// The trace's rows as the engine's [`BodySource`]: request `i` sends row `i`.
#[derive(Debug)]
pub struct TraceBodies {
    rows: Vec<TraceRow>,
    blocks: BlockPrompts,
    build: BuildSettings,
    summary: TraceSummary,
}

impl TraceBodies {
    /// Fails, naming the first row at fault, when a row needs a body built and none can be.
    pub fn new(
        trace: Trace,
        settings: &TraceSettings,
        build: &BuildSettings,
        tokenizer: &Tokenizer,
    ) -> anyhow::Result<TraceBodies> {
        let needs_build = trace.rows().iter().find(|r| !matches!(r.content, TraceContent::Body(_)));
        if let Some(row) = needs_build
            && !build.can_build()
        {
            anyhow::bail!(
                "{}:{}: this row's body must be built, and the URL's path names no protocol; \
                 give --format (or a `body` with {{{{prompt}}}})",
                settings.file.display(),
                row.line
            );
        }
        let summary = trace.summary();
        Ok(TraceBodies {
            rows: trace.into_rows(),
            blocks: BlockPrompts::new(tokenizer, settings.block_tokens),
            build: build.clone(),
            summary,
        })
    }

    /// When each row is sent, from the start: the replay's schedule.
    pub fn schedule(&self) -> Vec<Duration> {
        self.rows.iter().map(|r| r.at).collect()
    }

    /// What the trace holds (rate, lengths, block reuse), said before the run.
    pub fn summary(&self) -> &TraceSummary {
        &self.summary
    }
}

impl BodySource for TraceBodies {
    fn body(&self, index: u64) -> MadeBody {
        let row = &self.rows[(index % self.rows.len() as u64) as usize];
        let headers = row.headers.clone();
        // `--output-tokens` wins over the row's, as a flag wins over a file.
        let drawn = self.build.output.map(|o| o.sample(&mut StdRng::seed_from_u64(index)));
        let output = drawn.or(row.output_tokens);
        let (messages, input_tokens) = match &row.content {
            TraceContent::Body(bytes) => {
                let (output_tokens, input_tokens) = (row.output_tokens, row.input_tokens);
                return MadeBody { bytes: bytes.clone(), output_tokens, input_tokens, headers };
            }
            TraceContent::Messages(messages) => (messages.clone(), row.input_tokens),
            TraceContent::Blocks => {
                let prompt = self.blocks.for_row(row, index).unwrap_or_default();
                (vec![Message::user(prompt)], row.input_tokens)
            }
        };
        let bytes = self.build.build(&messages, output);
        let input_tokens = input_tokens.filter(|_| self.build.template.is_none());
        MadeBody { bytes, output_tokens: output, input_tokens, headers }
    }
}
