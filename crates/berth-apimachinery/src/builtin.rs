//! Decoding of request bodies of built-in kinds through the k8s-openapi types, as kube-apiserver's
//! JSON serializer and create/update handlers do it:
//!
//! - `apiVersion`/`kind` are defaulted from the endpoint when missing (`gvkWithDefaults`) and
//!   checked against it, with Kubernetes' messages;
//! - the body is deserialized into the k8s-openapi type (type errors become 400 BadRequest with a
//!   message shaped like Go's `json: cannot unmarshal ... into Go struct field ...`);
//! - fields the type does not know are found by comparing the body with the typed round trip and
//!   reported per the `fieldValidation` directive (`unknown field "spec.foo"`, paths as
//!   sigs.k8s.io/json writes them: `spec.template.spec.containers[0].foo`);
//! - the result keeps only known fields (Kubernetes stores only what its types know).
//!
//! Also: conversion between `events.k8s.io/v1` and core `v1` Events (Kubernetes stores both as
//! the same object; Berth stores the core/v1 form).

use crate::resources::ResourceInfo;
use crate::status::{ApiError, FieldError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

// ---------------------------------------------------------------------------------------------
// fieldValidation
// ---------------------------------------------------------------------------------------------

/// The `fieldValidation` query parameter of create, update and patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    /// Drop unknown fields silently.
    Ignore,
    /// Drop unknown fields and warn about each (`Warning: 299 - "unknown field \"spec.foo\""`).
    /// Kubernetes' default when the parameter is absent or empty.
    #[default]
    Warn,
    /// Reject the request with 400 BadRequest when there are unknown fields.
    Strict,
}

impl FieldValidation {
    /// Parses the parameter of a create request; see [`FieldValidation::parse_for`].
    pub fn parse(value: &str) -> Result<Self, ApiError> {
        Self::parse_for(value, "CreateOptions")
    }

    /// Parses the `fieldValidation` parameter. `options_kind` is the options kind of the verb
    /// (`CreateOptions`, `UpdateOptions` or `PatchOptions`) and only shows in the error, which is
    /// Kubernetes' 422: `CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported
    /// value: "foo": supported values: "", "Ignore", "Strict", "Warn"`. The empty string means
    /// the default, `Warn`. Values are case-sensitive, as upstream.
    pub fn parse_for(value: &str, options_kind: &str) -> Result<Self, ApiError> {
        match value {
            "" | "Warn" => Ok(Self::Warn),
            "Ignore" => Ok(Self::Ignore),
            "Strict" => Ok(Self::Strict),
            other => Err(ApiError::invalid(
                "meta.k8s.io",
                options_kind,
                "",
                &[FieldError::not_supported(
                    "fieldValidation",
                    Value::String(other.to_string()),
                    &["", "Ignore", "Strict", "Warn"],
                )],
            )),
        }
    }

    /// `Ignore`, `Warn` or `Strict`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ignore => "Ignore",
            Self::Warn => "Warn",
            Self::Strict => "Strict",
        }
    }
}

impl FromStr for FieldValidation {
    type Err = ApiError;
    fn from_str(s: &str) -> Result<Self, ApiError> {
        Self::parse(s)
    }
}

impl fmt::Display for FieldValidation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/// A decoded body.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The body with only the fields the type knows, scalars normalized through the typed round
    /// trip (timestamps in UTC, numeric quantities as strings, ...), `kind` and `apiVersion`
    /// first and set to the endpoint's. Explicit `null` members are dropped.
    pub object: Value,
    /// `unknown field "spec.foo"` per unknown field when validation is `Warn`; to be sent as
    /// `Warning: 299 - "<text>"` headers.
    pub warnings: Vec<String>,
}

/// Most strict-decoding errors Kubernetes accumulates for one object.
const MAX_STRICT_ERRORS: usize = 100;

/// Decodes the body a client sent to resource `info` (create or update of the main resource,
/// or of its `status`, which speaks the same kind).
pub fn decode(
    info: &ResourceInfo,
    body: Value,
    validation: FieldValidation,
) -> Result<Decoded, ApiError> {
    decode_kind(&info.group, &info.version, &info.kind, body, validation)
}

/// Decodes a body of the built-in kind `group`/`version`/`kind`; also for subresource kinds:
/// `autoscaling`/`v1`/`Scale`, `""`/`v1`/`Binding`, `policy`/`v1`/`Eviction` (a
/// `policy/v1beta1` Eviction is accepted too, as Kubernetes does, and returned as `policy/v1`)
/// and `meta.k8s.io`/`v1`/`DeleteOptions` (any apiVersion accepted, as every group version
/// registers DeleteOptions; its apiVersion/kind are left as sent).
pub fn decode_kind(
    group: &str,
    version: &str,
    kind: &str,
    body: Value,
    validation: FieldValidation,
) -> Result<Decoded, ApiError> {
    let entry = find_type(group, version, kind).ok_or_else(|| {
        ApiError::internal(format!(
            "no built-in type for kind {kind} in version {}",
            gv_string(group, version)
        ))
    })?;
    let is_delete_options = entry.kind == "DeleteOptions";

    // What the data says it is (SimpleMetaFactory.Interpret), defaulted from the endpoint.
    let (data_group, data_version, data_kind) = interpret(entry, &body)?;

    if !is_delete_options {
        check_kind_and_version(entry, &data_group, &data_version, &data_kind)?;
    } else if data_kind != "DeleteOptions" {
        // DeleteOptions is registered in every group-version, so only the kind can be wrong.
        check_kind_and_version(entry, META, "v1", &data_kind)?;
    }
    let handled_as = |cause: &str| {
        ApiError::bad_request(format!(
            "{data_kind} in version \"{data_version}\" cannot be handled as a {}: {cause}",
            entry.kind
        ))
    };

    let mut work = body;
    if !is_delete_options && let Value::Object(m) = &mut work {
        m.insert(
            "apiVersion".into(),
            Value::String(gv_string(entry.group, entry.version)),
        );
        m.insert("kind".into(), Value::String(entry.kind.to_string()));
    }

    let typed = typed_decode(entry, &mut work).map_err(|msg| handled_as(&msg))?;

    // Known fields only; unknown ones recorded in document order.
    let mut walk = Walk::default();
    let merged = walk.merge(&work, &typed, &mut Vec::new());
    let mut unknown = walk.unknown;
    unknown.extend(resolve_null_candidates(entry, &work, walk.null_candidates));
    unknown.sort_by_key(|(order, _)| *order);
    let unknown: Vec<String> = unknown
        .into_iter()
        .take(MAX_STRICT_ERRORS)
        .map(|(_, p)| format!("unknown field \"{}\"", format_path(&p)))
        .collect();

    let mut warnings = Vec::new();
    match validation {
        FieldValidation::Strict if !unknown.is_empty() => {
            return Err(handled_as(&format!(
                "strict decoding error: {}",
                unknown.join(", ")
            )));
        }
        FieldValidation::Warn => warnings = unknown,
        _ => {}
    }

    let object = if is_delete_options {
        merged
    } else {
        let mut out = Map::new();
        out.insert("kind".into(), Value::String(entry.kind.to_string()));
        out.insert(
            "apiVersion".into(),
            Value::String(gv_string(entry.group, entry.version)),
        );
        if let Value::Object(m) = merged {
            for (k, v) in m {
                if k != "kind" && k != "apiVersion" {
                    out.insert(k, v);
                }
            }
        }
        Value::Object(out)
    };
    Ok(Decoded { object, warnings })
}

/// Whether `group`/`kind` is a built-in kind [`decode_kind`] handles (in some version): the
/// kinds of the served resources plus the subresource kinds Scale (autoscaling), Binding (core),
/// Eviction (policy) and DeleteOptions (meta.k8s.io).
pub fn is_builtin_kind(group: &str, kind: &str) -> bool {
    TYPES.iter().any(|t| t.group == group && t.kind == kind)
}

fn gv_string(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

/// Kubernetes' `summarizeData(body, 30)`.
fn summarize(body: &Value) -> String {
    let s = body.to_string();
    if s.len() > 30 {
        let mut end = 30;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{} ...", &s[..end])
    } else {
        s
    }
}

/// `SimpleMetaFactory.Interpret` plus `gvkWithDefaults`: the group, version and kind the data
/// claims, missing parts taken from the endpoint.
fn interpret(entry: &TypeEntry, body: &Value) -> Result<(String, String, String), ApiError> {
    let unrecognized = |cause: String| {
        ApiError::bad_request(format!(
            "the object provided is unrecognized (must be of type {}): {cause} ({})",
            entry.kind,
            summarize(body)
        ))
    };
    const FIND_KIND: &str = "struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }";
    let Value::Object(m) = body else {
        return Err(unrecognized(format!(
            "couldn't get version/kind; json parse error: json: cannot unmarshal {} into Go value of type {FIND_KIND}",
            go_value_kind(body)
        )));
    };
    let field = |name: &str| -> Result<String, ApiError> {
        match m.get(name) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(unrecognized(format!(
                "couldn't get version/kind; json parse error: json: cannot unmarshal {} into Go struct field .{name} of type string",
                go_value_kind(other)
            ))),
        }
    };
    let api_version = field("apiVersion")?;
    let mut kind = field("kind")?;
    let (mut group, mut version) = match api_version.split('/').collect::<Vec<_>>().as_slice() {
        [""] => (String::new(), String::new()),
        [v] => (String::new(), (*v).to_string()),
        [g, v] => ((*g).to_string(), (*v).to_string()),
        _ => {
            return Err(unrecognized(format!(
                "unexpected GroupVersion string: {api_version}"
            )));
        }
    };
    if kind.is_empty() {
        kind = entry.kind.to_string();
    }
    if version.is_empty() && group.is_empty() {
        group = entry.group.to_string();
        version = entry.version.to_string();
    }
    if version.is_empty() && group == entry.group {
        version = entry.version.to_string();
    }
    Ok((group, version, kind))
}

/// The checks kube-apiserver's decoder and create/update handlers make between the data's
/// group/version/kind and the endpoint's.
fn check_kind_and_version(
    entry: &TypeEntry,
    group: &str,
    version: &str,
    kind: &str,
) -> Result<(), ApiError> {
    if group == entry.group && version == entry.version && kind == entry.kind {
        return Ok(());
    }
    // The eviction subresource accepts policy/v1beta1 too.
    if entry.kind == "Eviction" && kind == "Eviction" && group == POLICY && version == "v1beta1" {
        return Ok(());
    }
    let same_kind = kind == entry.kind
        // core and events.k8s.io Events share one internal type: they convert, then fail the
        // group-version check.
        || (kind == "Event" && entry.kind == "Event" && matches!(group, "" | "events.k8s.io"));
    if same_kind {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({}) does not match the expected API version ({})",
            gv_string(group, version),
            gv_string(entry.group, entry.version)
        )));
    }
    let cause = if let Some(data_type) = find_type(group, version, kind) {
        format!(
            "converting ({}.{}) to ({}.{}): unknown conversion",
            data_type.version,
            data_type.kind,
            internal_package(entry.group),
            entry.kind
        )
    } else {
        format!(
            "no kind \"{kind}\" is registered for version \"{}\" in scheme \"k8s.io/kubernetes/pkg/api/legacyscheme/scheme.go:30\"",
            gv_string(group, version)
        )
    };
    Err(ApiError::bad_request(format!(
        "{kind} in version \"{version}\" cannot be handled as a {}: {cause}",
        entry.kind
    )))
}

/// Go package name of the internal types of a group (`k8s.io/kubernetes/pkg/apis/<name>`).
fn internal_package(group: &str) -> &'static str {
    match group {
        "" | "events.k8s.io" => "core",
        "apps" => "apps",
        "batch" => "batch",
        "autoscaling" => "autoscaling",
        "policy" => "policy",
        "networking.k8s.io" => "networking",
        "discovery.k8s.io" => "discovery",
        "coordination.k8s.io" => "coordination",
        "rbac.authorization.k8s.io" => "rbac",
        "scheduling.k8s.io" => "scheduling",
        "apiextensions.k8s.io" => "apiextensions",
        _ => "internalversion",
    }
}

// ---------------------------------------------------------------------------------------------
// The typed round trip
// ---------------------------------------------------------------------------------------------

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Seg {
    Key(String),
    Index(usize),
}

/// `spec.template.spec.containers[0].foo`, as sigs.k8s.io/json writes strict-error paths (map
/// keys are written like struct fields).
fn format_path(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => {
                s.push('[');
                s.push_str(&i.to_string());
                s.push(']');
            }
        }
    }
    s
}

fn get_path<'a>(mut v: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    for seg in path {
        v = match (seg, v) {
            (Seg::Key(k), Value::Object(m)) => m.get(k)?,
            (Seg::Index(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

fn get_path_mut<'a>(mut v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    for seg in path {
        v = match (seg, v) {
            (Seg::Key(k), Value::Object(m)) => m.get_mut(k)?,
            (Seg::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

/// Replaces the value at `path` (which must exist); false if it does not.
fn set_path(v: &mut Value, path: &[Seg], new: Value) -> bool {
    match get_path_mut(v, path) {
        Some(slot) => {
            *slot = new;
            true
        }
        None => false,
    }
}

fn remove_path(v: &mut Value, path: &[Seg]) {
    if let Some((Seg::Key(k), parent)) = path.split_last()
        && let Some(Value::Object(m)) = get_path_mut(v, parent)
    {
        m.shift_remove(k);
    }
}

/// A failed typed decode: where and serde's message.
#[derive(Debug)]
struct TypeFailure {
    path: Vec<Seg>,
    message: String,
    /// The failure happened serializing the typed value back (not the client's fault, mostly).
    serializing: bool,
}

type TypedFn = fn(&Value) -> Result<Value, TypeFailure>;

/// Deserializes into `T` and serializes back.
fn typed<T: DeserializeOwned + Serialize>(v: &Value) -> Result<Value, TypeFailure> {
    let t: T = serde_path_to_error::deserialize(v).map_err(|e| TypeFailure {
        path: e
            .path()
            .iter()
            .filter_map(|s| match s {
                serde_path_to_error::Segment::Seq { index } => Some(Seg::Index(*index)),
                serde_path_to_error::Segment::Map { key } => Some(Seg::Key(key.clone())),
                serde_path_to_error::Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
                serde_path_to_error::Segment::Unknown => None,
            })
            .collect(),
        message: e.into_inner().to_string(),
        serializing: false,
    })?;
    serde_json::to_value(&t).map_err(|e| TypeFailure {
        path: Vec::new(),
        message: e.to_string(),
        serializing: true,
    })
}

struct TypeEntry {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    typed: TypedFn,
}

const POLICY: &str = "policy";
const META: &str = "meta.k8s.io";

macro_rules! types {
    ($(($group:expr, $version:expr, $kind:expr, $ty:ty)),* $(,)?) => {
        &[$(TypeEntry { group: $group, version: $version, kind: $kind, typed: typed::<$ty> }),*]
    };
}

use k8s_openapi::api as k8s;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;

static TYPES: &[TypeEntry] = types![
    ("", "v1", "Namespace", k8s::core::v1::Namespace),
    ("", "v1", "Pod", k8s::core::v1::Pod),
    ("", "v1", "Service", k8s::core::v1::Service),
    ("", "v1", "Endpoints", k8s::core::v1::Endpoints),
    ("", "v1", "ConfigMap", k8s::core::v1::ConfigMap),
    ("", "v1", "Secret", k8s::core::v1::Secret),
    ("", "v1", "ServiceAccount", k8s::core::v1::ServiceAccount),
    ("", "v1", "Event", k8s::core::v1::Event),
    ("", "v1", "Node", k8s::core::v1::Node),
    (
        "",
        "v1",
        "PersistentVolumeClaim",
        k8s::core::v1::PersistentVolumeClaim
    ),
    ("", "v1", "ResourceQuota", k8s::core::v1::ResourceQuota),
    ("", "v1", "LimitRange", k8s::core::v1::LimitRange),
    ("", "v1", "Binding", k8s::core::v1::Binding),
    ("apps", "v1", "Deployment", k8s::apps::v1::Deployment),
    ("apps", "v1", "ReplicaSet", k8s::apps::v1::ReplicaSet),
    ("apps", "v1", "StatefulSet", k8s::apps::v1::StatefulSet),
    ("apps", "v1", "DaemonSet", k8s::apps::v1::DaemonSet),
    (
        "apps",
        "v1",
        "ControllerRevision",
        k8s::apps::v1::ControllerRevision
    ),
    ("batch", "v1", "Job", k8s::batch::v1::Job),
    ("batch", "v1", "CronJob", k8s::batch::v1::CronJob),
    (
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        k8s::autoscaling::v2::HorizontalPodAutoscaler
    ),
    ("autoscaling", "v1", "Scale", k8s::autoscaling::v1::Scale),
    (
        "policy",
        "v1",
        "PodDisruptionBudget",
        k8s::policy::v1::PodDisruptionBudget
    ),
    ("policy", "v1", "Eviction", k8s::policy::v1::Eviction),
    (
        "networking.k8s.io",
        "v1",
        "Ingress",
        k8s::networking::v1::Ingress
    ),
    (
        "networking.k8s.io",
        "v1",
        "IngressClass",
        k8s::networking::v1::IngressClass
    ),
    (
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        k8s::networking::v1::NetworkPolicy
    ),
    (
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        k8s::discovery::v1::EndpointSlice
    ),
    (
        "coordination.k8s.io",
        "v1",
        "Lease",
        k8s::coordination::v1::Lease
    ),
    ("events.k8s.io", "v1", "Event", k8s::events::v1::Event),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "Role",
        k8s::rbac::v1::Role
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        k8s::rbac::v1::RoleBinding
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        k8s::rbac::v1::ClusterRole
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        k8s::rbac::v1::ClusterRoleBinding
    ),
    (
        "scheduling.k8s.io",
        "v1",
        "PriorityClass",
        k8s::scheduling::v1::PriorityClass
    ),
    (
        "authentication.k8s.io",
        "v1",
        "SelfSubjectReview",
        k8s::authentication::v1::SelfSubjectReview
    ),
    (
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        apiextensions::CustomResourceDefinition
    ),
    ("meta.k8s.io", "v1", "DeleteOptions", meta::DeleteOptions),
];

fn find_type(group: &str, version: &str, kind: &str) -> Option<&'static TypeEntry> {
    // DeleteOptions is registered in every group version.
    if kind == "DeleteOptions" {
        return TYPES.iter().find(|t| t.kind == "DeleteOptions");
    }
    TYPES
        .iter()
        .find(|t| t.group == group && t.version == version && t.kind == kind)
}

/// Most `null`s in lists or map values replaced by zero values before giving up.
const MAX_NULL_FIXES: usize = 1000;

/// Runs the typed round trip on `work`. A `null` where the type has no room for one (list items,
/// map values) is replaced in `work` by the zero value of the expected type, as Go's decoder
/// leaves zero values there. Errors are messages in Go's shape.
fn typed_decode(entry: &TypeEntry, work: &mut Value) -> Result<Value, String> {
    for _ in 0..MAX_NULL_FIXES {
        match (entry.typed)(work) {
            Ok(v) => return Ok(v),
            Err(f) if f.serializing => return Err(f.message),
            Err(f) => {
                if matches!(get_path(work, &f.path), Some(Value::Null))
                    && let Some(expected) = expected_of(&f.message)
                    && set_path(work, &f.path, zero_value(&expected))
                {
                    continue;
                }
                return Err(TypeErrorContext::new(entry, work).message(&f));
            }
        }
    }
    Err("too many null values".into())
}

/// The `expected ...` part of a serde error message.
fn expected_of(message: &str) -> Option<String> {
    let at = message.rfind(", expected ")?;
    Some(message[at + ", expected ".len()..].to_string())
}

fn zero_value(expected: &str) -> Value {
    match expected {
        "a string" | "a base64-encoded string" | "a timestamp string" | "a char" => json!(""),
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "f32" | "f64"
        | "IntOrString" => json!(0),
        "Quantity" => json!("0"),
        "a boolean" => json!(false),
        "a sequence" => json!([]),
        _ => json!({}),
    }
}

/// Kinds of JSON value as Go's decoder names them in `cannot unmarshal <kind>`.
fn go_value_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Types with their own (un)marshalling in Go: no struct context inside them.
const OPAQUE_TYPES: &[&str] = &[
    "IntOrString",
    "Quantity",
    "Time",
    "MicroTime",
    "JSON",
    "RawExtension",
    "FieldsV1",
    "JSONSchemaPropsOrBool",
    "JSONSchemaPropsOrArray",
    "JSONSchemaPropsOrStringArray",
];

/// Types of k8s.io/apimachinery/pkg/apis/meta/v1 (package `v1` whatever the API version).
const META_TYPES: &[&str] = &[
    "ObjectMeta",
    "ListMeta",
    "LabelSelector",
    "LabelSelectorRequirement",
    "OwnerReference",
    "ManagedFieldsEntry",
    "Condition",
    "Preconditions",
    "DeleteOptions",
];

fn is_struct_name(expected: &str) -> bool {
    expected
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase())
        && expected.chars().all(|c| c.is_ascii_alphanumeric())
        && !OPAQUE_TYPES.contains(&expected)
}

/// Probes the body to learn the Go-ish types along an error path, to write type errors like
/// Go's `json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type
/// int32`.
struct TypeErrorContext<'a> {
    entry: &'a TypeEntry,
    work: &'a Value,
    cache: HashMap<Vec<Seg>, Option<String>>,
}

impl<'a> TypeErrorContext<'a> {
    fn new(entry: &'a TypeEntry, work: &'a Value) -> Self {
        Self {
            entry,
            work,
            cache: HashMap::new(),
        }
    }

    /// What the type at `path` expects (`DeploymentSpec`, `a map`, `i32`, ...), learned by
    /// putting `probe` there and reading the error at `path` + `child`.
    fn probe(&self, path: &[Seg], probe: Value, child: Option<Seg>) -> Option<String> {
        let mut v = self.work.clone();
        if !set_path(&mut v, path, probe) {
            return None;
        }
        let mut want: Vec<Seg> = path.to_vec();
        want.extend(child);
        match (self.entry.typed)(&v) {
            Err(f) if !f.serializing && f.path == want => expected_of(&f.message),
            _ => None,
        }
    }

    /// The type expected by the container at `path` (root: the kind).
    fn container_type(&mut self, path: &[Seg]) -> Option<String> {
        if path.is_empty() {
            return Some(self.entry.kind.to_string());
        }
        if let Some(t) = self.cache.get(path) {
            return t.clone();
        }
        // Structs, maps and lists all refuse a string; free-form values accept it.
        let t = self.probe(path, json!("\u{1}"), None);
        self.cache.insert(path.to_vec(), t.clone());
        t
    }

    fn package(&self, name: &str) -> String {
        if META_TYPES.contains(&name) {
            "v1".into()
        } else {
            self.entry.version.to_string()
        }
    }

    /// Go's name of the type serde describes as `expected` at `path`.
    fn go_type(&self, expected: &str, path: &[Seg], depth: usize) -> String {
        match expected {
            "i8" => "int8".into(),
            "i16" => "int16".into(),
            "i32" => "int32".into(),
            "i64" => "int64".into(),
            "u8" => "uint8".into(),
            "u16" => "uint16".into(),
            "u32" => "uint32".into(),
            "u64" => "uint64".into(),
            "f32" => "float32".into(),
            "f64" => "float64".into(),
            "a boolean" => "bool".into(),
            "a string" | "a char" | "a timestamp string" => "string".into(),
            "a base64-encoded string" => "[]uint8".into(),
            "IntOrString" => "intstr.IntOrString".into(),
            "Quantity" => "resource.Quantity".into(),
            "RawExtension" => "runtime.RawExtension".into(),
            "a sequence" => {
                let elem = if depth < 3 {
                    self.probe(path, json!([[]]), Some(Seg::Index(0))).map(|e| {
                        let mut p = path.to_vec();
                        p.push(Seg::Index(0));
                        self.go_type(&e, &p, depth + 1)
                    })
                } else {
                    None
                };
                format!("[]{}", elem.unwrap_or_else(|| "interface {}".into()))
            }
            "a map" => {
                let elem = if depth < 3 {
                    self.probe(path, json!({"k": []}), Some(Seg::Key("k".into())))
                        .map(|e| {
                            let mut p = path.to_vec();
                            p.push(Seg::Key("k".into()));
                            self.go_type(&e, &p, depth + 1)
                        })
                } else {
                    None
                };
                format!(
                    "map[string]{}",
                    elem.unwrap_or_else(|| "interface {}".into())
                )
            }
            name if name.chars().all(|c| c.is_ascii_alphanumeric())
                && name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) =>
            {
                format!("{}.{name}", self.package(name))
            }
            other => other.to_string(),
        }
    }

    /// The message for a failed decode at `f.path`.
    fn message(mut self, f: &TypeFailure) -> String {
        let path = &f.path;
        // Go's error context: the struct fields along the path (no indices, no map keys) and
        // the innermost struct.
        let mut fields: Vec<&str> = Vec::new();
        let mut struct_name = String::new();
        for (i, seg) in path.iter().enumerate() {
            if let Seg::Key(k) = seg
                && let Some(t) = self.container_type(&path[..i])
                && is_struct_name(&t)
            {
                fields.push(k);
                struct_name = t;
            }
        }
        let value = get_path(self.work, path);
        let expected = expected_of(&f.message);
        let is_type_error =
            f.message.starts_with("invalid type: ") || f.message.starts_with("invalid value: ");

        if let (Some(expected), true) = (&expected, is_type_error) {
            let integer = matches!(
                expected.as_str(),
                "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64"
            );
            let value_kind = match value {
                Some(Value::Number(n))
                    if f.message.starts_with("invalid value: ")
                        || (integer && !n.is_i64() && !n.is_u64()) =>
                {
                    format!("number {n}")
                }
                Some(v) => go_value_kind(v).to_string(),
                None => "value".to_string(),
            };
            let go_type = self.go_type(expected, path, 0);
            return if fields.is_empty() {
                format!("json: cannot unmarshal {value_kind} into Go value of type {go_type}")
            } else {
                format!(
                    "json: cannot unmarshal {value_kind} into Go struct field {struct_name}.{} of type {go_type}",
                    fields.join(".")
                )
            };
        }

        // Errors of types with their own decoding.
        if let Some(Value::String(s)) = value {
            if let Some(b64) = base64_error(&f.message, s) {
                return b64;
            }
            let micro = matches!(
                path.last(),
                Some(Seg::Key(k)) if matches!(k.as_str(), "eventTime" | "renewTime" | "acquireTime" | "lastObservedTime")
            );
            if self.probe(path, json!([[]]), None).as_deref() == Some("a timestamp string") {
                return go_time_parse_error(s, micro);
            }
        }
        format!("error decoding {}: {}", format_path(path), f.message)
    }
}

/// Go's `illegal base64 data at input byte N` for the base64 crate's errors.
fn base64_error(message: &str, input: &str) -> Option<String> {
    let offset = if let Some(rest) = message
        .strip_prefix("Invalid symbol ")
        .or_else(|| message.strip_prefix("Invalid last symbol "))
    {
        rest.split("offset ")
            .nth(1)?
            .trim_end_matches('.')
            .parse::<usize>()
            .ok()?
    } else if message.starts_with("Invalid input length") {
        input.len() - input.len() % 4
    } else if message == "Invalid padding" {
        input.find('=').unwrap_or(input.len())
    } else {
        return None;
    };
    Some(format!("illegal base64 data at input byte {offset}"))
}

/// Go's `time.Parse` error for a string that is no RFC 3339 time (metav1.Time uses
/// `time.RFC3339`, metav1.MicroTime `RFC3339Micro`).
fn go_time_parse_error(value: &str, micro: bool) -> String {
    let layout = if micro {
        "2006-01-02T15:04:05.000000Z07:00"
    } else {
        "2006-01-02T15:04:05Z07:00"
    };
    let cannot = |rest: &str, elem: &str| {
        format!("parsing time {value:?} as {layout:?}: cannot parse {rest:?} as {elem:?}")
    };
    let digits =
        |s: &str, n: usize| s.len() >= n && s.as_bytes()[..n].iter().all(u8::is_ascii_digit);
    let mut rest = value;
    let mut numbers = Vec::new();
    let steps: [(&str, usize); 11] = [
        ("2006", 4),
        ("-", 0),
        ("01", 2),
        ("-", 0),
        ("02", 2),
        ("T", 0),
        ("15", 2),
        (":", 0),
        ("04", 2),
        (":", 0),
        ("05", 2),
    ];
    for (elem, n) in steps {
        if n == 0 {
            match rest.strip_prefix(elem) {
                Some(r) => rest = r,
                None => return cannot(rest, elem),
            }
        } else if digits(rest, n) {
            numbers.push(rest[..n].parse::<u32>().unwrap_or(0));
            rest = &rest[n..];
        } else {
            return cannot(rest, elem);
        }
    }
    if micro {
        if rest.len() >= 7 && rest.starts_with('.') && digits(&rest[1..], 6) {
            rest = &rest[7..];
        } else {
            return cannot(rest, ".000000");
        }
    } else if let Some(r) = rest.strip_prefix('.') {
        let n = r.bytes().take_while(u8::is_ascii_digit).count();
        rest = &r[n..];
    }
    if let Some(r) = rest.strip_prefix('Z') {
        rest = r;
    } else if rest.len() >= 6
        && matches!(rest.as_bytes()[0], b'+' | b'-')
        && digits(&rest[1..], 2)
        && rest.as_bytes()[3] == b':'
        && digits(&rest[4..], 2)
    {
        rest = &rest[6..];
    } else {
        return cannot(rest, "Z07:00");
    }
    let ranges = [
        ("month", 1..=12),
        ("day", 1..=31),
        ("hour", 0..=23),
        ("minute", 0..=59),
        ("second", 0..=59),
    ];
    for ((what, range), n) in ranges.into_iter().zip(numbers.iter().skip(1)) {
        if !range.contains(n) {
            return format!("parsing time {value:?}: {what} out of range");
        }
    }
    if !rest.is_empty() {
        return format!("parsing time {value:?}: extra text: {rest:?}");
    }
    format!("parsing time {value:?}: day out of range")
}

// ---------------------------------------------------------------------------------------------
// Unknown fields
// ---------------------------------------------------------------------------------------------

/// Walks the body against its typed round trip.
#[derive(Default)]
struct Walk {
    /// Document position of the next member visited.
    order: usize,
    /// Members the type does not know, with their document position.
    unknown: Vec<(usize, Vec<Seg>)>,
    /// Members whose value is `null` and which the typed value lacks: unknown, or known and
    /// optional; decided by [`resolve_null_candidates`].
    null_candidates: Vec<(usize, Vec<Seg>)>,
}

impl Walk {
    /// The body restricted to what the typed value knows, scalars taken from the typed value.
    fn merge(&mut self, orig: &Value, typed: &Value, path: &mut Vec<Seg>) -> Value {
        match (orig, typed) {
            (Value::Object(o), Value::Object(t)) => {
                let mut out = Map::new();
                for (k, v) in o {
                    let order = self.order;
                    self.order += 1;
                    path.push(Seg::Key(k.clone()));
                    match t.get(k) {
                        _ if v.is_null() => {
                            if !t.contains_key(k) {
                                self.null_candidates.push((order, path.clone()));
                            }
                        }
                        Some(tv) => {
                            let merged = self.merge(v, tv, path);
                            out.insert(k.clone(), merged);
                        }
                        None => self.unknown.push((order, path.clone())),
                    }
                    path.pop();
                }
                Value::Object(out)
            }
            (Value::Array(o), Value::Array(t)) if o.len() == t.len() => Value::Array(
                o.iter()
                    .zip(t)
                    .enumerate()
                    .map(|(i, (ov, tv))| {
                        path.push(Seg::Index(i));
                        let merged = self.merge(ov, tv, path);
                        path.pop();
                        merged
                    })
                    .collect(),
            ),
            // Go writes float64 1 as `1`: keep the client's spelling of an unchanged number.
            (Value::Number(o), Value::Number(t)) if o.as_f64() == t.as_f64() => orig.clone(),
            _ => typed.clone(),
        }
    }
}

/// Decides which `null` members are unknown fields: each is replaced by `true`; a known field
/// either rejects that (error at its path) or shows up in the typed value, an unknown one is
/// ignored.
fn resolve_null_candidates(
    entry: &TypeEntry,
    work: &Value,
    candidates: Vec<(usize, Vec<Seg>)>,
) -> Vec<(usize, Vec<Seg>)> {
    if candidates.is_empty() {
        return Vec::new();
    }
    let mut probe = work.clone();
    let mut remaining: Vec<(usize, Vec<Seg>)> = candidates
        .into_iter()
        .filter(|(_, p)| set_path(&mut probe, p, Value::Bool(true)))
        .collect();
    for _ in 0..=remaining.len() {
        match (entry.typed)(&probe) {
            Ok(typed) => {
                return remaining
                    .into_iter()
                    .filter(|(_, p)| get_path(&typed, p).is_none())
                    .collect();
            }
            Err(f) => {
                let Some(i) = remaining.iter().position(|(_, p)| f.path.starts_with(p)) else {
                    return Vec::new();
                };
                let (_, known) = remaining.remove(i);
                remove_path(&mut probe, &known);
            }
        }
    }
    Vec::new()
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

/// Moves `from` of `src` to `to` of `dst`; `omitempty` drops empty strings, zeros and nulls.
fn carry(src: &mut Map<String, Value>, dst: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(v) = src.remove(from) {
        let empty = match &v {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            Value::Number(n) => n.as_i64() == Some(0),
            _ => false,
        };
        if !empty {
            dst.insert(to.to_string(), v);
        }
    }
}

/// Moves `from` to `to` always (a Go struct, or a field without omitempty): `default` when
/// missing or null.
fn carry_always(
    src: &mut Map<String, Value>,
    dst: &mut Map<String, Value>,
    from: &str,
    to: &str,
    default: Value,
) {
    let v = match src.remove(from) {
        None | Some(Value::Null) => default,
        Some(v) => v,
    };
    dst.insert(to.to_string(), v);
}

fn into_map(obj: Value) -> Map<String, Value> {
    match obj {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Converts an `events.k8s.io/v1` Event into the core `v1` Event Kubernetes stores, as
/// `Convert_v1_Event_To_core_Event` (pkg/apis/events/v1/conversion.go) and the core/v1 JSON
/// encoding do: regarding → involvedObject, note → message, deprecatedSource → source,
/// deprecatedFirstTimestamp/LastTimestamp/Count → firstTimestamp/lastTimestamp/count,
/// reportingController → reportingComponent; eventTime, series, related, action, reason, type,
/// reportingInstance and metadata carry over. The output has the fields Go always writes
/// (`involvedObject`, `source`, the timestamps as `null`, `reportingComponent`,
/// `reportingInstance`) and drops empty `omitempty` ones.
pub fn event_v1_to_core(obj: Value) -> Value {
    let mut src = into_map(obj);
    let mut out = Map::new();
    out.insert("kind".into(), json!("Event"));
    out.insert("apiVersion".into(), json!("v1"));
    carry_always(&mut src, &mut out, "metadata", "metadata", json!({}));
    carry_always(&mut src, &mut out, "regarding", "involvedObject", json!({}));
    carry(&mut src, &mut out, "reason", "reason");
    carry(&mut src, &mut out, "note", "message");
    carry_always(&mut src, &mut out, "deprecatedSource", "source", json!({}));
    carry_always(
        &mut src,
        &mut out,
        "deprecatedFirstTimestamp",
        "firstTimestamp",
        Value::Null,
    );
    carry_always(
        &mut src,
        &mut out,
        "deprecatedLastTimestamp",
        "lastTimestamp",
        Value::Null,
    );
    carry(&mut src, &mut out, "deprecatedCount", "count");
    carry(&mut src, &mut out, "type", "type");
    carry_always(&mut src, &mut out, "eventTime", "eventTime", Value::Null);
    carry(&mut src, &mut out, "series", "series");
    carry(&mut src, &mut out, "action", "action");
    carry(&mut src, &mut out, "related", "related");
    carry_always(
        &mut src,
        &mut out,
        "reportingController",
        "reportingComponent",
        json!(""),
    );
    carry_always(
        &mut src,
        &mut out,
        "reportingInstance",
        "reportingInstance",
        json!(""),
    );
    Value::Object(out)
}

/// Converts a core `v1` Event into its `events.k8s.io/v1` form, as
/// `Convert_core_Event_To_v1_Event` and the events/v1 JSON encoding do (the inverse of
/// [`event_v1_to_core`]): involvedObject → regarding, message → note, source →
/// deprecatedSource, firstTimestamp/lastTimestamp/count → deprecated*, reportingComponent →
/// reportingController. Always written: `metadata`, `eventTime` (null when unset), `regarding`,
/// `deprecatedSource`, the deprecated timestamps (null when unset); empty `omitempty` fields are
/// dropped.
pub fn core_event_to_v1(obj: Value) -> Value {
    let mut src = into_map(obj);
    let mut out = Map::new();
    out.insert("kind".into(), json!("Event"));
    out.insert("apiVersion".into(), json!("events.k8s.io/v1"));
    carry_always(&mut src, &mut out, "metadata", "metadata", json!({}));
    carry_always(&mut src, &mut out, "eventTime", "eventTime", Value::Null);
    carry(&mut src, &mut out, "series", "series");
    carry(
        &mut src,
        &mut out,
        "reportingComponent",
        "reportingController",
    );
    carry(&mut src, &mut out, "reportingInstance", "reportingInstance");
    carry(&mut src, &mut out, "action", "action");
    carry(&mut src, &mut out, "reason", "reason");
    carry_always(&mut src, &mut out, "involvedObject", "regarding", json!({}));
    carry(&mut src, &mut out, "related", "related");
    carry(&mut src, &mut out, "message", "note");
    carry(&mut src, &mut out, "type", "type");
    carry_always(&mut src, &mut out, "source", "deprecatedSource", json!({}));
    carry_always(
        &mut src,
        &mut out,
        "firstTimestamp",
        "deprecatedFirstTimestamp",
        Value::Null,
    );
    carry_always(
        &mut src,
        &mut out,
        "lastTimestamp",
        "deprecatedLastTimestamp",
        Value::Null,
    );
    carry(&mut src, &mut out, "count", "deprecatedCount");
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::find_builtin;

    fn info(group: &str, version: &str, resource: &str) -> &'static ResourceInfo {
        find_builtin(group, version, resource).expect("resource in table")
    }

    fn ok(info: &ResourceInfo, body: Value, v: FieldValidation) -> Decoded {
        match decode(info, body, v) {
            Ok(d) => d,
            Err(e) => panic!("decode failed: {e}"),
        }
    }

    fn err(info: &ResourceInfo, body: Value, v: FieldValidation) -> ApiError {
        match decode(info, body, v) {
            Ok(d) => panic!("decode succeeded: {}", d.object),
            Err(e) => e,
        }
    }

    /// Round trip of a body with only known fields: same object back, no warnings.
    fn round_trip(info: &ResourceInfo, body: Value) {
        let d = ok(info, body.clone(), FieldValidation::Strict);
        assert_eq!(d.object, body, "round trip of {}", info.kind);
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        let keys: Vec<&String> = d
            .object
            .as_object()
            .expect("object")
            .keys()
            .take(2)
            .collect();
        assert_eq!(keys, ["kind", "apiVersion"]);
    }

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "web",
                "namespace": "default",
                "labels": {"app": "web"},
                "annotations": {"deployment.kubernetes.io/revision": "1", "note": ""},
                "resourceVersion": "42",
                "uid": "0b7c0c5e-1111-2222-3333-444455556666",
                "generation": 3,
                "creationTimestamp": "2024-05-01T10:00:00Z",
                "finalizers": ["example.com/x"],
                "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": "u", "controller": true}],
                "managedFields": [{"manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1",
                    "time": "2024-05-01T10:00:00Z", "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {"f:replicas": {}}}}]
            },
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [{
                            "name": "web",
                            "image": "nginx:1.27",
                            "args": ["--port", "80"],
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                            "env": [{"name": "A", "value": "b"}],
                            "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "100m"}},
                            "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5}
                        }],
                        "nodeSelector": {"kubernetes.io/os": "linux"},
                        "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}],
                        "restartPolicy": "Always",
                        "terminationGracePeriodSeconds": 30
                    }
                }
            },
            "status": {
                "replicas": 3,
                "readyReplicas": 3,
                "observedGeneration": 3,
                "conditions": [{"type": "Available", "status": "True", "lastUpdateTime": "2024-05-01T10:00:00Z",
                    "lastTransitionTime": "2024-05-01T10:00:00Z", "reason": "MinimumReplicasAvailable", "message": "ok"}]
            }
        })
    }

    #[test]
    fn field_validation_parse() {
        assert_eq!(FieldValidation::parse(""), Ok(FieldValidation::Warn));
        assert_eq!(FieldValidation::parse("Warn"), Ok(FieldValidation::Warn));
        assert_eq!(
            FieldValidation::parse("Strict"),
            Ok(FieldValidation::Strict)
        );
        assert_eq!(
            "Ignore".parse::<FieldValidation>(),
            Ok(FieldValidation::Ignore)
        );
        assert_eq!(FieldValidation::default(), FieldValidation::Warn);
        let e = FieldValidation::parse_for("strict", "UpdateOptions").expect_err("lower case");
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            "UpdateOptions.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: \"strict\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\""
        );
        assert_eq!(FieldValidation::Strict.to_string(), "Strict");
    }

    #[test]
    fn deployment_round_trip() {
        round_trip(info("apps", "v1", "deployments"), deployment());
    }

    #[test]
    fn pod_round_trip() {
        round_trip(
            info("", "v1", "pods"),
            json!({
                "kind": "Pod",
                "apiVersion": "v1",
                "metadata": {"name": "p", "namespace": "ns", "generateName": "p-"},
                "spec": {
                    "initContainers": [{"name": "init", "image": "busybox", "command": ["sh", "-c", "true"]}],
                    "containers": [{
                        "name": "c",
                        "image": "busybox",
                        "securityContext": {"runAsUser": 1000, "capabilities": {"drop": ["ALL"]}},
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                        "livenessProbe": {"tcpSocket": {"port": 8080}, "failureThreshold": 3}
                    }],
                    "volumes": [{"name": "data", "emptyDir": {"sizeLimit": "1Gi"}},
                                {"name": "cfg", "configMap": {"name": "cfg", "defaultMode": 420}}],
                    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}},
                    "dnsPolicy": "ClusterFirst",
                    "nodeName": "node-1",
                    "priority": 0
                },
                "status": {
                    "phase": "Running",
                    "podIP": "10.0.0.5",
                    "podIPs": [{"ip": "10.0.0.5"}],
                    "startTime": "2024-05-01T10:00:00Z",
                    "containerStatuses": [{"name": "c", "ready": true, "restartCount": 0, "image": "busybox",
                        "imageID": "", "state": {"running": {"startedAt": "2024-05-01T10:00:01Z"}}}]
                }
            }),
        );
    }

    #[test]
    fn service_configmap_cronjob_ingress_role_round_trips() {
        round_trip(
            info("", "v1", "services"),
            json!({
                "kind": "Service", "apiVersion": "v1",
                "metadata": {"name": "s"},
                "spec": {"type": "NodePort", "selector": {"app": "web"}, "clusterIP": "10.96.0.10",
                    "clusterIPs": ["10.96.0.10"], "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                    "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080, "protocol": "TCP"}],
                    "sessionAffinity": "None"},
                "status": {"loadBalancer": {}}
            }),
        );
        round_trip(
            info("", "v1", "configmaps"),
            json!({
                "kind": "ConfigMap", "apiVersion": "v1",
                "metadata": {"name": "c", "namespace": "default"},
                "data": {"a.txt": "hello", "weird key": "", "x": "{\"nested\": 1}"},
                "binaryData": {"b": "AAEC"},
                "immutable": false
            }),
        );
        round_trip(
            info("batch", "v1", "cronjobs"),
            json!({
                "kind": "CronJob", "apiVersion": "batch/v1",
                "metadata": {"name": "cj"},
                "spec": {"schedule": "*/5 * * * *", "timeZone": "Etc/UTC", "concurrencyPolicy": "Forbid",
                    "successfulJobsHistoryLimit": 3, "suspend": false,
                    "jobTemplate": {"spec": {"backoffLimit": 2, "template": {"spec": {
                        "restartPolicy": "OnFailure",
                        "containers": [{"name": "j", "image": "busybox", "command": ["date"]}]}}}}},
                "status": {"lastScheduleTime": "2024-05-01T10:05:00Z", "active": [{"kind": "Job", "name": "cj-1", "namespace": "default"}]}
            }),
        );
        round_trip(
            info("networking.k8s.io", "v1", "ingresses"),
            json!({
                "kind": "Ingress", "apiVersion": "networking.k8s.io/v1",
                "metadata": {"name": "i", "annotations": {"nginx.ingress.kubernetes.io/rewrite-target": "/"}},
                "spec": {"ingressClassName": "nginx",
                    "tls": [{"hosts": ["a.example.com"], "secretName": "tls"}],
                    "rules": [{"host": "a.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                        "backend": {"service": {"name": "s", "port": {"number": 80}}}}]}}]},
                "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}
            }),
        );
        round_trip(
            info("rbac.authorization.k8s.io", "v1", "roles"),
            json!({
                "kind": "Role", "apiVersion": "rbac.authorization.k8s.io/v1",
                "metadata": {"name": "r", "namespace": "default"},
                "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list"]},
                          {"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": ["web"], "verbs": ["*"]}]
            }),
        );
    }

    #[test]
    fn crd_round_trip_keeps_schema() {
        round_trip(
            info("apiextensions.k8s.io", "v1", "customresourcedefinitions"),
            json!({
                "kind": "CustomResourceDefinition", "apiVersion": "apiextensions.k8s.io/v1",
                "metadata": {"name": "widgets.example.com"},
                "spec": {"group": "example.com", "scope": "Namespaced",
                    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
                    "versions": [{"name": "v1", "served": true, "storage": true,
                        "subresources": {"status": {}},
                        "schema": {"openAPIV3Schema": {"type": "object",
                            "x-kubernetes-preserve-unknown-fields": true,
                            "properties": {"spec": {"type": "object",
                                "properties": {"size": {"type": "integer", "default": 3, "minimum": 1},
                                               "tags": {"type": "array", "items": {"type": "string"}}},
                                "additionalProperties": false}}}}}]}
            }),
        );
    }

    #[test]
    fn missing_kind_and_api_version_are_defaulted() {
        let mut body = deployment();
        if let Some(m) = body.as_object_mut() {
            m.shift_remove("kind");
            m.shift_remove("apiVersion");
        }
        let d = ok(
            info("apps", "v1", "deployments"),
            body,
            FieldValidation::Strict,
        );
        assert_eq!(d.object["kind"], "Deployment");
        assert_eq!(d.object["apiVersion"], "apps/v1");
        // Only the kind given: the group-version comes from the endpoint.
        let d = ok(
            info("", "v1", "namespaces"),
            json!({"kind": "Namespace", "metadata": {"name": "x"}}),
            FieldValidation::Strict,
        );
        assert_eq!(
            d.object,
            json!({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "x"}})
        );
        // Only the apiVersion given.
        let d = ok(
            info("", "v1", "configmaps"),
            json!({"apiVersion": "v1", "metadata": {"name": "x"}}),
            FieldValidation::Strict,
        );
        assert_eq!(d.object["kind"], "ConfigMap");
    }

    #[test]
    fn unknown_fields_strict_warn_ignore() {
        let mut body = deployment();
        body["spec"]["foo"] = json!(1);
        body["spec"]["template"]["spec"]["containers"][0]["foo"] = json!({"deep": true});
        body["metadata"]["bogus"] = json!("x");
        body["spec"]["bar"] = json!([1, 2]);
        body["topLevel"] = json!(null);
        let deploy = info("apps", "v1", "deployments");

        let e = err(deploy, body.clone(), FieldValidation::Strict);
        assert_eq!(e.code, 400);
        assert_eq!(e.reason, "BadRequest");
        assert_eq!(
            e.message,
            "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: \
             unknown field \"metadata.bogus\", unknown field \"spec.template.spec.containers[0].foo\", \
             unknown field \"spec.foo\", unknown field \"spec.bar\", unknown field \"topLevel\""
        );

        let d = ok(deploy, body.clone(), FieldValidation::Warn);
        assert_eq!(
            d.warnings,
            [
                "unknown field \"metadata.bogus\"",
                "unknown field \"spec.template.spec.containers[0].foo\"",
                "unknown field \"spec.foo\"",
                "unknown field \"spec.bar\"",
                "unknown field \"topLevel\""
            ]
        );
        assert_eq!(d.object, deployment(), "unknown fields pruned");

        let d = ok(deploy, body, FieldValidation::Ignore);
        assert!(d.warnings.is_empty());
        assert_eq!(d.object, deployment());
    }

    #[test]
    fn known_fields_are_not_unknown() {
        // nulls, empty maps and lists, free-form maps, quantities as numbers, IntOrString,
        // status, metadata fields.
        let body = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "creationTimestamp": null, "labels": {}, "annotations": {"a/b": "{}"},
                "resourceVersion": "7", "deletionGracePeriodSeconds": null},
            "spec": {"containers": [{"name": "c", "image": "i", "args": [], "env": null,
                "resources": {"limits": {"cpu": 1, "memory": "1Gi"}, "requests": {"cpu": 0.5}},
                "ports": [{"containerPort": 80}],
                "livenessProbe": {"httpGet": {"port": 8080}}}],
                "nodeSelector": {}, "volumes": null},
            "status": {}
        });
        let d = ok(info("", "v1", "pods"), body, FieldValidation::Strict);
        assert!(d.warnings.is_empty());
        let o = &d.object;
        assert!(
            o["metadata"].get("creationTimestamp").is_none(),
            "nulls dropped"
        );
        assert!(o["spec"]["containers"][0].get("env").is_none());
        assert_eq!(o["metadata"]["labels"], json!({}));
        assert_eq!(o["spec"]["containers"][0]["args"], json!([]));
        assert_eq!(
            o["spec"]["containers"][0]["resources"]["limits"]["cpu"],
            "1"
        );
        assert_eq!(
            o["spec"]["containers"][0]["resources"]["requests"]["cpu"],
            "0.5"
        );
        assert_eq!(
            o["spec"]["containers"][0]["livenessProbe"]["httpGet"]["port"],
            8080
        );
        assert_eq!(o["status"], json!({}));
        assert!(o["spec"].get("volumes").is_none());

        let secret = ok(
            info("", "v1", "secrets"),
            json!({"metadata": {"name": "s"}, "data": {"k": "aGVsbG8="}, "stringData": {"x": "y"}, "type": "Opaque"}),
            FieldValidation::Strict,
        );
        assert_eq!(secret.object["data"]["k"], "aGVsbG8=");
        assert_eq!(secret.object["stringData"]["x"], "y");
    }

    #[test]
    fn null_unknown_fields_and_null_items() {
        let body = json!({
            "metadata": {"name": "c", "labels": {"a": null}},
            "data": {"k": "v"},
            "nope": null,
            "immutable": null
        });
        let d = ok(info("", "v1", "configmaps"), body, FieldValidation::Warn);
        assert_eq!(d.warnings, ["unknown field \"nope\""]);
        // A null label value becomes "" as Go's decoder leaves a zero value.
        assert_eq!(d.object["metadata"]["labels"], json!({"a": ""}));
        assert!(d.object.get("immutable").is_none());

        let d = ok(
            info("", "v1", "pods"),
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i", "args": ["x", null]}]}}),
            FieldValidation::Strict,
        );
        assert_eq!(d.object["spec"]["containers"][0]["args"], json!(["x", ""]));
    }

    #[test]
    fn unknown_fields_in_maps_of_structs_and_lists() {
        let crd = info("apiextensions.k8s.io", "v1", "customresourcedefinitions");
        let body = json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget"},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object",
                        "properties": {"spec": {"type": "object", "bogus": 1}}}}}]}
        });
        let e = err(crd, body, FieldValidation::Strict);
        assert!(
            e.message.ends_with(
                "strict decoding error: unknown field \"spec.versions[0].schema.openAPIV3Schema.properties.spec.bogus\""
            ),
            "{}",
            e.message
        );
    }

    #[test]
    fn type_errors_look_like_go() {
        let deploy = info("apps", "v1", "deployments");
        let mut body = deployment();
        body["spec"]["replicas"] = json!("3");
        let e = err(deploy, body, FieldValidation::Strict);
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
        );

        let mut body = deployment();
        body["spec"]["template"]["spec"]["containers"][0]["image"] = json!(5);
        let e = err(deploy, body, FieldValidation::Ignore);
        assert_eq!(
            e.message,
            "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.image of type string"
        );

        let mut body = deployment();
        body["spec"]["replicas"] = json!(1.5);
        let e = err(deploy, body, FieldValidation::Strict);
        assert!(e.message.ends_with("cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32"), "{}", e.message);

        let mut body = deployment();
        body["spec"]["replicas"] = json!(3_000_000_000_u64);
        let e = err(deploy, body, FieldValidation::Strict);
        assert!(e.message.ends_with("cannot unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.replicas of type int32"), "{}", e.message);

        let mut body = deployment();
        body["metadata"]["labels"]["app"] = json!(1);
        let e = err(deploy, body, FieldValidation::Strict);
        assert!(e.message.ends_with("cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"), "{}", e.message);

        let mut body = deployment();
        body["spec"]["template"]["spec"]["containers"] = json!("nginx");
        let e = err(deploy, body, FieldValidation::Strict);
        assert!(e.message.ends_with("cannot unmarshal string into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container"), "{}", e.message);

        let mut body = deployment();
        body["spec"] = json!([]);
        let e = err(deploy, body, FieldValidation::Strict);
        assert!(e.message.ends_with("cannot unmarshal array into Go struct field Deployment.spec of type v1.DeploymentSpec"), "{}", e.message);

        let mut body = deployment();
        body["metadata"]["annotations"] = json!(["a"]);
        let e = err(deploy, body, FieldValidation::Strict);
        assert!(e.message.ends_with("cannot unmarshal array into Go struct field ObjectMeta.metadata.annotations of type map[string]string"), "{}", e.message);

        let hpa = info("autoscaling", "v2", "horizontalpodautoscalers");
        let e = err(
            hpa,
            json!({"metadata": {"name": "h"}, "spec": {"maxReplicas": "x"}}),
            FieldValidation::Strict,
        );
        assert!(e.message.ends_with("cannot unmarshal string into Go struct field HorizontalPodAutoscalerSpec.spec.maxReplicas of type int32"), "{}", e.message);
        let e = err(
            hpa,
            json!({"metadata": {"name": "h"}, "spec": {"scaleTargetRef": 1}}),
            FieldValidation::Strict,
        );
        assert!(
            e.message
                .ends_with("of type v2.CrossVersionObjectReference"),
            "{}",
            e.message
        );
    }

    #[test]
    fn custom_decoding_errors() {
        let e = err(
            info("", "v1", "secrets"),
            json!({"metadata": {"name": "s"}, "data": {"k": "not base64!"}}),
            FieldValidation::Strict,
        );
        assert_eq!(
            e.message,
            "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 3"
        );
        let e = err(
            info("", "v1", "configmaps"),
            json!({"metadata": {"name": "s", "creationTimestamp": "yesterday"}}),
            FieldValidation::Strict,
        );
        assert_eq!(
            e.message,
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: parsing time \"yesterday\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"yesterday\" as \"2006\""
        );
        assert_eq!(
            go_time_parse_error("2024-01-01T00:00:00", false),
            "parsing time \"2024-01-01T00:00:00\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\" as \"Z07:00\""
        );
        assert_eq!(
            go_time_parse_error("2024-13-01T00:00:00Z", false),
            "parsing time \"2024-13-01T00:00:00Z\": month out of range"
        );
    }

    #[test]
    fn kind_and_version_mismatches() {
        let pods = info("", "v1", "pods");
        let e = err(
            pods,
            json!({"apiVersion": "apps/v1", "kind": "Pod", "metadata": {"name": "p"}}),
            FieldValidation::Strict,
        );
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            "the API version in the data (apps/v1) does not match the expected API version (v1)"
        );
        let e = err(
            info("apps", "v1", "deployments"),
            json!({"apiVersion": "apps/v1beta1", "kind": "Deployment"}),
            FieldValidation::Strict,
        );
        assert_eq!(
            e.message,
            "the API version in the data (apps/v1beta1) does not match the expected API version (apps/v1)"
        );
        let e = err(
            pods,
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "p"}}),
            FieldValidation::Strict,
        );
        assert_eq!(
            e.message,
            "Service in version \"v1\" cannot be handled as a Pod: converting (v1.Service) to (core.Pod): unknown conversion"
        );
        let e = err(pods, json!({"kind": "Deployment"}), FieldValidation::Strict);
        assert_eq!(
            e.message,
            "Deployment in version \"v1\" cannot be handled as a Pod: no kind \"Deployment\" is registered for version \"v1\" in scheme \"k8s.io/kubernetes/pkg/api/legacyscheme/scheme.go:30\""
        );
        // Core and events.k8s.io Events convert to each other, then fail the version check.
        let e = err(
            info("events.k8s.io", "v1", "events"),
            json!({"apiVersion": "v1", "kind": "Event"}),
            FieldValidation::Strict,
        );
        assert_eq!(
            e.message,
            "the API version in the data (v1) does not match the expected API version (events.k8s.io/v1)"
        );
        let e = err(pods, json!([1, 2]), FieldValidation::Strict);
        assert!(e.message.starts_with("the object provided is unrecognized (must be of type Pod): couldn't get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct"), "{}", e.message);
        let e = err(pods, json!({"kind": 3}), FieldValidation::Strict);
        assert_eq!(
            e.message,
            "the object provided is unrecognized (must be of type Pod): couldn't get version/kind; json parse error: json: cannot unmarshal number into Go struct field .kind of type string ({\"kind\":3})"
        );
        let e = err(
            pods,
            json!({"apiVersion": "a/b/c"}),
            FieldValidation::Strict,
        );
        assert!(
            e.message.contains("unexpected GroupVersion string: a/b/c"),
            "{}",
            e.message
        );
    }

    #[test]
    fn subresource_kinds() {
        let d = decode_kind(
            "autoscaling",
            "v1",
            "Scale",
            json!({"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "web"}, "spec": {"replicas": 5}}),
            FieldValidation::Strict,
        )
        .expect("scale");
        assert_eq!(d.object["spec"]["replicas"], 5);
        let d = decode_kind(
            "",
            "v1",
            "Binding",
            json!({"metadata": {"name": "p"}, "target": {"kind": "Node", "name": "n1"}}),
            FieldValidation::Strict,
        )
        .expect("binding");
        assert_eq!(d.object["kind"], "Binding");
        assert_eq!(d.object["target"]["name"], "n1");
        let d = decode_kind(
            "policy",
            "v1",
            "Eviction",
            json!({"apiVersion": "policy/v1beta1", "kind": "Eviction", "metadata": {"name": "p"},
                   "deleteOptions": {"gracePeriodSeconds": 0}}),
            FieldValidation::Strict,
        )
        .expect("eviction");
        assert_eq!(d.object["apiVersion"], "policy/v1");
        assert_eq!(d.object["deleteOptions"]["gracePeriodSeconds"], 0);
        let d = decode_kind(
            "meta.k8s.io",
            "v1",
            "DeleteOptions",
            json!({"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Foreground",
                   "preconditions": {"uid": "u"}, "extra": 1}),
            FieldValidation::Warn,
        )
        .expect("delete options");
        assert_eq!(d.object["propagationPolicy"], "Foreground");
        assert_eq!(d.warnings, ["unknown field \"extra\""]);
        let e = decode_kind(
            "meta.k8s.io",
            "v1",
            "DeleteOptions",
            json!({"apiVersion": "v1", "kind": "Pod"}),
            FieldValidation::Strict,
        )
        .expect_err("wrong kind");
        assert_eq!(e.code, 400);
        assert!(is_builtin_kind("meta.k8s.io", "DeleteOptions"));
        let e = decode_kind(
            "autoscaling",
            "v1",
            "Scale",
            json!({"kind": "Scale", "spec": {"replicas": "x"}}),
            FieldValidation::Strict,
        )
        .expect_err("type error");
        assert_eq!(
            e.message,
            "Scale in version \"v1\" cannot be handled as a Scale: json: cannot unmarshal string into Go struct field ScaleSpec.spec.replicas of type int32"
        );
        assert!(decode_kind("", "v1", "Nope", json!({}), FieldValidation::Strict).is_err());
    }

    #[test]
    fn builtin_kinds() {
        assert!(is_builtin_kind("apps", "Deployment"));
        assert!(is_builtin_kind("", "Pod"));
        assert!(is_builtin_kind("events.k8s.io", "Event"));
        assert!(is_builtin_kind("autoscaling", "Scale"));
        assert!(is_builtin_kind("policy", "Eviction"));
        assert!(!is_builtin_kind("apps", "Pod"));
        assert!(!is_builtin_kind("example.com", "Widget"));
        // Every served resource decodes.
        for r in crate::resources::builtin_table() {
            let d = decode(
                r,
                json!({"metadata": {"name": "x"}}),
                FieldValidation::Strict,
            )
            .unwrap_or_else(|e| panic!("{}: {e}", r.kind));
            assert_eq!(d.object["kind"], r.kind.as_str());
            assert_eq!(d.object["apiVersion"], r.api_version().as_str());
            assert!(is_builtin_kind(&r.group, &r.kind));
        }
    }

    fn core_event() -> Value {
        json!({
            "kind": "Event",
            "apiVersion": "v1",
            "metadata": {"name": "web.17a", "namespace": "default", "resourceVersion": "5"},
            "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web", "uid": "u1", "apiVersion": "v1", "fieldPath": "spec.containers{web}"},
            "reason": "Pulled",
            "message": "Successfully pulled image",
            "source": {"component": "kubelet", "host": "node-1"},
            "firstTimestamp": "2024-05-01T10:00:00Z",
            "lastTimestamp": "2024-05-01T10:05:00Z",
            "count": 4,
            "type": "Normal",
            "eventTime": "2024-05-01T10:00:00.123456Z",
            "series": {"count": 2, "lastObservedTime": "2024-05-01T10:05:00.000000Z"},
            "action": "Pulling",
            "related": {"kind": "Node", "name": "node-1"},
            "reportingComponent": "kubelet",
            "reportingInstance": "node-1"
        })
    }

    #[test]
    fn core_event_to_events_v1() {
        let v1 = core_event_to_v1(core_event());
        assert_eq!(
            v1,
            json!({
                "kind": "Event",
                "apiVersion": "events.k8s.io/v1",
                "metadata": {"name": "web.17a", "namespace": "default", "resourceVersion": "5"},
                "eventTime": "2024-05-01T10:00:00.123456Z",
                "series": {"count": 2, "lastObservedTime": "2024-05-01T10:05:00.000000Z"},
                "reportingController": "kubelet",
                "reportingInstance": "node-1",
                "action": "Pulling",
                "reason": "Pulled",
                "regarding": {"kind": "Pod", "namespace": "default", "name": "web", "uid": "u1", "apiVersion": "v1", "fieldPath": "spec.containers{web}"},
                "related": {"kind": "Node", "name": "node-1"},
                "note": "Successfully pulled image",
                "type": "Normal",
                "deprecatedSource": {"component": "kubelet", "host": "node-1"},
                "deprecatedFirstTimestamp": "2024-05-01T10:00:00Z",
                "deprecatedLastTimestamp": "2024-05-01T10:05:00Z",
                "deprecatedCount": 4
            })
        );
        assert_eq!(event_v1_to_core(v1), core_event(), "round trip");
    }

    #[test]
    fn events_v1_to_core_and_back() {
        let v1 = json!({
            "kind": "Event",
            "apiVersion": "events.k8s.io/v1",
            "metadata": {"name": "e", "namespace": "ns"},
            "eventTime": "2024-05-01T10:00:00.000000Z",
            "reportingController": "example.com/ctrl",
            "reportingInstance": "ctrl-0",
            "action": "Reconcile",
            "reason": "Done",
            "regarding": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
            "note": "all good",
            "type": "Normal",
            "deprecatedSource": {},
            "deprecatedFirstTimestamp": null,
            "deprecatedLastTimestamp": null
        });
        let core = event_v1_to_core(v1.clone());
        assert_eq!(
            core,
            json!({
                "kind": "Event",
                "apiVersion": "v1",
                "metadata": {"name": "e", "namespace": "ns"},
                "involvedObject": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
                "reason": "Done",
                "message": "all good",
                "source": {},
                "firstTimestamp": null,
                "lastTimestamp": null,
                "type": "Normal",
                "eventTime": "2024-05-01T10:00:00.000000Z",
                "action": "Reconcile",
                "reportingComponent": "example.com/ctrl",
                "reportingInstance": "ctrl-0"
            })
        );
        assert_eq!(core_event_to_v1(core), v1, "round trip");

        // A minimal core event gets the fields Go always writes.
        let v1 = core_event_to_v1(
            json!({"metadata": {"name": "m"}, "involvedObject": {"name": "x"}, "count": 0, "reportingComponent": ""}),
        );
        assert_eq!(
            v1,
            json!({"kind": "Event", "apiVersion": "events.k8s.io/v1", "metadata": {"name": "m"}, "eventTime": null,
                   "regarding": {"name": "x"}, "deprecatedSource": {}, "deprecatedFirstTimestamp": null,
                   "deprecatedLastTimestamp": null})
        );
    }

    #[test]
    fn event_bodies_decode_on_both_endpoints() {
        let core = ok(
            info("", "v1", "events"),
            core_event(),
            FieldValidation::Strict,
        );
        assert_eq!(core.object, core_event());
        let v1 = core_event_to_v1(core_event());
        let d = ok(
            info("events.k8s.io", "v1", "events"),
            v1.clone(),
            FieldValidation::Strict,
        );
        assert_eq!(d.object, v1);
    }
}
