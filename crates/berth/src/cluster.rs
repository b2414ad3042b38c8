//! The in-process components of the embedded cluster around the API server: controllers,
//! workload controllers, scheduler, this machine's node agent and simulated nodes. Each is a
//! client of the API (through the in-process transport) and stops when the shutdown signal turns.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use berth_apimachinery::status::ApiError;
use berth_apiserver::ApiServer;
use berth_apiserver::debug::DebugSource;
use berth_apiserver::metrics::{
    ContainerMetricsSample, NodeMetricsSample, PodMetricsSample, ResourceMetricsSource,
};
use berth_apiserver::podexec::{ExecProcess, PodExecRequest, PodExecSource};
use berth_apiserver::podlogs::{LogStream, PodLogRequest, PodLogSource};
use tokio::sync::watch;
use tokio::task::JoinSet;

pub struct ClusterOptions {
    pub data_dir: PathBuf,
    pub node_name: Option<String>,
    pub pod_cidr: String,
    pub node_agent: bool,
    pub simulated_nodes: usize,
    /// The cluster CA (PEM), published as `kube-root-ca.crt` in every namespace.
    pub ca_pem: String,
    /// The service proxy, cluster DNS and ingress router (they run with the node agent).
    pub traffic: crate::traffic::TrafficOptions,
}

/// The running components; [`Components::stop`] waits for them after shutdown was signalled.
pub struct Components {
    control_plane: JoinSet<()>,
    node_agent: Option<tokio::task::JoinHandle<()>>,
}

/// How long the node agent may take to stop its pods when Berth stops.
const NODE_AGENT_STOP_TIMEOUT: Duration = Duration::from_secs(40);

impl Components {
    pub async fn stop(mut self) {
        if let Some(agent) = self.node_agent.take()
            && tokio::time::timeout(NODE_AGENT_STOP_TIMEOUT, agent)
                .await
                .is_err()
        {
            tracing::warn!("the node agent did not stop its pods in time");
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while self.control_plane.join_next().await.is_some() {}
        })
        .await;
    }
}

pub async fn start(
    options: ClusterOptions,
    server: &Arc<ApiServer>,
    client: kube::Client,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Components> {
    let mut control_plane = JoinSet::new();

    let scheduler = berth_scheduler::Scheduler::new(
        client.clone(),
        berth_scheduler::SchedulerConfig::default(),
    );
    server.add_debug_endpoint(
        "scheduler",
        Arc::new(SchedulerDecisions(scheduler.decisions())),
    );
    control_plane.spawn(scheduler.run(shutdown.clone()));

    let simulated_prefix = berth_simnode::SimulatedNodesConfig::default().name_prefix;
    if options.simulated_nodes > 0 {
        let config = berth_simnode::SimulatedNodesConfig {
            count: options.simulated_nodes,
            ..Default::default()
        };
        control_plane.spawn(
            berth_simnode::SimulatedNodes::new(client.clone(), config).run(shutdown.clone()),
        );
    }

    let traffic_kubernetes_ip = options.traffic.kubernetes_ip;
    let mut node_agent = None;
    let mut logs = None;
    let mut exec = None;
    let mut usage = None;
    if options.node_agent {
        let node_name = match options.node_name {
            Some(n) => n,
            None => hostname()?,
        };

        let traffic = crate::traffic::start(
            options.traffic,
            server,
            client.clone(),
            shutdown.clone(),
            &mut control_plane,
        )
        .await?;
        let kubernetes_ip = traffic_kubernetes_ip;

        let mut config = berth_node::NodeAgentConfig::new(node_name, options.data_dir.join("node"));
        config.cluster_dns = traffic.cluster_dns;
        // Names of host-wide things (bridge, network namespaces, cgroups) follow the pod CIDR,
        // so two Berths on different CIDRs never touch each other's pods.
        let instance = instance_name(&options.pod_cidr)?;
        config.pod_cidr = options.pod_cidr.clone();
        config.netns_prefix = format!("{instance}-");
        config.cgroup_parent = instance.clone();
        config.bridge_name = instance;
        // Pods reach the API server through the `kubernetes` Service, as on Kubernetes.
        config.api_server_host = kubernetes_ip.to_string();
        config.api_server_port = 443;
        let agent = berth_node::NodeAgent::new(client.clone(), config)
            .await
            .context("cannot start the node agent")?;
        logs = Some(agent.logs());
        exec = Some(agent.exec());
        usage = Some(agent.usage_source());
        // `kubectl top`: the metrics.k8s.io group is served only when a node reports usage, as
        // Kubernetes serves it only with metrics-server.
        server.set_resource_metrics_source(Arc::new(NodeResourceMetrics(agent.resource_metrics())));
        node_agent = Some(tokio::spawn(agent.run(shutdown.clone())));
    }
    let mut controllers =
        berth_controllers::ControllerManager::new(client.clone()).with_root_ca(options.ca_pem);
    if let Some(usage) = usage {
        controllers = controllers.with_pod_metrics(Arc::new(NodeCpuUsage(usage)));
    }
    control_plane.spawn(controllers.run(shutdown.clone()));
    control_plane.spawn(berth_workloads::run(client.clone(), shutdown.clone()));
    server.set_pod_exec_source(Arc::new(NodeExec {
        local: exec,
        simulated_prefix: simulated_prefix.clone(),
    }));
    server.set_pod_log_source(Arc::new(NodeLogs {
        local: logs,
        simulated_prefix,
    }));
    Ok(Components {
        control_plane,
        node_agent,
    })
}

/// `berth<third octet>` for a /24 pod CIDR (`berth0` for the default 10.244.0.0/24): short
/// enough for an interface name (15 bytes).
fn instance_name(pod_cidr: &str) -> anyhow::Result<String> {
    let (addr, _) = pod_cidr
        .split_once('/')
        .with_context(|| format!("pod CIDR {pod_cidr:?} is not ADDRESS/PREFIX"))?;
    let ip: std::net::Ipv4Addr = addr
        .parse()
        .with_context(|| format!("pod CIDR {pod_cidr:?} is not an IPv4 CIDR"))?;
    Ok(format!("berth{}", ip.octets()[2]))
}

fn hostname() -> anyhow::Result<String> {
    let name = nix::unistd::gethostname()
        .context("cannot read the hostname")?
        .to_string_lossy()
        .to_lowercase();
    Ok(name)
}

/// `pods/log` for the nodes this process runs.
struct NodeLogs {
    local: Option<berth_node::LogReader>,
    simulated_prefix: String,
}

impl PodLogSource for NodeLogs {
    fn open(
        &self,
        request: PodLogRequest,
    ) -> Pin<Box<dyn Future<Output = Result<LogStream, ApiError>> + Send + '_>> {
        Box::pin(async move {
            if request.node.starts_with(&self.simulated_prefix) {
                return Err(ApiError::bad_request(format!(
                    "pod {} runs on the simulated node {}: it has no processes and no logs",
                    request.pod, request.node
                )));
            }
            match &self.local {
                Some(reader) => {
                    reader
                        .open(berth_node::LogRequest {
                            namespace: request.namespace,
                            pod: request.pod,
                            pod_uid: request.pod_uid,
                            container: request.container,
                            follow: request.follow,
                            previous: request.previous,
                            timestamps: request.timestamps,
                            tail_lines: request.tail_lines,
                            limit_bytes: request.limit_bytes,
                            since: request.since,
                        })
                        .await
                }
                None => Err(ApiError::new(
                    503,
                    "ServiceUnavailable",
                    format!("no node agent serves logs for node {:?}", request.node),
                )),
            }
        })
    }
}

/// `pods/exec` for the nodes this process runs.
struct NodeExec {
    local: Option<berth_node::PodExec>,
    simulated_prefix: String,
}

impl PodExecSource for NodeExec {
    fn exec(
        &self,
        request: PodExecRequest,
    ) -> Pin<Box<dyn Future<Output = Result<ExecProcess, ApiError>> + Send + '_>> {
        Box::pin(async move {
            let target = request.target;
            if target.node.starts_with(&self.simulated_prefix) {
                return Err(ApiError::bad_request(format!(
                    "pod {} runs on the simulated node {}: it has no processes to exec into",
                    target.pod, target.node
                )));
            }
            let Some(exec) = &self.local else {
                return Err(ApiError::new(
                    503,
                    "ServiceUnavailable",
                    format!("no node agent runs processes for node {:?}", target.node),
                ));
            };
            let session = exec
                .exec(berth_node::ExecRequest {
                    namespace: target.namespace,
                    pod: target.pod,
                    pod_uid: target.pod_uid,
                    container: target.container,
                    command: request.command,
                    stdin: request.stdin,
                    stdout: request.stdout,
                    stderr: request.stderr,
                    tty: request.tty,
                })
                .await?;
            Ok(ExecProcess {
                stdin: session.stdin,
                stdout: session.stdout,
                stderr: session.stderr,
                resize: session.resize,
                exit: session.exit,
            })
        })
    }
}

/// The node agent's cgroup usage in the shape of `metrics.k8s.io`.
struct NodeResourceMetrics(berth_node::ResourceMetrics);

impl ResourceMetricsSource for NodeResourceMetrics {
    fn pods(&self) -> Vec<PodMetricsSample> {
        self.0
            .pods()
            .into_iter()
            .map(|p| PodMetricsSample {
                namespace: p.namespace,
                name: p.name,
                containers: p
                    .containers
                    .into_iter()
                    .map(|c| ContainerMetricsSample {
                        name: c.name,
                        cpu_nanocores: c.cpu_nanocores,
                        memory_working_set_bytes: c.memory_working_set_bytes,
                    })
                    .collect(),
                timestamp: p.timestamp,
                window: p.window,
            })
            .collect()
    }

    fn nodes(&self) -> Vec<NodeMetricsSample> {
        self.0
            .nodes()
            .into_iter()
            .map(|n| NodeMetricsSample {
                name: n.name,
                cpu_nanocores: n.cpu_nanocores,
                memory_working_set_bytes: n.memory_working_set_bytes,
                timestamp: n.timestamp,
                window: n.window,
            })
            .collect()
    }
}

/// Pod CPU usage for the HorizontalPodAutoscaler, from the node agent's cgroups.
struct NodeCpuUsage(berth_node::UsageSource);

impl berth_controllers::PodMetricsSource for NodeCpuUsage {
    fn cpu_usage_millicores(&self, namespace: &str, pod: &str) -> Option<u64> {
        self.0
            .usage()
            .into_iter()
            .find(|u| u.namespace == namespace && u.name == pod)
            .map(|u| u.cpu_millicores)
    }
}

/// `/debug/berth/scheduler/pods/<namespace>/<name>`: the scheduler's last decision for a pod.
struct SchedulerDecisions(Arc<berth_scheduler::DecisionLog>);

impl DebugSource for SchedulerDecisions {
    fn get(&self, path: &str) -> Option<serde_json::Value> {
        let mut parts = path.strip_prefix("pods/")?.splitn(2, '/');
        let (namespace, name) = (parts.next()?, parts.next()?);
        serde_json::to_value(self.0.get(namespace, name)?).ok()
    }
}
