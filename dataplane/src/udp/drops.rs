//! Kernel receive drops of one UDP socket: datagrams the kernel threw away because the socket's
//! receive buffer was full (the worker fell behind), read once a second with
//! `getsockopt(SO_MEMINFO)` off the receive path and added to the worker's
//! [`DropReason::UdpReceiveBuffer`] count. Without this, overload on UDP is invisible: the
//! datagrams never reach user space.

use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::Duration;

use tokio::net::UdpSocket;

use crate::ctx::WorkerCtx;
use crate::{DropReason, Handler};

/// How often the kernel's drop count is read.
const INTERVAL: Duration = Duration::from_secs(1);

/// The socket's cumulative drop count (`sk_drops`), or `None` when the kernel does not say.
pub(crate) fn kernel_drops(sock: &impl AsRawFd) -> Option<u32> {
    let mut info = [0u32; libc::SK_MEMINFO_DROPS as usize + 1];
    let mut len = std::mem::size_of_val(&info) as libc::socklen_t;
    // SAFETY: `info` is a writable buffer of `len` bytes that outlives the call; the kernel
    // writes at most `len` bytes and updates `len` to what it wrote.
    let rc = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_MEMINFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    let needed = (libc::SK_MEMINFO_DROPS as usize + 1) * std::mem::size_of::<u32>();
    if rc != 0 || (len as usize) < needed {
        return None;
    }
    info.get(libc::SK_MEMINFO_DROPS as usize).copied()
}

/// Adds the growth of `sock`'s kernel drop count to the worker's counters once a second, and
/// once more when the worker shuts down. The first reading is the baseline.
pub(crate) async fn sample<H: Handler>(ctx: Rc<WorkerCtx<H>>, sock: Rc<UdpSocket>) {
    let Some(mut last) = kernel_drops(&*sock) else {
        return;
    };
    let shutdown = ctx.shutdown.clone();
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stopping = tokio::select! {
            _ = shutdown.wait() => true,
            _ = tick.tick() => false,
        };
        if let Some(now) = kernel_drops(&*sock) {
            // The kernel's counter is 32 bits and wraps.
            let grown = now.wrapping_sub(last);
            if grown > 0 {
                ctx.stats()
                    .add_dropped(DropReason::UdpReceiveBuffer, u64::from(grown));
            }
            last = now;
        }
        if stopping {
            return;
        }
    }
}
