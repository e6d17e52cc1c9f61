//! The validated configuration the engine sees, built from the config file and the flags.
//!
//! Precedence: command-line flag > config file > built-in default. `${NAME}` in url, headers
//! and body is read from the environment here, and every value read that way is remembered as
//! a secret so that [`crate::redact::Redactor`] can hide it from every output.
//!
//! The file is parsed by extension (`formats`) and read into the seed's keys with every key and
//! type checked (`file`); `flags` checks what may come from either side; `env` reads `${NAME}`
//! and the locale; `tls` reads `--cacert`; proxies are [`ProxySettings`].

pub mod env;
mod file;
mod flags;
mod formats;
pub mod history;
pub mod load;
pub mod sweep;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::bail;
use serde::Serialize;
use serde_json::{Map, Value, json};

pub use crate::engine::TlsOptions;
pub use crate::i18n::{detect_lang, detect_lang_with};
/// The stream format is the protocol layer's; configs name it here too.
pub use crate::protocol::format::{FormatKind, StreamFormat};
pub use env::{Env, process_env};
pub use history::HistorySettings;
pub use load::LoadSettings;
pub use sweep::{Sweep, SweepOver};

use crate::cli::RunArgs;
use crate::engine::proxy::ProxySettings;
use crate::export::ExportFormat;
use crate::i18n::Lang;
use crate::redact::Redactor;
use crate::slo::Slo;
use flags::Origin;

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
}

/// Default method.
const DEFAULT_METHOD: &str = "POST";
/// Default bound on one whole request, in seconds (the seed's).
const DEFAULT_TIMEOUT_SECS: f64 = 300.0;
/// Default requests in flight (the seed's).
const DEFAULT_CONCURRENCY: u64 = 10;
/// Default requests in all (the seed's).
const DEFAULT_TOTAL_REQUESTS: u64 = 100;
/// Redirects followed per request, as curl's `--max-redirs` and reqwest's default policy
/// bound them (both allow more; five is plenty for an API behind a gateway).
pub const DEFAULT_MAX_REDIRECTS: u32 = 5;
/// Default CSV encoding (the seed's).
const DEFAULT_ENCODING: &str = "utf-8";
/// Output tokens are counted with this when a stream reports no usage (DESIGN §2).
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

impl Config {
    /// What the engine needs of this config (the measuring core reads no config).
    pub fn engine_settings(&self) -> crate::engine::EngineSettings {
        crate::engine::EngineSettings {
            method: self.method.clone(),
            timeout: self.timeout,
            format: self.stream_format.clone(),
            tokenizer: self.tokenizer.clone(),
            save_output: self.save_output,
            warmup: self.load.warmup,
            tls: self.tls.clone(),
            proxy: self.proxy.clone(),
            max_redirects: self.max_redirects,
        }
    }

    /// Merges `args` over the config file named by `args.config` (if any) and validates.
    /// `${NAME}` and the locale are read from the process environment.
    pub fn resolve(args: &RunArgs) -> anyhow::Result<Config> {
        Self::resolve_with(args, &process_env)
    }

    /// [`Config::resolve`] reading environment variables through `env` (for tests).
    pub fn resolve_with(args: &RunArgs, env: Env<'_>) -> anyhow::Result<Config> {
        let (file, file_origin) = match &args.config {
            Some(path) => (file::read(path)?, Origin::File(path.clone())),
            None => (file::FileConfig::default(), Origin::Default),
        };
        let mut redactor = Redactor::default();
        let history = history::resolve(args, &file, env)?;

        let (url, url_origin) = match (&args.url, file.url) {
            (Some(url), _) => (url.clone(), Origin::Flag("-u/--url")),
            (None, Some(url)) => (url, file_origin.clone()),
            (None, None) => bail!("no URL: pass -u URL or a config file with `url`"),
        };
        let url = env::substitute(url.trim(), env, &mut redactor, &|| url_origin.describe("url"))?;
        redactor.add_url(&url);
        flags::check_url(&url, &url_origin)
            .map_err(|e| anyhow::anyhow!(redactor.redact(&e.to_string())))?;

        let method = match (&args.method, &file.method) {
            (Some(m), _) => flags::method(m, &Origin::Flag("-X/--method"))?,
            (None, Some(m)) => flags::method(m, &file_origin)?,
            (None, None) => DEFAULT_METHOD.to_string(),
        };

        let (mut headers, content_type_removed) =
            merge_headers(file.headers, &file_origin, &args.headers, env, &mut redactor)?;
        let body = resolve_body(args, file.body, &method, &file_origin, env, &mut redactor)?;
        let has_content_type = headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type"));
        if body.is_some() && !has_content_type && !content_type_removed {
            headers.push(("Content-Type".into(), "application/json".into()));
        }

        let timeout = match (args.timeout, file.timeout) {
            (Some(secs), _) => seconds(secs, "`--timeout`")?,
            (None, Some(secs)) => seconds(secs, &file_origin.describe("timeout"))?,
            (None, None) => Duration::from_secs_f64(DEFAULT_TIMEOUT_SECS),
        };
        for p in &args.concurrency {
            at_least_one(Some(*p), "-p/--concurrency")?;
        }
        let concurrency =
            args.concurrency.first().copied().or(file.concurrency).unwrap_or(DEFAULT_CONCURRENCY);
        // A `sweep` block in the file stands for the list flags when none is given.
        let merged;
        let args = match (&file.sweep, args.concurrency.len() > 1 || args.rate.len() > 1) {
            (Some(sweep), false) if args.sweep.is_none() => {
                merged = sweep.apply_to(args);
                &merged
            }
            _ => args,
        };
        let load = LoadSettings::resolve(args)?;
        let level_duration = load::sweep_duration(args)?;
        let sweep = Sweep::resolve(args, level_duration)?;
        // With a duration and no count, the duration alone ends the run.
        let total_requests =
            match at_least_one(args.requests, "-n/--requests")?.or(file.total_requests) {
                None if load.duration.is_some() || level_duration.is_some() => None,
                n => Some(n.unwrap_or(DEFAULT_TOTAL_REQUESTS)),
            };

        let data_source = match file.data_source {
            Some(ds) => {
                let encoding = ds.encoding.unwrap_or_else(|| DEFAULT_ENCODING.to_string());
                crate::workload::csv::encoding_for_label(&encoding).map_err(|e| {
                    anyhow::anyhow!("{}: {e}", file_origin.describe("data_source.encoding"))
                })?;
                Some(DataSource {
                    file: resolve_data_path(&ds.file, args.config.as_deref()),
                    column: ds.column,
                    encoding,
                })
            }
            None => None,
        };

        // A tokenizer file named in the config is relative to the config's folder, as data is.
        let file_tokenizer =
            file.tokenizer.map(|t| match crate::tokens::NAMES.contains(&t.as_str()) {
                true => t,
                false => {
                    resolve_data_path(Path::new(&t), args.config.as_deref()).display().to_string()
                }
            });
        let tokenizer = args
            .tokenizer
            .clone()
            .or(file_tokenizer)
            .unwrap_or_else(|| DEFAULT_TOKENIZER.to_string());
        let mut stream_format = file.stream_format.unwrap_or_default();
        if let Some(name) = &args.format {
            stream_format.kind = FormatKind::from_name(name).ok_or_else(|| {
                // `--format` on `run` is how responses are read; reports are `--export`.
                let names: Vec<&str> = name.split(',').map(str::trim).collect();
                if names.iter().all(|n| crate::export::ExportFormat::from_name(n).is_some()) {
                    return anyhow::anyhow!(
                        "`--format {name}`: on `run`, --format names the stream format; \
                         to write reports use `--export {name}`"
                    );
                }
                anyhow::anyhow!(
                    "`--format {name}`: unknown stream format; use one of {}",
                    FormatKind::names().join(", ")
                )
            })?;
        }
        if let Some(size) = &args.max_event_bytes {
            let bytes = crate::stream::limit::parse_size(size)
                .map_err(|e| anyhow::anyhow!("`--max-event-bytes {size}`: {e}"))?;
            stream_format.max_event_bytes = Some(bytes);
        }

        // Flags add to the file's objectives: a CI job can tighten a shared config.
        let slos = file
            .slo
            .iter()
            .chain(&args.slo)
            .map(|text| Slo::parse(text))
            .collect::<anyhow::Result<Vec<Slo>>>()?;
        let exports = args
            .export
            .iter()
            .map(|name| {
                ExportFormat::from_name(name).ok_or_else(|| {
                    anyhow::anyhow!(
                        "`--export {name}`: unknown format; use {}",
                        crate::export::FORMAT_NAMES
                    )
                })
            })
            .collect::<anyhow::Result<Vec<ExportFormat>>>()?;

        let tls = TlsOptions { ca_file: args.cacert.clone(), insecure: args.insecure };
        // Read now so that a bad file is a setup error before anything is sent.
        tls.ca_certificates()?;
        let proxy = resolve_proxy(args, file.proxy, &file_origin, env, &mut redactor)?;
        // A bad environment proxy is an error only for a URL that would use it: say so now.
        proxy_for(&proxy, &url)?;

        Ok(Config {
            url,
            method,
            headers,
            body,
            timeout,
            concurrency,
            total_requests,
            load,
            sweep,
            sweep_level: None,
            slos,
            exports,
            prometheus: args.prometheus.clone(),
            data_source,
            stream_format,
            output: args.output.clone(),
            write_result: true,
            lang: args.lang.unwrap_or_else(|| detect_lang_with(env)),
            quiet: args.quiet,
            save_output: args.save_output,
            tokenizer,
            tls,
            proxy,
            max_redirects: args.max_redirects.unwrap_or(DEFAULT_MAX_REDIRECTS),
            config_path: args.config.clone(),
            redactor,
            history,
            tui: args.tui || file.tui,
        })
    }

    /// This config at one level of `sweep`: that concurrency or rate, for the level's
    /// duration when the sweep sets one.
    pub fn at_level(&self, sweep: &Sweep, level: f64) -> Config {
        let mut config = self.clone();
        match sweep.over {
            SweepOver::Concurrency => config.concurrency = level as u64,
            SweepOver::Rate => config.load.rate = Some(level),
        }
        if let Some(d) = sweep.level_duration {
            config.load.duration = Some(d);
        }
        config.sweep_level = Some(level);
        config
    }

    /// The proxy requests to the URL go through, credentials hidden (`None`: direct).
    pub fn proxy_shown(&self) -> Option<String> {
        proxy_for(&self.proxy, &self.url).ok().flatten()
    }

    /// The `config` section of the result file: the seed's keys (`url`, `method`,
    /// `concurrency`, `total_requests`, `timestamp`) first, then `timeout`, `headers`, `body`,
    /// `data_source`, `stream_format` and `config_file`. Secret headers show `"***"`; every
    /// `${NAME}` value and credential is redacted.
    pub fn result_view(&self, timestamp: &str) -> Value {
        let r = &self.redactor;
        let headers: Map<String, Value> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let shown = match Redactor::is_secret_header(name) {
                    true => "***".to_string(),
                    false => r.redact(value),
                };
                (name.clone(), Value::String(shown))
            })
            .collect();
        let data_source = self.data_source.as_ref().map(|ds| {
            json!({
                "type": "csv",
                "file": r.redact(&ds.file.display().to_string()),
                "column": ds.column,
                "encoding": ds.encoding,
            })
        });
        let sf = &self.stream_format;
        json!({
            "url": r.redact(&self.url),
            "method": self.method,
            "concurrency": self.concurrency,
            "total_requests": self.total_requests,
            "timestamp": timestamp,
            "timeout": self.timeout.as_secs_f64(),
            "headers": headers,
            "body": self.body.as_ref().map(|b| r.redact_json(b)),
            "data_source": data_source,
            "stream_format": {
                "type": sf.kind,
                "first_token_event": sf.first_token_event,
                "completion_event": sf.completion_event,
                "output_path": sf.output_path,
                "content_path": sf.content_path,
                "reasoning_path": sf.reasoning_path,
                "usage_path": sf.usage_path,
                "error_path": sf.error_path,
                "done_marker": sf.done_marker,
                "max_event_bytes": sf.max_event_bytes(),
            },
            "tokenizer": self.tokenizer,
            "proxy": self.proxy_shown(),
            "max_redirects": self.max_redirects,
            "load": self.load.view(),
            "sweep": self.sweep.as_ref().map(|s| json!({
                "over": s.over.name(),
                "levels": s.levels,
                "auto": s.auto.then_some(sweep::AUTO_METHOD),
                "level_duration": s.level_duration.map(|d| d.as_secs_f64()),
            })),
            "config_file": self.config_path.as_ref().map(|p| p.display().to_string()),
            // The report's language, so `streamperf report` renders the same page again.
            "lang": self.lang,
            // The history's names for the run, so a result file says which run it is.
            "label": self.history.label.as_deref().map(|l| r.redact(l)),
            "tags": (!self.history.tags.is_empty()).then(|| {
                let tags = self.history.tags.iter();
                tags.map(|(k, v)| (k.clone(), Value::String(r.redact(v)))).collect::<Map<_, _>>()
            }),
        })
    }
}

/// The file's headers, then each `-H` flag applied over them; `${NAME}` substituted in values.
/// Also says whether `-H 'Content-Type:'` removed the content type on purpose.
fn merge_headers(
    file_headers: Vec<(String, String)>,
    file_origin: &Origin,
    header_flags: &[String],
    env: Env<'_>,
    redactor: &mut Redactor,
) -> anyhow::Result<(Vec<(String, String)>, bool)> {
    let mut headers = Vec::with_capacity(file_headers.len() + header_flags.len() + 1);
    for (name, value) in file_headers {
        flags::check_header_name(&name, file_origin)?;
        let at = || file_origin.describe(&format!("headers.{name}"));
        let value = env::substitute(&value, env, redactor, &at)?;
        flags::set_header(&mut headers, name, Some(value));
    }
    let mut content_type_removed = false;
    for flag in header_flags {
        let (name, value) = flags::parse_header_flag(flag)?;
        let value = match value {
            Some(v) => {
                Some(env::substitute(&v, env, redactor, &|| format!("`-H/--header` {name}"))?)
            }
            None => {
                content_type_removed |= name.eq_ignore_ascii_case("content-type");
                None
            }
        };
        flags::set_header(&mut headers, name, value);
    }
    for (name, value) in &headers {
        redactor.add_header(name, value);
        if http::HeaderValue::from_str(value).is_err() {
            bail!(
                "header `{name}` has a value that is not allowed in HTTP (a control character or newline?)"
            );
        }
    }
    Ok((headers, content_type_removed))
}

/// `--proxy`, else the file's `proxy`, else the environment's proxies; `${NAME}` substituted,
/// and the credentials remembered as secrets.
fn resolve_proxy(
    args: &RunArgs,
    file_proxy: Option<String>,
    file_origin: &Origin,
    env: Env<'_>,
    redactor: &mut Redactor,
) -> anyhow::Result<ProxySettings> {
    let (text, what) = match (&args.proxy, file_proxy) {
        (Some(flag), _) => (flag.clone(), "`--proxy`".to_string()),
        (None, Some(text)) => (text, file_origin.describe("proxy")),
        (None, None) => return Ok(ProxySettings::from_env(env, redactor)),
    };
    let text = env::substitute(&text, env, redactor, &|| what.clone())?;
    ProxySettings::explicit(&text, &what, redactor)
}

/// The proxy `url` (placeholders standing for `x`, as [`flags::check_url`] probes it) goes
/// through, shown with its credentials hidden.
fn proxy_for(proxy: &ProxySettings, url: &str) -> anyhow::Result<Option<String>> {
    let probe = crate::workload::template::replace_all(url, |_| Some("x"));
    match url::Url::parse(probe.trim()) {
        Ok(url) => Ok(proxy.for_url(&url)?.map(|p| p.to_string())),
        Err(_) => Ok(None),
    }
}

/// `--body`, else the file's body, else [`default_body`] for POST; `${NAME}` substituted.
fn resolve_body(
    args: &RunArgs,
    file_body: Option<Value>,
    method: &str,
    file_origin: &Origin,
    env: Env<'_>,
    redactor: &mut Redactor,
) -> anyhow::Result<Option<Value>> {
    let (mut body, origin) = match (&args.body, file_body) {
        (Some(flag), _) => (flags::parse_body_flag(flag)?, Origin::Flag("--body")),
        (None, Some(body)) => (body, file_origin.clone()),
        (None, None) if method == "POST" => (default_body(), Origin::Default),
        (None, None) => return Ok(None),
    };
    let at = |path: &str| match &origin {
        Origin::Flag(flag) => format!("`{flag}` at `{path}`"),
        other => other.describe(path),
    };
    env::substitute_json(&mut body, "body", env, redactor, &at)?;
    Ok(Some(body))
}

/// A relative data path is relative to the config file's folder (the seed's rule), else to the
/// current directory.
fn resolve_data_path(file: &Path, config: Option<&Path>) -> PathBuf {
    match config.and_then(Path::parent) {
        Some(dir) if file.is_relative() => dir.join(file),
        _ => file.to_path_buf(),
    }
}

fn seconds(secs: f64, what: &str) -> anyhow::Result<Duration> {
    match Duration::try_from_secs_f64(secs) {
        Ok(d) if secs > 0.0 => Ok(d),
        _ => bail!("{what} must be a positive number of seconds, got {secs}"),
    }
}

fn at_least_one(value: Option<u64>, flag: &str) -> anyhow::Result<Option<u64>> {
    match value {
        Some(0) => bail!("`{flag}` must be at least 1, got 0"),
        other => Ok(other),
    }
}
