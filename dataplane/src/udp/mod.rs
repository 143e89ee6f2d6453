//! UDP: backend choice and starting the receive loop of one socket on one worker (with the
//! sampler of its kernel receive drops).

mod bufring;
mod drops;
mod epoll;
mod mmsg;
mod sockaddr;
mod uring;

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
        UdpBackend::Auto if !has_udp => Ok(UdpBackend::Epoll),
        UdpBackend::Auto => match uring::probe() {
            Ok(()) => Ok(UdpBackend::IoUring),
            Err(why) => {
                tracing::info!(%why, "io_uring unavailable; UDP uses epoll/recvmmsg");
                Ok(UdpBackend::Epoll)
            }
        },
        UdpBackend::IoUring => match uring::probe() {
            Ok(()) => Ok(UdpBackend::IoUring),
            Err(why) => Err(EngineError::IoUringUnavailable(why)),
        },
    }
}

/// Starts the receive loop for `sock` (bound to listener `local`) as a local task that stops on
/// shutdown.
pub(crate) fn spawn<H: Handler>(
    ctx: Rc<WorkerCtx<H>>,
    sock: Rc<UdpSocket>,
    local: SocketAddr,
    backend: UdpBackend,
) {
    tokio::task::spawn_local(drops::sample(ctx.clone(), sock.clone()));
    if backend == UdpBackend::IoUring {
        // The io_uring loop handles shutdown itself so in-flight requests are drained.
        tokio::task::spawn_local(async move {
            if let Err(e) = uring::run(&ctx, &sock, local).await {
                tracing::error!(worker = ctx.index, %local, error = %e, "io_uring UDP loop failed");
            }
        });
        return;
    }
    tokio::task::spawn_local(async move {
        let shutdown = ctx.shutdown.clone();
        tokio::select! {
            _ = shutdown.wait() => {}
            _ = epoll::run(&ctx, &sock, local) => {}
        }
    });
}
