//! The disruption controller (upstream `pkg/controller/disruption`): keeps every
//! PodDisruptionBudget's status current, which the API server's eviction subresource relies on:
//! `expectedPods`, `currentHealthy` (ready pods not being deleted nor recently evicted),
//! `desiredHealthy` (from `minAvailable` or `maxUnavailable`, percentages taken of the scale of
//! the pods' controllers), `disruptionsAllowed`, `disruptedPods` (entries expire after two
//! minutes) and the `DisruptionAllowed` condition.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use berth_apimachinery::selectors::LabelSelector;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Pod, ReplicationController};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, PostParams};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::events::Events;
use crate::podutil;
use crate::runtime::Backoff;
use crate::runtime::WorkQueue;
use crate::runtime::{Change, Informer, ObjectKey, key_of, run_workers};

/// `policy.DisruptionAllowedCondition`.
pub const DISRUPTION_ALLOWED: &str = "DisruptionAllowed";
/// How long an eviction recorded in `disruptedPods` keeps the pod out of `currentHealthy`
/// (upstream `DeletionTimeout`).
const DELETION_TIMEOUT: SignedDuration = SignedDuration::from_secs(120);
const WORKERS: usize = 5;
const BACKOFF: Backoff = Backoff {
    base: Duration::from_millis(5),
    max: Duration::from_secs(60),
};

/// The disruption controller. Build with [`DisruptionController::new`], then
/// [`DisruptionController::run`].
pub struct DisruptionController {
    client: Client,
}

struct Shared {
    client: Client,
    events: Events,
    pdbs: Store<PodDisruptionBudget>,
    pods: Store<Pod>,
    queue: Arc<WorkQueue<ObjectKey>>,
}

impl DisruptionController {
    pub fn new(client: Client) -> Self {
        DisruptionController { client }
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        tracing::info!("starting disruption controller");
        let queue: Arc<WorkQueue<ObjectKey>> = WorkQueue::new(BACKOFF);
        let q = queue.clone();
        let pdbs = Informer::start(
            Api::<PodDisruptionBudget>::all(self.client.clone()),
            watcher::Config::default(),
            move |change, store| match change {
                Change::Applied(p) => q.add(key_of(p)),
                Change::Deleted(_) => {}
                Change::Resynced => {
                    for p in store.state() {
                        q.add(key_of(p.as_ref()));
                    }
                }
            },
        );
        let q = queue.clone();
        let pdb_store = pdbs.store.clone();
        // Any pod change re-syncs the budgets of its namespace (few per namespace).
        let pods = Informer::start(
            Api::<Pod>::all(self.client.clone()),
            watcher::Config::default(),
            move |change, _| {
                let ns = match change {
                    Change::Applied(p) | Change::Deleted(p) => p.metadata.namespace.clone(),
                    Change::Resynced => None,
                };
                for pdb in pdb_store.state() {
                    if ns.is_none() || pdb.metadata.namespace == ns {
                        q.add(key_of(pdb.as_ref()));
                    }
                }
            },
        );
        tokio::select! {
            _ = async { pdbs.ready().await; pods.ready().await } => {}
            _ = crate::runtime::wait_for_shutdown(shutdown.clone()) => return,
        }
        let shared = Arc::new(Shared {
            events: Events::new(self.client.clone(), "controllermanager"),
            client: self.client,
            pdbs: pdbs.store.clone(),
            pods: pods.store.clone(),
            queue: queue.clone(),
        });
        run_workers("disruption", queue, WORKERS, shutdown, move |key| {
            let shared = shared.clone();
            async move { shared.sync(&key).await }
        })
        .await;
        tracing::info!("stopped disruption controller");
    }
}

/// `GetScaledValueFromIntOrPercent` rounding up.
fn scaled(value: &IntOrString, total: i32) -> std::result::Result<i32, String> {
    match value {
        IntOrString::Int(n) => Ok(*n),
        IntOrString::String(s) => {
            let p: i64 = s
                .strip_suffix('%')
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("invalid value for IntOrString: invalid value {s:?}"))?;
            let v = (p * i64::from(total) + 99).div_euclid(100);
            Ok(i32::try_from(v).unwrap_or(i32::MAX))
        }
    }
}

impl Shared {
    async fn sync(&self, key: &ObjectKey) -> Result<()> {
        let (ns, name) = key;
        let Some(pdb) = self.pdbs.get(&ObjectRef::new(name).within(ns)) else {
            return Ok(());
        };
        let spec = pdb.spec.clone().unwrap_or_default();
        let selector_json = serde_json::to_value(&spec.selector)?;
        let pods: Vec<Arc<Pod>> = match LabelSelector::from_label_selector_json(&selector_json) {
            Ok(selector) => self
                .pods
                .state()
                .into_iter()
                .filter(|p| p.metadata.namespace.as_deref() == Some(ns.as_str()))
                .filter(|p| {
                    let labels = serde_json::to_value(&p.metadata.labels)
                        .ok()
                        .and_then(|v| v.as_object().cloned())
                        .unwrap_or_default();
                    selector.matches(&labels)
                })
                .collect(),
            Err(e) => return self.fail_safe(&pdb, &e).await,
        };
        if pods.is_empty() {
            self.events
                .normal(pdb.as_ref(), "NoPods", "No matching pods found".into())
                .await;
        }
        let expected = match self.expected(&spec, &pods).await {
            Ok(v) => v,
            Err(e) => return self.fail_safe(&pdb, &e).await,
        };
        let (expected_count, desired_healthy) = expected;
        let now = Timestamp::now();
        let (disrupted, recheck) = disrupted_pods(&pdb, &pods, now);
        if let Some(after) = recheck {
            self.queue.add_after(key.clone(), after);
        }
        let current_healthy = i32::try_from(
            pods.iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .filter(|p| !disrupted.contains_key(&p.name_any()))
                .filter(|p| podutil::is_pod_ready(p))
                .count(),
        )
        .unwrap_or(i32::MAX);
        let mut allowed = current_healthy - desired_healthy;
        if expected_count <= 0 || allowed <= 0 {
            allowed = 0;
        }
        let generation = pdb.metadata.generation;
        let old = pdb.status.clone().unwrap_or_default();
        let disrupted_opt = (!disrupted.is_empty()).then_some(disrupted);
        if old.current_healthy == current_healthy
            && old.desired_healthy == desired_healthy
            && old.expected_pods == expected_count
            && old.disruptions_allowed == allowed
            && old.observed_generation == generation
            && old.disrupted_pods.clone().filter(|d| !d.is_empty()) == disrupted_opt
            && has_condition(&old, allowed > 0, None)
        {
            return Ok(());
        }
        let mut status = PodDisruptionBudgetStatus {
            current_healthy,
            desired_healthy,
            expected_pods: expected_count,
            disruptions_allowed: allowed,
            disrupted_pods: disrupted_opt,
            observed_generation: generation,
            conditions: old.conditions.clone(),
        };
        let (reason, ok) = if allowed > 0 {
            ("SufficientPods", true)
        } else {
            ("InsufficientPods", false)
        };
        set_condition(&mut status, ok, reason, "", now);
        self.write(&pdb, status).await
    }

    /// `failSafe`: nothing may be disrupted while the budget cannot be computed.
    async fn fail_safe(&self, pdb: &PodDisruptionBudget, message: &str) -> Result<()> {
        self.events
            .warning(
                pdb,
                "CalculateExpectedPodCountFailed",
                format!("Failed to calculate the number of expected pods: {message}"),
            )
            .await;
        tracing::warn!(
            namespace = pdb.namespace(),
            pdb = pdb.name_any(),
            message,
            "cannot compute disruption budget"
        );
        let mut status = pdb.status.clone().unwrap_or_default();
        status.disruptions_allowed = 0;
        status.observed_generation = pdb.metadata.generation;
        set_condition(&mut status, false, "SyncFailed", message, Timestamp::now());
        if Some(&status) == pdb.status.as_ref() {
            return Ok(());
        }
        self.write(pdb, status).await
    }

    async fn write(
        &self,
        pdb: &PodDisruptionBudget,
        status: PodDisruptionBudgetStatus,
    ) -> Result<()> {
        let mut updated = pdb.clone();
        updated.status = Some(status);
        let api: Api<PodDisruptionBudget> =
            Api::namespaced(self.client.clone(), &pdb.namespace().unwrap_or_default());
        match api
            .replace_status(&pdb.name_any(), &PostParams::default(), &updated)
            .await
            .map_err(Error::from)
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `(expectedCount, desiredHealthy)` (`getExpectedPodCount`).
    async fn expected(
        &self,
        spec: &k8s_openapi::api::policy::v1::PodDisruptionBudgetSpec,
        pods: &[Arc<Pod>],
    ) -> std::result::Result<(i32, i32), String> {
        let count = i32::try_from(pods.len()).unwrap_or(i32::MAX);
        if let Some(max_unavailable) = &spec.max_unavailable {
            let expected = self.expected_scale(pods).await?;
            let unavailable = scaled(max_unavailable, expected)?;
            return Ok((expected, (expected - unavailable).max(0)));
        }
        match &spec.min_available {
            Some(IntOrString::Int(n)) => Ok((count, *n)),
            Some(percent @ IntOrString::String(_)) => {
                let expected = self.expected_scale(pods).await?;
                Ok((expected, scaled(percent, expected)?))
            }
            None => Ok((count, 0)),
        }
    }

    /// The sum of the scales of the pods' controllers, each counted once (`getExpectedScale`).
    /// Pods without a controller are left out.
    async fn expected_scale(&self, pods: &[Arc<Pod>]) -> std::result::Result<i32, String> {
        let mut scales: BTreeMap<String, i32> = BTreeMap::new();
        for pod in pods {
            let Some(owner) = pod
                .owner_references()
                .iter()
                .find(|o| o.controller == Some(true))
            else {
                continue;
            };
            if scales.contains_key(&owner.uid) {
                continue;
            }
            let ns = pod.namespace().unwrap_or_default();
            let scale = self
                .controller_scale(
                    &ns,
                    &owner.api_version,
                    &owner.kind,
                    &owner.name,
                    &owner.uid,
                )
                .await?
                .ok_or_else(|| format!("found no controllers for pod {:?}", pod.name_any()))?;
            scales.insert(owner.uid.clone(), scale);
        }
        Ok(scales.values().sum())
    }

    /// The scale of a pod's controller (a ReplicaSet counts as its Deployment).
    async fn controller_scale(
        &self,
        ns: &str,
        api_version: &str,
        kind: &str,
        name: &str,
        uid: &str,
    ) -> std::result::Result<Option<i32>, String> {
        let err = |e: kube::Error| e.to_string();
        let group = api_version.split_once('/').map_or("", |(g, _)| g);
        match (group, kind) {
            ("apps", "ReplicaSet") => {
                let api: Api<ReplicaSet> = Api::namespaced(self.client.clone(), ns);
                let Some(rs) = api.get_opt(name).await.map_err(err)? else {
                    return Ok(None);
                };
                if rs.metadata.uid.as_deref() != Some(uid) {
                    return Ok(None);
                }
                if let Some(d) = rs
                    .owner_references()
                    .iter()
                    .find(|o| o.controller == Some(true) && o.kind == "Deployment")
                {
                    let api: Api<Deployment> = Api::namespaced(self.client.clone(), ns);
                    if let Some(dep) = api.get_opt(&d.name).await.map_err(err)?
                        && dep.metadata.uid.as_deref() == Some(d.uid.as_str())
                    {
                        return Ok(Some(dep.spec.and_then(|s| s.replicas).unwrap_or(1)));
                    }
                }
                Ok(Some(rs.spec.and_then(|s| s.replicas).unwrap_or(1)))
            }
            ("apps", "StatefulSet") => {
                let api: Api<StatefulSet> = Api::namespaced(self.client.clone(), ns);
                Ok(api
                    .get_opt(name)
                    .await
                    .map_err(err)?
                    .filter(|s| s.metadata.uid.as_deref() == Some(uid))
                    .map(|s| s.spec.and_then(|s| s.replicas).unwrap_or(1)))
            }
            ("", "ReplicationController") => {
                let api: Api<ReplicationController> = Api::namespaced(self.client.clone(), ns);
                Ok(api
                    .get_opt(name)
                    .await
                    .map_err(err)?
                    .filter(|s| s.metadata.uid.as_deref() == Some(uid))
                    .map(|s| s.spec.and_then(|s| s.replicas).unwrap_or(1)))
            }
            _ => Ok(None),
        }
    }
}

/// The still-valid entries of `status.disruptedPods` (`buildDisruptedPodMap`), and when the
/// next one expires.
fn disrupted_pods(
    pdb: &PodDisruptionBudget,
    pods: &[Arc<Pod>],
    now: Timestamp,
) -> (BTreeMap<String, Time>, Option<Duration>) {
    let recorded = pdb
        .status
        .as_ref()
        .and_then(|s| s.disrupted_pods.clone())
        .unwrap_or_default();
    let mut kept = BTreeMap::new();
    let mut recheck: Option<Duration> = None;
    for pod in pods {
        if pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let name = pod.name_any();
        let Some(at) = recorded.get(&name) else {
            continue;
        };
        let expires = at.0 + DELETION_TIMEOUT;
        if expires <= now {
            continue;
        }
        let left = Duration::try_from(expires.duration_since(now)).unwrap_or(Duration::ZERO);
        recheck = Some(recheck.map_or(left, |r| r.min(left)));
        kept.insert(name, at.clone());
    }
    (kept, recheck)
}

fn has_condition(status: &PodDisruptionBudgetStatus, ok: bool, reason: Option<&str>) -> bool {
    status.conditions.iter().flatten().any(|c| {
        c.type_ == DISRUPTION_ALLOWED
            && c.status == if ok { "True" } else { "False" }
            && reason.is_none_or(|r| c.reason == r)
            && c.observed_generation == status.observed_generation
    })
}

/// `meta.SetStatusCondition` of DisruptionAllowed.
fn set_condition(
    status: &mut PodDisruptionBudgetStatus,
    ok: bool,
    reason: &str,
    message: &str,
    now: Timestamp,
) {
    let value = if ok { "True" } else { "False" };
    let generation = status.observed_generation;
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    match conditions
        .iter_mut()
        .find(|c| c.type_ == DISRUPTION_ALLOWED)
    {
        Some(c) => {
            if c.status != value {
                c.last_transition_time = Time(now);
            }
            c.status = value.into();
            c.reason = reason.into();
            c.message = message.into();
            c.observed_generation = generation;
        }
        None => conditions.push(Condition {
            type_: DISRUPTION_ALLOWED.into(),
            status: value.into(),
            reason: reason.into(),
            message: message.into(),
            observed_generation: generation,
            last_transition_time: Time(now),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_up() {
        assert_eq!(scaled(&IntOrString::String("50%".into()), 3), Ok(2));
        assert_eq!(scaled(&IntOrString::String("10%".into()), 5), Ok(1));
        assert_eq!(scaled(&IntOrString::Int(2), 10), Ok(2));
        assert!(scaled(&IntOrString::String("x".into()), 3).is_err());
    }

    #[test]
    fn condition_transition_time_changes_only_with_status() {
        let mut status = PodDisruptionBudgetStatus::default();
        let t1 = Timestamp::from_second(100).unwrap();
        let t2 = Timestamp::from_second(200).unwrap();
        set_condition(&mut status, true, "SufficientPods", "", t1);
        set_condition(&mut status, true, "SufficientPods", "", t2);
        assert_eq!(
            status.conditions.as_ref().unwrap()[0].last_transition_time,
            Time(t1)
        );
        set_condition(&mut status, false, "InsufficientPods", "", t2);
        let c = &status.conditions.as_ref().unwrap()[0];
        assert_eq!(
            (c.status.as_str(), c.last_transition_time.clone()),
            ("False", Time(t2))
        );
    }
}
