//! Reading runs back: the list for `streamperf history`, one run's summary and samples for
//! `compare`, and run lookup by id or label.

use std::collections::BTreeMap;

use anyhow::bail;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::analyse::metrics::Summary;

/// One line of `streamperf history`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    /// Run id (`#12`).
    pub id: i64,
    /// When it was stored, UTC, RFC 3339.
    pub created_at: String,
    /// `--label`.
    pub label: Option<String>,
    /// `--tag KEY=VALUE`s.
    pub tags: BTreeMap<String, String>,
    /// The endpoint, redacted.
    pub url: String,
    /// The request body's `model`, if any.
    pub model: Option<String>,
    /// Successful requests.
    pub success_count: i64,
    /// Requests sent.
    pub total_requests: i64,
    /// TTFT median, seconds.
    pub ttft_p50: Option<f64>,
    /// TTFT 99th percentile, seconds.
    pub ttft_p99: Option<f64>,
    /// End-to-end median, seconds.
    pub e2e_p50: Option<f64>,
    /// Successful requests per second.
    pub throughput: f64,
    /// Output tokens per second.
    pub output_token_throughput: f64,
    /// SLOs met.
    pub slos_passed: i64,
    /// SLOs missed.
    pub slos_failed: i64,
    /// The result file written beside it.
    pub result_path: Option<String>,
    /// Stopped by Ctrl-C/SIGTERM (or `q` in the dashboard) before its end.
    pub interrupted: bool,
}

/// The `last` most recent runs (with `label`, if given), oldest first.
pub fn list(conn: &Connection, label: Option<&str>, last: usize) -> anyhow::Result<Vec<RunRow>> {
    let mut select = conn.prepare(
        "SELECT id, created_at, label, url, model, success_count, total_requests, ttft_p50,
            ttft_p99, e2e_p50, throughput, output_token_throughput, slos_passed, slos_failed,
            result_path, coalesce(json_extract(run_info, '$.interrupted'), 0)
         FROM runs WHERE (?1 IS NULL OR label = ?1) ORDER BY id DESC LIMIT ?2",
    )?;
    let mut rows = select
        .query_map(params![label, last as i64], |r| {
            Ok(RunRow {
                id: r.get(0)?,
                created_at: r.get(1)?,
                label: r.get(2)?,
                tags: BTreeMap::new(),
                url: r.get(3)?,
                model: r.get(4)?,
                success_count: r.get(5)?,
                total_requests: r.get(6)?,
                ttft_p50: r.get(7)?,
                ttft_p99: r.get(8)?,
                e2e_p50: r.get(9)?,
                throughput: r.get(10)?,
                output_token_throughput: r.get(11)?,
                slos_passed: r.get(12)?,
                slos_failed: r.get(13)?,
                result_path: r.get(14)?,
                interrupted: r.get(15)?,
            })
        })?
        .collect::<Result<Vec<RunRow>, _>>()?;
    rows.reverse();
    let mut tags =
        conn.prepare("SELECT key, value FROM run_tags WHERE run_id = ?1 ORDER BY key")?;
    for row in &mut rows {
        row.tags =
            tags.query_map([row.id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    }
    Ok(rows)
}

/// A stored run as `compare` needs it.
#[derive(Debug, Clone)]
pub struct StoredRun {
    /// Run id.
    pub id: i64,
    /// `--label`.
    pub label: Option<String>,
    /// When it was stored (UTC).
    pub created_at: String,
    /// The summary (the last level's, for a sweep).
    pub summary: Summary,
    /// TTFTs of the successful, non-warm-up requests of that level, seconds.
    pub ttft: Vec<f64>,
    /// End-to-end times of the same requests, seconds.
    pub e2e: Vec<f64>,
}

/// Loads run `id`.
pub fn load(conn: &Connection, id: i64) -> anyhow::Result<StoredRun> {
    let (label, created_at, summary, levels): (Option<String>, String, String, String) = conn
        .query_row(
            "SELECT label, created_at, summary, levels FROM runs WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
    let summary: Summary = serde_json::from_str(&summary)?;
    // A sweep's summary is its last level's; compare the same requests.
    let levels: Vec<serde_json::Value> = serde_json::from_str(&levels)?;
    let level = levels.len().checked_sub(1).map(|l| l as i64);
    let mut select = conn.prepare(
        "SELECT ttft, e2e FROM requests
         WHERE run_id = ?1 AND success = 1 AND warmup = 0 AND level IS ?2 ORDER BY request_id",
    )?;
    let (mut ttft, mut e2e) = (Vec::new(), Vec::new());
    let mut rows = select.query(params![id, level])?;
    while let Some(row) = rows.next()? {
        if let Some(v) = row.get::<_, Option<f64>>(0)? {
            ttft.push(v);
        }
        if let Some(v) = row.get::<_, Option<f64>>(1)? {
            e2e.push(v);
        }
    }
    Ok(StoredRun { id, label, created_at, summary, ttft, e2e })
}

/// The run `spec` names: `12` or `#12` (an id), else a label (its latest run). The error
/// lists what the database holds.
pub fn find(conn: &Connection, spec: &str) -> anyhow::Result<i64> {
    let trimmed = spec.trim();
    if let Some(id) = parse_id(trimmed) {
        let found: Option<i64> =
            conn.query_row("SELECT id FROM runs WHERE id = ?1", [id], |r| r.get(0)).optional()?;
        let Some(id) = found else {
            let (count, max): (i64, Option<i64>) =
                conn.query_row("SELECT count(*), max(id) FROM runs", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
            match max {
                Some(max) => bail!("no run #{id} (the database holds {count} runs, up to #{max})"),
                None => bail!("no run #{id}: the database holds no runs yet"),
            }
        };
        return Ok(id);
    }
    let found: Option<i64> = conn
        .query_row("SELECT max(id) FROM runs WHERE label = ?1", [trimmed], |r| r.get(0))
        .optional()?
        .flatten();
    match found {
        Some(id) => Ok(id),
        None => {
            let labels = labels(conn)?;
            match labels.is_empty() {
                true => bail!("no run labelled `{trimmed}`: no run there has a label"),
                false => bail!("no run labelled `{trimmed}`; labels: {}", labels.join(", ")),
            }
        }
    }
}

/// `12` or `#12`.
pub fn parse_id(spec: &str) -> Option<i64> {
    let digits = spec.strip_prefix('#').unwrap_or(spec);
    match !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        true => digits.parse().ok(),
        false => None,
    }
}

/// Distinct labels, most recently used first (at most 20).
fn labels(conn: &Connection) -> anyhow::Result<Vec<String>> {
    let mut select = conn.prepare(
        "SELECT label FROM runs WHERE label IS NOT NULL GROUP BY label ORDER BY max(id) DESC
         LIMIT 20",
    )?;
    let labels = select.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(labels)
}

/// `(id, created_at, summary)` of every run labelled `label`, oldest first.
pub fn summaries(conn: &Connection, label: &str) -> anyhow::Result<Vec<(i64, String, Summary)>> {
    let mut select =
        conn.prepare("SELECT id, created_at, summary FROM runs WHERE label = ?1 ORDER BY id")?;
    let rows = select
        .query_map([label], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?)))?
        .collect::<Result<Vec<(i64, String, String)>, _>>()?;
    rows.into_iter().map(|(id, at, json)| Ok((id, at, serde_json::from_str(&json)?))).collect()
}
