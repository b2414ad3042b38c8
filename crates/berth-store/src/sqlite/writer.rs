//! The writer thread: owns the only write connection and group-commits queued writes.
//!
//! Each loop takes every queued request (up to `max_batch`), applies them in order inside one
//! `BEGIN IMMEDIATE` transaction, commits once (one WAL fsync), then publishes the batch's events
//! to watchers and answers the callers. Each op is checked against the state left by the earlier
//! ops of the batch (they run on the same connection, so a plain SELECT sees them), and its writes
//! run inside a savepoint, so a failing op is undone alone and the rest of the batch commits.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, atomic::AtomicI64};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::{broadcast, oneshot};
use tracing::{debug, error, info, warn};

use super::{DbResult, Shared};
use crate::{Event, KeyValue, Result, Revision, StoreError};

const SCHEMA_VERSION: i64 = 1;

/// Log `op` values.
pub(crate) const OP_CREATE: i64 = 0;
pub(crate) const OP_UPDATE: i64 = 1;
pub(crate) const OP_DELETE: i64 = 2;

/// Compacted log rows are deleted this many at a time, between batches, so that a large
/// compaction does not hold up writes.
const PURGE_CHUNK: i64 = 10_000;

const INSERT_LOG: &str = "INSERT INTO log \
     (rev, key, op, value, create_rev, prev_value, prev_create_rev, prev_mod_rev) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

#[derive(Debug)]
pub(crate) enum WriteOp {
    Create {
        key: String,
        value: Vec<u8>,
    },
    Update {
        key: String,
        value: Vec<u8>,
        expected: Revision,
    },
    Delete {
        key: String,
        expected: Option<Revision>,
    },
    Compact {
        revision: Revision,
    },
}

#[derive(Debug)]
pub(crate) enum WriteOutput {
    Put(KeyValue),
    Deleted(KeyValue, Revision),
    Compacted,
}

pub(crate) struct WriteRequest {
    pub op: WriteOp,
    pub reply: oneshot::Sender<Result<WriteOutput>>,
}

pub(crate) enum Msg {
    Write(WriteRequest),
    /// Finish what was queued before this message, then stop.
    Shutdown,
}

/// One committed batch, as broadcast to watchers.
#[derive(Debug)]
pub(crate) struct Published {
    /// In revision order.
    pub events: Vec<Event>,
    /// The revision of the batch's last write (its commit revision).
    pub last: Revision,
}

/// Revisions found in the database at open.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InitState {
    pub current: Revision,
    pub compacted: Revision,
    /// Log rows at or below the compacted revision are still there (a purge was interrupted).
    pub purge_pending: bool,
}

/// Creates the schema if needed and reads the revisions back.
pub(crate) fn init(conn: &Connection) -> Result<InitState> {
    conn.execute_batch(
        "BEGIN IMMEDIATE;
         CREATE TABLE IF NOT EXISTS meta (
             name TEXT PRIMARY KEY,
             value INTEGER NOT NULL
         ) WITHOUT ROWID;
         INSERT OR IGNORE INTO meta (name, value) VALUES
             ('schema_version', 1), ('current_rev', 0), ('compact_rev', 0);
         CREATE TABLE IF NOT EXISTS objects (
             key TEXT PRIMARY KEY,
             value BLOB NOT NULL,
             create_rev INTEGER NOT NULL,
             mod_rev INTEGER NOT NULL
         );
         CREATE TABLE IF NOT EXISTS log (
             rev INTEGER PRIMARY KEY,
             key TEXT NOT NULL,
             op INTEGER NOT NULL,
             value BLOB,
             create_rev INTEGER,
             prev_value BLOB,
             prev_create_rev INTEGER,
             prev_mod_rev INTEGER
         );
         COMMIT;",
    )
    .db()?;
    let meta = |name: &str| -> Result<i64> {
        conn.query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .db()
    };
    let version = meta("schema_version")?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Database(format!(
            "database schema version {version} is newer than this build supports \
             ({SCHEMA_VERSION})"
        )));
    }
    let compacted = meta("compact_rev")?;
    // meta.current_rev is written in every write transaction; the max() with the tables only
    // guards against a hand-edited or damaged meta row so a revision is never handed out twice.
    let max_log: Option<i64> = conn
        .query_row("SELECT MAX(rev) FROM log", [], |r| r.get(0))
        .db()?;
    let max_obj: Option<i64> = conn
        .query_row("SELECT MAX(mod_rev) FROM objects", [], |r| r.get(0))
        .db()?;
    let current = meta("current_rev")?
        .max(max_log.unwrap_or(0))
        .max(max_obj.unwrap_or(0))
        .max(compacted);
    let min_log: Option<i64> = conn
        .query_row("SELECT MIN(rev) FROM log", [], |r| r.get(0))
        .db()?;
    Ok(InitState {
        current,
        compacted,
        purge_pending: min_log.is_some_and(|m| m <= compacted),
    })
}

/// Why one op of a batch did not happen.
enum OpError {
    /// A precondition failed (exists, not found, conflict); nothing was written.
    Rejected(StoreError),
    /// SQLite failed; the op's writes were rolled back to its savepoint, the batch goes on.
    Failed(rusqlite::Error),
    /// SQLite failed and the transaction is no longer usable (SQLite rolled it back, or the
    /// savepoint could not be undone): the whole batch fails.
    Fatal(rusqlite::Error),
}

/// Classifies an SQLite error raised while applying one op.
fn op_error(conn: &Connection, e: rusqlite::Error) -> OpError {
    // Some errors (disk full, I/O error) make SQLite roll back the whole transaction; continuing
    // would run the remaining ops in autocommit mode.
    if conn.is_autocommit() {
        OpError::Fatal(e)
    } else {
        OpError::Failed(e)
    }
}

struct AutoCompact {
    interval: Duration,
    next: Instant,
    /// The revision seen at the previous tick: what the next tick compacts to.
    seen: Option<Revision>,
}

enum Next {
    Msg(Msg),
    /// Nothing arrived before the deadline (or nothing is queued while a purge is pending).
    Idle,
    /// Every sender is gone.
    Disconnected,
}

pub(crate) struct Writer {
    conn: Connection,
    rx: mpsc::Receiver<Msg>,
    shared: Arc<Shared>,
    events: broadcast::Sender<Arc<Published>>,
    max_batch: usize,
    auto_compact: Option<AutoCompact>,
    /// Committed revisions (the shared atomics mirror them for readers).
    current: Revision,
    compacted: Revision,
    purge_pending: bool,
}

impl Writer {
    pub(crate) fn new(
        conn: Connection,
        rx: mpsc::Receiver<Msg>,
        shared: Arc<Shared>,
        events: broadcast::Sender<Arc<Published>>,
        max_batch: usize,
        auto_compact_interval: Option<Duration>,
        state: InitState,
    ) -> Self {
        Writer {
            conn,
            rx,
            shared,
            events,
            max_batch,
            auto_compact: auto_compact_interval.map(|interval| AutoCompact {
                interval,
                next: Instant::now() + interval,
                seen: None,
            }),
            current: state.current,
            compacted: state.compacted,
            purge_pending: state.purge_pending,
        }
    }

    pub(crate) fn run(mut self) {
        debug!(revision = self.current, "store writer started");
        loop {
            let next = self.next_message();
            self.auto_compact_tick();
            let first = match next {
                Next::Msg(msg) => msg,
                Next::Idle => {
                    if self.purge_pending {
                        self.purge_chunk();
                    }
                    continue;
                }
                Next::Disconnected => break,
            };
            let mut batch = Vec::new();
            let mut shutdown = false;
            match first {
                Msg::Write(req) => batch.push(req),
                Msg::Shutdown => shutdown = true,
            }
            while !shutdown && batch.len() < self.max_batch {
                match self.rx.try_recv() {
                    Ok(Msg::Write(req)) => batch.push(req),
                    Ok(Msg::Shutdown) => shutdown = true,
                    Err(_) => break,
                }
            }
            if !batch.is_empty() {
                self.run_batch(batch);
            }
            if shutdown {
                break;
            }
            // Under constant load the writer is never idle; purge a chunk between batches so
            // compacted history still goes away.
            if self.purge_pending {
                self.purge_chunk();
            }
        }
        debug!(revision = self.current, "store writer stopped");
    }

    fn next_message(&self) -> Next {
        if self.purge_pending {
            return match self.rx.try_recv() {
                Ok(msg) => Next::Msg(msg),
                Err(TryRecvError::Empty) => Next::Idle,
                Err(TryRecvError::Disconnected) => Next::Disconnected,
            };
        }
        match &self.auto_compact {
            Some(tick) => {
                let wait = tick.next.saturating_duration_since(Instant::now());
                match self.rx.recv_timeout(wait) {
                    Ok(msg) => Next::Msg(msg),
                    Err(RecvTimeoutError::Timeout) => Next::Idle,
                    Err(RecvTimeoutError::Disconnected) => Next::Disconnected,
                }
            }
            None => match self.rx.recv() {
                Ok(msg) => Next::Msg(msg),
                Err(_) => Next::Disconnected,
            },
        }
    }

    /// kube-apiserver's scheme: at each tick compact to the revision seen at the previous tick,
    /// so history always covers at least one interval.
    fn auto_compact_tick(&mut self) {
        let now = Instant::now();
        let Some(tick) = self.auto_compact.as_mut() else {
            return;
        };
        if now < tick.next {
            return;
        }
        let target = tick.seen.replace(self.current);
        tick.next = now + tick.interval;
        if let Some(target) = target
            && target > self.compacted
        {
            // Nobody waits for the answer.
            let (reply, _) = oneshot::channel();
            self.run_batch(vec![WriteRequest {
                op: WriteOp::Compact { revision: target },
                reply,
            }]);
        }
    }

    fn run_batch(&mut self, batch: Vec<WriteRequest>) {
        let size = batch.len();
        if let Err(e) = self.conn.execute_batch("BEGIN IMMEDIATE") {
            error!(error = %e, "cannot begin a write transaction");
            fail_all(batch.into_iter().map(|r| r.reply), &e);
            return;
        }
        let mut replies = Vec::with_capacity(size);
        let mut events = Vec::new();
        let mut rev = self.current;
        let mut compact_to = self.compacted;
        let mut requests = batch.into_iter();
        while let Some(req) = requests.next() {
            let result = match req.op {
                // Compacting beyond the current revision is clamped to it.
                WriteOp::Compact { revision } => {
                    compact_to = compact_to.max(revision.min(rev));
                    Ok(WriteOutput::Compacted)
                }
                op => match apply(&self.conn, op, rev + 1) {
                    Ok((output, event)) => {
                        rev += 1;
                        events.push(event);
                        Ok(output)
                    }
                    Err(OpError::Rejected(e)) => Err(e),
                    Err(OpError::Failed(e)) => {
                        warn!(error = %e, "write failed");
                        Err(StoreError::Database(e.to_string()))
                    }
                    Err(OpError::Fatal(e)) => {
                        error!(error = %e, batch = size, "write transaction aborted");
                        self.rollback();
                        let done = replies.into_iter().map(|(reply, _)| reply);
                        let pending = requests.map(|r| r.reply);
                        fail_all(done.chain([req.reply]).chain(pending), &e);
                        return;
                    }
                },
            };
            replies.push((req.reply, result));
        }
        if let Err(e) = self.finish(rev, compact_to) {
            error!(error = %e, batch = size, "write transaction failed to commit");
            self.rollback();
            fail_all(replies.into_iter().map(|(reply, _)| reply), &e);
            return;
        }

        self.current = rev;
        self.shared.current.store(rev, Ordering::Release);
        if compact_to > self.compacted {
            info!(revision = compact_to, "compacted store history");
            self.compacted = compact_to;
            store_max(&self.shared.compacted, compact_to);
            self.purge_pending = true;
        }
        self.shared.commits.fetch_add(1, Ordering::Relaxed);
        if !events.is_empty() {
            // No receivers is not an error: nobody is watching.
            let _ = self.events.send(Arc::new(Published { events, last: rev }));
        }
        for (reply, result) in replies {
            // The caller may have given up waiting; the write stands anyway.
            let _ = reply.send(result);
        }
    }

    /// Records the new revisions and commits.
    fn finish(&self, rev: Revision, compact_to: Revision) -> rusqlite::Result<()> {
        if rev != self.current {
            self.conn
                .prepare_cached("UPDATE meta SET value = ?1 WHERE name = 'current_rev'")?
                .execute([rev])?;
        }
        if compact_to != self.compacted {
            self.conn
                .prepare_cached("UPDATE meta SET value = ?1 WHERE name = 'compact_rev'")?
                .execute([compact_to])?;
        }
        self.conn.execute_batch("COMMIT")
    }

    fn rollback(&self) {
        if !self.conn.is_autocommit()
            && let Err(e) = self.conn.execute_batch("ROLLBACK")
        {
            error!(error = %e, "cannot roll back the write transaction");
        }
    }

    /// Deletes one chunk of compacted log rows in its own transaction.
    fn purge_chunk(&mut self) {
        let result = (|| -> rusqlite::Result<bool> {
            let oldest: Option<i64> = self
                .conn
                .query_row("SELECT MIN(rev) FROM log", [], |r| r.get(0))?;
            let Some(oldest) = oldest.filter(|&o| o <= self.compacted) else {
                return Ok(false);
            };
            let upto = self.compacted.min(oldest.saturating_add(PURGE_CHUNK - 1));
            let deleted = self
                .conn
                .prepare_cached("DELETE FROM log WHERE rev <= ?1")?
                .execute([upto])?;
            debug!(deleted, upto, "purged compacted log rows");
            Ok(upto < self.compacted)
        })();
        self.purge_pending = match result {
            Ok(more) => more,
            Err(e) => {
                // Try again after the next compaction (or reopen) rather than spin on an error.
                warn!(error = %e, "cannot purge compacted log rows");
                false
            }
        };
    }
}

fn store_max(atomic: &AtomicI64, value: Revision) {
    atomic.fetch_max(value, Ordering::AcqRel);
}

fn fail_all(
    replies: impl IntoIterator<Item = oneshot::Sender<Result<WriteOutput>>>,
    e: &rusqlite::Error,
) {
    for reply in replies {
        let _ = reply.send(Err(StoreError::Database(e.to_string())));
    }
}

fn load(conn: &Connection, key: &str) -> rusqlite::Result<Option<KeyValue>> {
    conn.prepare_cached("SELECT value, create_rev, mod_rev FROM objects WHERE key = ?1")?
        .query_row([key], |r| {
            Ok(KeyValue {
                key: key.to_owned(),
                value: r.get(0)?,
                create_revision: r.get(1)?,
                mod_revision: r.get(2)?,
            })
        })
        .optional()
}

/// Runs one op's writes inside a savepoint so a failure undoes only them.
fn in_savepoint(
    conn: &Connection,
    writes: impl FnOnce(&Connection) -> rusqlite::Result<()>,
) -> Result<(), OpError> {
    conn.prepare_cached("SAVEPOINT op")
        .and_then(|mut s| s.execute([]))
        .map_err(|e| op_error(conn, e))?;
    match writes(conn) {
        Ok(()) => conn
            .prepare_cached("RELEASE op")
            .and_then(|mut s| s.execute([]))
            .map(|_| ())
            .map_err(OpError::Fatal),
        Err(e) => {
            if conn.is_autocommit() {
                return Err(OpError::Fatal(e));
            }
            match conn.execute_batch("ROLLBACK TO op; RELEASE op") {
                Ok(()) => Err(OpError::Failed(e)),
                Err(undo) => {
                    error!(error = %undo, "cannot roll back to the op savepoint");
                    Err(OpError::Fatal(e))
                }
            }
        }
    }
}

/// Checks one op against the state so far (including earlier ops of this batch) and writes it
/// at revision `rev`.
fn apply(conn: &Connection, op: WriteOp, rev: Revision) -> Result<(WriteOutput, Event), OpError> {
    match op {
        WriteOp::Create { key, value } => {
            if load(conn, &key).map_err(|e| op_error(conn, e))?.is_some() {
                return Err(OpError::Rejected(StoreError::AlreadyExists(key)));
            }
            in_savepoint(conn, |c| {
                c.prepare_cached(
                    "INSERT INTO objects (key, value, create_rev, mod_rev) VALUES (?1, ?2, ?3, ?3)",
                )?
                .execute(params![key, value, rev])?;
                c.prepare_cached(INSERT_LOG)?.execute(params![
                    rev,
                    key,
                    OP_CREATE,
                    value,
                    rev,
                    None::<Vec<u8>>,
                    None::<i64>,
                    None::<i64>
                ])?;
                Ok(())
            })?;
            let kv = KeyValue {
                key,
                value,
                create_revision: rev,
                mod_revision: rev,
            };
            Ok((WriteOutput::Put(kv.clone()), Event::Put { kv, prev: None }))
        }
        WriteOp::Update {
            key,
            value,
            expected,
        } => {
            let Some(prev) = load(conn, &key).map_err(|e| op_error(conn, e))? else {
                return Err(OpError::Rejected(StoreError::NotFound(key)));
            };
            if prev.mod_revision != expected {
                return Err(OpError::Rejected(StoreError::Conflict {
                    key,
                    expected,
                    actual: prev.mod_revision,
                }));
            }
            in_savepoint(conn, |c| {
                c.prepare_cached("UPDATE objects SET value = ?2, mod_rev = ?3 WHERE key = ?1")?
                    .execute(params![key, value, rev])?;
                c.prepare_cached(INSERT_LOG)?.execute(params![
                    rev,
                    key,
                    OP_UPDATE,
                    value,
                    prev.create_revision,
                    prev.value,
                    prev.create_revision,
                    prev.mod_revision
                ])?;
                Ok(())
            })?;
            let kv = KeyValue {
                key,
                value,
                create_revision: prev.create_revision,
                mod_revision: rev,
            };
            Ok((
                WriteOutput::Put(kv.clone()),
                Event::Put {
                    kv,
                    prev: Some(prev),
                },
            ))
        }
        WriteOp::Delete { key, expected } => {
            let Some(prev) = load(conn, &key).map_err(|e| op_error(conn, e))? else {
                return Err(OpError::Rejected(StoreError::NotFound(key)));
            };
            if let Some(expected) = expected
                && prev.mod_revision != expected
            {
                return Err(OpError::Rejected(StoreError::Conflict {
                    key,
                    expected,
                    actual: prev.mod_revision,
                }));
            }
            in_savepoint(conn, |c| {
                c.prepare_cached("DELETE FROM objects WHERE key = ?1")?
                    .execute([&key])?;
                c.prepare_cached(INSERT_LOG)?.execute(params![
                    rev,
                    key,
                    OP_DELETE,
                    None::<Vec<u8>>,
                    None::<i64>,
                    prev.value,
                    prev.create_revision,
                    prev.mod_revision
                ])?;
                Ok(())
            })?;
            Ok((
                WriteOutput::Deleted(prev.clone(), rev),
                Event::Delete {
                    prev,
                    revision: rev,
                },
            ))
        }
        WriteOp::Compact { .. } => Err(OpError::Rejected(StoreError::Database(
            "compaction is not a key write".into(),
        ))),
    }
}
