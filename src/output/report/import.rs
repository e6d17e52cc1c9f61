//! The original tool's `test_results.json` read as a [`RunResult`], so `report`, `compare`
//! and the HTML page work on results from before the switch.
//!
//! That file has `config` (url, concurrency, total_requests, timestamp), `summary` with only
//! the success and failure counts, and one record a request (`ttft`, `total_time`,
//! `total_tokens`, `tokens_per_second`, `error`). The summary is recomputed from the records.
//! Two things the file does not say are filled in, and the result says so in
//! `config.imported`: failures are classified from their message, and the run's wall time
//! (hence its throughput) is estimated as Σ request time ÷ concurrency, which is what a
//! closed loop with every worker busy takes.

use std::time::Duration;

use serde_json::Value;

use super::{RunResult, SCHEMA_VERSION, ToolInfo};
use crate::analyse::metrics::Aggregator;
use crate::measure::record::{ErrorClass, RequestRecord};

/// Said in `config.imported` of every imported result.
pub const IMPORTED_NOTE: &str = "the original tool's result file: failures classified from \
     their messages; duration (so throughput) estimated as the sum of request times / concurrency";

/// Whether `value` is the original tool's result (no `schema_version`, but `metrics`).
pub fn is_original(value: &Value) -> bool {
    value.get("schema_version").is_none() && value.get("metrics").is_some_and(Value::is_array)
}

/// Reads the original tool's result from `value` (see [`is_original`]).
pub fn from_original(mut value: Value) -> anyhow::Result<RunResult> {
    let records: Vec<RequestRecord> = serde_json::from_value(value["metrics"].take())?;
    let records: Vec<RequestRecord> = records.into_iter().map(classify).collect();
    let mut aggregator = Aggregator::new();
    for record in &records {
        aggregator.add(record);
    }
    let mut config = match value["config"].take() {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    let workers = config.get("concurrency").and_then(Value::as_u64).unwrap_or(1).max(1);
    let busy: f64 = records.iter().filter_map(|r| r.total_time).map(|t| t.as_secs_f64()).sum();
    let duration = busy / workers.min(records.len().max(1) as u64) as f64;
    config.insert("imported".into(), IMPORTED_NOTE.into());
    Ok(RunResult {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo { name: "stream_test_enhanced.py".into(), version: "original".into() },
        config: Value::Object(config),
        summary: aggregator.summary(Duration::from_secs_f64(duration)),
        metrics: records,
        ..RunResult::default()
    })
}

/// A record with an `error` gets the class its message names (the original tool recorded
/// only the message); the message stays as it was.
fn classify(mut record: RequestRecord) -> RequestRecord {
    if record.error_class.is_none()
        && let Some(message) = &record.error
    {
        record.error_class = Some(class_of(message));
    }
    record
}

/// The failure class an aiohttp-era message most likely means.
fn class_of(message: &str) -> ErrorClass {
    let m = message.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| m.contains(w));
    // aiohttp says `ssl:default` in every connect error: certificates first, bare `ssl` last.
    if has(&["timeout", "timed out"]) {
        ErrorClass::Timeout
    } else if has(&["certificate", "[ssl", "sslerror", "handshake"]) {
        ErrorClass::Tls
    } else if has(&["cannot connect", "connection refused", "connect call failed", "dns"]) {
        ErrorClass::Connect
    } else if has(&["ssl", "tls"]) {
        ErrorClass::Tls
    } else if m.starts_with("http ") || has(&["status", "http error"]) {
        ErrorClass::HttpStatus
    } else if has(&["payload", "closed", "reset", "incomplete", "disconnected"]) {
        ErrorClass::Incomplete
    } else {
        ErrorClass::StreamError
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The original README's example, with a failure added.
    const ORIGINAL: &str = r#"{
      "config": {"url": "https://api.example.com/stream", "concurrency": 2,
                 "total_requests": 3, "timestamp": "2024-01-15T10:30:00"},
      "summary": {"success_count": 2, "failed_count": 1},
      "metrics": [
        {"request_id": 1, "ttft": 0.234, "total_time": 2.0, "total_tokens": 45,
         "tokens_per_second": 18.32, "error": null},
        {"request_id": 2, "ttft": 0.334, "total_time": 3.0, "total_tokens": 50,
         "tokens_per_second": 16.9, "error": null},
        {"request_id": 3, "ttft": null, "total_time": 5.0, "total_tokens": 0,
         "tokens_per_second": null, "error": "TimeoutError: request timed out"}
      ]
    }"#;

    #[test]
    fn the_original_file_reads_with_a_recomputed_summary() {
        let value: Value = serde_json::from_str(ORIGINAL).unwrap();
        assert!(is_original(&value));
        let result = from_original(value).unwrap();
        let s = &result.summary;
        assert_eq!((s.success_count, s.failed_count, s.total_requests), (2, 1, 3));
        assert_eq!(s.failures.get(&ErrorClass::Timeout), Some(&1));
        // (2 + 3 + 5 s of requests) ÷ 2 workers.
        assert!((s.duration - 5.0).abs() < 1e-9, "{}", s.duration);
        assert!((s.ttft.as_ref().unwrap().max - 0.334).abs() < 1e-3);
        assert_eq!(result.metrics[2].error.as_deref(), Some("TimeoutError: request timed out"));
        assert_eq!(result.config["url"], "https://api.example.com/stream");
        assert_eq!(result.config["imported"], IMPORTED_NOTE);
    }

    #[test]
    fn a_streamperf_result_is_not_original() {
        let value = serde_json::json!({"schema_version": 1, "metrics": []});
        assert!(!is_original(&value));
        assert!(!is_original(&serde_json::json!({"config": {}})));
    }

    #[test]
    fn messages_name_their_class() {
        for (message, class) in [
            ("TimeoutError()", ErrorClass::Timeout),
            (
                "Cannot connect to host api:443 ssl:default [Connection refused]",
                ErrorClass::Connect,
            ),
            ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", ErrorClass::Tls),
            ("HTTP 500: internal error", ErrorClass::HttpStatus),
            ("Response payload is not completed", ErrorClass::Incomplete),
            ("something else", ErrorClass::StreamError),
        ] {
            assert_eq!(class_of(message), class, "{message}");
        }
    }
}
