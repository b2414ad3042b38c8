//! One cgroup per pod (kubelet's pod-level cgroups): `<parent>/pod<uid>` under the memory, cpu,
//! cpuacct and pids hierarchies of cgroup v1, or one directory under the unified cgroup v2
//! hierarchy. Limits come from the pod's containers; the OOM-kill counter tells an OOM kill
//! from any other SIGKILL; usage feeds the metrics.

use std::path::{Path, PathBuf};

const CGROUP_ROOT: &str = "/sys/fs/cgroup";
const V1_CONTROLLERS: [&str; 4] = ["memory", "cpu", "cpuacct", "pids"];
/// CFS period kubelet uses (100 ms).
const CFS_PERIOD_US: u64 = 100_000;
/// Smallest quota the kernel accepts (1 ms).
const MIN_CFS_QUOTA_US: u64 = 1_000;
/// cpu.shares for a pod that requests no CPU (kubelet's `MinShares`).
const MIN_SHARES: u64 = 2;
const MAX_SHARES: u64 = 262_144;

/// Which cgroup layout this machine has, and whether Berth can use it.
#[derive(Debug, Clone)]
pub enum CgroupMode {
    /// cgroup v1: the hierarchy directory of each controller Berth uses (deduplicated when
    /// controllers are co-mounted, as `cpu,cpuacct`).
    V1 { hierarchies: Vec<PathBuf> },
    /// cgroup v2 (unified): the mount point.
    V2 { root: PathBuf },
    /// Cgroups cannot be used; pods run without limits. The text says why.
    Unavailable(String),
}

/// Resource limits of one pod's cgroup (sums over its containers, as kubelet's pod cgroup).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PodResources {
    pub memory_limit_bytes: Option<u64>,
    pub cpu_limit_millis: Option<u64>,
    pub cpu_request_millis: u64,
}

/// The pod cgroups of this node agent.
#[derive(Debug, Clone)]
pub struct Cgroups {
    mode: CgroupMode,
    parent: String,
}

impl Cgroups {
    /// Detects the layout and makes sure `parent` can be created in it.
    pub fn detect(parent: &str) -> Cgroups {
        let root = Path::new(CGROUP_ROOT);
        let mode = if root.join("cgroup.controllers").exists() {
            detect_v2(root, parent)
        } else if root.join("memory").is_dir() {
            detect_v1(root, parent)
        } else {
            CgroupMode::Unavailable(format!("no cgroup hierarchy mounted at {CGROUP_ROOT}"))
        };
        Cgroups {
            mode,
            parent: parent.to_string(),
        }
    }

    pub fn available(&self) -> bool {
        !matches!(self.mode, CgroupMode::Unavailable(_))
    }

    /// A sentence for the node condition saying how pods are isolated.
    pub fn describe(&self) -> String {
        match &self.mode {
            CgroupMode::V1 { .. } => format!(
                "cgroup v1: each pod gets {}/pod<uid> under the memory, cpu, cpuacct and pids hierarchies",
                self.parent
            ),
            CgroupMode::V2 { .. } => {
                format!("cgroup v2: each pod gets {}/pod<uid>", self.parent)
            }
            CgroupMode::Unavailable(why) => format!(
                "cgroups are unusable ({why}): pods run without memory or CPU limits and OOM kills are not detected"
            ),
        }
    }

    fn dirs_for(&self, leaf: &str) -> Vec<PathBuf> {
        match &self.mode {
            CgroupMode::V1 { hierarchies } => hierarchies
                .iter()
                .map(|h| h.join(&self.parent).join(leaf))
                .collect(),
            CgroupMode::V2 { root } => vec![root.join(&self.parent).join(leaf)],
            CgroupMode::Unavailable(_) => Vec::new(),
        }
    }

    /// Creates the cgroup of a pod with its limits. `None` when cgroups are unavailable or the
    /// directory cannot be made (the pod then runs without one).
    pub fn create_pod(&self, uid: &str, resources: PodResources) -> Option<PodCgroup> {
        let dirs = self.dirs_for(&format!("pod{uid}"));
        if dirs.is_empty() {
            return None;
        }
        for dir in &dirs {
            if let Err(e) = std::fs::create_dir_all(dir) {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot create pod cgroup");
                return None;
            }
        }
        let cgroup = PodCgroup {
            dirs,
            v2: matches!(self.mode, CgroupMode::V2 { .. }),
        };
        cgroup.apply(resources);
        Some(cgroup)
    }

    /// Removes the (empty) parent directories at shutdown, after `remove_stale`.
    pub fn remove_parent(&self) {
        for dir in self.dirs_for("") {
            let _ = std::fs::remove_dir(dir);
        }
    }

    /// Kills every process left in Berth's cgroups (by a Berth that crashed) and removes them.
    pub fn remove_stale(&self) {
        for parent in self.dirs_for("") {
            let Ok(entries) = std::fs::read_dir(&parent) else {
                continue;
            };
            for entry in entries.flatten() {
                if entry.path().is_dir() {
                    let stale = PodCgroup {
                        dirs: vec![entry.path()],
                        v2: matches!(self.mode, CgroupMode::V2 { .. }),
                    };
                    tracing::info!(cgroup = %entry.path().display(), "removing stale pod cgroup");
                    stale.kill_all_and_remove_blocking();
                }
            }
        }
    }
}

fn detect_v1(root: &Path, parent: &str) -> CgroupMode {
    let mut hierarchies: Vec<PathBuf> = Vec::new();
    for controller in V1_CONTROLLERS {
        let dir = root.join(controller);
        if !dir.is_dir() {
            return CgroupMode::Unavailable(format!(
                "cgroup v1 controller {controller} is not mounted"
            ));
        }
        let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
        if !hierarchies.contains(&dir) {
            hierarchies.push(dir);
        }
    }
    for h in &hierarchies {
        if let Err(e) = std::fs::create_dir_all(h.join(parent)) {
            return CgroupMode::Unavailable(format!(
                "cannot create {}: {e}",
                h.join(parent).display()
            ));
        }
    }
    CgroupMode::V1 { hierarchies }
}

fn detect_v2(root: &Path, parent: &str) -> CgroupMode {
    let dir = root.join(parent);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return CgroupMode::Unavailable(format!("cannot create {}: {e}", dir.display()));
    }
    // Delegate the controllers to the parent's children (pods). Best effort: a controller
    // that cannot be enabled only means its limit is not enforced.
    for (at, what) in [
        (root, "+memory +cpu +pids"),
        (dir.as_path(), "+memory +cpu +pids"),
    ] {
        for controller in what.split(' ') {
            let _ = std::fs::write(at.join("cgroup.subtree_control"), controller);
        }
    }
    CgroupMode::V2 {
        root: root.to_path_buf(),
    }
}

/// The cgroup of one pod.
#[derive(Debug, Clone)]
pub struct PodCgroup {
    dirs: Vec<PathBuf>,
    v2: bool,
}

impl PodCgroup {
    fn find(&self, file: &str) -> Option<PathBuf> {
        self.dirs.iter().map(|d| d.join(file)).find(|p| p.exists())
    }

    fn write(&self, file: &str, value: &str) {
        match self.find(file) {
            Some(path) => {
                if let Err(e) = std::fs::write(&path, value) {
                    tracing::warn!(file = %path.display(), value, error = %e, "cannot set cgroup limit");
                }
            }
            None => tracing::debug!(file, "cgroup file absent"),
        }
    }

    fn apply(&self, r: PodResources) {
        let shares = cpu_shares(r.cpu_request_millis);
        if self.v2 {
            if let Some(bytes) = r.memory_limit_bytes {
                self.write("memory.max", &bytes.to_string());
            }
            let quota = r
                .cpu_limit_millis
                .map(|m| cfs_quota_us(m).to_string())
                .unwrap_or_else(|| "max".to_string());
            self.write("cpu.max", &format!("{quota} {CFS_PERIOD_US}"));
            self.write("cpu.weight", &shares_to_weight(shares).to_string());
        } else {
            if let Some(bytes) = r.memory_limit_bytes {
                self.write("memory.limit_in_bytes", &bytes.to_string());
            }
            if let Some(m) = r.cpu_limit_millis {
                self.write("cpu.cfs_period_us", &CFS_PERIOD_US.to_string());
                self.write("cpu.cfs_quota_us", &cfs_quota_us(m).to_string());
            }
            self.write("cpu.shares", &shares.to_string());
        }
    }

    /// The `cgroup.procs` files a new process writes itself into (one per hierarchy).
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|d| d.join("cgroup.procs")).collect()
    }

    /// Processes in the pod's cgroup.
    pub fn pids(&self) -> Vec<i32> {
        let mut pids: Vec<i32> = self
            .dirs
            .iter()
            .filter_map(|d| std::fs::read_to_string(d.join("cgroup.procs")).ok())
            .flat_map(|text| {
                text.lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect::<Vec<i32>>()
            })
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }

    /// How many times the kernel's OOM killer killed a process of this pod.
    pub fn oom_kills(&self) -> u64 {
        let (file, key) = if self.v2 {
            ("memory.events", "oom_kill")
        } else {
            ("memory.oom_control", "oom_kill")
        };
        self.find(file)
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|text| {
                text.lines().find_map(|l| {
                    let (k, v) = l.split_once(' ')?;
                    (k == key).then(|| v.trim().parse().ok()).flatten()
                })
            })
            .unwrap_or(0)
    }

    /// Total CPU time of the pod's processes, in nanoseconds.
    pub fn cpu_usage_ns(&self) -> Option<u64> {
        if self.v2 {
            let text = std::fs::read_to_string(self.find("cpu.stat")?).ok()?;
            let usec: u64 = text.lines().find_map(|l| {
                l.strip_prefix("usage_usec ")
                    .and_then(|v| v.trim().parse().ok())
            })?;
            Some(usec * 1000)
        } else {
            std::fs::read_to_string(self.find("cpuacct.usage")?)
                .ok()?
                .trim()
                .parse()
                .ok()
        }
    }

    /// Memory working set: usage minus inactive file pages (as cAdvisor computes it).
    pub fn memory_working_set_bytes(&self) -> Option<u64> {
        let (usage_file, inactive_key) = if self.v2 {
            ("memory.current", "inactive_file")
        } else {
            ("memory.usage_in_bytes", "total_inactive_file")
        };
        let usage: u64 = std::fs::read_to_string(self.find(usage_file)?)
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let inactive = self
            .find("memory.stat")
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|text| {
                text.lines().find_map(|l| {
                    let (k, v) = l.split_once(' ')?;
                    (k == inactive_key)
                        .then(|| v.trim().parse::<u64>().ok())
                        .flatten()
                })
            })
            .unwrap_or(0);
        Some(usage.saturating_sub(inactive))
    }

    /// SIGKILLs every process in the cgroup.
    pub fn kill_all(&self) {
        for pid in self.pids() {
            // SAFETY: kill(2) with a positive pid only sends a signal.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }

    /// Kills what is left, waits briefly for the processes to go, and removes the directories.
    pub fn kill_all_and_remove_blocking(&self) {
        for _ in 0..50 {
            self.kill_all();
            if self.pids().is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        for dir in &self.dirs {
            if let Err(e) = std::fs::remove_dir(dir)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot remove pod cgroup");
            }
        }
    }
}

/// cpu.shares for a CPU request (kubelet's `MilliCPUToShares`).
pub fn cpu_shares(milli: u64) -> u64 {
    if milli == 0 {
        return MIN_SHARES;
    }
    (milli * 1024 / 1000).clamp(MIN_SHARES, MAX_SHARES)
}

/// CFS quota for a CPU limit (kubelet's `MilliCPUToQuota`).
pub fn cfs_quota_us(milli: u64) -> u64 {
    (milli * CFS_PERIOD_US / 1000).max(MIN_CFS_QUOTA_US)
}

/// cgroup v2 cpu.weight for v1 shares (the OCI runtimes' conversion).
pub fn shares_to_weight(shares: u64) -> u64 {
    1 + ((shares.saturating_sub(2)) * 9999) / 262_142
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_conversions_match_kubelet() {
        assert_eq!(cpu_shares(0), 2);
        assert_eq!(cpu_shares(1), 2);
        assert_eq!(cpu_shares(100), 102);
        assert_eq!(cpu_shares(1000), 1024);
        assert_eq!(cfs_quota_us(250), 25_000);
        assert_eq!(cfs_quota_us(1), 1_000);
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(262_144), 10_000);
    }
}
