//! Server-side apply of rendered objects and pruning of those no longer rendered.

use std::collections::BTreeSet;

use berth_spec::meta::{FIELD_MANAGER, LABEL_OWNER};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use serde_json::{Value, json};

use crate::OperatorError;
use crate::kinds::{managed_kinds, resource_for};
use crate::owner::Owner;

/// `(kind, name)` of an applied object.
pub type Applied = BTreeSet<(String, String)>;

/// The object as it is sent: in the owner's namespace, controlled by the owner, with the owner
/// label (the renderer sets it; it is what pruning selects on, so it is made sure of).
pub fn prepare(object: &Value, owner: &Owner) -> Result<Value, OperatorError> {
    let mut object = object.clone();
    let meta = object
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
        .ok_or(OperatorError::IncompleteObject("metadata"))?;
    meta.insert("namespace".into(), json!(owner.namespace));
    meta.insert(
        "ownerReferences".into(),
        serde_json::to_value(vec![owner.reference()])?,
    );
    let labels = meta
        .entry("labels")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or(OperatorError::IncompleteObject("metadata.labels"))?;
    labels
        .entry(LABEL_OWNER)
        .or_insert_with(|| json!(owner.label_value()));
    Ok(object)
}

fn str_at<'a>(object: &'a Value, pointer: &'static str) -> Result<&'a str, OperatorError> {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .ok_or(OperatorError::IncompleteObject(pointer))
}

/// Applies `objects` in order with server-side apply (forced: the operator owns these fields).
pub async fn apply_all(
    client: &kube::Client,
    owner: &Owner,
    objects: &[Value],
) -> Result<Applied, OperatorError> {
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let mut applied = Applied::new();
    for object in objects {
        let api_version = str_at(object, "/apiVersion")?;
        let kind = str_at(object, "/kind")?;
        let name = str_at(object, "/metadata/name")?;
        let resource =
            resource_for(api_version, kind).ok_or_else(|| OperatorError::UnknownKind {
                api_version: api_version.into(),
                kind: kind.into(),
                name: name.into(),
            })?;
        let body = prepare(object, owner)?;
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), &owner.namespace, &resource);
        api.patch(name, &params, &Patch::Apply(&body)).await?;
        tracing::debug!(kind, name, namespace = owner.namespace, "applied");
        applied.insert((kind.to_string(), name.to_string()));
    }
    Ok(applied)
}

/// Deletes objects labelled and controlled by `owner` that are not in `keep` (the Ingress once
/// the domain is gone, the PDB once scaled to one pod...). Returns how many were deleted.
pub async fn prune(
    client: &kube::Client,
    owner: &Owner,
    keep: &Applied,
) -> Result<usize, OperatorError> {
    let mut deleted = 0;
    let selector = owner.selector();
    for resource in managed_kinds() {
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), &owner.namespace, &resource);
        let list = api.list(&ListParams::default().labels(&selector)).await?;
        for item in list.items {
            let Some(name) = item.metadata.name.clone() else {
                continue;
            };
            let controlled = item
                .metadata
                .owner_references
                .as_ref()
                .is_some_and(|refs| refs.iter().any(|r| r.uid == owner.uid));
            if !controlled
                || item.metadata.deletion_timestamp.is_some()
                || keep.contains(&(resource.kind.clone(), name.clone()))
            {
                continue;
            }
            match api.delete(&name, &DeleteParams::background()).await {
                Ok(_) => {
                    deleted += 1;
                    tracing::info!(
                        kind = resource.kind,
                        name,
                        namespace = owner.namespace,
                        "pruned object no longer rendered"
                    );
                }
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> Owner {
        Owner {
            api_version: "berth.dev/v1alpha1".into(),
            kind: "App",
            name: "web".into(),
            namespace: "shop".into(),
            uid: "u-1".into(),
        }
    }

    #[test]
    fn prepare_sets_namespace_owner_and_label() {
        let obj = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "other", "labels": {"app": "web"}}});
        let out = prepare(&obj, &owner()).expect("prepare");
        assert_eq!(out["metadata"]["namespace"], "shop");
        assert_eq!(out["metadata"]["labels"]["app"], "web");
        assert_eq!(out["metadata"]["labels"]["berth.dev/owner"], "App.web");
        let r = &out["metadata"]["ownerReferences"][0];
        assert_eq!(r["uid"], "u-1");
        assert_eq!(r["kind"], "App");
        assert_eq!(r["apiVersion"], "berth.dev/v1alpha1");
        assert_eq!(r["controller"], true);
        assert_eq!(r["blockOwnerDeletion"], true);
        assert!(prepare(&json!({"kind": "Service"}), &owner()).is_err());
    }
}
