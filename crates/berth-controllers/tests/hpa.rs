//! The horizontal pod autoscaler against an in-process API server, with fixed pod metrics.

mod common;

use std::sync::Arc;
use std::time::Duration;

use berth_apiserver::testing::TestCluster;
use berth_controllers::{HpaConfig, HpaController, PodMetricsSource};
use common::*;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use kube::api::{Api, PostParams};
use serde_json::json;
use tokio::sync::watch;

/// Every pod uses 90m of CPU.
struct Busy;

impl PodMetricsSource for Busy {
    fn cpu_usage_millicores(&self, _: &str, _: &str) -> Option<u64> {
        Some(90)
    }
}

#[tokio::test]
async fn busy_pods_scale_their_deployment_up() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    let ns = "hpa";
    create_namespace(&client, ns).await;
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
    }))
    .unwrap();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), ns);
    deployments
        .create(&PostParams::default(), &deployment)
        .await
        .unwrap();
    // Act as the deployment controller and node agent: two running, ready pods.
    for (name, ip) in [("web-a", "10.0.0.1"), ("web-b", "10.0.0.2")] {
        create_pod(
            &client,
            ns,
            json!({"metadata": {"name": name, "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "nginx",
                "resources": {"requests": {"cpu": "100m"}}}]}}),
        )
        .await;
        set_pod_running(&client, ns, name, ip, true).await;
    }
    let hpa: HorizontalPodAutoscaler = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1, "maxReplicas": 10,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 50}}}]}
    }))
    .unwrap();
    let hpas: Api<HorizontalPodAutoscaler> = Api::namespaced(client.clone(), ns);
    hpas.create(&PostParams::default(), &hpa).await.unwrap();

    let (tx, rx) = watch::channel(false);
    let config = HpaConfig {
        sync_period: Duration::from_millis(200),
        ..HpaConfig::default()
    };
    tokio::spawn(HpaController::with_config(client.clone(), Arc::new(Busy), config).run(rx));

    // ceil(2 pods * 90 % / 50 %) = 4.
    eventually("deployment scaled to 4", || async {
        let d = deployments.get("web").await.unwrap();
        (d.spec.unwrap().replicas == Some(4)).then_some(())
    })
    .await;
    let status = eventually("autoscaler status", || async {
        let s = hpas.get("web").await.unwrap().status?;
        (s.desired_replicas == 4).then_some(s)
    })
    .await;
    let metric = status.current_metrics.unwrap()[0].resource.clone().unwrap();
    assert_eq!(metric.current.average_utilization, Some(90));
    assert_eq!(metric.current.average_value.unwrap().0, "90m");
    let condition = |t: &str| {
        status
            .conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == t)
            .map(|c| (c.status.clone(), c.reason.clone().unwrap_or_default()))
            .unwrap()
    };
    assert_eq!(condition("AbleToScale").0, "True");
    assert_eq!(
        condition("ScalingActive"),
        ("True".into(), "ValidMetricFound".into())
    );
    assert_eq!(
        condition("ScalingLimited"),
        ("False".into(), "DesiredWithinRange".into())
    );
    assert!(status.last_scale_time.is_some());
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(client.clone(), ns);
    let note = eventually("SuccessfulRescale event", || async {
        let list = events.list(&Default::default()).await.unwrap();
        list.items
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("SuccessfulRescale"))
            .and_then(|e| e.message)
    })
    .await;
    assert_eq!(
        note,
        "New size: 4; reason: cpu resource utilization (percentage of request) above target"
    );
    tx.send_replace(true);
}
