//! Validation, defaulting and create/update preparation of `CustomResourceDefinition` objects
//! (`apiextensions.k8s.io/v1`), following `pkg/apis/apiextensions/validation` and the CRD
//! registry strategy of the apiextensions-apiserver.
//!
//! Upstream validates the *internal* form of the CRD, into which the v1 object is converted
//! first: when every version has the same schema (or subresources, or printer columns), that
//! value is hoisted to `spec.validation` (`spec.subresources`, `spec.additionalPrinterColumns`)
//! and errors about it carry that path, e.g.
//! `spec.validation.openAPIV3Schema.properties[spec].type: Required value: ...`. This module
//! reproduces that conversion so messages match.

use crate::gofmt::{self, Path, go_quote};
use crate::names;
use crate::schema::{GO_FIELDS, Schema, is_go_zero};
use crate::structural::{self, Opts, Ssv};
use crate::validate::json_equal;
use berth_apimachinery::status::{FieldError, FieldErrorKind};
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------------------------
// Small JSON accessors.

fn non_null(v: Option<&Value>) -> Option<&Value> {
    v.filter(|x| !x.is_null())
}

fn str_at<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or_default()
}

fn bool_at(v: &Value, ptr: &str) -> bool {
    v.pointer(ptr).and_then(Value::as_bool).unwrap_or(false)
}

fn array_at<'a>(v: &'a Value, ptr: &str) -> &'a [Value] {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn strings_at(v: &Value, ptr: &str) -> Vec<String> {
    array_at(v, ptr)
        .iter()
        .map(|x| x.as_str().unwrap_or_default().to_string())
        .collect()
}

/// Equality of optional JSON values, `None`/`null` being Go's nil.
fn opt_equal(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => json_equal(x, y),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Defaulting and strategy preparation.

/// `SetDefaults_CustomResourceDefinition` of `apiextensions.k8s.io/v1`: `names.singular`
/// (lower-cased kind), `names.listKind` (`<Kind>List`), `conversion.strategy: None`, the port
/// 443 of a conversion webhook service, and `status.storedVersions` when empty.
pub fn default_crd(crd: &mut Value) {
    let Value::Object(root) = crd else {
        return;
    };
    let spec = root
        .entry("spec")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(spec) = spec {
        if let Some(Value::Object(names)) = spec.get_mut("names") {
            let kind = names
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let singular_empty = names
                .get("singular")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty);
            if singular_empty {
                names.insert("singular".into(), Value::String(kind.to_lowercase()));
            }
            let list_kind_empty = names
                .get("listKind")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty);
            if list_kind_empty && !kind.is_empty() {
                names.insert("listKind".into(), Value::String(format!("{kind}List")));
            }
        }
        if non_null(spec.get("conversion")).is_none() {
            spec.insert("conversion".into(), json!({"strategy": "None"}));
        }
        if let Some(Value::Object(svc)) = spec
            .get_mut("conversion")
            .and_then(|c| c.pointer_mut("/webhook/clientConfig/service"))
            && non_null(svc.get("port")).is_none()
        {
            svc.insert("port".into(), json!(443));
        }
    }
    let storage = storage_version_of(crd);
    if let (Some(storage), Value::Object(root)) = (storage, crd) {
        let status = root
            .entry("status")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(status) = status {
            let empty = status
                .get("storedVersions")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty);
            if empty {
                status.insert("storedVersions".into(), json!([storage]));
            }
        }
    }
}

fn storage_version_of(crd: &Value) -> Option<String> {
    array_at(crd, "/spec/versions")
        .iter()
        .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .and_then(|v| v.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// What the CRD strategy does before a create (`PrepareForCreate`): the status is reset and
/// `status.storedVersions` starts with the storage version; `metadata.generation` is 1.
pub fn prepare_crd_for_create(crd: &mut Value) {
    let storage = storage_version_of(crd);
    if let Value::Object(root) = crd {
        let status = match storage {
            Some(sv) => json!({ "storedVersions": [sv] }),
            None => json!({}),
        };
        root.insert("status".into(), status);
        if let Value::Object(meta) = root
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()))
        {
            meta.insert("generation".into(), json!(1));
        }
    }
}

/// What the CRD strategy does before an update (`PrepareForUpdate`): the status is kept from
/// the old object, the (new) storage version is appended to `status.storedVersions`, and the
/// generation is incremented when the spec changed.
pub fn prepare_crd_for_update(new: &mut Value, old: &Value) {
    let storage = storage_version_of(new);
    let spec_changed = !opt_equal(non_null(new.get("spec")), non_null(old.get("spec")));
    let old_generation = old
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let mut status = non_null(old.get("status"))
        .cloned()
        .unwrap_or_else(|| json!({}));
    if let (Some(sv), Value::Object(st)) = (storage, &mut status) {
        let stored = st
            .entry("storedVersions")
            .or_insert_with(|| Value::Array(Vec::new()));
        if !stored.is_array() {
            *stored = Value::Array(Vec::new());
        }
        if let Value::Array(list) = stored
            && !list.iter().any(|x| x.as_str() == Some(&sv))
        {
            list.push(Value::String(sv));
        }
    }
    if let Value::Object(root) = new {
        root.insert("status".into(), status);
        if let Value::Object(meta) = root
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()))
        {
            let generation = if spec_changed {
                old_generation + 1
            } else {
                old_generation
            };
            meta.insert("generation".into(), json!(generation));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The internal view of a v1 CRD (after conversion, with hoisting).

struct VersionView<'a> {
    name: &'a str,
    served: bool,
    storage: bool,
    deprecated: bool,
    deprecation_warning: Option<&'a Value>,
    schema: Option<&'a Value>,
    subresources: Option<&'a Value>,
    columns: &'a [Value],
    selectable_fields: &'a [Value],
}

struct SpecView<'a> {
    group: &'a str,
    scope: &'a str,
    names: &'a Value,
    versions: Vec<VersionView<'a>>,
    validation: Option<&'a Value>,
    subresources: Option<&'a Value>,
    columns: &'a [Value],
    selectable_fields: &'a [Value],
    conversion: Option<&'a Value>,
    preserve_unknown_fields: bool,
}

static NULL: Value = Value::Null;

fn spec_view(crd: &Value) -> SpecView<'_> {
    let spec = crd.get("spec").unwrap_or(&NULL);
    let mut versions: Vec<VersionView> = array_at(spec, "/versions")
        .iter()
        .map(|v| VersionView {
            name: str_at(v, "/name"),
            served: bool_at(v, "/served"),
            storage: bool_at(v, "/storage"),
            deprecated: bool_at(v, "/deprecated"),
            deprecation_warning: non_null(v.get("deprecationWarning")),
            schema: non_null(v.get("schema")),
            subresources: non_null(v.get("subresources")),
            columns: array_at(v, "/additionalPrinterColumns"),
            selectable_fields: array_at(v, "/selectableFields"),
        })
        .collect();
    let mut view = SpecView {
        group: str_at(spec, "/group"),
        scope: str_at(spec, "/scope"),
        names: spec.get("names").unwrap_or(&NULL),
        versions: Vec::new(),
        validation: None,
        subresources: None,
        columns: &[],
        selectable_fields: &[],
        conversion: non_null(spec.get("conversion")),
        preserve_unknown_fields: bool_at(spec, "/preserveUnknownFields"),
    };
    if let Some(first) = versions.first() {
        let (schema0, subs0, cols0, sel0) = (
            first.schema,
            first.subresources,
            first.columns,
            first.selectable_fields,
        );
        let schema_same = versions.iter().all(|v| opt_equal(v.schema, schema0));
        let subs_same = versions.iter().all(|v| opt_equal(v.subresources, subs0));
        let cols_same = versions.iter().all(|v| {
            v.columns.len() == cols0.len()
                && v.columns.iter().zip(cols0).all(|(a, b)| json_equal(a, b))
        });
        let sel_same = versions.iter().all(|v| {
            v.selectable_fields.len() == sel0.len()
                && v.selectable_fields
                    .iter()
                    .zip(sel0)
                    .all(|(a, b)| json_equal(a, b))
        });
        if schema_same {
            view.validation = schema0;
        }
        if subs_same {
            view.subresources = subs0;
        }
        if cols_same {
            view.columns = cols0;
        }
        if sel_same {
            view.selectable_fields = sel0;
        }
        for v in &mut versions {
            if schema_same {
                v.schema = None;
            }
            if subs_same {
                v.subresources = None;
            }
            if cols_same {
                v.columns = &[];
            }
            if sel_same {
                v.selectable_fields = &[];
            }
        }
    }
    view.versions = versions;
    view
}

impl<'a> SpecView<'a> {
    fn has_per_version_subresources(&self) -> bool {
        self.versions.iter().any(|v| v.subresources.is_some())
    }

    fn subresources_for(&self, v: &VersionView<'a>) -> Option<&'a Value> {
        if self.has_per_version_subresources() {
            v.subresources
        } else {
            self.subresources
        }
    }

    fn has_any_status(&self) -> bool {
        has_status(self.subresources) || self.versions.iter().any(|v| has_status(v.subresources))
    }

    /// The schemas of the CRD: the hoisted one and the per-version ones.
    fn schemas(&self) -> Vec<&'a Value> {
        let mut out = Vec::new();
        let mut push = |val: Option<&'a Value>| {
            if let Some(s) = val.and_then(|v| non_null(v.get("openAPIV3Schema"))) {
                out.push(s);
            }
        };
        push(self.validation);
        for v in &self.versions {
            push(v.schema);
        }
        out
    }

    fn any_schema(&self, pred: &dyn Fn(&Schema) -> bool) -> bool {
        self.schemas()
            .into_iter()
            .filter_map(|raw| Schema::parse(raw).ok())
            .any(|s| structural::schema_has(&s, pred))
    }
}

fn has_status(subresources: Option<&Value>) -> bool {
    subresources.is_some_and(|s| non_null(s.get("status")).is_some())
}

/// Go's `%#v` of the internal `[]CustomResourceDefinitionVersion`.
fn render_versions(versions: &[VersionView]) -> String {
    if versions.is_empty() {
        return "[]apiextensions.CustomResourceDefinitionVersion(nil)".into();
    }
    let items: Vec<String> = versions.iter().map(render_version).collect();
    format!(
        "[]apiextensions.CustomResourceDefinitionVersion{{{}}}",
        items.join(", ")
    )
}

fn render_pointer(ty: &str, set: bool) -> String {
    if set {
        format!("({ty})(0xc000000000)")
    } else {
        format!("({ty})(nil)")
    }
}

fn render_version(v: &VersionView) -> String {
    let columns = if v.columns.is_empty() {
        "[]apiextensions.CustomResourceColumnDefinition(nil)".to_string()
    } else {
        let cols: Vec<String> = v
            .columns
            .iter()
            .map(|c| {
                format!(
                    "apiextensions.CustomResourceColumnDefinition{{Name:{}, Type:{}, Format:{}, Description:{}, Priority:{}, JSONPath:{}}}",
                    go_quote(str_at(c, "/name")),
                    go_quote(str_at(c, "/type")),
                    go_quote(str_at(c, "/format")),
                    go_quote(str_at(c, "/description")),
                    c.get("priority").and_then(Value::as_i64).unwrap_or(0),
                    go_quote(str_at(c, "/jsonPath")),
                )
            })
            .collect();
        format!(
            "[]apiextensions.CustomResourceColumnDefinition{{{}}}",
            cols.join(", ")
        )
    };
    let selectable = if v.selectable_fields.is_empty() {
        "[]apiextensions.SelectableField(nil)".to_string()
    } else {
        let f: Vec<String> = v
            .selectable_fields
            .iter()
            .map(|s| {
                format!(
                    "apiextensions.SelectableField{{JSONPath:{}}}",
                    go_quote(str_at(s, "/jsonPath"))
                )
            })
            .collect();
        format!("[]apiextensions.SelectableField{{{}}}", f.join(", "))
    };
    format!(
        "apiextensions.CustomResourceDefinitionVersion{{Name:{}, Served:{}, Storage:{}, Deprecated:{}, DeprecationWarning:{}, Schema:{}, Subresources:{}, AdditionalPrinterColumns:{}, SelectableFields:{}}}",
        go_quote(v.name),
        v.served,
        v.storage,
        v.deprecated,
        render_pointer("*string", v.deprecation_warning.is_some()),
        render_pointer(
            "*apiextensions.CustomResourceValidation",
            v.schema.is_some()
        ),
        render_pointer(
            "*apiextensions.CustomResourceSubresources",
            v.subresources.is_some()
        ),
        columns,
        selectable,
    )
}

fn render_strings(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|s| go_quote(s)).collect();
    format!("[]string{{{}}}", items.join(", "))
}

// ---------------------------------------------------------------------------------------------
// Validation entry points.

/// Validates a CRD for creation as the apiextensions-apiserver does
/// (`ValidateCustomResourceDefinition`, after v1 defaulting and `PrepareForCreate`, which are
/// applied to a copy here). Generic ObjectMeta checks (name syntax, labels, annotations) are
/// left to the caller's object-meta validation; this adds the CRD-specific name rule
/// (`metadata.name: Invalid value: "x": must be spec.names.plural+"."+spec.group`).
pub fn validate_crd(crd: &Value) -> Vec<FieldError> {
    let mut c = crd.clone();
    default_crd(&mut c);
    prepare_crd_for_create(&mut c);
    let spec = spec_view(&c);
    let mut errs = Vec::new();
    name_errors(&c, &spec, &mut errs);
    errs.extend(validate_spec(&spec, Opts::create()));
    errs.extend(validate_status(&c));
    errs.extend(stored_versions(&c, &spec));
    errs.extend(api_approval(&c, None));
    errs.extend(preserve_unknown_fields_errors(&c, None));
    errs
}

/// Validates a CRD update (`ValidateCustomResourceDefinitionUpdate`, after v1 defaulting and
/// `PrepareForUpdate` applied to a copy of `new`): everything [`validate_crd`] checks on the
/// spec, relaxed where the old object already violated a newer rule, plus immutability:
/// `spec.group` and `spec.names.plural` never change; `spec.scope` and `spec.names.kind` do not
/// change once the old CRD is `Established`. `status.storedVersions` must keep listing
/// versions present in `spec.versions`.
pub fn validate_crd_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut n = new.clone();
    default_crd(&mut n);
    let mut o = old.clone();
    default_crd(&mut o);
    prepare_crd_for_update(&mut n, &o);
    let spec = spec_view(&n);
    let old_spec = spec_view(&o);
    let opts = update_opts(&o, &old_spec);
    let mut errs = validate_spec(&spec, opts);
    let p = Path::new("spec");
    if opts.require_immutable_names {
        immutable(&p.child("scope"), spec.scope, old_spec.scope, &mut errs);
        immutable(
            &p.child("names").child("kind"),
            str_at(spec.names, "/kind"),
            str_at(old_spec.names, "/kind"),
            &mut errs,
        );
    }
    immutable(&p.child("group"), spec.group, old_spec.group, &mut errs);
    immutable(
        &p.child("names").child("plural"),
        str_at(spec.names, "/plural"),
        str_at(old_spec.names, "/plural"),
        &mut errs,
    );
    errs.extend(validate_status(&n));
    errs.extend(stored_versions(&n, &spec));
    errs.extend(api_approval(&n, Some(&o)));
    errs.extend(preserve_unknown_fields_errors(&n, Some(&o)));
    errs
}

fn immutable(p: &Path, new: &str, old: &str, errs: &mut Vec<FieldError>) {
    if new != old {
        errs.push(gofmt::invalid_str(p, new, "field is immutable"));
    }
}

fn is_established(crd: &Value) -> bool {
    array_at(crd, "/status/conditions").iter().any(|c| {
        c.get("type").and_then(Value::as_str) == Some("Established")
            && c.get("status").and_then(Value::as_str) == Some("True")
    })
}

fn update_opts(old: &Value, old_spec: &SpecView) -> Opts {
    let conversion_ok = match old_spec.conversion {
        None => true,
        Some(c) => {
            let versions = strings_at(c, "/webhook/conversionReviewVersions");
            versions.is_empty()
                || versions
                    .iter()
                    .any(|v| ACCEPTED_CONVERSION_REVIEW_VERSIONS.contains(&v.as_str()))
        }
    };
    let all_schemas = old_spec
        .validation
        .and_then(|v| non_null(v.get("openAPIV3Schema")))
        .is_some()
        || old_spec.versions.iter().all(|v| {
            v.schema
                .and_then(|s| non_null(s.get("openAPIV3Schema")))
                .is_some()
        });
    let non_structural = old_spec
        .schemas()
        .into_iter()
        .any(|raw| match Schema::parse(raw) {
            Err(_) => true,
            Ok(s) => !structural::validate_structural(&s, &Path::default()).is_empty(),
        });
    let invalid_types = old_spec.any_schema(&|s| {
        !s.type_.is_empty()
            && !["string", "number", "integer", "boolean", "array", "object"]
                .contains(&s.type_.as_str())
    });
    let unpruned_defaults = old_spec.schemas().into_iter().any(|raw| {
        let Ok(s) = Schema::parse(raw) else {
            return false;
        };
        if !structural::validate_structural(&s, &Path::default()).is_empty() {
            return false;
        }
        structural::validate_defaults(&s, &Path::default(), true)
            .iter()
            .any(|e| e.detail == "must not have unknown fields")
    });
    let non_atomic_set = old_spec.any_schema(&|s| {
        s.x_list_type.as_deref() == Some("set")
            && s.items.as_ref().is_some_and(|is| match is.type_.as_str() {
                "array" => is.x_list_type.as_ref().is_some_and(|t| t != "atomic"),
                "object" => is.x_map_type.as_deref() != Some("atomic"),
                _ => false,
            })
    });
    let invalid_map_list_keys = old_spec.any_schema(&|s| {
        let (Some(items), Some(lt)) = (&s.items, &s.x_list_type) else {
            return false;
        };
        if lt != "set" && lt != "map" {
            return false;
        }
        items.nullable
            || (lt == "map"
                && s.x_list_map_keys.iter().any(|k| {
                    items.properties.get(k).is_some_and(|ks| {
                        (!items.required.contains(k) && ks.default.is_none()) || ks.nullable
                    })
                }))
    });
    Opts {
        allow_defaults: true,
        require_recognized_conversion_review_version: conversion_ok,
        require_immutable_names: is_established(old),
        require_open_api_schema: all_schemas,
        require_valid_property_type: !invalid_types,
        require_structural_schema: !non_structural,
        require_pruned_defaults: !unpruned_defaults,
        require_atomic_set_type: !non_atomic_set,
        require_map_list_keys_map_set_validation: !invalid_map_list_keys,
    }
}

fn name_errors(crd: &Value, spec: &SpecView, errs: &mut Vec<FieldError>) {
    let required = format!("{}.{}", str_at(spec.names, "/plural"), spec.group);
    let msg = r#"must be spec.names.plural+"."+spec.group"#;
    let meta = Path::new("metadata");
    let generate_name = str_at(crd, "/metadata/generateName");
    if !generate_name.is_empty() && generate_name != required {
        errs.push(gofmt::invalid_str(
            &meta.child("generateName"),
            generate_name,
            msg,
        ));
    }
    let name = str_at(crd, "/metadata/name");
    if !name.is_empty() && name != required {
        errs.push(gofmt::invalid_str(&meta.child("name"), name, msg));
    }
}

const ACCEPTED_CONVERSION_REVIEW_VERSIONS: &[&str] = &["v1", "v1beta1"];

fn validate_spec(spec: &SpecView, mut opts: Opts) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let p = Path::new("spec");

    if spec.group.is_empty() {
        errs.push(gofmt::required(&p.child("group"), ""));
    } else {
        let dns = names::dns1123_subdomain(spec.group);
        if !dns.is_empty() {
            errs.push(gofmt::invalid_str(
                &p.child("group"),
                spec.group,
                dns.join(","),
            ));
        } else if spec.group.split('.').count() < 2 {
            errs.push(gofmt::invalid_str(
                &p.child("group"),
                spec.group,
                "should be a domain with at least one dot",
            ));
        }
    }

    match spec.scope {
        "" => errs.push(gofmt::required(&p.child("scope"), "")),
        "Cluster" | "Namespaced" => {}
        other => errs.push(gofmt::not_supported(
            &p.child("scope"),
            other,
            &["Cluster", "Namespaced"],
        )),
    }

    if !spec.preserve_unknown_fields {
        opts.require_structural_schema = true;
    }

    let top_schema = spec
        .validation
        .and_then(|v| non_null(v.get("openAPIV3Schema")));
    if opts.require_open_api_schema {
        if top_schema.is_none() {
            for (i, v) in spec.versions.iter().enumerate() {
                if v.schema
                    .and_then(|s| non_null(s.get("openAPIV3Schema")))
                    .is_none()
                {
                    errs.push(gofmt::required(
                        &p.child("versions")
                            .index(i)
                            .child("schema")
                            .child("openAPIV3Schema"),
                        "schemas are required",
                    ));
                }
            }
        }
    } else if !spec.preserve_unknown_fields && top_schema.is_none() {
        for (i, v) in spec.versions.iter().enumerate() {
            if v.served
                && v.schema
                    .and_then(|s| non_null(s.get("openAPIV3Schema")))
                    .is_none()
            {
                errs.push(gofmt::required(
                    &p.child("versions")
                        .index(i)
                        .child("schema")
                        .child("openAPIV3Schema"),
                    "because otherwise all fields are pruned",
                ));
            }
        }
    }
    if opts.allow_defaults && spec.any_schema(&|s| s.default.is_some()) {
        opts.require_structural_schema = true;
        if spec.preserve_unknown_fields {
            errs.push(gofmt::invalid(
                &p.child("preserveUnknownFields"),
                &Value::Bool(true),
                "must be false in order to use defaults in the schema",
            ));
        }
    }

    let mut storage_count = 0;
    let mut seen: Vec<&str> = Vec::new();
    let mut unique = true;
    for (i, v) in spec.versions.iter().enumerate() {
        if v.storage {
            storage_count += 1;
        }
        if seen.contains(&v.name) {
            unique = false;
        } else {
            seen.push(v.name);
        }
        let vp = p.child("versions").index(i);
        let dns = names::dns1035_label(v.name);
        if !dns.is_empty() {
            errs.push(gofmt::invalid_str(&vp.child("name"), v.name, dns.join(",")));
        }
        let status_enabled = has_status(spec.subresources_for(v));
        validate_version(v, &vp, status_enabled, &opts, &mut errs);
    }
    if !unique {
        errs.push(gofmt::rendered_error(
            FieldErrorKind::Invalid,
            p.child("versions").as_str(),
            render_versions(&spec.versions),
            "must contain unique version names",
        ));
    }
    if storage_count != 1 {
        errs.push(gofmt::rendered_error(
            FieldErrorKind::Invalid,
            p.child("versions").as_str(),
            render_versions(&spec.versions),
            "must have exactly one version marked as storage version",
        ));
    }
    // The internal `spec.version` is the first version's name.
    if let Some(first) = spec.versions.first()
        && !first.name.is_empty()
    {
        let dns = names::dns1035_label(first.name);
        if !dns.is_empty() {
            errs.push(gofmt::invalid_str(
                &p.child("version"),
                first.name,
                dns.join(","),
            ));
        }
    }

    let np = p.child("names");
    for (field, ptr) in [
        ("plural", "/plural"),
        ("singular", "/singular"),
        ("kind", "/kind"),
        ("listKind", "/listKind"),
    ] {
        if str_at(spec.names, ptr).is_empty() {
            errs.push(gofmt::required(&np.child(field), ""));
        }
    }
    validate_names(spec.names, &np, &mut errs);

    validate_validation(
        spec.validation,
        spec.has_any_status(),
        &opts,
        &p.child("validation"),
        &mut errs,
    );
    validate_subresources(spec.subresources, &p.child("subresources"), &mut errs);
    for (i, c) in spec.columns.iter().enumerate() {
        validate_column(c, &p.child("additionalPrinterColumns").index(i), &mut errs);
    }
    if !spec.selectable_fields.is_empty() {
        match spec.validation {
            None => errs.push(gofmt::invalid_str(
                &p.child("selectableFields"),
                "",
                "selectableFields may only be set when validations.schema is included",
            )),
            Some(val) => {
                let schema = non_null(val.get("openAPIV3Schema"))
                    .and_then(|raw| Schema::parse(raw).ok())
                    .unwrap_or_default();
                validate_selectable_fields(
                    spec.selectable_fields,
                    &schema,
                    &p.child("selectableFields"),
                    &mut errs,
                );
            }
        }
    }

    let conv = spec.conversion;
    let strategy = conv.map(|c| str_at(c, "/strategy")).unwrap_or_default();
    if conv.is_some() && strategy != "None" && spec.preserve_unknown_fields {
        errs.push(gofmt::invalid_str(
            &p.child("conversion").child("strategy"),
            strategy,
            "must be None if spec.preserveUnknownFields is true",
        ));
    }
    if let Some(c) = conv {
        validate_conversion(
            c,
            opts.require_recognized_conversion_review_version,
            &p.child("conversion"),
            &mut errs,
        );
    }
    errs
}

fn validate_version(
    v: &VersionView,
    p: &Path,
    status_enabled: bool,
    opts: &Opts,
    errs: &mut Vec<FieldError>,
) {
    let warning = v
        .deprecation_warning
        .map(|w| w.as_str().unwrap_or_default());
    if let Some(w) = warning {
        let wp = p.child("deprecationWarning");
        if !v.deprecated {
            errs.push(gofmt::invalid_str(
                &wp,
                w,
                "can only be set for deprecated versions",
            ));
        } else {
            if w.len() > 256 {
                errs.push(gofmt::invalid_str(&wp, w, "must be <= 256 characters long"));
            }
            if w.is_empty() {
                errs.push(gofmt::invalid_str(&wp, w, "must not be an empty string"));
            }
            for (i, c) in w.char_indices() {
                // Go's unicode.IsPrint: no control characters and no spaces other than ' '.
                if c.is_control() || (c.is_whitespace() && c != ' ') {
                    errs.push(gofmt::invalid_str(
                        &wp,
                        w,
                        format!(
                            "must only contain printable UTF-8 characters; non-printable character found at index {i}"
                        ),
                    ));
                    break;
                }
            }
        }
    }
    validate_validation(v.schema, status_enabled, opts, &p.child("schema"), errs);
    validate_subresources(v.subresources, &p.child("subresources"), errs);
    for (i, c) in v.columns.iter().enumerate() {
        validate_column(c, &p.child("additionalPrinterColumns").index(i), errs);
    }
    if !v.selectable_fields.is_empty() {
        match v.schema.and_then(|sc| non_null(sc.get("openAPIV3Schema"))) {
            None => errs.push(gofmt::invalid_str(
                &p.child("selectableFields"),
                "",
                "selectableFields may only be set when version.schema.openAPIV3Schema is not included",
            )),
            Some(raw) => {
                if let Ok(schema) = Schema::parse(raw) {
                    validate_selectable_fields(
                        v.selectable_fields,
                        &schema,
                        &p.child("selectableFields"),
                        errs,
                    );
                }
            }
        }
    }
}

const MAX_SELECTABLE_FIELDS: usize = 8;

/// `ValidateCustomResourceSelectableFields`.
fn validate_selectable_fields(
    fields: &[Value],
    schema: &Schema,
    p: &Path,
    errs: &mut Vec<FieldError>,
) {
    let mut unique: Vec<String> = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let jp = str_at(f, "/jsonPath");
        let fp = p.index(i).child("jsonPath");
        if jp.is_empty() {
            errs.push(gofmt::required(&fp, ""));
            continue;
        }
        let target = match structural::valid_field_path(jp, schema, false) {
            Ok(t) => t,
            Err(e) => {
                errs.push(gofmt::invalid_str(
                    &fp,
                    jp,
                    format!("is an invalid path: {e}"),
                ));
                continue;
            }
        };
        if target.root == "metadata" {
            errs.push(gofmt::invalid_str(
                &fp,
                jp,
                "must not point to fields in metadata",
            ));
        }
        let allowed = target
            .schema
            .is_some_and(|s| matches!(s.type_.as_str(), "string" | "boolean" | "integer"));
        if !allowed {
            errs.push(gofmt::invalid_str(
                &fp,
                jp,
                "must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.",
            ));
        }
        if unique.contains(&target.path) {
            errs.push(gofmt::duplicate(&fp, &Value::String(jp.to_string())));
        } else {
            unique.push(target.path);
        }
    }
    if unique.len() > MAX_SELECTABLE_FIELDS {
        errs.push(FieldError::new(
            FieldErrorKind::TooMany,
            p.as_str(),
            Some(json!(unique.len())),
            format!("must have at most {MAX_SELECTABLE_FIELDS} items"),
        ));
    }
}

/// `ValidateCustomResourceDefinitionNames`.
fn validate_names(names: &Value, p: &Path, errs: &mut Vec<FieldError>) {
    let plural = str_at(names, "/plural");
    let singular = str_at(names, "/singular");
    let kind = str_at(names, "/kind");
    let list_kind = str_at(names, "/listKind");
    for (field, value) in [("plural", plural), ("singular", singular)] {
        let e = names::dns1035_label(value);
        if !value.is_empty() && !e.is_empty() {
            errs.push(gofmt::invalid_str(&p.child(field), value, e.join(",")));
        }
    }
    for (field, value) in [("kind", kind), ("listKind", list_kind)] {
        let e = names::dns1035_label(&value.to_lowercase());
        if !value.is_empty() && !e.is_empty() {
            errs.push(gofmt::invalid_str(
                &p.child(field),
                value,
                format!(
                    "may have mixed case, but should otherwise match: {}",
                    e.join(",")
                ),
            ));
        }
    }
    for (i, s) in strings_at(names, "/shortNames").iter().enumerate() {
        let e = names::dns1035_label(s);
        if !e.is_empty() {
            errs.push(gofmt::invalid_str(
                &p.child("shortNames").index(i),
                s,
                e.join(","),
            ));
        }
    }
    if !kind.is_empty() && kind == list_kind {
        errs.push(gofmt::invalid_str(
            &p.child("listKind"),
            list_kind,
            "kind and listKind may not be the same",
        ));
    }
    for (i, s) in strings_at(names, "/categories").iter().enumerate() {
        let e = names::dns1035_label(s);
        if !e.is_empty() {
            errs.push(gofmt::invalid_str(
                &p.child("categories").index(i),
                s,
                e.join(","),
            ));
        }
    }
}

const ALLOWED_AT_ROOT_WITH_STATUS: &[&str] = &[
    "Description",
    "Type",
    "Format",
    "Title",
    "Maximum",
    "ExclusiveMaximum",
    "Minimum",
    "ExclusiveMinimum",
    "MaxLength",
    "MinLength",
    "Pattern",
    "MaxItems",
    "MinItems",
    "UniqueItems",
    "MultipleOf",
    "Required",
    "Items",
    "Properties",
    "ExternalDocs",
    "Example",
    "XPreserveUnknownFields",
    "XValidations",
];

/// `validateCustomResourceDefinitionValidation` for one `CustomResourceValidation`.
fn validate_validation(
    validation: Option<&Value>,
    status_enabled: bool,
    opts: &Opts,
    p: &Path,
    errs: &mut Vec<FieldError>,
) {
    let Some(raw) = validation.and_then(|v| non_null(v.get("openAPIV3Schema"))) else {
        return;
    };
    let sp = p.child("openAPIV3Schema");
    let schema = match Schema::parse(raw) {
        Ok(s) => s,
        Err(e) => {
            errs.push(gofmt::invalid_str(&sp, "", e));
            return;
        }
    };
    if status_enabled && let Value::Object(m) = raw {
        for (key, go) in GO_FIELDS {
            let Some(v) = m.get(*key) else {
                continue;
            };
            if is_go_zero(key, v) {
                continue;
            }
            if *go == "Type" {
                if schema.type_ != "object" {
                    errs.push(gofmt::invalid_str(
                            &p.child("openAPIV3Schema.type"),
                            &schema.type_,
                            r#"only "object" is allowed as the type at the root of the schema if the status subresource is enabled"#,
                        ));
                    break;
                }
                continue;
            }
            if !ALLOWED_AT_ROOT_WITH_STATUS.contains(go) {
                errs.push(gofmt::invalid(
                        &sp,
                        raw,
                        format!(
                            "only [{}] fields are allowed at the root of the schema if the status subresource is enabled",
                            ALLOWED_AT_ROOT_WITH_STATUS.join(" ")
                        ),
                    ));
                break;
            }
        }
    }
    if schema.nullable {
        errs.push(gofmt::forbidden(
            &p.child("openAPIV3Schema.nullable"),
            "nullable cannot be true at the root",
        ));
    }
    // Structural errors (and, without them, default errors) come first in 1.33.
    if opts.require_structural_schema {
        let serrs = structural::validate_structural(&schema, &sp);
        if !serrs.is_empty() {
            errs.extend(serrs);
        } else {
            errs.extend(structural::validate_defaults(
                &schema,
                &sp,
                opts.require_pruned_defaults,
            ));
        }
    }
    let ssv = Ssv {
        allow_defaults: opts.allow_defaults,
        disallow_defaults_reason: String::new(),
        inside_resource_meta: false,
        require_valid_property_type: opts.require_valid_property_type,
    };
    structural::openapi_schema(&schema, &sp, &ssv, true, opts, errs);
}

fn simple_json_path(s: &str, p: &Path, errs: &mut Vec<FieldError>) -> bool {
    if s.is_empty() {
        errs.push(gofmt::invalid_str(p, s, "must not be empty"));
        false
    } else if !s.starts_with('.') {
        errs.push(gofmt::invalid_str(
            p,
            s,
            "must be a simple json path starting with .",
        ));
        false
    } else {
        true
    }
}

/// `ValidateCustomResourceDefinitionSubresources`.
fn validate_subresources(subresources: Option<&Value>, p: &Path, errs: &mut Vec<FieldError>) {
    let Some(scale) = subresources.and_then(|s| non_null(s.get("scale"))) else {
        return;
    };
    let spec_path = str_at(scale, "/specReplicasPath");
    let sp = p.child("scale.specReplicasPath");
    if spec_path.is_empty() {
        errs.push(gofmt::required(&sp, ""));
    } else if simple_json_path(spec_path, &sp, errs) && !spec_path.starts_with(".spec.") {
        errs.push(gofmt::invalid_str(
            &sp,
            spec_path,
            "should be a json path under .spec",
        ));
    }
    let status_path = str_at(scale, "/statusReplicasPath");
    let tp = p.child("scale.statusReplicasPath");
    if status_path.is_empty() {
        errs.push(gofmt::required(&tp, ""));
    } else if simple_json_path(status_path, &tp, errs) && !status_path.starts_with(".status.") {
        errs.push(gofmt::invalid_str(
            &tp,
            status_path,
            "should be a json path under .status",
        ));
    }
    let selector = str_at(scale, "/labelSelectorPath");
    let lp = p.child("scale.labelSelectorPath");
    if !selector.is_empty()
        && simple_json_path(selector, &lp, errs)
        && !selector.starts_with(".spec.")
        && !selector.starts_with(".status.")
    {
        errs.push(gofmt::invalid_str(
            &lp,
            selector,
            "should be a json path under either .spec or .status",
        ));
    }
}

/// `ValidateCustomResourceColumnDefinition`.
fn validate_column(col: &Value, p: &Path, errs: &mut Vec<FieldError>) {
    const TYPES: &str = "boolean,date,integer,number,string";
    const FORMATS: &str = "byte,date,date-time,double,float,int32,int64,password";
    if str_at(col, "/name").is_empty() {
        errs.push(gofmt::required(&p.child("name"), ""));
    }
    let ty = str_at(col, "/type");
    if ty.is_empty() {
        errs.push(gofmt::required(
            &p.child("type"),
            format!("must be one of {TYPES}"),
        ));
    } else if !TYPES.split(',').any(|t| t == ty) {
        errs.push(gofmt::invalid_str(
            &p.child("type"),
            ty,
            format!("must be one of {TYPES}"),
        ));
    }
    let format = str_at(col, "/format");
    if !format.is_empty() && !FORMATS.split(',').any(|f| f == format) {
        errs.push(gofmt::invalid_str(
            &p.child("format"),
            format,
            format!("must be one of {FORMATS}"),
        ));
    }
    let jp = str_at(col, "/jsonPath");
    if jp.is_empty() {
        errs.push(gofmt::required(&p.child("JSONPath"), ""));
    } else {
        simple_json_path(jp, &p.child("JSONPath"), errs);
    }
}

/// `validateCustomResourceConversion` on the internal form (`webhookClientConfig` and
/// `conversionReviewVersions` directly under `conversion`).
fn validate_conversion(c: &Value, require_recognized: bool, p: &Path, errs: &mut Vec<FieldError>) {
    let strategy = str_at(c, "/strategy");
    match strategy {
        "" => errs.push(gofmt::required(&p.child("strategy"), "")),
        "None" | "Webhook" => {}
        other => errs.push(gofmt::not_supported(
            &p.child("strategy"),
            other,
            &["None", "Webhook"],
        )),
    }
    let client_config = c.pointer("/webhook/clientConfig").filter(|v| !v.is_null());
    let review_versions = strings_at(c, "/webhook/conversionReviewVersions");
    let cp = p.child("webhookClientConfig");
    if strategy == "Webhook" {
        match client_config {
            None => errs.push(gofmt::required(
                &cp,
                "required when strategy is set to Webhook",
            )),
            Some(cc) => {
                let url = non_null(cc.get("url")).and_then(Value::as_str);
                let service = non_null(cc.get("service"));
                match (url, service) {
                    (Some(u), None) => webhook_url(u, &cp.child("url"), errs),
                    (None, Some(svc)) => webhook_service(svc, &cp.child("service"), errs),
                    _ => errs.push(gofmt::required(
                        &cp,
                        "exactly one of url or service is required",
                    )),
                }
            }
        }
        conversion_review_versions(
            &review_versions,
            require_recognized,
            &p.child("conversionReviewVersions"),
            errs,
        );
    } else {
        if client_config.is_some() {
            errs.push(gofmt::forbidden(
                &cp,
                "should not be set when strategy is not set to Webhook",
            ));
        }
        if !review_versions.is_empty() {
            errs.push(gofmt::forbidden(
                &p.child("conversionReviewVersions"),
                "should not be set when strategy is not set to Webhook",
            ));
        }
    }
}

fn conversion_review_versions(
    versions: &[String],
    require_recognized: bool,
    p: &Path,
    errs: &mut Vec<FieldError>,
) {
    if versions.is_empty() {
        errs.push(gofmt::required(p, ""));
        return;
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut accepted = false;
    for (i, v) in versions.iter().enumerate() {
        if seen.contains(&v.as_str()) {
            errs.push(gofmt::invalid_str(&p.index(i), v, "duplicate version"));
            continue;
        }
        seen.push(v);
        for e in names::dns1035_label(v) {
            errs.push(gofmt::invalid_str(&p.index(i), v, e));
        }
        if ACCEPTED_CONVERSION_REVIEW_VERSIONS.contains(&v.as_str()) {
            accepted = true;
        }
    }
    if require_recognized && !accepted {
        errs.push(gofmt::rendered_error(
            FieldErrorKind::Invalid,
            p.as_str(),
            render_strings(versions),
            "must include at least one of v1, v1beta1",
        ));
    }
}

/// `webhook.ValidateWebhookURL` with `forceHttps`.
fn webhook_url(url: &str, p: &Path, errs: &mut Vec<FieldError>) {
    const FORM: &str = "; desired format: https://host[/path]";
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s, r),
        None => match url.split_once(':') {
            Some((s, r)) if !s.contains('/') => (s, r),
            _ => ("", url),
        },
    };
    let (rest, fragment) = match rest.split_once('#') {
        Some((r, f)) => (r, f),
        None => (rest, ""),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, q),
        None => (rest, ""),
    };
    let has_authority = url.contains("://");
    let authority = if has_authority {
        rest.split('/').next().unwrap_or_default()
    } else {
        ""
    };
    let (user, host) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    if scheme != "https" {
        errs.push(gofmt::invalid_str(
            p,
            scheme,
            format!("'https' is the only allowed URL scheme{FORM}"),
        ));
    }
    if host.is_empty() {
        errs.push(gofmt::invalid_str(
            p,
            host,
            format!("host must be specified{FORM}"),
        ));
    }
    if let Some(u) = user {
        errs.push(gofmt::invalid_str(
            p,
            u,
            "user information is not permitted in the URL",
        ));
    }
    if !fragment.is_empty() {
        errs.push(gofmt::invalid_str(
            p,
            fragment,
            "fragments are not permitted in the URL",
        ));
    }
    if !query.is_empty() {
        errs.push(gofmt::invalid_str(
            p,
            query,
            "query parameters are not permitted in the URL",
        ));
    }
}

/// `webhook.ValidateWebhookService`.
fn webhook_service(svc: &Value, p: &Path, errs: &mut Vec<FieldError>) {
    if str_at(svc, "/name").is_empty() {
        errs.push(gofmt::required(
            &p.child("name"),
            "service name is required",
        ));
    }
    if str_at(svc, "/namespace").is_empty() {
        errs.push(gofmt::required(
            &p.child("namespace"),
            "service namespace is required",
        ));
    }
    let port = svc.get("port").and_then(Value::as_i64).unwrap_or(443);
    if !(1..=65535).contains(&port) {
        errs.push(gofmt::invalid(
            &p.child("port"),
            &json!(port),
            "port is not valid: must be between 1 and 65535, inclusive",
        ));
    }
    let Some(path) = non_null(svc.get("path")).and_then(Value::as_str) else {
        return;
    };
    let pp = p.child("path");
    if path == "/" || path.is_empty() {
        return;
    }
    if path == "//" {
        errs.push(gofmt::invalid_str(&pp, path, "segment[0] may not be empty"));
        return;
    }
    if !path.starts_with('/') {
        errs.push(gofmt::invalid_str(&pp, path, "must start with a '/'"));
    }
    let mut to_check = path.get(1..).unwrap_or_default();
    if let Some(t) = to_check.strip_suffix('/') {
        to_check = t;
    }
    for (i, step) in to_check.split('/').enumerate() {
        if step.is_empty() {
            errs.push(gofmt::invalid_str(
                &pp,
                path,
                format!("segment[{i}] may not be empty"),
            ));
            continue;
        }
        for f in names::dns1123_subdomain(step) {
            errs.push(gofmt::invalid_str(&pp, path, format!("segment[{i}]: {f}")));
        }
    }
}

/// `ValidateCustomResourceDefinitionStatus`: the accepted names.
fn validate_status(crd: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(accepted) = crd.pointer("/status/acceptedNames") {
        validate_names(
            accepted,
            &Path::new("status").child("acceptedNames"),
            &mut errs,
        );
    }
    errs
}

/// `ValidateCustomResourceDefinitionStoredVersions`.
fn stored_versions(crd: &Value, spec: &SpecView) -> Vec<FieldError> {
    let p = Path::new("status").child("storedVersions");
    let stored_raw = crd
        .pointer("/status/storedVersions")
        .and_then(Value::as_array);
    let stored = strings_at(crd, "/status/storedVersions");
    if stored.is_empty() {
        let rendered = match stored_raw {
            Some(_) => "[]string{}".to_string(),
            None => "[]string(nil)".to_string(),
        };
        return vec![gofmt::rendered_error(
            FieldErrorKind::Invalid,
            p.as_str(),
            rendered,
            "must have at least one stored version",
        )];
    }
    let mut errs = Vec::new();
    let mut remaining: Vec<(usize, &str)> = Vec::new();
    for (i, v) in stored.iter().enumerate() {
        // Like Go's map, a later duplicate replaces the index of an earlier one.
        remaining.retain(|(_, x)| *x != v.as_str());
        remaining.push((i, v.as_str()));
    }
    for v in &spec.versions {
        let present = remaining.iter().any(|(_, x)| *x == v.name);
        if v.storage && !present {
            errs.push(gofmt::rendered_error(
                FieldErrorKind::Invalid,
                p.as_str(),
                render_strings(&stored),
                &format!("must have the storage version {}", v.name),
            ));
        }
        if present {
            remaining.retain(|(_, x)| *x != v.name);
        }
    }
    remaining.sort_by_key(|(i, _)| *i);
    for (i, v) in remaining {
        errs.push(gofmt::invalid_str(
            &p.index(i),
            v,
            format!(
                "missing from spec.versions; {v} was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in {v} and removes {v} from status.storedVersions"
            ),
        ));
    }
    errs
}

const API_APPROVAL_ANNOTATION: &str = "api-approved.kubernetes.io";

#[derive(PartialEq, Eq, Clone, Copy)]
enum Approval {
    Invalid,
    Approved,
    Bypassed,
    Missing,
}

fn approval_state(crd: &Value) -> (Approval, String) {
    let a = crd
        .pointer("/metadata/annotations")
        .and_then(|m| m.get(API_APPROVAL_ANNOTATION))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if a.is_empty() {
        return (
            Approval::Missing,
            format!(
                "protected groups must have approval annotation {}, see https://github.com/kubernetes/enhancements/pull/1111",
                go_quote(API_APPROVAL_ANNOTATION)
            ),
        );
    }
    if a.starts_with("unapproved") {
        return (Approval::Bypassed, format!("not approved: {}", go_quote(a)));
    }
    let url_ok = a.split_once("://").is_some_and(|(scheme, rest)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            && !rest.split('/').next().unwrap_or_default().is_empty()
            && !a.contains(' ')
    });
    if url_ok {
        return (Approval::Approved, format!("approved in {a}"));
    }
    (
        Approval::Invalid,
        format!(
            "protected groups must have approval annotation {} with either a URL or a reason starting with \"unapproved\", see https://github.com/kubernetes/enhancements/pull/1111",
            go_quote(API_APPROVAL_ANNOTATION)
        ),
    )
}

fn is_protected_group(g: &str) -> bool {
    g == "k8s.io" || g.ends_with(".k8s.io") || g == "kubernetes.io" || g.ends_with(".kubernetes.io")
}

/// `validateAPIApproval`: CRDs in `*.k8s.io` and `*.kubernetes.io` need the approval annotation.
fn api_approval(new: &Value, old: Option<&Value>) -> Vec<FieldError> {
    if !is_protected_group(str_at(new, "/spec/group")) {
        return Vec::new();
    }
    let (state, reason) = approval_state(new);
    if let Some(o) = old
        && approval_state(o).0 == state
    {
        return Vec::new();
    }
    let p = Path::new("metadata")
        .child("annotations")
        .key(API_APPROVAL_ANNOTATION);
    let value = new
        .pointer("/metadata/annotations")
        .and_then(|m| m.get(API_APPROVAL_ANNOTATION))
        .and_then(Value::as_str)
        .unwrap_or_default();
    match state {
        Approval::Approved | Approval::Bypassed => Vec::new(),
        Approval::Missing => vec![gofmt::required(&p, reason)],
        Approval::Invalid => vec![gofmt::invalid_str(&p, value, reason)],
    }
}

/// `validatePreserveUnknownFields`: `spec.preserveUnknownFields` may not be set to true.
fn preserve_unknown_fields_errors(new: &Value, old: Option<&Value>) -> Vec<FieldError> {
    if old.is_some_and(|o| bool_at(o, "/spec/preserveUnknownFields")) {
        return Vec::new();
    }
    if bool_at(new, "/spec/preserveUnknownFields") {
        return vec![gofmt::invalid(
            &Path::new("spec").child("preserveUnknownFields"),
            &Value::Bool(true),
            "cannot set to true, set x-preserve-unknown-fields to true in spec.versions[*].schema instead",
        )];
    }
    Vec::new()
}
