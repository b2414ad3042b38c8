//! The commands against an in-process API server (no operator, no controllers): what they
//! write to the API, and what they print. Where a command waits for the operator, the test
//! plays the operator's part by writing the App's status.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use berth_apiserver::testing::TestCluster;
use berth_cli::{Captured, Command, Connection, Printer};
use berth_spec::meta::{LABEL_OWNER, revision_name};
use berth_spec::{App, AppPhase, AppSpec, AppStatus, CronApp, RevisionRecord, spec_hash};
use clap::Parser;
use k8s_openapi::api::apps::v1::{ControllerRevision, Deployment};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{CustomResourceExt, Resource};
use serde_json::json;

#[derive(clap::Parser, Debug)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

struct Env {
    _cluster: TestCluster,
    conn: Connection,
}

async fn env() -> Env {
    let cluster = TestCluster::start().await.expect("test cluster");
    let client = cluster.client.clone();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in [App::crd(), CronApp::crd()] {
        crds.create(&PostParams::default(), &crd)
            .await
            .expect("create CRD");
    }
    let apps: Api<App> = Api::namespaced(client.clone(), "default");
    let crons: Api<CronApp> = Api::namespaced(client.clone(), "default");
    for _ in 0..100 {
        if apps.list(&ListParams::default()).await.is_ok()
            && crons.list(&ListParams::default()).await.is_ok()
        {
            let mut conn = Connection::new(client, "default");
            conn.author = Some("tester".to_string());
            return Env {
                _cluster: cluster,
                conn,
            };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("CRDs not served");
}

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// Runs `berth <args>` over the test connection; returns the exit code and what it printed.
async fn berth(env: &Env, args: &[&str]) -> (ExitCode, Captured) {
    let cmd = Cli::try_parse_from(std::iter::once("berth").chain(args.iter().copied()))
        .expect("parse")
        .command;
    let (out, captured) = Printer::capture(cmd.output_format());
    let code = berth_cli::run_with_client(cmd, &env.conn, &out)
        .await
        .unwrap_or_else(|e| panic!("berth {args:?} failed: {e}"));
    (code, captured)
}

async fn berth_err(env: &Env, args: &[&str]) -> String {
    let cmd = Cli::try_parse_from(std::iter::once("berth").chain(args.iter().copied()))
        .expect("parse")
        .command;
    let (out, _) = Printer::capture(cmd.output_format());
    match berth_cli::run_with_client(cmd, &env.conn, &out).await {
        Ok(code) => panic!("berth {args:?} succeeded with {code:?}"),
        Err(e) => e.to_string(),
    }
}

fn apps(env: &Env) -> Api<App> {
    Api::namespaced(env.conn.client.clone(), "default")
}

async fn create_app(env: &Env, name: &str, spec: AppSpec) -> App {
    apps(env)
        .create(&PostParams::default(), &App::new(name, spec))
        .await
        .expect("create app")
}

async fn set_status(env: &Env, name: &str, status: AppStatus) {
    apps(env)
        .patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": status})),
        )
        .await
        .expect("patch status");
}

/// A revision as the operator records it.
async fn record_revision(env: &Env, app: &App, number: i64, spec: &AppSpec, message: &str) {
    let name = app.meta().name.clone().expect("name");
    let record = RevisionRecord {
        spec: serde_json::to_value(spec).expect("spec"),
        spec_hash: spec_hash(spec),
        objects: vec![],
        image: spec.image.clone(),
        author: Some("alice".into()),
        message: Some(message.into()),
        time: format!("2026-01-0{number}T10:00:00Z"),
        rollback_of: None,
    };
    let cr = ControllerRevision {
        metadata: kube::api::ObjectMeta {
            name: Some(revision_name("App", &name, number)),
            labels: Some([(LABEL_OWNER.to_string(), format!("App.{name}"))].into()),
            owner_references: Some(vec![OwnerReference {
                api_version: "berth.dev/v1alpha1".into(),
                kind: "App".into(),
                name: name.clone(),
                uid: app.meta().uid.clone().expect("uid"),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        data: Some(RawExtension(serde_json::to_value(&record).expect("record"))),
        revision: number,
    };
    Api::<ControllerRevision>::namespaced(env.conn.client.clone(), "default")
        .create(&PostParams::default(), &cr)
        .await
        .expect("create revision");
}

fn spec(image: &str) -> AppSpec {
    AppSpec {
        image: Some(image.into()),
        ports: vec![berth_spec::PortSpec {
            port: 8080,
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[tokio::test]
async fn deploy_no_wait_applies_the_spec_with_annotations_env_and_image() {
    let env = env().await;
    let (code, out) = berth(
        &env,
        &[
            "deploy",
            "-f",
            &fixture("web.yaml"),
            "--env",
            "prod",
            "--image",
            "shop/web:7",
            "-m",
            "first deploy",
            "--no-wait",
        ],
    )
    .await;
    assert_eq!(code, ExitCode::SUCCESS, "{}", out.stdout());
    assert!(
        out.stdout().contains("web: applied App in default"),
        "{}",
        out.stdout()
    );
    let app = apps(&env).get("web").await.expect("web");
    let annotations = app.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(annotations["berth.dev/message"], "first deploy");
    assert_eq!(annotations["berth.dev/author"], "tester");
    assert_eq!(app.spec.environment.as_deref(), Some("prod"));
    assert_eq!(app.spec.image.as_deref(), Some("shop/web:7"));
    assert_eq!(app.spec.project.as_deref(), Some("shop"));
    // The loader read `from:` into the content.
    assert!(app.spec.config_files[0].content.contains("hello"));
    // The field manager is the CLI's, by server-side apply.
    let managers: Vec<String> = app
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(managers.contains(&"berth-cli".to_string()), "{managers:?}");

    // A second deploy without -m records the default message.
    let (code, _) = berth(&env, &["deploy", "-f", &fixture("web.yaml"), "--no-wait"]).await;
    assert_eq!(code, ExitCode::SUCCESS);
    let app = apps(&env).get("web").await.expect("web");
    assert_eq!(
        app.metadata.annotations.unwrap_or_default()["berth.dev/message"],
        "deploy"
    );
    assert_eq!(
        app.metadata.generation,
        Some(2),
        "the spec changed (no env/image)"
    );

    // --image with two apps is refused; a CronApp alone is fine with it.
    let dir = tempfile::tempdir().expect("dir");
    let two = dir.path().join("two.yaml");
    std::fs::write(&two, "name: a\nimage: a:1\n---\nname: b\nimage: b:1\n").expect("write");
    let err = berth_err(
        &env,
        &[
            "deploy",
            "-f",
            &two.display().to_string(),
            "--image",
            "x:1",
            "--no-wait",
        ],
    )
    .await;
    assert!(err.contains("2 apps"), "{err}");
    assert!(
        apps(&env).get_opt("a").await.expect("get").is_none(),
        "nothing applied"
    );
}

#[tokio::test]
async fn deploy_waits_for_the_operator_and_reports_success_failure_and_timeout() {
    let env = env().await;
    // Timeout: no operator writes a status.
    let (code, out) = berth(
        &env,
        &["deploy", "-f", &fixture("web.yaml"), "--timeout", "1s"],
    )
    .await;
    assert_eq!(code, ExitCode::FAILURE);
    assert!(
        out.stdout().contains("web: timed out after 1s"),
        "{}",
        out.stdout()
    );

    // The test plays the operator: progressing, then available.
    let client = env.conn.client.clone();
    let operator = tokio::spawn(async move {
        let apps: Api<App> = Api::namespaced(client, "default");
        loop {
            let app = apps.get("web").await.expect("web");
            let generation = app.metadata.generation.unwrap_or(0);
            if app.spec.image.as_deref() == Some("web:2") {
                for (phase, ready) in [(AppPhase::Progressing, "1/2"), (AppPhase::Available, "2/2")]
                {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    let status = AppStatus {
                        observed_generation: Some(generation),
                        phase: Some(phase),
                        revision: Some(2),
                        ready: Some(ready.into()),
                        ..Default::default()
                    };
                    apps.patch_status(
                        "web",
                        &PatchParams::default(),
                        &Patch::Merge(json!({"status": status})),
                    )
                    .await
                    .expect("status");
                }
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let (code, out) = berth(
        &env,
        &[
            "deploy",
            "-f",
            &fixture("web.yaml"),
            "--image",
            "web:2",
            "--timeout",
            "20s",
            "-o",
            "json",
        ],
    )
    .await;
    operator.await.expect("operator");
    assert_eq!(code, ExitCode::SUCCESS, "{}", out.stderr());
    assert!(
        out.stderr()
            .contains("web: revision 2 rolling out 1/2 ready"),
        "{}",
        out.stderr()
    );
    assert!(
        out.stderr().contains("web: revision 2 available 2/2 ready"),
        "{}",
        out.stderr()
    );
    let printed: serde_json::Value = serde_json::from_str(&out.stdout()).expect("json");
    assert_eq!(printed["kind"], "List");
    assert_eq!(printed["items"][0]["status"]["phase"], "Available");

    // An automatic rollback is a failure with the operator's message.
    let client = env.conn.client.clone();
    let operator = tokio::spawn(async move {
        let apps: Api<App> = Api::namespaced(client, "default");
        loop {
            let app = apps.get("web").await.expect("web");
            if app.spec.image.as_deref() == Some("web:bad") {
                let status = AppStatus {
                    observed_generation: app.metadata.generation,
                    phase: Some(AppPhase::RolledBack),
                    revision: Some(4),
                    last_good_revision: Some(2),
                    message: Some("revision 3 failed: pods crash looping".into()),
                    ..Default::default()
                };
                apps.patch_status(
                    "web",
                    &PatchParams::default(),
                    &Patch::Merge(json!({"status": status})),
                )
                .await
                .expect("status");
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let (code, out) = berth(
        &env,
        &[
            "deploy",
            "-f",
            &fixture("web.yaml"),
            "--image",
            "web:bad",
            "--timeout",
            "20s",
        ],
    )
    .await;
    operator.await.expect("operator");
    assert_eq!(code, ExitCode::FAILURE);
    assert!(
        out.stdout()
            .contains("web: RolledBack: revision 3 failed: pods crash looping"),
        "{}",
        out.stdout()
    );
}

#[tokio::test]
async fn history_lists_revisions_and_rollback_applies_the_previous_spec() {
    let env = env().await;
    let v1 = spec("web:1");
    let v2 = spec("web:2");
    let app = create_app(&env, "web", v2.clone()).await;
    record_revision(&env, &app, 1, &v1, "first").await;
    record_revision(&env, &app, 2, &v2, "second").await;
    set_status(
        &env,
        "web",
        AppStatus {
            observed_generation: Some(1),
            phase: Some(AppPhase::Available),
            revision: Some(2),
            last_good_revision: Some(2),
            ..Default::default()
        },
    )
    .await;

    let (code, out) = berth(&env, &["history", "web"]).await;
    assert_eq!(code, ExitCode::SUCCESS);
    let text = out.stdout();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("REVISION"), "{text}");
    assert!(
        lines[1].starts_with("1 ") && lines[1].contains("web:1") && lines[1].contains("first"),
        "{text}"
    );
    assert!(
        lines[2].contains("web:2") && lines[2].ends_with("current, last good"),
        "{text}"
    );

    let (code, out) = berth(&env, &["history", "web", "-o", "json"]).await;
    assert_eq!(code, ExitCode::SUCCESS);
    let printed: serde_json::Value = serde_json::from_str(&out.stdout()).expect("json");
    assert_eq!(printed[1]["revision"], 2);
    assert_eq!(printed[1]["current"], true);

    // Rollback without a target: revision 1, the previous distinct spec.
    let (code, out) = berth(&env, &["rollback", "web", "--no-wait"]).await;
    assert_eq!(code, ExitCode::SUCCESS);
    assert!(
        out.stdout()
            .contains("rolling back to revision 1 (image web:1)"),
        "{}",
        out.stdout()
    );
    let rolled = apps(&env).get("web").await.expect("web");
    assert_eq!(rolled.spec, v1, "the spec is revision 1's exactly");
    assert_eq!(spec_hash(&rolled.spec), spec_hash(&v1));
    assert_eq!(
        rolled.metadata.annotations.unwrap_or_default()["berth.dev/message"],
        "rollback to revision 1"
    );

    // With a wait: the test plays the operator's fast rollback.
    let client = env.conn.client.clone();
    let operator = tokio::spawn(async move {
        let apps: Api<App> = Api::namespaced(client, "default");
        loop {
            let app = apps.get("web").await.expect("web");
            if app.spec.image.as_deref() == Some("web:2") {
                let status = AppStatus {
                    observed_generation: app.metadata.generation,
                    phase: Some(AppPhase::Available),
                    revision: Some(3),
                    last_good_revision: Some(3),
                    ready: Some("1/1".into()),
                    ..Default::default()
                };
                apps.patch_status(
                    "web",
                    &PatchParams::default(),
                    &Patch::Merge(json!({"status": status})),
                )
                .await
                .expect("status");
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let (code, out) = berth(
        &env,
        &["rollback", "web", "--to-revision", "2", "--timeout", "20s"],
    )
    .await;
    operator.await.expect("operator");
    assert_eq!(code, ExitCode::SUCCESS, "{}", out.stdout());
    assert!(
        out.stdout().contains("web: rolled back to revision 2 in "),
        "{}",
        out.stdout()
    );

    let err = berth_err(
        &env,
        &["rollback", "web", "--to-revision", "9", "--no-wait"],
    )
    .await;
    assert!(err.contains("revision 9 not found"), "{err}");
    let err = berth_err(&env, &["history", "nope"]).await;
    assert_eq!(err, "App \"nope\" not found in namespace \"default\"");
}

#[tokio::test]
async fn scale_and_debug_patch_the_spec() {
    let env = env().await;
    create_app(&env, "web", spec("web:1")).await;
    let (code, out) = berth(&env, &["scale", "web", "3"]).await;
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(out.stdout(), "web scaled to 3 replicas\n");
    let app = apps(&env).get("web").await.expect("web");
    assert_eq!(app.spec.replicas, Some(3));
    assert_eq!(
        app.spec.image.as_deref(),
        Some("web:1"),
        "other fields kept"
    );

    let mut autoscaled = spec("api:1");
    autoscaled.autoscaling = Some(berth_spec::Autoscaling {
        min_replicas: 2,
        max_replicas: 5,
        cpu_percent: None,
    });
    create_app(&env, "api", autoscaled).await;
    let err = berth_err(&env, &["scale", "api", "3"]).await;
    assert!(err.contains("autoscales between 2 and 5"), "{err}");

    let (code, out) = berth(&env, &["debug", "web", "--no-wait"]).await;
    assert_eq!(code, ExitCode::SUCCESS);
    assert!(
        out.stdout()
            .contains("run `berth debug web --off` to restore"),
        "{}",
        out.stdout()
    );
    assert!(apps(&env).get("web").await.expect("web").spec.debug);
    let (code, _) = berth(&env, &["debug", "web", "--off", "--no-wait"]).await;
    assert_eq!(code, ExitCode::SUCCESS);
    let app = apps(&env).get("web").await.expect("web");
    assert!(!app.spec.debug);
    assert_eq!(app.spec.replicas, Some(3));
}

#[tokio::test]
async fn restart_sets_the_restarted_at_annotation_on_the_pod_template() {
    let env = env().await;
    create_app(&env, "web", spec("web:1")).await;
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "web:1"}]}
            }
        }
    }))
    .expect("deployment");
    let deployments: Api<Deployment> = Api::namespaced(env.conn.client.clone(), "default");
    deployments
        .create(&PostParams::default(), &deployment)
        .await
        .expect("create deployment");
    let (code, _) = berth(&env, &["restart", "web", "--no-wait"]).await;
    assert_eq!(code, ExitCode::SUCCESS);
    let d = deployments.get("web").await.expect("get");
    let annotations = d
        .spec
        .and_then(|s| s.template.metadata)
        .and_then(|m| m.annotations)
        .unwrap_or_default();
    let at = annotations
        .get("kubectl.kubernetes.io/restartedAt")
        .expect("restartedAt");
    assert!(at.parse::<k8s_openapi::jiff::Timestamp>().is_ok(), "{at}");
    // Without a deployment controller the rollout never completes: the wait times out.
    let (code, out) = berth(&env, &["restart", "web", "--timeout", "1s"]).await;
    assert_eq!(code, ExitCode::FAILURE);
    assert!(out.stdout().contains("timed out"), "{}", out.stdout());
}

fn pod(name: &str, labels: serde_json::Value) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "app", "image": "web:1"}]}
    }))
    .expect("pod")
}

#[tokio::test]
async fn isolate_relabels_the_pod_and_warns_when_exec_is_refused() {
    let env = env().await;
    let mut s = spec("web:1");
    s.lifecycle = Some(berth_spec::Lifecycle {
        offline: Some("echo bye".into()),
        ..Default::default()
    });
    create_app(&env, "web", s).await;
    let pods: Api<Pod> = Api::namespaced(env.conn.client.clone(), "default");
    pods.create(
        &PostParams::default(),
        &pod(
            "web-abc",
            json!({"app": "web", "berth.dev/owner": "App.web"}),
        ),
    )
    .await
    .expect("pod");
    pods.create(&PostParams::default(), &pod("stray", json!({"app": "web"})))
        .await
        .expect("pod");

    let (code, out) = berth(&env, &["isolate", "web-abc", "--replacement-timeout", "1s"]).await;
    assert_eq!(code, ExitCode::SUCCESS);
    let p = pods.get("web-abc").await.expect("pod");
    let labels = p.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels["app"], "web-isolated");
    assert_eq!(labels["berth.dev/isolated"], "true");
    assert_eq!(labels["berth.dev/owner"], "App.web");
    assert!(
        p.metadata
            .annotations
            .unwrap_or_default()
            .contains_key("berth.dev/isolated-at")
    );
    assert!(
        out.stderr()
            .contains("warning: the offline hook was not run: the cluster refused exec"),
        "{}",
        out.stderr()
    );
    assert!(
        out.stderr().contains("no replacement pod appeared"),
        "{}",
        out.stderr()
    );

    // Status marks it.
    let (_, out) = berth(&env, &["status", "web"]).await;
    assert!(
        out.stdout().contains("web-abc (isolated)"),
        "{}",
        out.stdout()
    );

    let err = berth_err(&env, &["isolate", "stray"]).await;
    assert!(err.contains("does not belong to a Berth App"), "{err}");
    let err = berth_err(&env, &["isolate", "stray", "--release"]).await;
    assert!(err.contains("is not isolated"), "{err}");
    let (code, _) = berth(&env, &["isolate", "web-abc", "--release"]).await;
    assert_eq!(code, ExitCode::SUCCESS);
    let gone = pods.get_opt("web-abc").await.expect("get");
    assert!(
        gone.is_none_or(|p| p.metadata.deletion_timestamp.is_some()),
        "released pod deleted"
    );
}

#[tokio::test]
async fn cron_trigger_creates_a_job_from_the_cronjob_and_runs_lists_it() {
    let env = env().await;
    Api::<CronApp>::namespaced(env.conn.client.clone(), "default")
        .create(
            &PostParams::default(),
            &CronApp::new(
                "report",
                berth_spec::CronAppSpec {
                    schedule: "*/5 * * * *".into(),
                    image: Some("report:1".into()),
                    ..Default::default()
                },
            ),
        )
        .await
        .expect("cronapp");
    let cronjob: CronJob = serde_json::from_value(json!({
        "metadata": {"name": "report"},
        "spec": {
            "schedule": "*/5 * * * *",
            "jobTemplate": {
                "metadata": {"labels": {"berth.dev/owner": "CronApp.report", "app": "report"}},
                "spec": {"template": {
                    "metadata": {"labels": {"berth.dev/owner": "CronApp.report"}},
                    "spec": {"restartPolicy": "Never", "containers": [{"name": "job", "image": "report:1"}]}
                }}
            }
        }
    }))
    .expect("cronjob");
    let cronjob = Api::<CronJob>::namespaced(env.conn.client.clone(), "default")
        .create(&PostParams::default(), &cronjob)
        .await
        .expect("create cronjob");

    let (code, out) = berth(&env, &["cron", "trigger", "report"]).await;
    assert_eq!(code, ExitCode::SUCCESS);
    let printed = out.stdout();
    let name = printed
        .trim()
        .strip_prefix("job.batch/")
        .and_then(|s| s.strip_suffix(" created"))
        .unwrap_or_else(|| panic!("{printed}"))
        .to_string();
    let suffix = name.strip_prefix("report-manual-").expect("name pattern");
    assert!(
        suffix.len() == 5 && suffix.chars().all(|c| c.is_ascii_lowercase()),
        "{name}"
    );
    let job = Api::<Job>::namespaced(env.conn.client.clone(), "default")
        .get(&name)
        .await
        .expect("job");
    assert_eq!(
        job.metadata.annotations.clone().unwrap_or_default()["cronjob.kubernetes.io/instantiate"],
        "manual"
    );
    assert_eq!(
        job.metadata.labels.clone().unwrap_or_default()["berth.dev/owner"],
        "CronApp.report"
    );
    let owner = &job.metadata.owner_references.clone().unwrap_or_default()[0];
    assert_eq!(owner.kind, "CronJob");
    assert_eq!(Some(&owner.uid), cronjob.metadata.uid.as_ref());
    assert_eq!(owner.controller, Some(true));

    let (code, out) = berth(&env, &["cron", "runs", "report"]).await;
    assert_eq!(code, ExitCode::SUCCESS);
    let text = out.stdout();
    assert!(text.starts_with("JOB"), "{text}");
    let row = text.lines().nth(1).expect("a run");
    assert!(
        row.starts_with(&name) && row.contains("Running") && row.ends_with("yes"),
        "{text}"
    );

    let (code, out) = berth(&env, &["cron", "list"]).await;
    assert_eq!(code, ExitCode::SUCCESS);
    assert!(
        out.stdout().contains("report   */5 * * * *"),
        "{}",
        out.stdout()
    );

    let err = berth_err(&env, &["cron", "trigger", "nope"]).await;
    assert_eq!(err, "CronApp \"nope\" not found in namespace \"default\"");
}

#[tokio::test]
async fn status_lists_apps_and_crons_and_shows_one_app() {
    let env = env().await;
    let (code, out) = berth(&env, &["status"]).await;
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(
        out.stdout(),
        "No Apps or CronApps found in default namespace.\n"
    );
    let (code, _) = berth(
        &env,
        &[
            "deploy",
            "-f",
            &fixture("web.yaml"),
            &fixture("report.yaml"),
            "--no-wait",
        ],
    )
    .await;
    assert_eq!(code, ExitCode::SUCCESS);
    set_status(
        &env,
        "web",
        AppStatus {
            observed_generation: Some(1),
            phase: Some(AppPhase::Available),
            revision: Some(1),
            last_good_revision: Some(1),
            image: Some("python:3.11-slim".into()),
            ready: Some("2/2".into()),
            message: Some("2/2 ready".into()),
            ..Default::default()
        },
    )
    .await;
    let (_, out) = berth(&env, &["status"]).await;
    let text = out.stdout();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("NAME     PROJECT   PHASE"), "{text}");
    assert!(
        lines[1].starts_with("web      shop      Available   1          2/2     python:3.11-slim"),
        "{text}"
    );
    assert!(
        lines[2]
            .starts_with("report   shop      Pending     <none>     cron    debian:bookworm-slim"),
        "{text}"
    );
    let (_, out) = berth(&env, &["status", "-A"]).await;
    assert!(
        out.stdout().starts_with("NAMESPACE   NAME"),
        "{}",
        out.stdout()
    );
    let (_, out) = berth(&env, &["status", "web"]).await;
    let text = out.stdout();
    assert!(text.contains("Phase:        Available"), "{text}");
    assert!(text.contains("Last good:    1"), "{text}");
    assert!(text.contains("Message:      2/2 ready"), "{text}");
    assert!(text.contains("Pods:\n  <none>"), "{text}");
    let (_, out) = berth(&env, &["status", "web", "-o", "yaml"]).await;
    assert!(
        out.stdout().contains("phase: Available"),
        "{}",
        out.stdout()
    );
    let err = berth_err(&env, &["status", "nope"]).await;
    assert_eq!(err, "App \"nope\" not found in namespace \"default\"");
}

#[tokio::test]
async fn render_and_lint_run_offline_on_fixture_files() {
    let env = env().await;
    let (code, out) = berth(
        &env,
        &[
            "render",
            "-f",
            &fixture("web.yaml"),
            "--env",
            "prod",
            "--namespace",
            "shop",
            "--cluster",
            "c1",
        ],
    )
    .await;
    assert_eq!(code, ExitCode::SUCCESS);
    let yaml = out.stdout();
    assert!(yaml.contains("kind: Deployment"), "{yaml}");
    assert!(yaml.contains("namespace: shop"), "{yaml}");
    assert!(yaml.contains("replicas: 4"), "{yaml}");
    let (code, out) = berth(
        &env,
        &["render", "-f", &fixture("report.yaml"), "-o", "json"],
    )
    .await;
    assert_eq!(code, ExitCode::SUCCESS);
    let list: serde_json::Value = serde_json::from_str(&out.stdout()).expect("json");
    assert_eq!(list["kind"], "List");
    assert!(
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|o| o["kind"] == "CronJob"),
        "{list}"
    );
    let err = berth_err(&env, &["render", "-f", &fixture("bad.yaml")]).await;
    assert!(
        err.contains("bad.yaml") && err.contains("cobol-85"),
        "{err}"
    );

    let (code, out) = berth(
        &env,
        &["lint", &fixture("web.yaml"), &fixture("report.yaml")],
    )
    .await;
    assert_eq!(code, ExitCode::SUCCESS, "{}", out.stdout());
    assert!(
        out.stdout().contains("1 app, 1 cron job: 0 errors"),
        "{}",
        out.stdout()
    );
    let (code, out) = berth(&env, &["lint", &fixture("bad.yaml")]).await;
    assert_eq!(code, ExitCode::FAILURE, "{}", out.stdout());
    assert!(out.stdout().contains("bad.yaml:2"), "{}", out.stdout());
    let (code, out) = berth(&env, &["lint", &fixture("bad.yaml"), "-o", "json"]).await;
    assert_eq!(code, ExitCode::FAILURE);
    let report: serde_json::Value = serde_json::from_str(&out.stdout()).expect("json");
    let findings = report["findings"].as_array().expect("findings");
    assert!(
        findings
            .iter()
            .any(|f| f["severity"] == "error" && f["field"] == "spec.runtime" && f["line"] == 2),
        "{report}"
    );
}

#[tokio::test]
async fn logs_reads_every_pod_of_the_app_and_reports_unreadable_ones() {
    let env = env().await;
    create_app(&env, "web", spec("web:1")).await;
    let err = berth_err(&env, &["logs", "nope"]).await;
    assert_eq!(err, "App \"nope\" not found in namespace \"default\"");
    // No pods: says so.
    let (code, out) = berth(&env, &["logs", "web"]).await;
    assert_eq!(code, ExitCode::SUCCESS);
    assert!(out.stderr().contains("has no pods"), "{}", out.stderr());
    // Pods on no node: the API server cannot serve their logs; each one is reported.
    let pods: Api<Pod> = Api::namespaced(env.conn.client.clone(), "default");
    for name in ["web-1", "web-2"] {
        pods.create(
            &PostParams::default(),
            &pod(name, json!({"app": "web", "berth.dev/owner": "App.web"})),
        )
        .await
        .expect("pod");
    }
    let (code, out) = berth(&env, &["logs", "web", "--tail", "5"]).await;
    assert_eq!(code, ExitCode::FAILURE);
    let stderr = out.stderr();
    assert!(
        stderr.contains("cannot read the logs of pod web-1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cannot read the logs of pod web-2"),
        "{stderr}"
    );
}
