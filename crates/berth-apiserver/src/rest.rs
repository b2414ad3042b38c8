//! The generic registry: how objects of any resource are created, read, updated and deleted
//! (the role of `k8s.io/apiserver/pkg/registry/generic/registry.Store` plus the per-kind
//! strategies). HTTP lives in `handler`; this module works on JSON values.

use crate::object::{self, meta_mut};
use crate::registry::Served;
use crate::server::ApiServer;
use berth_apimachinery::builtin::{self, FieldValidation};
use berth_apimachinery::status::{ApiError, FieldError};
use berth_apimachinery::{defaults, names, validation};
use berth_store::{KeyValue, StoreError};
use serde_json::{Value, json};
use std::sync::Arc;

/// Resources whose objects carry `metadata.generation` (bumped on spec changes).
const GENERATION_RESOURCES: &[&str] = &[
    "deployments",
    "replicasets",
    "statefulsets",
    "daemonsets",
    "jobs",
    "cronjobs",
    "horizontalpodautoscalers",
    "poddisruptionbudgets",
    "ingresses",
    "networkpolicies",
    "customresourcedefinitions",
];

/// Options common to writes.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    pub dry_run: bool,
    pub field_validation: Option<FieldValidation>,
    pub field_manager: Option<String>,
}

/// The result of a write: the object as stored (with resourceVersion) and warnings.
pub struct Written {
    pub object: Value,
    pub warnings: Vec<String>,
}

/// Which part of an object an update may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateScope {
    /// The main resource: everything except status (when the kind has a status subresource).
    Main,
    /// The status subresource: only status.
    Status,
    /// Namespace finalize: only spec.finalizers.
    Finalize,
    /// pods/binding: spec.nodeName and status.
    Binding,
}

pub fn map_store_error(served: &Served, name: &str, e: StoreError) -> ApiError {
    let (g, r) = (&served.info.group, &served.info.resource);
    match e {
        StoreError::AlreadyExists(_) => ApiError::already_exists(g, r, name),
        StoreError::NotFound(_) => ApiError::not_found(g, r, name),
        StoreError::Conflict { .. } => ApiError::stale(g, r, name),
        StoreError::Compacted {
            requested,
            compacted,
        } => ApiError::gone(format!(
            "too old resource version: {requested} ({compacted})"
        )),
        StoreError::FutureRevision { requested, current } => ApiError::timeout(format!(
            "Too large resource version: {requested}, current: {current}"
        ))
        .with_details(json!({"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}], "retryAfterSeconds": 1})),
        StoreError::Closed => ApiError::new(503, "ServiceUnavailable", "the store is shutting down"),
        StoreError::Database(m) => ApiError::internal(m),
    }
}

/// Turns a stored key-value into the object clients see for `served`.
pub fn from_storage(served: &Served, kv: &KeyValue) -> Result<Value, ApiError> {
    let mut v: Value = serde_json::from_slice(&kv.value)
        .map_err(|e| ApiError::internal(format!("stored object {} is corrupt: {e}", kv.key)))?;
    object::set_resource_version(&mut v, kv.mod_revision);
    Ok(to_external(served, v))
}

/// Converts a stored object to the version `served` speaks.
pub fn to_external(served: &Served, mut v: Value) -> Value {
    if served.info.group == "events.k8s.io" {
        return builtin::core_event_to_v1(v);
    }
    if served.is_custom()
        && let Some(m) = v.as_object_mut()
    {
        m.insert("apiVersion".into(), json!(served.info.api_version()));
    }
    v
}

/// Converts an object of `served`'s version to its stored form (without resourceVersion).
fn to_storage(served: &Served, v: &Value) -> Result<Vec<u8>, ApiError> {
    let mut stored = if served.info.group == "events.k8s.io" {
        builtin::event_v1_to_core(v.clone())
    } else {
        v.clone()
    };
    if let Some(custom) = &served.custom
        && let Some(m) = stored.as_object_mut()
    {
        m.insert(
            "apiVersion".into(),
            json!(format!("{}/{}", served.info.group, custom.storage_version)),
        );
    }
    if let Some(m) = stored.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
        m.remove("selfLink");
    }
    serde_json::to_vec(&stored).map_err(|e| ApiError::internal(e.to_string()))
}

fn has_status_subresource(served: &Served) -> bool {
    served.info.subresource("status").is_some()
}

fn uses_generation(served: &Served) -> bool {
    served.is_custom() || GENERATION_RESOURCES.contains(&served.info.resource.as_str())
}

/// Decoding, pruning and unknown-field handling for a body of `served`'s kind.
pub fn decode(
    served: &Served,
    body: Value,
    validation: FieldValidation,
) -> Result<(Value, Vec<String>), ApiError> {
    if let Some(custom) = &served.custom {
        let mut obj = body;
        check_type_meta(served, &mut obj)?;
        let mut warnings = Vec::new();
        if let Some(schema) = &custom.schema {
            let pruned = schema.prune(&mut obj);
            if !pruned.is_empty() {
                let msgs: Vec<String> = pruned
                    .iter()
                    .map(|p| format!("unknown field \"{p}\""))
                    .collect();
                match validation {
                    FieldValidation::Strict => {
                        return Err(ApiError::bad_request(format!(
                            "strict decoding error: {}",
                            msgs.join(", ")
                        )));
                    }
                    FieldValidation::Warn => warnings.extend(msgs),
                    FieldValidation::Ignore => {}
                }
            }
            schema.apply_defaults(&mut obj);
        }
        return Ok((obj, warnings));
    }
    let decoded = builtin::decode(&served.info, body, validation)?;
    Ok((decoded.object, decoded.warnings))
}

/// apiVersion/kind checks for custom resources (built-ins are checked by `builtin::decode`).
fn check_type_meta(served: &Served, obj: &mut Value) -> Result<(), ApiError> {
    let want_av = served.info.api_version();
    let m = obj
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("the object provided is not a JSON object"))?;
    match m.get("apiVersion").and_then(Value::as_str) {
        Some(av) if av != want_av => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({av}) does not match the expected API version ({want_av})"
            )));
        }
        Some(_) => {}
        None => {
            return Err(ApiError::bad_request(
                "Object 'apiVersion' is missing in the object provided",
            ));
        }
    }
    match m.get("kind").and_then(Value::as_str) {
        Some(k) if k != served.info.kind => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                served.info.kind
            )));
        }
        Some(_) => {}
        None => {
            return Err(ApiError::bad_request(
                "Object 'Kind' is missing in the object provided",
            ));
        }
    }
    Ok(())
}

/// Per-kind validation (metadata plus the kind's own rules).
fn validate(
    served: &Served,
    obj: &Value,
    old: Option<&Value>,
    scope: UpdateScope,
) -> Vec<FieldError> {
    let info = &served.info;
    let rule = if served.is_custom() {
        names::NameRule::Dns1123Subdomain
    } else {
        names::name_rule_for(&info.group, &info.resource)
    };
    let meta = obj.get("metadata").cloned().unwrap_or(Value::Null);
    let old_meta = old.map(|o| o.get("metadata").cloned().unwrap_or(Value::Null));
    // Custom resources and CRDs get apimachinery's generic metadata rules; built-in kinds the
    // core ones (which also restrict finalizer names), as in Kubernetes.
    let generic = served.is_custom() || info.group == "apiextensions.k8s.io";
    let mut errs = if generic {
        names::validate_generic_object_meta(&meta, info.namespaced, rule)
    } else {
        names::validate_object_meta(&meta, info.namespaced, rule)
    };
    if let Some(old_meta) = &old_meta {
        errs.extend(if generic {
            names::validate_generic_object_meta_update(&meta, old_meta)
        } else {
            names::validate_object_meta_update(&meta, old_meta)
        });
        // Subresource writes only carry over server-checked parts; spec rules don't apply.
        if scope != UpdateScope::Main {
            return errs;
        }
    }
    if let Some(custom) = &served.custom {
        if let Some(schema) = &custom.schema {
            errs.extend(schema.validate(obj));
        }
        return errs;
    }
    if info.group == "apiextensions.k8s.io" {
        match old {
            None => errs.extend(berth_apiextensions::validate_crd(obj)),
            Some(old) => errs.extend(berth_apiextensions::validate_crd_update(obj, old)),
        }
        return errs;
    }
    // Validation sees the object as the client sent it (an events.k8s.io Event in its v1 form,
    // which `validate` checks with the v1 rules); only defaulting works on the stored form.
    let (group, kind) = (info.group.as_str(), info.kind.as_str());
    match old {
        None => errs.extend(validation::validate(group, kind, obj)),
        Some(old) => errs.extend(validation::validate_update(group, kind, obj, old)),
    }
    errs
}

/// Group and kind of the stored form (events.k8s.io events are validated as core events).
fn storage_group_kind(served: &Served) -> (&str, &str) {
    if served.info.group == "events.k8s.io" {
        ("", "Event")
    } else {
        (&served.info.group, &served.info.kind)
    }
}

fn invalid(served: &Served, name: &str, errs: &[FieldError]) -> ApiError {
    ApiError::invalid(&served.info.group, &served.info.kind, name, errs)
}

/// Characters Kubernetes uses for generated name suffixes (no vowels, no confusables).
const GENERATE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn generate_name(prefix: &str) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    // Kubernetes truncates the prefix so that prefix + 5 characters fits in 63.
    let max_prefix = 58;
    let prefix: String = prefix.chars().take(max_prefix).collect();
    let suffix: String = (0..5)
        .map(|_| GENERATE_ALPHABET[rng.random_range(0..GENERATE_ALPHABET.len())] as char)
        .collect();
    format!("{prefix}{suffix}")
}

impl ApiServer {
    /// Reads one object.
    pub async fn get_object(
        &self,
        served: &Served,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<(Value, KeyValue), ApiError> {
        let key = served.key(namespace, name);
        match self.store.get(&key).await {
            Ok(Some(kv)) => Ok((from_storage(served, &kv)?, kv)),
            Ok(None) => Err(ApiError::not_found(
                &served.info.group,
                &served.info.resource,
                name,
            )),
            Err(e) => Err(map_store_error(served, name, e)),
        }
    }

    /// Creates an object: defaulting, validation, admission, then a store create.
    pub async fn create_object(
        &self,
        served: &Arc<Served>,
        namespace: Option<&str>,
        body: Value,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let validation = opts.field_validation.unwrap_or(FieldValidation::Strict);
        let (mut obj, warnings) = decode(served, body, validation)?;
        self.prepare_create(served, namespace, &mut obj)?;
        self.admit_create_mutating(served, &mut obj).await?;
        let name = object::name(&obj).unwrap_or_default().to_string();
        let errs = validate(served, &obj, None, UpdateScope::Main);
        if !errs.is_empty() {
            return Err(invalid(served, &name, &errs));
        }
        if let Some(ns) = namespace.filter(|_| served.info.namespaced) {
            self.admit_namespace(ns).await?;
        }
        self.admit_create_validating(served, &obj, opts.dry_run)
            .await?;
        self.admit_create(served, &mut obj).await?;
        if opts.dry_run {
            return Ok(Written {
                object: obj,
                warnings,
            });
        }
        let key = served.key(namespace, &name);
        let bytes = to_storage(served, &obj)?;
        let result = self.store.create(&key, bytes).await;
        match result {
            Ok(kv) => {
                object::set_resource_version(&mut obj, kv.mod_revision);
                self.after_write(served, None, Some(&obj)).await;
                Ok(Written {
                    object: obj,
                    warnings,
                })
            }
            Err(e) => {
                self.release_allocations(served, &obj);
                Err(map_store_error(served, &name, e))
            }
        }
    }

    /// Fills server-set metadata and defaults on create.
    fn prepare_create(
        &self,
        served: &Served,
        namespace: Option<&str>,
        obj: &mut Value,
    ) -> Result<(), ApiError> {
        let info = &served.info;
        if let Some(rv) = object::resource_version(obj)
            && rv != "0"
        {
            return Err(ApiError::internal(
                "resourceVersion should not be set on objects to be created",
            ));
        }
        {
            let m = meta_mut(obj);
            if info.namespaced {
                let body_ns = m
                    .get("namespace")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty());
                match (body_ns, namespace) {
                    (Some(b), Some(u)) if b != u => {
                        return Err(ApiError::bad_request(
                            "the namespace of the provided object does not match the namespace sent on the request",
                        ));
                    }
                    (_, Some(u)) => {
                        m.insert("namespace".into(), json!(u));
                    }
                    (_, None) => {}
                }
            } else {
                m.remove("namespace");
            }
            let has_name = m
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty());
            if !has_name
                && let Some(prefix) = m.get("generateName").and_then(Value::as_str)
                && !prefix.is_empty()
            {
                let n = generate_name(prefix);
                m.insert("name".into(), json!(n));
            }
            m.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
            m.insert("creationTimestamp".into(), json!(object::now_rfc3339()));
            m.remove("resourceVersion");
            m.remove("deletionTimestamp");
            m.remove("deletionGracePeriodSeconds");
            m.remove("selfLink");
            if uses_generation(served) {
                m.insert("generation".into(), json!(1));
            } else {
                m.remove("generation");
            }
        }
        if !served.is_custom() {
            let (group, kind) = storage_group_kind(served);
            if info.group == "batch" && info.kind == "Job" {
                // The Job strategy labels the template and selector with the Job's uid.
                let uid = object::uid(obj).unwrap_or_default().to_string();
                defaults::generate_job_selector(obj, &uid);
            }
            defaults::apply_defaults(group, kind, obj);
        }
        // A CRD keeps a finalizer until its custom resources are deleted.
        if info.group == "apiextensions.k8s.io" {
            let mut f = object::finalizers(obj);
            if !f.iter().any(|x| x == crate::server::CRD_CLEANUP_FINALIZER) {
                f.push(crate::server::CRD_CLEANUP_FINALIZER.to_string());
                object::set_finalizers(obj, &f);
            }
        }
        // Status is the controllers' to write; most kinds start with an empty one.
        if has_status_subresource(served) {
            let fresh = match (info.group.as_str(), info.resource.as_str()) {
                ("", "pods") => Some(json!({"phase": "Pending", "qosClass": qos_class(obj)})),
                ("", "namespaces") => {
                    // The namespace controller's finalizer: contents go before the namespace.
                    if let Some(m) = obj.as_object_mut() {
                        let spec = m.entry("spec").or_insert_with(|| json!({}));
                        if spec.get("finalizers").is_none() {
                            spec["finalizers"] = json!(["kubernetes"]);
                        }
                    }
                    Some(json!({"phase": "Active"}))
                }
                ("", "nodes") => None,
                ("", "services") => Some(json!({"loadBalancer": {}})),
                ("apiextensions.k8s.io", _) => Some(crd_status(obj)),
                _ => Some(Value::Null),
            };
            if let (Some(status), Some(m)) = (fresh, obj.as_object_mut()) {
                if status.is_null() {
                    m.remove("status");
                } else {
                    m.insert("status".into(), status);
                }
            }
        }
        Ok(())
    }

    /// Checks that the namespace exists and is not terminating (NamespaceLifecycle admission).
    pub async fn admit_namespace(&self, ns: &str) -> Result<(), ApiError> {
        let Some(ns_served) = self.registry.get("", "v1", "namespaces") else {
            return Ok(());
        };
        let (ns_obj, _) = self.get_object(&ns_served, None, ns).await?;
        if object::deletion_timestamp(&ns_obj).is_some()
            || ns_obj.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating")
        {
            return Err(ApiError::forbidden(format!(
                "unable to create new content in namespace {ns} because it is being terminated"
            ))
            .with_details(json!({
                "name": ns, "kind": "namespaces",
                "causes": [{"reason": "NamespaceTerminating", "message": format!("namespace {ns} is being terminated"), "field": "metadata.namespace"}]
            })));
        }
        Ok(())
    }

    /// Kind-specific admission on create (allocations that need server state).
    async fn admit_create(&self, served: &Served, obj: &mut Value) -> Result<(), ApiError> {
        if served.info.group.is_empty() && served.info.resource == "services" {
            let name = object::name(obj).unwrap_or_default().to_string();
            self.ips
                .allocate_for(obj, None)
                .map_err(|errs| invalid(served, &name, &errs))?;
        }
        Ok(())
    }

    fn release_allocations(&self, served: &Served, obj: &Value) {
        if served.info.group.is_empty() && served.info.resource == "services" {
            self.ips.release(obj);
        }
    }

    /// Reacts to a committed write (CRD registration, allocations).
    async fn after_write(&self, served: &Served, old: Option<&Value>, new: Option<&Value>) {
        if served.info.group == "apiextensions.k8s.io"
            && served.info.resource == "customresourcedefinitions"
        {
            match new {
                Some(crd) if object::deletion_timestamp(crd).is_none() => {
                    self.registry.install_crd(crd)
                }
                Some(crd) => {
                    // A terminating CRD stays served until its objects are gone; the CRD
                    // finalizer (run by the server) removes them.
                    self.spawn_crd_cleanup(crd.clone());
                }
                None => {
                    if let Some(name) = old.and_then(object::name) {
                        self.registry.remove_crd(name);
                    }
                }
            }
        }
        if served.info.group.is_empty()
            && served.info.resource == "services"
            && new.is_none()
            && let Some(old) = old
        {
            self.ips.release(old);
        }
    }

    /// Updates an object through `mutate`, retrying on conflicts unless `precondition_rv` pins
    /// the version. `mutate` gets the current object and returns the desired one.
    pub async fn update_object<F>(
        &self,
        served: &Arc<Served>,
        namespace: Option<&str>,
        name: &str,
        scope: UpdateScope,
        opts: &WriteOptions,
        mut mutate: F,
    ) -> Result<Written, ApiError>
    where
        F: FnMut(&Value) -> Result<Value, ApiError>,
    {
        let validation = opts.field_validation.unwrap_or(FieldValidation::Strict);
        for _attempt in 0..32 {
            let (current, kv) = self.get_object(served, namespace, name).await?;
            let desired = mutate(&current)?;
            let requested_rv = object::resource_version(&desired).map(str::to_string);
            if let Some(rv) = &requested_rv
                && rv != &kv.mod_revision.to_string()
            {
                return Err(ApiError::stale(
                    &served.info.group,
                    &served.info.resource,
                    name,
                ));
            }
            let (mut obj, warnings) = decode(served, desired, validation)?;
            self.prepare_update(served, &mut obj, &current, scope)?;
            if object::name(&obj) != Some(name) {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({}) does not match the name on the URL ({name})",
                    object::name(&obj).unwrap_or_default()
                )));
            }
            // Unconditional updates are validated as if the client had sent the current version.
            if object::resource_version(&obj).is_none() {
                object::set_resource_version(&mut obj, kv.mod_revision);
            }
            let errs = validate(served, &obj, Some(&current), scope);
            if !errs.is_empty() {
                return Err(invalid(served, name, &errs));
            }
            if served.info.group.is_empty() && served.info.resource == "services" {
                self.ips
                    .allocate_for(&mut obj, Some(&current))
                    .map_err(|errs| invalid(served, name, &errs))?;
            }
            // A write that changes nothing is not a write (no new resourceVersion).
            let mut cmp_new = obj.clone();
            let mut cmp_old = current.clone();
            for v in [&mut cmp_new, &mut cmp_old] {
                if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
                    m.remove("resourceVersion");
                }
            }
            if cmp_new == cmp_old {
                return Ok(Written {
                    object: current,
                    warnings,
                });
            }
            let finalized = object::deletion_timestamp(&obj).is_some()
                && object::finalizers(&obj).is_empty()
                && current
                    .pointer("/metadata/deletionGracePeriodSeconds")
                    .and_then(Value::as_i64)
                    == Some(0)
                && !namespace_spec_finalizers_pending(served, &obj);
            if opts.dry_run {
                return Ok(Written {
                    object: obj,
                    warnings,
                });
            }
            let key = served.key(namespace, name);
            if finalized {
                match self.store.delete(&key, Some(kv.mod_revision)).await {
                    Ok((_, rev)) => {
                        object::set_resource_version(&mut obj, rev);
                        self.after_write(served, Some(&current), None).await;
                        return Ok(Written {
                            object: obj,
                            warnings,
                        });
                    }
                    Err(StoreError::Conflict { .. }) if requested_rv.is_none() => continue,
                    Err(e) => return Err(map_store_error(served, name, e)),
                }
            }
            let bytes = to_storage(served, &obj)?;
            match self.store.update(&key, bytes, kv.mod_revision).await {
                Ok(new_kv) => {
                    object::set_resource_version(&mut obj, new_kv.mod_revision);
                    self.after_write(served, Some(&current), Some(&obj)).await;
                    return Ok(Written {
                        object: obj,
                        warnings,
                    });
                }
                Err(StoreError::Conflict { .. }) if requested_rv.is_none() => continue,
                Err(StoreError::NotFound(_)) => {
                    return Err(ApiError::not_found(
                        &served.info.group,
                        &served.info.resource,
                        name,
                    ));
                }
                Err(e) => return Err(map_store_error(served, name, e)),
            }
        }
        Err(ApiError::conflict(
            &served.info.group,
            &served.info.resource,
            name,
            "too many concurrent modifications, please try again",
        ))
    }

    /// Carries server-owned fields over from the current object and applies update semantics
    /// of the main resource or a subresource.
    fn prepare_update(
        &self,
        served: &Served,
        obj: &mut Value,
        current: &Value,
        scope: UpdateScope,
    ) -> Result<(), ApiError> {
        let cur_meta = current.get("metadata").cloned().unwrap_or(json!({}));
        match scope {
            UpdateScope::Status => {
                // Only status changes; metadata except a few fields and the rest come from the
                // current object (ResetObjectMetaForStatus).
                let status = obj.get("status").cloned();
                let mut new = current.clone();
                if let Some(m) = new.as_object_mut() {
                    match status {
                        Some(s) => m.insert("status".into(), s),
                        None => m.remove("status"),
                    };
                }
                *obj = new;
                return Ok(());
            }
            UpdateScope::Finalize => {
                let fin = obj.pointer("/spec/finalizers").cloned();
                let mut new = current.clone();
                if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
                    match fin {
                        Some(f) => spec.insert("finalizers".into(), f),
                        None => spec.remove("finalizers"),
                    };
                }
                *obj = new;
                return Ok(());
            }
            UpdateScope::Binding => {
                let node = obj.pointer("/spec/nodeName").cloned();
                let status = obj.get("status").cloned();
                let mut new = current.clone();
                if let (Some(n), Some(spec)) =
                    (node, new.get_mut("spec").and_then(Value::as_object_mut))
                {
                    spec.insert("nodeName".into(), n);
                }
                if let (Some(st), Some(m)) = (status, new.as_object_mut()) {
                    m.insert("status".into(), st);
                }
                *obj = new;
                return Ok(());
            }
            UpdateScope::Main => {}
        }
        {
            let m = meta_mut(obj);
            for f in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
            ] {
                match cur_meta.get(f) {
                    Some(v) => m.insert(f.into(), v.clone()),
                    None => m.remove(f),
                };
            }
            m.remove("selfLink");
            if served.info.namespaced {
                if let Some(ns) = cur_meta.get("namespace") {
                    m.insert("namespace".into(), ns.clone());
                }
            } else {
                m.remove("namespace");
            }
        }
        if !served.is_custom() {
            let (group, kind) = storage_group_kind(served);
            if served.info.group.is_empty() && served.info.resource == "services" {
                // Allocated values the client omitted are kept, as the Service REST does.
                defaults::prepare_service_update(obj, current);
            }
            defaults::apply_defaults(group, kind, obj);
        }
        if has_status_subresource(served)
            && let Some(m) = obj.as_object_mut()
        {
            match current.get("status") {
                Some(s) => m.insert("status".into(), s.clone()),
                None => m.remove("status"),
            };
        }
        if served.info.group == "apiextensions.k8s.io" {
            // Keep the current status (and its transition times) unless the names or stored
            // versions changed.
            let fresh = crd_status(obj);
            let cur = current.get("status");
            let same = cur.is_some_and(|c| {
                c.get("acceptedNames") == fresh.get("acceptedNames")
                    && c.get("storedVersions") == fresh.get("storedVersions")
            });
            let status = if same {
                cur.cloned().unwrap_or(fresh)
            } else {
                fresh
            };
            if let Some(m) = obj.as_object_mut() {
                m.insert("status".into(), status);
            }
        }
        if uses_generation(served) && object::spec_part(obj) != object::spec_part(current) {
            let gen_ = cur_meta
                .get("generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            meta_mut(obj).insert("generation".into(), json!(gen_ + 1));
        }
        Ok(())
    }

    /// Deletes an object with Kubernetes' graceful deletion, finalizers and propagation.
    /// Returns the object and whether it is gone from storage.
    pub async fn delete_object(
        &self,
        served: &Arc<Served>,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<(Value, bool), ApiError> {
        let info = &served.info;
        if info.group.is_empty()
            && info.resource == "namespaces"
            && ["default", "kube-system", "kube-public"].contains(&name)
        {
            return Err(ApiError::forbidden(format!(
                "namespaces \"{name}\" is forbidden: this namespace may not be deleted"
            ))
            .with_details(json!({"name": name, "kind": "namespaces"})));
        }
        for _attempt in 0..32 {
            let (current, kv) = self.get_object(served, namespace, name).await?;
            if let Some(uid) = &options.precondition_uid
                && object::uid(&current) != Some(uid.as_str())
            {
                return Err(ApiError::conflict(
                    &info.group,
                    &info.resource,
                    name,
                    &format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                        object::uid(&current).unwrap_or_default()
                    ),
                ));
            }
            if let Some(rv) = &options.precondition_rv
                && *rv != kv.mod_revision.to_string()
            {
                return Err(ApiError::conflict(
                    &info.group,
                    &info.resource,
                    name,
                    &format!(
                        "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                        kv.mod_revision
                    ),
                ));
            }
            let mut next = current.clone();
            let mut changed = false;
            // Propagation finalizers.
            let mut fins = object::finalizers(&next);
            let want = match options.propagation.as_deref() {
                Some("Orphan") => Some("orphan"),
                Some("Foreground") => Some("foregroundDeletion"),
                _ if options.orphan_dependents == Some(true) => Some("orphan"),
                _ => None,
            };
            if let Some(f) = want {
                let other = if f == "orphan" {
                    "foregroundDeletion"
                } else {
                    "orphan"
                };
                fins.retain(|x| x != other);
                if !fins.iter().any(|x| x == f) {
                    fins.push(f.to_string());
                }
                if fins != object::finalizers(&next) {
                    object::set_finalizers(&mut next, &fins);
                    changed = true;
                }
            } else if options.propagation.as_deref() == Some("Background") {
                let before = fins.len();
                fins.retain(|x| x != "orphan" && x != "foregroundDeletion");
                if fins.len() != before {
                    object::set_finalizers(&mut next, &fins);
                    changed = true;
                }
            }
            let grace = self.graceful_period(served, &current, options);
            let is_namespace = info.group.is_empty() && info.resource == "namespaces";
            let ns_pending = is_namespace
                && next
                    .pointer("/spec/finalizers")
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty());
            let already_deleting = object::deletion_timestamp(&current).is_some();
            let pending = !fins.is_empty() || grace > 0 || ns_pending;
            if pending {
                let m = meta_mut(&mut next);
                if !already_deleting {
                    m.insert("deletionTimestamp".into(), json!(object::rfc3339_in(grace)));
                    m.insert("deletionGracePeriodSeconds".into(), json!(grace));
                    changed = true;
                } else if grace > 0 {
                    // A shorter grace period may replace a longer one.
                    let cur = m
                        .get("deletionGracePeriodSeconds")
                        .and_then(Value::as_i64)
                        .unwrap_or(i64::MAX);
                    if grace < cur {
                        m.insert("deletionTimestamp".into(), json!(object::rfc3339_in(grace)));
                        m.insert("deletionGracePeriodSeconds".into(), json!(grace));
                        changed = true;
                    }
                }
                if is_namespace && let Some(o) = next.as_object_mut() {
                    let st = o.entry("status").or_insert_with(|| json!({}));
                    if st.get("phase").and_then(Value::as_str) != Some("Terminating") {
                        st["phase"] = json!("Terminating");
                        changed = true;
                    }
                }
                if options.dry_run {
                    return Ok((next, false));
                }
                if !changed {
                    return Ok((current, false));
                }
                let bytes = to_storage(served, &next)?;
                let key = served.key(namespace, name);
                match self.store.update(&key, bytes, kv.mod_revision).await {
                    Ok(new_kv) => {
                        object::set_resource_version(&mut next, new_kv.mod_revision);
                        self.after_write(served, Some(&current), Some(&next)).await;
                        return Ok((next, false));
                    }
                    Err(StoreError::Conflict { .. }) => continue,
                    Err(e) => return Err(map_store_error(served, name, e)),
                }
            }
            if options.dry_run {
                return Ok((current, true));
            }
            let key = served.key(namespace, name);
            match self.store.delete(&key, Some(kv.mod_revision)).await {
                Ok((_, rev)) => {
                    let mut gone = current.clone();
                    object::set_resource_version(&mut gone, rev);
                    self.after_write(served, Some(&current), None).await;
                    return Ok((gone, true));
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(map_store_error(served, name, e)),
            }
        }
        Err(ApiError::conflict(
            &info.group,
            &info.resource,
            name,
            "too many concurrent modifications, please try again",
        ))
    }

    /// The grace period a delete gets: pods bound to a node stop gracefully; everything else
    /// goes at once.
    fn graceful_period(&self, served: &Served, current: &Value, options: &DeleteOptions) -> i64 {
        if !(served.info.group.is_empty() && served.info.resource == "pods") {
            return 0;
        }
        let bound = current
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty());
        let phase = current.pointer("/status/phase").and_then(Value::as_str);
        if !bound || matches!(phase, Some("Succeeded") | Some("Failed")) {
            return 0;
        }
        let g = options.grace_period.unwrap_or_else(|| {
            current
                .pointer("/spec/terminationGracePeriodSeconds")
                .and_then(Value::as_i64)
                .unwrap_or(30)
        });
        // Kubernetes turns a requested 0 into 1 for bound pods unless forced; Berth's node
        // agent treats 1 as "now", so keep 0 meaning immediate as `--force --grace-period=0`.
        g.max(0)
    }

    /// Starts removing a terminating CRD's objects, then its finalizer.
    fn spawn_crd_cleanup(&self, crd: Value) {
        if let Some(tx) = self.crd_cleanup_tx.get() {
            let _ = tx.send(crd);
        }
    }
}

fn namespace_spec_finalizers_pending(served: &Served, obj: &Value) -> bool {
    served.info.group.is_empty()
        && served.info.resource == "namespaces"
        && obj
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
}

/// DeleteOptions from the body and query.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    pub grace_period: Option<i64>,
    pub propagation: Option<String>,
    pub orphan_dependents: Option<bool>,
    pub precondition_uid: Option<String>,
    pub precondition_rv: Option<String>,
    pub dry_run: bool,
}

/// The pod's QoS class, as `qos.GetPodQOS` computes it.
pub fn qos_class(pod: &Value) -> &'static str {
    let mut containers: Vec<&Value> = Vec::new();
    for key in ["containers", "initContainers"] {
        if let Some(a) = pod
            .pointer(&format!("/spec/{key}"))
            .and_then(Value::as_array)
        {
            containers.extend(a.iter());
        }
    }
    let mut any = false;
    let mut guaranteed = true;
    for c in &containers {
        let req = c.pointer("/resources/requests").and_then(Value::as_object);
        let lim = c.pointer("/resources/limits").and_then(Value::as_object);
        for r in ["cpu", "memory"] {
            let rq = req.and_then(|m| m.get(r));
            let lm = lim.and_then(|m| m.get(r));
            if rq.is_some() || lm.is_some() {
                any = true;
            }
            match (rq, lm) {
                (_, None) => guaranteed = false,
                (Some(a), Some(b)) if a != b => guaranteed = false,
                _ => {}
            }
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// A CRD's status as the apiextensions controllers would set it: names accepted, Established.
fn crd_status(crd: &Value) -> Value {
    let names = crd.pointer("/spec/names").cloned().unwrap_or(json!({}));
    let now = object::now_rfc3339();
    let stored: Vec<Value> = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
                .filter_map(|v| v.get("name").cloned())
                .collect()
        })
        .unwrap_or_default();
    let mut accepted = names.clone();
    if let Some(m) = accepted.as_object_mut()
        && m.get("singular")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
        && let Some(kind) = m.get("kind").and_then(Value::as_str)
    {
        let s = kind.to_lowercase();
        m.insert("singular".into(), json!(s));
    }
    json!({
        "acceptedNames": accepted,
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": now},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": now},
        ],
        "storedVersions": stored,
    })
}
