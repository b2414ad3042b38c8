//! A bounded log of recent scheduling decisions, for a debug endpoint and for tests: why each
//! node was rejected or how it scored.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde::Serialize;

/// Per-node detail kept for one decision is bounded so that 10,000 decisions over 1,000 nodes
/// stay small: the best-scored nodes and a sample of the rejected ones (the reason counts cover
/// all nodes).
pub const MAX_SCORED_NODES: usize = 20;
pub const MAX_REJECTED_NODES: usize = 100;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PluginScore {
    pub plugin: &'static str,
    pub raw: i64,
    pub normalized: i64,
    pub weight: i64,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct NodeScore {
    pub node: String,
    pub scores: Vec<PluginScore>,
    /// Sum of normalized score times weight.
    pub total: i64,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct NodeRejection {
    pub node: String,
    /// The filter plugin that rejected the node.
    pub plugin: String,
    /// Kubernetes' reason texts, e.g. "Insufficient cpu".
    pub reasons: Vec<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    /// RFC 3339 time of the decision.
    pub time: String,
    /// Scheduling attempts of this pod so far, including this one.
    pub attempt: u32,
    /// The chosen node, or None when the pod did not fit.
    pub node: Option<String>,
    /// The FailedScheduling message when the pod did not fit.
    pub message: Option<String>,
    pub nodes_total: usize,
    pub nodes_evaluated: usize,
    pub nodes_feasible: usize,
    /// How many nodes each reason rejected (all evaluated nodes).
    pub rejection_counts: BTreeMap<String, usize>,
    pub rejected: Vec<NodeRejection>,
    /// Best scored nodes first.
    pub scored: Vec<NodeScore>,
}

#[derive(Default)]
struct Inner {
    order: VecDeque<Arc<Decision>>,
    latest: HashMap<(String, String), Arc<Decision>>,
}

/// The last `capacity` decisions; `get` answers the newest one of a pod.
pub struct DecisionLog {
    capacity: usize,
    inner: Mutex<Inner>,
}

impl DecisionLog {
    pub fn new(capacity: usize) -> DecisionLog {
        DecisionLog {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn record(&self, decision: Decision) {
        let decision = Arc::new(decision);
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.latest.insert(
            (decision.namespace.clone(), decision.name.clone()),
            decision.clone(),
        );
        inner.order.push_back(decision);
        while inner.order.len() > self.capacity {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            let key = (old.namespace.clone(), old.name.clone());
            if inner.latest.get(&key).is_some_and(|d| Arc::ptr_eq(d, &old)) {
                inner.latest.remove(&key);
            }
        }
    }

    pub fn get(&self, namespace: &str, name: &str) -> Option<Decision> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner
            .latest
            .get(&(namespace.to_string(), name.to_string()))
            .map(|d| (**d).clone())
    }

    /// Decisions held, oldest first.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .order
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
