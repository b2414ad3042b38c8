//! Task plumbing: shutdown signal, abort-on-drop tasks, worker pools over a work queue.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::Result;
use crate::queue::WorkQueue;

/// Resolves once shutdown is requested: the value turns `true` or the sender is dropped.
pub async fn wait_for_shutdown(mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow_and_update() {
            return;
        }
        if shutdown.changed().await.is_err() {
            return;
        }
    }
}

/// A spawned task aborted when this handle is dropped.
pub struct AbortOnDrop(JoinHandle<()>);

impl AbortOnDrop {
    pub fn spawn(fut: impl Future<Output = ()> + Send + 'static) -> Self {
        AbortOnDrop(tokio::spawn(fut))
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What a sync asks of the queue when it succeeds.
pub type Requeue = Option<Duration>;

/// Runs `workers` workers taking keys from `queue` and calling `sync`, until shutdown. Failed
/// keys come back with backoff; succeeded keys are forgotten, and re-added after the delay the
/// sync returned, if any.
pub async fn run_workers<K, F, Fut>(
    name: &'static str,
    queue: Arc<WorkQueue<K>>,
    workers: usize,
    shutdown: watch::Receiver<bool>,
    sync: F,
) where
    K: Clone + Eq + std::hash::Hash + Send + Sync + std::fmt::Debug + 'static,
    F: Fn(K) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Requeue>> + Send + 'static,
{
    let sync = Arc::new(sync);
    let mut handles = Vec::new();
    for _ in 0..workers.max(1) {
        let queue = queue.clone();
        let sync = sync.clone();
        handles.push(AbortOnDrop::spawn(async move {
            while let Some(key) = queue.get().await {
                match sync(key.clone()).await {
                    Ok(requeue) => {
                        queue.forget(&key);
                        if let Some(after) = requeue {
                            queue.add_after(key.clone(), after);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(controller = name, key = ?key, error = %e, "sync failed; retrying");
                        queue.add_rate_limited(key.clone());
                    }
                }
                queue.done(&key);
            }
        }));
    }
    wait_for_shutdown(shutdown).await;
    queue.shut_down();
    drop(handles);
    tracing::info!(controller = name, "stopped");
}
