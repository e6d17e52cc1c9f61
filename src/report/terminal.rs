//! The terminal report, in the seed's layout, English or Chinese.
//!
//! The seed's sections come first and keep its wording and alignment (values start at display
//! column 15, CJK characters counting two); the new metrics follow. A section with no data is
//! left out, so a run where every request failed shows only the overall counts and failures.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::i18n::Lang;
use crate::config::sweep::{knee, usable_throughput};
use crate::engine::{StopReason, UNREACHABLE_AFTER};
use crate::i18n::{Words, words};
use crate::metrics::{Stats, Summary};
use crate::record::ErrorClass;
use crate::report::LevelResult;
use crate::report::RunResult;

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

/// Width of the seed's `=` rules.
const RULE_WIDTH: usize = 60;
/// Display columns of a label and its padding, after the two-space indent (the seed's).
const LABEL_WIDTH: usize = 13;
/// Longest failure example shown, in characters.
const EXAMPLE_CHARS: usize = 200;

/// Renders the final report of `result`.
pub fn render(result: &RunResult, lang: Lang, info: &ReportInfo) -> String {
    let w = words(lang);
    let s = &result.summary;
    let mut out = Report { out: String::new(), w };
    let rule = "=".repeat(RULE_WIDTH);
    out.line(&rule);
    out.line(w.title);
    out.line(&rule);

    out.section(w.overall);
    out.row(w.total_requests, s.total_requests.to_string());
    out.row(w.succeeded, format!("{} ({:.1}%)", s.success_count, percent(s.success_count, s)));
    out.row(w.failed, format!("{} ({:.1}%)", s.failed_count, percent(s.failed_count, s)));
    out.row(w.duration, format!("{:.2}s", s.duration));
    out.row(w.throughput, format!("{:.2} req/s", s.throughput));
    if result.config.get("imported").is_some() {
        out.row(w.imported, w.imported_note.to_string());
    }
    if !info.url.is_empty() {
        out.row(w.url, info.url.clone());
    }
    if let Some(proxy) = result.config.get("proxy").and_then(serde_json::Value::as_str) {
        out.row(w.proxy, proxy.to_owned());
    }
    if let Some(format) = &info.detected_format {
        out.row(w.stream_format, format.clone());
        if format.starts_with("json/") {
            // A whole answer arrives at once: its TTFT is the whole generation time.
            out.line(&format!("  {}", w.non_streaming));
        }
    }
    let c = &result.connections;
    if c.reconnects > 0 {
        out.row(w.connections, (w.reconnects)(c.opened, c.reconnects, c.resent));
        if c.server_closes_each() {
            // It changes TTFT: every request's includes a connect.
            out.line(&format!("  {}", w.closes_each));
        }
    }
    if c.redirected > 0 {
        let to = c.redirected_to.as_deref().unwrap_or("?");
        out.line(&format!("  {}", (w.redirected)(c.redirected, to)));
    }
    if c.backoff_delayed > 0 {
        out.line(&format!("  {}", (w.backoff_delayed)(c.backoff_delayed)));
    }
    if c.backoff_failed_fast > 0 {
        out.line(&format!("  {}", (w.backoff_failed_fast)(c.backoff_failed_fast)));
    }
    load_section(&mut out, result, &info.url);

    if let Some(t) = &s.ttft {
        out.section(w.ttft);
        out.full_secs(t);
    }
    if let Some(t) = &s.total_time {
        out.section(w.total_time);
        out.full_secs(t);
    }
    if let Some(r) = &s.chunks_per_second {
        out.section(w.generation_rate);
        out.row(w.mean, format!("{:.2} chunks/s", r.mean));
        out.row(w.median, format!("{:.2} chunks/s", r.median));
        out.row(w.max, format!("{:.2} chunks/s", r.max));
    }

    if let Some(t) = &s.ttfb {
        out.section(w.ttfb);
        out.brief(t, |v| format!("{v:.3}s"));
    }
    // For models without a reasoning phase the first answer token is the first token: the
    // section would only repeat TTFT. For reasoning models the two side by side tell how long
    // users wait for thinking versus for an answer.
    if let Some(t) = s.ttfat.as_ref().filter(|t| !s.ttft.as_ref().is_some_and(|f| same(f, t))) {
        match &s.ttft {
            Some(first) => {
                out.section(w.first_vs_answer);
                out.columns(["TTFT", "TTFAT", w.thinking]);
                let secs = |v: f64| format!("{v:.3}s");
                for (name, f, a) in quantiles(first, t) {
                    out.row(name, columns([secs(f), secs(a), format!("{:+.3}s", a - f)]));
                }
            }
            None => {
                out.section(w.ttfat);
                out.brief(t, |v| format!("{v:.3}s"));
            }
        }
    }
    if let Some(n) = &s.output_tokens {
        out.section(w.output_tokens);
        out.row(w.mean, format!("{:.1}", n.mean));
        out.row(w.median, format!("{:.0}", n.median));
        out.row(w.total, s.total_output_tokens.to_string());
        if s.total_reasoning_tokens > 0 {
            out.row(w.reasoning, s.total_reasoning_tokens.to_string());
        }
        if !s.token_sources.is_empty() {
            out.row(w.token_source, sources(s, tokenizer(result)));
        }
    }
    if s.tokens_per_second.is_some() || s.output_token_throughput > 0.0 {
        out.section(w.tokens_per_second);
        if let Some(r) = &s.tokens_per_second {
            out.row(w.mean, format!("{:.2} tokens/s", r.mean));
            out.row(w.median, format!("{:.2} tokens/s", r.median));
            out.row("P50", format!("{:.2} tokens/s", r.p50));
            out.row("P99", format!("{:.2} tokens/s", r.p99));
        }
        out.row(w.aggregate, format!("{:.2} tokens/s", s.output_token_throughput));
        if let Some(all) = s.total_token_throughput {
            out.row(w.all_tokens, format!("{all:.2} tokens/s"));
        }
    }
    let ms = |v: f64| format!("{:.2}ms", v * 1000.0);
    // One token per chunk (the usual case) makes the per-token view a copy of the per-chunk one.
    let itl_token = s.itl_token.as_ref().filter(|t| !s.itl.as_ref().is_some_and(|c| same(c, t)));
    match (&s.itl, itl_token) {
        (Some(chunk), Some(token)) => {
            out.section(w.itl);
            out.columns([w.per_chunk, w.per_token]);
            out.row(w.mean, columns([ms(chunk.mean), ms(token.mean)]));
            for (name, c, t) in quantiles(chunk, token) {
                out.row(name, columns([ms(c), ms(t)]));
            }
        }
        (Some(chunk), None) => {
            out.section(w.itl);
            out.brief(chunk, ms);
        }
        _ => {}
    }
    for (title, stats) in [(w.tpot, &s.tpot), (w.max_gap, &s.max_gap)] {
        if let Some(t) = stats {
            out.section(title);
            out.brief(t, ms);
        }
    }

    sweep_table(&mut out, result);
    if !result.slos.is_empty() {
        out.section(w.slos);
        for slo in &result.slos {
            out.line(&format!("  {}", slo.describe()));
        }
        if let Some(goodput) = s.goodput {
            out.row(w.goodput, format!("{goodput:.2} req/s"));
        }
    }

    if !s.failures.is_empty() {
        out.section(w.failures);
        // Most frequent first: the class to fix first leads.
        let mut classes: Vec<_> = s.failures.iter().collect();
        classes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (class, count) in classes {
            let codes = match class {
                crate::record::ErrorClass::HttpStatus => by_status(s),
                _ => String::new(),
            };
            out.row(class.as_str(), format!("{count}{}{codes}", w.times));
            if let Some(example) = s.failure_examples.get(class).filter(|e| !e.is_empty()) {
                out.line(&format!("    {} {}", w.example, one_line(example, EXAMPLE_CHARS)));
            }
        }
    }

    out.line("");
    out.line(&rule);
    if let Some(path) = &info.result_path {
        out.line(&format!("{}: {}", w.saved_to, path.display()));
    }
    out.out
}

/// How the load was generated, why it stopped (a target at `url` that never connected in
/// words), and whether the client limited it: shown for open-loop runs and for runs that did
/// not simply complete.
fn load_section(out: &mut Report, result: &RunResult, url: &str) {
    let (w, run, s) = (out.w, &result.run, &result.summary);
    let stopped_early = run.stop_reason.is_some_and(|r| r != StopReason::Completed);
    let open = run.load_model == "open";
    let client_bound = result.client.as_ref().is_some_and(|c| c.client_bound);
    if !(open || stopped_early || run.warmup_requests > 0 || client_bound) {
        return;
    }
    out.section(w.load);
    let load = &result.config["load"];
    match run.target_rate {
        Some(rate) => {
            let arrival = load["arrival"].as_str().unwrap_or("poisson");
            out.row(w.load, format!("{}, {rate} req/s ({arrival})", w.open_loop));
            if let Some(achieved) = run.achieved_rate {
                out.row(w.achieved, format!("{achieved:.2} req/s"));
            }
        }
        None => {
            let p = result.config["concurrency"].as_u64().unwrap_or_default();
            out.row(w.load, format!("{} {p}", w.closed_loop));
        }
    }
    if run.queued_sends > 0 {
        out.row(w.queued, format!("{} {}", run.queued_sends, w.queued_note));
    }
    if let Some(q) = s.queue_wait.as_ref().filter(|q| q.max > 0.0 && open) {
        out.row(w.queue_wait, format!("P50 {:.3}s, P99 {:.3}s, max {:.3}s", q.p50, q.p99, q.max));
    }
    if let (true, Some(reason)) = (stopped_early, run.stop_reason) {
        let in_flight = run.in_flight_at_stop.as_deref().unwrap_or("awaited");
        out.row(w.stopped, format!("{} ({} {in_flight})", reason.as_str(), w.in_flight));
        if reason == StopReason::Unreachable {
            let tls = s.failures.get(&ErrorClass::Tls).is_some_and(|&n| n > 0);
            out.line(&format!("  {}", (w.unreachable)(url, UNREACHABLE_AFTER, tls)));
        }
    }
    if run.warmup_requests > 0 {
        // Shown apart: the first requests of a cold server are often much slower.
        let mut ttfts: Vec<f64> = result
            .metrics
            .iter()
            .filter(|r| r.warmup)
            .filter_map(|r| r.ttft.map(|t| t.as_secs_f64()))
            .collect();
        ttfts.sort_by(f64::total_cmp);
        let median = ttfts.get(ttfts.len().saturating_sub(1) / 2);
        let ttft = median.map_or(String::new(), |m| format!(" (TTFT P50 {m:.3}s)"));
        out.row(w.warmup, format!("{} {}{ttft}", run.warmup_requests, w.warmup_note));
    }
    if let Some(client) = result.client.as_ref().filter(|c| c.client_bound) {
        out.line(&format!("  {}", w.client_bound));
        for reason in &client.reasons {
            out.line(&format!("    - {reason}"));
        }
    }
    // Open loop: latencies count from the intended send; the service-time view beside them.
    if let (true, Some(t)) = (open, &s.service_ttft) {
        out.section(w.service_ttft);
        out.brief(t, |v| format!("{v:.3}s"));
    }
}

/// A sweep: one row per level, so throughput and latency read across the load.
fn sweep_table(out: &mut Report, result: &RunResult) {
    if result.levels.is_empty() {
        return;
    }
    let w = out.w;
    out.section(w.sweep);
    // Goodput only with --slo; the empty last column vanishes when trimmed.
    let with_goodput = result.levels.iter().any(|l| l.summary.goodput.is_some());
    let header = columns([
        w.level.to_owned(),
        "req/s".into(),
        "TTFT P50".into(),
        "TTFT P99".into(),
        "TPOT P50".into(),
        "tokens/s".into(),
        w.errors_column.to_owned(),
        if with_goodput { w.goodput.to_owned() } else { String::new() },
    ]);
    out.line(&format!("  {header}"));
    for level in &result.levels {
        let s = &level.summary;
        let secs = |t: &Option<Stats>, f: fn(&Stats) -> f64| {
            t.as_ref().map_or("-".into(), |t| format!("{:.3}s", f(t)))
        };
        let tpot = s.tpot.as_ref().map_or("-".into(), |t| format!("{:.1}ms", t.p50 * 1000.0));
        let row = columns([
            level.label(),
            format!("{:.2}", s.throughput),
            secs(&s.ttft, |t| t.p50),
            secs(&s.ttft, |t| t.p99),
            tpot,
            format!("{:.1}", s.output_token_throughput),
            format!("{:.1}%", percent(s.failed_count, s)),
            s.goodput.map_or(String::new(), |g| format!("{g:.2}")),
        ]);
        out.line(&format!("  {row}"));
    }
    let measured: Vec<(f64, f64)> = result
        .levels
        .iter()
        .map(|l| {
            let s = &l.summary;
            let level = l.concurrency.map_or(l.rate.unwrap_or_default(), |p| p as f64);
            (level, usable_throughput(s.throughput, s.failed_count, s.total_requests))
        })
        .collect();
    if let Some(at) = knee(&measured) {
        let label = result
            .levels
            .iter()
            .find(|l| l.concurrency.map_or(l.rate == Some(at), |p| p as f64 == at));
        let method = result.config["sweep"]["auto"].as_str().unwrap_or(w.knee_method);
        let name = label.map_or(at.to_string(), LevelResult::label);
        out.line(&format!("  {}: {name} ({method})", w.knee));
    }
    out.line(&format!("  {}", w.sweep_note));
}

/// The report being written, with its language's words.
struct Report {
    out: String,
    w: &'static Words,
}

impl Report {
    fn line(&mut self, text: &str) {
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn section(&mut self, title: &str) {
        let _ = write!(self.out, "\n{}{title}{}\n", self.w.open, self.w.close);
    }

    /// `  label:      value`, the value at the seed's column.
    fn row(&mut self, label: &str, value: String) {
        let pad = LABEL_WIDTH.saturating_sub(display_width(label) + 1).max(1);
        let _ = writeln!(self.out, "  {label}:{}{value}", " ".repeat(pad));
    }

    /// The seed's TTFT block: min, max, mean, median, stddev (from two values on, as the seed),
    /// P50, P90, P95, P99, in seconds.
    fn full_secs(&mut self, t: &Stats) {
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
    fn columns<const N: usize>(&mut self, titles: [&str; N]) {
        let indent = " ".repeat(LABEL_WIDTH + 2);
        self.line(&format!("{indent}{}", columns(titles.map(str::to_owned)).trim_end()));
    }

    /// Mean, P50, P90, P99: the short block of the new latency metrics.
    fn brief(&mut self, t: &Stats, unit: impl Fn(f64) -> String) {
        self.row(self.w.mean, unit(t.mean));
        for (name, v) in [("P50", t.p50), ("P90", t.p90), ("P99", t.p99)] {
            self.row(name, unit(v));
        }
    }
}

fn percent(n: u64, s: &Summary) -> f64 {
    if s.total_requests == 0 { 0.0 } else { n as f64 * 100.0 / s.total_requests as f64 }
}

/// Whether two distributions would print the same (to the microsecond).
fn same(a: &Stats, b: &Stats) -> bool {
    let fields = |s: &Stats| [s.min, s.max, s.mean, s.p50, s.p90, s.p99];
    a.count == b.count && fields(a).iter().zip(fields(b)).all(|(x, y)| (x - y).abs() < 1e-6)
}

/// Width of one value column in side-by-side sections (display columns).
const COLUMN_WIDTH: usize = 12;

/// Values in columns of [`COLUMN_WIDTH`], CJK characters counting two.
fn columns<const N: usize>(values: [String; N]) -> String {
    let mut out = String::new();
    for value in values {
        let pad = COLUMN_WIDTH.saturating_sub(display_width(&value)).max(1);
        let _ = write!(out, "{value}{}", " ".repeat(pad));
    }
    out.trim_end().to_owned()
}

/// P50, P90, P95, P99 of two distributions, side by side.
fn quantiles(a: &Stats, b: &Stats) -> [(&'static str, f64, f64); 4] {
    [("P50", a.p50, b.p50), ("P90", a.p90, b.p90), ("P95", a.p95, b.p95), ("P99", a.p99, b.p99)]
}

/// The tokenizer a run counted with, from its config.
fn tokenizer(result: &RunResult) -> Option<&str> {
    result.config.get("tokenizer").and_then(serde_json::Value::as_str)
}

/// `usage` when every request counted the same way, else `usage 90, events 10`; the
/// tokenizer named, e.g. `tokenizer (o200k_base)`.
fn sources(s: &Summary, tokenizer: Option<&str>) -> String {
    let name = |k: &str| match (k, tokenizer) {
        ("tokenizer", Some(t)) => format!("tokenizer ({t})"),
        _ => k.to_owned(),
    };
    if s.token_sources.len() == 1 {
        return s.token_sources.keys().map(|k| name(k)).collect();
    }
    let parts: Vec<String> =
        s.token_sources.iter().map(|(k, n)| format!("{} {n}", name(k))).collect();
    parts.join(", ")
}

/// ` (429 ×10, 503 ×2)`: the `http_status` failures by code, most frequent first; empty when
/// the summary has none (a result file from before #17).
fn by_status(s: &Summary) -> String {
    let mut codes: Vec<_> = s.failures_by_status.iter().collect();
    codes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let codes: Vec<String> = codes.iter().map(|(code, n)| format!("{code} ×{n}")).collect();
    match codes.is_empty() {
        true => String::new(),
        false => format!(" ({})", codes.join(", ")),
    }
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
#[path = "terminal_tests.rs"]
mod tests;
