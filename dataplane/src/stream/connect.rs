//! Outbound stream connections for `Action::Send` over TCP or TLS when no connection to the
//! destination exists on this worker: the connection is registered at once (so later sends to
//! the same address reuse it, queueing while it connects), then connected (and for TLS,
//! handshaken with the engine's current client configuration, the server name being the
//! handler's [`Handler::tls_server_name`] for the destination, else its IP address), then
//! served like an inbound connection: what the peer sends back goes to the handler. A failed
//! connect drops what was queued, counted as `SendFailed`.

use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use tokio::net::TcpStream;

use super::accept::Registered;
use super::conn::serve;
use super::outbox::Outbox;
use crate::ctx::WorkerCtx;
use crate::{DropReason, Handler, Peer, Transport};

/// Registers an outbound connection to `to` with `first` queued, and starts connecting it.
/// Returns false (nothing queued) when the transport needs a TLS client configuration the
/// engine does not have, or the worker's connection limit is reached.
pub(crate) fn open_outbound<H: Handler>(
    ctx: &Rc<WorkerCtx<H>>,
    to: SocketAddr,
    transport: Transport,
    first: &[u8],
) -> bool {
    let tls = match transport {
        Transport::Udp => return false,
        Transport::Tcp => None,
        Transport::Tls => match ctx.tls_client.load_full() {
            Some(cfg) => Some((cfg, server_name(ctx, to))),
            None => return false,
        },
    };
    if ctx.registry.borrow().open() >= ctx.limits.max_connections_per_worker {
        return false;
    }
    let outbox = Rc::new(Outbox::new(ctx.limits.max_outbox_bytes));
    let id = ctx
        .registry
        .borrow_mut()
        .insert(to, transport, outbox.clone());
    ctx.stats().conn_opened();
    let guard = Registered::new(ctx.clone(), id);
    // A fresh outbox takes any first message.
    let _ = outbox.push(first.to_vec());
    tokio::task::spawn_local(connect(guard, to, transport, tls, outbox));
    true
}

/// The name to present and verify for a new TLS connection to `to`: the handler's answer (a
/// panic there counts as `HandlerPanic` and falls back), else the IP address.
fn server_name<H: Handler>(ctx: &WorkerCtx<H>, to: SocketAddr) -> ServerName<'static> {
    let asked = catch_unwind(AssertUnwindSafe(|| ctx.handler.tls_server_name(to)));
    let name = asked.unwrap_or_else(|_| {
        ctx.stats().add_dropped(DropReason::HandlerPanic, 1);
        None
    });
    name.unwrap_or_else(|| ServerName::IpAddress(to.ip().into()))
}

async fn connect<H: Handler>(
    guard: Registered<H>,
    to: SocketAddr,
    transport: Transport,
    tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
    outbox: Rc<Outbox>,
) {
    let ctx = guard.ctx().clone();
    let timeout = ctx.limits.header_timeout;
    let fail = |outbox: &Outbox| {
        let lost = outbox.close() as u64;
        ctx.stats().add_dropped(DropReason::SendFailed, lost.max(1));
    };
    let mut tcp = match tokio::time::timeout(timeout, TcpStream::connect(to)).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(e)) => {
            tracing::debug!(%to, error = %e, "outbound connect failed");
            return fail(&outbox);
        }
        Err(_) => return fail(&outbox),
    };
    let _ = tcp.set_nodelay(true);
    let Ok(local) = tcp.local_addr() else {
        return fail(&outbox);
    };
    let peer = Peer {
        remote: to,
        local,
        transport,
        conn: Some(guard.id()),
        worker: ctx.index,
        tls_identity: None,
    };
    match tls {
        None => serve(&ctx, &mut tcp, &peer, &outbox).await,
        Some((cfg, name)) => {
            let connector = tokio_rustls::TlsConnector::from(cfg);
            // Boxed: the handshake's state should not size the connection's task.
            let handshake = Box::pin(connector.connect(name.clone(), tcp));
            // Bound by `let`, not matched around `serve`: a scrutinee lives to the end of the
            // match, so its copy of the stream would stay in the task.
            let mut stream = match tokio::time::timeout(timeout, handshake).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    tracing::debug!(%to, ?name, error = %e, "outbound TLS handshake failed");
                    ctx.stats().add_dropped(DropReason::TlsHandshake, 1);
                    return fail(&outbox);
                }
                Err(_) => return fail(&outbox),
            };
            serve(&ctx, &mut stream, &peer, &outbox).await
        }
    }
    drop(guard);
}
