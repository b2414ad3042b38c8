//! A work queue with the semantics of client-go's rate-limited workqueue, which the garbage
//! collector's algorithm relies on:
//!
//! - an item is queued at most once, however often it is added;
//! - an item is handed to at most one worker at a time; adding it while a worker has it makes
//!   it queue again once that worker calls [`WorkQueue::done`], so no change is missed;
//! - failed items are re-added after a per-item exponential backoff until forgotten.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

use super::Backoff;

pub struct WorkQueue<T> {
    state: Mutex<State<T>>,
    notify: Notify,
    backoff: Backoff,
}

struct State<T> {
    queue: VecDeque<T>,
    queued: HashSet<T>,
    processing: HashSet<T>,
    /// Items added while being processed: queued again by `done`.
    dirty: HashSet<T>,
    failures: HashMap<T, u32>,
    shut_down: bool,
}

impl<T: Clone + Eq + Hash + Send + 'static> WorkQueue<T> {
    pub fn new(backoff: Backoff) -> Arc<Self> {
        Arc::new(WorkQueue {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                queued: HashSet::new(),
                processing: HashSet::new(),
                dirty: HashSet::new(),
                failures: HashMap::new(),
                shut_down: false,
            }),
            notify: Notify::new(),
            backoff,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // The state stays consistent even if a holder panicked: every critical section is a
        // handful of infallible collection operations.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn add(&self, item: T) {
        let mut s = self.lock();
        if s.shut_down || s.queued.contains(&item) {
            return;
        }
        if s.processing.contains(&item) {
            s.dirty.insert(item);
            return;
        }
        s.queued.insert(item.clone());
        s.queue.push_back(item);
        drop(s);
        self.notify.notify_one();
    }

    /// Adds `item` after `delay`.
    pub fn add_after(self: &Arc<Self>, item: T, delay: Duration) {
        if delay.is_zero() {
            self.add(item);
            return;
        }
        let queue = Arc::downgrade(self);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Some(queue) = queue.upgrade() {
                queue.add(item);
            }
        });
    }

    /// Adds `item` again after its backoff, which grows with each call until [`Self::forget`].
    pub fn add_rate_limited(self: &Arc<Self>, item: T) {
        let failures = {
            let mut s = self.lock();
            let n = s.failures.entry(item.clone()).or_insert(0);
            *n = n.saturating_add(1);
            *n
        };
        let delay = self.backoff.delay(failures);
        self.add_after(item, delay);
    }

    /// Resets `item`'s backoff.
    pub fn forget(&self, item: &T) {
        self.lock().failures.remove(item);
    }

    /// Waits for the next item; `None` once the queue is shut down.
    pub async fn get(&self) -> Option<T> {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            // Register before looking, so an `add` between the look and the wait still wakes us.
            notified.as_mut().enable();
            {
                let mut s = self.lock();
                if s.shut_down {
                    return None;
                }
                if let Some(item) = s.queue.pop_front() {
                    s.queued.remove(&item);
                    s.processing.insert(item.clone());
                    let more = !s.queue.is_empty();
                    drop(s);
                    if more {
                        // Pass the baton: another idle worker can take the next item.
                        self.notify.notify_one();
                    }
                    return Some(item);
                }
            }
            notified.await;
        }
    }

    /// Marks the end of processing `item` (taken with [`Self::get`]).
    pub fn done(&self, item: &T) {
        let mut s = self.lock();
        s.processing.remove(item);
        if s.dirty.remove(item) && !s.shut_down && s.queued.insert(item.clone()) {
            s.queue.push_back(item.clone());
            drop(s);
            self.notify.notify_one();
        }
    }

    pub fn shut_down(&self) {
        self.lock().shut_down = true;
        self.notify.notify_waiters();
    }

    /// How many items wait for a worker (not counting those being processed or delayed).
    pub fn len(&self) -> usize {
        self.lock().queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue() -> Arc<WorkQueue<&'static str>> {
        WorkQueue::new(Backoff {
            base: Duration::from_millis(1),
            max: Duration::from_millis(10),
        })
    }

    #[tokio::test]
    async fn deduplicates_queued_items() {
        let q = queue();
        q.add("a");
        q.add("a");
        q.add("b");
        assert_eq!(q.len(), 2);
        assert_eq!(q.get().await, Some("a"));
        assert_eq!(q.get().await, Some("b"));
    }

    #[tokio::test]
    async fn re_adds_items_added_while_processing() {
        let q = queue();
        q.add("a");
        let item = q.get().await;
        assert_eq!(item, Some("a"));
        q.add("a");
        assert_eq!(q.len(), 0, "not handed out twice at once");
        q.done(&"a");
        assert_eq!(q.len(), 1);
        assert_eq!(q.get().await, Some("a"));
    }

    #[tokio::test]
    async fn rate_limited_items_come_back() {
        let q = queue();
        q.add_rate_limited("a");
        let got = tokio::time::timeout(Duration::from_secs(5), q.get()).await;
        assert_eq!(got.ok().flatten(), Some("a"));
    }

    #[tokio::test]
    async fn shut_down_releases_waiters() {
        let q = queue();
        let q2 = q.clone();
        let waiter = tokio::spawn(async move { q2.get().await });
        tokio::task::yield_now().await;
        q.shut_down();
        let got = tokio::time::timeout(Duration::from_secs(5), waiter).await;
        assert!(matches!(got, Ok(Ok(None))));
    }
}
