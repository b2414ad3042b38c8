//! The scheduling queue (upstream `internal/queue`): active pods by priority then age, pods
//! backing off after a failure (1 s doubling to 10 s), and unschedulable pods parked until a
//! cluster change might help them or 5 minutes pass.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use tokio::sync::Notify;

use crate::podinfo::pod_key;

pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Unschedulable pods are retried at least this often (upstream
/// `DefaultPodMaxInUnschedulablePodsDuration`).
pub const MAX_UNSCHEDULABLE_DURATION: Duration = Duration::from_secs(300);
/// How often parked pods are checked against [`MAX_UNSCHEDULABLE_DURATION`] (upstream flushes
/// every 30 s).
const LEFTOVER_FLUSH_INTERVAL: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Active,
    Backoff,
    Unschedulable,
}

struct Entry {
    pod: Arc<Pod>,
    attempts: u32,
    last_failure: Option<Instant>,
    place: Place,
    since: Instant,
    /// Bumped on every move so stale heap entries are skipped.
    generation: u64,
}

#[derive(PartialEq, Eq)]
struct ActiveItem {
    priority: i32,
    seq: u64,
    key: String,
    generation: u64,
}

impl Ord for ActiveItem {
    fn cmp(&self, other: &Self) -> Ordering {
        // Higher priority first, then the earlier enqueued (upstream PrioritySort).
        self.priority
            .cmp(&other.priority)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

impl PartialOrd for ActiveItem {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

struct InFlight {
    pod: Arc<Pod>,
    attempts: u32,
    cycle: u64,
    updated: bool,
    deleted: bool,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    active: BinaryHeap<ActiveItem>,
    backoff: BinaryHeap<Reverse<(Instant, u64, String)>>,
    in_flight: HashMap<String, InFlight>,
    seq: u64,
    generation: u64,
    scheduling_cycle: u64,
    move_request_cycle: u64,
    last_leftover_flush: Option<Instant>,
}

/// A pod handed out for one scheduling cycle.
#[derive(Clone, Debug)]
pub struct QueuedPod {
    pub pod: Arc<Pod>,
    pub key: String,
    /// Attempts including this one.
    pub attempts: u32,
    pub cycle: u64,
}

#[derive(Default)]
pub struct SchedulingQueue {
    inner: Mutex<Inner>,
    notify: Notify,
}

fn priority(pod: &Pod) -> i32 {
    pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0)
}

fn backoff_duration(attempts: u32) -> Duration {
    let exp = attempts.saturating_sub(1).min(16);
    INITIAL_BACKOFF.saturating_mul(1u32 << exp).min(MAX_BACKOFF)
}

impl Inner {
    fn push(&mut self, key: String, place: Place, now: Instant) {
        self.generation += 1;
        let generation = self.generation;
        let Some(e) = self.entries.get_mut(&key) else {
            return;
        };
        e.place = place;
        e.since = now;
        e.generation = generation;
        match place {
            Place::Active => {
                self.seq += 1;
                self.active.push(ActiveItem {
                    priority: priority(&e.pod),
                    seq: self.seq,
                    key,
                    generation,
                });
            }
            Place::Backoff => {
                let expiry = e.last_failure.unwrap_or(now) + backoff_duration(e.attempts);
                self.backoff.push(Reverse((expiry, generation, key)));
            }
            Place::Unschedulable => {}
        }
    }

    fn backoff_expired(&self, key: &str, now: Instant) -> bool {
        self.entries.get(key).is_none_or(|e| {
            e.last_failure
                .is_none_or(|f| f + backoff_duration(e.attempts) <= now)
        })
    }

    /// Moves to active the pods whose backoff ended; returns the next expiry, if any.
    fn flush_backoff(&mut self, now: Instant) -> Option<Instant> {
        while let Some(Reverse((expiry, generation, key))) = self.backoff.peek().cloned() {
            let current = self
                .entries
                .get(&key)
                .is_some_and(|e| e.generation == generation && e.place == Place::Backoff);
            if !current {
                self.backoff.pop();
                continue;
            }
            if expiry > now {
                return Some(expiry);
            }
            self.backoff.pop();
            self.push(key, Place::Active, now);
        }
        None
    }

    fn flush_unschedulable_leftover(&mut self, now: Instant) {
        if self
            .last_leftover_flush
            .is_some_and(|t| now.duration_since(t) < LEFTOVER_FLUSH_INTERVAL)
        {
            return;
        }
        self.last_leftover_flush = Some(now);
        let stale: Vec<String> = self
            .entries
            .iter()
            .filter(|(_, e)| {
                e.place == Place::Unschedulable
                    && now.duration_since(e.since) >= MAX_UNSCHEDULABLE_DURATION
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in stale {
            self.requeue_after_move(key, now);
        }
    }

    fn requeue_after_move(&mut self, key: String, now: Instant) {
        let place = if self.backoff_expired(&key, now) {
            Place::Active
        } else {
            Place::Backoff
        };
        self.push(key, place, now);
    }

    fn pop_active(&mut self) -> Option<String> {
        while let Some(item) = self.active.pop() {
            if self
                .entries
                .get(&item.key)
                .is_some_and(|e| e.generation == item.generation && e.place == Place::Active)
            {
                return Some(item.key);
            }
        }
        None
    }
}

impl SchedulingQueue {
    pub fn new() -> SchedulingQueue {
        SchedulingQueue::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a new pending pod or updates a queued one. An update to an unschedulable pod may
    /// make it schedulable, so it is retried (after its backoff).
    pub fn add_or_update(&self, pod: Arc<Pod>) {
        let key = pod_key(&pod);
        let now = Instant::now();
        let mut inner = self.lock();
        if let Some(f) = inner.in_flight.get_mut(&key) {
            f.updated = f.pod.spec != pod.spec || f.pod.metadata.labels != pod.metadata.labels;
            f.pod = pod;
            return;
        }
        match inner.entries.get_mut(&key) {
            Some(e) => {
                let relevant =
                    e.pod.spec != pod.spec || e.pod.metadata.labels != pod.metadata.labels;
                e.pod = pod;
                if e.place == Place::Unschedulable && relevant {
                    inner.requeue_after_move(key, now);
                }
            }
            None => {
                inner.entries.insert(
                    key.clone(),
                    Entry {
                        pod,
                        attempts: 0,
                        last_failure: None,
                        place: Place::Active,
                        since: now,
                        generation: 0,
                    },
                );
                inner.push(key, Place::Active, now);
            }
        }
        drop(inner);
        self.notify.notify_one();
    }

    pub fn delete(&self, key: &str) {
        let mut inner = self.lock();
        inner.entries.remove(key);
        if let Some(f) = inner.in_flight.get_mut(key) {
            f.deleted = true;
        }
    }

    /// Waits for the next pod to schedule; None once `shutdown` is set.
    pub async fn pop(&self, shutdown: &tokio::sync::watch::Receiver<bool>) -> Option<QueuedPod> {
        loop {
            if *shutdown.borrow() {
                return None;
            }
            let notified = self.notify.notified();
            let wake = {
                let now = Instant::now();
                let mut inner = self.lock();
                let next_backoff = inner.flush_backoff(now);
                inner.flush_unschedulable_leftover(now);
                if let Some(key) = inner.pop_active() {
                    inner.scheduling_cycle += 1;
                    let cycle = inner.scheduling_cycle;
                    if let Some(e) = inner.entries.remove(&key) {
                        let attempts = e.attempts + 1;
                        inner.in_flight.insert(
                            key.clone(),
                            InFlight {
                                pod: e.pod.clone(),
                                attempts,
                                cycle,
                                updated: false,
                                deleted: false,
                            },
                        );
                        return Some(QueuedPod {
                            pod: e.pod,
                            key,
                            attempts,
                            cycle,
                        });
                    }
                    continue;
                }
                next_backoff
            };
            // Wake for new pods, the next backoff expiry, or at least every second (for the
            // unschedulable leftover flush and shutdown).
            let sleep = wake
                .map(|w| w.saturating_duration_since(Instant::now()))
                .unwrap_or(Duration::from_secs(1))
                .min(Duration::from_secs(1));
            let mut shutdown = shutdown.clone();
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep(sleep) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// The pod was assumed on a node; it leaves the queue (the informer sees it bound).
    pub fn done(&self, key: &str) {
        self.lock().in_flight.remove(key);
    }

    /// Puts a pod back after a failed cycle. `unschedulable`: no node fit, so it waits for a
    /// cluster change unless one happened during its cycle; otherwise (an error) it backs off.
    pub fn requeue(&self, key: &str, unschedulable: bool) {
        let now = Instant::now();
        let mut inner = self.lock();
        let Some(f) = inner.in_flight.remove(key) else {
            return;
        };
        if f.deleted {
            return;
        }
        let place = if !unschedulable || f.updated || inner.move_request_cycle >= f.cycle {
            Place::Backoff
        } else {
            Place::Unschedulable
        };
        inner.entries.insert(
            key.to_string(),
            Entry {
                pod: f.pod,
                attempts: f.attempts,
                last_failure: Some(now),
                place,
                since: now,
                generation: 0,
            },
        );
        inner.push(key.to_string(), place, now);
        drop(inner);
        self.notify.notify_one();
    }

    /// A cluster change (node added or updated, pod deleted) may let unschedulable pods fit.
    pub fn move_all_unschedulable(&self) {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.move_request_cycle = inner.scheduling_cycle;
        let keys: Vec<String> = inner
            .entries
            .iter()
            .filter(|(_, e)| e.place == Place::Unschedulable)
            .map(|(k, _)| k.clone())
            .collect();
        let moved = !keys.is_empty();
        for key in keys {
            inner.requeue_after_move(key, now);
        }
        drop(inner);
        if moved {
            self.notify.notify_one();
        }
    }

    /// (active, backoff, unschedulable, in flight) sizes.
    pub fn sizes(&self) -> (usize, usize, usize, usize) {
        let inner = self.lock();
        let count = |p: Place| inner.entries.values().filter(|e| e.place == p).count();
        (
            count(Place::Active),
            count(Place::Backoff),
            count(Place::Unschedulable),
            inner.in_flight.len(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, prio: i32) -> Arc<Pod> {
        let mut p = Pod::default();
        p.metadata.name = Some(name.into());
        p.metadata.namespace = Some("ns".into());
        p.spec = Some(k8s_openapi::api::core::v1::PodSpec {
            priority: Some(prio),
            ..Default::default()
        });
        Arc::new(p)
    }

    #[test]
    fn backoff_doubles_up_to_ten_seconds() {
        assert_eq!(backoff_duration(1), Duration::from_secs(1));
        assert_eq!(backoff_duration(2), Duration::from_secs(2));
        assert_eq!(backoff_duration(4), Duration::from_secs(8));
        assert_eq!(backoff_duration(5), Duration::from_secs(10));
        assert_eq!(backoff_duration(40), Duration::from_secs(10));
    }

    #[tokio::test]
    async fn pops_by_priority_then_age_and_parks_unschedulable() {
        let (_tx, rx) = tokio::sync::watch::channel(false);
        let q = SchedulingQueue::new();
        q.add_or_update(pod("a", 0));
        q.add_or_update(pod("b", 10));
        q.add_or_update(pod("c", 0));
        let first = q.pop(&rx).await.unwrap();
        assert_eq!(first.key, "ns/b");
        assert_eq!(first.attempts, 1);
        assert_eq!(q.pop(&rx).await.unwrap().key, "ns/a");
        q.requeue("ns/b", true);
        assert_eq!(q.sizes().2, 1, "b parked as unschedulable");
        assert_eq!(q.pop(&rx).await.unwrap().key, "ns/c");
        q.move_all_unschedulable();
        assert_eq!(q.sizes().2, 0);
        // b is in backoff for 1 s after its first failure, then comes back.
        let again = q.pop(&rx).await.unwrap();
        assert_eq!(again.key, "ns/b");
        assert_eq!(again.attempts, 2);
    }

    #[tokio::test]
    async fn a_move_during_the_cycle_sends_the_pod_to_backoff() {
        let (_tx, rx) = tokio::sync::watch::channel(false);
        let q = SchedulingQueue::new();
        q.add_or_update(pod("a", 0));
        let a = q.pop(&rx).await.unwrap();
        q.move_all_unschedulable();
        q.requeue(&a.key, true);
        assert_eq!(q.sizes(), (0, 1, 0, 0));
    }
}
