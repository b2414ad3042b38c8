//! Pruning of unknown fields (`pkg/apiserver/schema/pruning`), removal of non-nullable nulls
//! without default (`defaulting.PruneNonNullableNullsWithoutDefaults`), pruning of unknown
//! ObjectMeta fields (`objectmeta.Coerce`), and defaulting (`defaulting.Default`).

use crate::schema::Schema;
use serde_json::{Map, Value};

/// Builds unknown-field paths the way `UnknownFieldPathOptions` does: `spec.foo`,
/// `spec.items[0].bar`.
#[derive(Default)]
struct Tracker {
    parent: Vec<String>,
    found: Vec<String>,
}

impl Tracker {
    fn push_key(&mut self, k: &str) {
        if !self.parent.is_empty() {
            self.parent.push(".".into());
        }
        self.parent.push(k.to_string());
    }

    fn push_index(&mut self, i: usize) {
        self.parent.push(format!("[{i}]"));
    }

    fn truncate(&mut self, len: usize) {
        self.parent.truncate(len);
    }

    fn record(&mut self, k: &str) {
        let len = self.parent.len();
        self.push_key(k);
        self.found.push(self.parent.concat());
        self.truncate(len);
    }
}

const META_FIELDS: &[&str] = &["apiVersion", "kind", "metadata"];

/// Prunes `obj` (a whole resource) against `s`. Returns the sorted paths of pruned fields.
pub(crate) fn prune_resource(obj: &mut Value, s: &Schema) -> Vec<String> {
    let mut t = Tracker::default();
    prune(obj, Some(s), true, &mut t);
    let mut out = t.found;
    out.sort();
    out
}

/// Prunes a value that is not a resource root (used to check that defaults are pruned).
pub(crate) fn prune_value(obj: &mut Value, s: &Schema, is_resource_root: bool) {
    let mut t = Tracker::default();
    prune(obj, Some(s), is_resource_root, &mut t);
}

/// `embedded` is true where TypeMeta/ObjectMeta fields are skipped: the resource root and
/// `x-kubernetes-embedded-resource` nodes.
fn prune(x: &mut Value, s: Option<&Schema>, root: bool, t: &mut Tracker) {
    if let Some(sc) = s
        && sc.preserve_unknown_fields()
    {
        skip_prune(x, sc, root, t);
        return;
    }
    let orig = t.parent.len();
    match x {
        Value::Object(m) => {
            let Some(sc) = s else {
                let keys: Vec<String> = m.keys().cloned().collect();
                for k in keys {
                    t.record(&k);
                    m.remove(&k);
                }
                return;
            };
            let embedded = root || sc.x_embedded_resource;
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                if embedded && META_FIELDS.contains(&k.as_str()) {
                    continue;
                }
                if let Some(prop) = sc.properties.get(&k) {
                    t.push_key(&k);
                    if let Some(v) = m.get_mut(&k) {
                        prune(v, Some(prop), false, t);
                    }
                    t.truncate(orig);
                } else if let Some(ap) = &sc.additional_properties {
                    t.push_key(&k);
                    if let Some(v) = m.get_mut(&k) {
                        prune(v, ap.schema(), false, t);
                    }
                    t.truncate(orig);
                } else {
                    if !META_FIELDS.contains(&k.as_str()) || !t.parent.is_empty() {
                        t.record(&k);
                    }
                    m.remove(&k);
                }
            }
        }
        Value::Array(a) => {
            let items = s.and_then(|sc| sc.items.as_deref());
            for (i, v) in a.iter_mut().enumerate() {
                t.push_index(i);
                prune(v, items, false, t);
                t.truncate(orig);
            }
        }
        _ => {}
    }
}

fn skip_prune(x: &mut Value, s: &Schema, root: bool, t: &mut Tracker) {
    let orig = t.parent.len();
    match x {
        Value::Object(m) => {
            let embedded = root || s.x_embedded_resource;
            for (k, v) in m.iter_mut() {
                if embedded && META_FIELDS.contains(&k.as_str()) {
                    continue;
                }
                if let Some(prop) = s.properties.get(k) {
                    t.push_key(k);
                    prune(v, Some(prop), false, t);
                    t.truncate(orig);
                } else if let Some(ap) = &s.additional_properties {
                    t.push_key(k);
                    prune(v, ap.schema(), false, t);
                    t.truncate(orig);
                }
            }
        }
        Value::Array(a) => {
            if let Some(items) = s.items.as_deref() {
                for (i, v) in a.iter_mut().enumerate() {
                    t.push_index(i);
                    skip_prune(v, items, false, t);
                    t.truncate(orig);
                }
            }
        }
        _ => {}
    }
}

/// Removes nulls where the schema neither allows null nor has a default to replace it with.
pub(crate) fn prune_non_nullable_nulls(x: &mut Value, s: Option<&Schema>) {
    match x {
        Value::Object(m) => {
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                let fs = s.and_then(|sc| sc.field_schema(&k));
                let remove = matches!(m.get(&k), Some(Value::Null))
                    && fs.is_some_and(|f| !f.nullable && f.default.is_none());
                if remove {
                    m.remove(&k);
                } else if let Some(v) = m.get_mut(&k) {
                    prune_non_nullable_nulls(v, fs);
                }
            }
        }
        Value::Array(a) => {
            let items = s.and_then(|sc| sc.items.as_deref());
            for v in a.iter_mut() {
                prune_non_nullable_nulls(v, items);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// ObjectMeta.

/// The JSON fields of `metav1.ObjectMeta`.
const OBJECT_META_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

const OWNER_REFERENCE_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "name",
    "uid",
    "controller",
    "blockOwnerDeletion",
];

const MANAGED_FIELDS_ENTRY_FIELDS: &[&str] = &[
    "manager",
    "operation",
    "apiVersion",
    "time",
    "fieldsType",
    "fieldsV1",
    "subresource",
];

/// Drops the fields of `metadata` (at `prefix`, e.g. `metadata` or `spec.template.metadata`)
/// that `ObjectMeta` does not know, as the round trip through the Go type does. Returns the
/// paths of the dropped fields.
pub(crate) fn prune_object_meta(meta: &mut Map<String, Value>, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let keys: Vec<String> = meta.keys().cloned().collect();
    for k in keys {
        if !OBJECT_META_FIELDS.contains(&k.as_str()) {
            meta.remove(&k);
            out.push(format!("{prefix}.{k}"));
            continue;
        }
        let known: &[&str] = match k.as_str() {
            "ownerReferences" => OWNER_REFERENCE_FIELDS,
            "managedFields" => MANAGED_FIELDS_ENTRY_FIELDS,
            _ => continue,
        };
        if let Some(Value::Array(items)) = meta.get_mut(&k) {
            for (i, item) in items.iter_mut().enumerate() {
                if let Value::Object(im) = item {
                    let ikeys: Vec<String> = im.keys().cloned().collect();
                    for ik in ikeys {
                        if !known.contains(&ik.as_str()) {
                            im.remove(&ik);
                            out.push(format!("{prefix}.{k}[{i}].{ik}"));
                        }
                    }
                }
            }
        }
    }
    out
}

/// `objectmeta.Coerce` below the root: prunes unknown metadata fields of embedded resources.
pub(crate) fn coerce_embedded(path: &str, x: &mut Value, s: &Schema, out: &mut Vec<String>) {
    match x {
        Value::Object(m) => {
            if s.x_embedded_resource {
                let mpath = if path.is_empty() {
                    "metadata".to_string()
                } else {
                    format!("{path}.metadata")
                };
                if let Some(Value::Object(meta)) = m.get_mut("metadata") {
                    out.extend(prune_object_meta(meta, &mpath));
                    // The round trip through ObjectMeta drops nulls and a zero creationTimestamp.
                    meta.retain(|_, v| !v.is_null());
                }
            }
            for (k, v) in m.iter_mut() {
                if let Some(p) = s.properties.get(k) {
                    let child = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    coerce_embedded(&child, v, p, out);
                } else if let Some(aps) = s.additional_properties.as_ref().and_then(|a| a.schema())
                {
                    coerce_embedded(&format!("{path}[{k}]"), v, aps, out);
                }
            }
        }
        Value::Array(a) => {
            if let Some(items) = s.items.as_deref() {
                for (i, v) in a.iter_mut().enumerate() {
                    coerce_embedded(&format!("{path}[{i}]"), v, items, out);
                }
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Defaulting.

fn is_non_nullable_null(x: &Value, s: Option<&Schema>) -> bool {
    x.is_null() && s.is_some_and(|sc| !sc.nullable)
}

/// `defaulting.Default`: sets missing (and non-nullable null) fields that have a default,
/// recursively, including array items and additionalProperties values.
pub(crate) fn apply_defaults(x: &mut Value, s: Option<&Schema>) {
    let Some(s) = s else {
        return;
    };
    match x {
        Value::Object(m) => {
            for (k, prop) in &s.properties {
                let Some(def) = &prop.default else {
                    continue;
                };
                let missing = match m.get(k) {
                    None => true,
                    Some(v) => is_non_nullable_null(v, Some(prop)),
                };
                if missing {
                    m.insert(k.clone(), def.clone());
                }
            }
            for (k, v) in m.iter_mut() {
                if let Some(prop) = s.properties.get(k) {
                    apply_defaults(v, Some(prop));
                } else if let Some(ap) = &s.additional_properties {
                    let aps = ap.schema();
                    if is_non_nullable_null(v, aps)
                        && let Some(def) = aps.and_then(|a| a.default.as_ref())
                    {
                        *v = def.clone();
                    }
                    apply_defaults(v, aps);
                }
            }
        }
        Value::Array(a) => {
            let items = s.items.as_deref();
            for v in a.iter_mut() {
                if is_non_nullable_null(v, items)
                    && let Some(def) = items.and_then(|i| i.default.as_ref())
                {
                    *v = def.clone();
                }
                apply_defaults(v, items);
            }
        }
        _ => {}
    }
}
