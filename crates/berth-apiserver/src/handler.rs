//! HTTP: routing of every request to health, version, discovery, or a resource verb.

use crate::auth::{self, UserInfo};
use crate::body::{self, MAX_BODY_BYTES, MediaType};
use crate::discovery;
use crate::object;
use crate::patch;
use crate::registry::Served;
use crate::request::{self, ApiPath, ResourcePath};
use crate::rest::{self, DeleteOptions, UpdateScope, WriteOptions};
use crate::server::ApiServer;
use crate::watch;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_apimachinery::builtin::FieldValidation;
use berth_apimachinery::selectors::{self, FieldSelector, LabelSelector};
use berth_apimachinery::status::{ApiError, success_status};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// Query parameters.
#[derive(Debug, Default, Clone)]
pub struct Query {
    /// The last value of each key (no client sends a single-valued parameter twice).
    last: HashMap<String, String>,
    /// Every pair in order, for repeated parameters such as exec's `command`.
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(q: Option<&str>) -> Self {
        let mut last = HashMap::new();
        let mut pairs = Vec::new();
        if let Some(q) = q {
            for (k, v) in form_urlencoded::parse(q.as_bytes()) {
                last.insert(k.to_string(), v.to_string());
                pairs.push((k.into_owned(), v.into_owned()));
            }
        }
        Query { last, pairs }
    }
    pub fn get(&self, k: &str) -> Option<&str> {
        self.last
            .get(k)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }
    pub fn remove(&mut self, k: &str) {
        self.last.remove(k);
        self.pairs.retain(|(key, _)| key != k);
    }
    /// Every value given for `k`, in order (empty values included).
    pub fn get_all<'a>(&'a self, k: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }
    pub fn bool(&self, k: &str) -> Result<Option<bool>, ApiError> {
        match self.get(k) {
            None => Ok(None),
            Some("true") | Some("1") | Some("True") => Ok(Some(true)),
            Some("false") | Some("0") | Some("False") => Ok(Some(false)),
            Some(v) => Err(ApiError::bad_request(format!(
                "invalid value for {k}: {v:?}: must be true or false"
            ))),
        }
    }
    pub fn int(&self, k: &str) -> Result<Option<i64>, ApiError> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                ApiError::bad_request(format!("invalid value for {k}: {v:?}: not an integer"))
            }),
        }
    }
}

/// Serialized JSON response.
pub fn json_response(code: StatusCode, v: &Value, warnings: &[String]) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_default();
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = code;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for w in warnings {
        let text = format!("299 - \"{}\"", w.replace('"', "\\\""));
        if let Ok(h) = HeaderValue::from_str(&text) {
            resp.headers_mut().append(header::WARNING, h);
        }
    }
    resp
}

pub fn error_response(e: &ApiError) -> Response {
    let code = StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(code, &e.to_status(), &[])
}

fn text_response(code: StatusCode, text: &str) -> Response {
    let mut r = (code, text.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// How the client wants objects shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Full,
    PartialMetadata,
    /// A `meta.k8s.io/v1` Table (what `kubectl get` asks for).
    Table(crate::table::IncludeObject),
}

pub(crate) fn response_shape(headers: &HeaderMap, q: &Query) -> Result<Shape, ApiError> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.is_empty() {
        return Ok(Shape::Full);
    }
    let mut json_ok = false;
    for part in accept.split(',') {
        let p = part.trim();
        let essence = p.split(';').next().unwrap_or("").trim();
        if p.contains("as=PartialObjectMetadata") && essence == "application/json" {
            return Ok(Shape::PartialMetadata);
        }
        if p.contains("as=Table") && essence == "application/json" {
            if p.contains("v=v1") && p.contains("g=meta.k8s.io") {
                let include = crate::table::IncludeObject::parse(q.get("includeObject"))
                    .map_err(ApiError::bad_request)?;
                return Ok(Shape::Table(include));
            }
            continue;
        }
        if matches!(
            essence,
            "application/json" | "*/*" | "application/*" | "application/yaml"
        ) {
            json_ok = true;
        }
    }
    if json_ok {
        Ok(Shape::Full)
    } else {
        Err(ApiError::not_acceptable(
            "only the following media types are accepted: application/json, application/yaml",
        ))
    }
}

/// The printer columns of a custom resource's version (`None` for built-ins).
pub fn custom_columns(served: &Served) -> Option<Vec<Value>> {
    let custom = served.custom.as_ref()?;
    let cols = custom
        .crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .and_then(|vs| {
            vs.iter()
                .find(|v| v.get("name").and_then(Value::as_str) == Some(&served.info.version))
        })
        .and_then(|v| v.get("additionalPrinterColumns"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Some(cols)
}

/// Shapes one object of `served` for the response.
pub fn render_object(served: &Served, v: Value, shape: Shape) -> Value {
    match shape {
        Shape::Table(include) => {
            let cols = custom_columns(served);
            crate::table::table_for_object(
                &served.info.group,
                &served.info.resource,
                &v,
                cols.as_deref(),
                include,
            )
        }
        other => shape_object(v, other),
    }
}

/// Shapes one object for the response (full or metadata only; tables need the resource, see
/// [`render_object`]).
pub fn shape_object(v: Value, shape: Shape) -> Value {
    match shape {
        Shape::Full | Shape::Table(_) => v,
        Shape::PartialMetadata => json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": v.get("metadata").cloned().unwrap_or(json!({})),
        }),
    }
}

/// The single entry point for every request.
pub async fn handle(State(server): State<Arc<ApiServer>>, req: Request<Body>) -> Response {
    let (mut parts, body) = req.into_parts();
    // Only `pods/exec` takes the connection over (a WebSocket).
    let upgrade = parts.extensions.remove::<hyper::upgrade::OnUpgrade>();
    let path = parts.uri.path().to_string();
    let method = parts.method.clone();
    match path.as_str() {
        "/healthz" | "/livez" | "/readyz" => {
            return if server.is_ready() || path == "/livez" {
                text_response(StatusCode::OK, "ok")
            } else {
                text_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "[-]berth-bootstrap failed: not finished\nreadyz check failed",
                )
            };
        }
        "/version" | "/version/" => return json_response(StatusCode::OK, &version_info(), &[]),
        _ => {}
    }
    let user = match server.authenticate(&parts.headers).await {
        Some(u) => u,
        None => return error_response(&ApiError::unauthorized()),
    };
    if path.starts_with("/openapi/")
        && let Some(reply) =
            server
                .openapi
                .serve_registry(&server.registry, &path, parts.uri.query())
    {
        return reply.into_response();
    }
    if let Some(rest) = path.strip_prefix(crate::debug::PREFIX) {
        return crate::debug::serve(&server, &method, rest);
    }
    let query = Query::parse(parts.uri.query());
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES + 1).await {
        Ok(b) if b.len() > MAX_BODY_BYTES => {
            return error_response(&ApiError::too_large(format!(
                "Request entity too large: limit is {MAX_BODY_BYTES}"
            )));
        }
        Ok(b) => b,
        Err(_) => {
            return error_response(&ApiError::too_large(format!(
                "Request entity too large: limit is {MAX_BODY_BYTES}"
            )));
        }
    };
    let result = route(
        &server,
        &method,
        &path,
        &parts.headers,
        &query,
        &bytes,
        &user,
        upgrade,
    )
    .await;
    match result {
        Ok(r) => r,
        Err(e) => {
            if e.code >= 500 {
                tracing::warn!(%method, %path, code = e.code, message = %e.message, "request failed");
            }
            error_response(&e)
        }
    }
}

pub fn version_info() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": "v1.33.0-berth",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-11-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": format!("linux/{}", match std::env::consts::ARCH { "x86_64" => "amd64", "aarch64" => "arm64", a => a }),
    })
}

#[allow(clippy::too_many_arguments)]
async fn route(
    s: &Arc<ApiServer>,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    q: &Query,
    bytes: &[u8],
    user: &UserInfo,
    upgrade: Option<hyper::upgrade::OnUpgrade>,
) -> Result<Response, ApiError> {
    let not_found = || {
        ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    };
    let api_path = request::parse(path).ok_or_else(not_found)?;
    let discovery_get = |v: Option<Value>| -> Result<Response, ApiError> {
        if method != Method::GET {
            return Err(ApiError::method_not_allowed(
                "the server does not allow this method on the requested resource".to_string(),
            ));
        }
        v.map(|v| json_response(StatusCode::OK, &v, &[]))
            .ok_or_else(not_found)
    };
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let aggregated = discovery::aggregated_version(accept);
    match api_path {
        ApiPath::LegacyRoot | ApiPath::GroupsRoot
            if aggregated.is_some() && method == Method::GET =>
        {
            let version = aggregated.unwrap_or("v2");
            let legacy = matches!(api_path, ApiPath::LegacyRoot);
            let mut body = discovery::aggregated(&s.registry, legacy, version);
            if !legacy && s.resource_metrics.get().is_some() {
                crate::metrics::add_to_aggregated(&mut body);
            }
            let mut resp = json_response(StatusCode::OK, &body, &[]);
            let ct = if version == "v2" {
                discovery::AGGREGATED_V2
            } else {
                discovery::AGGREGATED_V2BETA1
            };
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            resp.headers_mut()
                .insert(header::VARY, HeaderValue::from_static("Accept"));
            Ok(resp)
        }
        ApiPath::LegacyRoot => discovery_get(Some(discovery::api_versions(&s.advertise))),
        ApiPath::GroupsRoot => {
            let mut list = discovery::api_group_list(&s.registry);
            if s.resource_metrics.get().is_some() {
                crate::metrics::add_to_group_list(&mut list);
            }
            discovery_get(Some(list))
        }
        // `metrics.k8s.io` is served only while a usage source is plugged in.
        ApiPath::Group { group }
            if group == crate::metrics::GROUP && s.resource_metrics.get().is_some() =>
        {
            discovery_get(Some(crate::metrics::api_group()))
        }
        ApiPath::GroupVersion { group, version }
            if group == crate::metrics::GROUP && s.resource_metrics.get().is_some() =>
        {
            discovery_get(
                (version == crate::metrics::VERSION).then(crate::metrics::api_resource_list),
            )
        }
        ApiPath::Resource(rp) if rp.group == crate::metrics::GROUP => {
            match s.resource_metrics.get() {
                Some(source) => crate::metrics::handle(s, source, method, &rp, headers, q).await,
                None => Err(not_found()),
            }
        }
        ApiPath::Group { group } => discovery_get(discovery::api_group(&s.registry, &group)),
        ApiPath::GroupVersion { group, version } => {
            discovery_get(discovery::api_resource_list(&s.registry, &group, &version))
        }
        ApiPath::Resource(rp) => {
            resource_request(s, method, rp, headers, q, bytes, user, upgrade).await
        }
    }
}

fn write_options(q: &Query, headers_default: FieldValidation) -> Result<WriteOptions, ApiError> {
    let dry_run = match q.get("dryRun") {
        None => false,
        Some("All") => true,
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "Invalid dryRun value: {v:?}: supported values: \"All\""
            )));
        }
    };
    let field_validation = match q.get("fieldValidation") {
        None => headers_default,
        Some("Strict") => FieldValidation::Strict,
        Some("Warn") => FieldValidation::Warn,
        Some("Ignore") => FieldValidation::Ignore,
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "fieldValidation parameter unsupported: {v:?}. Supported values: \"Ignore\", \"Strict\", \"Warn\""
            )));
        }
    };
    Ok(WriteOptions {
        dry_run,
        field_validation: Some(field_validation),
        field_manager: q.get("fieldManager").map(str::to_string),
    })
}

fn media_type(headers: &HeaderMap) -> Result<MediaType, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    MediaType::parse(ct).ok_or_else(|| ApiError::unsupported_media_type(ct))
}

/// Decodes a create/update body (JSON, YAML or protobuf) into a JSON object.
pub(crate) fn object_body(headers: &HeaderMap, bytes: &[u8]) -> Result<Value, ApiError> {
    let media = media_type(headers)?;
    match media {
        MediaType::Json | MediaType::Yaml => body::parse_object(bytes, media),
        MediaType::Protobuf => berth_apimachinery::protobuf::decode(bytes),
        _ => Err(ApiError::unsupported_media_type(
            headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
        )),
    }
}

#[allow(clippy::too_many_arguments)]
async fn resource_request(
    s: &Arc<ApiServer>,
    method: &Method,
    rp: ResourcePath,
    headers: &HeaderMap,
    q: &Query,
    bytes: &[u8],
    user: &UserInfo,
    upgrade: Option<hyper::upgrade::OnUpgrade>,
) -> Result<Response, ApiError> {
    let served = s
        .registry
        .get(&rp.group, &rp.version, &rp.resource)
        .ok_or_else(|| {
            ApiError::new(
                404,
                "NotFound",
                "the server could not find the requested resource",
            )
        })?;
    let info = &served.info;
    // A namespaced resource listed across namespaces has no namespace; a cluster-scoped one
    // addressed under a namespace does not exist.
    if !info.namespaced && rp.namespace.is_some() {
        return Err(ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        ));
    }
    let ns = rp.namespace.as_deref();
    let shape = response_shape(headers, q)?;
    let verb_denied = |verb: &str| {
        ApiError::method_not_allowed(format!(
            "{verb} is not supported on resources of kind \"{}\"",
            info.kind
        ))
    };
    if let Some(sub) = &rp.subresource {
        let name = rp.name.as_deref().unwrap_or_default();
        if info.subresource(sub).is_none()
            && !(info.group.is_empty() && info.resource == "namespaces" && sub == "finalize")
        {
            return Err(ApiError::new(
                404,
                "NotFound",
                "the server could not find the requested resource",
            ));
        }
        if sub == "exec" && info.group.is_empty() && info.resource == "pods" {
            let (pod, _) = s.get_object(&served, ns, name).await?;
            let Some(source) = s.pod_exec.get() else {
                return Err(ApiError::new(
                    503,
                    "ServiceUnavailable",
                    "no node agent runs processes for pods/exec",
                ));
            };
            return crate::podexec::serve(source.clone(), &pod, method, headers, q, upgrade).await;
        }
        return crate::subresource::handle(
            s, &served, method, ns, name, sub, headers, q, bytes, user, shape,
        )
        .await;
    }
    // SelfSubjectReview is not stored: it reports who the caller is (`kubectl auth whoami`).
    if info.group == "authentication.k8s.io" && info.resource == "selfsubjectreviews" {
        if *method != Method::POST || rp.name.is_some() {
            return Err(verb_denied(method.as_str()));
        }
        let review = json!({
            "kind": "SelfSubjectReview",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": object::now_rfc3339()},
            "status": {"userInfo": user.to_json()},
        });
        return Ok(json_response(StatusCode::CREATED, &review, &[]));
    }
    match (method.clone(), rp.name.as_deref()) {
        (Method::GET, Some(name)) => {
            if !info.has_verb("get") {
                return Err(verb_denied("get"));
            }
            if info.namespaced && ns.is_none() {
                return Err(ApiError::new(
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                ));
            }
            let (obj, _) = s.get_object(&served, ns, name).await?;
            Ok(json_response(
                StatusCode::OK,
                &render_object(&served, obj, shape),
                &[],
            ))
        }
        (Method::GET, None) => {
            if q.bool("watch")? == Some(true) {
                if !info.has_verb("watch") {
                    return Err(verb_denied("watch"));
                }
                return watch::serve(s.clone(), served.clone(), ns.map(str::to_string), q, shape)
                    .await;
            }
            if !info.has_verb("list") {
                return Err(verb_denied("list"));
            }
            let list = list_objects(s, &served, ns, q, shape).await?;
            Ok(json_response(StatusCode::OK, &list, &[]))
        }
        (Method::POST, None) => {
            if !info.has_verb("create") {
                return Err(verb_denied("create"));
            }
            if info.namespaced && ns.is_none() {
                return Err(ApiError::new(
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                ));
            }
            let body = object_body(headers, bytes)?;
            let opts = write_options(q, FieldValidation::Ignore)?;
            let w = s.create_object(&served, ns, body, &opts).await?;
            Ok(json_response(
                StatusCode::CREATED,
                &render_object(&served, w.object, shape),
                &w.warnings,
            ))
        }
        (Method::PUT, Some(name)) => {
            if !info.has_verb("update") {
                return Err(verb_denied("update"));
            }
            let body = object_body(headers, bytes)?;
            let opts = write_options(q, FieldValidation::Ignore)?;
            let w = s
                .update_object(&served, ns, name, UpdateScope::Main, &opts, |_| {
                    Ok(body.clone())
                })
                .await?;
            Ok(json_response(
                StatusCode::OK,
                &render_object(&served, w.object, shape),
                &w.warnings,
            ))
        }
        (Method::PATCH, Some(name)) => {
            if !info.has_verb("patch") {
                return Err(verb_denied("patch"));
            }
            let media = media_type(headers)?;
            let opts = write_options(q, FieldValidation::Ignore)?;
            let (code, w) = patch::patch(
                s,
                &served,
                ns,
                name,
                UpdateScope::Main,
                media,
                bytes,
                q,
                &opts,
            )
            .await?;
            Ok(json_response(
                code,
                &render_object(&served, w.object, shape),
                &w.warnings,
            ))
        }
        (Method::DELETE, Some(name)) => {
            if !info.has_verb("delete") {
                return Err(verb_denied("delete"));
            }
            let opts = delete_options(q, bytes)?;
            let (obj, gone) = s.delete_object(&served, ns, name, &opts).await?;
            // Most resources answer a completed delete with a Status; pods, services and a few
            // others return the object, as their Kubernetes registries do.
            if gone && !returns_deleted_object(&served) {
                let uid = object::uid(&obj).unwrap_or_default().to_string();
                return Ok(json_response(
                    StatusCode::OK,
                    &success_status(&info.group, &info.resource, name, &uid),
                    &[],
                ));
            }
            Ok(json_response(
                StatusCode::OK,
                &render_object(&served, obj, shape),
                &[],
            ))
        }
        (Method::DELETE, None) => {
            if !info.has_verb("deletecollection") {
                return Err(verb_denied("deletecollection"));
            }
            let opts = delete_options(q, bytes)?;
            let mut lq = q.clone();
            lq.remove("limit");
            lq.remove("continue");
            let list = list_objects(s, &served, ns, &lq, Shape::Full).await?;
            let mut deleted = Vec::new();
            if let Some(items) = list.get("items").and_then(Value::as_array) {
                for it in items {
                    let Some(name) = object::name(it) else {
                        continue;
                    };
                    let item_ns = object::meta_str(it, "namespace");
                    match s.delete_object(&served, item_ns, name, &opts).await {
                        Ok((o, _)) => deleted.push(o),
                        Err(e) if e.code == 404 => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            let out = json!({
                "kind": info.list_kind(),
                "apiVersion": info.api_version(),
                "metadata": {"resourceVersion": s.store.current_revision().to_string()},
                "items": deleted,
            });
            Ok(json_response(StatusCode::OK, &out, &[]))
        }
        _ => Err(ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        )),
    }
}

/// Registries whose DELETE returns the deleted object rather than a Status.
fn returns_deleted_object(served: &Served) -> bool {
    served.info.group.is_empty()
        && matches!(
            served.info.resource.as_str(),
            "pods" | "services" | "namespaces" | "nodes" | "persistentvolumeclaims"
        )
        || served.info.group == "apiextensions.k8s.io"
}

/// DeleteOptions from the body (JSON, any apiVersion) and the query.
pub fn delete_options(q: &Query, bytes: &[u8]) -> Result<DeleteOptions, ApiError> {
    let mut o = DeleteOptions::default();
    if !bytes.iter().all(u8::is_ascii_whitespace) {
        let v = body::parse_json(bytes)?;
        if let Some(kind) = v.get("kind").and_then(Value::as_str)
            && kind != "DeleteOptions"
        {
            return Err(ApiError::bad_request(format!(
                "the kind in the body ({kind}) is not DeleteOptions"
            )));
        }
        o.grace_period = v.get("gracePeriodSeconds").and_then(Value::as_i64);
        o.propagation = v
            .get("propagationPolicy")
            .and_then(Value::as_str)
            .map(str::to_string);
        o.orphan_dependents = v.get("orphanDependents").and_then(Value::as_bool);
        o.precondition_uid = v
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(str::to_string);
        o.precondition_rv = v
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(d) = v.get("dryRun").and_then(Value::as_array) {
            o.dry_run = d.iter().any(|x| x.as_str() == Some("All"));
        }
    }
    if let Some(g) = q.int("gracePeriodSeconds")? {
        o.grace_period = Some(g);
    }
    if let Some(p) = q.get("propagationPolicy") {
        o.propagation = Some(p.to_string());
    }
    if let Some(b) = q.bool("orphanDependents")? {
        o.orphan_dependents = Some(b);
    }
    if q.get("dryRun") == Some("All") {
        o.dry_run = true;
    }
    if let Some(p) = &o.propagation {
        if !["Orphan", "Background", "Foreground"].contains(&p.as_str()) {
            return Err(ApiError::invalid(
                "meta.k8s.io",
                "DeleteOptions",
                "",
                &[berth_apimachinery::status::FieldError::not_supported(
                    "propagationPolicy",
                    json!(p),
                    &["Foreground", "Background", "Orphan", "nil"],
                )],
            ));
        }
        if o.orphan_dependents.is_some() {
            return Err(ApiError::invalid(
                "meta.k8s.io",
                "DeleteOptions",
                "",
                &[berth_apimachinery::status::FieldError::invalid(
                    "propagationPolicy",
                    json!(p),
                    "orphanDependents and deletionPropagation cannot be both set",
                )],
            ));
        }
    }
    Ok(o)
}

/// A continue token: the revision of the first page and the last key returned (relative to the
/// list prefix), base64 JSON as Kubernetes encodes it.
fn encode_continue(rev: i64, start_after: &str) -> String {
    use base64::Engine;
    let v = json!({"v": "meta.k8s.io/v1", "rv": rev, "start": format!("{start_after}\u{0}")});
    base64::engine::general_purpose::URL_SAFE.encode(v.to_string())
}

fn decode_continue(token: &str) -> Result<(i64, String), ApiError> {
    use base64::Engine;
    let bad = || ApiError::bad_request(format!("continue key is not valid: {token:?}"));
    let raw = base64::engine::general_purpose::URL_SAFE
        .decode(token)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token))
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    if v.get("v").and_then(Value::as_str) != Some("meta.k8s.io/v1") {
        return Err(bad());
    }
    let rv = v.get("rv").and_then(Value::as_i64).ok_or_else(bad)?;
    let start = v.get("start").and_then(Value::as_str).ok_or_else(bad)?;
    let start = start.strip_suffix('\u{0}').unwrap_or(start);
    if start.contains("..") || start.starts_with('/') {
        return Err(bad());
    }
    Ok((rv, start.to_string()))
}

/// Parsed list filters.
pub struct Filters {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Filters {
    pub fn parse(served: &Served, q: &Query) -> Result<Self, ApiError> {
        let labels = LabelSelector::parse(q.get("labelSelector").unwrap_or(""))
            .map_err(ApiError::bad_request)?;
        let fields = FieldSelector::parse(q.get("fieldSelector").unwrap_or(""))
            .map_err(ApiError::bad_request)?;
        // Reject unsupported field labels up front, as Kubernetes does.
        fields
            .check_fields(&served.info.group, &served.info.resource)
            .map_err(ApiError::bad_request)?;
        Ok(Self { labels, fields })
    }

    pub fn matches(&self, served: &Served, obj: &Value) -> bool {
        if !self.labels.matches(&object::labels(obj)) {
            return false;
        }
        self.fields.matches(|f| {
            selectors::field_value(&served.info.group, &served.info.resource, obj, f)
                .ok()
                .flatten()
        })
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }
}

/// LIST with selectors, paging and resourceVersion semantics.
pub async fn list_objects(
    s: &ApiServer,
    served: &Arc<Served>,
    ns: Option<&str>,
    q: &Query,
    shape: Shape,
) -> Result<Value, ApiError> {
    let filters = Filters::parse(served, q)?;
    let limit = q.int("limit")?.filter(|l| *l > 0).unwrap_or(0) as usize;
    let rv_param = q.get("resourceVersion");
    let rv_match = q.get("resourceVersionMatch");
    let prefix = served.list_prefix(ns);
    let (mut at_rev, mut start_after) = (0i64, None::<String>);
    if let Some(token) = q.get("continue") {
        if rv_param.is_some() && rv_param != Some("0") {
            return Err(ApiError::bad_request(
                "specifying resource version is not allowed when using continue",
            ));
        }
        let (rev, start) = decode_continue(token)?;
        if rev < s.store.compacted_revision() {
            return Err(ApiError::gone(
                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
            ));
        }
        at_rev = rev;
        start_after = Some(format!("{prefix}{start}"));
    } else {
        let parsed_rv = match rv_param {
            None => None,
            Some(v) => Some(v.parse::<i64>().map_err(|_| {
                ApiError::invalid(
                    "meta.k8s.io",
                    "ListOptions",
                    "",
                    &[berth_apimachinery::status::FieldError::invalid(
                        "resourceVersion",
                        json!(v),
                        "must be a valid integer",
                    )],
                )
            })?),
        };
        match (rv_match, parsed_rv) {
            (Some("Exact"), Some(r)) if r > 0 => at_rev = r,
            (Some("Exact"), _) => {
                return Err(ApiError::invalid(
                    "meta.k8s.io",
                    "ListOptions",
                    "",
                    &[berth_apimachinery::status::FieldError::forbidden(
                        "resourceVersionMatch",
                        "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
                    )],
                ));
            }
            (Some("NotOlderThan"), None) => {
                return Err(ApiError::invalid(
                    "meta.k8s.io",
                    "ListOptions",
                    "",
                    &[berth_apimachinery::status::FieldError::forbidden(
                        "resourceVersionMatch",
                        "resourceVersionMatch is forbidden unless resourceVersion is provided",
                    )],
                ));
            }
            (Some("NotOlderThan") | None, Some(r)) if r > 0 => {
                if r > s.store.current_revision() {
                    s.wait_for_revision(r).await?;
                }
                // Legacy: a resourceVersion with a limit and no match pins the revision.
                if rv_match.is_none() && limit > 0 {
                    at_rev = r;
                }
            }
            (Some(m), _) if m != "NotOlderThan" => {
                return Err(ApiError::invalid(
                    "meta.k8s.io",
                    "ListOptions",
                    "",
                    &[berth_apimachinery::status::FieldError::not_supported(
                        "resourceVersionMatch",
                        json!(m),
                        &["Exact", "NotOlderThan", ""],
                    )],
                ));
            }
            _ => {}
        }
    }
    let mut items = Vec::new();
    let mut list_rev = at_rev;
    let mut next_start: Option<String> = None;
    let mut remaining: Option<i64> = None;
    // Fast path: a name field selector is a get.
    if let (Some(name), 0, None) = (filters.fields.single_name(), at_rev, &start_after) {
        let key = served.key(ns, name);
        if ns.is_some() || !served.info.namespaced {
            list_rev = s.store.current_revision();
            if let Some(kv) = s
                .store
                .get(&key)
                .await
                .map_err(|e| rest::map_store_error(served, name, e))?
            {
                let obj = rest::from_storage(served, &kv)?;
                if filters.matches(served, &obj) {
                    items.push(shape_object(obj, shape));
                }
            }
            return Ok(list_body(served, shape, list_rev, None, None, items));
        }
    }
    let page = if limit == 0 { 0 } else { limit.max(100) };
    loop {
        let resp = s
            .store
            .list(berth_store::ListRequest {
                prefix: prefix.clone(),
                start_after: start_after.clone(),
                limit: page,
                revision: list_rev,
            })
            .await
            .map_err(|e| match e {
                berth_store::StoreError::Compacted {
                    requested,
                    compacted,
                } => ApiError::gone(format!(
                    "too old resource version: {requested} ({compacted})"
                )),
                e => rest::map_store_error(served, "", e),
            })?;
        list_rev = resp.revision;
        let n = resp.items.len();
        let mut stopped_early = false;
        for (i, kv) in resp.items.iter().enumerate() {
            let obj = rest::from_storage(served, kv)?;
            if filters.matches(served, &obj) {
                items.push(shape_object(obj, shape));
                if limit > 0 && items.len() >= limit {
                    let more_here = i + 1 < n || resp.more;
                    if more_here {
                        next_start = Some(kv.key[prefix.len()..].to_string());
                        if filters.is_empty() {
                            remaining = Some(
                                (n - i - 1) as i64 + if resp.more { resp.remaining } else { 0 },
                            );
                        }
                    }
                    stopped_early = true;
                    break;
                }
            }
        }
        if stopped_early || !resp.more {
            break;
        }
        start_after = resp.items.last().map(|kv| kv.key.clone());
    }
    let cont = next_start.map(|k| encode_continue(list_rev, &k));
    Ok(list_body(served, shape, list_rev, cont, remaining, items))
}

fn list_body(
    served: &Served,
    shape: Shape,
    rev: i64,
    cont: Option<String>,
    remaining: Option<i64>,
    items: Vec<Value>,
) -> Value {
    let mut meta = json!({"resourceVersion": rev.to_string()});
    if let Some(c) = cont {
        meta["continue"] = json!(c);
        if let Some(r) = remaining {
            meta["remainingItemCount"] = json!(r);
        }
    }
    if let Shape::Table(include) = shape {
        let cols = custom_columns(served);
        return crate::table::table(
            &served.info.group,
            &served.info.resource,
            &items,
            meta,
            cols.as_deref(),
            include,
        );
    }
    let (kind, api_version) = match shape {
        Shape::Full | Shape::Table(_) => (served.info.list_kind(), served.info.api_version()),
        Shape::PartialMetadata => (
            "PartialObjectMetadataList".to_string(),
            "meta.k8s.io/v1".to_string(),
        ),
    };
    json!({"kind": kind, "apiVersion": api_version, "metadata": meta, "items": items})
}

/// Authentication of a request from its Authorization header.
impl ApiServer {
    pub async fn authenticate(&self, headers: &HeaderMap) -> Option<UserInfo> {
        let h = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let token = h
            .strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))?
            .trim();
        if let Some(u) = self.authn.static_user(token) {
            return Some(u.clone());
        }
        let claims = self.authn.verify_service_account_token(token)?;
        let sa = self.registry.get("", "v1", "serviceaccounts")?;
        let (obj, _) = self
            .get_object(&sa, Some(&claims.namespace), &claims.name)
            .await
            .ok()?;
        if object::uid(&obj) != Some(claims.uid.as_str())
            || object::deletion_timestamp(&obj).is_some()
        {
            return None;
        }
        if !self.bound_object_valid(&claims).await {
            return None;
        }
        Some(auth::service_account_user(&claims))
    }
}
