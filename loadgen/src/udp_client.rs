//! The UDP client loop of one socket: a connected, non-blocking socket driven by the thread's
//! tokio reactor; requests and retransmissions go out in `sendmmsg` batches, responses come in
//! through `recvmmsg` batches. Nothing is allocated per request.

use crate::fine_timer::{sleep_until, FineTimer};
use crate::mmsg::Batch;
use crate::plan::{Plan, Share};
use crate::session::{Control, Session};
use crate::stats::Stats;
use crate::txn::Expiry;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::cell::RefCell;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Size of one outgoing datagram slot (requests are ~400 bytes).
const OUT_SLOT: usize = 1400;
/// Size of one incoming datagram slot.
const IN_SLOT: usize = 4096;

fn open(plan: &Plan, share: &Share) -> io::Result<UdpSocket> {
    let target = plan.target;
    let sock = Socket::new(
        Domain::for_address(target),
        Type::DGRAM,
        Some(Protocol::UDP),
    )?;
    sock.set_nonblocking(true)?;
    // Best effort: bigger buffers absorb bursts of a batch; the kernel caps them.
    let _ = sock.set_recv_buffer_size(4 << 20);
    let _ = sock.set_send_buffer_size(4 << 20);
    let local = match (share.source, target) {
        (Some(ip), _) => SocketAddr::new(ip, 0),
        (None, SocketAddr::V4(_)) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        (None, SocketAddr::V6(_)) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    };
    sock.bind(&SockAddr::from(local))?;
    sock.connect(&SockAddr::from(target))?;
    UdpSocket::from_std(sock.into())
}

/// Runs one UDP socket's share of the load to completion.
pub async fn run(plan: Arc<Plan>, share: Share, stats: Rc<RefCell<Stats>>, control: Arc<Control>) {
    let sock = match open(&plan, &share) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("loadgen: socket {}: {e}", share.index);
            stats.borrow_mut().errors.connect_error += 1;
            return;
        }
    };
    let local = match sock.local_addr() {
        Ok(a) => a.to_string(),
        Err(_) => "127.0.0.1:5060".to_string(),
    };
    let fd = sock.as_raw_fd();
    // Open-loop sends are due every few microseconds: tokio's millisecond timers would send
    // them late (see fine_timer). Closed loop waits only for answers and timeouts, where a
    // millisecond does not matter; and without a timerfd, tokio's timers it is.
    let timer = share.rate.and_then(|_| FineTimer::new().ok());
    let mut sess = Session::new(plan.clone(), share, &local, stats, control);
    let mut out = Batch::new(plan.batch, OUT_SLOT);
    let mut inb = Batch::new(plan.batch, IN_SLOT);
    let mut blocked_on_send = false;
    loop {
        let now = plan.now();
        if out.is_empty() && sess.finished(now) {
            break;
        }
        let mut progressed = false;

        // Timer E retransmissions (dropped if the batch is full: the next timer retries).
        let n = sess.expire(now).len();
        for i in 0..n {
            let Expiry::Retransmit(slot) = sess.expiry(i) else {
                continue;
            };
            if let Some(buf) = out.next_mut() {
                if let Some(len) = sess.format_retransmit(slot, buf) {
                    out.commit(len);
                    sess.retransmitted();
                }
            }
        }

        // New requests.
        let allowed = sess.allowed(now);
        for _ in 0..allowed {
            let Some(buf) = out.next_mut() else { break };
            if let Some(len) = sess.start_one(now, buf) {
                out.commit(len);
            }
        }

        // Flush.
        if !out.is_empty() {
            match sock.try_io(Interest::WRITABLE, || {
                out.send(fd, libc::MSG_DONTWAIT, false)
            }) {
                Ok(sent) => {
                    out.consume_front(sent);
                    blocked_on_send = false;
                    progressed = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => blocked_on_send = true,
                Err(_) => {
                    // E.g. ECONNREFUSED from an earlier ICMP port unreachable: that datagram
                    // is lost; its transaction retransmits or times out.
                    sess.stats().borrow_mut().errors.send_error += 1;
                    out.consume_front(1);
                }
            }
        }

        // Receive one batch.
        match sock.try_io(Interest::READABLE, || {
            inb.recv(fd, libc::MSG_DONTWAIT, false)
        }) {
            Ok(got) if got > 0 => {
                let now = plan.now();
                for i in 0..got {
                    sess.on_response(inb.get(i), now);
                }
                progressed = true;
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => progressed = true, // ECONNREFUSED and friends: consumed, try again
        }

        if progressed {
            tokio::task::yield_now().await;
            continue;
        }
        let wake = sess.next_wake(now);
        let deadline = plan.epoch + Duration::from_nanos(wake);
        tokio::select! {
            _ = sock.readable() => {}
            _ = sock.writable(), if blocked_on_send => {}
            _ = sleep_until(timer.as_ref(), deadline) => {}
        }
    }
}
