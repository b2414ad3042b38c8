//! Task plumbing shared by the controllers: shutdown signal, supervised loops, abort-on-drop.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Resolves once shutdown is requested: the value turns `true`, or the sender is dropped (no one
/// can ask for anything any more, so running on would leak the controllers).
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

/// Whether shutdown has been requested already.
pub fn shutdown_requested(shutdown: &watch::Receiver<bool>) -> bool {
    *shutdown.borrow() || shutdown.has_changed().is_err()
}

/// A spawned task that is aborted when this handle is dropped, so that dropping (or aborting)
/// the owner of a set of tasks stops them all.
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

/// Runs the loop made by `make` for ever: if it returns or panics (which would be a bug), that is
/// logged and it is started again after a pause. Stops when the returned future is dropped.
pub async fn supervise<F, Fut>(name: &'static str, make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    loop {
        let handle = tokio::spawn(make());
        let guard = AbortGuard(handle.abort_handle());
        let result = handle.await;
        drop(guard);
        match result {
            Ok(()) => tracing::error!(task = name, "controller loop returned; restarting it"),
            Err(e) if e.is_panic() => {
                tracing::error!(task = name, "controller loop panicked; restarting it")
            }
            Err(_) => return, // aborted from outside
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

struct AbortGuard(tokio::task::AbortHandle);

impl Drop for AbortGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn shutdown_on_true_or_dropped_sender() {
        let (tx, rx) = watch::channel(false);
        let waiter = tokio::spawn(wait_for_shutdown(rx.clone()));
        assert!(!shutdown_requested(&rx));
        tx.send_replace(true);
        assert!(
            tokio::time::timeout(Duration::from_secs(5), waiter)
                .await
                .is_ok()
        );
        assert!(shutdown_requested(&rx));

        let (tx, rx) = watch::channel(false);
        let waiter = tokio::spawn(wait_for_shutdown(rx));
        drop(tx);
        assert!(
            tokio::time::timeout(Duration::from_secs(5), waiter)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn supervise_restarts_a_loop_that_ends() {
        let runs = Arc::new(AtomicUsize::new(0));
        let r = runs.clone();
        let sup = tokio::spawn(supervise("test", move || {
            let r = r.clone();
            async move {
                r.fetch_add(1, Ordering::SeqCst);
            }
        }));
        tokio::time::sleep(Duration::from_millis(1500)).await;
        sup.abort();
        assert!(runs.load(Ordering::SeqCst) >= 2);
    }
}
