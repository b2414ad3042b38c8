//! The embedded SQLite backend.
//!
//! Layout of the database (one file plus its WAL):
//!
//! ```sql
//! meta    (name TEXT PRIMARY KEY, value INTEGER)      -- schema_version, current_rev, compact_rev
//! objects (key TEXT PRIMARY KEY, value BLOB, create_rev INTEGER, mod_rev INTEGER)
//! log     (rev INTEGER PRIMARY KEY, key TEXT, op INTEGER, value BLOB, create_rev INTEGER,
//!          prev_value BLOB, prev_create_rev INTEGER, prev_mod_rev INTEGER)
//! ```
//!
//! `objects` is the current state; `log` has one row per write (create, update, delete) with the
//! value before it, which serves watches (replay after a revision) and lists at a past revision
//! (undo the rows newer than it). `meta.current_rev` is bumped in the same transaction as the
//! writes, so a reader's snapshot always pairs the objects with the revision they reflect.
//!
//! Writes go through one writer thread ([`writer`]) that group-commits whatever is queued; reads
//! use a small pool of read-only connections on the blocking thread pool ([`query`]); watches
//! follow an in-memory broadcast of committed batches and fall back to the log table when they lag
//! ([`watch`]).

mod query;
mod watch;
mod writer;

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use futures::stream::BoxStream;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{broadcast, oneshot};
use tracing::{debug, error, info};

use crate::{KeyValue, ListRequest, ListResponse, Result, Revision, Store, StoreError, WatchItem};
use query::{KeyRange, ReadPool};
use watch::Watcher;
use writer::{Msg, Published, WriteOp, WriteOutput, WriteRequest, Writer};

/// How [`SqliteStore::open`] sets up the store. Build it with [`SqliteStoreOptions::new`] or
/// `SqliteStoreOptions { path, ..Default::default() }`.
#[derive(Debug, Clone)]
pub struct SqliteStoreOptions {
    /// The database file, e.g. `DIR/state.db`. Its directory is created if missing. A
    /// `state.db.lock` file next to it keeps a second process from opening the same store (two
    /// writers would hand out the same revisions).
    pub path: PathBuf,
    /// Every interval, compact to the revision seen at the previous tick (what kube-apiserver
    /// does with etcd). `None` disables automatic compaction.
    pub auto_compact_interval: Option<Duration>,
    /// How often an idle watch stream gets a [`WatchItem::Progress`].
    pub progress_interval: Duration,
    /// At most this many writes share one transaction (one fsync).
    pub max_batch: usize,
    /// Read-only connections for get/list/count and watch catch-up.
    pub read_connections: usize,
    /// Committed batches kept in memory for watchers; a watcher further behind than this catches
    /// up from the log table.
    pub watch_buffer: usize,
    /// How long a connection waits for a lock held by another connection before failing.
    pub busy_timeout: Duration,
}

impl SqliteStoreOptions {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SqliteStoreOptions {
            path: path.into(),
            ..Default::default()
        }
    }
}

impl Default for SqliteStoreOptions {
    /// Defaults for everything but `path`, which is left empty and must be set.
    fn default() -> Self {
        SqliteStoreOptions {
            path: PathBuf::new(),
            auto_compact_interval: Some(Duration::from_secs(5 * 60)),
            progress_interval: Duration::from_secs(5),
            max_batch: 1024,
            read_connections: 4,
            watch_buffer: 1024,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// State shared by the store handle, the writer thread, the read pool and watchers.
pub(crate) struct Shared {
    /// Last committed revision (set by the writer after the commit, before publishing).
    current: AtomicI64,
    compacted: AtomicI64,
    commits: AtomicU64,
    closed: AtomicBool,
}

/// The SQLite-backed [`Store`]. See the module docs for the design.
pub struct SqliteStore {
    path: PathBuf,
    shared: Arc<Shared>,
    pool: Arc<ReadPool>,
    requests: mpsc::Sender<Msg>,
    writer: Mutex<Option<JoinHandle<()>>>,
    /// Taken on close so that watch streams end once the writer's sender is gone too.
    events: Mutex<Option<broadcast::Sender<Arc<Published>>>>,
    progress_interval: Duration,
    /// Held (locked) for the life of the store; closing the file releases the lock.
    _lock: File,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `opts.path` and starts its writer thread.
    ///
    /// Synchronous: it does a little file I/O (schema check, reading the revisions), which is
    /// fine at startup, also from inside a tokio runtime.
    pub fn open(opts: SqliteStoreOptions) -> Result<Arc<SqliteStore>> {
        if opts.path.as_os_str().is_empty() {
            return Err(StoreError::Database("no database path given".into()));
        }
        if let Some(dir) = opts.path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Database(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let lock = lock_file(&opts.path)?;

        let conn = open_writer_connection(&opts.path, opts.busy_timeout)?;
        let state = writer::init(&conn)?;
        let shared = Arc::new(Shared {
            current: AtomicI64::new(state.current),
            compacted: AtomicI64::new(state.compacted),
            commits: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        });
        // Readers are opened after the writer put the database in WAL mode.
        let pool = Arc::new(ReadPool::open(
            &opts.path,
            opts.read_connections.max(1),
            opts.busy_timeout,
            Arc::clone(&shared),
        )?);
        let (events, _) = broadcast::channel(opts.watch_buffer.max(1));
        let (requests, rx) = mpsc::channel();
        let writer = Writer::new(
            conn,
            rx,
            Arc::clone(&shared),
            events.clone(),
            opts.max_batch.max(1),
            opts.auto_compact_interval,
            state,
        );
        let handle = std::thread::Builder::new()
            .name("berth-store-writer".into())
            .spawn(move || writer.run())
            .map_err(|e| StoreError::Database(format!("cannot start the writer thread: {e}")))?;
        info!(
            path = %opts.path.display(),
            revision = state.current,
            compacted = state.compacted,
            "opened store"
        );
        Ok(Arc::new(SqliteStore {
            path: opts.path,
            shared,
            pool,
            requests,
            writer: Mutex::new(Some(handle)),
            events: Mutex::new(Some(events)),
            progress_interval: opts.progress_interval,
            _lock: lock,
        }))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many write transactions (group commits, each one fsync) the writer has committed
    /// since open. With concurrent writers this grows much slower than the number of writes.
    pub fn commit_count(&self) -> u64 {
        self.shared.commits.load(Ordering::Relaxed)
    }

    /// Stops the store: writes queued before this call are committed, later calls fail with
    /// [`StoreError::Closed`], and watch streams end. Blocks until the writer thread has finished
    /// its last batch (at most one transaction). Dropping the store does the same.
    pub fn close(&self) {
        if self.shared.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        // If the writer is already gone the send fails, which is fine.
        let _ = self.requests.send(Msg::Shutdown);
        let handle = self
            .writer
            .lock()
            .expect("writer handle lock poisoned")
            .take();
        if let Some(handle) = handle
            && handle.join().is_err()
        {
            error!("store writer thread panicked");
        }
        self.events
            .lock()
            .expect("event sender lock poisoned")
            .take();
        self.pool.close();
        debug!(path = %self.path.display(), "closed store");
    }

    async fn submit(&self, op: WriteOp) -> Result<WriteOutput> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        let (reply, rx) = oneshot::channel();
        self.requests
            .send(Msg::Write(WriteRequest { op, reply }))
            .map_err(|_| StoreError::Closed)?;
        // A dropped reply means the writer stopped before reaching this request.
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}

fn unexpected(output: WriteOutput) -> StoreError {
    StoreError::Database(format!("unexpected writer reply {output:?}"))
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        let key = key.to_owned();
        self.pool.run(move |conn| query::get(conn, &key)).await
    }

    async fn list(&self, req: ListRequest) -> Result<ListResponse> {
        self.pool.run(move |conn| query::list(conn, &req)).await
    }

    async fn count(&self, prefix: &str) -> Result<i64> {
        let range = KeyRange::prefix(prefix);
        self.pool.run(move |conn| query::count(conn, &range)).await
    }

    async fn create(&self, key: &str, value: Vec<u8>) -> Result<KeyValue> {
        let op = WriteOp::Create {
            key: key.to_owned(),
            value,
        };
        match self.submit(op).await? {
            WriteOutput::Put(kv) => Ok(kv),
            other => Err(unexpected(other)),
        }
    }

    async fn update(&self, key: &str, value: Vec<u8>, expected: Revision) -> Result<KeyValue> {
        let op = WriteOp::Update {
            key: key.to_owned(),
            value,
            expected,
        };
        match self.submit(op).await? {
            WriteOutput::Put(kv) => Ok(kv),
            other => Err(unexpected(other)),
        }
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(KeyValue, Revision)> {
        let op = WriteOp::Delete {
            key: key.to_owned(),
            expected,
        };
        match self.submit(op).await? {
            WriteOutput::Deleted(kv, rev) => Ok((kv, rev)),
            other => Err(unexpected(other)),
        }
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<BoxStream<'static, WatchItem>> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        // Subscribe before reading the backlog so nothing committed in between is missed.
        let rx = self
            .events
            .lock()
            .expect("event sender lock poisoned")
            .as_ref()
            .map(broadcast::Sender::subscribe)
            .ok_or(StoreError::Closed)?;
        let watcher = Watcher::start(
            prefix.to_owned(),
            after,
            Arc::clone(&self.pool),
            rx,
            &self.shared,
            self.progress_interval,
        )
        .await?;
        Ok(watcher.into_stream())
    }

    fn current_revision(&self) -> Revision {
        self.shared.current.load(Ordering::Acquire)
    }

    fn compacted_revision(&self) -> Revision {
        self.shared.compacted.load(Ordering::Acquire)
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        match self.submit(WriteOp::Compact { revision }).await? {
            WriteOutput::Compacted => Ok(()),
            other => Err(unexpected(other)),
        }
    }
}

/// Maps SQLite errors into [`StoreError::Database`] without making rusqlite part of the public
/// error type.
pub(crate) trait DbResult<T> {
    fn db(self) -> Result<T>;
}

impl<T> DbResult<T> for rusqlite::Result<T> {
    fn db(self) -> Result<T> {
        self.map_err(|e| StoreError::Database(e.to_string()))
    }
}

fn lock_file(db: &Path) -> Result<File> {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    let path = PathBuf::from(name);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| StoreError::Database(format!("cannot open {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(StoreError::Database(format!(
            "{} is in use by another store (lock {} is held)",
            db.display(),
            path.display()
        ))),
        Err(TryLockError::Error(e)) => Err(StoreError::Database(format!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
}

fn open_writer_connection(path: &Path, busy_timeout: Duration) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .db()?;
    conn.busy_timeout(busy_timeout).db()?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .db()?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Database(format!(
            "cannot switch {} to WAL mode (journal mode is {mode})",
            path.display()
        )));
    }
    // FULL: the WAL is fsynced at every commit, so an acknowledged write survives power loss.
    conn.pragma_update(None, "synchronous", "FULL").db()?;
    // Savepoint journals stay in memory; they only hold one op's undo.
    conn.pragma_update(None, "temp_store", "MEMORY").db()?;
    // Keep the WAL file from staying huge after a burst.
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)
        .db()?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}
