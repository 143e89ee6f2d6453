//! The handler trait the engine calls for every inbound message, and what it may ask in return.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName};

use crate::{ConnId, FrameError, Peer, Transport};

/// What to do with the bytes the handler wrote into `out`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send `out` back to the peer over the transport (and connection) it came on.
    Reply,
    /// Send nothing.
    Drop,
    /// Forward `out` to `to` (proxy mode). UDP goes out of this worker's UDP socket for the
    /// listener the message arrived on (or one of the same address family). TCP/TLS goes over
    /// this worker's connection to/from `to`, opened (TLS: with `EngineConfig::tls_client`) and
    /// kept for reuse when there is none; what the peer sends back on it reaches the handler.
    Send {
        /// Destination.
        to: SocketAddr,
        /// Transport to use.
        transport: Transport,
    },
    /// Send `out` over a given stream connection (e.g. a response routed back by Via to the
    /// client's own connection). A connection of another worker is reached through that
    /// worker's bounded inbox ([`crate::DropReason::HandoffFull`] when it is full); a gone one
    /// counts as [`crate::DropReason::NoRoute`].
    SendConn(ConnId),
    /// Send `out` if non-empty, then close the stream (on UDP: like `Reply`).
    Close,
}

/// The policy side: called by the workers, from many threads at once.
pub trait Handler: Send + Sync + 'static {
    /// One complete inbound message: a whole UDP datagram, or one frame cut from a stream.
    /// Write any bytes to send into `out` (cleared before the call, capacity reused) and return
    /// what to do with them.
    fn on_message(&self, msg: &[u8], peer: &Peer, out: &mut Vec<u8>) -> Action;

    /// A stream's framing failed. `head` is what was buffered. The engine sends `out` if
    /// non-empty and closes the connection afterwards regardless of the returned action.
    fn on_stream_error(
        &self,
        head: &[u8],
        err: &FrameError,
        peer: &Peer,
        out: &mut Vec<u8>,
    ) -> Action {
        let _ = (head, err, peer, out);
        Action::Drop
    }

    /// The server name to send (SNI) and to verify the certificate against when the engine
    /// opens a new outbound TLS connection to `to` (not called for reused connections, nor on
    /// the message path). `None`: the destination's IP address.
    fn tls_server_name(&self, to: SocketAddr) -> Option<ServerName<'static>> {
        let _ = to;
        None
    }

    /// The identity of an inbound TLS connection whose client presented a certificate that the
    /// listener's verifier accepted (`end_entity` is its leaf certificate). Called once per
    /// connection, after the handshake and before its first message; the answer is
    /// [`Peer::tls_identity`] for every message on that connection. `None`: no identity.
    fn tls_identity(&self, end_entity: &CertificateDer<'_>) -> Option<Arc<[u8]>> {
        let _ = end_entity;
        None
    }
}
