//! Simulated nodes against an in-process API server: registration, leases, pods becoming
//! Running and Ready, Job pods succeeding, graceful deletion confirmed.

use std::time::Duration;

use berth_apiserver::testing::TestCluster;
use berth_simnode::{SimulatedNodes, SimulatedNodesConfig};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::json;

async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..600 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn create_bound_pod(pods: &Api<Pod>, name: &str, node: &str, extra: serde_json::Value) {
    let mut pod = json!({
        "metadata": {"name": name},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]},
    });
    json_patch_merge(&mut pod, extra);
    let pod: Pod = serde_json::from_value(pod).unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
}

fn json_patch_merge(target: &mut serde_json::Value, patch: serde_json::Value) {
    match (target, patch) {
        (serde_json::Value::Object(t), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                json_patch_merge(t.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (t, p) => *t = p,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_nodes_run_pods_and_jobs() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    let config = SimulatedNodesConfig {
        count: 3,
        ..SimulatedNodesConfig::default()
    };
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(SimulatedNodes::new(client.clone(), config).run(shutdown_rx));

    let nodes: Api<Node> = Api::all(client.clone());
    let ready = wait_for("3 ready nodes", || {
        let nodes = nodes.clone();
        async move {
            let list = nodes
                .list(&ListParams::default().labels("type=simulated"))
                .await
                .ok()?;
            let ready: Vec<Node> = list
                .items
                .into_iter()
                .filter(|n| {
                    n.status
                        .as_ref()
                        .and_then(|s| s.conditions.as_ref())
                        .is_some_and(|cs| {
                            cs.iter().any(|c| c.type_ == "Ready" && c.status == "True")
                        })
                })
                .collect();
            (ready.len() == 3).then_some(ready)
        }
    })
    .await;
    let node1 = ready
        .iter()
        .find(|n| n.metadata.name.as_deref() == Some("berth-sim-1"))
        .unwrap();
    assert_eq!(
        node1.spec.as_ref().unwrap().pod_cidr.as_deref(),
        Some("10.245.1.0/24")
    );
    let alloc = node1.status.as_ref().unwrap().allocatable.as_ref().unwrap();
    assert_eq!(alloc["cpu"].0, "32");
    assert_eq!(alloc["pods"].0, "110");
    assert_eq!(
        node1.metadata.labels.as_ref().unwrap()["kubernetes.io/hostname"],
        "berth-sim-1"
    );

    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let lease = wait_for("lease", || {
        let leases = leases.clone();
        async move { leases.get("berth-sim-2").await.ok() }
    })
    .await;
    let spec = lease.spec.unwrap();
    assert_eq!(spec.holder_identity.as_deref(), Some("berth-sim-2"));
    assert_eq!(spec.lease_duration_seconds, Some(40));

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    create_bound_pod(&pods, "web", "berth-sim-1", json!({})).await;
    let running = wait_for("web running", || {
        let pods = pods.clone();
        async move {
            let p = pods.get("web").await.ok()?;
            (p.status.as_ref()?.phase.as_deref() == Some("Running")).then_some(p)
        }
    })
    .await;
    let status = running.status.unwrap();
    assert!(status.pod_ip.as_deref().unwrap().starts_with("10.245.1."));
    assert_eq!(status.host_ip.as_deref(), Some("10.245.1.1"));
    let conditions = status.conditions.unwrap();
    for t in [
        "PodReadyToStartContainers",
        "Initialized",
        "ContainersReady",
        "Ready",
        "PodScheduled",
    ] {
        assert!(
            conditions
                .iter()
                .any(|c| c.type_ == t && c.status == "True"),
            "{t} True in {conditions:?}"
        );
    }
    let cs = &status.container_statuses.unwrap()[0];
    assert!(cs.ready && cs.started == Some(true));
    assert!(cs.state.as_ref().unwrap().running.is_some());

    // A pod on a node that is not simulated is left alone.
    create_bound_pod(&pods, "elsewhere", "real-node", json!({})).await;

    create_bound_pod(
        &pods,
        "job-1",
        "berth-sim-0",
        json!({"metadata": {"labels": {"batch.kubernetes.io/job-name": "job"},
                            "annotations": {"berth.dev/simulated-duration": "300ms"}},
               "spec": {"restartPolicy": "Never"}}),
    )
    .await;
    let done = wait_for("job pod succeeded", || {
        let pods = pods.clone();
        async move {
            let p = pods.get("job-1").await.ok()?;
            (p.status.as_ref()?.phase.as_deref() == Some("Succeeded")).then_some(p)
        }
    })
    .await;
    let term = done.status.unwrap().container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!(
        (term.exit_code, term.reason.as_deref()),
        (0, Some("Completed"))
    );

    // Graceful deletion of a bound pod waits for the node; the simulated node confirms it.
    pods.delete("web", &DeleteParams::default()).await.unwrap();
    wait_for("web gone", || {
        let pods = pods.clone();
        async move {
            matches!(pods.get("web").await, Err(kube::Error::Api(s)) if s.code == 404).then_some(())
        }
    })
    .await;
    let elsewhere = pods.get("elsewhere").await.unwrap();
    assert_eq!(
        elsewhere.status.and_then(|s| s.phase).as_deref(),
        Some("Pending")
    );

    shutdown_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
    // Nodes stay registered, as with kwok.
    assert_eq!(
        nodes
            .list(&ListParams::default().labels("type=simulated"))
            .await
            .unwrap()
            .items
            .len(),
        3
    );
}
