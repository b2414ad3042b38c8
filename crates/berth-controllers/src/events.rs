//! Kubernetes Events the controllers report, as upstream's controllers do (best effort: a failed
//! event is logged, never an error of the work that caused it).

use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::{Client, Resource};

pub(crate) struct Events {
    recorder: Recorder,
}

impl Events {
    /// A recorder reporting as `controller` (upstream's component name for the controller).
    pub fn new(client: Client, controller: &str) -> Self {
        Events {
            recorder: Recorder::new(
                client,
                Reporter {
                    controller: controller.to_string(),
                    instance: None,
                },
            ),
        }
    }

    pub async fn normal<K: Resource<DynamicType = ()>>(&self, obj: &K, reason: &str, note: String) {
        self.emit(obj, EventType::Normal, reason, note).await;
    }

    pub async fn warning<K: Resource<DynamicType = ()>>(
        &self,
        obj: &K,
        reason: &str,
        note: String,
    ) {
        self.emit(obj, EventType::Warning, reason, note).await;
    }

    async fn emit<K: Resource<DynamicType = ()>>(
        &self,
        obj: &K,
        type_: EventType,
        reason: &str,
        note: String,
    ) {
        let event = Event {
            type_,
            reason: reason.to_string(),
            note: Some(note),
            action: reason.to_string(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&event, &obj.object_ref(&())).await {
            tracing::debug!(reason, error = %e, "could not record an event");
        }
    }
}
