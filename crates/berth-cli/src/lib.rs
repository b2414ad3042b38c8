//! The platform commands of the `berth` CLI: deploy, status, history, rollback, scale, restart,
//! logs, render, lint, debug, isolate and cron.
//!
//! The binary flattens [`Command`] into its clap parser and calls [`run`]. Every command speaks
//! only the Kubernetes API (kube-rs), so it works against Berth's embedded cluster or any
//! Kubernetes with the App/CronApp CRDs and the operator. [`run_with_client`] runs a command
//! over a given client (tests, `berth demo`); [`deploy_docs`] deploys loaded specs without
//! clap.

mod client;
mod common;
mod cron;
mod deploy;
mod history;
mod isolate;
mod logs;
mod offline;
mod ops;
pub mod output;
mod rollback;
mod status;
mod wait;

use std::process::ExitCode;

pub use client::{ClientArgs, Connection};
pub use common::CLI_FIELD_MANAGER;
pub use cron::{CronCommand, CronListArgs, CronRunsArgs, CronTriggerArgs, trigger_job};
pub use deploy::{DeployArgs, DeployOptions, DeployOutcome, deploy_docs};
pub use history::HistoryArgs;
pub use isolate::{ISOLATED_AT_ANNOTATION, IsolateArgs};
pub use logs::LogsArgs;
pub use offline::{LintArgs, RenderArgs, render_docs};
pub use ops::{DebugArgs, RESTARTED_AT_ANNOTATION, RestartArgs, ScaleArgs};
pub use output::{Captured, OutputFormat, Printer};
pub use rollback::{RollbackArgs, rollback_target};
pub use status::StatusArgs;
pub use wait::{WaitOutcome, describe_app};

/// `-o/--output`, on every command.
#[derive(clap::Args, Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputArgs {
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,
}

/// The platform subcommands.
#[derive(clap::Subcommand, Clone, Debug)]
pub enum Command {
    /// Deploy App and CronApp specs and wait until they are available.
    Deploy(DeployArgs),
    /// Show Apps and CronApps, or one App in detail (pods, events).
    Status(StatusArgs),
    /// List an App's revisions.
    History(HistoryArgs),
    /// Roll an App back to an earlier revision.
    Rollback(RollbackArgs),
    /// Set an App's number of pods.
    Scale(ScaleArgs),
    /// Restart an App's pods (a rolling restart).
    Restart(RestartArgs),
    /// Print the logs of an App's (or CronApp's) pods.
    Logs(LogsArgs),
    /// Render specs into Kubernetes objects, offline.
    Render(RenderArgs),
    /// Check spec files.
    Lint(LintArgs),
    /// Turn an App's debug mode on (no probes, no lifecycle hooks) or off.
    Debug(DebugArgs),
    /// Take a pod out of service (its replacement is created), or delete an isolated pod.
    Isolate(IsolateArgs),
    /// Scheduled jobs.
    #[command(subcommand)]
    Cron(CronCommand),
}

impl Command {
    /// The client flags of a command that talks to a cluster.
    pub fn client_args(&self) -> Option<&ClientArgs> {
        match self {
            Command::Deploy(a) => Some(&a.client),
            Command::Status(a) => Some(&a.client),
            Command::History(a) => Some(&a.client),
            Command::Rollback(a) => Some(&a.client),
            Command::Scale(a) => Some(&a.client),
            Command::Restart(a) => Some(&a.client),
            Command::Logs(a) => Some(&a.client),
            Command::Debug(a) => Some(&a.client),
            Command::Isolate(a) => Some(&a.client),
            Command::Cron(c) => Some(c.client_args()),
            Command::Render(_) | Command::Lint(_) => None,
        }
    }

    pub fn output_format(&self) -> OutputFormat {
        match self {
            Command::Deploy(a) => a.output.output,
            Command::Status(a) => a.output.output,
            Command::History(a) => a.output.output,
            Command::Rollback(a) => a.output.output,
            Command::Scale(a) => a.output.output,
            Command::Restart(a) => a.output.output,
            Command::Logs(a) => a.output.output,
            Command::Render(a) => a.output.output,
            Command::Lint(a) => a.output.output,
            Command::Debug(a) => a.output.output,
            Command::Isolate(a) => a.output.output,
            Command::Cron(c) => c.output_format(),
        }
    }
}

/// Why a command failed. The binary prints it (`error: ...`) and exits 1.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// An object the command needs does not exist.
    #[error("{kind} {name:?} not found in namespace {namespace:?}")]
    NotFound {
        kind: String,
        name: String,
        namespace: String,
    },
    /// The API server refused a request; its message.
    #[error("{0}")]
    Api(String),
    /// The request did not reach the API server, or its answer was unreadable.
    #[error("{0}")]
    Kube(kube::Error),
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Spec(#[from] berth_spec::load::SpecError),
    #[error(transparent)]
    Render(#[from] berth_render::RenderError),
    /// The command refuses what was asked (and says what to do instead).
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Serialize(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl From<kube::Error> for CliError {
    fn from(e: kube::Error) -> Self {
        match e {
            kube::Error::Api(status) => CliError::Api(api_message(&status)),
            other => CliError::Kube(other),
        }
    }
}

/// The API server's message, as kubectl prints it: `Error from server (Reason): message`.
fn api_message(status: &kube::core::Status) -> String {
    let reason = if status.reason.is_empty() {
        format!("{}", status.code)
    } else {
        status.reason.clone()
    };
    if status.message.is_empty() {
        format!("Error from server ({reason})")
    } else {
        format!("Error from server ({reason}): {}", status.message)
    }
}

impl CliError {
    pub fn not_found(kind: &str, name: &str, namespace: &str) -> CliError {
        CliError::NotFound {
            kind: kind.to_string(),
            name: name.to_string(),
            namespace: namespace.to_string(),
        }
    }

    /// An apply failed: a missing CRD gets a hint.
    pub(crate) fn apply(kind: &str, name: &str, namespace: &str, e: kube::Error) -> CliError {
        match e {
            kube::Error::Api(s) if s.code == 404 => CliError::Api(format!(
                "cannot apply {kind} {name:?} in namespace {namespace:?}: {} (are the berth.dev CRDs installed and the namespace created?)",
                api_message(&s)
            )),
            other => {
                let e: CliError = other.into();
                CliError::Api(format!("cannot apply {kind} {name:?}: {e}"))
            }
        }
    }
}

pub(crate) fn exit(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs a command: connects with its client flags (render and lint stay offline) and prints to
/// stdout/stderr.
pub async fn run(cmd: Command) -> Result<ExitCode, CliError> {
    let out = Printer::stdout(cmd.output_format());
    match &cmd {
        Command::Render(args) => return offline::render(args, &out),
        Command::Lint(args) => return offline::lint(args, &out),
        _ => {}
    }
    let client_args = cmd.client_args().cloned().unwrap_or_default();
    let conn = Connection::connect(&client_args).await?;
    run_with_client(cmd, &conn, &out).await
}

/// Runs a command over an existing connection, printing to `out` (whose format is used, not
/// the command's `-o`: callers build the printer from [`Command::output_format`] or their own
/// choice).
pub async fn run_with_client(
    cmd: Command,
    conn: &Connection,
    out: &Printer,
) -> Result<ExitCode, CliError> {
    match cmd {
        Command::Deploy(args) => deploy::run(args, conn, out).await,
        Command::Status(args) => status::run(args, conn, out).await,
        Command::History(args) => history::run(args, conn, out).await,
        Command::Rollback(args) => rollback::run(args, conn, out).await,
        Command::Scale(args) => ops::scale(args, conn, out).await,
        Command::Restart(args) => ops::restart(args, conn, out).await,
        Command::Logs(args) => logs::run(args, conn, out).await,
        Command::Render(args) => offline::render(&args, out),
        Command::Lint(args) => offline::lint(&args, out),
        Command::Debug(args) => ops::debug(args, conn, out).await,
        Command::Isolate(args) => isolate::run(args, conn, out).await,
        Command::Cron(c) => cron::run(c, conn, out).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser, Debug)]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("berth").chain(args.iter().copied())).map(|c| c.command)
    }

    #[test]
    fn parses_deploy_with_client_and_output_flags() {
        let cmd = parse(&[
            "deploy",
            "-f",
            "a.yaml",
            "dir",
            "--env",
            "prod",
            "-m",
            "hi",
            "--no-wait",
            "--timeout",
            "2m",
            "-n",
            "team",
            "--context",
            "c",
            "--kubeconfig",
            "/k",
            "-o",
            "json",
        ])
        .expect("parse");
        let Command::Deploy(d) = &cmd else {
            panic!("not deploy: {cmd:?}")
        };
        assert_eq!(d.paths, [std::path::PathBuf::from("a.yaml"), "dir".into()]);
        assert_eq!(d.environment.as_deref(), Some("prod"));
        assert_eq!(d.message.as_deref(), Some("hi"));
        assert!(d.no_wait);
        assert_eq!(d.timeout, std::time::Duration::from_secs(120));
        assert_eq!(d.client.namespace.as_deref(), Some("team"));
        assert_eq!(d.client.context.as_deref(), Some("c"));
        assert_eq!(cmd.output_format(), OutputFormat::Json);
        assert!(parse(&["deploy"]).is_err(), "-f is required");
        assert!(parse(&["deploy", "-f", "x", "--timeout", "soon"]).is_err());
    }

    #[test]
    fn parses_the_other_commands() {
        assert!(matches!(
            parse(&["status", "-A"]).expect("status"),
            Command::Status(StatusArgs {
                all_namespaces: true,
                app: None,
                ..
            })
        ));
        let Command::Rollback(r) = parse(&["rollback", "web", "--to-revision", "3"]).expect("rb")
        else {
            panic!("rollback")
        };
        assert_eq!(r.to_revision, Some(3));
        let Command::Scale(s) = parse(&["scale", "web", "4"]).expect("scale") else {
            panic!("scale")
        };
        assert_eq!((s.app.as_str(), s.replicas), ("web", 4));
        assert!(parse(&["scale", "web", "-1"]).is_err());
        let Command::Logs(l) = parse(&[
            "logs", "web", "-f", "--since", "10m", "--tail", "5", "-c", "app",
        ])
        .expect("logs") else {
            panic!("logs")
        };
        assert!(l.follow);
        assert_eq!(l.since, Some(std::time::Duration::from_secs(600)));
        assert_eq!(l.tail, Some(5));
        let Command::Render(r) = parse(&[
            "render",
            "-f",
            "x.yaml",
            "--namespace",
            "ns",
            "--cluster",
            "c1",
            "-o",
            "json",
        ])
        .expect("render") else {
            panic!("render")
        };
        assert_eq!(r.namespace.as_deref(), Some("ns"));
        assert_eq!(r.cluster, "c1");
        assert!(matches!(
            parse(&["debug", "web", "--off"]).expect("debug"),
            Command::Debug(DebugArgs { off: true, .. })
        ));
        assert!(matches!(
            parse(&["isolate", "web-abc", "--release"]).expect("isolate"),
            Command::Isolate(IsolateArgs { release: true, .. })
        ));
        assert!(matches!(
            parse(&["cron", "trigger", "report", "-n", "x"]).expect("cron"),
            Command::Cron(CronCommand::Trigger(_))
        ));
        assert!(parse(&["cron", "list", "-o", "yaml"]).is_ok());
        assert!(parse(&["lint", "a.yaml", "b"]).is_ok());
        assert!(parse(&["history", "web"]).is_ok());
        assert!(parse(&["restart", "web"]).is_ok());
    }

    #[test]
    fn api_errors_read_like_kubectl() {
        let status = kube::core::Status::failure("apps.berth.dev \"x\" is forbidden", "Forbidden")
            .with_code(403);
        let e: CliError = kube::Error::Api(status.boxed()).into();
        assert_eq!(
            e.to_string(),
            "Error from server (Forbidden): apps.berth.dev \"x\" is forbidden"
        );
        assert_eq!(
            CliError::not_found("App", "x", "y").to_string(),
            "App \"x\" not found in namespace \"y\""
        );
    }
}
