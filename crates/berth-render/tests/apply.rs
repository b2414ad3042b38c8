//! Every golden case, server-side applied to an API server (`TestCluster`), is accepted as is;
//! the stored objects hold every rendered field with the same value (so quantities and the
//! like are already in the server's canonical form), and applying the same render again
//! changes nothing: what the operator relies on to re-apply on every reconcile.

mod common;

use berth_apiserver::testing::TestCluster;
use berth_spec::meta::FIELD_MANAGER;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::Value;

fn api_for(client: &kube::Client, object: &Value) -> Api<DynamicObject> {
    let api_version = object["apiVersion"].as_str().expect("apiVersion");
    let kind = object["kind"].as_str().expect("kind");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
    let namespace = object["metadata"]["namespace"].as_str().expect("namespace");
    Api::namespaced_with(client.clone(), namespace, &resource)
}

/// `want` is contained in `have`: every member of every object with an equal value, arrays of
/// the same length element by element. The server may add (defaults, status), not change.
fn contained(want: &Value, have: &Value, path: &str, diffs: &mut Vec<String>) {
    match (want, have) {
        (Value::Object(w), Value::Object(h)) => {
            for (key, value) in w {
                match h.get(key) {
                    Some(hv) => contained(value, hv, &format!("{path}.{key}"), diffs),
                    None => diffs.push(format!("{path}.{key}: missing")),
                }
            }
        }
        (Value::Array(w), Value::Array(h)) if w.len() == h.len() => {
            for (i, (wv, hv)) in w.iter().zip(h).enumerate() {
                contained(wv, hv, &format!("{path}[{i}]"), diffs);
            }
        }
        _ if want == have => {}
        _ => diffs.push(format!("{path}: rendered {want}, stored {have}")),
    }
}

#[tokio::test]
async fn rendered_objects_apply_cleanly_and_reapply_as_no_ops() {
    let cluster = TestCluster::start().await.expect("cluster");
    let client = cluster.client.clone();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let mut failures = Vec::new();
    let mut created_namespaces = std::collections::BTreeSet::new();

    for case in common::cases() {
        let objects = common::render_case(&case);
        for object in &objects {
            let namespace = object["metadata"]["namespace"].as_str().expect("ns");
            if namespace != "default" && created_namespaces.insert(namespace.to_string()) {
                let ns = serde_json::from_value(serde_json::json!({
                    "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}
                }))
                .expect("namespace");
                namespaces
                    .create(&PostParams::default(), &ns)
                    .await
                    .expect("create namespace");
            }
            let api = api_for(&client, object);
            let name = object["metadata"]["name"].as_str().expect("name");
            let label = format!("{}: {} {name}", case.display(), object["kind"]);
            let first = match api.patch(name, &params, &Patch::Apply(object)).await {
                Ok(o) => o,
                Err(e) => {
                    failures.push(format!("{label}: apply refused: {e}"));
                    continue;
                }
            };
            let stored = serde_json::to_value(&first).expect("json");
            let mut diffs = Vec::new();
            for key in ["metadata", "spec", "data"] {
                if let Some(want) = object.get(key) {
                    contained(want, &stored[key], key, &mut diffs);
                }
            }
            if !diffs.is_empty() {
                failures.push(format!("{label}: {}", diffs.join("; ")));
            }
            let again = api
                .patch(name, &params, &Patch::Apply(object))
                .await
                .expect("re-apply");
            if again.metadata.resource_version != first.metadata.resource_version {
                failures.push(format!("{label}: re-applying the same render changed it"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
