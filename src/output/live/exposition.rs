//! The live `/metrics` page (`--metrics-listen`): the run so far as Prometheus text, scraped
//! while the load goes on, so that a long run can be watched and alerted on in Grafana.
//!
//! What only grows during a run is a counter (`_total`), so that Prometheus's `rate()` turns
//! it into a rate over any range. The latencies since the load started are summaries
//! (quantiles, `_sum`, `_count`), the same families the end-of-run file writes; `_sum` and
//! `_count` let Prometheus compute a mean over any range. The last window's percentiles are
//! another thing: they describe a few seconds, not the run, so they are gauges, one name per
//! percentile (`streamperf_window_ttft_p99_seconds`), since the format reserves the `quantile`
//! label for summaries and `promtool check metrics` rejects it on a gauge. Nothing is written
//! that was not measured: no NaN, no infinity, no percentile of an empty window.

use std::time::Duration;

use crate::analyse::metrics::{Stats, Summary};
use crate::output::export::prometheus::{failures, requests};
use crate::output::export::promtext::{self, Family, P50, P90, P99, Quantile, single};

/// What the page shows at one moment of a run.
#[derive(Debug, Clone, Copy)]
pub struct LiveFigures<'a> {
    /// Everything measured so far (warm-ups excluded).
    pub run: &'a Summary,
    /// The last window (e.g. 10 s) only, once one has ended.
    pub window: Option<&'a Summary>,
    /// How long a window is, seconds.
    pub window_seconds: f64,
    /// Requests started and not finished.
    pub in_flight: u64,
    /// Requests started so far.
    pub sent: u64,
    /// Time since the load started.
    pub elapsed: Duration,
}

/// The quantiles of each latency, over the run and over the window.
const QUANTILES: [Quantile; 3] = [P50, P90, P99];

/// A latency served: its name inside `streamperf_…_seconds`, what it is, where a summary keeps it.
struct Latency {
    name: &'static str,
    what: &'static str,
    of: fn(&Summary) -> Option<&Stats>,
}

const LATENCIES: [Latency; 3] = [
    Latency { name: "ttft", what: "Time to first token", of: |s| s.ttft.as_ref() },
    Latency { name: "e2e", what: "End-to-end request time", of: |s| s.total_time.as_ref() },
    Latency { name: "itl", what: "Inter-token latency per chunk", of: |s| s.itl.as_ref() },
];

/// The page for `now`: Prometheus text 0.0.4, every family with HELP and TYPE.
pub fn live_exposition(now: &LiveFigures) -> String {
    let mut families = counters(now);
    families.extend(gauges(now));
    families.extend(LATENCIES.iter().map(|latency| over_the_run(latency, now.run)));
    if let Some(window) = now.window {
        families.push(single(
            "streamperf_window_seconds",
            "gauge",
            "Length of the window the streamperf_window_* gauges describe.",
            now.window_seconds,
        ));
        families.extend(LATENCIES.iter().flat_map(|latency| over_the_window(latency, window)));
    }
    promtext::render(&families)
}

/// Requests sent and finished, failures by class, tokens.
fn counters(now: &LiveFigures) -> Vec<Family> {
    let s = now.run;
    let mut families = vec![
        single(
            "streamperf_requests_sent_total",
            "counter",
            "Requests started since the load started.",
            now.sent as f64,
        ),
        requests(s),
        failures(s),
        single(
            "streamperf_output_tokens_total",
            "counter",
            "Output tokens of successful requests.",
            s.total_output_tokens as f64,
        ),
    ];
    // A server that reports no input tokens has no count to give: left out, not 0.
    if s.input_tokens_reported > 0 {
        families.push(single(
            "streamperf_input_tokens_total",
            "counter",
            "Input tokens of successful requests, as the server reported them.",
            s.total_input_tokens as f64,
        ));
    }
    families
}

/// Requests in flight and time since the load started.
fn gauges(now: &LiveFigures) -> [Family; 2] {
    [
        single(
            "streamperf_in_flight",
            "gauge",
            "Requests started and not finished.",
            now.in_flight as f64,
        ),
        single(
            "streamperf_elapsed_seconds",
            "gauge",
            "Time since the load started.",
            now.elapsed.as_secs_f64(),
        ),
    ]
}

/// `streamperf_{name}_seconds`: a summary of everything measured so far.
fn over_the_run(latency: &Latency, run: &Summary) -> Family {
    promtext::summary(
        format!("streamperf_{}_seconds", latency.name),
        format!("{} since the load started (warm-ups excluded).", latency.what),
        (latency.of)(run),
        &QUANTILES,
    )
}

/// `streamperf_window_{name}_{p50,p90,p99}_seconds`: gauges of the last window.
fn over_the_window(latency: &Latency, window: &Summary) -> Vec<Family> {
    let Some(stats) = (latency.of)(window) else { return Vec::new() };
    let gauge = |q: &Quantile| {
        Family::new(
            format!("streamperf_window_{}_{}_seconds", latency.name, q.short),
            "gauge",
            format!("{}, {} over the last window.", latency.what, q.short),
        )
        .sample(Vec::new(), (q.of)(stats))
    };
    QUANTILES.iter().map(gauge).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::record::ErrorClass;
    use crate::output::export::promtext::check::{Sample, parse, promtool_check, value};

    fn stats(p50: f64, p90: f64, p99: f64, mean: f64, count: u64) -> Stats {
        Stats { p50, p90, p99, mean, count, ..Stats::default() }
    }

    /// Ten requests so far (eight answered, two failed), a window of the last four.
    fn run() -> Summary {
        Summary {
            success_count: 8,
            failed_count: 2,
            total_requests: 10,
            failures: [(ErrorClass::Timeout, 1), (ErrorClass::HttpStatus, 1)].into(),
            total_output_tokens: 800,
            total_input_tokens: 1200,
            input_tokens_reported: 8,
            ttft: Some(stats(0.1, 0.2, 0.4, 0.125, 8)),
            total_time: Some(stats(1.0, 1.5, 2.0, 1.25, 8)),
            itl: Some(stats(0.01, 0.02, 0.05, 0.0125, 792)),
            ..Summary::default()
        }
    }

    fn window() -> Summary {
        Summary {
            success_count: 4,
            ttft: Some(stats(0.3, 0.5, 0.9, 0.35, 4)),
            total_time: Some(stats(1.1, 1.6, 2.1, 1.3, 4)),
            itl: Some(stats(0.03, 0.04, 0.06, 0.031, 396)),
            ..Summary::default()
        }
    }

    fn figures<'a>(run: &'a Summary, window: Option<&'a Summary>) -> LiveFigures<'a> {
        LiveFigures {
            run,
            window,
            window_seconds: 10.0,
            in_flight: 3,
            sent: 13,
            elapsed: Duration::from_millis(42_500),
        }
    }

    fn samples(text: &str) -> Vec<Sample> {
        parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    #[test]
    fn counters_and_gauges_carry_the_figures() {
        let (run, window) = (run(), window());
        let s = samples(&live_exposition(&figures(&run, Some(&window))));
        assert_eq!(value(&s, "streamperf_requests_sent_total", None), 13.0);
        assert_eq!(value(&s, "streamperf_requests_total", Some(("outcome", "success"))), 8.0);
        assert_eq!(value(&s, "streamperf_requests_total", Some(("outcome", "failure"))), 2.0);
        assert_eq!(value(&s, "streamperf_failures_total", Some(("class", "timeout"))), 1.0);
        assert_eq!(value(&s, "streamperf_failures_total", Some(("class", "http_status"))), 1.0);
        assert_eq!(value(&s, "streamperf_output_tokens_total", None), 800.0);
        assert_eq!(value(&s, "streamperf_input_tokens_total", None), 1200.0);
        assert_eq!(value(&s, "streamperf_in_flight", None), 3.0);
        assert_eq!(value(&s, "streamperf_elapsed_seconds", None), 42.5);
        assert_eq!(value(&s, "streamperf_window_seconds", None), 10.0);
    }

    #[test]
    fn latencies_over_the_run_are_summaries_with_sum_and_count() {
        let run = run();
        let s = samples(&live_exposition(&figures(&run, None)));
        assert_eq!(value(&s, "streamperf_ttft_seconds", Some(("quantile", "0.5"))), 0.1);
        assert_eq!(value(&s, "streamperf_ttft_seconds", Some(("quantile", "0.99"))), 0.4);
        assert_eq!(value(&s, "streamperf_ttft_seconds_sum", None), 1.0, "mean × count");
        assert_eq!(value(&s, "streamperf_ttft_seconds_count", None), 8.0);
        assert_eq!(value(&s, "streamperf_e2e_seconds", Some(("quantile", "0.9"))), 1.5);
        assert_eq!(value(&s, "streamperf_e2e_seconds_sum", None), 10.0);
        assert_eq!(value(&s, "streamperf_itl_seconds", Some(("quantile", "0.99"))), 0.05);
        assert_eq!(value(&s, "streamperf_itl_seconds_count", None), 792.0);
        let ttft = s.iter().filter(|s| s.0 == "streamperf_ttft_seconds").count();
        assert_eq!(ttft, 3, "p50, p90 and p99");
    }

    #[test]
    fn the_window_is_gauges_named_by_percentile_once_a_window_has_ended() {
        let (run, window) = (run(), window());
        let before = live_exposition(&figures(&run, None));
        assert!(!before.contains("streamperf_window_"), "no window yet:\n{before}");
        let s = samples(&live_exposition(&figures(&run, Some(&window))));
        assert_eq!(value(&s, "streamperf_window_ttft_p50_seconds", None), 0.3);
        assert_eq!(value(&s, "streamperf_window_ttft_p99_seconds", None), 0.9);
        assert_eq!(value(&s, "streamperf_window_e2e_p90_seconds", None), 1.6);
        assert_eq!(value(&s, "streamperf_window_itl_p99_seconds", None), 0.06);
        let text = live_exposition(&figures(&run, Some(&window)));
        assert!(text.contains("# TYPE streamperf_window_ttft_p99_seconds gauge\n"), "{text}");
    }

    #[test]
    fn an_empty_run_writes_zeros_and_leaves_out_what_was_not_measured() {
        let (run, window) = (Summary::default(), Summary::default());
        let now = LiveFigures {
            elapsed: Duration::ZERO,
            in_flight: 0,
            sent: 0,
            ..figures(&run, Some(&window))
        };
        let text = live_exposition(&now);
        let s = samples(&text);
        assert_eq!(value(&s, "streamperf_requests_sent_total", None), 0.0);
        assert_eq!(value(&s, "streamperf_requests_total", Some(("outcome", "failure"))), 0.0);
        for absent in [
            "streamperf_ttft_seconds",
            "streamperf_window_ttft_p50_seconds",
            "streamperf_failures_total",
            "streamperf_input_tokens_total",
        ] {
            assert!(!text.contains(absent), "{absent} should be absent:\n{text}");
        }
        assert!(!text.contains(" NaN") && !text.contains(" inf"), "{text}");
    }

    #[test]
    fn non_finite_figures_are_left_out() {
        let mut run = run();
        run.ttft.as_mut().unwrap().p99 = f64::NAN;
        let now = LiveFigures { window_seconds: f64::INFINITY, ..figures(&run, Some(&run)) };
        let text = live_exposition(&now);
        samples(&text);
        assert!(!text.contains(" NaN") && !text.contains(" inf"), "{text}");
        assert!(!text.contains("streamperf_window_seconds "), "{text}");
        assert!(!text.contains("streamperf_window_ttft_p99_seconds "), "{text}");
    }

    #[test]
    fn promtool_check_metrics_accepts_the_page() {
        let (run, window) = (run(), window());
        for text in [
            live_exposition(&figures(&run, Some(&window))),
            live_exposition(&figures(&Summary::default(), None)),
        ] {
            if let Some((ok, said)) = promtool_check(&text) {
                assert!(ok, "promtool: {said}\n{text}");
            }
        }
    }
}
