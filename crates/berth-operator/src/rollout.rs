//! Reading a rollout: how far the Deployment is, and whether the current revision failed.
//! Pure functions over the objects, so every rule is unit-tested.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;

/// Restarts after which a container of the new revision counts as crash-looping even before
/// the kubelet reports CrashLoopBackOff.
pub const MAX_RESTARTS: i32 = 3;

const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// The numbers of a Deployment that decide the App's phase.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeploymentView {
    /// `spec.replicas` (default 1).
    pub desired: i32,
    /// Pods of all ReplicaSets (`status.replicas`).
    pub replicas: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
    /// The Deployment controller has seen the current spec (`observedGeneration >= generation`).
    pub observed: bool,
    /// `Progressing=False` with reason `ProgressDeadlineExceeded`.
    pub deadline_exceeded: bool,
    /// `spec.progressDeadlineSeconds` (Kubernetes' default 600).
    pub progress_deadline_seconds: i64,
    /// The Deployment's own `Available` condition: (status is True, reason).
    pub available_condition: Option<(bool, String)>,
}

impl DeploymentView {
    pub fn of(d: &Deployment) -> DeploymentView {
        let spec_replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let status = d.status.clone().unwrap_or_default();
        let generation = d.metadata.generation.unwrap_or(0);
        let conditions = status.conditions.unwrap_or_default();
        let progressing = conditions.iter().find(|c| c.type_ == "Progressing");
        let available = conditions.iter().find(|c| c.type_ == "Available");
        let progress_deadline_seconds = d
            .spec
            .as_ref()
            .and_then(|s| s.progress_deadline_seconds)
            .map_or(600, i64::from);
        DeploymentView {
            progress_deadline_seconds,
            desired: spec_replicas,
            replicas: status.replicas.unwrap_or(0),
            updated: status.updated_replicas.unwrap_or(0),
            ready: status.ready_replicas.unwrap_or(0),
            available: status.available_replicas.unwrap_or(0),
            observed: status.observed_generation.unwrap_or(0) >= generation,
            deadline_exceeded: progressing.is_some_and(|c| {
                c.status == "False" && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
            }),
            available_condition: available
                .map(|c| (c.status == "True", c.reason.clone().unwrap_or_default())),
        }
    }

    /// Rolled out: the controller saw the spec, every pod is updated and available, and no old
    /// pod remains.
    pub fn complete(&self) -> bool {
        self.observed
            && self.updated >= self.desired
            && self.available >= self.desired
            && self.replicas <= self.updated
    }

    /// `ready/desired`.
    pub fn ready_text(&self) -> String {
        format!("{}/{}", self.ready, self.desired)
    }
}

/// The `pod-template-hash` of the Deployment's newest ReplicaSet (highest
/// `deployment.kubernetes.io/revision` among those it controls).
pub fn newest_template_hash(d: &Deployment, replica_sets: &[ReplicaSet]) -> Option<String> {
    let uid = d.metadata.uid.as_deref()?;
    replica_sets
        .iter()
        .filter(|rs| {
            rs.metadata.owner_references.as_ref().is_some_and(|refs| {
                refs.iter()
                    .any(|r| r.uid == uid && r.controller == Some(true))
            })
        })
        .filter_map(|rs| {
            let revision: i64 = rs
                .metadata
                .annotations
                .as_ref()?
                .get(REVISION_ANNOTATION)?
                .parse()
                .ok()?;
            let hash = rs.metadata.labels.as_ref()?.get(POD_TEMPLATE_HASH)?;
            Some((revision, hash.clone()))
        })
        .max_by_key(|(revision, _)| *revision)
        .map(|(_, hash)| hash)
}

/// Why a pod of the current template is failing: a container waiting in CrashLoopBackOff or
/// restarted [`MAX_RESTARTS`] times.
pub fn crash_reason(pods: &[Pod], template_hash: &str) -> Option<String> {
    pods.iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| {
            p.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(POD_TEMPLATE_HASH))
                .is_some_and(|h| h == template_hash)
        })
        .find_map(|p| {
            let pod = p.metadata.name.as_deref().unwrap_or_default();
            let status = p.status.as_ref()?;
            let statuses = status
                .init_container_statuses
                .iter()
                .flatten()
                .chain(status.container_statuses.iter().flatten());
            for c in statuses {
                let waiting = c.state.as_ref().and_then(|s| s.waiting.as_ref());
                if let Some(w) = waiting
                    && w.reason.as_deref() == Some("CrashLoopBackOff")
                {
                    return Some(format!(
                        "pod {pod}: container {} is in CrashLoopBackOff after {} restarts",
                        c.name, c.restart_count
                    ));
                }
                if c.restart_count >= MAX_RESTARTS {
                    return Some(format!(
                        "pod {pod}: container {} restarted {} times",
                        c.name, c.restart_count
                    ));
                }
            }
            None
        })
}

/// Why the rollout of the current revision failed, if it did, `applied_seconds_ago` after the
/// revision was applied. A deadline condition counts only once the controller saw the current
/// spec and the revision has had its whole deadline: the condition may be left over from an
/// earlier rollout. (Going back to an existing ReplicaSet creates none, so the Deployment
/// controller keeps measuring from the old condition's time, as upstream does, and can report
/// the deadline exceeded at once.)
pub fn failure(
    view: &DeploymentView,
    crash: Option<String>,
    applied_seconds_ago: i64,
) -> Option<String> {
    if view.observed
        && view.deadline_exceeded
        && applied_seconds_ago >= view.progress_deadline_seconds
    {
        return Some("progress deadline exceeded".to_string());
    }
    crash
}

/// The recorded objects of a revision being rolled back to, with the Deployment's rollout made as
/// fast as it can be: every replica of the old ReplicaSet is started at once (`maxSurge: 100%`,
/// `maxUnavailable: 0`) instead of in the app's usual surge steps. A rollback is the emergency
/// path (the seeds' complaint was slow rollbacks); the pod template is untouched, so the old
/// ReplicaSet is still the one scaled back up, and the next deploy renders the app's own
/// strategy again.
pub fn for_rollback(objects: &[serde_json::Value]) -> Vec<serde_json::Value> {
    objects
        .iter()
        .map(|o| {
            let mut o = o.clone();
            if o.get("kind").and_then(serde_json::Value::as_str) == Some("Deployment")
                && let Some(spec) = o.get_mut("spec").and_then(serde_json::Value::as_object_mut)
            {
                spec.insert(
                    "strategy".into(),
                    serde_json::json!({"type": "RollingUpdate",
                        "rollingUpdate": {"maxSurge": "100%", "maxUnavailable": 0}}),
                );
            }
            o
        })
        .collect()
}

/// Seconds since an RFC 3339 time (a revision's `time`); `i64::MAX` when it does not parse (the
/// deadline condition is then trusted as it is).
pub fn seconds_since(time: &str) -> i64 {
    time.parse::<k8s_openapi::jiff::Timestamp>()
        .map(|t| k8s_openapi::jiff::Timestamp::now().as_second() - t.as_second())
        .unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(status: serde_json::Value) -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "generation": 2, "uid": "d-1"},
            "spec": {"replicas": 2, "selector": {}, "template": {}},
            "status": status,
        }))
        .expect("deployment")
    }

    #[test]
    fn complete_only_when_observed_updated_available_and_no_old_pods() {
        let done = DeploymentView::of(&deployment(json!({"observedGeneration": 2,
            "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2})));
        assert!(done.complete());
        assert_eq!(done.ready_text(), "2/2");
        let unobserved = DeploymentView::of(&deployment(json!({"observedGeneration": 1,
            "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2})));
        assert!(!unobserved.complete());
        let old_pods = DeploymentView::of(&deployment(json!({"observedGeneration": 2,
            "replicas": 3, "updatedReplicas": 2, "readyReplicas": 3, "availableReplicas": 3})));
        assert!(!old_pods.complete());
        let unavailable = DeploymentView::of(&deployment(json!({"observedGeneration": 2,
            "replicas": 2, "updatedReplicas": 2, "readyReplicas": 1, "availableReplicas": 1})));
        assert!(!unavailable.complete());
    }

    #[test]
    fn deadline_exceeded_is_a_failure() {
        let view = DeploymentView::of(&deployment(json!({"observedGeneration": 2,
            "conditions": [{"type": "Progressing", "status": "False",
                "reason": "ProgressDeadlineExceeded"}]})));
        assert!(view.deadline_exceeded);
        assert_eq!(
            failure(&view, None, 600).as_deref(),
            Some("progress deadline exceeded")
        );
        // The same condition before the controller saw the new spec is the old rollout's.
        let stale = DeploymentView::of(&deployment(json!({"observedGeneration": 1,
            "conditions": [{"type": "Progressing", "status": "False",
                "reason": "ProgressDeadlineExceeded"}]})));
        assert_eq!(failure(&stale, None, 600), None);
        // A revision younger than its deadline (600 s here) has not failed yet: the condition
        // is an earlier rollout's.
        assert_eq!(failure(&view, None, 10), None);
        let fine = DeploymentView::of(&deployment(json!({"conditions": [
            {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}]})));
        assert!(!fine.deadline_exceeded);
        assert_eq!(failure(&fine, None, 600), None);
    }

    #[test]
    fn rollback_starts_every_replica_at_once() {
        let objects = vec![
            json!({"kind": "Service", "spec": {"ports": []}}),
            json!({"kind": "Deployment", "spec": {"replicas": 10, "strategy": {"type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}, "template": {"x": 1}}}),
        ];
        let out = for_rollback(&objects);
        assert_eq!(out[0], objects[0]);
        assert_eq!(
            out[1]["spec"]["strategy"]["rollingUpdate"]["maxSurge"],
            "100%"
        );
        assert_eq!(out[1]["spec"]["template"], objects[1]["spec"]["template"]);
        assert_eq!(out[1]["spec"]["replicas"], 10);
    }

    #[test]
    fn seconds_since_a_revision_time() {
        let past = k8s_openapi::jiff::Timestamp::now()
            .checked_sub(k8s_openapi::jiff::SignedDuration::from_secs(30))
            .expect("time")
            .to_string();
        assert!((29..=40).contains(&seconds_since(&past)));
        assert_eq!(seconds_since("not a time"), i64::MAX);
    }

    fn rs(name: &str, revision: &str, hash: &str, owner: &str) -> ReplicaSet {
        serde_json::from_value(json!({"metadata": {"name": name,
            "annotations": {"deployment.kubernetes.io/revision": revision},
            "labels": {"pod-template-hash": hash},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                "uid": owner, "controller": true}]}}))
        .expect("rs")
    }

    #[test]
    fn newest_replica_set_by_revision_of_this_deployment() {
        let d = deployment(json!({}));
        let sets = [
            rs("a", "9", "aaa", "d-1"),
            rs("b", "10", "bbb", "d-1"),
            rs("c", "11", "ccc", "other"),
        ];
        assert_eq!(newest_template_hash(&d, &sets).as_deref(), Some("bbb"));
        assert_eq!(newest_template_hash(&d, &[]), None);
    }

    fn pod(hash: &str, status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "web-x",
            "labels": {"pod-template-hash": hash}}, "status": status}))
        .expect("pod")
    }

    #[test]
    fn crash_loops_of_current_pods_only() {
        let crashing = json!({"containerStatuses": [{"name": "app", "image": "i", "imageID": "",
            "ready": false, "restartCount": 1,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]});
        let restarted = json!({"containerStatuses": [{"name": "app", "image": "i", "imageID": "",
            "ready": true, "restartCount": 3, "state": {"running": {}}}]});
        let healthy = json!({"containerStatuses": [{"name": "app", "image": "i", "imageID": "",
            "ready": true, "restartCount": 2, "state": {"running": {}}}]});
        let r = crash_reason(&[pod("new", crashing.clone())], "new").expect("crash");
        assert!(r.contains("CrashLoopBackOff"), "{r}");
        let r = crash_reason(&[pod("new", restarted)], "new").expect("restarts");
        assert!(r.contains("restarted 3 times"), "{r}");
        assert_eq!(crash_reason(&[pod("new", healthy)], "new"), None);
        // An old revision's pod crashing is not the new revision's failure.
        assert_eq!(crash_reason(&[pod("old", crashing)], "new"), None);
    }
}
