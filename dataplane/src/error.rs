//! Errors returned by the engine's public API.

use std::io;
use std::net::SocketAddr;

use crate::Transport;

/// Why binding or running the engine failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A socket could not be created, configured or bound.
    #[error("cannot bind {transport} listener on {addr}: {source}")]
    Bind {
        /// The requested address.
        addr: SocketAddr,
        /// The listener's transport.
        transport: Transport,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A TLS listener was configured without a rustls `ServerConfig`.
    #[error("TLS listener on {0} has no server configuration")]
    MissingTlsConfig(SocketAddr),
    /// The io_uring backend was requested but the probe failed.
    #[error("io_uring backend unavailable: {0}")]
    IoUringUnavailable(String),
    /// A worker thread could not be started or its runtime failed.
    #[error("worker {worker}: {source}")]
    Worker {
        /// Worker index.
        worker: usize,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A TLS reload named a listener index that does not exist.
    #[error("no listener with index {0}")]
    NoListener(usize),
    /// A TLS reload named a listener that is not a TLS listener.
    #[error("listener {0} is not a TLS listener")]
    NotTls(SocketAddr),
    /// A worker thread panicked.
    #[error("worker {0} panicked")]
    WorkerPanicked(usize),
}
