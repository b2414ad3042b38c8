//! The scheduler against an in-process API server: nodes created by the test, pods bound, an
//! unschedulable pod reported with upstream's event and condition and bound once a node fits.

use std::time::Duration;

use berth_apiserver::testing::TestCluster;
use berth_scheduler::{Scheduler, SchedulerConfig};
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

async fn create_node(client: &kube::Client, name: &str, cpu: &str) {
    let nodes: Api<Node> = Api::all(client.clone());
    let node: Node = serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
    }))
    .unwrap();
    nodes.create(&PostParams::default(), &node).await.unwrap();
    let status = json!({"status": {
        "capacity": {"cpu": cpu, "memory": "8Gi", "pods": "110"},
        "allocatable": {"cpu": cpu, "memory": "8Gi", "pods": "110"},
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
    }});
    nodes
        .patch_status(name, &PatchParams::default(), &Patch::Merge(status))
        .await
        .unwrap();
}

async fn create_pod(client: &kube::Client, name: &str, cpu: &str) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox",
            "resources": {"requests": {"cpu": cpu}}}]},
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
}

/// Polls `check` every 50 ms for up to 30 s.
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

async fn node_of(client: &kube::Client, name: &str) -> Option<String> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    pods.get(name).await.ok()?.spec?.node_name
}

async fn event_message(client: &kube::Client, pod: &str, reason: &str) -> Option<String> {
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    let list = events.list(&ListParams::default()).await.ok()?;
    list.items
        .into_iter()
        .find(|e| {
            e.involved_object.name.as_deref() == Some(pod) && e.reason.as_deref() == Some(reason)
        })
        .and_then(|e| e.message)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_pods_and_reports_unschedulable_ones() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    create_node(&client, "small-1", "2").await;
    create_node(&client, "small-2", "2").await;

    let scheduler = Scheduler::new(client.clone(), SchedulerConfig::default());
    let decisions = scheduler.decisions();
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(scheduler.run(shutdown_rx));

    // Two 1.5-cpu pods cannot share a 2-cpu node.
    create_pod(&client, "a", "1500m").await;
    create_pod(&client, "b", "1500m").await;
    let na = wait_for("a bound", || node_of(&client, "a")).await;
    let nb = wait_for("b bound", || node_of(&client, "b")).await;
    assert_ne!(na, nb);
    let scheduled = wait_for("Scheduled event", || {
        event_message(&client, "a", "Scheduled")
    })
    .await;
    assert_eq!(
        scheduled,
        format!("Successfully assigned default/a to {na}")
    );
    let d = decisions.get("default", "a").expect("decision recorded");
    assert_eq!(d.node.as_deref(), Some(na.as_str()));
    assert_eq!(d.nodes_feasible, 2);

    create_pod(&client, "big", "3").await;
    let expected = "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are \
                    available: 2 No preemption victims found for incoming pod..";
    let message = wait_for("FailedScheduling event", || {
        event_message(&client, "big", "FailedScheduling")
    })
    .await;
    assert_eq!(message, expected);
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let condition = wait_for("PodScheduled=False", || {
        let pods = pods.clone();
        async move {
            let pod = pods.get("big").await.ok()?;
            pod.status?
                .conditions?
                .into_iter()
                .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        }
    })
    .await;
    assert_eq!(condition.reason.as_deref(), Some("Unschedulable"));
    assert_eq!(condition.message.as_deref(), Some(expected));
    assert_eq!(node_of(&client, "big").await, None);

    // A node that fits makes the parked pod schedulable again.
    create_node(&client, "large", "8").await;
    let n = wait_for("big bound", || node_of(&client, "big")).await;
    assert_eq!(n, "large");

    shutdown_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taints_and_other_schedulers_are_respected() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    create_node(&client, "tainted", "4").await;
    let nodes: Api<Node> = Api::all(client.clone());
    nodes
        .patch(
            "tainted",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"spec": {"taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}]}}),
            ),
        )
        .await
        .unwrap();
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let task =
        tokio::spawn(Scheduler::new(client.clone(), SchedulerConfig::default()).run(shutdown_rx));

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let other: Pod = serde_json::from_value(json!({
        "metadata": {"name": "other"},
        "spec": {"schedulerName": "someone-else", "containers": [{"name": "c", "image": "busybox"}]},
    }))
    .unwrap();
    pods.create(&PostParams::default(), &other).await.unwrap();
    create_pod(&client, "p", "100m").await;
    let message = wait_for("FailedScheduling", || {
        event_message(&client, "p", "FailedScheduling")
    })
    .await;
    assert_eq!(
        message,
        "0/1 nodes are available: 1 node(s) had untolerated taint {k: v}. preemption: 0/1 nodes \
         are available: 1 Preemption is not helpful for scheduling.."
    );
    // Removing the taint (a node update) lets it in.
    nodes
        .patch(
            "tainted",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"taints": null}})),
        )
        .await
        .unwrap();
    assert_eq!(
        wait_for("p bound", || node_of(&client, "p")).await,
        "tainted"
    );
    // The pod for another scheduler was never touched.
    assert_eq!(node_of(&client, "other").await, None);
    assert_eq!(
        event_message(&client, "other", "FailedScheduling").await,
        None
    );

    shutdown_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_pod_frees_room_for_a_parked_one() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    create_node(&client, "only", "2").await;
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let task =
        tokio::spawn(Scheduler::new(client.clone(), SchedulerConfig::default()).run(shutdown_rx));

    create_pod(&client, "first", "1500m").await;
    assert_eq!(
        wait_for("first bound", || node_of(&client, "first")).await,
        "only"
    );
    create_pod(&client, "second", "1500m").await;
    wait_for("second unschedulable", || {
        event_message(&client, "second", "FailedScheduling")
    })
    .await;

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    pods.delete(
        "first",
        &DeleteParams {
            grace_period_seconds: Some(0),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        wait_for("second bound", || node_of(&client, "second")).await,
        "only"
    );

    shutdown_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_spread_over_simulated_nodes_and_run() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let simnodes = berth_simnode::SimulatedNodes::new(
        client.clone(),
        berth_simnode::SimulatedNodesConfig {
            count: 3,
            cpu: "1".into(),
            ..Default::default()
        },
    );
    let sim_task = tokio::spawn(simnodes.run(shutdown_rx.clone()));
    let task =
        tokio::spawn(Scheduler::new(client.clone(), SchedulerConfig::default()).run(shutdown_rx));

    // Three 600m pods on three 1-cpu nodes: one per node.
    for name in ["s0", "s1", "s2"] {
        create_pod(&client, name, "600m").await;
    }
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let mut nodes = Vec::new();
    for name in ["s0", "s1", "s2"] {
        let pod = wait_for("pod running", || {
            let pods = pods.clone();
            async move {
                let p = pods.get(name).await.ok()?;
                (p.status.as_ref()?.phase.as_deref() == Some("Running")).then_some(p)
            }
        })
        .await;
        nodes.push(pod.spec.unwrap().node_name.unwrap());
    }
    nodes.sort();
    assert_eq!(nodes, vec!["berth-sim-0", "berth-sim-1", "berth-sim-2"]);

    shutdown_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), sim_task)
        .await
        .unwrap()
        .unwrap();
}
