//! Pod networking: a network namespace per pod (`ip netns add <prefix><uid>`), a veth pair
//! whose pod end is `eth0` with an address from the pod CIDR, and a host bridge holding the
//! CIDR's first address as the pods' default gateway, so pod IPs are reachable from the host.
//! Without `ip`, root or namespaces, pods share the host network.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Mutex;

use tokio::process::Command;

/// How pods get their network.
#[derive(Debug)]
pub enum NetworkMode {
    Bridge {
        bridge: String,
        gateway: Ipv4Addr,
        prefix_len: u8,
        /// Addresses of the CIDR handed out to pods.
        allocated: Mutex<PodAddresses>,
    },
    /// Pods use the host's network; the text says why.
    Host(String),
}

/// Pod addresses of the CIDR (the gateway is `.1`), handed out round-robin after the last
/// one given, as the CNI `host-local` IPAM does: a just-freed address is not reused at once,
/// so nothing still caching its old owner's MAC (the host's neighbour table, other pods)
/// sends a new pod's traffic to a dead interface for seconds.
#[derive(Debug)]
pub struct PodAddresses {
    network: u32,
    size: u32,
    taken: BTreeSet<Ipv4Addr>,
    /// Offset of the last address handed out.
    last: u32,
}

impl PodAddresses {
    pub fn new(network: u32, size: u32) -> PodAddresses {
        PodAddresses {
            network,
            size,
            taken: BTreeSet::new(),
            last: 1,
        }
    }

    /// The next free address after the last one given, wrapping around.
    pub fn allocate(&mut self) -> Option<Ipv4Addr> {
        // Offsets 2 ..= size-2: not the network, the gateway or the broadcast address.
        let first = 2;
        let count = self.size.saturating_sub(3);
        (0..count)
            .map(|i| first + (self.last + 1 - first + i) % count.max(1))
            .map(|offset| (offset, Ipv4Addr::from(self.network + offset)))
            .find(|(_, a)| !self.taken.contains(a))
            .map(|(offset, a)| {
                self.taken.insert(a);
                self.last = offset;
                a
            })
    }

    pub fn release(&mut self, addr: Ipv4Addr) {
        self.taken.remove(&addr);
    }
}

/// The network of one pod.
#[derive(Debug, Clone)]
pub struct PodNetwork {
    pub ip: Ipv4Addr,
    /// `/var/run/netns/<name>` to `setns` into; `None` on the host network.
    pub netns_path: Option<PathBuf>,
    pub netns_name: Option<String>,
    pub host_veth: Option<String>,
}

/// Pod networking of this node agent.
#[derive(Debug)]
pub struct Network {
    pub mode: NetworkMode,
    netns_prefix: String,
    host_ip: Ipv4Addr,
}

async fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .await
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Parses `a.b.c.d/n`.
pub fn parse_cidr(cidr: &str) -> Option<(Ipv4Addr, u8)> {
    let (addr, len) = cidr.split_once('/')?;
    let addr: Ipv4Addr = addr.parse().ok()?;
    let len: u8 = len.parse().ok()?;
    (len <= 30).then_some((addr, len))
}

impl Network {
    /// Sets up the bridge and removes namespaces a previous (crashed) agent left behind; falls
    /// back to the host network when that is impossible.
    pub async fn setup(
        bridge: &str,
        pod_cidr: &str,
        netns_prefix: &str,
        host_ip: Ipv4Addr,
    ) -> Network {
        let mode = match Self::setup_bridge(bridge, pod_cidr, netns_prefix).await {
            Ok(mode) => mode,
            Err(why) => {
                tracing::warn!(%why, "pod network namespaces unavailable; pods use the host network");
                NetworkMode::Host(why)
            }
        };
        Network {
            mode,
            netns_prefix: netns_prefix.to_string(),
            host_ip,
        }
    }

    async fn setup_bridge(
        bridge: &str,
        pod_cidr: &str,
        netns_prefix: &str,
    ) -> Result<NetworkMode, String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err("the node agent does not run as root".to_string());
        }
        let (addr, prefix_len) =
            parse_cidr(pod_cidr).ok_or_else(|| format!("invalid pod CIDR {pod_cidr:?}"))?;
        let mask = u32::MAX << (32 - u32::from(prefix_len));
        let network = u32::from(addr) & mask;
        let size = 1u32 << (32 - u32::from(prefix_len));
        let gateway = Ipv4Addr::from(network + 1);
        remove_stale_netns(netns_prefix).await;
        if ip(&["link", "show", bridge]).await.is_err() {
            ip(&["link", "add", bridge, "type", "bridge"]).await?;
        }
        let gw = format!("{gateway}/{prefix_len}");
        // The address may already be there from an earlier run.
        let _ = ip(&["addr", "add", &gw, "dev", bridge]).await;
        ip(&["link", "set", bridge, "up"]).await?;
        Ok(NetworkMode::Bridge {
            bridge: bridge.to_string(),
            gateway,
            prefix_len,
            allocated: Mutex::new(PodAddresses::new(network, size)),
        })
    }

    /// A sentence for the node condition.
    pub fn describe(&self) -> String {
        match &self.mode {
            NetworkMode::Bridge {
                bridge,
                gateway,
                prefix_len,
                ..
            } => format!(
                "each pod gets a network namespace on bridge {bridge} ({gateway}/{prefix_len})"
            ),
            NetworkMode::Host(why) => format!(
                "pod network namespaces are unavailable ({why}): pods share the host network and their podIP is the host IP"
            ),
        }
    }

    pub fn is_host_mode(&self) -> bool {
        matches!(self.mode, NetworkMode::Host(_))
    }

    /// Creates the pod's namespace and interface. Falls back to the host network for this pod
    /// if a step fails (after undoing what was done).
    pub async fn create_pod(&self, uid: &str) -> Result<PodNetwork, String> {
        let NetworkMode::Bridge {
            bridge,
            gateway,
            prefix_len,
            allocated,
        } = &self.mode
        else {
            return Ok(PodNetwork {
                ip: self.host_ip,
                netns_path: None,
                netns_name: None,
                host_veth: None,
            });
        };
        let pod_ip = allocated
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .allocate()
            .ok_or_else(|| "pod CIDR exhausted".to_string())?;
        let short: String = uid.chars().filter(|c| *c != '-').take(12).collect();
        let netns = format!("{}{short}", self.netns_prefix);
        let host_veth = format!("bv{short}");
        let result = async {
            ip(&["netns", "add", &netns]).await?;
            ip(&[
                "link", "add", &host_veth, "type", "veth", "peer", "name", "eth0", "netns", &netns,
            ])
            .await?;
            ip(&["link", "set", &host_veth, "master", bridge]).await?;
            ip(&["link", "set", &host_veth, "up"]).await?;
            let addr = format!("{pod_ip}/{prefix_len}");
            ip(&["-n", &netns, "addr", "add", &addr, "dev", "eth0"]).await?;
            ip(&["-n", &netns, "link", "set", "eth0", "up"]).await?;
            ip(&["-n", &netns, "link", "set", "lo", "up"]).await?;
            ip(&[
                "-n",
                &netns,
                "route",
                "add",
                "default",
                "via",
                &gateway.to_string(),
            ])
            .await?;
            Ok::<(), String>(())
        }
        .await;
        let pod_net = PodNetwork {
            ip: pod_ip,
            netns_path: Some(PathBuf::from("/var/run/netns").join(&netns)),
            netns_name: Some(netns),
            host_veth: Some(host_veth),
        };
        match result {
            Ok(()) => Ok(pod_net),
            Err(e) => {
                self.remove_pod(&pod_net).await;
                Err(e)
            }
        }
    }

    /// Removes the bridge (at shutdown, after every pod is gone).
    pub async fn teardown(&self) {
        if let NetworkMode::Bridge { bridge, .. } = &self.mode
            && let Err(e) = ip(&["link", "del", bridge]).await
        {
            tracing::warn!(bridge, error = %e, "cannot remove pod bridge");
        }
    }

    /// Removes the pod's namespace and interface and frees its address.
    pub async fn remove_pod(&self, pod: &PodNetwork) {
        if let Some(veth) = &pod.host_veth {
            let _ = ip(&["link", "del", veth]).await;
        }
        if let Some(ns) = &pod.netns_name
            && let Err(e) = ip(&["netns", "del", ns]).await
        {
            tracing::warn!(netns = ns, error = %e, "cannot remove pod network namespace");
        }
        if let NetworkMode::Bridge {
            allocated, bridge, ..
        } = &self.mode
        {
            // The host forgets the old interface's MAC now rather than after its neighbour
            // entry goes stale (seconds in which a new owner of the address is unreachable).
            if pod.host_veth.is_some() {
                let _ = ip(&["neigh", "del", &pod.ip.to_string(), "dev", bridge]).await;
            }
            allocated
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .release(pod.ip);
        }
    }
}

/// Deletes `<prefix>*` namespaces (and so their veth pairs) left by a crashed agent.
async fn remove_stale_netns(prefix: &str) {
    let Ok(entries) = std::fs::read_dir("/var/run/netns") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with(prefix) {
            tracing::info!(netns = name, "removing stale pod network namespace");
            let _ = ip(&["netns", "del", &name]).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cidrs() {
        assert_eq!(
            parse_cidr("10.244.0.0/24"),
            Some((Ipv4Addr::new(10, 244, 0, 0), 24))
        );
        assert_eq!(parse_cidr("10.244.0.0"), None);
        assert_eq!(parse_cidr("10.244.0.0/31"), None);
    }

    #[test]
    fn addresses_go_round_robin_and_skip_the_taken() {
        // A /29: .0 network, .1 gateway, .7 broadcast; pods get .2 to .6.
        let mut a = PodAddresses::new(u32::from(Ipv4Addr::new(10, 0, 0, 0)), 8);
        let ip = |n| Ipv4Addr::new(10, 0, 0, n);
        assert_eq!(a.allocate(), Some(ip(2)));
        assert_eq!(a.allocate(), Some(ip(3)));
        a.release(ip(2));
        // A just-freed address waits for its turn.
        assert_eq!(a.allocate(), Some(ip(4)));
        assert_eq!(a.allocate(), Some(ip(5)));
        assert_eq!(a.allocate(), Some(ip(6)));
        assert_eq!(a.allocate(), Some(ip(2)), "wraps around");
        assert_eq!(a.allocate(), None, "all five taken");
        a.release(ip(5));
        assert_eq!(a.allocate(), Some(ip(5)));
    }
}
