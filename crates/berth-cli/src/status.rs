//! `berth status`: the Apps and CronApps of a namespace, or one App in detail.

use std::collections::BTreeSet;
use std::process::ExitCode;

use berth_spec::meta::LABEL_ISOLATED;
use berth_spec::{App, CronApp};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams};

use crate::common::{Owned, app_image, get_app_or_cron, owner_selector, spec_image};
use crate::output::{Printer, age, age_of_str, list_of, table};
use crate::{CliError, ClientArgs, Connection, OutputArgs};

#[derive(clap::Args, Clone, Debug)]
pub struct StatusArgs {
    /// An App (or CronApp) to show in detail.
    pub app: Option<String>,
    /// List across all namespaces.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn run(args: StatusArgs, conn: &Connection, out: &Printer) -> Result<ExitCode, CliError> {
    let namespace = conn.namespace(&args.client);
    match &args.app {
        None => list(conn, &namespace, args.all_namespaces, out).await,
        Some(name) => match get_app_or_cron(&conn.client, &namespace, name).await? {
            Owned::App(app) => show_app(conn, &namespace, &app, out).await,
            Owned::Cron(cron) => show_cron(&cron, out),
        },
    }
}

async fn list(
    conn: &Connection,
    namespace: &str,
    all: bool,
    out: &Printer,
) -> Result<ExitCode, CliError> {
    let (apps, crons): (Api<App>, Api<CronApp>) = if all {
        (Api::all(conn.client.clone()), Api::all(conn.client.clone()))
    } else {
        (
            Api::namespaced(conn.client.clone(), namespace),
            Api::namespaced(conn.client.clone(), namespace),
        )
    };
    let apps = apps.list(&ListParams::default()).await?.items;
    let crons = match crons.list(&ListParams::default()).await {
        Ok(l) => l.items,
        // Only the App CRD installed: show what there is.
        Err(kube::Error::Api(s)) if s.code == 404 => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    if !out.is_human() {
        let mut items = Vec::new();
        for a in &apps {
            items.push(serde_json::to_value(a).map_err(|e| CliError::Serialize(e.to_string()))?);
        }
        for c in &crons {
            items.push(serde_json::to_value(c).map_err(|e| CliError::Serialize(e.to_string()))?);
        }
        out.structured(&list_of(items))?;
        return Ok(ExitCode::SUCCESS);
    }
    if apps.is_empty() && crons.is_empty() {
        if all {
            out.line("No Apps or CronApps found.");
        } else {
            out.line(format!(
                "No Apps or CronApps found in {namespace} namespace."
            ));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows: Vec<Vec<String>> = apps.iter().map(app_row).collect();
    rows.extend(crons.iter().map(cron_row));
    let mut headers = vec![
        "NAME", "PROJECT", "PHASE", "REVISION", "READY", "IMAGE", "AGE",
    ];
    if all {
        headers.insert(0, "NAMESPACE");
        let namespaces = apps
            .iter()
            .map(|a| a.metadata.namespace.clone())
            .chain(crons.iter().map(|c| c.metadata.namespace.clone()));
        for (row, ns) in rows.iter_mut().zip(namespaces) {
            row.insert(0, ns.unwrap_or_default());
        }
    }
    out.text(table(&headers, &rows));
    Ok(ExitCode::SUCCESS)
}

fn or_none(s: Option<String>) -> String {
    s.filter(|s| !s.is_empty())
        .unwrap_or_else(|| "<none>".to_string())
}

/// NAME PROJECT PHASE REVISION READY IMAGE AGE of an App.
pub(crate) fn app_row(app: &App) -> Vec<String> {
    let status = app.status.clone().unwrap_or_default();
    vec![
        app.metadata.name.clone().unwrap_or_default(),
        or_none(app.spec.project.clone()),
        status
            .phase
            .map_or("Pending".to_string(), |p| p.as_str().to_string()),
        or_none(status.revision.map(|r| r.to_string())),
        status.ready.clone().unwrap_or_else(|| {
            format!(
                "{}/{}",
                status.ready_replicas.unwrap_or(0),
                status.replicas.unwrap_or(0)
            )
        }),
        app_image(app),
        age(app.metadata.creation_timestamp.as_ref().map(|t| t.0)),
    ]
}

/// The same columns for a CronApp: READY is `cron` (it has no standing pods).
pub(crate) fn cron_row(cron: &CronApp) -> Vec<String> {
    let status = cron.status.clone().unwrap_or_default();
    vec![
        cron.metadata.name.clone().unwrap_or_default(),
        or_none(cron.spec.project.clone()),
        status
            .phase
            .map_or("Pending".to_string(), |p| p.as_str().to_string()),
        or_none(status.revision.map(|r| r.to_string())),
        "cron".to_string(),
        spec_image(cron.spec.image.as_deref(), cron.spec.runtime.as_deref()),
        age(cron.metadata.creation_timestamp.as_ref().map(|t| t.0)),
    ]
}

async fn show_app(
    conn: &Connection,
    namespace: &str,
    app: &App,
    out: &Printer,
) -> Result<ExitCode, CliError> {
    if !out.is_human() {
        out.structured(app)?;
        return Ok(ExitCode::SUCCESS);
    }
    let name = app.metadata.name.clone().unwrap_or_default();
    let status = app.status.clone().unwrap_or_default();
    let mut lines = vec![
        format!("Name:         {name}"),
        format!("Namespace:    {namespace}"),
        format!("Project:      {}", or_none(app.spec.project.clone())),
        format!("Environment:  {}", or_none(app.spec.environment.clone())),
        format!(
            "Phase:        {}",
            status.phase.map_or("Pending", |p| p.as_str())
        ),
        format!(
            "Revision:     {}",
            or_none(status.revision.map(|r| r.to_string()))
        ),
        format!(
            "Last good:    {}",
            or_none(status.last_good_revision.map(|r| r.to_string()))
        ),
        format!("Image:        {}", app_image(app)),
        format!("Ready:        {}", or_none(status.ready.clone())),
    ];
    if app.spec.debug {
        lines.push("Debug:        on (no probes, no lifecycle hooks)".to_string());
    }
    if let Some(m) = status.message.as_deref().filter(|m| !m.is_empty()) {
        lines.push(format!("Message:      {m}"));
    }
    for line in lines {
        out.line(line);
    }
    if !status.conditions.is_empty() {
        out.line("Conditions:");
        let rows: Vec<Vec<String>> = status
            .conditions
            .iter()
            .map(|c| {
                vec![
                    c.type_.clone(),
                    c.status.clone(),
                    c.reason.clone(),
                    c.message.clone(),
                ]
            })
            .collect();
        out.text(indent(&table(
            &["TYPE", "STATUS", "REASON", "MESSAGE"],
            &rows,
        )));
    }

    let pods: Api<Pod> = Api::namespaced(conn.client.clone(), namespace);
    let mut pods = pods
        .list(&ListParams::default().labels(&owner_selector("App", &name)))
        .await?
        .items;
    pods.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    out.line("Pods:");
    if pods.is_empty() {
        out.line("  <none>");
    } else {
        let rows: Vec<Vec<String>> = pods.iter().map(pod_row).collect();
        out.text(indent(&table(
            &["NAME", "READY", "STATUS", "RESTARTS", "NODE", "AGE", "IP"],
            &rows,
        )));
    }

    // Events of the App, its pods, its Deployment and the Deployment's ReplicaSets.
    let mut involved: BTreeSet<(String, String)> = BTreeSet::new();
    involved.insert(("App".into(), name.clone()));
    involved.insert(("Deployment".into(), name.clone()));
    for p in &pods {
        involved.insert(("Pod".into(), p.metadata.name.clone().unwrap_or_default()));
    }
    let replica_sets: Api<ReplicaSet> = Api::namespaced(conn.client.clone(), namespace);
    if let Ok(list) = replica_sets
        .list(&ListParams::default().labels(&owner_selector("App", &name)))
        .await
    {
        for rs in list.items {
            involved.insert(("ReplicaSet".into(), rs.metadata.name.unwrap_or_default()));
        }
    }
    let events: Api<Event> = Api::namespaced(conn.client.clone(), namespace);
    let mut events: Vec<Event> = events
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|e| {
            involved.contains(&(
                e.involved_object.kind.clone().unwrap_or_default(),
                e.involved_object.name.clone().unwrap_or_default(),
            ))
        })
        .collect();
    events.sort_by_key(event_time);
    let skip = events.len().saturating_sub(10);
    out.line("Events:");
    if events.is_empty() {
        out.line("  <none>");
    } else {
        let rows: Vec<Vec<String>> = events[skip..].iter().map(event_row).collect();
        out.text(indent(&table(
            &["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
            &rows,
        )));
    }
    Ok(ExitCode::SUCCESS)
}

fn show_cron(cron: &CronApp, out: &Printer) -> Result<ExitCode, CliError> {
    if !out.is_human() {
        out.structured(cron)?;
        return Ok(ExitCode::SUCCESS);
    }
    let status = cron.status.clone().unwrap_or_default();
    let mut lines = vec![
        format!(
            "Name:           {}",
            cron.metadata.name.clone().unwrap_or_default()
        ),
        format!("Kind:           CronApp"),
        format!("Schedule:       {}", cron.spec.schedule),
        format!("Time zone:      {}", or_none(cron.spec.time_zone.clone())),
        format!("Suspended:      {}", cron.spec.suspend),
        format!(
            "Phase:          {}",
            status.phase.map_or("Pending", |p| p.as_str())
        ),
        format!(
            "Revision:       {}",
            or_none(status.revision.map(|r| r.to_string()))
        ),
        format!(
            "Image:          {}",
            spec_image(cron.spec.image.as_deref(), cron.spec.runtime.as_deref())
        ),
        format!(
            "Last schedule:  {}",
            age_of_str(status.last_schedule_time.as_deref())
        ),
        format!(
            "Last success:   {}",
            age_of_str(status.last_successful_time.as_deref())
        ),
        format!(
            "Active:         {}",
            if status.active.is_empty() {
                "<none>".to_string()
            } else {
                status.active.join(", ")
            }
        ),
    ];
    if let Some(m) = status.message.as_deref().filter(|m| !m.is_empty()) {
        lines.push(format!("Message:        {m}"));
    }
    for line in lines {
        out.line(line);
    }
    out.line("Runs: berth cron runs NAME");
    Ok(ExitCode::SUCCESS)
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// NAME READY STATUS RESTARTS NODE AGE IP of a pod; isolated pods are marked.
pub(crate) fn pod_row(pod: &Pod) -> Vec<String> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let isolated = pod
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(LABEL_ISOLATED))
        .is_some_and(|v| v == "true");
    let status = pod.status.clone().unwrap_or_default();
    let containers = pod.spec.as_ref().map_or(0, |s| s.containers.len());
    let statuses = status.container_statuses.clone().unwrap_or_default();
    let ready = statuses.iter().filter(|c| c.ready).count();
    let restarts: i32 = statuses.iter().map(|c| c.restart_count).sum();
    vec![
        if isolated {
            format!("{name} (isolated)")
        } else {
            name
        },
        format!("{ready}/{containers}"),
        pod_status(pod),
        restarts.to_string(),
        or_none(pod.spec.as_ref().and_then(|s| s.node_name.clone())),
        age(pod.metadata.creation_timestamp.as_ref().map(|t| t.0)),
        or_none(status.pod_ip.clone()),
    ]
}

/// The STATUS column as kubectl computes it (a subset): Terminating, a container's waiting or
/// terminated reason, the pod's reason, else its phase.
pub(crate) fn pod_status(pod: &Pod) -> String {
    if pod.metadata.deletion_timestamp.is_some() {
        return "Terminating".to_string();
    }
    let status = pod.status.clone().unwrap_or_default();
    let mut reason = status
        .phase
        .clone()
        .unwrap_or_else(|| "Pending".to_string());
    if let Some(r) = status.reason.clone().filter(|r| !r.is_empty()) {
        reason = r;
    }
    for c in status.init_container_statuses.clone().unwrap_or_default() {
        if let Some(state) = &c.state {
            if let Some(w) = &state.waiting
                && let Some(r) = w.reason.clone().filter(|r| r != "PodInitializing")
            {
                return format!("Init:{r}");
            }
            if let Some(t) = &state.terminated
                && t.exit_code != 0
            {
                return format!("Init:{}", t.reason.clone().unwrap_or("Error".into()));
            }
        }
    }
    for c in status.container_statuses.clone().unwrap_or_default() {
        if let Some(state) = &c.state {
            if let Some(w) = &state.waiting
                && let Some(r) = w.reason.clone().filter(|r| !r.is_empty())
            {
                reason = r;
            } else if let Some(t) = &state.terminated {
                reason = t
                    .reason
                    .clone()
                    .unwrap_or_else(|| format!("ExitCode:{}", t.exit_code));
            }
        }
    }
    reason
}

fn event_time(e: &Event) -> Option<Timestamp> {
    e.last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or(e.event_time.as_ref().map(|t| t.0))
        .or(e.first_timestamp.as_ref().map(|t| t.0))
        .or(e.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

fn event_row(e: &Event) -> Vec<String> {
    vec![
        age(event_time(e)),
        e.type_.clone().unwrap_or_default(),
        e.reason.clone().unwrap_or_default(),
        format!(
            "{}/{}",
            e.involved_object
                .kind
                .clone()
                .unwrap_or_default()
                .to_lowercase(),
            e.involved_object.name.clone().unwrap_or_default()
        ),
        e.message.clone().unwrap_or_default().replace('\n', " "),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_spec::{AppPhase, AppSpec, AppStatus};
    use k8s_openapi::api::core::v1::{
        ContainerState, ContainerStateWaiting, ContainerStatus, PodSpec, PodStatus,
    };

    #[test]
    fn app_rows_show_status_and_image_fallbacks() {
        let mut app = App::new(
            "web",
            AppSpec {
                project: Some("shop".into()),
                runtime: Some("python-3.11".into()),
                ..Default::default()
            },
        );
        let row = app_row(&app);
        assert_eq!(
            row[..6],
            [
                "web",
                "shop",
                "Pending",
                "<none>",
                "0/0",
                "python:3.11-slim"
            ]
        );
        app.status = Some(AppStatus {
            phase: Some(AppPhase::Available),
            revision: Some(3),
            ready: Some("2/2".into()),
            image: Some("shop/web:7".into()),
            ..Default::default()
        });
        let row = app_row(&app);
        assert_eq!(
            row[..6],
            ["web", "shop", "Available", "3", "2/2", "shop/web:7"]
        );
    }

    #[test]
    fn pod_rows_mark_isolated_pods_and_waiting_reasons() {
        let mut pod = Pod::default();
        pod.metadata.name = Some("web-1".into());
        pod.metadata.labels = Some([(LABEL_ISOLATED.to_string(), "true".to_string())].into());
        pod.spec = Some(PodSpec {
            containers: vec![Default::default()],
            node_name: Some("n1".into()),
            ..Default::default()
        });
        pod.status = Some(PodStatus {
            phase: Some("Running".into()),
            pod_ip: Some("10.0.0.5".into()),
            container_statuses: Some(vec![ContainerStatus {
                ready: false,
                restart_count: 4,
                state: Some(ContainerState {
                    waiting: Some(ContainerStateWaiting {
                        reason: Some("CrashLoopBackOff".into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        });
        let row = pod_row(&pod);
        assert_eq!(
            row[..5],
            ["web-1 (isolated)", "0/1", "CrashLoopBackOff", "4", "n1"]
        );
        assert_eq!(row[6], "10.0.0.5");
    }
}
