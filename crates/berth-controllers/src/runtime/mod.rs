//! The shared controller runtime on top of kube-runtime: what Berth's queue-driven controllers
//! (here and in `berth-workloads`) need beyond kube-runtime's `Controller`, written once.
//!
//! - [`WorkQueue`]: client-go's rate-limited work queue (dedup, one worker per key, backoff).
//! - [`Backoff`]: per-item exponential retry delays.
//! - [`run_workers`]: a worker pool draining a queue, with retries and requested requeues.
//! - [`Informer`]: a watch feeding a local store, with a callback per change.
//! - [`wait_for_shutdown`], [`shutdown_requested`], [`AbortOnDrop`], [`supervise`]: task
//!   plumbing around a `watch::Receiver<bool>` shutdown signal.

mod backoff;
mod informer;
mod queue;
mod task;
mod workers;

pub use backoff::Backoff;
pub use informer::{Change, Informer, ObjectKey, key_of};
pub use queue::WorkQueue;
pub use task::{AbortOnDrop, shutdown_requested, supervise, wait_for_shutdown};
pub use workers::{Requeue, SyncOutcome, run_workers};
