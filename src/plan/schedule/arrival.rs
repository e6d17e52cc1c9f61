//! Random variates for inter-arrival gaps, built only on uniform draws.
//!
//! `rand_distr` would supply these, but the only release in reach (0.6) depends on `rand`
//! 0.10 while the tree compiles `rand` 0.9; a second `rand` would double the build for three
//! short functions. Every variate here is a fixed function of the uniform stream, so a seed
//! gives the same gaps wherever the generator gives the same words.

use rand::Rng;

/// A uniform draw in (0, 1]: never 0, so its logarithm is finite.
fn open_unit(rng: &mut impl Rng) -> f64 {
    // `random::<f64>()` is in [0, 1); reflecting it excludes 0 and admits 1.
    1.0 - rng.random::<f64>()
}

/// A standard exponential variate (mean 1), by inversion: −ln U.
pub(super) fn exponential(rng: &mut impl Rng) -> f64 {
    -open_unit(rng).ln()
}

/// A standard normal variate, by Box–Muller (one of the pair; the other is dropped to keep
/// the sampler stateless, which costs a few uniforms and nothing in correctness).
pub(crate) fn standard_normal(rng: &mut impl Rng) -> f64 {
    let radius = (-2.0 * open_unit(rng).ln()).sqrt();
    let angle = std::f64::consts::TAU * rng.random::<f64>();
    radius * angle.cos()
}

/// A gamma variate with shape `shape` (> 0) and scale 1: mean `shape`, variance `shape`.
///
/// Marsaglia and Tsang, "A simple method for generating gamma variables" (ACM TOMS 26(3),
/// 2000). For shape ≥ 1 it accepts `d·v` with `v = (1 + c·x)³`, `x` standard normal,
/// `d = shape − 1/3`, `c = 1/√(9d)`; the rejection rate is below 5 % for every shape. For
/// shape < 1 it uses their boost: `Gamma(shape) = Gamma(shape + 1) · U^(1/shape)`.
pub(super) fn gamma(rng: &mut impl Rng, shape: f64) -> f64 {
    if shape < 1.0 {
        // Tiny shapes underflow this to 0: a zero gap, i.e. part of a burst, as intended.
        return gamma(rng, shape + 1.0) * open_unit(rng).powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = standard_normal(rng);
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u = open_unit(rng);
        // The squeeze accepts ~98 % of draws without a logarithm; the second test is exact.
        if u < 1.0 - 0.0331 * x.powi(4) || u.ln() < 0.5 * x * x + d * (1.0 - v + v.ln()) {
            return d * v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    /// Sample mean and variance of `n` draws of `draw`.
    fn moments(n: usize, mut draw: impl FnMut() -> f64) -> (f64, f64) {
        let values: Vec<f64> = (0..n).map(|_| draw()).collect();
        let mean = values.iter().sum::<f64>() / n as f64;
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        (mean, variance)
    }

    #[test]
    fn open_unit_stays_in_the_half_open_interval() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..10_000 {
            let u = open_unit(&mut rng);
            assert!(u > 0.0 && u <= 1.0, "{u}");
        }
    }

    #[test]
    fn normal_has_zero_mean_and_unit_variance() {
        let mut rng = StdRng::seed_from_u64(2);
        let (mean, variance) = moments(20_000, || standard_normal(&mut rng));
        // Standard errors over 20,000 draws: 0.007 for the mean, 0.01 for the variance.
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((variance - 1.0).abs() < 0.05, "variance {variance}");
    }

    #[test]
    fn gamma_mean_and_variance_equal_the_shape() {
        for shape in [0.25, 0.5, 1.0, 2.5, 4.0, 30.0] {
            let mut rng = StdRng::seed_from_u64(3);
            let (mean, variance) = moments(20_000, || gamma(&mut rng, shape));
            // Relative standard errors are at most 1.4 % (mean) and 3.6 % (variance, shape
            // 0.25, whose kurtosis is 27); the bounds sit above four of them.
            assert!((mean / shape - 1.0).abs() < 0.06, "shape {shape}: mean {mean}");
            assert!((variance / shape - 1.0).abs() < 0.15, "shape {shape}: variance {variance}");
        }
    }

    #[test]
    fn gamma_with_tiny_shape_is_finite_and_non_negative() {
        let mut rng = StdRng::seed_from_u64(4);
        for _ in 0..1_000 {
            let g = gamma(&mut rng, 1e-3);
            assert!(g.is_finite() && g >= 0.0, "{g}");
        }
    }
}
