//! Creating the listening sockets: one SO_REUSEPORT socket per worker per listener, port 0
//! resolved by the first worker's socket.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use socket2::{Domain, Protocol, Socket, Type};

use crate::handle::{ListenerTls, TlsSlot};
use crate::{EngineError, ListenerSpec, ProxyProtocol, Transport};

/// Socket buffer size asked for on UDP sockets (best effort).
const UDP_BUFFER: usize = 4 << 20;
/// TCP accept backlog.
const BACKLOG: i32 = 1024;

/// One listener bound for every worker.
#[derive(Debug)]
pub(crate) struct BoundListener {
    pub transport: Transport,
    /// The resolved address (real port when 0 was asked).
    pub addr: SocketAddr,
    /// The live server configuration (TLS only), replaced by certificate reloads.
    pub tls: Option<TlsSlot>,
    /// One socket per worker, in worker order.
    pub sockets: Vec<Socket>,
    /// PROXY protocol required (stream listeners only).
    pub proxy_protocol: Option<Arc<ProxyProtocol>>,
}

/// Binds `spec` `workers` times.
pub(crate) fn bind_listener(
    spec: &ListenerSpec,
    workers: usize,
) -> Result<BoundListener, EngineError> {
    if spec.transport == Transport::Tls && spec.tls.is_none() {
        return Err(EngineError::MissingTlsConfig(spec.addr));
    }
    let err = |source| EngineError::Bind {
        addr: spec.addr,
        transport: spec.transport,
        source,
    };
    let mut addr = spec.addr;
    let mut sockets = Vec::with_capacity(workers);
    for _ in 0..workers {
        let socket = bind_one(addr, spec.transport).map_err(err)?;
        if addr.port() == 0 {
            let real = socket.local_addr().map_err(err)?.as_socket();
            addr.set_port(real.map(|a| a.port()).unwrap_or(0));
        }
        sockets.push(socket);
    }
    Ok(BoundListener {
        transport: spec.transport,
        addr,
        tls: spec.tls.clone().map(|c| {
            Arc::new(ListenerTls {
                config: ArcSwap::new(c),
                asks_client_certs: spec.asks_client_certs,
            })
        }),
        sockets,
        proxy_protocol: match spec.transport {
            Transport::Udp => None,
            Transport::Tcp | Transport::Tls => spec.proxy_protocol.clone().map(Arc::new),
        },
    })
}

fn bind_one(addr: SocketAddr, transport: Transport) -> io::Result<Socket> {
    let domain = Domain::for_address(addr);
    let socket = match transport {
        Transport::Udp => Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?,
        Transport::Tcp | Transport::Tls => Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?,
    };
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.set_cloexec(true)?;
    match transport {
        Transport::Udp => {
            // Best effort: the kernel caps these at net.core.[rw]mem_max.
            let _ = socket.set_recv_buffer_size(UDP_BUFFER);
            let _ = socket.set_send_buffer_size(UDP_BUFFER);
            socket.bind(&addr.into())?;
        }
        Transport::Tcp | Transport::Tls => {
            socket.set_reuse_address(true)?;
            socket.bind(&addr.into())?;
            socket.listen(BACKLOG)?;
        }
    }
    Ok(socket)
}
