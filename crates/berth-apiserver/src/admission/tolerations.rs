//! The DefaultTolerationSeconds admission plugin: a pod that does not tolerate the
//! `not-ready` and `unreachable` NoExecute taints gets tolerations for them for 300 s, so the
//! taint eviction manager moves its pods off a failed node after five minutes.

use serde_json::{Value, json};

pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// --default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds.
pub const DEFAULT_TOLERATION_SECONDS: i64 = 300;

/// Adds the default tolerations a pod lacks.
pub fn admit(pod: &mut Value) {
    let existing: Vec<(String, String)> = pod
        .pointer("/spec/tolerations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| {
            let s = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            (s("key"), s("effect"))
        })
        .collect();
    // A toleration with an empty key (or effect) covers every key (effect).
    let tolerated = |taint: &str| {
        existing
            .iter()
            .any(|(k, e)| (k == taint || k.is_empty()) && (e == "NoExecute" || e.is_empty()))
    };
    let missing: Vec<&str> = [TAINT_NOT_READY, TAINT_UNREACHABLE]
        .into_iter()
        .filter(|t| !tolerated(t))
        .collect();
    if missing.is_empty() {
        return;
    }
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let tolerations = spec.entry("tolerations").or_insert_with(|| json!([]));
    if !tolerations.is_array() {
        *tolerations = json!([]);
    }
    if let Some(list) = tolerations.as_array_mut() {
        for key in missing {
            list.push(json!({
                "key": key,
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_missing_tolerations_only() {
        let mut pod = json!({"spec": {"containers": []}});
        admit(&mut pod);
        let t = pod["spec"]["tolerations"].as_array().unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0]["key"], TAINT_NOT_READY);
        assert_eq!(t[1]["tolerationSeconds"], 300);

        let mut pod = json!({"spec": {"tolerations": [
            {"key": TAINT_UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 10}
        ]}});
        admit(&mut pod);
        let t = pod["spec"]["tolerations"].as_array().unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0]["tolerationSeconds"], 10);
        assert_eq!(t[1]["key"], TAINT_NOT_READY);

        let mut pod = json!({"spec": {"tolerations": [{"operator": "Exists"}]}});
        admit(&mut pod);
        assert_eq!(pod["spec"]["tolerations"].as_array().unwrap().len(), 1);
    }
}
