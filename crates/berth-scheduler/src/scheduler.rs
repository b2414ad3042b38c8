//! The running scheduler: informers feeding the cache and the queue, the scheduling loop, and
//! the asynchronous binding, status and event writes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{
    Binding, Namespace, Node, ObjectReference, Pod, ReplicationController, Service,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use tokio::sync::{Semaphore, watch};

use crate::cache::Cache;
use crate::decisions::DecisionLog;
use crate::events::EventWriter;
use crate::framework::{CycleInput, schedule};
use crate::matching::{label_set_matches, pod_labels};
use crate::podinfo::{NamespaceLabels, PodInfo, pod_key};
use crate::queue::{QueuedPod, SchedulingQueue};

pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";
/// Longest stretch of back-to-back scheduling cycles before the loop yields to other tasks.
const YIELD_INTERVAL: std::time::Duration = std::time::Duration::from_millis(5);

#[derive(Clone, Debug)]
pub struct SchedulerConfig {
    /// Pods whose `spec.schedulerName` is this are scheduled (unset means default-scheduler).
    pub scheduler_name: String,
    /// Share of nodes to find feasible before scoring; None is upstream's adaptive default.
    pub percentage_of_nodes_to_score: Option<u32>,
    /// Bindings, status updates and events in flight at once.
    pub max_in_flight_writes: usize,
    /// Decisions kept for [`Scheduler::decisions`].
    pub decision_log_capacity: usize,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            scheduler_name: DEFAULT_SCHEDULER_NAME.to_string(),
            percentage_of_nodes_to_score: None,
            max_in_flight_writes: 256,
            decision_log_capacity: 10_000,
        }
    }
}

pub struct Scheduler {
    client: Client,
    config: SchedulerConfig,
    decisions: Arc<DecisionLog>,
}

/// Informer caches of the objects that decide default topology spreading.
struct OwnerStores {
    services: Store<Service>,
    replica_sets: Store<ReplicaSet>,
    stateful_sets: Store<StatefulSet>,
    replication_controllers: Store<ReplicationController>,
}

struct Shared {
    client: Client,
    config: SchedulerConfig,
    cache: Mutex<Cache>,
    queue: SchedulingQueue,
    namespace_labels: Mutex<NamespaceLabels>,
    decisions: Arc<DecisionLog>,
    recorder: EventWriter,
    writes: Semaphore,
}

impl Shared {
    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Scheduler {
    pub fn new(client: Client, config: SchedulerConfig) -> Self {
        let decisions = Arc::new(DecisionLog::new(config.decision_log_capacity));
        Scheduler {
            client,
            config,
            decisions,
        }
    }

    /// Recent decisions (bounded), shared with a debug endpoint.
    pub fn decisions(&self) -> Arc<DecisionLog> {
        self.decisions.clone()
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        tracing::info!(scheduler = self.config.scheduler_name, "starting scheduler");
        let recorder = EventWriter::new(self.client.clone());
        let shared = Arc::new(Shared {
            client: self.client.clone(),
            writes: Semaphore::new(self.config.max_in_flight_writes.max(1)),
            config: self.config,
            cache: Mutex::new(Cache::default()),
            queue: SchedulingQueue::new(),
            namespace_labels: Mutex::new(NamespaceLabels::new()),
            decisions: self.decisions,
            recorder,
        });
        let mut tasks = tokio::task::JoinSet::new();
        let owners = OwnerStores {
            services: spawn_reflector(
                &mut tasks,
                Api::all(shared.client.clone()),
                shutdown.clone(),
            ),
            replica_sets: spawn_reflector(
                &mut tasks,
                Api::all(shared.client.clone()),
                shutdown.clone(),
            ),
            stateful_sets: spawn_reflector(
                &mut tasks,
                Api::all(shared.client.clone()),
                shutdown.clone(),
            ),
            replication_controllers: spawn_reflector(
                &mut tasks,
                Api::all(shared.client.clone()),
                shutdown.clone(),
            ),
        };
        let (nodes_synced_tx, mut nodes_synced) = watch::channel(false);
        let (pods_synced_tx, mut pods_synced) = watch::channel(false);
        tasks.spawn(watch_nodes(
            shared.clone(),
            nodes_synced_tx,
            shutdown.clone(),
        ));
        tasks.spawn(watch_pods(shared.clone(), pods_synced_tx, shutdown.clone()));
        tasks.spawn(watch_namespaces(shared.clone(), shutdown.clone()));

        // Like upstream's WaitForCacheSync: no decisions on a partial view of the cluster.
        let synced = async {
            let _ = nodes_synced.wait_for(|s| *s).await;
            let _ = pods_synced.wait_for(|s| *s).await;
        };
        tokio::select! {
            _ = synced => {}
            _ = wait_for_shutdown(shutdown.clone()) => {}
        }
        let mut next_start = 0usize;
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_os_rng();
        let mut last_yield = std::time::Instant::now();
        while let Some(queued) = shared.queue.pop(&shutdown).await {
            schedule_one(&shared, &owners, queued, &mut next_start, &mut rng);
            // Let watchers and binding tasks run now and then. Not after every cycle: on a busy
            // runtime each yield waits behind every runnable task, which capped throughput.
            if last_yield.elapsed() >= YIELD_INTERVAL {
                tokio::task::yield_now().await;
                last_yield = std::time::Instant::now();
            }
        }
        tasks.abort_all();
        tracing::info!("stopped scheduler");
    }
}

async fn wait_for_shutdown(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|s| *s).await;
}

fn spawn_reflector<K>(
    tasks: &mut tokio::task::JoinSet<()>,
    api: Api<K>,
    shutdown: watch::Receiver<bool>,
) -> Store<K>
where
    K: Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store();
    let stream = reflector::reflector(writer, watcher(api, watcher::Config::default()))
        .default_backoff()
        .for_each(|_| std::future::ready(()));
    tasks.spawn(async move {
        tokio::select! {
            _ = stream => {}
            _ = wait_for_shutdown(shutdown) => {}
        }
    });
    reader
}

fn watcher_stream<K>(
    api: Api<K>,
) -> impl futures::Stream<Item = Result<watcher::Event<K>, watcher::Error>>
where
    K: Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
{
    watcher(api, watcher::Config::default()).default_backoff()
}

async fn watch_nodes(
    shared: Arc<Shared>,
    synced: watch::Sender<bool>,
    shutdown: watch::Receiver<bool>,
) {
    let mut buffer = Vec::new();
    let stream = watcher_stream(Api::<Node>::all(shared.client.clone()));
    let handle = stream.try_for_each(|event| {
        match event {
            watcher::Event::Apply(node) => {
                let changed = shared.cache().upsert_node(Arc::new(node));
                if changed {
                    shared.queue.move_all_unschedulable();
                }
            }
            watcher::Event::Delete(node) => shared.cache().remove_node(&node.name_any()),
            watcher::Event::Init => buffer.clear(),
            watcher::Event::InitApply(node) => buffer.push(Arc::new(node)),
            watcher::Event::InitDone => {
                shared.cache().replace_nodes(std::mem::take(&mut buffer));
                shared.queue.move_all_unschedulable();
                let _ = synced.send(true);
            }
        }
        std::future::ready(Ok(()))
    });
    tokio::select! {
        result = handle => if let Err(e) = result {
            tracing::error!(error = %e, "node watch ended");
        },
        _ = wait_for_shutdown(shutdown) => {}
    }
}

fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded") | Some("Failed")
    )
}

fn is_bound(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty())
}

impl Shared {
    /// Whether this scheduler should place the pod now.
    fn wants(&self, pod: &Pod) -> bool {
        let name = pod
            .spec
            .as_ref()
            .and_then(|s| s.scheduler_name.as_deref())
            .filter(|n| !n.is_empty())
            .unwrap_or(DEFAULT_SCHEDULER_NAME);
        !is_bound(pod)
            && name == self.config.scheduler_name
            && pod.metadata.deletion_timestamp.is_none()
            && !is_terminal(pod)
    }

    fn on_pod(&self, pod: Pod) {
        let key = pod_key(&pod);
        if is_bound(&pod) {
            self.queue.delete(&key);
            let finished = is_terminal(&pod);
            let was_held = {
                let mut cache = self.cache();
                let held = cache.is_assumed(&key) || finished;
                cache.apply_pod(Arc::new(pod));
                held
            };
            // A pod that finished frees its node's resources.
            if finished && was_held {
                self.queue.move_all_unschedulable();
            }
        } else if self.wants(&pod) {
            self.queue.add_or_update(Arc::new(pod));
        } else {
            self.queue.delete(&key);
        }
    }

    fn on_pod_deleted(&self, pod: &Pod) {
        let key = pod_key(pod);
        self.queue.delete(&key);
        if self.cache().remove_pod(&key) {
            self.queue.move_all_unschedulable();
        }
    }
}

async fn watch_pods(
    shared: Arc<Shared>,
    synced: watch::Sender<bool>,
    shutdown: watch::Receiver<bool>,
) {
    let mut buffer: Vec<Pod> = Vec::new();
    let stream = watcher_stream(Api::<Pod>::all(shared.client.clone()));
    let handle = stream.try_for_each(|event| {
        match event {
            watcher::Event::Apply(pod) => shared.on_pod(pod),
            watcher::Event::Delete(pod) => shared.on_pod_deleted(&pod),
            watcher::Event::Init => buffer.clear(),
            watcher::Event::InitApply(pod) => buffer.push(pod),
            watcher::Event::InitDone => {
                let pods = std::mem::take(&mut buffer);
                shared.cache().replace_pods(
                    pods.iter()
                        .filter(|p| is_bound(p))
                        .map(|p| Arc::new(p.clone()))
                        .collect(),
                );
                for pod in pods {
                    if !is_bound(&pod) {
                        shared.on_pod(pod);
                    }
                }
                shared.queue.move_all_unschedulable();
                let _ = synced.send(true);
            }
        }
        std::future::ready(Ok(()))
    });
    tokio::select! {
        result = handle => if let Err(e) = result {
            tracing::error!(error = %e, "pod watch ended");
        },
        _ = wait_for_shutdown(shutdown) => {}
    }
}

async fn watch_namespaces(shared: Arc<Shared>, shutdown: watch::Receiver<bool>) {
    let stream = watcher_stream(Api::<Namespace>::all(shared.client.clone())).touched_objects();
    let handle = stream.try_for_each(|ns| {
        let mut labels = shared
            .namespace_labels
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        labels.insert(ns.name_any(), ns.labels().clone());
        std::future::ready(Ok(()))
    });
    tokio::select! {
        result = handle => if let Err(e) = result {
            tracing::error!(error = %e, "namespace watch ended");
        },
        _ = wait_for_shutdown(shutdown) => {}
    }
}

/// Upstream `helper.DefaultSelector`: the selectors of the services selecting the pod and of
/// its controlling ReplicationController, ReplicaSet or StatefulSet.
fn default_spread_selector(pod: &Pod, owners: &OwnerStores) -> Vec<LabelSelector> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let labels = pod_labels(pod);
    let mut set: BTreeMap<String, String> = BTreeMap::new();
    for svc in owners.services.state() {
        if svc.metadata.namespace.as_deref() != Some(ns.as_str()) {
            continue;
        }
        if let Some(sel) = svc.spec.as_ref().and_then(|s| s.selector.as_ref())
            && !sel.is_empty()
            && label_set_matches(sel, labels)
        {
            set.extend(sel.clone());
        }
    }
    let mut selectors = Vec::new();
    let owner = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true));
    if let Some(o) = owner {
        match (o.api_version.as_str(), o.kind.as_str()) {
            ("v1", "ReplicationController") => {
                if let Some(rc) = owners
                    .replication_controllers
                    .get(&ObjectRef::new(&o.name).within(&ns))
                    && let Some(sel) = rc.spec.as_ref().and_then(|s| s.selector.as_ref())
                {
                    set.extend(sel.clone());
                }
            }
            ("apps/v1", "ReplicaSet") => {
                if let Some(rs) = owners
                    .replica_sets
                    .get(&ObjectRef::new(&o.name).within(&ns))
                    && let Some(spec) = rs.spec.as_ref()
                {
                    selectors.push(spec.selector.clone());
                }
            }
            ("apps/v1", "StatefulSet") => {
                if let Some(ss) = owners
                    .stateful_sets
                    .get(&ObjectRef::new(&o.name).within(&ns))
                    && let Some(spec) = ss.spec.as_ref()
                {
                    selectors.push(spec.selector.clone());
                }
            }
            _ => {}
        }
    }
    if !set.is_empty() {
        selectors.push(LabelSelector {
            match_labels: Some(set),
            ..Default::default()
        });
    }
    selectors
}

fn schedule_one(
    shared: &Arc<Shared>,
    owners: &OwnerStores,
    queued: QueuedPod,
    next_start: &mut usize,
    rng: &mut impl rand::Rng,
) {
    let pod = queued.pod.clone();
    let info = Arc::new(PodInfo::new(pod.clone()));
    let selector = default_spread_selector(&pod, owners);
    let result = {
        let ns_labels = shared
            .namespace_labels
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let mut cache = shared.cache();
        let input = CycleInput {
            pod: &info,
            namespace_labels: &ns_labels,
            default_spread_selector: selector,
            percentage_of_nodes_to_score: shared.config.percentage_of_nodes_to_score,
        };
        let result = schedule(&input, &cache, next_start, rng);
        if let Ok(node) = &result.outcome {
            cache.assume(info.clone(), node);
        }
        result
    };
    let mut decision = result.decision;
    decision.attempt = queued.attempts;
    shared.decisions.record(decision);
    match result.outcome {
        Ok(node) => {
            tracing::debug!(pod = queued.key, node, "assumed pod on node");
            let shared = shared.clone();
            tokio::spawn(async move { bind(shared, queued, node).await });
        }
        Err(fit) => {
            let message = fit.message();
            tracing::debug!(pod = queued.key, message, "pod is unschedulable");
            shared.queue.requeue(&queued.key, true);
            let shared = shared.clone();
            tokio::spawn(async move { report_unschedulable(shared, pod, message).await });
        }
    }
}

fn pod_reference(pod: &Pod) -> ObjectReference {
    pod.object_ref(&())
}

async fn bind(shared: Arc<Shared>, queued: QueuedPod, node: String) {
    let Ok(_permit) = shared.writes.acquire().await else {
        return;
    };
    let pod = &queued.pod;
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.name_any();
    let binding = Binding {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(ns.clone()),
            uid: pod.metadata.uid.clone(),
            ..Default::default()
        },
        target: ObjectReference {
            kind: Some("Node".into()),
            name: Some(node.clone()),
            ..Default::default()
        },
    };
    let api: Api<Pod> = Api::namespaced(shared.client.clone(), &ns);
    let result: Result<serde_json::Value, kube::Error> = api
        .create_subresource("binding", &name, &PostParams::default(), &binding)
        .await;
    match result {
        Ok(_) => {
            shared.cache().finish_binding(&queued.key);
            shared.queue.done(&queued.key);
            let message = format!("Successfully assigned {ns}/{name} to {node}");
            let published = shared
                .recorder
                .publish(
                    &pod_reference(pod),
                    "Normal",
                    "Scheduled",
                    "Binding",
                    &message,
                )
                .await;
            if let Err(e) = published {
                tracing::warn!(pod = queued.key, error = %e, "failed to record Scheduled event");
            }
        }
        Err(e) => {
            tracing::warn!(pod = queued.key, node, error = %e, "binding failed; retrying the pod");
            shared.cache().forget(&queued.key);
            let gone = matches!(&e, kube::Error::Api(s) if s.code == 404);
            if gone {
                shared.queue.delete(&queued.key);
            }
            shared.queue.requeue(&queued.key, false);
        }
    }
}

/// Upstream `handleSchedulingFailure`: a FailedScheduling event every attempt and the
/// PodScheduled=False condition when it changes.
async fn report_unschedulable(shared: Arc<Shared>, pod: Arc<Pod>, message: String) {
    let Ok(_permit) = shared.writes.acquire().await else {
        return;
    };
    let published = shared
        .recorder
        .publish(
            &pod_reference(&pod),
            "Warning",
            "FailedScheduling",
            "Scheduling",
            &message,
        )
        .await;
    if let Err(e) = published {
        tracing::warn!(pod = pod_key(&pod), error = %e, "failed to record FailedScheduling event");
    }
    let current = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled"));
    if current.is_some_and(|c| {
        c.status == "False"
            && c.reason.as_deref() == Some("Unschedulable")
            && c.message.as_deref() == Some(message.as_str())
    }) {
        return;
    }
    let transition = match current {
        Some(c) if c.status == "False" => c.last_transition_time.clone(),
        _ => None,
    }
    .map(|t| t.0.to_string())
    .unwrap_or_else(|| jiff::Timestamp::now().to_string());
    let patch = serde_json::json!({
        "status": {
            "conditions": [{
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": message,
                "lastProbeTime": null,
                "lastTransitionTime": transition,
            }]
        }
    });
    let api: Api<Pod> = Api::namespaced(
        shared.client.clone(),
        pod.metadata.namespace.as_deref().unwrap_or_default(),
    );
    if let Err(e) = api
        .patch_status(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Strategic(patch),
        )
        .await
    {
        tracing::debug!(pod = pod_key(&pod), error = %e, "failed to set PodScheduled condition");
    }
}
