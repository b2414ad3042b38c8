//! Shared informers: one watch and one reflector store per kind, shared by every controller
//! that reads that kind (upstream's SharedInformerFactory). Controllers register handlers that
//! see each change with the object before and after it, and read everything else from the
//! stores, so no controller polls or re-lists.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet,
};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::Api;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;

use berth_controllers::runtime::AbortOnDrop;

/// Called with (old, new): `(None, Some)` add, `(Some, Some)` update, `(Some, None)` delete.
/// After a re-list, objects are passed as adds, updates or deletes against what was known.
pub type Handler<K> = Box<dyn Fn(Option<&K>, Option<&K>) + Send + Sync>;

pub trait Kind:
    Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Send + Sync + 'static
{
}
impl<K> Kind for K where
    K: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Send + Sync + 'static
{
}

fn dispatch<K>(handlers: &RwLock<Vec<Handler<K>>>, old: Option<&K>, new: Option<&K>) {
    let handlers = handlers.read().unwrap_or_else(|p| p.into_inner());
    for h in handlers.iter() {
        h(old, new);
    }
}

/// One kind's watch, store and handlers.
pub struct Informer<K: Kind> {
    store: Store<K>,
    handlers: Arc<RwLock<Vec<Handler<K>>>>,
    _task: Mutex<Option<AbortOnDrop>>,
}

impl<K: Kind> Informer<K> {
    fn start(api: Api<K>) -> Arc<Self> {
        let (store, mut writer) = reflector::store::<K>();
        let handlers: Arc<RwLock<Vec<Handler<K>>>> = Arc::default();
        let task_handlers = handlers.clone();
        let reader = store.clone();
        let task = AbortOnDrop::spawn(async move {
            let stream = watcher(api, watcher::Config::default()).default_backoff();
            futures::pin_mut!(stream);
            let mut relisted: Vec<K> = Vec::new();
            while let Some(event) = stream.next().await {
                let event = match event {
                    Ok(event) => event,
                    Err(e) => {
                        tracing::warn!(kind = %K::kind(&()), error = %e, "watch failed; retrying");
                        continue;
                    }
                };
                match event {
                    watcher::Event::Apply(obj) => {
                        let old = reader.get(&ObjectRef::from_obj(&obj));
                        writer.apply_watcher_event(&watcher::Event::Apply(obj.clone()));
                        dispatch(&task_handlers, old.as_deref(), Some(&obj));
                    }
                    watcher::Event::Delete(obj) => {
                        let old = reader.get(&ObjectRef::from_obj(&obj));
                        writer.apply_watcher_event(&watcher::Event::Delete(obj.clone()));
                        dispatch(&task_handlers, Some(old.as_deref().unwrap_or(&obj)), None);
                    }
                    watcher::Event::Init => {
                        relisted.clear();
                        writer.apply_watcher_event(&watcher::Event::Init);
                    }
                    watcher::Event::InitApply(obj) => {
                        writer.apply_watcher_event(&watcher::Event::InitApply(obj.clone()));
                        relisted.push(obj);
                    }
                    watcher::Event::InitDone => {
                        // Compare the new list with what was known, as upstream's Replace:
                        // objects that appeared or vanished while no watch ran are adds and
                        // deletes, the rest updates.
                        let mut previous: HashMap<ObjectRef<K>, Arc<K>> = reader
                            .state()
                            .into_iter()
                            .map(|o| (ObjectRef::from_obj(&*o), o))
                            .collect();
                        writer.apply_watcher_event(&watcher::Event::InitDone);
                        for obj in relisted.drain(..) {
                            let old = previous.remove(&ObjectRef::from_obj(&obj));
                            dispatch(&task_handlers, old.as_deref(), Some(&obj));
                        }
                        for (_, old) in previous {
                            dispatch(&task_handlers, Some(&old), None);
                        }
                    }
                }
            }
        });
        Arc::new(Informer {
            store,
            handlers,
            _task: Mutex::new(Some(task)),
        })
    }

    pub fn store(&self) -> &Store<K> {
        &self.store
    }

    pub fn add_handler(&self, handler: Handler<K>) {
        self.handlers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(handler);
    }

    /// Waits until the first list has filled the store.
    pub async fn synced(&self) {
        // The writer lives in the watch task, which outlives this informer's users.
        let _ = self.store.wait_until_ready().await;
    }

    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<K>> {
        self.store.get(&ObjectRef::new(name).within(namespace))
    }

    /// All objects of a namespace.
    pub fn in_namespace(&self, namespace: &str) -> Vec<Arc<K>> {
        self.store
            .state_filter(|o| o.meta().namespace.as_deref() == Some(namespace))
    }
}

/// The informers of all kinds the workload controllers read, created on first use.
pub struct Informers {
    client: Client,
    pods: OnceLock<Arc<Informer<Pod>>>,
    nodes: OnceLock<Arc<Informer<Node>>>,
    replica_sets: OnceLock<Arc<Informer<ReplicaSet>>>,
    deployments: OnceLock<Arc<Informer<Deployment>>>,
    jobs: OnceLock<Arc<Informer<Job>>>,
    cron_jobs: OnceLock<Arc<Informer<CronJob>>>,
    stateful_sets: OnceLock<Arc<Informer<StatefulSet>>>,
    daemon_sets: OnceLock<Arc<Informer<DaemonSet>>>,
    controller_revisions: OnceLock<Arc<Informer<ControllerRevision>>>,
}

macro_rules! informer_getter {
    ($name:ident, $kind:ty) => {
        pub fn $name(&self) -> Arc<Informer<$kind>> {
            self.$name
                .get_or_init(|| Informer::start(Api::all(self.client.clone())))
                .clone()
        }
    };
}

impl Informers {
    pub fn new(client: Client) -> Arc<Self> {
        Arc::new(Informers {
            client,
            pods: OnceLock::new(),
            nodes: OnceLock::new(),
            replica_sets: OnceLock::new(),
            deployments: OnceLock::new(),
            jobs: OnceLock::new(),
            cron_jobs: OnceLock::new(),
            stateful_sets: OnceLock::new(),
            daemon_sets: OnceLock::new(),
            controller_revisions: OnceLock::new(),
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    informer_getter!(pods, Pod);
    informer_getter!(nodes, Node);
    informer_getter!(replica_sets, ReplicaSet);
    informer_getter!(deployments, Deployment);
    informer_getter!(jobs, Job);
    informer_getter!(cron_jobs, CronJob);
    informer_getter!(stateful_sets, StatefulSet);
    informer_getter!(daemon_sets, DaemonSet);
    informer_getter!(controller_revisions, ControllerRevision);
}
