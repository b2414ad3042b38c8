//! Scheduling, simulated nodes and admission end to end: `berth up --simulated-nodes N` with
//! kubectl and `berth scheduler explain`.

#[macro_use]
mod common;

use common::Berth;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(120);

fn apply(berth: &Berth, yaml: &str) {
    let out = berth.kubectl_stdin(&["apply", "-f", "-"], Some(yaml));
    assert!(
        out.status.success(),
        "kubectl apply failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn explain(berth: &Berth, pod: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["scheduler", "explain", pod, "--kubeconfig"])
        .arg(berth.kubeconfig())
        .output()
        .expect("berth scheduler explain");
    assert!(
        out.status.success(),
        "explain failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Six replicas on three simulated nodes become available, spread two per node (the default
/// topology spread of pods owned by a ReplicaSet); the scheduler explains its choice.
#[test]
fn deployment_spreads_over_simulated_nodes() {
    require_kubectl!();
    let berth = Berth::start_with(&["--simulated-nodes", "3"]);
    berth.wait_for("3 Ready nodes", LONG, || {
        let nodes = berth.get_json(&["nodes"]);
        let ready = nodes["items"]
            .as_array()?
            .iter()
            .filter(|n| {
                n["status"]["conditions"].as_array().is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                })
            })
            .count();
        (ready == 3).then_some(())
    });
    apply(
        &berth,
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: spread}
spec:
  replicas: 6
  selector: {matchLabels: {app: spread}}
  template:
    metadata: {labels: {app: spread}}
    spec:
      containers:
      - name: main
        image: busybox
        command: ["sleep", "3600"]
        resources: {requests: {cpu: 100m, memory: 64Mi}}
"#,
    );
    berth.kubectl_ok(&["rollout", "status", "deployment/spread", "--timeout=120s"]);
    let pods = berth.get_json(&["pods", "-l", "app=spread"]);
    let mut per_node: BTreeMap<String, usize> = BTreeMap::new();
    for p in pods["items"].as_array().expect("items") {
        let node = p["spec"]["nodeName"].as_str().expect("bound").to_string();
        assert!(node.starts_with("berth-sim-"), "{node}");
        *per_node.entry(node).or_default() += 1;
    }
    assert_eq!(
        per_node.values().copied().collect::<Vec<_>>(),
        vec![2, 2, 2],
        "{per_node:?}"
    );
    let name = pods["items"][0]["metadata"]["name"]
        .as_str()
        .expect("name")
        .to_string();
    let text = explain(&berth, &name);
    assert!(text.contains("Scheduled to: berth-sim-"), "{text}");
    assert!(text.contains("3 feasible"), "{text}");
    assert!(text.contains("NodeResourcesBalancedAllocation"), "{text}");
}

/// A pod that fits nowhere gets kube-scheduler's FailedScheduling message and condition, is
/// explained, and is scheduled once it fits.
#[test]
fn unschedulable_pod_is_reported_and_explained() {
    require_kubectl!();
    let berth = Berth::start_with(&["--simulated-nodes", "2"]);
    berth.wait_for("2 nodes", LONG, || {
        (berth.get_json(&["nodes"])["items"].as_array()?.len() == 2).then_some(())
    });
    apply(
        &berth,
        r#"apiVersion: v1
kind: Pod
metadata: {name: huge}
spec:
  containers:
  - name: main
    image: busybox
    command: ["sleep", "3600"]
    resources: {requests: {cpu: "64"}}
"#,
    );
    let message = berth.wait_for("a FailedScheduling event", LONG, || {
        let events = berth.get_json(&["events", "--field-selector", "reason=FailedScheduling"]);
        events["items"]
            .as_array()?
            .first()
            .and_then(|e| e["message"].as_str().map(str::to_string))
    });
    assert!(
        message.starts_with("0/2 nodes are available: 2 Insufficient cpu."),
        "{message}"
    );
    let pod = berth.get_json(&["pod", "huge"]);
    let scheduled = pod["status"]["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .find(|c| c["type"] == "PodScheduled")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(scheduled["status"], "False", "{pod}");
    assert_eq!(scheduled["reason"], "Unschedulable", "{pod}");
    let text = explain(&berth, "huge");
    assert!(
        text.contains("Not scheduled: 0/2 nodes are available"),
        "{text}"
    );
    assert!(text.contains("2  Insufficient cpu"), "{text}");

    // Make it fit: lower the request by recreating the pod.
    berth.kubectl_ok(&["delete", "pod", "huge", "--wait=true"]);
    apply(
        &berth,
        r#"apiVersion: v1
kind: Pod
metadata: {name: huge}
spec:
  containers:
  - name: main
    image: busybox
    command: ["sleep", "3600"]
    resources: {requests: {cpu: "8"}}
"#,
    );
    berth.kubectl_ok(&[
        "wait",
        "--for=condition=Ready",
        "pod/huge",
        "--timeout=120s",
    ]);
}

/// A ResourceQuota refuses pods beyond it with Kubernetes' message, and LimitRange defaults fill
/// in requests.
#[test]
fn quota_refuses_and_limit_range_defaults() {
    require_kubectl!();
    let berth = Berth::start_with(&["--simulated-nodes", "1"]);
    apply(
        &berth,
        r#"apiVersion: v1
kind: LimitRange
metadata: {name: defaults}
spec:
  limits:
  - type: Container
    default: {cpu: 200m, memory: 128Mi}
    defaultRequest: {cpu: 100m, memory: 64Mi}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: small}
spec:
  hard: {pods: "2", requests.cpu: 250m}
"#,
    );
    let pod = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  containers:\n  - name: main\n    image: busybox\n    command: [sleep, \"3600\"]\n"
        )
    };
    apply(&berth, &pod("one"));
    let one = berth.get_json(&["pod", "one"]);
    assert_eq!(
        one["spec"]["containers"][0]["resources"]["requests"]["cpu"], "100m",
        "{one}"
    );
    assert_eq!(
        one["spec"]["containers"][0]["resources"]["limits"]["memory"], "128Mi",
        "{one}"
    );
    apply(&berth, &pod("two"));
    let out = berth.kubectl_stdin(&["apply", "-f", "-"], Some(&pod("three")));
    assert!(!out.status.success(), "the third pod is over the quota");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is forbidden: exceeded quota: small, requested: pods=1,requests.cpu=100m, used: pods=2,requests.cpu=200m, limited: pods=2,requests.cpu=250m"),
        "{err}"
    );
    let quota = berth.wait_for("quota usage", LONG, || {
        let q = berth.get_json(&["resourcequota", "small"]);
        (q["status"]["used"]["pods"] == "2").then_some(q)
    });
    assert_eq!(quota["status"]["used"]["requests.cpu"], "200m", "{quota}");
}
