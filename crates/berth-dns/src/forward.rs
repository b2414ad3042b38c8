//! Forwarding of names outside the cluster domain to the upstream servers (CoreDNS' `forward`
//! plugin, simplified): UDP first, the same upstream over TCP when the answer is truncated, the
//! next upstream when one does not answer in time.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// How long one upstream gets to answer over UDP.
const UDP_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one upstream gets to answer over TCP (connect included).
const TCP_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest UDP answer accepted from an upstream.
const UDP_BUFFER: usize = 65535;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ForwardError {
    #[error("no upstream configured")]
    NoUpstream,
    #[error("encoding the query: {0}")]
    Encode(String),
    #[error("no upstream answered (last: {0})")]
    Unanswered(String),
}

/// Sends `query` (the client's message) to the upstreams and returns the first valid answer,
/// whose id is the client's again.
pub(crate) async fn forward(
    upstreams: &[SocketAddr],
    query: &Message,
) -> Result<Message, ForwardError> {
    if upstreams.is_empty() {
        return Err(ForwardError::NoUpstream);
    }
    let mut outgoing = query.clone();
    // A fresh id per forwarded query: the client's ids are not ours to trust upstream.
    outgoing.metadata.id = rand::random();
    let bytes = outgoing
        .to_vec()
        .map_err(|e| ForwardError::Encode(e.to_string()))?;
    let mut last_error = String::new();
    for upstream in upstreams {
        match exchange(*upstream, &bytes, &outgoing).await {
            Ok(mut answer) => {
                answer.metadata.id = query.metadata.id;
                return Ok(answer);
            }
            Err(e) => {
                tracing::debug!(%upstream, error = %e, "upstream did not answer");
                last_error = format!("{upstream}: {e}");
            }
        }
    }
    Err(ForwardError::Unanswered(last_error))
}

/// Whether `answer` answers `query`: same id, a response, the same question.
fn matches(query: &Message, answer: &Message) -> bool {
    answer.metadata.id == query.metadata.id
        && answer.metadata.message_type == MessageType::Response
        && answer.queries.len() == query.queries.len()
        && answer.queries.iter().zip(&query.queries).all(|(a, q)| {
            a.query_type() == q.query_type()
                && a.query_class() == q.query_class()
                && a.name() == q.name()
        })
}

async fn exchange(upstream: SocketAddr, bytes: &[u8], query: &Message) -> Result<Message, String> {
    let answer = tokio::time::timeout(UDP_TIMEOUT, exchange_udp(upstream, bytes, query))
        .await
        .map_err(|_| "timed out over UDP".to_string())??;
    if !answer.metadata.truncation {
        return Ok(answer);
    }
    tokio::time::timeout(TCP_TIMEOUT, exchange_tcp(upstream, bytes, query))
        .await
        .map_err(|_| "timed out over TCP".to_string())?
}

async fn exchange_udp(
    upstream: SocketAddr,
    bytes: &[u8],
    query: &Message,
) -> Result<Message, String> {
    let local: IpAddr = match upstream {
        SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    // A new socket (so a new random source port) per query, connected so only the upstream's
    // datagrams arrive.
    let socket = UdpSocket::bind((local, 0))
        .await
        .map_err(|e| format!("binding: {e}"))?;
    socket
        .connect(upstream)
        .await
        .map_err(|e| format!("connecting: {e}"))?;
    socket
        .send(bytes)
        .await
        .map_err(|e| format!("sending: {e}"))?;
    let mut buf = vec![0u8; UDP_BUFFER];
    loop {
        let n = socket
            .recv(&mut buf)
            .await
            .map_err(|e| format!("receiving: {e}"))?;
        // Anything that does not parse or answer this question is ignored (spoofing, late
        // answers), and we keep waiting until the timeout.
        let Some(data) = buf.get(..n) else { continue };
        if let Ok(answer) = Message::from_vec(data)
            && matches(query, &answer)
        {
            return Ok(answer);
        }
    }
}

async fn exchange_tcp(
    upstream: SocketAddr,
    bytes: &[u8],
    query: &Message,
) -> Result<Message, String> {
    let mut stream = TcpStream::connect(upstream)
        .await
        .map_err(|e| format!("connecting over TCP: {e}"))?;
    let len = u16::try_from(bytes.len()).map_err(|_| "query too large".to_string())?;
    // RFC 1035 4.2.2: a two-octet length before each message.
    let mut framed = Vec::with_capacity(bytes.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(bytes);
    stream
        .write_all(&framed)
        .await
        .map_err(|e| format!("sending over TCP: {e}"))?;
    loop {
        let len = stream
            .read_u16()
            .await
            .map_err(|e| format!("receiving over TCP: {e}"))?;
        let mut buf = vec![0u8; usize::from(len)];
        stream
            .read_exact(&mut buf)
            .await
            .map_err(|e| format!("receiving over TCP: {e}"))?;
        let answer = Message::from_vec(&buf).map_err(|e| format!("bad TCP answer: {e}"))?;
        if matches(query, &answer) {
            return Ok(answer);
        }
    }
}
