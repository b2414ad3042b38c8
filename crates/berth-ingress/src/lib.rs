//! Berth's ingress router: what ingress-nginx does in a cluster, as an in-process HTTP(S)
//! reverse proxy that forwards straight to pod IPs (never through Service IPs).
//!
//! It serves `networking.k8s.io/v1` Ingresses of its IngressClass (by `spec.ingressClassName`,
//! the legacy `kubernetes.io/ingress.class` annotation, or no class at all, since its class is
//! the default one), with ingress-nginx's semantics:
//!
//! - Hosts: exact, then wildcard (`*.foo.com` matches exactly one label), then the catch-all
//!   server made of the rules without a host. A host's server is chosen first; its paths only.
//! - Paths: `Exact`, `Prefix` (element-wise by `/`, longest wins; `Exact` wins a tie) and
//!   `ImplementationSpecific`, which Berth treats as `Prefix` (ingress-nginx treats it as an
//!   nginx prefix location, which also matches `/foobar` for `/foo`; Berth does not).
//! - No path matches: the Ingress's `spec.defaultBackend` for the servers that Ingress created
//!   (and for the catch-all server when an Ingress has a default backend and no rules), else the
//!   built-in default backend's 404 "default backend - 404".
//! - Backends: Service port by number or name, mapped to the EndpointSlice port of the same
//!   name; round-robin over ready endpoints; no ready endpoint: 503.
//! - Canaries (`nginx.ingress.kubernetes.io/canary*` annotations): header > cookie > weight.
//! - Idempotent requests without a body are retried on the next endpoint after a connection
//!   failure (at most 3 tries), as `proxy_next_upstream error timeout` does.
//! - TLS: certificates from `kubernetes.io/tls` Secrets named in `spec.tls`, chosen by SNI,
//!   else a self-signed fallback certificate; plain HTTP to a TLS host is redirected (308)
//!   unless `nginx.ingress.kubernetes.io/ssl-redirect: "false"`.
//! - The router's address is published in `status.loadBalancer.ingress`.

mod body;
mod canary;
mod proxy;
mod router;
mod status;
mod table;
mod tls;

pub use router::{BoundAddrs, IngressRouter, RouterDebug};

use std::net::SocketAddr;
use std::time::Duration;

/// Settings of the ingress router (ingress-nginx's flags, the ones that matter here).
#[derive(Debug, Clone)]
pub struct IngressRouterConfig {
    /// Where plain HTTP is served; `None` for no HTTP listener.
    pub http_addr: Option<SocketAddr>,
    /// Where HTTPS is served; `None` for no HTTPS listener (then no SSL redirects either).
    pub https_addr: Option<SocketAddr>,
    /// The IngressClass this router serves (`--ingress-class`), made at start if missing.
    pub class_name: String,
    /// The IngressClass's `spec.controller` (`--controller-class`).
    pub controller_name: String,
    /// Log one line per request with target `berth::access`.
    pub access_log: bool,
    /// The address published in Ingress status (`--publish-status-address`); `None`: the HTTP
    /// (else HTTPS) listener's IP, or 127.0.0.1 when that is unspecified (0.0.0.0 or ::).
    pub publish_address: Option<String>,
    /// How long in-flight requests may run on after shutdown is requested.
    pub shutdown_grace: Duration,
}

impl Default for IngressRouterConfig {
    fn default() -> Self {
        IngressRouterConfig {
            http_addr: Some(SocketAddr::from(([127, 0, 0, 1], 8080))),
            https_addr: None,
            class_name: "berth".to_string(),
            controller_name: "berth.dev/ingress-router".to_string(),
            access_log: false,
            publish_address: None,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("binding {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("making the fallback TLS certificate: {0}")]
    FallbackCertificate(#[from] rcgen::Error),
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
}
