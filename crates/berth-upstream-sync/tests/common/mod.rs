//! Test fixtures: a private nginx instance, backends on /32 addresses of `lo`, and objects in a
//! TestCluster.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, PostParams};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Whether nginx can run here; installs it if missing. Tests skip (loudly) when it cannot.
pub fn nginx_available() -> bool {
    let works = || {
        Command::new("nginx")
            .arg("-v")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if works() {
        return true;
    }
    let _ = Command::new("apt-get")
        .args(["install", "-y", "nginx"])
        .status();
    if works() {
        return true;
    }
    eprintln!(
        "\n\n*** SKIPPED: nginx is not installed and `apt-get install -y nginx` failed ***\n\n"
    );
    false
}

/// A private nginx: its own prefix, config, pid and log, serving 127.0.0.1:`port` through the
/// upstream named at start, which it finds in the included output file. Stopped on drop.
pub struct Nginx {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub conf: PathBuf,
    pub output: PathBuf,
}

impl Nginx {
    /// Starts nginx with `output` holding a placeholder for `upstream` (nginx needs the
    /// included file and the upstream to exist before the sync first writes it).
    pub fn start(upstream: &str) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let d = dir.path().display();
        let output = dir.path().join("upstreams.conf");
        std::fs::write(
            &output,
            format!("upstream {upstream} {{\n    server 127.0.0.1:1 down;\n}}\n"),
        )
        .unwrap();
        let conf = dir.path().join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "daemon on;
user root;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log notice;
events {{ worker_connections 128; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    include {output};
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://{upstream};
            proxy_connect_timeout 2s;
        }}
    }}
}}
",
                output = output.display()
            ),
        )
        .unwrap();
        let nginx = Nginx {
            dir,
            port,
            conf,
            output,
        };
        let status = Command::new("nginx").args(nginx.args()).status().unwrap();
        assert!(status.success(), "nginx did not start: {}", nginx.log());
        nginx
    }

    /// The arguments that address this instance (for `nginx -t` and `-s reload`).
    pub fn args(&self) -> Vec<String> {
        vec![
            "-c".into(),
            self.conf.display().to_string(),
            "-p".into(),
            self.dir.path().display().to_string(),
        ]
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    /// Reloads nginx has received (SIGHUP), from its log.
    pub fn reloads(&self) -> usize {
        self.log().matches("(SIGHUP) received").count()
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new("nginx")
            .args(self.args())
            .args(["-s", "stop"])
            .output();
        let pid = self.dir.path().join("nginx.pid");
        for _ in 0..100 {
            if !pid.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// /32 addresses on `lo`, removed on drop.
pub struct LoAddrs(pub Vec<Ipv4Addr>);

impl LoAddrs {
    pub fn add(addrs: &[Ipv4Addr]) -> LoAddrs {
        for a in addrs {
            let out = Command::new("ip")
                .args(["addr", "add", &format!("{a}/32"), "dev", "lo"])
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success() || err.contains("exists"),
                "ip addr add {a}: {err}"
            );
        }
        LoAddrs(addrs.to_vec())
    }
}

impl Drop for LoAddrs {
    fn drop(&mut self) {
        for a in &self.0 {
            let _ = Command::new("ip")
                .args(["addr", "del", &format!("{a}/32"), "dev", "lo"])
                .output();
        }
    }
}

/// An HTTP server on `addr:8080` answering every request with `backend <addr>`.
pub async fn spawn_backend(addr: Ipv4Addr) -> tokio::task::JoinHandle<()> {
    let listener = tokio::net::TcpListener::bind((addr, 8080)).await.unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let body = format!("backend {addr}");
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(response.as_bytes()).await;
                let _ = conn.shutdown().await;
            });
        }
    })
}

/// Sends requests through nginx until every one of `want` has answered (or gives up after
/// `tries`); returns every body seen.
pub async fn bodies_until(url: &str, want: &[&str], tries: usize) -> BTreeSet<String> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut seen = BTreeSet::new();
    for _ in 0..tries {
        if let Ok(resp) = client.get(url).send().await
            && resp.status().is_success()
            && let Ok(body) = resp.text().await
        {
            seen.insert(body);
        }
        if want.iter().all(|w| seen.contains(*w)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    seen
}

/// Polls `check` until it holds; panics with `what` after a generous deadline.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..1200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Creates Service `default/web` with port `http` 80 -> 8080 (no selector: we write its
/// EndpointSlices ourselves, no controller runs).
pub async fn create_web_service(client: &kube::Client) {
    let api: Api<Service> = Api::namespaced(client.clone(), "default");
    let svc: Service = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
    }))
    .unwrap();
    api.create(&PostParams::default(), &svc).await.unwrap();
}

/// An EndpointSlice of `default/web` with port `http` 8080 and (address, ready) endpoints.
pub fn web_slice(name: &str, endpoints: &[(Ipv4Addr, bool)]) -> EndpointSlice {
    let endpoints: Vec<_> = endpoints
        .iter()
        .map(|(a, ready)| json!({"addresses": [a.to_string()], "conditions": {"ready": ready}}))
        .collect();
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": endpoints
    }))
    .unwrap()
}

pub async fn create_slice(client: &kube::Client, slice: &EndpointSlice) {
    let api: Api<EndpointSlice> = Api::namespaced(client.clone(), "default");
    api.create(&PostParams::default(), slice).await.unwrap();
}

/// Replaces a slice's endpoints.
pub async fn replace_slice(client: &kube::Client, slice: &EndpointSlice) {
    let api: Api<EndpointSlice> = Api::namespaced(client.clone(), "default");
    let name = slice.metadata.name.clone().unwrap();
    let mut current = api.get(&name).await.unwrap();
    current.endpoints = slice.endpoints.clone();
    api.replace(&name, &PostParams::default(), &current)
        .await
        .unwrap();
}
