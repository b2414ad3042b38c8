//! Subresources: status, scale, pods/binding, pods/eviction, pods/log, namespaces/finalize,
//! serviceaccounts/token (pods/exec, which takes the connection over, is `podexec`).

use crate::auth::{BoundKind, BoundObject, ServiceAccountClaims, UserInfo};
use crate::body::MediaType;
use crate::handler::{Query, Shape, delete_options, json_response, render_object};
use crate::object;
use crate::patch::{self, PatchBody};
use crate::registry::Served;
use crate::rest::{DeleteOptions, UpdateScope, WriteOptions};
use crate::server::ApiServer;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use berth_apimachinery::builtin::FieldValidation;
use berth_apimachinery::selectors::LabelSelector;
use berth_apimachinery::status::{ApiError, FieldError};
use serde_json::{Value, json};
use std::sync::Arc;

fn media(headers: &HeaderMap) -> Result<MediaType, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    MediaType::parse(ct).ok_or_else(|| ApiError::unsupported_media_type(ct))
}

fn opts(q: &Query) -> Result<WriteOptions, ApiError> {
    Ok(WriteOptions {
        dry_run: q.get("dryRun") == Some("All"),
        field_validation: Some(FieldValidation::Ignore),
        field_manager: q.get("fieldManager").map(str::to_string),
    })
}

#[allow(clippy::too_many_arguments)]
pub async fn handle(
    s: &Arc<ApiServer>,
    served: &Arc<Served>,
    method: &Method,
    ns: Option<&str>,
    name: &str,
    sub: &str,
    headers: &HeaderMap,
    q: &Query,
    bytes: &[u8],
    _user: &UserInfo,
    shape: Shape,
) -> Result<Response, ApiError> {
    let info = &served.info;
    let not_allowed = || {
        ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        )
    };
    match (sub, method.clone()) {
        ("status", Method::GET) => {
            let (obj, _) = s.get_object(served, ns, name).await?;
            Ok(json_response(
                StatusCode::OK,
                &render_object(served, obj, shape),
                &[],
            ))
        }
        ("status", Method::PUT) => {
            let body = crate::handler::object_body(headers, bytes)?;
            let w = s
                .update_object(served, ns, name, UpdateScope::Status, &opts(q)?, |_| {
                    Ok(body.clone())
                })
                .await?;
            Ok(json_response(StatusCode::OK, &w.object, &w.warnings))
        }
        ("status", Method::PATCH) => {
            let (code, w) = patch::patch(
                s,
                served,
                ns,
                name,
                UpdateScope::Status,
                media(headers)?,
                bytes,
                q,
                &opts(q)?,
            )
            .await?;
            Ok(json_response(code, &w.object, &w.warnings))
        }
        ("finalize", Method::PUT) if info.resource == "namespaces" => {
            let body = crate::handler::object_body(headers, bytes)?;
            let w = s
                .update_object(served, ns, name, UpdateScope::Finalize, &opts(q)?, |_| {
                    Ok(body.clone())
                })
                .await?;
            Ok(json_response(StatusCode::OK, &w.object, &w.warnings))
        }
        ("scale", Method::GET) => {
            let (obj, _) = s.get_object(served, ns, name).await?;
            Ok(json_response(StatusCode::OK, &to_scale(served, &obj)?, &[]))
        }
        ("scale", Method::PUT) | ("scale", Method::PATCH) => {
            let m = media(headers)?;
            let parsed = if *method == Method::PUT {
                None
            } else {
                Some(PatchBody::parse(
                    served,
                    if m == MediaType::StrategicMergePatch {
                        MediaType::MergePatch
                    } else {
                        m
                    },
                    bytes,
                )?)
            };
            let put_body = if *method == Method::PUT {
                Some(crate::handler::object_body(headers, bytes)?)
            } else {
                None
            };
            let scale_served = scale_served();
            let w = s
                .update_object(served, ns, name, UpdateScope::Main, &opts(q)?, |current| {
                    let scale = to_scale(served, current)?;
                    let desired = match (&put_body, &parsed) {
                        (Some(b), _) => b.clone(),
                        (None, Some(p)) => p.apply_to(&scale_served, &scale)?,
                        (None, None) => scale.clone(),
                    };
                    let replicas = desired
                        .pointer("/spec/replicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(0);
                    if replicas < 0 {
                        return Err(ApiError::invalid(
                            "autoscaling",
                            "Scale",
                            name,
                            &[FieldError::invalid(
                                "spec.replicas",
                                json!(replicas),
                                "must be greater than or equal to 0",
                            )],
                        ));
                    }
                    let mut out = current.clone();
                    set_spec_replicas(served, &mut out, replicas)?;
                    // The Scale's resourceVersion is the object's: a precondition when given.
                    match object::resource_version(&desired) {
                        Some(rv) => {
                            object::meta_mut(&mut out).insert("resourceVersion".into(), json!(rv))
                        }
                        None => object::meta_mut(&mut out).remove("resourceVersion"),
                    };
                    Ok(out)
                })
                .await?;
            Ok(json_response(
                StatusCode::OK,
                &to_scale(served, &w.object)?,
                &[],
            ))
        }
        ("binding", Method::POST) => bind(s, served, ns, name, headers, bytes).await,
        ("eviction", Method::POST) => evict(s, served, ns, name, headers, bytes).await,
        ("log", Method::GET) => {
            let (pod, _) = s.get_object(served, ns, name).await?;
            let request = crate::podlogs::request_for(&pod, q)?;
            let Some(source) = s.pod_logs.get() else {
                return Err(ApiError::new(
                    503,
                    "ServiceUnavailable",
                    format!("no node agent serves logs for node {:?}", request.node),
                ));
            };
            let stream = source.open(request).await?;
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "text/plain")
                .body(axum::body::Body::from_stream(stream))
                .map_err(|e| ApiError::internal(e.to_string()))
        }
        ("token", Method::POST) if info.resource == "serviceaccounts" => {
            token_request(s, served, ns, name, headers, bytes).await
        }
        _ => Err(not_allowed()),
    }
}

/// A stand-in `Served` for patching Scale objects (they are not stored).
fn scale_served() -> Served {
    Served {
        info: berth_apimachinery::resources::ResourceInfo {
            group: "autoscaling".into(),
            version: "v1".into(),
            resource: "scale".into(),
            singular: "scale".into(),
            kind: "Scale".into(),
            namespaced: true,
            verbs: vec![],
            short_names: vec![],
            categories: vec![],
            subresources: vec![],
        },
        custom: None,
        rendered: Default::default(),
    }
}

/// Paths of replicas and selector: fixed for built-ins, from the CRD for custom resources.
fn scale_paths(served: &Served) -> berth_apiextensions::ScalePaths {
    served
        .custom
        .as_ref()
        .and_then(|c| berth_apiextensions::scale_paths(&c.crd, &served.info.version))
        .unwrap_or_else(|| berth_apiextensions::ScalePaths {
            spec_replicas_path: ".spec.replicas".into(),
            status_replicas_path: ".status.replicas".into(),
            label_selector_path: None,
        })
}

fn set_spec_replicas(served: &Served, obj: &mut Value, replicas: i64) -> Result<(), ApiError> {
    scale_paths(served)
        .set_spec_replicas(obj, replicas)
        .map_err(ApiError::internal)
}

/// The autoscaling/v1 Scale of an object. Built-in kinds take the selector from
/// `spec.selector` (a LabelSelector) in its string form, as their scale REST does.
fn to_scale(served: &Served, obj: &Value) -> Result<Value, ApiError> {
    let mut scale = scale_paths(served)
        .to_scale(obj)
        .map_err(ApiError::internal)?;
    if served.custom.is_none() {
        let selector = obj
            .pointer("/spec/selector")
            .and_then(|sel| LabelSelector::from_label_selector_json(sel).ok())
            .map(|sel| sel.to_string())
            .filter(|s| !s.is_empty());
        if let (Some(sel), Some(status)) = (
            selector,
            scale.get_mut("status").and_then(Value::as_object_mut),
        ) {
            status.insert("selector".into(), json!(sel));
        }
    }
    Ok(scale)
}

async fn bind(
    s: &Arc<ApiServer>,
    served: &Arc<Served>,
    ns: Option<&str>,
    name: &str,
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<Response, ApiError> {
    let binding = crate::handler::object_body(headers, bytes)?;
    let node = binding
        .pointer("/target/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if node.is_empty() {
        return Err(ApiError::invalid(
            "",
            "Binding",
            name,
            &[FieldError::required("target.name", "")],
        ));
    }
    if let Some(kind) = binding.pointer("/target/kind").and_then(Value::as_str)
        && !kind.is_empty()
        && kind != "Node"
    {
        return Err(ApiError::invalid(
            "",
            "Binding",
            name,
            &[FieldError::not_supported(
                "target.kind",
                json!(kind),
                &["Node", "<empty>"],
            )],
        ));
    }
    s.update_object(served, ns, name, UpdateScope::Binding, &WriteOptions::default(), |pod| {
        if object::deletion_timestamp(pod).is_some() {
            return Err(ApiError::conflict("", "pods", name, "pod is being deleted, cannot be assigned to a host"));
        }
        let current = pod.pointer("/spec/nodeName").and_then(Value::as_str).unwrap_or("");
        if !current.is_empty() {
            return Err(ApiError::conflict("", "pods", name, &format!("pod {name} is already assigned to node {current:?}")));
        }
        let mut p = pod.clone();
        // Unconditional, as upstream's GuaranteedUpdate: a concurrent status write (the
        // scheduler marking the pod unschedulable) means retry, not 409.
        if let Some(meta) = p.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
        }
        if let Some(spec) = p.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("nodeName".into(), json!(node));
        }
        let now = object::now_rfc3339();
        let status = p.as_object_mut().map(|m| m.entry("status").or_insert_with(|| json!({})));
        if let Some(status) = status {
            let conds = status
                .as_object_mut()
                .map(|m| m.entry("conditions").or_insert_with(|| json!([])));
            if let Some(Value::Array(c)) = conds {
                c.retain(|x| x.get("type").and_then(Value::as_str) != Some("PodScheduled"));
                c.push(json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": now}));
            }
        }
        Ok(p)
    })
    .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
        &[],
    ))
}

async fn evict(
    s: &Arc<ApiServer>,
    served: &Arc<Served>,
    ns: Option<&str>,
    name: &str,
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<Response, ApiError> {
    let eviction = crate::handler::object_body(headers, bytes)?;
    let ns_name = ns.unwrap_or("default");
    let (pod, _) = s.get_object(served, ns, name).await?;
    let opts: DeleteOptions = match eviction.get("deleteOptions") {
        Some(d) if !d.is_null() => delete_options(&Query::default(), d.to_string().as_bytes())?,
        _ => DeleteOptions::default(),
    };
    let phase = pod
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("");
    // Terminal or already-deleting pods are deleted without consulting budgets.
    let check_budgets =
        !matches!(phase, "Succeeded" | "Failed") && object::deletion_timestamp(&pod).is_none();
    if check_budgets {
        let pdbs = s
            .registry
            .get("policy", "v1", "poddisruptionbudgets")
            .ok_or_else(|| ApiError::internal("poddisruptionbudgets are not served"))?;
        let list =
            crate::handler::list_objects(s, &pdbs, Some(ns_name), &Query::default(), Shape::Full)
                .await?;
        let labels = object::labels(&pod);
        let matching: Vec<&Value> = list
            .get("items")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter(|pdb| {
                        pdb.pointer("/spec/selector")
                            .and_then(|sel| LabelSelector::from_label_selector_json(sel).ok())
                            .is_some_and(|sel| !sel.is_empty() && sel.matches(&labels))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if matching.len() > 1 {
            return Err(ApiError::internal(
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
            ));
        }
        if let Some(pdb) = matching.first() {
            let pdb_name = object::name(pdb).unwrap_or_default().to_string();
            let allowed = pdb
                .pointer("/status/disruptionsAllowed")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let observed = pdb
                .pointer("/status/observedGeneration")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let generation = pdb
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if observed < generation || allowed <= 0 {
                let current = pdb
                    .pointer("/status/currentHealthy")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                let desired = pdb
                    .pointer("/status/desiredHealthy")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                let msg = if observed < generation {
                    format!(
                        "The disruption budget {pdb_name} is still being processed by the server."
                    )
                } else {
                    format!(
                        "The disruption budget {pdb_name} needs {desired} healthy pods and has {current} currently"
                    )
                };
                return Err(ApiError::new(
                    429,
                    "TooManyRequests",
                    "Cannot evict pod as it would violate the pod's disruption budget.",
                )
                .with_details(
                    json!({"causes": [{"reason": "DisruptionBudget", "message": msg}]}),
                ));
            }
            // Record the disruption so concurrent evictions cannot overspend the budget.
            let pod_name = name.to_string();
            s.update_object(
                &pdbs,
                Some(ns_name),
                &pdb_name,
                UpdateScope::Status,
                &WriteOptions::default(),
                |cur| {
                    let mut p = cur.clone();
                    let allowed = p
                        .pointer("/status/disruptionsAllowed")
                        .and_then(Value::as_i64)
                        .unwrap_or(0);
                    if allowed <= 0 {
                        return Err(ApiError::new(
                            429,
                            "TooManyRequests",
                            "Cannot evict pod as it would violate the pod's disruption budget.",
                        ));
                    }
                    if let Some(st) = p.get_mut("status").and_then(Value::as_object_mut) {
                        st.insert("disruptionsAllowed".into(), json!(allowed - 1));
                        let dp = st.entry("disruptedPods").or_insert_with(|| json!({}));
                        if let Some(m) = dp.as_object_mut() {
                            m.insert(pod_name.clone(), json!(object::now_rfc3339()));
                        }
                    }
                    Ok(p)
                },
            )
            .await?;
        }
    }
    s.delete_object(served, ns, name, &opts).await?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
        &[],
    ))
}

/// The object a TokenRequest's `boundObjectRef` names, which must exist (with the given uid, if
/// any) in the ServiceAccount's namespace, as upstream's TokenRequest REST storage checks.
async fn bound_object(
    s: &Arc<ApiServer>,
    namespace: &str,
    reference: &Value,
) -> Result<BoundObject, ApiError> {
    let field = |f: &str| reference.get(f).and_then(Value::as_str).unwrap_or_default();
    let (api_version, kind, name, uid) = (
        field("apiVersion"),
        field("kind"),
        field("name"),
        field("uid"),
    );
    let Some(bound_kind) = BoundKind::from_ref(api_version, kind) else {
        return Err(ApiError::bad_request(format!(
            "cannot bind token to object of type {api_version}, Kind={kind}"
        )));
    };
    let served = s
        .registry
        .get("", "v1", bound_kind.resource())
        .ok_or_else(|| ApiError::internal(format!("{} are not served", bound_kind.resource())))?;
    let (obj, _) = s.get_object(&served, Some(namespace), name).await?;
    let actual = object::uid(&obj).unwrap_or_default();
    if !uid.is_empty() && uid != actual {
        return Err(ApiError::conflict(
            "",
            kind,
            name,
            &format!(
                "the UID in the bound object reference ({uid}) does not match the UID in record. The object might have been deleted and then recreated"
            ),
        ));
    }
    Ok(BoundObject {
        kind: bound_kind,
        name: name.to_string(),
        uid: actual.to_string(),
    })
}

async fn token_request(
    s: &Arc<ApiServer>,
    served: &Arc<Served>,
    ns: Option<&str>,
    name: &str,
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<Response, ApiError> {
    let req = if bytes.is_empty() {
        json!({})
    } else {
        crate::handler::object_body(headers, bytes)?
    };
    let (sa, _) = s.get_object(served, ns, name).await?;
    let expiration = req
        .pointer("/spec/expirationSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(3600);
    if expiration < 600 {
        return Err(ApiError::invalid(
            "authentication.k8s.io",
            "TokenRequest",
            name,
            &[FieldError::invalid(
                "spec.expirationSeconds",
                json!(expiration),
                "may not specify a duration less than 10 minutes",
            )],
        ));
    }
    let audiences: Vec<String> = req
        .pointer("/spec/audiences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .filter(|a: &Vec<String>| !a.is_empty())
        .unwrap_or_else(|| vec!["https://kubernetes.default.svc.cluster.local".into()]);
    let namespace = ns.unwrap_or("default");
    let bound = match req.pointer("/spec/boundObjectRef") {
        None | Some(Value::Null) => None,
        Some(r) => Some(bound_object(s, namespace, r).await?),
    };
    let claims = ServiceAccountClaims {
        namespace: namespace.to_string(),
        name: name.to_string(),
        uid: object::uid(&sa).unwrap_or_default().to_string(),
        bound,
    };
    let (token, exp) = s
        .authn
        .issue_service_account_token(&claims, &audiences, expiration);
    let exp_ts = jiff::Timestamp::from_second(exp)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    let mut spec = req.get("spec").cloned().unwrap_or(json!({}));
    spec["audiences"] = json!(audiences);
    spec["expirationSeconds"] = json!(expiration);
    let out = json!({
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": claims.namespace, "creationTimestamp": null},
        "spec": spec,
        "status": {"token": token, "expirationTimestamp": exp_ts},
    });
    Ok(json_response(StatusCode::CREATED, &out, &[]))
}
