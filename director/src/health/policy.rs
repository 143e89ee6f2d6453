//! The health policy as a clock-free state machine: probe results, drain commands and `now`
//! in; registrar states, pool failover flags and routing [`Eligibility`] out. No IO, no clock:
//! the caller passes `now` and asks [`HealthPolicy::next_deadline`] when to call
//! [`HealthPolicy::tick`] again.
//!
//! Semantics (docs/operations.md):
//! - a registrar starts **up**; `down_after` consecutive failed probes make it **down**,
//!   `up_after` consecutive answered probes make a down one up again;
//! - **drained** is an operator flag independent of up/down: no new users go there. It is set
//!   in the configuration (`drained = true`, taken from the topology at every reload) or by a
//!   drain command; either one drains;
//! - a pool is **reachable** while at least one of its registrars is up;
//! - a pool unreachable for `failover_interval` is **failed over**: its users go to the backup
//!   pool; it stays failed over until it has been reachable for `failback_interval`.

use std::time::{Duration, Instant};

use crate::config::HealthSettings;
use crate::topology::{PoolIdx, RegistrarIdx, Target, Topology};

/// What an operator sees for one registrar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrarState {
    /// Answering probes, taking new users.
    Up,
    /// Not answering probes.
    Down,
    /// Drained by an operator (configuration or command): no new users (whatever its probes
    /// say).
    Draining,
}

impl RegistrarState {
    /// `up`, `down` or `draining`.
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrarState::Up => "up",
            RegistrarState::Down => "down",
            RegistrarState::Draining => "draining",
        }
    }
}

/// One registrar's probe history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrarHealth {
    /// Answering probes (after the up/down hysteresis).
    pub up: bool,
    /// Drained by a command (the admin API).
    pub drained: bool,
    /// Drained in the configuration (`drained = true`); follows the topology on reload.
    pub config_drained: bool,
    /// Consecutive answered probes.
    pub ok_streak: u32,
    /// Consecutive failed probes.
    pub fail_streak: u32,
    /// Round-trip time of the last answered probe.
    pub last_latency: Option<Duration>,
}

impl Default for RegistrarHealth {
    fn default() -> Self {
        RegistrarHealth {
            up: true,
            drained: false,
            config_drained: false,
            ok_streak: 0,
            fail_streak: 0,
            last_latency: None,
        }
    }
}

impl RegistrarHealth {
    /// Drained, in the configuration or by a command.
    pub fn is_drained(&self) -> bool {
        self.drained || self.config_drained
    }

    /// Who drained it: `"config"` (also when a command did too: only the configuration can
    /// undrain it), `"api"`, or `None`.
    pub fn drained_by(&self) -> Option<&'static str> {
        if self.config_drained {
            Some("config")
        } else if self.drained {
            Some("api")
        } else {
            None
        }
    }

    /// The operator-facing state.
    pub fn state(&self) -> RegistrarState {
        match (self.is_drained(), self.up) {
            (true, _) => RegistrarState::Draining,
            (false, true) => RegistrarState::Up,
            (false, false) => RegistrarState::Down,
        }
    }
}

/// One pool's failover state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolHealth {
    /// Its users are sent to the backup pool.
    pub failed_over: bool,
    /// Since when the condition that flips `failed_over` has held (unreachable while not
    /// failed over; reachable while failed over).
    since: Option<Instant>,
}

/// Routing facts derived from health, shaped like the topology (pool, registrar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eligibility {
    /// Up and not drained: may take new users.
    pub eligible: Vec<Vec<bool>>,
    /// Not drained (whatever the probes say): the primary Contact while a pool is down but not
    /// yet failed over.
    pub not_drained: Vec<Vec<bool>>,
    /// Per pool: failed over to its backup.
    pub failed_over: Vec<bool>,
}

/// The health state of every registrar and pool of one topology.
#[derive(Debug, Clone)]
pub struct HealthPolicy {
    settings: HealthSettings,
    pools: Vec<PoolHealth>,
    registrars: Vec<Vec<RegistrarHealth>>,
}

impl HealthPolicy {
    /// Every registrar up, drained only where the configuration says so, no pool failed over.
    pub fn new(topology: &Topology, settings: HealthSettings) -> Self {
        HealthPolicy {
            settings,
            pools: vec![PoolHealth::default(); topology.pools().len()],
            registrars: topology
                .pools()
                .iter()
                .map(|p| {
                    p.registrars()
                        .iter()
                        .map(|r| RegistrarHealth {
                            config_drained: r.drained_in_config(),
                            ..RegistrarHealth::default()
                        })
                        .collect()
                })
                .collect(),
        }
    }

    /// The state for `new` topology, carrying over registrars that keep their id (and pools
    /// that keep theirs) from `self`, which described `old`. New ones start up. Drain commands
    /// carry over; the configuration's drain is `new`'s.
    pub fn carried_over(
        &self,
        old: &Topology,
        new: &Topology,
        settings: HealthSettings,
    ) -> HealthPolicy {
        let mut next = HealthPolicy::new(new, settings);
        for (pi, pool) in new.pools().iter().enumerate() {
            if let Some(op) = old.pool_by_id(pool.id().as_str()) {
                if let Some(h) = self.pools.get(op.0) {
                    next.pools[pi] = *h;
                }
            }
            for (ri, reg) in pool.registrars().iter().enumerate() {
                if let Some(h) = self.find(old, reg.id().as_str()) {
                    next.registrars[pi][ri] = RegistrarHealth {
                        config_drained: reg.drained_in_config(),
                        ..h
                    };
                }
            }
        }
        next
    }

    fn find(&self, topology: &Topology, id: &str) -> Option<RegistrarHealth> {
        let t = find_target(topology, id)?;
        self.registrar(t).copied()
    }

    /// Forgets every probe result (all up, no pool failed over), keeping drain flags: for
    /// probing switched off by a reload.
    pub fn forget_probes(&mut self) {
        for r in self.registrars.iter_mut().flatten() {
            *r = RegistrarHealth {
                drained: r.drained,
                config_drained: r.config_drained,
                ..RegistrarHealth::default()
            };
        }
        self.pools.fill(PoolHealth::default());
    }

    /// One registrar's health.
    pub fn registrar(&self, t: Target) -> Option<&RegistrarHealth> {
        self.registrars.get(t.pool.0)?.get(t.registrar.0)
    }

    /// One pool's failover state.
    pub fn pool(&self, p: PoolIdx) -> Option<&PoolHealth> {
        self.pools.get(p.0)
    }

    /// Records a probe result. Returns true when routing changed.
    pub fn probe(&mut self, t: Target, answered: Option<Duration>, now: Instant) -> bool {
        let (down_after, up_after) = (self.settings.down_after, self.settings.up_after);
        let Some(h) = self
            .registrars
            .get_mut(t.pool.0)
            .and_then(|p| p.get_mut(t.registrar.0))
        else {
            return false;
        };
        let was_up = h.up;
        match answered {
            Some(rtt) => {
                h.ok_streak = h.ok_streak.saturating_add(1);
                h.fail_streak = 0;
                h.last_latency = Some(rtt);
                if !h.up && h.ok_streak >= up_after {
                    h.up = true;
                }
            }
            None => {
                h.fail_streak = h.fail_streak.saturating_add(1);
                h.ok_streak = 0;
                if h.up && h.fail_streak >= down_after {
                    h.up = false;
                }
            }
        }
        let changed = was_up != h.up;
        self.tick(now) || changed
    }

    /// Drains (`true`) or undrains a registrar by command. Returns true when routing changed:
    /// a registrar drained in the configuration stays drained whatever the command says.
    pub fn set_drained(&mut self, t: Target, drained: bool) -> bool {
        match self
            .registrars
            .get_mut(t.pool.0)
            .and_then(|p| p.get_mut(t.registrar.0))
        {
            Some(h) => {
                let before = h.is_drained();
                h.drained = drained;
                before != h.is_drained()
            }
            None => false,
        }
    }

    /// Advances the pool timers to `now`. Returns true when a pool failed over or back.
    pub fn tick(&mut self, now: Instant) -> bool {
        let mut changed = false;
        for (pool, regs) in self.pools.iter_mut().zip(&self.registrars) {
            let reachable = regs.iter().any(|r| r.up);
            // The condition that would flip the pool: down while serving, up while failed over.
            let flipping = reachable == pool.failed_over;
            if !flipping {
                pool.since = None;
                continue;
            }
            let since = *pool.since.get_or_insert(now);
            let needed = if pool.failed_over {
                self.settings.failback_interval
            } else {
                self.settings.failover_interval
            };
            if now.saturating_duration_since(since) >= needed {
                pool.failed_over = !pool.failed_over;
                pool.since = None;
                changed = true;
            }
        }
        changed
    }

    /// The earliest time at which [`tick`](Self::tick) may flip a pool, if any timer runs.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.pools
            .iter()
            .filter_map(|p| {
                let needed = if p.failed_over {
                    self.settings.failback_interval
                } else {
                    self.settings.failover_interval
                };
                p.since.map(|s| s + needed)
            })
            .min()
    }

    /// The routing view of the current state.
    pub fn eligibility(&self) -> Eligibility {
        let map = |f: fn(&RegistrarHealth) -> bool| {
            self.registrars
                .iter()
                .map(|p| p.iter().map(f).collect())
                .collect()
        };
        Eligibility {
            eligible: map(|r| r.up && !r.is_drained()),
            not_drained: map(|r| !r.is_drained()),
            failed_over: self.pools.iter().map(|p| p.failed_over).collect(),
        }
    }
}

/// The registrar with this id.
pub fn find_target(topology: &Topology, id: &str) -> Option<Target> {
    topology.pools().iter().enumerate().find_map(|(pi, p)| {
        p.registrars()
            .iter()
            .position(|r| r.id().as_str() == id)
            .map(|ri| Target {
                pool: PoolIdx(pi),
                registrar: RegistrarIdx(ri),
            })
    })
}
