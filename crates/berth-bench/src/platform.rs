//! `berth-bench platform`: the platform layer's hot paths.
//!
//! * render + lint: 500 generated spec files through `berth_spec::lint` and `berth_render`
//!   (in this process, no cluster);
//! * deploy and rollback: `berth deploy` of a 10-replica app with real processes to Available,
//!   an update, and `berth rollback` to Available (CLI wall time, which waits on the App's status);
//! * operator memory: a standalone `berth operator` process managing 500 Apps on simulated
//!   nodes (RSS once all are Available).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kube::api::{Api, ListParams, PostParams};

use crate::CommonArgs;
use crate::berth::{self, Berth};
use crate::daemon::{self, Daemon};
use crate::report::{Report, fmt_num};

#[derive(clap::Args, Debug)]
pub struct PlatformArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The berth binary [default: `berth` next to this executable]
    #[arg(long, value_name = "BIN")]
    pub berth: Option<PathBuf>,
    /// Spec files for the render + lint phase.
    #[arg(long, default_value_t = 500)]
    pub specs: usize,
    /// Replicas of the app deployed and rolled back.
    #[arg(long, default_value_t = 10)]
    pub replicas: usize,
    /// The app's CPU limit (its request is 20m, so 20 pods fit a 2-core node during a
    /// rollback's 100% surge). A limit equal to the request throttles Python's start-up to
    /// seconds under CFS: `--cpu-limit 20m` measures that case.
    #[arg(long, default_value = "1")]
    pub cpu_limit: String,
    /// Apps the standalone operator manages in the memory phase.
    #[arg(long, default_value_t = 500)]
    pub apps: usize,
    /// Only these phases (comma-separated: render, deploy, operator).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
}

pub async fn run(args: &PlatformArgs, report: &mut Report) -> anyhow::Result<()> {
    let want = |phase: &str| args.only.is_empty() || args.only.iter().any(|p| p == phase);
    let tmp_root = args.common.tmp_root();
    if want("render") {
        render_and_lint(&tmp_root, args.specs, report)?;
    }
    let bin = berth::locate(args.berth.as_deref())?;
    if want("deploy") {
        deploy_and_rollback(&bin, &tmp_root, args.replicas, &args.cpu_limit, report).await?;
    }
    if want("operator") {
        let apps = if args.common.quick { 50 } else { args.apps };
        operator_memory(&bin, &tmp_root, apps, report).await?;
    }
    report.print_goals();
    Ok(())
}

/// A spec file per app: runtimes, health checks, domains, environments and cron jobs mixed.
fn spec_text(i: usize) -> String {
    match i % 5 {
        4 => format!(
            "kind: CronApp\nname: job-{i}\nproject: p{p}\nschedule: \"*/5 * * * *\"\ntimeZone: Europe/Berlin\nruntime: shell\nentrypoint: /srv/job.sh\nresources: {{cpu: 50m, memory: 32Mi}}\nenv: {{N: \"{i}\"}}\n",
            p = i % 7
        ),
        k => {
            let runtime = ["python-3.11", "java-17", "node-20", "go"][k];
            format!(
                "kind: App\nname: app-{i}\nproject: p{p}\nruntime: {runtime}\nentrypoint: /srv/app\nports: [{{port: 8080}}]\nreplicas: {r}\nresources: {{cpu: 100m, memory: 256Mi}}\nhealth: {{path: /healthz}}\ndomain: app-{i}.example.test\nmetrics: {{port: 9100}}\nlifecycle: {{online: \"echo on\", offline: \"echo off\"}}\nenv: {{A: \"1\", B: \"2\"}}\nenvironments:\n  prod: {{replicas: 4, env: {{B: \"3\"}}}}\n",
                p = i % 7,
                r = 1 + i % 3
            )
        }
    }
}

fn render_and_lint(tmp_root: &Path, n: usize, report: &mut Report) -> anyhow::Result<()> {
    let dir = Daemon::tempdir(tmp_root, "specs")?;
    for i in 0..n {
        std::fs::write(dir.path().join(format!("spec-{i:04}.yaml")), spec_text(i))
            .context("cannot write a spec file")?;
    }
    let paths = vec![dir.path().to_path_buf()];
    let mut lint_ms = Vec::new();
    let mut render_ms = Vec::new();
    let mut objects = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let lint = berth_spec::lint::lint_paths(&paths);
        lint_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        if lint.has_errors() {
            bail!("generated specs do not lint: {}", lint.findings[0]);
        }
        let t = Instant::now();
        let docs = berth_spec::load::load_paths(&paths).context("load")?;
        let ctx = berth_render::RenderContext::default();
        objects = 0;
        for d in &docs {
            let rendered = match &d.doc {
                berth_spec::load::SpecDoc::App(a) => {
                    let mut spec = a.spec.clone();
                    spec.environment = Some("prod".into());
                    berth_render::render_app(
                        &a.metadata.name.clone().unwrap_or_default(),
                        &spec,
                        &ctx,
                    )
                }
                berth_spec::load::SpecDoc::CronApp(c) => berth_render::render_cron(
                    &c.metadata.name.clone().unwrap_or_default(),
                    &c.spec,
                    &ctx,
                ),
            }
            .map_err(|e| anyhow::anyhow!("render: {e}"))?;
            objects += rendered.len();
        }
        render_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let (lint, render) = (median(&mut lint_ms), median(&mut render_ms));
    println!(
        "\nrender + lint of {n} spec files ({objects} objects), median of 5: lint (load + checks) {} ms, load + render {} ms, total {} ms",
        fmt_num(lint),
        fmt_num(render),
        fmt_num(lint + render)
    );
    report.figure("platform.lint_ms", "lint of 500 spec files", lint, "ms");
    report.figure(
        "platform.render_ms",
        "load + render of 500 spec files",
        render,
        "ms",
    );
    Ok(())
}

fn web_spec(
    dir: &Path,
    replicas: usize,
    cpu_limit: &str,
    version: &str,
) -> anyhow::Result<PathBuf> {
    let spec = dir.join("bench-web.yaml");
    std::fs::write(
        &spec,
        format!(
            "kind: App\nname: bench-web\nruntime: python-3.11\ncommand: [python3, -m, http.server, \"8000\"]\nports: [{{port: 8000}}]\nreplicas: {replicas}\nresources: {{cpu: 20m, memory: 48Mi, limits: {{cpu: \"{cpu_limit}\"}}}}\nhealth: {{path: /, periodSeconds: 1}}\nenv: {{VERSION: {version}}}\n"
        ),
    )
    .context("cannot write the spec")?;
    Ok(spec)
}

/// Runs `berth ARGS` against `kubeconfig`; returns the wall time, failing on a non-zero exit.
fn cli(bin: &Path, kubeconfig: &Path, args: &[&str]) -> anyhow::Result<Duration> {
    let t = Instant::now();
    let out = std::process::Command::new(bin)
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .context("cannot run berth")?;
    let took = t.elapsed();
    if !out.status.success() {
        bail!(
            "berth {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(took)
}

async fn deploy_and_rollback(
    bin: &Path,
    tmp_root: &Path,
    replicas: usize,
    cpu_limit: &str,
    report: &mut Report,
) -> anyhow::Result<()> {
    let (mut b, _client) = Berth::start_with(bin, tmp_root, &[]).await?;
    let dir = Daemon::tempdir(tmp_root, "deploy")?;
    let kc = b.kubeconfig.clone();
    let v1 = web_spec(dir.path(), replicas, cpu_limit, "v1")?
        .display()
        .to_string();
    let first = cli(bin, &kc, &["deploy", "-f", &v1, "-m", "v1"])?;
    let v2 = web_spec(dir.path(), replicas, cpu_limit, "v2")?
        .display()
        .to_string();
    let update = cli(bin, &kc, &["deploy", "-f", &v2, "-m", "v2"])?;
    let mut rollbacks = Vec::new();
    for _ in 0..3 {
        // Each rollback goes back to the previous distinct revision (v1, then v2, ...).
        rollbacks.push(cli(bin, &kc, &["rollback", "bench-web"])?);
    }
    b.daemon.stop(Duration::from_secs(60));
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "\n{replicas}-replica app with real processes, CPU limit {cpu_limit} (berth CLI wall time to Available): first deploy {} ms, update {} ms, rollbacks {} ms",
        fmt_num(ms(first)),
        fmt_num(ms(update)),
        rollbacks
            .iter()
            .map(|d| fmt_num(ms(*d)))
            .collect::<Vec<_>>()
            .join(" / ")
    );
    report.figure(
        "platform.deploy_ms",
        "first deploy to Available",
        ms(first),
        "ms",
    );
    report.figure(
        "platform.update_ms",
        "update to Available",
        ms(update),
        "ms",
    );
    let worst = rollbacks.iter().map(|d| ms(*d)).fold(0.0, f64::max);
    report.series(
        "platform.rollback_ms",
        "rollback to Available",
        &rollbacks.iter().map(|d| ms(*d)).collect::<Vec<_>>(),
        "ms",
    );
    report.goal(
        "rollback to available",
        "< 3000 ms",
        worst,
        "ms",
        worst < 3000.0,
    );
    Ok(())
}

async fn operator_memory(
    bin: &Path,
    tmp_root: &Path,
    apps: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    let nodes = (apps / 100 + 2).to_string();
    let (mut b, client) = Berth::start_with(
        bin,
        tmp_root,
        &[
            "--no-node-agent",
            "--simulated-nodes",
            &nodes,
            "--no-operator",
        ],
    )
    .await?;
    let kc = b.kubeconfig.display().to_string();
    cli(bin, &b.kubeconfig, &["install", "--kubeconfig", &kc])?;
    let tmp = Daemon::tempdir(tmp_root, "operator")?;
    let mut operator = Daemon::spawn(
        "operator",
        bin,
        &["operator".into(), "--kubeconfig".into(), kc.clone()],
        tmp,
    )?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = daemon::mem_of(operator.pid())?;
    let api: Api<berth_spec::App> = Api::namespaced(client.clone(), "default");
    let t0 = Instant::now();
    for i in 0..apps {
        let spec: berth_spec::AppSpec = serde_json::from_value(serde_json::json!({
            "image": "registry.example/app:1",
            "command": ["/app"],
            "ports": [{"port": 8080}],
            "resources": {"cpu": "10m", "memory": "16Mi"},
        }))?;
        let app = berth_spec::App::new(&format!("app-{i}"), spec);
        api.create(&PostParams::default(), &app)
            .await
            .with_context(|| format!("create app-{i}"))?;
    }
    let created = t0.elapsed();
    let deadline = Instant::now() + Duration::from_secs(600);
    let available = loop {
        operator.check_alive()?;
        let list = api.list(&ListParams::default()).await?;
        let n = list
            .items
            .iter()
            .filter(|a| {
                a.status
                    .as_ref()
                    .and_then(|s| s.phase)
                    .is_some_and(|p| p == berth_spec::AppPhase::Available)
            })
            .count();
        if n == apps {
            break t0.elapsed();
        }
        if Instant::now() > deadline {
            bail!("only {n} of {apps} apps Available after 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    tokio::time::sleep(Duration::from_secs(5)).await;
    let steady = daemon::mem_of(operator.pid())?;
    operator.stop(Duration::from_secs(10));
    b.daemon.stop(Duration::from_secs(30));
    println!(
        "\nstandalone operator with {apps} Apps on simulated nodes: RSS idle {} MiB, with {apps} apps {} MiB (peak {} MiB); created in {} s, all Available after {} s",
        fmt_num(idle.rss_mib()),
        fmt_num(steady.rss_mib()),
        fmt_num(steady.hwm_mib()),
        fmt_num(created.as_secs_f64()),
        fmt_num(available.as_secs_f64())
    );
    report.figure(
        "platform.operator_rss_idle",
        "operator RSS, no apps",
        idle.rss_mib(),
        "MiB",
    );
    report.figure(
        "platform.operator_rss",
        "operator RSS with all apps",
        steady.rss_mib(),
        "MiB",
    );
    report.figure(
        "platform.apps_available_s",
        "create to all apps Available",
        available.as_secs_f64(),
        "s",
    );
    Ok(())
}
