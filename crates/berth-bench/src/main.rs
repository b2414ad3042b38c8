//! `berth-bench`: measures Berth's hot paths and prints the figures. It asserts nothing and is
//! never run as a test. Each subcommand is one benchmark suite:
//!
//! * `api`: the API server and its store (creates/s, latency at a fixed rate, large lists, watch
//!   fan-out, memory), with etcd measured in the same run for comparison.
//! * `kubectl`: `kubectl apply -f` of 500 objects, strategic merge and server-side apply patches.
//! * `workloads`: idle cost, pod startup, scheduler throughput, CronJob lag and missed runs.
//! * `traffic`: the ingress router against nginx with wrk, and requests lost in a rollout.
//! * `platform`: render + lint of 500 specs, deploy and rollback times, operator memory.
//!
//! Everything runs on loopback, is bounded in count and time, and the servers it starts are
//! stopped when it ends, also on error or Ctrl-C.

mod api;
mod berth;
mod daemon;
mod etcd;
mod kubectl;
mod kv;
mod load;
mod platform;
mod report;
mod traffic;
mod workloads;

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use report::Report;

#[derive(Parser)]
#[command(
    name = "berth-bench",
    version,
    about = "Benchmarks for Berth's hot paths; prints figures, asserts nothing"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// API server and store: durable creates/s at 1/8/64 clients, create latency at 1,000/s,
    /// listing 10,000 pods, watch delivery to 100 watchers, memory, and etcd for comparison.
    Api(api::ApiArgs),
    /// kubectl fidelity paths: `kubectl apply -f` of a 500-object manifest (wall time), and
    /// strategic-merge and server-side-apply patch latency.
    Kubectl(kubectl::KubectlArgs),
    /// Workloads: idle cost, pod startup latency with real processes, scheduler throughput on
    /// simulated nodes, CronJob lag and missed/duplicate runs.
    Workloads(workloads::WorkloadsArgs),
    /// Traffic: requests/s and p99 through the ingress router and through nginx as a reverse
    /// proxy (same backend, same run, wrk), and failed requests during a rolling update.
    Traffic(traffic::TrafficArgs),
    /// Platform: render + lint of 500 spec files, deploy-to-available and rollback-to-available
    /// of a 10-replica app, memory of a standalone operator managing 500 Apps.
    Platform(platform::PlatformArgs),
}

/// Options every subcommand takes.
#[derive(clap::Args, Debug)]
pub struct CommonArgs {
    /// Fewer requests and shorter phases (a smoke run; figures are noisier).
    #[arg(long)]
    pub quick: bool,
    /// Also write every figure, labelled with its unit, as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Where temporary data dirs go (on the disk being measured) [default: $TMPDIR or /tmp].
    #[arg(long, value_name = "DIR")]
    pub tmp_dir: Option<PathBuf>,
    /// Keep the servers' data dirs and logs instead of deleting them.
    #[arg(long)]
    pub keep: bool,
}

impl CommonArgs {
    pub fn tmp_root(&self) -> PathBuf {
        self.tmp_dir.clone().unwrap_or_else(std::env::temp_dir)
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // On Ctrl-C the benchmark future is dropped, and with it the guards of the servers it started.
    rt.block_on(async {
        tokio::select! {
            r = run(cli) => r,
            _ = tokio::signal::ctrl_c() => bail!("interrupted"),
        }
    })
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut report = Report::default();
    report.meta("tool", format!("berth-bench {}", env!("CARGO_PKG_VERSION")));
    report.meta("date", date());
    let machine = daemon::machine();
    println!(
        "machine: {} cores, {} GiB, load average at start {} (other load skews every figure)",
        machine["cores"],
        machine["memory_gib"],
        machine["loadavg_at_start"].as_str().unwrap_or("?")
    );
    report.meta("machine", machine);
    let (result, common) = match &cli.command {
        Command::Api(args) => (api::run(args, &mut report).await, &args.common),
        Command::Kubectl(args) => (kubectl::run(args, &mut report).await, &args.common),
        Command::Workloads(args) => (workloads::run(args, &mut report).await, &args.common),
        Command::Traffic(args) => (traffic::run(args, &mut report).await, &args.common),
        Command::Platform(args) => (platform::run(args, &mut report).await, &args.common),
    };
    report.meta("completed", result.is_ok());
    if let Some(path) = &common.json {
        report.write_json(path)?;
        println!("\nfigures written to {}", path.display());
    }
    result
}

/// The current UTC time as `date -u` prints it (ISO 8601), or Unix seconds if that fails.
fn date() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            format!("unix:{secs}")
        })
}
