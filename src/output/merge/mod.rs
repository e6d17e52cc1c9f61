//! Merging the results of a run's shards (`streamperf merge`) into the result one process
//! would have written: the lossless aggregates added (counts exact, percentiles at HDR
//! precision), the duration from the first shard's start to the last one's end (wall clock),
//! every record kept, each shard's own figures and self-check kept beside them (`shards`), and a
//! shard that is missing, duplicated or from another run refused.

pub mod inputs;

use std::path::PathBuf;

use anyhow::bail;

use crate::analyse::timeseries::Second;
use crate::output::report::{RunResult, ShardRun};

/// Merges `results` (each with the file it came from). A missing shard is an error naming it,
/// unless `allow_partial`.
pub fn merge(results: Vec<(PathBuf, RunResult)>, allow_partial: bool) -> anyhow::Result<RunResult> {
    let Some((_, first)) = results.first() else { bail!("`merge`: no result files given") };
    check_shards(&results, allow_partial)?;
    let mut merged = RunResult { aggregate: None, ..first.clone() };
    let mut aggregate = None::<crate::analyse::metrics::Aggregator>;
    let (mut start, mut end) = (f64::INFINITY, f64::NEG_INFINITY);
    merged.metrics.clear();
    for (path, result) in &results {
        let Some(theirs) = &result.aggregate else {
            bail!(
                "{}: has no aggregate to merge (a sweep's result, or one written before \
                 streamperf kept them)",
                path.display()
            );
        };
        match &mut aggregate {
            Some(ours) => ours.merge(theirs),
            None => aggregate = Some(theirs.clone()),
        }
        let began = result.run.started_unix.unwrap_or(0.0);
        (start, end) = (start.min(began), end.max(began + result.summary.duration));
        merged.metrics.extend(result.metrics.iter().cloned());
        if result.client.as_ref().is_some_and(|c| c.client_bound) {
            merged.client = result.client.clone();
        }
        merged.shards.push(shard_run(path, result));
    }
    merged.metrics.sort_by_key(|r| r.request_id);
    let aggregate = aggregate.expect("at least one result");
    merged.summary = aggregate.summary(std::time::Duration::from_secs_f64((end - start).max(0.0)));
    merged.aggregate = Some(aggregate);
    merged.run.started_unix = Some(start);
    merged.timeseries = seconds(&results, start);
    // Each shard's records file stays its own; `metrics` hold what the results held.
    merged.records = None;
    if let Some(config) = merged.config.as_object_mut() {
        config.remove("shard");
        let shards: Vec<String> = results.iter().map(|(p, _)| p.display().to_string()).collect();
        config.insert("merged_from".into(), shards.into());
    }
    Ok(merged)
}

/// `result` as one shard of the merged run.
fn shard_run(path: &std::path::Path, result: &RunResult) -> ShardRun {
    let s = &result.summary;
    ShardRun {
        file: path.display().to_string(),
        index: result.config["shard"]["index"].as_u64(),
        started_unix: result.run.started_unix,
        start_skew: result.run.start_skew,
        duration: s.duration,
        total_requests: s.total_requests,
        success_count: s.success_count,
        ttft_p50: s.ttft.as_ref().map(|t| t.p50),
        ttft_p99: s.ttft.as_ref().map(|t| t.p99),
        output_token_throughput: s.output_token_throughput,
        client: result.client.clone(),
    }
}

/// The shards' per-second series on one clock: second `t` of a shard that started `d` seconds
/// after the first is second `t + d` (rounded) of the merged run. Counts add up; a second's
/// TTFT median cannot be merged from the shards' medians: it is kept only where one shard alone
/// had that second (else `null`).
fn seconds(results: &[(PathBuf, RunResult)], start: f64) -> Vec<Second> {
    let mut merged: Vec<Second> = Vec::new();
    for (_, result) in results {
        let shift = (result.run.started_unix.unwrap_or(start) - start).round().max(0.0) as u64;
        for second in &result.timeseries {
            let t = second.t + shift;
            if merged.len() <= t as usize {
                merged.resize_with(t as usize + 1, Second::default);
            }
            let slot = &mut merged[t as usize];
            let first = slot.started + slot.completed + slot.failed + slot.in_flight == 0;
            slot.t = t;
            slot.started += second.started;
            slot.completed += second.completed;
            slot.failed += second.failed;
            slot.in_flight += second.in_flight;
            slot.output_tokens += second.output_tokens;
            slot.ttft_p50 = if first { second.ttft_p50 } else { None };
        }
    }
    for (t, slot) in merged.iter_mut().enumerate() {
        slot.t = t as u64;
    }
    merged
}

/// Every shard of the run once: the same count everywhere, no index twice, none missing.
fn check_shards(results: &[(PathBuf, RunResult)], allow_partial: bool) -> anyhow::Result<()> {
    let shard = |r: &RunResult| {
        let s = &r.config["shard"];
        s["index"].as_u64().zip(s["count"].as_u64())
    };
    let Some(count) = results.iter().find_map(|(_, r)| shard(r)).map(|(_, n)| n) else {
        return Ok(()); // results of separate runs: merged as they are
    };
    let mut seen = vec![None::<&PathBuf>; count as usize];
    let (records, results): (Vec<_>, Vec<_>) =
        results.iter().partition(|(path, _)| inputs::is_records(path));
    for (path, result) in results {
        let Some((index, _)) = shard(result).filter(|(_, n)| *n == count) else {
            bail!("{}: not a shard of the same {count}-shard run", path.display());
        };
        if let Some(earlier) = seen[index as usize].replace(path) {
            bail!("shard {index} twice: {} and {}", earlier.display(), path.display());
        }
    }
    let missing: Vec<String> =
        seen.iter().enumerate().filter(|(_, p)| p.is_none()).map(|(i, _)| i.to_string()).collect();
    if !missing.is_empty() && !allow_partial {
        let records: Vec<String> = records.iter().map(|(p, _)| p.display().to_string()).collect();
        let given = match records.is_empty() {
            true => String::new(),
            false => format!("; records without a result given: {}", records.join(", ")),
        };
        bail!(
            "shard {} of {count} missing (failed or not given{given}); --allow-partial merges \
             the others",
            missing.join(", ")
        );
    }
    Ok(())
}
