//! Assembling the result file from the measured levels (ids and levels numbered across a
//! sweep, the config view, the last level's summary on top) and judging the SLOs on it. Apart
//! from measuring because it is pure bookkeeping on finished data.

use crate::analyse::slo;
use crate::output::report::{LevelResult, RunResult, SCHEMA_VERSION, ToolInfo};
use crate::plan::config::Config;

use super::MeasuredLevel;

/// Judges the `--slo`s on the summary (the last level's, in a sweep) and its goodput, from
/// `goods`: each level's requests that met every per-request SLO, counted as they finished
/// (so a long run's goodput covers the records beyond `--max-records-in-result` too).
pub(super) fn judge_slos(config: &Config, result: &mut RunResult, goods: &[u64]) {
    if config.slos.is_empty() {
        return;
    }
    result.slos = slo::evaluate(&config.slos, &result.summary);
    let rate = |good: u64, secs: f64| if secs > 0.0 { good as f64 / secs } else { 0.0 };
    // Each sweep level's goodput, so the sweep table shows where the SLOs stop being met.
    for (level, &good) in result.levels.iter_mut().zip(goods) {
        level.summary.goodput = Some(rate(good, level.summary.duration));
    }
    let last = goods.last().copied().unwrap_or(0);
    result.summary.goodput = Some(rate(last, result.summary.duration));
}

/// The result file: one run, or a sweep's levels (the top-level summary is the last level's,
/// so a reader of one summary sees the highest load; every request is in `metrics`, tagged
/// with its level).
pub(super) fn assemble(config: &Config, measured: Vec<MeasuredLevel>) -> RunResult {
    let timestamp = jiff::ZonedDateTime::now().strftime("%Y-%m-%dT%H:%M:%S").to_string();
    // A sweep's config shows the last level's concurrency or rate, as its summary does.
    let last_level = measured.last().and_then(|m| m.level);
    let mut view = match (&config.sweep, last_level) {
        (Some(sweep), Some(level)) => config.at_level(sweep, level).result_view(&timestamp),
        _ => config.result_view(&timestamp),
    };
    let detected = measured.iter().find_map(|m| m.detected_format.clone());
    if let (Some(object), Some(format)) = (view.as_object_mut(), detected) {
        object.insert("detected_format".into(), format.into());
    }
    let mut result = RunResult {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo::default(),
        config: view,
        ..RunResult::default()
    };
    let over = config.sweep.as_ref().map(|s| s.over);
    let mut next_id = 0;
    for (index, m) in measured.into_iter().enumerate() {
        let mut records = m.records;
        if let Some(over) = over {
            for record in &mut records {
                record.level = Some(index as u32);
                record.request_id += next_id;
            }
            next_id += records.len() as u64;
            let mut level = LevelResult::new(
                over,
                m.level.unwrap_or_default(),
                &m.summary,
                &m.run,
                &m.client,
                &m.timeseries,
            );
            level.connections = m.connections.clone();
            result.levels.push(level);
        }
        result.metrics.extend(records);
        // A sweep's levels each have their own: only a single run's is kept for merging.
        result.aggregate = over.is_none().then_some(m.aggregate);
        result.summary = m.summary;
        result.run = m.run;
        result.client = m.client;
        result.connections = m.connections;
        result.timeseries = m.timeseries;
    }
    result
}
