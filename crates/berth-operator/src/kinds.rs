//! The kinds the renderer produces, with their API resources. A static table instead of
//! discovery: the set is fixed by the renderer, and the table needs no round trip.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::Resource;
use kube::discovery::ApiResource;

/// Every kind an App or CronApp may render to, in apply order.
pub fn managed_kinds() -> Vec<ApiResource> {
    vec![
        ApiResource::erase::<ConfigMap>(&()),
        ApiResource::erase::<Service>(&()),
        ApiResource::erase::<Deployment>(&()),
        ApiResource::erase::<PodDisruptionBudget>(&()),
        ApiResource::erase::<HorizontalPodAutoscaler>(&()),
        ApiResource::erase::<Ingress>(&()),
        ApiResource::erase::<CronJob>(&()),
    ]
}

/// The API resource of an object by its `apiVersion` and `kind`, if it is one Berth renders.
pub fn resource_for(api_version: &str, kind: &str) -> Option<ApiResource> {
    managed_kinds()
        .into_iter()
        .find(|r| r.api_version == api_version && r.kind == kind)
}

/// Whether a rendered object is the Deployment.
pub fn is_deployment(object: &serde_json::Value) -> bool {
    is_kind::<Deployment>(object)
}

/// Whether a rendered object is the CronJob.
pub fn is_cronjob(object: &serde_json::Value) -> bool {
    is_kind::<CronJob>(object)
}

fn is_kind<K: Resource<DynamicType = ()>>(object: &serde_json::Value) -> bool {
    object.get("apiVersion").and_then(|v| v.as_str()) == Some(&*K::api_version(&()))
        && object.get("kind").and_then(|v| v.as_str()) == Some(&*K::kind(&()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_knows_the_seven_kinds_and_nothing_else() {
        let hpa = resource_for("autoscaling/v2", "HorizontalPodAutoscaler").expect("hpa");
        assert_eq!(hpa.plural, "horizontalpodautoscalers");
        assert_eq!(hpa.group, "autoscaling");
        let pdb = resource_for("policy/v1", "PodDisruptionBudget").expect("pdb");
        assert_eq!(pdb.plural, "poddisruptionbudgets");
        assert_eq!(
            resource_for("networking.k8s.io/v1", "Ingress")
                .expect("ingress")
                .plural,
            "ingresses"
        );
        assert!(resource_for("v1", "Secret").is_none());
        assert!(resource_for("apps/v1beta1", "Deployment").is_none());
        assert_eq!(managed_kinds().len(), 7);
    }
}
