//! What the proxy should do for one Service, computed from the Service and its EndpointSlices
//! alone (no I/O): the cluster IPs to hold on `lo`, and per TCP port the addresses to listen on
//! and the endpoints to forward to, as kube-proxy's service and endpoint-slice caches do.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

use crate::ServiceProxyConfig;

/// A namespaced object's key: (namespace, name).
pub type ServiceKey = (String, String);

/// `v1.DefaultClientIPServiceAffinitySeconds`.
pub const DEFAULT_AFFINITY_TIMEOUT: Duration = Duration::from_secs(10800);

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServicePlan {
    pub service_type: String,
    /// IPv4 cluster IPs inside the service CIDR: held on `lo` while the Service exists.
    pub cluster_ips: Vec<Ipv4Addr>,
    /// `Some(timeout)` for `sessionAffinity: ClientIP`.
    pub affinity: Option<Duration>,
    pub ports: Vec<PortPlan>,
    /// Ports the proxy cannot serve ("53/UDP"), for a warning.
    pub unsupported: Vec<String>,
    /// Deviations from a multi-node kube-proxy, shown in the debug view.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PortPlan {
    /// The Service port's name ("" when it has none), which EndpointSlice ports match.
    pub name: String,
    pub port: u16,
    pub node_port: Option<u16>,
    /// Where to accept connections: cluster IPs and NodePort addresses.
    pub listen: Vec<SocketAddr>,
    /// Where to forward them, in round-robin order.
    pub endpoints: Vec<SocketAddr>,
}

struct SliceEndpoint {
    addr: SocketAddr,
    ready: bool,
    serving: bool,
    terminating: bool,
}

pub fn plan_service(
    key: &ServiceKey,
    service: &Service,
    slices: &[&EndpointSlice],
    config: &ServiceProxyConfig,
) -> ServicePlan {
    let Some(spec) = service.spec.as_ref() else {
        return ServicePlan::default();
    };
    let service_type = spec
        .type_
        .clone()
        .unwrap_or_else(|| "ClusterIP".to_string());
    let mut plan = ServicePlan {
        service_type: service_type.clone(),
        ..ServicePlan::default()
    };
    if service_type == "ExternalName" {
        return plan; // a DNS name only: nothing to proxy
    }

    let mut ips: Vec<&str> = spec
        .cluster_ips
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(String::as_str)
        .collect();
    if ips.is_empty()
        && let Some(ip) = spec.cluster_ip.as_deref()
    {
        ips.push(ip);
    }
    for ip in ips {
        match ip.parse::<IpAddr>() {
            Ok(IpAddr::V4(v4)) if config.service_cidr.contains(&v4) => {
                if !plan.cluster_ips.contains(&v4) {
                    plan.cluster_ips.push(v4);
                }
            }
            Ok(IpAddr::V4(v4)) => plan.notes.push(format!(
                "clusterIP {v4} is outside the service CIDR {}: not proxied",
                config.service_cidr
            )),
            Ok(IpAddr::V6(v6)) => plan
                .notes
                .push(format!("IPv6 clusterIP {v6} is not proxied")),
            Err(_) => {} // "None" (headless) or empty
        }
    }

    if spec.session_affinity.as_deref() == Some("ClientIP") {
        let seconds = spec
            .session_affinity_config
            .as_ref()
            .and_then(|c| c.client_ip.as_ref())
            .and_then(|c| c.timeout_seconds)
            .and_then(|s| u64::try_from(s).ok());
        plan.affinity = Some(seconds.map_or(DEFAULT_AFFINITY_TIMEOUT, Duration::from_secs));
    }
    if spec.external_traffic_policy.as_deref() == Some("Local") {
        plan.notes.push(
            "externalTrafficPolicy Local is treated as Cluster: every endpoint is on this node"
                .to_string(),
        );
    }
    if spec.internal_traffic_policy.as_deref() == Some("Local") {
        plan.notes.push(
            "internalTrafficPolicy Local is treated as Cluster: every endpoint is on this node"
                .to_string(),
        );
    }
    if spec
        .external_ips
        .as_ref()
        .is_some_and(|ips| !ips.is_empty())
    {
        plan.notes
            .push("externalIPs are not proxied on the embedded node".to_string());
    }

    let node_ports = matches!(service_type.as_str(), "NodePort" | "LoadBalancer");
    let is_api_service = key.0 == "default" && key.1 == "kubernetes";
    for port in spec.ports.as_deref().unwrap_or_default() {
        let protocol = port.protocol.as_deref().unwrap_or("TCP");
        if protocol != "TCP" {
            plan.unsupported.push(format!("{}/{protocol}", port.port));
            continue;
        }
        let Ok(number) = u16::try_from(port.port) else {
            continue;
        };
        let name = port.name.clone().unwrap_or_default();
        let node_port = if node_ports {
            port.node_port.and_then(|p| u16::try_from(p).ok())
        } else {
            None
        };
        let mut listen = Vec::new();
        if config.manage_addresses {
            for ip in &plan.cluster_ips {
                if !config.locally_served.contains(ip) {
                    listen.push(SocketAddr::new(IpAddr::V4(*ip), number));
                }
            }
        }
        if let Some(node_port) = node_port {
            for addr in &config.nodeport_addresses {
                listen.push(SocketAddr::new(*addr, node_port));
            }
        }
        let endpoints = match config.api_server {
            // The API server listens on loopback, which its Endpoints cannot hold.
            Some(api_server) if is_api_service => vec![api_server],
            _ => port_endpoints(&name, slices),
        };
        plan.ports.push(PortPlan {
            name,
            port: number,
            node_port,
            listen,
            endpoints,
        });
    }
    plan
}

/// The endpoints of the Service port called `port_name`: the ready ones, or if there are none,
/// the serving terminating ones (kube-proxy's `CategorizeEndpoints` for Cluster traffic).
fn port_endpoints(port_name: &str, slices: &[&EndpointSlice]) -> Vec<SocketAddr> {
    let mut all = Vec::new();
    for slice in slices {
        if slice.address_type != "IPv4" {
            continue;
        }
        for port in slice.ports.as_deref().unwrap_or_default() {
            if port.name.as_deref().unwrap_or_default() != port_name
                || port.protocol.as_deref().unwrap_or("TCP") != "TCP"
            {
                continue;
            }
            let Some(number) = port.port.and_then(|p| u16::try_from(p).ok()) else {
                continue;
            };
            for endpoint in &slice.endpoints {
                let conditions = endpoint.conditions.as_ref();
                // As kube-proxy's endpoint-slice cache: unset ready/serving mean true.
                let ready = conditions.and_then(|c| c.ready).unwrap_or(true);
                let serving = conditions.and_then(|c| c.serving).unwrap_or(true);
                let terminating = conditions.and_then(|c| c.terminating).unwrap_or(false);
                for address in &endpoint.addresses {
                    if let Ok(ip) = address.parse::<Ipv4Addr>() {
                        all.push(SliceEndpoint {
                            addr: SocketAddr::new(IpAddr::V4(ip), number),
                            ready,
                            serving,
                            terminating,
                        });
                    }
                }
            }
        }
    }
    let mut chosen: BTreeSet<SocketAddr> = all.iter().filter(|e| e.ready).map(|e| e.addr).collect();
    if chosen.is_empty() {
        chosen = all
            .iter()
            .filter(|e| e.serving && e.terminating)
            .map(|e| e.addr)
            .collect();
    }
    chosen.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> ServiceProxyConfig {
        let mut c = ServiceProxyConfig::new("10.96.0.0/12".parse().unwrap());
        c.manage_addresses = true;
        c
    }

    fn key(ns: &str, name: &str) -> ServiceKey {
        (ns.to_string(), name.to_string())
    }

    fn service(v: serde_json::Value) -> Service {
        serde_json::from_value(v).unwrap()
    }

    fn slice(v: serde_json::Value) -> EndpointSlice {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn maps_ports_by_name_and_keeps_ready_endpoints() {
        let svc = service(
            json!({"metadata": {"name": "web", "namespace": "a"}, "spec": {
            "type": "NodePort", "clusterIP": "10.96.0.20", "clusterIPs": ["10.96.0.20"],
            "ports": [
                {"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080},
                {"name": "dns", "port": 53, "protocol": "UDP"}
            ]}}),
        );
        let s = slice(json!({"metadata": {"name": "web-1"}, "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"},
                  {"name": "other", "port": 9090, "protocol": "TCP"}],
        "endpoints": [
            {"addresses": ["10.244.0.5"], "conditions": {"ready": true}},
            {"addresses": ["10.244.0.6"], "conditions": {}},
            {"addresses": ["10.244.0.7"], "conditions": {"ready": false}}
        ]}));
        let plan = plan_service(&key("a", "web"), &svc, &[&s], &config());
        assert_eq!(
            plan.cluster_ips,
            vec!["10.96.0.20".parse::<Ipv4Addr>().unwrap()]
        );
        assert_eq!(plan.unsupported, vec!["53/UDP".to_string()]);
        assert_eq!(plan.ports.len(), 1);
        let port = &plan.ports[0];
        assert_eq!(
            port.listen,
            vec![
                "10.96.0.20:80".parse::<SocketAddr>().unwrap(),
                "127.0.0.1:30080".parse().unwrap()
            ]
        );
        assert_eq!(
            port.endpoints,
            vec![
                "10.244.0.5:8080".parse::<SocketAddr>().unwrap(),
                "10.244.0.6:8080".parse().unwrap()
            ]
        );
    }

    #[test]
    fn falls_back_to_serving_terminating_endpoints() {
        let svc = service(
            json!({"metadata": {"name": "web", "namespace": "a"}, "spec": {
            "clusterIP": "10.96.0.21", "ports": [{"port": 80}]}}),
        );
        let s = slice(json!({"metadata": {"name": "web-1"}, "addressType": "IPv4",
        "ports": [{"port": 8080}],
        "endpoints": [
            {"addresses": ["10.244.0.5"], "conditions": {"ready": false, "serving": true, "terminating": true}},
            {"addresses": ["10.244.0.6"], "conditions": {"ready": false, "serving": false, "terminating": true}}
        ]}));
        let plan = plan_service(&key("a", "web"), &svc, &[&s], &config());
        assert_eq!(
            plan.ports[0].endpoints,
            vec!["10.244.0.5:8080".parse::<SocketAddr>().unwrap()]
        );
    }

    #[test]
    fn headless_locally_served_and_outside_cidr() {
        let mut cfg = config();
        cfg.locally_served = vec!["10.96.0.10".parse().unwrap()];
        let dns = service(json!({"metadata": {"name": "dns"}, "spec": {
            "clusterIP": "10.96.0.10", "ports": [{"name": "dns-tcp", "port": 53}]}}));
        let plan = plan_service(&key("kube-system", "dns"), &dns, &[], &cfg);
        assert_eq!(
            plan.cluster_ips,
            vec!["10.96.0.10".parse::<Ipv4Addr>().unwrap()]
        );
        assert!(plan.ports[0].listen.is_empty());

        let headless = service(json!({"metadata": {"name": "h"}, "spec": {
            "clusterIP": "None", "ports": [{"port": 80}]}}));
        let plan = plan_service(&key("a", "h"), &headless, &[], &cfg);
        assert!(plan.cluster_ips.is_empty());
        assert!(plan.ports[0].listen.is_empty());

        let outside = service(json!({"metadata": {"name": "o"}, "spec": {
            "clusterIP": "192.168.0.1", "ports": [{"port": 80}]}}));
        let plan = plan_service(&key("a", "o"), &outside, &[], &cfg);
        assert!(plan.cluster_ips.is_empty());
        assert_eq!(plan.notes.len(), 1);
    }

    #[test]
    fn api_service_goes_to_the_api_server_and_affinity_defaults() {
        let mut cfg = config();
        cfg.api_server = Some("127.0.0.1:6443".parse().unwrap());
        let svc = service(
            json!({"metadata": {"name": "kubernetes", "namespace": "default"},
            "spec": {"clusterIP": "10.96.0.1", "sessionAffinity": "ClientIP",
            "ports": [{"name": "https", "port": 443, "targetPort": 6443}]}}),
        );
        let plan = plan_service(&key("default", "kubernetes"), &svc, &[], &cfg);
        assert_eq!(
            plan.ports[0].endpoints,
            vec!["127.0.0.1:6443".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(plan.affinity, Some(DEFAULT_AFFINITY_TIMEOUT));
    }

    #[test]
    fn unmanaged_addresses_leave_only_node_ports() {
        let mut cfg = config();
        cfg.manage_addresses = false;
        let svc = service(
            json!({"metadata": {"name": "web"}, "spec": {"type": "LoadBalancer",
            "clusterIP": "10.96.0.22", "ports": [{"port": 80, "nodePort": 30081}]}}),
        );
        let plan = plan_service(&key("a", "web"), &svc, &[], &cfg);
        assert_eq!(
            plan.ports[0].listen,
            vec!["127.0.0.1:30081".parse::<SocketAddr>().unwrap()]
        );
    }
}
