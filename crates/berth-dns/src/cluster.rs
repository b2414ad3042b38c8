//! The cluster's view the DNS answers come from: Services and EndpointSlices (all namespaces)
//! kept by informers, and an index of slices by the Service they belong to.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use berth_controllers::runtime::{Change, Informer, ObjectKey, key_of};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::Api;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;

/// The label tying an EndpointSlice to its Service.
const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";

/// One serving endpoint of a headless Service, as DNS sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DnsEndpoint {
    /// The endpoint's `hostname`, or its address with dashes (CoreDNS' choice of the
    /// "system-assigned identifier" the DNS spec asks for).
    pub label: String,
    pub ip: IpAddr,
    /// Ports of the slice holding it: (name, protocol, port).
    pub ports: Vec<(String, String, u16)>,
}

/// Slices of one Service, by slice name.
type SliceSet = BTreeMap<String, Arc<EndpointSlice>>;

#[derive(Default)]
struct SliceIndex {
    by_service: HashMap<ObjectKey, SliceSet>,
    /// Slice key -> the Service key it is filed under, so a relabelled slice moves.
    owner: HashMap<ObjectKey, ObjectKey>,
}

impl SliceIndex {
    fn remove(&mut self, slice_key: &ObjectKey) {
        if let Some(service) = self.owner.remove(slice_key)
            && let Some(set) = self.by_service.get_mut(&service)
        {
            set.remove(&slice_key.1);
            if set.is_empty() {
                self.by_service.remove(&service);
            }
        }
    }

    fn insert(&mut self, slice: Arc<EndpointSlice>) {
        let slice_key = key_of(slice.as_ref());
        self.remove(&slice_key);
        let Some(service) = slice
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(LABEL_SERVICE_NAME))
        else {
            return;
        };
        let service_key = (slice_key.0.clone(), service.clone());
        self.by_service
            .entry(service_key.clone())
            .or_default()
            .insert(slice_key.1.clone(), slice);
        self.owner.insert(slice_key, service_key);
    }
}

/// Shared between the informer callbacks and the query handlers.
pub(crate) struct ClusterView {
    services: RwLock<Option<Store<Service>>>,
    slices: RwLock<SliceIndex>,
    services_synced: AtomicBool,
    slices_synced: AtomicBool,
    /// SOA serial: Unix seconds of the last change seen (CoreDNS uses its last-modified time).
    serial: AtomicU32,
    synced_tx: tokio::sync::watch::Sender<bool>,
}

fn unix_seconds() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
        .unwrap_or(0)
}

impl ClusterView {
    pub fn new() -> Self {
        ClusterView {
            services: RwLock::new(None),
            slices: RwLock::new(SliceIndex::default()),
            services_synced: AtomicBool::new(false),
            slices_synced: AtomicBool::new(false),
            serial: AtomicU32::new(unix_seconds()),
            synced_tx: tokio::sync::watch::channel(false).0,
        }
    }

    fn slices_read(&self) -> RwLockReadGuard<'_, SliceIndex> {
        // Every critical section is a few infallible map operations: a poisoned lock still holds
        // a consistent index.
        self.slices.read().unwrap_or_else(|p| p.into_inner())
    }

    fn slices_write(&self) -> RwLockWriteGuard<'_, SliceIndex> {
        self.slices.write().unwrap_or_else(|p| p.into_inner())
    }

    fn service_store(&self) -> Option<Store<Service>> {
        self.services
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn touch(&self) {
        let now = unix_seconds();
        // Strictly increasing, so secondaries (if anyone ever asks) see every change.
        let _ = self
            .serial
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                Some(now.max(old.wrapping_add(1)))
            });
    }

    fn mark_synced(&self) {
        let synced = self.services_synced.load(Ordering::Acquire)
            && self.slices_synced.load(Ordering::Acquire);
        if synced {
            self.synced_tx.send_replace(true);
        }
    }

    pub fn serial(&self) -> u32 {
        self.serial.load(Ordering::Relaxed)
    }

    /// Whether both informers have completed their first list.
    pub fn synced(&self) -> bool {
        *self.synced_tx.borrow()
    }

    pub fn subscribe_synced(&self) -> tokio::sync::watch::Receiver<bool> {
        self.synced_tx.subscribe()
    }

    /// Starts the informers; they stop when the returned value is dropped.
    pub fn start(self: &Arc<Self>, client: kube::Client) -> Informers {
        let view = self.clone();
        let services = Informer::start(
            Api::<Service>::all(client.clone()),
            watcher::Config::default(),
            move |change, store: &Store<Service>| {
                view.touch();
                if matches!(change, Change::Resynced) {
                    // Set here too, so the store is in place before anyone sees `synced`.
                    *view.services.write().unwrap_or_else(|p| p.into_inner()) = Some(store.clone());
                    view.services_synced.store(true, Ordering::Release);
                    view.mark_synced();
                }
            },
        );
        *self.services.write().unwrap_or_else(|p| p.into_inner()) = Some(services.store.clone());
        let view = self.clone();
        let slices = Informer::start(
            Api::<EndpointSlice>::all(client),
            watcher::Config::default(),
            move |change, store: &Store<EndpointSlice>| {
                view.touch();
                match change {
                    Change::Applied(slice) => {
                        let (ns, name) = key_of(slice);
                        // The store already holds this very object: share its Arc.
                        if let Some(stored) = store.get(&ObjectRef::new(&name).within(&ns)) {
                            view.slices_write().insert(stored);
                        }
                    }
                    Change::Deleted(slice) => view.slices_write().remove(&key_of(slice)),
                    Change::Resynced => {
                        let mut index = SliceIndex::default();
                        for slice in store.state() {
                            index.insert(slice);
                        }
                        *view.slices_write() = index;
                        view.slices_synced.store(true, Ordering::Release);
                        view.mark_synced();
                    }
                }
            },
        );
        Informers {
            _services: services,
            _slices: slices,
        }
    }

    pub fn service(&self, namespace: &str, name: &str) -> Option<Arc<Service>> {
        self.service_store()?
            .get(&ObjectRef::new(name).within(namespace))
    }

    pub fn all_services(&self) -> Vec<Arc<Service>> {
        self.service_store().map(|s| s.state()).unwrap_or_default()
    }

    pub fn namespace_has_services(&self, namespace: &str) -> bool {
        self.all_services()
            .iter()
            .any(|s| s.metadata.namespace.as_deref() == Some(namespace))
    }

    pub fn slice_count(&self) -> usize {
        self.slices_read().owner.len()
    }

    /// The endpoints DNS publishes for `service`: ready ones (a missing `ready` condition counts
    /// as ready, per the EndpointSlice API), or all if the Service publishes not-ready addresses.
    /// One entry per distinct address.
    pub fn endpoints(&self, service: &Service) -> Vec<DnsEndpoint> {
        let ns = service.metadata.namespace.clone().unwrap_or_default();
        let name = service.metadata.name.clone().unwrap_or_default();
        let publish_not_ready = service
            .spec
            .as_ref()
            .and_then(|s| s.publish_not_ready_addresses)
            .unwrap_or(false);
        let index = self.slices_read();
        let Some(slices) = index.by_service.get(&(ns, name)) else {
            return Vec::new();
        };
        let mut out: Vec<DnsEndpoint> = Vec::new();
        for slice in slices.values() {
            if slice.address_type == "FQDN" {
                continue;
            }
            let ports: Vec<(String, String, u16)> = slice
                .ports
                .iter()
                .flatten()
                .filter_map(|p| {
                    let port = u16::try_from(p.port?).ok()?;
                    Some((
                        p.name.clone().unwrap_or_default(),
                        p.protocol.clone().unwrap_or_else(|| "TCP".to_string()),
                        port,
                    ))
                })
                .collect();
            for endpoint in &slice.endpoints {
                let ready = endpoint
                    .conditions
                    .as_ref()
                    .and_then(|c| c.ready)
                    .unwrap_or(true);
                if !ready && !publish_not_ready {
                    continue;
                }
                for address in &endpoint.addresses {
                    let Ok(ip) = address.parse::<IpAddr>() else {
                        tracing::debug!(address, "skipping unparsable endpoint address");
                        continue;
                    };
                    if out.iter().any(|e| e.ip == ip) {
                        continue;
                    }
                    let label = endpoint
                        .hostname
                        .clone()
                        .filter(|h| !h.is_empty())
                        .map(|h| h.to_ascii_lowercase())
                        .unwrap_or_else(|| dashed_ip(ip));
                    out.push(DnsEndpoint {
                        label,
                        ip,
                        ports: ports.clone(),
                    });
                }
            }
        }
        out
    }
}

/// `10.1.2.3` -> `10-1-2-3`, `fd00::1` -> `fd00--1`.
pub(crate) fn dashed_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string().replace('.', "-"),
        IpAddr::V6(v6) => v6.to_string().replace(':', "-"),
    }
}

/// The inverse of [`dashed_ip`].
pub(crate) fn parse_dashed_ip(label: &str) -> Option<IpAddr> {
    if let Ok(v4) = label.replace('-', ".").parse::<std::net::Ipv4Addr>() {
        return Some(IpAddr::V4(v4));
    }
    label
        .replace('-', ":")
        .parse::<std::net::Ipv6Addr>()
        .ok()
        .map(IpAddr::V6)
}

/// Keeps the informers running.
pub(crate) struct Informers {
    _services: Informer<Service>,
    _slices: Informer<EndpointSlice>,
}
