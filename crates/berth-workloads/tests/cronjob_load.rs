//! A load check, not run by default: `cargo test -p berth-workloads --test cronjob_load --
//! --ignored --nocapture` prints how late 1,000 `* * * * *` CronJobs start their Jobs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_apiserver::testing::TestCluster;
use berth_workloads::{Clock, CronJobController};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, PostParams};
use kube::runtime::watcher;
use serde_json::json;

/// Real time shifted so that a minute boundary comes a few seconds after the CronJobs exist.
struct OffsetClock(SignedDuration);

impl Clock for OffsetClock {
    fn now(&self) -> Timestamp {
        Timestamp::now() + self.0
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn thousand_every_minute_cronjobs_start_on_time() {
    const N: usize = 1000;
    let c = TestCluster::start().await.unwrap();
    let api: Api<CronJob> = Api::namespaced(c.client.clone(), "default");
    let first_created = Timestamp::now();
    let started = Instant::now();
    let creates = futures::stream::iter(0..N)
        .map(|i| {
            let api = api.clone();
            async move {
                let cj: CronJob = serde_json::from_value(json!({
                    "metadata": {"name": format!("cj-{i}")},
                    "spec": {"schedule": "* * * * *", "timeZone": "Etc/UTC", "jobTemplate": {"spec": {"template": {"spec": {
                        "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}}
                }))
                .unwrap();
                api.create(&PostParams::default(), &cj).await.map(|_| ())
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<()>>();
    creates.await.unwrap();
    // For comparison: what the API server takes for as many plain writes.
    println!(
        "created {N} CronJobs in {:.3}s",
        started.elapsed().as_secs_f64()
    );

    // The first schedule time after the CronJobs were created is due `lead` from now on the
    // shifted clock (which may run behind real time).
    let real = Timestamp::now();
    let boundary = Timestamp::from_second((first_created.as_second() / 60 + 1) * 60).unwrap();
    let lead = SignedDuration::from_secs(8);
    let offset = boundary.duration_since(real) - lead;
    let due = Instant::now() + Duration::try_from(lead).unwrap();

    let jobs: Api<Job> = Api::namespaced(c.client.clone(), "default");
    let arrivals = tokio::spawn(async move {
        let mut seen = Vec::with_capacity(N);
        let stream = watcher(jobs, watcher::Config::default());
        futures::pin_mut!(stream);
        while let Some(ev) = stream.next().await {
            if let Ok(watcher::Event::Apply(_)) = ev {
                seen.push(Instant::now());
                if seen.len() == N {
                    break;
                }
            }
        }
        seen
    });
    let controller = CronJobController::with_clock(c.client.clone(), Arc::new(OffsetClock(offset)));
    let (_tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(controller.run(rx));

    let seen = tokio::time::timeout(Duration::from_secs(120), arrivals)
        .await
        .unwrap()
        .unwrap();
    let mut lags: Vec<f64> = seen
        .iter()
        .map(|t| t.saturating_duration_since(due).as_secs_f64())
        .collect();
    lags.sort_by(f64::total_cmp);
    let pct = |p: f64| lags[((lags.len() as f64 * p).ceil() as usize).clamp(1, lags.len()) - 1];
    println!(
        "jobs: {}, lag min {:.3}s p50 {:.3}s p99 {:.3}s max {:.3}s",
        lags.len(),
        lags[0],
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    assert_eq!(lags.len(), N);
}
