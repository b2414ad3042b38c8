//! `berth-bench kubectl`: what kubectl users wait for. Wall time of `kubectl apply -f` with a
//! 500-object manifest (create, unchanged re-apply, changed re-apply), and the latency of
//! strategic merge patches and server-side apply patches through kube-rs.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use crate::CommonArgs;
use crate::berth::{self, Berth};
use crate::load::closed_loop;
use crate::report::Report;

#[derive(clap::Args, Debug)]
pub struct KubectlArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The berth binary [default: `berth` next to this executable]
    #[arg(long, value_name = "BIN")]
    pub berth: Option<PathBuf>,
}

const PHASE_DEADLINE: Duration = Duration::from_secs(120);

/// A manifest of `n` objects: half ConfigMaps, half Deployments, one namespace.
fn manifest(n: usize, image: &str) -> String {
    let mut out = String::from("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bulk\n");
    for i in 0..n.saturating_sub(1) {
        if i % 2 == 0 {
            out.push_str(&format!(
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-{i}\n  namespace: bulk\ndata:\n  key: value-{i}\n"
            ));
        } else {
            out.push_str(&format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  namespace: bulk\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: app-{i}}}\n  template:\n    metadata:\n      labels: {{app: app-{i}}}\n    spec:\n      containers:\n      - name: web\n        image: {image}\n        ports:\n        - containerPort: 8080\n      - name: side\n        image: busybox:1.36\n"
            ));
        }
    }
    out
}

fn kubectl_apply(kubeconfig: &std::path::Path, file: &std::path::Path) -> anyhow::Result<Duration> {
    let t0 = Instant::now();
    let out = Command::new("kubectl")
        .args(["apply", "-f"])
        .arg(file)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .context("cannot run kubectl")?;
    let took = t0.elapsed();
    if !out.status.success() {
        bail!(
            "kubectl apply failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(took)
}

pub async fn run(args: &KubectlArgs, report: &mut Report) -> anyhow::Result<()> {
    let bin = berth::locate(args.berth.as_deref())?;
    let tmp_root = args.common.tmp_root();
    let (mut berth, client): (Berth, kube::Client) = Berth::start(&bin, &tmp_root).await?;
    let objects = 500;
    println!("berth-bench kubectl: {objects}-object manifest, patch latency");

    let dir = tempfile::tempdir_in(&tmp_root).context("temp dir")?;
    let first = dir.path().join("first.yaml");
    let changed = dir.path().join("changed.yaml");
    std::fs::write(&first, manifest(objects, "nginx:1.25"))?;
    std::fs::write(&changed, manifest(objects, "nginx:1.26"))?;
    for (id, label, file) in [
        (
            "kubectl.apply500.create",
            "kubectl apply -f (500 objects, all created)",
            &first,
        ),
        (
            "kubectl.apply500.unchanged",
            "kubectl apply -f (500 objects, unchanged)",
            &first,
        ),
        (
            "kubectl.apply500.changed",
            "kubectl apply -f (500 objects, 249 Deployments patched)",
            &changed,
        ),
    ] {
        let took = kubectl_apply(&berth.kubeconfig, file)?;
        println!("  {label}: {:.2} s", took.as_secs_f64());
        report.figure(id, label, took.as_secs_f64(), "s");
    }

    let n = if args.common.quick { 300 } else { 2000 };
    let deps: Api<Deployment> = Api::namespaced(client.clone(), "bulk");
    for clients in [1usize, 8] {
        let api = deps.clone();
        let smp = closed_loop(n, clients, PHASE_DEADLINE, move |i| {
            let api = api.clone();
            async move {
                let name = format!("app-{}", 1 + 2 * (i % 200));
                let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": format!("nginx:1.{}", 27 + i % 3)}]}}}});
                api.patch(&name, &PatchParams::default(), &Patch::Strategic(patch)).await?;
                Ok(())
            }
        })
        .await;
        let label = format!("strategic merge patch of a Deployment's container, {clients} clients");
        let lat = smp.lat();
        println!(
            "  {label}: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, errors {}",
            smp.throughput(),
            lat.p50_ms,
            lat.p99_ms,
            smp.errors.count
        );
        report.latency(&format!("kubectl.smp.c{clients}"), &label, &lat);

        let api = deps.clone();
        let ssa = closed_loop(n, clients, PHASE_DEADLINE, move |i| {
            let api = api.clone();
            async move {
                let name = format!("ssa-{}", i % 200);
                let obj = json!({
                    "apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": name, "namespace": "bulk"},
                    "spec": {"replicas": 1 + (i % 3), "selector": {"matchLabels": {"app": name}},
                        "template": {"metadata": {"labels": {"app": name}},
                        "spec": {"containers": [{"name": "web", "image": format!("nginx:1.{}", 27 + i % 3)}]}}}
                });
                api.patch(&name, &PatchParams::apply("bench").force(), &Patch::Apply(&obj)).await?;
                Ok(())
            }
        })
        .await;
        let label = format!("server-side apply of a Deployment, {clients} clients");
        let lat = ssa.lat();
        println!(
            "  {label}: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, errors {}",
            ssa.throughput(),
            lat.p50_ms,
            lat.p99_ms,
            ssa.errors.count
        );
        report.latency(&format!("kubectl.ssa.c{clients}"), &label, &lat);
    }
    berth.daemon.stop(Duration::from_secs(10));
    Ok(())
}
