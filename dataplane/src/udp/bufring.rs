//! A provided-buffer ring for io_uring: page-aligned ring memory (mmap) plus one contiguous
//! allocation of equally sized buffers, handed to the kernel and returned after use.

use std::io;
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::types::BufRingEntry;
use io_uring::Submitter;

/// Buffers the kernel picks from for multishot receives.
pub(crate) struct BufRing {
    ring: *mut BufRingEntry,
    ring_bytes: usize,
    entries: u16,
    bufs: Vec<u8>,
    buf_size: usize,
    tail: u16,
    pub(crate) bgid: u16,
}

impl BufRing {
    /// `entries` (a power of two) buffers of `buf_size` bytes, all available.
    pub(crate) fn new(entries: u16, buf_size: usize, bgid: u16) -> io::Result<Self> {
        if !entries.is_power_of_two() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "entries not a power of two",
            ));
        }
        let ring_bytes = usize::from(entries) * std::mem::size_of::<BufRingEntry>();
        // SAFETY: anonymous private mapping, no file; the result is checked.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                ring_bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let mut r = BufRing {
            ring: ptr.cast(),
            ring_bytes,
            entries,
            bufs: vec![0; usize::from(entries) * buf_size],
            buf_size,
            tail: 0,
            bgid,
        };
        for bid in 0..entries {
            r.push(bid);
        }
        r.publish();
        Ok(r)
    }

    /// Registers the ring with `submitter` under `bgid`.
    pub(crate) fn register(&self, submitter: &Submitter<'_>) -> io::Result<()> {
        // SAFETY: the ring memory lives as long as `self`; owners drop the IoUring (which
        // unregisters everything) before this ring, and never unmap it while requests run.
        unsafe {
            submitter.register_buf_ring_with_flags(self.ring as u64, self.entries, self.bgid, 0)
        }
    }

    /// Buffer `bid` (the whole buffer; the completion says how much is filled).
    pub(crate) fn buffer(&self, bid: u16) -> &[u8] {
        let start = usize::from(bid % self.entries) * self.buf_size;
        &self.bufs[start..start + self.buf_size]
    }

    /// Gives buffer `bid` back to the kernel (visible after [`BufRing::publish`]).
    pub(crate) fn push(&mut self, bid: u16) {
        let bid = bid % self.entries;
        let idx = usize::from(self.tail & (self.entries - 1));
        // SAFETY: idx < entries, inside the mapping; the kernel only reads entries between its
        // head and the published tail, and this one is past the published tail.
        let e = unsafe { &mut *self.ring.add(idx) };
        // SAFETY: bid < entries, so the offset is inside `bufs`.
        let addr = unsafe { self.bufs.as_mut_ptr().add(usize::from(bid) * self.buf_size) };
        e.set_addr(addr as u64);
        e.set_len(self.buf_size as u32);
        e.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
    }

    /// Gives up the memory without freeing it (requests may still write into it).
    pub(crate) fn leak(&mut self) {
        std::mem::forget(std::mem::take(&mut self.bufs));
        self.ring_bytes = 0;
    }

    /// Publishes the pushed buffers to the kernel.
    pub(crate) fn publish(&self) {
        // SAFETY: `ring` is the first entry of a live, page-aligned ring; the tail field is a
        // u16 the kernel reads with acquire semantics, so it is written atomically.
        let tail = unsafe { AtomicU16::from_ptr(BufRingEntry::tail(self.ring).cast_mut()) };
        tail.store(self.tail, Ordering::Release);
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        if self.ring_bytes > 0 {
            // SAFETY: the mapping made in `new`, unmapped once.
            unsafe { libc::munmap(self.ring.cast(), self.ring_bytes) };
        }
    }
}

impl std::fmt::Debug for BufRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BufRing")
            .field("entries", &self.entries)
            .field("buf_size", &self.buf_size)
            .finish()
    }
}
