//! Every lint check, on documents loaded from YAML text (so lines are real).

use std::path::Path;

use berth_spec::{Finding, Severity, lint_docs, load_str, parse_quantity};

fn lint(yaml: &str) -> Vec<Finding> {
    let docs = load_str(yaml, Path::new("t.yaml")).expect("loads");
    lint_docs(&docs)
}

/// A valid app: lint must be silent on it, so every finding below comes from what a test adds.
const BASE: &str = "name: web
runtime: python-3.11
entrypoint: /app/app.py
resources: {cpu: 100m, memory: 64Mi}
";

fn lint_app(extra: &str) -> Vec<Finding> {
    lint(&format!("{BASE}{extra}"))
}

/// The one finding on `field`, with its message containing every `parts`.
#[track_caller]
fn expect(findings: &[Finding], severity: Severity, field: &str, parts: &[&str]) -> Finding {
    let hits: Vec<_> = findings.iter().filter(|f| f.field == field).collect();
    assert_eq!(
        hits.len(),
        1,
        "one finding on {field} expected in {findings:#?}"
    );
    let f = hits[0].clone();
    assert_eq!(f.severity, severity, "{f}");
    for part in parts {
        assert!(f.message.contains(part), "{part:?} not in {f}");
    }
    f
}

#[test]
fn valid_specs_are_clean() {
    assert_eq!(lint(BASE), vec![]);
    let full = "name: web
project: shop
runtime: java-17
entrypoint: /app/app.jar
ports: [{port: 8080, name: http}, {port: 9090, name: admin, servicePort: 90}]
resources: {cpu: 250m, memory: 512Mi, limits: {cpu: '1', memory: 1Gi}}
health: {path: /healthz, periodSeconds: 5}
metrics: {port: 9090}
domain: web.example.com
tls: {secretName: web-tls}
env: {JAVA_OPTS: -Xms64m}
autoscaling: {minReplicas: 2, maxReplicas: 5}
lifecycle: {online: echo up, offline: echo down, drainSeconds: 0}
rollout: {maxSurge: 25%, maxUnavailable: '0'}
environment: prod
environments:
  prod: {env: {A: b}, resources: {cpu: 500m, memory: 1Gi}, domain: web.prod.example.com}
---
kind: CronApp
name: report
schedule: '@daily'
timeZone: Europe/Paris
command: [sh, -c, date]
resources: {cpu: 100m, memory: 64Mi}
";
    assert_eq!(lint(full), vec![]);
}

#[test]
fn finding_display_has_file_line_severity_field() {
    let findings = lint_app("ports: [{port: 70000}]\n");
    let f = expect(
        &findings,
        Severity::Error,
        "spec.ports[0].port",
        &["70000", "1-65535"],
    );
    assert_eq!(f.line, 5);
    assert_eq!(
        f.to_string(),
        "t.yaml:5: error: spec.ports[0].port: port 70000 is out of range 1-65535"
    );
}

#[test]
fn names() {
    let f = lint("name: Web_1\nimage: x\nresources: {cpu: 1, memory: 1Gi}\n");
    expect(
        &f,
        Severity::Error,
        "metadata.name",
        &["\"Web_1\"", "DNS-1123 label"],
    );
    let long = "a".repeat(64);
    let f = lint(&format!(
        "name: {long}\nimage: x\nresources: {{cpu: 1, memory: 1Gi}}\n"
    ));
    expect(
        &f,
        Severity::Error,
        "metadata.name",
        &["no more than 63", "is 64"],
    );
    let f = lint("name: web\nnamespace: Shop\nimage: x\nresources: {cpu: 1, memory: 1Gi}\n");
    expect(&f, Severity::Error, "metadata.namespace", &["\"Shop\""]);
    let f = lint("name: 1web\nimage: x\nports: [{port: 80}]\nresources: {cpu: 1, memory: 1Gi}\n");
    expect(
        &f,
        Severity::Warning,
        "metadata.name",
        &["DNS-1035", "starts with a digit"],
    );
}

#[test]
fn duplicate_names_name_both_locations() {
    let yaml = format!(
        "{BASE}---\n{BASE}---\nkind: CronApp\nname: web\nschedule: '@hourly'\nimage: x\nresources: {{cpu: 1, memory: 1Gi}}\n"
    );
    let f = lint(&yaml);
    // Same name as a CronApp is fine: a different kind.
    let dup = expect(
        &f,
        Severity::Error,
        "metadata.name",
        &["duplicate App \"web\"", "t.yaml:1", "t.yaml:6"],
    );
    assert_eq!(dup.line, 6);
    let f = lint(&format!("{BASE}---\nnamespace: other\n{BASE}"));
    assert_eq!(f, vec![], "different namespaces");
}

#[test]
fn cron_names_are_limited_to_52() {
    let name = "a".repeat(53);
    let f = lint(&format!(
        "kind: CronApp\nname: {name}\nschedule: '@hourly'\nimage: x\nresources: {{cpu: 1, memory: 1Gi}}\n"
    ));
    expect(
        &f,
        Severity::Error,
        "metadata.name",
        &["53 characters", "limited to 52", "appends 11"],
    );
}

fn cron(schedule_lines: &str) -> Vec<Finding> {
    lint(&format!(
        "kind: CronApp\nname: job\n{schedule_lines}image: x\nresources: {{cpu: 1, memory: 1Gi}}\n"
    ))
}

#[test]
fn schedules() {
    assert_eq!(cron("schedule: '*/5 * * * 1-5'\n"), vec![]);
    assert_eq!(
        cron("schedule: '0 0 29 2 *'\n"),
        vec![],
        "leap days fire within 5 years"
    );
    let f = cron("schedule: '0 0 30 2 *'\n");
    expect(
        &f,
        Severity::Error,
        "spec.schedule",
        &["\"0 0 30 2 *\"", "never fires", "5 years"],
    );
    let f = cron("schedule: '0 0 * *'\n");
    expect(
        &f,
        Severity::Error,
        "spec.schedule",
        &["has 4 fields", "expected 5"],
    );
    let f = cron("schedule: '0 0 * * * *'\n");
    expect(&f, Severity::Error, "spec.schedule", &["has 6 fields"]);
    let f = cron("schedule: '61 * * * *'\n");
    expect(
        &f,
        Severity::Error,
        "spec.schedule",
        &["\"61 * * * *\"", "does not parse"],
    );
    let f = cron("schedule: '@fortnightly'\n");
    expect(
        &f,
        Severity::Error,
        "spec.schedule",
        &["unknown macro", "@daily"],
    );
    let f = cron("schedule: 'TZ=UTC 0 * * * *'\n");
    expect(&f, Severity::Error, "spec.schedule", &["use timeZone"]);
    let f = cron("schedule: '0 * * * *'\ntimeZone: Mars/Olympus\n");
    let tz = expect(
        &f,
        Severity::Error,
        "spec.timeZone",
        &["unknown timeZone \"Mars/Olympus\""],
    );
    assert_eq!(tz.line, 4);
    let f = cron("schedule: '0 * * * *'\ntimeZone: Local\n");
    expect(&f, Severity::Error, "spec.timeZone", &["\"Local\""]);
    assert_eq!(
        cron("schedule: '0 9 * * mon'\ntimeZone: America/New_York\n"),
        vec![]
    );
}

#[test]
fn cron_fields() {
    let f =
        cron("schedule: '@hourly'\nstartingDeadlineSeconds: 5\ndeadlineSeconds: 0\nretries: -1\n");
    expect(
        &f,
        Severity::Warning,
        "spec.startingDeadlineSeconds",
        &["5 is below 10"],
    );
    expect(
        &f,
        Severity::Error,
        "spec.deadlineSeconds",
        &["0 must be greater than 0"],
    );
    expect(&f, Severity::Error, "spec.retries", &["-1"]);
    let f = cron(
        "schedule: '@hourly'\nenvironments:\n  prod: {replicas: 2, domain: x.com, env: {A: b}}\n",
    );
    expect(
        &f,
        Severity::Error,
        "spec.environments.prod.replicas",
        &["no replicas"],
    );
    expect(
        &f,
        Severity::Error,
        "spec.environments.prod.domain",
        &["no domain"],
    );
    assert_eq!(f.len(), 2, "{f:#?}");
}

#[test]
fn what_to_run() {
    let f = lint("name: web\nruntime: cobol\nentrypoint: x\nresources: {cpu: 1, memory: 1Gi}\n");
    expect(
        &f,
        Severity::Error,
        "spec.runtime",
        &["unknown runtime \"cobol\"", "python-3.11"],
    );
    let f = lint("name: web\nresources: {cpu: 1, memory: 1Gi}\n");
    expect(&f, Severity::Error, "spec", &["nothing to run"]);
    let f = lint("name: web\nruntime: python-3.11\nresources: {cpu: 1, memory: 1Gi}\n");
    expect(
        &f,
        Severity::Error,
        "spec",
        &["nothing to run", "python-3.11 needs an entrypoint"],
    );
    let f = lint("name: web\nentrypoint: app.py\nresources: {cpu: 1, memory: 1Gi}\n");
    expect(&f, Severity::Error, "spec.entrypoint", &["needs a runtime"]);
    let f = lint("name: web\ncommand: []\nresources: {cpu: 1, memory: 1Gi}\n");
    expect(&f, Severity::Error, "spec.command", &["empty"]);
    assert_eq!(
        lint("name: web\nimage: nginx\nresources: {cpu: 1, memory: 1Gi}\n"),
        vec![]
    );
}

#[test]
fn resources() {
    let f = lint("name: web\nimage: x\n");
    expect(
        &f,
        Severity::Warning,
        "spec.resources",
        &["project defaults", "100m", "128Mi"],
    );
    let f = lint("name: web\nimage: x\nresources: {cpu: 1}\n");
    expect(
        &f,
        Severity::Warning,
        "spec.resources.memory",
        &["default 128Mi"],
    );
    let f = lint("name: web\nimage: x\nresources: {cpu: lots, memory: 1GB}\n");
    expect(
        &f,
        Severity::Error,
        "spec.resources.cpu",
        &["invalid quantity \"lots\""],
    );
    expect(
        &f,
        Severity::Error,
        "spec.resources.memory",
        &["\"1GB\"", "invalid quantity \"1GB\""],
    );
    let f = lint(
        "name: web\nimage: x\nresources: {cpu: 500m, memory: 1Gi, limits: {cpu: 250m, memory: 512Mi}}\n",
    );
    expect(
        &f,
        Severity::Error,
        "spec.resources.limits.cpu",
        &["limits.cpu 250m is below the request 500m"],
    );
    expect(
        &f,
        Severity::Error,
        "spec.resources.limits.memory",
        &["512Mi is below the request 1Gi"],
    );
    let f = lint("name: web\nimage: x\nresources:\n  cpu: 1\n  limits: {memory: 64Mi}\n");
    let limit = expect(
        &f,
        Severity::Error,
        "spec.resources.limits.memory",
        &["128Mi (project default)"],
    );
    assert_eq!(limit.line, 5);
    let f = lint("name: web\nimage: x\nresources: {cpu: '-1', memory: 1Gi}\n");
    expect(
        &f,
        Severity::Error,
        "spec.resources.cpu",
        &["-1 must be greater than or equal to 0"],
    );
}

#[test]
fn environments_are_checked_resolved() {
    let f = lint_app(
        "environment: prod\nenvironments:\n  prod:\n    replicas: -1\n    resources: {cpu: 1, memory: 2x}\n",
    );
    let mem = expect(
        &f,
        Severity::Error,
        "spec.environments.prod.resources.memory",
        &["\"2x\""],
    );
    assert_eq!(mem.line, 9);
    expect(
        &f,
        Severity::Error,
        "spec.environments.prod.replicas",
        &["-1"],
    );
    let f = lint_app("environments:\n  prod:\n    resources: {memory: 1Gi}\n");
    expect(
        &f,
        Severity::Warning,
        "spec.environments.prod.resources",
        &[
            "replaces spec.resources as a whole",
            "100m",
            "spec.resources.cpu 100m",
        ],
    );
    let f = lint_app("environment: staging\nenvironments:\n  prod: {replicas: 2}\n");
    expect(
        &f,
        Severity::Error,
        "spec.environment",
        &["\"staging\"", "prod"],
    );
    let f = lint_app("environments:\n  Prod!: {replicas: 2}\n");
    expect(
        &f,
        Severity::Error,
        "spec.environments.Prod!",
        &["label value"],
    );
}

#[test]
fn jvm_heap_must_fit_the_limit() {
    let java = "name: api\nruntime: java-17\nentrypoint: /app.jar\n";
    let f = lint(&format!(
        "{java}resources: {{cpu: 1, memory: 512Mi}}\nenv: {{JAVA_OPTS: -Xms64m -Xmx512m}}\n"
    ));
    let e = expect(
        &f,
        Severity::Error,
        "spec.env.JAVA_OPTS",
        &[
            "-Xmx512m",
            "at or above the memory limit 512Mi",
            "MaxRAMPercentage=75.0",
            "remove -Xmx",
        ],
    );
    assert_eq!(e.line, 5);
    // No memory at all: the default limit applies.
    let f = lint(&format!("{java}resources: {{cpu: 1}}\nargs: [-Xmx1g]\n"));
    expect(
        &f,
        Severity::Error,
        "spec.args[0]",
        &["-Xmx1g", "limit 128Mi"],
    );
    // The limit, not the request, is what the heap must fit.
    let ok = format!(
        "{java}resources: {{cpu: 1, memory: 256Mi, limits: {{memory: 2Gi}}}}\nenv: {{JAVA_TOOL_OPTIONS: -Xmx1g}}\n"
    );
    assert_eq!(lint(&ok), vec![]);
    let f = lint(&format!(
        "{java}resources: {{cpu: 1, memory: 1Gi}}\nenv: {{JAVA_OPTS: -Xmx900m}}\n"
    ));
    expect(
        &f,
        Severity::Warning,
        "spec.env.JAVA_OPTS",
        &["above 75.0%"],
    );
    // An environment that shrinks the limit below the heap.
    let f = lint(&format!(
        "{java}resources: {{cpu: 1, memory: 2Gi}}\nenv: {{JAVA_OPTS: -Xmx1g}}\nenvironments:\n  dev: {{resources: {{cpu: 1, memory: 1Gi}}}}\n"
    ));
    expect(
        &f,
        Severity::Error,
        "spec.environments.dev.resources",
        &["in environment dev", "-Xmx1g", "1Gi"],
    );
    // Not a JVM: -Xmx means nothing.
    assert_eq!(
        lint("name: web\ncommand: [x, -Xmx9g]\nresources: {cpu: 1, memory: 1Mi}\n"),
        vec![]
    );
}

#[test]
fn ports_health_metrics_domain() {
    let f = lint_app(
        "ports: [{port: 80}, {port: 80}, {port: 0}, {port: 81, servicePort: 80, name: Admin}]\n",
    );
    expect(
        &f,
        Severity::Error,
        "spec.ports[1].port",
        &["port 80 is already listed as ports[0]"],
    );
    expect(
        &f,
        Severity::Error,
        "spec.ports[2].port",
        &["port 0 is out of range"],
    );
    expect(
        &f,
        Severity::Error,
        "spec.ports[3].servicePort",
        &["service port 80 is already used by ports[0]"],
    );
    expect(
        &f,
        Severity::Error,
        "spec.ports[3].name",
        &["\"Admin\"", "IANA"],
    );
    let f = lint_app(
        "ports: [{port: 80}]\nhealth: {port: 99999, path: healthz, periodSeconds: 0}\nmetrics: {port: -1}\n",
    );
    expect(&f, Severity::Error, "spec.health.port", &["99999"]);
    expect(
        &f,
        Severity::Error,
        "spec.health.path",
        &["must start with '/'"],
    );
    expect(
        &f,
        Severity::Error,
        "spec.health.periodSeconds",
        &["0 must be greater than or equal to 1"],
    );
    expect(
        &f,
        Severity::Error,
        "spec.metrics.port",
        &["-1 is out of range"],
    );
    let f = lint_app("health: {path: /healthz}\n");
    expect(&f, Severity::Error, "spec.health", &["no port to probe"]);
    let f = lint_app("domain: Web_.example.com\n");
    let d: Vec<_> = f.iter().filter(|f| f.field == "spec.domain").collect();
    assert_eq!(d.len(), 2, "{f:#?}");
    assert!(d.iter().any(|f| f.message.contains("DNS-1123 subdomain")));
    assert!(d.iter().any(|f| f.message.contains("needs a port")));
    assert_eq!(
        lint_app("ports: [{port: 80}]\ndomain: '*.example.com'\n"),
        vec![]
    );
    let f = lint_app("tls: {secretName: x}\n");
    expect(&f, Severity::Error, "spec.tls", &["no domain"]);
}

#[test]
fn replicas_and_autoscaling() {
    let f = lint_app("replicas: -1\n");
    expect(
        &f,
        Severity::Error,
        "spec.replicas",
        &["-1 must be greater than or equal to 0"],
    );
    let f = lint_app("autoscaling: {minReplicas: 0, maxReplicas: 3}\n");
    expect(
        &f,
        Severity::Error,
        "spec.autoscaling.minReplicas",
        &["minReplicas 0 must be at least 1"],
    );
    let f = lint_app("autoscaling: {minReplicas: 4, maxReplicas: 3}\n");
    expect(
        &f,
        Severity::Error,
        "spec.autoscaling.maxReplicas",
        &["maxReplicas 3 is below minReplicas 4"],
    );
    let f = lint_app("replicas: 2\nautoscaling: {minReplicas: 1, maxReplicas: 3}\n");
    expect(
        &f,
        Severity::Warning,
        "spec.replicas",
        &["ignored while autoscaling"],
    );
}

#[test]
fn lifecycle_rollout_config_files() {
    let f = lint_app("lifecycle: {online: '', offline: ' ', drainSeconds: -5}\n");
    expect(
        &f,
        Severity::Error,
        "spec.lifecycle.online",
        &["empty command"],
    );
    expect(
        &f,
        Severity::Error,
        "spec.lifecycle.offline",
        &["empty command"],
    );
    expect(&f, Severity::Error, "spec.lifecycle.drainSeconds", &["-5"]);
    let f = lint_app("rollout: {maxSurge: '0', maxUnavailable: 0%}\n");
    expect(
        &f,
        Severity::Error,
        "spec.rollout.maxSurge",
        &["cannot both be 0"],
    );
    let f = lint_app("rollout: {maxUnavailable: lots}\n");
    expect(
        &f,
        Severity::Error,
        "spec.rollout.maxUnavailable",
        &["\"lots\""],
    );
    let f = lint_app(
        "configFiles:\n  - {path: etc/a, content: x}\n  - {path: /b, content: x}\n  - {path: /b, content: y}\n",
    );
    expect(
        &f,
        Severity::Error,
        "spec.configFiles[0].path",
        &["\"etc/a\" must be absolute"],
    );
    let dup = expect(
        &f,
        Severity::Error,
        "spec.configFiles[2].path",
        &["already used by configFiles[1]"],
    );
    assert_eq!(dup.line, 8);
    let big = "x".repeat(1024 * 1024 + 1);
    let f = lint_app(&format!("configFiles: [{{path: /big, content: {big}}}]\n"));
    expect(
        &f,
        Severity::Error,
        "spec.configFiles",
        &["1048577 bytes", "1 MiB"],
    );
}

#[test]
fn quantities() {
    let cases: &[(&str, f64)] = &[
        ("100m", 0.1),
        ("1", 1.0),
        ("1.5", 1.5),
        (".5", 0.5),
        ("64Mi", 64.0 * 1024.0 * 1024.0),
        ("1Gi", 1024f64.powi(3)),
        ("1G", 1e9),
        ("2k", 2000.0),
        ("1e3", 1000.0),
        ("1E-3", 0.001),
        ("+2", 2.0),
        ("-1", -1.0),
        // Kubernetes' MilliValue rounds up to the next milli-unit.
        ("5n", 0.001),
    ];
    for (text, want) in cases {
        let got = parse_quantity(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert!(
            (got - want).abs() <= want.abs() * 1e-12,
            "{text}: {got} != {want}"
        );
    }
    for bad in [
        // ("m" alone is zero to Kubernetes' parser, as upstream's ParseQuantity has it.)
        "", "1.2.3", "1GB", "1 Gi", "Gi1", "1e", "1e+", "--1", "0x10", "1mi",
    ] {
        let err = parse_quantity(bad).expect_err(bad);
        assert!(err.contains(&format!("{bad:?}")), "{err}");
    }
}
