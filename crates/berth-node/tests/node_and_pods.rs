//! The node agent against an in-process API server: registration, running pods as processes,
//! status, restarts, deletion, logs.

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Node};
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;

#[tokio::test]
async fn node_registers_with_capacity_conditions_and_lease() {
    let mut h = Harness::start(1).await;
    let nodes: Api<Node> = Api::all(h.client.clone());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let node = loop {
        if let Some(n) = nodes.get_opt(&h.node).await.unwrap()
            && n.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some()
        {
            break n;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "node not registered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let labels = node.metadata.labels.clone().unwrap();
    assert_eq!(labels["kubernetes.io/hostname"], h.node);
    assert_eq!(labels["kubernetes.io/os"], "linux");
    assert!(labels.contains_key("kubernetes.io/arch"));
    assert_eq!(
        node.spec.as_ref().unwrap().pod_cidr.as_deref(),
        Some(format!("{}.0/24", h.cidr_prefix).as_str())
    );
    let status = node.status.unwrap();
    let capacity = status.capacity.unwrap();
    assert_eq!(capacity["pods"].0, "110");
    assert!(capacity["memory"].0.ends_with("Ki"));
    assert!(capacity["cpu"].0.parse::<u32>().unwrap() >= 1);
    assert!(capacity.contains_key("ephemeral-storage"));
    assert!(status.allocatable.unwrap().contains_key("memory"));
    let conditions = status.conditions.unwrap();
    let ready = conditions.iter().find(|c| c.type_ == "Ready").unwrap();
    assert_eq!(ready.status, "True");
    assert_eq!(ready.reason.as_deref(), Some("KubeletReady"));
    assert_eq!(
        ready.message.as_deref(),
        Some("kubelet is posting ready status")
    );
    for (t, reason) in [
        ("MemoryPressure", "KubeletHasSufficientMemory"),
        ("DiskPressure", "KubeletHasNoDiskPressure"),
        ("PIDPressure", "KubeletHasSufficientPID"),
    ] {
        let c = conditions.iter().find(|c| c.type_ == t).unwrap();
        assert_eq!(
            (c.status.as_str(), c.reason.as_deref()),
            ("False", Some(reason))
        );
    }
    assert!(conditions.iter().any(|c| c.type_ == "NetworkUnavailable"));
    let addresses = status.addresses.unwrap();
    assert!(addresses.iter().any(|a| a.type_ == "InternalIP"));
    assert!(
        addresses
            .iter()
            .any(|a| a.type_ == "Hostname" && a.address == h.node)
    );
    let info = status.node_info.unwrap();
    assert_eq!(info.operating_system, "linux");
    assert!(info.container_runtime_version.starts_with("berth://"));
    let leases: Api<Lease> = Api::namespaced(h.client.clone(), "kube-node-lease");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let lease = loop {
        if let Some(l) = leases.get_opt(&h.node).await.unwrap() {
            break l;
        }
        assert!(tokio::time::Instant::now() < deadline, "no lease");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let spec = lease.spec.unwrap();
    assert_eq!(spec.holder_identity.as_deref(), Some(h.node.as_str()));
    assert_eq!(spec.lease_duration_seconds, Some(40));
    assert!(spec.renew_time.is_some());
    h.stop().await;
}

#[tokio::test]
async fn pod_runs_to_completion_with_env_expansion_and_logs() {
    let mut h = Harness::start(2).await;
    let cms: Api<ConfigMap> = Api::namespaced(h.client.clone(), "default");
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(
            json!({"metadata": {"name": "settings"}, "data": {"color": "blue", "size": "xl"}}),
        )
        .unwrap(),
    )
    .await
    .unwrap();
    let pod = h
        .create_pod(json!({
            "metadata": {"name": "hello", "labels": {"app": "hi"}},
            "spec": {
                "restartPolicy": "Never",
                "containers": [{
                    "name": "main",
                    "image": "busybox",
                    "command": ["sh", "-c"],
                    "args": ["echo $(GREETING) from $(MY_POD) color=$(COLOR) '$$(NOT_EXPANDED)' cfg_size=$CFG_size host=$HOSTNAME k8s=$KUBERNETES_SERVICE_HOST; echo oops >&2"],
                    "env": [
                        {"name": "GREETING", "value": "hello"},
                        {"name": "MY_POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                        {"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "color"}}}
                    ],
                    "envFrom": [{"prefix": "CFG_", "configMapRef": {"name": "settings"}}]
                }]
            }
        }))
        .await;
    let done = h.wait_pod("hello", 60, |p| phase(p) == "Succeeded").await;
    let status = done.status.clone().unwrap();
    let cs = container_state(&done, "main").unwrap();
    let term = cs.state.as_ref().unwrap().terminated.as_ref().unwrap();
    assert_eq!(term.exit_code, 0);
    assert_eq!(term.reason.as_deref(), Some("Completed"));
    assert!(term.started_at.is_some() && term.finished_at.is_some());
    assert!(cs.container_id.as_deref().unwrap().starts_with("berth://"));
    assert_eq!(cs.restart_count, 0);
    assert!(!cs.ready);
    assert_eq!(condition(&done, "PodScheduled").as_deref(), Some("True"));
    assert_eq!(condition(&done, "Initialized").as_deref(), Some("True"));
    assert_eq!(condition(&done, "Ready").as_deref(), Some("False"));
    assert_eq!(status.qos_class.as_deref(), Some("BestEffort"));
    assert!(
        status
            .pod_ip
            .as_deref()
            .unwrap()
            .starts_with(&h.cidr_prefix),
        "{:?}",
        status.pod_ip
    );
    assert!(status.start_time.is_some());
    assert!(status.host_ip.is_some());
    let log = h.read_log(h.log_request(&pod, "main")).await.unwrap();
    let expected = format!(
        "hello from hello color=blue $(NOT_EXPANDED) cfg_size=xl host=hello k8s={}.1\n",
        h.cidr_prefix
    );
    assert!(log.contains(&expected), "log was {log:?}");
    assert!(log.contains("oops\n"), "stderr is logged too: {log:?}");
    // Timestamps are the CRI ones.
    let mut req = h.log_request(&pod, "main");
    req.timestamps = true;
    req.tail_lines = Some(1);
    let tail = h.read_log(req).await.unwrap();
    assert_eq!(tail.lines().count(), 1, "{tail:?}");
    let (ts, _) = tail.split_once(' ').unwrap();
    assert!(ts.parse::<jiff::Timestamp>().is_ok(), "{ts}");
    let mut req = h.log_request(&pod, "main");
    req.limit_bytes = Some(5);
    assert_eq!(h.read_log(req).await.unwrap().len(), 5);
    let mut req = h.log_request(&pod, "main");
    req.previous = true;
    let err = h.read_log(req).await.unwrap_err();
    assert_eq!(err.code, 400);
    assert_eq!(
        err.message,
        "previous terminated container \"main\" in pod \"hello\" not found"
    );
    h.stop().await;
}

#[tokio::test]
async fn container_without_command_waits_with_explanation() {
    let mut h = Harness::start(3).await;
    h.create_pod(json!({
        "metadata": {"name": "nginx"},
        "spec": {"containers": [{"name": "web", "image": "nginx"}]}
    }))
    .await;
    let pod = h
        .wait_pod("nginx", 30, |p| {
            container_state(p, "web")
                .and_then(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone())
                .as_deref()
                == Some("CreateContainerError")
        })
        .await;
    let waiting = container_state(&pod, "web")
        .unwrap()
        .state
        .clone()
        .unwrap()
        .waiting
        .unwrap();
    assert!(waiting.message.unwrap().contains("needs a command"));
    assert_eq!(phase(&pod), "Pending");
    let err = h.read_log(h.log_request(&pod, "web")).await.unwrap_err();
    assert_eq!(err.code, 400);
    assert_eq!(
        err.message,
        "container \"web\" in pod \"nginx\" is waiting to start: CreateContainerError"
    );
    h.stop().await;
}

#[tokio::test]
async fn failing_container_restarts_with_crash_loop_back_off() {
    let mut h = Harness::start(4).await;
    let pod = h
        .create_pod(json!({
            "metadata": {"name": "crasher"},
            "spec": {"containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c", "echo run; exit 3"]}]}
        }))
        .await;
    let uid = pod.metadata.uid.clone().unwrap();
    let pod = h
        .wait_pod("crasher", 60, |p| {
            container_state(p, "c").is_some_and(|c| {
                c.restart_count >= 1
                    && c.state
                        .as_ref()
                        .and_then(|s| s.waiting.as_ref())
                        .and_then(|w| w.reason.as_deref())
                        == Some("CrashLoopBackOff")
            })
        })
        .await;
    let cs = container_state(&pod, "c").unwrap();
    let waiting = cs.state.as_ref().unwrap().waiting.as_ref().unwrap();
    assert_eq!(
        waiting.message.as_deref(),
        Some(
            format!("back-off 10s restarting failed container=c pod=crasher_default({uid})")
                .as_str()
        )
    );
    let last = cs.last_state.as_ref().unwrap().terminated.as_ref().unwrap();
    assert_eq!(last.exit_code, 3);
    assert_eq!(last.reason.as_deref(), Some("Error"));
    assert_eq!(phase(&pod), "Running");
    // The previous instance's log is there.
    let mut req = h.log_request(&pod, "c");
    req.previous = true;
    assert_eq!(h.read_log(req).await.unwrap(), "run\n");
    h.stop().await;
}

#[tokio::test]
async fn deleted_pod_gets_sigterm_then_is_removed() {
    let mut h = Harness::start(5).await;
    let pod = h
        .create_pod(json!({
            "metadata": {"name": "graceful"},
            "spec": {
                "terminationGracePeriodSeconds": 20,
                "containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c", "trap 'echo got-term; exit 0' TERM; echo started; while true; do sleep 0.1; done"]}]
            }
        }))
        .await;
    h.wait_pod("graceful", 60, |p| {
        condition(p, "Ready").as_deref() == Some("True")
    })
    .await;
    // A follower sees the output up to the exit, then the stream ends.
    let mut req = h.log_request(&pod, "c");
    req.follow = true;
    let mut stream = h.logs.open(req).await.unwrap();
    h.pods()
        .delete("graceful", &DeleteParams::default())
        .await
        .unwrap();
    let mut text = String::new();
    let read_all = async {
        while let Some(chunk) = stream.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read_all)
        .await
        .expect("follow ends when the container exits");
    // (sh may also report its `sleep` child, which got the group's SIGTERM, as "Terminated".)
    assert!(text.starts_with("started\n"), "{text:?}");
    assert!(
        text.ends_with("got-term\n"),
        "the process saw SIGTERM: {text:?}"
    );
    h.wait_gone("graceful", 30).await;
    // The deleted pod's directory (logs) is removed.
    let pod_dir = h
        .root
        .path()
        .join("node/pods")
        .join(format!("default_graceful_{}", pod.metadata.uid.unwrap()));
    assert!(!pod_dir.exists());
    h.stop().await;
}

#[tokio::test]
async fn shutdown_stops_every_process() {
    let mut h = Harness::start(6).await;
    let pid_file = h.root.path().join("pid");
    h.create_pod(json!({
        "metadata": {"name": "sleeper"},
        "spec": {
            "terminationGracePeriodSeconds": 2,
            "containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c", format!("echo $$$$ > {}; exec sleep 1000", pid_file.display())]}]
        }
    }))
    .await;
    h.wait_pod("sleeper", 60, |p| phase(p) == "Running").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let pid: i32 = loop {
        if let Ok(text) = std::fs::read_to_string(&pid_file)
            && let Ok(pid) = text.trim().parse()
        {
            break pid;
        }
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok());
    h.stop().await;
    // The process is gone (or at most a zombie of ours being reaped).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false);
        if !alive {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "process {pid} survived shutdown"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !std::path::Path::new("/var/run/netns")
            .read_dir()
            .map(|d| d
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("bt6-")))
            .unwrap_or(false)
    );
}
