//! A per-worker pool of stream read buffers. A connection holds a buffer only while bytes may
//! be waiting for it (a message in progress, or a read that filled the buffer and may have left
//! more in the TLS layer); between messages it gives the buffer back, so an idle connection
//! costs no read buffer. Only buffers of the standard size are kept, and at most `MAX_POOLED`.

/// Size of a standard read buffer; connections grow theirs (up to `max_message + 1`) for large
/// messages, and such buffers are freed rather than pooled.
pub(crate) const BUFFER_SIZE: usize = 4096;
/// Most buffers kept for reuse per worker.
const MAX_POOLED: usize = 256;

/// Free read buffers of one worker.
#[derive(Debug, Default)]
pub(crate) struct BufferPool {
    free: Vec<Vec<u8>>,
}

impl BufferPool {
    /// A zero-filled buffer of `BUFFER_SIZE.min(cap)` bytes.
    pub(crate) fn take(&mut self, cap: usize) -> Vec<u8> {
        let size = BUFFER_SIZE.min(cap);
        match self.free.pop() {
            Some(mut b) => {
                b.truncate(size);
                b
            }
            None => vec![0; size],
        }
    }

    /// Takes `buf` back (or frees it when it is not standard-sized or the pool is full).
    pub(crate) fn give(&mut self, buf: Vec<u8>) {
        if buf.len() == BUFFER_SIZE && self.free.len() < MAX_POOLED {
            self.free.push(buf);
        }
    }

    /// Buffers pooled now.
    #[cfg(test)]
    pub(crate) fn pooled(&self) -> usize {
        self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_standard_buffers_and_frees_others() {
        let mut p = BufferPool::default();
        let a = p.take(65536);
        assert_eq!(a.len(), BUFFER_SIZE);
        p.give(a);
        assert_eq!(p.pooled(), 1);
        let b = p.take(65536);
        assert_eq!(p.pooled(), 0);
        p.give(vec![0; BUFFER_SIZE * 2]);
        assert_eq!(p.pooled(), 0);
        p.give(b);
        // A small limit gets a short buffer.
        assert_eq!(p.take(100).len(), 100);
    }
}
