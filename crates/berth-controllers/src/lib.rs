//! Berth's controllers: the part of kube-controller-manager that Berth runs, written as ordinary
//! kube-rs clients of the API server.
//!
//! - [`gc::GarbageCollector`]: ownerReferences semantics (background, foreground and orphan
//!   propagation; collection of dependents whose owners vanished while nothing watched).
//! - [`namespace::NamespaceController`]: deletes a terminating namespace's content, then
//!   removes the `kubernetes` finalizer so the API server can delete the namespace.
//! - [`serviceaccount::ServiceAccountController`]: the `default` ServiceAccount in every active
//!   namespace.
//! - [`rootca::RootCaPublisher`]: the `kube-root-ca.crt` ConfigMap with the cluster CA in every
//!   namespace (only when the CA is given: [`ControllerManager::with_root_ca`]).
//! - [`tokens::TokensController`]: tokens for legacy ServiceAccount token Secrets.
//! - [`endpoints::EndpointsController`] and [`endpointslice::EndpointSliceController`]: the
//!   Endpoints and EndpointSlices of Services with selectors.
//! - [`nodelifecycle::NodeLifecycleController`]: nodes whose kubelet went silent become
//!   Unknown and tainted; the taint eviction manager deletes their pods after their tolerations.
//! - [`resourcequota::ResourceQuotaController`]: ResourceQuota `status.hard` and `status.used`.
//! - [`disruption::DisruptionController`]: PodDisruptionBudget status.
//! - [`hpa::HpaController`]: HorizontalPodAutoscalers with CPU utilization targets, reading pod
//!   CPU usage from a [`hpa::PodMetricsSource`].
//!
//! [`runtime`] is the shared controller runtime (work queue, backoff, worker pool, informer,
//! shutdown helpers) that these controllers and `berth-workloads` build on.
//!
//! [`run`] (or [`ControllerManager::run`]) runs all of them until shutdown. Each controller
//! logs its errors and retries with backoff; none of them returns early or panics on data from
//! the server.

pub mod discovery;
pub mod disruption;
pub mod endpoints;
pub mod endpointslice;
pub mod error;
pub mod gc;
pub mod hpa;
pub mod namespace;
pub mod nodelifecycle;
pub mod resourcequota;
pub mod rootca;
pub mod runtime;
pub mod serviceaccount;
pub mod tokens;

mod events;
mod podutil;
mod triggertime;

use std::sync::Arc;

use kube::Client;
use tokio::sync::watch;
use tokio::task::JoinSet;

pub use disruption::DisruptionController;
pub use endpoints::EndpointsController;
pub use endpointslice::{EndpointSliceConfig, EndpointSliceController};
pub use error::Error;
pub use gc::GarbageCollector;
pub use hpa::{HpaConfig, HpaController, PodMetricsSource};
pub use namespace::NamespaceController;
pub use nodelifecycle::{NodeLifecycleConfig, NodeLifecycleController};
pub use resourcequota::{ResourceQuotaConfig, ResourceQuotaController};
pub use rootca::RootCaPublisher;
pub use serviceaccount::ServiceAccountController;
pub use tokens::TokensController;

/// Runs every controller of this crate against one API server.
pub struct ControllerManager {
    client: Client,
    node_lifecycle: NodeLifecycleConfig,
    pod_metrics: Arc<dyn PodMetricsSource>,
    root_ca: Option<String>,
}

impl ControllerManager {
    pub fn new(client: Client) -> Self {
        ControllerManager {
            client,
            node_lifecycle: NodeLifecycleConfig::default(),
            pod_metrics: Arc::new(hpa::NoMetrics),
            root_ca: None,
        }
    }

    /// Where the horizontal pod autoscaler reads pods' CPU usage (without it, autoscalers
    /// report that they receive no metrics).
    pub fn with_pod_metrics(mut self, metrics: Arc<dyn PodMetricsSource>) -> Self {
        self.pod_metrics = metrics;
        self
    }

    /// The cluster CA certificate (PEM): published in every namespace's `kube-root-ca.crt`
    /// ConfigMap and written to legacy token Secrets' `ca.crt`. Without it the root CA
    /// publisher does not run.
    pub fn with_root_ca(mut self, ca_pem: String) -> Self {
        self.root_ca = Some(ca_pem);
        self
    }

    /// Replaces the node lifecycle controller's settings (grace periods, eviction rates).
    pub fn with_node_lifecycle_config(mut self, config: NodeLifecycleConfig) -> Self {
        self.node_lifecycle = config;
        self
    }

    /// Runs every controller until `shutdown` turns true (or its sender is dropped); returns
    /// once they have stopped. Dropping the returned future stops them too.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let mut controllers = JoinSet::new();
        controllers.spawn(GarbageCollector::new(self.client.clone()).run(shutdown.clone()));
        controllers.spawn(NamespaceController::new(self.client.clone()).run(shutdown.clone()));
        controllers.spawn(ServiceAccountController::new(self.client.clone()).run(shutdown.clone()));
        if let Some(ca) = self.root_ca.clone() {
            controllers.spawn(RootCaPublisher::new(self.client.clone(), ca).run(shutdown.clone()));
        }
        controllers.spawn(
            TokensController::new(self.client.clone(), self.root_ca.clone()).run(shutdown.clone()),
        );
        controllers.spawn(EndpointsController::new(self.client.clone()).run(shutdown.clone()));
        controllers.spawn(EndpointSliceController::new(self.client.clone()).run(shutdown.clone()));
        controllers.spawn(
            NodeLifecycleController::with_config(self.client.clone(), self.node_lifecycle)
                .run(shutdown.clone()),
        );
        controllers.spawn(ResourceQuotaController::new(self.client.clone()).run(shutdown.clone()));
        controllers.spawn(DisruptionController::new(self.client.clone()).run(shutdown.clone()));
        controllers.spawn(HpaController::new(self.client, self.pod_metrics).run(shutdown));
        while let Some(result) = controllers.join_next().await {
            if let Err(e) = result
                && e.is_panic()
            {
                tracing::error!("a controller panicked: {e}");
            }
        }
    }
}

/// Runs all controllers until `shutdown` turns true; see [`ControllerManager::run`].
pub async fn run(client: Client, shutdown: watch::Receiver<bool>) {
    ControllerManager::new(client).run(shutdown).await
}

/// Logs one result of a kube-runtime controller stream.
fn log_controller_result<K, E1, E2>(
    controller: &str,
    result: Result<
        (
            kube::runtime::reflector::ObjectRef<K>,
            kube::runtime::controller::Action,
        ),
        kube::runtime::controller::Error<E1, E2>,
    >,
) where
    K: kube::Resource,
    E1: std::error::Error,
    E2: std::error::Error,
{
    use kube::runtime::controller::Error as ControllerError;
    match result {
        Ok(_) => {}
        // Already logged by the error policy.
        Err(ControllerError::ReconcilerFailed(..)) => {}
        // The object went away before its turn: nothing to do.
        Err(ControllerError::ObjectNotFound(..)) => {}
        Err(e) => tracing::warn!(controller, error = %e, "controller error; retrying"),
    }
}
