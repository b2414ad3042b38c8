//! The router's life: bind, watch the API, rebuild the routing table on every change, serve,
//! and drain on shutdown.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use berth_controllers::runtime::{Change, Informer, wait_for_shutdown};
use k8s_openapi::api::core::v1::{Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use kube::Client;
use kube::api::Api;
use kube::runtime::reflector::Store;
use kube::runtime::watcher;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio_rustls::TlsAcceptor;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;

use crate::proxy::{ConnInfo, Proxy};
use crate::tls::CertResolver;
use crate::{Error, IngressRouterConfig, status, table};

/// How long a client may take over its TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The addresses the router listens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoundAddrs {
    pub http: Option<SocketAddr>,
    pub https: Option<SocketAddr>,
}

struct Shared {
    proxy: Proxy,
    certs: OnceLock<Arc<CertResolver>>,
}

struct Listeners {
    http: Option<TcpListener>,
    https: Option<(TcpListener, TlsAcceptor)>,
    addrs: BoundAddrs,
}

/// The ingress router. Build with [`IngressRouter::new`], optionally [`IngressRouter::bind`]
/// to learn the bound addresses (and bind errors) early, then [`IngressRouter::run`].
pub struct IngressRouter {
    client: Client,
    config: IngressRouterConfig,
    shared: Arc<Shared>,
    listeners: Option<Listeners>,
}

/// A read-only view of a router's state, usable while it runs.
#[derive(Clone)]
pub struct RouterDebug {
    shared: Arc<Shared>,
}

impl RouterDebug {
    /// The routing table (servers, paths, backends with their endpoints, canaries) and the
    /// TLS certificates by host.
    pub fn snapshot(&self) -> Value {
        json!({
            "table": self.shared.proxy.table.load().to_json(),
            "certificates": self.shared.certs.get().map(|c| c.to_json()),
        })
    }
}

impl IngressRouter {
    pub fn new(client: Client, config: IngressRouterConfig) -> Self {
        let shared = Arc::new(Shared {
            proxy: Proxy::new(config.access_log),
            certs: OnceLock::new(),
        });
        IngressRouter {
            client,
            config,
            shared,
            listeners: None,
        }
    }

    pub fn debug(&self) -> RouterDebug {
        RouterDebug {
            shared: self.shared.clone(),
        }
    }

    /// See [`RouterDebug::snapshot`].
    pub fn snapshot(&self) -> Value {
        self.debug().snapshot()
    }

    /// Binds the configured listeners (once; later calls return the same addresses).
    pub async fn bind(&mut self) -> Result<BoundAddrs, Error> {
        if let Some(l) = &self.listeners {
            return Ok(l.addrs);
        }
        let http = match self.config.http_addr {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        let https = match self.config.https_addr {
            Some(addr) => {
                let certs = match self.shared.certs.get() {
                    Some(c) => c.clone(),
                    None => {
                        let c = Arc::new(CertResolver::new()?);
                        self.shared.certs.get_or_init(|| c).clone()
                    }
                };
                let config = crate::tls::server_config(certs)?;
                Some((bind(addr).await?, TlsAcceptor::from(Arc::new(config))))
            }
            None => None,
        };
        let local = |l: &TcpListener| l.local_addr().ok();
        let addrs = BoundAddrs {
            http: http.as_ref().and_then(local),
            https: https.as_ref().and_then(|(l, _)| local(l)),
        };
        if let Some(port) = addrs.https.map(|a| a.port()) {
            self.shared.proxy.set_https_port(port);
        }
        self.listeners = Some(Listeners { http, https, addrs });
        Ok(addrs)
    }

    /// Runs until `shutdown` turns true (or its sender is dropped), then stops accepting and
    /// lets in-flight requests finish for up to `shutdown_grace`.
    pub async fn run(mut self, shutdown: watch::Receiver<bool>) {
        if let Err(e) = self.bind().await {
            tracing::error!(error = %e, "ingress router cannot listen");
            return;
        }
        let Some(listeners) = self.listeners.take() else {
            return;
        };
        tracing::info!(http = ?listeners.addrs.http, https = ?listeners.addrs.https, class = %self.config.class_name, "starting ingress router");
        if let Err(e) = status::ensure_ingress_class(
            &self.client,
            &self.config.class_name,
            &self.config.controller_name,
        )
        .await
        {
            tracing::warn!(error = %e, class = %self.config.class_name, "could not ensure the IngressClass");
        }

        let changed = Arc::new(Notify::new());
        let ingresses = Informer::start(
            Api::<Ingress>::all(self.client.clone()),
            watcher::Config::default(),
            notifier(&changed),
        );
        let services = Informer::start(
            Api::<Service>::all(self.client.clone()),
            watcher::Config::default(),
            notifier(&changed),
        );
        let slices = Informer::start(
            Api::<EndpointSlice>::all(self.client.clone()),
            watcher::Config::default(),
            notifier(&changed),
        );
        let secrets = Informer::start(
            Api::<Secret>::all(self.client.clone()),
            watcher::Config::default().fields("type=kubernetes.io/tls"),
            notifier(&changed),
        );
        tokio::select! {
            _ = async {
                ingresses.ready().await;
                services.ready().await;
                slices.ready().await;
                secrets.ready().await;
            } => {}
            _ = wait_for_shutdown(shutdown.clone()) => return,
        }

        let publish = status::load_balancer_entry(&self.publish_address(listeners.addrs));
        let rebuild = || {
            let ingresses = ingresses.store.state();
            let built = table::build(
                &ingresses,
                &services.store.state(),
                &slices.store.state(),
                &self.config.class_name,
                &self.shared.proxy.table.load(),
            );
            if let Some(certs) = self.shared.certs.get() {
                certs.update(&built.tls_hosts, &secrets.store.state());
            }
            self.shared.proxy.table.store(Arc::new(built.table));
            ingresses
        };
        let current = rebuild();
        self.publish_status(&current, &publish).await;

        // Serve only once the table is complete, as ingress-nginx starts nginx after its first
        // sync: connections wait in the backlog meanwhile instead of getting 404s.
        let mut servers = Vec::new();
        if let Some(l) = listeners.http {
            servers.push(tokio::spawn(serve(
                l,
                None,
                self.shared.clone(),
                shutdown.clone(),
                self.config.shutdown_grace,
            )));
        }
        if let Some((l, acceptor)) = listeners.https {
            servers.push(tokio::spawn(serve(
                l,
                Some(acceptor),
                self.shared.clone(),
                shutdown.clone(),
                self.config.shutdown_grace,
            )));
        }

        loop {
            tokio::select! {
                _ = changed.notified() => {}
                _ = wait_for_shutdown(shutdown.clone()) => break,
            }
            let current = rebuild();
            self.publish_status(&current, &publish).await;
        }
        for s in servers {
            let _ = s.await;
        }
        tracing::info!("stopped ingress router");
    }

    async fn publish_status(
        &self,
        ingresses: &[Arc<Ingress>],
        entry: &k8s_openapi::api::networking::v1::IngressLoadBalancerIngress,
    ) {
        let served: Vec<&Ingress> = ingresses
            .iter()
            .map(|i| i.as_ref())
            .filter(|i| {
                table::serves(i, &self.config.class_name) && i.metadata.deletion_timestamp.is_none()
            })
            .collect();
        status::publish(&self.client, &served, entry).await;
    }

    fn publish_address(&self, addrs: BoundAddrs) -> String {
        if let Some(a) = &self.config.publish_address {
            return a.clone();
        }
        let ip = addrs
            .http
            .or(addrs.https)
            .map(|a| a.ip())
            .filter(|ip| !ip.is_unspecified())
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        ip.to_string()
    }
}

/// An informer callback that only says "something changed": every rebuild reads all stores.
fn notifier<K>(changed: &Arc<Notify>) -> impl Fn(Change<'_, K>, &Store<K>) + Send + 'static
where
    K: kube::Resource<DynamicType = ()> + 'static,
{
    let changed = changed.clone();
    move |_, _| changed.notify_one()
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, Error> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { addr, source })
}

/// Accepts connections on one listener until shutdown, then drains them.
async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new());
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, remote) = tokio::select! {
            r = listener.accept() => match r {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = wait_for_shutdown(shutdown.clone()) => break,
        };
        let _ = stream.set_nodelay(true);
        let Ok(local) = stream.local_addr() else {
            continue;
        };
        let conn = Arc::new(ConnInfo::new(remote, local, tls.is_some()));
        let watcher = graceful.watcher();
        let builder = builder.clone();
        let shared = shared.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_connection(&builder, stream, conn, shared, watcher).await,
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
                    match handshake {
                        Ok(Ok(stream)) => {
                            serve_connection(&builder, stream, conn, shared, watcher).await
                        }
                        Ok(Err(e)) => tracing::debug!(%remote, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "in-flight requests still running after {grace:?}; closing their connections"
        );
    }
}

async fn serve_connection<S>(
    builder: &auto::Builder<TokioExecutor>,
    stream: S,
    conn: Arc<ConnInfo>,
    shared: Arc<Shared>,
    watcher: hyper_util::server::graceful::Watcher,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| {
        let conn = conn.clone();
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(shared.proxy.handle(&conn, req).await) }
    });
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    if let Err(e) = watcher.watch(connection.into_owned()).await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
