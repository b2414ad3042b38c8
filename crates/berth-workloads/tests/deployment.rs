mod common;

use berth_apiserver::testing::TestCluster;
use common::*;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

fn deployment(name: &str, replicas: i32, strategy: serde_json::Value) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 10,
            "strategy": strategy,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}
            }
        }
    }))
    .unwrap()
}

async fn replica_sets(client: &kube::Client, app: &str) -> Vec<ReplicaSet> {
    let api: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    api.list(&ListParams::default().labels(&format!("app={app}")))
        .await
        .unwrap()
        .items
}

fn ann<'a>(rs: &'a ReplicaSet, key: &str) -> Option<&'a str> {
    rs.metadata
        .annotations
        .as_ref()?
        .get(key)
        .map(String::as_str)
}

fn condition_reason(d: &Deployment, type_: &str) -> Option<String> {
    d.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)?
        .reason
        .clone()
}

fn set_image(image: &str) -> serde_json::Value {
    json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": image}]}}}})
}

#[tokio::test]
async fn rolling_update_rollback_and_revisions() {
    let c = TestCluster::start().await.unwrap();
    let client = c.client.clone();
    let _stop = start(|rx| berth_workloads::run(client.clone(), rx));
    let _kubelet = fake_kubelet(c.client.clone(), "default");
    let api: Api<Deployment> = Api::namespaced(c.client.clone(), "default");
    api.create(
        &PostParams::default(),
        &deployment("web", 3, json!({"type": "RollingUpdate"})),
    )
    .await
    .unwrap();

    let first = eventually("first rollout complete", || async {
        let d = api.get("web").await.ok()?;
        let s = d.status.clone()?;
        (s.updated_replicas == Some(3)
            && s.available_replicas == Some(3)
            && condition_reason(&d, "Progressing").as_deref() == Some("NewReplicaSetAvailable")
            && condition_reason(&d, "Available").as_deref() == Some("MinimumReplicasAvailable"))
        .then_some(d)
    })
    .await;
    assert_eq!(
        first.metadata.annotations.as_ref().unwrap()["deployment.kubernetes.io/revision"],
        "1"
    );
    let rss = replica_sets(&c.client, "web").await;
    assert_eq!(rss.len(), 1);
    let rs1 = &rss[0];
    let hash = rs1.metadata.labels.as_ref().unwrap()["pod-template-hash"].clone();
    assert_eq!(
        rs1.metadata.name.as_deref(),
        Some(format!("web-{hash}").as_str())
    );
    assert_eq!(
        rs1.spec
            .as_ref()
            .unwrap()
            .selector
            .match_labels
            .as_ref()
            .unwrap()["pod-template-hash"],
        hash
    );
    assert_eq!(
        ann(rs1, "deployment.kubernetes.io/desired-replicas"),
        Some("3")
    );
    assert_eq!(ann(rs1, "deployment.kubernetes.io/max-replicas"), Some("4"));
    for p in active_pods(&c.client, "default", "app=web").await {
        assert_eq!(
            p.metadata.labels.as_ref().unwrap()["pod-template-hash"],
            hash
        );
    }
    let rs1_name = rs1.metadata.name.clone().unwrap();
    eventually("scale-up event", || async {
        let m = event_messages(&c.client, "default", "web", "ScalingReplicaSet").await;
        m.contains(&format!("Scaled up replica set {rs1_name} from 0 to 3"))
            .then_some(())
    })
    .await;

    // Roll to a new image.
    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(set_image("nginx:2")),
    )
    .await
    .unwrap();
    let rs2_name = eventually("second rollout complete", || async {
        let rss = replica_sets(&c.client, "web").await;
        let new = rss
            .iter()
            .find(|rs| ann(rs, "deployment.kubernetes.io/revision") == Some("2"))?;
        let old = rss
            .iter()
            .find(|rs| rs.metadata.name.as_deref() == Some(rs1_name.as_str()))?;
        let d = api.get("web").await.ok()?;
        (new.status.as_ref()?.available_replicas == Some(3)
            && old.spec.as_ref()?.replicas == Some(0)
            && d.status.as_ref()?.updated_replicas == Some(3)
            && d.status.as_ref()?.replicas == Some(3)
            && condition_reason(&d, "Progressing").as_deref() == Some("NewReplicaSetAvailable"))
        .then(|| new.metadata.name.clone().unwrap())
    })
    .await;
    assert_ne!(rs2_name, rs1_name);

    // `kubectl rollout undo`: the template of revision 1 comes back; its ReplicaSet is reused.
    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(set_image("nginx:1")),
    )
    .await
    .unwrap();
    eventually("rollback complete", || async {
        let rss = replica_sets(&c.client, "web").await;
        let back = rss
            .iter()
            .find(|rs| rs.metadata.name.as_deref() == Some(rs1_name.as_str()))?;
        let d = api.get("web").await.ok()?;
        (rss.len() == 2
            && ann(back, "deployment.kubernetes.io/revision") == Some("3")
            && ann(back, "deployment.kubernetes.io/revision-history") == Some("1")
            && back.status.as_ref()?.available_replicas == Some(3)
            && d.metadata
                .annotations
                .as_ref()?
                .get("deployment.kubernetes.io/revision")
                .map(String::as_str)
                == Some("3")
            && d.status.as_ref()?.updated_replicas == Some(3))
        .then_some(())
    })
    .await;

    // `kubectl rollout restart` changes a template annotation: a new ReplicaSet rolls out.
    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"}}}}})),
    )
    .await
    .unwrap();
    eventually("restart rollout", || async {
        let rss = replica_sets(&c.client, "web").await;
        let new = rss
            .iter()
            .find(|rs| ann(rs, "deployment.kubernetes.io/revision") == Some("4"))?;
        (rss.len() == 3 && new.status.as_ref()?.available_replicas == Some(3)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn scaling_paused_and_recreate() {
    let c = TestCluster::start().await.unwrap();
    let client = c.client.clone();
    let _stop = start(|rx| berth_workloads::run(client.clone(), rx));
    let _kubelet = fake_kubelet(c.client.clone(), "default");
    let api: Api<Deployment> = Api::namespaced(c.client.clone(), "default");
    api.create(
        &PostParams::default(),
        &deployment("app", 2, json!({"type": "Recreate"})),
    )
    .await
    .unwrap();
    eventually("available", || async {
        let d = api.get("app").await.ok()?;
        (d.status?.available_replicas == Some(2)).then_some(())
    })
    .await;

    // Paused: a template change does not roll, but scaling applies.
    api.patch(
        "app",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"paused": true}})),
    )
    .await
    .unwrap();
    eventually("paused condition", || async {
        let d = api.get("app").await.ok()?;
        (condition_reason(&d, "Progressing").as_deref() == Some("DeploymentPaused")).then_some(())
    })
    .await;
    api.patch(
        "app",
        &PatchParams::default(),
        &Patch::Merge(set_image("nginx:2")),
    )
    .await
    .unwrap();
    api.patch(
        "app",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 4}})),
    )
    .await
    .unwrap();
    eventually("scaled while paused", || async {
        let rss = replica_sets(&c.client, "app").await;
        (rss.len() == 1 && rss[0].status.as_ref()?.available_replicas == Some(4)).then_some(())
    })
    .await;
    let rs1 = replica_sets(&c.client, "app").await[0]
        .metadata
        .name
        .clone()
        .unwrap();
    eventually("scale event", || async {
        let m = event_messages(&c.client, "default", "app", "ScalingReplicaSet").await;
        m.contains(&format!("Scaled up replica set {rs1} from 2 to 4"))
            .then_some(())
    })
    .await;

    // Resume: Recreate scales the old ReplicaSet to zero before the new one starts.
    api.patch(
        "app",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"paused": false}})),
    )
    .await
    .unwrap();
    eventually("recreated", || async {
        let rss = replica_sets(&c.client, "app").await;
        let old = rss
            .iter()
            .find(|rs| rs.metadata.name.as_deref() == Some(rs1.as_str()))?;
        let new = rss
            .iter()
            .find(|rs| rs.metadata.name.as_deref() != Some(rs1.as_str()))?;
        (old.spec.as_ref()?.replicas == Some(0)
            && new.status.as_ref()?.available_replicas == Some(4))
        .then_some(())
    })
    .await;
    let messages = event_messages(&c.client, "default", "app", "ScalingReplicaSet").await;
    let down = messages
        .iter()
        .position(|m| *m == format!("Scaled down replica set {rs1} from 4 to 0"));
    let up = messages
        .iter()
        .position(|m| m.starts_with("Scaled up replica set") && m.ends_with("from 0 to 4"));
    assert!(down.is_some() && up.is_some(), "{messages:?}");
}

#[tokio::test]
async fn progress_deadline_exceeded_and_history_cleanup() {
    let c = TestCluster::start().await.unwrap();
    let client = c.client.clone();
    let _stop = start(|rx| berth_workloads::run(client.clone(), rx));
    let api: Api<Deployment> = Api::namespaced(c.client.clone(), "default");
    let mut d = deployment("slow", 1, json!({"type": "RollingUpdate"}));
    let spec = d.spec.as_mut().unwrap();
    spec.progress_deadline_seconds = Some(1);
    spec.revision_history_limit = Some(1);
    api.create(&PostParams::default(), &d).await.unwrap();
    // No kubelet: the pod never becomes ready, so the rollout times out.
    let d = eventually("deadline exceeded", || async {
        let d = api.get("slow").await.ok()?;
        (condition_reason(&d, "Progressing").as_deref() == Some("ProgressDeadlineExceeded"))
            .then_some(d)
    })
    .await;
    let cond = d
        .status
        .as_ref()
        .unwrap()
        .conditions
        .as_ref()
        .unwrap()
        .iter()
        .find(|c| c.type_ == "Progressing")
        .unwrap()
        .clone();
    assert_eq!(cond.status, "False");
    assert!(
        cond.message
            .unwrap()
            .ends_with("has timed out progressing.")
    );
    assert_eq!(
        condition_reason(&d, "Available").as_deref(),
        Some("MinimumReplicasUnavailable")
    );
    assert_eq!(d.status.as_ref().unwrap().unavailable_replicas, Some(1));

    // With a kubelet, three more rollouts leave one old ReplicaSet besides the new one.
    let _kubelet = fake_kubelet(c.client.clone(), "default");
    for image in ["nginx:2", "nginx:3", "nginx:4"] {
        api.patch(
            "slow",
            &PatchParams::default(),
            &Patch::Merge(set_image(image)),
        )
        .await
        .unwrap();
        eventually("rollout", || async {
            let d = api.get("slow").await.ok()?;
            let s = d.status.clone()?;
            let current = d.spec.as_ref()?.template.spec.as_ref()?.containers[0]
                .image
                .clone();
            (current.as_deref() == Some(image)
                && s.observed_generation == d.metadata.generation
                && s.updated_replicas == Some(1)
                && s.replicas == Some(1)
                && s.available_replicas == Some(1))
            .then_some(())
        })
        .await;
    }
    eventually("history limit", || async {
        (replica_sets(&c.client, "slow").await.len() == 2).then_some(())
    })
    .await;
}

/// An old ReplicaSet being scaled down still reports more available pods than it wants (the
/// stopping pods): the rolling update must keep scaling it down, never back up (it once did:
/// `replicas - available` went negative and "scaled down" by a negative count).
#[tokio::test]
async fn old_replica_set_mid_scale_down_is_never_scaled_up() {
    let c = TestCluster::start().await.unwrap();
    let client = c.client.clone();
    // The Deployment controller alone: ReplicaSet statuses stay what the test writes.
    let _stop = start(|rx| berth_workloads::DeploymentController::new(client.clone()).run(rx));
    let rss: Api<ReplicaSet> = Api::namespaced(c.client.clone(), "default");
    let rs = |name: &str, image: &str, hash: &str, replicas: i32| -> ReplicaSet {
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": {"app": "roll", "pod-template-hash": hash},
                         "annotations": {"deployment.kubernetes.io/revision": if image == "nginx:1" {"1"} else {"2"},
                                         "deployment.kubernetes.io/desired-replicas": "4"}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "roll", "pod-template-hash": hash}},
                "template": {
                    "metadata": {"labels": {"app": "roll", "pod-template-hash": hash}},
                    "spec": {"containers": [{"name": "c", "image": image}]}
                }
            }
        }))
        .unwrap()
    };
    for (name, image, hash, replicas, available) in [
        ("roll-old", "nginx:1", "old1", 1, 4),
        ("roll-new", "nginx:2", "new2", 4, 4),
    ] {
        let created = rss
            .create(&PostParams::default(), &rs(name, image, hash, replicas))
            .await
            .unwrap();
        let mut with_status = created.clone();
        with_status.status = Some(
            serde_json::from_value(json!({
                "replicas": available, "readyReplicas": available,
                "availableReplicas": available, "observedGeneration": 1
            }))
            .unwrap(),
        );
        rss.replace_status(name, &PostParams::default(), &with_status)
            .await
            .unwrap();
    }
    let mut d = deployment(
        "roll",
        4,
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "100%", "maxUnavailable": 0}}),
    );
    d.spec.as_mut().unwrap().template = serde_json::from_value(json!({
        "metadata": {"labels": {"app": "roll"}},
        "spec": {"containers": [{"name": "c", "image": "nginx:2"}]}
    }))
    .unwrap();
    let api: Api<Deployment> = Api::namespaced(c.client.clone(), "default");
    api.create(&PostParams::default(), &d).await.unwrap();

    eventually("the old ReplicaSet scaled to 0", || async {
        let old = rss.get("roll-old").await.ok()?;
        (old.spec.as_ref()?.replicas? == 0).then_some(())
    })
    .await;
    // Every scaling is an event: the way down must have no step up.
    let events: Api<k8s_openapi::api::core::v1::Event> =
        Api::namespaced(c.client.clone(), "default");
    let scalings = eventually("the scale-down event", || async {
        let list = events.list(&ListParams::default()).await.ok()?;
        let msgs: Vec<String> = list
            .items
            .into_iter()
            .filter_map(|e| e.message)
            .filter(|m| m.contains("replica set roll-old"))
            .collect();
        msgs.iter().any(|m| m.ends_with("to 0")).then_some(msgs)
    })
    .await;
    assert!(
        !scalings.iter().any(|m| m.starts_with("Scaled up")),
        "{scalings:?}"
    );
}
