//! Pod spec features beyond the basics: secrets, service accounts tokens, resource fields,
//! service links, hooks, users, host names, startup and TCP probes, host network.

mod common;

use std::time::Duration;

use common::*;
use k8s_openapi::api::core::v1::{Secret, Service, ServiceAccount};
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;

async fn create<K>(api: &Api<K>, value: serde_json::Value)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    api.create(
        &PostParams::default(),
        &serde_json::from_value(value).unwrap(),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn secrets_tokens_resources_and_service_links_reach_the_process() {
    let mut h =
        Harness::start_with(20, |c| c.cluster_dns = Some("10.96.0.10".parse().unwrap())).await;
    let ns = "default";
    create(
        &Api::<Secret>::namespaced(h.client.clone(), ns),
        json!({"metadata": {"name": "creds"}, "stringData": {"password": "s3cret", "user": "admin"}}),
    )
    .await;
    create(
        &Api::<ServiceAccount>::namespaced(h.client.clone(), ns),
        json!({"metadata": {"name": "runner"}}),
    )
    .await;
    create(
        &Api::<Service>::namespaced(h.client.clone(), ns),
        json!({"metadata": {"name": "my-db"}, "spec": {"ports": [{"name": "sql", "port": 5432}]}}),
    )
    .await;
    let mount = format!("/tmp/berth-node-features-{}", std::process::id());
    let pod = h
        .create_pod(json!({
            "metadata": {"name": "features"},
            "spec": {
                "restartPolicy": "Never",
                "serviceAccountName": "runner",
                "containers": [{
                    "name": "c",
                    "image": "busybox",
                    "command": ["sh", "-c", format!(
                        "echo pw=$PASSWORD mem=$MEM_MI db=$MY_DB_SERVICE_HOST:$MY_DB_SERVICE_PORT_SQL; \
                         echo user=$(cat {mount}/secret/user) token=$(wc -c < {mount}/sa/token) ns=$(cat {mount}/sa/namespace); \
                         echo host=$(cat /proc/sys/kernel/hostname) uid=$(id -u); \
                         echo hosts=$(tail -n 1 /etc/hosts) dns=$(grep nameserver /etc/resolv.conf)")],
                    "env": [
                        {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
                        {"name": "MEM_MI", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
                        {"name": "MISSING", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "x", "optional": true}}}
                    ],
                    "resources": {"limits": {"memory": "256Mi"}},
                    "securityContext": {"runAsUser": 65534},
                    "volumeMounts": [
                        {"name": "secret", "mountPath": format!("{mount}/secret")},
                        {"name": "sa", "mountPath": format!("{mount}/sa")}
                    ]
                }],
                "volumes": [
                    {"name": "secret", "secret": {"secretName": "creds", "defaultMode": 0o444}},
                    {"name": "sa", "projected": {"sources": [
                        {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}},
                        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]}}
                    ]}}
                ]
            }
        }))
        .await;
    let done = h
        .wait_pod("features", 60, |p| {
            phase(p) == "Succeeded" || phase(p) == "Failed"
        })
        .await;
    let log = h.read_log(h.log_request(&pod, "c")).await.unwrap();
    assert_eq!(phase(&done), "Succeeded", "{log} {:?}", done.status);
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines[0].starts_with("pw=s3cret mem=256 db="), "{log}");
    assert!(lines[0].ends_with(":5432"), "{log}");
    assert!(lines[1].starts_with("user=admin token="), "{log}");
    assert!(
        !lines[1].contains("token=0 "),
        "the token file has content: {log}"
    );
    assert!(lines[1].ends_with("ns=default"), "{log}");
    assert_eq!(lines[2], "host=features uid=65534");
    let pod_ip = done.status.as_ref().unwrap().pod_ip.clone().unwrap();
    assert_eq!(
        lines[3],
        format!("hosts={pod_ip} features dns=nameserver 10.96.0.10")
    );
    h.stop().await;
    let _ = std::fs::remove_dir_all(&mount);
}

#[tokio::test]
async fn missing_config_is_reported_then_picked_up() {
    let mut h = Harness::start(21).await;
    h.create_pod(json!({
        "metadata": {"name": "needs-secret"},
        "spec": {"containers": [{
            "name": "c", "image": "busybox", "command": ["sleep", "1000"],
            "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "later", "key": "x"}}}]
        }]}
    }))
    .await;
    let pod = h
        .wait_pod("needs-secret", 30, |p| {
            container_state(p, "c")
                .and_then(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone())
                .as_deref()
                == Some("CreateContainerConfigError")
        })
        .await;
    let waiting = container_state(&pod, "c")
        .unwrap()
        .state
        .clone()
        .unwrap()
        .waiting
        .unwrap();
    assert_eq!(
        waiting.message.as_deref(),
        Some("secret \"later\" not found")
    );
    create(
        &Api::<Secret>::namespaced(h.client.clone(), "default"),
        json!({"metadata": {"name": "later"}, "stringData": {"x": "1"}}),
    )
    .await;
    h.wait_pod("needs-secret", 60, |p| phase(p) == "Running")
        .await;
    h.stop().await;
}

#[tokio::test]
async fn lifecycle_hooks_and_startup_and_tcp_probes() {
    let mut h = Harness::start(22).await;
    let dir = h.root.path().to_path_buf();
    h.create_pod(json!({
        "metadata": {"name": "hooks"},
        "spec": {"terminationGracePeriodSeconds": 10, "containers": [{
            "name": "web",
            "image": "python",
            "command": ["python3", "-m", "http.server", "8081"],
            "lifecycle": {
                "postStart": {"exec": {"command": ["sh", "-c", format!("echo started > {}/post", dir.display())]}},
                "preStop": {"exec": {"command": ["sh", "-c", format!("echo stopping > {}/pre", dir.display())]}}
            },
            "startupProbe": {"tcpSocket": {"port": 8081}, "periodSeconds": 1, "failureThreshold": 30},
            "readinessProbe": {"tcpSocket": {"port": 8081}, "periodSeconds": 1}
        }]}
    }))
    .await;
    let pod = h
        .wait_pod("hooks", 60, |p| {
            condition(p, "Ready").as_deref() == Some("True")
        })
        .await;
    assert_eq!(container_state(&pod, "web").unwrap().started, Some(true));
    assert_eq!(
        std::fs::read_to_string(dir.join("post")).unwrap(),
        "started\n"
    );
    assert!(!dir.join("pre").exists());
    h.pods()
        .delete("hooks", &DeleteParams::default())
        .await
        .unwrap();
    h.wait_gone("hooks", 30).await;
    assert_eq!(
        std::fs::read_to_string(dir.join("pre")).unwrap(),
        "stopping\n"
    );
    h.stop().await;
}

#[tokio::test]
async fn host_network_pods_use_the_host_ip() {
    let mut h = Harness::start(23).await;
    h.create_pod(json!({
        "metadata": {"name": "hostnet"},
        "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "1000"]}]}
    }))
    .await;
    let pod = h.wait_pod("hostnet", 60, |p| phase(p) == "Running").await;
    let status = pod.status.unwrap();
    assert_eq!(status.pod_ip, status.host_ip);
    h.stop().await;
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[tokio::test]
async fn sidecars_run_beside_the_containers_and_stop_after_them() {
    let mut h = Harness::start(24).await;
    h.create_pod(json!({
        "metadata": {"name": "with-sidecar"},
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 5,
            "initContainers": [{"name": "proxy", "image": "busybox", "restartPolicy": "Always", "command": ["sleep", "1000"]}],
            "containers": [{"name": "job", "image": "busybox", "command": ["sh", "-c", "sleep 1; echo done"]}]
        }
    }))
    .await;
    let running = h
        .wait_pod("with-sidecar", 60, |p| {
            p.status
                .as_ref()
                .and_then(|s| s.init_container_statuses.as_ref())
                .is_some_and(|s| s[0].state.as_ref().is_some_and(|st| st.running.is_some()))
        })
        .await;
    assert_eq!(condition(&running, "Initialized").as_deref(), Some("True"));
    let done = h
        .wait_pod("with-sidecar", 60, |p| phase(p) == "Succeeded")
        .await;
    let sidecar = &done
        .status
        .as_ref()
        .unwrap()
        .init_container_statuses
        .as_ref()
        .unwrap()[0];
    assert!(
        sidecar.state.as_ref().unwrap().terminated.is_some(),
        "{sidecar:?}"
    );
    h.stop().await;
}

#[tokio::test]
async fn logs_rotate_and_tail_reads_across_files() {
    let mut h = Harness::start_with(25, |c| {
        c.container_log_max_size = 4096;
        c.container_log_max_files = 3;
    })
    .await;
    let pod = h
        .create_pod(json!({
            "metadata": {"name": "chatty"},
            "spec": {"restartPolicy": "Never", "containers": [{
                "name": "c", "image": "busybox",
                "command": ["sh", "-c", "i=0; while [ $i -lt 1000 ]; do echo line $i; i=$((i+1)); done"]
            }]}
        }))
        .await;
    h.wait_pod("chatty", 60, |p| phase(p) == "Succeeded").await;
    let dir = h
        .root
        .path()
        .join("node/pods")
        .join(format!(
            "default_chatty_{}",
            pod.metadata.uid.clone().unwrap()
        ))
        .join("c");
    let files = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(files, 3, "current file plus two rotated ones");
    let mut req = h.log_request(&pod, "c");
    req.tail_lines = Some(3);
    assert_eq!(
        h.read_log(req).await.unwrap(),
        "line 997\nline 998\nline 999\n"
    );
    let all = h.read_log(h.log_request(&pod, "c")).await.unwrap();
    assert!(all.ends_with("line 999\n"));
    assert!(
        !all.contains("line 0\n"),
        "the oldest rotated files are gone"
    );
    let first: u32 = all
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("line ")
        .parse()
        .unwrap();
    let count = all.lines().count() as u32;
    assert_eq!(first + count, 1000, "what is kept is contiguous");
    h.stop().await;
}

#[tokio::test]
async fn active_deadline_fails_the_pod() {
    let mut h = Harness::start(26).await;
    h.create_pod(json!({
        "metadata": {"name": "deadline"},
        "spec": {"activeDeadlineSeconds": 2, "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "1000"]}]}
    }))
    .await;
    let pod = h.wait_pod("deadline", 60, |p| phase(p) == "Failed").await;
    let status = pod.status.unwrap();
    assert_eq!(status.reason.as_deref(), Some("DeadlineExceeded"));
    assert_eq!(
        status.message.as_deref(),
        Some("Pod was active on the node longer than the specified deadline")
    );
    let cs = &status.container_statuses.unwrap()[0];
    assert!(cs.state.as_ref().unwrap().terminated.is_some());
    h.stop().await;
}

#[tokio::test]
async fn changing_the_image_restarts_the_container() {
    use kube::api::{Patch, PatchParams};
    let mut h = Harness::start(27).await;
    h.create_pod(json!({
        "metadata": {"name": "upgrade"},
        "spec": {"terminationGracePeriodSeconds": 1,
            "containers": [{"name": "c", "image": "app:v1", "command": ["sleep", "1000"]}]}
    }))
    .await;
    h.wait_pod("upgrade", 60, |p| phase(p) == "Running").await;
    h.pods()
        .patch(
            "upgrade",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"containers": [{"name": "c", "image": "app:v2"}]}})),
        )
        .await
        .unwrap();
    let pod = h
        .wait_pod("upgrade", 60, |p| {
            container_state(p, "c").is_some_and(|c| {
                c.restart_count == 1
                    && c.image == "app:v2"
                    && c.state.as_ref().is_some_and(|s| s.running.is_some())
            })
        })
        .await;
    assert_eq!(phase(&pod), "Running");
    h.stop().await;
}
