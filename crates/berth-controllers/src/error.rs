//! The errors of the controllers. None of them is fatal: every controller logs them and retries
//! the work item later with backoff.

/// An error from one attempt at a controller's work item.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request to the API server failed.
    #[error("API request failed: {0}")]
    Kube(#[from] kube::Error),

    /// API discovery failed as a whole (no group could be listed).
    #[error("API discovery failed: {0}")]
    Discovery(String),

    /// An ownerReference (or an object in the graph) names an apiVersion and kind that discovery
    /// does not serve (yet: a CRD may be created later, so this is retried).
    #[error("no served resource for apiVersion {api_version:?} kind {kind:?}")]
    UnknownKind { api_version: String, kind: String },

    /// A cluster-scoped object names a namespaced owner, which can never be valid; it is not
    /// retried (upstream `namespacedOwnerOfClusterScopedObjectErr`).
    #[error("cluster-scoped objects cannot refer to namespaced owners")]
    NamespacedOwnerOfClusterScopedObject,

    /// An update kept conflicting with concurrent writers.
    #[error("{0}: still conflicting after retries")]
    ConflictRetriesExhausted(String),

    /// Removing an owner from some of its dependents failed.
    #[error("{0}")]
    OrphanDependents(String),

    /// Deleting a namespace's content failed for some resources (upstream aggregates these).
    #[error("{0}")]
    NamespaceContent(String),

    /// The namespace changed identity (was deleted and re-created) while being finalized.
    #[error("namespace uid has changed across retries")]
    NamespaceUidChanged,

    /// A legacy token Secret names a ServiceAccount that does not exist (yet).
    #[error("service account {namespace}/{name} does not exist yet")]
    ServiceAccountMissing { namespace: String, name: String },

    /// The TokenRequest API answered without a token.
    #[error("the TokenRequest for service account {0} returned no token")]
    NoTokenIssued(String),

    /// An object could not be turned into JSON.
    #[error("serialization failed: {0}")]
    Serialization(#[from] serde_json::Error),
}

impl Error {
    /// The HTTP status code of an API error, if this is one.
    pub fn api_code(&self) -> Option<u16> {
        self.status().map(|s| s.code)
    }

    fn status(&self) -> Option<&kube::core::Status> {
        match self {
            Error::Kube(kube::Error::Api(status)) => Some(status),
            _ => None,
        }
    }

    // By code first: the reason is optional in a Status.

    pub fn is_not_found(&self) -> bool {
        self.status()
            .is_some_and(|s| s.code == 404 || s.reason == "NotFound")
    }

    /// A conflict on update (not "already exists", which shares the 409 code).
    pub fn is_conflict(&self) -> bool {
        self.status().is_some_and(|s| {
            (s.code == 409 && s.reason != "AlreadyExists") || s.reason == "Conflict"
        })
    }

    pub fn is_already_exists(&self) -> bool {
        self.status().is_some_and(|s| s.reason == "AlreadyExists")
    }

    pub fn is_method_not_supported(&self) -> bool {
        self.api_code() == Some(405)
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
