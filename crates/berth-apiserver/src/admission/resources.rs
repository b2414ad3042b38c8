//! Resource lists (`v1.ResourceList`) and the arithmetic quota and limit checks need
//! (upstream `quota/v1` helpers and `resourcehelper.PodRequests`).

use std::collections::BTreeMap;

use berth_apimachinery::validation::quantity::{self, Format, Quantity};
use serde_json::Value;

/// Resource name -> quantity, sorted by name as upstream prints them.
pub type ResourceList = BTreeMap<String, Quantity>;

/// Reads a resource list, skipping values that do not parse (validation reports those).
pub fn parse_list(v: Option<&Value>) -> ResourceList {
    v.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), quantity::parse(v.as_str()?).ok()?)))
        .collect()
}

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
    // bytes / 1024 has a finite decimal expansion: bytes * 0.0009765625.
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

/// `quota.Add`: the sum of two lists.
pub fn add_lists(a: &ResourceList, b: &ResourceList) -> ResourceList {
    let mut out = a.clone();
    for (k, v) in b {
        let sum = match out.get(k) {
            Some(existing) => add(existing, v),
            None => v.clone(),
        };
        out.insert(k.clone(), sum);
    }
    out
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

/// The containers of a pod spec: regular ones, then init containers with whether each is a
/// sidecar (restartPolicy Always).
fn containers(pod: &Value) -> (Vec<&Value>, Vec<(&Value, bool)>) {
    let list = |key: &str| -> Vec<&Value> {
        pod.pointer(&format!("/spec/{key}"))
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    };
    let init = list("initContainers")
        .into_iter()
        .map(|c| {
            let sidecar = c.get("restartPolicy").and_then(Value::as_str) == Some("Always");
            (c, sidecar)
        })
        .collect();
    (list("containers"), init)
}

fn max_lists(a: &mut ResourceList, b: &ResourceList) {
    for (k, v) in b {
        if a.get(k).is_none_or(|cur| v > cur) {
            a.insert(k.clone(), v.clone());
        }
    }
}

/// The pod's effective requests or limits (`field` is `requests` or `limits`): the sum of its
/// containers and sidecars, at least what any init container needs while it runs (with the
/// sidecars started before it), plus the pod overhead (`resourcehelper.PodRequests`).
pub fn pod_total(pod: &Value, field: &str) -> ResourceList {
    let of = |c: &Value| parse_list(c.pointer(&format!("/resources/{field}")));
    let (regular, init) = containers(pod);
    let mut total = ResourceList::new();
    for c in regular {
        total = add_lists(&total, &of(c));
    }
    let mut sidecars = ResourceList::new();
    let mut init_peak = ResourceList::new();
    for (c, sidecar) in init {
        if sidecar {
            sidecars = add_lists(&sidecars, &of(c));
            total = add_lists(&total, &of(c));
            max_lists(&mut init_peak, &sidecars);
        } else {
            max_lists(&mut init_peak, &add_lists(&of(c), &sidecars));
        }
    }
    max_lists(&mut total, &init_peak);
    add_lists(&total, &parse_list(pod.pointer("/spec/overhead")))
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
}
