//! Berth's controllers: the part of kube-controller-manager that Berth runs, written as ordinary
//! kube-rs clients of the API server.
//!
//! - [`gc::GarbageCollector`]: ownerReferences semantics (background, foreground and orphan
//!   propagation; collection of dependents whose owners vanished while nothing watched).
//! - [`namespace::NamespaceController`]: deletes a terminating namespace's content, then
//!   removes the `kubernetes` finalizer so the API server can delete the namespace.
//! - [`serviceaccount::ServiceAccountController`]: the `default` ServiceAccount in every active
//!   namespace.
//!
//! [`run`] (or [`ControllerManager::run`]) runs all of them until shutdown. Each controller
//! logs its errors and retries with backoff; none of them returns early or panics on data from
//! the server.

pub mod discovery;
pub mod error;
pub mod gc;
pub mod namespace;
pub mod serviceaccount;

mod queue;
mod task;

use kube::Client;
use tokio::sync::watch;
use tokio::task::JoinSet;

pub use error::Error;
pub use gc::GarbageCollector;
pub use namespace::NamespaceController;
pub use serviceaccount::ServiceAccountController;

/// Runs every controller of this crate against one API server.
pub struct ControllerManager {
    client: Client,
}

impl ControllerManager {
    pub fn new(client: Client) -> Self {
        ControllerManager { client }
    }

    /// Runs the garbage collector, the namespace controller and the service account controller
    /// until `shutdown` turns true (or its sender is dropped); returns once they have stopped.
    /// Dropping the returned future stops them too.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let mut controllers = JoinSet::new();
        controllers.spawn(GarbageCollector::new(self.client.clone()).run(shutdown.clone()));
        controllers.spawn(NamespaceController::new(self.client.clone()).run(shutdown.clone()));
        controllers.spawn(ServiceAccountController::new(self.client).run(shutdown));
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
