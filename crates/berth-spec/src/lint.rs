//! Lint: checks of loaded specs that the types alone cannot express, each finding with the
//! file, line and field it is about. Load errors become findings too, so `berth lint` reports
//! every bad document of every file in one run.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;

use crate::environment::{resolve_app, resolve_cron};
use crate::load::{self, LoadedDoc, SpecDoc, SpecError};
use crate::runtime::{DEFAULT_CPU, DEFAULT_MEMORY, JVM_MAX_RAM_PERCENTAGE, Runtime};
use crate::types::{
    AppSpec, Autoscaling, ConfigFile, CronAppSpec, EnvironmentOverride, HealthCheck, Resources,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One problem found in a spec file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub path: PathBuf,
    /// 1-based; 0 when the finding is about a whole file (it could not be read).
    pub line: usize,
    /// Field path in the custom resource (`spec.resources.memory`); empty for a whole document.
    pub field: String,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        write!(f, ": {}: ", self.severity)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

impl From<SpecError> for Finding {
    fn from(e: SpecError) -> Finding {
        let message = match &e {
            SpecError::Syntax {
                column, message, ..
            } if *column > 0 => {
                format!("column {column}: {message}")
            }
            _ => e.message().to_string(),
        };
        Finding {
            severity: Severity::Error,
            path: e.path().to_path_buf(),
            line: e.line(),
            field: e.field().to_string(),
            message,
        }
    }
}

/// What `lint_paths` found, and how many documents of each kind it checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintReport {
    pub findings: Vec<Finding>,
    pub apps: usize,
    pub crons: usize,
}

impl LintReport {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// Loads and checks every spec file under `paths`; unreadable files and documents that do not
/// load become findings, and the documents that do load are still checked.
pub fn lint_paths(paths: &[PathBuf]) -> LintReport {
    let mut findings = Vec::new();
    let mut docs = Vec::new();
    for path in paths {
        let files = match load::spec_files(path) {
            Ok(files) => files,
            Err(e) => {
                findings.push(Finding::from(e));
                continue;
            }
        };
        for file in files {
            let text = match load::read_text(&file) {
                Ok(text) => text,
                Err(e) => {
                    findings.push(Finding::from(e));
                    continue;
                }
            };
            for doc in load::load_str_each(&text, &file) {
                match doc {
                    Ok(doc) => docs.push(doc),
                    Err(e) => findings.push(Finding::from(e)),
                }
            }
        }
    }
    findings.extend(lint_docs(&docs));
    findings.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    LintReport {
        findings,
        apps: docs
            .iter()
            .filter(|d| matches!(d.doc, SpecDoc::App(_)))
            .count(),
        crons: docs
            .iter()
            .filter(|d| matches!(d.doc, SpecDoc::CronApp(_)))
            .count(),
    }
}

/// Checks loaded documents, each on its own and against each other (duplicate names).
pub fn lint_docs(docs: &[LoadedDoc]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut seen: HashMap<(&str, Option<&str>, &str), &LoadedDoc> = HashMap::new();
    for doc in docs {
        let mut lint = Lint {
            doc,
            findings: &mut findings,
        };
        match &doc.doc {
            SpecDoc::App(app) => lint.app(&app.spec),
            SpecDoc::CronApp(cron) => lint.cron(&cron.spec),
        }
        lint.metadata();
        let key = (doc.doc.kind(), doc.doc.namespace(), doc.doc.name());
        if let Some(first) = seen.get(&key) {
            let namespace = doc
                .doc
                .namespace()
                .map_or(String::new(), |ns| format!(" in namespace {ns:?}"));
            lint.error(
                "metadata.name",
                format!(
                    "duplicate {} {:?}{namespace}: defined at {}:{} and again at {}:{}",
                    doc.doc.kind(),
                    doc.doc.name(),
                    first.path.display(),
                    first.line_of("metadata.name"),
                    doc.path.display(),
                    doc.line_of("metadata.name"),
                ),
            );
        } else {
            seen.insert(key, doc);
        }
    }
    findings
}

/// Parses a Kubernetes quantity (`250m`, `1.5`, `512Mi`, `1e3`) into base units: cores for CPU,
/// bytes for memory.
pub fn parse_quantity(text: &str) -> Result<f64, String> {
    // The API server's own parser, so lint accepts exactly what Kubernetes accepts.
    berth_apimachinery::quantity::parse(text.trim())
        .map(|q| q.milli_value() as f64 / 1000.0)
        .map_err(|why| {
            format!(
                "invalid quantity {text:?}: {why}; expected a number with an optional suffix \
                 (m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei, or an exponent like e3)"
            )
        })
}

/// Largest DNS-1123 label (a Kubernetes object name of most kinds).
const MAX_LABEL: usize = 63;
/// A CronJob's name is at most 52 characters: the CronJob controller appends 11 (a dash and a
/// 10-digit scheduled time) to make each Job's name, and Job names are labels of at most 63.
const MAX_CRONJOB_NAME: usize = 52;
/// A ConfigMap holds at most 1 MiB of data.
const MAX_CONFIGMAP_BYTES: usize = 1024 * 1024;
/// The CronJob controller checks schedules every 10 seconds.
const CRONJOB_SYNC_SECONDS: i64 = 10;
/// How far ahead a schedule must fire at least once (covers Feb 29, every 4 years).
const SCHEDULE_HORIZON_YEARS: i16 = 5;

fn is_dns_label(s: &str) -> bool {
    let bytes = s.as_bytes();
    !s.is_empty()
        && s.len() <= MAX_LABEL
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

fn dns_label_problem(s: &str) -> Option<String> {
    if s.len() > MAX_LABEL {
        return Some(format!(
            "must be no more than {MAX_LABEL} characters (is {})",
            s.len()
        ));
    }
    (!is_dns_label(s)).then(|| {
        "must be a DNS-1123 label: lower case alphanumeric characters or '-', starting and \
         ending with an alphanumeric character (e.g. 'my-name')"
            .to_string()
    })
}

/// A DNS-1123 subdomain, with the `*.` wildcard prefix an Ingress host may have.
fn dns_subdomain_problem(s: &str) -> Option<String> {
    let host = s.strip_prefix("*.").unwrap_or(s);
    if s.len() > 253 {
        return Some(format!(
            "must be no more than 253 characters (is {})",
            s.len()
        ));
    }
    let ok = !host.is_empty() && host.split('.').all(is_dns_label);
    (!ok).then(|| {
        "must be a DNS-1123 subdomain: lower case alphanumeric labels of at most 63 characters \
         separated by '.', each starting and ending with an alphanumeric character (a leading \
         '*.' is allowed)"
            .to_string()
    })
}

/// A Kubernetes label value (the project and environment become labels).
fn label_value_problem(s: &str) -> Option<String> {
    if s.len() > MAX_LABEL {
        return Some(format!(
            "must be no more than {MAX_LABEL} characters (is {}) to be a label value",
            s.len()
        ));
    }
    let bytes = s.as_bytes();
    let ok = s.is_empty()
        || (bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
            && bytes.last().is_some_and(u8::is_ascii_alphanumeric));
    (!ok).then(|| {
        "must be a valid label value: alphanumeric characters, '-', '_' or '.', starting and \
         ending with an alphanumeric character"
            .to_string()
    })
}

/// IANA service name, what Kubernetes requires of port names.
fn port_name_problem(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    if s.len() > 15 {
        return Some(format!(
            "must be no more than 15 characters (is {})",
            s.len()
        ));
    }
    let ok = !s.is_empty()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.iter().any(u8::is_ascii_lowercase)
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--");
    (!ok).then(|| {
        "must be an IANA service name: lower case alphanumeric characters or '-', at least one \
         letter, no leading, trailing or double '-'"
            .to_string()
    })
}

/// Records `index` as the first holder of `key`, or returns the first holder.
fn first_index<K: std::hash::Hash + Eq>(
    seen: &mut HashMap<K, usize>,
    key: K,
    index: usize,
) -> Option<usize> {
    match seen.entry(key) {
        std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
        std::collections::hash_map::Entry::Vacant(v) => {
            v.insert(index);
            None
        }
    }
}

/// `-Xmx512m` -> bytes (the JVM's binary k/m/g/t suffixes).
fn parse_xmx(token: &str) -> Option<(String, f64)> {
    let size = token.strip_prefix("-Xmx")?;
    let (digits, multiplier) = match size.char_indices().last()? {
        (i, 'k' | 'K') => (&size[..i], 1024f64),
        (i, 'm' | 'M') => (&size[..i], 1024f64.powi(2)),
        (i, 'g' | 'G') => (&size[..i], 1024f64.powi(3)),
        (i, 't' | 'T') => (&size[..i], 1024f64.powi(4)),
        _ => (size, 1.0),
    };
    let value: u64 = digits.parse().ok()?;
    Some((token.to_string(), value as f64 * multiplier))
}

/// JVM options in environment variables the JVM reads itself.
const JVM_OPTION_VARS: &[&str] = &["JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "JAVA_OPTS"];

/// The parts an App and a CronApp share.
struct Workload<'a> {
    runtime: Option<&'a str>,
    image: Option<&'a str>,
    entrypoint: Option<&'a str>,
    command: Option<&'a [String]>,
    args: Option<&'a [String]>,
    env: &'a BTreeMap<String, String>,
    resources: Option<&'a Resources>,
    config_files: &'a [ConfigFile],
    environment: Option<&'a str>,
    environments: &'a BTreeMap<String, EnvironmentOverride>,
    project: Option<&'a str>,
}

impl<'a> Workload<'a> {
    fn of_app(s: &'a AppSpec) -> Workload<'a> {
        Workload {
            runtime: s.runtime.as_deref(),
            image: s.image.as_deref(),
            entrypoint: s.entrypoint.as_deref(),
            command: s.command.as_deref(),
            args: s.args.as_deref(),
            env: &s.env,
            resources: s.resources.as_ref(),
            config_files: &s.config_files,
            environment: s.environment.as_deref(),
            environments: &s.environments,
            project: s.project.as_deref(),
        }
    }

    fn of_cron(s: &'a CronAppSpec) -> Workload<'a> {
        Workload {
            runtime: s.runtime.as_deref(),
            image: s.image.as_deref(),
            entrypoint: s.entrypoint.as_deref(),
            command: s.command.as_deref(),
            args: s.args.as_deref(),
            env: &s.env,
            resources: s.resources.as_ref(),
            config_files: &s.config_files,
            environment: s.environment.as_deref(),
            environments: &s.environments,
            project: s.project.as_deref(),
        }
    }
}

struct Lint<'a> {
    doc: &'a LoadedDoc,
    findings: &'a mut Vec<Finding>,
}

impl Lint<'_> {
    fn push(&mut self, severity: Severity, field: &str, message: String) {
        self.findings.push(Finding {
            severity,
            path: self.doc.path.clone(),
            line: self.doc.line_of(field),
            field: field.to_string(),
            message,
        });
    }

    fn error(&mut self, field: &str, message: String) {
        self.push(Severity::Error, field, message);
    }

    fn warn(&mut self, field: &str, message: String) {
        self.push(Severity::Warning, field, message);
    }

    fn metadata(&mut self) {
        let doc = &self.doc.doc;
        let name = doc.name();
        if let Some(problem) = dns_label_problem(name) {
            self.error("metadata.name", format!("name {name:?} {problem}"));
        }
        if let Some(ns) = doc.namespace()
            && let Some(problem) = dns_label_problem(ns)
        {
            self.error("metadata.namespace", format!("namespace {ns:?} {problem}"));
        }
    }

    fn app(&mut self, spec: &AppSpec) {
        let name = self.doc.doc.name();
        if !spec.ports.is_empty() && name.starts_with(|c: char| c.is_ascii_digit()) {
            self.warn(
                "metadata.name",
                format!(
                    "name {name:?} starts with a digit: the app's Service needs a DNS-1035 \
                     label (starting with a letter)"
                ),
            );
        }
        let workload = Workload::of_app(spec);
        self.workload(&workload);
        self.ports(spec);
        self.replicas("spec", spec.replicas, spec.autoscaling.as_ref());
        if let Some(domain) = &spec.domain {
            self.domain("spec.domain", domain, &spec.ports);
        }
        if spec.tls.is_some() && spec.domain.is_none() {
            self.error(
                "spec.tls",
                "tls is set but there is no domain to serve it on".into(),
            );
        }
        if let Some(lifecycle) = &spec.lifecycle {
            for (key, command) in [
                ("online", &lifecycle.online),
                ("offline", &lifecycle.offline),
            ] {
                if command.as_deref().is_some_and(|c| c.trim().is_empty()) {
                    self.error(
                        &format!("spec.lifecycle.{key}"),
                        format!("lifecycle.{key} is an empty command; remove it or set one"),
                    );
                }
            }
            if let Some(drain) = lifecycle.drain_seconds
                && drain < 0
            {
                self.error(
                    "spec.lifecycle.drainSeconds",
                    format!("drainSeconds {drain} must be greater than or equal to 0"),
                );
            }
        }
        if let Some(rollout) = &spec.rollout {
            self.rollout(rollout);
        }
        for (env_name, o) in &spec.environments {
            let prefix = format!("spec.environments.{env_name}");
            self.replicas(&prefix, o.replicas, o.autoscaling.as_ref());
            if let Some(domain) = &o.domain {
                self.domain(&format!("{prefix}.domain"), domain, &spec.ports);
            }
        }
        match resolve_app(spec) {
            Ok(_) => {
                for env_name in spec.environments.keys() {
                    let mut picked = spec.clone();
                    picked.environment = Some(env_name.clone());
                    if let Ok(resolved) = resolve_app(&picked) {
                        self.jvm_in_environment(&workload, env_name, &Workload::of_app(&resolved));
                    }
                }
            }
            Err(e) => self.error("spec.environment", e.to_string()),
        }
    }

    fn cron(&mut self, spec: &CronAppSpec) {
        let name = self.doc.doc.name();
        if name.len() > MAX_CRONJOB_NAME {
            self.error(
                "metadata.name",
                format!(
                    "CronApp name {name:?} is {} characters; CronJob names are limited to \
                     {MAX_CRONJOB_NAME} because the CronJob controller appends 11 characters \
                     to make Job names (at most 63)",
                    name.len()
                ),
            );
        }
        self.schedule(&spec.schedule, spec.time_zone.as_deref());
        if let Some(s) = spec.starting_deadline_seconds {
            if s < 0 {
                self.error(
                    "spec.startingDeadlineSeconds",
                    format!("startingDeadlineSeconds {s} must be greater than or equal to 0"),
                );
            } else if s < CRONJOB_SYNC_SECONDS {
                self.warn(
                    "spec.startingDeadlineSeconds",
                    format!(
                        "startingDeadlineSeconds {s} is below {CRONJOB_SYNC_SECONDS}: the CronJob \
                         controller checks every {CRONJOB_SYNC_SECONDS} seconds, so runs may be \
                         missed"
                    ),
                );
            }
        }
        if let Some(s) = spec.deadline_seconds
            && s <= 0
        {
            self.error(
                "spec.deadlineSeconds",
                format!("deadlineSeconds {s} must be greater than 0"),
            );
        }
        if let Some(r) = spec.retries
            && r < 0
        {
            self.error(
                "spec.retries",
                format!("retries {r} must be greater than or equal to 0"),
            );
        }
        for (env_name, o) in &spec.environments {
            let prefix = format!("spec.environments.{env_name}");
            for (key, set) in [
                ("replicas", o.replicas.is_some()),
                ("autoscaling", o.autoscaling.is_some()),
                ("domain", o.domain.is_some()),
            ] {
                if set {
                    self.error(
                        &format!("{prefix}.{key}"),
                        format!("a CronApp has no {key}; environments of a CronApp may set only env and resources"),
                    );
                }
            }
        }
        let workload = Workload::of_cron(spec);
        self.workload(&workload);
        match resolve_cron(spec) {
            Ok(_) => {
                for env_name in spec.environments.keys() {
                    let mut picked = spec.clone();
                    picked.environment = Some(env_name.clone());
                    if let Ok(resolved) = resolve_cron(&picked) {
                        self.jvm_in_environment(&workload, env_name, &Workload::of_cron(&resolved));
                    }
                }
            }
            Err(e) => self.error("spec.environment", e.to_string()),
        }
    }

    fn schedule(&mut self, schedule: &str, time_zone: Option<&str>) {
        let field = "spec.schedule";
        let trimmed = schedule.trim();
        if trimmed.is_empty() {
            self.error(field, "schedule is empty".into());
            return;
        }
        if trimmed.starts_with("TZ=") || trimmed.starts_with("CRON_TZ=") {
            self.error(
                field,
                format!("schedule {schedule:?}: TZ and CRON_TZ are not allowed in a schedule; use timeZone"),
            );
            return;
        }
        if let Some(macro_name) = trimmed.strip_prefix('@') {
            const MACROS: &[&str] = &[
                "yearly", "annually", "monthly", "weekly", "daily", "midnight", "hourly",
            ];
            if !MACROS.contains(&macro_name) {
                self.error(
                    field,
                    format!(
                        "schedule {schedule:?}: unknown macro; known: @{}",
                        MACROS.join(", @")
                    ),
                );
                return;
            }
        } else {
            let fields = trimmed.split_whitespace().count();
            if fields != 5 {
                self.error(
                    field,
                    format!(
                        "schedule {schedule:?} has {fields} fields; expected 5 (minute hour \
                         day-of-month month day-of-week) or a macro like @daily"
                    ),
                );
                return;
            }
        }
        let cron = match croner::parser::CronParser::new().parse(trimmed) {
            Ok(cron) => cron,
            Err(e) => {
                self.error(field, format!("schedule {schedule:?} does not parse: {e}"));
                return;
            }
        };
        let tz = match time_zone {
            None => jiff::tz::TimeZone::UTC,
            Some(name) if name.eq_ignore_ascii_case("local") => {
                self.error(
                    "spec.timeZone",
                    "timeZone \"Local\" is not allowed: use an explicit IANA time zone such as \
                     Europe/Paris"
                        .into(),
                );
                return;
            }
            Some(name) => {
                match jiff::tz::TimeZone::get(name) {
                    Ok(tz) => tz,
                    Err(e) => {
                        self.error(
                        "spec.timeZone",
                        format!("unknown timeZone {name:?} (not in the IANA time zone database): {e}"),
                    );
                        return;
                    }
                }
            }
        };
        let now = jiff::Timestamp::now().to_zoned(tz);
        let horizon = now
            .checked_add(jiff::Span::new().years(SCHEDULE_HORIZON_YEARS))
            .ok();
        let next = cron.find_next_occurrence(&now, false);
        let fires = match (&next, &horizon) {
            (Ok(next), Some(horizon)) => next <= horizon,
            (Ok(_), None) => true,
            (Err(_), _) => false,
        };
        if !fires {
            self.error(
                field,
                format!(
                    "schedule {schedule:?} never fires: no occurrence in the next \
                     {SCHEDULE_HORIZON_YEARS} years"
                ),
            );
        }
    }

    fn workload(&mut self, w: &Workload<'_>) {
        let runtime = match w.runtime {
            Some(name) => match Runtime::parse(name) {
                Ok(r) => Some(r),
                Err(e) => {
                    self.error("spec.runtime", e);
                    None
                }
            },
            None => None,
        };
        if let Some(command) = w.command {
            if command.is_empty() || command[0].trim().is_empty() {
                self.error(
                    "spec.command",
                    "command is empty: give the program to run".into(),
                );
            }
            if w.entrypoint.is_some() {
                self.warn(
                    "spec.entrypoint",
                    "entrypoint is ignored: command overrides runtime + entrypoint".into(),
                );
            }
        }
        if w.entrypoint.is_some() && w.runtime.is_none() {
            self.error(
                "spec.entrypoint",
                "entrypoint needs a runtime to run it (e.g. runtime: python-3.11), or use command"
                    .into(),
            );
        }
        let runnable = (w.runtime.is_some() && w.entrypoint.is_some())
            || w.command.is_some()
            || w.image.is_some();
        if !runnable {
            let message = match w.runtime {
                Some(r) => {
                    format!("nothing to run: runtime {r} needs an entrypoint (or set command)")
                }
                None => "nothing to run: set runtime and entrypoint, command, or image".into(),
            };
            self.error("spec", message);
        }
        if let Some(project) = w.project
            && let Some(problem) = label_value_problem(project)
        {
            self.error("spec.project", format!("project {project:?} {problem}"));
        }
        for key in w.env.keys() {
            if key.is_empty() || key.contains('=') {
                self.error(
                    &format!("spec.env.{key}"),
                    format!("environment variable name {key:?} must be non-empty and without '='"),
                );
            }
        }
        self.config_files(w.config_files);
        self.resources("spec.resources", w.resources);
        self.environments(w);
        if let Some(runtime) = runtime
            && runtime.is_jvm()
        {
            for (field, message, severity) in jvm_findings(w, "spec") {
                self.push(severity, &field, message);
            }
        }
    }

    fn environments(&mut self, w: &Workload<'_>) {
        if let Some(env) = w.environment
            && let Some(problem) = label_value_problem(env)
        {
            self.error("spec.environment", format!("environment {env:?} {problem}"));
        }
        for (env_name, o) in w.environments {
            let prefix = format!("spec.environments.{env_name}");
            if let Some(problem) = label_value_problem(env_name) {
                self.error(&prefix, format!("environment name {env_name:?} {problem}"));
            }
            if let Some(resources) = &o.resources {
                self.resources(&format!("{prefix}.resources"), Some(resources));
                // An override replaces spec.resources as a whole.
                let base = w.resources.cloned().unwrap_or_default();
                for (key, base_value, value) in [
                    ("cpu", &base.cpu, &resources.cpu),
                    ("memory", &base.memory, &resources.memory),
                ] {
                    if let (Some(base_value), None) = (base_value, value) {
                        let default = if key == "cpu" {
                            DEFAULT_CPU
                        } else {
                            DEFAULT_MEMORY
                        };
                        self.warn(
                            &format!("{prefix}.resources"),
                            format!(
                                "environment {env_name} replaces spec.resources as a whole: \
                                 {key} falls back to the project default {default}, not \
                                 spec.resources.{key} {base_value}"
                            ),
                        );
                    }
                }
            }
            for key in o.env.keys() {
                if key.is_empty() || key.contains('=') {
                    self.error(
                        &format!("{prefix}.env.{key}"),
                        format!(
                            "environment variable name {key:?} must be non-empty and without '='"
                        ),
                    );
                }
            }
        }
    }

    /// JVM findings that an environment's overrides introduce (those of the base are reported
    /// once, for the base).
    fn jvm_in_environment(&mut self, base: &Workload<'_>, env_name: &str, resolved: &Workload<'_>) {
        let Some(runtime) = resolved.runtime.and_then(|r| Runtime::parse(r).ok()) else {
            return;
        };
        if !runtime.is_jvm() {
            return;
        }
        let base_messages: Vec<String> = jvm_findings(base, "spec")
            .into_iter()
            .map(|(_, m, _)| m)
            .collect();
        let prefix = format!("spec.environments.{env_name}");
        for (_, message, severity) in jvm_findings(resolved, &prefix) {
            if base_messages.contains(&message) {
                continue;
            }
            let field = if base
                .environments
                .get(env_name)
                .is_some_and(|o| o.resources.is_some())
            {
                format!("{prefix}.resources")
            } else {
                format!("{prefix}.env")
            };
            self.push(
                severity,
                &field,
                format!("in environment {env_name}: {message}"),
            );
        }
    }

    fn resources(&mut self, prefix: &str, resources: Option<&Resources>) {
        let Some(r) = resources else {
            self.warn(
                prefix,
                format!(
                    "no resources set: the project defaults apply (cpu {DEFAULT_CPU}, memory \
                     {DEFAULT_MEMORY}, limits equal to requests)"
                ),
            );
            return;
        };
        for (key, value, default) in [
            ("cpu", &r.cpu, DEFAULT_CPU),
            ("memory", &r.memory, DEFAULT_MEMORY),
        ] {
            if value.is_none() {
                self.warn(
                    &format!("{prefix}.{key}"),
                    format!("no {key} set: the project default {default} applies"),
                );
            }
        }
        let limits = r.limits.clone().unwrap_or_default();
        let mut parsed = |field: String, value: &Option<String>| -> Option<f64> {
            let text = value.as_deref()?;
            match parse_quantity(text) {
                Ok(v) if v < 0.0 => {
                    self.error(&field, format!("{text} must be greater than or equal to 0"));
                    None
                }
                Ok(v) => Some(v),
                Err(e) => {
                    self.error(&field, e);
                    None
                }
            }
        };
        let cpu = parsed(format!("{prefix}.cpu"), &r.cpu);
        let memory = parsed(format!("{prefix}.memory"), &r.memory);
        let limit_cpu = parsed(format!("{prefix}.limits.cpu"), &limits.cpu);
        let limit_memory = parsed(format!("{prefix}.limits.memory"), &limits.memory);
        for (key, request, request_text, limit, default) in [
            ("cpu", cpu, &r.cpu, limit_cpu, DEFAULT_CPU),
            ("memory", memory, &r.memory, limit_memory, DEFAULT_MEMORY),
        ] {
            let Some(limit) = limit else { continue };
            let (request, shown) = match (request, request_text) {
                (Some(v), Some(text)) => (v, text.clone()),
                (None, Some(_)) => continue, // already reported as unparsable
                _ => match parse_quantity(default) {
                    Ok(v) => (v, format!("{default} (project default)")),
                    Err(_) => continue,
                },
            };
            if limit < request {
                let limit_text = if key == "cpu" {
                    &limits.cpu
                } else {
                    &limits.memory
                };
                self.error(
                    &format!("{prefix}.limits.{key}"),
                    format!(
                        "limits.{key} {} is below the request {shown}; a limit must be at least \
                         the request",
                        limit_text.as_deref().unwrap_or_default()
                    ),
                );
            }
        }
    }

    fn config_files(&mut self, files: &[ConfigFile]) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut total = 0usize;
        for (i, file) in files.iter().enumerate() {
            let field = format!("spec.configFiles[{i}].path");
            if !file.path.starts_with('/') {
                self.error(
                    &field,
                    format!("path {:?} must be absolute (start with '/')", file.path),
                );
            }
            if file.path.ends_with('/') {
                self.error(
                    &field,
                    format!("path {:?} names a directory, not a file", file.path),
                );
            }
            if let Some(first) = first_index(&mut seen, file.path.as_str(), i) {
                self.error(
                    &field,
                    format!(
                        "path {:?} is already used by configFiles[{first}]",
                        file.path
                    ),
                );
            }
            total += file.content.len();
        }
        if total > MAX_CONFIGMAP_BYTES {
            self.error(
                "spec.configFiles",
                format!(
                    "config files total {total} bytes; a ConfigMap holds at most \
                     {MAX_CONFIGMAP_BYTES} bytes (1 MiB)"
                ),
            );
        }
    }

    fn ports(&mut self, spec: &AppSpec) {
        let mut ports: HashMap<i32, usize> = HashMap::new();
        let mut service_ports: HashMap<i32, usize> = HashMap::new();
        let mut names: HashMap<&str, usize> = HashMap::new();
        for (i, p) in spec.ports.iter().enumerate() {
            let field = format!("spec.ports[{i}]");
            self.port_range(&format!("{field}.port"), "port", p.port);
            let port_dup = first_index(&mut ports, p.port, i);
            if let Some(first) = port_dup {
                self.error(
                    &format!("{field}.port"),
                    format!("port {} is already listed as ports[{first}]", p.port),
                );
            }
            if let Some(sp) = p.service_port {
                self.port_range(&format!("{field}.servicePort"), "servicePort", sp);
            }
            let service_port = p.service_port.unwrap_or(p.port);
            // A repeated port without servicePort is reported once, as a repeated port.
            if let Some(first) = first_index(&mut service_ports, service_port, i)
                && !(port_dup.is_some() && p.service_port.is_none())
            {
                self.error(
                    &format!("{field}.servicePort"),
                    format!("service port {service_port} is already used by ports[{first}]"),
                );
            }
            if let Some(name) = &p.name {
                if let Some(problem) = port_name_problem(name) {
                    self.error(
                        &format!("{field}.name"),
                        format!("port name {name:?} {problem}"),
                    );
                }
                if let Some(first) = first_index(&mut names, name.as_str(), i) {
                    self.error(
                        &format!("{field}.name"),
                        format!("port name {name:?} is already used by ports[{first}]"),
                    );
                }
            }
        }
        if let Some(health) = &spec.health {
            self.health(health, !spec.ports.is_empty());
        }
        if let Some(metrics) = &spec.metrics {
            self.port_range("spec.metrics.port", "metrics.port", metrics.port);
        }
    }

    fn health(&mut self, health: &HealthCheck, has_ports: bool) {
        if let Some(port) = health.port {
            self.port_range("spec.health.port", "health.port", port);
        } else if !has_ports && health.command.is_none() {
            self.error(
                "spec.health",
                "the health check has no port to probe: set ports, health.port or health.command"
                    .into(),
            );
        }
        if let Some(path) = &health.path
            && !path.starts_with('/')
        {
            self.error(
                "spec.health.path",
                format!("health.path {path:?} must start with '/'"),
            );
        }
        if health.command.as_ref().is_some_and(|c| c.is_empty()) {
            self.error("spec.health.command", "health.command is empty".into());
        }
        for (key, value, min) in [
            ("initialDelaySeconds", health.initial_delay_seconds, 0),
            ("periodSeconds", health.period_seconds, 1),
            ("timeoutSeconds", health.timeout_seconds, 1),
            ("failureThreshold", health.failure_threshold, 1),
            ("startupSeconds", health.startup_seconds, 1),
        ] {
            if let Some(v) = value
                && v < min
            {
                self.error(
                    &format!("spec.health.{key}"),
                    format!("health.{key} {v} must be greater than or equal to {min}"),
                );
            }
        }
    }

    fn port_range(&mut self, field: &str, what: &str, port: i32) {
        if !(1..=65535).contains(&port) {
            self.error(field, format!("{what} {port} is out of range 1-65535"));
        }
    }

    fn domain(&mut self, field: &str, domain: &str, ports: &[crate::types::PortSpec]) {
        if let Some(problem) = dns_subdomain_problem(domain) {
            self.error(field, format!("domain {domain:?} {problem}"));
        }
        if ports.is_empty() {
            self.error(
                field,
                format!("domain {domain:?} needs a port to route to: set ports"),
            );
        }
    }

    fn replicas(&mut self, prefix: &str, replicas: Option<i32>, autoscaling: Option<&Autoscaling>) {
        if let Some(r) = replicas
            && r < 0
        {
            self.error(
                &format!("{prefix}.replicas"),
                format!("replicas {r} must be greater than or equal to 0"),
            );
        }
        let Some(a) = autoscaling else { return };
        let field = format!("{prefix}.autoscaling");
        if a.min_replicas < 1 {
            self.error(
                &format!("{field}.minReplicas"),
                format!("minReplicas {} must be at least 1", a.min_replicas),
            );
        }
        if a.max_replicas < a.min_replicas {
            self.error(
                &format!("{field}.maxReplicas"),
                format!(
                    "maxReplicas {} is below minReplicas {}",
                    a.max_replicas, a.min_replicas
                ),
            );
        }
        if let Some(p) = a.cpu_percent
            && p < 1
        {
            self.error(
                &format!("{field}.cpuPercent"),
                format!("cpuPercent {p} must be at least 1"),
            );
        }
        if replicas.is_some() {
            self.warn(
                &format!("{prefix}.replicas"),
                "replicas is ignored while autoscaling is set".into(),
            );
        }
    }

    fn rollout(&mut self, rollout: &crate::types::Rollout) {
        let mut parse = |key: &str, value: &Option<String>| -> Option<f64> {
            let text = value.as_deref()?;
            let number = text.strip_suffix('%').unwrap_or(text);
            match number.parse::<u32>() {
                Ok(n) => Some(f64::from(n)),
                Err(_) => {
                    self.error(
                        &format!("spec.rollout.{key}"),
                        format!("{key} {text:?} must be a non-negative number or percentage (e.g. 1 or 25%)"),
                    );
                    None
                }
            }
        };
        let surge = parse("maxSurge", &rollout.max_surge);
        let unavailable = parse("maxUnavailable", &rollout.max_unavailable);
        // Berth's defaults: maxSurge 25%, maxUnavailable 0.
        if surge == Some(0.0) && unavailable.unwrap_or(0.0) == 0.0 {
            self.error(
                "spec.rollout.maxSurge",
                "maxSurge and maxUnavailable cannot both be 0: the rollout could never replace a pod"
                    .into(),
            );
        }
        if let Some(d) = rollout.progress_deadline_seconds
            && d < 1
        {
            self.error(
                "spec.rollout.progressDeadlineSeconds",
                format!("progressDeadlineSeconds {d} must be at least 1"),
            );
        }
    }
}

/// `-Xmx` settings at or close to the memory limit: `(field, message, severity)`.
fn jvm_findings(w: &Workload<'_>, prefix: &str) -> Vec<(String, String, Severity)> {
    let resources = w.resources.cloned().unwrap_or_default();
    let limit_text = resources
        .limits
        .as_ref()
        .and_then(|l| l.memory.clone())
        .or(resources.memory.clone())
        .unwrap_or_else(|| DEFAULT_MEMORY.to_string());
    let Ok(limit) = parse_quantity(&limit_text) else {
        return Vec::new();
    };
    let mut sources: Vec<(String, &str)> = Vec::new();
    for (list, key) in [(w.command, "command"), (w.args, "args")] {
        for (i, token) in list.unwrap_or_default().iter().enumerate() {
            sources.push((format!("{prefix}.{key}[{i}]"), token));
        }
    }
    for var in JVM_OPTION_VARS {
        if let Some(value) = w.env.get(*var) {
            for token in value.split_whitespace() {
                sources.push((format!("{prefix}.env.{var}"), token));
            }
        }
    }
    let share: f64 = JVM_MAX_RAM_PERCENTAGE.parse().unwrap_or(75.0) / 100.0;
    let mut out = Vec::new();
    for (field, token) in sources {
        let Some((flag, heap)) = parse_xmx(token) else {
            continue;
        };
        if heap >= limit {
            out.push((
                field,
                format!(
                    "{flag} is at or above the memory limit {limit_text}: the heap must leave room \
                     for metaspace, threads and native memory or the container is OOM-killed. \
                     Berth sets -XX:MaxRAMPercentage={JVM_MAX_RAM_PERCENTAGE} from the limit; \
                     remove -Xmx"
                ),
                Severity::Error,
            ));
        } else if heap > limit * share {
            out.push((
                field,
                format!(
                    "{flag} is above {JVM_MAX_RAM_PERCENTAGE}% of the memory limit {limit_text}: \
                     little room is left for non-heap memory. Berth sets \
                     -XX:MaxRAMPercentage={JVM_MAX_RAM_PERCENTAGE} from the limit; consider \
                     removing -Xmx"
                ),
                Severity::Warning,
            ));
        }
    }
    out
}
