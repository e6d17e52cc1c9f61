//! The SVG every chart shares: the opening tag, the plot area with its axes, ticks and grid
//! (`Plot`), the legend, the empty state, series colours and text escaping.

use std::fmt::Write as _;

use super::scale::Mapping;
use super::{
    Axis, BOTTOM, Frame, GRID, HEIGHT, INK, LEFT, PALETTE, RIGHT, Scale, Series, TOP, WIDTH,
};

/// Whether `(x, y)` can be drawn on `frame`'s axes.
pub(super) fn fits(frame: &Frame, (x, y): (f64, f64)) -> bool {
    let ok = |v: f64, axis: &Axis| v.is_finite() && (axis.scale == Scale::Linear || v > 0.0);
    ok(x, &frame.x) && ok(y, &frame.y)
}

/// The empty state: the frame's size and id, its message in the middle.
pub(super) fn empty(frame: &Frame) -> String {
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

pub(super) fn svg_open(id: &str, empty: bool) -> String {
    format!(
        "<svg data-chart=\"{}\"{} viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" font-family=\"system-ui, -apple-system, \
         'Segoe UI', 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', 'WenQuanYi Micro Hei', sans-serif\" font-size=\"11\">",
        escape(id),
        if empty { " data-empty=\"true\"" } else { "" }
    )
}

/// The colour of the `index`th series.
pub(super) fn colour_of<'a>(series: &Series<'a>, index: usize) -> &'a str {
    series.colour.unwrap_or(PALETTE[index % PALETTE.len()])
}

/// Legend entries (name, colour) in one row above the plot, right-aligned; none for a single
/// series, which the axis label names.
pub(super) fn legend(entries: &[(&str, &str)]) -> String {
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
pub(super) struct Plot {
    x: Mapping,
    y: Mapping,
}

impl Plot {
    pub(super) fn new(
        frame: &Frame,
        xs: impl Iterator<Item = f64>,
        ys: impl Iterator<Item = f64>,
    ) -> Plot {
        Plot {
            x: Mapping::new(&frame.x, xs, LEFT, WIDTH - RIGHT),
            y: Mapping::new(&frame.y, ys, HEIGHT - BOTTOM, TOP),
        }
    }

    pub(super) fn at(&self, x: f64, y: f64) -> (f64, f64) {
        (self.x.position(x), self.y.position(y))
    }

    /// An SVG path through `points`; a staircase when `step`.
    pub(super) fn path(&self, points: &[(f64, f64)], step: bool) -> String {
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
    pub(super) fn open(&self, frame: &Frame) -> String {
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
