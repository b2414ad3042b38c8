//! The platform end to end, the way a user runs it: `berth up` (with its in-process operator and
//! real processes on the node agent), spec files, the `berth` CLI, kubectl and curl.

#[macro_use]
mod common;

use common::Berth;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const LONG: Duration = Duration::from_secs(180);

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// A python web app answering `<VERSION> <hostname>` on every path, with `health_path` as its
/// health check (a path the server 404s on makes every new pod fail readiness). The offline
/// hook leaves `offline-<pod>` in `dir`.
fn web_spec(dir: &Path, version: &str, health_path: &str, extra: &str) -> PathBuf {
    let hook_dir = dir.display();
    let app = dir.join("app.py");
    std::fs::write(
        &app,
        r#"import http.server, os, socket
V = os.environ.get("VERSION", "?")
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/missing"):
            self.send_response(404); self.end_headers(); return
        body = f"{V} {socket.gethostname()}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, fmt, *args):
        print("GET", self.path, flush=True)
http.server.ThreadingHTTPServer(("0.0.0.0", 8000), H).serve_forever()
"#,
    )
    .expect("write app");
    let spec = dir.join("web.yaml");
    std::fs::write(
        &spec,
        format!(
            r#"kind: App
name: web
project: shop
runtime: python-3.11
entrypoint: /srv/web/app.py
ports: [{{port: 8000}}]
replicas: 2
resources: {{cpu: 50m, memory: 64Mi}}
health: {{path: {health_path}, periodSeconds: 1, failureThreshold: 2}}
domain: web.shop.test
env: {{VERSION: {version}}}
configFiles:
  - path: /srv/web/app.py
    from: app.py
lifecycle: {{offline: "echo offline > {hook_dir}/offline-$HOSTNAME", drainSeconds: 1}}
rollout: {{progressDeadlineSeconds: 60}}
{extra}"#
        ),
    )
    .expect("write spec");
    spec
}

fn app_json(berth: &Berth, name: &str) -> serde_json::Value {
    berth.get_json(&["app", name])
}

fn phase(berth: &Berth, name: &str) -> String {
    app_json(berth, name)["status"]["phase"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// The VERSION answering through the ingress router (first word of the body).
fn served_version(berth: &Berth) -> Option<String> {
    let (code, body) = berth.via_ingress("web.shop.test", "/", &[]);
    (code == 200).then(|| body.split_whitespace().next().unwrap_or("").to_string())
}

/// Pods of the App `web` that are not being deleted: (name, labels, ready).
fn web_pods(berth: &Berth) -> Vec<(String, serde_json::Value, bool)> {
    let list = berth.get_json(&["pods", "-l", "berth.dev/owner=App.web"]);
    list["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .map(|p| {
            let ready = p["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            });
            (
                p["metadata"]["name"].as_str().unwrap_or("").to_string(),
                p["metadata"]["labels"].clone(),
                ready,
            )
        })
        .collect()
}

/// [`Berth::cli_ok`], printing the app's ReplicaSets, pods, Deployment and events on failure.
fn cli_ok_or_dump(berth: &Berth, args: &[&str]) -> String {
    let out = berth.cli(args);
    if !out.status.success() {
        for what in [
            &["get", "rs,pods", "-o", "wide"][..],
            &["describe", "deployment", "web"],
            &["get", "events", "--sort-by=.lastTimestamp"],
        ] {
            let d = berth.kubectl(what);
            eprintln!("{}", String::from_utf8_lossy(&d.stdout));
        }
        panic!(
            "berth {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn deployment_container(berth: &Berth) -> serde_json::Value {
    berth.get_json(&["deployment", "web"])["spec"]["template"]["spec"]["containers"][0].clone()
}

/// Deploy, update the image, a broken release rolled back automatically (non-zero exit), manual
/// rollback, scale, debug on and off, isolate and release, logs: one app through its life.
#[test]
fn app_lifecycle_through_the_cli() {
    require_kubectl!();
    let berth = Berth::start_with_node(&[]);
    let work = tempfile::tempdir().expect("tempdir");

    // 1. First deploy: exits 0 once Available; the rendered objects exist and serve.
    let spec = web_spec(work.path(), "v1", "/healthz", "");
    let spec_s = spec.display().to_string();
    let out = berth.cli_ok(&["deploy", "-f", &spec_s, "-m", "first"]);
    assert!(out.contains("web"), "deploy output names the app: {out}");
    let app = app_json(&berth, "web");
    assert_eq!(app["status"]["phase"], "Available", "{app:#}");
    assert_eq!(app["status"]["revision"], 1, "{app:#}");
    assert_eq!(app["metadata"]["annotations"]["berth.dev/author"], "tester");
    let c = deployment_container(&berth);
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/healthz", "{c:#}");
    let pod_spec = &berth.get_json(&["deployment", "web"])["spec"]["template"]["spec"];
    assert_eq!(pod_spec["enableServiceLinks"], false);
    berth.wait_for("v1 through the ingress", LONG, || {
        (served_version(&berth).as_deref() == Some("v1")).then_some(())
    });
    let apps = berth.kubectl_ok(&["get", "apps"]);
    assert!(apps.contains("web") && apps.contains("Available"), "{apps}");

    // 2. New image: a second revision, rolled out.
    berth.cli_ok(&[
        "deploy",
        "-f",
        &spec_s,
        "--image",
        "python:3.12-slim",
        "-m",
        "py312",
    ]);
    let app = app_json(&berth, "web");
    assert_eq!(app["status"]["revision"], 2, "{app:#}");
    assert_eq!(deployment_container(&berth)["image"], "python:3.12-slim");

    // 3. A broken release (readiness never passes): the deploy fails, the operator rolls back
    //    to revision 2 on its own, and v1 keeps serving throughout.
    let broken = web_spec(work.path(), "v2", "/missing", "image: python:3.12-slim\n");
    let out = berth.cli(&[
        "deploy",
        "-f",
        &broken.display().to_string(),
        "-m",
        "broken",
    ]);
    assert!(
        !out.status.success(),
        "a failed rollout exits non-zero; stdout: {} stderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.to_lowercase().contains("roll"),
        "says it rolled back: {text}"
    );
    let app = app_json(&berth, "web");
    assert_eq!(app["status"]["phase"], "RolledBack", "{app:#}");
    // Revision 3 was the broken one; revision 4 re-applies revision 2's objects.
    assert_eq!(app["status"]["revision"], 4, "{app:#}");
    assert_eq!(served_version(&berth).as_deref(), Some("v1"));
    berth.wait_for("the broken pods gone", LONG, || {
        let pods = web_pods(&berth);
        (pods.len() == 2 && pods.iter().all(|p| p.2)).then_some(())
    });
    let history = berth.cli_ok(&["history", "web"]);
    for needle in ["first", "py312", "broken"] {
        assert!(
            history.contains(needle),
            "history shows {needle}: {history}"
        );
    }
    let revisions = berth.get_json(&["controllerrevisions", "-l", "berth.dev/owner=App.web"]);
    assert_eq!(
        revisions["items"].as_array().map(Vec::len),
        Some(4),
        "{revisions:#}"
    );

    // 4. Manual rollback to revision 1 (the first image): fast, the old ReplicaSet comes back.
    let rs_before = berth.get_json(&["replicasets", "-l", "app=web"]);
    let started = Instant::now();
    cli_ok_or_dump(&berth, &["rollback", "web", "--to-revision", "1"]);
    let took = started.elapsed();
    eprintln!("rollback to revision 1 took {took:?} (CLI wall time)");
    assert_eq!(deployment_container(&berth)["image"], "python:3.11-slim");
    let rs_after = berth.get_json(&["replicasets", "-l", "app=web"]);
    assert_eq!(
        rs_before["items"].as_array().map(Vec::len),
        rs_after["items"].as_array().map(Vec::len),
        "rollback reuses revision 1's ReplicaSet instead of creating one"
    );
    assert_eq!(phase(&berth, "web"), "Available");

    // 5. Scale.
    berth.cli_ok(&["scale", "web", "3"]);
    berth.wait_for("3 ready pods", LONG, || {
        let pods = web_pods(&berth);
        (pods.len() == 3 && pods.iter().all(|p| p.2)).then_some(())
    });

    // 6. Debug mode drops probes and hooks; --off restores them.
    berth.cli_ok(&["debug", "web"]);
    let c = deployment_container(&berth);
    assert!(
        c["readinessProbe"].is_null() && c["lifecycle"].is_null(),
        "{c:#}"
    );
    cli_ok_or_dump(&berth, &["debug", "web", "--off"]);
    let c = deployment_container(&berth);
    assert!(
        !c["readinessProbe"].is_null() && !c["lifecycle"].is_null(),
        "{c:#}"
    );

    // 7. Isolate a pod: it keeps running, leaves the Service, its offline hook runs (through
    // pods/exec), a replacement appears.
    let victim = web_pods(&berth)[0].0.clone();
    let out = berth.cli(&["isolate", &victim]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    assert!(said.contains("offline hook ran"), "{said}");
    let marker = work.path().join(format!("offline-{victim}"));
    assert_eq!(
        std::fs::read_to_string(&marker)
            .map(|s| s.trim().to_string())
            .ok(),
        Some("offline".to_string()),
        "the offline hook wrote {}: {said}",
        marker.display()
    );
    let pod = berth.get_json(&["pod", &victim]);
    assert_eq!(
        pod["metadata"]["labels"]["berth.dev/isolated"], "true",
        "{pod:#}"
    );
    assert_eq!(pod["status"]["phase"], "Running");
    assert!(pod["metadata"]["deletionTimestamp"].is_null());
    let victim_ip = pod["status"]["podIP"].as_str().unwrap_or("").to_string();
    berth.wait_for(
        "a replacement and the isolated pod out of the endpoints",
        LONG,
        || {
            let serving = web_pods(&berth)
                .into_iter()
                .filter(|p| p.1["app"] == "web" && p.2)
                .count();
            let slices =
                berth.get_json(&["endpointslices", "-l", "kubernetes.io/service-name=web"]);
            let in_endpoints = slices.to_string().contains(&format!("\"{victim_ip}\""));
            (serving == 3 && !in_endpoints).then_some(())
        },
    );
    berth.cli_ok(&["isolate", "--release", &victim]);
    berth.wait_for("the isolated pod deleted", LONG, || {
        let out = berth.kubectl(&["get", "pod", &victim]);
        (!out.status.success()).then_some(())
    });

    // 8. Logs of all pods, prefixed with the pod name.
    for _ in 0..3 {
        served_version(&berth);
    }
    let logs = berth.cli_ok(&["logs", "web", "--tail", "50"]);
    assert!(logs.contains("[web-"), "prefixed with pod names: {logs}");

    // 9. Status of one app: phase, pods, events.
    let status = berth.cli_ok(&["status", "web"]);
    assert!(
        status.contains("Available") && status.contains("web-"),
        "{status}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&berth.cli_ok(&["status", "-o", "json"])).expect("status json");
    assert!(json.to_string().contains("\"web\""), "{json:#}");
}

/// A CronApp runs every minute; `cron trigger` runs it now; `cron runs` shows both.
#[test]
fn cron_app_runs_and_is_listed() {
    require_kubectl!();
    let berth = Berth::start_with_node(&[]);
    let report = examples().join("report.yaml");
    berth.cli_ok(&["deploy", "-f", &report.display().to_string()]);
    let cron = berth.get_json(&["cronjob", "report"]);
    assert_eq!(cron["spec"]["schedule"], "* * * * *");
    assert_eq!(cron["spec"]["concurrencyPolicy"], "Forbid");

    let out = berth.cli_ok(&["cron", "trigger", "report"]);
    assert!(out.contains("report-manual-"), "{out}");
    let listed = berth.cli_ok(&["cron", "list"]);
    assert!(
        listed.contains("report") && listed.contains("* * * * *"),
        "{listed}"
    );
    // The manual run and at least one scheduled run, both succeeded.
    berth.wait_for(
        "a manual and a scheduled run succeeded",
        Duration::from_secs(150),
        || {
            let jobs = berth.get_json(&["jobs", "-l", "berth.dev/owner=CronApp.report"]);
            let items = jobs["items"].as_array().cloned().unwrap_or_default();
            let done = |manual: bool| {
                items.iter().any(|j| {
                let is_manual = j["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"]
                    == "manual";
                is_manual == manual && j["status"]["succeeded"] == 1
            })
            };
            (done(true) && done(false)).then_some(())
        },
    );
    let runs = berth.cli_ok(&["cron", "runs", "report"]);
    assert!(runs.contains("report-manual-"), "{runs}");
    assert!(runs.contains("Succeeded"), "{runs}");
    let logs = berth.cli_ok(&["logs", "report", "--tail", "5"]);
    assert!(logs.contains("report at "), "{logs}");
}

/// `berth install` + `berth operator --kubeconfig`: the operator as a separate process, exactly
/// as it runs against a real cluster.
#[test]
fn standalone_operator_through_a_kubeconfig() {
    require_kubectl!();
    let berth = Berth::start_with_node(&["--no-operator"]);
    let kubeconfig = berth.kubeconfig().display().to_string();
    let out = berth.cli_ok(&["install", "--kubeconfig", &kubeconfig]);
    assert!(out.contains("apps.berth.dev"), "{out}");
    let crds = berth.kubectl_ok(&["get", "crd"]);
    assert!(crds.contains("cronapps.berth.dev"), "{crds}");

    let log = std::fs::File::create(berth.dir.join("operator.log")).expect("log");
    let mut operator = std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
        .args([
            "operator",
            "--kubeconfig",
            &kubeconfig,
            "--cluster-name",
            "edge",
        ])
        .stderr(log)
        .spawn()
        .expect("operator");
    let work = tempfile::tempdir().expect("tempdir");
    let spec = web_spec(work.path(), "v1", "/healthz", "");
    let out = berth.cli(&["deploy", "-f", &spec.display().to_string()]);
    let _ = nix_kill(operator.id());
    let _ = operator.wait();
    assert!(
        out.status.success(),
        "deploy: {}\n{}\noperator log:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(berth.dir.join("operator.log")).unwrap_or_default()
    );
    let labels = &berth.get_json(&["deployment", "web"])["spec"]["template"]["metadata"]["labels"];
    assert_eq!(labels["cluster"], "edge", "{labels:#}");
    assert_eq!(phase(&berth, "web"), "Available");
}

fn nix_kill(pid: u32) -> std::io::Result<std::process::ExitStatus> {
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
}

/// `berth lint` and `berth render` offline, on the examples and on broken files.
#[test]
fn lint_and_render_offline() {
    let berth = Berth::start(); // only for the cli helper's environment; no cluster use
    let ex = examples().display().to_string();
    let out = berth.cli_ok(&["lint", &ex]);
    assert!(out.contains("2 apps") || out.contains("apps: 2"), "{out}");

    let bad = tempfile::tempdir().expect("tempdir");
    let file = bad.path().join("bad.yaml");
    std::fs::write(
        &file,
        "kind: App\nname: bad\nruntime: python-3.11\nentrypoint: a.py\nports:\n  - port: 8000\n    protcol: TCP\n",
    )
    .expect("write");
    let out = berth.cli(&["lint", &file.display().to_string()]);
    assert!(!out.status.success());
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("bad.yaml:7"), "file and line: {text}");
    assert!(text.contains("protcol"), "names the unknown field: {text}");

    let cron = bad.path().join("cron.yaml");
    std::fs::write(
        &cron,
        format!(
            "kind: CronApp\nname: {}\nschedule: \"0 0 30 2 *\"\nruntime: shell\nentrypoint: /x.sh\n",
            "a".repeat(53)
        ),
    )
    .expect("write");
    let out = berth.cli(&["lint", &cron.display().to_string()]);
    assert!(!out.status.success());
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("52"), "cron name limit: {text}");
    assert!(text.contains("never"), "schedule never fires: {text}");

    let web = examples().join("web.yaml").display().to_string();
    let prod = berth.cli_ok(&["render", "-f", &web, "--env", "prod"]);
    assert!(prod.contains("replicas: 4"), "{prod}");
    assert!(prod.contains("enableServiceLinks: false"), "{prod}");
    assert!(prod.contains("kind: PodDisruptionBudget"), "{prod}");
    assert!(prod.contains("Hello from production"), "{prod}");
}

/// The README's main job: `berth demo` deploys examples/ and the web app answers through the
/// ingress router; the worker logs, the cron job is scheduled.
#[test]
fn demo_deploys_the_examples() {
    require_kubectl!();
    let ex = examples().display().to_string();
    let berth = Berth::start_demo(&["--examples", &ex]);
    berth.wait_for("the demo to be up", Duration::from_secs(240), || {
        berth.log().contains("The demo is running").then_some(())
    });
    let (code, body) = berth.via_ingress("web.demo.localhost", "/", &[]);
    assert_eq!(code, 200, "{body}");
    assert!(body.starts_with("Hello from Berth"), "{body}");
    let apps = berth.kubectl_ok(&["get", "apps,cronapps"]);
    for name in ["web", "worker", "report"] {
        assert!(apps.contains(name), "{apps}");
    }
    berth.wait_for("worker logs", LONG, || {
        let logs = berth.cli_ok(&["logs", "worker", "--tail", "5"]);
        logs.contains("processed job").then_some(())
    });
}
