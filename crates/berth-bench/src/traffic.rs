//! `berth-bench traffic`: the ingress router against nginx, and requests lost in a rollout.
//!
//! * router vs nginx: `wrk` through Berth's ingress router and, in the same run, through Debian's
//!   nginx as a reverse proxy (upstream keep-alive on), both in front of the same small backend
//!   (an nginx `return 200` server on an address of its own), alternating twice so load drifts
//!   hit both;
//! * rollout: continuous GETs through the router while a 10-replica Deployment (python3 echo
//!   servers with a readiness probe and a preStop pause) rolls to a new template, then scales
//!   down; failed requests are counted (the goal is 0).
//!
//! Needs root (addresses on `lo`, pods with network namespaces), `nginx` and `wrk`
//! (`apt-get install nginx wrk`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::CommonArgs;
use crate::berth::{self, Berth};
use crate::daemon::{self, Daemon};
use crate::load::{Errors, Lat, new_hist, record};
use crate::report::{Report, Table, fmt_num, fmt_ratio};

#[derive(clap::Args, Debug)]
pub struct TrafficArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The berth binary [default: `berth` next to this executable]
    #[arg(long, value_name = "BIN")]
    pub berth: Option<PathBuf>,
    /// wrk connections and seconds per measurement.
    #[arg(long, default_value_t = 50)]
    pub connections: u32,
    #[arg(long, default_value_t = 10)]
    pub seconds: u32,
    /// Replicas of the Deployment rolled under load.
    #[arg(long, default_value_t = 10)]
    pub replicas: u32,
    /// Only these phases (comma-separated: router, rollout).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
}

/// The backend's own address on `lo` (outside every CIDR Berth uses by default).
const BACKEND_IP: &str = "10.206.0.1";

pub async fn run(args: &TrafficArgs, report: &mut Report) -> anyhow::Result<()> {
    if daemon::uid() != Some(0) {
        bail!("berth-bench traffic needs root: addresses on lo and pods with network namespaces");
    }
    for tool in ["nginx", "wrk"] {
        if which(tool).is_none() {
            bail!("{tool} is not installed: apt-get install -y nginx wrk");
        }
    }
    let bin = berth::locate(args.berth.as_deref())?;
    let tmp_root = args.common.tmp_root();
    let want = |phase: &str| args.only.is_empty() || args.only.iter().any(|p| p == phase);
    let http_port = daemon::free_port()?;
    let https_port = daemon::free_port()?;
    let http = format!("127.0.0.1:{http_port}");
    let https = format!("127.0.0.1:{https_port}");
    let (mut b, client) = Berth::start_with(
        &bin,
        &tmp_root,
        &[
            "--pod-cidr",
            "10.244.77.0/24",
            "--service-cidr",
            "10.100.77.0/24",
            "--node-name",
            "bench-node",
            "--http-addr",
            &http,
            "--https-addr",
            &https,
            // nginx's access log is off too: measure proxying, not log writing.
            "--access-log",
            "false",
        ],
    )
    .await?;
    let result = async {
        if want("router") {
            router_vs_nginx(args, &client, &http, report).await?;
        }
        if want("rollout") {
            rollout_under_load(args, &client, &http, report).await?;
        }
        anyhow::Ok(())
    }
    .await;
    if args.common.keep
        && let Some(dir) = b.daemon.keep_dir()
    {
        println!("berth data and log kept in {}", dir.display());
    }
    b.daemon.stop(Duration::from_secs(60));
    result
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
            .map(|p| p.join(tool))
            .find(|p| p.is_file())
    })
}

/// An address on `lo` for the life of the guard.
struct LoAddress(String);

impl LoAddress {
    fn add(ip: &str) -> anyhow::Result<LoAddress> {
        let _ = ip_addr("del", ip);
        ip_addr("add", ip)?;
        Ok(LoAddress(ip.to_string()))
    }
}

impl Drop for LoAddress {
    fn drop(&mut self) {
        let _ = ip_addr("del", &self.0);
    }
}

fn ip_addr(op: &str, ip: &str) -> anyhow::Result<()> {
    let out = std::process::Command::new("ip")
        .args(["addr", op, &format!("{ip}/32"), "dev", "lo"])
        .output()
        .context("cannot run ip")?;
    if !out.status.success() {
        bail!(
            "ip addr {op} {ip}/32 dev lo: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// One nginx: the backend (`return 200`) on BACKEND_IP and the reverse proxy in front of it.
fn start_nginx(tmp_root: &Path, backend_port: u16, proxy_port: u16) -> anyhow::Result<Daemon> {
    let tmp = Daemon::tempdir(tmp_root, "nginx")?;
    let dir = tmp.path().to_path_buf();
    let conf = dir.join("nginx.conf");
    let text = format!(
        r#"daemon off;
worker_processes auto;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 100000;
    upstream backend {{
        server {BACKEND_IP}:{backend_port};
        keepalive 64;
    }}
    server {{
        listen {BACKEND_IP}:{backend_port};
        location / {{ return 200 "hello from the backend\n"; }}
    }}
    server {{
        listen 127.0.0.1:{proxy_port};
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"#,
        dir = dir.display()
    );
    std::fs::write(&conf, text).with_context(|| format!("cannot write {}", conf.display()))?;
    let nginx = which("nginx").context("nginx not found")?;
    let args = vec![
        "-c".to_string(),
        conf.display().to_string(),
        "-p".into(),
        dir.display().to_string(),
    ];
    Daemon::spawn("nginx", &nginx, &args, tmp)
}

/// wrk's figures: requests/s, p50 and p99 latency (ms), errors (socket errors + non-2xx/3xx).
struct Wrk {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

fn wrk(url: &str, host: &str, connections: u32, seconds: u32) -> anyhow::Result<Wrk> {
    let out = std::process::Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-H",
            &format!("Host: {host}"),
            url,
        ])
        .output()
        .context("cannot run wrk")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "wrk failed: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    parse_wrk(&text).with_context(|| format!("cannot read wrk's output:\n{text}"))
}

fn parse_wrk(text: &str) -> Option<Wrk> {
    let after = |prefix: &str| -> Option<&str> {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::trim)
    };
    let rps: f64 = after("Requests/sec:")?.parse().ok()?;
    let p50_ms = wrk_ms(after("50%")?)?;
    let p99_ms = wrk_ms(after("99%")?)?;
    let mut errors = 0;
    if let Some(s) = after("Socket errors:") {
        // "connect 0, read 0, write 0, timeout 0"
        errors += s
            .split(',')
            .filter_map(|part| part.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    if let Some(s) = after("Non-2xx or 3xx responses:") {
        errors += s.parse::<u64>().ok()?;
    }
    Some(Wrk {
        rps,
        p50_ms,
        p99_ms,
        errors,
    })
}

/// wrk prints latencies as `812.00us`, `1.23ms` or `2.01s`.
fn wrk_ms(s: &str) -> Option<f64> {
    let (num, scale) = if let Some(n) = s.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    num.parse::<f64>().ok().map(|v| v * scale)
}

async fn router_vs_nginx(
    args: &TrafficArgs,
    client: &kube::Client,
    router: &str,
    report: &mut Report,
) -> anyhow::Result<()> {
    let _addr = LoAddress::add(BACKEND_IP)?;
    let backend_port = daemon::free_port()?;
    let proxy_port = daemon::free_port()?;
    let mut nginx = start_nginx(&args.common.tmp_root(), backend_port, proxy_port)?;
    wait_http(&format!("http://{BACKEND_IP}:{backend_port}/"), None).await?;

    // A Service without selector whose EndpointSlice names the backend, and an Ingress for it.
    let pp = PostParams::default();
    let ns = "default";
    let services: Api<k8s_openapi::api::core::v1::Service> = Api::namespaced(client.clone(), ns);
    services
        .create(
            &pp,
            &serde_json::from_value(json!({
                "metadata": {"name": "bench-backend"},
                "spec": {"ports": [{"name": "http", "port": 80, "targetPort": backend_port}]}
            }))?,
        )
        .await
        .context("cannot create the backend Service")?;
    let slices: Api<k8s_openapi::api::discovery::v1::EndpointSlice> =
        Api::namespaced(client.clone(), ns);
    slices
        .create(
            &pp,
            &serde_json::from_value(json!({
                "metadata": {"name": "bench-backend", "labels": {"kubernetes.io/service-name": "bench-backend"}},
                "addressType": "IPv4",
                "endpoints": [{"addresses": [BACKEND_IP], "conditions": {"ready": true}}],
                "ports": [{"name": "http", "port": backend_port, "protocol": "TCP"}]
            }))?,
        )
        .await
        .context("cannot create the backend EndpointSlice")?;
    let ingresses: Api<k8s_openapi::api::networking::v1::Ingress> =
        Api::namespaced(client.clone(), ns);
    ingresses
        .create(
            &pp,
            &serde_json::from_value(json!({
                "metadata": {"name": "bench"},
                "spec": {"rules": [{"host": "bench.test", "http": {"paths": [{
                    "path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": "bench-backend", "port": {"name": "http"}}}
                }]}}]}
            }))?,
        )
        .await
        .context("cannot create the Ingress")?;
    let router_url = format!("http://{router}/");
    wait_http(&router_url, Some("bench.test")).await?;
    let nginx_url = format!("http://127.0.0.1:{proxy_port}/");
    wait_http(&nginx_url, Some("bench.test")).await?;

    let (c, s) = if args.common.quick {
        (args.connections, 3)
    } else {
        (args.connections, args.seconds)
    };
    // Warm both, then alternate: nginx, berth, nginx, berth.
    wrk(&nginx_url, "bench.test", c, 1)?;
    wrk(&router_url, "bench.test", c, 1)?;
    let mut runs: Vec<(&str, Wrk)> = Vec::new();
    for _ in 0..2 {
        runs.push(("nginx", wrk(&nginx_url, "bench.test", c, s)?));
        runs.push(("berth", wrk(&router_url, "bench.test", c, s)?));
    }
    nginx.check_alive()?;
    let mut table = Table::new(
        &format!("ingress router vs nginx reverse proxy (wrk -t2 -c{c} -d{s}s, same backend)"),
        &["proxy", "run", "requests/s", "p50 ms", "p99 ms", "errors"],
    );
    for (i, (who, w)) in runs.iter().enumerate() {
        table.row(vec![
            who.to_string(),
            (i / 2 + 1).to_string(),
            fmt_num(w.rps),
            fmt_num(w.p50_ms),
            fmt_num(w.p99_ms),
            w.errors.to_string(),
        ]);
    }
    table.print();
    let best = |who: &str| {
        runs.iter()
            .filter(|(w, _)| *w == who)
            .map(|(_, r)| r)
            .max_by(|a, b| a.rps.total_cmp(&b.rps))
    };
    let (Some(n), Some(r)) = (best("nginx"), best("berth")) else {
        bail!("no wrk results");
    };
    let ratio = r.rps / n.rps;
    println!(
        "best of two: berth {} req/s (p99 {} ms), nginx {} req/s (p99 {} ms): berth/nginx {}",
        fmt_num(r.rps),
        fmt_num(r.p99_ms),
        fmt_num(n.rps),
        fmt_num(n.p99_ms),
        fmt_ratio(ratio)
    );
    report.figure(
        "traffic.router.rps",
        "ingress router requests/s",
        r.rps,
        "req/s",
    );
    report.figure("traffic.router.p99", "ingress router p99", r.p99_ms, "ms");
    report.figure(
        "traffic.nginx.rps",
        "nginx reverse proxy requests/s",
        n.rps,
        "req/s",
    );
    report.figure(
        "traffic.nginx.p99",
        "nginx reverse proxy p99",
        n.p99_ms,
        "ms",
    );
    report.figure(
        "traffic.router.ratio",
        "router / nginx throughput",
        ratio,
        "x",
    );
    report.goal(
        "ingress router throughput vs nginx",
        ">= 1.0x",
        ratio,
        "x",
        ratio >= 1.0,
    );
    nginx.stop(Duration::from_secs(10));
    Ok(())
}

/// Polls `url` until it answers 200 (30 s at most).
async fn wait_http(url: &str, host: Option<&str>) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut req = client.get(url).timeout(Duration::from_secs(2));
        if let Some(h) = host {
            req = req.header("Host", h);
        }
        match req.send().await {
            Ok(r) if r.status() == 200 => return Ok(()),
            Ok(r) if Instant::now() > deadline => bail!("{url} answers {}", r.status()),
            Err(e) if Instant::now() > deadline => bail!("{url}: {e}"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

const ECHO_PY: &str = r#"import http.server, os, socketserver
NAME = os.environ.get("POD_NAME", "?").encode()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(NAME)))
        self.end_headers()
        self.wfile.write(NAME)
    def log_message(self, *args):
        pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
S(("", 8080), H).serve_forever()
"#;

async fn rollout_under_load(
    args: &TrafficArgs,
    client: &kube::Client,
    router: &str,
    report: &mut Report,
) -> anyhow::Result<()> {
    let ns = "default";
    let replicas = if args.common.quick { 4 } else { args.replicas };
    let pp = PostParams::default();
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client.clone(), ns);
    cms.create(
        &pp,
        &serde_json::from_value(
            json!({"metadata": {"name": "roll-server"}, "data": {"server.py": ECHO_PY}}),
        )?,
    )
    .await
    .context("cannot create the ConfigMap")?;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), ns);
    deployments
        .create(
            &pp,
            &serde_json::from_value(json!({
                "metadata": {"name": "roll"},
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": {"app": "roll"}},
                    "strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 2}},
                    "template": {
                        "metadata": {"labels": {"app": "roll"}},
                        "spec": {
                            "terminationGracePeriodSeconds": 10,
                            "containers": [{
                                "name": "server", "image": "python:3.12",
                                "command": ["python3", "/app/server.py"],
                                "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                                "ports": [{"name": "http", "containerPort": 8080}],
                                "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 1},
                                "lifecycle": {"preStop": {"exec": {"command": ["sleep", "2"]}}},
                                "volumeMounts": [{"name": "app", "mountPath": "/app"}]
                            }],
                            "volumes": [{"name": "app", "configMap": {"name": "roll-server"}}]
                        }
                    }
                }
            }))?,
        )
        .await
        .context("cannot create the Deployment")?;
    let services: Api<k8s_openapi::api::core::v1::Service> = Api::namespaced(client.clone(), ns);
    services
        .create(
            &pp,
            &serde_json::from_value(json!({
                "metadata": {"name": "roll"},
                "spec": {"selector": {"app": "roll"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}
            }))?,
        )
        .await
        .context("cannot create the Service")?;
    let ingresses: Api<k8s_openapi::api::networking::v1::Ingress> =
        Api::namespaced(client.clone(), ns);
    ingresses
        .create(
            &pp,
            &serde_json::from_value(json!({
                "metadata": {"name": "roll"},
                "spec": {"rules": [{"host": "roll.test", "http": {"paths": [{
                    "path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": "roll", "port": {"name": "http"}}}
                }]}}]}
            }))?,
        )
        .await
        .context("cannot create the Ingress")?;
    wait_rolled_out(&deployments, "roll", replicas, Duration::from_secs(300)).await?;
    let url = format!("http://{router}/");
    wait_http(&url, Some("roll.test")).await?;

    // Load: 8 clients in a loop, each on its own keep-alive connection.
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(std::sync::Mutex::new(Errors::default()));
    let hist = Arc::new(std::sync::Mutex::new(new_hist()));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (stop, ok, errors, hist, url) = (
            stop.clone(),
            ok.clone(),
            errors.clone(),
            hist.clone(),
            url.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                let t0 = Instant::now();
                let res = http
                    .get(&url)
                    .header("Host", "roll.test")
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == 200 => match r.bytes().await {
                        Ok(_) => {
                            ok.fetch_add(1, Ordering::Relaxed);
                            if let Ok(mut h) = hist.lock() {
                                record(&mut h, t0.elapsed());
                            }
                        }
                        Err(e) => add_error(&errors, format!("body: {e}")),
                    },
                    Ok(r) => add_error(&errors, format!("status {}", r.status())),
                    Err(e) => add_error(&errors, format!("{e}")),
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let t0 = Instant::now();
    deployments
        .patch(
            "roll",
            &PatchParams::default(),
            &Patch::Strategic(
                json!({"spec": {"template": {"metadata": {"annotations": {"bench/rolled": "1"}}}}}),
            ),
        )
        .await
        .context("cannot change the Deployment's template")?;
    wait_rolled_out(&deployments, "roll", replicas, Duration::from_secs(600)).await?;
    wait_pods(client, replicas, Duration::from_secs(120)).await?;
    let roll_time = t0.elapsed();
    let t1 = Instant::now();
    deployments
        .patch(
            "roll",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 2}})),
        )
        .await
        .context("cannot scale the Deployment")?;
    wait_pods(client, 2, Duration::from_secs(120)).await?;
    let scale_time = t1.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let ok = ok.load(Ordering::Relaxed);
    let errors = errors.lock().map(|e| e.clone()).unwrap_or_default();
    let lat = hist
        .lock()
        .map(|h| Lat::of(&h))
        .map_err(|_| anyhow::anyhow!("a load task panicked"))?;
    println!(
        "\nrolling update of {replicas} replicas ({} s) then scale-down to 2 ({} s) under 8 looping clients through the router: {ok} requests ok, {} failed; latency p50 {} ms, p99 {} ms",
        fmt_num(roll_time.as_secs_f64()),
        fmt_num(scale_time.as_secs_f64()),
        errors.count,
        fmt_num(lat.p50_ms),
        fmt_num(lat.p99_ms)
    );
    for s in &errors.samples {
        println!("  failure: {s}");
    }
    report.figure(
        "traffic.rollout.ok",
        "requests ok during rollout",
        ok as f64,
        "count",
    );
    report.errors(
        "traffic.rollout.failed",
        "requests failed during rollout",
        &errors,
    );
    report.latency(
        "traffic.rollout.latency",
        "request latency during rollout",
        &lat,
    );
    report.goal(
        "failed requests during a rolling update",
        "0",
        errors.count as f64,
        "count",
        errors.count == 0,
    );
    Ok(())
}

fn add_error(errors: &std::sync::Mutex<Errors>, msg: String) {
    if let Ok(mut e) = errors.lock() {
        e.add(msg);
    }
}

async fn wait_rolled_out(
    deployments: &Api<Deployment>,
    name: &str,
    replicas: u32,
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let d = deployments.get(name).await?;
        let generation = d.metadata.generation.unwrap_or(0);
        if let Some(s) = &d.status
            && s.observed_generation.unwrap_or(0) >= generation
            && s.updated_replicas.unwrap_or(0) == replicas as i32
            && s.available_replicas.unwrap_or(0) == replicas as i32
            && s.replicas.unwrap_or(0) == replicas as i32
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "deployment {name} did not roll out within {timeout:?}: {:?}",
                d.status
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Waits until exactly `n` pods of the app exist (terminating ones gone).
async fn wait_pods(client: &kube::Client, n: u32, timeout: Duration) -> anyhow::Result<()> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let deadline = Instant::now() + timeout;
    loop {
        let list = pods.list(&ListParams::default().labels("app=roll")).await?;
        if list.items.len() == n as usize {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{} pods instead of {n} after {timeout:?}", list.items.len());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
