mod common;

use berth_apiserver::testing::TestCluster;
use berth_workloads::JobController;
use common::*;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

fn job(name: &str, spec: serde_json::Value) -> Job {
    let mut spec = spec;
    spec["template"] = json!({"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}});
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": spec})).unwrap()
}

async fn job_pods(client: &kube::Client, name: &str) -> Vec<Pod> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    pods.list(&ListParams::default().labels(&format!("batch.kubernetes.io/job-name={name}")))
        .await
        .unwrap()
        .items
}

async fn finish_pod(client: &kube::Client, name: &str, phase: &str) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    pods.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"phase": phase}})),
    )
    .await
    .unwrap();
}

fn has_condition(job: &Job, type_: &str, reason: &str) -> bool {
    job.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| {
            c.iter().any(|c| {
                c.type_ == type_ && c.status == "True" && c.reason.as_deref() == Some(reason)
            })
        })
}

/// Marks every running pod of the job as `phase`; returns how many.
async fn finish_running(client: &kube::Client, name: &str, phase: &str) -> usize {
    let mut n = 0;
    for p in job_pods(client, name).await {
        let running = p
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .is_none_or(|ph| ph == "Pending");
        if running && p.metadata.deletion_timestamp.is_none() {
            finish_pod(client, p.metadata.name.as_deref().unwrap(), phase).await;
            n += 1;
        }
    }
    n
}

#[tokio::test]
async fn non_indexed_job_completes_with_finalizer_tracking() {
    let c = TestCluster::start().await.unwrap();
    let client = c.client.clone();
    let _stop = start(|rx| JobController::new(client.clone()).run(rx));
    let jobs: Api<Job> = Api::namespaced(c.client.clone(), "default");
    jobs.create(
        &PostParams::default(),
        &job(
            "pi",
            json!({"completions": 3, "parallelism": 2, "ttlSecondsAfterFinished": 1}),
        ),
    )
    .await
    .unwrap();

    let pods = eventually("2 pods", || async {
        let p = job_pods(&c.client, "pi").await;
        (p.len() == 2).then_some(p)
    })
    .await;
    for p in &pods {
        let m = &p.metadata;
        assert!(
            m.finalizers
                .as_ref()
                .unwrap()
                .contains(&"batch.kubernetes.io/job-tracking".to_string())
        );
        let labels = m.labels.as_ref().unwrap();
        assert_eq!(labels["batch.kubernetes.io/job-name"], "pi");
        assert_eq!(labels["job-name"], "pi");
        assert!(labels.contains_key("batch.kubernetes.io/controller-uid"));
        assert!(m.name.as_deref().unwrap().starts_with("pi-"));
    }
    eventually("status active", || async {
        let s = jobs.get("pi").await.ok()?.status?;
        (s.active == Some(2) && s.start_time.is_some()).then_some(())
    })
    .await;
    let finished = eventually("complete", || async {
        finish_running(&c.client, "pi", "Succeeded").await;
        let j = jobs.get("pi").await.ok()?;
        has_condition(&j, "Complete", "CompletionsReached").then_some(j)
    })
    .await;
    let s = finished.status.clone().unwrap();
    assert_eq!(s.succeeded, Some(3));
    assert_eq!(s.active.unwrap_or(0), 0);
    assert!(s.completion_time.is_some());
    assert!(has_condition(
        &finished,
        "SuccessCriteriaMet",
        "CompletionsReached"
    ));
    // Counted pods lose the tracking finalizer.
    for p in job_pods(&c.client, "pi").await {
        assert!(
            !p.metadata
                .finalizers
                .unwrap_or_default()
                .iter()
                .any(|f| f == "batch.kubernetes.io/job-tracking")
        );
    }
    // TTL after finished deletes the Job.
    eventually("ttl deletion", || async {
        jobs.get_opt("pi").await.unwrap().is_none().then_some(())
    })
    .await;
}

#[tokio::test]
async fn indexed_job_fails_after_backoff_limit() {
    let c = TestCluster::start().await.unwrap();
    let client = c.client.clone();
    let _stop = start(|rx| JobController::new(client.clone()).run(rx));
    let jobs: Api<Job> = Api::namespaced(c.client.clone(), "default");
    jobs.create(&PostParams::default(), &job("idx", json!({"completions": 2, "parallelism": 2, "completionMode": "Indexed", "backoffLimit": 0})))
        .await
        .unwrap();
    let pods = eventually("2 pods", || async {
        let p = job_pods(&c.client, "idx").await;
        (p.len() == 2).then_some(p)
    })
    .await;
    let mut indexes: Vec<String> = pods
        .iter()
        .map(|p| {
            p.metadata.annotations.as_ref().unwrap()["batch.kubernetes.io/job-completion-index"]
                .clone()
        })
        .collect();
    indexes.sort();
    assert_eq!(indexes, ["0", "1"]);
    for p in &pods {
        let i =
            &p.metadata.annotations.as_ref().unwrap()["batch.kubernetes.io/job-completion-index"];
        assert_eq!(
            p.metadata.labels.as_ref().unwrap()["batch.kubernetes.io/job-completion-index"],
            *i
        );
        assert_eq!(
            p.spec.as_ref().unwrap().hostname.as_deref(),
            Some(format!("idx-{i}").as_str())
        );
        assert!(
            p.metadata
                .name
                .as_deref()
                .unwrap()
                .starts_with(&format!("idx-{i}-"))
        );
    }
    let zero = pods
        .iter()
        .find(|p| {
            p.metadata.annotations.as_ref().unwrap()["batch.kubernetes.io/job-completion-index"]
                == "0"
        })
        .unwrap();
    finish_pod(
        &c.client,
        zero.metadata.name.as_deref().unwrap(),
        "Succeeded",
    )
    .await;
    eventually("index 0 completed", || async {
        let s = jobs.get("idx").await.ok()?.status?;
        (s.completed_indexes.as_deref() == Some("0") && s.succeeded == Some(1)).then_some(())
    })
    .await;
    let one = pods
        .iter()
        .find(|p| p.metadata.uid != zero.metadata.uid)
        .unwrap();
    finish_pod(&c.client, one.metadata.name.as_deref().unwrap(), "Failed").await;
    let failed = eventually("failed", || async {
        let j = jobs.get("idx").await.ok()?;
        has_condition(&j, "Failed", "BackoffLimitExceeded").then_some(j)
    })
    .await;
    assert!(has_condition(
        &failed,
        "FailureTarget",
        "BackoffLimitExceeded"
    ));
    assert_eq!(failed.status.unwrap().failed, Some(1));
}

#[tokio::test]
async fn suspended_job_deletes_pods_and_resumes() {
    let c = TestCluster::start().await.unwrap();
    let client = c.client.clone();
    let _stop = start(|rx| JobController::new(client.clone()).run(rx));
    let jobs: Api<Job> = Api::namespaced(c.client.clone(), "default");
    jobs.create(
        &PostParams::default(),
        &job("s", json!({"parallelism": 2, "completions": 4})),
    )
    .await
    .unwrap();
    eventually("pods", || async {
        (active_pods(&c.client, "default", "job-name=s").await.len() == 2).then_some(())
    })
    .await;
    jobs.patch(
        "s",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"suspend": true}})),
    )
    .await
    .unwrap();
    eventually("suspended", || async {
        let j = jobs.get("s").await.ok()?;
        let gone = active_pods(&c.client, "default", "job-name=s")
            .await
            .is_empty();
        (gone && has_condition(&j, "Suspended", "JobSuspended") && j.status?.active == Some(0))
            .then_some(())
    })
    .await;
    jobs.patch(
        "s",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"suspend": false}})),
    )
    .await
    .unwrap();
    eventually("resumed", || async {
        let j = jobs.get("s").await.ok()?;
        let cond = j
            .status
            .as_ref()?
            .conditions
            .as_ref()?
            .iter()
            .find(|c| c.type_ == "Suspended")?
            .clone();
        let running = active_pods(&c.client, "default", "job-name=s").await.len();
        (cond.status == "False"
            && cond.reason.as_deref() == Some("JobResumed")
            && running == 2
            && j.status?.failed.unwrap_or(0) == 0)
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn pods_of_a_deleted_job_lose_the_tracking_finalizer() {
    let c = TestCluster::start().await.unwrap();
    let client = c.client.clone();
    let _stop = start(|rx| JobController::new(client.clone()).run(rx));
    let jobs: Api<Job> = Api::namespaced(c.client.clone(), "default");
    jobs.create(
        &PostParams::default(),
        &job("gone", json!({"parallelism": 2, "completions": 2})),
    )
    .await
    .unwrap();
    let pods = eventually("pods", || async {
        let p = job_pods(&c.client, "gone").await;
        (p.len() == 2).then_some(p)
    })
    .await;
    jobs.delete("gone", &kube::api::DeleteParams::background())
        .await
        .unwrap();
    eventually("job gone", || async {
        jobs.get_opt("gone").await.unwrap().is_none().then_some(())
    })
    .await;
    // Act as the garbage collector.
    let api: Api<Pod> = Api::namespaced(c.client.clone(), "default");
    for p in &pods {
        api.delete(
            p.metadata.name.as_deref().unwrap(),
            &kube::api::DeleteParams::background(),
        )
        .await
        .unwrap();
    }
    eventually("pods deleted", || async {
        job_pods(&c.client, "gone").await.is_empty().then_some(())
    })
    .await;
}

#[tokio::test]
async fn active_deadline_fails_the_job_and_removes_its_pods() {
    let c = TestCluster::start().await.unwrap();
    let client = c.client.clone();
    let _stop = start(|rx| JobController::new(client.clone()).run(rx));
    let jobs: Api<Job> = Api::namespaced(c.client.clone(), "default");
    jobs.create(
        &PostParams::default(),
        &job("late", json!({"activeDeadlineSeconds": 1})),
    )
    .await
    .unwrap();
    let failed = eventually("DeadlineExceeded", || async {
        let j = jobs.get("late").await.ok()?;
        has_condition(&j, "Failed", "DeadlineExceeded").then_some(j)
    })
    .await;
    assert!(has_condition(&failed, "FailureTarget", "DeadlineExceeded"));
    let cond = failed
        .status
        .as_ref()
        .unwrap()
        .conditions
        .as_ref()
        .unwrap()
        .iter()
        .find(|c| c.type_ == "Failed")
        .unwrap()
        .clone();
    assert_eq!(
        cond.message.as_deref(),
        Some("Job was active longer than specified deadline")
    );
    assert_eq!(failed.status.unwrap().active.unwrap_or(0), 0);
    assert!(
        active_pods(&c.client, "default", "job-name=late")
            .await
            .is_empty()
    );
}
