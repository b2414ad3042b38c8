//! Pod and Service helpers shared by the endpoint controllers (upstream `podutil` and
//! `endpointslice/util`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, Service, ServicePort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// `podutil.IsPodReady`: the Ready condition is True.
pub(crate) fn is_pod_ready(pod: &Pod) -> bool {
    ready_condition(pod).is_some_and(|c| c.status == "True")
}

fn ready_condition(pod: &Pod) -> Option<&k8s_openapi::api::core::v1::PodCondition> {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
}

/// When the pod last changed in a way that matters to endpoints (upstream
/// `getPodTriggerTime`: the Ready condition's transition time).
pub(crate) fn pod_trigger_time(pod: &Pod) -> Option<Time> {
    ready_condition(pod).and_then(|c| c.last_transition_time.clone())
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

pub(crate) fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

/// `ShouldPodBeInEndpoints`: the pod has an IP, is not terminating (unless those are
/// included) and will not stay in a terminal phase.
pub(crate) fn should_pod_be_in_endpoints(pod: &Pod, include_terminating: bool) -> bool {
    let status = pod.status.as_ref();
    let has_ip = status
        .and_then(|s| s.pod_ip.as_deref())
        .is_some_and(|ip| !ip.is_empty())
        || status
            .and_then(|s| s.pod_ips.as_ref())
            .is_some_and(|ips| !ips.is_empty());
    if !has_ip {
        return false;
    }
    if !include_terminating && is_terminating(pod) {
        return false;
    }
    let restart_policy = pod
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always");
    match restart_policy {
        "Never" => !matches!(phase(pod), "Failed" | "Succeeded"),
        "OnFailure" => phase(pod) != "Succeeded",
        _ => true,
    }
}

/// `ShouldSetHostname`: the pod has a hostname and its subdomain names this service.
pub(crate) fn should_set_hostname(pod: &Pod, service: &Service) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return false;
    };
    spec.hostname.as_deref().is_some_and(|h| !h.is_empty())
        && spec.subdomain.as_deref() == service.metadata.name.as_deref()
        && pod.metadata.namespace == service.metadata.namespace
}

/// The service's selector, or `None` for a service without one (whose endpoints are managed
/// by someone else). An empty selector is the same as none: it is not serialized.
pub(crate) fn service_selector(service: &Service) -> Option<&BTreeMap<String, String>> {
    service
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .filter(|s| !s.is_empty())
}

pub(crate) fn selector_matches(selector: &BTreeMap<String, String>, pod: &Pod) -> bool {
    let labels = pod.metadata.labels.as_ref();
    selector
        .iter()
        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

pub(crate) fn is_headless(service: &Service) -> bool {
    let ip = service.spec.as_ref().and_then(|s| s.cluster_ip.as_deref());
    matches!(ip, None | Some("") | Some("None"))
}

pub(crate) fn is_external_name(service: &Service) -> bool {
    service.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("ExternalName")
}

/// Whether the service's (primary) IP family is IPv6.
fn service_is_ipv6(service: &Service, pod: &Pod) -> bool {
    let spec = service.spec.as_ref();
    if let Some(family) = spec
        .and_then(|s| s.ip_families.as_ref())
        .and_then(|f| f.first())
    {
        return family == "IPv6";
    }
    match spec.and_then(|s| s.cluster_ip.as_deref()) {
        Some(ip) if !ip.is_empty() && ip != "None" => ip.contains(':'),
        // Headless: go by the pod's primary IP.
        _ => pod
            .status
            .as_ref()
            .and_then(|s| s.pod_ip.as_deref())
            .is_some_and(|ip| ip.contains(':')),
    }
}

/// The pod IP of the service's family (upstream `podToEndpointAddressForService`).
pub(crate) fn pod_ip_for_service(service: &Service, pod: &Pod) -> Option<String> {
    let ipv6 = service_is_ipv6(service, pod);
    let status = pod.status.as_ref()?;
    let mut ips: Vec<&str> = status
        .pod_ips
        .as_ref()
        .map(|ips| ips.iter().map(|i| i.ip.as_str()).collect())
        .unwrap_or_default();
    if ips.is_empty()
        && let Some(ip) = status.pod_ip.as_deref()
    {
        ips.push(ip);
    }
    ips.into_iter()
        .find(|ip| !ip.is_empty() && ip.contains(':') == ipv6)
        .map(str::to_string)
}

/// `podutil.FindPort`: the pod's port for a service port (a named targetPort is looked up in
/// the pod's containers, including sidecars, by name and protocol).
pub(crate) fn find_port(pod: &Pod, service_port: &ServicePort) -> Option<i32> {
    let protocol = service_port.protocol.as_deref().unwrap_or("TCP");
    match &service_port.target_port {
        None => Some(service_port.port),
        Some(IntOrString::Int(n)) => Some(*n),
        Some(IntOrString::String(name)) => {
            let spec = pod.spec.as_ref()?;
            let sidecars = spec
                .init_containers
                .iter()
                .flatten()
                .filter(|c| c.restart_policy.as_deref() == Some("Always"));
            spec.containers
                .iter()
                .chain(sidecars)
                .flat_map(|c| c.ports.iter().flatten())
                .find(|p| {
                    p.name.as_deref() == Some(name.as_str())
                        && p.protocol.as_deref().unwrap_or("TCP") == protocol
                })
                .map(|p| p.container_port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn named_target_ports_resolve_per_pod_and_protocol() {
        let p = pod(json!({
            "metadata": {"name": "p"},
            "spec": {
                "containers": [{"name": "c", "ports": [
                    {"name": "http", "containerPort": 8080},
                    {"name": "dns", "containerPort": 53, "protocol": "UDP"}
                ]}],
                "initContainers": [{"name": "s", "restartPolicy": "Always",
                    "ports": [{"name": "side", "containerPort": 9000}]}]
            }
        }));
        let sp = |target: serde_json::Value, protocol: &str| -> ServicePort {
            serde_json::from_value(json!({"port": 80, "targetPort": target, "protocol": protocol}))
                .unwrap()
        };
        assert_eq!(find_port(&p, &sp(json!("http"), "TCP")), Some(8080));
        assert_eq!(find_port(&p, &sp(json!("dns"), "UDP")), Some(53));
        assert_eq!(find_port(&p, &sp(json!("dns"), "TCP")), None);
        assert_eq!(find_port(&p, &sp(json!("side"), "TCP")), Some(9000));
        assert_eq!(find_port(&p, &sp(json!(7000), "TCP")), Some(7000));
    }

    #[test]
    fn finished_and_ipless_pods_are_not_endpoints() {
        let base = |restart: &str, phase: &str, ip: Option<&str>| {
            pod(json!({
                "metadata": {"name": "p"},
                "spec": {"restartPolicy": restart, "containers": []},
                "status": {"phase": phase, "podIP": ip}
            }))
        };
        assert!(should_pod_be_in_endpoints(
            &base("Always", "Running", Some("10.0.0.1")),
            false
        ));
        assert!(!should_pod_be_in_endpoints(
            &base("Always", "Running", None),
            false
        ));
        assert!(!should_pod_be_in_endpoints(
            &base("Never", "Failed", Some("10.0.0.1")),
            false
        ));
        assert!(should_pod_be_in_endpoints(
            &base("OnFailure", "Failed", Some("10.0.0.1")),
            false
        ));
        assert!(!should_pod_be_in_endpoints(
            &base("OnFailure", "Succeeded", Some("10.0.0.1")),
            false
        ));
    }
}
