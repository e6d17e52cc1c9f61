//! The report's sections, one function each, in the order `render` calls them. Apart from the
//! page layout (`page.rs`) so each section reads as what it shows, not how a row is padded.

use super::page::{Report, columns, percent, quantiles, same};
use super::{ReportInfo, one_line};
use crate::analyse::metrics::{Stats, Summary};
use crate::output::report::RunResult;

/// Longest failure example shown, in characters.
pub(super) const EXAMPLE_CHARS: usize = 200;

/// The overall counts, the target and how its stream was read.
pub(super) fn overall(out: &mut Report, result: &RunResult, info: &ReportInfo) {
    let w = out.w;
    let s = &result.summary;
    out.section(w.overall);
    out.row(w.total_requests, s.total_requests.to_string());
    out.row(w.succeeded, format!("{} ({:.1}%)", s.success_count, percent(s.success_count, s)));
    out.row(w.failed, format!("{} ({:.1}%)", s.failed_count, percent(s.failed_count, s)));
    if s.empty_count > 0 {
        // Counted as successes, but a server answering nothing is worth a look.
        out.row(w.empty, w.empty_note.replace("{n}", &s.empty_count.to_string()));
    }
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
}

/// Reconnects, redirects and back-off, inside the overall section: only when they happened.
pub(super) fn connections(out: &mut Report, result: &RunResult) {
    let w = out.w;
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
}

/// The original tool's latency sections: TTFT, end-to-end time and its generation rate.
pub(super) fn seed_latencies(out: &mut Report, s: &Summary) {
    let w = out.w;
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
}

/// Time to first byte, and the first answer token beside the first token.
pub(super) fn first_byte_and_answer(out: &mut Report, s: &Summary) {
    let w = out.w;
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
}

/// Output tokens per request and where their counts came from.
pub(super) fn output_tokens(out: &mut Report, result: &RunResult) {
    let w = out.w;
    let s = &result.summary;
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
}

/// Input and output lengths side by side (mean, P50, P99), the input rate, and the answers
/// that stopped short of the length asked: what "input 1024 / output 128" ran as. Shown when
/// the server reported prompt tokens or streamperf asked for an output length.
pub(super) fn lengths(out: &mut Report, s: &Summary) {
    let w = out.w;
    if s.input_tokens.is_none() && s.asked_output_tokens == 0 {
        return;
    }
    let spread =
        |t: &Stats| format!("{} {:.1} · P50 {:.0} · P99 {:.0}", w.mean, t.mean, t.p50, t.p99);
    out.section(w.lengths);
    if let Some(input) = &s.input_tokens {
        out.row(w.input_length, spread(input));
    }
    if let Some(output) = &s.output_tokens {
        out.row(w.output_length, spread(output));
    }
    if s.input_tokens.is_some() && s.duration > 0.0 {
        let rate = s.total_input_tokens as f64 / s.duration;
        out.row(w.input_throughput, format!("{rate:.2} tokens/s"));
    }
    if s.early_stops > 0 {
        let share = format!("{:.1}", s.early_stops as f64 * 100.0 / s.asked_output_tokens as f64);
        let note = w
            .early_stops_note
            .replace("{n}", &s.early_stops.to_string())
            .replace("{of}", &s.asked_output_tokens.to_string())
            .replace("{share}", &share);
        out.row(w.early_stops, note);
    }
}

/// Multi-turn sessions and prefix caching: the TTFT of first turns beside that of later turns
/// (which carry the conversation so far, and find it cached on a server that caches), and the
/// share of input tokens the server said it served from its cache.
pub(super) fn sessions(out: &mut Report, s: &Summary) {
    let w = out.w;
    if s.ttft_later_turns.is_none() && s.cache_hit_rate.is_none() {
        return;
    }
    out.section(w.sessions);
    let spread = |t: &Stats| {
        let ms = |v: f64| format!("{:.2}ms", v * 1000.0);
        format!("P50 {} · P90 {} · P99 {}", ms(t.p50), ms(t.p90), ms(t.p99))
    };
    if let Some(first) = &s.ttft_first_turn {
        out.row(w.first_turns, spread(first));
    }
    if let Some(later) = &s.ttft_later_turns {
        out.row(w.later_turns, spread(later));
    }
    if let Some(rate) = s.cache_hit_rate {
        let input = s.cache_reported_input_tokens;
        let note = w
            .cache_hits_note
            .replace("{share}", &format!("{:.1}", rate * 100.0))
            .replace("{cached}", &s.total_cached_tokens.to_string())
            .replace("{input}", &input.to_string());
        out.row(w.cache_hits, note);
    }
}

/// Per-request decode rates and the aggregate token throughput.
pub(super) fn tokens_per_second(out: &mut Report, s: &Summary) {
    let w = out.w;
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
}

/// The gaps between tokens: ITL per chunk and per token, TPOT, the longest stall.
pub(super) fn gaps(out: &mut Report, s: &Summary) {
    let w = out.w;
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
}

/// The SLOs checked and the goodput they give.
pub(super) fn slos(out: &mut Report, result: &RunResult) {
    let w = out.w;
    let s = &result.summary;
    if !result.slos.is_empty() {
        out.section(w.slos);
        for slo in &result.slos {
            out.line(&format!("  {}", slo.describe()));
        }
        if let Some(goodput) = s.goodput {
            out.row(w.goodput, format!("{goodput:.2} req/s"));
        }
    }
}

/// Failures by class, most frequent first, each with its first example.
pub(super) fn failures(out: &mut Report, s: &Summary) {
    let w = out.w;
    if !s.failures.is_empty() {
        out.section(w.failures);
        // Most frequent first: the class to fix first leads.
        let mut classes: Vec<_> = s.failures.iter().collect();
        classes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (class, count) in classes {
            let codes = match class {
                crate::measure::record::ErrorClass::HttpStatus => by_status(s),
                _ => String::new(),
            };
            out.row(class.as_str(), format!("{count}{}{codes}", w.times));
            if let Some(example) = s.failure_examples.get(class).filter(|e| !e.is_empty()) {
                out.line(&format!("    {} {}", w.example, one_line(example, EXAMPLE_CHARS)));
            }
        }
    }
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
