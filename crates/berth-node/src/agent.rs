//! The node agent: registers the Node, keeps its lease, watches the pods bound to it and runs
//! one [`PodWorker`] per pod; on shutdown stops every pod and removes what it created.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::Api;
use kube::runtime::watcher;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cgroup::{Cgroups, PodCgroup};
use crate::config::NodeAgentConfig;
use crate::error::NodeError;
use crate::events::KubeletRecorder;
use crate::logs::{LogReader, LogRegistry, Rotation};
use crate::machine::{self, MachineInfo};
use crate::metrics::ResourceMetrics;
use crate::network::Network;
use crate::node;
use crate::pod::PodWorker;
use crate::spawner::Spawner;
use crate::usage::{PodSample, PodUsage, UsageTracker};

/// Everything the agent's tasks share.
pub struct AgentContext {
    pub client: Client,
    pub config: NodeAgentConfig,
    pub machine: MachineInfo,
    pub cgroups: Cgroups,
    pub network: Network,
    pub spawner: Spawner,
    pub logs: LogRegistry,
    pub(crate) exec: crate::exec::ExecRegistry,
    pub recorder: KubeletRecorder,
    usage: Mutex<HashMap<String, UsageTracker>>,
}

impl AgentContext {
    pub fn pods_dir(&self) -> PathBuf {
        self.config.root_dir.join("pods")
    }

    pub fn rotation(&self) -> Rotation {
        Rotation {
            max_size: self.config.container_log_max_size,
            max_files: self.config.container_log_max_files,
        }
    }

    /// What every container's environment starts with: the agent's PATH and HOME (Berth runs
    /// processes on the host, whose tools live there) and HOSTNAME = the pod name.
    pub fn base_env(&self, pod_name: &str) -> Vec<(String, String)> {
        let path = std::env::var("PATH").unwrap_or_else(|_| {
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()
        });
        let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
        vec![
            ("PATH".into(), path),
            ("HOME".into(), home),
            ("HOSTNAME".into(), pod_name.to_string()),
        ]
    }

    pub fn track_pod(&self, uid: &str, namespace: &str, name: &str, cgroup: Option<PodCgroup>) {
        if let Some(cg) = cgroup {
            self.usage
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(uid.to_string(), UsageTracker::new(namespace, name, cg));
        }
    }

    /// Records which of a pod's containers run now (the metrics API reports usage per
    /// container).
    pub fn set_running_containers(&self, uid: &str, containers: Vec<String>) {
        if let Some(t) = self
            .usage
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(uid)
        {
            t.set_containers(containers);
        }
    }

    pub fn untrack_pod(&self, uid: &str) {
        self.exec.remove_pod(uid);
        self.usage
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(uid);
    }

    pub(crate) fn samples(&self) -> Vec<PodSample> {
        let now = Instant::now();
        self.usage
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values_mut()
            .map(|t| t.sample_full(now))
            .collect()
    }

    pub fn usage(&self) -> Vec<PodUsage> {
        let now = Instant::now();
        self.usage
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values_mut()
            .map(|t| t.sample(now))
            .collect()
    }
}

/// The node agent (the kubelet role). Build with [`NodeAgent::new`], then [`NodeAgent::run`].
pub struct NodeAgent {
    ctx: Arc<AgentContext>,
}

impl NodeAgent {
    /// Prepares the node: cleans up after a crashed agent (processes in Berth's cgroups, stale
    /// network namespaces), detects cgroups, sets up the pod bridge and starts the spawner.
    pub async fn new(client: Client, config: NodeAgentConfig) -> Result<Self, NodeError> {
        if config.node_name.is_empty() {
            return Err(NodeError::Config("node name is empty".into()));
        }
        let pods_dir = config.root_dir.join("pods");
        std::fs::create_dir_all(&pods_dir)
            .map_err(|e| NodeError::io(format!("creating {}", pods_dir.display()), e))?;
        let mut machine = machine::read(&config.root_dir);
        if let Some(ip) = config.host_ip {
            machine.host_ip = ip;
        }
        let cgroups = Cgroups::detect(&config.cgroup_parent);
        let stale = cgroups.clone();
        let _ = tokio::task::spawn_blocking(move || stale.remove_stale()).await;
        let network = Network::setup(
            &config.bridge_name,
            &config.pod_cidr,
            &config.netns_prefix,
            machine.host_ip,
        )
        .await;
        let spawner =
            Spawner::start().map_err(|e| NodeError::io("starting the spawner thread", e))?;
        let recorder = KubeletRecorder::new(client.clone(), config.node_name.clone());
        Ok(NodeAgent {
            ctx: Arc::new(AgentContext {
                client,
                config,
                machine,
                cgroups,
                network,
                spawner,
                logs: LogRegistry::default(),
                exec: Default::default(),
                recorder,
                usage: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Serves `pods/log` for this node's pods.
    pub fn logs(&self) -> LogReader {
        LogReader {
            pods_dir: self.ctx.pods_dir(),
            registry: self.ctx.logs.clone(),
        }
    }

    /// Serves `pods/exec` for this node's running containers.
    pub fn exec(&self) -> crate::exec::PodExec {
        crate::exec::PodExec {
            registry: self.ctx.exec.clone(),
            spawner: self.ctx.spawner.clone(),
        }
    }

    /// A handle for CPU and memory usage of the pods (for a metrics API and the HPA).
    pub fn usage_source(&self) -> UsageSource {
        UsageSource {
            ctx: self.ctx.clone(),
        }
    }

    /// Per-container and node usage shaped for the resource metrics API (`metrics.k8s.io`).
    pub fn resource_metrics(&self) -> ResourceMetrics {
        ResourceMetrics::new(self.usage_source(), self.ctx.config.node_name.clone())
    }

    /// CPU (millicores over the last window) and memory working set of each running pod.
    pub fn usage(&self) -> Vec<PodUsage> {
        self.ctx.usage()
    }

    /// Runs until shutdown; then stops every pod's processes (grace periods honoured, then
    /// SIGKILL) and removes the network namespaces and cgroups it made.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let ctx = self.ctx;
        let node = loop {
            match node::register(&ctx).await {
                Ok(n) => break n,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot register node; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
                        _ = shutdown.changed() => return,
                    }
                }
            }
        };
        tracing::info!(node = %ctx.config.node_name, "node registered");
        let heartbeat = tokio::spawn(node::heartbeat(ctx.clone(), node, shutdown.clone()));
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut workers: HashMap<String, (watch::Sender<Option<Pod>>, JoinHandle<()>)> =
            HashMap::new();
        let api: Api<Pod> = Api::all(ctx.client.clone());
        let config =
            watcher::Config::default().fields(&format!("spec.nodeName={}", ctx.config.node_name));
        let mut stream = watcher(api, config).boxed();
        let mut seen_in_relist: Option<Vec<String>> = None;
        let mut finished: HashSet<String> = HashSet::new();
        loop {
            let event = tokio::select! {
                ev = stream.next() => ev,
                _ = shutdown.changed() => None,
            };
            if *shutdown.borrow() || shutdown.has_changed().is_err() {
                break;
            }
            let Some(event) = event else { break };
            match event {
                Ok(watcher::Event::Apply(pod)) => {
                    apply_pod(&ctx, &mut workers, &finished, pod, &stop_rx)
                }
                Ok(watcher::Event::InitApply(pod)) => {
                    if let (Some(seen), Some(uid)) =
                        (seen_in_relist.as_mut(), pod.metadata.uid.clone())
                    {
                        seen.push(uid);
                    }
                    apply_pod(&ctx, &mut workers, &finished, pod, &stop_rx);
                }
                Ok(watcher::Event::Delete(pod)) => {
                    if let Some(uid) = pod.metadata.uid
                        && let Some((tx, _)) = workers.get(&uid)
                    {
                        let _ = tx.send(None);
                    }
                }
                Ok(watcher::Event::Init) => seen_in_relist = Some(Vec::new()),
                Ok(watcher::Event::InitDone) => {
                    // Pods that vanished while the watch was down are gone.
                    if let Some(seen) = seen_in_relist.take() {
                        for (uid, (tx, _)) in &workers {
                            if !seen.contains(uid) {
                                let _ = tx.send(None);
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "pod watch failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
            // Remember pods whose worker finished (deleted) so a late event does not start
            // them again.
            workers.retain(|uid, (_, task)| {
                if task.is_finished() {
                    finished.insert(uid.clone());
                }
                !task.is_finished()
            });
        }
        tracing::info!("node agent stopping all pods");
        let _ = stop_tx.send(true);
        for (_, (_, task)) in workers {
            let _ = task.await;
        }
        heartbeat.abort();
        let cgroups = ctx.cgroups.clone();
        let _ = tokio::task::spawn_blocking(move || {
            cgroups.remove_stale();
            cgroups.remove_parent();
        })
        .await;
        ctx.network.teardown().await;
    }
}

fn apply_pod(
    ctx: &Arc<AgentContext>,
    workers: &mut HashMap<String, (watch::Sender<Option<Pod>>, JoinHandle<()>)>,
    finished: &HashSet<String>,
    pod: Pod,
    stop: &watch::Receiver<bool>,
) {
    let Some(uid) = pod.metadata.uid.clone() else {
        return;
    };
    if let Some((tx, task)) = workers.get(&uid)
        && !task.is_finished()
    {
        let _ = tx.send(Some(pod));
        return;
    }
    if workers.contains_key(&uid) || finished.contains(&uid) {
        return;
    }
    // A terminal pod this agent did not run (it ran before a restart) is only removed when
    // deleted; it is not started again.
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if matches!(phase, Some("Succeeded") | Some("Failed"))
        && pod.metadata.deletion_timestamp.is_none()
    {
        return;
    }
    let (tx, rx) = watch::channel(Some(pod.clone()));
    let worker = PodWorker::new(ctx.clone(), pod);
    let task = tokio::spawn(worker.run(rx, stop.clone()));
    workers.insert(uid, (tx, task));
}

/// Reads pod usage from a running agent.
#[derive(Clone)]
pub struct UsageSource {
    ctx: Arc<AgentContext>,
}

impl UsageSource {
    pub fn usage(&self) -> Vec<PodUsage> {
        self.ctx.usage()
    }

    pub(crate) fn samples(&self) -> Vec<PodSample> {
        self.ctx.samples()
    }
}
