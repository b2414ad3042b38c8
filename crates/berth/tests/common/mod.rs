//! Test harness: runs the real `berth up` binary in a temporary data dir and hands out clients
//! (kube-rs, kubectl, raw HTTPS) configured from the kubeconfig it writes.
#![allow(dead_code, unused_macros)]

/// Returns early, loudly, from a test that needs kubectl when it is not installed.
macro_rules! require_kubectl {
    () => {
        if !common::have_kubectl() {
            eprintln!("!!!!!! SKIPPED: kubectl is not installed on this machine; kubectl tests did not run !!!!!!");
            return;
        }
    };
}

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct Berth {
    pub dir: PathBuf,
    child: Option<Child>,
    _tmp: Option<tempfile::TempDir>,
    extra_args: Vec<String>,
    /// `up`, or `demo` for [`Berth::start_demo`].
    subcommand: &'static str,
}

impl Berth {
    /// Starts `berth up` on a fresh data dir and a free port; waits for the kubeconfig.
    pub fn start() -> Berth {
        Self::start_with(&[])
    }

    /// `berth up` with the local node agent, on a pod CIDR and node name of its own so that
    /// several test servers can run their pods side by side.
    pub fn start_with_node(extra: &[&str]) -> Berth {
        Self::start_node_args("up", extra)
    }

    /// `berth demo` (the README's main job) with the node agent, as [`Berth::start_with_node`];
    /// returns once the cluster serves (the demo's deploy goes on in the background).
    pub fn start_demo(extra: &[&str]) -> Berth {
        Self::start_node_args("demo", extra)
    }

    fn start_node_args(subcommand: &'static str, extra: &[&str]) -> Berth {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        // Spread test processes over 10.244.100-249.0/24; berth's default is 10.244.0.0/24.
        let octet = 100 + (std::process::id() * 7 + n) % 150;
        let node = format!("test-node-{octet}");
        let cidr = format!("10.244.{octet}.0/24");
        // Service IPs live on the host's `lo`, so each test server gets its own service CIDR,
        // and its own ingress ports.
        let service_cidr = format!("10.100.{octet}.0/24");
        let http = format!("127.0.0.1:{}", free_port());
        let https = format!("127.0.0.1:{}", free_port());
        let mut args = vec![
            "--node-name",
            node.as_str(),
            "--pod-cidr",
            cidr.as_str(),
            "--service-cidr",
            service_cidr.as_str(),
            "--http-addr",
            http.as_str(),
            "--https-addr",
            https.as_str(),
        ];
        args.extend_from_slice(extra);
        Self::start_sub(subcommand, &args)
    }

    /// The value of a `--flag VALUE` this server was started with.
    pub fn arg(&self, flag: &str) -> Option<String> {
        let i = self.extra_args.iter().position(|a| a == flag)?;
        self.extra_args.get(i + 1).cloned()
    }

    /// The ingress router's plain-HTTP address (servers from [`Berth::start_with_node`]).
    pub fn http_addr(&self) -> String {
        self.arg("--http-addr").expect("started with --http-addr")
    }

    /// The ingress router's HTTPS address (servers from [`Berth::start_with_node`]).
    pub fn https_addr(&self) -> String {
        self.arg("--https-addr").expect("started with --https-addr")
    }

    /// `berth up` without the local node agent (the API tests need no processes).
    pub fn start_with(extra: &[&str]) -> Berth {
        let mut args = vec!["--no-node-agent"];
        args.extend_from_slice(extra);
        Self::start_args(&args)
    }

    fn start_args(extra: &[&str]) -> Berth {
        Self::start_sub("up", extra)
    }

    fn start_sub(subcommand: &'static str, extra: &[&str]) -> Berth {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().to_path_buf();
        let mut b = Berth {
            dir,
            child: None,
            _tmp: Some(tmp),
            extra_args: extra.iter().map(|s| s.to_string()).collect(),
            subcommand,
        };
        b.spawn();
        b
    }

    fn spawn(&mut self) {
        let _ = std::fs::remove_file(self.kubeconfig());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("berth.log"))
            .expect("log file");
        let mut args = vec![
            self.subcommand.to_string(),
            "--data-dir".into(),
            self.dir.display().to_string(),
        ];
        // Reuse the port of a previous run so the kubeconfig stays valid across restarts.
        let addr = std::fs::read_to_string(self.dir.join("test-addr"))
            .unwrap_or_else(|_| "127.0.0.1:0".into());
        args.push("--api-addr".into());
        args.push(addr);
        args.extend(self.extra_args.iter().cloned());
        let child = Command::new(env!("CARGO_BIN_EXE_berth"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn berth");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.kubeconfig().exists() {
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                panic!("berth exited early with {status}; log:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "berth did not become ready; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let server = self.server_url();
        let hostport = server.trim_start_matches("https://").to_string();
        std::fs::write(self.dir.join("test-addr"), hostport).expect("write addr");
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("berth.log")).unwrap_or_default()
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.join("kubeconfig")
    }

    pub fn server_url(&self) -> String {
        let text = std::fs::read_to_string(self.kubeconfig()).expect("kubeconfig");
        text.lines()
            .find_map(|l| l.trim().strip_prefix("server: "))
            .expect("server line")
            .to_string()
    }

    pub fn token(&self) -> String {
        std::fs::read_to_string(self.dir.join("admin.token"))
            .expect("token")
            .trim()
            .to_string()
    }

    /// Waits until `check` returns Some, polling every 200 ms, or panics after `timeout` with
    /// `what` and the server log.
    pub fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut() -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = check() {
                return v;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what}; berth log tail:\n{}",
                    tail(&self.log(), 60)
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `kubectl get <args> -o json`, parsed.
    pub fn get_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", "json"]);
        serde_json::from_str(&self.kubectl_ok(&all)).expect("kubectl json")
    }

    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(self.dir.join("pki/ca.crt")).expect("ca")
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let pid = child.id() as i32;
        unsafe_kill(pid, 15);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(s)) = child.try_wait() {
                return s;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("berth did not stop on SIGTERM; log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// kill -9, as a crash.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("running");
        let _ = child.kill();
        let _ = child.wait();
    }

    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "stop or kill first");
        self.spawn();
    }

    /// Another `berth up` on the same data dir (to check the lock); returns its output.
    pub fn second_instance(&self) -> Output {
        Command::new(env!("CARGO_BIN_EXE_berth"))
            .args([
                "up",
                "--data-dir",
                &self.dir.display().to_string(),
                "--api-addr",
                "127.0.0.1:0",
            ])
            .output()
            .expect("run second berth")
    }

    pub async fn client(&self) -> kube::Client {
        let kc = kube::config::Kubeconfig::read_from(self.kubeconfig()).expect("read kubeconfig");
        let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .expect("config");
        kube::Client::try_from(cfg).expect("client")
    }

    /// Runs the `berth` binary (a CLI command) with this cluster's kubeconfig.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_berth"))
            .args(args)
            .env("KUBECONFIG", self.kubeconfig())
            .env("HOME", &self.dir)
            .env("USER", "tester")
            .stdin(Stdio::null())
            .output()
            .expect("run berth")
    }

    /// [`Berth::cli`] that must succeed; returns stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "berth {args:?} failed ({}):\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// GET through the ingress router with a Host header; returns (HTTP status, body).
    pub fn via_ingress(&self, host: &str, path: &str, extra: &[&str]) -> (u16, String) {
        let url = format!("http://{}{path}", self.http_addr());
        let header = format!("Host: {host}");
        let mut args = vec!["-H", header.as_str()];
        args.extend_from_slice(extra);
        args.push(url.as_str());
        curl(&args)
    }

    /// Runs kubectl with this cluster's kubeconfig.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_stdin(args, None)
    }

    pub fn kubectl_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        use std::io::Write;
        let mut cmd = Command::new("kubectl");
        cmd.args(args)
            .env("KUBECONFIG", self.kubeconfig())
            .env("HOME", &self.dir)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("kubectl on PATH");
        if let (Some(text), Some(mut s)) = (stdin, child.stdin.take()) {
            s.write_all(text.as_bytes()).expect("stdin");
        }
        child.wait_with_output().expect("kubectl output")
    }

    /// kubectl that must succeed; returns stdout.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A reqwest client trusting this cluster's CA, with the admin token preset per call.
    pub fn http(&self) -> reqwest::Client {
        let ca = reqwest::Certificate::from_pem(&self.ca_pem()).expect("ca pem");
        reqwest::Client::builder()
            .add_root_certificate(ca)
            .build()
            .expect("http client")
    }
}

fn unsafe_kill(pid: i32, sig: i32) {
    // `kill` from the shell keeps the test free of unsafe code.
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status();
}

impl Drop for Berth {
    /// SIGTERM first, so the node agent stops its pods and the service proxy takes its
    /// addresses off `lo`; SIGKILL if that takes too long.
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe_kill(c.id() as i32, 15);
            let deadline = Instant::now() + Duration::from_secs(45);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

pub fn have_kubectl() -> bool {
    Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether the Python `kubernetes` package imports (scripts/test.sh installs it; running
/// `cargo test` alone may not have it).
pub fn have_python_client() -> bool {
    Command::new("python3")
        .args(["-c", "import kubernetes"])
        .status()
        .is_ok_and(|s| s.success())
}

pub fn path_exists(p: &Path) -> bool {
    p.exists()
}

/// A TCP port that was free a moment ago (the kernel's pick for port 0).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// `curl` with extra arguments; returns (HTTP status, body).
pub fn curl(args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}
