//! Reading one cluster: watches of the selected Services and their EndpointSlices (or one list
//! of each for `--once`), kept in the shared state per cluster.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use berth_controllers::runtime::Backoff;
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams};
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;

use crate::config::{ClusterSource, ServiceSelector};
use crate::render::{self, Contribution, LABEL_SERVICE_NAME, ObjectMap};
use crate::{ClusterState, Inner};

/// Retry delays of a failed watch or client set-up (each retry relists).
const RETRY: Backoff = Backoff {
    base: Duration::from_millis(500),
    max: Duration::from_secs(30),
};

/// How long `--once` waits for one cluster's lists.
const ONCE_TIMEOUT: Duration = Duration::from_secs(30);

/// The state of one watch of a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WatchState {
    /// Not listed yet.
    Syncing,
    Ready,
    /// Failed; stays so until a relist succeeds.
    Failed(String),
}

/// What is known of one cluster.
pub(crate) struct ClusterData {
    pub name: String,
    pub source: ClusterSource,
    pub services: ObjectMap<Service>,
    pub slices: ObjectMap<EndpointSlice>,
    /// Two per namespace: Services, then EndpointSlices.
    pub watches: Vec<WatchState>,
    /// Why the client could not be built.
    pub setup_error: Option<String>,
    /// The reported state, updated by each round.
    pub state: ClusterState,
    /// The contribution of the last round this cluster was consistent.
    pub last_good: Option<Contribution>,
    pub last_success: Option<SystemTime>,
}

impl ClusterData {
    pub fn new(name: String, source: ClusterSource) -> Self {
        ClusterData {
            name,
            source,
            services: ObjectMap::new(),
            slices: ObjectMap::new(),
            watches: Vec::new(),
            setup_error: None,
            state: ClusterState::Syncing,
            last_good: None,
            last_success: None,
        }
    }

    /// Recomputes the state (and the contribution when the data is complete and consistent).
    pub fn refresh(&mut self, selectors: &[ServiceSelector]) {
        let failures: Vec<&str> = self
            .watches
            .iter()
            .filter_map(|w| match w {
                WatchState::Failed(e) => Some(e.as_str()),
                _ => None,
            })
            .collect();
        let observed = if let Some(e) = &self.setup_error {
            ClusterState::Failed(e.clone())
        } else if !failures.is_empty() {
            ClusterState::Failed(failures.join("; "))
        } else if self.watches.is_empty() || self.watches.contains(&WatchState::Syncing) {
            ClusterState::Syncing
        } else {
            match render::contribution(selectors, &self.services, &self.slices) {
                Ok(c) => {
                    self.last_good = Some(c);
                    self.last_success = Some(SystemTime::now());
                    ClusterState::Ready
                }
                Err(e) => ClusterState::Failed(format!("inconsistent data: {e}")),
            }
        };
        if observed != self.state {
            match &observed {
                ClusterState::Failed(e) => tracing::error!(
                    cluster = %self.name,
                    error = %e,
                    "cluster failed; keeping its last good upstream servers"
                ),
                ClusterState::Ready => tracing::info!(cluster = %self.name, "cluster in sync"),
                ClusterState::Syncing => {}
            }
            self.state = observed;
        }
    }
}

/// Builds the client of a cluster.
pub(crate) async fn client_for(source: &ClusterSource) -> Result<kube::Client, String> {
    match source {
        ClusterSource::Client(c) => Ok(c.clone()),
        ClusterSource::Kubeconfig { path, context } => {
            let kubeconfig = kube::config::Kubeconfig::read_from(path)
                .map_err(|e| format!("cannot read kubeconfig {}: {e}", path.display()))?;
            let options = kube::config::KubeConfigOptions {
                context: context.clone(),
                ..Default::default()
            };
            let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|e| format!("invalid kubeconfig {}: {e}", path.display()))?;
            kube::Client::try_from(config).map_err(|e| format!("cannot build a client: {e}"))
        }
    }
}

/// The label selector of the selected Services' EndpointSlices in `namespace`.
fn slice_selector(selectors: &[ServiceSelector], namespace: &str) -> String {
    let mut names: Vec<&str> = selectors
        .iter()
        .filter(|s| s.namespace == namespace)
        .map(|s| s.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    format!("{LABEL_SERVICE_NAME} in ({})", names.join(","))
}

fn selected(selectors: &[ServiceSelector], namespace: &str, name: &str) -> bool {
    selectors
        .iter()
        .any(|s| s.namespace == namespace && s.name == name)
}

/// Lists everything once (for `--once`) into the cluster's data.
pub(crate) async fn fetch_once(inner: &Inner, index: usize) {
    let source = match inner.state().clusters.get(index) {
        Some(c) => c.source.clone(),
        None => return,
    };
    let selectors = &inner.config.services;
    let fetched = tokio::time::timeout(ONCE_TIMEOUT, async {
        let client = client_for(&source).await?;
        let mut services = ObjectMap::new();
        for s in selectors {
            let api: Api<Service> = Api::namespaced(client.clone(), &s.namespace);
            match api.get_opt(&s.name).await {
                Ok(Some(svc)) => {
                    services.insert((s.namespace.clone(), s.name.clone()), svc);
                }
                Ok(None) => {} // reported as inconsistent data by the round
                Err(e) => {
                    return Err(format!(
                        "cannot get Service {}/{}: {e}",
                        s.namespace, s.name
                    ));
                }
            }
        }
        let mut slices = ObjectMap::new();
        for ns in &inner.namespaces {
            let api: Api<EndpointSlice> = Api::namespaced(client.clone(), ns);
            let params = ListParams::default().labels(&slice_selector(selectors, ns));
            let list = api
                .list(&params)
                .await
                .map_err(|e| format!("cannot list EndpointSlices in {ns}: {e}"))?;
            for slice in list.items {
                slices.insert((ns.clone(), slice.name_any()), slice);
            }
        }
        Ok((services, slices))
    })
    .await
    .unwrap_or_else(|_| Err(format!("no answer within {ONCE_TIMEOUT:?}")));
    let mut state = inner.state();
    let Some(cluster) = state.clusters.get_mut(index) else {
        return;
    };
    match fetched {
        Ok((services, slices)) => {
            cluster.services = services;
            cluster.slices = slices;
            cluster.setup_error = None;
            cluster.watches = vec![WatchState::Ready];
        }
        Err(e) => cluster.watches = vec![WatchState::Failed(e)],
    }
}

/// Watches one cluster until the returned future is dropped.
pub(crate) async fn watch_cluster(inner: Arc<Inner>, index: usize) {
    let source = match inner.state().clusters.get(index) {
        Some(c) => c.source.clone(),
        None => return,
    };
    let mut failures = 0;
    let client = loop {
        match client_for(&source).await {
            Ok(c) => break c,
            Err(e) => {
                if let Some(cluster) = inner.state().clusters.get_mut(index) {
                    cluster.setup_error = Some(e);
                }
                inner.changed.notify_one();
                failures += 1;
                tokio::time::sleep(RETRY.delay(failures)).await;
            }
        }
    };
    if let Some(cluster) = inner.state().clusters.get_mut(index) {
        cluster.setup_error = None;
        cluster.watches = vec![WatchState::Syncing; inner.namespaces.len() * 2];
    }
    let mut loops = Vec::new();
    for (i, ns) in inner.namespaces.iter().enumerate() {
        let services: Api<Service> = Api::namespaced(client.clone(), ns);
        loops.push(
            watch_loop(
                inner.clone(),
                index,
                2 * i,
                ns.clone(),
                services,
                watcher::Config::default(),
            )
            .boxed(),
        );
        let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), ns);
        let config = watcher::Config::default().labels(&slice_selector(&inner.config.services, ns));
        loops.push(watch_loop(inner.clone(), index, 2 * i + 1, ns.clone(), slices, config).boxed());
    }
    futures::future::join_all(loops).await;
}

/// The resources a cluster watch keeps.
trait Watched:
    Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static
{
    const KIND: &'static str;
    fn map(data: &mut ClusterData) -> &mut ObjectMap<Self>;
    fn wanted(&self, selectors: &[ServiceSelector]) -> bool;
}

impl Watched for Service {
    const KIND: &'static str = "Services";
    fn map(data: &mut ClusterData) -> &mut ObjectMap<Self> {
        &mut data.services
    }
    fn wanted(&self, selectors: &[ServiceSelector]) -> bool {
        selected(
            selectors,
            self.metadata.namespace.as_deref().unwrap_or_default(),
            self.metadata.name.as_deref().unwrap_or_default(),
        )
    }
}

impl Watched for EndpointSlice {
    const KIND: &'static str = "EndpointSlices";
    fn map(data: &mut ClusterData) -> &mut ObjectMap<Self> {
        &mut data.slices
    }
    fn wanted(&self, _: &[ServiceSelector]) -> bool {
        true // the label selector chose them
    }
}

/// One watch, restarted from a fresh list after any error (a relist is what tells us the
/// cluster is back: a resumed watch says nothing until something changes).
async fn watch_loop<K: Watched>(
    inner: Arc<Inner>,
    cluster: usize,
    watch: usize,
    namespace: String,
    api: Api<K>,
    config: watcher::Config,
) {
    let selectors = &inner.config.services;
    let key = |o: &K| (namespace.clone(), o.name_any());
    let mut failures = 0;
    loop {
        let stream = watcher(api.clone(), config.clone());
        futures::pin_mut!(stream);
        let mut buffer = Vec::new();
        while let Some(event) = stream.next().await {
            let mut state = inner.state();
            let Some(data) = state.clusters.get_mut(cluster) else {
                return;
            };
            match event {
                Ok(watcher::Event::Init) => {
                    buffer.clear();
                    continue;
                }
                Ok(watcher::Event::InitApply(o)) => {
                    if o.wanted(selectors) {
                        buffer.push(o);
                    }
                    continue;
                }
                Ok(watcher::Event::InitDone) => {
                    let map = K::map(data);
                    map.retain(|(ns, _), _| *ns != namespace);
                    for o in buffer.drain(..) {
                        map.insert(key(&o), o);
                    }
                    if let Some(w) = data.watches.get_mut(watch) {
                        *w = WatchState::Ready;
                    }
                    failures = 0;
                }
                Ok(watcher::Event::Apply(o)) => {
                    if o.wanted(selectors) {
                        K::map(data).insert(key(&o), o);
                    }
                }
                Ok(watcher::Event::Delete(o)) => {
                    K::map(data).remove(&key(&o));
                }
                Err(e) => {
                    tracing::warn!(cluster = %data.name, kind = K::KIND, %namespace, error = %e, "watch failed");
                    if let Some(w) = data.watches.get_mut(watch) {
                        *w = WatchState::Failed(format!("{} in {namespace}: {e}", K::KIND));
                    }
                    drop(state);
                    inner.changed.notify_one();
                    break;
                }
            }
            drop(state);
            inner.changed.notify_one();
        }
        failures += 1;
        tokio::time::sleep(RETRY.delay(failures)).await;
    }
}
