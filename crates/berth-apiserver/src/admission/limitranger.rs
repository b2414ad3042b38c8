//! The LimitRanger admission plugin for pods: containers without requests or limits get the
//! `defaultRequest`/`default` of the namespace's LimitRanges (recorded in the
//! `kubernetes.io/limit-ranger` annotation), then containers and the pod as a whole are checked
//! against `min`, `max` and `maxLimitRequestRatio`, with upstream's messages.

use berth_apimachinery::quantity::Quantity;
use serde_json::{Map, Value, json};

use berth_apimachinery::quota::{ResourceList, parse_list, pod_total};

pub const ANNOTATION: &str = "kubernetes.io/limit-ranger";
/// `resource.MaxMilliValue`: above it, comparisons are done in whole units.
const MAX_MILLI_VALUE: i64 = i64::MAX / 1000;

fn items<'a>(range: &'a Value, type_: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    range
        .pointer("/spec/limits")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(move |i| i.get("type").and_then(Value::as_str) == Some(type_))
}

/// Fills default requests and limits of every container (`PodMutateLimitFunc`).
pub fn mutate(pod: &mut Value, ranges: &[Value]) {
    for range in ranges {
        // The last Container item of a range gives its defaults, as upstream.
        let Some(item) = items(range, "Container").last() else {
            continue;
        };
        let default_requests = parse_list(item.get("defaultRequest"));
        let default_limits = parse_list(item.get("default"));
        if default_requests.is_empty() && default_limits.is_empty() {
            continue;
        }
        let mut notes: Vec<String> = Vec::new();
        for (key, kind) in [
            ("containers", "container"),
            ("initContainers", "init container"),
        ] {
            let Some(list) = pod
                .pointer_mut(&format!("/spec/{key}"))
                .and_then(Value::as_array_mut)
            else {
                continue;
            };
            for container in list.iter_mut() {
                let name = container
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let set_limits = merge(container, "limits", &default_limits);
                let set_requests = merge(container, "requests", &default_requests);
                if !set_requests.is_empty() {
                    notes.push(format!(
                        "{} request for {kind} {name}",
                        set_requests.join(", ")
                    ));
                }
                if !set_limits.is_empty() {
                    notes.push(format!("{} limit for {kind} {name}", set_limits.join(", ")));
                }
            }
        }
        if !notes.is_empty()
            && let Some(meta) = pod.get_mut("metadata").and_then(Value::as_object_mut)
        {
            let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
            if let Some(a) = annotations.as_object_mut() {
                a.insert(
                    ANNOTATION.into(),
                    json!(format!("LimitRanger plugin set: {}", notes.join("; "))),
                );
            }
        }
    }
}

/// Adds the defaults a container lacks under `resources.<field>`; returns the names set, sorted.
fn merge(container: &mut Value, field: &str, defaults: &ResourceList) -> Vec<String> {
    if defaults.is_empty() {
        return Vec::new();
    }
    let Some(c) = container.as_object_mut() else {
        return Vec::new();
    };
    let resources = c.entry("resources").or_insert_with(|| json!({}));
    if !resources.is_object() {
        *resources = json!({});
    }
    let Some(resources) = resources.as_object_mut() else {
        return Vec::new();
    };
    let list = resources
        .entry(field)
        .or_insert_with(|| Value::Object(Map::new()));
    if !list.is_object() {
        *list = json!({});
    }
    let Some(list) = list.as_object_mut() else {
        return Vec::new();
    };
    let mut set = Vec::new();
    for (name, value) in defaults {
        if !list.contains_key(name) {
            list.insert(name.clone(), json!(value.canonical()));
            set.push(name.clone());
        }
    }
    set.sort();
    set
}

/// Checks the pod against every range (`PodValidateLimitFunc`); returns the errors.
pub fn validate(pod: &Value, ranges: &[Value]) -> Vec<String> {
    let mut errors = Vec::new();
    for range in ranges {
        for item in items(range, "Container") {
            for key in ["containers", "initContainers"] {
                for c in pod
                    .pointer(&format!("/spec/{key}"))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let requests = parse_list(c.pointer("/resources/requests"));
                    let limits = parse_list(c.pointer("/resources/limits"));
                    check_item(item, "Container", &requests, &limits, &mut errors);
                }
            }
        }
        for item in items(range, "Pod") {
            let requests = pod_total(pod, "requests");
            let limits = pod_total(pod, "limits");
            check_item(item, "Pod", &requests, &limits, &mut errors);
        }
    }
    errors
}

fn check_item(
    item: &Value,
    limit_type: &str,
    requests: &ResourceList,
    limits: &ResourceList,
    errors: &mut Vec<String>,
) {
    for (name, enforced) in parse_list(item.get("min")) {
        if let Err(e) = min_constraint(limit_type, &name, &enforced, requests, limits) {
            errors.push(e);
        }
    }
    for (name, enforced) in parse_list(item.get("max")) {
        if let Err(e) = max_constraint(limit_type, &name, &enforced, requests, limits) {
            errors.push(e);
        }
    }
    for (name, enforced) in parse_list(item.get("maxLimitRequestRatio")) {
        if let Err(e) = ratio_constraint(limit_type, &name, &enforced, requests, limits) {
            errors.push(e);
        }
    }
}

/// `requestLimitEnforcedValues`: milli-units when all three fit, whole units otherwise.
fn values(req: Option<&Quantity>, lim: Option<&Quantity>, enforced: &Quantity) -> (i64, i64, i64) {
    let v = |q: Option<&Quantity>| q.map_or(0, Quantity::value);
    let m = |q: Option<&Quantity>| q.map_or(0, Quantity::milli_value);
    let (r, l, e) = (v(req), v(lim), enforced.value());
    if r <= MAX_MILLI_VALUE && l <= MAX_MILLI_VALUE && e <= MAX_MILLI_VALUE {
        (m(req), m(lim), enforced.milli_value())
    } else {
        (r, l, e)
    }
}

fn min_constraint(
    limit_type: &str,
    name: &str,
    enforced: &Quantity,
    requests: &ResourceList,
    limits: &ResourceList,
) -> Result<(), String> {
    let (req, lim) = (requests.get(name), limits.get(name));
    let (r, l, e) = values(req, lim, enforced);
    let Some(req) = req else {
        return Err(format!(
            "minimum {name} usage per {limit_type} is {enforced}.  No request is specified"
        ));
    };
    if r < e {
        return Err(format!(
            "minimum {name} usage per {limit_type} is {enforced}, but request is {req}"
        ));
    }
    if let Some(lim) = lim
        && l < e
    {
        return Err(format!(
            "minimum {name} usage per {limit_type} is {enforced}, but limit is {lim}"
        ));
    }
    Ok(())
}

fn max_constraint(
    limit_type: &str,
    name: &str,
    enforced: &Quantity,
    requests: &ResourceList,
    limits: &ResourceList,
) -> Result<(), String> {
    let (req, lim) = (requests.get(name), limits.get(name));
    let (r, l, e) = values(req, lim, enforced);
    let Some(lim) = lim else {
        return Err(format!(
            "maximum {name} usage per {limit_type} is {enforced}.  No limit is specified"
        ));
    };
    if l > e {
        return Err(format!(
            "maximum {name} usage per {limit_type} is {enforced}, but limit is {lim}"
        ));
    }
    if let Some(req) = req
        && r > e
    {
        return Err(format!(
            "maximum {name} usage per {limit_type} is {enforced}, but request is {req}"
        ));
    }
    Ok(())
}

fn ratio_constraint(
    limit_type: &str,
    name: &str,
    enforced: &Quantity,
    requests: &ResourceList,
    limits: &ResourceList,
) -> Result<(), String> {
    let (req, lim) = (requests.get(name), limits.get(name));
    let (r, l, _) = values(req, lim, enforced);
    if req.is_none() || r == 0 {
        return Err(format!(
            "{name} max limit to request ratio per {limit_type} is {enforced}, but no request is specified or request is 0"
        ));
    }
    if lim.is_none() || l == 0 {
        return Err(format!(
            "{name} max limit to request ratio per {limit_type} is {enforced}, but no limit is specified or limit is 0"
        ));
    }
    let displayed = l as f64 / r as f64;
    let (observed, max) = if enforced.value() <= MAX_MILLI_VALUE {
        (displayed * 1000.0, enforced.milli_value() as f64)
    } else {
        (displayed, enforced.value() as f64)
    };
    if observed > max {
        return Err(format!(
            "{name} max limit to request ratio per {limit_type} is {enforced}, but provided ratio is {displayed:.6}"
        ));
    }
    Ok(())
}

/// Go's `utilerrors.NewAggregate(errs).Error()`: one message as is, several de-duplicated in
/// brackets.
pub fn aggregate(errors: &[String]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for e in errors {
        if !seen.contains(&e.as_str()) {
            seen.push(e);
        }
    }
    if seen.len() == 1 {
        seen[0].to_string()
    } else {
        format!("[{}]", seen.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range() -> Value {
        json!({"spec": {"limits": [{
            "type": "Container",
            "default": {"cpu": "500m", "memory": "256Mi"},
            "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
            "max": {"cpu": "1"},
            "min": {"cpu": "50m"},
            "maxLimitRequestRatio": {"cpu": "5"}
        }]}})
    }

    #[test]
    fn defaults_fill_missing_requests_and_limits() {
        let mut pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "nginx", "resources": {"requests": {"memory": "64Mi"}}}
        ]}});
        mutate(&mut pod, &[range()]);
        let res = &pod["spec"]["containers"][0]["resources"];
        assert_eq!(res["requests"], json!({"memory": "64Mi", "cpu": "100m"}));
        assert_eq!(res["limits"], json!({"cpu": "500m", "memory": "256Mi"}));
        assert_eq!(
            pod["metadata"]["annotations"][ANNOTATION],
            "LimitRanger plugin set: cpu request for container nginx; cpu, memory limit for container nginx"
        );
        assert!(validate(&pod, &[range()]).is_empty());
    }

    #[test]
    fn violations_use_upstream_messages() {
        let pod = json!({"spec": {"containers": [
            {"name": "c", "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "2"}}}
        ]}});
        let errors = validate(&pod, &[range()]);
        assert_eq!(
            errors,
            vec![
                "maximum cpu usage per Container is 1, but limit is 2".to_string(),
                "cpu max limit to request ratio per Container is 5, but provided ratio is 20.000000".to_string(),
            ]
        );
        assert_eq!(
            aggregate(&errors),
            "[maximum cpu usage per Container is 1, but limit is 2, cpu max limit to request ratio per Container is 5, but provided ratio is 20.000000]"
        );
        let pod =
            json!({"spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": "1"}}}]}});
        assert_eq!(
            validate(&pod, &[range()])[0],
            "minimum cpu usage per Container is 50m.  No request is specified"
        );
    }
}
