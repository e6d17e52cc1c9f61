//! The ramp-up as a time warp from operational time to real time.
//!
//! During a ramp of length T to the target rate R the intensity is λ(t) = R·t/T for t < T and
//! R afterwards, so the cumulative intensity is Λ(t) = R·t²/(2T) before T and
//! R·T/2 + R·(t − T) after. A process generated at the constant rate R has, at its own time s,
//! cumulative intensity R·s; mapping s to the real time t with Λ(t) = R·s turns it into the
//! ramped process (exactly so for Poisson, by the time-rescaling theorem; for the constant
//! and gamma laws it is what "the same law, ramped" means here). R cancels, leaving
//! t = √(2·T·s) for s < T/2 and t = s + T/2 afterwards: closed form, so nothing accumulates.

/// A linear ramp from rate 0 to the full rate over a fixed length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Ramp {
    /// Length of the ramp in seconds (> 0).
    secs: f64,
}

impl Ramp {
    /// A ramp of `secs` seconds; `None` when there is no ramp to apply (zero length).
    pub(super) fn new(secs: f64) -> Option<Ramp> {
        (secs > 0.0).then_some(Ramp { secs })
    }

    /// The real time, in seconds from the run start, of operational time `s` (seconds as if
    /// the full rate had applied from the start).
    pub(super) fn real_time(&self, s: f64) -> f64 {
        let half = self.secs / 2.0;
        if s < half { (2.0 * self.secs * s).sqrt() } else { s + half }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Λ(t)/R: the operational time reached at real time `t` under a ramp of `secs`.
    fn operational_time(secs: f64, t: f64) -> f64 {
        if t < secs { t * t / (2.0 * secs) } else { secs / 2.0 + (t - secs) }
    }

    #[test]
    fn zero_length_means_no_ramp() {
        assert_eq!(Ramp::new(0.0), None);
        assert!(Ramp::new(1e-9).is_some());
    }

    #[test]
    fn real_time_inverts_the_cumulative_intensity() {
        let ramp = Ramp::new(30.0).unwrap();
        for s in [0.0, 1e-6, 0.5, 7.0, 14.999, 15.0, 15.001, 40.0, 1e6] {
            let back = operational_time(30.0, ramp.real_time(s));
            assert!((back - s).abs() <= 1e-9 * s.max(1.0), "s {s}: back {back}");
        }
    }

    #[test]
    fn the_ramp_ends_at_its_length_and_then_runs_at_full_rate() {
        let ramp = Ramp::new(30.0).unwrap();
        assert_eq!(ramp.real_time(0.0), 0.0);
        // Half the operational time of the ramp is used up by the time the ramp ends.
        assert_eq!(ramp.real_time(15.0), 30.0);
        assert_eq!(ramp.real_time(25.0) - ramp.real_time(20.0), 5.0);
        // Early on, real time runs ahead: the first operational second takes √60 s.
        assert!((ramp.real_time(1.0) - 60f64.sqrt()).abs() < 1e-12);
    }
}
