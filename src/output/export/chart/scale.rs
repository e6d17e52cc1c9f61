//! Axis scales: a data range mapped onto pixels, widened to round ticks (linear) or with
//! ticks at 1, 2, 5 × 10ᵏ (logarithmic).

use super::{Axis, Scale};

/// One axis's domain, ticks and pixel range.
pub(super) struct Mapping {
    scale: Scale,
    lo: f64,
    hi: f64,
    from: f64,
    to: f64,
    /// Where the ticks go, in data units.
    pub(super) ticks: Vec<f64>,
}

impl Mapping {
    pub(super) fn new(
        axis: &Axis,
        values: impl Iterator<Item = f64>,
        from: f64,
        to: f64,
    ) -> Mapping {
        let (mut lo, mut hi) =
            values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let (lo, hi, ticks) = match axis.scale {
            Scale::Linear => {
                for &v in axis.include.iter().filter(|v| v.is_finite()) {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
                linear_ticks(lo, hi)
            }
            Scale::Log => {
                if hi <= lo {
                    (lo, hi) = (lo / 2.0, hi * 2.0);
                }
                (lo, hi, log_ticks(lo, hi))
            }
        };
        Mapping { scale: axis.scale, lo, hi, from, to, ticks }
    }

    pub(super) fn position(&self, v: f64) -> f64 {
        let f = match self.scale {
            Scale::Linear => (v - self.lo) / (self.hi - self.lo),
            Scale::Log => (v / self.lo).ln() / (self.hi / self.lo).ln(),
        };
        self.from + (self.to - self.from) * f
    }
}

/// A domain widened to whole steps of a round size (1, 2 or 5 × 10ᵏ), about five of them,
/// and the ticks at every step.
pub(super) fn linear_ticks(lo: f64, hi: f64) -> (f64, f64, Vec<f64>) {
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() / 2.0 };
        (lo - pad, hi + pad)
    };
    let raw = (hi - lo) / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step =
        [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(raw);
    let (first, last) = ((lo / step).floor() as i64, (hi / step).ceil() as i64);
    // Integer multiples, not repeated addition: no drift, and 0 is exactly 0.
    let ticks: Vec<f64> = (first..=last).map(|k| k as f64 * step).collect();
    (first as f64 * step, last as f64 * step, ticks)
}

/// Ticks at 1, 2 and 5 × 10ᵏ inside `[lo, hi]`, or at the powers of ten only when those are
/// too many; the two ends when no round value falls inside.
pub(super) fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (k0, k1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let within = |v: &f64| *v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9);
    let ticks = |ms: &[f64]| -> Vec<f64> {
        (k0..=k1).flat_map(|k| ms.iter().map(move |m| m * 10f64.powi(k))).filter(within).collect()
    };
    let mut chosen = ticks(&[1.0, 2.0, 5.0]);
    if chosen.len() > 8 {
        chosen = ticks(&[1.0]);
    }
    if chosen.len() < 2 {
        chosen = vec![lo, hi];
    }
    chosen
}
