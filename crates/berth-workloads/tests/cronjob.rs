mod common;

use std::sync::{Arc, Mutex};

use berth_apiserver::testing::TestCluster;
use berth_workloads::{Clock, CronJobController};
use common::*;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

struct FakeClock(Mutex<Timestamp>);

impl Clock for FakeClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}

impl FakeClock {
    fn set(&self, t: Timestamp) {
        *self.0.lock().unwrap() = t;
    }
}

/// Makes the controller look at the CronJob now (the fake clock does not wake it).
async fn nudge(api: &Api<CronJob>, n: usize) {
    api.patch(
        "tick",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"nudge": n.to_string()}}})),
    )
    .await
    .unwrap();
}

async fn jobs(client: &kube::Client) -> Vec<Job> {
    let api: Api<Job> = Api::namespaced(client.clone(), "default");
    api.list(&ListParams::default()).await.unwrap().items
}

#[tokio::test]
async fn cronjob_runs_on_schedule_with_fake_clock() {
    let c = TestCluster::start().await.unwrap();
    let api: Api<CronJob> = Api::namespaced(c.client.clone(), "default");
    let cj: CronJob = serde_json::from_value(json!({
        "metadata": {"name": "tick"},
        "spec": {
            "schedule": "* * * * *",
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "jobTemplate": {
                "metadata": {"labels": {"run": "tick"}},
                "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}
            }
        }
    }))
    .unwrap();
    let created = api.create(&PostParams::default(), &cj).await.unwrap();
    let created_at = created.metadata.creation_timestamp.unwrap().0;
    let next_minute = Timestamp::from_second((created_at.as_second() / 60 + 1) * 60).unwrap();

    let clock = Arc::new(FakeClock(Mutex::new(created_at)));
    let controller = CronJobController::with_clock(c.client.clone(), clock.clone());
    let _stop = start(|rx| controller.run(rx));

    // Not yet due.
    nudge(&api, 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(jobs(&c.client).await.is_empty());

    // Due: one Job named after the scheduled minute.
    clock.set(next_minute + SignedDuration::from_secs(1));
    nudge(&api, 2).await;
    let expected = format!("tick-{}", next_minute.as_second() / 60);
    let job = eventually("first job", || async {
        jobs(&c.client)
            .await
            .into_iter()
            .find(|j| j.metadata.name.as_deref() == Some(expected.as_str()))
    })
    .await;
    let ann = job.metadata.annotations.clone().unwrap();
    assert_eq!(
        ann["batch.kubernetes.io/cronjob-scheduled-timestamp"],
        next_minute.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    );
    assert_eq!(job.metadata.labels.as_ref().unwrap()["run"], "tick");
    let owner = &job.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.controller),
        ("CronJob", Some(true))
    );
    eventually("status", || async {
        let s = api.get("tick").await.ok()?.status?;
        (s.active.as_ref()?.len() == 1 && s.last_schedule_time.as_ref()?.0 == next_minute)
            .then_some(())
    })
    .await;
    // Syncing again at the same time starts nothing new.
    nudge(&api, 3).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(jobs(&c.client).await.len(), 1);

    // A minute later the first Job still runs: Forbid skips.
    clock.set(next_minute + SignedDuration::from_secs(61));
    nudge(&api, 4).await;
    eventually("JobAlreadyActive", || async {
        (!event_messages(&c.client, "default", "tick", "JobAlreadyActive")
            .await
            .is_empty())
        .then_some(())
    })
    .await;
    assert_eq!(jobs(&c.client).await.len(), 1);

    // The Job completes.
    let job_api: Api<Job> = Api::namespaced(c.client.clone(), "default");
    let done_at = (next_minute + SignedDuration::from_secs(30)).to_string();
    job_api
        .patch_status(&expected, &PatchParams::default(), &Patch::Merge(json!({"status": {
            "completionTime": done_at, "startTime": next_minute.to_string(), "succeeded": 1,
            "conditions": [
                {"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached"},
                {"type": "Complete", "status": "True", "reason": "CompletionsReached"}
            ]
        }})))
        .await
        .unwrap();
    // Its completion is seen, and the run that Forbid held back starts.
    let second = format!("tick-{}", next_minute.as_second() / 60 + 1);
    eventually("completion seen", || async {
        let s = api.get("tick").await.ok()?.status?;
        let seen = event_messages(&c.client, "default", "tick", "SawCompletedJob").await;
        let active: Vec<String> = s
            .active
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| r.name)
            .collect();
        (active == [second.clone()]
            && s.last_successful_time.as_ref()?.0 == next_minute + SignedDuration::from_secs(30)
            && seen
                == [format!(
                    "Saw completed job: {expected}, condition: Complete"
                )])
        .then_some(())
    })
    .await;

    // Many minutes later (concurrency allowed): only the latest missed time runs.
    api.patch(
        "tick",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"concurrencyPolicy": "Allow"}})),
    )
    .await
    .unwrap();
    let later = next_minute + SignedDuration::from_secs(60 * 200 + 5);
    clock.set(later);
    nudge(&api, 5).await;
    let latest = format!("tick-{}", later.as_second() / 60);
    eventually("latest job", || async {
        jobs(&c.client)
            .await
            .into_iter()
            .find(|j| j.metadata.name.as_deref() == Some(latest.as_str()))
    })
    .await;
    assert_eq!(jobs(&c.client).await.len(), 3);
    eventually("TooManyMissedTimes", || async {
        (!event_messages(&c.client, "default", "tick", "TooManyMissedTimes")
            .await
            .is_empty())
        .then_some(())
    })
    .await;
    let want = [
        format!("Created job {expected}"),
        format!("Created job {second}"),
        format!("Created job {latest}"),
    ];
    eventually("SuccessfulCreate events", || async {
        let mut created = event_messages(&c.client, "default", "tick", "SuccessfulCreate").await;
        created.sort();
        eprintln!("{created:?}");
        (created == want).then_some(())
    })
    .await;
    assert!(
        event_messages(&c.client, "default", "tick", "UnexpectedJob")
            .await
            .is_empty(),
        "a Job we created was called unexpected"
    );
}
