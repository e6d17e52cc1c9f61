//! The Mann–Whitney U test (Wilcoxon rank-sum), two-sided, by the normal approximation with
//! tie correction and continuity correction: what `scipy.stats.mannwhitneyu(a, b,
//! alternative="two-sided", method="asymptotic")` computes, so its values can be checked
//! against scipy (the unit tests hold scipy 1.17's numbers).
//!
//! Why this test: latency distributions are skewed and long-tailed, so a t-test's normality
//! assumption does not hold; U only uses ranks. With hundreds of requests a side the normal
//! approximation is accurate, and it is O(n log n) for any n.

use serde::Serialize;

/// The outcome of one test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MannWhitney {
    /// U of the first sample: how many (a, b) pairs have a > b, ties counting ½.
    pub u: f64,
    /// The standardised statistic (continuity-corrected); 0 when every value is tied.
    pub z: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// Sample sizes.
    pub n_a: usize,
    /// Sample sizes.
    pub n_b: usize,
}

impl MannWhitney {
    /// `U / (n_a·n_b)`: the probability that a value of A exceeds one of B (ties ½), the
    /// "common-language effect size"; 0.5 means no tendency either way.
    pub fn prob_a_greater(&self) -> f64 {
        self.u / (self.n_a as f64 * self.n_b as f64)
    }
}

/// Tests whether `a` and `b` come from the same distribution. `None` when either sample is
/// empty. NaN values must not be passed (records never hold them).
pub fn test(a: &[f64], b: &[f64]) -> Option<MannWhitney> {
    let (n_a, n_b) = (a.len(), b.len());
    if n_a == 0 || n_b == 0 {
        return None;
    }
    let mut all: Vec<(f64, bool)> =
        a.iter().map(|&v| (v, true)).chain(b.iter().map(|&v| (v, false))).collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));

    // Average ranks over runs of ties; Σ(t³ − t) over the runs for the variance correction.
    let (mut rank_sum_a, mut ties) = (0.0, 0.0);
    let mut start = 0;
    while start < all.len() {
        let end = start + all[start..].iter().take_while(|x| x.0 == all[start].0).count();
        let rank = (start + end + 1) as f64 / 2.0; // ranks start..end are 1-based start+1..=end
        let in_a = all[start..end].iter().filter(|x| x.1).count();
        rank_sum_a += rank * in_a as f64;
        let t = (end - start) as f64;
        ties += t * t * t - t;
        start = end;
    }

    let (na, nb) = (n_a as f64, n_b as f64);
    let n = na + nb;
    let u = rank_sum_a - na * (na + 1.0) / 2.0;
    let mean = na * nb / 2.0;
    let variance = na * nb / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    if variance <= 0.0 {
        return Some(MannWhitney { u, z: 0.0, p: 1.0, n_a, n_b });
    }
    // scipy: the larger U, minus ½ for continuity; p = 2·P(Z > z), at most 1.
    let big = u.max(na * nb - u);
    let z = (big - mean - 0.5) / variance.sqrt();
    let p = (2.0 * normal_sf(z)).min(1.0);
    let signed = if u >= mean { z } else { -z };
    Some(MannWhitney { u, z: signed, p, n_a, n_b })
}

/// P(Z > z) for a standard normal Z.
fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// The complementary error function, by the Chebyshev fit of Numerical Recipes (`erfcc`):
/// relative error below 1.2·10⁻⁷ everywhere, so tiny p-values keep their magnitude.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64) -> bool {
        (got - want).abs() <= 1e-6 * want.abs().max(1e-300)
    }

    /// Reference values: scipy 1.17.1, `mannwhitneyu(a, b, alternative="two-sided",
    /// method="asymptotic")` (continuity correction on, the default).
    #[test]
    fn matches_scipy_on_small_samples() {
        let cases: &[(&[f64], &[f64], f64, f64)] = &[
            (
                &[1.1, 2.2, 3.3, 4.4, 5.5, 6.6, 7.7],
                &[2.5, 3.5, 8.5, 9.5, 10.5, 11.5],
                9.0,
                0.100_412_493_986_102_84,
            ),
            (
                &[1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0, 5.0],
                &[3.0, 3.0, 4.0, 4.0, 5.0, 5.0, 6.0, 7.0, 7.0],
                11.0,
                0.016_302_008_297_070_17,
            ),
            (
                &[0.2, 0.21, 0.19, 0.205, 0.198, 0.202, 0.2, 0.2],
                &[0.3, 0.31, 0.29, 0.305, 0.298, 0.302, 0.3, 0.3],
                0.0,
                0.000_875_362_934_842_355_4,
            ),
            (&[1.0, 2.0, 3.0, 4.0, 5.0], &[1.0, 2.0, 3.0, 4.0, 5.0], 12.5, 1.0),
        ];
        for (a, b, u, p) in cases {
            let r = test(a, b).unwrap();
            assert_eq!(r.u, *u, "{a:?} {b:?}");
            assert!(close(r.p, *p), "{a:?} {b:?}: p {} want {p}", r.p);
        }
    }

    #[test]
    fn matches_scipy_on_larger_samples_and_tiny_p() {
        let a: Vec<f64> = (0..50).map(f64::from).collect();
        let b: Vec<f64> = (50..100).map(f64::from).collect();
        let r = test(&a, &b).unwrap();
        assert_eq!(r.u, 0.0);
        assert!(close(r.p, 7.066_071_930_388_932e-18), "{}", r.p);
        assert!(r.z < 0.0, "A is smaller: {}", r.z);
        assert_eq!(r.prob_a_greater(), 0.0);

        let a: Vec<f64> = (0..40).map(|i| f64::from(i % 7)).collect();
        let b: Vec<f64> = (0..45).map(|i| f64::from(i % 7 + u32::from(i % 3 == 0))).collect();
        let r = test(&a, &b).unwrap();
        assert_eq!(r.u, 823.0);
        assert!(close(r.p, 0.496_368_791_015_742_5), "{}", r.p);
    }

    #[test]
    fn symmetric_in_p_and_complementary_in_u() {
        let a = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        let b = [2.0, 7.0, 1.0, 8.0, 2.0, 8.0];
        let (ab, ba) = (test(&a, &b).unwrap(), test(&b, &a).unwrap());
        assert_eq!(ab.p, ba.p);
        assert_eq!(ab.u + ba.u, 48.0);
        assert_eq!(ab.z, -ba.z);
    }

    #[test]
    fn degenerate_samples() {
        assert!(test(&[], &[1.0]).is_none());
        let r = test(&[2.0; 5], &[2.0; 7]).unwrap();
        assert_eq!((r.p, r.z, r.u), (1.0, 0.0, 17.5));
    }

    #[test]
    fn erfc_known_values() {
        for (x, want) in [
            (0.0, 1.0),
            (0.5, 0.479_500_122_186_953_5),
            (1.0, 0.157_299_207_050_285_13),
            (3.0, 2.209_049_699_858_544e-5),
            (-1.0, 1.842_700_792_949_715),
        ] {
            assert!((erfc(x) - want).abs() <= 1.2e-7 * want, "erfc({x}) = {}", erfc(x));
        }
    }
}
