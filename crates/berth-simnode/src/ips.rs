//! Pod IPs per simulated node: .1 is the node's own address, pods get .2 to .254 of its /24.

use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;

#[derive(Default)]
pub struct IpPools {
    /// Node name to (subnet, used host parts).
    pools: HashMap<String, (Ipv4Addr, BTreeSet<u8>)>,
    /// Pod key to (node, host part).
    owners: HashMap<String, (String, u8)>,
}

impl IpPools {
    pub fn add_node(&mut self, node: &str, subnet: Ipv4Addr) {
        self.pools
            .entry(node.to_string())
            .or_insert((subnet, BTreeSet::new()));
    }

    pub fn contains_node(&self, node: &str) -> bool {
        self.pools.contains_key(node)
    }

    /// The pod's address, allocating one if it has none yet; None when the node's range is full.
    pub fn allocate(&mut self, pod: &str, node: &str) -> Option<Ipv4Addr> {
        let (subnet, used) = self.pools.get_mut(node)?;
        if let Some((n, host)) = self.owners.get(pod)
            && n == node
        {
            return Some(with_host(*subnet, *host));
        }
        let host = (2..=254u8).find(|h| !used.contains(h))?;
        used.insert(host);
        let ip = with_host(*subnet, host);
        self.owners
            .insert(pod.to_string(), (node.to_string(), host));
        Some(ip)
    }

    /// Records an address a pod already reports (after a restart), if it is in the node's range.
    pub fn adopt(&mut self, pod: &str, node: &str, ip: Ipv4Addr) {
        let Some((subnet, used)) = self.pools.get_mut(node) else {
            return;
        };
        let [a, b, c, host] = ip.octets();
        let [sa, sb, sc, _] = subnet.octets();
        if (a, b, c) == (sa, sb, sc) && host >= 2 && host != 255 {
            used.insert(host);
            self.owners
                .insert(pod.to_string(), (node.to_string(), host));
        }
    }

    pub fn release(&mut self, pod: &str) {
        if let Some((node, host)) = self.owners.remove(pod)
            && let Some((_, used)) = self.pools.get_mut(&node)
        {
            used.remove(&host);
        }
    }
}

fn with_host(subnet: Ipv4Addr, host: u8) -> Ipv4Addr {
    let [a, b, c, _] = subnet.octets();
    Ipv4Addr::new(a, b, c, host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_reuses_and_releases() {
        let mut p = IpPools::default();
        p.add_node("n", Ipv4Addr::new(10, 245, 3, 0));
        assert_eq!(p.allocate("a", "n"), Some(Ipv4Addr::new(10, 245, 3, 2)));
        assert_eq!(p.allocate("b", "n"), Some(Ipv4Addr::new(10, 245, 3, 3)));
        assert_eq!(p.allocate("a", "n"), Some(Ipv4Addr::new(10, 245, 3, 2)));
        p.release("a");
        assert_eq!(p.allocate("c", "n"), Some(Ipv4Addr::new(10, 245, 3, 2)));
        assert_eq!(p.allocate("d", "other"), None);
        p.adopt("e", "n", Ipv4Addr::new(10, 245, 3, 9));
        assert_eq!(p.allocate("e", "n"), Some(Ipv4Addr::new(10, 245, 3, 9)));
    }
}
