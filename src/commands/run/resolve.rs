//! Building a [`Config`] from the flags and the config file: precedence (flag > file >
//! default), `${NAME}` substitution, and every check that names the flag or key at fault.
//!
//! `Config::resolve` lives here rather than in `config/` because reading clap's types is the
//! commands layer's job (ARCHITECTURE.md): `config` offers the types and the checks of plain
//! values, this file decides which side of each key wins.

use std::path::{Path, PathBuf};

use anyhow::bail;
use serde_json::Value;

use super::built::{built_bodies, session_settings, trace_settings};
use super::history::history_settings;
use super::load::load_plan;
use crate::analyse::slo::Slo;
use crate::cli::RunArgs;
use crate::measure::engine::proxy::ProxySettings;
use crate::measure::protocol::Protocol;
use crate::output::export::ExportFormat;
use crate::plan::config::flags::{self, Origin};
use crate::plan::config::{
    Config, DEFAULT_ENCODING, DEFAULT_MAX_REDIRECTS, DEFAULT_METHOD, DEFAULT_TOKENIZER, DataSource,
    DatasetFormat, Env, FormatKind, SessionSettings, StreamFormat, TlsOptions, default_body,
    detect_lang_with, env, file, process_env, proxy_for,
};
use crate::plan::workload::bodies::ANTHROPIC_VERSION;
use crate::redact::Redactor;

impl Config {
    /// Merges `args` over the config file named by `args.config` (if any) and validates.
    /// `${NAME}` and the locale are read from the process environment.
    pub fn resolve(args: &RunArgs) -> anyhow::Result<Config> {
        Self::resolve_with(args, &process_env)
    }

    /// [`Config::resolve`] reading environment variables through `env` (for tests).
    pub fn resolve_with(args: &RunArgs, env: Env<'_>) -> anyhow::Result<Config> {
        let (mut file, origin) = match &args.config {
            Some(path) => (file::read(path)?, Origin::File(path.clone())),
            None => (file::FileConfig::default(), Origin::Default),
        };
        let mut redactor = Redactor::default();
        let history = history_settings(args, &file, env)?;
        let file_body = file.body.is_some();
        let mut request = Request::resolve(args, &mut file, &origin, env, &mut redactor)?;
        let plan = load_plan(args, &file, &origin)?;
        let data_source = data_source(args, file.data_source.take(), &origin)?;
        let tokenizer = tokenizer(args, file.tokenizer.take());
        let stream_format = stream_format(args, file.stream_format.take().unwrap_or_default())?;
        let own_body = (args.body.is_some() || file_body).then_some(()).and(request.body.as_ref());
        let (synthetic, built) =
            built_bodies(args, own_body, &request.url, &stream_format, data_source.as_ref())?;
        if let Some(b) = &built
            && b.template.is_none()
        {
            request.for_built_bodies(b.protocol);
        }
        let sessions = session_settings(args, synthetic.is_some(), data_source.is_some())?;
        let trace = trace_settings(args)?;
        // With sessions, -n counts conversations; the requests are counted once the turns
        // are known (when the run loads its workload).
        let (total_requests, sessions) = match sessions {
            Some(s) => (None, Some(SessionSettings { count: plan.total_requests, ..s })),
            // A trace is sent whole unless -n says otherwise (its length is known once read).
            None if trace.is_some() && args.requests.is_none() => (None, None),
            None => (plan.total_requests, None),
        };
        // Flags add to the file's objectives: a CI job can tighten a shared config.
        let slos =
            file.slo.iter().chain(&args.slo).map(|t| Slo::parse(t)).collect::<Result<_, _>>()?;
        let exports = exports(&args.export)?;
        let tls = TlsOptions { ca_file: args.cacert.clone(), insecure: args.insecure };
        // Read now so that a bad file is a setup error before anything is sent.
        tls.ca_certificates()?;
        let proxy = resolve_proxy(args, file.proxy.take(), &origin, env, &mut redactor)?;
        // A bad environment proxy is an error only for a URL that would use it: say so now.
        proxy_for(&proxy, &request.url)?;

        Ok(Config {
            url: request.url,
            method: request.method,
            headers: request.headers,
            body: request.body,
            timeout: plan.timeout,
            concurrency: plan.concurrency,
            total_requests,
            load: plan.load,
            sweep: plan.sweep,
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
            synthetic,
            built,
            sessions,
            trace,
            max_records_in_result: args
                .max_records_in_result
                .unwrap_or(crate::plan::config::DEFAULT_MAX_RECORDS_IN_RESULT),
            metrics_listen: args.metrics_listen.clone(),
            push_interval: push_interval(args)?,
            shard: shard(args, env)?,
            start_at: args
                .start_at
                .as_deref()
                .map(|t| crate::plan::config::start::parse_start_at(t, env))
                .transpose()?,
        })
    }
}

/// `--compressed`: every coding streamperf decodes.
const ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";

/// What every request sends: the URL, method, headers and body, `${NAME}` substituted and the
/// secrets remembered.
struct Request {
    url: String,
    method: String,
    headers: Vec<(String, String)>,
    body: Option<Value>,
}

impl Request {
    /// The flags over the file's `url`, `method`, `headers` and `body` (taken out of `file`).
    fn resolve(
        args: &RunArgs,
        file: &mut file::FileConfig,
        origin: &Origin,
        env: Env<'_>,
        redactor: &mut Redactor,
    ) -> anyhow::Result<Request> {
        let (url, url_origin) = match (&args.url, file.url.take()) {
            (Some(url), _) => (url.clone(), Origin::Flag("-u/--url")),
            (None, Some(url)) => (url, origin.clone()),
            (None, None) => bail!("no URL: pass -u URL or a config file with `url`"),
        };
        let url = env::substitute(url.trim(), env, redactor, &|| url_origin.describe("url"))?;
        redactor.add_url(&url);
        flags::check_url(&url, &url_origin)
            .map_err(|e| anyhow::anyhow!(redactor.redact(&e.to_string())))?;

        let method = match (&args.method, &file.method) {
            (Some(m), _) => flags::method(m, &Origin::Flag("-X/--method"))?,
            (None, Some(m)) => flags::method(m, origin)?,
            (None, None) => DEFAULT_METHOD.to_string(),
        };
        let file_headers = std::mem::take(&mut file.headers);
        let (mut headers, content_type_removed) =
            merge_headers(file_headers, origin, &args.headers, env, redactor)?;
        let body = resolve_body(args, file.body.take(), &method, origin, env, redactor)?;
        let has_content_type = headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type"));
        if body.is_some() && !has_content_type && !content_type_removed {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        let has_accept_encoding =
            headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("accept-encoding"));
        if args.compressed && !has_accept_encoding {
            headers.push(("Accept-Encoding".into(), ACCEPT_ENCODING.into()));
        }
        Ok(Request { url, method, headers, body })
    }
}

impl Request {
    /// Built bodies are JSON, and Anthropic's need their API version; a header the user set
    /// stays.
    fn for_built_bodies(&mut self, protocol: Protocol) {
        self.body = None;
        let mut wanted = vec![("Content-Type", "application/json")];
        if protocol == Protocol::Anthropic {
            wanted.push(("anthropic-version", ANTHROPIC_VERSION));
        }
        for (name, value) in wanted {
            if !self.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                self.headers.push((name.to_owned(), value.to_owned()));
            }
        }
    }
}

/// `--shard` (and `--shards` for `auto` in Kubernetes).
fn shard(args: &RunArgs, env: Env<'_>) -> anyhow::Result<Option<crate::plan::config::Shard>> {
    match &args.shard {
        Some(spec) => Ok(Some(crate::plan::config::Shard::parse(spec, args.shards, env)?)),
        None if args.shards.is_some() => bail!("`--shards` goes with `--shard auto`"),
        None => Ok(None),
    }
}

/// `--push-interval`: how often the `--prometheus` file is rewritten while the run goes.
fn push_interval(args: &RunArgs) -> anyhow::Result<Option<std::time::Duration>> {
    let Some(text) = &args.push_interval else { return Ok(None) };
    if args.prometheus.is_none() {
        bail!("`--push-interval` rewrites the `--prometheus FILE` during the run: add it");
    }
    let every = crate::plan::config::load::parse_duration(text, "--push-interval")?;
    if every.is_zero() {
        bail!("`--push-interval` must be longer than 0");
    }
    Ok(Some(every))
}

/// The dataset: `--dataset` (relative to the working folder) over the file's `data_source`
/// block (relative to the config's folder), its encoding and format checked; `--shuffle` or
/// `data_source.shuffle` with `--seed`, else `data_source.seed`, else 0.
fn data_source(
    args: &RunArgs,
    block: Option<file::FileDataSource>,
    origin: &Origin,
) -> anyhow::Result<Option<DataSource>> {
    let format = args.dataset_format.as_deref().map(DatasetFormat::parse).transpose();
    let format = format.map_err(|e| anyhow::anyhow!("`--dataset-format`: {e}"))?;
    let source = match (&args.dataset, block) {
        (Some(file), _) => DataSource {
            file: file.clone(),
            format,
            shuffle: args.shuffle.then(|| args.seed.unwrap_or(0)),
            column: None,
            encoding: DEFAULT_ENCODING.to_string(),
        },
        (None, Some(ds)) => {
            let encoding = ds.encoding.unwrap_or_else(|| DEFAULT_ENCODING.to_string());
            crate::plan::workload::dataset::text::encoding_for_label(&encoding)
                .map_err(|e| anyhow::anyhow!("{}: {e}", origin.describe("data_source.encoding")))?;
            let shuffled = args.shuffle || ds.shuffle;
            DataSource {
                file: resolve_data_path(&ds.file, args.config.as_deref()),
                format: format.or(ds.format),
                shuffle: shuffled.then(|| args.seed.or(ds.seed).unwrap_or(0)),
                column: ds.column,
                encoding,
            }
        }
        (None, None) => {
            let lone = [("--dataset-format", format.is_some()), ("--shuffle", args.shuffle)];
            if let Some((flag, _)) = lone.iter().find(|(_, given)| *given) {
                bail!("`{flag}` shapes a dataset: add `--dataset FILE`");
            }
            return Ok(None);
        }
    };
    Ok(Some(source))
}

/// `--tokenizer`, else the file's (a file named there is relative to the config's folder, as
/// data is), else the default.
fn tokenizer(args: &RunArgs, file_tokenizer: Option<String>) -> String {
    let config = args.config.as_deref();
    let file_tokenizer =
        file_tokenizer.map(|t| match crate::measure::tokens::NAMES.contains(&t.as_str()) {
            true => t,
            false => resolve_data_path(Path::new(&t), config).display().to_string(),
        });
    args.tokenizer.clone().or(file_tokenizer).unwrap_or_else(|| DEFAULT_TOKENIZER.to_string())
}

/// The file's `stream_format` with `--format` and `--max-event-bytes` over it.
fn stream_format(args: &RunArgs, mut format: StreamFormat) -> anyhow::Result<StreamFormat> {
    if let Some(name) = &args.format {
        format.kind = FormatKind::from_name(name).ok_or_else(|| {
            // `--format` on `run` is how responses are read; reports are `--export`.
            let names: Vec<&str> = name.split(',').map(str::trim).collect();
            if names.iter().all(|n| ExportFormat::from_name(n).is_some()) {
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
        let bytes = crate::measure::stream::limit::parse_size(size)
            .map_err(|e| anyhow::anyhow!("`--max-event-bytes {size}`: {e}"))?;
        format.max_event_bytes = Some(bytes);
    }
    Ok(format)
}

/// `--export csv,md,…`, each name checked.
fn exports(names: &[String]) -> anyhow::Result<Vec<ExportFormat>> {
    let one = |name: &String| {
        ExportFormat::from_name(name).ok_or_else(|| {
            anyhow::anyhow!(
                "`--export {name}`: unknown format; use {}",
                crate::output::export::FORMAT_NAMES
            )
        })
    };
    names.iter().map(one).collect()
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

/// A relative data path is relative to the config file's folder (the original tool's rule), else to
/// the current directory.
fn resolve_data_path(file: &Path, config: Option<&Path>) -> PathBuf {
    match config.and_then(Path::parent) {
        Some(dir) if file.is_relative() => dir.join(file),
        _ => file.to_path_buf(),
    }
}
