//! Names shared by the renderer, the operator and the CLI: labels, annotations, the field
//! manager, and how a deploy is recorded as a revision.

use serde::{Deserialize, Serialize};

/// Pod and object labels the renderer puts on everything (the seeds' log and metrics pipelines
/// select on them).
pub const LABEL_APP: &str = "app";
pub const LABEL_PROJECT: &str = "project";
pub const LABEL_ENVIRONMENT: &str = "environment";
pub const LABEL_CLUSTER: &str = "cluster";
/// `stable` for normal pods, `debug` for pods of an app in debug mode.
pub const LABEL_TRACK: &str = "track";
pub const LABEL_LOG_TYPE: &str = "log-type";
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "berth";
/// On every rendered object and every revision: `<kind>.<name>` of the owning App/CronApp
/// (`App.web`, `CronApp.report`), what the operator prunes by.
pub const LABEL_OWNER: &str = "berth.dev/owner";
/// Set on a pod taken out of service by `berth isolate`.
pub const LABEL_ISOLATED: &str = "berth.dev/isolated";

/// On the App/CronApp: the message of the deploy (like `kubernetes.io/change-cause`).
pub const ANNOTATION_MESSAGE: &str = "berth.dev/message";
/// On the App/CronApp: who deployed.
pub const ANNOTATION_AUTHOR: &str = "berth.dev/author";
/// On a revision (ControllerRevision): its number, also in `.revision`.
pub const ANNOTATION_REVISION: &str = "berth.dev/revision";

/// Field manager of the operator's server-side applies.
pub const FIELD_MANAGER: &str = "berth-operator";

/// The `berth.dev/owner` label value of an App or CronApp.
pub fn owner_value(kind: &str, name: &str) -> String {
    format!("{kind}.{name}")
}

/// Name of revision `n` of an App/CronApp: a ControllerRevision `<kind-lowercase>-<name>-<n>`
/// (kind first, so an App and a CronApp of the same name never collide).
pub fn revision_name(kind: &str, name: &str, n: i64) -> String {
    format!("{}-{name}-{n}", kind.to_ascii_lowercase())
}

/// What a revision records (the `data` of its ControllerRevision). Immutable once written.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RevisionRecord {
    /// The App/CronApp spec that was deployed.
    pub spec: serde_json::Value,
    /// Hash of `spec` (see [`crate::spec_hash`]).
    pub spec_hash: String,
    /// The rendered objects, exactly as applied.
    pub objects: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// RFC 3339 time the revision was created.
    pub time: String,
    /// Set when this revision re-applies an older one (manual or automatic rollback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<i64>,
}

/// A stable hash of a spec's JSON (FNV-1a 64, hex): equal specs hash equal across processes.
pub fn spec_hash<T: Serialize>(spec: &T) -> String {
    let bytes = serde_json::to_vec(spec).unwrap_or_default();
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// The revisions among `items` (ControllerRevisions listed by the `berth.dev/owner` label) that
/// belong to the owner with `owner_uid`, as `(number, name, record)`, oldest first. The label
/// could be copied onto a foreign object or left by a deleted namesake; the ownerReference
/// cannot lie. Unreadable records are skipped with a warning.
pub fn owned_revisions(
    items: Vec<k8s_openapi::api::apps::v1::ControllerRevision>,
    owner_uid: &str,
) -> Vec<(i64, String, RevisionRecord)> {
    let mut out: Vec<(i64, String, RevisionRecord)> = items
        .into_iter()
        .filter(|cr| {
            cr.metadata
                .owner_references
                .as_ref()
                .is_some_and(|refs| refs.iter().any(|r| r.uid == owner_uid))
        })
        .filter_map(|cr| {
            let name = cr.metadata.name.clone().unwrap_or_default();
            let data = cr.data?.0;
            match serde_json::from_value::<RevisionRecord>(data) {
                Ok(record) => Some((cr.revision, name, record)),
                Err(error) => {
                    tracing::warn!(revision = name, %error, "skipping unreadable revision");
                    None
                }
            }
        })
        .collect();
    out.sort_by_key(|(number, _, _)| *number);
    out
}
