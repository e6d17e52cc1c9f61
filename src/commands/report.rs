//! `streamperf report RESULT.json [--format F] [-o PATH] [--lang L]`: a saved result rendered
//! again, from the file alone (nothing is re-measured); and `report --trend --label X
//! [--metric ttft.p50,…]`: metrics over the stored runs with a label, oldest first.

use std::path::Path;

use crate::cli::ReportArgs;
use crate::i18n::{Lang, detect_lang};
use crate::output::export::{self, ExportFormat};
use crate::output::history::trend::TrendPoint;
use crate::output::history::{self, History};
use crate::output::report::{self, ReportInfo, RunResult};

/// Runs `report`: the trend with `--trend`, else the saved result.
pub fn run(args: &ReportArgs) -> anyhow::Result<()> {
    let text = match args.trend {
        true => trend(args)?,
        false => rerender(args)?,
    };
    deliver(&text, args.output.as_deref())
}

/// The saved result in `--format` (`text`, or any export format).
fn rerender(args: &ReportArgs) -> anyhow::Result<String> {
    let path =
        args.result.as_deref().ok_or_else(|| anyhow::anyhow!("`report`: RESULT.json missing"))?;
    let result = report::read_result(path)?;
    // `--lang`, else the language the run reported in, else the locale.
    let lang = args.lang.or_else(|| run_lang(&result)).unwrap_or_else(detect_lang);
    match args.format.trim().to_ascii_lowercase().as_str() {
        "text" | "terminal" => {
            let info = ReportInfo {
                url: result.config["url"].as_str().unwrap_or_default().to_owned(),
                detected_format: result.config["detected_format"].as_str().map(str::to_owned),
                result_path: None,
            };
            Ok(report::render(&result, lang, &info))
        }
        name => {
            let format = ExportFormat::from_name(name).ok_or_else(|| {
                anyhow::anyhow!("`--format {name}`: use text, {}", export::FORMAT_NAMES)
            })?;
            export::render(&result, format, lang)
        }
    }
}

/// The language a result was reported in (`config.lang`; absent in older files).
fn run_lang(result: &RunResult) -> Option<Lang> {
    match result.config["lang"].as_str()? {
        "en" => Some(Lang::En),
        "zh" => Some(Lang::Zh),
        _ => None,
    }
}

/// `--trend`: each `--metric` over the runs labelled `--label`, as a text table, JSON or an
/// HTML chart.
fn trend(args: &ReportArgs) -> anyhow::Result<String> {
    let Some(label) = args.label.as_deref() else {
        anyhow::bail!("`report --trend` needs `--label NAME`: the runs to follow");
    };
    let db = history::db_for_command(args.db.as_deref())?;
    let history = History::open_existing(&db)?;
    // `--metric ttft.p50,e2e.p99`: one table (or chart) a metric.
    let metrics: Vec<&str> =
        args.metric.split(',').map(str::trim).filter(|m| !m.is_empty()).collect();
    let mut series = Vec::with_capacity(metrics.len());
    for metric in &metrics {
        series.push((*metric, history.trend(label, metric)?));
    }
    if series.iter().all(|(_, points)| points.is_empty()) {
        anyhow::bail!("no run labelled `{label}` in {}", db.display());
    }
    let lang = args.lang.unwrap_or_else(detect_lang);
    match args.format.trim().to_ascii_lowercase().as_str() {
        "text" | "terminal" => {
            let tables: Vec<String> = series
                .iter()
                .map(|(metric, points)| history::trend::render(lang, label, metric, points))
                .collect();
            Ok(tables.join("\n"))
        }
        "json" => trend_json(&series),
        "html" => {
            let trends: Vec<export::html::trend::Trend> = series
                .iter()
                .map(|(metric, points)| export::html::trend::Trend { metric, points })
                .collect();
            Ok(export::html::trend::render(label, &trends, lang, &export::generated_now()))
        }
        other => anyhow::bail!("`report --trend --format {other}`: use text, json or html"),
    }
}

/// One metric: its points as a JSON array; several: an object of arrays keyed by metric.
fn trend_json(series: &[(&str, Vec<TrendPoint>)]) -> anyhow::Result<String> {
    let by_metric: serde_json::Map<String, serde_json::Value> = series
        .iter()
        .map(|(metric, points)| Ok(((*metric).to_owned(), serde_json::to_value(points)?)))
        .collect::<serde_json::Result<_>>()?;
    match by_metric.len() {
        1 => Ok(format!("{}\n", serde_json::to_string_pretty(&series[0].1)?)),
        _ => Ok(format!("{}\n", serde_json::to_string_pretty(&by_metric)?)),
    }
}

/// To `-o PATH` (beside it under a new name when it exists; named on stderr), else to stdout.
fn deliver(text: &str, output: Option<&Path>) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            let written = report::json::write_new(path, text.as_bytes())?;
            crate::errln!("streamperf: written to {}", written.display());
        }
        None => crate::out!("{text}"),
    }
    Ok(())
}
