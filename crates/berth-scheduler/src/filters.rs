//! Filter plugins of the default profile that Berth runs, in upstream's order, with upstream's
//! reason texts (`ErrReason*` of each plugin).

use std::collections::HashMap;

use crate::cache::{Cache, NodeInfo};
use crate::matching::{
    first_untolerated_taint, node_labels, pod_matches_node_selector_and_affinity, taints,
    toleration_tolerates, tolerations,
};
use crate::podinfo::{NamespaceLabels, PodInfo};

pub const NODE_UNSCHEDULABLE: &str = "NodeUnschedulable";
pub const NODE_NAME: &str = "NodeName";
pub const TAINT_TOLERATION: &str = "TaintToleration";
pub const NODE_AFFINITY: &str = "NodeAffinity";
pub const NODE_PORTS: &str = "NodePorts";
pub const NODE_RESOURCES_FIT: &str = "NodeResourcesFit";
pub const INTER_POD_AFFINITY: &str = "InterPodAffinity";
pub const POD_TOPOLOGY_SPREAD: &str = "PodTopologySpread";

pub const ERR_UNSCHEDULABLE: &str = "node(s) were unschedulable";
pub const ERR_NODE_NAME: &str = "node(s) didn't match the requested node name";
pub const ERR_NODE_AFFINITY: &str = "node(s) didn't match Pod's node affinity/selector";
pub const ERR_NODE_PORTS: &str = "node(s) didn't have free ports for the requested pod ports";
pub const ERR_TOO_MANY_PODS: &str = "Too many pods";
pub const ERR_SPREAD: &str = "node(s) didn't match pod topology spread constraints";
pub const ERR_SPREAD_MISSING_LABEL: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";
pub const ERR_AFFINITY: &str = "node(s) didn't match pod affinity rules";
pub const ERR_ANTI_AFFINITY: &str = "node(s) didn't match pod anti-affinity rules";
pub const ERR_EXISTING_ANTI_AFFINITY: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";

/// Why a node was rejected: the plugin, its reasons and whether upstream would call it
/// resolvable by preemption (`Unschedulable`) or not (`UnschedulableAndUnresolvable`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub plugin: &'static str,
    pub reasons: Vec<String>,
    pub resolvable: bool,
}

impl Rejection {
    fn new(plugin: &'static str, reason: impl Into<String>, resolvable: bool) -> Rejection {
        Rejection {
            plugin,
            reasons: vec![reason.into()],
            resolvable,
        }
    }
}

type FilterResult = Result<(), Rejection>;

pub fn node_unschedulable(pod: &PodInfo, node: &NodeInfo) -> FilterResult {
    let Some(n) = node.node.as_ref() else {
        return Ok(());
    };
    let unschedulable = n.spec.as_ref().and_then(|s| s.unschedulable) == Some(true);
    if !unschedulable {
        return Ok(());
    }
    // Pods tolerating the unschedulable taint may still land (upstream NodeUnschedulable).
    let taint = k8s_openapi::api::core::v1::Taint {
        key: "node.kubernetes.io/unschedulable".into(),
        effect: "NoSchedule".into(),
        ..Default::default()
    };
    if tolerations(&pod.pod)
        .iter()
        .any(|t| toleration_tolerates(t, &taint))
    {
        return Ok(());
    }
    Err(Rejection::new(NODE_UNSCHEDULABLE, ERR_UNSCHEDULABLE, false))
}

pub fn node_name(pod: &PodInfo, node: &NodeInfo) -> FilterResult {
    match pod.pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
        Some(wanted) if !wanted.is_empty() && wanted != node.name => {
            Err(Rejection::new(NODE_NAME, ERR_NODE_NAME, false))
        }
        _ => Ok(()),
    }
}

pub fn taint_toleration(pod: &PodInfo, node: &NodeInfo) -> FilterResult {
    let Some(n) = node.node.as_ref() else {
        return Ok(());
    };
    match first_untolerated_taint(
        taints(n),
        tolerations(&pod.pod),
        &["NoSchedule", "NoExecute"],
    ) {
        Some(t) => Err(Rejection::new(
            TAINT_TOLERATION,
            format!(
                "node(s) had untolerated taint {{{}: {}}}",
                t.key,
                t.value.as_deref().unwrap_or_default()
            ),
            false,
        )),
        None => Ok(()),
    }
}

pub fn node_affinity(pod: &PodInfo, node: &NodeInfo) -> FilterResult {
    let Some(n) = node.node.as_ref() else {
        return Ok(());
    };
    if pod_matches_node_selector_and_affinity(&pod.pod, n) {
        Ok(())
    } else {
        Err(Rejection::new(NODE_AFFINITY, ERR_NODE_AFFINITY, false))
    }
}

pub fn node_ports(pod: &PodInfo, node: &NodeInfo) -> FilterResult {
    let conflict = pod
        .host_ports
        .iter()
        .any(|want| node.used_ports.iter().any(|used| used.conflicts(want)));
    if conflict {
        Err(Rejection::new(NODE_PORTS, ERR_NODE_PORTS, true))
    } else {
        Ok(())
    }
}

/// Upstream `fitsRequest`: the pod count, then each requested resource against what is left.
pub fn node_resources_fit(pod: &PodInfo, node: &NodeInfo) -> FilterResult {
    let mut reasons = Vec::new();
    if node.pods.len() as i64 + 1 > node.allowed_pods {
        reasons.push(ERR_TOO_MANY_PODS.to_string());
    }
    let req = &pod.resources.requests;
    if !req.is_zero() {
        let free = |alloc: i64, used: i64| alloc.saturating_sub(used);
        if req.milli_cpu > 0
            && req.milli_cpu > free(node.allocatable.milli_cpu, node.requested.milli_cpu)
        {
            reasons.push("Insufficient cpu".to_string());
        }
        if req.memory > 0 && req.memory > free(node.allocatable.memory, node.requested.memory) {
            reasons.push("Insufficient memory".to_string());
        }
        if req.ephemeral_storage > 0
            && req.ephemeral_storage
                > free(
                    node.allocatable.ephemeral_storage,
                    node.requested.ephemeral_storage,
                )
        {
            reasons.push("Insufficient ephemeral-storage".to_string());
        }
        for (name, want) in &req.scalar {
            let alloc = node.allocatable.scalar.get(name).copied().unwrap_or(0);
            let used = node.requested.scalar.get(name).copied().unwrap_or(0);
            if *want > 0 && *want > free(alloc, used) {
                reasons.push(format!("Insufficient {name}"));
            }
        }
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(Rejection {
            plugin: NODE_RESOURCES_FIT,
            reasons,
            resolvable: true,
        })
    }
}

type TopologyCounts = HashMap<(String, String), i64>;

/// InterPodAffinity's PreFilter state: counts per topology pair of the pods that satisfy the
/// incoming pod's required terms, and of existing pods whose anti-affinity rejects it.
#[derive(Debug, Default)]
pub struct InterPodAffinityState {
    existing_anti_affinity: TopologyCounts,
    affinity: TopologyCounts,
    anti_affinity: TopologyCounts,
    /// The incoming pod matches all of its own affinity terms (lets the first pod of a group
    /// land when no pod matches yet).
    pod_matches_own_affinity: bool,
}

impl InterPodAffinityState {
    pub fn compute(pod: &PodInfo, cache: &Cache, ns_labels: &NamespaceLabels) -> Self {
        let mut s = InterPodAffinityState {
            pod_matches_own_affinity: pod
                .required_affinity
                .iter()
                .all(|t| t.matches(&pod.pod, ns_labels)),
            ..Default::default()
        };
        let incoming_terms =
            !pod.required_affinity.is_empty() || !pod.required_anti_affinity.is_empty();
        for node in cache.nodes() {
            let Some(n) = node.node.as_ref() else {
                continue;
            };
            let labels = node_labels(n);
            if node.pods_with_affinity == 0 && !incoming_terms {
                continue;
            }
            for existing in node.pods.values() {
                for t in &existing.required_anti_affinity {
                    if let Some(v) = labels.get(&t.topology_key)
                        && t.matches(&pod.pod, ns_labels)
                    {
                        *s.existing_anti_affinity
                            .entry((t.topology_key.clone(), v.clone()))
                            .or_default() += 1;
                    }
                }
                if !incoming_terms {
                    continue;
                }
                for (terms, counts) in [
                    (&pod.required_affinity, &mut s.affinity),
                    (&pod.required_anti_affinity, &mut s.anti_affinity),
                ] {
                    for t in terms {
                        if let Some(v) = labels.get(&t.topology_key)
                            && t.matches(&existing.pod, ns_labels)
                        {
                            *counts
                                .entry((t.topology_key.clone(), v.clone()))
                                .or_default() += 1;
                        }
                    }
                }
            }
        }
        s
    }
}

pub fn inter_pod_affinity(
    pod: &PodInfo,
    node: &NodeInfo,
    s: &InterPodAffinityState,
) -> FilterResult {
    let Some(n) = node.node.as_ref() else {
        return Ok(());
    };
    let labels = node_labels(n);
    let count = |counts: &TopologyCounts, key: &str| {
        labels
            .get(key)
            .and_then(|v| counts.get(&(key.to_string(), v.clone())))
            .copied()
            .unwrap_or(0)
    };
    if !s.existing_anti_affinity.is_empty()
        && labels.iter().any(|(k, v)| {
            s.existing_anti_affinity
                .get(&(k.clone(), v.clone()))
                .copied()
                .unwrap_or(0)
                > 0
        })
    {
        return Err(Rejection::new(
            INTER_POD_AFFINITY,
            ERR_EXISTING_ANTI_AFFINITY,
            true,
        ));
    }
    if !pod.required_affinity.is_empty() {
        let all_keys = pod
            .required_affinity
            .iter()
            .all(|t| labels.contains_key(&t.topology_key));
        let satisfied = all_keys
            && (pod
                .required_affinity
                .iter()
                .all(|t| count(&s.affinity, &t.topology_key) > 0)
                || (s.affinity.is_empty() && s.pod_matches_own_affinity));
        if !satisfied {
            return Err(Rejection::new(INTER_POD_AFFINITY, ERR_AFFINITY, false));
        }
    }
    if pod
        .required_anti_affinity
        .iter()
        .any(|t| count(&s.anti_affinity, &t.topology_key) > 0)
    {
        return Err(Rejection::new(INTER_POD_AFFINITY, ERR_ANTI_AFFINITY, true));
    }
    Ok(())
}

struct HardConstraint {
    max_skew: i64,
    min_domains: usize,
    topology_key: String,
    selector: Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
    self_match: i64,
}

/// PodTopologySpread's PreFilter state for DoNotSchedule constraints: matching pods per
/// topology pair over the nodes the pod could go to (node affinity honored, taints ignored).
#[derive(Default)]
pub struct SpreadFilterState {
    constraints: Vec<HardConstraint>,
    pair_counts: HashMap<(String, String), i64>,
    /// Per constraint: the global minimum its skew is measured against.
    min_matches: Vec<i64>,
}

impl SpreadFilterState {
    pub fn compute(pod: &PodInfo, cache: &Cache) -> Self {
        let Some(cs) = pod
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.topology_spread_constraints.as_ref())
        else {
            return SpreadFilterState::default();
        };
        let labels = crate::matching::pod_labels(&pod.pod);
        let constraints: Vec<HardConstraint> = cs
            .iter()
            .filter(|c| c.when_unsatisfiable == "DoNotSchedule")
            .map(|c| {
                let selector = crate::scores::constraint_selector(c, labels);
                let self_match = selector
                    .iter()
                    .all(|s| crate::matching::label_selector_matches(s, labels));
                HardConstraint {
                    max_skew: i64::from(c.max_skew),
                    min_domains: c.min_domains.unwrap_or(1).max(1) as usize,
                    topology_key: c.topology_key.clone(),
                    selector,
                    self_match: i64::from(self_match),
                }
            })
            .collect();
        let mut pair_counts = HashMap::new();
        if !constraints.is_empty() {
            for node in cache.nodes() {
                let Some(n) = node.node.as_ref() else {
                    continue;
                };
                let node_labels = node_labels(n);
                if !pod_matches_node_selector_and_affinity(&pod.pod, n)
                    || !constraints
                        .iter()
                        .all(|c| node_labels.contains_key(&c.topology_key))
                {
                    continue;
                }
                for c in &constraints {
                    let pair = (c.topology_key.clone(), node_labels[&c.topology_key].clone());
                    *pair_counts.entry(pair).or_default() +=
                        crate::scores::count_matching(node, &c.selector, pod.namespace());
                }
            }
        }
        // The smallest count over the constraint's domains, or 0 while there are fewer
        // domains than `minDomains`.
        let min_matches = constraints
            .iter()
            .map(|c| {
                let counts = pair_counts
                    .iter()
                    .filter(|((k, _), _)| *k == c.topology_key)
                    .map(|(_, n)| *n);
                let (domains, min) = counts.fold((0usize, i64::MAX), |(d, m), n| (d + 1, m.min(n)));
                if domains < c.min_domains || domains == 0 {
                    0
                } else {
                    min
                }
            })
            .collect();
        SpreadFilterState {
            constraints,
            pair_counts,
            min_matches,
        }
    }
}

pub fn pod_topology_spread(node: &NodeInfo, s: &SpreadFilterState) -> FilterResult {
    if s.constraints.is_empty() {
        return Ok(());
    }
    let Some(n) = node.node.as_ref() else {
        return Ok(());
    };
    let labels = node_labels(n);
    for (c, min_match) in s.constraints.iter().zip(&s.min_matches) {
        let Some(value) = labels.get(&c.topology_key) else {
            return Err(Rejection::new(
                POD_TOPOLOGY_SPREAD,
                ERR_SPREAD_MISSING_LABEL,
                false,
            ));
        };
        let matching = s
            .pair_counts
            .get(&(c.topology_key.clone(), value.clone()))
            .copied()
            .unwrap_or(0);
        if matching + c.self_match - min_match > c.max_skew {
            return Err(Rejection::new(POD_TOPOLOGY_SPREAD, ERR_SPREAD, true));
        }
    }
    Ok(())
}

/// PreFilter results the per-node filters read.
pub struct FilterState {
    pub affinity: InterPodAffinityState,
    pub spread: SpreadFilterState,
}

impl FilterState {
    pub fn compute(pod: &PodInfo, cache: &Cache, ns_labels: &NamespaceLabels) -> Self {
        FilterState {
            affinity: InterPodAffinityState::compute(pod, cache, ns_labels),
            spread: SpreadFilterState::compute(pod, cache),
        }
    }
}

/// Runs the filters in upstream's order; the first rejection wins, as in `RunFilterPlugins`.
pub fn run_filters(pod: &PodInfo, node: &NodeInfo, state: &FilterState) -> FilterResult {
    node_unschedulable(pod, node)?;
    node_name(pod, node)?;
    taint_toleration(pod, node)?;
    node_affinity(pod, node)?;
    node_ports(pod, node)?;
    node_resources_fit(pod, node)?;
    pod_topology_spread(node, &state.spread)?;
    inter_pod_affinity(pod, node, &state.affinity)
}
