//! Multi-turn sessions: a job of the load (a closed-loop slot's next job, an open-loop
//! arrival) is a conversation. Its turns go one after another on the worker's connection,
//! each made from the server's replies to the turns before it, after a think time that no
//! latency counts. Each turn is a request of its own, numbered in send order, whose record
//! says its session and turn.

use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use super::worker::Worker;
use super::{Engine, EngineEvent, MadeBody, Phase, RunControl};

/// What a conversation sends, turn by turn.
pub trait SessionSource: Send + Sync + std::fmt::Debug {
    /// How many turns session `session` (0-based) has; at least 1.
    fn turns(&self, session: u64) -> u32;

    /// The body of turn `turn` (0-based) of `session`, after the replies in `history`. Called
    /// before the turn's clock starts.
    fn turn(&self, session: u64, turn: u32, history: &History) -> MadeBody;

    /// The pause before turn `turn` (≥ 1) of `session`, as a user reads and types.
    fn think_time(&self, session: u64, turn: u32) -> Duration;
}

/// What a conversation's earlier turns brought back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// The server's answer to each earlier turn, in order.
    pub replies: Vec<String>,
    /// The conversation the server keeps them in, when it names one (Dify's
    /// `conversation_id`).
    pub conversation_id: Option<String>,
}

impl Engine {
    /// The request number of a job's next request: the job's own number when jobs are single
    /// requests, else the next in this engine's send order (a shard's numbered as its jobs
    /// are, so no two shards' requests share a number).
    pub(super) fn request_number(&self, job: u64) -> u64 {
        match self.sessions {
            Some(_) => self.global(self.next_request.fetch_add(1, Ordering::Relaxed)),
            None => self.global(job),
        }
    }

    /// This engine's own number of the run-wide request `index`: a shard judges its warm-up
    /// on its own requests, as a process of its own would.
    pub(super) fn local(&self, index: u64) -> u64 {
        match self.shard {
            Some((first, count)) => index.saturating_sub(first) / count,
            None => index,
        }
    }

    /// The run-wide number of this engine's job `job`: itself, or for shard I of N the
    /// `job`-th of the numbers I, I + N, I + 2N, … (so N shards together send exactly the
    /// requests, bodies and data rows of the one-process run).
    pub(super) fn global(&self, job: u64) -> u64 {
        match self.shard {
            Some((index, count)) => index + job * count,
            None => job,
        }
    }

    /// Runs job `job`: one request, or with sessions every turn of session `job` (the first
    /// scheduled for `sched`, later ones sent when their think time ends). A failed turn ends
    /// its session: the next would have no reply to carry. Whether the run still listens.
    pub(super) async fn run_job(
        &self,
        job: u64,
        sched: Option<Instant>,
        worker: &mut Worker,
        control: &RunControl,
        events: &UnboundedSender<EngineEvent>,
    ) -> bool {
        let job = self.global(job);
        let Some(source) = self.sessions.clone() else {
            return self.send_one(job, sched, worker, control, events).await;
        };
        let mut history = History::default();
        for turn in 0..source.turns(job) {
            let sched = if turn == 0 { sched } else { None };
            if turn > 0 && !self.think(source.think_time(job, turn), control).await {
                break;
            }
            let index = self.request_number(job);
            let made = source.turn(job, turn, &history);
            let mut outcome =
                self.exchange(index, sched, Some(made), worker, control, events).await;
            let record = &mut outcome.record;
            (record.session, record.turn) = (Some(job + 1), Some(turn + 1));
            let answered = record.is_success();
            let reply = match self.save_output {
                true => record.output.clone(),
                false => record.output.take(),
            };
            if outcome.conversation_id.is_some() {
                history.conversation_id = outcome.conversation_id.take();
            }
            if !self.finish(outcome.record, index, sched.unwrap_or(outcome.sent), events) {
                return false;
            }
            if !answered {
                break;
            }
            history.replies.push(reply.unwrap_or_default());
        }
        true
    }

    /// Waits `pause` between turns, unless the run stops sending first. Whether to go on.
    async fn think(&self, pause: Duration, control: &RunControl) -> bool {
        if !pause.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = control.reached(Phase::Draining) => return false,
            }
        }
        control.sending()
    }
}
