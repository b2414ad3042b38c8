//! Node registration and lease renewal, as a kubelet does them.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, OwnerReference};
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::{SIMULATED_NODE_LABEL, SimulatedNodesConfig};

/// kubelet's `nodeLease.renewInterval` and `nodeLeaseDurationSeconds`.
pub const LEASE_RENEW_INTERVAL: Duration = Duration::from_secs(10);
pub const LEASE_DURATION_SECONDS: i32 = 40;
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";
/// API writes in flight at once while registering nodes or renewing leases.
const CONCURRENCY: usize = 32;

pub fn node_object(config: &SimulatedNodesConfig, i: usize) -> serde_json::Value {
    let name = config.node_name(i);
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                SIMULATED_NODE_LABEL.0: SIMULATED_NODE_LABEL.1,
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": "amd64",
            },
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {
            "podCIDR": format!("{}/24", config.node_subnet(i)),
            "podCIDRs": [format!("{}/24", config.node_subnet(i))],
        },
    })
}

pub fn node_status(config: &SimulatedNodesConfig, i: usize) -> serde_json::Value {
    let now = jiff::Timestamp::now().to_string();
    let [a, b, c, _] = config.node_subnet(i).octets();
    let resources = json!({
        "cpu": config.cpu,
        "memory": config.memory,
        "pods": config.pods.to_string(),
    });
    let condition = |type_: &str, status: &str, reason: &str, message: &str| {
        json!({"type": type_, "status": status, "reason": reason, "message": message,
               "lastHeartbeatTime": now, "lastTransitionTime": now})
    };
    json!({"status": {
        "capacity": resources,
        "allocatable": resources,
        "phase": "Running",
        "conditions": [
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ],
        "addresses": [
            {"type": "InternalIP", "address": format!("{a}.{b}.{c}.1")},
            {"type": "Hostname", "address": config.node_name(i)},
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 0}},
        "nodeInfo": {
            "architecture": "amd64",
            "bootID": "",
            "containerRuntimeVersion": "simulated",
            "kernelVersion": "",
            "kubeProxyVersion": "",
            "kubeletVersion": "v1.33.0-berth-simulated",
            "machineID": "",
            "operatingSystem": "linux",
            "osImage": "",
            "systemUUID": "",
        },
    }})
}

async fn register(
    client: &Client,
    config: &SimulatedNodesConfig,
    i: usize,
) -> Result<(), kube::Error> {
    let api: Api<Node> = Api::all(client.clone());
    let name = config.node_name(i);
    let node: Node =
        serde_json::from_value(node_object(config, i)).map_err(kube::Error::SerdeError)?;
    match api.create(&PostParams::default(), &node).await {
        Ok(_) => {}
        // Registered by an earlier run: refresh labels and the CIDR.
        Err(kube::Error::Api(s)) if s.code == 409 => {
            api.patch(
                &name,
                &PatchParams::default(),
                &Patch::Merge(node_object(config, i)),
            )
            .await?;
        }
        Err(e) => return Err(e),
    }
    api.patch_status(
        &name,
        &PatchParams::default(),
        &Patch::Merge(node_status(config, i)),
    )
    .await?;
    Ok(())
}

/// Registers every node, retrying failures once a second until all are in.
pub async fn register_all(client: &Client, config: &SimulatedNodesConfig) {
    let mut pending: Vec<usize> = (0..config.count).collect();
    while !pending.is_empty() {
        let results: Vec<(usize, Result<(), kube::Error>)> = futures::stream::iter(pending.clone())
            .map(|i| async move { (i, register(client, config, i).await) })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        pending = results
            .into_iter()
            .filter_map(|(i, r)| match r {
                Ok(()) => None,
                Err(e) => {
                    tracing::warn!(node = config.node_name(i), error = %e, "registering simulated node failed");
                    Some(i)
                }
            })
            .collect();
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    tracing::info!(count = config.count, "registered simulated nodes");
}

async fn renew(
    client: &Client,
    node_name: &str,
    node_uid: Option<String>,
) -> Result<(), kube::Error> {
    let api: Api<Lease> = Api::namespaced(client.clone(), NODE_LEASE_NAMESPACE);
    let now = MicroTime(jiff::Timestamp::now());
    let patch = json!({"spec": {"holderIdentity": node_name, "leaseDurationSeconds": LEASE_DURATION_SECONDS, "renewTime": now}});
    match api
        .patch(node_name, &PatchParams::default(), &Patch::Merge(patch))
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => {
            let mut lease = Lease {
                spec: Some(LeaseSpec {
                    holder_identity: Some(node_name.to_string()),
                    lease_duration_seconds: Some(LEASE_DURATION_SECONDS),
                    renew_time: Some(now),
                    ..Default::default()
                }),
                ..Default::default()
            };
            lease.metadata.name = Some(node_name.to_string());
            // Like kubelet: the lease goes with its node.
            lease.metadata.owner_references = node_uid.map(|uid| {
                vec![OwnerReference {
                    api_version: "v1".into(),
                    kind: "Node".into(),
                    name: node_name.to_string(),
                    uid,
                    ..Default::default()
                }]
            });
            api.create(&PostParams::default(), &lease).await.map(|_| ())
        }
        Err(e) => Err(e),
    }
}

/// Renews every node's lease each [`LEASE_RENEW_INTERVAL`]; never returns.
pub async fn renew_leases(client: Client, config: SimulatedNodesConfig) {
    let nodes: Api<Node> = Api::all(client.clone());
    let mut uids: BTreeMap<String, String> = BTreeMap::new();
    let mut ticker = tokio::time::interval(LEASE_RENEW_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if uids.len() < config.count {
            let selector = format!("{}={}", SIMULATED_NODE_LABEL.0, SIMULATED_NODE_LABEL.1);
            if let Ok(list) = nodes
                .list(&kube::api::ListParams::default().labels(&selector))
                .await
            {
                for n in list.items {
                    if let (Some(name), Some(uid)) = (n.metadata.name, n.metadata.uid) {
                        uids.insert(name, uid);
                    }
                }
            }
        }
        let uids = &uids;
        let client = &client;
        futures::stream::iter(0..config.count)
            .map(|i| {
                let name = config.node_name(i);
                async move {
                    if let Err(e) = renew(client, &name, uids.get(&name).cloned()).await {
                        tracing::warn!(node = name, error = %e, "renewing simulated node lease failed");
                    }
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<()>>()
            .await;
    }
}
