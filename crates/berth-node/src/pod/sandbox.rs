//! The pod sandbox: directory, network, cgroup and volumes the containers share.

use std::time::{Duration, Instant};

use crate::events::EventType;
use k8s_openapi::api::core::v1::Container;

use super::{PodWorker, Sandbox};
use crate::cgroup::PodResources;
use crate::dns;
use crate::env::PodFacts;
use crate::network::PodNetwork;
use crate::quantity;
use crate::volumes;

impl PodWorker {
    /// Writes the pod's hosts file and, with cluster DNS, its resolv.conf.
    fn write_etc_files(&self, pod_ip: &str) {
        let dir = self.pod_dir.join(super::ETC_DIR);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot create pod etc directory");
            return;
        }
        let hosts = dns::hosts_file(&self.pod, pod_ip, &self.pod_hostname());
        let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let resolv = dns::resolv_conf(
            &self.pod,
            self.ctx.config.cluster_dns,
            &self.ctx.config.cluster_domain,
            &host_resolv,
        );
        let mut files = vec![("hosts", hosts)];
        files.extend(resolv.map(|r| ("resolv.conf", r)));
        for (name, content) in files {
            if let Err(e) = std::fs::write(dir.join(name), content) {
                tracing::warn!(file = name, error = %e, "cannot write pod etc file");
            }
        }
    }

    pub(super) fn pod_resources(&self) -> PodResources {
        let spec = self.pod.spec.clone().unwrap_or_default();
        let get = |c: &Container, which: &str, name: &str| -> Option<f64> {
            let r = c.resources.as_ref()?;
            let map = if which == "limits" {
                r.limits.as_ref()?
            } else {
                r.requests.as_ref()?
            };
            map.get(name).and_then(|q| quantity::parse(&q.0))
        };
        let all_have = |name: &str| {
            spec.containers
                .iter()
                .all(|c| get(c, "limits", name).is_some())
        };
        let sum = |which: &str, name: &str| -> f64 {
            spec.containers
                .iter()
                .filter_map(|c| get(c, which, name))
                .sum()
        };
        let memory_limit_bytes = all_have("memory").then(|| sum("limits", "memory").ceil() as u64);
        let cpu_limit_millis =
            all_have("cpu").then(|| (sum("limits", "cpu") * 1000.0).ceil() as u64);
        let cpu_request_millis = spec
            .containers
            .iter()
            .filter_map(|c| get(c, "requests", "cpu").or_else(|| get(c, "limits", "cpu")))
            .map(|v| (v * 1000.0).ceil() as u64)
            .sum();
        PodResources {
            memory_limit_bytes,
            cpu_limit_millis,
            cpu_request_millis,
        }
    }

    pub(super) async fn ensure_sandbox(&mut self) -> bool {
        if self.sandbox.is_some() {
            return true;
        }
        if let Err(e) = std::fs::create_dir_all(&self.pod_dir) {
            self.sandbox_error = Some(format!("cannot create pod directory: {e}"));
            return false;
        }
        let host_network = self
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.host_network)
            .unwrap_or(false);
        let created = if host_network {
            Ok(PodNetwork {
                ip: self.ctx.machine.host_ip,
                netns_path: None,
                netns_name: None,
                host_veth: None,
            })
        } else {
            self.ctx.network.create_pod(&self.uid).await
        };
        let network = match created {
            Ok(n) => n,
            Err(e) => {
                let msg = format!("Failed to create pod sandbox: {e}");
                self.event(EventType::Warning, "FailedCreatePodSandBox", msg.clone())
                    .await;
                self.sandbox_error = Some(msg);
                return false;
            }
        };
        let cgroup = self.ctx.cgroups.create_pod(&self.uid, self.pod_resources());
        self.oom_kills_seen = cgroup.as_ref().map(|c| c.oom_kills()).unwrap_or(0);
        self.ctx
            .track_pod(&self.uid, &self.namespace, &self.name, cgroup.clone());
        self.write_etc_files(&network.ip.to_string());
        self.sandbox = Some(Sandbox { network, cgroup });
        self.sandbox_error = None;
        self.start_time.get_or_insert_with(jiff::Timestamp::now);
        true
    }

    pub(super) async fn teardown_sandbox(&mut self) {
        if let Some(sb) = self.sandbox.take() {
            if let Some(cg) = sb.cgroup {
                let _ =
                    tokio::task::spawn_blocking(move || cg.kill_all_and_remove_blocking()).await;
            }
            self.ctx.network.remove_pod(&sb.network).await;
            self.ctx.untrack_pod(&self.uid);
        }
        volumes::teardown(&self.pod_dir);
    }

    pub(super) fn facts(&self) -> PodFacts {
        let pod_ip = self
            .sandbox
            .as_ref()
            .map(|s| s.network.ip.to_string())
            .unwrap_or_default();
        PodFacts {
            host_ip: self.ctx.machine.host_ip.to_string(),
            pod_ip,
            api_server_host: self.ctx.config.api_server_host.clone(),
            api_server_port: self.ctx.config.api_server_port,
            node_allocatable_cpu_millis: self.ctx.machine.cpus as u64 * 1000,
            node_allocatable_memory: self.ctx.machine.memory_bytes,
        }
    }

    /// Like `teardown_sandbox`, but the status keeps reporting the pod IP (as kubelet does for
    /// terminal pods).
    pub(super) async fn teardown_sandbox_keep_ip(&mut self) {
        if let Some(sb) = &self.sandbox {
            let net = sb.network.clone();
            let cg = sb.cgroup.clone();
            if let Some(cg) = cg {
                let _ =
                    tokio::task::spawn_blocking(move || cg.kill_all_and_remove_blocking()).await;
            }
            self.ctx.network.remove_pod(&net).await;
            self.ctx.untrack_pod(&self.uid);
            if let Some(sb) = &mut self.sandbox {
                sb.cgroup = None;
                sb.network.netns_name = None;
                sb.network.host_veth = None;
                sb.network.netns_path = None;
            }
        }
    }

    /// Sets up or refreshes the volumes. False while they have never been set up (containers
    /// then wait in ContainerCreating, as kubelet's do while mounts fail).
    pub(super) async fn sync_volumes(&mut self) -> bool {
        let due = self
            .volumes_synced
            .is_none_or(|t| t.elapsed() >= self.ctx.config.volume_resync_period);
        if !due {
            return true;
        }
        let facts = self.facts();
        match volumes::sync(&self.ctx, &self.pod_dir, &self.pod, &facts).await {
            Ok(()) => {
                self.volumes_synced = Some(Instant::now());
                self.sandbox_error = None;
                true
            }
            Err(e) => {
                tracing::warn!(pod = %self.name, error = %e, "cannot set up volumes");
                let first = self.volumes_synced.is_none();
                if first {
                    self.event(
                        EventType::Warning,
                        "FailedMount",
                        format!("MountVolume.SetUp failed: {e}"),
                    )
                    .await;
                    self.next_wake = Some(Instant::now() + Duration::from_secs(2));
                }
                !first
            }
        }
    }
}
