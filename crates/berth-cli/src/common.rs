//! Helpers shared by the commands: reading Apps and CronApps with clear "not found" errors,
//! revisions, patches.

use berth_spec::meta::{LABEL_OWNER, owner_value};
use berth_spec::{App, CronApp, RevisionRecord};
use k8s_openapi::api::apps::v1::ControllerRevision;
use kube::Resource;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::Value;

use crate::CliError;

/// Field manager of the CLI's applies and patches.
pub const CLI_FIELD_MANAGER: &str = "berth-cli";

/// Server-side apply, forced, as `berth-cli`.
pub fn apply_params() -> PatchParams {
    PatchParams::apply(CLI_FIELD_MANAGER).force()
}

/// A merge patch (or strategic merge) attributed to `berth-cli`.
pub fn patch_params() -> PatchParams {
    PatchParams {
        field_manager: Some(CLI_FIELD_MANAGER.to_string()),
        ..Default::default()
    }
}

/// `404` from the API server.
pub fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

pub async fn get_app(client: &kube::Client, namespace: &str, name: &str) -> Result<App, CliError> {
    let api: Api<App> = Api::namespaced(client.clone(), namespace);
    match api.get(name).await {
        Ok(app) => Ok(app),
        Err(e) if is_not_found(&e) => Err(CliError::not_found("App", name, namespace)),
        Err(e) => Err(e.into()),
    }
}

pub async fn get_cron(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<CronApp, CliError> {
    let api: Api<CronApp> = Api::namespaced(client.clone(), namespace);
    match api.get(name).await {
        Ok(c) => Ok(c),
        Err(e) if is_not_found(&e) => Err(CliError::not_found("CronApp", name, namespace)),
        Err(e) => Err(e.into()),
    }
}

/// An App or a CronApp of that name (the App first).
pub enum Owned {
    App(Box<App>),
    Cron(Box<CronApp>),
}

impl Owned {
    pub fn kind(&self) -> &'static str {
        match self {
            Owned::App(_) => "App",
            Owned::Cron(_) => "CronApp",
        }
    }
}

pub async fn get_app_or_cron(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Owned, CliError> {
    let apps: Api<App> = Api::namespaced(client.clone(), namespace);
    if let Some(app) = apps.get_opt(name).await? {
        return Ok(Owned::App(Box::new(app)));
    }
    let crons: Api<CronApp> = Api::namespaced(client.clone(), namespace);
    match crons.get_opt(name).await {
        Ok(Some(cron)) => Ok(Owned::Cron(Box::new(cron))),
        // CronApp's CRD may be missing while App's is installed.
        Ok(None) | Err(kube::Error::Api(_)) => Err(CliError::not_found("App", name, namespace)),
        Err(e) => Err(e.into()),
    }
}

/// The label selector of everything an App/CronApp owns.
pub fn owner_selector(kind: &str, name: &str) -> String {
    format!("{LABEL_OWNER}={}", owner_value(kind, name))
}

/// One recorded revision of an App.
#[derive(Clone, Debug, PartialEq)]
pub struct Revision {
    pub number: i64,
    pub name: String,
    pub record: RevisionRecord,
}

/// The revisions of an App (ControllerRevisions labelled with its owner value and owned by this
/// App's uid, so a deleted namesake's leftovers are not shown), oldest first.
pub async fn list_revisions(client: &kube::Client, app: &App) -> Result<Vec<Revision>, CliError> {
    let namespace = app.meta().namespace.clone().unwrap_or_default();
    let name = app.meta().name.clone().unwrap_or_default();
    let uid = app.meta().uid.clone().unwrap_or_default();
    let api: Api<ControllerRevision> = Api::namespaced(client.clone(), &namespace);
    let list = api
        .list(&ListParams::default().labels(&owner_selector("App", &name)))
        .await?;
    Ok(berth_spec::meta::owned_revisions(list.items, &uid)
        .into_iter()
        .map(|(number, name, record)| Revision {
            number,
            name,
            record,
        })
        .collect())
}

/// JSON merge patch of an App, attributed to `berth-cli`; returns the patched App. Used for
/// single fields (`replicas`, `debug`): a server-side apply of one field by the manager that
/// applied the whole spec would remove every other field it owns.
pub async fn merge_patch_app(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    patch: &Value,
) -> Result<App, CliError> {
    let api: Api<App> = Api::namespaced(client.clone(), namespace);
    match api.patch(name, &patch_params(), &Patch::Merge(patch)).await {
        Ok(app) => Ok(app),
        Err(e) if is_not_found(&e) => Err(CliError::not_found("App", name, namespace)),
        Err(e) => Err(e.into()),
    }
}

/// Now, RFC 3339 to the second (what Kubernetes timestamps look like).
pub fn now_rfc3339() -> String {
    let now = k8s_openapi::jiff::Timestamp::now();
    k8s_openapi::jiff::Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string()
}

/// The image an App runs: what the operator reported, else the spec's, else its runtime's.
pub fn app_image(app: &App) -> String {
    if let Some(image) = app.status.as_ref().and_then(|s| s.image.clone()) {
        return image;
    }
    spec_image(app.spec.image.as_deref(), app.spec.runtime.as_deref())
}

pub fn spec_image(image: Option<&str>, runtime: Option<&str>) -> String {
    match (image, runtime) {
        (Some(i), _) => i.to_string(),
        (None, Some(r)) => berth_spec::runtime::Runtime::parse(r)
            .map(|r| r.image())
            .unwrap_or_else(|_| format!("<runtime {r}>")),
        (None, None) => "<none>".to_string(),
    }
}
