//! What to sync: clusters, Services, the output file and how to drive nginx.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::Error;

/// Where a cluster's API server is.
#[derive(Clone)]
pub enum ClusterSource {
    /// A client built by the caller (e.g. `berth up`'s in-process client).
    Client(kube::Client),
    /// A kubeconfig file and the context to use in it (`None`: its current context). The client
    /// is built when the cluster's sync starts; a kubeconfig that cannot be read fails that
    /// cluster only.
    Kubeconfig {
        path: PathBuf,
        context: Option<String>,
    },
}

impl fmt::Debug for ClusterSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterSource::Client(_) => f.write_str("Client(..)"),
            ClusterSource::Kubeconfig { path, context } => f
                .debug_struct("Kubeconfig")
                .field("path", path)
                .field("context", context)
                .finish(),
        }
    }
}

/// One cluster to read endpoints from. `name` shows in the generated file and in the status.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    pub name: String,
    pub source: ClusterSource,
}

impl ClusterConfig {
    pub fn from_client(name: impl Into<String>, client: kube::Client) -> Self {
        ClusterConfig {
            name: name.into(),
            source: ClusterSource::Client(client),
        }
    }

    pub fn from_kubeconfig(
        name: impl Into<String>,
        path: impl Into<PathBuf>,
        context: Option<String>,
    ) -> Self {
        ClusterConfig {
            name: name.into(),
            source: ClusterSource::Kubeconfig {
                path: path.into(),
                context,
            },
        }
    }
}

/// Which port of a Service: its name, or its `port` number (not the target port).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PortSelector {
    Name(String),
    Number(i32),
}

impl fmt::Display for PortSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortSelector::Name(n) => f.write_str(n),
            PortSelector::Number(n) => write!(f, "{n}"),
        }
    }
}

/// A selected Service, written `NAMESPACE/NAME[:PORT]`. Without a port, every TCP port of the
/// Service gets an upstream.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceSelector {
    pub namespace: String,
    pub name: String,
    pub port: Option<PortSelector>,
}

impl fmt::Display for ServiceSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)?;
        if let Some(port) = &self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

impl FromStr for ServiceSelector {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let invalid = |why: &str| Error::InvalidService {
            value: s.to_string(),
            reason: why.to_string(),
        };
        let (namespace, rest) = s
            .split_once('/')
            .ok_or_else(|| invalid("expected NAMESPACE/NAME[:PORT]"))?;
        let (name, port) = match rest.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (rest, None),
        };
        let port = match port {
            None => None,
            Some("") => return Err(invalid("empty port")),
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => {
                let n: i32 = p.parse().map_err(|_| invalid("port number out of range"))?;
                if !(1..=65535).contains(&n) {
                    return Err(invalid("port number out of range"));
                }
                Some(PortSelector::Number(n))
            }
            Some(p) => Some(PortSelector::Name(p.to_string())),
        };
        let valid_name = |n: &str| {
            !n.is_empty()
                && n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        };
        if !valid_name(namespace) || !valid_name(name) {
            return Err(invalid("namespace and name must be DNS names"));
        }
        Ok(ServiceSelector {
            namespace: namespace.to_string(),
            name: name.to_string(),
            port,
        })
    }
}

/// How to test and reload nginx.
#[derive(Debug, Clone)]
pub struct NginxConfig {
    /// The nginx binary (default `nginx`, found through `PATH`).
    pub binary: PathBuf,
    /// Arguments given to every nginx invocation, before `-t` or `-s reload` (e.g. `-c
    /// /etc/nginx/nginx.conf`, `-p PREFIX`).
    pub args: Vec<String>,
    /// A different reload command (program then arguments); default `<binary> <args> -s reload`.
    pub reload_command: Option<Vec<String>>,
}

impl Default for NginxConfig {
    fn default() -> Self {
        NginxConfig {
            binary: PathBuf::from("nginx"),
            args: Vec::new(),
            reload_command: None,
        }
    }
}

/// Everything [`crate::UpstreamSync`] needs.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    pub clusters: Vec<ClusterConfig>,
    pub services: Vec<ServiceSelector>,
    /// The generated file, meant to be `include`d inside nginx's `http` block.
    pub output: PathBuf,
    pub nginx: NginxConfig,
    /// How long to wait after a change for more changes before rendering (a rollout changes
    /// many endpoints in a burst; one reload covers them).
    pub debounce: Duration,
    /// At start, how long to wait for every cluster's first list before writing the file with
    /// what is known (so a restart does not briefly drop a slow cluster's servers).
    pub initial_sync_timeout: Duration,
}

impl SyncConfig {
    /// A config with the defaults: nginx from `PATH`, 500 ms debounce, 30 s initial sync wait.
    pub fn new(
        clusters: Vec<ClusterConfig>,
        services: Vec<ServiceSelector>,
        output: impl Into<PathBuf>,
    ) -> Self {
        SyncConfig {
            clusters,
            services,
            output: output.into(),
            nginx: NginxConfig::default(),
            debounce: Duration::from_millis(500),
            initial_sync_timeout: Duration::from_secs(30),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_service_selectors() {
        let s: ServiceSelector = "default/web".parse().unwrap();
        assert_eq!(
            (s.namespace.as_str(), s.name.as_str(), s.port),
            ("default", "web", None)
        );
        let s: ServiceSelector = "shop/api:http".parse().unwrap();
        assert_eq!(s.port, Some(PortSelector::Name("http".into())));
        let s: ServiceSelector = "shop/api:8080".parse().unwrap();
        assert_eq!(s.port, Some(PortSelector::Number(8080)));
        assert_eq!(s.to_string(), "shop/api:8080");
        for bad in [
            "web",
            "/web",
            "default/",
            "default/web:",
            "a/b:70000",
            "A/b",
            "a/b c",
        ] {
            assert!(bad.parse::<ServiceSelector>().is_err(), "{bad}");
        }
    }
}
