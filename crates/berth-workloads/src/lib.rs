//! Berth's workload controllers (the apps and batch part of kube-controller-manager), written
//! as kube-rs clients of the API server:
//!
//! - [`replicaset::ReplicaSetController`]
//! - [`deployment::DeploymentController`]
//! - [`job::JobController`] (with the TTL-after-finished controller)
//! - [`cronjob::CronJobController`]
//! - [`statefulset::StatefulSetController`]
//! - [`daemonset::DaemonSetController`]
//!
//! All controllers read through shared informers (one watch and store per kind) and work
//! queues from `berth_controllers::runtime`, the shared controller runtime; [`run`] runs all of
//! them until shutdown.

pub(crate) mod claim;
pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod error;
pub(crate) mod events;
pub(crate) mod expectations;
pub(crate) mod informer;
pub mod job;
pub(crate) mod meta;
pub(crate) mod pods;
pub mod replicaset;
pub mod statefulset;

use tokio::sync::watch;

pub use cronjob::{Clock, CronJobController};
pub use daemonset::DaemonSetController;
pub use deployment::DeploymentController;
pub use job::JobController;
pub use replicaset::ReplicaSetController;
pub use statefulset::StatefulSetController;

/// Runs every workload controller, sharing one informer per kind, until `shutdown` turns true
/// (or its sender is dropped).
pub async fn run(client: kube::Client, shutdown: watch::Receiver<bool>) {
    let informers = informer::Informers::new(client);
    tokio::join!(
        ReplicaSetController::with_informers(informers.clone()).run(shutdown.clone()),
        DeploymentController::with_informers(informers.clone()).run(shutdown.clone()),
        JobController::with_informers(informers.clone()).run(shutdown.clone()),
        CronJobController::with_informers(informers.clone()).run(shutdown.clone()),
        StatefulSetController::with_informers(informers.clone()).run(shutdown.clone()),
        DaemonSetController::with_informers(informers.clone()).run(shutdown.clone()),
    );
}
