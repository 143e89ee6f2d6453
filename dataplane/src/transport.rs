//! Transport kinds, stream connection identities and the peer description given to handlers.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

/// A SIP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// Datagrams.
    Udp,
    /// Plain TCP stream.
    Tcp,
    /// TLS over TCP.
    Tls,
}

impl Transport {
    /// The token used in a Via header ("UDP", "TCP", "TLS").
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }

    /// Whether this is a stream transport (TCP or TLS).
    pub fn is_stream(self) -> bool {
        !matches!(self, Transport::Udp)
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identity of one stream connection: owning worker, slot and a generation that makes a reused
/// slot a different id. Opaque but round-trips through [`ConnId::to_u64`]/[`ConnId::from_u64`]
/// (e.g. to encode it in a Via parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId(u64);

impl ConnId {
    pub(crate) fn new(worker: usize, generation: u32, slot: u32) -> Self {
        ConnId(
            ((worker as u64 & 0xffff) << 48)
                | ((u64::from(generation) & 0xffff) << 32)
                | u64::from(slot),
        )
    }

    /// The worker that owns the connection.
    pub fn worker(self) -> usize {
        (self.0 >> 48) as usize
    }

    pub(crate) fn generation(self) -> u32 {
        ((self.0 >> 32) & 0xffff) as u32
    }

    pub(crate) fn slot(self) -> u32 {
        self.0 as u32
    }

    /// The raw encoding.
    pub fn to_u64(self) -> u64 {
        self.0
    }

    /// Rebuilds an id from [`ConnId::to_u64`]. A stale or forged id simply finds no connection.
    pub fn from_u64(raw: u64) -> Self {
        ConnId(raw)
    }
}

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:x}", self.0)
    }
}

/// Where a message came from and over what. Built once per stream connection (and per UDP
/// datagram), so cloning it never happens on the message path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The sender's address.
    pub remote: SocketAddr,
    /// Our address it arrived on (the listener's bound address for UDP, which may be a wildcard).
    pub local: SocketAddr,
    /// The transport it arrived over.
    pub transport: Transport,
    /// The stream connection, for TCP and TLS.
    pub conn: Option<ConnId>,
    /// Index of the worker handling it.
    pub worker: usize,
    /// The identity the handler derived from the verified client certificate of an inbound TLS
    /// connection ([`crate::Handler::tls_identity`], asked once after the handshake); `None`
    /// elsewhere.
    pub tls_identity: Option<Arc<[u8]>>,
}
