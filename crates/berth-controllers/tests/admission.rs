//! The API server's LimitRanger, ResourceQuota and DefaultTolerationSeconds admission, with the
//! resource quota controller keeping quota status current.

mod common;

use std::time::Duration;

use berth_apiserver::testing::TestCluster;
use berth_controllers::{ResourceQuotaConfig, ResourceQuotaController};
use common::*;
use k8s_openapi::api::core::v1::{ConfigMap, LimitRange, Pod, ResourceQuota};
use kube::api::{Api, DeleteParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::json;
use tokio::sync::watch;

async fn try_create<K>(
    client: &Client,
    ns: &str,
    body: serde_json::Value,
) -> Result<K, (u16, String)>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
{
    let obj: K = serde_json::from_value(body).unwrap();
    Api::<K>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &obj)
        .await
        .map_err(|e| match e {
            kube::Error::Api(s) => (s.code, s.message.clone()),
            other => panic!("unexpected error {other}"),
        })
}

fn pod(name: &str, resources: serde_json::Value) -> serde_json::Value {
    json!({"metadata": {"name": name}, "spec": {"containers": [
        {"name": name, "image": "busybox", "resources": resources}
    ]}})
}

fn used(q: &ResourceQuota, name: &str) -> Option<String> {
    q.status
        .as_ref()?
        .used
        .as_ref()?
        .get(name)
        .map(|q| q.0.clone())
}

#[tokio::test]
async fn quotas_are_enforced_charged_and_recalculated() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    let (tx, rx) = watch::channel(false);
    let config = ResourceQuotaConfig {
        resync_period: Duration::from_secs(2),
        ..ResourceQuotaConfig::default()
    };
    tokio::spawn(ResourceQuotaController::with_config(client.clone(), config).run(rx));
    let ns = "rq";
    create_namespace(&client, ns).await;
    try_create::<ResourceQuota>(
        &client,
        ns,
        json!({
            "metadata": {"name": "compute"},
            "spec": {"hard": {"pods": "2", "cpu": "1", "count/configmaps": "1"}}
        }),
    )
    .await
    .unwrap();
    let quotas: Api<ResourceQuota> = Api::namespaced(client.clone(), ns);
    eventually("quota status calculated", || async {
        let q = quotas.get("compute").await.unwrap();
        (used(&q, "cpu").as_deref() == Some("0") && used(&q, "pods").as_deref() == Some("0"))
            .then_some(())
    })
    .await;

    try_create::<Pod>(&client, ns, pod("a", json!({"requests": {"cpu": "600m"}})))
        .await
        .unwrap();
    // Charged by admission at once, before the controller looks.
    let q = quotas.get("compute").await.unwrap();
    assert_eq!(used(&q, "cpu").as_deref(), Some("600m"));
    assert_eq!(used(&q, "pods").as_deref(), Some("1"));

    let err = try_create::<Pod>(&client, ns, pod("b", json!({"requests": {"cpu": "500m"}})))
        .await
        .unwrap_err();
    assert_eq!(err.0, 403);
    assert_eq!(
        err.1,
        "pods \"b\" is forbidden: exceeded quota: compute, requested: cpu=500m, used: cpu=600m, limited: cpu=1"
    );
    let err = try_create::<Pod>(&client, ns, pod("c", json!({})))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        (
            403,
            "pods \"c\" is forbidden: failed quota: compute: must specify cpu for: c".to_string()
        )
    );

    try_create::<ConfigMap>(&client, ns, json!({"metadata": {"name": "cm1"}}))
        .await
        .unwrap();
    let err = try_create::<ConfigMap>(&client, ns, json!({"metadata": {"name": "cm2"}}))
        .await
        .unwrap_err();
    assert_eq!(
        err.1,
        "configmaps \"cm2\" is forbidden: exceeded quota: compute, requested: count/configmaps=1, used: count/configmaps=1, limited: count/configmaps=1"
    );
    // After a deletion the controller gives the unit back.
    Api::<ConfigMap>::namespaced(client.clone(), ns)
        .delete("cm1", &DeleteParams::default())
        .await
        .unwrap();
    eventually("configmap quota released", || async {
        let q = quotas.get("compute").await.unwrap();
        (used(&q, "count/configmaps").as_deref() == Some("0")).then_some(())
    })
    .await;
    try_create::<ConfigMap>(&client, ns, json!({"metadata": {"name": "cm2"}}))
        .await
        .unwrap();
    tx.send_replace(true);
}

#[tokio::test]
async fn limit_ranges_default_and_bound_containers() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    let ns = "lr";
    create_namespace(&client, ns).await;
    try_create::<LimitRange>(&client, ns, json!({
        "metadata": {"name": "limits"},
        "spec": {"limits": [{"type": "Container",
            "default": {"cpu": "500m"}, "defaultRequest": {"cpu": "100m"}, "max": {"cpu": "1"}}]}
    }))
    .await
    .unwrap();

    let p: Pod = try_create(&client, ns, pod("small", json!({})))
        .await
        .unwrap();
    let resources = p.spec.as_ref().unwrap().containers[0]
        .resources
        .clone()
        .unwrap();
    assert_eq!(resources.requests.unwrap()["cpu"].0, "100m");
    assert_eq!(resources.limits.unwrap()["cpu"].0, "500m");
    assert_eq!(
        p.annotations()
            .get("kubernetes.io/limit-ranger")
            .map(String::as_str),
        Some(
            "LimitRanger plugin set: cpu request for container small; cpu limit for container small"
        )
    );
    assert_eq!(
        p.status.as_ref().unwrap().qos_class.as_deref(),
        Some("Burstable")
    );
    // DefaultTolerationSeconds.
    let tolerations = p.spec.as_ref().unwrap().tolerations.clone().unwrap();
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        let t = tolerations
            .iter()
            .find(|t| t.key.as_deref() == Some(key))
            .unwrap();
        assert_eq!(
            (t.effect.as_deref(), t.toleration_seconds),
            (Some("NoExecute"), Some(300))
        );
    }

    let err = try_create::<Pod>(&client, ns, pod("big", json!({"limits": {"cpu": "2"}})))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        (
            403,
            "pods \"big\" is forbidden: maximum cpu usage per Container is 1, but limit is 2"
                .to_string()
        )
    );
}

#[tokio::test]
async fn concurrent_creates_cannot_overrun_a_quota() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    let (tx, rx) = watch::channel(false);
    tokio::spawn(ResourceQuotaController::new(client.clone()).run(rx));
    let ns = "race";
    create_namespace(&client, ns).await;
    try_create::<ResourceQuota>(
        &client,
        ns,
        json!({
            "metadata": {"name": "count"}, "spec": {"hard": {"count/configmaps": "3"}}
        }),
    )
    .await
    .unwrap();
    let quotas: Api<ResourceQuota> = Api::namespaced(client.clone(), ns);
    eventually("quota status calculated", || async {
        let q = quotas.get("count").await.unwrap();
        used(&q, "count/configmaps").map(|_| ())
    })
    .await;
    // The controller has done its part; without it, only admission's optimistic updates of
    // status.used stand between the concurrent creates and the limit.
    tx.send_replace(true);
    let creates = (0..10).map(|i| {
        let client = client.clone();
        async move {
            try_create::<ConfigMap>(&client, ns, json!({"metadata": {"name": format!("cm{i}")}}))
                .await
        }
    });
    let results = futures::future::join_all(creates).await;
    let created = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(created, 3);
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|(code, _)| *code == 403)
    );
    let q = quotas.get("count").await.unwrap();
    assert_eq!(used(&q, "count/configmaps").as_deref(), Some("3"));
}
