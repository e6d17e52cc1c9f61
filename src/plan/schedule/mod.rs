//! The open-loop load model: when each request is due, independent of any response.
//!
//! `--rate R` with `--arrival constant|poisson|gamma` (and `--burstiness B` for gamma) picks
//! the law of the gaps between sends; `--seed S` makes the random laws reproducible;
//! `--ramp-up T` raises the rate linearly from 0 to R over T, then holds it. A [`Schedule`]
//! is the resulting pure, infinite sequence of send offsets from the run start: the engine
//! sleeps until `start + offset` for each, and counts latency from that intended instant.
//!
//! Offsets are cumulative from the start (a constant schedule computes `k/R` directly; a
//! random one sums its gaps), so a late wake-up delays one send and never the rest: the
//! schedule cannot drift, whatever the engine's timer does.

mod arrival;
mod ramp;

pub(crate) use arrival::standard_normal;

use std::fmt;
use std::iter::FusedIterator;
use std::time::Duration;

use anyhow::{bail, ensure};
use rand::SeedableRng;
use rand::rngs::StdRng;

use ramp::Ramp;

/// The generator behind the random laws. `StdRng` is ChaCha12 in `rand` 0.9, a byte-exact
/// cipher, and `seed_from_u64` and `random::<f64>()` are fixed functions of it, so a seed gives
/// the same schedule on every platform. `rand` still calls `StdRng` non-portable because a
/// later release may swap the algorithm; the `schedule_is_pinned_for_a_seed` test catches it.
type ScheduleRng = StdRng;

/// The law of the gaps between consecutive sends; every law has mean gap 1/R.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arrival {
    /// Evenly spaced sends, exactly 1/R apart.
    Constant,
    /// A Poisson process: independent exponential gaps (coefficient of variation 1).
    Poisson,
    /// Independent gamma gaps with scale 1/(R·shape), as vLLM's `--burstiness`: coefficient
    /// of variation 1/√shape. Shape 1 is Poisson; below 1 burstier, above 1 more regular.
    Gamma {
        /// The gamma shape parameter k (`--burstiness`), finite and > 0.
        shape: f64,
    },
}

impl Arrival {
    /// The `--arrival` name of the law: `constant`, `poisson` or `gamma`.
    pub fn name(&self) -> &'static str {
        match self {
            Arrival::Constant => "constant",
            Arrival::Poisson => "poisson",
            Arrival::Gamma { .. } => "gamma",
        }
    }
}

/// The name, with the burstiness for gamma: `gamma (burstiness 0.5)`.
impl fmt::Display for Arrival {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arrival::Gamma { shape } => write!(f, "gamma (burstiness {shape})"),
            other => f.write_str(other.name()),
        }
    }
}

/// The [`Arrival`] named by `--arrival` (case-insensitive), with `--burstiness` if given.
///
/// `--burstiness` is required with `gamma` and refused with the others rather than ignored:
/// a flag that silently does nothing would leave a report claiming a burstiness the run never
/// had, and a forgotten burstiness would quietly turn `gamma` into Poisson.
pub fn parse_arrival(name: &str, burstiness: Option<f64>) -> anyhow::Result<Arrival> {
    match (name.trim().to_ascii_lowercase().as_str(), burstiness) {
        ("constant", None) => Ok(Arrival::Constant),
        ("poisson", None) => Ok(Arrival::Poisson),
        ("gamma", Some(shape)) => {
            check_shape(shape)?;
            Ok(Arrival::Gamma { shape })
        }
        ("gamma", None) => bail!(
            "--arrival gamma needs --burstiness B (the gamma shape: 1 is Poisson, \
             below 1 burstier, above 1 more regular)"
        ),
        (law @ ("constant" | "poisson"), Some(b)) => bail!(
            "--burstiness {b} applies only to --arrival gamma, not --arrival {law}; \
             use --arrival gamma --burstiness {b}, or drop --burstiness"
        ),
        _ => bail!("--arrival: unknown arrival process `{name}`; use constant, poisson or gamma"),
    }
}

/// Refuses a gamma shape the sampler cannot use.
fn check_shape(shape: f64) -> anyhow::Result<()> {
    ensure!(
        shape.is_finite() && shape > 0.0,
        "--burstiness must be a positive, finite number (got {shape})"
    );
    Ok(())
}

/// The send offsets of an open-loop run: an infinite, non-decreasing sequence of durations
/// from the run start, the k-th being the intended send time of the k-th request.
///
/// The first offset is 0 for every law (the run starts with a send); later ones follow the
/// gap law, warped by the ramp-up if there is one. The sequence ends only if an offset no
/// longer fits in a [`Duration`] (hundreds of billions of years).
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Target rate R in requests per second.
    rate: f64,
    arrival: Arrival,
    ramp: Option<Ramp>,
    rng: ScheduleRng,
    /// Offsets handed out so far.
    index: u64,
    /// Operational time (seconds at rate R from the start) of the last random arrival.
    operational: f64,
    /// The last offset handed out; a floor that keeps rounding from ever going backwards.
    last: Duration,
}

impl Schedule {
    /// A schedule at `rate` requests per second (`--rate`) with gap law `arrival`, random
    /// draws seeded by `seed` (`--seed`), and an optional linear `ramp_up` (`--ramp-up`; zero
    /// means none). Fails if the rate is not a positive, finite number or a gamma shape is
    /// not positive and finite.
    pub fn new(
        rate: f64,
        arrival: Arrival,
        seed: u64,
        ramp_up: Option<Duration>,
    ) -> anyhow::Result<Schedule> {
        ensure!(
            rate.is_finite() && rate > 0.0,
            "--rate must be a positive, finite number of requests per second (got {rate})"
        );
        if let Arrival::Gamma { shape } = arrival {
            check_shape(shape)?;
        }
        Ok(Schedule {
            rate,
            arrival,
            ramp: ramp_up.and_then(|ramp| Ramp::new(ramp.as_secs_f64())),
            rng: ScheduleRng::seed_from_u64(seed),
            index: 0,
            operational: 0.0,
            last: Duration::ZERO,
        })
    }

    /// Operational time of the next arrival: seconds from the start at the full rate R.
    fn next_operational(&mut self) -> f64 {
        match self.arrival {
            // k/R from the index itself: exact to the last bit, with no sum to accumulate.
            Arrival::Constant => self.index as f64 / self.rate,
            _ if self.index == 0 => 0.0,
            _ => {
                self.operational += self.random_gap();
                self.operational
            }
        }
    }

    /// One random gap in seconds at rate R (mean 1/R).
    fn random_gap(&mut self) -> f64 {
        match self.arrival {
            Arrival::Constant => 1.0 / self.rate,
            Arrival::Poisson => arrival::exponential(&mut self.rng) / self.rate,
            // Divided in this order so a huge shape cannot overflow R·shape to infinity.
            Arrival::Gamma { shape } => arrival::gamma(&mut self.rng, shape) / shape / self.rate,
        }
    }
}

impl Iterator for Schedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let operational = self.next_operational();
        let real = self.ramp.map_or(operational, |ramp| ramp.real_time(operational));
        // At the join of the ramp the two branches may round an ulp apart; never go back.
        let offset = Duration::try_from_secs_f64(real).ok()?.max(self.last);
        self.last = offset;
        self.index += 1;
        Some(offset)
    }
}

// Operational time never decreases, so once an offset overflows every later one does too.
impl FusedIterator for Schedule {}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: u64 = 20_240_601;

    fn schedule(rate: f64, arrival: Arrival, seed: u64, ramp: Option<Duration>) -> Schedule {
        Schedule::new(rate, arrival, seed, ramp).unwrap()
    }

    /// The first `n` offsets of an unramped schedule, in seconds.
    fn offsets(rate: f64, arrival: Arrival, seed: u64, n: usize) -> Vec<f64> {
        schedule(rate, arrival, seed, None).take(n).map(|d| d.as_secs_f64()).collect()
    }

    /// The `n` gaps between the first `n + 1` offsets, in seconds.
    fn gaps(rate: f64, arrival: Arrival, seed: u64, n: usize) -> Vec<f64> {
        offsets(rate, arrival, seed, n + 1).windows(2).map(|w| w[1] - w[0]).collect()
    }

    fn mean(values: &[f64]) -> f64 {
        values.iter().sum::<f64>() / values.len() as f64
    }

    /// Sample standard deviation over the mean.
    fn coefficient_of_variation(values: &[f64]) -> f64 {
        let m = mean(values);
        let variance =
            values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (values.len() - 1) as f64;
        variance.sqrt() / m
    }

    /// The one-sample Kolmogorov–Smirnov statistic D = sup |F_n(x) − F(x)| of `samples`
    /// against the fully specified CDF `cdf`. The supremum is reached at a sample, just
    /// before or just after the empirical CDF steps, hence the two differences.
    fn ks_statistic(samples: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len() as f64;
        sorted.iter().enumerate().fold(0.0, |d: f64, (i, &x)| {
            let f = cdf(x);
            d.max((i + 1) as f64 / n - f).max(f - i as f64 / n)
        })
    }

    /// Whether `samples` pass a KS test against `cdf` at α = 0.01. The critical value is
    /// the asymptotic one, √(−ln(α/2)/2)/√n = 1.628/√n, accurate to under 1 % for n in the
    /// thousands; the CDF must be fully specified, not fitted to the data, as the test requires.
    fn passes_ks(samples: &[f64], cdf: impl Fn(f64) -> f64) -> bool {
        ks_statistic(samples, cdf) < 1.628 / (samples.len() as f64).sqrt()
    }

    /// Whether `gaps` pass the KS test against Exp(`rate`).
    fn looks_exponential(gaps: &[f64], rate: f64) -> bool {
        passes_ks(gaps, |x| 1.0 - (-rate * x).exp())
    }

    fn assert_near(actual: f64, expected: f64, tolerance: f64, what: &str) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "{what}: {actual} is not within {tolerance} of {expected}"
        );
    }

    #[test]
    fn constant_offsets_are_exact_multiples_of_the_period() {
        // 1/3 has no exact binary form: a summed schedule would be off by now.
        for (k, offset) in schedule(3.0, Arrival::Constant, SEED, None).take(100_000).enumerate() {
            let exact_nanos = k as f64 * 1e9 / 3.0;
            assert_near(offset.as_nanos() as f64, exact_nanos, 1.0, &format!("offset {k}"));
        }
    }

    #[test]
    fn constant_ramp_up_sends_half_the_requests_with_shrinking_gaps() {
        let (rate, ramp) = (100.0, Duration::from_secs(10));
        let during: Vec<Duration> = schedule(rate, Arrival::Constant, SEED, Some(ramp))
            .take_while(|&t| t <= ramp)
            .collect();
        // ∫λ over the ramp is R·T/2 = 500, plus the send at 0.
        assert_eq!(during.len(), 501);
        // The first gap is √(2T/R) = √0.2 s; each later one is shorter.
        assert_near(during[1].as_secs_f64(), 0.2f64.sqrt(), 1e-9, "first gap");
        let ramp_gaps: Vec<Duration> = during.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(ramp_gaps.windows(2).all(|g| g[1] < g[0]), "gaps must shrink during the ramp");
        assert!(ramp_gaps[0] > 40 * ramp_gaps[ramp_gaps.len() - 1]);
    }

    #[test]
    fn after_the_ramp_the_constant_schedule_runs_at_full_rate() {
        let ramp = Some(Duration::from_secs(10));
        let after: Vec<f64> = schedule(100.0, Arrival::Constant, SEED, ramp)
            .skip(1_000)
            .take(1_001)
            .map(|d| d.as_secs_f64())
            .collect();
        // Request 1000 is at operational time 10 s, i.e. 10 + T/2 = 15 s of real time.
        assert_near(after[0], 15.0, 1e-9, "offset 1000");
        for gap in after.windows(2).map(|w| w[1] - w[0]) {
            assert_near(gap, 0.01, 2e-9, "gap after the ramp");
        }
    }

    #[test]
    fn a_zero_ramp_is_no_ramp() {
        let plain = schedule(50.0, Arrival::Poisson, SEED, None);
        let zero = schedule(50.0, Arrival::Poisson, SEED, Some(Duration::ZERO));
        assert!(plain.take(1_000).eq(zero.take(1_000)));
    }

    #[test]
    fn poisson_ramp_up_sends_half_the_requests() {
        let (rate, ramp) = (200.0, Duration::from_secs(30));
        let during =
            schedule(rate, Arrival::Poisson, SEED, Some(ramp)).take_while(|&t| t <= ramp).count();
        // The count is Poisson with mean R·T/2 = 3000 (sd 55), plus the send at 0: 4 sd.
        assert_near(during as f64, 3001.0, 220.0, "sends during the ramp");
    }

    #[test]
    fn poisson_gaps_pass_a_ks_test_against_the_exponential() {
        let rate = 200.0;
        assert!(looks_exponential(&gaps(rate, Arrival::Poisson, SEED, 2_000), rate));
    }

    #[test]
    fn constant_gaps_fail_the_same_ks_test() {
        // Negative control: D is 1 − e^−1 ≈ 0.63 here, against a critical value of 0.036.
        let rate = 200.0;
        assert!(!looks_exponential(&gaps(rate, Arrival::Constant, SEED, 2_000), rate));
    }

    #[test]
    fn poisson_mean_gap_is_one_over_the_rate() {
        // The standard error of the mean of 20,000 exponential gaps is 0.7 %; 3 % is 4 of them.
        let mean_gap = mean(&gaps(200.0, Arrival::Poisson, SEED, 20_000));
        assert_near(mean_gap * 200.0, 1.0, 0.03, "mean gap × rate");
    }

    #[test]
    fn gamma_with_shape_one_is_exponential() {
        let rate = 200.0;
        let gamma = Arrival::Gamma { shape: 1.0 };
        assert!(looks_exponential(&gaps(rate, gamma, SEED, 2_000), rate));
    }

    #[test]
    fn gamma_shape_four_is_regular_and_keeps_the_mean() {
        let g = gaps(200.0, Arrival::Gamma { shape: 4.0 }, SEED, 20_000);
        // Standard errors over 20,000 gaps: 0.35 % for the mean, 0.003 for the CV.
        assert_near(mean(&g) * 200.0, 1.0, 0.02, "mean gap × rate");
        assert_near(coefficient_of_variation(&g), 0.5, 0.05, "coefficient of variation");
        assert!(!looks_exponential(&g[..2_000], 200.0), "shape 4 must not pass as Poisson");
    }

    #[test]
    fn gamma_shape_four_gaps_follow_the_erlang_law() {
        // Integer shapes have a closed-form CDF (Erlang): with y = x / scale = R·k·x,
        // F(x) = 1 − e^−y (1 + y + y²/2 + y³/6) for k = 4. This checks the whole law of the
        // Marsaglia–Tsang sampler, not only its first two moments.
        let rate = 200.0;
        let g = gaps(rate, Arrival::Gamma { shape: 4.0 }, SEED, 2_000);
        assert!(passes_ks(&g, |x| {
            let y = rate * 4.0 * x;
            1.0 - (-y).exp() * (1.0 + y + y * y / 2.0 + y * y * y / 6.0)
        }));
    }

    #[test]
    fn gamma_shape_quarter_is_bursty_and_keeps_the_mean() {
        let g = gaps(200.0, Arrival::Gamma { shape: 0.25 }, SEED, 20_000);
        // Heavier tails widen the errors: 1.4 % for the mean and 0.036 for the CV (the
        // kurtosis of gamma(0.25) is 27); the bounds are four standard errors.
        assert_near(mean(&g) * 200.0, 1.0, 0.06, "mean gap × rate");
        assert_near(coefficient_of_variation(&g), 2.0, 0.15, "coefficient of variation");
    }

    #[test]
    fn the_same_seed_gives_the_same_schedule() {
        for arrival in [Arrival::Poisson, Arrival::Gamma { shape: 0.5 }] {
            let ramp = Some(Duration::from_secs(5));
            let a = schedule(100.0, arrival, 7, ramp);
            let b = schedule(100.0, arrival, 7, ramp);
            assert!(a.take(5_000).eq(b.take(5_000)), "{arrival}");
        }
    }

    #[test]
    fn different_seeds_give_different_schedules() {
        for arrival in [Arrival::Poisson, Arrival::Gamma { shape: 0.5 }] {
            let a: Vec<Duration> = schedule(100.0, arrival, 7, None).take(100).collect();
            let b: Vec<Duration> = schedule(100.0, arrival, 8, None).take(100).collect();
            // Only the shared first offset (0) may coincide.
            let same = a.iter().zip(&b).filter(|(x, y)| x == y).count();
            assert_eq!(same, 1, "{arrival}");
        }
    }

    #[test]
    fn schedule_is_pinned_for_a_seed() {
        // Golden values: a change in `rand`'s generator or in the samplers shows up here
        // rather than as runs that silently stop matching earlier ones.
        let nanos: Vec<u128> =
            schedule(1.0, Arrival::Poisson, 42, None).take(4).map(|d| d.as_nanos()).collect();
        assert_eq!(nanos, GOLDEN_POISSON);
        let nanos: Vec<u128> = schedule(1.0, Arrival::Gamma { shape: 0.5 }, 42, None)
            .take(4)
            .map(|d| d.as_nanos())
            .collect();
        assert_eq!(nanos, GOLDEN_GAMMA);
    }
    const GOLDEN_POISSON: [u128; 4] = [0, 747_724_618, 1_530_195_395, 2_542_075_368];
    const GOLDEN_GAMMA: [u128; 4] = [0, 211_993_888, 254_615_604, 1_151_388_224];

    #[test]
    fn constant_schedule_does_not_drift() {
        // 12,000 gaps at 200 req/s end at 60 s, to the nanosecond.
        let end = schedule(200.0, Arrival::Constant, SEED, None).nth(12_000).unwrap();
        assert_eq!(end, Duration::from_secs(60));
    }

    #[test]
    fn poisson_schedule_does_not_drift() {
        // A sum of 12,000 Exp(200) gaps has mean 60 s and sd √12000/200 = 0.55 s (0.9 %), so
        // 1 % is only 1.1 sd of honest randomness; 4 sd (2.2 s) bounds it instead. A drift
        // would grow with n: at 1,200,000 gaps the sd is 0.09 %, so 1 % is 11 sd.
        let end = schedule(200.0, Arrival::Poisson, SEED, None).nth(12_000).unwrap();
        assert_near(end.as_secs_f64(), 60.0, 2.2, "offset 12,000");
        let end = schedule(200.0, Arrival::Poisson, SEED, None).nth(1_200_000).unwrap();
        assert_near(end.as_secs_f64(), 6_000.0, 60.0, "offset 1,200,000");
    }

    #[test]
    fn offsets_never_go_backwards() {
        // Shape 0.05 makes many zero gaps; the ramp adds the join where rounding could slip.
        let ramp = Some(Duration::from_millis(1_500));
        for arrival in [Arrival::Constant, Arrival::Poisson, Arrival::Gamma { shape: 0.05 }] {
            let offsets: Vec<Duration> =
                schedule(1_000.0, arrival, SEED, ramp).take(20_000).collect();
            assert_eq!(offsets[0], Duration::ZERO);
            assert!(offsets.windows(2).all(|w| w[0] <= w[1]), "{arrival}");
        }
    }

    #[test]
    fn bad_rates_are_refused() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let error = Schedule::new(rate, Arrival::Constant, SEED, None).unwrap_err();
            assert!(error.to_string().contains("--rate"), "{rate}: {error}");
        }
    }

    #[test]
    fn bad_shapes_are_refused() {
        for shape in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let error = Schedule::new(10.0, Arrival::Gamma { shape }, SEED, None).unwrap_err();
            assert!(error.to_string().contains("--burstiness"), "{shape}: {error}");
            let error = parse_arrival("gamma", Some(shape)).unwrap_err();
            assert!(error.to_string().contains("--burstiness"), "{shape}: {error}");
        }
    }

    #[test]
    fn arrival_names_parse() {
        assert_eq!(parse_arrival("constant", None).unwrap(), Arrival::Constant);
        assert_eq!(parse_arrival(" Poisson ", None).unwrap(), Arrival::Poisson);
        assert_eq!(parse_arrival("GAMMA", Some(0.5)).unwrap(), Arrival::Gamma { shape: 0.5 });
        assert_eq!(Arrival::Gamma { shape: 0.5 }.to_string(), "gamma (burstiness 0.5)");
        assert_eq!(Arrival::Gamma { shape: 0.5 }.name(), "gamma");
        assert_eq!(Arrival::Constant.to_string(), "constant");
    }

    #[test]
    fn arrival_flag_mistakes_name_the_flags() {
        let message = |name, burstiness| parse_arrival(name, burstiness).unwrap_err().to_string();
        assert!(message("uniform", None).contains("--arrival"));
        assert!(message("gamma", None).contains("--burstiness"));
        let stray = message("constant", Some(2.0));
        assert!(stray.contains("--burstiness") && stray.contains("--arrival gamma"), "{stray}");
        assert!(message("poisson", Some(1.0)).contains("--burstiness"));
    }
}
