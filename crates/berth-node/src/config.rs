//! Configuration of the node agent.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// How the node agent runs. Build with [`NodeAgentConfig::new`] and adjust fields.
#[derive(Debug, Clone)]
pub struct NodeAgentConfig {
    pub node_name: String,
    /// `<data-dir>/node`: pod directories (logs, volumes).
    pub root_dir: PathBuf,
    /// The node's pod CIDR: the bridge gets its first address, pods the rest.
    pub pod_cidr: String,
    /// Cluster DNS server for pods (resolv.conf is not written yet).
    pub cluster_dns: Option<Ipv4Addr>,
    pub cluster_domain: String,
    /// KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT for pods. From a pod network
    /// namespace the API server is reachable on the bridge address (the CIDR's first) or the
    /// host IP if it listens there, not on 127.0.0.1.
    pub api_server_host: String,
    pub api_server_port: u16,
    /// Bridge the pods' veth pairs attach to.
    pub bridge_name: String,
    /// Prefix of pod network namespace names; stale ones with it are removed at start.
    pub netns_prefix: String,
    /// Cgroup directory (under each hierarchy) holding the pod cgroups; its leftovers are killed
    /// at start.
    pub cgroup_parent: String,
    /// Overrides the detected InternalIP.
    pub host_ip: Option<Ipv4Addr>,
    pub node_labels: BTreeMap<String, String>,
    pub max_pods: u32,
    pub lease_duration_seconds: i32,
    pub container_log_max_size: u64,
    pub container_log_max_files: usize,
    /// How often ConfigMap, Secret, downward API and token volumes are refreshed (kubelet's
    /// sync period, one minute).
    pub volume_resync_period: std::time::Duration,
}

impl NodeAgentConfig {
    /// Kubelet's defaults; `node_name` empty means the host name.
    pub fn new(node_name: impl Into<String>, root_dir: impl Into<PathBuf>) -> Self {
        let mut node_name = node_name.into();
        if node_name.is_empty() {
            node_name = crate::machine::hostname();
        }
        NodeAgentConfig {
            node_name,
            root_dir: root_dir.into(),
            pod_cidr: "10.244.0.0/24".into(),
            cluster_dns: None,
            cluster_domain: "cluster.local".into(),
            api_server_host: "10.244.0.1".into(),
            api_server_port: 6443,
            bridge_name: "berth0".into(),
            netns_prefix: "berth-".into(),
            cgroup_parent: "berth".into(),
            host_ip: None,
            node_labels: BTreeMap::new(),
            max_pods: 110,
            lease_duration_seconds: 40,
            container_log_max_size: 10 * 1024 * 1024,
            container_log_max_files: 5,
            volume_resync_period: std::time::Duration::from_secs(60),
        }
    }
}
