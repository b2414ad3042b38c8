//! The DaemonSet controller (upstream `pkg/controller/daemon`): one pod on every node the pod
//! template fits (node selector, required node affinity, taints), pinned to its node with node
//! affinity on `metadata.name` as upstream (the scheduler binds it), with the daemon
//! tolerations added, rolled by RollingUpdate within maxUnavailable.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, DaemonSetStatus};
use k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod,
    PodSpec, Taint, Toleration,
};
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::Client;
use kube::api::{Api, DeleteParams, ObjectMeta, Patch, PatchParams, PostParams};
use serde_json::json;
use tokio::sync::watch;

use crate::deployment::util::{pod_template_hash_bytes, scaled_value};
use crate::error::{Error, Result};
use crate::events::{self, Recorder};
use crate::expectations::Expectations;
use crate::informer::{Informer, Informers};
use crate::meta::{self, Key, Selector, controller_ref, new_controller_ref};
use crate::pods;
use crate::replicaset::{ERROR_BACKOFF, create_pods, delete_pods};
use crate::statefulset::{REVISION_LABEL, revision_data, template_of_revision};
use berth_controllers::runtime::WorkQueue;
use berth_controllers::runtime::{Requeue, run_workers};

pub const TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";
const WORKERS: usize = 2;

/// The DaemonSet controller. Build with [`DaemonSetController::new`], then
/// [`DaemonSetController::run`].
pub struct DaemonSetController {
    informers: Arc<Informers>,
}

struct Inner {
    client: Client,
    sets: Arc<Informer<DaemonSet>>,
    pods: Arc<Informer<Pod>>,
    nodes: Arc<Informer<Node>>,
    revisions: Arc<Informer<ControllerRevision>>,
    queue: Arc<WorkQueue<Key>>,
    expectations: Expectations,
    recorder: Recorder,
}

impl DaemonSetController {
    pub fn new(client: Client) -> Self {
        Self::with_informers(Informers::new(client))
    }

    pub(crate) fn with_informers(informers: Arc<Informers>) -> Self {
        DaemonSetController { informers }
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        tracing::info!("starting daemonset controller");
        let client = self.informers.client().clone();
        let inner = Arc::new(Inner {
            client: client.clone(),
            sets: self.informers.daemon_sets(),
            pods: self.informers.pods(),
            nodes: self.informers.nodes(),
            revisions: self.informers.controller_revisions(),
            queue: WorkQueue::new(ERROR_BACKOFF),
            expectations: Expectations::default(),
            recorder: Recorder::new(client, "daemonset-controller"),
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
                if let Some(r) = controller_ref(&pod.metadata).filter(|r| r.kind == "DaemonSet") {
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
        let weak = Arc::downgrade(&inner);
        inner.nodes.add_handler(Box::new(move |old, new| {
            let Some(inner) = weak.upgrade() else { return };
            // Only what decides placement matters; status heartbeats do not.
            let relevant = match (old, new) {
                (Some(o), Some(n)) => {
                    o.metadata.labels != n.metadata.labels
                        || o.spec.as_ref().map(|s| (&s.taints, s.unschedulable))
                            != n.spec.as_ref().map(|s| (&s.taints, s.unschedulable))
                }
                _ => true,
            };
            if relevant {
                for s in inner.sets.store().state() {
                    inner.queue.add(Key::of(&*s));
                }
            }
        }));
        inner.sets.synced().await;
        inner.pods.synced().await;
        inner.nodes.synced().await;
        inner.revisions.synced().await;
        for s in inner.sets.store().state() {
            inner.queue.add(Key::of(&*s));
        }
        let worker_inner = inner.clone();
        run_workers(
            "daemonset",
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

/// The tolerations every daemon pod gets (upstream `AddOrUpdateDaemonPodTolerations`).
fn daemon_tolerations(spec: &PodSpec) -> Vec<Toleration> {
    let mut t = vec![
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ];
    if spec.host_network == Some(true) {
        t.push(("node.kubernetes.io/network-unavailable", "NoSchedule"));
    }
    t.into_iter()
        .map(|(key, effect)| Toleration {
            key: Some(key.into()),
            operator: Some("Exists".into()),
            effect: Some(effect.into()),
            ..Toleration::default()
        })
        .collect()
}

fn add_tolerations(spec: &mut PodSpec) {
    let extra = daemon_tolerations(spec);
    let list = spec.tolerations.get_or_insert_with(Vec::new);
    for t in extra {
        if !list.iter().any(|x| x.key == t.key && x.effect == t.effect) {
            list.push(t);
        }
    }
}

fn tolerates(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| {
        let effect_ok = t
            .effect
            .as_deref()
            .is_none_or(|e| e.is_empty() || e == taint.effect);
        let key_ok = match t.key.as_deref() {
            None | Some("") => t.operator.as_deref() == Some("Exists"),
            Some(k) => k == taint.key,
        };
        let value_ok = match t.operator.as_deref() {
            Some("Exists") => true,
            _ => t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
        };
        effect_ok && key_ok && value_ok
    })
}

fn requirement_matches(r: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = r.values.clone().unwrap_or_default();
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
        "NotIn" => value.is_none_or(|v| !values.iter().any(|x| x == v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(bound)) = (
                value.and_then(|v| v.parse::<i64>().ok()),
                values.first().and_then(|b| b.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if r.operator == "Gt" {
                v > bound
            } else {
                v < bound
            }
        }
        _ => false,
    }
}

fn term_matches(term: &NodeSelectorTerm, node: &Node) -> bool {
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let name = node.metadata.name.as_deref();
    let exprs = term
        .match_expressions
        .iter()
        .flatten()
        .all(|r| requirement_matches(r, labels.get(&r.key).map(String::as_str)));
    let fields = term
        .match_fields
        .iter()
        .flatten()
        .all(|r| r.key == "metadata.name" && requirement_matches(r, name));
    let empty = term.match_expressions.as_ref().is_none_or(Vec::is_empty)
        && term.match_fields.as_ref().is_none_or(Vec::is_empty);
    !empty && exprs && fields
}

/// Whether the daemon pod should run on `node`, and whether a pod already there may stay
/// (upstream `NodeShouldRunDaemonPod`): untolerated NoSchedule taints keep new pods off but do
/// not evict running ones; NoExecute taints do both.
pub fn placement(spec: &PodSpec, node: &Node) -> (bool, bool) {
    let labels = node.metadata.labels.clone().unwrap_or_default();
    if !spec
        .node_selector
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v))
    {
        return (false, false);
    }
    if let Some(required) = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| {
            n.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
        && !required
            .node_selector_terms
            .iter()
            .any(|t| term_matches(t, node))
    {
        return (false, false);
    }
    let mut spec = spec.clone();
    add_tolerations(&mut spec);
    let tolerations = spec.tolerations.unwrap_or_default();
    let untolerated = |effect: &str| {
        node.spec
            .as_ref()
            .and_then(|s| s.taints.as_ref())
            .into_iter()
            .flatten()
            .any(|t| t.effect == effect && !tolerates(&tolerations, t))
    };
    let evict = untolerated("NoExecute");
    (!evict && !untolerated("NoSchedule"), !evict)
}

/// Whether a new daemon pod should be placed on `node`.
pub fn should_run(spec: &PodSpec, node: &Node) -> bool {
    placement(spec, node).0
}

/// Pins the pod to `node` through required node affinity on `metadata.name` (upstream
/// `ReplaceDaemonSetPodNodeNameNodeAffinity`).
fn pin_to_node(spec: &mut PodSpec, node: &str) {
    let field = NodeSelectorRequirement {
        key: "metadata.name".into(),
        operator: "In".into(),
        values: Some(vec![node.to_string()]),
    };
    let affinity = spec.affinity.get_or_insert_with(Affinity::default);
    let node_affinity = affinity
        .node_affinity
        .get_or_insert_with(NodeAffinity::default);
    let required = node_affinity
        .required_during_scheduling_ignored_during_execution
        .get_or_insert_with(NodeSelector::default);
    if required.node_selector_terms.is_empty() {
        required
            .node_selector_terms
            .push(NodeSelectorTerm::default());
    }
    for term in required.node_selector_terms.iter_mut() {
        term.match_fields = Some(vec![field.clone()]);
    }
}

fn pod_node(pod: &Pod) -> Option<String> {
    if let Some(n) = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .filter(|n| !n.is_empty())
    {
        return Some(n);
    }
    let terms = &pod
        .spec
        .as_ref()?
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .find(|f| f.key == "metadata.name")?
        .values
        .as_ref()?
        .first()
        .cloned()
}

impl Inner {
    async fn sync(&self, key: &Key) -> Result<Requeue> {
        let Some(ds) = self.sets.get(&key.namespace, &key.name) else {
            self.expectations.forget(key);
            return Ok(None);
        };
        let ds = (*ds).clone();
        if ds.metadata.deletion_timestamp.is_some() {
            return Ok(None);
        }
        let spec = ds.spec.clone().unwrap_or_default();
        let selector =
            Selector::from_label_selector(Some(&spec.selector)).map_err(Error::Invalid)?;
        let uid = ds.metadata.uid.clone().unwrap_or_default();
        let hash = self.update_revision(&ds).await?;
        let min_ready = spec.min_ready_seconds.unwrap_or(0);
        let template_spec = spec.template.spec.clone().unwrap_or_default();

        let mut by_node: HashMap<String, Vec<Arc<Pod>>> = HashMap::new();
        for p in self.pods.in_namespace(&key.namespace) {
            if meta::is_controlled_by(&p.metadata, &uid)
                && selector.matches(p.metadata.labels.as_ref())
                && p.metadata.deletion_timestamp.is_none()
                && let Some(n) = pod_node(&p)
            {
                by_node.entry(n).or_default().push(p);
            }
        }
        let nodes = self.nodes.store().state();
        let now = meta::now();
        let mut create_on = Vec::new();
        let mut delete = Vec::new();
        let (mut desired, mut current, mut misscheduled, mut ready, mut available, mut updated) =
            (0, 0, 0, 0, 0, 0);
        let mut old_pods: Vec<Arc<Pod>> = Vec::new();
        let mut unavailable = 0;
        for node in &nodes {
            let name = node.metadata.name.clone().unwrap_or_default();
            let (run, may_stay) = placement(&template_spec, node);
            let pods_here = by_node.remove(&name).unwrap_or_default();
            let run = run || (may_stay && !pods_here.is_empty());
            if !run {
                if !pods_here.is_empty() {
                    misscheduled += 1;
                }
                delete.extend(pods_here);
                continue;
            }
            desired += 1;
            let (failed, live): (Vec<_>, Vec<_>) = pods_here
                .into_iter()
                .partition(|p| pods::phase(p) == "Failed");
            for p in &failed {
                self.recorder.event(
                    &ds,
                    events::WARNING,
                    "FailedDaemonPod",
                    format!(
                        "Found failed daemon pod {}/{} on node {name}, will try to kill it",
                        key.namespace,
                        p.metadata.name.as_deref().unwrap_or("")
                    ),
                );
            }
            delete.extend(failed);
            let Some(first) = live.first().cloned() else {
                create_on.push(name);
                continue;
            };
            current += 1;
            // Extra pods on one node: keep the oldest.
            let mut live = live;
            live.sort_by_key(|p| meta::creation(&p.metadata));
            delete.extend(live.into_iter().skip(1));
            if pods::is_ready(&first) {
                ready += 1;
            }
            let is_available = pods::is_available(&first, min_ready, now);
            if is_available {
                available += 1;
            } else {
                unavailable += 1;
            }
            if first
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(REVISION_LABEL))
                == Some(&hash)
            {
                updated += 1;
            } else {
                old_pods.push(first);
            }
        }
        // Pods on nodes that no longer exist.
        for (_, pods_gone) in by_node {
            delete.extend(pods_gone);
        }
        // Rolling update: replace old pods, at most maxUnavailable nodes without an available pod.
        let strategy = spec.update_strategy.clone().unwrap_or_default();
        if strategy.type_.as_deref().unwrap_or("RollingUpdate") == "RollingUpdate" {
            let max_unavailable = strategy
                .rolling_update
                .as_ref()
                .and_then(|r| r.max_unavailable.clone())
                .unwrap_or(IntOrString::Int(1));
            let max = scaled_value(&max_unavailable, desired, true)
                .unwrap_or(1)
                .max(1);
            let mut budget = max - unavailable - i32::try_from(create_on.len()).unwrap_or(0);
            // Unavailable old pods first: replacing them costs nothing.
            old_pods.sort_by_key(|p| pods::is_available(p, min_ready, now));
            for p in old_pods {
                if !pods::is_available(&p, min_ready, now) {
                    delete.push(p);
                } else if budget > 0 {
                    budget -= 1;
                    delete.push(p);
                }
            }
        }

        if self.expectations.satisfied(key) {
            self.create_pods(&ds, key, &create_on, &hash).await?;
            self.delete_pods(&ds, key, &delete).await?;
        }

        let status = DaemonSetStatus {
            current_number_scheduled: current,
            desired_number_scheduled: desired,
            number_misscheduled: misscheduled,
            number_ready: ready,
            number_available: Some(available),
            number_unavailable: Some(desired - available),
            updated_number_scheduled: Some(updated),
            observed_generation: ds.metadata.generation,
            collision_count: ds.status.as_ref().and_then(|s| s.collision_count),
            conditions: ds.status.as_ref().and_then(|s| s.conditions.clone()),
        };
        if ds.status.as_ref() != Some(&status) {
            let api: Api<DaemonSet> = Api::namespaced(self.client.clone(), &key.namespace);
            let patch = json!({"metadata": {"uid": ds.metadata.uid}, "status": {
                "currentNumberScheduled": status.current_number_scheduled,
                "desiredNumberScheduled": status.desired_number_scheduled,
                "numberMisscheduled": status.number_misscheduled,
                "numberReady": status.number_ready,
                "numberAvailable": status.number_available,
                "numberUnavailable": status.number_unavailable,
                "updatedNumberScheduled": status.updated_number_scheduled,
                "observedGeneration": status.observed_generation,
            }});
            api.patch_status(&key.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
        }
        if min_ready > 0 && available < desired {
            return Ok(Some(Duration::from_secs(
                u64::try_from(min_ready).unwrap_or(0),
            )));
        }
        Ok(None)
    }

    /// The hash of the current template's ControllerRevision, created if needed.
    async fn update_revision(&self, ds: &DaemonSet) -> Result<String> {
        let ns = ds.metadata.namespace.clone().unwrap_or_default();
        let uid = ds.metadata.uid.clone().unwrap_or_default();
        let template = ds
            .spec
            .as_ref()
            .map(|s| s.template.clone())
            .unwrap_or_default();
        let data = revision_data(&template);
        let collision = ds.status.as_ref().and_then(|s| s.collision_count);
        let hash = pod_template_hash_bytes(&serde_json::to_vec(&data)?, collision);
        let existing: Vec<Arc<ControllerRevision>> = self
            .revisions
            .in_namespace(&ns)
            .into_iter()
            .filter(|r| meta::is_controlled_by(&r.metadata, &uid))
            .collect();
        if let Some(r) = existing
            .iter()
            .find(|r| template_of_revision(r).as_ref() == Some(&template))
            && let Some(h) = r
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(REVISION_LABEL))
        {
            return Ok(h.clone());
        }
        let name = format!("{}-{hash}", ds.metadata.name.as_deref().unwrap_or(""));
        let mut labels = ds
            .spec
            .as_ref()
            .and_then(|s| s.selector.match_labels.clone())
            .unwrap_or_default();
        labels.insert(REVISION_LABEL.into(), hash.clone());
        let rev = ControllerRevision {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(ns.clone()),
                labels: Some(labels),
                owner_references: Some(vec![new_controller_ref(ds)]),
                ..ObjectMeta::default()
            },
            data: Some(RawExtension(data)),
            revision: existing.iter().map(|r| r.revision).max().unwrap_or(0) + 1,
        };
        let api: Api<ControllerRevision> = Api::namespaced(self.client.clone(), &ns);
        match api.create(&PostParams::default(), &rev).await {
            Ok(_) => Ok(hash),
            Err(e) => {
                let e = Error::from(e);
                if e.is_already_exists() {
                    let current = api.get(&name).await?;
                    if template_of_revision(&current).as_ref() == Some(&template) {
                        return Ok(hash);
                    }
                }
                Err(e)
            }
        }
    }

    async fn create_pods(
        &self,
        ds: &DaemonSet,
        key: &Key,
        nodes: &[String],
        hash: &str,
    ) -> Result<()> {
        if nodes.is_empty() {
            return Ok(());
        }
        let template = ds
            .spec
            .as_ref()
            .map(|s| s.template.clone())
            .unwrap_or_default();
        let pods: Vec<Pod> = nodes
            .iter()
            .map(|node| {
                let mut pod = pods::pod_from_template(&template, &key.name, new_controller_ref(ds));
                let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
                labels.insert(REVISION_LABEL.into(), hash.to_string());
                if let Some(g) = ds.metadata.generation {
                    labels.insert(TEMPLATE_GENERATION_LABEL.into(), g.to_string());
                }
                let spec = pod.spec.get_or_insert_with(PodSpec::default);
                add_tolerations(spec);
                pin_to_node(spec, node);
                pod
            })
            .collect();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &key.namespace);
        create_pods(&api, pods, ds, key, &self.recorder, &self.expectations).await
    }

    async fn delete_pods(&self, ds: &DaemonSet, key: &Key, victims: &[Arc<Pod>]) -> Result<()> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &key.namespace);
        let victims: Vec<&Pod> = victims.iter().map(|p| &**p).collect();
        delete_pods(
            &api,
            &victims,
            ds,
            key,
            &DeleteParams::default(),
            &self.recorder,
            &self.expectations,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::NodeSpec;

    fn node(name: &str, labels: &[(&str, &str)], taints: Vec<Taint>) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..ObjectMeta::default()
            },
            spec: Some(NodeSpec {
                taints: Some(taints),
                ..NodeSpec::default()
            }),
            status: None,
        }
    }

    fn taint(key: &str, effect: &str) -> Taint {
        Taint {
            key: key.into(),
            effect: effect.into(),
            ..Taint::default()
        }
    }

    #[test]
    fn placement_follows_selector_and_taints() {
        let mut spec = PodSpec {
            node_selector: Some(BTreeMap::from([("disk".to_string(), "ssd".to_string())])),
            ..PodSpec::default()
        };
        assert!(should_run(&spec, &node("a", &[("disk", "ssd")], vec![])));
        assert!(!should_run(&spec, &node("b", &[], vec![])));
        // Daemon tolerations: cordoned and not-ready nodes still run the pod.
        assert!(should_run(
            &spec,
            &node(
                "c",
                &[("disk", "ssd")],
                vec![
                    taint("node.kubernetes.io/unschedulable", "NoSchedule"),
                    taint("node.kubernetes.io/not-ready", "NoExecute")
                ]
            )
        ));
        assert!(!should_run(
            &spec,
            &node(
                "d",
                &[("disk", "ssd")],
                vec![taint("dedicated", "NoSchedule")]
            )
        ));
        assert!(should_run(
            &spec,
            &node(
                "e",
                &[("disk", "ssd")],
                vec![taint("dedicated", "PreferNoSchedule")]
            )
        ));
        // A running pod stays through a NoSchedule taint but not a NoExecute one.
        let d = |effect: &str| node("d", &[("disk", "ssd")], vec![taint("dedicated", effect)]);
        assert_eq!(placement(&spec, &d("NoSchedule")), (false, true));
        assert_eq!(placement(&spec, &d("NoExecute")), (false, false));
        spec.tolerations = Some(vec![Toleration {
            key: Some("dedicated".into()),
            operator: Some("Exists".into()),
            ..Toleration::default()
        }]);
        assert!(should_run(
            &spec,
            &node(
                "d",
                &[("disk", "ssd")],
                vec![taint("dedicated", "NoSchedule")]
            )
        ));
    }

    #[test]
    fn pinning_keeps_expressions_and_sets_the_node_name_field() {
        let mut spec = PodSpec::default();
        pin_to_node(&mut spec, "n1");
        let pod = Pod {
            spec: Some(spec),
            ..Pod::default()
        };
        assert_eq!(pod_node(&pod).as_deref(), Some("n1"));
        let terms = &pod
            .spec
            .unwrap()
            .affinity
            .unwrap()
            .node_affinity
            .unwrap()
            .required_during_scheduling_ignored_during_execution
            .unwrap()
            .node_selector_terms;
        assert_eq!(terms.len(), 1);
        assert_eq!(
            terms[0].match_fields.as_ref().unwrap()[0]
                .values
                .as_ref()
                .unwrap(),
            &["n1".to_string()]
        );
    }
}
