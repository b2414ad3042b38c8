//! Name, label and annotation syntax, and object metadata validation, as Kubernetes v1.33 does
//! them: `k8s.io/apimachinery/pkg/util/validation` (`IsDNS1123Subdomain`, `IsQualifiedName`, ...),
//! `pkg/api/validation/path` (`IsValidPathSegmentName`), `pkg/api/validation`
//! (`ValidateObjectMeta`, `ValidateObjectMetaUpdate`, `NameIsDNSSubdomain`, ...) and
//! `pkg/apis/meta/v1/validation` (`ValidateLabels`, `ValidateLabelSelector`,
//! `ValidateManagedFields`), plus the extra finalizer rule of Kubernetes' core validation
//! (`pkg/apis/core/validation.ValidateObjectMeta`).
//!
//! The `is_*` functions return upstream's messages; the `validate_*` functions return
//! [`FieldError`]s with upstream's field paths (`metadata.name`, `metadata.labels`, ...).

use crate::status::FieldError;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

// ---------------------------------------------------------------------------------------------
// Go formatting helpers (shared with selectors.rs)
// ---------------------------------------------------------------------------------------------

/// Whether Go's `unicode.IsPrint` holds, approximately: letters, marks, numbers, punctuation,
/// symbols and the ASCII space; not controls, other spaces, format characters, private use.
fn is_go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    let format_or_private = matches!(u,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F
        | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB
        | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF | 0xE0001 | 0xE0020..=0xE007F);
    !format_or_private
}

/// Go's `strconv.Quote` (`%q`): a double-quoted string with Go escapes.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Go's `%#v` of a `[]string`: `[]string{"a", "b"}`, or `[]string(nil)` when empty (the slices
/// upstream prints there are nil when empty).
pub(crate) fn go_string_slice(values: &[String]) -> String {
    if values.is_empty() {
        return "[]string(nil)".to_string();
    }
    let quoted: Vec<String> = values.iter().map(|v| go_quote(v)).collect();
    format!("[]string{{{}}}", quoted.join(", "))
}

// ---------------------------------------------------------------------------------------------
// Syntax checks (k8s.io/apimachinery/pkg/util/validation)
// ---------------------------------------------------------------------------------------------

const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME_MAX_LENGTH: usize = 63;
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_MAX_LENGTH: usize = 63;
const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_LABEL_MAX_LENGTH: usize = 63;
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const DNS1035_LABEL_MAX_LENGTH: usize = 63;

/// The total size (keys plus values, in bytes) annotations may have.
pub const TOTAL_ANNOTATION_SIZE_LIMIT_B: usize = 256 * (1 << 10);

/// `validation.RegexError`.
fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
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

fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
fn matches_dns1123_label(b: &[u8]) -> bool {
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) => {
            is_lower_alnum(f)
                && is_lower_alnum(l)
                && b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
        }
        _ => false,
    }
}

/// `^label(\.label)*$`
fn matches_dns1123_subdomain(b: &[u8]) -> bool {
    b.split(|&c| c == b'.').all(matches_dns1123_label)
}

/// `^[a-z]([-a-z0-9]*[a-z0-9])?$`
fn matches_dns1035_label(b: &[u8]) -> bool {
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) => {
            f.is_ascii_lowercase()
                && is_lower_alnum(l)
                && b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
        }
        _ => false,
    }
}

/// `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`
fn matches_qualified_name(b: &[u8]) -> bool {
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) => {
            f.is_ascii_alphanumeric()
                && l.is_ascii_alphanumeric()
                && b.iter()
                    .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

fn dns1123_label_errors(b: &[u8]) -> Vec<String> {
    let mut errs = Vec::new();
    if b.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_LABEL_MAX_LENGTH));
    }
    if !matches_dns1123_label(b) {
        if matches_dns1123_subdomain(b) {
            errs.push("must not contain dots".to_string());
        } else {
            errs.push(regex_error(
                DNS1123_LABEL_ERR_MSG,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

fn dns1123_subdomain_errors(b: &[u8]) -> Vec<String> {
    let mut errs = Vec::new();
    if b.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    if !matches_dns1123_subdomain(b) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_ERR_MSG,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

fn dns1035_label_errors(b: &[u8]) -> Vec<String> {
    let mut errs = Vec::new();
    if b.len() > DNS1035_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1035_LABEL_MAX_LENGTH));
    }
    if !matches_dns1035_label(b) {
        errs.push(regex_error(
            DNS1035_LABEL_ERR_MSG,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

/// `IsDNS1123Subdomain`: lower case alphanumerics, `-` and `.`, at most 253 characters.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    dns1123_subdomain_errors(value.as_bytes())
}

/// `IsDNS1123Label`: lower case alphanumerics and `-`, at most 63 characters.
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    dns1123_label_errors(value.as_bytes())
}

/// `IsDNS1035Label`: like a DNS-1123 label but starting with a letter.
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    dns1035_label_errors(value.as_bytes())
}

/// `IsQualifiedName`: `[prefix/]name`, the prefix a DNS-1123 subdomain, the name at most 63
/// alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric. Label keys, annotation keys
/// and finalizers use it.
pub fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else {
                errs.extend(
                    is_dns1123_subdomain(prefix)
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(
                    QUALIFIED_NAME_ERR_MSG,
                    QUALIFIED_NAME_FMT,
                    &["MyName", "my.name", "123-abc"]
                )
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > QUALIFIED_NAME_MAX_LENGTH {
        errs.push(format!(
            "name part {}",
            max_len_error(QUALIFIED_NAME_MAX_LENGTH)
        ));
    }
    if !matches_qualified_name(name.as_bytes()) {
        errs.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_ERR_MSG,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

/// `IsValidLabelValue`: empty, or at most 63 alphanumerics, `-`, `_`, `.`, starting and ending
/// alphanumeric.
pub fn is_valid_label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_VALUE_MAX_LENGTH {
        errs.push(max_len_error(LABEL_VALUE_MAX_LENGTH));
    }
    if !value.is_empty() && !matches_qualified_name(value.as_bytes()) {
        errs.push(regex_error(
            LABEL_VALUE_ERR_MSG,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// `path.IsValidPathSegmentName` (what `ValidatePathSegmentName` does for a name): not `.` or
/// `..`, and no `/` or `%`.
pub fn is_valid_path_segment_name(value: &str) -> Vec<String> {
    for illegal in [".", ".."] {
        if value == illegal {
            return vec![format!("may not be '{illegal}'")];
        }
    }
    is_valid_path_segment_prefix(value)
}

/// `path.IsValidPathSegmentPrefix` (for `generateName`): no `/` or `%`.
pub fn is_valid_path_segment_prefix(value: &str) -> Vec<String> {
    ["/", "%"]
        .iter()
        .filter(|c| value.contains(*c))
        .map(|c| format!("may not contain '{c}'"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Object names
// ---------------------------------------------------------------------------------------------

/// The rule a resource's object names follow (a `ValidateNameFunc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameRule {
    /// `NameIsDNSSubdomain`: most resources.
    Dns1123Subdomain,
    /// `NameIsDNSLabel`: namespaces.
    Dns1123Label,
    /// `NameIsDNS1035Label`: services.
    Dns1035Label,
    /// `path.ValidatePathSegmentName`: RBAC objects, and every object through the API server's
    /// generic check.
    PathSegment,
}

/// `maskTrailingDash`, byte for byte as upstream (which drops two bytes before appending `a`).
fn mask_trailing_dash(name: &[u8]) -> Vec<u8> {
    if name.len() > 1 && name.ends_with(b"-") {
        let mut v = name[..name.len() - 2].to_vec();
        v.push(b'a');
        v
    } else {
        name.to_vec()
    }
}

impl NameRule {
    /// The `ValidateNameFunc`: the messages for `name`, or for a `generateName` prefix when
    /// `prefix` is true (a trailing `-` is then allowed, as a suffix will follow it).
    pub fn validate(self, name: &str, prefix: bool) -> Vec<String> {
        let masked;
        let b: &[u8] = if prefix && self != NameRule::PathSegment {
            masked = mask_trailing_dash(name.as_bytes());
            &masked
        } else {
            name.as_bytes()
        };
        match self {
            NameRule::Dns1123Subdomain => dns1123_subdomain_errors(b),
            NameRule::Dns1123Label => dns1123_label_errors(b),
            NameRule::Dns1035Label => dns1035_label_errors(b),
            NameRule::PathSegment => {
                if prefix {
                    is_valid_path_segment_prefix(name)
                } else {
                    is_valid_path_segment_name(name)
                }
            }
        }
    }
}

/// The name rule Kubernetes v1.33 applies to objects of a built-in resource:
/// namespaces are DNS-1123 labels, services DNS-1035 labels; RBAC roles, role bindings, cluster
/// roles and cluster role bindings are path segments, and so are core/v1 events, certificate
/// signing requests, API services and IP addresses (whose own validation checks no name syntax,
/// or something [`NameRule`] cannot express, so only the API server's generic path segment
/// check applies); everything else (pods, deployments, configmaps, CRDs, custom resources, ...)
/// is a DNS-1123 subdomain.
pub fn name_rule_for(group: &str, resource: &str) -> NameRule {
    match (group, resource) {
        ("", "namespaces") => NameRule::Dns1123Label,
        ("", "services") => NameRule::Dns1035Label,
        ("", "events")
        | ("certificates.k8s.io", "certificatesigningrequests")
        | ("apiregistration.k8s.io", "apiservices")
        | ("networking.k8s.io", "ipaddresses")
        | (
            "rbac.authorization.k8s.io",
            "roles" | "rolebindings" | "clusterroles" | "clusterrolebindings",
        ) => NameRule::PathSegment,
        _ => NameRule::Dns1123Subdomain,
    }
}

// ---------------------------------------------------------------------------------------------
// Metadata validation
// ---------------------------------------------------------------------------------------------

fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn sorted_entries(m: &Map<String, Value>) -> Vec<(&String, String)> {
    let mut v: Vec<(&String, String)> = m.iter().map(|(k, v)| (k, text(Some(v)))).collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a.iter().map(|x| text(Some(x))).collect(),
        _ => Vec::new(),
    }
}

/// `ValidateLabels`: keys must be qualified names and values label values. Errors sit on
/// `path` itself (`metadata.labels: Invalid value: "a b": ...`), as upstream. Keys are visited
/// in sorted order. `labels` is the map (null or absent: nothing to check).
pub fn validate_labels(labels: &Value, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let Some(m) = labels.as_object() else {
        return errs;
    };
    for (k, v) in sorted_entries(m) {
        for msg in is_qualified_name(k) {
            errs.push(FieldError::invalid(path, json!(k), msg));
        }
        for msg in is_valid_label_value(&v) {
            errs.push(FieldError::invalid(path, json!(v), msg));
        }
    }
    errs
}

/// `ValidateAnnotations`: keys must be qualified names (case ignored), and keys plus values at
/// most 256 KiB in total (`metadata.annotations: Too long: may not be more than 262144 bytes`).
pub fn validate_annotations(annotations: &Value, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let Some(m) = annotations.as_object() else {
        return errs;
    };
    let entries = sorted_entries(m);
    for (k, _) in &entries {
        for msg in is_qualified_name(&k.to_lowercase()) {
            errs.push(FieldError::invalid(path, json!(k), msg));
        }
    }
    let total: usize = entries.iter().map(|(k, v)| k.len() + v.len()).sum();
    if total > TOTAL_ANNOTATION_SIZE_LIMIT_B {
        errs.push(FieldError::too_long(
            path,
            json!(""),
            TOTAL_ANNOTATION_SIZE_LIMIT_B,
        ));
    }
    errs
}

/// `ValidateLabelSelector` (with default options) for a `metav1.LabelSelector` in JSON form at
/// `path` (e.g. `spec.selector`): `matchLabels` as labels, and each `matchExpressions[i]`'s
/// operator, values and key.
pub fn validate_label_selector(sel: &Value, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let Some(m) = sel.as_object() else {
        return errs;
    };
    if let Some(ml) = m.get("matchLabels") {
        errs.extend(validate_labels(ml, &format!("{path}.matchLabels")));
    }
    if let Some(Value::Array(exprs)) = m.get("matchExpressions") {
        for (i, e) in exprs.iter().enumerate() {
            let p = format!("{path}.matchExpressions[{i}]");
            let op = text(e.get("operator"));
            let values = string_list(e.get("values"));
            match op.as_str() {
                "In" | "NotIn" => {
                    if values.is_empty() {
                        errs.push(FieldError::required(
                            format!("{p}.values"),
                            "must be specified when `operator` is 'In' or 'NotIn'",
                        ));
                    }
                }
                "Exists" | "DoesNotExist" => {
                    if !values.is_empty() {
                        errs.push(FieldError::forbidden(
                            format!("{p}.values"),
                            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                        ));
                    }
                }
                _ => errs.push(FieldError::invalid(
                    format!("{p}.operator"),
                    json!(op),
                    "not a valid selector operator",
                )),
            }
            let key = text(e.get("key"));
            for msg in is_qualified_name(&key) {
                errs.push(FieldError::invalid(format!("{p}.key"), json!(key), msg));
            }
            for (j, v) in values.iter().enumerate() {
                for msg in is_valid_label_value(v) {
                    errs.push(FieldError::invalid(
                        format!("{p}.values[{j}]"),
                        json!(v),
                        msg,
                    ));
                }
            }
        }
    }
    errs
}

/// `schema.ParseGroupVersion`: `(group, version)`, or `None` for more than one `/`.
fn parse_group_version(gv: &str) -> Option<(&str, &str)> {
    if gv.is_empty() || gv == "/" {
        return Some(("", ""));
    }
    match gv.matches('/').count() {
        0 => Some(("", gv)),
        1 => gv.split_once('/'),
        _ => None,
    }
}

/// `ValidateOwnerReferences`. Errors of one reference sit on `<path>.apiVersion`, `.kind`,
/// `.name`, `.uid` without an index, as upstream.
fn validate_owner_references(refs: Option<&Value>, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let Some(Value::Array(list)) = refs else {
        return errs;
    };
    let mut first_controller = String::new();
    for r in list {
        let api_version = text(r.get("apiVersion"));
        let kind = text(r.get("kind"));
        let name = text(r.get("name"));
        let uid = text(r.get("uid"));
        let (group, version) = parse_group_version(&api_version).unwrap_or(("", ""));
        if version.is_empty() {
            errs.push(FieldError::invalid(
                format!("{path}.apiVersion"),
                json!(api_version),
                "version must not be empty",
            ));
        }
        if kind.is_empty() {
            errs.push(FieldError::invalid(
                format!("{path}.kind"),
                json!(kind),
                "kind must not be empty",
            ));
        }
        if name.is_empty() {
            errs.push(FieldError::invalid(
                format!("{path}.name"),
                json!(name),
                "name must not be empty",
            ));
        }
        if uid.is_empty() {
            errs.push(FieldError::invalid(
                format!("{path}.uid"),
                json!(uid),
                "uid must not be empty",
            ));
        }
        if group.is_empty() && version == "v1" && kind == "Event" {
            errs.push(FieldError::invalid(
                path,
                r.clone(),
                "/v1, Kind=Event is disallowed from being an owner",
            ));
        }
        if r.get("controller").and_then(Value::as_bool) == Some(true) {
            let current = format!("{kind}/{name}");
            if first_controller.is_empty() {
                first_controller = current;
            } else {
                errs.push(FieldError::invalid(
                    path,
                    Value::Array(list.clone()),
                    format!(
                        "Only one reference can have Controller set to true. Found \"true\" in references for {first_controller} and {current}"
                    ),
                ));
            }
        }
    }
    errs
}

/// `ValidateFinalizers`: each a qualified name (errors on `<path>`), and not both `orphan` and
/// `foregroundDeletion`.
fn validate_finalizers(finalizers: &[String], raw: Option<&Value>, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for f in finalizers {
        for msg in is_qualified_name(f) {
            errs.push(FieldError::invalid(path, json!(f), msg));
        }
    }
    if finalizers.iter().any(|f| f == "orphan")
        && finalizers.iter().any(|f| f == "foregroundDeletion")
    {
        errs.push(FieldError::invalid(
            path,
            raw.cloned().unwrap_or(Value::Null),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
    errs
}

/// Kubernetes' core rule for built-in kinds (`validateKubeFinalizerName`): a finalizer without
/// a `/` must be one of the standard ones.
fn validate_kube_finalizer_names(finalizers: &[String], path: &str) -> Vec<FieldError> {
    finalizers
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            !f.contains('/')
                && !matches!(f.as_str(), "kubernetes" | "orphan" | "foregroundDeletion")
        })
        .map(|(i, f)| {
            FieldError::invalid(
                format!("{path}[{i}]"),
                json!(f),
                "name is neither a standard finalizer name nor is it fully qualified",
            )
        })
        .collect()
}

/// `ValidateManagedFields`.
fn validate_managed_fields(entries: Option<&Value>, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let Some(Value::Array(list)) = entries else {
        return errs;
    };
    for (i, e) in list.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let op = text(e.get("operation"));
        if op != "Apply" && op != "Update" {
            errs.push(FieldError::invalid(
                format!("{p}.operation"),
                json!(op),
                "must be `Apply` or `Update`",
            ));
        }
        let fields_type = text(e.get("fieldsType"));
        if !fields_type.is_empty() && fields_type != "FieldsV1" {
            errs.push(FieldError::invalid(
                format!("{p}.fieldsType"),
                json!(fields_type),
                "must be `FieldsV1`",
            ));
        }
        let manager = text(e.get("manager"));
        if manager.len() > 128 {
            errs.push(FieldError::too_long(format!("{p}.manager"), json!(""), 128));
        }
        for (pos, c) in manager.char_indices() {
            if !is_go_printable(c) {
                errs.push(FieldError::invalid(
                    format!("{p}.manager"),
                    json!(manager),
                    format!("invalid character U+{:04X} (at position {pos})", c as u32),
                ));
            }
        }
        if text(e.get("subresource")).len() > 256 {
            errs.push(FieldError::too_long(
                format!("{p}.subresource"),
                json!(""),
                256,
            ));
        }
    }
    errs
}

fn int_of(v: Option<&Value>) -> i64 {
    v.and_then(Value::as_i64).unwrap_or(0)
}

/// `ValidateObjectMetaAccessor` of apimachinery, the generic part: what custom resources and
/// the API server's common check (with [`NameRule::PathSegment`]) use. `meta` is the object's
/// `metadata`. See [`validate_object_meta`] for built-in kinds.
///
/// Upstream validates after generating the name from `generateName`; do the same to get the
/// name checked too. When `name` is empty but `generateName` is set, only the prefix is checked
/// (no "required" error), since the name is still to be generated.
pub fn validate_generic_object_meta(
    meta: &Value,
    namespaced: bool,
    rule: NameRule,
) -> Vec<FieldError> {
    let empty = Map::new();
    let m = meta.as_object().unwrap_or(&empty);
    let mut errs = Vec::new();

    let generate_name = text(m.get("generateName"));
    if !generate_name.is_empty() {
        for msg in rule.validate(&generate_name, true) {
            errs.push(FieldError::invalid(
                "metadata.generateName",
                json!(generate_name),
                msg,
            ));
        }
    }
    let name = text(m.get("name"));
    if name.is_empty() {
        if generate_name.is_empty() {
            errs.push(FieldError::required(
                "metadata.name",
                "name or generateName is required",
            ));
        }
    } else {
        for msg in rule.validate(&name, false) {
            errs.push(FieldError::invalid("metadata.name", json!(name), msg));
        }
    }
    let namespace = text(m.get("namespace"));
    if namespaced {
        if namespace.is_empty() {
            errs.push(FieldError::required("metadata.namespace", ""));
        } else {
            for msg in is_dns1123_label(&namespace) {
                errs.push(FieldError::invalid(
                    "metadata.namespace",
                    json!(namespace),
                    msg,
                ));
            }
        }
    } else if !namespace.is_empty() {
        errs.push(FieldError::forbidden(
            "metadata.namespace",
            "not allowed on this type",
        ));
    }
    let generation = int_of(m.get("generation"));
    if generation < 0 {
        errs.push(FieldError::invalid(
            "metadata.generation",
            json!(generation),
            "must be greater than or equal to 0",
        ));
    }
    errs.extend(common_meta_checks(m, true));
    errs
}

/// Labels, annotations, owner references, finalizers (on create only) and managed fields, in
/// upstream's order.
fn common_meta_checks(m: &Map<String, Value>, with_finalizers: bool) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(l) = m.get("labels") {
        errs.extend(validate_labels(l, "metadata.labels"));
    }
    if let Some(a) = m.get("annotations") {
        errs.extend(validate_annotations(a, "metadata.annotations"));
    }
    errs.extend(validate_owner_references(
        m.get("ownerReferences"),
        "metadata.ownerReferences",
    ));
    if with_finalizers {
        let finalizers = string_list(m.get("finalizers"));
        errs.extend(validate_finalizers(
            &finalizers,
            m.get("finalizers"),
            "metadata.finalizers",
        ));
    }
    errs.extend(validate_managed_fields(
        m.get("managedFields"),
        "metadata.managedFields",
    ));
    errs
}

/// `ValidateObjectMeta` as Kubernetes' built-in kinds run it
/// (`pkg/apis/core/validation.ValidateObjectMeta`): [`validate_generic_object_meta`] plus the
/// rule that a finalizer without a `/` must be a standard one (`kubernetes`, `orphan`,
/// `foregroundDeletion`; error on `metadata.finalizers[i]`).
///
/// Checks, with upstream's paths and messages: `metadata.generateName` (the prefix, a trailing
/// `-` allowed), `metadata.name` (`Required value: name or generateName is required`, or the
/// rule's messages), `metadata.namespace` (required and a DNS-1123 label when `namespaced`,
/// `Forbidden: not allowed on this type` otherwise), `metadata.generation` (not negative),
/// `metadata.labels`, `metadata.annotations` (keys, total size), `metadata.ownerReferences`
/// (apiVersion, kind, name, uid, at most one controller, no v1 Event owner),
/// `metadata.finalizers` (qualified names, not both orphan and foregroundDeletion) and
/// `metadata.managedFields`. Map keys are visited in sorted order.
pub fn validate_object_meta(meta: &Value, namespaced: bool, rule: NameRule) -> Vec<FieldError> {
    let mut errs = validate_generic_object_meta(meta, namespaced, rule);
    errs.extend(validate_kube_finalizer_names(
        &string_list(meta.get("finalizers")),
        "metadata.finalizers",
    ));
    errs
}

/// A point in time from an RFC 3339 text: seconds since the epoch and nanoseconds.
fn parse_rfc3339(s: &str) -> Option<(i64, u32)> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut nanos: u32 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &s[start..i];
        if digits.is_empty() {
            return None;
        }
        let mut padded: String = digits.chars().take(9).collect();
        while padded.len() < 9 {
            padded.push('0');
        }
        nanos = padded.parse().ok()?;
    }
    let offset_secs = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let secs = num(i + 1, 2)? * 3600 + num(i + 4, 2)? * 60;
            if sign == b'+' { secs } else { -secs }
        }
        _ => return None,
    };
    // Days from civil (proleptic Gregorian), after Howard Hinnant.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((
        days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs,
        nanos,
    ))
}

/// Semantic equality of two `metav1.Time` values (absent and null are the zero time).
fn same_time(a: Option<&Value>, b: Option<&Value>) -> bool {
    let norm = |v: Option<&Value>| v.filter(|v| !v.is_null()).cloned();
    let (a, b) = (norm(a), norm(b));
    match (&a, &b) {
        (Some(Value::String(x)), Some(Value::String(y))) => {
            match (parse_rfc3339(x), parse_rfc3339(y)) {
                (Some(p), Some(q)) => p == q,
                _ => x == y,
            }
        }
        _ => a == b,
    }
}

/// `ValidateObjectMetaAccessorUpdate` of apimachinery (what custom resources and the API
/// server's common check use); see [`validate_object_meta_update`].
pub fn validate_generic_object_meta_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let empty = Map::new();
    let n = new.as_object().unwrap_or(&empty);
    let o = old.as_object().unwrap_or(&empty);
    let mut errs = Vec::new();

    if o.get("deletionTimestamp").is_some_and(|v| !v.is_null()) {
        let old_set: BTreeSet<String> = string_list(o.get("finalizers")).into_iter().collect();
        let extra: Vec<String> = string_list(n.get("finalizers"))
            .into_iter()
            .filter(|f| !old_set.contains(f))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if !extra.is_empty() {
            errs.push(FieldError::forbidden(
                "metadata.finalizers",
                format!(
                    "no new finalizers can be added if the object is being deleted, found new finalizers {}",
                    go_string_slice(&extra)
                ),
            ));
        }
    }
    let resource_version = text(n.get("resourceVersion"));
    if resource_version.is_empty() {
        errs.push(FieldError::invalid(
            "metadata.resourceVersion",
            json!(resource_version),
            "must be specified for an update",
        ));
    }
    let (new_gen, old_gen) = (int_of(n.get("generation")), int_of(o.get("generation")));
    if new_gen < old_gen {
        errs.push(FieldError::invalid(
            "metadata.generation",
            json!(new_gen),
            "must not be decremented",
        ));
    }
    for key in ["name", "namespace", "uid"] {
        let (nv, ov) = (text(n.get(key)), text(o.get(key)));
        if nv != ov {
            errs.push(FieldError::invalid(
                format!("metadata.{key}"),
                json!(nv),
                "field is immutable",
            ));
        }
    }
    for key in ["creationTimestamp", "deletionTimestamp"] {
        if !same_time(n.get(key), o.get(key)) {
            errs.push(FieldError::invalid(
                format!("metadata.{key}"),
                n.get(key).cloned().unwrap_or(Value::Null),
                "field is immutable",
            ));
        }
    }
    let grace = |m: &Map<String, Value>| {
        m.get("deletionGracePeriodSeconds")
            .cloned()
            .unwrap_or(Value::Null)
    };
    if grace(n) != grace(o) {
        errs.push(FieldError::invalid(
            "metadata.deletionGracePeriodSeconds",
            grace(n),
            "field is immutable",
        ));
    }
    errs.extend(common_meta_checks(n, false));
    errs
}

/// `ValidateObjectMetaUpdate` as Kubernetes' built-in kinds run it: `new` and `old` are the
/// objects' `metadata`. Checks that no finalizer is added once the object is being deleted,
/// that `metadata.resourceVersion` is set (copy the stored one first for an unconditional
/// update, as upstream does), that `metadata.generation` does not decrease, that `name`,
/// `namespace`, `uid`, `creationTimestamp`, `deletionTimestamp` and
/// `deletionGracePeriodSeconds` are unchanged (`metadata.name: Invalid value: "b": field is
/// immutable`), then the labels, annotations, owner references and managed fields of `new`, and
/// the standard finalizer name rule.
///
/// Note that upstream's update path first copies the old `uid` (when the new one is empty),
/// `creationTimestamp`, `deletionTimestamp` and `deletionGracePeriodSeconds` into the new object,
/// so clients rarely see those immutability errors.
pub fn validate_object_meta_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = validate_generic_object_meta_update(new, old);
    errs.extend(validate_kube_finalizer_names(
        &string_list(new.get("finalizers")),
        "metadata.finalizers",
    ));
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::FieldErrorKind;

    const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const DNS1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    const NAME_PART_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

    fn msgs(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(|e| e.to_string()).collect()
    }

    /// Good and bad values of upstream's validation_test.go.
    #[test]
    fn upstream_value_lists() {
        let a63 = "a".repeat(63);
        let a64 = "a".repeat(64);
        let label_good = [
            "a",
            "ab",
            "abc",
            "a1",
            "a-1",
            "a--1--2--b",
            "0",
            "01",
            "012",
            "1a",
            "1-a",
            "1--a--b--2",
            &a63,
        ];
        let label_bad = [
            "", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1", "_", "a_",
            "_a", "a_b", "1_", "_1", "1_2", ".", "a.", ".a", "a.b", "1.", ".1", "1.2", " ", "a ",
            " a", "a b", "1 ", " 1", "1 2", &a64,
        ];
        for v in label_good {
            assert!(is_dns1123_label(v).is_empty(), "{v}");
            assert!(is_dns1123_subdomain(v).is_empty(), "{v}");
        }
        for v in label_bad {
            assert!(!is_dns1123_label(v).is_empty(), "{v}");
        }
        for v in [
            "a.a",
            "a--1--2--b.1",
            "0.1",
            "1--a--b--2.1",
            "a.b.c.d.e",
            "1.2.3.4.5",
            &"a".repeat(253),
        ] {
            assert!(is_dns1123_subdomain(v).is_empty(), "{v}");
        }
        for v in [
            "",
            "A",
            "-",
            "a-",
            "_",
            ".",
            "a.",
            ".a",
            "a..b",
            "1..2",
            " ",
            "a b",
            "A.a",
            "ab.A",
            "0.A",
            "a.B.c.d.e",
            "a@b",
            "a,b",
            "a;b",
            "a:b",
            "a%b",
            "a?b",
            "a$b",
            &"a".repeat(254),
        ] {
            assert!(!is_dns1123_subdomain(v).is_empty(), "{v}");
        }
        for v in ["a", "ab", "abc", "a1", "a-1", "a--1--2--b", &a63] {
            assert!(is_dns1035_label(v).is_empty(), "{v}");
        }
        for v in ["0", "01", "012", "1a", "1-a", "1--a--b--2"]
            .into_iter()
            .chain(label_bad)
        {
            assert!(!is_dns1035_label(v).is_empty(), "{v}");
        }
        let long_qualified = format!("{}/{}", "a".repeat(253), "b".repeat(63));
        for v in [
            "simple",
            "now-with-dashes",
            "1-starts-with-num",
            "1234",
            "simple/simple",
            "now-with-dashes/simple",
            "now.with.dots/simple",
            "1-num.2-num/3-num",
            "1234/5678",
            "1.2.3.4/5678",
            "Uppercase_Is_OK_123",
            "example.com/Uppercase_Is_OK_123",
            "requests.storage-foo",
            &a63,
            &long_qualified,
        ] {
            assert!(is_qualified_name(v).is_empty(), "{v}");
        }
        let too_long_prefix = format!("{}/abc", "a".repeat(254));
        for v in [
            "nospecialchars%^=@",
            "cantendwithadash-",
            "-cantstartwithadash-",
            "only/one/slash",
            "Example.com/abc",
            "example_com/abc",
            "example.com/",
            "/simple",
            &a64,
            &too_long_prefix,
        ] {
            assert!(!is_qualified_name(v).is_empty(), "{v}");
        }
        for v in [
            "simple",
            "now-with-dashes",
            "1-starts-with-num",
            "end-with-num-1",
            "1234",
            &a63,
            "",
        ] {
            assert!(is_valid_label_value(v).is_empty(), "{v}");
        }
        for v in [
            "nospecialchars%^=@",
            "Tama-nui-te-rā.is.Māori.sun",
            "\\backslashes\\are\\bad",
            "-starts-with-dash",
            "ends-with-dash-",
            ".starts.with.dot",
            "ends.with.dot.",
            &a64,
        ] {
            assert!(!is_valid_label_value(v).is_empty(), "{v}");
        }
    }

    #[test]
    fn dns1123_subdomain() {
        for ok in [
            "a",
            "ab",
            "a-b",
            "a.b",
            "1.2.3",
            "a1-b2.c3",
            &"a".repeat(253),
        ] {
            assert!(is_dns1123_subdomain(ok).is_empty(), "{ok}");
        }
        for bad in ["", "A", "a_b", "-a", "a-", "a..b", ".a", "a.", "a.-b", "ä"] {
            assert_eq!(
                is_dns1123_subdomain(bad),
                vec![SUBDOMAIN_MSG.to_string()],
                "{bad}"
            );
        }
        assert_eq!(
            is_dns1123_subdomain(&"a".repeat(254)),
            vec!["must be no more than 253 characters".to_string()]
        );
    }

    #[test]
    fn dns1123_label() {
        assert!(is_dns1123_label("my-name").is_empty());
        assert!(is_dns1123_label("123-abc").is_empty());
        assert_eq!(
            is_dns1123_label("a.b"),
            vec!["must not contain dots".to_string()]
        );
        assert_eq!(is_dns1123_label("A"), vec![LABEL_MSG.to_string()]);
        assert_eq!(is_dns1123_label(""), vec![LABEL_MSG.to_string()]);
        assert_eq!(
            is_dns1123_label(&"a".repeat(64)),
            vec!["must be no more than 63 characters".to_string()]
        );
        assert_eq!(
            is_dns1123_label(&format!("{}.b", "a".repeat(63))),
            vec![
                "must be no more than 63 characters".to_string(),
                "must not contain dots".to_string()
            ]
        );
    }

    #[test]
    fn dns1035_label() {
        assert!(is_dns1035_label("abc-123").is_empty());
        assert!(is_dns1035_label("a").is_empty());
        for bad in ["1abc", "-a", "a-", "A", "", "a.b"] {
            assert_eq!(
                is_dns1035_label(bad),
                vec![DNS1035_MSG.to_string()],
                "{bad}"
            );
        }
    }

    #[test]
    fn qualified_name() {
        for ok in [
            "a",
            "A.b_c-d",
            "example.com/MyName",
            "k8s.io/a",
            &"a".repeat(63),
        ] {
            assert!(is_qualified_name(ok).is_empty(), "{ok}");
        }
        assert_eq!(is_qualified_name("a_"), vec![NAME_PART_MSG.to_string()]);
        assert_eq!(
            is_qualified_name(""),
            vec![
                "name part must be non-empty".to_string(),
                NAME_PART_MSG.to_string()
            ]
        );
        assert_eq!(
            is_qualified_name("/a"),
            vec!["prefix part must be non-empty".to_string()]
        );
        assert_eq!(
            is_qualified_name("Example.com/a"),
            vec![format!("prefix part {SUBDOMAIN_MSG}")]
        );
        assert_eq!(
            is_qualified_name("a/"),
            vec![
                "name part must be non-empty".to_string(),
                NAME_PART_MSG.to_string()
            ]
        );
        assert_eq!(
            is_qualified_name(&"a".repeat(64)),
            vec!["name part must be no more than 63 characters".to_string()]
        );
        assert_eq!(
            is_qualified_name("a/b/c"),
            vec!["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".to_string()]
        );
    }

    #[test]
    fn label_value() {
        for ok in [
            "",
            "a",
            "MyValue",
            "my_value",
            "12345",
            "a.b-c_d",
            &"v".repeat(63),
        ] {
            assert!(is_valid_label_value(ok).is_empty(), "{ok}");
        }
        assert_eq!(
            is_valid_label_value("a b"),
            vec![LABEL_VALUE_MSG.to_string()]
        );
        assert_eq!(
            is_valid_label_value("_a"),
            vec![LABEL_VALUE_MSG.to_string()]
        );
        assert_eq!(
            is_valid_label_value(&"v".repeat(64)),
            vec!["must be no more than 63 characters".to_string()]
        );
    }

    #[test]
    fn path_segment() {
        assert!(is_valid_path_segment_name("system:admin").is_empty());
        assert!(is_valid_path_segment_name("...").is_empty());
        assert_eq!(
            is_valid_path_segment_name("."),
            vec!["may not be '.'".to_string()]
        );
        assert_eq!(
            is_valid_path_segment_name(".."),
            vec!["may not be '..'".to_string()]
        );
        assert_eq!(
            is_valid_path_segment_name("a/b%c"),
            vec![
                "may not contain '/'".to_string(),
                "may not contain '%'".to_string()
            ]
        );
        assert!(NameRule::PathSegment.validate("..", true).is_empty());
    }

    #[test]
    fn generate_name_prefix() {
        assert!(NameRule::Dns1123Subdomain.validate("web-", true).is_empty());
        assert!(
            !NameRule::Dns1123Subdomain
                .validate("web-", false)
                .is_empty()
        );
        assert!(NameRule::Dns1123Label.validate("x-", true).is_empty());
        assert!(NameRule::Dns1035Label.validate("svc-", true).is_empty());
        // Upstream's maskTrailingDash drops the character before the dash too.
        assert!(NameRule::Dns1123Subdomain.validate("a.-", true).is_empty());
        assert!(!NameRule::Dns1123Subdomain.validate("-", true).is_empty());
        assert!(NameRule::Dns1123Subdomain.validate("é-", true).len() == 1);
    }

    #[test]
    fn rules_per_resource() {
        assert_eq!(name_rule_for("", "namespaces"), NameRule::Dns1123Label);
        assert_eq!(name_rule_for("", "services"), NameRule::Dns1035Label);
        for r in [
            "roles",
            "rolebindings",
            "clusterroles",
            "clusterrolebindings",
        ] {
            assert_eq!(
                name_rule_for("rbac.authorization.k8s.io", r),
                NameRule::PathSegment
            );
        }
        assert_eq!(name_rule_for("", "pods"), NameRule::Dns1123Subdomain);
        assert_eq!(
            name_rule_for("apps", "deployments"),
            NameRule::Dns1123Subdomain
        );
        assert_eq!(name_rule_for("", "events"), NameRule::PathSegment);
        assert_eq!(
            name_rule_for("events.k8s.io", "events"),
            NameRule::Dns1123Subdomain
        );
        assert_eq!(
            name_rule_for("example.com", "widgets"),
            NameRule::Dns1123Subdomain
        );
    }

    #[test]
    fn object_meta_required_and_names() {
        let e = validate_object_meta(&json!({}), true, NameRule::Dns1123Subdomain);
        assert_eq!(
            msgs(&e),
            vec![
                "metadata.name: Required value: name or generateName is required",
                "metadata.namespace: Required value",
            ]
        );
        assert_eq!(e[0].kind, FieldErrorKind::Required);

        let e = validate_object_meta(
            &json!({"name": "Web", "namespace": "default"}),
            true,
            NameRule::Dns1123Subdomain,
        );
        assert_eq!(
            msgs(&e),
            vec![format!(
                "metadata.name: Invalid value: \"Web\": {SUBDOMAIN_MSG}"
            )]
        );

        let e = validate_object_meta(&json!({"name": "a.b"}), false, NameRule::Dns1123Label);
        assert_eq!(
            msgs(&e),
            vec!["metadata.name: Invalid value: \"a.b\": must not contain dots"]
        );

        let e = validate_object_meta(
            &json!({"name": "1svc", "namespace": "ns"}),
            true,
            NameRule::Dns1035Label,
        );
        assert_eq!(
            msgs(&e),
            vec![format!(
                "metadata.name: Invalid value: \"1svc\": {DNS1035_MSG}"
            )]
        );

        let e = validate_object_meta(
            &json!({"name": "system:admin"}),
            false,
            NameRule::PathSegment,
        );
        assert!(e.is_empty());

        let e = validate_object_meta(
            &json!({"generateName": "Web-", "namespace": "ns"}),
            true,
            NameRule::Dns1123Subdomain,
        );
        assert_eq!(
            msgs(&e),
            vec![format!(
                "metadata.generateName: Invalid value: \"Web-\": {SUBDOMAIN_MSG}"
            )]
        );
        assert!(
            validate_object_meta(
                &json!({"generateName": "web-", "name": "web-x7k2p", "namespace": "ns"}),
                true,
                NameRule::Dns1123Subdomain
            )
            .is_empty()
        );
    }

    #[test]
    fn object_meta_namespace() {
        let e = validate_object_meta(
            &json!({"name": "a", "namespace": "ns"}),
            false,
            NameRule::Dns1123Subdomain,
        );
        assert_eq!(
            msgs(&e),
            vec!["metadata.namespace: Forbidden: not allowed on this type"]
        );
        let e = validate_object_meta(
            &json!({"name": "a", "namespace": "a.b"}),
            true,
            NameRule::Dns1123Subdomain,
        );
        assert_eq!(
            msgs(&e),
            vec!["metadata.namespace: Invalid value: \"a.b\": must not contain dots"]
        );
    }

    #[test]
    fn object_meta_labels_annotations() {
        let e = validate_object_meta(
            &json!({"name": "a", "generation": -1,
                    "labels": {"ok": "fine", "bad key": "v", "k": "bad value"},
                    "annotations": {"Example.com/Ok": "x", "a/b/c": "y"}}),
            false,
            NameRule::Dns1123Subdomain,
        );
        assert_eq!(
            msgs(&e),
            vec![
                "metadata.generation: Invalid value: -1: must be greater than or equal to 0".to_string(),
                format!("metadata.labels: Invalid value: \"bad key\": {NAME_PART_MSG}"),
                format!("metadata.labels: Invalid value: \"bad value\": {LABEL_VALUE_MSG}"),
                "metadata.annotations: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".to_string(),
            ]
        );
        let big = "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT_B);
        let e = validate_object_meta(
            &json!({"name": "a", "annotations": {"k": big}}),
            false,
            NameRule::Dns1123Subdomain,
        );
        assert_eq!(
            msgs(&e),
            vec!["metadata.annotations: Too long: may not be more than 262144 bytes"]
        );
        assert_eq!(e[0].kind, FieldErrorKind::TooLong);
        let fits = "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT_B - 1);
        assert!(
            validate_object_meta(
                &json!({"name": "a", "annotations": {"k": fits}}),
                false,
                NameRule::Dns1123Subdomain
            )
            .is_empty()
        );
    }

    #[test]
    fn object_meta_owner_references() {
        let e = validate_object_meta(
            &json!({"name": "a", "namespace": "n", "ownerReferences": [
                {"apiVersion": "", "kind": "", "name": "", "uid": ""},
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs1", "uid": "u1", "controller": true},
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs2", "uid": "u2", "controller": true},
                {"apiVersion": "v1", "kind": "Event", "name": "e", "uid": "u3"}
            ]}),
            true,
            NameRule::Dns1123Subdomain,
        );
        let m = msgs(&e);
        assert_eq!(
            m[0],
            "metadata.ownerReferences.apiVersion: Invalid value: \"\": version must not be empty"
        );
        assert_eq!(
            m[1],
            "metadata.ownerReferences.kind: Invalid value: \"\": kind must not be empty"
        );
        assert_eq!(
            m[2],
            "metadata.ownerReferences.name: Invalid value: \"\": name must not be empty"
        );
        assert_eq!(
            m[3],
            "metadata.ownerReferences.uid: Invalid value: \"\": uid must not be empty"
        );
        assert_eq!(e[4].field, "metadata.ownerReferences");
        assert_eq!(
            e[4].detail,
            "Only one reference can have Controller set to true. Found \"true\" in references for ReplicaSet/rs1 and ReplicaSet/rs2"
        );
        assert_eq!(
            e[5].detail,
            "/v1, Kind=Event is disallowed from being an owner"
        );
        assert_eq!(e.len(), 6);
        let e = validate_object_meta(
            &json!({"name": "a", "namespace": "n", "ownerReferences": [
                {"apiVersion": "a/b/c", "kind": "K", "name": "x", "uid": "u"}]}),
            true,
            NameRule::Dns1123Subdomain,
        );
        assert_eq!(
            msgs(&e),
            vec![
                "metadata.ownerReferences.apiVersion: Invalid value: \"a/b/c\": version must not be empty"
            ]
        );
    }

    #[test]
    fn object_meta_finalizers() {
        let e = validate_object_meta(
            &json!({"name": "a", "finalizers": ["kubernetes", "example.com/x", "foo", "bad_/x"]}),
            false,
            NameRule::Dns1123Subdomain,
        );
        assert_eq!(
            msgs(&e),
            vec![
                format!("metadata.finalizers: Invalid value: \"bad_/x\": prefix part {SUBDOMAIN_MSG}"),
                "metadata.finalizers[2]: Invalid value: \"foo\": name is neither a standard finalizer name nor is it fully qualified".to_string(),
            ]
        );
        let e = validate_generic_object_meta(
            &json!({"name": "a", "finalizers": ["orphan", "foregroundDeletion", "foo"]}),
            false,
            NameRule::Dns1123Subdomain,
        );
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field, "metadata.finalizers");
        assert_eq!(
            e[0].detail,
            "finalizer orphan and foregroundDeletion cannot be both set"
        );
    }

    #[test]
    fn object_meta_managed_fields() {
        let e = validate_object_meta(
            &json!({"name": "a", "managedFields": [
                {"manager": "kubectl", "operation": "Apply", "fieldsType": "FieldsV1"},
                {"manager": "bad\u{7}", "operation": "Patch", "fieldsType": "FieldsV2",
                 "subresource": "s".repeat(257)},
                {"manager": "m".repeat(129), "operation": "Update"}
            ]}),
            false,
            NameRule::Dns1123Subdomain,
        );
        assert_eq!(
            msgs(&e),
            vec![
                "metadata.managedFields[1].operation: Invalid value: \"Patch\": must be `Apply` or `Update`",
                "metadata.managedFields[1].fieldsType: Invalid value: \"FieldsV2\": must be `FieldsV1`",
                "metadata.managedFields[1].manager: Invalid value: \"bad\\u{7}\": invalid character U+0007 (at position 3)",
                "metadata.managedFields[1].subresource: Too long: may not be more than 256 bytes",
                "metadata.managedFields[2].manager: Too long: may not be more than 128 bytes",
            ]
        );
    }

    #[test]
    fn object_meta_update() {
        let old = json!({"name": "a", "namespace": "n", "uid": "u1", "resourceVersion": "5",
                         "generation": 3, "creationTimestamp": "2024-01-02T03:04:05Z"});
        let same = json!({"name": "a", "namespace": "n", "uid": "u1", "resourceVersion": "5",
                          "generation": 3, "creationTimestamp": "2024-01-02T04:04:05+01:00"});
        assert!(validate_object_meta_update(&same, &old).is_empty());

        let new = json!({"name": "b", "namespace": "m", "uid": "u2", "generation": 2,
                         "creationTimestamp": "2025-01-01T00:00:00Z", "deletionGracePeriodSeconds": 30});
        assert_eq!(
            msgs(&validate_object_meta_update(&new, &old)),
            vec![
                "metadata.resourceVersion: Invalid value: \"\": must be specified for an update",
                "metadata.generation: Invalid value: 2: must not be decremented",
                "metadata.name: Invalid value: \"b\": field is immutable",
                "metadata.namespace: Invalid value: \"m\": field is immutable",
                "metadata.uid: Invalid value: \"u2\": field is immutable",
                "metadata.creationTimestamp: Invalid value: \"2025-01-01T00:00:00Z\": field is immutable",
                "metadata.deletionGracePeriodSeconds: Invalid value: 30: field is immutable",
            ]
        );
    }

    #[test]
    fn update_finalizers_while_deleting() {
        let old = json!({"name": "a", "resourceVersion": "1", "finalizers": ["a.io/x"],
                         "deletionTimestamp": "2024-01-01T00:00:00Z"});
        let new = json!({"name": "a", "resourceVersion": "1", "finalizers": ["a.io/x", "b.io/y", "a.io/z"],
                         "deletionTimestamp": "2024-01-01T00:00:00Z", "labels": {"k": "-"}});
        assert_eq!(
            msgs(&validate_object_meta_update(&new, &old)),
            vec![
                "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"a.io/z\", \"b.io/y\"}".to_string(),
                format!("metadata.labels: Invalid value: \"-\": {LABEL_VALUE_MSG}"),
            ]
        );
    }

    #[test]
    fn label_selector_validation() {
        let e = validate_label_selector(
            &json!({"matchLabels": {"a": "b c"}, "matchExpressions": [
                {"key": "k", "operator": "In"},
                {"key": "k", "operator": "Exists", "values": ["x"]},
                {"key": "k_", "operator": "Foo", "values": ["-"]}
            ]}),
            "spec.selector",
        );
        assert_eq!(
            msgs(&e),
            vec![
                format!("spec.selector.matchLabels: Invalid value: \"b c\": {LABEL_VALUE_MSG}"),
                "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'".to_string(),
                "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'".to_string(),
                "spec.selector.matchExpressions[2].operator: Invalid value: \"Foo\": not a valid selector operator".to_string(),
                format!("spec.selector.matchExpressions[2].key: Invalid value: \"k_\": {NAME_PART_MSG}"),
                format!("spec.selector.matchExpressions[2].values[0]: Invalid value: \"-\": {LABEL_VALUE_MSG}"),
            ]
        );
    }

    #[test]
    fn go_quoting() {
        assert_eq!(
            go_quote("a\"b\\c\n\u{7}é\u{200b}"),
            "\"a\\\"b\\\\c\\n\\aé\\u200b\""
        );
        assert_eq!(go_string_slice(&[]), "[]string(nil)");
        assert_eq!(
            go_string_slice(&["a".into(), "b".into()]),
            "[]string{\"a\", \"b\"}"
        );
    }

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some((0, 0)));
        assert_eq!(
            parse_rfc3339("2000-03-01T00:00:00.5Z"),
            Some((951_868_800, 500_000_000))
        );
        assert_eq!(parse_rfc3339("nope"), None);
    }
}
