//! XXH3-64 of a few short pieces without a streaming hasher's set-up: the bytes are gathered
//! on the stack and hashed in one call, spilling into the streaming hasher (same value) only
//! when they outgrow the buffer. Used for the proxy's branch and the 301's To tag.

use xxhash_rust::xxh3::{xxh3_64, Xxh3};

/// Bytes to hash, gathered on the stack and hashed in one call (the usual input is a few dozen
/// bytes, and a streaming XXH3 state costs more to set up than to hash them); past
/// [`StackHash::STACK`] bytes it spills into a streaming hasher, which gives the same value.
pub(crate) struct StackHash {
    buf: [u8; StackHash::STACK],
    len: usize,
    spill: Option<Xxh3>,
}

impl Default for StackHash {
    fn default() -> Self {
        StackHash {
            buf: [0; StackHash::STACK],
            len: 0,
            spill: None,
        }
    }
}

impl StackHash {
    const STACK: usize = 256;

    /// Appends `b` to the input.
    #[inline]
    pub(crate) fn update(&mut self, b: &[u8]) {
        if self.spill.is_none() {
            if let Some(dst) = self.buf.get_mut(self.len..self.len + b.len()) {
                dst.copy_from_slice(b);
                self.len += b.len();
                return;
            }
        }
        self.spill_update(b);
    }

    /// [`StackHash::update`] past the stack buffer: the streaming hasher takes over.
    #[cold]
    #[inline(never)]
    fn spill_update(&mut self, b: &[u8]) {
        let len = self.len;
        let h = self.spill.get_or_insert_with(|| {
            let mut h = Xxh3::new();
            h.update(&self.buf[..len]);
            h
        });
        h.update(b);
    }

    /// XXH3-64 (seed 0) of everything appended.
    #[inline]
    pub(crate) fn digest(&self) -> u64 {
        match &self.spill {
            Some(h) => h.digest(),
            None => xxh3_64(&self.buf[..self.len]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stack path and the spill path hash what one streaming hasher fed the same pieces
    /// would, whatever the total length.
    #[test]
    fn stack_and_spill_equal_streaming() {
        for sizes in [
            &[][..],
            &[3, 0, 40],
            &[255, 1],
            &[256],
            &[200, 100, 7],
            &[1000, 3],
        ] {
            let mut input = StackHash::default();
            let mut reference = Xxh3::new();
            for (i, &n) in sizes.iter().enumerate() {
                let piece: Vec<u8> = (0..n).map(|j| (i * 31 + j) as u8).collect();
                input.update(&piece);
                reference.update(&piece);
            }
            assert_eq!(input.digest(), reference.digest(), "pieces {sizes:?}");
        }
    }
}
