//! What a worker does with one request: make its body, send it on the worker's connection
//! (reusing it when the server kept it open), measure it, note whether it connected, and emit
//! its record. Both load models and multi-turn sessions go through here.

use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use super::backoff::{self, Backoff};
use super::conn::Connection;
use super::connections::Counters;
use super::request::{self, Measured};
use super::{Engine, EngineEvent, MadeBody, Phase, RunControl};
use crate::measure::record::{ErrorClass, Failure, RequestRecord, Timeline};

/// A worker's own state between requests: its connection and its back-off.
#[derive(Default)]
pub(super) struct Worker {
    /// The kept-alive connection, when there is one.
    pub conn: Option<Connection>,
    /// The brake after requests that could not connect.
    pub backoff: Backoff,
}

impl Worker {
    /// A worker on `conn` (opened before the clock), or none yet.
    pub fn on(conn: Option<Connection>) -> Worker {
        Worker { conn, backoff: Backoff::default() }
    }
}

impl Engine {
    /// Sends request number `index` (0-based), scheduled for `sched` (`None`: now, the closed
    /// loop), with the body the workload makes for it, and emits `Finished`. Whether the run
    /// still listens.
    pub(super) async fn send_one(
        &self,
        index: u64,
        sched: Option<Instant>,
        worker: &mut Worker,
        control: &RunControl,
        events: &UnboundedSender<EngineEvent>,
    ) -> bool {
        let made = self.bodies.as_ref().map(|b| b.body(index));
        let outcome = self.exchange(index, sched, made, worker, control, events).await;
        self.finish(outcome.record, index, sched.unwrap_or(outcome.sent), events)
    }

    /// Sends request number `index` with `made` as its body (`None`: its spec's own) on the
    /// worker's connection and measures it; counts how the connection was used and notes on
    /// the worker's back-off whether it connected. The record is not emitted yet.
    pub(super) async fn exchange(
        &self,
        index: u64,
        sched: Option<Instant>,
        made: Option<MadeBody>,
        worker: &mut Worker,
        control: &RunControl,
        events: &UnboundedSender<EngineEvent>,
    ) -> Measured {
        let shared = &self.requests[(index % self.requests.len() as u64) as usize];
        let own;
        let (prepared, asked) = match made {
            Some(made) => {
                own = match made.headers.is_empty() {
                    true => shared.with_body(made.bytes),
                    false => shared.with_body(made.bytes).with_headers(&made.headers),
                };
                (&own, (made.output_tokens, made.input_tokens))
            }
            None => (shared, (None, None)),
        };
        let conn = &mut worker.conn;
        if let Some(open) = conn {
            // Before the clock: the client's own bookkeeping is not the server's latency.
            let ready = match Arc::ptr_eq(open.target(), prepared.target()) {
                true => tokio::time::timeout(self.timeout, open.ready()).await.ok(),
                false => None,
            };
            match ready {
                Some(true) => {}
                // The server closed it after the last response (`Connection: close`,
                // HTTP/1.0, or simply a close): this request pays a connect, nothing failed.
                Some(false) => {
                    Counters::bump(&self.connections.reconnects);
                    *conn = None;
                }
                // Another target, or a connection that never got ready.
                None => *conn = None,
            }
        }
        let mut outcome =
            request::measure(self, prepared, conn, index + 1, sched, control, events).await;
        outcome.record.requested_output_tokens = asked.0;
        if outcome.record.input_tokens.is_none() && outcome.record.is_success() {
            outcome.record.input_tokens = asked.1;
        }
        self.count(&outcome);
        worker.backoff.note(&outcome.record, Instant::now());
        self.judge_reachability(backoff::failed_to_connect(&outcome.record), control);
        outcome
    }

    /// Adds how `outcome` used its connection to the run's counters.
    fn count(&self, outcome: &Measured) {
        let counters = &self.connections;
        if outcome.record.connect.is_some() {
            Counters::bump(&counters.opened);
        }
        if outcome.reused {
            Counters::bump(&counters.reused);
        }
        if outcome.reconnected {
            Counters::bump(&counters.reconnects);
        }
        if outcome.resent {
            Counters::bump(&counters.resent);
        }
        if let Some(url) = &outcome.record.final_url {
            Counters::bump(&counters.redirected);
            let _ = counters.redirected_to.get_or_init(|| url.clone());
        }
        if let Some(name) = &outcome.format_name {
            if self.detected_format.get().is_none() {
                let _ = self.detected_format.set(name.clone());
            }
        }
    }

    /// Request number `index` (0-based), scheduled for `sched`, arrived while its worker was
    /// backing off (the open loop): it fails at once as `connect`, without an attempt.
    pub(super) fn fail_fast(
        &self,
        index: u64,
        sched: Instant,
        backoff: &Backoff,
        control: &RunControl,
        events: &UnboundedSender<EngineEvent>,
    ) -> bool {
        let now = Instant::now();
        let _ = events.send(EngineEvent::Started { request_id: index + 1, at: now });
        let failure = Failure::new(ErrorClass::Connect, backoff.reason(now));
        let record =
            Timeline::new(sched, now).into_record(index + 1, Some(failure), &self.tokenizer);
        Counters::bump(&self.connections.backoff_failed_fast);
        self.judge_reachability(true, control);
        self.finish(record, index, sched, events)
    }

    /// Marks a warm-up `record` (request `index`, scheduled for `sched`) and emits it. Whether
    /// the run still listens.
    pub(super) fn finish(
        &self,
        mut record: RequestRecord,
        index: u64,
        sched: Instant,
        events: &UnboundedSender<EngineEvent>,
    ) -> bool {
        record.warmup = self.warmup.covers(self.local(index), sched, self.started());
        record.started_at = self.unix_of(sched);
        let at = Instant::now();
        // A closed channel means nobody listens any more: the worker stops quietly.
        events.send(EngineEvent::Finished { record: Box::new(record), at }).is_ok()
    }

    /// Waits out `backoff` before the closed loop's next request, unless the run stops
    /// sending first. Whether to send it.
    pub(super) async fn wait_out(&self, backoff: &Backoff, control: &RunControl) -> bool {
        let Some(until) = backoff.pending(Instant::now()) else {
            return true;
        };
        let send = tokio::select! {
            _ = tokio::time::sleep_until(until) => control.sending(),
            _ = control.reached(Phase::Draining) => false,
        };
        if send {
            Counters::bump(&self.connections.backoff_delayed);
        }
        send
    }
}
