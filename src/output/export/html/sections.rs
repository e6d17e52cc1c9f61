//! The page's sections, one function each, in the order [`super::render`] puts them: the
//! title bar, banners, summary cards, failures, percentiles, how the run went and its config.
//! The charts are in `charts`.

use std::fmt::Write as _;

use super::words::Words;
use super::{EXAMPLE_CHARS, Html, duration};
use crate::analyse::metrics::{Stats, Summary};
use crate::i18n::Lang;
use crate::output::export::chart::escape;
use crate::output::export::one_line;
use crate::output::report::RunResult;

/// The title bar: what was tested, when, and how the stream was read.
pub(super) fn header(result: &RunResult, w: &Words) -> String {
    let config = &result.config;
    let url = config["url"].as_str().unwrap_or("—");
    let mut chips = String::new();
    let mut chip = |label: &str, value: &str| {
        let _ =
            write!(chips, "<span class=\"chip\"><b>{}</b> {}</span>", escape(label), escape(value));
    };
    if let Some(label) = config["label"].as_str() {
        chip(w.label, label);
    }
    if let Some(t) = config["timestamp"].as_str() {
        chip(w.started_at, t);
    }
    if let Some(format) = config["detected_format"].as_str() {
        chip(w.stream_format, format);
    }
    chip(w.load_model, &load_text(result, w));
    if let Some(method) = config["method"].as_str() {
        chip("HTTP", method);
    }
    format!(
        "<header>\n<div class=\"brand\">streamperf</div>\n<h1>{}</h1>\n\
         <div class=\"url\" title=\"{}\">{}</div>\n<div class=\"chips\">{chips}</div>\n</header>\n",
        escape(w.title),
        escape(w.url),
        escape(url)
    )
}

/// `closed loop, concurrency 8` or `open loop, 5 req/s`.
fn load_text(result: &RunResult, w: &Words) -> String {
    if !result.levels.is_empty() {
        let levels: Vec<String> = result.levels.iter().map(|l| l.label()).collect();
        return format!("{}: {}", w.sweep_levels, levels.join(", "));
    }
    match result.run.target_rate {
        Some(rate) => format!("{}, {rate} req/s", w.open_loop),
        None => match result.config["concurrency"].as_u64() {
            Some(p) => format!("{} {p}", w.closed_loop),
            None => format!("{} —", w.closed_loop),
        },
    }
}

/// The client-bound warning and the SLO verdicts, above everything else.
pub(super) fn banners(result: &RunResult, lang: Lang, w: &Words) -> String {
    let mut out = String::new();
    if let Some(client) = result.client.as_ref().filter(|c| c.client_bound) {
        let _ = write!(
            out,
            "<div class=\"banner warn\" id=\"client-bound\"><b>{}</b><ul>",
            escape(crate::i18n::words(lang).client_bound)
        );
        for reason in &client.reasons {
            let _ = write!(out, "<li>{}</li>", escape(reason));
        }
        out += "</ul></div>\n";
    }
    if !result.slos.is_empty() {
        let failed = result.slos.iter().any(|s| !s.pass);
        let _ = write!(
            out,
            "<div class=\"banner {}\" id=\"slos\"><b>{}</b><ul>",
            if failed { "bad" } else { "good" },
            escape(w.slos)
        );
        for slo in &result.slos {
            let value = match slo.measured {
                Some(v) if slo.unit == "s" => duration(v),
                Some(v) => format!("{v:.2} {}", slo.unit),
                None => w.not_measured.to_string(),
            };
            let (class, verdict) = if slo.pass { ("pass", w.pass) } else { ("fail", w.fail) };
            let _ = write!(
                out,
                "<li><code>{}</code> {} <span class=\"verdict {class}\">{verdict}</span></li>",
                escape(&slo.slo),
                escape(&value)
            );
        }
        out += "</ul></div>\n";
    }
    out
}

/// The headline numbers as cards.
pub(super) fn cards(result: &RunResult, w: &Words) -> String {
    let s = &result.summary;
    let mut out = String::from("<div class=\"cards\">\n");
    let mut card = |label: &str, value: String, sub: String, class: &str| {
        let _ = writeln!(
            out,
            "<div class=\"card {class}\"><div class=\"label\">{}</div><div class=\"value\">{}</div>\
             <div class=\"sub\">{}</div></div>",
            escape(label),
            escape(&value),
            escape(&sub)
        );
    };
    card(
        w.requests,
        s.total_requests.to_string(),
        format!("{} {} · {} {}", s.success_count, w.succeeded, s.failed_count, w.failed),
        "",
    );
    let rate = s.success_rate().map(|r| r * 100.0);
    let rate_class = match rate {
        Some(r) if r >= 99.9 => "good",
        Some(r) if r >= 95.0 => "warn",
        Some(_) => "bad",
        None => "",
    };
    card(
        w.success_rate,
        rate.map_or("—".into(), |r| format!("{r:.1} %")),
        String::new(),
        rate_class,
    );
    card(
        w.throughput,
        format!("{:.2} req/s", s.throughput),
        format!("{} {:.2} s", w.duration, s.duration),
        "",
    );
    card(
        w.token_throughput,
        format!("{:.1}", s.output_token_throughput),
        format!("Σ {}", s.total_output_tokens),
        "",
    );
    if let Some(goodput) = s.goodput {
        card(w.goodput, format!("{goodput:.2} req/s"), w.goodput_note.to_string(), "");
    }
    let rows = [
        stat(w.ttft, "TTFT", "P50", &s.ttft, |t| t.p50, ("P90", |t| t.p90)),
        stat(w.ttft, "TTFT", "P99", &s.ttft, |t| t.p99, ("max", |t| t.max)),
        stat(w.ttfat, "TTFAT", "P50", &s.ttfat, |t| t.p50, ("P99", |t| t.p99)),
        stat(w.e2e, "E2E", "P50", &s.total_time, |t| t.p50, ("P99", |t| t.p99)),
        stat(w.itl, "ITL", "P50", &s.itl, |t| t.p50, ("P99", |t| t.p99)),
        stat(w.tpot, "TPOT", "P50", &s.tpot, |t| t.p50, ("P99", |t| t.p99)),
    ];
    for (label, value, sub) in rows {
        card(&label, value, sub, "");
    }
    out + "</div>\n"
}

/// A latency card: its label (`TTFT P50`, or `首Token时间 · TTFT P50`), the value at `main`
/// and, beneath, the value at `sub`.
fn stat(
    name: &str,
    abbr: &str,
    quantile: &str,
    stats: &Option<Stats>,
    main: fn(&Stats) -> f64,
    sub: (&str, fn(&Stats) -> f64),
) -> (String, String, String) {
    let label = match name == abbr {
        true => format!("{abbr} {quantile}"),
        false => format!("{name} · {abbr} {quantile}"),
    };
    match stats {
        Some(t) => (label, duration(main(t)), format!("{} {}", sub.0, duration(sub.1(t)))),
        None => (label, "—".into(), String::new()),
    }
}

/// Failure counts by class, their share of all requests, and the first example of each.
pub(super) fn failures(s: &Summary, w: &Words) -> String {
    let mut html = Html::section(w.failures);
    if s.failures.is_empty() {
        html.push(&format!("<p class=\"ok\" id=\"no-failures\">{}</p>", escape(w.no_failures)));
        return html.end();
    }
    let mut table = format!(
        "<div class=\"panel\"><table id=\"failures\"><thead><tr><th>{}</th><th>{}</th><th>{}</th>\
         <th></th><th>{}</th></tr></thead><tbody>",
        w.class, w.count, w.share, w.example
    );
    for (class, &count) in &s.failures {
        let share = count as f64 / s.total_requests.max(1) as f64 * 100.0;
        let example =
            s.failure_examples.get(class).map(|e| shorten(&one_line(e))).unwrap_or_default();
        let _ = write!(
            table,
            "<tr><td><code>{}</code></td><td>{count}</td><td>{share:.1} %</td><td class=\"barcell\">\
             <span class=\"hbar\" style=\"width:{share:.1}%\"></span></td><td class=\"example\">{}</td></tr>",
            class.as_str(),
            escape(&example)
        );
    }
    html.push(&(table + "</tbody></table></div>"));
    html.end()
}

/// At most [`EXAMPLE_CHARS`] characters of `text`, with `…` when cut.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(EXAMPLE_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// P50/P90/P95/P99, max and mean of each latency metric.
pub(super) fn percentiles(s: &Summary, w: &Words) -> String {
    let mut table = format!(
        "<div class=\"panel\"><table class=\"numbers\"><thead><tr><th>{}</th><th>P50</th><th>P90</th>\
         <th>P95</th><th>P99</th><th>{}</th><th>{}</th><th>n</th></tr></thead><tbody>",
        w.metric, w.max, w.mean
    );
    let metrics = [
        (w.ttft, "TTFT", &s.ttft),
        (w.ttfb, "TTFB", &s.ttfb),
        (w.ttfat, "TTFAT", &s.ttfat),
        (w.e2e, "E2E", &s.total_time),
        (w.itl, "ITL", &s.itl),
        (w.tpot, "TPOT", &s.tpot),
    ];
    for (name, short, stats) in metrics {
        let Some(t) = stats else { continue };
        let name = if name == short { short.to_string() } else { format!("{name} ({short})") };
        let _ = write!(table, "<tr><td>{}</td>", escape(&name));
        for v in [t.p50, t.p90, t.p95, t.p99, t.max, t.mean] {
            let _ = write!(table, "<td>{}</td>", duration(v));
        }
        let _ = write!(table, "<td>{}</td></tr>", t.count);
    }
    let mut html = Html::section(w.percentiles);
    html.push(&(table + "</tbody></table></div>"));
    html.end()
}

/// How the load ran and stopped, how tokens were counted, and the client's self-check.
pub(super) fn run_info(result: &RunResult, w: &Words) -> String {
    let run = &result.run;
    let mut rows: Vec<(&str, String)> = vec![(w.load_model, load_text(result, w))];
    if let Some(rate) = run.achieved_rate {
        rows.push((w.achieved_rate, format!("{rate:.2} req/s")));
    }
    if let Some(reason) = run.stop_reason {
        let in_flight = run
            .in_flight_at_stop
            .as_deref()
            .map_or(String::new(), |i| format!(" ({} {i})", w.in_flight));
        rows.push((w.stop_reason, format!("{}{in_flight}", w.stop_reason_text(reason))));
    }
    if run.warmup_requests > 0 {
        rows.push((w.warmup, run.warmup_requests.to_string()));
    }
    if let Some(format) = result.config["detected_format"].as_str() {
        rows.push((w.stream_format, format.to_string()));
    }
    let sources: Vec<String> =
        result.summary.token_sources.iter().map(|(k, v)| format!("{k} ×{v}")).collect();
    if !sources.is_empty() {
        rows.push((w.token_source, sources.join(", ")));
    }
    if let Some(c) = &result.client {
        let verdict = if c.client_bound { "CLIENT-BOUND" } else { "OK" };
        rows.push((
            w.client,
            format!(
                "{verdict} · {} {:.1} ms · {} {:.0} %",
                w.scheduling_lag,
                c.scheduling_lag_p99_ms,
                w.cpu_share,
                c.cpu_share * 100.0
            ),
        ));
    }
    rows.push(("streamperf", result.tool.version.clone()));
    let mut list = String::from("<div class=\"panel\"><dl class=\"facts\">");
    for (label, value) in rows {
        let _ = write!(list, "<dt>{}</dt><dd>{}</dd>", escape(label), escape(&value));
    }
    let mut html = Html::section(w.run);
    html.push(&(list + "</dl></div>"));
    html.end()
}

/// The configuration as pretty JSON (the result's copy, secrets already redacted).
pub(super) fn config(result: &RunResult, w: &Words) -> String {
    let json = serde_json::to_string_pretty(&result.config).unwrap_or_default();
    let mut html = Html::section(w.config);
    html.push(&format!("<pre class=\"panel config\">{}</pre>", escape(&json)));
    html.end()
}
