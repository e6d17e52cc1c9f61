//! Sweeps: the same test at several concurrencies (`-p 1,4,16`) or rates (`--rate 1,5,10`),
//! one level after another, summarised in one table and one result file.

use std::time::Duration;

use anyhow::bail;

use super::file::FileSweep;
use crate::cli::RunArgs;

/// What a sweep varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepOver {
    /// Closed-loop concurrency (`-p`).
    Concurrency,
    /// Open-loop rate (`--rate`).
    Rate,
}

impl SweepOver {
    /// `concurrency` or `rate`: the key each level carries in the result file.
    pub fn name(self) -> &'static str {
        match self {
            SweepOver::Concurrency => "concurrency",
            SweepOver::Rate => "rate",
        }
    }
}

/// A sweep's levels, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// What varies.
    pub over: SweepOver,
    /// The values it takes; for `--sweep auto`, the first level only.
    pub levels: Vec<f64>,
    /// `--sweep auto`: the levels are found while running.
    pub auto: bool,
    /// How long each level runs (`--sweep-duration`); otherwise each runs `-n` requests or
    /// `--duration`.
    pub level_duration: Option<Duration>,
}

impl Sweep {
    /// The sweep the flags ask for: a list of more than one concurrency or rate.
    pub fn resolve(
        args: &RunArgs,
        level_duration: Option<Duration>,
    ) -> anyhow::Result<Option<Sweep>> {
        if let Some(mode) = &args.sweep {
            return Self::auto(args, mode, level_duration).map(Some);
        }
        let (p, r) = (args.concurrency.len() > 1, args.rate.len() > 1);
        if p && r {
            bail!("sweep one thing at a time: a list for either `-p` or `--rate`, not both");
        }
        let (over, levels): (SweepOver, Vec<f64>) = match (p, r) {
            (true, _) => {
                (SweepOver::Concurrency, args.concurrency.iter().map(|&n| n as f64).collect())
            }
            (_, true) => (SweepOver::Rate, args.rate.clone()),
            _ if level_duration.is_some() => {
                bail!(
                    "`--sweep-duration` needs a list of levels, e.g. `-p 1,4,16` or `--rate 1,5,10`"
                )
            }
            _ => return Ok(None),
        };
        Ok(Some(Sweep { over, levels, auto: false, level_duration }))
    }

    /// `--sweep auto`, starting from the given `-p` or `--rate` (else concurrency 1).
    fn auto(args: &RunArgs, mode: &str, level_duration: Option<Duration>) -> anyhow::Result<Sweep> {
        if !mode.eq_ignore_ascii_case("auto") {
            bail!(
                "`--sweep {mode}`: the only mode is `auto` (a list of levels goes to -p or --rate)"
            );
        }
        if args.concurrency.len() > 1 || args.rate.len() > 1 {
            bail!("`--sweep auto` finds the levels itself: give one -p or --rate to start from");
        }
        let (over, start) = match args.rate.first() {
            Some(&rate) => (SweepOver::Rate, rate),
            None => (SweepOver::Concurrency, args.concurrency.first().copied().unwrap_or(1) as f64),
        };
        Ok(Sweep { over, levels: vec![start], auto: true, level_duration })
    }
}

impl FileSweep {
    /// `args` with this block's levels, as if given as flags (flags already given win).
    pub(crate) fn apply_to(&self, args: &RunArgs) -> RunArgs {
        let mut merged = args.clone();
        if !self.concurrency.is_empty() {
            merged.concurrency = self.concurrency.clone();
        }
        if !self.rate.is_empty() {
            merged.rate = self.rate.clone();
        }
        if self.auto {
            merged.sweep = Some("auto".into());
        }
        if merged.sweep_duration.is_none() {
            merged.sweep_duration = self.duration.clone();
        }
        merged
    }
}

/// `--sweep auto`: growth that counts as "still scaling" between two doubled levels.
pub const MIN_GROWTH: f64 = 1.10;
/// A level with a larger share of failed requests is past the knee.
pub const MAX_ERROR_SHARE: f64 = 0.05;
/// The knee: the lowest level reaching this share of the best throughput.
pub const KNEE_SHARE: f64 = 0.90;

/// How `--sweep auto` searches, as reports state it.
pub const AUTO_METHOD: &str = "doubling while throughput grows by 10 % or more and at most 5 % \
    of requests fail, then bisecting for the lowest level with 90 % of the best throughput";

/// Throughput that counts toward the knee: none when too many requests failed.
pub fn usable_throughput(throughput: f64, failed: u64, total: u64) -> f64 {
    if failed as f64 > MAX_ERROR_SHARE * total.max(1) as f64 { 0.0 } else { throughput }
}

/// The knee of measured `(level, usable throughput)` pairs: the lowest level reaching
/// [`KNEE_SHARE`] of the best throughput.
pub fn knee(levels: &[(f64, f64)]) -> Option<f64> {
    let best = levels.iter().map(|l| l.1).fold(0.0, f64::max);
    (best > 0.0).then(|| {
        levels
            .iter()
            .filter(|l| l.1 >= best * KNEE_SHARE)
            .map(|l| l.0)
            .fold(f64::INFINITY, f64::min)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_knee_is_the_lowest_level_near_the_best_throughput() {
        let levels = [(1.0, 10.0), (2.0, 19.0), (4.0, 30.0), (8.0, 31.0), (16.0, 29.0)];
        assert_eq!(knee(&levels), Some(4.0));
        assert_eq!(knee(&[(1.0, 0.0)]), None);
        assert_eq!(usable_throughput(30.0, 6, 100), 0.0, "6 % failed");
        assert_eq!(usable_throughput(30.0, 5, 100), 30.0);
    }

    #[test]
    fn a_list_is_a_sweep_and_one_value_is_not() {
        let args = RunArgs { concurrency: vec![1, 4, 16], ..RunArgs::default() };
        let sweep = Sweep::resolve(&args, None).unwrap().unwrap();
        assert_eq!((sweep.over, sweep.levels), (SweepOver::Concurrency, vec![1.0, 4.0, 16.0]));
        let single = RunArgs { concurrency: vec![4], ..RunArgs::default() };
        assert_eq!(Sweep::resolve(&single, None).unwrap(), None);
        let rates = RunArgs { rate: vec![1.0, 2.5], ..RunArgs::default() };
        assert_eq!(Sweep::resolve(&rates, None).unwrap().unwrap().over, SweepOver::Rate);
        let both = RunArgs { concurrency: vec![1, 2], rate: vec![1.0, 2.0], ..RunArgs::default() };
        assert!(
            Sweep::resolve(&both, None).unwrap_err().to_string().contains("one thing at a time")
        );
        let auto = RunArgs { sweep: Some("auto".into()), ..RunArgs::default() };
        let sweep = Sweep::resolve(&auto, None).unwrap().unwrap();
        assert!(sweep.auto && sweep.levels == [1.0] && sweep.over == SweepOver::Concurrency);
        let bad = RunArgs { sweep: Some("fast".into()), ..RunArgs::default() };
        assert!(
            Sweep::resolve(&bad, None).unwrap_err().to_string().contains("only mode is `auto`")
        );
        let d = Some(Duration::from_secs(5));
        assert!(Sweep::resolve(&single, d).unwrap_err().to_string().contains("needs a list"));
    }
}
