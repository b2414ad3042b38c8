//! One worker per pod bound to this node (kubelet's pod worker and `SyncPod`): it creates the
//! sandbox (pod directory, cgroup, network namespace, volumes), runs init containers in order
//! and then the containers as processes, restarts them by policy with back-off, runs probes
//! and hooks, writes the pod status on change and, when the pod is deleted, stops everything
//! gracefully and removes the pod object.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Container, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::Resource;
use kube::api::{Api, DeleteParams, Preconditions};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::agent::AgentContext;
use crate::backoff::ContainerBackoff;
use crate::cgroup::PodCgroup;
use crate::events::EventType;
use crate::logs;
use crate::network::PodNetwork;
use crate::probe::{ProbeKind, ProbeUpdate};

mod container;
mod reconcile;
mod sandbox;
mod status;

const DEFAULT_GRACE_SECONDS: i64 = 30;
/// Pod directory holding the kubelet-managed `hosts` and `resolv.conf` (a name no container
/// can have).
const ETC_DIR: &str = ".etc";
/// How often a waiting pod re-checks things that may fix themselves (missing ConfigMaps).
const RESYNC: Duration = Duration::from_secs(10);
/// How long after a process exits its output pipes may still be drained.
const OUTPUT_DRAIN: Duration = Duration::from_secs(2);

/// Something that happened to the pod's containers.
#[derive(Debug)]
pub enum WorkerEvent {
    /// A process exited (its exit is in the container's watch channel).
    Exited,
    Probe(ProbeUpdate),
    ProbeFailedAttempt {
        container: String,
        kind: ProbeKind,
        message: String,
    },
}

/// How a container instance ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Termination {
    pub exit_code: i32,
    pub signal: Option<i32>,
    pub reason: String,
    pub message: Option<String>,
    pub started_at: Option<jiff::Timestamp>,
    pub finished_at: jiff::Timestamp,
    pub container_id: Option<String>,
    finished_instant: Instant,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct ExitInfo {
    code: Option<i32>,
    signal: Option<i32>,
}

enum RunState {
    Waiting {
        reason: String,
        message: Option<String>,
    },
    Running(Box<RunningInstance>),
    Terminated(Termination),
}

struct RunningInstance {
    id: String,
    pgid: u32,
    started_at: jiff::Timestamp,
    exit: watch::Receiver<Option<ExitInfo>>,
    tasks: Vec<JoinHandle<()>>,
    /// Set when the agent kills the container for a reason of its own.
    kill_reason: Option<String>,
}

struct Slot {
    spec: Container,
    init: bool,
    restart_count: u32,
    state: RunState,
    last_state: Option<Termination>,
    backoff: ContainerBackoff,
    ready: bool,
    started: bool,
    /// Init containers: finished successfully.
    succeeded: bool,
}

impl Slot {
    fn new(spec: Container, init: bool) -> Slot {
        Slot {
            spec,
            init,
            restart_count: 0,
            state: RunState::Waiting {
                reason: if init {
                    "PodInitializing"
                } else {
                    "ContainerCreating"
                }
                .into(),
                message: None,
            },
            last_state: None,
            backoff: ContainerBackoff::default(),
            ready: false,
            started: false,
            succeeded: false,
        }
    }

    fn is_sidecar(&self) -> bool {
        self.init && self.spec.restart_policy.as_deref() == Some("Always")
    }

    fn is_running(&self) -> bool {
        matches!(self.state, RunState::Running(_))
    }

    fn has_run(&self) -> bool {
        !matches!(self.state, RunState::Waiting { .. }) || self.last_state.is_some()
    }
}

/// The sandbox: what the pod's containers share.
struct Sandbox {
    network: PodNetwork,
    cgroup: Option<PodCgroup>,
}

pub struct PodWorker {
    ctx: Arc<AgentContext>,
    pod: Pod,
    uid: String,
    name: String,
    namespace: String,
    pod_dir: PathBuf,
    sandbox: Option<Sandbox>,
    sandbox_error: Option<String>,
    /// `status.reason` / `status.message` of a pod the agent failed (DeadlineExceeded).
    failure: Option<(String, String)>,
    init: Vec<Slot>,
    containers: Vec<Slot>,
    start_time: Option<jiff::Timestamp>,
    phase: String,
    events_tx: mpsc::Sender<WorkerEvent>,
    events_rx: mpsc::Receiver<WorkerEvent>,
    last_written: Option<serde_json::Value>,
    terminal: bool,
    oom_kills_seen: u64,
    next_wake: Option<Instant>,
    volumes_synced: Option<Instant>,
}

fn ts_time(t: jiff::Timestamp) -> Time {
    Time(t.round(jiff::Unit::Second).unwrap_or(t))
}

fn format_pod(name: &str, ns: &str, uid: &str) -> String {
    format!("{name}_{ns}({uid})")
}

impl PodWorker {
    pub fn new(ctx: Arc<AgentContext>, pod: Pod) -> PodWorker {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let namespace = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let pod_dir = ctx
            .pods_dir()
            .join(logs::pod_dir_name(&namespace, &name, &uid));
        let spec = pod.spec.clone().unwrap_or_default();
        let init = spec
            .init_containers
            .unwrap_or_default()
            .into_iter()
            .map(|c| Slot::new(c, true))
            .collect();
        let containers = spec
            .containers
            .into_iter()
            .map(|c| Slot::new(c, false))
            .collect();
        let (events_tx, events_rx) = mpsc::channel(64);
        PodWorker {
            ctx,
            uid,
            name,
            namespace,
            pod_dir,
            sandbox: None,
            sandbox_error: None,
            failure: None,
            init,
            containers,
            start_time: None,
            phase: "Pending".into(),
            events_tx,
            events_rx,
            last_written: None,
            terminal: false,
            oom_kills_seen: 0,
            next_wake: None,
            volumes_synced: None,
            pod,
        }
    }

    fn restart_policy(&self) -> &str {
        self.pod
            .spec
            .as_ref()
            .and_then(|s| s.restart_policy.as_deref())
            .unwrap_or("Always")
    }

    async fn event(&self, type_: EventType, reason: &str, note: String) {
        let mut reference = self.pod.object_ref(&());
        reference.field_path = None;
        self.ctx
            .recorder
            .record(&reference, type_, reason, &note)
            .await;
    }

    /// An event about one container (kubelet's field path `spec.containers{NAME}`).
    async fn container_event(
        &self,
        container: &str,
        init: bool,
        type_: EventType,
        reason: &str,
        note: String,
    ) {
        let mut reference = self.pod.object_ref(&());
        let list = if init { "initContainers" } else { "containers" };
        reference.field_path = Some(format!("spec.{list}{{{container}}}"));
        self.ctx
            .recorder
            .record(&reference, type_, reason, &note)
            .await;
    }

    /// Runs the pod until it is deleted (then removes it) or the agent shuts down.
    pub async fn run(
        mut self,
        mut pod_rx: watch::Receiver<Option<Pod>>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        tracing::info!(pod = %self.namespace, name = %self.name, "starting pod");
        loop {
            if *shutdown.borrow() {
                self.stop_all(None).await;
                self.teardown_sandbox().await;
                return;
            }
            let current = pod_rx.borrow_and_update().clone();
            let Some(pod) = current else {
                // Gone from the API (force-deleted): stop without writing anything back.
                self.stop_all(None).await;
                self.teardown_sandbox().await;
                self.ctx.logs.forget_pod(&self.uid);
                return;
            };
            self.pod = pod;
            if !self.terminal {
                self.apply_image_changes().await;
            }
            if self.pod.metadata.deletion_timestamp.is_some() {
                self.terminate_and_delete().await;
                return;
            }
            if !self.terminal {
                self.sync().await;
            }
            self.write_status().await;
            let idle = RESYNC.min(self.ctx.config.volume_resync_period);
            let wake = self
                .next_wake
                .take()
                .unwrap_or_else(|| Instant::now() + idle);
            tokio::select! {
                ev = self.events_rx.recv() => {
                    if let Some(ev) = ev {
                        self.handle_event(ev).await;
                    }
                    // Handle whatever else is already queued before syncing again.
                    while let Ok(ev) = self.events_rx.try_recv() {
                        self.handle_event(ev).await;
                    }
                }
                r = pod_rx.changed() => {
                    if r.is_err() {
                        self.stop_all(None).await;
                        self.teardown_sandbox().await;
                        return;
                    }
                }
                _ = tokio::time::sleep_until(wake.into()) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// A container's image is the one mutable part of its spec; kubelet restarts a container
    /// whose image changed. Berth runs no images, but keeps the same observable behaviour.
    async fn apply_image_changes(&mut self) {
        let Some(spec) = self.pod.spec.clone() else {
            return;
        };
        let all = spec
            .init_containers
            .unwrap_or_default()
            .into_iter()
            .chain(spec.containers);
        for new in all {
            let Some(slot) = self.slot_mut(&new.name) else {
                continue;
            };
            if slot.spec.image == new.image {
                continue;
            }
            let running = slot.is_running();
            slot.spec.image = new.image.clone();
            if running {
                let name = new.name.clone();
                let grace = self.grace_seconds();
                let message = format!("Container {name} definition changed, will be restarted");
                self.stop_container(&name, grace, None, Some(message)).await;
                if let Some(slot) = self.slot_mut(&name)
                    && let RunState::Terminated(t) = std::mem::replace(
                        &mut slot.state,
                        RunState::Waiting {
                            reason: "ContainerCreating".into(),
                            message: None,
                        },
                    )
                {
                    slot.last_state = Some(t);
                }
            }
        }
    }

    fn slot_mut(&mut self, name: &str) -> Option<&mut Slot> {
        self.init
            .iter_mut()
            .chain(self.containers.iter_mut())
            .find(|s| s.spec.name == name)
    }

    async fn handle_event(&mut self, ev: WorkerEvent) {
        match ev {
            WorkerEvent::Exited => {}
            WorkerEvent::ProbeFailedAttempt {
                container,
                kind,
                message,
            } => {
                let init = self.init.iter().any(|s| s.spec.name == container);
                self.container_event(
                    &container,
                    init,
                    EventType::Warning,
                    "Unhealthy",
                    format!("{} probe failed: {message}", kind.title()),
                )
                .await;
            }
            WorkerEvent::Probe(update) => self.handle_probe(update).await,
        }
    }

    async fn handle_probe(&mut self, u: ProbeUpdate) {
        let pod_grace = self.grace_seconds();
        let Some(slot) = self.slot_mut(&u.container) else {
            return;
        };
        if slot.restart_count != u.instance || !slot.is_running() {
            return;
        }
        match (u.kind, u.success) {
            (ProbeKind::Readiness, ok) => slot.ready = ok,
            (ProbeKind::Startup, true) => {
                slot.started = true;
                let has_readiness = slot.spec.readiness_probe.is_some();
                if !has_readiness {
                    slot.ready = true;
                }
                let (name, instance) = (slot.spec.name.clone(), slot.restart_count);
                self.start_probers(&name, instance, false);
            }
            (ProbeKind::Liveness | ProbeKind::Startup, false) => {
                let probe = if u.kind == ProbeKind::Liveness {
                    slot.spec.liveness_probe.clone()
                } else {
                    slot.spec.startup_probe.clone()
                };
                let grace = probe
                    .and_then(|p| p.termination_grace_period_seconds)
                    .unwrap_or(pod_grace);
                let name = slot.spec.name.clone();
                let what = if u.kind == ProbeKind::Liveness {
                    "liveness"
                } else {
                    "startup"
                };
                let message = format!("Container {name} failed {what} probe, will be restarted");
                self.stop_container(&name, grace, Some("Error".into()), Some(message))
                    .await;
            }
            (ProbeKind::Liveness, true) => {}
        }
    }

    fn grace_seconds(&self) -> i64 {
        self.pod
            .spec
            .as_ref()
            .and_then(|s| s.termination_grace_period_seconds)
            .unwrap_or(DEFAULT_GRACE_SECONDS)
    }

    /// The pod has a deletionTimestamp: stop gracefully, report, delete the object.
    async fn terminate_and_delete(&mut self) {
        let grace = self
            .pod
            .metadata
            .deletion_grace_period_seconds
            .unwrap_or_else(|| self.grace_seconds());
        tracing::info!(pod = %self.name, grace, "stopping deleted pod");
        self.stop_all(Some(grace)).await;
        if !self.terminal {
            // Kubelet moves a deleted pod to a terminal phase before removing it.
            let all_zero = self
                .containers
                .iter()
                .all(|s| matches!(&s.state, RunState::Terminated(t) if t.exit_code == 0));
            self.phase = if all_zero { "Succeeded" } else { "Failed" }.into();
            self.terminal = true;
        }
        self.write_status().await;
        self.teardown_sandbox().await;
        let api: Api<Pod> = Api::namespaced(self.ctx.client.clone(), &self.namespace);
        let dp = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions {
                uid: Some(self.uid.clone()),
                resource_version: None,
            }),
            ..Default::default()
        };
        if let Err(e) = api.delete(&self.name, &dp).await
            && !crate::error::is_not_found(&e)
        {
            tracing::warn!(pod = %self.name, error = %e, "cannot delete pod");
        }
        self.ctx.logs.forget_pod(&self.uid);
        // Deleted pods take their logs with them (kubelet removes /var/log/pods/<pod>).
        if let Err(e) = std::fs::remove_dir_all(&self.pod_dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(dir = %self.pod_dir.display(), error = %e, "cannot remove pod directory");
        }
    }
}
