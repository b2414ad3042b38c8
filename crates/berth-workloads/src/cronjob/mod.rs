//! The CronJob controller (upstream `pkg/controller/cronjob/cronjob_controllerv2.go`): creates a
//! Job named `<cronjob>-<scheduled unix minutes>` at each schedule time, keeps `status.active`,
//! `lastScheduleTime` and `lastSuccessfulTime`, applies the concurrency policy and starting
//! deadline, and deletes finished Jobs beyond the history limits.
//!
//! Each CronJob is requeued for exactly its next schedule time (plus 100 ms), never polled.
//! Time comes from an injectable [`Clock`].

pub mod schedule;

use std::collections::HashSet;
use std::sync::Arc;

use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use k8s_openapi::jiff::tz::TimeZone;
use kube::Client;
use kube::api::{Api, DeleteParams, ObjectMeta, Patch, PatchParams, PostParams};
use serde_json::json;
use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::events::{self, Recorder};
use crate::informer::{Informer, Informers};
use crate::job::{condition_true, is_finished_job};
use crate::meta::{Key, controller_ref, new_controller_ref};
use crate::replicaset::{ERROR_BACKOFF, api_message};
use berth_controllers::runtime::WorkQueue;
use berth_controllers::runtime::{Requeue, run_workers};
use schedule::Plan;

pub const SCHEDULED_TIMESTAMP: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";
/// Concurrent syncs. Upstream's `--concurrent-cron-job-syncs` is 5; a sync is mostly waiting on
/// two API writes, and a thousand CronJobs falling due in the same second must all start
/// within it, so more run at once here.
const WORKERS: usize = 50;

/// The source of "now" for schedule decisions; tests inject a fake one.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// The CronJob controller. Build with [`CronJobController::new`] (system clock) or
/// [`CronJobController::with_clock`], then [`CronJobController::run`].
pub struct CronJobController {
    informers: Arc<Informers>,
    clock: Arc<dyn Clock>,
}

struct Inner {
    client: Client,
    cron_jobs: Arc<Informer<CronJob>>,
    jobs: Arc<Informer<Job>>,
    queue: Arc<WorkQueue<Key>>,
    recorder: Recorder,
    clock: Arc<dyn Clock>,
}

impl CronJobController {
    pub fn new(client: Client) -> Self {
        Self::with_clock(client, Arc::new(SystemClock))
    }

    pub fn with_clock(client: Client, clock: Arc<dyn Clock>) -> Self {
        CronJobController {
            informers: Informers::new(client),
            clock,
        }
    }

    pub(crate) fn with_informers(informers: Arc<Informers>) -> Self {
        CronJobController {
            informers,
            clock: Arc::new(SystemClock),
        }
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        tracing::info!("starting cronjob controller");
        let client = self.informers.client().clone();
        let inner = Arc::new(Inner {
            client: client.clone(),
            cron_jobs: self.informers.cron_jobs(),
            jobs: self.informers.jobs(),
            queue: WorkQueue::new(ERROR_BACKOFF),
            recorder: Recorder::new(client, "cronjob-controller"),
            clock: self.clock,
        });
        let weak = Arc::downgrade(&inner);
        inner.cron_jobs.add_handler(Box::new(move |_, new| {
            if let (Some(inner), Some(cj)) = (weak.upgrade(), new) {
                inner.queue.add(Key::of(cj));
            }
        }));
        let weak = Arc::downgrade(&inner);
        inner.jobs.add_handler(Box::new(move |old, new| {
            let Some(inner) = weak.upgrade() else { return };
            for job in [old, new].into_iter().flatten() {
                if let Some(r) = controller_ref(&job.metadata).filter(|r| r.kind == "CronJob") {
                    inner.queue.add(Key::new(
                        job.metadata.namespace.as_deref().unwrap_or(""),
                        &r.name,
                    ));
                }
            }
        }));
        inner.cron_jobs.synced().await;
        inner.jobs.synced().await;
        for cj in inner.cron_jobs.store().state() {
            inner.queue.add(Key::of(&*cj));
        }
        let worker_inner = inner.clone();
        run_workers(
            "cronjob",
            inner.queue.clone(),
            WORKERS,
            shutdown,
            move |key| {
                let inner = worker_inner.clone();
                async move { inner.sync(&key).await }
            },
        )
        .await;
    }
}

fn job_ref(job: &Job) -> ObjectReference {
    ObjectReference {
        api_version: Some("batch/v1".into()),
        kind: Some("Job".into()),
        name: job.metadata.name.clone(),
        namespace: job.metadata.namespace.clone(),
        uid: job.metadata.uid.clone(),
        resource_version: job.metadata.resource_version.clone(),
        field_path: None,
    }
}

fn finished_condition(job: &Job) -> &'static str {
    if condition_true(job, "Failed") {
        "Failed"
    } else {
        "Complete"
    }
}

fn time_zone(cj: &CronJob) -> Result<TimeZone, String> {
    match cj.spec.as_ref().and_then(|s| s.time_zone.as_deref()) {
        None => Ok(TimeZone::system()),
        Some(name) => TimeZone::get(name).map_err(|e| e.to_string()),
    }
}

impl Inner {
    fn api(&self, ns: &str) -> Api<CronJob> {
        Api::namespaced(self.client.clone(), ns)
    }

    fn job_api(&self, ns: &str) -> Api<Job> {
        Api::namespaced(self.client.clone(), ns)
    }

    async fn sync(&self, key: &Key) -> Result<Requeue> {
        let Some(cj) = self.cron_jobs.get(&key.namespace, &key.name) else {
            return Ok(None);
        };
        let mut cj = (*cj).clone();
        let uid = cj.metadata.uid.clone().unwrap_or_default();
        let jobs: Vec<Arc<Job>> = self
            .jobs
            .in_namespace(&key.namespace)
            .into_iter()
            .filter(|j| controller_ref(&j.metadata).is_some_and(|r| r.uid == uid))
            .collect();
        let now = self.clock.now();
        let listed = |cj: &CronJob, job: &Job| {
            cj.status
                .as_ref()
                .and_then(|s| s.active.as_ref())
                .is_some_and(|a| a.iter().any(|r| r.uid == job.metadata.uid))
        };
        if jobs.iter().any(|j| !listed(&cj, j) && !is_finished_job(j)) {
            // Our cache may not show the status we wrote after creating that Job yet: read
            // the CronJob afresh before calling the Job unexpected (as upstream).
            if let Some(fresh) = self.api(&key.namespace).get_opt(&key.name).await?
                && fresh.metadata.uid == cj.metadata.uid
            {
                cj = fresh;
            }
        }
        let mut status = cj.status.clone().unwrap_or_default();
        let mut active = status.active.clone().unwrap_or_default();
        let mut update = false;

        // Reconcile the active list with the Jobs that exist.
        let children: HashSet<&str> = jobs
            .iter()
            .filter_map(|j| j.metadata.uid.as_deref())
            .collect();
        for job in &jobs {
            let juid = job.metadata.uid.as_deref();
            let listed = active.iter().any(|r| r.uid.as_deref() == juid);
            let finished = is_finished_job(job);
            let name = job.metadata.name.clone().unwrap_or_default();
            if !listed && !finished {
                self.recorder.event(
                    &cj,
                    events::WARNING,
                    "UnexpectedJob",
                    format!("Saw a job that the controller did not create or forgot: {name}"),
                );
            } else if listed && finished {
                active.retain(|r| r.uid.as_deref() != juid);
                self.recorder.event(
                    &cj,
                    events::NORMAL,
                    "SawCompletedJob",
                    format!(
                        "Saw completed job: {name}, condition: {}",
                        finished_condition(job)
                    ),
                );
                update = true;
            }
            if condition_true(job, "Complete")
                && let Some(done) = job.status.as_ref().and_then(|s| s.completion_time.clone())
                && status
                    .last_successful_time
                    .as_ref()
                    .is_none_or(|t| t.0 < done.0)
            {
                status.last_successful_time = Some(done);
                update = true;
            }
        }
        let mut missing = Vec::new();
        for r in &active {
            if r.uid.as_deref().is_some_and(|u| !children.contains(u)) {
                // The cache may lag a fresh Job: ask the server before dropping it.
                let name = r.name.clone().unwrap_or_default();
                if self.job_api(&key.namespace).get_opt(&name).await?.is_none() {
                    self.recorder.event(
                        &cj,
                        events::NORMAL,
                        "MissingJob",
                        format!("Active job went missing: {name}"),
                    );
                    missing.push(r.uid.clone());
                }
            }
        }
        if !missing.is_empty() {
            active.retain(|r| !missing.contains(&r.uid));
            update = true;
        }
        status.active = Some(active.clone());
        cj.status = Some(status.clone());
        if update {
            self.write_status(&cj).await?;
        }
        if cj.metadata.deletion_timestamp.is_some() {
            return Ok(None);
        }
        self.cleanup_finished(&cj, &jobs).await?;

        let spec = cj.spec.clone().unwrap_or_default();
        let tz = match time_zone(&cj) {
            Ok(tz) => tz,
            Err(e) => {
                self.recorder.event(
                    &cj,
                    events::WARNING,
                    "UnknownTimeZone",
                    format!(
                        "invalid timeZone: {:?}: {e}",
                        spec.time_zone.unwrap_or_default()
                    ),
                );
                return Ok(None);
            }
        };
        if spec.suspend.unwrap_or(false) {
            return Ok(None);
        }
        let sched = match schedule::parse(&spec.schedule, tz.clone()) {
            Ok(s) => s,
            Err(e) => {
                self.recorder.event(
                    &cj,
                    events::WARNING,
                    "UnparseableSchedule",
                    format!("unparseable schedule: {:?} : {e}", spec.schedule),
                );
                return Ok(None);
            }
        };
        let plan = match schedule::plan(&cj, &sched, now) {
            Ok(p) => p,
            Err(e) => {
                self.recorder.event(
                    &cj,
                    events::WARNING,
                    "InvalidSchedule",
                    format!("invalid schedule: {} : {e}", spec.schedule),
                );
                return Ok(None);
            }
        };
        let requeue = |cj: &CronJob| Some(schedule::next_delay(cj, &sched, self.clock.now()));
        match plan {
            Plan::Wait | Plan::AlreadyDone => Ok(requeue(&cj)),
            Plan::Missed { scheduled } => {
                self.recorder.event(
                    &cj,
                    events::WARNING,
                    "MissSchedule",
                    format!(
                        "Missed scheduled time to start a job: {}",
                        scheduled.strftime("%a, %d %b %Y %H:%M:%S +0000")
                    ),
                );
                Ok(requeue(&cj))
            }
            Plan::Forbidden => {
                self.recorder.event(&cj, events::NORMAL, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid".into());
                Ok(requeue(&cj))
            }
            Plan::Run {
                scheduled,
                replace,
                too_many_missed,
            } => {
                if too_many_missed {
                    self.recorder.event(&cj, events::WARNING, "TooManyMissedTimes", "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew".into());
                }
                if replace {
                    for r in active.clone() {
                        self.delete_job(&cj, &key.namespace, r.name.as_deref().unwrap_or(""))
                            .await?;
                        active.retain(|a| a.uid != r.uid);
                    }
                }
                self.start_job(&mut cj, active, scheduled, &tz).await?;
                Ok(requeue(&cj))
            }
        }
    }

    async fn start_job(
        &self,
        cj: &mut CronJob,
        mut active: Vec<ObjectReference>,
        scheduled: Timestamp,
        tz: &TimeZone,
    ) -> Result<()> {
        let ns = cj.metadata.namespace.clone().unwrap_or_default();
        let job = job_from_template(cj, scheduled, tz);
        let name = job.metadata.name.clone().unwrap_or_default();
        let created = match self.job_api(&ns).create(&PostParams::default(), &job).await {
            Ok(j) => {
                self.recorder.event(
                    cj,
                    events::NORMAL,
                    "SuccessfulCreate",
                    format!("Created job {name}"),
                );
                j
            }
            Err(e) => {
                let e = Error::from(e);
                if !e.is_already_exists() {
                    self.recorder.event(
                        cj,
                        events::WARNING,
                        "FailedCreate",
                        format!("Error creating job: {}", api_message(&e)),
                    );
                    return Err(e);
                }
                // Created before (our status write was lost or the cache lags): the same run,
                // never a second one.
                let existing = self.job_api(&ns).get(&name).await?;
                if !crate::meta::is_controlled_by(
                    &existing.metadata,
                    cj.metadata.uid.as_deref().unwrap_or(""),
                ) {
                    return Err(e);
                }
                existing
            }
        };
        if !is_finished_job(&created) && !active.iter().any(|r| r.uid == created.metadata.uid) {
            active.push(job_ref(&created));
        }
        let status = cj.status.get_or_insert_with(Default::default);
        status.active = Some(active);
        status.last_schedule_time = Some(Time(scheduled));
        self.write_status(cj).await
    }

    async fn delete_job(&self, cj: &CronJob, ns: &str, name: &str) -> Result<()> {
        match self
            .job_api(ns)
            .delete(name, &DeleteParams::background())
            .await
        {
            Ok(_) => {
                self.recorder.event(
                    cj,
                    events::NORMAL,
                    "SuccessfulDelete",
                    format!("Deleted job {name}"),
                );
                Ok(())
            }
            Err(e) => {
                let e = Error::from(e);
                if e.is_not_found() {
                    return Ok(());
                }
                self.recorder.event(
                    cj,
                    events::WARNING,
                    "FailedDelete",
                    format!("Deleted job: {}", api_message(&e)),
                );
                Err(e)
            }
        }
    }

    /// Deletes the oldest finished Jobs beyond the history limits (upstream
    /// `cleanupFinishedJobs`).
    async fn cleanup_finished(&self, cj: &CronJob, jobs: &[Arc<Job>]) -> Result<()> {
        let spec = cj.spec.clone().unwrap_or_default();
        let ns = cj.metadata.namespace.clone().unwrap_or_default();
        for (failed, limit) in [
            (false, spec.successful_jobs_history_limit.unwrap_or(3)),
            (true, spec.failed_jobs_history_limit.unwrap_or(1)),
        ] {
            let mut finished: Vec<&Arc<Job>> = jobs
                .iter()
                .filter(|j| j.metadata.deletion_timestamp.is_none())
                .filter(|j| {
                    if failed {
                        condition_true(j, "Failed")
                    } else {
                        condition_true(j, "Complete")
                    }
                })
                .collect();
            let excess = finished
                .len()
                .saturating_sub(usize::try_from(limit).unwrap_or(0));
            if excess == 0 {
                continue;
            }
            finished.sort_by(|a, b| {
                let start = |j: &Job| {
                    j.status
                        .as_ref()
                        .and_then(|s| s.start_time.as_ref())
                        .map(|t| t.0)
                };
                match (start(a), start(b)) {
                    (Some(x), Some(y)) => x.cmp(&y),
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, None) => std::cmp::Ordering::Equal,
                }
                .then_with(|| a.metadata.name.cmp(&b.metadata.name))
            });
            for job in finished.into_iter().take(excess) {
                self.delete_job(cj, &ns, job.metadata.name.as_deref().unwrap_or(""))
                    .await?;
            }
        }
        Ok(())
    }

    async fn write_status(&self, cj: &CronJob) -> Result<()> {
        let status = cj.status.clone().unwrap_or_default();
        let patch = json!({
            "metadata": {"uid": cj.metadata.uid},
            "status": {
                "active": status.active.filter(|a| !a.is_empty()),
                "lastScheduleTime": status.last_schedule_time,
                "lastSuccessfulTime": status.last_successful_time,
            }
        });
        self.api(cj.metadata.namespace.as_deref().unwrap_or(""))
            .patch_status(
                cj.metadata.name.as_deref().unwrap_or(""),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await?;
        Ok(())
    }
}

/// The Job for one scheduled run (upstream `getJobFromTemplate2`).
fn job_from_template(cj: &CronJob, scheduled: Timestamp, tz: &TimeZone) -> Job {
    let template = cj
        .spec
        .as_ref()
        .map(|s| s.job_template.clone())
        .unwrap_or_default();
    let tm = template.metadata.unwrap_or_default();
    let mut annotations = tm.annotations.unwrap_or_default();
    annotations.insert(
        SCHEDULED_TIMESTAMP.into(),
        schedule::scheduled_timestamp(scheduled, tz),
    );
    Job {
        metadata: ObjectMeta {
            name: Some(schedule::job_name(
                cj.metadata.name.as_deref().unwrap_or(""),
                scheduled,
            )),
            namespace: cj.metadata.namespace.clone(),
            labels: tm.labels,
            annotations: Some(annotations),
            owner_references: Some(vec![new_controller_ref(cj)]),
            ..ObjectMeta::default()
        },
        spec: Some(template.spec.unwrap_or_default()),
        status: None,
    }
}
