//! The service proxy against an in-process API server, with real listeners, real `lo`
//! addresses and real TCP echo backends. Needs root (addresses on `lo`, network namespaces).
//!
//! Each test owns a service range 10.109.N.0/24 (inside the test API server's 10.96.0.0/12, with
//! explicit cluster IPs), backends on 10.202.N.0/24 and its own NodePorts, so tests can run in
//! parallel; guards remove every address and namespace a test adds, even when it fails.

use std::collections::BTreeSet;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::Command;
use std::time::Duration;

use berth_apiserver::testing::TestCluster;
use berth_proxy::{Ipv4Net, ProxyStatus, ServiceProxy, ServiceProxyConfig};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

// ---------------------------------------------------------------------------------------------
// Guards and helpers

fn ip_cmd(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The /32 addresses on lo inside `cidr`.
fn lo_addresses(cidr: Ipv4Net) -> BTreeSet<Ipv4Addr> {
    let out = ip_cmd(&["-j", "-4", "addr", "show", "dev", "lo"]).unwrap();
    let links: Value = serde_json::from_str(&out).unwrap();
    let mut found = BTreeSet::new();
    for link in links.as_array().unwrap() {
        for info in link["addr_info"].as_array().unwrap() {
            let ip: Ipv4Addr = info["local"].as_str().unwrap().parse().unwrap();
            if info["prefixlen"] == 32 && cidr.contains(&ip) {
                found.insert(ip);
            }
        }
    }
    found
}

/// Removes every /32 of its range from lo when dropped.
struct LoRange(Ipv4Net);

impl LoRange {
    fn new(cidr: &str) -> LoRange {
        let range = LoRange(cidr.parse().unwrap());
        range.clear();
        range
    }

    fn add(&self, ip: Ipv4Addr) {
        assert!(self.0.contains(&ip));
        ip_cmd(&["addr", "add", &format!("{ip}/32"), "dev", "lo"]).unwrap();
    }

    fn addresses(&self) -> BTreeSet<Ipv4Addr> {
        lo_addresses(self.0)
    }

    fn clear(&self) {
        for ip in lo_addresses(self.0) {
            let _ = ip_cmd(&["addr", "del", &format!("{ip}/32"), "dev", "lo"]);
        }
    }
}

impl Drop for LoRange {
    fn drop(&mut self) {
        self.clear();
    }
}

/// A TCP server that greets every connection with its own address, then echoes lines.
struct Backend {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn backend(addr: SocketAddr) -> Backend {
    let listener = TcpListener::bind(addr).await.unwrap();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let (read, mut write) = conn.split();
                if write
                    .write_all(format!("{addr}\n").as_bytes())
                    .await
                    .is_err()
                {
                    return;
                }
                let mut lines = BufReader::new(read).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if write
                        .write_all(format!("{line}\n").as_bytes())
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    Backend { addr, task }
}

/// A connection through the proxy: the backend that answered, and the stream for more.
struct Conn {
    backend: String,
    lines: tokio::io::Lines<BufReader<TcpStream>>,
}

impl Conn {
    async fn echo(&mut self, text: &str) -> io::Result<String> {
        self.lines
            .get_mut()
            .get_mut()
            .write_all(format!("{text}\n").as_bytes())
            .await?;
        self.lines
            .next_line()
            .await?
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "closed"))
    }
}

async fn connect(addr: SocketAddr) -> io::Result<Conn> {
    let stream = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(addr))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
    let mut lines = BufReader::new(stream).lines();
    let backend = lines
        .next_line()
        .await?
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "closed before greeting"))?;
    Ok(Conn { backend, lines })
}

async fn backend_of(addr: SocketAddr) -> String {
    connect(addr).await.unwrap().backend
}

/// Waits (up to a minute: the machine is shared) until `cond` holds.
async fn eventually<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..1200 {
        if cond().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

struct RunningProxy {
    status: ProxyStatus,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RunningProxy {
    fn start(cluster: &TestCluster, cidr: &str) -> RunningProxy {
        let config = ServiceProxyConfig::new(cidr.parse().unwrap());
        Self::start_with(cluster, config)
    }

    fn start_with(cluster: &TestCluster, config: ServiceProxyConfig) -> RunningProxy {
        assert!(config.manage_addresses, "these tests need root");
        let proxy = ServiceProxy::new(cluster.client.clone(), config);
        let status = proxy.status();
        let (shutdown, rx) = watch::channel(false);
        let task = tokio::spawn(proxy.run(rx));
        RunningProxy {
            status,
            shutdown,
            task,
        }
    }

    fn port(&self, service: &str, port: &str) -> Value {
        let snap = self.status.snapshot();
        snap["services"][service]["ports"]
            .as_array()
            .and_then(|ports| ports.iter().find(|p| p["name"] == port).cloned())
            .unwrap_or(Value::Null)
    }

    fn endpoints(&self, service: &str, port: &str) -> usize {
        self.port(service, port)["endpoints"]
            .as_array()
            .map_or(0, Vec::len)
    }

    fn listening(&self, service: &str, port: &str) -> usize {
        self.port(service, port)["listening"]
            .as_array()
            .map_or(0, Vec::len)
    }

    async fn stop(self) {
        self.shutdown.send_replace(true);
        tokio::time::timeout(Duration::from_secs(60), self.task)
            .await
            .expect("the proxy stops")
            .unwrap();
    }
}

async fn create_service(cluster: &TestCluster, spec: Value) {
    let svc: Service = serde_json::from_value(spec).unwrap();
    Api::<Service>::namespaced(cluster.client.clone(), "default")
        .create(&PostParams::default(), &svc)
        .await
        .unwrap();
}

fn slice_json(service: &str, endpoints: &[(&str, bool)], port: u16) -> EndpointSlice {
    let endpoints: Vec<Value> = endpoints
        .iter()
        .map(|(ip, ready)| json!({"addresses": [ip], "conditions": {"ready": ready}}))
        .collect();
    serde_json::from_value(json!({
        "metadata": {"name": format!("{service}-abc"), "namespace": "default",
                     "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": port, "protocol": "TCP"}],
        "endpoints": endpoints,
    }))
    .unwrap()
}

async fn put_slice(cluster: &TestCluster, slice: EndpointSlice) {
    let api = Api::<EndpointSlice>::namespaced(cluster.client.clone(), "default");
    let name = slice.metadata.name.clone().unwrap();
    match api.get_opt(&name).await.unwrap() {
        Some(old) => {
            let mut slice = slice;
            slice.metadata.resource_version = old.metadata.resource_version;
            api.replace(&name, &PostParams::default(), &slice)
                .await
                .unwrap();
        }
        None => {
            api.create(&PostParams::default(), &slice).await.unwrap();
        }
    }
}

fn cluster_ip_service(name: &str, ip: &str) -> Value {
    json!({
        "metadata": {"name": name},
        "spec": {"clusterIP": ip, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
    })
}

// ---------------------------------------------------------------------------------------------
// Tests

#[tokio::test]
async fn cluster_ip_reaches_every_ready_endpoint() {
    let cluster = TestCluster::start().await.unwrap();
    let services = LoRange::new("10.109.1.0/24");
    let pods = LoRange::new("10.202.1.0/24");
    let mut backends = Vec::new();
    for i in 1..=3u8 {
        pods.add(Ipv4Addr::new(10, 202, 1, i));
        backends.push(backend(SocketAddr::from(([10, 202, 1, i], 8080))).await);
    }
    let proxy = RunningProxy::start(&cluster, "10.109.1.0/24");
    // A UDP port next to the TCP one: warned about, not fatal.
    create_service(
        &cluster,
        json!({"metadata": {"name": "web"}, "spec": {"clusterIP": "10.109.1.10", "ports": [
            {"name": "http", "port": 80, "targetPort": 8080},
            {"name": "dns", "port": 53, "protocol": "UDP"}]}}),
    )
    .await;
    let eps: Vec<(&str, bool)> = vec![
        ("10.202.1.1", true),
        ("10.202.1.2", true),
        ("10.202.1.3", true),
    ];
    put_slice(&cluster, slice_json("web", &eps, 8080)).await;
    eventually("the service is proxied", || async {
        proxy.endpoints("default/web", "http") == 3 && proxy.listening("default/web", "http") == 1
    })
    .await;

    let vip: SocketAddr = "10.109.1.10:80".parse().unwrap();
    let mut seen = BTreeSet::new();
    for _ in 0..6 {
        seen.insert(backend_of(vip).await);
    }
    let all: BTreeSet<String> = backends.iter().map(|b| b.addr.to_string()).collect();
    assert_eq!(seen, all, "round-robin reaches every endpoint");
    let snap = proxy.status.snapshot();
    assert_eq!(
        snap["services"]["default/web"]["unsupportedPorts"],
        json!(["53/UDP"])
    );

    proxy.stop().await;
    assert!(
        services.addresses().is_empty(),
        "shutdown removes the Service addresses"
    );
}

#[tokio::test]
async fn not_ready_endpoint_gets_no_new_connections_but_keeps_old_ones() {
    let cluster = TestCluster::start().await.unwrap();
    let _services = LoRange::new("10.109.2.0/24");
    let pods = LoRange::new("10.202.2.0/24");
    pods.add(Ipv4Addr::new(10, 202, 2, 1));
    pods.add(Ipv4Addr::new(10, 202, 2, 2));
    let a = backend("10.202.2.1:8080".parse().unwrap()).await;
    let b = backend("10.202.2.2:8080".parse().unwrap()).await;
    let proxy = RunningProxy::start(&cluster, "10.109.2.0/24");
    create_service(&cluster, cluster_ip_service("web", "10.109.2.10")).await;
    put_slice(
        &cluster,
        slice_json("web", &[("10.202.2.1", true), ("10.202.2.2", true)], 8080),
    )
    .await;
    eventually("both endpoints are used", || async {
        proxy.endpoints("default/web", "http") == 2 && proxy.listening("default/web", "http") == 1
    })
    .await;

    let vip: SocketAddr = "10.109.2.10:80".parse().unwrap();
    // Keep one connection to b open across the change.
    let mut to_b = None;
    for _ in 0..4 {
        let conn = connect(vip).await.unwrap();
        if conn.backend == b.addr.to_string() {
            to_b = Some(conn);
            break;
        }
    }
    let mut to_b = to_b.expect("round-robin reaches b");

    put_slice(
        &cluster,
        slice_json("web", &[("10.202.2.1", true), ("10.202.2.2", false)], 8080),
    )
    .await;
    eventually("b is dropped", || async {
        proxy.endpoints("default/web", "http") == 1
    })
    .await;
    for _ in 0..5 {
        assert_eq!(backend_of(vip).await, a.addr.to_string());
    }
    assert_eq!(
        to_b.echo("still there").await.unwrap(),
        "still there",
        "an established connection keeps running (draining)"
    );
    proxy.stop().await;
}

#[tokio::test]
async fn node_port_listens_on_loopback() {
    let cluster = TestCluster::start().await.unwrap();
    let _services = LoRange::new("10.109.3.0/24");
    let pods = LoRange::new("10.202.3.0/24");
    pods.add(Ipv4Addr::new(10, 202, 3, 1));
    let a = backend("10.202.3.1:8080".parse().unwrap()).await;
    let proxy = RunningProxy::start(&cluster, "10.109.3.0/24");
    create_service(
        &cluster,
        json!({"metadata": {"name": "web"}, "spec": {"type": "NodePort", "clusterIP": "10.109.3.10",
            "ports": [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": 31873}]}}),
    )
    .await;
    put_slice(&cluster, slice_json("web", &[("10.202.3.1", true)], 8080)).await;
    eventually("cluster IP and NodePort listen", || async {
        proxy.listening("default/web", "http") == 2
    })
    .await;
    assert_eq!(
        backend_of("127.0.0.1:31873".parse().unwrap()).await,
        a.addr.to_string()
    );
    assert_eq!(
        backend_of("10.109.3.10:80".parse().unwrap()).await,
        a.addr.to_string()
    );
    proxy.stop().await;
    assert!(
        TcpStream::connect("127.0.0.1:31873").await.is_err(),
        "the NodePort closes at shutdown"
    );
}

#[tokio::test]
async fn client_ip_affinity_sticks() {
    let cluster = TestCluster::start().await.unwrap();
    let _services = LoRange::new("10.109.4.0/24");
    let pods = LoRange::new("10.202.4.0/24");
    let mut backends = Vec::new();
    for i in 1..=3u8 {
        pods.add(Ipv4Addr::new(10, 202, 4, i));
        backends.push(backend(SocketAddr::from(([10, 202, 4, i], 8080))).await);
    }
    let proxy = RunningProxy::start(&cluster, "10.109.4.0/24");
    create_service(
        &cluster,
        json!({"metadata": {"name": "web"}, "spec": {"clusterIP": "10.109.4.10",
            "sessionAffinity": "ClientIP",
            "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 600}},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}),
    )
    .await;
    let eps = [
        ("10.202.4.1", true),
        ("10.202.4.2", true),
        ("10.202.4.3", true),
    ];
    put_slice(&cluster, slice_json("web", &eps, 8080)).await;
    eventually("the service is proxied", || async {
        proxy.endpoints("default/web", "http") == 3 && proxy.listening("default/web", "http") == 1
    })
    .await;
    let vip: SocketAddr = "10.109.4.10:80".parse().unwrap();
    let first = backend_of(vip).await;
    for _ in 0..6 {
        assert_eq!(backend_of(vip).await, first, "same client, same endpoint");
    }
    // The sticky endpoint goes: the client moves to another and sticks there.
    let remaining: Vec<(&str, bool)> = eps
        .iter()
        .filter(|(ip, _)| !first.starts_with(&format!("{ip}:")))
        .copied()
        .collect();
    put_slice(&cluster, slice_json("web", &remaining, 8080)).await;
    eventually("the endpoint is gone", || async {
        proxy.endpoints("default/web", "http") == 2
    })
    .await;
    let second = backend_of(vip).await;
    assert_ne!(second, first);
    for _ in 0..4 {
        assert_eq!(backend_of(vip).await, second);
    }
    proxy.stop().await;
}

#[tokio::test]
async fn no_ready_endpoint_refuses_and_a_refusing_endpoint_is_skipped() {
    let cluster = TestCluster::start().await.unwrap();
    let services = LoRange::new("10.109.5.0/24");
    let pods = LoRange::new("10.202.5.0/24");
    pods.add(Ipv4Addr::new(10, 202, 5, 1));
    pods.add(Ipv4Addr::new(10, 202, 5, 2));
    let proxy = RunningProxy::start(&cluster, "10.109.5.0/24");
    create_service(&cluster, cluster_ip_service("web", "10.109.5.10")).await;
    put_slice(&cluster, slice_json("web", &[("10.202.5.1", false)], 8080)).await;
    let vip: SocketAddr = "10.109.5.10:80".parse().unwrap();
    eventually("the cluster IP is on lo", || async {
        services
            .addresses()
            .contains(&Ipv4Addr::new(10, 109, 5, 10))
            && proxy.port("default/web", "http") != Value::Null
    })
    .await;
    let err = TcpStream::connect(vip)
        .await
        .expect_err("no ready endpoint: refused");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);

    // Two ready endpoints, one of which has nothing listening: every connection still works.
    let b = backend("10.202.5.2:8080".parse().unwrap()).await;
    put_slice(
        &cluster,
        slice_json("web", &[("10.202.5.1", true), ("10.202.5.2", true)], 8080),
    )
    .await;
    eventually("both endpoints are listed", || async {
        proxy.endpoints("default/web", "http") == 2 && proxy.listening("default/web", "http") == 1
    })
    .await;
    for _ in 0..4 {
        assert_eq!(backend_of(vip).await, b.addr.to_string());
    }
    proxy.stop().await;
}

#[tokio::test]
async fn deleting_a_service_removes_its_listener_and_address() {
    let cluster = TestCluster::start().await.unwrap();
    let services = LoRange::new("10.109.6.0/24");
    let pods = LoRange::new("10.202.6.0/24");
    pods.add(Ipv4Addr::new(10, 202, 6, 1));
    let a = backend("10.202.6.1:8080".parse().unwrap()).await;
    let proxy = RunningProxy::start(&cluster, "10.109.6.0/24");
    create_service(&cluster, cluster_ip_service("web", "10.109.6.10")).await;
    put_slice(&cluster, slice_json("web", &[("10.202.6.1", true)], 8080)).await;
    let vip: SocketAddr = "10.109.6.10:80".parse().unwrap();
    eventually("the service is proxied", || async {
        proxy.listening("default/web", "http") == 1
    })
    .await;
    let mut open = connect(vip).await.unwrap();
    assert_eq!(open.backend, a.addr.to_string());

    Api::<Service>::namespaced(cluster.client.clone(), "default")
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    eventually(
        "the address leaves lo and the service the proxy",
        || async {
            services.addresses().is_empty()
                && proxy.status.snapshot()["services"]["default/web"] == Value::Null
        },
    )
    .await;
    // The listener is closed: the address and port can be taken by someone else.
    services.add(Ipv4Addr::new(10, 109, 6, 10));
    assert!(TcpListener::bind(vip).await.is_ok(), "the port is free");
    assert_eq!(
        open.echo("hi").await.unwrap(),
        "hi",
        "the old connection drains"
    );
    proxy.stop().await;
}

#[tokio::test]
async fn leftover_addresses_are_removed_at_start_and_all_at_shutdown() {
    let cluster = TestCluster::start().await.unwrap();
    let services = LoRange::new("10.109.7.0/24");
    let pods = LoRange::new("10.202.7.0/24");
    pods.add(Ipv4Addr::new(10, 202, 7, 1));
    let a = backend("10.202.7.1:8080".parse().unwrap()).await;
    let leftover = Ipv4Addr::new(10, 109, 7, 200);
    let kept = Ipv4Addr::new(10, 109, 7, 10);
    let dns = Ipv4Addr::new(10, 109, 7, 53);
    services.add(leftover);
    services.add(kept);
    create_service(&cluster, cluster_ip_service("web", "10.109.7.10")).await;
    put_slice(&cluster, slice_json("web", &[("10.202.7.1", true)], 8080)).await;

    let mut config = ServiceProxyConfig::new("10.109.7.0/24".parse().unwrap());
    config.locally_served = vec![dns];
    let proxy = RunningProxy::start_with(&cluster, config);
    eventually("the leftover is removed", || async {
        !services.addresses().contains(&leftover)
    })
    .await;
    eventually("the service is proxied", || async {
        proxy.listening("default/web", "http") == 1
    })
    .await;
    assert_eq!(services.addresses(), BTreeSet::from([kept, dns]));
    assert_eq!(
        backend_of("10.109.7.10:80".parse().unwrap()).await,
        a.addr.to_string()
    );
    assert_eq!(
        proxy.status.snapshot()["services"]["default/web"]["addressesOnLo"],
        json!(["10.109.7.10"]),
        "an address already on lo is adopted"
    );
    proxy.stop().await;
    assert_eq!(services.addresses(), BTreeSet::new());
}

/// Removes a network namespace (and with it its veth pair) when dropped.
struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = ip_cmd(&["netns", "del", &self.0]);
    }
}

#[tokio::test]
async fn reachable_from_a_network_namespace() {
    let cluster = TestCluster::start().await.unwrap();
    let _services = LoRange::new("10.109.8.0/24");
    let pods = LoRange::new("10.202.8.0/24");
    pods.add(Ipv4Addr::new(10, 202, 8, 1));
    let a = backend("10.202.8.1:8080".parse().unwrap()).await;

    let ns = Netns("bproxy-test8".to_string());
    let _ = ip_cmd(&["netns", "del", &ns.0]);
    let _ = ip_cmd(&["link", "del", "bpx8h"]);
    ip_cmd(&["netns", "add", &ns.0]).unwrap();
    ip_cmd(&[
        "link", "add", "bpx8h", "type", "veth", "peer", "name", "bpx8n", "netns", &ns.0,
    ])
    .unwrap();
    ip_cmd(&["addr", "add", "10.208.8.1/24", "dev", "bpx8h"]).unwrap();
    ip_cmd(&["link", "set", "bpx8h", "up"]).unwrap();
    for args in [
        vec!["addr", "add", "10.208.8.2/24", "dev", "bpx8n"],
        vec!["link", "set", "bpx8n", "up"],
        vec!["link", "set", "lo", "up"],
        vec!["route", "add", "default", "via", "10.208.8.1"],
    ] {
        let mut full = vec!["netns", "exec", ns.0.as_str(), "ip"];
        full.extend(args);
        ip_cmd(&full).unwrap();
    }

    let proxy = RunningProxy::start(&cluster, "10.109.8.0/24");
    create_service(&cluster, cluster_ip_service("web", "10.109.8.10")).await;
    put_slice(&cluster, slice_json("web", &[("10.202.8.1", true)], 8080)).await;
    eventually("the service is proxied", || async {
        proxy.listening("default/web", "http") == 1
    })
    .await;
    let ns_name = ns.0.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns_name,
                "timeout",
                "20",
                "bash",
                "-c",
                "exec 3<>/dev/tcp/10.109.8.10/80; head -n1 <&3",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        a.addr.to_string()
    );
    proxy.stop().await;
}
