//! `berth deploy`: server-side apply of App/CronApp specs, then wait for the operator.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use berth_spec::load::{LoadedDoc, SpecDoc};
use berth_spec::meta::{ANNOTATION_AUTHOR, ANNOTATION_MESSAGE};
use berth_spec::{App, CronApp, GROUP, VERSION};
use futures::future::join_all;
use kube::api::{Api, Patch};
use serde_json::{Value, json};

use crate::common::apply_params;
use crate::output::{Printer, list_of, parse_duration};
use crate::wait::{Progress, WaitOutcome, report, wait_for};
use crate::{CliError, ClientArgs, Connection, OutputArgs};

#[derive(clap::Args, Clone, Debug)]
pub struct DeployArgs {
    /// Spec files or directories (every *.yaml/*.yml under them).
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true, num_args = 1..)]
    pub paths: Vec<PathBuf>,
    /// Environment to deploy (a key of the specs' `environments`).
    #[arg(long = "env", value_name = "ENV")]
    pub environment: Option<String>,
    /// Image to deploy (only with a single app).
    #[arg(long)]
    pub image: Option<String>,
    /// Message recorded with the revision.
    #[arg(short = 'm', long)]
    pub message: Option<String>,
    /// Return after applying, without waiting for the rollout.
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait for each app to become available.
    #[arg(long, default_value = "300s", value_parser = parse_duration)]
    pub timeout: Duration,
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// What `deploy` sets on every document.
#[derive(Clone, Debug)]
pub struct DeployOptions {
    pub environment: Option<String>,
    pub image: Option<String>,
    /// `berth.dev/message`; "deploy" when none.
    pub message: Option<String>,
    /// `berth.dev/author`.
    pub author: Option<String>,
    pub wait: bool,
    pub timeout: Duration,
}

impl Default for DeployOptions {
    fn default() -> Self {
        DeployOptions {
            environment: None,
            image: None,
            message: None,
            author: None,
            wait: true,
            timeout: Duration::from_secs(300),
        }
    }
}

/// What a deploy did.
#[derive(Debug, Default)]
pub struct DeployOutcome {
    /// The Apps as last seen (after the wait, or as applied).
    pub apps: Vec<App>,
    pub crons: Vec<CronApp>,
    /// `name: reason` of each App/CronApp that failed or timed out.
    pub failures: Vec<String>,
}

impl DeployOutcome {
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The namespace a document goes to: its own, unless it contradicts an explicit `-n` (as
/// kubectl refuses), else `default_namespace`.
pub fn doc_namespace(
    doc: &SpecDoc,
    explicit: Option<&str>,
    default_namespace: &str,
) -> Result<String, CliError> {
    match (doc.namespace(), explicit) {
        (Some(own), Some(flag)) if own != flag => Err(CliError::Usage(format!(
            "the namespace from the provided object {own:?} does not match the namespace {flag:?}. You must pass '--namespace={own}' to perform this operation."
        ))),
        (Some(own), _) => Ok(own.to_string()),
        (None, Some(flag)) => Ok(flag.to_string()),
        (None, None) => Ok(default_namespace.to_string()),
    }
}

/// The server-side apply body of a document: only what the user owns (name, namespace, labels,
/// annotations, spec), never status or server-set metadata of a fed-back `kubectl get -o yaml`.
pub fn apply_body(doc: &SpecDoc, namespace: &str, opts: &DeployOptions) -> Result<Value, CliError> {
    let meta = doc.metadata();
    let mut annotations: BTreeMap<String, String> = meta.annotations.clone().unwrap_or_default();
    annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
    annotations.insert(
        ANNOTATION_MESSAGE.to_string(),
        opts.message.clone().unwrap_or_else(|| "deploy".to_string()),
    );
    match &opts.author {
        Some(author) => {
            annotations.insert(ANNOTATION_AUTHOR.to_string(), author.clone());
        }
        None => {
            annotations.remove(ANNOTATION_AUTHOR);
        }
    }
    let mut spec = match doc {
        SpecDoc::App(app) => serde_json::to_value(&app.spec),
        SpecDoc::CronApp(cron) => serde_json::to_value(&cron.spec),
    }
    .map_err(|e| CliError::Serialize(e.to_string()))?;
    if let Some(env) = &opts.environment {
        spec["environment"] = json!(env);
    }
    if let Some(image) = &opts.image {
        spec["image"] = json!(image);
    }
    let mut metadata = json!({
        "name": doc.name(),
        "namespace": namespace,
        "annotations": annotations,
    });
    if let Some(labels) = &meta.labels {
        metadata["labels"] = json!(labels);
    }
    Ok(json!({
        "apiVersion": format!("{GROUP}/{VERSION}"),
        "kind": doc.kind(),
        "metadata": metadata,
        "spec": spec,
    }))
}

/// Applies every document (each to its own namespace, else `namespace`) and, when
/// `opts.wait`, waits for all of them at once, printing progress to `out`. This is what
/// `berth deploy` runs after loading the files; `berth demo` calls it directly.
pub async fn deploy_docs(
    client: &kube::Client,
    namespace: &str,
    docs: &[LoadedDoc],
    opts: &DeployOptions,
    out: &Printer,
) -> Result<DeployOutcome, CliError> {
    let apps_count = docs
        .iter()
        .filter(|d| matches!(d.doc, SpecDoc::App(_)))
        .count();
    if opts.image.is_some() && apps_count > 1 {
        return Err(CliError::Usage(format!(
            "--image sets the image of one app, but the specs hold {apps_count} apps; deploy them one at a time"
        )));
    }
    if docs.is_empty() {
        return Err(CliError::Usage(
            "no App or CronApp documents found".to_string(),
        ));
    }
    let mut applied_apps: Vec<(App, i64)> = Vec::new();
    let mut applied_crons: Vec<(CronApp, i64)> = Vec::new();
    for loaded in docs {
        let ns = doc_namespace(&loaded.doc, None, namespace)?;
        let body = apply_body(&loaded.doc, &ns, opts)?;
        let name = loaded.doc.name().to_string();
        let params = apply_params();
        match &loaded.doc {
            SpecDoc::App(_) => {
                let api: Api<App> = Api::namespaced(client.clone(), &ns);
                let app = api
                    .patch(&name, &params, &Patch::Apply(&body))
                    .await
                    .map_err(|e| CliError::apply("App", &name, &ns, e))?;
                let generation = app.metadata.generation.unwrap_or(0);
                out.progress(format!(
                    "{name}: applied App in {ns} (generation {generation})"
                ));
                applied_apps.push((app, generation));
            }
            SpecDoc::CronApp(_) => {
                let api: Api<CronApp> = Api::namespaced(client.clone(), &ns);
                let cron = api
                    .patch(&name, &params, &Patch::Apply(&body))
                    .await
                    .map_err(|e| CliError::apply("CronApp", &name, &ns, e))?;
                let generation = cron.metadata.generation.unwrap_or(0);
                out.progress(format!(
                    "{name}: applied CronApp in {ns} (generation {generation})"
                ));
                applied_crons.push((cron, generation));
            }
        }
    }
    if !opts.wait {
        return Ok(DeployOutcome {
            apps: applied_apps.into_iter().map(|(a, _)| a).collect(),
            crons: applied_crons.into_iter().map(|(c, _)| c).collect(),
            failures: Vec::new(),
        });
    }

    let progress = Progress::new(out);
    let app_waits = applied_apps.iter().map(|(app, generation)| {
        let line = progress.line();
        async move {
            let ns = app.metadata.namespace.clone().unwrap_or_default();
            let name = app.metadata.name.clone().unwrap_or_default();
            let outcome =
                wait_for::<App>(client, &ns, &name, *generation, opts.timeout, &line).await;
            line.finish();
            (app.clone(), outcome)
        }
    });
    let cron_waits = applied_crons.iter().map(|(cron, generation)| {
        let line = progress.line();
        async move {
            let ns = cron.metadata.namespace.clone().unwrap_or_default();
            let name = cron.metadata.name.clone().unwrap_or_default();
            let outcome =
                wait_for::<CronApp>(client, &ns, &name, *generation, opts.timeout, &line).await;
            line.finish();
            (cron.clone(), outcome)
        }
    });
    let (app_results, cron_results) = futures::join!(join_all(app_waits), join_all(cron_waits));

    let mut outcome = DeployOutcome::default();
    for (applied, result) in app_results {
        let name = applied.metadata.name.clone().unwrap_or_default();
        let waited = result?;
        if !report(out, "App", &name, &waited, opts.timeout) {
            outcome.failures.push(failure_text(&name, &waited));
        }
        outcome.apps.push(take_object(waited).unwrap_or(applied));
    }
    for (applied, result) in cron_results {
        let name = applied.metadata.name.clone().unwrap_or_default();
        let waited = result?;
        if !report(out, "CronApp", &name, &waited, opts.timeout) {
            outcome.failures.push(failure_text(&name, &waited));
        }
        outcome.crons.push(take_object(waited).unwrap_or(applied));
    }
    Ok(outcome)
}

fn take_object<K>(w: WaitOutcome<K>) -> Option<K> {
    match w {
        WaitOutcome::Ready(k) | WaitOutcome::Failed(k) => Some(k),
        WaitOutcome::TimedOut(k) => k,
    }
}

fn failure_text<K: crate::wait::Tracked>(name: &str, w: &WaitOutcome<K>) -> String {
    match w {
        WaitOutcome::TimedOut(_) => format!("{name}: timed out"),
        _ => format!(
            "{name}: {}",
            w.object()
                .and_then(|o| o.message())
                .unwrap_or("rollout failed")
        ),
    }
}

/// `berth deploy`.
pub async fn run(
    args: DeployArgs,
    conn: &Connection,
    out: &Printer,
) -> Result<std::process::ExitCode, CliError> {
    let docs = berth_spec::load::load_paths(&args.paths)?;
    let explicit = args.client.namespace.as_deref();
    // Settle namespaces up front so a conflict refuses the whole deploy before anything applies.
    let mut docs_with_ns = Vec::with_capacity(docs.len());
    for mut loaded in docs {
        let ns = doc_namespace(&loaded.doc, explicit, &conn.default_namespace)?;
        set_namespace(&mut loaded.doc, &ns);
        docs_with_ns.push(loaded);
    }
    let opts = DeployOptions {
        environment: args.environment,
        image: args.image,
        message: args.message,
        author: conn.author.clone(),
        wait: !args.no_wait,
        timeout: args.timeout,
    };
    let outcome = deploy_docs(
        &conn.client,
        &conn.default_namespace,
        &docs_with_ns,
        &opts,
        out,
    )
    .await?;
    if !out.is_human() {
        let mut items = Vec::new();
        for app in &outcome.apps {
            items.push(serde_json::to_value(app).map_err(|e| CliError::Serialize(e.to_string()))?);
        }
        for cron in &outcome.crons {
            items.push(serde_json::to_value(cron).map_err(|e| CliError::Serialize(e.to_string()))?);
        }
        out.structured(&list_of(items))?;
    }
    Ok(crate::exit(outcome.ok()))
}

fn set_namespace(doc: &mut SpecDoc, ns: &str) {
    match doc {
        SpecDoc::App(a) => a.metadata.namespace = Some(ns.to_string()),
        SpecDoc::CronApp(c) => c.metadata.namespace = Some(ns.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_spec::AppSpec;

    fn doc(ns: Option<&str>) -> SpecDoc {
        let mut app = App::new(
            "web",
            AppSpec {
                image: Some("old:1".into()),
                ..Default::default()
            },
        );
        app.metadata.namespace = ns.map(str::to_string);
        app.metadata.resource_version = Some("42".into());
        SpecDoc::App(app)
    }

    #[test]
    fn namespace_of_a_doc_follows_kubectl() {
        assert_eq!(doc_namespace(&doc(None), None, "dflt").expect("ns"), "dflt");
        assert_eq!(doc_namespace(&doc(None), Some("x"), "d").expect("ns"), "x");
        assert_eq!(doc_namespace(&doc(Some("a")), None, "d").expect("ns"), "a");
        assert_eq!(
            doc_namespace(&doc(Some("a")), Some("a"), "d").expect("ns"),
            "a"
        );
        let err = doc_namespace(&doc(Some("a")), Some("b"), "d").expect_err("conflict");
        assert!(err.to_string().contains("does not match"), "{err}");
    }

    #[test]
    fn apply_body_carries_only_what_the_user_owns() {
        let opts = DeployOptions {
            environment: Some("prod".into()),
            image: Some("new:2".into()),
            message: None,
            author: Some("alice".into()),
            ..Default::default()
        };
        let body = apply_body(&doc(None), "team", &opts).expect("body");
        assert_eq!(body["apiVersion"], "berth.dev/v1alpha1");
        assert_eq!(body["kind"], "App");
        assert_eq!(body["metadata"]["namespace"], "team");
        assert_eq!(
            body["metadata"]["annotations"]["berth.dev/message"],
            "deploy"
        );
        assert_eq!(body["metadata"]["annotations"]["berth.dev/author"], "alice");
        assert!(body["metadata"].get("resourceVersion").is_none());
        assert_eq!(body["spec"]["image"], "new:2");
        assert_eq!(body["spec"]["environment"], "prod");
        assert!(body.get("status").is_none());
    }
}
