//! Saving one run: every row of it in one transaction, so a process killed while saving leaves
//! either the whole run or nothing (SQLite rolls an unfinished transaction back on the next
//! open).

use std::time::Duration;

use rusqlite::{Connection, Transaction, TransactionBehavior, params};

use super::RunMeta;
use crate::analyse::timeseries::Second;
use crate::measure::record::RequestRecord;
use crate::output::report::RunResult;

/// Inserts `result` with `meta`; returns the new run's id.
pub fn save(conn: &mut Connection, result: &RunResult, meta: &RunMeta) -> anyhow::Result<i64> {
    // IMMEDIATE: wait (busy timeout) for another writer up front rather than fail mid-way.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let id = insert_run(&tx, result, meta)?;
    insert_tags(&tx, id, &meta.tags)?;
    insert_requests(&tx, id, &result.metrics)?;
    insert_series(&tx, id, None, &result.timeseries)?;
    for (index, level) in result.levels.iter().enumerate() {
        insert_series(&tx, id, Some(index as i64), &level.timeseries)?;
    }
    tx.commit()?;
    Ok(id)
}

fn insert_run(tx: &Transaction<'_>, result: &RunResult, meta: &RunMeta) -> anyhow::Result<i64> {
    let s = &result.summary;
    let config = &result.config;
    let tags: serde_json::Map<String, serde_json::Value> =
        meta.tags.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect();
    let p = |stats: &Option<crate::analyse::metrics::Stats>,
             f: fn(&crate::analyse::metrics::Stats) -> f64| { stats.as_ref().map(f) };
    let passed = result.slos.iter().filter(|r| r.pass).count() as i64;
    tx.execute(
        "INSERT INTO runs (created_at, timestamp, label, tags, url, model, config, summary,
            run_info, client, slos, levels, result_path, tool_version, success_count,
            total_requests, ttft_p50, ttft_p99, e2e_p50, e2e_p99, throughput,
            output_token_throughput, slos_passed, slos_failed)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
            ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
        params![
            jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            config["timestamp"].as_str(),
            meta.label,
            serde_json::Value::Object(tags).to_string(),
            config["url"].as_str().unwrap_or_default(),
            config["body"]["model"].as_str(),
            config.to_string(),
            serde_json::to_string(s)?,
            serde_json::to_string(&result.run)?,
            result.client.as_ref().map(serde_json::to_string).transpose()?,
            serde_json::to_string(&result.slos)?,
            serde_json::to_string(&result.levels)?,
            meta.result_path.as_ref().map(|p| p.display().to_string()),
            result.tool.version,
            s.success_count as i64,
            s.total_requests as i64,
            p(&s.ttft, |x| x.p50),
            p(&s.ttft, |x| x.p99),
            p(&s.total_time, |x| x.p50),
            p(&s.total_time, |x| x.p99),
            s.throughput,
            s.output_token_throughput,
            passed,
            result.slos.len() as i64 - passed,
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

fn insert_tags(tx: &Transaction<'_>, id: i64, tags: &[(String, String)]) -> anyhow::Result<()> {
    let mut insert = tx.prepare("INSERT INTO run_tags (run_id, key, value) VALUES (?1, ?2, ?3)")?;
    for (key, value) in tags {
        insert.execute(params![id, key, value])?;
    }
    Ok(())
}

/// One prepared statement for every request: a 20,000-request run stores in tens of ms.
fn insert_requests(tx: &Transaction<'_>, id: i64, records: &[RequestRecord]) -> anyhow::Result<()> {
    let mut insert = tx.prepare(
        "INSERT INTO requests (run_id, request_id, level, warmup, success, error_class, status,
            ttft, ttfb, ttfat, e2e, tpot, max_gap, queue_wait, connect, output_tokens,
            input_tokens, reasoning_tokens, tokens_per_second, chunks, bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
            ?18, ?19, ?20, ?21)",
    )?;
    let secs = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
    for r in records {
        insert.execute(params![
            id,
            r.request_id as i64,
            r.level,
            r.warmup,
            r.is_success(),
            r.error_class.map(|c| c.as_str()),
            r.status,
            secs(r.ttft),
            secs(r.ttfb),
            secs(r.ttfat),
            secs(r.total_time),
            secs(r.tpot),
            secs(r.max_gap),
            secs(r.queue_wait),
            secs(r.connect),
            r.output_tokens.map(|n| n as i64),
            r.input_tokens.map(|n| n as i64),
            r.reasoning_tokens.map(|n| n as i64),
            r.tokens_per_second,
            r.chunks as i64,
            r.bytes as i64,
        ])?;
    }
    Ok(())
}

fn insert_series(
    tx: &Transaction<'_>,
    id: i64,
    level: Option<i64>,
    seconds: &[Second],
) -> anyhow::Result<()> {
    let mut insert = tx.prepare(
        "INSERT INTO timeseries (run_id, level, t, started, completed, failed, in_flight,
            output_tokens, ttft_p50) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for s in seconds {
        insert.execute(params![
            id,
            level,
            s.t as i64,
            s.started as i64,
            s.completed as i64,
            s.failed as i64,
            s.in_flight as i64,
            s.output_tokens as i64,
            s.ttft_p50,
        ])?;
    }
    Ok(())
}
