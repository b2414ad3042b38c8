//! Status helpers shared by the App and CronApp reconcilers.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// A `metav1.Condition`, keeping the previous `lastTransitionTime` when the status did not
/// change (as Kubernetes' `meta.SetStatusCondition` does).
pub fn condition(
    previous: &[Condition],
    type_: &str,
    status: bool,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) -> Condition {
    let status = if status { "True" } else { "False" }.to_string();
    let last_transition_time = previous
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .map(|c| c.last_transition_time.clone())
        .unwrap_or_else(now);
    Condition {
        type_: type_.to_string(),
        status,
        reason: reason.to_string(),
        message: message.to_string(),
        observed_generation: generation,
        last_transition_time,
    }
}

/// Now, to the second: what the API server stores, so an unchanged condition compares equal
/// after a round trip.
fn now() -> Time {
    let now = k8s_openapi::jiff::Timestamp::now();
    Time(k8s_openapi::jiff::Timestamp::from_second(now.as_second()).unwrap_or(now))
}

/// The merge patch `{"status": new}` that also clears fields `new` left out (a JSON merge patch
/// keeps absent keys, so they are set to null).
pub fn status_patch<S: Serialize>(old: Option<&S>, new: &S) -> Result<Value, serde_json::Error> {
    let mut body = match serde_json::to_value(new)? {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if let Some(old) = old
        && let Value::Object(old) = serde_json::to_value(old)?
    {
        for key in old.keys() {
            body.entry(key.clone()).or_insert(Value::Null);
        }
    }
    Ok(json!({ "status": body }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_spec::AppStatus;

    #[test]
    fn transition_time_kept_while_status_unchanged() {
        let first = condition(&[], "Available", true, "RolloutComplete", "ok", Some(1));
        let old = Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH);
        let previous = vec![Condition {
            last_transition_time: old.clone(),
            ..first.clone()
        }];
        let same = condition(&previous, "Available", true, "Other", "still ok", Some(2));
        assert_eq!(same.last_transition_time, old);
        assert_eq!(same.reason, "Other");
        let flipped = condition(&previous, "Available", false, "Down", "", Some(2));
        assert_ne!(flipped.last_transition_time, old);
    }

    #[test]
    fn patch_nulls_cleared_fields() {
        let old = AppStatus {
            failed_spec_hash: Some("abc".into()),
            revision: Some(2),
            ..Default::default()
        };
        let new = AppStatus {
            revision: Some(3),
            ..Default::default()
        };
        let patch = status_patch(Some(&old), &new).expect("patch");
        assert_eq!(
            patch,
            json!({"status": {"revision": 3, "failedSpecHash": null}})
        );
        let patch = status_patch(None, &new).expect("patch");
        assert_eq!(patch, json!({"status": {"revision": 3}}));
    }
}
