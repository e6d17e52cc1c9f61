//! The rules: whether the client's own limits may have shaped the numbers, one plain
//! reason per tripped rule, each with its measured value. Pure functions of the measured
//! numbers, so the thresholds are tested with injected values rather than with real load.

use std::time::Duration;

use super::ClientHealth;
use super::lag::PERIOD;
use super::lateness::{SendCounts, VERY_LATE_SEND_US};

/// Scheduling lag p99 above which the run is client-bound, in ms. An idle runtime wakes a
/// timer 0–2 ms late (tokio's timer wheel has 1 ms slots, plus the OS wake-up), so 10 ms is
/// well clear of that noise, yet it is half the gap of a 20 ms/token stream: a client that
/// late on 1 % of its wake-ups adds visible delay to the TTFT and ITL it reports.
pub(super) const LAG_P99_LIMIT_MS: f64 = 10.0;

/// A single stall longer than this, in ms, marks the run too. Ten timer periods: every stream
/// in flight during such a stall has its timestamps shifted by up to a tenth of a second.
/// Higher than the p99 limit because one stall, unlike a sustained lag, may be a one-off
/// (a page-fault storm, a noisy neighbour), and only a long one matters on its own.
const LAG_MAX_LIMIT_MS: f64 = 100.0;

/// Share of all available cores' time above which the run is client-bound. Past ~90 %,
/// runnable threads queue for a core: the OS delays the client no matter how idle its event
/// loop looks (this also catches a runtime with fewer workers than cores being starved by a
/// mock server in the same process, whose CPU counts here, as it competes for the cores).
const CPU_SHARE_LIMIT: f64 = 0.9;

/// The CPU rule is skipped for shorter runs: in a few hundred milliseconds, start-up work
/// (connections, TLS handshakes) can use all cores without delaying anything that matters.
const CPU_MIN_WALL: Duration = Duration::from_millis(500);

/// Share of sends that may be very late before the run is client-bound: more than 1 % is the
/// same as the p99 lateness exceeding 10 ms, but counted exactly rather than from buckets.
const VERY_LATE_SHARE_LIMIT: f64 = 0.01;

/// Fewer very late sends than this never mark a run: in a run of 50 requests, one or two
/// stragglers are noise, not a client that cannot keep up.
const MIN_VERY_LATE_SENDS: u64 = 3;

/// Everything measured, in the units the rules use.
#[derive(Debug, Clone, Default)]
pub(super) struct Observed {
    pub lag_p50_ms: f64,
    pub lag_p99_ms: f64,
    pub lag_max_ms: f64,
    pub samples: u64,
    pub cpu_share: f64,
    pub cores: usize,
    pub wall: Duration,
    pub sends: SendCounts,
}

impl Observed {
    pub(super) fn into_health(self) -> ClientHealth {
        let (client_bound, reasons) = verdict(&self);
        ClientHealth {
            client_bound,
            reasons,
            scheduling_lag_p50_ms: self.lag_p50_ms,
            scheduling_lag_p99_ms: self.lag_p99_ms,
            scheduling_lag_max_ms: self.lag_max_ms,
            cpu_share: self.cpu_share,
            late_sends: self.sends.late,
            send_lateness_p99_ms: self.sends.p99_ms,
            samples: self.samples,
        }
    }
}

/// Decides whether the client may have shaped the numbers; one reason per tripped rule.
fn verdict(observed: &Observed) -> (bool, Vec<String>) {
    let reasons: Vec<String> = [
        lag_p99_reason(observed),
        lag_max_reason(observed),
        cpu_reason(observed),
        send_reason(&observed.sends),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!reasons.is_empty(), reasons)
}

// The lag rules cannot tell a busy event loop from one starved by other processes (a mock
// server on the same cores, a compiler): either way the client read its sockets late.
fn lag_p99_reason(o: &Observed) -> Option<String> {
    (o.lag_p99_ms > LAG_P99_LIMIT_MS).then(|| {
        format!(
            "runtime scheduling lag p99 {:.1} ms (timer every {} ms, limit {LAG_P99_LIMIT_MS} \
             ms): the client's own event loop was busy or short of CPU, so timestamps may include \
             client delay",
            o.lag_p99_ms,
            PERIOD.as_millis(),
        )
    })
}

fn lag_max_reason(o: &Observed) -> Option<String> {
    // A sustained lag is already explained by the p99 rule; this one is for a lone stall.
    (o.lag_max_ms > LAG_MAX_LIMIT_MS && o.lag_p99_ms <= LAG_P99_LIMIT_MS).then(|| {
        format!(
            "the client's event loop stalled once for {:.1} ms (limit {LAG_MAX_LIMIT_MS} ms): \
             streams in flight at that moment have timestamps delayed by the client",
            o.lag_max_ms,
        )
    })
}

fn cpu_reason(o: &Observed) -> Option<String> {
    (o.wall >= CPU_MIN_WALL && o.cpu_share > CPU_SHARE_LIMIT).then(|| {
        format!(
            "the process used {:.0} % of {} core(s) over {:.1} s (limit {:.0} %): the client, \
             and anything else in this process such as a built-in mock, had no CPU to spare, \
             so responses may have been read late",
            o.cpu_share * 100.0,
            o.cores,
            o.wall.as_secs_f64(),
            CPU_SHARE_LIMIT * 100.0,
        )
    })
}

fn send_reason(s: &SendCounts) -> Option<String> {
    let share = if s.sends == 0 { 0.0 } else { s.very_late as f64 / s.sends as f64 };
    (s.very_late >= MIN_VERY_LATE_SENDS && share > VERY_LATE_SHARE_LIMIT).then(|| {
        format!(
            "{} of {} sends ({:.1} %) left more than {} ms behind schedule (p99 lateness {:.1} \
             ms, limit {:.0} %): the client could not keep the requested arrival rate, so the \
             server saw less load than asked",
            s.very_late,
            s.sends,
            share * 100.0,
            VERY_LATE_SEND_US / 1_000,
            s.p99_ms,
            VERY_LATE_SHARE_LIMIT * 100.0,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A healthy run: small lag, moderate CPU, a second long, sends on time.
    fn healthy() -> Observed {
        Observed {
            lag_p50_ms: 1.0,
            lag_p99_ms: 1.9,
            lag_max_ms: 4.0,
            samples: 300,
            cpu_share: 0.3,
            cores: 2,
            wall: Duration::from_secs(3),
            sends: SendCounts { sends: 1_000, late: 20, very_late: 0, p99_ms: 1.2 },
        }
    }

    fn reasons(observed: &Observed) -> Vec<String> {
        let (bound, reasons) = verdict(observed);
        assert_eq!(bound, !reasons.is_empty(), "the flag follows the reasons");
        reasons
    }

    #[test]
    fn a_healthy_run_is_not_client_bound() {
        assert_eq!(verdict(&healthy()), (false, vec![]));
    }

    #[test]
    fn values_at_the_limits_do_not_trip() {
        let observed = Observed {
            lag_p99_ms: LAG_P99_LIMIT_MS,
            lag_max_ms: LAG_MAX_LIMIT_MS,
            cpu_share: CPU_SHARE_LIMIT,
            sends: SendCounts { sends: 1_000, late: 10, very_late: 10, p99_ms: 10.0 },
            ..healthy()
        };
        assert_eq!(reasons(&observed), Vec::<String>::new());
    }

    #[test]
    fn sustained_scheduling_lag_is_reported_with_its_value() {
        let observed = Observed { lag_p99_ms: 38.24, lag_max_ms: 60.0, ..healthy() };
        let reasons = reasons(&observed);
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(reasons[0].contains("scheduling lag p99 38.2 ms"), "{}", reasons[0]);
        assert!(reasons[0].contains("timer every 10 ms"), "{}", reasons[0]);
    }

    #[test]
    fn a_lone_long_stall_is_reported() {
        let observed = Observed { lag_max_ms: 250.0, ..healthy() };
        let reasons = reasons(&observed);
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(reasons[0].contains("stalled once for 250.0 ms"), "{}", reasons[0]);
    }

    #[test]
    fn a_long_stall_within_sustained_lag_gives_one_lag_reason() {
        let observed = Observed { lag_p99_ms: 300.0, lag_max_ms: 900.0, ..healthy() };
        let reasons = reasons(&observed);
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(reasons[0].contains("p99 300.0 ms"), "{}", reasons[0]);
    }

    #[test]
    fn a_busy_cpu_is_reported_with_share_and_cores() {
        let observed = Observed { cpu_share: 0.973, ..healthy() };
        let reasons = reasons(&observed);
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(reasons[0].contains("used 97 % of 2 core(s) over 3.0 s"), "{}", reasons[0]);
    }

    #[test]
    fn a_busy_cpu_in_a_very_short_run_is_not_judged() {
        let observed = Observed { cpu_share: 1.0, wall: Duration::from_millis(200), ..healthy() };
        assert!(reasons(&observed).is_empty());
    }

    #[test]
    fn more_than_one_percent_very_late_sends_are_reported() {
        let sends = SendCounts { sends: 1_000, late: 40, very_late: 25, p99_ms: 31.0 };
        let reasons = reasons(&Observed { sends, ..healthy() });
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        let reason = &reasons[0];
        assert!(reason.contains("25 of 1000 sends (2.5 %)"), "{reason}");
        assert!(reason.contains("p99 lateness 31.0 ms"), "{reason}");
    }

    #[test]
    fn a_few_stragglers_in_a_small_run_are_noise() {
        // 2 of 50 is 4 %, but two late sends are not a pattern.
        let sends = SendCounts { sends: 50, late: 2, very_late: 2, p99_ms: 15.0 };
        assert!(reasons(&Observed { sends, ..healthy() }).is_empty());
        let sends = SendCounts { sends: 50, late: 3, very_late: 3, p99_ms: 15.0 };
        assert_eq!(reasons(&Observed { sends, ..healthy() }).len(), 1);
    }

    #[test]
    fn closed_loop_runs_have_no_send_rule() {
        let sends = SendCounts::default();
        assert!(reasons(&Observed { sends, ..healthy() }).is_empty());
    }

    #[test]
    fn every_tripped_rule_gives_its_own_reason() {
        let observed = Observed {
            lag_p99_ms: 50.0,
            cpu_share: 1.0,
            sends: SendCounts { sends: 100, late: 90, very_late: 80, p99_ms: 120.0 },
            ..healthy()
        };
        assert_eq!(reasons(&observed).len(), 3);
    }

    #[test]
    fn health_carries_the_measured_numbers() {
        let health = Observed { lag_p99_ms: 12.5, ..healthy() }.into_health();
        assert!(health.client_bound);
        assert_eq!(health.scheduling_lag_p99_ms, 12.5);
        assert_eq!(health.late_sends, 20);
        assert_eq!(health.send_lateness_p99_ms, 1.2);
        assert_eq!(health.samples, 300);
    }
}
