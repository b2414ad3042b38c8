//! Resource quota arithmetic without I/O (upstream `pkg/quota/v1` and the core evaluators of
//! `pkg/quota/v1/evaluator/core`): resource lists of parsed quantities, their sums in
//! milli-units, what an object uses for a quota, and which pods a quota's scopes select.
//! The API server's ResourceQuota admission (one new object) and the resource quota controller
//! (a namespace's totals) both build on it, so they agree on every figure.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::quantity::{self, Format, Quantity};

/// Resource name -> quantity, sorted by name as upstream prints them.
pub type ResourceList = BTreeMap<String, Quantity>;

/// Core resources counted under their plain name as well as `count/<resource>`.
pub const LEGACY_COUNTED: &[&str] = &[
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
];

/// The compute resources of a pod counted under their plain name and `requests.`/`limits.`.
const POD_COMPUTE: &[&str] = &["cpu", "memory", "ephemeral-storage"];

/// Reads a resource list, skipping values that do not parse (validation reports those).
pub fn parse_list(v: Option<&Value>) -> ResourceList {
    v.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), quantity::parse(v.as_str()?).ok()?)))
        .collect()
}

/// The list with canonical quantity strings, as written to `status.hard` / `status.used`.
pub fn to_strings(list: &ResourceList) -> BTreeMap<String, String> {
    list.iter()
        .map(|(k, v)| (k.clone(), v.canonical()))
        .collect()
}

/// The list as a JSON object of canonical quantity strings.
pub fn to_json(list: &ResourceList) -> Value {
    Value::Object(
        list.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.canonical())))
            .collect(),
    )
}

/// `a + b`, printed in the format of `a` (of `b` when `a` is zero), as `Quantity.Add`.
pub fn add(a: &Quantity, b: &Quantity) -> Quantity {
    let format = if a.is_zero() { b.format() } else { a.format() };
    from_milli(
        i128::from(a.milli_value()) + i128::from(b.milli_value()),
        format,
    )
}

/// A quantity of `milli` thousandths in `format`.
pub fn from_milli(milli: i128, format: Format) -> Quantity {
    let decimal = || quantity::parse(&format!("{milli}m")).unwrap_or_else(|_| Quantity::zero());
    if format != Format::BinarySI || milli % 1000 != 0 {
        return decimal();
    }
    // bytes / 1024 has a finite decimal expansion (bytes * 0.0009765625), so the value can be
    // written with the Ki suffix and keep the binary format.
    let scaled = (milli / 1000) * 9_765_625;
    let (int, frac) = (scaled / 10_000_000_000, (scaled % 10_000_000_000).abs());
    let sign = if scaled < 0 && int == 0 { "-" } else { "" };
    let text = if frac == 0 {
        format!("{sign}{int}Ki")
    } else {
        let frac = format!("{frac:010}");
        format!("{sign}{int}.{}Ki", frac.trim_end_matches('0'))
    };
    quantity::parse(&text).unwrap_or_else(|_| decimal())
}

/// Adds `other` into `total`, resource by resource.
pub fn add_into(total: &mut ResourceList, other: &ResourceList) {
    for (k, v) in other {
        let sum = match total.get(k) {
            Some(existing) => add(existing, v),
            None => v.clone(),
        };
        total.insert(k.clone(), sum);
    }
}

/// `quota.Add`: the sum of two lists.
pub fn add_lists(a: &ResourceList, b: &ResourceList) -> ResourceList {
    let mut out = a.clone();
    add_into(&mut out, b);
    out
}

/// Raises each resource of `total` to at least its value in `other`.
fn max_into(total: &mut ResourceList, other: &ResourceList) {
    for (k, v) in other {
        if total.get(k).is_none_or(|cur| v > cur) {
            total.insert(k.clone(), v.clone());
        }
    }
}

/// `quota.Mask`: only the named resources.
pub fn mask(list: &ResourceList, names: &[String]) -> ResourceList {
    list.iter()
        .filter(|(k, _)| names.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `prettyPrint`: `name=value` pairs sorted by name, comma separated.
pub fn pretty(list: &ResourceList) -> String {
    list.iter()
        .map(|(k, v)| format!("{k}={}", v.canonical()))
        .collect::<Vec<_>>()
        .join(",")
}

/// The pod's effective requests or limits (`field` is `requests` or `limits`): the sum of its
/// containers and sidecars (init containers with restartPolicy Always), at least what any init
/// container needs while it runs (with the sidecars started before it), plus the pod overhead
/// (`resourcehelper.PodRequests`).
pub fn pod_total(pod: &Value, field: &str) -> ResourceList {
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
            max_into(&mut init_peak, &add_lists(&of(c), &sidecars));
        }
    }
    max_into(&mut total, &init_peak);
    add_into(&mut total, &parse_list(pod.pointer("/spec/overhead")));
    total
}

/// Whether a resource name is an extended resource (`example.com/gpu`), counted as
/// `requests.<name>`.
pub fn is_extended(name: &str) -> bool {
    name.contains('/') && !name.starts_with("kubernetes.io/") && !name.contains(".kubernetes.io/")
}

/// The usage of requests and limits (`podComputeUsageHelper`), for a pod or one container.
pub fn compute_usage(requests: &ResourceList, limits: &ResourceList) -> ResourceList {
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

/// `count/<resource>[.<group>]`.
pub fn count_name(group: &str, resource: &str) -> String {
    if group.is_empty() {
        format!("count/{resource}")
    } else {
        format!("count/{resource}.{group}")
    }
}

/// What a Service uses beyond its count: node ports and load balancers.
pub fn service_usage(svc: &Value) -> ResourceList {
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

/// What a PersistentVolumeClaim uses beyond its count: requested storage, overall and per
/// storage class.
pub fn pvc_usage(pvc: &Value) -> ResourceList {
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

/// What one object of `group`/`resource` uses (`Evaluator.Usage`): its count, plus the compute
/// resources of pods, the ports and load balancers of services, the storage of claims.
pub fn object_usage(group: &str, resource: &str, obj: &Value) -> ResourceList {
    let mut usage = ResourceList::new();
    usage.insert(count_name(group, resource), Quantity::from_i64(1));
    if group.is_empty() && LEGACY_COUNTED.contains(&resource) {
        usage.insert(resource.to_string(), Quantity::from_i64(1));
    }
    match (group, resource) {
        ("", "pods") => usage.extend(compute_usage(
            &pod_total(obj, "requests"),
            &pod_total(obj, "limits"),
        )),
        ("", "services") => usage.extend(service_usage(obj)),
        ("", "persistentvolumeclaims") => usage.extend(pvc_usage(obj)),
        _ => {}
    }
    usage
}

/// What a pod uses, count included.
pub fn pod_usage(pod: &Value) -> ResourceList {
    object_usage("", "pods", pod)
}

/// One scope a quota selects by: `spec.scopes` entries (operator `Exists`) and
/// `spec.scopeSelector.matchExpressions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeSelector {
    pub scope: String,
    pub operator: String,
    pub values: Vec<String>,
}

/// The quota's scopes, both forms together (`getScopeSelectorsFromQuota`).
pub fn scope_selectors(quota: &Value) -> Vec<ScopeSelector> {
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    let mut selectors: Vec<ScopeSelector> = strings(quota.pointer("/spec/scopes"))
        .into_iter()
        .map(|scope| ScopeSelector {
            scope,
            operator: "Exists".into(),
            values: Vec::new(),
        })
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
        selectors.push(ScopeSelector {
            scope: s("scopeName"),
            operator: s("operator"),
            values: strings(expr.get("values")),
        });
    }
    selectors
}

/// Whether the quota has any scope.
pub fn has_scopes(quota: &Value) -> bool {
    !scope_selectors(quota).is_empty()
}

/// Whether the quota's scopes select the object: a quota without scopes selects everything,
/// and scopes only ever select pods. `best_effort` tells whether the pod's QoS class is
/// BestEffort (callers differ in where they read it: the status, or computed from the spec).
pub fn scopes_match(
    quota: &Value,
    group: &str,
    resource: &str,
    obj: &Value,
    best_effort: impl FnOnce(&Value) -> bool,
) -> bool {
    let selectors = scope_selectors(quota);
    if selectors.is_empty() {
        return true;
    }
    if !(group.is_empty() && resource == "pods") {
        return false;
    }
    let best_effort = best_effort(obj);
    selectors
        .iter()
        .all(|s| pod_matches_scope(obj, best_effort, s))
}

/// Whether a pod matches one scope selector (`podMatchesScopeFunc`).
fn pod_matches_scope(pod: &Value, best_effort: bool, selector: &ScopeSelector) -> bool {
    let terminating = pod
        .pointer("/spec/activeDeadlineSeconds")
        .and_then(Value::as_i64)
        .is_some_and(|s| s >= 0);
    match selector.scope.as_str() {
        "Terminating" => terminating,
        "NotTerminating" => !terminating,
        "BestEffort" => best_effort,
        "NotBestEffort" => !best_effort,
        "PriorityClass" => {
            let class = pod
                .pointer("/spec/priorityClassName")
                .and_then(Value::as_str);
            let values = &selector.values;
            match selector.operator.as_str() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(s: &str) -> Quantity {
        quantity::parse(s).unwrap()
    }

    #[test]
    fn sums_keep_the_format_of_the_first_operand() {
        assert_eq!(add(&q("500m"), &q("500m")).canonical(), "1");
        assert_eq!(add(&q("128Mi"), &q("128Mi")).canonical(), "256Mi");
        assert_eq!(add(&q("0"), &q("1Gi")).canonical(), "1Gi");
        assert_eq!(add(&q("1k"), &q("500")).canonical(), "1500");
        assert_eq!(add(&q("1Ki"), &q("1")).canonical(), "1025");
        assert_eq!(from_milli(-512_000, Format::BinarySI).canonical(), "-512");
    }

    #[test]
    fn pod_totals_count_init_containers_at_their_peak() {
        let pod = json!({"spec": {
            "containers": [
                {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
                {"name": "b", "resources": {"requests": {"cpu": "200m"}}}
            ],
            "initContainers": [
                {"name": "i", "resources": {"requests": {"cpu": "1", "memory": "32Mi"}}}
            ]
        }});
        let total = pod_total(&pod, "requests");
        assert_eq!(pretty(&total), "cpu=1,memory=64Mi");
    }

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
        assert_eq!(usage["count/pods"], "1");
        assert!(!usage.contains_key("limits.memory"));
    }

    #[test]
    fn services_and_claims_use_ports_and_storage() {
        let svc = json!({"spec": {"type": "LoadBalancer", "ports": [{"port": 80}, {"port": 443}]}});
        assert_eq!(
            pretty(&object_usage("", "services", &svc)),
            "count/services=1,services=1,services.loadbalancers=1,services.nodeports=2"
        );
        let pvc = json!({"spec": {"storageClassName": "fast", "resources": {"requests": {"storage": "1Gi"}}}});
        assert_eq!(
            pretty(&pvc_usage(&pvc)),
            "fast.storageclass.storage.k8s.io/persistentvolumeclaims=1,\
             fast.storageclass.storage.k8s.io/requests.storage=1Gi,requests.storage=1Gi"
        );
        assert_eq!(
            pretty(&object_usage("apps", "deployments", &json!({}))),
            "count/deployments.apps=1"
        );
    }

    #[test]
    fn scopes_select_only_matching_pods() {
        let unscoped = json!({"spec": {}});
        assert!(!has_scopes(&unscoped));
        assert!(scopes_match(
            &unscoped,
            "",
            "configmaps",
            &json!({}),
            |_| false
        ));

        let quota = json!({"spec": {"scopes": ["BestEffort"], "scopeSelector": {"matchExpressions": [
            {"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}
        ]}}});
        assert!(has_scopes(&quota));
        let pod = json!({"spec": {"priorityClassName": "high"}});
        assert!(scopes_match(&quota, "", "pods", &pod, |_| true));
        assert!(!scopes_match(&quota, "", "pods", &pod, |_| false));
        let low = json!({"spec": {"priorityClassName": "low"}});
        assert!(!scopes_match(&quota, "", "pods", &low, |_| true));
        assert!(!scopes_match(&quota, "", "services", &pod, |_| true));
    }
}
