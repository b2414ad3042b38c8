//! Errors of the service proxy.

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An `ip` command (address management on `lo`) failed.
    #[error("ip {args}: {message}")]
    Ip { args: String, message: String },
    /// The output of `ip -j addr show` was not what it should be.
    #[error("cannot read the addresses of lo: {0}")]
    AddressList(String),
    /// A listener could not be opened (port taken, address missing).
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
