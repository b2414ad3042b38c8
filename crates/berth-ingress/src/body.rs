//! The response body the router sends: an upstream's body streamed through, or a short one of
//! its own; with the access log line written once the body is done (or dropped), so that the
//! byte count and duration are those of the whole response.

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};

pub(crate) struct ProxyBody {
    inner: Inner,
    log: Option<Box<AccessRecord>>,
}

enum Inner {
    Upstream(Incoming),
    Full(Option<Bytes>),
}

/// What an access log line says about a request.
pub(crate) struct AccessRecord {
    pub remote: SocketAddr,
    pub host: String,
    pub method: http::Method,
    pub path: String,
    pub status: u16,
    pub bytes: u64,
    pub upstream: Option<SocketAddr>,
    pub start: Instant,
}

impl ProxyBody {
    pub(crate) fn upstream(body: Incoming) -> Self {
        ProxyBody {
            inner: Inner::Upstream(body),
            log: None,
        }
    }

    pub(crate) fn full(bytes: impl Into<Bytes>) -> Self {
        ProxyBody {
            inner: Inner::Full(Some(bytes.into())),
            log: None,
        }
    }

    pub(crate) fn with_log(mut self, log: Option<Box<AccessRecord>>) -> Self {
        self.log = log;
        self
    }

    fn finish(&mut self) {
        if let Some(r) = self.log.take() {
            tracing::info!(
                target: "berth::access",
                remote = %r.remote,
                host = %r.host,
                method = %r.method,
                path = %r.path,
                status = r.status,
                bytes = r.bytes,
                upstream = %r.upstream.map(|a| a.to_string()).unwrap_or_else(|| "-".to_string()),
                duration_ms = r.start.elapsed().as_secs_f64() * 1000.0,
                "request"
            );
        }
    }
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let polled = match &mut this.inner {
            Inner::Upstream(body) => Pin::new(body).poll_frame(cx),
            Inner::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
        };
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(log), Some(data)) = (this.log.as_mut(), frame.data_ref()) {
                    log.bytes += data.len() as u64;
                }
            }
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => this.finish(),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Upstream(body) => body.is_end_stream(),
            Inner::Full(bytes) => bytes.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Upstream(body) => body.size_hint(),
            Inner::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Inner::Full(None) => SizeHint::with_exact(0),
        }
    }
}

impl Drop for ProxyBody {
    fn drop(&mut self) {
        self.finish();
    }
}
