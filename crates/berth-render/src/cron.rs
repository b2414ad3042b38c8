//! CronApp -> ConfigMap, CronJob.

use std::collections::BTreeMap;

use berth_spec::{Concurrency, CronAppSpec};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use crate::container::{Process, container};
use crate::files::{FILES_HASH_ANNOTATION, render_files};
use crate::labels::Owner;
use crate::{RenderContext, RenderError, check_object, to_value};

/// Name of a job's container.
pub const JOB_CONTAINER: &str = "job";
/// Never two runs of a job at once unless the spec says so: most jobs are not written to run
/// concurrently with themselves.
const DEFAULT_CONCURRENCY: Concurrency = Concurrency::Forbid;
/// Without a deadline, a CronJob controller that was down at the scheduled time skips that run;
/// with one it catches up a run missed by up to this long.
const DEFAULT_STARTING_DEADLINE: i64 = 300;
/// The CronJob controller looks every 10 seconds; a shorter deadline can miss runs entirely.
const MIN_STARTING_DEADLINE: i64 = 10;
const DEFAULT_RETRIES: i32 = 2;
const JOBS_HISTORY_LIMIT: i32 = 3;

/// Renders a CronApp named `name`: a ConfigMap (when there are config files) and a CronJob.
/// `spec.environment`'s override is applied first.
pub fn render_cron(
    name: &str,
    spec: &CronAppSpec,
    ctx: &RenderContext,
) -> Result<Vec<Value>, RenderError> {
    let spec = berth_spec::resolve_cron(spec)?;
    let owner = Owner::new(
        "CronApp",
        name,
        spec.project.as_deref(),
        spec.environment.as_deref(),
        ctx,
    )?;
    let files = render_files(&owner, &spec.config_files)?;
    let process = Process {
        runtime: spec.runtime.as_deref(),
        image: spec.image.as_deref(),
        entrypoint: spec.entrypoint.as_deref(),
        command: spec.command.as_deref(),
        args: spec.args.as_deref(),
        working_dir: spec.working_dir.as_deref(),
        resources: spec.resources.as_ref(),
        env: &spec.env,
    };
    let container = container(JOB_CONTAINER, &process, files.as_ref())?;

    let starting_deadline = spec
        .starting_deadline_seconds
        .unwrap_or(DEFAULT_STARTING_DEADLINE);
    if starting_deadline < MIN_STARTING_DEADLINE {
        return Err(RenderError::invalid(
            "startingDeadlineSeconds",
            format!("{starting_deadline} must be at least {MIN_STARTING_DEADLINE}"),
        ));
    }
    let retries = spec.retries.unwrap_or(DEFAULT_RETRIES);
    if retries < 0 {
        return Err(RenderError::invalid(
            "retries",
            format!("{retries} must not be negative"),
        ));
    }
    if let Some(deadline) = spec.deadline_seconds
        && deadline < 1
    {
        return Err(RenderError::invalid(
            "deadlineSeconds",
            format!("{deadline} must be at least 1"),
        ));
    }

    let annotations = files
        .as_ref()
        .map(|f| BTreeMap::from([(FILES_HASH_ANNOTATION.to_string(), f.hash.clone())]));
    let cron_job = CronJob {
        metadata: owner.object_meta(name),
        spec: Some(CronJobSpec {
            schedule: spec.schedule.clone(),
            time_zone: spec.time_zone.clone(),
            concurrency_policy: Some(
                spec.concurrency
                    .unwrap_or(DEFAULT_CONCURRENCY)
                    .as_str()
                    .to_string(),
            ),
            starting_deadline_seconds: Some(starting_deadline),
            // Always written, so the operator's apply owns it and un-suspends too.
            suspend: Some(spec.suspend),
            successful_jobs_history_limit: Some(JOBS_HISTORY_LIMIT),
            failed_jobs_history_limit: Some(JOBS_HISTORY_LIMIT),
            job_template: JobTemplateSpec {
                // Jobs carry the owner label too, so `berth` finds a CronApp's runs.
                metadata: Some(ObjectMeta {
                    labels: Some(owner.labels.clone()),
                    ..Default::default()
                }),
                spec: Some(JobSpec {
                    backoff_limit: Some(retries),
                    active_deadline_seconds: spec.deadline_seconds,
                    template: PodTemplateSpec {
                        metadata: Some(ObjectMeta {
                            labels: Some(owner.pod_labels(false, spec.log_type)),
                            annotations,
                            ..Default::default()
                        }),
                        spec: Some(PodSpec {
                            containers: vec![container],
                            restart_policy: Some("Never".to_string()),
                            // See the Deployment: service links overflowed the env (E2BIG).
                            enable_service_links: Some(false),
                            volumes: files.as_ref().map(|f| vec![f.volume.clone()]),
                            ..Default::default()
                        }),
                    },
                    ..Default::default()
                }),
            },
        }),
        ..Default::default()
    };

    let mut objects = Vec::new();
    if let Some(files) = &files {
        objects.push(to_value(&files.config_map)?);
    }
    objects.push(to_value(&cron_job)?);
    for object in &objects {
        check_object(object)?;
    }
    Ok(objects)
}
