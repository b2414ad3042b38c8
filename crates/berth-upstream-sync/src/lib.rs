//! Endpoint sync to an external nginx (Youzan's `k8s-sync`): the ready endpoints of selected
//! Services, from one or more clusters, written as nginx `upstream` blocks; nginx is tested
//! (`nginx -t`) and reloaded only when the rendered file changes.
//!
//! - One upstream per (namespace, Service, port), named `<namespace>_<service>_<port>` (see
//!   [`render::upstream_name`]); its servers are the ready endpoints of every cluster, each
//!   commented with its cluster. An upstream without a ready endpoint gets the placeholder
//!   [`render::PLACEHOLDER_SERVER`] so that nginx configuration using it stays valid.
//! - Each cluster fails on its own: when it cannot be listed or watched, or its data does not
//!   fit the selection (a selected Service or port is missing), its servers stay as they were at
//!   its last good state (none before any), the error is logged and shown by
//!   [`UpstreamSync::status`], and the other clusters keep syncing.
//! - The file is replaced atomically; if `nginx -t` rejects it the previous file is put back
//!   (nginx keeps serving its running config) and the error is reported.

mod cluster;
pub mod config;
mod error;
mod nginx;
pub mod render;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

use berth_controllers::runtime::{AbortOnDrop, wait_for_shutdown};
use tokio::sync::{Notify, watch};

pub use config::{
    ClusterConfig, ClusterSource, NginxConfig, PortSelector, ServiceSelector, SyncConfig,
};
pub use error::Error;
pub use nginx::ApplyOutcome;

use cluster::ClusterData;

/// The state of one cluster's sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterState {
    /// Not listed yet.
    Syncing,
    /// Listed/watched, and its data fits the selection.
    Ready,
    /// Failing: its servers are frozen at its last good state.
    Failed(String),
}

/// What [`UpstreamSync::status`] reports per cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterStatus {
    pub name: String,
    pub state: ClusterState,
    /// When its data was last complete and consistent.
    pub last_success: Option<SystemTime>,
    /// How many servers it contributes (from its last good state).
    pub servers: usize,
}

impl ClusterStatus {
    pub fn failed(&self) -> bool {
        matches!(self.state, ClusterState::Failed(_))
    }
}

/// Counters of what the sync did, for callers and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// Renders done (each ends in one of the outcomes below, or an error).
    pub rounds: u64,
    /// Rounds that found the file already current.
    pub unchanged: u64,
    /// Times the file was replaced and kept (`nginx -t` passed).
    pub writes: u64,
    /// Successful reloads.
    pub reloads: u64,
    /// Rounds whose file `nginx -t` rejected.
    pub rejected: u64,
    /// Failed reloads.
    pub reload_failures: u64,
}

/// The result of [`UpstreamSync::sync_once`].
#[derive(Debug, Clone)]
pub struct OnceReport {
    pub outcome: ApplyOutcome,
    pub clusters: Vec<ClusterStatus>,
}

impl OnceReport {
    /// The clusters that could not be read (their servers were left out or kept from before).
    pub fn failed(&self) -> impl Iterator<Item = &ClusterStatus> {
        self.clusters.iter().filter(|c| c.failed())
    }
}

pub(crate) struct Inner {
    pub config: SyncConfig,
    /// The namespaces of the selected Services, sorted, once each.
    pub namespaces: Vec<String>,
    state: Mutex<State>,
    /// Signalled by the cluster watches on every change.
    pub changed: Notify,
    /// One render/apply at a time.
    apply_lock: tokio::sync::Mutex<()>,
}

pub(crate) struct State {
    pub clusters: Vec<ClusterData>,
    stats: SyncStats,
    /// The file was written but the reload failed: reload even if nothing changes.
    reload_pending: bool,
    last_apply_error: Option<String>,
}

impl Inner {
    pub fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep going with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Syncs the selected Services' endpoints into an nginx upstream file. Cheap to clone (shared
/// state), so one clone can [`run`](UpstreamSync::run) while another reads the status.
#[derive(Clone)]
pub struct UpstreamSync {
    inner: Arc<Inner>,
}

impl UpstreamSync {
    pub fn new(config: SyncConfig) -> Result<Self, Error> {
        if config.clusters.is_empty() {
            return Err(Error::Config("no cluster".into()));
        }
        if config.services.is_empty() {
            return Err(Error::Config("no service selected".into()));
        }
        let mut names: Vec<&str> = config.clusters.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return Err(Error::Config("cluster names must be unique".into()));
        }
        if config.output.file_name().is_none() {
            return Err(Error::Config(format!(
                "output {} is not a file path",
                config.output.display()
            )));
        }
        let mut namespaces: Vec<String> = config
            .services
            .iter()
            .map(|s| s.namespace.clone())
            .collect();
        namespaces.sort_unstable();
        namespaces.dedup();
        let clusters = config
            .clusters
            .iter()
            .map(|c| ClusterData::new(c.name.clone(), c.source.clone()))
            .collect();
        Ok(UpstreamSync {
            inner: Arc::new(Inner {
                config,
                namespaces,
                state: Mutex::new(State {
                    clusters,
                    stats: SyncStats::default(),
                    reload_pending: false,
                    last_apply_error: None,
                }),
                changed: Notify::new(),
                apply_lock: tokio::sync::Mutex::new(()),
            }),
        })
    }

    pub fn output(&self) -> &Path {
        &self.inner.config.output
    }

    /// Each cluster's state.
    pub fn status(&self) -> Vec<ClusterStatus> {
        self.inner
            .state()
            .clusters
            .iter()
            .map(|c| ClusterStatus {
                name: c.name.clone(),
                state: c.state.clone(),
                last_success: c.last_success,
                servers: c
                    .last_good
                    .iter()
                    .flat_map(|g| g.values())
                    .map(|s| s.len())
                    .sum(),
            })
            .collect()
    }

    pub fn stats(&self) -> SyncStats {
        self.inner.state().stats.clone()
    }

    /// The error of the last render/apply, if it failed (`nginx -t` or reload).
    pub fn last_apply_error(&self) -> Option<String> {
        self.inner.state().last_apply_error.clone()
    }

    /// Lists every cluster once, then renders and applies. Clusters that fail are reported in
    /// the result (and left out, or kept at their last good state if this sync ran before);
    /// the others are written. Errors only when the file cannot be applied.
    pub async fn sync_once(&self) -> Result<OnceReport, Error> {
        let count = self.inner.state().clusters.len();
        futures::future::join_all((0..count).map(|i| cluster::fetch_once(&self.inner, i))).await;
        let outcome = self.round().await?;
        Ok(OnceReport {
            outcome,
            clusters: self.status(),
        })
    }

    /// Watches every cluster and keeps the file current until `shutdown` turns true. Errors
    /// are logged and reported through [`status`](Self::status) and
    /// [`last_apply_error`](Self::last_apply_error); a rejected or failed apply is retried
    /// with backoff.
    pub async fn run(&self, shutdown: watch::Receiver<bool>) {
        let inner = &self.inner;
        let count = inner.state().clusters.len();
        let _watches: Vec<AbortOnDrop> = (0..count)
            .map(|i| AbortOnDrop::spawn(cluster::watch_cluster(inner.clone(), i)))
            .collect();
        let initial_deadline = Instant::now() + inner.config.initial_sync_timeout;
        let mut started = false;
        let mut apply_failures = 0u32;
        let mut retry_at: Option<tokio::time::Instant> = None;
        const RETRY: berth_controllers::runtime::Backoff = berth_controllers::runtime::Backoff {
            base: std::time::Duration::from_secs(1),
            max: std::time::Duration::from_secs(60),
        };
        loop {
            tokio::select! {
                _ = inner.changed.notified() => {}
                _ = wait_for_shutdown(shutdown.clone()) => return,
                _ = tokio::time::sleep_until(initial_deadline.into()), if !started => {}
                _ = tokio::time::sleep_until(retry_at.unwrap_or_else(tokio::time::Instant::now)),
                    if retry_at.is_some() => {}
            }
            tokio::select! {
                _ = tokio::time::sleep(inner.config.debounce) => {}
                _ = wait_for_shutdown(shutdown.clone()) => return,
            }
            if !started {
                // Refresh the states first: a round may not have run yet.
                let all_settled = {
                    let mut state = inner.state();
                    for c in state.clusters.iter_mut() {
                        c.refresh(&inner.config.services);
                    }
                    state
                        .clusters
                        .iter()
                        .all(|c| c.state != ClusterState::Syncing)
                };
                if !all_settled && Instant::now() < initial_deadline {
                    continue;
                }
                started = true;
            }
            match self.round().await {
                Ok(_) => {
                    apply_failures = 0;
                    retry_at = None;
                }
                Err(e) => {
                    apply_failures += 1;
                    let delay = RETRY.delay(apply_failures);
                    tracing::error!(error = %e, retry_in = ?delay, "cannot apply the upstreams");
                    retry_at = Some(tokio::time::Instant::now() + delay);
                }
            }
        }
    }

    /// Renders what is known and applies it.
    async fn round(&self) -> Result<ApplyOutcome, Error> {
        let inner = &self.inner;
        let _one_at_a_time = inner.apply_lock.lock().await;
        let (text, reload_pending) = {
            let mut state = inner.state();
            for c in state.clusters.iter_mut() {
                c.refresh(&inner.config.services);
            }
            let merged = render::merge(
                &inner.config.services,
                state
                    .clusters
                    .iter()
                    .filter_map(|c| c.last_good.as_ref().map(|g| (c.name.as_str(), g))),
            );
            (render::render(&merged), state.reload_pending)
        };
        let result = nginx::apply(
            &inner.config.output,
            &text,
            &inner.config.nginx,
            reload_pending,
        )
        .await;
        let mut state = inner.state();
        state.stats.rounds += 1;
        match &result {
            Ok(ApplyOutcome::Unchanged) => {
                state.stats.unchanged += 1;
                tracing::info!(output = %inner.config.output.display(), "upstreams unchanged");
            }
            Ok(outcome) => {
                if *outcome == ApplyOutcome::Reloaded {
                    state.stats.writes += 1;
                }
                state.stats.reloads += 1;
                state.reload_pending = false;
                tracing::info!(output = %inner.config.output.display(), "upstreams written; nginx reloaded");
            }
            Err(Error::NginxTest { .. }) => state.stats.rejected += 1,
            Err(Error::NginxReload { .. }) => {
                // The file passed `nginx -t` and stays; only the reload is owed.
                if !reload_pending {
                    state.stats.writes += 1;
                }
                state.stats.reload_failures += 1;
                state.reload_pending = true;
            }
            Err(_) => {}
        }
        state.last_apply_error = result.as_ref().err().map(|e| e.to_string());
        result
    }
}
