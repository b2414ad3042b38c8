//! Specific rendering rules, checked on the JSON objects.

use std::collections::BTreeMap;

use berth_render::{RenderContext, RenderError, render_app, render_cron};
use berth_spec::{
    AppSpec, Autoscaling, ConfigFile, CronAppSpec, EnvironmentOverride, HealthCheck, PortSpec,
    Resources,
};
use serde_json::{Value, json};

fn ctx() -> RenderContext {
    RenderContext::default()
}

fn web(replicas: i32) -> AppSpec {
    AppSpec {
        runtime: Some("python-3.12".into()),
        entrypoint: Some("app.py".into()),
        ports: vec![PortSpec {
            port: 8000,
            ..Default::default()
        }],
        replicas: Some(replicas),
        domain: Some("web.example.com".into()),
        config_files: vec![ConfigFile {
            path: "/app/app.py".into(),
            content: "print(1)\n".into(),
        }],
        ..Default::default()
    }
}

fn cron() -> CronAppSpec {
    CronAppSpec {
        schedule: "0 * * * *".into(),
        image: Some("busybox:1.36".into()),
        command: Some(vec!["true".into()]),
        ..Default::default()
    }
}

fn kinds(objects: &[Value]) -> Vec<&str> {
    objects
        .iter()
        .map(|o| o["kind"].as_str().expect("kind"))
        .collect()
}

fn find<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {:?}", kinds(objects)))
}

/// Every pod spec in an object (Deployment or CronJob).
fn pod_specs(object: &Value) -> Vec<&Value> {
    [
        object.pointer("/spec/template/spec"),
        object.pointer("/spec/jobTemplate/spec/template/spec"),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[test]
fn objects_come_in_apply_order_with_complete_metadata() {
    let mut spec = web(2);
    spec.autoscaling = Some(Autoscaling {
        min_replicas: 2,
        max_replicas: 5,
        cpu_percent: None,
    });
    let ctx = RenderContext {
        namespace: "team-a".into(),
        cluster: "eu-1".into(),
    };
    let objects = render_app("web", &spec, &ctx).expect("render");
    assert_eq!(
        kinds(&objects),
        [
            "ConfigMap",
            "Service",
            "Deployment",
            "PodDisruptionBudget",
            "HorizontalPodAutoscaler",
            "Ingress"
        ]
    );
    for object in &objects {
        assert!(object["apiVersion"].is_string(), "{object}");
        let name = object["metadata"]["name"].as_str().expect("name");
        assert!(name == "web" || name == "web-files", "{name}");
        assert_eq!(object["metadata"]["namespace"], "team-a");
        assert!(object["metadata"].get("ownerReferences").is_none());
        let labels = &object["metadata"]["labels"];
        assert_eq!(labels["app"], "web");
        assert_eq!(labels["berth.dev/owner"], "App.web");
        assert_eq!(labels["app.kubernetes.io/managed-by"], "berth");
        assert_eq!(labels["environment"], "default");
        assert_eq!(labels["cluster"], "eu-1");
        assert!(labels.get("project").is_none(), "no project, no label");
    }
    assert_eq!(find(&objects, "ConfigMap")["metadata"]["name"], "web-files");
}

#[test]
fn service_links_are_off_in_every_pod() {
    let app = render_app("web", &web(1), &ctx()).expect("app");
    let cron = render_cron("job", &cron(), &ctx()).expect("cron");
    let specs: Vec<&Value> = app.iter().chain(&cron).flat_map(pod_specs).collect();
    assert_eq!(specs.len(), 2);
    for spec in specs {
        assert_eq!(spec["enableServiceLinks"], false, "{spec}");
    }
}

#[test]
fn limits_are_always_set() {
    let mut only_cpu = web(1);
    only_cpu.resources = Some(Resources {
        cpu: Some("2".into()),
        ..Default::default()
    });
    for spec in [web(1), only_cpu] {
        let objects = render_app("web", &spec, &ctx()).expect("render");
        let resources = find(&objects, "Deployment")
            .pointer("/spec/template/spec/containers/0/resources")
            .expect("resources");
        for kind in ["requests", "limits"] {
            for resource in ["cpu", "memory"] {
                assert!(
                    resources[kind][resource].is_string(),
                    "{kind}.{resource}: {resources}"
                );
            }
        }
        assert_eq!(resources["limits"], resources["requests"]);
    }
    let objects = render_app("web", &web(1), &ctx()).expect("render");
    let resources = find(&objects, "Deployment")
        .pointer("/spec/template/spec/containers/0/resources")
        .expect("resources");
    assert_eq!(
        resources["requests"],
        json!({"cpu": "100m", "memory": "128Mi"})
    );
    let cron = render_cron("job", &cron(), &ctx()).expect("cron");
    let resources = find(&cron, "CronJob")
        .pointer("/spec/jobTemplate/spec/template/spec/containers/0/resources/limits")
        .expect("limits");
    assert_eq!(resources, &json!({"cpu": "100m", "memory": "128Mi"}));
}

#[test]
fn pdb_and_spread_only_from_two_pods() {
    for (replicas, expect_pdb) in [(0, false), (1, false), (2, true), (5, true)] {
        let objects = render_app("web", &web(replicas), &ctx()).expect("render");
        let has_pdb = kinds(&objects).contains(&"PodDisruptionBudget");
        assert_eq!(has_pdb, expect_pdb, "replicas {replicas}");
        let spread = find(&objects, "Deployment")
            .pointer("/spec/template/spec/topologySpreadConstraints")
            .is_some();
        assert_eq!(spread, expect_pdb, "replicas {replicas}");
    }
    // Autoscaling from one pod: may grow to several (spread) but may be one (no budget).
    let mut spec = web(3);
    spec.autoscaling = Some(Autoscaling {
        min_replicas: 1,
        max_replicas: 3,
        cpu_percent: None,
    });
    let objects = render_app("web", &spec, &ctx()).expect("render");
    assert!(!kinds(&objects).contains(&"PodDisruptionBudget"));
    let deployment = find(&objects, "Deployment");
    assert!(
        deployment.pointer("/spec/replicas").is_none(),
        "the HPA owns replicas"
    );
    let spread = &deployment["spec"]["template"]["spec"]["topologySpreadConstraints"][0];
    assert_eq!(spread["whenUnsatisfiable"], "ScheduleAnyway");
    assert_eq!(spread["topologyKey"], "kubernetes.io/hostname");
    assert_eq!(
        find(&objects, "HorizontalPodAutoscaler")["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
        80
    );
}

#[test]
fn selectors_are_app_and_owner_and_miss_a_cron_of_the_same_name() {
    let objects = render_app("web", &web(2), &ctx()).expect("render");
    let selector = json!({"app": "web", "berth.dev/owner": "App.web"});
    assert_eq!(find(&objects, "Service")["spec"]["selector"], selector);
    assert_eq!(
        find(&objects, "Deployment")["spec"]["selector"]["matchLabels"],
        selector
    );
    assert_eq!(
        find(&objects, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
        selector
    );
    let pod_labels = &find(&objects, "Deployment")["spec"]["template"]["metadata"]["labels"];
    assert_eq!(pod_labels["track"], "stable");
    assert_eq!(pod_labels["log-type"], "text");

    let cron = render_cron("web", &cron(), &ctx()).expect("cron");
    let job_pod_labels =
        &find(&cron, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"];
    assert_eq!(job_pod_labels["app"], "web");
    assert_eq!(job_pod_labels["berth.dev/owner"], "CronApp.web");
    let matches = selector
        .as_object()
        .expect("map")
        .iter()
        .all(|(k, v)| &job_pod_labels[k] == v);
    assert!(
        !matches,
        "the app's selector must not match the cron's pods"
    );
    let job_labels = &find(&cron, "CronJob")["spec"]["jobTemplate"]["metadata"]["labels"];
    assert_eq!(job_labels["berth.dev/owner"], "CronApp.web");
}

#[test]
fn rendering_is_deterministic() {
    let mut spec = web(3);
    spec.env = (0..20)
        .map(|i| (format!("VAR_{i}"), i.to_string()))
        .collect();
    let a = serde_json::to_vec(&render_app("web", &spec, &ctx()).expect("a")).expect("json");
    let b =
        serde_json::to_vec(&render_app("web", &spec.clone(), &ctx()).expect("b")).expect("json");
    assert_eq!(a, b);
    let env = render_app("web", &spec, &ctx()).expect("render");
    let names: Vec<&str> =
        find(&env, "Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .expect("env")
            .iter()
            .map(|e| e["name"].as_str().expect("name"))
            .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[test]
fn environments_apply_and_unknown_is_an_error() {
    let mut spec = web(1);
    spec.environments = BTreeMap::from([(
        "prod".to_string(),
        EnvironmentOverride {
            replicas: Some(4),
            ..Default::default()
        },
    )]);
    spec.environment = Some("prod".into());
    let objects = render_app("web", &spec, &ctx()).expect("prod");
    assert_eq!(find(&objects, "Deployment")["spec"]["replicas"], 4);
    assert_eq!(
        find(&objects, "Deployment")["metadata"]["labels"]["environment"],
        "prod"
    );

    spec.environment = Some("qa".into());
    let err = render_app("web", &spec, &ctx()).expect_err("qa is not defined");
    assert!(matches!(err, RenderError::UnknownEnvironment(_)), "{err}");
    let mut cron = cron();
    cron.environments = spec.environments.clone();
    cron.environment = Some("qa".into());
    assert!(matches!(
        render_cron("job", &cron, &ctx()),
        Err(RenderError::UnknownEnvironment(_))
    ));
}

#[test]
fn bad_specs_are_refused() {
    let bad = |mutate: fn(&mut AppSpec)| {
        let mut spec = web(1);
        mutate(&mut spec);
        render_app("web", &spec, &ctx()).expect_err("must fail")
    };
    assert!(matches!(
        bad(|s| s.runtime = Some("cobol".into())),
        RenderError::UnknownRuntime(_)
    ));
    assert!(matches!(
        bad(|s| s.runtime = None),
        RenderError::NothingToRun(_)
    ));
    assert!(matches!(
        bad(|s| s.entrypoint = None),
        RenderError::NothingToRun(_)
    ));
    assert!(matches!(
        bad(|s| s.resources = Some(Resources {
            memory: Some("lots".into()),
            ..Default::default()
        })),
        RenderError::InvalidQuantity { .. }
    ));
    assert!(
        matches!(bad(|s| s.ports.clear()), RenderError::InvalidValue { .. }),
        "a domain without a port"
    );
    assert!(matches!(
        bad(|s| s.project = Some("-bad-".into())),
        RenderError::InvalidLabel { .. }
    ));
    assert!(matches!(
        bad(|s| s.rollout = Some(berth_spec::Rollout {
            max_surge: Some("many".into()),
            ..Default::default()
        })),
        RenderError::InvalidIntOrPercent { .. }
    ));
    assert!(matches!(
        bad(|s| s.config_files.push(ConfigFile {
            path: "relative.txt".into(),
            content: String::new()
        })),
        RenderError::InvalidConfigFile { .. }
    ));
    // Requests above limits: the API server's own validation says no.
    let err = bad(|s| {
        s.resources = Some(Resources {
            cpu: Some("2".into()),
            limits: Some(berth_spec::ResourceLimits {
                cpu: Some("1".into()),
                memory: None,
            }),
            ..Default::default()
        })
    });
    assert!(
        matches!(&err, RenderError::InvalidObject { kind, .. } if kind == "Deployment"),
        "{err}"
    );
    assert!(err.to_string().contains("limit"), "{err}");
    // An env var name Kubernetes refuses.
    let err = bad(|s| {
        s.env.insert("BAD=NAME".into(), "x".into());
    });
    assert!(matches!(err, RenderError::InvalidObject { .. }), "{err}");

    for name in ["Web", "1web", "web_app", &"a".repeat(60)] {
        let err = render_app(name, &web(1), &ctx()).expect_err(name);
        assert!(
            matches!(err, RenderError::InvalidName { .. }),
            "{name}: {err}"
        );
    }
    assert!(render_app(&"a".repeat(59), &web(1), &ctx()).is_ok());
    assert!(render_cron(&"a".repeat(53), &cron(), &ctx()).is_err());
    assert!(render_cron(&"a".repeat(52), &cron(), &ctx()).is_ok());

    let mut cron_bad = cron();
    cron_bad.schedule = "every day".into();
    assert!(matches!(
        render_cron("job", &cron_bad, &ctx()),
        Err(RenderError::InvalidObject { .. })
    ));
    let mut cron_bad = cron();
    cron_bad.starting_deadline_seconds = Some(5);
    assert!(render_cron("job", &cron_bad, &ctx()).is_err());
}

#[test]
fn editing_a_config_file_changes_the_pod_template() {
    let hash = |content: &str| {
        let mut spec = web(1);
        spec.config_files[0].content = content.to_string();
        let objects = render_app("web", &spec, &ctx()).expect("render");
        find(&objects, "Deployment")["spec"]["template"]["metadata"]["annotations"]
            ["berth.dev/files-hash"]
            .as_str()
            .expect("hash")
            .to_string()
    };
    assert_eq!(hash("a"), hash("a"));
    assert_ne!(hash("a"), hash("b"));
}

#[test]
fn debug_mode_drops_probes_and_hooks() {
    let mut spec = web(1);
    spec.health = Some(HealthCheck {
        path: Some("/healthz".into()),
        ..Default::default()
    });
    spec.lifecycle = Some(berth_spec::Lifecycle {
        online: Some("echo up".into()),
        offline: Some("echo down".into()),
        drain_seconds: None,
    });
    let normal = render_app("web", &spec, &ctx()).expect("normal");
    let container = &find(&normal, "Deployment")["spec"]["template"]["spec"]["containers"][0];
    for key in [
        "readinessProbe",
        "livenessProbe",
        "startupProbe",
        "lifecycle",
    ] {
        assert!(container.get(key).is_some(), "{key}");
    }
    spec.debug = true;
    let debug = render_app("web", &spec, &ctx()).expect("debug");
    let template = &find(&debug, "Deployment")["spec"]["template"];
    let container = &template["spec"]["containers"][0];
    for key in [
        "readinessProbe",
        "livenessProbe",
        "startupProbe",
        "lifecycle",
    ] {
        assert!(container.get(key).is_none(), "{key}");
    }
    assert_eq!(template["metadata"]["labels"]["track"], "debug");
}

#[test]
fn yaml_has_one_document_per_object() {
    let objects = render_app("web", &web(2), &ctx()).expect("render");
    let yaml = berth_render::to_yaml(&objects).expect("yaml");
    assert_eq!(yaml.matches("\n---\n").count(), objects.len() - 1);
    assert!(yaml.contains("enableServiceLinks: false"));
}
