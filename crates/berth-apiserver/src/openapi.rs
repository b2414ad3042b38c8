//! OpenAPI v3 documents, as kube-apiserver serves them under `/openapi/v3`.
//!
//! kubectl fetches the root (`GET /openapi/v3`, a map from `api/v1`, `apis/<group>/<version>` to
//! a hash-qualified URL) and then one document per group-version. It uses them to decide whether
//! the server validates fields itself (a `patch` operation carrying the resource's
//! `x-kubernetes-group-version-kind` and a `fieldValidation` query parameter), for
//! `kubectl explain` (the component schema carrying the kind's
//! `x-kubernetes-group-version-kind`), and to pick the patch type of client-side apply.
//!
//! The schemas of built-in types come from k8s-openapi's `schemars` implementations (generated
//! from Kubernetes' own OpenAPI document, so names and descriptions match), turned into
//! OpenAPI 3.0 form by schemars (`$ref` with siblings becomes `allOf: [{$ref}]`, as Kubernetes
//! does). They are generated once and cached. Schemas of custom resources come from the CRD's
//! `openAPIV3Schema`, with the standard `apiVersion`, `kind` and `metadata` (an `ObjectMeta`
//! reference) fields, like the apiextensions-apiserver publishes them.
//!
//! Strategic merge patch is deliberately not listed among the patch content types: k8s-openapi
//! does not carry `x-kubernetes-patch-merge-key`, and kubectl computes a client-side apply patch
//! from the OpenAPI v3 schema whenever the document says the operation accepts strategic merge
//! patches. Without it, kubectl falls back to its compiled-in types for built-in kinds (correct
//! merge keys) and to JSON merge patch for custom resources (as for CRDs on Kubernetes).

use berth_apimachinery::resources::ResourceInfo;
use k8s_openapi::schemars::{self, JsonSchema, generate::SchemaSettings};
use k8s_openapi::{ListableResource, Resource};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

const SCHEMA_PREFIX: &str = "#/components/schemas/";
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
const WATCH_EVENT: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent";

const API_VERSION_DESC: &str = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const KIND_DESC: &str = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
const METADATA_DESC: &str = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const LIST_METADATA_DESC: &str = "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";

/// One group-version's document, serialized once, with the hash used in its URL.
#[derive(Debug)]
pub struct Document {
    pub value: Value,
    /// Serialized `value` (the response body).
    pub body: Vec<u8>,
    /// Upper-case hex SHA-512 of `body`, as Kubernetes computes it.
    pub hash: String,
}

impl Document {
    fn new(value: Value) -> Self {
        let body = serde_json::to_vec(&value).unwrap_or_default();
        let hash = hex_sha512(&body);
        Self { value, body, hash }
    }
}

/// An HTTP-agnostic reply of [`OpenApi::serve`].
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// Headers, lower-case names (`content-type` is always `application/json`).
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// The OpenAPI v3 service: caches one [`Document`] per group-version, rebuilt when what the
/// group-version serves changes (a CRD installed, updated or removed).
/// (group, version) -> (fingerprint of what it serves, its document).
type DocCache = HashMap<(String, String), (String, Arc<Document>)>;

#[derive(Default)]
pub struct OpenApi {
    cache: Mutex<DocCache>,
}

impl OpenApi {
    pub fn new() -> Self {
        Self::default()
    }

    /// The document of one group-version (`group` empty for the core group), from the
    /// resources it serves and the CRD objects (full JSON) that serve resources in it.
    /// `None` when the group-version serves nothing.
    pub fn document(
        &self,
        group: &str,
        version: &str,
        resources: &[ResourceInfo],
        crds: &[Value],
    ) -> Option<Arc<Document>> {
        if resources.is_empty() && crds.is_empty() {
            return None;
        }
        let fingerprint = fingerprint(resources, crds);
        let key = (group.to_string(), version.to_string());
        if let Ok(cache) = self.cache.lock()
            && let Some((fp, doc)) = cache.get(&key)
            && *fp == fingerprint
        {
            return Some(doc.clone());
        }
        let value = group_version_document(group, version, resources, crds)?;
        let doc = Arc::new(Document::new(value));
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, (fingerprint, doc.clone()));
        }
        Some(doc)
    }

    /// The root document (`GET /openapi/v3`) for the given served group-versions; `lookup`
    /// returns what a group-version serves (its resources and the CRDs serving it).
    pub fn root(
        &self,
        served_group_versions: &[(String, String)],
        lookup: impl Fn(&str, &str) -> (Vec<ResourceInfo>, Vec<Value>),
    ) -> Value {
        root(served_group_versions, |path| {
            let (g, v) = parse_gv_path(path)?;
            let (resources, crds) = lookup(&g, &v);
            self.document(&g, &v, &resources, &crds)
                .map(|d| d.hash.clone())
        })
    }

    /// Answers a request whose path starts with `/openapi/`; `None` for any other path.
    /// `query` is the raw query string. Mirrors kube-openapi's handler: the root is
    /// `no-cache, private`; a group-version document asked with its current `hash` is
    /// `public, immutable`; with a stale hash it redirects (301) to the current URL.
    pub fn serve(
        &self,
        path: &str,
        query: Option<&str>,
        served_group_versions: &[(String, String)],
        lookup: impl Fn(&str, &str) -> (Vec<ResourceInfo>, Vec<Value>),
    ) -> Option<Reply> {
        let rest = path.strip_prefix("/openapi/")?;
        let json_ct = ("content-type", "application/json".to_string());
        let rest = rest.trim_end_matches('/');
        if rest == "v3" {
            let root = self.root(served_group_versions, lookup);
            return Some(Reply {
                status: 200,
                headers: vec![json_ct, ("cache-control", "no-cache, private".to_string())],
                body: serde_json::to_vec(&root).unwrap_or_default(),
            });
        }
        let not_found = || Reply {
            status: 404,
            headers: vec![("content-type", "application/json".to_string())],
            body: serde_json::to_vec(&json!({
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": "the server could not find the requested resource",
                "reason": "NotFound",
                "details": {},
                "code": 404
            }))
            .unwrap_or_default(),
        };
        let Some(gv_path) = rest.strip_prefix("v3/") else {
            return Some(not_found());
        };
        let Some((group, version)) = parse_gv_path(gv_path) else {
            return Some(not_found());
        };
        if !served_group_versions
            .iter()
            .any(|(g, v)| *g == group && *v == version)
        {
            return Some(not_found());
        }
        let (resources, crds) = lookup(&group, &version);
        let Some(doc) = self.document(&group, &version, &resources, &crds) else {
            return Some(not_found());
        };
        let asked_hash = query.and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "hash")
                .map(|(_, v)| v.into_owned())
        });
        let etag = format!("\"{}\"", doc.hash);
        match asked_hash {
            Some(h) if !h.is_empty() && h != doc.hash => Some(Reply {
                status: 301,
                headers: vec![
                    json_ct,
                    (
                        "location",
                        format!("/openapi/v3/{gv_path}?hash={}", doc.hash),
                    ),
                ],
                body: Vec::new(),
            }),
            Some(h) if !h.is_empty() => Some(Reply {
                status: 200,
                headers: vec![
                    json_ct,
                    ("cache-control", "public, immutable".to_string()),
                    ("etag", etag),
                ],
                body: doc.body.clone(),
            }),
            _ => Some(Reply {
                status: 200,
                headers: vec![
                    json_ct,
                    ("cache-control", "no-cache, private".to_string()),
                    ("etag", etag),
                ],
                body: doc.body.clone(),
            }),
        }
    }
}

impl OpenApi {
    /// [`OpenApi::serve`] over what `registry` serves now (built-in resources and CRDs).
    pub fn serve_registry(
        &self,
        registry: &crate::registry::Registry,
        path: &str,
        query: Option<&str>,
    ) -> Option<Reply> {
        if !path.starts_with("/openapi/") {
            return None;
        }
        let mut gvs: Vec<(String, String)> = registry
            .versions_of("")
            .into_iter()
            .map(|v| (String::new(), v))
            .collect();
        for (g, versions) in registry.groups() {
            gvs.extend(versions.into_iter().map(|v| (g.clone(), v)));
        }
        let lookup = |g: &str, v: &str| {
            let served = registry.resources_of(g, v);
            let mut crd_names: Vec<&str> = Vec::new();
            let mut crds = Vec::new();
            for s in &served {
                if let Some(c) = &s.custom
                    && !crd_names.contains(&c.crd_name.as_str())
                {
                    crd_names.push(&c.crd_name);
                    crds.push(c.crd.clone());
                }
            }
            let infos = served.iter().map(|s| s.info.clone()).collect();
            (infos, crds)
        };
        self.serve(path, query, &gvs, lookup)
    }
}

impl Reply {
    /// The reply as an HTTP response.
    pub fn into_response(self) -> axum::response::Response {
        let mut resp = axum::response::Response::new(axum::body::Body::from(self.body));
        *resp.status_mut() =
            http::StatusCode::from_u16(self.status).unwrap_or(http::StatusCode::OK);
        for (k, v) in self.headers {
            if let Ok(v) = http::HeaderValue::from_str(&v) {
                resp.headers_mut()
                    .insert(http::HeaderName::from_static(k), v);
            }
        }
        resp
    }
}

/// `api/v1` -> ("", "v1"); `apis/apps/v1` -> ("apps", "v1").
fn parse_gv_path(path: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["api", v] if !v.is_empty() => Some((String::new(), (*v).to_string())),
        ["apis", g, v] if !g.is_empty() && !v.is_empty() => {
            Some(((*g).to_string(), (*v).to_string()))
        }
        _ => None,
    }
}

/// `api/v1` or `apis/<group>/<version>`.
fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The root document: `{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=H"}}}`.
/// `hash_of` gets the path key (`apis/apps/v1`) and returns that document's hash; group-versions
/// it returns `None` for are left out.
pub fn root(
    served_group_versions: &[(String, String)],
    hash_of: impl Fn(&str) -> Option<String>,
) -> Value {
    let mut paths = BTreeMap::new();
    for (g, v) in served_group_versions {
        let key = gv_path(g, v);
        if let Some(hash) = hash_of(&key) {
            paths.insert(
                key.clone(),
                json!({ "serverRelativeURL": format!("/openapi/v3/{key}?hash={hash}") }),
            );
        }
    }
    json!({ "paths": paths })
}

fn fingerprint(resources: &[ResourceInfo], crds: &[Value]) -> String {
    let mut bytes = serde_json::to_vec(resources).unwrap_or_default();
    for crd in crds {
        bytes.extend_from_slice(&serde_json::to_vec(&crd["spec"]).unwrap_or_default());
    }
    hex_sha512(&bytes)
}

fn hex_sha512(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let digest = ring::digest::digest(&ring::digest::SHA512, bytes);
    let mut s = String::with_capacity(128);
    for b in digest.as_ref() {
        let _ = write!(s, "{b:02X}");
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Built-in schemas

struct Builtin {
    /// Every component schema, by Kubernetes name.
    schemas: Map<String, Value>,
    /// (group, version, kind) -> schema name, for kinds and their lists.
    kinds: HashMap<(String, String, String), String>,
}

static BUILTIN: LazyLock<Builtin> = LazyLock::new(build_builtin);

/// Builds the built-in schemas now (they are otherwise built on the first `/openapi/v3`
/// request, which then takes a few hundred milliseconds in a debug build).
pub fn prewarm() {
    LazyLock::force(&BUILTIN);
}

struct Collector {
    generator: schemars::SchemaGenerator,
    kinds: Vec<(String, String, String, String)>,
    lists: Vec<(String, String, String, String)>,
}

impl Collector {
    fn kind<T: Resource + JsonSchema>(&mut self) {
        self.generator.subschema_for::<T>();
        self.kinds.push((
            T::GROUP.to_string(),
            T::VERSION.to_string(),
            T::KIND.to_string(),
            T::schema_name().into_owned(),
        ));
    }

    fn listable<T: ListableResource + JsonSchema>(&mut self) {
        self.kind::<T>();
        self.lists.push((
            T::GROUP.to_string(),
            T::VERSION.to_string(),
            T::LIST_KIND.to_string(),
            T::schema_name().into_owned(),
        ));
    }
}

macro_rules! kinds {
    ($c:ident; listable: $($l:path),* ; single: $($s:path),* $(,)?) => {
        $( $c.listable::<$l>(); )*
        $( $c.kind::<$s>(); )*
    };
}

fn build_builtin() -> Builtin {
    use k8s_openapi::api::*;
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions as apiext;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration as apireg;
    let mut c = Collector {
        generator: SchemaSettings::openapi3()
            .with(|s| s.meta_schema = None)
            .into_generator(),
        kinds: Vec::new(),
        lists: Vec::new(),
    };
    kinds!(c;
        listable:
        admissionregistration::v1::MutatingWebhookConfiguration,
        admissionregistration::v1::ValidatingAdmissionPolicy,
        admissionregistration::v1::ValidatingAdmissionPolicyBinding,
        admissionregistration::v1::ValidatingWebhookConfiguration,
        admissionregistration::v1alpha1::MutatingAdmissionPolicy,
        admissionregistration::v1alpha1::MutatingAdmissionPolicyBinding,
        admissionregistration::v1beta1::ValidatingAdmissionPolicy,
        admissionregistration::v1beta1::ValidatingAdmissionPolicyBinding,
        apiserverinternal::v1alpha1::StorageVersion,
        apps::v1::ControllerRevision,
        apps::v1::DaemonSet,
        apps::v1::Deployment,
        apps::v1::ReplicaSet,
        apps::v1::StatefulSet,
        autoscaling::v1::HorizontalPodAutoscaler,
        autoscaling::v2::HorizontalPodAutoscaler,
        batch::v1::CronJob,
        batch::v1::Job,
        certificates::v1::CertificateSigningRequest,
        certificates::v1alpha1::ClusterTrustBundle,
        certificates::v1beta1::ClusterTrustBundle,
        coordination::v1::Lease,
        coordination::v1alpha2::LeaseCandidate,
        coordination::v1beta1::LeaseCandidate,
        core::v1::ComponentStatus,
        core::v1::ConfigMap,
        core::v1::Endpoints,
        core::v1::Event,
        core::v1::LimitRange,
        core::v1::Namespace,
        core::v1::Node,
        core::v1::PersistentVolume,
        core::v1::PersistentVolumeClaim,
        core::v1::Pod,
        core::v1::PodTemplate,
        core::v1::ReplicationController,
        core::v1::ResourceQuota,
        core::v1::Secret,
        core::v1::Service,
        core::v1::ServiceAccount,
        discovery::v1::EndpointSlice,
        events::v1::Event,
        flowcontrol::v1::FlowSchema,
        flowcontrol::v1::PriorityLevelConfiguration,
        networking::v1::IPAddress,
        networking::v1::Ingress,
        networking::v1::IngressClass,
        networking::v1::NetworkPolicy,
        networking::v1::ServiceCIDR,
        networking::v1beta1::IPAddress,
        networking::v1beta1::ServiceCIDR,
        node::v1::RuntimeClass,
        policy::v1::PodDisruptionBudget,
        rbac::v1::ClusterRole,
        rbac::v1::ClusterRoleBinding,
        rbac::v1::Role,
        rbac::v1::RoleBinding,
        resource::v1alpha3::DeviceClass,
        resource::v1alpha3::DeviceTaintRule,
        resource::v1alpha3::ResourceClaim,
        resource::v1alpha3::ResourceClaimTemplate,
        resource::v1alpha3::ResourceSlice,
        resource::v1beta1::DeviceClass,
        resource::v1beta1::ResourceClaim,
        resource::v1beta1::ResourceClaimTemplate,
        resource::v1beta1::ResourceSlice,
        resource::v1beta2::DeviceClass,
        resource::v1beta2::ResourceClaim,
        resource::v1beta2::ResourceClaimTemplate,
        resource::v1beta2::ResourceSlice,
        scheduling::v1::PriorityClass,
        storage::v1::CSIDriver,
        storage::v1::CSINode,
        storage::v1::CSIStorageCapacity,
        storage::v1::StorageClass,
        storage::v1::VolumeAttachment,
        storage::v1alpha1::VolumeAttributesClass,
        storage::v1beta1::VolumeAttributesClass,
        storagemigration::v1alpha1::StorageVersionMigration,
        apiext::v1::CustomResourceDefinition,
        apireg::v1::APIService;
        single:
        authentication::v1::SelfSubjectReview,
        authentication::v1::TokenRequest,
        authentication::v1::TokenReview,
        authorization::v1::LocalSubjectAccessReview,
        authorization::v1::SelfSubjectAccessReview,
        authorization::v1::SelfSubjectRulesReview,
        authorization::v1::SubjectAccessReview,
        autoscaling::v1::Scale,
        core::v1::Binding,
        policy::v1::Eviction,
    );
    c.generator.subschema_for::<meta::DeleteOptions>();
    c.generator.subschema_for::<meta::Status>();
    c.generator.subschema_for::<meta::Patch>();
    c.generator.subschema_for::<meta::ListMeta>();
    c.generator.subschema_for::<meta::ObjectMeta>();
    let mut schemas = c.generator.take_definitions(true);
    // Kubernetes' WatchEvent: `object` is a RawExtension.
    schemas.insert(
        WATCH_EVENT.to_string(),
        json!({
            "description": "Event represents a single event to a watched resource.",
            "type": "object",
            "required": ["type", "object"],
            "properties": {
                "object": {
                    "description": "Object is:\n * If Type is Added or Modified: the new state of the object.\n * If Type is Deleted: the state of the object immediately before deletion.\n * If Type is Error: *Status is recommended; other types may make sense\n   depending on context.",
                    "type": "object"
                },
                "type": { "default": "", "type": "string" }
            }
        }),
    );
    schemas.insert(
        PATCH.to_string(),
        json!({
            "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.",
            "type": "object"
        }),
    );
    let mut kinds = HashMap::new();
    for (g, v, k, name) in &c.kinds {
        if let Some(Value::Object(s)) = schemas.get_mut(name) {
            s.insert("x-kubernetes-group-version-kind".into(), gvk_ext(g, v, k));
            // k8s-openapi marks `metadata` required because it is not optional in Rust;
            // Kubernetes does not.
            if let Some(Value::Array(req)) = s.get_mut("required") {
                req.retain(|r| r != "metadata");
                if req.is_empty() {
                    s.remove("required");
                }
            }
        }
        kinds.insert((g.clone(), v.clone(), k.clone()), name.clone());
    }
    for (g, v, list_kind, item) in &c.lists {
        let name = format!("{item}List");
        let item_kind = list_kind.strip_suffix("List").unwrap_or(list_kind);
        schemas.insert(name.clone(), list_schema(g, v, list_kind, item_kind, item));
        kinds.insert((g.clone(), v.clone(), list_kind.clone()), name);
    }
    add_patch_extensions(&mut schemas);
    Builtin { schemas, kinds }
}

fn gvk_ext(group: &str, version: &str, kind: &str) -> Value {
    json!([{ "group": group, "kind": kind, "version": version }])
}

fn ref_to(name: &str) -> Value {
    json!({ "$ref": format!("{SCHEMA_PREFIX}{name}") })
}

fn list_schema(group: &str, version: &str, list_kind: &str, item_kind: &str, item: &str) -> Value {
    let plural = plural_kind(item_kind);
    json!({
        "description": format!("{list_kind} is a list of {plural}."),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": { "description": API_VERSION_DESC, "type": "string" },
            "items": {
                "description": format!("Items is the list of {plural}."),
                "type": "array",
                "items": { "allOf": [ref_to(item)], "default": {} }
            },
            "kind": { "description": KIND_DESC, "type": "string" },
            "metadata": { "allOf": [ref_to(LIST_META)], "default": {}, "description": LIST_METADATA_DESC }
        },
        "x-kubernetes-group-version-kind": gvk_ext(group, version, list_kind)
    })
}

fn plural_kind(kind: &str) -> String {
    if kind.ends_with('s') || kind.ends_with("ch") || kind.ends_with('x') {
        format!("{kind}es")
    } else if let Some(stem) = kind.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        format!("{stem}ies")
    } else {
        format!("{kind}s")
    }
}

/// The strategic-merge and list-type extensions Kubernetes puts on the most used list fields
/// (k8s-openapi does not carry them). Informational: see the module documentation.
fn add_patch_extensions(schemas: &mut Map<String, Value>) {
    // (schema, property, patch strategy, merge key, list type, list-map keys)
    type Ext = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static [&'static str],
    );
    const EXT: &[Ext] = &[
        (
            "io.k8s.api.core.v1.PodSpec",
            "containers",
            "merge",
            "name",
            "map",
            &["name"],
        ),
        (
            "io.k8s.api.core.v1.PodSpec",
            "initContainers",
            "merge",
            "name",
            "map",
            &["name"],
        ),
        (
            "io.k8s.api.core.v1.PodSpec",
            "ephemeralContainers",
            "merge",
            "name",
            "map",
            &["name"],
        ),
        (
            "io.k8s.api.core.v1.PodSpec",
            "volumes",
            "merge,retainKeys",
            "name",
            "map",
            &["name"],
        ),
        (
            "io.k8s.api.core.v1.PodSpec",
            "imagePullSecrets",
            "merge",
            "name",
            "map",
            &["name"],
        ),
        (
            "io.k8s.api.core.v1.PodSpec",
            "hostAliases",
            "merge",
            "ip",
            "map",
            &["ip"],
        ),
        (
            "io.k8s.api.core.v1.PodSpec",
            "resourceClaims",
            "merge,retainKeys",
            "name",
            "map",
            &["name"],
        ),
        (
            "io.k8s.api.core.v1.PodSpec",
            "topologySpreadConstraints",
            "merge",
            "topologyKey",
            "map",
            &["topologyKey", "whenUnsatisfiable"],
        ),
        (
            "io.k8s.api.core.v1.PodSpec",
            "schedulingGates",
            "merge",
            "name",
            "map",
            &["name"],
        ),
        (
            "io.k8s.api.core.v1.Container",
            "env",
            "merge",
            "name",
            "map",
            &["name"],
        ),
        (
            "io.k8s.api.core.v1.Container",
            "ports",
            "merge",
            "containerPort",
            "map",
            &["containerPort", "protocol"],
        ),
        (
            "io.k8s.api.core.v1.Container",
            "volumeMounts",
            "merge",
            "mountPath",
            "map",
            &["mountPath"],
        ),
        (
            "io.k8s.api.core.v1.Container",
            "volumeDevices",
            "merge",
            "devicePath",
            "map",
            &["devicePath"],
        ),
        (
            "io.k8s.api.core.v1.EphemeralContainer",
            "env",
            "merge",
            "name",
            "map",
            &["name"],
        ),
        (
            "io.k8s.api.core.v1.EphemeralContainer",
            "volumeMounts",
            "merge",
            "mountPath",
            "map",
            &["mountPath"],
        ),
        (
            "io.k8s.api.core.v1.EphemeralContainer",
            "volumeDevices",
            "merge",
            "devicePath",
            "map",
            &["devicePath"],
        ),
        (
            "io.k8s.api.core.v1.ServiceSpec",
            "ports",
            "merge",
            "port",
            "map",
            &["port", "protocol"],
        ),
        (
            "io.k8s.api.core.v1.PodStatus",
            "conditions",
            "merge",
            "type",
            "map",
            &["type"],
        ),
        (
            "io.k8s.api.core.v1.NodeStatus",
            "conditions",
            "merge",
            "type",
            "map",
            &["type"],
        ),
        (
            "io.k8s.api.core.v1.NodeStatus",
            "addresses",
            "merge",
            "type",
            "map",
            &["type"],
        ),
        (
            "io.k8s.api.apps.v1.DeploymentStatus",
            "conditions",
            "merge",
            "type",
            "map",
            &["type"],
        ),
        (
            "io.k8s.api.apps.v1.ReplicaSetStatus",
            "conditions",
            "merge",
            "type",
            "map",
            &["type"],
        ),
        (
            "io.k8s.api.apps.v1.StatefulSetStatus",
            "conditions",
            "merge",
            "type",
            "map",
            &["type"],
        ),
        (
            "io.k8s.api.apps.v1.DaemonSetStatus",
            "conditions",
            "merge",
            "type",
            "map",
            &["type"],
        ),
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "ownerReferences",
            "merge",
            "uid",
            "map",
            &["uid"],
        ),
    ];
    for (schema, prop, strategy, key, list_type, map_keys) in EXT {
        if let Some(Value::Object(p)) = schemas
            .get_mut(*schema)
            .and_then(|s| s.get_mut("properties"))
            .and_then(|p| p.get_mut(*prop))
        {
            p.insert("x-kubernetes-patch-strategy".into(), json!(strategy));
            p.insert("x-kubernetes-patch-merge-key".into(), json!(key));
            p.insert("x-kubernetes-list-type".into(), json!(list_type));
            p.insert("x-kubernetes-list-map-keys".into(), json!(map_keys));
        }
    }
    if let Some(Value::Object(p)) = schemas
        .get_mut(OBJECT_META)
        .and_then(|s| s.get_mut("properties"))
        .and_then(|p| p.get_mut("finalizers"))
    {
        p.insert("x-kubernetes-patch-strategy".into(), json!("merge"));
        p.insert("x-kubernetes-list-type".into(), json!("set"));
    }
}

// ---------------------------------------------------------------------------------------------
// Group-version documents

/// The OpenAPI 3.0 document of one group-version: `components.schemas` holds the schema of every
/// kind served there (with `x-kubernetes-group-version-kind`), their lists and everything they
/// reference; `paths` holds the REST operations. `crds` are the CRD objects serving resources
/// in this group-version. `None` when nothing is served.
pub fn group_version_document(
    group: &str,
    version: &str,
    resources: &[ResourceInfo],
    crds: &[Value],
) -> Option<Value> {
    if resources.is_empty() && crds.is_empty() {
        return None;
    }
    let builtin = &*BUILTIN;
    let mut own: Map<String, Value> = Map::new();
    // kind -> schema name, for this group-version.
    let mut kind_names: HashMap<String, String> = HashMap::new();
    for crd in crds {
        add_crd_schemas(group, version, crd, &mut own, &mut kind_names);
    }
    let mut wanted: BTreeSet<String> = [DELETE_OPTIONS, STATUS, PATCH, WATCH_EVENT]
        .into_iter()
        .map(String::from)
        .collect();
    let mut schema_of = |g: &str, v: &str, kind: &str, own: &mut Map<String, Value>| -> String {
        if g == group
            && v == version
            && let Some(n) = kind_names.get(kind)
        {
            return n.clone();
        }
        if let Some(n) = builtin
            .kinds
            .get(&(g.to_string(), v.to_string(), kind.to_string()))
        {
            wanted.insert(n.clone());
            return n.clone();
        }
        // A kind k8s-openapi does not know: an open object.
        let name = format!(
            "io.berth.{}.{v}.{kind}",
            if g.is_empty() { "core" } else { g }
        );
        own.entry(name.clone()).or_insert_with(|| {
            json!({
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": true,
                "x-kubernetes-group-version-kind": gvk_ext(g, v, kind)
            })
        });
        name
    };
    let mut paths = Map::new();
    for r in resources {
        let kind_schema = schema_of(&r.group, &r.version, &r.kind, &mut own);
        let list_schema = if r.has_verb("list") {
            Some(schema_of(&r.group, &r.version, &r.list_kind(), &mut own))
        } else {
            None
        };
        let subs: Vec<(String, String, Value)> = r
            .subresources
            .iter()
            .map(|s| {
                let g = s.kind_group(r).to_string();
                let v = if s.version.is_empty() {
                    r.version.clone()
                } else {
                    s.version.clone()
                };
                let name = schema_of(&g, &v, &s.kind, &mut own);
                (
                    s.name.clone(),
                    name,
                    json!({"group": g, "version": v, "kind": s.kind}),
                )
            })
            .collect();
        add_paths(&mut paths, r, &kind_schema, list_schema.as_deref(), &subs);
    }
    // Everything the own schemas reference comes from the built-in set.
    for s in own.values() {
        collect_refs(s, &mut wanted);
    }
    let mut schemas: BTreeMap<String, Value> = BTreeMap::new();
    let mut queue: Vec<String> = wanted.into_iter().collect();
    while let Some(name) = queue.pop() {
        if schemas.contains_key(&name) || own.contains_key(&name) {
            continue;
        }
        if let Some(s) = builtin.schemas.get(&name) {
            let mut refs = BTreeSet::new();
            collect_refs(s, &mut refs);
            queue.extend(refs);
            schemas.insert(name, s.clone());
        }
    }
    for (k, v) in own {
        schemas.insert(k, v);
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": { "title": "Kubernetes", "version": "v1.33.0" },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "BearerToken": {
                    "type": "apiKey",
                    "description": "Bearer Token authentication",
                    "name": "authorization",
                    "in": "header"
                }
            }
        },
        "security": [{ "BearerToken": [] }]
    }))
}

fn collect_refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                // (A property may be named `$ref`, as in JSONSchemaProps: its value is a schema.)
                if k == "$ref"
                    && let Some(r) = x.as_str()
                {
                    if let Some(name) = r.strip_prefix(SCHEMA_PREFIX) {
                        out.insert(name.to_string());
                    }
                } else {
                    collect_refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

/// `stable.example.com` -> `com.example.stable`, as the apiextensions-apiserver names schemas.
fn reversed_group(group: &str) -> String {
    let mut parts: Vec<&str> = group.split('.').collect();
    parts.reverse();
    parts.join(".")
}

fn add_crd_schemas(
    group: &str,
    version: &str,
    crd: &Value,
    own: &mut Map<String, Value>,
    kind_names: &mut HashMap<String, String>,
) {
    let spec = &crd["spec"];
    if spec["group"].as_str() != Some(group) {
        return;
    }
    let Some(kind) = spec["names"]["kind"].as_str() else {
        return;
    };
    let list_kind = spec["names"]["listKind"]
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| format!("{kind}List"));
    let Some(ver) = spec["versions"]
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["name"].as_str() == Some(version)))
    else {
        return;
    };
    let mut schema = match ver["schema"]["openAPIV3Schema"].clone() {
        Value::Object(m) => m,
        _ => {
            let mut m = Map::new();
            m.insert("type".into(), json!("object"));
            m.insert("x-kubernetes-preserve-unknown-fields".into(), json!(true));
            m
        }
    };
    let props = schema
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(props) = props {
        props.insert(
            "apiVersion".into(),
            json!({ "description": API_VERSION_DESC, "type": "string" }),
        );
        props.insert(
            "kind".into(),
            json!({ "description": KIND_DESC, "type": "string" }),
        );
        props.insert(
            "metadata".into(),
            json!({ "allOf": [ref_to(OBJECT_META)], "description": METADATA_DESC }),
        );
    }
    schema.insert("type".into(), json!("object"));
    schema.insert(
        "x-kubernetes-group-version-kind".into(),
        gvk_ext(group, version, kind),
    );
    let base = format!("{}.{version}", reversed_group(group));
    let name = format!("{base}.{kind}");
    let list_name = format!("{base}.{list_kind}");
    own.insert(name.clone(), Value::Object(schema));
    let mut list = list_schema(group, version, &list_kind, kind, &name);
    if let Some(d) = list.get_mut("description") {
        *d = json!(format!("{list_kind} is a list of {kind}"));
    }
    own.insert(list_name.clone(), list);
    kind_names.insert(kind.to_string(), name);
    kind_names.insert(list_kind, list_name);
}

/// `apps` -> `AppsV1`, `rbac.authorization.k8s.io` -> `RbacAuthorizationV1`, core -> `CoreV1`.
fn op_prefix(group: &str, version: &str) -> String {
    let g = if group.is_empty() {
        "core"
    } else {
        group.strip_suffix(".k8s.io").unwrap_or(group)
    };
    let mut out = String::new();
    for part in g.split(['.', '-']) {
        out.push_str(&capitalize(part));
    }
    out.push_str(&capitalize(version));
    out
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn param(name: &str, location: &str, description: &str, schema: Value) -> Value {
    let mut p = json!({
        "name": name,
        "in": location,
        "description": description,
        "schema": schema
    });
    if location == "path" {
        p["required"] = json!(true);
    }
    p
}

fn query_string(name: &str, description: &str) -> Value {
    param(
        name,
        "query",
        description,
        json!({ "type": "string", "uniqueItems": true }),
    )
}

fn dry_run() -> Value {
    query_string(
        "dryRun",
        "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed",
    )
}

fn field_manager() -> Value {
    query_string(
        "fieldManager",
        "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.",
    )
}

fn field_validation() -> Value {
    query_string(
        "fieldValidation",
        "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.",
    )
}

fn force() -> Value {
    param(
        "force",
        "query",
        "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.",
        json!({ "type": "boolean", "uniqueItems": true }),
    )
}

fn list_params() -> Vec<Value> {
    let b = |n: &str, d: &str| {
        param(
            n,
            "query",
            d,
            json!({ "type": "boolean", "uniqueItems": true }),
        )
    };
    let i = |n: &str, d: &str| {
        param(
            n,
            "query",
            d,
            json!({ "type": "integer", "uniqueItems": true }),
        )
    };
    vec![
        b(
            "allowWatchBookmarks",
            "allowWatchBookmarks requests watch events with type \"BOOKMARK\".",
        ),
        query_string(
            "continue",
            "The continue option should be set when retrieving more results from the server.",
        ),
        query_string(
            "fieldSelector",
            "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
        ),
        query_string(
            "labelSelector",
            "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
        ),
        i(
            "limit",
            "limit is a maximum number of responses to return for a list call.",
        ),
        query_string(
            "resourceVersion",
            "resourceVersion sets a constraint on what resource versions a request may be served from.",
        ),
        query_string(
            "resourceVersionMatch",
            "resourceVersionMatch determines how resourceVersion is applied to list calls.",
        ),
        b(
            "sendInitialEvents",
            "`sendInitialEvents=true` may be set together with `watch=true`.",
        ),
        i("timeoutSeconds", "Timeout for the list/watch call."),
        b(
            "watch",
            "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.",
        ),
    ]
}

fn content(schema: &str) -> Value {
    let s = json!({ "schema": ref_to(schema) });
    json!({
        "application/json": s,
        "application/yaml": s,
        "application/vnd.kubernetes.protobuf": s
    })
}

fn responses(codes: &[(&str, &str)], schema: &str) -> Value {
    let mut m = Map::new();
    for (code, desc) in codes {
        m.insert(
            (*code).to_string(),
            json!({ "description": desc, "content": content(schema) }),
        );
    }
    m.insert("401".into(), json!({ "description": "Unauthorized" }));
    Value::Object(m)
}

#[allow(clippy::too_many_arguments)]
fn operation(
    action: &str,
    op_id: String,
    description: String,
    tag: &str,
    params: Vec<Value>,
    request: Option<Value>,
    responses: Value,
    gvk: &Value,
) -> Value {
    let mut op = json!({
        "tags": [tag],
        "description": description,
        "operationId": op_id,
        "responses": responses,
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk
    });
    if !params.is_empty() {
        op["parameters"] = Value::Array(params);
    }
    if let Some(r) = request {
        op["requestBody"] = r;
    }
    op
}

fn body(schema: &str) -> Value {
    json!({ "content": { "*/*": { "schema": ref_to(schema) } }, "required": true })
}

fn patch_body() -> Value {
    let s = json!({ "schema": ref_to(PATCH) });
    json!({
        "content": {
            "application/apply-patch+yaml": s,
            "application/json-patch+json": s,
            "application/merge-patch+json": s
        },
        "required": true
    })
}

/// The REST paths of one resource, laid out and named as kube-apiserver does.
fn add_paths(
    paths: &mut Map<String, Value>,
    r: &ResourceInfo,
    kind_schema: &str,
    list_schema: Option<&str>,
    subresources: &[(String, String, Value)],
) {
    let prefix = op_prefix(&r.group, &r.version);
    let tag = format!(
        "{}_{}",
        if r.group.is_empty() { "core" } else { &r.group },
        r.version
    );
    let base = if r.group.is_empty() {
        format!("/api/{}", r.version)
    } else {
        format!("/apis/{}/{}", r.group, r.version)
    };
    let gvk = json!({ "group": r.group, "version": r.version, "kind": r.kind });
    let kind = &r.kind;
    let (collection, ns_word, path_params) = if r.namespaced {
        (
            format!("{base}/namespaces/{{namespace}}/{}", r.resource),
            "Namespaced",
            vec![param(
                "namespace",
                "path",
                "object name and auth scope, such as for teams and projects",
                json!({ "type": "string", "uniqueItems": true }),
            )],
        )
    } else {
        (format!("{base}/{}", r.resource), "", Vec::new())
    };
    let pretty = query_string(
        "pretty",
        "If 'true', then the output is pretty printed. Defaults to 'false' unless the user agent is a browser or command-line HTTP tool (curl and wget).",
    );
    let name_param = |what: &str| {
        param(
            "name",
            "path",
            &format!("name of the {what}"),
            json!({ "type": "string", "uniqueItems": true }),
        )
    };
    let ok_created = [("200", "OK"), ("201", "Created")];
    let ok_created_accepted = [("200", "OK"), ("201", "Created"), ("202", "Accepted")];

    // Collection.
    let mut coll = Map::new();
    if let Some(list) = list_schema {
        coll.insert(
            "get".into(),
            operation(
                "list",
                format!("list{prefix}{ns_word}{kind}"),
                format!("list or watch objects of kind {kind}"),
                &tag,
                list_params(),
                None,
                responses(&[("200", "OK")], list),
                &gvk,
            ),
        );
    }
    if r.has_verb("create") {
        coll.insert(
            "post".into(),
            operation(
                "post",
                format!("create{prefix}{ns_word}{kind}"),
                format!("create a {kind}"),
                &tag,
                vec![dry_run(), field_manager(), field_validation()],
                Some(body(kind_schema)),
                responses(&ok_created_accepted, kind_schema),
                &gvk,
            ),
        );
    }
    if r.has_verb("deletecollection") {
        let mut params = list_params();
        params.push(dry_run());
        coll.insert(
            "delete".into(),
            operation(
                "deletecollection",
                format!("delete{prefix}Collection{ns_word}{kind}"),
                format!("delete collection of {kind}"),
                &tag,
                params,
                Some(body(DELETE_OPTIONS)),
                responses(&[("200", "OK")], STATUS),
                &gvk,
            ),
        );
    }
    if !coll.is_empty() {
        let mut p = path_params.clone();
        p.push(pretty.clone());
        coll.insert("parameters".into(), Value::Array(p));
        paths.insert(collection.clone(), Value::Object(coll));
    }
    if r.namespaced
        && let Some(list) = list_schema
    {
        let mut all = Map::new();
        all.insert(
            "get".into(),
            operation(
                "list",
                format!("list{prefix}{kind}ForAllNamespaces"),
                format!("list or watch objects of kind {kind}"),
                &tag,
                list_params(),
                None,
                responses(&[("200", "OK")], list),
                &gvk,
            ),
        );
        all.insert("parameters".into(), json!([pretty.clone()]));
        paths.insert(format!("{base}/{}", r.resource), Value::Object(all));
    }

    // Item.
    let item = format!("{collection}/{{name}}");
    let mut it = Map::new();
    if r.has_verb("get") {
        it.insert(
            "get".into(),
            operation(
                "get",
                format!("read{prefix}{ns_word}{kind}"),
                format!("read the specified {kind}"),
                &tag,
                Vec::new(),
                None,
                responses(&[("200", "OK")], kind_schema),
                &gvk,
            ),
        );
    }
    if r.has_verb("update") {
        it.insert(
            "put".into(),
            operation(
                "put",
                format!("replace{prefix}{ns_word}{kind}"),
                format!("replace the specified {kind}"),
                &tag,
                vec![dry_run(), field_manager(), field_validation()],
                Some(body(kind_schema)),
                responses(&ok_created, kind_schema),
                &gvk,
            ),
        );
    }
    if r.has_verb("patch") {
        it.insert(
            "patch".into(),
            operation(
                "patch",
                format!("patch{prefix}{ns_word}{kind}"),
                format!("partially update the specified {kind}"),
                &tag,
                vec![dry_run(), field_manager(), field_validation(), force()],
                Some(patch_body()),
                responses(&ok_created, kind_schema),
                &gvk,
            ),
        );
    }
    if r.has_verb("delete") {
        let i = |n: &str, d: &str| {
            param(
                n,
                "query",
                d,
                json!({ "type": "integer", "uniqueItems": true }),
            )
        };
        it.insert(
            "delete".into(),
            operation(
                "delete",
                format!("delete{prefix}{ns_word}{kind}"),
                format!("delete a {kind}"),
                &tag,
                vec![
                    dry_run(),
                    i(
                        "gracePeriodSeconds",
                        "The duration in seconds before the object should be deleted.",
                    ),
                    query_string(
                        "propagationPolicy",
                        "Whether and how garbage collection will be performed.",
                    ),
                ],
                Some(body(DELETE_OPTIONS)),
                responses(&[("200", "OK"), ("202", "Accepted")], STATUS),
                &gvk,
            ),
        );
    }
    if !it.is_empty() {
        let mut p = vec![name_param(kind)];
        p.extend(path_params.iter().cloned());
        p.push(pretty.clone());
        it.insert("parameters".into(), Value::Array(p));
        paths.insert(item.clone(), Value::Object(it));
    }

    // Subresources.
    for (sub, schema, sub_gvk) in subresources {
        let Some(info) = r.subresource(sub) else {
            continue;
        };
        // kubectl matches operations by the GVK of the object they speak; status speaks the
        // parent kind.
        let sub_gvk = if sub_gvk["kind"] == json!(kind) {
            gvk.clone()
        } else {
            sub_gvk.clone()
        };
        let suffix = capitalize(sub);
        let mut m = Map::new();
        if info.has_verb("get") {
            m.insert(
                "get".into(),
                operation(
                    "get",
                    format!("read{prefix}{ns_word}{kind}{suffix}"),
                    format!("read {sub} of the specified {kind}"),
                    &tag,
                    Vec::new(),
                    None,
                    responses(&[("200", "OK")], schema),
                    &sub_gvk,
                ),
            );
        }
        if info.has_verb("update") {
            m.insert(
                "put".into(),
                operation(
                    "put",
                    format!("replace{prefix}{ns_word}{kind}{suffix}"),
                    format!("replace {sub} of the specified {kind}"),
                    &tag,
                    vec![dry_run(), field_manager(), field_validation()],
                    Some(body(schema)),
                    responses(&ok_created, schema),
                    &sub_gvk,
                ),
            );
        }
        if info.has_verb("patch") {
            m.insert(
                "patch".into(),
                operation(
                    "patch",
                    format!("patch{prefix}{ns_word}{kind}{suffix}"),
                    format!("partially update {sub} of the specified {kind}"),
                    &tag,
                    vec![dry_run(), field_manager(), field_validation(), force()],
                    Some(patch_body()),
                    responses(&ok_created, schema),
                    &sub_gvk,
                ),
            );
        }
        if info.has_verb("create") {
            m.insert(
                "post".into(),
                operation(
                    "post",
                    format!("create{prefix}{ns_word}{kind}{suffix}"),
                    format!("create {sub} of a {kind}"),
                    &tag,
                    vec![dry_run(), field_manager(), field_validation()],
                    Some(body(schema)),
                    responses(&ok_created_accepted, schema),
                    &sub_gvk,
                ),
            );
        }
        if m.is_empty() {
            continue;
        }
        let mut p = vec![name_param(kind)];
        p.extend(path_params.iter().cloned());
        p.push(pretty.clone());
        m.insert("parameters".into(), Value::Array(p));
        paths.insert(format!("{item}/{sub}"), Value::Object(m));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_apimachinery::resources::builtin_resources;

    fn served() -> Vec<(String, String)> {
        let mut gvs: Vec<(String, String)> = Vec::new();
        for r in builtin_resources() {
            let gv = (r.group.clone(), r.version.clone());
            if !gvs.contains(&gv) {
                gvs.push(gv);
            }
        }
        gvs
    }

    fn resources_of(g: &str, v: &str) -> Vec<ResourceInfo> {
        builtin_resources()
            .into_iter()
            .filter(|r| r.group == g && r.version == v)
            .collect()
    }

    fn assert_refs_resolve(doc: &Value) {
        let schemas = doc["components"]["schemas"]
            .as_object()
            .expect("components.schemas");
        let mut refs = BTreeSet::new();
        collect_refs(doc, &mut refs);
        let mut all = BTreeSet::new();
        collect_all_refs(doc, &mut all);
        for r in &all {
            assert!(r.starts_with(SCHEMA_PREFIX), "unexpected ref {r}");
        }
        for r in refs {
            assert!(schemas.contains_key(&r), "dangling ref {r}");
        }
    }

    fn collect_all_refs(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "$ref"
                        && let Some(r) = x.as_str()
                    {
                        out.insert(r.to_string());
                    } else {
                        collect_all_refs(x, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| collect_all_refs(x, out)),
            _ => {}
        }
    }

    #[test]
    fn openapi_root_lists_every_served_gv() {
        let api = OpenApi::new();
        let gvs = served();
        let root = api.root(&gvs, |g, v| (resources_of(g, v), Vec::new()));
        let paths = root["paths"].as_object().expect("paths");
        assert_eq!(paths.len(), gvs.len());
        for (g, v) in &gvs {
            let key = gv_path(g, v);
            let url = paths[&key]["serverRelativeURL"].as_str().expect("url");
            assert!(
                url.starts_with(&format!("/openapi/v3/{key}?hash=")),
                "{url}"
            );
            let hash = url.rsplit('=').next().unwrap_or("");
            assert_eq!(hash.len(), 128);
        }
        assert!(paths.contains_key("api/v1"));
        assert!(paths.contains_key("apis/apps/v1"));
    }

    #[test]
    fn openapi_apps_v1_document() {
        let doc = group_version_document("apps", "v1", &resources_of("apps", "v1"), &[])
            .expect("apps/v1");
        let schemas = &doc["components"]["schemas"];
        let dep = &schemas["io.k8s.api.apps.v1.Deployment"];
        assert_eq!(
            dep["x-kubernetes-group-version-kind"],
            json!([{"group": "apps", "kind": "Deployment", "version": "v1"}])
        );
        assert!(dep.get("required").is_none());
        assert_eq!(
            schemas["io.k8s.api.apps.v1.DeploymentList"]["x-kubernetes-group-version-kind"][0]["kind"],
            "DeploymentList"
        );
        // Refs with siblings are wrapped in allOf, as Kubernetes does.
        let strategy = &schemas["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"];
        assert_eq!(
            strategy["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy"
        );
        assert!(strategy["description"].is_string());
        let ios = &schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"];
        assert_eq!(ios["x-kubernetes-int-or-string"], true);
        assert_eq!(
            schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"]["x-kubernetes-int-or-string"],
            true
        );
        let time = &schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"];
        assert_eq!(time["type"], "string");
        assert_eq!(time["format"], "date-time");
        let containers = &schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
        assert!(schemas["io.k8s.api.autoscaling.v1.Scale"].is_object());

        let patch =
            &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"],
            json!({"group": "apps", "version": "v1", "kind": "Deployment"})
        );
        let params = patch["parameters"].as_array().expect("params");
        assert!(
            params
                .iter()
                .any(|p| p["name"] == "fieldValidation" && p["in"] == "query")
        );
        assert!(patch["requestBody"]["content"]["application/merge-patch+json"].is_object());
        assert!(doc["paths"]["/apis/apps/v1/deployments"]["get"].is_object());
        let scale =
            &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"];
        assert_eq!(scale["x-kubernetes-group-version-kind"]["kind"], "Scale");
        assert_refs_resolve(&doc);
    }

    #[test]
    fn openapi_every_builtin_gv_resolves() {
        for (g, v) in served() {
            let doc = group_version_document(&g, &v, &resources_of(&g, &v), &[]).expect("document");
            assert_refs_resolve(&doc);
            let schemas = doc["components"]["schemas"].as_object().expect("schemas");
            for r in resources_of(&g, &v) {
                assert!(
                    schemas
                        .values()
                        .any(
                            |s| s["x-kubernetes-group-version-kind"]
                                .as_array()
                                .is_some_and(|a| a.iter().any(|x| x["kind"] == json!(r.kind)
                                    && x["group"] == json!(r.group)
                                    && x["version"] == json!(r.version)))
                        ),
                    "{g}/{v} {} has no schema",
                    r.kind
                );
            }
        }
    }

    fn crd(schema: Value) -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "crontabs.stable.example.com"},
            "spec": {
                "group": "stable.example.com",
                "names": {"kind": "CronTab", "listKind": "CronTabList", "plural": "crontabs", "singular": "crontab"},
                "scope": "Namespaced",
                "versions": [{
                    "name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": schema},
                    "subresources": {"status": {}}
                }]
            }
        })
    }

    fn crd_resource() -> ResourceInfo {
        let mut r = resources_of("apps", "v1")
            .into_iter()
            .find(|r| r.kind == "Deployment")
            .expect("deployment");
        r.group = "stable.example.com".into();
        r.version = "v1".into();
        r.resource = "crontabs".into();
        r.singular = "crontab".into();
        r.kind = "CronTab".into();
        r.short_names = Vec::new();
        r.subresources.retain(|s| s.name == "status");
        r
    }

    #[test]
    fn openapi_crd_document() {
        let schema = json!({
            "type": "object",
            "properties": {"spec": {"type": "object", "properties": {"cronSpec": {"type": "string"}}}}
        });
        let api = OpenApi::new();
        let res = [crd_resource()];
        let doc = api
            .document("stable.example.com", "v1", &res, &[crd(schema.clone())])
            .expect("doc");
        let v = &doc.value;
        let s = &v["components"]["schemas"]["com.example.stable.v1.CronTab"];
        assert_eq!(
            s["x-kubernetes-group-version-kind"],
            json!([{"group": "stable.example.com", "kind": "CronTab", "version": "v1"}])
        );
        assert_eq!(
            s["properties"]["spec"]["properties"]["cronSpec"]["type"],
            "string"
        );
        assert_eq!(
            s["properties"]["metadata"]["allOf"][0]["$ref"],
            format!("{SCHEMA_PREFIX}{OBJECT_META}")
        );
        assert!(v["components"]["schemas"]["com.example.stable.v1.CronTabList"].is_object());
        let patch = &v["paths"]["/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}"]
            ["patch"];
        assert_eq!(patch["x-kubernetes-group-version-kind"]["kind"], "CronTab");
        assert_eq!(
            patch["operationId"],
            "patchStableExampleComV1NamespacedCronTab"
        );
        assert_refs_resolve(v);

        // Cached while unchanged; a schema change changes the hash.
        let again = api
            .document("stable.example.com", "v1", &res, &[crd(schema)])
            .expect("doc");
        assert!(Arc::ptr_eq(&doc, &again));
        let changed = api
            .document(
                "stable.example.com",
                "v1",
                &res,
                &[crd(
                    json!({"type": "object", "properties": {"spec": {"type": "string"}}}),
                )],
            )
            .expect("doc");
        assert_ne!(doc.hash, changed.hash);
    }

    #[test]
    fn openapi_serve() {
        let api = OpenApi::new();
        let gvs = served();
        let lookup = |g: &str, v: &str| (resources_of(g, v), Vec::new());
        let root = api.serve("/openapi/v3", None, &gvs, lookup).expect("reply");
        assert_eq!(root.status, 200);
        let root: Value = serde_json::from_slice(&root.body).expect("json");
        let url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
            .as_str()
            .expect("url")
            .to_string();
        let (path, query) = url.split_once('?').expect("query");
        let doc = api.serve(path, Some(query), &gvs, lookup).expect("reply");
        assert_eq!(doc.status, 200);
        assert!(
            doc.headers
                .iter()
                .any(|(k, v)| *k == "cache-control" && v == "public, immutable")
        );
        assert!(
            doc.headers
                .iter()
                .any(|(k, v)| *k == "content-type" && v == "application/json")
        );
        let stale = api
            .serve(path, Some("hash=ABC"), &gvs, lookup)
            .expect("reply");
        assert_eq!(stale.status, 301);
        let plain = api.serve(path, None, &gvs, lookup).expect("reply");
        assert_eq!(plain.status, 200);
        assert_eq!(plain.body, doc.body);
        assert_eq!(
            api.serve("/openapi/v2", None, &gvs, lookup)
                .expect("reply")
                .status,
            404
        );
        assert_eq!(
            api.serve("/openapi/v3/apis/nope/v1", None, &gvs, lookup)
                .expect("reply")
                .status,
            404
        );
        assert!(api.serve("/api/v1", None, &gvs, lookup).is_none());
    }
}
