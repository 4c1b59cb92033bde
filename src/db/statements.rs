//! Counting the SQL statements a request runs. Every pooled connection reports each finished
//! statement to the counter of the task running it (a task-local set around a request's
//! execution, which also runs its DataLoader batches), so a request's count includes its batched
//! loads and nothing from concurrent requests.

use diesel::connection::{Instrumentation, InstrumentationEvent};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

tokio::task_local! {
    static STATEMENTS: Arc<AtomicU64>;
}

/// The instrumentation installed on every pooled connection.
#[derive(Debug, Default)]
pub struct StatementCounter;

impl Instrumentation for StatementCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::FinishQuery { .. } = event {
            let _ = STATEMENTS.try_with(|count| count.fetch_add(1, Ordering::Relaxed));
        }
    }
}

/// Runs `future`, counting its statements into `counter`.
pub async fn counted<F: Future>(counter: Arc<AtomicU64>, future: F) -> F::Output {
    STATEMENTS.scope(counter, future).await
}
