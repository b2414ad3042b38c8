//! Sockets and message handling: one UDP socket and one TCP listener per listen address, one
//! task per query (UDP) or connection (TCP).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hickory_proto::op::{
    Edns, Header, Message, MessageType, Metadata, OpCode, Query, ResponseCode,
};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::BinDecodable;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;

use crate::cluster::ClusterView;
use crate::forward::forward;
use crate::resolve::{Lookup, Zone};

/// The UDP payload size we advertise with EDNS (the DNS flag day 2020 value).
const EDNS_PAYLOAD: u16 = 1232;
/// Largest UDP answer we send to an EDNS client, whatever it advertises.
const MAX_UDP_ANSWER: usize = 4096;
/// Plain DNS' UDP limit (RFC 1035 4.2.1).
const PLAIN_UDP_ANSWER: usize = 512;
/// Queries handled at once per UDP socket; beyond that, queries are dropped (clients retry).
const MAX_UDP_IN_FLIGHT: usize = 1024;
/// TCP connections served at once per listener.
const MAX_TCP_CONNECTIONS: usize = 256;
/// An idle TCP connection is closed after this long (RFC 7766 suggests seconds).
const TCP_IDLE: Duration = Duration::from_secs(10);

#[derive(Default)]
pub(crate) struct Stats {
    pub queries: AtomicU64,
    pub answered_locally: AtomicU64,
    pub forwarded: AtomicU64,
    pub nxdomain: AtomicU64,
    pub servfail: AtomicU64,
}

impl Stats {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// What every query handler needs.
pub(crate) struct Shared {
    pub zone: Zone,
    pub view: Arc<ClusterView>,
    pub upstreams: Vec<SocketAddr>,
    pub stats: Arc<Stats>,
}

pub(crate) async fn serve_udp(socket: Arc<UdpSocket>, shared: Arc<Shared>) {
    let limit = Arc::new(Semaphore::new(MAX_UDP_IN_FLIGHT));
    let mut buf = vec![0u8; MAX_UDP_ANSWER];
    loop {
        let (n, peer) = match socket.recv_from(&mut buf).await {
            Ok(received) => received,
            Err(e) => {
                // Transient (ICMP errors surfacing on the socket): keep serving, without spinning.
                tracing::debug!(error = %e, "receiving a UDP query failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "too many queries in flight; dropping one");
            continue;
        };
        let Some(query) = buf.get(..n).map(<[u8]>::to_vec) else {
            continue;
        };
        let socket = socket.clone();
        let shared = shared.clone();
        tokio::spawn(async move {
            let _permit = permit;
            if let Some(answer) = handle(&shared, &query, Transport::Udp).await
                && let Err(e) = socket.send_to(&answer, peer).await
            {
                tracing::debug!(%peer, error = %e, "sending a UDP answer failed");
            }
        });
    }
}

pub(crate) async fn serve_tcp(listener: TcpListener, shared: Arc<Shared>) {
    let limit = Arc::new(Semaphore::new(MAX_TCP_CONNECTIONS));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::debug!(error = %e, "accepting a TCP connection failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "too many TCP connections; closing one");
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(e) = serve_connection(stream, &shared).await {
                tracing::debug!(%peer, error = %e, "TCP connection ended");
            }
        });
    }
}

/// Serves the queries of one TCP connection in turn until the client closes it or idles.
async fn serve_connection(mut stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    loop {
        // RFC 1035 4.2.2: each message is preceded by its two-octet length.
        let len = match tokio::time::timeout(TCP_IDLE, stream.read_u16()).await {
            Err(_) => return Ok(()),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Ok(result) => result?,
        };
        let mut query = vec![0u8; usize::from(len)];
        tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut query))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        let Some(answer) = handle(shared, &query, Transport::Tcp).await else {
            continue;
        };
        let Ok(answer_len) = u16::try_from(answer.len()) else {
            continue;
        };
        let mut framed = Vec::with_capacity(answer.len() + 2);
        framed.extend_from_slice(&answer_len.to_be_bytes());
        framed.extend_from_slice(&answer);
        stream.write_all(&framed).await?;
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
    Udp,
    Tcp,
}

/// Answers one query message; `None` when nothing should be sent back.
async fn handle(shared: &Shared, bytes: &[u8], transport: Transport) -> Option<Vec<u8>> {
    Stats::bump(&shared.stats.queries);
    let request = match Message::from_vec(bytes) {
        Ok(request) => request,
        Err(e) => {
            // Answer FORMERR if at least the header is readable, so the client stops waiting.
            let header = Header::from_bytes(bytes).ok()?;
            if header.metadata.message_type != MessageType::Query {
                return None;
            }
            tracing::debug!(error = %e, "malformed query");
            let reply = Message::error_msg(
                header.metadata.id,
                header.metadata.op_code,
                ResponseCode::FormErr,
            );
            return reply.to_vec().ok();
        }
    };
    if request.metadata.message_type != MessageType::Query {
        return None;
    }
    let mut response = respond(shared, &request).await;
    let limit = match transport {
        Transport::Tcp => usize::from(u16::MAX),
        Transport::Udp => request
            .edns
            .as_ref()
            .map(|e| usize::from(e.max_payload()).clamp(PLAIN_UDP_ANSWER, MAX_UDP_ANSWER))
            .unwrap_or(PLAIN_UDP_ANSWER),
    };
    if response.metadata.response_code == ResponseCode::ServFail {
        Stats::bump(&shared.stats.servfail);
    }
    let encoded = match response.to_vec() {
        Ok(encoded) => encoded,
        Err(e) => {
            tracing::warn!(error = %e, "encoding an answer failed");
            Stats::bump(&shared.stats.servfail);
            response = Message::error_msg(
                request.metadata.id,
                request.metadata.op_code,
                ResponseCode::ServFail,
            );
            response.add_queries(request.queries.iter().cloned());
            response.to_vec().ok()?
        }
    };
    if encoded.len() <= limit {
        return Some(encoded);
    }
    // Too large for this UDP client: header and question with TC set, so it retries over TCP.
    response.truncate().to_vec().ok()
}

/// The response to a well-formed query.
async fn respond(shared: &Shared, request: &Message) -> Message {
    let mut response = Message::new(request.metadata.id, MessageType::Response, OpCode::Query);
    response.metadata = Metadata::response_from_request(&request.metadata);
    response.metadata.recursion_available = true;
    if request.edns.is_some() {
        let mut edns = Edns::new();
        edns.set_max_payload(EDNS_PAYLOAD);
        response.set_edns(edns);
    }
    if request.metadata.op_code != OpCode::Query {
        response.metadata.response_code = ResponseCode::NotImp;
        return response;
    }
    let [query] = request.queries.as_slice() else {
        response.metadata.response_code = ResponseCode::FormErr;
        return response;
    };
    response.add_query(query.clone());
    let name = query.name();
    if shared.zone.contains(name) {
        Stats::bump(&shared.stats.answered_locally);
        if query.query_class() != DNSClass::IN {
            response.metadata.response_code = ResponseCode::Refused;
            return response;
        }
        if !shared.view.synced() {
            // Before the first list every name would look missing: let the client retry.
            response.metadata.response_code = ResponseCode::ServFail;
            return response;
        }
        let serial = shared.view.serial();
        let lookup = shared
            .zone
            .lookup(&shared.view, name, query.query_type(), serial);
        fill_local(shared, &mut response, query, lookup, serial, true).await;
        return response;
    }
    if is_reverse(name) && query.query_class() == DNSClass::IN && shared.view.synced() {
        let lookup = shared.zone.reverse(&shared.view, name, query.query_type());
        if !matches!(lookup, Lookup::Forward) {
            Stats::bump(&shared.stats.answered_locally);
            fill_local(
                shared,
                &mut response,
                query,
                lookup,
                shared.view.serial(),
                false,
            )
            .await;
            return response;
        }
    }
    Stats::bump(&shared.stats.forwarded);
    match forward(&shared.upstreams, request).await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::debug!(name = %name, error = %e, "forwarding failed");
            response.metadata.response_code = ResponseCode::ServFail;
            response
        }
    }
}

fn is_reverse(name: &Name) -> bool {
    let arpa = |zone: &str| Name::from_ascii(zone).is_ok_and(|z| z.zone_of(name));
    arpa("in-addr.arpa.") || arpa("ip6.arpa.")
}

/// Puts a local lookup's result into `response`; `authoritative` for the cluster zone (which
/// also gets an SOA in the authority section of negative answers, RFC 2308).
async fn fill_local(
    shared: &Shared,
    response: &mut Message,
    query: &Query,
    lookup: Lookup,
    serial: u32,
    authoritative: bool,
) {
    response.metadata.authoritative = authoritative;
    match lookup {
        Lookup::NxDomain => {
            Stats::bump(&shared.stats.nxdomain);
            response.metadata.response_code = ResponseCode::NXDomain;
            response.add_authority(shared.zone.soa(serial));
        }
        Lookup::Records {
            answers,
            additionals,
        } => {
            if answers.is_empty() {
                if authoritative {
                    response.add_authority(shared.zone.soa(serial));
                }
                return;
            }
            let chased = chase_cname(shared, &answers, query.query_type(), serial).await;
            response.add_answers(answers);
            response.add_answers(chased);
            response.add_additionals(additionals);
        }
        // Callers forward instead of calling this.
        Lookup::Forward => {}
    }
}

/// An ExternalName answer is a CNAME; like CoreDNS, follow it once so that clients get the
/// addresses in the same answer (from the upstreams, or from the zone for in-cluster targets).
async fn chase_cname(
    shared: &Shared,
    answers: &[Record],
    qtype: RecordType,
    serial: u32,
) -> Vec<Record> {
    if matches!(qtype, RecordType::CNAME | RecordType::ANY) {
        return Vec::new();
    }
    let [record] = answers else {
        return Vec::new();
    };
    let RData::CNAME(target) = &record.data else {
        return Vec::new();
    };
    let target = target.0.clone();
    if shared.zone.contains(&target) {
        return match shared.zone.lookup(&shared.view, &target, qtype, serial) {
            Lookup::Records { answers, .. } => answers
                .into_iter()
                .filter(|r| !matches!(&r.data, RData::CNAME(_)))
                .collect(),
            _ => Vec::new(),
        };
    }
    let mut query = Message::new(rand::random(), MessageType::Query, OpCode::Query);
    query.metadata.recursion_desired = true;
    query.add_query(Query::query(target, qtype));
    match forward(&shared.upstreams, &query).await {
        Ok(answer) if answer.metadata.response_code == ResponseCode::NoError => answer.answers,
        Ok(_) => Vec::new(),
        Err(e) => {
            tracing::debug!(error = %e, "resolving an ExternalName target failed");
            Vec::new()
        }
    }
}
