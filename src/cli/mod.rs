//! Command-line flags (clap derive). Parsing only: `commands/` reads them, and
//! `commands/run/resolve.rs` merges `run`'s with the config file into a validated `Config`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::mock::MockOptions;

mod results;

pub use results::{CompareArgs, DemoArgs, HistoryArgs, MergeArgs, ReportArgs};

/// A fast, truthful load tester for HTTP streaming APIs (LLM chat, SSE, chunked).
///
/// Without a subcommand, streamperf behaves like `streamperf run` (the original tool's form:
/// `streamperf -c config.json`, `streamperf -u URL -n 50 -p 10`).
#[derive(Debug, Parser)]
#[command(name = "streamperf", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; `run` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Flags of `run`, accepted without the subcommand.
    #[command(flatten)]
    pub run: RunArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a load test against a streaming endpoint.
    Run(Box<RunArgs>),
    /// Serve the built-in mock streaming API: OpenAI (chat, completions, responses),
    /// Anthropic, Gemini, Dify, Ollama, TGI and plain chunks.
    Mock(MockOptions),
    /// Start the mock in-process and run a short benchmark against it: no setup, no API key.
    Demo(DemoArgs),
    /// Render a saved result file again: the terminal report, or an export format.
    Report(ReportArgs),
    /// List the runs stored in the history database.
    History(HistoryArgs),
    /// Compare two runs (history ids, labels or result files): every metric side by side, and
    /// whether the TTFT and e2e distributions differ significantly.
    Compare(CompareArgs),
    /// Merge the result files of a run's shards (--shard) into the result of the whole run:
    /// counts exact, percentiles at HDR precision.
    Merge(MergeArgs),
}

pub use crate::i18n::Lang;

/// Flags of `streamperf run`. Every flag overrides the same key of the config file.
#[derive(Debug, Clone, Default, Args)]
pub struct RunArgs {
    /// Config file (JSON, YAML or TOML, by extension) with the original tool's keys.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Endpoint URL.
    #[arg(short = 'u', long = "url", value_name = "URL")]
    pub url: Option<String>,

    /// Total number of requests to send [default: 100].
    #[arg(short = 'n', long = "requests", value_name = "N")]
    pub requests: Option<u64>,

    /// Requests in flight at all times [default: 10]. A list (1,4,16,64) runs a sweep: each
    /// level in turn, one table across them.
    #[arg(short = 'p', long = "concurrency", value_name = "N[,N…]", value_delimiter = ',')]
    pub concurrency: Vec<u64>,

    /// Run for this long (e.g. 60s, 5m) instead of, or as well as, `-n` (whichever ends
    /// first).
    #[arg(short = 'd', long = "duration", value_name = "DURATION")]
    pub duration: Option<String>,

    /// Open loop: send R requests per second on schedule whatever the responses do, instead
    /// of a fixed concurrency (latencies then count from each request's intended send time).
    /// A list (1,5,10,20) runs a sweep over rates.
    #[arg(long = "rate", value_name = "R[,R…]", value_delimiter = ',')]
    pub rate: Vec<f64>,

    /// `--sweep auto`: find the knee — double the concurrency (or the rate, with --rate) until
    /// throughput stops growing by 10 % or errors pass 5 %, then bisect for the lowest level
    /// reaching 90 % of the best throughput.
    #[arg(long = "sweep", value_name = "auto")]
    pub sweep: Option<String>,

    /// Sweeps: how long each level runs (instead of -n requests per level).
    #[arg(long = "sweep-duration", value_name = "DURATION")]
    pub sweep_duration: Option<String>,

    /// Open loop: how arrivals are spaced: constant, poisson or gamma [default: poisson].
    #[arg(long = "arrival", value_name = "NAME")]
    pub arrival: Option<String>,

    /// Open loop, gamma arrivals: the shape (1 = Poisson, < 1 burstier, > 1 more regular).
    #[arg(long = "burstiness", value_name = "B")]
    pub burstiness: Option<f64>,

    /// Seed of the open-loop schedule and of --shuffle, for reproducible runs [default: 0].
    #[arg(long = "seed", value_name = "N")]
    pub seed: Option<u64>,

    /// Open loop: at most M requests in flight; later ones wait (shown as queue_wait).
    #[arg(long = "max-in-flight", value_name = "M")]
    pub max_in_flight: Option<u64>,

    /// Warm-up excluded from the statistics: N requests, or a duration (e.g. 10s).
    #[arg(long = "warmup", value_name = "N|DURATION")]
    pub warmup: Option<String>,

    /// Raise the concurrency (or the rate) linearly to its target over this long.
    #[arg(long = "ramp-up", value_name = "DURATION")]
    pub ramp_up: Option<String>,

    /// Stop sending after N failed requests.
    #[arg(long = "max-errors", value_name = "N")]
    pub max_errors: Option<u64>,

    /// Stop sending once more than this share of finished requests failed (0.5 or 50%;
    /// judged after 10 requests).
    #[arg(long = "max-error-rate", value_name = "RATE")]
    pub max_error_rate: Option<String>,

    /// With --duration: cancel requests still in flight at the deadline instead of awaiting
    /// them (bounded by --timeout).
    #[arg(long = "cancel-at-deadline")]
    pub cancel_at_deadline: bool,

    /// After a Ctrl-C, SIGTERM or SIGHUP: how long the requests in flight may finish (e.g.
    /// 10s, 500ms) before they are cancelled and the result is written [default: 10s].
    #[arg(long = "graceful-stop", value_name = "DURATION")]
    pub graceful_stop: Option<String>,

    /// Seconds one whole request may take before it fails as `timeout` [default: 300].
    #[arg(long = "timeout", value_name = "SECS")]
    pub timeout: Option<f64>,

    /// HTTP method [default: POST].
    #[arg(short = 'X', long = "method", value_name = "METHOD")]
    pub method: Option<String>,

    /// Request header 'Name: value' (repeatable; replaces a config header of the same name).
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,

    /// Ask for a compressed answer, as curl's flag does (Accept-Encoding: gzip, deflate, br,
    /// zstd). Compressed answers are decoded with or without it.
    #[arg(long = "compressed")]
    pub compressed: bool,

    /// Request body as JSON, or @FILE to read it from a file.
    #[arg(long = "body", value_name = "JSON|@FILE")]
    pub body: Option<String>,

    /// The standard benchmark's prompts: every request a prompt of this many tokens of the
    /// run's --tokenizer, real prose, unique per request, in the body its protocol (--format,
    /// else the URL's path) streams with: N, N±SD (normal) or LO..HI (uniform).
    #[arg(long = "input-tokens", value_name = "SPEC")]
    pub input_tokens: Option<String>,

    /// With --input-tokens or --dataset: the output length asked for, in the protocol's own
    /// field (N, N±SD or LO..HI); OpenAI-compatible servers are also asked to ignore
    /// end-of-sequence (ignore_eos) so that each answer is that long.
    #[arg(long = "output-tokens", value_name = "SPEC")]
    pub output_tokens: Option<String>,

    /// With --input-tokens: every prompt starts with the same N tokens (a shared system
    /// prompt, to measure prefix caching) [default: 0, no two prompts share a prefix].
    #[arg(long = "shared-prefix-tokens", value_name = "N")]
    pub shared_prefix_tokens: Option<u64>,

    /// With --input-tokens or --dataset: the model named in each body (the served model's
    /// name) [default for OpenAI-compatible servers: the first of GET /v1/models].
    #[arg(long = "model", value_name = "NAME")]
    pub model: Option<String>,

    /// With --output-tokens: do not ask servers to ignore end-of-sequence; answers may end
    /// early.
    #[arg(long = "allow-early-stop")]
    pub allow_early_stop: bool,

    /// Prompts from a file, sent in order and cycled: JSONL or a JSON array of records
    /// (prompt, messages or body; optional output_tokens, input_tokens), ShareGPT, plain text
    /// (a prompt a line) or CSV (a `prompt` column, or {{column}} placeholders in --body).
    #[arg(long = "dataset", value_name = "FILE")]
    pub dataset: Option<PathBuf>,

    /// How --dataset is written: jsonl, json, sharegpt, text or csv [default: from the file's
    /// extension and first character].
    #[arg(long = "dataset-format", value_name = "NAME")]
    pub dataset_format: Option<String>,

    /// Send the dataset's records in a shuffled order, the same for the same --seed.
    #[arg(long = "shuffle")]
    pub shuffle: bool,

    /// Multi-turn sessions: each session sends this many turns (or `all` a conversation
    /// dataset has), every later turn carrying the earlier ones and the server's replies;
    /// -n counts sessions, -p concurrent sessions, --rate new sessions per second.
    #[arg(long = "turns", value_name = "N|all")]
    pub turns: Option<String>,

    /// With --turns and --input-tokens: the length of each later user turn (N, N±SD or
    /// LO..HI) [default: as --input-tokens].
    #[arg(long = "turn-input-tokens", value_name = "SPEC")]
    pub turn_input_tokens: Option<String>,

    /// With --turns: the pause before each later turn, not counted in any latency: a
    /// duration (2s) or a range (1s..5s, uniform) [default: 0].
    #[arg(long = "think-time", value_name = "DURATION|LO..HI")]
    pub think_time: Option<String>,

    /// Replay a trace on its own schedule (open loop): Mooncake JSONL (timestamp ms,
    /// input_length, output_length, hash_ids), BurstGPT CSV, or timestamped request JSONL
    /// (timestamp ms + body, messages or prompt, optional headers).
    #[arg(long = "trace", value_name = "FILE")]
    pub trace: Option<PathBuf>,

    /// How --trace is written: mooncake, burstgpt or requests [default: from the file].
    #[arg(long = "trace-format", value_name = "NAME")]
    pub trace_format: Option<String>,

    /// With --trace: play it X times as fast (2 halves every gap) [default: 1].
    #[arg(long = "trace-speedup", value_name = "X")]
    pub trace_speedup: Option<f64>,

    /// With --trace: only the rows from START to END (offsets from the trace's start, e.g.
    /// 10m..20m or 30s..), played from their first row.
    #[arg(long = "trace-window", value_name = "START..END")]
    pub trace_window: Option<String>,

    /// With a Mooncake --trace: tokens per hash id's block [default: 512].
    #[arg(long = "trace-block-tokens", value_name = "N")]
    pub trace_block_tokens: Option<u64>,

    /// Records kept in the result file's `metrics` (and in memory); every record is also
    /// appended to RESULT.records.jsonl as it completes [default: 100000].
    #[arg(long = "max-records-in-result", value_name = "N")]
    pub max_records_in_result: Option<u64>,

    /// Result file (JSON) [default: test_results.json; an existing file is never overwritten].
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Report language [default: from the locale, else en].
    #[arg(long = "lang", value_enum, value_name = "LANG")]
    pub lang: Option<Lang>,

    /// No per-request lines; only the progress line and the report.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,

    /// Stream format: auto (default: framing from Content-Type, protocol from the URL and
    /// the first payload), a framing (sse, ndjson, raw) or a protocol (openai-chat,
    /// openai-completions, openai-responses, anthropic, gemini, dify, ollama, tgi, generic).
    /// Overrides `stream_format.type`.
    #[arg(long = "format", value_name = "NAME")]
    pub format: Option<String>,

    /// The largest SSE event, NDJSON line or whole JSON answer read, in bytes or with a unit
    /// (16MiB, 512KiB); a larger one fails as malformed [default: 16MiB].
    #[arg(long = "max-event-bytes", value_name = "SIZE")]
    pub max_event_bytes: Option<String>,

    /// How output tokens are counted when a stream reports no usage: o200k_base (default),
    /// cl100k_base, chars, events, or a Hugging Face tokenizer.json file.
    #[arg(long = "tokenizer", value_name = "NAME|FILE")]
    pub tokenizer: Option<String>,

    /// Service-level objective, repeatable: 'ttft.p95<800ms', 'e2e.p99<10s', 'error_rate<1%',
    /// 'tpot.p50<50ms'. The report shows each with its measured value and the goodput;
    /// the exit code is 3 when any fails.
    #[arg(long = "slo", value_name = "EXPR")]
    pub slo: Vec<String>,

    /// Also write the result in these formats beside the result file: csv (one row a
    /// request), md (a Markdown summary), html (a self-contained report with charts), prom
    /// (Prometheus text), json.
    #[arg(long = "export", value_name = "FORMAT[,FORMAT…]", value_delimiter = ',')]
    pub export: Vec<String>,

    /// Write the summary in Prometheus text format to FILE, replaced atomically on every run
    /// (for node_exporter's textfile collector).
    #[arg(long = "prometheus", value_name = "FILE")]
    pub prometheus: Option<PathBuf>,

    /// With --prometheus: rewrite the file this often during the run (e.g. 15s), for
    /// node_exporter's textfile collector on long runs.
    #[arg(long = "push-interval", value_name = "DURATION")]
    pub push_interval: Option<String>,

    /// Run shard I of N of the run these flags describe (on N machines): I/N, or auto from
    /// Slurm (SLURM_PROCID, SLURM_NTASKS) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX).
    #[arg(long = "shard", value_name = "I/N|auto")]
    pub shard: Option<String>,

    /// Start the load at this instant, having connected before it, so shards start together:
    /// an RFC 3339 time, or +DURATION after SLURM_JOB_START_TIME / STREAMPERF_START_BASE.
    #[arg(long = "start-at", value_name = "TIME|+DURATION")]
    pub start_at: Option<String>,

    /// With --shard auto in Kubernetes: the number of shards [default: STREAMPERF_SHARDS].
    #[arg(long = "shards", value_name = "N")]
    pub shards: Option<u64>,

    /// Serve live Prometheus metrics at http://ADDR/metrics during the run (e.g. :9090,
    /// 127.0.0.1:9464): requests, failures by class, in flight, tokens, TTFT/e2e/ITL.
    #[arg(long = "metrics-listen", value_name = "ADDR")]
    pub metrics_listen: Option<String>,

    /// Keep each response's extracted text in the result file (`output`, `reasoning`).
    #[arg(long = "save-output")]
    pub save_output: bool,

    /// PEM file of CA certificates to trust in addition to the system's (private CA,
    /// self-signed server).
    #[arg(long = "cacert", value_name = "FILE")]
    pub cacert: Option<PathBuf>,

    /// Do not verify the server's TLS certificate (anyone on the path could pose as the server).
    #[arg(short = 'k', long = "insecure")]
    pub insecure: bool,

    /// HTTP proxy for every request, http://host:port (or http://user:password@host:port):
    /// http targets are forwarded, https ones tunnelled (CONNECT; TLS stays end to end). ''
    /// turns proxies off [default: HTTPS_PROXY, HTTP_PROXY or ALL_PROXY, except NO_PROXY hosts
    /// and loopback].
    #[arg(long = "proxy", value_name = "URL")]
    pub proxy: Option<String>,

    /// Redirects one request may follow (307/308 keep the method and body; 301/302/303 turn a
    /// POST into a GET); 0 follows none: a 3xx is then an http_status failure [default: 5].
    #[arg(long = "max-redirects", value_name = "N")]
    pub max_redirects: Option<u32>,

    /// History database the run is stored in [default: the data directory's
    /// streamperf/history.db, e.g. ~/.local/share/streamperf/history.db].
    #[arg(long = "db", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Do not store this run in the history database.
    #[arg(long = "no-history")]
    pub no_history: bool,

    /// Name this run in the history (e.g. model-a), for `history --label` and `compare`.
    #[arg(long = "label", value_name = "NAME")]
    pub label: Option<String>,

    /// Tag this run in the history, repeatable: --tag env=staging --tag region=eu.
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,

    /// Full-screen live dashboard (TTFT histogram, per-second series, errors by class)
    /// instead of the progress bar; q, Esc or Ctrl-C stop sending, a second press cancels.
    /// Without a terminal: a warning and plain progress lines.
    #[arg(long = "tui")]
    pub tui: bool,
}
