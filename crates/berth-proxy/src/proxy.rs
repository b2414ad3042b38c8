//! The proxy itself: informers on Services and EndpointSlices feed a work queue of Service keys;
//! one worker brings each Service's `lo` addresses, backends and listeners in line with its plan.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use berth_controllers::runtime::{
    Backoff, Change, Informer, WorkQueue, key_of, run_workers, wait_for_shutdown,
};
use ipnet::Ipv4Net;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::Api;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::address;
use crate::backend::PortBackend;
use crate::error::{Error, Result};
use crate::listener::Listener;
use crate::plan::{ServiceKey, ServicePlan, plan_service};

/// `discovery.LabelServiceName`.
const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";
/// Services (and their slices) that name another proxy, and headless slices, are not ours:
/// the same selector kube-proxy lists with.
const NOT_OURS: &str = "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless";
const BACKOFF: Backoff = Backoff {
    base: Duration::from_millis(100),
    max: Duration::from_secs(30),
};

/// Settings of the service proxy (kube-proxy flags, where there is one).
#[derive(Debug, Clone)]
pub struct ServiceProxyConfig {
    /// The Service cluster IP range (--service-cluster-ip-range). The proxy owns the `/32`
    /// addresses of this range on `lo`: it removes those of no Service at start, and all of
    /// them at shutdown. Cluster IPs outside it are not proxied.
    pub service_cidr: Ipv4Net,
    /// Where NodePort listeners bind (--nodeport-addresses); loopback by default.
    pub nodeport_addresses: Vec<IpAddr>,
    /// Cluster IPs a component serves itself (the cluster DNS server): the proxy holds the
    /// address on `lo` from its start to its end, and does not listen on it.
    pub locally_served: Vec<Ipv4Addr>,
    /// The API server's address: the `default/kubernetes` Service forwards here rather than to
    /// its endpoints (the API server listens on loopback, which Endpoints cannot hold).
    pub api_server: Option<SocketAddr>,
    /// Whether to put cluster IPs on `lo` (needs root). Without, only NodePorts work.
    pub manage_addresses: bool,
    /// How long to wait for one endpoint to accept before trying the next.
    pub connect_timeout: Duration,
}

impl ServiceProxyConfig {
    /// Defaults: NodePorts on 127.0.0.1, addresses managed when running as root.
    pub fn new(service_cidr: Ipv4Net) -> Self {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        ServiceProxyConfig {
            service_cidr,
            nodeport_addresses: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
            locally_served: Vec::new(),
            api_server: None,
            manage_addresses: root,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// The service proxy. Build with [`ServiceProxy::new`], keep [`ServiceProxy::status`] for the
/// debug view, then [`ServiceProxy::run`].
pub struct ServiceProxy {
    client: Client,
    config: Arc<ServiceProxyConfig>,
    state: Arc<Mutex<State>>,
}

/// A read-only handle on a proxy's state, valid before, during and after [`ServiceProxy::run`].
#[derive(Clone)]
pub struct ProxyStatus {
    config: Arc<ServiceProxyConfig>,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    services: BTreeMap<ServiceKey, ServiceRuntime>,
    /// `locally_served` addresses put on `lo`.
    locally_served: BTreeSet<Ipv4Addr>,
}

#[derive(Default)]
struct ServiceRuntime {
    plan: ServicePlan,
    /// Cluster IPs of this Service held on `lo`.
    addresses: BTreeSet<Ipv4Addr>,
    /// By Service port name; shared by that port's listeners, so affinity spans them.
    backends: BTreeMap<String, Arc<PortBackend>>,
    /// Open listeners and the port name each serves.
    listeners: BTreeMap<SocketAddr, (String, Listener)>,
    /// Listeners that could not be opened, with why.
    listen_errors: BTreeMap<SocketAddr, String>,
    warned_unsupported: bool,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // Sections under the lock are plain map updates: a panic cannot leave them half done.
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl ServiceProxy {
    pub fn new(client: Client, config: ServiceProxyConfig) -> Self {
        ServiceProxy {
            client,
            config: Arc::new(config),
            state: Arc::default(),
        }
    }

    /// A handle on the debug view, usable while [`Self::run`] owns the proxy.
    pub fn status(&self) -> ProxyStatus {
        ProxyStatus {
            config: self.config.clone(),
            state: self.state.clone(),
        }
    }

    /// Services -> ports -> listeners and endpoints, as JSON.
    pub fn snapshot(&self) -> Value {
        self.status().snapshot()
    }

    /// Runs until `shutdown` turns true (or its sender is dropped), then closes every listener
    /// and removes every address it holds on `lo`.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let config = self.config.clone();
        tracing::info!(service_cidr = %config.service_cidr, "starting service proxy");
        if !config.manage_addresses {
            tracing::warn!(
                "the service proxy does not manage addresses on lo (not root): Service cluster \
                 IPs are unreachable, only NodePorts work"
            );
        }
        let queue: Arc<WorkQueue<ServiceKey>> = WorkQueue::new(BACKOFF);

        let (q, st) = (queue.clone(), self.state.clone());
        let services = Informer::start(
            Api::<Service>::all(self.client.clone()),
            watcher::Config::default().labels(NOT_OURS),
            move |change, store: &Store<Service>| match change {
                Change::Applied(s) | Change::Deleted(s) => q.add(key_of(s)),
                Change::Resynced => {
                    // Deletions while the watch was down were not reported one by one.
                    for s in store.state() {
                        q.add(key_of(s.as_ref()));
                    }
                    for key in lock(&st).services.keys() {
                        q.add(key.clone());
                    }
                }
            },
        );
        let (q, st) = (queue.clone(), self.state.clone());
        let slices = Informer::start(
            Api::<EndpointSlice>::all(self.client.clone()),
            watcher::Config::default().labels(&format!("{LABEL_SERVICE_NAME},{NOT_OURS}")),
            move |change, store: &Store<EndpointSlice>| match change {
                Change::Applied(s) | Change::Deleted(s) => {
                    if let Some(key) = service_of(s) {
                        q.add(key);
                    }
                }
                Change::Resynced => {
                    for s in store.state() {
                        if let Some(key) = service_of(&s) {
                            q.add(key);
                        }
                    }
                    for key in lock(&st).services.keys() {
                        q.add(key.clone());
                    }
                }
            },
        );
        tokio::select! {
            _ = async { services.ready().await; slices.ready().await } => {}
            _ = wait_for_shutdown(shutdown.clone()) => return,
        }

        if config.manage_addresses {
            self.claim_addresses(&services.store).await;
        }

        let sync = Arc::new(Syncer {
            config: config.clone(),
            state: self.state.clone(),
            services: services.store.clone(),
            slices: slices.store.clone(),
            shutdown: shutdown.clone(),
        });
        // One worker: address and listener changes of different Services never interleave.
        run_workers("service-proxy", queue, 1, shutdown, move |key| {
            let sync = sync.clone();
            async move { sync.sync(&key).await }
        })
        .await;
        drop((services, slices));
        self.release_addresses().await;
        tracing::info!("stopped service proxy");
    }

    /// Puts the locally served addresses on `lo` and removes the addresses of the CIDR that
    /// belong to no Service (left by a proxy that was killed).
    async fn claim_addresses(&self, services: &Store<Service>) {
        let config = &self.config;
        for ip in &config.locally_served {
            match address::ensure_local_address(*ip).await {
                Ok(()) => {
                    lock(&self.state).locally_served.insert(*ip);
                }
                Err(e) => tracing::warn!(%ip, error = %e, "cannot hold a locally served address"),
            }
        }
        let mut wanted: BTreeSet<Ipv4Addr> = config.locally_served.iter().copied().collect();
        for service in services.state() {
            let plan = plan_service(&key_of(service.as_ref()), &service, &[], config);
            wanted.extend(plan.cluster_ips);
        }
        match address::local_addresses_in(config.service_cidr).await {
            Ok(present) => {
                for ip in present.into_iter().filter(|ip| !wanted.contains(ip)) {
                    tracing::info!(%ip, "removing a leftover Service address from lo");
                    if let Err(e) = address::remove_local_address(ip).await {
                        tracing::warn!(%ip, error = %e, "cannot remove a leftover address");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot list the addresses on lo"),
        }
    }

    /// Closes all listeners and removes every address this proxy holds on `lo`, and any other
    /// of the service CIDR (a sync cut short by the shutdown may have added one unrecorded).
    async fn release_addresses(&self) {
        let (listeners, mut addresses) = {
            let mut state = lock(&self.state);
            let services = std::mem::take(&mut state.services);
            let mut addresses = std::mem::take(&mut state.locally_served);
            let mut listeners = Vec::new();
            for runtime in services.into_values() {
                addresses.extend(runtime.addresses);
                listeners.extend(runtime.listeners.into_values().map(|(_, l)| l));
            }
            (listeners, addresses)
        };
        for listener in listeners {
            listener.close().await;
        }
        if !self.config.manage_addresses {
            return;
        }
        match address::local_addresses_in(self.config.service_cidr).await {
            Ok(present) => addresses.extend(present),
            Err(e) => tracing::warn!(error = %e, "cannot list the addresses on lo"),
        }
        for ip in addresses {
            if let Err(e) = address::remove_local_address(ip).await {
                tracing::warn!(%ip, error = %e, "cannot remove a Service address from lo");
            }
        }
    }
}

fn service_of(slice: &EndpointSlice) -> Option<ServiceKey> {
    Some((
        slice.metadata.namespace.clone()?,
        slice.labels().get(LABEL_SERVICE_NAME)?.clone(),
    ))
}

struct Syncer {
    config: Arc<ServiceProxyConfig>,
    state: Arc<Mutex<State>>,
    services: Store<Service>,
    slices: Store<EndpointSlice>,
    shutdown: watch::Receiver<bool>,
}

impl Syncer {
    async fn sync(&self, key: &ServiceKey) -> Result<()> {
        let (ns, name) = key;
        let service = self.services.get(&ObjectRef::new(name).within(ns));
        let slices: Vec<Arc<EndpointSlice>> = self
            .slices
            .state()
            .into_iter()
            .filter(|s| s.metadata.namespace.as_deref() == Some(ns.as_str()))
            .filter(|s| s.labels().get(LABEL_SERVICE_NAME) == Some(name))
            .collect();
        let slice_refs: Vec<&EndpointSlice> = slices.iter().map(Arc::as_ref).collect();
        let plan = match &service {
            Some(s) => plan_service(key, s, &slice_refs, &self.config),
            None => ServicePlan::default(),
        };
        let mut errors = Vec::new();

        // Listeners: only for ports with endpoints, so the others refuse connections.
        let mut wanted: BTreeMap<SocketAddr, String> = BTreeMap::new();
        for port in plan.ports.iter().filter(|p| !p.endpoints.is_empty()) {
            for addr in &port.listen {
                wanted.insert(*addr, port.name.clone());
            }
        }
        let unwanted: Vec<Listener> = {
            let mut state = lock(&self.state);
            match state.services.get_mut(key) {
                Some(runtime) => {
                    let (keep, close) = std::mem::take(&mut runtime.listeners)
                        .into_iter()
                        .partition(|(addr, (port, _))| wanted.get(addr) == Some(port));
                    runtime.listeners = keep;
                    close.into_values().map(|(_, l)| l).collect()
                }
                None => Vec::new(),
            }
        };
        for listener in unwanted {
            listener.close().await;
        }

        let held = self.sync_addresses(key, &plan, &mut errors).await;

        let mut state = lock(&self.state);
        let runtime = state.services.entry(key.clone()).or_default();
        runtime.addresses = held;
        if !plan.unsupported.is_empty() && !runtime.warned_unsupported {
            runtime.warned_unsupported = true;
            tracing::warn!(
                service = %format!("{ns}/{name}"),
                ports = ?plan.unsupported,
                "only TCP Service ports are proxied on the embedded node"
            );
        }

        // Backends: one per Service port, updated in place so affinities survive.
        let mut backends = BTreeMap::new();
        for port in &plan.ports {
            let backend = runtime.backends.remove(&port.name).unwrap_or_default();
            backend.update(port.endpoints.clone(), plan.affinity);
            backends.insert(port.name.clone(), backend);
        }
        runtime.backends = backends;

        runtime.listen_errors.clear();
        for (addr, port) in wanted {
            if runtime.listeners.contains_key(&addr) {
                continue;
            }
            let Some(backend) = runtime.backends.get(&port).cloned() else {
                continue;
            };
            match Listener::bind(
                addr,
                backend,
                self.config.connect_timeout,
                self.shutdown.clone(),
            ) {
                Ok(listener) => {
                    tracing::debug!(service = %format!("{ns}/{name}"), %addr, "listening");
                    runtime.listeners.insert(addr, (port, listener));
                }
                Err(source) => {
                    runtime.listen_errors.insert(addr, source.to_string());
                    errors.push(Error::Listen { addr, source });
                }
            }
        }
        runtime.plan = plan;
        if service.is_none() && runtime.addresses.is_empty() {
            state.services.remove(key);
        }
        drop(state);
        match errors.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Adds and removes this Service's cluster IPs on `lo`; returns the ones it now holds.
    async fn sync_addresses(
        &self,
        key: &ServiceKey,
        plan: &ServicePlan,
        errors: &mut Vec<Error>,
    ) -> BTreeSet<Ipv4Addr> {
        if !self.config.manage_addresses {
            return BTreeSet::new();
        }
        let (mut held, held_elsewhere) = {
            let state = lock(&self.state);
            let held = state
                .services
                .get(key)
                .map(|r| r.addresses.clone())
                .unwrap_or_default();
            let mut elsewhere: BTreeSet<Ipv4Addr> = state.locally_served.clone();
            for (k, r) in &state.services {
                if k != key {
                    elsewhere.extend(r.addresses.iter().copied());
                }
            }
            (held, elsewhere)
        };
        let wanted: BTreeSet<Ipv4Addr> = plan.cluster_ips.iter().copied().collect();
        for ip in wanted.difference(&held.clone()) {
            match address::ensure_local_address(*ip).await {
                Ok(()) => {
                    held.insert(*ip);
                }
                Err(e) => errors.push(e),
            }
        }
        for ip in held.clone().difference(&wanted) {
            // An address another Service (or the DNS server) still uses stays on lo.
            if held_elsewhere.contains(ip) {
                held.remove(ip);
                continue;
            }
            match address::remove_local_address(*ip).await {
                Ok(()) => {
                    held.remove(ip);
                }
                Err(e) => errors.push(e),
            }
        }
        held
    }
}

impl ProxyStatus {
    /// Services -> ports -> listeners and endpoints, as JSON (for `/debug/berth/proxy`).
    pub fn snapshot(&self) -> Value {
        let state = lock(&self.state);
        let mut services = serde_json::Map::new();
        for ((ns, name), runtime) in &state.services {
            let plan = &runtime.plan;
            let ports: Vec<Value> = plan
                .ports
                .iter()
                .map(|port| {
                    let backend = runtime.backends.get(&port.name);
                    let listening: Vec<String> = runtime
                        .listeners
                        .iter()
                        .filter(|(_, (p, _))| *p == port.name)
                        .map(|(addr, _)| addr.to_string())
                        .collect();
                    let errors: serde_json::Map<String, Value> = runtime
                        .listen_errors
                        .iter()
                        .filter(|(addr, _)| port.listen.contains(addr))
                        .map(|(addr, e)| (addr.to_string(), json!(e)))
                        .collect();
                    json!({
                        "name": port.name,
                        "port": port.port,
                        "nodePort": port.node_port,
                        "listen": port.listen.iter().map(ToString::to_string).collect::<Vec<_>>(),
                        "listening": listening,
                        "listenErrors": errors,
                        "endpoints": port.endpoints.iter().map(ToString::to_string).collect::<Vec<_>>(),
                        "activeConnections": backend.map(|b| b.active_connections.load(std::sync::atomic::Ordering::Relaxed)),
                        "totalConnections": backend.map(|b| b.total_connections.load(std::sync::atomic::Ordering::Relaxed)),
                    })
                })
                .collect();
            services.insert(
                format!("{ns}/{name}"),
                json!({
                    "type": plan.service_type,
                    "clusterIPs": plan.cluster_ips.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "addressesOnLo": runtime.addresses.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "sessionAffinityTimeoutSeconds": plan.affinity.map(|d| d.as_secs()),
                    "unsupportedPorts": plan.unsupported,
                    "notes": plan.notes,
                    "ports": ports,
                }),
            );
        }
        json!({
            "serviceCIDR": self.config.service_cidr.to_string(),
            "manageAddresses": self.config.manage_addresses,
            "nodePortAddresses": self.config.nodeport_addresses.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "locallyServed": state.locally_served.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "services": services,
        })
    }
}
