//! A sweep's levels in the result: what varied ([`SweepOver`]) and where throughput stops
//! growing (the knee), as the sweep table, the HTML curve and `--sweep auto` all judge it.

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
}
