//! The disruption controller against an in-process API server.

mod common;

use berth_apiserver::testing::TestCluster;
use berth_controllers::DisruptionController;
use common::*;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, PostParams};
use serde_json::json;
use tokio::sync::watch;

type Summary = (i32, i32, i32, i32, String, String);

/// (expectedPods, currentHealthy, desiredHealthy, disruptionsAllowed, condition status, reason)
fn summary(pdb: &PodDisruptionBudget) -> Option<Summary> {
    let s = pdb.status.as_ref()?;
    let c = s
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "DisruptionAllowed")?;
    Some((
        s.expected_pods,
        s.current_healthy,
        s.desired_healthy,
        s.disruptions_allowed,
        c.status.clone(),
        c.reason.clone(),
    ))
}

async fn wait_for(api: &Api<PodDisruptionBudget>, name: &str, want: Summary) {
    eventually(&format!("{name} status {want:?}"), || async {
        let pdb = api.get(name).await.unwrap();
        (summary(&pdb).as_ref() == Some(&want)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn budgets_track_healthy_pods() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    let (tx, rx) = watch::channel(false);
    tokio::spawn(DisruptionController::new(client.clone()).run(rx));
    let ns = "pdb";
    create_namespace(&client, ns).await;
    let rs: ReplicaSet = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
    }))
    .unwrap();
    let rs = Api::<ReplicaSet>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &rs)
        .await
        .unwrap();
    for name in ["a", "b"] {
        create_pod(
            &client,
            ns,
            json!({"metadata": {"name": name, "labels": {"app": "web"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
                "uid": rs.metadata.uid.clone().unwrap(), "controller": true}]}}),
        )
        .await;
        set_pod_running(&client, ns, name, "10.0.0.1", true).await;
    }
    let pdbs: Api<PodDisruptionBudget> = Api::namespaced(client.clone(), ns);
    for (name, spec) in [
        (
            "min",
            json!({"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}),
        ),
        (
            "max",
            json!({"maxUnavailable": "50%", "selector": {"matchLabels": {"app": "web"}}}),
        ),
    ] {
        let pdb: PodDisruptionBudget =
            serde_json::from_value(json!({"metadata": {"name": name}, "spec": spec})).unwrap();
        pdbs.create(&PostParams::default(), &pdb).await.unwrap();
    }
    wait_for(
        &pdbs,
        "min",
        (2, 2, 1, 1, "True".into(), "SufficientPods".into()),
    )
    .await;
    // Expected pods come from the ReplicaSet's scale (4): half may be unavailable, 2 are healthy.
    wait_for(
        &pdbs,
        "max",
        (4, 2, 2, 0, "False".into(), "InsufficientPods".into()),
    )
    .await;

    set_pod_running(&client, ns, "b", "10.0.0.2", false).await;
    wait_for(
        &pdbs,
        "min",
        (2, 1, 1, 0, "False".into(), "InsufficientPods".into()),
    )
    .await;
    tx.send_replace(true);
}
