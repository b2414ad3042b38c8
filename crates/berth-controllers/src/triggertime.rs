//! The "last change trigger time" of a service's endpoints (upstream
//! `endpointsliceutil.TriggerTimeTracker`): the earliest of the changes since the previous
//! sync, among pods' Ready transitions and the service's creation, exported as the
//! `endpoints.kubernetes.io/last-change-trigger-time` annotation.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::jiff::Timestamp;

use crate::podutil::pod_trigger_time;
use crate::runtime::ObjectKey;

/// The annotation key (`v1.EndpointsLastChangeTriggerTime`).
pub const LAST_CHANGE_TRIGGER_TIME: &str = "endpoints.kubernetes.io/last-change-trigger-time";

#[derive(Default)]
struct ServiceState {
    pods: HashMap<String, Timestamp>,
    service: Option<Timestamp>,
}

#[derive(Default)]
pub(crate) struct TriggerTimeTracker {
    services: HashMap<ObjectKey, ServiceState>,
}

impl TriggerTimeTracker {
    /// The trigger time of this sync (`None`: nothing with a trigger time changed), and records
    /// the current state for the next one.
    pub fn compute(
        &mut self,
        key: &ObjectKey,
        service: &Service,
        pods: &[&Pod],
    ) -> Option<Timestamp> {
        let state = self.services.entry(key.clone()).or_default();
        let mut min: Option<Timestamp> = None;
        let mut keep = |t: Timestamp| min = Some(min.map_or(t, |m| m.min(t)));
        let mut pod_times = HashMap::new();
        for pod in pods {
            let (Some(name), Some(t)) = (pod.metadata.name.as_ref(), pod_trigger_time(pod)) else {
                continue;
            };
            if state.pods.get(name).is_none_or(|last| t.0 > *last) {
                keep(t.0);
            }
            pod_times.insert(name.clone(), t.0);
        }
        let created = service.metadata.creation_timestamp.as_ref().map(|t| t.0);
        if let Some(t) = created
            && state.service.is_none_or(|last| t > last)
        {
            keep(t);
        }
        state.pods = pod_times;
        state.service = created;
        min
    }

    pub fn forget(&mut self, key: &ObjectKey) {
        self.services.remove(key);
    }
}

/// The annotation's value: RFC 3339 with nanoseconds when there are any, in UTC.
pub(crate) fn format(t: Timestamp) -> String {
    t.to_string()
}
