//! Score plugins of the default profile with upstream's formulas, normalizations and weights.
//! ImageLocality is not run: simulated and Berth nodes report no image lists.

use std::collections::{HashMap, HashSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::cache::{Cache, NodeInfo};
use crate::matching::{label_selector_matches, node_labels, pod_labels, taints, tolerations};
use crate::podinfo::{NamespaceLabels, PodInfo};

pub const MAX_NODE_SCORE: i64 = 100;

pub const NODE_RESOURCES_FIT: &str = "NodeResourcesFit";
pub const BALANCED_ALLOCATION: &str = "NodeResourcesBalancedAllocation";
pub const TAINT_TOLERATION: &str = "TaintToleration";
pub const NODE_AFFINITY: &str = "NodeAffinity";
pub const POD_TOPOLOGY_SPREAD: &str = "PodTopologySpread";
pub const INTER_POD_AFFINITY: &str = "InterPodAffinity";

/// Score plugins and their weights in the v1.33 default profile.
pub const WEIGHTS: [(&str, i64); 6] = [
    (TAINT_TOLERATION, 3),
    (NODE_AFFINITY, 2),
    (POD_TOPOLOGY_SPREAD, 2),
    (INTER_POD_AFFINITY, 2),
    (NODE_RESOURCES_FIT, 1),
    (BALANCED_ALLOCATION, 1),
];

pub const LABEL_HOSTNAME: &str = "kubernetes.io/hostname";
pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";

/// Upstream `leastRequestedScore`.
pub fn least_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}

/// NodeResourcesFit with the LeastAllocated strategy over cpu and memory (weight 1 each),
/// counting pods without requests at upstream's non-zero defaults.
pub fn least_allocated(pod: &PodInfo, node: &NodeInfo) -> i64 {
    let mut total = 0;
    let mut weights = 0;
    for (alloc, req) in [
        (
            node.allocatable.milli_cpu,
            node.non_zero_milli_cpu + pod.resources.non_zero_milli_cpu,
        ),
        (
            node.allocatable.memory,
            node.non_zero_memory + pod.resources.non_zero_memory,
        ),
    ] {
        // Resources the node does not offer are left out (upstream skips zero allocatable).
        if alloc == 0 {
            continue;
        }
        total += least_requested_score(req, alloc);
        weights += 1;
    }
    if weights == 0 { 0 } else { total / weights }
}

/// Upstream `balancedResourceScorer`: `(1 - std) * 100` over the requested fractions.
pub fn balanced_resource_score(requested: &[i64], allocatable: &[i64]) -> i64 {
    let fractions: Vec<f64> = requested
        .iter()
        .zip(allocatable)
        .filter(|(_, a)| **a != 0)
        .map(|(r, a)| (*r as f64 / *a as f64).min(1.0))
        .collect();
    let std = match fractions.len() {
        0 | 1 => 0.0,
        2 => ((fractions[0] - fractions[1]) / 2.0).abs(),
        n => {
            let mean = fractions.iter().sum::<f64>() / n as f64;
            (fractions
                .iter()
                .map(|f| (f - mean) * (f - mean))
                .sum::<f64>()
                / n as f64)
                .sqrt()
        }
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

/// NodeResourcesBalancedAllocation over cpu and memory with the pods' actual requests.
pub fn balanced_allocation(pod: &PodInfo, node: &NodeInfo) -> i64 {
    let req = &pod.resources.requests;
    balanced_resource_score(
        &[
            node.requested.milli_cpu + req.milli_cpu,
            node.requested.memory + req.memory,
        ],
        &[node.allocatable.milli_cpu, node.allocatable.memory],
    )
}

/// TaintToleration: PreferNoSchedule taints the pod does not tolerate (tolerations with an
/// empty effect or PreferNoSchedule count). Normalized reversed.
pub fn taint_toleration(pod: &PodInfo, node: &NodeInfo) -> i64 {
    let Some(n) = node.node.as_ref() else {
        return 0;
    };
    let tols: Vec<_> = tolerations(&pod.pod)
        .iter()
        .filter(|t| {
            matches!(
                t.effect.as_deref(),
                None | Some("") | Some("PreferNoSchedule")
            )
        })
        .collect();
    taints(n)
        .iter()
        .filter(|taint| taint.effect == "PreferNoSchedule")
        .filter(|taint| {
            !tols
                .iter()
                .any(|t| crate::matching::toleration_tolerates(t, taint))
        })
        .count() as i64
}

/// NodeAffinity: the sum of the weights of the preferred terms the node matches.
pub fn node_affinity(pod: &PodInfo, node: &NodeInfo) -> i64 {
    let Some(n) = node.node.as_ref() else {
        return 0;
    };
    pod.pod
        .spec
        .as_ref()
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|na| {
            na.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .into_iter()
        .flatten()
        .filter(|t| t.weight != 0 && crate::matching::node_selector_term_matches(&t.preference, n))
        .map(|t| i64::from(t.weight))
        .sum()
}

/// Upstream `DefaultNormalizeScore`.
pub fn default_normalize(scores: &mut [i64], reverse: bool) {
    let max = scores.iter().copied().max().unwrap_or(0).max(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = MAX_NODE_SCORE);
        }
        return;
    }
    for s in scores.iter_mut() {
        let v = MAX_NODE_SCORE * *s / max;
        *s = if reverse { MAX_NODE_SCORE - v } else { v };
    }
}

/// A soft spreading constraint; `selector` is a conjunction (all must match).
#[derive(Clone, Debug)]
pub struct SpreadConstraint {
    pub max_skew: i32,
    pub topology_key: String,
    pub selector: Vec<LabelSelector>,
}

/// The cluster-level default constraints (upstream `systemDefaultConstraints`), used for pods
/// without their own constraints when services or controllers select them.
pub fn system_default_constraints(selector: Vec<LabelSelector>) -> Vec<SpreadConstraint> {
    vec![
        SpreadConstraint {
            max_skew: 3,
            topology_key: LABEL_HOSTNAME.into(),
            selector: selector.clone(),
        },
        SpreadConstraint {
            max_skew: 5,
            topology_key: LABEL_ZONE.into(),
            selector,
        },
    ]
}

/// The pod's own ScheduleAnyway constraints (with matchLabelKeys folded into the selector), or
/// None when it has no constraints at all (so the system defaults apply).
pub fn pod_soft_constraints(pod: &PodInfo) -> Option<Vec<SpreadConstraint>> {
    let cs = pod
        .pod
        .spec
        .as_ref()?
        .topology_spread_constraints
        .as_ref()?;
    if cs.is_empty() {
        return None;
    }
    let labels = pod_labels(&pod.pod);
    Some(
        cs.iter()
            .filter(|c| c.when_unsatisfiable == "ScheduleAnyway")
            .map(|c| SpreadConstraint {
                max_skew: c.max_skew,
                topology_key: c.topology_key.clone(),
                selector: constraint_selector(c, labels),
            })
            .collect(),
    )
}

/// A constraint's selector with `matchLabelKeys` folded in (the pod's values for those keys).
pub fn constraint_selector(
    c: &k8s_openapi::api::core::v1::TopologySpreadConstraint,
    pod_labels: &crate::matching::Labels,
) -> Vec<LabelSelector> {
    match &c.label_selector {
        Some(sel) => {
            let mut sel = sel.clone();
            for key in c.match_label_keys.iter().flatten() {
                if let Some(v) = pod_labels.get(key) {
                    sel.match_labels
                        .get_or_insert_with(Default::default)
                        .insert(key.clone(), v.clone());
                }
            }
            vec![sel]
        }
        // A nil selector selects nothing: a requirement with no valid operator never matches.
        None => vec![LabelSelector {
            match_expressions: Some(vec![Default::default()]),
            ..Default::default()
        }],
    }
}

pub fn count_matching(node: &NodeInfo, selector: &[LabelSelector], namespace: &str) -> i64 {
    node.pods
        .values()
        .filter(|p| {
            !p.is_terminating()
                && p.namespace() == namespace
                && selector
                    .iter()
                    .all(|s| label_selector_matches(s, pod_labels(&p.pod)))
        })
        .count() as i64
}

/// PodTopologySpread scoring state (upstream `preScoreState`).
pub struct SpreadState {
    pub constraints: Vec<SpreadConstraint>,
    /// Nodes without all topology keys (only when the pod's own constraints are used).
    pub ignored: HashSet<String>,
    pub pair_counts: HashMap<(String, String), i64>,
    pub weights: Vec<f64>,
}

impl SpreadState {
    pub fn compute(
        pod: &PodInfo,
        constraints: Vec<SpreadConstraint>,
        system_defaulted: bool,
        feasible: &[&NodeInfo],
        cache: &Cache,
    ) -> SpreadState {
        let require_all = !system_defaulted;
        let has_all_keys = |labels: &crate::matching::Labels| {
            constraints
                .iter()
                .all(|c| labels.contains_key(&c.topology_key))
        };
        let mut ignored = HashSet::new();
        let mut pair_counts: HashMap<(String, String), i64> = HashMap::new();
        let mut sizes = vec![0usize; constraints.len()];
        for node in feasible {
            let Some(n) = node.node.as_ref() else {
                continue;
            };
            let labels = node_labels(n);
            if require_all && !has_all_keys(labels) {
                ignored.insert(node.name.clone());
                continue;
            }
            for (i, c) in constraints.iter().enumerate() {
                if c.topology_key == LABEL_HOSTNAME {
                    continue;
                }
                let value = labels.get(&c.topology_key).cloned().unwrap_or_default();
                if let std::collections::hash_map::Entry::Vacant(e) =
                    pair_counts.entry((c.topology_key.clone(), value))
                {
                    e.insert(0);
                    sizes[i] += 1;
                }
            }
        }
        let weights = constraints
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let size = if c.topology_key == LABEL_HOSTNAME {
                    feasible.len() - ignored.len()
                } else {
                    sizes[i]
                };
                ((size + 2) as f64).ln()
            })
            .collect();
        // Pods are counted on every node the pod could go to by its node selector/affinity
        // (nodeAffinityPolicy Honor, nodeTaintsPolicy Ignore: the defaults).
        let ns = pod.namespace();
        for node in cache.nodes() {
            let Some(n) = node.node.as_ref() else {
                continue;
            };
            if !crate::matching::pod_matches_node_selector_and_affinity(&pod.pod, n) {
                continue;
            }
            let labels = node_labels(n);
            if require_all && !has_all_keys(labels) {
                continue;
            }
            for c in &constraints {
                if c.topology_key == LABEL_HOSTNAME {
                    continue;
                }
                let value = labels.get(&c.topology_key).cloned().unwrap_or_default();
                if let Some(count) = pair_counts.get_mut(&(c.topology_key.clone(), value)) {
                    *count += count_matching(node, &c.selector, ns);
                }
            }
        }
        SpreadState {
            constraints,
            ignored,
            pair_counts,
            weights,
        }
    }

    pub fn score(&self, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let Some(n) = node.node.as_ref() else {
            return 0;
        };
        if self.ignored.contains(&node.name) {
            return 0;
        }
        let labels = node_labels(n);
        let mut score = 0.0;
        for (i, c) in self.constraints.iter().enumerate() {
            let Some(value) = labels.get(&c.topology_key) else {
                continue;
            };
            let count = if c.topology_key == LABEL_HOSTNAME {
                count_matching(node, &c.selector, pod.namespace())
            } else {
                self.pair_counts
                    .get(&(c.topology_key.clone(), value.clone()))
                    .copied()
                    .unwrap_or(0)
            };
            score += count as f64 * self.weights[i] + f64::from(c.max_skew - 1);
        }
        score.round() as i64
    }

    /// Fewer matching pods is better: `100 * (max + min - s) / max`, ignored nodes 0.
    pub fn normalize(&self, names: &[&str], scores: &mut [i64]) {
        let mut min = i64::MAX;
        let mut max = 0;
        for (name, s) in names.iter().zip(scores.iter()) {
            if self.ignored.contains(*name) {
                continue;
            }
            min = min.min(*s);
            max = max.max(*s);
        }
        for (name, s) in names.iter().zip(scores.iter_mut()) {
            if self.ignored.contains(*name) {
                *s = 0;
            } else if max == 0 {
                *s = MAX_NODE_SCORE;
            } else {
                *s = MAX_NODE_SCORE * (max + min - *s) / max;
            }
        }
    }
}

/// InterPodAffinity scoring state: weights per topology pair (upstream `scoreMap`).
#[derive(Default)]
pub struct AffinityScoreState {
    pub topology_scores: HashMap<String, HashMap<String, i64>>,
}

/// Existing pods' required affinity terms count this much towards pods they select (upstream
/// `hardPodAffinityWeight` default).
const HARD_POD_AFFINITY_WEIGHT: i64 = 1;

impl AffinityScoreState {
    pub fn compute(pod: &PodInfo, cache: &Cache, ns_labels: &NamespaceLabels) -> Self {
        let mut s = AffinityScoreState::default();
        let has_constraints =
            !pod.preferred_affinity.is_empty() || !pod.preferred_anti_affinity.is_empty();
        for node in cache.nodes() {
            let Some(n) = node.node.as_ref() else {
                continue;
            };
            let labels = node_labels(n);
            if labels.is_empty() || (!has_constraints && node.pods_with_affinity == 0) {
                continue;
            }
            for existing in node.pods.values() {
                if !has_constraints && !existing.has_affinity() {
                    continue;
                }
                let mut add = |key: &str, weight: i64| {
                    if let Some(v) = labels.get(key) {
                        *s.topology_scores
                            .entry(key.to_string())
                            .or_default()
                            .entry(v.clone())
                            .or_default() += weight;
                    }
                };
                for t in &pod.preferred_affinity {
                    if t.matches(&existing.pod, ns_labels) {
                        add(&t.topology_key, i64::from(t.weight));
                    }
                }
                for t in &pod.preferred_anti_affinity {
                    if t.matches(&existing.pod, ns_labels) {
                        add(&t.topology_key, -i64::from(t.weight));
                    }
                }
                for t in &existing.required_affinity {
                    if t.matches(&pod.pod, ns_labels) {
                        add(&t.topology_key, HARD_POD_AFFINITY_WEIGHT);
                    }
                }
                for t in &existing.preferred_affinity {
                    if t.matches(&pod.pod, ns_labels) {
                        add(&t.topology_key, i64::from(t.weight));
                    }
                }
                for t in &existing.preferred_anti_affinity {
                    if t.matches(&pod.pod, ns_labels) {
                        add(&t.topology_key, -i64::from(t.weight));
                    }
                }
            }
        }
        s
    }

    pub fn score(&self, node: &NodeInfo) -> i64 {
        let Some(n) = node.node.as_ref() else {
            return 0;
        };
        let labels = node_labels(n);
        self.topology_scores
            .iter()
            .filter_map(|(key, values)| labels.get(key).and_then(|v| values.get(v)))
            .sum()
    }

    /// Min-max scaling to 0..100 (all 0 when every node scores the same).
    pub fn normalize(&self, scores: &mut [i64]) {
        if self.topology_scores.is_empty() {
            return;
        }
        let min = scores.iter().copied().min().unwrap_or(0);
        let max = scores.iter().copied().max().unwrap_or(0);
        let diff = max - min;
        for s in scores.iter_mut() {
            *s = if diff > 0 {
                (MAX_NODE_SCORE as f64 * ((*s - min) as f64 / diff as f64)) as i64
            } else {
                0
            };
        }
    }
}
