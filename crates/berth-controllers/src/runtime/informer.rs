//! An informer for the controllers that work from a queue of keys (as upstream's informer +
//! lister): a watch feeding a local store, with a callback per change. Workers drain the queue
//! with [`super::run_workers`].

use std::fmt::Debug;

use futures::StreamExt;
use kube::Resource;
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use serde::de::DeserializeOwned;

use super::AbortOnDrop;

/// One change seen by an informer.
pub enum Change<'a, K> {
    /// Added or modified.
    Applied(&'a K),
    /// Deleted.
    Deleted(&'a K),
    /// A (re)list completed: the store holds the full state again, and deletions that happened
    /// while the watch was down were not reported one by one.
    Resynced,
}

/// A watch of one resource kept in a local store. The watch stops when this is dropped.
pub struct Informer<K: Resource<DynamicType = ()> + 'static> {
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

/// A namespaced object's key.
pub type ObjectKey = (String, String);

pub fn key_of<K: Resource>(obj: &K) -> ObjectKey {
    let meta = obj.meta();
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}
