//! Reading a config file (JSON, YAML or TOML, by extension) and checking its keys and types.
//!
//! Every format is first parsed into a `serde_json::Value` and then checked by hand, rather
//! than with `#[serde(deny_unknown_fields)]`, because the messages are the product here: an
//! unknown key gets the closest known key as a suggestion, and a wrong type names the key and
//! shows the value that was given.

use std::path::{Path, PathBuf};

use anyhow::bail;
use serde_json::{Map, Value};

use super::syntax;
use super::{DatasetFormat, FormatKind, StreamFormat};

/// The original tool's top-level keys, in the original tool's order, then streamperf's own.
const TOP_KEYS: &[&str] = &[
    "url",
    "method",
    "headers",
    "body",
    "timeout",
    "concurrency",
    "total_requests",
    "data_source",
    "stream_format",
    "tokenizer",
    "proxy",
    "sweep",
    "slo",
    "label",
    "tags",
    "history",
    "db",
    "tui",
];
const SWEEP_KEYS: &[&str] = &["concurrency", "rate", "auto", "duration"];
const DATA_SOURCE_KEYS: &[&str] = &["type", "file", "column", "encoding", "shuffle", "seed"];
const STREAM_FORMAT_KEYS: &[&str] = &[
    "type",
    "first_token_event",
    "completion_event",
    "output_path",
    "content_path",
    "reasoning_path",
    "usage_path",
    "error_path",
    "done_marker",
];
/// Keys that belong inside `body`; found at the top level they get a pointed hint.
const BODY_KEYS: &[&str] = &[
    "model",
    "messages",
    "prompt",
    "stream",
    "max_tokens",
    "temperature",
    "inputs",
    "query",
    "response_mode",
];

/// A config file's content, checked key by key; `None` where a key is absent (or `null`).
#[derive(Debug, Default)]
pub(crate) struct FileConfig {
    pub url: Option<String>,
    pub method: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
    pub timeout: Option<f64>,
    pub concurrency: Option<u64>,
    pub total_requests: Option<u64>,
    pub data_source: Option<FileDataSource>,
    pub stream_format: Option<StreamFormat>,
    /// `--tokenizer` in the file.
    pub tokenizer: Option<String>,
    /// `--proxy` in the file: `http://host:port`, or `""` for none.
    pub proxy: Option<String>,
    /// `slo: ["ttft.p95<800ms", …]`.
    pub slo: Vec<String>,
    /// `sweep: {concurrency: [...]}`, `{rate: [...]}` or `{auto: true}`, with `duration`.
    pub sweep: Option<FileSweep>,
    /// `label: model-a` (`--label`).
    pub label: Option<String>,
    /// `tags: {env: staging}` (`--tag`), in the file's order.
    pub tags: Vec<(String, String)>,
    /// `history: false` turns storing off (`--no-history`).
    pub history: Option<bool>,
    /// `db: path/history.db` (`--db`), as written.
    pub db: Option<String>,
    /// `tui: true`: the full-screen live dashboard.
    pub tui: bool,
}

/// The `sweep` block: what the `-p`/`--rate` lists, `--sweep auto` and `--sweep-duration`
/// flags say, in the file.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct FileSweep {
    pub concurrency: Vec<u64>,
    pub rate: Vec<f64>,
    pub auto: bool,
    pub duration: Option<String>,
}

/// The `data_source` block as written (the path is not resolved yet).
#[derive(Debug)]
pub(crate) struct FileDataSource {
    pub file: PathBuf,
    pub format: Option<DatasetFormat>,
    pub column: Option<String>,
    pub encoding: Option<String>,
    pub shuffle: bool,
    pub seed: Option<u64>,
}

/// Reads and checks `path`. Every error names the file.
pub(crate) fn read(path: &Path) -> anyhow::Result<FileConfig> {
    let shown = path.display();
    let bytes =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read config file {shown}: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!("{shown}: not UTF-8 text (byte {})", e.utf8_error().valid_up_to())
    })?;
    // Windows editors like to start files with a BOM; no parser below wants it.
    parse_text(path, text.strip_prefix('\u{feff}').unwrap_or(&text))
}

/// Parses and checks `text`, the contents of `path` (whose extension picks the syntax): what
/// [`read`] does once the file is read, kept apart so the fuzzer need not touch the disk.
pub(crate) fn parse_text(path: &Path, text: &str) -> anyhow::Result<FileConfig> {
    let value = syntax::parse(path, text)?;
    check(value).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Checks the parsed document; errors are relative (the caller prefixes the file name).
fn check(value: Value) -> anyhow::Result<FileConfig> {
    let Value::Object(map) = value else {
        bail!("the config must be an object of keys (url, headers, body, …), got {}", kind(&value));
    };
    check_keys(&map, TOP_KEYS, "")?;
    let mut cfg = FileConfig {
        url: string(&map, "url", "url")?,
        tokenizer: string(&map, "tokenizer", "tokenizer")?,
        proxy: string(&map, "proxy", "proxy")?,
        method: string(&map, "method", "method")?,
        body: map.get("body").filter(|v| !v.is_null()).cloned(),
        timeout: seconds(&map, "timeout")?,
        concurrency: positive_int(&map, "concurrency")?,
        total_requests: positive_int(&map, "total_requests")?,
        label: string(&map, "label", "label")?,
        db: string(&map, "db", "db")?,
        ..FileConfig::default()
    };
    cfg.history = flag(&map, "history")?;
    cfg.tags = string_pairs(&map, "tags", "key")?;
    cfg.headers = string_pairs(&map, "headers", "name")?;
    cfg.data_source = match map.get("data_source") {
        None | Some(Value::Null) => None,
        Some(Value::Object(ds)) => Some(data_source(ds)?),
        Some(other) => bail!("`data_source` must be an object, got {}", show(other)),
    };
    cfg.slo = slo_list(&map)?;
    cfg.tui = flag(&map, "tui")?.unwrap_or(false);
    cfg.sweep = match map.get("sweep") {
        None | Some(Value::Null) => None,
        Some(Value::Object(sw)) => Some(sweep(sw)?),
        Some(other) => bail!(
            "`sweep` must be an object such as {{\"concurrency\": [1, 4, 16]}}, got {}",
            show(other)
        ),
    };
    cfg.stream_format = match map.get("stream_format") {
        None | Some(Value::Null) => None,
        Some(Value::Object(sf)) => Some(stream_format(sf)?),
        Some(other) => bail!("`stream_format` must be an object, got {}", show(other)),
    };
    Ok(cfg)
}

/// `key` as an object of strings (`tags`, `headers`), in file order; each entry is named
/// `entry` (`key`, `name`) in the error. Lenient: a number or boolean is taken as its text.
fn string_pairs(
    map: &Map<String, Value>,
    key: &str,
    entry: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let pairs = match map.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(pairs)) => pairs,
        Some(other) => {
            bail!("`{key}` must be an object of {entry}: value, got {}", show(other))
        }
    };
    let mut out = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Number(_) | Value::Bool(_) => value.to_string(),
            other => bail!("`{key}.{name}` must be a string, got {}", show(other)),
        };
        out.push((name.clone(), value));
    }
    Ok(out)
}

/// `key` as true or false, `None` when absent or null.
fn flag(map: &Map<String, Value>, key: &str) -> anyhow::Result<Option<bool>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(on)) => Ok(Some(*on)),
        Some(other) => bail!("`{key}` must be true or false, got {}", show(other)),
    }
}

/// `slo`: one string or a list of them (`ttft.p95<800ms`).
fn slo_list(map: &Map<String, Value>) -> anyhow::Result<Vec<String>> {
    Ok(match map.get("slo") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<String>>>()
            .ok_or_else(|| {
                anyhow::anyhow!("`slo` must be a list of strings such as \"ttft.p95<800ms\"")
            })?,
        Some(other) => bail!(
            "`slo` must be a list of strings such as [\"ttft.p95<800ms\"], got {}",
            show(other)
        ),
    })
}

fn data_source(map: &Map<String, Value>) -> anyhow::Result<FileDataSource> {
    check_keys(map, DATA_SOURCE_KEYS, "data_source.")?;
    // The original tool marks `type` required but knows only `csv`; without a type, the
    // format comes from the file (a `.csv` is the original tool's CSV).
    let format = match string(map, "type", "data_source.type")? {
        None => None,
        Some(kind) if kind.eq_ignore_ascii_case("auto") => None,
        Some(kind) => Some(
            DatasetFormat::parse(&kind).map_err(|e| anyhow::anyhow!("`data_source.type`: {e}"))?,
        ),
    };
    let Some(file) = string(map, "file", "data_source.file")? else {
        bail!("`data_source.file` is required: the path of the data file");
    };
    let shuffle = match map.get("shuffle") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(on)) => *on,
        Some(other) => bail!("`data_source.shuffle` must be true or false, got {}", show(other)),
    };
    let seed = match map.get("seed") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(seed) => Some(seed),
            None => bail!("`data_source.seed` must be a whole number, got {}", show(v)),
        },
    };
    Ok(FileDataSource {
        file: PathBuf::from(file),
        format,
        column: string(map, "column", "data_source.column")?,
        encoding: string(map, "encoding", "data_source.encoding")?,
        shuffle,
        seed,
    })
}

fn sweep(map: &Map<String, Value>) -> anyhow::Result<FileSweep> {
    check_keys(map, SWEEP_KEYS, "sweep.")?;
    let list = |key: &str| -> anyhow::Result<Vec<f64>> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_f64().filter(|f| f.is_finite() && *f > 0.0))
                .collect::<Option<Vec<f64>>>()
                .ok_or_else(|| anyhow::anyhow!("`sweep.{key}` must be a list of positive numbers")),
            Some(other) => {
                bail!("`sweep.{key}` must be a list such as [1, 4, 16], got {}", show(other))
            }
        }
    };
    let concurrency = list("concurrency")?;
    if concurrency.iter().any(|c| c.fract() != 0.0) {
        bail!("`sweep.concurrency` must hold whole numbers");
    }
    let duration = match map.get("duration") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            bail!("`sweep.duration` must be a duration such as \"30s\", got {}", show(other))
        }
    };
    Ok(FileSweep {
        concurrency: concurrency.into_iter().map(|c| c as u64).collect(),
        rate: list("rate")?,
        auto: matches!(map.get("auto"), Some(Value::Bool(true))),
        duration,
    })
}

fn stream_format(map: &Map<String, Value>) -> anyhow::Result<StreamFormat> {
    check_keys(map, STREAM_FORMAT_KEYS, "stream_format.")?;
    let kind = match string(map, "type", "stream_format.type")? {
        None => FormatKind::Auto,
        Some(t) => FormatKind::from_name(&t).ok_or_else(|| {
            anyhow::anyhow!(
                "`stream_format.type` must be one of {}; got {t:?}",
                FormatKind::names().join(", ")
            )
        })?,
    };
    let key = |name: &str| string(map, name, &format!("stream_format.{name}"));
    Ok(StreamFormat {
        kind,
        first_token_event: key("first_token_event")?,
        completion_event: key("completion_event")?,
        output_path: key("output_path")?,
        content_path: key("content_path")?,
        reasoning_path: key("reasoning_path")?,
        usage_path: key("usage_path")?,
        error_path: key("error_path")?,
        done_marker: key("done_marker")?,
        max_event_bytes: None,
    })
}

/// Fails on the first key of `map` not in `known`, suggesting the closest known key. Keys
/// starting with `_` are comments (JSON has no other way to write one) and are skipped.
fn check_keys(map: &Map<String, Value>, known: &[&str], prefix: &str) -> anyhow::Result<()> {
    for key in map.keys() {
        if known.contains(&key.as_str()) || key.starts_with('_') {
            continue;
        }
        let closest = known
            .iter()
            .map(|k| (strsim::jaro_winkler(&key.to_ascii_lowercase(), k), *k))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let hint = match closest {
            Some((score, k)) if score >= 0.8 => format!(" — did you mean `{prefix}{k}`?"),
            _ if prefix.is_empty() && BODY_KEYS.contains(&key.as_str()) => {
                format!(" — `{key}` belongs inside `body`")
            }
            _ => format!(" (known keys: {})", known.join(", ")),
        };
        bail!("unknown key `{prefix}{key}`{hint}");
    }
    Ok(())
}

fn string(map: &Map<String, Value>, key: &str, path: &str) -> anyhow::Result<Option<String>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => bail!("`{path}` must be a string, got {}", show(other)),
    }
}

fn positive_int(map: &Map<String, Value>, key: &str) -> anyhow::Result<Option<u64>> {
    let value = match map.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v,
    };
    // `10.0` (what some YAML and JSON writers emit) is accepted as 10.
    let n = value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < u64::MAX as f64)
            .map(|f| f as u64)
    });
    match n {
        Some(n) if n >= 1 => Ok(Some(n)),
        _ => bail!("`{key}` must be a positive integer, got {}", show(value)),
    }
}

fn seconds(map: &Map<String, Value>, key: &str) -> anyhow::Result<Option<f64>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_f64() {
            Some(s) if s > 0.0 && s.is_finite() => Ok(Some(s)),
            _ => bail!("`{key}` must be a positive number of seconds, got {}", show(v)),
        },
    }
}

/// A value as the user wrote it, shortened for an error message.
pub(crate) fn show(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// A value's kind, for errors ("a list": YAML and TOML users write lists, not arrays).
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> String {
        check(v).unwrap_err().to_string()
    }

    #[test]
    fn unknown_keys_get_suggestions() {
        assert_eq!(
            err(json!({"concurency": 1})),
            "unknown key `concurency` — did you mean `concurrency`?"
        );
        assert_eq!(
            err(json!({"data_source": {"file": "a", "colum": "x"}})),
            "unknown key `data_source.colum` — did you mean `data_source.column`?"
        );
        assert_eq!(
            err(json!({"stream_format": {"type": "sse", "output": "x"}})),
            "unknown key `stream_format.output` — did you mean `stream_format.output_path`?"
        );
        assert_eq!(
            err(json!({"model": "x"})),
            "unknown key `model` — `model` belongs inside `body`"
        );
        assert!(check(json!({"_comment": "ok"})).is_ok());
    }

    #[test]
    fn type_errors_name_the_key() {
        assert_eq!(
            err(json!({"concurrency": "ten"})),
            "`concurrency` must be a positive integer, got \"ten\""
        );
        assert_eq!(
            err(json!({"total_requests": 0})),
            "`total_requests` must be a positive integer, got 0"
        );
        assert_eq!(
            err(json!({"timeout": -1})),
            "`timeout` must be a positive number of seconds, got -1"
        );
        assert!(
            err(json!({"stream_format": {"type": "ws"}}))
                .contains("`stream_format.type` must be one of")
        );
        assert!(
            err(json!({"data_source": {"type": "xml", "file": "a"}}))
                .starts_with("`data_source.type`: unknown dataset format \"xml\"")
        );
        assert!(
            err(json!({"data_source": {"file": "a", "shuffle": "yes"}}))
                .starts_with("`data_source.shuffle` must be true or false")
        );
        assert!(err(json!({"headers": {"X": [1]}})).contains("`headers.X` must be a string"));
    }

    #[test]
    fn numbers_are_lenient_where_harmless() {
        let cfg =
            check(json!({"timeout": 2.5, "concurrency": 4.0, "headers": {"X-N": 3}})).unwrap();
        assert_eq!(cfg.timeout, Some(2.5));
        assert_eq!(cfg.concurrency, Some(4));
        assert_eq!(cfg.headers, vec![("X-N".to_string(), "3".to_string())]);
    }
}
