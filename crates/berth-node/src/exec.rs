//! `pods/exec` on this node (the kubelet's `/exec` through the runtime's ExecSync/Exec):
//! a process started in a running container's context (its network namespace, cgroup, volume
//! mounts, environment, working directory and user), with pipes, or with a terminal when asked.

use std::collections::HashMap;
use std::future::Future;
use std::os::fd::{AsRawFd, OwnedFd};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use berth_apimachinery::status::ApiError;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

use crate::pod::ExitInfo;
use crate::spawner::{self, SpawnRequest, Spawner};

/// What to run, in which container (already checked by the API server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    pub namespace: String,
    pub pod: String,
    pub pod_uid: String,
    pub container: String,
    pub command: Vec<String>,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

/// A started process. Dropping `exit` before it resolves kills the process's group.
pub struct ExecSession {
    pub stdin: Option<Pin<Box<dyn AsyncWrite + Send>>>,
    pub stdout: Option<Pin<Box<dyn AsyncRead + Send>>>,
    pub stderr: Option<Pin<Box<dyn AsyncRead + Send>>>,
    /// Sets the terminal's width and height (tty only).
    pub resize: Option<Box<dyn Fn(u16, u16) + Send + Sync>>,
    /// The exit code, 128 + the signal for a killed process (as container runtimes say).
    pub exit: Pin<Box<dyn Future<Output = Result<i32, String>> + Send>>,
}

/// How a running container's processes are started (recorded when it starts).
#[derive(Clone)]
pub(crate) struct ExecTarget {
    pub context: SpawnRequest,
    pub exited: watch::Receiver<Option<ExitInfo>>,
}

/// The running containers' exec contexts by (pod uid, container).
#[derive(Clone, Default)]
pub(crate) struct ExecRegistry {
    inner: Arc<Mutex<HashMap<(String, String), ExecTarget>>>,
}

impl ExecRegistry {
    pub fn set(&self, uid: &str, container: &str, target: ExecTarget) {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((uid.to_string(), container.to_string()), target);
    }

    pub fn remove_pod(&self, uid: &str) {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(u, _), _| u != uid);
    }

    fn get(&self, uid: &str, container: &str) -> Option<ExecTarget> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(uid.to_string(), container.to_string()))
            .cloned()
    }
}

/// Starts exec processes in this node's containers. Cheap to clone.
#[derive(Clone)]
pub struct PodExec {
    pub(crate) registry: ExecRegistry,
    pub(crate) spawner: Spawner,
}

/// Kills the process group unless the process was waited for.
struct KillUnlessReaped {
    pgid: u32,
    reaped: bool,
}

impl Drop for KillUnlessReaped {
    fn drop(&mut self) {
        if !self.reaped {
            spawner::signal_group(self.pgid, libc::SIGKILL);
        }
    }
}

/// A terminal: the master side for the client, the slave side for the process.
fn open_terminal() -> Result<(OwnedFd, OwnedFd), ApiError> {
    let pty = nix::pty::openpty(None, None)
        .map_err(|e| ApiError::internal(format!("cannot allocate a terminal: {e}")))?;
    Ok((pty.master, pty.slave))
}

fn set_window_size(master: &OwnedFd, width: u16, height: u16) {
    let size = libc::winsize {
        ws_row: height,
        ws_col: width,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize from the pointer, which outlives the call.
    unsafe {
        libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &size);
    }
}

impl PodExec {
    /// Starts the request's command. 400 when the container does not run now or the
    /// command cannot be started (as the kubelet's `container not found` and the runtime's
    /// exec errors).
    pub async fn exec(&self, req: ExecRequest) -> Result<ExecSession, ApiError> {
        let target = self
            .registry
            .get(&req.pod_uid, &req.container)
            .filter(|t| t.exited.borrow().is_none())
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "container not found ({:?}): it is not running in pod {}/{}",
                    req.container, req.namespace, req.pod
                ))
            })?;
        let mut spawn = target.context;
        spawn.argv = req.command.clone();
        let mut terminal = None;
        if req.tty {
            let (master, slave) = open_terminal()?;
            spawn.tty = Some(Arc::new(slave));
            spawn.capture_output = false;
            terminal = Some(Arc::new(master));
        } else {
            spawn.stdin_piped = req.stdin;
            spawn.capture_output = true;
        }
        let mut child = self.spawner.spawn(spawn).await.map_err(|e| {
            ApiError::bad_request(format!(
                "failed to exec in container {:?}: exec: {:?}: {e}",
                req.container, req.command[0]
            ))
        })?;
        let pgid = child.id().unwrap_or(0);
        let mut session = ExecSession {
            stdin: None,
            stdout: None,
            stderr: None,
            resize: None,
            exit: Box::pin(async { Ok(0) }),
        };
        if let Some(master) = terminal {
            let file = |fd: &OwnedFd| {
                fd.try_clone()
                    .map(|fd| tokio::fs::File::from_std(std::fs::File::from(fd)))
                    .map_err(|e| ApiError::internal(format!("cannot use the terminal: {e}")))
            };
            if req.stdin {
                session.stdin = Some(Box::pin(file(&master)?));
            }
            session.stdout = Some(Box::pin(file(&master)?));
            session.resize = Some(Box::new(move |w, h| set_window_size(&master, w, h)));
        } else {
            session.stdin = child
                .stdin
                .take()
                .map(|s| Box::pin(s) as Pin<Box<dyn AsyncWrite + Send>>);
            let (out, err) = (child.stdout.take(), child.stderr.take());
            // Unwanted output is still read (and dropped) so the process never blocks on it.
            session.stdout = out.map(|s| Box::pin(s) as Pin<Box<dyn AsyncRead + Send>>);
            session.stderr = err.map(|s| Box::pin(s) as Pin<Box<dyn AsyncRead + Send>>);
            if !req.stdout {
                session.stdout = session.stdout.take().map(discarding);
            }
            if !req.stderr {
                session.stderr = session.stderr.take().map(discarding);
            }
        }
        session.exit = Box::pin(async move {
            let mut guard = KillUnlessReaped {
                pgid,
                reaped: false,
            };
            let status = child.wait().await;
            guard.reaped = true;
            use std::os::unix::process::ExitStatusExt;
            match status {
                Ok(s) => Ok(s
                    .code()
                    .or_else(|| s.signal().map(|sig| 128 + sig))
                    .unwrap_or(-1)),
                Err(e) => Err(e.to_string()),
            }
        });
        Ok(session)
    }
}

/// Drains a stream the client did not ask for, in the background; nothing reaches the client.
fn discarding(mut reader: Pin<Box<dyn AsyncRead + Send>>) -> Pin<Box<dyn AsyncRead + Send>> {
    tokio::spawn(async move {
        let _ = tokio::io::copy(&mut reader, &mut tokio::io::sink()).await;
    });
    Box::pin(tokio::io::empty())
}
