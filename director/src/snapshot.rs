//! The one immutable routing snapshot the workers read: topology plus the eligibility of every
//! registrar (health and drain state), published as a unit so the two are never seen out of step.

use crate::topology::{Target, Topology};

/// Routing state as one value. Built off the hot path, swapped in whole.
#[derive(Debug, Clone)]
pub struct Snapshot {
    topology: Topology,
    /// Per pool, per registrar: may new users be sent there? Same shape as the topology.
    eligible: Vec<Vec<bool>>,
    /// Incremented on every publish, for logs and metrics.
    generation: u64,
}

impl Snapshot {
    /// A snapshot where every registrar is eligible (no health information yet).
    pub fn all_up(topology: Topology, generation: u64) -> Self {
        let eligible = topology
            .pools()
            .iter()
            .map(|p| vec![true; p.registrars().len()])
            .collect();
        Snapshot {
            topology,
            eligible,
            generation,
        }
    }

    /// A snapshot with explicit eligibility, indexed like the topology's pools and registrars.
    /// Missing entries count as not eligible.
    pub fn with_eligibility(topology: Topology, eligible: Vec<Vec<bool>>, generation: u64) -> Self {
        Snapshot {
            topology,
            eligible,
            generation,
        }
    }

    /// The topology.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Whether new users may be sent to `target`.
    pub fn is_eligible(&self, target: Target) -> bool {
        self.eligible
            .get(target.pool.0)
            .and_then(|p| p.get(target.registrar.0))
            .copied()
            .unwrap_or(false)
    }

    /// The publish counter this snapshot was created with.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}
