//! The API server through the real kubectl, as a user runs it.

#[macro_use]
mod common;

use common::Berth;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: team-a
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
        command: ["python3", "-m", "http.server", "80"]
        ports:
        - containerPort: 80
      - name: side
        image: busybox
        command: ["sleep", "infinity"]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: team-a
data:
  mode: fast
"#;

#[test]
fn everyday_kubectl_commands() {
    require_kubectl!();
    let berth = Berth::start();

    // version: the dispatcher picks the 1.33 kubectl from the server's version.
    let v = berth.kubectl_ok(&["version", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&v).expect("version json");
    assert_eq!(v["serverVersion"]["major"], "1");
    assert_eq!(v["serverVersion"]["minor"], "33");

    // api-resources lists built-ins with short names and groups.
    let ar = berth.kubectl_ok(&["api-resources"]);
    for needle in [
        "deployments",
        "deploy",
        "apps/v1",
        "customresourcedefinitions",
        "leases",
        "cronjobs",
    ] {
        assert!(ar.contains(needle), "api-resources lacks {needle}:\n{ar}");
    }

    // create namespace (kubectl sends protobuf).
    let out = berth.kubectl_ok(&["create", "namespace", "team-a"]);
    assert!(out.contains("namespace/team-a created"), "{out}");

    // apply (create path) without validation.
    let out = berth.kubectl_stdin(&["apply", "--validate=false", "-f", "-"], Some(DEPLOYMENT));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("deployment.apps/web created"), "{text}");
    assert!(text.contains("configmap/settings created"), "{text}");

    // get -o json / yaml.
    let json = berth.kubectl_ok(&["get", "deployment", "web", "-n", "team-a", "-o", "json"]);
    let d: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"],
        80
    );
    assert!(
        d["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .is_string()
    );
    let yaml = berth.kubectl_ok(&["get", "configmap", "settings", "-n", "team-a", "-o", "yaml"]);
    assert!(yaml.contains("mode: fast"), "{yaml}");

    // label, annotate.
    berth.kubectl_ok(&[
        "label",
        "configmap",
        "settings",
        "-n",
        "team-a",
        "tier=backend",
    ]);
    berth.kubectl_ok(&[
        "annotate",
        "configmap",
        "settings",
        "-n",
        "team-a",
        "owner=ops",
    ]);
    let labels = berth.kubectl_ok(&[
        "get",
        "configmap",
        "-n",
        "team-a",
        "-l",
        "tier=backend",
        "-o",
        "name",
    ]);
    assert_eq!(labels.trim(), "configmap/settings");
    let ann = berth.kubectl_ok(&[
        "get",
        "configmap",
        "settings",
        "-n",
        "team-a",
        "-o",
        "jsonpath={.metadata.annotations.owner}",
    ]);
    assert_eq!(ann, "ops");

    // patch --type merge and --type json.
    berth.kubectl_ok(&[
        "patch",
        "configmap",
        "settings",
        "-n",
        "team-a",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"mode":"slow"}}"#,
    ]);
    berth.kubectl_ok(&[
        "patch",
        "configmap",
        "settings",
        "-n",
        "team-a",
        "--type",
        "json",
        "-p",
        r#"[{"op":"add","path":"/data/extra","value":"1"}]"#,
    ]);
    let data = berth.kubectl_ok(&[
        "get",
        "configmap",
        "settings",
        "-n",
        "team-a",
        "-o",
        "jsonpath={.data.mode},{.data.extra}",
    ]);
    assert_eq!(data, "slow,1");

    // A failing json patch test is reported, not applied.
    let out = berth.kubectl(&[
        "patch",
        "configmap",
        "settings",
        "-n",
        "team-a",
        "--type",
        "json",
        "-p",
        r#"[{"op":"test","path":"/data/mode","value":"fast"}]"#,
    ]);
    assert!(!out.status.success());

    // get -w streams changes until the server ends the watch.
    let mut watch = Command::new("kubectl")
        .args([
            "get",
            "configmaps",
            "-n",
            "team-a",
            "-w",
            "--request-timeout=8s",
            "-o",
            "name",
        ])
        .env("KUBECONFIG", berth.kubeconfig())
        .env("HOME", &berth.dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kubectl get -w");
    let stdout = watch.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let done = line.contains("watched");
            lines.push(line);
            if done {
                break;
            }
        }
        lines
    });
    std::thread::sleep(Duration::from_millis(1500));
    berth.kubectl_ok(&[
        "create",
        "configmap",
        "watched",
        "-n",
        "team-a",
        "--from-literal=a=b",
    ]);
    let lines = reader.join().expect("reader");
    let _ = watch.kill();
    let _ = watch.wait();
    assert!(
        lines.iter().any(|l| l.contains("configmap/settings")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("configmap/watched")),
        "{lines:?}"
    );

    // delete, and the object is gone.
    let out = berth.kubectl_ok(&["delete", "configmap", "settings", "-n", "team-a"]);
    assert!(out.contains("configmap \"settings\" deleted"), "{out}");
    let out = berth.kubectl(&["get", "configmap", "settings", "-n", "team-a"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("configmaps \"settings\" not found"), "{err}");

    // Errors come back as Kubernetes words them.
    let out = berth.kubectl(&["create", "namespace", "Bad_Name"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is invalid") && err.contains("RFC 1123"),
        "{err}"
    );
    let out = berth.kubectl(&["delete", "namespace", "default"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("may not be deleted"));
}

/// The ServiceAccount token controller fills a `kubernetes.io/service-account-token` Secret with
/// a working token (revoked with the Secret), and every namespace has `kube-root-ca.crt`.
#[test]
fn legacy_token_secret_and_root_ca() {
    require_kubectl!();
    let berth = Berth::start();
    berth.kubectl_ok(&["create", "serviceaccount", "robot"]);
    let secret = r#"apiVersion: v1
kind: Secret
metadata:
  name: robot-token
  annotations: {kubernetes.io/service-account.name: robot}
type: kubernetes.io/service-account-token
"#;
    let out = berth.kubectl_stdin(&["apply", "-f", "-"], Some(secret));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = berth.wait_for("the token", std::time::Duration::from_secs(60), || {
        let s = berth.get_json(&["secret", "robot-token"]);
        let b64 = s["data"]["token"].as_str()?.to_string();
        let out = std::process::Command::new("base64")
            .arg("-d")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().map(|mut i| i.write_all(b64.as_bytes()));
                c.wait_with_output()
            })
            .ok()?;
        Some(String::from_utf8_lossy(&out.stdout).into_owned())
    });
    let who = berth.kubectl_ok(&[
        "auth",
        "whoami",
        "--token",
        &token,
        "-o",
        "jsonpath={.status.userInfo.username}",
    ]);
    assert_eq!(who, "system:serviceaccount:default:robot");
    berth.kubectl_ok(&["delete", "secret", "robot-token"]);
    let denied = berth.kubectl(&["auth", "whoami", "--token", &token]);
    assert!(!denied.status.success(), "the token went with its Secret");
    let ca = berth.get_json(&["configmap", "kube-root-ca.crt"]);
    assert!(
        ca["data"]["ca.crt"]
            .as_str()
            .is_some_and(|c| c.starts_with("-----BEGIN CERTIFICATE-----")),
        "{ca}"
    );
}
