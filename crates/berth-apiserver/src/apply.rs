//! Server-side apply (`application/apply-patch+yaml`): create-or-merge with field ownership.
//! The merge and ownership rules are in `berth_apimachinery::apply`; this module fetches the
//! live object and writes the result through the generic registry.

use crate::object;
use crate::registry::Served;
use crate::rest::{UpdateScope, WriteOptions, Written};
use crate::server::ApiServer;
use axum::http::StatusCode;
use berth_apimachinery::apply::{self, Target};
use berth_apimachinery::status::{ApiError, FieldError};
use serde_json::Value;
use std::sync::Arc;

fn target(served: &Served) -> Target<'_> {
    match &served.custom {
        Some(c) => Target::custom(
            &served.info.group,
            &served.info.kind,
            c.schema.as_ref().map(|s| s.raw()),
            served.info.subresource("status").is_some(),
        ),
        None => Target::builtin(&served.info.group, &served.info.kind),
    }
}

#[allow(clippy::too_many_arguments)]
pub async fn server_side_apply(
    s: &Arc<ApiServer>,
    served: &Arc<Served>,
    ns: Option<&str>,
    name: &str,
    scope: UpdateScope,
    applied: &Value,
    force: bool,
    opts: &WriteOptions,
) -> Result<(StatusCode, Written), ApiError> {
    let manager = match opts.field_manager.as_deref() {
        Some(m) if !m.is_empty() => m.to_string(),
        _ => {
            return Err(ApiError::invalid(
                "meta.k8s.io",
                "PatchOptions",
                "",
                &[FieldError::required(
                    "fieldManager",
                    "is required for apply patch",
                )],
            ));
        }
    };
    if !applied.is_object() {
        return Err(ApiError::bad_request(
            "error decoding YAML: the apply configuration is not an object",
        ));
    }
    if let Some(body_name) = object::name(applied)
        && body_name != name
    {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    let pins_version = object::resource_version(applied).is_some();
    let tgt = target(served);
    let now = object::now_rfc3339();
    match s.get_object(served, ns, name).await {
        Err(e) if e.code == 404 && scope == UpdateScope::Main => {
            let result = apply::apply(&tgt, None, applied, &manager, force, &now)
                .map_err(|e| e.to_api_error())?;
            let w = s.create_object(served, ns, result.object, opts).await?;
            Ok((StatusCode::CREATED, w))
        }
        Err(e) => Err(e),
        Ok(_) => {
            let w = s
                .update_object(served, ns, name, scope, opts, |current| {
                    let mut result =
                        apply::apply(&tgt, Some(current), applied, &manager, force, &now)
                            .map_err(|e| e.to_api_error())?;
                    // The live resourceVersion is not a precondition unless the caller sent one.
                    if !pins_version
                        && let Some(m) = result
                            .object
                            .get_mut("metadata")
                            .and_then(Value::as_object_mut)
                    {
                        m.remove("resourceVersion");
                    }
                    Ok(result.object)
                })
                .await?;
            Ok((StatusCode::OK, w))
        }
    }
}
