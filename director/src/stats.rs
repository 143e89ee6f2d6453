//! Per-worker counters of what the director decided (by method and outcome) and of the
//! responses it sent or relayed (by status code), sharded by worker so the hot path never
//! writes a cache line another core writes. Read (summed) by the admin endpoint and at exit.

use std::sync::atomic::{AtomicU64, Ordering};

use sip::Method;

use crate::decision::Outcome;

const OUTCOMES: usize = Outcome::ALL.len();
const METHODS: usize = MethodClass::ALL.len();
/// Status codes 100..=699 are counted one by one.
const CODES: usize = 600;
/// Registrars whose traffic is counted (slots are assigned by id by the control plane and never
/// reused; registrars beyond this are not counted).
pub const REGISTRAR_SLOTS: usize = 1024;

/// The request method, bucketed for metrics (`none` for responses and garbage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MethodClass {
    /// REGISTER.
    Register,
    /// OPTIONS.
    Options,
    /// INVITE.
    Invite,
    /// ACK.
    Ack,
    /// CANCEL.
    Cancel,
    /// BYE.
    Bye,
    /// Any other method.
    Other,
    /// Not a request (a response, or unparseable).
    #[default]
    None,
}

impl MethodClass {
    /// Every class, for metric export.
    pub const ALL: [MethodClass; 8] = [
        MethodClass::Register,
        MethodClass::Options,
        MethodClass::Invite,
        MethodClass::Ack,
        MethodClass::Cancel,
        MethodClass::Bye,
        MethodClass::Other,
        MethodClass::None,
    ];

    /// The class of a parsed method.
    pub fn of(method: Option<Method<'_>>) -> Self {
        match method {
            Some(Method::Register) => MethodClass::Register,
            Some(Method::Options) => MethodClass::Options,
            Some(Method::Invite) => MethodClass::Invite,
            Some(Method::Ack) => MethodClass::Ack,
            Some(Method::Cancel) => MethodClass::Cancel,
            Some(Method::Bye) => MethodClass::Bye,
            Some(_) => MethodClass::Other,
            None => MethodClass::None,
        }
    }

    /// Metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            MethodClass::Register => "REGISTER",
            MethodClass::Options => "OPTIONS",
            MethodClass::Invite => "INVITE",
            MethodClass::Ack => "ACK",
            MethodClass::Cancel => "CANCEL",
            MethodClass::Bye => "BYE",
            MethodClass::Other => "other",
            MethodClass::None => "none",
        }
    }
}

/// Who produced a counted response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The director's own answer (301, 200, 4xx, 503).
    Local,
    /// A registrar's response relayed in proxy mode.
    Relayed,
}

/// Which limit refused a message ([`crate::throttle`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Its source was over `per_source_rate` (dropped, or answered 503).
    PerSource,
    /// Its worker was over `max_rate_per_worker` (a REGISTER answered 503).
    Overload,
}

/// The transport labels of the limit counters, in counter order.
pub const LIMIT_TRANSPORTS: [&str; 3] = ["udp", "tcp", "tls"];

/// One worker's counters, padded to its own cache lines.
#[derive(Debug)]
#[repr(align(128))]
struct Shard {
    by_outcome: [[AtomicU64; OUTCOMES]; METHODS],
    local_codes: [AtomicU64; CODES],
    relayed_codes: [AtomicU64; CODES],
    registrar_sent: Box<[AtomicU64]>,
    limited: [[AtomicU64; 3]; 2],
}

impl Default for Shard {
    fn default() -> Self {
        Shard {
            by_outcome: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            local_codes: std::array::from_fn(|_| AtomicU64::new(0)),
            relayed_codes: std::array::from_fn(|_| AtomicU64::new(0)),
            registrar_sent: (0..REGISTRAR_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            limited: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
        }
    }
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

    fn shard(&self, worker: usize) -> &Shard {
        &self.shards[worker % self.shards.len()]
    }

    /// Counts one decision made on `worker` (method unknown).
    #[inline]
    pub fn record(&self, worker: usize, outcome: Outcome) {
        self.record_method(worker, MethodClass::None, outcome);
    }

    /// Counts one decision about a `method` request made on `worker`.
    #[inline]
    pub fn record_method(&self, worker: usize, method: MethodClass, outcome: Outcome) {
        self.shard(worker).by_outcome[method as usize][outcome as usize]
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one response with status `code` (ignored outside 100..=699).
    #[inline]
    pub fn record_response(&self, worker: usize, origin: Origin, code: u16) {
        let Some(i) = usize::from(code).checked_sub(100).filter(|&i| i < CODES) else {
            return;
        };
        let shard = self.shard(worker);
        let codes = match origin {
            Origin::Local => &shard.local_codes,
            Origin::Relayed => &shard.relayed_codes,
        };
        codes[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one user sent to the registrar in `slot` (a 301's primary Contact or a forward).
    #[inline]
    pub fn record_registrar(&self, worker: usize, slot: u32) {
        if let Some(c) = self.shard(worker).registrar_sent.get(slot as usize) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts one message refused by `limit` on `worker`; `transport` indexes
    /// [`LIMIT_TRANSPORTS`].
    #[inline]
    pub fn record_limited(&self, worker: usize, limit: Limit, transport: usize) {
        if let Some(c) = self.shard(worker).limited[limit as usize].get(transport) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Messages refused by `limit` over `transport` (an index of [`LIMIT_TRANSPORTS`]), over
    /// all workers.
    pub fn limited_total(&self, limit: Limit, transport: usize) -> u64 {
        self.shards
            .iter()
            .filter_map(|s| s.limited[limit as usize].get(transport))
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }

    /// Users sent to the registrar in `slot`, over all workers.
    pub fn registrar_total(&self, slot: u32) -> u64 {
        self.shards
            .iter()
            .filter_map(|s| s.registrar_sent.get(slot as usize))
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }

    /// Total of one outcome over all workers and methods.
    pub fn total(&self, outcome: Outcome) -> u64 {
        MethodClass::ALL
            .iter()
            .map(|&m| self.total_for(m, outcome))
            .sum()
    }

    /// Total of one (method, outcome) pair over all workers.
    pub fn total_for(&self, method: MethodClass, outcome: Outcome) -> u64 {
        self.shards
            .iter()
            .map(|s| s.by_outcome[method as usize][outcome as usize].load(Ordering::Relaxed))
            .sum()
    }

    /// Every status code with a non-zero count: (origin, code, count).
    pub fn responses(&self) -> Vec<(Origin, u16, u64)> {
        let mut out = Vec::new();
        for origin in [Origin::Local, Origin::Relayed] {
            for i in 0..CODES {
                let n: u64 = self
                    .shards
                    .iter()
                    .map(|s| match origin {
                        Origin::Local => &s.local_codes[i],
                        Origin::Relayed => &s.relayed_codes[i],
                    })
                    .map(|c| c.load(Ordering::Relaxed))
                    .sum();
                if n > 0 {
                    out.push((origin, (i + 100) as u16, n));
                }
            }
        }
        out
    }
}
