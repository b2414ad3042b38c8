use std::time::Duration;

/// What can go wrong while installing CRDs or reconciling.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error(
        "object {name:?} has apiVersion {api_version:?} kind {kind:?}, which Berth does not manage"
    )]
    UnknownKind {
        api_version: String,
        kind: String,
        name: String,
    },
    #[error("rendered object has no {0}")]
    IncompleteObject(&'static str),
    #[error("{kind} {name:?} has no namespace or uid yet")]
    IncompleteOwner { kind: &'static str, name: String },
    #[error("revision {revision} of {owner} is missing or unreadable")]
    MissingRevision { owner: String, revision: i64 },
    #[error("CustomResourceDefinition {name} was not Established within {timeout:?}")]
    CrdNotEstablished { name: String, timeout: Duration },
}
