//! The service account controller (upstream `pkg/controller/serviceaccount`
//! `ServiceAccountsController`): every active namespace has a ServiceAccount named `default`,
//! created when the namespace appears and re-created if deleted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{Api, ObjectMeta, PostParams};
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::runtime::Backoff;
use crate::runtime::{shutdown_requested, wait_for_shutdown};

/// The service account every active namespace gets.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";
/// Namespaces handled at the same time (kube-controller-manager's
/// --concurrent-serviceaccount-token-syncs).
const CONCURRENT_SYNCS: u16 = 5;
const ERROR_BACKOFF: Backoff = Backoff {
    base: Duration::from_millis(500),
    max: Duration::from_secs(60),
};

/// The service account controller. Build with [`ServiceAccountController::new`], then
/// [`ServiceAccountController::run`].
pub struct ServiceAccountController {
    client: Client,
}

struct Context {
    client: Client,
    failures: Mutex<HashMap<String, u32>>,
}

impl ServiceAccountController {
    pub fn new(client: Client) -> Self {
        ServiceAccountController { client }
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        tracing::info!("starting service account controller");
        let context = Arc::new(Context {
            client: self.client.clone(),
            failures: Mutex::new(HashMap::new()),
        });
        loop {
            let namespaces: Api<Namespace> = Api::all(self.client.clone());
            let service_accounts: Api<ServiceAccount> = Api::all(self.client.clone());
            // A change to (or deletion of) any service account re-checks its namespace.
            let controller = Controller::new(namespaces, watcher::Config::default())
                .watches(
                    service_accounts,
                    watcher::Config::default(),
                    |sa: ServiceAccount| {
                        sa.metadata
                            .namespace
                            .map(|ns| ObjectRef::<Namespace>::new(&ns))
                    },
                )
                .with_config(ControllerConfig::default().concurrency(CONCURRENT_SYNCS))
                .run(reconcile, error_policy, context.clone())
                .for_each(|result| {
                    crate::log_controller_result("serviceaccount", result);
                    std::future::ready(())
                });
            tokio::select! {
                _ = controller => {
                    if shutdown_requested(&shutdown) {
                        break;
                    }
                    tracing::error!("service account controller stream ended; restarting it");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                _ = wait_for_shutdown(shutdown.clone()) => break,
            }
        }
        tracing::info!("stopped service account controller");
    }
}

/// Upstream syncs only namespaces in phase Active; a namespace without a phase yet (just
/// created) and without a deletionTimestamp is active too.
pub(crate) fn is_active(namespace: &Namespace) -> bool {
    let phase = namespace.status.as_ref().and_then(|s| s.phase.as_deref());
    namespace.metadata.deletion_timestamp.is_none() && matches!(phase, None | Some("Active"))
}

async fn reconcile(namespace: Arc<Namespace>, context: Arc<Context>) -> Result<Action> {
    let name = namespace.name_any();
    context
        .failures
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&name);
    if !is_active(&namespace) {
        return Ok(Action::await_change());
    }
    let api: Api<ServiceAccount> = Api::namespaced(context.client.clone(), &name);
    if api.get_opt(DEFAULT_SERVICE_ACCOUNT).await?.is_some() {
        return Ok(Action::await_change());
    }
    let account = ServiceAccount {
        metadata: ObjectMeta {
            name: Some(DEFAULT_SERVICE_ACCOUNT.to_string()),
            ..ObjectMeta::default()
        },
        ..ServiceAccount::default()
    };
    match api
        .create(&PostParams::default(), &account)
        .await
        .map_err(Error::from)
    {
        Ok(_) => tracing::info!(namespace = name, "created the default service account"),
        Err(e) if e.is_already_exists() || is_namespace_terminating(&e) => {}
        Err(e) => return Err(e),
    }
    Ok(Action::await_change())
}

/// Creation refused because the namespace started terminating meanwhile.
pub(crate) fn is_namespace_terminating(error: &Error) -> bool {
    match error {
        Error::Kube(kube::Error::Api(status)) => {
            status.code == 403
                && (status
                    .details
                    .as_ref()
                    .is_some_and(|d| d.causes.iter().any(|c| c.reason == "NamespaceTerminating"))
                    || status.message.contains("being terminated"))
        }
        _ => false,
    }
}

fn error_policy(namespace: Arc<Namespace>, error: &Error, context: Arc<Context>) -> Action {
    let name = namespace.name_any();
    let failures = {
        let mut failures = context.failures.lock().unwrap_or_else(|p| p.into_inner());
        let n = failures.entry(name.clone()).or_insert(0);
        *n = n.saturating_add(1);
        *n
    };
    tracing::warn!(namespace = name, error = %error, failures, "ensuring the default service account failed; retrying");
    Action::requeue(ERROR_BACKOFF.delay(failures))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::NamespaceStatus;

    fn ns(phase: Option<&str>, deleting: bool) -> Namespace {
        Namespace {
            metadata: ObjectMeta {
                name: Some("n".into()),
                deletion_timestamp: deleting.then_some(
                    k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                        k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
                    ),
                ),
                ..ObjectMeta::default()
            },
            status: Some(NamespaceStatus {
                phase: phase.map(str::to_string),
                conditions: None,
            }),
            ..Namespace::default()
        }
    }

    #[test]
    fn only_active_namespaces_get_the_default_account() {
        assert!(is_active(&ns(Some("Active"), false)));
        assert!(is_active(&ns(None, false)));
        assert!(!is_active(&ns(Some("Terminating"), false)));
        assert!(!is_active(&ns(Some("Active"), true)));
    }
}
