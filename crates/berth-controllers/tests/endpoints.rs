//! The endpoints and EndpointSlice controllers against an in-process API server.

mod common;

use berth_apiserver::testing::TestCluster;
use berth_controllers::endpointslice::{self, CONTROLLER_NAME, LABEL_MANAGED_BY};
use berth_controllers::{EndpointSliceController, EndpointsController};
use common::*;
use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;
use tokio::sync::watch;

async fn create_service(client: &kube::Client, ns: &str, body: serde_json::Value) -> Service {
    let svc: Service = serde_json::from_value(body).unwrap();
    Api::<Service>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &svc)
        .await
        .unwrap()
}

fn web_pod(name: &str, port: i32) -> serde_json::Value {
    json!({
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "nginx",
            "ports": [{"name": "http", "containerPort": port}]}]}
    })
}

#[tokio::test]
async fn endpoints_follow_pods_of_selecting_services() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    let (tx, rx) = watch::channel(false);
    tokio::spawn(EndpointsController::new(client.clone()).run(rx));
    let ns = "ep";
    create_namespace(&client, ns).await;
    create_service(&client, ns, json!({
        "metadata": {"name": "web", "labels": {"tier": "front"}},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}
    }))
    .await;
    create_pod(&client, ns, web_pod("a", 8080)).await;
    create_pod(&client, ns, web_pod("b", 8080)).await;
    set_pod_running(&client, ns, "a", "10.244.0.5", true).await;
    set_pod_running(&client, ns, "b", "10.244.0.6", false).await;

    let endpoints: Api<Endpoints> = Api::namespaced(client.clone(), ns);
    let ep = eventually("ready and not-ready addresses", || async {
        let ep = endpoints.get_opt("web").await.unwrap()?;
        let subset = ep.subsets.as_ref()?.first()?.clone();
        (subset.addresses.as_ref().map(Vec::len) == Some(1)
            && subset.not_ready_addresses.as_ref().map(Vec::len) == Some(1))
        .then_some(ep)
    })
    .await;
    let subset = &ep.subsets.as_ref().unwrap()[0];
    let ready = &subset.addresses.as_ref().unwrap()[0];
    assert_eq!(ready.ip, "10.244.0.5");
    assert_eq!(ready.node_name.as_deref(), Some("node-1"));
    assert_eq!(
        ready.target_ref.as_ref().unwrap().name.as_deref(),
        Some("a")
    );
    assert_eq!(
        subset.not_ready_addresses.as_ref().unwrap()[0].ip,
        "10.244.0.6"
    );
    let port = &subset.ports.as_ref().unwrap()[0];
    assert_eq!((port.name.as_deref(), port.port), (Some("http"), 8080));
    assert_eq!(ep.labels().get("tier").map(String::as_str), Some("front"));
    assert!(
        ep.annotations()
            .contains_key("endpoints.kubernetes.io/last-change-trigger-time")
    );

    // A terminating pod leaves the endpoints (a finalizer keeps it around while terminating).
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let mut a = pods.get("a").await.unwrap();
    a.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    pods.replace("a", &PostParams::default(), &a).await.unwrap();
    pods.delete("a", &DeleteParams::default()).await.unwrap();
    eventually("terminating pod removed", || async {
        let ep = endpoints.get("web").await.unwrap();
        let ips: Vec<String> = ep
            .subsets
            .iter()
            .flatten()
            .flat_map(|s| {
                s.addresses
                    .iter()
                    .chain(s.not_ready_addresses.iter())
                    .flatten()
            })
            .map(|a| a.ip.clone())
            .collect();
        (ips == ["10.244.0.6"]).then_some(())
    })
    .await;

    // Services without a selector are left alone.
    create_service(
        &client,
        ns,
        json!({
            "metadata": {"name": "manual"}, "spec": {"ports": [{"port": 80}]}
        }),
    )
    .await;
    let manual: Endpoints = serde_json::from_value(json!({
        "metadata": {"name": "manual"},
        "subsets": [{"addresses": [{"ip": "192.0.2.1"}], "ports": [{"port": 80}]}]
    }))
    .unwrap();
    endpoints
        .create(&PostParams::default(), &manual)
        .await
        .unwrap();

    // Deleting the service deletes its endpoints.
    Api::<Service>::namespaced(client.clone(), ns)
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    eventually("endpoints of the deleted service gone", || async {
        endpoints
            .get_opt("web")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    let manual = endpoints.get("manual").await.unwrap();
    assert_eq!(
        manual.subsets.unwrap()[0].addresses.as_ref().unwrap()[0].ip,
        "192.0.2.1"
    );
    tx.send_replace(true);
}

#[tokio::test]
async fn endpoint_slices_list_pods_with_conditions() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    let (tx, rx) = watch::channel(false);
    tokio::spawn(EndpointSliceController::new(client.clone()).run(rx));
    let ns = "eps";
    create_namespace(&client, ns).await;
    let svc = create_service(&client, ns, json!({
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}
    }))
    .await;
    // No pods yet: one empty placeholder slice.
    eventually("placeholder slice", || async {
        let slices = endpointslice::list_for_service(&client, ns, "web")
            .await
            .unwrap();
        (slices.len() == 1 && slices[0].endpoints.is_empty()).then_some(())
    })
    .await;

    create_pod(&client, ns, web_pod("a", 8080)).await;
    create_pod(&client, ns, web_pod("b", 8080)).await;
    set_pod_running(&client, ns, "a", "10.244.0.5", true).await;
    set_pod_running(&client, ns, "b", "10.244.0.6", false).await;
    let slice = eventually("slice with both pods", || async {
        let slices = endpointslice::list_for_service(&client, ns, "web")
            .await
            .unwrap();
        (slices.len() == 1 && slices[0].endpoints.len() == 2).then(|| slices[0].clone())
    })
    .await;
    assert_eq!(slice.address_type, "IPv4");
    assert_eq!(
        slice.labels().get(LABEL_MANAGED_BY).map(String::as_str),
        Some(CONTROLLER_NAME)
    );
    assert_eq!(
        slice.owner_references()[0].uid,
        svc.metadata.uid.clone().unwrap()
    );
    let port = &slice.ports.as_ref().unwrap()[0];
    assert_eq!(
        (port.name.as_deref(), port.port),
        (Some("http"), Some(8080))
    );
    let by_pod = |name: &str| {
        slice
            .endpoints
            .iter()
            .find(|e| e.target_ref.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
            .unwrap()
            .clone()
    };
    let a = by_pod("a");
    assert_eq!(a.addresses, vec!["10.244.0.5".to_string()]);
    assert_eq!(a.node_name.as_deref(), Some("node-1"));
    assert_eq!(a.conditions.as_ref().unwrap().ready, Some(true));
    assert_eq!(by_pod("b").conditions.as_ref().unwrap().ready, Some(false));

    // Deleting the service deletes its slices.
    Api::<Service>::namespaced(client.clone(), ns)
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    eventually("slices gone", || async {
        endpointslice::list_for_service(&client, ns, "web")
            .await
            .unwrap()
            .is_empty()
            .then_some(())
    })
    .await;
    tx.send_replace(true);
}
