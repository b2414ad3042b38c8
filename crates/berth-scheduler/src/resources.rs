//! Resource arithmetic of the scheduler: a pod's effective requests (upstream
//! `resourcehelper.PodRequests`: containers summed, init containers' maximum, sidecars, overhead)
//! and a node's allocatable, in the units upstream compares (milli-CPU, bytes, counts).

use std::collections::BTreeMap;

use berth_apimachinery::quantity;
use k8s_openapi::api::core::v1::{Container, Node, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

pub const CPU: &str = "cpu";
pub const MEMORY: &str = "memory";
pub const EPHEMERAL_STORAGE: &str = "ephemeral-storage";
pub const PODS: &str = "pods";

/// Requests assumed for a container without a cpu request when scoring (upstream
/// `DefaultMilliCPURequest`).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Requests assumed for a container without a memory request when scoring (200 MiB, upstream
/// `DefaultMemoryRequest`).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// An amount of each resource: cpu in milli-cores, memory and ephemeral storage in bytes, other
/// (scalar/extended) resources by their integer value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    pub milli_cpu: i64,
    pub memory: i64,
    pub ephemeral_storage: i64,
    pub scalar: BTreeMap<String, i64>,
}

impl Resources {
    /// Reads a resource list (requests, limits, allocatable, overhead). Unparseable quantities
    /// count as zero; the API server has validated them already.
    pub fn from_list(list: &BTreeMap<String, Quantity>) -> Resources {
        let mut r = Resources::default();
        for (name, q) in list {
            r.set(name, q);
        }
        r
    }

    fn set(&mut self, name: &str, q: &Quantity) {
        let Ok(parsed) = quantity::parse(&q.0) else {
            return;
        };
        match name {
            CPU => self.milli_cpu = parsed.milli_value(),
            MEMORY => self.memory = parsed.value(),
            EPHEMERAL_STORAGE => self.ephemeral_storage = parsed.value(),
            PODS => {}
            other => {
                self.scalar.insert(other.to_string(), parsed.value());
            }
        }
    }

    pub fn add(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.saturating_add(other.milli_cpu);
        self.memory = self.memory.saturating_add(other.memory);
        self.ephemeral_storage = self
            .ephemeral_storage
            .saturating_add(other.ephemeral_storage);
        for (k, v) in &other.scalar {
            let e = self.scalar.entry(k.clone()).or_insert(0);
            *e = e.saturating_add(*v);
        }
    }

    pub fn sub(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.saturating_sub(other.milli_cpu);
        self.memory = self.memory.saturating_sub(other.memory);
        self.ephemeral_storage = self
            .ephemeral_storage
            .saturating_sub(other.ephemeral_storage);
        for (k, v) in &other.scalar {
            let e = self.scalar.entry(k.clone()).or_insert(0);
            *e = e.saturating_sub(*v);
        }
    }

    /// Each resource the larger of the two.
    pub fn set_max(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.max(other.milli_cpu);
        self.memory = self.memory.max(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(other.ephemeral_storage);
        for (k, v) in &other.scalar {
            let e = self.scalar.entry(k.clone()).or_insert(0);
            *e = (*e).max(*v);
        }
    }

    pub fn is_zero(&self) -> bool {
        self.milli_cpu == 0
            && self.memory == 0
            && self.ephemeral_storage == 0
            && self.scalar.values().all(|v| *v == 0)
    }
}

/// What the scheduler needs of a pod's resources, computed once per pod.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodResources {
    /// Effective requests, as used by the NodeResourcesFit filter and BalancedAllocation.
    pub requests: Resources,
    /// cpu and memory with upstream's defaults for containers that request none (used by the
    /// LeastAllocated score and a node's `NonZeroRequested`).
    pub non_zero_milli_cpu: i64,
    pub non_zero_memory: i64,
}

fn container_requests(c: &Container) -> Resources {
    c.resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .map(Resources::from_list)
        .unwrap_or_default()
}

/// Requests with the non-zero defaults applied to cpu and memory when the container leaves them
/// out (upstream `NonMissingContainerRequests`: only missing entries are defaulted, an explicit
/// zero stays zero).
fn container_non_zero(c: &Container) -> Resources {
    let mut r = container_requests(c);
    let requests = c.resources.as_ref().and_then(|r| r.requests.as_ref());
    let has = |name: &str| requests.is_some_and(|m| m.contains_key(name));
    if !has(CPU) {
        r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
    }
    if !has(MEMORY) {
        r.memory = DEFAULT_MEMORY_REQUEST;
    }
    r
}

/// Upstream `PodRequests`: regular containers run together; init containers run one at a time
/// before them, except restartable (sidecar) init containers which keep running; overhead is
/// added on top.
fn pod_requests_with(pod: &Pod, per_container: impl Fn(&Container) -> Resources) -> Resources {
    let Some(spec) = pod.spec.as_ref() else {
        return Resources::default();
    };
    let mut reqs = Resources::default();
    for c in &spec.containers {
        reqs.add(&per_container(c));
    }
    let mut restartable = Resources::default();
    let mut init_max = Resources::default();
    for c in spec.init_containers.iter().flatten() {
        let r = per_container(c);
        let mut during = restartable.clone();
        if c.restart_policy.as_deref() == Some("Always") {
            reqs.add(&r);
            restartable.add(&r);
            during = restartable.clone();
        } else {
            during.add(&r);
        }
        init_max.set_max(&during);
    }
    reqs.set_max(&init_max);
    if let Some(overhead) = spec.overhead.as_ref() {
        reqs.add(&Resources::from_list(overhead));
    }
    reqs
}

pub fn pod_resources(pod: &Pod) -> PodResources {
    let requests = pod_requests_with(pod, container_requests);
    let non_zero = pod_requests_with(pod, container_non_zero);
    PodResources {
        requests,
        non_zero_milli_cpu: non_zero.milli_cpu,
        non_zero_memory: non_zero.memory,
    }
}

/// A node's allocatable resources and pod count (allocatable falls back to capacity, as the
/// kubelet reports both).
pub fn node_allocatable(node: &Node) -> (Resources, i64) {
    let status = node.status.as_ref();
    let list = status
        .and_then(|s| s.allocatable.as_ref())
        .or_else(|| status.and_then(|s| s.capacity.as_ref()));
    let Some(list) = list else {
        return (Resources::default(), 0);
    };
    let pods = list
        .get(PODS)
        .and_then(|q| quantity::parse(&q.0).ok())
        .map(|q| q.value())
        .unwrap_or(0);
    (Resources::from_list(list), pods)
}
