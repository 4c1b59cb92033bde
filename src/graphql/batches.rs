//! Running DataLoader batches on the request's own task. async-graphql's DataLoader collects keys
//! for a short delay and then runs its batch on a spawned task, so how many keys a batch gets
//! depends on timing. Instead, a request's batches are queued here and polled by `drive` only
//! when the request cannot go on without them: when polling it left it waiting without it having
//! woken itself (lists of more than 32 items yield part-way through a pass). By then every field
//! that could join a batch has registered its key, so a page of customers costs one statement per
//! nested field, every time.

use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// Batches spawned by one request's DataLoaders, waiting to be polled by `drive`.
#[derive(Clone, Default)]
pub struct Batches(Arc<Mutex<Vec<BoxFuture<'static, ()>>>>);

impl Batches {
    /// The DataLoader spawner: queues the batch for `drive`.
    pub fn spawner(&self) -> impl Fn(BoxFuture<'static, ()>) + Clone + Send + Sync + 'static {
        let queue = self.0.clone();
        move |batch| queue.lock().expect("not poisoned").push(batch)
    }

    fn take(&self) -> Vec<BoxFuture<'static, ()>> {
        std::mem::take(&mut *self.0.lock().expect("not poisoned"))
    }

    /// Runs `request` to completion, polling queued batches whenever it is blocked on them.
    pub async fn drive<F: Future>(&self, request: F) -> F::Output {
        /// Passes over a request that keeps yielding before its batches run anyway.
        const MAX_PASSES: usize = 64;
        let mut request = pin!(request);
        let mut running: FuturesUnordered<BoxFuture<'static, ()>> = FuturesUnordered::new();
        poll_fn(|cx| {
            let mut passes = 0;
            loop {
                let flag = Arc::new(WakeFlag { woken: AtomicBool::new(false), waker: cx.waker().clone() });
                let waker = Waker::from(flag.clone());
                if let Poll::Ready(output) = request.as_mut().poll(&mut Context::from_waker(&waker)) {
                    return Poll::Ready(output);
                }
                passes += 1;
                if flag.woken.load(Ordering::Acquire) && passes < MAX_PASSES {
                    continue;
                }
                passes = 0;
                running.extend(self.take());
                let mut finished_any = false;
                while let Poll::Ready(Some(())) = running.poll_next_unpin(cx) {
                    finished_any = true;
                }
                // A finished batch may have unblocked resolvers; new batches need a first poll.
                if !finished_any && self.0.lock().expect("not poisoned").is_empty() {
                    return Poll::Pending;
                }
            }
        })
        .await
    }
}

/// Forwards wake-ups to the task, remembering that one happened.
struct WakeFlag {
    woken: AtomicBool,
    waker: Waker,
}

impl Wake for WakeFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.waker.wake_by_ref();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[tokio::test]
    async fn queued_batches_run_while_the_request_waits() {
        let batches = Batches::default();
        let spawn = batches.spawner();
        let ran = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let counter = ran.clone();
        spawn(Box::pin(async move {
            counter.fetch_add(1, Ordering::SeqCst);
            let _ = tx.send(7);
        }));
        let value = batches.drive(async move { rx.await.unwrap() }).await;
        assert_eq!((value, ran.load(Ordering::SeqCst)), (7, 1));
    }
}
