//! The StatefulSet controller (upstream `pkg/controller/statefulset`): pods with stable names
//! `<set>-<ordinal>`, created and deleted in order (OrderedReady) or all at once (Parallel),
//! template revisions kept as ControllerRevisions (`controller-revision-hash` on pods), and
//! RollingUpdate from the highest ordinal down to the partition.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, Pod, PodTemplateSpec, Volume,
};
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::Client;
use kube::api::{Api, DeleteParams, ObjectMeta, Patch, PatchParams, PostParams};
use serde_json::json;
use tokio::sync::watch;

use crate::deployment::util::pod_template_hash_bytes;
use crate::error::{Error, Result};
use crate::events::{self, Recorder};
use crate::expectations::Expectations;
use crate::informer::{Informer, Informers};
use crate::meta::{self, Key, Selector, controller_ref, new_controller_ref};
use crate::pods;
use crate::replicaset::{ERROR_BACKOFF, api_message};
use berth_controllers::runtime::WorkQueue;
use berth_controllers::runtime::{Requeue, run_workers};

pub const REVISION_LABEL: &str = "controller-revision-hash";
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";
const WORKERS: usize = 5;

/// The StatefulSet controller. Build with [`StatefulSetController::new`], then
/// [`StatefulSetController::run`].
pub struct StatefulSetController {
    informers: Arc<Informers>,
}

struct Inner {
    client: Client,
    sets: Arc<Informer<StatefulSet>>,
    pods: Arc<Informer<Pod>>,
    revisions: Arc<Informer<ControllerRevision>>,
    queue: Arc<WorkQueue<Key>>,
    expectations: Expectations,
    recorder: Recorder,
}

impl StatefulSetController {
    pub fn new(client: Client) -> Self {
        Self::with_informers(Informers::new(client))
    }

    pub(crate) fn with_informers(informers: Arc<Informers>) -> Self {
        StatefulSetController { informers }
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        tracing::info!("starting statefulset controller");
        let client = self.informers.client().clone();
        let inner = Arc::new(Inner {
            client: client.clone(),
            sets: self.informers.stateful_sets(),
            pods: self.informers.pods(),
            revisions: self.informers.controller_revisions(),
            queue: WorkQueue::new(ERROR_BACKOFF),
            expectations: Expectations::default(),
            recorder: Recorder::new(client, "statefulset-controller"),
        });
        let weak = Arc::downgrade(&inner);
        inner.sets.add_handler(Box::new(move |_, new| {
            if let (Some(inner), Some(s)) = (weak.upgrade(), new) {
                inner.queue.add(Key::of(s));
            }
        }));
        let weak = Arc::downgrade(&inner);
        inner.pods.add_handler(Box::new(move |old, new| {
            let Some(inner) = weak.upgrade() else { return };
            for pod in [old, new].into_iter().flatten() {
                if let Some(r) = controller_ref(&pod.metadata).filter(|r| r.kind == "StatefulSet") {
                    let key = Key::new(pod.metadata.namespace.as_deref().unwrap_or(""), &r.name);
                    match (old, new) {
                        (None, Some(_)) => inner.expectations.creation_observed(&key),
                        (Some(_), None) => inner
                            .expectations
                            .deletion_observed(&key, &pods::pod_key(pod)),
                        _ => {}
                    }
                    inner.queue.add(key);
                }
            }
        }));
        inner.sets.synced().await;
        inner.pods.synced().await;
        inner.revisions.synced().await;
        for s in inner.sets.store().state() {
            inner.queue.add(Key::of(&*s));
        }
        let worker_inner = inner.clone();
        run_workers(
            "statefulset",
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

/// `<set>-<ordinal>` → ordinal.
fn ordinal_of(set_name: &str, pod: &Pod) -> Option<i32> {
    pod.metadata
        .name
        .as_deref()?
        .strip_prefix(set_name)?
        .strip_prefix('-')?
        .parse()
        .ok()
}

fn revision_of(pod: &Pod) -> Option<&str> {
    pod.metadata
        .labels
        .as_ref()?
        .get(REVISION_LABEL)
        .map(String::as_str)
}

/// The revision's data: the template as a replacing patch (upstream `getPatch`).
pub(crate) fn revision_data(template: &PodTemplateSpec) -> serde_json::Value {
    let mut t = serde_json::to_value(template).unwrap_or_default();
    if let Some(obj) = t.as_object_mut() {
        obj.insert("$patch".into(), json!("replace"));
    }
    json!({"spec": {"template": t}})
}

pub(crate) fn template_of_revision(rev: &ControllerRevision) -> Option<PodTemplateSpec> {
    let mut t = rev.data.as_ref()?.0.pointer("/spec/template")?.clone();
    if let Some(obj) = t.as_object_mut() {
        obj.remove("$patch");
    }
    serde_json::from_value(t).ok()
}

fn healthy(pod: &Pod, min_ready: i32) -> bool {
    pods::phase(pod) == "Running" && pods::is_available(pod, min_ready, meta::now())
}

impl Inner {
    async fn sync(&self, key: &Key) -> Result<Requeue> {
        let Some(set) = self.sets.get(&key.namespace, &key.name) else {
            self.expectations.forget(key);
            return Ok(None);
        };
        if set.metadata.deletion_timestamp.is_some() || !self.expectations.satisfied(key) {
            return Ok(None);
        }
        let set = (*set).clone();
        let spec = set.spec.clone().unwrap_or_default();
        let selector =
            Selector::from_label_selector(Some(&spec.selector)).map_err(Error::Invalid)?;
        let uid = set.metadata.uid.clone().unwrap_or_default();
        let name = key.name.clone();
        let pods: Vec<Arc<Pod>> = self
            .pods
            .in_namespace(&key.namespace)
            .into_iter()
            .filter(|p| {
                meta::is_controlled_by(&p.metadata, &uid)
                    && selector.matches(p.metadata.labels.as_ref())
            })
            .collect();

        let (current_rev, update_rev) = self.revisions_for(&set).await?;
        let current_name = current_rev.metadata.name.clone().unwrap_or_default();
        let update_name = update_rev.metadata.name.clone().unwrap_or_default();
        let replicas = spec.replicas.unwrap_or(1);
        let start = spec.ordinals.as_ref().and_then(|o| o.start).unwrap_or(0);
        let parallel = spec.pod_management_policy.as_deref() == Some("Parallel");
        let min_ready = spec.min_ready_seconds.unwrap_or(0);
        let strategy = spec.update_strategy.clone().unwrap_or_default();
        let rolling = strategy.type_.as_deref().unwrap_or("RollingUpdate") == "RollingUpdate";
        let partition = strategy
            .rolling_update
            .as_ref()
            .and_then(|r| r.partition)
            .unwrap_or(0);

        let mut by_ordinal: BTreeMap<i32, Arc<Pod>> = BTreeMap::new();
        for p in &pods {
            if let Some(o) = ordinal_of(&name, p) {
                by_ordinal.insert(o, p.clone());
            }
        }
        let in_range = |o: i32| o >= start && o < start + replicas;

        // Replicas in ascending order.
        let mut waiting = false;
        for ordinal in start..start + replicas {
            match by_ordinal.get(&ordinal) {
                Some(p)
                    if pods::phase(p) == "Failed" && p.metadata.deletion_timestamp.is_none() =>
                {
                    self.delete_pod(&set, key, p).await?;
                    if !parallel {
                        waiting = true;
                        break;
                    }
                }
                Some(p) => {
                    if !parallel
                        && (p.metadata.deletion_timestamp.is_some() || !healthy(p, min_ready))
                    {
                        waiting = true;
                        break;
                    }
                }
                None => {
                    let use_current = rolling && ordinal - start < partition;
                    let (rev, rev_name) = if use_current && current_name != update_name {
                        (&current_rev, &current_name)
                    } else {
                        (&update_rev, &update_name)
                    };
                    self.create_pod(&set, key, ordinal, rev, rev_name).await?;
                    if !parallel {
                        waiting = true;
                        break;
                    }
                }
            }
        }
        // Condemned pods, highest first.
        if !waiting {
            for (ordinal, p) in by_ordinal.iter().rev() {
                if in_range(*ordinal) {
                    continue;
                }
                if p.metadata.deletion_timestamp.is_some() {
                    if !parallel {
                        waiting = true;
                        break;
                    }
                    continue;
                }
                self.delete_pod(&set, key, p).await?;
                if !parallel {
                    waiting = true;
                    break;
                }
            }
        }
        // Rolling update: highest ordinal first, down to the partition, one unavailable at a time.
        if !waiting && rolling {
            let all_healthy = (start..start + replicas).all(|o| {
                by_ordinal.get(&o).is_some_and(|p| {
                    p.metadata.deletion_timestamp.is_none() && healthy(p, min_ready)
                })
            });
            if all_healthy {
                for ordinal in (start + partition..start + replicas).rev() {
                    if let Some(p) = by_ordinal.get(&ordinal)
                        && revision_of(p) != Some(update_name.as_str())
                    {
                        self.delete_pod(&set, key, p).await?;
                        break;
                    }
                }
            }
        }

        let status = self.status(&set, &pods, &current_name, &update_name, rolling, min_ready);
        self.write_status(&set, status).await?;
        self.cleanup_revisions(&set, &pods, &current_name, &update_name)
            .await?;
        if min_ready > 0 {
            return Ok(Some(Duration::from_secs(
                u64::try_from(min_ready).unwrap_or(0),
            )));
        }
        Ok(None)
    }

    /// The current and update revisions; creates the update revision if the template is new
    /// (upstream `getStatefulSetRevisions`).
    async fn revisions_for(
        &self,
        set: &StatefulSet,
    ) -> Result<(ControllerRevision, ControllerRevision)> {
        let ns = set.metadata.namespace.clone().unwrap_or_default();
        let uid = set.metadata.uid.clone().unwrap_or_default();
        let name = set.metadata.name.clone().unwrap_or_default();
        let mut revisions: Vec<ControllerRevision> = self
            .revisions
            .in_namespace(&ns)
            .into_iter()
            .filter(|r| meta::is_controlled_by(&r.metadata, &uid))
            .map(|r| (*r).clone())
            .collect();
        revisions.sort_by_key(|r| r.revision);
        let template = set
            .spec
            .as_ref()
            .map(|s| s.template.clone())
            .unwrap_or_default();
        let data = revision_data(&template);
        let max = revisions.last().map(|r| r.revision).unwrap_or(0);
        let api: Api<ControllerRevision> = Api::namespaced(self.client.clone(), &ns);
        let equal = revisions
            .iter()
            .rev()
            .find(|r| template_of_revision(r).as_ref() == Some(&template))
            .cloned();
        let update = match equal {
            Some(r) if r.revision == max => r,
            Some(mut r) => {
                r.revision = max + 1;
                api.replace(
                    r.metadata.name.as_deref().unwrap_or(""),
                    &PostParams::default(),
                    &r,
                )
                .await?
            }
            None => {
                let collision = set.status.as_ref().and_then(|s| s.collision_count);
                let bytes = serde_json::to_vec(&data)?;
                let hash = pod_template_hash_bytes(&bytes, collision);
                let rev = ControllerRevision {
                    metadata: ObjectMeta {
                        name: Some(format!("{name}-{hash}")),
                        namespace: Some(ns.clone()),
                        labels: template.metadata.as_ref().and_then(|m| m.labels.clone()),
                        owner_references: Some(vec![new_controller_ref(set)]),
                        ..ObjectMeta::default()
                    },
                    data: Some(RawExtension(data)),
                    revision: max + 1,
                };
                match api.create(&PostParams::default(), &rev).await {
                    Ok(r) => r,
                    Err(e) => {
                        let e = Error::from(e);
                        if !e.is_already_exists() {
                            return Err(e);
                        }
                        let existing = api.get(rev.metadata.name.as_deref().unwrap_or("")).await?;
                        if template_of_revision(&existing).as_ref() == Some(&template) {
                            existing
                        } else {
                            // A hash collision: bump collisionCount and retry.
                            let sets: Api<StatefulSet> = Api::namespaced(self.client.clone(), &ns);
                            let patch =
                                json!({"status": {"collisionCount": collision.unwrap_or(0) + 1}});
                            sets.patch_status(
                                &name,
                                &PatchParams::default(),
                                &Patch::Merge(&patch),
                            )
                            .await?;
                            return Err(e);
                        }
                    }
                }
            }
        };
        let current_name = set.status.as_ref().and_then(|s| s.current_revision.clone());
        let current = current_name
            .and_then(|n| {
                revisions
                    .iter()
                    .find(|r| r.metadata.name.as_deref() == Some(n.as_str()))
                    .cloned()
            })
            .unwrap_or_else(|| update.clone());
        Ok((current, update))
    }

    async fn create_pod(
        &self,
        set: &StatefulSet,
        key: &Key,
        ordinal: i32,
        rev: &ControllerRevision,
        rev_name: &str,
    ) -> Result<()> {
        let spec = set.spec.clone().unwrap_or_default();
        let template = template_of_revision(rev).unwrap_or_else(|| spec.template.clone());
        let pod_name = format!("{}-{ordinal}", key.name);
        let mut pod = pods::pod_from_template(&template, &key.name, new_controller_ref(set));
        pod.metadata.generate_name = None;
        pod.metadata.name = Some(pod_name.clone());
        let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
        labels.insert(POD_NAME_LABEL.into(), pod_name.clone());
        labels.insert(POD_INDEX_LABEL.into(), ordinal.to_string());
        labels.insert(REVISION_LABEL.into(), rev_name.to_string());
        if let Some(ps) = pod.spec.as_mut() {
            ps.hostname = Some(pod_name.clone());
            ps.subdomain = spec.service_name.clone().filter(|s| !s.is_empty());
        }
        // Stable storage: one claim per template and pod, created once and kept.
        for claim in spec.volume_claim_templates.iter().flatten() {
            let claim_template = claim.metadata.name.clone().unwrap_or_default();
            let claim_name = format!("{claim_template}-{pod_name}");
            let pvcs: Api<PersistentVolumeClaim> =
                Api::namespaced(self.client.clone(), &key.namespace);
            if pvcs.get_opt(&claim_name).await?.is_none() {
                let mut pvc = claim.clone();
                pvc.metadata = ObjectMeta {
                    name: Some(claim_name.clone()),
                    namespace: Some(key.namespace.clone()),
                    labels: spec.selector.match_labels.clone(),
                    annotations: claim.metadata.annotations.clone(),
                    ..ObjectMeta::default()
                };
                pvc.status = None;
                match pvcs.create(&PostParams::default(), &pvc).await {
                    Ok(_) => self.recorder.event(
                        set,
                        events::NORMAL,
                        "SuccessfulCreate",
                        format!(
                            "create Claim {claim_name} Pod {pod_name} in StatefulSet {} success",
                            key.name
                        ),
                    ),
                    Err(e) => {
                        let e = Error::from(e);
                        if !e.is_already_exists() {
                            self.recorder.event(set, events::WARNING, "FailedCreate", format!("create Claim {claim_name} for Pod {pod_name} in StatefulSet {} failed error: {}", key.name, api_message(&e)));
                            return Err(e);
                        }
                    }
                }
            }
            if let Some(ps) = pod.spec.as_mut() {
                let volumes = ps.volumes.get_or_insert_with(Vec::new);
                volumes.retain(|v| v.name != claim_template);
                volumes.push(Volume {
                    name: claim_template.clone(),
                    persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                        claim_name: claim_name.clone(),
                        read_only: None,
                    }),
                    ..Volume::default()
                });
            }
        }
        self.expectations.expect_creations(key, 1);
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &key.namespace);
        match api.create(&PostParams::default(), &pod).await {
            Ok(_) => {
                self.recorder.event(
                    set,
                    events::NORMAL,
                    "SuccessfulCreate",
                    format!(
                        "create Pod {pod_name} in StatefulSet {} successful",
                        key.name
                    ),
                );
                Ok(())
            }
            Err(e) => {
                self.expectations.lower_creations(key, 1);
                let e = Error::from(e);
                if e.is_already_exists() {
                    return Ok(());
                }
                self.recorder.event(
                    set,
                    events::WARNING,
                    "FailedCreate",
                    format!(
                        "create Pod {pod_name} in StatefulSet {} failed error: {}",
                        key.name,
                        api_message(&e)
                    ),
                );
                Err(e)
            }
        }
    }

    async fn delete_pod(&self, set: &StatefulSet, key: &Key, pod: &Pod) -> Result<()> {
        let name = pod.metadata.name.clone().unwrap_or_default();
        self.expectations
            .expect_deletions(key, vec![pods::pod_key(pod)]);
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &key.namespace);
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => {
                self.recorder.event(
                    set,
                    events::NORMAL,
                    "SuccessfulDelete",
                    format!("delete Pod {name} in StatefulSet {} successful", key.name),
                );
                Ok(())
            }
            Err(e) => {
                self.expectations
                    .deletion_observed(key, &pods::pod_key(pod));
                let e = Error::from(e);
                if e.is_not_found() {
                    return Ok(());
                }
                self.recorder.event(
                    set,
                    events::WARNING,
                    "FailedDelete",
                    format!(
                        "delete Pod {name} in StatefulSet {} failed error: {}",
                        key.name,
                        api_message(&e)
                    ),
                );
                Err(e)
            }
        }
    }

    fn status(
        &self,
        set: &StatefulSet,
        pods: &[Arc<Pod>],
        current: &str,
        update: &str,
        rolling: bool,
        min_ready: i32,
    ) -> StatefulSetStatus {
        let live: Vec<&Arc<Pod>> = pods
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .collect();
        let count = |f: &dyn Fn(&Pod) -> bool| {
            i32::try_from(live.iter().filter(|p| f(p)).count()).unwrap_or(0)
        };
        let now = meta::now();
        let mut status = StatefulSetStatus {
            observed_generation: set.metadata.generation,
            replicas: count(&|_| true),
            ready_replicas: Some(count(&pods::is_ready)),
            available_replicas: Some(count(&|p| pods::is_available(p, min_ready, now))),
            current_replicas: Some(count(&|p| revision_of(p) == Some(current))),
            updated_replicas: Some(count(&|p| revision_of(p) == Some(update))),
            current_revision: Some(current.to_string()),
            update_revision: Some(update.to_string()),
            collision_count: set.status.as_ref().and_then(|s| s.collision_count),
            conditions: set.status.as_ref().and_then(|s| s.conditions.clone()),
        };
        // A finished rolling update makes the update revision current (upstream
        // `completeRollingUpdate`).
        let want = set.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        if rolling
            && status.updated_replicas == Some(status.replicas)
            && status.ready_replicas == Some(status.replicas)
            && status.replicas == want
        {
            status.current_revision = status.update_revision.clone();
            status.current_replicas = status.updated_replicas;
        }
        status
    }

    async fn write_status(&self, set: &StatefulSet, status: StatefulSetStatus) -> Result<()> {
        if set.status.as_ref() == Some(&status) {
            return Ok(());
        }
        let api: Api<StatefulSet> = Api::namespaced(
            self.client.clone(),
            set.metadata.namespace.as_deref().unwrap_or(""),
        );
        let patch = json!({
            "metadata": {"uid": set.metadata.uid},
            "status": {
                "observedGeneration": status.observed_generation,
                "replicas": status.replicas,
                "readyReplicas": status.ready_replicas,
                "availableReplicas": status.available_replicas,
                "currentReplicas": status.current_replicas,
                "updatedReplicas": status.updated_replicas,
                "currentRevision": status.current_revision,
                "updateRevision": status.update_revision,
                "collisionCount": status.collision_count,
            }
        });
        api.patch_status(
            set.metadata.name.as_deref().unwrap_or(""),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
        Ok(())
    }

    /// Deletes revisions beyond `revisionHistoryLimit` that no pod uses (upstream
    /// `truncateHistory`).
    async fn cleanup_revisions(
        &self,
        set: &StatefulSet,
        pods: &[Arc<Pod>],
        current: &str,
        update: &str,
    ) -> Result<()> {
        let limit = set
            .spec
            .as_ref()
            .and_then(|s| s.revision_history_limit)
            .unwrap_or(10);
        let ns = set.metadata.namespace.clone().unwrap_or_default();
        let uid = set.metadata.uid.clone().unwrap_or_default();
        let mut history: Vec<Arc<ControllerRevision>> = self
            .revisions
            .in_namespace(&ns)
            .into_iter()
            .filter(|r| meta::is_controlled_by(&r.metadata, &uid))
            .filter(|r| {
                let n = r.metadata.name.as_deref().unwrap_or("");
                n != current && n != update && !pods.iter().any(|p| revision_of(p) == Some(n))
            })
            .collect();
        let excess = history
            .len()
            .saturating_sub(usize::try_from(limit).unwrap_or(0));
        history.sort_by_key(|r| r.revision);
        let api: Api<ControllerRevision> = Api::namespaced(self.client.clone(), &ns);
        for r in history.into_iter().take(excess) {
            if let Err(e) = api
                .delete(
                    r.metadata.name.as_deref().unwrap_or(""),
                    &DeleteParams::default(),
                )
                .await
            {
                let e = Error::from(e);
                if !e.is_not_found() {
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}
