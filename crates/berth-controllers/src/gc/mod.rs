//! The garbage collector: Kubernetes' ownerReferences semantics (upstream
//! `pkg/controller/garbagecollector`), as a client of the API server.
//!
//! How it is put together, as upstream:
//!
//! - **Resource sync** runs discovery every [`RESYNC_PERIOD`] (sooner when an unknown kind is
//!   met) and keeps one metadata-only watch ("monitor") per served resource that supports list,
//!   watch and delete, at its preferred version; CRDs created or removed at run time gain or
//!   lose their monitor.
//! - **Monitors** turn watch events into [`GraphEvent`]s on one channel.
//! - **The graph builder** applies the events, in order, to the [`Graph`] and feeds the two work
//!   queues: objects to check for deletion (`attemptToDelete`) and owners whose dependents are to
//!   be orphaned (`attemptToOrphan`).
//! - **Workers** take items from the queues and act on the API server. The graph may lag, so
//!   every decision to delete is made on live GETs (owner gone, or its uid differs), and deletes
//!   carry uid and resourceVersion preconditions.

pub mod graph;
pub mod plan;

use std::collections::{HashMap, HashSet};
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::Client;
use kube::api::{
    Api, DeleteParams, DynamicObject, PartialObjectMeta, Patch, PatchParams, Preconditions,
};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;

use crate::discovery::{self, ResourceKey, ServedResource, ServedResources};
use crate::error::{Error, Result};
use crate::runtime::Backoff;
use crate::runtime::WorkQueue;
use crate::runtime::{AbortOnDrop, shutdown_requested, supervise, wait_for_shutdown};
use graph::{
    FOREGROUND_FINALIZER, Graph, GraphEvent, NodeView, ORPHAN_FINALIZER, ObjectIdentity,
    ObservedObject, Work,
};
use plan::{DependentPlan, OwnerState, Propagation};

/// How often discovery is re-run to find new and removed resources (upstream: 30 s).
pub const RESYNC_PERIOD: Duration = Duration::from_secs(30);
/// How long workers wait for the monitors' initial lists before collecting anyway (upstream
/// proceeds after a timeout too, so one broken resource cannot stop garbage collection).
const INITIAL_SYNC_TIMEOUT: Duration = Duration::from_secs(30);
const DELETE_WORKERS: usize = 8;
const ORPHAN_WORKERS: usize = 4;
/// Retries of a read-modify-write patch that meets a conflicting writer.
const CONFLICT_RETRIES: usize = 5;
const EVENT_BUFFER: usize = 4096;
/// Resources the garbage collector ignores, as upstream: events are never owners and are many.
const IGNORED_RESOURCES: &[(&str, &str)] = &[("", "events"), ("events.k8s.io", "events")];

const ITEM_BACKOFF: Backoff = Backoff {
    base: Duration::from_millis(5),
    max: Duration::from_secs(60),
};

type MetadataApi = Api<PartialObjectMeta<DynamicObject>>;

/// The garbage collector. Build with [`GarbageCollector::new`], then [`GarbageCollector::run`].
pub struct GarbageCollector {
    client: Client,
}

enum BuilderMessage {
    Graph(GraphEvent),
    /// The monitors started by the first discovery; workers start when all have listed.
    ExpectInitialLists(HashSet<ResourceKey>),
    InitialListDone(ResourceKey),
}

/// State shared by the garbage collector's tasks.
struct Shared {
    client: Client,
    graph: Mutex<Graph>,
    resources: RwLock<Arc<ServedResources>>,
    attempt_to_delete: Arc<WorkQueue<String>>,
    attempt_to_orphan: Arc<WorkQueue<String>>,
    events: mpsc::Sender<BuilderMessage>,
    events_rx: tokio::sync::Mutex<mpsc::Receiver<BuilderMessage>>,
    /// Asks the resource sync loop to run discovery now (an unknown kind was met).
    rediscover: Notify,
    /// Becomes true once the first monitors have listed their resources.
    synced: watch::Sender<bool>,
    /// The controller manager's shutdown signal: tasks stop quietly once it is given, rather
    /// than report the failures of an API server that is going away.
    shutdown: watch::Receiver<bool>,
}

enum Outcome {
    /// Done with the item.
    Forget,
    /// Not done (e.g. an owner not yet observed by a watch): look again after a backoff.
    Requeue,
}

impl GarbageCollector {
    pub fn new(client: Client) -> Self {
        GarbageCollector { client }
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let (events, events_rx) = mpsc::channel(EVENT_BUFFER);
        let shared = Arc::new(Shared {
            client: self.client,
            graph: Mutex::new(Graph::new()),
            resources: RwLock::new(Arc::new(ServedResources::default())),
            attempt_to_delete: WorkQueue::new(ITEM_BACKOFF),
            attempt_to_orphan: WorkQueue::new(ITEM_BACKOFF),
            events,
            events_rx: tokio::sync::Mutex::new(events_rx),
            rediscover: Notify::new(),
            synced: watch::Sender::new(false),
            shutdown: shutdown.clone(),
        });
        tracing::info!("starting garbage collector");
        let mut tasks = JoinSet::new();
        {
            let s = shared.clone();
            tasks.spawn(supervise("gc-graph-builder", move || {
                run_graph_builder(s.clone())
            }));
        }
        {
            let s = shared.clone();
            tasks.spawn(supervise("gc-resource-sync", move || {
                run_resource_sync(s.clone())
            }));
        }
        for _ in 0..DELETE_WORKERS {
            let s = shared.clone();
            tasks.spawn(supervise("gc-delete-worker", move || {
                run_delete_worker(s.clone())
            }));
        }
        for _ in 0..ORPHAN_WORKERS {
            let s = shared.clone();
            tasks.spawn(supervise("gc-orphan-worker", move || {
                run_orphan_worker(s.clone())
            }));
        }
        wait_for_shutdown(shutdown).await;
        tracing::info!("stopping garbage collector");
        shared.attempt_to_delete.shut_down();
        shared.attempt_to_orphan.shut_down();
        tasks.shutdown().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Graph builder

async fn run_graph_builder(shared: Arc<Shared>) {
    let mut rx = shared.events_rx.lock().await;
    let mut pending_lists: Option<HashSet<ResourceKey>> = None;
    while let Some(message) = rx.recv().await {
        match message {
            BuilderMessage::Graph(event) => {
                let work = shared.graph().process(event);
                for item in work {
                    match item {
                        Work::AttemptToDelete(uid) => shared.attempt_to_delete.add(uid),
                        Work::AttemptToOrphan(uid) => shared.attempt_to_orphan.add(uid),
                    }
                }
            }
            BuilderMessage::ExpectInitialLists(keys) => {
                if !*shared.synced.borrow() {
                    pending_lists = Some(keys);
                }
            }
            BuilderMessage::InitialListDone(key) => {
                if let Some(pending) = pending_lists.as_mut() {
                    pending.remove(&key);
                }
            }
        }
        if pending_lists.as_ref().is_some_and(HashSet::is_empty) {
            pending_lists = None;
            let nodes = shared.graph().len();
            tracing::info!(
                nodes,
                "garbage collector: all resource monitors have synced"
            );
            shared.synced.send_replace(true);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Resource sync and monitors

struct Monitor {
    resource: ServedResource,
    /// What the monitor has reported as existing, by uid.
    known: KnownObjects,
    _task: AbortOnDrop,
}

type KnownObjects = Arc<Mutex<HashMap<String, ObjectIdentity>>>;

async fn run_resource_sync(shared: Arc<Shared>) {
    // Dropping this map (when the loop is aborted) stops every monitor.
    let mut monitors: HashMap<ResourceKey, Monitor> = HashMap::new();
    let mut first_round = true;
    loop {
        let wait = match discovery::discover(&shared.client).await {
            Ok(served) => {
                sync_monitors(&shared, served, &mut monitors, &mut first_round).await;
                RESYNC_PERIOD
            }
            Err(e) => {
                tracing::warn!(error = %e, "garbage collector: discovery failed; retrying");
                Duration::from_secs(5)
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shared.rediscover.notified() => {
                // Let a burst of requests for the same new kind collapse into one discovery.
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

fn is_collectable(r: &ServedResource) -> bool {
    r.supports_all(&["list", "watch", "delete"])
        && !IGNORED_RESOURCES
            .iter()
            .any(|(g, res)| r.api_resource.group == *g && r.api_resource.plural == *res)
}

async fn sync_monitors(
    shared: &Arc<Shared>,
    served: ServedResources,
    monitors: &mut HashMap<ResourceKey, Monitor>,
    first_round: &mut bool,
) {
    if let Some(message) = served.failure_message() {
        tracing::warn!("garbage collector: {message}");
    }
    let mut wanted: HashMap<ResourceKey, ServedResource> = served
        .preferred()
        .iter()
        .filter(|r| is_collectable(r))
        .map(|r| (r.key(), r.clone()))
        .collect();
    // Keep watching resources of groups whose discovery failed this time (upstream keeps their
    // informers): a passing failure must not drop part of the graph.
    for (key, m) in monitors.iter() {
        if served.group_failed(&key.group) {
            wanted
                .entry(key.clone())
                .or_insert_with(|| m.resource.clone());
        }
    }
    // The resolver sees new kinds before their monitors start.
    *shared.resources.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(served);

    let gone: Vec<ResourceKey> = monitors
        .keys()
        .filter(|k| !wanted.contains_key(*k))
        .cloned()
        .collect();
    let removed = gone.len();
    for key in gone {
        let Some(monitor) = monitors.remove(&key) else {
            continue;
        };
        tracing::info!(resource = %key, "garbage collector: resource no longer served; stopping its monitor");
        drop(monitor._task);
        // If the resource is gone at every version, so are its objects: drop them from the
        // graph, so that an owner deleting in the foreground does not wait for them forever.
        // (At another version, that version's monitor reports the same objects.) Only the
        // graph changes here: every delete still needs live GETs.
        let still_served = wanted
            .keys()
            .any(|k| k.group == key.group && k.resource == key.resource);
        if !still_served {
            let identities: Vec<ObjectIdentity> =
                lock(&monitor.known).drain().map(|(_, id)| id).collect();
            for identity in identities {
                if shared
                    .events
                    .send(BuilderMessage::Graph(GraphEvent::Deleted(identity)))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    }
    let new: Vec<ServedResource> = wanted
        .into_iter()
        .filter(|(key, _)| !monitors.contains_key(key))
        .map(|(_, r)| r)
        .collect();
    if *first_round {
        // Sent before any monitor exists, so it reaches the builder before their first events.
        let keys = new.iter().map(ServedResource::key).collect();
        if shared
            .events
            .send(BuilderMessage::ExpectInitialLists(keys))
            .await
            .is_err()
        {
            return;
        }
        *first_round = false;
    }
    if !new.is_empty() || removed > 0 {
        tracing::info!(
            added = new.len(),
            removed,
            total = monitors.len() + new.len(),
            "garbage collector: syncing resource monitors"
        );
    }
    for resource in new {
        let known = KnownObjects::default();
        let task = AbortOnDrop::spawn(run_monitor(shared.clone(), resource.clone(), known.clone()));
        monitors.insert(
            resource.key(),
            Monitor {
                resource,
                known,
                _task: task,
            },
        );
    }
}

/// Watches one resource's metadata and forwards the changes to the graph builder.
/// `known` is what this monitor has reported as existing, so that objects missing from a
/// re-list (their delete was missed while the watch was down) are reported deleted.
async fn run_monitor(shared: Arc<Shared>, resource: ServedResource, known: KnownObjects) {
    let key = resource.key();
    let api: MetadataApi = Api::all_with(shared.client.clone(), &resource.api_resource);
    let mut stream = pin!(watcher(api, watcher::Config::default()).default_backoff());
    let mut listing: Option<HashSet<String>> = None;
    let mut reported_initial_list = false;
    loop {
        let event = tokio::select! {
            biased;
            _ = wait_for_shutdown(shared.shutdown.clone()) => return,
            event = stream.next() => match event {
                Some(event) => event,
                None => return,
            },
        };
        let mut messages = Vec::new();
        match event {
            Ok(watcher::Event::Init) => listing = Some(HashSet::new()),
            Ok(watcher::Event::InitApply(meta)) | Ok(watcher::Event::Apply(meta)) => {
                if let Some(object) = observed_object(&resource, &meta) {
                    let uid = object.identity.uid.clone();
                    if let Some(seen) = listing.as_mut() {
                        seen.insert(uid.clone());
                    }
                    lock(&known).insert(uid, object.identity.clone());
                    messages.push(BuilderMessage::Graph(GraphEvent::Observed(object)));
                }
            }
            Ok(watcher::Event::Delete(meta)) => {
                if let Some(object) = observed_object(&resource, &meta) {
                    lock(&known).remove(&object.identity.uid);
                    messages.push(BuilderMessage::Graph(GraphEvent::Deleted(object.identity)));
                }
            }
            Ok(watcher::Event::InitDone) => {
                if let Some(seen) = listing.take() {
                    let mut known = lock(&known);
                    let gone: Vec<String> = known
                        .keys()
                        .filter(|uid| !seen.contains(*uid))
                        .cloned()
                        .collect();
                    for uid in gone {
                        if let Some(identity) = known.remove(&uid) {
                            messages.push(BuilderMessage::Graph(GraphEvent::Deleted(identity)));
                        }
                    }
                }
                if !reported_initial_list {
                    reported_initial_list = true;
                    let objects = lock(&known).len();
                    tracing::debug!(resource = %key, objects, "garbage collector: monitor listed");
                    messages.push(BuilderMessage::InitialListDone(key.clone()));
                }
            }
            Err(e) => {
                tracing::warn!(resource = %key, error = %e, "garbage collector: watch failed; retrying");
            }
        }
        for message in messages {
            if shared.events.send(message).await.is_err() {
                return;
            }
        }
    }
}

/// Locks a mutex whose data stays consistent even if a holder panicked (plain map updates).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn observed_object(
    resource: &ServedResource,
    meta: &PartialObjectMeta<DynamicObject>,
) -> Option<ObservedObject> {
    let m = &meta.metadata;
    let uid = m.uid.clone().filter(|u| !u.is_empty())?;
    Some(ObservedObject {
        identity: ObjectIdentity {
            api_version: resource.api_resource.api_version.clone(),
            kind: resource.api_resource.kind.clone(),
            namespace: m.namespace.clone().unwrap_or_default(),
            name: m.name.clone().unwrap_or_default(),
            uid,
        },
        owners: m.owner_references.clone().unwrap_or_default(),
        being_deleted: m.deletion_timestamp.is_some(),
        finalizers: m.finalizers.clone().unwrap_or_default(),
    })
}

// ---------------------------------------------------------------------------------------------
// Workers

async fn wait_for_initial_sync(shared: &Shared) {
    let mut synced = shared.synced.subscribe();
    let wait = synced.wait_for(|s| *s);
    if tokio::time::timeout(INITIAL_SYNC_TIMEOUT, wait)
        .await
        .is_err()
    {
        tracing::info!(
            "garbage collector: not all resource monitors could be synced, proceeding anyway"
        );
    }
}

async fn run_delete_worker(shared: Arc<Shared>) {
    wait_for_initial_sync(&shared).await;
    let queue = shared.attempt_to_delete.clone();
    while let Some(uid) = queue.get().await {
        match shared.attempt_to_delete(&uid).await {
            Ok(Outcome::Forget) => queue.forget(&uid),
            Ok(Outcome::Requeue) => queue.add_rate_limited(uid.clone()),
            Err(e) => {
                log_item_error(&shared, "attempt to delete", &uid, &e);
                queue.add_rate_limited(uid.clone());
            }
        }
        queue.done(&uid);
    }
}

async fn run_orphan_worker(shared: Arc<Shared>) {
    wait_for_initial_sync(&shared).await;
    let queue = shared.attempt_to_orphan.clone();
    while let Some(uid) = queue.get().await {
        match shared.attempt_to_orphan(&uid).await {
            Ok(()) => queue.forget(&uid),
            Err(e) => {
                log_item_error(&shared, "orphan dependents of", &uid, &e);
                queue.add_rate_limited(uid.clone());
            }
        }
        queue.done(&uid);
    }
}

fn log_item_error(shared: &Shared, action: &str, uid: &str, error: &Error) {
    if shutdown_requested(&shared.shutdown) || error.is_conflict() {
        tracing::debug!(uid, error = %error, "garbage collector: {action} item failed; retrying");
    } else {
        tracing::warn!(uid, error = %error, "garbage collector: {action} item failed; retrying");
    }
}

impl Shared {
    fn graph(&self) -> MutexGuard<'_, Graph> {
        // Graph operations are plain collection updates; a panic inside one cannot leave it in a
        // state worse than a missed event, which the live checks tolerate.
        lock(&self.graph)
    }

    /// The resource serving `api_version` and `kind`, or [`Error::UnknownKind`] (which also
    /// asks for a discovery run, since a CRD may just have been created).
    fn resolve(&self, api_version: &str, kind: &str) -> Result<ServedResource> {
        let resources = self
            .resources
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match resources.resolve(api_version, kind) {
            Some(r) => Ok(r.clone()),
            None => {
                self.rediscover.notify_one();
                Err(Error::UnknownKind {
                    api_version: api_version.to_string(),
                    kind: kind.to_string(),
                })
            }
        }
    }

    /// A metadata client for `resource` in `namespace` (ignored for cluster-scoped resources).
    /// `None` for a namespaced resource without a namespace, which names nothing.
    fn api(&self, resource: &ServedResource, namespace: &str) -> Option<MetadataApi> {
        if !resource.namespaced {
            Some(Api::all_with(self.client.clone(), &resource.api_resource))
        } else if namespace.is_empty() {
            None
        } else {
            Some(Api::namespaced_with(
                self.client.clone(),
                namespace,
                &resource.api_resource,
            ))
        }
    }

    /// The live metadata of the object `identity` names, if an object with that name exists
    /// (its uid may differ).
    async fn get_live(
        &self,
        identity: &ObjectIdentity,
    ) -> Result<Option<PartialObjectMeta<DynamicObject>>> {
        let resource = self.resolve(&identity.api_version, &identity.kind)?;
        let Some(api) = self.api(&resource, &identity.namespace) else {
            return Ok(None);
        };
        Ok(api.get_opt(&identity.name).await?)
    }

    async fn patch_metadata(
        &self,
        identity: &ObjectIdentity,
        patch: &Value,
    ) -> Result<PartialObjectMeta<DynamicObject>> {
        let resource = self.resolve(&identity.api_version, &identity.kind)?;
        let api = self
            .api(&resource, &identity.namespace)
            .ok_or_else(|| not_found(identity))?;
        Ok(api
            .patch(
                &identity.name,
                &PatchParams::default(),
                &Patch::Merge(patch),
            )
            .await?)
    }

    /// Deletes the object with uid (and, when given, resourceVersion) preconditions. If only
    /// the resourceVersion precondition failed and the ownerReferences are still those the
    /// decision was made on, deletes without it (upstream `deleteObject`).
    async fn delete_object(
        &self,
        identity: &ObjectIdentity,
        policy: Propagation,
        resource_version: Option<String>,
        owners_at_version: &[OwnerReference],
    ) -> Result<()> {
        let resource = self.resolve(&identity.api_version, &identity.kind)?;
        let api = self
            .api(&resource, &identity.namespace)
            .ok_or_else(|| not_found(identity))?;
        let params = |rv: Option<String>| DeleteParams {
            propagation_policy: Some(policy.into()),
            preconditions: Some(Preconditions {
                uid: Some(identity.uid.clone()),
                resource_version: rv,
            }),
            ..DeleteParams::default()
        };
        let with_rv = resource_version.is_some();
        match api.delete(&identity.name, &params(resource_version)).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = Error::from(e);
                if !(e.is_conflict() && with_rv) {
                    return Err(e);
                }
                let Some(live) = api.get_opt(&identity.name).await? else {
                    return Ok(()); // gone already
                };
                if live.metadata.uid.as_deref() != Some(identity.uid.as_str()) {
                    return Ok(());
                }
                if live.metadata.owner_references.clone().unwrap_or_default() != owners_at_version {
                    return Err(e); // the owners changed: decide again
                }
                api.delete(&identity.name, &params(None)).await?;
                Ok(())
            }
        }
    }

    async fn send(&self, event: GraphEvent) {
        // Fails only when the builder is gone, i.e. during shutdown.
        let _ = self.events.send(BuilderMessage::Graph(event)).await;
    }

    /// Upstream `attemptToDeleteItem`.
    async fn attempt_to_delete(&self, uid: &str) -> Result<Outcome> {
        let Some(node) = self.graph().node(uid) else {
            return Ok(Outcome::Forget);
        };
        // Being deleted is a one-way trip; its dependents are handled when it is gone.
        if node.being_deleted && !node.deleting_dependents {
            return Ok(Outcome::Forget);
        }
        let latest = match self.get_live(&node.identity).await? {
            Some(latest) if latest.metadata.uid.as_deref() == Some(uid) => latest,
            _ => {
                // No such object: drop the (virtual) node; its dependents get checked.
                tracing::debug!(item = %node.identity, "garbage collector: item not found, generating a virtual delete event");
                self.send(GraphEvent::VerifiedAbsent(node.identity.clone()))
                    .await;
                return Ok(Outcome::Forget);
            }
        };
        let after = |node: &NodeView| {
            if node.observed {
                Outcome::Forget
            } else {
                // A virtual node that exists: look again until a watch reports it (or it goes).
                Outcome::Requeue
            }
        };
        if node.deleting_dependents {
            self.process_deleting_dependents(&node).await?;
            return Ok(after(&node));
        }
        let owners = latest.metadata.owner_references.clone().unwrap_or_default();
        if owners.is_empty() {
            return Ok(after(&node));
        }
        let classified = match self.classify_owners(&node.identity, &owners).await {
            Err(Error::NamespacedOwnerOfClusterScopedObject) => {
                tracing::info!(item = %node.identity, "garbage collector: cluster-scoped item refers to a namespaced owner; ignoring it");
                return Ok(Outcome::Forget);
            }
            other => other?,
        };
        let finalizers = latest.metadata.finalizers.clone().unwrap_or_default();
        let dependents = self.graph().dependents(uid);
        let plan = plan::plan_dependent(
            &classified,
            &finalizers,
            !dependents.is_empty(),
            dependents.iter().any(|d| d.deleting_dependents),
        );
        let resource_version = latest.metadata.resource_version.clone();
        match plan {
            DependentPlan::Keep => {}
            DependentPlan::RemoveOwnerReferences(uids) => {
                tracing::info!(item = %node.identity, owners = ?uids, "garbage collector: removing references to deleted owners");
                self.remove_owner_references(&node.identity, &uids).await?;
            }
            DependentPlan::DeleteForeground {
                unblock_owner_references,
            } => {
                let (mut rv, mut owners_at) = (resource_version, owners);
                if unblock_owner_references {
                    // One of its dependents is deleting its own dependents too: this may be a
                    // cycle, so stop this object from blocking its owners.
                    let unblocked = plan::unblocked_references(&owners_at);
                    let patched = self
                        .patch_metadata(
                            &node.identity,
                            &plan::owner_references_patch(rv.as_deref(), &unblocked),
                        )
                        .await?;
                    rv = patched.metadata.resource_version.clone();
                    owners_at = patched
                        .metadata
                        .owner_references
                        .clone()
                        .unwrap_or_default();
                }
                tracing::info!(item = %node.identity, "garbage collector: an owner waits for its dependents; deleting item in the foreground");
                self.delete_or_verify_absent(
                    &node.identity,
                    Propagation::Foreground,
                    rv,
                    &owners_at,
                )
                .await?;
            }
            DependentPlan::Delete(policy) => {
                tracing::info!(item = %node.identity, policy = ?policy, "garbage collector: all owners are gone; deleting item");
                self.delete_or_verify_absent(&node.identity, policy, resource_version, &owners)
                    .await?;
            }
        }
        Ok(after(&node))
    }

    async fn delete_or_verify_absent(
        &self,
        identity: &ObjectIdentity,
        policy: Propagation,
        resource_version: Option<String>,
        owners_at_version: &[OwnerReference],
    ) -> Result<()> {
        match self
            .delete_object(identity, policy, resource_version, owners_at_version)
            .await
        {
            Err(e) if e.is_not_found() => {
                self.send(GraphEvent::VerifiedAbsent(identity.clone()))
                    .await;
                Ok(())
            }
            other => other,
        }
    }

    /// An owner deleting in the foreground: finish when no blocking dependent is left,
    /// otherwise make sure each blocking dependent is being deleted.
    async fn process_deleting_dependents(&self, node: &NodeView) -> Result<()> {
        let blocking = self.graph().blocking_dependents(&node.identity.uid);
        if blocking.is_empty() {
            tracing::info!(item = %node.identity, "garbage collector: no blocking dependents left; removing the foregroundDeletion finalizer");
            return self
                .remove_finalizer(&node.identity, FOREGROUND_FINALIZER)
                .await;
        }
        for dependent in blocking {
            if !dependent.deleting_dependents {
                self.attempt_to_delete.add(dependent.identity.uid);
            }
        }
        Ok(())
    }

    /// The state of each of `owners` of `item`, from live GETs (upstream `classifyReferences`).
    async fn classify_owners(
        &self,
        item: &ObjectIdentity,
        owners: &[OwnerReference],
    ) -> Result<Vec<(OwnerReference, OwnerState)>> {
        let mut out = Vec::with_capacity(owners.len());
        for reference in owners {
            let state = self.owner_state(item, reference).await?;
            out.push((reference.clone(), state));
        }
        Ok(out)
    }

    /// Upstream `isDangling`: the owner is gone if no object of its kind has its name in the
    /// dependent's namespace (or cluster-wide, for cluster-scoped kinds), or it has another uid.
    async fn owner_state(
        &self,
        item: &ObjectIdentity,
        reference: &OwnerReference,
    ) -> Result<OwnerState> {
        let cluster_key = ObjectIdentity::of_owner(reference, "");
        let namespaced_key = ObjectIdentity::of_owner(reference, &item.namespace);
        {
            let graph = self.graph();
            if graph.is_known_absent(&cluster_key) || graph.is_known_absent(&namespaced_key) {
                return Ok(OwnerState::Dangling);
            }
        }
        let resource = self.resolve(&reference.api_version, &reference.kind)?;
        if item.namespace.is_empty() && resource.namespaced {
            return Err(Error::NamespacedOwnerOfClusterScopedObject);
        }
        let key = if resource.namespaced {
            namespaced_key
        } else {
            cluster_key
        };
        let Some(api) = self.api(&resource, &key.namespace) else {
            return Ok(OwnerState::Dangling);
        };
        let owner = api.get_opt(&reference.name).await?;
        match owner {
            Some(owner) if owner.metadata.uid.as_deref() == Some(reference.uid.as_str()) => {
                let foreground = owner
                    .metadata
                    .finalizers
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .any(|f| f == FOREGROUND_FINALIZER);
                if owner.metadata.deletion_timestamp.is_some() && foreground {
                    Ok(OwnerState::WaitingForDependentsDeletion)
                } else {
                    Ok(OwnerState::Solid)
                }
            }
            _ => {
                self.graph().mark_absent(key);
                Ok(OwnerState::Dangling)
            }
        }
    }

    /// Removes the references with these owner uids from the object (read-modify-write with a
    /// resourceVersion guard, retried on conflict). An object that is gone needs nothing.
    async fn remove_owner_references(
        &self,
        identity: &ObjectIdentity,
        owner_uids: &[String],
    ) -> Result<()> {
        for _ in 0..CONFLICT_RETRIES {
            let Some(live) = self.get_live(identity).await? else {
                return Ok(());
            };
            if live.metadata.uid.as_deref() != Some(identity.uid.as_str()) {
                return Ok(());
            }
            let current = live.metadata.owner_references.clone().unwrap_or_default();
            let remaining = plan::references_without(&current, owner_uids);
            if remaining.len() == current.len() {
                return Ok(());
            }
            let patch =
                plan::owner_references_patch(live.metadata.resource_version.as_deref(), &remaining);
            match self.patch_metadata(identity, &patch).await {
                Ok(_) => return Ok(()),
                Err(e) if e.is_conflict() => continue,
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Err(Error::ConflictRetriesExhausted(format!(
            "removing ownerReferences from {identity}"
        )))
    }

    /// Removes `finalizer` from the object (upstream `removeFinalizer`); the API server deletes
    /// the object once it has a deletionTimestamp and no finalizers.
    async fn remove_finalizer(&self, identity: &ObjectIdentity, finalizer: &str) -> Result<()> {
        for _ in 0..CONFLICT_RETRIES {
            let Some(live) = self.get_live(identity).await? else {
                return Ok(());
            };
            if live.metadata.uid.as_deref() != Some(identity.uid.as_str()) {
                return Ok(());
            }
            let finalizers = live.metadata.finalizers.clone().unwrap_or_default();
            let Some(patch) = plan::remove_finalizer_patch(
                live.metadata.resource_version.as_deref(),
                &finalizers,
                finalizer,
            ) else {
                return Ok(());
            };
            match self.patch_metadata(identity, &patch).await {
                Ok(_) => return Ok(()),
                Err(e) if e.is_conflict() => continue,
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Err(Error::ConflictRetriesExhausted(format!(
            "removing finalizer {finalizer} from {identity}"
        )))
    }

    /// Upstream `attemptToOrphanWorker`: remove the owner from its dependents' ownerReferences,
    /// then its `orphan` finalizer.
    async fn attempt_to_orphan(&self, uid: &str) -> Result<()> {
        let Some(owner) = self.graph().node(uid) else {
            return Ok(());
        };
        let dependents = self.graph().dependents(uid);
        let owner_uid = [uid.to_string()];
        let results = futures::stream::iter(dependents)
            .map(|dependent| {
                let owner_uid = &owner_uid;
                async move {
                    self.remove_owner_references(&dependent.identity, owner_uid)
                        .await
                        .map_err(|e| format!("orphaning {} failed: {e}", dependent.identity))
                }
            })
            .buffer_unordered(8)
            .collect::<Vec<_>>()
            .await;
        let errors: Vec<String> = results
            .into_iter()
            .filter_map(std::result::Result::err)
            .collect();
        if !errors.is_empty() {
            return Err(Error::OrphanDependents(format!(
                "failed to orphan dependents of owner {}: {}",
                owner.identity,
                errors.join("; ")
            )));
        }
        tracing::info!(owner = %owner.identity, "garbage collector: dependents orphaned; removing the orphan finalizer");
        self.remove_finalizer(&owner.identity, ORPHAN_FINALIZER)
            .await
    }
}

fn not_found(identity: &ObjectIdentity) -> Error {
    Error::Kube(kube::Error::Api(
        kube::core::Status::failure(&format!("{identity} not found"), "NotFound")
            .with_code(404)
            .boxed(),
    ))
}
