//! The operator against an in-process API server with the real workload controllers, so
//! Deployments really roll out. A small stand-in kubelet in this file reports pod status: pods
//! become Running and Ready, except images named `*crash*` (their container is in
//! CrashLoopBackOff after 3 restarts) and `*stuck*` (Running, never Ready).

use std::future::Future;
use std::time::Duration;

use berth_apiserver::testing::TestCluster;
use berth_operator::{OperatorConfig, install_crds};
use berth_spec::meta::{ANNOTATION_AUTHOR, ANNOTATION_MESSAGE, FIELD_MANAGER};
use berth_spec::{App, AppPhase, AppSpec, CronApp, CronAppSpec, PortSpec, RevisionRecord};
use k8s_openapi::api::apps::v1::{ControllerRevision, Deployment, ReplicaSet};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Service};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Resource, ResourceExt};
use serde_json::json;

const NS: &str = "default";

async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reports status for every pod of the namespace, as a kubelet would.
fn kubelet(client: kube::Client) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let pods: Api<Pod> = Api::namespaced(client, NS);
        loop {
            if let Ok(list) = pods.list(&ListParams::default()).await {
                for p in list.items {
                    let reported = p
                        .status
                        .as_ref()
                        .and_then(|s| s.container_statuses.as_ref())
                        .is_some();
                    if reported || p.metadata.deletion_timestamp.is_some() {
                        continue;
                    }
                    let image = p
                        .spec
                        .as_ref()
                        .and_then(|s| s.containers.first())
                        .and_then(|c| c.image.clone())
                        .unwrap_or_default();
                    let now = k8s_openapi::jiff::Timestamp::now().to_string();
                    let (ready, restarts, state) = if image.contains("crash") {
                        (false, 3, json!({"waiting": {"reason": "CrashLoopBackOff"}}))
                    } else if image.contains("stuck") {
                        (false, 0, json!({"running": {"startedAt": now}}))
                    } else {
                        (true, 0, json!({"running": {"startedAt": now}}))
                    };
                    let name = p.name_any();
                    let _ = pods
                        .patch(
                            &name,
                            &PatchParams::default(),
                            &Patch::Merge(json!({"spec": {"nodeName": "node-1"}})),
                        )
                        .await;
                    let status = json!({"status": {
                        "phase": "Running",
                        "podIP": "10.244.0.9",
                        "conditions": [{"type": "Ready",
                            "status": if ready { "True" } else { "False" },
                            "lastTransitionTime": now}],
                        "containerStatuses": [{"name": "app", "image": image, "imageID": "",
                            "ready": ready, "restartCount": restarts, "started": true,
                            "state": state}],
                    }});
                    let _ = pods
                        .patch_status(&name, &PatchParams::default(), &Patch::Merge(status))
                        .await;
                }
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    })
}

/// An API server with the CRDs installed, the workload controllers, the stand-in kubelet and
/// the operator running.
struct Env {
    cluster: TestCluster,
    _stop_workloads: tokio::sync::watch::Sender<bool>,
    stop_operator: Option<tokio::sync::oneshot::Sender<()>>,
    operator: Option<tokio::task::JoinHandle<Result<(), berth_operator::OperatorError>>>,
    kubelet: tokio::task::JoinHandle<()>,
}

impl Env {
    async fn start() -> Env {
        // RUST_LOG=berth_operator=debug shows the operator's decisions when a test fails.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let cluster = TestCluster::start().await.expect("cluster");
        let client = cluster.client.clone();
        install_crds(&client).await.expect("install CRDs");
        // Idempotent: a second install changes nothing and succeeds.
        install_crds(&client).await.expect("install CRDs again");
        let (stop_workloads, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(berth_workloads::run(client.clone(), rx));
        let kubelet = kubelet(client.clone());
        let (stop_operator, stopped) = tokio::sync::oneshot::channel::<()>();
        let config = OperatorConfig {
            cluster: "test".into(),
            namespace: None,
        };
        let operator = tokio::spawn(berth_operator::run(client, config, async move {
            let _ = stopped.await;
        }));
        Env {
            cluster,
            _stop_workloads: stop_workloads,
            stop_operator: Some(stop_operator),
            operator: Some(operator),
            kubelet,
        }
    }

    fn client(&self) -> kube::Client {
        self.cluster.client.clone()
    }

    fn api<K>(&self) -> Api<K>
    where
        K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>,
    {
        Api::namespaced(self.client(), NS)
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop_operator.take() {
            let _ = tx.send(());
        }
        if let Some(op) = self.operator.take() {
            tokio::time::timeout(Duration::from_secs(10), op)
                .await
                .expect("operator stops on shutdown")
                .expect("operator task")
                .expect("operator result");
        }
        self.kubelet.abort();
    }

    async fn named_app_until(&self, name: &str, what: &str, pred: impl Fn(&App) -> bool) -> App {
        let apps: Api<App> = self.api();
        eventually(what, || async {
            let app = apps.get_opt(name).await.ok().flatten()?;
            pred(&app).then_some(app)
        })
        .await
    }

    async fn set_spec(&self, name: &str, spec: &AppSpec) {
        let apps: Api<App> = self.api();
        // A merge patch cannot drop keys it does not mention: replace the whole spec.
        let mut app = apps.get(name).await.expect("get app");
        app.spec = spec.clone();
        apps.replace(name, &PostParams::default(), &app)
            .await
            .expect("replace app");
    }

    async fn revision(
        &self,
        kind: &str,
        name: &str,
        n: i64,
    ) -> (ControllerRevision, RevisionRecord) {
        let api: Api<ControllerRevision> = self.api();
        let cr = api
            .get(&berth_spec::meta::revision_name(kind, name, n))
            .await
            .expect("revision");
        let record = serde_json::from_value(cr.data.clone().expect("data").0).expect("record");
        (cr, record)
    }
}

fn phase(app: &App) -> Option<AppPhase> {
    app.status.as_ref()?.phase
}

fn status_revision(app: &App) -> Option<i64> {
    app.status.as_ref()?.revision
}

fn web_spec(image: &str) -> AppSpec {
    AppSpec {
        image: Some(image.into()),
        ports: vec![PortSpec {
            port: 8080,
            ..Default::default()
        }],
        replicas: Some(2),
        domain: Some("web.example.com".into()),
        ..Default::default()
    }
}

fn new_app(name: &str, spec: AppSpec) -> App {
    let mut app = App::new(name, spec);
    app.metadata.annotations = Some(
        [
            (ANNOTATION_AUTHOR.to_string(), "ana".to_string()),
            (ANNOTATION_MESSAGE.to_string(), "first deploy".to_string()),
        ]
        .into(),
    );
    app
}

fn controlled_by(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    app: &App,
) -> bool {
    meta.owner_references.as_ref().is_some_and(|refs| {
        refs.iter().any(|r| {
            Some(&r.uid) == app.metadata.uid.as_ref()
                && r.kind == "App"
                && r.controller == Some(true)
                && r.block_owner_deletion == Some(true)
        })
    }) && meta
        .labels
        .as_ref()
        .and_then(|l| l.get("berth.dev/owner"))
        .map(String::as_str)
        == Some("App.web")
}

fn deployment_image(d: &Deployment) -> Option<String> {
    d.spec
        .as_ref()?
        .template
        .spec
        .as_ref()?
        .containers
        .first()?
        .image
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_lifecycle_deploy_update_invalid_prune_and_manual_rollback() {
    let env = Env::start().await;
    let apps: Api<App> = env.api();
    let spec1 = web_spec("web:1");
    apps.create(&PostParams::default(), &new_app("web", spec1.clone()))
        .await
        .expect("create app");

    // Revision 1 rolls out to 2/2.
    let app = env
        .named_app_until("web", "revision 1 available", |a| {
            phase(a) == Some(AppPhase::Available) && status_revision(a) == Some(1)
        })
        .await;
    let status = app.status.clone().expect("status");
    assert_eq!(status.ready.as_deref(), Some("2/2"));
    assert_eq!(status.replicas, Some(2));
    assert_eq!(status.available_replicas, Some(2));
    assert_eq!(status.last_good_revision, Some(1));
    assert_eq!(status.image.as_deref(), Some("web:1"));
    assert_eq!(status.observed_generation, app.metadata.generation);
    assert_eq!(status.message.as_deref(), Some("2/2 ready"));
    let available = status
        .conditions
        .iter()
        .find(|c| c.type_ == "Available")
        .expect("Available condition");
    assert_eq!(available.status, "True");
    let progressing = status
        .conditions
        .iter()
        .find(|c| c.type_ == "Progressing")
        .expect("P");
    assert_eq!(progressing.status, "False");

    // Every rendered object exists, controlled by the App and labelled with it.
    let deployment = env
        .api::<Deployment>()
        .get("web")
        .await
        .expect("deployment");
    assert!(
        controlled_by(&deployment.metadata, &app),
        "{:?}",
        deployment.metadata
    );
    assert_eq!(deployment_image(&deployment).as_deref(), Some("web:1"));
    let service = env.api::<Service>().get("web").await.expect("service");
    assert!(controlled_by(&service.metadata, &app));
    let ingress = env.api::<Ingress>().get("web").await.expect("ingress");
    assert!(controlled_by(&ingress.metadata, &app));
    let pdb = env
        .api::<PodDisruptionBudget>()
        .get("web")
        .await
        .expect("pdb");
    assert!(controlled_by(&pdb.metadata, &app));
    // Applied by the operator's field manager.
    let managers: Vec<_> = deployment
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(managers.iter().any(|m| m == FIELD_MANAGER), "{managers:?}");

    // Revision 1 is recorded with what was deployed.
    let (cr1, rec1) = env.revision("App", "web", 1).await;
    assert_eq!(cr1.revision, 1);
    assert_eq!(
        cr1.labels().get("berth.dev/owner").map(String::as_str),
        Some("App.web")
    );
    assert_eq!(
        cr1.labels()
            .get("app.kubernetes.io/managed-by")
            .map(String::as_str),
        Some("berth")
    );
    assert!(controlled_by(&cr1.metadata, &app));
    assert_eq!(rec1.spec_hash, berth_spec::spec_hash(&spec1));
    assert_eq!(rec1.spec, serde_json::to_value(&spec1).expect("spec"));
    assert_eq!(rec1.image.as_deref(), Some("web:1"));
    assert_eq!(rec1.author.as_deref(), Some("ana"));
    assert_eq!(rec1.message.as_deref(), Some("first deploy"));
    assert_eq!(rec1.rollback_of, None);
    assert!(
        rec1.time.parse::<k8s_openapi::jiff::Timestamp>().is_ok(),
        "{}",
        rec1.time
    );
    let kinds: Vec<&str> = rec1
        .objects
        .iter()
        .filter_map(|o| o["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"Deployment") && kinds.contains(&"Ingress"),
        "{kinds:?}"
    );

    // A new image is revision 2, rolled out.
    env.set_spec("web", &web_spec("web:2")).await;
    let app = env
        .named_app_until("web", "revision 2 available", |a| {
            phase(a) == Some(AppPhase::Available) && status_revision(a) == Some(2)
        })
        .await;
    assert_eq!(
        app.status.as_ref().and_then(|s| s.image.as_deref()),
        Some("web:2")
    );
    assert_eq!(
        app.status.as_ref().and_then(|s| s.last_good_revision),
        Some(2)
    );
    let deployment = env
        .api::<Deployment>()
        .get("web")
        .await
        .expect("deployment");
    assert_eq!(deployment_image(&deployment).as_deref(), Some("web:2"));
    let (_, rec2) = env.revision("App", "web", 2).await;
    assert_eq!(rec2.image.as_deref(), Some("web:2"));

    // A spec the renderer refuses: Invalid, nothing applied, no revision.
    let mut bad = web_spec("web:2");
    bad.runtime = Some("cobol-85".into());
    env.set_spec("web", &bad).await;
    let app = env
        .named_app_until("web", "invalid", |a| phase(a) == Some(AppPhase::Invalid))
        .await;
    let status = app.status.clone().expect("status");
    assert!(
        status
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("cobol"),
        "{:?}",
        status.message
    );
    assert_eq!(status.revision, Some(2));
    assert_eq!(status.observed_generation, app.metadata.generation);
    let degraded = status
        .conditions
        .iter()
        .find(|c| c.type_ == "Degraded")
        .expect("D");
    assert_eq!(
        (degraded.status.as_str(), degraded.reason.as_str()),
        ("True", "InvalidSpec")
    );
    let revisions: Api<ControllerRevision> = env.api();
    assert!(revisions.get_opt("app-web-3").await.expect("get").is_none());

    // Without the domain and with one replica: revision 3; the Ingress and PDB are pruned.
    let mut small = web_spec("web:2");
    small.domain = None;
    small.replicas = Some(1);
    env.set_spec("web", &small).await;
    env.named_app_until("web", "revision 3 available", |a| {
        phase(a) == Some(AppPhase::Available) && status_revision(a) == Some(3)
    })
    .await;
    eventually("ingress and pdb pruned", || async {
        let ingress = env.api::<Ingress>().get_opt("web").await.ok()?;
        let pdb = env.api::<PodDisruptionBudget>().get_opt("web").await.ok()?;
        (ingress.is_none() && pdb.is_none()).then_some(())
    })
    .await;
    assert!(
        env.api::<Service>()
            .get_opt("web")
            .await
            .expect("get")
            .is_some()
    );

    // Setting the spec back to revision 1's re-applies revision 1's recorded objects as
    // revision 4: the Deployment scales revision 1's ReplicaSet back up (no new one).
    let replica_sets = |env: &Env| {
        let api: Api<ReplicaSet> = env.api();
        async move {
            api.list(&ListParams::default().labels("berth.dev/owner=App.web"))
                .await
                .expect("replica sets")
                .items
        }
    };
    let sets_before = replica_sets(&env).await.len();
    env.set_spec("web", &spec1).await;
    let app = env
        .named_app_until("web", "revision 4 available", |a| {
            phase(a) == Some(AppPhase::Available)
                && status_revision(a) == Some(4)
                && a.status.as_ref().and_then(|s| s.ready.as_deref()) == Some("2/2")
        })
        .await;
    let (_, rec4) = env.revision("App", "web", 4).await;
    assert_eq!(rec4.rollback_of, Some(1));
    // The recorded objects, not a re-render; only the rollout strategy is made fast.
    assert_eq!(
        rec4.objects,
        berth_operator::rollout::for_rollback(&rec1.objects)
    );
    assert_eq!(rec4.spec_hash, rec1.spec_hash);
    assert_eq!(
        app.status.as_ref().and_then(|s| s.image.as_deref()),
        Some("web:1")
    );
    let deployment = env
        .api::<Deployment>()
        .get("web")
        .await
        .expect("deployment");
    assert_eq!(deployment_image(&deployment).as_deref(), Some("web:1"));
    assert!(
        env.api::<Ingress>()
            .get_opt("web")
            .await
            .expect("get")
            .is_some()
    );
    assert_eq!(replica_sets(&env).await.len(), sets_before);

    // Stable: nothing more is recorded.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(revisions.get_opt("app-web-5").await.expect("get").is_none());
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_rollouts_roll_back_automatically_or_fail() {
    let env = Env::start().await;
    let apps: Api<App> = env.api();
    let spec1 = AppSpec {
        image: Some("api:1".into()),
        ..Default::default()
    };
    apps.create(&PostParams::default(), &new_app("api", spec1.clone()))
        .await
        .expect("create");
    env.named_app_until("api", "revision 1 available", |a| {
        phase(a) == Some(AppPhase::Available) && status_revision(a) == Some(1)
    })
    .await;

    // Revision 2 crash-loops: the operator rolls back to revision 1 as revision 3.
    let crashing = AppSpec {
        image: Some("api:crash".into()),
        ..Default::default()
    };
    env.set_spec("api", &crashing).await;
    let app = env
        .named_app_until("api", "rolled back", |a| {
            phase(a) == Some(AppPhase::RolledBack)
        })
        .await;
    let status = app.status.clone().expect("status");
    assert_eq!(status.revision, Some(3));
    assert_eq!(
        status.failed_spec_hash,
        Some(berth_spec::spec_hash(&crashing))
    );
    let message = status.message.clone().unwrap_or_default();
    assert!(
        message.starts_with("revision 2 failed (")
            && message.ends_with("rolled back to revision 1"),
        "{message}"
    );
    assert!(message.contains("CrashLoopBackOff"), "{message}");
    let (_, rec1) = env.revision("App", "api", 1).await;
    let (_, rec3) = env.revision("App", "api", 3).await;
    assert_eq!(rec3.rollback_of, Some(1));
    assert_eq!(
        rec3.objects,
        berth_operator::rollout::for_rollback(&rec1.objects)
    );
    assert!(
        rec3.message
            .as_deref()
            .unwrap_or_default()
            .starts_with("automatic rollback: "),
        "{:?}",
        rec3.message
    );
    let events: Api<Event> = env.api();
    eventually("RolledBack event", || async {
        let list = events.list(&ListParams::default()).await.ok()?;
        list.items
            .into_iter()
            .find(|e| {
                e.reason.as_deref() == Some("RolledBack")
                    && e.type_.as_deref() == Some("Warning")
                    && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("api")
            })
            .map(|_| ())
    })
    .await;

    // The Deployment goes back to revision 1's image and completes; the App stays RolledBack
    // and the failed spec is not applied again.
    eventually("deployment back on api:1", || async {
        let d = env.api::<Deployment>().get("api").await.ok()?;
        let s = d.status.clone()?;
        (deployment_image(&d).as_deref() == Some("api:1")
            && s.updated_replicas == Some(1)
            && s.available_replicas == Some(1)
            && s.replicas == Some(1))
        .then_some(())
    })
    .await;
    let app = env
        .named_app_until("api", "counts refreshed", |a| {
            a.status.as_ref().and_then(|s| s.ready.as_deref()) == Some("1/1")
        })
        .await;
    assert_eq!(phase(&app), Some(AppPhase::RolledBack));
    // The rollback revision, once fully available, is the last good one.
    let app = env
        .named_app_until("api", "rollback revision good", |a| {
            a.status.as_ref().and_then(|s| s.last_good_revision) == Some(3)
        })
        .await;
    assert_eq!(phase(&app), Some(AppPhase::RolledBack));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let app = apps.get("api").await.expect("app");
    assert_eq!(phase(&app), Some(AppPhase::RolledBack));
    assert_eq!(status_revision(&app), Some(3));
    let d = env
        .api::<Deployment>()
        .get("api")
        .await
        .expect("deployment");
    assert_eq!(deployment_image(&d).as_deref(), Some("api:1"));

    // A new spec clears the failure.
    let fixed = AppSpec {
        image: Some("api:2".into()),
        ..Default::default()
    };
    env.set_spec("api", &fixed).await;
    let app = env
        .named_app_until("api", "revision 4 available", |a| {
            phase(a) == Some(AppPhase::Available) && status_revision(a) == Some(4)
        })
        .await;
    assert_eq!(
        app.status.as_ref().and_then(|s| s.failed_spec_hash.clone()),
        None
    );

    // A revision stuck unready past its progress deadline also rolls back.
    let stuck = AppSpec {
        image: Some("api:stuck".into()),
        rollout: Some(berth_spec::Rollout {
            progress_deadline_seconds: Some(2),
            ..Default::default()
        }),
        ..Default::default()
    };
    env.set_spec("api", &stuck).await;
    let app = env
        .named_app_until("api", "rolled back after the deadline", |a| {
            phase(a) == Some(AppPhase::RolledBack) && status_revision(a) == Some(6)
        })
        .await;
    let message = app.status.and_then(|s| s.message).unwrap_or_default();
    assert!(message.contains("progress deadline"), "{message}");
    assert!(message.ends_with("rolled back to revision 4"), "{message}");

    // A first deploy that fails has nothing to roll back to: Failed.
    apps.create(
        &PostParams::default(),
        &new_app(
            "broken",
            AppSpec {
                image: Some("broken:crash".into()),
                ..Default::default()
            },
        ),
    )
    .await
    .expect("create");
    let app = env
        .named_app_until("broken", "failed", |a| phase(a) == Some(AppPhase::Failed))
        .await;
    let status = app.status.expect("status");
    assert_eq!(status.revision, Some(1));
    assert_eq!(status.last_good_revision, None);
    assert!(
        status
            .message
            .as_deref()
            .unwrap_or_default()
            .starts_with("revision 1 failed: "),
        "{:?}",
        status.message
    );

    // autoRollback false: Failed too, the failing revision stays applied.
    let no_rollback = AppSpec {
        image: Some("api:crash-again".into()),
        rollout: Some(berth_spec::Rollout {
            auto_rollback: Some(false),
            ..Default::default()
        }),
        ..Default::default()
    };
    env.set_spec("api", &no_rollback).await;
    let app = env
        .named_app_until("api", "failed without rollback", |a| {
            phase(a) == Some(AppPhase::Failed)
        })
        .await;
    assert_eq!(status_revision(&app), Some(7));
    let d = env
        .api::<Deployment>()
        .get("api")
        .await
        .expect("deployment");
    assert_eq!(deployment_image(&d).as_deref(), Some("api:crash-again"));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cron_app_applies_records_and_reports() {
    let env = Env::start().await;
    let crons: Api<CronApp> = env.api();
    let spec = CronAppSpec {
        schedule: "*/5 * * * *".into(),
        image: Some("report:1".into()),
        config_files: vec![berth_spec::ConfigFile {
            path: "/etc/report.conf".into(),
            content: "x = 1\n".into(),
        }],
        ..Default::default()
    };
    crons
        .create(
            &PostParams::default(),
            &CronApp::new("report", spec.clone()),
        )
        .await
        .expect("create");
    let cron = eventually("cronapp available", || async {
        let c = crons.get("report").await.ok()?;
        let s = c.status.clone()?;
        (s.phase == Some(AppPhase::Available) && s.revision == Some(1)).then_some(c)
    })
    .await;
    let status = cron.status.clone().expect("status");
    assert_eq!(status.observed_generation, cron.metadata.generation);
    let cronjob = env.api::<CronJob>().get("report").await.expect("cronjob");
    let owned = |meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        meta.owner_references.as_ref().is_some_and(|refs| {
            refs.iter()
                .any(|r| Some(&r.uid) == cron.metadata.uid.as_ref() && r.controller == Some(true))
        })
    };
    assert!(owned(&cronjob.metadata));
    let configmaps: Api<ConfigMap> = env.api();
    let maps = configmaps
        .list(&ListParams::default().labels("berth.dev/owner=CronApp.report"))
        .await
        .expect("configmaps")
        .items;
    assert_eq!(maps.len(), 1);
    assert!(owned(&maps[0].metadata));
    let (_, rec1) = env.revision("CronApp", "report", 1).await;
    assert_eq!(rec1.image.as_deref(), Some("report:1"));
    assert_eq!(rec1.spec_hash, berth_spec::spec_hash(&spec));

    // Without config files: revision 2, the ConfigMap is pruned.
    let mut next = spec.clone();
    next.config_files.clear();
    next.image = Some("report:2".into());
    let mut current = crons.get("report").await.expect("get");
    current.spec = next;
    crons
        .replace("report", &PostParams::default(), &current)
        .await
        .expect("replace");
    eventually("revision 2 and configmap pruned", || async {
        let c = crons.get("report").await.ok()?;
        let maps = configmaps
            .list(&ListParams::default().labels("berth.dev/owner=CronApp.report"))
            .await
            .ok()?;
        (c.status?.revision == Some(2) && maps.items.is_empty()).then_some(())
    })
    .await;
    let cronjob = env.api::<CronJob>().get("report").await.expect("cronjob");
    let image = cronjob
        .spec
        .and_then(|s| s.job_template.spec)
        .and_then(|s| s.template.spec)
        .and_then(|s| s.containers.first().and_then(|c| c.image.clone()));
    assert_eq!(image.as_deref(), Some("report:2"));

    // A spec that cannot render: Invalid, the CronJob keeps revision 2.
    let mut current = crons.get("report").await.expect("get");
    current.spec.runtime = Some("cobol-85".into());
    crons
        .replace("report", &PostParams::default(), &current)
        .await
        .expect("replace");
    let c = eventually("invalid", || async {
        let c = crons.get("report").await.ok()?;
        (c.status.as_ref()?.phase == Some(AppPhase::Invalid)).then_some(c)
    })
    .await;
    assert_eq!(c.status.and_then(|s| s.revision), Some(2));

    // Deleted and created again before any garbage collection (none runs here): the old
    // revisions are not the new CronApp's; it starts again at revision 1.
    crons
        .delete("report", &Default::default())
        .await
        .expect("delete");
    eventually("deleted", || async {
        crons.get_opt("report").await.ok()?.is_none().then_some(())
    })
    .await;
    let again = crons
        .create(
            &PostParams::default(),
            &CronApp::new("report", spec.clone()),
        )
        .await
        .expect("create again");
    eventually("recreated cronapp available", || async {
        let s = crons.get("report").await.ok()?.status?;
        (s.phase == Some(AppPhase::Available) && s.revision == Some(1)).then_some(())
    })
    .await;
    let (cr, _) = env.revision("CronApp", "report", 1).await;
    let owner = cr.metadata.owner_references.expect("owner")[0].uid.clone();
    assert_eq!(Some(owner), again.metadata.uid);
    env.stop().await;
}
