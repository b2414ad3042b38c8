//! The ResourceQuota admission plugin's evaluation (upstream `plugin/pkg/admission/resourcequota`
//! and the evaluators of `pkg/quota/v1/evaluator/core`): what a new object uses, which quotas
//! it falls under, and whether it fits in their `status.hard` given `status.used`.

use berth_apimachinery::quota::{
    LEGACY_COUNTED, ResourceList, add_lists, compute_usage, count_name, is_extended, mask,
    object_usage, parse_list, pretty, scopes_match,
};
use serde_json::Value;

/// Compute resources whose requests a pod's containers must state when a quota limits them
/// (upstream `validationSet`).
const POD_VALIDATED: &[&str] = &[
    "cpu",
    "memory",
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
];

fn is_pods(group: &str, resource: &str) -> bool {
    group.is_empty() && resource == "pods"
}

/// The hard resources the evaluator of this kind accounts for (`MatchingResources`).
fn matching(group: &str, resource: &str, hard: &[String]) -> Vec<String> {
    let count = count_name(group, resource);
    hard.iter()
        .filter(|name| {
            let name = name.as_str();
            if name == count
                || (group.is_empty() && name == resource && LEGACY_COUNTED.contains(&resource))
            {
                return true;
            }
            match (group, resource) {
                ("", "pods") => {
                    POD_VALIDATED.contains(&name)
                        || matches!(
                            name,
                            "ephemeral-storage"
                                | "requests.ephemeral-storage"
                                | "limits.ephemeral-storage"
                        )
                        || name.starts_with("hugepages-")
                        || name.starts_with("requests.hugepages-")
                        || name.strip_prefix("requests.").is_some_and(is_extended)
                }
                ("", "services") => {
                    matches!(name, "services.nodeports" | "services.loadbalancers")
                }
                ("", "persistentvolumeclaims") => {
                    name == "requests.storage" || name.contains(".storageclass.storage.k8s.io/")
                }
                _ => false,
            }
        })
        .cloned()
        .collect()
}

/// The containers missing a required compute resource (`podEvaluator.Constraints`).
fn pod_constraints(required: &[String], pod: &Value) -> Result<(), String> {
    let required: Vec<&str> = required
        .iter()
        .map(String::as_str)
        .filter(|r| POD_VALIDATED.contains(r))
        .collect();
    if required.is_empty() {
        return Ok(());
    }
    // resource -> container names, both sorted.
    let mut missing: std::collections::BTreeMap<&str, std::collections::BTreeSet<String>> =
        Default::default();
    for key in ["containers", "initContainers"] {
        for c in pod
            .pointer(&format!("/spec/{key}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let usage = compute_usage(
                &parse_list(c.pointer("/resources/requests")),
                &parse_list(c.pointer("/resources/limits")),
            );
            let name = c.get("name").and_then(Value::as_str).unwrap_or("");
            for r in &required {
                if !usage.contains_key(*r) {
                    missing.entry(r).or_default().insert(name.to_string());
                }
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let parts: Vec<String> = missing
        .iter()
        .map(|(r, names)| {
            format!(
                "{r} for: {}",
                names.iter().cloned().collect::<Vec<_>>().join(",")
            )
        })
        .collect();
    Err(format!("must specify {}", parts.join("; ")))
}

/// The new `status.used` of each quota the object is charged to (by index in `quotas`), or
/// the message of the refusal (`checkRequest`).
pub fn evaluate(
    quotas: &[Value],
    group: &str,
    resource: &str,
    obj: &Value,
) -> Result<Vec<(usize, ResourceList)>, String> {
    let name_of = |q: &Value| {
        q.pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let mut interesting = Vec::new();
    for (i, quota) in quotas.iter().enumerate() {
        let hard = parse_list(quota.pointer("/status/hard"));
        let hard_names: Vec<String> = hard.keys().cloned().collect();
        let restricted = matching(group, resource, &hard_names);
        if restricted.is_empty()
            || !scopes_match(quota, group, resource, obj, |pod| {
                crate::rest::qos_class(pod) == "BestEffort"
            })
        {
            continue;
        }
        if is_pods(group, resource)
            && let Err(e) = pod_constraints(&restricted, obj)
        {
            return Err(format!("failed quota: {}: {e}", name_of(quota)));
        }
        let used = parse_list(quota.pointer("/status/used"));
        if restricted.iter().any(|r| !used.contains_key(r)) {
            let mut names = restricted.clone();
            names.sort();
            return Err(format!(
                "status unknown for quota: {}, resources: {}",
                name_of(quota),
                names.join(",")
            ));
        }
        interesting.push(i);
    }
    let delta = object_usage(group, resource, obj);
    let negative: Vec<&String> = delta
        .iter()
        .filter(|(_, q)| q.sign() < 0)
        .map(|(k, _)| k)
        .collect();
    if !negative.is_empty() {
        let names: Vec<&str> = negative.iter().map(|s| s.as_str()).collect();
        return Err(format!(
            "quota usage is negative for resource(s): {}",
            names.join(",")
        ));
    }
    let mut charged = Vec::new();
    for i in interesting {
        let quota = &quotas[i];
        let hard = parse_list(quota.pointer("/status/hard"));
        let used = parse_list(quota.pointer("/status/used"));
        let hard_names: Vec<String> = hard.keys().cloned().collect();
        let requested = mask(&delta, &hard_names);
        let new_used = add_lists(&used, &requested);
        let requested_names: Vec<String> = requested.keys().cloned().collect();
        let exceeded: Vec<String> = mask(&new_used, &requested_names)
            .iter()
            .filter(|(k, v)| hard.get(*k).is_some_and(|h| *v > h))
            .map(|(k, _)| k.clone())
            .collect();
        if !exceeded.is_empty() {
            return Err(format!(
                "exceeded quota: {}, requested: {}, used: {}, limited: {}",
                name_of(quota),
                pretty(&mask(&requested, &exceeded)),
                pretty(&mask(&used, &exceeded)),
                pretty(&mask(&hard, &exceeded)),
            ));
        }
        if !requested.is_empty() {
            charged.push((i, new_used));
        }
    }
    Ok(charged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn quota(hard: Value, used: Value) -> Value {
        json!({"metadata": {"name": "compute"}, "spec": {"hard": hard.clone()},
            "status": {"hard": hard, "used": used}})
    }

    fn pod(cpu: &str) -> Value {
        json!({"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "c", "resources": {"requests": {"cpu": cpu}, "limits": {"cpu": cpu}}}
        ]}})
    }

    #[test]
    fn charges_pods_within_the_quota() {
        let q = quota(
            json!({"cpu": "1", "pods": "2"}),
            json!({"cpu": "500m", "pods": "1"}),
        );
        let charged = evaluate(&[q], "", "pods", &pod("500m")).unwrap();
        assert_eq!(charged.len(), 1);
        assert_eq!(pretty(&charged[0].1), "cpu=1,pods=2");
    }

    #[test]
    fn refuses_what_exceeds_the_quota() {
        let q = quota(
            json!({"cpu": "1", "pods": "5"}),
            json!({"cpu": "1", "pods": "1"}),
        );
        assert_eq!(
            evaluate(&[q], "", "pods", &pod("500m")).unwrap_err(),
            "exceeded quota: compute, requested: cpu=500m, used: cpu=1, limited: cpu=1"
        );
        let q = quota(
            json!({"count/configmaps": "1"}),
            json!({"count/configmaps": "1"}),
        );
        assert_eq!(
            evaluate(&[q], "", "configmaps", &json!({})).unwrap_err(),
            "exceeded quota: compute, requested: count/configmaps=1, used: count/configmaps=1, limited: count/configmaps=1"
        );
    }

    #[test]
    fn requires_requests_for_limited_resources() {
        let q = quota(
            json!({"cpu": "1", "limits.memory": "1Gi"}),
            json!({"cpu": "0", "limits.memory": "0"}),
        );
        let p = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}, {"name": "b", "resources": {"requests": {"cpu": "1"}}}]}});
        assert_eq!(
            evaluate(&[q], "", "pods", &p).unwrap_err(),
            "failed quota: compute: must specify cpu for: a; limits.memory for: a,b"
        );
    }

    #[test]
    fn quotas_without_status_or_for_other_kinds_are_ignored_or_unknown() {
        let fresh = json!({"metadata": {"name": "q"}, "spec": {"hard": {"pods": "1"}}});
        assert!(
            evaluate(&[fresh], "", "pods", &pod("1"))
                .unwrap()
                .is_empty()
        );
        let no_used = json!({"metadata": {"name": "q"}, "status": {"hard": {"pods": "1"}}});
        assert_eq!(
            evaluate(&[no_used], "", "pods", &pod("1")).unwrap_err(),
            "status unknown for quota: q, resources: pods"
        );
        let q = quota(json!({"pods": "1"}), json!({"pods": "1"}));
        assert!(
            evaluate(&[q], "", "configmaps", &json!({}))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn best_effort_scope_selects_only_best_effort_pods() {
        let mut q = quota(json!({"pods": "1"}), json!({"pods": "1"}));
        q["spec"]["scopes"] = json!(["BestEffort"]);
        assert!(
            evaluate(std::slice::from_ref(&q), "", "pods", &pod("1"))
                .unwrap()
                .is_empty()
        );
        let be = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}});
        assert!(evaluate(&[q], "", "pods", &be).is_err());
    }
}
