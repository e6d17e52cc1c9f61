//! Histograms: [`Series`], one metric's HDR histogram with its exact moments, and
//! [`bucketize`], the compact [`Bucket`] form a result file keeps of a distribution. Apart from
//! the aggregator because the precision and clamping rules are one idea, tested on their own.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::Stats;

/// One bucket of a compact histogram: `count` values in `(lo, hi]` (the first bucket also
/// holds the values equal to its `lo`, the minimum).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Lower edge.
    pub lo: f64,
    /// Upper edge.
    pub hi: f64,
    /// Values in the bucket.
    pub count: u64,
}

/// Buckets of [`crate::analyse::metrics::Summary::itl_histogram`]: fine enough for a chart, a few KB in the file.
pub const HISTOGRAM_BUCKETS: usize = 60;

/// Above this ratio of the largest to the smallest value, [`bucketize`] spaces its edges
/// logarithmically: a 20 ms ITL with a few 2 s stalls would otherwise put every regular gap
/// into the first of 60 linear buckets.
pub const LOG_BUCKETS_RATIO: f64 = 10.0;

/// Sorts weighted `values` (value, count) into at most `n` buckets spanning `[min, max]`: equal
/// widths, or equal ratios when `max / min` exceeds [`LOG_BUCKETS_RATIO`]. One bucket when all
/// values are equal; none without values. Values outside `[min, max]` land in the end buckets.
pub fn bucketize(
    values: impl IntoIterator<Item = (f64, u64)>,
    min: f64,
    max: f64,
    n: usize,
) -> Vec<Bucket> {
    if !(min.is_finite() && max.is_finite()) || n == 0 {
        return Vec::new();
    }
    let n = if max > min { n } else { 1 };
    let log = min > 0.0 && max / min > LOG_BUCKETS_RATIO;
    let edge = |i: usize| {
        let f = i as f64 / n as f64;
        match log {
            true => min * (max / min).powf(f),
            false => min + (max - min) * f,
        }
    };
    let mut buckets: Vec<Bucket> = (0..n)
        .map(|i| Bucket { lo: edge(i), hi: if i + 1 == n { max } else { edge(i + 1) }, count: 0 })
        .collect();
    let mut total = 0;
    for (value, count) in values {
        // The bucket whose upper edge is the first at or above `value`.
        let index = buckets[..n - 1].partition_point(|b| b.hi < value);
        buckets[index].count += count;
        total += count;
    }
    if total == 0 {
        return Vec::new();
    }
    buckets
}

/// Largest value put into a histogram: 2^53 keeps it exact as an `f64` (in µs: 285 years).
const MAX_RECORDABLE: u64 = 1 << 53;

/// One metric: an HDR histogram of scaled integers plus exact running moments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "SeriesData", from = "SeriesData")]
pub(super) struct Series {
    /// Histogram units per reported unit: 1e6 (µs per second), 1000 (fixed point) or 1.
    scale: f64,
    hist: Histogram<u64>,
    count: u64,
    min: f64,
    max: f64,
    /// Welford's running mean and sum of squared deviations: stable over millions of values.
    mean: f64,
    m2: f64,
}

impl Series {
    pub(super) fn new(scale: f64) -> Self {
        // `new` auto-resizes, so no value is ever rejected for being too large.
        let hist = Histogram::new(3).expect("3 significant digits is a valid HDR precision");
        Series {
            scale,
            hist,
            count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            mean: 0.0,
            m2: 0.0,
        }
    }

    /// Records `value` (reported units). NaN and negative values cannot come from a record's
    /// arithmetic; they are dropped rather than allowed to poison the moments.
    pub(super) fn record(&mut self, value: f64) {
        if !value.is_finite() || value < 0.0 {
            return;
        }
        let scaled = (value * self.scale).round().min(MAX_RECORDABLE as f64) as u64;
        if self.hist.record(scaled).is_err() {
            // Only a failed resize (a 32-bit usize) gets here: clamp to the current range.
            self.hist.saturating_record(scaled);
        }
        self.count += 1;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        let delta = value - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (value - self.mean);
    }

    pub(super) fn duration(&mut self, d: Duration) {
        self.record(d.as_secs_f64());
    }

    /// Records `d` as `n` equal values (a chunk's gap shared by its tokens).
    pub(super) fn duration_n(&mut self, d: Duration, n: u32) {
        let value = d.as_secs_f64();
        if n == 0 {
            return;
        }
        let scaled = (value * self.scale).round().min(MAX_RECORDABLE as f64) as u64;
        if self.hist.record_n(scaled, u64::from(n)).is_err() {
            self.hist.saturating_record(scaled);
        }
        // Welford's update for a value of weight n.
        self.count += u64::from(n);
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        let delta = value - self.mean;
        self.mean += delta * f64::from(n) / self.count as f64;
        self.m2 += f64::from(n) * delta * (value - self.mean);
    }

    /// The value at quantile `q`, in reported units. HDR answers with the upper edge of the
    /// bucket (at most 0.1% above the true value), so "99% took at most P99" stays true; it is
    /// kept inside the exact [min, max] so no percentile shows beyond the real maximum.
    /// Adds `other`'s values: the histogram bucket by bucket, the moments by Chan's parallel
    /// formula, so a merged series reports what one series of every value would.
    pub(super) fn merge(&mut self, other: &Series) {
        if other.count == 0 {
            return;
        }
        // Auto-resizing: no value of the other is rejected.
        let _ = self.hist.add(&other.hist);
        let n = self.count + other.count;
        let delta = other.mean - self.mean;
        self.mean += delta * other.count as f64 / n as f64;
        self.m2 += other.m2 + delta * delta * (self.count as f64 * other.count as f64) / n as f64;
        self.count = n;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    pub(super) fn quantile(&self, q: f64) -> Option<f64> {
        (self.count > 0)
            .then(|| (self.hist.value_at_quantile(q) as f64 / self.scale).clamp(self.min, self.max))
    }

    /// The histogram as at most `n` [`Bucket`]s over the exact `[min, max]`, in reported
    /// units. Each HDR bucket is placed by its highest equivalent value (within 0.1 %).
    pub(super) fn buckets(&self, n: usize) -> Vec<Bucket> {
        if self.count == 0 {
            return Vec::new();
        }
        let values = self.hist.iter_recorded().map(|v| {
            let value = v.value_iterated_to() as f64 / self.scale;
            (value.clamp(self.min, self.max), v.count_at_value())
        });
        bucketize(values, self.min, self.max, n)
    }

    pub(super) fn stats(&self) -> Option<Stats> {
        let q = |q| self.quantile(q).unwrap_or_default();
        (self.count > 0).then(|| Stats {
            min: self.min,
            max: self.max,
            mean: self.mean,
            median: q(0.5),
            stddev: (self.m2 / self.count as f64).max(0.0).sqrt(),
            p50: q(0.5),
            p90: q(0.9),
            p95: q(0.95),
            p99: q(0.99),
            count: self.count,
        })
    }
}

/// A series as a result file keeps it, losslessly: every recorded HDR bucket as (its highest
/// equivalent value, count), which records back into the same bucket, and the exact moments.
#[derive(Serialize, Deserialize)]
struct SeriesData {
    scale: f64,
    count: u64,
    min: Option<f64>,
    max: Option<f64>,
    mean: f64,
    m2: f64,
    values: Vec<(u64, u64)>,
}

impl From<Series> for SeriesData {
    fn from(s: Series) -> SeriesData {
        let values = s.hist.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value()));
        let finite = |v: f64| v.is_finite().then_some(v);
        SeriesData {
            scale: s.scale,
            count: s.count,
            min: finite(s.min),
            max: finite(s.max),
            mean: s.mean,
            m2: s.m2,
            values: values.collect(),
        }
    }
}

impl From<SeriesData> for Series {
    fn from(d: SeriesData) -> Series {
        let mut series = Series::new(d.scale);
        for (value, count) in d.values {
            if series.hist.record_n(value, count).is_err() {
                series.hist.saturating_record(value);
            }
        }
        series.count = d.count;
        series.min = d.min.unwrap_or(f64::INFINITY);
        series.max = d.max.unwrap_or(f64::NEG_INFINITY);
        (series.mean, series.m2) = (d.mean, d.m2);
        series
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyse::metrics::Summary;

    #[test]
    fn a_series_survives_json_and_merges_as_one_of_every_value() {
        let (mut a, mut b, mut all) = (Series::new(1e6), Series::new(1e6), Series::new(1e6));
        for i in 0..500u32 {
            let v = 0.01 + f64::from(i % 97) * 0.0037 + f64::from(i) * 1e-5;
            if i % 3 == 0 {
                a.record(v)
            } else {
                b.record(v)
            }
            all.record(v);
        }
        let back: Series = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back.hist, a.hist);
        let mut merged = back;
        merged.merge(&b);
        let (m, w) = (merged.stats().unwrap(), all.stats().unwrap());
        assert_eq!(
            (m.count, m.p50, m.p90, m.p99, m.min, m.max),
            (w.count, w.p50, w.p90, w.p99, w.min, w.max)
        );
        assert!((m.mean - w.mean).abs() < 1e-12 && (m.stddev - w.stddev).abs() < 1e-12);
        let empty: Series =
            serde_json::from_str(&serde_json::to_string(&Series::new(1.0)).unwrap()).unwrap();
        assert!(empty.stats().is_none());
    }

    #[test]
    fn bucketize_spaces_narrow_ranges_evenly_and_equal_values_in_one_bucket() {
        let values = [(1.0, 1), (1.5, 2), (2.0, 1), (3.0, 4)];
        let buckets = bucketize(values, 1.0, 3.0, 4);
        let edges: Vec<(f64, f64, u64)> = buckets.iter().map(|b| (b.lo, b.hi, b.count)).collect();
        assert_eq!(edges, [(1.0, 1.5, 3), (1.5, 2.0, 1), (2.0, 2.5, 0), (2.5, 3.0, 4)]);
        let same = bucketize([(0.5, 7)], 0.5, 0.5, 60);
        assert_eq!(same, [Bucket { lo: 0.5, hi: 0.5, count: 7 }]);
        assert!(bucketize(std::iter::empty(), 0.0, 1.0, 10).is_empty());
        assert!(Summary::default().itl_histogram.is_empty());
        let old: Summary = serde_json::from_str(r#"{"success_count":0,"failed_count":0,"total_requests":0,"duration":0,"throughput":0,"output_token_throughput":0,"failures":{},"failure_examples":{},"ttft":null,"ttfb":null,"ttfat":null,"total_time":null,"itl":null,"tpot":null,"tokens_per_second":null,"chunks_per_second":null,"output_tokens":null}"#).unwrap();
        assert!(old.itl_histogram.is_empty(), "files without the field still load");
    }
}
