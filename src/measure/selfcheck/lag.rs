//! The lag probe: a timer task that wakes every [`PERIOD`] and records how late each wake-up
//! was. A busy or CPU-starved event loop wakes it late, and reads the streams' sockets late too.

use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::{duration_us, us_to_ms};

/// How often the sampler wakes. Often enough to catch stalls of a few timer periods in a
/// one-second run (100 samples), rare enough to cost nothing measurable.
pub(super) const PERIOD: Duration = Duration::from_millis(10);

/// Wakes every [`PERIOD`] and records how late each wake-up was, in µs, until `stop` fires
/// or its sender is dropped.
pub(super) async fn sample_lag(mut stop: oneshot::Receiver<()>) -> Histogram<u64> {
    let mut lag = new_histogram();
    loop {
        // A fresh deadline from now after each wake (like `MissedTickBehavior::Delay`): after
        // a long stall, catching up on missed ticks would record a burst of fake lags.
        let deadline = Instant::now() + PERIOD;
        tokio::select! {
            biased;
            _ = &mut stop => break,
            () = tokio::time::sleep_until(deadline) => {
                let late = Instant::now().saturating_duration_since(deadline);
                record(&mut lag, duration_us(late));
            }
        }
    }
    lag
}

pub(super) fn new_histogram() -> Histogram<u64> {
    // `new` auto-resizes, so no lag is rejected for being too large.
    Histogram::new(3).expect("3 significant digits is a valid HDR precision")
}

fn record(hist: &mut Histogram<u64>, us: u64) {
    // `saturating_record` alone would clamp to the initial range (about 2 ms) instead of
    // growing; only a failed resize (a 32-bit usize) falls back to it.
    if hist.record(us).is_err() {
        hist.saturating_record(us);
    }
}

pub(super) fn quantile_ms(hist: &Histogram<u64>, quantile: f64) -> f64 {
    if hist.is_empty() { 0.0 } else { us_to_ms(hist.value_at_quantile(quantile)) }
}
