//! Event recording (upstream `record.EventRecorder`): core/v1 Events about an object, with the
//! controller as source component, written in the background so a sync never waits on them.
//!
//! kube-runtime's `Recorder` is not used: it folds events with the same reason into one series
//! regardless of their message, which would hide "Scaled up ... from 1 to 3" behind an earlier
//! "from 0 to 1".

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, ObjectMeta, PostParams};
use kube::{Client, Resource};

use crate::meta;

pub const NORMAL: &str = "Normal";
pub const WARNING: &str = "Warning";

#[derive(Clone)]
pub struct Recorder {
    client: Client,
    component: &'static str,
}

impl Recorder {
    pub fn new(client: Client, component: &'static str) -> Self {
        Recorder { client, component }
    }

    /// Records an event about `obj`.
    pub fn event<K: Resource<DynamicType = ()>>(
        &self,
        obj: &K,
        type_: &str,
        reason: &str,
        message: String,
    ) {
        let m = obj.meta();
        let reference = ObjectReference {
            api_version: Some(K::api_version(&()).into_owned()),
            kind: Some(K::kind(&()).into_owned()),
            name: m.name.clone(),
            namespace: m.namespace.clone(),
            uid: m.uid.clone(),
            resource_version: m.resource_version.clone(),
            field_path: None,
        };
        self.record(reference, type_, reason, message);
    }

    pub fn record(&self, regarding: ObjectReference, type_: &str, reason: &str, message: String) {
        let namespace = regarding
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_string());
        let now = meta::now();
        let name = format!(
            "{}.{:x}",
            regarding.name.as_deref().unwrap_or(self.component),
            now.as_nanosecond()
        );
        let event = Event {
            metadata: ObjectMeta {
                name: Some(name),
                namespace: Some(namespace.clone()),
                ..ObjectMeta::default()
            },
            involved_object: regarding,
            reason: Some(reason.to_string()),
            message: Some(message),
            type_: Some(type_.to_string()),
            source: Some(EventSource {
                component: Some(self.component.to_string()),
                host: None,
            }),
            first_timestamp: Some(meta::now_time()),
            last_timestamp: Some(meta::now_time()),
            event_time: None::<MicroTime>,
            count: Some(1),
            reporting_component: Some(self.component.to_string()),
            reporting_instance: Some(self.component.to_string()),
            ..Event::default()
        };
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        tokio::spawn(async move {
            if let Err(e) = api.create(&PostParams::default(), &event).await {
                tracing::debug!(error = %e, "couldn't record event");
            }
        });
    }
}
