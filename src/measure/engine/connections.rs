//! How a run used its connections: opened, reused, replaced after the server closed them,
//! redirected, and backed off from (the result's `connections`, the report's connections
//! lines).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// How a run's connections were used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionStats {
    /// Connections opened, pre-connects included.
    pub opened: u64,
    /// Requests answered on a connection that had answered an earlier one (keep-alive).
    pub reused: u64,
    /// Times a worker's kept-alive connection was found closed by the server and a new one
    /// opened: before the next request (`Connection: close`, HTTP/1.0, a close after the
    /// response), or after the server lost a request sent on it before any response byte
    /// (then sent again once: `resent`). Never failures; each costs its request a `connect`.
    pub reconnects: u64,
    /// Of `reconnects`, requests sent again on a new connection.
    pub resent: u64,
    /// Requests that followed at least one redirect (their time includes the hops).
    pub redirected: u64,
    /// Where the first of them ended up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirected_to: Option<String>,
    /// Closed loop: requests that waited for their worker's back-off after failed connection
    /// attempts (see `backoff`); the wait is not in their latency.
    pub backoff_delayed: u64,
    /// Open loop: requests that arrived while their worker was backing off and failed at once
    /// as `connect`, without a connection attempt.
    pub backoff_failed_fast: u64,
}

impl ConnectionStats {
    /// Whether the server closed its connections after every response: connections had to be
    /// replaced and no request was ever answered on a reused one.
    pub fn server_closes_each(&self) -> bool {
        self.reconnects > 0 && self.reused == 0
    }
}

/// [`ConnectionStats`] as the workers count them.
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub opened: AtomicU64,
    pub reused: AtomicU64,
    pub reconnects: AtomicU64,
    pub resent: AtomicU64,
    pub redirected: AtomicU64,
    pub redirected_to: OnceLock<String>,
    pub backoff_delayed: AtomicU64,
    pub backoff_failed_fast: AtomicU64,
}

impl Counters {
    /// Adds one to `counter`.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts so far.
    pub fn snapshot(&self) -> ConnectionStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ConnectionStats {
            opened: get(&self.opened),
            reused: get(&self.reused),
            reconnects: get(&self.reconnects),
            resent: get(&self.resent),
            redirected: get(&self.redirected),
            redirected_to: self.redirected_to.get().cloned(),
            backoff_delayed: get(&self.backoff_delayed),
            backoff_failed_fast: get(&self.backoff_failed_fast),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_that_never_keeps_a_connection_closes_each() {
        let each =
            ConnectionStats { opened: 40, reconnects: 39, resent: 3, ..ConnectionStats::default() };
        assert!(each.server_closes_each());
        let some = ConnectionStats { reused: 30, ..each.clone() };
        assert!(!some.server_closes_each(), "some requests were answered on reused ones");
        assert!(!ConnectionStats::default().server_closes_each());
    }
}
