//! Kubelet's events, written as kubelet writes them: `core/v1` Events from the legacy
//! client-go recorder with `source` {component: kubelet, host: node name} (and the same as
//! `reportingComponent`/`reportingInstance`). A repeat of an identical event (same object,
//! field path, type, reason and message) bumps `count` and `lastTimestamp` of the first one,
//! as client-go's event correlator does.

use std::collections::HashMap;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};

/// `Normal` or `Warning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// Identical events seen so far: the stored event's name and count.
type Seen = HashMap<String, (String, i32)>;

/// Forgets all repeats past this many distinct events (client-go keeps an LRU of 4096).
const MAX_REMEMBERED: usize = 4096;

pub struct KubeletRecorder {
    client: Client,
    node_name: String,
    seen: Mutex<Seen>,
}

fn now() -> Time {
    let t = jiff::Timestamp::now();
    Time(t.round(jiff::Unit::Second).unwrap_or(t))
}

impl KubeletRecorder {
    pub fn new(client: Client, node_name: String) -> KubeletRecorder {
        KubeletRecorder {
            client,
            node_name,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Records an event about `object` (a field path names a container). Failures are logged:
    /// events are best effort, as in kubelet.
    pub async fn record(
        &self,
        object: &ObjectReference,
        type_: EventType,
        reason: &str,
        message: &str,
    ) {
        let namespace = object.namespace.clone().unwrap_or_else(|| "default".into());
        let key = [
            object.uid.as_deref().unwrap_or_default(),
            object.field_path.as_deref().unwrap_or_default(),
            type_.as_str(),
            reason,
            message,
        ]
        .join("\u{0}");
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        let previous = self
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        if let Some((name, count)) = previous {
            let patch = serde_json::json!({"count": count + 1, "lastTimestamp": now()});
            match api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => {
                    self.remember(key, name, count + 1);
                    return;
                }
                // Expired or deleted: record it anew.
                Err(e) if crate::error::is_not_found(&e) => {}
                Err(e) => {
                    tracing::debug!(error = %e, reason, "cannot update event");
                    return;
                }
            }
        }
        let event = self.make_event(object, &namespace, type_, reason, message);
        let name = event.metadata.name.clone().unwrap_or_default();
        match api.create(&PostParams::default(), &event).await {
            Ok(_) => self.remember(key, name, 1),
            Err(e) => tracing::debug!(error = %e, reason, "cannot record event"),
        }
    }

    fn remember(&self, key: String, name: String, count: i32) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= MAX_REMEMBERED && !seen.contains_key(&key) {
            seen.clear();
        }
        seen.insert(key, (name, count));
    }

    fn make_event(
        &self,
        object: &ObjectReference,
        namespace: &str,
        type_: EventType,
        reason: &str,
        message: &str,
    ) -> Event {
        let t = now();
        let object_name = object.name.clone().unwrap_or_default();
        // client-go names events `<object>.<unix nanos in hex>`.
        let nanos = jiff::Timestamp::now().as_nanosecond();
        Event {
            metadata: ObjectMeta {
                name: Some(format!("{object_name}.{nanos:x}")),
                namespace: Some(namespace.to_string()),
                ..Default::default()
            },
            involved_object: object.clone(),
            reason: Some(reason.to_string()),
            message: Some(message.to_string()),
            type_: Some(type_.as_str().to_string()),
            source: Some(EventSource {
                component: Some("kubelet".into()),
                host: Some(self.node_name.clone()),
            }),
            first_timestamp: Some(t.clone()),
            last_timestamp: Some(t),
            count: Some(1),
            reporting_component: Some("kubelet".into()),
            reporting_instance: Some(self.node_name.clone()),
            ..Default::default()
        }
    }
}
