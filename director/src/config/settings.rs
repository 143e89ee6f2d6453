//! The validated configuration: process settings (workers, listeners, admin, health) and the
//! routing [`Topology`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::limiter::Rate;
use crate::topology::{Mode, Topology, Transport};

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Worker threads; 0 means one per core.
    pub workers: u32,
    /// Each worker thread pinned to its own CPU (`[director] pin_workers`, default true).
    pub pin_workers: bool,
    /// Sockets to listen on (at least one).
    pub listeners: Vec<Listener>,
    /// The admin HTTP server, if enabled.
    pub admin: Option<AdminSettings>,
    /// Registrar probing and pool failover timing.
    pub health: HealthSettings,
    /// Pools, registrars, homing and redirect settings.
    pub topology: Topology,
    /// Flood and overload limits (`[limits]`).
    pub limits: LimitSettings,
    /// Connection and message-size limits (`[limits]`, applied at start only).
    pub connection_limits: ConnectionLimits,
    /// TLS toward registrars in proxy mode (`[proxy]`).
    pub proxy: ProxySettings,
}

/// One listening socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// Address and port.
    pub address: SocketAddr,
    /// Transport.
    pub transport: Transport,
    /// Certificate and key, for TLS only.
    pub tls: Option<TlsFiles>,
    /// Redirect or proxy for requests arriving here, overriding `[director] mode`.
    pub mode: Option<Mode>,
    /// Every connection starts with a PROXY protocol header (TCP/TLS behind an L4 balancer).
    pub proxy_protocol: bool,
    /// Balancers allowed to connect when `proxy_protocol` is on; empty: any peer.
    pub proxy_protocol_from: Vec<dataplane::Cidr>,
}

/// PEM files of a TLS listener (relative paths resolved against the configuration file's
/// directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain (PEM).
    pub certificate: PathBuf,
    /// Private key (PEM).
    pub private_key: PathBuf,
    /// Listeners only (`client_ca`): CA certificates (PEM) that client certificates are
    /// verified against; clients are asked for one. `None`: no client certificates (always
    /// for `[proxy]`).
    pub client_ca: Option<PathBuf>,
    /// Listeners with `client_ca` only (`client_cert`): whether a client without a
    /// certificate may still connect.
    pub client_cert: ClientCert,
}

/// `client_cert` of a TLS listener with `client_ca`: may a client connect without a
/// certificate?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientCert {
    /// Clients are asked for a certificate and may connect without one (for digest
    /// authentication, or `[auth]` that then answers 403).
    #[default]
    Optional,
    /// A client without a certificate fails the handshake (counted `tls_handshake`).
    Required,
}

/// `[proxy]`: how the director connects to registrars reached over TLS in proxy mode. Only
/// file paths here (relative ones resolved against the configuration file's directory); the
/// files are read when the director starts and on every certificate reload
/// ([`crate::tls_client`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySettings {
    /// Trust anchors (PEM bundle) for registrar certificates; `None`: the system trust store.
    pub tls_ca: Option<PathBuf>,
    /// Verify the registrar certificate against the endpoint's host name (or IP address).
    /// `false` accepts any certificate (handshake signatures are still checked).
    pub tls_verify: bool,
    /// Client certificate and key presented to registrars (mutual TLS).
    pub tls_client_auth: Option<TlsFiles>,
}

impl Default for ProxySettings {
    fn default() -> Self {
        ProxySettings {
            tls_ca: None,
            tls_verify: true,
            tls_client_auth: None,
        }
    }
}

/// The admin HTTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminSettings {
    /// Where it listens (default 127.0.0.1:8080).
    pub address: SocketAddr,
}

/// Registrar probing (SIP OPTIONS) and pool failover/failback timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthSettings {
    /// Whether registrars are probed at all. Off without a `[health]` section (every registrar
    /// then counts as up); on by default inside one.
    pub enabled: bool,
    /// Time between probes of one registrar (default 5 s).
    pub interval: Duration,
    /// How long to wait for a probe's answer (default 2 s, at most `interval`).
    pub timeout: Duration,
    /// Consecutive failed probes before a registrar is down (default 3).
    pub down_after: u32,
    /// Consecutive answered probes before a down registrar is up (default 2).
    pub up_after: u32,
    /// How long a primary pool must be unreachable before its backup takes over (default 120 s).
    pub failover_interval: Duration,
    /// How long a primary pool must be healthy again before it takes its users back (default 240 s).
    pub failback_interval: Duration,
}

impl Default for HealthSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            interval: Duration::from_millis(5000),
            timeout: Duration::from_millis(2000),
            down_after: 3,
            up_after: 2,
            failover_interval: Duration::from_secs(120),
            failback_interval: Duration::from_secs(240),
        }
    }
}

/// What happens to a request over its source's rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum FloodAction {
    /// Dropped (UDP; stream clients get the 503 anyway, their address is not spoofed).
    #[default]
    #[serde(rename = "drop")]
    Drop,
    /// Answered `503` + `Retry-After`.
    #[serde(rename = "503")]
    Reject,
}

/// Connection and message-size limits from `[limits]`: what one TCP/TLS client may hold and
/// how big a message may be. The engine takes them at start; a reload that changes them says
/// that a restart is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// TCP/TLS connections per worker; over it, new ones are accepted and closed at once.
    pub max_connections_per_worker: u32,
    /// A TCP/TLS connection with no traffic for this long is closed.
    pub idle_timeout: Duration,
    /// A message on a TCP/TLS connection must be complete this long after its first byte
    /// (slow clients); also the limit on a TLS handshake and a PROXY protocol header.
    pub header_timeout: Duration,
    /// Largest message, UDP datagram or stream frame, in bytes.
    pub max_message_bytes: u32,
    /// Bytes queued for one TCP/TLS connection by other connections (answers relayed to it)
    /// before further messages for it are dropped.
    pub max_outbox_bytes: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections_per_worker: 50_000,
            idle_timeout: Duration::from_secs(300),
            header_timeout: Duration::from_secs(10),
            max_message_bytes: 65_535,
            max_outbox_bytes: 256 * 1024,
        }
    }
}

impl ConnectionLimits {
    /// The dataplane's limits with these values (the rest at the dataplane's defaults).
    pub fn to_dataplane(self) -> dataplane::Limits {
        dataplane::Limits {
            max_connections_per_worker: self.max_connections_per_worker as usize,
            idle_timeout: self.idle_timeout,
            header_timeout: self.header_timeout,
            max_message: self.max_message_bytes as usize,
            max_outbox_bytes: self.max_outbox_bytes as usize,
            ..dataplane::Limits::default()
        }
    }
}

/// Flood and overload limits. Everything is off by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    /// Requests per second (and burst) from one source address (IPv4, or IPv6 /64), per worker.
    pub per_source: Option<Rate>,
    /// What happens to a request over its source's rate.
    pub flood_action: FloodAction,
    /// Requests per second one worker takes before answering new REGISTERs `503`.
    pub per_worker: Option<Rate>,
    /// The `Retry-After` of those 503s, in seconds.
    pub retry_after_s: u32,
}

impl LimitSettings {
    /// Whether any limit is on (otherwise messages are not even looked at).
    pub fn any(&self) -> bool {
        self.per_source.is_some() || self.per_worker.is_some()
    }
}

/// The settings as `[limits]` fields, for logs: `off` when no limit is on.
impl std::fmt::Display for LimitSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.any() {
            return f.write_str("off");
        }
        if let Some(r) = self.per_source {
            let action = match self.flood_action {
                FloodAction::Drop => "drop",
                FloodAction::Reject => "503",
            };
            write!(
                f,
                "per_source_rate={} per_source_burst={} flood_action={action} ",
                r.per_s, r.burst
            )?;
        }
        if let Some(r) = self.per_worker {
            write!(f, "max_rate_per_worker={} ", r.per_s)?;
        }
        write!(f, "retry_after_s={}", self.retry_after_s)
    }
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            per_source: None,
            flood_action: FloodAction::Drop,
            per_worker: None,
            retry_after_s: 5,
        }
    }
}
