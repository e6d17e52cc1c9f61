//! Sweeps: the same test at several concurrencies (`-p 1,4,16`) or rates (`--rate 1,5,10`),
//! one level after another, summarised in one table and one result file.

use std::time::Duration;

use anyhow::bail;

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
    /// The values it takes.
    pub levels: Vec<f64>,
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
        Ok(Some(Sweep { over, levels, level_duration }))
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
        let d = Some(Duration::from_secs(5));
        assert!(Sweep::resolve(&single, d).unwrap_err().to_string().contains("needs a list"));
    }
}
