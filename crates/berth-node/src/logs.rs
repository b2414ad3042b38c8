//! Container logs in the CRI format kubelet reads (`<RFC3339Nano> stdout|stderr F|P <text>`),
//! one file per container instance (`<container>/<restartCount>.log` in the pod directory),
//! rotated at a size limit; and [`LogReader`], which serves `pods/log` from those files.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use berth_apimachinery::status::ApiError;
use bytes::Bytes;
use futures::Stream;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::watch;

/// Longest line piece written as one CRI record (containerd's 16 KiB); longer lines are split
/// into `P` (partial) records followed by an `F` (full) one.
const MAX_RECORD: usize = 16 * 1024;
const FOLLOW_POLL: Duration = Duration::from_millis(200);

/// A stream of log bytes, as `berth_apiserver::podlogs::LogStream`.
pub type LogStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// What a client asked of `pods/log` (fields of `berth_apiserver::podlogs::PodLogRequest`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogRequest {
    pub namespace: String,
    pub pod: String,
    pub pod_uid: String,
    pub container: String,
    pub follow: bool,
    pub previous: bool,
    pub timestamps: bool,
    pub tail_lines: Option<i64>,
    pub limit_bytes: Option<i64>,
    pub since: Option<jiff::Timestamp>,
}

/// Size-based rotation (kubelet's containerLogMaxSize / containerLogMaxFiles).
#[derive(Debug, Clone, Copy)]
pub struct Rotation {
    pub max_size: u64,
    pub max_files: usize,
}

/// The log file of one running container instance; shared by its stdout and stderr readers.
pub struct LogWriter {
    path: PathBuf,
    file: File,
    size: u64,
    rotation: Rotation,
}

impl LogWriter {
    pub fn create(path: PathBuf, rotation: Rotation) -> std::io::Result<LogWriter> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        let size = file.metadata()?.len();
        Ok(LogWriter {
            path,
            file,
            size,
            rotation,
        })
    }

    fn write_record(&mut self, stream: &str, partial: bool, text: &[u8]) -> std::io::Result<()> {
        let ts = jiff::Timestamp::now();
        let mut line = Vec::with_capacity(text.len() + 48);
        line.extend_from_slice(format_nanos(ts).as_bytes());
        line.push(b' ');
        line.extend_from_slice(stream.as_bytes());
        line.extend_from_slice(if partial { b" P " } else { b" F " });
        line.extend_from_slice(text);
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.size += line.len() as u64;
        if self.size >= self.rotation.max_size {
            self.rotate()?;
        }
        Ok(())
    }

    /// Renames the file to `<name>.<YYYYMMDD-HHMMSS>` (kubelet's suffix), starts a new one and
    /// deletes the oldest rotated files beyond the limit.
    fn rotate(&mut self) -> std::io::Result<()> {
        let stamp = jiff::Zoned::now()
            .with_time_zone(jiff::tz::TimeZone::UTC)
            .strftime("%Y%m%d-%H%M%S")
            .to_string();
        let mut rotated = PathBuf::from(format!("{}.{stamp}", self.path.display()));
        let mut n = 1;
        while rotated.exists() {
            rotated = PathBuf::from(format!("{}.{stamp}.{n}", self.path.display()));
            n += 1;
        }
        std::fs::rename(&self.path, &rotated)?;
        self.file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.size = 0;
        let mut old = rotated_files(&self.path);
        let keep = self.rotation.max_files.saturating_sub(1);
        while old.len() > keep {
            let oldest = old.remove(0);
            let _ = std::fs::remove_file(oldest);
        }
        Ok(())
    }
}

/// RFC 3339 with nanoseconds, as Go's `time.RFC3339Nano` in UTC.
pub fn format_nanos(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S%.fZ").to_string()
}

/// Rotated files of `current`, oldest first.
fn rotated_files(current: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (current.parent(), current.file_name()) else {
        return Vec::new();
    };
    let prefix = format!("{}.", name.to_string_lossy());
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| {
                    let mtime = e
                        .metadata()
                        .and_then(|m| m.modified())
                        .unwrap_or(std::time::UNIX_EPOCH);
                    (mtime, e.path())
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files.into_iter().map(|(_, p)| p).collect()
}

/// Copies one output stream of a process into the log, record by record, until EOF.
pub async fn pump(
    mut reader: impl AsyncRead + Unpin,
    stream: &'static str,
    writer: Arc<Mutex<LogWriter>>,
) {
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 8192];
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        let mut w = writer.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(pos) = pending.iter().position(|b| *b == b'\n') {
            let mut line: Vec<u8> = pending.drain(..=pos).collect();
            line.pop();
            write_split(&mut w, stream, &line);
        }
        while pending.len() >= MAX_RECORD {
            let piece: Vec<u8> = pending.drain(..MAX_RECORD).collect();
            if let Err(e) = w.write_record(stream, true, &piece) {
                tracing::warn!(error = %e, "cannot write container log");
            }
        }
    }
    if !pending.is_empty() {
        let mut w = writer.lock().unwrap_or_else(|p| p.into_inner());
        write_split(&mut w, stream, &pending);
    }
}

fn write_split(w: &mut LogWriter, stream: &str, line: &[u8]) {
    let mut rest = line;
    while rest.len() > MAX_RECORD {
        let (piece, tail) = rest.split_at(MAX_RECORD);
        if let Err(e) = w.write_record(stream, true, piece) {
            tracing::warn!(error = %e, "cannot write container log");
        }
        rest = tail;
    }
    if let Err(e) = w.write_record(stream, false, rest) {
        tracing::warn!(error = %e, "cannot write container log");
    }
}

/// One parsed CRI log record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    pub time: jiff::Timestamp,
    pub time_text: &'a str,
    pub stream: &'a str,
    pub partial: bool,
    pub content: &'a [u8],
}

/// Parses `<time> <stream> <P|F> <content>`.
pub fn parse_record(line: &[u8]) -> Option<Record<'_>> {
    let mut parts = line.splitn(4, |b| *b == b' ');
    let time_text = std::str::from_utf8(parts.next()?).ok()?;
    let stream = std::str::from_utf8(parts.next()?).ok()?;
    let tag = parts.next()?;
    let content = parts.next().unwrap_or_default();
    Some(Record {
        time: time_text.parse().ok()?,
        time_text,
        stream,
        partial: tag == b"P",
        content,
    })
}

/// What the node knows about a container's current instance (for `pods/log`).
#[derive(Clone)]
pub struct ContainerLogState {
    pub dir: PathBuf,
    /// Restart count of the newest instance that has a log.
    pub current: Option<u32>,
    /// True once the current instance's process has exited.
    pub exited: watch::Receiver<bool>,
    /// Why the container has no instance yet (for the "waiting to start" error).
    pub waiting_reason: String,
}

/// Log state of every container on this node, keyed by (pod uid, container).
#[derive(Clone, Default)]
pub struct LogRegistry {
    inner: Arc<Mutex<HashMap<(String, String), ContainerLogState>>>,
}

impl LogRegistry {
    pub fn set(&self, uid: &str, container: &str, state: ContainerLogState) {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((uid.to_string(), container.to_string()), state);
    }

    /// Records why a container is waiting (creating its entry if it never ran).
    pub fn set_waiting_reason(&self, uid: &str, container: &str, dir: &Path, reason: &str) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map
            .entry((uid.to_string(), container.to_string()))
            .or_insert_with(|| ContainerLogState {
                dir: dir.to_path_buf(),
                current: None,
                exited: watch::channel(true).1,
                waiting_reason: String::new(),
            });
        entry.waiting_reason = reason.to_string();
    }

    fn get(&self, uid: &str, container: &str) -> Option<ContainerLogState> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(uid.to_string(), container.to_string()))
            .cloned()
    }

    pub fn forget_pod(&self, uid: &str) {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(u, _), _| u != uid);
    }
}

/// Serves container logs (kubelet's `/containerLogs`). Cheap to clone.
#[derive(Clone)]
pub struct LogReader {
    pub(crate) pods_dir: PathBuf,
    pub(crate) registry: LogRegistry,
}

/// The pod directory name (`<namespace>_<name>_<uid>`, as kubelet's `/var/log/pods`).
pub fn pod_dir_name(namespace: &str, name: &str, uid: &str) -> String {
    format!("{namespace}_{name}_{uid}")
}

/// Instance numbers that have a log file in a container directory, ascending.
fn instances(dir: &Path) -> Vec<u32> {
    let mut n: Vec<u32> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .strip_suffix(".log")
                        .and_then(|s| s.parse().ok())
                })
                .collect()
        })
        .unwrap_or_default();
    n.sort_unstable();
    n
}

impl LogReader {
    /// Opens a container's log as the request asks.
    pub async fn open(&self, req: LogRequest) -> Result<LogStream, ApiError> {
        let state = self.registry.get(&req.pod_uid, &req.container);
        let dir = match &state {
            Some(s) => s.dir.clone(),
            None => self
                .pods_dir
                .join(pod_dir_name(&req.namespace, &req.pod, &req.pod_uid))
                .join(&req.container),
        };
        let on_disk = instances(&dir);
        let current = state
            .as_ref()
            .and_then(|s| s.current)
            .or_else(|| on_disk.last().copied());
        let (instance, exited) = if req.previous {
            let prev = current.and_then(|c| on_disk.iter().rev().find(|n| **n < c).copied());
            match prev {
                Some(p) => (p, None),
                None => {
                    return Err(ApiError::bad_request(format!(
                        "previous terminated container \"{}\" in pod \"{}\" not found",
                        req.container, req.pod
                    )));
                }
            }
        } else {
            match current {
                Some(c) => (c, state.as_ref().map(|s| s.exited.clone())),
                None => {
                    let reason = state
                        .as_ref()
                        .map(|s| s.waiting_reason.clone())
                        .filter(|r| !r.is_empty())
                        .unwrap_or_else(|| "ContainerCreating".to_string());
                    return Err(ApiError::bad_request(format!(
                        "container \"{}\" in pod \"{}\" is waiting to start: {reason}",
                        req.container, req.pod
                    )));
                }
            }
        };
        let path = dir.join(format!("{instance}.log"));
        let follow = req.follow && exited.as_ref().is_some_and(|rx| !*rx.borrow());
        let options = OutputOptions::from(&req);
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(16);
        tokio::task::spawn_blocking(move || {
            let mut out = Output {
                options,
                sent: 0,
                tx,
            };
            if let Err(e) = serve(&path, &mut out, if follow { exited } else { None }) {
                let _ = out.tx.blocking_send(Err(e));
            }
        });
        Ok(Box::pin(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })))
    }
}

#[derive(Debug, Clone)]
struct OutputOptions {
    timestamps: bool,
    tail_lines: Option<usize>,
    limit_bytes: Option<u64>,
    since: Option<jiff::Timestamp>,
}

impl From<&LogRequest> for OutputOptions {
    fn from(r: &LogRequest) -> Self {
        OutputOptions {
            timestamps: r.timestamps,
            tail_lines: r.tail_lines.map(|n| usize::try_from(n).unwrap_or(0)),
            limit_bytes: r.limit_bytes.and_then(|n| u64::try_from(n).ok()),
            since: r.since,
        }
    }
}

struct Output {
    options: OutputOptions,
    sent: u64,
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
}

/// Error used internally to stop once the client went away or the byte limit is reached.
fn stop() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::BrokenPipe, "log stream done")
}

impl Output {
    /// Formats a record for the client; `Err` when the stream is done.
    fn emit(&mut self, record: &Record<'_>) -> std::io::Result<()> {
        if let Some(since) = self.options.since
            && record.time < since
        {
            return Ok(());
        }
        let mut bytes = Vec::with_capacity(record.content.len() + 40);
        if self.options.timestamps {
            bytes.extend_from_slice(record.time_text.as_bytes());
            bytes.push(b' ');
        }
        bytes.extend_from_slice(record.content);
        if !record.partial {
            bytes.push(b'\n');
        }
        if let Some(limit) = self.options.limit_bytes {
            let room = limit.saturating_sub(self.sent);
            if room == 0 {
                return Err(stop());
            }
            bytes.truncate(usize::try_from(room).unwrap_or(usize::MAX));
        }
        self.sent += bytes.len() as u64;
        self.tx
            .blocking_send(Ok(Bytes::from(bytes)))
            .map_err(|_| stop())?;
        if self
            .options
            .limit_bytes
            .is_some_and(|limit| self.sent >= limit)
        {
            return Err(stop());
        }
        Ok(())
    }
}

/// Writes the log at `path` (and, for the whole history, its rotated predecessors) to `out`;
/// with `follow`, keeps reading new records, across rotations, until the instance exits.
fn serve(
    path: &Path,
    out: &mut Output,
    follow: Option<watch::Receiver<bool>>,
) -> std::io::Result<()> {
    let result = serve_inner(path, out, follow);
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

fn serve_inner(
    path: &Path,
    out: &mut Output,
    follow: Option<watch::Receiver<bool>>,
) -> std::io::Result<()> {
    let mut files = rotated_files(path);
    files.push(path.to_path_buf());
    if let Some(n) = out.options.tail_lines {
        // Keep the last n full lines (a line is its P records plus the closing F record).
        let mut lines: std::collections::VecDeque<Vec<Vec<u8>>> = Default::default();
        let mut current: Vec<Vec<u8>> = Vec::new();
        for f in &files {
            let Ok(file) = File::open(f) else { continue };
            for raw in BufReader::new(file).split(b'\n') {
                let raw = raw?;
                let Some(rec) = parse_record(&raw) else {
                    continue;
                };
                let partial = rec.partial;
                current.push(raw);
                if !partial {
                    lines.push_back(std::mem::take(&mut current));
                    if lines.len() > n {
                        lines.pop_front();
                    }
                }
            }
        }
        for raw in lines.iter().flatten() {
            if let Some(rec) = parse_record(raw) {
                out.emit(&rec)?;
            }
        }
    } else {
        for f in &files[..files.len() - 1] {
            let Ok(file) = File::open(f) else { continue };
            for raw in BufReader::new(file).split(b'\n') {
                if let Some(rec) = parse_record(&raw?) {
                    out.emit(&rec)?;
                }
            }
        }
    }
    // The current file: from its start unless tail already covered it.
    let mut file = File::open(path)?;
    if out.options.tail_lines.is_some() {
        file.seek(SeekFrom::End(0))?;
        // Records written after the tail was computed still follow below.
    }
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n > 0 {
            pending.extend_from_slice(&buf[..n]);
            while let Some(pos) = pending.iter().position(|b| *b == b'\n') {
                let raw: Vec<u8> = pending.drain(..=pos).collect();
                if let Some(rec) = parse_record(&raw[..raw.len() - 1]) {
                    out.emit(&rec)?;
                }
            }
            continue;
        }
        let Some(exited) = &follow else {
            return Ok(());
        };
        // At the end of what is written: switch files after a rotation, stop when the
        // instance has exited and everything is read, otherwise wait for more.
        let rotated = match (std::fs::metadata(path), file.metadata()) {
            (Ok(on_disk), Ok(open)) => on_disk.ino() != open.ino(),
            _ => false,
        };
        if rotated {
            file = File::open(path)?;
            continue;
        }
        if *exited.borrow() {
            // One more read catches what was written just before the exit.
            let n = file.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            pending.extend_from_slice(&buf[..n]);
            continue;
        }
        if out.tx.is_closed() {
            return Ok(());
        }
        std::thread::sleep(FOLLOW_POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cri_records() {
        let rec = parse_record(b"2024-01-02T03:04:05.123456789Z stdout F hello world").unwrap();
        assert_eq!(rec.stream, "stdout");
        assert!(!rec.partial);
        assert_eq!(rec.content, b"hello world");
        assert_eq!(rec.time_text, "2024-01-02T03:04:05.123456789Z");
        let rec = parse_record(b"2024-01-02T03:04:05Z stderr P ").unwrap();
        assert!(rec.partial);
        assert_eq!(rec.content, b"");
        assert!(parse_record(b"garbage").is_none());
    }

    #[tokio::test]
    async fn serves_since_timestamps_and_partial_lines() {
        use futures::StreamExt;
        let dir = tempfile::tempdir().unwrap();
        let container_dir = dir.path().join("default_p_u1/c");
        std::fs::create_dir_all(&container_dir).unwrap();
        std::fs::write(
            container_dir.join("0.log"),
            "2024-01-01T00:00:01Z stdout F first\n\
             2024-01-01T00:00:02.5Z stderr P sec\n\
             2024-01-01T00:00:02.6Z stderr F ond\n\
             2024-01-01T00:00:03Z stdout F third\n",
        )
        .unwrap();
        let reader = LogReader {
            pods_dir: dir.path().to_path_buf(),
            registry: LogRegistry::default(),
        };
        let read = |req: LogRequest| {
            let reader = reader.clone();
            async move {
                let mut s = reader.open(req).await.unwrap();
                let mut out = Vec::new();
                while let Some(c) = s.next().await {
                    out.extend_from_slice(&c.unwrap());
                }
                String::from_utf8(out).unwrap()
            }
        };
        let base = LogRequest {
            namespace: "default".into(),
            pod: "p".into(),
            pod_uid: "u1".into(),
            container: "c".into(),
            ..Default::default()
        };
        assert_eq!(read(base.clone()).await, "first\nsecond\nthird\n");
        let since = LogRequest {
            since: Some("2024-01-01T00:00:02Z".parse().unwrap()),
            ..base.clone()
        };
        assert_eq!(read(since).await, "second\nthird\n");
        let stamped = LogRequest {
            timestamps: true,
            tail_lines: Some(1),
            ..base.clone()
        };
        assert_eq!(read(stamped).await, "2024-01-01T00:00:03Z third\n");
        let tail2 = LogRequest {
            tail_lines: Some(2),
            ..base.clone()
        };
        assert_eq!(read(tail2).await, "second\nthird\n");
    }

    #[test]
    fn rotates_and_keeps_max_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        let mut w = LogWriter::create(
            path.clone(),
            Rotation {
                max_size: 200,
                max_files: 3,
            },
        )
        .unwrap();
        for i in 0..40 {
            w.write_record("stdout", false, format!("line {i}").as_bytes())
                .unwrap();
        }
        let rotated = rotated_files(&path);
        assert_eq!(rotated.len(), 2, "{rotated:?}");
        assert!(path.exists());
    }
}
