//! The cluster DNS server (CoreDNS' job in a Kubernetes cluster): answers the names of the
//! Kubernetes DNS-Based Service Discovery specification from Services and EndpointSlices seen
//! through informers, and forwards every other name to the host's resolvers.
//!
//! ```text
//! <svc>.<ns>.svc.<zone>                 A/AAAA: cluster IPs, or ready endpoints if headless;
//!                                       CNAME for ExternalName Services
//! <hostname>.<svc>.<ns>.svc.<zone>      A/AAAA of a headless Service's endpoint
//! _<port>._<proto>.<svc>.<ns>.svc.<zone> SRV
//! <a-b-c-d>.<ns>.pod.<zone>             A (CoreDNS' `pods insecure`)
//! <reverse>.in-addr.arpa / ip6.arpa     PTR for cluster IPs and headless endpoints
//! dns-version.<zone>                    TXT "1.1.0"
//! ```
//!
//! Usage: [`DnsServer::new`], then [`DnsServer::bind`] (bind errors surface here, before the
//! server is spawned) and [`BoundDnsServer::run`] until the shutdown signal; or
//! [`DnsServer::run`] for both.

mod cluster;
mod forward;
mod resolve;
mod server;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use berth_controllers::runtime::{AbortOnDrop, wait_for_shutdown};
use serde_json::{Value, json};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::watch;

use crate::cluster::ClusterView;
use crate::resolve::Zone;
use crate::server::{Shared, Stats};

/// Settings of the cluster DNS server.
#[derive(Debug, Clone)]
pub struct DnsConfig {
    /// Where to serve, UDP and TCP on each. Port 0 picks a free port (the same one for UDP and
    /// TCP); [`BoundDnsServer::local_addrs`] tells which.
    pub listen: Vec<SocketAddr>,
    /// The cluster domain (kubelet `--cluster-domain`).
    pub cluster_domain: String,
    /// Servers for names outside the cluster domain, tried in order (see [`host_upstreams`]).
    pub upstreams: Vec<SocketAddr>,
    /// TTL of the records served (and of negative answers).
    pub ttl: u32,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            listen: vec![SocketAddr::new(
                IpAddr::V4(Ipv4Addr::new(10, 96, 0, 10)),
                53,
            )],
            cluster_domain: "cluster.local".to_string(),
            upstreams: Vec::new(),
            // CoreDNS' kubernetes plugin default.
            ttl: 5,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("no listen address configured")]
    NoListenAddress,
    #[error("invalid cluster domain {domain:?}: {reason}")]
    InvalidClusterDomain { domain: String, reason: String },
    #[error("binding {transport} {addr}: {source}")]
    Bind {
        transport: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// The `nameserver` addresses of a resolv.conf text, on port 53, in order. IPv6 link-local
/// addresses with a zone (`fe80::1%eth0`) are skipped.
pub fn host_upstreams(resolv_conf: &str) -> Vec<SocketAddr> {
    resolv_conf
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            if words.next() != Some("nameserver") {
                return None;
            }
            let ip: IpAddr = words.next()?.parse().ok()?;
            Some(SocketAddr::new(ip, 53))
        })
        .collect()
}

/// A read-only view of a server for debug endpoints and tests; cheap to clone.
#[derive(Clone)]
pub struct DnsHandle {
    view: Arc<ClusterView>,
    stats: Arc<Stats>,
    config: Arc<DnsConfig>,
    bound: Arc<OnceLock<Vec<SocketAddr>>>,
}

/// At most this many Services are listed in a snapshot.
const SNAPSHOT_SERVICES: usize = 500;

impl DnsHandle {
    /// Whether the first list of Services and EndpointSlices has arrived (before that, names in
    /// the cluster domain are answered SERVFAIL).
    pub fn synced(&self) -> bool {
        self.view.synced()
    }

    /// Waits until [`Self::synced`].
    pub async fn wait_synced(&self) {
        let mut synced = self.view.subscribe_synced();
        // Fails only if the sender, held by the view we hold too, is gone: never.
        let _ = synced.wait_for(|s| *s).await;
    }

    /// The state of the server as JSON, for `/debug/berth/dns`.
    pub fn snapshot(&self) -> Value {
        let stats = &self.stats;
        let services: Vec<Value> = self
            .view
            .all_services()
            .iter()
            .take(SNAPSHOT_SERVICES)
            .map(|svc| {
                let spec = svc.spec.as_ref();
                let endpoints: Vec<String> = self
                    .view
                    .endpoints(svc)
                    .into_iter()
                    .map(|e| format!("{} {}", e.label, e.ip))
                    .collect();
                json!({
                    "name": format!(
                        "{}.{}.svc.{}",
                        svc.metadata.name.as_deref().unwrap_or_default(),
                        svc.metadata.namespace.as_deref().unwrap_or_default(),
                        self.config.cluster_domain
                    ),
                    "type": spec.and_then(|s| s.type_.clone()),
                    "clusterIPs": spec.and_then(|s| s.cluster_ips.clone()),
                    "externalName": spec.and_then(|s| s.external_name.clone()),
                    "readyEndpoints": endpoints,
                })
            })
            .collect();
        json!({
            "clusterDomain": self.config.cluster_domain,
            "ttl": self.config.ttl,
            "listen": self.bound.get().cloned().unwrap_or_default()
                .iter().map(ToString::to_string).collect::<Vec<_>>(),
            "upstreams": self.config.upstreams.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "synced": self.view.synced(),
            "soaSerial": self.view.serial(),
            "endpointSlices": self.view.slice_count(),
            "queries": {
                "total": stats.queries.load(Ordering::Relaxed),
                "answeredLocally": stats.answered_locally.load(Ordering::Relaxed),
                "forwarded": stats.forwarded.load(Ordering::Relaxed),
                "nxdomain": stats.nxdomain.load(Ordering::Relaxed),
                "servfail": stats.servfail.load(Ordering::Relaxed),
            },
            "services": services,
        })
    }
}

/// The cluster DNS server, not yet bound.
pub struct DnsServer {
    client: kube::Client,
    handle: DnsHandle,
}

impl DnsServer {
    pub fn new(client: kube::Client, config: DnsConfig) -> Self {
        DnsServer {
            client,
            handle: DnsHandle {
                view: Arc::new(ClusterView::new()),
                stats: Arc::new(Stats::default()),
                config: Arc::new(config),
                bound: Arc::new(OnceLock::new()),
            },
        }
    }

    pub fn handle(&self) -> DnsHandle {
        self.handle.clone()
    }

    /// Binds every listen address (UDP and TCP); fails on the first that cannot be bound.
    pub async fn bind(self) -> Result<BoundDnsServer, DnsError> {
        let config = self.handle.config.clone();
        let zone = Zone::new(&config.cluster_domain, config.ttl).map_err(|reason| {
            DnsError::InvalidClusterDomain {
                domain: config.cluster_domain.clone(),
                reason,
            }
        })?;
        if config.listen.is_empty() {
            return Err(DnsError::NoListenAddress);
        }
        let mut udp = Vec::new();
        let mut tcp = Vec::new();
        let mut addrs = Vec::new();
        for addr in &config.listen {
            let (socket, listener) = bind_pair(*addr).await?;
            let local = socket.local_addr().map_err(|source| DnsError::Bind {
                transport: "UDP",
                addr: *addr,
                source,
            })?;
            addrs.push(local);
            udp.push(Arc::new(socket));
            tcp.push(listener);
        }
        // Forwarding to ourselves would loop until every query times out.
        let upstreams: Vec<SocketAddr> = config
            .upstreams
            .iter()
            .filter(|u| !addrs.contains(u) && !config.listen.contains(u))
            .copied()
            .collect();
        if upstreams.len() < config.upstreams.len() {
            tracing::warn!("ignoring upstreams that are this server's own addresses");
        }
        let _ = self.handle.bound.set(addrs.clone());
        tracing::info!(listen = ?addrs, domain = %zone.origin, ?upstreams, "cluster DNS bound");
        Ok(BoundDnsServer {
            client: self.client,
            shared: Arc::new(Shared {
                zone,
                view: self.handle.view.clone(),
                upstreams,
                stats: self.handle.stats.clone(),
            }),
            handle: self.handle,
            udp,
            tcp,
            addrs,
        })
    }

    /// Binds, then serves until `shutdown` turns true (or its sender is dropped).
    pub async fn run(self, shutdown: watch::Receiver<bool>) -> Result<(), DnsError> {
        self.bind().await?.run(shutdown).await
    }
}

/// Binds UDP and TCP on `addr`; with port 0, on one free port for both.
async fn bind_pair(addr: SocketAddr) -> Result<(UdpSocket, TcpListener), DnsError> {
    let udp_err = |source| DnsError::Bind {
        transport: "UDP",
        addr,
        source,
    };
    let tcp_err = |source| DnsError::Bind {
        transport: "TCP",
        addr,
        source,
    };
    if addr.port() != 0 {
        let socket = UdpSocket::bind(addr).await.map_err(udp_err)?;
        let listener = TcpListener::bind(addr).await.map_err(tcp_err)?;
        return Ok((socket, listener));
    }
    // The UDP port the kernel picks may be taken for TCP: try a few.
    let mut last = None;
    for _ in 0..16 {
        let socket = UdpSocket::bind(addr).await.map_err(udp_err)?;
        let picked = socket.local_addr().map_err(udp_err)?;
        match TcpListener::bind(picked).await {
            Ok(listener) => return Ok((socket, listener)),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => last = Some(e),
            Err(e) => return Err(tcp_err(e)),
        }
    }
    Err(tcp_err(last.unwrap_or_else(|| {
        std::io::Error::from(std::io::ErrorKind::AddrInUse)
    })))
}

/// A server whose sockets are bound.
pub struct BoundDnsServer {
    client: kube::Client,
    shared: Arc<Shared>,
    handle: DnsHandle,
    udp: Vec<Arc<UdpSocket>>,
    tcp: Vec<TcpListener>,
    addrs: Vec<SocketAddr>,
}

impl BoundDnsServer {
    /// The bound addresses, in the order of [`DnsConfig::listen`]; UDP and TCP share each.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    pub fn handle(&self) -> DnsHandle {
        self.handle.clone()
    }

    /// Serves until `shutdown` turns true (or its sender is dropped). Names in the cluster domain
    /// are answered once the informers have listed everything; forwarding works from the start.
    pub async fn run(self, shutdown: watch::Receiver<bool>) -> Result<(), DnsError> {
        let _informers = self.shared.view.start(self.client.clone());
        let mut tasks = Vec::new();
        for socket in self.udp {
            tasks.push(AbortOnDrop::spawn(server::serve_udp(
                socket,
                self.shared.clone(),
            )));
        }
        for listener in self.tcp {
            tasks.push(AbortOnDrop::spawn(server::serve_tcp(
                listener,
                self.shared.clone(),
            )));
        }
        wait_for_shutdown(shutdown).await;
        tracing::info!("cluster DNS stopping");
        drop(tasks);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_upstreams_reads_nameservers() {
        let text = "# generated\nsearch example.com\nnameserver 192.0.2.1\n\
                    nameserver  2001:db8::53\nnameserver fe80::1%eth0\noptions ndots:1\n";
        assert_eq!(
            host_upstreams(text),
            vec![
                "192.0.2.1:53".parse::<SocketAddr>().unwrap(),
                "[2001:db8::53]:53".parse::<SocketAddr>().unwrap(),
            ]
        );
    }
}
