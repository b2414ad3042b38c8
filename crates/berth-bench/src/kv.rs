//! The storage-layer comparison: the same put/get workload against etcd (through its JSON gateway,
//! over HTTP on loopback) and against berth-store's `SqliteStore` (in-process, through the `Store`
//! trait, no network).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use berth_store::{SqliteStore, SqliteStoreOptions, Store};

use crate::etcd::{self, EtcdKv};
use crate::load::{LoadResult, closed_loop};

/// Deadline of one put or get phase.
const PHASE_DEADLINE: Duration = Duration::from_secs(120);

/// Results of one target at one concurrency.
pub struct KvRun {
    pub clients: usize,
    pub put: LoadResult,
    pub get: LoadResult,
}

fn key(prefix: &str, clients: usize, i: usize) -> String {
    format!("/registry/configmaps/{prefix}-c{clients}/cm-{i:06}")
}

/// N puts (new keys) then N gets of those keys with `clients` concurrent clients, for each
/// (clients, N) in `levels`.
pub async fn run_etcd(kv: &EtcdKv, value: &[u8], levels: &[(usize, usize)]) -> Vec<KvRun> {
    let value_b64: Arc<str> = etcd::b64(value).into();
    let mut runs = Vec::new();
    for &(clients, n) in levels {
        let (k, v) = (kv.clone(), value_b64.clone());
        let put = closed_loop(n, clients, PHASE_DEADLINE, move |i| {
            let (k, v) = (k.clone(), v.clone());
            async move { k.put(&key("bench", clients, i), &v).await }
        })
        .await;
        let k = kv.clone();
        let get = closed_loop(n, clients, PHASE_DEADLINE, move |i| {
            let k = k.clone();
            async move { k.get(&key("bench", clients, i)).await }
        })
        .await;
        runs.push(KvRun { clients, put, get });
    }
    runs
}

/// The same workload against a fresh `SqliteStore` in `dir`: `create` of new keys, then `get`.
/// Returns the runs and the number of write transactions (group commits) the puts took.
pub async fn run_sqlite(
    dir: &Path,
    value: &[u8],
    levels: &[(usize, usize)],
) -> anyhow::Result<(Vec<KvRun>, Vec<u64>)> {
    let store = SqliteStore::open(SqliteStoreOptions::new(dir.join("state.db")))
        .context("cannot open the SqliteStore")?;
    let value: Arc<[u8]> = value.into();
    let mut runs = Vec::new();
    let mut commits = Vec::new();
    for &(clients, n) in levels {
        let before = store.commit_count();
        let (s, v) = (store.clone(), value.clone());
        let put = closed_loop(n, clients, PHASE_DEADLINE, move |i| {
            let (s, v) = (s.clone(), v.clone());
            async move {
                s.create(&key("bench", clients, i), v.to_vec()).await?;
                Ok(())
            }
        })
        .await;
        commits.push(store.commit_count().saturating_sub(before));
        let s = store.clone();
        let get = closed_loop(n, clients, PHASE_DEADLINE, move |i| {
            let s = s.clone();
            async move {
                s.get(&key("bench", clients, i))
                    .await?
                    .context("key missing")?;
                Ok(())
            }
        })
        .await;
        runs.push(KvRun { clients, put, get });
    }
    store.close();
    Ok((runs, commits))
}
