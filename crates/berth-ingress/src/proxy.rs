//! Forwarding one request: route lookup, canary choice, headers, retries on the next endpoint,
//! WebSocket (and other HTTP/1.1) upgrades, and ingress-nginx's own answers (404, 503, 502,
//! 308).

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::{PathAndQuery, Scheme};
use http::{Method, Request, Response, StatusCode, Uri, Version};
use http_body_util::{Either, Empty};
use hyper::body::{Body, Incoming};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

use crate::body::{AccessRecord, ProxyBody};
use crate::table::{RouteTable, Upstream};

pub(crate) type UpstreamBody = Either<Incoming, Empty<Bytes>>;
type UpstreamClient = Client<HttpConnector, UpstreamBody>;

/// ingress-nginx's `proxy_next_upstream_tries`.
const MAX_TRIES: usize = 3;
/// ingress-nginx's `proxy-connect-timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
static X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_SCHEME: HeaderName = HeaderName::from_static("x-scheme");
static X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");
static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
static KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
static PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");

/// What the request handlers share: the routing table and the upstream connection pool.
pub(crate) struct Proxy {
    pub table: ArcSwap<RouteTable>,
    client: UpstreamClient,
    access_log: bool,
    /// The HTTPS listener's port, for redirects; unset without HTTPS (no redirects then).
    https_port: OnceLock<u16>,
}

/// Facts about one downstream connection, computed once for all its requests.
pub(crate) struct ConnInfo {
    remote: SocketAddr,
    remote_ip: HeaderValue,
    local_port: HeaderValue,
    tls: bool,
}

impl ConnInfo {
    pub(crate) fn new(remote: SocketAddr, local: SocketAddr, tls: bool) -> ConnInfo {
        let ip = remote.ip().to_canonical();
        ConnInfo {
            remote: SocketAddr::new(ip, remote.port()),
            remote_ip: HeaderValue::try_from(ip.to_string())
                .unwrap_or(HeaderValue::from_static("")),
            local_port: HeaderValue::from(local.port()),
            tls,
        }
    }

    fn scheme(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }
}

enum Decision {
    NotFound,
    Redirect(HeaderValue),
    Unavailable,
    Forward(Arc<Upstream>),
}

impl Proxy {
    pub(crate) fn new(access_log: bool) -> Proxy {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            // ingress-nginx's upstream-keepalive-connections.
            .pool_max_idle_per_host(320)
            .build(connector);
        Proxy {
            table: ArcSwap::from_pointee(RouteTable::default()),
            client,
            access_log,
            https_port: OnceLock::new(),
        }
    }

    pub(crate) fn set_https_port(&self, port: u16) {
        let _ = self.https_port.set(port);
    }

    pub(crate) async fn handle(
        &self,
        conn: &ConnInfo,
        mut req: Request<Incoming>,
    ) -> Response<ProxyBody> {
        let start = Instant::now();
        let host_value = req.headers().get(header::HOST).cloned().or_else(|| {
            req.uri()
                .authority()
                .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        });
        let host = host_value
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .map(strip_port)
            .unwrap_or("");
        let host: Cow<'_, str> = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(host.to_ascii_lowercase())
        } else {
            Cow::Borrowed(host)
        };
        let method = req.method().clone();
        let record = |status: StatusCode, upstream: Option<SocketAddr>, path: &str| {
            self.access_log.then(|| {
                Box::new(AccessRecord {
                    remote: conn.remote,
                    host: host.to_string(),
                    method: method.clone(),
                    path: path.to_string(),
                    status: status.as_u16(),
                    bytes: 0,
                    upstream,
                    start,
                })
            })
        };

        let decision = {
            let table = self.table.load();
            match table.route(&host, req.uri().path()) {
                None => Decision::NotFound,
                Some(route)
                    if route.ssl_redirect && !conn.tls && self.https_port.get().is_some() =>
                {
                    Decision::Redirect(self.redirect_location(&host, req.uri()))
                }
                Some(route) => {
                    let up = route.upstream_for(req.headers());
                    if up.endpoints.is_empty() {
                        Decision::Unavailable
                    } else {
                        Decision::Forward(up.clone())
                    }
                }
            }
        };
        let upstream = match decision {
            Decision::NotFound => {
                let log = record(StatusCode::NOT_FOUND, None, path_of(req.uri()));
                return logged(plain(StatusCode::NOT_FOUND, "default backend - 404"), log);
            }
            Decision::Unavailable => {
                let log = record(StatusCode::SERVICE_UNAVAILABLE, None, path_of(req.uri()));
                return logged(nginx_error(StatusCode::SERVICE_UNAVAILABLE), log);
            }
            Decision::Redirect(location) => {
                let log = record(StatusCode::PERMANENT_REDIRECT, None, path_of(req.uri()));
                let mut resp = nginx_error(StatusCode::PERMANENT_REDIRECT);
                resp.headers_mut().insert(header::LOCATION, location);
                return logged(resp, log);
            }
            Decision::Forward(up) => up,
        };

        let upgrade = wants_upgrade(&req);
        let downstream_upgrade = upgrade.then(|| hyper::upgrade::on(&mut req));
        let (mut parts, body) = req.into_parts();
        self.forwarded_headers(conn, &mut parts.headers, host_value.as_ref(), upgrade);
        let retryable = is_idempotent(&parts.method) && body.is_end_stream() && !upgrade;
        let path_and_query = parts
            .uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        let n = upstream.endpoints.len();
        let tries = if retryable { n.min(MAX_TRIES) } else { 1 };
        let first = upstream.next_start();
        let mut body = Some(body);
        let mut outcome = None;
        for attempt in 0..tries {
            let endpoint = &upstream.endpoints[(first + attempt) % n];
            let uri = Uri::builder()
                .scheme(Scheme::HTTP)
                .authority(endpoint.authority.clone())
                .path_and_query(path_and_query.clone())
                .build();
            let Ok(uri) = uri else {
                outcome = Some((Err(StatusCode::BAD_GATEWAY), endpoint.addr));
                break;
            };
            let last = attempt + 1 == tries;
            let up_body = match body.take() {
                Some(b) if !retryable => Either::Left(b),
                _ => Either::Right(Empty::new()),
            };
            let mut up_req = Request::new(up_body);
            *up_req.method_mut() = parts.method.clone();
            *up_req.uri_mut() = uri;
            *up_req.version_mut() = Version::HTTP_11;
            *up_req.headers_mut() = if last {
                std::mem::take(&mut parts.headers)
            } else {
                parts.headers.clone()
            };
            match self.client.request(up_req).await {
                Ok(resp) => {
                    outcome = Some((Ok(resp), endpoint.addr));
                    break;
                }
                Err(e) if e.is_connect() && !last => {
                    tracing::debug!(upstream = %upstream.name, endpoint = %endpoint.addr, error = %e, "connection failed; trying the next endpoint");
                }
                Err(e) => {
                    tracing::debug!(upstream = %upstream.name, endpoint = %endpoint.addr, error = %e, "upstream request failed");
                    let status = if is_timeout(&e) {
                        StatusCode::GATEWAY_TIMEOUT
                    } else {
                        StatusCode::BAD_GATEWAY
                    };
                    outcome = Some((Err(status), endpoint.addr));
                    break;
                }
            }
        }
        let (result, addr) = match outcome {
            Some(o) => o,
            // Only reachable with zero tries, which an endpoint list that is not empty rules out.
            None => return nginx_error(StatusCode::BAD_GATEWAY),
        };
        match result {
            Err(status) => {
                let log = record(status, Some(addr), path_and_query.as_str());
                logged(nginx_error(status), log)
            }
            Ok(mut resp) => {
                let status = resp.status();
                if status == StatusCode::SWITCHING_PROTOCOLS
                    && let Some(downstream) = downstream_upgrade
                {
                    let upstream_upgrade = hyper::upgrade::on(&mut resp);
                    tokio::spawn(splice(downstream, upstream_upgrade));
                } else {
                    strip_hop_by_hop(resp.headers_mut(), false);
                }
                let log = record(status, Some(addr), path_and_query.as_str());
                resp.map(ProxyBody::upstream).map(|b| b.with_log(log))
            }
        }
    }

    /// Rewrites the request headers for the upstream as ingress-nginx's proxy_set_header lines
    /// do.
    fn forwarded_headers(
        &self,
        conn: &ConnInfo,
        headers: &mut HeaderMap,
        host: Option<&HeaderValue>,
        upgrade: bool,
    ) {
        strip_hop_by_hop(headers, upgrade);
        if let Some(host) = host {
            if !headers.contains_key(header::HOST) {
                // HTTP/2 carries the host in :authority; HTTP/1.1 upstreams need it as Host.
                headers.insert(header::HOST, host.clone());
            }
            headers.insert(X_FORWARDED_HOST.clone(), host.clone());
        }
        let xff = if headers.contains_key(&X_FORWARDED_FOR) {
            let mut joined = String::new();
            for v in headers.get_all(&X_FORWARDED_FOR) {
                if let Ok(v) = v.to_str() {
                    joined.push_str(v);
                    joined.push_str(", ");
                }
            }
            joined.push_str(conn.remote_ip.to_str().unwrap_or(""));
            HeaderValue::try_from(joined).unwrap_or_else(|_| conn.remote_ip.clone())
        } else {
            conn.remote_ip.clone()
        };
        headers.insert(X_FORWARDED_FOR.clone(), xff);
        headers.insert(X_REAL_IP.clone(), conn.remote_ip.clone());
        headers.insert(X_FORWARDED_PORT.clone(), conn.local_port.clone());
        let scheme = HeaderValue::from_static(conn.scheme());
        headers.insert(X_FORWARDED_PROTO.clone(), scheme.clone());
        headers.insert(X_SCHEME.clone(), scheme);
        if headers.get(&X_REQUEST_ID).is_none_or(|v| v.is_empty()) {
            headers.insert(X_REQUEST_ID.clone(), request_id());
        }
    }

    fn redirect_location(&self, host: &str, uri: &Uri) -> HeaderValue {
        let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let location = match self.https_port.get().copied() {
            Some(443) | None => format!("https://{host}{pq}"),
            Some(port) => format!("https://{host}:{port}{pq}"),
        };
        HeaderValue::try_from(location).unwrap_or(HeaderValue::from_static("/"))
    }
}

fn path_of(uri: &Uri) -> &str {
    uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
}

fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        // [v6]:port
        return rest.split_once(']').map(|(h, _)| h).unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

fn is_idempotent(m: &Method) -> bool {
    matches!(
        *m,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE
    )
}

fn is_timeout(e: &hyper_util::client::legacy::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            return true;
        }
        source = s.source();
    }
    false
}

fn wants_upgrade<B>(req: &Request<B>) -> bool {
    req.version() == Version::HTTP_11
        && req.headers().contains_key(header::UPGRADE)
        && req
            .headers()
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
}

/// Removes the headers that describe one hop, not the message (RFC 9110 7.6.1); for an upgrade
/// the `Connection: upgrade` and `Upgrade` pair is what must reach the upstream, so it stays.
fn strip_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    if !keep_upgrade && let Some(listed) = connection_listed(headers) {
        for name in listed {
            headers.remove(&name);
        }
    }
    if !keep_upgrade {
        headers.remove(header::CONNECTION);
        headers.remove(header::UPGRADE);
    }
    headers.remove(&KEEP_ALIVE);
    headers.remove(&PROXY_CONNECTION);
    headers.remove(header::TE);
    headers.remove(header::TRAILER);
    headers.remove(header::TRANSFER_ENCODING);
}

fn connection_listed(headers: &HeaderMap) -> Option<Vec<HeaderName>> {
    let mut out = Vec::new();
    for v in headers.get_all(header::CONNECTION) {
        for token in v.to_str().ok()?.split(',') {
            let token = token.trim();
            if !token.is_empty()
                && !token.eq_ignore_ascii_case("close")
                && !token.eq_ignore_ascii_case("keep-alive")
                && let Ok(name) = HeaderName::try_from(token)
            {
                out.push(name);
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Copies bytes both ways between an upgraded downstream and upstream connection.
async fn splice(downstream: hyper::upgrade::OnUpgrade, upstream: hyper::upgrade::OnUpgrade) {
    let (down, up) = match tokio::try_join!(downstream, upstream) {
        Ok(pair) => pair,
        Err(e) => {
            tracing::debug!(error = %e, "upgrade failed");
            return;
        }
    };
    let mut down = TokioIo::new(down);
    let mut up = TokioIo::new(up);
    if let Err(e) = tokio::io::copy_bidirectional(&mut down, &mut up).await {
        tracing::debug!(error = %e, "upgraded connection ended with an error");
    }
}

fn request_id() -> HeaderValue {
    // nginx's $request_id: 32 hex digits of randomness.
    let id = format!("{:032x}", rand::random::<u128>());
    HeaderValue::try_from(id).unwrap_or(HeaderValue::from_static("0"))
}

fn logged(resp: Response<ProxyBody>, log: Option<Box<AccessRecord>>) -> Response<ProxyBody> {
    if log.is_none() {
        return resp;
    }
    resp.map(|b| b.with_log(log))
}

fn plain(status: StatusCode, text: &'static str) -> Response<ProxyBody> {
    let mut resp = Response::new(ProxyBody::full(Bytes::from_static(text.as_bytes())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// nginx's own error page for `status`.
fn nginx_error(status: StatusCode) -> Response<ProxyBody> {
    let reason = match status {
        StatusCode::SERVICE_UNAVAILABLE => "503 Service Temporarily Unavailable",
        StatusCode::BAD_GATEWAY => "502 Bad Gateway",
        StatusCode::GATEWAY_TIMEOUT => "504 Gateway Time-out",
        StatusCode::PERMANENT_REDIRECT => "308 Permanent Redirect",
        _ => "500 Internal Server Error",
    };
    let page = format!(
        "<html>\r\n<head><title>{reason}</title></head>\r\n<body>\r\n<center><h1>{reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    let mut resp = Response::new(ProxyBody::full(page));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_stripped_from_hosts() {
        assert_eq!(strip_port("foo.com:8080"), "foo.com");
        assert_eq!(strip_port("foo.com"), "foo.com");
        assert_eq!(strip_port("[::1]:80"), "::1");
        assert_eq!(strip_port("[::1]"), "::1");
    }

    #[test]
    fn hop_by_hop_headers_go() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("close, x-secret"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("x-kept", HeaderValue::from_static("1"));
        h.insert(header::TE, HeaderValue::from_static("trailers"));
        strip_hop_by_hop(&mut h, false);
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(h.contains_key("x-kept"));
    }
}
