//! `streamperf report --trend --label X --format html`: metrics over the runs with a label, one
//! chart each, on the same self-contained page as the run report (inline CSS and SVG, no
//! script). The x axis is the run's place in the series, its ticks the run ids; the table under
//! each chart gives every run's time, value and change from the first run.

use std::fmt::Write as _;

use super::{Html, page_end, page_start, words};
use crate::i18n::Lang;
use crate::output::export::chart::{self, Axis, Frame, Series, escape};
use crate::output::history::trend::TrendPoint;

/// One metric followed over runs: its name as given (`ttft.p50`) and one point a run.
pub struct Trend<'a> {
    /// The metric, named as in an SLO.
    pub metric: &'a str,
    /// Oldest first.
    pub points: &'a [TrendPoint],
}

/// The trend page of the runs labelled `label`, in `lang`, stamped `generated_at` (on its own
/// line, as in the run report).
pub fn render(label: &str, trends: &[Trend], lang: Lang, generated_at: &str) -> String {
    let w = words::words(lang);
    let t = texts(lang);
    let mut out = page_start(w, &format!("{} {label}", t.title));
    let runs = trends.first().map_or(0, |trend| trend.points.len());
    let _ = write!(
        out,
        "<header>\n<div class=\"brand\">streamperf</div>\n<h1>{}</h1>\n\
         <div class=\"chips\"><span class=\"chip\"><b>{}</b> {}</span>\
         <span class=\"chip\"><b>{}</b> {runs}</span></div>\n</header>\n<main>\n",
        escape(t.title),
        escape(t.label),
        escape(label),
        escape(t.runs),
    );
    for (index, trend) in trends.iter().enumerate() {
        out += &section(index, trend, t, w.no_data);
    }
    out += &page_end(w, generated_at);
    out
}

/// One metric: its chart and its table.
fn section(index: usize, trend: &Trend, t: &Texts, empty: &str) -> String {
    let unit = trend.points.iter().map(|p| p.unit.as_str()).next().unwrap_or("");
    let scale = if unit == "s" { 1000.0 } else { 1.0 };
    let shown_unit = if unit == "s" { "ms" } else { unit };
    let points: Vec<(f64, f64)> = trend
        .points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.value.map(|v| (i as f64 + 1.0, v * scale)))
        .collect();
    let labels: Vec<String> =
        trend.points.iter().filter(|p| p.value.is_some()).map(|p| format!("#{}", p.run)).collect();
    // Ticks at whole positions name the run there; others stay blank.
    let run_at = |x: f64| {
        let i = x.round();
        match (x - i).abs() < 1e-9 && i >= 1.0 {
            true => {
                trend.points.get(i as usize - 1).map_or(String::new(), |p| format!("#{}", p.run))
            }
            false => String::new(),
        }
    };
    let value = |v: f64| super::charts::number(v);
    let y_label = format!("{} ({shown_unit})", trend.metric);
    let id = format!("trend-{index}");
    let frame =
        Frame { id: &id, x: Axis::linear(t.run, &run_at), y: Axis::zero(&y_label, &value), empty };
    let series = Series { labels: Vec::new(), ..Series::line(trend.metric, points) };
    let svg = chart::line_chart(&frame, &[series], &[]);
    let span = match (labels.first(), labels.last()) {
        (Some(first), Some(last)) if first != last => format!("{first} … {last}"),
        (Some(only), _) => only.clone(),
        _ => String::new(),
    };
    let mut html = Html::section(trend.metric);
    html.push("<div class=\"pair\">");
    html.figure(&format!("{} · {span}", trend.metric), &svg);
    html.push(&table(trend, t, scale, shown_unit));
    html.push("</div>");
    html.end()
}

/// Run, time, value and the change from the first run that has a value.
fn table(trend: &Trend, t: &Texts, scale: f64, unit: &str) -> String {
    let first = trend.points.iter().find_map(|p| p.value);
    let mut out = format!(
        "<div class=\"panel\"><table class=\"numbers\"><thead><tr><th>{}</th><th>{}</th>\
         <th>{} ({})</th><th>{}</th></tr></thead><tbody>",
        escape(t.run),
        escape(t.time),
        escape(trend.metric),
        escape(unit),
        escape(t.change)
    );
    for p in trend.points {
        let value = p.value.map_or("—".to_string(), |v| super::charts::number(v * scale));
        let change = match (first, p.value) {
            (Some(f), Some(v)) if f != 0.0 => format!("{:+.1} %", (v - f) / f * 100.0),
            _ => "—".to_string(),
        };
        let _ = write!(
            out,
            "<tr><td>#{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            p.run,
            escape(&crate::output::history::list::local_time(&p.time)),
            escape(&value),
            escape(&change)
        );
    }
    out + "</tbody></table></div>"
}

/// The trend page's own words.
struct Texts {
    title: &'static str,
    label: &'static str,
    runs: &'static str,
    run: &'static str,
    time: &'static str,
    change: &'static str,
}

fn texts(lang: Lang) -> &'static Texts {
    const EN: Texts = Texts {
        title: "Trend over runs",
        label: "Label",
        runs: "Runs",
        run: "Run",
        time: "Time",
        change: "vs first",
    };
    const ZH: Texts = Texts {
        title: "多次运行的趋势",
        label: "标签",
        runs: "运行次数",
        run: "运行",
        time: "时间",
        change: "相对首次",
    };
    match lang {
        Lang::En => &EN,
        Lang::Zh => &ZH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(run: i64, value: Option<f64>) -> TrendPoint {
        TrendPoint { run, time: format!("2026-11-{:02}T03:00:00Z", run), value, unit: "s".into() }
    }

    #[test]
    fn a_trend_draws_each_run_and_tabulates_the_change() {
        let points = [point(3, Some(0.2)), point(5, None), point(9, Some(0.3))];
        let trends = [Trend { metric: "ttft.p50", points: &points }];
        let page = render("model-<a>", &trends, Lang::En, "2026-11-28 04:00:00");
        assert!(page.contains("<svg data-chart=\"trend-0\""), "{page}");
        assert!(page.contains("class=\"data"), "the chart draws the points");
        assert!(page.contains("#3 … #9"), "the caption names the runs with a value");
        assert!(page.contains("<td>#9</td>") && page.contains("<td>300</td>"), "{page}");
        assert!(page.contains("+50.0 %"), "change from the first run");
        assert!(page.contains("<td>#5</td>") && page.contains("<td>—</td>"), "a run without value");
        assert!(page.contains("model-&lt;a&gt;") && !page.contains("model-<a>"), "escaped");
        assert_eq!(page.lines().filter(|l| l.contains(super::super::GENERATED_MARKER)).count(), 1);
    }

    #[test]
    fn a_trend_without_values_says_so_in_chinese() {
        let points = [point(1, None)];
        let trends = [Trend { metric: "e2e.p99", points: &points }];
        let page = render("a", &trends, Lang::Zh, "t");
        assert!(page.contains("多次运行的趋势") && page.contains("相对首次"));
        assert!(page.contains("data-empty=\"true\""), "{page}");
    }

    #[test]
    fn several_metrics_get_a_chart_each() {
        let points = [point(1, Some(0.1)), point(2, Some(0.2))];
        let trends = [
            Trend { metric: "ttft.p50", points: &points },
            Trend { metric: "e2e.p99", points: &points },
        ];
        let page = render("a", &trends, Lang::En, "t");
        assert!(page.contains("data-chart=\"trend-0\"") && page.contains("data-chart=\"trend-1\""));
    }
}
