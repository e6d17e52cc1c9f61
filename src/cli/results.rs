//! Flags of the commands that read results rather than run a load (`report`, `history`,
//! `compare`) and of `demo`.

use std::path::PathBuf;

use clap::Args;

use crate::i18n::Lang;

/// Flags of `streamperf report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// A result file written by `streamperf run` (or the original tool); not with --trend.
    #[arg(value_name = "RESULT.json", required_unless_present = "trend")]
    pub result: Option<PathBuf>,

    /// text (the terminal report), json, csv, md, html (a self-contained page with charts)
    /// or prom; with --trend: text, json or html.
    #[arg(long = "format", value_name = "FORMAT", default_value = "text")]
    pub format: String,

    /// Write to this file (never overwriting) instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Language of the text and HTML reports [default: from the locale, else en].
    #[arg(long = "lang", value_enum, value_name = "LANG")]
    pub lang: Option<Lang>,

    /// Instead of a result file: one metric over the history's runs with `--label`.
    #[arg(long = "trend", requires = "label", conflicts_with = "result")]
    pub trend: bool,

    /// With --trend: the runs to follow.
    #[arg(long = "label", value_name = "NAME", requires = "trend")]
    pub label: Option<String>,

    /// With --trend: the metric, named as in an SLO (ttft.p50, e2e.p99, error_rate,
    /// throughput, output_token_throughput, …); several separated by commas. `--format html`
    /// draws a chart of each.
    #[arg(long = "metric", value_name = "METRIC", default_value = "ttft.p50")]
    pub metric: String,

    /// With --trend: the history database [default: as for `run`].
    #[arg(long = "db", value_name = "PATH", requires = "trend")]
    pub db: Option<PathBuf>,
}

/// Flags of `streamperf history`.
#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// History database [default: as for `run`].
    #[arg(long = "db", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Only runs with this label.
    #[arg(long = "label", value_name = "NAME")]
    pub label: Option<String>,

    /// How many of the most recent runs to list (oldest first, newest last).
    #[arg(long = "last", value_name = "N", default_value_t = 20)]
    pub last: usize,

    /// text (a table) or json.
    #[arg(long = "format", value_name = "FORMAT", default_value = "text")]
    pub format: String,

    /// Table language [default: from the locale, else en].
    #[arg(long = "lang", value_enum, value_name = "LANG")]
    pub lang: Option<Lang>,
}

/// Flags of `streamperf compare`.
#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// The baseline: a run id (12 or #12), a label (its latest run) or a result file (*.json).
    #[arg(value_name = "RUN_A")]
    pub a: String,

    /// The run compared with it, named the same ways.
    #[arg(value_name = "RUN_B")]
    pub b: String,

    /// History database [default: as for `run`].
    #[arg(long = "db", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// text, json or md.
    #[arg(long = "format", value_name = "FORMAT", default_value = "text")]
    pub format: String,

    /// Language [default: from the locale, else en].
    #[arg(long = "lang", value_enum, value_name = "LANG")]
    pub lang: Option<Lang>,

    /// Significance level of the Mann–Whitney U test.
    #[arg(long = "alpha", value_name = "A", default_value_t = 0.05)]
    pub alpha: f64,

    /// Smallest change of the median flagged significant, whatever p says (5% or 0.05).
    #[arg(long = "min-effect", value_name = "PCT", default_value = "5%")]
    pub min_effect: String,
}

/// Flags of `streamperf demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Requests to send.
    #[arg(short = 'n', long = "requests", value_name = "N", default_value_t = 200)]
    pub requests: u64,

    /// Requests in flight.
    #[arg(short = 'p', long = "concurrency", value_name = "N", default_value_t = 20)]
    pub concurrency: u64,

    /// Result file (JSON); none is written when omitted.
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Report language [default: from the locale, else en].
    #[arg(long = "lang", value_enum, value_name = "LANG")]
    pub lang: Option<Lang>,

    /// Print per-request lines too.
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,

    /// Protocol the mock speaks (streamperf detects it as a user's run would): openai-chat, openai-completions, openai-responses, anthropic, gemini, dify, ollama,
    /// tgi.
    #[arg(long = "format", value_name = "NAME", default_value = "openai-chat")]
    pub format: String,

    /// Reasoning tokens the mock streams before each answer (for TTFT vs. TTFAT); ignored by
    /// formats without reasoning (dify, tgi, openai-completions).
    #[arg(long = "reasoning-tokens", value_name = "N", default_value_t = 0)]
    pub reasoning_tokens: u64,

    /// Store the demo run in this history database (by default a demo, which measures the
    /// mock, is not stored).
    #[arg(long = "db", value_name = "PATH")]
    pub db: Option<PathBuf>,
}

/// Flags of `streamperf merge`.
#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// The shards' result files, folders of them, or patterns ('results/shard-*.json', quoted
    /// or not); records files (*.records.jsonl) of shards that wrote no result count too.
    #[arg(value_name = "RESULT.json|DIR", required = true)]
    pub results: Vec<PathBuf>,

    /// The merged result file [default: merged.json; an existing file is never overwritten].
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Merge the shards given even when some of the run's are missing.
    #[arg(long = "allow-partial")]
    pub allow_partial: bool,

    /// Report language [default: the shards' run's, else from the locale].
    #[arg(long = "lang", value_name = "en|zh")]
    pub lang: Option<Lang>,
}
