mod common;

use berth_apiserver::testing::TestCluster;
use berth_workloads::ReplicaSetController;
use common::*;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

fn replica_set(name: &str, replicas: i32) -> ReplicaSet {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}
            }
        }
    }))
    .unwrap()
}

#[tokio::test]
async fn replica_set_creates_scales_and_reports_status() {
    let c = TestCluster::start().await.unwrap();
    let client = c.client.clone();
    let _stop = start(|rx| ReplicaSetController::new(client.clone()).run(rx));
    let rss: Api<ReplicaSet> = Api::namespaced(c.client.clone(), "default");
    rss.create(&PostParams::default(), &replica_set("web", 3))
        .await
        .unwrap();

    let pods = eventually("3 pods", || async {
        let p = active_pods(&c.client, "default", "app=web").await;
        (p.len() == 3).then_some(p)
    })
    .await;
    // No double creation while the cache catches up.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(active_pods(&c.client, "default", "app=web").await.len(), 3);
    for p in &pods {
        let m = &p.metadata;
        assert!(m.name.as_deref().unwrap().starts_with("web-"));
        assert_eq!(m.generate_name.as_deref(), Some("web-"));
        let r = &m.owner_references.as_ref().unwrap()[0];
        assert_eq!((r.kind.as_str(), r.name.as_str()), ("ReplicaSet", "web"));
        assert_eq!(r.controller, Some(true));
        assert_eq!(r.block_owner_deletion, Some(true));
    }
    let ready_name = pods[0].metadata.name.clone().unwrap();
    make_ready(&c.client, "default", &ready_name).await;
    eventually("status", || async {
        let s = rss.get("web").await.unwrap().status?;
        (s.replicas == 3
            && s.ready_replicas == Some(1)
            && s.available_replicas == Some(1)
            && s.fully_labeled_replicas == Some(3)
            && s.observed_generation == Some(1))
        .then_some(())
    })
    .await;

    // Scale down: the ready pod is kept.
    rss.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 1}})),
    )
    .await
    .unwrap();
    let left = eventually("1 pod", || async {
        let p = active_pods(&c.client, "default", "app=web").await;
        (p.len() == 1).then_some(p)
    })
    .await;
    assert_eq!(left[0].metadata.name.as_deref(), Some(ready_name.as_str()));
    eventually("events", || async {
        let created = event_messages(&c.client, "default", "web", "SuccessfulCreate").await;
        let deleted = event_messages(&c.client, "default", "web", "SuccessfulDelete").await;
        (created.len() == 3
            && deleted.len() == 2
            && created[0].starts_with("Created pod: web-")
            && deleted[0].starts_with("Deleted pod: web-"))
        .then_some(())
    })
    .await;
}

#[tokio::test]
async fn replica_set_adopts_orphans_and_releases_mismatches() {
    let c = TestCluster::start().await.unwrap();
    let pods: Api<Pod> = Api::namespaced(c.client.clone(), "default");
    let orphan: Pod = serde_json::from_value(json!({
        "metadata": {"name": "orphan", "labels": {"app": "db"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}
    }))
    .unwrap();
    pods.create(&PostParams::default(), &orphan).await.unwrap();
    let client = c.client.clone();
    let _stop = start(|rx| ReplicaSetController::new(client.clone()).run(rx));
    let rss: Api<ReplicaSet> = Api::namespaced(c.client.clone(), "default");
    let rs = rss
        .create(&PostParams::default(), &replica_set("db", 2))
        .await
        .unwrap();
    let uid = rs.metadata.uid.unwrap();

    eventually("adoption", || async {
        let p = pods.get("orphan").await.ok()?;
        let owned = p
            .metadata
            .owner_references?
            .iter()
            .any(|r| r.uid == uid && r.controller == Some(true));
        owned.then_some(())
    })
    .await;
    eventually("2 pods", || async {
        (active_pods(&c.client, "default", "app=db").await.len() == 2).then_some(())
    })
    .await;
    // Relabel: released, and replaced.
    pods.patch(
        "orphan",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "other"}}})),
    )
    .await
    .unwrap();
    eventually("release", || async {
        let p = pods.get("orphan").await.ok()?;
        p.metadata
            .owner_references
            .unwrap_or_default()
            .iter()
            .all(|r| r.uid != uid)
            .then_some(())
    })
    .await;
    eventually("replacement", || async {
        (active_pods(&c.client, "default", "app=db").await.len() == 2).then_some(())
    })
    .await;
}

#[tokio::test]
async fn replica_set_reports_create_failures() {
    use k8s_openapi::api::core::v1::ResourceQuota;
    let c = TestCluster::start().await.unwrap();
    // Act as the quota controller: one pod allowed, none used.
    let quotas: Api<ResourceQuota> = Api::namespaced(c.client.clone(), "default");
    let q: ResourceQuota = serde_json::from_value(
        json!({"metadata": {"name": "pods"}, "spec": {"hard": {"pods": "1"}}}),
    )
    .unwrap();
    quotas.create(&PostParams::default(), &q).await.unwrap();
    quotas
        .patch_status(
            "pods",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"hard": {"pods": "1"}, "used": {"pods": "0"}}})),
        )
        .await
        .unwrap();
    let client = c.client.clone();
    let _stop = start(|rx| ReplicaSetController::new(client.clone()).run(rx));
    let rss: Api<ReplicaSet> = Api::namespaced(c.client.clone(), "default");
    rss.create(&PostParams::default(), &replica_set("q", 2))
        .await
        .unwrap();
    let cond = eventually("ReplicaFailure", || async {
        let s = rss.get("q").await.ok()?.status?;
        s.conditions?
            .into_iter()
            .find(|c| c.type_ == "ReplicaFailure")
    })
    .await;
    assert_eq!(cond.status, "True");
    assert_eq!(cond.reason.as_deref(), Some("FailedCreate"));
    assert!(
        cond.message
            .as_deref()
            .unwrap()
            .contains("exceeded quota: pods"),
        "{cond:?}"
    );
    assert_eq!(active_pods(&c.client, "default", "app=q").await.len(), 1);
    eventually("FailedCreate event", || async {
        let m = event_messages(&c.client, "default", "q", "FailedCreate").await;
        m.iter()
            .any(|m| m.starts_with("Error creating: pods \"q-") && m.contains("exceeded quota"))
            .then_some(())
    })
    .await;
}
