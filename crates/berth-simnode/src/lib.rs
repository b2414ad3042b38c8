//! Simulated nodes (the kwok idea): pods bound to them become Running and Ready without
//! processes.
//!
//! [`SimulatedNodes`] registers `count` Nodes, renews each node's Lease in `kube-node-lease`
//! like a kubelet, and watches all pods once: pods bound to one of its nodes get the status a
//! kubelet would report (Running and Ready with an IP from the node's range; Job pods succeed
//! after a simulated run time), and pods being deleted are removed as a kubelet confirms
//! deletion. Status writes go through a small pool of workers with at most one pending write
//! per pod.

mod ips;
mod nodes;
mod pods;

use std::net::Ipv4Addr;

use kube::Client;
use tokio::sync::watch;

pub use pods::{DEFAULT_SIMULATED_DURATION, SIMULATED_DURATION_ANNOTATION};

/// Label every simulated node carries (`type=simulated`, as kwok's `type=kwok`).
pub const SIMULATED_NODE_LABEL: (&str, &str) = ("type", "simulated");

#[derive(Clone, Debug)]
pub struct SimulatedNodesConfig {
    pub count: usize,
    pub name_prefix: String,
    pub cpu: String,
    pub memory: String,
    pub pods: u32,
    /// Node `i` gets the /24 at `pod_cidr_base + 256 * i` (10.245.i.0/24 for i < 256), outside
    /// the 10.244.0.0/16 that real pods use.
    pub pod_cidr_base: Ipv4Addr,
}

impl Default for SimulatedNodesConfig {
    fn default() -> Self {
        SimulatedNodesConfig {
            count: 1,
            name_prefix: "berth-sim-".into(),
            cpu: "32".into(),
            memory: "256Gi".into(),
            pods: 110,
            pod_cidr_base: Ipv4Addr::new(10, 245, 0, 0),
        }
    }
}

impl SimulatedNodesConfig {
    pub fn node_name(&self, i: usize) -> String {
        format!("{}{}", self.name_prefix, i)
    }

    /// The first address of node `i`'s /24.
    pub fn node_subnet(&self, i: usize) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.pod_cidr_base).wrapping_add((i as u32).wrapping_mul(256)))
    }
}

pub struct SimulatedNodes {
    client: Client,
    config: SimulatedNodesConfig,
}

impl SimulatedNodes {
    pub fn new(client: Client, config: SimulatedNodesConfig) -> Self {
        SimulatedNodes { client, config }
    }

    /// Registers the nodes, then renews their leases and runs their pods until `shutdown`
    /// turns true (or its sender is dropped). The nodes stay registered afterwards, as with kwok.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        tracing::info!(
            count = self.config.count,
            prefix = self.config.name_prefix,
            "starting simulated nodes"
        );
        let registered = nodes::register_all(&self.client, &self.config);
        tokio::select! {
            _ = registered => {}
            _ = wait_for_shutdown(shutdown.clone()) => return,
        }
        let leases = nodes::renew_leases(self.client.clone(), self.config.clone());
        let pods = pods::run(self.client.clone(), self.config.clone());
        tokio::select! {
            _ = leases => {}
            _ = pods => {}
            _ = wait_for_shutdown(shutdown) => {}
        }
        tracing::info!("stopped simulated nodes");
    }
}

async fn wait_for_shutdown(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|s| *s).await;
}
