//! Stopping a run early without losing it: stop sending and let what is in flight finish
//! (a deadline, an error limit, a target that never connected, the first Ctrl-C), or cancel
//! what is in flight too (the second Ctrl-C, `--cancel-at-deadline`). Every request still
//! yields a record; a cancelled one is `cancelled` and keeps the timings it reached.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// Why a run stopped sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Every request asked for (`-n`) was sent.
    Completed,
    /// `--duration` passed.
    Duration,
    /// `--max-errors` was reached.
    MaxErrors,
    /// `--max-error-rate` was exceeded.
    MaxErrorRate,
    /// The user pressed Ctrl-C (or the process got SIGINT/SIGTERM).
    Interrupted,
    /// Nothing ever connected, and request after request could not (see
    /// [`super::backoff::UNREACHABLE_AFTER`]).
    Unreachable,
}

impl StopReason {
    /// The stable name used in result files.
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Completed => "completed",
            StopReason::Duration => "duration",
            StopReason::MaxErrors => "max_errors",
            StopReason::MaxErrorRate => "max_error_rate",
            StopReason::Interrupted => "interrupted",
            StopReason::Unreachable => "unreachable",
        }
    }
}

/// Where a run is: sending, draining (no new requests), or cancelling in-flight requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// New requests are sent.
    Sending,
    /// No new requests; in-flight ones run to their end (bounded by the timeout).
    Draining,
    /// In-flight requests are cancelled now.
    Cancelling,
}

/// Shared by the run, its workers, its timers and the signal handler.
#[derive(Debug)]
pub struct RunControl {
    phase: watch::Sender<Phase>,
    /// The first reason given wins: later ones only escalate the phase.
    reason: Mutex<Option<StopReason>>,
}

impl Default for RunControl {
    fn default() -> Self {
        RunControl { phase: watch::Sender::new(Phase::Sending), reason: Mutex::new(None) }
    }
}

impl RunControl {
    /// A run that is sending.
    pub fn new() -> Self {
        RunControl::default()
    }

    /// Stops sending new requests; in-flight requests finish.
    pub fn stop_sending(&self, reason: StopReason) {
        self.escalate(Phase::Draining, reason);
    }

    /// Stops sending and cancels in-flight requests.
    pub fn cancel(&self, reason: StopReason) {
        self.escalate(Phase::Cancelling, reason);
    }

    fn escalate(&self, to: Phase, reason: StopReason) {
        self.reason.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(reason);
        self.phase.send_if_modified(|phase| {
            let raise = to > *phase;
            if raise {
                *phase = to;
            }
            raise
        });
    }

    /// Whether new requests may be sent.
    pub fn sending(&self) -> bool {
        *self.phase.borrow() == Phase::Sending
    }

    /// The phase now.
    pub fn phase(&self) -> Phase {
        *self.phase.borrow()
    }

    /// Why sending stopped, once it has.
    pub fn reason(&self) -> Option<StopReason> {
        *self.reason.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Resolves once the run is at `phase` or beyond.
    pub async fn reached(&self, phase: Phase) {
        let mut rx = self.phase.subscribe();
        // Err only if the sender is gone, which `self` prevents.
        let _ = rx.wait_for(|now| *now >= phase).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn phases_only_escalate_and_the_first_reason_wins() {
        let control = RunControl::new();
        assert!(control.sending());
        assert_eq!(control.reason(), None);
        control.stop_sending(StopReason::Duration);
        assert_eq!(control.phase(), Phase::Draining);
        control.stop_sending(StopReason::MaxErrors);
        assert_eq!(control.reason(), Some(StopReason::Duration));
        control.cancel(StopReason::Interrupted);
        assert_eq!(control.phase(), Phase::Cancelling);
        control.stop_sending(StopReason::Interrupted);
        assert_eq!(control.phase(), Phase::Cancelling, "never back down");
        control.reached(Phase::Draining).await;
        control.reached(Phase::Cancelling).await;
    }

    #[tokio::test]
    async fn reached_waits_for_the_phase() {
        let control = std::sync::Arc::new(RunControl::new());
        let waiter = {
            let control = control.clone();
            tokio::spawn(async move { control.reached(Phase::Cancelling).await })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        control.cancel(StopReason::Interrupted);
        waiter.await.unwrap();
    }
}
