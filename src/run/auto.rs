//! `--sweep auto`: find the knee, the lowest load that gets (nearly) all the throughput the
//! service can give, without a list of levels.
//!
//! Method ([`crate::plan::config::sweep::AUTO_METHOD`], printed with the result): double the level while throughput grows by at least 10 %
//! and at most 5 % of requests fail; then bisect between the last level that still grew and
//! the first that did not, for the lowest level reaching 90 % of the best throughput seen.
//! Concurrency levels are whole numbers; bisection stops when the bracket is within 1 (or
//! 1/8 of the level).

use super::{MeasuredLevel, Shared, lines, measure};
use crate::plan::config::sweep::{KNEE_SHARE, MIN_GROWTH, usable_throughput};
use crate::plan::config::{Config, Sweep, SweepOver};

/// Doubling stops here whatever happens (concurrency; rates scale from their start).
const MAX_DOUBLINGS: u32 = 12;

/// Runs levels until the knee is bracketed and bisected; returns them sorted by level.
pub(super) async fn find_knee(
    config: &Config,
    sweep: &Sweep,
    shared: &Shared<'_>,
) -> anyhow::Result<Vec<MeasuredLevel>> {
    let (interrupt, live) = (shared.interrupt, shared.live);
    let mut runs: Vec<MeasuredLevel> = Vec::new();
    let run = async |level: f64, runs: &mut Vec<MeasuredLevel>| -> anyhow::Result<f64> {
        let level_config = config.at_level(sweep, level);
        live.say(format!("\n{}", lines::banner(&level_config)));
        let m = measure(&level_config, shared).await?;
        let throughput = usable(&m);
        runs.push(m);
        Ok(throughput)
    };
    let start = sweep.levels[0];
    let (mut lo, mut lo_tp) = (start, run(start, &mut runs).await?);
    let mut hi = None;
    for _ in 0..MAX_DOUBLINGS {
        if !interrupt.sending() {
            break;
        }
        let next = lo * 2.0;
        let tp = run(next, &mut runs).await?;
        if tp >= lo_tp * MIN_GROWTH {
            (lo, lo_tp) = (next, tp);
        } else {
            hi = Some(next);
            break;
        }
    }
    let best = runs.iter().map(usable).fold(0.0, f64::max);
    if let Some(mut hi) = hi {
        // `lo` still grew; is a level below `hi` already at the knee?
        while interrupt.sending() && !close_enough(sweep.over, lo, hi) {
            let mid = midpoint(sweep.over, lo, hi);
            match run(mid, &mut runs).await? >= best * KNEE_SHARE {
                true => hi = mid,
                false => lo = mid,
            }
        }
    }
    runs.sort_by(|a, b| a.level.unwrap_or_default().total_cmp(&b.level.unwrap_or_default()));
    Ok(runs)
}

/// Throughput of a level, or 0 when too many of its requests failed.
fn usable(m: &MeasuredLevel) -> f64 {
    usable_throughput(m.summary.throughput, m.summary.failed_count, m.summary.total_requests)
}

fn close_enough(over: SweepOver, lo: f64, hi: f64) -> bool {
    match over {
        SweepOver::Concurrency => hi - lo <= 1.0,
        SweepOver::Rate => hi - lo <= lo / 8.0,
    }
}

fn midpoint(over: SweepOver, lo: f64, hi: f64) -> f64 {
    match over {
        SweepOver::Concurrency => ((lo + hi) / 2.0).floor(),
        SweepOver::Rate => (lo + hi) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bisection_brackets_are_whole_concurrencies_or_an_eighth_of_a_rate() {
        assert!(close_enough(SweepOver::Concurrency, 4.0, 5.0));
        assert!(!close_enough(SweepOver::Concurrency, 4.0, 8.0));
        assert_eq!(midpoint(SweepOver::Concurrency, 4.0, 7.0), 5.0);
        assert!(close_enough(SweepOver::Rate, 16.0, 18.0));
        assert_eq!(midpoint(SweepOver::Rate, 10.0, 20.0), 15.0);
    }
}
