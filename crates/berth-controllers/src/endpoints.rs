//! The endpoints controller (upstream `pkg/controller/endpoint`): every Service with a selector
//! gets an Endpoints object of the same name listing the IPs of its pods, ready ones in
//! `addresses` and the others in `notReadyAddresses`, grouped by the ports they serve (a named
//! targetPort is resolved per pod). Services without a selector are left to whoever writes
//! their Endpoints; an Endpoints object goes when its Service does.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Pod, Service,
};
use kube::api::{Api, DeleteParams, ObjectMeta, PostParams};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::podutil;
use crate::runtime::Backoff;
use crate::runtime::WorkQueue;
use crate::runtime::{Change, Informer, ObjectKey, key_of, run_workers};
use crate::triggertime::{self, LAST_CHANGE_TRIGGER_TIME, TriggerTimeTracker};

/// `v1.EndpointsOverCapacity`: set to `truncated` when more than [`MAX_CAPACITY`] addresses.
pub const OVER_CAPACITY: &str = "endpoints.kubernetes.io/over-capacity";
/// `v1.IsHeadlessService`.
pub const HEADLESS_LABEL: &str = "service.kubernetes.io/headless";
/// Addresses kept in one Endpoints object (upstream `maxCapacity`).
pub const MAX_CAPACITY: usize = 1000;
/// Endpoints used as leader-election locks have no Service and must not be deleted.
const LEADER_ANNOTATION: &str = "control-plane.alpha.kubernetes.io/leader";
/// kube-controller-manager's --concurrent-endpoint-syncs.
const WORKERS: usize = 5;
const BACKOFF: Backoff = Backoff {
    base: Duration::from_millis(5),
    max: Duration::from_secs(60),
};

/// The endpoints controller. Build with [`EndpointsController::new`], then
/// [`EndpointsController::run`].
pub struct EndpointsController {
    client: Client,
}

struct Shared {
    client: Client,
    services: Store<Service>,
    pods: Store<Pod>,
    endpoints: Store<Endpoints>,
    triggers: Mutex<TriggerTimeTracker>,
}

impl EndpointsController {
    pub fn new(client: Client) -> Self {
        EndpointsController { client }
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        tracing::info!("starting endpoints controller");
        let queue: Arc<WorkQueue<ObjectKey>> = WorkQueue::new(BACKOFF);
        let (services, pods) = watch_services_and_pods(&self.client, &queue);
        let q = queue.clone();
        let endpoints = Informer::start(
            Api::<Endpoints>::all(self.client.clone()),
            watcher::Config::default(),
            move |change, store| match change {
                // A deleted Endpoints may have to be written again.
                Change::Deleted(ep) => q.add(key_of(ep)),
                // Leftovers whose Service went while nothing watched (checkLeftoverEndpoints).
                Change::Resynced => {
                    for ep in store.state() {
                        if !ep.annotations().contains_key(LEADER_ANNOTATION) {
                            q.add(key_of(ep.as_ref()));
                        }
                    }
                }
                Change::Applied(_) => {}
            },
        );
        tokio::select! {
            _ = async { services.ready().await; pods.ready().await; endpoints.ready().await } => {}
            _ = crate::runtime::wait_for_shutdown(shutdown.clone()) => return,
        }
        let shared = Arc::new(Shared {
            client: self.client,
            services: services.store.clone(),
            pods: pods.store.clone(),
            endpoints: endpoints.store.clone(),
            triggers: Mutex::new(TriggerTimeTracker::default()),
        });
        run_workers("endpoints", queue, WORKERS, shutdown, move |key| {
            let shared = shared.clone();
            async move { shared.sync(&key).await }
        })
        .await;
        tracing::info!("stopped endpoints controller");
    }
}

/// Informers of Services and Pods that queue the keys of the services to sync: a service on
/// any change of it, and on a pod's change the services selecting it before or after.
pub(crate) fn watch_services_and_pods(
    client: &Client,
    queue: &Arc<WorkQueue<ObjectKey>>,
) -> (Informer<Service>, Informer<Pod>) {
    let q = queue.clone();
    let services = Informer::start(
        Api::<Service>::all(client.clone()),
        watcher::Config::default(),
        move |change, store| match change {
            Change::Applied(s) | Change::Deleted(s) => q.add(key_of(s)),
            Change::Resynced => {
                for s in store.state() {
                    q.add(key_of(s.as_ref()));
                }
            }
        },
    );
    let q = queue.clone();
    let service_store = services.store.clone();
    // The services each pod was last seen in, so a label change re-syncs the old ones too.
    let memberships: Mutex<HashMap<ObjectKey, HashSet<ObjectKey>>> = Mutex::new(HashMap::new());
    let pods = Informer::start(
        Api::<Pod>::all(client.clone()),
        watcher::Config::default(),
        move |change, _| {
            let mut memberships = memberships.lock().unwrap_or_else(|p| p.into_inner());
            match change {
                Change::Applied(pod) => {
                    let now = services_selecting(&service_store, pod);
                    let before = memberships.insert(key_of(pod), now.clone());
                    for key in now.iter().chain(before.iter().flatten()) {
                        q.add(key.clone());
                    }
                }
                Change::Deleted(pod) => {
                    let before = memberships.remove(&key_of(pod)).unwrap_or_default();
                    for key in services_selecting(&service_store, pod).union(&before) {
                        q.add(key.clone());
                    }
                }
                Change::Resynced => {
                    memberships.clear();
                    for s in service_store.state() {
                        q.add(key_of(s.as_ref()));
                    }
                }
            }
        },
    );
    (services, pods)
}

fn services_selecting(services: &Store<Service>, pod: &Pod) -> HashSet<ObjectKey> {
    let ns = pod.metadata.namespace.as_deref();
    services
        .state()
        .iter()
        .filter(|s| s.metadata.namespace.as_deref() == ns)
        .filter(|s| {
            podutil::service_selector(s).is_some_and(|sel| podutil::selector_matches(sel, pod))
        })
        .map(|s| key_of(s.as_ref()))
        .collect()
}

/// The pods of the service's namespace its selector matches.
pub(crate) fn selected_pods(pods: &Store<Pod>, service: &Service) -> Vec<Arc<Pod>> {
    let Some(selector) = podutil::service_selector(service) else {
        return Vec::new();
    };
    let ns = service.metadata.namespace.as_deref();
    let mut selected: Vec<Arc<Pod>> = pods
        .state()
        .into_iter()
        .filter(|p| p.metadata.namespace.as_deref() == ns && podutil::selector_matches(selector, p))
        .collect();
    selected.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    selected
}

impl Shared {
    async fn sync(&self, key: &ObjectKey) -> Result<()> {
        let (ns, name) = key;
        let api: Api<Endpoints> = Api::namespaced(self.client.clone(), ns);
        let Some(service) = self.services.get(&ObjectRef::new(name).within(ns)) else {
            self.triggers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .forget(key);
            return match api.delete(name, &DeleteParams::default()).await {
                Ok(_) => {
                    tracing::debug!(
                        namespace = ns,
                        name,
                        "deleted endpoints of a deleted service"
                    );
                    Ok(())
                }
                Err(e) => ignore_not_found(e.into()),
            };
        };
        if podutil::is_external_name(&service) || podutil::service_selector(&service).is_none() {
            return Ok(());
        }
        let pods = selected_pods(&self.pods, &service);
        let pod_refs: Vec<&Pod> = pods.iter().map(Arc::as_ref).collect();
        let trigger = self
            .triggers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .compute(key, &service, &pod_refs);
        let subsets = desired_subsets(&service, &pod_refs);

        let current = self.endpoints.get(&ObjectRef::new(name).within(ns));
        let Some(desired) = desired_endpoints(&service, current.as_deref(), subsets, trigger)
        else {
            return Ok(());
        };
        let result = if current.is_none() {
            api.create(&PostParams::default(), &desired).await
        } else {
            api.replace(name, &PostParams::default(), &desired).await
        };
        match result.map_err(Error::from) {
            Ok(_) => Ok(()),
            // The namespace is going away: nothing more to do (upstream drops the item).
            Err(e) if current.is_none() && e.api_code() == Some(403) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

fn ignore_not_found(e: Error) -> Result<()> {
    if e.is_not_found() { Ok(()) } else { Err(e) }
}

/// The Endpoints to write, or `None` when the current one is already right.
fn desired_endpoints(
    service: &Service,
    current: Option<&Endpoints>,
    subsets: Vec<EndpointSubset>,
    trigger: Option<k8s_openapi::jiff::Timestamp>,
) -> Option<Endpoints> {
    let service_labels = service.metadata.labels.clone().unwrap_or_default();
    if let Some(current) = current {
        let mut compare_labels = current.metadata.labels.clone().unwrap_or_default();
        compare_labels.remove(HEADLESS_LABEL);
        let current_subsets = current.subsets.clone().unwrap_or_default();
        if current_subsets == subsets
            && compare_labels == service_labels
            && capacity_annotation_correct(current)
        {
            return None;
        }
    }
    let mut endpoints = current.cloned().unwrap_or_else(|| Endpoints {
        metadata: ObjectMeta {
            name: service.metadata.name.clone(),
            namespace: service.metadata.namespace.clone(),
            ..ObjectMeta::default()
        },
        ..Endpoints::default()
    });
    let mut subsets = subsets;
    let annotations = endpoints
        .metadata
        .annotations
        .get_or_insert_with(BTreeMap::new);
    match trigger {
        Some(t) => {
            annotations.insert(LAST_CHANGE_TRIGGER_TIME.into(), triggertime::format(t));
        }
        None => {
            annotations.remove(LAST_CHANGE_TRIGGER_TIME);
        }
    }
    if truncate(&mut subsets) {
        annotations.insert(OVER_CAPACITY.into(), "truncated".into());
    } else {
        annotations.remove(OVER_CAPACITY);
    }
    let mut labels = service_labels;
    if podutil::is_headless(service) {
        labels.insert(HEADLESS_LABEL.into(), String::new());
    }
    endpoints.metadata.labels = Some(labels);
    endpoints.subsets = (!subsets.is_empty()).then_some(subsets);
    Some(endpoints)
}

fn address_count(subsets: &[EndpointSubset]) -> usize {
    subsets
        .iter()
        .map(|s| {
            s.addresses.as_ref().map_or(0, Vec::len)
                + s.not_ready_addresses.as_ref().map_or(0, Vec::len)
        })
        .sum()
}

/// `capacityAnnotationSetCorrectly`.
fn capacity_annotation_correct(endpoints: &Endpoints) -> bool {
    let subsets = endpoints.subsets.as_deref().unwrap_or_default();
    address_count(subsets) <= MAX_CAPACITY && !endpoints.annotations().contains_key(OVER_CAPACITY)
}

/// `truncateEndpoints`: keeps at most [`MAX_CAPACITY`] addresses, spread over the subsets in
/// proportion, ready ones first. True if anything was cut.
fn truncate(subsets: &mut [EndpointSubset]) -> bool {
    let ready: usize = subsets
        .iter()
        .map(|s| s.addresses.as_ref().map_or(0, Vec::len))
        .sum();
    let not_ready: usize = subsets
        .iter()
        .map(|s| s.not_ready_addresses.as_ref().map_or(0, Vec::len))
        .sum();
    if ready + not_ready <= MAX_CAPACITY {
        return false;
    }
    let truncate_ready = ready > MAX_CAPACITY;
    let (max, total) = if truncate_ready {
        (MAX_CAPACITY, ready)
    } else {
        (MAX_CAPACITY - ready, not_ready)
    };
    let mut can_be_added = max;
    for subset in subsets.iter_mut() {
        let list = if truncate_ready {
            subset.not_ready_addresses = None;
            &mut subset.addresses
        } else {
            &mut subset.not_ready_addresses
        };
        let n = list.as_ref().map_or(0, Vec::len);
        let share = (n * max).div_ceil(total.max(1)).min(can_be_added);
        if let Some(l) = list.as_mut() {
            l.truncate(share);
        }
        can_be_added -= list.as_ref().map_or(0, Vec::len);
    }
    true
}

/// The address of `pod` for `service` (IP of the service's family, node, pod reference and,
/// for pods of the service's subdomain, hostname).
pub(crate) fn pod_address(service: &Service, pod: &Pod) -> Option<EndpointAddress> {
    let ip = podutil::pod_ip_for_service(service, pod)?;
    Some(EndpointAddress {
        ip,
        hostname: podutil::should_set_hostname(pod, service)
            .then(|| pod.spec.as_ref().and_then(|s| s.hostname.clone()))
            .flatten(),
        node_name: Some(
            pod.spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .unwrap_or_default(),
        ),
        target_ref: Some(ObjectReference {
            kind: Some("Pod".into()),
            namespace: pod.metadata.namespace.clone(),
            name: pod.metadata.name.clone(),
            uid: pod.metadata.uid.clone(),
            ..ObjectReference::default()
        }),
    })
}

/// A port of an Endpoints subset, comparable; `None` stands for "no ports" (headless service
/// without ports).
type PortKey = Option<(Option<String>, i32, Option<String>, Option<String>)>;
/// An address: IP and pod uid.
type AddressKey = (String, String);

/// The subsets for the service's pods (upstream syncService's loop plus `RepackSubsets`):
/// addresses serving the same set of ports share a subset.
fn desired_subsets(service: &Service, pods: &[&Pod]) -> Vec<EndpointSubset> {
    let spec = service.spec.as_ref();
    let publish_not_ready = spec
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false);
    let ports = spec.and_then(|s| s.ports.as_deref()).unwrap_or_default();
    let mut addresses: HashMap<AddressKey, EndpointAddress> = HashMap::new();
    // port -> address -> ready (ready wins when an address is both).
    let mut by_port: BTreeMap<PortKey, BTreeMap<AddressKey, bool>> = BTreeMap::new();
    for pod in pods {
        if !podutil::should_pod_be_in_endpoints(pod, publish_not_ready) {
            continue;
        }
        let Some(address) = pod_address(service, pod) else {
            continue;
        };
        let ready = publish_not_ready || podutil::is_pod_ready(pod);
        let key: AddressKey = (
            address.ip.clone(),
            pod.metadata.uid.clone().unwrap_or_default(),
        );
        let mut add = |port: PortKey| {
            let entry = by_port
                .entry(port)
                .or_default()
                .entry(key.clone())
                .or_insert(false);
            *entry |= ready;
        };
        if ports.is_empty() {
            if podutil::is_headless(service) {
                add(None);
            }
        } else {
            for sp in ports {
                if let Some(number) = podutil::find_port(pod, sp) {
                    add(Some((
                        sp.name.clone().filter(|n| !n.is_empty()),
                        number,
                        Some(sp.protocol.clone().unwrap_or_else(|| "TCP".into())),
                        sp.app_protocol.clone(),
                    )));
                }
            }
        }
        addresses.insert(key, address);
    }
    // Address set -> the ports all of its addresses serve.
    let mut by_addresses: BTreeMap<Vec<(AddressKey, bool)>, Vec<PortKey>> = BTreeMap::new();
    for (port, addrs) in by_port {
        by_addresses
            .entry(addrs.into_iter().collect())
            .or_default()
            .push(port);
    }
    let mut subsets: Vec<EndpointSubset> = by_addresses
        .into_iter()
        .map(|(addrs, ports)| {
            let mut ready = Vec::new();
            let mut not_ready = Vec::new();
            for (key, is_ready) in addrs {
                if let Some(a) = addresses.get(&key) {
                    if is_ready {
                        ready.push(a.clone())
                    } else {
                        not_ready.push(a.clone())
                    }
                }
            }
            let ports: Vec<EndpointPort> = ports
                .into_iter()
                .flatten()
                .map(|(name, port, protocol, app_protocol)| EndpointPort {
                    name,
                    port,
                    protocol,
                    app_protocol,
                })
                .collect();
            EndpointSubset {
                addresses: (!ready.is_empty()).then_some(ready),
                not_ready_addresses: (!not_ready.is_empty()).then_some(not_ready),
                ports: (!ports.is_empty()).then_some(ports),
            }
        })
        .collect();
    subsets.sort_by_key(|s| {
        let ports = s.ports.as_ref().map(|p| {
            p.iter()
                .map(|p| (p.name.clone(), p.port, p.protocol.clone()))
                .collect::<Vec<_>>()
        });
        let first = s
            .addresses
            .iter()
            .chain(s.not_ready_addresses.iter())
            .flatten()
            .next()
            .map(|a| a.ip.clone());
        (ports, first)
    });
    subsets
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(v: serde_json::Value) -> Service {
        serde_json::from_value(v).unwrap()
    }

    fn pod(name: &str, ip: &str, ready: bool, http_port: i32) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}"), "labels": {"app": "web"}},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": http_port}]}]},
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"},
                    "lastTransitionTime": "2025-01-01T00:00:00Z"}]}
        }))
        .unwrap()
    }

    fn web() -> Service {
        service(json!({
            "metadata": {"name": "web", "namespace": "ns", "labels": {"tier": "front"}},
            "spec": {"selector": {"app": "web"}, "clusterIP": "10.96.0.10",
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}
        }))
    }

    #[test]
    fn subsets_group_addresses_by_resolved_port() {
        let a = pod("a", "10.0.0.1", true, 8080);
        let b = pod("b", "10.0.0.2", false, 8080);
        let c = pod("c", "10.0.0.3", true, 9090);
        let subsets = desired_subsets(&web(), &[&a, &b, &c]);
        assert_eq!(subsets.len(), 2);
        let s8080 = &subsets[0];
        assert_eq!(s8080.ports.as_ref().unwrap()[0].port, 8080);
        assert_eq!(s8080.addresses.as_ref().unwrap()[0].ip, "10.0.0.1");
        assert_eq!(
            s8080.not_ready_addresses.as_ref().unwrap()[0].ip,
            "10.0.0.2"
        );
        let s9090 = &subsets[1];
        assert_eq!(s9090.ports.as_ref().unwrap()[0].port, 9090);
        assert_eq!(s9090.addresses.as_ref().unwrap().len(), 1);
        let addr = &s8080.addresses.as_ref().unwrap()[0];
        assert_eq!(addr.node_name.as_deref(), Some("n1"));
        assert_eq!(
            addr.target_ref.as_ref().unwrap().uid.as_deref(),
            Some("uid-a")
        );
    }

    #[test]
    fn publish_not_ready_addresses_makes_all_ready_and_keeps_terminating() {
        let mut svc = web();
        svc.spec.as_mut().unwrap().publish_not_ready_addresses = Some(true);
        let mut b = pod("b", "10.0.0.2", false, 8080);
        b.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
        ));
        let subsets = desired_subsets(&svc, &[&b]);
        assert_eq!(subsets[0].addresses.as_ref().unwrap().len(), 1);
        assert!(subsets[0].not_ready_addresses.is_none());
        // Without publishNotReadyAddresses a terminating pod is left out.
        assert!(desired_subsets(&web(), &[&b]).is_empty());
    }

    #[test]
    fn unchanged_endpoints_are_not_rewritten() {
        let a = pod("a", "10.0.0.1", true, 8080);
        let svc = web();
        let subsets = desired_subsets(&svc, &[&a]);
        let first = desired_endpoints(&svc, None, subsets.clone(), None).unwrap();
        assert_eq!(
            first.labels().get("tier").map(String::as_str),
            Some("front")
        );
        assert!(desired_endpoints(&svc, Some(&first), subsets, None).is_none());
    }

    #[test]
    fn truncation_keeps_ready_addresses_first() {
        let addr = |i: usize| EndpointAddress {
            ip: format!("10.0.{}.{}", i / 256, i % 256),
            ..Default::default()
        };
        let mut subsets = vec![EndpointSubset {
            addresses: Some((0..900).map(addr).collect()),
            not_ready_addresses: Some((900..1200).map(addr).collect()),
            ports: None,
        }];
        assert!(truncate(&mut subsets));
        assert_eq!(subsets[0].addresses.as_ref().unwrap().len(), 900);
        assert_eq!(subsets[0].not_ready_addresses.as_ref().unwrap().len(), 100);
    }
}
