//! Answers for names in the cluster domain and for reverse names of cluster addresses, following
//! the Kubernetes DNS-Based Service Discovery specification (schema 1.1.0) and CoreDNS'
//! `kubernetes` plugin where the specification leaves room (`pods insecure`, endpoint names
//! from dashed addresses, SRV at the bare Service name).

use std::net::IpAddr;

use hickory_proto::rr::rdata::{A, AAAA, CNAME, NS, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use k8s_openapi::api::core::v1::Service;

use crate::cluster::{ClusterView, DnsEndpoint, dashed_ip, parse_dashed_ip};

/// The DNS schema version served at `dns-version.<zone>`.
const SCHEMA_VERSION: &str = "1.1.0";

/// What a local lookup found.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// The name exists: NOERROR, with no answers meaning NODATA.
    Records {
        answers: Vec<Record>,
        additionals: Vec<Record>,
    },
    /// The name does not exist in the cluster domain.
    NxDomain,
    /// Not something the cluster knows (a reverse name of an outside address): forward it.
    Forward,
}

impl Lookup {
    fn nodata() -> Lookup {
        Lookup::Records {
            answers: Vec::new(),
            additionals: Vec::new(),
        }
    }

    fn answers(answers: Vec<Record>) -> Lookup {
        Lookup::Records {
            answers,
            additionals: Vec::new(),
        }
    }
}

/// The cluster zone: its origin and record TTL.
pub(crate) struct Zone {
    /// Lowercase, fully qualified (`cluster.local.`).
    pub origin: Name,
    pub ttl: u32,
}

/// A Service as DNS sees it.
enum Kind {
    /// ClusterIP (or NodePort/LoadBalancer): its cluster IPs.
    Virtual(Vec<IpAddr>),
    Headless,
    External(String),
}

fn kind(service: &Service) -> Kind {
    let Some(spec) = service.spec.as_ref() else {
        return Kind::Virtual(Vec::new());
    };
    if spec.type_.as_deref() == Some("ExternalName") {
        return Kind::External(spec.external_name.clone().unwrap_or_default());
    }
    if spec.cluster_ip.as_deref() == Some("None") {
        return Kind::Headless;
    }
    let ips: Vec<IpAddr> = match spec.cluster_ips.as_ref().filter(|ips| !ips.is_empty()) {
        Some(ips) => ips.iter().filter_map(|ip| ip.parse().ok()).collect(),
        None => spec
            .cluster_ip
            .iter()
            .filter_map(|ip| ip.parse().ok())
            .collect(),
    };
    Kind::Virtual(ips)
}

fn label_str(label: &[u8]) -> String {
    String::from_utf8_lossy(label).to_ascii_lowercase()
}

fn address_record(name: &Name, ttl: u32, ip: IpAddr) -> Record {
    let data = match ip {
        IpAddr::V4(v4) => RData::A(A(v4)),
        IpAddr::V6(v6) => RData::AAAA(AAAA(v6)),
    };
    Record::from_rdata(name.clone(), ttl, data)
}

fn family_matches(qtype: RecordType, ip: IpAddr) -> bool {
    match qtype {
        RecordType::A => ip.is_ipv4(),
        RecordType::AAAA => ip.is_ipv6(),
        RecordType::ANY => true,
        _ => false,
    }
}

impl Zone {
    pub fn new(domain: &str, ttl: u32) -> Result<Zone, String> {
        let trimmed = domain.trim().trim_end_matches('.');
        if trimmed.is_empty() {
            return Err("empty".to_string());
        }
        let mut origin = Name::from_ascii(trimmed).map_err(|e| e.to_string())?;
        origin.set_fqdn(true);
        Ok(Zone {
            origin: origin.to_lowercase(),
            ttl,
        })
    }

    pub fn contains(&self, name: &Name) -> bool {
        self.origin.zone_of(name)
    }

    /// `<rest>` appended to the origin: `svc.ns.svc` -> `svc.ns.svc.cluster.local.`.
    fn name(&self, relative: &str) -> Option<Name> {
        Name::from_ascii(relative)
            .ok()?
            .append_domain(&self.origin)
            .ok()
    }

    pub fn soa(&self, serial: u32) -> Record {
        let ns = self.name("ns.dns").unwrap_or_else(|| self.origin.clone());
        let mbox = self
            .name("hostmaster")
            .unwrap_or_else(|| self.origin.clone());
        // Refresh/retry/expire as CoreDNS' kubernetes plugin; the minimum (negative-caching
        // TTL) is the record TTL.
        let soa = SOA::new(ns, mbox, serial, 7200, 1800, 86400, self.ttl);
        Record::from_rdata(self.origin.clone(), self.ttl, RData::SOA(soa))
    }

    /// Looks `qname` up; the caller has checked it lies in this zone.
    pub fn lookup(
        &self,
        view: &ClusterView,
        qname: &Name,
        qtype: RecordType,
        serial: u32,
    ) -> Lookup {
        let origin_labels = self.origin.iter().count();
        let all: Vec<String> = qname.iter().map(label_str).collect();
        let Some(relative_len) = all.len().checked_sub(origin_labels) else {
            return Lookup::NxDomain;
        };
        let labels: Vec<&str> = all[..relative_len].iter().map(String::as_str).collect();
        match labels.as_slice() {
            [] => match qtype {
                RecordType::SOA => Lookup::answers(vec![self.soa(serial)]),
                RecordType::NS => {
                    let Some(ns) = self.name("ns.dns") else {
                        return Lookup::nodata();
                    };
                    Lookup::answers(vec![Record::from_rdata(
                        qname.clone(),
                        self.ttl,
                        RData::NS(NS(ns)),
                    )])
                }
                _ => Lookup::nodata(),
            },
            ["dns-version"] => match qtype {
                RecordType::TXT | RecordType::ANY => Lookup::answers(vec![Record::from_rdata(
                    qname.clone(),
                    self.ttl,
                    RData::TXT(TXT::new(vec![SCHEMA_VERSION.to_string()])),
                )]),
                _ => Lookup::nodata(),
            },
            // The SOA's name server name, and the empty non-terminals above the data.
            ["dns"] | ["ns", "dns"] | ["svc"] | ["pod"] => Lookup::nodata(),
            [ns, "svc"] => {
                if view.namespace_has_services(ns) {
                    Lookup::nodata()
                } else {
                    Lookup::NxDomain
                }
            }
            [service, ns, "svc"] => self.service(view, qname, qtype, ns, service),
            [first, service, ns, "svc"] => {
                let Some(svc) = view.service(ns, service) else {
                    return Lookup::NxDomain;
                };
                if let Some(proto) = first.strip_prefix('_') {
                    // `_<proto>.<service>...`: an empty non-terminal if some port uses it.
                    let has_proto = self
                        .srv_ports(view, &svc)
                        .iter()
                        .any(|(_, p, _)| p.eq_ignore_ascii_case(proto));
                    return if has_proto {
                        Lookup::nodata()
                    } else {
                        Lookup::NxDomain
                    };
                }
                self.endpoint(view, qname, qtype, &svc, first)
            }
            [port, proto, service, ns, "svc"] => {
                let (Some(port), Some(proto)) = (port.strip_prefix('_'), proto.strip_prefix('_'))
                else {
                    return Lookup::NxDomain;
                };
                let Some(svc) = view.service(ns, service) else {
                    return Lookup::NxDomain;
                };
                self.srv(view, qname, qtype, &svc, Some((port, proto)))
            }
            [ip, _ns, "pod"] => match parse_dashed_ip(ip) {
                // `pods insecure`: any well-formed address answers, in any namespace.
                Some(ip) if family_matches(qtype, ip) => {
                    Lookup::answers(vec![address_record(qname, self.ttl, ip)])
                }
                Some(_) => Lookup::nodata(),
                None => Lookup::NxDomain,
            },
            [_ns, "pod"] => Lookup::nodata(),
            _ => Lookup::NxDomain,
        }
    }

    fn service(
        &self,
        view: &ClusterView,
        qname: &Name,
        qtype: RecordType,
        ns: &str,
        name: &str,
    ) -> Lookup {
        let Some(svc) = view.service(ns, name) else {
            return Lookup::NxDomain;
        };
        let kind = kind(&svc);
        if qtype == RecordType::SRV && !matches!(kind, Kind::External(_)) {
            // CoreDNS answers SRV at the bare Service name with every named port.
            return self.srv(view, qname, qtype, &svc, None);
        }
        match kind {
            Kind::External(target) => {
                let Ok(mut target) = Name::from_ascii(target.trim_end_matches('.')) else {
                    tracing::debug!(ns, name, "ExternalName is not a valid DNS name");
                    return Lookup::nodata();
                };
                target.set_fqdn(true);
                Lookup::answers(vec![Record::from_rdata(
                    qname.clone(),
                    self.ttl,
                    RData::CNAME(CNAME(target)),
                )])
            }
            Kind::Virtual(ips) => Lookup::answers(
                ips.into_iter()
                    .filter(|ip| family_matches(qtype, *ip))
                    .map(|ip| address_record(qname, self.ttl, ip))
                    .collect(),
            ),
            Kind::Headless => Lookup::answers(
                view.endpoints(&svc)
                    .into_iter()
                    .filter(|e| family_matches(qtype, e.ip))
                    .map(|e| address_record(qname, self.ttl, e.ip))
                    .collect(),
            ),
        }
    }

    /// `<hostname>.<service>.<ns>.svc.<zone>`: endpoints of a headless Service.
    fn endpoint(
        &self,
        view: &ClusterView,
        qname: &Name,
        qtype: RecordType,
        svc: &Service,
        label: &str,
    ) -> Lookup {
        if !matches!(kind(svc), Kind::Headless) {
            return Lookup::NxDomain;
        }
        let matching: Vec<DnsEndpoint> = view
            .endpoints(svc)
            .into_iter()
            .filter(|e| e.label == label || dashed_ip(e.ip) == label)
            .collect();
        if matching.is_empty() {
            return Lookup::NxDomain;
        }
        Lookup::answers(
            matching
                .into_iter()
                .filter(|e| family_matches(qtype, e.ip))
                .map(|e| address_record(qname, self.ttl, e.ip))
                .collect(),
        )
    }

    /// Named ports of a Service: (name, protocol, port).
    fn srv_ports(&self, view: &ClusterView, svc: &Service) -> Vec<(String, String, u16)> {
        match kind(svc) {
            Kind::External(_) => Vec::new(),
            Kind::Headless => {
                let mut ports: Vec<(String, String, u16)> = view
                    .endpoints(svc)
                    .into_iter()
                    .flat_map(|e| e.ports)
                    .collect();
                ports.sort();
                ports.dedup();
                ports
            }
            Kind::Virtual(_) => svc
                .spec
                .as_ref()
                .and_then(|s| s.ports.as_ref())
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    Some((
                        p.name.clone().unwrap_or_default(),
                        p.protocol.clone().unwrap_or_else(|| "TCP".to_string()),
                        u16::try_from(p.port).ok()?,
                    ))
                })
                .collect(),
        }
        .into_iter()
        .filter(|(name, _, _)| !name.is_empty())
        .collect()
    }

    /// SRV records for `_<port>._<proto>` (or every named port when `which` is `None`).
    fn srv(
        &self,
        view: &ClusterView,
        qname: &Name,
        qtype: RecordType,
        svc: &Service,
        which: Option<(&str, &str)>,
    ) -> Lookup {
        let wanted = |name: &str, proto: &str| match which {
            Some((port, p)) => name.eq_ignore_ascii_case(port) && proto.eq_ignore_ascii_case(p),
            None => true,
        };
        let ns = svc.metadata.namespace.as_deref().unwrap_or_default();
        let name = svc.metadata.name.as_deref().unwrap_or_default();
        let Some(service_name) = self.name(&format!("{name}.{ns}.svc")) else {
            return Lookup::NxDomain;
        };
        // (port, target, target address); the target's address goes in the additional section.
        let mut targets: Vec<(u16, Name, Option<IpAddr>)> = Vec::new();
        let mut exists = false;
        match kind(svc) {
            Kind::External(_) => {
                return if which.is_some() {
                    Lookup::NxDomain
                } else {
                    Lookup::nodata()
                };
            }
            Kind::Virtual(ips) => {
                for (port_name, proto, port) in self.srv_ports(view, svc) {
                    if wanted(&port_name, &proto) {
                        exists = true;
                        targets.push((port, service_name.clone(), None));
                    }
                }
                if !targets.is_empty() {
                    // The additional section carries the Service's addresses once.
                    let additionals = ips
                        .into_iter()
                        .map(|ip| address_record(&service_name, self.ttl, ip))
                        .collect();
                    return self.srv_answer(qname, qtype, targets, additionals);
                }
            }
            Kind::Headless => {
                for endpoint in view.endpoints(svc) {
                    for (port_name, proto, port) in &endpoint.ports {
                        if port_name.is_empty() || !wanted(port_name, proto) {
                            continue;
                        }
                        exists = true;
                        let Ok(target) = Name::from_ascii(&endpoint.label)
                            .and_then(|l| l.append_domain(&service_name))
                        else {
                            continue;
                        };
                        targets.push((*port, target, Some(endpoint.ip)));
                    }
                }
            }
        }
        if which.is_some() && !exists {
            return Lookup::NxDomain;
        }
        let additionals = targets
            .iter()
            .filter_map(|(_, target, ip)| ip.map(|ip| address_record(target, self.ttl, ip)))
            .collect();
        self.srv_answer(qname, qtype, targets, additionals)
    }

    fn srv_answer(
        &self,
        qname: &Name,
        qtype: RecordType,
        targets: Vec<(u16, Name, Option<IpAddr>)>,
        additionals: Vec<Record>,
    ) -> Lookup {
        if qtype != RecordType::SRV && qtype != RecordType::ANY {
            return Lookup::nodata();
        }
        // Equal shares, as CoreDNS: the weights of one answer add up to about 100.
        let weight = u16::try_from(100 / targets.len().max(1))
            .unwrap_or(1)
            .max(1);
        let answers = targets
            .into_iter()
            .map(|(port, target, _)| {
                Record::from_rdata(
                    qname.clone(),
                    self.ttl,
                    RData::SRV(SRV::new(0, weight, port, target)),
                )
            })
            .collect();
        Lookup::Records {
            answers,
            additionals,
        }
    }

    /// PTR for `in-addr.arpa`/`ip6.arpa` names of cluster IPs and headless endpoints; other
    /// reverse names are forwarded (CoreDNS' `fallthrough in-addr.arpa ip6.arpa`).
    pub fn reverse(&self, view: &ClusterView, qname: &Name, qtype: RecordType) -> Lookup {
        let Ok(net) = qname.parse_arpa_name() else {
            return Lookup::Forward;
        };
        let ip = net.addr();
        if net.prefix_len() != net.max_prefix_len() {
            return Lookup::Forward;
        }
        let mut targets: Vec<Name> = Vec::new();
        for svc in view.all_services() {
            let ns = svc.metadata.namespace.as_deref().unwrap_or_default();
            let name = svc.metadata.name.as_deref().unwrap_or_default();
            let Some(service_name) = self.name(&format!("{name}.{ns}.svc")) else {
                continue;
            };
            match kind(&svc) {
                Kind::Virtual(ips) if ips.contains(&ip) => targets.push(service_name),
                Kind::Headless => {
                    for endpoint in view.endpoints(&svc) {
                        if endpoint.ip == ip
                            && let Ok(target) = Name::from_ascii(&endpoint.label)
                                .and_then(|l| l.append_domain(&service_name))
                        {
                            targets.push(target);
                        }
                    }
                }
                _ => {}
            }
        }
        if targets.is_empty() {
            return Lookup::Forward;
        }
        if qtype != RecordType::PTR && qtype != RecordType::ANY {
            return Lookup::nodata();
        }
        Lookup::answers(
            targets
                .into_iter()
                .map(|t| Record::from_rdata(qname.clone(), self.ttl, RData::PTR(PTR(t))))
                .collect(),
        )
    }
}
