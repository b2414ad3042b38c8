//! The ResourceQuota admission plugin's evaluation (upstream `plugin/pkg/admission/resourcequota`
//! and the evaluators of `pkg/quota/v1/evaluator/core`): what a new object uses, which quotas
//! it falls under, and whether it fits in their `status.hard` given `status.used`.

use berth_apimachinery::validation::quantity::Quantity;
use serde_json::Value;

use super::resources::{ResourceList, add_lists, mask, parse_list, pod_total, pretty};

/// Core resources counted under their plain name as well as `count/<resource>`.
const LEGACY_COUNTED: &[&str] = &[
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
];

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

const POD_COMPUTE: &[&str] = &["cpu", "memory", "ephemeral-storage"];

fn one() -> Quantity {
    Quantity::from_i64(1)
}

fn is_pods(group: &str, resource: &str) -> bool {
    group.is_empty() && resource == "pods"
}

/// `count/<resource>[.<group>]`.
pub fn count_name(group: &str, resource: &str) -> String {
    if group.is_empty() {
        format!("count/{resource}")
    } else {
        format!("count/{resource}.{group}")
    }
}

/// Whether a resource name is an extended resource (`example.com/gpu`), counted as
/// `requests.<name>`.
fn is_extended(name: &str) -> bool {
    name.contains('/') && !name.starts_with("kubernetes.io/") && !name.contains(".kubernetes.io/")
}

/// The usage of a pod's requests and limits (`podComputeUsageHelper`).
fn compute_usage(requests: &ResourceList, limits: &ResourceList) -> ResourceList {
    let mut usage = ResourceList::new();
    for name in POD_COMPUTE {
        if let Some(q) = requests.get(*name) {
            usage.insert(name.to_string(), q.clone());
            usage.insert(format!("requests.{name}"), q.clone());
        }
        if let Some(q) = limits.get(*name) {
            usage.insert(format!("limits.{name}"), q.clone());
        }
    }
    for (name, q) in requests {
        if name.starts_with("hugepages-") {
            usage.insert(name.clone(), q.clone());
            usage.insert(format!("requests.{name}"), q.clone());
        } else if is_extended(name) {
            usage.insert(format!("requests.{name}"), q.clone());
        }
    }
    usage
}

/// What creating `obj` adds to a namespace's usage (`Evaluator.Usage`).
pub fn object_usage(group: &str, resource: &str, obj: &Value) -> ResourceList {
    let mut usage = ResourceList::new();
    usage.insert(count_name(group, resource), one());
    if group.is_empty() && LEGACY_COUNTED.contains(&resource) {
        usage.insert(resource.to_string(), one());
    }
    match (group, resource) {
        ("", "pods") => {
            let requests = pod_total(obj, "requests");
            let limits = pod_total(obj, "limits");
            usage.extend(compute_usage(&requests, &limits));
        }
        ("", "services") => {
            let type_ = obj
                .pointer("/spec/type")
                .and_then(Value::as_str)
                .unwrap_or("ClusterIP");
            let ports = obj
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let node_ports = match type_ {
                "NodePort" => ports,
                "LoadBalancer"
                    if obj
                        .pointer("/spec/allocateLoadBalancerNodePorts")
                        .and_then(Value::as_bool)
                        != Some(false) =>
                {
                    ports
                }
                _ => 0,
            };
            usage.insert(
                "services.nodeports".into(),
                Quantity::from_i64(i64::try_from(node_ports).unwrap_or(i64::MAX)),
            );
            usage.insert(
                "services.loadbalancers".into(),
                Quantity::from_i64(i64::from(type_ == "LoadBalancer")),
            );
        }
        ("", "persistentvolumeclaims") => {
            if let Some(storage) =
                parse_list(obj.pointer("/spec/resources/requests")).remove("storage")
            {
                if let Some(class) = obj
                    .pointer("/spec/storageClassName")
                    .and_then(Value::as_str)
                {
                    usage.insert(
                        format!("{class}.storageclass.storage.k8s.io/requests.storage"),
                        storage.clone(),
                    );
                    usage.insert(
                        format!("{class}.storageclass.storage.k8s.io/persistentvolumeclaims"),
                        one(),
                    );
                }
                usage.insert("requests.storage".into(), storage);
            }
        }
        _ => {}
    }
    usage
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

/// Whether the quota's scopes select the object. Scopes only ever select pods.
fn scopes_match(quota: &Value, group: &str, resource: &str, obj: &Value) -> bool {
    let mut selectors: Vec<(String, String, Vec<String>)> = quota
        .pointer("/spec/scopes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|s| (s.to_string(), "Exists".to_string(), Vec::new()))
        .collect();
    for expr in quota
        .pointer("/spec/scopeSelector/matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let s = |k: &str| {
            expr.get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let values = expr
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        selectors.push((s("scopeName"), s("operator"), values));
    }
    if selectors.is_empty() {
        return true;
    }
    if !is_pods(group, resource) {
        return false;
    }
    selectors
        .iter()
        .all(|(scope, op, values)| pod_matches_scope(obj, scope, op, values))
}

fn pod_matches_scope(pod: &Value, scope: &str, op: &str, values: &[String]) -> bool {
    let terminating = pod
        .pointer("/spec/activeDeadlineSeconds")
        .and_then(Value::as_i64)
        .is_some_and(|s| s >= 0);
    let best_effort = crate::rest::qos_class(pod) == "BestEffort";
    match scope {
        "Terminating" => terminating,
        "NotTerminating" => !terminating,
        "BestEffort" => best_effort,
        "NotBestEffort" => !best_effort,
        "PriorityClass" => {
            let class = pod
                .pointer("/spec/priorityClassName")
                .and_then(Value::as_str);
            match op {
                "Exists" => class.is_some_and(|c| !c.is_empty()),
                "DoesNotExist" => class.is_none_or(str::is_empty),
                "In" => class.is_some_and(|c| values.iter().any(|v| v == c)),
                "NotIn" => class.is_none_or(|c| !values.iter().any(|v| v == c)),
                _ => false,
            }
        }
        _ => false,
    }
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
        if restricted.is_empty() || !scopes_match(quota, group, resource, obj) {
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
