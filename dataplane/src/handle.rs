//! A cloneable handle on a bound or running engine, for the control plane: replacing a TLS
//! listener's server configuration (certificate reload) and reading counters, from any thread.

use std::net::SocketAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::{Counters, EngineError, Transport};

/// The live server configuration of one TLS listener, shared by every worker's accept loop.
/// Each accepted connection handshakes with the configuration current at accept time, so a
/// store affects new connections only.
pub(crate) type TlsSlot = Arc<ArcSwap<rustls::ServerConfig>>;

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
    counters: Arc<Counters>,
}

impl EngineHandle {
    pub(crate) fn new(
        listeners: impl Iterator<Item = (Transport, SocketAddr, Option<TlsSlot>)>,
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
                slot.store(config);
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
            .map(|s| s.load_full())
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
