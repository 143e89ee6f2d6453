//! The registrar simulator's UDP listeners: `--threads` SO_REUSEPORT sockets per listener,
//! each served by its own thread with `recvmmsg`/`sendmmsg` batches. A proxy under test on many
//! cores forwards far more than one socket answering one datagram per system call can take,
//! and the simulator must not be what a proxy benchmark measures.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use socket2::Socket;

use crate::mmsg::Batch;
use crate::registrar::{answer, Listener};
use crate::reuseport::bind_one;

/// Datagrams per `recvmmsg`/`sendmmsg`.
const BATCH: usize = 64;
/// Bytes per datagram slot; an answer that would not fit is counted as malformed.
const SLOT: usize = 4096;

/// Serves each socket on its own thread until the process exits; with `reply_sockets` > 0
/// each thread answers from that many sockets of its own on ephemeral ports of the listener's
/// address, one batch each in turn.
pub(crate) fn spawn(
    socks: Vec<Socket>,
    l: &Arc<Listener>,
    tag: &str,
    expires: u32,
    reply_sockets: usize,
) -> io::Result<()> {
    for (i, s) in socks.into_iter().enumerate() {
        let replies = (0..reply_sockets)
            .map(|_| bind_one(SocketAddr::new(l.addr.ip(), 0)))
            .collect::<io::Result<Vec<_>>>()?;
        let (l, tag) = (Arc::clone(l), tag.to_string());
        std::thread::Builder::new()
            .name(format!("registrar-{}-{i}", l.addr))
            .spawn(move || serve(&s, &replies, &l, &tag, expires))?;
    }
    Ok(())
}

fn serve(sock: &Socket, replies: &[Socket], l: &Listener, tag: &str, expires: u32) {
    let fd = sock.as_raw_fd();
    let mut turn = 0usize;
    let mut b = Batch::new(BATCH, SLOT);
    let mut out = Vec::with_capacity(2048);
    let mut keep = [false; BATCH];
    loop {
        let n = match b.recv(fd, libc::MSG_WAITFORONE, true) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // Anything else (an unconnected UDP socket reports next to nothing): try again,
            // without spinning should it persist.
            Err(_) => {
                std::thread::sleep(std::time::Duration::from_millis(1));
                continue;
            }
        };
        l.received.fetch_add(n as u64, Ordering::Relaxed);
        if l.muted.load(Ordering::Relaxed) {
            l.dropped.fetch_add(n as u64, Ordering::Relaxed);
            continue;
        }
        for (i, k) in keep.iter_mut().enumerate().take(n) {
            *k = false;
            match answer(b.get(i), tag, expires, &mut out) {
                Ok(true) if out.len() <= SLOT => {
                    // The answer replaces the request in its slot; the source address stays.
                    b.slot_mut(i)[..out.len()].copy_from_slice(&out);
                    b.set_window(i, 0, out.len());
                    *k = true;
                }
                Ok(false) => {}
                Ok(true) | Err(_) => {
                    l.malformed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        b.retain(&keep[..n]);
        let out_fd = match replies.get(turn % replies.len().max(1)) {
            Some(r) => r.as_raw_fd(),
            None => fd,
        };
        turn = turn.wrapping_add(1);
        let sent = b.send_all_to_sources(out_fd);
        l.answered.fetch_add(sent, Ordering::Relaxed);
    }
}
