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
            tls.as_ref()
                .map(|slot| (slot.config.load_full(), slot.asks_client_certs)),
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
    tls: Option<(Arc<ServerConfig>, bool)>,
    proxy_protocol: bool,
) {
    if proxy_protocol {
        // Boxed, like the handshake below: a phase that ends before the connection is served
        // should not size the task that lives as long as the connection.
        let header = tokio::time::timeout(
            ctx.limits.header_timeout,
            Box::pin(read_proxy_header(&mut tcp)),
        );
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
        None => serve(&ctx, &mut tcp, &peer, &outbox).await,
        Some((config, asks_client_certs)) => {
            // The handshake's state (2.6 kB) lives on the heap only while it runs. The stream is
            // bound by `let`, not matched around `serve`: a scrutinee lives to the end of the
            // match, so its copy of the stream would stay in the task.
            let handshake = Box::pin(handshake(&ctx, tcp, config, asks_client_certs));
            let mut stream = match tokio::time::timeout(ctx.limits.header_timeout, handshake).await
            {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    tracing::debug!(%remote, error = %e, "TLS handshake failed");
                    ctx.stats().add_dropped(DropReason::TlsHandshake, 1);
                    return;
                }
                Err(_) => {
                    ctx.stats().add_dropped(DropReason::HeaderTimeout, 1);
                    return;
                }
            };
            peer.tls_identity = client_identity(&ctx, &stream);
            serve(&ctx, &mut stream, &peer, &outbox).await
        }
    }
}

/// The server side of a TLS handshake. Reading the ClientHello costs little; its processing
/// (key exchange, ticket or signature) waits for the worker's next handshake turn
/// (`handshake_turns`), so that established connections are served in between. What the
/// client sends next takes turns too where it is more than a Finished (a MAC check): a client
/// certificate to verify (`asks_client_certs`: a full handshake on a listener that asks for
/// one), TLS 1.2's client key exchange, and after a HelloRetryRequest a second ClientHello.
async fn handshake<H>(
    ctx: &WorkerCtx<H>,
    tcp: TcpStream,
    config: Arc<ServerConfig>,
    asks_client_certs: bool,
) -> std::io::Result<TlsStream<TurnTaking>> {
    let start = LazyConfigAcceptor::new(Acceptor::default(), TurnTaking::new(tcp)).await?;
    let turn = ctx.handshake_turns.turn().await;
    // The ClientHello is processed here, synchronously; the rest of the handshake is I/O and
    // the client's second flight.
    let mut cheap_rest = false;
    let mut rest = start.into_stream_with(config, |conn| {
        cheap_rest = !rest_takes_turns(
            conn.protocol_version(),
            conn.handshake_kind(),
            asks_client_certs,
        );
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

/// Whether what the client sends after its first ClientHello, as the server's answer left the
/// handshake, is worth a handshake turn: anything but a Finished (after a resumption, TLS 1.2
/// or 1.3, or a full TLS 1.3 handshake on a listener that does not ask for a certificate).
fn rest_takes_turns(
    version: Option<ProtocolVersion>,
    kind: Option<HandshakeKind>,
    asks_client_certs: bool,
) -> bool {
    let tls13 = version == Some(ProtocolVersion::TLSv1_3);
    match kind {
        Some(HandshakeKind::Resumed) => false,
        Some(HandshakeKind::Full) if tls13 => asks_client_certs,
        // TLS 1.2's key exchange; a second ClientHello after a HelloRetryRequest; unknown
        _ => true,
    }
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

#[cfg(test)]
mod tests {
    use super::{connection, rest_takes_turns};
    use crate::{Action, Handler, Peer};
    use rustls::{HandshakeKind, ProtocolVersion};

    struct Nothing;
    impl Handler for Nothing {
        fn on_message(&self, _: &[u8], _: &Peer, _: &mut Vec<u8>) -> Action {
            Action::Drop
        }
    }

    /// The size of what `f` returns (here: an `async fn`'s future), without calling it.
    fn returned_size<A, B, C, D, E, F, G, R>(_: fn(A, B, C, D, E, F, G) -> R) -> usize {
        std::mem::size_of::<R>()
    }

    /// The connection task is allocated whole for every connection and lives as long as it,
    /// so it is sized by its largest state. Serving a TLS connection needs the stream (1.3 kB
    /// in rustls 0.23) and the serve loop's state (under 1 kB); the handshake and the PROXY
    /// header are boxed and must stay so. Before that, and before `serve` borrowed the
    /// stream, the task was 6.5 kB: the stream was kept three times.
    #[test]
    fn the_connection_task_holds_the_tls_stream_once() {
        let size = returned_size(connection::<Nothing> as fn(_, _, _, _, _, _, _) -> _);
        let stream = std::mem::size_of::<
            tokio_rustls::server::TlsStream<crate::handshake_turns::TurnTaking>,
        >();
        assert!(
            size < 2 * stream + 512,
            "connection future {size} bytes with a {stream}-byte TLS stream"
        );
    }

    #[test]
    fn only_a_finished_goes_without_a_turn() {
        let (v12, v13) = (
            Some(ProtocolVersion::TLSv1_2),
            Some(ProtocolVersion::TLSv1_3),
        );
        let (full, resumed) = (Some(HandshakeKind::Full), Some(HandshakeKind::Resumed));
        let hrr = Some(HandshakeKind::FullWithHelloRetryRequest);
        assert!(!rest_takes_turns(v13, resumed, false));
        assert!(
            !rest_takes_turns(v13, resumed, true),
            "a resumption sends no certificate"
        );
        assert!(!rest_takes_turns(v13, full, false));
        assert!(rest_takes_turns(v13, full, true), "a certificate to verify");
        assert!(rest_takes_turns(v13, hrr, false), "a second ClientHello");
        assert!(
            rest_takes_turns(v12, full, false),
            "the client key exchange"
        );
        assert!(
            !rest_takes_turns(v12, resumed, false),
            "a TLS 1.2 resumption's Finished"
        );
        assert!(rest_takes_turns(None, None, false));
    }
}
