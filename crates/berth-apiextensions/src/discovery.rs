//! The resources a CRD adds to discovery.

use berth_apimachinery::resources::{ResourceInfo, SubresourceInfo};
use serde_json::Value;

const VERBS: &[&str] = &[
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "create",
    "update",
    "watch",
];

const TERMINATING_VERBS: &[&str] = &["delete", "deletecollection", "get", "list", "watch"];

const SUBRESOURCE_VERBS: &[&str] = &["get", "patch", "update"];

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The names discovery shows: `status.acceptedNames` once the naming controller has accepted
/// them (as Kubernetes serves accepted names), `spec.names` before that.
fn served_names(crd: &Value) -> &Value {
    static NULL: Value = Value::Null;
    match crd.pointer("/status/acceptedNames") {
        Some(a) if !str_of(a, "plural").is_empty() && !str_of(a, "kind").is_empty() => a,
        _ => crd.pointer("/spec/names").unwrap_or(&NULL),
    }
}

/// One [`ResourceInfo`] per served version of the CRD, in `spec.versions` order, as the
/// CRD's discovery documents list it: resource = plural, singular (defaulted to the
/// lower-cased kind), kind, scope, verbs `delete deletecollection get list patch create update
/// watch` (only `delete deletecollection get list watch` while the CRD is `Terminating`),
/// short names, categories, and the `status` (kind = the CRD's kind) and `scale`
/// (`autoscaling/v1` `Scale`) subresources with verbs `get patch update` when the version
/// declares them.
pub fn crd_resource_infos(crd: &Value) -> Vec<ResourceInfo> {
    let group = crd
        .pointer("/spec/group")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let namespaced = crd.pointer("/spec/scope").and_then(Value::as_str) != Some("Cluster");
    let names = served_names(crd);
    let kind = str_of(names, "kind").to_string();
    let plural = str_of(names, "plural").to_string();
    let singular = match str_of(names, "singular") {
        "" => kind.to_lowercase(),
        s => s.to_string(),
    };
    let short_names = strings(names.get("shortNames"));
    let categories = strings(names.get("categories"));
    // A terminating CRD no longer accepts writes other than deletes.
    let terminating = crd
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some("Terminating")
                    && c.get("status").and_then(Value::as_str) == Some("True")
            })
        });
    let verbs: &[&str] = if terminating {
        TERMINATING_VERBS
    } else {
        VERBS
    };
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    versions
        .iter()
        .filter(|v| v.get("served").and_then(Value::as_bool) == Some(true))
        .filter_map(|v| {
            let version = v.get("name").and_then(Value::as_str)?;
            let mut subresources = Vec::new();
            let subs = v.get("subresources").filter(|s| !s.is_null());
            if subs
                .and_then(|s| s.get("status"))
                .is_some_and(|s| !s.is_null())
            {
                subresources.push(SubresourceInfo {
                    name: "status".into(),
                    kind: kind.clone(),
                    group: String::new(),
                    version: String::new(),
                    verbs: SUBRESOURCE_VERBS.iter().map(|s| s.to_string()).collect(),
                });
            }
            if subs
                .and_then(|s| s.get("scale"))
                .is_some_and(|s| !s.is_null())
            {
                subresources.push(SubresourceInfo {
                    name: "scale".into(),
                    kind: "Scale".into(),
                    group: "autoscaling".into(),
                    version: "v1".into(),
                    verbs: SUBRESOURCE_VERBS.iter().map(|s| s.to_string()).collect(),
                });
            }
            Some(ResourceInfo {
                group: group.to_string(),
                version: version.to_string(),
                resource: plural.clone(),
                singular: singular.clone(),
                kind: kind.clone(),
                namespaced,
                verbs: verbs.iter().map(|s| s.to_string()).collect(),
                short_names: short_names.clone(),
                categories: categories.clone(),
                subresources,
            })
        })
        .collect()
}
