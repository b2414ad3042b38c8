//! Errors of one sync of a workload controller. None is fatal: the work item is retried with
//! backoff.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request to the API server failed.
    #[error("{0}")]
    Kube(#[from] kube::Error),

    /// An object could not be turned into or out of JSON.
    #[error("serialization failed: {0}")]
    Serialization(#[from] serde_json::Error),

    /// The object's spec cannot be acted on (for example an invalid selector).
    #[error("{0}")]
    Invalid(String),

    /// Several independent operations failed (upstream aggregates these).
    #[error("{}", .0.join("; "))]
    Aggregate(Vec<String>),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn api_code(&self) -> Option<u16> {
        match self {
            Error::Kube(kube::Error::Api(status)) => Some(status.code),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.api_code() == Some(404)
    }

    pub fn is_conflict(&self) -> bool {
        self.api_code() == Some(409) && !self.is_already_exists()
    }

    pub fn is_already_exists(&self) -> bool {
        matches!(self, Error::Kube(kube::Error::Api(s)) if s.reason == "AlreadyExists")
    }
}
