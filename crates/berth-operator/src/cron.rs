//! Reconciling a CronApp: the App flow without rollouts (a CronJob has nothing to roll out, so
//! there is no automatic rollback): pick the revision, apply and prune, copy the CronJob's
//! status.

use std::sync::Arc;

use berth_render::{RenderContext, render_cron};
use berth_spec::meta::{ANNOTATION_AUTHOR, ANNOTATION_MESSAGE};
use berth_spec::{AppPhase, CronApp, CronAppStatus, RevisionRecord, spec_hash};
use k8s_openapi::api::batch::v1::CronJob;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use serde_json::Value;

use crate::OperatorError;
use crate::apply::{apply_all, prune};
use crate::context::{Context, RESYNC};
use crate::kinds::is_cronjob;
use crate::owner::Owner;
use crate::revisions::{self, Plan};
use crate::status::{condition, status_patch};

pub const KIND: &str = "CronApp";

pub fn key(cron: &CronApp) -> String {
    format!(
        "{KIND}/{}/{}",
        cron.namespace().unwrap_or_default(),
        cron.name_any()
    )
}

pub async fn reconcile(cron: Arc<CronApp>, ctx: Arc<Context>) -> Result<Action, OperatorError> {
    let result = run(&cron, &ctx).await;
    match &result {
        Ok(_) => ctx.succeeded(&key(&cron)),
        Err(_) => ctx.forget_applied(&key(&cron)),
    }
    result
}

pub fn error_policy(cron: Arc<CronApp>, error: &OperatorError, ctx: Arc<Context>) -> Action {
    let delay = ctx.failed(&key(&cron));
    tracing::warn!(
        cronapp = cron.name_any(),
        namespace = cron.namespace(),
        %error,
        retry_in = ?delay,
        "reconcile failed"
    );
    Action::requeue(delay)
}

async fn run(cron: &CronApp, ctx: &Context) -> Result<Action, OperatorError> {
    let client = &ctx.client;
    let owner = Owner::of(cron, KIND)?;
    let key = key(cron);
    let previous = cron.status.clone().unwrap_or_default();
    let generation = cron.metadata.generation;
    let hash = spec_hash(&cron.spec);
    let revisions = revisions::list(client, &owner).await?;

    let new_record = || -> Result<RevisionRecord, OperatorError> {
        let annotations = cron.annotations();
        Ok(RevisionRecord {
            spec: serde_json::to_value(&cron.spec)?,
            spec_hash: hash.clone(),
            objects: Vec::new(),
            image: None,
            author: annotations.get(ANNOTATION_AUTHOR).cloned(),
            message: annotations.get(ANNOTATION_MESSAGE).cloned(),
            time: revisions::now_rfc3339(),
            rollback_of: None,
        })
    };
    let (number, objects) = match revisions::plan(&hash, &revisions) {
        Plan::Newest(r) => (r.number, r.record.objects),
        Plan::RollBackTo(old) => {
            let record = RevisionRecord {
                objects: old.record.objects.clone(),
                image: old.record.image.clone(),
                rollback_of: Some(old.number),
                ..new_record()?
            };
            record_new(client, &owner, &revisions, previous.revision, record).await?
        }
        Plan::Render => {
            let render_ctx = RenderContext {
                namespace: owner.namespace.clone(),
                cluster: ctx.config.cluster.clone(),
            };
            match render_cron(&owner.name, &cron.spec, &render_ctx) {
                Ok(objects) => {
                    let record = RevisionRecord {
                        image: image_of(&objects),
                        objects,
                        ..new_record()?
                    };
                    record_new(client, &owner, &revisions, previous.revision, record).await?
                }
                Err(error) => return invalid(ctx, cron, &owner, error.to_string()).await,
            }
        }
    };

    let mut cronjob = cronjob(client, &owner, &objects).await?;
    if ctx.needs_apply(&key, &owner.uid, number) || cronjob.is_none() {
        let applied = match apply_all(client, &owner, &objects).await {
            Ok(applied) => applied,
            Err(OperatorError::Kube(kube::Error::Api(e))) if e.code == 422 || e.code == 400 => {
                let message = format!("the API server refused the rendered objects: {}", e.message);
                return invalid(ctx, cron, &owner, message).await;
            }
            Err(e) => return Err(e),
        };
        prune(client, &owner, &applied).await?;
        ctx.mark_applied(&key, &owner.uid, number);
        cronjob = self::cronjob(client, &owner, &objects).await?;
    }

    let job_status = cronjob
        .as_ref()
        .and_then(|c| c.status.clone())
        .unwrap_or_default();
    let active: Vec<String> = job_status
        .active
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| r.name)
        .collect();
    let message = if cron.spec.suspend {
        format!("revision {number} applied; suspended")
    } else if !active.is_empty() {
        format!("revision {number} applied; running {}", active.join(", "))
    } else {
        format!(
            "revision {number} applied; schedule {:?}",
            cron.spec.schedule
        )
    };
    let status = CronAppStatus {
        observed_generation: generation,
        phase: Some(AppPhase::Available),
        revision: Some(number),
        last_schedule_time: job_status.last_schedule_time.map(|t| t.0.to_string()),
        last_successful_time: job_status.last_successful_time.map(|t| t.0.to_string()),
        active,
        conditions: vec![
            condition(
                &previous.conditions,
                "Available",
                true,
                "Applied",
                &message,
                generation,
            ),
            condition(
                &previous.conditions,
                "Degraded",
                false,
                "AsExpected",
                "",
                generation,
            ),
        ],
        message: Some(message),
    };
    patch_status(client, cron, &owner, &status).await?;
    Ok(Action::requeue(RESYNC))
}

/// Records `record` as the next revision; returns its number and objects.
async fn record_new(
    client: &kube::Client,
    owner: &Owner,
    revisions: &[revisions::Revision],
    status_revision: Option<i64>,
    record: RevisionRecord,
) -> Result<(i64, Vec<Value>), OperatorError> {
    let number = revisions::next_number(revisions, status_revision);
    let revision = revisions::record(client, owner, number, record).await?;
    let mut keep = vec![number];
    keep.extend(status_revision);
    revisions::trim(client, owner, revisions, &keep).await;
    Ok((number, revision.record.objects))
}

async fn invalid(
    ctx: &Context,
    cron: &CronApp,
    owner: &Owner,
    message: String,
) -> Result<Action, OperatorError> {
    tracing::info!(
        cronapp = owner.name,
        namespace = owner.namespace,
        message,
        "invalid CronApp spec"
    );
    let previous = cron.status.clone().unwrap_or_default();
    let mut status = previous.clone();
    status.observed_generation = cron.metadata.generation;
    status.phase = Some(AppPhase::Invalid);
    status.message = Some(message.clone());
    let available = previous
        .conditions
        .iter()
        .find(|c| c.type_ == "Available")
        .cloned();
    status.conditions = available
        .into_iter()
        .chain([condition(
            &previous.conditions,
            "Degraded",
            true,
            "InvalidSpec",
            &message,
            cron.metadata.generation,
        )])
        .collect();
    patch_status(&ctx.client, cron, owner, &status).await?;
    Ok(Action::requeue(RESYNC))
}

async fn cronjob(
    client: &kube::Client,
    owner: &Owner,
    objects: &[Value],
) -> Result<Option<CronJob>, OperatorError> {
    let name = objects
        .iter()
        .find(|o| is_cronjob(o))
        .and_then(|o| o.pointer("/metadata/name"))
        .and_then(Value::as_str)
        .unwrap_or(&owner.name);
    let api: Api<CronJob> = Api::namespaced(client.clone(), &owner.namespace);
    Ok(api.get_opt(name).await?)
}

async fn patch_status(
    client: &kube::Client,
    cron: &CronApp,
    owner: &Owner,
    status: &CronAppStatus,
) -> Result<(), OperatorError> {
    if cron.status.as_ref() == Some(status) {
        return Ok(());
    }
    let patch = status_patch(cron.status.as_ref(), status)?;
    let api: Api<CronApp> = Api::namespaced(client.clone(), &owner.namespace);
    api.patch_status(&owner.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}

/// The image of the first container of the rendered CronJob.
pub fn image_of(objects: &[Value]) -> Option<String> {
    objects
        .iter()
        .find(|o| is_cronjob(o))?
        .pointer("/spec/jobTemplate/spec/template/spec/containers/0/image")?
        .as_str()
        .map(str::to_string)
}
