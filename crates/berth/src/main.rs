//! `berth`: the command-line entry point. Thin by design: each subcommand wires library crates
//! together.

mod cluster;
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
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BERTH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Up(args) => up::run(args),
        Command::Scheduler(args) => scheduler_cmd::run(args),
        Command::SyncUpstreams(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(sync_cmd::run(args))),
    }
}
