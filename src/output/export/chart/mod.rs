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

mod draw;
mod scale;

use std::fmt::Write as _;

use crate::analyse::metrics::Bucket;
pub use draw::escape;
use draw::{Plot, colour_of, empty, fits, legend};

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

#[cfg(test)]
mod tests;
