//! The epoll UDP loop: wait for readiness, drain the socket with `recvmmsg` batches, call the
//! handler per datagram, send the batch's replies with `sendmmsg`.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::mmsg::{RecvBatch, SendBatch};
use super::{answer, Datagram};
use crate::counters::WorkerCounters;
use crate::ctx::WorkerCtx;
use crate::{DropReason, Handler};

/// Batches handled before yielding to the worker's other tasks.
const BATCHES_PER_YIELD: usize = 16;

/// Runs until the socket fails (shutdown cancels it from outside).
pub(crate) async fn run<H: Handler>(ctx: &WorkerCtx<H>, sock: &UdpSocket, local: SocketAddr) {
    let batch = ctx.limits.udp_batch.max(1);
    let mut rx = RecvBatch::new(batch, ctx.limits.max_message.max(1));
    let mut tx = SendBatch::new(batch);
    let fd = sock.as_raw_fd();
    let stats = ctx.stats();
    loop {
        if let Err(e) = sock.readable().await {
            tracing::error!(worker = ctx.index, %local, error = %e, "UDP socket failed");
            return;
        }
        for _ in 0..BATCHES_PER_YIELD {
            let n = match sock.try_io(Interest::READABLE, || rx.recv(fd)) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    stats.add_dropped(DropReason::RecvError, 1);
                    break;
                }
            };
            if n == 0 {
                break;
            }
            handle_batch(ctx, &rx, n, &mut tx, local);
            if tx.pending() > 0 {
                flush(ctx, sock, &mut tx, stats).await;
            }
            if n < batch {
                break;
            }
        }
        tokio::task::yield_now().await;
    }
}

fn handle_batch<H: Handler>(
    ctx: &WorkerCtx<H>,
    rx: &RecvBatch,
    n: usize,
    tx: &mut SendBatch,
    local: SocketAddr,
) {
    let stats = ctx.stats();
    let mut received = 0;
    for i in 0..n {
        let Some(data) = rx.data(i) else {
            stats.add_dropped(DropReason::Oversize, 1);
            continue;
        };
        if data.len() > ctx.limits.max_message {
            stats.add_dropped(DropReason::Oversize, 1);
            continue;
        }
        let Some(remote) = rx.addr(i) else { continue };
        received += 1;
        let Some(out) = tx.next_buf() else { break };
        match answer(ctx, data, remote, local, out) {
            Datagram::ToSender => {
                let (addr, len) = rx.raw_addr(i);
                tx.commit_raw(addr, len);
            }
            Datagram::To(to) => tx.commit_to(to),
            Datagram::Nothing => {}
        }
    }
    stats.add_received(received);
}

/// Sends every pending datagram, waiting for writability up to `udp_send_wait` in all.
async fn flush<H>(
    ctx: &WorkerCtx<H>,
    sock: &UdpSocket,
    tx: &mut SendBatch,
    stats: &WorkerCounters,
) {
    let fd = sock.as_raw_fd();
    let mut deadline: Option<Instant> = None;
    while tx.pending() > 0 {
        match sock.try_io(Interest::WRITABLE, || tx.send(fd)) {
            Ok(n) => stats.add_sent(n as u64),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let d = *deadline.get_or_insert_with(|| Instant::now() + ctx.limits.udp_send_wait);
                match tokio::time::timeout_at(d, sock.writable()).await {
                    Ok(Ok(())) => {}
                    _ => {
                        stats.add_dropped(DropReason::SendBufferFull, tx.pending() as u64);
                        break;
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                // The first pending datagram failed (bad address, unreachable...): skip it.
                stats.add_dropped(DropReason::SendFailed, 1);
                tx.skip_one();
            }
        }
    }
    tx.clear();
}
