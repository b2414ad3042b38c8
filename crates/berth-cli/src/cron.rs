//! `berth cron list|runs|trigger`.

use std::process::ExitCode;
use std::time::Duration;

use berth_spec::CronApp;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams, PostParams};
use rand::Rng;

use crate::common::{get_cron, is_not_found, owner_selector};
use crate::output::{Printer, age_of_str, human_duration, list_of, table};
use crate::{CliError, ClientArgs, Connection, OutputArgs, OutputFormat};

/// The annotation `kubectl create job --from=cronjob/...` sets on the Job.
pub const INSTANTIATE_ANNOTATION: &str = "cronjob.kubernetes.io/instantiate";

#[derive(clap::Subcommand, Clone, Debug)]
pub enum CronCommand {
    /// List CronApps.
    List(CronListArgs),
    /// List the runs (Jobs) of a CronApp.
    Runs(CronRunsArgs),
    /// Start a run now.
    Trigger(CronTriggerArgs),
}

#[derive(clap::Args, Clone, Debug)]
pub struct CronListArgs {
    /// Across all namespaces.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(clap::Args, Clone, Debug)]
pub struct CronRunsArgs {
    pub name: String,
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(clap::Args, Clone, Debug)]
pub struct CronTriggerArgs {
    pub name: String,
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

impl CronCommand {
    pub fn client_args(&self) -> &ClientArgs {
        match self {
            CronCommand::List(a) => &a.client,
            CronCommand::Runs(a) => &a.client,
            CronCommand::Trigger(a) => &a.client,
        }
    }

    pub fn output_format(&self) -> OutputFormat {
        match self {
            CronCommand::List(a) => a.output.output,
            CronCommand::Runs(a) => a.output.output,
            CronCommand::Trigger(a) => a.output.output,
        }
    }
}

pub async fn run(cmd: CronCommand, conn: &Connection, out: &Printer) -> Result<ExitCode, CliError> {
    match cmd {
        CronCommand::List(a) => list(a, conn, out).await,
        CronCommand::Runs(a) => runs(a, conn, out).await,
        CronCommand::Trigger(a) => {
            let namespace = conn.namespace(&a.client);
            let job = trigger_job(&conn.client, &namespace, &a.name).await?;
            if out.is_human() {
                out.line(format!(
                    "job.batch/{} created",
                    job.metadata.name.clone().unwrap_or_default()
                ));
            } else {
                out.structured(&job)?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn list(args: CronListArgs, conn: &Connection, out: &Printer) -> Result<ExitCode, CliError> {
    let namespace = conn.namespace(&args.client);
    let api: Api<CronApp> = if args.all_namespaces {
        Api::all(conn.client.clone())
    } else {
        Api::namespaced(conn.client.clone(), &namespace)
    };
    let crons = api.list(&ListParams::default()).await?.items;
    if !out.is_human() {
        let items = crons
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| CliError::Serialize(e.to_string()))?;
        out.structured(&list_of(items))?;
        return Ok(ExitCode::SUCCESS);
    }
    if crons.is_empty() {
        out.line(format!("No CronApps found in {namespace} namespace."));
        return Ok(ExitCode::SUCCESS);
    }
    let mut headers = vec![
        "NAME",
        "SCHEDULE",
        "TZ",
        "SUSPEND",
        "LAST-SCHEDULE",
        "LAST-SUCCESS",
        "ACTIVE",
    ];
    let rows: Vec<Vec<String>> = crons
        .iter()
        .map(|c| {
            let mut row = cron_row(c);
            if args.all_namespaces {
                row.insert(0, c.metadata.namespace.clone().unwrap_or_default());
            }
            row
        })
        .collect();
    if args.all_namespaces {
        headers.insert(0, "NAMESPACE");
    }
    out.text(table(&headers, &rows));
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn cron_row(c: &CronApp) -> Vec<String> {
    let status = c.status.clone().unwrap_or_default();
    vec![
        c.metadata.name.clone().unwrap_or_default(),
        c.spec.schedule.clone(),
        c.spec.time_zone.clone().unwrap_or_else(|| "<none>".into()),
        c.spec.suspend.to_string(),
        age_of_str(status.last_schedule_time.as_deref()),
        age_of_str(status.last_successful_time.as_deref()),
        status.active.len().to_string(),
    ]
}

/// Succeeded, Failed or Running, from the Job's conditions.
pub(crate) fn job_state(job: &Job) -> &'static str {
    let conditions = job
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let has = |t: &str| {
        conditions
            .iter()
            .any(|c| c.type_ == t && c.status == "True")
    };
    if has("Complete") {
        "Succeeded"
    } else if has("Failed") {
        "Failed"
    } else {
        "Running"
    }
}

fn is_manual(job: &Job) -> bool {
    job.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(INSTANTIATE_ANNOTATION))
        .is_some_and(|v| v == "manual")
}

/// JOB START DURATION STATUS MANUAL of a Job, at `now`.
pub(crate) fn job_row(job: &Job, now: Timestamp) -> Vec<String> {
    let status = job.status.clone().unwrap_or_default();
    let start = status.start_time.as_ref().map(|t| t.0);
    let end = status.completion_time.as_ref().map(|t| t.0);
    let duration = match (start, end) {
        (Some(s), Some(e)) => secs_between(s, e),
        (Some(s), None) if job_state(job) == "Running" => secs_between(s, now),
        _ => None,
    };
    vec![
        job.metadata.name.clone().unwrap_or_default(),
        start.map_or("<none>".to_string(), |s| {
            format!("{} ago", crate::output::age_at(Some(s), now))
        }),
        duration.map_or("<none>".to_string(), human_duration),
        job_state(job).to_string(),
        if is_manual(job) { "yes" } else { "no" }.to_string(),
    ]
}

fn secs_between(a: Timestamp, b: Timestamp) -> Option<Duration> {
    u64::try_from(b.as_second() - a.as_second())
        .ok()
        .map(Duration::from_secs)
}

async fn runs(args: CronRunsArgs, conn: &Connection, out: &Printer) -> Result<ExitCode, CliError> {
    let namespace = conn.namespace(&args.client);
    get_cron(&conn.client, &namespace, &args.name).await?;
    let jobs: Api<Job> = Api::namespaced(conn.client.clone(), &namespace);
    let mut jobs = jobs
        .list(&ListParams::default().labels(&owner_selector("CronApp", &args.name)))
        .await?
        .items;
    jobs.sort_by_key(|j| {
        j.status
            .as_ref()
            .and_then(|s| s.start_time.as_ref().map(|t| t.0))
            .or(j.metadata.creation_timestamp.as_ref().map(|t| t.0))
    });
    if !out.is_human() {
        let items = jobs
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| CliError::Serialize(e.to_string()))?;
        out.structured(&list_of(items))?;
        return Ok(ExitCode::SUCCESS);
    }
    if jobs.is_empty() {
        out.line(format!("No runs of CronApp {:?} yet.", args.name));
        return Ok(ExitCode::SUCCESS);
    }
    let now = Timestamp::now();
    let rows: Vec<Vec<String>> = jobs.iter().map(|j| job_row(j, now)).collect();
    out.text(table(
        &["JOB", "START", "DURATION", "STATUS", "MANUAL"],
        &rows,
    ));
    Ok(ExitCode::SUCCESS)
}

/// `<name>-manual-<5 random lowercase letters>`, the base cut so the name stays within 63
/// characters (a Job's name becomes a label value of its pods).
pub(crate) fn manual_job_name(cron: &str, suffix: &str) -> String {
    let max_base = 63 - "-manual-".len() - suffix.len();
    let base: String = cron.chars().take(max_base).collect();
    format!("{}-manual-{suffix}", base.trim_end_matches('-'))
}

/// The Job `kubectl create job --from=cronjob/<cron>` builds: the jobTemplate's labels,
/// annotations and spec, `cronjob.kubernetes.io/instantiate: manual`, and the CronJob as its
/// controller owner.
pub(crate) fn job_from_cronjob(cronjob: &CronJob, name: &str) -> Job {
    let template = cronjob
        .spec
        .as_ref()
        .map(|s| s.job_template.clone())
        .unwrap_or_default();
    let template_meta = template.metadata.unwrap_or_default();
    let mut annotations = template_meta.annotations.unwrap_or_default();
    annotations.insert(INSTANTIATE_ANNOTATION.to_string(), "manual".to_string());
    Job {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: cronjob.metadata.namespace.clone(),
            labels: template_meta.labels,
            annotations: Some(annotations),
            owner_references: Some(vec![OwnerReference {
                api_version: "batch/v1".to_string(),
                kind: "CronJob".to_string(),
                name: cronjob.metadata.name.clone().unwrap_or_default(),
                uid: cronjob.metadata.uid.clone().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        spec: template.spec,
        status: None,
    }
}

/// Creates a run of CronApp `name` now, from its CronJob; returns the Job.
pub async fn trigger_job(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Job, CliError> {
    let cronjobs: Api<CronJob> = Api::namespaced(client.clone(), namespace);
    let cronjob = match cronjobs.get(name).await {
        Ok(c) => c,
        Err(e) if is_not_found(&e) => {
            // Say which is missing: the CronApp, or its CronJob (operator not done yet).
            get_cron(client, namespace, name).await?;
            return Err(CliError::Usage(format!(
                "CronApp {name:?} has no CronJob yet (has the operator reconciled it? see `berth status {name}`)"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let suffix: String = {
        let mut rng = rand::rng();
        (0..5)
            .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
            .collect()
    };
    let job = job_from_cronjob(&cronjob, &manual_job_name(name, &suffix));
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    Ok(jobs.create(&PostParams::default(), &job).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::{JobCondition, JobStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    #[test]
    fn manual_job_names_fit_in_a_label() {
        assert_eq!(manual_job_name("report", "abcde"), "report-manual-abcde");
        let long = "r".repeat(52);
        let name = manual_job_name(&long, "abcde");
        assert_eq!(name.len(), 63, "{name}");
        assert!(name.ends_with("-manual-abcde"));
    }

    #[test]
    fn job_rows_show_state_duration_and_manual() {
        let now: Timestamp = "2026-01-01T01:00:00Z".parse().expect("now");
        let start: Timestamp = "2026-01-01T00:00:00Z".parse().expect("start");
        let end: Timestamp = "2026-01-01T00:02:05Z".parse().expect("end");
        let mut job = Job::default();
        job.metadata.name = Some("report-1".into());
        job.metadata.annotations =
            Some([(INSTANTIATE_ANNOTATION.to_string(), "manual".to_string())].into());
        job.status = Some(JobStatus {
            start_time: Some(Time(start)),
            completion_time: Some(Time(end)),
            conditions: Some(vec![JobCondition {
                type_: "Complete".into(),
                status: "True".into(),
                ..Default::default()
            }]),
            ..Default::default()
        });
        assert_eq!(
            job_row(&job, now),
            ["report-1", "60m ago", "2m5s", "Succeeded", "yes"]
        );
        job.status = Some(JobStatus {
            start_time: Some(Time(start)),
            ..Default::default()
        });
        job.metadata.annotations = None;
        assert_eq!(job_row(&job, now)[2..], ["60m", "Running", "no"]);
    }
}
