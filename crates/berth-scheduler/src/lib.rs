//! Berth's scheduler (the kube-scheduler role): watches nodes and pods, keeps a scheduling
//! queue of pending pods that name `default-scheduler`, filters and scores nodes with the
//! default profile's plugins, assumes the chosen node in its cache and binds through
//! `pods/binding` asynchronously.
//!
//! Module map: `resources` and `matching` are upstream's helpers, `podinfo` and `cache` the
//! cluster view, `filters` and `scores` the plugins, `framework` one scheduling cycle,
//! `queue` the scheduling queue, `decisions` the debug log, `scheduler` the informers and the
//! loop that ties them together.

pub mod cache;
pub mod decisions;
mod events;
pub mod filters;
pub mod framework;
pub mod matching;
pub mod podinfo;
pub mod queue;
pub mod resources;
mod scheduler;
pub mod scores;

pub use decisions::{Decision, DecisionLog, NodeRejection, NodeScore, PluginScore};
pub use scheduler::{DEFAULT_SCHEDULER_NAME, Scheduler, SchedulerConfig};

#[cfg(test)]
mod tests;
