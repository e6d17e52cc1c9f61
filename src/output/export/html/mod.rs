//! HTML: one self-contained report file of a run, in English or Chinese.
//!
//! Inline CSS and inline SVG (drawn by [`crate::output::export::chart`]); no script, no font, no
//! image, no request of any kind, so it opens offline and from an e-mail attachment alike.
//! Summary cards, the latency distributions, load over time, a sweep's curve, failures by
//! class, percentiles, how the run went and its (redacted) configuration.
//!
//! The page is a pure function of the result, the language and the generation time, which
//! is on one line of its own (`<footer data-generated=…>`): two renderings of one result differ
//! on that line only. Every text taken from the result is escaped.

mod charts;
mod sections;
mod shards;
pub mod trend;
mod words;

use std::fmt::Write as _;

use crate::i18n::Lang;
use crate::output::export::chart::escape;
use crate::output::report::RunResult;
pub use charts::MAX_TIME_POINTS;
use sections::{banners, cards, config, failures, header, percentiles, run_info};
use words::Words;

/// The stylesheet, inlined into every report.
const STYLE: &str = include_str!("style.css");

/// Longest failure example quoted, in characters.
const EXAMPLE_CHARS: usize = 300;

/// The marker of the generation-time line: the only line that differs between renderings.
pub const GENERATED_MARKER: &str = "data-generated=";

/// Renders `result` as a standalone HTML page in `lang`, stamped `generated_at`.
pub fn render(result: &RunResult, lang: Lang, generated_at: &str) -> String {
    let w = words::words(lang);
    let url = result.config["url"].as_str().unwrap_or_default();
    let mut out = page_start(w, url);
    out += &header(result, w);
    out += "<main>\n";
    out += &banners(result, lang, w);
    if let Some(last) = result.levels.last() {
        let note = w.last_level_note.replace("{}", &last.label());
        let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(&note));
    }
    out += &cards(result, w);
    out += &charts::distributions(result, w);
    out += &charts::lengths(result, w);
    out += &charts::over_time(result, w);
    out += &charts::sweep(result, w);
    out += &failures(&result.summary, w);
    out += &percentiles(&result.summary, w);
    out += &shards::shards(result, w);
    out += &run_info(result, w);
    out += &config(result, w);
    out += &page_end(w, generated_at);
    out
}

/// The page up to `<body>`: the head with the inline stylesheet, titled `streamperf · {title}`.
pub(crate) fn page_start(w: &Words, title: &str) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>streamperf · {}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        w.html_lang,
        escape(title)
    );
    out
}

/// The end of `<main>` and of the page, with the generation-time line.
pub(crate) fn page_end(w: &Words, generated_at: &str) -> String {
    // One line, nothing else on it: see GENERATED_MARKER.
    format!(
        "</main>\n<footer {GENERATED_MARKER}\"{0}\">{1} streamperf {2} {3} {0}</footer>\n\
         </body>\n</html>\n",
        escape(generated_at),
        w.generated_by,
        env!("CARGO_PKG_VERSION"),
        w.generated_at
    )
}

/// A section being written: a title, then its content.
pub(crate) struct Html {
    out: String,
}

impl Html {
    /// A `<section>` titled `title`.
    fn section(title: &str) -> Self {
        Html { out: format!("<section>\n<h2>{}</h2>\n", escape(title)) }
    }

    fn push(&mut self, html: &str) {
        self.out.push_str(html);
        self.out.push('\n');
    }

    /// A chart with its caption.
    fn figure(&mut self, caption: &str, svg: &str) {
        let _ = writeln!(
            self.out,
            "<figure class=\"panel\"><figcaption>{}</figcaption>\n{svg}\n</figure>",
            escape(caption)
        );
    }

    /// A small explanatory paragraph.
    fn note(&mut self, text: &str) {
        let _ = writeln!(self.out, "<p class=\"note\">{}</p>", escape(text));
    }

    fn end(mut self) -> String {
        self.out.push_str("</section>\n");
        self.out
    }
}

/// Seconds as `850 ms`, `12.3 ms` or `1.24 s`.
pub(crate) fn duration(secs: f64) -> String {
    match secs {
        s if !s.is_finite() => "—".into(),
        s if s >= 1.0 => format!("{s:.2} s"),
        s if s * 1000.0 >= 100.0 => format!("{:.0} ms", s * 1000.0),
        s if s * 1000.0 >= 10.0 => format!("{:.1} ms", s * 1000.0),
        s => format!("{:.2} ms", s * 1000.0),
    }
}

#[cfg(test)]
mod tests;
