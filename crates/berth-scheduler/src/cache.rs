//! The scheduler's view of the cluster (upstream `internal/cache`): nodes with the pods on them
//! and what those pods use, including pods assumed on a node before their binding lands.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod};

use crate::podinfo::{HostPort, PodInfo, pod_key};
use crate::resources::{Resources, node_allocatable};

/// One node and the pods on it (upstream `framework.NodeInfo`).
#[derive(Debug, Default)]
pub struct NodeInfo {
    pub name: String,
    /// None while pods name a node the informer has not delivered (or after it was deleted).
    pub node: Option<Arc<Node>>,
    pub allocatable: Resources,
    pub allowed_pods: i64,
    pub pods: HashMap<String, Arc<PodInfo>>,
    /// Sum of the pods' requests (NodeResourcesFit filter, BalancedAllocation).
    pub requested: Resources,
    /// Sum of the pods' requests with defaults for missing cpu/memory (LeastAllocated).
    pub non_zero_milli_cpu: i64,
    pub non_zero_memory: i64,
    pub used_ports: Vec<HostPort>,
    pub pods_with_affinity: usize,
}

impl NodeInfo {
    pub fn new_for_node(node: Arc<Node>) -> NodeInfo {
        let mut info = NodeInfo {
            name: node.metadata.name.clone().unwrap_or_default(),
            ..NodeInfo::default()
        };
        info.set_node(node);
        info
    }

    pub fn set_node(&mut self, node: Arc<Node>) {
        let (allocatable, pods) = node_allocatable(&node);
        self.allocatable = allocatable;
        self.allowed_pods = pods;
        self.node = Some(node);
    }

    pub fn add_pod(&mut self, pod: Arc<PodInfo>) {
        if let Some(old) = self.pods.remove(&pod.key) {
            self.account(&old, false);
        }
        self.account(&pod, true);
        self.pods.insert(pod.key.clone(), pod);
    }

    pub fn remove_pod(&mut self, key: &str) -> Option<Arc<PodInfo>> {
        let old = self.pods.remove(key)?;
        self.account(&old, false);
        Some(old)
    }

    fn account(&mut self, pod: &PodInfo, add: bool) {
        let r = &pod.resources;
        if add {
            self.requested.add(&r.requests);
            self.non_zero_milli_cpu += r.non_zero_milli_cpu;
            self.non_zero_memory += r.non_zero_memory;
            self.used_ports.extend(pod.host_ports.iter().cloned());
            if pod.has_affinity() {
                self.pods_with_affinity += 1;
            }
        } else {
            self.requested.sub(&r.requests);
            self.non_zero_milli_cpu -= r.non_zero_milli_cpu;
            self.non_zero_memory -= r.non_zero_memory;
            for p in &pod.host_ports {
                if let Some(i) = self.used_ports.iter().position(|u| u == p) {
                    self.used_ports.swap_remove(i);
                }
            }
            if pod.has_affinity() {
                self.pods_with_affinity -= 1;
            }
        }
    }
}

struct PodState {
    node: String,
    assumed: bool,
    /// The binding of an assumed pod succeeded; the informer has yet to show it bound.
    bound: bool,
}

/// Nodes and assigned pods. Nodes are kept in a stable order for upstream's round-robin
/// start index when only a share of the nodes is looked at.
#[derive(Default)]
pub struct Cache {
    nodes: HashMap<String, NodeInfo>,
    order: Vec<String>,
    pods: HashMap<String, PodState>,
}

/// Pods that count against a node: bound and not finished (a kubelet frees the resources of
/// Succeeded and Failed pods).
pub fn is_assigned_and_active(pod: &Pod) -> bool {
    let bound = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty());
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    bound && !matches!(phase, Some("Succeeded") | Some("Failed"))
}

impl Cache {
    pub fn node_names(&self) -> &[String] {
        &self.order
    }

    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.nodes.get(name).filter(|n| n.node.is_some())
    }

    pub fn nodes(&self) -> impl Iterator<Item = &NodeInfo> {
        self.order.iter().filter_map(|n| self.node(n))
    }

    pub fn node_count(&self) -> usize {
        self.order.len()
    }

    /// Adds or updates a node; returns whether something the filters look at changed.
    pub fn upsert_node(&mut self, node: Arc<Node>) -> bool {
        let name = node.metadata.name.clone().unwrap_or_default();
        match self.nodes.get_mut(&name) {
            Some(info) => {
                let changed = info.node.as_ref().is_none_or(|old| {
                    old.metadata.labels != node.metadata.labels
                        || old.spec != node.spec
                        || old.status.as_ref().map(|s| &s.allocatable)
                            != node.status.as_ref().map(|s| &s.allocatable)
                });
                if info.node.is_none() {
                    self.order.push(name.clone());
                }
                info.set_node(node);
                changed
            }
            None => {
                self.nodes
                    .insert(name.clone(), NodeInfo::new_for_node(node));
                self.order.push(name);
                true
            }
        }
    }

    pub fn remove_node(&mut self, name: &str) {
        self.order.retain(|n| n != name);
        if let Some(info) = self.nodes.get_mut(name) {
            info.node = None;
            if info.pods.is_empty() {
                self.nodes.remove(name);
            }
        }
    }

    /// Replaces the node set after a re-list.
    pub fn replace_nodes(&mut self, nodes: Vec<Arc<Node>>) {
        let names: std::collections::HashSet<String> = nodes
            .iter()
            .filter_map(|n| n.metadata.name.clone())
            .collect();
        let stale: Vec<String> = self
            .order
            .iter()
            .filter(|n| !names.contains(*n))
            .cloned()
            .collect();
        for n in stale {
            self.remove_node(&n);
        }
        for n in nodes {
            self.upsert_node(n);
        }
    }

    fn place(&mut self, node: &str, info: Arc<PodInfo>) {
        self.nodes
            .entry(node.to_string())
            .or_insert_with(|| NodeInfo {
                name: node.to_string(),
                ..NodeInfo::default()
            })
            .add_pod(info);
    }

    fn unplace(&mut self, node: &str, key: &str) {
        if let Some(info) = self.nodes.get_mut(node) {
            info.remove_pod(key);
            if info.node.is_none() && info.pods.is_empty() {
                self.nodes.remove(node);
            }
        }
    }

    /// Puts a pod on the node the scheduler chose before the binding is confirmed.
    pub fn assume(&mut self, info: Arc<PodInfo>, node: &str) {
        let key = info.key.clone();
        if let Some(old) = self.pods.remove(&key) {
            self.unplace(&old.node, &key);
        }
        self.place(node, info);
        self.pods.insert(
            key,
            PodState {
                node: node.to_string(),
                assumed: true,
                bound: false,
            },
        );
    }

    /// Drops an assumption whose binding failed.
    pub fn forget(&mut self, key: &str) {
        if self.pods.get(key).is_some_and(|s| s.assumed)
            && let Some(state) = self.pods.remove(key)
        {
            self.unplace(&state.node, key);
        }
    }

    /// Applies a pod seen by the informer: bound active pods are placed on their node
    /// (confirming an assumption), bound finished pods are removed.
    pub fn apply_pod(&mut self, pod: Arc<Pod>) {
        let key = pod_key(&pod);
        let bound = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .is_some_and(|n| !n.is_empty());
        // An unbound pod may be assumed while its binding is in flight: leave that alone.
        if !bound {
            return;
        }
        if !is_assigned_and_active(&pod) {
            self.remove_pod(&key);
            return;
        }
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default();
        if let Some(old) = self.pods.remove(&key) {
            self.unplace(&old.node, &key);
        }
        self.place(&node, Arc::new(PodInfo::new(pod)));
        self.pods.insert(
            key,
            PodState {
                node,
                assumed: false,
                bound: false,
            },
        );
    }

    /// Removes a pod; returns whether the cache held it.
    pub fn remove_pod(&mut self, key: &str) -> bool {
        match self.pods.remove(key) {
            Some(state) => {
                self.unplace(&state.node, key);
                true
            }
            None => false,
        }
    }

    /// Marks an assumed pod's binding as done (upstream `FinishBinding`).
    pub fn finish_binding(&mut self, key: &str) {
        if let Some(s) = self.pods.get_mut(key) {
            s.bound = true;
        }
    }

    /// Replaces all confirmed pods after a re-list. Assumed pods whose binding is still in
    /// flight stay; assumed pods already bound are dropped too, as the list shows them bound
    /// if they still exist (upstream expires such assumptions instead).
    pub fn replace_pods(&mut self, pods: Vec<Arc<Pod>>) {
        let confirmed: Vec<String> = self
            .pods
            .iter()
            .filter(|(_, s)| !s.assumed || s.bound)
            .map(|(k, _)| k.clone())
            .collect();
        for key in confirmed {
            self.remove_pod(&key);
        }
        for pod in pods {
            self.apply_pod(pod);
        }
    }

    pub fn is_assumed(&self, key: &str) -> bool {
        self.pods.get(key).is_some_and(|s| s.assumed)
    }
}
