//! The endpoints behind one Service port and the choice among them: round-robin, or with
//! `sessionAffinity: ClientIP` the endpoint a client used last while it is still there and the
//! affinity has not timed out (as kube-proxy's userspace load balancer did).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Past this many remembered clients, expired ones are swept on the next insert.
const AFFINITY_SWEEP_AT: usize = 1024;

#[derive(Default)]
pub struct PortBackend {
    state: Mutex<State>,
    pub active_connections: AtomicUsize,
    pub total_connections: AtomicU64,
}

#[derive(Default)]
struct State {
    endpoints: Vec<SocketAddr>,
    next: usize,
    affinity: Option<Duration>,
    sticky: HashMap<IpAddr, Sticky>,
}

struct Sticky {
    endpoint: SocketAddr,
    last_used: Instant,
}

impl PortBackend {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every critical section leaves the state consistent, so a panic elsewhere is harmless.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces the endpoints; affinities to endpoints that are gone are forgotten, and all of
    /// them when the affinity setting changed.
    pub fn update(&self, endpoints: Vec<SocketAddr>, affinity: Option<Duration>) {
        let mut s = self.lock();
        if s.affinity != affinity {
            s.sticky.clear();
            s.affinity = affinity;
        }
        s.sticky.retain(|_, st| endpoints.contains(&st.endpoint));
        if s.next >= endpoints.len() {
            s.next = 0;
        }
        s.endpoints = endpoints;
    }

    /// The endpoints to try for a new connection from `client`, best first: the sticky or
    /// round-robin choice, then the others in round-robin order (tried if it refuses).
    pub fn candidates(&self, client: IpAddr) -> Vec<SocketAddr> {
        let mut s = self.lock();
        let len = s.endpoints.len();
        if len == 0 {
            return Vec::new();
        }
        let sticky_index = match (s.affinity, s.sticky.get(&client)) {
            (Some(timeout), Some(st)) if st.last_used.elapsed() < timeout => {
                s.endpoints.iter().position(|e| *e == st.endpoint)
            }
            _ => None,
        };
        let start = match sticky_index {
            Some(i) => i,
            None => {
                let i = s.next % len;
                s.next = (i + 1) % len;
                i
            }
        };
        (0..len).map(|i| s.endpoints[(start + i) % len]).collect()
    }

    /// Records that `client` got connected to `endpoint` (for affinity).
    pub fn connected(&self, client: IpAddr, endpoint: SocketAddr) {
        let mut s = self.lock();
        let Some(timeout) = s.affinity else {
            return;
        };
        if s.sticky.len() >= AFFINITY_SWEEP_AT {
            s.sticky.retain(|_, st| st.last_used.elapsed() < timeout);
        }
        s.sticky.insert(
            client,
            Sticky {
                endpoint,
                last_used: Instant::now(),
            },
        );
    }

    /// Counts a forwarded connection until the returned guard is dropped.
    pub fn track_connection(&self) -> ActiveConnection<'_> {
        self.active_connections.fetch_add(1, Ordering::Relaxed);
        self.total_connections.fetch_add(1, Ordering::Relaxed);
        ActiveConnection(self)
    }
}

pub struct ActiveConnection<'a>(&'a PortBackend);

impl Drop for ActiveConnection<'_> {
    fn drop(&mut self) {
        self.0.active_connections.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn round_robin_then_the_rest() {
        let b = PortBackend::default();
        b.update(addrs(&["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"]), None);
        let client: IpAddr = "10.1.0.1".parse().unwrap();
        assert_eq!(
            b.candidates(client),
            addrs(&["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"])
        );
        assert_eq!(
            b.candidates(client),
            addrs(&["10.0.0.2:80", "10.0.0.3:80", "10.0.0.1:80"])
        );
        b.update(addrs(&["10.0.0.1:80"]), None);
        assert_eq!(b.candidates(client), addrs(&["10.0.0.1:80"]));
        b.update(Vec::new(), None);
        assert!(b.candidates(client).is_empty());
    }

    #[test]
    fn client_ip_affinity_sticks_until_the_endpoint_goes() {
        let b = PortBackend::default();
        let all = addrs(&["10.0.0.1:80", "10.0.0.2:80"]);
        b.update(all.clone(), Some(Duration::from_secs(100)));
        let c1: IpAddr = "10.1.0.1".parse().unwrap();
        let c2: IpAddr = "10.1.0.2".parse().unwrap();
        let first = b.candidates(c1)[0];
        b.connected(c1, first);
        for _ in 0..5 {
            assert_eq!(b.candidates(c1)[0], first);
            assert_ne!(b.candidates(c2)[0], SocketAddr::from(([0, 0, 0, 0], 0)));
        }
        let other = *all.iter().find(|a| **a != first).unwrap();
        b.update(vec![other], Some(Duration::from_secs(100)));
        assert_eq!(b.candidates(c1), vec![other]);
    }
}
