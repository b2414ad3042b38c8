//! kubectl with its default flags (OpenAPI validation, Tables, protobuf, aggregated discovery,
//! strategic merge and server-side apply) against the real binary; and the same features through
//! kube-rs.

#[macro_use]
mod common;

use common::Berth;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

const TWO_CONTAINERS: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
          name: http
      - name: side
        image: busybox:1.36
        ports:
        - containerPort: 9000
"#;

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn apply_create_explain_with_default_validation() {
    require_kubectl!();
    let berth = Berth::start();
    // First apply creates (OpenAPI fetched, fieldValidation=Strict).
    let out = berth.kubectl_stdin(&["apply", "-f", "-"], Some(TWO_CONTAINERS));
    assert!(out.status.success(), "{}", stderr(&out));
    // Second apply of a changed manifest changes only what changed (strategic merge patch).
    let changed = TWO_CONTAINERS.replace("nginx:1.25", "nginx:1.26");
    let out = berth.kubectl_stdin(&["apply", "-f", "-"], Some(&changed));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("deployment.apps/web configured"));
    let d: serde_json::Value =
        serde_json::from_str(&berth.kubectl_ok(&["get", "deploy", "web", "-o", "json"]))
            .expect("json");
    let containers = d["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers");
    assert_eq!(containers.len(), 2);
    assert_eq!(containers[0]["image"], "nginx:1.26");
    assert_eq!(containers[0]["ports"][0]["containerPort"], 80);
    assert_eq!(containers[1]["image"], "busybox:1.36");
    assert_eq!(containers[1]["ports"][0]["containerPort"], 9000);
    assert_eq!(d["metadata"]["generation"], 2);

    // Unknown fields are rejected with the server's strict decoding error.
    let bad = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndatta:\n  a: b\n";
    let out = berth.kubectl_stdin(&["create", "-f", "-"], Some(bad));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("unknown field \"datta\""),
        "{}",
        stderr(&out)
    );
    let good = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: b\n";
    let out = berth.kubectl_stdin(&["create", "-f", "-"], Some(good));
    assert!(out.status.success(), "{}", stderr(&out));

    // explain reads the OpenAPI documents.
    let explain = berth.kubectl_ok(&["explain", "deployment.spec.strategy"]);
    assert!(explain.contains("rollingUpdate"), "{explain}");
}

#[test]
fn tables_wide_columns_and_generators() {
    require_kubectl!();
    let berth = Berth::start();
    // Generators send protobuf.
    for args in [
        vec!["create", "namespace", "shop"],
        vec![
            "create",
            "deployment",
            "api",
            "-n",
            "shop",
            "--image=python:3.11",
            "--replicas=2",
        ],
        vec![
            "create",
            "job",
            "once",
            "-n",
            "shop",
            "--image=busybox",
            "--",
            "echo",
            "hi",
        ],
        vec![
            "create",
            "cronjob",
            "nightly",
            "-n",
            "shop",
            "--image=busybox",
            "--schedule=0 3 * * *",
            "--",
            "echo",
            "hi",
        ],
        vec![
            "create",
            "configmap",
            "cfg",
            "-n",
            "shop",
            "--from-literal=a=b",
        ],
        vec![
            "create",
            "secret",
            "generic",
            "pw",
            "-n",
            "shop",
            "--from-literal=p=q",
        ],
        vec![
            "create",
            "service",
            "nodeport",
            "api",
            "-n",
            "shop",
            "--tcp=80:8000",
        ],
    ] {
        let out = berth.kubectl(&args);
        assert!(out.status.success(), "kubectl {args:?}: {}", stderr(&out));
    }
    let out = berth.kubectl(&[
        "run",
        "one",
        "-n",
        "shop",
        "--image=busybox",
        "--",
        "sleep",
        "1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = berth.kubectl(&[
        "expose",
        "deployment",
        "api",
        "-n",
        "shop",
        "--name=api-int",
        "--port=80",
        "--target-port=8000",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Table columns as Kubernetes prints them.
    let deploy = berth.kubectl_ok(&["get", "deploy", "-n", "shop", "-o", "wide"]);
    let header = deploy.lines().next().unwrap_or_default();
    for col in [
        "NAME",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "AGE",
        "CONTAINERS",
        "IMAGES",
        "SELECTOR",
    ] {
        assert!(header.contains(col), "{deploy}");
    }
    assert!(deploy.contains("0/2"), "{deploy}");
    let svc = berth.kubectl_ok(&["get", "svc", "-n", "shop"]);
    assert!(
        svc.lines()
            .next()
            .unwrap_or_default()
            .contains("CLUSTER-IP"),
        "{svc}"
    );
    assert!(svc.contains("NodePort") && svc.contains("80:3"), "{svc}");
    let cj = berth.kubectl_ok(&["get", "cronjob", "-n", "shop"]);
    assert!(cj.contains("0 3 * * *"), "{cj}");
    let pods = berth.kubectl_ok(&["get", "pods", "-A", "--show-labels"]);
    assert!(
        pods.lines()
            .next()
            .unwrap_or_default()
            .contains("NAMESPACE"),
        "{pods}"
    );
    assert!(
        pods.contains("shop") && pods.contains("Pending") && pods.contains("run=one"),
        "{pods}"
    );

    // scale through the scale subresource; describe reads events by field selector.
    berth.kubectl_ok(&["scale", "deployment", "api", "-n", "shop", "--replicas=4"]);
    assert_eq!(
        berth.kubectl_ok(&[
            "get",
            "deploy",
            "api",
            "-n",
            "shop",
            "-o",
            "jsonpath={.spec.replicas}"
        ]),
        "4"
    );
    let described = berth.kubectl_ok(&["describe", "deployment", "api", "-n", "shop"]);
    assert!(
        described.contains("Replicas:") && described.contains("4 desired"),
        "{described}"
    );
    let described = berth.kubectl_ok(&["describe", "service", "api", "-n", "shop"]);
    assert!(described.contains("NodePort"), "{described}");
    let described = berth.kubectl_ok(&["describe", "pod", "one", "-n", "shop"]);
    assert!(described.contains("busybox"), "{described}");

    // whoami, wait for a condition and for deletion, delete with cascade.
    let whoami = berth.kubectl_ok(&["auth", "whoami"]);
    assert!(whoami.contains("berth-admin"), "{whoami}");
    berth.kubectl_ok(&[
        "delete",
        "deployment",
        "api",
        "-n",
        "shop",
        "--cascade=foreground",
        "--wait",
    ]);
    let out = berth.kubectl(&[
        "wait",
        "--for=delete",
        "deployment/api",
        "-n",
        "shop",
        "--timeout=20s",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn nodes_cordon_taint_drain_and_server_side_apply() {
    require_kubectl!();
    let berth = Berth::start();
    let node = r#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1","labels":{"kubernetes.io/hostname":"n1"}}}"#;
    berth.kubectl_stdin(&["create", "-f", "-"], Some(node));
    berth.kubectl_ok(&["cordon", "n1"]);
    assert_eq!(
        berth.kubectl_ok(&["get", "node", "n1", "-o", "jsonpath={.spec.unschedulable}"]),
        "true"
    );
    let nodes = berth.kubectl_ok(&["get", "nodes"]);
    assert!(nodes.contains("SchedulingDisabled"), "{nodes}");
    berth.kubectl_ok(&["uncordon", "n1"]);
    berth.kubectl_ok(&["taint", "node", "n1", "dedicated=db:NoSchedule"]);
    let taints = berth.kubectl_ok(&["get", "node", "n1", "-o", "jsonpath={.spec.taints[0].key}"]);
    assert_eq!(taints, "dedicated");
    let described = berth.kubectl_ok(&["describe", "node", "n1"]);
    assert!(described.contains("dedicated=db:NoSchedule"), "{described}");

    // drain evicts bound pods, honouring a PodDisruptionBudget.
    for name in ["a", "b"] {
        let pod = format!(
            r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{name}","labels":{{"app":"db"}}}},"spec":{{"nodeName":"n1","containers":[{{"name":"c","image":"busybox"}}]}}}}"#
        );
        berth.kubectl_stdin(&["create", "-f", "-"], Some(&pod));
    }
    berth.kubectl_ok(&[
        "create",
        "poddisruptionbudget",
        "db",
        "--selector=app=db",
        "--min-available=2",
    ]);
    // No disruption allowed (the budget's status says 0): eviction is refused with 429.
    let out = berth.kubectl(&["drain", "n1", "--force", "--grace-period=0", "--timeout=5s"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("disruption budget"),
        "{}",
        stderr(&out)
    );
    berth.kubectl_ok(&["delete", "pdb", "db"]);
    let out = berth.kubectl(&[
        "drain",
        "n1",
        "--force",
        "--grace-period=0",
        "--timeout=30s",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let pods = berth.kubectl_ok(&["get", "pods", "-o", "name"]);
    assert!(pods.trim().is_empty(), "{pods}");

    // Server-side apply: a second manager changing a field conflicts; --force-conflicts wins.
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\ndata:\n  mode: fast\n";
    let out = berth.kubectl_stdin(&["apply", "--server-side", "-f", "-"], Some(cm));
    assert!(out.status.success(), "{}", stderr(&out));
    let other = cm.replace("fast", "slow");
    let out = berth.kubectl_stdin(
        &["apply", "--server-side", "--field-manager=ops", "-f", "-"],
        Some(&other),
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("conflict with \"kubectl\""),
        "{}",
        stderr(&out)
    );
    let out = berth.kubectl_stdin(
        &[
            "apply",
            "--server-side",
            "--field-manager=ops",
            "--force-conflicts",
            "-f",
            "-",
        ],
        Some(&other),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        berth.kubectl_ok(&["get", "cm", "shared", "-o", "jsonpath={.data.mode}"]),
        "slow"
    );
}

#[tokio::test]
async fn kube_rs_server_side_apply_and_strategic_merge() {
    let berth = Berth::start();
    let client = berth.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"a": "1", "b": "2"}});
    let created = cms
        .patch("ssa", &PatchParams::apply("alice"), &Patch::Apply(&cm))
        .await
        .expect("apply creates");
    let mf = created.metadata.managed_fields.clone().unwrap_or_default();
    assert_eq!(mf.len(), 1);
    assert_eq!(mf[0].manager.as_deref(), Some("alice"));
    assert_eq!(mf[0].operation.as_deref(), Some("Apply"));

    let bob = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"a": "9"}});
    let err = cms
        .patch("ssa", &PatchParams::apply("bob"), &Patch::Apply(&bob))
        .await
        .expect_err("conflict");
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 409);
            assert_eq!(s.reason, "Conflict");
            assert!(
                s.message
                    .contains("Apply failed with 1 conflict: conflict with \"alice\""),
                "{}",
                s.message
            );
        }
        other => panic!("{other:?}"),
    }
    let forced = cms
        .patch(
            "ssa",
            &PatchParams::apply("bob").force(),
            &Patch::Apply(&bob),
        )
        .await
        .expect("force");
    assert_eq!(
        forced
            .data
            .as_ref()
            .and_then(|d| d.get("a"))
            .map(String::as_str),
        Some("9")
    );
    // alice drops `b` from her configuration: it is removed, as nobody else owns it.
    let alice2 =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {}});
    let after = cms
        .patch("ssa", &PatchParams::apply("alice"), &Patch::Apply(&alice2))
        .await
        .expect("alice again");
    let data = after.data.unwrap_or_default();
    assert_eq!(data.get("a").map(String::as_str), Some("9"));
    assert!(!data.contains_key("b"), "{data:?}");

    // Strategic merge on a Deployment keeps the other containers.
    let deps: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let d: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "smp"},
        "spec": {"selector": {"matchLabels": {"app": "smp"}}, "template": {"metadata": {"labels": {"app": "smp"}},
            "spec": {"containers": [{"name": "a", "image": "x:1", "env": [{"name": "K", "value": "1"}, {"name": "L", "value": "2"}]}, {"name": "b", "image": "y:1"}]}}}
    }))
    .expect("deployment");
    deps.patch("smp", &PatchParams::apply("setup"), &Patch::Apply(&d))
        .await
        .expect("apply deployment");
    let patched = deps
        .patch("smp", &PatchParams::default(), &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "env": [{"name": "K", "$patch": "delete"}]}]}}}})))
        .await
        .expect("strategic");
    let pod = patched
        .spec
        .and_then(|s| s.template.spec)
        .expect("pod spec");
    assert_eq!(pod.containers.len(), 2);
    let env: Vec<String> = pod.containers[0]
        .env
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(env, ["L"]);
}

#[test]
fn crd_wait_condition_printer_columns_and_watch_tables() {
    require_kubectl!();
    let berth = Berth::start();
    let crd = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
"#;
    let out = berth.kubectl_stdin(&["apply", "-f", "-"], Some(crd));
    assert!(out.status.success(), "{}", stderr(&out));
    let waited = berth.kubectl_ok(&[
        "wait",
        "--for=condition=Established",
        "crd/widgets.example.com",
        "--timeout=20s",
    ]);
    assert!(waited.contains("condition met"), "{waited}");
    let w = r#"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"size":3}}"#;
    let out = berth.kubectl_stdin(&["apply", "-f", "-"], Some(w));
    assert!(out.status.success(), "{}", stderr(&out));
    let table = berth.kubectl_ok(&["get", "widgets"]);
    let mut lines = table.lines();
    assert_eq!(
        lines
            .next()
            .map(|l| l.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["NAME", "SIZE"]),
        "{table}"
    );
    assert_eq!(
        lines
            .next()
            .map(|l| l.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["w1", "3"]),
        "{table}"
    );

    // `kubectl get -w` prints Table rows for events after the initial list.
    let watch = std::process::Command::new("kubectl")
        .args(["get", "configmaps", "-w", "--request-timeout=6s"])
        .env("KUBECONFIG", berth.kubeconfig())
        .env("HOME", &berth.dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("kubectl get -w");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    berth.kubectl_ok(&["create", "configmap", "watched-one", "--from-literal=a=b"]);
    let out = watch.wait_with_output().expect("watch output");
    let text = String::from_utf8_lossy(&out.stdout);
    let row = text
        .lines()
        .find(|l| l.starts_with("watched-one"))
        .unwrap_or_default();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells.get(1), Some(&"1"), "DATA column in: {text}");
}
