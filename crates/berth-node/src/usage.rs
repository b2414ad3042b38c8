//! Pod CPU and memory usage from the pod cgroups (what the metrics API and the HPA read).

use std::time::Instant;

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

/// Keeps the previous CPU reading of a pod to turn cumulative CPU time into a rate.
pub struct UsageTracker {
    namespace: String,
    name: String,
    cgroup: PodCgroup,
    last: Option<(Instant, u64)>,
    last_rate: u64,
}

impl UsageTracker {
    pub fn new(namespace: &str, name: &str, cgroup: PodCgroup) -> UsageTracker {
        let last = cgroup.cpu_usage_ns().map(|ns| (Instant::now(), ns));
        UsageTracker {
            namespace: namespace.into(),
            name: name.into(),
            cgroup,
            last,
            last_rate: 0,
        }
    }

    pub fn sample(&mut self, now: Instant) -> PodUsage {
        if let Some(cpu) = self.cgroup.cpu_usage_ns() {
            if let Some((then, before)) = self.last {
                let elapsed = now.saturating_duration_since(then).as_nanos() as u64;
                // Very short windows say little: keep the previous rate.
                if elapsed >= 100_000_000 {
                    self.last_rate = cpu.saturating_sub(before).saturating_mul(1000) / elapsed;
                    self.last = Some((now, cpu));
                }
            } else {
                self.last = Some((now, cpu));
            }
        }
        PodUsage {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            cpu_millicores: self.last_rate,
            memory_working_set_bytes: self.cgroup.memory_working_set_bytes().unwrap_or(0),
        }
    }
}
