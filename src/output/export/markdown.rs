//! Markdown: a compact GitHub-flavoured summary of a run, for pull requests and chat.
//!
//! A title (URL and timestamp), the headline numbers, a latency table in milliseconds,
//! failures by class, and a table per sweep level. Missing values show as `—`.

use crate::analyse::metrics::{Stats, Summary};
use crate::output::export::one_line;
use crate::output::report::{LevelResult, RunResult};

/// Shown where a value was not measured.
const MISSING: &str = "—";

/// Longest failure example quoted, in characters.
const EXAMPLE_CHARS: usize = 80;

/// Renders `result` as a Markdown summary.
pub fn render(result: &RunResult) -> String {
    let mut out = title(result);
    out += &headline(&result.summary);
    out += &latency(&result.summary);
    out += &failures(&result.summary);
    if !result.levels.is_empty() {
        out += &levels(&result.levels);
    }
    out
}

/// `## streamperf: `url`` and the run's timestamp.
fn title(result: &RunResult) -> String {
    let field = |key: &str| result.config[key].as_str().unwrap_or(MISSING).to_string();
    format!("## streamperf: `{}`\n\n_{}_\n", field("url").replace('`', "'"), field("timestamp"))
}

/// The headline numbers as a one-row table.
fn headline(s: &Summary) -> String {
    let header = ["Requests", "Succeeded", "Failed", "Duration", "Throughput", "Output tokens/s"];
    let row = [
        s.total_requests.to_string(),
        s.success_count.to_string(),
        s.failed_count.to_string(),
        format!("{:.2} s", s.duration),
        format!("{:.2} req/s", s.throughput),
        format!("{:.1}", s.output_token_throughput),
    ];
    table(&header, &[row.to_vec()])
}

/// P50/P90/P95/P99 of the latency metrics, in milliseconds.
fn latency(s: &Summary) -> String {
    let metrics = [
        ("TTFT", &s.ttft),
        ("TTFAT", &s.ttfat),
        ("E2E", &s.total_time),
        ("ITL", &s.itl),
        ("TPOT", &s.tpot),
    ];
    let rows: Vec<Vec<String>> = metrics
        .iter()
        .map(|(name, stats)| {
            let mut row = vec![name.to_string()];
            row.extend(quantiles(stats.as_ref()).map(|v| ms(Some(v))));
            row
        })
        .collect();
    table(&["Latency (ms)", "P50", "P90", "P95", "P99"], &rows)
}

/// The four quantiles of `stats`, or NaN (shown as missing) when there are none.
fn quantiles(stats: Option<&Stats>) -> [f64; 4] {
    stats.map_or([f64::NAN; 4], |s| [s.p50, s.p90, s.p95, s.p99])
}

/// Failure counts by class with a first example; empty when nothing failed.
fn failures(s: &Summary) -> String {
    if s.failures.is_empty() {
        return String::new();
    }
    let rows: Vec<Vec<String>> = s
        .failures
        .iter()
        .map(|(class, count)| {
            let example = s.failure_examples.get(class).map(|e| shorten(&one_line(e)));
            vec![class.as_str().to_string(), count.to_string(), example.unwrap_or_default()]
        })
        .collect();
    table(&["Failure", "Count", "Example"], &rows)
}

/// One row per sweep level.
fn levels(levels: &[LevelResult]) -> String {
    let with_goodput = levels.iter().any(|l| l.summary.goodput.is_some());
    let rows: Vec<Vec<String>> = levels
        .iter()
        .map(|level| {
            let s = &level.summary;
            let mut row = vec![
                level.label(),
                format!("{:.2}", s.throughput),
                ms(s.ttft.as_ref().map(|t| t.p50)),
                ms(s.ttft.as_ref().map(|t| t.p99)),
                ms(s.tpot.as_ref().map(|t| t.p50)),
                s.failed_count.to_string(),
            ];
            if with_goodput {
                row.push(s.goodput.map_or(MISSING.to_string(), |g| format!("{g:.2}")));
            }
            row
        })
        .collect();
    let mut header =
        vec!["Level", "req/s", "TTFT P50 (ms)", "TTFT P99 (ms)", "TPOT P50 (ms)", "Errors"];
    if with_goodput {
        header.push("Goodput (req/s)");
    }
    table(&header, &rows)
}

/// Seconds as milliseconds with one decimal, or [`MISSING`].
fn ms(secs: Option<f64>) -> String {
    match secs.filter(|v| v.is_finite()) {
        Some(v) => format!("{:.1}", v * 1000.0),
        None => MISSING.to_string(),
    }
}

/// At most [`EXAMPLE_CHARS`] characters of `text`, with `…` when cut.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(EXAMPLE_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// A GitHub table, preceded by a blank line; cells have `|` escaped.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    let mut out = String::from("\n");
    out += &line(header.iter().map(|h| cell(h)).collect());
    out += &line(header.iter().map(|_| "---".to_string()).collect());
    for row in rows {
        out += &line(row.iter().map(|c| cell(c)).collect());
    }
    out
}

/// A table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::export::sample_result;
    use crate::output::report::RunInfo;
    use crate::output::report::SweepOver;

    /// Cells of a table row, honouring `\|` escapes.
    fn cells(line: &str) -> Vec<String> {
        let inner = line.trim().strip_prefix('|').unwrap().strip_suffix('|').unwrap();
        inner.replace("\\|", "\u{0}").split('|').map(|c| c.trim().replace('\u{0}', "|")).collect()
    }

    /// Every table of `text`: its rows (header, separator, body) as cells.
    fn tables(text: &str) -> Vec<Vec<Vec<String>>> {
        let mut out: Vec<Vec<Vec<String>>> = Vec::new();
        let mut in_table = false;
        for line in text.lines() {
            if line.starts_with('|') {
                if !in_table {
                    out.push(Vec::new());
                }
                out.last_mut().unwrap().push(cells(line));
            }
            in_table = line.starts_with('|');
        }
        out
    }

    fn row<'a>(tables: &'a [Vec<Vec<String>>], first: &str) -> &'a [String] {
        tables.iter().flatten().find(|r| r[0] == first).unwrap()
    }

    #[test]
    fn every_row_has_the_headers_column_count() {
        let mut result = sample_result();
        result.metrics[1].error = Some("a | b".into());
        result.summary.failure_examples.values_mut().for_each(|e| *e = "x | y\nz".into());
        let text = render(&result);
        let tables = tables(&text);
        assert_eq!(tables.len(), 3, "headline, latency, failures:\n{text}");
        for table in &tables {
            assert!(table.len() >= 3, "header, separator and a row");
            assert!(table.iter().all(|r| r.len() == table[0].len()), "{table:?}");
            assert!(table[1].iter().all(|c| c == "---"));
        }
        assert_eq!(row(&tables, "timeout")[2], "x | y z");
    }

    #[test]
    fn values_appear_in_the_right_cells() {
        let text = render(&sample_result());
        assert!(text.starts_with("## streamperf: `http://localhost:8000/v1/chat/completions`"));
        assert!(text.contains("_2026-01-02T03:04:05_"));
        let tables = tables(&text);
        assert_eq!(tables[0][2], ["2", "1", "1", "2.00 s", "0.50 req/s", "20.0"]);
        assert_eq!(row(&tables, "TTFT")[1..], ["120.0"; 4]);
        assert_eq!(row(&tables, "TPOT")[4], "20.0");
        assert_eq!(row(&tables, "ITL")[1], "15.0");
        assert_eq!(row(&tables, "timeout")[1], "1");
    }

    #[test]
    fn missing_metrics_show_a_dash_and_no_failures_no_table() {
        let mut result = sample_result();
        result.summary.ttfat = None;
        result.summary.failures.clear();
        let text = render(&result);
        let tables = tables(&text);
        assert_eq!(row(&tables, "TTFAT")[1..], [MISSING; 4]);
        assert_eq!(tables.len(), 2);
        assert!(!text.contains("NaN"));
    }

    #[test]
    fn a_sweep_gets_a_row_per_level() {
        let mut result = sample_result();
        let summary = result.summary.clone();
        result.levels = [2.0, 8.0]
            .map(|p| {
                LevelResult::new(
                    SweepOver::Concurrency,
                    p,
                    &summary,
                    &RunInfo::default(),
                    &None,
                    &[],
                )
            })
            .to_vec();
        let text = render(&result);
        let all = tables(&text);
        assert_eq!(all.len(), 4);
        let sweep = all.last().unwrap();
        assert_eq!(sweep.len(), 4, "header, separator, two levels");
        assert_eq!(sweep[2], ["p=2", "0.50", "120.0", "120.0", "20.0", "1"]);
        assert_eq!(sweep[3][0], "p=8");

        result.levels[0].summary.goodput = Some(0.25);
        let with_slos = tables(&render(&result));
        let sweep = with_slos.last().unwrap();
        assert_eq!(sweep[0].last().unwrap(), "Goodput (req/s)", "with SLOs");
        assert_eq!(sweep[2].last().unwrap(), "0.25");
        assert_eq!(sweep[3].last().unwrap(), MISSING);
    }

    #[test]
    fn long_examples_are_cut_on_a_char_boundary() {
        let long = "错".repeat(100);
        let short = shorten(&long);
        assert_eq!(short.chars().count(), EXAMPLE_CHARS + 1);
        assert!(short.ends_with('…'));
    }
}
