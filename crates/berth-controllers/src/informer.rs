//! Shared-informer plumbing for the controllers that work from a queue of keys (as upstream's
//! informer + lister + workqueue): a watch feeding a local store, with a callback per change,
//! and a pool of workers draining a [`WorkQueue`].

use std::fmt::Debug;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;

use futures::StreamExt;
use kube::Resource;
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::error::Result;
use crate::queue::WorkQueue;
use crate::task::{AbortOnDrop, wait_for_shutdown};

/// One change seen by an informer.
pub(crate) enum Change<'a, K> {
    /// Added or modified.
    Applied(&'a K),
    /// Deleted.
    Deleted(&'a K),
    /// A (re)list completed: the store holds the full state again, and deletions that happened
    /// while the watch was down were not reported one by one.
    Resynced,
}

/// A watch of one resource kept in a local store. The watch stops when this is dropped.
pub(crate) struct Informer<K: Resource<DynamicType = ()> + 'static> {
    pub store: Store<K>,
    _task: AbortOnDrop,
}

impl<K> Informer<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    /// Starts watching `api`; `on_change` runs after the store has been updated, and gets it.
    pub fn start<F>(api: Api<K>, config: watcher::Config, on_change: F) -> Self
    where
        F: Fn(Change<'_, K>, &Store<K>) + Send + 'static,
    {
        let (store, writer) = reflector::store();
        let reader = store.clone();
        let stream = reflector::reflector(writer, watcher(api, config).default_backoff());
        let task = AbortOnDrop::spawn(async move {
            futures::pin_mut!(stream);
            while let Some(event) = stream.next().await {
                match event {
                    Ok(watcher::Event::Apply(obj)) => on_change(Change::Applied(&obj), &reader),
                    Ok(watcher::Event::Delete(obj)) => on_change(Change::Deleted(&obj), &reader),
                    Ok(watcher::Event::InitDone) => on_change(Change::Resynced, &reader),
                    // Buffered by the store until InitDone.
                    Ok(watcher::Event::Init | watcher::Event::InitApply(_)) => {}
                    Err(e) => tracing::debug!(error = %e, "watch failed; retrying with backoff"),
                }
            }
        });
        Informer { store, _task: task }
    }

    /// Waits for the first complete list.
    pub async fn ready(&self) {
        // Fails only if the writer is dropped, which ends this informer anyway.
        let _ = self.store.wait_until_ready().await;
    }
}

/// Runs `workers` workers over `queue` until shutdown, then shuts the queue down. Failed items
/// come back with backoff.
pub(crate) async fn run_workers<T, F, Fut>(
    controller: &'static str,
    queue: Arc<WorkQueue<T>>,
    workers: usize,
    shutdown: watch::Receiver<bool>,
    sync: F,
) where
    T: Clone + Eq + Hash + Debug + Send + Sync + 'static,
    F: Fn(T) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let mut set = JoinSet::new();
    for _ in 0..workers.max(1) {
        let queue = queue.clone();
        let sync = sync.clone();
        set.spawn(async move {
            while let Some(item) = queue.get().await {
                match sync(item.clone()).await {
                    Ok(()) => queue.forget(&item),
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
}

/// A namespaced object's key.
pub(crate) type ObjectKey = (String, String);

pub(crate) fn key_of<K: Resource>(obj: &K) -> ObjectKey {
    let meta = obj.meta();
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}
