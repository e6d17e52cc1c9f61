//! The page layout: the [`Report`] being written (lines, section titles, label rows at the
//! seed's column, side-by-side columns) and the comparisons that decide whether two
//! distributions print alike. Apart from the sections so alignment rules live in one place.

use std::fmt::Write as _;

use super::display_width;
use crate::analyse::metrics::{Stats, Summary};
use crate::i18n::Words;

/// Display columns of a label and its padding, after the two-space indent (the original tool's).
const LABEL_WIDTH: usize = 13;

/// The report being written, with its language's words.
pub(super) struct Report {
    pub(super) out: String,
    pub(super) w: &'static Words,
}

impl Report {
    pub(super) fn line(&mut self, text: &str) {
        self.out.push_str(text);
        self.out.push('\n');
    }

    pub(super) fn section(&mut self, title: &str) {
        let _ = write!(self.out, "\n{}{title}{}\n", self.w.open, self.w.close);
    }

    /// `  label:      value`, the value at the original tool's column.
    pub(super) fn row(&mut self, label: &str, value: String) {
        let pad = LABEL_WIDTH.saturating_sub(display_width(label) + 1).max(1);
        let _ = writeln!(self.out, "  {label}:{}{value}", " ".repeat(pad));
    }

    /// The original tool's TTFT block: min, max, mean, median, stddev (from two values on, as the
    /// original tool), P50, P90, P95, P99, in seconds.
    pub(super) fn full_secs(&mut self, t: &Stats) {
        let secs = |v: f64| format!("{v:.3}s");
        self.row(self.w.min, secs(t.min));
        self.row(self.w.max, secs(t.max));
        self.row(self.w.mean, secs(t.mean));
        self.row(self.w.median, secs(t.median));
        if t.count > 1 {
            self.row(self.w.stddev, secs(t.stddev));
        }
        for (name, v) in [("P50", t.p50), ("P90", t.p90), ("P95", t.p95), ("P99", t.p99)] {
            self.row(name, secs(v));
        }
    }

    /// A header line over [`columns`] values.
    pub(super) fn columns<const N: usize>(&mut self, titles: [&str; N]) {
        let indent = " ".repeat(LABEL_WIDTH + 2);
        self.line(&format!("{indent}{}", columns(titles.map(str::to_owned)).trim_end()));
    }

    /// Mean, P50, P90, P99: the short block of the new latency metrics.
    pub(super) fn brief(&mut self, t: &Stats, unit: impl Fn(f64) -> String) {
        self.row(self.w.mean, unit(t.mean));
        for (name, v) in [("P50", t.p50), ("P90", t.p90), ("P99", t.p99)] {
            self.row(name, unit(v));
        }
    }
}

/// `n` as a percentage of all requests (0 without any).
pub(super) fn percent(n: u64, s: &Summary) -> f64 {
    if s.total_requests == 0 { 0.0 } else { n as f64 * 100.0 / s.total_requests as f64 }
}

/// Whether two distributions would print the same (to the microsecond).
pub(super) fn same(a: &Stats, b: &Stats) -> bool {
    let fields = |s: &Stats| [s.min, s.max, s.mean, s.p50, s.p90, s.p99];
    a.count == b.count && fields(a).iter().zip(fields(b)).all(|(x, y)| (x - y).abs() < 1e-6)
}

/// Width of one value column in side-by-side sections (display columns).
const COLUMN_WIDTH: usize = 12;

/// Values in columns of [`COLUMN_WIDTH`], CJK characters counting two.
pub(super) fn columns<const N: usize>(values: [String; N]) -> String {
    let mut out = String::new();
    for value in values {
        let pad = COLUMN_WIDTH.saturating_sub(display_width(&value)).max(1);
        let _ = write!(out, "{value}{}", " ".repeat(pad));
    }
    out.trim_end().to_owned()
}

/// P50, P90, P95, P99 of two distributions, side by side.
pub(super) fn quantiles(a: &Stats, b: &Stats) -> [(&'static str, f64, f64); 4] {
    [("P50", a.p50, b.p50), ("P90", a.p90, b.p90), ("P95", a.p95, b.p95), ("P99", a.p99, b.p99)]
}
