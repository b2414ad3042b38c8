//! Network namespaces, cgroup limits, probes, init containers and volumes.

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

fn web_pod(name: &str) -> serde_json::Value {
    json!({
        "metadata": {"name": name},
        "spec": {"containers": [{
            "name": "web",
            "image": "python",
            "command": ["python3", "-m", "http.server", "8080", "--bind", "0.0.0.0"],
            "ports": [{"name": "http", "containerPort": 8080}],
            "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 1},
            "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "500m", "memory": "128Mi"}}
        }]}
    })
}

#[tokio::test]
async fn replicas_on_the_same_port_get_their_own_network_namespace() {
    let mut h = Harness::start(10).await;
    h.create_pod(web_pod("web-a")).await;
    h.create_pod(web_pod("web-b")).await;
    let a = h
        .wait_pod("web-a", 60, |p| {
            condition(p, "Ready").as_deref() == Some("True")
        })
        .await;
    let b = h
        .wait_pod("web-b", 60, |p| {
            condition(p, "Ready").as_deref() == Some("True")
        })
        .await;
    let ip_a = a.status.as_ref().unwrap().pod_ip.clone().unwrap();
    let ip_b = b.status.as_ref().unwrap().pod_ip.clone().unwrap();
    assert_ne!(ip_a, ip_b);
    assert_eq!(
        a.status.as_ref().unwrap().qos_class.as_deref(),
        Some("Guaranteed")
    );
    assert_eq!(condition(&a, "ContainersReady").as_deref(), Some("True"));
    assert_eq!(
        condition(&a, "PodReadyToStartContainers").as_deref(),
        Some("True")
    );
    let cs = container_state(&a, "web").unwrap();
    assert!(cs.ready && cs.started == Some(true));
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    for ip in [&ip_a, &ip_b] {
        let resp = client
            .get(format!("http://{ip}:8080/"))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success());
    }
    // Usage comes from the pod cgroups.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let usage = h.usage.usage();
        if usage
            .iter()
            .any(|u| u.name == "web-a" && u.memory_working_set_bytes > 0)
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no usage: {usage:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    h.stop().await;
}

#[tokio::test]
async fn memory_limit_kills_with_oom_killed() {
    let mut h = Harness::start(11).await;
    h.create_pod(json!({
        "metadata": {"name": "hog"},
        "spec": {"restartPolicy": "Never", "containers": [{
            "name": "hog",
            "image": "python",
            "command": ["python3", "-c", "import time\nx = []\nwhile True:\n    x.append(bytearray(8 * 1024 * 1024))\n    time.sleep(0.01)"],
            "resources": {"limits": {"memory": "64Mi"}}
        }]}
    }))
    .await;
    let pod = h.wait_pod("hog", 90, |p| phase(p) == "Failed").await;
    let term = container_state(&pod, "hog")
        .unwrap()
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!(term.reason.as_deref(), Some("OOMKilled"));
    assert_eq!(term.exit_code, 137);
    assert_eq!(pod.status.unwrap().qos_class.as_deref(), Some("Burstable"));
    h.stop().await;
}

#[tokio::test]
async fn failed_liveness_probe_restarts_the_container() {
    let mut h = Harness::start(12).await;
    let marker = h.root.path().join("healthy");
    std::fs::write(&marker, "").unwrap();
    h.create_pod(json!({
        "metadata": {"name": "sick"},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [{
            "name": "c",
            "image": "busybox",
            "command": ["sh", "-c", format!("rm -f {}; sleep 1000", marker.display())],
            "livenessProbe": {"exec": {"command": ["test", "-e", marker.display().to_string()]}, "periodSeconds": 1, "failureThreshold": 2}
        }]}
    }))
    .await;
    let pod = h
        .wait_pod("sick", 90, |p| {
            container_state(p, "c").is_some_and(|c| c.restart_count >= 1)
        })
        .await;
    let cs = container_state(&pod, "c").unwrap();
    let last = cs.last_state.clone().unwrap().terminated.unwrap();
    assert_eq!(last.exit_code, 143, "{last:?}");
    h.stop().await;
}

#[tokio::test]
async fn init_containers_run_first_and_volumes_are_mounted() {
    let mut h = Harness::start(13).await;
    let cms: Api<ConfigMap> = Api::namespaced(h.client.clone(), "default");
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "conf"}, "data": {"app.conf": "v1"}}))
            .unwrap(),
    )
    .await
    .unwrap();
    let mount_root = format!("/tmp/berth-node-test-{}", std::process::id());
    h.create_pod(json!({
        "metadata": {"name": "withinit", "labels": {"tier": "x"}},
        "spec": {
            "initContainers": [{"name": "prepare", "image": "busybox", "command": ["sh", "-c", format!("echo prepared > {mount_root}/work/ready")],
                "volumeMounts": [{"name": "work", "mountPath": format!("{mount_root}/work")}]}],
            "containers": [{"name": "main", "image": "busybox",
                "command": ["sh", "-c", format!("cat {mount_root}/work/ready {mount_root}/conf/app.conf; echo; cat {mount_root}/info/labels; echo; sleep 1000")],
                "volumeMounts": [
                    {"name": "work", "mountPath": format!("{mount_root}/work")},
                    {"name": "conf", "mountPath": format!("{mount_root}/conf")},
                    {"name": "info", "mountPath": format!("{mount_root}/info")}
                ]}],
            "volumes": [
                {"name": "work", "emptyDir": {}},
                {"name": "conf", "configMap": {"name": "conf"}},
                {"name": "info", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}}
            ]
        }
    }))
    .await;
    let pod = h.wait_pod("withinit", 60, |p| phase(p) == "Running").await;
    let init = pod
        .status
        .as_ref()
        .unwrap()
        .init_container_statuses
        .clone()
        .unwrap();
    let t = init[0].state.clone().unwrap().terminated.unwrap();
    assert_eq!((t.exit_code, t.reason.as_deref()), (0, Some("Completed")));
    // Follow the log until the expected lines are there.
    let mut req = h.log_request(&pod, "main");
    req.follow = true;
    let mut stream = h.logs.open(req).await.unwrap();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !text.contains("tier=\"x\"") {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("log lines")
            .unwrap()
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.starts_with("prepared\nv1\n"), "{text:?}");
    // The mounts are private to the container: the host directory stays empty.
    assert!(!std::path::Path::new(&format!("{mount_root}/work/ready")).exists());
    // ConfigMap changes reach the volume directory (kubelet re-syncs within a minute).
    cms.patch(
        "conf",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"app.conf": "v2"}})),
    )
    .await
    .unwrap();
    let file = h
        .root
        .path()
        .join("node/pods")
        .join(format!(
            "default_withinit_{}",
            pod.metadata.uid.clone().unwrap()
        ))
        .join(".volumes/conf/app.conf");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while std::fs::read_to_string(&file).unwrap_or_default() != "v2" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "configmap change not synced"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    h.stop().await;
    let _ = std::fs::remove_dir_all(&mount_root);
}
