//! Service ClusterIP and NodePort allocation (the apiserver's service REST allocators).

use berth_apimachinery::status::FieldError;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::sync::Mutex;

/// Default NodePort range, as `--service-node-port-range`.
pub const NODE_PORT_RANGE: (u16, u16) = (30000, 32767);

/// Allocates ClusterIPs from a service CIDR and NodePorts from the NodePort range.
pub struct ServiceAllocator {
    base: u32,
    size: u32,
    state: Mutex<Allocated>,
}

#[derive(Default)]
struct Allocated {
    ips: HashSet<u32>,
    ports: HashSet<u16>,
}

impl ServiceAllocator {
    /// `cidr` like `10.96.0.0/12`.
    pub fn new(cidr: &str) -> Result<Self, String> {
        let (ip, bits) = cidr
            .split_once('/')
            .ok_or_else(|| format!("invalid service CIDR {cidr}"))?;
        let ip: Ipv4Addr = ip
            .parse()
            .map_err(|e| format!("invalid service CIDR {cidr}: {e}"))?;
        let bits: u32 = bits
            .parse()
            .map_err(|e| format!("invalid service CIDR {cidr}: {e}"))?;
        if !(8..=30).contains(&bits) {
            return Err(format!(
                "service CIDR {cidr}: prefix must be between /8 and /30"
            ));
        }
        let size = 1u32 << (32 - bits);
        let base = u32::from(ip) & !(size - 1);
        Ok(Self {
            base,
            size,
            state: Mutex::new(Allocated::default()),
        })
    }

    /// The first usable address (`10.96.0.1`), given to the `kubernetes` Service.
    pub fn first_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.base + 1)
    }

    fn contains(&self, ip: Ipv4Addr) -> bool {
        let v = u32::from(ip);
        v > self.base && v < self.base + self.size - 1
    }

    /// Marks the allocations of an existing service as used (at start-up).
    pub fn restore(&self, svc: &Value) {
        let mut st = self.state.lock().expect("allocator lock poisoned");
        for ip in cluster_ips(svc) {
            if let Ok(a) = ip.parse::<Ipv4Addr>() {
                st.ips.insert(u32::from(a));
            }
        }
        for p in node_ports(svc) {
            st.ports.insert(p);
        }
    }

    /// Allocates (or checks) the ClusterIP and NodePorts of `svc`. On update, `old` holds the
    /// current object, whose allocations are kept.
    pub fn allocate_for(
        &self,
        svc: &mut Value,
        old: Option<&Value>,
    ) -> Result<(), Vec<FieldError>> {
        let mut errs = Vec::new();
        let svc_type = svc
            .pointer("/spec/type")
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP")
            .to_string();
        let mut st = self.state.lock().expect("allocator lock poisoned");
        let old_ips: Vec<String> = old.map(cluster_ips).unwrap_or_default();
        let old_ports: Vec<u16> = old.map(node_ports).unwrap_or_default();
        let mut newly_ips: Vec<u32> = Vec::new();
        let mut newly_ports: Vec<u16> = Vec::new();
        if svc_type != "ExternalName" {
            let requested = svc
                .pointer("/spec/clusterIP")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if requested == "None" {
                set_cluster_ips(svc, "None");
            } else if requested.is_empty() {
                if let Some(ip) = old_ips.first() {
                    set_cluster_ips(svc, ip);
                } else {
                    // Usable: base+2 ..= base+size-2 (.0 is the network, .1 belongs to the
                    // `kubernetes` Service, the last is the broadcast address).
                    let span = self.size.saturating_sub(3).max(1);
                    let start = rand::random::<u32>() % span;
                    let found = (0..span)
                        .map(|i| self.base + 2 + (start + i) % span)
                        .find(|c| !st.ips.contains(c));
                    match found {
                        Some(c) => {
                            st.ips.insert(c);
                            newly_ips.push(c);
                            set_cluster_ips(svc, &Ipv4Addr::from(c).to_string());
                        }
                        None => errs.push(FieldError::invalid(
                            "spec.clusterIPs",
                            json!(""),
                            "failed to allocate IP: range is full",
                        )),
                    }
                }
            } else if !old_ips.contains(&requested) {
                match requested.parse::<Ipv4Addr>() {
                    Ok(ip) if self.contains(ip) => {
                        let v = u32::from(ip);
                        if st.ips.contains(&v) {
                            errs.push(FieldError::invalid(
                                "spec.clusterIPs",
                                json!([requested]),
                                format!("failed to allocate IP {requested}: provided IP is already allocated"),
                            ));
                        } else {
                            st.ips.insert(v);
                            newly_ips.push(v);
                            set_cluster_ips(svc, &requested);
                        }
                    }
                    Ok(_) => errs.push(FieldError::invalid(
                        "spec.clusterIPs",
                        json!([requested]),
                        format!(
                            "failed to allocate IP {requested}: the provided IP ({requested}) is not in the valid range. The range of valid IPs is {}/{}",
                            Ipv4Addr::from(self.base),
                            32 - self.size.trailing_zeros()
                        ),
                    )),
                    Err(_) => {} // the validator reports malformed IPs
                }
            } else {
                set_cluster_ips(svc, &requested);
            }
        }
        if (svc_type == "NodePort" || svc_type == "LoadBalancer")
            && let Some(ports) = svc.pointer_mut("/spec/ports").and_then(Value::as_array_mut)
        {
            for (i, p) in ports.iter_mut().enumerate() {
                let want = p.get("nodePort").and_then(Value::as_u64).unwrap_or(0) as u16;
                if want == 0 {
                    let span = (NODE_PORT_RANGE.1 - NODE_PORT_RANGE.0 + 1) as u32;
                    let start = rand::random::<u32>() % span;
                    let mut got = None;
                    for k in 0..span {
                        let cand = NODE_PORT_RANGE.0 + ((start + k) % span) as u16;
                        if !st.ports.contains(&cand) {
                            got = Some(cand);
                            break;
                        }
                    }
                    match got {
                        Some(c) => {
                            st.ports.insert(c);
                            newly_ports.push(c);
                            p["nodePort"] = json!(c);
                        }
                        None => errs.push(FieldError::invalid(
                            format!("spec.ports[{i}].nodePort"),
                            json!(0),
                            "failed to allocate port: range is full",
                        )),
                    }
                } else if !old_ports.contains(&want) {
                    if !(NODE_PORT_RANGE.0..=NODE_PORT_RANGE.1).contains(&want) {
                        errs.push(FieldError::invalid(
                                format!("spec.ports[{i}].nodePort"),
                                json!(want),
                                format!(
                                    "provided port is not in the valid range. The range of valid ports is {}-{}",
                                    NODE_PORT_RANGE.0, NODE_PORT_RANGE.1
                                ),
                            ));
                    } else if st.ports.contains(&want) {
                        errs.push(FieldError::invalid(
                            format!("spec.ports[{i}].nodePort"),
                            json!(want),
                            "provided port is already allocated",
                        ));
                    } else {
                        st.ports.insert(want);
                        newly_ports.push(want);
                    }
                }
            }
        }
        if !errs.is_empty() {
            for ip in newly_ips {
                st.ips.remove(&ip);
            }
            for p in newly_ports {
                st.ports.remove(&p);
            }
            return Err(errs);
        }
        // Allocations the update dropped are released.
        if old.is_some() {
            let new_ips = cluster_ips(svc);
            for ip in old_ips.iter().filter(|ip| !new_ips.contains(ip)) {
                if let Ok(a) = ip.parse::<Ipv4Addr>() {
                    st.ips.remove(&u32::from(a));
                }
            }
            let new_ports = node_ports(svc);
            for p in old_ports.iter().filter(|p| !new_ports.contains(p)) {
                st.ports.remove(p);
            }
        }
        Ok(())
    }

    /// Frees a deleted (or never stored) service's allocations.
    pub fn release(&self, svc: &Value) {
        let mut st = self.state.lock().expect("allocator lock poisoned");
        for ip in cluster_ips(svc) {
            if let Ok(a) = ip.parse::<Ipv4Addr>() {
                st.ips.remove(&u32::from(a));
            }
        }
        for p in node_ports(svc) {
            st.ports.remove(&p);
        }
    }
}

fn set_cluster_ips(svc: &mut Value, ip: &str) {
    if let Some(spec) = svc.get_mut("spec").and_then(Value::as_object_mut) {
        spec.insert("clusterIP".into(), json!(ip));
        spec.insert("clusterIPs".into(), json!([ip]));
        if ip != "None" || !spec.contains_key("ipFamilies") {
            spec.entry("ipFamilies").or_insert_with(|| json!(["IPv4"]));
            spec.entry("ipFamilyPolicy")
                .or_insert_with(|| json!("SingleStack"));
        }
    }
}

fn cluster_ips(svc: &Value) -> Vec<String> {
    let mut v: Vec<String> = svc
        .pointer("/spec/clusterIPs")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if let Some(ip) = svc.pointer("/spec/clusterIP").and_then(Value::as_str)
        && !v.iter().any(|x| x == ip)
    {
        v.push(ip.to_string());
    }
    v.retain(|ip| !ip.is_empty() && ip != "None");
    v
}

fn node_ports(svc: &Value) -> Vec<u16> {
    svc.pointer("/spec/ports")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| p.get("nodePort").and_then(Value::as_u64))
                .filter_map(|p| u16::try_from(p).ok())
                .filter(|p| *p != 0)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_unique_ips_and_ports() {
        let a = ServiceAllocator::new("10.96.0.0/28").expect("cidr");
        assert_eq!(a.first_ip().to_string(), "10.96.0.1");
        let mut seen = HashSet::new();
        for _ in 0..13 {
            let mut svc = json!({"spec": {"type": "NodePort", "ports": [{"port": 80}]}});
            a.allocate_for(&mut svc, None).expect("allocates");
            let ip = svc["spec"]["clusterIP"].as_str().expect("ip").to_string();
            assert_ne!(ip, "10.96.0.1");
            assert!(seen.insert(ip));
        }
        let mut full = json!({"spec": {"ports": [{"port": 80}]}});
        assert!(a.allocate_for(&mut full, None).is_err());
        let mut dup = json!({"spec": {"clusterIP": seen.iter().next().expect("one"), "ports": []}});
        let errs = a.allocate_for(&mut dup, None).expect_err("taken");
        assert!(errs[0].detail.contains("already allocated"));
    }
}
