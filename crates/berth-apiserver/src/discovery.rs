//! Legacy discovery documents: `/api`, `/apis`, `/apis/G`, `/api/v1`, `/apis/G/V`.

use crate::registry::Registry;
use berth_apimachinery::resources::ResourceInfo;
use serde_json::{Value, json};

pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_entry(group: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    let preferred = vs.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "versions": vs, "preferredVersion": preferred})
}

pub fn api_group_list(registry: &Registry) -> Value {
    let groups: Vec<Value> = registry
        .groups()
        .iter()
        .map(|(g, vs)| group_entry(g, vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn api_group(registry: &Registry, group: &str) -> Option<Value> {
    let versions = registry.versions_of(group);
    if versions.is_empty() || group.is_empty() {
        return None;
    }
    let mut g = group_entry(group, &versions);
    if let Some(m) = g.as_object_mut() {
        m.insert("kind".into(), json!("APIGroup"));
        m.insert("apiVersion".into(), json!("v1"));
    }
    Some(g)
}

fn resource_entries(info: &ResourceInfo) -> Vec<Value> {
    let mut main = json!({
        "name": info.resource,
        "singularName": info.singular,
        "namespaced": info.namespaced,
        "kind": info.kind,
        "verbs": info.verbs,
    });
    if !info.short_names.is_empty() {
        main["shortNames"] = json!(info.short_names);
    }
    if !info.categories.is_empty() {
        main["categories"] = json!(info.categories);
    }
    let mut out = vec![main];
    for sub in &info.subresources {
        let mut e = json!({
            "name": format!("{}/{}", info.resource, sub.name),
            "singularName": "",
            "namespaced": info.namespaced,
            "kind": sub.kind,
            "verbs": sub.verbs,
        });
        if !sub.group.is_empty() {
            e["group"] = json!(sub.group);
        }
        if !sub.version.is_empty() {
            e["version"] = json!(sub.version);
        }
        out.push(e);
    }
    out
}

pub fn api_resource_list(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let served = registry.resources_of(group, version);
    if served.is_empty() {
        return None;
    }
    let resources: Vec<Value> = served
        .iter()
        .flat_map(|s| resource_entries(&s.info))
        .collect();
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": resources,
    }))
}
