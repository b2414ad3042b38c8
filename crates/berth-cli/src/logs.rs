//! `berth logs`: the logs of every pod of an App (or of a CronApp's Job pods), each line
//! prefixed with its pod, interleaved as they arrive.

use std::collections::HashSet;
use std::process::ExitCode;
use std::time::Duration;

use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, LogParams};
use kube::runtime::{WatchStreamExt, watcher};
use tokio::task::JoinSet;

use crate::common::{Owned, get_app_or_cron, owner_selector};
use crate::output::{Printer, parse_duration};
use crate::{CliError, ClientArgs, Connection, OutputArgs};

#[derive(clap::Args, Clone, Debug)]
pub struct LogsArgs {
    /// App or CronApp.
    pub app: String,
    /// Follow the logs, including pods that start later.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Only lines newer than this (`10m`, `1h`).
    #[arg(long, value_parser = parse_duration)]
    pub since: Option<Duration>,
    /// Lines from the end of each pod's log.
    #[arg(long, value_name = "N")]
    pub tail: Option<i64>,
    /// Container (default: the app's own container).
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The container whose logs to read: the one asked for, else the app container when the pod
/// has several (sidecars), else the only one.
fn container_for(pod: &Pod, asked: Option<&str>, default: &str) -> Option<String> {
    if let Some(c) = asked {
        return Some(c.to_string());
    }
    let containers = &pod.spec.as_ref()?.containers;
    if containers.len() > 1 && containers.iter().any(|c| c.name == default) {
        Some(default.to_string())
    } else {
        None
    }
}

pub async fn run(args: LogsArgs, conn: &Connection, out: &Printer) -> Result<ExitCode, CliError> {
    let namespace = conn.namespace(&args.client);
    let owned = get_app_or_cron(&conn.client, &namespace, &args.app).await?;
    let default_container = match owned {
        Owned::App(_) => berth_render::APP_CONTAINER,
        Owned::Cron(_) => berth_render::JOB_CONTAINER,
    };
    let selector = owner_selector(owned.kind(), &args.app);
    let pods: Api<Pod> = Api::namespaced(conn.client.clone(), &namespace);
    let params = |pod: &Pod| LogParams {
        follow: args.follow,
        since_seconds: args
            .since
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        tail_lines: args.tail,
        container: container_for(pod, args.container.as_deref(), default_container),
        ..Default::default()
    };
    let mut tasks = JoinSet::new();
    let mut started: HashSet<String> = HashSet::new();
    let initial = pods
        .list(&ListParams::default().labels(&selector))
        .await?
        .items;
    if initial.is_empty() && !args.follow {
        out.warn(format!(
            "{} {:?} has no pods in namespace {namespace:?}",
            owned.kind(),
            args.app
        ));
        return Ok(ExitCode::SUCCESS);
    }
    for pod in initial {
        let name = pod.metadata.name.clone().unwrap_or_default();
        if started.insert(name.clone()) {
            tasks.spawn(stream_pod(pods.clone(), name, params(&pod), out.clone()));
        }
    }
    if args.follow {
        // New pods (a rollout, a restart, the next cron run) join as they start running.
        let mut events = watcher(pods.clone(), watcher::Config::default().labels(&selector))
            .default_backoff()
            .applied_objects()
            .boxed();
        loop {
            tokio::select! {
                next = events.next() => match next {
                    Some(Ok(pod)) => {
                        let name = pod.metadata.name.clone().unwrap_or_default();
                        let phase = pod.status.as_ref().and_then(|s| s.phase.clone());
                        let has_started = matches!(phase.as_deref(), Some("Running" | "Succeeded" | "Failed"));
                        if has_started && started.insert(name.clone()) {
                            // A new pod: everything it logged, not just the tail.
                            let mut p = params(&pod);
                            p.tail_lines = None;
                            tasks.spawn(stream_pod(pods.clone(), name, p, out.clone()));
                        }
                    }
                    Some(Err(error)) => tracing::debug!(%error, "pod watch error"),
                    None => break,
                },
                Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                    if let Ok(Err(message)) = done {
                        out.warn(message);
                    }
                }
                _ = tokio::signal::ctrl_c() => break,
            }
        }
        tasks.abort_all();
        return Ok(ExitCode::SUCCESS);
    }
    let mut ok = true;
    while let Some(done) = tasks.join_next().await {
        if let Ok(Err(message)) = done {
            out.warn(message);
            ok = false;
        }
    }
    Ok(crate::exit(ok))
}

/// Copies one pod's log to `out`, a line at a time, prefixed `[pod] `.
async fn stream_pod(
    pods: Api<Pod>,
    name: String,
    params: LogParams,
    out: Printer,
) -> Result<(), String> {
    let reader = pods
        .log_stream(&name, &params)
        .await
        .map_err(|e| format!("cannot read the logs of pod {name}: {}", CliError::from(e)))?;
    let mut lines = reader.lines();
    while let Some(line) = lines.next().await {
        match line {
            Ok(line) => out.line(format!("[{name}] {line}")),
            Err(e) => return Err(format!("log of pod {name} broke off: {e}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec};

    #[test]
    fn container_defaults_to_the_app_container_among_several() {
        let pod = |names: &[&str]| Pod {
            spec: Some(PodSpec {
                containers: names
                    .iter()
                    .map(|n| Container {
                        name: n.to_string(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(container_for(&pod(&["app"]), None, "app"), None);
        assert_eq!(
            container_for(&pod(&["proxy", "app"]), None, "app").as_deref(),
            Some("app")
        );
        assert_eq!(
            container_for(&pod(&["app"]), Some("x"), "app").as_deref(),
            Some("x")
        );
    }
}
