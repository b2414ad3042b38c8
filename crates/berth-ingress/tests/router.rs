//! The router against an in-process API server and real backends in a network namespace.
//! Each test owns the subnet 10.204.<n>.0/24 (n = its number below).

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{Backend, Env, PodNet, client_builder, init_tracing, path};
use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_routing_spreads_over_three_endpoints_and_publishes_status() {
    init_tracing();
    let net = PodNet::new(1, 3);
    let backends: Vec<Backend> = (0..3)
        .map(|i| Backend::start(&net, i, 8080, &format!("web-{i}")))
        .collect();
    let env = Env::start().await;
    env.service("web").await;
    let eps: Vec<(SocketAddr, bool)> = backends.iter().map(|b| (b.addr, true)).collect();
    env.slice("web", &eps).await;
    env.ingress(json!({
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"ingressClassName": "berth",
                 "rules": [{"host": "web.test", "http": {"paths": [path("/", "Prefix", "web")]}}]},
    }))
    .await;
    let addrs: Vec<SocketAddr> = backends.iter().map(|b| b.addr).collect();
    env.wait_for_endpoints("default-web-80", &addrs).await;

    let mut seen: HashMap<String, usize> = HashMap::new();
    for _ in 0..30 {
        *seen
            .entry(env.who("web.test", "/x", &[]).await)
            .or_default() += 1;
    }
    // Round-robin: every endpoint gets its share.
    for b in &backends {
        assert_eq!(seen.get(&b.name), Some(&10), "{seen:?}");
    }
    // Host matching ignores case and port.
    assert!(env.who("WEB.test:8080", "/", &[]).await.starts_with("web-"));
    // Another host: nothing serves it.
    assert_eq!(
        env.get("other.test", "/").await,
        (404, "default backend - 404".to_string())
    );

    // The IngressClass exists as the default class, and the status carries the address.
    let class = Api::<IngressClass>::all(env.client())
        .get("berth")
        .await
        .unwrap();
    assert_eq!(
        class.spec.unwrap().controller.as_deref(),
        Some("berth.dev/ingress-router")
    );
    assert_eq!(
        class.metadata.annotations.unwrap()["ingressclass.kubernetes.io/is-default-class"],
        "true"
    );
    let ingresses: Api<Ingress> = Api::namespaced(env.client(), "default");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ing = ingresses.get("web").await.unwrap();
        let lb = ing
            .status
            .and_then(|s| s.load_balancer)
            .and_then(|l| l.ingress);
        if let Some(lb) = lb {
            assert_eq!(lb.len(), 1);
            assert_eq!(lb[0].ip.as_deref(), Some("127.0.0.1"));
            break;
        }
        assert!(Instant::now() < deadline, "status never published");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_exact_prefix_longest_match_and_default_backends() {
    init_tracing();
    let net = PodNet::new(2, 4);
    let names = ["root", "api", "v1", "fallback"];
    let backends: Vec<Backend> = names
        .iter()
        .enumerate()
        .map(|(i, n)| Backend::start(&net, i as u8, 8080, n))
        .collect();
    let env = Env::start().await;
    for b in &backends {
        env.service(&b.name).await;
        env.slice(&b.name, &[(b.addr, true)]).await;
    }
    env.ingress(json!({
        "metadata": {"name": "paths", "namespace": "default"},
        "spec": {
            "defaultBackend": {"service": {"name": "fallback", "port": {"name": "http"}}},
            "rules": [
                {"host": "p.test", "http": {"paths": [
                    path("/api", "Prefix", "api"),
                    path("/api/v1", "Exact", "v1"),
                    path("/static", "ImplementationSpecific", "root"),
                ]}},
                {"host": "q.test", "http": {"paths": [path("/", "Prefix", "root")]}},
            ]},
    }))
    .await;
    // A class-less Ingress with only a default backend takes over the catch-all server.
    env.ingress(json!({
        "metadata": {"name": "catch-all", "namespace": "default",
                     "annotations": {"kubernetes.io/ingress.class": "berth"}},
        "spec": {"defaultBackend": {"service": {"name": "root", "port": {"number": 80}}}},
    }))
    .await;
    // Another class's Ingress is not served.
    env.ingress(json!({
        "metadata": {"name": "foreign", "namespace": "default"},
        "spec": {"ingressClassName": "nginx",
                 "rules": [{"host": "foreign.test", "http": {"paths": [path("/", "Prefix", "api")]}}]},
    }))
    .await;
    for b in &backends[..3] {
        env.wait_for_endpoints(&format!("default-{}-80", b.name), &[b.addr])
            .await;
    }
    // Its port is given by name.
    env.wait_for_endpoints("default-fallback-http", &[backends[3].addr])
        .await;
    env.wait_for("catch-all default backend", |s| {
        s["table"]["servers"]
            .as_array()
            .and_then(|a| a.last())
            .is_some_and(|c| !c["defaultBackend"].is_null())
    })
    .await;

    let cases = [
        ("p.test", "/api", "api"),
        ("p.test", "/api/", "api"),
        ("p.test", "/api/v2", "api"),
        ("p.test", "/api/v1", "v1"),
        ("p.test", "/api/v1/", "api"),
        ("p.test", "/apiary", "fallback"),
        ("p.test", "/static/app.js", "root"),
        ("p.test", "/", "fallback"),
        ("q.test", "/anything", "root"),
        ("foreign.test", "/", "root"),
        ("unknown.test", "/x", "root"),
    ];
    for (host, p, want) in cases {
        assert_eq!(env.who(host, p, &[]).await, want, "{host}{p}");
    }

    // The same through real curl.
    let out = tokio::process::Command::new("curl")
        .args([
            "-sS",
            "--noproxy",
            "*",
            "-H",
            "Host: p.test",
            &format!("http://{}/api/v1?x=1", env.http_addr()),
        ])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["name"], "v1");
    assert_eq!(v["path"], "/api/v1?x=1");

    // Removing the catch-all Ingress brings back the built-in default backend.
    let ingresses: Api<Ingress> = Api::namespaced(env.client(), "default");
    ingresses
        .delete("catch-all", &Default::default())
        .await
        .unwrap();
    env.wait_for("catch-all gone", |s| {
        s["table"]["servers"]
            .as_array()
            .and_then(|a| a.last())
            .is_some_and(|c| c["defaultBackend"].is_null())
    })
    .await;
    assert_eq!(
        env.get("unknown.test", "/x").await,
        (404, "default backend - 404".to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_ready_endpoints_get_no_traffic_and_none_ready_is_503() {
    init_tracing();
    let net = PodNet::new(3, 2);
    let a = Backend::start(&net, 0, 8080, "a");
    let b = Backend::start(&net, 1, 8080, "b");
    let env = Env::start().await;
    env.service("web").await;
    env.slice("web", &[(a.addr, true), (b.addr, true)]).await;
    env.ingress(json!({
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"rules": [{"host": "r.test", "http": {"paths": [path("/", "Prefix", "web")]}}]},
    }))
    .await;
    env.wait_for_endpoints("default-web-80", &[a.addr, b.addr])
        .await;
    let mut seen = HashMap::<String, usize>::new();
    for _ in 0..10 {
        *seen.entry(env.who("r.test", "/", &[]).await).or_default() += 1;
    }
    assert_eq!(seen.len(), 2, "{seen:?}");

    // b stops being ready: no new request reaches it.
    env.replace_slice("web", &[(a.addr, true), (b.addr, false)])
        .await;
    env.wait_for_endpoints("default-web-80", &[a.addr]).await;
    let b_before = b.hits.load(std::sync::atomic::Ordering::SeqCst);
    for _ in 0..20 {
        assert_eq!(env.who("r.test", "/", &[]).await, "a");
    }
    assert_eq!(b.hits.load(std::sync::atomic::Ordering::SeqCst), b_before);

    // None ready: 503, as ingress-nginx answers.
    env.replace_slice("web", &[(a.addr, false), (b.addr, false)])
        .await;
    env.wait_for_endpoints("default-web-80", &[]).await;
    let (status, body) = env.get("r.test", "/").await;
    assert_eq!(status, 503);
    assert!(
        body.contains("503 Service Temporarily Unavailable"),
        "{body}"
    );

    // A backend Service that does not exist: 503 too.
    env.ingress(json!({
        "metadata": {"name": "ghost", "namespace": "default"},
        "spec": {"rules": [{"host": "ghost.test", "http": {"paths": [path("/", "Prefix", "ghost")]}}]},
    }))
    .await;
    env.wait_for_endpoints("default-ghost-80", &[]).await;
    assert_eq!(env.get("ghost.test", "/").await.0, 503);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_certificate_by_sni_from_a_secret_and_ssl_redirect() {
    init_tracing();
    let net = PodNet::new(4, 1);
    let backend = Backend::start(&net, 0, 8443, "secure");
    let env = Env::start().await;

    // A CA and a certificate for secure.test and *.wild.test signed by it.
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "berth test CA");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, &ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf =
        rcgen::CertificateParams::new(vec!["secure.test".to_string(), "*.wild.test".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    env.secret(json!({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {"name": "secure-tls", "namespace": "default"},
        "data": {"tls.crt": b64(&leaf.pem()), "tls.key": b64(&leaf_key.serialize_pem())},
    }))
    .await;
    env.service("secure").await;
    env.slice("secure", &[(backend.addr, true)]).await;
    env.ingress(json!({
        "metadata": {"name": "secure", "namespace": "default"},
        "spec": {
            "tls": [{"hosts": ["secure.test", "*.wild.test"], "secretName": "secure-tls"}],
            "rules": [
                {"host": "secure.test", "http": {"paths": [path("/", "Prefix", "secure")]}},
                {"host": "*.wild.test", "http": {"paths": [path("/", "Prefix", "secure")]}},
                {"host": "plain.test", "http": {"paths": [path("/", "Prefix", "secure")]}},
            ]},
    }))
    .await;
    env.wait_for_endpoints("default-secure-80", &[backend.addr])
        .await;
    env.wait_for("certificates loaded", |s| {
        s["certificates"]["secure.test"] == "default/secure-tls"
    })
    .await;

    let https = env.https_addr();
    let client = client_builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca_cert.pem().as_bytes()).unwrap())
        .resolve("secure.test", https)
        .resolve("a.wild.test", https)
        .resolve("plain.test", https)
        .tls_info(true)
        .build()
        .unwrap();
    for host in ["secure.test", "a.wild.test"] {
        let resp = client
            .get(format!("https://{host}:{}/hello", https.port()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{host}");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["name"], "secure");
        assert_eq!(v["headers"]["x-forwarded-proto"], "https");
        assert_eq!(v["headers"]["x-forwarded-port"], https.port().to_string());
    }
    // A host without a certificate of its own gets the self-signed fallback certificate.
    let insecure = client_builder()
        .danger_accept_invalid_certs(true)
        .resolve("plain.test", https)
        .tls_info(true)
        .build()
        .unwrap();
    let resp = insecure
        .get(format!("https://plain.test:{}/", https.port()))
        .send()
        .await
        .unwrap();
    let info = resp.extensions().get::<reqwest::tls::TlsInfo>().unwrap();
    let peer = info.peer_certificate().unwrap().to_vec();
    assert_ne!(peer, leaf.der().to_vec());
    assert_eq!(resp.status(), 200);
    assert!(
        client
            .get(format!("https://plain.test:{}/", https.port()))
            .send()
            .await
            .is_err()
    );

    // Plain HTTP to a TLS host is redirected; to a host without TLS it is served.
    let no_redirects = client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = no_redirects
        .get(format!("http://{}/a?b=c", env.http_addr()))
        .header("host", "secure.test")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 308);
    assert_eq!(
        resp.headers()["location"],
        format!("https://secure.test:{}/a?b=c", https.port())
    );
    assert_eq!(env.who("plain.test", "/", &[]).await, "secure");

    // Real curl over TLS, verifying against the CA.
    let dir = tempfile_dir();
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca_cert.pem()).unwrap();
    let out = tokio::process::Command::new("curl")
        .args([
            "-sS",
            "--noproxy",
            "*",
            "--resolve",
            &format!("secure.test:{}:127.0.0.1", https.port()),
            "--cacert",
            ca_path.to_str().unwrap(),
            &format!("https://secure.test:{}/curl", https.port()),
        ])
        .output()
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["path"], "/curl");
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("berth-ingress-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_by_weight_header_and_cookie() {
    init_tracing();
    let net = PodNet::new(5, 2);
    let main = Backend::start(&net, 0, 8080, "main");
    let canary = Backend::start(&net, 1, 8080, "canary");
    let env = Env::start().await;
    for b in [&main, &canary] {
        env.service(&b.name).await;
        env.slice(&b.name, &[(b.addr, true)]).await;
    }
    env.ingress(json!({
        "metadata": {"name": "main", "namespace": "default"},
        "spec": {"rules": [{"host": "c.test", "http": {"paths": [path("/", "Prefix", "main")]}}]},
    }))
    .await;
    env.ingress(json!({
        "metadata": {"name": "canary", "namespace": "default", "annotations": {
            "nginx.ingress.kubernetes.io/canary": "true",
            "nginx.ingress.kubernetes.io/canary-weight": "30",
            "nginx.ingress.kubernetes.io/canary-by-header": "X-Canary",
            "nginx.ingress.kubernetes.io/canary-by-cookie": "use_canary",
        }},
        "spec": {"rules": [
            {"host": "c.test", "http": {"paths": [path("/", "Prefix", "canary")]}},
            // No main Ingress serves this host: ignored.
            {"host": "lonely.test", "http": {"paths": [path("/", "Prefix", "canary")]}},
        ]},
    }))
    .await;
    env.wait_for_endpoints("default-main-80", &[main.addr])
        .await;
    env.wait_for_endpoints("default-canary-80", &[canary.addr])
        .await;

    let mut to_canary = 0;
    for _ in 0..1000 {
        if env.who("c.test", "/", &[]).await == "canary" {
            to_canary += 1;
        }
    }
    assert!((200..=400).contains(&to_canary), "{to_canary} of 1000");

    for _ in 0..20 {
        assert_eq!(
            env.who("c.test", "/", &[("x-canary", "always")]).await,
            "canary"
        );
        assert_eq!(
            env.who("c.test", "/", &[("x-canary", "never")]).await,
            "main"
        );
        // The header outranks the cookie.
        assert_eq!(
            env.who(
                "c.test",
                "/",
                &[("x-canary", "never"), ("cookie", "use_canary=always")]
            )
            .await,
            "main"
        );
        assert_eq!(
            env.who("c.test", "/", &[("cookie", "a=1; use_canary=always")])
                .await,
            "canary"
        );
        assert_eq!(
            env.who("c.test", "/", &[("cookie", "use_canary=never")])
                .await,
            "main"
        );
    }
    assert_eq!(env.get("lonely.test", "/").await.0, 404);

    // With a header value, only that value selects the canary (others fall through to the
    // weight, here 0).
    let ingresses: Api<Ingress> = Api::namespaced(env.client(), "default");
    ingresses
        .patch(
            "canary",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {
                "nginx.ingress.kubernetes.io/canary-weight": "0",
                "nginx.ingress.kubernetes.io/canary-by-header-value": "beta",
            }}})),
        )
        .await
        .unwrap();
    env.wait_for("header value policy", |s| {
        s.to_string().contains(r#""headerValue":"beta""#)
    })
    .await;
    for _ in 0..20 {
        assert_eq!(
            env.who("c.test", "/", &[("x-canary", "beta")]).await,
            "canary"
        );
        assert_eq!(
            env.who("c.test", "/", &[("x-canary", "always")]).await,
            "main"
        );
        assert_eq!(env.who("c.test", "/", &[]).await, "main");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_requests_retry_past_a_refusing_endpoint() {
    init_tracing();
    // Three pod IPs, only two of them listening: the third refuses connections.
    let net = PodNet::new(6, 3);
    let a = Backend::start(&net, 0, 8080, "a");
    let b = Backend::start(&net, 1, 8080, "b");
    let dead: SocketAddr = SocketAddr::new(net.pod_ip(2), 8080);
    let env = Env::start().await;
    env.service("web").await;
    env.slice("web", &[(a.addr, true), (b.addr, true), (dead, true)])
        .await;
    env.ingress(json!({
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"rules": [{"host": "retry.test", "http": {"paths": [path("/", "Prefix", "web")]}}]},
    }))
    .await;
    env.wait_for_endpoints("default-web-80", &[a.addr, b.addr, dead])
        .await;
    for _ in 0..30 {
        let who = env.who("retry.test", "/", &[]).await;
        assert!(who == "a" || who == "b", "{who}");
    }
    // A POST with a body is not retried: one start in three is the refusing endpoint.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let resp = env
            .http
            .post(format!("http://{}/", env.http_addr()))
            .header("host", "retry.test")
            .body("payload")
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
    }
    statuses.sort();
    assert_eq!(statuses, [200, 200, 502]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_headers_reach_the_backend() {
    init_tracing();
    let net = PodNet::new(7, 1);
    let a = Backend::start(&net, 0, 8080, "a");
    let env = Env::start().await;
    env.service("web").await;
    env.slice("web", &[(a.addr, true)]).await;
    env.ingress(json!({
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"rules": [{"host": "h.test", "http": {"paths": [path("/", "Prefix", "web")]}}]},
    }))
    .await;
    env.wait_for_endpoints("default-web-80", &[a.addr]).await;

    let (status, body) = env
        .get_with("h.test:81", "/p?q=1", &[("x-forwarded-for", "192.0.2.7")])
        .await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    let h = &v["headers"];
    assert_eq!(v["path"], "/p?q=1");
    assert_eq!(h["host"], "h.test:81");
    assert_eq!(h["x-forwarded-for"], "192.0.2.7, 127.0.0.1");
    assert_eq!(h["x-real-ip"], "127.0.0.1");
    assert_eq!(h["x-forwarded-host"], "h.test:81");
    assert_eq!(h["x-forwarded-port"], env.http_addr().port().to_string());
    assert_eq!(h["x-forwarded-proto"], "http");
    let id = h["x-request-id"].as_str().unwrap();
    assert_eq!(id.len(), 32, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));

    let (_, body) = env
        .get_with("h.test", "/", &[("x-request-id", "abc")])
        .await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["headers"]["x-request-id"], "abc");
    assert_eq!(v["headers"]["x-forwarded-for"], "127.0.0.1");

    // Upgrades (WebSocket's handshake) pass through, then bytes flow both ways.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(env.http_addr())
        .await
        .unwrap();
    s.write_all(
        b"GET /upgrade HTTP/1.1\r\nHost: h.test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n",
    )
    .await
    .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        assert_eq!(s.read(&mut byte).await.unwrap(), 1, "closed: {head:?}");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("upgrade: echo"),
        "{head}"
    );
    s.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_accepting_and_finishes_in_flight_requests() {
    init_tracing();
    let net = PodNet::new(8, 1);
    let a = Backend::start(&net, 0, 8080, "a");
    let mut env = Env::start().await;
    env.service("web").await;
    env.slice("web", &[(a.addr, true)]).await;
    env.ingress(json!({
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"rules": [{"host": "s.test", "http": {"paths": [path("/", "Prefix", "web")]}}]},
    }))
    .await;
    env.wait_for_endpoints("default-web-80", &[a.addr]).await;

    let arrived = a.arrived.notified();
    let http = env.http.clone();
    let url = format!("http://{}/slow", env.http_addr());
    let in_flight = tokio::spawn(async move {
        let resp = http.get(url).header("host", "s.test").send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    });
    arrived.await;
    env.shutdown.send(true).unwrap();
    // The listener closes: new connections are refused.
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(env.http_addr())
        .await
        .is_ok()
    {
        assert!(Instant::now() < deadline, "still accepting after shutdown");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.release();
    let (status, body) = in_flight.await.unwrap();
    assert_eq!(status, 200);
    assert!(body.contains(r#""name":"a""#), "{body}");
    let router = env.router.take().unwrap();
    tokio::time::timeout(Duration::from_secs(30), router)
        .await
        .expect("router stops once in-flight requests are done")
        .unwrap();
}
