//! The EndpointSlice controller (upstream `pkg/controller/endpointslice`): for every Service
//! with a selector, EndpointSlices labelled `kubernetes.io/service-name` and
//! `endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io`, owned by the
//! Service, listing one endpoint per pod with ready/serving/terminating conditions, at most
//! [`EndpointSliceConfig::max_endpoints_per_slice`] per slice, one slice set per combination
//! of resolved ports and per address type.
//!
//! Reconciliation keeps endpoints in the slice they are in, fills free room before creating
//! slices, writes only slices that changed, and keeps one empty placeholder slice for a
//! service without endpoints, like upstream's reconciler (its exact packing heuristics differ).

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{ObjectReference, Pod, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, PostParams};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use tokio::sync::watch;

use crate::endpoints::{HEADLESS_LABEL, selected_pods, watch_services_and_pods};
use crate::error::{Error, Result};
use crate::podutil;
use crate::runtime::Backoff;
use crate::runtime::WorkQueue;
use crate::runtime::{Change, Informer, ObjectKey, run_workers};
use crate::triggertime::{self, LAST_CHANGE_TRIGGER_TIME, TriggerTimeTracker};

/// `discovery.LabelServiceName`.
pub const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";
/// `discovery.LabelManagedBy`.
pub const LABEL_MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
/// This controller's value of [`LABEL_MANAGED_BY`].
pub const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";
const BACKOFF: Backoff = Backoff {
    base: Duration::from_millis(5),
    max: Duration::from_secs(60),
};

/// Settings of the EndpointSlice controller (kube-controller-manager flags).
#[derive(Debug, Clone)]
pub struct EndpointSliceConfig {
    /// --max-endpoints-per-slice.
    pub max_endpoints_per_slice: usize,
    /// --concurrent-service-endpoint-syncs.
    pub workers: usize,
}

impl Default for EndpointSliceConfig {
    fn default() -> Self {
        EndpointSliceConfig {
            max_endpoints_per_slice: 100,
            workers: 5,
        }
    }
}

/// The EndpointSlice controller. Build with [`EndpointSliceController::new`], then
/// [`EndpointSliceController::run`].
pub struct EndpointSliceController {
    client: Client,
    config: EndpointSliceConfig,
}

struct Shared {
    client: Client,
    config: EndpointSliceConfig,
    services: Store<Service>,
    pods: Store<Pod>,
    slices: Store<EndpointSlice>,
    triggers: Mutex<TriggerTimeTracker>,
}

impl EndpointSliceController {
    pub fn new(client: Client) -> Self {
        Self::with_config(client, EndpointSliceConfig::default())
    }

    pub fn with_config(client: Client, config: EndpointSliceConfig) -> Self {
        EndpointSliceController { client, config }
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        tracing::info!("starting endpointslice controller");
        let queue: Arc<WorkQueue<ObjectKey>> = WorkQueue::new(BACKOFF);
        let (services, pods) = watch_services_and_pods(&self.client, &queue);
        let q = queue.clone();
        let slices = Informer::start(
            Api::<EndpointSlice>::all(self.client.clone()),
            watcher::Config::default().labels(&format!("{LABEL_MANAGED_BY}={CONTROLLER_NAME}")),
            move |change, _| {
                // Someone else's edit (or deletion) of a slice of ours: put it right.
                if let Change::Applied(s) | Change::Deleted(s) = change
                    && let Some(key) = service_key(s)
                {
                    q.add(key);
                }
            },
        );
        tokio::select! {
            _ = async { services.ready().await; pods.ready().await; slices.ready().await } => {}
            _ = crate::runtime::wait_for_shutdown(shutdown.clone()) => return,
        }
        let workers = self.config.workers;
        let shared = Arc::new(Shared {
            client: self.client,
            config: self.config,
            services: services.store.clone(),
            pods: pods.store.clone(),
            slices: slices.store.clone(),
            triggers: Mutex::new(TriggerTimeTracker::default()),
        });
        run_workers("endpointslice", queue, workers, shutdown, move |key| {
            let shared = shared.clone();
            async move { shared.sync(&key).await }
        })
        .await;
        tracing::info!("stopped endpointslice controller");
    }
}

fn service_key(slice: &EndpointSlice) -> Option<ObjectKey> {
    Some((
        slice.metadata.namespace.clone()?,
        slice.labels().get(LABEL_SERVICE_NAME)?.clone(),
    ))
}

impl Shared {
    async fn sync(&self, key: &ObjectKey) -> Result<()> {
        let (ns, name) = key;
        let api: Api<EndpointSlice> = Api::namespaced(self.client.clone(), ns);
        let existing: Vec<EndpointSlice> = self
            .slices
            .state()
            .iter()
            .filter(|s| s.metadata.namespace.as_deref() == Some(ns.as_str()))
            .filter(|s| s.labels().get(LABEL_SERVICE_NAME) == Some(name))
            .map(|s| s.as_ref().clone())
            .collect();
        let service = self.services.get(&ObjectRef::new(name).within(ns));
        let service = match service {
            Some(s) if !podutil::is_external_name(&s) => s,
            _ => {
                // Gone (the garbage collector would delete the slices too) or ExternalName.
                if service.is_none() {
                    self.triggers
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .forget(key);
                }
                return delete_slices(&api, &existing).await;
            }
        };
        if podutil::service_selector(&service).is_none() {
            // Slices of selector-less services are someone else's (the mirroring controller).
            return Ok(());
        }
        let pods = selected_pods(&self.pods, &service);
        let pod_refs: Vec<&Pod> = pods.iter().map(Arc::as_ref).collect();
        let trigger = self
            .triggers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .compute(key, &service, &pod_refs);
        let plan = plan(
            &service,
            &pod_refs,
            &existing,
            self.config.max_endpoints_per_slice,
            trigger,
        );
        for slice in &plan.create {
            match api
                .create(&PostParams::default(), slice)
                .await
                .map_err(Error::from)
            {
                Ok(_) => {}
                Err(e) if e.api_code() == Some(403) => return Ok(()), // namespace terminating
                Err(e) => return Err(e),
            }
        }
        for slice in &plan.update {
            api.replace(&slice.name_any(), &PostParams::default(), slice)
                .await?;
        }
        delete_slices(&api, &plan.delete).await
    }
}

async fn delete_slices(api: &Api<EndpointSlice>, slices: &[EndpointSlice]) -> Result<()> {
    for slice in slices {
        if let Err(e) = api
            .delete(&slice.name_any(), &DeleteParams::default())
            .await
        {
            let e = Error::from(e);
            if !e.is_not_found() {
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Lists the slices managed for a service (for callers and tests that read them back).
pub async fn list_for_service(
    client: &Client,
    namespace: &str,
    service: &str,
) -> Result<Vec<EndpointSlice>> {
    let api: Api<EndpointSlice> = Api::namespaced(client.clone(), namespace);
    let lp = ListParams::default().labels(&format!(
        "{LABEL_SERVICE_NAME}={service},{LABEL_MANAGED_BY}={CONTROLLER_NAME}"
    ));
    Ok(api.list(&lp).await?.items)
}

/// What a sync writes.
#[derive(Debug, Default)]
struct Plan {
    create: Vec<EndpointSlice>,
    update: Vec<EndpointSlice>,
    delete: Vec<EndpointSlice>,
}

/// An endpoint's identity across syncs: its addresses and pod.
type EndpointKey = (Vec<String>, Option<String>, Option<String>);
type PortsKey = Vec<(Option<String>, Option<i32>, Option<String>, Option<String>)>;

fn endpoint_key(e: &Endpoint) -> EndpointKey {
    let r = e.target_ref.as_ref();
    (
        e.addresses.clone(),
        r.and_then(|r| r.namespace.clone()),
        r.and_then(|r| r.name.clone()),
    )
}

fn ports_key(ports: &[EndpointPort]) -> PortsKey {
    ports
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.port,
                p.protocol.clone(),
                p.app_protocol.clone(),
            )
        })
        .collect()
}

/// The service's address types (`ipFamilies`, IPv4 when unset).
fn address_types(service: &Service) -> Vec<String> {
    match service.spec.as_ref().and_then(|s| s.ip_families.as_ref()) {
        Some(f) if !f.is_empty() => f.clone(),
        _ => vec!["IPv4".to_string()],
    }
}

/// The endpoint of `pod` for an address type and its ports (upstream `podToEndpoint` and
/// `getEndpointPorts`).
fn pod_endpoint(service: &Service, pod: &Pod, ipv6: bool) -> Option<(Vec<EndpointPort>, Endpoint)> {
    let status = pod.status.as_ref()?;
    let ips: Vec<&str> = match status.pod_ips.as_ref().filter(|i| !i.is_empty()) {
        Some(ips) => ips.iter().map(|i| i.ip.as_str()).collect(),
        None => status.pod_ip.as_deref().into_iter().collect(),
    };
    let ip = ips
        .into_iter()
        .find(|ip| !ip.is_empty() && ip.contains(':') == ipv6)?;
    let spec = service.spec.as_ref();
    let publish_not_ready = spec
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false);
    let serving = podutil::is_pod_ready(pod);
    let terminating = podutil::is_terminating(pod);
    // "ready" is never true for a terminating pod, unless publishNotReadyAddresses.
    let ready = publish_not_ready || (serving && !terminating);
    let ports = spec
        .and_then(|s| s.ports.as_deref())
        .unwrap_or_default()
        .iter()
        .filter_map(|sp| {
            let number = podutil::find_port(pod, sp)?;
            Some(EndpointPort {
                name: Some(sp.name.clone().unwrap_or_default()),
                port: Some(number),
                protocol: Some(sp.protocol.clone().unwrap_or_else(|| "TCP".into())),
                app_protocol: sp.app_protocol.clone(),
            })
        })
        .collect();
    let endpoint = Endpoint {
        addresses: vec![ip.to_string()],
        conditions: Some(EndpointConditions {
            ready: Some(ready),
            serving: Some(serving),
            terminating: Some(terminating),
        }),
        hostname: podutil::should_set_hostname(pod, service)
            .then(|| pod.spec.as_ref().and_then(|s| s.hostname.clone()))
            .flatten(),
        node_name: pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .filter(|n| !n.is_empty()),
        target_ref: Some(ObjectReference {
            kind: Some("Pod".into()),
            namespace: pod.metadata.namespace.clone(),
            name: pod.metadata.name.clone(),
            uid: pod.metadata.uid.clone(),
            ..ObjectReference::default()
        }),
        ..Endpoint::default()
    };
    Some((ports, endpoint))
}

/// The labels every slice of the service carries (`setEndpointSliceLabels`).
fn slice_labels(service: &Service) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = service
        .labels()
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                LABEL_SERVICE_NAME | LABEL_MANAGED_BY | HEADLESS_LABEL
            )
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if podutil::is_headless(service) {
        labels.insert(HEADLESS_LABEL.into(), String::new());
    }
    labels.insert(LABEL_SERVICE_NAME.into(), service.name_any());
    labels.insert(LABEL_MANAGED_BY.into(), CONTROLLER_NAME.into());
    labels
}

fn new_slice(service: &Service, address_type: &str, ports: &[EndpointPort]) -> EndpointSlice {
    let name = service.name_any();
    EndpointSlice {
        metadata: ObjectMeta {
            generate_name: Some(format!("{name}-")),
            namespace: service.metadata.namespace.clone(),
            labels: Some(slice_labels(service)),
            owner_references: Some(vec![OwnerReference {
                api_version: "v1".into(),
                kind: "Service".into(),
                name,
                uid: service.metadata.uid.clone().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..ObjectMeta::default()
        },
        address_type: address_type.into(),
        endpoints: Vec::new(),
        ports: Some(ports.to_vec()),
    }
}

fn set_trigger(slice: &mut EndpointSlice, trigger: Option<k8s_openapi::jiff::Timestamp>) {
    if let Some(t) = trigger {
        slice
            .metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(LAST_CHANGE_TRIGGER_TIME.into(), triggertime::format(t));
    }
}

/// Decides which slices to create, update and delete (upstream `reconciler.reconcile`).
fn plan(
    service: &Service,
    pods: &[&Pod],
    existing: &[EndpointSlice],
    max_per_slice: usize,
    trigger: Option<k8s_openapi::jiff::Timestamp>,
) -> Plan {
    let max_per_slice = max_per_slice.max(1);
    let mut plan = Plan::default();
    let types = address_types(service);
    let labels = slice_labels(service);
    for slice in existing {
        if !types.contains(&slice.address_type) {
            plan.delete.push(slice.clone());
        }
    }
    for address_type in &types {
        let ipv6 = address_type == "IPv6";
        // Desired endpoints grouped by their ports.
        let mut desired: BTreeMap<PortsKey, (Vec<EndpointPort>, BTreeMap<EndpointKey, Endpoint>)> =
            BTreeMap::new();
        for pod in pods {
            if !podutil::should_pod_be_in_endpoints(pod, true) {
                continue;
            }
            if let Some((ports, endpoint)) = pod_endpoint(service, pod, ipv6) {
                desired
                    .entry(ports_key(&ports))
                    .or_insert_with(|| (ports, BTreeMap::new()))
                    .1
                    .insert(endpoint_key(&endpoint), endpoint);
            }
        }
        let no_endpoints = desired.is_empty();
        if no_endpoints {
            desired.insert(Vec::new(), (Vec::new(), BTreeMap::new()));
        }
        let mut placeholder_kept = false;
        // Existing slices after this sync: (slice, changed).
        let mut kept: Vec<(EndpointSlice, bool)> = Vec::new();
        for slice in existing.iter().filter(|s| &s.address_type == address_type) {
            let key = ports_key(slice.ports.as_deref().unwrap_or_default());
            let Some((_, wanted)) = desired.get_mut(&key) else {
                plan.delete.push(slice.clone());
                continue;
            };
            let endpoints: Vec<Endpoint> = slice
                .endpoints
                .iter()
                .filter_map(|e| wanted.remove(&endpoint_key(e)))
                .collect();
            // An emptied slice goes, except one kept as the placeholder.
            let keep_as_placeholder = no_endpoints && !placeholder_kept;
            if endpoints.is_empty() && !keep_as_placeholder {
                plan.delete.push(slice.clone());
                continue;
            }
            placeholder_kept |= no_endpoints;
            let mut updated = slice.clone();
            let changed = endpoints != slice.endpoints || slice.labels() != &labels;
            updated.endpoints = endpoints;
            updated.metadata.labels = Some(labels.clone());
            kept.push((updated, changed));
        }
        // New endpoints: free room in slices being written anyway first, then in others, then
        // new slices.
        kept.sort_by_key(|(_, changed)| !changed);
        for (key, (ports, wanted)) in desired {
            let mut remaining: Vec<Endpoint> = wanted.into_values().collect();
            for (slice, changed) in kept.iter_mut() {
                if remaining.is_empty() {
                    break;
                }
                if ports_key(slice.ports.as_deref().unwrap_or_default()) != key {
                    continue;
                }
                let room = max_per_slice.saturating_sub(slice.endpoints.len());
                if room == 0 {
                    continue;
                }
                let take = room.min(remaining.len());
                slice.endpoints.extend(remaining.drain(..take));
                *changed = true;
            }
            let placeholder_needed = no_endpoints && !placeholder_kept;
            if placeholder_needed {
                placeholder_kept = true;
                let mut slice = new_slice(service, address_type, &ports);
                set_trigger(&mut slice, trigger);
                plan.create.push(slice);
            }
            for chunk in remaining.chunks(max_per_slice) {
                let mut slice = new_slice(service, address_type, &ports);
                slice.endpoints = chunk.to_vec();
                set_trigger(&mut slice, trigger);
                plan.create.push(slice);
            }
        }
        for (mut slice, changed) in kept {
            if changed {
                set_trigger(&mut slice, trigger);
                plan.update.push(slice);
            }
        }
    }
    let deleted: HashSet<Option<String>> = plan
        .delete
        .iter()
        .map(|s| s.metadata.name.clone())
        .collect();
    plan.update.retain(|s| !deleted.contains(&s.metadata.name));
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service() -> Service {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "ns", "uid": "svc-uid"},
            "spec": {"selector": {"app": "web"}, "clusterIP": "10.96.0.10", "ipFamilies": ["IPv4"],
                "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]}
        }))
        .unwrap()
    }

    fn pod(i: usize, ready: bool, terminating: bool) -> Pod {
        let mut p: Pod = serde_json::from_value(json!({
            "metadata": {"name": format!("p{i}"), "namespace": "ns", "uid": format!("u{i}"), "labels": {"app": "web"}},
            "spec": {"nodeName": "n1", "containers": []},
            "status": {"phase": "Running", "podIP": format!("10.0.{}.{}", i / 250, i % 250 + 1),
                "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}
        }))
        .unwrap();
        if terminating {
            p.metadata.deletion_timestamp =
                Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                    k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
                ));
        }
        p
    }

    fn named(mut s: EndpointSlice, name: &str) -> EndpointSlice {
        s.metadata.name = Some(name.into());
        s
    }

    #[test]
    fn endpoints_are_split_at_the_slice_limit() {
        let pods: Vec<Pod> = (0..250).map(|i| pod(i, true, false)).collect();
        let refs: Vec<&Pod> = pods.iter().collect();
        let p = plan(&service(), &refs, &[], 100, None);
        let sizes: Vec<usize> = p.create.iter().map(|s| s.endpoints.len()).collect();
        assert_eq!(sizes, vec![100, 100, 50]);
        let s = &p.create[0];
        assert_eq!(s.address_type, "IPv4");
        assert_eq!(
            s.labels().get(LABEL_SERVICE_NAME).map(String::as_str),
            Some("web")
        );
        assert_eq!(
            s.labels().get(LABEL_MANAGED_BY).map(String::as_str),
            Some(CONTROLLER_NAME)
        );
        let owner = &s.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.uid.as_str(), owner.controller),
            ("Service", "svc-uid", Some(true))
        );
    }

    #[test]
    fn conditions_follow_readiness_and_termination() {
        let pods = [
            pod(1, true, false),
            pod(2, false, false),
            pod(3, true, true),
        ];
        let refs: Vec<&Pod> = pods.iter().collect();
        let p = plan(&service(), &refs, &[], 100, None);
        let cond = |name: &str| {
            let e = p.create[0]
                .endpoints
                .iter()
                .find(|e| e.target_ref.as_ref().unwrap().name.as_deref() == Some(name))
                .unwrap();
            let c = e.conditions.clone().unwrap();
            (c.ready.unwrap(), c.serving.unwrap(), c.terminating.unwrap())
        };
        assert_eq!(cond("p1"), (true, true, false));
        assert_eq!(cond("p2"), (false, false, false));
        assert_eq!(cond("p3"), (false, true, true));
    }

    #[test]
    fn stable_state_writes_nothing_and_changes_touch_one_slice() {
        let pods: Vec<Pod> = (0..150).map(|i| pod(i, true, false)).collect();
        let refs: Vec<&Pod> = pods.iter().collect();
        let first = plan(&service(), &refs, &[], 100, None);
        let existing: Vec<EndpointSlice> = first
            .create
            .into_iter()
            .enumerate()
            .map(|(i, s)| named(s, &format!("web-{i}")))
            .collect();
        let again = plan(&service(), &refs, &existing, 100, None);
        assert!(again.create.is_empty() && again.update.is_empty() && again.delete.is_empty());

        // One pod more: it goes into the slice with room, no new slice.
        let mut more = pods.clone();
        more.push(pod(200, true, false));
        let refs: Vec<&Pod> = more.iter().collect();
        let p = plan(&service(), &refs, &existing, 100, None);
        assert!(p.create.is_empty() && p.delete.is_empty());
        assert_eq!(p.update.len(), 1);
        assert_eq!(p.update[0].endpoints.len(), 51);
    }

    #[test]
    fn a_service_without_pods_keeps_one_placeholder() {
        let p = plan(&service(), &[], &[], 100, None);
        assert_eq!(p.create.len(), 1);
        assert!(p.create[0].endpoints.is_empty());
        let existing = vec![named(p.create[0].clone(), "web-0")];
        let again = plan(&service(), &[], &existing, 100, None);
        assert!(again.create.is_empty() && again.update.is_empty() && again.delete.is_empty());
    }
}
