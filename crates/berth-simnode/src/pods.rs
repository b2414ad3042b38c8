//! The pod side of simulated nodes: one watch over all pods, filtered to pods bound to a
//! simulated node, and a pool of workers that write what a kubelet would.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::TryStreamExt;
use k8s_openapi::api::core::v1::{Container, Pod};
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::SimulatedNodesConfig;
use crate::ips::IpPools;

/// Annotation with how long a Job pod runs before it succeeds (Go duration syntax: `2s`,
/// `500ms`, `1m30s`).
pub const SIMULATED_DURATION_ANNOTATION: &str = "berth.dev/simulated-duration";
pub const DEFAULT_SIMULATED_DURATION: Duration = Duration::from_secs(1);
/// Status writes and deletions in flight at once.
const WORKERS: usize = 32;

/// What the simulated kubelet does next for a pod.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    Nothing,
    /// Report it Running and Ready.
    Start,
    /// A Job pod still running: look again after this long.
    WaitToComplete(Duration),
    /// A Job pod whose run time is over: report it Succeeded.
    Complete,
    /// Deletion was requested: confirm it.
    Delete,
}

fn key(pod: &Pod) -> String {
    format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or_default(),
        pod.metadata.name.as_deref().unwrap_or_default()
    )
}

fn node_of(pod: &Pod) -> Option<&str> {
    pod.spec
        .as_ref()?
        .node_name
        .as_deref()
        .filter(|n| !n.is_empty())
}

/// Pods that run to completion: restartPolicy Never/OnFailure and owned by a Job.
pub fn is_job_pod(pod: &Pod) -> bool {
    let policy = pod.spec.as_ref().and_then(|s| s.restart_policy.as_deref());
    if !matches!(policy, Some("Never") | Some("OnFailure")) {
        return false;
    }
    let labels = pod.metadata.labels.as_ref();
    labels.is_some_and(|l| {
        l.contains_key("batch.kubernetes.io/job-name") || l.contains_key("job-name")
    }) || pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.kind == "Job" && o.api_version.starts_with("batch/"))
}

/// Parses Go-style durations as used in the annotation (`1h2m3s`, `1.5s`, `250ms`).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        if num_len == 0 {
            return None;
        }
        let value: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += value * factor;
        rest = &rest[unit_len..];
    }
    Some(Duration::from_secs_f64(total))
}

pub fn simulated_duration(pod: &Pod) -> Duration {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(SIMULATED_DURATION_ANNOTATION))
        .and_then(|v| parse_duration(v))
        .unwrap_or(DEFAULT_SIMULATED_DURATION)
}

fn is_running_ready(pod: &Pod) -> bool {
    let Some(status) = pod.status.as_ref() else {
        return false;
    };
    status.phase.as_deref() == Some("Running")
        && status.pod_ip.is_some()
        && status
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "Ready" && c.status == "True")
}

pub fn next_step(pod: &Pod, now: jiff::Timestamp) -> Step {
    if pod.metadata.deletion_timestamp.is_some() {
        return Step::Delete;
    }
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if matches!(phase, Some("Succeeded") | Some("Failed")) {
        return Step::Nothing;
    }
    if !is_running_ready(pod) {
        return Step::Start;
    }
    if !is_job_pod(pod) {
        return Step::Nothing;
    }
    let started = pod
        .status
        .as_ref()
        .and_then(|s| s.start_time.as_ref())
        .map(|t| t.0)
        .unwrap_or(now);
    let run = jiff::SignedDuration::try_from(simulated_duration(pod)).unwrap_or_default();
    let elapsed = now.duration_since(started);
    if elapsed >= run {
        Step::Complete
    } else {
        Step::WaitToComplete(Duration::try_from(run - elapsed).unwrap_or_default())
    }
}

fn container_id(pod: &Pod, c: &Container) -> String {
    format!(
        "berth-sim://{}-{}",
        pod.metadata.uid.as_deref().unwrap_or_default(),
        c.name
    )
}

fn condition(type_: &str, status: &str, reason: Option<&str>, now: &str) -> Value {
    let mut c =
        json!({"type": type_, "status": status, "lastProbeTime": null, "lastTransitionTime": now});
    if let Some(r) = reason {
        c["reason"] = json!(r);
    }
    c
}

/// PodScheduled as the binding set it (keeping its transition time).
fn scheduled_condition(pod: &Pod, now: &str) -> Value {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled"))
        .and_then(|c| serde_json::to_value(c).ok())
        .unwrap_or_else(|| condition("PodScheduled", "True", None, now))
}

/// The status a kubelet reports once all containers run and are ready.
pub fn running_status(pod: &Pod, host_ip: Ipv4Addr, pod_ip: Ipv4Addr, now: &str) -> Value {
    let spec = pod.spec.as_ref();
    let running = |c: &Container| {
        json!({
            "name": c.name, "image": c.image.clone().unwrap_or_default(), "imageID": "",
            "containerID": container_id(pod, c), "ready": true, "started": true,
            "restartCount": 0, "state": {"running": {"startedAt": now}},
        })
    };
    let init: Vec<Value> = spec
        .and_then(|s| s.init_containers.as_ref())
        .into_iter()
        .flatten()
        .map(|c| {
            if c.restart_policy.as_deref() == Some("Always") {
                running(c)
            } else {
                json!({
                    "name": c.name, "image": c.image.clone().unwrap_or_default(), "imageID": "",
                    "containerID": container_id(pod, c), "ready": true, "started": false,
                    "restartCount": 0,
                    "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                        "startedAt": now, "finishedAt": now, "containerID": container_id(pod, c)}},
                })
            }
        })
        .collect();
    let containers: Vec<Value> = spec
        .map(|s| s.containers.iter().map(running).collect())
        .unwrap_or_default();
    let start_time = pod
        .status
        .as_ref()
        .and_then(|s| s.start_time.as_ref())
        .map(|t| t.0.to_string())
        .unwrap_or_else(|| now.to_string());
    let mut status = json!({
        "phase": "Running",
        "conditions": [
            condition("PodReadyToStartContainers", "True", None, now),
            condition("Initialized", "True", None, now),
            condition("Ready", "True", None, now),
            condition("ContainersReady", "True", None, now),
            scheduled_condition(pod, now),
        ],
        "hostIP": host_ip.to_string(),
        "hostIPs": [{"ip": host_ip.to_string()}],
        "podIP": pod_ip.to_string(),
        "podIPs": [{"ip": pod_ip.to_string()}],
        "startTime": start_time,
        "containerStatuses": containers,
    });
    if !init.is_empty() {
        status["initContainerStatuses"] = json!(init);
    }
    json!({"status": status})
}

/// The status a kubelet reports once every container exited 0.
pub fn succeeded_status(pod: &Pod, now: &str) -> Value {
    let started = pod
        .status
        .as_ref()
        .and_then(|s| s.start_time.as_ref())
        .map(|t| t.0.to_string())
        .unwrap_or_else(|| now.to_string());
    let containers: Vec<Value> = pod
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|c| {
            json!({
                "name": c.name, "image": c.image.clone().unwrap_or_default(), "imageID": "",
                "containerID": container_id(pod, c), "ready": false, "started": false,
                "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                    "startedAt": started, "finishedAt": now, "containerID": container_id(pod, c)}},
            })
        })
        .collect();
    json!({"status": {
        "phase": "Succeeded",
        "conditions": [
            condition("PodReadyToStartContainers", "False", None, now),
            condition("Initialized", "True", Some("PodCompleted"), now),
            condition("Ready", "False", Some("PodCompleted"), now),
            condition("ContainersReady", "False", Some("PodCompleted"), now),
            scheduled_condition(pod, now),
        ],
        "containerStatuses": containers,
    }})
}

#[derive(Default)]
struct State {
    /// Pods bound to simulated nodes, by namespace/name.
    pods: HashMap<String, Arc<Pod>>,
    /// Keys queued for a worker (at most one pending write per pod).
    pending: HashSet<String>,
    /// Job pods with a completion timer running.
    timers: HashSet<String>,
    ips: IpPools,
    host_ips: HashMap<String, Ipv4Addr>,
}

struct Shared {
    client: Client,
    state: Mutex<State>,
    queue: mpsc::UnboundedSender<String>,
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn enqueue(&self, key: String) {
        if self.state().pending.insert(key.clone()) {
            let _ = self.queue.send(key);
        }
    }

    fn observe(&self, pod: Pod) {
        let Some(node) = node_of(&pod).map(str::to_string) else {
            return;
        };
        let k = key(&pod);
        {
            let mut state = self.state();
            if !state.ips.contains_node(&node) {
                return;
            }
            if let Some(ip) = pod
                .status
                .as_ref()
                .and_then(|s| s.pod_ip.as_deref())
                .and_then(|ip| ip.parse().ok())
            {
                state.ips.adopt(&k, &node, ip);
            }
            state.pods.insert(k.clone(), Arc::new(pod));
        }
        self.enqueue(k);
    }

    fn forget(&self, pod: &Pod) {
        let k = key(pod);
        let mut state = self.state();
        state.pods.remove(&k);
        state.ips.release(&k);
    }
}

pub async fn run(client: Client, config: SimulatedNodesConfig) {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut state = State::default();
    for i in 0..config.count {
        let name = config.node_name(i);
        let subnet = config.node_subnet(i);
        let [a, b, c, _] = subnet.octets();
        state.ips.add_node(&name, subnet);
        state.host_ips.insert(name, Ipv4Addr::new(a, b, c, 1));
    }
    let shared = Arc::new(Shared {
        client: client.clone(),
        state: Mutex::new(state),
        queue: tx,
    });
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..WORKERS {
        let (shared, rx) = (shared.clone(), rx.clone());
        workers.spawn(async move {
            loop {
                let Some(k) = rx.lock().await.recv().await else {
                    return;
                };
                work(&shared, k).await;
            }
        });
    }
    // A field selector cannot match a name prefix: watch all pods and filter here.
    let mut seen_in_list: HashSet<String> = HashSet::new();
    let stream = watcher(Api::<Pod>::all(client), watcher::Config::default()).default_backoff();
    let result = stream
        .try_for_each(|event| {
            match event {
                watcher::Event::Apply(pod) => shared.observe(pod),
                watcher::Event::Delete(pod) => shared.forget(&pod),
                watcher::Event::Init => seen_in_list.clear(),
                watcher::Event::InitApply(pod) => {
                    seen_in_list.insert(key(&pod));
                    shared.observe(pod);
                }
                watcher::Event::InitDone => {
                    let mut state = shared.state();
                    let gone: Vec<String> = state
                        .pods
                        .keys()
                        .filter(|k| !seen_in_list.contains(*k))
                        .cloned()
                        .collect();
                    for k in gone {
                        state.pods.remove(&k);
                        state.ips.release(&k);
                    }
                }
            }
            std::future::ready(Ok(()))
        })
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "simulated nodes' pod watch ended");
    }
    workers.abort_all();
}

async fn work(shared: &Arc<Shared>, k: String) {
    let pod = {
        let mut state = shared.state();
        state.pending.remove(&k);
        state.pods.get(&k).cloned()
    };
    let Some(pod) = pod else { return };
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(shared.client.clone(), &ns);
    let now = jiff::Timestamp::now();
    let result = match next_step(&pod, now) {
        Step::Nothing => Ok(()),
        Step::Delete => {
            let params = DeleteParams {
                grace_period_seconds: Some(0),
                preconditions: Some(Preconditions {
                    uid: pod.metadata.uid.clone(),
                    resource_version: None,
                }),
                ..Default::default()
            };
            api.delete(&name, &params).await.map(|_| ())
        }
        Step::Start => {
            let node = node_of(&pod).unwrap_or_default().to_string();
            let host_network = pod.spec.as_ref().and_then(|s| s.host_network) == Some(true);
            let ips = {
                let mut state = shared.state();
                let host = state.host_ips.get(&node).copied();
                let ip = if host_network {
                    host
                } else {
                    state.ips.allocate(&k, &node)
                };
                host.zip(ip)
            };
            match ips {
                Some((host, ip)) => {
                    let status = running_status(&pod, host, ip, &now.to_string());
                    let patched = api
                        .patch_status(&name, &PatchParams::default(), &Patch::Merge(status))
                        .await;
                    if patched.is_ok() && is_job_pod(&pod) {
                        start_timer(shared, k.clone(), simulated_duration(&pod));
                    }
                    patched.map(|_| ())
                }
                None => {
                    tracing::warn!(pod = k, node, "simulated node has no pod IP left");
                    Ok(())
                }
            }
        }
        Step::WaitToComplete(left) => {
            start_timer(shared, k.clone(), left);
            Ok(())
        }
        Step::Complete => {
            let status = succeeded_status(&pod, &now.to_string());
            let patched = api
                .patch_status(&name, &PatchParams::default(), &Patch::Merge(status))
                .await;
            if patched.is_ok() {
                shared.state().ips.release(&k);
            }
            patched.map(|_| ())
        }
    };
    match result {
        Ok(()) => {}
        // Gone or replaced meanwhile: the watch brings the news.
        Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {}
        Err(e) => {
            tracing::warn!(pod = k, error = %e, "simulated node write failed; retrying");
            let shared = shared.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                shared.enqueue(k);
            });
        }
    }
}

/// One timer per running Job pod; it re-queues the pod when its run time is over.
fn start_timer(shared: &Arc<Shared>, k: String, after: Duration) {
    if !shared.state().timers.insert(k.clone()) {
        return;
    }
    let shared = shared.clone();
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        shared.state().timers.remove(&k);
        shared.enqueue(k);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job_pod() -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "j", "namespace": "default", "labels": {"batch.kubernetes.io/job-name": "j"},
                "annotations": {SIMULATED_DURATION_ANNOTATION: "2s"}},
            "spec": {"restartPolicy": "Never", "nodeName": "berth-sim-0",
                "containers": [{"name": "c", "image": "busybox"}]},
        }))
        .unwrap()
    }

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("5"), None);
    }

    #[test]
    fn job_pods_start_then_complete_after_their_run_time() {
        let mut pod = job_pod();
        let now = jiff::Timestamp::now();
        assert!(is_job_pod(&pod));
        assert_eq!(next_step(&pod, now), Step::Start);
        let status = running_status(
            &pod,
            Ipv4Addr::new(10, 245, 0, 1),
            Ipv4Addr::new(10, 245, 0, 2),
            &now.to_string(),
        );
        pod.status = Some(serde_json::from_value(status["status"].clone()).unwrap());
        assert!(
            matches!(next_step(&pod, now), Step::WaitToComplete(d) if d == Duration::from_secs(2))
        );
        let later = now + jiff::SignedDuration::from_secs(3);
        assert_eq!(next_step(&pod, later), Step::Complete);
        pod.spec.as_mut().unwrap().restart_policy = Some("Always".into());
        assert_eq!(
            next_step(&pod, later),
            Step::Nothing,
            "not a run-to-completion pod"
        );
        pod.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now));
        assert_eq!(next_step(&pod, later), Step::Delete);
    }
}
