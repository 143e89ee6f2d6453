//! A cloneable handle on a bound or running engine, for the control plane: replacing a TLS
//! listener's server configuration (certificate reload) or the client configuration of
//! outbound TLS connections, and reading counters, from any thread.

use std::net::SocketAddr;
use std::sync::Arc;

use arc_swap::{ArcSwap, ArcSwapOption};

use crate::{Counters, EngineError, Transport};

/// The live server configuration of one TLS listener, shared by every worker's accept loop.
/// Each accepted connection handshakes with the configuration current at accept time, so a
/// store affects new connections only.
pub(crate) type TlsSlot = Arc<ListenerTls>;

/// What a TLS listener's connections handshake with.
#[derive(Debug)]
pub(crate) struct ListenerTls {
    /// The configuration new handshakes use (replaced by reloads).
    pub config: ArcSwap<rustls::ServerConfig>,
    /// [`crate::ListenerSpec::asks_client_certs`].
    pub asks_client_certs: bool,
}

/// The live client configuration of outbound TLS connections, shared by every worker. Each new
/// outbound connection handshakes with the configuration current when it is opened; `None`:
/// such sends are dropped as `NoRoute`.
pub(crate) type TlsClientSlot = Arc<ArcSwapOption<rustls::ClientConfig>>;

/// One listener as seen by the handle.
#[derive(Debug)]
struct ListenerEntry {
    transport: Transport,
    addr: SocketAddr,
    tls: Option<TlsSlot>,
}

/// Obtained from [`crate::BoundEngine::handle`] before `run`; stays usable while the engine runs
/// and after it stops (a reload then has no effect).
#[derive(Debug, Clone)]
pub struct EngineHandle {
    listeners: Arc<[ListenerEntry]>,
    tls_client: TlsClientSlot,
    counters: Arc<Counters>,
}

impl EngineHandle {
    pub(crate) fn new(
        listeners: impl Iterator<Item = (Transport, SocketAddr, Option<TlsSlot>)>,
        tls_client: TlsClientSlot,
        counters: Arc<Counters>,
    ) -> Self {
        EngineHandle {
            listeners: listeners
                .map(|(transport, addr, tls)| ListenerEntry {
                    transport,
                    addr,
                    tls,
                })
                .collect(),
            tls_client,
            counters,
        }
    }

    /// Replaces the server configuration of TLS listener `index` (the order given to
    /// [`crate::Engine::bind`]). Connections already established keep their session; handshakes
    /// that start afterwards use `config` (its certificate, session cache and ticketer).
    pub fn reload_tls(
        &self,
        index: usize,
        config: Arc<rustls::ServerConfig>,
    ) -> Result<(), EngineError> {
        match self.listeners.get(index) {
            Some(ListenerEntry {
                tls: Some(slot), ..
            }) => {
                slot.config.store(config);
                Ok(())
            }
            Some(l) => Err(EngineError::NotTls(l.addr)),
            None => Err(EngineError::NoListener(index)),
        }
    }

    /// [`EngineHandle::reload_tls`] for the TLS listener bound to `addr` (the resolved address,
    /// as in [`crate::BoundEngine::local_addrs`]).
    pub fn reload_tls_at(
        &self,
        addr: SocketAddr,
        config: Arc<rustls::ServerConfig>,
    ) -> Result<(), EngineError> {
        let index = self
            .listeners
            .iter()
            .position(|l| l.addr == addr && l.transport == Transport::Tls)
            .ok_or(EngineError::NotTls(addr))?;
        self.reload_tls(index, config)
    }

    /// The server configuration TLS listener `index` hands to new connections now.
    pub fn tls_config(&self, index: usize) -> Option<Arc<rustls::ServerConfig>> {
        self.listeners
            .get(index)?
            .tls
            .as_ref()
            .map(|s| s.config.load_full())
    }

    /// Replaces the client configuration of outbound TLS connections (`Action::Send` over TLS,
    /// see [`crate::EngineConfig::tls_client`]). Connections already established keep their
    /// session; connections opened afterwards use `config`. `None` drops such sends again.
    pub fn reload_tls_client(&self, config: Option<Arc<rustls::ClientConfig>>) {
        self.tls_client.store(config);
    }

    /// The client configuration new outbound TLS connections use now.
    pub fn tls_client_config(&self) -> Option<Arc<rustls::ClientConfig>> {
        self.tls_client.load_full()
    }

    /// The listeners' resolved addresses, in bind order.
    pub fn local_addrs(&self) -> Vec<(Transport, SocketAddr)> {
        self.listeners
            .iter()
            .map(|l| (l.transport, l.addr))
            .collect()
    }

    /// Live counters.
    pub fn counters(&self) -> Arc<Counters> {
        self.counters.clone()
    }
}
