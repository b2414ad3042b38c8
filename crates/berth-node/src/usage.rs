//! Pod CPU and memory usage from the pod cgroups (what the metrics API and the HPA read).

use std::time::{Duration, Instant};

use crate::cgroup::PodCgroup;

/// Usage of one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodUsage {
    pub namespace: String,
    pub name: String,
    /// Average CPU use since the previous sample, in millicores.
    pub cpu_millicores: u64,
    pub memory_working_set_bytes: u64,
}

/// One reading of a pod, with what the metrics API needs beyond [`PodUsage`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PodSample {
    pub usage: PodUsage,
    /// Average CPU use over `window`, in nanocores.
    pub cpu_nanocores: u64,
    /// The interval the CPU rate was measured over; `None` until there are two readings.
    pub window: Option<Duration>,
    /// When the CPU rate's interval ended.
    pub timestamp: jiff::Timestamp,
    /// The pod's running containers (regular ones and running init/sidecar containers).
    pub containers: Vec<String>,
}

/// Keeps the previous CPU reading of a pod to turn cumulative CPU time into a rate.
pub struct UsageTracker {
    namespace: String,
    name: String,
    cgroup: PodCgroup,
    last: Option<(Instant, jiff::Timestamp, u64)>,
    last_rate_nanocores: u64,
    last_window: Option<Duration>,
    containers: Vec<String>,
}

impl UsageTracker {
    pub fn new(namespace: &str, name: &str, cgroup: PodCgroup) -> UsageTracker {
        let last = cgroup
            .cpu_usage_ns()
            .map(|ns| (Instant::now(), jiff::Timestamp::now(), ns));
        UsageTracker {
            namespace: namespace.into(),
            name: name.into(),
            cgroup,
            last,
            last_rate_nanocores: 0,
            last_window: None,
            containers: Vec::new(),
        }
    }

    pub fn set_containers(&mut self, containers: Vec<String>) {
        self.containers = containers;
    }

    pub(crate) fn sample_full(&mut self, now: Instant) -> PodSample {
        let wall = jiff::Timestamp::now();
        if let Some(cpu) = self.cgroup.cpu_usage_ns() {
            if let Some((then, _, before)) = self.last {
                let elapsed = now.saturating_duration_since(then);
                // Very short windows say little: keep the previous rate.
                if elapsed >= Duration::from_millis(100) {
                    self.last_rate_nanocores =
                        cpu_rate_nanocores(cpu.saturating_sub(before), elapsed.as_nanos() as u64);
                    self.last_window = Some(elapsed);
                    self.last = Some((now, wall, cpu));
                }
            } else {
                self.last = Some((now, wall, cpu));
            }
        }
        PodSample {
            usage: PodUsage {
                namespace: self.namespace.clone(),
                name: self.name.clone(),
                cpu_millicores: self.last_rate_nanocores / 1_000_000,
                memory_working_set_bytes: self.cgroup.memory_working_set_bytes().unwrap_or(0),
            },
            cpu_nanocores: self.last_rate_nanocores,
            window: self.last_window,
            timestamp: self.last.map(|(_, t, _)| t).unwrap_or(wall),
            containers: self.containers.clone(),
        }
    }

    pub fn sample(&mut self, now: Instant) -> PodUsage {
        self.sample_full(now).usage
    }
}

/// CPU time used over an interval as a rate in nanocores (1e9 = one full CPU).
pub(crate) fn cpu_rate_nanocores(cpu_ns: u64, elapsed_ns: u64) -> u64 {
    if elapsed_ns == 0 {
        return 0;
    }
    (cpu_ns as u128 * 1_000_000_000 / elapsed_ns as u128).min(u64::MAX as u128) as u64
}
