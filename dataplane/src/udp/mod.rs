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
use crate::{Action, EngineError, Handler, Limits, Peer, Transport, UdpBackend};

/// Where the handler's output for one datagram goes as a datagram. Both receive loops act on
/// this; output for a stream connection has already been handed to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Datagram {
    /// Nothing to send (dropped, empty, or sent over a stream).
    Nothing,
    /// Back to the datagram's sender, from the socket it came in on.
    ToSender,
    /// To another address (proxy mode), from the same socket.
    To(SocketAddr),
}

/// Turns the handler's verdict on a datagram into [`Datagram`], handing stream destinations
/// (`Send` over TCP/TLS, `SendConn`) to their connection. Part of [`answer`].
fn verdict<H: Handler>(ctx: &WorkerCtx<H>, action: Action, out: &[u8]) -> Datagram {
    if out.is_empty() {
        return Datagram::Nothing;
    }
    match action {
        Action::Drop => Datagram::Nothing,
        Action::Reply | Action::Close => Datagram::ToSender,
        Action::Send {
            to,
            transport: Transport::Udp,
        } => Datagram::To(to),
        Action::Send { to, transport } => {
            ctx.send_stream_to(to, transport, out);
            Datagram::Nothing
        }
        Action::SendConn(id) => {
            ctx.send_conn(id, out);
            Datagram::Nothing
        }
    }
}

/// Runs the handler on one datagram from `remote`, received on listener `local`, with its output
/// written into `out`, and says where that output goes. Both receive loops call this.
pub(crate) fn answer<H: Handler>(
    ctx: &WorkerCtx<H>,
    data: &[u8],
    remote: SocketAddr,
    local: SocketAddr,
    out: &mut Vec<u8>,
) -> Datagram {
    let peer = Peer {
        remote,
        local,
        transport: Transport::Udp,
        conn: None,
        worker: ctx.index,
        tls_identity: None,
    };
    let action = ctx.on_message(data, &peer, out);
    verdict(ctx, action, out)
}

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
