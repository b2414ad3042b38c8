//! etcd as the reference point: finding (or installing) it, running it on loopback, and talking
//! to it through its v3 JSON gateway (grpc-gateway: `POST /v3/kv/put`, `POST /v3/kv/range`, with
//! base64 keys and values), so no protobuf toolchain is needed.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use crate::daemon::{self, Daemon};

/// Finds etcd: `--etcd BIN`, else `etcd` on $PATH, else (as root) installs Debian's
/// `etcd-server`. `Err` says why there is none, for the SKIPPED line.
pub async fn locate(explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = explicit {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(format!("--etcd {} does not exist", p.display()))
        };
    }
    if let Some(p) = daemon::which("etcd") {
        return Ok(p);
    }
    if daemon::uid() != Some(0) {
        return Err(
            "etcd is not on PATH and we are not root to `apt-get install etcd-server`".into(),
        );
    }
    println!("etcd is not on PATH: running `apt-get install -y etcd-server` ...");
    let mut installed = apt(&["install", "-y", "etcd-server"]).await;
    if installed.is_err() {
        let _ = apt(&["update"]).await;
        installed = apt(&["install", "-y", "etcd-server"]).await;
    }
    if let Err(e) = installed {
        return Err(format!("apt-get install etcd-server failed: {e}"));
    }
    daemon::which("etcd")
        .or_else(|| Some(PathBuf::from("/usr/bin/etcd")).filter(|p| p.is_file()))
        .ok_or_else(|| "etcd-server installed but no etcd binary found".to_string())
}

async fn apt(args: &[&str]) -> Result<(), String> {
    let run = tokio::process::Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(Duration::from_secs(600), run).await {
        Err(_) => Err(format!("apt-get {} took over 10 minutes", args.join(" "))),
        Ok(Err(e)) => Err(format!("cannot run apt-get: {e}")),
        Ok(Ok(out)) if out.status.success() => Ok(()),
        Ok(Ok(out)) => Err(format!(
            "apt-get {} exited with {}: {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
    }
}

/// `etcd --version`'s first line.
pub fn version(bin: &Path) -> String {
    std::process::Command::new(bin)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout).lines().next().map(|l| {
                l.trim()
                    .trim_start_matches("etcd Version:")
                    .trim()
                    .to_string()
            })
        })
        .unwrap_or_else(|| "unknown".into())
}

/// A single-member etcd on loopback with a temporary data dir (default durability: the WAL is
/// fsynced before a write is acknowledged).
pub struct Etcd {
    pub daemon: Daemon,
    pub url: String,
}

impl Etcd {
    pub async fn start(bin: &Path, tmp_root: &Path) -> anyhow::Result<Etcd> {
        let tmp = Daemon::tempdir(tmp_root, "etcd")?;
        let data = tmp.path().join("data");
        let client = format!("http://127.0.0.1:{}", daemon::free_port()?);
        let peer = format!("http://127.0.0.1:{}", daemon::free_port()?);
        // Flags as of etcd 3.4 (Debian bookworm's etcd-server 3.4.23).
        let args: Vec<String> = [
            "--name",
            "default",
            "--data-dir",
            &data.display().to_string(),
            "--listen-client-urls",
            &client,
            "--advertise-client-urls",
            &client,
            "--listen-peer-urls",
            &peer,
            "--initial-advertise-peer-urls",
            &peer,
            "--initial-cluster",
            &format!("default={peer}"),
            "--initial-cluster-state",
            "new",
            "--logger",
            "zap",
            "--log-outputs",
            "stderr",
            "--log-level",
            "warn",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut daemon = Daemon::spawn("etcd", bin, &args, tmp)?;
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            daemon.check_alive()?;
            if Instant::now() > deadline {
                bail!(
                    "etcd did not become healthy within 30s; end of its log:\n{}",
                    daemon.log_tail(30)
                );
            }
            if let Ok(resp) = http.get(format!("{client}/health")).send().await
                && let Ok(v) = resp.json::<Value>().await
                && v["health"] == "true"
            {
                return Ok(Etcd {
                    daemon,
                    url: client,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A client of etcd's v3 JSON gateway. Cheap to clone (one shared HTTP/1.1 connection pool).
#[derive(Clone)]
pub struct EtcdKv {
    http: reqwest::Client,
    put_url: String,
    range_url: String,
}

impl EtcdKv {
    pub fn new(base: &str) -> anyhow::Result<EtcdKv> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .context("cannot build an HTTP client")?;
        Ok(EtcdKv {
            http,
            put_url: format!("{base}/v3/kv/put"),
            range_url: format!("{base}/v3/kv/range"),
        })
    }

    async fn call(&self, url: &str, body: Value) -> anyhow::Result<Value> {
        let resp = self.http.post(url).json(&body).send().await?;
        let status = resp.status();
        let v: Value = resp.json().await.context("undecodable etcd answer")?;
        if !status.is_success() {
            bail!("etcd answered {status}: {v}");
        }
        Ok(v)
    }

    /// Puts a key; `value_b64` is the value already base64-encoded.
    pub async fn put(&self, key: &str, value_b64: &str) -> anyhow::Result<()> {
        self.call(
            &self.put_url,
            json!({"key": B64.encode(key), "value": value_b64}),
        )
        .await?;
        Ok(())
    }

    /// Reads a key; fails if it is missing.
    pub async fn get(&self, key: &str) -> anyhow::Result<()> {
        let v = self
            .call(&self.range_url, json!({"key": B64.encode(key)}))
            .await?;
        match v["kvs"].as_array() {
            Some(kvs) if !kvs.is_empty() => Ok(()),
            _ => bail!("etcd has no key {key}"),
        }
    }
}

pub fn b64(value: &[u8]) -> String {
    B64.encode(value)
}
