//! The terminal report, in the original tool's layout, English or Chinese.
//!
//! The original tool's sections come first and keep its wording and alignment (values start at
//! display column 15, CJK characters counting two); the new metrics follow. A section with no
//! data is left out, so a run where every request failed shows only the overall counts and
//! failures. [`render`] here puts the sections in order; `sections.rs` and `load.rs` write them,
//! one function each; `page.rs` holds the layout they share.

mod load;
mod page;
mod sections;
mod shards;

use std::path::PathBuf;

use crate::i18n::Lang;
use crate::i18n::words;
use crate::output::report::RunResult;
use page::Report;

/// What the report needs beyond the [`RunResult`].
#[derive(Debug, Clone, Default)]
pub struct ReportInfo {
    /// The target URL, secrets already redacted.
    pub url: String,
    /// The stream format the responses were read with (`openai-chat`, `sse/dify`, `raw`, …),
    /// when known.
    pub detected_format: Option<String>,
    /// Where the result file was written, when it was.
    pub result_path: Option<PathBuf>,
}

/// Width of the original tool's `=` rules.
const RULE_WIDTH: usize = 60;

/// Renders the final report of `result`.
pub fn render(result: &RunResult, lang: Lang, info: &ReportInfo) -> String {
    let w = words(lang);
    let mut out = Report { out: String::new(), w };
    let rule = "=".repeat(RULE_WIDTH);
    out.line(&rule);
    out.line(w.title);
    out.line(&rule);
    sections::overall(&mut out, result, info);
    sections::connections(&mut out, result);
    load::load_section(&mut out, result, &info.url);
    shards::shards(&mut out, result);
    let s = &result.summary;
    sections::seed_latencies(&mut out, s);
    sections::first_byte_and_answer(&mut out, s);
    sections::output_tokens(&mut out, result);
    sections::lengths(&mut out, s);
    sections::sessions(&mut out, s);
    sections::tokens_per_second(&mut out, s);
    sections::gaps(&mut out, s);
    load::sweep_table(&mut out, result);
    sections::slos(&mut out, result);
    sections::failures(&mut out, s);
    out.line("");
    out.line(&rule);
    if let Some(path) = &info.result_path {
        out.line(&format!("{}: {}", w.saved_to, path.display()));
    }
    if let Some(records) = &result.records {
        let template = if records.truncated() { w.records_truncated } else { w.records_saved };
        let line = template
            .replace("{file}", &records.file)
            .replace("{n}", &records.in_result.to_string())
            .replace("{total}", &records.total.to_string());
        out.line(&line);
    }
    out.out
}

/// `text` on one line (an HTTP body may hold newlines), cut to `max` characters.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let flat: String =
        text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(max + 1).collect();
    if flat.chars().count() > max {
        let mut cut: String = flat.chars().take(max).collect();
        cut.push('…');
        cut
    } else {
        flat
    }
}

/// Terminal columns of `s`: East Asian wide characters take two (Unicode UAX #11).
pub(crate) fn display_width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

#[cfg(test)]
mod tests;
