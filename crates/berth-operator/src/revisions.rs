//! Revisions: each deploy of an App/CronApp recorded as an immutable ControllerRevision holding
//! a [`RevisionRecord`] (spec, hash and the objects exactly as rendered).

use std::collections::BTreeMap;

use berth_spec::RevisionRecord;
use berth_spec::meta::{
    ANNOTATION_REVISION, LABEL_MANAGED_BY, LABEL_OWNER, MANAGED_BY_VALUE, revision_name,
};
use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::api::{Api, DeleteParams, ListParams, PostParams};

use crate::OperatorError;
use crate::owner::Owner;

/// Revisions kept per App/CronApp; older ones are deleted (except the applied and last good).
pub const MAX_REVISIONS: usize = 20;

/// One recorded revision.
#[derive(Clone, Debug, PartialEq)]
pub struct Revision {
    pub number: i64,
    pub record: RevisionRecord,
}

/// What to apply for a spec, given the recorded revisions.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// The newest revision already holds this spec: re-apply its objects, record nothing.
    Newest(Revision),
    /// An older revision holds this spec: re-apply its recorded objects unchanged (not
    /// re-rendered, so pod templates equal the old ReplicaSet's) as a new revision.
    RollBackTo(Revision),
    /// A spec never deployed: render it and record a new revision.
    Render,
}

/// Decides what to apply for the spec hashing to `hash`. `revisions` is sorted oldest first.
pub fn plan(hash: &str, revisions: &[Revision]) -> Plan {
    match revisions.last() {
        Some(newest) if newest.record.spec_hash == hash => Plan::Newest(newest.clone()),
        _ => match revisions.iter().rev().find(|r| r.record.spec_hash == hash) {
            Some(older) => Plan::RollBackTo(older.clone()),
            None => Plan::Render,
        },
    }
}

/// Number of the next revision: above every recorded one and above the one in status (its
/// ControllerRevision may have been deleted by hand; numbers are never reused).
pub fn next_number(revisions: &[Revision], status_revision: Option<i64>) -> i64 {
    revisions
        .iter()
        .map(|r| r.number)
        .chain(status_revision)
        .max()
        .unwrap_or(0)
        + 1
}

/// The revisions of `owner`, oldest first. Unreadable ones are skipped with a warning.
pub async fn list(client: &kube::Client, owner: &Owner) -> Result<Vec<Revision>, OperatorError> {
    let api: Api<ControllerRevision> = Api::namespaced(client.clone(), &owner.namespace);
    let list = api
        .list(&ListParams::default().labels(&owner.selector()))
        .await?;
    Ok(berth_spec::meta::owned_revisions(list.items, &owner.uid)
        .into_iter()
        .map(|(number, _, record)| Revision { number, record })
        .collect())
}

/// Creates revision `number` of `owner`.
pub async fn record(
    client: &kube::Client,
    owner: &Owner,
    number: i64,
    record: RevisionRecord,
) -> Result<Revision, OperatorError> {
    let api: Api<ControllerRevision> = Api::namespaced(client.clone(), &owner.namespace);
    let labels = BTreeMap::from([
        (LABEL_OWNER.to_string(), owner.label_value()),
        (LABEL_MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string()),
    ]);
    let annotations = BTreeMap::from([(ANNOTATION_REVISION.to_string(), number.to_string())]);
    let cr = ControllerRevision {
        metadata: ObjectMeta {
            name: Some(revision_name(owner.kind, &owner.name, number)),
            namespace: Some(owner.namespace.clone()),
            labels: Some(labels),
            annotations: Some(annotations),
            owner_references: Some(vec![owner.reference()]),
            ..Default::default()
        },
        data: Some(RawExtension(serde_json::to_value(&record)?)),
        revision: number,
    };
    match api.create(&PostParams::default(), &cr).await {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 409 => {
            // A leftover of a deleted App of the same name that the garbage collector has not
            // removed yet: it is not ours, so it goes (numbering restarts with a new App).
            let name = revision_name(owner.kind, &owner.name, number);
            let existing = api.get(&name).await?;
            let ours = existing
                .metadata
                .owner_references
                .as_ref()
                .is_some_and(|refs| refs.iter().any(|r| r.uid == owner.uid));
            if ours {
                return Err(kube::Error::Api(e).into());
            }
            tracing::info!(
                revision = name,
                "replacing a revision left by an earlier owner"
            );
            api.delete(&name, &DeleteParams::default()).await?;
            api.create(&PostParams::default(), &cr).await?;
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(
        owner = owner.label_value(),
        namespace = owner.namespace,
        revision = number,
        rollback_of = record.rollback_of,
        "recorded revision"
    );
    Ok(Revision { number, record })
}

/// Numbers of the revisions to delete so at most [`MAX_REVISIONS`] remain, oldest first,
/// never one of `keep`.
pub fn to_trim(revisions: &[Revision], keep: &[i64]) -> Vec<i64> {
    let excess = revisions.len().saturating_sub(MAX_REVISIONS);
    revisions
        .iter()
        .map(|r| r.number)
        .filter(|n| !keep.contains(n))
        .take(excess)
        .collect()
}

/// Deletes the revisions [`to_trim`] picks. Failures are logged: trimming is retried on the
/// next deploy.
pub async fn trim(client: &kube::Client, owner: &Owner, revisions: &[Revision], keep: &[i64]) {
    let api: Api<ControllerRevision> = Api::namespaced(client.clone(), &owner.namespace);
    for number in to_trim(revisions, keep) {
        let name = revision_name(owner.kind, &owner.name, number);
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => tracing::debug!(revision = name, "deleted old revision"),
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(error) => tracing::warn!(revision = name, %error, "could not delete old revision"),
        }
    }
}

/// Now, RFC 3339 to the second.
pub fn now_rfc3339() -> String {
    let now = k8s_openapi::jiff::Timestamp::now();
    let secs = now.as_second();
    k8s_openapi::jiff::Timestamp::from_second(secs)
        .unwrap_or(now)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(number: i64, hash: &str) -> Revision {
        Revision {
            number,
            record: RevisionRecord {
                spec_hash: hash.into(),
                ..Default::default()
            },
        }
    }

    #[test]
    fn plan_prefers_newest_then_older_then_render() {
        let revs = [rev(1, "a"), rev(2, "b"), rev(3, "a")];
        assert_eq!(plan("a", &revs), Plan::Newest(rev(3, "a")));
        assert_eq!(plan("b", &revs), Plan::RollBackTo(rev(2, "b")));
        assert_eq!(plan("c", &revs), Plan::Render);
        assert_eq!(plan("a", &[]), Plan::Render);
        // Several older matches: the most recent one is re-applied.
        let revs = [rev(1, "a"), rev(2, "a"), rev(3, "b")];
        assert_eq!(plan("a", &revs), Plan::RollBackTo(rev(2, "a")));
    }

    #[test]
    fn numbers_never_go_back() {
        assert_eq!(next_number(&[], None), 1);
        assert_eq!(next_number(&[rev(1, "a"), rev(4, "b")], Some(2)), 5);
        assert_eq!(next_number(&[rev(1, "a")], Some(7)), 8);
    }

    #[test]
    fn trim_deletes_oldest_but_keeps_applied_and_last_good() {
        let revs: Vec<Revision> = (1..=23).map(|n| rev(n, "h")).collect();
        assert_eq!(to_trim(&revs, &[23, 2]), vec![1, 3, 4]);
        assert!(to_trim(&revs[..20], &[]).is_empty());
    }

    #[test]
    fn now_is_rfc3339_seconds() {
        let now = now_rfc3339();
        assert!(now.ends_with('Z') && !now.contains('.'), "{now}");
        assert!(now.parse::<k8s_openapi::jiff::Timestamp>().is_ok());
    }
}
