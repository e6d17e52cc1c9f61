//! The validated configuration the engine sees, built from the config file and the flags.
//!
//! Precedence: command-line flag > config file > built-in default. `${NAME}` in url, headers
//! and body is read from the environment here, and every value read that way is remembered as
//! a secret so that [`crate::redact::Redactor`] can hide it from every output.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::cli::{Lang, RunArgs};
use crate::redact::Redactor;

/// The seed's `stream_format` block, plus `type: auto` (the default when absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StreamFormat {
    /// `auto` (default), `sse`, `raw` or `openai` (forces the OpenAI chat adapter).
    pub kind: FormatKind,
    /// Event name whose arrival is the first token (the seed's Dify behaviour).
    pub first_token_event: Option<String>,
    /// Event name that marks completion.
    pub completion_event: Option<String>,
    /// Dotted path of the output in an event's JSON payload, e.g. `data.outputs.result`.
    pub output_path: Option<String>,
}

/// How a response body is framed and interpreted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FormatKind {
    /// Framing from `Content-Type`, protocol from the first payload's shape.
    #[default]
    Auto,
    /// Server-Sent Events with the seed's generic rules.
    Sse,
    /// Each body read is one chunk.
    Raw,
    /// OpenAI chat-completions chunks over SSE.
    Openai,
}

/// The seed's `data_source` block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataSource {
    /// Resolved path (relative paths resolve against the config file's folder).
    pub file: PathBuf,
    /// Only this column is available to placeholders.
    pub column: Option<String>,
    /// Text encoding label (`utf-8`, `gbk`, `gb18030`, `utf-16`, …).
    pub encoding: String,
}

/// Everything a run needs, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// Endpoint URL (`${NAME}` already substituted; may hold `{{column}}` placeholders).
    pub url: String,
    /// HTTP method, upper case.
    pub method: String,
    /// Request headers in order (values may hold `{{column}}` placeholders).
    pub headers: Vec<(String, String)>,
    /// Request body template; `None` sends no body.
    pub body: Option<serde_json::Value>,
    /// Bound on each whole request.
    pub timeout: Duration,
    /// Requests in flight at all times.
    pub concurrency: u64,
    /// Requests to send in all.
    pub total_requests: u64,
    /// CSV rows feeding `{{column}}` placeholders.
    pub data_source: Option<DataSource>,
    /// How to read the response stream.
    pub stream_format: StreamFormat,
    /// Result file; `None` means the default `test_results.json`.
    pub output: Option<PathBuf>,
    /// Whether to write a result file at all (`demo` without `-o` writes none).
    pub write_result: bool,
    /// Report language.
    pub lang: Lang,
    /// No per-request lines.
    pub quiet: bool,
    /// Keep extracted text in records.
    pub save_output: bool,
    /// The config file this came from, if any.
    pub config_path: Option<PathBuf>,
    /// Secrets to hide from every output.
    pub redactor: Redactor,
}

impl Config {
    /// Merges `args` over the config file named by `args.config` (if any) and validates.
    pub fn resolve(args: &RunArgs) -> anyhow::Result<Config> {
        let _ = args;
        anyhow::bail!("config resolution is not built yet")
    }

    /// The `config` section of the result file: the seed's keys plus the rest, secrets redacted.
    pub fn result_view(&self, timestamp: &str) -> serde_json::Value {
        let _ = timestamp;
        serde_json::Value::Null
    }
}
