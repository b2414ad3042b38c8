//! Installs the App and CronApp CustomResourceDefinitions.

use std::time::Duration;

use berth_spec::meta::FIELD_MANAGER;
use berth_spec::{App, CronApp};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
use kube::api::{Api, Patch, PatchParams};

use crate::OperatorError;

/// How long [`install_crds`] waits for the CRDs to be served.
pub const ESTABLISH_TIMEOUT: Duration = Duration::from_secs(30);

/// Server-side applies the App and CronApp CRDs (field manager
/// [`berth_spec::meta::FIELD_MANAGER`], forced) and waits (at most 30 s) until both are
/// Established. Idempotent: applying the same definitions again changes nothing.
pub async fn install_crds(client: &kube::Client) -> Result<(), OperatorError> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let crds = [App::crd(), CronApp::crd()];
    for crd in &crds {
        let name = crd.metadata.name.clone().unwrap_or_default();
        api.patch(&name, &params, &Patch::Apply(crd)).await?;
        tracing::debug!(crd = name, "applied CustomResourceDefinition");
    }
    let deadline = tokio::time::Instant::now() + ESTABLISH_TIMEOUT;
    for crd in &crds {
        let name = crd.metadata.name.clone().unwrap_or_default();
        loop {
            let current = api.get(&name).await?;
            if is_established(&current) {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(OperatorError::CrdNotEstablished {
                    name,
                    timeout: ESTABLISH_TIMEOUT,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    tracing::info!("App and CronApp CustomResourceDefinitions are established");
    Ok(())
}

fn is_established(crd: &CustomResourceDefinition) -> bool {
    crd.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|conds| {
            conds
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        })
}
