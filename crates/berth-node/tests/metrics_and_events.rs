//! Resource metrics from the agent (per container and for the node, also served through the
//! API server's `metrics.k8s.io`) and kubelet's container events.

mod common;

use std::sync::Arc;
use std::time::Duration;

use berth_apiserver::metrics::{
    ContainerMetricsSample, NodeMetricsSample, PodMetricsSample, ResourceMetricsSource,
};
use common::*;
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, DeleteParams, ListParams};
use serde_json::json;

/// What the binary plugs into the API server (the bridge between the two crates' types).
struct Bridge(Arc<berth_node::ResourceMetrics>);

impl ResourceMetricsSource for Bridge {
    fn pods(&self) -> Vec<PodMetricsSample> {
        self.0
            .pods()
            .into_iter()
            .map(|p| PodMetricsSample {
                namespace: p.namespace,
                name: p.name,
                containers: p
                    .containers
                    .into_iter()
                    .map(|c| ContainerMetricsSample {
                        name: c.name,
                        cpu_nanocores: c.cpu_nanocores,
                        memory_working_set_bytes: c.memory_working_set_bytes,
                    })
                    .collect(),
                timestamp: p.timestamp,
                window: p.window,
            })
            .collect()
    }
    fn nodes(&self) -> Vec<NodeMetricsSample> {
        self.0
            .nodes()
            .into_iter()
            .map(|n| NodeMetricsSample {
                name: n.name,
                cpu_nanocores: n.cpu_nanocores,
                memory_working_set_bytes: n.memory_working_set_bytes,
                timestamp: n.timestamp,
                window: n.window,
            })
            .collect()
    }
}

async fn raw_get(h: &Harness, path: &str) -> serde_json::Value {
    let req = http::Request::get(path).body(Vec::new()).unwrap();
    let text = h.client.request_text(req).await.unwrap();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn resource_metrics_per_container_and_for_the_node() {
    let mut h = Harness::start(30).await;
    h.create_pod(json!({
        "metadata": {"name": "busy", "labels": {"app": "busy"}},
        "spec": {"containers": [
            {"name": "spin", "image": "busybox", "command": ["sh", "-c", "while :; do :; done"]},
            {"name": "idle", "image": "busybox", "command": ["sleep", "3600"]},
        ]}
    }))
    .await;
    h.wait_pod("busy", 60, |p| phase(p) == "Running").await;

    // Usage needs two readings; wait until the pod is reported with both containers.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let pod = loop {
        let pods = h.metrics.pods();
        if let Some(p) = pods.into_iter().find(|p| p.name == "busy")
            && p.containers.len() == 2
            && p.containers.iter().map(|c| c.cpu_nanocores).sum::<u64>() > 0
        {
            break p;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no metrics for pod busy"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(pod.namespace, "default");
    let mut names: Vec<&str> = pod.containers.iter().map(|c| c.name.as_str()).collect();
    names.sort();
    assert_eq!(names, vec!["idle", "spin"]);
    assert!(pod.window >= Duration::from_millis(100));
    let cpu: u64 = pod.containers.iter().map(|c| c.cpu_nanocores).sum();
    // A busy loop uses far more than 10 millicores even on a loaded machine.
    assert!(cpu > 10_000_000, "pod cpu {cpu}n");
    assert!(
        pod.containers
            .iter()
            .all(|c| c.memory_working_set_bytes > 0)
    );

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let node = loop {
        if let Some(n) = h.metrics.nodes().pop() {
            break n;
        }
        assert!(tokio::time::Instant::now() < deadline, "no node metrics");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(node.name, h.node);
    assert!(node.cpu_nanocores > 0);
    assert!(node.memory_working_set_bytes > 0);

    // Through the API server, as `kubectl top` reads it.
    h.cluster
        .server
        .set_resource_metrics_source(Arc::new(Bridge(h.metrics.clone())));
    let one = raw_get(
        &h,
        "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy",
    )
    .await;
    assert_eq!(one["kind"], "PodMetrics");
    assert_eq!(one["metadata"]["labels"]["app"], "busy");
    assert_eq!(one["containers"].as_array().unwrap().len(), 2);
    let cpu = one["containers"][0]["usage"]["cpu"].as_str().unwrap();
    assert!(
        cpu.ends_with('n') || cpu.ends_with('u') || cpu.ends_with('m'),
        "{cpu}"
    );
    // The agent registered its Node before running pods, so the node is listed.
    let nodes = raw_get(&h, "/apis/metrics.k8s.io/v1beta1/nodes").await;
    assert_eq!(nodes["items"].as_array().unwrap().len(), 1, "{nodes}");
    assert_eq!(nodes["items"][0]["metadata"]["name"], h.node.as_str());
    assert!(nodes["items"][0]["usage"]["memory"].is_string());
    h.stop().await;
}

fn find<'a>(events: &'a [Event], container: &str, reason: &str) -> Option<&'a Event> {
    let path = format!("spec.containers{{{container}}}");
    events.iter().find(|e| {
        e.reason.as_deref() == Some(reason)
            && e.involved_object.field_path.as_deref() == Some(path.as_str())
    })
}

async fn wait_events(
    h: &Harness,
    secs: u64,
    what: &str,
    done: impl Fn(&[Event]) -> bool,
) -> Vec<Event> {
    let api: Api<Event> = Api::namespaced(h.client.clone(), "default");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let events = api.list(&ListParams::default()).await.unwrap().items;
        if done(&events) {
            return events;
        }
        if tokio::time::Instant::now() > deadline {
            let seen: Vec<String> = events
                .iter()
                .map(|e| {
                    format!(
                        "{:?} {:?} {:?}",
                        e.involved_object.field_path, e.reason, e.message
                    )
                })
                .collect();
            panic!("{what}: events so far: {seen:#?}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn kubelet_events_for_the_container_lifecycle() {
    let mut h = Harness::start(31).await;
    let pod = h
        .create_pod(json!({
            "metadata": {"name": "ev"},
            "spec": {
                "terminationGracePeriodSeconds": 5,
                "containers": [
                    {"name": "app", "image": "busybox:1.36", "command": ["sleep", "3600"],
                     "lifecycle": {"preStop": {"exec": {"command": ["false"]}}}},
                    {"name": "crash", "image": "busybox", "command": ["sh", "-c", "exit 1"]},
                    {"name": "hook", "image": "busybox", "command": ["sleep", "3600"],
                     "lifecycle": {"postStart": {"exec": {"command": ["false"]}}}},
                    {"name": "badcwd", "image": "busybox", "command": ["sleep", "3600"],
                     "workingDir": "/nonexistent-berth-test-dir"},
                ]
            }
        }))
        .await;
    let uid = pod.metadata.uid.clone().unwrap();

    let events = wait_events(&h, 60, "start-up events", |ev| {
        find(ev, "app", "Started").is_some()
            && find(ev, "crash", "BackOff").is_some()
            && find(ev, "hook", "FailedPostStartHook").is_some()
            && find(ev, "hook", "Killing").is_some()
            && find(ev, "badcwd", "Failed").is_some()
    })
    .await;
    let pulled = find(&events, "app", "Pulled").unwrap();
    assert_eq!(
        pulled.message.as_deref(),
        Some("Container image \"busybox:1.36\" already present on machine")
    );
    assert_eq!(pulled.type_.as_deref(), Some("Normal"));
    let source = pulled.source.as_ref().unwrap();
    assert_eq!(source.component.as_deref(), Some("kubelet"));
    assert_eq!(source.host.as_deref(), Some(h.node.as_str()));
    assert_eq!(pulled.reporting_component.as_deref(), Some("kubelet"));
    assert_eq!(pulled.reporting_instance.as_deref(), Some(h.node.as_str()));
    assert_eq!(pulled.involved_object.kind.as_deref(), Some("Pod"));
    assert_eq!(pulled.involved_object.name.as_deref(), Some("ev"));
    assert_eq!(pulled.involved_object.uid.as_deref(), Some(uid.as_str()));
    assert_eq!(pulled.count, Some(1));
    assert_eq!(
        find(&events, "app", "Created").unwrap().message.as_deref(),
        Some("Created container: app")
    );
    assert_eq!(
        find(&events, "app", "Started").unwrap().message.as_deref(),
        Some("Started container app")
    );
    let backoff = find(&events, "crash", "BackOff").unwrap();
    assert_eq!(backoff.type_.as_deref(), Some("Warning"));
    assert_eq!(
        backoff.message.as_deref(),
        Some(
            format!("Back-off restarting failed container crash in pod ev_default({uid})").as_str()
        )
    );
    let hook = find(&events, "hook", "FailedPostStartHook").unwrap();
    assert_eq!(
        (hook.type_.as_deref(), hook.message.as_deref()),
        (Some("Warning"), Some("PostStartHook failed"))
    );
    assert_eq!(
        find(&events, "hook", "Killing").unwrap().message.as_deref(),
        Some("FailedPostStartHook")
    );
    let failed = find(&events, "badcwd", "Failed").unwrap();
    assert_eq!(failed.type_.as_deref(), Some("Warning"));
    assert!(
        failed
            .message
            .as_deref()
            .unwrap()
            .starts_with("Error: working directory")
    );

    // The crashing container starts again after its back-off: the same event is counted.
    wait_events(&h, 60, "repeated Started", |ev| {
        find(ev, "crash", "Started").is_some_and(|e| e.count.unwrap_or(0) >= 2)
    })
    .await;

    h.pods()
        .delete("ev", &DeleteParams::default())
        .await
        .unwrap();
    let events = wait_events(&h, 60, "stop events", |ev| {
        find(ev, "app", "Killing").is_some() && find(ev, "app", "FailedPreStopHook").is_some()
    })
    .await;
    assert_eq!(
        find(&events, "app", "Killing").unwrap().message.as_deref(),
        Some("Stopping container app")
    );
    assert_eq!(
        find(&events, "app", "FailedPreStopHook")
            .unwrap()
            .message
            .as_deref(),
        Some("PreStopHook failed")
    );
    h.wait_gone("ev", 60).await;
    h.stop().await;
}
