//! The node lifecycle controller and taint eviction against an in-process API server, with
//! short grace periods.

mod common;

use std::time::Duration;

use berth_apiserver::testing::TestCluster;
use berth_controllers::nodelifecycle::{NODE_LEASE_NAMESPACE, TAINT_UNREACHABLE};
use berth_controllers::{NodeLifecycleConfig, NodeLifecycleController};
use common::*;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, PostParams};
use serde_json::json;
use tokio::sync::watch;

fn config() -> NodeLifecycleConfig {
    NodeLifecycleConfig {
        node_monitor_period: Duration::from_millis(200),
        node_monitor_grace_period: Duration::from_secs(2),
        node_startup_grace_period: Duration::from_secs(2),
        node_eviction_rate: 100.0,
        ..NodeLifecycleConfig::default()
    }
}

/// Registers a node as a kubelet would: the Node, Ready True, and its Lease.
async fn register_node(client: &Client, name: &str) {
    let nodes: Api<Node> = Api::all(client.clone());
    let node: Node = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    nodes.create(&PostParams::default(), &node).await.unwrap();
    post_ready(client, name).await;
    let lease: Lease = serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"holderIdentity": name, "leaseDurationSeconds": 40}
    }))
    .unwrap();
    Api::<Lease>::namespaced(client.clone(), NODE_LEASE_NAMESPACE)
        .create(&PostParams::default(), &lease)
        .await
        .unwrap();
    renew_lease(client, name).await;
}

async fn post_ready(client: &Client, name: &str) {
    let nodes: Api<Node> = Api::all(client.clone());
    let mut node = nodes.get(name).await.unwrap();
    let now = Timestamp::now().to_string();
    node.status = Some(
        serde_json::from_value(json!({"conditions": [{"type": "Ready", "status": "True",
            "reason": "KubeletReady", "message": "kubelet is posting ready status",
            "lastHeartbeatTime": now, "lastTransitionTime": now}]}))
        .unwrap(),
    );
    nodes
        .replace_status(name, &PostParams::default(), &node)
        .await
        .unwrap();
}

async fn renew_lease(client: &Client, name: &str) {
    let leases: Api<Lease> = Api::namespaced(client.clone(), NODE_LEASE_NAMESPACE);
    let mut lease = leases.get(name).await.unwrap();
    lease.spec.get_or_insert_with(Default::default).renew_time = Some(MicroTime(Timestamp::now()));
    leases
        .replace(name, &PostParams::default(), &lease)
        .await
        .unwrap();
}

/// Renews the node's lease every 300 ms until dropped.
fn keep_alive(client: &Client, name: &str) -> tokio::task::JoinHandle<()> {
    let client = client.clone();
    let name = name.to_string();
    tokio::spawn(async move {
        loop {
            renew_lease(&client, &name).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    })
}

fn ready_status(node: &Node) -> Option<(String, Option<String>)> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| (c.status.clone(), c.message.clone()))
}

fn has_taint(node: &Node, key: &str, effect: &str) -> bool {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .is_some_and(|t| t.iter().any(|t| t.key == key && t.effect == effect))
}

fn pod_on(node: &str, name: &str, tolerations: serde_json::Value) -> serde_json::Value {
    json!({"metadata": {"name": name}, "spec": {"nodeName": node, "tolerations": tolerations,
        "containers": [{"name": "c", "image": "busybox"}]}})
}

#[tokio::test]
async fn silent_node_is_tainted_and_its_pods_evicted() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    register_node(&client, "n1").await;
    register_node(&client, "n2").await;
    let _alive = keep_alive(&client, "n2");
    let ns = "nl";
    create_namespace(&client, ns).await;
    // DefaultTolerationSeconds admission gives pods 300 s; this one asks for none.
    create_pod(
        &client,
        ns,
        pod_on(
            "n1",
            "intolerant",
            json!([{"key": TAINT_UNREACHABLE,
        "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 0}]),
        ),
    )
    .await;
    // Keeps the default 300 s: stays for the length of the test.
    create_pod(&client, ns, pod_on("n1", "default", json!([]))).await;
    create_pod(
        &client,
        ns,
        pod_on(
            "n1",
            "short",
            json!([{"key": TAINT_UNREACHABLE,
        "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 2}]),
        ),
    )
    .await;
    create_pod(
        &client,
        ns,
        pod_on("n1", "forever", json!([{"operator": "Exists"}])),
    )
    .await;
    create_pod(&client, ns, pod_on("n2", "healthy", json!([]))).await;

    let (tx, rx) = watch::channel(false);
    tokio::spawn(NodeLifecycleController::with_config(client.clone(), config()).run(rx));

    let nodes: Api<Node> = Api::all(client.clone());
    let n1 = eventually("n1 unknown and tainted", || async {
        let n = nodes.get("n1").await.unwrap();
        (ready_status(&n).map(|s| s.0).as_deref() == Some("Unknown")
            && has_taint(&n, TAINT_UNREACHABLE, "NoExecute"))
        .then_some(n)
    })
    .await;
    assert_eq!(
        ready_status(&n1).unwrap().1.as_deref(),
        Some("Kubelet stopped posting node status.")
    );
    assert!(has_taint(&n1, TAINT_UNREACHABLE, "NoSchedule"));

    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    // Deleted gracefully: without a node agent they stay, with a deletionTimestamp.
    let deleting = |p: Option<Pod>| p.is_none_or(|p| p.metadata.deletion_timestamp.is_some());
    eventually("intolerant and short-tolerating pods evicted", || async {
        let gone = deleting(pods.get_opt("intolerant").await.unwrap())
            && deleting(pods.get_opt("short").await.unwrap());
        gone.then_some(())
    })
    .await;
    let short = pods.get("short").await.unwrap();
    let reason = short
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "DisruptionTarget")
        .and_then(|c| c.reason);
    assert_eq!(reason.as_deref(), Some("DeletionByTaintManager"));
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(client.clone(), ns);
    eventually("TaintManagerEviction event", || async {
        let list = events.list(&Default::default()).await.unwrap();
        list.items
            .iter()
            .any(|e| {
                e.reason.as_deref() == Some("TaintManagerEviction")
                    && e.message.as_deref() == Some("Marking for deletion Pod nl/intolerant")
            })
            .then_some(())
    })
    .await;
    assert!(!deleting(pods.get_opt("forever").await.unwrap()));
    assert!(!deleting(pods.get_opt("default").await.unwrap()));
    assert!(!deleting(pods.get_opt("healthy").await.unwrap()));
    let n2 = nodes.get("n2").await.unwrap();
    assert_eq!(ready_status(&n2).unwrap().0, "True");
    assert!(!has_taint(&n2, TAINT_UNREACHABLE, "NoExecute"));

    // The kubelet comes back: the taints go.
    let _alive1 = keep_alive(&client, "n1");
    post_ready(&client, "n1").await;
    eventually("n1 untainted", || async {
        let n = nodes.get("n1").await.unwrap();
        (!has_taint(&n, TAINT_UNREACHABLE, "NoExecute")
            && !has_taint(&n, TAINT_UNREACHABLE, "NoSchedule"))
        .then_some(())
    })
    .await;
    tx.send_replace(true);
}

#[tokio::test]
async fn no_eviction_when_all_nodes_are_down() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    register_node(&client, "only").await;
    let ns = "fd";
    create_namespace(&client, ns).await;
    // Would be evicted at once if the node were tainted NoExecute.
    create_pod(
        &client,
        ns,
        pod_on(
            "only",
            "p",
            json!([{"key": TAINT_UNREACHABLE,
        "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 0}]),
        ),
    )
    .await;
    let (tx, rx) = watch::channel(false);
    tokio::spawn(NodeLifecycleController::with_config(client.clone(), config()).run(rx));

    let nodes: Api<Node> = Api::all(client.clone());
    eventually("node unknown with a NoSchedule taint", || async {
        let n = nodes.get("only").await.unwrap();
        (ready_status(&n).map(|s| s.0).as_deref() == Some("Unknown")
            && has_taint(&n, TAINT_UNREACHABLE, "NoSchedule"))
        .then_some(())
    })
    .await;
    // Several monitor periods later: still no NoExecute taint and the pod is still there.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let n = nodes.get("only").await.unwrap();
    assert!(!has_taint(&n, TAINT_UNREACHABLE, "NoExecute"));
    let p = Api::<Pod>::namespaced(client.clone(), ns)
        .get("p")
        .await
        .unwrap();
    assert!(p.metadata.deletion_timestamp.is_none());
    tx.send_replace(true);
}
