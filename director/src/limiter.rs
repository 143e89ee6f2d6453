//! Token buckets for flood limiting, pure: time comes in as a millisecond tick, nothing is
//! allocated per message. [`Bucket`] is one rate (the per-worker overload limit);
//! [`SourceTable`] is a fixed-size table of buckets keyed by source address (the per-source
//! flood limit): an IPv4 address, or the /64 prefix of an IPv6 one.
//!
//! The table has a fixed number of slots (a power of two). A source hashes (keyed by a
//! per-process seed, so slots cannot be aimed at from outside) to two candidate slots; it uses
//! the one that holds its key, otherwise it takes over whichever candidate is unused or holds
//! the most tokens (the most idle source; an idle bucket is full). A source that takes over a
//! slot starts with a full burst. Sources beyond the table's size therefore share its slots
//! with the least active others, and a flood from many (spoofed) addresses is bounded by the
//! per-worker limit instead.

use std::net::IpAddr;

/// Tokens are counted in thousandths, so a rate in tokens per second refills that many
/// thousandths per millisecond, in integers.
const MILLI: u64 = 1000;

/// A rate: `per_s` tokens per second, at most `burst` saved up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Tokens added per second (at least 1).
    pub per_s: u32,
    /// Largest number of tokens a bucket holds (at least 1).
    pub burst: u32,
}

impl Rate {
    /// A rate, with `per_s` and `burst` raised to at least 1.
    pub fn new(per_s: u32, burst: u32) -> Self {
        Rate {
            per_s: per_s.max(1),
            burst: burst.max(1),
        }
    }

    fn cap(self) -> u64 {
        u64::from(self.burst) * MILLI
    }
}

/// One token bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// Tokens held, in thousandths.
    milli: u64,
    /// The tick of the last refill.
    last_ms: u64,
}

impl Bucket {
    /// A full bucket at tick `now_ms`.
    pub fn full(rate: Rate, now_ms: u64) -> Self {
        Bucket {
            milli: rate.cap(),
            last_ms: now_ms,
        }
    }

    /// Adds the tokens earned since the last refill (a tick that goes backwards adds none).
    fn refill(&mut self, rate: Rate, now_ms: u64) {
        let elapsed = now_ms.saturating_sub(self.last_ms);
        let earned = elapsed.saturating_mul(u64::from(rate.per_s));
        self.milli = self.milli.saturating_add(earned).min(rate.cap());
        self.last_ms = self.last_ms.max(now_ms);
    }

    /// Takes one token at tick `now_ms`: false (and nothing taken) when the bucket is empty.
    pub fn take(&mut self, rate: Rate, now_ms: u64) -> bool {
        self.refill(rate, now_ms);
        if self.milli >= MILLI {
            self.milli -= MILLI;
            true
        } else {
            false
        }
    }

    /// Whole tokens held after refilling to `now_ms`.
    pub fn tokens(&mut self, rate: Rate, now_ms: u64) -> u64 {
        self.refill(rate, now_ms);
        self.milli / MILLI
    }
}

/// The key of a source: an IPv4 address (IPv4-mapped IPv6 included) or an IPv6 /64 prefix.
pub fn source_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => u128::from(u32::from(v4)),
            // Tag IPv6 keys so they never equal an IPv4 key.
            None => (u128::from(v6) & !u128::from(u64::MAX)) | 1,
        },
    }
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    key: u128,
    used: bool,
    bucket: Bucket,
}

/// A fixed-size table of per-source buckets.
#[derive(Debug)]
pub struct SourceTable {
    slots: Box<[Slot]>,
    mask: usize,
    seed: u64,
    rate: Rate,
}

impl SourceTable {
    /// A table of `slots` buckets (rounded up to a power of two, at least 2) at `rate`, hashing
    /// with `seed`. Allocates once, here.
    pub fn new(slots: usize, rate: Rate, seed: u64) -> Self {
        let n = slots.max(2).next_power_of_two();
        let empty = Slot {
            key: 0,
            used: false,
            bucket: Bucket::full(rate, 0),
        };
        SourceTable {
            slots: vec![empty; n].into_boxed_slice(),
            mask: n - 1,
            seed,
            rate,
        }
    }

    /// The table's rate.
    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// Takes one token for the source `ip` at tick `now_ms`: false when it is over its rate.
    pub fn allow(&mut self, ip: IpAddr, now_ms: u64) -> bool {
        let key = source_key(ip);
        let h = mix(key, self.seed);
        let a = (h as usize) & self.mask;
        let mut b = ((h >> 32) as usize) & self.mask;
        if b == a {
            b = a ^ 1;
        }
        let rate = self.rate;
        let i = if self.slots[a].used && self.slots[a].key == key {
            a
        } else if self.slots[b].used && self.slots[b].key == key {
            b
        } else {
            let victim = self.victim(a, b, now_ms);
            self.slots[victim] = Slot {
                key,
                used: true,
                bucket: Bucket::full(rate, now_ms),
            };
            victim
        };
        self.slots[i].bucket.take(rate, now_ms)
    }

    /// The candidate to take over: an unused one, else the one holding more tokens.
    fn victim(&mut self, a: usize, b: usize, now_ms: u64) -> usize {
        if !self.slots[a].used {
            return a;
        }
        if !self.slots[b].used {
            return b;
        }
        let rate = self.rate;
        let ta = self.slots[a].bucket.tokens(rate, now_ms);
        let tb = self.slots[b].bucket.tokens(rate, now_ms);
        if tb > ta {
            b
        } else {
            a
        }
    }
}

/// A keyed 64-bit mix of a source key (murmur3's finalizer over the folded key).
fn mix(key: u128, seed: u64) -> u64 {
    let mut h = (key as u64) ^ ((key >> 64) as u64).rotate_left(29) ^ seed;
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}
