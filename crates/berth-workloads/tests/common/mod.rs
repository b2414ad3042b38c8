#![allow(dead_code)]
//! Test helpers: the tests act as kubelet (pod status) and scheduler (node names).

use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;

pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Marks a pod scheduled, Running and Ready (as scheduler and kubelet would).
pub async fn make_ready(client: &kube::Client, ns: &str, name: &str) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    pods.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"nodeName": "node-1"}})),
    )
    .await
    .ok();
    pods.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now}],
        }})),
    )
    .await
    .unwrap();
}

pub async fn active_pods(client: &kube::Client, ns: &str, selector: &str) -> Vec<Pod> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    pods.list(&ListParams::default().labels(selector))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect()
}

/// Messages of events with `reason` about the object `name`.
pub async fn event_messages(
    client: &kube::Client,
    ns: &str,
    name: &str,
    reason: &str,
) -> Vec<String> {
    let events: Api<Event> = Api::namespaced(client.clone(), ns);
    events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| {
            e.involved_object.name.as_deref() == Some(name) && e.reason.as_deref() == Some(reason)
        })
        .filter_map(|e| e.message)
        .collect()
}

pub fn start<F: Future<Output = ()> + Send + 'static>(
    make: impl FnOnce(tokio::sync::watch::Receiver<bool>) -> F,
) -> tokio::sync::watch::Sender<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(make(rx));
    tx
}

/// A fake kubelet: keeps marking every pod of the namespace Running and Ready.
pub fn fake_kubelet(client: kube::Client, ns: &'static str) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
            if let Ok(list) = pods.list(&ListParams::default()).await {
                for p in list.items {
                    let ready = p
                        .status
                        .as_ref()
                        .and_then(|s| s.conditions.as_ref())
                        .is_some_and(|c| {
                            c.iter().any(|c| c.type_ == "Ready" && c.status == "True")
                        });
                    if !ready && p.metadata.deletion_timestamp.is_none() {
                        make_ready(&client, ns, p.metadata.name.as_deref().unwrap()).await;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}
