//! The control plane's state and every change to it, without IO or clock: the current
//! configuration, the health policy, resolved addresses and the snapshot generation. Each
//! change says whether routing changed; [`ControlState::snapshot`] builds the one value the
//! workers read.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::Config;
use crate::health::{find_target, HealthPolicy};
use crate::snapshot::Snapshot;
use crate::topology::{Endpoint, PoolIdx, RegistrarIdx, Target, Topology};

/// One registrar as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegistrarStatus {
    /// Pool id.
    pub pool: String,
    /// Registrar id.
    pub id: String,
    /// `up`, `down` or `draining`.
    pub state: &'static str,
    /// Whether probes say it answers (independent of draining).
    pub reachable: bool,
    /// Drained (in the configuration or through the admin API).
    pub drained: bool,
    /// Who drained it: `"config"` (`drained = true` in the file; also when the API drained it
    /// too), `"api"`, or `None` (not drained).
    pub drained_by: Option<&'static str>,
    /// Probe/forward endpoint as configured, `host:port;transport=...`.
    pub endpoint: String,
    /// Resolved address, if resolution worked.
    pub address: Option<String>,
    /// Round-trip time of the last answered probe, milliseconds.
    pub last_probe_ms: Option<f64>,
    /// Consecutive failed probes.
    pub failed_probes: u32,
    /// Users sent there (301 primary Contact or forwarded request); filled by the admin API.
    pub requests: u64,
    /// Its traffic counter slot.
    #[serde(skip)]
    pub slot: Option<u32>,
}

/// One pool as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolStatus {
    /// Pool id.
    pub id: String,
    /// Backup pool id.
    pub backup: Option<String>,
    /// Its users are sent to the backup pool.
    pub failed_over: bool,
}

/// Registrar and pool states, for `/registrars` and `/metrics`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    /// Snapshot generation currently published.
    pub generation: u64,
    /// Whether probing is enabled.
    pub probing: bool,
    /// Pools.
    pub pools: Vec<PoolStatus>,
    /// Registrars.
    pub registrars: Vec<RegistrarStatus>,
}

/// Why a drain command failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrainError {
    /// No registrar has this id.
    #[error("no registrar with id `{0}`")]
    NotFound(String),
    /// Undrain asked of a registrar drained in the configuration: only the file undrains it.
    #[error(
        "registrar `{0}` is drained in the configuration (drained = true): remove that and reload to undrain it"
    )]
    DrainedInConfig(String),
}

/// The control plane's state.
#[derive(Debug)]
pub struct ControlState {
    config: Config,
    policy: HealthPolicy,
    addrs: Vec<Vec<Option<SocketAddr>>>,
    /// Traffic counter slot per registrar id: assigned once, kept across reloads.
    slots: HashMap<String, u32>,
    generation: u64,
    /// Version of `config.limits` in the snapshots: changes exactly when they change.
    limits_version: u64,
}

impl ControlState {
    /// State for a freshly loaded configuration, `resolve` giving each endpoint's address.
    pub fn new(config: Config, resolve: impl Fn(&Endpoint) -> Option<SocketAddr>) -> Self {
        let policy = HealthPolicy::new(&config.topology, config.health);
        let addrs = resolve_all(&config.topology, resolve);
        let mut state = ControlState {
            config,
            policy,
            addrs,
            slots: HashMap::new(),
            generation: 1,
            limits_version: 1,
        };
        state.assign_slots();
        state
    }

    fn assign_slots(&mut self) {
        for pool in self.config.topology.pools() {
            for reg in pool.registrars() {
                let next = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
                self.slots.entry(reg.id().to_string()).or_insert(next);
            }
        }
    }

    fn slot_of(&self, id: &str) -> Option<u32> {
        self.slots
            .get(id)
            .copied()
            .filter(|&s| (s as usize) < crate::stats::REGISTRAR_SLOTS)
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The current topology.
    pub fn topology(&self) -> &Topology {
        &self.config.topology
    }

    /// Every registrar with its resolved address, for the probers.
    pub fn targets(&self) -> Vec<(Target, String, Endpoint, Option<SocketAddr>)> {
        let mut out = Vec::new();
        for (pi, pool) in self.topology().pools().iter().enumerate() {
            for (ri, reg) in pool.registrars().iter().enumerate() {
                let t = Target {
                    pool: PoolIdx(pi),
                    registrar: RegistrarIdx(ri),
                };
                let addr = self
                    .addrs
                    .get(pi)
                    .and_then(|p| p.get(ri))
                    .copied()
                    .flatten();
                out.push((t, reg.id().to_string(), reg.endpoint().clone(), addr));
            }
        }
        out
    }

    /// A probe result for the registrar with this id (ids survive reloads; indices do not).
    pub fn probe(&mut self, id: &str, answered: Option<Duration>, now: Instant) -> bool {
        match find_target(self.topology(), id) {
            Some(t) => self.policy.probe(t, answered, now),
            None => false,
        }
    }

    /// The state of the registrar with this id.
    pub fn registrar_state(&self, id: &str) -> Option<crate::health::RegistrarState> {
        let t = find_target(self.topology(), id)?;
        self.policy.registrar(t).map(|h| h.state())
    }

    /// A fresh resolution of the registrar with this id; true when its address changed.
    pub fn set_addr(&mut self, id: &str, addr: Option<SocketAddr>) -> bool {
        let Some(t) = find_target(self.topology(), id) else {
            return false;
        };
        match self
            .addrs
            .get_mut(t.pool.0)
            .and_then(|p| p.get_mut(t.registrar.0))
        {
            Some(slot) if *slot != addr => {
                *slot = addr;
                true
            }
            _ => false,
        }
    }

    /// Advances the failover timers.
    pub fn tick(&mut self, now: Instant) -> bool {
        self.policy.tick(now)
    }

    /// When [`tick`](Self::tick) may next change something.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.policy.next_deadline()
    }

    /// Drains or undrains the registrar with this id through the API; `Ok(changed)` (routing
    /// changed). Undraining a registrar drained in the configuration is refused (nothing
    /// changes); draining one records the command (it stays drained once the configuration
    /// no longer drains it, until undrained).
    pub fn set_drained(&mut self, id: &str, drained: bool) -> Result<bool, DrainError> {
        let t = find_target(self.topology(), id).ok_or_else(|| DrainError::NotFound(id.into()))?;
        if !drained && self.topology().registrar(t).drained_in_config() {
            return Err(DrainError::DrainedInConfig(id.into()));
        }
        Ok(self.policy.set_drained(t, drained))
    }

    /// The version of the limits in the snapshots: changes exactly when a replaced
    /// configuration's `[limits]` differ from the running ones (workers then rebuild their
    /// buckets; otherwise they keep their state).
    pub fn limits_version(&self) -> u64 {
        self.limits_version
    }

    /// Replaces the configuration, carrying health and drain state over by id.
    pub fn replace(&mut self, config: Config, resolve: impl Fn(&Endpoint) -> Option<SocketAddr>) {
        if config.limits != self.config.limits {
            self.limits_version += 1;
        }
        self.policy =
            self.policy
                .carried_over(&self.config.topology, &config.topology, config.health);
        if !config.health.enabled {
            self.policy.forget_probes();
        }
        self.addrs = resolve_all(&config.topology, resolve);
        self.config = config;
        self.assign_slots();
    }

    /// A new snapshot of the current state, with the next generation number.
    pub fn snapshot(&mut self) -> Snapshot {
        self.generation += 1;
        self.current_snapshot()
    }

    /// The snapshot of the current state with the current generation number.
    pub fn current_snapshot(&self) -> Snapshot {
        let slots = self
            .topology()
            .pools()
            .iter()
            .map(|p| {
                p.registrars()
                    .iter()
                    .map(|r| self.slot_of(r.id().as_str()).unwrap_or(u32::MAX))
                    .collect()
            })
            .collect();
        Snapshot::new(
            self.config.topology.clone(),
            self.policy.eligibility(),
            self.addrs.clone(),
            self.generation,
        )
        .with_slots(slots)
        .with_limits(self.config.limits, self.limits_version)
    }

    /// States for the admin API.
    pub fn status(&self) -> Status {
        let topo = self.topology();
        let mut registrars = Vec::new();
        let mut pools = Vec::new();
        for (pi, pool) in topo.pools().iter().enumerate() {
            pools.push(PoolStatus {
                id: pool.id().to_string(),
                backup: pool.backup().map(|b| topo.pool(b).id().to_string()),
                failed_over: self.policy.pool(PoolIdx(pi)).is_some_and(|p| p.failed_over),
            });
            for (ri, reg) in pool.registrars().iter().enumerate() {
                let t = Target {
                    pool: PoolIdx(pi),
                    registrar: RegistrarIdx(ri),
                };
                let h = self.policy.registrar(t).copied().unwrap_or_default();
                let e = reg.endpoint();
                registrars.push(RegistrarStatus {
                    pool: pool.id().to_string(),
                    id: reg.id().to_string(),
                    state: h.state().as_str(),
                    reachable: h.up,
                    drained: h.is_drained(),
                    drained_by: h.drained_by(),
                    endpoint: format!("{}:{};transport={}", e.host, e.port, e.transport),
                    address: self
                        .addrs
                        .get(pi)
                        .and_then(|p| p.get(ri))
                        .copied()
                        .flatten()
                        .map(|a| a.to_string()),
                    last_probe_ms: h.last_latency.map(|d| d.as_secs_f64() * 1000.0),
                    failed_probes: h.fail_streak,
                    requests: 0,
                    slot: self.slot_of(reg.id().as_str()),
                });
            }
        }
        Status {
            generation: self.generation,
            probing: self.config.health.enabled,
            pools,
            registrars,
        }
    }
}

fn resolve_all(
    topology: &Topology,
    resolve: impl Fn(&Endpoint) -> Option<SocketAddr>,
) -> Vec<Vec<Option<SocketAddr>>> {
    topology
        .pools()
        .iter()
        .map(|p| {
            p.registrars()
                .iter()
                .map(|r| resolve(r.endpoint()))
                .collect()
        })
        .collect()
}

/// Resolves an endpoint with the system resolver (blocking; control plane only).
pub fn system_resolve(e: &Endpoint) -> Option<SocketAddr> {
    use std::net::ToSocketAddrs;
    (e.host.as_ref(), e.port).to_socket_addrs().ok()?.next()
}
