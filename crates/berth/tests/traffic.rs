//! Traffic end to end: the real `berth up` with its node agent, service proxy, cluster DNS and
//! ingress router, driven with kubectl and curl. Backends are real pods (python3 processes) that
//! answer with their pod name, so a test can see which replica served a request.

#[macro_use]
mod common;

use common::{Berth, curl};
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(180);

/// An HTTP/1.1 server answering `<pod name> <path>` plus the X-Forwarded-For it saw; it closes
/// its listener on SIGTERM only after a preStop hook, as a well-behaved app does.
const SERVER_PY: &str = r#"
import http.server, os, socketserver
NAME = os.environ.get("POD_NAME", "?")
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = ("%s %s xff=%s\n" % (NAME, self.path, self.headers.get("X-Forwarded-For", "-"))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
S(("", 8080), H).serve_forever()
"#;

fn apply(berth: &Berth, yaml: &str) {
    let out = berth.kubectl_stdin(&["apply", "-f", "-"], Some(yaml));
    assert!(
        out.status.success(),
        "kubectl apply failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Deployment `name` of `replicas` echo servers labelled `app: name` (plus `extra_env`), with
/// a readiness probe and a preStop pause, and its ClusterIP Service `name` on port 80.
fn echo_app(name: &str, replicas: u32, extra_env: &str) -> String {
    let script = SERVER_PY
        .lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-server
data:
  server.py: |
{script}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  strategy:
    rollingUpdate: {{maxUnavailable: 0, maxSurge: 1}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      terminationGracePeriodSeconds: 10
      containers:
      - name: server
        image: python:3.12
        command: ["python3", "/app/server.py"]
        env:
        - name: POD_NAME
          valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}
{extra_env}
        ports:
        - {{name: http, containerPort: 8080}}
        readinessProbe:
          httpGet: {{path: /healthz, port: http}}
          periodSeconds: 1
        lifecycle:
          preStop:
            exec: {{command: ["sleep", "2"]}}
        volumeMounts:
        - {{name: app, mountPath: /app}}
      volumes:
      - name: app
        configMap: {{name: {name}-server}}
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector: {{app: {name}}}
  ports:
  - {{name: http, port: 80, targetPort: http}}
"#
    )
}

fn ingress(name: &str, host: &str, paths: &[(&str, &str, &str)], annotations: &str) -> String {
    let paths = paths
        .iter()
        .map(|(path, kind, svc)| {
            format!(
                "      - path: {path}\n        pathType: {kind}\n        backend:\n          service: {{name: {svc}, port: {{name: http}}}}\n"
            )
        })
        .collect::<String>();
    format!(
        r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
  annotations:
    placeholder: "x"
{annotations}
spec:
  rules:
  - host: {host}
    http:
      paths:
{paths}"#
    )
}

fn rollout(berth: &Berth, name: &str) {
    berth.kubectl_ok(&[
        "rollout",
        "status",
        &format!("deployment/{name}"),
        "--timeout=180s",
    ]);
}

/// The pod name at the start of an echo server's answer.
fn served_by(body: &str) -> String {
    body.split_whitespace().next().unwrap_or("").to_string()
}

fn wait_until_routed(berth: &Berth, host: &str, path: &str) {
    berth.wait_for(&format!("{host}{path} routed"), LONG, || {
        (berth.via_ingress(host, path, &[]).0 == 200).then_some(())
    });
}

/// Ingress by host and path over three replicas, the default backend, ClusterIP and NodePort
/// from the host, and, from inside a pod, DNS names and the ClusterIP behind them.
#[test]
fn ingress_services_and_dns_reach_every_replica() {
    require_kubectl!();
    let berth = Berth::start_with_node(&[]);
    apply(&berth, &echo_app("echo", 3, ""));
    apply(&berth, &echo_app("api", 1, ""));
    rollout(&berth, "echo");
    rollout(&berth, "api");
    apply(
        &berth,
        &ingress(
            "echo",
            "echo.test",
            &[
                ("/", "Prefix", "echo"),
                ("/api", "Prefix", "api"),
                ("/exact", "Exact", "api"),
            ],
            "",
        ),
    );
    wait_until_routed(&berth, "echo.test", "/");
    // The default IngressClass was filled in (DefaultIngressClass admission), and the router
    // published its address.
    let ing = berth.get_json(&["ingress", "echo"]);
    assert_eq!(ing["spec"]["ingressClassName"], "berth", "{ing}");
    berth.wait_for("the Ingress status address", LONG, || {
        let ing = berth.get_json(&["ingress", "echo"]);
        (ing["status"]["loadBalancer"]["ingress"][0]["ip"] == "127.0.0.1").then_some(())
    });

    // Every replica gets traffic through the router.
    let mut seen = BTreeMap::new();
    for _ in 0..60 {
        let (code, body) = berth.via_ingress("echo.test", "/hello", &[]);
        assert_eq!(code, 200, "{body}");
        assert!(body.contains(" /hello "), "path passed through: {body}");
        assert!(body.contains("xff=127.0.0.1"), "X-Forwarded-For: {body}");
        *seen.entry(served_by(&body)).or_insert(0) += 1;
    }
    assert_eq!(seen.len(), 3, "all three replicas served: {seen:?}");
    assert!(seen.keys().all(|k| k.starts_with("echo-")), "{seen:?}");

    // Paths: longest prefix wins, element-wise; Exact matches only itself.
    let (_, body) = berth.via_ingress("echo.test", "/api/v1", &[]);
    assert!(served_by(&body).starts_with("api-"), "{body}");
    let (_, body) = berth.via_ingress("echo.test", "/apikey", &[]);
    assert!(
        served_by(&body).starts_with("echo-"),
        "/apikey is not under /api: {body}"
    );
    let (_, body) = berth.via_ingress("echo.test", "/exact", &[]);
    assert!(served_by(&body).starts_with("api-"), "{body}");
    let (_, body) = berth.via_ingress("echo.test", "/exact/more", &[]);
    assert!(served_by(&body).starts_with("echo-"), "{body}");
    // No rule for this host: the default backend's 404.
    let (code, _) = berth.via_ingress("other.test", "/", &[]);
    assert_eq!(code, 404);

    // ClusterIP from the host.
    let svc = berth.get_json(&["service", "echo"]);
    let cluster_ip = svc["spec"]["clusterIP"]
        .as_str()
        .expect("clusterIP")
        .to_string();
    let mut seen = BTreeMap::new();
    for _ in 0..30 {
        let (code, body) = curl(&[&format!("http://{cluster_ip}/")]);
        assert_eq!(code, 200, "clusterIP {cluster_ip}: {body}");
        *seen.entry(served_by(&body)).or_insert(0) += 1;
    }
    assert_eq!(
        seen.len(),
        3,
        "the proxy balances over the replicas: {seen:?}"
    );

    // NodePort on the host's loopback.
    berth.kubectl_ok(&[
        "expose",
        "deployment",
        "echo",
        "--name=echo-np",
        "--type=NodePort",
        "--port=80",
        "--target-port=8080",
    ]);
    let np = berth.get_json(&["service", "echo-np"]);
    let node_port = np["spec"]["ports"][0]["nodePort"]
        .as_u64()
        .expect("nodePort");
    let url = format!("http://127.0.0.1:{node_port}/");
    berth.wait_for("NodePort answers", LONG, || {
        (curl(&[&url]).0 == 200).then_some(())
    });

    // From inside a pod: the short name through the search path, the full name, and the
    // headless-free ClusterIP behind both; a Job succeeds only if all answered.
    apply(
        &berth,
        r#"apiVersion: batch/v1
kind: Job
metadata:
  name: lookup
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: lookup
        image: busybox
        command: ["sh", "-c", "cat /etc/resolv.conf; getent hosts echo.default.svc.cluster.local && curl -sSf --max-time 5 http://echo/short && curl -sSf --max-time 5 http://echo.default.svc.cluster.local/full && curl -sSf --max-time 5 --cacert /var/run/secrets/kubernetes.io/serviceaccount/ca.crt https://kubernetes.default.svc/version"]
"#,
    );
    let done = berth.wait_for("lookup Job to finish", LONG, || {
        let job = berth.get_json(&["job", "lookup"]);
        let conds = job["status"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        conds
            .iter()
            .find(|c| (c["type"] == "Complete" || c["type"] == "Failed") && c["status"] == "True")
            .map(|c| c["type"].as_str().unwrap_or("").to_string())
    });
    let logs = berth.kubectl_ok(&["logs", "job/lookup"]);
    assert_eq!(
        done, "Complete",
        "lookup from a pod failed; its output:\n{logs}"
    );
    assert!(
        logs.contains(&cluster_ip),
        "echo resolves to its ClusterIP:\n{logs}"
    );
    assert!(logs.contains("ndots:5"), "pod resolv.conf:\n{logs}");
    assert!(
        logs.contains(" /short ") && logs.contains(" /full "),
        "{logs}"
    );
    assert!(
        logs.contains("gitVersion"),
        "the API server via the kubernetes Service:\n{logs}"
    );
}

/// TLS from a Secret by SNI (and ingress-nginx's redirect of plain HTTP), and the ingress-nginx
/// canary annotations: header, cookie, weight.
#[test]
fn ingress_tls_and_canary_rules() {
    require_kubectl!();
    let berth = Berth::start_with_node(&[]);
    apply(&berth, &echo_app("stable", 1, ""));
    apply(&berth, &echo_app("canary", 1, ""));
    rollout(&berth, "stable");
    rollout(&berth, "canary");

    // A self-signed certificate for secure.test, stored as a kubernetes.io/tls Secret.
    let tls_dir = tempfile::tempdir().expect("tempdir");
    let (key, crt) = (
        tls_dir.path().join("tls.key"),
        tls_dir.path().join("tls.crt"),
    );
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args([
            "-subj",
            "/CN=secure.test",
            "-addext",
            "subjectAltName=DNS:secure.test",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .output()
        .expect("openssl");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    berth.kubectl_ok(&[
        "create",
        "secret",
        "tls",
        "secure-tls",
        &format!("--cert={}", crt.display()),
        &format!("--key={}", key.display()),
    ]);
    let secure = ingress("secure", "secure.test", &[("/", "Prefix", "stable")], "")
        + "  tls:\n  - hosts: [secure.test]\n    secretName: secure-tls\n";
    apply(&berth, &secure);
    let https_port = berth
        .https_addr()
        .rsplit(':')
        .next()
        .expect("port")
        .to_string();
    let resolve = format!("secure.test:{https_port}:127.0.0.1");
    let url = format!("https://secure.test:{https_port}/secure");
    let cacert = crt.display().to_string();
    berth.wait_for("TLS with the Secret's certificate", LONG, || {
        let (code, body) = curl(&["--resolve", &resolve, "--cacert", &cacert, &url]);
        (code == 200 && served_by(&body).starts_with("stable-")).then_some(())
    });
    // Plain HTTP to a TLS host is redirected, as ingress-nginx does by default.
    let (code, _) = berth.via_ingress("secure.test", "/x", &["-o", "/dev/null"]);
    assert_eq!(code, 308);

    apply(
        &berth,
        &ingress("shop", "shop.test", &[("/", "Prefix", "stable")], ""),
    );
    wait_until_routed(&berth, "shop.test", "/");

    // Canary by header (always/never), then by header value, then by cookie, then weight.
    apply(
        &berth,
        &ingress(
            "shop-canary",
            "shop.test",
            &[("/", "Prefix", "canary")],
            "    nginx.ingress.kubernetes.io/canary: \"true\"\n    nginx.ingress.kubernetes.io/canary-by-header: X-Canary\n    nginx.ingress.kubernetes.io/canary-by-cookie: canary\n",
        ),
    );
    berth.wait_for("header canary", LONG, || {
        let (_, body) = berth.via_ingress("shop.test", "/", &["-H", "X-Canary: always"]);
        served_by(&body).starts_with("canary-").then_some(())
    });
    for _ in 0..10 {
        let (_, body) = berth.via_ingress("shop.test", "/", &[]);
        assert!(
            served_by(&body).starts_with("stable-"),
            "no rule matched: {body}"
        );
        let (_, body) = berth.via_ingress("shop.test", "/", &["-H", "X-Canary: never"]);
        assert!(served_by(&body).starts_with("stable-"), "never: {body}");
        let (_, body) = berth.via_ingress("shop.test", "/", &["-b", "canary=always"]);
        assert!(
            served_by(&body).starts_with("canary-"),
            "cookie always: {body}"
        );
        // The header outranks the cookie.
        let (_, body) = berth.via_ingress(
            "shop.test",
            "/",
            &["-H", "X-Canary: never", "-b", "canary=always"],
        );
        assert!(
            served_by(&body).starts_with("stable-"),
            "header before cookie: {body}"
        );
    }

    apply(
        &berth,
        &ingress(
            "shop-canary",
            "shop.test",
            &[("/", "Prefix", "canary")],
            "    nginx.ingress.kubernetes.io/canary: \"true\"\n    nginx.ingress.kubernetes.io/canary-by-header: X-Version\n    nginx.ingress.kubernetes.io/canary-by-header-value: v2\n    nginx.ingress.kubernetes.io/canary-weight: \"30\"\n",
        ),
    );
    berth.wait_for("header-value canary", LONG, || {
        let (_, body) = berth.via_ingress("shop.test", "/", &["-H", "X-Version: v2"]);
        served_by(&body).starts_with("canary-").then_some(())
    });
    // 1,000 requests over one keep-alive connection each batch: about 30% to the canary.
    let mut canary = 0;
    let total = 1000;
    for _ in 0..(total / 50) {
        let url = format!("http://{}/w", berth.http_addr());
        let urls: Vec<&str> = std::iter::repeat_n(url.as_str(), 50).collect();
        let mut args = vec!["-H", "Host: shop.test"];
        args.extend(urls);
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "30"])
            .args(&args)
            .output()
            .expect("curl");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text.lines().count(), 50, "{text}");
        canary += text.lines().filter(|l| l.starts_with("canary-")).count();
    }
    let share = canary as f64 / total as f64;
    assert!(
        (0.22..=0.38).contains(&share),
        "canary-weight 30 sent {canary} of {total} requests to the canary"
    );
}

/// A rolling update of the Deployment behind the ingress under continuous requests: none fails.
#[test]
fn rolling_update_behind_the_ingress_loses_no_request() {
    require_kubectl!();
    let berth = Berth::start_with_node(&[]);
    apply(&berth, &echo_app("roll", 3, ""));
    rollout(&berth, "roll");
    apply(
        &berth,
        &ingress("roll", "roll.test", &[("/", "Prefix", "roll")], ""),
    );
    wait_until_routed(&berth, "roll.test", "/");

    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let url = format!("http://{}/load", berth.http_addr());
    let load: Vec<_> = (0..2)
        .map(|_| {
            let (stop, ok, failures, url) =
                (stop.clone(), ok.clone(), failures.clone(), url.clone());
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async move {
                    let client = reqwest::Client::new();
                    while !stop.load(Ordering::Relaxed) {
                        let res = client
                            .get(&url)
                            .header("Host", "roll.test")
                            .timeout(Duration::from_secs(10))
                            .send()
                            .await;
                        match res {
                            Ok(r) if r.status() == 200 => {
                                ok.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(r) => failures
                                .lock()
                                .expect("lock")
                                .push(format!("status {}", r.status())),
                            Err(e) => failures.lock().expect("lock").push(format!("{e}")),
                        }
                    }
                })
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let before = berth.get_json(&["pods", "-l", "app=roll"]);
    berth.kubectl_ok(&["set", "env", "deployment/roll", "VERSION=2"]);
    rollout(&berth, "roll");
    // Let the old pods finish terminating under load.
    berth.wait_for("old pods gone", LONG, || {
        let now = berth.get_json(&["pods", "-l", "app=roll"]);
        let old: Vec<&str> = before["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["metadata"]["name"].as_str())
            .collect();
        let still = now["items"].as_array().into_iter().flatten().any(|p| {
            p["metadata"]["name"]
                .as_str()
                .is_some_and(|n| old.contains(&n))
        });
        (!still).then_some(())
    });
    // And scale down under load too.
    berth.kubectl_ok(&["scale", "deployment/roll", "--replicas=1"]);
    berth.wait_for("one pod left", LONG, || {
        let now = berth.get_json(&["pods", "-l", "app=roll"]);
        (now["items"].as_array().map(Vec::len) == Some(1)).then_some(())
    });
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.join().expect("load thread");
    }
    let failures = failures.lock().expect("lock");
    let ok = ok.load(Ordering::Relaxed);
    assert!(ok > 100, "the load ran ({ok} requests)");
    assert!(
        failures.is_empty(),
        "{} of {} requests failed during the rollout, first: {:?}",
        failures.len(),
        ok + failures.len() as u64,
        failures.first()
    );
}

/// A private nginx (its own config, pid and logs in a temporary directory) proxying
/// `127.0.0.1:<port>` to the upstream `upstream`, with the synced file included.
struct Nginx {
    dir: tempfile::TempDir,
    port: u16,
}

impl Nginx {
    fn binary() -> Option<&'static str> {
        ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
    }

    fn conf(&self) -> std::path::PathBuf {
        self.dir.path().join("nginx.conf")
    }

    fn upstreams(&self) -> std::path::PathBuf {
        self.dir.path().join("upstreams.conf")
    }

    fn new(upstream: &str) -> Nginx {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = common::free_port();
        let d = dir.path().display();
        let conf = format!(
            "daemon on;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  include {d}/upstreams.conf;\n  server {{\n    listen 127.0.0.1:{port};\n    location / {{ proxy_pass http://{upstream}; proxy_next_upstream off; }}\n  }}\n}}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).expect("nginx.conf");
        Nginx { dir, port }
    }

    /// `-c <conf> -p <dir>` for every nginx call.
    fn args(&self) -> Vec<String> {
        vec![
            "--nginx-arg".into(),
            format!("-c {}", self.conf().display()),
            "--nginx-arg".into(),
            format!("-p {}", self.dir.path().display()),
        ]
    }

    fn start(&self) {
        let out = Command::new(Self::binary().expect("nginx"))
            .arg("-c")
            .arg(self.conf())
            .arg("-p")
            .arg(self.dir.path())
            .output()
            .expect("nginx");
        assert!(
            out.status.success(),
            "nginx: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn get(&self) -> (u16, String) {
        curl(&[&format!("http://127.0.0.1:{}/", self.port)])
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.path().join("nginx.pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

/// `berth sync-upstreams` against the cluster's kubeconfig: the upstream file lists the ready
/// pods, real nginx serves through it, a scale-up rewrites it and reloads nginx, and a second,
/// unreachable cluster fails on its own without holding back the first.
#[test]
fn sync_upstreams_feeds_a_real_nginx() {
    require_kubectl!();
    if Nginx::binary().is_none() {
        eprintln!(
            "!!!!!! SKIPPED: nginx is not installed (apt-get install nginx); the upstream sync test did not run !!!!!!"
        );
        return;
    }
    let berth = Berth::start_with_node(&[]);
    apply(&berth, &echo_app("shop", 2, ""));
    rollout(&berth, "shop");
    let nginx = Nginx::new("default_shop_http");
    let kubeconfig = berth.kubeconfig().display().to_string();
    let output = nginx.upstreams().display().to_string();
    let sync = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_berth"))
            .args([
                "sync-upstreams",
                "--service",
                "default/shop:http",
                "--output",
                &output,
            ])
            .args(nginx.args())
            .args(extra)
            .output()
            .expect("berth sync-upstreams")
    };

    // Once, with a second cluster that cannot be reached: exit 1, and the good cluster's
    // servers are written all the same.
    let dead = tempfile::NamedTempFile::new().expect("tempfile");
    let text = std::fs::read_to_string(berth.kubeconfig()).expect("kubeconfig");
    let port = berth
        .server_url()
        .rsplit(':')
        .next()
        .expect("port")
        .to_string();
    std::fs::write(dead.path(), text.replace(&format!(":{port}"), ":1")).expect("write");
    let out = sync(&[
        "--once",
        "--cluster",
        &format!("local={kubeconfig}"),
        "--cluster",
        &format!("dead={}", dead.path().display()),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "the dead cluster must fail the run: {stderr}"
    );
    assert!(
        stderr.contains("dead"),
        "the failure names the cluster: {stderr}"
    );
    let file = std::fs::read_to_string(nginx.upstreams()).expect("upstreams written");
    assert!(file.contains("upstream default_shop_http {"), "{file}");
    let pods = berth.get_json(&["pods", "-l", "app=shop"]);
    let ips: Vec<String> = pods["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["status"]["podIP"].as_str().expect("podIP").to_string())
        .collect();
    assert_eq!(ips.len(), 2);
    for ip in &ips {
        assert!(
            file.contains(&format!("server {ip}:8080")),
            "{ip} in\n{file}"
        );
    }

    // Real nginx serves through the file to both pods.
    nginx.start();
    let mut seen = BTreeMap::new();
    for _ in 0..20 {
        let (code, body) = nginx.get();
        assert_eq!(code, 200, "{body}");
        *seen.entry(served_by(&body)).or_insert(0) += 1;
    }
    assert_eq!(seen.len(), 2, "nginx reaches both pods: {seen:?}");

    // Watching: a scale-up rewrites the file and reloads nginx, which then reaches the third pod.
    let mut watcher = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["sync-upstreams", "--kubeconfig", &kubeconfig])
        .args(["--service", "default/shop:http", "--output", &output])
        .args(nginx.args())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("berth sync-upstreams");
    berth.kubectl_ok(&["scale", "deployment/shop", "--replicas=3"]);
    rollout(&berth, "shop");
    let third = berth.wait_for("the third pod in nginx's rotation", LONG, || {
        let mut seen = BTreeMap::new();
        for _ in 0..12 {
            let (_, body) = nginx.get();
            *seen.entry(served_by(&body)).or_insert(0) += 1;
        }
        (seen.len() == 3).then_some(seen)
    });
    let _ = watcher.kill();
    let _ = watcher.wait();
    let file = std::fs::read_to_string(nginx.upstreams()).expect("upstreams");
    assert_eq!(
        file.matches("server 10.244.").count(),
        3,
        "{file}\n{third:?}"
    );
}
