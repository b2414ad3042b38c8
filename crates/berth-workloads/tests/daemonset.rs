mod common;

use berth_apiserver::testing::TestCluster;
use berth_workloads::DaemonSetController;
use common::*;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

fn pinned_node(p: &Pod) -> String {
    let terms = &p
        .spec
        .as_ref()
        .unwrap()
        .affinity
        .as_ref()
        .unwrap()
        .node_affinity
        .as_ref()
        .unwrap()
        .required_during_scheduling_ignored_during_execution
        .as_ref()
        .unwrap()
        .node_selector_terms;
    terms[0].match_fields.as_ref().unwrap()[0]
        .values
        .as_ref()
        .unwrap()[0]
        .clone()
}

#[tokio::test]
async fn one_pod_per_eligible_node_and_rolling_update() {
    let c = TestCluster::start().await.unwrap();
    let nodes: Api<Node> = Api::all(c.client.clone());
    for (name, taints) in [
        ("n1", json!([])),
        ("n2", json!([])),
        (
            "n3",
            json!([{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]),
        ),
    ] {
        let node: Node =
            serde_json::from_value(json!({"metadata": {"name": name}, "spec": {"taints": taints}}))
                .unwrap();
        nodes.create(&PostParams::default(), &node).await.unwrap();
    }
    let client = c.client.clone();
    let _stop = start(|rx| DaemonSetController::new(client.clone()).run(rx));
    let _kubelet = fake_kubelet(c.client.clone(), "default");
    let api: Api<DaemonSet> = Api::namespaced(c.client.clone(), "default");
    let ds: DaemonSet = serde_json::from_value(json!({
        "metadata": {"name": "agent"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "c", "image": "agent:1"}]}
            }
        }
    }))
    .unwrap();
    api.create(&PostParams::default(), &ds).await.unwrap();

    eventually("2 available", || async {
        let s = api.get("agent").await.ok()?.status?;
        (s.desired_number_scheduled == 2
            && s.current_number_scheduled == 2
            && s.number_available == Some(2)
            && s.updated_number_scheduled == Some(2))
        .then_some(())
    })
    .await;
    let pods = active_pods(&c.client, "default", "app=agent").await;
    let mut placed: Vec<String> = pods.iter().map(pinned_node).collect();
    placed.sort();
    assert_eq!(placed, ["n1", "n2"]);
    let tolerations = pods[0].spec.as_ref().unwrap().tolerations.clone().unwrap();
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
        "node.kubernetes.io/unschedulable",
    ] {
        assert!(
            tolerations.iter().any(|t| t.key.as_deref() == Some(key)),
            "missing toleration {key}"
        );
    }
    assert!(
        pods[0]
            .metadata
            .labels
            .as_ref()
            .unwrap()
            .contains_key("controller-revision-hash")
    );

    // New template: every pod is replaced.
    api.patch("agent", &PatchParams::default(), &Patch::Merge(json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "agent:2"}]}}}})))
        .await
        .unwrap();
    eventually("rolled", || async {
        let pods = active_pods(&c.client, "default", "app=agent").await;
        let s = api.get("agent").await.ok()?.status?;
        (pods.len() == 2
            && pods.iter().all(|p| {
                p.spec.as_ref().unwrap().containers[0].image.as_deref() == Some("agent:2")
            })
            && s.updated_number_scheduled == Some(2)
            && s.number_available == Some(2))
        .then_some(())
    })
    .await;

    // The taint goes: n3 gets a pod.
    nodes
        .patch(
            "n3",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"taints": null}})),
        )
        .await
        .unwrap();
    eventually("3 scheduled", || async {
        let s = api.get("agent").await.ok()?.status?;
        (s.desired_number_scheduled == 3 && s.current_number_scheduled == 3).then_some(())
    })
    .await;
}
