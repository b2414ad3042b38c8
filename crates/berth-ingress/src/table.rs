//! The routing table: built from the informers' stores whenever one of them changes, read
//! lock-free by every request. Everything a request needs is resolved here (hosts lowercased,
//! prefixes sorted longest first, endpoint authorities parsed), so a lookup allocates nothing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http::uri::Authority;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressBackend};
use serde_json::{Value, json};

use crate::canary::{CanaryPolicy, is_canary};

/// `kubernetes.io/service-name`, the label tying an EndpointSlice to its Service.
const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";
/// The legacy class annotation, still honoured by ingress-nginx.
pub(crate) const ANNOTATION_INGRESS_CLASS: &str = "kubernetes.io/ingress.class";
const ANNOTATION_SSL_REDIRECT: &str = "nginx.ingress.kubernetes.io/ssl-redirect";

/// Whether an Ingress belongs to the router's class: the legacy annotation first (as
/// ingress-nginx checks it), then `spec.ingressClassName`; an Ingress with neither belongs to
/// the default class, which the router's class is.
pub(crate) fn serves(ingress: &Ingress, class_name: &str) -> bool {
    if let Some(class) = ingress
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ANNOTATION_INGRESS_CLASS))
    {
        return class == class_name;
    }
    match ingress
        .spec
        .as_ref()
        .and_then(|s| s.ingress_class_name.as_deref())
    {
        Some(class) => class == class_name,
        None => true,
    }
}

/// One pod endpoint of a backend.
pub(crate) struct Endpoint {
    pub addr: SocketAddr,
    pub authority: Authority,
}

/// A backend (Service + port) with its ready endpoints, balanced round-robin.
pub(crate) struct Upstream {
    pub name: String,
    pub endpoints: Vec<Endpoint>,
    /// Kept across rebuilds (by upstream name), so that frequent rebuilds do not keep sending
    /// the next request to the first endpoint.
    next: Arc<AtomicUsize>,
}

impl Upstream {
    /// The index to start at for this request; retries go on from there.
    pub(crate) fn next_start(&self) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "endpoints": self.endpoints.iter().map(|e| e.addr.to_string()).collect::<Vec<_>>(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum PathKind {
    Exact,
    /// `Prefix`, and `ImplementationSpecific` treated as `Prefix`.
    Prefix,
}

pub(crate) struct Canary {
    pub upstream: Arc<Upstream>,
    pub policy: CanaryPolicy,
    ingress: String,
}

/// Where a matched request goes.
pub(crate) struct Route {
    /// `namespace/name` of the Ingress this route comes from.
    pub ingress: String,
    path: String,
    kind: PathKind,
    pub main: Arc<Upstream>,
    pub canary: Option<Canary>,
    /// Plain HTTP requests are redirected to HTTPS (the host has TLS, the annotation allows).
    pub ssl_redirect: bool,
}

impl Route {
    /// The backend for this request: the canary when its policy says so and it has endpoints
    /// (ingress-nginx has no balancer for a backend without endpoints and stays on the main).
    pub(crate) fn upstream_for(&self, headers: &http::HeaderMap) -> &Arc<Upstream> {
        match &self.canary {
            Some(c) if !c.upstream.endpoints.is_empty() && c.policy.routes_to_canary(headers) => {
                &c.upstream
            }
            _ => &self.main,
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "path": self.path,
            "pathType": match self.kind { PathKind::Exact => "Exact", PathKind::Prefix => "Prefix" },
            "ingress": self.ingress,
            "backend": self.main.to_json(),
            "sslRedirect": self.ssl_redirect,
            "canary": self.canary.as_ref().map(|c| json!({
                "ingress": c.ingress,
                "backend": c.upstream.to_json(),
                "policy": c.policy.to_json(),
            })),
        })
    }
}

/// One virtual host (nginx `server`).
#[derive(Default)]
pub(crate) struct Server {
    exact: HashMap<String, Route>,
    /// Normalized prefixes (no trailing `/`; the root is ""), longest first.
    prefixes: Vec<(String, Route)>,
    /// The root location's backend when no path matches; `None`: the built-in 404.
    fallback: Option<Route>,
    tls: bool,
}

impl Server {
    fn route(&self, path: &str) -> Option<&Route> {
        if let Some(r) = self.exact.get(path) {
            // An exact match is as long as the path itself, so no prefix can beat it.
            return Some(r);
        }
        self.prefixes
            .iter()
            .find(|(p, _)| prefix_matches(p, path))
            .map(|(_, r)| r)
            .or(self.fallback.as_ref())
    }

    fn to_json(&self, host: &str) -> Value {
        let mut paths: Vec<Value> = self.exact.values().map(Route::to_json).collect();
        paths.extend(self.prefixes.iter().map(|(_, r)| r.to_json()));
        json!({
            "host": host,
            "tls": self.tls,
            "paths": paths,
            "defaultBackend": self.fallback.as_ref().map(Route::to_json),
        })
    }
}

/// Element-wise prefix match as the Ingress API defines it: `/foo` matches `/foo` and
/// `/foo/bar`, not `/foobar`. `prefix` is normalized (no trailing `/`).
fn prefix_matches(prefix: &str, path: &str) -> bool {
    path.starts_with(prefix)
        && (path.len() == prefix.len() || path.as_bytes().get(prefix.len()) == Some(&b'/'))
}

/// The whole routing state at one moment.
#[derive(Default)]
pub(crate) struct RouteTable {
    hosts: HashMap<String, Server>,
    /// Keyed by what follows `*.`.
    wildcard_hosts: HashMap<String, Server>,
    catch_all: Server,
    pub generation: u64,
    /// The round-robin counters of the upstreams, by name.
    counters: HashMap<String, Arc<AtomicUsize>>,
}

impl RouteTable {
    /// The route for a request; `host` is lowercase and without port.
    pub(crate) fn route(&self, host: &str, path: &str) -> Option<&Route> {
        self.server(host).route(path)
    }

    fn server(&self, host: &str) -> &Server {
        if let Some(s) = self.hosts.get(host) {
            return s;
        }
        if let Some((_, parent)) = host.split_once('.')
            && let Some(s) = self.wildcard_hosts.get(parent)
        {
            return s;
        }
        &self.catch_all
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut servers: Vec<Value> = Vec::new();
        let mut hosts: Vec<_> = self.hosts.iter().collect();
        hosts.sort_by(|a, b| a.0.cmp(b.0));
        servers.extend(hosts.into_iter().map(|(h, s)| s.to_json(h)));
        let mut wild: Vec<_> = self.wildcard_hosts.iter().collect();
        wild.sort_by(|a, b| a.0.cmp(b.0));
        servers.extend(wild.into_iter().map(|(h, s)| s.to_json(&format!("*.{h}"))));
        servers.push(self.catch_all.to_json("_"));
        json!({ "generation": self.generation, "servers": servers })
    }
}

/// A TLS Secret named for a host by a served Ingress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsHost {
    /// Lowercase; may be a wildcard (`*.example.com`).
    pub host: String,
    pub secret_namespace: String,
    pub secret_name: String,
}

/// What a rebuild produces.
pub(crate) struct Built {
    pub table: RouteTable,
    pub tls_hosts: Vec<TlsHost>,
}

struct RouteDraft {
    ingress: String,
    path: String,
    kind: PathKind,
    main: Arc<Upstream>,
    canary: Option<Canary>,
    ssl_redirect_allowed: bool,
}

#[derive(Default)]
struct ServerDraft {
    paths: Vec<((PathKind, String), RouteDraft)>,
    fallback: Option<RouteDraft>,
}

impl ServerDraft {
    fn find_path(&mut self, key: &(PathKind, String)) -> Option<&mut RouteDraft> {
        self.paths
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, r)| r)
    }
}

/// Builds the table from the served Ingresses and the Services and EndpointSlices they use.
/// Ingresses are taken oldest first (ingress-nginx's order): the first to claim a host+path
/// or a host's default backend wins.
pub(crate) fn build(
    ingresses: &[Arc<Ingress>],
    services: &[Arc<Service>],
    slices: &[Arc<EndpointSlice>],
    class_name: &str,
    previous: &RouteTable,
) -> Built {
    let mut served: Vec<&Ingress> = ingresses
        .iter()
        .map(|i| i.as_ref())
        .filter(|i| serves(i, class_name) && i.metadata.deletion_timestamp.is_none())
        .collect();
    served.sort_by(|a, b| {
        (
            &a.metadata.creation_timestamp,
            &a.metadata.namespace,
            &a.metadata.name,
        )
            .cmp(&(
                &b.metadata.creation_timestamp,
                &b.metadata.namespace,
                &b.metadata.name,
            ))
    });
    let mut resolver = Resolver::new(services, slices, &previous.counters);
    let mut servers: BTreeMap<String, ServerDraft> = BTreeMap::new();
    // The catch-all server always exists, so host-less rules never give it a default backend.
    servers.insert(String::new(), ServerDraft::default());
    let mut tls_hosts: Vec<TlsHost> = Vec::new();
    let empty = BTreeMap::new();

    let (canaries, mains): (Vec<&Ingress>, Vec<&Ingress>) = served
        .into_iter()
        .partition(|i| is_canary(i.metadata.annotations.as_ref().unwrap_or(&empty)));

    for ing in &mains {
        let key = ingress_key(ing);
        let ns = ing.metadata.namespace.as_deref().unwrap_or("default");
        let annotations = ing.metadata.annotations.as_ref().unwrap_or(&empty);
        let ssl_redirect_allowed =
            annotations.get(ANNOTATION_SSL_REDIRECT).map(String::as_str) != Some("false");
        let Some(spec) = &ing.spec else { continue };
        let default_backend = spec
            .default_backend
            .as_ref()
            .and_then(|b| resolver.upstream(ns, b, &key));
        let draft = |main: Arc<Upstream>, path: &str, kind: PathKind| RouteDraft {
            ingress: key.clone(),
            path: path.to_string(),
            kind,
            main,
            canary: None,
            ssl_redirect_allowed,
        };
        let rules = spec.rules.as_deref().unwrap_or_default();
        // A default backend and no rules: the catch-all server's (the first such Ingress's).
        if rules.is_empty()
            && let Some(up) = &default_backend
            && let Some(catch_all) = servers.get_mut("")
            && catch_all.fallback.is_none()
        {
            catch_all.fallback = Some(draft(up.clone(), "/", PathKind::Prefix));
        }
        for rule in rules {
            let host = rule.host.as_deref().unwrap_or("").to_ascii_lowercase();
            let server = servers.entry(host).or_insert_with(|| ServerDraft {
                paths: Vec::new(),
                // The servers an Ingress creates fall back on its default backend.
                fallback: default_backend
                    .as_ref()
                    .map(|up| draft(up.clone(), "/", PathKind::Prefix)),
            });
            for p in rule.http.iter().flat_map(|h| h.paths.iter()) {
                let path = p.path.as_deref().unwrap_or("/");
                let Some(path_key) = path_key(path, &p.path_type) else {
                    tracing::warn!(ingress = %key, path, path_type = %p.path_type, "unsupported path; ignored");
                    continue;
                };
                if server.find_path(&path_key).is_some() {
                    tracing::debug!(ingress = %key, path, "path already served by an older ingress");
                    continue;
                }
                let Some(up) = resolver.upstream(ns, &p.backend, &key) else {
                    continue;
                };
                let kind = path_key.0;
                server.paths.push((path_key, draft(up, path, kind)));
            }
        }
        for tls in spec.tls.iter().flatten() {
            let Some(secret) = tls.secret_name.as_deref().filter(|s| !s.is_empty()) else {
                continue;
            };
            for host in tls.hosts.iter().flatten() {
                let host = host.to_ascii_lowercase();
                if !tls_hosts.iter().any(|t| t.host == host) {
                    tls_hosts.push(TlsHost {
                        host,
                        secret_namespace: ns.to_string(),
                        secret_name: secret.to_string(),
                    });
                }
            }
        }
    }

    for ing in &canaries {
        attach_canary(ing, &mut servers, &mut resolver, &empty);
    }

    let tls_set: HashSet<&str> = tls_hosts.iter().map(|t| t.host.as_str()).collect();
    let mut table = RouteTable {
        generation: previous.generation + 1,
        counters: resolver
            .upstreams
            .into_values()
            .map(|u| (u.name.clone(), u.next.clone()))
            .collect(),
        ..RouteTable::default()
    };
    for (host, draft) in servers {
        let server = freeze(draft, tls_set.contains(host.as_str()));
        if host.is_empty() {
            table.catch_all = server;
        } else if let Some(parent) = host.strip_prefix("*.") {
            table.wildcard_hosts.insert(parent.to_string(), server);
        } else {
            table.hosts.insert(host, server);
        }
    }
    Built { table, tls_hosts }
}

/// Attaches a canary Ingress's backends to the main routes with the same host and path.
fn attach_canary(
    ing: &Ingress,
    servers: &mut BTreeMap<String, ServerDraft>,
    resolver: &mut Resolver<'_>,
    empty: &BTreeMap<String, String>,
) {
    let key = ingress_key(ing);
    let ns = ing.metadata.namespace.as_deref().unwrap_or("default");
    let policy =
        CanaryPolicy::from_annotations(&key, ing.metadata.annotations.as_ref().unwrap_or(empty));
    let Some(spec) = &ing.spec else { return };
    let attach = |route: &mut RouteDraft, up: Arc<Upstream>, what: &str| {
        if Arc::ptr_eq(&route.main, &up) {
            tracing::warn!(ingress = %key, what, "canary backend is the main backend; ignored");
        } else if route.canary.is_none() {
            route.canary = Some(Canary {
                upstream: up,
                policy: policy.clone(),
                ingress: key.clone(),
            });
        }
    };
    if let Some(b) = &spec.default_backend
        && let Some(up) = resolver.upstream(ns, b, &key)
    {
        match servers.get_mut("").and_then(|s| s.fallback.as_mut()) {
            Some(route) => attach(route, up, "default backend"),
            None => {
                tracing::info!(ingress = %key, "canary default backend has no main default backend; ignored")
            }
        }
    }
    for rule in spec.rules.iter().flatten() {
        let host = rule.host.as_deref().unwrap_or("").to_ascii_lowercase();
        let Some(server) = servers.get_mut(&host) else {
            tracing::info!(ingress = %key, host, "canary ingress has no main ingress for its host; ignored");
            continue;
        };
        for p in rule.http.iter().flat_map(|h| h.paths.iter()) {
            let path = p.path.as_deref().unwrap_or("/");
            let Some(path_key) = path_key(path, &p.path_type) else {
                continue;
            };
            let Some(route) = server.find_path(&path_key) else {
                tracing::info!(ingress = %key, host, path, "canary ingress has no main ingress for its path; ignored");
                continue;
            };
            if let Some(up) = resolver.upstream(ns, &p.backend, &key) {
                attach(route, up, path);
            }
        }
    }
}

fn freeze(draft: ServerDraft, tls: bool) -> Server {
    let route = |d: RouteDraft| Route {
        ingress: d.ingress,
        path: d.path,
        kind: d.kind,
        main: d.main,
        canary: d.canary,
        ssl_redirect: tls && d.ssl_redirect_allowed,
    };
    let mut server = Server {
        tls,
        fallback: draft.fallback.map(route),
        ..Server::default()
    };
    for ((kind, normalized), d) in draft.paths {
        match kind {
            PathKind::Exact => {
                server.exact.insert(normalized, route(d));
            }
            PathKind::Prefix => server.prefixes.push((normalized, route(d))),
        }
    }
    server
        .prefixes
        .sort_by_key(|p| std::cmp::Reverse(p.0.len()));
    server
}

/// The key a path is served under: its kind and, for prefixes, the path without trailing `/`
/// (`/foo/` and `/foo` are the same prefix; `/` is the empty one).
fn path_key(path: &str, path_type: &str) -> Option<(PathKind, String)> {
    if !path.starts_with('/') {
        return None;
    }
    match path_type {
        "Exact" => Some((PathKind::Exact, path.to_string())),
        "Prefix" | "ImplementationSpecific" => {
            Some((PathKind::Prefix, path.trim_end_matches('/').to_string()))
        }
        _ => None,
    }
}

fn ingress_key(ing: &Ingress) -> String {
    format!(
        "{}/{}",
        ing.metadata.namespace.as_deref().unwrap_or(""),
        ing.metadata.name.as_deref().unwrap_or("")
    )
}

/// Resolves Ingress backends to upstreams, one shared upstream per Service port (so its
/// round-robin spans all routes that use it).
struct Resolver<'a> {
    services: HashMap<(&'a str, &'a str), &'a Service>,
    slices: HashMap<(&'a str, &'a str), Vec<&'a EndpointSlice>>,
    upstreams: HashMap<(String, String, String), Arc<Upstream>>,
    counters: &'a HashMap<String, Arc<AtomicUsize>>,
}

impl<'a> Resolver<'a> {
    fn new(
        services: &'a [Arc<Service>],
        slices: &'a [Arc<EndpointSlice>],
        counters: &'a HashMap<String, Arc<AtomicUsize>>,
    ) -> Self {
        let services = services
            .iter()
            .filter_map(|s| {
                Some((
                    (
                        s.metadata.namespace.as_deref()?,
                        s.metadata.name.as_deref()?,
                    ),
                    s.as_ref(),
                ))
            })
            .collect();
        let mut by_service: HashMap<(&str, &str), Vec<&EndpointSlice>> = HashMap::new();
        for s in slices {
            if let (Some(ns), Some(svc)) = (
                s.metadata.namespace.as_deref(),
                s.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(LABEL_SERVICE_NAME)),
            ) {
                by_service.entry((ns, svc.as_str())).or_default().push(s);
            }
        }
        Resolver {
            services,
            slices: by_service,
            upstreams: HashMap::new(),
            counters,
        }
    }

    /// `None` when the backend is not a Service (resource backends are not supported).
    fn upstream(
        &mut self,
        ns: &str,
        backend: &IngressBackend,
        ingress: &str,
    ) -> Option<Arc<Upstream>> {
        let Some(svc) = &backend.service else {
            tracing::warn!(ingress, "resource backends are not supported; ignored");
            return None;
        };
        let port = svc.port.as_ref();
        let port_text = match (
            port.and_then(|p| p.number),
            port.and_then(|p| p.name.as_deref()),
        ) {
            (Some(n), _) => n.to_string(),
            (None, Some(name)) => name.to_string(),
            (None, None) => String::new(),
        };
        let cache_key = (ns.to_string(), svc.name.clone(), port_text);
        if let Some(up) = self.upstreams.get(&cache_key) {
            return Some(up.clone());
        }
        let endpoints = self.endpoints(ns, &svc.name, port, ingress);
        let name = format!("{}-{}-{}", cache_key.0, cache_key.1, cache_key.2);
        let next = self.counters.get(&name).cloned().unwrap_or_default();
        let up = Arc::new(Upstream {
            name,
            endpoints,
            next,
        });
        self.upstreams.insert(cache_key, up.clone());
        Some(up)
    }

    fn endpoints(
        &self,
        ns: &str,
        service: &str,
        port: Option<&k8s_openapi::api::networking::v1::ServiceBackendPort>,
        ingress: &str,
    ) -> Vec<Endpoint> {
        let Some(svc) = self.services.get(&(ns, service)) else {
            tracing::debug!(ingress, service, "backend service not found");
            return Vec::new();
        };
        let ports = svc
            .spec
            .as_ref()
            .and_then(|s| s.ports.as_deref())
            .unwrap_or_default();
        let svc_port = ports.iter().find(|p| match port {
            Some(bp) if bp.number.is_some() => Some(p.port) == bp.number,
            Some(bp) => bp.name.is_some() && p.name == bp.name,
            None => ports.len() == 1,
        });
        let Some(svc_port) = svc_port else {
            tracing::debug!(ingress, service, "backend service has no such port");
            return Vec::new();
        };
        let port_name = svc_port.name.as_deref().unwrap_or("");
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for slice in self.slices.get(&(ns, service)).into_iter().flatten() {
            if slice.address_type != "IPv4" && slice.address_type != "IPv6" {
                continue;
            }
            let Some(target) = slice.ports.iter().flatten().find_map(|p| {
                (p.name.as_deref().unwrap_or("") == port_name
                    && p.protocol.as_deref().unwrap_or("TCP") == "TCP")
                    .then_some(p.port?)
            }) else {
                continue;
            };
            let Ok(target) = u16::try_from(target) else {
                continue;
            };
            for ep in &slice.endpoints {
                // Unset means ready (EndpointConditions' documented meaning).
                if ep.conditions.as_ref().and_then(|c| c.ready) == Some(false) {
                    continue;
                }
                // Consumers use only the first address of an endpoint.
                let Some(ip) = ep.addresses.first().and_then(|a| a.parse::<IpAddr>().ok()) else {
                    continue;
                };
                let addr = SocketAddr::new(ip, target);
                if !seen.insert(addr) {
                    continue;
                }
                let Ok(authority) = Authority::try_from(addr.to_string()) else {
                    continue;
                };
                out.push(Endpoint { addr, authority });
            }
        }
        out.sort_by_key(|e| e.addr);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ingress(v: Value) -> Arc<Ingress> {
        Arc::new(serde_json::from_value(v).unwrap())
    }

    fn service(name: &str, ports: Value) -> Arc<Service> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "default"},
                "spec": {"ports": ports},
            }))
            .unwrap(),
        )
    }

    fn slice(svc: &str, port_name: &str, port: u16, eps: &[(&str, bool)]) -> Arc<EndpointSlice> {
        let endpoints: Vec<Value> = eps
            .iter()
            .map(|(ip, ready)| json!({"addresses": [ip], "conditions": {"ready": ready}}))
            .collect();
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": format!("{svc}-x"), "namespace": "default",
                             "labels": {LABEL_SERVICE_NAME: svc}},
                "addressType": "IPv4",
                "endpoints": endpoints,
                "ports": [{"name": port_name, "port": port, "protocol": "TCP"}],
            }))
            .unwrap(),
        )
    }

    fn path(p: &str, t: &str, svc: &str) -> Value {
        json!({"path": p, "pathType": t, "backend": {"service": {"name": svc, "port": {"number": 80}}}})
    }

    fn backend_of<'a>(t: &'a RouteTable, host: &str, p: &str) -> Option<&'a str> {
        t.route(host, p).map(|r| r.main.name.as_str())
    }

    fn fixture() -> (Vec<Arc<Service>>, Vec<Arc<EndpointSlice>>) {
        let names = ["a", "b", "c", "d", "e"];
        let services = names
            .iter()
            .map(|n| service(n, json!([{"name": "http", "port": 80}])))
            .collect();
        let slices = names
            .iter()
            .map(|n| slice(n, "http", 8080, &[("10.1.0.1", true)]))
            .collect();
        (services, slices)
    }

    #[test]
    fn paths_prefix_exact_longest_match() {
        let (svcs, slices) = fixture();
        let ing = ingress(json!({
            "metadata": {"name": "i", "namespace": "default"},
            "spec": {"rules": [{"host": "Foo.com", "http": {"paths": [
                path("/", "Prefix", "a"),
                path("/api/", "Prefix", "b"),
                path("/api/v1", "Exact", "c"),
                path("/api/v1", "Prefix", "d"),
            ]}}]},
        }));
        let t = build(&[ing], &svcs, &slices, "berth", &RouteTable::default()).table;
        assert_eq!(backend_of(&t, "foo.com", "/"), Some("default-a-80"));
        assert_eq!(backend_of(&t, "foo.com", "/apix"), Some("default-a-80"));
        assert_eq!(backend_of(&t, "foo.com", "/api"), Some("default-b-80"));
        assert_eq!(backend_of(&t, "foo.com", "/api/v2"), Some("default-b-80"));
        assert_eq!(backend_of(&t, "foo.com", "/api/v1"), Some("default-c-80"));
        assert_eq!(backend_of(&t, "foo.com", "/api/v1/"), Some("default-d-80"));
        assert_eq!(backend_of(&t, "foo.com", "/api/v1/x"), Some("default-d-80"));
        assert_eq!(backend_of(&t, "foo.com", "/api/v10"), Some("default-b-80"));
        // Another host: the catch-all server, which has nothing: the built-in 404.
        assert_eq!(backend_of(&t, "bar.com", "/"), None);
    }

    #[test]
    fn hosts_wildcards_catch_all_and_default_backends() {
        let (svcs, slices) = fixture();
        let ings = vec![
            ingress(json!({
                "metadata": {"name": "i1", "namespace": "default", "creationTimestamp": "2024-01-01T00:00:00Z"},
                "spec": {
                    "defaultBackend": {"service": {"name": "e", "port": {"number": 80}}},
                    "rules": [
                        {"host": "*.foo.com", "http": {"paths": [path("/w", "Prefix", "a")]}},
                        {"http": {"paths": [path("/any", "Prefix", "b")]}},
                    ]},
            })),
            ingress(json!({
                "metadata": {"name": "i2", "namespace": "default", "creationTimestamp": "2024-01-02T00:00:00Z"},
                "spec": {"rules": [{"host": "x.foo.com", "http": {"paths": [
                    path("/w", "Prefix", "c"),
                    path("/any", "Prefix", "d")]}}]},
            })),
            ingress(json!({
                "metadata": {"name": "other", "namespace": "default",
                             "annotations": {"kubernetes.io/ingress.class": "nginx"}},
                "spec": {"rules": [{"host": "y.foo.com", "http": {"paths": [path("/", "Prefix", "c")]}}]},
            })),
        ];
        let t = build(&ings, &svcs, &slices, "berth", &RouteTable::default()).table;
        assert_eq!(backend_of(&t, "a.foo.com", "/w/1"), Some("default-a-80"));
        // Wildcards span one label only: the catch-all serves the rest.
        assert_eq!(backend_of(&t, "a.b.foo.com", "/any"), Some("default-b-80"));
        assert_eq!(backend_of(&t, "foo.com", "/any"), Some("default-b-80"));
        assert_eq!(backend_of(&t, "x.foo.com", "/w"), Some("default-c-80"));
        assert_eq!(backend_of(&t, "x.foo.com", "/any"), Some("default-d-80"));
        // y.foo.com's Ingress is another class: the wildcard server of i1 answers.
        assert_eq!(backend_of(&t, "y.foo.com", "/w"), Some("default-a-80"));
        // Unmatched path on a server made by i1: i1's default backend.
        assert_eq!(backend_of(&t, "a.foo.com", "/nope"), Some("default-e-80"));
        // On x.foo.com (made by i2, which has none): the built-in 404.
        assert_eq!(backend_of(&t, "x.foo.com", "/nope"), None);
        // The catch-all server predates every Ingress: i1 had rules, so it is still the 404.
        assert_eq!(backend_of(&t, "zzz", "/nope"), None);
    }

    #[test]
    fn ready_endpoints_named_ports_and_canary_attachment() {
        let svcs = vec![
            service(
                "web",
                json!([{"name": "http", "port": 80}, {"name": "admin", "port": 81}]),
            ),
            service("web2", json!([{"name": "http", "port": 80}])),
        ];
        let slices = vec![
            slice(
                "web",
                "http",
                8080,
                &[("10.1.0.2", true), ("10.1.0.1", true), ("10.1.0.3", false)],
            ),
            slice("web", "admin", 9090, &[("10.1.0.1", true)]),
            slice("web2", "http", 8080, &[("10.1.0.9", true)]),
        ];
        let ings = vec![
            ingress(json!({
                "metadata": {"name": "main", "namespace": "default"},
                "spec": {"rules": [{"host": "h", "http": {"paths": [
                    {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"name": "http"}}}},
                    {"path": "/admin", "pathType": "Exact", "backend": {"service": {"name": "web", "port": {"number": 81}}}},
                ]}}]},
            })),
            ingress(json!({
                "metadata": {"name": "canary", "namespace": "default", "annotations": {
                    "nginx.ingress.kubernetes.io/canary": "true",
                    "nginx.ingress.kubernetes.io/canary-weight": "100"}},
                "spec": {"rules": [
                    {"host": "h", "http": {"paths": [path("/", "Prefix", "web2"), path("/nomain", "Prefix", "web2")]}},
                    {"host": "nohost", "http": {"paths": [path("/", "Prefix", "web2")]}},
                ]},
            })),
        ];
        let t = build(&ings, &svcs, &slices, "berth", &RouteTable::default()).table;
        let r = t.route("h", "/x").unwrap();
        let eps: Vec<String> = r
            .main
            .endpoints
            .iter()
            .map(|e| e.addr.to_string())
            .collect();
        assert_eq!(eps, ["10.1.0.1:8080", "10.1.0.2:8080"]);
        assert_eq!(
            r.canary.as_ref().unwrap().upstream.endpoints[0]
                .addr
                .to_string(),
            "10.1.0.9:8080"
        );
        assert_eq!(
            r.upstream_for(&http::HeaderMap::new()).name,
            "default-web2-80"
        );
        let admin = t.route("h", "/admin").unwrap();
        assert_eq!(admin.main.endpoints[0].addr.to_string(), "10.1.0.1:9090");
        assert!(admin.canary.is_none());
        // The canary creates neither hosts nor paths.
        assert!(t.route("nohost", "/").is_none());
        assert_eq!(
            t.route("h", "/nomain").unwrap().main.name,
            "default-web-http"
        );
    }

    #[test]
    fn prefix_matching_is_element_wise() {
        assert!(prefix_matches("", "/"));
        assert!(prefix_matches("", "/a"));
        assert!(prefix_matches("/foo", "/foo"));
        assert!(prefix_matches("/foo", "/foo/"));
        assert!(prefix_matches("/foo", "/foo/bar"));
        assert!(!prefix_matches("/foo", "/foobar"));
        assert!(!prefix_matches("/foo/bar", "/foo"));
    }
}
