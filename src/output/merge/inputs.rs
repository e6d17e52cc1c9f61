//! What `streamperf merge` reads: result files, shell-style globs (for launchers that pass the
//! pattern unexpanded, as a Kubernetes `args` list does), folders of them, and records files
//! (`*.records.jsonl`): a shard killed before it wrote its result still left every finished
//! request's record, and those can be merged too.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::Instant;

use anyhow::{Context as _, bail};

use crate::analyse::metrics::Aggregator;
use crate::analyse::timeseries::TimeSeries;
use crate::output::records::read_records;
use crate::output::report::{RunInfo, RunResult, read_result};

/// How a records file's name ends.
const RECORDS: &str = ".records.jsonl";

/// The files `args` name, in order: a folder gives its results (`*.json`), and its records
/// files that have no result beside them; a pattern gives its matches, sorted. `skip` (the
/// merge's own output) is never an input. A pattern or folder that matches nothing is an error.
pub fn expand(args: &[PathBuf], skip: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for arg in args {
        let text = arg.to_string_lossy();
        let found = if arg.is_dir() {
            folder(arg)?
        } else if !arg.exists() && text.contains(['*', '?', '[']) {
            let matches = glob::glob(&text).with_context(|| format!("`{text}`: not a pattern"))?;
            matches.filter_map(Result::ok).filter(|p| p.is_file()).collect()
        } else {
            vec![arg.clone()]
        };
        if found.is_empty() {
            bail!("`{text}`: no result or records files there");
        }
        files.extend(found.into_iter().filter(|p| !same_file(p, skip)));
    }
    Ok(files)
}

/// A folder's results, and its records files without a result beside them, sorted by name.
fn folder(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    let mut names: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    names.sort();
    let is_result = |p: &PathBuf| p.extension().is_some_and(|e| e == "json");
    let orphan = |p: &PathBuf| {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let stem = name.strip_suffix(RECORDS)?;
        (!dir.join(format!("{stem}.json")).exists()).then_some(())
    };
    Ok(names.into_iter().filter(|p| is_result(p) || orphan(p).is_some()).collect())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Whether `path` is a records file rather than a result.
pub fn is_records(path: &Path) -> bool {
    path.to_string_lossy().ends_with(RECORDS)
}

/// `path` as a result: a result file as written, or a records file's records summed up as
/// the run that made them would have (its summary, per-second series and aggregate; a records
/// line holds no inter-token gaps, so those requests add none to the ITL distributions).
pub fn read_input(path: &Path) -> anyhow::Result<RunResult> {
    if !is_records(path) {
        return read_result(path);
    }
    let records = read_records(path)?;
    let Some(start) = records.iter().filter_map(|r| r.started_at).min_by(f64::total_cmp) else {
        bail!(
            "{}: no record says when it started (an empty file, or one written before records kept \
             started_at)",
            path.display()
        );
    };
    let base = Instant::now();
    let at = |unix: f64| base + Duration::from_secs_f64((unix - start).max(0.0));
    let (mut aggregate, mut series, mut end) = (Aggregator::new(), TimeSeries::new(base), start);
    for record in &records {
        let began = record.started_at.unwrap_or(start);
        let took = record.total_time.unwrap_or_default().as_secs_f64();
        end = end.max(began + took);
        series.on_start(at(began));
        if let (Some(ttft), true) = (record.ttft, record.is_success()) {
            series.on_first_token(at(began + ttft.as_secs_f64()), ttft);
        }
        series.on_finish(at(began + took), record);
        if !record.warmup {
            aggregate.add(record);
        }
    }
    let warmup_requests = records.iter().filter(|r| r.warmup).count() as u64;
    Ok(RunResult {
        schema_version: crate::output::report::SCHEMA_VERSION,
        config: serde_json::json!({ "records_file": path.display().to_string() }),
        summary: aggregate.summary(Duration::from_secs_f64(end - start)),
        run: RunInfo { started_unix: Some(start), warmup_requests, ..RunInfo::default() },
        timeseries: series.seconds(),
        aggregate: Some(aggregate),
        metrics: records,
        ..RunResult::default()
    })
}
