mod common;

use berth_apiserver::testing::TestCluster;
use berth_workloads::StatefulSetController;
use common::*;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

fn image_of(p: &Pod) -> String {
    p.spec.as_ref().unwrap().containers[0]
        .image
        .clone()
        .unwrap()
}

#[tokio::test]
async fn ordered_creation_rolling_update_with_partition_and_scale_down() {
    let c = TestCluster::start().await.unwrap();
    let client = c.client.clone();
    let _stop = start(|rx| StatefulSetController::new(client.clone()).run(rx));
    let api: Api<StatefulSet> = Api::namespaced(c.client.clone(), "default");
    let sts: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 3,
            "serviceName": "web",
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}
            }
        }
    }))
    .unwrap();
    api.create(&PostParams::default(), &sts).await.unwrap();

    // OrderedReady: web-1 waits for web-0 to be ready.
    let first = eventually("web-0", || async {
        active_pods(&c.client, "default", "app=web")
            .await
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(first.metadata.name.as_deref(), Some("web-0"));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(active_pods(&c.client, "default", "app=web").await.len(), 1);
    let labels = first.metadata.labels.clone().unwrap();
    assert_eq!(labels["statefulset.kubernetes.io/pod-name"], "web-0");
    assert_eq!(labels["apps.kubernetes.io/pod-index"], "0");
    let spec = first.spec.clone().unwrap();
    assert_eq!(
        (spec.hostname.as_deref(), spec.subdomain.as_deref()),
        (Some("web-0"), Some("web"))
    );

    let _kubelet = fake_kubelet(c.client.clone(), "default");
    let s1 = eventually("3 ready", || async {
        let s = api.get("web").await.ok()?.status?;
        (s.ready_replicas == Some(3) && s.replicas == 3).then_some(s)
    })
    .await;
    let rev1 = s1.update_revision.clone().unwrap();
    assert_eq!(s1.current_revision.as_deref(), Some(rev1.as_str()));
    assert!(rev1.starts_with("web-"));
    let revs: Api<ControllerRevision> = Api::namespaced(c.client.clone(), "default");
    assert_eq!(revs.get(&rev1).await.unwrap().revision, 1);
    for p in active_pods(&c.client, "default", "app=web").await {
        assert_eq!(
            p.metadata.labels.as_ref().unwrap()["controller-revision-hash"],
            rev1
        );
    }

    // Rolling update held at partition 2: only web-2 moves.
    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
            "template": {"spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}
        }})),
    )
    .await
    .unwrap();
    let rev2 = eventually("web-2 updated", || async {
        let s = api.get("web").await.ok()?.status?;
        let rev2 = s.update_revision.clone()?;
        let pods = active_pods(&c.client, "default", "app=web").await;
        let web2 = pods
            .iter()
            .find(|p| p.metadata.name.as_deref() == Some("web-2"))?;
        (rev2 != rev1
            && image_of(web2) == "nginx:2"
            && s.updated_replicas == Some(1)
            && s.ready_replicas == Some(3))
        .then_some(rev2)
    })
    .await;
    let pods = active_pods(&c.client, "default", "app=web").await;
    let old: Vec<_> = pods.iter().filter(|p| image_of(p) == "nginx:1").collect();
    assert_eq!(old.len(), 2);
    assert_eq!(
        api.get("web")
            .await
            .unwrap()
            .status
            .unwrap()
            .current_revision
            .as_deref(),
        Some(rev1.as_str())
    );

    // Partition 0: the rest rolls, and the update revision becomes current.
    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}})),
    )
    .await
    .unwrap();
    eventually("rollout done", || async {
        let s = api.get("web").await.ok()?.status?;
        let pods = active_pods(&c.client, "default", "app=web").await;
        (pods.len() == 3
            && pods.iter().all(|p| image_of(p) == "nginx:2")
            && s.current_revision.as_deref() == Some(rev2.as_str())
            && s.current_replicas == Some(3)
            && s.updated_replicas == Some(3))
        .then_some(())
    })
    .await;

    // Scale down removes the highest ordinals.
    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 1}})),
    )
    .await
    .unwrap();
    eventually("scaled down", || async {
        let pods = active_pods(&c.client, "default", "app=web").await;
        (pods.len() == 1 && pods[0].metadata.name.as_deref() == Some("web-0")).then_some(())
    })
    .await;
    let all = revs.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(all.len(), 2);
}
