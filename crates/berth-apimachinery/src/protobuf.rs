//! Decoding of `application/vnd.kubernetes.protobuf` request bodies into the JSON form Berth
//! stores.
//!
//! client-go's typed clients (and so `kubectl create deployment|job|secret|...`, `kubectl create
//! token`, `kubectl auth can-i`, `kubectl drain`) send protobuf and don't retry as JSON. A body is
//! the 4-byte magic `k8s\0` followed by a `runtime.Unknown` message: `typeMeta {apiVersion, kind}`
//! (1), `raw` (2, the object's own protobuf encoding), `contentEncoding` (3) and `contentType` (4).
//! [`decode`] turns it into the JSON that Kubernetes would serialize for the object, with
//! `apiVersion` and `kind` set.
//!
//! # How
//!
//! The decoder is generic, driven by a schema of every message of the Kubernetes API: the
//! embedded text file `protobuf/schema.txt`, which lists per message its fields' numbers,
//! JSON names and types. The wire format is read by hand (varints, length-delimited fields,
//! packed and unpacked repeated scalars, maps as repeated entries, repeated occurrences of a
//! message field merged as protobuf does, unknown fields skipped); the JSON is built from the
//! schema, with the Go types that serialize specially handled as Kubernetes does:
//!
//! - `resource.Quantity` (`{string}`) is a JSON string; `intstr.IntOrString`
//!   (`{type, intVal, strVal}`) a number or a string;
//! - `metav1.Time` is an RFC 3339 string in seconds (`nanos` are ignored, as Go does), the zero
//!   time (an empty message) is omitted; `metav1.MicroTime` keeps microseconds;
//!   `metav1.Duration` is a Go duration string (`1h0m0s`);
//! - `runtime.RawExtension`, `metav1.FieldsV1` and apiextensions' `JSON` hold raw JSON
//!   (a nested `k8s\0` protobuf object in a RawExtension is decoded too); wrappers of Go slice
//!   types (`ExtraValue`, `Verbs`) are arrays; `JSONSchemaPropsOr{Array,Bool,StringArray}`
//!   follow their Go `MarshalJSON`;
//! - `bytes` fields (`Secret.data`, `caBundle`, ...) are base64, as Go's `encoding/json` writes
//!   `[]byte`; Go `,inline` embedded structs (`Volume.volumeSource`, `Probe.handler`,
//!   `ConfigMapKeySelector.localObjectReference`, ...) are flattened into their parent.
//!
//! Zero values: Go writes every non-pointer scalar field to protobuf, zero or not, so a zero on
//! the wire does not mean "set". A zero string, bool or number is kept only where Kubernetes'
//! JSON would show it: for pointer fields (`replicas: 0`, `runAsUser: 0`,
//! `allowPrivilegeEscalation: false`, `storageClassName: ""`) and for fields without
//! `omitempty` (`PriorityClass.value`, `ContainerPort.containerPort`); it is dropped for the
//! other, `omitempty` ones (`imagePullPolicy: ""`, `hostNetwork: false`, `Probe.periodSeconds:
//! 0`, `ServiceBackendPort.number: 0`), so later defaulting sees them unset as Go's does. The
//! schema marks the kept ones `keepzero`.
//!
//! # The schema file
//!
//! `protobuf/schema.txt` is generated, not hand-written, by the ignored test
//! `protobuf::schema_gen::regenerate_schema`:
//!
//! ```text
//! cargo test -p berth-apimachinery --lib protobuf::schema_gen::regenerate_schema -- --ignored
//! ```
//!
//! It reads two crates' sources from the cargo registry (both are dependencies of this crate,
//! so cargo has unpacked them): `k8s-pb` (the kube-rs project's prost types for the Kubernetes
//! protobuf files: message layout, field numbers, wire types; a dev-dependency) and
//! `k8s-openapi` (JSON field names, required fields). Field numbers come from Kubernetes'
//! `generated.proto` files through k8s-pb, JSON names from the OpenAPI definitions through
//! k8s-openapi; which fields keep zero values comes from k8s-openapi's required fields plus the
//! `OMIT_ZERO` and `KEEP_ZERO` lists in the generator (facts of the Go types: pointer or not,
//! `omitempty` or not). To move to a newer Kubernetes, bump k8s-pb (and k8s-openapi), update
//! the crate versions named in the generator, rerun it and review the diff and the printed
//! report of guessed names. The test `schema_file_is_current` checks that the committed file is
//! what the generator produces (when the two crates' sources are in the cargo registry).
//! No protoc or build script is involved: the file is parsed once, on first use.

use crate::status::ApiError;
use base64::Engine as _;
use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use std::sync::LazyLock;

/// The media type of Kubernetes protobuf bodies.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The 4 bytes every Kubernetes protobuf body starts with: `k8s\0`.
pub const MAGIC: [u8; 4] = *b"k8s\x00";

/// Messages nested deeper than this are refused (a bound on recursion for hostile input).
const MAX_DEPTH: usize = 100;

/// Decodes a Kubernetes protobuf request body (4-byte magic `k8s\0` + runtime.Unknown wrapper
/// with typeMeta{apiVersion,kind}, raw, contentEncoding, contentType) into the object's JSON form
/// (the same JSON that k8s-openapi would serialize for that object, with apiVersion and kind set).
///
/// Errors: a body without the magic or with bytes that are not a valid encoding of the kind is
/// a 400 BadRequest; a kind that has no protobuf form here (custom resources, unknown groups), or
/// an encoded (`contentEncoding`) or foreign (`contentType`) payload, is a 415
/// UnsupportedMediaType naming it.
pub fn decode(bytes: &[u8]) -> Result<Value, ApiError> {
    let schema = schema()?;
    decode_unknown(schema, bytes, 0).map_err(|f| match f {
        Failure::Bad(message) => ApiError::bad_request(message),
        Failure::Unsupported(what) => {
            let mut e = ApiError::unsupported_media_type(MEDIA_TYPE);
            e.message = format!("{} ({what})", e.message);
            e
        }
    })
}

/// Why a body could not be decoded.
#[derive(Debug)]
enum Failure {
    /// 400: not a valid Kubernetes protobuf body.
    Bad(String),
    /// 415: valid, but of a kind or encoding Berth can't turn into JSON.
    Unsupported(String),
}

/// An error inside an object, with the JSON path where it happened.
#[derive(Debug)]
struct DecodeError {
    /// Path segments, innermost first.
    path: Vec<String>,
    message: String,
    /// A nested RawExtension object of an unsupported kind.
    unsupported: bool,
}

impl DecodeError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            path: Vec::new(),
            message: message.into(),
            unsupported: false,
        }
    }

    fn at(mut self, segment: impl Into<String>) -> Self {
        self.path.push(segment.into());
        self
    }

    fn path(&self) -> String {
        let mut out = String::new();
        for seg in self.path.iter().rev() {
            if !seg.starts_with('[') && !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
        out
    }
}

type Result<T, E = DecodeError> = std::result::Result<T, E>;

fn decode_unknown(schema: &Schema, bytes: &[u8], depth: usize) -> Result<Value, Failure> {
    let rest = bytes.strip_prefix(&MAGIC).ok_or_else(|| {
        Failure::Bad(format!(
            "provided data does not appear to be a protobuf message, expected prefix {:?}",
            MAGIC
        ))
    })?;
    let bad =
        |e: DecodeError| Failure::Bad(format!("unable to decode protobuf body: {}", e.message));
    let mut api_version = String::new();
    let mut kind = String::new();
    let mut raw: &[u8] = &[];
    let mut content_encoding = String::new();
    let mut content_type = String::new();
    let mut r = Reader::new(rest);
    while let Some((tag, wire)) = r.field().map_err(bad)? {
        match (tag, wire) {
            (1, Wire::Len(type_meta)) => {
                let mut t = Reader::new(type_meta);
                while let Some((tag, wire)) = t.field().map_err(bad)? {
                    match (tag, wire) {
                        (1, Wire::Len(b)) => api_version = lossy(b),
                        (2, Wire::Len(b)) => kind = lossy(b),
                        (1 | 2, _) => {
                            return Err(bad(DecodeError::new("typeMeta: wrong wire type")));
                        }
                        _ => {}
                    }
                }
            }
            (2, Wire::Len(b)) => raw = b,
            (3, Wire::Len(b)) => content_encoding = lossy(b),
            (4, Wire::Len(b)) => content_type = lossy(b),
            (1..=4, _) => return Err(bad(DecodeError::new("runtime.Unknown: wrong wire type"))),
            _ => {}
        }
    }
    if kind.is_empty() {
        return Err(Failure::Bad(
            "Object 'Kind' is missing in protobuf body".into(),
        ));
    }
    let gvk = if api_version.contains('/') {
        format!("{api_version}, Kind={kind}")
    } else {
        format!("/{api_version}, Kind={kind}")
    };
    if !content_encoding.is_empty() {
        return Err(Failure::Unsupported(format!(
            "content encoding {content_encoding:?} of {gvk} is not supported"
        )));
    }
    if !content_type.is_empty() && content_type != MEDIA_TYPE {
        return Err(Failure::Unsupported(format!(
            "content type {content_type:?} inside a protobuf body is not supported"
        )));
    }
    let Some(index) = schema.kind(&api_version, &kind) else {
        return Err(Failure::Unsupported(format!(
            "no protobuf decoding for {gvk}; send it as JSON"
        )));
    };
    let decoded = decode_message(schema, index, raw, depth + 1).map_err(|e| {
        let path = e.path();
        let message = if path.is_empty() {
            format!("unable to decode {gvk} from protobuf: {}", e.message)
        } else {
            format!(
                "unable to decode {gvk} from protobuf: {path}: {}",
                e.message
            )
        };
        if e.unsupported {
            Failure::Unsupported(message)
        } else {
            Failure::Bad(message)
        }
    })?;
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), Value::String(api_version));
    obj.insert("kind".into(), Value::String(kind));
    match decoded {
        Some(Value::Object(fields)) => obj.extend(fields),
        _ => {
            return Err(Failure::Unsupported(format!("{gvk} is not an object kind")));
        }
    }
    Ok(Value::Object(obj))
}

// ---------------------------------------------------------------------------------------------
// Wire format.

/// One field's value as it is on the wire.
#[derive(Debug, Clone, Copy)]
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Len(&'a [u8]),
    /// Kubernetes has no 32-bit fixed fields; such a value is only skipped.
    Fixed32,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn varint(&mut self) -> Result<u64> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(DecodeError::new("unexpected end of data in a varint"));
            };
            self.pos += 1;
            if i == 9 && b > 1 {
                return Err(DecodeError::new("varint overflows 64 bits"));
            }
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::new("varint overflows 64 bits"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.buf.len())
            .ok_or_else(|| DecodeError::new("unexpected end of data"))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn fixed64(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// The next field, or `None` at the end of the message.
    fn field(&mut self) -> Result<Option<(u32, Wire<'a>)>> {
        if self.at_end() {
            return Ok(None);
        }
        let key = self.varint()?;
        let tag = u32::try_from(key >> 3)
            .ok()
            .filter(|&t| t != 0 && t < (1 << 29))
            .ok_or_else(|| DecodeError::new(format!("invalid field number {}", key >> 3)))?;
        let wire = match key & 7 {
            0 => Wire::Varint(self.varint()?),
            1 => Wire::Fixed64(self.fixed64()?),
            2 => {
                let len = usize::try_from(self.varint()?)
                    .map_err(|_| DecodeError::new("length out of range"))?;
                Wire::Len(self.take(len)?)
            }
            5 => {
                self.take(4)?;
                Wire::Fixed32
            }
            other => {
                return Err(DecodeError::new(format!(
                    "unsupported wire type {other} for field {tag}"
                )));
            }
        };
        Ok(Some((tag, wire)))
    }
}

/// Go's `encoding/json` replaces invalid UTF-8 with U+FFFD; so does this.
fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

// ---------------------------------------------------------------------------------------------
// The schema.

/// The generated schema (see the module docs).
const SCHEMA_TEXT: &str = include_str!("protobuf/schema.txt");

/// The first lines of `protobuf/schema.txt`.
#[cfg(test)]
const SCHEMA_HEADER: &str = "\
# The Kubernetes API's protobuf messages, for berth-apimachinery's protobuf decoder
# (src/protobuf.rs). GENERATED, do not edit: regenerate with
#   cargo test -p berth-apimachinery --lib protobuf::schema_gen::regenerate_schema -- --ignored
# from the sources of the k8s-pb crate (messages, field numbers, types) and the k8s-openapi
# crate (JSON names, required fields), plus the zero-value lists in the generator.
#
# package <proto package>
# message <Name> [special]
# <field number> <JSON name> <type> [inline] [keepzero]
#   type: string|bool|int32|int64|double|bytes|<Message>|<package>.<Message>, prefixed by []
#   when repeated or wrapped in map[...] for a map with string keys; inline: a Go embedded
#   struct whose fields are the parent's in JSON; keepzero: a zero value on the wire is kept.
";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Special {
    None,
    Quantity,
    IntOrString,
    Time,
    MicroTime,
    Duration,
    RawJson,
    Array,
    PropsOrArray,
    PropsOrBool,
    PropsOrStringArray,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Bool,
    Int32,
    Int64,
    Double,
    Bytes,
    Message(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Card {
    Optional,
    Repeated,
    Map,
}

#[derive(Debug)]
struct Field {
    tag: u32,
    json: &'static str,
    kind: Kind,
    card: Card,
    inline: bool,
    keep_zero: bool,
}

#[derive(Debug)]
struct Message {
    name: String,
    special: Special,
    fields: Vec<Field>,
}

impl Message {
    fn field(&self, tag: u32) -> Option<(usize, &Field)> {
        self.fields.iter().enumerate().find(|(_, f)| f.tag == tag)
    }
}

#[derive(Debug)]
struct Schema {
    messages: Vec<Message>,
    by_name: HashMap<String, usize>,
}

static SCHEMA: LazyLock<std::result::Result<Schema, String>> =
    LazyLock::new(|| Schema::parse(SCHEMA_TEXT));

fn schema() -> std::result::Result<&'static Schema, ApiError> {
    SCHEMA
        .as_ref()
        .map_err(|e| ApiError::internal(format!("protobuf schema is broken: {e}")))
}

impl Schema {
    fn parse(text: &'static str) -> std::result::Result<Self, String> {
        let mut messages: Vec<Message> = Vec::new();
        // Field type names, resolved once every message is known.
        let mut pending: Vec<(usize, usize, String)> = Vec::new();
        let mut package = "";
        for (n, line) in text.lines().enumerate() {
            let err = |what: &str| format!("line {}: {what}: {line:?}", n + 1);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.split(' ');
            let first = words.next().unwrap_or_default();
            match first {
                "package" => package = words.next().ok_or_else(|| err("no package"))?,
                "message" => {
                    let name = words.next().ok_or_else(|| err("no message name"))?;
                    let special = match words.next() {
                        None => Special::None,
                        Some("quantity") => Special::Quantity,
                        Some("intorstring") => Special::IntOrString,
                        Some("time") => Special::Time,
                        Some("microtime") => Special::MicroTime,
                        Some("duration") => Special::Duration,
                        Some("rawjson") => Special::RawJson,
                        Some("array") => Special::Array,
                        Some("propsorarray") => Special::PropsOrArray,
                        Some("propsorbool") => Special::PropsOrBool,
                        Some("propsorstringarray") => Special::PropsOrStringArray,
                        Some(_) => return Err(err("unknown special")),
                    };
                    messages.push(Message {
                        name: format!("{package}.{name}"),
                        special,
                        fields: Vec::new(),
                    });
                }
                _ => {
                    let tag: u32 = first.parse().map_err(|_| err("bad field number"))?;
                    let json = words.next().ok_or_else(|| err("no JSON name"))?;
                    let ty = words.next().ok_or_else(|| err("no type"))?;
                    let (card, ty) = if let Some(t) = ty.strip_prefix("[]") {
                        (Card::Repeated, t)
                    } else if let Some(t) =
                        ty.strip_prefix("map[").and_then(|t| t.strip_suffix(']'))
                    {
                        (Card::Map, t)
                    } else {
                        (Card::Optional, ty)
                    };
                    let mut inline = false;
                    let mut keep_zero = false;
                    for flag in words {
                        match flag {
                            "inline" => inline = true,
                            "keepzero" => keep_zero = true,
                            _ => return Err(err("unknown flag")),
                        }
                    }
                    let kind = match ty {
                        "string" => Kind::String,
                        "bool" => Kind::Bool,
                        "int32" => Kind::Int32,
                        "int64" => Kind::Int64,
                        "double" => Kind::Double,
                        "bytes" => Kind::Bytes,
                        other => {
                            let full = if other.contains('.') {
                                other.to_string()
                            } else {
                                format!("{package}.{other}")
                            };
                            let m = messages
                                .len()
                                .checked_sub(1)
                                .ok_or_else(|| err("field outside a message"))?;
                            pending.push((m, messages[m].fields.len(), full));
                            Kind::Message(usize::MAX)
                        }
                    };
                    let m = messages
                        .last_mut()
                        .ok_or_else(|| err("field outside a message"))?;
                    m.fields.push(Field {
                        tag,
                        json,
                        kind,
                        card,
                        inline,
                        keep_zero,
                    });
                }
            }
        }
        let by_name: HashMap<String, usize> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| (m.name.clone(), i))
            .collect();
        for (m, f, full) in pending {
            let target = *by_name
                .get(&full)
                .ok_or_else(|| format!("{}: unknown type {full}", messages[m].name))?;
            messages[m].fields[f].kind = Kind::Message(target);
        }
        Ok(Self { messages, by_name })
    }

    /// The message of a kind: `(apps/v1, Deployment)` -> `k8s.io.api.apps.v1.Deployment`.
    fn kind(&self, api_version: &str, kind: &str) -> Option<usize> {
        if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        if let Some(package) = package_of(api_version)
            && let Some(&i) = self.by_name.get(&format!("{package}.{kind}"))
        {
            return Some(i);
        }
        // meta/v1 kinds (DeleteOptions, CreateOptions, Status, APIGroup, ...) are registered,
        // unversioned, in every group version.
        self.by_name
            .get(&format!("k8s.io.apimachinery.pkg.apis.meta.v1.{kind}"))
            .copied()
    }
}

/// The proto package of the built-in types of an API group version.
fn package_of(api_version: &str) -> Option<String> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric());
    if !ok(version) {
        return None;
    }
    let base = match group {
        "" => "k8s.io.api.core".to_string(),
        "meta.k8s.io" => "k8s.io.apimachinery.pkg.apis.meta".to_string(),
        "apiextensions.k8s.io" => {
            "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions".to_string()
        }
        "apiregistration.k8s.io" => "k8s.io.kube_aggregator.pkg.apis.apiregistration".to_string(),
        "internal.apiserver.k8s.io" => "k8s.io.api.apiserverinternal".to_string(),
        "flowcontrol.apiserver.k8s.io" => "k8s.io.api.flowcontrol".to_string(),
        "rbac.authorization.k8s.io" => "k8s.io.api.rbac".to_string(),
        "metrics.k8s.io" => "k8s.io.metrics.pkg.apis.metrics".to_string(),
        "custom.metrics.k8s.io" => "k8s.io.metrics.pkg.apis.custom_metrics".to_string(),
        "external.metrics.k8s.io" => "k8s.io.metrics.pkg.apis.external_metrics".to_string(),
        "apps" | "batch" | "policy" | "autoscaling" | "extensions" => format!("k8s.io.api.{group}"),
        g => {
            let label = g.strip_suffix(".k8s.io").filter(|l| ok(l))?;
            format!("k8s.io.api.{label}")
        }
    };
    Some(format!("{base}.{version}"))
}

// ---------------------------------------------------------------------------------------------
// Decoding.

/// What was read for one field of a message.
enum Slot<'a> {
    Empty,
    /// A scalar, and whether it is its type's zero value.
    Scalar(Value, bool),
    /// A singular message: every occurrence, merged in order.
    Parts(Vec<&'a [u8]>),
    List(Vec<Value>),
    Map(Map<String, Value>),
}

/// Decodes one message of the schema. `None` stands for JSON `null` (a zero `metav1.Time`, a
/// nil RawExtension), which is omitted from objects.
fn decode_message(
    schema: &Schema,
    index: usize,
    bytes: &[u8],
    depth: usize,
) -> Result<Option<Value>> {
    if depth > MAX_DEPTH {
        return Err(DecodeError::new(format!(
            "objects nested more than {MAX_DEPTH} levels deep"
        )));
    }
    let msg = &schema.messages[index];
    match msg.special {
        Special::None => decode_object(schema, msg, bytes, depth).map(Some),
        _ => decode_special(schema, msg, bytes, depth),
    }
}

fn decode_object(schema: &Schema, msg: &Message, bytes: &[u8], depth: usize) -> Result<Value> {
    let mut slots: Vec<Slot<'_>> = msg.fields.iter().map(|_| Slot::Empty).collect();
    let mut r = Reader::new(bytes);
    while let Some((tag, wire)) = r.field()? {
        let Some((i, field)) = msg.field(tag) else {
            continue; // unknown field: skipped, as Go does
        };
        read_field(schema, field, wire, &mut slots[i], depth).map_err(|e| e.at(field.json))?;
    }
    let mut obj = Map::new();
    for (field, slot) in msg.fields.iter().zip(slots) {
        match slot {
            Slot::Empty => {}
            Slot::Scalar(v, zero) => {
                if !zero || field.keep_zero {
                    obj.insert(field.json.to_string(), v);
                }
            }
            Slot::Parts(parts) => {
                let Kind::Message(sub) = field.kind else {
                    continue;
                };
                let joined;
                let bytes: &[u8] = if parts.len() == 1 {
                    parts[0]
                } else {
                    joined = parts.concat();
                    &joined
                };
                let value =
                    decode_message(schema, sub, bytes, depth + 1).map_err(|e| e.at(field.json))?;
                let Some(value) = value else {
                    continue;
                };
                if schema.messages[sub].special == Special::IntOrString
                    && !field.keep_zero
                    && is_zero_int_or_string(&value)
                {
                    continue;
                }
                match (field.inline, value) {
                    (true, Value::Object(inner)) => obj.extend(inner),
                    (_, value) => {
                        obj.insert(field.json.to_string(), value);
                    }
                }
            }
            Slot::List(items) => {
                // (An empty packed run decodes to no items: nil in Go, omitted.)
                if !items.is_empty() {
                    obj.insert(field.json.to_string(), Value::Array(items));
                }
            }
            Slot::Map(entries) => {
                obj.insert(field.json.to_string(), Value::Object(entries));
            }
        }
    }
    Ok(Value::Object(obj))
}

fn is_zero_int_or_string(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.as_i64() == Some(0),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

fn read_field<'a>(
    schema: &Schema,
    field: &Field,
    wire: Wire<'a>,
    slot: &mut Slot<'a>,
    depth: usize,
) -> Result<()> {
    match field.card {
        Card::Optional => match field.kind {
            Kind::Message(_) => {
                let Wire::Len(b) = wire else {
                    return Err(wrong_wire(field.kind));
                };
                match slot {
                    Slot::Parts(parts) => parts.push(b),
                    _ => *slot = Slot::Parts(vec![b]),
                }
            }
            kind => {
                let (v, zero) = scalar(kind, wire)?;
                *slot = Slot::Scalar(v, zero);
            }
        },
        Card::Repeated => {
            if !matches!(slot, Slot::List(_)) {
                *slot = Slot::List(Vec::new());
            }
            let Slot::List(items) = slot else {
                return Ok(());
            };
            let at = |e: DecodeError, i: usize| e.at(format!("[{i}]"));
            match (field.kind, wire) {
                (Kind::Message(sub), Wire::Len(b)) => {
                    let i = items.len();
                    let v = decode_message(schema, sub, b, depth + 1).map_err(|e| at(e, i))?;
                    items.push(v.unwrap_or(Value::Null));
                }
                (Kind::Message(_), _) => return Err(wrong_wire(field.kind)),
                // Packed repeated numbers: one length-delimited run of values.
                (Kind::Bool | Kind::Int32 | Kind::Int64 | Kind::Double, Wire::Len(b)) => {
                    let mut r = Reader::new(b);
                    while !r.at_end() {
                        let w = if field.kind == Kind::Double {
                            Wire::Fixed64(r.fixed64()?)
                        } else {
                            Wire::Varint(r.varint()?)
                        };
                        let i = items.len();
                        items.push(scalar(field.kind, w).map_err(|e| at(e, i))?.0);
                    }
                }
                (kind, w) => {
                    let i = items.len();
                    items.push(scalar(kind, w).map_err(|e| at(e, i))?.0);
                }
            }
        }
        Card::Map => {
            let Wire::Len(entry) = wire else {
                return Err(DecodeError::new("a map entry must be length-delimited"));
            };
            let mut key = String::new();
            let mut value: Option<Wire<'a>> = None;
            let mut r = Reader::new(entry);
            while let Some((tag, w)) = r.field()? {
                match (tag, w) {
                    (1, Wire::Len(b)) => key = lossy(b),
                    (1, _) => return Err(DecodeError::new("a map key must be a string")),
                    (2, w) => value = Some(w),
                    _ => {}
                }
            }
            let v = match (field.kind, value) {
                (Kind::Message(sub), None) => decode_message(schema, sub, &[], depth + 1),
                (Kind::Message(sub), Some(Wire::Len(b))) => {
                    decode_message(schema, sub, b, depth + 1)
                }
                (Kind::Message(_), Some(_)) => Err(wrong_wire(field.kind)),
                (kind, None) => Ok(Some(zero_of(kind))),
                (kind, Some(w)) => scalar(kind, w).map(|(v, _)| Some(v)),
            }
            .map_err(|e| e.at(format!("[{key}]")))?;
            if !matches!(slot, Slot::Map(_)) {
                *slot = Slot::Map(Map::new());
            }
            if let Slot::Map(entries) = slot {
                entries.insert(key, v.unwrap_or(Value::Null));
            }
        }
    }
    Ok(())
}

fn wrong_wire(kind: Kind) -> DecodeError {
    let name = match kind {
        Kind::String => "string",
        Kind::Bool => "bool",
        Kind::Int32 => "int32",
        Kind::Int64 => "int64",
        Kind::Double => "double",
        Kind::Bytes => "bytes",
        Kind::Message(_) => "message",
    };
    DecodeError::new(format!("wrong wire type for a {name} field"))
}

fn zero_of(kind: Kind) -> Value {
    match kind {
        Kind::String | Kind::Bytes => Value::String(String::new()),
        Kind::Bool => Value::Bool(false),
        Kind::Int32 | Kind::Int64 | Kind::Double => Value::from(0),
        Kind::Message(_) => Value::Null,
    }
}

/// A scalar's JSON value and whether it is the zero value of its type.
fn scalar(kind: Kind, wire: Wire<'_>) -> Result<(Value, bool)> {
    Ok(match (kind, wire) {
        (Kind::String, Wire::Len(b)) => (Value::String(lossy(b)), b.is_empty()),
        (Kind::Bytes, Wire::Len(b)) => (
            Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
            b.is_empty(),
        ),
        (Kind::Bool, Wire::Varint(v)) => (Value::Bool(v != 0), v == 0),
        // int32 is sign-extended to 64 bits on the wire; protobuf truncates.
        (Kind::Int32, Wire::Varint(v)) => (Value::from(v as i64 as i32), v as i32 == 0),
        (Kind::Int64, Wire::Varint(v)) => (Value::from(v as i64), v == 0),
        (Kind::Double, Wire::Fixed64(v)) => {
            let f = f64::from_bits(v);
            (float(f)?, f == 0.0)
        }
        (kind, _) => return Err(wrong_wire(kind)),
    })
}

/// A float64 as Go's `encoding/json` writes it: integral values without a fraction.
fn float(f: f64) -> Result<Value> {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return Ok(Value::from(f as i64));
    }
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| DecodeError::new(format!("unsupported float value {f}")))
}

/// The last value of each field number, for the small special messages.
fn last_fields<'a>(bytes: &'a [u8]) -> Result<HashMap<u32, Wire<'a>>> {
    let mut out = HashMap::new();
    let mut r = Reader::new(bytes);
    while let Some((tag, wire)) = r.field()? {
        out.insert(tag, wire);
    }
    Ok(out)
}

fn varint_field(fields: &HashMap<u32, Wire<'_>>, tag: u32) -> Result<u64> {
    match fields.get(&tag) {
        None => Ok(0),
        Some(Wire::Varint(v)) => Ok(*v),
        Some(_) => Err(DecodeError::new(format!("wrong wire type for field {tag}"))),
    }
}

fn bytes_field<'a>(fields: &HashMap<u32, Wire<'a>>, tag: u32) -> Result<Option<&'a [u8]>> {
    match fields.get(&tag) {
        None => Ok(None),
        Some(Wire::Len(b)) => Ok(Some(b)),
        Some(_) => Err(DecodeError::new(format!("wrong wire type for field {tag}"))),
    }
}

/// Seconds of Go's zero `time.Time` (0001-01-01T00:00:00Z) since the Unix epoch.
const GO_ZERO_TIME: i64 = -62_135_596_800;

fn decode_special(
    schema: &Schema,
    msg: &Message,
    bytes: &[u8],
    depth: usize,
) -> Result<Option<Value>> {
    match msg.special {
        Special::Quantity => {
            let f = last_fields(bytes)?;
            let s = bytes_field(&f, 1)?.map_or_else(|| "0".to_string(), lossy);
            Ok(Some(Value::String(s)))
        }
        Special::IntOrString => {
            let f = last_fields(bytes)?;
            match varint_field(&f, 1)? {
                0 => Ok(Some(Value::from(varint_field(&f, 2)? as i64 as i32))),
                1 => Ok(Some(Value::String(
                    bytes_field(&f, 3)?.map(lossy).unwrap_or_default(),
                ))),
                t => Err(DecodeError::new(format!("invalid IntOrString type {t}"))),
            }
        }
        Special::Time | Special::MicroTime => {
            if bytes.is_empty() {
                return Ok(None);
            }
            let f = last_fields(bytes)?;
            let seconds = varint_field(&f, 1)? as i64;
            if seconds == GO_ZERO_TIME {
                return Ok(None);
            }
            // metav1.Time drops the nanoseconds; MicroTime keeps microseconds.
            let nanos = if msg.special == Special::MicroTime {
                Some(varint_field(&f, 2)? as i64 as i32)
            } else {
                None
            };
            format_time(seconds, nanos).map(|s| Some(Value::String(s)))
        }
        Special::Duration => {
            let f = last_fields(bytes)?;
            Ok(Some(Value::String(
                go_duration(varint_field(&f, 1)? as i64),
            )))
        }
        Special::RawJson => {
            let f = last_fields(bytes)?;
            let Some(raw) = bytes_field(&f, 1)? else {
                return Ok(None);
            };
            raw_json(schema, raw, depth).map(Some)
        }
        Special::Array
        | Special::PropsOrArray
        | Special::PropsOrBool
        | Special::PropsOrStringArray => {
            let obj = decode_object(schema, msg, bytes, depth)?;
            let take = |tag: u32| -> Option<Value> {
                let (_, field) = msg.field(tag)?;
                obj.get(field.json).cloned()
            };
            Ok(Some(match msg.special {
                // Go: `items, if empty, will result in an empty slice`.
                Special::Array => take(1).unwrap_or_else(|| Value::Array(Vec::new())),
                // Go's MarshalJSON: the array when it has items, else the schema (or null).
                Special::PropsOrArray => match (take(2), take(1)) {
                    (Some(array), _) => array,
                    (None, Some(schema)) => schema,
                    (None, None) => return Ok(None),
                },
                // The schema when set, else the bool.
                Special::PropsOrBool => match take(2) {
                    Some(schema) => schema,
                    None => Value::Bool(take(1).and_then(|v| v.as_bool()).unwrap_or(false)),
                },
                // The strings when there are any, else the schema (or null).
                _ => match (take(2), take(1)) {
                    (Some(array), _) => array,
                    (None, Some(schema)) => schema,
                    (None, None) => return Ok(None),
                },
            }))
        }
        Special::None => decode_object(schema, msg, bytes, depth).map(Some),
    }
}

/// The bytes of a RawExtension / FieldsV1 / JSON: JSON text, or a nested protobuf object.
fn raw_json(schema: &Schema, raw: &[u8], depth: usize) -> Result<Value> {
    if raw.starts_with(&MAGIC) {
        return decode_unknown(schema, raw, depth).map_err(|f| match f {
            Failure::Bad(m) => DecodeError::new(m),
            Failure::Unsupported(m) => DecodeError {
                unsupported: true,
                ..DecodeError::new(m)
            },
        });
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(raw)
        .map_err(|e| DecodeError::new(format!("embedded object is not JSON: {e}")))
}

/// RFC 3339 in UTC as `metav1.Time` (seconds) or `metav1.MicroTime` (with microseconds, given
/// the nanoseconds) marshal it.
fn format_time(seconds: i64, nanos: Option<i32>) -> Result<String> {
    let days = seconds.div_euclid(86_400);
    let secs_of_day = seconds.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
        return Err(DecodeError::new(format!(
            "timestamp {seconds} is out of range"
        )));
    }
    let (h, m, s) = (secs_of_day / 3600, secs_of_day / 60 % 60, secs_of_day % 60);
    let mut out = format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}");
    if let Some(nanos) = nanos {
        if !(0..1_000_000_000).contains(&nanos) {
            return Err(DecodeError::new(format!("invalid nanoseconds {nanos}")));
        }
        out.push_str(&format!(".{:06}", nanos / 1000));
    }
    out.push('Z');
    Ok(out)
}

/// Go's `time.Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`.
fn go_duration(d: i64) -> String {
    /// `v / 10^prec` as integer part and a `.fraction` without trailing zeros.
    fn split(v: u64, prec: u32) -> (u64, String) {
        let p = 10u64.pow(prec);
        let frac = v % p;
        if frac == 0 {
            return (v / p, String::new());
        }
        let digits = format!("{frac:0width$}", width = prec as usize);
        (v / p, format!(".{}", digits.trim_end_matches('0')))
    }
    let u = d.unsigned_abs();
    let sign = if d < 0 { "-" } else { "" };
    if u == 0 {
        return "0s".into();
    }
    if u < 1_000_000_000 {
        let (prec, unit) = if u < 1_000 {
            (0, "ns")
        } else if u < 1_000_000 {
            (3, "µs")
        } else {
            (6, "ms")
        };
        let (int, frac) = split(u, prec);
        return format!("{sign}{int}{frac}{unit}");
    }
    let (secs, frac) = split(u, 9);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{sign}{h}h{m}m{s}{frac}s")
    } else if m > 0 {
        format!("{sign}{m}m{s}{frac}s")
    } else {
        format!("{sign}{s}{frac}s")
    }
}

#[cfg(test)]
mod tests {
    //! Fixtures are encoded the way client-go does: `k8s\0` + `runtime.Unknown` around the
    //! object's protobuf, built with the k8s-pb prost types. Like Go's generated marshallers,
    //! the builders below write every non-pointer scalar field, zero or not.

    use super::*;
    use k8s_openapi::api::apps::v1 as apps;
    use k8s_openapi::api::batch::v1 as batch;
    use k8s_openapi::api::core::v1 as core;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    use k8s_pb::api::core::v1 as pb;
    use k8s_pb::apimachinery::pkg::api::resource::Quantity as PbQuantity;
    use k8s_pb::apimachinery::pkg::apis::meta::v1 as pbmeta;
    use k8s_pb::apimachinery::pkg::runtime::{RawExtension, TypeMeta, Unknown};
    use k8s_pb::apimachinery::pkg::util::intstr::IntOrString as PbIntOrString;
    use prost::Message as _;
    use serde::{Serialize, de::DeserializeOwned};
    use serde_json::json;
    use std::collections::BTreeMap;

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    fn body(api_version: &str, kind: &str, object: &impl prost::Message) -> Vec<u8> {
        envelope(api_version, kind, object.encode_to_vec())
    }

    fn envelope(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
        let unknown = Unknown {
            type_meta: Some(TypeMeta {
                api_version: s(api_version),
                kind: s(kind),
            }),
            raw: Some(raw),
            content_encoding: s(""),
            content_type: s(""),
        };
        let mut out = MAGIC.to_vec();
        out.extend(unknown.encode_to_vec());
        out
    }

    /// Decodes, checks that the typed k8s-openapi object holds every field of the JSON (its
    /// serialization gives the same JSON back: no misnamed or dropped field), returns both.
    fn decode_as<K: DeserializeOwned + Serialize>(bytes: &[u8]) -> (Value, K) {
        let value = decode(bytes).unwrap_or_else(|e| panic!("decode: {e}"));
        let typed: K =
            serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{e}: {value:#}"));
        let back = serde_json::to_value(&typed).expect("serialize");
        assert_eq!(back, value, "k8s-openapi round trip lost or changed fields");
        (value, typed)
    }

    fn map(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn quantity(q: &str) -> PbQuantity {
        PbQuantity { string: s(q) }
    }

    fn int_or_string_int(i: i32) -> PbIntOrString {
        PbIntOrString {
            r#type: Some(0),
            int_val: Some(i),
            str_val: s(""),
        }
    }

    fn int_or_string_str(v: &str) -> PbIntOrString {
        PbIntOrString {
            r#type: Some(1),
            int_val: Some(0),
            str_val: s(v),
        }
    }

    /// ObjectMeta as Go marshals it: all non-pointer fields, the zero creationTimestamp as an
    /// empty message.
    fn go_meta(name: &str, namespace: &str) -> pbmeta::ObjectMeta {
        pbmeta::ObjectMeta {
            name: s(name),
            generate_name: s(""),
            namespace: s(namespace),
            self_link: s(""),
            uid: s(""),
            resource_version: s(""),
            generation: Some(0),
            creation_timestamp: Some(pbmeta::Time::default()),
            ..Default::default()
        }
    }

    fn go_container(name: &str, image: &str) -> pb::Container {
        pb::Container {
            name: s(name),
            image: s(image),
            working_dir: s(""),
            resources: Some(pb::ResourceRequirements::default()),
            termination_message_path: s(""),
            termination_message_policy: s(""),
            image_pull_policy: s(""),
            stdin: Some(false),
            stdin_once: Some(false),
            tty: Some(false),
            ..Default::default()
        }
    }

    fn go_pod_spec(containers: Vec<pb::Container>) -> pb::PodSpec {
        pb::PodSpec {
            containers,
            restart_policy: s(""),
            dns_policy: s(""),
            service_account_name: s(""),
            service_account: s(""),
            node_name: s(""),
            host_network: Some(false),
            host_pid: Some(false),
            host_ipc: Some(false),
            hostname: s(""),
            subdomain: s(""),
            scheduler_name: s(""),
            ..Default::default()
        }
    }

    fn go_probe(handler: pb::ProbeHandler) -> pb::Probe {
        pb::Probe {
            handler: Some(handler),
            initial_delay_seconds: Some(0),
            timeout_seconds: Some(5),
            period_seconds: Some(10),
            success_threshold: Some(1),
            failure_threshold: Some(3),
            termination_grace_period_seconds: None,
        }
    }

    fn label_selector() -> pbmeta::LabelSelector {
        pbmeta::LabelSelector {
            match_labels: map(&[("app", "web")]),
            match_expressions: vec![pbmeta::LabelSelectorRequirement {
                key: s("tier"),
                operator: s("In"),
                values: vec!["front".into(), "edge".into()],
            }],
        }
    }

    #[test]
    fn namespace_from_kubectl_create_namespace() {
        let ns = pb::Namespace {
            metadata: Some(go_meta("team-a", "")),
            spec: Some(pb::NamespaceSpec::default()),
            status: Some(pb::NamespaceStatus {
                phase: s(""),
                ..Default::default()
            }),
        };
        let (value, typed) = decode_as::<core::Namespace>(&body("v1", "Namespace", &ns));
        assert_eq!(
            value,
            json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": "team-a"},
                "spec": {},
                "status": {}
            })
        );
        assert_eq!(typed.metadata.name.as_deref(), Some("team-a"));
        // apiVersion and kind come first.
        let keys: Vec<&String> = value
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys[..2], ["apiVersion", "kind"]);
    }

    /// A Deployment with a pod template using most PodSpec and Container features.
    fn full_deployment() -> k8s_pb::api::apps::v1::Deployment {
        use k8s_pb::api::apps::v1 as pbapps;
        let mut metadata = go_meta("web", "prod");
        metadata.labels = map(&[("app", "web")]);
        metadata.annotations = map(&[("note", ""), ("owner", "team-a")]);
        metadata.creation_timestamp = Some(pbmeta::Time {
            seconds: Some(1_700_000_000),
            nanos: Some(123_456_789),
        });
        metadata.deletion_grace_period_seconds = Some(0);
        metadata.finalizers = vec!["example.com/keep".into()];
        metadata.owner_references = vec![pbmeta::OwnerReference {
            api_version: s("v1"),
            kind: s("ConfigMap"),
            name: s("owner"),
            uid: s("0b1c"),
            controller: Some(true),
            block_owner_deletion: Some(false),
        }];

        let mut web = go_container("web", "nginx:1.27");
        web.command = vec!["nginx".into()];
        web.args = vec!["-g".into(), "daemon off;".into()];
        web.image_pull_policy = s("IfNotPresent");
        web.ports = vec![
            pb::ContainerPort {
                name: s("http"),
                host_port: Some(0),
                container_port: Some(80),
                protocol: s("TCP"),
                host_ip: s(""),
            },
            pb::ContainerPort {
                name: s(""),
                host_port: Some(8443),
                container_port: Some(443),
                protocol: s(""),
                host_ip: s(""),
            },
        ];
        web.env = vec![
            pb::EnvVar {
                name: s("EMPTY"),
                value: s(""),
                value_from: None,
            },
            pb::EnvVar {
                name: s("MODE"),
                value: s("prod"),
                value_from: None,
            },
            pb::EnvVar {
                name: s("PASSWORD"),
                value: s(""),
                value_from: Some(pb::EnvVarSource {
                    secret_key_ref: Some(pb::SecretKeySelector {
                        local_object_reference: Some(pb::LocalObjectReference { name: s("creds") }),
                        key: s("password"),
                        optional: Some(false),
                    }),
                    ..Default::default()
                }),
            },
            pb::EnvVar {
                name: s("MEM"),
                value: s(""),
                value_from: Some(pb::EnvVarSource {
                    resource_field_ref: Some(pb::ResourceFieldSelector {
                        container_name: s(""),
                        resource: s("limits.memory"),
                        divisor: Some(quantity("0")),
                    }),
                    ..Default::default()
                }),
            },
            pb::EnvVar {
                name: s("NODE"),
                value: s(""),
                value_from: Some(pb::EnvVarSource {
                    field_ref: Some(pb::ObjectFieldSelector {
                        api_version: s("v1"),
                        field_path: s("spec.nodeName"),
                    }),
                    ..Default::default()
                }),
            },
        ];
        web.env_from = vec![pb::EnvFromSource {
            prefix: s("CFG_"),
            config_map_ref: Some(pb::ConfigMapEnvSource {
                local_object_reference: Some(pb::LocalObjectReference {
                    name: s("settings"),
                }),
                optional: Some(true),
            }),
            secret_ref: None,
        }];
        web.resources = Some(pb::ResourceRequirements {
            limits: [
                ("cpu".to_string(), quantity("500m")),
                ("memory".to_string(), quantity("128Mi")),
            ]
            .into_iter()
            .collect(),
            requests: [("cpu".to_string(), quantity("0.25"))]
                .into_iter()
                .collect(),
            claims: vec![],
        });
        web.liveness_probe = Some(go_probe(pb::ProbeHandler {
            http_get: Some(pb::HttpGetAction {
                path: s("/healthz"),
                port: Some(int_or_string_str("http")),
                host: s(""),
                scheme: s("HTTP"),
                http_headers: vec![pb::HttpHeader {
                    name: s("X-Probe"),
                    value: s(""),
                }],
            }),
            ..Default::default()
        }));
        web.readiness_probe = Some(go_probe(pb::ProbeHandler {
            tcp_socket: Some(pb::TcpSocketAction {
                port: Some(int_or_string_int(80)),
                host: s(""),
            }),
            ..Default::default()
        }));
        web.startup_probe = Some(go_probe(pb::ProbeHandler {
            exec: Some(pb::ExecAction {
                command: vec!["true".into()],
            }),
            ..Default::default()
        }));
        web.lifecycle = Some(pb::Lifecycle {
            pre_stop: Some(pb::LifecycleHandler {
                sleep: Some(pb::SleepAction { seconds: Some(5) }),
                ..Default::default()
            }),
            ..Default::default()
        });
        web.volume_mounts = vec![
            pb::VolumeMount {
                name: s("config"),
                read_only: Some(true),
                mount_path: s("/etc/nginx/conf.d"),
                sub_path: s(""),
                sub_path_expr: s(""),
                ..Default::default()
            },
            pb::VolumeMount {
                name: s("cache"),
                read_only: Some(false),
                mount_path: s("/cache"),
                sub_path: s(""),
                sub_path_expr: s(""),
                ..Default::default()
            },
        ];
        web.security_context = Some(pb::SecurityContext {
            capabilities: Some(pb::Capabilities {
                add: vec![],
                drop: vec!["ALL".into()],
            }),
            privileged: Some(false),
            run_as_user: Some(0),
            run_as_non_root: Some(false),
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            seccomp_profile: Some(pb::SeccompProfile {
                r#type: s("RuntimeDefault"),
                localhost_profile: None,
            }),
            ..Default::default()
        });
        web.termination_message_path = s("/dev/termination-log");
        web.termination_message_policy = s("File");

        let mut init = go_container("init", "busybox");
        init.restart_policy = s("Always");

        let mut spec = go_pod_spec(vec![web]);
        spec.init_containers = vec![init];
        spec.restart_policy = s("Always");
        spec.termination_grace_period_seconds = Some(30);
        spec.dns_policy = s("ClusterFirst");
        spec.node_selector = map(&[("disk", "ssd")]);
        spec.service_account_name = s("web");
        spec.automount_service_account_token = Some(false);
        spec.security_context = Some(pb::PodSecurityContext {
            run_as_user: Some(1000),
            run_as_group: Some(0),
            fs_group: Some(2000),
            supplemental_groups: vec![4000, 5000],
            sysctls: vec![pb::Sysctl {
                name: s("net.core.somaxconn"),
                value: s("1024"),
            }],
            ..Default::default()
        });
        spec.image_pull_secrets = vec![pb::LocalObjectReference {
            name: s("registry"),
        }];
        spec.affinity = Some(pb::Affinity {
            node_affinity: Some(pb::NodeAffinity {
                required_during_scheduling_ignored_during_execution: Some(pb::NodeSelector {
                    node_selector_terms: vec![pb::NodeSelectorTerm {
                        match_expressions: vec![pb::NodeSelectorRequirement {
                            key: s("zone"),
                            operator: s("In"),
                            values: vec!["a".into()],
                        }],
                        match_fields: vec![],
                    }],
                }),
                preferred_during_scheduling_ignored_during_execution: vec![],
            }),
            ..Default::default()
        });
        spec.scheduler_name = s("default-scheduler");
        spec.tolerations = vec![pb::Toleration {
            key: s("dedicated"),
            operator: s("Equal"),
            value: s("web"),
            effect: s("NoExecute"),
            toleration_seconds: Some(0),
        }];
        spec.host_aliases = vec![pb::HostAlias {
            ip: s("10.0.0.1"),
            hostnames: vec!["db".into()],
        }];
        spec.priority = Some(0);
        spec.enable_service_links = Some(false);
        spec.preemption_policy = s("Never");
        spec.overhead = [("cpu".to_string(), quantity("10m"))].into_iter().collect();
        spec.topology_spread_constraints = vec![pb::TopologySpreadConstraint {
            max_skew: Some(1),
            topology_key: s("zone"),
            when_unsatisfiable: s("DoNotSchedule"),
            label_selector: Some(label_selector()),
            min_domains: None,
            match_label_keys: vec![],
            ..Default::default()
        }];
        spec.volumes = vec![
            pb::Volume {
                name: s("config"),
                volume_source: Some(pb::VolumeSource {
                    config_map: Some(pb::ConfigMapVolumeSource {
                        local_object_reference: Some(pb::LocalObjectReference { name: s("nginx") }),
                        items: vec![pb::KeyToPath {
                            key: s("default.conf"),
                            path: s("default.conf"),
                            mode: Some(0o644),
                        }],
                        default_mode: Some(0o420),
                        optional: None,
                    }),
                    ..Default::default()
                }),
            },
            pb::Volume {
                name: s("cache"),
                volume_source: Some(pb::VolumeSource {
                    empty_dir: Some(pb::EmptyDirVolumeSource {
                        medium: s(""),
                        size_limit: Some(quantity("1Gi")),
                    }),
                    ..Default::default()
                }),
            },
            pb::Volume {
                name: s("tls"),
                volume_source: Some(pb::VolumeSource {
                    secret: Some(pb::SecretVolumeSource {
                        secret_name: s("tls"),
                        items: vec![],
                        default_mode: Some(0o400),
                        optional: Some(false),
                    }),
                    ..Default::default()
                }),
            },
        ];

        let mut template_meta = go_meta("", "");
        template_meta.labels = map(&[("app", "web"), ("tier", "front")]);
        pbapps::Deployment {
            metadata: Some(metadata),
            spec: Some(pbapps::DeploymentSpec {
                replicas: Some(0),
                selector: Some(label_selector()),
                template: Some(pb::PodTemplateSpec {
                    metadata: Some(template_meta),
                    spec: Some(spec),
                }),
                strategy: Some(pbapps::DeploymentStrategy {
                    r#type: s("RollingUpdate"),
                    rolling_update: Some(pbapps::RollingUpdateDeployment {
                        max_unavailable: Some(int_or_string_int(0)),
                        max_surge: Some(int_or_string_str("25%")),
                    }),
                }),
                min_ready_seconds: Some(0),
                revision_history_limit: Some(10),
                paused: Some(false),
                progress_deadline_seconds: Some(600),
            }),
            status: Some(pbapps::DeploymentStatus {
                observed_generation: Some(0),
                replicas: Some(0),
                updated_replicas: Some(0),
                ready_replicas: Some(0),
                available_replicas: Some(0),
                unavailable_replicas: Some(0),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn deployment_with_full_pod_template() {
        let (value, typed) =
            decode_as::<apps::Deployment>(&body("apps/v1", "Deployment", &full_deployment()));
        let volumes = json!([
            {"name": "config", "configMap": {
                "name": "nginx",
                "items": [{"key": "default.conf", "path": "default.conf", "mode": 420}],
                "defaultMode": 272
            }},
            {"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}},
            {"name": "tls", "secret": {"secretName": "tls", "defaultMode": 256, "optional": false}}
        ]);
        let web = json!({
            "name": "web",
            "image": "nginx:1.27",
            "command": ["nginx"],
            "args": ["-g", "daemon off;"],
            "ports": [
                {"name": "http", "containerPort": 80, "protocol": "TCP"},
                {"hostPort": 8443, "containerPort": 443}
            ],
            "envFrom": [{"prefix": "CFG_", "configMapRef": {"name": "settings", "optional": true}}],
            "env": [
                {"name": "EMPTY"},
                {"name": "MODE", "value": "prod"},
                {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {
                    "name": "creds", "key": "password", "optional": false
                }}},
                {"name": "MEM", "valueFrom": {"resourceFieldRef": {
                    "resource": "limits.memory", "divisor": "0"
                }}},
                {"name": "NODE", "valueFrom": {"fieldRef": {
                    "apiVersion": "v1", "fieldPath": "spec.nodeName"
                }}}
            ],
            "resources": {
                "limits": {"cpu": "500m", "memory": "128Mi"},
                "requests": {"cpu": "0.25"}
            },
            "volumeMounts": [
                {"name": "config", "readOnly": true, "mountPath": "/etc/nginx/conf.d"},
                {"name": "cache", "mountPath": "/cache"}
            ],
            "livenessProbe": {
                "httpGet": {
                    "path": "/healthz", "port": "http", "scheme": "HTTP",
                    "httpHeaders": [{"name": "X-Probe", "value": ""}]
                },
                "timeoutSeconds": 5, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3
            },
            "readinessProbe": {
                "tcpSocket": {"port": 80},
                "timeoutSeconds": 5, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3
            },
            "startupProbe": {
                "exec": {"command": ["true"]},
                "timeoutSeconds": 5, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3
            },
            "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "imagePullPolicy": "IfNotPresent",
            "securityContext": {
                "capabilities": {"drop": ["ALL"]},
                "privileged": false,
                "runAsUser": 0,
                "runAsNonRoot": false,
                "readOnlyRootFilesystem": true,
                "allowPrivilegeEscalation": false,
                "seccompProfile": {"type": "RuntimeDefault"}
            }
        });
        let pod_spec = json!({
            "volumes": volumes,
            "initContainers": [{
                "name": "init", "image": "busybox", "resources": {}, "restartPolicy": "Always"
            }],
            "containers": [web],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "nodeSelector": {"disk": "ssd"},
            "serviceAccountName": "web",
            "automountServiceAccountToken": false,
            "securityContext": {
                "runAsUser": 1000, "runAsGroup": 0, "supplementalGroups": [4000, 5000],
                "fsGroup": 2000, "sysctls": [{"name": "net.core.somaxconn", "value": "1024"}]
            },
            "imagePullSecrets": [{"name": "registry"}],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]
            }}},
            "schedulerName": "default-scheduler",
            "tolerations": [{
                "key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoExecute",
                "tolerationSeconds": 0
            }],
            "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["db"]}],
            "priority": 0,
            "enableServiceLinks": false,
            "preemptionPolicy": "Never",
            "overhead": {"cpu": "10m"},
            "topologySpreadConstraints": [{
                "maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {
                    "matchLabels": {"app": "web"},
                    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "edge"]}]
                }
            }]
        });
        let expected = json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "web",
                "namespace": "prod",
                // metav1.Time has seconds precision: the nanos are dropped.
                "creationTimestamp": "2023-11-14T22:13:20Z",
                "deletionGracePeriodSeconds": 0,
                "labels": {"app": "web"},
                "annotations": {"note": "", "owner": "team-a"},
                "ownerReferences": [{
                    "apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": "0b1c",
                    "controller": true, "blockOwnerDeletion": false
                }],
                "finalizers": ["example.com/keep"]
            },
            "spec": {
                "replicas": 0,
                "selector": {
                    "matchLabels": {"app": "web"},
                    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "edge"]}]
                },
                "template": {
                    "metadata": {"labels": {"app": "web", "tier": "front"}},
                    "spec": pod_spec
                },
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}
                },
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600
            },
            "status": {}
        });
        assert_eq!(value, expected, "{value:#}");
        let spec = typed.spec.expect("spec");
        let rolling = spec
            .strategy
            .and_then(|s| s.rolling_update)
            .expect("rollingUpdate");
        assert_eq!(rolling.max_unavailable, Some(IntOrString::Int(0)));
        assert_eq!(rolling.max_surge, Some(IntOrString::String("25%".into())));
        let pod = spec.template.spec.expect("pod spec");
        let probe = pod.containers[0]
            .liveness_probe
            .as_ref()
            .and_then(|p| p.http_get.as_ref());
        assert_eq!(
            probe.map(|h| &h.port),
            Some(&IntOrString::String("http".into()))
        );
    }

    #[test]
    fn cronjob_and_job() {
        use k8s_pb::api::batch::v1 as pbbatch;
        let mut container = go_container("hello", "busybox");
        container.command = vec!["date".into()];
        let mut pod = go_pod_spec(vec![container]);
        pod.restart_policy = s("OnFailure");
        let job_spec = pbbatch::JobSpec {
            parallelism: Some(2),
            completions: Some(4),
            active_deadline_seconds: Some(600),
            backoff_limit: Some(0),
            template: Some(pb::PodTemplateSpec {
                metadata: Some(go_meta("", "")),
                spec: Some(pod),
            }),
            ttl_seconds_after_finished: Some(0),
            completion_mode: s("Indexed"),
            suspend: Some(false),
            ..Default::default()
        };
        let cronjob = pbbatch::CronJob {
            metadata: Some(go_meta("nightly", "default")),
            spec: Some(pbbatch::CronJobSpec {
                schedule: s("0 3 * * *"),
                time_zone: s("Etc/UTC"),
                starting_deadline_seconds: Some(120),
                concurrency_policy: s(""),
                suspend: Some(false),
                job_template: Some(pbbatch::JobTemplateSpec {
                    metadata: Some(go_meta("nightly", "")),
                    spec: Some(job_spec.clone()),
                }),
                successful_jobs_history_limit: Some(0),
                failed_jobs_history_limit: Some(1),
            }),
            status: Some(pbbatch::CronJobStatus {
                active: vec![],
                last_schedule_time: Some(pbmeta::Time {
                    seconds: Some(0),
                    nanos: Some(0),
                }),
                last_successful_time: None,
            }),
        };
        let (value, typed) = decode_as::<batch::CronJob>(&body("batch/v1", "CronJob", &cronjob));
        let expected_job_spec = json!({
            "parallelism": 2,
            "completions": 4,
            "activeDeadlineSeconds": 600,
            "backoffLimit": 0,
            "template": {
                "metadata": {},
                "spec": {
                    "containers": [{"name": "hello", "image": "busybox", "command": ["date"], "resources": {}}],
                    "restartPolicy": "OnFailure"
                }
            },
            "ttlSecondsAfterFinished": 0,
            "completionMode": "Indexed",
            "suspend": false
        });
        assert_eq!(
            value,
            json!({
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": {"name": "nightly", "namespace": "default"},
                "spec": {
                    "schedule": "0 3 * * *",
                    "timeZone": "Etc/UTC",
                    "startingDeadlineSeconds": 120,
                    "suspend": false,
                    "jobTemplate": {"metadata": {"name": "nightly"}, "spec": expected_job_spec},
                    "successfulJobsHistoryLimit": 0,
                    "failedJobsHistoryLimit": 1
                },
                // A non-empty Time of second 0 is the Unix epoch, not Go's zero time.
                "status": {"lastScheduleTime": "1970-01-01T00:00:00Z"}
            }),
            "{value:#}"
        );
        assert_eq!(
            typed.spec.and_then(|s| s.successful_jobs_history_limit),
            Some(0)
        );

        let job = pbbatch::Job {
            metadata: Some(go_meta("once", "default")),
            spec: Some(job_spec),
            status: Some(pbbatch::JobStatus {
                active: Some(0),
                succeeded: Some(0),
                failed: Some(0),
                ..Default::default()
            }),
        };
        let (value, _) = decode_as::<batch::Job>(&body("batch/v1", "Job", &job));
        assert_eq!(value["spec"], expected_job_spec);
        assert_eq!(value["status"], json!({}));
    }

    #[test]
    fn secret_bytes_are_base64() {
        let secret = pb::Secret {
            metadata: Some(go_meta("creds", "default")),
            immutable: Some(true),
            data: [
                ("bin".to_string(), vec![0u8, 1, 2, 0xfe, 0xff]),
                ("text".to_string(), b"hello".to_vec()),
                ("empty".to_string(), vec![]),
            ]
            .into_iter()
            .collect(),
            string_data: map(&[("extra", "plain")]),
            r#type: s("Opaque"),
        };
        let (value, typed) = decode_as::<core::Secret>(&body("v1", "Secret", &secret));
        assert_eq!(
            value,
            json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "creds", "namespace": "default"},
                "immutable": true,
                "data": {"bin": "AAEC/v8=", "empty": "", "text": "aGVsbG8="},
                "stringData": {"extra": "plain"},
                "type": "Opaque"
            })
        );
        let data = typed.data.expect("data");
        assert_eq!(data["bin"].0, vec![0u8, 1, 2, 0xfe, 0xff]);

        // `kubectl create secret generic x` with no type: "" is dropped (defaulted to Opaque).
        let secret = pb::Secret {
            metadata: Some(go_meta("x", "")),
            r#type: s(""),
            ..Default::default()
        };
        let value = decode(&body("v1", "Secret", &secret)).expect("decode");
        assert_eq!(
            value,
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}})
        );
    }

    #[test]
    fn configmap_serviceaccount_resourcequota() {
        let cm = pb::ConfigMap {
            metadata: Some(go_meta("settings", "")),
            immutable: None,
            data: map(&[("a", "1"), ("blank", "")]),
            binary_data: [("logo".to_string(), vec![0x89, b'P', b'N', b'G'])]
                .into_iter()
                .collect(),
        };
        let (value, _) = decode_as::<core::ConfigMap>(&body("v1", "ConfigMap", &cm));
        assert_eq!(
            value,
            json!({
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"},
                "data": {"a": "1", "blank": ""}, "binaryData": {"logo": "iVBORw=="}
            })
        );

        let sa = pb::ServiceAccount {
            metadata: Some(go_meta("robot", "ci")),
            secrets: vec![pb::ObjectReference {
                name: s("robot-token"),
                ..Default::default()
            }],
            image_pull_secrets: vec![pb::LocalObjectReference { name: s("pull") }],
            automount_service_account_token: Some(false),
        };
        let (value, _) = decode_as::<core::ServiceAccount>(&body("v1", "ServiceAccount", &sa));
        assert_eq!(
            value,
            json!({
                "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot", "namespace": "ci"},
                "secrets": [{"name": "robot-token"}],
                "imagePullSecrets": [{"name": "pull"}],
                "automountServiceAccountToken": false
            })
        );

        let quota = pb::ResourceQuota {
            metadata: Some(go_meta("q", "")),
            spec: Some(pb::ResourceQuotaSpec {
                hard: [
                    ("pods".to_string(), quantity("10")),
                    ("requests.cpu".to_string(), quantity("4")),
                ]
                .into_iter()
                .collect(),
                scopes: vec!["NotTerminating".into()],
                scope_selector: Some(pb::ScopeSelector {
                    match_expressions: vec![pb::ScopedResourceSelectorRequirement {
                        scope_name: s("PriorityClass"),
                        operator: s("In"),
                        values: vec!["high".into()],
                    }],
                }),
            }),
            status: Some(pb::ResourceQuotaStatus::default()),
        };
        let (value, _) = decode_as::<core::ResourceQuota>(&body("v1", "ResourceQuota", &quota));
        assert_eq!(
            value["spec"],
            json!({
                "hard": {"pods": "10", "requests.cpu": "4"},
                "scopes": ["NotTerminating"],
                "scopeSelector": {"matchExpressions": [{"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}]}
            })
        );
    }

    #[test]
    fn service_ports_and_zero_values() {
        let service = pb::Service {
            metadata: Some(go_meta("web", "")),
            spec: Some(pb::ServiceSpec {
                ports: vec![
                    pb::ServicePort {
                        name: s("http"),
                        protocol: s("TCP"),
                        app_protocol: None,
                        port: Some(80),
                        target_port: Some(int_or_string_int(8080)),
                        node_port: Some(0),
                    },
                    pb::ServicePort {
                        name: s("https"),
                        protocol: s(""),
                        app_protocol: s("https"),
                        port: Some(443),
                        target_port: Some(int_or_string_str("https")),
                        node_port: Some(30443),
                    },
                    // kubectl create service clusterip x --tcp=9000: targetPort unset (0).
                    pb::ServicePort {
                        name: s("9000"),
                        protocol: s("TCP"),
                        app_protocol: None,
                        port: Some(9000),
                        target_port: Some(int_or_string_int(0)),
                        node_port: Some(0),
                    },
                ],
                selector: map(&[("app", "web")]),
                cluster_ip: s(""),
                r#type: s("NodePort"),
                session_affinity: s(""),
                load_balancer_ip: s(""),
                external_name: s(""),
                external_traffic_policy: s(""),
                health_check_node_port: Some(0),
                publish_not_ready_addresses: Some(false),
                ip_families: vec!["IPv4".into()],
                allocate_load_balancer_node_ports: Some(false),
                ..Default::default()
            }),
            status: Some(pb::ServiceStatus {
                load_balancer: Some(pb::LoadBalancerStatus::default()),
                conditions: vec![],
            }),
        };
        let (value, typed) = decode_as::<core::Service>(&body("v1", "Service", &service));
        assert_eq!(
            value,
            json!({
                "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                "spec": {
                    "ports": [
                        {"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080},
                        {"name": "https", "appProtocol": "https", "port": 443, "targetPort": "https", "nodePort": 30443},
                        {"name": "9000", "protocol": "TCP", "port": 9000}
                    ],
                    "selector": {"app": "web"},
                    "type": "NodePort",
                    "ipFamilies": ["IPv4"],
                    "allocateLoadBalancerNodePorts": false
                },
                "status": {"loadBalancer": {}}
            }),
            "{value:#}"
        );
        let ports = typed.spec.and_then(|s| s.ports).expect("ports");
        assert_eq!(ports[0].target_port, Some(IntOrString::Int(8080)));
        assert_eq!(
            ports[1].target_port,
            Some(IntOrString::String("https".into()))
        );
        assert_eq!(ports[2].target_port, None);
    }

    #[test]
    fn pod() {
        let mut pod_spec = go_pod_spec(vec![go_container("c", "busybox")]);
        pod_spec.volumes = vec![pb::Volume {
            name: s("data"),
            volume_source: Some(pb::VolumeSource {
                persistent_volume_claim: Some(pb::PersistentVolumeClaimVolumeSource {
                    claim_name: s("data"),
                    read_only: Some(false),
                }),
                ..Default::default()
            }),
        }];
        let pod = pb::Pod {
            metadata: Some(go_meta("p", "")),
            spec: Some(pod_spec),
            status: Some(pb::PodStatus::default()),
        };
        let (value, _) = decode_as::<core::Pod>(&body("v1", "Pod", &pod));
        assert_eq!(
            value,
            json!({
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                "spec": {
                    "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
                    "containers": [{"name": "c", "image": "busybox", "resources": {}}]
                },
                "status": {}
            })
        );
    }

    #[test]
    fn rbac_kinds() {
        use k8s_openapi::api::rbac::v1 as rbac;
        use k8s_pb::api::rbac::v1 as pbrbac;
        let rule = pbrbac::PolicyRule {
            verbs: vec!["get".into(), "list".into()],
            api_groups: vec!["".into(), "apps".into()],
            resources: vec!["pods".into(), "deployments".into()],
            resource_names: vec!["web".into()],
            non_resource_ur_ls: vec![],
        };
        let role = pbrbac::Role {
            metadata: Some(go_meta("reader", "default")),
            rules: vec![rule.clone()],
        };
        let (value, _) =
            decode_as::<rbac::Role>(&body("rbac.authorization.k8s.io/v1", "Role", &role));
        assert_eq!(
            value["rules"],
            json!([{
                "verbs": ["get", "list"], "apiGroups": ["", "apps"],
                "resources": ["pods", "deployments"], "resourceNames": ["web"]
            }])
        );

        let cluster_role = pbrbac::ClusterRole {
            metadata: Some(go_meta("metrics", "")),
            rules: vec![pbrbac::PolicyRule {
                verbs: vec!["get".into()],
                non_resource_ur_ls: vec!["/metrics".into()],
                ..Default::default()
            }],
            aggregation_rule: Some(pbrbac::AggregationRule {
                cluster_role_selectors: vec![pbmeta::LabelSelector {
                    match_labels: map(&[("aggregate", "true")]),
                    match_expressions: vec![],
                }],
            }),
        };
        let (value, _) = decode_as::<rbac::ClusterRole>(&body(
            "rbac.authorization.k8s.io/v1",
            "ClusterRole",
            &cluster_role,
        ));
        assert_eq!(
            value,
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": "metrics"},
                "rules": [{"verbs": ["get"], "nonResourceURLs": ["/metrics"]}],
                "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"aggregate": "true"}}]}
            })
        );

        let subjects = vec![
            pbrbac::Subject {
                kind: s("ServiceAccount"),
                api_group: s(""),
                name: s("robot"),
                namespace: s("ci"),
            },
            pbrbac::Subject {
                kind: s("User"),
                api_group: s("rbac.authorization.k8s.io"),
                name: s("alice"),
                namespace: s(""),
            },
        ];
        let role_ref = pbrbac::RoleRef {
            api_group: s("rbac.authorization.k8s.io"),
            kind: s("ClusterRole"),
            name: s("view"),
        };
        let binding = pbrbac::RoleBinding {
            metadata: Some(go_meta("view", "ci")),
            subjects: subjects.clone(),
            role_ref: Some(role_ref.clone()),
        };
        let (value, _) = decode_as::<rbac::RoleBinding>(&body(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            &binding,
        ));
        let expected_subjects = json!([
            {"kind": "ServiceAccount", "name": "robot", "namespace": "ci"},
            {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}
        ]);
        assert_eq!(value["subjects"], expected_subjects);
        assert_eq!(
            value["roleRef"],
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"})
        );
        let cluster_binding = pbrbac::ClusterRoleBinding {
            metadata: Some(go_meta("view-all", "")),
            subjects,
            role_ref: Some(role_ref),
        };
        let (value, _) = decode_as::<rbac::ClusterRoleBinding>(&body(
            "rbac.authorization.k8s.io/v1",
            "ClusterRoleBinding",
            &cluster_binding,
        ));
        assert_eq!(value["subjects"], expected_subjects);
    }

    #[test]
    fn pdb_ingress_priorityclass() {
        use k8s_openapi::api::networking::v1 as networking;
        use k8s_openapi::api::policy::v1 as policy;
        use k8s_openapi::api::scheduling::v1 as scheduling;
        use k8s_pb::api::networking::v1 as pbnet;
        use k8s_pb::api::policy::v1 as pbpolicy;
        use k8s_pb::api::scheduling::v1 as pbsched;

        let pdb = pbpolicy::PodDisruptionBudget {
            metadata: Some(go_meta("web", "")),
            spec: Some(pbpolicy::PodDisruptionBudgetSpec {
                min_available: Some(int_or_string_int(0)),
                selector: Some(label_selector()),
                max_unavailable: None,
                unhealthy_pod_eviction_policy: s("AlwaysAllow"),
            }),
            status: Some(pbpolicy::PodDisruptionBudgetStatus {
                observed_generation: Some(0),
                current_healthy: Some(0),
                desired_healthy: Some(0),
                disruptions_allowed: Some(0),
                expected_pods: Some(0),
                ..Default::default()
            }),
        };
        let (value, _) = decode_as::<policy::PodDisruptionBudget>(&body(
            "policy/v1",
            "PodDisruptionBudget",
            &pdb,
        ));
        assert_eq!(
            value["spec"],
            json!({
                "minAvailable": 0,
                "selector": {
                    "matchLabels": {"app": "web"},
                    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "edge"]}]
                },
                "unhealthyPodEvictionPolicy": "AlwaysAllow"
            })
        );
        // Required int32 fields of the status keep their zeros, as Go's JSON shows them.
        assert_eq!(
            value["status"],
            json!({"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0})
        );

        let backend = |port: pbnet::ServiceBackendPort| pbnet::IngressBackend {
            service: Some(pbnet::IngressServiceBackend {
                name: s("web"),
                port: Some(port),
            }),
            resource: None,
        };
        let ingress = pbnet::Ingress {
            metadata: Some(go_meta("web", "")),
            spec: Some(pbnet::IngressSpec {
                ingress_class_name: s("nginx"),
                default_backend: Some(backend(pbnet::ServiceBackendPort {
                    name: s("http"),
                    number: Some(0),
                })),
                tls: vec![pbnet::IngressTls {
                    hosts: vec!["example.com".into()],
                    secret_name: s("tls"),
                }],
                rules: vec![pbnet::IngressRule {
                    host: s("example.com"),
                    ingress_rule_value: Some(pbnet::IngressRuleValue {
                        http: Some(pbnet::HttpIngressRuleValue {
                            paths: vec![pbnet::HttpIngressPath {
                                path: s("/"),
                                path_type: s("Prefix"),
                                backend: Some(backend(pbnet::ServiceBackendPort {
                                    name: s(""),
                                    number: Some(80),
                                })),
                            }],
                        }),
                    }),
                }],
            }),
            status: Some(pbnet::IngressStatus::default()),
        };
        let (value, _) =
            decode_as::<networking::Ingress>(&body("networking.k8s.io/v1", "Ingress", &ingress));
        assert_eq!(
            value["spec"],
            json!({
                "ingressClassName": "nginx",
                "defaultBackend": {"service": {"name": "web", "port": {"name": "http"}}},
                "tls": [{"hosts": ["example.com"], "secretName": "tls"}],
                "rules": [{
                    "host": "example.com",
                    "http": {"paths": [{
                        "path": "/", "pathType": "Prefix",
                        "backend": {"service": {"name": "web", "port": {"number": 80}}}
                    }]}
                }]
            }),
            "{value:#}"
        );

        let pc = pbsched::PriorityClass {
            metadata: Some(go_meta("low", "")),
            value: Some(0),
            global_default: Some(false),
            description: s(""),
            preemption_policy: s("PreemptLowerPriority"),
        };
        let (value, typed) = decode_as::<scheduling::PriorityClass>(&body(
            "scheduling.k8s.io/v1",
            "PriorityClass",
            &pc,
        ));
        assert_eq!(
            value,
            json!({
                "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "low"},
                "value": 0, "preemptionPolicy": "PreemptLowerPriority"
            })
        );
        assert_eq!(typed.value, 0);
    }

    #[test]
    fn delete_options_token_request_and_lease() {
        use k8s_pb::api::authentication::v1 as pbauthn;
        use k8s_pb::api::coordination::v1 as pbcoord;
        let opts = pbmeta::DeleteOptions {
            grace_period_seconds: Some(0),
            preconditions: Some(pbmeta::Preconditions {
                uid: s("0b1c"),
                resource_version: None,
            }),
            orphan_dependents: None,
            propagation_policy: s("Foreground"),
            dry_run: vec!["All".into()],
            ignore_store_read_error_with_cluster_breaking_potential: None,
        };
        for api_version in ["v1", "apps/v1", "meta.k8s.io/v1"] {
            let value = decode(&body(api_version, "DeleteOptions", &opts)).expect("decode");
            assert_eq!(
                value,
                json!({
                    "apiVersion": api_version, "kind": "DeleteOptions",
                    "gracePeriodSeconds": 0, "preconditions": {"uid": "0b1c"},
                    "propagationPolicy": "Foreground", "dryRun": ["All"]
                })
            );
        }

        // kubectl create token robot --audience=api --duration=1h
        let token = pbauthn::TokenRequest {
            metadata: Some(go_meta("", "")),
            spec: Some(pbauthn::TokenRequestSpec {
                audiences: vec!["api".into()],
                expiration_seconds: Some(3600),
                bound_object_ref: Some(pbauthn::BoundObjectReference {
                    kind: s("Pod"),
                    api_version: s("v1"),
                    name: s("p"),
                    u_id: s("0b1c"),
                }),
            }),
            status: Some(pbauthn::TokenRequestStatus {
                token: s(""),
                expiration_timestamp: Some(pbmeta::Time::default()),
            }),
        };
        let value =
            decode(&body("authentication.k8s.io/v1", "TokenRequest", &token)).expect("decode");
        assert_eq!(
            value["spec"],
            json!({
                "audiences": ["api"], "expirationSeconds": 3600,
                "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "p", "uid": "0b1c"}
            })
        );

        let lease = pbcoord::Lease {
            metadata: Some(go_meta("leader", "kube-system")),
            spec: Some(pbcoord::LeaseSpec {
                holder_identity: s(""),
                lease_duration_seconds: Some(15),
                acquire_time: Some(pbmeta::MicroTime {
                    seconds: Some(1_700_000_000),
                    nanos: Some(123_456_789),
                }),
                renew_time: None,
                lease_transitions: Some(0),
                ..Default::default()
            }),
        };
        let (value, _) = decode_as::<k8s_openapi::api::coordination::v1::Lease>(&body(
            "coordination.k8s.io/v1",
            "Lease",
            &lease,
        ));
        assert_eq!(
            value["spec"],
            json!({
                "holderIdentity": "", "leaseDurationSeconds": 15,
                "acquireTime": "2023-11-14T22:13:20.123456Z", "leaseTransitions": 0
            })
        );
    }

    #[test]
    fn raw_extensions_and_crd_schemas() {
        use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiext;
        use k8s_pb::api::apps::v1 as pbapps;
        use k8s_pb::apiextensions_apiserver::pkg::apis::apiextensions::v1 as pbext;

        // ControllerRevision.data holds an embedded object: JSON, or a nested protobuf object.
        let revision = |raw: Vec<u8>| pbapps::ControllerRevision {
            metadata: Some(go_meta("web-1", "")),
            data: Some(RawExtension { raw: Some(raw) }),
            revision: Some(1),
        };
        let value = decode(&body(
            "apps/v1",
            "ControllerRevision",
            &revision(br#"{"spec":{"x":1}}"#.to_vec()),
        ))
        .expect("decode");
        assert_eq!(value["data"], json!({"spec": {"x": 1}}));
        let nested = body(
            "v1",
            "ConfigMap",
            &pb::ConfigMap {
                data: map(&[("k", "v")]),
                ..Default::default()
            },
        );
        let value =
            decode(&body("apps/v1", "ControllerRevision", &revision(nested))).expect("decode");
        assert_eq!(
            value["data"],
            json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "v"}})
        );
        let err = decode(&body(
            "apps/v1",
            "ControllerRevision",
            &revision(b"{nope".to_vec()),
        ))
        .expect_err("bad JSON");
        assert_eq!(err.code, 400);
        assert!(
            err.message.contains("data: embedded object is not JSON"),
            "{}",
            err.message
        );

        let props = |ty: &str| pbext::JsonSchemaProps {
            r#type: s(ty),
            ..Default::default()
        };
        let mut root = props("object");
        root.properties = [
            (
                "replicas".to_string(),
                pbext::JsonSchemaProps {
                    minimum: Some(0.0),
                    maximum: Some(2.5),
                    default: Some(pbext::Json {
                        raw: Some(b"1".to_vec()),
                    }),
                    ..props("integer")
                },
            ),
            (
                "tags".to_string(),
                pbext::JsonSchemaProps {
                    items: Some(Box::new(pbext::JsonSchemaPropsOrArray {
                        schema: Some(Box::new(props("string"))),
                        j_son_schemas: vec![],
                    })),
                    ..props("array")
                },
            ),
            (
                "labels".to_string(),
                pbext::JsonSchemaProps {
                    additional_properties: Some(Box::new(pbext::JsonSchemaPropsOrBool {
                        allows: Some(true),
                        schema: Some(Box::new(props("string"))),
                    })),
                    ..props("object")
                },
            ),
            (
                "closed".to_string(),
                pbext::JsonSchemaProps {
                    additional_properties: Some(Box::new(pbext::JsonSchemaPropsOrBool {
                        allows: Some(false),
                        schema: None,
                    })),
                    x_kubernetes_preserve_unknown_fields: Some(true),
                    ..props("object")
                },
            ),
        ]
        .into_iter()
        .collect();
        root.required = vec!["replicas".into()];
        let crd = pbext::CustomResourceDefinition {
            metadata: Some(go_meta("widgets.example.com", "")),
            spec: Some(pbext::CustomResourceDefinitionSpec {
                group: s("example.com"),
                names: Some(pbext::CustomResourceDefinitionNames {
                    plural: s("widgets"),
                    singular: s("widget"),
                    kind: s("Widget"),
                    list_kind: s("WidgetList"),
                    ..Default::default()
                }),
                scope: s("Namespaced"),
                versions: vec![pbext::CustomResourceDefinitionVersion {
                    name: s("v1"),
                    served: Some(true),
                    storage: Some(true),
                    schema: Some(pbext::CustomResourceValidation {
                        open_apiv3_schema: Some(root),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            status: None,
        };
        // (Not `decode_as`: Go, and so this decoder, writes the float64 0 as `0`, k8s-openapi as
        // `0.0`.)
        let value = decode(&body(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            &crd,
        ))
        .expect("decode");
        let typed: apiext::CustomResourceDefinition =
            serde_json::from_value(value.clone()).expect("typed");
        assert_eq!(typed.spec.names.kind, "Widget");
        assert_eq!(
            value["spec"]["versions"][0]["schema"]["openAPIV3Schema"],
            json!({
                "type": "object",
                "required": ["replicas"],
                "properties": {
                    "closed": {"type": "object", "additionalProperties": false, "x-kubernetes-preserve-unknown-fields": true},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "replicas": {"type": "integer", "default": 1, "maximum": 2.5, "minimum": 0},
                    "tags": {"type": "array", "items": {"type": "string"}}
                }
            }),
            "{value:#}"
        );
    }

    #[test]
    fn wire_format_details() {
        // Unknown fields are skipped; a message field given twice is merged; packed and unpacked
        // repeated numbers both decode.
        let mut raw = pb::Namespace {
            metadata: Some(pbmeta::ObjectMeta {
                name: s("a"),
                ..Default::default()
            }),
            ..Default::default()
        }
        .encode_to_vec();
        // field 999, varint 7 (unknown)
        raw.extend([0xb8, 0x3e, 0x07]);
        // metadata (1) again, with labels {x: y}: merged into the first occurrence.
        let more = pbmeta::ObjectMeta {
            labels: map(&[("x", "y")]),
            ..Default::default()
        }
        .encode_to_vec();
        raw.push(0x0a);
        raw.push(more.len() as u8);
        raw.extend(more);
        let value = decode(&envelope("v1", "Namespace", raw)).expect("decode");
        assert_eq!(
            value,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "labels": {"x": "y"}}})
        );

        // PodSecurityContext.supplementalGroups (4) packed: [1, 300].
        let packed = [0x22, 0x03, 0x01, 0xac, 0x02];
        let unpacked = [0x20, 0x01, 0x20, 0xac, 0x02];
        for groups in [&packed[..], &unpacked[..]] {
            let mut spec = Vec::new();
            // PodSpec.securityContext (14)
            spec.push(0x72);
            spec.push(groups.len() as u8);
            spec.extend(groups);
            let mut raw = vec![0x12, spec.len() as u8];
            raw.extend(spec);
            let value = decode(&envelope("v1", "Pod", raw)).expect("decode");
            assert_eq!(
                value["spec"]["securityContext"]["supplementalGroups"],
                json!([1, 300])
            );
        }

        // Negative int32 values are 10-byte varints.
        let value = decode(&body(
            "v1",
            "Pod",
            &pb::Pod {
                spec: Some(pb::PodSpec {
                    priority: Some(-5),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ))
        .expect("decode");
        assert_eq!(value["spec"]["priority"], json!(-5));

        // Invalid UTF-8 becomes U+FFFD, as Go's JSON encoder does.
        let raw = vec![0x0a, 0x04, 0x0a, 0x02, b'a', 0xff];
        let value = decode(&envelope("v1", "Namespace", raw)).expect("decode");
        assert_eq!(value["metadata"]["name"], json!("a\u{fffd}"));
    }

    #[test]
    fn errors() {
        let ns = body("v1", "Namespace", &pb::Namespace::default());

        let err = decode(b"{\"kind\":\"Namespace\"}").expect_err("no magic");
        assert_eq!((err.code, err.reason), (400, "BadRequest"));
        assert!(
            err.message
                .contains("does not appear to be a protobuf message"),
            "{}",
            err.message
        );
        assert_eq!(decode(b"").expect_err("empty").code, 400);

        // Truncated: the envelope's raw field claims more bytes than there are.
        let err = decode(&ns[..ns.len() - 1]).expect_err("truncated");
        assert_eq!(err.code, 400, "{err}");

        // A custom resource has no protobuf form: 415 naming it.
        let err = decode(&envelope("example.com/v1", "Widget", vec![])).expect_err("custom");
        assert_eq!((err.code, err.reason), (415, "UnsupportedMediaType"));
        assert!(
            err.message.contains("example.com/v1, Kind=Widget"),
            "{}",
            err.message
        );
        assert!(
            err.message
                .starts_with("the body of the request was in an unknown format")
        );
        let err = decode(&envelope("v1", "NoSuchKind", vec![])).expect_err("unknown kind");
        assert_eq!(err.code, 415);
        assert!(
            err.message.contains("/v1, Kind=NoSuchKind"),
            "{}",
            err.message
        );

        // No kind.
        let err = decode(&envelope("v1", "", vec![])).expect_err("no kind");
        assert_eq!(err.code, 400);

        // Encoded payloads aren't supported.
        let mut unknown = Unknown::decode(&ns[4..]).expect("own fixture");
        unknown.content_encoding = s("gzip");
        let mut bytes = MAGIC.to_vec();
        bytes.extend(unknown.encode_to_vec());
        assert_eq!(decode(&bytes).expect_err("gzip").code, 415);

        // Wrong wire type: metadata.name (string) sent as a varint.
        let raw = vec![0x0a, 0x02, 0x08, 0x01];
        let err = decode(&envelope("v1", "Namespace", raw)).expect_err("wire type");
        assert_eq!(err.code, 400);
        assert!(
            err.message.contains("metadata.name: wrong wire type"),
            "{}",
            err.message
        );

        // A bad value deep inside names the path.
        let bad_port = pb::ServicePort {
            target_port: Some(PbIntOrString {
                r#type: Some(7),
                ..Default::default()
            }),
            ..Default::default()
        };
        let svc = pb::Service {
            spec: Some(pb::ServiceSpec {
                ports: vec![pb::ServicePort::default(), bad_port],
                ..Default::default()
            }),
            ..Default::default()
        };
        let err = decode(&body("v1", "Service", &svc)).expect_err("bad IntOrString");
        assert_eq!(err.code, 400);
        assert!(
            err.message.contains("/v1, Kind=Service from protobuf: spec.ports[1].targetPort: invalid IntOrString type 7"),
            "{}",
            err.message
        );

        // Overlong varint, bad field number, group wire types.
        for raw in [
            vec![0x08; 1]
                .into_iter()
                .chain([0xff; 11])
                .collect::<Vec<u8>>(),
            vec![0x00, 0x00],
            vec![0x0b],
        ] {
            assert_eq!(
                decode(&envelope("v1", "Namespace", raw))
                    .expect_err("bad wire")
                    .code,
                400
            );
        }

        // Nesting is bounded: JSONSchemaProps.not (field 28) nested 200 deep.
        let mut raw: Vec<u8> = Vec::new();
        for _ in 0..200 {
            let mut outer = vec![0xe2, 0x01];
            push_varint(&mut outer, raw.len() as u64);
            outer.extend(&raw);
            raw = outer;
        }
        let err =
            decode(&envelope("apiextensions.k8s.io/v1", "JSONSchemaProps", raw)).expect_err("deep");
        assert_eq!(err.code, 400);
        assert!(err.message.contains("nested more than"), "{}", err.message);
    }

    fn push_varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    #[test]
    fn formats() {
        assert_eq!(format_time(0, None).expect("epoch"), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_time(951_782_400, None).expect("leap day"),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            format_time(-1, None).expect("before epoch"),
            "1969-12-31T23:59:59Z"
        );
        assert_eq!(
            format_time(253_402_300_799, Some(999_999_999)).expect("max"),
            "9999-12-31T23:59:59.999999Z"
        );
        assert!(format_time(253_402_300_800, None).is_err());
        for (nanos, text) in [
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5µs"),
            (2_000_000, "2ms"),
            (1_500_000_000, "1.5s"),
            (90_000_000_000, "1m30s"),
            (3_600_000_000_000, "1h0m0s"),
            (3_723_000_000_001, "1h2m3.000000001s"),
            (-61_000_000_000, "-1m1s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ] {
            assert_eq!(go_duration(nanos), text);
        }
    }

    #[test]
    fn schema_resolves_every_kind_kubectl_creates() {
        let schema = schema().expect("schema parses");
        assert!(schema.messages.len() > 1000);
        for (api_version, kind) in [
            ("v1", "Namespace"),
            ("v1", "ConfigMap"),
            ("v1", "Secret"),
            ("v1", "Service"),
            ("v1", "ServiceAccount"),
            ("v1", "Pod"),
            ("v1", "ResourceQuota"),
            ("v1", "Binding"),
            ("apps/v1", "Deployment"),
            ("batch/v1", "Job"),
            ("batch/v1", "CronJob"),
            ("rbac.authorization.k8s.io/v1", "Role"),
            ("rbac.authorization.k8s.io/v1", "RoleBinding"),
            ("rbac.authorization.k8s.io/v1", "ClusterRole"),
            ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
            ("policy/v1", "PodDisruptionBudget"),
            ("policy/v1", "Eviction"),
            ("networking.k8s.io/v1", "Ingress"),
            ("scheduling.k8s.io/v1", "PriorityClass"),
            ("authentication.k8s.io/v1", "TokenRequest"),
            ("authorization.k8s.io/v1", "SelfSubjectAccessReview"),
            ("authorization.k8s.io/v1", "SelfSubjectRulesReview"),
            ("autoscaling/v1", "Scale"),
            ("flowcontrol.apiserver.k8s.io/v1", "FlowSchema"),
            ("internal.apiserver.k8s.io/v1alpha1", "StorageVersion"),
            ("apiregistration.k8s.io/v1", "APIService"),
            ("meta.k8s.io/v1", "DeleteOptions"),
            ("v1", "DeleteOptions"),
        ] {
            let index = schema.kind(api_version, kind);
            assert!(index.is_some(), "{api_version} {kind}");
            if let Some(i) = index {
                assert!(schema.messages[i].name.ends_with(&format!(".{kind}")));
            }
        }
        assert_eq!(schema.kind("example.com/v1", "Widget"), None);
        assert_eq!(schema.kind("gateway.networking.k8s.io/v1", "Gateway"), None);
        assert_eq!(schema.kind("v1", "../x"), None);
    }

    #[test]
    fn schema_file_is_current() {
        let Some(generated) = super::schema_gen::try_generate() else {
            eprintln!("k8s-pb / k8s-openapi sources not in the cargo registry: not checked");
            return;
        };
        let expected = format!("{SCHEMA_HEADER}{}", generated.0);
        assert!(
            expected == SCHEMA_TEXT,
            "src/protobuf/schema.txt is stale: rerun the generator (see the module docs)"
        );
    }
}

/// The generator of `protobuf/schema.txt` (see the module docs for how to run it).
#[cfg(test)]
mod schema_gen {
    use std::collections::HashMap;
    use std::fmt::Write as _;
    use std::path::{Path, PathBuf};

    const K8S_PB: &str = "k8s-pb-0.9.0";
    const K8S_OPENAPI: &str = "k8s-openapi-0.29.0";
    /// k8s-openapi version modules searched for JSON names and required-ness, first match wins.
    const OPENAPI_VERSIONS: &[&str] = &["v1_33", "v1_34", "v1_35", "v1_36", "v1_37"];

    /// Optional fields whose zero value on the wire means "unset", though the generic rule
    /// below would keep it: Go non-pointer fields with `omitempty` (Go always writes them to
    /// protobuf, and its JSON omits their zero values), of bool, integer or IntOrString type, or
    /// of string type but required in k8s-openapi. One line per message,
    /// `<group>[.<version>].<Message> <jsonName>...`, where `<group>` is the proto package's
    /// component before the version (`core`, `apps`, `meta`); the version is given only where
    /// versions of a group differ.
    ///
    /// Generic rule: bool, integer and IntOrString fields keep a zero (they are pointers, whose
    /// presence matters, as the API conventions ask of optional fields), strings and bytes drop
    /// it unless k8s-openapi marks the field required. These lists hold the exceptions, as
    /// found in the Go types (pointer or not, `omitempty` or not) of k8s.io/api,
    /// k8s.io/apimachinery and k8s.io/apiextensions-apiserver v0.35.
    pub(super) const OMIT_ZERO: &str = "
    admissionregistration.ValidatingAdmissionPolicyStatus observedGeneration
    apiextensions.CustomResourceColumnDefinition priority
    apiextensions.CustomResourceDefinitionCondition observedGeneration
    apiextensions.CustomResourceDefinitionStatus observedGeneration
    apiextensions.CustomResourceDefinitionVersion deprecated
    apiextensions.JSONSchemaProps exclusiveMaximum exclusiveMinimum nullable uniqueItems x-kubernetes-embedded-resource x-kubernetes-int-or-string
    apiextensions.v1.CustomResourceDefinitionSpec preserveUnknownFields
    apiserverinternal.StorageVersionCondition message observedGeneration
    apps.DaemonSetSpec minReadySeconds
    apps.DaemonSetStatus numberAvailable numberUnavailable observedGeneration updatedNumberScheduled
    apps.DeploymentSpec minReadySeconds paused
    apps.DeploymentStatus availableReplicas observedGeneration readyReplicas replicas unavailableReplicas updatedReplicas
    apps.ReplicaSetSpec minReadySeconds
    apps.ReplicaSetStatus availableReplicas fullyLabeledReplicas observedGeneration readyReplicas
    apps.RollbackConfig revision
    apps.ScaleSpec replicas
    apps.StatefulSetSpec minReadySeconds
    apps.StatefulSetStatus currentReplicas readyReplicas updatedReplicas
    apps.v1.StatefulSetStatus observedGeneration
    apps.v1beta2.StatefulSetStatus observedGeneration
    authentication.TokenReviewStatus authenticated
    authorization.SubjectAccessReviewStatus denied
    autoscaling.ScaleSpec replicas
    autoscaling.v2.HorizontalPodAutoscalerStatus currentReplicas
    batch.JobStatus active failed succeeded
    coordination.LeaseCandidateSpec strategy
    core.AWSElasticBlockStoreVolumeSource partition readOnly
    core.AzureFilePersistentVolumeSource readOnly
    core.AzureFileVolumeSource readOnly
    core.CSIPersistentVolumeSource readOnly
    core.CephFSPersistentVolumeSource readOnly
    core.CephFSVolumeSource readOnly
    core.CinderPersistentVolumeSource readOnly
    core.CinderVolumeSource readOnly
    core.Container stdin stdinOnce tty
    core.ContainerImage sizeBytes
    core.ContainerPort hostPort
    core.ContainerRestartRule action
    core.ContainerRestartRuleOnExitCodes operator
    core.ContainerStateTerminated signal
    core.EphemeralContainerCommon stdin stdinOnce tty
    core.Event count
    core.EventSeries count
    core.FCVolumeSource readOnly
    core.FlexPersistentVolumeSource readOnly
    core.FlexVolumeSource readOnly
    core.GCEPersistentDiskVolumeSource partition readOnly
    core.GlusterfsPersistentVolumeSource readOnly
    core.GlusterfsVolumeSource readOnly
    core.ISCSIPersistentVolumeSource chapAuthDiscovery chapAuthSession readOnly
    core.ISCSIVolumeSource chapAuthDiscovery chapAuthSession readOnly
    core.LocalObjectReference name
    core.NFSVolumeSource readOnly
    core.NodeSpec unschedulable
    core.PersistentVolumeClaimVolumeSource readOnly
    core.PodAttachOptions stderr stdin stdout tty
    core.PodCertificateProjection keyType signerName
    core.PodCondition observedGeneration
    core.PodExecOptions stderr stdin stdout tty
    core.PodLogOptions follow insecureSkipTLSVerifyBackend previous timestamps
    core.PodSpec hostIPC hostNetwork hostPID
    core.PodStatus observedGeneration
    core.PortworxVolumeSource readOnly
    core.Probe failureThreshold initialDelaySeconds periodSeconds successThreshold timeoutSeconds
    core.QuobyteVolumeSource readOnly
    core.RBDPersistentVolumeSource readOnly
    core.RBDVolumeSource readOnly
    core.ReplicationControllerSpec minReadySeconds
    core.ReplicationControllerStatus availableReplicas fullyLabeledReplicas observedGeneration readyReplicas
    core.ScaleIOPersistentVolumeSource readOnly sslEnabled
    core.ScaleIOVolumeSource readOnly sslEnabled
    core.ServicePort nodePort targetPort
    core.ServiceSpec healthCheckNodePort publishNotReadyAddresses
    core.StorageOSPersistentVolumeSource readOnly
    core.StorageOSVolumeSource readOnly
    core.VolumeMount readOnly
    core.VolumeMountStatus readOnly
    events.Event deprecatedCount
    extensions.DaemonSetSpec minReadySeconds templateGeneration
    extensions.DaemonSetStatus numberAvailable numberUnavailable observedGeneration updatedNumberScheduled
    extensions.DeploymentSpec minReadySeconds paused
    extensions.DeploymentStatus availableReplicas observedGeneration readyReplicas replicas unavailableReplicas updatedReplicas
    extensions.IngressBackend servicePort
    extensions.ReplicaSetSpec minReadySeconds
    extensions.ReplicaSetStatus availableReplicas fullyLabeledReplicas observedGeneration readyReplicas
    extensions.RollbackConfig revision
    extensions.ScaleSpec replicas
    flowcontrol.ResourcePolicyRule clusterScope
    meta.Condition observedGeneration
    meta.ListOptions allowWatchBookmarks limit watch
    meta.ObjectMeta generation
    meta.Status code
    meta.StatusDetails retryAfterSeconds
    networking.IngressBackend servicePort
    networking.ParentReference name resource
    networking.ServiceBackendPort number
    policy.PodDisruptionBudgetStatus observedGeneration
    resource.DeviceRequest count
    resource.DeviceSubRequest count
    resource.ExactDeviceRequest count
    resource.v1beta1.ResourceSliceSpec allNodes
    scheduling.PriorityClass globalDefault
";

    /// Optional string fields whose empty value on the wire is kept, though the generic rule
    /// would drop it: Go pointers (`*string`, `storageClassName: ""`) and strings without
    /// `omitempty` that k8s-openapi doesn't mark required. Same format as [`OMIT_ZERO`].
    pub(super) const KEEP_ZERO: &str = "
    admission.AdmissionRequest operation uid
    admission.AdmissionResponse patchType uid
    admissionregistration.MatchResources matchPolicy
    admissionregistration.MutatingAdmissionPolicySpec failurePolicy
    admissionregistration.MutatingWebhook failurePolicy matchPolicy reinvocationPolicy
    admissionregistration.ParamRef parameterNotFoundAction
    admissionregistration.Rule scope
    admissionregistration.ServiceReference path
    admissionregistration.ValidatingAdmissionPolicySpec failurePolicy
    admissionregistration.ValidatingWebhook failurePolicy matchPolicy
    admissionregistration.Validation reason
    admissionregistration.WebhookClientConfig url
    apidiscovery.APIResourceDiscovery resource scope singularResource
    apidiscovery.APISubresourceDiscovery subresource
    apidiscovery.APIVersionDiscovery version
    apiextensions.ConversionRequest desiredAPIVersion uid
    apiextensions.ConversionResponse uid
    apiextensions.CustomResourceColumnDefinition JSONPath
    apiextensions.CustomResourceDefinitionVersion deprecationWarning
    apiextensions.CustomResourceSubresourceScale labelSelectorPath
    apiextensions.JSONSchemaProps $ref x-kubernetes-list-type x-kubernetes-map-type
    apiextensions.ServiceReference path
    apiextensions.ValidationRule reason
    apiextensions.WebhookClientConfig url
    apiserverinternal.StorageVersionStatus commonEncodingVersion
    apps.DeploymentRollback name
    apps.StatefulSetSpec serviceName
    autoscaling.ExternalMetricSource metricName
    autoscaling.ExternalMetricStatus metricName
    autoscaling.HPAScalingRules selectPolicy
    autoscaling.ObjectMetricSource metricName
    autoscaling.ObjectMetricStatus metricName
    autoscaling.PodsMetricSource metricName
    autoscaling.PodsMetricStatus metricName
    batch.CronJobSpec timeZone
    batch.JobSpec completionMode managedBy podReplacementPolicy
    batch.JobStatus failedIndexes
    batch.PodFailurePolicyOnExitCodesRequirement containerName
    batch.SuccessPolicyRule succeededIndexes
    coordination.LeaseSpec holderIdentity preferredHolder strategy
    core.AppArmorProfile localhostProfile
    core.AzureDiskVolumeSource cachingMode fsType kind
    core.AzureFilePersistentVolumeSource secretNamespace
    core.CSIVolumeSource fsType
    core.ClusterTrustBundleProjection name signerName
    core.Container restartPolicy
    core.ContainerStatus stopSignal
    core.EndpointAddress nodeName
    core.EndpointPort appProtocol
    core.EphemeralContainerCommon name restartPolicy
    core.Event reportingComponent reportingInstance
    core.GRPCAction service
    core.GlusterfsPersistentVolumeSource endpointsNamespace
    core.HostPathVolumeSource type
    core.ISCSIPersistentVolumeSource initiatorName
    core.ISCSIVolumeSource initiatorName
    core.Lifecycle stopSignal
    core.LoadBalancerIngress ipMode
    core.LocalVolumeSource fsType
    core.NodeRuntimeHandler name
    core.PersistentVolumeClaimSpec storageClassName volumeAttributesClassName volumeMode
    core.PersistentVolumeClaimStatus currentVolumeAttributesClassName
    core.PersistentVolumeSpec volumeAttributesClassName volumeMode
    core.PodDNSConfigOption value
    core.PodLogOptions stream
    core.PodResourceClaim resourceClaimName resourceClaimTemplateName
    core.PodResourceClaimStatus resourceClaimName
    core.PodSecurityContext fsGroupChangePolicy seLinuxChangePolicy supplementalGroupsPolicy
    core.PodSpec hostnameOverride preemptionPolicy runtimeClassName
    core.PortStatus error
    core.Preconditions uid
    core.RangeAllocation data range
    core.SeccompProfile localhostProfile
    core.SecurityContext procMount
    core.ServicePort appProtocol
    core.ServiceSpec internalTrafficPolicy ipFamilyPolicy loadBalancerClass trafficDistribution
    core.TopologySpreadConstraint nodeAffinityPolicy nodeTaintsPolicy
    core.TypedLocalObjectReference apiGroup
    core.TypedObjectReference apiGroup namespace
    core.VolumeMount mountPropagation recursiveReadOnly
    core.VolumeMountStatus recursiveReadOnly
    core.WindowsSecurityContextOptions gmsaCredentialSpec gmsaCredentialSpecName runAsUserName
    discovery.Endpoint hostname nodeName zone
    discovery.EndpointPort appProtocol name protocol
    extensions.DeploymentRollback name
    extensions.IngressPortStatus error
    extensions.IngressSpec ingressClassName
    extensions.NetworkPolicyPort protocol
    meta.ApplyOptions fieldManager
    meta.DeleteOptions propagationPolicy
    meta.GroupKind group kind
    meta.GroupVersion group version
    meta.GroupVersionKind group kind version
    meta.GroupVersionResource group resource version
    meta.Preconditions resourceVersion uid
    meta.WatchEvent type
    networking.IngressClassParametersReference apiGroup namespace scope
    networking.IngressPortStatus error
    networking.IngressSpec ingressClassName
    networking.NetworkPolicyPort protocol
    node.RuntimeClassSpec runtimeHandler
    pkg.Unknown contentEncoding contentType raw
    policy.PodDisruptionBudgetSpec unhealthyPodEvictionPolicy
    resource.AllocatedDeviceStatus shareID
    resource.BasicDevice nodeName
    resource.Device nodeName
    resource.DeviceAttribute string version
    resource.DeviceClassSpec extendedResourceName
    resource.DeviceConstraint distinctAttribute matchAttribute
    resource.DeviceRequest deviceClassName
    resource.DeviceRequestAllocationResult shareID
    resource.DeviceTaintSelector device driver pool
    resource.v1.ResourceSliceSpec nodeName
    resource.v1beta2.ResourceSliceSpec nodeName
    scheduling.PriorityClass preemptionPolicy
    storage.CSIDriverSpec fsGroupPolicy
    storage.StorageClass reclaimPolicy volumeBindingMode
    storage.VolumeAttachmentSource persistentVolumeName
";

    /// `group.Message.field` and `group.version.Message.field` entries of a list.
    fn policy_set(list: &str) -> HashMap<String, bool> {
        let mut out = HashMap::new();
        for line in list.lines() {
            let mut words = line.split_whitespace();
            let Some(prefix) = words.next() else {
                continue;
            };
            for field in words {
                out.insert(format!("{prefix}.{field}"), false);
            }
        }
        out
    }

    /// JSON names of fields of types that k8s-openapi doesn't have, where neither the global
    /// dictionary of k8s-openapi names nor lowerCamelCase of the Rust name is right:
    /// `(message, k8s-pb field, JSON name)`.
    const NAME_OVERRIDES: &[(&str, &str, &str)] = &[
        (
            "k8s.io.api.admission.v1.AdmissionRequest",
            "sub_resource",
            "subResource",
        ),
        (
            "k8s.io.api.admission.v1beta1.AdmissionRequest",
            "sub_resource",
            "subResource",
        ),
        (
            "k8s.io.api.core.v1.PodLogOptions",
            "insecure_skip_tls_verify_backend",
            "insecureSkipTLSVerifyBackend",
        ),
        (
            "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.ConversionRequest",
            "desired_api_version",
            "desiredAPIVersion",
        ),
        (
            "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1beta1.ConversionRequest",
            "desired_api_version",
            "desiredAPIVersion",
        ),
        (
            "k8s.io.apimachinery.pkg.apis.testapigroup.v1.CarpStatus",
            "carp_ip",
            "carpIP",
        ),
        (
            "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1beta1.CustomResourceColumnDefinition",
            "json_path",
            "JSONPath",
        ),
    ];

    /// Special messages: their JSON form is not an object of their fields.
    const SPECIALS: &[(&str, &str)] = &[
        ("k8s.io.apimachinery.pkg.api.resource.Quantity", "quantity"),
        (
            "k8s.io.apimachinery.pkg.api.resource.QuantityValue",
            "quantity",
        ),
        (
            "k8s.io.apimachinery.pkg.util.intstr.IntOrString",
            "intorstring",
        ),
        ("k8s.io.apimachinery.pkg.apis.meta.v1.Time", "time"),
        (
            "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime",
            "microtime",
        ),
        ("k8s.io.apimachinery.pkg.apis.meta.v1.Duration", "duration"),
        ("k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1", "rawjson"),
        ("k8s.io.apimachinery.pkg.runtime.RawExtension", "rawjson"),
        (
            "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSON",
            "rawjson",
        ),
        (
            "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1beta1.JSON",
            "rawjson",
        ),
        (
            "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray",
            "propsorarray",
        ),
        (
            "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1beta1.JSONSchemaPropsOrArray",
            "propsorarray",
        ),
        (
            "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool",
            "propsorbool",
        ),
        (
            "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1beta1.JSONSchemaPropsOrBool",
            "propsorbool",
        ),
        (
            "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray",
            "propsorstringarray",
        ),
        (
            "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1beta1.JSONSchemaPropsOrStringArray",
            "propsorstringarray",
        ),
    ];

    #[derive(Debug)]
    struct PbField {
        tag: u32,
        rust: String,
        /// 'o' optional, 'r' repeated, 'm' map with string keys.
        card: char,
        /// A scalar type name or a message's full name.
        ty: String,
    }

    #[derive(Debug)]
    struct PbMsg {
        /// Proto package, e.g. `k8s.io.api.core.v1`.
        package: String,
        /// Module path inside the crates, e.g. `api/core/v1`.
        module: String,
        /// Rust name of the struct (k8s-pb renames e.g. `JSON` to `Json`).
        rust: String,
        doc: String,
        fields: Vec<PbField>,
    }

    #[derive(Debug, Clone)]
    struct OaField {
        rust: String,
        json: String,
        required: bool,
    }

    /// The generated schema body and report, or `None` if the crates' sources aren't unpacked
    /// in the cargo registry.
    pub(super) fn try_generate() -> Option<(String, String)> {
        cargo_registry_src(K8S_PB)?;
        cargo_registry_src(K8S_OPENAPI)?;
        Some(generate())
    }

    fn cargo_registry_src(krate: &str) -> Option<PathBuf> {
        let home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cargo")
            });
        let registry = home.join("registry").join("src");
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&registry)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join(krate).join("src")))
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        dirs.pop()
    }

    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("read_dir")
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }

    fn module_of(root: &Path, file: &Path) -> String {
        let rel = file
            .parent()
            .expect("parent")
            .strip_prefix(root)
            .expect("under root");
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The proto name of a k8s-pb struct (k8s-pb's "case alignment" renamed a few).
    fn proto_name(rust: &str, doc: &str) -> String {
        // k8s-pb turns `JSON`, `JSONSchemaProps...`, `IPBlock`... into `Json`, `JsonSchemaProps`,
        // `IpBlock`; the doc comment nearly always names the original Go type.
        doc.split(|c: char| !c.is_ascii_alphanumeric())
            .find(|w| w.eq_ignore_ascii_case(rust))
            .unwrap_or(rust)
            .to_string()
    }

    fn resolve_type(module: &str, rust_ty: &str) -> String {
        let mut t: String = rust_ty.chars().filter(|c| !c.is_whitespace()).collect();
        if let Some(pos) = t.find("String,")
            && t.contains("BTreeMap<")
        {
            t = t[pos + "String,".len()..].to_string();
        }
        for prefix in [
            "::core::option::Option<",
            "::prost::alloc::vec::Vec<",
            "::prost::alloc::boxed::Box<",
        ] {
            while let Some(rest) = t.strip_prefix(prefix) {
                t = rest.to_string();
            }
        }
        let t = t.trim_end_matches(['>', ',']);
        let mut comps: Vec<&str> = module.split('/').collect();
        let mut parts: Vec<&str> = t.split("::").collect();
        let name = parts.pop().expect("type name");
        for p in parts {
            if p == "super" {
                comps.pop();
            } else {
                comps.push(p);
            }
        }
        format!("k8s.io.{}.{name}", comps.join("."))
    }

    fn parse_k8s_pb(root: &Path) -> Vec<PbMsg> {
        let mut files = Vec::new();
        walk(root, &mut files);
        let mut msgs = Vec::new();
        for file in files {
            let module = module_of(root, &file);
            if module.is_empty() {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("read k8s-pb source");
            let lines: Vec<&str> = text.lines().collect();
            let mut doc = String::new();
            let mut i = 0;
            while i < lines.len() {
                let line = lines[i];
                if let Some(d) = line.strip_prefix("///") {
                    doc.push_str(d.trim());
                    doc.push('\n');
                    i += 1;
                    continue;
                }
                if line.starts_with("#[derive(") && line.contains("::prost::Message") {
                    let decl = lines[i + 1];
                    let empty = decl.ends_with(" {}");
                    let rust = decl
                        .strip_prefix("pub struct ")
                        .and_then(|s| s.strip_suffix(" {").or_else(|| s.strip_suffix(" {}")))
                        .unwrap_or_else(|| panic!("unexpected struct line {decl:?}"))
                        .to_string();
                    i += if empty { 1 } else { 2 };
                    let mut fields = Vec::new();
                    while !empty && lines[i] != "}" {
                        let l = lines[i].trim();
                        if let Some(attr) = l
                            .strip_prefix("#[prost(")
                            .and_then(|s| s.strip_suffix(")]"))
                        {
                            let mut decl = String::new();
                            i += 1;
                            let balanced =
                                |d: &str| d.matches('<').count() == d.matches('>').count();
                            while !(decl.trim_end().ends_with(',') && balanced(&decl)) {
                                decl.push_str(lines[i].trim());
                                i += 1;
                            }
                            let decl = decl.trim_end_matches(',');
                            let (name, ty) = decl
                                .strip_prefix("pub ")
                                .and_then(|d| d.split_once(':'))
                                .unwrap_or_else(|| panic!("unexpected field {decl:?}"));
                            let tag: u32 = attr
                                .split("tag = \"")
                                .nth(1)
                                .and_then(|s| s.split('"').next())
                                .and_then(|s| s.parse().ok())
                                .unwrap_or_else(|| panic!("no tag in {attr:?}"));
                            let (card, kind) = if let Some(m) =
                                attr.strip_prefix("btree_map = \"string, ")
                            {
                                ('m', m.split('"').next().expect("map value").to_string())
                            } else {
                                let kind = attr.split([',', ' ']).next().expect("kind").to_string();
                                (if attr.contains("repeated") { 'r' } else { 'o' }, kind)
                            };
                            let ty = match kind.as_str() {
                                "message" => resolve_type(&module, ty),
                                "string" | "bool" | "int32" | "int64" | "double" | "bytes" => kind,
                                other => panic!("unsupported prost kind {other} in {rust}"),
                            };
                            fields.push(PbField {
                                tag,
                                rust: name.trim().trim_start_matches("r#").to_string(),
                                card,
                                ty,
                            });
                            continue;
                        }
                        i += 1;
                    }
                    let package = format!("k8s.io.{}", module.replace('/', "."));
                    msgs.push(PbMsg {
                        package,
                        module: module.clone(),
                        rust,
                        doc: std::mem::take(&mut doc),
                        fields,
                    });
                }
                doc.clear();
                i += 1;
            }
        }
        msgs
    }

    /// `<package>.<RustName> -> kind` from k8s-pb's `impl crate::Resource` blocks.
    fn parse_kinds(root: &Path) -> HashMap<String, String> {
        let mut files = Vec::new();
        walk(root, &mut files);
        let mut out = HashMap::new();
        for file in files {
            let module = module_of(root, &file);
            let text = std::fs::read_to_string(&file).expect("read k8s-pb source");
            let mut current = None;
            for line in text.lines() {
                if let Some(name) = line
                    .strip_prefix("impl crate::Resource for ")
                    .and_then(|s| s.strip_suffix(" {"))
                {
                    current = Some(name.to_string());
                } else if let Some(kind) = line
                    .trim()
                    .strip_prefix("const KIND: &'static str = \"")
                    .and_then(|s| s.strip_suffix("\";"))
                    && let Some(name) = current.take()
                {
                    out.insert(
                        format!("k8s.io.{}.{name}", module.replace('/', ".")),
                        kind.to_string(),
                    );
                }
            }
        }
        out
    }

    /// `(module, struct name) -> fields` of one k8s-openapi version module.
    fn parse_k8s_openapi(root: &Path) -> HashMap<(String, String), Vec<OaField>> {
        let mut files = Vec::new();
        walk(root, &mut files);
        let mut out = HashMap::new();
        for file in files {
            let module = module_of(root, &file);
            let text = std::fs::read_to_string(&file).expect("read k8s-openapi source");
            let mut json_of: HashMap<String, String> = HashMap::new();
            for line in text.lines() {
                let l = line.trim();
                if let Some((json, key)) = l.split_once("\" => Field::Key_")
                    && let (Some(json), Some(key)) = (json.strip_prefix('"'), key.strip_suffix(','))
                {
                    json_of.insert(key.to_string(), json.to_string());
                }
            }
            let mut current: Option<(String, Vec<OaField>)> = None;
            for line in text.lines() {
                if let Some(name) = line
                    .strip_prefix("pub struct ")
                    .and_then(|s| s.strip_suffix(" {"))
                {
                    current = Some((name.to_string(), Vec::new()));
                } else if line == "}" {
                    if let Some((name, fields)) = current.take() {
                        out.insert((module.clone(), name), fields);
                    }
                } else if let Some((_, fields)) = current.as_mut()
                    && let Some((rust, ty)) = line
                        .strip_prefix("    pub ")
                        .and_then(|d| d.split_once(": "))
                {
                    let json = json_of
                        .get(rust)
                        .cloned()
                        .unwrap_or_else(|| rust.to_string());
                    fields.push(OaField {
                        rust: rust.to_string(),
                        json,
                        required: !ty.starts_with("Option<"),
                    });
                }
            }
        }
        out
    }

    fn norm(s: &str) -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    }

    fn lower_camel(snake: &str) -> String {
        let mut out = String::new();
        let mut upper = false;
        for c in snake.chars() {
            if c == '_' {
                upper = true;
            } else if upper {
                out.push(c.to_ascii_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
        out
    }

    /// `core.PodSpec.hostNetwork` and `core.v1.PodSpec.hostNetwork` for field `hostNetwork` of
    /// `k8s.io.api.core.v1.PodSpec`.
    fn policy_keys(package: &str, msg: &str, json: &str) -> [String; 2] {
        let mut comps = package.rsplit('.');
        let version = comps.next().unwrap_or_default();
        let group = comps.next().unwrap_or_default();
        [
            format!("{group}.{msg}.{json}"),
            format!("{group}.{version}.{msg}.{json}"),
        ]
    }

    /// Where JSON names come from for one k8s-pb message.
    struct Names<'a> {
        /// The same type in k8s-openapi (all version modules, oldest first), else a type of the
        /// same name in another version of the same group.
        types: Vec<&'a Vec<OaField>>,
    }

    impl Names<'_> {
        fn find(&self, rust: &str) -> Option<&OaField> {
            let n = norm(rust);
            self.types
                .iter()
                .find_map(|fs| fs.iter().find(|f| norm(&f.rust) == n || norm(&f.json) == n))
        }
    }

    /// Generates the schema text and a report of names that were guessed.
    pub(super) fn generate() -> (String, String) {
        let pb_root = cargo_registry_src(K8S_PB).expect("k8s-pb sources in the cargo registry");
        let oa_root =
            cargo_registry_src(K8S_OPENAPI).expect("k8s-openapi sources in the cargo registry");
        let msgs = parse_k8s_pb(&pb_root);
        let openapi: Vec<HashMap<(String, String), Vec<OaField>>> = OPENAPI_VERSIONS
            .iter()
            .map(|v| parse_k8s_openapi(&oa_root.join(v)))
            .collect();
        let kinds = parse_kinds(&pb_root);

        // Proto names: k8s-pb's "case alignment" renamed some structs (`JSON` -> `Json`); the
        // kind, the k8s-openapi type or the doc comment gives the original back.
        let mut short_names: HashMap<String, String> = HashMap::new();
        for m in &msgs {
            let key = format!("{}.{}", m.package, m.rust);
            let short = kinds
                .get(&key)
                .cloned()
                .or_else(|| {
                    openapi.iter().find_map(|v| {
                        v.keys()
                            .find(|(module, name)| {
                                *module == m.module && name.eq_ignore_ascii_case(&m.rust)
                            })
                            .map(|(_, name)| name.clone())
                    })
                })
                .unwrap_or_else(|| proto_name(&m.rust, &m.doc));
            short_names.insert(key, short);
        }
        let full_name = |rust_full: &str| -> String {
            let (package, _) = rust_full.rsplit_once('.').expect("full name");
            let short = short_names
                .get(rust_full)
                .unwrap_or_else(|| panic!("unknown type {rust_full}"));
            format!("{package}.{short}")
        };
        let by_rust_full: HashMap<String, &PbMsg> = msgs
            .iter()
            .map(|m| (format!("{}.{}", m.package, m.rust), m))
            .collect();

        // Global dictionary of normalized names to JSON names, used when a type has no k8s-openapi
        // counterpart (alpha versions, lists, admission reviews): only unambiguous entries.
        let mut global: HashMap<String, Option<String>> = HashMap::new();
        for v in &openapi {
            for fields in v.values() {
                for f in fields {
                    let n = norm(&f.rust);
                    match global.get(&n) {
                        None => {
                            global.insert(n, Some(f.json.clone()));
                        }
                        Some(Some(j)) if *j != f.json => {
                            global.insert(n, None);
                        }
                        _ => {}
                    }
                }
            }
        }

        let names_for = |m: &PbMsg| -> Names<'_> {
            let short = &short_names[&format!("{}.{}", m.package, m.rust)];
            let mut types: Vec<&Vec<OaField>> = openapi
                .iter()
                .filter_map(|v| v.get(&(m.module.clone(), short.clone())))
                .collect();
            if types.is_empty() {
                let group = m.module.rsplit_once('/').map_or("", |(g, _)| g);
                for v in &openapi {
                    let mut others: Vec<(&(String, String), &Vec<OaField>)> = v
                        .iter()
                        .filter(|((module, name), _)| {
                            name == short && module.rsplit_once('/').map_or("", |(g, _)| g) == group
                        })
                        .collect();
                    others.sort_by(|a, b| a.0.cmp(b.0));
                    types.extend(others.into_iter().map(|(_, f)| f));
                }
            }
            if types.is_empty() {
                // A type moved between groups (extensions/v1beta1 -> networking.k8s.io/v1).
                for v in &openapi {
                    let mut others: Vec<(&(String, String), &Vec<OaField>)> =
                        v.iter().filter(|((_, name), _)| name == short).collect();
                    others.sort_by(|a, b| a.0.cmp(b.0));
                    types.extend(others.into_iter().map(|(_, f)| f));
                }
            }
            Names { types }
        };

        // Is `m` embedded inline (`json:",inline"`) in a parent whose JSON names are `parent`?
        fn inline_in(m: &PbMsg, parent: &Names<'_>, by: &HashMap<String, &PbMsg>) -> bool {
            !m.fields.is_empty()
                && m.fields.iter().all(|f| {
                    parent.find(&f.rust).is_some()
                        || (f.card == 'o'
                            && by.get(&f.ty).is_some_and(|sub| inline_in(sub, parent, by)))
                })
        }

        let specials: HashMap<&str, &str> = SPECIALS.iter().copied().collect();
        let mut omit_zero = policy_set(OMIT_ZERO);
        let mut keep_zero_list = policy_set(KEEP_ZERO);
        let mut report = String::new();
        let mut out = String::new();
        let mut package = String::new();
        for m in &msgs {
            let full = full_name(&format!("{}.{}", m.package, m.rust));
            let short = &short_names[&format!("{}.{}", m.package, m.rust)];
            if m.package != package {
                package = m.package.clone();
                writeln!(out, "package {package}").expect("write");
            }
            let names = names_for(m);
            let special = specials.get(full.as_str()).copied().or_else(|| {
                m.doc
                    .contains("items, if empty, will result in an empty slice")
                    .then_some("array")
            });
            match special {
                Some(s) => writeln!(out, "message {short} {s}").expect("write"),
                None => writeln!(out, "message {short}").expect("write"),
            }
            for f in &m.fields {
                let ty = if f.ty.starts_with("k8s.io.") {
                    let t = full_name(&f.ty);
                    match t.strip_prefix(&format!("{package}.")) {
                        Some(local) if !local.contains('.') => local.to_string(),
                        _ => t,
                    }
                } else {
                    f.ty.clone()
                };
                let mut flags = Vec::new();
                let overridden = NAME_OVERRIDES
                    .iter()
                    .find(|(msg, field, _)| *msg == full && *field == f.rust)
                    .map(|(_, _, json)| (*json).to_string());
                let (json, required) = if let Some(json) = overridden {
                    (json, false)
                } else if let Some(oa) = names.find(&f.rust) {
                    (oa.json.clone(), oa.required)
                } else if f.card == 'o'
                    && !names.types.is_empty()
                    && by_rust_full
                        .get(&f.ty)
                        .is_some_and(|sub| inline_in(sub, &names, &by_rust_full))
                {
                    flags.push("inline");
                    (lower_camel(&f.rust), false)
                } else if let Some(Some(json)) = global.get(&norm(&f.rust)) {
                    (json.clone(), false)
                } else {
                    let guess = lower_camel(&f.rust);
                    if special.is_none() {
                        writeln!(report, "guessed name {full}.{} -> {guess}", f.rust)
                            .expect("write");
                    }
                    (guess, false)
                };
                let listed = |list: &mut HashMap<String, bool>| {
                    policy_keys(&m.package, short, &json)
                        .iter()
                        .any(|k| match list.get_mut(k) {
                            Some(used) => {
                                *used = true;
                                true
                            }
                            None => false,
                        })
                };
                let omit = listed(&mut omit_zero);
                let keep = listed(&mut keep_zero_list);
                let keep_zero = f.card == 'o'
                    && !omit
                    && (required
                        || keep
                        || match ty.as_str() {
                            "bool" | "int32" | "int64" | "double" => true,
                            "string" | "bytes" => false,
                            _ => {
                                full_name(&f.ty)
                                    == "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
                            }
                        });
                if keep_zero {
                    flags.push("keepzero");
                }
                let ty = match f.card {
                    'r' => format!("[]{ty}"),
                    'm' => format!("map[{ty}]"),
                    _ => ty,
                };
                write!(out, "{} {json} {ty}", f.tag).expect("write");
                for flag in flags {
                    write!(out, " {flag}").expect("write");
                }
                out.push('\n');
            }
        }
        let mut unused: Vec<&String> = omit_zero
            .iter()
            .chain(&keep_zero_list)
            .filter(|(_, used)| !**used)
            .map(|(k, _)| k)
            .collect();
        unused.sort();
        for key in unused {
            writeln!(report, "zero-value list entry matches no field: {key}").expect("write");
        }
        (out, report)
    }

    #[test]
    #[ignore = "regenerates src/protobuf/schema.txt from the k8s-pb and k8s-openapi sources"]
    fn regenerate_schema() {
        let (body, report) = generate();
        let text = format!("{}{body}", super::SCHEMA_HEADER);
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/protobuf/schema.txt");
        std::fs::write(&path, text).expect("write schema");
        eprintln!("{report}");
    }
}
