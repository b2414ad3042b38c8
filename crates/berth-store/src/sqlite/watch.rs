//! Watch streams.
//!
//! A watcher subscribes to the broadcast of committed batches *before* reading anything from the
//! log, then reads the log after its start revision, and from then on takes batches from the
//! broadcast, skipping revisions it has already covered. Because a batch is committed before it
//! is broadcast, anything broadcast after the subscription is either in the log read or arrives
//! on the broadcast: no gap, and the `covered` revision removes the overlap.
//!
//! A watcher that is not polled fast enough lags the bounded broadcast. It then reads the log
//! from its covered revision again (same argument: the oldest batch still in the broadcast was
//! committed before the log read started) and carries on; if that history has been compacted
//! meanwhile, the stream ends and the client re-watches.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Instant;
use tracing::{debug, info};

use super::Shared;
use super::query::{self, KeyRange, ReadPool};
use super::writer::Published;
use crate::{Event, Result, Revision, StoreError, WatchItem};

/// Log rows read per catch-up query, so a long backlog is not loaded into memory at once.
const LOG_CHUNK: usize = 1000;

pub(crate) struct Watcher {
    range: KeyRange,
    pool: Arc<ReadPool>,
    rx: broadcast::Receiver<Arc<Published>>,
    /// Every revision up to here has been queued or did not match.
    covered: Revision,
    queue: VecDeque<Event>,
    /// The log still has events after `covered` that the broadcast may no longer hold.
    catching_up: bool,
    progress_interval: Duration,
    /// When to send a progress item if nothing else was sent.
    deadline: Instant,
    done: bool,
}

impl Watcher {
    /// `rx` must have been subscribed before this is called. Reads the first backlog chunk now,
    /// so that a compacted start revision fails the watch call itself.
    pub(crate) async fn start(
        prefix: String,
        after: Revision,
        pool: Arc<ReadPool>,
        rx: broadcast::Receiver<Arc<Published>>,
        shared: &Shared,
        progress_interval: Duration,
    ) -> Result<Self> {
        // Loaded after subscribing: any batch broadcast before the subscription is at or below
        // it (the writer stores the revision before broadcasting).
        let current = shared.current.load(Ordering::Acquire);
        let compacted = shared.compacted.load(Ordering::Acquire);
        if after > 0 && after < compacted {
            return Err(StoreError::Compacted {
                requested: after,
                compacted,
            });
        }
        let mut watcher = Watcher {
            range: KeyRange::prefix(&prefix),
            pool,
            rx,
            // 0 means "from now"; a start beyond the current revision skips up to it.
            covered: if after <= 0 { current } else { after },
            queue: VecDeque::new(),
            catching_up: after > 0 && after < current,
            progress_interval,
            deadline: Instant::now() + progress_interval,
            done: false,
        };
        if watcher.catching_up {
            watcher.read_log().await?;
        }
        Ok(watcher)
    }

    pub(crate) fn into_stream(self) -> BoxStream<'static, WatchItem> {
        futures::stream::unfold(self, |mut watcher| async move {
            let item = watcher.next_item().await?;
            Some((item, watcher))
        })
        .boxed()
    }

    async fn read_log(&mut self) -> Result<()> {
        let range = self.range.clone();
        let after = self.covered;
        let chunk = self
            .pool
            .run(move |conn| query::read_log(conn, &range, after, LOG_CHUNK))
            .await?;
        self.queue.extend(chunk.events);
        self.covered = self.covered.max(chunk.covered);
        self.catching_up = !chunk.complete;
        Ok(())
    }

    fn sent(&mut self) {
        self.deadline = Instant::now() + self.progress_interval;
    }

    async fn next_item(&mut self) -> Option<WatchItem> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                self.sent();
                return Some(WatchItem::Event(event));
            }
            if self.done {
                return None;
            }
            if self.catching_up {
                if let Err(e) = self.read_log().await {
                    match e {
                        StoreError::Compacted { .. } => {
                            info!(
                                covered = self.covered,
                                "watch history was compacted; ending the watch"
                            )
                        }
                        StoreError::Closed => {}
                        e => info!(error = %e, "watch catch-up failed; ending the watch"),
                    }
                    self.done = true;
                }
                continue;
            }
            tokio::select! {
                // Drain what is already there before considering the watcher idle.
                biased;
                received = self.rx.recv() => match received {
                    Ok(batch) => self.take(&batch),
                    Err(RecvError::Lagged(skipped)) => {
                        debug!(skipped, covered = self.covered, "watch fell behind; catching up from the log");
                        self.catching_up = true;
                    }
                    // The store closed.
                    Err(RecvError::Closed) => self.done = true,
                },
                _ = tokio::time::sleep_until(self.deadline) => {
                    self.sent();
                    // Everything committed up to `covered` has been delivered, so it is safe to
                    // resume from; when idle it is the current revision.
                    return Some(WatchItem::Progress(self.covered));
                }
            }
        }
    }

    fn take(&mut self, batch: &Published) {
        if batch.last <= self.covered {
            return;
        }
        for event in &batch.events {
            if event.revision() > self.covered && self.range.contains(event.key()) {
                self.queue.push_back(event.clone());
            }
        }
        self.covered = batch.last;
    }
}
