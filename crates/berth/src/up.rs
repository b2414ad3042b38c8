//! `berth up`: runs the embedded cluster on this machine until SIGTERM/SIGINT.

use anyhow::{Context, bail};
use berth_apiserver::{ApiServer, pki};
use berth_store::{SqliteStore, SqliteStoreOptions, Store};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct UpArgs {
    /// Directory for state, credentials and the kubeconfig.
    #[arg(long, env = "BERTH_DATA_DIR", default_value = "berth-data")]
    pub data_dir: PathBuf,
    /// Address of the API server (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:6443")]
    pub api_addr: SocketAddr,
    /// CIDR Service ClusterIPs are allocated from.
    #[arg(long, default_value = "10.96.0.0/12")]
    pub service_cidr: String,
    /// How often watch history is compacted (as kube-apiserver's --etcd-compaction-interval).
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub compaction_interval: Duration,
    /// Name of this machine's Node (default: the hostname).
    #[arg(long)]
    pub node_name: Option<String>,
    /// Pod CIDR of this machine's node: the bridge takes the first address, pods the rest.
    #[arg(long, default_value = "10.244.0.0/24")]
    pub pod_cidr: String,
    /// Run no node agent on this machine (API server, scheduler and controllers only).
    #[arg(long)]
    pub no_node_agent: bool,
    /// Also register this many simulated nodes (pods on them run without processes, like kwok).
    #[arg(long, default_value_t = 0)]
    pub simulated_nodes: usize,
    /// Where the ingress router serves plain HTTP (with the node agent).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub http_addr: SocketAddr,
    /// Where the ingress router serves HTTPS, with certificates from the Ingresses' TLS Secrets.
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub https_addr: SocketAddr,
    /// Host addresses NodePort Services listen on (kube-proxy's --nodeport-addresses);
    /// loopback unless told otherwise.
    #[arg(long, value_delimiter = ',', default_value = "127.0.0.1")]
    pub nodeport_addresses: Vec<std::net::IpAddr>,
    /// Also keep nginx upstreams of these Services in sync (NS/NAME[:PORT], repeatable; needs
    /// --sync-upstreams-output), as `berth sync-upstreams` does for any cluster.
    #[arg(long = "sync-upstreams", value_name = "NS/NAME[:PORT]")]
    pub sync_upstreams: Vec<berth_upstream_sync::ServiceSelector>,
    /// The nginx include file `--sync-upstreams` writes.
    #[arg(long, value_name = "FILE", requires = "sync_upstreams")]
    pub sync_upstreams_output: Option<PathBuf>,
    /// An argument for every nginx call of `--sync-upstreams` (e.g. "-c /etc/nginx/nginx.conf").
    #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
    pub sync_upstreams_nginx_arg: Vec<String>,
    /// Log one line per request through the ingress router (target `berth::access`).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub access_log: bool,
    /// Run no platform operator (App and CronApp resources are then stored but not deployed).
    #[arg(long)]
    pub no_operator: bool,
    /// Cluster name the operator puts in the `cluster` label of everything it deploys.
    #[arg(long, default_value = "berth")]
    pub cluster_name: String,
}

/// What `berth up` tells a caller (`berth demo`) once the cluster serves.
pub struct Ready {
    pub kubeconfig: PathBuf,
    /// An in-process client of the API server.
    pub client: kube::Client,
    pub http_addr: SocketAddr,
}

/// Work to run once the cluster is ready, beside it, until it returns or Berth stops.
pub type OnReady = Box<
    dyn FnOnce(
            Ready,
        )
            -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send>>
        + Send,
>;

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let n: u64 = num.parse().map_err(|_| format!("invalid duration {s:?}"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" | "" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        "h" => Ok(Duration::from_secs(n * 3600)),
        _ => Err(format!("invalid duration {s:?}: use ms, s, m or h")),
    }
}

pub fn run(args: UpArgs) -> anyhow::Result<()> {
    run_with(args, None)
}

/// Runs the embedded cluster; `on_ready` (if any) runs once it serves. An error from it stops
/// Berth and is returned.
pub fn run_with(args: UpArgs, on_ready: Option<OnReady>) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create data dir {}", args.data_dir.display()))?;
    let data_dir = args
        .data_dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", args.data_dir.display()))?;
    // One Berth per data dir: the lock is held for the life of the process.
    let lock_path = data_dir.join("berth.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open {}", lock_path.display()))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(_) => bail!(
            "another berth is already running with data dir {} (lock held on {})",
            data_dir.display(),
            lock_path.display()
        ),
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = rt.block_on(serve(args, data_dir.clone(), on_ready));
    drop(lock);
    result
}

async fn serve(args: UpArgs, data_dir: PathBuf, on_ready: Option<OnReady>) -> anyhow::Result<()> {
    let mut opts = SqliteStoreOptions::new(data_dir.join("state.db"));
    opts.auto_compact_interval = Some(args.compaction_interval);
    let store = SqliteStore::open(opts).context("cannot open the store")?;
    let listener = tokio::net::TcpListener::bind(args.api_addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.api_addr))?;
    let addr = listener.local_addr().context("listener has no address")?;
    let services = berth_apiserver::ipalloc::ServiceAllocator::new(&args.service_cidr)
        .map_err(|e| anyhow::anyhow!("--service-cidr: {e}"))?;
    let kubernetes_ip = services.first_ip();
    let creds = pki::load_or_create(&data_dir, addr, kubernetes_ip.into())
        .context("cannot set up credentials")?;
    let tls = pki::server_config(&creds)?;
    let host = if addr.ip().is_unspecified() {
        SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
    } else {
        addr
    };
    let store_dyn: Arc<dyn Store> = store.clone();
    let server = ApiServer::new(store_dyn, &creds, host.to_string(), &args.service_cidr)?;
    server.bootstrap().await.context("bootstrap failed")?;
    let serving = tokio::spawn(berth_apiserver::serve_tls(server.clone(), listener, tls));

    let client = kube::Client::new(server.clone().in_process_service(), "default");
    let (ctl_tx, ctl_rx) = tokio::sync::watch::channel(false);
    let components = crate::cluster::start(
        crate::cluster::ClusterOptions {
            data_dir: data_dir.clone(),
            node_name: args.node_name.clone(),
            pod_cidr: args.pod_cidr.clone(),
            node_agent: !args.no_node_agent,
            simulated_nodes: args.simulated_nodes,
            ca_pem: creds.ca_pem.clone(),
            traffic: crate::traffic::TrafficOptions {
                service_cidr: args.service_cidr.clone(),
                kubernetes_ip,
                api_server: host,
                http_addr: args.http_addr,
                https_addr: args.https_addr,
                nodeport_addresses: args.nodeport_addresses.clone(),
                access_log: args.access_log,
            },
        },
        &server,
        client,
        ctl_rx,
    )
    .await?;

    let upstream_sync = match (&args.sync_upstreams_output, args.sync_upstreams.is_empty()) {
        (Some(output), false) => {
            let options = crate::sync_cmd::UpstreamOptions {
                services: args.sync_upstreams.clone(),
                output: output.clone(),
                nginx: "nginx".into(),
                nginx_args: args.sync_upstreams_nginx_arg.clone(),
            };
            let client = kube::Client::new(server.clone().in_process_service(), "default");
            let sync = crate::sync_cmd::in_process(client, "berth", &options)?;
            let shutdown = ctl_tx.subscribe();
            Some(tokio::spawn(async move { sync.run(shutdown).await }))
        }
        (None, false) => bail!("--sync-upstreams needs --sync-upstreams-output FILE"),
        _ => None,
    };

    let operator = if args.no_operator {
        None
    } else {
        let client = kube::Client::new(server.clone().in_process_service(), "default");
        berth_operator::install_crds(&client)
            .await
            .context("cannot install the App and CronApp CRDs")?;
        let config = berth_operator::OperatorConfig {
            cluster: args.cluster_name.clone(),
            namespace: None,
        };
        let mut shutdown = ctl_tx.subscribe();
        Some(tokio::spawn(async move {
            let stop = async move {
                let _ = shutdown.wait_for(|stop| *stop).await;
            };
            if let Err(e) = berth_operator::run(client, config, stop).await {
                tracing::error!(error = %e, "the operator stopped");
            }
        }))
    };

    // Clients get their kubeconfig only once the server answers.
    let url = format!("https://{host}");
    pki::write_private(
        &data_dir.join("kubeconfig"),
        pki::kubeconfig(&url, &creds.ca_pem, &creds.admin_token).as_bytes(),
    )
    .context("cannot write kubeconfig")?;
    tracing::info!(
        api = %url,
        kubeconfig = %data_dir.join("kubeconfig").display(),
        "Berth is ready"
    );
    eprintln!(
        "Berth API server ready at {url}\n  export KUBECONFIG={}",
        data_dir.join("kubeconfig").display()
    );

    let mut result = Ok(());
    match on_ready {
        Some(work) => {
            let ready = Ready {
                kubeconfig: data_dir.join("kubeconfig"),
                client: kube::Client::new(server.clone().in_process_service(), "default"),
                http_addr: args.http_addr,
            };
            tokio::select! {
                r = work(ready) => {
                    result = r;
                    if result.is_ok() {
                        wait_for_signal().await;
                    }
                }
                _ = wait_for_signal() => {}
            }
        }
        None => wait_for_signal().await,
    }
    tracing::info!("shutting down");
    let _ = ctl_tx.send(true);
    server.begin_shutdown();
    components.stop().await;
    if let Some(operator) = operator {
        let _ = tokio::time::timeout(Duration::from_secs(5), operator).await;
    }
    if let Some(sync) = upstream_sync {
        let _ = tokio::time::timeout(Duration::from_secs(5), sync).await;
    }
    match tokio::time::timeout(Duration::from_secs(10), serving).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::warn!(error = %e, "server ended with an error"),
        Ok(Err(e)) => tracing::warn!(error = %e, "server task failed"),
        Err(_) => tracing::warn!("server did not stop within 10s"),
    }
    store.close();
    result
}

pub async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot install SIGTERM handler");
            return std::future::pending().await;
        }
    };
    tokio::select! {
        _ = term.recv() => {},
        _ = tokio::signal::ctrl_c() => {},
    }
}
