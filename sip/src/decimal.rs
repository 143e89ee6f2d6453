//! Unsigned integers as decimal ASCII into a caller's stack buffer: the one digit writer the
//! serializer, the director's responses, placement and the load generator share (no `fmt`
//! machinery, no allocation).

/// Enough digits for any `u64`.
pub const MAX_DECIMAL_LEN: usize = 20;

/// `n` in decimal, no leading zeros ("0" for zero), written at the end of `buf`; returns the
/// digits.
#[inline]
pub fn decimal(mut n: u64, buf: &mut [u8; MAX_DECIMAL_LEN]) -> &[u8] {
    let mut at = MAX_DECIMAL_LEN;
    loop {
        at -= 1;
        // n % 10 < 10, so the cast cannot truncate; 20 digits hold u64::MAX, so `at` stays >= 0.
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_every_magnitude() {
        let mut buf = [0u8; MAX_DECIMAL_LEN];
        for n in [0u64, 7, 10, 99, 100, 65535, 4_294_967_295, u64::MAX] {
            assert_eq!(decimal(n, &mut buf), n.to_string().as_bytes());
        }
    }
}
