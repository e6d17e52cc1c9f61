//! Exports: the [`RunResult`] rendered in other formats (CSV, Markdown, HTML, Prometheus, JSON).
//!
//! One file a format. Every exporter is a pure function of the result: none re-measures,
//! none reads the clock. [`write_export`] writes a rendering the way the JSON result file is
//! written: atomically, and never over an existing file.

pub mod chart;
pub mod csv;
pub mod html;
pub mod markdown;
pub mod prometheus;
pub(crate) mod promtext;

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::i18n::Lang;

use crate::output::report::RunResult;

/// An output format for [`render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// The result file itself, pretty-printed.
    Json,
    /// One row per request.
    Csv,
    /// A GitHub-flavoured Markdown summary.
    Markdown,
    /// A self-contained HTML report with charts.
    Html,
    /// The summary in the Prometheus text exposition format 0.0.4.
    Prometheus,
}

impl ExportFormat {
    /// The format called `name` (`json`, `csv`, `md`/`markdown`, `html`, `prom`/`prometheus`;
    /// case-insensitive), or `None`.
    pub fn from_name(name: &str) -> Option<ExportFormat> {
        match name.trim().to_ascii_lowercase().as_str() {
            "json" => Some(ExportFormat::Json),
            "csv" => Some(ExportFormat::Csv),
            "md" | "markdown" => Some(ExportFormat::Markdown),
            "html" => Some(ExportFormat::Html),
            "prom" | "prometheus" => Some(ExportFormat::Prometheus),
            _ => None,
        }
    }

    /// The file extension of the format, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
            ExportFormat::Markdown => "md",
            ExportFormat::Html => "html",
            ExportFormat::Prometheus => "prom",
        }
    }
}

/// The formats `--export` and `report --format` accept, for messages.
pub const FORMAT_NAMES: &str = "json, csv, md, html or prom";

/// Renders `result` as `format`; `lang` is the language of the formats that have words
/// (HTML), and an HTML page is stamped with the current time.
pub fn render(result: &RunResult, format: ExportFormat, lang: Lang) -> anyhow::Result<String> {
    match format {
        ExportFormat::Json => {
            serde_json::to_string_pretty(result).context("cannot serialize the result")
        }
        ExportFormat::Csv => csv::render(result),
        ExportFormat::Markdown => Ok(markdown::render(result)),
        ExportFormat::Html => Ok(html::render(result, lang, &generated_now())),
        ExportFormat::Prometheus => Ok(prometheus::render(result)),
    }
}

/// The generation time written into an HTML report: local time with its offset.
pub(crate) fn generated_now() -> String {
    jiff::ZonedDateTime::now().strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// Writes `result` as `format` (in `lang`) to `path` atomically, or beside it under a
/// timestamped name when `path` exists (never overwriting, as the JSON result). Returns the
/// path written.
pub fn write_export(
    result: &RunResult,
    format: ExportFormat,
    lang: Lang,
    path: &Path,
) -> anyhow::Result<PathBuf> {
    crate::output::report::json::write_new(path, render(result, format, lang)?.as_bytes())
}

/// `text` on one line: line breaks become single spaces, blank lines vanish.
pub(crate) fn one_line(text: &str) -> String {
    let parts: Vec<&str> =
        text.split(['\r', '\n']).map(str::trim).filter(|part| !part.is_empty()).collect();
    parts.join(" ")
}

/// A two-request run (one success, one timeout) for the exporters' tests.
#[cfg(test)]
pub(crate) fn sample_result() -> RunResult {
    use std::time::Duration;

    use crate::analyse::metrics::Aggregator;
    use crate::measure::record::testing::{failed, ok};
    use crate::measure::record::{ErrorClass, Failure};

    let mut good = ok(1, Duration::from_millis(120), Duration::from_millis(900), 40);
    good.tpot = Some(Duration::from_millis(20));
    good.itl = vec![Duration::from_millis(15), Duration::from_millis(25)];
    let bad = failed(2, Failure::new(ErrorClass::Timeout, "timed out\nafter 30 s"));
    let mut aggregator = Aggregator::new();
    aggregator.add(&good);
    aggregator.add(&bad);
    RunResult {
        schema_version: crate::output::report::SCHEMA_VERSION,
        config: serde_json::json!({
            "url": "http://localhost:8000/v1/chat/completions",
            "timestamp": "2026-01-02T03:04:05",
            "body": {"model": "qwen-7b"},
        }),
        summary: aggregator.summary(Duration::from_secs(2)),
        metrics: vec![good, bad],
        ..RunResult::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_extensions_round_trip() {
        for format in [
            ExportFormat::Json,
            ExportFormat::Csv,
            ExportFormat::Markdown,
            ExportFormat::Html,
            ExportFormat::Prometheus,
        ] {
            assert_eq!(ExportFormat::from_name(format.extension()), Some(format));
        }
        assert_eq!(ExportFormat::from_name("Markdown"), Some(ExportFormat::Markdown));
        assert_eq!(ExportFormat::from_name("prometheus"), Some(ExportFormat::Prometheus));
        assert_eq!(ExportFormat::from_name("xml"), None);
    }

    #[test]
    fn html_renders_a_page_in_the_language_asked() {
        let en = render(&sample_result(), ExportFormat::Html, Lang::En).unwrap();
        assert!(en.starts_with("<!DOCTYPE html>") && en.contains("<html lang=\"en\">"));
        assert!(en.contains("data-chart=\"ttft-histogram\"") && en.ends_with("</html>\n"));
        let zh = render(&sample_result(), ExportFormat::Html, Lang::Zh).unwrap();
        assert!(zh.contains("<html lang=\"zh-CN\">") && zh.contains("压测报告"));
    }

    #[test]
    fn json_export_reads_back_as_the_same_result() {
        let result = sample_result();
        let json = render(&result, ExportFormat::Json, Lang::En).unwrap();
        let back: RunResult = serde_json::from_str(&json).unwrap();
        assert_eq!(back.summary, result.summary);
        assert_eq!(back.metrics.len(), 2);
    }

    #[test]
    fn write_export_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.md");
        std::fs::write(&path, "keep me").unwrap();
        let written =
            write_export(&sample_result(), ExportFormat::Markdown, Lang::En, &path).unwrap();
        assert_ne!(written, path);
        assert_eq!(written.extension().unwrap(), "md");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
        assert!(std::fs::read_to_string(&written).unwrap().contains("| TTFT |"));
    }

    #[test]
    fn one_line_joins_lines() {
        assert_eq!(one_line("a\r\n\n b \rc"), "a b c");
        assert_eq!(one_line(""), "");
    }
}
