//! UDP: backend choice and starting the receive loop of one socket on one worker.

mod epoll;
mod mmsg;
mod sockaddr;

use std::net::SocketAddr;
use std::rc::Rc;

use tokio::net::UdpSocket;

use crate::ctx::WorkerCtx;
use crate::{EngineError, Handler, Limits, UdpBackend};

/// Resolves `Auto` and checks a forced io_uring backend.
pub(crate) fn resolve_backend(
    wanted: UdpBackend,
    has_udp: bool,
    _limits: &Limits,
) -> Result<UdpBackend, EngineError> {
    match wanted {
        UdpBackend::Epoll => Ok(UdpBackend::Epoll),
        UdpBackend::Auto => {
            if has_udp {
                tracing::info!("io_uring UDP backend not built yet; using epoll");
            }
            Ok(UdpBackend::Epoll)
        }
        UdpBackend::IoUring => Err(EngineError::IoUringUnavailable(
            "io_uring backend not implemented yet".into(),
        )),
    }
}

/// Starts the receive loop for `sock` (bound to listener `local`) as a local task that stops on
/// shutdown.
pub(crate) fn spawn<H: Handler>(
    ctx: Rc<WorkerCtx<H>>,
    sock: Rc<UdpSocket>,
    local: SocketAddr,
    _backend: UdpBackend,
) {
    tokio::task::spawn_local(async move {
        let shutdown = ctx.shutdown.clone();
        tokio::select! {
            _ = shutdown.wait() => {}
            _ = epoll::run(&ctx, &sock, local) => {}
        }
    });
}
