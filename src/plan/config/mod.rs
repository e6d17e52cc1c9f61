//! The validated configuration the engine sees, built from the config file and the flags.
//!
//! Precedence: command-line flag > config file > built-in default. `${NAME}` in url, headers
//! and body is read from the environment here, and every value read that way is remembered as
//! a secret so that [`crate::redact::Redactor`] can hide it from every output.
//!
//! The file is parsed by extension (`syntax`) and read into the original tool's keys with
//! every key and type checked (`file`); `flags` checks what may come from either side; `env`
//! reads `${NAME}`; `view` is what a config shows the layers below it (the engine's settings,
//! the result file's redacted view). Which side wins for each key is decided where the flags
//! are read, in `commands/run/resolve.rs`.

pub mod env;
pub(crate) mod file;
pub(crate) mod flags;
pub mod history;
pub mod load;
pub mod shard;
pub mod start;
pub mod sweep;
mod syntax;
mod view;

pub(crate) use view::proxy_for;

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value, json};

pub use crate::i18n::{detect_lang, detect_lang_with};
pub use crate::measure::engine::TlsOptions;
/// The stream format is the protocol layer's; configs name it here too.
pub use crate::measure::protocol::format::{FormatKind, StreamFormat};
/// The workload's settings are the workload's; configs name them here too.
pub use crate::plan::workload::built::BuildSettings;
pub use crate::plan::workload::dataset::DatasetFormat;
pub use crate::plan::workload::replay::TraceSettings;
pub use crate::plan::workload::sessions::SessionSettings;
pub use crate::plan::workload::synthetic::SyntheticSettings;
pub use env::{Env, process_env};
pub use history::HistorySettings;
pub use load::LoadSettings;
pub use shard::Shard;
pub use sweep::{Sweep, SweepOver};

use crate::analyse::slo::Slo;
use crate::i18n::Lang;
use crate::measure::engine::proxy::ProxySettings;
use crate::output::export::ExportFormat;
use crate::redact::Redactor;

/// The dataset: `--dataset`, or the `data_source` block (the original tool's, for CSV).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataSource {
    /// Resolved path (relative paths resolve against the config file's folder).
    pub file: PathBuf,
    /// How the file is written; `None`: from its extension and first character.
    pub format: Option<DatasetFormat>,
    /// The seed of a reproducible shuffle (`--shuffle`); `None` sends records in order.
    pub shuffle: Option<u64>,
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
    /// Requests to send in all; `None` when only `--duration` ends the run.
    pub total_requests: Option<u64>,
    /// Load model, stop conditions, warm-up and ramp-up.
    pub load: LoadSettings,
    /// Several concurrencies or rates, one after another.
    pub sweep: Option<Sweep>,
    /// Service-level objectives (`--slo`, `slo:` in the file).
    pub slos: Vec<Slo>,
    /// Extra formats written beside the result file (`--export`).
    pub exports: Vec<ExportFormat>,
    /// Prometheus text file replaced on every run (`--prometheus`).
    pub prometheus: Option<PathBuf>,
    /// The level this config runs, when it is one level of a sweep ([`Config::at_level`]).
    pub sweep_level: Option<f64>,
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
    /// Token counter when a stream reports no usage (`--tokenizer`): a name or a file.
    pub tokenizer: String,
    /// How https servers are verified (flags only).
    pub tls: TlsOptions,
    /// The proxy each target goes through (`--proxy`, `proxy:`, else the environment's).
    pub proxy: ProxySettings,
    /// Redirects one request may follow (`--max-redirects`; 0: none).
    pub max_redirects: u32,
    /// The config file this came from, if any.
    pub config_path: Option<PathBuf>,
    /// Secrets to hide from every output.
    pub redactor: Redactor,
    /// Whether and where the run is stored in the history database, with its label and tags.
    pub history: HistorySettings,
    /// The full-screen live dashboard (`--tui`, `tui: true`).
    pub tui: bool,
    /// Synthetic prompts of a given length, a body built per request (`--input-tokens`).
    pub synthetic: Option<SyntheticSettings>,
    /// How bodies are built, when streamperf builds them (synthetic prompts, or a dataset of
    /// prompts and conversations).
    pub built: Option<BuildSettings>,
    /// Multi-turn sessions (`--turns`): each job of the load a conversation.
    pub sessions: Option<SessionSettings>,
    /// A trace replayed on its own schedule (`--trace`).
    pub trace: Option<TraceSettings>,
    /// Records kept in memory and in the result's `metrics` (`--max-records-in-result`); the
    /// records file beside the result has every one.
    pub max_records_in_result: u64,
    /// Serve live Prometheus metrics at this address during the run (`--metrics-listen`).
    pub metrics_listen: Option<String>,
    /// Rewrite the `--prometheus` file this often during the run (`--push-interval`).
    pub push_interval: Option<Duration>,
    /// This process's part of a sharded run (`--shard I/N`).
    pub shard: Option<Shard>,
    /// When the load starts, connections opened before (`--start-at`).
    pub start_at: Option<std::time::SystemTime>,
}

impl Config {
    /// The requests this process sends, when known: `total_requests`, or a shard's part of it
    /// (with sessions, `total_requests` already counts this process's conversations' turns).
    pub fn requests_here(&self) -> Option<u64> {
        match (self.shard, &self.sessions) {
            (Some(shard), None) => self.total_requests.map(|t| shard.part(t)),
            _ => self.total_requests,
        }
    }

    /// A run against `url` with every default, as `streamperf -u URL` without a config file
    /// runs it, except that the report is in English and nothing goes into the history. The
    /// demo and tests start here and change what they need.
    pub fn new(url: impl Into<String>) -> Config {
        let url = url.into();
        let mut redactor = Redactor::default();
        redactor.add_url(&url);
        Config {
            url,
            method: DEFAULT_METHOD.into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Some(default_body()),
            timeout: Duration::from_secs_f64(DEFAULT_TIMEOUT_SECS),
            concurrency: DEFAULT_CONCURRENCY,
            total_requests: Some(DEFAULT_TOTAL_REQUESTS),
            load: LoadSettings::default(),
            sweep: None,
            sweep_level: None,
            slos: Vec::new(),
            exports: Vec::new(),
            prometheus: None,
            data_source: None,
            stream_format: StreamFormat::default(),
            output: None,
            write_result: true,
            lang: Lang::En,
            quiet: false,
            save_output: false,
            tokenizer: DEFAULT_TOKENIZER.into(),
            tls: TlsOptions::default(),
            proxy: ProxySettings::default(),
            max_redirects: DEFAULT_MAX_REDIRECTS,
            config_path: None,
            redactor,
            history: HistorySettings::off(),
            tui: false,
            synthetic: None,
            built: None,
            sessions: None,
            trace: None,
            max_records_in_result: DEFAULT_MAX_RECORDS_IN_RESULT,
            metrics_listen: None,
            push_interval: None,
            shard: None,
            start_at: None,
        }
    }
}

/// Records kept in memory and in the result file by default: a long run's memory stays flat.
pub const DEFAULT_MAX_RECORDS_IN_RESULT: u64 = 100_000;

/// Default method.
pub(crate) const DEFAULT_METHOD: &str = "POST";
/// Default bound on one whole request, in seconds (the original tool's).
pub(crate) const DEFAULT_TIMEOUT_SECS: f64 = 300.0;
/// Default requests in flight (the original tool's).
pub(crate) const DEFAULT_CONCURRENCY: u64 = 10;
/// Default requests in all (the original tool's).
pub(crate) const DEFAULT_TOTAL_REQUESTS: u64 = 100;
/// Redirects followed per request, as curl's `--max-redirs` and reqwest's default policy
/// bound them (both allow more; five is plenty for an API behind a gateway).
pub const DEFAULT_MAX_REDIRECTS: u32 = 5;
/// Default CSV encoding (the original tool's).
pub(crate) const DEFAULT_ENCODING: &str = "utf-8";
/// Output tokens are counted with this when a stream reports no usage (README, "Metrics").
pub const DEFAULT_TOKENIZER: &str = "o200k_base";

/// The body sent when the method is POST and neither `--body` nor the config file gives one,
/// so that `streamperf -u URL` works against any OpenAI-compatible endpoint:
///
/// ```json
/// {"model":"default","messages":[{"role":"user","content":"Write a short essay about AI."}],"stream":true}
/// ```
pub fn default_body() -> Value {
    json!({
        "model": "default",
        "messages": [{"role": "user", "content": "Write a short essay about AI."}],
        "stream": true,
    })
}
