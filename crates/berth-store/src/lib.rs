//! Berth's object store: the role etcd plays for Kubernetes.
//!
//! A revisioned key-value store. Every successful write gets the next value of one global,
//! monotonically increasing revision; the API server exposes it as `metadata.resourceVersion`.
//! Values are opaque bytes (the API server stores JSON without `resourceVersion`, and injects the
//! revision on read, as kine and the etcd3 storage do).
//!
//! The [`Store`] trait is what the API layer sees, so another backend (etcd) can be added without
//! touching it. [`SqliteStore`] is the embedded backend: SQLite in WAL mode, one writer thread that
//! batches concurrent writes into one transaction and one fsync (group commit), a few reader
//! connections, and a log table that keeps recent changes for watches until it is compacted.

mod sqlite;

pub use sqlite::{SqliteStore, SqliteStoreOptions};

use futures::stream::BoxStream;

/// A store revision. Revisions start at 1; 0 means "no revision".
pub type Revision = i64;

/// A key with its current value and revisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Vec<u8>,
    /// Revision of the write that created this key (this incarnation of it).
    pub create_revision: Revision,
    /// Revision of the last write to this key.
    pub mod_revision: Revision,
}

/// One change, as delivered to watchers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The key was created (`prev` is `None`) or updated (`prev` is the value before).
    Put {
        kv: KeyValue,
        prev: Option<KeyValue>,
    },
    /// The key was deleted at `revision`; `prev` is its last value.
    Delete { prev: KeyValue, revision: Revision },
}

impl Event {
    /// The revision at which this change was committed.
    pub fn revision(&self) -> Revision {
        match self {
            Event::Put { kv, .. } => kv.mod_revision,
            Event::Delete { revision, .. } => *revision,
        }
    }

    pub fn key(&self) -> &str {
        match self {
            Event::Put { kv, .. } => &kv.key,
            Event::Delete { prev, .. } => &prev.key,
        }
    }
}

/// What a watch stream yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchItem {
    Event(Event),
    /// The store has committed everything up to this revision and nothing under the watched
    /// prefix changed since the last item. Sent periodically so callers can emit bookmarks.
    Progress(Revision),
}

/// A list request: all keys under `prefix`, in key order.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    pub prefix: String,
    /// Only keys strictly greater than this (continuation of a paged list).
    pub start_after: Option<String>,
    /// At most this many items; 0 means no limit.
    pub limit: usize,
    /// Read the state as of this revision (0 = the current state). A revision older than the
    /// compacted one fails with [`StoreError::Compacted`]; a future one with
    /// [`StoreError::FutureRevision`].
    pub revision: Revision,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListResponse {
    pub items: Vec<KeyValue>,
    /// The revision this list reflects (the store's current revision when `revision` was 0).
    pub revision: Revision,
    /// True if more keys follow the last returned one.
    pub more: bool,
    /// How many keys under the prefix remain after the last returned one (when `more`).
    pub remaining: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("key {0} already exists")]
    AlreadyExists(String),
    #[error("key {0} not found")]
    NotFound(String),
    /// The key's current mod revision did not match the expected one.
    #[error("key {key} was modified (expected revision {expected}, found {actual})")]
    Conflict {
        key: String,
        expected: Revision,
        actual: Revision,
    },
    /// The requested revision has been compacted away.
    #[error("revision {requested} has been compacted (oldest available: {compacted})")]
    Compacted {
        requested: Revision,
        compacted: Revision,
    },
    #[error("revision {requested} is newer than the current revision {current}")]
    FutureRevision {
        requested: Revision,
        current: Revision,
    },
    #[error("store is closed")]
    Closed,
    #[error("database error: {0}")]
    Database(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The storage interface the API server is written against.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// The current value of a key, if any.
    async fn get(&self, key: &str) -> Result<Option<KeyValue>>;

    /// Keys under a prefix, optionally paged and at a past revision.
    async fn list(&self, req: ListRequest) -> Result<ListResponse>;

    /// Number of keys under a prefix at the current revision.
    async fn count(&self, prefix: &str) -> Result<i64>;

    /// Creates a key that must not exist. Returns the new key-value.
    async fn create(&self, key: &str, value: Vec<u8>) -> Result<KeyValue>;

    /// Replaces the value of an existing key whose mod revision must equal `expected`.
    async fn update(&self, key: &str, value: Vec<u8>, expected: Revision) -> Result<KeyValue>;

    /// Deletes a key. With `expected`, its mod revision must match. Returns the deleted value and
    /// the revision of the deletion.
    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(KeyValue, Revision)>;

    /// Changes under `prefix` committed after revision `after` (0 = only future changes), in
    /// revision order, followed by live changes. Fails with [`StoreError::Compacted`] when `after`
    /// is older than the compacted revision. The stream ends only when the store closes.
    async fn watch(&self, prefix: &str, after: Revision) -> Result<BoxStream<'static, WatchItem>>;

    /// The revision of the last committed write.
    fn current_revision(&self) -> Revision;

    /// The oldest revision watches and past-revision lists can start from.
    fn compacted_revision(&self) -> Revision;

    /// Drops history at and before `revision` (watches and lists from before it get
    /// [`StoreError::Compacted`]).
    async fn compact(&self, revision: Revision) -> Result<()>;
}
