//! Scheduler events as core/v1 Events from `default-scheduler`: a new event per distinct
//! (pod, reason, message), and repeats of it bump `count` and `lastTimestamp` like client-go's
//! event correlator does, so a pod retried for hours does not write an event per attempt.
//!
//! kube-runtime's `events::Recorder` is not used: its events.k8s.io objects are rejected by
//! Berth's API server at the moment ("source: Required value"), and its dedup cache is scanned in
//! full on every publish.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};

use crate::DEFAULT_SCHEDULER_NAME;

/// Repeats within this window are folded into one event (client-go's correlator keeps 10 min).
const AGGREGATION_WINDOW: Duration = Duration::from_secs(600);
const MAX_TRACKED: usize = 20_000;

struct Seen {
    name: String,
    count: i32,
    last: Instant,
}

pub struct EventWriter {
    client: Client,
    seen: Mutex<HashMap<(String, String, String), Seen>>,
}

impl EventWriter {
    pub fn new(client: Client) -> Self {
        EventWriter {
            client,
            seen: Mutex::new(HashMap::new()),
        }
    }

    pub async fn publish(
        &self,
        regarding: &ObjectReference,
        type_: &str,
        reason: &str,
        action: &str,
        message: &str,
    ) -> Result<(), kube::Error> {
        let namespace = regarding
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        let key = (
            regarding.uid.clone().unwrap_or_default(),
            reason.to_string(),
            message.to_string(),
        );
        let now = jiff::Timestamp::now();
        let repeat = {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            if seen.len() > MAX_TRACKED {
                seen.retain(|_, s| s.last.elapsed() < AGGREGATION_WINDOW);
            }
            match seen.get_mut(&key) {
                Some(s) if s.last.elapsed() < AGGREGATION_WINDOW => {
                    s.count += 1;
                    s.last = Instant::now();
                    Some((s.name.clone(), s.count))
                }
                _ => None,
            }
        };
        if let Some((name, count)) = repeat {
            let patch = serde_json::json!({"count": count, "lastTimestamp": Time(now)});
            match api
                .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                .await
            {
                Ok(_) => return Ok(()),
                // The event expired or was deleted: write a new one.
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        let name = format!(
            "{}.{:x}",
            regarding.name.as_deref().unwrap_or(DEFAULT_SCHEDULER_NAME),
            now.as_nanosecond()
        );
        let event = Event {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(namespace),
                ..Default::default()
            },
            involved_object: regarding.clone(),
            type_: Some(type_.into()),
            reason: Some(reason.into()),
            action: Some(action.into()),
            message: Some(message.into()),
            count: Some(1),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            source: Some(EventSource {
                component: Some(DEFAULT_SCHEDULER_NAME.into()),
                host: None,
            }),
            reporting_component: Some(DEFAULT_SCHEDULER_NAME.into()),
            reporting_instance: Some(DEFAULT_SCHEDULER_NAME.into()),
            ..Default::default()
        };
        api.create(&PostParams::default(), &event).await?;
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).insert(
            key,
            Seen {
                name,
                count: 1,
                last: Instant::now(),
            },
        );
        Ok(())
    }
}
