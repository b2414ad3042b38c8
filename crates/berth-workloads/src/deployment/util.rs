//! Pure Deployment logic (upstream `pkg/controller/deployment/util`): template hashes, revision
//! and replica annotations, surge/unavailability arithmetic, conditions and status.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet, ReplicaSetSpec,
};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use crate::meta;

pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// Longest `revision-history` annotation value (upstream `maxRevHistoryLengthInChars`).
const MAX_REV_HISTORY_LENGTH: usize = 2000;

pub const PROGRESSING: &str = "Progressing";
pub const AVAILABLE: &str = "Available";
pub const REPLICA_FAILURE: &str = "ReplicaFailure";

pub const NEW_RS_REASON: &str = "NewReplicaSetCreated";
pub const FOUND_NEW_RS_REASON: &str = "FoundNewReplicaSet";
pub const RS_UPDATED_REASON: &str = "ReplicaSetUpdated";
pub const NEW_RS_AVAILABLE_REASON: &str = "NewReplicaSetAvailable";
pub const TIMED_OUT_REASON: &str = "ProgressDeadlineExceeded";
pub const FAILED_RS_CREATE_REASON: &str = "ReplicaSetCreateError";
pub const PAUSED_REASON: &str = "DeploymentPaused";
pub const RESUMED_REASON: &str = "DeploymentResumed";
pub const MIN_AVAILABLE_REASON: &str = "MinimumReplicasAvailable";
pub const MIN_UNAVAILABLE_REASON: &str = "MinimumReplicasUnavailable";

// ---------------------------------------------------------------------------------------------
// Hashing

/// 32-bit FNV-1a.
fn fnv32a(data: &[u8], mut hash: u32) -> u32 {
    for b in data {
        hash ^= u32::from(*b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}
const FNV32_OFFSET: u32 = 0x811c_9dc5;

/// Upstream `rand.SafeEncodeString`: maps each byte to a consonant or digit so that the result
/// can never spell words.
fn safe_encode(s: &str) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    s.bytes()
        .map(|b| char::from(ALPHANUMS[usize::from(b) % ALPHANUMS.len()]))
        .collect()
}

/// The `pod-template-hash` of a template (upstream `ComputeHash`): FNV-1a over the template's
/// JSON (upstream hashes a spew dump; any stable encoding will do, and JSON of the k8s-openapi
/// struct is deterministic), then the collision count's little-endian bytes, printed in decimal
/// and safe-encoded.
pub fn pod_template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    pod_template_hash_bytes(
        &serde_json::to_vec(template).unwrap_or_default(),
        collision_count,
    )
}

/// [`pod_template_hash`] over already encoded bytes (upstream `controller.ComputeHash`'s
/// scheme, also used for ControllerRevision names).
pub fn pod_template_hash_bytes(bytes: &[u8], collision_count: Option<i32>) -> String {
    let mut hash = fnv32a(bytes, FNV32_OFFSET);
    if let Some(c) = collision_count {
        hash = fnv32a(&c.to_le_bytes(), hash);
    }
    safe_encode(&hash.to_string())
}

/// Templates equal apart from the `pod-template-hash` label (upstream `EqualIgnoreHash`).
pub fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    fn strip(t: &PodTemplateSpec) -> PodTemplateSpec {
        let mut t = t.clone();
        if let Some(m) = t.metadata.as_mut() {
            if let Some(labels) = m.labels.as_mut() {
                labels.remove(POD_TEMPLATE_HASH);
                if labels.is_empty() {
                    m.labels = None;
                }
            }
            if m.annotations.as_ref().is_some_and(BTreeMap::is_empty) {
                m.annotations = None;
            }
        }
        t
    }
    strip(a) == strip(b)
}

// ---------------------------------------------------------------------------------------------
// Replica arithmetic

pub fn replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

pub fn rs_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

pub fn rs_status_replicas(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().map(|s| s.replicas).unwrap_or(0)
}

pub fn rs_available(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0)
}

pub fn rs_ready(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0)
}

pub fn is_rolling_update(d: &Deployment) -> bool {
    strategy_type(d) == "RollingUpdate"
}

pub fn strategy_type(d: &Deployment) -> &str {
    d.spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.type_.as_deref())
        .unwrap_or("RollingUpdate")
}

/// An int or a percentage of `total` (upstream `GetScaledValueFromIntOrPercent`).
pub fn scaled_value(v: &IntOrString, total: i32, round_up: bool) -> Result<i32, String> {
    match v {
        IntOrString::Int(i) => Ok(*i),
        IntOrString::String(s) => {
            let Some(pct) = s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) else {
                return Err(format!(
                    "invalid value for IntOrString: invalid value {s:?}"
                ));
            };
            let product = pct * i64::from(total);
            let value = if round_up {
                (product + 99).div_euclid(100)
            } else {
                product.div_euclid(100)
            };
            Ok(i32::try_from(value).unwrap_or(i32::MAX))
        }
    }
}

/// (maxSurge, maxUnavailable) for `desired` replicas; both zero is made 1 unavailable so a
/// rollout can progress (upstream `ResolveFenceposts`).
pub fn resolve_fenceposts(
    surge: Option<&IntOrString>,
    unavailable: Option<&IntOrString>,
    desired: i32,
) -> (i32, i32) {
    let default = IntOrString::String("25%".into());
    let surge = scaled_value(surge.unwrap_or(&default), desired, true).unwrap_or(0);
    let unavailable = scaled_value(unavailable.unwrap_or(&default), desired, false).unwrap_or(0);
    if surge == 0 && unavailable == 0 {
        return (0, 1);
    }
    (surge, unavailable)
}

fn fenceposts(d: &Deployment) -> (i32, i32) {
    let ru = d
        .spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.rolling_update.as_ref());
    resolve_fenceposts(
        ru.and_then(|r| r.max_surge.as_ref()),
        ru.and_then(|r| r.max_unavailable.as_ref()),
        replicas(d),
    )
}

pub fn max_surge(d: &Deployment) -> i32 {
    if !is_rolling_update(d) {
        return 0;
    }
    fenceposts(d).0
}

pub fn max_unavailable(d: &Deployment) -> i32 {
    if !is_rolling_update(d) || replicas(d) == 0 {
        return 0;
    }
    fenceposts(d).1.min(replicas(d))
}

pub fn sum<F: Fn(&ReplicaSet) -> i32>(rss: &[Arc<ReplicaSet>], f: F) -> i32 {
    rss.iter().map(|rs| f(rs)).sum()
}

/// Replicas for the new ReplicaSet (upstream `NewRSNewReplicas`).
pub fn new_rs_new_replicas(d: &Deployment, all: &[Arc<ReplicaSet>], new_rs: &ReplicaSet) -> i32 {
    if !is_rolling_update(d) {
        return replicas(d);
    }
    let current = sum(all, rs_replicas);
    let max_total = replicas(d) + max_surge(d);
    if current >= max_total {
        return rs_replicas(new_rs);
    }
    let scale_up = (max_total - current).min(replicas(d) - rs_replicas(new_rs));
    rs_replicas(new_rs) + scale_up
}

// ---------------------------------------------------------------------------------------------
// Finding ReplicaSets

pub fn by_creation(rss: &mut [Arc<ReplicaSet>]) {
    rss.sort_by(|a, b| {
        meta::creation(&a.metadata)
            .cmp(&meta::creation(&b.metadata))
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
}

fn template_of(rs: &ReplicaSet) -> PodTemplateSpec {
    rs.spec
        .as_ref()
        .and_then(|s| s.template.clone())
        .unwrap_or_default()
}

pub fn template(d: &Deployment) -> PodTemplateSpec {
    d.spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default()
}

/// The oldest ReplicaSet whose template equals the Deployment's (upstream `FindNewReplicaSet`).
pub fn find_new_rs(d: &Deployment, rss: &[Arc<ReplicaSet>]) -> Option<Arc<ReplicaSet>> {
    let mut sorted = rss.to_vec();
    by_creation(&mut sorted);
    let t = template(d);
    sorted
        .into_iter()
        .find(|rs| equal_ignore_hash(&template_of(rs), &t))
}

pub fn find_old_rss(rss: &[Arc<ReplicaSet>], new_rs: Option<&ReplicaSet>) -> Vec<Arc<ReplicaSet>> {
    let new_uid = new_rs.and_then(|r| r.metadata.uid.as_deref());
    rss.iter()
        .filter(|rs| new_uid.is_none() || rs.metadata.uid.as_deref() != new_uid)
        .cloned()
        .collect()
}

pub fn active(rss: &[Arc<ReplicaSet>]) -> Vec<Arc<ReplicaSet>> {
    rss.iter()
        .filter(|rs| rs_replicas(rs) > 0)
        .cloned()
        .collect()
}

fn annotation<'a>(annotations: Option<&'a BTreeMap<String, String>>, key: &str) -> Option<&'a str> {
    annotations.and_then(|a| a.get(key)).map(String::as_str)
}

pub fn revision(rs: &ReplicaSet) -> i64 {
    annotation(rs.metadata.annotations.as_ref(), REVISION)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn max_revision(rss: &[Arc<ReplicaSet>]) -> i64 {
    rss.iter().map(|rs| revision(rs)).max().unwrap_or(0)
}

pub fn desired_replicas_annotation(rs: &ReplicaSet) -> Option<i32> {
    annotation(rs.metadata.annotations.as_ref(), DESIRED_REPLICAS).and_then(|v| v.parse().ok())
}

pub fn max_replicas_annotation(rs: &ReplicaSet) -> Option<i32> {
    annotation(rs.metadata.annotations.as_ref(), MAX_REPLICAS).and_then(|v| v.parse().ok())
}

// ---------------------------------------------------------------------------------------------
// Annotations

fn skip_copy(key: &str) -> bool {
    matches!(
        key,
        LAST_APPLIED | REVISION | REVISION_HISTORY | DESIRED_REPLICAS | MAX_REPLICAS
    )
}

/// Copies the Deployment's annotations onto the ReplicaSet, except the ones the controller
/// owns (upstream `copyDeploymentAnnotationsToReplicaSet`).
fn copy_annotations(d: &Deployment, rs: &mut ReplicaSet) -> bool {
    let mut changed = false;
    let rs_ann = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    for (k, v) in d.metadata.annotations.iter().flatten() {
        if skip_copy(k) || rs_ann.get(k) == Some(v) {
            continue;
        }
        rs_ann.insert(k.clone(), v.clone());
        changed = true;
    }
    changed
}

/// Sets the desired and max replicas annotations; true if changed.
pub fn set_replicas_annotations(rs: &mut ReplicaSet, desired: i32, max: i32) -> bool {
    let ann = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let mut changed = false;
    for (k, v) in [(DESIRED_REPLICAS, desired), (MAX_REPLICAS, max)] {
        let v = v.to_string();
        if ann.get(k) != Some(&v) {
            ann.insert(k.to_string(), v);
            changed = true;
        }
    }
    changed
}

/// Upstream `SetNewReplicaSetAnnotations`: copies the Deployment's annotations, raises the
/// revision to `new_revision`, remembering a reused ReplicaSet's former revisions in
/// `revision-history`, and on creation sets the replicas annotations.
pub fn set_new_rs_annotations(
    d: &Deployment,
    rs: &mut ReplicaSet,
    new_revision: i64,
    exists: bool,
) -> bool {
    let mut changed = copy_annotations(d, rs);
    let ann = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let old_revision = ann.get(REVISION).cloned();
    let old_int: i64 = old_revision
        .as_deref()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    if old_int < new_revision {
        ann.insert(REVISION.to_string(), new_revision.to_string());
        changed = true;
        if let Some(old) = old_revision.filter(|o| !o.is_empty()) {
            let history = ann.get(REVISION_HISTORY).cloned().unwrap_or_default();
            let mut revisions: Vec<String> = if history.is_empty() {
                Vec::new()
            } else {
                history.split(',').map(str::to_string).collect()
            };
            revisions.push(old);
            let mut joined = revisions.join(",");
            while joined.len() > MAX_REV_HISTORY_LENGTH && revisions.len() > 1 {
                revisions.remove(0);
                joined = revisions.join(",");
            }
            ann.insert(REVISION_HISTORY.to_string(), joined);
        }
    }
    if !exists && set_replicas_annotations(rs, replicas(d), replicas(d) + max_surge(d)) {
        changed = true;
    }
    changed
}

/// Sets the Deployment's revision annotation; true if changed.
pub fn deployment_revision_changes(d: &Deployment, revision: &str) -> bool {
    annotation(d.metadata.annotations.as_ref(), REVISION) != Some(revision)
}

/// A new ReplicaSet for the Deployment's current template.
pub fn new_replica_set(
    d: &Deployment,
    hash: &str,
    replicas_count: i32,
    revision: i64,
) -> ReplicaSet {
    let spec = d.spec.clone().unwrap_or_default();
    let mut tmpl = spec.template.clone();
    tmpl.metadata
        .get_or_insert_with(Default::default)
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(POD_TEMPLATE_HASH.into(), hash.into());
    let mut selector = spec.selector.clone();
    selector
        .match_labels
        .get_or_insert_with(BTreeMap::new)
        .insert(POD_TEMPLATE_HASH.into(), hash.into());
    let labels = tmpl.metadata.as_ref().and_then(|m| m.labels.clone());
    let name = d.metadata.name.clone().unwrap_or_default();
    let mut rs = ReplicaSet {
        metadata: kube::api::ObjectMeta {
            name: Some(format!("{name}-{hash}")),
            namespace: d.metadata.namespace.clone(),
            labels,
            owner_references: Some(vec![meta::new_controller_ref(d)]),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(replicas_count),
            min_ready_seconds: spec.min_ready_seconds,
            selector,
            template: Some(tmpl),
        }),
        status: None,
    };
    set_new_rs_annotations(d, &mut rs, revision, false);
    rs
}

// ---------------------------------------------------------------------------------------------
// Conditions

pub fn get_condition<'a>(
    status: &'a DeploymentStatus,
    type_: &str,
) -> Option<&'a DeploymentCondition> {
    status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == type_)
}

pub fn new_condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
) -> DeploymentCondition {
    let now = meta::now_time();
    DeploymentCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: Some(reason.to_string()),
        message: Some(message),
        last_update_time: Some(now.clone()),
        last_transition_time: Some(now),
    }
}

/// Upstream `SetDeploymentCondition`: nothing changes if status and reason are the same; the
/// transition time is kept if only the reason changes.
pub fn set_condition(status: &mut DeploymentStatus, mut condition: DeploymentCondition) {
    if let Some(current) = get_condition(status, &condition.type_) {
        if current.status == condition.status && current.reason == condition.reason {
            return;
        }
        if current.status == condition.status {
            condition.last_transition_time = current.last_transition_time.clone();
        }
    }
    remove_condition(status, &condition.type_);
    status
        .conditions
        .get_or_insert_with(Vec::new)
        .push(condition);
}

pub fn remove_condition(status: &mut DeploymentStatus, type_: &str) {
    if let Some(c) = status.conditions.as_mut() {
        c.retain(|c| c.type_ != type_);
    }
}

pub fn progress_deadline(d: &Deployment) -> Option<i32> {
    d.spec
        .as_ref()
        .and_then(|s| s.progress_deadline_seconds)
        .filter(|s| *s != i32::MAX)
}

// ---------------------------------------------------------------------------------------------
// Status

/// Upstream `calculateStatus`.
pub fn calculate_status(
    all: &[Arc<ReplicaSet>],
    new_rs: Option<&ReplicaSet>,
    d: &Deployment,
) -> DeploymentStatus {
    let available = sum(all, rs_available);
    let total = sum(all, rs_replicas);
    let current = d.status.clone().unwrap_or_default();
    let mut status = DeploymentStatus {
        observed_generation: d.metadata.generation,
        replicas: Some(sum(all, rs_status_replicas)),
        updated_replicas: Some(new_rs.map(rs_status_replicas).unwrap_or(0)),
        ready_replicas: Some(sum(all, rs_ready)),
        available_replicas: Some(available),
        unavailable_replicas: Some((total - available).max(0)),
        collision_count: current.collision_count,
        conditions: current.conditions.clone(),
        terminating_replicas: None,
    };
    if available >= replicas(d) - max_unavailable(d) {
        set_condition(
            &mut status,
            new_condition(
                AVAILABLE,
                "True",
                MIN_AVAILABLE_REASON,
                "Deployment has minimum availability.".into(),
            ),
        );
    } else {
        set_condition(
            &mut status,
            new_condition(
                AVAILABLE,
                "False",
                MIN_UNAVAILABLE_REASON,
                "Deployment does not have minimum availability.".into(),
            ),
        );
    }
    status
}

/// Status equality ignoring condition timestamps' identity (all fields compared).
pub fn same_status(a: &DeploymentStatus, b: &DeploymentStatus) -> bool {
    let n = |v: Option<i32>| v.unwrap_or(0);
    a.observed_generation == b.observed_generation
        && n(a.replicas) == n(b.replicas)
        && n(a.updated_replicas) == n(b.updated_replicas)
        && n(a.ready_replicas) == n(b.ready_replicas)
        && n(a.available_replicas) == n(b.available_replicas)
        && n(a.unavailable_replicas) == n(b.unavailable_replicas)
        && a.collision_count == b.collision_count
        && a.conditions.as_deref().unwrap_or_default()
            == b.conditions.as_deref().unwrap_or_default()
}

/// All replicas updated and available, and the latest spec observed.
pub fn deployment_complete(d: &Deployment, s: &DeploymentStatus) -> bool {
    let n = |v: Option<i32>| v.unwrap_or(0);
    let r = replicas(d);
    n(s.updated_replicas) == r
        && n(s.replicas) == r
        && n(s.available_replicas) == r
        && s.observed_generation >= d.metadata.generation
}

/// The rollout moved since the last recorded status (upstream `DeploymentProgressing`).
pub fn deployment_progressing(d: &Deployment, new: &DeploymentStatus) -> bool {
    let old = d.status.clone().unwrap_or_default();
    let n = |v: Option<i32>| v.unwrap_or(0);
    let old_old = n(old.replicas) - n(old.updated_replicas);
    let new_old = n(new.replicas) - n(new.updated_replicas);
    n(new.updated_replicas) > n(old.updated_replicas)
        || new_old < old_old
        || n(new.ready_replicas) > n(old.ready_replicas)
        || n(new.available_replicas) > n(old.available_replicas)
}

/// The Progressing condition has not been updated within the deadline.
pub fn deployment_timed_out(d: &Deployment, s: &DeploymentStatus, now: Timestamp) -> bool {
    let Some(deadline) = progress_deadline(d) else {
        return false;
    };
    let Some(cond) = get_condition(s, PROGRESSING) else {
        return false;
    };
    match cond.reason.as_deref() {
        Some(NEW_RS_AVAILABLE_REASON) => false,
        Some(TIMED_OUT_REASON) => true,
        _ => cond
            .last_update_time
            .as_ref()
            .is_some_and(|t| t.0 + SignedDuration::from_secs(i64::from(deadline)) < now),
    }
}

/// Whether the Deployment is saturated by its new ReplicaSet (upstream `IsSaturated`).
pub fn is_saturated(d: &Deployment, new_rs: Option<&ReplicaSet>) -> bool {
    let Some(rs) = new_rs else { return false };
    rs_replicas(rs) == replicas(d)
        && desired_replicas_annotation(rs) == Some(replicas(d))
        && rs_available(rs) == replicas(d)
}

/// Upstream `getReplicaSetFraction`: the share of a scaling by `to_add` that falls on `rs`.
fn rs_fraction(rs: &ReplicaSet, d: &Deployment) -> i32 {
    if replicas(d) == 0 {
        return -rs_replicas(rs);
    }
    let deployment_replicas = replicas(d) + max_surge(d);
    let annotated = max_replicas_annotation(rs)
        .unwrap_or_else(|| d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0));
    if annotated == 0 {
        return 0;
    }
    let new_size =
        f64::from(rs_replicas(rs)) * f64::from(deployment_replicas) / f64::from(annotated);
    // Go's integer.RoundToInt32 rounds half away from zero, as f64::round.
    (new_size.round() as i32) - rs_replicas(rs)
}

/// Upstream `getProportion`.
pub fn proportion(rs: &ReplicaSet, d: &Deployment, to_add: i32, added: i32) -> i32 {
    if rs_replicas(rs) == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = rs_fraction(rs, d);
    let allowed = to_add - added;
    if to_add > 0 {
        fraction.min(allowed)
    } else {
        fraction.max(allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fenceposts_round_surge_up_and_unavailable_down() {
        let pct = |s: &str| IntOrString::String(s.into());
        assert_eq!(resolve_fenceposts(None, None, 10), (3, 2));
        assert_eq!(resolve_fenceposts(None, None, 1), (1, 0));
        assert_eq!(
            resolve_fenceposts(Some(&IntOrString::Int(0)), Some(&pct("10%")), 5),
            (0, 1)
        );
        assert_eq!(
            resolve_fenceposts(Some(&pct("50%")), Some(&IntOrString::Int(2)), 3),
            (2, 2)
        );
        assert!(scaled_value(&pct("x"), 3, true).is_err());
    }

    #[test]
    fn hash_is_stable_and_depends_on_collisions() {
        let t = PodTemplateSpec::default();
        let a = pod_template_hash(&t, None);
        assert_eq!(a, pod_template_hash(&t, None));
        assert_ne!(a, pod_template_hash(&t, Some(1)));
        assert!(a.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
        // FNV-1a of the empty string is the offset basis.
        assert_eq!(fnv32a(b"", FNV32_OFFSET), 0x811c_9dc5);
        assert_eq!(fnv32a(b"a", FNV32_OFFSET), 0xe40c_292c);
    }

    #[test]
    fn reused_revision_keeps_history() {
        let d = Deployment::default();
        let mut rs = ReplicaSet::default();
        rs.metadata.annotations = Some(BTreeMap::from([(REVISION.to_string(), "1".to_string())]));
        assert!(set_new_rs_annotations(&d, &mut rs, 3, true));
        let ann = rs.metadata.annotations.unwrap();
        assert_eq!(ann[REVISION], "3");
        assert_eq!(ann[REVISION_HISTORY], "1");
    }
}
