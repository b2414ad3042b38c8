//! The node's traffic components, started by `berth up` beside the node agent: the service proxy
//! (kube-proxy's job), the cluster DNS server (CoreDNS's) and the ingress router
//! (ingress-nginx's). Each is a kube-rs client of the API server.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use anyhow::Context;
use berth_apiserver::ApiServer;
use berth_apiserver::debug::DebugSource;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, PostParams};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// `berth up` flags for the traffic components.
pub struct TrafficOptions {
    pub service_cidr: String,
    /// The `kubernetes` Service's ClusterIP (the first address of the service CIDR).
    pub kubernetes_ip: Ipv4Addr,
    /// Where the API server listens (the `kubernetes` Service forwards there).
    pub api_server: SocketAddr,
    pub http_addr: SocketAddr,
    pub https_addr: SocketAddr,
    pub nodeport_addresses: Vec<IpAddr>,
    pub access_log: bool,
}

/// What the node agent needs from the traffic components.
pub struct Traffic {
    /// The cluster DNS server's address for pods' resolv.conf, when it is serving.
    pub cluster_dns: Option<Ipv4Addr>,
}

/// The cluster DNS Service's address: the tenth of the service CIDR, as kubeadm picks it.
fn cluster_dns_ip(kubernetes_ip: Ipv4Addr) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(kubernetes_ip) + 9)
}

pub async fn start(
    options: TrafficOptions,
    server: &Arc<ApiServer>,
    client: kube::Client,
    shutdown: watch::Receiver<bool>,
    tasks: &mut JoinSet<()>,
) -> anyhow::Result<Traffic> {
    let service_cidr: berth_proxy::Ipv4Net = options
        .service_cidr
        .parse::<berth_proxy::Ipv4Net>()
        .map(|n| n.trunc())
        .with_context(|| format!("--service-cidr {:?}", options.service_cidr))?;
    let dns_ip = cluster_dns_ip(options.kubernetes_ip);

    // The service proxy: ClusterIPs on `lo`, a userspace listener per Service port.
    let mut proxy_config = berth_proxy::ServiceProxyConfig::new(service_cidr);
    proxy_config.nodeport_addresses = options.nodeport_addresses.clone();
    proxy_config.locally_served = vec![dns_ip];
    proxy_config.api_server = Some(options.api_server);
    let manage_addresses = proxy_config.manage_addresses;
    if !manage_addresses {
        tracing::warn!(
            "not running as root: Service ClusterIPs and cluster DNS are unavailable on this node (NodePorts and the ingress router work)"
        );
    }
    let proxy = berth_proxy::ServiceProxy::new(client.clone(), proxy_config);
    server.add_debug_endpoint("proxy", Arc::new(ProxyDebug(proxy.status())));

    // Cluster DNS on the kube-dns Service's address, which must exist (and so be reserved)
    // before the server binds it.
    let mut cluster_dns = None;
    if manage_addresses {
        match start_dns(&client, dns_ip).await {
            Ok(dns) => {
                server.add_debug_endpoint("dns", Arc::new(DnsDebug(dns.handle())));
                tasks.spawn({
                    let shutdown = shutdown.clone();
                    async move {
                        if let Err(e) = dns.run(shutdown).await {
                            tracing::error!(error = %e, "the cluster DNS server stopped");
                        }
                    }
                });
                cluster_dns = Some(dns_ip);
            }
            Err(e) => tracing::warn!(
                error = format!("{e:#}"),
                "no cluster DNS: pods get the host's resolv.conf"
            ),
        }
    }
    tasks.spawn(proxy.run(shutdown.clone()));

    let mut router = berth_ingress::IngressRouter::new(
        client,
        berth_ingress::IngressRouterConfig {
            http_addr: Some(options.http_addr),
            https_addr: Some(options.https_addr),
            access_log: options.access_log,
            ..Default::default()
        },
    );
    let bound = router.bind().await.with_context(|| {
        format!(
            "the ingress router cannot listen (--http-addr {}, --https-addr {})",
            options.http_addr, options.https_addr
        )
    })?;
    tracing::info!(?bound, "ingress router listening");
    server.add_debug_endpoint("ingress", Arc::new(IngressDebug(router.debug())));
    tasks.spawn(router.run(shutdown));
    Ok(Traffic { cluster_dns })
}

async fn start_dns(
    client: &kube::Client,
    dns_ip: Ipv4Addr,
) -> anyhow::Result<berth_dns::BoundDnsServer> {
    ensure_kube_dns_service(client, dns_ip).await?;
    berth_proxy::ensure_local_address(dns_ip)
        .await
        .with_context(|| format!("cannot put {dns_ip} on lo"))?;
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let config = berth_dns::DnsConfig {
        listen: vec![SocketAddr::new(dns_ip.into(), 53)],
        cluster_domain: "cluster.local".into(),
        upstreams: berth_dns::host_upstreams(&host_resolv),
        ttl: 5,
    };
    berth_dns::DnsServer::new(client.clone(), config)
        .bind()
        .await
        .context("cannot start the cluster DNS server")
}

/// `kube-system/kube-dns`, as on Kubernetes: a selectorless Service holding the DNS address.
async fn ensure_kube_dns_service(client: &kube::Client, dns_ip: Ipv4Addr) -> anyhow::Result<()> {
    let services: Api<Service> = Api::namespaced(client.clone(), "kube-system");
    if let Some(existing) = services.get_opt("kube-dns").await? {
        let ip = existing.spec.and_then(|s| s.cluster_ip).unwrap_or_default();
        anyhow::ensure!(
            ip == dns_ip.to_string(),
            "kube-system/kube-dns has clusterIP {ip}, not {dns_ip}"
        );
        return Ok(());
    }
    let service: Service = serde_json::from_value(serde_json::json!({
        "metadata": {
            "name": "kube-dns",
            "labels": {"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS", "kubernetes.io/cluster-service": "true"}
        },
        "spec": {
            "clusterIP": dns_ip.to_string(),
            "ports": [
                {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53}
            ]
        }
    }))?;
    services
        .create(&PostParams::default(), &service)
        .await
        .with_context(|| format!("cannot create kube-system/kube-dns with clusterIP {dns_ip}"))?;
    Ok(())
}

/// `/debug/berth/proxy`: Services, their listeners and endpoints.
struct ProxyDebug(berth_proxy::ProxyStatus);

impl DebugSource for ProxyDebug {
    fn get(&self, path: &str) -> Option<serde_json::Value> {
        path.is_empty().then(|| self.0.snapshot())
    }
}

/// `/debug/berth/dns`: what the DNS server knows.
struct DnsDebug(berth_dns::DnsHandle);

impl DebugSource for DnsDebug {
    fn get(&self, path: &str) -> Option<serde_json::Value> {
        path.is_empty().then(|| self.0.snapshot())
    }
}

/// `/debug/berth/ingress`: the routing table.
struct IngressDebug(berth_ingress::RouterDebug);

impl DebugSource for IngressDebug {
    fn get(&self, path: &str) -> Option<serde_json::Value> {
        path.is_empty().then(|| self.0.snapshot())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_is_the_tenth_address() {
        assert_eq!(
            cluster_dns_ip(Ipv4Addr::new(10, 96, 0, 1)),
            Ipv4Addr::new(10, 96, 0, 10)
        );
        assert_eq!(
            cluster_dns_ip(Ipv4Addr::new(10, 100, 7, 1)),
            Ipv4Addr::new(10, 100, 7, 10)
        );
    }
}
