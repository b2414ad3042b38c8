//! The Deployment controller (upstream `pkg/controller/deployment`): one ReplicaSet per pod
//! template (named `<deployment>-<pod-template-hash>`), rolled by the RollingUpdate or Recreate
//! strategy, with revisions, proportional scaling, pausing, history cleanup and the Progressing
//! and Available conditions.

pub mod util;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;
use tokio::sync::watch;

use crate::claim::Claimer;
use crate::error::{Error, Result};
use crate::events::{self, Recorder};
use crate::informer::{Informer, Informers};
use crate::meta::{self, Key, Selector, controller_ref, new_controller_ref};
use crate::replicaset::{ERROR_BACKOFF, api_message};
use berth_controllers::runtime::WorkQueue;
use berth_controllers::runtime::{Requeue, run_workers};
use util::*;

/// kube-controller-manager's `--concurrent-deployment-syncs`.
const WORKERS: usize = 5;

/// The Deployment controller. Build with [`DeploymentController::new`], then
/// [`DeploymentController::run`].
pub struct DeploymentController {
    informers: Arc<Informers>,
}

struct Inner {
    client: Client,
    deployments: Arc<Informer<Deployment>>,
    replica_sets: Arc<Informer<ReplicaSet>>,
    pods: Arc<Informer<Pod>>,
    queue: Arc<WorkQueue<Key>>,
    recorder: Recorder,
}

impl DeploymentController {
    pub fn new(client: Client) -> Self {
        Self::with_informers(Informers::new(client))
    }

    pub(crate) fn with_informers(informers: Arc<Informers>) -> Self {
        DeploymentController { informers }
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        tracing::info!("starting deployment controller");
        let client = self.informers.client().clone();
        let inner = Arc::new(Inner {
            client: client.clone(),
            deployments: self.informers.deployments(),
            replica_sets: self.informers.replica_sets(),
            pods: self.informers.pods(),
            queue: WorkQueue::new(ERROR_BACKOFF),
            recorder: Recorder::new(client, "deployment-controller"),
        });
        let weak = Arc::downgrade(&inner);
        inner.deployments.add_handler(Box::new(move |old, new| {
            if let (Some(inner), Some(d)) = (weak.upgrade(), new.or(old)) {
                inner.queue.add(Key::of(d));
            }
        }));
        let weak = Arc::downgrade(&inner);
        inner.replica_sets.add_handler(Box::new(move |old, new| {
            if let Some(inner) = weak.upgrade() {
                inner.on_replica_set(old, new);
            }
        }));
        let weak = Arc::downgrade(&inner);
        inner.pods.add_handler(Box::new(move |old, new| {
            if let (Some(inner), Some(pod), None) = (weak.upgrade(), old, new) {
                inner.on_pod_deleted(pod);
            }
        }));
        inner.deployments.synced().await;
        inner.replica_sets.synced().await;
        inner.pods.synced().await;
        for d in inner.deployments.store().state() {
            inner.queue.add(Key::of(&*d));
        }
        let worker_inner = inner.clone();
        run_workers(
            "deployment",
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

fn selector_of(d: &Deployment) -> Result<Selector> {
    Selector::from_label_selector(d.spec.as_ref().map(|s| &s.selector)).map_err(Error::Invalid)
}

impl Inner {
    fn owner_key(&self, rs: &ReplicaSet) -> Option<Key> {
        let r = controller_ref(&rs.metadata)?;
        (r.kind == "Deployment")
            .then(|| Key::new(rs.metadata.namespace.as_deref().unwrap_or(""), &r.name))
    }

    fn on_replica_set(&self, old: Option<&ReplicaSet>, new: Option<&ReplicaSet>) {
        let mut keys: Vec<Key> = [old, new]
            .into_iter()
            .flatten()
            .filter_map(|rs| self.owner_key(rs))
            .collect();
        // An orphan: every Deployment that may adopt it.
        if let Some(rs) = new.filter(|rs| controller_ref(&rs.metadata).is_none()) {
            let ns = rs.metadata.namespace.as_deref().unwrap_or("");
            for d in self.deployments.in_namespace(ns) {
                if selector_of(&d)
                    .is_ok_and(|s| !s.is_empty() && s.matches(rs.metadata.labels.as_ref()))
                {
                    keys.push(Key::of(&*d));
                }
            }
        }
        for k in keys {
            self.queue.add(k);
        }
    }

    /// Recreate waits for old pods to go: their deletion may let the new ReplicaSet start.
    fn on_pod_deleted(&self, pod: &Pod) {
        let Some(r) = controller_ref(&pod.metadata).filter(|r| r.kind == "ReplicaSet") else {
            return;
        };
        let ns = pod.metadata.namespace.as_deref().unwrap_or("");
        if let Some(rs) = self.replica_sets.get(ns, &r.name)
            && let Some(key) = self.owner_key(&rs)
            && self
                .deployments
                .get(&key.namespace, &key.name)
                .is_some_and(|d| strategy_type(&d) == "Recreate")
        {
            self.queue.add(key);
        }
    }

    fn rs_api(&self, ns: &str) -> Api<ReplicaSet> {
        Api::namespaced(self.client.clone(), ns)
    }

    async fn sync(&self, key: &Key) -> Result<Requeue> {
        let Some(d) = self.deployments.get(&key.namespace, &key.name) else {
            return Ok(None);
        };
        let mut d = (*d).clone();
        let selector = selector_of(&d)?;
        if selector.is_empty() {
            self.recorder.event(
                &d,
                events::WARNING,
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.".into(),
            );
            let generation = d.metadata.generation;
            if d.status.as_ref().and_then(|s| s.observed_generation) < generation {
                let mut status = d.status.clone().unwrap_or_default();
                status.observed_generation = generation;
                self.write_status(&mut d, status).await?;
            }
            return Ok(None);
        }
        let rss = self.claim_replica_sets(&d, &selector).await?;

        if d.metadata.deletion_timestamp.is_some() {
            return self.sync_status_only(&mut d, &rss).await;
        }
        self.check_paused_conditions(&mut d).await?;
        let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        if paused || self.is_scaling_event(&d, &rss) {
            return self.sync_scale(&mut d, &rss).await;
        }
        match strategy_type(&d) {
            "Recreate" => self.rollout_recreate(&mut d, &rss).await,
            _ => self.rollout_rolling(&mut d, &rss).await,
        }
    }

    async fn claim_replica_sets(
        &self,
        d: &Deployment,
        selector: &Selector,
    ) -> Result<Vec<Arc<ReplicaSet>>> {
        let ns = d.metadata.namespace.as_deref().unwrap_or("");
        let uid = d.metadata.uid.clone().unwrap_or_default();
        let candidates: Vec<Arc<ReplicaSet>> = self
            .replica_sets
            .in_namespace(ns)
            .into_iter()
            .filter(|rs| controller_ref(&rs.metadata).is_none_or(|r| r.uid == uid))
            .collect();
        Claimer {
            api: self.rs_api(ns),
            owner: new_controller_ref(d),
            owner_deleting: d.metadata.deletion_timestamp.is_some(),
            selector,
        }
        .claim(candidates)
        .await
    }

    /// The new and old ReplicaSets; creates the new one if asked, syncs revisions (upstream
    /// `getAllReplicaSetsAndSyncRevision`).
    async fn new_and_old(
        &self,
        d: &mut Deployment,
        rss: &[Arc<ReplicaSet>],
        create: bool,
    ) -> Result<(Option<Arc<ReplicaSet>>, Vec<Arc<ReplicaSet>>)> {
        let existing = find_new_rs(d, rss);
        let olds = find_old_rss(rss, existing.as_deref());
        let new_rs = self.get_new_rs(d, rss, &olds, existing, create).await?;
        Ok((new_rs, olds))
    }

    async fn get_new_rs(
        &self,
        d: &mut Deployment,
        rss: &[Arc<ReplicaSet>],
        olds: &[Arc<ReplicaSet>],
        existing: Option<Arc<ReplicaSet>>,
        create: bool,
    ) -> Result<Option<Arc<ReplicaSet>>> {
        let ns = d.metadata.namespace.clone().unwrap_or_default();
        let new_revision = max_revision(olds) + 1;
        if let Some(existing) = existing {
            let mut rs = (*existing).clone();
            let annotations_updated = set_new_rs_annotations(d, &mut rs, new_revision, true);
            let min_ready = d.spec.as_ref().and_then(|s| s.min_ready_seconds);
            let spec = rs.spec.get_or_insert_with(Default::default);
            let min_ready_update = spec.min_ready_seconds.unwrap_or(0) != min_ready.unwrap_or(0);
            if annotations_updated || min_ready_update {
                spec.min_ready_seconds = min_ready;
                let name = rs.metadata.name.clone().unwrap_or_default();
                let updated = self
                    .rs_api(&ns)
                    .replace(&name, &PostParams::default(), &rs)
                    .await?;
                return Ok(Some(Arc::new(updated)));
            }
            let rev = rs
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(REVISION))
                .cloned()
                .unwrap_or_default();
            if deployment_revision_changes(d, &rev) {
                self.write_revision(d, &rev).await?;
            }
            let mut status = d.status.clone().unwrap_or_default();
            if progress_deadline(d).is_some() && get_condition(&status, PROGRESSING).is_none() {
                let name = rs.metadata.name.clone().unwrap_or_default();
                set_condition(
                    &mut status,
                    new_condition(
                        PROGRESSING,
                        "True",
                        FOUND_NEW_RS_REASON,
                        format!("Found new replica set {name:?}"),
                    ),
                );
                self.write_status(d, status).await?;
            }
            return Ok(Some(Arc::new(rs)));
        }
        if !create {
            return Ok(None);
        }
        let collision_count = d.status.as_ref().and_then(|s| s.collision_count);
        let hash = pod_template_hash(&template(d), collision_count);
        let mut rs = new_replica_set(d, &hash, 0, new_revision);
        let mut all: Vec<Arc<ReplicaSet>> = olds.to_vec();
        all.push(Arc::new(rs.clone()));
        let count = new_rs_new_replicas(d, &all, &rs);
        if let Some(spec) = rs.spec.as_mut() {
            spec.replicas = Some(count);
        }
        let name = rs.metadata.name.clone().unwrap_or_default();
        let created = match self.rs_api(&ns).create(&PostParams::default(), &rs).await {
            Ok(created) => created,
            Err(e) => {
                let e = Error::from(e);
                if e.is_already_exists() {
                    // Our cache may lag, or the hash collided with another template.
                    let current = self.rs_api(&ns).get(&name).await?;
                    let ours = meta::is_controlled_by(
                        &current.metadata,
                        d.metadata.uid.as_deref().unwrap_or(""),
                    );
                    let same = current
                        .spec
                        .as_ref()
                        .and_then(|s| s.template.as_ref())
                        .is_some_and(|t| equal_ignore_hash(t, &template(d)));
                    if ours && same {
                        return Ok(Some(Arc::new(current)));
                    }
                    let mut status = d.status.clone().unwrap_or_default();
                    status.collision_count = Some(collision_count.unwrap_or(0).saturating_add(1));
                    self.write_status(d, status).await?;
                    let _ = rss;
                    return Err(e);
                }
                let msg = format!(
                    "Failed to create new replica set {name:?}: {}",
                    api_message(&e)
                );
                if progress_deadline(d).is_some() {
                    let mut status = d.status.clone().unwrap_or_default();
                    set_condition(
                        &mut status,
                        new_condition(PROGRESSING, "False", FAILED_RS_CREATE_REASON, msg.clone()),
                    );
                    let _ = self.write_status(d, status).await;
                }
                self.recorder
                    .event(d, events::WARNING, FAILED_RS_CREATE_REASON, msg);
                return Err(e);
            }
        };
        if count > 0 {
            self.recorder.event(
                d,
                events::NORMAL,
                "ScalingReplicaSet",
                format!("Scaled up replica set {name} from 0 to {count}"),
            );
        }
        let rev = new_revision.to_string();
        if deployment_revision_changes(d, &rev) {
            self.write_revision(d, &rev).await?;
        }
        if progress_deadline(d).is_some() {
            let mut status = d.status.clone().unwrap_or_default();
            set_condition(
                &mut status,
                new_condition(
                    PROGRESSING,
                    "True",
                    NEW_RS_REASON,
                    format!("Created new replica set {name:?}"),
                ),
            );
            self.write_status(d, status).await?;
        }
        Ok(Some(Arc::new(created)))
    }

    async fn write_revision(&self, d: &mut Deployment, revision: &str) -> Result<()> {
        let api: Api<Deployment> = Api::namespaced(
            self.client.clone(),
            d.metadata.namespace.as_deref().unwrap_or(""),
        );
        let patch =
            json!({"metadata": {"uid": d.metadata.uid, "annotations": {REVISION: revision}}});
        let updated = api
            .patch(
                d.metadata.name.as_deref().unwrap_or(""),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await?;
        d.metadata.annotations = updated.metadata.annotations;
        Ok(())
    }

    /// Writes the whole status (merge patch with every field explicit).
    async fn write_status(&self, d: &mut Deployment, status: DeploymentStatus) -> Result<()> {
        let api: Api<Deployment> = Api::namespaced(
            self.client.clone(),
            d.metadata.namespace.as_deref().unwrap_or(""),
        );
        let n = |v: Option<i32>| v.unwrap_or(0);
        let patch = json!({
            "metadata": {"uid": d.metadata.uid},
            "status": {
                "observedGeneration": status.observed_generation,
                "replicas": n(status.replicas),
                "updatedReplicas": n(status.updated_replicas),
                "readyReplicas": n(status.ready_replicas),
                "availableReplicas": n(status.available_replicas),
                "unavailableReplicas": n(status.unavailable_replicas),
                "collisionCount": status.collision_count,
                "conditions": status.conditions,
            }
        });
        api.patch_status(
            d.metadata.name.as_deref().unwrap_or(""),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
        d.status = Some(status);
        Ok(())
    }

    /// Scales `rs` to `new_scale`, refreshing its replicas annotations (upstream
    /// `scaleReplicaSetAndRecordEvent`); returns the updated ReplicaSet when it changed.
    async fn scale_rs(
        &self,
        rs: &ReplicaSet,
        new_scale: i32,
        d: &Deployment,
    ) -> Result<Option<Arc<ReplicaSet>>> {
        let old_scale = rs_replicas(rs);
        let mut copy = rs.clone();
        let size_changed = old_scale != new_scale;
        let annotations_changed =
            set_replicas_annotations(&mut copy, replicas(d), replicas(d) + max_surge(d));
        if !size_changed && !annotations_changed {
            return Ok(None);
        }
        copy.spec.get_or_insert_with(Default::default).replicas = Some(new_scale);
        let ns = rs.metadata.namespace.as_deref().unwrap_or("");
        let name = rs.metadata.name.clone().unwrap_or_default();
        let updated = self
            .rs_api(ns)
            .replace(&name, &PostParams::default(), &copy)
            .await?;
        if size_changed {
            let op = if old_scale < new_scale { "up" } else { "down" };
            self.recorder.event(
                d,
                events::NORMAL,
                "ScalingReplicaSet",
                format!("Scaled {op} replica set {name} from {old_scale} to {new_scale}"),
            );
        }
        Ok(size_changed.then(|| Arc::new(updated)))
    }

    fn is_scaling_event(&self, d: &Deployment, rss: &[Arc<ReplicaSet>]) -> bool {
        active(rss)
            .iter()
            .any(|rs| desired_replicas_annotation(rs).is_some_and(|want| want != replicas(d)))
    }

    /// Upstream `checkPausedConditions`.
    async fn check_paused_conditions(&self, d: &mut Deployment) -> Result<()> {
        if progress_deadline(d).is_none() {
            return Ok(());
        }
        let mut status = d.status.clone().unwrap_or_default();
        let cond = get_condition(&status, PROGRESSING);
        if cond.is_some_and(|c| c.reason.as_deref() == Some(TIMED_OUT_REASON)) {
            return Ok(());
        }
        let paused_cond = cond.is_some_and(|c| c.reason.as_deref() == Some(PAUSED_REASON));
        let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        if paused && !paused_cond {
            set_condition(
                &mut status,
                new_condition(
                    PROGRESSING,
                    "Unknown",
                    PAUSED_REASON,
                    "Deployment is paused".into(),
                ),
            );
        } else if !paused && paused_cond {
            set_condition(
                &mut status,
                new_condition(
                    PROGRESSING,
                    "Unknown",
                    RESUMED_REASON,
                    "Deployment is resumed".into(),
                ),
            );
        } else {
            return Ok(());
        }
        self.write_status(d, status).await
    }

    async fn sync_status_only(
        &self,
        d: &mut Deployment,
        rss: &[Arc<ReplicaSet>],
    ) -> Result<Requeue> {
        let (new_rs, olds) = self.new_and_old(d, rss, false).await?;
        let all = with_new(&olds, new_rs.as_ref());
        self.sync_deployment_status(d, &all, new_rs.as_deref())
            .await?;
        Ok(None)
    }

    async fn sync_deployment_status(
        &self,
        d: &mut Deployment,
        all: &[Arc<ReplicaSet>],
        new_rs: Option<&ReplicaSet>,
    ) -> Result<()> {
        let status = calculate_status(all, new_rs, d);
        if same_status(&d.status.clone().unwrap_or_default(), &status) {
            return Ok(());
        }
        self.write_status(d, status).await
    }

    /// Scaling and paused Deployments (upstream `sync`).
    async fn sync_scale(&self, d: &mut Deployment, rss: &[Arc<ReplicaSet>]) -> Result<Requeue> {
        let (new_rs, olds) = self.new_and_old(d, rss, false).await?;
        self.scale(d, new_rs.as_ref(), &olds).await?;
        let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        if paused {
            self.cleanup(d, &olds).await?;
        }
        // The scaled ReplicaSets come back through the cache; status follows on that event.
        let all = with_new(&olds, new_rs.as_ref());
        self.sync_deployment_status(d, &all, new_rs.as_deref())
            .await?;
        Ok(None)
    }

    /// Proportional scaling (upstream `scale`).
    async fn scale(
        &self,
        d: &Deployment,
        new_rs: Option<&Arc<ReplicaSet>>,
        olds: &[Arc<ReplicaSet>],
    ) -> Result<()> {
        let want = replicas(d);
        if let Some(rs) = find_active_or_latest(new_rs, olds) {
            if rs_replicas(&rs) != want {
                self.scale_rs(&rs, want, d).await?;
            }
            return Ok(());
        }
        if is_saturated(d, new_rs.map(|r| &**r)) {
            for old in active(olds) {
                self.scale_rs(&old, 0, d).await?;
            }
            return Ok(());
        }
        if !is_rolling_update(d) {
            return Ok(());
        }
        let mut all = active(&with_new(olds, new_rs));
        let current = sum(&all, rs_replicas);
        let allowed = if want > 0 { want + max_surge(d) } else { 0 };
        let to_add = allowed - current;
        // Larger first; newer first when scaling up, older first when scaling down.
        all.sort_by(|a, b| {
            rs_replicas(b).cmp(&rs_replicas(a)).then_with(|| {
                let (ca, cb) = (meta::creation(&a.metadata), meta::creation(&b.metadata));
                if to_add > 0 { cb.cmp(&ca) } else { ca.cmp(&cb) }
            })
        });
        let mut added = 0;
        let mut sizes: Vec<i32> = Vec::with_capacity(all.len());
        for rs in &all {
            if to_add != 0 {
                let p = proportion(rs, d, to_add, added);
                sizes.push(rs_replicas(rs) + p);
                added += p;
            } else {
                sizes.push(rs_replicas(rs));
            }
        }
        if let Some(first) = sizes.first_mut()
            && to_add != 0
        {
            *first = (*first + to_add - added).max(0);
        }
        for (rs, size) in all.iter().zip(sizes) {
            self.scale_rs(rs, size, d).await?;
        }
        Ok(())
    }

    /// Deletes old, fully scaled-down ReplicaSets beyond `revisionHistoryLimit` (upstream
    /// `cleanupDeployment`).
    async fn cleanup(&self, d: &Deployment, olds: &[Arc<ReplicaSet>]) -> Result<()> {
        let Some(limit) = d.spec.as_ref().and_then(|s| s.revision_history_limit) else {
            return Ok(());
        };
        let mut cleanable: Vec<Arc<ReplicaSet>> = olds
            .iter()
            .filter(|rs| rs.metadata.deletion_timestamp.is_none())
            .cloned()
            .collect();
        let diff = cleanable
            .len()
            .saturating_sub(usize::try_from(limit).unwrap_or(0));
        if diff == 0 {
            return Ok(());
        }
        cleanable.sort_by(|a, b| {
            revision(a)
                .cmp(&revision(b))
                .then_with(|| meta::creation(&a.metadata).cmp(&meta::creation(&b.metadata)))
        });
        for rs in cleanable.iter().take(diff) {
            let observed = rs
                .status
                .as_ref()
                .and_then(|s| s.observed_generation)
                .unwrap_or(0);
            if rs_status_replicas(rs) != 0
                || rs_replicas(rs) != 0
                || rs.metadata.generation.unwrap_or(0) > observed
            {
                continue;
            }
            let ns = rs.metadata.namespace.as_deref().unwrap_or("");
            match self
                .rs_api(ns)
                .delete(
                    rs.metadata.name.as_deref().unwrap_or(""),
                    &DeleteParams::default(),
                )
                .await
            {
                Ok(_) => {}
                Err(e) => {
                    let e = Error::from(e);
                    if !e.is_not_found() {
                        return Err(e);
                    }
                }
            }
        }
        Ok(())
    }

    async fn rollout_rolling(
        &self,
        d: &mut Deployment,
        rss: &[Arc<ReplicaSet>],
    ) -> Result<Requeue> {
        let (new_rs, olds) = self.new_and_old(d, rss, true).await?;
        let Some(new_rs) = new_rs else {
            return Ok(None);
        };
        let mut all = with_new(&olds, Some(&new_rs));

        // Scale up the new ReplicaSet (upstream `reconcileNewReplicaSet`).
        let want = if rs_replicas(&new_rs) > replicas(d) {
            replicas(d)
        } else {
            new_rs_new_replicas(d, &all, &new_rs)
        };
        if let Some(updated) = self.scale_rs(&new_rs, want, d).await? {
            replace_rs(&mut all, &updated);
            return self.sync_rollout_status(d, &all, Some(&updated)).await;
        }

        if self.reconcile_old(d, &olds, &new_rs).await? {
            return self.sync_rollout_status(d, &all, Some(&new_rs)).await;
        }
        let status = calculate_status(&all, Some(&new_rs), d);
        if deployment_complete(d, &status) {
            self.cleanup(d, &olds).await?;
        }
        self.sync_rollout_status(d, &all, Some(&new_rs)).await
    }

    /// Scales old ReplicaSets down within maxUnavailable (upstream `reconcileOldReplicaSets`).
    async fn reconcile_old(
        &self,
        d: &Deployment,
        olds: &[Arc<ReplicaSet>],
        new_rs: &Arc<ReplicaSet>,
    ) -> Result<bool> {
        if sum(olds, rs_replicas) == 0 {
            return Ok(false);
        }
        let mut all = with_new(olds, Some(new_rs));
        let all_pods = sum(&all, rs_replicas);
        let min_available = replicas(d) - max_unavailable(d);
        let new_unavailable = rs_replicas(new_rs) - rs_available(new_rs);
        let max_scaled_down = all_pods - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return Ok(false);
        }
        // First old replicas that are not available anyway.
        let mut olds: Vec<Arc<ReplicaSet>> = olds.to_vec();
        by_creation(&mut olds);
        let mut cleaned = 0;
        for rs in olds.iter_mut() {
            if cleaned >= max_scaled_down {
                break;
            }
            let (r, a) = (rs_replicas(rs), rs_available(rs));
            // More available than wanted happens while a scale-down is under way (the status
            // still counts the pods being stopped): nothing unhealthy to clean up. Upstream
            // refuses that case with an error; going on with `r - a < 0` would scale *up*.
            if r == 0 || a >= r {
                continue;
            }
            let down = (max_scaled_down - cleaned).min(r - a);
            if let Some(updated) = self.scale_rs(rs, r - down, d).await? {
                replace_rs(&mut all, &updated);
                *rs = updated;
            }
            cleaned += down;
        }
        // Then available ones, keeping minAvailable.
        let available = sum(&all, rs_available);
        let mut scaled = 0;
        if available > min_available {
            let total = available - min_available;
            for rs in &olds {
                if scaled >= total {
                    break;
                }
                let r = rs_replicas(rs);
                if r == 0 {
                    continue;
                }
                let down = r.min(total - scaled);
                self.scale_rs(rs, r - down, d).await?;
                scaled += down;
            }
        }
        Ok(cleaned + scaled > 0)
    }

    async fn rollout_recreate(
        &self,
        d: &mut Deployment,
        rss: &[Arc<ReplicaSet>],
    ) -> Result<Requeue> {
        let (mut new_rs, olds) = self.new_and_old(d, rss, false).await?;
        let mut scaled_down = false;
        for old in active(&olds) {
            if self.scale_rs(&old, 0, d).await?.is_some() {
                scaled_down = true;
            }
        }
        let all = with_new(&olds, new_rs.as_ref());
        if scaled_down || self.old_pods_running(&olds) {
            return self.sync_rollout_status(d, &all, new_rs.as_deref()).await;
        }
        if new_rs.is_none() {
            new_rs = self.new_and_old(d, rss, true).await?.0;
        }
        let mut all = with_new(&olds, new_rs.as_ref());
        if let Some(rs) = &new_rs
            && let Some(updated) = self.scale_rs(rs, replicas(d), d).await?
        {
            replace_rs(&mut all, &updated);
            new_rs = Some(updated);
        }
        let status = calculate_status(&all, new_rs.as_deref(), d);
        if deployment_complete(d, &status) {
            self.cleanup(d, &olds).await?;
        }
        self.sync_rollout_status(d, &all, new_rs.as_deref()).await
    }

    /// Whether pods of old ReplicaSets still run (upstream `oldPodsRunning`).
    fn old_pods_running(&self, olds: &[Arc<ReplicaSet>]) -> bool {
        if sum(olds, rs_status_replicas) > 0 {
            return true;
        }
        let uids: Vec<&str> = olds
            .iter()
            .filter_map(|rs| rs.metadata.uid.as_deref())
            .collect();
        let Some(ns) = olds.first().and_then(|rs| rs.metadata.namespace.as_deref()) else {
            return false;
        };
        self.pods.in_namespace(ns).iter().any(|p| {
            controller_ref(&p.metadata).is_some_and(|r| uids.contains(&r.uid.as_str()))
                && !matches!(crate::pods::phase(p), "Succeeded" | "Failed")
        })
    }

    /// Updates status and the Progressing condition; asks to look again when the progress
    /// deadline would pass (upstream `syncRolloutStatus` and `requeueStuckDeployment`).
    async fn sync_rollout_status(
        &self,
        d: &mut Deployment,
        all: &[Arc<ReplicaSet>],
        new_rs: Option<&ReplicaSet>,
    ) -> Result<Requeue> {
        let mut status = calculate_status(all, new_rs, d);
        let now = meta::now();
        if progress_deadline(d).is_none() {
            remove_condition(&mut status, PROGRESSING);
        }
        let current = get_condition(&status, PROGRESSING).cloned();
        let complete = status.replicas == status.updated_replicas
            && current
                .as_ref()
                .is_some_and(|c| c.reason.as_deref() == Some(NEW_RS_AVAILABLE_REASON));
        if progress_deadline(d).is_some() && !complete {
            let rs_name = new_rs
                .and_then(|r| r.metadata.name.clone())
                .unwrap_or_default();
            if deployment_complete(d, &status) {
                set_condition(
                    &mut status,
                    new_condition(
                        PROGRESSING,
                        "True",
                        NEW_RS_AVAILABLE_REASON,
                        format!("ReplicaSet {rs_name:?} has successfully progressed."),
                    ),
                );
            } else if deployment_progressing(d, &status) {
                let mut cond = new_condition(
                    PROGRESSING,
                    "True",
                    RS_UPDATED_REASON,
                    format!("ReplicaSet {rs_name:?} is progressing."),
                );
                if let Some(c) = current.as_ref().filter(|c| c.status == "True") {
                    cond.last_transition_time = c.last_transition_time.clone();
                }
                remove_condition(&mut status, PROGRESSING);
                set_condition(&mut status, cond);
            } else if deployment_timed_out(d, &status, now) {
                set_condition(
                    &mut status,
                    new_condition(
                        PROGRESSING,
                        "False",
                        TIMED_OUT_REASON,
                        format!("ReplicaSet {rs_name:?} has timed out progressing."),
                    ),
                );
            }
        }
        // Surface a ReplicaSet's failure condition on the Deployment.
        match all.iter().find_map(|rs| {
            rs.status
                .as_ref()?
                .conditions
                .as_ref()?
                .iter()
                .find(|c| c.type_ == REPLICA_FAILURE)
                .cloned()
        }) {
            Some(c) => set_condition(
                &mut status,
                new_condition(
                    REPLICA_FAILURE,
                    &c.status,
                    c.reason.as_deref().unwrap_or(""),
                    c.message.clone().unwrap_or_default(),
                ),
            ),
            None => remove_condition(&mut status, REPLICA_FAILURE),
        }
        if !same_status(&d.status.clone().unwrap_or_default(), &status) {
            self.write_status(d, status.clone()).await?;
        }
        Ok(requeue_stuck(d, &status, now))
    }
}

/// When to look again at a rollout that may miss its progress deadline.
fn requeue_stuck(
    d: &Deployment,
    status: &DeploymentStatus,
    now: k8s_openapi::jiff::Timestamp,
) -> Requeue {
    let deadline = progress_deadline(d)?;
    let cond = get_condition(status, PROGRESSING)?;
    if deployment_complete(d, status) || cond.reason.as_deref() == Some(TIMED_OUT_REASON) {
        return None;
    }
    let from = cond.last_update_time.as_ref()?.0;
    let at = from + k8s_openapi::jiff::SignedDuration::from_secs(i64::from(deadline));
    let after = at.duration_since(now);
    if after.as_secs() < 1 {
        return Some(Duration::from_millis(100));
    }
    Some(Duration::from_secs(
        u64::try_from(after.as_secs()).unwrap_or(0) + 1,
    ))
}

fn with_new(olds: &[Arc<ReplicaSet>], new_rs: Option<&Arc<ReplicaSet>>) -> Vec<Arc<ReplicaSet>> {
    let mut all = olds.to_vec();
    if let Some(n) = new_rs {
        all.push(n.clone());
    }
    all
}

fn replace_rs(all: &mut [Arc<ReplicaSet>], updated: &Arc<ReplicaSet>) {
    for rs in all.iter_mut() {
        if rs.metadata.uid == updated.metadata.uid {
            *rs = updated.clone();
        }
    }
}

/// The only active ReplicaSet, or the latest if none is active (upstream `FindActiveOrLatest`).
fn find_active_or_latest(
    new_rs: Option<&Arc<ReplicaSet>>,
    olds: &[Arc<ReplicaSet>],
) -> Option<Arc<ReplicaSet>> {
    if new_rs.is_none() && olds.is_empty() {
        return None;
    }
    let mut sorted = olds.to_vec();
    by_creation(&mut sorted);
    sorted.reverse();
    let all = active(&with_new(&sorted, new_rs));
    match all.len() {
        0 => new_rs.cloned().or_else(|| sorted.first().cloned()),
        1 => all.first().cloned(),
        _ => None,
    }
}
