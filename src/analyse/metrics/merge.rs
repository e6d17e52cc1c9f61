//! Merging aggregators: the shards of a run, each with its own [`Aggregator`], add up to the
//! aggregator one process with every record would have had: counts and token totals summed,
//! failure classes and statuses summed (the first example of a class kept), each series'
//! histogram added bucket by bucket and its moments combined exactly.

use super::Aggregator;
use super::histogram::Series;

impl Aggregator {
    /// Rewrites the failure examples (secrets redacted before the aggregator is written).
    pub fn rewrite_examples(&mut self, rewrite: impl Fn(&str) -> String) {
        for example in self.failure_examples.values_mut() {
            *example = rewrite(example);
        }
    }

    /// Adds everything `other` collected.
    pub fn merge(&mut self, other: &Aggregator) {
        self.success += other.success;
        self.failed += other.failed;
        for (class, n) in &other.failures {
            *self.failures.entry(*class).or_insert(0) += n;
        }
        for (class, example) in &other.failure_examples {
            self.failure_examples.entry(*class).or_insert_with(|| example.clone());
        }
        for (status, n) in &other.failures_by_status {
            *self.failures_by_status.entry(*status).or_insert(0) += n;
        }
        self.total_output_tokens += other.total_output_tokens;
        self.total_input_tokens += other.total_input_tokens;
        self.input_tokens_reported += other.input_tokens_reported;
        self.asked_output_tokens += other.asked_output_tokens;
        self.early_stops += other.early_stops;
        self.empty += other.empty;
        self.total_reasoning_tokens += other.total_reasoning_tokens;
        self.cached_tokens.0 += other.cached_tokens.0;
        self.cached_tokens.1 += other.cached_tokens.1;
        for &(source, n) in &other.token_sources {
            match self.token_sources.iter_mut().find(|(s, _)| *s == source) {
                Some((_, count)) => *count += n,
                None => self.token_sources.push((source, n)),
            }
        }
        let theirs = other.series();
        for (mine, theirs) in self.series_mut().into_iter().zip(theirs) {
            mine.merge(theirs);
        }
    }

    /// Every series, in one fixed order (the same as `series_mut`'s).
    fn series(&self) -> [&Series; 17] {
        [
            &self.ttft,
            &self.ttfb,
            &self.ttfat,
            &self.total_time,
            &self.itl,
            &self.itl_token,
            &self.max_gap,
            &self.queue_wait,
            &self.service_ttft,
            &self.service_total_time,
            &self.tpot,
            &self.tokens_per_second,
            &self.chunks_per_second,
            &self.output_tokens,
            &self.input_tokens,
            &self.ttft_first_turn,
            &self.ttft_later_turns,
        ]
    }

    fn series_mut(&mut self) -> [&mut Series; 17] {
        [
            &mut self.ttft,
            &mut self.ttfb,
            &mut self.ttfat,
            &mut self.total_time,
            &mut self.itl,
            &mut self.itl_token,
            &mut self.max_gap,
            &mut self.queue_wait,
            &mut self.service_ttft,
            &mut self.service_total_time,
            &mut self.tpot,
            &mut self.tokens_per_second,
            &mut self.chunks_per_second,
            &mut self.output_tokens,
            &mut self.input_tokens,
            &mut self.ttft_first_turn,
            &mut self.ttft_later_turns,
        ]
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::measure::record::testing::{failed, ok};
    use crate::measure::record::{ErrorClass, Failure};

    #[test]
    fn shards_merge_into_what_one_aggregator_of_every_record_says() {
        let (mut one, mut a, mut b) = (Aggregator::new(), Aggregator::new(), Aggregator::new());
        for id in 0..300u64 {
            let ms = |n: u64| Duration::from_micros(n * 1000 + id * 37);
            let mut record = ok(id, ms(100 + id % 50), ms(900 + id % 200), 10 + id % 7);
            record.itl = vec![ms(20), ms(25 + id % 5)];
            if id % 41 == 0 {
                record = failed(id, Failure::new(ErrorClass::Timeout, "slow"));
            }
            one.add(&record);
            let shard = if id % 3 == 0 { &mut a } else { &mut b };
            shard.add(&record);
        }
        let through_json: Aggregator =
            serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        let mut merged = through_json;
        merged.merge(&b);
        let d = Duration::from_secs(10);
        let (m, o) = (merged.summary(d), one.summary(d));
        assert_eq!(
            (m.success_count, m.failed_count, &m.failures),
            (o.success_count, o.failed_count, &o.failures)
        );
        assert_eq!(m.total_output_tokens, o.total_output_tokens);
        for (x, y) in [(&m.ttft, &o.ttft), (&m.total_time, &o.total_time), (&m.itl, &o.itl)] {
            let (x, y) = (x.as_ref().unwrap(), y.as_ref().unwrap());
            assert_eq!(
                (x.count, x.p50, x.p90, x.p99, x.min, x.max),
                (y.count, y.p50, y.p90, y.p99, y.min, y.max)
            );
            assert!((x.mean - y.mean).abs() < 1e-9 && (x.stddev - y.stddev).abs() < 1e-9);
        }
    }
}
