//! SVG charts as strings: line charts of several `(x, y)` series, histograms and CDF steps,
//! with axes, ticks, axis labels and a legend. Pure functions of their input (no clock, no
//! randomness, fixed number formatting), so a chart renders byte-identically every time.
//!
//! The SVG is self-contained: colours and fonts are attributes, not page CSS, so a chart
//! reads the same pasted anywhere. Each chart is an `<svg data-chart="ID">`; every element that
//! draws data has the class `data` (a test can count them), and a chart without data shows
//! its `empty` message and carries `data-empty="true"` instead.
//!
//! ```
//! use streamperf::export::chart::{Axis, Frame, Series, line_chart};
//! let ms = |v: f64| format!("{:.0}", v * 1000.0);
//! let count = |v: f64| format!("{v}");
//! let frame = Frame::new("ttft-trend", Axis::linear("run", &count), Axis::linear("ms", &ms));
//! let svg = line_chart(&frame, &[Series::line("TTFT P50", vec![(1.0, 0.2), (2.0, 0.25)])], &[]);
//! assert!(svg.starts_with("<svg") && svg.contains("class=\"data"));
//! ```

mod scale;

use std::fmt::Write as _;

use crate::analyse::metrics::Bucket;
use scale::Mapping;

/// The view box: charts scale with their container (width 100 %), this is their aspect.
pub const WIDTH: f64 = 640.0;
/// See [`WIDTH`].
pub const HEIGHT: f64 = 300.0;

/// Plot area inside the view box: room for the legend above, tick labels left and below.
const LEFT: f64 = 62.0;
const RIGHT: f64 = 18.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 46.0;

/// Series colours, in order (colour-blind-safe, readable on white).
pub const PALETTE: [&str; 6] = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2"];

/// Colour of axes, ticks and grid.
const INK: &str = "#64748b";
const GRID: &str = "#e2e8f0";

/// How an axis maps values to positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Equal distances for equal differences; the domain is widened to round ticks.
    Linear,
    /// Equal distances for equal ratios; ticks at 1, 2, 5 × 10ᵏ. Values ≤ 0 are left out.
    Log,
}

/// One axis: its label, scale and how tick values are written.
pub struct Axis<'a> {
    /// Shown beside the axis (with the unit, e.g. `TTFT (ms)`).
    pub label: &'a str,
    /// Linear or logarithmic.
    pub scale: Scale,
    /// Writes a tick value (e.g. seconds as milliseconds).
    pub format: &'a dyn Fn(f64) -> String,
    /// Linear only: values the domain must include besides the data (0 for counts and
    /// rates, the run's length for a time axis).
    pub include: &'a [f64],
}

impl<'a> Axis<'a> {
    /// A linear axis whose domain fits the data.
    pub fn linear(label: &'a str, format: &'a dyn Fn(f64) -> String) -> Self {
        Axis { label, scale: Scale::Linear, format, include: &[] }
    }

    /// A linear axis starting at 0.
    pub fn zero(label: &'a str, format: &'a dyn Fn(f64) -> String) -> Self {
        Axis { include: &[0.0], ..Axis::linear(label, format) }
    }

    /// A logarithmic axis.
    pub fn log(label: &'a str, format: &'a dyn Fn(f64) -> String) -> Self {
        Axis { scale: Scale::Log, ..Axis::linear(label, format) }
    }
}

/// What every chart has: an id, two axes and the message shown without data.
pub struct Frame<'a> {
    /// The `data-chart` attribute (`ttft-histogram`, …).
    pub id: &'a str,
    /// Horizontal axis.
    pub x: Axis<'a>,
    /// Vertical axis.
    pub y: Axis<'a>,
    /// Shown in place of the plot when there is nothing to draw.
    pub empty: &'a str,
}

impl<'a> Frame<'a> {
    /// A frame with the English empty-state message `No data`.
    pub fn new(id: &'a str, x: Axis<'a>, y: Axis<'a>) -> Self {
        Frame { id, x, y, empty: "No data" }
    }
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Points joined by straight lines (a dot on each when there are few).
    Line,
    /// A staircase: each value holds until the next point (a CDF).
    Step,
    /// Dots only.
    Dots,
}

/// One named series of points, drawn in `PALETTE[index]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Series<'a> {
    /// Legend text.
    pub name: &'a str,
    /// `(x, y)` in data units, in x order for lines and steps.
    pub points: Vec<(f64, f64)>,
    /// Line, step or dots.
    pub shape: Shape,
    /// Optional text beside each point (same length as `points`, or empty).
    pub labels: Vec<String>,
    /// A CSS colour; `None` takes the series' place in [`PALETTE`].
    pub colour: Option<&'a str>,
}

impl<'a> Series<'a> {
    /// A line through `points`.
    pub fn line(name: &'a str, points: Vec<(f64, f64)>) -> Self {
        Series { name, points, shape: Shape::Line, labels: Vec::new(), colour: None }
    }

    /// A staircase through `points`.
    pub fn step(name: &'a str, points: Vec<(f64, f64)>) -> Self {
        Series { shape: Shape::Step, ..Series::line(name, points) }
    }
}

/// A highlighted point with a caption (e.g. a sweep's knee).
#[derive(Debug, Clone, PartialEq)]
pub struct Mark<'a> {
    /// Position in data units.
    pub x: f64,
    /// See [`Mark::x`].
    pub y: f64,
    /// Caption.
    pub text: &'a str,
}

/// Up to this many points a line also gets a dot on each point.
const DOTS_UP_TO: usize = 40;

/// A line chart of `series` on `frame`'s axes, with `marks` highlighted. Non-finite points (and
/// points ≤ 0 on a log axis) are left out; a series left empty is not drawn, and a chart
/// with no points at all shows `frame.empty`.
pub fn line_chart(frame: &Frame, series: &[Series], marks: &[Mark]) -> String {
    let kept: Vec<Vec<(f64, f64)>> = series
        .iter()
        .map(|s| s.points.iter().copied().filter(|&p| fits(frame, p)).collect())
        .collect();
    let all: Vec<(f64, f64)> = kept.iter().flatten().copied().collect();
    if all.is_empty() {
        return empty(frame);
    }
    let plot = Plot::new(frame, all.iter().map(|p| p.0), all.iter().map(|p| p.1));
    let mut out = plot.open(frame);
    for (index, (s, points)) in series.iter().zip(&kept).enumerate() {
        if points.is_empty() {
            continue;
        }
        let colour = escape(colour_of(s, index));
        let name = escape(s.name);
        if s.shape != Shape::Dots {
            let d = plot.path(points, s.shape == Shape::Step);
            let _ = write!(
                out,
                "<path class=\"data line\" data-series=\"{name}\" d=\"{d}\" fill=\"none\" \
                 stroke=\"{colour}\" stroke-width=\"2\" stroke-linejoin=\"round\"/>"
            );
        }
        if s.shape == Shape::Dots || (s.shape == Shape::Line && points.len() <= DOTS_UP_TO) {
            for (i, &(x, y)) in points.iter().enumerate() {
                let (px, py) = plot.at(x, y);
                let tip = format!("{}: {}, {}", s.name, (frame.x.format)(x), (frame.y.format)(y));
                let _ = write!(
                    out,
                    "<circle class=\"data dot\" cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"3\" \
                     fill=\"{colour}\"><title>{}</title></circle>",
                    escape(&tip)
                );
                if let Some(label) = s.labels.get(i) {
                    let _ = write!(
                        out,
                        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"{INK}\">{}</text>",
                        px + 5.0,
                        py - 6.0,
                        escape(label)
                    );
                }
            }
        }
    }
    for mark in marks.iter().filter(|m| fits(frame, (m.x, m.y))) {
        let (px, py) = plot.at(mark.x, mark.y);
        let _ = write!(
            out,
            "<circle class=\"mark\" cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"7\" fill=\"none\" \
             stroke=\"#dc2626\" stroke-width=\"2\"/><text x=\"{:.1}\" y=\"{:.1}\" \
             font-size=\"11\" font-weight=\"600\" fill=\"#dc2626\">{}</text>",
            px + 9.0,
            py + 14.0,
            escape(mark.text)
        );
    }
    let entries: Vec<(&str, &str)> = series
        .iter()
        .zip(&kept)
        .enumerate()
        .filter(|(_, (_, points))| !points.is_empty())
        .map(|(index, (s, _))| (s.name, colour_of(s, index)))
        .collect();
    out += &legend(&entries);
    out += "</svg>";
    out
}

/// A histogram: one bar per bucket, from its `lo` to its `hi`, as high as its count.
/// Buckets of zero width (all values equal) get a visible sliver.
pub fn histogram(frame: &Frame, buckets: &[Bucket]) -> String {
    let bars: Vec<&Bucket> =
        buckets.iter().filter(|b| fits(frame, (b.lo, 1.0)) && fits(frame, (b.hi, 1.0))).collect();
    if bars.iter().all(|b| b.count == 0) {
        return empty(frame);
    }
    let xs = bars.iter().flat_map(|b| [b.lo, b.hi]);
    let ys = bars.iter().map(|b| b.count as f64).chain([0.0]);
    let plot = Plot::new(frame, xs, ys);
    let mut out = plot.open(frame);
    for bar in bars.iter().filter(|b| b.count > 0) {
        let (x0, y0) = plot.at(bar.lo, bar.count as f64);
        let (x1, base) = plot.at(bar.hi, 0.0);
        // A 1 px gap between neighbours; at least 2 px wide so a narrow bucket shows.
        let width = (x1 - x0 - 1.0).max(2.0);
        let tip =
            format!("{} – {}: {}", (frame.x.format)(bar.lo), (frame.x.format)(bar.hi), bar.count);
        let _ = write!(
            out,
            "<rect class=\"data bar\" x=\"{x0:.1}\" y=\"{y0:.1}\" width=\"{width:.1}\" \
             height=\"{:.1}\" fill=\"{}\" rx=\"1\"><title>{}</title></rect>",
            (base - y0).max(1.0),
            PALETTE[0],
            escape(&tip)
        );
    }
    out += "</svg>";
    out
}

/// The cumulative share (0–1) at each bucket's upper edge, starting from 0 at the first
/// bucket's lower edge: a CDF as precise as the buckets, for [`Series::step`].
pub fn cdf_points(buckets: &[Bucket]) -> Vec<(f64, f64)> {
    let total: u64 = buckets.iter().map(|b| b.count).sum();
    let Some(first) = buckets.first().filter(|_| total > 0) else {
        return Vec::new();
    };
    let mut seen = 0;
    let mut points = vec![(first.lo, 0.0)];
    for bucket in buckets {
        seen += bucket.count;
        points.push((bucket.hi, seen as f64 / total as f64));
    }
    points
}

/// Whether `(x, y)` can be drawn on `frame`'s axes.
fn fits(frame: &Frame, (x, y): (f64, f64)) -> bool {
    let ok = |v: f64, axis: &Axis| v.is_finite() && (axis.scale == Scale::Linear || v > 0.0);
    ok(x, &frame.x) && ok(y, &frame.y)
}

/// The empty state: the frame's size and id, its message in the middle.
fn empty(frame: &Frame) -> String {
    format!(
        "{}<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{:.0}\" height=\"{:.0}\" fill=\"#f8fafc\" \
         stroke=\"{GRID}\"/><text class=\"empty\" x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\" \
         font-size=\"14\" fill=\"{INK}\">{}</text></svg>",
        svg_open(frame.id, true),
        WIDTH - LEFT - RIGHT,
        HEIGHT - TOP - BOTTOM,
        LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
        TOP + (HEIGHT - TOP - BOTTOM) / 2.0,
        escape(frame.empty)
    )
}

fn svg_open(id: &str, empty: bool) -> String {
    format!(
        "<svg data-chart=\"{}\"{} viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" font-family=\"system-ui, -apple-system, \
         'Segoe UI', 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', 'WenQuanYi Micro Hei', sans-serif\" font-size=\"11\">",
        escape(id),
        if empty { " data-empty=\"true\"" } else { "" }
    )
}

/// The colour of the `index`th series.
fn colour_of<'a>(series: &Series<'a>, index: usize) -> &'a str {
    series.colour.unwrap_or(PALETTE[index % PALETTE.len()])
}

/// Legend entries (name, colour) in one row above the plot, right-aligned; none for a single
/// series, which the axis label names.
fn legend(entries: &[(&str, &str)]) -> String {
    if entries.len() < 2 {
        return String::new();
    }
    // Width from the text: CJK characters are about twice as wide as Latin ones.
    let width = |name: &str| {
        name.chars().map(|c| if c.is_ascii() { 6.2 } else { 11.0 }).sum::<f64>() + 26.0
    };
    let mut x = WIDTH - RIGHT - entries.iter().map(|(n, _)| width(n)).sum::<f64>();
    let mut out = String::new();
    for &(name, colour) in entries {
        let colour = escape(colour);
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"10\" width=\"14\" height=\"4\" rx=\"2\" fill=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"16\" fill=\"#334155\">{}</text>",
            x + 18.0,
            escape(name)
        );
        x += width(name);
    }
    out
}

/// A data range mapped onto the plot area, with its ticks.
struct Plot {
    x: Mapping,
    y: Mapping,
}

impl Plot {
    fn new(frame: &Frame, xs: impl Iterator<Item = f64>, ys: impl Iterator<Item = f64>) -> Plot {
        Plot {
            x: Mapping::new(&frame.x, xs, LEFT, WIDTH - RIGHT),
            y: Mapping::new(&frame.y, ys, HEIGHT - BOTTOM, TOP),
        }
    }

    fn at(&self, x: f64, y: f64) -> (f64, f64) {
        (self.x.position(x), self.y.position(y))
    }

    /// An SVG path through `points`; a staircase when `step`.
    fn path(&self, points: &[(f64, f64)], step: bool) -> String {
        let mut d = String::with_capacity(points.len() * 16);
        for (i, &(x, y)) in points.iter().enumerate() {
            let (px, py) = self.at(x, y);
            let _ = match (i, step) {
                (0, _) => write!(d, "M{px:.1} {py:.1}"),
                // Across at the old value, then up: the value holds until the next point.
                (_, true) => write!(d, "H{px:.1}V{py:.1}"),
                (_, false) => write!(d, "L{px:.1} {py:.1}"),
            };
        }
        d
    }

    /// The `<svg>` start, grid lines, ticks and axis labels.
    fn open(&self, frame: &Frame) -> String {
        let mut out = svg_open(frame.id, false);
        let (x0, x1, y0, y1) = (LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM, TOP);
        for tick in &self.y.ticks {
            let py = self.y.position(*tick);
            let _ = write!(
                out,
                "<line x1=\"{x0}\" x2=\"{x1}\" y1=\"{py:.1}\" y2=\"{py:.1}\" stroke=\"{GRID}\"/>\
                 <text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"{INK}\">{}</text>",
                x0 - 6.0,
                py + 3.5,
                escape(&(frame.y.format)(*tick))
            );
        }
        for tick in &self.x.ticks {
            let px = self.x.position(*tick);
            let _ = write!(
                out,
                "<line x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{y0}\" y2=\"{:.0}\" stroke=\"{INK}\"/>\
                 <text x=\"{px:.1}\" y=\"{:.0}\" text-anchor=\"middle\" fill=\"{INK}\">{}</text>",
                y0 + 4.0,
                y0 + 16.0,
                escape(&(frame.x.format)(*tick))
            );
        }
        let _ = write!(
            out,
            "<line x1=\"{x0}\" x2=\"{x1}\" y1=\"{y0}\" y2=\"{y0}\" stroke=\"{INK}\"/>\
             <text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\" fill=\"#334155\">{}</text>\
             <text transform=\"translate(14 {:.0}) rotate(-90)\" text-anchor=\"middle\" \
             fill=\"#334155\">{}</text>",
            (x0 + x1) / 2.0,
            HEIGHT - 8.0,
            escape(frame.x.label),
            (y0 + y1) / 2.0,
            escape(frame.y.label)
        );
        out
    }
}

/// `text` safe inside HTML and SVG text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
