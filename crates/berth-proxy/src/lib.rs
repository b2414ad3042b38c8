//! Berth's service proxy: the kube-proxy role for the embedded node, as a userspace proxy (there
//! is no iptables on Berth's machines, like kube-proxy's old userspace mode).
//!
//! Every Service's IPv4 cluster IP inside the service CIDR is held as a `/32` on `lo`, so host
//! processes and pods (whose packets route to the host) reach the host for it; for each TCP port
//! the proxy listens on `clusterIP:port` and, for NodePort and LoadBalancer Services, on
//! `nodePortAddress:nodePort`, and forwards each accepted connection to a ready endpoint of the
//! Service's EndpointSlices (round-robin, or ClientIP session affinity) with a bidirectional
//! copy. A port without usable endpoints has no listener, so clients get "connection refused",
//! as kube-proxy's REJECT rule gives them. Connections outlive endpoint and Service changes.
//!
//! Differences from kube-proxy on a multi-node cluster: UDP and SCTP ports are not proxied (a
//! warning per Service); `Local` traffic policies act as `Cluster` (every endpoint is on this
//! node); externalIPs and load-balancer IPs are not proxied.
//!
//! [`ServiceProxy::run`] runs it until a shutdown signal; [`ProxyStatus::snapshot`] is its debug
//! view; [`ensure_local_address`] lets a component that binds a Service IP itself (the cluster
//! DNS server) have the address before the proxy has seen the Service.

mod address;
mod backend;
mod error;
mod listener;
mod plan;
mod proxy;

pub use address::{ensure_local_address, local_addresses_in, remove_local_address};
pub use error::Error;
pub use ipnet::Ipv4Net;
pub use proxy::{ProxyStatus, ServiceProxy, ServiceProxyConfig};
