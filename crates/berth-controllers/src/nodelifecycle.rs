//! The node lifecycle controller (upstream `pkg/controller/nodelifecycle`) with its taint
//! eviction manager (`pkg/controller/tainteviction`).
//!
//! Every [`NodeLifecycleConfig::node_monitor_period`] it looks at each Node: a node whose
//! kubelet neither renewed its Lease in `kube-node-lease` nor posted a new Ready heartbeat for
//! the grace period gets Ready (and the pressure conditions) Unknown, "Kubelet stopped posting
//! node status.", and its pods are marked not ready. Conditions become taints:
//! `node.kubernetes.io/unreachable` (Ready Unknown) or `node.kubernetes.io/not-ready` (Ready
//! False) with effect NoSchedule at once and NoExecute at the zone's eviction rate; they go when
//! the node is Ready again. Pods on a node with NoExecute taints are deleted once their
//! tolerations run out. When every node of every zone is not ready (full disruption, more
//! likely a control-plane or network problem than dead nodes), NoExecute taints are removed
//! and none are added, so nothing is evicted, as upstream does.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, NodeCondition, Pod, PodCondition, Taint, Toleration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::events::Events;
use crate::runtime::Informer;
use crate::runtime::wait_for_shutdown;

pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
pub const TAINT_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";
const ZONE_LABEL: &str = "topology.kubernetes.io/zone";
const REGION_LABEL: &str = "topology.kubernetes.io/region";

/// Condition types the controller sets Unknown with Ready.
const HEALTH_CONDITIONS: &[&str] = &["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

/// Node conditions that become NoSchedule taints (`nodeConditionToTaintKeyStatusMap`).
const CONDITION_TAINTS: &[(&str, &str, &str)] = &[
    ("Ready", "False", TAINT_NOT_READY),
    ("Ready", "Unknown", TAINT_UNREACHABLE),
    (
        "MemoryPressure",
        "True",
        "node.kubernetes.io/memory-pressure",
    ),
    ("DiskPressure", "True", "node.kubernetes.io/disk-pressure"),
    (
        "NetworkUnavailable",
        "True",
        "node.kubernetes.io/network-unavailable",
    ),
    ("PIDPressure", "True", "node.kubernetes.io/pid-pressure"),
];

/// Settings of the controller (kube-controller-manager flags); [`Default`] has upstream's.
#[derive(Debug, Clone)]
pub struct NodeLifecycleConfig {
    /// --node-monitor-period: how often nodes are looked at.
    pub node_monitor_period: Duration,
    /// --node-monitor-grace-period: silence after which a node is Unknown.
    pub node_monitor_grace_period: Duration,
    /// --node-startup-grace-period: the same for a node that never posted a Ready condition.
    pub node_startup_grace_period: Duration,
    /// --node-eviction-rate: nodes per second that get NoExecute taints in a healthy zone.
    pub node_eviction_rate: f64,
    /// --secondary-node-eviction-rate: the same in a partially disrupted large zone.
    pub secondary_node_eviction_rate: f64,
    /// --unhealthy-zone-threshold: fraction of not-ready nodes making a zone partially disrupted.
    pub unhealthy_zone_threshold: f64,
    /// --large-cluster-size-threshold: smaller zones stop tainting when partially disrupted.
    pub large_cluster_size_threshold: usize,
}

impl Default for NodeLifecycleConfig {
    fn default() -> Self {
        NodeLifecycleConfig {
            node_monitor_period: Duration::from_secs(5),
            node_monitor_grace_period: Duration::from_secs(40),
            node_startup_grace_period: Duration::from_secs(60),
            node_eviction_rate: 0.1,
            secondary_node_eviction_rate: 0.01,
            unhealthy_zone_threshold: 0.55,
            large_cluster_size_threshold: 50,
        }
    }
}

/// The node lifecycle controller. Build with [`NodeLifecycleController::new`], then
/// [`NodeLifecycleController::run`].
pub struct NodeLifecycleController {
    client: Client,
    config: NodeLifecycleConfig,
    node_events: Events,
    eviction_events: Events,
}

/// What was last observed of a node's kubelet, and when (local time, as upstream).
struct NodeHealth {
    probe: Instant,
    heartbeat: Option<Timestamp>,
    lease_renew: Option<Timestamp>,
    ready: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ZoneState {
    Normal,
    PartialDisruption,
    FullDisruption,
}

struct State {
    health: HashMap<String, NodeHealth>,
    /// Per zone: when the next node may get a NoExecute taint.
    next_taint: HashMap<String, Instant>,
    /// Pod uid -> when the taint manager deletes it.
    evictions: HashMap<String, Instant>,
}

impl NodeLifecycleController {
    pub fn new(client: Client) -> Self {
        Self::with_config(client, NodeLifecycleConfig::default())
    }

    pub fn with_config(client: Client, config: NodeLifecycleConfig) -> Self {
        NodeLifecycleController {
            node_events: Events::new(client.clone(), "node-controller"),
            eviction_events: Events::new(client.clone(), "taint-eviction-controller"),
            client,
            config,
        }
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        tracing::info!("starting node lifecycle controller");
        let nodes = Informer::start(
            Api::<Node>::all(self.client.clone()),
            watcher::Config::default(),
            |_, _| {},
        );
        let leases = Informer::start(
            Api::<Lease>::namespaced(self.client.clone(), NODE_LEASE_NAMESPACE),
            watcher::Config::default(),
            |_, _| {},
        );
        let pods = Informer::start(
            Api::<Pod>::all(self.client.clone()),
            watcher::Config::default(),
            |_, _| {},
        );
        tokio::select! {
            _ = async { nodes.ready().await; leases.ready().await; pods.ready().await } => {}
            _ = wait_for_shutdown(shutdown.clone()) => return,
        }
        let mut state = State {
            health: HashMap::new(),
            next_taint: HashMap::new(),
            evictions: HashMap::new(),
        };
        let mut tick = tokio::time::interval(self.config.node_monitor_period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = wait_for_shutdown(shutdown.clone()) => break,
            }
            if let Err(e) = self.monitor(&mut state, &nodes.store, &leases.store).await {
                tracing::warn!(error = %e, "node health pass failed; retrying next period");
            }
            if let Err(e) = self.evict(&mut state, &nodes.store, &pods.store).await {
                tracing::warn!(error = %e, "taint eviction pass failed; retrying next period");
            }
        }
        tracing::info!("stopped node lifecycle controller");
    }

    fn nodes(&self) -> Api<Node> {
        Api::all(self.client.clone())
    }

    /// One `monitorNodeHealth` pass: conditions, pods' readiness and taints.
    async fn monitor(
        &self,
        state: &mut State,
        nodes: &Store<Node>,
        leases: &Store<Lease>,
    ) -> Result<()> {
        let now = Instant::now();
        let all = nodes.state();
        state
            .health
            .retain(|name, _| all.iter().any(|n| n.metadata.name.as_deref() == Some(name)));
        // Ready status per node after this pass.
        let mut readiness: Vec<(Arc<Node>, String)> = Vec::new();
        for node in &all {
            let name = node.name_any();
            let lease = leases.get(&ObjectRef::new(&name).within(NODE_LEASE_NAMESPACE));
            let lease_renew = lease
                .as_ref()
                .and_then(|l| l.spec.as_ref())
                .and_then(|s| s.renew_time.as_ref())
                .map(|t| t.0);
            let ready = condition(node, "Ready");
            let heartbeat = ready
                .and_then(|c| c.last_heartbeat_time.as_ref())
                .map(|t| t.0);
            let health = state
                .health
                .entry(name.clone())
                .or_insert_with(|| NodeHealth {
                    probe: now,
                    heartbeat,
                    lease_renew,
                    ready: ready.map(|c| c.status.clone()),
                });
            if health.heartbeat != heartbeat {
                health.heartbeat = heartbeat;
                health.probe = now;
            }
            if lease_renew.is_some()
                && health
                    .lease_renew
                    .is_none_or(|old| lease_renew.is_some_and(|new| new > old))
            {
                health.lease_renew = lease_renew;
                health.probe = now;
            }
            let grace = if ready.is_none() {
                self.config.node_startup_grace_period
            } else {
                self.config.node_monitor_grace_period
            };
            let mut status = ready
                .map(|c| c.status.clone())
                .unwrap_or_else(|| "Unknown".into());
            let mut current = node.clone();
            if now.duration_since(health.probe) > grace && needs_unknown(node) {
                match self.mark_unknown(&name).await {
                    Ok(updated) => {
                        status = "Unknown".into();
                        current = Arc::new(updated);
                    }
                    Err(e) if e.is_conflict() || e.is_not_found() => {}
                    Err(e) => return Err(e),
                }
            }
            let was = health.ready.replace(status.clone());
            if was.as_deref() == Some("True") && status != "True" {
                tracing::info!(node = name, "node is not ready; marking its pods not ready");
                self.node_events
                    .normal(
                        current.as_ref(),
                        "NodeNotReady",
                        format!("Node {name} status is now: NodeNotReady"),
                    )
                    .await;
                self.mark_pods_not_ready(&name).await?;
            }
            readiness.push((current, status));
        }
        self.taint_pass(state, &readiness).await
    }

    /// Sets Ready and the pressure conditions Unknown (`tryUpdateNodeHealth`).
    async fn mark_unknown(&self, name: &str) -> Result<Node> {
        let mut node = self.nodes().get(name).await?;
        let now = Time(Timestamp::now());
        let conditions = node
            .status
            .get_or_insert_with(Default::default)
            .conditions
            .get_or_insert_with(Vec::new);
        for type_ in HEALTH_CONDITIONS {
            match conditions.iter_mut().find(|c| c.type_ == *type_) {
                None => conditions.push(NodeCondition {
                    type_: type_.to_string(),
                    status: "Unknown".into(),
                    reason: Some("NodeStatusNeverUpdated".into()),
                    message: Some("Kubelet never posted node status.".into()),
                    last_heartbeat_time: Some(Time(
                        node.metadata
                            .creation_timestamp
                            .as_ref()
                            .map_or(now.0, |t| t.0),
                    )),
                    last_transition_time: Some(now.clone()),
                }),
                Some(c) if c.status != "Unknown" => {
                    c.status = "Unknown".into();
                    c.reason = Some("NodeStatusUnknown".into());
                    c.message = Some("Kubelet stopped posting node status.".into());
                    c.last_transition_time = Some(now.clone());
                }
                Some(_) => {}
            }
        }
        let updated = self
            .nodes()
            .replace_status(name, &PostParams::default(), &node)
            .await?;
        tracing::info!(node = name, "node stopped posting status; marked Unknown");
        Ok(updated)
    }

    /// `MarkPodsNotReady`: the pods of a node that went not ready are not ready either.
    async fn mark_pods_not_ready(&self, node: &str) -> Result<()> {
        let pods: Api<Pod> = Api::all(self.client.clone());
        let lp = kube::api::ListParams::default().fields(&format!("spec.nodeName={node}"));
        for pod in pods.list(&lp).await? {
            let mut pod = pod;
            let Some(ns) = pod.metadata.namespace.clone() else {
                continue;
            };
            let Some(cond) = pod
                .status
                .as_mut()
                .and_then(|s| s.conditions.as_mut())
                .and_then(|c| c.iter_mut().find(|c| c.type_ == "Ready"))
            else {
                continue;
            };
            if cond.status == "False" {
                continue;
            }
            cond.status = "False".into();
            cond.last_transition_time = Some(Time(Timestamp::now()));
            let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
            match api
                .replace_status(&pod.name_any(), &PostParams::default(), &pod)
                .await
                .map_err(Error::from)
            {
                Ok(_) => {}
                Err(e) if e.is_not_found() || e.is_conflict() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// NoSchedule taints from conditions, NoExecute taints under zone rate limits and the
    /// full-disruption rule.
    async fn taint_pass(&self, state: &mut State, readiness: &[(Arc<Node>, String)]) -> Result<()> {
        let mut zones: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for (node, ready) in readiness {
            let z = zones.entry(zone_key(node)).or_default();
            if ready == "True" { z.0 += 1 } else { z.1 += 1 }
        }
        let zone_states: BTreeMap<String, ZoneState> = zones
            .iter()
            .map(|(k, (ready, not_ready))| {
                (
                    k.clone(),
                    zone_state(*ready, *not_ready, self.config.unhealthy_zone_threshold),
                )
            })
            .collect();
        let full_disruption = !zone_states.is_empty()
            && zone_states
                .values()
                .all(|s| *s == ZoneState::FullDisruption);
        let now = Instant::now();
        for (node, ready) in readiness {
            let name = node.name_any();
            let mut taints = node
                .spec
                .as_ref()
                .and_then(|s| s.taints.clone())
                .unwrap_or_default();
            let before = taints.clone();
            reconcile_no_schedule(node, &mut taints);
            let wanted = match ready.as_str() {
                "False" => Some(TAINT_NOT_READY),
                "True" => None,
                _ => Some(TAINT_UNREACHABLE),
            };
            let has =
                |t: &[Taint], key: &str| t.iter().any(|t| t.key == key && t.effect == "NoExecute");
            match wanted {
                _ if full_disruption => remove_no_execute(&mut taints),
                None => remove_no_execute(&mut taints),
                Some(key) if has(&taints, key) => {}
                Some(key) => {
                    let other = if key == TAINT_NOT_READY {
                        TAINT_UNREACHABLE
                    } else {
                        TAINT_NOT_READY
                    };
                    // Swapping the reason of an existing taint is immediate; a new one waits
                    // for the zone's rate limiter.
                    let zone = zone_key(node);
                    let allowed = has(&taints, other)
                        || self.take_taint_token(state, &zone, &zone_states, zones.get(&zone), now);
                    if allowed {
                        remove_no_execute(&mut taints);
                        taints.push(Taint {
                            key: key.into(),
                            effect: "NoExecute".into(),
                            time_added: Some(Time(Timestamp::now())),
                            value: None,
                        });
                    }
                }
            }
            if taints != before {
                self.write_taints(&name, &before, &taints).await?;
            }
        }
        Ok(())
    }

    /// Whether a node of `zone` may get a NoExecute taint now (the zone's rate limiter).
    fn take_taint_token(
        &self,
        state: &mut State,
        zone: &str,
        zone_states: &BTreeMap<String, ZoneState>,
        counts: Option<&(usize, usize)>,
        now: Instant,
    ) -> bool {
        let size = counts.map_or(0, |(r, n)| r + n);
        let rate = match zone_states.get(zone) {
            Some(ZoneState::PartialDisruption)
                if size > self.config.large_cluster_size_threshold =>
            {
                self.config.secondary_node_eviction_rate
            }
            Some(ZoneState::PartialDisruption) => 0.0,
            _ => self.config.node_eviction_rate,
        };
        if rate <= 0.0 {
            return false;
        }
        let next = state.next_taint.get(zone).copied().unwrap_or(now);
        if next > now {
            return false;
        }
        let interval = Duration::from_secs_f64((1.0 / rate).min(86_400.0));
        state.next_taint.insert(zone.to_string(), now + interval);
        true
    }

    /// Writes the taints to the latest node, keeping taints others changed meanwhile.
    async fn write_taints(&self, name: &str, before: &[Taint], after: &[Taint]) -> Result<()> {
        let mut node = match self.nodes().get(name).await {
            Ok(n) => n,
            Err(e) => return ignore_not_found(e.into()),
        };
        let spec = node.spec.get_or_insert_with(Default::default);
        let mut taints = spec.taints.clone().unwrap_or_default();
        taints.retain(|t| {
            !before.iter().any(|b| same_taint(b, t)) || after.iter().any(|a| same_taint(a, t))
        });
        for t in after {
            if !taints.iter().any(|x| same_taint(x, t)) {
                taints.push(t.clone());
            }
        }
        spec.taints = (!taints.is_empty()).then_some(taints);
        match self
            .nodes()
            .replace(name, &PostParams::default(), &node)
            .await
            .map_err(Error::from)
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_conflict() || e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The taint eviction manager's pass: deletes pods that do not tolerate their node's
    /// NoExecute taints, once their toleration seconds have passed.
    async fn evict(&self, state: &mut State, nodes: &Store<Node>, pods: &Store<Pod>) -> Result<()> {
        let now = Instant::now();
        let mut due: Vec<Arc<Pod>> = Vec::new();
        let mut scheduled: HashMap<String, Instant> = HashMap::new();
        for pod in pods.state() {
            if pod.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let Some(node_name) = pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) else {
                continue;
            };
            let Some(node) = nodes.get(&ObjectRef::new(node_name)) else {
                continue;
            };
            let taints: Vec<&Taint> = node
                .spec
                .iter()
                .flat_map(|s| s.taints.iter().flatten())
                .filter(|t| t.effect == "NoExecute")
                .collect();
            if taints.is_empty() {
                continue;
            }
            let tolerations = pod
                .spec
                .as_ref()
                .and_then(|s| s.tolerations.as_deref())
                .unwrap_or_default();
            let Some(wait) = toleration_time(&taints, tolerations) else {
                continue; // tolerated for ever
            };
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            let at = state.evictions.get(&uid).copied().unwrap_or(now + wait);
            scheduled.insert(uid, at);
            if at <= now {
                due.push(pod);
            }
        }
        // Pods whose taints went (or were tolerated after all) are no longer scheduled.
        state.evictions = scheduled;
        for pod in due {
            self.evict_pod(&pod).await?;
            state
                .evictions
                .remove(pod.metadata.uid.as_deref().unwrap_or_default());
        }
        Ok(())
    }

    async fn evict_pod(&self, pod: &Pod) -> Result<()> {
        let (Some(ns), name) = (pod.metadata.namespace.as_deref(), pod.name_any()) else {
            return Ok(());
        };
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        tracing::info!(
            namespace = ns,
            pod = name,
            "taint manager: deleting pod due to NoExecute taint"
        );
        self.eviction_events
            .normal(
                pod,
                "TaintManagerEviction",
                format!("Marking for deletion Pod {ns}/{name}"),
            )
            .await;
        // The DisruptionTarget condition tells why the pod goes (upstream adds it first).
        let mut with_condition = pod.clone();
        let conditions = with_condition
            .status
            .get_or_insert_with(Default::default)
            .conditions
            .get_or_insert_with(Vec::new);
        conditions.retain(|c| c.type_ != "DisruptionTarget");
        conditions.push(PodCondition {
            type_: "DisruptionTarget".into(),
            status: "True".into(),
            reason: Some("DeletionByTaintManager".into()),
            message: Some("Taint manager: deleting due to NoExecute taint".into()),
            last_transition_time: Some(Time(Timestamp::now())),
            ..PodCondition::default()
        });
        if let Err(e) = api
            .replace_status(&name, &PostParams::default(), &with_condition)
            .await
        {
            let e = Error::from(e);
            if e.is_not_found() {
                return Ok(());
            }
            tracing::debug!(error = %e, "could not add the DisruptionTarget condition");
        }
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(e) => ignore_not_found(e.into()),
        }
    }
}

/// `ComputeZoneState`.
fn zone_state(ready: usize, not_ready: usize, unhealthy_threshold: f64) -> ZoneState {
    if ready == 0 && not_ready > 0 {
        ZoneState::FullDisruption
    } else if not_ready > 2 && not_ready as f64 / (ready + not_ready) as f64 >= unhealthy_threshold
    {
        ZoneState::PartialDisruption
    } else {
        ZoneState::Normal
    }
}

fn ignore_not_found(e: Error) -> Result<()> {
    if e.is_not_found() { Ok(()) } else { Err(e) }
}

fn condition<'a>(node: &'a Node, type_: &str) -> Option<&'a NodeCondition> {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == type_))
}

/// Whether marking the node Unknown would change anything.
fn needs_unknown(node: &Node) -> bool {
    HEALTH_CONDITIONS
        .iter()
        .any(|t| condition(node, t).is_none_or(|c| c.status != "Unknown"))
}

fn zone_key(node: &Node) -> String {
    let labels = node.labels();
    let region = labels.get(REGION_LABEL).map(String::as_str).unwrap_or("");
    let zone = labels.get(ZONE_LABEL).map(String::as_str).unwrap_or("");
    format!("{region}:\u{0}:{zone}")
}

fn same_taint(a: &Taint, b: &Taint) -> bool {
    a.key == b.key && a.effect == b.effect
}

fn remove_no_execute(taints: &mut Vec<Taint>) {
    taints.retain(|t| {
        !(t.effect == "NoExecute" && (t.key == TAINT_NOT_READY || t.key == TAINT_UNREACHABLE))
    });
}

/// `doNoScheduleTaintingPass`: the NoSchedule taints of the node's conditions and of
/// `spec.unschedulable`, and none of the others of that family.
fn reconcile_no_schedule(node: &Node, taints: &mut Vec<Taint>) {
    let mut wanted: Vec<&str> = CONDITION_TAINTS
        .iter()
        .filter(|(type_, status, _)| condition(node, type_).is_some_and(|c| c.status == *status))
        .map(|(_, _, key)| *key)
        .collect();
    if node
        .spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false)
    {
        wanted.push(TAINT_UNSCHEDULABLE);
    }
    let managed = |key: &str| {
        key == TAINT_UNSCHEDULABLE || CONDITION_TAINTS.iter().any(|(_, _, k)| *k == key)
    };
    taints.retain(|t| {
        !(t.effect == "NoSchedule" && managed(&t.key) && !wanted.contains(&t.key.as_str()))
    });
    for key in wanted {
        if !taints
            .iter()
            .any(|t| t.key == key && t.effect == "NoSchedule")
        {
            taints.push(Taint {
                key: key.into(),
                effect: "NoSchedule".into(),
                time_added: None,
                value: None,
            });
        }
    }
}

/// `Toleration.ToleratesTaint`.
fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    if let Some(effect) = toleration.effect.as_deref()
        && !effect.is_empty()
        && effect != taint.effect
    {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or("");
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match toleration.operator.as_deref().unwrap_or("Equal") {
        "Exists" => true,
        "Equal" | "" => {
            toleration.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
        _ => false,
    }
}

/// How long the pod may stay (`getMinTolerationTime`): zero when a taint is not tolerated,
/// `None` when all are tolerated for ever.
fn toleration_time(taints: &[&Taint], tolerations: &[Toleration]) -> Option<Duration> {
    let mut min: Option<i64> = None;
    for taint in taints {
        let used: Vec<&Toleration> = tolerations.iter().filter(|t| tolerates(t, taint)).collect();
        if used.is_empty() {
            return Some(Duration::ZERO);
        }
        for t in used {
            if let Some(s) = t.toleration_seconds {
                min = Some(min.map_or(s, |m| m.min(s)));
            }
        }
    }
    min.map(|s| Duration::from_secs(u64::try_from(s).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn taint(key: &str) -> Taint {
        Taint {
            key: key.into(),
            effect: "NoExecute".into(),
            time_added: None,
            value: None,
        }
    }

    fn toleration(v: serde_json::Value) -> Toleration {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn toleration_seconds_decide_when_pods_go() {
        let t = taint(TAINT_UNREACHABLE);
        assert_eq!(toleration_time(&[&t], &[]), Some(Duration::ZERO));
        let tol = toleration(
            json!({"key": TAINT_UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}),
        );
        assert_eq!(
            toleration_time(&[&t], &[tol]),
            Some(Duration::from_secs(300))
        );
        let forever = toleration(json!({"operator": "Exists"}));
        assert_eq!(toleration_time(&[&t], &[forever]), None);
        let other = toleration(json!({"key": TAINT_NOT_READY, "operator": "Exists"}));
        assert_eq!(toleration_time(&[&t], &[other]), Some(Duration::ZERO));
    }

    #[test]
    fn no_schedule_taints_follow_conditions() {
        let node: Node = serde_json::from_value(json!({
            "metadata": {"name": "n"},
            "spec": {"unschedulable": true, "taints": [
                {"key": "node.kubernetes.io/memory-pressure", "effect": "NoSchedule"},
                {"key": "example.com/own", "effect": "NoSchedule"}
            ]},
            "status": {"conditions": [{"type": "Ready", "status": "Unknown"}, {"type": "DiskPressure", "status": "True"}]}
        }))
        .unwrap();
        let mut taints = node.spec.as_ref().unwrap().taints.clone().unwrap();
        reconcile_no_schedule(&node, &mut taints);
        let mut keys: Vec<&str> = taints.iter().map(|t| t.key.as_str()).collect();
        keys.sort();
        assert_eq!(
            keys,
            vec![
                "example.com/own",
                "node.kubernetes.io/disk-pressure",
                TAINT_UNREACHABLE,
                TAINT_UNSCHEDULABLE
            ]
        );
    }

    #[test]
    fn zone_states_match_upstream_thresholds() {
        assert_eq!(zone_state(0, 1, 0.55), ZoneState::FullDisruption);
        assert_eq!(zone_state(3, 2, 0.55), ZoneState::Normal);
        assert_eq!(zone_state(2, 3, 0.55), ZoneState::PartialDisruption);
        assert_eq!(zone_state(5, 0, 0.55), ZoneState::Normal);
    }
}
