//! Reads: a pool of read-only connections used from the blocking thread pool, and the queries.
//!
//! Every read runs in its own (deferred) read transaction, so the revisions in `meta` and the
//! rows it returns come from one WAL snapshot.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, ToSql, Transaction};
use tokio::sync::Semaphore;

use super::writer::{OP_CREATE, OP_DELETE, OP_UPDATE};
use super::{DbResult, Shared};
use crate::{Event, KeyValue, ListRequest, ListResponse, Result, Revision, StoreError};

pub(crate) struct ReadPool {
    path: PathBuf,
    busy_timeout: Duration,
    /// Idle connections. The semaphore guarantees one is normally there for every permit
    /// holder; a connection lost to a panicking read is replaced by opening a new one.
    conns: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
    shared: Arc<Shared>,
}

fn open_reader(path: &Path, busy_timeout: Duration) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(busy_timeout)?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

impl ReadPool {
    pub(crate) fn open(
        path: &Path,
        size: usize,
        busy_timeout: Duration,
        shared: Arc<Shared>,
    ) -> Result<Self> {
        let conns = (0..size)
            .map(|_| open_reader(path, busy_timeout))
            .collect::<rusqlite::Result<Vec<_>>>()
            .db()?;
        Ok(ReadPool {
            path: path.to_owned(),
            busy_timeout,
            conns: Mutex::new(conns),
            permits: Arc::new(Semaphore::new(size)),
            shared,
        })
    }

    pub(crate) fn close(&self) {
        self.conns.lock().expect("read pool lock poisoned").clear();
    }

    fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// Runs `f` with a pooled connection on the blocking thread pool.
    pub(crate) async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T>
    where
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        if self.is_closed() {
            return Err(StoreError::Closed);
        }
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Closed)?;
        let pool = Arc::clone(self);
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            if pool.is_closed() {
                return Err(StoreError::Closed);
            }
            let idle = pool.conns.lock().expect("read pool lock poisoned").pop();
            let mut conn = match idle {
                Some(conn) => conn,
                None => open_reader(&pool.path, pool.busy_timeout).db()?,
            };
            let result = f(&mut conn);
            if !pool.is_closed() {
                pool.conns
                    .lock()
                    .expect("read pool lock poisoned")
                    .push(conn);
            }
            result
        });
        task.await
            .map_err(|e| StoreError::Database(format!("read task failed: {e}")))?
    }
}

/// The keys under a prefix, as a half-open range `[lo, hi)` so SQLite walks the primary key
/// index (LIKE would treat `%` and `_` in keys as wildcards).
#[derive(Debug, Clone)]
pub(crate) struct KeyRange {
    lo: String,
    /// `None` when no string bounds the prefix from above (empty prefix).
    hi: Option<String>,
}

impl KeyRange {
    pub(crate) fn prefix(prefix: &str) -> Self {
        KeyRange {
            lo: prefix.to_owned(),
            hi: prefix_upper_bound(prefix),
        }
    }

    pub(crate) fn contains(&self, key: &str) -> bool {
        key.starts_with(&self.lo)
    }
}

/// The smallest string greater than every string starting with `prefix`, if any.
///
/// SQLite compares TEXT bytewise, and UTF-8 byte order is code point order, so bumping the last
/// character to the next code point bounds the prefix; a last character with no successor is
/// dropped and the one before it bumped instead.
pub(crate) fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = last as u32 + 1;
        if (0xD800..0xE000).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Named SQL parameters, kept with the statement text they were built for (rusqlite rejects
/// names the statement does not use).
#[derive(Default)]
struct Params(Vec<(&'static str, Value)>);

impl Params {
    fn set(&mut self, name: &'static str, value: impl Into<Value>) {
        self.0.push((name, value.into()));
    }

    fn as_named(&self) -> Vec<(&str, &dyn ToSql)> {
        self.0.iter().map(|(n, v)| (*n, v as &dyn ToSql)).collect()
    }
}

/// `col >= :lo [AND col < :hi] [AND col > :after]`, binding the parameters once.
fn range_condition(
    col: &str,
    range: &KeyRange,
    after: Option<&str>,
    params: &mut Params,
    bind: bool,
) -> String {
    let mut sql = format!("{col} >= :lo");
    if bind {
        params.set(":lo", range.lo.clone());
    }
    if let Some(hi) = &range.hi {
        sql.push_str(&format!(" AND {col} < :hi"));
        if bind {
            params.set(":hi", hi.clone());
        }
    }
    if let Some(after) = after {
        sql.push_str(&format!(" AND {col} > :after"));
        if bind {
            params.set(":after", after.to_owned());
        }
    }
    sql
}

/// A `WITH ... state(key, value, create_rev, mod_rev)` clause for the keys in `range` (and after
/// `after`) as of revision `at`.
///
/// The current state is the objects table. For a past revision R: a key whose first log row
/// after R exists was, at R, whatever that row's `prev_*` columns say (absent if NULL); a key
/// with no log row after R is unchanged since, so its objects row is its state at R. Log rows
/// after R are never compacted away (R >= the compacted revision is checked first).
fn state_cte(
    range: &KeyRange,
    after: Option<&str>,
    at: Option<Revision>,
    params: &mut Params,
) -> String {
    match at {
        None => format!(
            "WITH state AS (SELECT key, value, create_rev, mod_rev FROM objects WHERE {})",
            range_condition("key", range, after, params, true)
        ),
        Some(rev) => {
            params.set(":rev", rev);
            format!(
                "WITH changed AS MATERIALIZED (
                     SELECT key, MIN(rev) AS first_rev FROM log
                     WHERE rev > :rev AND {log_cond} GROUP BY key
                 ),
                 state(key, value, create_rev, mod_rev) AS (
                     SELECT o.key, o.value, o.create_rev, o.mod_rev FROM objects o
                     WHERE {obj_cond} AND o.key NOT IN (SELECT key FROM changed)
                     UNION ALL
                     SELECT l.key, l.prev_value, l.prev_create_rev, l.prev_mod_rev
                     FROM changed c JOIN log l ON l.rev = c.first_rev
                     WHERE l.prev_mod_rev IS NOT NULL
                 )",
                log_cond = range_condition("key", range, after, params, true),
                obj_cond = range_condition("o.key", range, after, params, false),
            )
        }
    }
}

fn kv_from_row(row: &Row<'_>) -> rusqlite::Result<KeyValue> {
    Ok(KeyValue {
        key: row.get(0)?,
        value: row.get(1)?,
        create_revision: row.get(2)?,
        mod_revision: row.get(3)?,
    })
}

/// (current revision, compacted revision) in this transaction's snapshot.
fn read_meta(tx: &Transaction<'_>) -> Result<(Revision, Revision)> {
    let mut stmt = tx
        .prepare_cached("SELECT name, value FROM meta WHERE name IN ('current_rev', 'compact_rev')")
        .db()?;
    let mut rows = stmt.query([]).db()?;
    let (mut current, mut compacted) = (0, 0);
    while let Some(row) = rows.next().db()? {
        let name: String = row.get(0).db()?;
        let value: i64 = row.get(1).db()?;
        match name.as_str() {
            "current_rev" => current = value,
            _ => compacted = value,
        }
    }
    Ok((current, compacted))
}

pub(crate) fn get(conn: &mut Connection, key: &str) -> Result<Option<KeyValue>> {
    conn.prepare_cached("SELECT key, value, create_rev, mod_rev FROM objects WHERE key = ?1")
        .db()?
        .query_row([key], kv_from_row)
        .optional()
        .db()
}

pub(crate) fn count(conn: &mut Connection, range: &KeyRange) -> Result<i64> {
    let mut params = Params::default();
    let sql = format!(
        "SELECT COUNT(*) FROM objects WHERE {}",
        range_condition("key", range, None, &mut params, true)
    );
    conn.prepare_cached(&sql)
        .db()?
        .query_row(params.as_named().as_slice(), |r| r.get(0))
        .db()
}

pub(crate) fn list(conn: &mut Connection, req: &ListRequest) -> Result<ListResponse> {
    let tx = conn.transaction().db()?;
    let (current, compacted) = read_meta(&tx)?;
    let revision = match req.revision {
        r if r <= 0 => current,
        r if r > current => {
            return Err(StoreError::FutureRevision {
                requested: r,
                current,
            });
        }
        r if r < compacted => {
            return Err(StoreError::Compacted {
                requested: r,
                compacted,
            });
        }
        r => r,
    };
    // At the current revision the objects table is the answer; no need to look at the log.
    let at = (revision < current).then_some(revision);
    let range = KeyRange::prefix(&req.prefix);

    let mut params = Params::default();
    let mut sql = state_cte(&range, req.start_after.as_deref(), at, &mut params);
    sql.push_str(" SELECT key, value, create_rev, mod_rev FROM state ORDER BY key");
    if req.limit > 0 {
        sql.push_str(" LIMIT :limit");
        params.set(":limit", i64::try_from(req.limit).unwrap_or(i64::MAX));
    }
    let items = {
        let mut stmt = tx.prepare_cached(&sql).db()?;
        stmt.query_map(params.as_named().as_slice(), kv_from_row)
            .db()?
            .collect::<rusqlite::Result<Vec<_>>>()
            .db()?
    };

    let remaining = match items.last() {
        Some(last) if req.limit > 0 && items.len() == req.limit => {
            let mut params = Params::default();
            let mut sql = state_cte(&range, Some(&last.key), at, &mut params);
            sql.push_str(" SELECT COUNT(*) FROM state");
            tx.prepare_cached(&sql)
                .db()?
                .query_row(params.as_named().as_slice(), |r| r.get(0))
                .db()?
        }
        _ => 0,
    };
    Ok(ListResponse {
        items,
        revision,
        more: remaining > 0,
        remaining,
    })
}

/// A slice of the log for a watcher.
pub(crate) struct LogChunk {
    /// Events under the range with revision > `after`, in revision order.
    pub events: Vec<Event>,
    /// Every event up to this revision is in `events` or outside the range.
    pub covered: Revision,
    /// False if the chunk hit its limit and more may follow.
    pub complete: bool,
}

/// Log events under `range` after revision `after`, at most `limit` of them.
pub(crate) fn read_log(
    conn: &mut Connection,
    range: &KeyRange,
    after: Revision,
    limit: usize,
) -> Result<LogChunk> {
    let tx = conn.transaction().db()?;
    let (current, compacted) = read_meta(&tx)?;
    if after < compacted {
        return Err(StoreError::Compacted {
            requested: after,
            compacted,
        });
    }
    let mut params = Params::default();
    params.set(":after_rev", after);
    params.set(":limit", i64::try_from(limit).unwrap_or(i64::MAX));
    let sql = format!(
        "SELECT rev, key, op, value, create_rev, prev_value, prev_create_rev, prev_mod_rev
         FROM log WHERE rev > :after_rev AND {} ORDER BY rev LIMIT :limit",
        range_condition("key", range, None, &mut params, true)
    );
    let events = {
        let mut stmt = tx.prepare_cached(&sql).db()?;
        let mut rows = stmt.query(params.as_named().as_slice()).db()?;
        let mut events = Vec::new();
        while let Some(row) = rows.next().db()? {
            events.push(event_from_row(row)?);
        }
        events
    };
    let complete = events.len() < limit;
    let covered = match events.last() {
        Some(last) if !complete => last.revision(),
        _ => current.max(after),
    };
    Ok(LogChunk {
        events,
        covered,
        complete,
    })
}

fn event_from_row(row: &Row<'_>) -> Result<Event> {
    let rev: Revision = row.get(0).db()?;
    let key: String = row.get(1).db()?;
    let op: i64 = row.get(2).db()?;
    let prev_mod: Option<Revision> = row.get(7).db()?;
    let prev = match prev_mod {
        Some(mod_revision) => Some(KeyValue {
            key: key.clone(),
            value: row.get::<_, Option<Vec<u8>>>(5).db()?.unwrap_or_default(),
            create_revision: row.get::<_, Option<Revision>>(6).db()?.unwrap_or(0),
            mod_revision,
        }),
        None => None,
    };
    let corrupt = || StoreError::Database(format!("corrupt log entry at revision {rev}"));
    match op {
        OP_CREATE | OP_UPDATE => Ok(Event::Put {
            kv: KeyValue {
                key,
                value: row.get::<_, Option<Vec<u8>>>(3).db()?.ok_or_else(corrupt)?,
                create_revision: row
                    .get::<_, Option<Revision>>(4)
                    .db()?
                    .ok_or_else(corrupt)?,
                mod_revision: rev,
            },
            prev,
        }),
        OP_DELETE => Ok(Event::Delete {
            prev: prev.ok_or_else(corrupt)?,
            revision: rev,
        }),
        _ => Err(corrupt()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_bound_bumps_the_last_character() {
        assert_eq!(prefix_upper_bound("/a/b/").as_deref(), Some("/a/b0"));
        assert_eq!(prefix_upper_bound("a").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound(""), None);
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
        assert_eq!(
            prefix_upper_bound("x\u{D7FF}").as_deref(),
            Some("x\u{E000}")
        );
    }

    #[test]
    fn upper_bound_orders_above_every_key_with_the_prefix() {
        for prefix in ["/a/b/", "é", "a\u{FFFF}", "%_"] {
            let Some(hi) = prefix_upper_bound(prefix) else {
                continue;
            };
            for tail in ["", "\u{0}", "zzz", "\u{10FFFF}\u{10FFFF}", "é"] {
                let key = format!("{prefix}{tail}");
                assert!(key.as_bytes() < hi.as_bytes(), "{key:?} !< {hi:?}");
                assert!(key.as_str() >= prefix);
            }
            assert!(KeyRange::prefix(prefix).contains(&format!("{prefix}x")));
        }
    }
}
