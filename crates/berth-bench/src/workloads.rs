//! `berth-bench workloads`: what running workloads costs and how fast it happens.
//!
//! * idle: RSS and CPU of `berth up` (with its node agent) and no workloads;
//! * pod startup: create to Running-and-Ready, as a watch sees it, for pods with real processes;
//! * scheduler: pods bound per second on simulated nodes;
//! * cron: lag from each scheduled minute to its Job and to its pod running, missed and duplicate
//!   runs, for many `* * * * *` CronJobs on simulated nodes and then fewer with real processes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::watcher::{self, Event};
use serde_json::json;

use crate::CommonArgs;
use crate::berth::{self, Berth};
use crate::daemon::{self, CpuMeter};
use crate::load::{Lat, new_hist};
use crate::report::{Report, Table, fmt_num};

#[derive(clap::Args, Debug)]
pub struct WorkloadsArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The berth binary [default: `berth` next to this executable]
    #[arg(long, value_name = "BIN")]
    pub berth: Option<PathBuf>,
    /// Pods for the startup-latency phase.
    #[arg(long, default_value_t = 200)]
    pub startup_pods: usize,
    /// Simulated nodes and pods for the scheduler phase.
    #[arg(long, default_value_t = 1000)]
    pub sched_nodes: usize,
    #[arg(long, default_value_t = 10_000)]
    pub sched_pods: usize,
    /// CronJobs on simulated nodes, minutes they run, then CronJobs with real processes.
    #[arg(long, default_value_t = 1000)]
    pub cron_simulated: usize,
    #[arg(long, default_value_t = 5)]
    pub cron_minutes: u32,
    #[arg(long, default_value_t = 200)]
    pub cron_real: usize,
    /// Only these phases (comma-separated: idle, startup, scheduler, cron).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
}

pub async fn run(args: &WorkloadsArgs, report: &mut Report) -> anyhow::Result<()> {
    let bin = berth::locate(args.berth.as_deref())?;
    let tmp_root = args.common.tmp_root();
    let quick = args.common.quick;
    let want = |phase: &str| args.only.is_empty() || args.only.iter().any(|p| p == phase);
    if want("idle") || want("startup") {
        let (mut b, client) = Berth::start_with(&bin, &tmp_root, &[]).await?;
        if want("idle") {
            idle(&b, report).await?;
        }
        if want("startup") {
            let n = if quick { 40 } else { args.startup_pods };
            // A node runs at most 110 pods (kubelet's maxPods): measure in waves of 100.
            let mut all = new_hist();
            let mut missing = 0;
            let mut first = 0;
            while first < n {
                let wave = (n - first).min(100);
                let (hist, lost) = pod_startup(&client, first, wave).await?;
                let _ = all.add(&hist);
                missing += lost;
                first += wave;
            }
            let lat = Lat::of(&all);
            println!(
                "\npod startup, {n} pods with real processes in waves of 100 (create -> Running and Ready in a watch): p50 {} ms, p99 {} ms, max {} ms; {missing} never ready",
                fmt_num(lat.p50_ms),
                fmt_num(lat.p99_ms),
                fmt_num(lat.max_ms)
            );
            report.latency("workloads.startup", "pod create to Running and Ready", &lat);
            report.figure(
                "workloads.startup.missing",
                "pods never ready",
                missing as f64,
                "count",
            );
            report.goal(
                "pod startup p99",
                "< 100 ms",
                lat.p99_ms,
                "ms",
                lat.p99_ms < 100.0,
            );
        }
        b.daemon.stop(Duration::from_secs(60));
    }
    if want("scheduler") {
        let (nodes, pods) = if quick {
            (100, 1000)
        } else {
            (args.sched_nodes, args.sched_pods)
        };
        let nodes_arg = nodes.to_string();
        let (mut b, client) = Berth::start_with(
            &bin,
            &tmp_root,
            &["--no-node-agent", "--simulated-nodes", &nodes_arg],
        )
        .await?;
        scheduler(&client, nodes, pods, report).await?;
        b.daemon.stop(Duration::from_secs(30));
    }
    if want("cron") {
        let (sim, minutes, real) = if quick {
            (100, 2, 20)
        } else {
            (args.cron_simulated, args.cron_minutes, args.cron_real)
        };
        let (mut b, client) = Berth::start_with(
            &bin,
            &tmp_root,
            &["--no-node-agent", "--simulated-nodes", "10"],
        )
        .await?;
        cron(&client, "simulated", sim, minutes, report).await?;
        b.daemon.stop(Duration::from_secs(30));
        let (mut b, client) = Berth::start_with(&bin, &tmp_root, &[]).await?;
        cron(&client, "real", real, 2, report).await?;
        b.daemon.stop(Duration::from_secs(60));
    }
    report.print_goals();
    Ok(())
}

async fn idle(b: &Berth, report: &mut Report) -> anyhow::Result<()> {
    // Let start-up work (node registration, bootstrap) settle first.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let cpu = CpuMeter::start(b.daemon.pid());
    tokio::time::sleep(Duration::from_secs(20)).await;
    let (cores, _) = cpu.cores();
    let mem = daemon::mem_of(b.daemon.pid())?;
    println!(
        "\nidle berth up (node agent, no workloads): RSS {} MiB, CPU {:.2}% of a core over 20 s",
        fmt_num(mem.rss_mib()),
        cores * 100.0
    );
    report.figure(
        "workloads.idle.rss",
        "idle RSS of berth up",
        mem.rss_mib(),
        "MiB",
    );
    report.figure(
        "workloads.idle.cpu",
        "idle CPU of berth up",
        cores * 100.0,
        "% of a core",
    );
    Ok(())
}

fn sleeper(name: &str) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"bench": "startup"}},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{
                "name": "main",
                "image": "busybox",
                "command": ["sleep", "3600"],
                "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}}
            }]
        }
    }))
    .unwrap_or_default()
}

fn pod_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Creates `n` pods (10 in flight) and measures, per pod, the time from the create request to
/// the first watch event that shows it Running and Ready; deletes them and waits until they are
/// gone. Returns the latencies and how many never became ready.
async fn pod_startup(
    client: &kube::Client,
    first: usize,
    n: usize,
) -> anyhow::Result<(hdrhistogram::Histogram<u64>, usize)> {
    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let ready: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let watch_ready = ready.clone();
    let watch_api = api.clone();
    let watcher_task = tokio::spawn(async move {
        let cfg = watcher::Config::default().labels("bench=startup");
        let mut stream = watcher::watcher(watch_api, cfg).boxed();
        while let Ok(Some(event)) = stream.try_next().await {
            let now = Instant::now();
            if let Event::Apply(p) | Event::InitApply(p) = event
                && pod_ready(&p)
                && let Some(name) = p.metadata.name.clone()
            {
                watch_ready
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(name)
                    .or_insert(now);
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t0 = Instant::now();
    futures::stream::iter(first..first + n)
        .map(|i| {
            let api = api.clone();
            let sent = sent.clone();
            async move {
                let name = format!("startup-{i}");
                let pod = sleeper(&name);
                let at = Instant::now();
                api.create(&PostParams::default(), &pod).await?;
                sent.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(name, at);
                anyhow::Ok(())
            }
        })
        .buffer_unordered(10)
        .try_collect::<Vec<()>>()
        .await?;
    let deadline = Instant::now() + Duration::from_secs(300);
    while ready.lock().unwrap_or_else(|e| e.into_inner()).len() < n {
        if Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all_ready = t0.elapsed();
    watcher_task.abort();
    let mut hist = new_hist();
    let ready = ready.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let sent = sent.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for (name, at) in &sent {
        if let Some(r) = ready.get(name) {
            let _ = hist.record(r.saturating_duration_since(*at).as_micros().max(1) as u64);
        }
    }
    let missing = n - ready.len().min(n);
    println!(
        "  wave of {n} pods: all ready after {:.1} s, {missing} never ready",
        all_ready.as_secs_f64()
    );
    api.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("bench=startup"),
    )
    .await
    .context("cleaning up startup pods")?;
    let deadline = Instant::now() + Duration::from_secs(120);
    while !api
        .list_metadata(&ListParams::default().labels("bench=startup"))
        .await?
        .items
        .is_empty()
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok((hist, missing))
}

/// Waits for `nodes` Ready simulated nodes, creates `pods` pods (64 in flight) and measures how
/// fast they are bound.
async fn scheduler(
    client: &kube::Client,
    nodes: usize,
    pods: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    let node_api: Api<k8s_openapi::api::core::v1::Node> = Api::all(client.clone());
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let n = node_api
            .list_metadata(&ListParams::default())
            .await?
            .items
            .len();
        if n >= nodes {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {n} of {nodes} simulated nodes registered");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    let bound: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let watch_bound = bound.clone();
    let watch_api = api.clone();
    let watcher_task = tokio::spawn(async move {
        let cfg = watcher::Config::default().labels("bench=scheduler");
        let mut stream = watcher::watcher(watch_api, cfg).boxed();
        while let Ok(Some(event)) = stream.try_next().await {
            let now = Instant::now();
            if let Event::Apply(p) | Event::InitApply(p) = event
                && p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some()
                && let Some(name) = p.metadata.name.clone()
            {
                watch_bound
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(name)
                    .or_insert(now);
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let t0 = Instant::now();
    futures::stream::iter(0..pods)
        .map(|i| {
            let api = api.clone();
            let sent = sent.clone();
            async move {
                let name = format!("sched-{i}");
                let mut pod = sleeper(&name);
                pod.metadata.labels = Some([("bench".to_string(), "scheduler".to_string())].into());
                let at = Instant::now();
                api.create(&PostParams::default(), &pod).await?;
                sent.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(name, at);
                anyhow::Ok(())
            }
        })
        .buffer_unordered(64)
        .try_collect::<Vec<()>>()
        .await?;
    let created = t0.elapsed();
    let deadline = Instant::now() + Duration::from_secs(600);
    while bound.lock().unwrap_or_else(|e| e.into_inner()).len() < pods && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    watcher_task.abort();
    let bound = bound.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let sent = sent.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let last = bound.values().max().copied().unwrap_or(t0);
    let span = last.saturating_duration_since(t0).as_secs_f64().max(1e-9);
    let rate = bound.len() as f64 / span;
    let mut hist = new_hist();
    for (name, at) in &sent {
        if let Some(b) = bound.get(name) {
            let _ = hist.record(b.saturating_duration_since(*at).as_micros().max(1) as u64);
        }
    }
    let lat = Lat::of(&hist);
    println!(
        "\nscheduler: {} of {pods} pods bound on {nodes} simulated nodes in {span:.1} s = {} pods/s (creating them took {:.1} s); create to bound p50 {} ms, p99 {} ms",
        bound.len(),
        fmt_num(rate),
        created.as_secs_f64(),
        fmt_num(lat.p50_ms),
        fmt_num(lat.p99_ms)
    );
    report.figure(
        "workloads.scheduler.rate",
        "pods bound per second",
        rate,
        "pods/s",
    );
    report.latency("workloads.scheduler.bind", "pod create to bound", &lat);
    report.note(
        "pods created while the scheduler runs: the figure is bounded by how fast the API takes creates",
    );
    let burst = scheduler_burst(client, &api, nodes, pods).await?;
    report.figure(
        "workloads.scheduler.burst",
        "pods bound per second, all pending at once",
        burst,
        "pods/s",
    );
    let best = rate.max(burst);
    report.goal(
        "scheduler throughput (1,000 nodes, 10,000 pods)",
        ">= 1,000 pods/s",
        best,
        "pods/s",
        best >= 1000.0,
    );
    Ok(())
}

/// Scheduler throughput without the create rate in the way (as kube-scheduler's scheduler_perf
/// measures it): `pods` pods wait unschedulable (their nodeSelector matches no node), then every
/// node gets the label; the scheduler retries them all and binds them as fast as it can.
async fn scheduler_burst(
    client: &kube::Client,
    api: &Api<Pod>,
    nodes: usize,
    pods: usize,
) -> anyhow::Result<f64> {
    use kube::api::{Patch, PatchParams};
    futures::stream::iter(0..pods)
        .map(|i| {
            let api = api.clone();
            async move {
                let mut pod = sleeper(&format!("burst-{i}"));
                pod.metadata.labels = Some([("bench".to_string(), "burst".to_string())].into());
                if let Some(spec) = pod.spec.as_mut() {
                    spec.node_selector =
                        Some([("bench-burst".to_string(), "yes".to_string())].into());
                }
                api.create(&PostParams::default(), &pod).await?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(64)
        .try_collect::<Vec<()>>()
        .await?;
    // Let the scheduler find them all unschedulable first.
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let unschedulable = api
            .list(&ListParams::default().labels("bench=burst"))
            .await?
            .items
            .iter()
            .filter(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|cs| {
                        cs.iter()
                            .any(|c| c.type_ == "PodScheduled" && c.status == "False")
                    })
            })
            .count();
        if unschedulable >= pods || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let node_api: Api<k8s_openapi::api::core::v1::Node> = Api::all(client.clone());
    let names: Vec<String> = node_api
        .list_metadata(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    let t0 = Instant::now();
    futures::stream::iter(names)
        .map(|name| {
            let node_api = node_api.clone();
            async move {
                let patch = json!({"metadata": {"labels": {"bench-burst": "yes"}}});
                node_api
                    .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<()>>()
        .await?;
    let labelled = t0.elapsed();
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut bound = 0;
    while Instant::now() < deadline {
        bound = api
            .list_metadata(
                &ListParams::default()
                    .labels("bench=burst")
                    .fields("spec.nodeName!="),
            )
            .await?
            .items
            .len();
        if bound >= pods {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let span = t0.elapsed().as_secs_f64().max(1e-9);
    let rate = bound as f64 / span;
    println!(
        "scheduler burst: {bound} of {pods} pending pods bound on {nodes} nodes in {span:.1} s after the nodes were labelled (labelling took {:.1} s) = {} pods/s",
        labelled.as_secs_f64(),
        fmt_num(rate)
    );
    Ok(rate)
}

fn cronjob(name: &str) -> CronJob {
    serde_json::from_value(json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "labels": {"bench": "cron"}},
        "spec": {
            "schedule": "* * * * *",
            "successfulJobsHistoryLimit": 10,
            "jobTemplate": {"spec": {"template": {
                "metadata": {"labels": {"bench": "cron"}},
                "spec": {
                    "restartPolicy": "Never",
                    "terminationGracePeriodSeconds": 1,
                    "containers": [{
                        "name": "run",
                        "image": "busybox",
                        "command": ["sh", "-c", "sleep 1"],
                        "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}}
                    }]
                }
            }}}
        }
    }))
    .unwrap_or_default()
}

/// The scheduled minute of a Job from its name `<cronjob>-<unix minutes>`.
fn scheduled_minute(job_name: &str) -> Option<(String, i64)> {
    let (cron, minute) = job_name.rsplit_once('-')?;
    Some((cron.to_string(), minute.parse().ok()?))
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Runs `count` every-minute CronJobs for `minutes` full minutes and measures the lag from each
/// scheduled minute to its Job appearing in a watch and to its pod running.
async fn cron(
    client: &kube::Client,
    label: &str,
    count: usize,
    minutes: u32,
    report: &mut Report,
) -> anyhow::Result<()> {
    let cron_api: Api<CronJob> = Api::namespaced(client.clone(), "default");
    let job_api: Api<Job> = Api::namespaced(client.clone(), "default");
    let pod_api: Api<Pod> = Api::namespaced(client.clone(), "default");
    // (cronjob, minute) -> seconds after the scheduled minute, as seen by watches here.
    let jobs: Arc<Mutex<BTreeMap<(String, i64), f64>>> = Arc::default();
    let duplicates: Arc<Mutex<Vec<String>>> = Arc::default();
    let running: Arc<Mutex<BTreeMap<(String, i64), f64>>> = Arc::default();
    let (j, d) = (jobs.clone(), duplicates.clone());
    let job_watch = tokio::spawn(async move {
        let mut seen: HashMap<(String, i64), String> = HashMap::new();
        let mut stream =
            watcher::watcher(job_api, watcher::Config::default().labels("bench=cron")).boxed();
        while let Ok(Some(event)) = stream.try_next().await {
            let now = unix_now();
            if let Event::Apply(job) | Event::InitApply(job) = event
                && let Some(name) = job.metadata.name.clone()
                && let Some(key) = scheduled_minute(&name)
            {
                let uid = job.metadata.uid.clone().unwrap_or_default();
                match seen.get(&key) {
                    Some(u) if *u != uid => d.lock().unwrap_or_else(|e| e.into_inner()).push(name),
                    Some(_) => {}
                    None => {
                        seen.insert(key.clone(), uid);
                        j.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(key.clone(), now - key.1 as f64 * 60.0);
                    }
                }
            }
        }
    });
    let r = running.clone();
    let pod_watch = tokio::spawn(async move {
        let mut stream =
            watcher::watcher(pod_api, watcher::Config::default().labels("bench=cron")).boxed();
        while let Ok(Some(event)) = stream.try_next().await {
            let now = unix_now();
            if let Event::Apply(pod) | Event::InitApply(pod) = event
                && let Some(job) = kube::ResourceExt::labels(&pod)
                    .get("batch.kubernetes.io/job-name")
                    .cloned()
                && let Some(key) = scheduled_minute(&job)
                && pod
                    .status
                    .as_ref()
                    .and_then(|s| s.phase.as_deref())
                    .is_some_and(|p| p == "Running" || p == "Succeeded")
            {
                r.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(key.clone())
                    .or_insert(now - key.1 as f64 * 60.0);
            }
        }
    });
    futures::stream::iter(0..count)
        .map(|i| {
            let api = cron_api.clone();
            async move {
                api.create(&PostParams::default(), &cronjob(&format!("c{label}{i}")))
                    .await?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<()>>()
        .await?;
    // Measure whole minutes that start after every CronJob exists.
    let first = (unix_now() / 60.0).floor() as i64 + 1;
    let last = first + i64::from(minutes) - 1;
    println!(
        "\ncron ({label}): {count} CronJobs `* * * * *`, measuring {minutes} scheduled minutes (waits until {} s after the last one)",
        20
    );
    let end = (last as f64 + 1.0) * 60.0 + 20.0;
    while unix_now() < end {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    job_watch.abort();
    pod_watch.abort();
    let jobs = jobs.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let running = running.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let duplicates = duplicates.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let names: HashSet<String> = (0..count).map(|i| format!("c{label}{i}")).collect();
    let (mut job_hist, mut run_hist) = (new_hist(), new_hist());
    let mut missed = 0;
    for name in &names {
        for minute in first..=last {
            let key = (name.clone(), minute);
            match jobs.get(&key) {
                Some(lag) => {
                    let _ = job_hist.record((lag.max(0.0) * 1e6) as u64 + 1);
                }
                None => missed += 1,
            }
            if let Some(lag) = running.get(&key) {
                let _ = run_hist.record((lag.max(0.0) * 1e6) as u64 + 1);
            }
        }
    }
    let (jl, rl) = (Lat::of(&job_hist), Lat::of(&run_hist));
    let mut t = Table::new(
        &format!("cron, {label} ({count} CronJobs x {minutes} min)"),
        &[
            "lag from scheduled time to",
            "p50 ms",
            "p99 ms",
            "max ms",
            "samples",
        ],
    );
    for (what, l) in [("Job created", &jl), ("pod running", &rl)] {
        t.row(vec![
            what.to_string(),
            fmt_num(l.p50_ms),
            fmt_num(l.p99_ms),
            fmt_num(l.max_ms),
            l.count.to_string(),
        ]);
    }
    t.print();
    println!(
        "missed runs: {missed}, duplicate runs: {}",
        duplicates.len()
    );
    let id = format!("workloads.cron.{label}");
    report.latency(
        &format!("{id}.job"),
        &format!("cron ({label}) scheduled time to Job"),
        &jl,
    );
    report.latency(
        &format!("{id}.pod"),
        &format!("cron ({label}) scheduled time to pod running"),
        &rl,
    );
    report.figure(
        &format!("{id}.missed"),
        "missed runs",
        missed as f64,
        "count",
    );
    report.figure(
        &format!("{id}.duplicates"),
        "duplicate runs",
        duplicates.len() as f64,
        "count",
    );
    report.goal(
        &format!("cron ({label}): no missed or duplicate run"),
        "0",
        (missed + duplicates.len()) as f64,
        "runs",
        missed == 0 && duplicates.is_empty(),
    );
    let cron_api: Api<CronJob> = Api::namespaced(client.clone(), "default");
    let _ = cron_api
        .delete_collection(
            &DeleteParams::background(),
            &ListParams::default().labels("bench=cron"),
        )
        .await;
    Ok(())
}
