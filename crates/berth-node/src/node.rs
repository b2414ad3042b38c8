//! The Node object and its heartbeat (kubelet's `kubelet_node_status.go` and node lease
//! controller): registration with labels, capacity, addresses and node info; the Lease in
//! `kube-node-lease` renewed every 10 s; status posted when it changes (or every 5 minutes).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::{
    Node, NodeAddress, NodeCondition, NodeSpec, NodeStatus, NodeSystemInfo,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, OwnerReference, Time};
use kube::api::{Api, Patch, PatchParams, PostParams};
use tokio::sync::watch;

use crate::agent::AgentContext;
use crate::error::{NodeError, is_conflict, is_not_found};
use crate::machine;

pub const LEASE_NAMESPACE: &str = "kube-node-lease";
const LEASE_RENEW_INTERVAL: Duration = Duration::from_secs(10);
const STATUS_REPORT_INTERVAL: Duration = Duration::from_secs(300);
/// Memory kept back from allocatable (kubelet's default eviction threshold
/// `memory.available<100Mi`).
const EVICTION_MEMORY_BYTES: u64 = 100 * 1024 * 1024;
/// Share of ephemeral storage kept back (`nodefs.available<10%`).
const EVICTION_NODEFS_PERCENT: u64 = 10;
pub const KUBELET_VERSION: &str = "v1.33.0";

fn now_time() -> Time {
    Time(jiff::Timestamp::now())
}

/// The node's labels (kubelet's well-known ones plus the configured ones).
fn labels(ctx: &AgentContext) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        (
            "kubernetes.io/hostname".to_string(),
            ctx.config.node_name.clone(),
        ),
        ("kubernetes.io/os".to_string(), "linux".to_string()),
        (
            "kubernetes.io/arch".to_string(),
            machine::go_arch().to_string(),
        ),
        ("beta.kubernetes.io/os".to_string(), "linux".to_string()),
        (
            "beta.kubernetes.io/arch".to_string(),
            machine::go_arch().to_string(),
        ),
    ]);
    labels.extend(ctx.config.node_labels.clone());
    labels
}

fn quantities(cpu: u64, memory: u64, storage: u64, pods: u32) -> BTreeMap<String, Quantity> {
    BTreeMap::from([
        ("cpu".to_string(), Quantity(cpu.to_string())),
        (
            "memory".to_string(),
            Quantity(format!("{}Ki", memory / 1024)),
        ),
        (
            "ephemeral-storage".to_string(),
            Quantity(storage.to_string()),
        ),
        ("pods".to_string(), Quantity(pods.to_string())),
        ("hugepages-1Gi".to_string(), Quantity("0".to_string())),
        ("hugepages-2Mi".to_string(), Quantity("0".to_string())),
    ])
}

fn condition(type_: &str, status: bool, reason: &str, message: String) -> NodeCondition {
    NodeCondition {
        type_: type_.to_string(),
        status: if status { "True" } else { "False" }.to_string(),
        reason: Some(reason.to_string()),
        message: Some(message),
        last_heartbeat_time: Some(now_time()),
        last_transition_time: Some(now_time()),
    }
}

/// The node status as kubelet reports it; `previous` keeps transition times.
pub fn node_status(ctx: &AgentContext, previous: Option<&NodeStatus>) -> NodeStatus {
    let m = &ctx.machine;
    let capacity = quantities(
        m.cpus as u64,
        m.memory_bytes,
        m.ephemeral_storage_bytes,
        ctx.config.max_pods,
    );
    let allocatable = quantities(
        m.cpus as u64,
        m.memory_bytes.saturating_sub(EVICTION_MEMORY_BYTES),
        m.ephemeral_storage_bytes * (100 - EVICTION_NODEFS_PERCENT) / 100,
        ctx.config.max_pods,
    );
    let network_ok = !ctx.network.is_host_mode();
    let mut conditions = vec![
        condition(
            "MemoryPressure",
            false,
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available".into(),
        ),
        condition(
            "DiskPressure",
            false,
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure".into(),
        ),
        condition(
            "PIDPressure",
            false,
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available".into(),
        ),
        condition(
            "Ready",
            true,
            "KubeletReady",
            "kubelet is posting ready status".into(),
        ),
        condition(
            "NetworkUnavailable",
            false,
            if network_ok {
                "RouteCreated"
            } else {
                "HostNetwork"
            },
            ctx.network.describe(),
        ),
        condition(
            "CgroupsUnavailable",
            !ctx.cgroups.available(),
            if ctx.cgroups.available() {
                "CgroupsAvailable"
            } else {
                "CgroupsUnusable"
            },
            ctx.cgroups.describe(),
        ),
    ];
    if let Some(prev) = previous.and_then(|p| p.conditions.as_ref()) {
        for c in &mut conditions {
            if let Some(old) = prev.iter().find(|o| o.type_ == c.type_)
                && old.status == c.status
            {
                c.last_transition_time = old.last_transition_time.clone();
            }
        }
    }
    NodeStatus {
        capacity: Some(capacity),
        allocatable: Some(allocatable),
        conditions: Some(conditions),
        addresses: Some(vec![
            NodeAddress {
                type_: "InternalIP".into(),
                address: m.host_ip.to_string(),
            },
            NodeAddress {
                type_: "Hostname".into(),
                address: ctx.config.node_name.clone(),
            },
        ]),
        daemon_endpoints: Some(k8s_openapi::api::core::v1::NodeDaemonEndpoints {
            kubelet_endpoint: Some(k8s_openapi::api::core::v1::DaemonEndpoint { port: 10250 }),
        }),
        node_info: Some(NodeSystemInfo {
            architecture: machine::go_arch().into(),
            boot_id: m.boot_id.clone(),
            container_runtime_version: format!("berth://{}", env!("CARGO_PKG_VERSION")),
            kernel_version: m.kernel_version.clone(),
            kube_proxy_version: String::new(),
            kubelet_version: KUBELET_VERSION.into(),
            machine_id: m.machine_id.clone(),
            operating_system: "linux".into(),
            os_image: m.os_image.clone(),
            system_uuid: m.system_uuid.clone(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Whether two statuses differ other than in heartbeat times.
fn status_changed(a: &NodeStatus, b: &NodeStatus) -> bool {
    let strip = |s: &NodeStatus| {
        let mut s = s.clone();
        for c in s.conditions.iter_mut().flatten() {
            c.last_heartbeat_time = None;
        }
        serde_json::to_value(s).unwrap_or_default()
    };
    strip(a) != strip(b)
}

/// Creates the Node (or updates labels and pod CIDR of an existing one) and posts its status.
pub async fn register(ctx: &AgentContext) -> Result<Node, NodeError> {
    let api: Api<Node> = Api::all(ctx.client.clone());
    let name = &ctx.config.node_name;
    let node = Node {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            labels: Some(labels(ctx)),
            annotations: Some(BTreeMap::from([(
                "volumes.kubernetes.io/controller-managed-attach-detach".to_string(),
                "true".to_string(),
            )])),
            ..Default::default()
        },
        spec: Some(NodeSpec {
            pod_cidr: Some(ctx.config.pod_cidr.clone()),
            pod_cidrs: Some(vec![ctx.config.pod_cidr.clone()]),
            ..Default::default()
        }),
        status: None,
    };
    let existing = match api.create(&PostParams::default(), &node).await {
        Ok(n) => n,
        Err(e) if is_conflict(&e) => {
            let current = api.get(name).await?;
            let mut patch = serde_json::json!({"metadata": {"labels": labels(ctx)}});
            if current
                .spec
                .as_ref()
                .and_then(|s| s.pod_cidr.as_ref())
                .is_none()
            {
                patch["spec"] = serde_json::json!({
                    "podCIDR": ctx.config.pod_cidr, "podCIDRs": [ctx.config.pod_cidr]
                });
            }
            api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?
        }
        Err(e) => return Err(e.into()),
    };
    let status = node_status(ctx, existing.status.as_ref());
    let updated = api
        .patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(&serde_json::json!({ "status": status })),
        )
        .await?;
    Ok(updated)
}

async fn renew_lease(ctx: &AgentContext, node: &Node) -> Result<(), kube::Error> {
    let api: Api<Lease> = Api::namespaced(ctx.client.clone(), LEASE_NAMESPACE);
    let name = &ctx.config.node_name;
    let spec = LeaseSpec {
        holder_identity: Some(name.clone()),
        lease_duration_seconds: Some(ctx.config.lease_duration_seconds),
        renew_time: Some(MicroTime(jiff::Timestamp::now())),
        ..Default::default()
    };
    match api.get_opt(name).await? {
        Some(mut lease) => {
            lease.spec = Some(spec);
            api.replace(name, &PostParams::default(), &lease).await?;
        }
        None => {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(name.clone()),
                    namespace: Some(LEASE_NAMESPACE.to_string()),
                    owner_references: node.metadata.uid.clone().map(|uid| {
                        vec![OwnerReference {
                            api_version: "v1".into(),
                            kind: "Node".into(),
                            name: name.clone(),
                            uid,
                            ..Default::default()
                        }]
                    }),
                    ..Default::default()
                },
                spec: Some(spec),
            };
            api.create(&PostParams::default(), &lease).await?;
        }
    }
    Ok(())
}

/// Renews the lease and reports status until shutdown.
pub async fn heartbeat(ctx: Arc<AgentContext>, node: Node, mut shutdown: watch::Receiver<bool>) {
    let api: Api<Node> = Api::all(ctx.client.clone());
    let mut last_status = node.status.clone().unwrap_or_default();
    let mut last_report = Instant::now();
    let mut node = node;
    loop {
        if let Err(e) = renew_lease(&ctx, &node).await {
            tracing::warn!(error = %e, "cannot renew node lease");
        }
        let status = node_status(&ctx, Some(&last_status));
        if status_changed(&status, &last_status) || last_report.elapsed() >= STATUS_REPORT_INTERVAL
        {
            match api
                .patch_status(
                    &ctx.config.node_name,
                    &PatchParams::default(),
                    &Patch::Merge(&serde_json::json!({ "status": status })),
                )
                .await
            {
                Ok(n) => {
                    last_status = n.status.clone().unwrap_or_default();
                    last_report = Instant::now();
                    node = n;
                }
                Err(e) if is_not_found(&e) => {
                    // Someone deleted the Node: register again.
                    match register(&ctx).await {
                        Ok(n) => node = n,
                        Err(e) => tracing::warn!(error = %e, "cannot re-register node"),
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot update node status"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(LEASE_RENEW_INTERVAL) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() || shutdown.has_changed().is_err() {
            return;
        }
    }
}
