//! Admission plugins of Kubernetes that need server state, run by [`crate::rest`] on create:
//!
//! - mutating, after defaulting and before validation: `DefaultIngressClass`, `ServiceAccount`
//!   ([`serviceaccount`]), `DefaultTolerationSeconds` ([`tolerations`]) and the defaulting half
//!   of `LimitRanger` ([`limitranger`]);
//! - validating, after validation and just before storage: the checks of `LimitRanger`, then
//!   `ResourceQuota` ([`quota`]), which also charges the new object to the namespace's quotas
//!   (`status.used`, written with optimistic concurrency, so concurrent creates cannot both
//!   take the last unit).
//!
//! Refusals are 403 Forbidden with upstream's messages (`pods "x" is forbidden: ...`).

pub mod limitranger;
pub mod quota;
pub mod serviceaccount;
pub mod tolerations;

use std::collections::HashSet;

use berth_apimachinery::status::{ApiError, group_resource};
use serde_json::{Value, json};

use crate::object;
use crate::registry::Served;
use crate::rest::{UpdateScope, WriteOptions, from_storage, map_store_error, qos_class};
use crate::server::ApiServer;

/// Attempts at charging quotas when their status keeps changing underneath.
const QUOTA_RETRIES: usize = 10;

fn is_ingresses(served: &Served) -> bool {
    !served.is_custom()
        && served.info.group == "networking.k8s.io"
        && served.info.resource == "ingresses"
}

fn is_pods(served: &Served) -> bool {
    !served.is_custom() && served.info.group.is_empty() && served.info.resource == "pods"
}

/// `admission.NewForbidden`: `<resource> "<name>" is forbidden: <message>`.
fn forbidden(served: &Served, name: &str, message: &str) -> ApiError {
    let (group, resource) = (&served.info.group, &served.info.resource);
    let mut details = json!({"name": name, "kind": resource});
    if !group.is_empty() {
        details["group"] = json!(group);
    }
    ApiError::forbidden(format!(
        "{} \"{name}\" is forbidden: {message}",
        group_resource(group, resource)
    ))
    .with_details(details)
}

impl ApiServer {
    /// Mutating admission of a new object (after defaulting, before validation).
    pub(crate) async fn admit_create_mutating(
        &self,
        served: &Served,
        obj: &mut Value,
    ) -> Result<(), ApiError> {
        if is_ingresses(served) {
            return self.admit_default_ingress_class(obj).await;
        }
        if !is_pods(served) {
            return Ok(());
        }
        let Some(ns) = object::meta_str(obj, "namespace").map(str::to_string) else {
            return Ok(());
        };
        if self
            .service_account_admission
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            self.admit_service_account(obj, &ns).await?;
        }
        tolerations::admit(obj);
        let ranges = self.list_core("limitranges", &ns).await?;
        limitranger::mutate(obj, &ranges);
        // The QoS class depends on the resources just defaulted.
        let qos = qos_class(obj);
        if let Some(status) = obj.get_mut("status").and_then(Value::as_object_mut) {
            status.insert("qosClass".into(), json!(qos));
        }
        Ok(())
    }

    /// `DefaultIngressClass`: an Ingress without a class (neither `spec.ingressClassName` nor
    /// the legacy annotation) gets the default IngressClass's name; with several defaults, the
    /// newest.
    async fn admit_default_ingress_class(&self, obj: &mut Value) -> Result<(), ApiError> {
        let has_class = obj
            .pointer("/spec/ingressClassName")
            .is_some_and(|v| !v.is_null())
            || obj
                .pointer("/metadata/annotations/kubernetes.io~1ingress.class")
                .is_some();
        if has_class {
            return Ok(());
        }
        let classes = self
            .list_objects("networking.k8s.io", "v1", "ingressclasses", None)
            .await?;
        let default = classes
            .iter()
            .filter(|c| {
                c.pointer("/metadata/annotations/ingressclass.kubernetes.io~1is-default-class")
                    .and_then(Value::as_str)
                    == Some("true")
            })
            .max_by_key(|c| {
                object::meta_str(c, "creationTimestamp")
                    .unwrap_or_default()
                    .to_string()
            });
        if let (Some(class), Some(spec)) = (
            default.and_then(|c| object::name(c)),
            obj.get_mut("spec").and_then(Value::as_object_mut),
        ) {
            spec.insert("ingressClassName".into(), json!(class));
        }
        Ok(())
    }

    async fn admit_service_account(&self, obj: &mut Value, ns: &str) -> Result<(), ApiError> {
        let account_name = obj
            .pointer("/spec/serviceAccountName")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or("default")
            .to_string();
        let accounts = self.list_core("serviceaccounts", ns).await?;
        let account = accounts
            .iter()
            .find(|a| object::name(a) == Some(account_name.as_str()));
        serviceaccount::admit(obj, account);
        Ok(())
    }

    /// Validating admission of a new object (after validation, before storage). Charges the
    /// namespace's quotas unless `dry_run`.
    pub(crate) async fn admit_create_validating(
        &self,
        served: &Served,
        obj: &Value,
        dry_run: bool,
    ) -> Result<(), ApiError> {
        if !served.info.namespaced {
            return Ok(());
        }
        let Some(ns) = object::meta_str(obj, "namespace") else {
            return Ok(());
        };
        let name = object::name(obj).unwrap_or_default();
        if is_pods(served) {
            let ranges = self.list_core("limitranges", ns).await?;
            let errors = limitranger::validate(obj, &ranges);
            if !errors.is_empty() {
                return Err(forbidden(served, name, &limitranger::aggregate(&errors)));
            }
        }
        self.charge_quotas(served, ns, obj, dry_run).await
    }

    async fn charge_quotas(
        &self,
        served: &Served,
        ns: &str,
        obj: &Value,
        dry_run: bool,
    ) -> Result<(), ApiError> {
        let Some(quota_served) = self.registry.get("", "v1", "resourcequotas") else {
            return Ok(());
        };
        let name = object::name(obj).unwrap_or_default();
        let (group, resource) = (served.info.group.as_str(), served.info.resource.as_str());
        // Quotas already charged in an earlier attempt (by uid).
        let mut done: HashSet<String> = HashSet::new();
        for _ in 0..QUOTA_RETRIES {
            let quotas: Vec<Value> = self
                .list_core("resourcequotas", ns)
                .await?
                .into_iter()
                .filter(|q| !done.contains(object::uid(q).unwrap_or_default()))
                .collect();
            if quotas.is_empty() {
                return Ok(());
            }
            let charged = quota::evaluate(&quotas, group, resource, obj)
                .map_err(|m| forbidden(served, name, &m))?;
            if dry_run {
                return Ok(());
            }
            let mut retry = false;
            for (i, used) in charged {
                let quota = &quotas[i];
                let quota_name = object::name(quota).unwrap_or_default().to_string();
                let mut desired = quota.clone();
                if let Some(m) = desired.as_object_mut() {
                    let status = m.entry("status").or_insert_with(|| json!({}));
                    status["used"] = berth_apimachinery::quota::to_json(&used);
                }
                // The resourceVersion read is a precondition: a concurrent charge conflicts.
                let result = self
                    .update_object(
                        &quota_served,
                        Some(ns),
                        &quota_name,
                        UpdateScope::Status,
                        &WriteOptions::default(),
                        |_| Ok(desired.clone()),
                    )
                    .await;
                match result {
                    Ok(_) => {
                        done.insert(object::uid(quota).unwrap_or_default().to_string());
                    }
                    Err(e) if e.code == 409 || e.code == 404 => {
                        retry = true;
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            if !retry {
                return Ok(());
            }
        }
        Err(ApiError::conflict(
            group,
            resource,
            name,
            "Operation cannot be fulfilled: resource quotas kept changing, please try again",
        ))
    }

    /// The objects of a core v1 resource in one namespace.
    async fn list_core(&self, resource: &str, ns: &str) -> Result<Vec<Value>, ApiError> {
        self.list_objects("", "v1", resource, Some(ns)).await
    }

    /// The objects of a resource (in one namespace, or all / cluster-scoped with `None`).
    async fn list_objects(
        &self,
        group: &str,
        version: &str,
        resource: &str,
        ns: Option<&str>,
    ) -> Result<Vec<Value>, ApiError> {
        let Some(served) = self.registry.get(group, version, resource) else {
            return Ok(Vec::new());
        };
        let list = self
            .store
            .list(berth_store::ListRequest {
                prefix: served.list_prefix(ns),
                ..Default::default()
            })
            .await
            .map_err(|e| map_store_error(&served, "", e))?;
        list.items
            .iter()
            .map(|kv| from_storage(&served, kv))
            .collect()
    }
}
