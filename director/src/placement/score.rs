//! The placement score: `max over i in 0..w of XXH3_64(key || 0x00 || id || 0x00 || decimal(i))`,
//! seed 0, computed in a stack buffer (no allocation, whatever the key length).

use xxhash_rust::xxh3::{xxh3_64, Xxh3Default};

use super::ids::Weight;
use super::key::PlacementKey;

/// Bytes of hash input assembled on the stack; longer inputs are hashed in streaming mode,
/// which gives the same result (XXH3 is defined over the whole input).
const STACK_INPUT: usize = 384;

/// Longest decimal form of a `u32`.
const MAX_DECIMAL: usize = 10;

/// Scores candidates for one key. The key is copied into the stack buffer once; each
/// candidate adds its id, then each weight index its decimal form.
#[derive(Debug)]
pub struct Scorer<'k> {
    key: &'k [u8],
    buf: [u8; STACK_INPUT],
    /// `key.len() + 1` when the key (and its separator) is in `buf`, 0 when it does not fit.
    prefix: usize,
}

impl<'k> Scorer<'k> {
    /// A scorer for `key`.
    pub fn new(key: &'k PlacementKey) -> Self {
        Self::for_bytes(key.as_bytes())
    }

    /// A scorer for a key given as raw bytes (already canonical).
    pub fn for_bytes(key: &'k [u8]) -> Self {
        // Built in place: the buffer is filled where it lives, not moved after.
        let mut scorer = Self {
            key,
            buf: [0u8; STACK_INPUT],
            prefix: 0,
        };
        if key.len() < STACK_INPUT {
            scorer.buf[..key.len()].copy_from_slice(key);
            scorer.buf[key.len()] = 0;
            scorer.prefix = key.len() + 1;
        }
        scorer
    }

    /// The score of the candidate with this id and weight.
    pub fn score(&mut self, id: &[u8], weight: Weight) -> u64 {
        let fits = self.prefix != 0 && self.prefix + id.len() + 1 + MAX_DECIMAL <= STACK_INPUT;
        if !fits {
            return self.score_streaming(id, weight);
        }
        let id_end = self.prefix + id.len();
        self.buf[self.prefix..id_end].copy_from_slice(id);
        self.buf[id_end] = 0;
        let digits_at = id_end + 1;
        let mut best = 0;
        for i in 0..weight.get() {
            let mut digits = [0u8; sip::MAX_DECIMAL_LEN];
            let digits = sip::decimal(u64::from(i), &mut digits);
            let end = digits_at + digits.len();
            self.buf[digits_at..end].copy_from_slice(digits);
            best = best.max(xxh3_64(&self.buf[..end]));
        }
        best
    }

    fn score_streaming(&self, id: &[u8], weight: Weight) -> u64 {
        let mut best = 0;
        for i in 0..weight.get() {
            let mut digits = [0u8; sip::MAX_DECIMAL_LEN];
            let mut hasher = Xxh3Default::new();
            hasher.update(self.key);
            hasher.update(&[0]);
            hasher.update(id);
            hasher.update(&[0]);
            hasher.update(sip::decimal(u64::from(i), &mut digits));
            best = best.max(hasher.digest());
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(key: &[u8], id: &[u8], w: u32) -> u64 {
        (0..w)
            .map(|i| {
                let mut input = key.to_vec();
                input.push(0);
                input.extend_from_slice(id);
                input.push(0);
                input.extend_from_slice(i.to_string().as_bytes());
                xxh3_64(&input)
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn weight_index_fits_max_decimal() {
        // The stack-input bound assumes a weight index (u32) takes at most MAX_DECIMAL digits.
        let mut b = [0u8; sip::MAX_DECIMAL_LEN];
        assert_eq!(sip::decimal(u64::from(u32::MAX), &mut b).len(), MAX_DECIMAL);
    }

    #[test]
    fn stack_and_streaming_paths_match_reference() {
        for key_len in [0usize, 5, 360, 372, 373, 383, 384, 1000, 1024, 5000] {
            let key = vec![b'k'; key_len];
            for id in [&b"fe1.pool1.example.com"[..], &[b'i'; 40][..]] {
                for w in [1, 2, 11] {
                    let weight = Weight::new(w).expect("non-zero");
                    let mut scorer = Scorer::for_bytes(&key);
                    assert_eq!(
                        scorer.score(id, weight),
                        reference(&key, id, w),
                        "key_len {key_len} id_len {} w {w}",
                        id.len()
                    );
                }
            }
        }
    }
}
