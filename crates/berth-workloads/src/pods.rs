//! Pod helpers shared by the controllers (upstream `pkg/controller/controller_utils.go` and
//! `podutil`).

use std::cmp::Ordering;
use std::collections::HashMap;

use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::ObjectMeta;

use crate::meta::pods_prefix;

pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// Not terminal and not being deleted (upstream `IsPodActive`).
pub fn is_active(pod: &Pod) -> bool {
    !matches!(phase(pod), "Succeeded" | "Failed") && pod.metadata.deletion_timestamp.is_none()
}

fn ready_condition(pod: &Pod) -> Option<&k8s_openapi::api::core::v1::PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
}

pub fn is_ready(pod: &Pod) -> bool {
    ready_condition(pod).is_some_and(|c| c.status == "True")
}

/// When the pod last became ready, if it is.
pub fn ready_since(pod: &Pod) -> Option<Timestamp> {
    ready_condition(pod)
        .filter(|c| c.status == "True")
        .and_then(|c| c.last_transition_time.as_ref())
        .map(|t| t.0)
}

/// Ready for at least `min_ready_seconds` (upstream `IsPodAvailable`).
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> bool {
    if !is_ready(pod) {
        return false;
    }
    if min_ready_seconds <= 0 {
        return true;
    }
    ready_since(pod)
        .is_some_and(|t| t + SignedDuration::from_secs(i64::from(min_ready_seconds)) <= now)
}

fn restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| cs.iter().map(|c| c.restart_count).max().unwrap_or(0))
        .unwrap_or(0)
}

fn deletion_cost(pod: &Pod) -> i32 {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("controller.kubernetes.io/pod-deletion-cost"))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn phase_rank(pod: &Pod) -> u8 {
    match phase(pod) {
        "Pending" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 3,
    }
}

fn node_name(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("")
}

/// Orders pods so that the ones to delete first come first (upstream `ActivePodsWithRanks`,
/// with `LogarithmicScaleDown`): unassigned < assigned, Pending < Unknown < Running, not ready <
/// ready, lower deletion cost first, more pods of the same owner on the node first, ready for a
/// shorter (log2-bucketed) time first, more restarts first, newer first.
pub fn sort_for_deletion(pods: &mut [&Pod], related: &[&Pod], now: Timestamp) {
    let mut per_node: HashMap<&str, usize> = HashMap::new();
    for p in related {
        let node = node_name(p);
        if !node.is_empty() && is_active(p) {
            *per_node.entry(node).or_insert(0) += 1;
        }
    }
    let rank = |p: &Pod| per_node.get(node_name(p)).copied().unwrap_or(0);
    pods.sort_by(|a, b| deletion_order(a, b, rank(a), rank(b), now));
}

fn log2_bucket(ts: Option<Timestamp>, now: Timestamp) -> i64 {
    match ts {
        None => -1,
        Some(t) => {
            let secs = now.duration_since(t).as_secs().max(0);
            if secs == 0 {
                0
            } else {
                64 - i64::from(secs.leading_zeros())
            }
        }
    }
}

fn deletion_order(a: &Pod, b: &Pod, rank_a: usize, rank_b: usize, now: Timestamp) -> Ordering {
    let assigned = |p: &Pod| !node_name(p).is_empty();
    assigned(a)
        .cmp(&assigned(b))
        .then_with(|| phase_rank(a).cmp(&phase_rank(b)))
        .then_with(|| is_ready(a).cmp(&is_ready(b)))
        .then_with(|| deletion_cost(a).cmp(&deletion_cost(b)))
        .then_with(|| rank_b.cmp(&rank_a))
        .then_with(|| {
            if is_ready(a) && is_ready(b) {
                // Ready for less time first: a bigger bucket means ready for longer.
                log2_bucket(ready_since(a), now).cmp(&log2_bucket(ready_since(b), now))
            } else {
                Ordering::Equal
            }
        })
        .then_with(|| restarts(b).cmp(&restarts(a)))
        .then_with(|| {
            let created = |p: &Pod| p.metadata.creation_timestamp.as_ref().map(|t| t.0);
            match (created(a), created(b)) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => log2_bucket(Some(x), now)
                    .cmp(&log2_bucket(Some(y), now))
                    .then(y.cmp(&x)),
            }
        })
}

/// A pod to create from a controller's template (upstream `GetPodFromTemplate`).
pub fn pod_from_template(
    template: &PodTemplateSpec,
    controller_name: &str,
    owner: OwnerReference,
) -> Pod {
    let tm = template.metadata.clone().unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(pods_prefix(controller_name)),
            labels: tm.labels,
            annotations: tm.annotations,
            finalizers: tm.finalizers,
            owner_references: Some(vec![owner]),
            ..ObjectMeta::default()
        },
        spec: template.spec.clone(),
        status: None,
    }
}

pub fn pod_key(pod: &Pod) -> String {
    format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or(""),
        pod.metadata.name.as_deref().unwrap_or("")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodCondition, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn pod(name: &str, node: &str, phase: &str, ready: bool) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..ObjectMeta::default()
            },
            spec: Some(PodSpec {
                node_name: (!node.is_empty()).then(|| node.to_string()),
                ..PodSpec::default()
            }),
            status: Some(PodStatus {
                phase: Some(phase.into()),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    last_transition_time: Some(Time(Timestamp::UNIX_EPOCH)),
                    ..PodCondition::default()
                }]),
                ..PodStatus::default()
            }),
        }
    }

    #[test]
    fn deletion_prefers_unscheduled_pending_unready() {
        let ready = pod("ready", "n1", "Running", true);
        let unready = pod("unready", "n1", "Running", false);
        let pending = pod("pending", "n1", "Pending", false);
        let unscheduled = pod("unscheduled", "", "Pending", false);
        let mut pods = vec![&ready, &unready, &pending, &unscheduled];
        let all = pods.clone();
        sort_for_deletion(&mut pods, &all, Timestamp::now());
        let names: Vec<_> = pods
            .iter()
            .map(|p| p.metadata.name.as_deref().unwrap())
            .collect();
        assert_eq!(names, ["unscheduled", "pending", "unready", "ready"]);
    }

    #[test]
    fn availability_waits_min_ready_seconds() {
        let p = pod("a", "n1", "Running", true);
        let since = Timestamp::UNIX_EPOCH;
        assert!(is_available(&p, 0, since));
        assert!(!is_available(&p, 10, since + SignedDuration::from_secs(5)));
        assert!(is_available(&p, 10, since + SignedDuration::from_secs(10)));
    }
}
