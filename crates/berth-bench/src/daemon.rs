//! Child processes under test (berth, etcd), each owned by a guard that stops it on drop, so an
//! error or a panic anywhere in a benchmark never leaves a server running. Also /proc helpers.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A running server process, its temporary directory and its log (stdout and stderr).
pub struct Daemon {
    name: String,
    child: Option<Child>,
    pid: u32,
    pub log: PathBuf,
    tmp: Option<tempfile::TempDir>,
}

impl Daemon {
    /// A fresh temporary directory under `root` for a daemon called `name`.
    pub fn tempdir(root: &Path, name: &str) -> anyhow::Result<tempfile::TempDir> {
        tempfile::Builder::new()
            .prefix(&format!("berth-bench-{name}-"))
            .tempdir_in(root)
            .with_context(|| format!("cannot create a temporary directory in {}", root.display()))
    }

    /// Spawns `bin args` with its output going to `DIR/NAME.log`.
    pub fn spawn(
        name: &str,
        bin: &Path,
        args: &[String],
        tmp: tempfile::TempDir,
    ) -> anyhow::Result<Daemon> {
        let log = tmp.path().join(format!("{name}.log"));
        let out = std::fs::File::create(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let err = out
            .try_clone()
            .context("cannot duplicate the log file handle")?;
        let child = Command::new(bin)
            .args(args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        Ok(Daemon {
            name: name.to_string(),
            pid: child.id(),
            child: Some(child),
            log,
            tmp: Some(tmp),
        })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Fails (with the end of the log) if the process has exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(child) = self.child.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            bail!(
                "{} exited with {status}; end of its log:\n{}",
                self.name,
                self.log_tail(30)
            );
        }
        Ok(())
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = self.log_text();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Keeps the temporary directory (data and log) after the run.
    pub fn keep_dir(&mut self) -> Option<PathBuf> {
        self.tmp.take().map(|t| t.keep())
    }

    /// SIGTERM, then SIGKILL after `grace`. Returns how long it took to exit, or `None` if it had
    /// to be killed (or was not running).
    pub fn stop(&mut self, grace: Duration) -> Option<Duration> {
        let mut child = self.child.take()?;
        if let Ok(Some(_)) = child.try_wait() {
            return None;
        }
        let t0 = Instant::now();
        // `kill` from coreutils keeps this crate free of unsafe code and of a libc dependency.
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        while t0.elapsed() < grace {
            if let Ok(Some(_)) = child.try_wait() {
                return Some(t0.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!(
            "{} did not exit within {grace:?} of SIGTERM; killing it",
            self.name
        );
        let _ = child.kill();
        let _ = child.wait();
        None
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(10));
    }
}

/// Memory figures of a process from /proc/PID/status, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mem {
    /// Resident set size now (VmRSS).
    pub rss_kib: u64,
    /// Peak resident set size (VmHWM).
    pub hwm_kib: u64,
}

impl Mem {
    pub fn rss_mib(&self) -> f64 {
        self.rss_kib as f64 / 1024.0
    }
    pub fn hwm_mib(&self) -> f64 {
        self.hwm_kib as f64 / 1024.0
    }
}

pub fn mem_of(pid: u32) -> anyhow::Result<Mem> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    let field = |name: &str| -> anyhow::Result<u64> {
        let line = text
            .lines()
            .find(|l| l.starts_with(name))
            .with_context(|| format!("{path} has no {name}"))?;
        let kib = line
            .split_whitespace()
            .nth(1)
            .with_context(|| format!("{path}: malformed {name} line {line:?}"))?;
        kib.parse()
            .with_context(|| format!("{path}: malformed {name} line {line:?}"))
    };
    Ok(Mem {
        rss_kib: field("VmRSS:")?,
        hwm_kib: field("VmHWM:")?,
    })
}

/// CPU time (user + system) a process has used so far, in seconds, from /proc/PID/stat.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name start at field 3 (state); utime and stime are
    // fields 14 and 15, in clock ticks.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .filter(|t: &f64| *t > 0.0)
            .unwrap_or(100.0)
    })
}

/// Real user id of this process (0 = root), from /proc/self/status.
pub fn uid() -> Option<u32> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("cannot bind 127.0.0.1:0")?;
    Ok(l.local_addr().context("listener has no address")?.port())
}

/// `name` on $PATH, if there.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Machine facts for the report: cores, memory, kernel, CPU model.
pub fn machine() -> serde_json::Value {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let loadavg = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    serde_json::json!({
        "cores": cores,
        "loadavg_at_start": loadavg,
        "memory_gib": (mem_kib as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0,
        "cpu": cpu,
        "kernel": kernel,
    })
}

/// CPU use of the server under test and of this load generator over a phase, in cores (CPU
/// seconds per wall second), to tell a saturated server from a saturated machine.
pub struct CpuMeter {
    pid: u32,
    start: std::time::Instant,
    server0: Option<f64>,
    bench0: Option<f64>,
}

impl CpuMeter {
    pub fn start(pid: u32) -> CpuMeter {
        CpuMeter {
            pid,
            start: std::time::Instant::now(),
            server0: cpu_seconds(pid),
            bench0: cpu_seconds(std::process::id()),
        }
    }

    /// (server cores, bench cores) since `start`; NaN where /proc could not be read.
    pub fn cores(&self) -> (f64, f64) {
        let wall = self.start.elapsed().as_secs_f64().max(1e-9);
        let per = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => (b - a) / wall,
            _ => f64::NAN,
        };
        (
            per(self.server0, cpu_seconds(self.pid)),
            per(self.bench0, cpu_seconds(std::process::id())),
        )
    }
}
