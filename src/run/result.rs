//! Assembling the result file from the measured levels (ids and levels numbered across a
//! sweep, the config view, the last level's summary on top) and judging the SLOs on it. Apart
//! from measuring because it is pure bookkeeping on finished data.

use crate::analyse::slo;
use crate::output::report::{LevelResult, RunResult, SCHEMA_VERSION, ToolInfo};
use crate::plan::config::Config;

use super::MeasuredLevel;

/// Judges the `--slo`s on the summary (the last level's, in a sweep) and its goodput.
pub(super) fn judge_slos(config: &Config, result: &mut RunResult) {
    if config.slos.is_empty() {
        return;
    }
    result.slos = slo::evaluate(&config.slos, &result.summary);
    // Each sweep level's goodput, so the sweep table shows where the SLOs stop being met.
    let metrics = &result.metrics;
    for (index, level) in result.levels.iter_mut().enumerate() {
        let records = metrics.iter().filter(|r| r.level == Some(index as u32));
        level.summary.goodput = Some(slo::goodput(&config.slos, records, level.summary.duration));
    }
    let goodput = slo::goodput(&config.slos, result.last_level_records(), result.summary.duration);
    result.summary.goodput = Some(goodput);
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
        result.summary = m.summary;
        result.run = m.run;
        result.client = m.client;
        result.connections = m.connections;
        result.timeseries = m.timeseries;
    }
    result
}
