//! ConfigMaps, Secrets, Namespaces, Nodes, PersistentVolumeClaims, ResourceQuotas, LimitRanges,
//! Events, HorizontalPodAutoscalers, PodDisruptionBudgets, RBAC, PriorityClasses and Leases.

use super::pod::{
    is_extended_resource_name, is_native_resource, taint_effect, validate_resource_name,
    validate_resource_quantity_value,
};
use super::*;
use std::collections::{BTreeMap, BTreeSet};

const EMPTY: &Value = &Value::Null;
const MAX_SECRET_SIZE: usize = 1024 * 1024;
const IMMUTABLE_WHEN_SET: &str = "field is immutable when `immutable` is set";

fn spec_of(obj: &Value) -> &Value {
    get(obj, "spec").unwrap_or(EMPTY)
}

/// Decodes standard base64 (padding optional); `None` when malformed.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut buf: u32 = 0;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b'\r' | b'\n' => continue,
            _ => return None,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn decoded_len(v: &Value) -> usize {
    v.as_str()
        .and_then(base64_decode)
        .map_or_else(|| v.as_str().map_or(0, str::len), |b| b.len())
}

// ---------------------------------------------------------------------------------------------
// ConfigMaps and Secrets.
// ---------------------------------------------------------------------------------------------

/// `ValidateConfigMap` (below metadata).
pub(super) fn validate_config_map(obj: &Value) -> Errs {
    let mut errs = Vec::new();
    let empty = Map::new();
    let data = super::obj(obj, "data").unwrap_or(&empty);
    let binary = super::obj(obj, "binaryData").unwrap_or(&empty);
    let mut total = 0;
    for (k, v) in data {
        for m in is_config_map_key(k) {
            errs.push(FieldError::invalid(key("data", k), json!(k), m));
        }
        if binary.contains_key(k) {
            errs.push(FieldError::invalid(
                key("data", k),
                json!(k),
                "duplicate of key present in binaryData",
            ));
        }
        total += v.as_str().map_or(0, str::len);
    }
    for (k, v) in binary {
        for m in is_config_map_key(k) {
            errs.push(FieldError::invalid(key("binaryData", k), json!(k), m));
        }
        total += decoded_len(v);
    }
    if total > MAX_SECRET_SIZE {
        errs.push(FieldError::too_long("", json!(""), MAX_SECRET_SIZE));
    }
    errs
}

fn immutable_data_checks(errs: &mut Errs, new: &Value, old: &Value, fields: &[&str]) {
    if boolean(old, "immutable") == Some(true) {
        if boolean(new, "immutable") != Some(true) {
            errs.push(FieldError::forbidden("immutable", IMMUTABLE_WHEN_SET));
        }
        for f in fields {
            let n = get(new, f).cloned().unwrap_or(Value::Null);
            let o = get(old, f).cloned().unwrap_or(Value::Null);
            // reflect.DeepEqual: an empty map differs from nil.
            if n != o {
                errs.push(FieldError::forbidden(*f, IMMUTABLE_WHEN_SET));
            }
        }
    }
}

pub(super) fn validate_config_map_update(new: &Value, old: &Value) -> Errs {
    let mut errs = Vec::new();
    immutable_data_checks(&mut errs, new, old, &["data", "binaryData"]);
    errs.extend(validate_config_map(new));
    errs
}

/// `ValidateSecret` (below metadata).
pub(super) fn validate_secret(obj: &Value) -> Errs {
    let mut errs = Vec::new();
    let empty = Map::new();
    let data = super::obj(obj, "data").unwrap_or(&empty);
    let mut total = 0;
    for (k, v) in data {
        for m in is_config_map_key(k) {
            errs.push(FieldError::invalid(key("data", k), json!(k), m));
        }
        total += decoded_len(v);
    }
    if total > MAX_SECRET_SIZE {
        errs.push(FieldError::too_long("data", json!(""), MAX_SECRET_SIZE));
    }
    let has = |k: &str| data.contains_key(k);
    let bytes = |k: &str| data.get(k).and_then(Value::as_str).and_then(base64_decode);
    match st(obj, "type") {
        "kubernetes.io/service-account-token" => {
            let name = obj
                .pointer("/metadata/annotations/kubernetes.io~1service-account.name")
                .and_then(Value::as_str)
                .unwrap_or("");
            if name.is_empty() {
                errs.push(FieldError::required(
                    "metadata.annotations[kubernetes.io/service-account.name]",
                    "",
                ));
            }
        }
        "kubernetes.io/dockercfg" | "kubernetes.io/dockerconfigjson" => {
            let k = if st(obj, "type") == "kubernetes.io/dockercfg" {
                ".dockercfg"
            } else {
                ".dockerconfigjson"
            };
            if !has(k) {
                errs.push(FieldError::required(key("data", k), ""));
            } else {
                let ok = bytes(k)
                    .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                    .is_some_and(|v| v.is_object());
                if !ok {
                    errs.push(FieldError::invalid(
                        key("data", k),
                        json!("<secret contents redacted>"),
                        "invalid character looking for beginning of value",
                    ));
                }
            }
        }
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
            errs.push(FieldError::required("data[username]", ""));
            errs.push(FieldError::required("data[password]", ""));
        }
        "kubernetes.io/ssh-auth" if bytes("ssh-privatekey").is_none_or(|b| b.is_empty()) => {
            errs.push(FieldError::required("data[ssh-privatekey]", ""));
        }
        "kubernetes.io/tls" => {
            if !has("tls.crt") {
                errs.push(FieldError::required("data[tls.crt]", ""));
            }
            if !has("tls.key") {
                errs.push(FieldError::required("data[tls.key]", ""));
            }
        }
        _ => {}
    }
    errs
}

pub(super) fn validate_secret_update(new: &Value, old: &Value) -> Errs {
    let mut errs = Vec::new();
    immutable_scalar(&mut errs, get(new, "type"), get(old, "type"), "type");
    immutable_data_checks(&mut errs, new, old, &["data"]);
    errs.extend(validate_secret(new));
    errs
}

// ---------------------------------------------------------------------------------------------
// Namespaces and Nodes.
// ---------------------------------------------------------------------------------------------

/// `validateFinalizerName`.
fn finalizer_name(errs: &mut Errs, name: &str, path: &str) {
    qualified_name(errs, name, path);
    if !name.contains('/') && !matches!(name, "kubernetes" | "orphan" | "foregroundDeletion") {
        errs.push(FieldError::invalid(
            path,
            json!(name),
            "name is neither a standard finalizer name nor is it fully qualified",
        ));
    }
}

/// `ValidateNamespace` (spec part).
pub(super) fn validate_namespace(obj: &Value) -> Errs {
    let mut errs = Vec::new();
    for f in strings(spec_of(obj), "finalizers") {
        finalizer_name(&mut errs, &f, "spec.finalizers");
    }
    errs
}

fn go_taint(t: &Value) -> String {
    format!(
        "core.Taint{{Key:{}, Value:{}, Effect:{}, TimeAdded:(*v1.Time)(nil)}}",
        names::go_quote(st(t, "key")),
        names::go_quote(st(t, "value")),
        names::go_quote(st(t, "effect"))
    )
}

fn validate_node_taints(errs: &mut Errs, taints: &[Value]) {
    // Upstream puts these under `metadata.taints`.
    let path = "metadata.taints";
    let mut unique: BTreeSet<(String, String)> = BTreeSet::new();
    for (i, t) in taints.iter().enumerate() {
        let ip = index(path, i);
        label_name(errs, st(t, "key"), &child(&ip, "key"));
        let v = st(t, "value");
        let msgs = names::is_valid_label_value(v);
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(
                child(&ip, "value"),
                json!(v),
                msgs.join(";"),
            ));
        }
        taint_effect(errs, st(t, "effect"), false, &child(&ip, "effect"));
        let k = (st(t, "effect").to_string(), st(t, "key").to_string());
        if unique.contains(&k) {
            errs.push(FieldError::new(
                FieldErrorKind::Duplicate,
                ip,
                None,
                format!(
                    "{}: taints must be unique by key and effect pair",
                    go_taint(t)
                ),
            ));
            continue;
        }
        unique.insert(k);
    }
}

/// `ValidateNode` (below metadata).
pub(super) fn validate_node(obj: &Value) -> Errs {
    let mut errs = Vec::new();
    let spec = spec_of(obj);
    validate_node_taints(&mut errs, arr(spec, "taints"));
    validate_node_resources(&mut errs, obj);
    let cidrs = strings(spec, "podCIDRs");
    for (i, c) in cidrs.iter().enumerate() {
        valid_cidr(&mut errs, c, &format!("spec.podCIDRs[{i}]"));
    }
    if cidrs.len() > 1 {
        let v6 = cidrs
            .iter()
            .filter(|c| c.split('/').next().is_some_and(|ip| ip.contains(':')))
            .count();
        if v6 != 1 || cidrs.len() > 2 {
            errs.push(invalid_raw(
                "spec.podCIDRs",
                &names::go_string_slice(&cidrs),
                "may specify no more than one CIDR for each IP family",
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, c) in cidrs.iter().enumerate() {
            if !seen.insert(c) {
                errs.push(FieldError::duplicate(
                    format!("spec.podCIDRs[{i}]"),
                    json!(c),
                ));
            }
        }
    }
    errs
}

fn validate_node_resources(errs: &mut Errs, obj: &Value) {
    for k in ["capacity", "allocatable"] {
        if let Some(m) = obj
            .pointer(&format!("/status/{k}"))
            .and_then(Value::as_object)
        {
            for (name, v) in m {
                let p = format!("status.{k}.{name}");
                if let Some(q) = parse_quantity(errs, v, &p) {
                    validate_resource_quantity_value(errs, name, &q, &p);
                }
            }
        }
    }
}

pub(super) fn validate_node_update(new: &Value, old: &Value) -> Errs {
    let mut errs = Vec::new();
    let ns = spec_of(new);
    let os = spec_of(old);
    validate_node_resources(&mut errs, new);
    let mut addrs = BTreeSet::new();
    for (i, a) in arr(new.get("status").unwrap_or(EMPTY), "addresses")
        .iter()
        .enumerate()
    {
        let k = (st(a, "type").to_string(), st(a, "address").to_string());
        if !addrs.insert(k) {
            errs.push(FieldError::new(
                FieldErrorKind::Duplicate,
                format!("status.addresses[{i}]"),
                None,
                format!(
                    "core.NodeAddress{{Type:{}, Address:{}}}",
                    names::go_quote(st(a, "type")),
                    names::go_quote(st(a, "address"))
                ),
            ));
        }
    }
    let old_cidrs = strings(os, "podCIDRs");
    let new_cidrs = strings(ns, "podCIDRs");
    if !old_cidrs.is_empty() {
        let msg = "node updates may not change podCIDR except from \"\" to valid";
        if old_cidrs.len() != new_cidrs.len() {
            errs.push(FieldError::forbidden("spec.podCIDRs", msg));
        } else {
            for (i, c) in old_cidrs.iter().enumerate() {
                if *c != new_cidrs[i] {
                    errs.push(FieldError::forbidden("spec.podCIDRs", msg));
                }
            }
        }
    }
    let old_pid = st(os, "providerID");
    if !old_pid.is_empty() && old_pid != st(ns, "providerID") {
        errs.push(FieldError::forbidden(
            "spec.providerID",
            "node updates may not change providerID except from \"\" to valid",
        ));
    }
    validate_node_taints(&mut errs, arr(ns, "taints"));
    if st(ns, "externalID") != st(os, "externalID") {
        errs.push(FieldError::forbidden(
            "spec.externalID",
            "may not be updated",
        ));
    }
    errs
}

// ---------------------------------------------------------------------------------------------
// PersistentVolumeClaims.
// ---------------------------------------------------------------------------------------------

const ACCESS_MODES: &[&str] = &[
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];

/// `ValidatePersistentVolumeClaimSpec`.
pub(crate) fn validate_pvc_spec(errs: &mut Errs, spec: &Value, path: &str) {
    let modes = strings(spec, "accessModes");
    if modes.is_empty() {
        errs.push(FieldError::required(
            child(path, "accessModes"),
            "at least 1 access mode is required",
        ));
    }
    if let Some(sel) = get(spec, "selector") {
        errs.extend(names::validate_label_selector(
            sel,
            &child(path, "selector"),
        ));
    }
    let mut rwop = false;
    let mut other = false;
    for m in &modes {
        if !ACCESS_MODES.contains(&m.as_str()) {
            errs.push(FieldError::not_supported(
                child(path, "accessModes"),
                json!(m),
                ACCESS_MODES,
            ));
        }
        if m == "ReadWriteOncePod" {
            rwop = true;
        } else if ACCESS_MODES.contains(&m.as_str()) {
            other = true;
        }
    }
    if rwop && other {
        errs.push(FieldError::forbidden(
            child(path, "accessModes"),
            "may not use ReadWriteOncePod with other access modes",
        ));
    }
    let storage_path = key(&child(path, "resources"), "storage");
    match spec
        .pointer("/resources/requests/storage")
        .filter(|v| !v.is_null())
    {
        None => errs.push(FieldError::required(storage_path, "")),
        Some(v) => {
            if let Some(q) = parse_quantity(errs, v, &storage_path) {
                if q.sign() <= 0 {
                    errs.push(FieldError::invalid(
                        storage_path,
                        json!(q.canonical()),
                        "must be greater than zero",
                    ));
                } else {
                    validate_resource_quantity_value(errs, "storage", &q, &storage_path);
                }
            }
        }
    }
    if let Some(sc) = get(spec, "storageClassName").and_then(Value::as_str)
        && !sc.is_empty()
    {
        dns1123_subdomain(errs, sc, &child(path, "storageClassName"));
    }
    if let Some(vm) = get(spec, "volumeMode").and_then(Value::as_str)
        && vm != "Block"
        && vm != "Filesystem"
    {
        errs.push(FieldError::not_supported(
            child(path, "volumeMode"),
            json!(vm),
            &["Block", "Filesystem"],
        ));
    }
    for k in ["dataSource", "dataSourceRef"] {
        if let Some(ds) = get(spec, k) {
            let p = child(path, k);
            if st(ds, "name").is_empty() {
                errs.push(FieldError::required(child(&p, "name"), ""));
            }
            if st(ds, "kind").is_empty() {
                errs.push(FieldError::required(child(&p, "kind"), ""));
            }
        }
    }
    if let Some(vac) = get(spec, "volumeAttributesClassName").and_then(Value::as_str)
        && !vac.is_empty()
    {
        dns1123_subdomain(errs, vac, &child(path, "volumeAttributesClassName"));
    }
}

/// `ValidatePersistentVolumeClaim` (below metadata).
pub(super) fn validate_pvc(obj: &Value) -> Errs {
    let mut errs = Vec::new();
    validate_pvc_spec(&mut errs, spec_of(obj), "spec");
    errs
}

pub(super) fn validate_pvc_update(new: &Value, old: &Value) -> Errs {
    let mut errs = validate_pvc(new);
    let mut ns = spec_of(new).clone();
    let mut os = spec_of(old).clone();
    if st(&os, "volumeName").is_empty()
        && let Some(m) = os.as_object_mut()
    {
        match ns.get("volumeName") {
            Some(v) => {
                m.insert("volumeName".into(), v.clone());
            }
            None => {
                m.remove("volumeName");
            }
        }
    }
    // The storage class may be set once when it was given only by the beta annotation or nil.
    if get(&os, "storageClassName").is_none() {
        let ann = old
            .pointer("/metadata/annotations/volume.beta.kubernetes.io~1storage-class")
            .and_then(Value::as_str);
        let new_sc = get(&ns, "storageClassName").and_then(Value::as_str);
        if new_sc.is_some()
            && ann.is_none_or(|a| Some(a) == new_sc)
            && let Some(m) = ns.as_object_mut()
        {
            m.remove("storageClassName");
        }
    }
    let bound = new.pointer("/status/phase").and_then(Value::as_str) == Some("Bound");
    if bound {
        let old_storage = os.pointer("/resources/requests/storage").cloned();
        if let Some(reqs) = ns
            .pointer_mut("/resources/requests")
            .and_then(Value::as_object_mut)
        {
            match old_storage {
                Some(v) => {
                    reqs.insert("storage".into(), v);
                }
                None => {
                    reqs.remove("storage");
                }
            }
        }
        if let (Some(m), Some(v)) = (ns.as_object_mut(), os.get("volumeAttributesClassName")) {
            m.insert("volumeAttributesClassName".into(), v.clone());
        }
    }
    if !sem_eq(&ns, &os) {
        errs.push(FieldError::forbidden(
            "spec",
            "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n",
        ));
    }
    let q = |v: &Value, p: &str| {
        v.pointer(p)
            .and_then(quantity_text)
            .and_then(|t| quantity::parse(&t).ok())
            .unwrap_or_else(quantity::Quantity::zero)
    };
    let new_size = q(new, "/spec/resources/requests/storage");
    let old_size = q(old, "/spec/resources/requests/storage");
    let status_size = q(old, "/status/capacity/storage");
    if new_size < old_size && new_size <= status_size {
        errs.push(FieldError::forbidden(
            "spec.resources.requests.storage",
            "field can not be less than status.capacity",
        ));
    }
    immutable_scalar(
        &mut errs,
        get(spec_of(new), "volumeMode"),
        get(spec_of(old), "volumeMode"),
        "volumeMode",
    );
    errs
}

// ---------------------------------------------------------------------------------------------
// ResourceQuotas and LimitRanges.
// ---------------------------------------------------------------------------------------------

fn is_standard_quota_resource_name(name: &str) -> bool {
    const QUOTA: &[&str] = &[
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.storage",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "services.nodeports",
        "services.loadbalancers",
    ];
    QUOTA.contains(&name) || name.starts_with("requests.hugepages-")
}

fn validate_quota_resource_name(errs: &mut Errs, name: &str, path: &str) {
    validate_resource_name(errs, name, path);
    if !name.contains('/') && !is_standard_quota_resource_name(name) {
        errs.push(FieldError::invalid(
            path,
            json!(name),
            "must be a standard resource for quota",
        ));
    }
}

fn go_scopes(scopes: &[String]) -> String {
    if scopes.is_empty() {
        return "[]core.ResourceQuotaScope(nil)".into();
    }
    let q: Vec<String> = scopes.iter().map(|s| names::go_quote(s)).collect();
    format!("[]core.ResourceQuotaScope{{{}}}", q.join(", "))
}

const QUOTA_SCOPES: &[&str] = &[
    "Terminating",
    "NotTerminating",
    "BestEffort",
    "NotBestEffort",
    "PriorityClass",
    "CrossNamespacePodAffinity",
    "VolumeAttributesClass",
];

/// `ValidateResourceQuotaSpec`.
fn validate_resource_quota_spec(errs: &mut Errs, spec: &Value) {
    if let Some(hard) = super::obj(spec, "hard") {
        for (name, v) in hard {
            let p = key("spec.hard", name);
            validate_quota_resource_name(errs, name, &p);
            if let Some(q) = parse_quantity(errs, v, &p) {
                validate_resource_quantity_value(errs, name, &q, &p);
            }
        }
    }
    let scopes = strings(spec, "scopes");
    let mut set = BTreeSet::new();
    for s in &scopes {
        if !QUOTA_SCOPES.contains(&s.as_str()) {
            errs.push(invalid_raw(
                "spec.scopes",
                &go_scopes(&scopes),
                "unsupported scope",
            ));
        }
        set.insert(s.as_str());
    }
    for (a, b) in [
        ("BestEffort", "NotBestEffort"),
        ("Terminating", "NotTerminating"),
    ] {
        if set.contains(a) && set.contains(b) {
            errs.push(invalid_raw(
                "spec.scopes",
                &go_scopes(&scopes),
                "conflicting scopes",
            ));
        }
    }
    if let Some(ss) = get(spec, "scopeSelector") {
        for e in arr(ss, "matchExpressions") {
            let scope = st(e, "scopeName");
            if !QUOTA_SCOPES.contains(&scope) {
                errs.push(FieldError::invalid(
                    "spec.scopeSelector.matchExpressions.scopeName",
                    json!(scope),
                    "unsupported scope",
                ));
            }
            let op = st(e, "operator");
            match op {
                "In" | "NotIn" => {
                    if arr(e, "values").is_empty() {
                        errs.push(FieldError::required(
                            "spec.scopeSelector.matchExpressions.values",
                            "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector",
                        ));
                    }
                }
                "Exists" | "DoesNotExist" => {
                    if !arr(e, "values").is_empty() {
                        errs.push(invalid_raw(
                            "spec.scopeSelector.matchExpressions.values",
                            &go_strings(get(e, "values")),
                            "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector",
                        ));
                    }
                }
                other => errs.push(FieldError::invalid(
                    "spec.scopeSelector.matchExpressions.operator",
                    json!(other),
                    "not a valid selector operator",
                )),
            }
        }
    }
}

pub(super) fn validate_resource_quota(obj: &Value) -> Errs {
    let mut errs = Vec::new();
    validate_resource_quota_spec(&mut errs, spec_of(obj));
    for k in ["hard", "used"] {
        if let Some(m) = obj
            .pointer(&format!("/status/{k}"))
            .and_then(Value::as_object)
        {
            for (name, v) in m {
                let p = key(&format!("status.{k}"), name);
                validate_quota_resource_name(&mut errs, name, &p);
                if let Some(q) = parse_quantity(&mut errs, v, &p) {
                    validate_resource_quantity_value(&mut errs, name, &q, &p);
                }
            }
        }
    }
    errs
}

pub(super) fn validate_resource_quota_update(new: &Value, old: &Value) -> Errs {
    let mut errs = Vec::new();
    validate_resource_quota_spec(&mut errs, spec_of(new));
    let ns: BTreeSet<String> = strings(spec_of(new), "scopes").into_iter().collect();
    let os: BTreeSet<String> = strings(spec_of(old), "scopes").into_iter().collect();
    if ns != os {
        errs.push(invalid_raw(
            "spec.scopes",
            &go_scopes(&strings(spec_of(new), "scopes")),
            FIELD_IMMUTABLE_MSG,
        ));
    }
    errs
}

fn validate_limit_resource_name(errs: &mut Errs, ty: &str, name: &str, path: &str) {
    validate_resource_name(errs, name, path);
    if ty == "Pod" || ty == "Container" {
        if !name.contains('/') {
            if !matches!(name, "cpu" | "memory" | "ephemeral-storage")
                && !name.starts_with("hugepages-")
            {
                errs.push(FieldError::invalid(
                    path,
                    json!(name),
                    "must be a standard resource for containers",
                ));
            }
        } else if !is_native_resource(name) && !is_extended_resource_name(name) {
            errs.push(FieldError::invalid(
                path,
                json!(name),
                "doesn't follow extended resource name standard",
            ));
        }
    }
}

/// `ValidateLimitRange` (below metadata).
pub(super) fn validate_limit_range(obj: &Value) -> Errs {
    let mut errs = Vec::new();
    let mut types = BTreeSet::new();
    for (i, limit) in arr(spec_of(obj), "limits").iter().enumerate() {
        let ip = format!("spec.limits[{i}]");
        let ty = st(limit, "type");
        let tp = child(&ip, "type");
        let before = errs.len();
        qualified_name(&mut errs, ty, &tp);
        if errs.len() == before
            && !ty.contains('/')
            && !matches!(ty, "Pod" | "Container" | "PersistentVolumeClaim")
        {
            errs.push(FieldError::invalid(
                tp.clone(),
                json!(ty),
                "must be a standard limit type or fully qualified",
            ));
        }
        if !types.insert(ty) {
            errs.push(FieldError::duplicate(tp, json!(ty)));
        }
        let mut values: BTreeMap<&str, BTreeMap<String, quantity::Quantity>> = BTreeMap::new();
        let mut list = |errs: &mut Errs, field: &'static str| {
            if let Some(m) = super::obj(limit, field) {
                for (name, v) in m {
                    let p = key(&child(&ip, field), name);
                    validate_limit_resource_name(errs, ty, name, &p);
                    if let Some(q) = parse_quantity(errs, v, &p) {
                        values.entry(field).or_default().insert(name.clone(), q);
                    }
                }
            }
        };
        list(&mut errs, "max");
        list(&mut errs, "min");
        if ty == "Pod" {
            for f in ["default", "defaultRequest"] {
                if super::obj(limit, f).is_some_and(|m| !m.is_empty()) {
                    errs.push(FieldError::forbidden(
                        child(&ip, f),
                        "may not be specified when `type` is 'Pod'",
                    ));
                }
            }
        } else {
            list(&mut errs, "default");
            list(&mut errs, "defaultRequest");
        }
        if ty == "PersistentVolumeClaim" {
            let has = |f: &str| super::obj(limit, f).is_some_and(|m| m.contains_key("storage"));
            if !has("min") && !has("max") {
                errs.push(FieldError::required(
                    child(&ip, "limits"),
                    "either minimum or maximum storage value is required, but neither was provided",
                ));
            }
        }
        list(&mut errs, "maxLimitRequestRatio");
        let keys: BTreeSet<String> = values.values().flat_map(|m| m.keys().cloned()).collect();
        let val = |f: &str, k: &str| values.get(f).and_then(|m| m.get(k)).cloned();
        for k in keys {
            let min = val("min", &k);
            let max = val("max", &k);
            let def = val("default", &k);
            let dreq = val("defaultRequest", &k);
            let ratio = val("maxLimitRequestRatio", &k);
            if let (Some(mi), Some(ma)) = (&min, &max)
                && mi > ma
            {
                errs.push(FieldError::invalid(
                    key(&child(&ip, "min"), &k),
                    json!(mi.canonical()),
                    format!("min value {mi} is greater than max value {ma}"),
                ));
            }
            if let (Some(dr), Some(mi)) = (&dreq, &min)
                && mi > dr
            {
                errs.push(FieldError::invalid(
                    key(&child(&ip, "defaultRequest"), &k),
                    json!(dr.canonical()),
                    format!("min value {mi} is greater than default request value {dr}"),
                ));
            }
            if let (Some(dr), Some(ma)) = (&dreq, &max)
                && dr > ma
            {
                errs.push(FieldError::invalid(
                    key(&child(&ip, "defaultRequest"), &k),
                    json!(dr.canonical()),
                    format!("default request value {dr} is greater than max value {ma}"),
                ));
            }
            if let (Some(dr), Some(d)) = (&dreq, &def)
                && dr > d
            {
                errs.push(FieldError::invalid(
                    key(&child(&ip, "defaultRequest"), &k),
                    json!(dr.canonical()),
                    format!("default request value {dr} is greater than default limit value {d}"),
                ));
            }
            if let (Some(d), Some(mi)) = (&def, &min)
                && mi > d
            {
                errs.push(FieldError::invalid(
                    key(&child(&ip, "default"), &k),
                    json!(mi.canonical()),
                    format!("min value {mi} is greater than default value {d}"),
                ));
            }
            if let (Some(d), Some(ma)) = (&def, &max)
                && d > ma
            {
                errs.push(FieldError::invalid(
                    key(&child(&ip, "default"), &k),
                    json!(ma.canonical()),
                    format!("default value {d} is greater than max value {ma}"),
                ));
            }
            if let Some(r) = &ratio
                && *r < quantity::Quantity::from_i64(1)
            {
                errs.push(FieldError::invalid(
                    key(&child(&ip, "maxLimitRequestRatio"), &k),
                    json!(r.canonical()),
                    format!("ratio {r} is less than 1"),
                ));
            }
        }
    }
    errs
}

// ---------------------------------------------------------------------------------------------
// Events.
// ---------------------------------------------------------------------------------------------

/// `legacyValidateEvent` for a core/v1 Event (`reportingController` is called `source` there).
fn legacy_validate_event(errs: &mut Errs, ev: &Value, controller_field: &str) {
    let ns = ev
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    let involved_ns = ev
        .pointer("/involvedObject/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    let has_event_time = get(ev, "eventTime").is_some();
    let mismatch = |errs: &mut Errs| {
        errs.push(FieldError::invalid(
            "involvedObject.namespace",
            json!(involved_ns),
            "does not match event.namespace",
        ));
    };
    if !has_event_time {
        if involved_ns.is_empty() {
            if !ns.is_empty() && ns != "default" {
                mismatch(errs);
            }
        } else if ns != involved_ns {
            mismatch(errs);
        }
    } else {
        if involved_ns.is_empty() && ns != "default" && ns != "kube-system" {
            mismatch(errs);
        }
        let rc = st(ev, "reportingComponent");
        if rc.is_empty() {
            errs.push(FieldError::required(controller_field, ""));
        }
        qualified_name(errs, rc, controller_field);
        let ri = st(ev, "reportingInstance");
        if ri.is_empty() {
            errs.push(FieldError::required("reportingInstance", ""));
        }
        if ri.len() > 128 {
            errs.push(FieldError::invalid(
                "reportingInstance",
                json!(""),
                "can have at most 128 characters",
            ));
        }
        let action = st(ev, "action");
        if action.is_empty() {
            errs.push(FieldError::required("action", ""));
        }
        if action.len() > 128 {
            errs.push(FieldError::invalid(
                "action",
                json!(""),
                "can have at most 128 characters",
            ));
        }
        let reason = st(ev, "reason");
        if reason.is_empty() {
            errs.push(FieldError::required("reason", ""));
        }
        if reason.len() > 128 {
            errs.push(FieldError::invalid(
                "reason",
                json!(""),
                "can have at most 128 characters",
            ));
        }
        if st(ev, "message").len() > 1024 {
            errs.push(FieldError::invalid(
                "message",
                json!(""),
                "can have at most 1024 characters",
            ));
        }
    }
    for m in names::is_dns1123_subdomain(ns) {
        errs.push(FieldError::invalid("namespace", json!(ns), m));
    }
}

/// Core/v1 Event (`ValidateEventCreate` with the v1 request version: legacy checks only).
pub(super) fn validate_event(obj: &Value) -> Errs {
    let mut errs = Vec::new();
    legacy_validate_event(&mut errs, obj, "source");
    errs
}

/// events.k8s.io/v1 Event: legacy checks plus the strict ones.
pub(super) fn validate_events_v1_event(obj: &Value) -> Errs {
    let ev = crate::builtin::event_v1_to_core(obj.clone());
    let mut errs = Vec::new();
    legacy_validate_event(&mut errs, &ev, "reportingController");
    if let Some(series) = get(&ev, "series") {
        if int(series, "count").unwrap_or(0) < 2 {
            errs.push(FieldError::invalid(
                "series.count",
                json!(""),
                "should be at least 2",
            ));
        }
        if get(series, "lastObservedTime").is_none() {
            errs.push(FieldError::required("series.lastObservedTime", ""));
        }
    }
    if get(&ev, "eventTime").is_none() {
        errs.push(FieldError::required("eventTime", ""));
    }
    let ty = st(&ev, "type");
    if ty != "Normal" && ty != "Warning" {
        errs.push(FieldError::invalid(
            "type",
            json!(""),
            format!("has invalid value: {ty}"),
        ));
    }
    if get(&ev, "firstTimestamp").is_some() {
        errs.push(FieldError::invalid(
            "deprecatedFirstTimestamp",
            json!(""),
            "needs to be unset",
        ));
    }
    if get(&ev, "lastTimestamp").is_some() {
        errs.push(FieldError::invalid(
            "deprecatedLastTimestamp",
            json!(""),
            "needs to be unset",
        ));
    }
    if int(&ev, "count").unwrap_or(0) != 0 {
        errs.push(FieldError::invalid(
            "deprecatedCount",
            json!(""),
            "needs to be unset",
        ));
    }
    if ev.get("source").is_some_and(|s| !is_unset(s)) {
        errs.push(FieldError::invalid(
            "deprecatedSource",
            json!(""),
            "needs to be unset",
        ));
    }
    errs
}

// ---------------------------------------------------------------------------------------------
// Autoscaling and policy.
// ---------------------------------------------------------------------------------------------

fn metric_target(errs: &mut Errs, t: &Value, path: &str) {
    let ty = st(t, "type");
    if ty.is_empty() {
        errs.push(FieldError::required(
            child(path, "type"),
            "must specify a metric target type",
        ));
    }
    if !matches!(ty, "Utilization" | "Value" | "AverageValue") {
        errs.push(FieldError::invalid(
            child(path, "type"),
            json!(ty),
            "must be either Utilization, Value, or AverageValue",
        ));
    }
    for k in ["value", "averageValue"] {
        if let Some(v) = get(t, k)
            && let Some(q) = parse_quantity(errs, v, &child(path, k))
            && q.sign() != 1
        {
            errs.push(FieldError::invalid(
                child(path, k),
                json!(q.canonical()),
                "must be positive",
            ));
        }
    }
    if let Some(u) = int(t, "averageUtilization")
        && u < 1
    {
        errs.push(FieldError::invalid(
            child(path, "averageUtilization"),
            json!(u),
            "must be greater than 0",
        ));
    }
}

fn metric_identifier(errs: &mut Errs, id: Option<&Value>, path: &str) {
    let id = id.unwrap_or(EMPTY);
    let name = st(id, "name");
    if name.is_empty() {
        errs.push(FieldError::required(
            child(path, "name"),
            "must specify a metric name",
        ));
    } else {
        for m in names::is_valid_path_segment_name(name) {
            errs.push(FieldError::invalid(child(path, "name"), json!(name), m));
        }
    }
    if let Some(sel) = get(id, "selector") {
        errs.extend(names::validate_label_selector(
            sel,
            &child(path, "selector"),
        ));
    }
}

fn validate_metric(errs: &mut Errs, m: &Value, path: &str) {
    const TYPES: &[&str] = &[
        "Object",
        "Pods",
        "Resource",
        "External",
        "ContainerResource",
    ];
    let ty = st(m, "type");
    if ty.is_empty() {
        errs.push(FieldError::required(
            child(path, "type"),
            "must specify a metric source type",
        ));
    }
    if !TYPES.contains(&ty) {
        errs.push(FieldError::not_supported(
            child(path, "type"),
            json!(ty),
            TYPES,
        ));
    }
    let mut present = Vec::new();
    for (k, t) in [
        ("object", "Object"),
        ("pods", "Pods"),
        ("resource", "Resource"),
        ("external", "External"),
        ("containerResource", "ContainerResource"),
    ] {
        let Some(src) = get(m, k) else {
            continue;
        };
        present.push((k, t));
        if present.len() > 1 {
            continue;
        }
        let sp = child(path, k);
        match k {
            "resource" | "containerResource" => {
                let name = st(src, "name");
                if name.is_empty() {
                    errs.push(FieldError::required(
                        child(&sp, "name"),
                        "must specify a resource name",
                    ));
                }
                if k == "containerResource" && st(src, "container").is_empty() {
                    errs.push(FieldError::required(
                        child(&sp, "container"),
                        "must specify a container",
                    ));
                }
                let target = get(src, "target").unwrap_or(EMPTY);
                metric_target(errs, target, &child(&sp, "target"));
                let au = get(target, "averageUtilization").is_some();
                let av = get(target, "averageValue").is_some();
                if !au && !av {
                    errs.push(FieldError::required(
                        format!("{sp}.target.averageUtilization"),
                        "must set either a target raw value or a target utilization",
                    ));
                }
                if au && av {
                    errs.push(FieldError::forbidden(
                        format!("{sp}.target.averageValue"),
                        "may not set both a target raw value and a target utilization",
                    ));
                }
            }
            "pods" => {
                metric_identifier(errs, get(src, "metric"), &child(&sp, "metric"));
                let target = get(src, "target").unwrap_or(EMPTY);
                metric_target(errs, target, &child(&sp, "target"));
                if get(target, "averageValue").is_none() {
                    errs.push(FieldError::required(
                        format!("{sp}.target.averageValue"),
                        "must specify a positive target averageValue",
                    ));
                }
            }
            "object" => {
                let dot = get(src, "describedObject").unwrap_or(EMPTY);
                cross_version_ref(errs, dot, &child(&sp, "describedObject"));
                metric_identifier(errs, get(src, "metric"), &child(&sp, "metric"));
                let target = get(src, "target").unwrap_or(EMPTY);
                metric_target(errs, target, &child(&sp, "target"));
                if get(target, "value").is_none() && get(target, "averageValue").is_none() {
                    errs.push(FieldError::required(
                        format!("{sp}.target.averageValue"),
                        "must set either a target value or averageValue",
                    ));
                }
            }
            _ => {
                metric_identifier(errs, get(src, "metric"), &child(&sp, "metric"));
                let target = get(src, "target").unwrap_or(EMPTY);
                metric_target(errs, target, &child(&sp, "target"));
                let v = get(target, "value").is_some();
                let av = get(target, "averageValue").is_some();
                if !v && !av {
                    errs.push(FieldError::required(
                        format!("{sp}.target.averageValue"),
                        "must set either a target value for metric or a per-pod target",
                    ));
                }
                if v && av {
                    errs.push(FieldError::forbidden(
                        format!("{sp}.target.value"),
                        "may not set both a target value for metric and a per-pod target",
                    ));
                }
            }
        }
    }
    let expected = TYPES.iter().position(|t| *t == ty).map(|i| {
        [
            "object",
            "pods",
            "resource",
            "external",
            "containerResource",
        ][i]
    });
    if let Some(exp) = expected
        && get(m, exp).is_none()
    {
        errs.push(FieldError::required(
            child(path, exp),
            "must populate information for the given metric source",
        ));
    }
    if present.len() != 1 {
        for (k, _) in present {
            if Some(k) != expected {
                errs.push(FieldError::forbidden(
                    child(path, k),
                    "must populate the given metric source only",
                ));
            }
        }
    }
}

fn cross_version_ref(errs: &mut Errs, r: &Value, path: &str) {
    for f in ["kind", "name"] {
        let v = st(r, f);
        if v.is_empty() {
            errs.push(FieldError::required(child(path, f), ""));
        } else {
            for m in names::is_valid_path_segment_name(v) {
                errs.push(FieldError::invalid(child(path, f), json!(v), m));
            }
        }
    }
}

/// `ValidateHorizontalPodAutoscalerSpec` (autoscaling/v2 and v1).
pub(super) fn validate_hpa(obj: &Value) -> Errs {
    let mut errs = Vec::new();
    let spec = spec_of(obj);
    let min = int(spec, "minReplicas");
    let max = int(spec, "maxReplicas").unwrap_or(0);
    if let Some(m) = min
        && m < 1
    {
        errs.push(FieldError::invalid(
            "spec.minReplicas",
            json!(m),
            "must be greater than or equal to 1",
        ));
    }
    if max < 1 {
        errs.push(FieldError::invalid(
            "spec.maxReplicas",
            json!(max),
            "must be greater than 0",
        ));
    }
    if min.is_some_and(|m| max < m) {
        errs.push(FieldError::invalid(
            "spec.maxReplicas",
            json!(max),
            "must be greater than or equal to `minReplicas`",
        ));
    }
    cross_version_ref(
        &mut errs,
        get(spec, "scaleTargetRef").unwrap_or(EMPTY),
        "spec.scaleTargetRef",
    );
    // autoscaling/v1's targetCPUUtilizationPercentage.
    if let Some(t) = int(spec, "targetCPUUtilizationPercentage")
        && t < 1
    {
        errs.push(FieldError::invalid(
            "spec.targetCPUUtilizationPercentage",
            json!(t),
            "must be greater than 0",
        ));
    }
    for (i, m) in arr(spec, "metrics").iter().enumerate() {
        validate_metric(&mut errs, m, &format!("spec.metrics[{i}]"));
    }
    if let Some(b) = get(spec, "behavior") {
        for k in ["scaleUp", "scaleDown"] {
            let Some(r) = get(b, k) else {
                continue;
            };
            let p = format!("spec.behavior.{k}");
            if let Some(w) = int(r, "stabilizationWindowSeconds")
                && !(0..=3600).contains(&w)
            {
                errs.push(FieldError::invalid(
                    child(&p, "stabilizationWindowSeconds"),
                    json!(w),
                    if w < 0 {
                        "must be greater than or equal to zero"
                    } else {
                        "must be less than or equal to 3600"
                    },
                ));
            }
            if let Some(sp) = get(r, "selectPolicy").and_then(Value::as_str)
                && !matches!(sp, "Max" | "Min" | "Disabled")
            {
                errs.push(FieldError::not_supported(
                    child(&p, "selectPolicy"),
                    json!(sp),
                    &["Disabled", "Max", "Min"],
                ));
            }
            let policies = arr(r, "policies");
            if policies.is_empty() && st(r, "selectPolicy") != "Disabled" {
                errs.push(FieldError::required(
                    child(&p, "policies"),
                    "must specify at least one Policy",
                ));
            }
            for (j, pol) in policies.iter().enumerate() {
                let pp = format!("{p}.policies[{j}]");
                let ty = st(pol, "type");
                if ty != "Pods" && ty != "Percent" {
                    errs.push(FieldError::not_supported(
                        child(&pp, "type"),
                        json!(ty),
                        &["Percent", "Pods"],
                    ));
                }
                let v = int(pol, "value").unwrap_or(0);
                if v <= 0 {
                    errs.push(FieldError::invalid(
                        child(&pp, "value"),
                        json!(v),
                        "must be greater than zero",
                    ));
                }
                let ps = int(pol, "periodSeconds").unwrap_or(0);
                if ps <= 0 {
                    errs.push(FieldError::invalid(
                        child(&pp, "periodSeconds"),
                        json!(ps),
                        "must be greater than zero",
                    ));
                }
                if ps > 1800 {
                    errs.push(FieldError::invalid(
                        child(&pp, "periodSeconds"),
                        json!(ps),
                        "must be less than or equal to 1800",
                    ));
                }
            }
        }
    }
    errs
}

/// `ValidatePodDisruptionBudgetSpec`.
pub(super) fn validate_pdb(obj: &Value) -> Errs {
    let mut errs = Vec::new();
    let spec = spec_of(obj);
    let min = spec.get("minAvailable").filter(|v| !v.is_null());
    let max = spec.get("maxUnavailable").filter(|v| !v.is_null());
    if min.is_some() && max.is_some() {
        errs.push(invalid_raw(
            "spec",
            "policy.PodDisruptionBudgetSpec{...}",
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    for (v, f) in [(min, "minAvailable"), (max, "maxUnavailable")] {
        let Some(v) = v else {
            continue;
        };
        let p = format!("spec.{f}");
        match v {
            Value::String(s) => {
                for m in is_valid_percent(s) {
                    errs.push(invalid_raw(&p, &go_int_or_string(Some(v)), &m));
                }
                let pct = s
                    .strip_suffix('%')
                    .and_then(|d| d.parse::<i64>().ok())
                    .filter(|_| is_valid_percent(s).is_empty());
                if pct.is_some_and(|x| x > 100) {
                    errs.push(invalid_raw(
                        &p,
                        &go_int_or_string(Some(v)),
                        "must not be greater than 100%",
                    ));
                }
            }
            n => nonneg(&mut errs, n.as_i64(), &p),
        }
    }
    if let Some(sel) = get(spec, "selector") {
        errs.extend(names::validate_label_selector(sel, "spec.selector"));
    }
    if let Some(p) = get(spec, "unhealthyPodEvictionPolicy").and_then(Value::as_str)
        && p != "IfHealthyBudget"
        && p != "AlwaysAllow"
    {
        errs.push(FieldError::not_supported(
            "spec.unhealthyPodEvictionPolicy",
            json!(p),
            &["AlwaysAllow", "IfHealthyBudget"],
        ));
    }
    errs
}

// ---------------------------------------------------------------------------------------------
// RBAC.
// ---------------------------------------------------------------------------------------------

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

fn policy_rule(errs: &mut Errs, rule: &Value, namespaced: bool, path: &str) {
    if arr(rule, "verbs").is_empty() {
        errs.push(FieldError::required(
            child(path, "verbs"),
            "verbs must contain at least one value",
        ));
    }
    let urls = get(rule, "nonResourceURLs");
    if !arr(rule, "nonResourceURLs").is_empty() {
        if namespaced {
            errs.push(invalid_raw(
                child(path, "nonResourceURLs"),
                &go_strings(urls),
                "namespaced rules cannot apply to non-resource URLs",
            ));
        }
        if !arr(rule, "apiGroups").is_empty()
            || !arr(rule, "resources").is_empty()
            || !arr(rule, "resourceNames").is_empty()
        {
            errs.push(invalid_raw(
                child(path, "nonResourceURLs"),
                &go_strings(urls),
                "rules cannot apply to both regular resources and non-resource URLs",
            ));
        }
        return;
    }
    if arr(rule, "apiGroups").is_empty() {
        errs.push(FieldError::required(
            child(path, "apiGroups"),
            "resource rules must supply at least one api group",
        ));
    }
    if arr(rule, "resources").is_empty() {
        errs.push(FieldError::required(
            child(path, "resources"),
            "resource rules must supply at least one resource",
        ));
    }
}

/// `ValidateRole` / `ValidateClusterRole` (below metadata).
pub(super) fn validate_role(obj: &Value, namespaced: bool) -> Errs {
    let mut errs = Vec::new();
    for (i, r) in arr(obj, "rules").iter().enumerate() {
        policy_rule(&mut errs, r, namespaced, &format!("rules[{i}]"));
    }
    if !namespaced && let Some(ar) = get(obj, "aggregationRule") {
        let sels = arr(ar, "clusterRoleSelectors");
        if sels.is_empty() {
            errs.push(FieldError::required(
                "aggregationRule.clusterRoleSelectors",
                "at least one clusterRoleSelector required if aggregationRule is non-nil",
            ));
        }
        for (i, s) in sels.iter().enumerate() {
            errs.extend(names::validate_label_selector(
                s,
                &format!("aggregationRule.clusterRoleSelectors[{i}]"),
            ));
        }
    }
    errs
}

fn subject(errs: &mut Errs, s: &Value, namespaced: bool, path: &str) {
    let name = st(s, "name");
    if name.is_empty() {
        errs.push(FieldError::required(child(path, "name"), ""));
    }
    let group = st(s, "apiGroup");
    match st(s, "kind") {
        "ServiceAccount" => {
            if !name.is_empty() {
                dns1123_subdomain(errs, name, &child(path, "name"));
            }
            if !group.is_empty() {
                errs.push(FieldError::not_supported(
                    child(path, "apiGroup"),
                    json!(group),
                    &[""],
                ));
            }
            if !namespaced && st(s, "namespace").is_empty() {
                errs.push(FieldError::required(child(path, "namespace"), ""));
            }
        }
        "User" | "Group" => {
            if group != RBAC_GROUP {
                errs.push(FieldError::not_supported(
                    child(path, "apiGroup"),
                    json!(group),
                    &[RBAC_GROUP],
                ));
            }
        }
        other => errs.push(FieldError::not_supported(
            child(path, "kind"),
            json!(other),
            &["ServiceAccount", "User", "Group"],
        )),
    }
}

/// `ValidateRoleBinding` / `ValidateClusterRoleBinding` (below metadata).
pub(super) fn validate_role_binding(obj: &Value, namespaced: bool) -> Errs {
    let mut errs = Vec::new();
    let rr = get(obj, "roleRef").unwrap_or(EMPTY);
    let group = st(rr, "apiGroup");
    if group != RBAC_GROUP {
        errs.push(FieldError::not_supported(
            "roleRef.apiGroup",
            json!(group),
            &[RBAC_GROUP],
        ));
    }
    let kind = st(rr, "kind");
    if namespaced {
        if kind != "Role" && kind != "ClusterRole" {
            errs.push(FieldError::not_supported(
                "roleRef.kind",
                json!(kind),
                &["Role", "ClusterRole"],
            ));
        }
    } else if kind != "ClusterRole" {
        errs.push(FieldError::not_supported(
            "roleRef.kind",
            json!(kind),
            &["ClusterRole"],
        ));
    }
    let name = st(rr, "name");
    if name.is_empty() {
        errs.push(FieldError::required("roleRef.name", ""));
    } else {
        for m in names::is_valid_path_segment_name(name) {
            errs.push(FieldError::invalid("roleRef.name", json!(name), m));
        }
    }
    for (i, s) in arr(obj, "subjects").iter().enumerate() {
        subject(&mut errs, s, namespaced, &format!("subjects[{i}]"));
    }
    errs
}

pub(super) fn validate_role_binding_update(new: &Value, old: &Value, namespaced: bool) -> Errs {
    let mut errs = validate_role_binding(new, namespaced);
    let nr = get(new, "roleRef").unwrap_or(EMPTY);
    let or = get(old, "roleRef").unwrap_or(EMPTY);
    let differs = ["apiGroup", "kind", "name"]
        .iter()
        .any(|k| st(nr, k) != st(or, k));
    if differs {
        errs.push(invalid_raw(
            "roleRef",
            &format!(
                "rbac.RoleRef{{APIGroup:{}, Kind:{}, Name:{}}}",
                names::go_quote(st(nr, "apiGroup")),
                names::go_quote(st(nr, "kind")),
                names::go_quote(st(nr, "name"))
            ),
            "cannot change roleRef",
        ));
    }
    errs
}

// ---------------------------------------------------------------------------------------------
// PriorityClasses and Leases.
// ---------------------------------------------------------------------------------------------

/// `ValidatePriorityClass` (below metadata).
pub(super) fn validate_priority_class(obj: &Value) -> Errs {
    let mut errs = Vec::new();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let value = int(obj, "value").unwrap_or(0);
    let global_default = boolean(obj, "globalDefault").unwrap_or(false);
    if name.starts_with("system-") {
        let known = match name {
            "system-node-critical" => Some(2_000_001_000),
            "system-cluster-critical" => Some(2_000_000_000),
            _ => None,
        };
        let err = match known {
            None => Some(format!("{name} is not a known system priority class")),
            Some(v) if v != value => Some(format!("value of {name} PriorityClass must be {v}")),
            Some(_) if global_default => Some(format!(
                "globalDefault of {name} PriorityClass must be false"
            )),
            _ => None,
        };
        if let Some(e) = err {
            errs.push(FieldError::forbidden(
                "metadata.name",
                format!(
                    "priority class names with 'system-' prefix are reserved for system use only. error: {e}"
                ),
            ));
        }
    } else if value > 1_000_000_000 {
        errs.push(FieldError::forbidden(
            "value",
            "maximum allowed value of a user defined priority is 1000000000",
        ));
    }
    if let Some(pp) = get(obj, "preemptionPolicy").and_then(Value::as_str) {
        match pp {
            "PreemptLowerPriority" | "Never" => {}
            "" => errs.push(FieldError::required("preemptionPolicy", "")),
            other => errs.push(FieldError::not_supported(
                "preemptionPolicy",
                json!(other),
                &["PreemptLowerPriority", "Never"],
            )),
        }
    }
    errs
}

pub(super) fn validate_priority_class_update(new: &Value, old: &Value) -> Errs {
    let mut errs = Vec::new();
    if int(new, "value") != int(old, "value") {
        errs.push(FieldError::forbidden(
            "value",
            "may not be changed in an update.",
        ));
    }
    immutable_scalar(
        &mut errs,
        get(new, "preemptionPolicy"),
        get(old, "preemptionPolicy"),
        "preemptionPolicy",
    );
    errs
}

/// `ValidateLeaseSpec`.
pub(super) fn validate_lease(obj: &Value) -> Errs {
    let mut errs = Vec::new();
    let spec = spec_of(obj);
    if let Some(d) = int(spec, "leaseDurationSeconds")
        && d <= 0
    {
        errs.push(FieldError::invalid(
            "spec.leaseDurationSeconds",
            json!(d),
            "must be greater than 0",
        ));
    }
    if let Some(t) = int(spec, "leaseTransitions")
        && t < 0
    {
        errs.push(FieldError::invalid(
            "spec.leaseTransitions",
            json!(t),
            "must be greater than or equal to 0",
        ));
    }
    if let Some(s) = get(spec, "strategy").and_then(Value::as_str)
        && s != "OldestEmulationVersion"
    {
        errs.push(FieldError::not_supported(
            "spec.strategy",
            json!(s),
            &["OldestEmulationVersion"],
        ));
    }
    if get(spec, "preferredHolder")
        .and_then(Value::as_str)
        .is_some_and(|h| !h.is_empty())
        && get(spec, "strategy")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        errs.push(FieldError::forbidden(
            "spec.preferredHolder",
            "may only be specified if `strategy` is defined",
        ));
    }
    errs
}
