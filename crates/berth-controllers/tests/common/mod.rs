//! Helpers for the tests that run controllers against an in-process API server.
#![allow(dead_code)]

use std::future::Future;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, PostParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Polls `check` until it returns `Some`, failing the test after [`TIMEOUT`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn create_namespace(client: &Client, name: &str) {
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
}

/// Creates a pod from `body` (a minimal container is added when there is none).
pub async fn create_pod(client: &Client, ns: &str, mut body: Value) -> Pod {
    if body.pointer("/spec/containers").is_none() {
        body["spec"]["containers"] = json!([{"name": "c", "image": "busybox"}]);
    }
    let pod: Pod = serde_json::from_value(body).unwrap();
    Api::<Pod>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &pod)
        .await
        .unwrap()
}

/// Sets a pod's status as a node agent would: running with `ip`, Ready as given.
pub async fn set_pod_running(client: &Client, ns: &str, name: &str, ip: &str, ready: bool) {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let mut pod = api.get(name).await.unwrap();
    let status = json!({
        "phase": "Running",
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"},
            "lastTransitionTime": "2025-01-01T00:00:00Z"}]
    });
    pod.status = Some(serde_json::from_value(status).unwrap());
    api.replace_status(&pod.name_any(), &PostParams::default(), &pod)
        .await
        .unwrap();
}
