//! The mock server's capacity (`--slots N`): like a real LLM server's batch slots, at most N
//! responses generate at once, and a request that finds them all busy waits for one.
//!
//! The wait happens after the response head, before the first event (the preamble included):
//! a queued request holds an open response with nothing in it, then its whole token schedule
//! starts when its slot is granted. A request that finds a slot free keeps its schedule as
//! it was, so without `--slots` (or below capacity) the timing is exactly the unlimited one.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio::time::Instant;

use super::plan::Schedule;
use super::stats::{Generating, MockStats};

/// The slots every response takes one of before it generates; shared by all handlers.
#[derive(Debug, Clone)]
pub(crate) struct Slots {
    /// `None`: unlimited.
    semaphore: Option<Arc<Semaphore>>,
    stats: Arc<MockStats>,
}

/// One response holding a slot (and counted as generating) until it is dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    // Fields drop in declaration order: the generating count goes down before the permit
    // frees the slot, so no other response can raise the count above the limit meanwhile.
    _generating: Generating,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Slots {
    /// `limit` slots (`None`: unlimited), recording their use in `stats`. A limit beyond what
    /// a semaphore can count is as good as unlimited and is clamped.
    pub(crate) fn new(limit: Option<u64>, stats: Arc<MockStats>) -> Slots {
        let permits = |n: u64| usize::try_from(n).unwrap_or(usize::MAX).min(Semaphore::MAX_PERMITS);
        let semaphore = limit.map(|n| Arc::new(Semaphore::new(permits(n))));
        Slots { semaphore, stats }
    }

    /// Waits for a free slot. If the request had to wait, `schedule` restarts now, so every
    /// deadline (first chunk included) shifts by the wait and the gaps stay as configured.
    /// Cancel-safe: dropping the future leaves the queue.
    pub(crate) async fn take(&self, schedule: &mut Schedule) -> Slot {
        let permit = match &self.semaphore {
            None => None,
            Some(s) => match s.clone().try_acquire_owned() {
                Ok(permit) => Some(permit),
                // Never closed, so `Closed` cannot happen; serving unlimited would be the
                // harmless answer if it ever did.
                Err(TryAcquireError::Closed) => None,
                Err(TryAcquireError::NoPermits) => {
                    let permit = s.clone().acquire_owned().await.ok();
                    schedule.restart(Instant::now());
                    permit
                }
            },
        };
        Slot { _generating: Generating::enter(self.stats.clone()), _permit: permit }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::MockOptions;
    use crate::plan::{MockQuery, Shape};

    fn schedule(start: Instant) -> Schedule {
        let options =
            MockOptions { ttft_ms: 10, itl_ms: 5, jitter_ms: 0, ..MockOptions::default() };
        let query = MockQuery::default();
        let shape = Shape::new(&options, &query, None, false);
        Schedule::new(start, &options, &query, shape, 1)
    }

    #[tokio::test]
    async fn a_queued_request_starts_when_a_slot_frees() {
        let stats = Arc::new(MockStats::default());
        let slots = Slots::new(Some(1), stats.clone());
        let start = Instant::now();
        let mut first = schedule(start);
        let held = slots.take(&mut first).await;
        assert_eq!(first.start, start, "a free slot leaves the schedule alone");

        let mut second = schedule(start);
        let waiting = tokio::spawn({
            let slots = slots.clone();
            async move {
                let slot = slots.take(&mut second).await;
                (slot, second)
            }
        });
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(!waiting.is_finished(), "the only slot is taken");
        drop(held);
        let (slot, mut second) = waiting.await.expect("the waiter does not panic");
        assert!(second.start >= start + Duration::from_millis(30), "restarted after the wait");
        assert_eq!(second.received, start, "latency still counts from arrival");
        assert_eq!(second.deadline(2) - second.start, Duration::from_millis(20));
        drop(slot);
        let s = stats.snapshot();
        assert_eq!((s.generating, s.max_generating), (0, 1));
    }

    #[tokio::test]
    async fn unlimited_slots_never_wait_but_still_count() {
        let stats = Arc::new(MockStats::default());
        let slots = Slots::new(None, stats.clone());
        let start = Instant::now();
        let mut s = schedule(start);
        let held: Vec<Slot> = futures_util::future::join_all((0..5).map(|_| {
            let slots = slots.clone();
            let mut s = s.clone();
            async move { slots.take(&mut s).await }
        }))
        .await;
        drop(slots.take(&mut s).await);
        assert_eq!(s.start, start);
        assert_eq!(stats.snapshot().generating, 5);
        drop(held);
        assert_eq!(stats.snapshot().max_generating, 6);
    }

    #[test]
    fn a_huge_limit_is_clamped_not_a_panic() {
        let slots = Slots::new(Some(u64::MAX), Arc::new(MockStats::default()));
        let available = slots.semaphore.map(|s| s.available_permits());
        assert_eq!(available, Some(Semaphore::MAX_PERMITS));
    }
}
