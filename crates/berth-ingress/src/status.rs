//! What the router writes to the API: its IngressClass, and its address in the status of the
//! Ingresses it serves (ingress-nginx's `--publish-status-address`).

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::networking::v1::{
    Ingress, IngressClass, IngressClassSpec, IngressLoadBalancerIngress,
};
use kube::Client;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use serde_json::json;

/// Marks an IngressClass as the cluster's default.
pub(crate) const ANNOTATION_DEFAULT_CLASS: &str = "ingressclass.kubernetes.io/is-default-class";

/// Creates the router's IngressClass (the default class) unless it exists. An existing class
/// is left as its owner made it; a different controller there is only logged.
pub(crate) async fn ensure_ingress_class(
    client: &Client,
    class_name: &str,
    controller_name: &str,
) -> Result<(), kube::Error> {
    let api: Api<IngressClass> = Api::all(client.clone());
    if let Some(existing) = api.get_opt(class_name).await? {
        let controller = existing.spec.as_ref().and_then(|s| s.controller.as_deref());
        if controller != Some(controller_name) {
            tracing::warn!(
                class = class_name,
                controller = controller.unwrap_or(""),
                "IngressClass exists with another controller; serving its Ingresses anyway"
            );
        }
        return Ok(());
    }
    let class = IngressClass {
        metadata: ObjectMeta {
            name: Some(class_name.to_string()),
            annotations: Some(BTreeMap::from([(
                ANNOTATION_DEFAULT_CLASS.to_string(),
                "true".to_string(),
            )])),
            ..ObjectMeta::default()
        },
        spec: Some(IngressClassSpec {
            controller: Some(controller_name.to_string()),
            parameters: None,
        }),
    };
    match api.create(&PostParams::default(), &class).await {
        Ok(_) => {
            tracing::info!(class = class_name, "created IngressClass");
            Ok(())
        }
        // Someone made it meanwhile: fine.
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

/// The status entry for `address`: an IP, else a hostname.
pub(crate) fn load_balancer_entry(address: &str) -> IngressLoadBalancerIngress {
    if address.parse::<IpAddr>().is_ok() {
        IngressLoadBalancerIngress {
            ip: Some(address.to_string()),
            ..Default::default()
        }
    } else {
        IngressLoadBalancerIngress {
            hostname: Some(address.to_string()),
            ..Default::default()
        }
    }
}

/// Writes `entry` as the status address of every Ingress in `served` that shows another one.
pub(crate) async fn publish(
    client: &Client,
    served: &[&Ingress],
    entry: &IngressLoadBalancerIngress,
) {
    for ing in served {
        let current = ing
            .status
            .as_ref()
            .and_then(|s| s.load_balancer.as_ref())
            .and_then(|lb| lb.ingress.as_deref())
            .unwrap_or_default();
        if current.len() == 1 && current[0] == *entry {
            continue;
        }
        let (Some(ns), Some(name)) = (
            ing.metadata.namespace.as_deref(),
            ing.metadata.name.as_deref(),
        ) else {
            continue;
        };
        let api: Api<Ingress> = Api::namespaced(client.clone(), ns);
        let patch = json!({"status": {"loadBalancer": {"ingress": [entry]}}});
        if let Err(e) = api
            .patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            tracing::debug!(ingress = %format!("{ns}/{name}"), error = %e, "updating ingress status failed");
        }
    }
}
