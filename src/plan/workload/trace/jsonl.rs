//! The JSONL trace formats: Mooncake rows (lengths and block ids) and timestamped requests
//! (what to send). Both take `timestamp` in milliseconds; errors name the field at fault and
//! start with `:line: `, for the caller to put the file name before.

use serde_json::{Map, Value};

use super::{TraceContent, TraceRow, offset};
use crate::plan::config::file::{kind, show};
use crate::plan::workload::dataset::records::{self, Content};

/// A JSON object of a trace line.
type Record = Map<String, Value>;

/// Reads every non-blank line of `text` as a JSON object and makes it a row with `row`.
pub(super) fn read(
    text: &str,
    row: fn(Record, usize) -> Result<TraceRow, String>,
) -> anyhow::Result<Vec<TraceRow>> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let n = i + 1;
        let value: Value = serde_json::from_str(line)
            .map_err(|e| anyhow::anyhow!(":{n}: not a JSON record: {e}"))?;
        let Value::Object(record) = value else {
            anyhow::bail!(":{n}: a trace record must be an object, got {}", kind(&value));
        };
        rows.push(row(record, n).map_err(|e| anyhow::anyhow!(":{n}: {e}"))?);
    }
    Ok(rows)
}

/// A Mooncake row: `timestamp`, `input_length` (required), `output_length` (0 or absent
/// leaves the answer's length to the server) and `hash_ids` (absent: a prompt of its own).
pub(super) fn mooncake(record: Record, line: usize) -> Result<TraceRow, String> {
    let at = timestamp(&record)?;
    let input = match record.get("input_length") {
        None | Some(Value::Null) => return Err("`input_length` is missing".to_owned()),
        Some(v) => v.as_u64().filter(|&n| n > 0).ok_or_else(|| {
            format!("`input_length` must be a whole number of tokens above 0, got {}", show(v))
        })?,
    };
    let output = match record.get("output_length") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let n = v.as_u64().ok_or_else(|| {
                format!("`output_length` must be a whole number of tokens, got {}", show(v))
            })?;
            (n > 0).then_some(n)
        }
    };
    Ok(TraceRow {
        line,
        at,
        input_tokens: Some(input),
        output_tokens: output,
        hash_ids: hash_ids(record.get("hash_ids"))?,
        content: TraceContent::Blocks,
        headers: Vec::new(),
    })
}

/// A timestamped request: `timestamp`, `headers`, and the rest a dataset record (`body`,
/// `messages` or `prompt`, `output_tokens`, `input_tokens`), read by the dataset's own reader.
pub(super) fn request(mut record: Record, line: usize) -> Result<TraceRow, String> {
    let at = timestamp(&record)?;
    record.remove("timestamp");
    let headers = headers(record.remove("headers"))?;
    let item = records::from_json(Value::Object(record), line)?;
    let content = match item.content {
        Content::Messages(messages) => TraceContent::Messages(messages),
        Content::Body(body) => TraceContent::Body(body),
    };
    Ok(TraceRow {
        line,
        at,
        input_tokens: item.input_tokens,
        output_tokens: item.output_tokens,
        hash_ids: Vec::new(),
        content,
        headers,
    })
}

/// `timestamp`: milliseconds from any start, 0 or more.
fn timestamp(record: &Record) -> Result<std::time::Duration, String> {
    match record.get("timestamp") {
        None | Some(Value::Null) => Err("`timestamp` is missing".to_owned()),
        Some(v) => offset("timestamp", v.as_f64(), "milliseconds", 1e6, &show(v)),
    }
}

/// `hash_ids`: a list of whole numbers, absent for none.
fn hash_ids(value: Option<&Value>) -> Result<Vec<u64>, String> {
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(format!("`hash_ids` must be a list of whole numbers, got {}", kind(other)));
        }
    };
    let id = |(i, v): (usize, &Value)| {
        v.as_u64().ok_or_else(|| format!("`hash_ids[{i}]` must be a whole number, got {}", show(v)))
    };
    list.iter().enumerate().map(id).collect()
}

/// `headers`: an object of strings, each a valid HTTP header; absent for none.
fn headers(value: Option<Value>) -> Result<Vec<(String, String)>, String> {
    let object = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(object)) => object,
        Some(other) => {
            return Err(format!("`headers` must be an object of strings, got {}", kind(&other)));
        }
    };
    let mut headers = Vec::with_capacity(object.len());
    for (name, value) in object {
        let Value::String(value) = value else {
            return Err(format!("`headers.{name}` must be a string, got {}", kind(&value)));
        };
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(format!("`headers` has {name:?}, which is not an HTTP header name"));
        }
        if http::HeaderValue::from_str(&value).is_err() {
            return Err(format!(
                "`headers.{name}` is not a valid HTTP header value (a line break?)"
            ));
        }
        headers.push((name, value));
    }
    Ok(headers)
}
