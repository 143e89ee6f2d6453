//! Per-worker counters of what the director decided, sharded by worker so the hot path never
//! writes a cache line another core writes. Read (summed) by the admin endpoint and at exit.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::decision::Outcome;

const OUTCOMES: usize = Outcome::ALL.len();

/// One worker's counters, padded to its own cache lines.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard {
    by_outcome: [AtomicU64; OUTCOMES],
}

/// Decision counters for all workers.
#[derive(Debug)]
pub struct DecisionStats {
    shards: Box<[Shard]>,
}

impl DecisionStats {
    /// Counters for `workers` workers (at least one shard).
    pub fn new(workers: usize) -> Self {
        let shards = (0..workers.max(1)).map(|_| Shard::default()).collect();
        DecisionStats { shards }
    }

    /// Counts one decision made on `worker`.
    #[inline]
    pub fn record(&self, worker: usize, outcome: Outcome) {
        let shard = &self.shards[worker % self.shards.len()];
        shard.by_outcome[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Total of one outcome over all workers.
    pub fn total(&self, outcome: Outcome) -> u64 {
        self.shards
            .iter()
            .map(|s| s.by_outcome[outcome as usize].load(Ordering::Relaxed))
            .sum()
    }
}
