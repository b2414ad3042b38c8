//! A pool of workers draining a [`WorkQueue`], as upstream controllers' `processNextWorkItem`
//! loops.

use std::fmt::{Debug, Display};
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{WorkQueue, wait_for_shutdown};

/// What a successful sync asks of the queue: to see the key again after this delay, if any.
pub type Requeue = Option<Duration>;

/// The success value of a sync: `()` (done) or a [`Requeue`].
pub trait SyncOutcome {
    fn requeue_after(self) -> Requeue;
}

impl SyncOutcome for () {
    fn requeue_after(self) -> Requeue {
        None
    }
}

impl SyncOutcome for Option<Duration> {
    fn requeue_after(self) -> Requeue {
        self
    }
}

/// Runs `workers` workers taking keys from `queue` and calling `sync`, until shutdown; then
/// shuts the queue down and stops the workers. Failed keys come back with the queue's backoff;
/// succeeded keys are forgotten, and re-added after the delay the sync returned, if any.
pub async fn run_workers<T, F, Fut, R, E>(
    controller: &'static str,
    queue: Arc<WorkQueue<T>>,
    workers: usize,
    shutdown: watch::Receiver<bool>,
    sync: F,
) where
    T: Clone + Eq + Hash + Debug + Send + Sync + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, E>> + Send + 'static,
    R: SyncOutcome,
    E: Display,
{
    let sync = Arc::new(sync);
    let mut set = JoinSet::new();
    for _ in 0..workers.max(1) {
        let queue = queue.clone();
        let sync = sync.clone();
        set.spawn(async move {
            while let Some(item) = queue.get().await {
                match sync(item.clone()).await {
                    Ok(outcome) => {
                        queue.forget(&item);
                        if let Some(after) = outcome.requeue_after() {
                            queue.add_after(item.clone(), after);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(controller, item = ?item, error = %e, "sync failed; retrying");
                        queue.add_rate_limited(item.clone());
                    }
                }
                queue.done(&item);
            }
        });
    }
    wait_for_shutdown(shutdown).await;
    queue.shut_down();
    set.abort_all();
    while set.join_next().await.is_some() {}
    tracing::info!(controller, "stopped");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Backoff;
    use std::sync::Mutex;

    #[tokio::test]
    async fn workers_retry_failures_and_requeue_on_request() {
        let queue = WorkQueue::new(Backoff {
            base: Duration::from_millis(1),
            max: Duration::from_millis(10),
        });
        let calls: Arc<Mutex<Vec<&'static str>>> = Arc::default();
        let (tx, rx) = watch::channel(false);
        queue.add("fails-once");
        queue.add("requeues-once");
        let c = calls.clone();
        let pool = tokio::spawn(run_workers("test", queue.clone(), 2, rx, move |key| {
            let c = c.clone();
            async move {
                let seen = {
                    let mut c = c.lock().unwrap();
                    c.push(key);
                    c.iter().filter(|k| **k == key).count()
                };
                match (key, seen) {
                    ("fails-once", 1) => Err("boom"),
                    ("requeues-once", 1) => Ok(Some(Duration::from_millis(5))),
                    _ => Ok(None),
                }
            }
        }));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while calls.lock().unwrap().len() < 4 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tx.send_replace(true);
        tokio::time::timeout(Duration::from_secs(10), pool)
            .await
            .unwrap()
            .unwrap();
        let calls = calls.lock().unwrap();
        assert_eq!(calls.iter().filter(|k| **k == "fails-once").count(), 2);
        assert_eq!(calls.iter().filter(|k| **k == "requeues-once").count(), 2);
    }
}
