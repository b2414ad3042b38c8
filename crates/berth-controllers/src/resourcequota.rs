//! The resource quota controller (upstream `pkg/controller/resourcequota`): keeps every
//! ResourceQuota's `status.hard` equal to `spec.hard` and `status.used` equal to what the
//! namespace's objects use (pods and their compute requests and limits, services and their
//! node ports and load balancers, persistent volume claims and their storage, and
//! `count/<resource>[.<group>]` of any resource). A quota is recalculated when it changes, when
//! objects of the usual kinds change in its namespace (upstream's replenishment), and every
//! [`ResourceQuotaConfig::resync_period`] for everything else.
//!
//! The API server's ResourceQuota admission charges new objects to `status.used` as they are
//! created; this controller corrects the figures after deletions and missed updates.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use berth_apimachinery::quota::{self as quotausage, LEGACY_COUNTED, ResourceList};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, Pod, ReplicationController, ResourceQuota,
    ResourceQuotaStatus, Secret, Service,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as ApiQuantity;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, PartialObjectMeta, PostParams};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::watch;

use crate::discovery::{self, ServedResources};
use crate::error::Result;
use crate::runtime::{
    AbortOnDrop, Backoff, Change, Informer, ObjectKey, WorkQueue, key_of, run_workers,
};

const BACKOFF: Backoff = Backoff {
    base: Duration::from_millis(5),
    max: Duration::from_secs(60),
};

/// Settings of the controller (kube-controller-manager flags); [`Default`] has upstream's.
#[derive(Debug, Clone)]
pub struct ResourceQuotaConfig {
    /// --resource-quota-sync-period: full recalculation of every quota.
    pub resync_period: Duration,
    /// --concurrent-resource-quota-syncs.
    pub workers: usize,
}

impl Default for ResourceQuotaConfig {
    fn default() -> Self {
        ResourceQuotaConfig {
            resync_period: Duration::from_secs(300),
            workers: 5,
        }
    }
}

/// The resource quota controller. Build with [`ResourceQuotaController::new`], then
/// [`ResourceQuotaController::run`].
pub struct ResourceQuotaController {
    client: Client,
    config: ResourceQuotaConfig,
}

struct Shared {
    client: Client,
    quotas: Store<ResourceQuota>,
    /// Discovery results, refreshed when a `count/` names a resource not (yet) in them.
    served: Mutex<Option<Arc<ServedResources>>>,
}

impl ResourceQuotaController {
    pub fn new(client: Client) -> Self {
        Self::with_config(client, ResourceQuotaConfig::default())
    }

    pub fn with_config(client: Client, config: ResourceQuotaConfig) -> Self {
        ResourceQuotaController { client, config }
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        tracing::info!("starting resource quota controller");
        let queue: Arc<WorkQueue<ObjectKey>> = WorkQueue::new(BACKOFF);
        let q = queue.clone();
        let quotas = Informer::start(
            Api::<ResourceQuota>::all(self.client.clone()),
            watcher::Config::default(),
            move |change, store| match change {
                // Status updates (ours, and the API server's charges) are no reason to
                // recalculate: a charge for an object not stored yet would be undone.
                Change::Applied(rq) if needs_status(rq) => q.add(key_of(rq)),
                Change::Applied(_) => {}
                Change::Deleted(_) => {}
                Change::Resynced => {
                    for rq in store.state() {
                        q.add(key_of(rq.as_ref()));
                    }
                }
            },
        );
        let store = quotas.store.clone();
        let _replenishment = [
            replenish::<Pod>(&self.client, &queue, &store),
            replenish::<Service>(&self.client, &queue, &store),
            replenish::<PersistentVolumeClaim>(&self.client, &queue, &store),
            replenish::<ConfigMap>(&self.client, &queue, &store),
            replenish::<Secret>(&self.client, &queue, &store),
            replenish::<ReplicationController>(&self.client, &queue, &store),
        ];
        let q = queue.clone();
        let period = self.config.resync_period;
        let _resync = AbortOnDrop::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.tick().await;
            loop {
                tick.tick().await;
                for rq in store.state() {
                    q.add(key_of(rq.as_ref()));
                }
            }
        });
        tokio::select! {
            _ = quotas.ready() => {}
            _ = crate::runtime::wait_for_shutdown(shutdown.clone()) => return,
        }
        let shared = Arc::new(Shared {
            client: self.client,
            quotas: quotas.store.clone(),
            served: Mutex::new(None),
        });
        run_workers(
            "resourcequota",
            queue,
            self.config.workers,
            shutdown,
            move |key| {
                let shared = shared.clone();
                async move { shared.sync(&key).await }
            },
        )
        .await;
        tracing::info!("stopped resource quota controller");
    }
}

/// Watches the metadata of one kind and queues the quotas of the namespace of every change.
fn replenish<K>(
    client: &Client,
    queue: &Arc<WorkQueue<ObjectKey>>,
    quotas: &Store<ResourceQuota>,
) -> AbortOnDrop
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    // Metadata only: these changes are triggers, the sync lists what it counts.
    let api: Api<PartialObjectMeta<K>> = Api::all(client.clone());
    let queue = queue.clone();
    let quotas = quotas.clone();
    AbortOnDrop::spawn(async move {
        let stream = watcher(api, watcher::Config::default()).default_backoff();
        futures::pin_mut!(stream);
        while let Some(event) = stream.next().await {
            let namespace = match &event {
                Ok(watcher::Event::Apply(o) | watcher::Event::Delete(o)) => {
                    o.metadata.namespace.clone()
                }
                _ => None,
            };
            let Some(ns) = namespace else { continue };
            for rq in quotas.state() {
                if rq.metadata.namespace.as_deref() == Some(ns.as_str()) {
                    queue.add(key_of(rq.as_ref()));
                }
            }
        }
    })
}

/// `status.hard` differs from `spec.hard`, or some hard resource has no usage yet.
fn needs_status(quota: &ResourceQuota) -> bool {
    let spec_hard = quota.spec.as_ref().and_then(|s| s.hard.as_ref());
    let status = quota.status.as_ref();
    let status_hard = status.and_then(|s| s.hard.as_ref());
    let used = status.and_then(|s| s.used.as_ref());
    spec_hard != status_hard
        || spec_hard
            .into_iter()
            .flatten()
            .any(|(k, _)| used.is_none_or(|u| !u.contains_key(k)))
}

/// Whether a hard resource is accounted from pods.
fn is_pod_resource(name: &str) -> bool {
    matches!(
        name,
        "pods" | "count/pods" | "cpu" | "memory" | "ephemeral-storage"
    ) || name.starts_with("requests.")
        || name.starts_with("limits.")
        || name.starts_with("hugepages-")
}

impl Shared {
    async fn sync(&self, key: &ObjectKey) -> Result<()> {
        let (ns, name) = key;
        let Some(quota) = self.quotas.get(&ObjectRef::new(name).within(ns)) else {
            return Ok(());
        };
        let quota_json = serde_json::to_value(quota.as_ref())?;
        let hard = quotausage::parse_list(quota_json.pointer("/spec/hard"));
        let used = self.usage(ns, &quota_json, &hard).await?;
        let status_hard = quotausage::parse_list(quota_json.pointer("/status/hard"));
        let status_used = quotausage::parse_list(quota_json.pointer("/status/used"));
        if status_hard == hard && status_used == used {
            return Ok(());
        }
        let to_api = |list: &ResourceList| {
            quotausage::to_strings(list)
                .into_iter()
                .map(|(k, v)| (k, ApiQuantity(v)))
                .collect()
        };
        let mut updated = quota.as_ref().clone();
        updated.status = Some(ResourceQuotaStatus {
            hard: Some(to_api(&hard)),
            used: Some(to_api(&used)),
        });
        let api: Api<ResourceQuota> = Api::namespaced(self.client.clone(), ns);
        match api
            .replace_status(name, &PostParams::default(), &updated)
            .await
            .map_err(crate::Error::from)
        {
            Ok(_) => Ok(()),
            // Gone, or changed meanwhile: the informer brings the change back.
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// What the namespace uses of each hard resource (`CalculateUsage`).
    async fn usage(&self, ns: &str, quota: &Value, hard: &ResourceList) -> Result<ResourceList> {
        let names: Vec<&str> = hard.keys().map(String::as_str).collect();
        let scoped = quotausage::has_scopes(quota);
        let mut used = ResourceList::new();
        if names.iter().any(|n| is_pod_resource(n)) {
            let now = jiff::Timestamp::now();
            for pod in self.list_json::<Pod>(ns).await? {
                if pod_counts(&pod, now)
                    && quotausage::scopes_match(quota, "", "pods", &pod, |pod| {
                        pod.pointer("/status/qosClass").and_then(Value::as_str)
                            == Some("BestEffort")
                    })
                {
                    quotausage::add_into(&mut used, &quotausage::pod_usage(&pod));
                }
            }
        }
        if !scoped {
            if names
                .iter()
                .any(|n| matches!(*n, "services" | "count/services") || n.starts_with("services."))
            {
                let services = self.list_json::<Service>(ns).await?;
                for svc in &services {
                    quotausage::add_into(&mut used, &quotausage::service_usage(svc));
                }
                let count = quotausage_count(services.len());
                used.insert("services".into(), count.clone());
                used.insert("count/services".into(), count);
            }
            if names.iter().any(|n| {
                matches!(
                    *n,
                    "persistentvolumeclaims" | "count/persistentvolumeclaims" | "requests.storage"
                ) || n.contains(".storageclass.storage.k8s.io/")
            }) {
                let pvcs = self.list_json::<PersistentVolumeClaim>(ns).await?;
                for pvc in &pvcs {
                    quotausage::add_into(&mut used, &quotausage::pvc_usage(pvc));
                }
                let count = quotausage_count(pvcs.len());
                used.insert("persistentvolumeclaims".into(), count.clone());
                used.insert("count/persistentvolumeclaims".into(), count);
            }
            for name in &names {
                if used.contains_key(*name) {
                    continue;
                }
                let (group, resource) = match name.strip_prefix("count/") {
                    Some(rest) => match rest.split_once('.') {
                        Some((r, g)) => (g.to_string(), r.to_string()),
                        None => (String::new(), rest.to_string()),
                    },
                    None if LEGACY_COUNTED.contains(name) => (String::new(), name.to_string()),
                    None => continue,
                };
                if let Some(n) = self.count(ns, &group, &resource).await? {
                    used.insert(name.to_string(), quotausage_count(n));
                }
            }
        }
        // Only what the quota limits, and zero for what nothing uses.
        let mut masked = ResourceList::new();
        for name in names {
            let q = used
                .get(name)
                .cloned()
                .unwrap_or_else(berth_apimachinery::quantity::Quantity::zero);
            masked.insert(name.to_string(), q);
        }
        Ok(masked)
    }

    async fn list_json<K>(&self, ns: &str) -> Result<Vec<Value>>
    where
        K: Resource<DynamicType = ()>,
    {
        // Untyped: one odd object must not stop the accounting of the others.
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), ns, &ApiResource::erase::<K>(&()));
        let list = api.list(&ListParams::default()).await?;
        Ok(list
            .items
            .into_iter()
            .filter_map(|o| serde_json::to_value(o).ok())
            .collect())
    }

    /// How many objects of a resource the namespace holds; `None` if it is not served.
    async fn count(&self, ns: &str, group: &str, resource: &str) -> Result<Option<usize>> {
        let Some(api_resource) = self.resolve(group, resource).await? else {
            return Ok(None);
        };
        let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), ns, &api_resource);
        Ok(Some(
            api.list_metadata(&ListParams::default()).await?.items.len(),
        ))
    }

    async fn resolve(&self, group: &str, resource: &str) -> Result<Option<ApiResource>> {
        let find = |served: &ServedResources| {
            served
                .preferred()
                .iter()
                .find(|r| {
                    r.api_resource.group == group
                        && r.api_resource.plural == resource
                        && r.namespaced
                })
                .map(|r| r.api_resource.clone())
        };
        let cached = self
            .served
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(found) = cached.as_deref().and_then(find) {
            return Ok(Some(found));
        }
        let served = Arc::new(discovery::discover(&self.client).await?);
        let found = find(&served);
        *self.served.lock().unwrap_or_else(|p| p.into_inner()) = Some(served);
        Ok(found)
    }
}

/// Whether a pod still counts (`QuotaV1Pod`): not finished, and not past its deletion grace.
fn pod_counts(pod: &Value, now: jiff::Timestamp) -> bool {
    let phase = pod.pointer("/status/phase").and_then(Value::as_str);
    if matches!(phase, Some("Succeeded") | Some("Failed")) {
        return false;
    }
    let deleted = pod
        .pointer("/metadata/deletionTimestamp")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let grace = pod
        .pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64);
    match (deleted, grace) {
        (Some(t), Some(g)) => now < t + jiff::SignedDuration::from_secs(g),
        _ => true,
    }
}

fn quotausage_count(n: usize) -> berth_apimachinery::quantity::Quantity {
    berth_apimachinery::quantity::Quantity::from_i64(i64::try_from(n).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finished_pods_do_not_count() {
        let now = jiff::Timestamp::now();
        assert!(pod_counts(&json!({"status": {"phase": "Running"}}), now));
        assert!(!pod_counts(&json!({"status": {"phase": "Succeeded"}}), now));
        let past = (now - jiff::SignedDuration::from_secs(60)).to_string();
        assert!(!pod_counts(
            &json!({"metadata": {"deletionTimestamp": past, "deletionGracePeriodSeconds": 30}}),
            now
        ));
    }
}
