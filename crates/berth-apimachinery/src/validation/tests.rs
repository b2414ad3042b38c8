//! Tests of the per-kind validation with upstream's exact messages.

use super::*;
use crate::defaults::{apply_defaults, generate_job_selector};

fn defaulted(group: &str, kind: &str, mut obj: Value) -> Value {
    apply_defaults(group, kind, &mut obj);
    obj
}

fn msgs(errs: &[FieldError]) -> Vec<String> {
    errs.iter().map(ToString::to_string).collect()
}

fn create(group: &str, kind: &str, obj: Value) -> Vec<String> {
    let obj = defaulted(group, kind, obj);
    msgs(&validate(group, kind, &obj))
}

fn update(group: &str, kind: &str, new: Value, old: Value) -> Vec<String> {
    let new = defaulted(group, kind, new);
    let old = defaulted(group, kind, old);
    msgs(&validate_update(group, kind, &new, &old))
}

fn assert_has(errs: &[String], want: &str) {
    assert!(
        errs.iter().any(|e| e == want),
        "missing error\n  want: {want}\n  got:  {errs:#?}"
    );
}

fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"}, "spec": spec})
}

fn nginx() -> Value {
    json!({"name": "app", "image": "nginx"})
}

fn deployment(selector: Value, labels: Value, pod_spec: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "selector": selector,
            "template": {"metadata": {"labels": labels}, "spec": pod_spec}
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Pods.
// ---------------------------------------------------------------------------------------------

#[test]
fn valid_pod_has_no_errors() {
    let errs = create(
        "",
        "Pod",
        pod(json!({
            "containers": [{
                "name": "app", "image": "nginx",
                "ports": [{"name": "http", "containerPort": 80}],
                "env": [{"name": "A", "value": "1"}, {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "0.5", "memory": "128Mi"}},
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                "livenessProbe": {"httpGet": {"path": "/", "port": "http"}},
                "readinessProbe": {"tcpSocket": {"port": 80}}
            }],
            "initContainers": [{"name": "init", "image": "busybox", "command": ["true"]}],
            "volumes": [
                {"name": "data", "emptyDir": {}},
                {"name": "cfg", "configMap": {"name": "c", "items": [{"key": "a", "path": "a.txt"}]}}
            ],
            "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}]
        })),
    );
    assert!(errs.is_empty(), "{errs:#?}");
}

#[test]
fn pod_containers_required() {
    let errs = create("", "Pod", pod(json!({})));
    assert_eq!(errs, vec!["spec.containers: Required value"]);
    let errs = msgs(&validate("", "Pod", &json!({"metadata": {"name": "p"}})));
    assert_eq!(errs, vec!["spec.containers: Required value"]);
}

#[test]
fn pod_container_names_and_images() {
    let errs = create(
        "",
        "Pod",
        pod(json!({
            "containers": [{"name": "App", "image": "nginx"}, {"name": "app"}, {"name": "app", "image": "x"}],
            "initContainers": [{"name": "app", "image": "busybox"}]
        })),
    );
    assert_has(
        &errs,
        "spec.containers[0].name: Invalid value: \"App\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
    assert_has(&errs, "spec.containers[1].image: Required value");
    assert_has(&errs, "spec.containers[2].name: Duplicate value: \"app\"");
    assert_has(
        &errs,
        "spec.initContainers[0].name: Duplicate value: \"app\"",
    );
}

#[test]
fn pod_ports_and_protocols() {
    let errs = create(
        "",
        "Pod",
        pod(json!({"containers": [{
            "name": "app", "image": "nginx",
            "ports": [
                {"name": "web", "containerPort": 70000},
                {"name": "web", "containerPort": 81},
                {"containerPort": 82, "protocol": "HTTP"},
                {"name": "Bad_Name", "containerPort": 83}
            ]
        }]})),
    );
    assert_has(
        &errs,
        "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
    );
    assert_has(
        &errs,
        "spec.containers[0].ports[1].name: Duplicate value: \"web\"",
    );
    assert_has(
        &errs,
        "spec.containers[0].ports[2].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
    );
    assert_has(
        &errs,
        "spec.containers[0].ports[3].name: Invalid value: \"Bad_Name\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
    );
}

#[test]
fn pod_restart_and_dns_policy() {
    let errs = create(
        "",
        "Pod",
        pod(json!({"containers": [nginx()], "restartPolicy": "Sometimes", "dnsPolicy": "Magic"})),
    );
    assert_has(
        &errs,
        "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
    );
    assert_has(
        &errs,
        "spec.dnsPolicy: Unsupported value: \"Magic\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\"",
    );
}

#[test]
fn pod_requests_above_limits() {
    let errs = create(
        "",
        "Pod",
        pod(json!({"containers": [{
            "name": "app", "image": "nginx",
            "resources": {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "512Mi"}}
        }]})),
    );
    assert_has(
        &errs,
        "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
    );
    assert_has(
        &errs,
        "spec.containers[0].resources.requests: Invalid value: \"1Gi\": must be less than or equal to memory limit of 512Mi",
    );
}

#[test]
fn pod_resource_names_and_values() {
    let errs = create(
        "",
        "Pod",
        pod(json!({"containers": [{
            "name": "app", "image": "nginx",
            "resources": {"requests": {"cpu": "-1", "example.com/gpu": "1"}, "limits": {"pods": "1"}}
        }]})),
    );
    assert_has(
        &errs,
        "spec.containers[0].resources.requests[cpu]: Invalid value: \"-1\": must be greater than or equal to 0",
    );
    assert_has(
        &errs,
        "spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources",
    );
    assert_has(
        &errs,
        "spec.containers[0].resources.limits[pods]: Invalid value: \"pods\": must be a standard resource for containers",
    );
}

#[test]
fn pod_volumes_and_mounts() {
    let errs = create(
        "",
        "Pod",
        pod(json!({
            "containers": [{
                "name": "app", "image": "nginx",
                "volumeMounts": [{"name": "data", "mountPath": "/a"}, {"name": "v", "mountPath": "/a"}, {"name": "v"}]
            }],
            "volumes": [
                {"name": "v", "emptyDir": {}},
                {"name": "v", "emptyDir": {}},
                {"name": "none"},
                {"name": "two", "emptyDir": {}, "hostPath": {"path": "/tmp"}},
                {"name": "Bad", "emptyDir": {}}
            ]
        })),
    );
    assert_has(&errs, "spec.volumes[1].name: Duplicate value: \"v\"");
    // A volume without a source is defaulted to an emptyDir.
    assert!(!errs.iter().any(|e| e.starts_with("spec.volumes[2]")));
    assert_has(
        &errs,
        "spec.volumes[3].hostPath: Forbidden: may not specify more than 1 volume type",
    );
    assert_has(
        &errs,
        "spec.volumes[4].name: Invalid value: \"Bad\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
    assert_has(
        &errs,
        "spec.containers[0].volumeMounts[0].name: Not found: \"data\"",
    );
    assert_has(
        &errs,
        "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/a\": must be unique",
    );
    assert_has(
        &errs,
        "spec.containers[0].volumeMounts[2].mountPath: Required value",
    );
}

#[test]
fn pod_env_and_probes() {
    let errs = create(
        "",
        "Pod",
        pod(json!({"containers": [{
            "name": "app", "image": "nginx",
            "env": [{"name": "A=B"}, {"name": ""}, {"name": "X", "valueFrom": {}}],
            "livenessProbe": {"periodSeconds": 5},
            "readinessProbe": {"exec": {"command": ["true"]}, "httpGet": {"port": 80}}
        }], "terminationGracePeriodSeconds": 30})),
    );
    assert_has(
        &errs,
        "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
    );
    assert_has(&errs, "spec.containers[0].env[1].name: Required value");
    assert_has(
        &errs,
        "spec.containers[0].env[2].valueFrom: Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
    );
    assert_has(
        &errs,
        "spec.containers[0].livenessProbe: Required value: must specify a handler type",
    );
    assert_has(
        &errs,
        "spec.containers[0].readinessProbe.httpGet: Forbidden: may not specify more than 1 handler type",
    );
}

#[test]
fn pod_create_forbids_ephemeral_containers() {
    let errs = create(
        "",
        "Pod",
        pod(
            json!({"containers": [nginx()], "ephemeralContainers": [{"name": "dbg", "image": "busybox"}]}),
        ),
    );
    assert_has(
        &errs,
        "spec.ephemeralContainers: Forbidden: cannot be set on create",
    );
}

#[test]
fn pod_update_rules() {
    let old = defaulted("", "Pod", pod(json!({"containers": [nginx()]})));
    // Image updates are fine.
    let mut new = old.clone();
    new["spec"]["containers"][0]["image"] = json!("nginx:2");
    assert!(update("", "Pod", new, old.clone()).is_empty());
    // Anything else is not.
    let mut new = old.clone();
    new["spec"]["containers"][0]["ports"] = json!([{"containerPort": 80}]);
    let errs = update("", "Pod", new, old.clone());
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(errs[0].starts_with(
        "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"
    ), "{}", errs[0]);
    // Adding containers.
    let mut new = old.clone();
    new["spec"]["containers"] = json!([nginx(), {"name": "b", "image": "b"}]);
    assert_eq!(
        update("", "Pod", new, old.clone()),
        vec!["spec.containers: Forbidden: pod updates may not add or remove containers"]
    );
    // Tolerations may only be added.
    let with_tol = defaulted(
        "",
        "Pod",
        pod(json!({"containers": [nginx()], "tolerations": [{"key": "a", "operator": "Exists"}]})),
    );
    let mut new = with_tol.clone();
    new["spec"]["tolerations"] =
        json!([{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "Exists"}]);
    let errs = update("", "Pod", new, with_tol.clone());
    assert!(errs.is_empty(), "{errs:#?}");
    let mut new = with_tol.clone();
    new["spec"]["tolerations"] = json!([{"key": "b", "operator": "Exists"}]);
    assert_has(
        &update("", "Pod", new, with_tol),
        "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds",
    );
    // activeDeadlineSeconds may only decrease.
    let ads = defaulted(
        "",
        "Pod",
        pod(json!({"containers": [nginx()], "activeDeadlineSeconds": 10})),
    );
    let mut new = ads.clone();
    new["spec"]["activeDeadlineSeconds"] = json!(20);
    assert_eq!(
        update("", "Pod", new, ads),
        vec![
            "spec.activeDeadlineSeconds: Invalid value: 20: must be less than or equal to previous value"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Workloads.
// ---------------------------------------------------------------------------------------------

#[test]
fn valid_deployment_has_no_errors() {
    let d = deployment(
        json!({"matchLabels": {"app": "web"}}),
        json!({"app": "web"}),
        json!({"containers": [nginx()]}),
    );
    let errs = create("apps", "Deployment", d);
    assert!(errs.is_empty(), "{errs:#?}");
}

#[test]
fn deployment_selector_rules() {
    let errs = create(
        "apps",
        "Deployment",
        deployment(
            json!({"matchLabels": {"app": "web"}}),
            json!({"app": "x"}),
            json!({"containers": [nginx()]}),
        ),
    );
    assert_eq!(
        errs,
        vec![
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`"
        ]
    );
    let errs = create(
        "apps",
        "Deployment",
        deployment(
            json!({}),
            json!({"app": "x"}),
            json!({"containers": [nginx()]}),
        ),
    );
    assert_eq!(
        errs,
        vec![
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"
        ]
    );
    let mut d = deployment(
        json!({}),
        json!({"app": "x"}),
        json!({"containers": [nginx()]}),
    );
    if let Some(spec) = d["spec"].as_object_mut() {
        spec.remove("selector");
    }
    assert_eq!(
        create("apps", "Deployment", d),
        vec!["spec.selector: Required value"]
    );
}

#[test]
fn deployment_template_paths_and_numbers() {
    let mut d = deployment(
        json!({"matchLabels": {"app": "web"}}),
        json!({"app": "web"}),
        json!({"containers": [{"name": "app"}], "restartPolicy": "Never"}),
    );
    d["spec"]["replicas"] = json!(-1);
    d["spec"]["revisionHistoryLimit"] = json!(-2);
    d["spec"]["minReadySeconds"] = json!(10);
    d["spec"]["progressDeadlineSeconds"] = json!(5);
    let errs = create("apps", "Deployment", d);
    assert_has(
        &errs,
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
    );
    assert_has(
        &errs,
        "spec.template.spec.containers[0].image: Required value",
    );
    assert_has(
        &errs,
        "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
    );
    assert_has(
        &errs,
        "spec.revisionHistoryLimit: Invalid value: -2: must be greater than or equal to 0",
    );
    assert_has(
        &errs,
        "spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds",
    );
}

#[test]
fn deployment_strategy_rules() {
    let mut d = deployment(
        json!({"matchLabels": {"app": "web"}}),
        json!({"app": "web"}),
        json!({"containers": [nginx()]}),
    );
    d["spec"]["strategy"] =
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}});
    assert_eq!(
        create("apps", "Deployment", d.clone()),
        vec![
            "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}: may not be 0 when `maxSurge` is 0"
        ]
    );
    d["spec"]["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "1", "maxUnavailable": "120%"}});
    let errs = create("apps", "Deployment", d.clone());
    assert_has(
        &errs,
        "spec.strategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"1\"}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
    );
    assert_has(
        &errs,
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"120%\"}: must not be greater than 100%",
    );
    d["spec"]["strategy"] = json!({"type": "Recreate", "rollingUpdate": {"maxSurge": 1}});
    assert_eq!(
        create("apps", "Deployment", d),
        vec![
            "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"
        ]
    );
}

#[test]
fn deployment_selector_is_immutable() {
    let old = deployment(
        json!({"matchLabels": {"app": "web"}}),
        json!({"app": "web", "v": "2"}),
        json!({"containers": [nginx()]}),
    );
    let new = deployment(
        json!({"matchLabels": {"app": "web", "v": "2"}}),
        json!({"app": "web", "v": "2"}),
        json!({"containers": [nginx()]}),
    );
    assert_eq!(
        update("apps", "Deployment", new, old.clone()),
        vec![
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\", \"v\":\"2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
        ]
    );
    let mut scaled = old.clone();
    scaled["spec"]["replicas"] = json!(5);
    assert!(update("apps", "Deployment", scaled, old).is_empty());
}

#[test]
fn replica_set_and_daemon_set() {
    let mut rs = deployment(
        json!({}),
        json!({"app": "x"}),
        json!({"containers": [nginx()]}),
    );
    rs["kind"] = json!("ReplicaSet");
    assert_eq!(
        create("apps", "ReplicaSet", rs),
        vec![
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"
        ]
    );
    let mut ds = deployment(
        json!({"matchLabels": {"app": "a"}}),
        json!({"app": "b"}),
        json!({"containers": [nginx()]}),
    );
    ds["kind"] = json!("DaemonSet");
    assert_eq!(
        create("apps", "DaemonSet", ds),
        vec![
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"b\"}: `selector` does not match template `labels`"
        ]
    );
}

#[test]
fn stateful_set_update_rules() {
    let mut old = deployment(
        json!({"matchLabels": {"app": "db"}}),
        json!({"app": "db"}),
        json!({"containers": [nginx()]}),
    );
    old["kind"] = json!("StatefulSet");
    old["spec"]["serviceName"] = json!("db");
    // Mounts of volumeClaimTemplates are fine (the pod spec is not validated for StatefulSets).
    old["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] =
        json!([{"name": "data", "mountPath": "/var/lib/db"}]);
    old["spec"]["volumeClaimTemplates"] = json!([{"metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]);
    assert!(create("apps", "StatefulSet", old.clone()).is_empty());
    let mut new = old.clone();
    new["spec"]["replicas"] = json!(3);
    new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:2");
    assert!(update("apps", "StatefulSet", new, old.clone()).is_empty());
    let mut new = old.clone();
    new["spec"]["serviceName"] = json!("other");
    assert_eq!(
        update("apps", "StatefulSet", new, old),
        vec![
            "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
        ]
    );
}

fn job(restart: &str) -> Value {
    let mut j = json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "pi", "namespace": "default", "uid": "u-1"},
        "spec": {"template": {"spec": {"containers": [nginx()], "restartPolicy": restart}}}
    });
    generate_job_selector(&mut j, "u-1");
    apply_defaults("batch", "Job", &mut j);
    j
}

#[test]
fn job_rules() {
    let j = job("Never");
    assert!(
        msgs(&validate("batch", "Job", &j)).is_empty(),
        "{:#?}",
        validate("batch", "Job", &j)
    );
    let mut j = job("Always");
    j["spec"]["backoffLimit"] = json!(-1);
    j["spec"]["completions"] = json!(-2);
    let errs = msgs(&validate("batch", "Job", &j));
    assert_has(
        &errs,
        "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"",
    );
    assert_has(
        &errs,
        "spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0",
    );
    assert_has(
        &errs,
        "spec.completions: Invalid value: -2: must be greater than or equal to 0",
    );
}

#[test]
fn job_update_rules() {
    let old = job("Never");
    let mut new = old.clone();
    new["spec"]["completions"] = json!(5);
    let errs = msgs(&validate_update("batch", "Job", &new, &old));
    assert_eq!(
        errs,
        vec!["spec.completions: Invalid value: 5: field is immutable"]
    );
    let mut new = old.clone();
    new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("other");
    let errs = msgs(&validate_update("batch", "Job", &new, &old));
    assert_eq!(
        errs,
        vec!["spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable"]
    );
    // Suspended jobs that never started may change scheduling directives.
    let mut old_s = old.clone();
    old_s["spec"]["suspend"] = json!(true);
    let mut new = old_s.clone();
    new["spec"]["template"]["spec"]["nodeSelector"] = json!({"zone": "a"});
    assert!(validate_update("batch", "Job", &new, &old_s).is_empty());
}

fn cron_job(schedule: &str) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "hello", "namespace": "default"},
        "spec": {
            "schedule": schedule,
            "jobTemplate": {"spec": {"template": {"spec": {"containers": [nginx()], "restartPolicy": "OnFailure"}}}}
        }
    })
}

#[test]
fn cron_job_rules() {
    assert!(create("batch", "CronJob", cron_job("*/1 * * * *")).is_empty());
    assert!(create("batch", "CronJob", cron_job("@daily")).is_empty());
    assert_eq!(
        create("batch", "CronJob", cron_job("* * * *")),
        vec![
            "spec.schedule: Invalid value: \"* * * *\": expected exactly 5 fields, found 4: [* * * *]"
        ]
    );
    assert_eq!(
        create("batch", "CronJob", cron_job("")),
        vec!["spec.schedule: Required value"]
    );
    let mut c = cron_job("0 * * * *");
    c["metadata"]["name"] = json!("a".repeat(53));
    assert_eq!(
        create("batch", "CronJob", c),
        vec![format!(
            "metadata.name: Invalid value: \"{}\": must be no more than 52 characters",
            "a".repeat(53)
        )]
    );
    let mut c = cron_job("0 * * * *");
    c["spec"]["concurrencyPolicy"] = json!("Sometimes");
    c["spec"]["timeZone"] = json!("Mars/Olympus");
    c["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"] = json!("");
    c["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] = json!("Always");
    let errs = create("batch", "CronJob", c);
    assert_has(
        &errs,
        "spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\"",
    );
    assert_has(
        &errs,
        "spec.timeZone: Invalid value: \"Mars/Olympus\": unknown time zone Mars/Olympus",
    );
    assert_has(
        &errs,
        "spec.jobTemplate.spec.template.spec.containers[0].image: Required value",
    );
    assert_has(
        &errs,
        "spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"",
    );
}

// ---------------------------------------------------------------------------------------------
// Services, ConfigMaps, Secrets.
// ---------------------------------------------------------------------------------------------

fn service(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "default"}, "spec": spec})
}

#[test]
fn service_rules() {
    assert!(
        create(
            "",
            "Service",
            service(
                json!({"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]})
            )
        )
        .is_empty()
    );
    assert_eq!(
        create("", "Service", service(json!({"selector": {"app": "web"}}))),
        vec!["spec.ports: Required value"]
    );
    let errs = create(
        "",
        "Service",
        service(json!({
            "type": "Bogus",
            "sessionAffinity": "Sticky",
            "ports": [{"port": 80}, {"name": "b", "port": 0, "nodePort": 30000}]
        })),
    );
    assert_has(&errs, "spec.ports[0].name: Required value");
    assert_has(
        &errs,
        "spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
    );
    assert_has(
        &errs,
        "spec.type: Unsupported value: \"Bogus\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
    );
    assert_has(
        &errs,
        "spec.sessionAffinity: Unsupported value: \"Sticky\": supported values: \"ClientIP\", \"None\"",
    );
    let errs = create(
        "",
        "Service",
        service(json!({"ports": [{"port": 80, "nodePort": 30080}]})),
    );
    assert_eq!(
        errs,
        vec!["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]
    );
    assert_eq!(
        create("", "Service", service(json!({"type": "ExternalName"}))),
        vec!["spec.externalName: Required value"]
    );
}

#[test]
fn service_cluster_ip_is_immutable() {
    let old = service(json!({"clusterIP": "10.0.0.10", "ports": [{"port": 80}]}));
    let new = service(json!({"clusterIP": "10.0.0.11", "ports": [{"port": 80}]}));
    assert_eq!(
        update("", "Service", new, old.clone()),
        vec!["spec.clusterIPs[0]: Invalid value: []string{\"10.0.0.11\"}: may not change once set"]
    );
    // Omitting the allocated IP keeps it.
    let new = service(json!({"ports": [{"port": 81}]}));
    assert!(update("", "Service", new, old).is_empty());
}

#[test]
fn config_map_rules() {
    let cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"},
        "data": {"a b": "x", "ok": "y"}, "binaryData": {"ok": "eQ=="}
    });
    let errs = create("", "ConfigMap", cm);
    assert_eq!(
        errs,
        vec![
            "data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
            "data[ok]: Invalid value: \"ok\": duplicate of key present in binaryData",
        ]
    );
    let old = json!({"metadata": {"name": "c"}, "data": {"a": "1"}, "immutable": true});
    let new = json!({"metadata": {"name": "c"}, "data": {"a": "2"}});
    assert_eq!(
        update("", "ConfigMap", new, old),
        vec![
            "immutable: Forbidden: field is immutable when `immutable` is set",
            "data: Forbidden: field is immutable when `immutable` is set",
        ]
    );
    let big = json!({"metadata": {"name": "c"}, "data": {"a": "x".repeat(1024 * 1024 + 1)}});
    assert_eq!(
        create("", "ConfigMap", big),
        vec![": Too long: may not be more than 1048576 bytes"]
    );
}

#[test]
fn secret_rules() {
    let tls = json!({"metadata": {"name": "s"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "eA=="}});
    assert_eq!(
        create("", "Secret", tls.clone()),
        vec!["data[tls.key]: Required value"]
    );
    let mut new = tls.clone();
    new["type"] = json!("Opaque");
    assert_has(
        &update("", "Secret", new, tls),
        "type: Invalid value: \"Opaque\": field is immutable",
    );
    let sa = json!({"metadata": {"name": "s"}, "type": "kubernetes.io/service-account-token"});
    assert_eq!(
        create("", "Secret", sa),
        vec!["metadata.annotations[kubernetes.io/service-account.name]: Required value"]
    );
}

// ---------------------------------------------------------------------------------------------
// Other kinds.
// ---------------------------------------------------------------------------------------------

#[test]
fn ingress_rules() {
    let ing = json!({
        "metadata": {"name": "i"},
        "spec": {"rules": [{"host": "example.com", "http": {"paths": [
            {"path": "/", "backend": {"service": {"name": "web", "port": {"number": 80}}}},
            {"path": "/x", "pathType": "Prefix", "backend": {"service": {"name": "web"}}},
            {"path": "/y", "pathType": "Regex", "backend": {"service": {"name": "web", "port": {"name": "http"}}}}
        ]}}]}
    });
    let errs = create("networking.k8s.io", "Ingress", ing);
    assert_eq!(
        errs,
        vec![
            "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified",
            "spec.rules[0].http.paths[1].backend: Required value: port name or number is required",
            "spec.rules[0].http.paths[2].pathType: Unsupported value: \"Regex\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\"",
        ]
    );
}

#[test]
fn rbac_hpa_pdb_priority_class() {
    let role =
        json!({"metadata": {"name": "r"}, "rules": [{"apiGroups": [""], "resources": ["pods"]}]});
    assert_eq!(
        create("rbac.authorization.k8s.io", "Role", role),
        vec!["rules[0].verbs: Required value: verbs must contain at least one value"]
    );
    let rb = json!({"metadata": {"name": "rb"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
        "subjects": [{"kind": "Robot", "name": "x"}]});
    assert_eq!(
        create("rbac.authorization.k8s.io", "RoleBinding", rb.clone()),
        vec![
            "subjects[0].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\""
        ]
    );
    let mut rb2 = rb.clone();
    rb2["roleRef"]["name"] = json!("other");
    rb2["subjects"] = json!([]);
    let mut rb1 = rb;
    rb1["subjects"] = json!([]);
    assert_eq!(
        update("rbac.authorization.k8s.io", "RoleBinding", rb2, rb1),
        vec![
            "roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"Role\", Name:\"other\"}: cannot change roleRef"
        ]
    );
    let hpa = json!({"metadata": {"name": "h"}, "spec": {"minReplicas": 0, "maxReplicas": 0, "scaleTargetRef": {"kind": "Deployment"}}});
    let errs = create("autoscaling", "HorizontalPodAutoscaler", hpa);
    assert_has(
        &errs,
        "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1",
    );
    assert_has(
        &errs,
        "spec.maxReplicas: Invalid value: 0: must be greater than 0",
    );
    assert_has(&errs, "spec.scaleTargetRef.name: Required value");
    let pc = json!({"metadata": {"name": "p"}, "value": 10});
    let mut pc2 = pc.clone();
    pc2["value"] = json!(11);
    assert_eq!(
        update("scheduling.k8s.io", "PriorityClass", pc2, pc),
        vec!["value: Forbidden: may not be changed in an update."]
    );
}

#[test]
fn pvc_quota_and_unknown_kinds() {
    let pvc = json!({"metadata": {"name": "c"}, "spec": {}});
    assert_eq!(
        create("", "PersistentVolumeClaim", pvc),
        vec![
            "spec.accessModes: Required value: at least 1 access mode is required",
            "spec.resources[storage]: Required value",
        ]
    );
    let rq = json!({"metadata": {"name": "q"}, "spec": {"hard": {"pods": "1.5", "cpu": "-1"}}});
    let errs = create("", "ResourceQuota", rq);
    assert_has(
        &errs,
        "spec.hard[pods]: Invalid value: \"1500m\": must be an integer",
    );
    assert_has(
        &errs,
        "spec.hard[cpu]: Invalid value: \"-1\": must be greater than or equal to 0",
    );
    assert!(validate("example.com", "Widget", &json!({"spec": {"x": 1}})).is_empty());
    assert!(
        validate(
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            &json!({})
        )
        .is_empty()
    );
}

#[test]
fn go_renderings() {
    assert_eq!(go_map(None), "map[string]string(nil)");
    assert_eq!(
        go_map(Some(&json!({"b": "2", "a": "1"}))),
        "map[string]string{\"a\":\"1\", \"b\":\"2\"}"
    );
    assert_eq!(
        go_label_selector(Some(
            &json!({"matchExpressions": [{"key": "k", "operator": "In", "values": ["v"]}]})
        )),
        "v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:\"k\", Operator:\"In\", Values:[]string{\"v\"}}}}"
    );
    assert_eq!(
        go_int_or_string(Some(&json!("25%"))),
        "intstr.IntOrString{Type:1, IntVal:0, StrVal:\"25%\"}"
    );
}
