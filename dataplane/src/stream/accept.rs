//! Accept loop of one stream listener on one worker, and the per-connection task wrapper
//! (connection limit, PROXY protocol trust and header, registry membership, TLS handshake with
//! timeout, and the handler's identity for a verified client certificate).

use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use rustls::server::Acceptor;
use rustls::{HandshakeKind, ProtocolVersion, ServerConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;
use tokio_rustls::LazyConfigAcceptor;

use super::conn::serve;
use super::outbox::Outbox;
use super::proxy_header::{read_proxy_header, HeaderError};
use crate::ctx::WorkerCtx;
use crate::handle::TlsSlot;
use crate::handshake_turns::TurnTaking;
use crate::{ConnId, DropReason, Handler, Peer, ProxyProtocol, Transport};

/// Accepts until shutdown; each connection becomes a local task.
pub(crate) async fn accept_loop<H: Handler>(
    ctx: Rc<WorkerCtx<H>>,
    listener: TcpListener,
    transport: Transport,
    tls: Option<TlsSlot>,
    proxy: Option<Arc<ProxyProtocol>>,
) {
    let shutdown = ctx.shutdown.clone();
    let mut stop = pin!(shutdown.wait());
    loop {
        let accepted = tokio::select! {
            biased;
            _ = &mut stop => return,
            r = listener.accept() => r,
        };
        let (tcp, remote) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Typically EMFILE/ENFILE: back off briefly instead of spinning.
                tracing::warn!(worker = ctx.index, error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if ctx.registry.borrow().open() >= ctx.limits.max_connections_per_worker {
            ctx.stats().add_dropped(DropReason::ConnectionLimit, 1);
            drop(tcp);
            continue;
        }
        if let Some(p) = &proxy {
            if !p.trusts(remote.ip()) {
                tracing::debug!(%remote, "PROXY protocol listener: untrusted peer");
                ctx.stats().add_dropped(DropReason::ProxyUntrusted, 1);
                drop(tcp);
                continue;
            }
        }
        let _ = tcp.set_nodelay(true);
        let local = match tcp.local_addr() {
            Ok(a) => a,
            Err(_) => continue,
        };
        tokio::task::spawn_local(connection(
            ctx.clone(),
            tcp,
            remote,
            local,
            transport,
            // The configuration current now: a reload affects connections accepted after it.
            tls.as_ref().map(|slot| slot.load_full()),
            proxy.is_some(),
        ));
    }
}

/// Removes the connection from the registry and the open gauge however the task ends.
pub(crate) struct Registered<H> {
    ctx: Rc<WorkerCtx<H>>,
    id: ConnId,
}

impl<H> Registered<H> {
    pub(crate) fn new(ctx: Rc<WorkerCtx<H>>, id: ConnId) -> Self {
        Registered { ctx, id }
    }

    pub(crate) fn ctx(&self) -> &Rc<WorkerCtx<H>> {
        &self.ctx
    }

    pub(crate) fn id(&self) -> ConnId {
        self.id
    }
}

impl<H> Drop for Registered<H> {
    fn drop(&mut self) {
        self.ctx.registry.borrow_mut().remove(self.id);
        self.ctx.stats().conn_closed();
    }
}

async fn connection<H: Handler>(
    ctx: Rc<WorkerCtx<H>>,
    mut tcp: TcpStream,
    mut remote: SocketAddr,
    local: SocketAddr,
    transport: Transport,
    tls: Option<Arc<ServerConfig>>,
    proxy_protocol: bool,
) {
    if proxy_protocol {
        let header = tokio::time::timeout(ctx.limits.header_timeout, read_proxy_header(&mut tcp));
        // No message is in flight yet: shutdown closes the connection at once.
        let header = tokio::select! {
            biased;
            _ = ctx.shutdown.wait() => return,
            h = header => h,
        };
        match header {
            Ok(Ok(source)) => remote = source.unwrap_or(remote),
            Ok(Err(e)) => {
                tracing::debug!(%remote, error = %e, "PROXY protocol header rejected");
                if !matches!(e, HeaderError::Closed | HeaderError::Io(_)) {
                    ctx.stats().add_dropped(DropReason::ProxyHeader, 1);
                }
                return;
            }
            Err(_) => {
                ctx.stats().add_dropped(DropReason::HeaderTimeout, 1);
                return;
            }
        }
    }
    let outbox = Rc::new(Outbox::new(ctx.limits.max_outbox_bytes));
    let id = ctx
        .registry
        .borrow_mut()
        .insert(remote, transport, outbox.clone());
    ctx.stats().conn_opened();
    let _registered = Registered {
        ctx: ctx.clone(),
        id,
    };
    let mut peer = Peer {
        remote,
        local,
        transport,
        conn: Some(id),
        worker: ctx.index,
        tls_identity: None,
    };
    match tls {
        None => serve(&ctx, tcp, peer, &outbox).await,
        Some(config) => {
            let handshake = handshake(&ctx, tcp, config);
            match tokio::time::timeout(ctx.limits.header_timeout, handshake).await {
                Ok(Ok(stream)) => {
                    peer.tls_identity = client_identity(&ctx, &stream);
                    serve(&ctx, stream, peer, &outbox).await
                }
                Ok(Err(e)) => {
                    tracing::debug!(%remote, error = %e, "TLS handshake failed");
                    ctx.stats().add_dropped(DropReason::TlsHandshake, 1);
                }
                Err(_) => ctx.stats().add_dropped(DropReason::HeaderTimeout, 1),
            }
        }
    }
}

/// The server side of a TLS handshake. Reading the ClientHello costs little; its processing
/// (key exchange, ticket or signature) waits for the worker's next handshake turn
/// (`handshake_turns`), so that established connections are served in between. What the
/// client sends next takes turns too unless it is a resumed TLS 1.3 handshake's Finished (a
/// MAC check): after a full handshake it may carry a client certificate to verify (listeners
/// with `client_ca`), with TLS 1.2 the client key exchange, after a HelloRetryRequest a second
/// ClientHello.
async fn handshake<H>(
    ctx: &WorkerCtx<H>,
    tcp: TcpStream,
    config: Arc<ServerConfig>,
) -> std::io::Result<TlsStream<TurnTaking>> {
    let start = LazyConfigAcceptor::new(Acceptor::default(), TurnTaking::new(tcp)).await?;
    let turn = ctx.handshake_turns.turn().await;
    // The ClientHello is processed here, synchronously; the rest of the handshake is I/O and
    // the client's second flight.
    let mut cheap_rest = false;
    let mut rest = start.into_stream_with(config, |conn| {
        cheap_rest = conn.protocol_version() == Some(ProtocolVersion::TLSv1_3)
            && conn.handshake_kind() == Some(HandshakeKind::Resumed);
    });
    drop(turn);
    if !cheap_rest {
        if let Some(tcp) = rest.get_mut() {
            tcp.take_turns(&ctx.handshake_turns);
        }
    }
    let mut stream = rest.await?;
    stream.get_mut().0.stop_turns();
    Ok(stream)
}

/// The handler's identity for the client certificate of `stream` (verified by the listener's
/// configuration during the handshake), if the client presented one. A panic in the handler
/// counts as `HandlerPanic` and gives no identity.
fn client_identity<H: Handler>(
    ctx: &WorkerCtx<H>,
    stream: &TlsStream<TurnTaking>,
) -> Option<Arc<[u8]>> {
    let leaf = stream.get_ref().1.peer_certificates()?.first()?;
    let asked = catch_unwind(AssertUnwindSafe(|| ctx.handler.tls_identity(leaf)));
    asked.unwrap_or_else(|_| {
        ctx.stats().add_dropped(DropReason::HandlerPanic, 1);
        None
    })
}
