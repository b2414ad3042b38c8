//! The root CA certificate publisher (upstream `pkg/controller/certificates/rootcacertpublisher`):
//! every namespace has a ConfigMap `kube-root-ca.crt` whose `ca.crt` is the cluster CA, so that
//! pods can verify the API server through projected volumes. It is created when a namespace
//! appears, re-created when deleted and restored when edited.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ObjectMeta, PostParams};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use tokio::sync::watch;

use crate::error::Result;
use crate::runtime::{Backoff, Change, Informer, WorkQueue, run_workers, wait_for_shutdown};

/// The ConfigMap published in every namespace (upstream `RootCACertConfigMapName`).
pub const ROOT_CA_CONFIG_MAP: &str = "kube-root-ca.crt";
/// The key holding the CA bundle.
pub const CA_KEY: &str = "ca.crt";
/// Upstream `DescriptionAnnotation` and its value.
pub const DESCRIPTION_ANNOTATION: &str = "kubernetes.io/description";
pub const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";
/// kube-controller-manager's --concurrent-rootca-cert-publisher-syncs (default 5).
const WORKERS: usize = 5;
const BACKOFF: Backoff = Backoff {
    base: Duration::from_millis(5),
    max: Duration::from_secs(1000),
};

/// The root CA publisher. Build with [`RootCaPublisher::new`], then [`RootCaPublisher::run`].
pub struct RootCaPublisher {
    client: Client,
    ca_pem: String,
}

struct Shared {
    client: Client,
    ca_pem: String,
    config_maps: Store<ConfigMap>,
}

impl RootCaPublisher {
    /// `ca_pem` is the cluster CA certificate (PEM) that pods use to verify the API server.
    pub fn new(client: Client, ca_pem: String) -> Self {
        RootCaPublisher { client, ca_pem }
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        tracing::info!("starting root CA certificate publisher");
        // Keys are namespace names.
        let queue: Arc<WorkQueue<String>> = WorkQueue::new(BACKOFF);
        let q = queue.clone();
        let namespaces = Informer::start(
            Api::<Namespace>::all(self.client.clone()),
            watcher::Config::default(),
            move |change, store: &Store<Namespace>| match change {
                Change::Applied(ns) => {
                    if crate::serviceaccount::is_active(ns) {
                        q.add(ns.name_any());
                    }
                }
                Change::Deleted(_) => {}
                Change::Resynced => {
                    for ns in store.state() {
                        if crate::serviceaccount::is_active(&ns) {
                            q.add(ns.name_any());
                        }
                    }
                }
            },
        );
        let q = queue.clone();
        let config_maps = Informer::start(
            Api::<ConfigMap>::all(self.client.clone()),
            watcher::Config::default().fields(&format!("metadata.name={ROOT_CA_CONFIG_MAP}")),
            move |change, _: &Store<ConfigMap>| match change {
                Change::Applied(cm) | Change::Deleted(cm) => {
                    if let Some(ns) = cm.namespace() {
                        q.add(ns);
                    }
                }
                // Namespaces are all queued by the namespace informer's resync.
                Change::Resynced => {}
            },
        );
        tokio::select! {
            _ = async { namespaces.ready().await; config_maps.ready().await } => {}
            _ = wait_for_shutdown(shutdown.clone()) => return,
        }
        let shared = Arc::new(Shared {
            client: self.client,
            ca_pem: self.ca_pem,
            config_maps: config_maps.store.clone(),
        });
        run_workers(
            "root-ca-cert-publisher",
            queue,
            WORKERS,
            shutdown,
            move |ns| {
                let shared = shared.clone();
                async move { shared.sync(&ns).await }
            },
        )
        .await;
        tracing::info!("stopped root CA certificate publisher");
    }
}

impl Shared {
    async fn sync(&self, namespace: &str) -> Result<()> {
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), namespace);
        let cached = self
            .config_maps
            .get(&ObjectRef::new(ROOT_CA_CONFIG_MAP).within(namespace));
        let Some(cached) = cached else {
            let cm = ConfigMap {
                metadata: ObjectMeta {
                    name: Some(ROOT_CA_CONFIG_MAP.to_string()),
                    annotations: Some(BTreeMap::from([(
                        DESCRIPTION_ANNOTATION.to_string(),
                        DESCRIPTION.to_string(),
                    )])),
                    ..ObjectMeta::default()
                },
                data: Some(self.desired_data()),
                ..ConfigMap::default()
            };
            return match api.create(&PostParams::default(), &cm).await {
                Ok(_) => {
                    tracing::debug!(namespace, "published the root CA ConfigMap");
                    Ok(())
                }
                // Don't retry when the namespace is gone or terminating (as upstream).
                Err(e) => {
                    let e = crate::error::Error::from(e);
                    if e.is_not_found() || crate::serviceaccount::is_namespace_terminating(&e) {
                        Ok(())
                    } else {
                        Err(e)
                    }
                }
            };
        };
        if !needs_update(&cached, &self.ca_pem) {
            return Ok(());
        }
        // The cached object carries its resourceVersion, so a concurrent change makes this
        // fail with a conflict and the key comes back once the cache has caught up.
        let mut cm = (*cached).clone();
        cm.data = Some(self.desired_data());
        cm.binary_data = None;
        cm.annotations_mut()
            .insert(DESCRIPTION_ANNOTATION.to_string(), DESCRIPTION.to_string());
        api.replace(ROOT_CA_CONFIG_MAP, &PostParams::default(), &cm)
            .await?;
        tracing::debug!(namespace, "restored the root CA ConfigMap");
        Ok(())
    }

    fn desired_data(&self) -> BTreeMap<String, String> {
        BTreeMap::from([(CA_KEY.to_string(), self.ca_pem.clone())])
    }
}

/// Whether the ConfigMap's data differs from exactly `{ca.crt: ca_pem}` or it lacks the
/// description annotation (upstream compares the same two things).
fn needs_update(cm: &ConfigMap, ca_pem: &str) -> bool {
    let data_ok = cm
        .data
        .as_ref()
        .is_some_and(|d| d.len() == 1 && d.get(CA_KEY).map(String::as_str) == Some(ca_pem));
    let annotated = cm
        .annotations()
        .get(DESCRIPTION_ANNOTATION)
        .is_some_and(|v| !v.is_empty());
    !(data_ok && annotated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(data: &[(&str, &str)], described: bool) -> ConfigMap {
        let mut cm = ConfigMap {
            data: Some(
                data.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..ConfigMap::default()
        };
        if described {
            cm.annotations_mut()
                .insert(DESCRIPTION_ANNOTATION.into(), "x".into());
        }
        cm
    }

    #[test]
    fn update_needed_when_data_or_annotation_differ() {
        assert!(!needs_update(&cm(&[("ca.crt", "PEM")], true), "PEM"));
        assert!(needs_update(&cm(&[("ca.crt", "PEM")], false), "PEM"));
        assert!(needs_update(&cm(&[("ca.crt", "OTHER")], true), "PEM"));
        assert!(needs_update(
            &cm(&[("ca.crt", "PEM"), ("extra", "x")], true),
            "PEM"
        ));
        assert!(needs_update(&cm(&[], true), "PEM"));
    }
}
