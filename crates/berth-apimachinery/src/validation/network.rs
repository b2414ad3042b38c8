//! Services, Endpoints, EndpointSlices, Ingresses, IngressClasses and NetworkPolicies.

use super::pod::{port_num_or_name, protocol};
use super::*;
use std::collections::BTreeSet;

const EMPTY: &Value = &Value::Null;

fn spec_of(obj: &Value) -> &Value {
    get(obj, "spec").unwrap_or(EMPTY)
}

fn is_headless(spec: &Value) -> bool {
    let ips = strings(spec, "clusterIPs");
    ips.len() == 1 && ips[0] == "None"
}

fn is_ipv6(s: &str) -> bool {
    matches!(parse_ip_sloppy(s), Some(std::net::IpAddr::V6(_)))
}

/// `%#v` of a `core.ServicePort` (used by the duplicate port error).
fn go_service_port(proto: &str, port: i64) -> String {
    format!(
        "core.ServicePort{{Name:\"\", Protocol:{}, AppProtocol:(*string)(nil), Port:{port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:0}}",
        names::go_quote(proto)
    )
}

// ---------------------------------------------------------------------------------------------
// Services.
// ---------------------------------------------------------------------------------------------

/// `ValidateService` (spec part).
pub(super) fn validate_service(obj: &Value) -> Errs {
    let mut errs = Vec::new();
    let spec = spec_of(obj);
    let ty = st(spec, "type");
    let headless = is_headless(spec);
    let annotations = obj
        .pointer("/metadata/annotations")
        .and_then(Value::as_object);
    if let Some(a) = annotations {
        let hints = a.get("service.kubernetes.io/topology-aware-hints");
        let mode = a.get("service.kubernetes.io/topology-mode");
        if let (Some(h), Some(m)) = (hints, mode)
            && h != m
        {
            errs.push(FieldError::invalid(
                    "metadata.annotations[service.kubernetes.io/topology-mode]",
                    m.clone(),
                    "must match annotations[service.kubernetes.io/topology-aware-hints] when both are specified",
                ));
        }
    }
    let ports = arr(spec, "ports");
    if ports.is_empty() && !headless && ty != "ExternalName" {
        errs.push(FieldError::required("spec.ports", ""));
    }
    let cluster_ips = strings(spec, "clusterIPs");
    match ty {
        "LoadBalancer" | "NodePort" if headless => {
            errs.push(FieldError::invalid(
                "spec.clusterIPs[0]",
                json!(cluster_ips[0]),
                format!("may not be set to 'None' for {ty} services"),
            ));
        }
        "ExternalName" => {
            if !cluster_ips.is_empty() {
                errs.push(FieldError::forbidden(
                    "spec.clusterIPs",
                    "may not be set for ExternalName services",
                ));
            }
            if !arr(spec, "ipFamilies").is_empty() {
                errs.push(FieldError::forbidden(
                    "spec.ipFamilies",
                    "may not be set for ExternalName services",
                ));
            }
            if get(spec, "ipFamilyPolicy").is_some() {
                errs.push(FieldError::forbidden(
                    "spec.ipFamilyPolicy",
                    "may not be set for ExternalName services",
                ));
            }
            let en = st(spec, "externalName");
            let cname = en.strip_suffix('.').unwrap_or(en);
            if cname.is_empty() {
                errs.push(FieldError::required("spec.externalName", ""));
            } else {
                dns1123_subdomain(&mut errs, cname, "spec.externalName");
            }
        }
        _ => {}
    }
    let mut port_names = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        validate_service_port(
            &mut errs,
            p,
            ports.len() > 1,
            &mut port_names,
            &format!("spec.ports[{i}]"),
        );
    }
    if let Some(sel) = get(spec, "selector") {
        errs.extend(names::validate_labels(sel, "spec.selector"));
    }
    let sa = st(spec, "sessionAffinity");
    match sa {
        "" => errs.push(FieldError::required("spec.sessionAffinity", "")),
        "ClientIP" | "None" => {}
        other => errs.push(FieldError::not_supported(
            "spec.sessionAffinity",
            json!(other),
            &["ClientIP", "None"],
        )),
    }
    let sac = get(spec, "sessionAffinityConfig");
    if sa == "ClientIP" {
        let p = "spec.sessionAffinityConfig";
        let when = "when session affinity type is ClientIP";
        match sac {
            None => errs.push(FieldError::required(p, when)),
            Some(c) => match get(c, "clientIP") {
                None => errs.push(FieldError::required(format!("{p}.clientIP"), when)),
                Some(ci) => match int(ci, "timeoutSeconds") {
                    None => errs.push(FieldError::required(
                        format!("{p}.clientIP.timeoutSeconds"),
                        when,
                    )),
                    Some(t) => {
                        if t <= 0 || t > 86400 {
                            errs.push(FieldError::invalid(
                                format!("{p}.clientIP.timeoutSeconds"),
                                json!(t),
                                "must be greater than 0 and less than 86400",
                            ));
                        }
                    }
                },
            },
        }
    } else if sa == "None" && sac.is_some() {
        errs.push(FieldError::forbidden(
            "spec.sessionAffinityConfig",
            "must not be set when session affinity is None",
        ));
    }
    validate_cluster_ips_related(&mut errs, spec);
    for (i, ip) in strings(spec, "externalIPs").iter().enumerate() {
        let p = format!("spec.externalIPs[{i}]");
        let before = errs.len();
        valid_ip(&mut errs, ip, &p);
        if errs.len() == before {
            non_special_ip(&mut errs, ip, &p);
        }
    }
    match ty {
        "" => errs.push(FieldError::required("spec.type", "")),
        "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName" => {}
        other => errs.push(FieldError::not_supported(
            "spec.type",
            json!(other),
            &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
        )),
    }
    if ty == "ClusterIP" {
        for (i, p) in ports.iter().enumerate() {
            if int(p, "nodePort").unwrap_or(0) != 0 {
                errs.push(FieldError::forbidden(
                    format!("spec.ports[{i}].nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            }
        }
    }
    let mut node_ports = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let np = int(p, "nodePort").unwrap_or(0);
        if np == 0 {
            continue;
        }
        if !node_ports.insert((st(p, "protocol").to_string(), np)) {
            errs.push(FieldError::duplicate(
                format!("spec.ports[{i}].nodePort"),
                json!(np),
            ));
        }
    }
    let mut seen_ports = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let proto = st(p, "protocol");
        let port = int(p, "port").unwrap_or(0);
        if !seen_ports.insert((proto.to_string(), port)) {
            errs.push(FieldError::new(
                FieldErrorKind::Duplicate,
                format!("spec.ports[{i}]"),
                None,
                go_service_port(proto, port),
            ));
        }
    }
    let ranges = strings(spec, "loadBalancerSourceRanges");
    if !ranges.is_empty() {
        let p = "spec.LoadBalancerSourceRanges";
        if ty != "LoadBalancer" {
            errs.push(FieldError::forbidden(
                p,
                "may only be used when `type` is 'LoadBalancer'",
            ));
        }
        for (i, r) in ranges.iter().enumerate() {
            valid_cidr(&mut errs, r.trim(), &format!("{p}[{i}]"));
        }
    } else if let Some(v) = annotations
        .and_then(|a| a.get("service.beta.kubernetes.io/load-balancer-source-ranges"))
        .and_then(Value::as_str)
    {
        let p = "metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]";
        if ty != "LoadBalancer" {
            errs.push(FieldError::forbidden(
                p,
                "may only be used when `type` is 'LoadBalancer'",
            ));
        }
        let v = v.trim();
        if !v.is_empty() {
            for c in v.split(',') {
                valid_cidr(&mut errs, c.trim(), p);
            }
        }
    }
    if get(spec, "allocateLoadBalancerNodePorts").is_some() && ty != "LoadBalancer" {
        errs.push(FieldError::forbidden(
            "spec.allocateLoadBalancerNodePorts",
            "may only be used when `type` is 'LoadBalancer'",
        ));
    }
    if ty == "LoadBalancer" && get(spec, "allocateLoadBalancerNodePorts").is_none() {
        errs.push(FieldError::required("allocateLoadBalancerNodePorts", ""));
    }
    validate_lb_class(&mut errs, spec);
    // External traffic policy.
    let externally_accessible = ty == "LoadBalancer"
        || ty == "NodePort"
        || (ty == "ClusterIP" && !arr(spec, "externalIPs").is_empty());
    let etp = st(spec, "externalTrafficPolicy");
    if !externally_accessible {
        if !etp.is_empty() {
            errs.push(FieldError::invalid(
                "spec.externalTrafficPolicy",
                json!(etp),
                "may only be set for externally-accessible services",
            ));
        }
    } else if etp.is_empty() {
        errs.push(FieldError::required("spec.externalTrafficPolicy", ""));
    } else if etp != "Cluster" && etp != "Local" {
        errs.push(FieldError::not_supported(
            "spec.externalTrafficPolicy",
            json!(etp),
            &["Cluster", "Local"],
        ));
    }
    let hc = int(spec, "healthCheckNodePort").unwrap_or(0);
    let needs_hc = ty == "LoadBalancer" && etp == "Local";
    if !needs_hc {
        if hc != 0 {
            errs.push(FieldError::invalid(
                "spec.healthCheckNodePort",
                json!(hc),
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
            ));
        }
    } else if hc != 0 {
        // A missing value is allocated by the server before validation.
        for m in is_valid_port_num(hc) {
            errs.push(FieldError::invalid(
                "spec.healthCheckNodePort",
                json!(hc),
                m,
            ));
        }
    }
    match get(spec, "internalTrafficPolicy").and_then(Value::as_str) {
        None => {
            if matches!(ty, "NodePort" | "LoadBalancer" | "ClusterIP") {
                errs.push(FieldError::required("spec.internalTrafficPolicy", ""));
            }
        }
        Some("Cluster" | "Local") => {}
        Some(other) => errs.push(FieldError::not_supported(
            "spec.internalTrafficPolicy",
            json!(other),
            &["Cluster", "Local"],
        )),
    }
    if let Some(td) = get(spec, "trafficDistribution").and_then(Value::as_str)
        && td != "PreferClose"
    {
        errs.push(FieldError::not_supported(
            "spec.trafficDistribution",
            json!(td),
            &["PreferClose"],
        ));
    }
    errs
}

fn validate_service_port(
    errs: &mut Errs,
    sp: &Value,
    require_name: bool,
    all_names: &mut BTreeSet<String>,
    path: &str,
) {
    let name = st(sp, "name");
    if require_name && name.is_empty() {
        errs.push(FieldError::required(child(path, "name"), ""));
    } else if !name.is_empty() {
        dns1123_label(errs, name, &child(path, "name"));
        if !all_names.insert(name.to_string()) {
            errs.push(FieldError::duplicate(child(path, "name"), json!(name)));
        }
    }
    let port = int(sp, "port").unwrap_or(0);
    for m in is_valid_port_num(port) {
        errs.push(FieldError::invalid(child(path, "port"), json!(port), m));
    }
    protocol(errs, st(sp, "protocol"), &child(path, "protocol"));
    port_num_or_name(errs, sp.get("targetPort"), &child(path, "targetPort"));
    if let Some(ap) = get(sp, "appProtocol").and_then(Value::as_str) {
        qualified_name(errs, ap, &child(path, "appProtocol"));
    }
}

fn validate_lb_class(errs: &mut Errs, spec: &Value) {
    let lbc = get(spec, "loadBalancerClass");
    let is_lb = st(spec, "type") == "LoadBalancer";
    if is_lb {
        if let Some(c) = lbc.and_then(Value::as_str) {
            qualified_name(errs, c, "spec.loadBalancerClass");
        }
    } else if lbc.is_some() {
        errs.push(FieldError::forbidden(
            "spec.loadBalancerClass",
            "may only be used when `type` is 'LoadBalancer'",
        ));
    }
}

/// `ValidateServiceClusterIPsRelatedFields`.
fn validate_cluster_ips_related(errs: &mut Errs, spec: &Value) {
    if st(spec, "type") == "ExternalName" {
        return;
    }
    let cluster_ip = st(spec, "clusterIP");
    let ips = strings(spec, "clusterIPs");
    let ips_val = get(spec, "clusterIPs");
    if !cluster_ip.is_empty() {
        if ips.is_empty() {
            errs.push(FieldError::required("spec.clusterIPs", ""));
        } else if ips[0] != cluster_ip {
            errs.push(invalid_raw(
                "spec.clusterIPs",
                &go_strings(ips_val),
                "first value must match `clusterIP`",
            ));
        }
    } else if !ips.is_empty() {
        errs.push(invalid_raw(
            "spec.clusterIPs",
            &go_strings(ips_val),
            "must be empty when `clusterIP` is not specified",
        ));
    }
    let families = strings(spec, "ipFamilies");
    let mut seen = BTreeSet::new();
    for (i, f) in families.iter().enumerate() {
        if f != "IPv4" && f != "IPv6" {
            errs.push(FieldError::not_supported(
                format!("spec.ipFamilies[{i}]"),
                json!(f),
                &["IPv4", "IPv6"],
            ));
        }
        if !seen.insert(f.clone()) {
            errs.push(FieldError::duplicate(
                format!("spec.ipFamilies[{i}]"),
                json!(f),
            ));
        }
    }
    if let Some(pol) = get(spec, "ipFamilyPolicy").and_then(Value::as_str)
        && !matches!(pol, "SingleStack" | "PreferDualStack" | "RequireDualStack")
    {
        errs.push(FieldError::not_supported(
            "spec.ipFamilyPolicy",
            json!(pol),
            &["PreferDualStack", "RequireDualStack", "SingleStack"],
        ));
    }
    let mut invalid_ips = false;
    for (i, ip) in ips.iter().enumerate() {
        if i == 0 && ip == "None" {
            if ips.len() > 1 {
                invalid_ips = true;
                errs.push(invalid_raw(
                    "spec.clusterIPs",
                    &go_strings(ips_val),
                    "'None' must be the first and only value",
                ));
            }
            continue;
        }
        let before = errs.len();
        valid_ip(errs, ip, &format!("spec.clusterIPs[{i}]"));
        invalid_ips |= errs.len() != before;
    }
    if ips.len() > 2 {
        errs.push(invalid_raw(
            "spec.clusterIPs",
            &go_strings(ips_val),
            "may only hold up to 2 values",
        ));
    }
    if invalid_ips {
        return;
    }
    if ips.len() > 1 {
        let v6 = ips.iter().filter(|ip| is_ipv6(ip)).count();
        if v6 != 1 || ips.len() != 2 {
            errs.push(invalid_raw(
                "spec.clusterIPs",
                &go_strings(ips_val),
                "may specify no more than one IP for each IP family",
            ));
        }
    }
    if !is_headless(spec) && !ips.is_empty() && !families.is_empty() {
        for (i, ip) in ips.iter().enumerate() {
            let Some(f) = families.get(i) else {
                break;
            };
            if f == "IPv4" && is_ipv6(ip) {
                errs.push(FieldError::invalid(
                    format!("spec.clusterIPs[{i}]"),
                    json!(ip),
                    format!("expected an IPv4 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
            if f == "IPv6" && !is_ipv6(ip) {
                errs.push(FieldError::invalid(
                    format!("spec.clusterIPs[{i}]"),
                    json!(ip),
                    format!("expected an IPv6 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
        }
    }
}

/// `ValidateServiceUpdate` (spec part). `new` has had the allocated values of `old` copied in.
pub(super) fn validate_service_update(new: &Value, old: &Value) -> Errs {
    let mut errs = Vec::new();
    let ns = spec_of(new);
    let os = spec_of(old);
    let nt = st(ns, "type");
    let ot = st(os, "type");
    let new_ips = strings(ns, "clusterIPs");
    let old_ips = strings(os, "clusterIPs");
    let rendered_new = go_strings(get(ns, "clusterIPs"));
    // validateUpgradeDowngradeClusterIPs
    if nt != "ExternalName" && ot != "ExternalName" && !(is_headless(ns) && is_headless(os)) {
        if old_ips.len() == new_ips.len() {
            for (i, ip) in old_ips.iter().enumerate() {
                if *ip != new_ips[i] {
                    errs.push(invalid_raw(
                        format!("spec.clusterIPs[{i}]"),
                        &rendered_new,
                        "may not change once set",
                    ));
                }
            }
        } else if old_ips.len() > new_ips.len() {
            if new_ips.is_empty() {
                errs.push(invalid_raw(
                    "spec.clusterIPs[0]",
                    &rendered_new,
                    "primary clusterIP can not be unset",
                ));
            }
            if !old_ips.is_empty() && !new_ips.is_empty() && new_ips[0] != old_ips[0] {
                errs.push(invalid_raw(
                    "spec.clusterIPs[0]",
                    &rendered_new,
                    "may not change once set",
                ));
            }
            if new_ips.len() == 1 && st(ns, "ipFamilyPolicy") != "SingleStack" {
                errs.push(FieldError::invalid(
                    "spec.ipFamilyPolicy",
                    get(ns, "ipFamilyPolicy").cloned().unwrap_or(Value::Null),
                    "must be set to 'SingleStack' when releasing the secondary clusterIP",
                ));
            }
        } else if !old_ips.is_empty() && new_ips[0] != old_ips[0] {
            errs.push(invalid_raw(
                "spec.clusterIPs[0]",
                &rendered_new,
                "may not change once set",
            ));
        }
    }
    // validateUpgradeDowngradeIPFamilies
    if nt != "ExternalName"
        && ot != "ExternalName"
        && is_headless(ns) == is_headless(os)
        && !is_headless(ns)
    {
        let nf = strings(ns, "ipFamilies");
        let of = strings(os, "ipFamilies");
        let rendered = go_strings(get(ns, "ipFamilies"));
        if nf.len() == of.len() {
            for (i, f) in of.iter().enumerate() {
                if *f != nf[i] {
                    errs.push(invalid_raw(
                        "spec.ipFamilies[0]",
                        &rendered,
                        "may not change once set",
                    ));
                }
            }
        } else if of.len() > nf.len() {
            if new_ips.is_empty() {
                errs.push(invalid_raw(
                    "spec.ipFamilies[0]",
                    &rendered,
                    "primary ipFamily can not be unset",
                ));
            }
            if !nf.is_empty() && nf[0] != of[0] {
                errs.push(invalid_raw(
                    "spec.ipFamilies[0]",
                    &rendered_new,
                    "may not change once set",
                ));
            }
            if nf.len() == 1 && st(ns, "ipFamilyPolicy") != "SingleStack" {
                errs.push(FieldError::invalid(
                    "spec.ipFamilyPolicy",
                    get(ns, "ipFamilyPolicy").cloned().unwrap_or(Value::Null),
                    "must be set to 'SingleStack' when releasing the secondary ipFamily",
                ));
            }
        } else if !of.is_empty() && !nf.is_empty() && nf[0] != of[0] {
            errs.push(invalid_raw(
                "spec.ipFamilies[0]",
                &rendered_new,
                "may not change once set",
            ));
        }
    }
    validate_lb_class_update(&mut errs, ns, os);
    let needs_hc =
        |s: &Value| st(s, "type") == "LoadBalancer" && st(s, "externalTrafficPolicy") == "Local";
    if needs_hc(os)
        && needs_hc(ns)
        && int(ns, "healthCheckNodePort") != int(os, "healthCheckNodePort")
    {
        errs.push(FieldError::forbidden(
            "spec.healthCheckNodePort",
            "field is immutable",
        ));
    }
    errs.extend(validate_service(new));
    errs
}

fn validate_lb_class_update(errs: &mut Errs, ns: &Value, os: &Value) {
    let lbc = get(ns, "loadBalancerClass");
    if st(os, "type") == "LoadBalancer"
        && st(ns, "type") == "LoadBalancer"
        && get(os, "loadBalancerClass") != lbc
    {
        errs.push(FieldError::invalid(
            "spec.loadBalancerClass",
            lbc.cloned().unwrap_or(Value::Null),
            "may not change once set",
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// Endpoints and EndpointSlices.
// ---------------------------------------------------------------------------------------------

/// `ValidateEndpoints` (below metadata).
pub(super) fn validate_endpoints(obj: &Value) -> Errs {
    let mut errs = Vec::new();
    for (i, ss) in arr(obj, "subsets").iter().enumerate() {
        let p = format!("subsets[{i}]");
        if arr(ss, "addresses").is_empty() && arr(ss, "notReadyAddresses").is_empty() {
            errs.push(FieldError::required(
                p.clone(),
                "must specify `addresses` or `notReadyAddresses`",
            ));
        }
        for k in ["addresses", "notReadyAddresses"] {
            for (j, a) in arr(ss, k).iter().enumerate() {
                let ap = format!("{p}.{k}[{j}]");
                let ip = st(a, "ip");
                valid_ip(&mut errs, ip, &child(&ap, "ip"));
                let h = st(a, "hostname");
                if !h.is_empty() {
                    dns1123_label(&mut errs, h, &child(&ap, "hostname"));
                }
                if let Some(n) = get(a, "nodeName").and_then(Value::as_str) {
                    dns1123_subdomain(&mut errs, n, &child(&ap, "nodeName"));
                }
                non_special_ip(&mut errs, ip, &child(&ap, "ip"));
            }
        }
        let ports = arr(ss, "ports");
        for (j, port) in ports.iter().enumerate() {
            let pp = format!("{p}.ports[{j}]");
            let name = st(port, "name");
            if ports.len() > 1 && name.is_empty() {
                errs.push(FieldError::required(child(&pp, "name"), ""));
            } else if !name.is_empty() {
                dns1123_label(&mut errs, name, &child(&pp, "name"));
            }
            let n = int(port, "port").unwrap_or(0);
            for m in is_valid_port_num(n) {
                errs.push(FieldError::invalid(child(&pp, "port"), json!(n), m));
            }
            protocol(&mut errs, st(port, "protocol"), &child(&pp, "protocol"));
            if let Some(ap) = get(port, "appProtocol").and_then(Value::as_str) {
                qualified_name(&mut errs, ap, &child(&pp, "appProtocol"));
            }
        }
    }
    errs
}

/// `ValidateEndpointSlice` (below metadata).
pub(super) fn validate_endpoint_slice(obj: &Value) -> Errs {
    let mut errs = Vec::new();
    let address_type = st(obj, "addressType");
    let endpoints = arr(obj, "endpoints");
    if endpoints.len() > 1000 {
        errs.push(FieldError::new(
            FieldErrorKind::TooMany,
            "endpoints",
            Some(json!(endpoints.len())),
            "must have at most 1000 items",
        ));
    }
    for (i, ep) in endpoints.iter().enumerate() {
        let p = format!("endpoints[{i}]");
        let addrs = strings(ep, "addresses");
        let ap = child(&p, "addresses");
        if addrs.is_empty() {
            errs.push(FieldError::required(
                ap.clone(),
                "must contain at least 1 address",
            ));
        } else if addrs.len() > 100 {
            errs.push(FieldError::new(
                FieldErrorKind::TooMany,
                ap.clone(),
                Some(json!(addrs.len())),
                "must have at most 100 items",
            ));
        }
        for (j, a) in addrs.iter().enumerate() {
            let aip = format!("{ap}[{j}]");
            match address_type {
                "IPv4" => {
                    if !matches!(parse_ip_sloppy(a), Some(std::net::IpAddr::V4(_))) {
                        errs.push(FieldError::invalid(
                            aip,
                            json!(a),
                            "must be a valid IPv4 address",
                        ));
                    } else {
                        non_special_ip(&mut errs, a, &aip);
                    }
                }
                "IPv6" => {
                    if !is_ipv6(a) {
                        errs.push(FieldError::invalid(
                            aip,
                            json!(a),
                            "must be a valid IPv6 address",
                        ));
                    } else {
                        non_special_ip(&mut errs, a, &aip);
                    }
                }
                "FQDN" => dns1123_subdomain(&mut errs, a, &aip),
                _ => {}
            }
        }
        if let Some(h) = get(ep, "hostname").and_then(Value::as_str) {
            dns1123_label(&mut errs, h, &child(&p, "hostname"));
        }
        if let Some(n) = get(ep, "nodeName").and_then(Value::as_str) {
            dns1123_subdomain(&mut errs, n, &child(&p, "nodeName"));
        }
        if let Some(t) = get(ep, "deprecatedTopology") {
            errs.extend(names::validate_labels(t, &child(&p, "deprecatedTopology")));
        }
    }
    let ports = arr(obj, "ports");
    if ports.len() > 20000 {
        errs.push(FieldError::new(
            FieldErrorKind::TooMany,
            "ports",
            Some(json!(ports.len())),
            "must have at most 20000 items",
        ));
    }
    let mut names_seen = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let p = format!("ports[{i}]");
        if let Some(name) = get(port, "name").and_then(Value::as_str) {
            if !name.is_empty() {
                dns1123_label(&mut errs, name, &child(&p, "name"));
            }
            if !names_seen.insert(name) {
                errs.push(FieldError::duplicate(child(&p, "name"), json!(name)));
            }
        }
        match get(port, "protocol").and_then(Value::as_str) {
            None => errs.push(FieldError::required(child(&p, "protocol"), "")),
            Some(pr) => protocol(&mut errs, pr, &child(&p, "protocol")),
        }
        if let Some(n) = int(port, "port") {
            for m in is_valid_port_num(n) {
                errs.push(FieldError::invalid(child(&p, "port"), json!(n), m));
            }
        }
        if let Some(ap) = get(port, "appProtocol").and_then(Value::as_str) {
            qualified_name(&mut errs, ap, &child(&p, "appProtocol"));
        }
    }
    match address_type {
        "" => errs.push(FieldError::required("addressType", "")),
        "IPv4" | "IPv6" | "FQDN" => {}
        other => errs.push(FieldError::not_supported(
            "addressType",
            json!(other),
            &["FQDN", "IPv4", "IPv6"],
        )),
    }
    errs
}

pub(super) fn validate_endpoint_slice_update(new: &Value, old: &Value) -> Errs {
    let mut errs = validate_endpoint_slice(new);
    immutable_scalar(
        &mut errs,
        get(new, "addressType"),
        get(old, "addressType"),
        "addressType",
    );
    errs
}

// ---------------------------------------------------------------------------------------------
// Ingresses and IngressClasses.
// ---------------------------------------------------------------------------------------------

fn validate_ingress_backend(errs: &mut Errs, b: &Value, path: &str) {
    let resource = get(b, "resource");
    let service = get(b, "service");
    match (resource, service) {
        (Some(_), Some(_)) => errs.push(FieldError::invalid(
            path,
            json!(""),
            "cannot set both resource and service backends",
        )),
        (Some(r), None) => {
            let p = child(path, "resource");
            if let Some(g) = get(r, "apiGroup").and_then(Value::as_str) {
                dns1123_subdomain(errs, g, &child(&p, "apiGroup"));
            }
            if st(r, "kind").is_empty() {
                errs.push(FieldError::required(child(&p, "kind"), ""));
            }
            if st(r, "name").is_empty() {
                errs.push(FieldError::required(child(&p, "name"), ""));
            }
        }
        (None, Some(s)) => {
            let name = st(s, "name");
            let np = format!("{path}.service.name");
            if name.is_empty() {
                errs.push(FieldError::required(np, ""));
            } else {
                for m in names::is_dns1035_label(name) {
                    errs.push(FieldError::invalid(np.clone(), json!(name), m));
                }
            }
            let port = get(s, "port").unwrap_or(EMPTY);
            let pname = st(port, "name");
            let pnum = int(port, "number").unwrap_or(0);
            if !pname.is_empty() && pnum != 0 {
                errs.push(FieldError::invalid(
                    path,
                    json!(""),
                    "cannot set both port name & port number",
                ));
            } else if !pname.is_empty() {
                for m in is_valid_port_name(pname) {
                    errs.push(FieldError::invalid(
                        format!("{path}.service.port.name"),
                        json!(pname),
                        m,
                    ));
                }
            } else if pnum != 0 {
                for m in is_valid_port_num(pnum) {
                    errs.push(FieldError::invalid(
                        format!("{path}.service.port.number"),
                        json!(pnum),
                        m,
                    ));
                }
            } else {
                errs.push(FieldError::required(
                    path,
                    "port name or number is required",
                ));
            }
        }
        (None, None) => errs.push(FieldError::invalid(
            path,
            json!(""),
            "resource or service backend is required",
        )),
    }
}

/// `IsWildcardDNS1123Subdomain`.
fn is_wildcard_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 253 {
        errs.push("must be no more than 253 characters".to_string());
    }
    let ok = value
        .strip_prefix("*.")
        .is_some_and(|rest| names::is_dns1123_subdomain(rest).is_empty());
    if !ok {
        errs.push(regex_error(
            "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character",
            "\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
            &["*.example.com"],
        ));
    }
    errs
}

fn validate_ingress_host(errs: &mut Errs, host: &str, path: &str) {
    if host.contains('*') {
        for m in is_wildcard_dns1123_subdomain(host) {
            errs.push(FieldError::invalid(path, json!(host), m));
        }
    } else {
        dns1123_subdomain(errs, host, path);
    }
}

/// `ValidateIngressSpec` (networking.k8s.io/v1).
pub(super) fn validate_ingress(obj: &Value) -> Errs {
    let mut errs = Vec::new();
    let spec = spec_of(obj);
    let rules = arr(spec, "rules");
    let default_backend = get(spec, "defaultBackend");
    if rules.is_empty() && default_backend.is_none() {
        errs.push(invalid_raw(
            "spec",
            if get(spec, "rules").is_some() {
                "[]networking.IngressRule{}"
            } else {
                "[]networking.IngressRule(nil)"
            },
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    if let Some(b) = default_backend {
        validate_ingress_backend(&mut errs, b, "spec.defaultBackend");
    }
    for (i, r) in rules.iter().enumerate() {
        let p = format!("spec.rules[{i}]");
        let host = st(r, "host");
        if !host.is_empty() {
            if parse_ip_sloppy(host).is_some() {
                errs.push(FieldError::invalid(
                    child(&p, "host"),
                    json!(host),
                    "must be a DNS name, not an IP address",
                ));
            }
            validate_ingress_host(&mut errs, host, &child(&p, "host"));
        }
        let Some(http) = get(r, "http") else {
            continue;
        };
        let hp = child(&p, "http");
        let paths = arr(http, "paths");
        if paths.is_empty() {
            errs.push(FieldError::required(child(&hp, "paths"), ""));
        }
        for (j, path) in paths.iter().enumerate() {
            let pp = format!("{hp}.paths[{j}]");
            let Some(pt) = get(path, "pathType").and_then(Value::as_str) else {
                errs.push(FieldError::required(
                    child(&pp, "pathType"),
                    "pathType must be specified",
                ));
                continue;
            };
            let pv = st(path, "path");
            match pt {
                "Exact" | "Prefix" => {
                    if !pv.starts_with('/') {
                        errs.push(FieldError::invalid(
                            child(&pp, "path"),
                            json!(pv),
                            "must be an absolute path",
                        ));
                    }
                    if !pv.is_empty() {
                        for seq in ["//", "/./", "/../", "%2f", "%2F"] {
                            if pv.contains(seq) {
                                errs.push(FieldError::invalid(
                                    child(&pp, "path"),
                                    json!(pv),
                                    format!("must not contain '{seq}'"),
                                ));
                            }
                        }
                        for suf in ["/..", "/."] {
                            if pv.ends_with(suf) {
                                errs.push(FieldError::invalid(
                                    child(&pp, "path"),
                                    json!(pv),
                                    format!("cannot end with '{suf}'"),
                                ));
                            }
                        }
                    }
                }
                "ImplementationSpecific" => {
                    if !pv.is_empty() && !pv.starts_with('/') {
                        errs.push(FieldError::invalid(
                            child(&pp, "path"),
                            json!(pv),
                            "must be an absolute path",
                        ));
                    }
                }
                other => errs.push(FieldError::not_supported(
                    child(&pp, "pathType"),
                    json!(other),
                    &["Exact", "ImplementationSpecific", "Prefix"],
                )),
            }
            validate_ingress_backend(
                &mut errs,
                get(path, "backend").unwrap_or(EMPTY),
                &child(&pp, "backend"),
            );
        }
    }
    for (i, tls) in arr(spec, "tls").iter().enumerate() {
        for (j, h) in strings(tls, "hosts").iter().enumerate() {
            validate_ingress_host(&mut errs, h, &format!("spec.tls[{i}].hosts[{j}]"));
        }
    }
    if let Some(c) = get(spec, "ingressClassName").and_then(Value::as_str) {
        dns1123_subdomain(&mut errs, c, "spec.ingressClassName");
    }
    errs
}

/// `IsDomainPrefixedPath`.
fn domain_prefixed_path(errs: &mut Errs, value: &str, path: &str) {
    if value.is_empty() {
        errs.push(FieldError::required(path, ""));
        return;
    }
    let Some((host, rest)) = value
        .split_once('/')
        .filter(|(h, r)| !h.is_empty() && !r.is_empty())
    else {
        errs.push(FieldError::invalid(
            path,
            json!(value),
            "must be a domain-prefixed path (such as \"acme.io/foo\")",
        ));
        return;
    };
    dns1123_subdomain(errs, host, path);
    let ok = rest
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/-._~%!$&'()*+,;=:".contains(&b));
    if !ok {
        errs.push(FieldError::invalid(
            path,
            json!(rest),
            regex_error("Invalid path", "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+", &[]),
        ));
    }
}

/// `ValidateIngressClass` (spec part).
pub(super) fn validate_ingress_class(obj: &Value) -> Errs {
    let mut errs = Vec::new();
    let spec = spec_of(obj);
    let controller = st(spec, "controller");
    if controller.len() > 250 {
        errs.push(FieldError::too_long("spec.controller", json!(""), 250));
    }
    domain_prefixed_path(&mut errs, controller, "spec.controller");
    if let Some(p) = get(spec, "parameters") {
        let pp = "spec.parameters";
        if st(p, "kind").is_empty() {
            errs.push(FieldError::required(format!("{pp}.kind"), ""));
        }
        if st(p, "name").is_empty() {
            errs.push(FieldError::required(format!("{pp}.name"), ""));
        }
        match get(p, "scope").and_then(Value::as_str) {
            None => errs.push(FieldError::required(
                format!("{pp}.scope"),
                "`parameters.scope` is required",
            )),
            Some("Namespace") => {
                if get(p, "namespace").is_none() {
                    errs.push(FieldError::required(
                        format!("{pp}.namespace"),
                        "`parameters.scope` is set to 'Namespace'",
                    ));
                }
            }
            Some("Cluster") => {
                if get(p, "namespace").is_some() {
                    errs.push(FieldError::forbidden(
                        format!("{pp}.namespace"),
                        "`parameters.scope` is set to 'Cluster'",
                    ));
                }
            }
            Some(other) => errs.push(FieldError::not_supported(
                format!("{pp}.scope"),
                json!(other),
                &["Cluster", "Namespace"],
            )),
        }
    }
    errs
}

pub(super) fn validate_ingress_class_update(new: &Value, old: &Value) -> Errs {
    let mut errs = Vec::new();
    immutable_scalar(
        &mut errs,
        spec_of(new).get("controller"),
        spec_of(old).get("controller"),
        "spec.controller",
    );
    errs.extend(validate_ingress_class(new));
    errs
}

// ---------------------------------------------------------------------------------------------
// NetworkPolicies.
// ---------------------------------------------------------------------------------------------

fn validate_np_ports(errs: &mut Errs, ports: &[Value], path: &str) {
    for (i, p) in ports.iter().enumerate() {
        let pp = index(path, i);
        if let Some(pr) = get(p, "protocol").and_then(Value::as_str) {
            protocol(errs, pr, &child(&pp, "protocol"));
        }
        match p.get("port").filter(|v| !v.is_null()) {
            Some(Value::String(s)) => {
                for m in is_valid_port_name(s) {
                    errs.push(FieldError::invalid(child(&pp, "port"), json!(s), m));
                }
                if get(p, "endPort").is_some() {
                    errs.push(FieldError::forbidden(
                        child(&pp, "endPort"),
                        "may not be specified when `port` is non-numeric",
                    ));
                }
            }
            Some(n) => {
                let port = n.as_i64().unwrap_or(0);
                for m in is_valid_port_num(port) {
                    errs.push(FieldError::invalid(child(&pp, "port"), json!(port), m));
                }
                if let Some(end) = int(p, "endPort") {
                    if end < port {
                        errs.push(FieldError::invalid(
                            child(&pp, "endPort"),
                            json!(end),
                            "must be greater than or equal to `port`",
                        ));
                    }
                    for m in is_valid_port_num(end) {
                        errs.push(FieldError::invalid(child(&pp, "endPort"), json!(end), m));
                    }
                }
            }
            None => {
                if get(p, "endPort").is_some() {
                    errs.push(FieldError::required(
                        child(&pp, "port"),
                        "must be specified when `endPort` is specified",
                    ));
                }
            }
        }
    }
}

fn validate_np_peers(errs: &mut Errs, peers: &[Value], path: &str) {
    for (i, peer) in peers.iter().enumerate() {
        let pp = index(path, i);
        let mut n = 0;
        if let Some(s) = get(peer, "podSelector") {
            n += 1;
            errs.extend(names::validate_label_selector(
                s,
                &child(&pp, "podSelector"),
            ));
        }
        if let Some(s) = get(peer, "namespaceSelector") {
            n += 1;
            errs.extend(names::validate_label_selector(
                s,
                &child(&pp, "namespaceSelector"),
            ));
        }
        if let Some(b) = get(peer, "ipBlock") {
            n += 1;
            let bp = child(&pp, "ipBlock");
            let cidr = st(b, "cidr");
            if cidr.is_empty() {
                errs.push(FieldError::required(child(&bp, "cidr"), ""));
            } else {
                valid_cidr(errs, cidr, &child(&bp, "cidr"));
            }
            for (j, e) in strings(b, "except").iter().enumerate() {
                valid_cidr(errs, e, &format!("{bp}.except[{j}]"));
            }
        }
        if n == 0 {
            errs.push(FieldError::required(pp, "must specify a peer"));
        } else if n > 1 && get(peer, "ipBlock").is_some() {
            errs.push(FieldError::forbidden(
                pp,
                "may not specify both ipBlock and another peer",
            ));
        }
    }
}

/// `ValidateNetworkPolicySpec`.
pub(super) fn validate_network_policy(obj: &Value) -> Errs {
    let mut errs = Vec::new();
    let spec = spec_of(obj);
    if let Some(s) = get(spec, "podSelector") {
        errs.extend(names::validate_label_selector(s, "spec.podSelector"));
    }
    for (i, r) in arr(spec, "ingress").iter().enumerate() {
        validate_np_ports(
            &mut errs,
            arr(r, "ports"),
            &format!("spec.ingress[{i}].ports"),
        );
        validate_np_peers(
            &mut errs,
            arr(r, "from"),
            &format!("spec.ingress[{i}].from"),
        );
    }
    for (i, r) in arr(spec, "egress").iter().enumerate() {
        validate_np_ports(
            &mut errs,
            arr(r, "ports"),
            &format!("spec.egress[{i}].ports"),
        );
        validate_np_peers(&mut errs, arr(r, "to"), &format!("spec.egress[{i}].to"));
    }
    let types = strings(spec, "policyTypes");
    for (i, t) in types.iter().enumerate() {
        if t != "Ingress" && t != "Egress" {
            errs.push(FieldError::not_supported(
                format!("spec.policyTypes[{i}]"),
                json!(t),
                &["Egress", "Ingress"],
            ));
        }
    }
    if types.len() > 2 {
        errs.push(invalid_raw(
            "spec.policyTypes",
            &names::go_string_slice(&types),
            "may not specify more than two policyTypes",
        ));
    }
    errs
}
