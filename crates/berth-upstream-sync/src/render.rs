//! Pure parts: which servers a cluster contributes to which upstream, and the file text.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

use crate::config::{PortSelector, ServiceSelector};

/// `discovery.LabelServiceName`: the Service an EndpointSlice belongs to.
pub const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";

/// The placeholder server of an upstream without any ready endpoint: nginx rejects an empty
/// `upstream` block, and configuration that `proxy_pass`es to the upstream must stay valid. A
/// `down` server is never used, so requests get 502 until an endpoint is ready.
pub const PLACEHOLDER_SERVER: &str = "server 127.0.0.1:1 down;";

/// Objects keyed by (namespace, name).
pub type ObjectMap<K> = BTreeMap<(String, String), K>;

/// What one cluster contributes: the servers of every upstream it knows (possibly none).
pub type Contribution = BTreeMap<String, BTreeSet<SocketAddr>>;

/// The upstream name of a Service port: `<namespace>_<service>_<port>`, every character
/// outside `[A-Za-z0-9_]` replaced by `_`.
pub fn upstream_name(namespace: &str, service: &str, port: &str) -> String {
    format!("{namespace}_{service}_{port}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// The upstreams a selector names whatever any cluster says: one with an explicit port is
/// named after that port as written, so it is rendered (with the placeholder) even before any
/// cluster has been read. Without a port the names come from the Service's ports.
pub fn fixed_upstream(selector: &ServiceSelector) -> Option<String> {
    selector
        .port
        .as_ref()
        .map(|p| upstream_name(&selector.namespace, &selector.name, &p.to_string()))
}

/// A Service port chosen by a selector: upstream name, port name ("" when unnamed), protocol.
struct ChosenPort {
    upstream: String,
    name: String,
    protocol: String,
}

fn chosen_ports(selector: &ServiceSelector, service: &Service) -> Result<Vec<ChosenPort>, String> {
    let ports = service
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .map(Vec::as_slice)
        .unwrap_or_default();
    let protocol = |p: &k8s_openapi::api::core::v1::ServicePort| {
        p.protocol.clone().unwrap_or_else(|| "TCP".to_string())
    };
    match &selector.port {
        None => Ok(ports
            .iter()
            .filter(|p| protocol(p) == "TCP")
            .map(|p| {
                let name = p.name.clone().unwrap_or_default();
                let label = if name.is_empty() {
                    p.port.to_string()
                } else {
                    name.clone()
                };
                ChosenPort {
                    upstream: upstream_name(&selector.namespace, &selector.name, &label),
                    name,
                    protocol: "TCP".to_string(),
                }
            })
            .collect()),
        Some(wanted) => {
            let port = ports
                .iter()
                .find(|p| match wanted {
                    PortSelector::Name(n) => p.name.as_deref() == Some(n.as_str()),
                    PortSelector::Number(n) => p.port == *n,
                })
                .ok_or_else(|| format!("Service {selector} has no port {wanted}"))?;
            if protocol(port) != "TCP" {
                return Err(format!(
                    "port {wanted} of Service {selector} is {}, not TCP",
                    protocol(port)
                ));
            }
            Ok(vec![ChosenPort {
                upstream: fixed_upstream(selector).unwrap_or_default(),
                name: port.name.clone().unwrap_or_default(),
                protocol: "TCP".to_string(),
            }])
        }
    }
}

/// The servers one cluster offers for the selected Services: the first address of every ready
/// endpoint (as kube-proxy uses it) with the target port of the EndpointSlice port whose name
/// is the Service port's. Errors when the cluster's data does not fit the selection (a missing
/// Service or port): the caller then keeps the cluster's last good contribution.
pub fn contribution(
    selectors: &[ServiceSelector],
    services: &ObjectMap<Service>,
    slices: &ObjectMap<EndpointSlice>,
) -> Result<Contribution, String> {
    let mut out = Contribution::new();
    for selector in selectors {
        let key = (selector.namespace.clone(), selector.name.clone());
        let service = services
            .get(&key)
            .ok_or_else(|| format!("Service {}/{} not found", selector.namespace, selector.name))?;
        for port in chosen_ports(selector, service)? {
            let servers = out.entry(port.upstream).or_default();
            let own_slices = slices
                .range((selector.namespace.clone(), String::new())..)
                .take_while(|((ns, _), _)| *ns == selector.namespace)
                .map(|(_, s)| s)
                .filter(|s| {
                    s.metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(LABEL_SERVICE_NAME))
                        == Some(&selector.name)
                });
            for slice in own_slices {
                let target = slice.ports.iter().flatten().find(|p| {
                    p.name.as_deref().unwrap_or_default() == port.name
                        && p.protocol.as_deref().unwrap_or("TCP") == port.protocol
                });
                let Some(target) = target.and_then(|p| p.port) else {
                    continue;
                };
                let Ok(target) = u16::try_from(target) else {
                    continue;
                };
                if !matches!(slice.address_type.as_str(), "IPv4" | "IPv6") {
                    continue; // FQDN endpoints (deprecated) have no IP to proxy to.
                }
                for endpoint in &slice.endpoints {
                    let ready = endpoint
                        .conditions
                        .as_ref()
                        .and_then(|c| c.ready)
                        .unwrap_or(true);
                    if !ready {
                        continue;
                    }
                    let Some(ip) = endpoint
                        .addresses
                        .first()
                        .and_then(|a| a.parse::<IpAddr>().ok())
                    else {
                        continue;
                    };
                    servers.insert(SocketAddr::new(ip, target));
                }
            }
        }
    }
    Ok(out)
}

/// Upstream name -> server -> the clusters offering it.
pub type Merged = BTreeMap<String, BTreeMap<SocketAddr, BTreeSet<String>>>;

/// Merges the clusters' contributions (name, contribution) with the fixed upstreams.
pub fn merge<'a>(
    selectors: &[ServiceSelector],
    contributions: impl IntoIterator<Item = (&'a str, &'a Contribution)>,
) -> Merged {
    let mut merged = Merged::new();
    for name in selectors.iter().filter_map(fixed_upstream) {
        merged.entry(name).or_default();
    }
    for (cluster, contribution) in contributions {
        for (upstream, servers) in contribution {
            let entry = merged.entry(upstream.clone()).or_default();
            for server in servers {
                entry
                    .entry(*server)
                    .or_default()
                    .insert(cluster.to_string());
            }
        }
    }
    merged
}

/// The file text: sorted upstreams and servers (stable output, so an unchanged set renders the
/// same bytes), each server commented with its clusters.
pub fn render(merged: &Merged) -> String {
    let mut out = String::from(
        "# Generated by berth sync-upstreams from EndpointSlices; do not edit, it is rewritten\n\
         # when endpoints change. An upstream without a ready endpoint has the placeholder\n\
         # `server 127.0.0.1:1 down;` (nginx needs one server; requests get 502).\n",
    );
    for (upstream, servers) in merged {
        out.push_str(&format!("\nupstream {upstream} {{\n"));
        if servers.is_empty() {
            out.push_str(&format!("    {PLACEHOLDER_SERVER}\n"));
        }
        for (server, clusters) in servers {
            let clusters: Vec<String> = clusters.iter().map(|c| comment_safe(c)).collect();
            let label = if clusters.len() == 1 {
                "cluster"
            } else {
                "clusters"
            };
            out.push_str(&format!(
                "    server {server};  # {label} {}\n",
                clusters.join(", ")
            ));
        }
        out.push_str("}\n");
    }
    out
}

/// A cluster name as it may appear in a comment: one line.
fn comment_safe(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_control() { '_' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(ports: serde_json::Value) -> Service {
        serde_json::from_value(json!({
            "metadata": {"namespace": "default", "name": "web"},
            "spec": {"ports": ports}
        }))
        .unwrap()
    }

    fn slice(
        name: &str,
        service: &str,
        ports: serde_json::Value,
        eps: serde_json::Value,
    ) -> EndpointSlice {
        serde_json::from_value(json!({
            "metadata": {"namespace": "default", "name": name,
                         "labels": {LABEL_SERVICE_NAME: service}},
            "addressType": "IPv4", "ports": ports, "endpoints": eps
        }))
        .unwrap()
    }

    fn maps(
        svc: Service,
        slices: Vec<EndpointSlice>,
    ) -> (ObjectMap<Service>, ObjectMap<EndpointSlice>) {
        let services = [(("default".to_string(), "web".to_string()), svc)].into();
        let slices = slices
            .into_iter()
            .map(|s| (("default".to_string(), s.metadata.name.clone().unwrap()), s))
            .collect();
        (services, slices)
    }

    #[test]
    fn ready_endpoints_by_port_name_with_target_port() {
        let svc = service(json!([
            {"name": "http", "port": 80, "targetPort": 8080},
            {"name": "metrics", "port": 9090},
            {"name": "dns", "port": 53, "protocol": "UDP"}
        ]));
        let (services, slices) = maps(
            svc,
            vec![
                slice(
                    "web-a",
                    "web",
                    json!([{"name": "http", "port": 8080}, {"name": "metrics", "port": 9091}]),
                    json!([
                        {"addresses": ["10.0.0.2"], "conditions": {"ready": true}},
                        {"addresses": ["10.0.0.1"]},
                        {"addresses": ["10.0.0.3"], "conditions": {"ready": false}}
                    ]),
                ),
                slice(
                    "other-a",
                    "other",
                    json!([{"name": "http", "port": 8080}]),
                    json!([{"addresses": ["10.9.9.9"]}]),
                ),
            ],
        );
        let selectors = vec!["default/web".parse().unwrap()];
        let c = contribution(&selectors, &services, &slices).unwrap();
        let http: Vec<String> = c["default_web_http"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(http, ["10.0.0.1:8080", "10.0.0.2:8080"]);
        assert_eq!(c["default_web_metrics"].len(), 2);
        assert!(!c.contains_key("default_web_dns"), "UDP ports are left out");

        let merged = merge(&selectors, [("east", &c), ("west", &c)]);
        let text = render(&merged);
        assert!(text.starts_with("# Generated by berth"), "{text}");
        assert!(
            text.contains(
                "upstream default_web_http {\n    server 10.0.0.1:8080;  # clusters east, west\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn explicit_port_and_missing_things() {
        let svc = service(json!([{"port": 80, "targetPort": 8080}]));
        let (services, slices) = maps(svc, vec![]);
        let by_number: Vec<ServiceSelector> = vec!["default/web:80".parse().unwrap()];
        let c = contribution(&by_number, &services, &slices).unwrap();
        assert!(c["default_web_80"].is_empty());
        let text = render(&merge(&by_number, [("a", &c)]));
        assert!(
            text.contains("upstream default_web_80 {\n    server 127.0.0.1:1 down;\n}\n"),
            "{text}"
        );
        // Before any cluster answered, an explicit port still renders its placeholder.
        let text = render(&merge(&by_number, []));
        assert!(text.contains("upstream default_web_80 {"), "{text}");

        let missing_port: Vec<ServiceSelector> = vec!["default/web:http".parse().unwrap()];
        let err = contribution(&missing_port, &services, &slices).unwrap_err();
        assert!(err.contains("has no port http"), "{err}");
        let missing_svc: Vec<ServiceSelector> = vec!["default/nope".parse().unwrap()];
        let err = contribution(&missing_svc, &services, &slices).unwrap_err();
        assert_eq!(err, "Service default/nope not found");
    }

    #[test]
    fn names_are_sanitized() {
        assert_eq!(
            upstream_name("my-ns", "web.v2", "http-alt"),
            "my_ns_web_v2_http_alt"
        );
    }
}
