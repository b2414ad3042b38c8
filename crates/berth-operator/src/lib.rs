//! Berth's operator: reconciles App and CronApp custom resources (`berth.dev/v1alpha1`) into the
//! objects `berth-render` produces, with server-side apply, and records every deploy as a
//! revision (a ControllerRevision) so rollbacks re-apply exactly what ran before.
//!
//! A plain kube-rs client: the same code runs in-process inside `berth up` and against any
//! Kubernetes cluster through a kubeconfig.
//!
//! Per App: pick the objects (the newest revision's, an older revision's when the spec equals
//! it again, or freshly rendered), apply them with the App as controller owner, prune what is
//! no longer rendered, follow the Deployment's rollout, and when it fails (progress deadline,
//! crash-looping pods) roll back to the last good revision automatically.

mod app;
mod apply;
mod context;
mod crds;
mod cron;
mod error;
mod kinds;
mod owner;
mod revisions;
pub mod rollout;
mod status;

use std::sync::Arc;

use berth_spec::meta::LABEL_OWNER;
use berth_spec::{App, CronApp};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::{Controller, watcher};
use kube::{Resource, ResourceExt};

pub use crds::{ESTABLISH_TIMEOUT, install_crds};
pub use error::OperatorError;
pub use revisions::MAX_REVISIONS;

/// What the operator watches and how it renders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorConfig {
    /// Name of the cluster, passed to the renderer (the `cluster` label).
    pub cluster: String,
    /// Namespace to watch; `None` watches all namespaces.
    pub namespace: Option<String>,
}

impl Default for OperatorConfig {
    fn default() -> Self {
        OperatorConfig {
            cluster: "berth".to_string(),
            namespace: None,
        }
    }
}

fn api<K>(client: &kube::Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// The App or CronApp a pod belongs to, by its `berth.dev/owner` label (`App.web`).
fn owner_of_pod<K: Resource<DynamicType = ()>>(pod: &Pod, kind: &str) -> Option<ObjectRef<K>> {
    let owner = pod.labels().get(LABEL_OWNER)?;
    let name = owner.strip_prefix(kind)?.strip_prefix('.')?;
    Some(ObjectRef::new(name).within(&pod.namespace()?))
}

/// Runs the App and CronApp controllers until `shutdown` resolves, then lets running reconciles
/// finish. Assumes the CRDs are installed (see [`install_crds`]): fails at once otherwise.
pub async fn run(
    client: kube::Client,
    config: OperatorConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), OperatorError> {
    let ns = config.namespace.clone();
    let apps: Api<App> = api(&client, ns.as_deref());
    let crons: Api<CronApp> = api(&client, ns.as_deref());
    // Fail early and clearly when the CRDs are missing, rather than retrying watches forever.
    apps.list(&ListParams::default().limit(1)).await?;
    crons.list(&ListParams::default().limit(1)).await?;

    tracing::info!(
        namespace = ns.as_deref().unwrap_or("(all)"),
        cluster = config.cluster,
        "starting berth operator"
    );
    let ctx = Arc::new(context::Context::new(client.clone(), config));
    let (stop_apps, apps_stopped) = tokio::sync::oneshot::channel::<()>();
    let (stop_crons, crons_stopped) = tokio::sync::oneshot::channel::<()>();

    let app_controller = Controller::new(apps, watcher::Config::default())
        .owns(
            api::<Deployment>(&client, ns.as_deref()),
            watcher::Config::default(),
        )
        .watches(
            api::<Pod>(&client, ns.as_deref()),
            watcher::Config::default().labels(LABEL_OWNER),
            |pod| owner_of_pod::<App>(&pod, app::KIND),
        )
        .graceful_shutdown_on(async move {
            let _ = apps_stopped.await;
        })
        .run(app::reconcile, app::error_policy, ctx.clone())
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "App controller");
            }
        });
    let cron_controller = Controller::new(crons, watcher::Config::default())
        .owns(
            api::<CronJob>(&client, ns.as_deref()),
            watcher::Config::default(),
        )
        .graceful_shutdown_on(async move {
            let _ = crons_stopped.await;
        })
        .run(cron::reconcile, cron::error_policy, ctx)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "CronApp controller");
            }
        });

    let controllers = futures::future::join(app_controller, cron_controller);
    tokio::pin!(controllers);
    tokio::pin!(shutdown);
    tokio::select! {
        _ = &mut shutdown => {
            let _ = stop_apps.send(());
            let _ = stop_crons.send(());
            controllers.await;
        }
        _ = &mut controllers => {}
    }
    tracing::info!("berth operator stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pods_map_to_their_app_by_label() {
        let pod: Pod = serde_json::from_value(json!({"metadata": {"name": "web-1",
            "namespace": "shop", "labels": {"berth.dev/owner": "App.web"}}}))
        .expect("pod");
        let r = owner_of_pod::<App>(&pod, "App").expect("owner");
        assert_eq!(r.name, "web");
        assert_eq!(r.namespace.as_deref(), Some("shop"));
        assert!(owner_of_pod::<CronApp>(&pod, "CronApp").is_none());
        let other: Pod = serde_json::from_value(json!({"metadata": {"name": "x",
            "namespace": "shop", "labels": {"berth.dev/owner": "Apps.web"}}}))
        .expect("pod");
        assert!(owner_of_pod::<App>(&other, "App").is_none());
    }
}
