//! Resource quota arithmetic (upstream `pkg/quota/v1` and the core evaluators): resource lists
//! of parsed quantities and what objects use. The API server's ResourceQuota admission has the
//! same rules for a single new object.

use std::collections::BTreeMap;

use berth_apimachinery::validation::quantity::{self, Format, Quantity};
use serde_json::Value;

pub(crate) type ResourceList = BTreeMap<String, Quantity>;

pub(crate) fn parse_list(v: Option<&Value>) -> ResourceList {
    v.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), quantity::parse(v.as_str()?).ok()?)))
        .collect()
}

pub(crate) fn to_strings(list: &ResourceList) -> BTreeMap<String, String> {
    list.iter()
        .map(|(k, v)| (k.clone(), v.canonical()))
        .collect()
}

/// `a + b` in the format of `a` (of `b` when `a` is zero), as `Quantity.Add`.
pub(crate) fn add(a: &Quantity, b: &Quantity) -> Quantity {
    let format = if a.is_zero() { b.format() } else { a.format() };
    let milli = i128::from(a.milli_value()) + i128::from(b.milli_value());
    let decimal = || quantity::parse(&format!("{milli}m")).unwrap_or_else(|_| Quantity::zero());
    if format != Format::BinarySI || milli % 1000 != 0 {
        return decimal();
    }
    // bytes / 1024 has a finite decimal expansion (bytes * 0.0009765625), so the sum can be
    // written with the Ki suffix and keep the binary format.
    let scaled = (milli / 1000) * 9_765_625;
    let (int, frac) = (scaled / 10_000_000_000, (scaled % 10_000_000_000).abs());
    let text = if frac == 0 {
        format!("{int}Ki")
    } else {
        format!("{int}.{}Ki", format!("{frac:010}").trim_end_matches('0'))
    };
    quantity::parse(&text).unwrap_or_else(|_| decimal())
}

pub(crate) fn add_into(total: &mut ResourceList, other: &ResourceList) {
    for (k, v) in other {
        let sum = match total.get(k) {
            Some(existing) => add(existing, v),
            None => v.clone(),
        };
        total.insert(k.clone(), sum);
    }
}

fn max_into(total: &mut ResourceList, other: &ResourceList) {
    for (k, v) in other {
        if total.get(k).is_none_or(|cur| v > cur) {
            total.insert(k.clone(), v.clone());
        }
    }
}

/// A pod's effective requests or limits: containers and sidecars summed, at least each init
/// container's peak, plus overhead (`resourcehelper.PodRequests`).
pub(crate) fn pod_total(pod: &Value, field: &str) -> ResourceList {
    let of = |c: &Value| parse_list(c.pointer(&format!("/resources/{field}")));
    let list = |key: &str| -> Vec<&Value> {
        pod.pointer(&format!("/spec/{key}"))
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    };
    let mut total = ResourceList::new();
    for c in list("containers") {
        add_into(&mut total, &of(c));
    }
    let mut sidecars = ResourceList::new();
    let mut init_peak = ResourceList::new();
    for c in list("initContainers") {
        if c.get("restartPolicy").and_then(Value::as_str) == Some("Always") {
            add_into(&mut sidecars, &of(c));
            add_into(&mut total, &of(c));
            max_into(&mut init_peak, &sidecars);
        } else {
            let mut peak = of(c);
            add_into(&mut peak, &sidecars);
            max_into(&mut init_peak, &peak);
        }
    }
    max_into(&mut total, &init_peak);
    add_into(&mut total, &parse_list(pod.pointer("/spec/overhead")));
    total
}

fn is_extended(name: &str) -> bool {
    name.contains('/') && !name.starts_with("kubernetes.io/") && !name.contains(".kubernetes.io/")
}

/// What a pod uses (`podComputeUsageHelper` over the whole pod).
pub(crate) fn pod_usage(pod: &Value) -> ResourceList {
    let requests = pod_total(pod, "requests");
    let limits = pod_total(pod, "limits");
    let mut usage = ResourceList::new();
    usage.insert("pods".into(), Quantity::from_i64(1));
    usage.insert("count/pods".into(), Quantity::from_i64(1));
    for name in ["cpu", "memory", "ephemeral-storage"] {
        if let Some(q) = requests.get(name) {
            usage.insert(name.to_string(), q.clone());
            usage.insert(format!("requests.{name}"), q.clone());
        }
        if let Some(q) = limits.get(name) {
            usage.insert(format!("limits.{name}"), q.clone());
        }
    }
    for (name, q) in &requests {
        if name.starts_with("hugepages-") {
            usage.insert(name.clone(), q.clone());
            usage.insert(format!("requests.{name}"), q.clone());
        } else if is_extended(name) {
            usage.insert(format!("requests.{name}"), q.clone());
        }
    }
    usage
}

/// Whether a pod still counts (`QuotaV1Pod`): not finished, and not past its deletion grace.
pub(crate) fn pod_counts(pod: &Value, now: jiff::Timestamp) -> bool {
    let phase = pod.pointer("/status/phase").and_then(Value::as_str);
    if matches!(phase, Some("Succeeded") | Some("Failed")) {
        return false;
    }
    let deleted = pod
        .pointer("/metadata/deletionTimestamp")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let grace = pod
        .pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64);
    match (deleted, grace) {
        (Some(t), Some(g)) => now < t + jiff::SignedDuration::from_secs(g),
        _ => true,
    }
}

/// Whether the quota's scopes (`spec.scopes`, `spec.scopeSelector`) select the pod.
pub(crate) fn pod_in_scopes(quota: &Value, pod: &Value) -> bool {
    let mut scopes: Vec<(String, String, Vec<String>)> = quota
        .pointer("/spec/scopes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|s| (s.to_string(), "Exists".to_string(), Vec::new()))
        .collect();
    for e in quota
        .pointer("/spec/scopeSelector/matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let values = e
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        scopes.push((s("scopeName"), s("operator"), values));
    }
    let terminating = pod
        .pointer("/spec/activeDeadlineSeconds")
        .and_then(Value::as_i64)
        .is_some_and(|s| s >= 0);
    let best_effort = pod.pointer("/status/qosClass").and_then(Value::as_str) == Some("BestEffort");
    let class = pod
        .pointer("/spec/priorityClassName")
        .and_then(Value::as_str);
    scopes
        .iter()
        .all(|(scope, op, values)| match scope.as_str() {
            "Terminating" => terminating,
            "NotTerminating" => !terminating,
            "BestEffort" => best_effort,
            "NotBestEffort" => !best_effort,
            "PriorityClass" => match op.as_str() {
                "Exists" => class.is_some_and(|c| !c.is_empty()),
                "DoesNotExist" => class.is_none_or(str::is_empty),
                "In" => class.is_some_and(|c| values.iter().any(|v| v == c)),
                "NotIn" => class.is_none_or(|c| !values.iter().any(|v| v == c)),
                _ => false,
            },
            _ => false,
        })
}

pub(crate) fn has_scopes(quota: &Value) -> bool {
    quota
        .pointer("/spec/scopes")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
        || quota
            .pointer("/spec/scopeSelector/matchExpressions")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
}

/// What a Service uses beyond its count.
pub(crate) fn service_usage(svc: &Value) -> ResourceList {
    let type_ = svc
        .pointer("/spec/type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP");
    let ports = svc
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let node_ports = match type_ {
        "NodePort" => ports,
        "LoadBalancer"
            if svc
                .pointer("/spec/allocateLoadBalancerNodePorts")
                .and_then(Value::as_bool)
                != Some(false) =>
        {
            ports
        }
        _ => 0,
    };
    let mut usage = ResourceList::new();
    usage.insert(
        "services.nodeports".into(),
        Quantity::from_i64(i64::try_from(node_ports).unwrap_or(i64::MAX)),
    );
    usage.insert(
        "services.loadbalancers".into(),
        Quantity::from_i64(i64::from(type_ == "LoadBalancer")),
    );
    usage
}

/// What a PersistentVolumeClaim uses beyond its count.
pub(crate) fn pvc_usage(pvc: &Value) -> ResourceList {
    let mut usage = ResourceList::new();
    if let Some(storage) = parse_list(pvc.pointer("/spec/resources/requests")).remove("storage") {
        if let Some(class) = pvc
            .pointer("/spec/storageClassName")
            .and_then(Value::as_str)
        {
            usage.insert(
                format!("{class}.storageclass.storage.k8s.io/requests.storage"),
                storage.clone(),
            );
            usage.insert(
                format!("{class}.storageclass.storage.k8s.io/persistentvolumeclaims"),
                Quantity::from_i64(1),
            );
        }
        usage.insert("requests.storage".into(), storage);
    }
    usage
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pod_usage_counts_requests_and_limits() {
        let pod = json!({"spec": {"containers": [
            {"name": "a", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": "500m"}}},
            {"name": "b", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}}
        ]}});
        let usage = to_strings(&pod_usage(&pod));
        assert_eq!(usage["cpu"], "500m");
        assert_eq!(usage["requests.memory"], "128Mi");
        assert_eq!(usage["limits.cpu"], "500m");
        assert_eq!(usage["pods"], "1");
        assert!(!usage.contains_key("limits.memory"));
    }

    #[test]
    fn finished_pods_do_not_count() {
        let now = jiff::Timestamp::now();
        assert!(pod_counts(&json!({"status": {"phase": "Running"}}), now));
        assert!(!pod_counts(&json!({"status": {"phase": "Succeeded"}}), now));
        let past = (now - jiff::SignedDuration::from_secs(60)).to_string();
        assert!(!pod_counts(
            &json!({"metadata": {"deletionTimestamp": past, "deletionGracePeriodSeconds": 30}}),
            now
        ));
    }
}
