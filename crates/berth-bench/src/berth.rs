//! Starting `berth up` for a benchmark and connecting to it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::daemon::Daemon;

/// How long `berth up` may take to write its kubeconfig and answer.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The `berth` binary: `--berth BIN`, or the one next to this executable (target/release).
pub fn locate(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    let exe = std::env::current_exe().context("cannot find this executable's path")?;
    let candidate = exe
        .parent()
        .context("this executable has no parent directory")?
        .join("berth");
    if !candidate.is_file() {
        bail!(
            "no berth binary at {} (build it with `cargo build --release -p berth`, or pass --berth BIN)",
            candidate.display()
        );
    }
    Ok(candidate)
}

/// A running `berth up` on a temporary data dir and a free loopback port.
pub struct Berth {
    pub daemon: Daemon,
    pub server: String,
    /// The kubeconfig `berth up` wrote (for kubectl).
    pub kubeconfig: PathBuf,
    /// From spawning the process to the first answered API request.
    pub startup: Duration,
}

impl Berth {
    /// `berth up` without a node agent: the API benchmarks measure the server, not pods.
    pub async fn start(bin: &Path, tmp_root: &Path) -> anyhow::Result<(Berth, kube::Client)> {
        Self::start_with(bin, tmp_root, &["--no-node-agent"]).await
    }

    /// `berth up` with extra arguments.
    pub async fn start_with(
        bin: &Path,
        tmp_root: &Path,
        extra: &[&str],
    ) -> anyhow::Result<(Berth, kube::Client)> {
        let tmp = Daemon::tempdir(tmp_root, "berth")?;
        let data = tmp.path().join("data");
        let mut args = vec![
            "up".to_string(),
            "--data-dir".into(),
            data.display().to_string(),
            "--api-addr".into(),
            "127.0.0.1:0".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let t0 = Instant::now();
        let mut daemon = Daemon::spawn("berth", bin, &args, tmp)?;
        let kubeconfig = data.join("kubeconfig");
        let deadline = t0 + START_TIMEOUT;
        let mut last_err = String::from("kubeconfig not written yet");
        loop {
            daemon.check_alive()?;
            if Instant::now() > deadline {
                bail!(
                    "berth did not become ready within {START_TIMEOUT:?} ({last_err}); end of its log:\n{}",
                    daemon.log_tail(30)
                );
            }
            if kubeconfig.exists() {
                // The file may be caught half-written: retry until it parses and the server answers.
                match connect(&kubeconfig).await {
                    Ok((client, server)) => {
                        let startup = t0.elapsed();
                        return Ok((
                            Berth {
                                daemon,
                                server,
                                kubeconfig: kubeconfig.clone(),
                                startup,
                            },
                            client,
                        ));
                    }
                    Err(e) => last_err = format!("{e:#}"),
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn connect(kubeconfig: &Path) -> anyhow::Result<(kube::Client, String)> {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig)
        .with_context(|| format!("cannot read {}", kubeconfig.display()))?;
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .context("invalid kubeconfig")?;
    let server = config.cluster_url.to_string();
    let client = kube::Client::try_from(config).context("cannot build a kube client")?;
    tokio::time::timeout(Duration::from_secs(10), client.apiserver_version())
        .await
        .context("GET /version timed out")?
        .context("GET /version failed")?;
    Ok((client, server))
}
