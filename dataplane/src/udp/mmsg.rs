//! Preallocated batches for `recvmmsg`/`sendmmsg`: no allocation per datagram. The pointer
//! tables are rebuilt right before each system call, so the batches may be moved freely.

use std::io;
use std::net::SocketAddr;
use std::os::fd::RawFd;

use super::sockaddr::{from_storage, to_storage, zeroed};

/// Receive side: `n` slots of `slot` bytes each.
pub(crate) struct RecvBatch {
    buf: Vec<u8>,
    slot: usize,
    addrs: Vec<libc::sockaddr_storage>,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
}

fn empty_iovec() -> libc::iovec {
    libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }
}

fn empty_mmsghdr() -> libc::mmsghdr {
    // SAFETY: mmsghdr is plain data (pointers and integers); all zeroes is a valid empty value.
    unsafe { std::mem::zeroed() }
}

impl RecvBatch {
    pub(crate) fn new(n: usize, slot: usize) -> Self {
        RecvBatch {
            buf: vec![0; n * slot],
            slot,
            addrs: vec![zeroed(); n],
            iovs: vec![empty_iovec(); n],
            hdrs: vec![empty_mmsghdr(); n],
        }
    }

    /// One `recvmmsg` (non-blocking); the number of datagrams received.
    pub(crate) fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        let n = self.hdrs.len();
        for i in 0..n {
            self.iovs[i] = libc::iovec {
                // SAFETY: i * slot is within `buf` (len n * slot).
                iov_base: unsafe { self.buf.as_mut_ptr().add(i * self.slot) }.cast(),
                iov_len: self.slot,
            };
            let h = &mut self.hdrs[i].msg_hdr;
            h.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_storage).cast();
            h.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_iov = &mut self.iovs[i];
            h.msg_iovlen = 1;
            h.msg_control = std::ptr::null_mut();
            h.msg_controllen = 0;
            h.msg_flags = 0;
            self.hdrs[i].msg_len = 0;
        }
        // SAFETY: every header points at live, correctly sized buffers owned by `self`, which
        // stays borrowed mutably for the duration of the call; MSG_DONTWAIT never blocks.
        let r = unsafe {
            libc::recvmmsg(
                fd,
                self.hdrs.as_mut_ptr(),
                n as u32,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(r as usize)
        }
    }

    /// Datagram `i` of the last `recv`: `None` if it was truncated (larger than a slot).
    pub(crate) fn data(&self, i: usize) -> Option<&[u8]> {
        let h = &self.hdrs[i];
        if h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
            return None;
        }
        let len = (h.msg_len as usize).min(self.slot);
        Some(&self.buf[i * self.slot..i * self.slot + len])
    }

    /// Sender of datagram `i`.
    pub(crate) fn addr(&self, i: usize) -> Option<SocketAddr> {
        from_storage(&self.addrs[i], self.hdrs[i].msg_hdr.msg_namelen)
    }

    /// Raw sender of datagram `i` (for replying without conversion).
    pub(crate) fn raw_addr(&self, i: usize) -> (&libc::sockaddr_storage, libc::socklen_t) {
        (&self.addrs[i], self.hdrs[i].msg_hdr.msg_namelen)
    }
}

/// Send side: up to `n` outgoing datagrams, each with its own reusable buffer.
pub(crate) struct SendBatch {
    bufs: Vec<Vec<u8>>,
    addrs: Vec<libc::sockaddr_storage>,
    addr_lens: Vec<libc::socklen_t>,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
    count: usize,
    cursor: usize,
}

impl SendBatch {
    pub(crate) fn new(n: usize) -> Self {
        SendBatch {
            bufs: (0..n).map(|_| Vec::new()).collect(),
            addrs: vec![zeroed(); n],
            addr_lens: vec![0; n],
            iovs: vec![empty_iovec(); n],
            hdrs: vec![empty_mmsghdr(); n],
            count: 0,
            cursor: 0,
        }
    }

    /// The cleared buffer of the next datagram, or `None` when the batch is full.
    pub(crate) fn next_buf(&mut self) -> Option<&mut Vec<u8>> {
        let b = self.bufs.get_mut(self.count)?;
        b.clear();
        Some(b)
    }

    /// Commits the datagram written into `next_buf` to a raw address.
    pub(crate) fn commit_raw(&mut self, addr: &libc::sockaddr_storage, len: libc::socklen_t) {
        if self.count < self.bufs.len() && !self.bufs[self.count].is_empty() {
            self.addrs[self.count] = *addr;
            self.addr_lens[self.count] = len;
            self.count += 1;
        }
    }

    /// Commits the datagram written into `next_buf` to `to`.
    pub(crate) fn commit_to(&mut self, to: SocketAddr) {
        if self.count < self.bufs.len() && !self.bufs[self.count].is_empty() {
            self.addr_lens[self.count] = to_storage(to, &mut self.addrs[self.count]);
            self.count += 1;
        }
    }

    /// Datagrams committed but not yet sent.
    pub(crate) fn pending(&self) -> usize {
        self.count - self.cursor
    }

    /// The next pending datagram: its bytes and raw destination.
    pub(crate) fn peek(&self) -> Option<(&[u8], &libc::sockaddr_storage, libc::socklen_t)> {
        (self.cursor < self.count).then(|| {
            let i = self.cursor;
            (&self.bufs[i][..], &self.addrs[i], self.addr_lens[i])
        })
    }

    /// Gives up on the next pending datagram.
    pub(crate) fn skip_one(&mut self) {
        if self.cursor < self.count {
            self.cursor += 1;
        }
    }

    /// Forgets everything (sent or not).
    pub(crate) fn clear(&mut self) {
        self.count = 0;
        self.cursor = 0;
    }

    /// One `sendmmsg` of the pending datagrams (non-blocking); the number sent.
    pub(crate) fn send(&mut self, fd: RawFd) -> io::Result<usize> {
        let (from, to) = (self.cursor, self.count);
        for i in from..to {
            self.iovs[i] = libc::iovec {
                iov_base: self.bufs[i].as_mut_ptr().cast(),
                iov_len: self.bufs[i].len(),
            };
            let h = &mut self.hdrs[i].msg_hdr;
            h.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_storage).cast();
            h.msg_namelen = self.addr_lens[i];
            h.msg_iov = &mut self.iovs[i];
            h.msg_iovlen = 1;
            h.msg_control = std::ptr::null_mut();
            h.msg_controllen = 0;
            h.msg_flags = 0;
        }
        // SAFETY: headers from..to point at live buffers owned by `self`, borrowed mutably for
        // the call; MSG_DONTWAIT never blocks.
        let r = unsafe {
            libc::sendmmsg(
                fd,
                self.hdrs[from..].as_mut_ptr(),
                (to - from) as u32,
                libc::MSG_DONTWAIT,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        self.cursor += r as usize;
        Ok(r as usize)
    }
}

impl std::fmt::Debug for RecvBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvBatch")
            .field("slots", &self.hdrs.len())
            .field("slot", &self.slot)
            .finish()
    }
}

impl std::fmt::Debug for SendBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendBatch")
            .field("count", &self.count)
            .field("cursor", &self.cursor)
            .finish()
    }
}
