//! Starts pod processes from one long-lived thread. `PR_SET_PDEATHSIG` fires when the thread
//! that forked the child exits, not the process, so forking from short-lived tokio worker
//! threads would kill containers at random; this thread lives as long as the agent.
//!
//! In the child, before `exec`: its own process group, SIGKILL on the agent's death, the pod's
//! cgroup (by writing `0` to `cgroup.procs`), the pod's network namespace (`setns`) and a
//! private mount namespace with the container's volume bind mounts.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, mpsc};

use tokio::process::{Child, Command};
use tokio::sync::oneshot;

/// A bind mount of a volume directory onto a container path.
#[derive(Debug, Clone)]
pub struct BindMount {
    pub source: PathBuf,
    pub target: PathBuf,
    pub read_only: bool,
}

/// What to start.
#[derive(Debug, Clone, Default)]
pub struct SpawnRequest {
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: Option<PathBuf>,
    pub netns: Option<PathBuf>,
    pub cgroup_procs: Vec<PathBuf>,
    pub mounts: Vec<BindMount>,
    /// Capture stdout and stderr (containers, exec probes and hooks); otherwise discarded.
    pub capture_output: bool,
    /// Host name in a private UTS namespace (the pod's name, as in a container).
    pub hostname: Option<String>,
    /// `runAsUser` / `runAsGroup`: switched to last, after the namespace work that needs root.
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// A pipe for stdin (`pods/exec -i`); otherwise stdin is `/dev/null`.
    pub stdin_piped: bool,
    /// The terminal (slave side) for stdin, stdout and stderr (`pods/exec -t`): the child
    /// starts a session with it as its controlling terminal.
    pub tty: Option<Arc<OwnedFd>>,
}

type Reply = oneshot::Sender<std::io::Result<Child>>;

/// Handle to the spawner thread.
#[derive(Clone)]
pub struct Spawner {
    tx: mpsc::Sender<(SpawnRequest, Reply)>,
}

impl Spawner {
    /// Starts the thread; spawned children are registered with the current tokio runtime.
    pub fn start() -> std::io::Result<Spawner> {
        let (tx, rx) = mpsc::channel::<(SpawnRequest, Reply)>();
        let handle = tokio::runtime::Handle::current();
        std::thread::Builder::new()
            .name("berth-spawner".into())
            .spawn(move || {
                let _guard = handle.enter();
                while let Ok((req, reply)) = rx.recv() {
                    let _ = reply.send(spawn(req));
                }
            })?;
        Ok(Spawner { tx })
    }

    pub async fn spawn(&self, req: SpawnRequest) -> std::io::Result<Child> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send((req, reply))
            .map_err(|_| std::io::Error::other("spawner thread is gone"))?;
        rx.await
            .map_err(|_| std::io::Error::other("spawner thread is gone"))?
    }
}

fn cstring(p: &std::path::Path) -> std::io::Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "path contains NUL"))
}

fn spawn(req: SpawnRequest) -> std::io::Result<Child> {
    let Some((program, args)) = req.argv.split_first() else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "empty command",
        ));
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_clear()
        .envs(req.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .kill_on_drop(false);
    let stdio = |fd: &Arc<OwnedFd>| fd.try_clone().map(Stdio::from);
    if let Some(tty) = &req.tty {
        // setsid (below) makes the child a group leader: no process_group here, it would
        // make setsid fail.
        cmd.stdin(stdio(tty)?)
            .stdout(stdio(tty)?)
            .stderr(stdio(tty)?);
    } else {
        cmd.process_group(0);
        cmd.stdin(if req.stdin_piped {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        if req.capture_output {
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        } else {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
        }
    }
    let controlling_tty = req.tty.is_some();
    if let Some(cwd) = &req.cwd {
        cmd.current_dir(cwd);
    }
    // Everything the child needs is opened/allocated here: between fork and exec only
    // async-signal-safe calls are allowed.
    let cgroup_files: Vec<OwnedFd> = req
        .cgroup_procs
        .iter()
        .filter_map(|p| {
            std::fs::OpenOptions::new()
                .write(true)
                .open(p)
                .map(OwnedFd::from)
                .ok()
        })
        .collect();
    let netns: Option<OwnedFd> = match &req.netns {
        Some(p) => Some(std::fs::File::open(p)?.into()),
        None => None,
    };
    let mounts: Vec<(CString, CString, bool)> = req
        .mounts
        .iter()
        .map(|m| Ok((cstring(&m.source)?, cstring(&m.target)?, m.read_only)))
        .collect::<std::io::Result<_>>()?;
    let hostname: Option<Vec<u8>> = req.hostname.as_ref().map(|h| h.as_bytes().to_vec());
    let (uid, gid) = (req.uid, req.gid);
    let cgroup_fds: Vec<i32> = cgroup_files.iter().map(|f| f.as_raw_fd()).collect();
    let netns_fd = netns.as_ref().map(|f| f.as_raw_fd());
    let root = c"/";
    // SAFETY: the closure only makes raw syscalls on memory prepared before the fork.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if controlling_tty && (libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) != 0) {
                return Err(std::io::Error::last_os_error());
            }
            for fd in &cgroup_fds {
                // Best effort: a pod without a cgroup still runs.
                let _ = libc::write(*fd, b"0".as_ptr().cast(), 1);
            }
            if let Some(fd) = netns_fd
                && libc::setns(fd, libc::CLONE_NEWNET) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            if !mounts.is_empty() {
                if libc::unshare(libc::CLONE_NEWNS) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // Our mounts must not propagate back to the host.
                if libc::mount(
                    std::ptr::null(),
                    root.as_ptr(),
                    std::ptr::null(),
                    libc::MS_REC | libc::MS_SLAVE,
                    std::ptr::null(),
                ) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                for (source, target, read_only) in &mounts {
                    if libc::mount(
                        source.as_ptr(),
                        target.as_ptr(),
                        std::ptr::null(),
                        libc::MS_BIND | libc::MS_REC,
                        std::ptr::null(),
                    ) != 0
                    {
                        return Err(std::io::Error::last_os_error());
                    }
                    if *read_only
                        && libc::mount(
                            std::ptr::null(),
                            target.as_ptr(),
                            std::ptr::null(),
                            libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_REC,
                            std::ptr::null(),
                        ) != 0
                    {
                        return Err(std::io::Error::last_os_error());
                    }
                }
            }
            if let Some(name) = &hostname
                && (libc::unshare(libc::CLONE_NEWUTS) != 0
                    || libc::sethostname(name.as_ptr().cast(), name.len()) != 0)
            {
                return Err(std::io::Error::last_os_error());
            }
            if let Some(gid) = gid
                && (libc::setgroups(0, std::ptr::null()) != 0 || libc::setgid(gid) != 0)
            {
                return Err(std::io::Error::last_os_error());
            }
            if let Some(uid) = uid
                && libc::setuid(uid) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn();
    drop(cgroup_files);
    drop(netns);
    child
}

/// Sends `signal` to a process group.
pub fn signal_group(pgid: u32, signal: i32) {
    if let Ok(pgid) = i32::try_from(pgid)
        && pgid > 0
    {
        // SAFETY: kill(2) with a negative pid signals the group; no memory is touched.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}
