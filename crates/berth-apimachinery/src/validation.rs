//! Per-kind validation of built-in kinds below `metadata`, as Kubernetes v1.33 does it on create
//! and update (`pkg/apis/*/validation` plus the registry strategies' `Validate`/`ValidateUpdate`),
//! with upstream's field paths and messages.
//!
//! Objects are JSON values of the external (versioned) types, already decoded through k8s-openapi
//! and defaulted ([`crate::defaults::apply_defaults`]). Metadata is not checked here: the server
//! runs [`crate::names::validate_object_meta`] / [`crate::names::validate_object_meta_update`]
//! itself. Unknown kinds (and CustomResourceDefinitions) produce no errors.
//!
//! Values that Go prints with `%#v` (label maps, label selectors, `IntOrString`) are rendered the
//! way Go does (`map[string]string{"app":"x"}`, `v1.LabelSelector{...}`,
//! `intstr.IntOrString{Type:0, IntVal:0, StrVal:""}`).

pub mod cron;
pub mod quantity;

mod misc;
mod network;
mod pod;
mod workloads;

use crate::names;
use crate::status::{FieldError, FieldErrorKind};
use serde_json::{Map, Value, json};

/// Validates an object of kind `kind` in API group `group` (empty for the core group) on create.
pub fn validate(group: &str, kind: &str, obj: &Value) -> Vec<FieldError> {
    if !obj.is_object() {
        return Vec::new();
    }
    match (group, kind) {
        ("", "Pod") => pod::validate_pod_create(&pod::with_spec(obj)),
        ("", "PodTemplate") => pod::validate_pod_template_spec(
            get(obj, "template").unwrap_or(&Value::Null),
            "template",
        ),
        ("", "ReplicationController") => workloads::validate_replication_controller(obj),
        ("", "Service") => network::validate_service(obj),
        ("", "Endpoints") => network::validate_endpoints(obj),
        ("", "ConfigMap") => misc::validate_config_map(obj),
        ("", "Secret") => misc::validate_secret(obj),
        ("", "Namespace") => misc::validate_namespace(obj),
        ("", "Node") => misc::validate_node(obj),
        ("", "PersistentVolumeClaim") => misc::validate_pvc(obj),
        ("", "ResourceQuota") => misc::validate_resource_quota(obj),
        ("", "LimitRange") => misc::validate_limit_range(obj),
        ("", "Event") => misc::validate_event(obj),
        ("events.k8s.io", "Event") => misc::validate_events_v1_event(obj),
        ("apps", "Deployment") => workloads::validate_deployment(obj, None),
        ("apps", "ReplicaSet") => workloads::validate_replica_set(obj, None),
        ("apps", "StatefulSet") => workloads::validate_stateful_set(obj),
        ("apps", "DaemonSet") => workloads::validate_daemon_set(obj),
        ("batch", "Job") => workloads::validate_job(obj),
        ("batch", "CronJob") => workloads::validate_cron_job(obj, None),
        ("networking.k8s.io", "Ingress") => network::validate_ingress(obj),
        ("networking.k8s.io", "IngressClass") => network::validate_ingress_class(obj),
        ("networking.k8s.io", "NetworkPolicy") => network::validate_network_policy(obj),
        ("discovery.k8s.io", "EndpointSlice") => network::validate_endpoint_slice(obj),
        ("autoscaling", "HorizontalPodAutoscaler") => misc::validate_hpa(obj),
        ("policy", "PodDisruptionBudget") => misc::validate_pdb(obj),
        ("rbac.authorization.k8s.io", "Role") => misc::validate_role(obj, true),
        ("rbac.authorization.k8s.io", "ClusterRole") => misc::validate_role(obj, false),
        ("rbac.authorization.k8s.io", "RoleBinding") => misc::validate_role_binding(obj, true),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            misc::validate_role_binding(obj, false)
        }
        ("scheduling.k8s.io", "PriorityClass") => misc::validate_priority_class(obj),
        ("coordination.k8s.io", "Lease") => misc::validate_lease(obj),
        _ => Vec::new(),
    }
}

/// Validates an update of an object from `old` to `new`: the create checks of `new` (as upstream
/// runs them on update) plus the immutability and transition rules of the kind.
pub fn validate_update(group: &str, kind: &str, new: &Value, old: &Value) -> Vec<FieldError> {
    if !new.is_object() {
        return Vec::new();
    }
    let old = if old.is_object() { old } else { &Value::Null };
    match (group, kind) {
        ("", "Pod") => pod::validate_pod_update(&pod::with_spec(new), &pod::with_spec(old)),
        ("", "Service") => {
            let mut prepared = new.clone();
            crate::defaults::prepare_service_update(&mut prepared, old);
            network::validate_service_update(&prepared, old)
        }
        ("", "ConfigMap") => misc::validate_config_map_update(new, old),
        ("", "Secret") => misc::validate_secret_update(new, old),
        ("", "Node") => misc::validate_node_update(new, old),
        ("", "PersistentVolumeClaim") => misc::validate_pvc_update(new, old),
        ("", "ResourceQuota") => misc::validate_resource_quota_update(new, old),
        ("", "Namespace") => Vec::new(),
        ("", "ReplicationController") => workloads::validate_replication_controller(new),
        ("apps", "Deployment") => workloads::validate_deployment_update(new, old),
        ("apps", "ReplicaSet") => workloads::validate_replica_set_update(new, old),
        ("apps", "StatefulSet") => workloads::validate_stateful_set_update(new, old),
        ("apps", "DaemonSet") => workloads::validate_daemon_set_update(new, old),
        ("batch", "Job") => workloads::validate_job_update(new, old),
        ("batch", "CronJob") => workloads::validate_cron_job(new, Some(old)),
        ("networking.k8s.io", "IngressClass") => network::validate_ingress_class_update(new, old),
        ("discovery.k8s.io", "EndpointSlice") => network::validate_endpoint_slice_update(new, old),
        ("policy", "PodDisruptionBudget") => misc::validate_pdb(new),
        ("rbac.authorization.k8s.io", "RoleBinding") => {
            misc::validate_role_binding_update(new, old, true)
        }
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            misc::validate_role_binding_update(new, old, false)
        }
        ("scheduling.k8s.io", "PriorityClass") => misc::validate_priority_class_update(new, old),
        _ => validate(group, kind, new),
    }
}

// ---------------------------------------------------------------------------------------------
// JSON access helpers (shared with the submodules).
// ---------------------------------------------------------------------------------------------

pub(crate) type Errs = Vec<FieldError>;

/// The member `key` of `v` when present and not null.
pub(crate) fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| !x.is_null())
}

/// The string member `key` of `v`, or "" (Go's zero value).
pub(crate) fn st<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The array member `key` of `v`, or an empty slice.
pub(crate) fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The integer member `key` of `v`, when present.
pub(crate) fn int(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(|x| {
        x.as_i64()
            .or_else(|| x.as_f64().map(|f| f as i64))
            .or_else(|| x.as_u64().map(|u| u as i64))
    })
}

/// The boolean member `key` of `v`, when present.
pub(crate) fn boolean(v: &Value, key: &str) -> Option<bool> {
    v.get(key).and_then(Value::as_bool)
}

/// The object member `key` of `v`, when present.
pub(crate) fn obj<'a>(v: &'a Value, key: &str) -> Option<&'a Map<String, Value>> {
    v.get(key).and_then(Value::as_object)
}

/// The strings of an array member (non-strings skipped).
pub(crate) fn strings(v: &Value, key: &str) -> Vec<String> {
    arr(v, key)
        .iter()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

/// `{path}.{child}`.
pub(crate) fn child(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// `{path}[{i}]`.
pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// `{path}[{key}]`.
pub(crate) fn key(path: &str, k: &str) -> String {
    format!("{path}[{k}]")
}

/// An `Invalid value` error whose value is already rendered as Go would print it (`%#v` of a map
/// or a struct).
pub(crate) fn invalid_raw(field: impl Into<String>, rendered: &str, detail: &str) -> FieldError {
    let detail = if detail.is_empty() {
        rendered.to_string()
    } else {
        format!("{rendered}: {detail}")
    };
    FieldError::new(FieldErrorKind::Invalid, field, None, detail)
}

/// An `Unsupported value` error whose value is already rendered.
pub(crate) fn not_supported_raw(
    field: impl Into<String>,
    rendered: &str,
    valid: &[&str],
) -> FieldError {
    let quoted: Vec<String> = valid.iter().map(|v| format!("\"{v}\"")).collect();
    FieldError::new(
        FieldErrorKind::NotSupported,
        field,
        None,
        format!("{rendered}: supported values: {}", quoted.join(", ")),
    )
}

/// A `Not found` error.
pub(crate) fn not_found(field: impl Into<String>, value: Value) -> FieldError {
    FieldError::new(FieldErrorKind::NotFound, field, Some(value), "")
}

pub(crate) const IS_NEGATIVE_MSG: &str = "must be greater than or equal to 0";
pub(crate) const FIELD_IMMUTABLE_MSG: &str = "field is immutable";

/// `ValidateNonnegativeField`.
pub(crate) fn nonneg(errs: &mut Errs, value: Option<i64>, path: &str) {
    if let Some(v) = value
        && v < 0
    {
        errs.push(FieldError::invalid(path, json!(v), IS_NEGATIVE_MSG));
    }
}

/// `validation.InclusiveRangeError`.
pub(crate) fn inclusive_range_error(lo: i64, hi: i64) -> String {
    format!("must be between {lo} and {hi}, inclusive")
}

/// `validation.RegexError`.
pub(crate) fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let mut s = format!("{msg} (e.g. ");
    for (i, e) in examples.iter().enumerate() {
        if i > 0 {
            s.push_str(" or ");
        }
        s.push('\'');
        s.push_str(e);
        s.push_str("', ");
    }
    s.push_str("regex used for validation is '");
    s.push_str(fmt);
    s.push_str("')");
    s
}

pub(crate) fn dns1123_label(errs: &mut Errs, value: &str, path: &str) {
    for msg in names::is_dns1123_label(value) {
        errs.push(FieldError::invalid(path, json!(value), msg));
    }
}

pub(crate) fn dns1123_subdomain(errs: &mut Errs, value: &str, path: &str) {
    for msg in names::is_dns1123_subdomain(value) {
        errs.push(FieldError::invalid(path, json!(value), msg));
    }
}

pub(crate) fn qualified_name(errs: &mut Errs, value: &str, path: &str) {
    for msg in names::is_qualified_name(value) {
        errs.push(FieldError::invalid(path, json!(value), msg));
    }
}

/// `ValidateLabelName` (a qualified name).
pub(crate) fn label_name(errs: &mut Errs, value: &str, path: &str) {
    qualified_name(errs, value, path);
}

/// Semantic equality as `apiequality.Semantic.DeepEqual` sees two JSON renderings of a Go value:
/// absent, null, empty maps and lists and zero scalars of object members are all "unset".
pub(crate) fn sem_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                match y.get(k) {
                    Some(vb) => {
                        if !sem_eq(va, vb) {
                            return false;
                        }
                    }
                    None => {
                        if !is_unset(va) {
                            return false;
                        }
                    }
                }
            }
            for (k, vb) in y {
                if !x.contains_key(k) && !is_unset(vb) {
                    return false;
                }
            }
            true
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| sem_eq(p, q))
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Null, other) | (other, Value::Null) => is_unset(other),
        (Value::Object(m), Value::Array(v)) | (Value::Array(v), Value::Object(m)) => {
            m.is_empty() && v.is_empty()
        }
        _ => a == b,
    }
}

/// Whether a value is Go's zero value / nil as far as equality goes.
pub(crate) fn is_unset(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
    }
}

/// `ValidateImmutableField` for a value whose rendering is a JSON scalar (string, number, null).
pub(crate) fn immutable_scalar(
    errs: &mut Errs,
    new: Option<&Value>,
    old: Option<&Value>,
    path: &str,
) {
    let n = new.cloned().unwrap_or(Value::Null);
    let o = old.cloned().unwrap_or(Value::Null);
    if !sem_eq(&n, &o) {
        errs.push(FieldError::invalid(path, n, FIELD_IMMUTABLE_MSG));
    }
}

/// `ValidateImmutableField` for a value rendered by `render`.
pub(crate) fn immutable_rendered(
    errs: &mut Errs,
    new: Option<&Value>,
    old: Option<&Value>,
    path: &str,
    render: impl Fn(Option<&Value>) -> String,
) {
    let n = new.cloned().unwrap_or(Value::Null);
    let o = old.cloned().unwrap_or(Value::Null);
    if !sem_eq(&n, &o) {
        errs.push(invalid_raw(path, &render(new), FIELD_IMMUTABLE_MSG));
    }
}

// ---------------------------------------------------------------------------------------------
// Go `%#v` renderings.
// ---------------------------------------------------------------------------------------------

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `%#v` of a `map[string]string`: `map[string]string{"a":"b", "c":"d"}` (keys sorted) or
/// `map[string]string(nil)`.
pub(crate) fn go_map(v: Option<&Value>) -> String {
    match v.and_then(Value::as_object) {
        None => "map[string]string(nil)".to_string(),
        Some(m) => {
            let mut entries: Vec<(&String, String)> =
                m.iter().map(|(k, v)| (k, scalar_text(v))).collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}:{}", names::go_quote(k), names::go_quote(v)))
                .collect();
            format!("map[string]string{{{}}}", parts.join(", "))
        }
    }
}

/// `%#v` of a `[]string`, distinguishing nil (absent) from empty.
pub(crate) fn go_strings(v: Option<&Value>) -> String {
    match v.and_then(Value::as_array) {
        None => "[]string(nil)".to_string(),
        Some(a) => {
            let parts: Vec<String> = a.iter().map(|x| names::go_quote(&scalar_text(x))).collect();
            format!("[]string{{{}}}", parts.join(", "))
        }
    }
}

/// `%#v` of a `metav1.LabelSelector` (the value behind the pointer).
pub(crate) fn go_label_selector(v: Option<&Value>) -> String {
    let Some(sel) = v.filter(|x| x.is_object()) else {
        return "(*v1.LabelSelector)(nil)".to_string();
    };
    let exprs = match sel.get("matchExpressions").and_then(Value::as_array) {
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
        Some(a) => {
            let parts: Vec<String> = a
                .iter()
                .map(|e| {
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
                        names::go_quote(st(e, "key")),
                        names::go_quote(st(e, "operator")),
                        go_strings(get(e, "values"))
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", parts.join(", "))
        }
    };
    format!(
        "v1.LabelSelector{{MatchLabels:{}, MatchExpressions:{}}}",
        go_map(get(sel, "matchLabels")),
        exprs
    )
}

/// `%#v` of an `intstr.IntOrString`.
pub(crate) fn go_int_or_string(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => format!(
            "intstr.IntOrString{{Type:1, IntVal:0, StrVal:{}}}",
            names::go_quote(s)
        ),
        Some(n @ Value::Number(_)) => format!(
            "intstr.IntOrString{{Type:0, IntVal:{}, StrVal:\"\"}}",
            n.as_i64().unwrap_or(0)
        ),
        _ => "intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}".to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Small syntax checks of k8s.io/apimachinery/pkg/util/validation.
// ---------------------------------------------------------------------------------------------

/// `IsValidPortNum`.
pub(crate) fn is_valid_port_num(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) {
        Vec::new()
    } else {
        vec![inclusive_range_error(1, 65535)]
    }
}

/// `IsValidPortName` (IANA_SVC_NAME).
pub(crate) fn is_valid_port_name(port: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if port.len() > 15 {
        errs.push("must be no more than 15 characters".to_string());
    }
    if port.is_empty()
        || !port
            .bytes()
            .all(|b| b == b'-' || b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into());
    }
    if !port.bytes().any(|b| b.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".into());
    }
    if port.contains("--") {
        errs.push("must not contain consecutive hyphens".into());
    }
    if port.starts_with('-') || port.ends_with('-') {
        errs.push("must not begin or end with a hyphen".into());
    }
    errs
}

fn has_chdir_prefix(value: &str) -> Vec<String> {
    if value == "." {
        vec!["must not be '.'".into()]
    } else if value == ".." {
        vec!["must not be '..'".into()]
    } else if value.starts_with("..") {
        vec!["must not start with '..'".into()]
    } else {
        Vec::new()
    }
}

/// `IsConfigMapKey`.
pub(crate) fn is_config_map_key(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 253 {
        errs.push("must be no more than 253 characters".to_string());
    }
    if value.is_empty()
        || !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        errs.push(regex_error(
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
            "[-._a-zA-Z0-9]+",
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    errs.extend(has_chdir_prefix(value));
    errs
}

/// `IsRelaxedEnvVarName` (the RelaxedEnvironmentVariableValidation gate is on in v1.33).
pub(crate) fn is_env_var_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.is_empty() {
        errs.push("environment variable name must be non-empty".to_string());
    }
    if value.chars().any(|c| !(' '..='~').contains(&c) || c == '=') {
        errs.push(
            "a valid environment variable name must consist only of printable ASCII characters other than '='"
                .to_string(),
        );
    }
    errs
}

/// `IsValidPercent`.
pub(crate) fn is_valid_percent(value: &str) -> Vec<String> {
    let ok = value
        .strip_suffix('%')
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Vec::new()
    } else {
        vec![regex_error(
            "a valid percent string must be a numeric string followed by an ending '%'",
            "[0-9]+%",
            &["1%", "93%"],
        )]
    }
}

/// `IsHTTPHeaderName`.
pub(crate) fn is_http_header_name(value: &str) -> Vec<String> {
    if !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        Vec::new()
    } else {
        vec![regex_error(
            "a valid HTTP header must consist of alphanumeric characters or '-'",
            "[-A-Za-z0-9]+",
            &["X-Header-Name"],
        )]
    }
}

/// Go's `netutils.ParseIPSloppy` (IPv4 octets may have leading zeros).
pub(crate) fn parse_ip_sloppy(value: &str) -> Option<std::net::IpAddr> {
    if let Ok(ip) = value.parse::<std::net::IpAddr>() {
        return Some(ip);
    }
    let parts: Vec<&str> = value.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut octets = [0u8; 4];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        octets[i] = p.parse::<u8>().ok()?;
    }
    Some(std::net::IpAddr::from(octets))
}

/// `IsValidIP`.
pub(crate) fn valid_ip(errs: &mut Errs, value: &str, path: &str) {
    if parse_ip_sloppy(value).is_none() {
        errs.push(FieldError::invalid(
            path,
            json!(value),
            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        ));
    }
}

/// `IsValidCIDR`.
pub(crate) fn valid_cidr(errs: &mut Errs, value: &str, path: &str) {
    let ok = value.split_once('/').is_some_and(|(ip, bits)| {
        let Some(addr) = parse_ip_sloppy(ip) else {
            return false;
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        !bits.is_empty()
            && bits.bytes().all(|b| b.is_ascii_digit())
            && bits.parse::<u32>().is_ok_and(|n| n <= max)
    });
    if !ok {
        errs.push(FieldError::invalid(
            path,
            json!(value),
            "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
        ));
    }
}

/// `ValidateNonSpecialIP`.
pub(crate) fn non_special_ip(errs: &mut Errs, value: &str, path: &str) {
    let Some(ip) = parse_ip_sloppy(value) else {
        errs.push(FieldError::invalid(
            path,
            json!(value),
            "must be a valid IP address",
        ));
        return;
    };
    if ip.is_unspecified() {
        errs.push(FieldError::invalid(
            path,
            json!(value),
            format!("may not be unspecified ({value})"),
        ));
    }
    if ip.is_loopback() {
        errs.push(FieldError::invalid(
            path,
            json!(value),
            "may not be in the loopback range (127.0.0.0/8, ::1/128)",
        ));
    }
    let link_local_unicast = match ip {
        std::net::IpAddr::V4(v4) => v4.is_link_local(),
        std::net::IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    };
    if link_local_unicast {
        errs.push(FieldError::invalid(
            path,
            json!(value),
            "may not be in the link-local range (169.254.0.0/16, fe80::/10)",
        ));
    }
    let link_local_multicast = match ip {
        std::net::IpAddr::V4(v4) => {
            let o = v4.octets();
            o[0] == 224 && o[1] == 0 && o[2] == 0
        }
        std::net::IpAddr::V6(v6) => (v6.segments()[0] & 0xff0f) == 0xff02,
    };
    if link_local_multicast {
        errs.push(FieldError::invalid(
            path,
            json!(value),
            "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
        ));
    }
}

/// The text of a quantity in JSON (a string, or a number as written).
pub(crate) fn quantity_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Parses the quantity at `v`; a malformed one is reported at `path` (upstream rejects it when
/// decoding the request).
pub(crate) fn parse_quantity(errs: &mut Errs, v: &Value, path: &str) -> Option<quantity::Quantity> {
    let text = quantity_text(v)?;
    match quantity::parse(text.trim()) {
        Ok(q) => Some(q),
        Err(msg) => {
            errs.push(FieldError::invalid(path, json!(text), msg));
            None
        }
    }
}

#[cfg(test)]
mod tests;
