//! Batched UDP I/O: `recvmmsg`/`sendmmsg` over one preallocated arena of fixed-size slots.
//!
//! A [`Batch`] owns `cap` slots of `slot` bytes each. Receiving fills slots 0..n; sending sends
//! the filled slots, each optionally from an offset inside its slot (the echo's zero-copy
//! start-line rewrite) and optionally to the address stored with it (unconnected sockets).
//! The syscall headers are rebuilt before each call, so the arena may be reused freely and
//! nothing is allocated after construction.

use std::io;
use std::os::fd::RawFd;

/// A reusable arena of datagram slots for `recvmmsg`/`sendmmsg`.
pub struct Batch {
    data: Vec<u8>,
    slot: usize,
    /// Start of the payload inside each slot.
    offs: Vec<usize>,
    /// Length of the payload of each slot.
    lens: Vec<usize>,
    addrs: Vec<libc::sockaddr_storage>,
    addr_lens: Vec<libc::socklen_t>,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
    count: usize,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("cap", &self.offs.len())
            .field("slot", &self.slot)
            .field("count", &self.count)
            .finish()
    }
}

impl Batch {
    /// An arena of `cap` slots of `slot` bytes.
    pub fn new(cap: usize, slot: usize) -> Self {
        // SAFETY: sockaddr_storage, iovec and mmsghdr are plain C structs (integers and raw
        // pointers) for recvmmsg/sendmmsg, for which all-zero bytes are a valid value.
        let zero_addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let zero_hdr: libc::mmsghdr = unsafe { std::mem::zeroed() };
        let zero_iov = libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        };
        Batch {
            data: vec![0u8; cap * slot],
            slot,
            offs: vec![0; cap],
            lens: vec![0; cap],
            addrs: vec![zero_addr; cap],
            addr_lens: vec![0; cap],
            iovs: vec![zero_iov; cap],
            hdrs: vec![zero_hdr; cap],
            count: 0,
        }
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.offs.len()
    }

    /// True when no slot is filled.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// True when every slot is filled.
    pub fn is_full(&self) -> bool {
        self.count == self.offs.len()
    }

    /// Payload of filled slot `i`.
    pub fn get(&self, i: usize) -> &[u8] {
        let start = i * self.slot + self.offs[i];
        &self.data[start..start + self.lens[i]]
    }

    /// Whole slot `i`, for in-place edits before [`Batch::set_window`].
    pub fn slot_mut(&mut self, i: usize) -> &mut [u8] {
        let start = i * self.slot;
        &mut self.data[start..start + self.slot]
    }

    /// Makes slot `i` carry `len` bytes starting at `off` inside the slot.
    pub fn set_window(&mut self, i: usize, off: usize, len: usize) {
        debug_assert!(off + len <= self.slot);
        self.offs[i] = off;
        self.lens[i] = len;
    }

    /// The next free slot, to format an outgoing datagram into; `None` when full.
    pub fn next_mut(&mut self) -> Option<&mut [u8]> {
        if self.is_full() {
            return None;
        }
        let i = self.count;
        Some(self.slot_mut(i))
    }

    /// Marks the slot returned by [`Batch::next_mut`] as filled with `len` bytes.
    pub fn commit(&mut self, len: usize) {
        let i = self.count;
        self.offs[i] = 0;
        self.lens[i] = len.min(self.slot);
        self.count += 1;
    }

    /// Drops the first `n` filled slots (after a partial send), keeping the rest in order.
    pub fn consume_front(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        if n >= self.count {
            self.count = 0;
            return;
        }
        for i in n..self.count {
            let (src, dst) = (i * self.slot, (i - n) * self.slot);
            self.data.copy_within(src..src + self.slot, dst);
            self.offs[i - n] = self.offs[i];
            self.lens[i - n] = self.lens[i];
            self.addrs[i - n] = self.addrs[i];
            self.addr_lens[i - n] = self.addr_lens[i];
        }
        self.count -= n;
    }

    /// Keeps the filled slots `i` with `keep[i]` (in order) and drops the others; slots past
    /// `keep.len()` are dropped too.
    pub fn retain(&mut self, keep: &[bool]) {
        let n = self.count.min(keep.len());
        let mut to = 0;
        for (from, _) in keep.iter().enumerate().take(n).filter(|(_, &k)| k) {
            if from != to {
                let (src, dst) = (from * self.slot, to * self.slot);
                self.data.copy_within(src..src + self.slot, dst);
                self.offs[to] = self.offs[from];
                self.lens[to] = self.lens[from];
                self.addrs[to] = self.addrs[from];
                self.addr_lens[to] = self.addr_lens[from];
            }
            to += 1;
        }
        self.count = to;
    }

    fn prepare(&mut self, n: usize, full_slots: bool, with_addr: bool) {
        let base = self.data.as_mut_ptr();
        for i in 0..n {
            let (off, len) = if full_slots {
                (0, self.slot)
            } else {
                (self.offs[i], self.lens[i])
            };
            // Pointer arithmetic stays inside `data` (i < cap, off + len <= slot).
            self.iovs[i] = libc::iovec {
                iov_base: base.wrapping_add(i * self.slot + off).cast(),
                iov_len: len,
            };
            let h = &mut self.hdrs[i].msg_hdr;
            h.msg_iov = &mut self.iovs[i];
            h.msg_iovlen = 1;
            if with_addr {
                if full_slots {
                    self.addr_lens[i] = std::mem::size_of::<libc::sockaddr_storage>() as _;
                }
                h.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_storage).cast();
                h.msg_namelen = self.addr_lens[i];
            } else {
                h.msg_name = std::ptr::null_mut();
                h.msg_namelen = 0;
            }
            h.msg_control = std::ptr::null_mut();
            h.msg_controllen = 0;
            h.msg_flags = 0;
            self.hdrs[i].msg_len = 0;
        }
    }

    /// Receives up to `capacity` datagrams with `recvmmsg(flags)`; with `with_addr` the source
    /// addresses are kept for [`Batch::send`]. Returns the number received (0 never means EOF
    /// for UDP; `WouldBlock` comes back as an error).
    pub fn recv(&mut self, fd: RawFd, flags: libc::c_int, with_addr: bool) -> io::Result<usize> {
        let cap = self.capacity();
        self.prepare(cap, true, with_addr);
        // SAFETY: `hdrs[..cap]` point into `iovs`, `addrs` and `data`, all owned by `self`,
        // alive and not otherwise borrowed for the duration of the call; each iovec covers
        // exactly one slot inside `data`; the timeout pointer is null.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                self.hdrs.as_mut_ptr(),
                cap as libc::c_uint,
                flags,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            self.count = 0;
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        for i in 0..n {
            self.offs[i] = 0;
            self.lens[i] = self.hdrs[i].msg_len as usize;
            if with_addr {
                self.addr_lens[i] = self.hdrs[i].msg_hdr.msg_namelen;
            }
        }
        self.count = n;
        Ok(n)
    }

    /// Sends filled slots `0..len()` with `sendmmsg(flags)` (to their stored source address
    /// with `with_addr`, else on a connected socket). Returns how many were sent, which may be
    /// fewer than `len()`.
    pub fn send(&mut self, fd: RawFd, flags: libc::c_int, with_addr: bool) -> io::Result<usize> {
        let n = self.count;
        if n == 0 {
            return Ok(0);
        }
        self.prepare(n, false, with_addr);
        // SAFETY: `hdrs[..n]` point into `iovs`, `addrs` and `data`, all owned by `self` and
        // alive for the call; each iovec lies inside its slot of `data` (set_window/commit
        // keep off + len <= slot); address lengths are those recvmmsg reported.
        let sent = unsafe { libc::sendmmsg(fd, self.hdrs.as_mut_ptr(), n as libc::c_uint, flags) };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(sent as usize)
    }

    /// Sends every filled slot to its stored source address on a blocking socket (a server's
    /// answers), again after `EINTR`; a datagram the kernel refuses (a source that went away)
    /// is dropped. Returns how many were sent.
    pub fn send_all_to_sources(&mut self, fd: RawFd) -> u64 {
        let mut total = 0;
        while !self.is_empty() {
            match self.send(fd, 0, true) {
                Ok(sent) => {
                    total += sent as u64;
                    self.consume_front(sent.max(1));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => self.consume_front(1),
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(payloads: &[&[u8]]) -> Batch {
        let mut b = Batch::new(4, 16);
        for p in payloads {
            b.next_mut().expect("free slot")[..p.len()].copy_from_slice(p);
            b.commit(p.len());
        }
        b
    }

    #[test]
    fn retain_keeps_the_marked_slots_in_order() {
        let mut b = filled(&[b"a", b"bb", b"ccc", b"dddd"]);
        b.set_window(2, 1, 2);
        b.retain(&[false, true, true, false]);
        assert_eq!(b.count, 2);
        assert_eq!((b.get(0), b.get(1)), (&b"bb"[..], &b"cc"[..]));
        b.retain(&[true]);
        assert_eq!((b.count, b.get(0)), (1, &b"bb"[..]));
        b.retain(&[]);
        assert!(b.is_empty());
    }
}
