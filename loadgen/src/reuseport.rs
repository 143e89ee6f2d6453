//! UDP sockets for the batched servers (`echo`, and the registrar simulator's UDP listeners):
//! several SO_REUSEPORT sockets on one address, one per serving thread, with large buffers.

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// One socket on `addr` with SO_REUSEPORT (so several can share its port) and 4 MiB buffers
/// (best effort; the kernel caps them at `net.core.[rw]mem_max`). With the default ~200 KiB, a
/// server sharing a CPU with the process under test drops bursts while it waits for its time
/// slice (the registrar simulator did: the proxy's 500 ms tail was the client retransmitting).
pub(crate) fn bind_one(addr: SocketAddr) -> io::Result<Socket> {
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_port(true)?;
    let _ = s.set_recv_buffer_size(4 << 20);
    let _ = s.set_send_buffer_size(4 << 20);
    s.bind(&SockAddr::from(addr))?;
    Ok(s)
}

/// `n` (at least one) sockets on `addr` (port 0: the others join the port the first one got),
/// and the address they share.
pub(crate) fn bind_shared(addr: SocketAddr, n: usize) -> io::Result<(SocketAddr, Vec<Socket>)> {
    let first = bind_one(addr)?;
    let bound = first
        .local_addr()?
        .as_socket()
        .ok_or_else(|| io::Error::other("bound address is not IP"))?;
    let mut socks = vec![first];
    for _ in 1..n.max(1) {
        socks.push(bind_one(bound)?);
    }
    Ok((bound, socks))
}
