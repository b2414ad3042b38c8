//! What the garbage collector does with one object once it knows the state of each of its
//! owners (upstream `attemptToDeleteItem` after `classifyReferences`), and the metadata patches
//! it sends. Pure, so the rules can be tested.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use serde_json::{Value, json};

use super::graph::{FOREGROUND_FINALIZER, ORPHAN_FINALIZER};

/// The state of one owner, as checked against the API server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerState {
    /// The owner exists and is not deleting its dependents in the foreground.
    Solid,
    /// No object with the owner's name and uid exists.
    Dangling,
    /// The owner exists, has a deletionTimestamp and the `foregroundDeletion` finalizer.
    WaitingForDependentsDeletion,
}

/// The propagation policy of a delete the garbage collector sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    Orphan,
    Foreground,
    Background,
}

impl From<Propagation> for kube::api::PropagationPolicy {
    fn from(p: Propagation) -> Self {
        match p {
            Propagation::Orphan => kube::api::PropagationPolicy::Orphan,
            Propagation::Foreground => kube::api::PropagationPolicy::Foreground,
            Propagation::Background => kube::api::PropagationPolicy::Background,
        }
    }
}

/// What to do with a dependent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DependentPlan {
    /// It has live owners and no reference to remove: nothing to do.
    Keep,
    /// It has a live owner: remove the references (by uid) to owners that are gone or that
    /// wait for their dependents (which this object would otherwise block forever).
    RemoveOwnerReferences(Vec<String>),
    /// An owner deletes its dependents in the foreground and this object has dependents of its
    /// own: delete it in the foreground too. If one of its dependents also waits for its own
    /// dependents, first make this object's references non-blocking, to break a possible cycle.
    DeleteForeground { unblock_owner_references: bool },
    /// No owner is left: delete it.
    Delete(Propagation),
}

/// Decides what to do with an object whose owners are in `owners` (each reference with its
/// state), given the object's finalizers and its own dependents in the graph.
pub fn plan_dependent(
    owners: &[(OwnerReference, OwnerState)],
    finalizers: &[String],
    has_dependents: bool,
    a_dependent_is_deleting_its_dependents: bool,
) -> DependentPlan {
    let with_state = |s: OwnerState| {
        owners
            .iter()
            .filter(move |(_, st)| *st == s)
            .map(|(r, _)| r)
    };
    let solid = with_state(OwnerState::Solid).count();
    let waiting = with_state(OwnerState::WaitingForDependentsDeletion).count();
    if solid > 0 {
        let remove: Vec<String> = owners
            .iter()
            .filter(|(_, s)| *s != OwnerState::Solid)
            .map(|(r, _)| r.uid.clone())
            .collect();
        return if remove.is_empty() {
            DependentPlan::Keep
        } else {
            DependentPlan::RemoveOwnerReferences(remove)
        };
    }
    if waiting > 0 && has_dependents {
        return DependentPlan::DeleteForeground {
            unblock_owner_references: a_dependent_is_deleting_its_dependents,
        };
    }
    // No owner is alive; keep a propagation policy the object already asked for.
    let has = |f: &str| finalizers.iter().any(|x| x == f);
    let policy = if has(ORPHAN_FINALIZER) {
        Propagation::Orphan
    } else if has(FOREGROUND_FINALIZER) {
        Propagation::Foreground
    } else {
        Propagation::Background
    };
    DependentPlan::Delete(policy)
}

/// `references` without those whose uid is in `uids`.
pub fn references_without(references: &[OwnerReference], uids: &[String]) -> Vec<OwnerReference> {
    references
        .iter()
        .filter(|r| !uids.contains(&r.uid))
        .cloned()
        .collect()
}

/// A JSON merge patch that sets metadata.ownerReferences, guarded by the resourceVersion it was
/// computed from (a concurrent change makes it fail with a conflict instead of being lost).
pub fn owner_references_patch(
    resource_version: Option<&str>,
    references: &[OwnerReference],
) -> Value {
    let refs = if references.is_empty() {
        Value::Null
    } else {
        json!(references)
    };
    json!({"metadata": {"resourceVersion": resource_version, "ownerReferences": refs}})
}

/// `references` with every `blockOwnerDeletion` set to false.
pub fn unblocked_references(references: &[OwnerReference]) -> Vec<OwnerReference> {
    references
        .iter()
        .cloned()
        .map(|mut r| {
            r.block_owner_deletion = Some(false);
            r
        })
        .collect()
}

/// A JSON merge patch removing `finalizer` from `finalizers`, guarded by the resourceVersion;
/// `None` if the finalizer is not there.
pub fn remove_finalizer_patch(
    resource_version: Option<&str>,
    finalizers: &[String],
    finalizer: &str,
) -> Option<Value> {
    if !finalizers.iter().any(|f| f == finalizer) {
        return None;
    }
    let rest: Vec<&String> = finalizers.iter().filter(|f| *f != finalizer).collect();
    let value = if rest.is_empty() {
        Value::Null
    } else {
        json!(rest)
    };
    Some(json!({"metadata": {"resourceVersion": resource_version, "finalizers": value}}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(uid: &str) -> OwnerReference {
        OwnerReference {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: format!("owner-{uid}"),
            uid: uid.into(),
            block_owner_deletion: Some(true),
            controller: None,
        }
    }

    use OwnerState::*;

    #[test]
    fn all_owners_gone_means_background_delete() {
        let plan = plan_dependent(&[(r("a"), Dangling), (r("b"), Dangling)], &[], false, false);
        assert_eq!(plan, DependentPlan::Delete(Propagation::Background));
    }

    #[test]
    fn one_live_owner_keeps_the_dependent_and_drops_dead_references() {
        assert_eq!(
            plan_dependent(&[(r("a"), Solid)], &[], false, false),
            DependentPlan::Keep
        );
        let plan = plan_dependent(
            &[
                (r("a"), Solid),
                (r("b"), Dangling),
                (r("c"), WaitingForDependentsDeletion),
            ],
            &[],
            true,
            false,
        );
        assert_eq!(
            plan,
            DependentPlan::RemoveOwnerReferences(vec!["b".into(), "c".into()])
        );
    }

    #[test]
    fn waiting_owner_deletes_leaf_dependents_in_background() {
        let plan = plan_dependent(&[(r("a"), WaitingForDependentsDeletion)], &[], false, false);
        assert_eq!(plan, DependentPlan::Delete(Propagation::Background));
    }

    #[test]
    fn waiting_owner_deletes_dependents_with_dependents_in_foreground() {
        let plan = plan_dependent(
            &[(r("a"), WaitingForDependentsDeletion), (r("b"), Dangling)],
            &[],
            true,
            false,
        );
        assert_eq!(
            plan,
            DependentPlan::DeleteForeground {
                unblock_owner_references: false
            }
        );
        let plan = plan_dependent(&[(r("a"), WaitingForDependentsDeletion)], &[], true, true);
        assert_eq!(
            plan,
            DependentPlan::DeleteForeground {
                unblock_owner_references: true
            }
        );
    }

    #[test]
    fn existing_propagation_finalizers_are_honoured() {
        let orphan = vec![ORPHAN_FINALIZER.to_string()];
        let fg = vec![FOREGROUND_FINALIZER.to_string()];
        assert_eq!(
            plan_dependent(&[(r("a"), Dangling)], &orphan, false, false),
            DependentPlan::Delete(Propagation::Orphan)
        );
        assert_eq!(
            plan_dependent(&[(r("a"), Dangling)], &fg, false, false),
            DependentPlan::Delete(Propagation::Foreground)
        );
    }

    #[test]
    fn patches() {
        let refs = vec![r("a"), r("b")];
        let rest = references_without(&refs, &["a".to_string()]);
        assert_eq!(rest, vec![r("b")]);
        let p = owner_references_patch(Some("7"), &rest);
        assert_eq!(p["metadata"]["resourceVersion"], "7");
        assert_eq!(p["metadata"]["ownerReferences"][0]["uid"], "b");
        let p = owner_references_patch(Some("7"), &[]);
        assert!(p["metadata"]["ownerReferences"].is_null());
        assert!(
            p["metadata"]
                .as_object()
                .is_some_and(|m| m.contains_key("ownerReferences"))
        );

        let unblocked = unblocked_references(&refs);
        assert!(
            unblocked
                .iter()
                .all(|r| r.block_owner_deletion == Some(false))
        );

        let fins = vec!["x".to_string(), FOREGROUND_FINALIZER.to_string()];
        let p = remove_finalizer_patch(Some("3"), &fins, FOREGROUND_FINALIZER).expect("present");
        assert_eq!(p["metadata"]["finalizers"], json!(["x"]));
        let p =
            remove_finalizer_patch(Some("3"), &[ORPHAN_FINALIZER.to_string()], ORPHAN_FINALIZER)
                .expect("present");
        assert!(p["metadata"]["finalizers"].is_null());
        assert!(remove_finalizer_patch(Some("3"), &fins, ORPHAN_FINALIZER).is_none());
    }
}
