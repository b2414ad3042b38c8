//! Writing the file and driving nginx: atomic replace, `nginx -t`, restore on failure, reload.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use tokio::process::Command;

use crate::config::NginxConfig;
use crate::error::Error;

/// What an apply did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// The rendered text equals the file: nothing written, nginx not touched.
    Unchanged,
    /// The file was replaced, `nginx -t` passed and nginx was reloaded.
    Reloaded,
    /// The file was already current but an earlier reload had failed; nginx was reloaded now.
    ReloadRetried,
}

/// Applies `text` to `output`. `reload_pending` says an earlier reload failed after its file
/// was written, so an unchanged file still needs one.
pub async fn apply(
    output: &Path,
    text: &str,
    nginx: &NginxConfig,
    reload_pending: bool,
) -> Result<ApplyOutcome, Error> {
    let previous = match tokio::fs::read_to_string(output).await {
        Ok(s) => Some(s),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(io_error(output, e)),
    };
    if previous.as_deref() == Some(text) {
        if reload_pending {
            reload(nginx).await?;
            return Ok(ApplyOutcome::ReloadRetried);
        }
        return Ok(ApplyOutcome::Unchanged);
    }
    write_atomic(output, text).await?;
    if let Err(test_error) = test(nginx).await {
        // nginx keeps serving its running config; put the file back so that the next reload
        // (by anyone) does not pick up the rejected text.
        let restored = match &previous {
            Some(prev) => write_atomic(output, prev).await,
            None => tokio::fs::remove_file(output)
                .await
                .map_err(|e| io_error(output, e)),
        };
        if let Err(e) = restored {
            tracing::error!(error = %e, "cannot restore the previous upstream file");
        }
        return Err(test_error);
    }
    reload(nginx).await?;
    Ok(ApplyOutcome::Reloaded)
}

/// Replaces `path` by a file holding `text` in one rename, so nginx never reads half a file.
async fn write_atomic(path: &Path, text: &str) -> Result<(), Error> {
    let file_name = path
        .file_name()
        .ok_or_else(|| Error::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(ErrorKind::InvalidInput, "not a file path"),
        })?
        .to_string_lossy();
    let tmp: PathBuf = path.with_file_name(format!(".{file_name}.berth-tmp"));
    let result = async {
        let mut file = tokio::fs::File::create(&tmp).await?;
        tokio::io::AsyncWriteExt::write_all(&mut file, text.as_bytes()).await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&tmp, path).await
    }
    .await;
    if let Err(e) = result {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(io_error(path, e));
    }
    Ok(())
}

async fn test(nginx: &NginxConfig) -> Result<(), Error> {
    let mut cmd = Command::new(&nginx.binary);
    cmd.args(&nginx.args).arg("-t");
    run(cmd, "nginx -t")
        .await
        .map_err(|output| Error::NginxTest { output })
}

async fn reload(nginx: &NginxConfig) -> Result<(), Error> {
    let cmd = match &nginx.reload_command {
        Some(argv) if !argv.is_empty() => {
            let mut cmd = Command::new(&argv[0]);
            cmd.args(&argv[1..]);
            cmd
        }
        _ => {
            let mut cmd = Command::new(&nginx.binary);
            cmd.args(&nginx.args).args(["-s", "reload"]);
            cmd
        }
    };
    run(cmd, "reload")
        .await
        .map_err(|output| Error::NginxReload { output })
}

/// Runs `cmd`; on failure returns what it said (or why it could not start).
async fn run(mut cmd: Command, what: &str) -> Result<(), String> {
    cmd.stdin(std::process::Stdio::null()).kill_on_drop(true);
    let output = cmd
        .output()
        .await
        .map_err(|e| format!("cannot run {what} ({:?}): {e}", cmd.as_std().get_program()))?;
    if output.status.success() {
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&output.stderr).trim().to_string();
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !stdout.trim().is_empty() {
        text.push('\n');
        text.push_str(stdout.trim());
    }
    Err(format!("{what} exited with {}: {text}", output.status))
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}
