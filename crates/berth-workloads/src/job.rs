//! The Job controller (upstream `pkg/controller/job`, v1.33): runs pods until `completions`
//! succeed (NonIndexed, or one per index with Indexed completion), within `parallelism`,
//! `backoffLimit` and `activeDeadlineSeconds`; supports `suspend`; and deletes finished Jobs
//! after `ttlSecondsAfterFinished` (the TTL-after-finished controller's job, folded in here).
//!
//! Finished pods are counted with finalizer tracking, as upstream: every pod carries the
//! `batch.kubernetes.io/job-tracking` finalizer; a finished pod's UID first goes to
//! `status.uncountedTerminatedPods`, then its finalizer is removed, then it moves into the
//! `succeeded`/`failed` counters, so no pod is counted twice or lost if it is deleted.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::join_all;
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobStatus, UncountedTerminatedPods};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde_json::json;
use tokio::sync::watch;

use crate::claim::Claimer;
use crate::error::{Error, Result};
use crate::events::{self, Recorder};
use crate::expectations::Expectations;
use crate::informer::{Informer, Informers};
use crate::meta::{self, Key, Selector, controller_ref, new_controller_ref};
use crate::pods;
use crate::replicaset::{ERROR_BACKOFF, create_pods, delete_pods};
use berth_controllers::runtime::Backoff;
use berth_controllers::runtime::WorkQueue;
use berth_controllers::runtime::{Requeue, run_workers};

pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";
pub const COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";
/// Concurrent syncs (upstream `--concurrent-job-syncs` is 5): more here so that the Jobs a
/// burst of CronJobs creates start their pods promptly.
const WORKERS: usize = 20;
/// Delay before re-creating pods after failures (upstream `DefaultJobPodFailureBackOff` and
/// `MaxJobPodFailureBackOff`).
const POD_FAILURE_BACKOFF: Backoff = Backoff {
    base: Duration::from_secs(10),
    max: Duration::from_secs(360),
};
const MAX_PODS_PER_SYNC: usize = 500;

/// The Job controller (with TTL-after-finished). Build with [`JobController::new`], then
/// [`JobController::run`].
pub struct JobController {
    informers: Arc<Informers>,
}

struct Inner {
    client: Client,
    jobs: Arc<Informer<Job>>,
    pods: Arc<Informer<Pod>>,
    queue: Arc<WorkQueue<Key>>,
    expectations: Expectations,
    recorder: Recorder,
    /// Failures since the last success, and when the last was seen (upstream `backoffRecord`).
    backoff: Mutex<HashMap<Key, (u32, Instant)>>,
}

impl JobController {
    pub fn new(client: Client) -> Self {
        Self::with_informers(Informers::new(client))
    }

    pub(crate) fn with_informers(informers: Arc<Informers>) -> Self {
        JobController { informers }
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        tracing::info!("starting job controller");
        let client = self.informers.client().clone();
        let inner = Arc::new(Inner {
            client: client.clone(),
            jobs: self.informers.jobs(),
            pods: self.informers.pods(),
            queue: WorkQueue::new(ERROR_BACKOFF),
            expectations: Expectations::default(),
            recorder: Recorder::new(client, "job-controller"),
            backoff: Mutex::new(HashMap::new()),
        });
        let weak = Arc::downgrade(&inner);
        inner.jobs.add_handler(Box::new(move |old, new| {
            if let Some(inner) = weak.upgrade() {
                match (old, new) {
                    (_, Some(job)) => inner.queue.add(Key::of(job)),
                    (Some(job), None) => {
                        let key = Key::of(job);
                        inner.expectations.forget(&key);
                        inner.forget_backoff(&key);
                    }
                    _ => {}
                }
            }
        }));
        let weak = Arc::downgrade(&inner);
        inner.pods.add_handler(Box::new(move |old, new| {
            if let Some(inner) = weak.upgrade() {
                inner.on_pod(old, new);
            }
        }));
        inner.jobs.synced().await;
        inner.pods.synced().await;
        for job in inner.jobs.store().state() {
            inner.queue.add(Key::of(&*job));
        }
        let worker_inner = inner.clone();
        run_workers("job", inner.queue.clone(), WORKERS, shutdown, move |key| {
            let inner = worker_inner.clone();
            async move { inner.sync(&key).await }
        })
        .await;
    }
}

fn job_key_of(pod: &Pod) -> Option<Key> {
    let r = controller_ref(&pod.metadata).filter(|r| r.kind == "Job")?;
    Some(Key::new(pod.metadata.namespace.as_deref()?, &r.name))
}

fn has_finalizer(pod: &Pod) -> bool {
    pod.metadata
        .finalizers
        .iter()
        .flatten()
        .any(|f| f == TRACKING_FINALIZER)
}

fn uid(pod: &Pod) -> String {
    pod.metadata.uid.clone().unwrap_or_default()
}

/// The completion index of an Indexed Job's pod.
fn completion_index(pod: &Pod) -> Option<i32> {
    pod.metadata
        .annotations
        .as_ref()?
        .get(COMPLETION_INDEX)?
        .parse()
        .ok()
}

/// A pod counts as failed if it failed, or if it was deleted before succeeding (upstream
/// `isPodFailed` for the default podReplacementPolicy).
fn is_failed(pod: &Pod) -> bool {
    pods::phase(pod) == "Failed"
        || (pod.metadata.deletion_timestamp.is_some() && pods::phase(pod) != "Succeeded")
}

fn is_finished(pod: &Pod) -> bool {
    pods::phase(pod) == "Succeeded" || is_failed(pod)
}

pub(crate) fn condition_true(job: &Job, type_: &str) -> bool {
    job.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == type_ && c.status == "True"))
}

/// Complete or Failed.
pub(crate) fn is_finished_job(job: &Job) -> bool {
    condition_true(job, "Complete") || condition_true(job, "Failed")
}

/// `1,3-5` for {1,3,4,5} (upstream `orderedIntervals` formatting).
pub fn format_indexes(indexes: &BTreeSet<i32>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut iter = indexes.iter().copied().peekable();
    while let Some(first) = iter.next() {
        let mut last = first;
        while iter.peek() == Some(&(last + 1)) {
            last += 1;
            iter.next();
        }
        parts.push(if first == last {
            first.to_string()
        } else {
            format!("{first}-{last}")
        });
    }
    parts.join(",")
}

pub fn parse_indexes(s: &str) -> BTreeSet<i32> {
    let mut out = BTreeSet::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<i32>(), b.parse::<i32>()) {
                    out.extend(a..=b);
                }
            }
            None => {
                if let Ok(i) = part.parse() {
                    out.insert(i);
                }
            }
        }
    }
    out
}

fn new_condition(type_: &str, status: &str, reason: &str, message: &str) -> JobCondition {
    let now = meta::now_time();
    JobCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        last_probe_time: Some(now.clone()),
        last_transition_time: Some(now),
    }
}

/// Sets a condition; true if it changed (upstream `ensureJobConditionStatus`).
fn set_condition(status: &mut JobStatus, cond: JobCondition) -> bool {
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    if let Some(c) = conditions.iter_mut().find(|c| c.type_ == cond.type_) {
        if c.status == cond.status && c.reason == cond.reason && c.message == cond.message {
            return false;
        }
        *c = cond;
        return true;
    }
    // A False condition that does not exist need not be added.
    if cond.status == "False" {
        return false;
    }
    conditions.push(cond);
    true
}

fn get_condition<'a>(status: &'a JobStatus, type_: &str) -> Option<&'a JobCondition> {
    status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == type_ && c.status == "True")
}

impl Inner {
    fn forget_backoff(&self, key: &Key) {
        self.backoff
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }

    fn on_pod(&self, old: Option<&Pod>, new: Option<&Pod>) {
        if let Some(pod) = new {
            self.release_orphan(pod);
        }
        match (old, new) {
            (None, Some(pod)) => {
                if let Some(key) = job_key_of(pod) {
                    if pod.metadata.deletion_timestamp.is_some() {
                        self.expectations
                            .deletion_observed(&key, &pods::pod_key(pod));
                    } else {
                        self.expectations.creation_observed(&key);
                    }
                    self.queue.add(key);
                }
            }
            (Some(old), Some(cur)) => {
                if old.metadata.resource_version == cur.metadata.resource_version {
                    return;
                }
                if let Some(key) = job_key_of(cur) {
                    if cur.metadata.deletion_timestamp.is_some() {
                        self.expectations
                            .deletion_observed(&key, &pods::pod_key(cur));
                    }
                    self.queue.add(key);
                }
            }
            (Some(pod), None) => {
                if let Some(key) = job_key_of(pod) {
                    self.expectations
                        .deletion_observed(&key, &pods::pod_key(pod));
                    self.queue.add(key);
                }
            }
            (None, None) => {}
        }
    }

    /// A pod being deleted whose Job is gone (deleted, with the garbage collector now deleting
    /// its pods) would keep the tracking finalizer for ever: drop it (upstream's orphan pod
    /// cleanup).
    fn release_orphan(&self, pod: &Pod) {
        if pod.metadata.deletion_timestamp.is_none() || !has_finalizer(pod) {
            return;
        }
        let owner = controller_ref(&pod.metadata).filter(|r| r.kind == "Job");
        let job_exists = owner.is_some_and(|r| {
            self.jobs
                .get(pod.metadata.namespace.as_deref().unwrap_or(""), &r.name)
                .is_some_and(|j| j.metadata.uid.as_deref() == Some(r.uid.as_str()))
        });
        if job_exists || (owner.is_none() && controller_ref(&pod.metadata).is_some()) {
            return;
        }
        let api = self.pod_api(pod.metadata.namespace.as_deref().unwrap_or(""));
        let pod = pod.clone();
        tokio::spawn(async move {
            if let Err(e) = remove_finalizer(&api, &pod).await {
                tracing::warn!(pod = %pods::pod_key(&pod), error = %e, "couldn't remove the job tracking finalizer of an orphan pod");
            }
        });
    }

    fn pod_api(&self, ns: &str) -> Api<Pod> {
        Api::namespaced(self.client.clone(), ns)
    }

    async fn sync(&self, key: &Key) -> Result<Requeue> {
        let Some(job) = self.jobs.get(&key.namespace, &key.name) else {
            self.expectations.forget(key);
            return Ok(None);
        };
        let job = (*job).clone();
        let spec = job.spec.clone().unwrap_or_default();
        let selector =
            Selector::from_label_selector(spec.selector.as_ref()).map_err(Error::Invalid)?;
        let job_uid = job.metadata.uid.clone().unwrap_or_default();
        let candidates: Vec<Arc<Pod>> = self
            .pods
            .in_namespace(&key.namespace)
            .into_iter()
            .filter(|p| controller_ref(&p.metadata).is_none_or(|r| r.uid == job_uid))
            .filter(|p| controller_ref(&p.metadata).is_some() || pods::is_active(p))
            .collect();
        let pods = Claimer {
            api: self.pod_api(&key.namespace),
            owner: new_controller_ref(&job),
            owner_deleting: job.metadata.deletion_timestamp.is_some(),
            selector: &selector,
        }
        .claim(candidates)
        .await?;

        if job.metadata.deletion_timestamp.is_some() {
            // Being deleted: nothing more is counted; let the pods go.
            self.remove_finalizers(pods.iter().map(|p| &**p)).await?;
            return Ok(None);
        }
        if is_finished_job(&job) {
            // Finished: release remaining pods' finalizers, then wait for the TTL.
            self.remove_finalizers(pods.iter().filter(|p| has_finalizer(p)).map(|p| &**p))
                .await?;
            return self.ttl_after_finished(&job).await;
        }
        let needs_sync = self.expectations.satisfied(key);
        let now = meta::now();
        let mut status = job.status.clone().unwrap_or_default();
        let indexed = spec.completion_mode.as_deref() == Some("Indexed");
        let suspended = spec.suspend.unwrap_or(false);

        // Finished pods not yet counted.
        let mut uncounted = status.uncounted_terminated_pods.clone().unwrap_or_default();
        let mut un_succeeded: BTreeSet<String> = uncounted
            .succeeded
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let mut un_failed: BTreeSet<String> = uncounted
            .failed
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let mut new_failures = 0u32;
        let mut newly = Vec::new();
        for p in pods.iter().filter(|p| has_finalizer(p) && is_finished(p)) {
            let u = uid(p);
            if un_succeeded.contains(&u) || un_failed.contains(&u) {
                continue;
            }
            if pods::phase(p) == "Succeeded" {
                un_succeeded.insert(u);
            } else {
                un_failed.insert(u);
                new_failures += 1;
            }
            newly.push(p.clone());
        }
        if new_failures > 0 {
            let mut b = self.backoff.lock().unwrap_or_else(|p| p.into_inner());
            let entry = b.entry(key.clone()).or_insert((0, Instant::now()));
            entry.0 += new_failures;
            entry.1 = Instant::now();
        } else if newly.iter().any(|p| pods::phase(p) == "Succeeded") {
            self.forget_backoff(key);
        }

        let active: Vec<Arc<Pod>> = pods
            .iter()
            .filter(|p| pods::is_active(p))
            .cloned()
            .collect();
        let terminating = pods
            .iter()
            .filter(|p| {
                p.metadata.deletion_timestamp.is_some()
                    && !matches!(pods::phase(p), "Succeeded" | "Failed")
            })
            .count();

        // Indexes completed, counted and uncounted.
        let mut completed = parse_indexes(status.completed_indexes.as_deref().unwrap_or(""));
        if indexed {
            for p in pods.iter().filter(|p| pods::phase(p) == "Succeeded") {
                if let Some(i) = completion_index(p)
                    && i < spec.completions.unwrap_or(0)
                {
                    completed.insert(i);
                }
            }
        }
        let succeeded =
            status.succeeded.unwrap_or(0) + i32::try_from(un_succeeded.len()).unwrap_or(0);
        let failed = status.failed.unwrap_or(0) + i32::try_from(un_failed.len()).unwrap_or(0);

        // Failure and success criteria (a target condition first, the final one once no pod runs).
        let backoff_limit = spec.backoff_limit.unwrap_or(6);
        let mut failure: Option<(&str, &str)> = get_condition(&status, "FailureTarget")
            .map(|c| {
                (
                    c.reason.clone().unwrap_or_default(),
                    c.message.clone().unwrap_or_default(),
                )
            })
            .map(|(r, _)| {
                if r == "DeadlineExceeded" {
                    (
                        "DeadlineExceeded",
                        "Job was active longer than specified deadline",
                    )
                } else {
                    (
                        "BackoffLimitExceeded",
                        "Job has reached the specified backoff limit",
                    )
                }
            });
        let start = status.start_time.as_ref().map(|t| t.0);
        let mut requeue: Requeue = None;
        if failure.is_none() {
            if failed > backoff_limit {
                failure = Some((
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                ));
            } else if let (Some(deadline), Some(start), false) =
                (spec.active_deadline_seconds, start, suspended)
            {
                let at = start + SignedDuration::from_secs(deadline);
                if at <= now {
                    failure = Some((
                        "DeadlineExceeded",
                        "Job was active longer than specified deadline",
                    ));
                } else {
                    requeue = Some(Duration::from_millis(
                        u64::try_from(at.duration_since(now).as_millis()).unwrap_or(0),
                    ));
                }
            }
        }
        let completions = spec.completions;
        let success = failure.is_none()
            && (get_condition(&status, "SuccessCriteriaMet").is_some()
                || match (indexed, completions) {
                    (true, Some(c)) => i32::try_from(completed.len()).unwrap_or(0) >= c,
                    (false, Some(c)) => succeeded >= c,
                    (_, None) => {
                        succeeded > 0 && active.iter().all(|p| pods::phase(p) == "Succeeded")
                    }
                });

        let mut changed = false;
        if let Some((reason, message)) = failure {
            changed |= set_condition(
                &mut status,
                new_condition("FailureTarget", "True", reason, message),
            );
            self.delete_pods(&job, key, &active).await?;
        } else if success {
            changed |= set_condition(
                &mut status,
                new_condition(
                    "SuccessCriteriaMet",
                    "True",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods",
                ),
            );
            self.delete_pods(&job, key, &active).await?;
        } else if suspended {
            if set_condition(
                &mut status,
                new_condition("Suspended", "True", "JobSuspended", "Job suspended"),
            ) {
                changed = true;
                self.recorder
                    .event(&job, events::NORMAL, "Suspended", "Job suspended".into());
            }
            self.delete_pods(&job, key, &active).await?;
        } else {
            if set_condition(
                &mut status,
                new_condition("Suspended", "False", "JobResumed", "Job resumed"),
            ) {
                changed = true;
                // The deadline counts from the resumption.
                status.start_time = Some(meta::now_time());
                self.recorder
                    .event(&job, events::NORMAL, "Resumed", "Job resumed".into());
            }
            if status.start_time.is_none() {
                status.start_time = Some(meta::now_time());
                changed = true;
                if let Some(deadline) = spec.active_deadline_seconds {
                    requeue = Some(Duration::from_secs(u64::try_from(deadline).unwrap_or(0)));
                }
            }
            if needs_sync && job.metadata.deletion_timestamp.is_none() {
                let r = self
                    .manage(&job, key, &active, &completed, succeeded)
                    .await?;
                requeue = min_requeue(requeue, r);
            }
        }

        // Count finished pods: record them as uncounted, drop their finalizers, then count.
        let active_count = i32::try_from(active.len()).unwrap_or(0);
        let ready = i32::try_from(active.iter().filter(|p| pods::is_ready(p)).count()).unwrap_or(0);
        if !newly.is_empty() {
            uncounted.succeeded = Some(un_succeeded.iter().cloned().collect());
            uncounted.failed = Some(un_failed.iter().cloned().collect());
            status.uncounted_terminated_pods = Some(uncounted);
            status.active = Some(active_count);
            status.ready = Some(ready);
            self.write_status(&job, &status).await?;
        }
        let finished: Vec<&Pod> = pods
            .iter()
            .filter(|p| has_finalizer(p) && is_finished(p))
            .map(|p| &**p)
            .collect();
        self.remove_finalizers(finished.into_iter()).await?;
        let counted_now = un_succeeded.len() + un_failed.len();
        status.succeeded = Some(succeeded);
        status.failed = Some(failed);
        status.uncounted_terminated_pods = Some(UncountedTerminatedPods::default());
        if indexed {
            status.completed_indexes = Some(format_indexes(&completed));
        }
        status.active = Some(active_count);
        status.ready = Some(ready);
        status.terminating = Some(i32::try_from(terminating).unwrap_or(0));

        // Final conditions once no pod runs any more.
        let no_pods_left = active.is_empty() && terminating == 0;
        if no_pods_left && let Some(target) = get_condition(&status, "FailureTarget").cloned() {
            let reason = target.reason.clone().unwrap_or_default();
            let message = target.message.clone().unwrap_or_default();
            if set_condition(
                &mut status,
                new_condition("Failed", "True", &reason, &message),
            ) {
                self.recorder.event(&job, events::WARNING, &reason, message);
            }
            changed = true;
        } else if no_pods_left && get_condition(&status, "SuccessCriteriaMet").is_some() {
            if set_condition(
                &mut status,
                new_condition(
                    "Complete",
                    "True",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods",
                ),
            ) {
                status.completion_time = Some(meta::now_time());
                self.recorder
                    .event(&job, events::NORMAL, "Completed", "Job completed".into());
            }
            changed = true;
        }
        let before = job.status.clone().unwrap_or_default();
        if changed || counted_now > 0 || !same_counts(&before, &status) {
            self.write_status(&job, &status).await?;
        }
        Ok(requeue)
    }

    /// Creates or deletes pods towards the wanted number of active pods (upstream `manageJob`).
    async fn manage(
        &self,
        job: &Job,
        key: &Key,
        active: &[Arc<Pod>],
        completed: &BTreeSet<i32>,
        succeeded: i32,
    ) -> Result<Requeue> {
        let spec = job.spec.clone().unwrap_or_default();
        let parallelism = spec.parallelism.unwrap_or(1).max(0);
        let indexed = spec.completion_mode.as_deref() == Some("Indexed");
        let want = match spec.completions {
            None if succeeded > 0 => 0,
            None => parallelism,
            Some(c) if indexed => {
                (c - i32::try_from(completed.len()).unwrap_or(0)).clamp(0, parallelism)
            }
            Some(c) => (c - succeeded).clamp(0, parallelism),
        };
        let have = i32::try_from(active.len()).unwrap_or(0);
        if have > want {
            let n = usize::try_from(have - want).unwrap_or(0);
            let mut ranked: Vec<&Pod> = active.iter().map(|p| &**p).collect();
            let related = ranked.clone();
            pods::sort_for_deletion(&mut ranked, &related, meta::now());
            let victims: Vec<Arc<Pod>> = ranked
                .into_iter()
                .take(n)
                .map(|p| Arc::new(p.clone()))
                .collect();
            self.delete_pods(job, key, &victims).await?;
            return Ok(None);
        }
        if have == want {
            return Ok(None);
        }
        // Back off after failures before creating replacements.
        if let Some((failures, last)) = self
            .backoff
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .copied()
        {
            let delay = POD_FAILURE_BACKOFF.delay(failures);
            let elapsed = last.elapsed();
            if elapsed < delay {
                return Ok(Some(delay - elapsed));
            }
        }
        let mut to_create: Vec<Option<i32>> = if indexed {
            let running: BTreeSet<i32> =
                active.iter().filter_map(|p| completion_index(p)).collect();
            (0..spec.completions.unwrap_or(0))
                .filter(|i| !completed.contains(i) && !running.contains(i))
                .take(usize::try_from(want - have).unwrap_or(0))
                .map(Some)
                .collect()
        } else {
            vec![None; usize::try_from(want - have).unwrap_or(0)]
        };
        to_create.truncate(MAX_PODS_PER_SYNC);
        if to_create.is_empty() {
            return Ok(None);
        }
        let api = self.pod_api(&key.namespace);
        let pods: Vec<Pod> = to_create
            .into_iter()
            .map(|i| self.pod_for(job, i))
            .collect();
        create_pods(&api, pods, job, key, &self.recorder, &self.expectations).await?;
        Ok(None)
    }

    /// A pod for the Job, for completion index `index` if Indexed (upstream `podGenerator`).
    fn pod_for(&self, job: &Job, index: Option<i32>) -> Pod {
        let spec = job.spec.clone().unwrap_or_default();
        let name = job.metadata.name.clone().unwrap_or_default();
        let mut pod = pods::pod_from_template(&spec.template, &name, new_controller_ref(job));
        pod.metadata
            .finalizers
            .get_or_insert_with(Vec::new)
            .push(TRACKING_FINALIZER.to_string());
        if let Some(i) = index {
            pod.metadata.generate_name = Some(format!("{name}-{i}-"));
            pod.metadata
                .annotations
                .get_or_insert_with(Default::default)
                .insert(COMPLETION_INDEX.into(), i.to_string());
            pod.metadata
                .labels
                .get_or_insert_with(Default::default)
                .insert(COMPLETION_INDEX.into(), i.to_string());
            if let Some(ps) = pod.spec.as_mut()
                && ps.hostname.is_none()
            {
                ps.hostname = Some(format!("{name}-{i}"));
            }
        }
        pod
    }

    /// Deletes pods the Job no longer wants; their finalizer goes first, so they are not
    /// counted as failures.
    async fn delete_pods(&self, job: &Job, key: &Key, victims: &[Arc<Pod>]) -> Result<()> {
        if victims.is_empty() {
            return Ok(());
        }
        self.remove_finalizers(victims.iter().map(|p| &**p)).await?;
        let victims: Vec<&Pod> = victims.iter().map(|p| &**p).collect();
        delete_pods(
            &self.pod_api(&key.namespace),
            &victims,
            job,
            key,
            &DeleteParams::background(),
            &self.recorder,
            &self.expectations,
        )
        .await
    }

    async fn remove_finalizers<'a>(&self, pods: impl Iterator<Item = &'a Pod>) -> Result<()> {
        let calls = pods.filter(|p| has_finalizer(p)).map(|p| {
            let api = self.pod_api(p.metadata.namespace.as_deref().unwrap_or(""));
            async move { remove_finalizer(&api, p).await }
        });
        let mut errors = Vec::new();
        for r in join_all(calls).await {
            if let Err(e) = r {
                let e = Error::from(e);
                if !e.is_not_found() {
                    errors.push(e.to_string());
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Aggregate(errors))
        }
    }

    async fn write_status(&self, job: &Job, status: &JobStatus) -> Result<()> {
        let api: Api<Job> = Api::namespaced(
            self.client.clone(),
            job.metadata.namespace.as_deref().unwrap_or(""),
        );
        let patch = json!({"metadata": {"uid": job.metadata.uid}, "status": status_json(status)});
        api.patch_status(
            job.metadata.name.as_deref().unwrap_or(""),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
        Ok(())
    }

    /// Deletes a finished Job once `ttlSecondsAfterFinished` has passed (upstream
    /// `pkg/controller/ttlafterfinished`), with background propagation.
    async fn ttl_after_finished(&self, job: &Job) -> Result<Requeue> {
        let Some(ttl) = job.spec.as_ref().and_then(|s| s.ttl_seconds_after_finished) else {
            return Ok(None);
        };
        if job.metadata.deletion_timestamp.is_some() {
            return Ok(None);
        }
        let finished_at = job
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| {
                c.iter()
                    .find(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
            })
            .and_then(|c| c.last_transition_time.as_ref())
            .map(|t| t.0)
            .unwrap_or_else(Timestamp::now);
        let expire_at = finished_at + SignedDuration::from_secs(i64::from(ttl));
        let now = meta::now();
        if expire_at > now {
            let wait = expire_at.duration_since(now);
            return Ok(Some(Duration::from_millis(
                u64::try_from(wait.as_millis()).unwrap_or(0),
            )));
        }
        let api: Api<Job> = Api::namespaced(
            self.client.clone(),
            job.metadata.namespace.as_deref().unwrap_or(""),
        );
        let mut dp = DeleteParams::background();
        dp.preconditions = Some(kube::api::Preconditions {
            uid: job.metadata.uid.clone(),
            resource_version: None,
        });
        match api
            .delete(job.metadata.name.as_deref().unwrap_or(""), &dp)
            .await
        {
            Ok(_) => Ok(None),
            Err(e) => {
                let e = Error::from(e);
                if e.is_not_found() { Ok(None) } else { Err(e) }
            }
        }
    }
}

/// Removes the tracking finalizer from one pod (a merge patch guarded by the pod's uid).
async fn remove_finalizer(api: &Api<Pod>, pod: &Pod) -> Result<Pod, kube::Error> {
    let rest: Vec<&String> = pod
        .metadata
        .finalizers
        .iter()
        .flatten()
        .filter(|f| *f != TRACKING_FINALIZER)
        .collect();
    let patch = json!({"metadata": {"finalizers": rest, "uid": pod.metadata.uid}});
    let name = pod.metadata.name.clone().unwrap_or_default();
    api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
}

fn min_requeue(a: Requeue, b: Requeue) -> Requeue {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn same_counts(a: &JobStatus, b: &JobStatus) -> bool {
    let n = |v: Option<i32>| v.unwrap_or(0);
    n(a.active) == n(b.active)
        && n(a.ready) == n(b.ready)
        && n(a.succeeded) == n(b.succeeded)
        && n(a.failed) == n(b.failed)
        && n(a.terminating) == n(b.terminating)
        && a.completed_indexes.as_deref().unwrap_or("")
            == b.completed_indexes.as_deref().unwrap_or("")
        && a.start_time == b.start_time
}

fn status_json(s: &JobStatus) -> serde_json::Value {
    let un = s.uncounted_terminated_pods.clone().unwrap_or_default();
    json!({
        "active": s.active.unwrap_or(0),
        "ready": s.ready.unwrap_or(0),
        "succeeded": s.succeeded.unwrap_or(0),
        "failed": s.failed.unwrap_or(0),
        "terminating": s.terminating.unwrap_or(0),
        "startTime": s.start_time,
        "completionTime": s.completion_time,
        "completedIndexes": s.completed_indexes,
        "conditions": s.conditions,
        "uncountedTerminatedPods": {
            "succeeded": un.succeeded.filter(|v| !v.is_empty()),
            "failed": un.failed.filter(|v| !v.is_empty()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completed_indexes_round_trip() {
        let set: BTreeSet<i32> = [0, 1, 2, 4, 6, 7].into_iter().collect();
        assert_eq!(format_indexes(&set), "0-2,4,6-7");
        assert_eq!(parse_indexes("0-2,4,6-7"), set);
        assert_eq!(format_indexes(&BTreeSet::new()), "");
    }
}
