//! PATCH: JSON patch (RFC 6902), JSON merge patch (RFC 7396), strategic merge patch and
//! server-side apply.

use crate::body::{self, MediaType};
use crate::handler::Query;
use crate::object;
use crate::registry::Served;
use crate::rest::{UpdateScope, WriteOptions, Written};
use crate::server::ApiServer;
use axum::http::StatusCode;
use berth_apimachinery::status::ApiError;
use serde_json::Value;
use std::sync::Arc;

/// A parsed patch body.
pub enum PatchBody {
    Json(json_patch::Patch),
    Merge(Value),
    Strategic(Value),
    Apply(Value),
}

impl PatchBody {
    pub fn parse(served: &Served, media: MediaType, bytes: &[u8]) -> Result<Self, ApiError> {
        match media {
            MediaType::JsonPatch => {
                let v = body::parse_json(bytes)?;
                serde_json::from_value::<json_patch::Patch>(v)
                    .map(PatchBody::Json)
                    .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))
            }
            MediaType::MergePatch => Ok(PatchBody::Merge(body::parse_json(bytes)?)),
            MediaType::StrategicMergePatch => {
                if served.is_custom() {
                    return Err(ApiError::unsupported_media_type(
                        "application/strategic-merge-patch+json",
                    ));
                }
                Ok(PatchBody::Strategic(body::parse_json(bytes)?))
            }
            MediaType::ApplyPatch => Ok(PatchBody::Apply(body::parse_yaml(bytes)?)),
            _ => Err(ApiError::unsupported_media_type(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
            )),
        }
    }

    /// Applies the patch to `current` (whose resourceVersion is removed first, so that a
    /// resourceVersion in the result comes from the patch and acts as a precondition).
    pub fn apply_to(&self, served: &Served, current: &Value) -> Result<Value, ApiError> {
        let mut doc = current.clone();
        if let Some(m) = doc.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("resourceVersion");
        }
        match self {
            PatchBody::Json(p) => {
                json_patch::patch(&mut doc, p).map_err(|e| {
                    ApiError::new(
                        422,
                        "Invalid",
                        format!(
                            "the server rejected our request due to an error in our request: {e}"
                        ),
                    )
                })?;
            }
            PatchBody::Merge(p) => {
                if !p.is_object() {
                    return Err(ApiError::bad_request(
                        "json: cannot unmarshal into Go value of type map[string]interface {}",
                    ));
                }
                json_patch::merge(&mut doc, p);
            }
            PatchBody::Strategic(p) => {
                doc = berth_apimachinery::strategic::apply(
                    &served.info.group,
                    &served.info.kind,
                    &doc,
                    p,
                )?;
            }
            PatchBody::Apply(_) => {
                return Err(ApiError::internal(
                    "apply patches are handled by the apply path",
                ));
            }
        }
        Ok(doc)
    }
}

/// Serves a PATCH on the main resource or the status subresource.
#[allow(clippy::too_many_arguments)]
pub async fn patch(
    s: &Arc<ApiServer>,
    served: &Arc<Served>,
    ns: Option<&str>,
    name: &str,
    scope: UpdateScope,
    media: MediaType,
    bytes: &[u8],
    q: &Query,
    opts: &WriteOptions,
) -> Result<(StatusCode, Written), ApiError> {
    let body = PatchBody::parse(served, media, bytes)?;
    if let PatchBody::Apply(obj) = &body {
        let force = q.bool("force")?.unwrap_or(false);
        return crate::apply::server_side_apply(s, served, ns, name, scope, obj, force, opts).await;
    }
    if opts.field_manager.as_deref().is_some_and(|m| m.len() > 128) {
        return Err(ApiError::invalid(
            "meta.k8s.io",
            "PatchOptions",
            "",
            &[berth_apimachinery::status::FieldError::too_long(
                "fieldManager",
                Value::Null,
                128,
            )],
        ));
    }
    let w = s
        .update_object(served, ns, name, scope, opts, |current| {
            let mut out = body.apply_to(served, current)?;
            if object::name(&out).is_none() {
                object::meta_mut(&mut out).insert("name".into(), Value::String(name.into()));
            }
            Ok(out)
        })
        .await?;
    Ok((StatusCode::OK, w))
}
