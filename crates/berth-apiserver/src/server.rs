//! The API server: state, start-up (bootstrap objects, CRDs), TLS serving and shutdown.

use crate::auth::{self, Authenticator, UserInfo};
use crate::handler;
use crate::ipalloc::ServiceAllocator;
use crate::object;
use crate::pki::{self, Credentials};
use crate::registry::Registry;
use crate::rest::{DeleteOptions, UpdateScope, WriteOptions};
use axum::Router;
use berth_apimachinery::status::ApiError;
use berth_store::Store;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

/// Errors starting the API server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Pki(#[from] pki::PkiError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("bootstrap failed: {0}")]
    Bootstrap(ApiError),
    #[error("{0}")]
    Config(String),
}

/// How to run the API server.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// Service CIDR for ClusterIPs.
    pub service_cidr: String,
}

/// The API server's shared state. Handlers get it as `Arc<ApiServer>`.
pub struct ApiServer {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) registry: Registry,
    pub(crate) authn: Authenticator,
    pub(crate) ips: ServiceAllocator,
    pub(crate) crd_cleanup_tx: OnceLock<mpsc::UnboundedSender<Value>>,
    pub(crate) shutdown: watch::Receiver<bool>,
    shutdown_tx: watch::Sender<bool>,
    ready: AtomicBool,
    pub(crate) advertise: String,
    /// OpenAPI v3 documents, built on first use and cached per group-version.
    pub(crate) openapi: crate::openapi::OpenApi,
    /// A token for in-process components (controllers), never written to disk.
    internal_token: String,
    /// Where `pods/log` reads from; set once by whoever runs the node agents.
    pub(crate) pod_logs: OnceLock<Arc<dyn crate::podlogs::PodLogSource>>,
    /// Where `pods/exec` starts processes; set once by whoever runs the node agents.
    pub(crate) pod_exec: OnceLock<Arc<dyn crate::podexec::PodExecSource>>,
    /// Where `metrics.k8s.io` reads usage; the group is served only once this is set.
    pub(crate) resource_metrics: OnceLock<Arc<dyn crate::metrics::ResourceMetricsSource>>,
    /// Whether the ServiceAccount admission plugin runs (kube-apiserver's
    /// `--disable-admission-plugins=ServiceAccount` turns it off).
    pub(crate) service_account_admission: AtomicBool,
    /// Read-only debug views of in-process components under `/debug/berth/`.
    pub(crate) debug: crate::debug::DebugEndpoints,
}

impl ApiServer {
    /// Builds the server over a store with the given credentials.
    pub fn new(
        store: Arc<dyn Store>,
        credentials: &Credentials,
        advertise: String,
        service_cidr: &str,
    ) -> Result<Arc<Self>, ServerError> {
        let mut authn = Authenticator::new(&credentials.sa_signing_key);
        authn.add_static_token(credentials.admin_token.clone(), auth::admin_user());
        let internal_token = auth::random_token();
        authn.add_static_token(
            internal_token.clone(),
            UserInfo {
                username: "system:berth-controller-manager".into(),
                uid: String::new(),
                groups: vec!["system:masters".into(), "system:authenticated".into()],
                extra: Default::default(),
            },
        );
        let (shutdown_tx, shutdown) = watch::channel(false);
        Ok(Arc::new(Self {
            store,
            registry: Registry::new(),
            authn,
            ips: ServiceAllocator::new(service_cidr).map_err(ServerError::Config)?,
            crd_cleanup_tx: OnceLock::new(),
            shutdown,
            shutdown_tx,
            ready: AtomicBool::new(false),
            advertise,
            openapi: crate::openapi::OpenApi::new(),
            internal_token,
            pod_logs: OnceLock::new(),
            pod_exec: OnceLock::new(),
            resource_metrics: OnceLock::new(),
            service_account_admission: AtomicBool::new(true),
            debug: Default::default(),
        }))
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// The HTTP router (every path goes through `handler::handle`).
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .fallback(handler::handle)
            .with_state(self.clone())
    }

    /// A tower service that calls this server in-process as the controller-manager user: pass
    /// it to `kube::Client::new` to reach the API without a socket.
    pub fn in_process_service<B>(
        self: Arc<Self>,
    ) -> impl tower::Service<
        http::Request<B>,
        Response = axum::response::Response,
        Error = std::convert::Infallible,
        Future = impl Send,
    > + Clone
    + Send
    + 'static
    where
        B: axum::body::HttpBody<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<axum::BoxError>,
    {
        let value = http::HeaderValue::from_str(&format!("Bearer {}", self.internal_token))
            .unwrap_or_else(|_| http::HeaderValue::from_static(""));
        let router = self.router();
        tower::ServiceBuilder::new()
            .map_request(move |req: http::Request<B>| {
                let mut req = req.map(axum::body::Body::new);
                req.headers_mut()
                    .insert(http::header::AUTHORIZATION, value.clone());
                req
            })
            .service(router)
    }

    /// Plugs in the node agents' logs for `pods/log` (once; later calls are ignored).
    pub fn set_pod_log_source(&self, source: Arc<dyn crate::podlogs::PodLogSource>) {
        let _ = self.pod_logs.set(source);
    }

    /// Plugs in the node agents' processes for `pods/exec` (once; later calls are ignored).
    pub fn set_pod_exec_source(&self, source: Arc<dyn crate::podexec::PodExecSource>) {
        let _ = self.pod_exec.set(source);
    }

    /// Plugs in the node agents' usage for `metrics.k8s.io` (once; later calls are ignored).
    /// Turns the ServiceAccount admission plugin off, as
    /// `--disable-admission-plugins=ServiceAccount` does: for servers without the controllers
    /// that publish ServiceAccounts and `kube-root-ca.crt`, whose pods could not start with the
    /// token volume the plugin adds.
    pub fn disable_service_account_admission(&self) {
        self.service_account_admission
            .store(false, Ordering::Relaxed);
    }

    pub fn set_resource_metrics_source(
        &self,
        source: Arc<dyn crate::metrics::ResourceMetricsSource>,
    ) {
        let _ = self.resource_metrics.set(source);
    }

    /// Serves `source` under `/debug/berth/<component>/...` to authenticated users.
    pub fn add_debug_endpoint(&self, component: &str, source: Arc<dyn crate::debug::DebugSource>) {
        self.debug.add(component, source);
    }

    /// Asks watches to end and the listener to stop.
    pub fn begin_shutdown(&self) {
        let _ = self.shutdown_tx.send(true);
    }

    /// Waits (briefly) until the store reaches `rev`, as a list with a future resourceVersion
    /// does; then answers "Too large resource version".
    pub(crate) async fn wait_for_revision(&self, rev: i64) -> Result<(), ApiError> {
        for _ in 0..30 {
            if self.store.current_revision() >= rev {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(ApiError::timeout(format!(
            "Too large resource version: {rev}, current: {}",
            self.store.current_revision()
        ))
        .with_details(json!({"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}], "retryAfterSeconds": 1})))
    }

    /// Loads CRDs and allocations from the store and creates the objects every cluster has.
    pub async fn bootstrap(self: &Arc<Self>) -> Result<(), ServerError> {
        let (tx, mut rx) = mpsc::unbounded_channel::<Value>();
        let _ = self.crd_cleanup_tx.set(tx);
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            while let Some(crd) = rx.recv().await {
                let Some(s) = me.upgrade() else { break };
                if let Err(e) = s.cleanup_crd(&crd).await {
                    tracing::warn!(error = %e, "CRD cleanup failed");
                }
            }
        });

        let crds = self
            .list_all("apiextensions.k8s.io", "v1", "customresourcedefinitions")
            .await?;
        for crd in &crds {
            self.registry.install_crd(crd);
            if object::deletion_timestamp(crd).is_some() {
                self.spawn_crd_cleanup_public(crd.clone());
            }
        }
        for svc in self.list_all("", "v1", "services").await? {
            self.ips.restore(&svc);
        }
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            self.ensure(
                "",
                "v1",
                "namespaces",
                None,
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            )
            .await?;
        }
        let ip = self.ips.first_ip().to_string();
        let port: u16 = self
            .advertise
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(6443);
        self.ensure(
            "",
            "v1",
            "services",
            Some("default"),
            json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"component": "apiserver", "provider": "kubernetes"}},
                "spec": {"clusterIP": ip, "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}], "sessionAffinity": "None", "type": "ClusterIP"},
            }),
        )
        .await?;
        self.ready.store(true, Ordering::Release);
        Ok(())
    }

    fn spawn_crd_cleanup_public(&self, crd: Value) {
        if let Some(tx) = self.crd_cleanup_tx.get() {
            let _ = tx.send(crd);
        }
    }

    async fn list_all(
        &self,
        group: &str,
        version: &str,
        resource: &str,
    ) -> Result<Vec<Value>, ServerError> {
        let Some(served) = self.registry.get(group, version, resource) else {
            return Ok(Vec::new());
        };
        let resp = self
            .store
            .list(berth_store::ListRequest {
                prefix: served.list_prefix(None),
                ..Default::default()
            })
            .await
            .map_err(|e| ServerError::Bootstrap(crate::rest::map_store_error(&served, "", e)))?;
        resp.items
            .iter()
            .map(|kv| crate::rest::from_storage(&served, kv).map_err(ServerError::Bootstrap))
            .collect()
    }

    /// Creates an object unless it exists.
    async fn ensure(
        self: &Arc<Self>,
        group: &str,
        version: &str,
        resource: &str,
        ns: Option<&str>,
        obj: Value,
    ) -> Result<(), ServerError> {
        let served = self
            .registry
            .get(group, version, resource)
            .ok_or_else(|| ServerError::Config(format!("{resource} not served")))?;
        let name = object::name(&obj).unwrap_or_default().to_string();
        match self.get_object(&served, ns, &name).await {
            Ok(_) => return Ok(()),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(ServerError::Bootstrap(e)),
        }
        match self
            .create_object(&served, ns, obj, &WriteOptions::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.code == 409 => Ok(()),
            Err(e) => Err(ServerError::Bootstrap(e)),
        }
    }

    /// Deletes every object of a terminating CRD, then drops its cleanup finalizer.
    async fn cleanup_crd(self: &Arc<Self>, crd: &Value) -> Result<(), ApiError> {
        let name = object::name(crd).unwrap_or_default().to_string();
        let group = crd
            .pointer("/spec/group")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let plural = crd
            .pointer("/spec/names/plural")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let versions = self.registry.versions_of(group);
        if let Some(served) = versions
            .iter()
            .find_map(|v| self.registry.get(group, v, plural))
        {
            let items = self
                .store
                .list(berth_store::ListRequest {
                    prefix: served.list_prefix(None),
                    ..Default::default()
                })
                .await
                .map_err(|e| crate::rest::map_store_error(&served, "", e))?;
            for kv in items.items {
                let _ = self.store.delete(&kv.key, None).await;
            }
        }
        let crds = self
            .registry
            .get("apiextensions.k8s.io", "v1", "customresourcedefinitions")
            .ok_or_else(|| ApiError::internal("CRDs not served"))?;
        let result = self
            .update_object(
                &crds,
                None,
                &name,
                UpdateScope::Main,
                &WriteOptions::default(),
                |cur| {
                    let mut c = cur.clone();
                    let mut f = object::finalizers(&c);
                    f.retain(|x| x != CRD_CLEANUP_FINALIZER);
                    object::set_finalizers(&mut c, &f);
                    Ok(c)
                },
            )
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.code == 404 => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Deletes an object as a client would (used by in-process callers and tests).
    pub async fn delete(
        &self,
        group: &str,
        version: &str,
        resource: &str,
        ns: Option<&str>,
        name: &str,
    ) -> Result<(), ApiError> {
        let served = self
            .registry
            .get(group, version, resource)
            .ok_or_else(|| ApiError::internal("not served"))?;
        self.delete_object(&served, ns, name, &DeleteOptions::default())
            .await
            .map(|_| ())
    }
}

/// Resolves once shutdown has been requested (the guard of `wait_for` is not held across awaits).
pub(crate) async fn shutdown_requested(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await;
}

/// The finalizer that keeps a CRD until its objects are deleted.
pub const CRD_CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

/// Serves HTTPS (HTTP/2 and HTTP/1.1) on `listener` until shutdown.
pub async fn serve_tls(
    server: Arc<ApiServer>,
    listener: TcpListener,
    tls: rustls::ServerConfig,
) -> std::io::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let router = server.router();
    let mut shutdown = server.shutdown.clone();
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown_requested(&mut shutdown) => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let router = router.clone();
        let mut conn_shutdown = server.shutdown.clone();
        conns.spawn(async move {
            let tls =
                match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                    Ok(Ok(t)) => t,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => return,
                };
            let svc = hyper_util::service::TowerToHyperService::new(router);
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), svc);
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(%peer, error = %e, "connection ended with error");
                    }
                }
                _ = shutdown_requested(&mut conn_shutdown) => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(Duration::from_secs(5), conn.as_mut()).await;
                }
            }
        });
        while conns.try_join_next().is_some() {}
    }
    // Let open connections finish their graceful shutdown.
    let _ = tokio::time::timeout(Duration::from_secs(6), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    Ok(())
}
