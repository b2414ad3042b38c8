//! Bringing a pod's containers towards its spec: init containers in order, then the
//! containers, restarted by policy with back-off; the pod phase (upstream `getPhase`).

use std::time::{Duration, Instant};

use crate::events::EventType;

use super::{PodWorker, RESYNC, RunState, Termination, format_pod};
use crate::backoff::go_duration;

impl PodWorker {
    /// Brings the containers towards the spec: the next init container, then all containers.
    pub(super) async fn sync(&mut self) {
        if !self.ensure_sandbox().await {
            self.next_wake = Some(Instant::now() + RESYNC);
            return;
        }
        if self.deadline_exceeded() {
            self.failure = Some((
                "DeadlineExceeded".into(),
                "Pod was active on the node longer than the specified deadline".into(),
            ));
            self.event(
                EventType::Normal,
                "DeadlineExceeded",
                "Pod was active on the node longer than the specified deadline".into(),
            )
            .await;
            self.set_terminal("Failed").await;
            return;
        }
        let volumes_ready = self.sync_volumes().await;
        self.collect_exits().await;
        if !volumes_ready {
            return;
        }
        let policy = self.restart_policy().to_string();
        // Init containers, in order.
        let mut i = 0;
        while i < self.init.len() {
            let slot = &self.init[i];
            if slot.succeeded {
                i += 1;
                continue;
            }
            if slot.is_sidecar() {
                if !slot.is_running() {
                    self.maybe_start(true, i, true).await;
                }
                // The next init container waits for the sidecar to have started.
                if !self.init[i].started {
                    break;
                }
                i += 1;
                continue;
            }
            match &slot.state {
                RunState::Running(_) => break,
                RunState::Terminated(t) if t.exit_code == 0 => {
                    self.init[i].succeeded = true;
                    i += 1;
                    continue;
                }
                RunState::Terminated(_) if policy == "Never" => {
                    self.set_terminal("Failed").await;
                    return;
                }
                _ => {
                    self.maybe_start(true, i, true).await;
                    break;
                }
            }
        }
        let initialized = i >= self.init.len();
        if initialized {
            for i in 0..self.containers.len() {
                let restart = match &self.containers[i].state {
                    RunState::Running(_) => false,
                    RunState::Waiting { .. } => true,
                    RunState::Terminated(t) => match policy.as_str() {
                        "Always" => true,
                        "OnFailure" => t.exit_code != 0,
                        _ => false,
                    },
                };
                if restart {
                    self.maybe_start(false, i, true).await;
                }
            }
        }
        self.phase = self.compute_phase(initialized);
        if self.phase == "Succeeded" || self.phase == "Failed" {
            let phase = self.phase.clone();
            self.set_terminal(&phase).await;
        }
    }

    /// Whether `activeDeadlineSeconds` has passed since the pod started; arranges a wake-up at
    /// the deadline otherwise.
    pub(super) fn deadline_exceeded(&mut self) -> bool {
        let Some(limit) = self
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.active_deadline_seconds)
        else {
            return false;
        };
        let Some(start) = self.start_time else {
            return false;
        };
        let elapsed = jiff::Timestamp::now().duration_since(start).as_secs();
        if elapsed >= limit {
            return true;
        }
        let left = Duration::from_secs((limit - elapsed).max(1) as u64);
        let at = Instant::now() + left;
        self.next_wake = Some(self.next_wake.map_or(at, |w| w.min(at)));
        false
    }

    /// The pod phase (upstream `getPhase`).
    pub(super) fn compute_phase(&self, initialized: bool) -> String {
        let policy = self.restart_policy();
        if !initialized {
            let failed = self.init.iter().any(|s| {
                !s.is_sidecar() && matches!(&s.state, RunState::Terminated(t) if t.exit_code != 0)
            });
            return if failed && policy == "Never" {
                "Failed"
            } else {
                "Pending"
            }
            .into();
        }
        let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
        for s in &self.containers {
            match &s.state {
                RunState::Running(_) => running += 1,
                RunState::Terminated(t) => {
                    stopped += 1;
                    if t.exit_code == 0 {
                        succeeded += 1;
                    }
                }
                RunState::Waiting { .. } => {
                    if s.last_state.is_some() {
                        stopped += 1;
                    } else {
                        waiting += 1;
                    }
                }
            }
        }
        if waiting > 0 {
            "Pending"
        } else if running > 0 {
            "Running"
        } else if stopped > 0 {
            if policy == "Always" {
                "Running"
            } else if stopped == succeeded {
                "Succeeded"
            } else if policy == "Never" {
                "Failed"
            } else {
                "Running"
            }
        } else {
            "Pending"
        }
        .into()
    }

    pub(super) async fn set_terminal(&mut self, phase: &str) {
        self.phase = phase.into();
        self.terminal = true;
        // Sidecars and anything still running stop; logs and status stay.
        self.stop_all(None).await;
        for s in self.init.iter_mut().chain(self.containers.iter_mut()) {
            s.ready = false;
        }
        self.teardown_sandbox_keep_ip().await;
    }

    /// Records the exit of every container whose process ended.
    pub(super) async fn collect_exits(&mut self) {
        let oom_now = self
            .sandbox
            .as_ref()
            .and_then(|s| s.cgroup.as_ref())
            .map(|c| c.oom_kills())
            .unwrap_or(0);
        let mut oom_new = oom_now > self.oom_kills_seen;
        self.oom_kills_seen = oom_now;
        let mut exited: Vec<(String, bool, Termination)> = Vec::new();
        for slot in self.init.iter_mut().chain(self.containers.iter_mut()) {
            let RunState::Running(run) = &slot.state else {
                continue;
            };
            let Some(exit) = *run.exit.borrow() else {
                continue;
            };
            let signal = exit.signal;
            let exit_code = exit.code.unwrap_or_else(|| 128 + signal.unwrap_or(0));
            let reason = if oom_new && signal == Some(libc::SIGKILL) {
                oom_new = false;
                "OOMKilled".to_string()
            } else if let Some(r) = &run.kill_reason {
                r.clone()
            } else if exit_code == 0 {
                "Completed".to_string()
            } else {
                "Error".to_string()
            };
            let t = Termination {
                exit_code,
                signal,
                reason,
                message: None,
                started_at: Some(run.started_at),
                finished_at: jiff::Timestamp::now(),
                container_id: Some(format!("berth://{}", run.id)),
                finished_instant: Instant::now(),
            };
            for task in &run.tasks {
                task.abort();
            }
            exited.push((slot.spec.name.clone(), slot.init, t.clone()));
            slot.state = RunState::Terminated(t);
            slot.ready = false;
            slot.started = false;
            if slot.init && exit_code == 0 && !slot.is_sidecar() {
                slot.succeeded = true;
            }
        }
        for (name, _init, t) in exited {
            tracing::info!(pod = %self.name, container = %name, exit_code = t.exit_code, reason = %t.reason, "container exited");
        }
    }

    /// Starts container `i` unless its back-off says to wait.
    pub(super) async fn maybe_start(&mut self, init: bool, i: usize, _restart: bool) {
        let now = Instant::now();
        let pod_desc = format_pod(&self.name, &self.namespace, &self.uid);
        let slot = if init {
            &mut self.init[i]
        } else {
            &mut self.containers[i]
        };
        if slot.is_running() {
            return;
        }
        // A container that ran before restarts only after its back-off.
        let finished = match &slot.state {
            RunState::Terminated(t) => Some(t.finished_instant),
            _ => slot.last_state.as_ref().map(|t| t.finished_instant),
        };
        if let Some(finished) = finished {
            if let Some((delay, until)) = slot.backoff.waiting(finished, now) {
                let name = slot.spec.name.clone();
                let already = matches!(&slot.state, RunState::Waiting { reason, .. } if reason == "CrashLoopBackOff");
                if let RunState::Terminated(t) = std::mem::replace(
                    &mut slot.state,
                    RunState::Waiting {
                        reason: "CrashLoopBackOff".into(),
                        message: Some(format!(
                            "back-off {} restarting failed container={name} pod={pod_desc}",
                            go_duration(delay)
                        )),
                    },
                ) {
                    slot.last_state = Some(t);
                }
                self.ctx.logs.set_waiting_reason(
                    &self.uid,
                    &name,
                    &self.pod_dir.join(&name),
                    "CrashLoopBackOff",
                );
                self.next_wake = Some(self.next_wake.map_or(until, |w| w.min(until)));
                if !already {
                    self.container_event(
                        &name,
                        init,
                        EventType::Warning,
                        "BackOff",
                        format!("Back-off restarting failed container {name} in pod {pod_desc}"),
                    )
                    .await;
                }
                return;
            }
            slot.backoff.next(finished);
        }
        self.start_container(init, i).await;
    }
}
