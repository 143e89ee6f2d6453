//! Engine configuration: listeners, worker count, UDP backend choice and limits.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::{Cidr, Transport};

/// One listening address.
#[derive(Debug, Clone)]
pub struct ListenerSpec {
    /// Address to bind (port 0 picks one port shared by all workers).
    pub addr: SocketAddr,
    /// Transport served.
    pub transport: Transport,
    /// Server configuration, required for [`Transport::Tls`].
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Require a PROXY protocol header (v1 or v2) on every connection (TCP and TLS only).
    pub proxy_protocol: Option<ProxyProtocol>,
    /// TLS: whether this listener's configurations (now and after reloads) ask clients for a
    /// certificate. A scheduling hint only: a full TLS 1.3 handshake then has the client's
    /// second flight processed under a handshake turn (it may carry a certificate to verify);
    /// without, that flight is a Finished and runs at once. Wrong either way, handshakes still
    /// complete the same; only the order of work on the worker differs.
    pub asks_client_certs: bool,
}

/// PROXY protocol on a stream listener: every connection must start with a v1 or v2 header,
/// read before TLS and SIP framing within the header timeout; its source address becomes the
/// connection's remote address. A connection from an untrusted peer, or without a valid
/// header, is closed and counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyProtocol {
    /// Peers (the balancers) allowed to connect; empty trusts every peer.
    pub trusted: Vec<Cidr>,
}

impl ProxyProtocol {
    /// Whether a connection from `peer` may send a header.
    pub fn trusts(&self, peer: std::net::IpAddr) -> bool {
        self.trusted.is_empty() || self.trusted.iter().any(|c| c.contains(peer))
    }
}

impl ListenerSpec {
    /// A UDP or TCP listener.
    pub fn plain(addr: SocketAddr, transport: Transport) -> Self {
        ListenerSpec {
            addr,
            transport,
            tls: None,
            proxy_protocol: None,
            asks_client_certs: false,
        }
    }

    /// A TLS listener.
    pub fn tls(addr: SocketAddr, config: Arc<rustls::ServerConfig>) -> Self {
        ListenerSpec {
            addr,
            transport: Transport::Tls,
            tls: Some(config),
            proxy_protocol: None,
            asks_client_certs: false,
        }
    }

    /// Marks a TLS listener whose configurations ask clients for certificates (see
    /// [`ListenerSpec::asks_client_certs`]).
    pub fn with_client_certs(mut self) -> Self {
        self.asks_client_certs = true;
        self
    }

    /// Requires a PROXY protocol header from peers within `trusted` (empty: any peer).
    /// Ignored on UDP listeners.
    pub fn with_proxy_protocol(mut self, trusted: Vec<Cidr>) -> Self {
        self.proxy_protocol = Some(ProxyProtocol { trusted });
        self
    }
}

/// Which UDP receive path to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UdpBackend {
    /// Probe io_uring at start, fall back to epoll.
    #[default]
    Auto,
    /// io_uring multishot receive with a provided-buffer ring.
    IoUring,
    /// epoll readiness with `recvmmsg`/`sendmmsg`.
    Epoll,
}

/// Whether each worker thread is pinned to a CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pinning {
    /// Worker `i` runs on the `i`-th CPU the process may use (modulo their number): the
    /// thread-per-core layout, for a machine whose CPUs the director has to itself.
    #[default]
    PerCore,
    /// The kernel places the worker threads. Better where other busy processes share the
    /// CPUs: a pinned worker waits for its own CPU even when another one is idle (beside the
    /// load generator on 2 CPUs, 2 pinned workers served a third fewer new TCP connections and
    /// nearly half fewer TLS handshakes: docs/performance.md, "Worker pinning").
    Off,
}

/// Size and time limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest message accepted (UDP datagram or stream frame), in bytes.
    pub max_message: usize,
    /// Most header lines in a stream message head.
    pub max_headers: usize,
    /// Longest header line in a stream message head.
    pub max_line: usize,
    /// Stream connections per worker; over it new connections are accepted and closed at once.
    pub max_connections_per_worker: usize,
    /// A stream connection with no traffic for this long is closed.
    pub idle_timeout: Duration,
    /// A stream message must complete within this after its first byte (slowloris); also the
    /// TLS handshake timeout.
    pub header_timeout: Duration,
    /// Bytes queued for one stream connection by others (responses routed to it, handoffs from
    /// other workers) before further messages for it are dropped (`OutboxFull`).
    pub max_outbox_bytes: usize,
    /// Datagrams per `recvmmsg`/`sendmmsg` batch.
    pub udp_batch: usize,
    /// How long a full UDP send buffer is waited on before the pending replies are dropped.
    pub udp_send_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message: 65535,
            max_headers: 128,
            max_line: 8192,
            max_connections_per_worker: 50_000,
            idle_timeout: Duration::from_secs(300),
            header_timeout: Duration::from_secs(10),
            max_outbox_bytes: 256 * 1024,
            udp_batch: 32,
            udp_send_wait: Duration::from_millis(100),
        }
    }
}

/// Engine configuration.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// Worker threads; 0 = available parallelism.
    pub workers: usize,
    /// UDP receive path.
    pub udp_backend: UdpBackend,
    /// Worker threads pinned to CPUs or not.
    pub pinning: Pinning,
    /// Limits.
    pub limits: Limits,
    /// Client configuration for outbound TLS connections (`Action::Send` over TLS): the trust
    /// anchors (or verifier) for the peer's certificate and any client certificate. Without
    /// one, such sends are dropped as `NoRoute`. The server name sent (SNI) and verified is
    /// [`crate::Handler::tls_server_name`] for the destination, else its IP address. The
    /// initial value; [`crate::EngineHandle::reload_tls_client`] replaces it while running
    /// (new connections only).
    pub tls_client: Option<Arc<rustls::ClientConfig>>,
}
