//! Usage shaped for the resource metrics API (`metrics.k8s.io`, what metrics-server builds from
//! kubelet's summary API): per-container CPU and memory working set of this node's pods, and
//! the node's own usage.
//!
//! Each pod has one cgroup holding all its containers' processes, so the agent measures pods,
//! not containers. A pod's usage is attributed to its running containers in equal shares (any
//! remainder to the first): totals per pod, which is what `kubectl top pod` and the HPA's
//! resource metrics sum, are exact; the split between containers of a multi-container pod is
//! an even estimate.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::agent::UsageSource;
use crate::machine::parse_meminfo_kib;
use crate::usage::{PodSample, cpu_rate_nanocores};

/// Usage of one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerMetrics {
    pub name: String,
    pub cpu_nanocores: u64,
    pub memory_working_set_bytes: u64,
}

/// Usage of one pod's running containers, measured over `window` ending at `timestamp`.
#[derive(Debug, Clone, PartialEq)]
pub struct PodMetrics {
    pub namespace: String,
    pub name: String,
    pub containers: Vec<ContainerMetrics>,
    pub timestamp: jiff::Timestamp,
    pub window: Duration,
}

/// Usage of the node, measured over `window` ending at `timestamp`.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeMetrics {
    pub name: String,
    pub cpu_nanocores: u64,
    /// Memory in use minus inactive file pages (kubelet's node working set).
    pub memory_working_set_bytes: u64,
    pub timestamp: jiff::Timestamp,
    pub window: Duration,
}

/// Busy and total CPU time of the machine, in clock ticks (the first line of `/proc/stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CpuTimes {
    busy: u64,
    total: u64,
    cpus: u64,
}

struct NodeCpu {
    last: Option<(Instant, jiff::Timestamp, CpuTimes)>,
    rate: Option<(u64, Duration)>,
}

/// The metrics of a running node agent; get one from `NodeAgent::resource_metrics`.
pub struct ResourceMetrics {
    source: UsageSource,
    node_name: String,
    node_cpu: Mutex<NodeCpu>,
}

/// Readings closer together than this say little: the previous rate is kept.
const MIN_WINDOW: Duration = Duration::from_millis(100);

impl ResourceMetrics {
    pub(crate) fn new(source: UsageSource, node_name: String) -> ResourceMetrics {
        // A first reading now, so the first request already has an interval to report.
        let last = read_cpu_times().map(|t| (Instant::now(), jiff::Timestamp::now(), t));
        ResourceMetrics {
            source,
            node_name,
            node_cpu: Mutex::new(NodeCpu { last, rate: None }),
        }
    }

    /// Usage of this node's pods that have running containers and a measured interval (as
    /// metrics-server, a pod with a single reading has no metrics yet).
    pub fn pods(&self) -> Vec<PodMetrics> {
        let mut pods: Vec<PodMetrics> = self
            .source
            .samples()
            .into_iter()
            .filter_map(pod_metrics)
            .collect();
        pods.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        pods
    }

    /// This node's usage (none until two CPU readings are far enough apart).
    pub fn nodes(&self) -> Vec<NodeMetrics> {
        let Some(times) = read_cpu_times() else {
            return Vec::new();
        };
        let now = Instant::now();
        let mut cpu = self.node_cpu.lock().unwrap_or_else(|p| p.into_inner());
        match cpu.last {
            Some((then, _, before)) if now.saturating_duration_since(then) >= MIN_WINDOW => {
                let window = now.saturating_duration_since(then);
                cpu.rate = Some((node_cpu_nanocores(before, times), window));
                cpu.last = Some((now, jiff::Timestamp::now(), times));
            }
            Some(_) => {}
            None => cpu.last = Some((now, jiff::Timestamp::now(), times)),
        }
        let (Some((cpu_nanocores, window)), Some((_, timestamp, _))) = (cpu.rate, cpu.last) else {
            return Vec::new();
        };
        let memory = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| memory_working_set_bytes(&m))
            .unwrap_or(0);
        vec![NodeMetrics {
            name: self.node_name.clone(),
            cpu_nanocores,
            memory_working_set_bytes: memory,
            timestamp,
            window,
        }]
    }
}

fn pod_metrics(sample: PodSample) -> Option<PodMetrics> {
    let window = sample.window?;
    let containers = split_evenly(
        &sample.containers,
        sample.cpu_nanocores,
        sample.usage.memory_working_set_bytes,
    );
    if containers.is_empty() {
        return None;
    }
    Some(PodMetrics {
        namespace: sample.usage.namespace,
        name: sample.usage.name,
        containers,
        timestamp: sample.timestamp,
        window,
    })
}

/// Equal shares of the pod's usage; the remainder of the division goes to the first container
/// so the shares add up to the pod's total.
fn split_evenly(names: &[String], cpu: u64, memory: u64) -> Vec<ContainerMetrics> {
    let n = names.len() as u64;
    if n == 0 {
        return Vec::new();
    }
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let first = i == 0;
            ContainerMetrics {
                name: name.clone(),
                cpu_nanocores: cpu / n + if first { cpu % n } else { 0 },
                memory_working_set_bytes: memory / n + if first { memory % n } else { 0 },
            }
        })
        .collect()
}

fn read_cpu_times() -> Option<CpuTimes> {
    parse_proc_stat(&std::fs::read_to_string("/proc/stat").ok()?)
}

/// The aggregate `cpu` line of `/proc/stat` (user nice system idle iowait irq softirq steal
/// ...; guest time is already part of user) and the number of CPUs.
fn parse_proc_stat(text: &str) -> Option<CpuTimes> {
    let mut lines = text.lines();
    let first = lines.next()?;
    let mut fields = first.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let v: Vec<u64> = fields.take(8).map(|f| f.parse().unwrap_or(0)).collect();
    if v.len() < 4 {
        return None;
    }
    let get = |i: usize| v.get(i).copied().unwrap_or(0);
    let idle = get(3) + get(4);
    let busy = get(0) + get(1) + get(2) + get(5) + get(6) + get(7);
    let cpus = text
        .lines()
        .filter(|l| {
            l.strip_prefix("cpu")
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        })
        .count() as u64;
    Some(CpuTimes {
        busy,
        total: busy + idle,
        cpus: cpus.max(1),
    })
}

/// The machine's CPU use between two readings, in nanocores: the busy share of all ticks
/// times the number of CPUs.
fn node_cpu_nanocores(before: CpuTimes, after: CpuTimes) -> u64 {
    let busy = after.busy.saturating_sub(before.busy);
    let total = after.total.saturating_sub(before.total);
    if total == 0 {
        return 0;
    }
    cpu_rate_nanocores(busy.saturating_mul(after.cpus), total)
}

/// Memory in use (`MemTotal - MemFree`) minus inactive file pages, as cadvisor computes the
/// root container's working set from `/proc/meminfo`.
fn memory_working_set_bytes(meminfo: &str) -> Option<u64> {
    let total = parse_meminfo_kib(meminfo, "MemTotal")?;
    let free = parse_meminfo_kib(meminfo, "MemFree")?;
    let inactive_file = parse_meminfo_kib(meminfo, "Inactive(file)").unwrap_or(0);
    Some(
        total
            .saturating_sub(free)
            .saturating_sub(inactive_file)
            .saturating_mul(1024),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_busy_and_total_ticks() {
        let text = "cpu  100 5 50 800 20 3 2 1 0 0\ncpu0 50 2 25 400 10 1 1 0 0 0\ncpu1 50 3 25 400 10 2 1 1 0 0\nintr 1 2\n";
        let t = parse_proc_stat(text).unwrap();
        assert_eq!(t.busy, 100 + 5 + 50 + 3 + 2 + 1);
        assert_eq!(t.total, t.busy + 800 + 20);
        assert_eq!(t.cpus, 2);
    }

    #[test]
    fn node_cpu_is_busy_share_times_cpus() {
        let before = CpuTimes {
            busy: 100,
            total: 1000,
            cpus: 4,
        };
        // 50 of 200 ticks busy on 4 CPUs: one CPU's worth.
        let after = CpuTimes {
            busy: 150,
            total: 1200,
            cpus: 4,
        };
        assert_eq!(node_cpu_nanocores(before, after), 1_000_000_000);
        assert_eq!(node_cpu_nanocores(after, after), 0);
    }

    #[test]
    fn node_memory_excludes_free_and_inactive_file() {
        let meminfo =
            "MemTotal: 1000 kB\nMemFree: 300 kB\nMemAvailable: 600 kB\nInactive(file): 200 kB\n";
        assert_eq!(memory_working_set_bytes(meminfo), Some(500 * 1024));
    }

    #[test]
    fn pod_usage_is_split_evenly_and_adds_up() {
        let names = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let split = split_evenly(&names, 1000, 10);
        let cpu: Vec<u64> = split.iter().map(|c| c.cpu_nanocores).collect();
        let mem: Vec<u64> = split.iter().map(|c| c.memory_working_set_bytes).collect();
        assert_eq!(cpu, vec![334, 333, 333]);
        assert_eq!(mem, vec![4, 3, 3]);
        assert!(split_evenly(&[], 5, 5).is_empty());
    }

    #[test]
    fn cpu_rate_in_nanocores() {
        // Half a second of CPU over one second: half a core.
        assert_eq!(cpu_rate_nanocores(500_000_000, 1_000_000_000), 500_000_000);
        assert_eq!(cpu_rate_nanocores(1, 0), 0);
    }
}
