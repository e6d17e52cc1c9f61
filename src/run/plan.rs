//! The load a level runs: the closed loop or the open loop on its schedule ([`Plan`]), and
//! [`run_info`], how it was generated and why it stopped. Apart from the levels loop so the
//! choice of load model reads on its own.

use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;

use tokio::sync::mpsc;

use crate::measure::engine::open::SendStats;
use crate::measure::engine::{
    ClosedLoop, Engine, EngineEvent, OpenLoop, Phase, RunControl, StopReason,
};
use crate::measure::selfcheck::SelfCheck;
use crate::output::report::RunInfo;
use crate::plan::config::{Config, Shard};
use crate::plan::schedule::Schedule;
use crate::plan::workload::Workload;

/// The load the config asks for: the closed loop, or the open loop on its schedule.
pub(super) enum Plan {
    Closed(ClosedLoop),
    Open(OpenLoop),
}

impl Plan {
    pub(super) fn new(
        config: &Config,
        workload: &Workload,
        selfcheck: &SelfCheck,
    ) -> anyhow::Result<Plan> {
        let plan = Plan::whole(config, workload, selfcheck)?;
        match config.shard {
            Some(shard) => plan.for_shard(shard, config.concurrency),
            None => Ok(plan),
        }
    }

    /// The one-process run's load.
    fn whole(config: &Config, workload: &Workload, selfcheck: &SelfCheck) -> anyhow::Result<Plan> {
        let load = &config.load;
        if let Some((offsets, summary)) = workload.trace() {
            return Ok(Plan::Open(replay(config, offsets, summary.rate, selfcheck)));
        }
        // The loops count jobs: requests, or conversations with sessions.
        let jobs = match &config.sessions {
            Some(sessions) => sessions.count,
            None => config.total_requests,
        };
        let Some(rate) = load.rate else {
            return Ok(Plan::Closed(ClosedLoop {
                concurrency: config.concurrency,
                total: jobs,
                ramp_up: load.ramp_up,
            }));
        };
        let schedule = Schedule::new(rate, load.arrival, load.seed, load.ramp_up)?;
        let lateness = selfcheck.send_lateness_recorder();
        Ok(Plan::Open(OpenLoop {
            schedule: Box::new(schedule),
            total: jobs,
            duration: load.duration,
            max_in_flight: load.max_in_flight,
            // One second's worth of connections before the clock; more open on demand.
            preconnect: (rate.ceil() as u64).clamp(1, MAX_OPEN_LOOP_PRECONNECT),
            on_lateness: Some(Box::new(move |late| lateness.note(late))),
        }))
    }

    /// Shard `shard`'s part of the plan: its share of the workers and jobs (the remainder to
    /// the first shards), and of an open loop's schedule every N-th arrival from the I-th, so
    /// that the shards' arrivals together are the one-process schedule.
    fn for_shard(self, shard: Shard, concurrency: u64) -> anyhow::Result<Plan> {
        let (index, count) = (shard.index as usize, shard.count as usize);
        Ok(match self {
            Plan::Closed(plan) => {
                let workers = shard.part(plan.concurrency);
                if workers == 0 {
                    bail!(
                        "`--shard {}/{}`: -p {concurrency} leaves this shard no worker; give at \
                         least one a shard",
                        shard.index,
                        shard.count
                    );
                }
                let total = plan.total.map(|t| shard.part(t));
                Plan::Closed(ClosedLoop { concurrency: workers, total, ..plan })
            }
            Plan::Open(plan) => Plan::Open(OpenLoop {
                schedule: Box::new(plan.schedule.skip(index).step_by(count)),
                total: plan.total.map(|t| shard.part(t)),
                max_in_flight: plan.max_in_flight.map(|m| shard.part(m).max(1)),
                preconnect: (plan.preconnect / shard.count).max(1),
                ..plan
            }),
        })
    }

    /// Runs it: the wall time of the load, and for the open loop what sending found.
    pub(super) async fn run(
        self,
        engine: Arc<Engine>,
        control: Arc<RunControl>,
        events: mpsc::UnboundedSender<EngineEvent>,
    ) -> (Duration, Option<SendStats>) {
        match self {
            Plan::Closed(plan) => (engine.run_closed_loop(plan, control, events).await, None),
            Plan::Open(plan) => {
                let (duration, stats) = engine.run_open_loop(plan, control, events).await;
                (duration, Some(stats))
            }
        }
    }
}

/// A trace replay: the open loop on the trace's own offsets, as many rows as `-n` allows.
fn replay(config: &Config, offsets: Vec<Duration>, rate: f64, selfcheck: &SelfCheck) -> OpenLoop {
    let lateness = selfcheck.send_lateness_recorder();
    OpenLoop {
        schedule: Box::new(offsets.into_iter()),
        total: config.total_requests,
        duration: config.load.duration,
        max_in_flight: config.load.max_in_flight,
        preconnect: (rate.ceil() as u64).clamp(1, MAX_OPEN_LOOP_PRECONNECT),
        on_lateness: Some(Box::new(move |late| lateness.note(late))),
    }
}

/// Open-loop connections opened before the clock starts, at most.
const MAX_OPEN_LOOP_PRECONNECT: u64 = 1024;

/// How the load was generated and why it stopped.
pub(super) fn run_info(
    config: &Config,
    workload: &Workload,
    control: &RunControl,
    sends: Option<SendStats>,
    warmups: u64,
) -> RunInfo {
    let trace_rate = workload.trace().map(|(_, summary)| summary.rate);
    let reason = control.reason().unwrap_or(StopReason::Completed);
    let early = reason != StopReason::Completed;
    RunInfo {
        start_skew: None,
        started_unix: None,
        load_model: match (trace_rate, config.load.rate) {
            (Some(_), _) => "trace",
            (None, Some(_)) => "open",
            (None, None) => "closed",
        }
        .into(),
        stop_reason: Some(reason),
        interrupted: reason == StopReason::Interrupted,
        in_flight_at_stop: early.then(|| match control.phase() {
            Phase::Cancelling => "cancelled".into(),
            _ => "awaited".into(),
        }),
        target_rate: config.load.rate.or(trace_rate),
        achieved_rate: sends.and_then(|s| s.achieved_rate()),
        queued_sends: sends.map_or(0, |s| s.queued),
        warmup_requests: warmups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::schedule::Arrival;

    /// The first `n` offsets of an open plan's schedule.
    fn offsets(plan: Plan, n: usize) -> Vec<Duration> {
        match plan {
            Plan::Open(open) => open.schedule.take(n).collect(),
            Plan::Closed(_) => panic!("an open plan"),
        }
    }

    fn poisson() -> Plan {
        let schedule = Schedule::new(30.0, Arrival::Poisson, 7, None).unwrap();
        Plan::Open(OpenLoop {
            schedule: Box::new(schedule),
            total: Some(300),
            duration: None,
            max_in_flight: None,
            preconnect: 30,
            on_lateness: None,
        })
    }

    #[test]
    fn shards_of_an_open_loop_together_are_its_schedule() {
        let whole = offsets(poisson(), 300);
        let mut union: Vec<Duration> = (0..3)
            .flat_map(|i| {
                offsets(poisson().for_shard(Shard { index: i, count: 3 }, 1).unwrap(), 100)
            })
            .collect();
        union.sort();
        assert_eq!(union, whole);
    }

    #[test]
    fn shards_of_a_closed_loop_split_workers_and_requests() {
        let closed =
            || Plan::Closed(ClosedLoop { concurrency: 7, total: Some(301), ramp_up: None });
        let parts: Vec<(u64, Option<u64>)> = (0..3)
            .map(|i| match closed().for_shard(Shard { index: i, count: 3 }, 7).unwrap() {
                Plan::Closed(c) => (c.concurrency, c.total),
                Plan::Open(_) => panic!("a closed plan"),
            })
            .collect();
        assert_eq!(parts, [(3, Some(101)), (2, Some(100)), (2, Some(100))]);
        let e = closed().for_shard(Shard { index: 7, count: 8 }, 7).err().unwrap();
        assert!(e.to_string().contains("leaves this shard no worker"), "{e}");
    }
}
