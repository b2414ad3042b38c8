//! `berth scale`, `berth debug`, `berth restart`: one-field changes to a running App.

use std::process::ExitCode;
use std::time::Duration;

use berth_spec::App;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch};
use serde_json::{Value, json};

use crate::common::{get_app, is_not_found, merge_patch_app, now_rfc3339, patch_params};
use crate::output::{Printer, parse_duration};
use crate::wait::{Progress, report, wait_deployment, wait_for};
use crate::{CliError, ClientArgs, Connection, OutputArgs};

/// The pod template annotation `kubectl rollout restart` sets.
pub const RESTARTED_AT_ANNOTATION: &str = "kubectl.kubernetes.io/restartedAt";

#[derive(clap::Args, Clone, Debug)]
pub struct ScaleArgs {
    pub app: String,
    /// Number of pods.
    #[arg(value_parser = clap::value_parser!(i32).range(0..))]
    pub replicas: i32,
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(clap::Args, Clone, Debug)]
pub struct DebugArgs {
    pub app: String,
    /// Turn debug mode off (probes and lifecycle hooks back).
    #[arg(long)]
    pub off: bool,
    /// Return after patching, without waiting for the rollout.
    #[arg(long)]
    pub no_wait: bool,
    #[arg(long, default_value = "300s", value_parser = parse_duration)]
    pub timeout: Duration,
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(clap::Args, Clone, Debug)]
pub struct RestartArgs {
    pub app: String,
    /// Return after patching, without waiting for the rollout.
    #[arg(long)]
    pub no_wait: bool,
    #[arg(long, default_value = "300s", value_parser = parse_duration)]
    pub timeout: Duration,
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The merge patch that sets an App's pod count, or why it is refused. When the App's
/// environment overrides `replicas`, that override is what counts, so that is what is patched.
pub(crate) fn scale_patch(app: &App, replicas: i32) -> Result<Value, String> {
    let name = app.metadata.name.as_deref().unwrap_or_default();
    let resolved = berth_spec::resolve_app(&app.spec).unwrap_or_else(|_| app.spec.clone());
    if let Some(a) = &resolved.autoscaling {
        return Err(format!(
            "App {name:?} autoscales between {} and {} replicas; change spec.autoscaling (minReplicas/maxReplicas) instead",
            a.min_replicas, a.max_replicas
        ));
    }
    let env_override = app.spec.environment.as_ref().filter(|env| {
        app.spec
            .environments
            .get(*env)
            .is_some_and(|o| o.replicas.is_some())
    });
    Ok(match env_override {
        Some(env) => json!({"spec": {"environments": {env: {"replicas": replicas}}}}),
        None => json!({"spec": {"replicas": replicas}}),
    })
}

pub async fn scale(
    args: ScaleArgs,
    conn: &Connection,
    out: &Printer,
) -> Result<ExitCode, CliError> {
    let namespace = conn.namespace(&args.client);
    let app = get_app(&conn.client, &namespace, &args.app).await?;
    let patch = scale_patch(&app, args.replicas).map_err(CliError::Usage)?;
    let patched = merge_patch_app(&conn.client, &namespace, &args.app, &patch).await?;
    if out.is_human() {
        out.line(format!("{} scaled to {} replicas", args.app, args.replicas));
    } else {
        out.structured(&patched)?;
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn debug(
    args: DebugArgs,
    conn: &Connection,
    out: &Printer,
) -> Result<ExitCode, CliError> {
    let namespace = conn.namespace(&args.client);
    let app = get_app(&conn.client, &namespace, &args.app).await?;
    let on = !args.off;
    if app.spec.debug == on {
        out.progress(format!(
            "{}: debug mode is already {}",
            args.app,
            if on { "on" } else { "off" }
        ));
    }
    // Off removes the field rather than writing `false`, as a spec without it reads.
    let patch = json!({"spec": {"debug": if on { json!(true) } else { Value::Null }}});
    let patched = merge_patch_app(&conn.client, &namespace, &args.app, &patch).await?;
    let mut ok = true;
    let mut last = patched.clone();
    if !args.no_wait {
        let progress = Progress::new(out);
        let line = progress.line();
        let generation = patched.metadata.generation.unwrap_or(0);
        let outcome = wait_for::<App>(
            &conn.client,
            &namespace,
            &args.app,
            generation,
            args.timeout,
            &line,
        )
        .await?;
        line.finish();
        ok = report(out, "App", &args.app, &outcome, args.timeout);
        if let Some(app) = outcome.object() {
            last = app.clone();
        }
    }
    if out.is_human() {
        if on {
            out.line(format!(
                "{name}: debug mode on: probes and lifecycle hooks removed; run `berth debug {name} --off` to restore",
                name = args.app
            ));
        } else {
            out.line(format!(
                "{}: debug mode off: probes and lifecycle hooks restored",
                args.app
            ));
        }
    } else {
        out.structured(&last)?;
    }
    Ok(crate::exit(ok))
}

/// The strategic merge patch `kubectl rollout restart` sends.
pub(crate) fn restart_patch(now: &str) -> Value {
    json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT_ANNOTATION: now}}}}})
}

pub async fn restart(
    args: RestartArgs,
    conn: &Connection,
    out: &Printer,
) -> Result<ExitCode, CliError> {
    let namespace = conn.namespace(&args.client);
    get_app(&conn.client, &namespace, &args.app).await?;
    let deployments: Api<Deployment> = Api::namespaced(conn.client.clone(), &namespace);
    let patch = restart_patch(&now_rfc3339());
    let patched = match deployments
        .patch(&args.app, &patch_params(), &Patch::Strategic(&patch))
        .await
    {
        Ok(d) => d,
        Err(e) if is_not_found(&e) => {
            return Err(CliError::Usage(format!(
                "App {:?} has no Deployment yet (has the operator reconciled it? see `berth status {}`)",
                args.app, args.app
            )));
        }
        Err(e) => return Err(e.into()),
    };
    out.progress(format!("{}: restarting", args.app));
    let mut ok = true;
    if !args.no_wait {
        let progress = Progress::new(out);
        let line = progress.line();
        ok = wait_deployment(&conn.client, &namespace, &args.app, args.timeout, &line).await?;
        line.finish();
        if ok {
            out.progress(format!("{}: restarted", args.app));
        } else {
            out.progress(format!(
                "{}: timed out waiting for the restart to roll out",
                args.app
            ));
        }
    }
    if !out.is_human() {
        out.structured(&patched)?;
    }
    Ok(crate::exit(ok))
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_spec::{AppSpec, Autoscaling, EnvironmentOverride};

    #[test]
    fn scale_patches_the_field_that_counts() {
        let mut app = App::new("web", AppSpec::default());
        assert_eq!(
            scale_patch(&app, 3).expect("patch"),
            json!({"spec": {"replicas": 3}})
        );
        app.spec.environment = Some("prod".into());
        app.spec.environments.insert(
            "prod".into(),
            EnvironmentOverride {
                replicas: Some(5),
                ..Default::default()
            },
        );
        assert_eq!(
            scale_patch(&app, 3).expect("patch"),
            json!({"spec": {"environments": {"prod": {"replicas": 3}}}})
        );
        app.spec
            .environments
            .get_mut("prod")
            .expect("prod")
            .autoscaling = Some(Autoscaling {
            min_replicas: 2,
            max_replicas: 9,
            cpu_percent: None,
        });
        let err = scale_patch(&app, 3).expect_err("autoscaled");
        assert!(err.contains("between 2 and 9"), "{err}");
    }

    #[test]
    fn restart_patch_is_kubectls() {
        assert_eq!(
            restart_patch("2026-01-01T00:00:00Z"),
            json!({"spec": {"template": {"metadata": {"annotations": {
                "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}}}}})
        );
    }
}
