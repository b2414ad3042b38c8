//! `berth install` and `berth operator`: the platform against any Kubernetes cluster through a
//! kubeconfig (inside `berth up` the operator runs in-process instead).

use anyhow::Context;
use clap::Args;

#[derive(Args, Debug)]
pub struct InstallArgs {
    #[command(flatten)]
    pub client: berth_cli::ClientArgs,
}

#[derive(Args, Debug)]
pub struct OperatorArgs {
    #[command(flatten)]
    pub client: berth_cli::ClientArgs,
    /// Cluster name put in the `cluster` label of everything the operator deploys.
    #[arg(long, default_value = "berth")]
    pub cluster_name: String,
    /// Watch only this namespace (default: all namespaces).
    #[arg(long)]
    pub watch_namespace: Option<String>,
    /// Do not install or update the CRDs at start (when the operator may not write CRDs).
    #[arg(long)]
    pub skip_crds: bool,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub fn install(args: InstallArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let client = berth_cli::Connection::connect(&args.client).await?.client;
        berth_operator::install_crds(&client)
            .await
            .context("cannot install the CRDs")?;
        println!("customresourcedefinition.apiextensions.k8s.io/apps.berth.dev established");
        println!("customresourcedefinition.apiextensions.k8s.io/cronapps.berth.dev established");
        Ok(())
    })
}

pub fn operator(args: OperatorArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let client = berth_cli::Connection::connect(&args.client).await?.client;
        if !args.skip_crds {
            berth_operator::install_crds(&client)
                .await
                .context("cannot install the CRDs (use `--skip-crds` if they are installed)")?;
        }
        let config = berth_operator::OperatorConfig {
            cluster: args.cluster_name,
            namespace: args.watch_namespace,
        };
        tracing::info!("operator running; stop with SIGTERM or Ctrl-C");
        berth_operator::run(client, config, crate::up::wait_for_signal())
            .await
            .context("the operator stopped")
    })
}
