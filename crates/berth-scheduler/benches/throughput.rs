//! Scheduler throughput on an in-process API server with simulated nodes: creates
//! `BERTH_BENCH_NODES` nodes (default 1,000) and `BERTH_BENCH_PODS` pods (default 10,000), runs
//! the scheduler and prints pods/s and the p50/p99 time from a pod's create call to the
//! scheduler's binding being visible in a watch.
//!
//! `cargo bench -p berth-scheduler`; small numbers on a debug build:
//! `BERTH_BENCH_NODES=10 BERTH_BENCH_PODS=200 cargo bench -p berth-scheduler --profile dev`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use berth_apiserver::testing::TestCluster;
use berth_scheduler::{Scheduler, SchedulerConfig};
use berth_simnode::{SimulatedNodes, SimulatedNodesConfig};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};

const NAMESPACE: &str = "default";
const CREATE_CONCURRENCY: usize = 64;
const PODS_PER_NODE: u32 = 110;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn main() {
    let nodes = env_usize("BERTH_BENCH_NODES", 1_000);
    let pods = env_usize("BERTH_BENCH_PODS", 10_000);
    if pods > nodes * PODS_PER_NODE as usize {
        eprintln!("{pods} pods do not fit on {nodes} nodes of {PODS_PER_NODE} pods");
        std::process::exit(2);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run(nodes, pods));
}

async fn run(node_count: usize, pod_count: usize) {
    let cluster = TestCluster::start().await.expect("test cluster");
    let client = cluster.client.clone();
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);

    let started = Instant::now();
    let simnodes = SimulatedNodes::new(
        client.clone(),
        SimulatedNodesConfig {
            count: node_count,
            pods: PODS_PER_NODE,
            ..SimulatedNodesConfig::default()
        },
    );
    let simnode_task = tokio::spawn(simnodes.run(shutdown_rx.clone()));
    let node_api: Api<Node> = Api::all(client.clone());
    loop {
        let n = node_api
            .list(&ListParams::default().labels("type=simulated"))
            .await
            .map(|l| {
                l.items
                    .iter()
                    .filter(|n| {
                        n.status
                            .as_ref()
                            .and_then(|s| s.allocatable.as_ref())
                            .is_some()
                    })
                    .count()
            })
            .unwrap_or(0);
        if n >= node_count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "registered {node_count} simulated nodes in {:.1?}",
        started.elapsed()
    );

    let scheduler = Scheduler::new(client.clone(), SchedulerConfig::default());
    let scheduler_task = tokio::spawn(scheduler.run(shutdown_rx.clone()));

    // Bound times as seen by a watch (what a controller would observe).
    let bound: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let (all_bound_tx, mut all_bound) = tokio::sync::watch::channel(false);
    let watch_task = {
        let bound = bound.clone();
        let api: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
        tokio::spawn(async move {
            let mut stream = watcher(api, watcher::Config::default())
                .default_backoff()
                .applied_objects()
                .boxed();
            while let Ok(Some(pod)) = stream.try_next().await {
                let assigned = pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.node_name.as_ref())
                    .is_some();
                if !assigned {
                    continue;
                }
                let mut b = bound.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(name) = pod.metadata.name {
                    b.entry(name).or_insert_with(Instant::now);
                }
                if b.len() >= pod_count {
                    let _ = all_bound_tx.send(true);
                }
            }
        })
    };

    let pods_api: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let created: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let first_create = Instant::now();
    futures::stream::iter(0..pod_count)
        .map(|i| {
            let api = pods_api.clone();
            let created = created.clone();
            async move {
                let name = format!("bench-{i}");
                let pod: Pod = serde_json::from_value(serde_json::json!({
                    "metadata": {"name": name},
                    "spec": {"containers": [{"name": "c", "image": "busybox",
                        "resources": {"requests": {"cpu": "10m", "memory": "10Mi"}}}]},
                }))
                .expect("pod");
                created
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(name.clone(), Instant::now());
                if let Err(e) = api.create(&PostParams::default(), &pod).await {
                    eprintln!("creating {name}: {e}");
                }
            }
        })
        .buffer_unordered(CREATE_CONCURRENCY)
        .collect::<Vec<()>>()
        .await;
    let create_done = first_create.elapsed();
    println!("created {pod_count} pods in {create_done:.1?}");

    let deadline = Duration::from_secs(600.max(pod_count as u64 / 5));
    if tokio::time::timeout(deadline, all_bound.wait_for(|b| *b))
        .await
        .is_err()
    {
        let n = bound.lock().unwrap_or_else(|p| p.into_inner()).len();
        eprintln!("only {n}/{pod_count} pods bound after {deadline:?}");
    }
    let bound = bound.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let created = created.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let last_bound = bound.values().max().copied().unwrap_or(first_create);
    let elapsed = last_bound.duration_since(first_create);
    let mut latencies: Vec<Duration> = bound
        .iter()
        .filter_map(|(name, at)| created.get(name).map(|c| at.saturating_duration_since(*c)))
        .collect();
    latencies.sort();
    println!(
        "scheduler: {node_count} nodes, {} pods bound in {elapsed:.2?}: {:.0} pods/s; \
         create-to-bound p50 {:.1?}, p99 {:.1?}",
        bound.len(),
        bound.len() as f64 / elapsed.as_secs_f64().max(1e-9),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
    );

    let _ = shutdown_tx.send(true);
    watch_task.abort();
    let _ = tokio::time::timeout(Duration::from_secs(10), scheduler_task).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), simnode_task).await;
    drop(cluster);
}
