//! Flood limiting and overload, in front of [`decide`](crate::decision::decide): the
//! `[limits]` section applied to each message before it is decided.
//!
//! - **Per source** (`per_source_rate`/`per_source_burst`): each worker keeps a fixed table of
//!   token buckets keyed by source address ([`crate::limiter::SourceTable`]). A request over
//!   its source's rate is dropped (`flood_action = "drop"`, UDP only) or answered `503` +
//!   `Retry-After` (`"503"`, and always over TCP/TLS, whose source address is not spoofed).
//!   Responses are never limited, nor are requests from a configured registrar's address.
//! - **Overload** (`max_rate_per_worker`): one bucket per worker takes a token per request;
//!   while it is empty, REGISTERs are answered `503` + `Retry-After` (cheaper than deciding, and
//!   in proxy mode nothing is forwarded); other requests are decided as usual.
//!
//! Both are counted per worker and transport (`director_rate_limited_total`,
//! `director_overload_rejected_total`) and logged at most once per second (`warn`). The clock
//! is read once per message, only when a limit is configured; the buckets live in a
//! thread-local per worker, so no lock is taken.
//!
//! The settings come from the [`Snapshot`] the message is decided on, so a reload applies
//! them. A worker's buckets remember the snapshot's limits version they were built for and are
//! rebuilt (full, on that worker's next limited message) when it differs ([`must_rebuild`]);
//! publishes that leave the limits alone keep every bucket's state.

use std::cell::RefCell;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use dataplane::{Action, Peer, Transport};

use crate::config::{FloodAction, LimitSettings};
use crate::decision::{reply_route, Source, Verdict};
use crate::limiter::{Bucket, Rate, SourceTable};
use crate::parse_slot;
use crate::response;
use crate::snapshot::Snapshot;
use crate::stats::{DecisionStats, Limit, Origin};
use crate::topology::{PoolIdx, RegistrarIdx, Target};

/// Buckets in each worker's per-source table.
pub const SOURCE_SLOTS: usize = 4096;

/// Distinguishes throttles sharing worker threads (a restarted engine, tests).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This worker's buckets, built on first use by the throttle that owns them.
    static WORKER: RefCell<Option<WorkerLimits>> = const { RefCell::new(None) };
}

/// Applies the snapshot's limits; the buckets are per worker.
#[derive(Debug)]
pub struct Throttle {
    id: u64,
    epoch: Instant,
    /// The tick from which the next log line may be written.
    next_log_ms: AtomicU64,
    stats: Arc<DecisionStats>,
}

/// What a worker's buckets were built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltFor {
    /// The [`Throttle`] that built them (several may share a thread: tests, a restarted
    /// engine).
    pub owner: u64,
    /// The snapshot's [`limits_version`](Snapshot::limits_version) they were built for.
    pub limits_version: u64,
}

/// The rebuild rule: buckets built for `built` (none yet: `None`) serve `current` only when
/// both the owner and the limits version are the same; otherwise they are rebuilt, full.
pub fn must_rebuild(built: Option<BuiltFor>, current: BuiltFor) -> bool {
    built != Some(current)
}

struct WorkerLimits {
    built_for: BuiltFor,
    sources: Option<SourceTable>,
    worker: Option<(Rate, Bucket)>,
    /// Registrar addresses (never limited per source), sorted, for `registrars_of`.
    registrars: Vec<IpAddr>,
    registrars_of: Option<u64>,
}

impl Throttle {
    /// A throttle counting into `stats`; the limits are each snapshot's.
    pub fn new(stats: Arc<DecisionStats>) -> Self {
        Throttle {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            epoch: Instant::now(),
            next_log_ms: AtomicU64::new(0),
            stats,
        }
    }

    /// `None`: decide the message as usual. `Some(action)`: it was refused; `out` holds the 503
    /// when there is one to send.
    pub fn check(
        &self,
        msg: &[u8],
        peer: &Peer,
        snap: &Snapshot,
        out: &mut Vec<u8>,
    ) -> Option<Action> {
        let settings = snap.limits();
        if !settings.any() || msg.starts_with(b"SIP/") {
            return None;
        }
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        let current = BuiltFor {
            owner: self.id,
            limits_version: snap.limits_version(),
        };
        let refused = WORKER.with(|cell| {
            let mut cell = cell.try_borrow_mut().ok()?;
            let built = cell.as_ref().map(|l| l.built_for);
            let limits = match &mut *cell {
                Some(l) if !must_rebuild(built, current) => l,
                other => other.insert(self.worker_limits(settings, current, now)),
            };
            if let Some(table) = &mut limits.sources {
                if !table.allow(peer.remote.ip(), now) && !limits.is_registrar(snap, peer) {
                    return Some(Limit::PerSource);
                }
            }
            if let Some((rate, bucket)) = &mut limits.worker {
                if !bucket.take(*rate, now) && msg.starts_with(b"REGISTER ") {
                    return Some(Limit::Overload);
                }
            }
            None
        })?;
        Some(self.refuse(refused, settings, msg, peer, now, out))
    }

    fn worker_limits(
        &self,
        settings: &LimitSettings,
        built_for: BuiltFor,
        now: u64,
    ) -> WorkerLimits {
        let seed = self.id ^ (self.epoch.elapsed().as_nanos() as u64).rotate_left(17);
        WorkerLimits {
            built_for,
            sources: settings
                .per_source
                .map(|rate| SourceTable::new(SOURCE_SLOTS, rate, seed)),
            worker: settings
                .per_worker
                .map(|rate| (rate, Bucket::full(rate, now))),
            registrars: Vec::new(),
            registrars_of: None,
        }
    }

    fn refuse(
        &self,
        limit: Limit,
        settings: &LimitSettings,
        msg: &[u8],
        peer: &Peer,
        now: u64,
        out: &mut Vec<u8>,
    ) -> Action {
        let transport = match peer.transport {
            Transport::Udp => 0,
            Transport::Tcp => 1,
            Transport::Tls => 2,
        };
        self.stats.record_limited(peer.worker, limit, transport);
        self.log(limit, settings.flood_action, peer, transport, now);
        out.clear();
        let drop = limit == Limit::PerSource
            && settings.flood_action == FloodAction::Drop
            && !peer.transport.is_stream();
        if drop {
            return Action::Drop;
        }
        parse_slot::with_parsed(msg, |parsed| {
            let Ok(req) = parsed else {
                return Action::Drop;
            };
            if !req.is_request() || req.method() == Some(sip::Method::Ack) {
                return Action::Drop;
            }
            let reason = match limit {
                Limit::PerSource => "Rate Limited",
                Limit::Overload => "Overloaded",
            };
            let retry = settings.retry_after_s;
            response::write_retry_after(out, req, peer.remote, 503, reason, retry);
            self.stats.record_response(peer.worker, Origin::Local, 503);
            let source = Source {
                addr: peer.remote,
                stream: peer.transport.is_stream(),
                local: peer.local,
                conn: None,
                cert_identity: None,
            };
            match reply_route(req, source) {
                Verdict::ReplyTo(to) => Action::Send {
                    to,
                    transport: Transport::Udp,
                },
                _ => Action::Reply,
            }
        })
    }

    /// One `warn` line per second at most, over all workers.
    fn log(&self, limit: Limit, action: FloodAction, peer: &Peer, transport: usize, now: u64) {
        let next = self.next_log_ms.load(Ordering::Relaxed);
        if now < next
            || self
                .next_log_ms
                .compare_exchange(next, now + 1000, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let total = self.stats.limited_total(limit, transport);
        let transport = crate::stats::LIMIT_TRANSPORTS[transport];
        match limit {
            Limit::PerSource => tracing::warn!(
                source = %peer.remote.ip(),
                transport,
                total,
                action = if action == FloodAction::Drop { "drop" } else { "503" },
                "rate limited: source over per_source_rate (logged at most once per second)"
            ),
            Limit::Overload => tracing::warn!(
                worker = peer.worker,
                transport,
                total,
                "overloaded: worker over max_rate_per_worker, REGISTERs answered 503 (logged at most once per second)"
            ),
        }
    }
}

impl WorkerLimits {
    /// Whether `peer` is one of the snapshot's registrars (checked only when about to refuse).
    fn is_registrar(&mut self, snap: &Snapshot, peer: &Peer) -> bool {
        if self.registrars_of != Some(snap.generation()) {
            self.registrars = registrar_ips(snap);
            self.registrars_of = Some(snap.generation());
        }
        self.registrars.binary_search(&peer.remote.ip()).is_ok()
    }
}

fn registrar_ips(snap: &Snapshot) -> Vec<IpAddr> {
    let topo = snap.topology();
    let mut ips: Vec<IpAddr> = (0..topo.pools().len())
        .flat_map(|p| {
            (0..topo.pools()[p].registrars().len()).map(move |r| Target {
                pool: PoolIdx(p),
                registrar: RegistrarIdx(r),
            })
        })
        .filter_map(|t| snap.addr(t).map(|a: SocketAddr| a.ip()))
        .collect();
    ips.sort_unstable();
    ips.dedup();
    ips
}
