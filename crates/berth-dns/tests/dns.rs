//! The cluster DNS server against an in-process API server, queried over real UDP and TCP
//! sockets: by a small client built on hickory-proto, and by `dig` where it is installed.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use berth_apiserver::testing::TestCluster;
use berth_dns::{BoundDnsServer, DnsConfig, DnsError, DnsHandle, DnsServer};
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use k8s_openapi::api::core::v1::{Namespace, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::watch;

// ---------------------------------------------------------------------------------------------
// Cluster objects

async fn create_namespace(client: &kube::Client, name: &str) {
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
}

async fn create_service(client: &kube::Client, ns: &str, body: serde_json::Value) -> Service {
    let svc: Service = serde_json::from_value(body).unwrap();
    Api::<Service>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &svc)
        .await
        .unwrap()
}

fn slice_body(service: &str, name: &str, endpoints: serde_json::Value) -> EndpointSlice {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4",
        "ports": [{"name": "pg", "protocol": "TCP", "port": 5432}],
        "endpoints": endpoints,
    }))
    .unwrap()
}

async fn create_slice(
    client: &kube::Client,
    ns: &str,
    service: &str,
    name: &str,
    endpoints: serde_json::Value,
) {
    Api::<EndpointSlice>::namespaced(client.clone(), ns)
        .create(
            &PostParams::default(),
            &slice_body(service, name, endpoints),
        )
        .await
        .unwrap();
}

fn cluster_ip(svc: &Service) -> IpAddr {
    svc.spec
        .as_ref()
        .and_then(|s| s.cluster_ip.as_deref())
        .unwrap()
        .parse()
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Servers

struct Running {
    addr: SocketAddr,
    handle: DnsHandle,
    _shutdown: watch::Sender<bool>,
}

async fn bind(client: &kube::Client, domain: &str, upstreams: Vec<SocketAddr>) -> BoundDnsServer {
    let config = DnsConfig {
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        cluster_domain: domain.to_string(),
        upstreams,
        ttl: 5,
    };
    DnsServer::new(client.clone(), config).bind().await.unwrap()
}

async fn start(client: &kube::Client, domain: &str, upstreams: Vec<SocketAddr>) -> Running {
    let server = bind(client, domain, upstreams).await;
    let addr = server.local_addrs()[0];
    let handle = server.handle();
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move { server.run(rx).await.unwrap() });
    handle.wait_synced().await;
    Running {
        addr,
        handle,
        _shutdown: tx,
    }
}

// ---------------------------------------------------------------------------------------------
// A client on hickory-proto

#[derive(Clone, Copy, PartialEq)]
enum Via {
    Udp,
    /// UDP, with EDNS advertising this payload size.
    UdpEdns(u16),
    Tcp,
}

fn query_message(id: u16, name: &str, qtype: RecordType, via: Via) -> Message {
    let mut msg = Message::new(id, MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = true;
    msg.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
    if let Via::UdpEdns(size) = via {
        let mut edns = Edns::new();
        edns.set_max_payload(size);
        msg.set_edns(edns);
    }
    msg
}

async fn exchange(server: SocketAddr, query: &Message, via: Via) -> Message {
    let bytes = query.to_vec().unwrap();
    let answer = match via {
        Via::Udp | Via::UdpEdns(_) => {
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            socket.send_to(&bytes, server).await.unwrap();
            let mut buf = vec![0u8; 65535];
            // A hang guard, not a timing assertion: the server answers at once.
            let (n, _) = tokio::time::timeout(Duration::from_secs(30), socket.recv_from(&mut buf))
                .await
                .expect("no UDP answer")
                .unwrap();
            buf.truncate(n);
            buf
        }
        Via::Tcp => {
            let mut stream = TcpStream::connect(server).await.unwrap();
            stream
                .write_all(&u16::try_from(bytes.len()).unwrap().to_be_bytes())
                .await
                .unwrap();
            stream.write_all(&bytes).await.unwrap();
            let len = stream.read_u16().await.unwrap();
            let mut buf = vec![0u8; usize::from(len)];
            stream.read_exact(&mut buf).await.unwrap();
            buf
        }
    };
    let answer = Message::from_vec(&answer).unwrap();
    assert_eq!(
        answer.metadata.id, query.metadata.id,
        "the answer keeps the id"
    );
    assert_eq!(answer.metadata.message_type, MessageType::Response);
    answer
}

async fn ask(server: SocketAddr, name: &str, qtype: RecordType, via: Via) -> Message {
    let id = rand::random();
    exchange(server, &query_message(id, name, qtype, via), via).await
}

fn addresses(records: &[Record]) -> Vec<IpAddr> {
    let mut ips: Vec<IpAddr> = records
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::AAAA(a) => Some(IpAddr::V6(a.0)),
            _ => None,
        })
        .collect();
    ips.sort();
    ips
}

fn ips(list: &[&str]) -> Vec<IpAddr> {
    let mut ips: Vec<IpAddr> = list.iter().map(|s| s.parse().unwrap()).collect();
    ips.sort();
    ips
}

/// SRV answers as (port, target).
fn srv(records: &[Record]) -> Vec<(u16, String)> {
    let mut out: Vec<(u16, String)> = records
        .iter()
        .filter_map(|r| match &r.data {
            RData::SRV(s) => Some((s.port, s.target.to_ascii())),
            _ => None,
        })
        .collect();
    out.sort();
    out
}

fn has_soa(msg: &Message) -> bool {
    msg.authorities
        .iter()
        .any(|r| matches!(r.data, RData::SOA(_)))
}

// ---------------------------------------------------------------------------------------------
// Tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_ip_service_records() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    create_namespace(&client, "shop").await;
    let web = create_service(
        &client,
        "shop",
        json!({"metadata": {"name": "web"}, "spec": {"ports": [
            {"name": "http", "port": 80, "protocol": "TCP"},
            {"name": "dns", "port": 53, "protocol": "UDP"}]}}),
    )
    .await;
    let web_ip = cluster_ip(&web);
    let dns = start(&client, "cluster.local", Vec::new()).await;

    // A, over UDP and TCP, case-insensitively, with the question's spelling kept.
    for via in [Via::Udp, Via::Tcp] {
        let answer = ask(dns.addr, "web.shop.svc.cluster.local.", RecordType::A, via).await;
        assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
        assert!(answer.metadata.authoritative);
        assert_eq!(addresses(&answer.answers), vec![web_ip]);
        assert_eq!(answer.answers[0].ttl, 5);
    }
    let answer = ask(
        dns.addr,
        "WEB.Shop.svc.Cluster.Local.",
        RecordType::A,
        Via::Udp,
    )
    .await;
    assert_eq!(addresses(&answer.answers), vec![web_ip]);
    assert_eq!(
        answer.answers[0].name.to_ascii(),
        "WEB.Shop.svc.Cluster.Local."
    );

    // AAAA of an IPv4-only Service: the name exists, no data.
    let answer = ask(
        dns.addr,
        "web.shop.svc.cluster.local.",
        RecordType::AAAA,
        Via::Udp,
    )
    .await;
    assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
    assert!(answer.answers.is_empty());
    assert!(has_soa(&answer), "NODATA carries the SOA");

    // SRV for a named port, with the Service's address in the additional section.
    let answer = ask(
        dns.addr,
        "_http._tcp.web.shop.svc.cluster.local.",
        RecordType::SRV,
        Via::Udp,
    )
    .await;
    assert_eq!(
        srv(&answer.answers),
        vec![(80, "web.shop.svc.cluster.local.".to_string())]
    );
    assert_eq!(addresses(&answer.additionals), vec![web_ip]);
    let answer = ask(
        dns.addr,
        "_dns._udp.web.shop.svc.cluster.local.",
        RecordType::SRV,
        Via::Udp,
    )
    .await;
    assert_eq!(srv(&answer.answers).len(), 1);
    let answer = ask(
        dns.addr,
        "_http._udp.web.shop.svc.cluster.local.",
        RecordType::SRV,
        Via::Udp,
    )
    .await;
    assert_eq!(answer.metadata.response_code, ResponseCode::NXDomain);

    // Names that do not exist.
    for name in [
        "nothere.shop.svc.cluster.local.",
        "web.elsewhere.svc.cluster.local.",
        "google.com.shop.svc.cluster.local.",
        "x.y.z.cluster.local.",
    ] {
        let answer = ask(dns.addr, name, RecordType::A, Via::Udp).await;
        assert_eq!(
            answer.metadata.response_code,
            ResponseCode::NXDomain,
            "{name}"
        );
        assert!(has_soa(&answer), "{name}: NXDOMAIN carries the SOA");
    }
    // The namespace level exists when it has Services.
    let answer = ask(dns.addr, "shop.svc.cluster.local.", RecordType::A, Via::Udp).await;
    assert_eq!(answer.metadata.response_code, ResponseCode::NoError);

    // Pods, `pods insecure`.
    let answer = ask(
        dns.addr,
        "10-244-1-7.shop.pod.cluster.local.",
        RecordType::A,
        Via::Udp,
    )
    .await;
    assert_eq!(addresses(&answer.answers), ips(&["10.244.1.7"]));
    let answer = ask(
        dns.addr,
        "not-an-ip.shop.pod.cluster.local.",
        RecordType::A,
        Via::Udp,
    )
    .await;
    assert_eq!(answer.metadata.response_code, ResponseCode::NXDomain);

    // PTR of the cluster IP.
    let IpAddr::V4(v4) = web_ip else {
        panic!("IPv4 cluster IP expected")
    };
    let o = v4.octets();
    let reverse = format!("{}.{}.{}.{}.in-addr.arpa.", o[3], o[2], o[1], o[0]);
    let answer = ask(dns.addr, &reverse, RecordType::PTR, Via::Udp).await;
    let targets: Vec<String> = answer
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::PTR(p) => Some(p.0.to_ascii()),
            _ => None,
        })
        .collect();
    assert_eq!(targets, vec!["web.shop.svc.cluster.local.".to_string()]);

    // Schema version, SOA at the apex.
    let answer = ask(
        dns.addr,
        "dns-version.cluster.local.",
        RecordType::TXT,
        Via::Udp,
    )
    .await;
    assert_eq!(answer.answers.len(), 1);
    let answer = ask(dns.addr, "cluster.local.", RecordType::SOA, Via::Udp).await;
    assert!(matches!(answer.answers[0].data, RData::SOA(_)));

    let snapshot = dns.handle.snapshot();
    assert_eq!(snapshot["synced"], true);
    assert!(snapshot["queries"]["nxdomain"].as_u64().unwrap() >= 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_service_follows_ready_endpoints() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    create_service(
        &client,
        "default",
        json!({"metadata": {"name": "db"}, "spec": {"clusterIP": "None",
            "ports": [{"name": "pg", "port": 5432}]}}),
    )
    .await;
    create_slice(
        &client,
        "default",
        "db",
        "db-a",
        json!([
            {"addresses": ["10.244.0.10"], "hostname": "db-0", "conditions": {"ready": true}},
            {"addresses": ["10.244.0.11"], "hostname": "db-1", "conditions": {"ready": true}},
            {"addresses": ["10.244.0.12"], "hostname": "db-2", "conditions": {"ready": false}},
        ]),
    )
    .await;
    // A second slice of the same Service; no `ready` condition counts as ready.
    create_slice(
        &client,
        "default",
        "db",
        "db-b",
        json!([{"addresses": ["10.244.0.13"]}]),
    )
    .await;
    let dns = start(&client, "cluster.local", Vec::new()).await;

    let answer = ask(
        dns.addr,
        "db.default.svc.cluster.local.",
        RecordType::A,
        Via::Udp,
    )
    .await;
    assert_eq!(
        addresses(&answer.answers),
        ips(&["10.244.0.10", "10.244.0.11", "10.244.0.13"]),
        "ready endpoints only"
    );

    // Per-endpoint names: the hostname, or the dashed address.
    let answer = ask(
        dns.addr,
        "db-1.db.default.svc.cluster.local.",
        RecordType::A,
        Via::Tcp,
    )
    .await;
    assert_eq!(addresses(&answer.answers), ips(&["10.244.0.11"]));
    let answer = ask(
        dns.addr,
        "10-244-0-13.db.default.svc.cluster.local.",
        RecordType::A,
        Via::Udp,
    )
    .await;
    assert_eq!(addresses(&answer.answers), ips(&["10.244.0.13"]));
    let answer = ask(
        dns.addr,
        "db-2.db.default.svc.cluster.local.",
        RecordType::A,
        Via::Udp,
    )
    .await;
    assert_eq!(
        answer.metadata.response_code,
        ResponseCode::NXDomain,
        "a not-ready endpoint has no name"
    );

    // SRV: one per ready endpoint, targets are the endpoint names.
    let answer = ask(
        dns.addr,
        "_pg._tcp.db.default.svc.cluster.local.",
        RecordType::SRV,
        Via::Udp,
    )
    .await;
    assert_eq!(
        srv(&answer.answers),
        vec![
            (
                5432,
                "10-244-0-13.db.default.svc.cluster.local.".to_string()
            ),
            (5432, "db-0.db.default.svc.cluster.local.".to_string()),
            (5432, "db-1.db.default.svc.cluster.local.".to_string()),
        ]
    );
    assert_eq!(
        addresses(&answer.additionals),
        ips(&["10.244.0.10", "10.244.0.11", "10.244.0.13"])
    );

    // The slice changes: db-2 turns ready, db-0 goes away.
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), "default");
    let body = slice_body(
        "db",
        "db-a",
        json!([
            {"addresses": ["10.244.0.11"], "hostname": "db-1", "conditions": {"ready": true}},
            {"addresses": ["10.244.0.12"], "hostname": "db-2", "conditions": {"ready": true}},
        ]),
    );
    slices
        .patch(
            "db-a",
            &PatchParams::apply("test").force(),
            &Patch::Apply(&body),
        )
        .await
        .unwrap();
    let want = ips(&["10.244.0.11", "10.244.0.12", "10.244.0.13"]);
    let mut seen = Vec::new();
    // Bounded wait for the watch event (a hang guard; no duration is asserted).
    for _ in 0..300 {
        let answer = ask(
            dns.addr,
            "db.default.svc.cluster.local.",
            RecordType::A,
            Via::Udp,
        )
        .await;
        seen = addresses(&answer.answers);
        if seen == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, want);
    let answer = ask(
        dns.addr,
        "db-0.db.default.svc.cluster.local.",
        RecordType::A,
        Via::Udp,
    )
    .await;
    assert_eq!(answer.metadata.response_code, ResponseCode::NXDomain);

    // AAAA: the Service exists, so NODATA.
    let answer = ask(
        dns.addr,
        "db.default.svc.cluster.local.",
        RecordType::AAAA,
        Via::Udp,
    )
    .await;
    assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
    assert!(answer.answers.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_answers_are_truncated_over_udp_and_whole_over_tcp() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    create_service(
        &client,
        "default",
        json!({"metadata": {"name": "many"}, "spec": {"clusterIP": "None",
            "ports": [{"name": "pg", "port": 5432}]}}),
    )
    .await;
    let endpoints: Vec<serde_json::Value> = (1..=80)
        .map(|i| json!({"addresses": [format!("10.244.1.{i}")]}))
        .collect();
    create_slice(&client, "default", "many", "many-a", json!(endpoints)).await;
    let dns = start(&client, "cluster.local", Vec::new()).await;

    let name = "many.default.svc.cluster.local.";
    let udp = ask(dns.addr, name, RecordType::A, Via::Udp).await;
    assert!(
        udp.metadata.truncation,
        "80 records do not fit in 512 bytes"
    );
    assert!(udp.answers.is_empty());
    let edns = ask(dns.addr, name, RecordType::A, Via::UdpEdns(4096)).await;
    assert!(!edns.metadata.truncation);
    assert_eq!(edns.answers.len(), 80);
    let tcp = ask(dns.addr, name, RecordType::A, Via::Tcp).await;
    assert!(!tcp.metadata.truncation);
    assert_eq!(tcp.answers.len(), 80);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_name_is_a_cname() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    create_service(
        &client,
        "default",
        json!({"metadata": {"name": "inside"}, "spec": {"ports": [{"port": 80}]}}),
    )
    .await;
    create_service(
        &client,
        "default",
        json!({"metadata": {"name": "alias"}, "spec": {"type": "ExternalName",
            "externalName": "inside.default.svc.cluster.local"}}),
    )
    .await;
    let dns = start(&client, "cluster.local", Vec::new()).await;
    let answer = ask(
        dns.addr,
        "alias.default.svc.cluster.local.",
        RecordType::A,
        Via::Udp,
    )
    .await;
    assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
    let cname: Vec<String> = answer
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::CNAME(c) => Some(c.0.to_ascii()),
            _ => None,
        })
        .collect();
    assert_eq!(cname, vec!["inside.default.svc.cluster.local.".to_string()]);
    // The in-cluster target is followed within the same answer.
    assert_eq!(addresses(&answer.answers).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwards_other_names_to_the_upstreams() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    create_service(
        &client,
        "default",
        json!({"metadata": {"name": "www"}, "spec": {"clusterIP": "None"}}),
    )
    .await;
    let endpoints: Vec<serde_json::Value> = (1..=80)
        .map(|i| json!({"addresses": [format!("10.244.2.{i}")]}))
        .collect();
    create_slice(&client, "default", "www", "www-a", json!(endpoints)).await;
    // The upstream: a second server, authoritative for another domain.
    let upstream = start(&client, "example.test", Vec::new()).await;
    // An upstream that never answers comes first: the next one is tried.
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let dns = start(&client, "cluster.local", vec![silent_addr, upstream.addr]).await;

    let name = "www.default.svc.example.test.";
    let id = 0x4242;
    let answer = exchange(
        dns.addr,
        &query_message(id, name, RecordType::A, Via::UdpEdns(4096)),
        Via::UdpEdns(4096),
    )
    .await;
    assert_eq!(answer.metadata.id, id);
    assert_eq!(answer.answers.len(), 80);

    // Over TCP without EDNS: the UDP answer from upstream is truncated, so the forwarder asks
    // again over TCP and the client gets everything.
    let answer = ask(dns.addr, name, RecordType::A, Via::Tcp).await;
    assert!(!answer.metadata.truncation);
    assert_eq!(answer.answers.len(), 80);

    // An ExternalName pointing outside the cluster: the CNAME, then the target's addresses as
    // the upstream gives them.
    create_service(
        &client,
        "default",
        json!({"metadata": {"name": "ext"}, "spec": {"type": "ExternalName",
            "externalName": "www.default.svc.example.test"}}),
    )
    .await;
    let mut answer = Message::new(0, MessageType::Response, OpCode::Query);
    for _ in 0..300 {
        answer = ask(
            dns.addr,
            "ext.default.svc.cluster.local.",
            RecordType::A,
            Via::UdpEdns(4096),
        )
        .await;
        if answer.metadata.response_code == ResponseCode::NoError {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        matches!(answer.answers[0].data, RData::CNAME(_)),
        "{answer:?}"
    );
    assert_eq!(addresses(&answer.answers).len(), 80);

    // Upstream's negative answers pass through.
    let answer = ask(
        dns.addr,
        "nope.default.svc.example.test.",
        RecordType::A,
        Via::Udp,
    )
    .await;
    assert_eq!(answer.metadata.response_code, ResponseCode::NXDomain);
    assert!(
        dns.handle.snapshot()["queries"]["forwarded"]
            .as_u64()
            .unwrap()
            >= 3,
        "{}",
        dns.handle.snapshot()
    );

    // No upstream answers: SERVFAIL.
    let lonely = start(&client, "cluster.local", vec![silent_addr]).await;
    let answer = ask(lonely.addr, name, RecordType::A, Via::Udp).await;
    assert_eq!(answer.metadata.response_code, ResponseCode::ServFail);
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_errors_are_reported() {
    let cluster = TestCluster::start().await.unwrap();
    let taken = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let config = DnsConfig {
        listen: vec![taken.local_addr().unwrap()],
        ..DnsConfig::default()
    };
    let err = DnsServer::new(cluster.client.clone(), config)
        .bind()
        .await
        .err()
        .expect("binding a taken port fails");
    assert!(matches!(err, DnsError::Bind { .. }), "{err}");

    let config = DnsConfig {
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        cluster_domain: "bad..domain".to_string(),
        ..DnsConfig::default()
    };
    let err = DnsServer::new(cluster.client.clone(), config)
        .bind()
        .await
        .err()
        .expect("an invalid domain fails");
    assert!(
        matches!(err, DnsError::InvalidClusterDomain { .. }),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// dig

/// Runs dig; `None` (after saying so loudly) when it is not installed.
async fn dig(server: SocketAddr, args: &[&str]) -> Option<String> {
    let output = tokio::process::Command::new("dig")
        .arg(format!("@{}", server.ip()))
        .arg("-p")
        .arg(server.port().to_string())
        .args(["+tries=1", "+time=10"])
        .args(args)
        .output()
        .await;
    match output {
        Ok(out) => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("SKIPPING dig checks: dig is not installed (apt-get install -y dnsutils)");
            None
        }
        Err(e) => panic!("running dig: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dig_resolves_services() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    let web = create_service(
        &client,
        "default",
        json!({"metadata": {"name": "web"}, "spec": {"ports": [{"name": "http", "port": 80}]}}),
    )
    .await;
    let web_ip = cluster_ip(&web).to_string();
    let dns = start(&client, "cluster.local", Vec::new()).await;

    let Some(out) = dig(dns.addr, &["+short", "web.default.svc.cluster.local", "A"]).await else {
        return;
    };
    assert_eq!(out.trim(), web_ip);
    let out = dig(
        dns.addr,
        &["+tcp", "+short", "web.default.svc.cluster.local"],
    )
    .await
    .unwrap();
    assert_eq!(out.trim(), web_ip);
    let out = dig(
        dns.addr,
        &["+short", "_http._tcp.web.default.svc.cluster.local", "SRV"],
    )
    .await
    .unwrap();
    assert_eq!(out.trim(), "0 100 80 web.default.svc.cluster.local.");
    let out = dig(dns.addr, &["missing.default.svc.cluster.local"])
        .await
        .unwrap();
    assert!(out.contains("status: NXDOMAIN"), "{out}");
    assert!(
        out.contains("IN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local."),
        "{out}"
    );
    let out = dig(dns.addr, &["web.default.svc.cluster.local", "AAAA"])
        .await
        .unwrap();
    assert!(out.contains("status: NOERROR"), "{out}");
    assert!(out.contains("ANSWER: 0"), "{out}");
}
