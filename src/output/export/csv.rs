//! CSV: one row per request, header first, for spreadsheets and pandas.
//!
//! Seconds are plain decimals; a value that was not reached is an empty cell. Quoting is the
//! `csv` crate's (RFC 4180), so commas, quotes, line breaks and any UTF-8 survive.

use std::time::Duration;

use anyhow::Context as _;

use crate::measure::record::RequestRecord;
use crate::output::export::one_line;
use crate::output::report::RunResult;

/// The header row, in column order.
pub const COLUMNS: [&str; 22] = [
    "request_id",
    "level",
    "warmup",
    "status",
    "error_class",
    "error",
    "ttft",
    "ttfb",
    "ttfat",
    "total_time",
    "queue_wait",
    "connect",
    "tpot",
    "max_gap",
    "tokens_per_second",
    "output_tokens",
    "reasoning_tokens",
    "input_tokens",
    "token_source",
    "chunks",
    "bytes",
    "finish_reason",
];

/// Renders every request of `result` (warm-up ones included, flagged) as CSV.
pub fn render(result: &RunResult) -> anyhow::Result<String> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS)?;
    for record in &result.metrics {
        writer.write_record(row(record)?)?;
    }
    let bytes = writer.into_inner().context("cannot finish the CSV")?;
    String::from_utf8(bytes).context("the CSV is not UTF-8")
}

/// The cells of one request, in [`COLUMNS`] order.
fn row(r: &RequestRecord) -> anyhow::Result<[String; 22]> {
    Ok([
        r.request_id.to_string(),
        opt(r.level),
        r.warmup.to_string(),
        opt(r.status),
        r.error_class.map(|c| c.as_str().to_string()).unwrap_or_default(),
        r.error.as_deref().map(one_line).unwrap_or_default(),
        secs(r.ttft),
        secs(r.ttfb),
        secs(r.ttfat),
        secs(r.total_time),
        secs(r.queue_wait),
        secs(r.connect),
        secs(r.tpot),
        secs(r.max_gap),
        r.tokens_per_second.filter(|v| v.is_finite()).map(|v| v.to_string()).unwrap_or_default(),
        opt(r.output_tokens),
        opt(r.reasoning_tokens),
        opt(r.input_tokens),
        token_source(r)?,
        r.chunks.to_string(),
        r.bytes.to_string(),
        r.finish_reason.clone().unwrap_or_default(),
    ])
}

/// Seconds as a plain decimal (`f64`'s `Display` never uses an exponent), or empty.
fn secs(d: Option<Duration>) -> String {
    d.map(|d| d.as_secs_f64().to_string()).unwrap_or_default()
}

/// The value, or empty.
fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// The token source under its result-file name (`usage`, `tokenizer`, …).
fn token_source(r: &RequestRecord) -> anyhow::Result<String> {
    let value = serde_json::to_value(r.token_source)?;
    Ok(value.as_str().unwrap_or_default().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::export::sample_result;

    fn read_back(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
        let mut reader = ::csv::Reader::from_reader(text.as_bytes());
        let header = reader.headers().unwrap().iter().map(String::from).collect();
        let rows =
            reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
        (header, rows)
    }

    fn cell<'a>(header: &[String], row: &'a [String], name: &str) -> &'a str {
        &row[header.iter().position(|h| h == name).unwrap()]
    }

    #[test]
    fn one_row_per_request_with_seconds_and_empty_nulls() {
        let (header, rows) = read_back(&render(&sample_result()).unwrap());
        assert_eq!(header, COLUMNS);
        assert_eq!(rows.len(), 2);
        let (good, bad) = (&rows[0], &rows[1]);
        assert_eq!(cell(&header, good, "request_id"), "1");
        assert_eq!(cell(&header, good, "ttft"), "0.12");
        assert_eq!(cell(&header, good, "total_time"), "0.9");
        assert_eq!(cell(&header, good, "tpot"), "0.02");
        assert_eq!(cell(&header, good, "token_source"), "usage");
        assert_eq!(cell(&header, good, "level"), "");
        assert_eq!(cell(&header, good, "connect"), "", "null is an empty cell");
        assert_eq!(cell(&header, bad, "error_class"), "timeout");
        assert_eq!(cell(&header, bad, "error"), "timed out after 30 s", "one line");
        assert_eq!(cell(&header, bad, "ttft"), "");
        assert_eq!(cell(&header, bad, "status"), "");
    }

    #[test]
    fn awkward_text_survives_a_round_trip() {
        let mut result = sample_result();
        let nasty = "服务器繁忙, \"请\" 稍后重试";
        result.metrics[1].error = Some(nasty.into());
        result.metrics[0].finish_reason = Some("a,b\"c".into());
        result.metrics[0].level = Some(3);
        result.metrics[0].warmup = true;
        let (header, rows) = read_back(&render(&result).unwrap());
        assert_eq!(cell(&header, &rows[1], "error"), nasty);
        assert_eq!(cell(&header, &rows[0], "finish_reason"), "a,b\"c");
        assert_eq!(cell(&header, &rows[0], "level"), "3");
        assert_eq!(cell(&header, &rows[0], "warmup"), "true");
        assert!(rows.iter().all(|r| r.len() == COLUMNS.len()));
    }

    #[test]
    fn tiny_durations_are_not_in_exponent_notation() {
        assert_eq!(secs(Some(Duration::from_nanos(100))), "0.0000001");
        assert_eq!(secs(None), "");
    }

    #[test]
    fn an_empty_run_is_just_the_header() {
        let text = render(&RunResult::default()).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(text.starts_with("request_id,level,warmup,"));
    }
}
