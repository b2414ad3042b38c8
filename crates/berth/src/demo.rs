//! `berth demo`: the main job on a fresh machine. Starts the embedded cluster (as `berth up`),
//! deploys the apps in `examples/` through the platform (App and CronApp resources, the
//! operator), waits until the web app answers through the ingress router, and prints what to try.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::up::{Ready, UpArgs};

#[derive(Args, Debug)]
pub struct DemoArgs {
    #[command(flatten)]
    pub up: UpArgs,
    /// Directory of spec files to deploy.
    #[arg(long, default_value = "examples")]
    pub examples: PathBuf,
}

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    if args.up.no_operator {
        anyhow::bail!("berth demo needs the operator; drop --no-operator");
    }
    let examples = args.examples.clone();
    let docs = berth_spec::load::load_path(&examples)
        .with_context(|| format!("cannot load the examples in {}", examples.display()))?;
    crate::up::run_with(
        args.up,
        Some(Box::new(move |ready| Box::pin(deploy(ready, docs)))),
    )
}

async fn deploy(ready: Ready, docs: Vec<berth_spec::load::LoadedDoc>) -> anyhow::Result<()> {
    eprintln!("Deploying {} spec(s) from examples/ ...", docs.len());
    let options = berth_cli::DeployOptions {
        message: Some("berth demo".into()),
        ..Default::default()
    };
    let printer = berth_cli::Printer::stdout(berth_cli::OutputFormat::Human);
    let outcome = berth_cli::deploy_docs(&ready.client, "default", &docs, &options, &printer)
        .await
        .context("deploy failed")?;
    if !outcome.ok() {
        anyhow::bail!("the examples did not roll out; see `berth status` and `kubectl get events`");
    }
    let web = docs.iter().find_map(|d| match &d.doc {
        berth_spec::load::SpecDoc::App(app) => app.spec.domain.clone(),
        _ => None,
    });
    if let Some(domain) = &web {
        wait_for_http(ready.http_addr, domain).await?;
    }
    let kubeconfig = ready.kubeconfig.display();
    let http = ready.http_addr;
    let domain = web.as_deref().unwrap_or("web.demo.localhost");
    eprintln!(
        "\nThe demo is running. Try, in another shell:\n\
         \n  export KUBECONFIG={kubeconfig}\
         \n  curl http://{domain}:{port}/            # the web app through the ingress router ({http})\
         \n  berth status                            # apps, phases, revisions\
         \n  berth status web                        # pods, revision and recent events\
         \n  berth logs web -f                       # both replicas' logs, interleaved\
         \n  berth cron runs report                  # a run every minute\
         \n  berth deploy -f examples/web.yaml --env prod -m 'four replicas'\
         \n  berth history web && berth rollback web\
         \n  kubectl get apps,cronapps,deployments,pods\
         \n\nStop with Ctrl-C.",
        port = http.port(),
    );
    Ok(())
}

/// Waits until `GET /` with `Host: domain` through the ingress router answers 200.
async fn wait_for_http(addr: std::net::SocketAddr, domain: &str) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        match get_status(addr, domain).await {
            Ok(200) => {
                eprintln!("http://{domain}:{}/ answers 200", addr.port());
                return Ok(());
            }
            other => {
                if tokio::time::Instant::now() > deadline {
                    anyhow::bail!("http://{domain}/ through {addr} did not answer 200: {other:?}");
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn get_status(addr: std::net::SocketAddr, host: &str) -> anyhow::Result<u16> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut head = vec![0u8; 64];
    let n = stream.read(&mut head).await?;
    let line = String::from_utf8_lossy(&head[..n]);
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .context("not an HTTP response")
}
