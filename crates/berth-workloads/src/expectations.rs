//! Controller expectations (upstream `ControllerExpectations` and
//! `UIDTrackingControllerExpectations`): after creating or deleting pods a controller waits until
//! its cache has seen those changes before acting again, so a lagging cache never makes it
//! create or delete twice. Expectations expire after five minutes in case an event was lost.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::meta::Key;

const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(5 * 60);

#[derive(Debug)]
struct Expectation {
    adds: i64,
    dels: i64,
    /// Pods whose deletion is expected (keys `namespace/name`); a deletion is counted once,
    /// whether seen first as a deletionTimestamp or as a delete event.
    deleting: HashSet<String>,
    set_at: Instant,
}

#[derive(Debug, Default)]
pub struct Expectations {
    inner: Mutex<HashMap<Key, Expectation>>,
}

impl Expectations {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Expectation>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the controller may sync: nothing pending, expired, or never set.
    pub fn satisfied(&self, key: &Key) -> bool {
        match self.lock().get(key) {
            None => true,
            Some(e) => (e.adds <= 0 && e.dels <= 0) || e.set_at.elapsed() > EXPECTATIONS_TIMEOUT,
        }
    }

    pub fn expect_creations(&self, key: &Key, adds: usize) {
        self.lock().insert(
            key.clone(),
            Expectation {
                adds: i64::try_from(adds).unwrap_or(i64::MAX),
                dels: 0,
                deleting: HashSet::new(),
                set_at: Instant::now(),
            },
        );
    }

    pub fn expect_deletions(&self, key: &Key, pods: Vec<String>) {
        let dels = i64::try_from(pods.len()).unwrap_or(i64::MAX);
        self.lock().insert(
            key.clone(),
            Expectation {
                adds: 0,
                dels,
                deleting: pods.into_iter().collect(),
                set_at: Instant::now(),
            },
        );
    }

    pub fn creation_observed(&self, key: &Key) {
        if let Some(e) = self.lock().get_mut(key) {
            e.adds -= 1;
        }
    }

    /// A pod creation that will never be observed (the create failed or was skipped).
    pub fn lower_creations(&self, key: &Key, n: usize) {
        if let Some(e) = self.lock().get_mut(key) {
            e.adds -= i64::try_from(n).unwrap_or(i64::MAX);
        }
    }

    /// The pod `pod_key` was seen deleted (or terminating), or its deletion failed.
    pub fn deletion_observed(&self, key: &Key, pod_key: &str) {
        if let Some(e) = self.lock().get_mut(key)
            && e.deleting.remove(pod_key)
        {
            e.dels -= 1;
        }
    }

    pub fn forget(&self, key: &Key) {
        self.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_observed_creations_and_deletions() {
        let e = Expectations::default();
        let k = Key::new("ns", "rs");
        assert!(e.satisfied(&k));
        e.expect_creations(&k, 2);
        assert!(!e.satisfied(&k));
        e.creation_observed(&k);
        assert!(!e.satisfied(&k));
        e.lower_creations(&k, 1);
        assert!(e.satisfied(&k));

        e.expect_deletions(&k, vec!["ns/a".into(), "ns/b".into()]);
        e.deletion_observed(&k, "ns/a");
        e.deletion_observed(&k, "ns/a");
        assert!(!e.satisfied(&k), "one pod's deletion counts once");
        e.deletion_observed(&k, "ns/b");
        assert!(e.satisfied(&k));
    }
}
