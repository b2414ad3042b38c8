//! `berth sync-upstreams`: writes nginx `upstream` blocks from the EndpointSlices of selected
//! Services in one or more clusters (any Kubernetes, through kubeconfigs), tests and reloads
//! nginx when they change. `--once` syncs once and exits non-zero if any cluster failed.

use std::path::PathBuf;

use anyhow::{Context, bail};
use berth_upstream_sync::{
    ClusterConfig, ClusterSource, NginxConfig, ServiceSelector, SyncConfig, UpstreamSync,
};
use clap::Args;

/// What to sync and how to drive nginx; shared by `sync-upstreams` and in-process use.
#[derive(Args, Debug, Clone)]
pub struct UpstreamOptions {
    /// A Service to sync, NAMESPACE/NAME[:PORT] (PORT: a port name or the Service port
    /// number; default: every TCP port). Repeatable.
    #[arg(long = "service", value_name = "NS/NAME[:PORT]", required = true)]
    pub services: Vec<ServiceSelector>,
    /// The file to write (include it in nginx's `http` block).
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
    /// The nginx binary.
    #[arg(long, value_name = "BIN", default_value = "nginx")]
    pub nginx: PathBuf,
    /// An argument for every nginx call (`-t`, `-s reload`), e.g. `--nginx-arg -c --nginx-arg
    /// /etc/nginx/nginx.conf`; an option and its value in one (`"-c /etc/nginx/nginx.conf"`)
    /// are split in two. Repeatable.
    #[arg(long = "nginx-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub nginx_args: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct SyncUpstreamsArgs {
    /// Kubeconfig file(s), comma-separated or repeated: one cluster each, named after its
    /// current context (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "PATH", value_delimiter = ',')]
    pub kubeconfig: Vec<PathBuf>,
    /// A named cluster, NAME=KUBECONFIG[@CONTEXT]. Repeatable.
    #[arg(long = "cluster", value_name = "NAME=KUBECONFIG[@CONTEXT]")]
    pub clusters: Vec<String>,
    /// Sync once and exit (non-zero if any cluster failed; the others are still written).
    #[arg(long)]
    pub once: bool,
    #[command(flatten)]
    pub options: UpstreamOptions,
}

pub async fn run(args: SyncUpstreamsArgs) -> anyhow::Result<()> {
    let clusters = clusters(&args).await?;
    let sync = UpstreamSync::new(sync_config(clusters, &args.options))?;
    if args.once {
        let report = sync.sync_once().await?;
        tracing::info!(outcome = ?report.outcome, output = %sync.output().display(), "synced once");
        let failed: Vec<String> = report
            .failed()
            .map(|c| format!("{}: {:?}", c.name, c.state))
            .collect();
        if !failed.is_empty() {
            bail!("cluster(s) failed: {}", failed.join("; "));
        }
        return Ok(());
    }
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        let _ = stop.send(true);
    });
    sync.run(shutdown).await;
    Ok(())
}

/// A sync of the cluster behind `client` (e.g. `berth up`'s in-process client), named
/// `cluster_name` in the file; call `.run(shutdown)` on it.
pub fn in_process(
    client: kube::Client,
    cluster_name: &str,
    options: &UpstreamOptions,
) -> anyhow::Result<UpstreamSync> {
    let clusters = vec![ClusterConfig::from_client(cluster_name, client)];
    Ok(UpstreamSync::new(sync_config(clusters, options))?)
}

fn sync_config(clusters: Vec<ClusterConfig>, options: &UpstreamOptions) -> SyncConfig {
    let mut config = SyncConfig::new(clusters, options.services.clone(), options.output.clone());
    config.nginx = NginxConfig {
        binary: options.nginx.clone(),
        args: split_nginx_args(&options.nginx_args),
        reload_command: None,
    };
    config
}

/// `-c /etc/nginx/nginx.conf` given as one value becomes two arguments.
fn split_nginx_args(args: &[String]) -> Vec<String> {
    args.iter()
        .flat_map(|a| match a.split_once(' ') {
            Some((opt, value)) if opt.starts_with('-') && !opt.is_empty() => {
                vec![opt.to_string(), value.trim_start().to_string()]
            }
            _ => vec![a.clone()],
        })
        .collect()
}

/// The clusters of the command line; without any, the default kubeconfig's current context.
async fn clusters(args: &SyncUpstreamsArgs) -> anyhow::Result<Vec<ClusterConfig>> {
    let mut out = Vec::new();
    for path in &args.kubeconfig {
        // Named after its current context; an unreadable file still makes a cluster (named
        // after the path) that fails on its own, like an unreachable one.
        let name = kube::config::Kubeconfig::read_from(path)
            .ok()
            .and_then(|k| k.current_context)
            .unwrap_or_else(|| path.display().to_string());
        out.push(ClusterConfig::from_kubeconfig(name, path, None));
    }
    for spec in &args.clusters {
        out.push(parse_cluster(spec)?);
    }
    if out.is_empty() {
        let kubeconfig = kube::config::Kubeconfig::from_env()
            .context("cannot read $KUBECONFIG")?
            .map(Ok)
            .unwrap_or_else(kube::config::Kubeconfig::read)
            .context("no kubeconfig (pass --kubeconfig or --cluster, or set KUBECONFIG)")?;
        let name = kubeconfig
            .current_context
            .clone()
            .context("the kubeconfig has no current context")?;
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
            .await
            .context("invalid kubeconfig")?;
        let client = kube::Client::try_from(config).context("cannot build a client")?;
        out.push(ClusterConfig {
            name,
            source: ClusterSource::Client(client),
        });
    }
    Ok(out)
}

/// `NAME=KUBECONFIG[@CONTEXT]`.
fn parse_cluster(spec: &str) -> anyhow::Result<ClusterConfig> {
    let Some((name, rest)) = spec.split_once('=') else {
        bail!("--cluster {spec:?}: expected NAME=KUBECONFIG[@CONTEXT]");
    };
    if name.is_empty() || rest.is_empty() {
        bail!("--cluster {spec:?}: expected NAME=KUBECONFIG[@CONTEXT]");
    }
    let (path, context) = match rest.rsplit_once('@') {
        Some((path, context)) if !path.is_empty() && !context.is_empty() => {
            (path, Some(context.to_string()))
        }
        _ => (rest, None),
    };
    Ok(ClusterConfig::from_kubeconfig(name, path, context))
}

async fn wait_for_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_clusters_and_nginx_args() {
        let c = parse_cluster("east=/etc/east.yaml@admin").unwrap();
        assert_eq!(c.name, "east");
        let ClusterSource::Kubeconfig { path, context } = c.source else {
            panic!("kubeconfig expected");
        };
        assert_eq!(path, PathBuf::from("/etc/east.yaml"));
        assert_eq!(context.as_deref(), Some("admin"));
        let c = parse_cluster("west=/etc/west.yaml").unwrap();
        assert!(matches!(
            c.source,
            ClusterSource::Kubeconfig { context: None, .. }
        ));
        assert!(parse_cluster("/etc/west.yaml").is_err());
        assert!(parse_cluster("=x").is_err());
        assert_eq!(
            split_nginx_args(&["-c /etc/nginx.conf".into(), "-p".into(), "/srv".into()]),
            ["-c", "/etc/nginx.conf", "-p", "/srv"]
        );
    }
}
