//! Static checks of a CRD's `openAPIV3Schema`: the generic OpenAPI restrictions of
//! `ValidateCustomResourceDefinitionOpenAPISchema`, structurality (`schema.ValidateStructural`)
//! and the validity of defaults (`defaulting.ValidateDefaults`).

use crate::gofmt::{self, Path};
use crate::prune;
use crate::schema::{AdditionalProperties, Schema};
use crate::validate::{Validator, json_equal};
use berth_apimachinery::status::FieldError;
use serde_json::Value;

/// `validationOptions` of the CRD validation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Opts {
    pub allow_defaults: bool,
    pub require_recognized_conversion_review_version: bool,
    pub require_immutable_names: bool,
    pub require_open_api_schema: bool,
    pub require_valid_property_type: bool,
    pub require_structural_schema: bool,
    pub require_pruned_defaults: bool,
    pub require_atomic_set_type: bool,
    pub require_map_list_keys_map_set_validation: bool,
}

impl Opts {
    pub(crate) fn create() -> Opts {
        Opts {
            allow_defaults: true,
            require_recognized_conversion_review_version: true,
            require_immutable_names: false,
            require_open_api_schema: true,
            require_valid_property_type: true,
            require_structural_schema: true,
            require_pruned_defaults: true,
            require_atomic_set_type: true,
            require_map_list_keys_map_set_validation: true,
        }
    }
}

/// `specStandardValidatorV3`.
#[derive(Debug, Clone)]
pub(crate) struct Ssv {
    pub allow_defaults: bool,
    pub disallow_defaults_reason: String,
    pub inside_resource_meta: bool,
    pub require_valid_property_type: bool,
}

impl Ssv {
    fn with_forbidden_defaults(&self, reason: &str) -> Ssv {
        Ssv {
            allow_defaults: false,
            disallow_defaults_reason: reason.to_string(),
            ..self.clone()
        }
    }

    fn with_inside_resource_meta(&self) -> Ssv {
        Ssv {
            inside_resource_meta: true,
            ..self.clone()
        }
    }

    fn validate(&self, s: &Schema, p: &Path, out: &mut Vec<FieldError>) {
        const TYPES: &[&str] = &["array", "boolean", "integer", "number", "object", "string"];
        if self.require_valid_property_type
            && !s.type_.is_empty()
            && !TYPES.contains(&s.type_.as_str())
        {
            out.push(gofmt::not_supported(&p.child("type"), &s.type_, TYPES));
        }
        if s.default.is_some() && !self.allow_defaults {
            let mut detail = "must not be set".to_string();
            if !self.disallow_defaults_reason.is_empty() {
                detail.push(' ');
                detail.push_str(&self.disallow_defaults_reason);
            }
            out.push(gofmt::forbidden(&p.child("default"), detail));
        }
        if !s.id.is_empty() {
            out.push(gofmt::forbidden(&p.child("id"), "id is not supported"));
        }
        if s.additional_items.is_some() {
            out.push(gofmt::forbidden(
                &p.child("additionalItems"),
                "additionalItems is not supported",
            ));
        }
        if !s.pattern_properties.is_empty() {
            out.push(gofmt::forbidden(
                &p.child("patternProperties"),
                "patternProperties is not supported",
            ));
        }
        if !s.definitions.is_empty() {
            out.push(gofmt::forbidden(
                &p.child("definitions"),
                "definitions is not supported",
            ));
        }
        if s.has_dependencies {
            out.push(gofmt::forbidden(
                &p.child("dependencies"),
                "dependencies is not supported",
            ));
        }
        if s.reference.is_some() {
            out.push(gofmt::forbidden(&p.child("$ref"), "$ref is not supported"));
        }
        if s.type_ == "null" {
            out.push(gofmt::forbidden(
                &p.child("type"),
                "type cannot be set to null, use nullable as an alternative",
            ));
        }
        if s.items_array.as_ref().is_some_and(|a| !a.is_empty()) {
            out.push(gofmt::forbidden(
                &p.child("items"),
                "items must be a schema object and not an array",
            ));
        }
        if self.inside_resource_meta && s.x_embedded_resource {
            out.push(gofmt::forbidden(
                &p.child("x-kubernetes-embedded-resource"),
                "must not be used inside of resource meta",
            ));
        }
    }
}

const META_FIELDS: &[&str] = &["metadata", "kind", "apiVersion"];

/// `ValidateCustomResourceDefinitionOpenAPISchema`.
pub(crate) fn openapi_schema(
    s: &Schema,
    p: &Path,
    ssv: &Ssv,
    is_root: bool,
    opts: &Opts,
    out: &mut Vec<FieldError>,
) {
    ssv.validate(s, p, out);
    if s.unique_items {
        out.push(gofmt::forbidden(
            &p.child("uniqueItems"),
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        ));
    }
    if let Some(ap) = &s.additional_properties {
        if !s.properties.is_empty() && (!ap.allows() || ap.schema().is_some()) {
            out.push(gofmt::forbidden(
                &p.child("additionalProperties"),
                "additionalProperties and properties are mutual exclusive",
            ));
        }
        let sub = if ssv.inside_resource_meta {
            ssv.with_forbidden_defaults("inside additionalProperties applying to object metadata")
        } else {
            ssv.clone()
        };
        if let Some(aps) = ap.schema() {
            openapi_schema(
                aps,
                &p.child("additionalProperties"),
                &sub,
                false,
                opts,
                out,
            );
        }
    }
    for (name, prop) in &s.properties {
        let mut sub = ssv.clone();
        if (is_root || s.x_embedded_resource) && META_FIELDS.contains(&name.as_str()) {
            sub = sub.with_inside_resource_meta();
            if is_root {
                sub = sub.with_forbidden_defaults(&format!("in top-level {name}"));
            }
        }
        openapi_schema(
            prop,
            &p.child("properties").key(name),
            &sub,
            false,
            opts,
            out,
        );
    }
    if let Some(not) = &s.not {
        openapi_schema(not, &p.child("not"), ssv, false, opts, out);
    }
    for (i, x) in s.all_of.iter().enumerate() {
        openapi_schema(x, &p.child("allOf").index(i), ssv, false, opts, out);
    }
    for (i, x) in s.one_of.iter().enumerate() {
        openapi_schema(x, &p.child("oneOf").index(i), ssv, false, opts, out);
    }
    for (i, x) in s.any_of.iter().enumerate() {
        openapi_schema(x, &p.child("anyOf").index(i), ssv, false, opts, out);
    }
    for (k, x) in &s.definitions {
        openapi_schema(x, &p.child("definitions").key(k), ssv, false, opts, out);
    }
    if let Some(items) = &s.items {
        openapi_schema(items, &p.child("items"), ssv, false, opts, out);
    }
    if let Some(arr) = &s.items_array {
        for (i, x) in arr.iter().enumerate() {
            openapi_schema(x, &p.child("items").index(i), ssv, false, opts, out);
        }
    }
    if s.x_preserve_unknown_fields == Some(false) {
        out.push(gofmt::invalid(
            &p.child("x-kubernetes-preserve-unknown-fields"),
            &Value::Bool(false),
            "must be true or undefined",
        ));
    }
    if let Some(mt) = &s.x_map_type {
        if s.type_ != "object" {
            if s.type_.is_empty() {
                out.push(gofmt::required(
                    &p.child("type"),
                    "must be object if x-kubernetes-map-type is specified",
                ));
            } else {
                out.push(gofmt::invalid_str(
                    &p.child("type"),
                    &s.type_,
                    "must be object if x-kubernetes-map-type is specified",
                ));
            }
        }
        if mt != "atomic" && mt != "granular" {
            out.push(gofmt::not_supported(
                &p.child("x-kubernetes-map-type"),
                mt,
                &["atomic", "granular"],
            ));
        }
    }
    if s.x_list_type.is_some() && s.type_ != "array" {
        if s.type_.is_empty() {
            out.push(gofmt::required(
                &p.child("type"),
                "must be array if x-kubernetes-list-type is specified",
            ));
        } else {
            out.push(gofmt::invalid_str(
                &p.child("type"),
                &s.type_,
                "must be array if x-kubernetes-list-type is specified",
            ));
        }
    } else if opts.require_atomic_set_type
        && s.x_list_type.as_deref() == Some("set")
        && let Some(is) = &s.items
    {
        match is.type_.as_str() {
            "array" => {
                if let Some(lt) = &is.x_list_type
                    && lt != "atomic"
                {
                    out.push(gofmt::invalid_str(
                        &p.child("items").child("x-kubernetes-list-type"),
                        lt,
                        "must be atomic as item of a list with x-kubernetes-list-type=set",
                    ));
                }
            }
            "object" if is.x_map_type.as_deref() != Some("atomic") => {
                // Upstream reports the items' list type here ("null" for objects).
                out.push(gofmt::invalid_str(
                    &p.child("items").child("x-kubernetes-map-type"),
                    is.x_list_type.as_deref().unwrap_or("null"),
                    "must be atomic as item of a list with x-kubernetes-list-type=set",
                ));
            }
            _ => {}
        }
    }
    if let Some(lt) = &s.x_list_type
        && lt != "atomic"
        && lt != "set"
        && lt != "map"
    {
        out.push(gofmt::not_supported(
            &p.child("x-kubernetes-list-type"),
            lt,
            &["atomic", "set", "map"],
        ));
    }
    if !s.x_list_map_keys.is_empty() {
        match &s.x_list_type {
            None => out.push(gofmt::required(
                &p.child("x-kubernetes-list-type"),
                "must be map if x-kubernetes-list-map-keys is non-empty",
            )),
            Some(lt) if lt != "map" => out.push(gofmt::invalid_str(
                &p.child("x-kubernetes-list-type"),
                lt,
                "must be map if x-kubernetes-list-map-keys is non-empty",
            )),
            _ => {}
        }
    }
    if s.x_list_type.as_deref() == Some("map") {
        list_map_checks(s, p, out);
    }
    if opts.require_map_list_keys_map_set_validation {
        map_list_keys_map_set(s, p, out);
    }
    x_validations(s, p, out);
}

fn go_string_slice(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|s| gofmt::go_quote(s)).collect();
    format!("[]string{{{}}}", items.join(", "))
}

fn list_map_checks(s: &Schema, p: &Path, out: &mut Vec<FieldError>) {
    use berth_apimachinery::status::FieldErrorKind;
    if s.x_list_map_keys.is_empty() {
        out.push(gofmt::required(
            &p.child("x-kubernetes-list-map-keys"),
            "must not be empty if x-kubernetes-list-type is map",
        ));
    }
    if s.items.is_none() && s.items_array.is_none() {
        out.push(gofmt::required(
            &p.child("items"),
            "must have a schema if x-kubernetes-list-type is map",
        ));
    }
    if s.items.is_none() && s.items_array.is_some() {
        out.push(gofmt::rendered_error(
            FieldErrorKind::Invalid,
            p.child("items").as_str(),
            "&apiextensions.JSONSchemaPropsOrArray{...}".to_string(),
            "must only have a single schema if x-kubernetes-list-type is map",
        ));
    }
    let Some(items) = &s.items else {
        return;
    };
    if items.type_ != "object" {
        out.push(gofmt::invalid_str(
            &p.child("items").child("type"),
            &items.type_,
            "must be object if parent array's x-kubernetes-list-type is map",
        ));
        return;
    }
    let mut seen: Vec<&str> = Vec::new();
    for k in &s.x_list_map_keys {
        match items.properties.get(k) {
            Some(ks) => {
                if ks.type_ == "array" || ks.type_ == "object" {
                    out.push(gofmt::invalid_str(
                        &p.child("items").child("properties").key(k).child("type"),
                        &items.type_,
                        "must be a scalar type if parent array's x-kubernetes-list-type is map",
                    ));
                }
            }
            None => out.push(gofmt::rendered_error(
                FieldErrorKind::Invalid,
                p.child("x-kubernetes-list-map-keys").as_str(),
                go_string_slice(&s.x_list_map_keys),
                "entries must all be names of item properties",
            )),
        }
        if seen.contains(&k.as_str()) {
            out.push(gofmt::rendered_error(
                FieldErrorKind::Invalid,
                p.child("x-kubernetes-list-map-keys").as_str(),
                go_string_slice(&s.x_list_map_keys),
                "must not contain duplicate entries",
            ));
        }
        seen.push(k);
    }
}

fn x_validations(s: &Schema, p: &Path, out: &mut Vec<FieldError>) {
    const REASONS: &[&str] = &[
        "FieldValueDuplicate",
        "FieldValueForbidden",
        "FieldValueInvalid",
        "FieldValueRequired",
    ];
    let has_newline = |x: &str| x.contains('\n') || x.contains('\r');
    for (i, rule) in s.x_validations.iter().enumerate() {
        let rp = p.child("x-kubernetes-validations").index(i);
        let text = |k: &str| rule.get(k).and_then(Value::as_str).unwrap_or_default();
        let (r, m, me, fp) = (
            text("rule"),
            text("message"),
            text("messageExpression"),
            text("fieldPath"),
        );
        let (tr, tm) = (r.trim(), m.trim());
        if tr.is_empty() {
            out.push(gofmt::required(&rp.child("rule"), "rule is not specified"));
        } else if !m.is_empty() && tm.is_empty() {
            out.push(gofmt::invalid_str(
                &rp.child("message"),
                m,
                "message must be non-empty if specified",
            ));
        } else if has_newline(tm) {
            out.push(gofmt::invalid_str(
                &rp.child("message"),
                m,
                "message must not contain line breaks",
            ));
        } else if has_newline(tr) && tm.is_empty() {
            out.push(gofmt::required(
                &rp.child("message"),
                "message must be specified if rule contains line breaks",
            ));
        }
        if !me.is_empty() && me.trim().is_empty() {
            out.push(gofmt::required(
                &rp.child("messageExpression"),
                "messageExpression must be non-empty if specified",
            ));
        }
        if let Some(reason) = rule.get("reason").and_then(Value::as_str)
            && !REASONS.contains(&reason)
        {
            out.push(gofmt::not_supported(&rp.child("reason"), reason, REASONS));
        }
        if !fp.is_empty() && fp.trim().is_empty() {
            out.push(gofmt::invalid_str(
                &rp.child("fieldPath"),
                fp,
                "fieldPath must be non-empty if specified",
            ));
        }
        if has_newline(fp) {
            out.push(gofmt::invalid_str(
                &rp.child("fieldPath"),
                fp,
                "fieldPath must not contain line breaks",
            ));
        }
        if !fp.is_empty() && valid_field_path(fp, s, true).is_err() {
            out.push(gofmt::invalid_str(
                &rp.child("fieldPath"),
                fp,
                "fieldPath must be a valid path",
            ));
        }
    }
}

/// A path resolved by [`valid_field_path`]: its `field.Path` form, its first segment, and the
/// schema it leads to.
pub(crate) struct FieldPathTarget<'a> {
    pub path: String,
    pub root: String,
    pub schema: Option<&'a Schema>,
}

fn unescape_single_quote(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('a') => out.push('\u{7}'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('v') => out.push('\u{b}'),
            Some('\'') => out.push('\''),
            Some('\\') => out.push('\\'),
            Some(other) => return Err(format!("invalid escape char \\{other}")),
            None => out.push('\\'),
        }
    }
    Ok(out)
}

/// Splits a field path into `.`, `[`, `]` and the text between them; a token starting with a
/// single quote runs to the next unescaped single quote.
fn field_path_tokens(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\'' {
            let mut j = i + 1;
            while j < b.len() && !(b[j] == b'\'' && b[j - 1] != b'\\') {
                j += 1;
            }
            let end = (j + 1).min(b.len());
            out.push(&s[i..end]);
            i = end;
        } else if matches!(b[i], b'.' | b'[' | b']') {
            out.push(&s[i..i + 1]);
            i += 1;
        } else {
            let start = i;
            while i < b.len() && !matches!(b[i], b'.' | b'[' | b']' | b'\'') {
                i += 1;
            }
            out.push(&s[start..i]);
        }
    }
    out
}

/// One step of a field path: a property (`.name`) or an additionalProperties key (`[name]`).
fn field_path_step(
    name: &str,
    cur: &mut Option<&Schema>,
    out: &mut String,
    root: &mut Option<String>,
) -> Result<(), String> {
    let invalid = || "does not refer to a valid field".to_string();
    let s = cur.ok_or_else(invalid)?;
    if !s.properties.is_empty() {
        let next = s.properties.get(name).ok_or_else(invalid)?;
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(name);
        *cur = Some(next);
    } else if let Some(ap) = &s.additional_properties {
        out.push_str(&format!("[{name}]"));
        *cur = ap.schema();
    } else {
        return Err(invalid());
    }
    if root.is_none() {
        *root = Some(out.clone());
    }
    Ok(())
}

/// `cel.ValidFieldPath`: resolves a path like `.spec.replicas` or `.spec.labels['app']`
/// against the schema.
pub(crate) fn valid_field_path<'a>(
    path: &str,
    schema: &'a Schema,
    allow_array_notation: bool,
) -> Result<FieldPathTarget<'a>, String> {
    let mut cur: Option<&Schema> = Some(schema);
    let mut out = String::new();
    let mut root: Option<String> = None;
    let tokens = field_path_tokens(path);
    let mut it = tokens.into_iter();
    while let Some(tok) = it.next() {
        match tok {
            "[" => {
                if !allow_array_notation {
                    return Err("array notation is not allowed".into());
                }
                let t = it.next().ok_or("unexpected end of JSON path")?;
                if t.len() < 2 || !t.starts_with('\'') || !t.ends_with('\'') {
                    return Err(format!("expected single quoted string but got {t}"));
                }
                let name = unescape_single_quote(&t[1..t.len() - 1])
                    .map_err(|e| format!("invalid string literal: {e}"))?;
                field_path_step(&name, &mut cur, &mut out, &mut root)?;
                let close = it.next().ok_or("unexpected end of JSON path")?;
                if close != "]" {
                    return Err(format!("expected ] but got {close}"));
                }
            }
            "." => {
                let name = it.next().ok_or("unexpected end of JSON path")?;
                field_path_step(name, &mut cur, &mut out, &mut root)?;
            }
            other => return Err(format!("expected [ or . but got: {other}")),
        }
    }
    Ok(FieldPathTarget {
        path: out,
        root: root.unwrap_or_default(),
        schema: cur,
    })
}

fn map_list_keys_map_set(s: &Schema, p: &Path, out: &mut Vec<FieldError>) {
    let (Some(items), Some(lt)) = (&s.items, &s.x_list_type) else {
        return;
    };
    if lt != "set" && lt != "map" {
        return;
    }
    if items.nullable {
        out.push(gofmt::forbidden(
            &p.child("items").child("nullable"),
            format!("cannot be nullable when x-kubernetes-list-type is {lt}"),
        ));
    }
    if lt == "map" {
        for k in &s.x_list_map_keys {
            let Some(ks) = items.properties.get(k) else {
                continue;
            };
            if !items.required.contains(k) && ks.default.is_none() {
                out.push(gofmt::required(
                    &p.child("items").child("properties").key(k).child("default"),
                    "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
                ));
            }
            if ks.nullable {
                out.push(gofmt::forbidden(
                    &p.child("items")
                        .child("properties")
                        .key(k)
                        .child("nullable"),
                    "this property is in x-kubernetes-list-map-keys, so it cannot be nullable",
                ));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Structurality.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Root,
    Item,
    Field,
}

/// `schema.ValidateStructural`: errors sorted by their message, as upstream does.
pub(crate) fn validate_structural(s: &Schema, p: &Path) -> Vec<FieldError> {
    let mut out = Vec::new();
    invariants(s, Level::Root, p, &mut out);
    completeness(s, p, &mut out);
    out.sort_by_key(|e| e.to_string());
    out
}

fn invariants(s: &Schema, lvl: Level, p: &Path, out: &mut Vec<FieldError>) {
    if s.type_ == "array" && s.items.is_none() {
        out.push(gofmt::required(&p.child("items"), "must be specified"));
    }
    if let Some(items) = &s.items {
        invariants(items, Level::Item, &p.child("items"), out);
    }
    for (k, v) in &s.properties {
        invariants(v, Level::Field, &p.child("properties").key(k), out);
    }
    if let Some(ap) = &s.additional_properties {
        if lvl == Level::Root {
            out.push(gofmt::forbidden(
                &p.child("additionalProperties"),
                "must not be used at the root",
            ));
        }
        if let Some(aps) = ap.schema() {
            invariants(aps, Level::Field, &p.child("additionalProperties"), out);
        }
    }
    let preserve = s.preserve_unknown_fields();
    if s.x_int_or_string && preserve {
        out.push(gofmt::invalid(
            &p.child("x-kubernetes-preserve-unknown-fields"),
            &Value::Bool(true),
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    if s.x_int_or_string && s.x_embedded_resource {
        out.push(gofmt::invalid(
            &p.child("x-kubernetes-embedded-resource"),
            &Value::Bool(true),
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    let skip_any_of = is_int_or_string_any_of(&s.any_of);
    let skip_first_all_of_any_of = s
        .all_of
        .first()
        .is_some_and(|a| is_int_or_string_any_of(&a.any_of));
    value_validation(s, skip_any_of, skip_first_all_of_any_of, p, out);

    let check_metadata = lvl == Level::Root || s.x_embedded_resource;
    if s.x_embedded_resource && s.type_ != "object" {
        if s.type_.is_empty() {
            out.push(gofmt::required(
                &p.child("type"),
                "must be object if x-kubernetes-embedded-resource is true",
            ));
        } else {
            out.push(gofmt::invalid_str(
                &p.child("type"),
                &s.type_,
                "must be object if x-kubernetes-embedded-resource is true",
            ));
        }
    } else if s.type_.is_empty() && !s.x_int_or_string && !preserve {
        let detail = match lvl {
            Level::Root => "must not be empty at the root",
            Level::Item => "must not be empty for specified array items",
            Level::Field => "must not be empty for specified object fields",
        };
        out.push(gofmt::required(&p.child("type"), detail));
    }
    if s.x_embedded_resource && s.additional_properties.is_some() {
        out.push(gofmt::forbidden(
            &p.child("additionalProperties"),
            "must not be used if x-kubernetes-embedded-resource is set",
        ));
    }
    if lvl == Level::Root && !s.type_.is_empty() && s.type_ != "object" {
        out.push(gofmt::invalid_str(
            &p.child("type"),
            &s.type_,
            "must be object at the root",
        ));
    }
    for name in ["kind", "apiVersion"] {
        if let Some(ks) = s.properties.get(name)
            && check_metadata
            && ks.type_ != "string"
        {
            out.push(gofmt::invalid_str(
                &p.child("properties").key(name).child("type"),
                &ks.type_,
                "must be string",
            ));
        }
    }
    if let Some(meta) = s.properties.get("metadata") {
        metadata_invariants(
            meta,
            check_metadata,
            lvl,
            &p.child("properties").key("metadata"),
            out,
        );
    }
    if s.x_embedded_resource && !preserve && s.properties.is_empty() {
        out.push(gofmt::required(
            &p.child("properties"),
            "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
        ));
    }
}

fn metadata_invariants(
    s: &Schema,
    check_metadata: bool,
    lvl: Level,
    p: &Path,
    out: &mut Vec<FieldError>,
) {
    if check_metadata && s.type_ != "object" {
        out.push(gofmt::invalid_str(
            &p.child("type"),
            &s.type_,
            "must be object",
        ));
    }
    if lvl == Level::Root {
        let name = s.properties.contains_key("name");
        let generate_name = s.properties.contains_key("generateName");
        let n = s.properties.len();
        let only_names =
            (name && generate_name && n == 2) || ((name || generate_name) && n == 1) || n == 0;
        let mut rest = s.clone();
        rest.type_.clear();
        rest.default = None;
        if only_names {
            rest.properties.clear();
        }
        if !is_empty_schema(&rest) {
            out.push(gofmt::forbidden(
                p,
                "must not specify anything other than name and generateName, but metadata is implicitly specified",
            ));
        }
    }
}

/// Whether a schema node says nothing at all, in terms of Go's `Structural` (which does not
/// carry `id`, `$schema`, `$ref`, `example`, `externalDocs`, `definitions`, `dependencies`,
/// `patternProperties` and `additionalItems`; those are rejected elsewhere).
fn is_empty_schema(s: &Schema) -> bool {
    s.description.is_empty()
        && s.type_.is_empty()
        && s.format.is_empty()
        && s.title.is_empty()
        && s.default.is_none()
        && s.maximum.is_none()
        && !s.exclusive_maximum
        && s.minimum.is_none()
        && !s.exclusive_minimum
        && s.max_length.is_none()
        && s.min_length.is_none()
        && s.pattern.is_empty()
        && s.max_items.is_none()
        && s.min_items.is_none()
        && !s.unique_items
        && s.multiple_of.is_none()
        && s.enum_values.as_ref().is_none_or(|e| e.is_empty())
        && s.max_properties.is_none()
        && s.min_properties.is_none()
        && s.required.is_empty()
        && s.items.is_none()
        && s.items_array.is_none()
        && s.all_of.is_empty()
        && s.one_of.is_empty()
        && s.any_of.is_empty()
        && s.not.is_none()
        && s.properties.is_empty()
        && s.additional_properties.is_none()
        && !s.nullable
        && !s.preserve_unknown_fields()
        && !s.x_embedded_resource
        && !s.x_int_or_string
        && s.x_list_map_keys.is_empty()
        && s.x_list_type.is_none()
        && s.x_map_type.is_none()
        && s.x_validations.is_empty()
}

/// `anyOf: [{type: integer}, {type: string}]` and nothing else in either.
fn is_int_or_string_any_of(any_of: &[Schema]) -> bool {
    let bare = |s: &Schema, t: &str| {
        let mut rest = s.clone();
        let ok = rest.type_ == t;
        rest.type_.clear();
        ok && is_empty_schema(&rest)
    };
    any_of.len() == 2 && bare(&any_of[0], "integer") && bare(&any_of[1], "string")
}

fn value_validation(
    s: &Schema,
    skip_any_of: bool,
    skip_first_all_of_any_of: bool,
    p: &Path,
    out: &mut Vec<FieldError>,
) {
    if !skip_any_of {
        for (i, x) in s.any_of.iter().enumerate() {
            nested(x, false, false, &p.child("anyOf").index(i), out);
        }
    }
    for (i, x) in s.all_of.iter().enumerate() {
        nested(
            x,
            skip_first_all_of_any_of && i == 0,
            false,
            &p.child("allOf").index(i),
            out,
        );
    }
    for (i, x) in s.one_of.iter().enumerate() {
        nested(x, false, false, &p.child("oneOf").index(i), out);
    }
    if let Some(not) = &s.not {
        nested(not, false, false, &p.child("not"), out);
    }
    if let Some(Err(e)) = &s.pattern_re {
        out.push(gofmt::invalid_str(
            &p.child("pattern"),
            &s.pattern,
            format!("must be a valid regular expression, but isn't: {e}"),
        ));
    }
}

fn nested(
    v: &Schema,
    skip_any_of: bool,
    skip_all_of_any_of: bool,
    p: &Path,
    out: &mut Vec<FieldError>,
) {
    value_validation(v, skip_any_of, skip_all_of_any_of, p, out);
    if let Some(items) = &v.items {
        nested(items, false, false, &p.child("items"), out);
    }
    for (k, x) in &v.properties {
        nested(x, false, false, &p.child("properties").key(k), out);
    }
    let forbid = |out: &mut Vec<FieldError>, c: &str, d: &str| {
        out.push(gofmt::forbidden(&p.child(c), d));
    };
    if !v.type_.is_empty() {
        forbid(out, "type", "must be empty to be structural");
    }
    if v.additional_properties.is_some() {
        forbid(
            out,
            "additionalProperties",
            "must be undefined to be structural",
        );
    }
    if v.default.is_some() {
        forbid(out, "default", "must be undefined to be structural");
    }
    if !v.title.is_empty() {
        forbid(out, "title", "must be empty to be structural");
    }
    if !v.description.is_empty() {
        forbid(out, "description", "must be empty to be structural");
    }
    if v.nullable {
        forbid(out, "nullable", "must be false to be structural");
    }
    if v.preserve_unknown_fields() {
        forbid(
            out,
            "x-kubernetes-preserve-unknown-fields",
            "must be false to be structural",
        );
    }
    if v.x_embedded_resource {
        forbid(
            out,
            "x-kubernetes-embedded-resource",
            "must be false to be structural",
        );
    }
    if v.x_int_or_string {
        forbid(
            out,
            "x-kubernetes-int-or-string",
            "must be false to be structural",
        );
    }
    if !v.x_list_map_keys.is_empty() {
        forbid(
            out,
            "x-kubernetes-list-map-keys",
            "must be empty to be structural",
        );
    }
    if v.x_list_type.is_some() {
        forbid(
            out,
            "x-kubernetes-list-type",
            "must be undefined to be structural",
        );
    }
    if v.x_map_type.is_some() {
        forbid(
            out,
            "x-kubernetes-map-type",
            "must be undefined to be structural",
        );
    }
    if !v.x_validations.is_empty() {
        forbid(
            out,
            "x-kubernetes-validations",
            "must be empty to be structural",
        );
    }
    if v.properties.contains_key("metadata") {
        out.push(gofmt::forbidden(
            &p.child("properties").key("metadata"),
            "must not be specified in a nested context",
        ));
    }
}

/// Every property or items schema used inside a value validation (allOf, anyOf, oneOf, not) of
/// the root must also be specified outside of it.
fn completeness(s: &Schema, p: &Path, out: &mut Vec<FieldError>) {
    value_validation_completeness(s, s, p, p, out);
}

fn value_validation_completeness(
    v: &Schema,
    s: &Schema,
    s_path: &Path,
    v_path: &Path,
    out: &mut Vec<FieldError>,
) {
    if let Some(not) = &v.not {
        nested_completeness(not, Some(s), s_path, &v_path.child("not"), out);
    }
    for (i, x) in v.all_of.iter().enumerate() {
        nested_completeness(x, Some(s), s_path, &v_path.child("allOf").index(i), out);
    }
    for (i, x) in v.any_of.iter().enumerate() {
        nested_completeness(x, Some(s), s_path, &v_path.child("anyOf").index(i), out);
    }
    for (i, x) in v.one_of.iter().enumerate() {
        nested_completeness(x, Some(s), s_path, &v_path.child("oneOf").index(i), out);
    }
}

fn nested_completeness(
    v: &Schema,
    s: Option<&Schema>,
    s_path: &Path,
    v_path: &Path,
    out: &mut Vec<FieldError>,
) {
    let Some(s) = s else {
        out.push(gofmt::required(
            s_path,
            format!("because it is defined in {v_path}"),
        ));
        return;
    };
    value_validation_completeness(v, s, s_path, v_path, out);
    if let Some(items) = &v.items {
        nested_completeness(
            items,
            s.items.as_deref(),
            &s_path.child("items"),
            &v_path.child("items"),
            out,
        );
    }
    for (k, x) in &v.properties {
        match s.properties.get(k) {
            None => out.push(gofmt::required(
                &s_path.child("properties").key(k),
                format!(
                    "because it is defined in {}",
                    v_path.child("properties").key(k)
                ),
            )),
            Some(sf) => nested_completeness(
                x,
                Some(sf),
                &s_path.child("properties").key(k),
                &v_path.child("properties").key(k),
                out,
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Defaults.

/// `defaulting.ValidateDefaults` for the root of a CRD schema: every default must validate
/// against its schema and (with `require_pruned`) contain no field the schema would prune.
pub(crate) fn validate_defaults(s: &Schema, p: &Path, require_pruned: bool) -> Vec<FieldError> {
    let mut out = Vec::new();
    defaults_rec(s, p, true, false, require_pruned, &mut out);
    out
}

fn defaults_rec(
    s: &Schema,
    p: &Path,
    embedded_root: bool,
    inside_meta: bool,
    require_pruned: bool,
    out: &mut Vec<FieldError>,
) {
    let embedded = embedded_root || s.x_embedded_resource;
    let inside_meta = if embedded { false } else { inside_meta };
    if let Some(def) = &s.default {
        let dp = p.child("default");
        if !inside_meta && require_pruned {
            let mut pruned = def.clone();
            prune::prune_value(&mut pruned, s, embedded);
            if !json_equal(&pruned, def) {
                out.push(gofmt::invalid(&dp, def, "must not have unknown fields"));
            }
        }
        let v = Validator {
            base: Some(dp.as_str()),
        };
        out.extend(v.validate(s, def, "", None).errs);
    }
    if let Some(items) = &s.items {
        defaults_rec(
            items,
            &p.child("items"),
            false,
            inside_meta,
            require_pruned,
            out,
        );
    }
    for (k, sub) in &s.properties {
        let sub_meta = inside_meta || (embedded && META_FIELDS.contains(&k.as_str()));
        defaults_rec(
            sub,
            &p.child("properties").key(k),
            false,
            sub_meta,
            require_pruned,
            out,
        );
    }
}

/// Whether any schema node satisfies `pred`.
pub(crate) fn schema_has(s: &Schema, pred: &dyn Fn(&Schema) -> bool) -> bool {
    if pred(s) {
        return true;
    }
    let children = s
        .items
        .iter()
        .map(|b| b.as_ref())
        .chain(s.items_array.iter().flatten())
        .chain(s.all_of.iter())
        .chain(s.any_of.iter())
        .chain(s.one_of.iter())
        .chain(s.not.iter().map(|b| b.as_ref()))
        .chain(s.properties.values())
        .chain(
            s.additional_properties
                .iter()
                .filter_map(AdditionalProperties::schema),
        )
        .chain(s.pattern_properties.values())
        .chain(
            s.additional_items
                .iter()
                .filter_map(AdditionalProperties::schema),
        )
        .chain(s.definitions.values());
    for c in children {
        if schema_has(c, pred) {
            return true;
        }
    }
    false
}
