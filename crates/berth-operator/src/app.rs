//! Reconciling an App: pick the revision to apply, apply and prune, read the rollout, roll back
//! automatically when it fails, and report it all in the App's status.

use std::sync::Arc;

use berth_render::{RenderContext, render_app};
use berth_spec::meta::{ANNOTATION_AUTHOR, ANNOTATION_MESSAGE, FIELD_MANAGER};
use berth_spec::{App, AppPhase, AppStatus, RevisionRecord, spec_hash};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Resource, ResourceExt};
use serde_json::Value;

use crate::OperatorError;
use crate::apply::{apply_all, prune};
use crate::context::{Context, POLL, RESYNC};
use crate::kinds::is_deployment;
use crate::owner::Owner;
use crate::revisions::{self, Plan, Revision};
use crate::rollout::{
    DeploymentView, crash_reason, failure, for_rollback, newest_template_hash, seconds_since,
};
use crate::status::{condition, status_patch};

pub const KIND: &str = "App";

pub fn key(app: &App) -> String {
    format!(
        "{KIND}/{}/{}",
        app.namespace().unwrap_or_default(),
        app.name_any()
    )
}

pub async fn reconcile(app: Arc<App>, ctx: Arc<Context>) -> Result<Action, OperatorError> {
    let result = Reconciler::new(&app, &ctx)?.run().await;
    match &result {
        Ok(_) => ctx.succeeded(&key(&app)),
        Err(_) => ctx.forget_applied(&key(&app)),
    }
    result
}

pub fn error_policy(app: Arc<App>, error: &OperatorError, ctx: Arc<Context>) -> Action {
    let delay = ctx.failed(&key(&app));
    tracing::warn!(
        app = app.name_any(),
        namespace = app.namespace(),
        %error,
        retry_in = ?delay,
        "reconcile failed"
    );
    Action::requeue(delay)
}

struct Reconciler<'a> {
    app: &'a App,
    ctx: &'a Context,
    client: &'a kube::Client,
    owner: Owner,
    key: String,
    previous: AppStatus,
    generation: Option<i64>,
}

/// The revision whose objects are applied now.
struct Current {
    number: i64,
    objects: Vec<Value>,
    image: Option<String>,
    /// When the revision was recorded (RFC 3339).
    time: String,
}

impl<'a> Reconciler<'a> {
    fn new(app: &'a App, ctx: &'a Context) -> Result<Self, OperatorError> {
        Ok(Reconciler {
            app,
            ctx,
            client: &ctx.client,
            owner: Owner::of(app, KIND)?,
            key: key(app),
            previous: app.status.clone().unwrap_or_default(),
            generation: app.metadata.generation,
        })
    }

    async fn run(&self) -> Result<Action, OperatorError> {
        let hash = spec_hash(&self.app.spec);
        let revisions = revisions::list(self.client, &self.owner).await?;

        if self.previous.failed_spec_hash.as_deref() == Some(hash.as_str()) {
            return self.refresh_failed(&revisions).await;
        }

        let current = match revisions::plan(&hash, &revisions) {
            Plan::Newest(r) => Current {
                number: r.number,
                image: r.record.image.clone(),
                objects: r.record.objects,
                time: r.record.time,
            },
            Plan::RollBackTo(old) => {
                let record = RevisionRecord {
                    objects: for_rollback(&old.record.objects),
                    image: old.record.image.clone(),
                    rollback_of: Some(old.number),
                    ..self.new_record(&hash)?
                };
                tracing::info!(
                    app = self.owner.name,
                    namespace = self.owner.namespace,
                    revision = old.number,
                    "spec equals an earlier revision; re-applying its objects"
                );
                self.record(&revisions, record).await?
            }
            Plan::Render => {
                let render_ctx = RenderContext {
                    namespace: self.owner.namespace.clone(),
                    cluster: self.ctx.config.cluster.clone(),
                };
                match render_app(&self.owner.name, &self.app.spec, &render_ctx) {
                    Ok(objects) => {
                        let record = RevisionRecord {
                            image: image_of(&objects),
                            objects,
                            ..self.new_record(&hash)?
                        };
                        self.record(&revisions, record).await?
                    }
                    Err(error) => return self.invalid(error.to_string()).await,
                }
            }
        };

        let mut deployment = self.deployment(&current.objects).await?;
        if self
            .ctx
            .needs_apply(&self.key, &self.owner.uid, current.number)
            || deployment.is_none()
        {
            if let Err(error) = self.apply(&current.objects).await {
                return match spec_error(&error) {
                    Some(message) => self.invalid(message).await,
                    None => Err(error),
                };
            }
            self.ctx
                .mark_applied(&self.key, &self.owner.uid, current.number);
            deployment = self.deployment(&current.objects).await?;
        }
        let view = deployment.as_ref().map(DeploymentView::of);

        let mut status = self.base_status(current.number, current.image.clone(), view.as_ref());
        match &view {
            None => {
                status.phase = Some(AppPhase::Progressing);
                status.message = Some(format!(
                    "rolling out revision {}: waiting for the Deployment",
                    current.number
                ));
            }
            Some(v) if v.complete() => {
                status.phase = Some(AppPhase::Available);
                status.last_good_revision = Some(current.number);
                status.message = Some(format!("{} ready", v.ready_text()));
            }
            Some(v) => {
                let reason = if self.previous.last_good_revision == Some(current.number) {
                    // A revision that already rolled out is not "failing to roll out": pods
                    // crashing later are the app's problem, not the deploy's.
                    None
                } else {
                    self.rollout_failure(deployment.as_ref(), v, &current.time)
                        .await?
                };
                match reason {
                    Some(reason) => {
                        return self.failed(&hash, &current, &revisions, v, reason).await;
                    }
                    None => {
                        status.phase = Some(AppPhase::Progressing);
                        // Until the controller saw the new spec its counts are the old one's.
                        status.message = Some(if v.observed {
                            format!(
                                "rolling out revision {}: {}/{} updated",
                                current.number, v.updated, v.desired
                            )
                        } else {
                            format!("rolling out revision {}: starting", current.number)
                        });
                    }
                }
            }
        }
        self.finish(status, view.as_ref()).await
    }

    /// The spec already failed and was rolled back: apply nothing, keep the phase, refresh the
    /// replica counts (and note when the rolled-back revision is fully available again).
    async fn refresh_failed(&self, revisions: &[Revision]) -> Result<Action, OperatorError> {
        let objects = self
            .previous
            .revision
            .and_then(|n| revisions.iter().find(|r| r.number == n))
            .map(|r| r.record.objects.clone())
            .unwrap_or_default();
        let deployment = self.deployment(&objects).await?;
        let view = deployment.as_ref().map(DeploymentView::of);
        let mut status = self.previous.clone();
        status.observed_generation = self.generation;
        set_counts(&mut status, view.as_ref());
        if let (Some(v), Some(n)) = (&view, status.revision)
            && v.complete()
        {
            status.last_good_revision = Some(n);
        }
        status.conditions = conditions(
            &self.previous.conditions,
            status.phase.unwrap_or(AppPhase::RolledBack),
            view.as_ref(),
            status.message.as_deref().unwrap_or_default(),
            self.generation,
        );
        let settled = view.as_ref().is_some_and(DeploymentView::complete);
        self.patch_status(&status).await?;
        Ok(Action::requeue(if settled { RESYNC } else { POLL }))
    }

    /// A spec that cannot be rendered or is refused by the API server: nothing is applied, the
    /// objects of the current revision stay.
    async fn invalid(&self, message: String) -> Result<Action, OperatorError> {
        tracing::info!(
            app = self.owner.name,
            namespace = self.owner.namespace,
            message,
            "invalid App spec"
        );
        let mut status = self.previous.clone();
        status.observed_generation = self.generation;
        status.phase = Some(AppPhase::Invalid);
        status.failed_spec_hash = None;
        status.message = Some(message.clone());
        status.conditions = conditions(
            &self.previous.conditions,
            AppPhase::Invalid,
            None,
            &message,
            self.generation,
        );
        // Keep the Deployment's Available condition as it was: the old revision still runs.
        if let Some(old) = self
            .previous
            .conditions
            .iter()
            .find(|c| c.type_ == "Available")
            && let Some(slot) = status
                .conditions
                .iter_mut()
                .find(|c| c.type_ == "Available")
        {
            *slot = old.clone();
        }
        self.patch_status(&status).await?;
        Ok(Action::requeue(RESYNC))
    }

    /// The current revision failed to roll out: roll back to the last good revision, or mark
    /// the App Failed.
    async fn failed(
        &self,
        hash: &str,
        current: &Current,
        revisions: &[Revision],
        view: &DeploymentView,
        reason: String,
    ) -> Result<Action, OperatorError> {
        let auto_rollback = self
            .app
            .spec
            .rollout
            .as_ref()
            .and_then(|r| r.auto_rollback)
            .unwrap_or(true);
        let good = self
            .previous
            .last_good_revision
            .filter(|m| *m != current.number)
            .and_then(|m| revisions.iter().find(|r| r.number == m));
        let mut status = self.base_status(current.number, current.image.clone(), Some(view));

        let (Some(good), true) = (good, auto_rollback) else {
            let message = format!("revision {} failed: {reason}", current.number);
            tracing::warn!(
                app = self.owner.name,
                namespace = self.owner.namespace,
                message,
                "rollout failed"
            );
            status.phase = Some(AppPhase::Failed);
            status.message = Some(message);
            return self.finish(status, Some(view)).await;
        };

        let record = RevisionRecord {
            spec: good.record.spec.clone(),
            spec_hash: good.record.spec_hash.clone(),
            objects: for_rollback(&good.record.objects),
            image: good.record.image.clone(),
            author: Some(FIELD_MANAGER.to_string()),
            message: Some(format!("automatic rollback: {reason}")),
            time: revisions::now_rfc3339(),
            rollback_of: Some(good.number),
        };
        let number =
            revisions::next_number(revisions, Some(current.number).max(self.previous.revision));
        revisions::record(self.client, &self.owner, number, record).await?;
        revisions::trim(
            self.client,
            &self.owner,
            revisions,
            &[number, good.number, current.number],
        )
        .await;
        self.apply(&good.record.objects).await?;
        self.ctx.mark_applied(&self.key, &self.owner.uid, number);

        let message = format!(
            "revision {} failed ({reason}); rolled back to revision {}",
            current.number, good.number
        );
        tracing::warn!(
            app = self.owner.name,
            namespace = self.owner.namespace,
            message,
            "automatic rollback"
        );
        status.revision = Some(number);
        status.image = good.record.image.clone();
        status.failed_spec_hash = Some(hash.to_string());
        status.phase = Some(AppPhase::RolledBack);
        status.message = Some(message.clone());
        self.ctx
            .event(
                &self.app.object_ref(&()),
                EventType::Warning,
                "RolledBack",
                "Rollback",
                message,
            )
            .await;
        self.finish(status, Some(view)).await?;
        Ok(Action::requeue(POLL))
    }

    /// Why the current revision's rollout failed: the Deployment's progress deadline, or a
    /// crash-looping pod of its newest ReplicaSet.
    async fn rollout_failure(
        &self,
        deployment: Option<&Deployment>,
        view: &DeploymentView,
        applied_at: &str,
    ) -> Result<Option<String>, OperatorError> {
        let mut crash = None;
        // Until the Deployment controller saw the new template, its newest ReplicaSet is the
        // previous revision's.
        if let Some(d) = deployment
            && view.observed
        {
            let selector = ListParams::default().labels(&self.owner.selector());
            let sets: Api<ReplicaSet> = Api::namespaced(self.client.clone(), &self.owner.namespace);
            let sets = sets.list(&selector).await?.items;
            if let Some(hash) = newest_template_hash(d, &sets) {
                let pods: Api<Pod> = Api::namespaced(self.client.clone(), &self.owner.namespace);
                let pods = pods.list(&selector).await?.items;
                crash = crash_reason(&pods, &hash);
            }
        }
        Ok(failure(view, crash, seconds_since(applied_at)))
    }

    fn new_record(&self, hash: &str) -> Result<RevisionRecord, OperatorError> {
        let annotations = self.app.annotations();
        Ok(RevisionRecord {
            spec: serde_json::to_value(&self.app.spec)?,
            spec_hash: hash.to_string(),
            objects: Vec::new(),
            image: None,
            author: annotations.get(ANNOTATION_AUTHOR).cloned(),
            message: annotations.get(ANNOTATION_MESSAGE).cloned(),
            time: revisions::now_rfc3339(),
            rollback_of: None,
        })
    }

    async fn record(
        &self,
        revisions: &[Revision],
        record: RevisionRecord,
    ) -> Result<Current, OperatorError> {
        let number = revisions::next_number(revisions, self.previous.revision);
        let revision = revisions::record(self.client, &self.owner, number, record).await?;
        let mut keep = vec![number];
        keep.extend(self.previous.revision);
        keep.extend(self.previous.last_good_revision);
        revisions::trim(self.client, &self.owner, revisions, &keep).await;
        Ok(Current {
            number,
            image: revision.record.image,
            objects: revision.record.objects,
            time: revision.record.time,
        })
    }

    async fn apply(&self, objects: &[Value]) -> Result<(), OperatorError> {
        let applied = apply_all(self.client, &self.owner, objects).await?;
        prune(self.client, &self.owner, &applied).await?;
        Ok(())
    }

    async fn deployment(&self, objects: &[Value]) -> Result<Option<Deployment>, OperatorError> {
        let name = objects
            .iter()
            .find(|o| is_deployment(o))
            .and_then(|o| o.pointer("/metadata/name"))
            .and_then(Value::as_str)
            .unwrap_or(&self.owner.name);
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), &self.owner.namespace);
        Ok(api.get_opt(name).await?)
    }

    fn base_status(
        &self,
        revision: i64,
        image: Option<String>,
        view: Option<&DeploymentView>,
    ) -> AppStatus {
        let mut status = AppStatus {
            observed_generation: self.generation,
            revision: Some(revision),
            last_good_revision: self.previous.last_good_revision,
            image,
            ..Default::default()
        };
        set_counts(&mut status, view);
        status
    }

    /// Fills the conditions from phase and message, patches, and picks the requeue.
    async fn finish(
        &self,
        mut status: AppStatus,
        view: Option<&DeploymentView>,
    ) -> Result<Action, OperatorError> {
        let phase = status.phase.unwrap_or(AppPhase::Pending);
        status.conditions = conditions(
            &self.previous.conditions,
            phase,
            view,
            status.message.as_deref().unwrap_or_default(),
            self.generation,
        );
        self.patch_status(&status).await?;
        Ok(Action::requeue(match phase {
            AppPhase::Progressing | AppPhase::Pending => POLL,
            _ => RESYNC,
        }))
    }

    /// Patches the status when it differs from what the App has (a patch triggers a watch
    /// event and so another reconcile; an unchanged status must not).
    async fn patch_status(&self, status: &AppStatus) -> Result<(), OperatorError> {
        if self.app.status.as_ref() == Some(status) {
            return Ok(());
        }
        let patch = status_patch(self.app.status.as_ref(), status)?;
        let api: Api<App> = Api::namespaced(self.client.clone(), &self.owner.namespace);
        api.patch_status(
            &self.owner.name,
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
        tracing::debug!(
            app = self.owner.name,
            namespace = self.owner.namespace,
            phase = status.phase.map(AppPhase::as_str),
            message = status.message,
            "status updated"
        );
        Ok(())
    }
}

fn set_counts(status: &mut AppStatus, view: Option<&DeploymentView>) {
    if let Some(v) = view {
        status.replicas = Some(v.replicas);
        status.updated_replicas = Some(v.updated);
        status.ready_replicas = Some(v.ready);
        status.available_replicas = Some(v.available);
        status.ready = Some(v.ready_text());
    }
}

/// The image of the first container of the rendered Deployment.
pub fn image_of(objects: &[Value]) -> Option<String> {
    objects
        .iter()
        .find(|o| is_deployment(o))?
        .pointer("/spec/template/spec/containers/0/image")?
        .as_str()
        .map(str::to_string)
}

/// The message of an apply error that is about the spec (the API server refused an object as
/// invalid), as opposed to a transient failure worth retrying.
fn spec_error(error: &OperatorError) -> Option<String> {
    match error {
        OperatorError::Kube(kube::Error::Api(e)) if e.code == 422 || e.code == 400 => Some(
            format!("the API server refused the rendered objects: {}", e.message),
        ),
        OperatorError::UnknownKind { .. } | OperatorError::IncompleteObject(_) => {
            Some(error.to_string())
        }
        _ => None,
    }
}

/// Available, Progressing and Degraded for a phase.
fn conditions(
    previous: &[Condition],
    phase: AppPhase,
    view: Option<&DeploymentView>,
    message: &str,
    generation: Option<i64>,
) -> Vec<Condition> {
    let (available, available_reason, available_message) = match view {
        Some(v) => {
            let (ok, reason) = v.available_condition.clone().unwrap_or_else(|| {
                let ok = v.available >= v.desired;
                let reason = if ok {
                    "MinimumReplicasAvailable"
                } else {
                    "MinimumReplicasUnavailable"
                };
                (ok, reason.to_string())
            });
            (ok, reason, format!("{} ready", v.ready_text()))
        }
        None => (false, "NoDeployment".to_string(), String::new()),
    };
    let reason = match phase {
        AppPhase::Pending => "Pending",
        AppPhase::Progressing => "RollingOut",
        AppPhase::Available => "RolloutComplete",
        AppPhase::RolledBack => "RolledBack",
        AppPhase::Failed => "RolloutFailed",
        AppPhase::Invalid => "InvalidSpec",
    };
    let degraded = matches!(
        phase,
        AppPhase::RolledBack | AppPhase::Failed | AppPhase::Invalid
    );
    vec![
        condition(
            previous,
            "Available",
            available,
            &available_reason,
            &available_message,
            generation,
        ),
        condition(
            previous,
            "Progressing",
            matches!(phase, AppPhase::Progressing | AppPhase::Pending),
            reason,
            message,
            generation,
        ),
        condition(
            previous,
            "Degraded",
            degraded,
            if degraded { reason } else { "AsExpected" },
            if degraded { message } else { "" },
            generation,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn image_comes_from_the_deployment() {
        let objects = vec![
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "web:2"}]}}}}),
        ];
        assert_eq!(image_of(&objects).as_deref(), Some("web:2"));
        assert_eq!(image_of(&objects[..1]), None);
    }

    #[test]
    fn conditions_follow_the_phase() {
        let view = DeploymentView {
            desired: 2,
            replicas: 2,
            updated: 2,
            ready: 2,
            available: 2,
            observed: true,
            ..Default::default()
        };
        let c = conditions(&[], AppPhase::Available, Some(&view), "2/2 ready", Some(3));
        let by = |t: &str| c.iter().find(|c| c.type_ == t).expect("condition").clone();
        assert_eq!(by("Available").status, "True");
        assert_eq!(by("Progressing").status, "False");
        assert_eq!(by("Progressing").reason, "RolloutComplete");
        assert_eq!(by("Degraded").status, "False");
        assert_eq!(by("Degraded").observed_generation, Some(3));

        let c = conditions(
            &c,
            AppPhase::RolledBack,
            Some(&view),
            "revision 2 failed",
            None,
        );
        let by = |t: &str| c.iter().find(|c| c.type_ == t).expect("condition").clone();
        assert_eq!(by("Degraded").status, "True");
        assert_eq!(by("Degraded").reason, "RolledBack");
        assert_eq!(by("Degraded").message, "revision 2 failed");
    }

    #[test]
    fn only_refusals_are_spec_errors() {
        let refused = OperatorError::Kube(kube::Error::Api(
            kube::core::Status::failure("Deployment.apps \"web\" is invalid", "Invalid")
                .with_code(422)
                .boxed(),
        ));
        assert!(spec_error(&refused).is_some());
        let unavailable = OperatorError::Kube(kube::Error::Api(
            kube::core::Status::failure("etcd is down", "ServiceUnavailable")
                .with_code(503)
                .boxed(),
        ));
        assert!(spec_error(&unavailable).is_none());
    }
}
