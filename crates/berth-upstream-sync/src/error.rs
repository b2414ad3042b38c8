//! Errors of the upstream sync.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid service {value:?}: {reason}")]
    InvalidService { value: String, reason: String },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `nginx -t` rejected the new file; the previous file was put back.
    #[error("nginx rejected the new upstreams (previous file restored): {output}")]
    NginxTest { output: String },
    #[error("nginx reload failed: {output}")]
    NginxReload { output: String },
}
