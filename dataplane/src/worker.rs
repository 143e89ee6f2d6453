//! One worker thread: CPU pinning, a current-thread tokio runtime with a `LocalSet`, and the
//! tasks for its own sockets. Returns when shutdown fired and every task has finished.

use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;

use tokio::net::{TcpListener, UdpSocket};
use tokio::task::LocalSet;

use crate::affinity::pin_current_thread;
use crate::ctx::WorkerCtx;
use crate::handle::{TlsClientSlot, TlsSlot};
use crate::handoff::{run_inbox, Handoff, Peers};
use crate::{
    stream, udp, Counters, Handler, Limits, Pinning, ProxyProtocol, Shutdown, Transport, UdpBackend,
};

/// One listener's socket for one worker.
#[derive(Debug)]
pub(crate) struct WorkerSocket {
    pub transport: Transport,
    pub local: SocketAddr,
    pub socket: socket2::Socket,
    pub tls: Option<TlsSlot>,
    /// PROXY protocol required (stream listeners only).
    pub proxy_protocol: Option<Arc<ProxyProtocol>>,
}

/// Everything a worker thread starts from.
#[derive(Debug)]
pub(crate) struct WorkerSetup {
    pub index: usize,
    pub pinning: Pinning,
    pub limits: Limits,
    pub backend: UdpBackend,
    pub counters: Arc<Counters>,
    pub sockets: Vec<WorkerSocket>,
    /// Every worker's handoff inbox.
    pub peers: Peers,
    /// Client configuration for outbound TLS connections (the engine's reloadable slot).
    pub tls_client: TlsClientSlot,
    /// This worker's own inbox.
    pub inbox: tokio::sync::mpsc::Receiver<Handoff>,
}

/// The worker thread's body.
pub(crate) fn run_worker<H: Handler>(
    setup: WorkerSetup,
    handler: Arc<H>,
    shutdown: Shutdown,
) -> io::Result<()> {
    if setup.pinning == Pinning::PerCore {
        pin_current_thread(setup.index);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    let local = LocalSet::new();
    local.block_on(&rt, start_tasks(setup, handler, shutdown))?;
    // The LocalSet future completes once every spawned task has finished.
    rt.block_on(local);
    Ok(())
}

async fn start_tasks<H: Handler>(
    setup: WorkerSetup,
    handler: Arc<H>,
    shutdown: Shutdown,
) -> io::Result<()> {
    let mut udp_socks = Vec::new();
    let mut streams = Vec::new();
    for ws in setup.sockets {
        match ws.transport {
            Transport::Udp => {
                let std_sock: std::net::UdpSocket = ws.socket.into();
                udp_socks.push((ws.local, Rc::new(UdpSocket::from_std(std_sock)?)));
            }
            Transport::Tcp | Transport::Tls => {
                let std_listener: std::net::TcpListener = ws.socket.into();
                let listener = TcpListener::from_std(std_listener)?;
                streams.push((ws.transport, listener, ws.tls, ws.proxy_protocol));
            }
        }
    }
    let ctx = Rc::new_cyclic(|me| {
        WorkerCtx::new(
            setup.index,
            handler,
            setup.limits,
            setup.counters,
            shutdown,
            udp_socks.clone(),
            setup.peers,
            setup.tls_client,
            me.clone(),
        )
    });
    tokio::task::spawn_local(run_inbox(ctx.clone(), setup.inbox));
    for (local, sock) in udp_socks {
        udp::spawn(ctx.clone(), sock, local, setup.backend);
    }
    for (transport, listener, tls, proxy) in streams {
        tokio::task::spawn_local(stream::accept_loop(
            ctx.clone(),
            listener,
            transport,
            tls,
            proxy,
        ));
    }
    Ok(())
}
