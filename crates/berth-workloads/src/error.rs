//! Errors of one sync of a workload controller. None is fatal: the work item is retried with
//! backoff.

use std::time::Duration;

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

/// Exponential backoff: `base * 2^(n-1)`, at most `max`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    pub fn delay(&self, failures: u32) -> Duration {
        let exp = failures.saturating_sub(1).min(30);
        self.base.saturating_mul(1u32 << exp).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_max() {
        let b = Backoff {
            base: Duration::from_secs(10),
            max: Duration::from_secs(360),
        };
        assert_eq!(b.delay(1), Duration::from_secs(10));
        assert_eq!(b.delay(2), Duration::from_secs(20));
        assert_eq!(b.delay(6), Duration::from_secs(320));
        assert_eq!(b.delay(7), Duration::from_secs(360));
        assert_eq!(b.delay(100), Duration::from_secs(360));
    }
}
