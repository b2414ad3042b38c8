//! Test fixtures: pod-like backends in a network namespace of their own (reached over a veth
//! pair, as pods are), an API server, and a running router.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use berth_apiserver::testing::TestCluster;
use berth_ingress::{BoundAddrs, IngressRouter, IngressRouterConfig, RouterDebug};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::{Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tokio::sync::{Notify, watch};

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A network namespace holding `10.204.<subnet>.2..` on a veth whose host end is
/// `10.204.<subnet>.1/24`: the pod IPs of one test. Removed on drop.
pub struct PodNet {
    pub name: String,
    host_link: String,
    pub subnet: u8,
}

impl PodNet {
    pub fn new(subnet: u8, pods: u8) -> PodNet {
        let name = format!("berth-ing-t{subnet}");
        let host_link = format!("bing{subnet}h");
        let ns_link = format!("bing{subnet}n");
        // Leftovers of a run that was killed.
        let _ = ip(&["netns", "del", &name]);
        let _ = ip(&["link", "del", &host_link]);
        let net = PodNet {
            name: name.clone(),
            host_link: host_link.clone(),
            subnet,
        };
        let host_cidr = format!("10.204.{subnet}.1/24");
        let steps: Vec<Vec<String>> = vec![
            vec!["netns".into(), "add".into(), name.clone()],
            vec![
                "link".into(),
                "add".into(),
                host_link.clone(),
                "type".into(),
                "veth".into(),
                "peer".into(),
                "name".into(),
                ns_link.clone(),
                "netns".into(),
                name.clone(),
            ],
            vec![
                "addr".into(),
                "add".into(),
                host_cidr,
                "dev".into(),
                host_link.clone(),
            ],
            vec!["link".into(), "set".into(), host_link.clone(), "up".into()],
            vec![
                "-n".into(),
                name.clone(),
                "link".into(),
                "set".into(),
                "lo".into(),
                "up".into(),
            ],
            vec![
                "-n".into(),
                name.clone(),
                "link".into(),
                "set".into(),
                ns_link.clone(),
                "up".into(),
            ],
        ];
        for s in steps {
            let args: Vec<&str> = s.iter().map(String::as_str).collect();
            ip(&args).unwrap();
        }
        for i in 0..pods {
            let cidr = format!("10.204.{subnet}.{}/24", i + 2);
            ip(&["-n", &name, "addr", "add", &cidr, "dev", &ns_link]).unwrap();
        }
        net
    }

    /// The IP of pod `i` (0-based).
    pub fn pod_ip(&self, i: u8) -> IpAddr {
        format!("10.204.{}.{}", self.subnet, i + 2).parse().unwrap()
    }

    /// A listening socket made inside the namespace (a socket stays in the namespace it was
    /// made in, whatever thread uses it later).
    pub fn listen(&self, addr: SocketAddr) -> tokio::net::TcpListener {
        let path = format!("/var/run/netns/{}", self.name);
        let listener = std::thread::spawn(move || {
            let f = std::fs::File::open(&path).unwrap();
            // SAFETY: setns on this short-lived thread only; the fd is valid while `f` lives.
            let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
            std::net::TcpListener::bind(addr).unwrap()
        })
        .join()
        .unwrap();
        listener.set_nonblocking(true).unwrap();
        tokio::net::TcpListener::from_std(listener).unwrap()
    }
}

impl Drop for PodNet {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.name]);
        let _ = ip(&["link", "del", &self.host_link]);
    }
}

/// A backend answering every request with JSON naming itself, the path and the headers it
/// got. `/slow` waits for [`Backend::release`] (after signalling `arrived`).
pub struct Backend {
    pub name: String,
    pub addr: SocketAddr,
    pub hits: Arc<AtomicUsize>,
    pub arrived: Arc<Notify>,
    gate: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Backend {
    pub fn start(net: &PodNet, pod: u8, port: u16, name: &str) -> Backend {
        let addr = SocketAddr::new(net.pod_ip(pod), port);
        let listener = net.listen(addr);
        let hits = Arc::new(AtomicUsize::new(0));
        let arrived = Arc::new(Notify::new());
        let gate = Arc::new(Notify::new());
        let (h, a, g, n) = (
            hits.clone(),
            arrived.clone(),
            gate.clone(),
            name.to_string(),
        );
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (h, a, g, n) = (h.clone(), a.clone(), g.clone(), n.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req: Request<Incoming>| {
                        let (h, a, g, n) = (h.clone(), a.clone(), g.clone(), n.clone());
                        async move {
                            h.fetch_add(1, Ordering::SeqCst);
                            if req.uri().path() == "/upgrade" {
                                return Ok(echo_upgrade(req));
                            }
                            if req.uri().path() == "/slow" {
                                a.notify_one();
                                g.notified().await;
                            }
                            let headers: BTreeMap<String, String> = req
                                .headers()
                                .iter()
                                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                                .collect();
                            let method = req.method().to_string();
                            let path = req.uri().to_string();
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            let reply = json!({
                                "name": n, "method": method, "path": path, "headers": headers,
                                "body": String::from_utf8_lossy(&body),
                            });
                            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(
                                reply.to_string(),
                            ))))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .with_upgrades()
                        .await;
                });
            }
        });
        Backend {
            name: name.to_string(),
            addr,
            hits,
            arrived,
            gate,
            task,
        }
    }

    pub fn release(&self) {
        self.gate.notify_one();
    }
}

/// Answers an upgrade to protocol `echo` (101), then echoes bytes back.
fn echo_upgrade(mut req: Request<Incoming>) -> Response<Full<Bytes>> {
    let upgraded = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        if let Ok(io) = upgraded.await {
            let (mut r, mut w) = tokio::io::split(TokioIo::new(io));
            let _ = tokio::io::copy(&mut r, &mut w).await;
        }
    });
    Response::builder()
        .status(101)
        .header("connection", "upgrade")
        .header("upgrade", "echo")
        .body(Full::new(Bytes::new()))
        .unwrap()
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An API server and a router serving it on 127.0.0.1 (HTTP and HTTPS, ephemeral ports).
pub struct Env {
    pub cluster: TestCluster,
    pub addrs: BoundAddrs,
    pub debug: RouterDebug,
    pub shutdown: watch::Sender<bool>,
    pub router: Option<tokio::task::JoinHandle<()>>,
    pub http: reqwest::Client,
}

impl Env {
    pub async fn start() -> Env {
        let cluster = TestCluster::start().await.unwrap();
        let config = IngressRouterConfig {
            http_addr: Some("127.0.0.1:0".parse().unwrap()),
            https_addr: Some("127.0.0.1:0".parse().unwrap()),
            access_log: true,
            ..IngressRouterConfig::default()
        };
        let mut router = IngressRouter::new(cluster.client.clone(), config);
        let addrs = router.bind().await.unwrap();
        let debug = router.debug();
        let (shutdown, rx) = watch::channel(false);
        let task = tokio::spawn(router.run(rx));
        Env {
            cluster,
            addrs,
            debug,
            shutdown,
            router: Some(task),
            http: client_builder().build().unwrap(),
        }
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.addrs.http.unwrap()
    }

    pub fn https_addr(&self) -> SocketAddr {
        self.addrs.https.unwrap()
    }

    pub fn client(&self) -> kube::Client {
        self.cluster.client.clone()
    }

    pub async fn apply<K>(&self, obj: Value) -> K
    where
        K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + serde::Serialize
            + std::fmt::Debug,
    {
        let ns = obj["metadata"]["namespace"].as_str().unwrap_or("default");
        let api: Api<K> = Api::namespaced(self.client(), ns);
        let obj: K = serde_json::from_value(obj).unwrap();
        api.create(&PostParams::default(), &obj).await.unwrap()
    }

    /// A Service `name` with one port `http` (80 -> `target`).
    pub async fn service(&self, name: &str) -> Service {
        self.apply(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
        }))
        .await
    }

    /// The EndpointSlice of Service `svc` listing `endpoints` (address, port, ready).
    pub async fn slice(&self, svc: &str, endpoints: &[(SocketAddr, bool)]) -> EndpointSlice {
        self.apply(slice_json(svc, endpoints)).await
    }

    pub async fn replace_slice(&self, svc: &str, endpoints: &[(SocketAddr, bool)]) {
        let api: Api<EndpointSlice> = Api::namespaced(self.client(), "default");
        api.patch(
            &format!("{svc}-slice"),
            &PatchParams::default(),
            &Patch::Merge(slice_json(svc, endpoints)),
        )
        .await
        .unwrap();
    }

    pub async fn ingress(&self, obj: Value) -> Ingress {
        self.apply(obj).await
    }

    pub async fn secret(&self, obj: Value) -> Secret {
        self.apply(obj).await
    }

    /// Waits (at most 20 s) until the router's snapshot satisfies `pred`.
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&Value) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let snap = self.debug.snapshot();
            if pred(&snap) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "router never got to: {what}; snapshot: {snap:#}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the router shows exactly `endpoints` for backend `upstream` (e.g.
    /// `default-web-80`).
    pub async fn wait_for_endpoints(&self, upstream: &str, endpoints: &[SocketAddr]) {
        let mut want: Vec<String> = endpoints.iter().map(|e| e.to_string()).collect();
        want.sort();
        let upstream = upstream.to_string();
        self.wait_for(&format!("{upstream} has {want:?}"), |snap| {
            find_upstreams(snap, &upstream).contains(&want)
        })
        .await;
    }

    /// GET http://<router>/<path> with `Host: host`; returns status and body.
    pub async fn get(&self, host: &str, path: &str) -> (u16, String) {
        self.get_with(host, path, &[]).await
    }

    pub async fn get_with(
        &self,
        host: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, String) {
        let mut req = self
            .http
            .get(format!("http://{}{}", self.http_addr(), path))
            .header("host", host);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap())
    }

    /// The backend name that answered, or the status when it was not 200.
    pub async fn who(&self, host: &str, path: &str, headers: &[(&str, &str)]) -> String {
        let (status, body) = self.get_with(host, path, headers).await;
        if status != 200 {
            return format!("status {status}");
        }
        let v: Value = serde_json::from_str(&body).unwrap();
        v["name"].as_str().unwrap().to_string()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(t) = self.router.take() {
            t.abort();
        }
    }
}

pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
}

fn slice_json(svc: &str, endpoints: &[(SocketAddr, bool)]) -> Value {
    let port = endpoints.first().map(|e| e.0.port()).unwrap_or(8080);
    let eps: Vec<Value> = endpoints
        .iter()
        .map(
            |(a, ready)| json!({"addresses": [a.ip().to_string()], "conditions": {"ready": ready}}),
        )
        .collect();
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": format!("{svc}-slice"), "namespace": "default",
                     "labels": {"kubernetes.io/service-name": svc}},
        "addressType": "IPv4",
        "endpoints": eps,
        "ports": [{"name": "http", "port": port, "protocol": "TCP"}],
    })
}

/// The endpoint lists (sorted) of every appearance of upstream `name` in a snapshot.
pub fn find_upstreams(v: &Value, name: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    walk(v, &mut |o| {
        if o.get("name").and_then(Value::as_str) == Some(name)
            && let Some(eps) = o.get("endpoints").and_then(Value::as_array)
        {
            let mut eps: Vec<String> = eps
                .iter()
                .filter_map(|e| e.as_str().map(str::to_string))
                .collect();
            eps.sort();
            out.push(eps);
        }
    });
    out
}

fn walk(v: &Value, f: &mut impl FnMut(&serde_json::Map<String, Value>)) {
    match v {
        Value::Object(o) => {
            f(o);
            for x in o.values() {
                walk(x, f);
            }
        }
        Value::Array(a) => {
            for x in a {
                walk(x, f);
            }
        }
        _ => {}
    }
}

/// An Ingress rule path to Service `svc` port 80.
pub fn path(p: &str, path_type: &str, svc: &str) -> Value {
    json!({"path": p, "pathType": path_type,
           "backend": {"service": {"name": svc, "port": {"number": 80}}}})
}

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        .try_init();
}
