//! `berth`: the command-line entry point. Thin by design: each subcommand wires library crates
//! together.

mod cluster;
mod demo;
mod platform_cmd;
mod scheduler_cmd;
mod sync_cmd;
mod traffic;
mod up;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "berth",
    version,
    about = "Berth: a container cloud platform in one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the embedded Kubernetes-compatible cluster (API server and controllers).
    Up(up::UpArgs),
    /// Ask the scheduler why a pod went where it went.
    Scheduler(scheduler_cmd::SchedulerArgs),
    /// Write nginx `upstream` blocks from Services' ready endpoints in one or more clusters,
    /// test them with `nginx -t` and reload nginx whenever they change.
    SyncUpstreams(sync_cmd::SyncUpstreamsArgs),
    /// Start the embedded cluster and deploy the apps in examples/ (the demo).
    Demo(demo::DemoArgs),
    /// Install (or update) the App and CronApp CRDs in a cluster.
    Install(platform_cmd::InstallArgs),
    /// Run the platform operator against a cluster (e.g. a real Kubernetes one).
    Operator(platform_cmd::OperatorArgs),
    /// Print the JSON Schema of spec files (for editors: yaml-language-server).
    Schema,
    #[command(flatten)]
    Platform(berth_cli::Command),
}

fn main() -> anyhow::Result<std::process::ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BERTH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let ok = std::process::ExitCode::SUCCESS;
    match cli.command {
        Command::Up(args) => up::run(args).map(|()| ok),
        Command::Scheduler(args) => scheduler_cmd::run(args).map(|()| ok),
        Command::SyncUpstreams(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(sync_cmd::run(args)))
            .map(|()| ok),
        Command::Demo(args) => demo::run(args).map(|()| ok),
        Command::Install(args) => platform_cmd::install(args).map(|()| ok),
        Command::Operator(args) => platform_cmd::operator(args).map(|()| ok),
        Command::Schema => {
            let schema = berth_spec::schema::spec_file_schema();
            println!("{}", serde_json::to_string_pretty(&schema)?);
            Ok(ok)
        }
        Command::Platform(cmd) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(berth_cli::run(cmd))
            .map_err(|e| anyhow::anyhow!("{e}")),
    }
}
