//! One scheduling cycle over the cache (upstream `schedulePod`): find feasible nodes (only a
//! share of them in big clusters), score them, pick the best with random tie-breaking, or
//! explain with upstream's `FitError` text why no node fits.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use rand::Rng;

use crate::cache::{Cache, NodeInfo};
use crate::decisions::{Decision, NodeRejection, NodeScore, PluginScore};
use crate::decisions::{MAX_REJECTED_NODES, MAX_SCORED_NODES};
use crate::filters::{FilterState, Rejection, run_filters};
use crate::podinfo::{NamespaceLabels, PodInfo};
use crate::scores::{self, AffinityScoreState, SpreadState};

const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: usize = 5;

/// Message when the cluster has no nodes at all (upstream `ErrNoNodesAvailable`).
pub const NO_NODES_AVAILABLE: &str = "no nodes available to schedule pods";

/// Upstream `numFeasibleNodesToFind`: all nodes below 100, else the configured percentage or the
/// adaptive one (50% minus 1% per 125 nodes, at least 5%), but at least 100 nodes.
pub fn num_feasible_nodes_to_find(percentage: Option<u32>, num_all_nodes: usize) -> usize {
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND {
        return num_all_nodes;
    }
    let percentage = match percentage {
        Some(p) if p > 0 => (p as usize).min(100),
        _ => 50usize
            .saturating_sub(num_all_nodes / 125)
            .max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND),
    };
    (num_all_nodes * percentage / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
}

/// No node fits (upstream `FitError`).
#[derive(Clone, Debug)]
pub struct FitError {
    pub num_all_nodes: usize,
    pub rejections: Vec<(String, Rejection)>,
}

fn histogram<'a>(reasons: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in reasons {
        *counts.entry(r).or_default() += 1;
    }
    let mut parts: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
    // Upstream sorts the formatted "<count> <reason>" strings.
    parts.sort();
    parts
}

impl FitError {
    /// `0/N nodes are available: <reasons>. <preemption message>.`, the text of upstream's
    /// FailedScheduling events. Berth does not preempt; the preemption part says what upstream's
    /// DefaultPreemption says when no lower-priority victims exist.
    pub fn message(&self) -> String {
        if self.num_all_nodes == 0 {
            return NO_NODES_AVAILABLE.to_string();
        }
        let mut msg = format!("0/{} nodes are available:", self.num_all_nodes);
        let reasons = histogram(
            self.rejections
                .iter()
                .flat_map(|(_, r)| r.reasons.iter().map(String::as_str)),
        );
        if !reasons.is_empty() {
            msg.push_str(&format!(" {}.", reasons.join(", ")));
        }
        let preemption = histogram(self.rejections.iter().map(|(_, r)| {
            if r.resolvable {
                "No preemption victims found for incoming pod"
            } else {
                "Preemption is not helpful for scheduling"
            }
        }));
        msg.push_str(&format!(
            " preemption: 0/{} nodes are available: {}..",
            self.num_all_nodes,
            preemption.join(", ")
        ));
        msg
    }
}

/// What a cycle needs besides the cache.
pub struct CycleInput<'a> {
    pub pod: &'a PodInfo,
    pub namespace_labels: &'a NamespaceLabels,
    /// Selector of the services/controllers of the pod for the system default spreading; empty
    /// when none selects it.
    pub default_spread_selector: Vec<LabelSelector>,
    pub percentage_of_nodes_to_score: Option<u32>,
}

pub struct CycleResult {
    pub outcome: Result<String, FitError>,
    pub decision: Decision,
}

/// Runs one scheduling cycle. `next_start` is the round-robin index upstream keeps between
/// cycles so that different nodes get looked at when only a share is evaluated.
pub fn schedule(
    input: &CycleInput<'_>,
    cache: &Cache,
    next_start: &mut usize,
    rng: &mut impl Rng,
) -> CycleResult {
    let pod = input.pod;
    let names = cache.node_names();
    let total = names.len();
    let mut decision = Decision {
        namespace: pod.namespace().to_string(),
        name: pod.pod.metadata.name.clone().unwrap_or_default(),
        uid: pod.pod.metadata.uid.clone().unwrap_or_default(),
        time: jiff::Timestamp::now().to_string(),
        attempt: 0,
        node: None,
        message: None,
        nodes_total: total,
        nodes_evaluated: 0,
        nodes_feasible: 0,
        rejection_counts: BTreeMap::new(),
        rejected: Vec::new(),
        scored: Vec::new(),
    };
    if total == 0 {
        let err = FitError {
            num_all_nodes: 0,
            rejections: Vec::new(),
        };
        decision.message = Some(err.message());
        return CycleResult {
            outcome: Err(err),
            decision,
        };
    }

    let filter_state = FilterState::compute(pod, cache, input.namespace_labels);
    let wanted = num_feasible_nodes_to_find(input.percentage_of_nodes_to_score, total);
    let start = *next_start % total;
    let mut feasible: Vec<&NodeInfo> = Vec::new();
    let mut rejections: Vec<(String, Rejection)> = Vec::new();
    let mut evaluated = 0;
    for i in 0..total {
        if feasible.len() >= wanted {
            break;
        }
        let Some(node) = cache.node(&names[(start + i) % total]) else {
            continue;
        };
        evaluated += 1;
        match run_filters(pod, node, &filter_state) {
            Ok(()) => feasible.push(node),
            Err(r) => rejections.push((node.name.clone(), r)),
        }
    }
    *next_start = (start + evaluated) % total;
    decision.nodes_evaluated = evaluated;
    decision.nodes_feasible = feasible.len();
    for (node, r) in &rejections {
        for reason in &r.reasons {
            *decision.rejection_counts.entry(reason.clone()).or_default() += 1;
        }
        if decision.rejected.len() < MAX_REJECTED_NODES {
            decision.rejected.push(NodeRejection {
                node: node.clone(),
                plugin: r.plugin.to_string(),
                reasons: r.reasons.clone(),
            });
        }
    }

    if feasible.is_empty() {
        let err = FitError {
            num_all_nodes: total,
            rejections,
        };
        decision.message = Some(err.message());
        return CycleResult {
            outcome: Err(err),
            decision,
        };
    }

    let mut scored = score_nodes(input, cache, &feasible);
    let chosen = select_host(&scored, rng);
    decision.node = Some(chosen.clone());
    scored.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.node.cmp(&b.node)));
    scored.truncate(MAX_SCORED_NODES);
    decision.scored = scored;
    CycleResult {
        outcome: Ok(chosen),
        decision,
    }
}

/// Runs the score plugins over the feasible nodes and returns each node's scores.
pub fn score_nodes(
    input: &CycleInput<'_>,
    cache: &Cache,
    feasible: &[&NodeInfo],
) -> Vec<NodeScore> {
    let pod = input.pod;
    let names: Vec<&str> = feasible.iter().map(|n| n.name.as_str()).collect();
    let (constraints, system_defaulted) = match scores::pod_soft_constraints(pod) {
        Some(own) => (own, false),
        None if input.default_spread_selector.is_empty() => (Vec::new(), true),
        None => (
            scores::system_default_constraints(input.default_spread_selector.clone()),
            true,
        ),
    };
    let mut per_plugin: Vec<(&'static str, i64, Vec<i64>, Vec<i64>)> = Vec::new();
    for (plugin, weight) in scores::WEIGHTS {
        let raw: Vec<i64> = match plugin {
            scores::TAINT_TOLERATION => feasible
                .iter()
                .map(|n| scores::taint_toleration(pod, n))
                .collect(),
            scores::NODE_AFFINITY => feasible
                .iter()
                .map(|n| scores::node_affinity(pod, n))
                .collect(),
            scores::NODE_RESOURCES_FIT => feasible
                .iter()
                .map(|n| scores::least_allocated(pod, n))
                .collect(),
            scores::BALANCED_ALLOCATION => feasible
                .iter()
                .map(|n| scores::balanced_allocation(pod, n))
                .collect(),
            scores::POD_TOPOLOGY_SPREAD => {
                if constraints.is_empty() {
                    vec![0; feasible.len()]
                } else {
                    let state = SpreadState::compute(
                        pod,
                        constraints.clone(),
                        system_defaulted,
                        feasible,
                        cache,
                    );
                    let raw: Vec<i64> = feasible.iter().map(|n| state.score(pod, n)).collect();
                    let mut norm = raw.clone();
                    state.normalize(&names, &mut norm);
                    per_plugin.push((plugin, weight, raw, norm));
                    continue;
                }
            }
            scores::INTER_POD_AFFINITY => {
                let state = AffinityScoreState::compute(pod, cache, input.namespace_labels);
                let raw: Vec<i64> = feasible.iter().map(|n| state.score(n)).collect();
                let mut norm = raw.clone();
                state.normalize(&mut norm);
                per_plugin.push((plugin, weight, raw, norm));
                continue;
            }
            _ => continue,
        };
        let mut norm = raw.clone();
        match plugin {
            scores::TAINT_TOLERATION => scores::default_normalize(&mut norm, true),
            scores::NODE_AFFINITY => scores::default_normalize(&mut norm, false),
            _ => {}
        }
        per_plugin.push((plugin, weight, raw, norm));
    }
    feasible
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let scores: Vec<PluginScore> = per_plugin
                .iter()
                .map(|(plugin, weight, raw, norm)| PluginScore {
                    plugin,
                    raw: raw[i],
                    normalized: norm[i],
                    weight: *weight,
                })
                .collect();
            NodeScore {
                node: n.name.clone(),
                total: scores.iter().map(|s| s.normalized * s.weight).sum(),
                scores,
            }
        })
        .collect()
}

/// Upstream `selectHost`: the highest total, ties broken uniformly at random by reservoir
/// sampling.
pub fn select_host(scored: &[NodeScore], rng: &mut impl Rng) -> String {
    let mut best: Option<&NodeScore> = None;
    let mut ties = 0u32;
    for s in scored {
        match best {
            Some(b) if s.total < b.total => {}
            Some(b) if s.total == b.total => {
                ties += 1;
                if rng.random_range(0..ties) == 0 {
                    best = Some(s);
                }
            }
            _ => {
                best = Some(s);
                ties = 1;
            }
        }
    }
    best.map(|b| b.node.clone()).unwrap_or_default()
}
