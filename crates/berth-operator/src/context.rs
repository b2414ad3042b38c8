//! State shared by the reconcilers of one operator.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};

use crate::OperatorConfig;

/// Objects are re-applied at least this often even when nothing changed, so drift (a hand
/// edit, a deleted Service) is corrected; also the requeue of a stable resource.
pub const RESYNC: Duration = Duration::from_secs(300);
/// Requeue while a rollout is in progress.
pub const POLL: Duration = Duration::from_secs(2);

pub struct Context {
    pub client: kube::Client,
    pub config: OperatorConfig,
    recorder: Recorder,
    /// Last revision applied per resource, so reconciles triggered by pod and Deployment status
    /// changes do not re-send (and re-prune) every object.
    applied: Mutex<HashMap<String, AppliedMark>>,
    /// Consecutive reconcile errors per resource, for the error backoff.
    failures: Mutex<HashMap<String, u32>>,
}

struct AppliedMark {
    uid: String,
    revision: i64,
    at: Instant,
}

impl Context {
    pub fn new(client: kube::Client, config: OperatorConfig) -> Context {
        let reporter = Reporter {
            controller: berth_spec::meta::FIELD_MANAGER.to_string(),
            instance: None,
        };
        Context {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            config,
            applied: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `revision` must be (re-)applied for the resource `key` with `uid`.
    pub fn needs_apply(&self, key: &str, uid: &str, revision: i64) -> bool {
        let applied = self.applied.lock().unwrap_or_else(|e| e.into_inner());
        match applied.get(key) {
            Some(m) => m.uid != uid || m.revision != revision || m.at.elapsed() >= RESYNC,
            None => true,
        }
    }

    pub fn mark_applied(&self, key: &str, uid: &str, revision: i64) {
        let mut applied = self.applied.lock().unwrap_or_else(|e| e.into_inner());
        applied.insert(
            key.to_string(),
            AppliedMark {
                uid: uid.to_string(),
                revision,
                at: Instant::now(),
            },
        );
    }

    /// Forgets what was applied (after an error, so the next reconcile applies again).
    pub fn forget_applied(&self, key: &str) {
        let mut applied = self.applied.lock().unwrap_or_else(|e| e.into_inner());
        applied.remove(key);
    }

    /// Records a failed reconcile and returns how long to wait before the next attempt
    /// (1 s doubling up to 5 min).
    pub fn failed(&self, key: &str) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let n = failures.entry(key.to_string()).or_insert(0);
        *n = n.saturating_add(1);
        backoff(*n)
    }

    pub fn succeeded(&self, key: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(key);
    }

    /// Publishes an Event about `object`; failures are logged only (events are best effort).
    pub async fn event(
        &self,
        object: &ObjectReference,
        type_: EventType,
        reason: &str,
        action: &str,
        note: String,
    ) {
        let event = Event {
            type_,
            reason: reason.to_string(),
            note: Some(note),
            action: action.to_string(),
            secondary: None,
        };
        if let Err(error) = self.recorder.publish(&event, object).await {
            tracing::warn!(%error, reason, "could not publish event");
        }
    }
}

/// Delay after the `n`th consecutive failure (n >= 1): 1 s doubling, at most [`RESYNC`].
fn backoff(n: u32) -> Duration {
    Duration::from_secs(1u64 << n.saturating_sub(1).min(9)).min(RESYNC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let delays: Vec<u64> = (1u32..=12).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(&delays[..5], &[1, 2, 4, 8, 16]);
        assert_eq!(delays[9], 300);
        assert_eq!(delays[11], 300);
    }
}
