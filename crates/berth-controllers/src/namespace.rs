//! The namespace lifecycle controller (upstream `pkg/controller/namespace`): a namespace being
//! deleted keeps the `kubernetes` finalizer in `spec.finalizers` until this controller has
//! deleted everything in it; then the controller removes the finalizer through the `finalize`
//! subresource and the API server deletes the namespace.
//!
//! While content remains, the namespace's status conditions say why (upstream
//! `status_condition_utils.go`), and the namespace is looked at again: after about half the
//! longest pod grace period, or 8 s when objects wait on finalizers, or with backoff after errors.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, NamespaceCondition, NamespaceStatus, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, ListParams, PartialObjectMeta, PostParams,
};
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use tokio::sync::watch;

use crate::discovery::{self, ResourceKey, ServedResource, ServedResources};
use crate::error::{Error, Result};
use crate::runtime::Backoff;
use crate::runtime::{shutdown_requested, wait_for_shutdown};

/// The finalizer token of this controller in a namespace's `spec.finalizers`.
pub const FINALIZER_KUBERNETES: &str = "kubernetes";
/// Assumed time for objects with finalizers to go (upstream `finalizerEstimateSeconds`).
const FINALIZER_ESTIMATE_SECONDS: i64 = 15;
const CONFLICT_RETRIES: usize = 10;
/// Namespaces deleted at the same time (kube-controller-manager's --concurrent-namespace-syncs).
const CONCURRENT_NAMESPACE_SYNCS: u16 = 10;
const ERROR_BACKOFF: Backoff = Backoff {
    base: Duration::from_millis(500),
    max: Duration::from_secs(30),
};

type MetadataApi = Api<PartialObjectMeta<DynamicObject>>;

/// The namespace lifecycle controller. Build with [`NamespaceController::new`], then
/// [`NamespaceController::run`].
pub struct NamespaceController {
    client: Client,
}

struct Context {
    deleter: NamespacedResourcesDeleter,
    failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    fn reset_failures(&self, name: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
    }

    fn next_failure(&self, name: &str) -> u32 {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let n = failures.entry(name.to_string()).or_insert(0);
        *n = n.saturating_add(1);
        *n
    }
}

impl NamespaceController {
    pub fn new(client: Client) -> Self {
        NamespaceController { client }
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        tracing::info!("starting namespace controller");
        let context = Arc::new(Context {
            deleter: NamespacedResourcesDeleter {
                client: self.client.clone(),
            },
            failures: Mutex::new(HashMap::new()),
        });
        loop {
            let api: Api<Namespace> = Api::all(self.client.clone());
            let controller = Controller::new(api, watcher::Config::default())
                .with_config(ControllerConfig::default().concurrency(CONCURRENT_NAMESPACE_SYNCS))
                .run(reconcile, error_policy, context.clone())
                .for_each(|result| {
                    crate::log_controller_result("namespace", result);
                    std::future::ready(())
                });
            tokio::select! {
                _ = controller => {
                    if shutdown_requested(&shutdown) {
                        break;
                    }
                    tracing::error!("namespace controller stream ended; restarting it");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                _ = wait_for_shutdown(shutdown.clone()) => break,
            }
        }
        tracing::info!("stopped namespace controller");
    }
}

async fn reconcile(namespace: Arc<Namespace>, context: Arc<Context>) -> Result<Action> {
    let name = namespace.name_any();
    if namespace.metadata.deletion_timestamp.is_none() {
        context.reset_failures(&name);
        return Ok(Action::await_change());
    }
    let progress = context.deleter.delete(&name).await?;
    context.reset_failures(&name);
    Ok(match progress {
        DeletionProgress::Finished => Action::await_change(),
        DeletionProgress::ContentRemaining { estimate_seconds } => {
            tracing::debug!(
                namespace = name,
                estimate_seconds,
                "content remains in namespace; checking again later"
            );
            Action::requeue(Duration::from_secs(
                u64::try_from(estimate_seconds / 2 + 1).unwrap_or(1),
            ))
        }
    })
}

fn error_policy(namespace: Arc<Namespace>, error: &Error, context: Arc<Context>) -> Action {
    let name = namespace.name_any();
    let failures = context.next_failure(&name);
    tracing::warn!(namespace = name, error = %error, failures, "deleting namespace content failed; retrying");
    Action::requeue(ERROR_BACKOFF.delay(failures))
}

/// Where deleting a namespace's content stands.
#[derive(Debug, PartialEq, Eq)]
enum DeletionProgress {
    /// Nothing more to do: finalized (or not being deleted, or gone).
    Finished,
    /// Content remains; look again in about this many seconds.
    ContentRemaining { estimate_seconds: i64 },
}

/// Deletes all resources in a namespace (upstream `namespacedResourcesDeleter`).
struct NamespacedResourcesDeleter {
    client: Client,
}

enum NamespaceUpdate {
    MarkTerminating,
    Finalize,
}

/// How much of one resource is left in the namespace (upstream `gvrDeletionMetadata`).
#[derive(Debug, Default, Clone, PartialEq)]
struct ResourceRemaining {
    estimate_seconds: i64,
    count: usize,
    finalizers: BTreeMap<String, usize>,
}

impl NamespacedResourcesDeleter {
    fn namespaces(&self) -> Api<Namespace> {
        Api::all(self.client.clone())
    }

    async fn delete(&self, name: &str) -> Result<DeletionProgress> {
        // Other controllers may edit the namespace while it terminates: start from its latest state.
        let Some(namespace) = self.namespaces().get_opt(name).await? else {
            return Ok(DeletionProgress::Finished);
        };
        if namespace.metadata.deletion_timestamp.is_none() {
            return Ok(DeletionProgress::Finished);
        }
        let namespace = match self
            .update_with_retries(namespace, NamespaceUpdate::MarkTerminating)
            .await
        {
            Err(e) if e.is_not_found() => return Ok(DeletionProgress::Finished),
            other => other?,
        };
        if namespace.metadata.deletion_timestamp.is_none() || !has_kubernetes_finalizer(&namespace)
        {
            return Ok(DeletionProgress::Finished);
        }
        let estimate_seconds = self.delete_all_content(&namespace).await?;
        if estimate_seconds > 0 {
            return Ok(DeletionProgress::ContentRemaining { estimate_seconds });
        }
        match self
            .update_with_retries(namespace, NamespaceUpdate::Finalize)
            .await
        {
            Err(e) if e.is_not_found() => {}
            other => {
                other?;
            }
        }
        tracing::info!(
            namespace = name,
            "namespace content deleted; removed the kubernetes finalizer"
        );
        Ok(DeletionProgress::Finished)
    }

    /// Applies `update`, re-reading the namespace after conflicts; fails if it was replaced by
    /// another namespace of the same name meanwhile.
    async fn update_with_retries(
        &self,
        mut namespace: Namespace,
        update: NamespaceUpdate,
    ) -> Result<Namespace> {
        let name = namespace.name_any();
        for _ in 0..CONFLICT_RETRIES {
            let result = match update {
                NamespaceUpdate::MarkTerminating => self.mark_terminating(&namespace).await,
                NamespaceUpdate::Finalize => self.finalize(&namespace).await,
            };
            match result {
                Err(e) if e.is_conflict() => {
                    let latest = self.namespaces().get(&name).await?;
                    if latest.metadata.uid != namespace.metadata.uid {
                        return Err(Error::NamespaceUidChanged);
                    }
                    namespace = latest;
                }
                other => return other,
            }
        }
        Err(Error::ConflictRetriesExhausted(format!(
            "updating namespace {name}"
        )))
    }

    async fn mark_terminating(&self, namespace: &Namespace) -> Result<Namespace> {
        let phase = namespace.status.as_ref().and_then(|s| s.phase.as_deref());
        if namespace.metadata.deletion_timestamp.is_none() || phase == Some("Terminating") {
            return Ok(namespace.clone());
        }
        let mut updated = namespace.clone();
        updated
            .status
            .get_or_insert_with(NamespaceStatus::default)
            .phase = Some("Terminating".to_string());
        Ok(self
            .namespaces()
            .replace_status(&namespace.name_any(), &PostParams::default(), &updated)
            .await?)
    }

    /// Removes our token from `spec.finalizers` through the `finalize` subresource.
    async fn finalize(&self, namespace: &Namespace) -> Result<Namespace> {
        let mut finalized = namespace.clone();
        finalized.status = None;
        if let Some(spec) = finalized.spec.as_mut() {
            spec.finalizers = Some(finalizers_without_kubernetes(
                spec.finalizers.as_deref().unwrap_or_default(),
            ));
        }
        Ok(self
            .namespaces()
            .replace_subresource(
                "finalize",
                &namespace.name_any(),
                &PostParams::default(),
                &finalized,
            )
            .await?)
    }

    /// Deletes everything in the namespace; returns an estimate in seconds of how long the
    /// remaining content will take to go (0: nothing remains).
    async fn delete_all_content(&self, namespace: &Namespace) -> Result<i64> {
        let name = namespace.name_any();
        let deleted_at = namespace
            .metadata
            .deletion_timestamp
            .as_ref()
            .map(|t| t.0.as_second())
            .unwrap_or_else(now_seconds);
        let mut errors: Vec<String> = Vec::new();
        let mut conditions = ConditionUpdater::default();

        // Discovery errors are not fatal: delete what can be found, and report the rest.
        let served = match discovery::discover(&self.client).await {
            Ok(served) => served,
            Err(e) => {
                conditions.discovery_failed(e.to_string());
                errors.push(e.to_string());
                ServedResources::default()
            }
        };
        if let Some(message) = served.failure_message() {
            conditions.discovery_failed(message.clone());
            errors.push(message);
        }
        let resources: Vec<&ServedResource> = served
            .preferred()
            .iter()
            .filter(|r| r.namespaced && r.supports("delete"))
            .collect();

        let mut estimate_seconds = 0;
        let mut totals = ContentTotals::default();
        for resource in resources {
            let (remaining, error) = self
                .delete_all_of_resource(resource, &name, deleted_at)
                .await;
            if let Some(e) = error {
                conditions.delete_content_failed(e.to_string());
                errors.push(e.to_string());
            }
            estimate_seconds = estimate_seconds.max(remaining.estimate_seconds);
            totals.add(&resource.key(), &remaining);
        }
        conditions.content_totals(&totals);

        // Always bring the conditions up to date: a failure may have cleared since last time.
        let mut updated = namespace.clone();
        let status = updated.status.get_or_insert_with(NamespaceStatus::default);
        if conditions.apply(status, now_time())
            && let Err(e) = self
                .namespaces()
                .replace_status(&name, &PostParams::default(), &updated)
                .await
        {
            tracing::warn!(namespace = name, error = %e, "couldn't update namespace status conditions");
        }
        if !errors.is_empty() {
            return Err(Error::NamespaceContent(errors.join("; ")));
        }
        Ok(estimate_seconds)
    }

    /// Deletes every object of one resource in the namespace and says what is left (upstream
    /// `deleteAllContentForGroupVersionResource`). Errors are returned beside the result, as
    /// upstream goes on with the other resources.
    async fn delete_all_of_resource(
        &self,
        resource: &ServedResource,
        namespace: &str,
        deleted_at: i64,
    ) -> (ResourceRemaining, Option<Error>) {
        let key = resource.key();
        let mut remaining = ResourceRemaining::default();
        // Pods get their grace period to terminate.
        if key.group.is_empty() && key.resource == "pods" {
            match self.estimate_pod_termination(namespace, deleted_at).await {
                Ok(estimate) => remaining.estimate_seconds = estimate,
                Err(e) => return (remaining, Some(e)),
            }
        }
        let api: MetadataApi =
            Api::namespaced_with(self.client.clone(), namespace, &resource.api_resource);

        let mut deleted_collection = false;
        if resource.supports("deletecollection") {
            // Background: dependents elsewhere are the garbage collector's; no orphan finalizer
            // is added, so nothing here waits on it.
            match api
                .delete_collection(&DeleteParams::background(), &ListParams::default())
                .await
            {
                Ok(_) => deleted_collection = true,
                Err(e) => {
                    let e = Error::from(e);
                    if !(e.is_method_not_supported() || e.is_not_found()) {
                        return (remaining, Some(e));
                    }
                }
            }
        }
        if !deleted_collection && let Err(e) = delete_each(&api, resource).await {
            return (remaining, Some(e));
        }

        if !resource.supports("list") {
            return (remaining, None);
        }
        let items = match api.list(&ListParams::default()).await {
            Ok(list) => list.items,
            Err(e) => {
                let e = Error::from(e);
                if e.is_method_not_supported() || e.is_not_found() {
                    return (remaining, None);
                }
                return (remaining, Some(e));
            }
        };
        if items.is_empty() {
            return (ResourceRemaining::default(), None);
        }
        remaining.count = items.len();
        for item in &items {
            for f in item.metadata.finalizers.as_deref().unwrap_or_default() {
                *remaining.finalizers.entry(f.clone()).or_insert(0) += 1;
            }
        }
        if remaining.estimate_seconds != 0 {
            return (remaining, None);
        }
        if !remaining.finalizers.is_empty() {
            // Objects waiting on finalizers are normal: give them time.
            remaining.estimate_seconds = FINALIZER_ESTIMATE_SECONDS;
            return (remaining, None);
        }
        (
            remaining,
            Some(Error::NamespaceContent(format!(
                "unexpected items still remain in namespace: {namespace} for gvr: {key}"
            ))),
        )
    }

    /// The longest termination grace period of the namespace's running pods, or 0 once that
    /// much time has passed since the namespace's deletion.
    async fn estimate_pod_termination(&self, namespace: &str, deleted_at: i64) -> Result<i64> {
        // Read as untyped JSON: only two fields matter, and an odd field elsewhere in a pod
        // must not stop namespace deletion.
        let pods: Api<DynamicObject> = Api::namespaced_with(
            self.client.clone(),
            namespace,
            &ApiResource::erase::<Pod>(&()),
        );
        let list = pods.list(&ListParams::default()).await?;
        let estimate = pod_grace_estimate(list.items.iter().map(|p| &p.data));
        if now_seconds().saturating_sub(deleted_at) >= estimate {
            return Ok(0);
        }
        Ok(estimate)
    }
}

/// The longest `spec.terminationGracePeriodSeconds` among pods not in a terminal phase.
fn pod_grace_estimate<'a>(pods: impl Iterator<Item = &'a serde_json::Value>) -> i64 {
    pods.filter(|p| {
        let phase = p
            .pointer("/status/phase")
            .and_then(serde_json::Value::as_str);
        !matches!(phase, Some("Succeeded") | Some("Failed"))
    })
    .filter_map(|p| {
        p.pointer("/spec/terminationGracePeriodSeconds")
            .and_then(serde_json::Value::as_i64)
    })
    .max()
    .unwrap_or(0)
}

/// Lists the resource's objects and deletes them one by one (when delete-collection is not
/// served).
async fn delete_each(api: &MetadataApi, resource: &ServedResource) -> Result<()> {
    if !resource.supports("list") {
        return Ok(());
    }
    let list = match api.list(&ListParams::default()).await {
        Ok(list) => list,
        Err(e) => {
            let e = Error::from(e);
            return if e.is_method_not_supported() || e.is_not_found() {
                Ok(())
            } else {
                Err(e)
            };
        }
    };
    for item in list.items {
        let Some(name) = item.metadata.name.as_deref() else {
            continue;
        };
        if let Err(e) = api.delete(name, &DeleteParams::background()).await {
            let e = Error::from(e);
            if !(e.is_not_found() || e.is_method_not_supported()) {
                return Err(e);
            }
        }
    }
    Ok(())
}

fn has_kubernetes_finalizer(namespace: &Namespace) -> bool {
    namespace
        .spec
        .as_ref()
        .and_then(|s| s.finalizers.as_ref())
        .is_some_and(|f| f.iter().any(|x| x == FINALIZER_KUBERNETES))
}

/// The finalizers without ours, sorted and de-duplicated as upstream's string set.
fn finalizers_without_kubernetes(finalizers: &[String]) -> Vec<String> {
    let mut rest: Vec<String> = finalizers
        .iter()
        .filter(|f| *f != FINALIZER_KUBERNETES)
        .cloned()
        .collect();
    rest.sort();
    rest.dedup();
    rest
}

fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn now_time() -> Time {
    let ts = k8s_openapi::jiff::Timestamp::from_second(now_seconds())
        .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH);
    Time(ts)
}

// ---------------------------------------------------------------------------------------------
// Status conditions (upstream status_condition_utils.go)

const DISCOVERY_FAILURE: &str = "NamespaceDeletionDiscoveryFailure";
const GROUP_VERSION_PARSING_FAILURE: &str = "NamespaceDeletionGroupVersionParsingFailure";
const CONTENT_FAILURE: &str = "NamespaceDeletionContentFailure";
const CONTENT_REMAINING: &str = "NamespaceContentRemaining";
const FINALIZERS_REMAINING: &str = "NamespaceFinalizersRemaining";

/// The conditions this controller maintains, each with its "all is well" reason and message.
const CONDITION_TYPES: &[(&str, &str, &str)] = &[
    (
        DISCOVERY_FAILURE,
        "ResourcesDiscovered",
        "All resources successfully discovered",
    ),
    (
        GROUP_VERSION_PARSING_FAILURE,
        "ParsedGroupVersions",
        "All legacy kube types successfully parsed",
    ),
    (
        CONTENT_FAILURE,
        "ContentDeleted",
        "All content successfully deleted, may be waiting on finalization",
    ),
    (
        CONTENT_REMAINING,
        "ContentRemoved",
        "All content successfully removed",
    ),
    (
        FINALIZERS_REMAINING,
        "ContentHasNoFinalizers",
        "All content-preserving finalizers finished",
    ),
];

/// Remaining content across resources (upstream `allGVRDeletionMetadata`).
#[derive(Debug, Default)]
struct ContentTotals {
    by_resource: BTreeMap<ResourceKey, usize>,
    by_finalizer: BTreeMap<String, usize>,
}

impl ContentTotals {
    fn add(&mut self, key: &ResourceKey, remaining: &ResourceRemaining) {
        if remaining.count == 0 {
            return;
        }
        self.by_resource.insert(key.clone(), remaining.count);
        for (f, n) in &remaining.finalizers {
            if *n > 0 {
                *self.by_finalizer.entry(f.clone()).or_insert(0) += n;
            }
        }
    }
}

/// Failing conditions found during one pass; [`ConditionUpdater::apply`] merges them into the
/// status, with the "all is well" variant for the conditions not failing.
#[derive(Debug, Default)]
struct ConditionUpdater {
    /// type -> (reason, message)
    failing: BTreeMap<&'static str, (String, String)>,
    delete_content_errors: Vec<String>,
}

impl ConditionUpdater {
    fn discovery_failed(&mut self, message: String) {
        self.failing
            .insert(DISCOVERY_FAILURE, ("DiscoveryFailed".into(), message));
    }

    fn delete_content_failed(&mut self, message: String) {
        self.delete_content_errors.push(message);
    }

    fn content_totals(&mut self, totals: &ContentTotals) {
        if !totals.by_resource.is_empty() {
            let mut parts: Vec<String> = totals
                .by_resource
                .iter()
                .map(|(k, n)| format!("{}.{} has {} resource instances", k.resource, k.group, n))
                .collect();
            parts.sort();
            self.failing.insert(
                CONTENT_REMAINING,
                (
                    "SomeResourcesRemain".into(),
                    format!("Some resources are remaining: {}", parts.join(", ")),
                ),
            );
        }
        if !totals.by_finalizer.is_empty() {
            let mut parts: Vec<String> = totals
                .by_finalizer
                .iter()
                .map(|(f, n)| format!("{f} in {n} resource instances"))
                .collect();
            parts.sort();
            self.failing.insert(
                FINALIZERS_REMAINING,
                (
                    "SomeFinalizersRemain".into(),
                    format!(
                        "Some content in the namespace has finalizers remaining: {}",
                        parts.join(", ")
                    ),
                ),
            );
        }
    }

    /// Updates `status.conditions`; true if anything changed.
    fn apply(mut self, status: &mut NamespaceStatus, now: Time) -> bool {
        if !self.delete_content_errors.is_empty() && !self.failing.contains_key(CONTENT_FAILURE) {
            self.delete_content_errors.sort();
            let message = format!(
                "Failed to delete all resource types, {} remaining: {}",
                self.delete_content_errors.len(),
                self.delete_content_errors.join(", ")
            );
            self.failing
                .insert(CONTENT_FAILURE, ("ContentDeletionFailed".into(), message));
        }
        let conditions = status.conditions.get_or_insert_with(Vec::new);
        let mut changed = false;
        for (type_, ok_reason, ok_message) in CONDITION_TYPES {
            let (status_value, reason, message) = match self.failing.get(type_) {
                Some((reason, message)) => ("True", reason.clone(), message.clone()),
                None => ("False", ok_reason.to_string(), ok_message.to_string()),
            };
            match conditions.iter_mut().find(|c| c.type_ == *type_) {
                None => {
                    conditions.push(NamespaceCondition {
                        type_: type_.to_string(),
                        status: status_value.to_string(),
                        reason: Some(reason),
                        message: Some(message),
                        last_transition_time: Some(now.clone()),
                    });
                    changed = true;
                }
                Some(c) => {
                    if c.status != status_value
                        || c.reason.as_deref() != Some(&reason)
                        || c.message.as_deref() != Some(&message)
                    {
                        if c.status != status_value {
                            c.last_transition_time = Some(now.clone());
                        }
                        c.status = status_value.to_string();
                        c.reason = Some(reason);
                        c.message = Some(message);
                        changed = true;
                    }
                }
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(s: i64) -> Time {
        Time(
            k8s_openapi::jiff::Timestamp::from_second(s)
                .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
        )
    }

    fn key(group: &str, resource: &str) -> ResourceKey {
        ResourceKey {
            group: group.into(),
            version: "v1".into(),
            resource: resource.into(),
        }
    }

    fn condition<'a>(status: &'a NamespaceStatus, type_: &str) -> &'a NamespaceCondition {
        status
            .conditions
            .as_ref()
            .and_then(|c| c.iter().find(|c| c.type_ == type_))
            .unwrap_or_else(|| panic!("no condition {type_}"))
    }

    #[test]
    fn conditions_report_remaining_content_and_finalizers() {
        let mut totals = ContentTotals::default();
        let mut fins = BTreeMap::new();
        fins.insert("example.com/hold".to_string(), 2);
        totals.add(
            &key("", "configmaps"),
            &ResourceRemaining {
                estimate_seconds: 15,
                count: 2,
                finalizers: fins,
            },
        );
        totals.add(
            &key("apps", "deployments"),
            &ResourceRemaining {
                estimate_seconds: 0,
                count: 1,
                finalizers: BTreeMap::new(),
            },
        );
        totals.add(&key("", "secrets"), &ResourceRemaining::default());
        let mut updater = ConditionUpdater::default();
        updater.content_totals(&totals);
        updater.delete_content_failed("b failed".into());
        updater.delete_content_failed("a failed".into());
        let mut status = NamespaceStatus::default();
        assert!(updater.apply(&mut status, time(100)));

        let remaining = condition(&status, CONTENT_REMAINING);
        assert_eq!(remaining.status, "True");
        assert_eq!(remaining.reason.as_deref(), Some("SomeResourcesRemain"));
        assert_eq!(
            remaining.message.as_deref(),
            Some(
                "Some resources are remaining: configmaps. has 2 resource instances, deployments.apps has 1 resource instances"
            )
        );
        let fins = condition(&status, FINALIZERS_REMAINING);
        assert_eq!(
            fins.message.as_deref(),
            Some(
                "Some content in the namespace has finalizers remaining: example.com/hold in 2 resource instances"
            )
        );
        let failure = condition(&status, CONTENT_FAILURE);
        assert_eq!(
            failure.message.as_deref(),
            Some("Failed to delete all resource types, 2 remaining: a failed, b failed")
        );
        let discovery = condition(&status, DISCOVERY_FAILURE);
        assert_eq!(discovery.status, "False");
        assert_eq!(discovery.reason.as_deref(), Some("ResourcesDiscovered"));
        assert_eq!(status.conditions.as_ref().map(Vec::len), Some(5));
    }

    #[test]
    fn conditions_flip_back_and_keep_transition_times() {
        let mut status = NamespaceStatus::default();
        let mut updater = ConditionUpdater::default();
        let mut totals = ContentTotals::default();
        totals.add(
            &key("", "pods"),
            &ResourceRemaining {
                estimate_seconds: 30,
                count: 1,
                finalizers: BTreeMap::new(),
            },
        );
        updater.content_totals(&totals);
        assert!(updater.apply(&mut status, time(100)));

        // Same state again: no change.
        let mut updater = ConditionUpdater::default();
        updater.content_totals(&totals);
        assert!(!updater.apply(&mut status, time(200)));

        // All gone: ContentRemaining turns False with a new transition time; others keep theirs.
        assert!(ConditionUpdater::default().apply(&mut status, time(300)));
        let remaining = condition(&status, CONTENT_REMAINING);
        assert_eq!(remaining.status, "False");
        assert_eq!(remaining.reason.as_deref(), Some("ContentRemoved"));
        assert_eq!(remaining.last_transition_time, Some(time(300)));
        assert_eq!(
            condition(&status, DISCOVERY_FAILURE).last_transition_time,
            Some(time(100))
        );
    }

    #[test]
    fn pod_grace_estimate_ignores_finished_pods() {
        let pods = [
            serde_json::json!({"spec": {"terminationGracePeriodSeconds": 30}, "status": {"phase": "Running"}}),
            serde_json::json!({"spec": {"terminationGracePeriodSeconds": 90}, "status": {"phase": "Succeeded"}}),
            serde_json::json!({"spec": {"terminationGracePeriodSeconds": 45}}),
            serde_json::json!({"spec": {}}),
        ];
        assert_eq!(pod_grace_estimate(pods.iter()), 45);
        assert_eq!(pod_grace_estimate([].iter()), 0);
    }

    #[test]
    fn finalize_removes_only_our_token() {
        let fins = vec![
            "z".to_string(),
            FINALIZER_KUBERNETES.to_string(),
            "a".to_string(),
            "z".to_string(),
        ];
        assert_eq!(
            finalizers_without_kubernetes(&fins),
            vec!["a".to_string(), "z".to_string()]
        );
        assert!(finalizers_without_kubernetes(&[FINALIZER_KUBERNETES.to_string()]).is_empty());
    }
}
