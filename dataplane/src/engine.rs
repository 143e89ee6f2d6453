//! The engine: binding listeners for every worker, then running one thread per worker.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread;

use crate::bind::{bind_listener, BoundListener};
use crate::handle::{EngineHandle, TlsClientSlot};
use crate::handoff::inboxes;
use crate::udp::resolve_backend;
use crate::worker::{run_worker, WorkerSetup, WorkerSocket};
use crate::{
    Counters, EngineConfig, EngineError, Handler, ListenerSpec, Shutdown, Stats, Transport,
    UdpBackend,
};

/// Entry point: see [`Engine::bind`].
#[derive(Debug)]
pub struct Engine;

/// Listeners bound for every worker, ready to [`BoundEngine::run`].
#[derive(Debug)]
pub struct BoundEngine {
    cfg: EngineConfig,
    workers: usize,
    backend: UdpBackend,
    listeners: Vec<BoundListener>,
    /// The client configuration of outbound TLS connections (reloadable through the handle).
    tls_client: TlsClientSlot,
    counters: Arc<Counters>,
}

impl Engine {
    /// Binds every listener for every worker (SO_REUSEPORT, one socket per worker per listener).
    /// Port 0 binds the first worker's socket to a free port and the others to the same one.
    /// IPv6 sockets are IPV6_V6ONLY. Resolves [`UdpBackend::Auto`] with a probe.
    pub fn bind(cfg: EngineConfig, listeners: &[ListenerSpec]) -> Result<BoundEngine, EngineError> {
        let workers = if cfg.workers == 0 {
            thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        } else {
            cfg.workers
        };
        let has_udp = listeners.iter().any(|l| l.transport == Transport::Udp);
        let backend = resolve_backend(cfg.udp_backend, has_udp, &cfg.limits)?;
        let listeners = listeners
            .iter()
            .map(|spec| bind_listener(spec, workers))
            .collect::<Result<Vec<_>, _>>()?;
        let tls_client = Arc::new(arc_swap::ArcSwapOption::new(cfg.tls_client.clone()));
        Ok(BoundEngine {
            cfg,
            tls_client,
            workers,
            backend,
            listeners,
            counters: Arc::new(Counters::new(workers)),
        })
    }
}

impl BoundEngine {
    /// The listeners' resolved addresses, in the order given to [`Engine::bind`].
    pub fn local_addrs(&self) -> Vec<(Transport, SocketAddr)> {
        self.listeners
            .iter()
            .map(|l| (l.transport, l.addr))
            .collect()
    }

    /// A cloneable handle for the control plane (TLS server and client reload, counters), usable from any thread
    /// while the engine runs.
    pub fn handle(&self) -> EngineHandle {
        EngineHandle::new(
            self.listeners
                .iter()
                .map(|l| (l.transport, l.addr, l.tls.clone())),
            self.tls_client.clone(),
            self.counters.clone(),
        )
    }

    /// The UDP backend that will run (never `Auto`).
    pub fn udp_backend_in_use(&self) -> UdpBackend {
        self.backend
    }

    /// Number of workers.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Live counters, readable from any thread while the engine runs.
    pub fn counters(&self) -> Arc<Counters> {
        self.counters.clone()
    }

    /// Spawns one OS thread per worker ("sip-worker-N"), each with its own current-thread tokio
    /// runtime and sockets, and returns when `shutdown` fires and every worker has stopped.
    /// Stream connections finish the message in flight (bounded by the header timeout), then close.
    pub fn run<H: Handler>(
        self,
        handler: Arc<H>,
        shutdown: Shutdown,
    ) -> Result<Stats, EngineError> {
        let BoundEngine {
            cfg,
            workers,
            backend,
            listeners,
            tls_client,
            counters,
        } = self;
        let mut per_worker: Vec<Vec<WorkerSocket>> = (0..workers).map(|_| Vec::new()).collect();
        for l in listeners {
            for (w, socket) in l.sockets.into_iter().enumerate() {
                per_worker[w].push(WorkerSocket {
                    transport: l.transport,
                    local: l.addr,
                    socket,
                    tls: l.tls.clone(),
                    proxy_protocol: l.proxy_protocol.clone(),
                });
            }
        }
        let (peers, inboxes) = inboxes(workers);
        let mut threads = Vec::with_capacity(workers);
        let mut first_err = None;
        for (index, (sockets, inbox)) in per_worker.into_iter().zip(inboxes).enumerate() {
            let setup = WorkerSetup {
                index,
                pinning: cfg.pinning,
                limits: cfg.limits.clone(),
                backend,
                counters: counters.clone(),
                sockets,
                peers: peers.clone(),
                tls_client: tls_client.clone(),
                inbox,
            };
            let handler = handler.clone();
            let shutdown = shutdown.clone();
            let spawned = thread::Builder::new()
                .name(format!("sip-worker-{index}"))
                .spawn(move || run_worker(setup, handler, shutdown));
            match spawned {
                Ok(t) => threads.push((index, t)),
                Err(source) => {
                    first_err.get_or_insert(EngineError::Worker {
                        worker: index,
                        source,
                    });
                    break;
                }
            }
        }
        if first_err.is_some() {
            tracing::error!("worker start failed; waiting for shutdown of the started workers");
        }
        for (index, t) in threads {
            match t.join() {
                Ok(Ok(())) => {}
                Ok(Err(source)) => {
                    first_err.get_or_insert(EngineError::Worker {
                        worker: index,
                        source,
                    });
                }
                Err(_) => {
                    first_err.get_or_insert(EngineError::WorkerPanicked(index));
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(counters.total()),
        }
    }
}
