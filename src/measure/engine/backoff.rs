//! A brake on a target that does not accept connections.
//!
//! Each worker backs off after a request that could not connect (`connect`, `tls`, or a
//! timeout while connecting): 10 ms, doubling up to 1 s, until a request connects again. A
//! refused port fails in microseconds, so without it a closed loop spins through hundreds of
//! thousands of failures a second. The closed loop waits before its next request (the wait
//! is not in that request's latency: its clock starts after it); the open loop keeps its
//! schedule, and a request arriving at a worker that is backing off fails at once, without a
//! connection attempt (see [`super::open`]).
//!
//! A run stops as `unreachable` when nothing has ever connected and [`UNREACHABLE_AFTER`]
//! requests in a row could not: a target that was up and went down is backed off from, never
//! given up on.

use std::time::Duration;

use tokio::time::Instant;

use crate::measure::record::{ErrorClass, RequestRecord, TimeoutPhase};

/// The first wait after a failed connection attempt.
pub const FIRST_WAIT: Duration = Duration::from_millis(10);
/// The longest wait.
pub const MAX_WAIT: Duration = Duration::from_secs(1);
/// Requests in a row that could not connect, with nothing ever connected, that stop a run.
pub const UNREACHABLE_AFTER: u64 = 20;

/// Whether `record` failed before it had a connection.
pub fn failed_to_connect(record: &RequestRecord) -> bool {
    match record.error_class {
        Some(ErrorClass::Connect | ErrorClass::Tls) => true,
        Some(ErrorClass::Timeout) => record.timeout_phase == Some(TimeoutPhase::Connect),
        _ => false,
    }
}

/// One worker's back-off: how long it waits before its next connection attempt.
#[derive(Debug, Default)]
pub struct Backoff {
    /// The last wait; zero after a request that connected.
    wait: Duration,
    /// No connection attempt before this instant.
    until: Option<Instant>,
    /// Failed connection attempts in a row.
    failures: u64,
    /// Why the last attempt failed.
    last_error: String,
}

impl Backoff {
    /// Notes how a request that was sent ended (at `now`): a failure to connect doubles the
    /// wait, anything else ends the back-off.
    pub fn note(&mut self, record: &RequestRecord, now: Instant) {
        if !failed_to_connect(record) {
            if self.failures > 0 {
                *self = Backoff::default();
            }
            return;
        }
        self.wait = match self.wait.is_zero() {
            true => FIRST_WAIT,
            false => (self.wait * 2).min(MAX_WAIT),
        };
        self.until = Some(now + self.wait);
        self.failures += 1;
        if let Some(error) = &record.error {
            self.last_error.clone_from(error);
        }
    }

    /// Until when the worker is backing off, if it is at `now`.
    pub fn pending(&self, now: Instant) -> Option<Instant> {
        self.until.filter(|&until| until > now)
    }

    /// Why a request that arrives while backing off is not sent.
    pub fn reason(&self, now: Instant) -> String {
        let left = self.until.map_or(Duration::ZERO, |u| u.saturating_duration_since(now));
        format!(
            "not sent: backing off after {} failed connection attempts in a row \
             (next in {} ms; the last: {})",
            self.failures,
            left.as_millis(),
            self.last_error
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::record::{Failure, Timeline};
    use crate::measure::tokens::Tokenizer;

    fn record(failure: Option<Failure>) -> RequestRecord {
        let now = Instant::now();
        Timeline::new(now, now).into_record(1, failure, &Tokenizer::Chars)
    }

    fn refused() -> RequestRecord {
        record(Some(Failure::new(ErrorClass::Connect, "cannot connect: Connection refused")))
    }

    #[test]
    fn the_wait_doubles_caps_and_ends_with_a_connection() {
        let mut backoff = Backoff::default();
        let now = Instant::now();
        assert_eq!(backoff.pending(now), None, "no back-off before any failure");
        let mut waits = Vec::new();
        for _ in 0..10 {
            backoff.note(&refused(), now);
            waits.push(backoff.pending(now).expect("backing off") - now);
        }
        let ms: Vec<u128> = waits.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
        assert_eq!(backoff.pending(now + MAX_WAIT), None, "over once the wait has passed");
        let reason = backoff.reason(now);
        assert!(reason.contains("10 failed connection attempts") && reason.contains("refused"));

        backoff.note(&record(None), now);
        assert_eq!(backoff.pending(now), None, "a success ends it");
        backoff.note(&refused(), now);
        assert_eq!(backoff.pending(now), Some(now + FIRST_WAIT), "and starts it over");
    }

    #[test]
    fn only_failures_before_a_connection_count() {
        let timeout =
            |phase| Failure { phase: Some(phase), ..Failure::new(ErrorClass::Timeout, "") };
        assert!(failed_to_connect(&refused()));
        assert!(failed_to_connect(&record(Some(Failure::new(ErrorClass::Tls, "bad cert")))));
        assert!(failed_to_connect(&record(Some(timeout(TimeoutPhase::Connect)))));
        assert!(!failed_to_connect(&record(Some(timeout(TimeoutPhase::FirstByte)))));
        assert!(!failed_to_connect(&record(Some(Failure::new(ErrorClass::HttpStatus, "503")))));
        assert!(!failed_to_connect(&record(None)));
        let mut backoff = Backoff::default();
        backoff.note(&record(Some(Failure::new(ErrorClass::HttpStatus, "503"))), Instant::now());
        assert_eq!(backoff.pending(Instant::now()), None, "a server that answers is up");
    }
}
