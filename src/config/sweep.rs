//! Sweeps: the same test at several concurrencies (`-p 1,4,16`) or rates (`--rate 1,5,10`),
//! one level after another, summarised in one table and one result file.

use std::time::Duration;

use anyhow::bail;

use super::file::FileSweep;
use crate::cli::RunArgs;
/// A sweep's levels and knee are the result's; the config names them here too.
pub use crate::report::sweep::{
    AUTO_METHOD, KNEE_SHARE, MAX_ERROR_SHARE, MIN_GROWTH, SweepOver, knee, usable_throughput,
};

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

#[cfg(test)]
mod tests {
    use super::*;

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
