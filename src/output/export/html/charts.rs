//! The report's chart sections: latency distributions (histogram and CDF of TTFT, TTFAT,
//! end-to-end and ITL), load over time from the per-second series, and a sweep's throughput
//! against TTFT P99. Each chart's size is bounded whatever the run's length or request count:
//! at most 60 bars, 201 CDF points and [`MAX_TIME_POINTS`] points per time series.

use std::fmt::Write as _;

use super::words::Words;
use super::{Html, duration};
use crate::analyse::metrics::{Bucket, HISTOGRAM_BUCKETS, LOG_BUCKETS_RATIO, bucketize};
use crate::analyse::timeseries::Second;
use crate::measure::record::RequestRecord;
use crate::output::export::chart::{self, Axis, Frame, Mark, Series, escape};
use crate::output::report::sweep::{knee, usable_throughput};
use crate::output::report::{LevelResult, RunResult};

/// Points per time series at most: longer runs merge neighbouring seconds.
pub const MAX_TIME_POINTS: usize = 600;

/// Points of a CDF drawn from per-request values, at most (plus its start).
const CDF_POINTS: usize = 200;

/// A distribution to draw: its histogram buckets and its CDF (percent).
struct Distribution {
    buckets: Vec<Bucket>,
    cdf: Vec<(f64, f64)>,
}

impl Distribution {
    /// From per-request values: about √n buckets (8 to 60) and the exact empirical CDF,
    /// sampled at no more than [`CDF_POINTS`] ranks.
    fn from_values(mut values: Vec<f64>) -> Self {
        values.retain(|v| v.is_finite());
        values.sort_by(f64::total_cmp);
        let (Some(&min), Some(&max)) = (values.first(), values.last()) else {
            return Distribution { buckets: Vec::new(), cdf: Vec::new() };
        };
        let n = values.len();
        let bins = ((n as f64).sqrt().ceil() as usize).clamp(8, HISTOGRAM_BUCKETS);
        let buckets = bucketize(values.iter().map(|&v| (v, 1)), min, max, bins);
        let ranks = (0..=CDF_POINTS.min(n - 1)).map(|i| i * (n - 1) / CDF_POINTS.min(n - 1).max(1));
        let mut cdf = vec![(min, 0.0)];
        cdf.extend(ranks.map(|k| (values[k], (k + 1) as f64 / n as f64 * 100.0)));
        cdf.dedup();
        Distribution { buckets, cdf }
    }

    /// From a stored histogram: its buckets, and the CDF at their edges.
    fn from_buckets(buckets: &[Bucket]) -> Self {
        let cdf = chart::cdf_points(buckets).into_iter().map(|(x, y)| (x, y * 100.0)).collect();
        Distribution { buckets: buckets.to_vec(), cdf }
    }

    /// The range shown: log-spaced buckets get a log axis.
    fn log(&self) -> bool {
        let (lo, hi) = match (self.buckets.first(), self.buckets.last()) {
            (Some(a), Some(b)) => (a.lo, b.hi),
            _ => return false,
        };
        lo > 0.0 && hi / lo > LOG_BUCKETS_RATIO
    }
}

/// The histogram and CDF of TTFT, TTFAT, end-to-end time and ITL, in pairs.
pub fn distributions(result: &RunResult, w: &Words) -> String {
    // The requests the summary describes: successful, not warm-up, of the last level.
    let records: Vec<&RequestRecord> = result.measured_records().collect();
    let values = |f: fn(&RequestRecord) -> Option<std::time::Duration>| {
        Distribution::from_values(
            records.iter().filter_map(|r| f(r)).map(|d| d.as_secs_f64()).collect(),
        )
    };
    let metrics = [
        ("ttft", w.ttft, "TTFT", values(|r| r.ttft), w.requests_axis),
        ("ttfat", w.ttfat, "TTFAT", values(|r| r.ttfat), w.requests_axis),
        ("e2e", w.e2e, "E2E", values(|r| r.total_time), w.requests_axis),
        (
            "itl",
            w.itl,
            "ITL",
            Distribution::from_buckets(&result.summary.itl_histogram),
            w.gaps_axis,
        ),
    ];
    let mut html = Html::section(w.distributions);
    for (id, name, short, dist, y_label) in metrics {
        let caption = if name == short { name.to_string() } else { format!("{name} ({short})") };
        html.push("<div class=\"pair\">");
        let unit = TimeUnit::for_max(dist.buckets.last().map_or(0.0, |b| b.hi));
        let x_label = format!("{short} ({})", unit.name);
        let fmt = |v: f64| unit.tick(v);
        let x =
            || if dist.log() { Axis::log(&x_label, &fmt) } else { Axis::linear(&x_label, &fmt) };
        let count = |v: f64| number(v);
        let hist_id = format!("{id}-histogram");
        let frame =
            Frame { id: &hist_id, x: x(), y: Axis::zero(y_label, &count), empty: w.no_data };
        html.figure(
            &format!("{caption} · {}", w.histogram),
            &chart::histogram(&frame, &dist.buckets),
        );
        let percent = |v: f64| format!("{v:.0}");
        let cdf_id = format!("{id}-cdf");
        let frame =
            Frame { id: &cdf_id, x: x(), y: Axis::zero(w.share_axis, &percent), empty: w.no_data };
        let svg = chart::line_chart(&frame, &[Series::step(short, dist.cdf.clone())], &[]);
        html.figure(&format!("{caption} · {}", w.cdf), &svg);
        html.push("</div>");
        if id == "itl" {
            html.note(w.itl_note);
        }
    }
    html.end()
}

/// Seconds written as milliseconds, or as seconds when values reach 10 s.
struct TimeUnit {
    name: &'static str,
    factor: f64,
}

impl TimeUnit {
    fn for_max(max: f64) -> Self {
        match max >= 10.0 {
            true => TimeUnit { name: "s", factor: 1.0 },
            false => TimeUnit { name: "ms", factor: 1000.0 },
        }
    }

    fn tick(&self, secs: f64) -> String {
        number(secs * self.factor)
    }
}

/// A tick value: as few digits as its size needs, trailing zeros dropped.
pub fn number(v: f64) -> String {
    let text = match v.abs() {
        a if a >= 100.0 || a == 0.0 => format!("{v:.0}"),
        a if a >= 10.0 => format!("{v:.1}"),
        a if a >= 1.0 => format!("{v:.2}"),
        _ => format!("{v:.3}"),
    };
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => text,
    }
}

/// Neighbouring seconds merged so that at most [`MAX_TIME_POINTS`] remain: the mean of each
/// counter over the merged seconds (so rates stay per second), the mean of the medians that
/// exist. Returns the points and whether any seconds were merged.
fn merged(seconds: &[Second]) -> (Vec<Merged>, bool) {
    let width = seconds.len().div_ceil(MAX_TIME_POINTS).max(1);
    let points = seconds
        .chunks(width)
        .map(|chunk| {
            let n = chunk.len() as f64;
            let mean = |f: fn(&Second) -> u64| chunk.iter().map(|s| f(s) as f64).sum::<f64>() / n;
            let ttfts: Vec<f64> = chunk.iter().filter_map(|s| s.ttft_p50).collect();
            Merged {
                // The middle of the merged seconds: second t holds the events of [t, t + 1).
                t: chunk[0].t as f64 + n / 2.0,
                started: mean(|s| s.started),
                completed: mean(|s| s.completed),
                failed: mean(|s| s.failed),
                in_flight: mean(|s| s.in_flight),
                tokens: mean(|s| s.output_tokens),
                ttft: (!ttfts.is_empty()).then(|| ttfts.iter().sum::<f64>() / ttfts.len() as f64),
            }
        })
        .collect();
    (points, width > 1)
}

/// `series` drawn in `colour` (failures in red whatever their place).
fn coloured<'a>(series: Series<'a>, colour: &'a str) -> Series<'a> {
    Series { colour: Some(colour), ..series }
}

/// One point of the time charts.
struct Merged {
    t: f64,
    started: f64,
    completed: f64,
    failed: f64,
    in_flight: f64,
    tokens: f64,
    ttft: Option<f64>,
}

/// Input and output tokens per request as a histogram pair (ISL beside OSL), when the
/// servers reported prompt tokens or streamperf built the prompts; nothing otherwise.
pub fn lengths(result: &RunResult, w: &Words) -> String {
    let records: Vec<&RequestRecord> = result.measured_records().collect();
    let tokens = |f: fn(&RequestRecord) -> Option<u64>| {
        Distribution::from_values(records.iter().filter_map(|r| f(r)).map(|n| n as f64).collect())
    };
    let input = tokens(|r| r.input_tokens);
    if input.buckets.is_empty() {
        return String::new();
    }
    let output = tokens(|r| r.output_tokens);
    let mut html = Html::section(w.lengths);
    html.push("<div class=\"pair\">");
    for (id, name, dist) in [("isl", w.input_tokens, input), ("osl", w.output_tokens, output)] {
        let whole = |v: f64| number(v);
        let id = format!("{id}-histogram");
        let frame = Frame {
            id: &id,
            x: Axis::linear(name, &whole),
            y: Axis::zero(w.requests_axis, &whole),
            empty: w.no_data,
        };
        html.figure(&format!("{name} · {}", w.histogram), &chart::histogram(&frame, &dist.buckets));
    }
    html.push("</div>");
    html.end()
}

/// Requests per second (started, completed, failed, in flight), output tokens per second and
/// the TTFT median of each second, over the run (the last level of a sweep).
pub fn over_time(result: &RunResult, w: &Words) -> String {
    let (points, was_merged) = merged(&result.timeseries);
    let span = [0.0, result.timeseries.len() as f64];
    let series = |f: fn(&Merged) -> f64| points.iter().map(|p| (p.t, f(p))).collect::<Vec<_>>();
    let count = |v: f64| number(v);
    let ms = |v: f64| number(v * 1000.0);
    let time = || Axis { include: &span, ..Axis::linear(w.time_axis, &count) };
    let mut html = Html::section(w.over_time);
    html.push("<div class=\"grid\">");
    let frame = Frame {
        id: "requests-over-time",
        x: time(),
        y: Axis::zero(w.requests_axis, &count),
        empty: w.no_data,
    };
    let svg = chart::line_chart(
        &frame,
        &[
            coloured(Series::line(w.started, series(|p| p.started)), "#2563eb"),
            coloured(Series::line(w.completed, series(|p| p.completed)), "#16a34a"),
            coloured(Series::line(w.failed, series(|p| p.failed)), "#dc2626"),
            coloured(Series::line(w.in_flight, series(|p| p.in_flight)), "#9333ea"),
        ],
        &[],
    );
    html.figure(w.requests_per_second, &svg);
    let frame = Frame {
        id: "tokens-over-time",
        x: time(),
        y: Axis::zero("tokens/s", &count),
        empty: w.no_data,
    };
    let svg =
        chart::line_chart(&frame, &[Series::line(w.tokens_per_second, series(|p| p.tokens))], &[]);
    html.figure(w.tokens_per_second, &svg);
    let ttft: Vec<(f64, f64)> = points.iter().filter_map(|p| p.ttft.map(|v| (p.t, v))).collect();
    let y_label = "TTFT P50 (ms)";
    let frame =
        Frame { id: "ttft-over-time", x: time(), y: Axis::zero(y_label, &ms), empty: w.no_data };
    html.figure(
        w.ttft_over_time,
        &chart::line_chart(&frame, &[Series::line("TTFT P50", ttft)], &[]),
    );
    html.push("</div>");
    if was_merged {
        html.note(w.merged_note);
    }
    html.end()
}

/// A sweep's levels: throughput against TTFT P99, each point named by its level, the knee
/// marked; then the levels as a table. Empty for a single run.
pub fn sweep(result: &RunResult, w: &Words) -> String {
    if result.levels.is_empty() {
        return String::new();
    }
    let p99 = |l: &LevelResult| l.summary.ttft.as_ref().map(|t| t.p99);
    let drawn: Vec<&LevelResult> = result.levels.iter().filter(|l| p99(l).is_some()).collect();
    let mut series = Series::line(
        "TTFT P99",
        drawn.iter().map(|l| (l.summary.throughput, p99(l).unwrap_or_default())).collect(),
    );
    series.labels = drawn.iter().map(|l| l.label()).collect();
    let value = |l: &LevelResult| l.concurrency.map_or(l.rate.unwrap_or_default(), |p| p as f64);
    let usable: Vec<(f64, f64)> = result
        .levels
        .iter()
        .map(|l| {
            (
                value(l),
                usable_throughput(
                    l.summary.throughput,
                    l.summary.failed_count,
                    l.summary.total_requests,
                ),
            )
        })
        .collect();
    let knee_level = knee(&usable).and_then(|at| drawn.iter().find(|l| value(l) == at));
    let knee_text = knee_level.map(|l| format!("{} {}", w.knee, l.label())).unwrap_or_default();
    let marks: Vec<Mark> = knee_level
        .map(|l| Mark { x: l.summary.throughput, y: p99(l).unwrap_or_default(), text: &knee_text })
        .into_iter()
        .collect();
    let count = |v: f64| number(v);
    let ms = |v: f64| number(v * 1000.0);
    let frame = Frame {
        id: "sweep",
        x: Axis::zero(w.sweep_x, &count),
        y: Axis::zero("TTFT P99 (ms)", &ms),
        empty: w.no_data,
    };
    let mut html = Html::section(w.sweep);
    html.push("<div class=\"grid\">");
    html.figure(w.sweep, &chart::line_chart(&frame, &[series], &marks));
    html.push(&levels_table(&result.levels, w));
    html.push("</div>");
    html.end()
}

/// One row per level: throughput, TTFT P50/P99, output tokens/s, failures.
fn levels_table(levels: &[LevelResult], w: &Words) -> String {
    let with_goodput = levels.iter().any(|l| l.summary.goodput.is_some());
    let goodput_head = match with_goodput {
        true => format!("<th>{}</th>", w.goodput),
        false => String::new(),
    };
    let mut out = format!(
        "<div class=\"panel\"><table><thead><tr><th>{}</th><th>req/s</th><th>TTFT P50</th>\
         <th>TTFT P99</th><th>tokens/s</th><th>{}</th>{goodput_head}</tr></thead><tbody>",
        w.level, w.failed
    );
    for level in levels {
        let s = &level.summary;
        let ttft = |f: fn(&crate::analyse::metrics::Stats) -> f64| {
            s.ttft.as_ref().map_or("—".into(), |t| duration(f(t)))
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{:.2}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td>",
            escape(&level.label()),
            s.throughput,
            ttft(|t| t.p50),
            ttft(|t| t.p99),
            s.output_token_throughput,
            s.failed_count
        );
        if with_goodput {
            let goodput = s.goodput.map_or("—".into(), |g| format!("{g:.2}"));
            let _ = write!(out, "<td>{goodput}</td>");
        }
        out += "</tr>";
    }
    out + "</tbody></table></div>"
}
