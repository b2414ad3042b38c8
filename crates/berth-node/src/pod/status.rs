//! The pod status as kubelet reports it, written through the status subresource on change.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, HostIP, Pod, PodCondition, PodIP, PodStatus,
};
use kube::api::{Api, Patch, PatchParams};

use super::{PodWorker, RunState, Slot, Termination, ts_time};
use crate::quantity;

impl PodWorker {
    pub(super) fn container_status(&self, slot: &Slot) -> ContainerStatus {
        let term = |t: &Termination| ContainerStateTerminated {
            exit_code: t.exit_code,
            signal: t.signal,
            reason: Some(t.reason.clone()),
            message: t.message.clone(),
            started_at: t.started_at.map(ts_time),
            finished_at: Some(ts_time(t.finished_at)),
            container_id: t.container_id.clone(),
        };
        let (state, id) = match &slot.state {
            RunState::Waiting { reason, message } => (
                ContainerState {
                    waiting: Some(ContainerStateWaiting {
                        reason: Some(reason.clone()),
                        message: message.clone(),
                    }),
                    ..Default::default()
                },
                slot.last_state
                    .as_ref()
                    .and_then(|t| t.container_id.clone()),
            ),
            RunState::Running(run) => (
                ContainerState {
                    running: Some(ContainerStateRunning {
                        started_at: Some(ts_time(run.started_at)),
                    }),
                    ..Default::default()
                },
                Some(format!("berth://{}", run.id)),
            ),
            RunState::Terminated(t) => (
                ContainerState {
                    terminated: Some(term(t)),
                    ..Default::default()
                },
                t.container_id.clone(),
            ),
        };
        let image = slot.spec.image.clone().unwrap_or_default();
        ContainerStatus {
            name: slot.spec.name.clone(),
            state: Some(state),
            last_state: Some(
                slot.last_state
                    .as_ref()
                    .map(|t| ContainerState {
                        terminated: Some(term(t)),
                        ..Default::default()
                    })
                    .unwrap_or_default(),
            ),
            ready: slot.ready,
            started: Some(slot.is_running() && slot.started),
            restart_count: slot.restart_count as i32,
            image_id: if slot.has_run() {
                image.clone()
            } else {
                String::new()
            },
            image,
            container_id: id,
            ..Default::default()
        }
    }

    pub(super) fn condition(
        &self,
        type_: &str,
        ok: bool,
        reason: Option<&str>,
        message: Option<String>,
    ) -> PodCondition {
        let previous = self
            .pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == type_));
        let status = if ok { "True" } else { "False" }.to_string();
        let last_transition_time = match previous {
            Some(p) if p.status == status => p.last_transition_time.clone(),
            _ => Some(ts_time(jiff::Timestamp::now())),
        };
        PodCondition {
            type_: type_.into(),
            status,
            reason: reason.map(str::to_string),
            message,
            last_transition_time,
            last_probe_time: None,
            observed_generation: None,
        }
    }

    pub(super) fn build_status(&self) -> PodStatus {
        let initialized = self
            .init
            .iter()
            .all(|s| s.succeeded || (s.is_sidecar() && s.started))
            || self.phase == "Succeeded"
            || self.phase == "Running";
        let incomplete: Vec<&str> = self
            .init
            .iter()
            .filter(|s| !(s.succeeded || (s.is_sidecar() && s.started)))
            .map(|s| s.spec.name.as_str())
            .collect();
        let unready: Vec<&str> = self
            .containers
            .iter()
            .chain(self.init.iter().filter(|s| s.is_sidecar()))
            .filter(|s| !s.ready)
            .map(|s| s.spec.name.as_str())
            .collect();
        let all_ready = unready.is_empty() && !self.terminal;
        let (ready_reason, ready_message) = if self.terminal && self.phase == "Succeeded" {
            (Some("PodCompleted"), None)
        } else if all_ready {
            (None, None)
        } else {
            (
                Some("ContainersNotReady"),
                Some(format!(
                    "containers with unready status: [{}]",
                    unready.join(" ")
                )),
            )
        };
        let mut conditions = vec![
            self.condition(
                "PodReadyToStartContainers",
                self.sandbox.is_some() && !self.terminal,
                None,
                None,
            ),
            if initialized || incomplete.is_empty() {
                self.condition(
                    "Initialized",
                    true,
                    (self.terminal && self.phase == "Succeeded" && !self.init.is_empty())
                        .then_some("PodCompleted"),
                    None,
                )
            } else {
                self.condition(
                    "Initialized",
                    false,
                    Some("ContainersNotInitialized"),
                    Some(format!(
                        "containers with incomplete status: [{}]",
                        incomplete.join(" ")
                    )),
                )
            },
            self.condition("Ready", all_ready, ready_reason, ready_message.clone()),
            self.condition("ContainersReady", all_ready, ready_reason, ready_message),
            self.condition("PodScheduled", true, None, None),
        ];
        // Keep conditions other components own (readiness gates, DisruptionTarget, ...).
        for c in self
            .pod
            .status
            .iter()
            .flat_map(|s| s.conditions.iter().flatten())
        {
            if !conditions.iter().any(|m| m.type_ == c.type_) {
                conditions.push(c.clone());
            }
        }
        let host_ip = self.ctx.machine.host_ip.to_string();
        let pod_ip = self.sandbox.as_ref().map(|s| s.network.ip.to_string());
        let old = self.pod.status.clone().unwrap_or_default();
        PodStatus {
            phase: Some(self.phase.clone()),
            conditions: Some(conditions),
            host_ip: Some(host_ip.clone()),
            host_ips: Some(vec![HostIP { ip: host_ip }]),
            pod_ip: pod_ip.clone().or(old.pod_ip.clone()),
            pod_ips: pod_ip.map(|ip| vec![PodIP { ip }]).or(old.pod_ips.clone()),
            start_time: self.start_time.map(ts_time).or(old.start_time.clone()),
            qos_class: Some(qos_class(&self.pod)),
            container_statuses: Some(
                self.containers
                    .iter()
                    .map(|s| self.container_status(s))
                    .collect(),
            ),
            init_container_statuses: (!self.init.is_empty())
                .then(|| self.init.iter().map(|s| self.container_status(s)).collect()),
            nominated_node_name: old.nominated_node_name.clone(),
            reason: self.failure.as_ref().map(|f| f.0.clone()),
            message: self.failure.as_ref().map(|f| f.1.clone()),
            ..Default::default()
        }
    }

    /// Writes the status when it differs from what was last written.
    pub(super) async fn write_status(&mut self) {
        let running: Vec<String> = self
            .containers
            .iter()
            .chain(self.init.iter())
            .filter(|s| s.is_running())
            .map(|s| s.spec.name.clone())
            .collect();
        self.ctx.set_running_containers(&self.uid, running);
        let status = self.build_status();
        let value = match serde_json::to_value(&status) {
            Ok(v) => v,
            Err(_) => return,
        };
        if self.last_written.as_ref() == Some(&value) {
            return;
        }
        let api: Api<Pod> = Api::namespaced(self.ctx.client.clone(), &self.namespace);
        // A merge patch replaces lists whole; top-level fields we do not set are cleared.
        let mut body = value.clone();
        if let Some(map) = body.as_object_mut() {
            for key in ["message", "reason"] {
                map.entry(key).or_insert(serde_json::Value::Null);
            }
        }
        match api
            .patch_status(
                &self.name,
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({ "status": body })),
            )
            .await
        {
            Ok(pod) => {
                self.last_written = Some(value);
                // Keep our own view of conditions in sync with what the server stored.
                if let Some(s) = pod.status {
                    self.pod.status = Some(s);
                }
            }
            Err(e) => tracing::warn!(pod = %self.name, error = %e, "cannot update pod status"),
        }
    }
}

/// The pod's QoS class (upstream `GetPodQOS`).
pub fn qos_class(pod: &Pod) -> String {
    let Some(spec) = &pod.spec else {
        return "BestEffort".into();
    };
    let mut requests: BTreeMap<String, f64> = BTreeMap::new();
    let mut limits: BTreeMap<String, f64> = BTreeMap::new();
    let mut guaranteed = true;
    for c in spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
    {
        let r = c.resources.clone().unwrap_or_default();
        for (name, q) in r.requests.iter().flatten() {
            if (name == "cpu" || name == "memory")
                && let Some(v) = quantity::parse(&q.0)
                && v > 0.0
            {
                *requests.entry(name.clone()).or_default() += v;
            }
        }
        let mut has = 0;
        for (name, q) in r.limits.iter().flatten() {
            if (name == "cpu" || name == "memory")
                && let Some(v) = quantity::parse(&q.0)
                && v > 0.0
            {
                has += 1;
                *limits.entry(name.clone()).or_default() += v;
            }
        }
        if has < 2 {
            guaranteed = false;
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return "BestEffort".into();
    }
    if guaranteed && requests.iter().all(|(k, v)| limits.get(k) == Some(v)) {
        return "Guaranteed".into();
    }
    "Burstable".into()
}
