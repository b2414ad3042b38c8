//! Container probes and lifecycle hook handlers (kubelet's `prober` and `lifecycle`):
//! httpGet (host defaults to the pod IP), tcpSocket and exec (inside the pod's network
//! namespace and cgroup), with kubelet's timing fields and thresholds.

use std::net::Ipv4Addr;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, ExecAction, HTTPGetAction, Probe, TCPSocketAction};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use tokio::sync::mpsc;

use crate::spawner::{SpawnRequest, Spawner};

/// Which probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    Startup,
    Liveness,
    Readiness,
}

impl ProbeKind {
    pub fn title(self) -> &'static str {
        match self {
            ProbeKind::Startup => "Startup",
            ProbeKind::Liveness => "Liveness",
            ProbeKind::Readiness => "Readiness",
        }
    }
}

/// Where probes and hooks run.
#[derive(Clone)]
pub struct ProbeTarget {
    pub pod_ip: Ipv4Addr,
    pub spawner: Spawner,
    pub exec_base: SpawnRequest,
    pub container: Container,
}

/// A probe's outcome and, on failure, why (used in the `Unhealthy` event).
pub type Outcome = Result<(), String>;

fn resolve_port(port: &IntOrString, container: &Container) -> Result<u16, String> {
    match port {
        IntOrString::Int(p) => u16::try_from(*p).map_err(|_| format!("invalid port {p}")),
        IntOrString::String(name) => container
            .ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .and_then(|p| u16::try_from(p.container_port).ok())
            .ok_or_else(|| format!("couldn't find port: {name} in {}", container.name)),
    }
}

pub async fn http_get(action: &HTTPGetAction, target: &ProbeTarget, timeout: Duration) -> Outcome {
    let port = resolve_port(&action.port, &target.container)?;
    let host = action
        .host
        .clone()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| target.pod_ip.to_string());
    let scheme = action.scheme.as_deref().unwrap_or("HTTP").to_lowercase();
    let path = action.path.clone().unwrap_or_default();
    let path = if path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    };
    let url = format!("{scheme}://{host}:{port}{path}");
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .danger_accept_invalid_certs(true)
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    let mut req = client
        .get(&url)
        .header("User-Agent", "kube-probe/1.33")
        .header("Accept", "*/*");
    for h in action.http_headers.iter().flatten() {
        req = req.header(h.name.as_str(), h.value.as_str());
    }
    match req.send().await {
        Ok(resp) => {
            let code = resp.status().as_u16();
            if (200..400).contains(&code) {
                Ok(())
            } else {
                Err(format!("HTTP probe failed with statuscode: {code}"))
            }
        }
        Err(e) if e.is_timeout() => Err(format!(
            "Get \"{url}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        )),
        Err(e) => Err(format!("Get \"{url}\": {e}")),
    }
}

pub async fn tcp_socket(
    action: &TCPSocketAction,
    target: &ProbeTarget,
    timeout: Duration,
) -> Outcome {
    let port = resolve_port(&action.port, &target.container)?;
    let host = action
        .host
        .clone()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| target.pod_ip.to_string());
    let addr = format!("{host}:{port}");
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(&addr)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("dial tcp {addr}: connect: {e}")),
        Err(_) => Err(format!("dial tcp {addr}: i/o timeout")),
    }
}

pub async fn exec(action: &ExecAction, target: &ProbeTarget, timeout: Duration) -> Outcome {
    let command = action.command.clone().unwrap_or_default();
    if command.is_empty() {
        return Err("exec: empty command".into());
    }
    let mut req = target.exec_base.clone();
    req.argv = command.clone();
    req.capture_output = true;
    let child = target
        .spawner
        .spawn(req)
        .await
        .map_err(|e| format!("exec {:?}: {e}", command))?;
    let pid = child.id();
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(out)) if out.status.success() => Ok(()),
        Ok(Ok(out)) => {
            let mut text = String::from_utf8_lossy(&out.stdout).to_string();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            let code = out.status.code().unwrap_or(-1);
            if text.trim().is_empty() {
                Err(format!("command {command:?} exited with {code}"))
            } else {
                Err(text.trim_end().to_string())
            }
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => {
            if let Some(pid) = pid {
                crate::spawner::signal_group(pid, libc::SIGKILL);
            }
            Err(format!(
                "command timed out: \"{}\" timed out after {}s",
                command.join(" "),
                timeout.as_secs()
            ))
        }
    }
}

/// Runs one probe attempt.
pub async fn run_once(probe: &Probe, target: &ProbeTarget) -> Outcome {
    let timeout = Duration::from_secs(probe.timeout_seconds.unwrap_or(1).max(1) as u64);
    if let Some(a) = &probe.http_get {
        http_get(a, target, timeout).await
    } else if let Some(a) = &probe.tcp_socket {
        tcp_socket(a, target, timeout).await
    } else if let Some(a) = &probe.exec {
        exec(a, target, timeout).await
    } else if let Some(g) = &probe.grpc {
        // gRPC health checking is not implemented; a TCP connect stands in for it.
        let action = TCPSocketAction {
            port: IntOrString::Int(g.port),
            host: None,
        };
        tcp_socket(&action, target, timeout).await
    } else {
        Err("probe has no handler".into())
    }
}

/// A change in a probe's result, sent to the pod worker.
#[derive(Debug, Clone)]
pub struct ProbeUpdate {
    pub container: String,
    pub instance: u32,
    pub kind: ProbeKind,
    pub success: bool,
}

/// Runs a probe periodically and reports every failed attempt (for events) and every change of
/// result after its threshold; a startup probe ends once it succeeds, and every probe ends
/// when the receiver goes.
pub async fn run_loop(
    kind: ProbeKind,
    probe: Probe,
    target: ProbeTarget,
    instance: u32,
    tx: mpsc::Sender<crate::pod::WorkerEvent>,
) {
    let period = Duration::from_secs(probe.period_seconds.unwrap_or(10).max(1) as u64);
    let success_threshold = probe.success_threshold.unwrap_or(1).max(1);
    let failure_threshold = probe.failure_threshold.unwrap_or(3).max(1);
    let initial = Duration::from_secs(probe.initial_delay_seconds.unwrap_or(0).max(0) as u64);
    tokio::time::sleep(initial).await;
    let mut result: Option<bool> = None;
    let (mut successes, mut failures) = (0, 0);
    let name = target.container.name.clone();
    loop {
        let outcome = run_once(&probe, &target).await;
        if outcome.is_ok() {
            successes += 1;
            failures = 0;
        } else {
            failures += 1;
            successes = 0;
        }
        if let Err(message) = outcome {
            let event = crate::pod::WorkerEvent::ProbeFailedAttempt {
                container: name.clone(),
                kind,
                message,
            };
            if tx.send(event).await.is_err() {
                return;
            }
        }
        let new = if successes >= success_threshold {
            Some(true)
        } else if failures >= failure_threshold {
            Some(false)
        } else {
            result
        };
        if new != result && new.is_some() {
            result = new;
            let update = ProbeUpdate {
                container: name.clone(),
                instance,
                kind,
                success: new == Some(true),
            };
            if tx
                .send(crate::pod::WorkerEvent::Probe(update))
                .await
                .is_err()
            {
                return;
            }
            if kind == ProbeKind::Startup && new == Some(true) {
                return;
            }
            if kind != ProbeKind::Readiness && new == Some(false) {
                // The container is being restarted; the next instance gets a new prober.
                return;
            }
        }
        tokio::time::sleep(period).await;
    }
}
