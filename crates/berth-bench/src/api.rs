//! `berth-bench api`: the API server and its store under load.
//!
//! Phases, in order, against one `berth up` started for the run: durable creates at 1/8/64
//! concurrent clients; create latency at a fixed 1,000 creates/s (open loop); watch delivery
//! latency with 100 watchers; listing 10,000 pods; memory. Then, with Berth stopped, the storage
//! comparison: the same put/get workload against etcd (JSON gateway on loopback) and against
//! berth-store in-process, and etcd next to Berth's full API path.
//!
//! Clients: one `kube::Client` shared by all workers. kube-rs 5 offers only HTTP/1.1 in its TLS
//! connector (no h2 ALPN), so the shared client's pool opens one TLS connection per in-flight
//! request: 64 workers use 64 connections, as one client per worker would, without the
//! per-worker setup. (Berth's server offers h2, which kubectl and client-go would use.)

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use futures::StreamExt;
use hdrhistogram::Histogram;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::Client;
use kube::api::{
    Api, ListParams, ObjectMeta, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::CommonArgs;
use crate::berth::{self, Berth};
use crate::daemon::{self, CpuMeter, Mem};
use crate::etcd::{self, Etcd, EtcdKv};
use crate::kv::{self, KvRun};
use crate::load::{self, Errors, Lat, LoadResult, closed_loop, new_hist, open_loop, record};
use crate::report::{Report, Table, fmt_num, fmt_ratio};

#[derive(clap::Args, Debug)]
pub struct ApiArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The berth binary [default: `berth` next to this executable]
    #[arg(long, value_name = "BIN")]
    pub berth: Option<PathBuf>,
    /// The etcd binary for the comparison [default: `etcd` on PATH; as root, installs Debian's
    /// etcd-server if missing]
    #[arg(long, value_name = "BIN")]
    pub etcd: Option<PathBuf>,
    /// Skip the etcd comparison (the in-process berth-store figures are still measured).
    #[arg(long)]
    pub no_etcd: bool,
    /// Only the storage comparison (etcd vs berth-store in-process); no berth binary needed.
    #[arg(long)]
    pub store_only: bool,
}

/// Deadline of one load phase (a phase that hits it reports what it did so far).
const PHASE_DEADLINE: Duration = Duration::from_secs(180);
/// Deadline of one list request.
const LIST_TIMEOUT: Duration = Duration::from_secs(60);
/// Annotation the watch writer puts its send time in (nanoseconds since the Unix epoch).
const STAMP: &str = "bench.berth.dev/sent-unix-nanos";

/// How much of everything to do.
struct Plan {
    /// (concurrent clients, creates)
    creates: Vec<(usize, usize)>,
    rate: f64,
    rate_secs: u64,
    watchers: usize,
    watch_objects: usize,
    watch_rate: f64,
    watch_secs: u64,
    pods: usize,
    list_runs: usize,
    page: u32,
    payload_bytes: usize,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                creates: vec![(1, 500), (8, 2_000), (64, 4_000)],
                rate: 1_000.0,
                rate_secs: 5,
                watchers: 100,
                watch_objects: 100,
                watch_rate: 200.0,
                watch_secs: 5,
                pods: 3_000,
                list_runs: 3,
                page: 500,
                payload_bytes: 256,
            }
        } else {
            Plan {
                creates: vec![(1, 3_000), (8, 10_000), (64, 20_000)],
                rate: 1_000.0,
                rate_secs: 10,
                watchers: 100,
                watch_objects: 100,
                watch_rate: 200.0,
                watch_secs: 10,
                pods: 10_000,
                list_runs: 5,
                page: 500,
                payload_bytes: 256,
            }
        }
    }
}

/// What the API phases hand to the comparison and the goals.
#[derive(Default)]
struct ApiFigures {
    /// (clients, result) of the closed-loop creates.
    creates: Vec<(usize, LoadResult)>,
    rate: Option<load::OpenLoopResult>,
    watch_lat: Option<Lat>,
    /// A ConfigMap as Berth returns it, for a realistic value size in the storage comparison.
    sample_object: Option<Vec<u8>>,
    /// berth's memory after each phase: (figure id suffix, what had been done, memory).
    phase_mem: Vec<(&'static str, &'static str, Mem)>,
}

pub async fn run(args: &ApiArgs, report: &mut Report) -> anyhow::Result<()> {
    let plan = Plan::new(args.common.quick);
    let tmp_root = args.common.tmp_root();
    report.meta("subcommand", "api");
    report.meta("mode", if args.common.quick { "quick" } else { "full" });
    if args.store_only {
        println!("berth-bench api --store-only: storage comparison only");
        return compare_storage(args, &plan, report, &ApiFigures::default()).await;
    }
    let bin = berth::locate(args.berth.as_deref())?;
    println!(
        "berth-bench api ({} mode)",
        if args.common.quick { "quick" } else { "full" }
    );
    println!("  berth binary: {}", bin.display());

    let (mut berth, client) = Berth::start(&bin, &tmp_root).await?;
    println!(
        "  berth up (pid {}) answered at {} after {} ms",
        berth.daemon.pid(),
        berth.server,
        berth.startup.as_millis()
    );
    report.figure(
        "berth.startup",
        "berth up: process start to first answered API request",
        berth.startup.as_secs_f64() * 1000.0,
        "ms",
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = daemon::mem_of(berth.daemon.pid())?;

    let mut figs = ApiFigures::default();
    let outcome = api_phases(&berth, &client, &plan, report, &mut figs).await;
    if let Err(e) = &outcome {
        println!(
            "\n!! API phases failed: {e:#}\n   end of berth's log:\n{}",
            berth.daemon.log_tail(20)
        );
    }

    // Memory, the server's own complaints, and shutdown: also after a failed phase.
    let end = daemon::mem_of(berth.daemon.pid()).unwrap_or_default();
    memory_table(report, idle, &figs.phase_mem, end);
    scan_log(report, &berth.daemon.log_text());
    drop(client);
    if args.common.keep
        && let Some(dir) = berth.daemon.keep_dir()
    {
        println!("  kept berth's data dir and log in {}", dir.display());
    }
    match berth.daemon.stop(Duration::from_secs(15)) {
        Some(d) => report.figure(
            "berth.shutdown",
            "berth up: SIGTERM to exit",
            d.as_secs_f64() * 1000.0,
            "ms",
        ),
        None => report.note("berth did not exit within 15 s of SIGTERM and was killed"),
    }
    outcome?;

    compare_storage(args, &plan, report, &figs).await?;
    goals(report, &figs);
    report.print_goals();
    Ok(())
}

async fn api_phases(
    berth: &Berth,
    client: &Client,
    plan: &Plan,
    report: &mut Report,
    figs: &mut ApiFigures,
) -> anyhow::Result<()> {
    let pid = berth.daemon.pid();
    let payload: Arc<str> = "berth-bench-payload-"
        .repeat(plan.payload_bytes / 20 + 1)
        .chars()
        .take(plan.payload_bytes)
        .collect::<String>()
        .into();
    println!(
        "  clients: one kube::Client shared by all workers (HTTP/1.1: one TLS connection per in-flight request)"
    );

    // Warm-up: opens the connections the 64-client run will use, outside any measurement.
    ensure_namespace(client, "bench-warmup").await?;
    let warm = create_configmaps(client, "bench-warmup", 256, 64, payload.clone()).await;
    if warm.ok == 0 {
        bail!(
            "warm-up creates all failed: {}",
            warm.errors.samples.join(" | ")
        );
    }

    // 1. Durable creates, closed loop.
    let mut t = Table::new(
        "Berth API: ConfigMap creates (closed loop; each acknowledged create is durable)",
        &[
            "clients",
            "creates",
            "ok",
            "errors",
            "creates/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "berth CPU",
            "bench CPU",
        ],
    );
    for &(clients, n) in &plan.creates {
        let ns = format!("bench-create-c{clients}");
        ensure_namespace(client, &ns).await?;
        let cpu = CpuMeter::start(pid);
        let r = create_configmaps(client, &ns, n, clients, payload.clone()).await;
        let (cores, bench_cores) = cpu.cores();
        let lat = r.lat();
        t.row(vec![
            clients.to_string(),
            r.requested.to_string(),
            r.ok.to_string(),
            r.errors.count.to_string(),
            fmt_num(r.throughput()),
            fmt_num(lat.p50_ms),
            fmt_num(lat.p99_ms),
            fmt_num(lat.max_ms),
            fmt_num(cores),
            fmt_num(bench_cores),
        ]);
        let id = format!("api.create.c{clients}");
        let label = format!("Berth API ConfigMap create, {clients} concurrent client(s)");
        report.figure(
            &format!("{id}.throughput"),
            &label,
            r.throughput(),
            "creates/s",
        );
        report.latency(&format!("{id}.latency"), &format!("{label}, latency"), &lat);
        cpu_figures(report, &id, &label, (cores, bench_cores));
        report.errors(&id, &label, &r.errors);
        if r.stopped_at_deadline {
            report.note(format!(
                "{label}: stopped at the {PHASE_DEADLINE:?} deadline"
            ));
        }
        figs.creates.push((clients, r));
    }
    t.print();
    println!(
        "  (CPU columns: cores busy, i.e. CPU seconds per wall second, of berth and of this load generator)"
    );
    let sample: Api<ConfigMap> = Api::namespaced(client.clone(), "bench-create-c1");
    if let Ok(cm) = sample.get("cm-000000").await {
        figs.sample_object = serde_json::to_vec(&cm).ok();
    }

    figs.phase_mem.push((
        "after_creates",
        "after the 1/8/64-client creates",
        daemon::mem_of(pid)?,
    ));

    // 2. Fixed rate, open loop.
    ensure_namespace(client, "bench-rate").await?;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "bench-rate");
    let (p, a) = (payload.clone(), api.clone());
    let cpu = CpuMeter::start(pid);
    let r = open_loop(
        plan.rate,
        Duration::from_secs(plan.rate_secs),
        1024,
        move |i| {
            let (a, p) = (a.clone(), p.clone());
            async move {
                a.create(&PostParams::default(), &configmap(i, &p)).await?;
                Ok(())
            }
        },
    )
    .await;
    let (cores, bench_cores) = cpu.cores();
    let lat = r.lat();
    let mut t = Table::new(
        &format!(
            "Berth API: creates at a fixed {} creates/s for {} s (open loop; latency from the scheduled send time)",
            r.target_rate, plan.rate_secs
        ),
        &[
            "scheduled",
            "ok",
            "errors",
            "achieved/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "max send lag ms",
            "berth CPU",
            "bench CPU",
        ],
    );
    t.row(vec![
        r.scheduled.to_string(),
        r.ok.to_string(),
        r.errors.count.to_string(),
        fmt_num(r.achieved_rate()),
        fmt_num(lat.p50_ms),
        fmt_num(lat.p99_ms),
        fmt_num(lat.max_ms),
        fmt_num(r.max_send_lag.as_secs_f64() * 1000.0),
        fmt_num(cores),
        fmt_num(bench_cores),
    ]);
    t.print();
    print_per_second(&r.max_per_second);
    let label = format!(
        "Berth API ConfigMap create at a fixed {} creates/s (open loop)",
        r.target_rate
    );
    report.figure("api.rate.achieved", &label, r.achieved_rate(), "creates/s");
    report.latency(
        "api.rate.latency",
        &format!("{label}, latency from scheduled send"),
        &lat,
    );
    report.figure(
        "api.rate.max_send_lag",
        &format!("{label}, worst lateness of the sender vs its schedule"),
        r.max_send_lag.as_secs_f64() * 1000.0,
        "ms",
    );
    cpu_figures(report, "api.rate", &label, (cores, bench_cores));
    report.series(
        "api.rate.max_per_second",
        &format!("{label}, worst latency of the creates scheduled in each second"),
        &r.max_per_second,
        "ms",
    );
    report.errors("api.rate", &label, &r.errors);
    figs.rate = Some(r);

    figs.phase_mem.push((
        "after_rate",
        "after the fixed-rate creates",
        daemon::mem_of(pid)?,
    ));

    // 3. Watch fan-out.
    // Baseline first: one watcher, to separate the write path from the fan-out.
    watch_phase(
        client,
        pid,
        plan,
        1,
        plan.watch_secs / 2,
        "api.watch1",
        report,
    )
    .await?;
    let lat = watch_phase(
        client,
        pid,
        plan,
        plan.watchers,
        plan.watch_secs,
        "api.watch",
        report,
    )
    .await?;
    figs.watch_lat = Some(lat);

    figs.phase_mem
        .push(("after_watch", "after the watch phase", daemon::mem_of(pid)?));

    // 4. Large lists.
    let after_pods = list_phase(client, pid, plan, report).await?;
    figs.phase_mem.push((
        "after_pod_creates",
        "after creating the pods (before listing)",
        after_pods,
    ));
    figs.phase_mem.push((
        "after_lists",
        "after creating and listing the pods",
        daemon::mem_of(pid)?,
    ));
    Ok(())
}

/// The worst latency per second of an open-loop run, on one line.
fn print_per_second(max: &[f64]) {
    let cells: Vec<String> = max.iter().map(|v| fmt_num(*v)).collect();
    println!(
        "  worst latency of the requests scheduled in each second, ms: {}",
        cells.join(" ")
    );
}

/// CPU use of berth and of this benchmark process over a phase.
fn cpu_figures(report: &mut Report, id: &str, label: &str, (berth, bench): (f64, f64)) {
    report.figure(
        &format!("{id}.berth_cpu"),
        &format!("{label}, berth CPU use"),
        berth,
        "cores",
    );
    report.figure(
        &format!("{id}.bench_cpu"),
        &format!("{label}, load generator (berth-bench) CPU use"),
        bench,
        "cores",
    );
}

fn configmap(i: usize, payload: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(format!("cm-{i:06}")),
            labels: Some(BTreeMap::from([(
                "app".to_string(),
                "berth-bench".to_string(),
            )])),
            ..Default::default()
        },
        data: Some(BTreeMap::from([(
            "payload".to_string(),
            payload.to_string(),
        )])),
        ..Default::default()
    }
}

async fn create_configmaps(
    client: &Client,
    ns: &str,
    n: usize,
    clients: usize,
    payload: Arc<str>,
) -> LoadResult {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    closed_loop(n, clients, PHASE_DEADLINE, move |i| {
        let (api, payload) = (api.clone(), payload.clone());
        async move {
            api.create(&PostParams::default(), &configmap(i, &payload))
                .await?;
            Ok(())
        }
    })
    .await
}

async fn ensure_namespace(client: &Client, name: &str) -> anyhow::Result<()> {
    let api: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            ..Default::default()
        },
        ..Default::default()
    };
    match api.create(&PostParams::default(), &ns).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot create namespace {name}")),
    }
}

fn unix_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// Control of the watchers: the number of events each should get (once the writer is done), and
/// whether to give up now.
#[derive(Clone, Copy, Default)]
struct WatchCtl {
    expected: Option<u64>,
    stop: bool,
}

struct WatcherOut {
    hist: Histogram<u64>,
    received: u64,
    connected: bool,
    ended_early: bool,
    errors: Errors,
}

async fn watcher(
    api: Api<ConfigMap>,
    rv: String,
    mut ctl: watch::Receiver<WatchCtl>,
    ready: Arc<AtomicUsize>,
    timeout_secs: u32,
) -> WatcherOut {
    let mut out = WatcherOut {
        hist: new_hist(),
        received: 0,
        connected: false,
        ended_early: false,
        errors: Errors::default(),
    };
    let wp = WatchParams::default().timeout(timeout_secs);
    let stream = match api.watch(&wp, &rv).await {
        Ok(s) => s,
        Err(e) => {
            out.errors.add(format!("cannot start watch: {e}"));
            return out;
        }
    };
    out.connected = true;
    ready.fetch_add(1, Ordering::SeqCst);
    let mut stream = stream.boxed();
    loop {
        let c = *ctl.borrow_and_update();
        if c.stop || c.expected.is_some_and(|n| out.received >= n) {
            break;
        }
        tokio::select! {
            item = stream.next() => match item {
                None => {
                    out.ended_early = true;
                    break;
                }
                Some(Err(e)) => out.errors.add(format!("watch stream error: {e}")),
                Some(Ok(WatchEvent::Modified(cm))) => {
                    let now = unix_nanos();
                    let stamp = cm
                        .metadata
                        .annotations
                        .as_ref()
                        .and_then(|a| a.get(STAMP))
                        .and_then(|s| s.parse::<u128>().ok());
                    if let Some(stamp) = stamp {
                        let ns = u64::try_from(now.saturating_sub(stamp)).unwrap_or(u64::MAX);
                        record(&mut out.hist, Duration::from_nanos(ns));
                        out.received += 1;
                    }
                }
                Some(Ok(WatchEvent::Error(s))) => {
                    out.errors.add(format!("watch error event: {} {}", s.code, s.message));
                }
                Some(Ok(_)) => {}
            },
            changed = ctl.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
    out
}

/// `watchers` watches on one namespace while a writer updates its objects at `plan.watch_rate`
/// for `secs`; figures under `id`.
async fn watch_phase(
    client: &Client,
    pid: u32,
    plan: &Plan,
    watchers: usize,
    secs: u64,
    id: &str,
    report: &mut Report,
) -> anyhow::Result<Lat> {
    let ns = format!("bench-watch{watchers}");
    let ns = ns.as_str();
    ensure_namespace(client, ns).await?;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let made = create_configmaps(client, ns, plan.watch_objects, 16, "w".into()).await;
    if made.ok < plan.watch_objects as u64 {
        bail!(
            "could not create the watched objects: {}",
            made.errors.samples.join(" | ")
        );
    }
    let rv = api
        .list(&ListParams::default().limit(1))
        .await
        .context("list for the watch's starting resourceVersion failed")?
        .metadata
        .resource_version
        .context("list has no resourceVersion")?;

    let (ctl_tx, ctl_rx) = watch::channel(WatchCtl::default());
    let ready = Arc::new(AtomicUsize::new(0));
    let timeout_secs = u32::try_from(secs + 120).unwrap_or(u32::MAX);
    let mut set = JoinSet::new();
    for _ in 0..watchers {
        set.spawn(watcher(
            api.clone(),
            rv.clone(),
            ctl_rx.clone(),
            ready.clone(),
            timeout_secs,
        ));
    }
    let wait_until = Instant::now() + Duration::from_secs(30);
    while ready.load(Ordering::SeqCst) < watchers && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let established = ready.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (a, objects) = (api.clone(), plan.watch_objects);
    let cpu = CpuMeter::start(pid);
    let writer = open_loop(plan.watch_rate, Duration::from_secs(secs), 256, move |i| {
        let a = a.clone();
        async move {
            let patch = json!({"metadata": {"annotations": {STAMP: unix_nanos().to_string()}}});
            a.patch(
                &format!("cm-{:06}", i % objects),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await?;
            Ok(())
        }
    })
    .await;
    let cpu_use = cpu.cores();
    let _ = ctl_tx.send(WatchCtl {
        expected: Some(writer.ok),
        stop: false,
    });

    // Give the watchers 15 s to drain, then stop them.
    let mut hist = new_hist();
    let (mut received, mut connected, mut ended_early) = (0u64, 0usize, 0usize);
    let mut errors = Errors::default();
    let grace = tokio::time::Instant::now() + Duration::from_secs(15);
    let mut stopped = false;
    loop {
        let next = if stopped {
            set.join_next().await
        } else {
            match tokio::time::timeout_at(grace, set.join_next()).await {
                Ok(n) => n,
                Err(_) => {
                    stopped = true;
                    let _ = ctl_tx.send(WatchCtl {
                        expected: Some(writer.ok),
                        stop: true,
                    });
                    continue;
                }
            }
        };
        let Some(joined) = next else { break };
        match joined {
            Ok(w) => {
                let _ = hist.add(&w.hist);
                received += w.received;
                connected += usize::from(w.connected);
                ended_early += usize::from(w.ended_early);
                errors.merge(w.errors);
            }
            Err(e) => errors.add(format!("watcher task failed: {e}")),
        }
    }
    let expected = writer.ok * connected as u64;
    let lat = Lat::of(&hist);
    let wlat = writer.lat();

    let mut t = Table::new(
        &format!(
            "Berth API: watch delivery, {} watcher(s) on one namespace, {} updates/s for {} s",
            watchers, plan.watch_rate, secs
        ),
        &["figure", "value"],
    );
    t.row(vec![
        "watches established".into(),
        format!("{connected} of {}", watchers),
    ]);
    t.row(vec![
        "updates sent ok / errors".into(),
        format!("{} / {}", writer.ok, writer.errors.count),
    ]);
    t.row(vec![
        "updates achieved rate (/s)".into(),
        fmt_num(writer.achieved_rate()),
    ]);
    t.row(vec![
        "update (PATCH) latency p50 / p99 ms".into(),
        format!("{} / {}", fmt_num(wlat.p50_ms), fmt_num(wlat.p99_ms)),
    ]);
    t.row(vec!["deliveries expected".into(), expected.to_string()]);
    t.row(vec!["deliveries received".into(), received.to_string()]);
    t.row(vec![
        "delivery latency p50 / p99 / max ms".into(),
        format!(
            "{} / {} / {}",
            fmt_num(lat.p50_ms),
            fmt_num(lat.p99_ms),
            fmt_num(lat.max_ms)
        ),
    ]);
    t.row(vec![
        "watch streams that ended early".into(),
        ended_early.to_string(),
    ]);
    t.row(vec![
        "CPU while writing, berth / bench (cores)".into(),
        format!("{} / {}", fmt_num(cpu_use.0), fmt_num(cpu_use.1)),
    ]);
    t.print();
    println!(
        "  (delivery latency = watcher's receive time - writer's send time stamped in an annotation; it includes the PATCH itself: commit, fsync, fan-out, JSON over TLS, client decode)"
    );
    print_per_second(&writer.max_per_second);

    let label = format!("Berth API watch delivery, {watchers} watcher(s)");
    report.latency(
        &format!("{id}.delivery"),
        &format!("{label}, send-stamp to receipt latency"),
        &lat,
    );
    report.figure(
        &format!("{id}.established"),
        &format!("{label}, watches established"),
        connected as f64,
        "count",
    );
    report.figure(
        &format!("{id}.expected"),
        &format!("{label}, deliveries expected"),
        expected as f64,
        "count",
    );
    report.figure(
        &format!("{id}.received"),
        &format!("{label}, deliveries received"),
        received as f64,
        "count",
    );
    report.figure(
        &format!("{id}.ended_early"),
        &format!("{label}, streams ended early"),
        ended_early as f64,
        "count",
    );
    report.figure(
        &format!("{id}.writer.achieved"),
        &format!("{label}, writer update rate"),
        writer.achieved_rate(),
        "updates/s",
    );
    report.latency(
        &format!("{id}.writer.latency"),
        &format!("{label}, writer PATCH latency from scheduled send"),
        &wlat,
    );
    cpu_figures(report, id, &label, cpu_use);
    report.series(
        &format!("{id}.writer.max_per_second"),
        &format!("{label}, worst writer PATCH latency of each second"),
        &writer.max_per_second,
        "ms",
    );
    report.errors(
        &format!("{id}.writer"),
        &format!("{label}, writer"),
        &writer.errors,
    );
    report.errors(
        &format!("{id}.watchers"),
        &format!("{label}, watchers"),
        &errors,
    );
    if established < watchers {
        report.note(format!(
            "only {established} of {} watches were established within 30 s",
            watchers
        ));
    }
    if received < expected {
        report.note(format!(
            "watchers missed {} of {expected} deliveries",
            expected - received
        ));
    }
    Ok(lat)
}

fn pod(i: usize) -> anyhow::Result<Pod> {
    Ok(serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": format!("pod-{i:06}"), "labels": {"app": "berth-bench"}},
        "spec": {
            "containers": [{
                "name": "main",
                "image": "registry.k8s.io/pause:3.10",
                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
            }],
        },
    }))?)
}

/// Times `runs` executions of `f`; returns the histogram of their durations.
async fn time_runs<F, Fut>(runs: usize, mut f: F) -> anyhow::Result<Histogram<u64>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut h = new_hist();
    for _ in 0..runs {
        let t0 = Instant::now();
        tokio::time::timeout(LIST_TIMEOUT, f())
            .await
            .with_context(|| format!("no answer within {LIST_TIMEOUT:?}"))??;
        record(&mut h, t0.elapsed());
    }
    Ok(h)
}

/// Creates the pods and lists them; returns berth's memory between the two.
async fn list_phase(
    client: &Client,
    pid: u32,
    plan: &Plan,
    report: &mut Report,
) -> anyhow::Result<Mem> {
    let ns = "bench-list";
    ensure_namespace(client, ns).await?;
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let a = api.clone();
    let made = closed_loop(plan.pods, 64, PHASE_DEADLINE, move |i| {
        let a = a.clone();
        async move {
            a.create(&PostParams::default(), &pod(i)?).await?;
            Ok(())
        }
    })
    .await;
    let label = "Berth API Pod create, 64 concurrent clients";
    report.figure(
        "api.pods.create.throughput",
        label,
        made.throughput(),
        "creates/s",
    );
    report.latency(
        "api.pods.create.latency",
        &format!("{label}, latency"),
        &made.lat(),
    );
    report.errors("api.pods.create", label, &made.errors);
    let after_pods = daemon::mem_of(pid)?;

    // Raw: the server's work and the transfer, without decoding in the client.
    let path = format!("/api/v1/namespaces/{ns}/pods");
    let raw_req = || kube::core::Request::new(path.clone()).list(&ListParams::default());
    let body = client
        .request_text(raw_req()?)
        .await
        .context("listing pods failed")?;
    let listed: serde_json::Value = serde_json::from_str(&body).context("pod list is not JSON")?;
    let items = listed["items"].as_array().map_or(0, Vec::len);
    let bytes = body.len();
    let raw = time_runs(plan.list_runs, || async {
        let body = client.request_text(raw_req()?).await?;
        anyhow::ensure!(body.len() > 2, "empty list body");
        Ok(())
    })
    .await
    .context("raw pod list failed")?;
    // Typed: what a kube-rs client sees, decode into Pod structs included.
    let typed = time_runs(plan.list_runs, || async {
        let l = api.list(&ListParams::default()).await?;
        anyhow::ensure!(
            l.items.len() == items,
            "list returned {} pods, expected {items}",
            l.items.len()
        );
        Ok(())
    })
    .await
    .context("typed pod list failed")?;
    // Paged: limit=500 with continue tokens, total time for all pages.
    let pages = std::cell::Cell::new(0usize);
    let pages_ref = &pages;
    let paged = time_runs(plan.list_runs, || {
        let api = api.clone();
        async move {
            let mut token: Option<String> = None;
            let mut seen = 0usize;
            pages_ref.set(0);
            for _ in 0..10_000 {
                let mut lp = ListParams::default().limit(plan.page);
                if let Some(t) = &token {
                    lp = lp.continue_token(t);
                }
                let l = api.list(&lp).await?;
                pages_ref.set(pages_ref.get() + 1);
                seen += l.items.len();
                token = l.metadata.continue_.filter(|t| !t.is_empty());
                if token.is_none() {
                    break;
                }
            }
            anyhow::ensure!(
                seen == items,
                "paged list returned {seen} pods, expected {items}"
            );
            Ok(())
        }
    })
    .await
    .context("paged pod list failed")?;

    let mut t = Table::new(
        &format!(
            "Berth API: list {items} pods ({:.1} MiB of JSON), {} runs each",
            bytes as f64 / 1048576.0,
            plan.list_runs
        ),
        &["list", "p50 ms", "max ms"],
    );
    let rows = [
        ("raw", "full list, body read, not decoded", &raw),
        ("typed", "full list, decoded into k8s-openapi Pods", &typed),
        (
            "paged",
            "limit=500 pages with continue, total (typed)",
            &paged,
        ),
    ];
    for (id, what, h) in rows {
        let lat = Lat::of(h);
        t.row(vec![
            what.to_string(),
            fmt_num(lat.p50_ms),
            fmt_num(lat.max_ms),
        ]);
        let label = format!("Berth API list of {items} pods, {what}");
        report.figure(
            &format!("api.list.{id}.p50"),
            &format!("{label}, p50"),
            lat.p50_ms,
            "ms",
        );
        report.figure(
            &format!("api.list.{id}.max"),
            &format!("{label}, max"),
            lat.max_ms,
            "ms",
        );
    }
    t.print();
    println!(
        "  (pods created beforehand at {} creates/s with 64 clients, {} errors; paged list took {} pages)",
        fmt_num(made.throughput()),
        made.errors.count,
        pages.get()
    );
    report.figure(
        "api.list.items",
        "pods in the listed namespace",
        items as f64,
        "count",
    );
    report.figure(
        "api.list.bytes",
        "size of the full pod list response",
        bytes as f64,
        "bytes",
    );
    if items != plan.pods {
        report.note(format!(
            "listed {items} pods, {} were meant to be created",
            plan.pods
        ));
    }
    Ok(after_pods)
}

fn memory_table(
    report: &mut Report,
    idle: Mem,
    phases: &[(&'static str, &'static str, Mem)],
    end: Mem,
) {
    let mut t = Table::new("Berth process memory", &["figure", "MiB"]);
    t.row(vec![
        "RSS 1 s after start (idle), VmRSS".into(),
        fmt_num(idle.rss_mib()),
    ]);
    report.figure(
        "berth.rss.idle",
        "berth RSS 1 s after start (VmRSS)",
        idle.rss_mib(),
        "MiB",
    );
    for (id, what, m) in phases {
        t.row(vec![format!("RSS {what}, VmRSS"), fmt_num(m.rss_mib())]);
        report.figure(
            &format!("berth.rss.{id}"),
            &format!("berth RSS {what} (VmRSS)"),
            m.rss_mib(),
            "MiB",
        );
    }
    t.row(vec!["RSS at the end, VmRSS".into(), fmt_num(end.rss_mib())]);
    t.row(vec![
        "peak RSS over the run, VmHWM".into(),
        fmt_num(end.hwm_mib()),
    ]);
    t.print();
    report.figure(
        "berth.rss.end",
        "berth RSS at the end of the API phases (VmRSS)",
        end.rss_mib(),
        "MiB",
    );
    report.figure(
        "berth.rss.peak",
        "berth peak RSS over the run (VmHWM)",
        end.hwm_mib(),
        "MiB",
    );
}

/// Counts the warnings and errors berth logged during the run, and shows a few.
fn scan_log(report: &mut Report, log: &str) {
    let plain: Vec<String> = log.lines().map(strip_ansi).collect();
    let warn: Vec<&String> = plain.iter().filter(|l| l.contains(" WARN ")).collect();
    let error: Vec<&String> = plain.iter().filter(|l| l.contains(" ERROR ")).collect();
    report.figure(
        "berth.log.warnings",
        "WARN lines in berth's log during the run",
        warn.len() as f64,
        "count",
    );
    report.figure(
        "berth.log.errors",
        "ERROR lines in berth's log during the run",
        error.len() as f64,
        "count",
    );
    if !warn.is_empty() || !error.is_empty() {
        let mut samples: Vec<&str> = Vec::new();
        for l in error.iter().chain(warn.iter()) {
            if samples.len() < 5 {
                samples.push(l.as_str());
            }
        }
        report.note(format!(
            "berth logged {} ERROR and {} WARN lines, e.g.:\n    {}",
            error.len(),
            warn.len(),
            samples.join("\n    ")
        ));
    }
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ ... final byte in @..~
            for d in chars.by_ref() {
                if ('@'..='~').contains(&d) && d != '[' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

async fn compare_storage(
    args: &ApiArgs,
    plan: &Plan,
    report: &mut Report,
    figs: &ApiFigures,
) -> anyhow::Result<()> {
    let value = match &figs.sample_object {
        Some(v) => v.clone(),
        None => serde_json::to_vec(&configmap(0, &"x".repeat(plan.payload_bytes)))?,
    };
    println!();
    println!(
        "== Storage comparison: N puts then N gets per level, value = a {}-byte ConfigMap JSON ==",
        value.len()
    );
    println!(
        "  (a) etcd: v3 JSON gateway (POST /v3/kv/put, /v3/kv/range): crosses HTTP/1.1 + JSON + loopback TCP, then etcd's gRPC, raft and an fsynced WAL"
    );
    println!(
        "  (b) berth-store: SqliteStore in-process through the Store trait: NO network, NO HTTP (SQLite WAL, fsync per group commit)"
    );
    println!(
        "  (c) Berth's API path: HTTPS + authn/authz + decoding, defaulting, validation + store + response encoding, for context against (a)"
    );
    report.figure(
        "kv.value_bytes",
        "value size in the storage comparison",
        value.len() as f64,
        "bytes",
    );

    let tmp_root = args.common.tmp_root();
    let sqlite_dir = daemon::Daemon::tempdir(&tmp_root, "sqlite")?;
    let (sqlite, commits) = kv::run_sqlite(sqlite_dir.path(), &value, &plan.creates).await?;
    if args.common.keep {
        println!("  kept the SqliteStore dir {}", sqlite_dir.keep().display());
    }
    for (run, commits) in sqlite.iter().zip(&commits) {
        let id = format!("kv.sqlite.c{}", run.clients);
        let label = format!(
            "berth-store SqliteStore in-process, {} concurrent clients",
            run.clients
        );
        kv_figures(report, &id, &label, run);
        report.figure(
            &format!("{id}.writes_per_commit"),
            &format!("{label}, creates per write transaction (group commit)"),
            run.put.ok as f64 / (*commits).max(1) as f64,
            "writes/commit",
        );
    }

    let etcd_runs = if args.no_etcd {
        skipped(report, "--no-etcd given");
        None
    } else {
        match etcd::locate(args.etcd.as_deref()).await {
            Err(why) => {
                skipped(report, &why);
                None
            }
            Ok(bin) => {
                let version = etcd::version(&bin);
                report.meta("etcd_version", version.clone());
                let mut e = Etcd::start(&bin, &tmp_root).await?;
                println!("  etcd: {} ({version}) at {}", bin.display(), e.url);
                let idle = daemon::mem_of(e.daemon.pid()).unwrap_or_default();
                let client = EtcdKv::new(&e.url)?;
                let runs = kv::run_etcd(&client, &value, &plan.creates).await;
                let end = daemon::mem_of(e.daemon.pid()).unwrap_or_default();
                report.figure(
                    "etcd.rss.idle",
                    "etcd RSS after start (VmRSS)",
                    idle.rss_mib(),
                    "MiB",
                );
                report.figure(
                    "etcd.rss.peak",
                    "etcd peak RSS over its workload (VmHWM)",
                    end.hwm_mib(),
                    "MiB",
                );
                if args.common.keep
                    && let Some(dir) = e.daemon.keep_dir()
                {
                    println!("  kept etcd's data dir and log in {}", dir.display());
                }
                e.daemon.stop(Duration::from_secs(10));
                for run in &runs {
                    let id = format!("kv.etcd.c{}", run.clients);
                    let label =
                        format!("etcd via JSON gateway, {} concurrent clients", run.clients);
                    kv_figures(report, &id, &label, run);
                }
                Some(runs)
            }
        }
    };

    let mut t = Table::new(
        "Storage layer: (a) etcd put/get over HTTP+loopback vs (b) berth-store in-process (ratio = berth-store / etcd)",
        &[
            "op",
            "clients",
            "etcd ops/s",
            "p50 ms",
            "p99 ms",
            "berth-store ops/s",
            "p50 ms",
            "p99 ms",
            "ops/s ratio",
            "p99 ratio",
        ],
    );
    for (i, s) in sqlite.iter().enumerate() {
        let e = etcd_runs.as_ref().and_then(|r| r.get(i));
        for (op, sr, er) in [
            ("put/create", &s.put, e.map(|e| &e.put)),
            ("get", &s.get, e.map(|e| &e.get)),
        ] {
            let sl = sr.lat();
            let (et, el) = er.map_or((f64::NAN, Lat::of(&new_hist())), |r| {
                (r.throughput(), r.lat())
            });
            t.row(vec![
                op.into(),
                s.clients.to_string(),
                fmt_num(et),
                fmt_num(el.p50_ms),
                fmt_num(el.p99_ms),
                fmt_num(sr.throughput()),
                fmt_num(sl.p50_ms),
                fmt_num(sl.p99_ms),
                fmt_ratio(sr.throughput() / et),
                fmt_ratio(sl.p99_ms / el.p99_ms),
            ]);
            let op_id = if op == "get" { "get" } else { "put" };
            report.figure(
                &format!("kv.ratio.c{}.{op_id}.throughput", s.clients),
                &format!("berth-store / etcd {op} throughput, {} clients", s.clients),
                sr.throughput() / et,
                "ratio",
            );
            report.figure(
                &format!("kv.ratio.c{}.{op_id}.p99", s.clients),
                &format!("berth-store / etcd {op} p99 latency, {} clients", s.clients),
                sl.p99_ms / el.p99_ms,
                "ratio",
            );
        }
    }
    t.print();
    let mut t = Table::new(
        "(c) Berth's full API create over HTTPS vs (a) a raw etcd put over HTTP (ratio = Berth API / etcd)",
        &[
            "clients",
            "etcd puts/s",
            "p50 ms",
            "p99 ms",
            "Berth API creates/s",
            "p50 ms",
            "p99 ms",
            "ops/s ratio",
            "p99 ratio",
        ],
    );
    for (i, (clients, api)) in figs.creates.iter().enumerate() {
        let e = etcd_runs.as_ref().and_then(|r| r.get(i));
        let (et, el) = e.map_or((f64::NAN, Lat::of(&new_hist())), |r| {
            (r.put.throughput(), r.put.lat())
        });
        let al = api.lat();
        t.row(vec![
            clients.to_string(),
            fmt_num(et),
            fmt_num(el.p50_ms),
            fmt_num(el.p99_ms),
            fmt_num(api.throughput()),
            fmt_num(al.p50_ms),
            fmt_num(al.p99_ms),
            fmt_ratio(api.throughput() / et),
            fmt_ratio(al.p99_ms / el.p99_ms),
        ]);
        report.figure(
            &format!("api_vs_etcd.c{clients}.throughput"),
            &format!("Berth API creates/s / etcd gateway puts/s, {clients} clients"),
            api.throughput() / et,
            "ratio",
        );
        report.figure(
            &format!("api_vs_etcd.c{clients}.p99"),
            &format!("Berth API create p99 / etcd gateway put p99, {clients} clients"),
            al.p99_ms / el.p99_ms,
            "ratio",
        );
    }
    t.print();
    let counts: Vec<String> = plan
        .creates
        .iter()
        .map(|(c, n)| format!("{c} clients: N={n}"))
        .collect();
    println!(
        "  (N per level: {}; all on this machine's 2 cores with the load generator)",
        counts.join(", ")
    );
    Ok(())
}

fn kv_figures(report: &mut Report, id: &str, label: &str, run: &KvRun) {
    report.figure(
        &format!("{id}.put.throughput"),
        &format!("{label}, put of new keys"),
        run.put.throughput(),
        "puts/s",
    );
    report.latency(
        &format!("{id}.put.latency"),
        &format!("{label}, put latency"),
        &run.put.lat(),
    );
    report.errors(
        &format!("{id}.put"),
        &format!("{label}, put"),
        &run.put.errors,
    );
    report.figure(
        &format!("{id}.get.throughput"),
        &format!("{label}, get"),
        run.get.throughput(),
        "gets/s",
    );
    report.latency(
        &format!("{id}.get.latency"),
        &format!("{label}, get latency"),
        &run.get.lat(),
    );
    report.errors(
        &format!("{id}.get"),
        &format!("{label}, get"),
        &run.get.errors,
    );
}

fn skipped(report: &mut Report, why: &str) {
    println!();
    println!("##########################################################################");
    println!("## SKIPPED: etcd comparison: {why}");
    println!("##########################################################################");
    report.meta("etcd_skipped", why);
}

fn goals(report: &mut Report, figs: &ApiFigures) {
    if let Some((_, r)) = figs.creates.iter().find(|(c, _)| *c == 64) {
        let v = r.throughput();
        report.goal(
            "durable creates/s at 64 clients",
            ">= 5000 creates/s",
            v,
            "creates/s",
            v >= 5000.0,
        );
    }
    if let Some(r) = &figs.rate {
        let p99 = r.lat().p99_ms;
        let achieved = r.achieved_rate();
        report.goal(
            "p99 create latency at 1,000 creates/s",
            "< 10 ms (at the full rate)",
            p99,
            "ms",
            p99 < 10.0 && achieved >= 0.95 * r.target_rate,
        );
    }
    if let Some(l) = &figs.watch_lat {
        report.goal(
            "watch delivery p99 (100 watchers)",
            "< 5 ms",
            l.p99_ms,
            "ms",
            l.p99_ms < 5.0,
        );
    }
}
