//! How the load ran: the load section (model, stop reason, client limits) and the sweep table.
//! Apart from the other sections because they read the run's plan and levels, not the summary.

use super::page::{Report, columns, percent};
use crate::analyse::metrics::Stats;
use crate::measure::engine::{StopReason, UNREACHABLE_AFTER};
use crate::measure::record::ErrorClass;
use crate::output::report::LevelResult;
use crate::output::report::RunResult;
use crate::output::report::sweep::{knee, usable_throughput};

/// How the load was generated, why it stopped (a target at `url` that never connected in
/// words), and whether the client limited it: shown for open-loop runs and for runs that did
/// not simply complete.
pub(super) fn load_section(out: &mut Report, result: &RunResult, url: &str) {
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
pub(super) fn sweep_table(out: &mut Report, result: &RunResult) {
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
