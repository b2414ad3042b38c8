//! Behaviour of the SQLite store through the public `Store` API.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use berth_store::{
    Event, KeyValue, ListRequest, SqliteStore, SqliteStoreOptions, Store, StoreError, WatchItem,
};
use futures::StreamExt;
use futures::stream::BoxStream;
use tempfile::TempDir;

/// Generous bound for waits on other tasks; never an assertion about speed.
const PATIENCE: Duration = Duration::from_secs(60);

/// On the target directory's disk (not a tmpfs) so fsync and group commit behave as in real use.
fn tempdir() -> TempDir {
    tempfile::Builder::new()
        .prefix("berth-store-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir")
}

fn options(dir: &Path) -> SqliteStoreOptions {
    SqliteStoreOptions {
        auto_compact_interval: None,
        ..SqliteStoreOptions::new(dir.join("state.db"))
    }
}

fn open(dir: &Path) -> Arc<SqliteStore> {
    SqliteStore::open(options(dir)).expect("open store")
}

fn req(prefix: &str) -> ListRequest {
    ListRequest {
        prefix: prefix.into(),
        ..Default::default()
    }
}

fn keys(items: &[KeyValue]) -> Vec<&str> {
    items.iter().map(|kv| kv.key.as_str()).collect()
}

async fn next_event(stream: &mut BoxStream<'static, WatchItem>) -> Event {
    loop {
        match tokio::time::timeout(PATIENCE, stream.next()).await {
            Ok(Some(WatchItem::Event(event))) => return event,
            Ok(Some(WatchItem::Progress(_))) => continue,
            Ok(None) => panic!("watch stream ended"),
            Err(_) => panic!("no watch event within {PATIENCE:?}"),
        }
    }
}

#[tokio::test]
async fn create_get_update_delete_and_their_errors() {
    let dir = tempdir();
    let store = open(dir.path());
    assert_eq!(store.current_revision(), 0);

    let kv = store.create("/r/a", b"one".to_vec()).await.unwrap();
    assert_eq!(kv.key, "/r/a");
    assert_eq!(kv.value, b"one");
    assert_eq!((kv.create_revision, kv.mod_revision), (1, 1));
    assert_eq!(store.current_revision(), 1);
    assert_eq!(store.get("/r/a").await.unwrap(), Some(kv.clone()));
    assert_eq!(store.get("/r/missing").await.unwrap(), None);

    match store.create("/r/a", b"again".to_vec()).await {
        Err(StoreError::AlreadyExists(key)) => assert_eq!(key, "/r/a"),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }

    let updated = store.update("/r/a", b"two".to_vec(), 1).await.unwrap();
    assert_eq!((updated.create_revision, updated.mod_revision), (1, 2));
    assert_eq!(updated.value, b"two");
    match store.update("/r/a", b"stale".to_vec(), 1).await {
        Err(StoreError::Conflict {
            key,
            expected,
            actual,
        }) => assert_eq!((key.as_str(), expected, actual), ("/r/a", 1, 2)),
        other => panic!("expected Conflict, got {other:?}"),
    }
    match store.update("/r/missing", b"x".to_vec(), 1).await {
        Err(StoreError::NotFound(key)) => assert_eq!(key, "/r/missing"),
        other => panic!("expected NotFound, got {other:?}"),
    }

    match store.delete("/r/a", Some(1)).await {
        Err(StoreError::Conflict { actual: 2, .. }) => {}
        other => panic!("expected Conflict, got {other:?}"),
    }
    match store.delete("/r/missing", None).await {
        Err(StoreError::NotFound(_)) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
    let (prev, rev) = store.delete("/r/a", Some(2)).await.unwrap();
    assert_eq!(prev, updated);
    assert_eq!(rev, 3);
    assert_eq!(store.get("/r/a").await.unwrap(), None);
    // Failed writes do not use up revisions.
    assert_eq!(store.current_revision(), 3);

    // A deleted key can be created again, with a new create revision.
    let again = store.create("/r/a", b"three".to_vec()).await.unwrap();
    assert_eq!((again.create_revision, again.mod_revision), (4, 4));
    let (_, rev) = store.delete("/r/a", None).await.unwrap();
    assert_eq!(rev, 5);
    assert_eq!(store.count("/r/").await.unwrap(), 0);
}

#[tokio::test]
async fn revisions_increase_and_everything_survives_reopen() {
    let dir = tempdir();
    let mut expected = BTreeMap::new();
    let mut last = 0;
    {
        let store = open(dir.path());
        for i in 0..20 {
            let kv = store
                .create(&format!("/k/{i:02}"), format!("v{i}").into_bytes())
                .await
                .unwrap();
            assert!(kv.mod_revision > last);
            last = kv.mod_revision;
            expected.insert(kv.key.clone(), kv);
        }
        for i in (0..20).step_by(3) {
            let key = format!("/k/{i:02}");
            let old = &expected[&key];
            let kv = store
                .update(&key, b"updated".to_vec(), old.mod_revision)
                .await
                .unwrap();
            assert!(kv.mod_revision > last);
            last = kv.mod_revision;
            expected.insert(key, kv);
        }
        let (_, rev) = store.delete("/k/01", None).await.unwrap();
        assert!(rev > last);
        last = rev;
        expected.remove("/k/01");
        store.compact(5).await.unwrap();
        assert_eq!(store.current_revision(), last);
        // Dropping the last handle closes the store.
    }

    let store = open(dir.path());
    assert_eq!(store.current_revision(), last);
    assert_eq!(store.compacted_revision(), 5);
    let listed = store.list(req("/k/")).await.unwrap();
    assert_eq!(listed.revision, last);
    assert_eq!(
        listed.items,
        expected.values().cloned().collect::<Vec<_>>(),
        "objects after reopen"
    );
    // The log survived too: a watch from the compacted revision replays the rest of history.
    let mut watch = store.watch("/k/", 5).await.unwrap();
    for rev in 6..=last {
        assert_eq!(next_event(&mut watch).await.revision(), rev);
    }
    // A past-revision list works from the log after reopen as well.
    let at_ten = store
        .list(ListRequest {
            revision: 10,
            ..req("/k/")
        })
        .await
        .unwrap();
    assert_eq!(at_ten.items.len(), 10);

    // Revisions are never reused after a restart.
    let kv = store.create("/k/new", b"n".to_vec()).await.unwrap();
    assert_eq!(kv.mod_revision, last + 1);
}

#[tokio::test]
async fn explicit_close_then_reopen_and_second_open_is_refused() {
    let dir = tempdir();
    let store = open(dir.path());
    store.create("/x", b"1".to_vec()).await.unwrap();
    match SqliteStore::open(options(dir.path())) {
        Err(StoreError::Database(_)) => {}
        Err(other) => panic!("expected a lock error, got {other:?}"),
        Ok(_) => panic!("a second store on the same file must be refused"),
    }
    let mut watch = store.watch("/", 0).await.unwrap();
    store.close();
    assert!(matches!(
        store.create("/y", b"2".to_vec()).await,
        Err(StoreError::Closed)
    ));
    assert!(matches!(store.get("/x").await, Err(StoreError::Closed)));
    // Watch streams end when the store closes.
    loop {
        match tokio::time::timeout(PATIENCE, watch.next()).await {
            Ok(None) => break,
            Ok(Some(WatchItem::Progress(_))) => continue,
            other => panic!("expected the stream to end, got {other:?}"),
        }
    }
    drop(store);

    let store = open(dir.path());
    assert_eq!(store.get("/x").await.unwrap().unwrap().value, b"1");
    assert_eq!(store.current_revision(), 1);
}

#[tokio::test]
async fn paging_with_start_after_limit_more_and_remaining() {
    let dir = tempdir();
    let store = open(dir.path());
    for i in 0..10 {
        store
            .create(&format!("/p/{i}"), vec![i as u8])
            .await
            .unwrap();
    }
    store.create("/q/0", vec![]).await.unwrap();

    let page = store
        .list(ListRequest {
            limit: 4,
            ..req("/p/")
        })
        .await
        .unwrap();
    assert_eq!(keys(&page.items), ["/p/0", "/p/1", "/p/2", "/p/3"]);
    assert!(page.more);
    assert_eq!(page.remaining, 6);
    assert_eq!(page.revision, 11);

    let page = store
        .list(ListRequest {
            limit: 4,
            start_after: Some("/p/3".into()),
            ..req("/p/")
        })
        .await
        .unwrap();
    assert_eq!(keys(&page.items), ["/p/4", "/p/5", "/p/6", "/p/7"]);
    assert!(page.more);
    assert_eq!(page.remaining, 2);

    let page = store
        .list(ListRequest {
            limit: 4,
            start_after: Some("/p/7".into()),
            ..req("/p/")
        })
        .await
        .unwrap();
    assert_eq!(keys(&page.items), ["/p/8", "/p/9"]);
    assert!(!page.more);
    assert_eq!(page.remaining, 0);

    // A page that exactly exhausts the prefix says there is no more.
    let page = store
        .list(ListRequest {
            limit: 2,
            start_after: Some("/p/7".into()),
            ..req("/p/")
        })
        .await
        .unwrap();
    assert_eq!(keys(&page.items), ["/p/8", "/p/9"]);
    assert!(!page.more);
    assert_eq!(page.remaining, 0);

    let all = store.list(req("/p/")).await.unwrap();
    assert_eq!(all.items.len(), 10);
    assert!(!all.more);
    assert_eq!(store.count("/p/").await.unwrap(), 10);
    assert_eq!(store.count("/").await.unwrap(), 11);
    assert_eq!(store.count("").await.unwrap(), 11);
}

#[tokio::test]
async fn prefixes_are_isolated_and_wildcards_are_literal() {
    let dir = tempdir();
    let store = open(dir.path());
    for key in [
        "/a/b", "/a/b/1", "/a/b/2", "/a/bc/1", "/a/b0", "/a/c/1", "/w/%/1", "/w/_/1", "/w/x/1",
        "/u/é/1", "/u/é", "/u/ê/1",
    ] {
        store.create(key, key.as_bytes().to_vec()).await.unwrap();
    }
    let list = store.list(req("/a/b/")).await.unwrap();
    assert_eq!(keys(&list.items), ["/a/b/1", "/a/b/2"]);
    let list = store.list(req("/a/bc/")).await.unwrap();
    assert_eq!(keys(&list.items), ["/a/bc/1"]);
    assert_eq!(store.count("/a/b/").await.unwrap(), 2);
    let list = store.list(req("/w/%/")).await.unwrap();
    assert_eq!(keys(&list.items), ["/w/%/1"]);
    let list = store.list(req("/w/_/")).await.unwrap();
    assert_eq!(keys(&list.items), ["/w/_/1"]);
    let list = store.list(req("/u/é/")).await.unwrap();
    assert_eq!(keys(&list.items), ["/u/é/1"]);

    let mut watch = store.watch("/a/b/", 0).await.unwrap();
    store.create("/a/bc/2", vec![]).await.unwrap();
    store.create("/a/b0/1", vec![]).await.unwrap();
    store.create("/a/b/3", vec![]).await.unwrap();
    assert_eq!(next_event(&mut watch).await.key(), "/a/b/3");
}

#[tokio::test]
async fn list_at_a_past_revision_after_deletes_and_recreates() {
    let dir = tempdir();
    let store = open(dir.path());
    // Record the full expected state after every revision, then compare every one.
    let mut model: BTreeMap<String, KeyValue> = BTreeMap::new();
    let mut history: Vec<(i64, BTreeMap<String, KeyValue>)> = Vec::new();

    for i in 0..6 {
        let kv = store
            .create(&format!("/s/{i}"), format!("v{i}").into_bytes())
            .await
            .unwrap();
        model.insert(kv.key.clone(), kv.clone());
        history.push((kv.mod_revision, model.clone()));
    }
    store.create("/other/x", vec![]).await.unwrap(); // outside the prefix
    history.push((store.current_revision(), model.clone()));
    for (key, value) in [("/s/1", "u1"), ("/s/3", "u3"), ("/s/1", "u1b")] {
        let old = model[key].mod_revision;
        let kv = store
            .update(key, value.as_bytes().to_vec(), old)
            .await
            .unwrap();
        model.insert(key.into(), kv.clone());
        history.push((kv.mod_revision, model.clone()));
    }
    for key in ["/s/2", "/s/4"] {
        let (_, rev) = store.delete(key, None).await.unwrap();
        model.remove(key);
        history.push((rev, model.clone()));
    }
    let kv = store.create("/s/2", b"reborn".to_vec()).await.unwrap();
    model.insert(kv.key.clone(), kv.clone());
    history.push((kv.mod_revision, model.clone()));
    let kv = store
        .update("/s/2", b"reborn2".to_vec(), kv.mod_revision)
        .await
        .unwrap();
    model.insert(kv.key.clone(), kv.clone());
    history.push((kv.mod_revision, model.clone()));
    let (_, rev) = store.delete("/s/0", None).await.unwrap();
    model.remove("/s/0");
    history.push((rev, model.clone()));

    for (rev, state) in &history {
        let expected: Vec<KeyValue> = state.values().cloned().collect();
        let listed = store
            .list(ListRequest {
                revision: *rev,
                ..req("/s/")
            })
            .await
            .unwrap();
        assert_eq!(listed.revision, *rev);
        assert_eq!(listed.items, expected, "state at revision {rev}");
        assert_eq!(listed.remaining, 0);

        // Paged, two at a time, at the same revision (as the API server continues a list).
        let mut paged = Vec::new();
        let mut start_after = None;
        loop {
            let page = store
                .list(ListRequest {
                    revision: *rev,
                    limit: 2,
                    start_after: start_after.clone(),
                    ..req("/s/")
                })
                .await
                .unwrap();
            assert_eq!(page.revision, *rev);
            paged.extend(page.items.iter().cloned());
            assert_eq!(
                page.remaining as usize,
                expected.len() - paged.len(),
                "remaining at revision {rev}"
            );
            if !page.more {
                break;
            }
            start_after = page.items.last().map(|kv| kv.key.clone());
        }
        assert_eq!(paged, expected, "paged state at revision {rev}");
    }

    // The state at revision 1 still has the first value of /s/0 even though it is deleted now.
    let at_one = store
        .list(ListRequest {
            revision: 1,
            ..req("/s/")
        })
        .await
        .unwrap();
    assert_eq!(at_one.items.len(), 1);
    assert_eq!(at_one.items[0].value, b"v0");
}

#[tokio::test]
async fn compacted_and_future_revisions_are_refused() {
    let dir = tempdir();
    let store = open(dir.path());
    for i in 0..10 {
        store.create(&format!("/c/{i}"), vec![]).await.unwrap();
    }
    match store
        .list(ListRequest {
            revision: 11,
            ..req("/c/")
        })
        .await
    {
        Err(StoreError::FutureRevision {
            requested: 11,
            current: 10,
        }) => {}
        other => panic!("expected FutureRevision, got {other:?}"),
    }

    store.compact(6).await.unwrap();
    assert_eq!(store.compacted_revision(), 6);
    match store
        .list(ListRequest {
            revision: 5,
            ..req("/c/")
        })
        .await
    {
        Err(StoreError::Compacted {
            requested: 5,
            compacted: 6,
        }) => {}
        other => panic!("expected Compacted, got {other:?}"),
    }
    // The compacted revision itself is still readable.
    let at_six = store
        .list(ListRequest {
            revision: 6,
            ..req("/c/")
        })
        .await
        .unwrap();
    assert_eq!(at_six.items.len(), 6);

    match store.watch("/c/", 5).await {
        Err(StoreError::Compacted {
            requested: 5,
            compacted: 6,
        }) => {}
        Err(other) => panic!("expected Compacted, got {other:?}"),
        Ok(_) => panic!("expected Compacted, got a stream"),
    }
    let mut watch = store.watch("/c/", 6).await.unwrap();
    assert_eq!(next_event(&mut watch).await.revision(), 7);

    // Compaction never moves backwards and is clamped to the current revision.
    store.compact(3).await.unwrap();
    assert_eq!(store.compacted_revision(), 6);
    store.compact(1000).await.unwrap();
    assert_eq!(store.compacted_revision(), 10);
    let now = store
        .list(ListRequest {
            revision: 10,
            ..req("/c/")
        })
        .await
        .unwrap();
    assert_eq!(now.items.len(), 10);
    // New writes still get fresh revisions after compaction.
    let kv = store.create("/c/new", vec![]).await.unwrap();
    assert_eq!(kv.mod_revision, 11);
}

#[tokio::test]
async fn watch_events_carry_previous_values() {
    let dir = tempdir();
    let store = open(dir.path());
    // Something before, so the replay below starts from a real revision (0 means "from now").
    store.create("/before", vec![]).await.unwrap();
    let mut watch = store.watch("/e/", 0).await.unwrap();
    let created = store.create("/e/1", b"a".to_vec()).await.unwrap();
    let updated = store
        .update("/e/1", b"b".to_vec(), created.mod_revision)
        .await
        .unwrap();
    let (_, rev) = store.delete("/e/1", None).await.unwrap();

    let expected = [
        Event::Put {
            kv: created.clone(),
            prev: None,
        },
        Event::Put {
            kv: updated.clone(),
            prev: Some(created.clone()),
        },
        Event::Delete {
            prev: updated.clone(),
            revision: rev,
        },
    ];
    for event in &expected {
        assert_eq!(&next_event(&mut watch).await, event);
    }
    // The same events replayed from the log.
    let mut replay = store.watch("/e/", created.mod_revision - 1).await.unwrap();
    for event in &expected {
        assert_eq!(&next_event(&mut replay).await, event);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_replays_then_continues_live_without_gaps_or_duplicates() {
    let dir = tempdir();
    let store = open(dir.path());
    for i in 0..50 {
        store.create(&format!("/w/pre{i}"), vec![]).await.unwrap();
    }
    let start = 20;
    let mut watch = store.watch("/w/", start).await.unwrap();

    // Writers keep going while the watcher switches from the log to the live feed.
    let writers: Vec<_> = (0..8)
        .map(|t| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for i in 0..50 {
                    let key = format!("/w/t{t}/{i}");
                    let kv = store.create(&key, vec![1]).await.unwrap();
                    store.update(&key, vec![2], kv.mod_revision).await.unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let last = store.current_revision();
    assert_eq!(last, 50 + 8 * 50 * 2);

    // Every write is under the prefix, so the revisions must be exactly start+1..=last.
    for rev in start + 1..=last {
        let event = next_event(&mut watch).await;
        assert_eq!(event.revision(), rev, "gap or duplicate");
    }
}

#[tokio::test]
async fn watch_from_zero_sees_only_new_events() {
    let dir = tempdir();
    let store = open(dir.path());
    store.create("/n/old", vec![]).await.unwrap();
    let mut watch = store.watch("/n/", 0).await.unwrap();
    let kv = store.create("/n/new", vec![]).await.unwrap();
    let event = next_event(&mut watch).await;
    assert_eq!(event.key(), "/n/new");
    assert_eq!(event.revision(), kv.mod_revision);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_watcher_catches_up_from_the_log() {
    let dir = tempdir();
    let store = SqliteStore::open(SqliteStoreOptions {
        // A tiny live buffer so the watcher below is sure to lag.
        watch_buffer: 2,
        ..options(dir.path())
    })
    .unwrap();
    let mut watch = store.watch("/l/", 0).await.unwrap();
    let mut other = store.watch("/elsewhere/", 0).await.unwrap();
    // Each sequential write is its own batch, so this overruns the buffer many times.
    for i in 0..300 {
        store.create(&format!("/l/{i:03}"), vec![]).await.unwrap();
        if i % 7 == 0 {
            store
                .create(&format!("/elsewhere/{i}"), vec![])
                .await
                .unwrap();
        }
    }
    let mut seen = Vec::new();
    while seen.len() < 300 {
        seen.push(next_event(&mut watch).await);
    }
    let keys: Vec<String> = seen.iter().map(|e| e.key().to_owned()).collect();
    let expected: Vec<String> = (0..300).map(|i| format!("/l/{i:03}")).collect();
    assert_eq!(keys, expected);
    assert!(seen.windows(2).all(|w| w[0].revision() < w[1].revision()));
    // And it stays live after catching up.
    store.create("/l/after", vec![]).await.unwrap();
    assert_eq!(next_event(&mut watch).await.key(), "/l/after");

    let mut others = HashSet::new();
    while others.len() < 43 {
        others.insert(next_event(&mut other).await.key().to_owned());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_watcher_whose_history_was_compacted_ends() {
    let dir = tempdir();
    let store = SqliteStore::open(SqliteStoreOptions {
        watch_buffer: 1,
        ..options(dir.path())
    })
    .unwrap();
    let mut watch = store.watch("/z/", 0).await.unwrap();
    for i in 0..20 {
        store.create(&format!("/z/{i}"), vec![]).await.unwrap();
    }
    store.compact(store.current_revision()).await.unwrap();
    // The watcher lags, cannot catch up from compacted history, and its stream ends (the API
    // layer then tells the client to re-list).
    let mut events = 0;
    loop {
        match tokio::time::timeout(PATIENCE, watch.next()).await {
            Ok(None) => break,
            Ok(Some(WatchItem::Event(_))) => events += 1,
            Ok(Some(WatchItem::Progress(_))) => {}
            Err(_) => panic!("the stream should have ended"),
        }
    }
    // Only the most recent batch could still be in the live buffer.
    assert!(events <= 1, "got {events} events");
}

#[tokio::test]
async fn idle_watches_get_progress() {
    let dir = tempdir();
    let store = SqliteStore::open(SqliteStoreOptions {
        progress_interval: Duration::from_millis(20),
        ..options(dir.path())
    })
    .unwrap();
    store.create("/i/1", vec![]).await.unwrap();
    store.create("/other/1", vec![]).await.unwrap();
    let mut watch = store.watch("/i/", 0).await.unwrap();
    match tokio::time::timeout(PATIENCE, watch.next()).await {
        Ok(Some(WatchItem::Progress(rev))) => assert_eq!(rev, 2),
        other => panic!("expected progress, got {other:?}"),
    }
    // Writes outside the prefix move the progress revision along.
    store.create("/other/2", vec![]).await.unwrap();
    loop {
        match tokio::time::timeout(PATIENCE, watch.next()).await {
            Ok(Some(WatchItem::Progress(3))) => break,
            Ok(Some(WatchItem::Progress(2))) => continue,
            other => panic!("expected progress, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_are_group_committed() {
    let dir = tempdir();
    let store = open(dir.path());
    let writers = 64;
    let per_writer = 2000 / writers + 1;
    let total = writers * per_writer;
    let barrier = Arc::new(tokio::sync::Barrier::new(writers));
    let before = store.commit_count();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let store = Arc::clone(&store);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                let mut revs = Vec::new();
                for i in 0..per_writer {
                    let kv = store
                        .create(&format!("/g/{w:02}/{i:03}"), vec![0; 64])
                        .await
                        .unwrap();
                    revs.push(kv.mod_revision);
                }
                revs
            })
        })
        .collect();
    let mut revs = Vec::new();
    for task in tasks {
        revs.extend(task.await.unwrap());
    }
    let commits = store.commit_count() - before;
    assert_eq!(revs.len(), total);
    revs.sort_unstable();
    revs.dedup();
    assert_eq!(
        revs,
        (1..=total as i64).collect::<Vec<_>>(),
        "revisions unique and dense"
    );
    assert_eq!(store.count("/g/").await.unwrap(), total as i64);
    eprintln!("{total} concurrent creates took {commits} commits");
    assert!(
        commits < total as u64 / 4,
        "{commits} commits for {total} writes: no group commit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_inside_a_batch_do_not_fail_the_others() {
    let dir = tempdir();
    let store = open(dir.path());
    let base = store.create("/b/contended", vec![0]).await.unwrap();

    // Many racing creates of one key and racing updates from one base revision: exactly one of
    // each wins, whatever batches they land in, and every other request gets its own error.
    let mut tasks = Vec::new();
    for i in 0..32 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let create = store.create("/b/same", vec![i]).await;
            let update = store
                .update("/b/contended", vec![i], base.mod_revision)
                .await;
            let own = store.create(&format!("/b/own/{i}"), vec![i]).await;
            (create.is_ok(), update, own.is_ok())
        }));
    }
    let (mut creates, mut updates, mut conflicts) = (0, 0, 0);
    for task in tasks {
        let (create, update, own) = task.await.unwrap();
        creates += create as usize;
        match update {
            Ok(_) => updates += 1,
            Err(StoreError::Conflict { .. }) => conflicts += 1,
            Err(e) => panic!("unexpected update error {e}"),
        }
        assert!(own, "independent create failed");
    }
    assert_eq!(creates, 1);
    assert_eq!((updates, conflicts), (1, 31));
    assert_eq!(store.count("/b/own/").await.unwrap(), 32);
}

#[tokio::test]
async fn auto_compaction_follows_the_previous_tick() {
    let dir = tempdir();
    let store = SqliteStore::open(SqliteStoreOptions {
        auto_compact_interval: Some(Duration::from_millis(20)),
        ..SqliteStoreOptions::new(dir.path().join("state.db"))
    })
    .unwrap();
    for i in 0..5 {
        store.create(&format!("/ac/{i}"), vec![]).await.unwrap();
    }
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while store.compacted_revision() < 5 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "auto compaction never happened"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(store.compacted_revision(), 5);
    assert!(matches!(
        store.watch("/ac/", 4).await,
        Err(StoreError::Compacted { .. })
    ));
}

#[tokio::test]
async fn store_is_usable_from_a_current_thread_runtime_and_options_default() {
    let options = SqliteStoreOptions::default();
    assert_eq!(
        options.auto_compact_interval,
        Some(Duration::from_secs(300))
    );
    assert_eq!(options.progress_interval, Duration::from_secs(5));
    assert_eq!(options.max_batch, 1024);
    assert!(matches!(
        SqliteStore::open(options),
        Err(StoreError::Database(_))
    ));
    let dir = tempdir();
    let store = SqliteStore::open(SqliteStoreOptions::new(
        dir.path().join("nested/dir/state.db"),
    ))
    .unwrap();
    store.create("/x", vec![]).await.unwrap();
    assert_eq!(store.list(req("")).await.unwrap().items.len(), 1);
}

#[tokio::test]
async fn compaction_deletes_old_log_rows_but_keeps_current_state() {
    let dir = tempdir();
    let store = open(dir.path());
    for i in 0..30 {
        store.create(&format!("/pc/{i:02}"), vec![i]).await.unwrap();
    }
    store.update("/pc/00", vec![99], 1).await.unwrap();
    store.compact(20).await.unwrap();

    // The writer deletes compacted rows between batches; wait until it has.
    let db = rusqlite::Connection::open(dir.path().join("state.db")).unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (oldest, rows): (Option<i64>, i64) = db
            .query_row("SELECT MIN(rev), COUNT(*) FROM log", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        if oldest == Some(21) {
            assert_eq!(rows, 11);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "log not purged");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Objects written before the compacted revision are all still there, as are lists at and
    // after it.
    let list = store.list(req("/pc/")).await.unwrap();
    assert_eq!(list.items.len(), 30);
    assert_eq!(list.items[0].value, vec![99]);
    let at_twenty = store
        .list(ListRequest {
            revision: 20,
            ..req("/pc/")
        })
        .await
        .unwrap();
    assert_eq!(at_twenty.items.len(), 20);
    assert_eq!(at_twenty.items[0].value, vec![0]);
}
