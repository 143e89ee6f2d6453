//! The one immutable routing snapshot the workers read: topology, the eligibility of every
//! registrar (health and drain state), pool failover flags and the resolved registrar
//! addresses, published as a unit so they are never seen out of step. It also carries the
//! `[limits]` in force with a version that changes only when they change, so each worker
//! rebuilds its buckets ([`crate::throttle`]) after a reload that changed them and keeps their
//! state across every other publish.

use std::net::SocketAddr;

use crate::config::LimitSettings;
use crate::health::Eligibility;
use crate::topology::{PoolIdx, Target, Topology};

/// Routing state as one value. Built off the hot path, swapped in whole.
#[derive(Debug, Clone)]
pub struct Snapshot {
    topology: Topology,
    /// Per pool, per registrar: may new users be sent there? Same shape as the topology.
    eligible: Vec<Vec<bool>>,
    /// Per pool, per registrar: not drained (the primary Contact while a pool is down but not
    /// yet failed over).
    not_drained: Vec<Vec<bool>>,
    /// Per pool: its users go to the backup pool.
    failed_over: Vec<bool>,
    /// Per pool, per registrar: the resolved endpoint (proxy mode), if resolution worked.
    addrs: Vec<Vec<Option<SocketAddr>>>,
    /// Per pool, per registrar: its traffic counter slot ([`crate::stats`]), if any.
    slots: Vec<Vec<u32>>,
    /// Incremented on every publish, for logs and metrics.
    generation: u64,
    /// The flood and overload limits in force (`[limits]`).
    limits: LimitSettings,
    /// Changes exactly when `limits` change (not on other publishes).
    limits_version: u64,
}

impl Snapshot {
    /// A snapshot where every registrar is eligible (no health information yet) and no
    /// address is resolved.
    pub fn all_up(topology: Topology, generation: u64) -> Self {
        let eligible = topology
            .pools()
            .iter()
            .map(|p| vec![true; p.registrars().len()])
            .collect();
        Self::with_eligibility(topology, eligible, generation)
    }

    /// A snapshot with explicit eligibility, indexed like the topology's pools and registrars.
    /// Missing entries count as not eligible; no pool is failed over.
    pub fn with_eligibility(topology: Topology, eligible: Vec<Vec<bool>>, generation: u64) -> Self {
        Snapshot {
            not_drained: eligible.clone(),
            eligible,
            failed_over: vec![false; topology.pools().len()],
            addrs: Vec::new(),
            slots: Vec::new(),
            topology,
            generation,
            limits: LimitSettings::default(),
            limits_version: 0,
        }
    }

    /// The full form: health-derived [`Eligibility`] and resolved addresses.
    pub fn new(
        topology: Topology,
        eligibility: Eligibility,
        addrs: Vec<Vec<Option<SocketAddr>>>,
        generation: u64,
    ) -> Self {
        Snapshot {
            topology,
            eligible: eligibility.eligible,
            not_drained: eligibility.not_drained,
            failed_over: eligibility.failed_over,
            addrs,
            slots: Vec::new(),
            generation,
            limits: LimitSettings::default(),
            limits_version: 0,
        }
    }

    /// The same snapshot with traffic counter slots per registrar.
    pub fn with_slots(mut self, slots: Vec<Vec<u32>>) -> Self {
        self.slots = slots;
        self
    }

    /// The same snapshot with `limits` in force; `version` must differ from the previous
    /// snapshot's exactly when the limits differ (workers rebuild their buckets then).
    pub fn with_limits(mut self, limits: LimitSettings, version: u64) -> Self {
        self.limits = limits;
        self.limits_version = version;
        self
    }

    /// The flood and overload limits in force.
    pub fn limits(&self) -> &LimitSettings {
        &self.limits
    }

    /// The version of [`limits`](Self::limits): changes only when they change.
    pub fn limits_version(&self) -> u64 {
        self.limits_version
    }

    /// The traffic counter slot of `target`, if it has one.
    pub fn slot(&self, target: Target) -> Option<u32> {
        self.slots
            .get(target.pool.0)
            .and_then(|p| p.get(target.registrar.0))
            .copied()
    }

    /// The topology.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Whether new users may be sent to `target`.
    pub fn is_eligible(&self, target: Target) -> bool {
        lookup(&self.eligible, target).unwrap_or(false)
    }

    /// Whether `target` is not drained (it may be down).
    pub fn is_not_drained(&self, target: Target) -> bool {
        lookup(&self.not_drained, target).unwrap_or(false)
    }

    /// Whether `pool`'s users are currently sent to its backup pool.
    pub fn is_failed_over(&self, pool: PoolIdx) -> bool {
        self.failed_over.get(pool.0).copied().unwrap_or(false)
    }

    /// The resolved address of `target`, if known.
    pub fn addr(&self, target: Target) -> Option<SocketAddr> {
        self.addrs
            .get(target.pool.0)
            .and_then(|p| p.get(target.registrar.0))
            .copied()
            .flatten()
    }

    /// The host name or IP address (as configured) of a TLS registrar whose resolved address
    /// is `to`: the name its certificate is checked against when a new outbound TLS connection
    /// is opened. A linear scan, for connection set-up only (never on the message path).
    pub fn tls_host_at(&self, to: SocketAddr) -> Option<&str> {
        let pools = self.topology.pools().iter().zip(&self.addrs);
        pools
            .flat_map(|(pool, addrs)| pool.registrars().iter().zip(addrs))
            .find(|(r, addr)| {
                r.endpoint().transport == crate::topology::Transport::Tls && **addr == Some(to)
            })
            .map(|(r, _)| &*r.endpoint().host)
    }

    /// The publish counter this snapshot was created with.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

fn lookup(v: &[Vec<bool>], target: Target) -> Option<bool> {
    v.get(target.pool.0)
        .and_then(|p| p.get(target.registrar.0))
        .copied()
}
