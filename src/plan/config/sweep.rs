//! Sweeps: the same test at several concurrencies (`-p 1,4,16`) or rates (`--rate 1,5,10`),
//! one level after another, summarised in one table and one result file.

use std::time::Duration;

/// A sweep's levels and knee are the result's; the config names them here too.
pub use crate::output::report::sweep::{
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
