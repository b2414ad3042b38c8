//! The ReplicaSet controller (upstream `pkg/controller/replicaset`): keeps `spec.replicas` active
//! pods matching the selector, adopting orphans and releasing pods that stopped matching, and
//! reports counts and the ReplicaFailure condition in the status.
//!
//! Pod creations and deletions are recorded as expectations: until the pod cache has seen them
//! the ReplicaSet is not managed again, so a lagging cache never causes double creations.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetCondition};
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;
use tokio::sync::watch;

use crate::claim::Claimer;
use crate::error::{Error, Result};
use crate::events::{self, Recorder};
use crate::expectations::Expectations;
use crate::informer::{Informer, Informers};
use crate::meta::{self, Key, Selector, controller_ref, new_controller_ref};
use crate::pods;
use berth_controllers::runtime::Backoff;
use berth_controllers::runtime::WorkQueue;
use berth_controllers::runtime::{Requeue, run_workers};

/// At most this many pods are created or deleted in one sync (upstream `BurstReplicas`).
const BURST_REPLICAS: usize = 500;
/// kube-controller-manager's `--concurrent-replicaset-syncs`.
const WORKERS: usize = 5;
pub(crate) const ERROR_BACKOFF: Backoff = Backoff {
    base: Duration::from_millis(5),
    max: Duration::from_secs(1000),
};
pub const REPLICA_FAILURE: &str = "ReplicaFailure";

/// The ReplicaSet controller. Build with [`ReplicaSetController::new`], then
/// [`ReplicaSetController::run`].
pub struct ReplicaSetController {
    informers: Arc<Informers>,
}

struct Inner {
    client: Client,
    pods: Arc<Informer<Pod>>,
    replica_sets: Arc<Informer<ReplicaSet>>,
    queue: Arc<WorkQueue<Key>>,
    expectations: Expectations,
    recorder: Recorder,
}

impl ReplicaSetController {
    pub fn new(client: Client) -> Self {
        Self::with_informers(Informers::new(client))
    }

    pub(crate) fn with_informers(informers: Arc<Informers>) -> Self {
        ReplicaSetController { informers }
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        tracing::info!("starting replicaset controller");
        let client = self.informers.client().clone();
        let inner = Arc::new(Inner {
            client: client.clone(),
            pods: self.informers.pods(),
            replica_sets: self.informers.replica_sets(),
            queue: WorkQueue::new(ERROR_BACKOFF),
            expectations: Expectations::default(),
            recorder: Recorder::new(client, "replicaset-controller"),
        });
        let weak = Arc::downgrade(&inner);
        inner.replica_sets.add_handler(Box::new(move |old, new| {
            if let Some(inner) = weak.upgrade() {
                inner.on_replica_set(old, new);
            }
        }));
        let weak = Arc::downgrade(&inner);
        inner.pods.add_handler(Box::new(move |old, new| {
            if let Some(inner) = weak.upgrade() {
                inner.on_pod(old, new);
            }
        }));
        inner.pods.synced().await;
        inner.replica_sets.synced().await;
        for rs in inner.replica_sets.store().state() {
            inner.queue.add(Key::of(&*rs));
        }
        let worker_inner = inner.clone();
        run_workers(
            "replicaset",
            inner.queue.clone(),
            WORKERS,
            shutdown,
            move |key| {
                let inner = worker_inner.clone();
                async move { inner.sync(&key).await }
            },
        )
        .await;
    }
}

impl Inner {
    fn on_replica_set(&self, old: Option<&ReplicaSet>, new: Option<&ReplicaSet>) {
        match (old, new) {
            (_, Some(rs)) => self.queue.add(Key::of(rs)),
            (Some(rs), None) => {
                let key = Key::of(rs);
                self.expectations.forget(&key);
                self.queue.add(key);
            }
            (None, None) => {}
        }
    }

    /// The ReplicaSet a pod's controller reference names, if it exists with that uid.
    fn owner_of(&self, pod: &Pod) -> Option<Arc<ReplicaSet>> {
        let r = controller_ref(&pod.metadata)?;
        if r.kind != "ReplicaSet" {
            return None;
        }
        let rs = self
            .replica_sets
            .get(pod.metadata.namespace.as_deref()?, &r.name)?;
        (rs.metadata.uid.as_deref() == Some(r.uid.as_str())).then_some(rs)
    }

    /// ReplicaSets whose selector matches an orphan pod (upstream `GetPodReplicaSets`).
    fn matching_replica_sets(&self, pod: &Pod) -> Vec<Arc<ReplicaSet>> {
        let Some(ns) = pod.metadata.namespace.as_deref() else {
            return Vec::new();
        };
        self.replica_sets
            .in_namespace(ns)
            .into_iter()
            .filter(|rs| {
                Selector::from_label_selector(Some(
                    &rs.spec
                        .as_ref()
                        .map(|s| s.selector.clone())
                        .unwrap_or_default(),
                ))
                .map(|s| !s.is_empty() && s.matches(pod.metadata.labels.as_ref()))
                .unwrap_or(false)
            })
            .collect()
    }

    fn on_pod(&self, old: Option<&Pod>, new: Option<&Pod>) {
        match (old, new) {
            (None, Some(pod)) => {
                if pod.metadata.deletion_timestamp.is_some() {
                    // Seen for the first time while terminating (after a re-list).
                    self.pod_deleted(pod);
                    return;
                }
                if let Some(rs) = self.owner_of(pod) {
                    let key = Key::of(&*rs);
                    self.expectations.creation_observed(&key);
                    self.queue.add(key);
                } else if controller_ref(&pod.metadata).is_none() {
                    for rs in self.matching_replica_sets(pod) {
                        self.queue.add(Key::of(&*rs));
                    }
                }
            }
            (Some(old), Some(cur)) => {
                if old.metadata.resource_version == cur.metadata.resource_version {
                    return;
                }
                let labels_changed = old.metadata.labels != cur.metadata.labels;
                if cur.metadata.deletion_timestamp.is_some() {
                    self.pod_deleted(cur);
                    if labels_changed {
                        self.pod_deleted(old);
                    }
                    return;
                }
                let old_ref = controller_ref(&old.metadata);
                let cur_ref = controller_ref(&cur.metadata);
                if old_ref != cur_ref
                    && let Some(rs) = self.owner_of(old)
                {
                    self.queue.add(Key::of(&*rs));
                }
                if let Some(rs) = self.owner_of(cur) {
                    let key = Key::of(&*rs);
                    self.queue.add(key.clone());
                    let min_ready = rs
                        .spec
                        .as_ref()
                        .and_then(|s| s.min_ready_seconds)
                        .unwrap_or(0);
                    if min_ready > 0 && !pods::is_ready(old) && pods::is_ready(cur) {
                        let after = Duration::from_secs(u64::try_from(min_ready).unwrap_or(0) + 1);
                        self.queue.add_after(key, after);
                    }
                    return;
                }
                if cur_ref.is_none() && (labels_changed || old_ref != cur_ref) {
                    for rs in self.matching_replica_sets(cur) {
                        self.queue.add(Key::of(&*rs));
                    }
                }
            }
            (Some(pod), None) => self.pod_deleted(pod),
            (None, None) => {}
        }
    }

    fn pod_deleted(&self, pod: &Pod) {
        if let Some(r) = controller_ref(&pod.metadata)
            && r.kind == "ReplicaSet"
        {
            let key = Key::new(pod.metadata.namespace.as_deref().unwrap_or(""), &r.name);
            self.expectations
                .deletion_observed(&key, &pods::pod_key(pod));
            self.queue.add(key);
        }
    }

    async fn sync(&self, key: &Key) -> Result<Requeue> {
        let Some(rs) = self.replica_sets.get(&key.namespace, &key.name) else {
            self.expectations.forget(key);
            return Ok(None);
        };
        let needs_sync = self.expectations.satisfied(key);
        let spec = rs.spec.clone().unwrap_or_default();
        let selector = match Selector::from_label_selector(Some(&spec.selector)) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(replicaset = %key, error = e, "invalid selector");
                return Ok(None);
            }
        };
        let uid = rs.metadata.uid.clone().unwrap_or_default();
        let candidates: Vec<Arc<Pod>> = self
            .pods
            .in_namespace(&key.namespace)
            .into_iter()
            .filter(|p| pods::is_active(p))
            .filter(|p| controller_ref(&p.metadata).is_none_or(|r| r.uid == uid))
            .collect();
        let claimer = Claimer {
            api: Api::<Pod>::namespaced(self.client.clone(), &key.namespace),
            owner: new_controller_ref(&*rs),
            owner_deleting: rs.metadata.deletion_timestamp.is_some(),
            selector: &selector,
        };
        let active = claimer.claim(candidates).await?;

        let replicas = spec.replicas.unwrap_or(1);
        let diff = i64::try_from(active.len()).unwrap_or(i64::MAX) - i64::from(replicas);
        let manage_error = if needs_sync && rs.metadata.deletion_timestamp.is_none() {
            self.manage_replicas(&rs, key, &active, diff).await.err()
        } else {
            None
        };

        let status = calculate_status(&rs, &active, manage_error.as_ref(), diff, meta::now());
        let updated = self.update_status(&rs, status).await?;
        if let Some(e) = manage_error {
            return Err(e);
        }
        let min_ready = spec.min_ready_seconds.unwrap_or(0);
        let st = updated.status.unwrap_or_default();
        if min_ready > 0
            && st.ready_replicas.unwrap_or(0) == replicas
            && st.available_replicas.unwrap_or(0) != replicas
        {
            return Ok(Some(Duration::from_secs(
                u64::try_from(min_ready).unwrap_or(0),
            )));
        }
        Ok(None)
    }

    async fn manage_replicas(
        &self,
        rs: &ReplicaSet,
        key: &Key,
        active: &[Arc<Pod>],
        diff: i64,
    ) -> Result<()> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &key.namespace);
        if diff < 0 {
            let want = usize::try_from(-diff).unwrap_or(0).min(BURST_REPLICAS);
            let template = rs
                .spec
                .as_ref()
                .and_then(|s| s.template.clone())
                .unwrap_or_default();
            let pod = pods::pod_from_template(&template, &key.name, new_controller_ref(rs));
            return create_pods(
                &api,
                vec![pod; want],
                rs,
                key,
                &self.recorder,
                &self.expectations,
            )
            .await;
        }
        if diff > 0 {
            let n = usize::try_from(diff).unwrap_or(0).min(BURST_REPLICAS);
            let mut ranked: Vec<&Pod> = active.iter().map(|p| &**p).collect();
            let related = ranked.clone();
            pods::sort_for_deletion(&mut ranked, &related, meta::now());
            let victims: Vec<&Pod> = ranked.into_iter().take(n).collect();
            return delete_pods(
                &api,
                &victims,
                rs,
                key,
                &DeleteParams::default(),
                &self.recorder,
                &self.expectations,
            )
            .await;
        }
        Ok(())
    }

    /// Writes the status if it changed (upstream `updateReplicaSetStatus`).
    async fn update_status(
        &self,
        rs: &ReplicaSet,
        status: k8s_openapi::api::apps::v1::ReplicaSetStatus,
    ) -> Result<ReplicaSet> {
        let current = rs.status.clone().unwrap_or_default();
        let generation = rs.metadata.generation;
        if same_status(&current, &status) && current.observed_generation == generation {
            return Ok(rs.clone());
        }
        let mut status = status;
        status.observed_generation = generation;
        let api: Api<ReplicaSet> = Api::namespaced(
            self.client.clone(),
            rs.metadata.namespace.as_deref().unwrap_or(""),
        );
        let patch = json!({
            "metadata": {"uid": rs.metadata.uid},
            "status": {
                "replicas": status.replicas,
                "fullyLabeledReplicas": status.fully_labeled_replicas.unwrap_or(0),
                "readyReplicas": status.ready_replicas.unwrap_or(0),
                "availableReplicas": status.available_replicas.unwrap_or(0),
                "observedGeneration": status.observed_generation,
                "conditions": status.conditions,
            }
        });
        let name = rs.metadata.name.clone().unwrap_or_default();
        Ok(api
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?)
    }
}

fn same_status(
    a: &k8s_openapi::api::apps::v1::ReplicaSetStatus,
    b: &k8s_openapi::api::apps::v1::ReplicaSetStatus,
) -> bool {
    a.replicas == b.replicas
        && a.fully_labeled_replicas.unwrap_or(0) == b.fully_labeled_replicas.unwrap_or(0)
        && a.ready_replicas.unwrap_or(0) == b.ready_replicas.unwrap_or(0)
        && a.available_replicas.unwrap_or(0) == b.available_replicas.unwrap_or(0)
        && a.conditions.as_deref().unwrap_or_default()
            == b.conditions.as_deref().unwrap_or_default()
}

/// The message of an API error as Kubernetes prints it (the Status message).
pub(crate) fn api_message(e: &Error) -> String {
    match e {
        Error::Kube(kube::Error::Api(s)) => s.message.clone(),
        other => other.to_string(),
    }
}

/// Creates `pods` for `owner` in slow-start batches (upstream `slowStartBatch` as the ReplicaSet
/// and Job controllers use it): expects the creations first, records SuccessfulCreate or
/// FailedCreate per pod, and lowers the expectations for failed and skipped creates, which the
/// pod cache will never see. Returns the first error.
pub(crate) async fn create_pods<K>(
    api: &Api<Pod>,
    pods: Vec<Pod>,
    owner: &K,
    key: &Key,
    recorder: &Recorder,
    expectations: &Expectations,
) -> Result<()>
where
    K: kube::Resource<DynamicType = ()>,
{
    let want = pods.len();
    expectations.expect_creations(key, want);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (outcome, error) = slow_start_batch(
        want,
        || {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let api = api.clone();
            let pod = pods.get(i).cloned().unwrap_or_default();
            async move {
                api.create(&PostParams::default(), &pod)
                    .await
                    .map_err(Error::from)
            }
        },
        |result| match result {
            Ok(p) => recorder.event(
                owner,
                events::NORMAL,
                "SuccessfulCreate",
                format!("Created pod: {}", p.metadata.name.as_deref().unwrap_or("")),
            ),
            Err(e) => {
                expectations.lower_creations(key, 1);
                recorder.event(
                    owner,
                    events::WARNING,
                    "FailedCreate",
                    format!("Error creating: {}", api_message(e)),
                );
            }
        },
    )
    .await;
    let skipped = want.saturating_sub(outcome.attempted);
    if skipped > 0 {
        expectations.lower_creations(key, skipped);
    }
    error.map_or(Ok(()), Err)
}

/// Deletes `victims` of `owner` at once (upstream `PodControl.DeletePod` for each): deletions
/// expected first, a `SuccessfulDelete` event per pod, `FailedDelete` per error; a pod that is
/// already gone counts as deleted. Returns the first error.
pub(crate) async fn delete_pods<K>(
    api: &Api<Pod>,
    victims: &[&Pod],
    owner: &K,
    key: &Key,
    params: &DeleteParams,
    recorder: &Recorder,
    expectations: &Expectations,
) -> Result<()>
where
    K: kube::Resource<DynamicType = ()>,
{
    if victims.is_empty() {
        return Ok(());
    }
    expectations.expect_deletions(key, victims.iter().map(|p| pods::pod_key(p)).collect());
    let results = join_all(victims.iter().map(|p| {
        let name = p.metadata.name.clone().unwrap_or_default();
        async move {
            let result = api.delete(&name, params).await;
            (name, result)
        }
    }))
    .await;
    let mut first_error = None;
    for (pod, (name, result)) in victims.iter().zip(results) {
        match result {
            Ok(_) => recorder.event(
                owner,
                events::NORMAL,
                "SuccessfulDelete",
                format!("Deleted pod: {name}"),
            ),
            Err(e) => {
                let e = Error::from(e);
                expectations.deletion_observed(key, &pods::pod_key(pod));
                if e.is_not_found() {
                    continue;
                }
                recorder.event(
                    owner,
                    events::WARNING,
                    "FailedDelete",
                    format!("Error deleting: {}", api_message(&e)),
                );
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// How many calls a slow-start batch run made.
pub(crate) struct BatchOutcome {
    pub attempted: usize,
}

/// Runs `count` calls in batches of 1, 2, 4, ... stopping after the first batch with a failure
/// (upstream `slowStartBatch`), so a systematic error (quota) costs few requests.
pub(crate) async fn slow_start_batch<T, F, Fut>(
    count: usize,
    call: F,
    mut each: impl FnMut(&Result<T>),
) -> (BatchOutcome, Option<Error>)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut remaining = count;
    let mut batch = 1usize;
    let mut attempted = 0;
    let mut first_error = None;
    while remaining > 0 {
        let size = batch.min(remaining);
        let results = join_all((0..size).map(|_| call())).await;
        attempted += size;
        remaining -= size;
        for r in &results {
            each(r);
        }
        for r in results {
            if let Err(e) = r {
                first_error.get_or_insert(e);
            }
        }
        if first_error.is_some() {
            break;
        }
        batch = batch.saturating_mul(2);
    }
    (BatchOutcome { attempted }, first_error)
}

/// The status the pods imply (upstream `calculateStatus`).
fn calculate_status(
    rs: &ReplicaSet,
    active: &[Arc<Pod>],
    manage_error: Option<&Error>,
    diff: i64,
    now: k8s_openapi::jiff::Timestamp,
) -> k8s_openapi::api::apps::v1::ReplicaSetStatus {
    let spec = rs.spec.clone().unwrap_or_default();
    let template_labels = spec
        .template
        .as_ref()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let count = |f: &dyn Fn(&Pod) -> bool| {
        i32::try_from(active.iter().filter(|p| f(p)).count()).unwrap_or(i32::MAX)
    };
    let fully_labeled = count(&|p: &Pod| {
        let labels = p.metadata.labels.clone().unwrap_or_default();
        template_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
    });
    let ready = count(&pods::is_ready);
    let available = count(&|p: &Pod| pods::is_available(p, min_ready, now));

    let mut conditions = rs
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let has_failure = conditions.iter().any(|c| c.type_ == REPLICA_FAILURE);
    match manage_error {
        Some(e) if !has_failure => {
            let reason = if diff < 0 {
                "FailedCreate"
            } else {
                "FailedDelete"
            };
            conditions.push(ReplicaSetCondition {
                type_: REPLICA_FAILURE.to_string(),
                status: "True".to_string(),
                reason: Some(reason.to_string()),
                message: Some(api_message(e)),
                last_transition_time: Some(meta::now_time()),
            });
        }
        None if has_failure => conditions.retain(|c| c.type_ != REPLICA_FAILURE),
        _ => {}
    }
    k8s_openapi::api::apps::v1::ReplicaSetStatus {
        replicas: i32::try_from(active.len()).unwrap_or(i32::MAX),
        fully_labeled_replicas: Some(fully_labeled),
        ready_replicas: Some(ready),
        available_replicas: Some(available),
        observed_generation: rs.metadata.generation,
        conditions: (!conditions.is_empty()).then_some(conditions),
        terminating_replicas: None,
    }
}
