//! The validated, immutable routing topology (pools, registrars, backup pairing, homing rules,
//! redirect settings) and the placement queries answered per request: [`Topology::home`] on
//! the hot path, [`Topology::user_pool_info`] for operators.
//!
//! Built only by configuration validation (`crate::config`), so its invariants hold: at least
//! one pool takes hashed users, every pool has at least one registrar, backup indices are valid
//! and never the pool itself, ids are unique.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;

use crate::placement::{
    first_eligible_with, rank, Candidate, MachineId, PlacementKey, PoolId, Scorer, Weight,
};

/// What the director does with a REGISTER.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Answer `301` with the primary and backup registrar as Contacts.
    #[default]
    Redirect,
    /// Forward statelessly to the primary registrar.
    Proxy,
}

/// A SIP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum Transport {
    /// UDP.
    #[serde(rename = "udp", alias = "UDP")]
    Udp,
    /// TCP.
    #[serde(rename = "tcp", alias = "TCP")]
    Tcp,
    /// TLS over TCP.
    #[serde(rename = "tls", alias = "TLS")]
    Tls,
}

impl Transport {
    /// Whether it runs over a TCP socket (TCP and TLS share the port space).
    pub fn is_stream(self) -> bool {
        !matches!(self, Transport::Udp)
    }

    /// Lowercase name, as in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Index of a pool in [`Topology::pools`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PoolIdx(pub usize);

/// Index of a registrar within its pool ([`Pool::registrars`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegistrarIdx(pub usize);

/// One registrar machine of one pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Target {
    /// The pool.
    pub pool: PoolIdx,
    /// The registrar within that pool.
    pub registrar: RegistrarIdx,
}

/// Where to probe a registrar or forward to it (proxy mode). The host may be a name that the
/// control plane resolves; an IPv6 address is stored without brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name or IP address (lowercase, no brackets).
    pub host: Box<str>,
    /// Port.
    pub port: u16,
    /// Transport.
    pub transport: Transport,
}

/// A registrar machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registrar {
    pub(crate) id: MachineId,
    pub(crate) weight: Weight,
    pub(crate) contact: Box<str>,
    pub(crate) endpoint: Endpoint,
    /// `drained = true` in the configuration: no new users, whatever the admin API says.
    /// Not hashed (placement ignores it, like health).
    pub(crate) drained: bool,
}

impl Registrar {
    /// The machine id (hashed by placement).
    pub fn id(&self) -> &MachineId {
        &self.id
    }
    /// The placement weight.
    pub fn weight(&self) -> Weight {
        self.weight
    }
    /// The Contact URI put in the 301, as configured (e.g. `sip:fe1.pool1.example.com:5061;transport=TLS`).
    pub fn contact(&self) -> &str {
        &self.contact
    }
    /// Where to probe / forward.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
    /// Drained in the configuration (`drained = true`).
    pub fn drained_in_config(&self) -> bool {
        self.drained
    }
}

impl Candidate for Registrar {
    fn placement_id(&self) -> &[u8] {
        self.id.as_bytes()
    }
    fn placement_weight(&self) -> Weight {
        self.weight
    }
}

/// A registrar pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    pub(crate) id: PoolId,
    pub(crate) weight: Weight,
    pub(crate) backup: Option<PoolIdx>,
    pub(crate) homed_only: bool,
    pub(crate) registrars: Vec<Registrar>,
}

impl Pool {
    /// The pool id (hashed by pool placement).
    pub fn id(&self) -> &PoolId {
        &self.id
    }
    /// The pool placement weight.
    pub fn weight(&self) -> Weight {
        self.weight
    }
    /// The paired backup pool.
    pub fn backup(&self) -> Option<PoolIdx> {
        self.backup
    }
    /// Whether only explicitly homed users live here (e.g. a branch appliance).
    pub fn homed_only(&self) -> bool {
        self.homed_only
    }
    /// The registrars, in configuration order (at least one).
    pub fn registrars(&self) -> &[Registrar] {
        &self.registrars
    }
}

impl Candidate for Pool {
    fn placement_id(&self) -> &[u8] {
        self.id.as_bytes()
    }
    fn placement_weight(&self) -> Weight {
        self.weight
    }
}

/// How a user's primary pool was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Homing {
    /// An explicit `[[homing]] user = ...` rule.
    UserRule,
    /// An explicit `[[homing]] domain = ...` rule.
    DomainRule,
    /// The pool hash.
    Hashed,
}

impl Homing {
    /// "user rule", "domain rule" or "hashed".
    pub fn as_str(self) -> &'static str {
        match self {
            Homing::UserRule => "user rule",
            Homing::DomainRule => "domain rule",
            Homing::Hashed => "hashed",
        }
    }
}

/// A user's home with every machine eligible: the first registrar of the primary pool and of
/// its backup pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Home {
    /// First registrar of the primary pool in preferred order.
    pub primary: Target,
    /// First registrar of the backup pool, if the primary pool has a backup.
    pub backup: Option<Target>,
}

/// A user's home among eligible (e.g. healthy, not drained) machines only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EligibleHome {
    /// The primary pool (whatever the eligibility of its machines).
    pub primary_pool: PoolIdx,
    /// First eligible registrar of the primary pool, if any.
    pub primary: Option<Target>,
    /// First eligible registrar of the backup pool, if any.
    pub backup: Option<Target>,
}

/// Everything about a user's placement (`Get-CsUserPoolInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolInfo {
    /// The primary pool.
    pub primary_pool: PoolIdx,
    /// Its backup pool.
    pub backup_pool: Option<PoolIdx>,
    /// How the primary pool was chosen.
    pub homing: Homing,
    /// All registrars of the primary pool in preferred order.
    pub primary_machines: Vec<RegistrarIdx>,
    /// All registrars of the backup pool in preferred order (empty without backup).
    pub backup_machines: Vec<RegistrarIdx>,
}

/// The immutable topology snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    pub(crate) mode: Mode,
    pub(crate) expires: u32,
    pub(crate) domain: Option<Box<str>>,
    pub(crate) pools: Vec<Pool>,
    /// Canonical `user@host` key -> pool.
    pub(crate) user_rules: HashMap<Box<[u8]>, PoolIdx>,
    /// Lowercase host -> pool.
    pub(crate) domain_rules: HashMap<Box<[u8]>, PoolIdx>,
    /// Authentication before routing (`[auth]`), if on.
    pub(crate) auth: Option<std::sync::Arc<crate::auth::Authenticator>>,
}

impl Topology {
    /// Authentication before routing, if configured.
    pub fn auth(&self) -> Option<&crate::auth::Authenticator> {
        self.auth.as_deref()
    }

    /// Redirect or proxy.
    pub fn mode(&self) -> Mode {
        self.mode
    }
    /// The `Expires` value of a 301.
    pub fn expires(&self) -> u32 {
        self.expires
    }
    /// The director's own domain, if configured (lowercase).
    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }
    /// All pools, in configuration order.
    pub fn pools(&self) -> &[Pool] {
        &self.pools
    }
    /// One pool. Panics on an index not from this topology.
    pub fn pool(&self, pool: PoolIdx) -> &Pool {
        &self.pools[pool.0]
    }
    /// One registrar. Panics on a target not from this topology.
    pub fn registrar(&self, target: Target) -> &Registrar {
        &self.pools[target.pool.0].registrars[target.registrar.0]
    }
    /// The pool with this id.
    pub fn pool_by_id(&self, id: &str) -> Option<PoolIdx> {
        self.pools
            .iter()
            .position(|p| p.id.as_str() == id)
            .map(PoolIdx)
    }
    /// Number of registrars over all pools.
    pub fn registrar_count(&self) -> usize {
        self.pools.iter().map(|p| p.registrars.len()).sum()
    }
    /// Number of `[[homing]]` rules.
    pub fn homing_rule_count(&self) -> usize {
        self.user_rules.len() + self.domain_rules.len()
    }

    /// The user's primary pool: user rule, else domain rule, else the pool hash over the pools
    /// that take hashed users. No allocation.
    pub fn primary_pool(&self, key: &PlacementKey) -> (PoolIdx, Homing) {
        self.primary_pool_with(key, &mut Scorer::new(key))
    }

    /// [`Topology::primary_pool`] with the key's scorer built by the caller.
    fn primary_pool_with(&self, key: &PlacementKey, scorer: &mut Scorer<'_>) -> (PoolIdx, Homing) {
        if key.user().is_some() {
            if let Some(&pool) = self.user_rules.get(key.as_bytes()) {
                return (pool, Homing::UserRule);
            }
        }
        if let Some(&pool) = self.domain_rules.get(key.host()) {
            return (pool, Homing::DomainRule);
        }
        let pools = &self.pools;
        // Validation guarantees a pool that is not homed_only; pool 0 is a defensive fallback.
        let pool = first_eligible_with(scorer, pools, |i| !pools[i].homed_only).unwrap_or(0);
        (PoolIdx(pool), Homing::Hashed)
    }

    /// The hot-path query: the first registrar of the primary pool and of the backup pool
    /// among machines for which `eligible` holds (health, drain). Pass `|_| true` to ignore
    /// health; `&dyn Fn(Target) -> bool` works too. No allocation.
    pub fn home_where(
        &self,
        key: &PlacementKey,
        eligible: impl Fn(Target) -> bool,
    ) -> EligibleHome {
        // One scorer (the key copied into its buffer once) for the pool hash and both pools.
        let mut scorer = Scorer::new(key);
        let (primary_pool, _) = self.primary_pool_with(key, &mut scorer);
        let mut first_in = |pool: PoolIdx| {
            let registrars = &self.pools[pool.0].registrars;
            first_eligible_with(&mut scorer, registrars, |r| {
                eligible(Target {
                    pool,
                    registrar: RegistrarIdx(r),
                })
            })
            .map(|r| Target {
                pool,
                registrar: RegistrarIdx(r),
            })
        };
        let primary = first_in(primary_pool);
        let backup = self.pools[primary_pool.0].backup.and_then(&mut first_in);
        EligibleHome {
            primary_pool,
            primary,
            backup,
        }
    }

    /// The user's home with every machine eligible. No allocation.
    pub fn home(&self, key: &PlacementKey) -> Home {
        let found = self.home_where(key, |_| true);
        Home {
            // Every pool has at least one registrar (validation), so `primary` is set.
            primary: found.primary.unwrap_or(Target {
                pool: found.primary_pool,
                registrar: RegistrarIdx(0),
            }),
            backup: found.backup,
        }
    }

    /// Everything about the user's placement, machines in preferred order (allocates; for
    /// operators and the admin API).
    pub fn user_pool_info(&self, key: &PlacementKey) -> PoolInfo {
        let (primary_pool, homing) = self.primary_pool(key);
        let order = |pool: PoolIdx| -> Vec<RegistrarIdx> {
            rank(key, &self.pools[pool.0].registrars)
                .into_iter()
                .map(|r| RegistrarIdx(r.index))
                .collect()
        };
        let backup_pool = self.pools[primary_pool.0].backup;
        PoolInfo {
            primary_pool,
            backup_pool,
            homing,
            primary_machines: order(primary_pool),
            backup_machines: backup_pool.map(order).unwrap_or_default(),
        }
    }
}
