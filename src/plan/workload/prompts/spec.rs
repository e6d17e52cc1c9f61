//! A length in tokens as the benchmarks publish it: `N` (every request), `N±SD` (normal,
//! rounded, never under 1) or `LO..HI` (uniform, both ends included). `--input-tokens` and
//! `--output-tokens` take one each.

use std::fmt;

use anyhow::bail;
use rand::Rng;

use crate::plan::schedule::standard_normal;

/// How many tokens a request asks for, drawn per request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LengthSpec {
    /// The same length for every request.
    Exactly(u64),
    /// Normally distributed around `mean` with standard deviation `sd`, rounded, clipped at 1.
    Normal {
        /// The mean, in tokens.
        mean: f64,
        /// The standard deviation, in tokens.
        sd: f64,
    },
    /// Uniform over `lo..=hi`.
    Uniform {
        /// The shortest length.
        lo: u64,
        /// The longest length.
        hi: u64,
    },
}

impl LengthSpec {
    /// Parses `N`, `N±SD` (also `N+-SD`) or `LO..HI`; errors name `flag` and say what fits.
    pub fn parse(text: &str, flag: &str) -> anyhow::Result<LengthSpec> {
        let t = text.trim();
        let whole = |s: &str| s.trim().parse::<u64>().ok().filter(|&n| n >= 1);
        let spec = if let Some((lo, hi)) = t.split_once("..") {
            match (whole(lo), whole(hi)) {
                (Some(lo), Some(hi)) if lo <= hi => LengthSpec::Uniform { lo, hi },
                (Some(_), Some(_)) => bail!("`{flag} {text}`: the range runs from low to high"),
                _ => {
                    bail!("`{flag} {text}`: a range is two whole numbers of tokens, e.g. 200..400")
                }
            }
        } else if let Some((mean, sd)) = t.split_once('±').or_else(|| t.split_once("+-")) {
            let sd = sd.trim().parse::<f64>().ok().filter(|sd| sd.is_finite() && *sd >= 0.0);
            match (whole(mean), sd) {
                (Some(mean), Some(sd)) => LengthSpec::Normal { mean: mean as f64, sd },
                _ => bail!("`{flag} {text}`: write the mean and standard deviation, e.g. 1000±100"),
            }
        } else {
            match whole(t) {
                Some(n) => LengthSpec::Exactly(n),
                None => bail!(
                    "`{flag} {text}`: expected a number of tokens (at least 1): N, N±SD or LO..HI"
                ),
            }
        };
        Ok(spec)
    }

    /// One request's length.
    pub fn sample(&self, rng: &mut impl Rng) -> u64 {
        match *self {
            LengthSpec::Exactly(n) => n,
            LengthSpec::Normal { mean, sd } => {
                let drawn = (mean + sd * standard_normal(rng)).round();
                if drawn < 1.0 { 1 } else { drawn as u64 }
            }
            LengthSpec::Uniform { lo, hi } => rng.random_range(lo..=hi),
        }
    }

    /// The longest length it can give, where there is one (not for a normal law).
    pub fn max(&self) -> Option<u64> {
        match *self {
            LengthSpec::Exactly(n) | LengthSpec::Uniform { hi: n, .. } => Some(n),
            LengthSpec::Normal { .. } => None,
        }
    }
}

impl fmt::Display for LengthSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LengthSpec::Exactly(n) => write!(f, "{n}"),
            LengthSpec::Normal { mean, sd } => write!(f, "{mean}±{sd}"),
            LengthSpec::Uniform { lo, hi } => write!(f, "{lo}..{hi}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn parse(text: &str) -> anyhow::Result<LengthSpec> {
        LengthSpec::parse(text, "--input-tokens")
    }

    #[test]
    fn every_documented_form_parses_and_prints_back() {
        assert_eq!(parse("1024").unwrap(), LengthSpec::Exactly(1024));
        assert_eq!(parse(" 1000±100 ").unwrap(), LengthSpec::Normal { mean: 1000.0, sd: 100.0 });
        assert_eq!(parse("1000+-12.5").unwrap(), LengthSpec::Normal { mean: 1000.0, sd: 12.5 });
        assert_eq!(parse("200..400").unwrap(), LengthSpec::Uniform { lo: 200, hi: 400 });
        for text in ["1024", "1000±100", "200..400"] {
            assert_eq!(parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn bad_lengths_name_the_flag_and_the_form() {
        for (bad, says) in [
            ("0", "at least 1"),
            ("many", "N, N±SD or LO..HI"),
            ("400..200", "from low to high"),
            ("1..x", "two whole numbers"),
            ("1000±", "mean and standard deviation"),
            ("1000±-5", "mean and standard deviation"),
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.starts_with(&format!("`--input-tokens {bad}`")), "{e}");
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn draws_follow_their_law_for_a_fixed_seed() {
        let mut rng = StdRng::seed_from_u64(7);
        let normal = parse("1000±100").unwrap();
        let draws: Vec<f64> = (0..20_000).map(|_| normal.sample(&mut rng) as f64).collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let sd =
            (draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / draws.len() as f64).sqrt();
        // Standard errors at n = 20,000: 0.7 tokens for the mean, 0.5 for the SD.
        assert!((mean - 1000.0).abs() < 3.0, "mean {mean}");
        assert!((sd - 100.0).abs() < 2.5, "sd {sd}");

        let uniform = parse("200..400").unwrap();
        let draws: Vec<u64> = (0..5_000).map(|_| uniform.sample(&mut rng)).collect();
        assert!(draws.iter().all(|d| (200..=400).contains(d)));
        assert!(draws.contains(&200) && draws.contains(&400), "both ends are reached");

        let clipped = parse("1±50").unwrap();
        assert!((0..1_000).all(|_| clipped.sample(&mut rng) >= 1), "never under one token");
        assert_eq!(parse("64").unwrap().sample(&mut rng), 64);
    }
}
