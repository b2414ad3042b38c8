//! A listening socket of the proxy and the connections it forwards.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use berth_controllers::runtime::wait_for_shutdown;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::backend::PortBackend;

/// Pause after a failed accept (out of file descriptors), so the loop does not spin.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// Accepts on one address and forwards to one Service port's backend. [`Listener::close`] (or,
/// without waiting for it, dropping) closes the listening socket; connections already forwarded
/// run on (draining).
pub struct Listener {
    accept: JoinHandle<()>,
}

impl Listener {
    pub fn bind(
        addr: SocketAddr,
        backend: Arc<PortBackend>,
        connect_timeout: Duration,
        shutdown: watch::Receiver<bool>,
    ) -> io::Result<Listener> {
        let socket = match addr {
            SocketAddr::V4(_) => TcpSocket::new_v4()?,
            SocketAddr::V6(_) => TcpSocket::new_v6()?,
        };
        // A port just released by an earlier listener may have connections in TIME_WAIT.
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        let listener = socket.listen(1024)?;
        let accept = tokio::spawn(accept_loop(
            addr,
            listener,
            backend,
            connect_timeout,
            shutdown,
        ));
        Ok(Listener { accept })
    }

    /// Closes the listening socket and waits until it is closed, so its address can be bound
    /// again at once (an aborted task is dropped only when the runtime gets to it).
    pub async fn close(mut self) {
        self.accept.abort();
        let _ = (&mut self.accept).await;
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn accept_loop(
    addr: SocketAddr,
    listener: TcpListener,
    backend: Arc<PortBackend>,
    connect_timeout: Duration,
    shutdown: watch::Receiver<bool>,
) {
    loop {
        match listener.accept().await {
            Ok((conn, peer)) => {
                let backend = backend.clone();
                let shutdown = shutdown.clone();
                // Not tied to the listener: the connection outlives a listener closed because
                // its Service or endpoints changed.
                tokio::spawn(async move {
                    tokio::select! {
                        _ = forward(conn, peer, &backend, connect_timeout) => {}
                        _ = wait_for_shutdown(shutdown) => {}
                    }
                });
            }
            Err(e) => {
                tracing::warn!(%addr, error = %e, "accept failed");
                tokio::time::sleep(ACCEPT_RETRY).await;
            }
        }
    }
}

async fn forward(
    mut conn: TcpStream,
    peer: SocketAddr,
    backend: &PortBackend,
    connect_timeout: Duration,
) {
    let mut upstream = None;
    for endpoint in backend.candidates(peer.ip()) {
        match tokio::time::timeout(connect_timeout, TcpStream::connect(endpoint)).await {
            Ok(Ok(stream)) => {
                backend.connected(peer.ip(), endpoint);
                upstream = Some(stream);
                break;
            }
            Ok(Err(e)) => {
                tracing::debug!(%peer, %endpoint, error = %e, "endpoint refused; trying the next")
            }
            Err(_) => {
                tracing::debug!(%peer, %endpoint, "endpoint connect timed out; trying the next")
            }
        }
    }
    let Some(mut upstream) = upstream else {
        // kube-proxy REJECTs: answer with a reset rather than an orderly close.
        let _ = conn.set_zero_linger();
        return;
    };
    let _ = conn.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let _active = backend.track_connection();
    if let Err(e) = tokio::io::copy_bidirectional(&mut conn, &mut upstream).await {
        tracing::trace!(%peer, error = %e, "proxied connection ended with an error");
    }
}
