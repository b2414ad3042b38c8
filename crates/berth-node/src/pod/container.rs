//! Starting and stopping one container instance: environment, command, log files, the
//! process itself, postStart/preStop hooks, probers, graceful termination.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::events::EventType;
use k8s_openapi::api::core::v1::{Container, LifecycleHandler};
use tokio::sync::watch;

use super::{
    ExitInfo, OUTPUT_DRAIN, PodWorker, RESYNC, RunState, RunningInstance, Termination, WorkerEvent,
    format_pod,
};
use crate::env;
use crate::exec::ExecTarget;
use crate::logs::{self, ContainerLogState, LogWriter};
use crate::probe::{self, ProbeKind, ProbeTarget};
use crate::spawner::{self, BindMount, SpawnRequest};
use crate::volumes;

impl PodWorker {
    pub(super) fn exec_base(&self) -> SpawnRequest {
        let sb = self.sandbox.as_ref();
        SpawnRequest {
            argv: Vec::new(),
            env: self.ctx.base_env(&self.pod_hostname()),
            cwd: Some(PathBuf::from("/")),
            netns: sb.and_then(|s| s.network.netns_path.clone()),
            cgroup_procs: sb
                .and_then(|s| s.cgroup.as_ref())
                .map(|c| c.procs_files())
                .unwrap_or_default(),
            mounts: Vec::new(),
            capture_output: false,
            hostname: Some(self.pod_hostname()),
            uid: None,
            gid: None,
            stdin_piped: false,
            tty: None,
        }
    }

    /// `/etc/hosts` and `/etc/resolv.conf` of the pod (not for host-network pods).
    pub(super) fn etc_mounts(&self) -> Vec<BindMount> {
        let host_network = self
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.host_network)
            .unwrap_or(false);
        if host_network {
            return Vec::new();
        }
        let dir = self.pod_dir.join(super::ETC_DIR);
        ["hosts", "resolv.conf"]
            .into_iter()
            .filter(|f| dir.join(f).is_file())
            .map(|f| BindMount {
                source: dir.join(f),
                target: PathBuf::from("/etc").join(f),
                read_only: false,
            })
            .collect()
    }

    /// The pod's host name: `spec.hostname` or the pod name (truncated to 63 characters).
    pub(super) fn pod_hostname(&self) -> String {
        let name = self
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.hostname.clone())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| self.name.clone());
        name.chars()
            .take(63)
            .collect::<String>()
            .trim_end_matches(['-', '.'])
            .to_string()
    }

    /// `runAsUser` / `runAsGroup` of the container, else of the pod.
    pub(super) fn run_as(&self, spec: &Container) -> (Option<u32>, Option<u32>) {
        let pod_sc = self
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.security_context.as_ref());
        let c_sc = spec.security_context.as_ref();
        let uid = c_sc
            .and_then(|s| s.run_as_user)
            .or_else(|| pod_sc.and_then(|s| s.run_as_user))
            .and_then(|u| u32::try_from(u).ok());
        let gid = c_sc
            .and_then(|s| s.run_as_group)
            .or_else(|| pod_sc.and_then(|s| s.run_as_group))
            .and_then(|g| u32::try_from(g).ok());
        (uid, gid)
    }

    pub(super) async fn start_container(&mut self, init: bool, i: usize) {
        let spec = if init {
            self.init[i].spec.clone()
        } else {
            self.containers[i].spec.clone()
        };
        let name = spec.name.clone();
        let next_instance = {
            let slot = if init {
                &self.init[i]
            } else {
                &self.containers[i]
            };
            // A new instance after a previous one counts as a restart.
            if slot.has_run() {
                slot.restart_count + 1
            } else {
                slot.restart_count
            }
        };
        let result = self.launch(&spec, init, i, next_instance).await;
        let slot = if init {
            &mut self.init[i]
        } else {
            &mut self.containers[i]
        };
        match result {
            Ok(()) => {}
            Err(Launch::Waiting(reason, message)) => {
                if let RunState::Terminated(t) = std::mem::replace(
                    &mut slot.state,
                    RunState::Waiting {
                        reason: reason.clone(),
                        message: Some(message.clone()),
                    },
                ) {
                    slot.last_state = Some(t);
                }
                self.ctx.logs.set_waiting_reason(
                    &self.uid,
                    &name,
                    &self.pod_dir.join(&name),
                    &reason,
                );
                self.container_event(
                    &name,
                    init,
                    EventType::Warning,
                    "Failed",
                    format!("Error: {message}"),
                )
                .await;
                self.next_wake = Some(Instant::now() + RESYNC);
            }
            Err(Launch::StartError(message)) => {
                let now = jiff::Timestamp::now();
                let t = Termination {
                    exit_code: 128,
                    signal: None,
                    reason: "StartError".into(),
                    message: Some(message.clone()),
                    started_at: None,
                    finished_at: now,
                    container_id: None,
                    finished_instant: Instant::now(),
                };
                if let RunState::Terminated(old) =
                    std::mem::replace(&mut slot.state, RunState::Terminated(t))
                {
                    slot.last_state = Some(old);
                }
                slot.restart_count = next_instance;
                self.container_event(
                    &name,
                    init,
                    EventType::Warning,
                    "Failed",
                    format!("Error: {message}"),
                )
                .await;
                self.next_wake = Some(Instant::now() + Duration::from_millis(100));
            }
        }
    }

    /// Starts one instance of a container's process.
    pub(super) async fn launch(
        &mut self,
        spec: &Container,
        init: bool,
        i: usize,
        slot_restart: u32,
    ) -> Result<(), Launch> {
        let command = spec.command.clone().unwrap_or_default();
        if command.is_empty() {
            return Err(Launch::Waiting(
                "CreateContainerError".into(),
                format!(
                    "Berth runs containers as local processes and does not pull or run images: container \"{}\" (image \"{}\") needs a command",
                    spec.name,
                    spec.image.clone().unwrap_or_default()
                ),
            ));
        }
        let facts = self.facts();
        let env = env::container_env(
            &self.ctx.client,
            &self.pod,
            spec,
            &facts,
            self.ctx.base_env(&self.pod_hostname()),
        )
        .await
        .map_err(|e| Launch::Waiting("CreateContainerConfigError".into(), e.0))?;
        let lookup = |n: &str| {
            env.iter()
                .rev()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
        };
        let mut argv: Vec<String> = command
            .iter()
            .map(|a| crate::expansion::expand(a, &lookup))
            .collect();
        argv.extend(
            spec.args
                .iter()
                .flatten()
                .map(|a| crate::expansion::expand(a, &lookup)),
        );
        let cwd = spec
            .working_dir
            .clone()
            .filter(|w| !w.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/"));
        if !cwd.is_dir() {
            return Err(Launch::StartError(format!(
                "working directory {:?} does not exist on this node (Berth runs processes on the host filesystem)",
                cwd.display().to_string()
            )));
        }
        let mut mounts: Vec<BindMount> = volumes::mounts_for(&self.pod_dir, &self.pod, spec)
            .map_err(|e| Launch::Waiting("CreateContainerConfigError".into(), e))?;
        mounts.extend(self.etc_mounts());
        let sidecar = if init {
            self.init[i].is_sidecar()
        } else {
            false
        };
        let log_path = self
            .pod_dir
            .join(&spec.name)
            .join(format!("{slot_restart}.log"));
        let writer = LogWriter::create(log_path, self.ctx.rotation())
            .map_err(|e| Launch::StartError(format!("cannot create log file: {e}")))?;
        let writer = Arc::new(Mutex::new(writer));
        let mut req = self.exec_base();
        req.env = env;
        req.cwd = Some(cwd);
        req.mounts = mounts;
        req.capture_output = true;
        (req.uid, req.gid) = self.run_as(spec);
        // `pods/exec` runs in this same context: environment, mounts, directory and user.
        let exec_context = req.clone();
        req.argv = argv;
        let mut child = self.ctx.spawner.spawn(req).await.map_err(|e| {
            Launch::StartError(format!(
                "failed to start container \"{}\": exec: {e}",
                spec.name
            ))
        })?;
        let pgid = child.id().unwrap_or(0);
        let id = format!("{}-{}-{slot_restart}", &self.uid, spec.name);
        let (exit_tx, exit_rx) = watch::channel::<Option<ExitInfo>>(None);
        let (log_done_tx, log_done_rx) = watch::channel(false);
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let events = self.events_tx.clone();
        let monitor = tokio::spawn(async move {
            let w1 = writer.clone();
            let out = tokio::spawn(async move {
                if let Some(s) = stdout {
                    logs::pump(s, "stdout", w1).await;
                }
            });
            let err = tokio::spawn(async move {
                if let Some(s) = stderr {
                    logs::pump(s, "stderr", writer).await;
                }
            });
            let status = child.wait().await;
            // As in a container, the rest of the process group ends with its main process.
            spawner::signal_group(pgid, libc::SIGKILL);
            use std::os::unix::process::ExitStatusExt;
            let info = match status {
                Ok(s) => ExitInfo {
                    code: s.code(),
                    signal: s.signal(),
                },
                Err(_) => ExitInfo {
                    code: Some(-1),
                    signal: None,
                },
            };
            // Background processes may hold the pipes open; do not wait for them forever.
            let _ = tokio::time::timeout(OUTPUT_DRAIN, async {
                let _ = out.await;
                let _ = err.await;
            })
            .await;
            let _ = log_done_tx.send(true);
            let _ = exit_tx.send(Some(info));
            let _ = events.send(WorkerEvent::Exited).await;
        });
        self.ctx.exec.set(
            &self.uid,
            &spec.name,
            ExecTarget {
                context: exec_context,
                exited: exit_rx.clone(),
            },
        );
        self.ctx.logs.set(
            &self.uid,
            &spec.name,
            ContainerLogState {
                dir: self.pod_dir.join(&spec.name),
                current: Some(slot_restart),
                exited: log_done_rx,
                waiting_reason: String::new(),
            },
        );
        let now = jiff::Timestamp::now();
        {
            let slot = if init {
                &mut self.init[i]
            } else {
                &mut self.containers[i]
            };
            if let RunState::Terminated(t) = std::mem::replace(
                &mut slot.state,
                RunState::Running(Box::new(RunningInstance {
                    id: id.clone(),
                    pgid,
                    started_at: now,
                    exit: exit_rx,
                    tasks: vec![monitor],
                    kill_reason: None,
                })),
            ) {
                slot.last_state = Some(t);
            }
            slot.restart_count = slot_restart;
            // Without probes a running container is started and ready at once.
            slot.started = spec.startup_probe.is_none();
            slot.ready = slot.started && spec.readiness_probe.is_none() && (!init || sidecar);
        }
        let image = spec.image.clone().unwrap_or_default();
        self.container_event(
            &spec.name,
            init,
            EventType::Normal,
            "Pulled",
            format!("Container image \"{image}\" already present on machine"),
        )
        .await;
        self.container_event(
            &spec.name,
            init,
            EventType::Normal,
            "Created",
            format!("Created container: {}", spec.name),
        )
        .await;
        self.container_event(
            &spec.name,
            init,
            EventType::Normal,
            "Started",
            format!("Started container {}", spec.name),
        )
        .await;
        if let Some(hook) = spec.lifecycle.as_ref().and_then(|l| l.post_start.clone())
            && let Err(msg) = self
                .run_hook(
                    &hook,
                    spec,
                    Duration::from_secs(self.grace_seconds().max(1) as u64),
                )
                .await
        {
            // Kubelet keeps the hook's output out of the event (it may hold secrets).
            tracing::warn!(pod = %self.name, container = %spec.name, error = %msg, "postStart hook failed");
            self.container_event(
                &spec.name,
                init,
                EventType::Warning,
                "FailedPostStartHook",
                "PostStartHook failed".into(),
            )
            .await;
            let name = spec.name.clone();
            self.stop_container(
                &name,
                self.grace_seconds(),
                Some("Error".into()),
                Some("FailedPostStartHook".into()),
            )
            .await;
            return Ok(());
        }
        self.start_probers(&spec.name, slot_restart, true);
        Ok(())
    }

    pub(super) fn probe_target(&self, spec: &Container) -> ProbeTarget {
        // Exec probes and hooks see the container's volumes and run as its user.
        let mut exec_base = self.exec_base();
        exec_base.mounts = volumes::mounts_for(&self.pod_dir, &self.pod, spec).unwrap_or_default();
        exec_base.mounts.extend(self.etc_mounts());
        (exec_base.uid, exec_base.gid) = self.run_as(spec);
        ProbeTarget {
            pod_ip: self
                .sandbox
                .as_ref()
                .map(|s| s.network.ip)
                .unwrap_or(std::net::Ipv4Addr::LOCALHOST),
            spawner: self.ctx.spawner.clone(),
            exec_base,
            container: spec.clone(),
        }
    }

    /// Starts the startup prober (when `first` and the container has one) or the liveness and
    /// readiness probers.
    pub(super) fn start_probers(&mut self, name: &str, instance: u32, first: bool) {
        let Some(spec) = self
            .init
            .iter()
            .chain(self.containers.iter())
            .find(|s| s.spec.name == name)
            .map(|s| s.spec.clone())
        else {
            return;
        };
        let target = self.probe_target(&spec);
        let mut tasks = Vec::new();
        if first && let Some(p) = spec.startup_probe.clone() {
            tasks.push(tokio::spawn(probe::run_loop(
                ProbeKind::Startup,
                p,
                target,
                instance,
                self.events_tx.clone(),
            )));
        } else {
            if let Some(p) = spec.liveness_probe.clone() {
                tasks.push(tokio::spawn(probe::run_loop(
                    ProbeKind::Liveness,
                    p,
                    target.clone(),
                    instance,
                    self.events_tx.clone(),
                )));
            }
            if let Some(p) = spec.readiness_probe.clone() {
                tasks.push(tokio::spawn(probe::run_loop(
                    ProbeKind::Readiness,
                    p,
                    target,
                    instance,
                    self.events_tx.clone(),
                )));
            }
        }
        if let Some(slot) = self.slot_mut(name)
            && let RunState::Running(run) = &mut slot.state
        {
            run.tasks.extend(tasks);
        }
    }

    pub(super) async fn run_hook(
        &self,
        hook: &LifecycleHandler,
        spec: &Container,
        timeout: Duration,
    ) -> Result<(), String> {
        let target = self.probe_target(spec);
        let result = if let Some(a) = &hook.exec {
            probe::exec(a, &target, timeout).await
        } else if let Some(a) = &hook.http_get {
            probe::http_get(a, &target, timeout).await
        } else if let Some(s) = &hook.sleep {
            tokio::time::sleep(Duration::from_secs(s.seconds.max(0) as u64).min(timeout)).await;
            Ok(())
        } else {
            Ok(())
        };
        result.map_err(|m| {
            if hook.exec.is_some() {
                format!("Exec lifecycle hook ({:?}) for Container \"{}\" in Pod \"{}\" failed - error: {m}", hook.exec.as_ref().and_then(|e| e.command.clone()).unwrap_or_default(), spec.name, format_pod(&self.name, &self.namespace, &self.uid))
            } else {
                format!("HTTP lifecycle hook for Container \"{}\" in Pod \"{}\" failed - error: {m}", spec.name, format_pod(&self.name, &self.namespace, &self.uid))
            }
        })
    }

    /// Stops one container: preStop hook, SIGTERM to its process group, SIGKILL after the grace
    /// period (the hook's time counts against it). Waits for the exit and records it.
    /// `kill_message` is the `Killing` event's text when the agent kills for a reason of its
    /// own (kubelet's `killContainer` message); otherwise "Stopping container NAME".
    pub(super) async fn stop_container(
        &mut self,
        name: &str,
        grace_seconds: i64,
        reason: Option<String>,
        kill_message: Option<String>,
    ) {
        let deadline = Instant::now() + Duration::from_secs(grace_seconds.max(0) as u64);
        let (pgid, mut exit, spec, init) = {
            let Some(slot) = self.slot_mut(name) else {
                return;
            };
            let RunState::Running(run) = &mut slot.state else {
                return;
            };
            run.kill_reason = reason;
            (run.pgid, run.exit.clone(), slot.spec.clone(), slot.init)
        };
        self.container_event(
            name,
            init,
            EventType::Normal,
            "Killing",
            kill_message.unwrap_or_else(|| format!("Stopping container {name}")),
        )
        .await;
        if grace_seconds > 0
            && let Some(hook) = spec.lifecycle.as_ref().and_then(|l| l.pre_stop.clone())
        {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if let Err(msg) = self.run_hook(&hook, &spec, remaining).await {
                // Kubelet keeps the hook's output out of the event (it may hold secrets).
                tracing::warn!(pod = %self.name, container = %name, error = %msg, "preStop hook failed");
                self.container_event(
                    name,
                    init,
                    EventType::Warning,
                    "FailedPreStopHook",
                    "PreStopHook failed".into(),
                )
                .await;
            }
        }
        spawner::signal_group(pgid, libc::SIGTERM);
        let timed_out = tokio::time::timeout_at(deadline.into(), exit.wait_for(|e| e.is_some()))
            .await
            .map(|_| ())
            .is_err();
        if timed_out {
            spawner::signal_group(pgid, libc::SIGKILL);
            let _ = tokio::time::timeout(Duration::from_secs(10), exit.wait_for(|e| e.is_some()))
                .await
                .map(|_| ());
        } else {
            // The main process is gone; leftovers in its group go too.
            spawner::signal_group(pgid, libc::SIGKILL);
        }
        self.collect_exits().await;
    }

    /// Stops every running container (regular ones first, then init/sidecars), with the given
    /// grace or the pod's.
    pub(super) async fn stop_all(&mut self, grace: Option<i64>) {
        let grace = grace.unwrap_or_else(|| self.grace_seconds());
        let names: Vec<String> = self
            .containers
            .iter()
            .chain(self.init.iter())
            .filter(|s| s.is_running())
            .map(|s| s.spec.name.clone())
            .collect();
        // Stopped one after another but each within the same overall deadline.
        let deadline = Instant::now() + Duration::from_secs(grace.max(0) as u64);
        for name in names {
            let left = deadline.saturating_duration_since(Instant::now()).as_secs() as i64;
            self.stop_container(&name, left, None, None).await;
        }
    }
}

pub(super) enum Launch {
    /// The container cannot start yet: stays Waiting with this reason and message.
    Waiting(String, String),
    /// Starting failed: Terminated with reason StartError.
    StartError(String),
}
