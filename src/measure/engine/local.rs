//! An executor for hyper's HTTP/2 client that runs everything in the worker's own task.
//!
//! hyper's HTTP/2 client does not do its socket I/O in the `Connection` future it returns: it
//! hands the real connection future (and one small future per request) to an executor. With
//! `TokioExecutor` those become spawned tasks, and every body frame would cross tasks before
//! the worker sees it: exactly what [`super::conn`] exists to avoid. [`LocalExec`] instead
//! queues them, and [`Tasks::poll`] polls them inside the worker's task, right beside the
//! response and body futures, so a frame is read and timestamped in one task.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Futures handed over by hyper, waiting to be moved into their [`Tasks`].
#[derive(Default)]
struct Queue {
    /// Set when `tasks` is non-empty, so the hot path checks an atomic, not the lock.
    pending: AtomicBool,
    tasks: Mutex<Vec<Task>>,
}

/// The `hyper::rt::Executor` of one HTTP/2 connection: it only queues (see the module docs).
#[derive(Clone, Default)]
pub struct LocalExec(Arc<Queue>);

impl<F> hyper::rt::Executor<F> for LocalExec
where
    F: Future<Output = ()> + Send + 'static,
{
    fn execute(&self, fut: F) {
        let mut tasks = self.0.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        tasks.push(Box::pin(fut));
        self.0.pending.store(true, Ordering::Release);
    }
}

/// The futures of one connection, polled by the task that owns the connection.
#[derive(Default)]
pub struct Tasks {
    exec: LocalExec,
    running: FuturesUnordered<Task>,
}

impl Tasks {
    /// The executor to give hyper; what it queues runs in [`Tasks::poll`].
    pub fn executor(&self) -> LocalExec {
        self.exec.clone()
    }

    /// Polls every queued or woken future once; they wake the caller's task when they have
    /// more to do. Futures that finish are dropped.
    pub fn poll(&mut self, cx: &mut Context<'_>) {
        loop {
            self.take_queued();
            // Runs until all woken futures are pending (or it yields to be fair, having woken
            // us to come back); a finished future returns `Ready(Some(()))`.
            while let Poll::Ready(Some(())) = self.running.poll_next_unpin(cx) {}
            // A future may have handed hyper more work while it was polled.
            if !self.exec.0.pending.load(Ordering::Acquire) {
                break;
            }
        }
    }

    fn take_queued(&mut self) {
        let queue = &self.exec.0;
        if queue.pending.swap(false, Ordering::AcqRel) {
            let mut tasks = queue.tasks.lock().unwrap_or_else(PoisonError::into_inner);
            self.running.extend(tasks.drain(..));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU32;

    use hyper::rt::Executor as _;

    use super::*;

    #[tokio::test]
    async fn queued_futures_run_only_when_polled_and_may_queue_more() {
        let mut tasks = Tasks::default();
        let exec = tasks.executor();
        let ran = Arc::new(AtomicU32::new(0));
        let (inner_exec, inner_ran) = (exec.clone(), ran.clone());
        exec.execute(async move {
            inner_ran.fetch_add(1, Ordering::SeqCst);
            let again = inner_ran.clone();
            inner_exec.execute(async move {
                again.fetch_add(1, Ordering::SeqCst);
            });
        });
        assert_eq!(ran.load(Ordering::SeqCst), 0, "nothing is spawned");
        std::future::poll_fn(|cx| {
            tasks.poll(cx);
            Poll::Ready(())
        })
        .await;
        assert_eq!(ran.load(Ordering::SeqCst), 2, "and work queued while polling runs too");
        assert!(tasks.running.is_empty());
    }
}
