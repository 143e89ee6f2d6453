//! The io_uring UDP loop: one multishot `recvmsg` per socket drawing from a provided-buffer ring
//! (re-armed when a completion comes without `F_MORE`); the replies of a drain go out in
//! `sendmmsg` batches of `udp_batch`, and only what the socket refuses for now (`EAGAIN`) becomes
//! io_uring `sendmsg` submissions, which wait in the kernel for room. (Every reply as an io_uring
//! `sendmsg` cost 2-10 % more CPU per request on kernel 6.18: docs/performance.md.)
//!
//! Threading: the ring's fd is pollable, so the loop is an ordinary task on the worker's tokio
//! runtime (`AsyncFd` on the ring fd); TCP/TLS tasks share the same thread and event loop.
//! Shutdown cancels the receive and waits (bounded) for in-flight requests before the memory
//! they use is freed; memory still in use after that is leaked rather than freed.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use io_uring::{cqueue, opcode, squeue, types, IoUring};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::net::UdpSocket;

use super::bufring::BufRing;
use super::mmsg::SendBatch;
use super::sockaddr::{from_storage, zeroed};
use super::{answer, Datagram};
use crate::ctx::WorkerCtx;
use crate::{DropReason, Handler};

const RECV: u64 = u64::MAX;
const CANCEL: u64 = u64::MAX - 1;
const BGID: u16 = 0;
/// Bytes of `io_uring_recvmsg_out` before the name in each provided buffer.
const RECVMSG_OUT: usize = 16;
const NAME_LEN: usize = std::mem::size_of::<libc::sockaddr_storage>();

/// Checks that this kernel and sandbox allow the backend: ring setup, opcode support, a buffer
/// ring, and one real multishot receive on a loopback socket. Runs on a throwaway thread: ring
/// teardown can queue task work (a signal-like notification) on the creating thread, which
/// would make the caller's later blocking socket calls with timeouts fail with EINTR.
pub(crate) fn probe() -> Result<(), String> {
    std::thread::Builder::new()
        .name("io-uring-probe".into())
        .spawn(probe_here)
        .map_err(|e| e.to_string())?
        .join()
        .map_err(|_| "probe panicked".to_string())?
}

fn probe_here() -> Result<(), String> {
    let ring = IoUring::new(8).map_err(|e| format!("io_uring_setup: {e}"))?;
    let mut p = io_uring::Probe::new();
    ring.submitter()
        .register_probe(&mut p)
        .map_err(|e| format!("probe: {e}"))?;
    for code in [
        opcode::RecvMsgMulti::CODE,
        opcode::SendMsg::CODE,
        opcode::AsyncCancel::CODE,
    ] {
        if !p.is_supported(code) {
            return Err(format!("opcode {code} unsupported"));
        }
    }
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let mut u =
        Uring::new(ring, sock.as_raw_fd(), 8, 256).map_err(|e| format!("buffer ring: {e}"))?;
    sock.send_to(b"probe", sock.local_addr().map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let ts = types::Timespec::from(Duration::from_secs(1));
    let args = types::SubmitArgs::new().timespec(&ts);
    let _ = u.ring.submitter().submit_with_args(1, &args);
    let cqe = u
        .ring
        .completion()
        .next()
        .ok_or("no completion within 1 s")?;
    if cqe.result() < 0 {
        return Err(format!("multishot recvmsg: errno {}", -cqe.result()));
    }
    if cqueue::buffer_select(cqe.flags()).is_none() {
        return Err("no provided buffer selected".into());
    }
    if !cqueue::more(cqe.flags()) {
        u.armed = false;
    }
    Ok(())
}

/// A ring that does not interrupt the worker to run io_uring task work for each arriving
/// datagram (`COOP_TASKRUN`): the work runs at the worker's next kernel entry, and the `TASKRUN`
/// flag tells the loop to enter when work is pending. Measured on kernel 6.18: 141-150k/s ->
/// 167-170k/s for one pinned worker (docs/performance.md). Falls back to a plain ring on older
/// kernels. (`DEFER_TASKRUN` stalls here: the ring fd does not wake the reactor for deferred
/// work; it would need an eventfd.)
fn new_ring(entries: u32) -> io::Result<IoUring> {
    match IoUring::builder()
        .setup_coop_taskrun()
        .setup_taskrun_flag()
        .build(entries)
    {
        Ok(ring) => Ok(ring),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => IoUring::new(entries),
        Err(e) => Err(e),
    }
}

/// One pending `sendmsg`: its memory must stay put until the completion.
struct SendSlot {
    buf: Vec<u8>,
    addr: libc::sockaddr_storage,
    iov: libc::iovec,
    hdr: libc::msghdr,
}

/// A ring with its buffer ring, receive header and send slots, for one socket.
struct Uring {
    // Field order matters: the ring is dropped (closed) before the memory it points at.
    ring: IoUring,
    bufs: BufRing,
    recv_hdr: Box<libc::msghdr>,
    slots: Box<[SendSlot]>,
    free: Vec<usize>,
    fd: RawFd,
    armed: bool,
}

impl Uring {
    fn new(ring: IoUring, fd: RawFd, buffers: u16, buf_size: usize) -> io::Result<Self> {
        let bufs = BufRing::new(buffers, buf_size, BGID)?;
        bufs.register(&ring.submitter())?;
        // SAFETY: msghdr is plain data; zeroed is empty.
        let mut recv_hdr: Box<libc::msghdr> = Box::new(unsafe { std::mem::zeroed() });
        recv_hdr.msg_namelen = NAME_LEN as libc::socklen_t;
        let slots: Box<[SendSlot]> = (0..usize::from(buffers))
            .map(|_| SendSlot {
                buf: Vec::new(),
                addr: zeroed(),
                iov: libc::iovec {
                    iov_base: std::ptr::null_mut(),
                    iov_len: 0,
                },
                // SAFETY: as above.
                hdr: unsafe { std::mem::zeroed() },
            })
            .collect();
        let free = (0..slots.len()).rev().collect();
        let mut u = Uring {
            ring,
            bufs,
            recv_hdr,
            slots,
            free,
            fd,
            armed: false,
        };
        u.arm()?;
        Ok(u)
    }

    fn push(&mut self, e: &squeue::Entry) -> io::Result<()> {
        // SAFETY: every entry pushed references memory owned by `self` (receive header, buffer
        // ring, send slots) that outlives the request (see Drop).
        while unsafe { self.ring.submission().push(e) }.is_err() {
            self.ring.submit()?;
        }
        Ok(())
    }

    fn arm(&mut self) -> io::Result<()> {
        let e = opcode::RecvMsgMulti::new(types::Fd(self.fd), &*self.recv_hdr, self.bufs.bgid)
            .build()
            .user_data(RECV);
        self.push(&e)?;
        self.armed = true;
        self.ring.submit()?;
        Ok(())
    }

    /// Submits send slot `i` (its buffer already holds the datagram) to the raw address.
    fn submit_slot(
        &mut self,
        i: usize,
        addr: &libc::sockaddr_storage,
        len: libc::socklen_t,
    ) -> io::Result<()> {
        let s = &mut self.slots[i];
        s.addr = *addr;
        s.iov = libc::iovec {
            iov_base: s.buf.as_mut_ptr().cast(),
            iov_len: s.buf.len(),
        };
        s.hdr.msg_name = (&mut s.addr as *mut libc::sockaddr_storage).cast();
        s.hdr.msg_namelen = len;
        s.hdr.msg_iov = &mut s.iov;
        s.hdr.msg_iovlen = 1;
        let e = opcode::SendMsg::new(types::Fd(self.fd), &s.hdr)
            .build()
            .user_data(i as u64);
        self.push(&e)
    }

    fn in_flight(&self) -> bool {
        self.armed || self.free.len() < self.slots.len()
    }
}

impl Drop for Uring {
    fn drop(&mut self) {
        // Cancel the receive and wait (bounded) until nothing references our memory.
        if self.armed {
            let e = opcode::AsyncCancel::new(RECV).build().user_data(CANCEL);
            let _ = self.push(&e);
        }
        let ts = types::Timespec::from(Duration::from_millis(100));
        for _ in 0..20 {
            if !self.in_flight() {
                return;
            }
            let args = types::SubmitArgs::new().timespec(&ts);
            let _ = self.ring.submitter().submit_with_args(1, &args);
            for cqe in self.ring.completion() {
                match cqe.user_data() {
                    RECV if !cqueue::more(cqe.flags()) => self.armed = false,
                    RECV | CANCEL => {}
                    i => self.free.push(i as usize),
                }
            }
        }
        tracing::warn!("io_uring requests still in flight at shutdown; leaking their buffers");
        std::mem::forget(std::mem::take(&mut self.slots));
        self.bufs.leak();
    }
}

/// Runs until shutdown (handled here, so in-flight requests are drained) or a ring error.
pub(crate) async fn run<H: Handler>(
    ctx: &WorkerCtx<H>,
    sock: &UdpSocket,
    local: SocketAddr,
) -> io::Result<()> {
    let buffers = (ctx.limits.udp_batch.max(1) * 4)
        .next_power_of_two()
        .clamp(64, 4096) as u16;
    let buf_size = RECVMSG_OUT + NAME_LEN + ctx.limits.max_message.max(1);
    let ring = new_ring(u32::from(buffers) * 2)?;
    let mut u = Uring::new(ring, sock.as_raw_fd(), buffers, buf_size)?;
    // SAFETY: the ring's fd stays open while `u` lives, and `afd` (declared later) is dropped
    // before `u`.
    let afd = unsafe { AsyncFd::register_with_interest(u.ring.as_raw_fd(), Interest::READABLE) }?;
    let stats = ctx.stats();
    let shutdown = ctx.shutdown.clone();
    let mut tx = SendBatch::new(ctx.limits.udp_batch.max(1));
    let mut peer_addr = zeroed();
    let mut cqes: Vec<(u64, i32, u32)> = Vec::with_capacity(usize::from(buffers) * 2);
    loop {
        let mut guard = tokio::select! {
            biased;
            _ = shutdown.wait() => return Ok(()),
            g = afd.readable() => g?,
        };
        loop {
            let mut received = 0u64;
            let mut n = 0usize;
            if u.ring.submission().taskrun() {
                // Pending task work (receives, send completions): an enter with GETEVENTS,
                // which `submit` adds when the TASKRUN flag is up, runs it now.
                u.ring.submit()?;
            }
            cqes.clear();
            cqes.extend(
                u.ring
                    .completion()
                    .map(|c| (c.user_data(), c.result(), c.flags())),
            );
            for &(user_data, result, flags) in &cqes {
                n += 1;
                match user_data {
                    RECV => {
                        if !cqueue::more(flags) {
                            u.armed = false;
                        }
                        let Some(bid) = cqueue::buffer_select(flags) else {
                            // -ENOBUFS (all buffers busy) or another error: re-armed below.
                            if result != -libc::ENOBUFS {
                                stats.add_dropped(DropReason::RecvError, 1);
                            }
                            continue;
                        };
                        let len = usize::try_from(result).unwrap_or(0);
                        if tx.next_buf().is_none() {
                            flush(ctx, &mut u, &mut tx)?;
                        }
                        let buf = &u.bufs.buffer(bid)[..len.min(buf_size)];
                        let Some(out) = tx.next_buf() else {
                            u.bufs.push(bid);
                            continue;
                        };
                        match types::RecvMsgOut::parse(buf, &u.recv_hdr) {
                            Ok(m)
                                if m.is_payload_truncated()
                                    || m.payload_data().len() > ctx.limits.max_message =>
                            {
                                stats.add_dropped(DropReason::Oversize, 1);
                            }
                            Ok(m) if !m.is_name_data_truncated() => {
                                let name = m.name_data();
                                let name_len = name.len().min(NAME_LEN);
                                // SAFETY: copying at most sizeof(sockaddr_storage) bytes into one.
                                unsafe {
                                    std::ptr::copy_nonoverlapping(
                                        name.as_ptr(),
                                        (&mut peer_addr as *mut libc::sockaddr_storage).cast(),
                                        name_len,
                                    )
                                };
                                if let Some(remote) =
                                    from_storage(&peer_addr, name_len as libc::socklen_t)
                                {
                                    received += 1;
                                    match answer(ctx, m.payload_data(), remote, local, out) {
                                        Datagram::ToSender => {
                                            tx.commit_raw(&peer_addr, name_len as libc::socklen_t)
                                        }
                                        Datagram::To(to) => tx.commit_to(to),
                                        Datagram::Nothing => {}
                                    }
                                }
                            }
                            _ => {}
                        }
                        u.bufs.push(bid);
                    }
                    CANCEL => {}
                    slot => {
                        u.free.push(slot as usize);
                        if result < 0 {
                            stats.add_dropped(DropReason::SendFailed, 1);
                        } else {
                            stats.add_sent(1);
                        }
                    }
                }
            }
            stats.add_received(received);
            flush(ctx, &mut u, &mut tx)?;
            u.bufs.publish();
            if !u.armed && !shutdown.is_triggered() {
                u.arm()?;
            }
            // No empty io_uring_enter per wake-up; but an overflowed completion queue is only
            // flushed by entering the kernel.
            let mut sq = u.ring.submission();
            let enter = !sq.is_empty() || sq.cq_overflow() || sq.taskrun();
            sq.sync();
            drop(sq);
            if enter {
                u.ring.submit()?;
            }
            if n == 0 {
                break;
            }
        }
        guard.clear_ready();
    }
}

/// Sends the batched replies with `sendmmsg`; what the socket does not take now goes to
/// [`to_ring`].
fn flush<H: Handler>(ctx: &WorkerCtx<H>, u: &mut Uring, tx: &mut SendBatch) -> io::Result<()> {
    let stats = ctx.stats();
    while tx.pending() > 0 {
        match tx.send(u.fd) {
            Ok(n) => stats.add_sent(n as u64),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let dropped = to_ring(u, tx)?;
                stats.add_dropped(DropReason::SendBufferFull, dropped);
            }
            Err(_) => {
                // The first pending datagram failed (bad address, unreachable...): skip it.
                stats.add_dropped(DropReason::SendFailed, 1);
                tx.skip_one();
            }
        }
    }
    tx.clear();
    Ok(())
}

/// Moves every pending datagram of `tx` into a free send slot and submits it as an io_uring
/// `sendmsg` (the kernel waits for room in the socket buffer; the completion is counted as sent
/// or failed). Returns how many were dropped because every slot was in flight.
fn to_ring(u: &mut Uring, tx: &mut SendBatch) -> io::Result<u64> {
    let mut dropped = 0;
    while let Some((data, addr, len)) = tx.peek() {
        match u.free.pop() {
            Some(i) => {
                let b = &mut u.slots[i].buf;
                b.clear();
                b.extend_from_slice(data);
                u.submit_slot(i, addr, len)?;
            }
            None => dropped += 1,
        }
        tx.skip_one();
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udp::sockaddr::to_storage;

    /// The `EAGAIN` fallback: pending datagrams become ring submissions, reach the peer, and
    /// their slots come back; with no free slot they are counted as dropped, not lost silently.
    #[test]
    fn refused_replies_go_through_the_ring() {
        if let Err(why) = probe() {
            eprintln!("io_uring unavailable, skipped: {why}");
            return;
        }
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let peer = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        peer.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let ring = new_ring(16).expect("ring");
        let mut u = Uring::new(ring, sock.as_raw_fd(), 8, 256).expect("uring");
        let mut to = zeroed();
        let to_len = to_storage(peer.local_addr().expect("addr"), &mut to);
        let mut tx = SendBatch::new(12);
        for i in 0..12 {
            let b = tx.next_buf().expect("room");
            b.extend_from_slice(format!("reply {i}").as_bytes());
            tx.commit_raw(&to, to_len);
        }
        // 8 slots: 8 go through the ring, 4 are dropped.
        assert_eq!(to_ring(&mut u, &mut tx).expect("submit"), 4);
        assert_eq!(tx.pending(), 0);
        u.ring.submit().expect("submit");
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        for _ in 0..8 {
            let n = peer.recv(&mut buf).expect("datagram");
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        got.sort();
        let mut want: Vec<String> = (0..8).map(|i| format!("reply {i}")).collect();
        want.sort();
        assert_eq!(got, want);
        let mut back = 0;
        for _ in 0..50 {
            u.ring.submit_and_wait(1).expect("wait");
            for cqe in u.ring.completion() {
                if cqe.user_data() < RECV - 1 {
                    assert!(cqe.result() > 0, "send failed: {}", cqe.result());
                    u.free.push(cqe.user_data() as usize);
                    back += 1;
                }
            }
            if back == 8 {
                break;
            }
        }
        assert_eq!(u.free.len(), 8, "every slot comes back");
    }
}
