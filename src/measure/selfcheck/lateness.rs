//! Send lateness of the open loop: how far behind its intended instant each request left,
//! counted in atomics (a log-linear histogram of them) so that noting a send never locks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{duration_us, us_to_ms};

/// A send more than this behind its intended instant is counted in `late_sends`, in µs. A
/// tokio timer fires 0–2 ms after its deadline (1 ms slots, rounded up, plus the OS wake-up;
/// measured: p99 2.0 ms on an idle 2-core VM), so anything under 5 ms is timer noise.
const LATE_SEND_US: u64 = 5_000;

/// A send more than this behind schedule, in µs, counts toward the send-lateness rule: well
/// above timer granularity, and enough to change the arrival pattern a server sees.
pub(super) const VERY_LATE_SEND_US: u64 = 10_000;

/// Lateness of open-loop sends, shared by every sending task: counters and a small
/// log-linear histogram of atomics, so noting a send never takes a lock.
#[derive(Debug)]
pub(super) struct SendLateness {
    sends: AtomicU64,
    late: AtomicU64,
    very_late: AtomicU64,
    buckets: Box<[AtomicU64]>,
}

/// What [`SendLateness`] held when read.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct SendCounts {
    pub sends: u64,
    pub late: u64,
    pub very_late: u64,
    pub p99_ms: f64,
}

impl SendLateness {
    pub(super) fn new() -> SendLateness {
        SendLateness {
            sends: AtomicU64::new(0),
            late: AtomicU64::new(0),
            very_late: AtomicU64::new(0),
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    pub(super) fn note(&self, late: Duration) {
        let us = duration_us(late);
        // Relaxed: each counter is read only after the load ended, by `finish`.
        self.sends.fetch_add(1, Ordering::Relaxed);
        if us > LATE_SEND_US {
            self.late.fetch_add(1, Ordering::Relaxed);
        }
        if us > VERY_LATE_SEND_US {
            self.very_late.fetch_add(1, Ordering::Relaxed);
        }
        self.buckets[bucket_of(us)].fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn snapshot(&self) -> SendCounts {
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).collect();
        SendCounts {
            sends: self.sends.load(Ordering::Relaxed),
            late: self.late.load(Ordering::Relaxed),
            very_late: self.very_late.load(Ordering::Relaxed),
            p99_ms: bucket_quantile_us(&counts, 0.99).map_or(0.0, us_to_ms),
        }
    }
}

/// Sub-buckets per power of two: values are kept within 1/8 (12.5 %).
const SUB_BITS: u32 = 3;
const SUB: usize = 1 << SUB_BITS;
/// Lateness is clamped to 2^32 µs (71 minutes), far beyond any meaningful value.
const MAX_EXPONENT: u32 = 31;
/// Values below `SUB` get a bucket each; then `SUB` buckets per power of two up to 2^32.
const BUCKETS: usize = SUB + (MAX_EXPONENT - SUB_BITS + 1) as usize * SUB;

/// The bucket of `us`: exact below 8, then 8 buckets per power of two.
fn bucket_of(us: u64) -> usize {
    let us = us.min(u64::from(u32::MAX));
    if us < SUB as u64 {
        return us as usize;
    }
    let exponent = 63 - us.leading_zeros(); // >= SUB_BITS
    let sub = (us >> (exponent - SUB_BITS)) as usize & (SUB - 1);
    SUB + (exponent - SUB_BITS) as usize * SUB + sub
}

/// The largest value in bucket `index`, in µs (as HDR reports a quantile: never under it).
fn bucket_high_us(index: usize) -> u64 {
    if index < SUB {
        return index as u64;
    }
    let shift = ((index - SUB) / SUB) as u32;
    let sub = ((index - SUB) % SUB) as u64;
    ((SUB as u64 + sub + 1) << shift) - 1
}

/// The value at `quantile` of bucket `counts`, in µs; `None` when all are empty.
fn bucket_quantile_us(counts: &[u64], quantile: f64) -> Option<u64> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    // The rank of the quantile value, 1-based, as HDR histograms count it.
    let rank = ((quantile * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0;
    counts.iter().enumerate().find_map(|(index, &count)| {
        seen += count;
        (seen >= rank).then(|| bucket_high_us(index))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_every_value_within_an_eighth() {
        let mut last = 0;
        for us in (0..5_000).chain([65_535, 1 << 20, 123_456_789, u64::from(u32::MAX)]) {
            let index = bucket_of(us);
            assert!(index >= last, "buckets are monotonic at {us}");
            assert!(index < BUCKETS, "{us} fits");
            let high = bucket_high_us(index);
            assert!(high >= us, "{us} ≤ its bucket's top {high}");
            assert!((high - us) as f64 <= us as f64 / 8.0, "{us} within 1/8 of {high}");
            last = index;
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1, "huge values are clamped");
    }

    #[test]
    fn send_lateness_counts_and_p99() {
        let sends = SendLateness::new();
        for _ in 0..980 {
            sends.note(Duration::from_micros(500));
        }
        for _ in 0..10 {
            sends.note(Duration::from_millis(6));
        }
        for _ in 0..10 {
            sends.note(Duration::from_millis(40));
        }
        let counts = sends.snapshot();
        assert_eq!((counts.sends, counts.late, counts.very_late), (1_000, 20, 10));
        // Rank 990 is the last of the 6 ms sends; its bucket's top is within 1/8 above.
        assert!((6.0..=6.75).contains(&counts.p99_ms), "{}", counts.p99_ms);
    }

    #[test]
    fn empty_send_lateness_has_zero_p99() {
        assert_eq!(SendLateness::new().snapshot(), SendCounts::default());
    }
}
