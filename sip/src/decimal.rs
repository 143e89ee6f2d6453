//! Unsigned integers as decimal ASCII into a caller's stack buffer: the one digit writer the
//! serializer, the director's responses, placement and the load generator share (no `fmt`
//! machinery, no allocation).

/// Enough digits for any `u64`.
pub const MAX_DECIMAL_LEN: usize = 20;

/// "00" to "99": two digits per division.
const PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// `n` in decimal, no leading zeros ("0" for zero), written at the end of `buf`; returns the
/// digits.
#[inline]
pub fn decimal(mut n: u64, buf: &mut [u8; MAX_DECIMAL_LEN]) -> &[u8] {
    let mut at = MAX_DECIMAL_LEN;
    // 20 digits hold u64::MAX, so `at` never goes below 0: at most 9 pairs here (n >= 100
    // leaves at least 3 digits), then one or two digits.
    while n >= 100 {
        // n % 100 < 100, so the cast cannot truncate.
        let pair = (n % 100) as usize * 2;
        n /= 100;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        buf[at] = b'0' + n as u8;
    }
    &buf[at..]
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
        for n in (0..200_000u64).chain((1..=19).flat_map(|e| {
            let p = 10u64.pow(e);
            [p - 1, p, p + 1]
        })) {
            assert_eq!(decimal(n, &mut buf), n.to_string().as_bytes(), "{n}");
        }
    }
}
