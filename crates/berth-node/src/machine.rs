//! Facts about this machine that the Node object reports (upstream kubelet's cadvisor
//! machine info and `nodestatus` setters).

use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::path::Path;

/// What the node reports about the machine it runs on.
#[derive(Debug, Clone, PartialEq)]
pub struct MachineInfo {
    pub cpus: usize,
    pub memory_bytes: u64,
    pub ephemeral_storage_bytes: u64,
    pub host_ip: Ipv4Addr,
    pub hostname: String,
    pub machine_id: String,
    pub system_uuid: String,
    pub boot_id: String,
    pub kernel_version: String,
    pub os_image: String,
}

/// Reads the machine's facts; `storage_dir` is where pod data lives (its filesystem's size is
/// the ephemeral-storage capacity).
pub fn read(storage_dir: &Path) -> MachineInfo {
    let machine_id = read_trimmed("/etc/machine-id").unwrap_or_default();
    MachineInfo {
        cpus: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        memory_bytes: mem_total_bytes().unwrap_or(0),
        ephemeral_storage_bytes: filesystem_bytes(storage_dir).unwrap_or(0),
        host_ip: host_ipv4(),
        hostname: hostname(),
        system_uuid: read_trimmed("/sys/class/dmi/id/product_uuid")
            .unwrap_or_else(|| machine_id.clone()),
        machine_id,
        boot_id: read_trimmed("/proc/sys/kernel/random/boot_id").unwrap_or_default(),
        kernel_version: read_trimmed("/proc/sys/kernel/osrelease").unwrap_or_default(),
        os_image: os_image(),
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The machine's host name (lower-cased, as kubelet's `--hostname-override` default).
pub fn hostname() -> String {
    read_trimmed("/proc/sys/kernel/hostname")
        .map(|h| h.to_lowercase())
        .unwrap_or_else(|| "localhost".to_string())
}

fn mem_total_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_meminfo_kib(&meminfo, "MemTotal").map(|kib| kib * 1024)
}

/// A `/proc/meminfo` field in KiB.
pub fn parse_meminfo_kib(meminfo: &str, field: &str) -> Option<u64> {
    meminfo.lines().find_map(|line| {
        let (name, rest) = line.split_once(':')?;
        if name.trim() != field {
            return None;
        }
        rest.split_whitespace().next()?.parse().ok()
    })
}

fn filesystem_bytes(dir: &Path) -> Option<u64> {
    let mut probe = dir;
    // The directory may not exist yet: measure the nearest existing ancestor.
    while !probe.exists() {
        probe = probe.parent()?;
    }
    let stat = nix_statvfs(probe)?;
    Some(stat)
}

fn nix_statvfs(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` is a writable statvfs.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    if rc != 0 {
        return None;
    }
    Some((st.f_blocks as u64).saturating_mul(st.f_frsize as u64))
}

/// The IPv4 address the host uses for outbound traffic (no packet is sent: connecting a UDP
/// socket only picks a route), or loopback when there is no route.
pub fn host_ipv4() -> Ipv4Addr {
    let probe = || -> Option<Ipv4Addr> {
        let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
        socket.connect("192.0.2.1:53").ok()?;
        match socket.local_addr().ok()?.ip() {
            IpAddr::V4(ip) if !ip.is_unspecified() => Some(ip),
            _ => None,
        }
    };
    probe().unwrap_or(Ipv4Addr::LOCALHOST)
}

fn os_image() -> String {
    std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_string())
            })
        })
        .unwrap_or_else(|| "Linux".to_string())
}

/// Kubernetes' name for this CPU architecture (`runtime.GOARCH`).
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_field_in_kib() {
        let text = "MemTotal:       24683656 kB\nMemFree:         1000 kB\n";
        assert_eq!(parse_meminfo_kib(text, "MemTotal"), Some(24683656));
        assert_eq!(parse_meminfo_kib(text, "MemFree"), Some(1000));
        assert_eq!(parse_meminfo_kib(text, "MemAvailable"), None);
    }

    #[test]
    fn reads_this_machine() {
        let info = read(Path::new("/tmp"));
        assert!(info.cpus >= 1);
        assert!(info.memory_bytes > 0);
        assert!(info.ephemeral_storage_bytes > 0);
    }
}
