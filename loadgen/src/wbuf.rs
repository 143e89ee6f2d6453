//! A bounds-checked cursor over a byte slice with itoa-style integer formatting, so requests
//! are formatted into reused buffers without allocating.

/// Writes into a borrowed slice; running out of room sets `overflow` instead of panicking.
#[derive(Debug)]
pub struct WBuf<'a> {
    buf: &'a mut [u8],
    pos: usize,
    overflow: bool,
}

impl<'a> WBuf<'a> {
    /// A cursor at the start of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        WBuf {
            buf,
            pos: 0,
            overflow: false,
        }
    }

    /// Appends raw bytes.
    #[inline]
    pub fn put(&mut self, b: &[u8]) -> &mut Self {
        let end = self.pos + b.len();
        if end > self.buf.len() {
            self.overflow = true;
        } else {
            self.buf[self.pos..end].copy_from_slice(b);
            self.pos = end;
        }
        self
    }

    /// Appends `n` in decimal.
    #[inline]
    pub fn dec(&mut self, n: u64) -> &mut Self {
        let mut tmp = [0u8; sip::MAX_DECIMAL_LEN];
        self.put(sip::decimal(n, &mut tmp))
    }

    /// Appends `n` in lowercase hexadecimal, no leading zeros.
    #[inline]
    pub fn hex(&mut self, mut n: u64) -> &mut Self {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut tmp = [0u8; 16];
        let mut i = tmp.len();
        loop {
            i -= 1;
            tmp[i] = DIGITS[(n & 15) as usize];
            n >>= 4;
            if n == 0 {
                break;
            }
        }
        self.put(&tmp[i..])
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.pos
    }

    /// True when some write did not fit.
    pub fn overflowed(&self) -> bool {
        self.overflow
    }
}

/// Parses lowercase/uppercase hexadecimal digits; `None` on anything else or overflow.
pub fn parse_hex(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    let mut v = 0u64;
    for &c in s {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        v = (v << 4) | u64::from(d);
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        let mut b = [0u8; 64];
        let mut w = WBuf::new(&mut b);
        w.dec(0)
            .put(b" ")
            .dec(1234567890123)
            .put(b" ")
            .hex(0xbeef)
            .put(b" ")
            .hex(0);
        let n = w.len();
        assert_eq!(&b[..n], b"0 1234567890123 beef 0");
        assert_eq!(parse_hex(b"beef"), Some(0xbeef));
        assert_eq!(parse_hex(b"x"), None);
    }

    #[test]
    fn overflow_is_flagged() {
        let mut b = [0u8; 4];
        let mut w = WBuf::new(&mut b);
        w.put(b"abcde");
        assert!(w.overflowed());
    }
}
