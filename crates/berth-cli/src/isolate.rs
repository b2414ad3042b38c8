//! `berth isolate`: take a pod out of service without killing it. Relabelling `app` makes the
//! ReplicaSet release it (and create a replacement) and the Service stop selecting it; the
//! pod keeps running for inspection until `--release` deletes it.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use berth_spec::meta::{LABEL_APP, LABEL_ISOLATED, LABEL_OWNER};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams, DeleteParams, ListParams, Patch};
use serde_json::json;
use tokio::io::AsyncReadExt;

use crate::common::{get_app, is_not_found, now_rfc3339, patch_params};
use crate::output::{Printer, parse_duration};
use crate::{CliError, ClientArgs, Connection, OutputArgs};

/// When the pod was isolated (RFC 3339).
pub const ISOLATED_AT_ANNOTATION: &str = "berth.dev/isolated-at";

#[derive(clap::Args, Clone, Debug)]
pub struct IsolateArgs {
    /// The pod.
    pub pod: String,
    /// Delete an isolated pod.
    #[arg(long)]
    pub release: bool,
    /// How long to wait for the replacement pod.
    #[arg(long, default_value = "60s", value_parser = parse_duration, hide = true)]
    pub replacement_timeout: Duration,
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn label<'a>(pod: &'a Pod, key: &str) -> Option<&'a str> {
    pod.metadata.labels.as_ref()?.get(key).map(String::as_str)
}

/// The App a pod belongs to (`berth.dev/owner=App.<name>`).
pub(crate) fn owning_app(pod: &Pod) -> Option<&str> {
    label(pod, LABEL_OWNER)?.strip_prefix("App.")
}

fn is_isolated(pod: &Pod) -> bool {
    label(pod, LABEL_ISOLATED) == Some("true")
}

/// The merge patch that takes `pod` (of `app`) out of service.
pub(crate) fn isolate_patch(pod: &Pod, app: &str, now: &str) -> serde_json::Value {
    let current = label(pod, LABEL_APP).unwrap_or(app);
    json!({"metadata": {
        "labels": {LABEL_APP: format!("{current}-isolated"), LABEL_ISOLATED: "true"},
        "annotations": {ISOLATED_AT_ANNOTATION: now},
    }})
}

pub async fn run(
    args: IsolateArgs,
    conn: &Connection,
    out: &Printer,
) -> Result<ExitCode, CliError> {
    let namespace = conn.namespace(&args.client);
    let pods: Api<Pod> = Api::namespaced(conn.client.clone(), &namespace);
    let pod = match pods.get(&args.pod).await {
        Ok(p) => p,
        Err(e) if is_not_found(&e) => {
            return Err(CliError::not_found("Pod", &args.pod, &namespace));
        }
        Err(e) => return Err(e.into()),
    };
    if args.release {
        if !is_isolated(&pod) {
            return Err(CliError::Usage(format!(
                "pod {:?} is not isolated ({LABEL_ISOLATED}=true); only isolated pods are released",
                args.pod
            )));
        }
        pods.delete(&args.pod, &DeleteParams::default()).await?;
        out.progress(format!("pod {} deleted", args.pod));
        return Ok(ExitCode::SUCCESS);
    }
    let Some(app_name) = owning_app(&pod).map(str::to_string) else {
        return Err(CliError::Usage(format!(
            "pod {:?} does not belong to a Berth App (no {LABEL_OWNER}=App.<name> label); refusing to isolate it",
            args.pod
        )));
    };
    if is_isolated(&pod) {
        out.progress(format!(
            "pod {} is already isolated; `berth isolate {} --release` deletes it",
            args.pod, args.pod
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let app = get_app(&conn.client, &namespace, &app_name).await?;

    // Pods serving before, to tell the replacement apart.
    let serving = format!("{LABEL_OWNER}=App.{app_name},{LABEL_ISOLATED}!=true");
    let before: BTreeSet<String> = pods
        .list(&ListParams::default().labels(&serving))
        .await?
        .items
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();

    let patched = pods
        .patch(
            &args.pod,
            &patch_params(),
            &Patch::Merge(isolate_patch(&pod, &app_name, &now_rfc3339())),
        )
        .await?;
    out.progress(format!(
        "pod {} isolated from App {app_name}: out of its Service and ReplicaSet, still running",
        args.pod
    ));

    let offline = berth_spec::resolve_app(&app.spec)
        .unwrap_or_else(|_| app.spec.clone())
        .lifecycle
        .and_then(|l| l.offline);
    match offline {
        None => out.progress(format!("App {app_name} has no offline hook to run")),
        Some(hook) => run_offline_hook(&pods, &args.pod, &hook, out).await,
    }

    match wait_replacement(&pods, &serving, &before, args.replacement_timeout).await? {
        Some(name) => out.progress(format!("replacement pod: {name}")),
        None => out.warn(format!(
            "no replacement pod appeared within {}s (is the ReplicaSet controller running?)",
            args.replacement_timeout.as_secs()
        )),
    }
    out.progress(format!("when done: berth isolate {} --release", args.pod));
    if !out.is_human() {
        out.structured(&patched)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the offline hook in the pod through `pods/exec`. A refusal (a cluster that does not
/// serve exec, RBAC) is a warning: the pod is out of service either way.
async fn run_offline_hook(pods: &Api<Pod>, pod: &str, hook: &str, out: &Printer) {
    let params = AttachParams::default()
        .container(berth_render::APP_CONTAINER)
        .stdin(false)
        .stdout(true)
        .stderr(true);
    let attached = pods.exec(pod, ["sh", "-c", hook], &params).await;
    let mut process = match attached {
        Ok(p) => p,
        Err(e) => {
            out.warn(format!(
                "the offline hook was not run: the cluster refused exec into pod {pod} ({}); run it yourself if it matters: {hook}",
                exec_error(&e)
            ));
            return;
        }
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut r) = process.stdout() {
        let _ = r.read_to_string(&mut stdout).await;
    }
    if let Some(mut r) = process.stderr() {
        let _ = r.read_to_string(&mut stderr).await;
    }
    let status = match process.take_status() {
        Some(s) => s.await,
        None => None,
    };
    for line in stdout.lines().chain(stderr.lines()) {
        out.progress(format!("[offline] {line}"));
    }
    match status {
        Some(s) if s.status.as_deref() == Some("Success") => out.progress("offline hook ran"),
        Some(s) => out.warn(format!(
            "the offline hook failed: {}",
            s.message.unwrap_or_default()
        )),
        None => out.progress("offline hook ran (no exit status reported)"),
    }
}

fn exec_error(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("{} {}: {}", s.code, s.reason, s.message),
        other => other.to_string(),
    }
}

async fn wait_replacement(
    pods: &Api<Pod>,
    selector: &str,
    before: &BTreeSet<String>,
    timeout: Duration,
) -> Result<Option<String>, CliError> {
    let started = Instant::now();
    loop {
        let now: Vec<String> = pods
            .list(&ListParams::default().labels(selector))
            .await?
            .items
            .into_iter()
            .filter_map(|p| p.metadata.name)
            .filter(|n| !before.contains(n))
            .collect();
        if let Some(name) = now.into_iter().next() {
            return Ok(Some(name));
        }
        if started.elapsed() >= timeout {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isolate_patch_relabels_app_and_marks_the_pod() {
        let mut pod = Pod::default();
        pod.metadata.labels = Some(
            [
                ("app".to_string(), "web".to_string()),
                (LABEL_OWNER.to_string(), "App.web".to_string()),
            ]
            .into(),
        );
        assert_eq!(owning_app(&pod), Some("web"));
        let patch = isolate_patch(&pod, "web", "2026-01-01T00:00:00Z");
        assert_eq!(patch["metadata"]["labels"]["app"], "web-isolated");
        assert_eq!(patch["metadata"]["labels"]["berth.dev/isolated"], "true");
        assert_eq!(
            patch["metadata"]["annotations"]["berth.dev/isolated-at"],
            "2026-01-01T00:00:00Z"
        );
        pod.metadata.labels = Some([(LABEL_OWNER.to_string(), "CronApp.r".to_string())].into());
        assert_eq!(owning_app(&pod), None);
    }
}
