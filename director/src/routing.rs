//! Which registrars a user is sent to, given the snapshot's health view: the pure rule shared
//! by redirect mode (the two Contacts of the 301) and proxy mode (where to forward).
//!
//! 1. Primary pool serving (not failed over), an eligible machine in it: that machine (q=0.7)
//!    and the first eligible machine of the backup pool (q=0.3); forward to the first.
//! 2. Primary pool entirely down but the failover interval not yet over: the first not-drained
//!    machine of the primary pool stays the q=0.7 Contact (the pool may come back; a client
//!    that cannot reach it uses the q=0.3 backup), the backup machine is the q=0.3 Contact;
//!    proxy mode forwards to the backup machine at once (a stateless proxy cannot retry).
//! 3. Primary pool failed over: the backup pool's first eligible machine (q=0.7) and, while the
//!    failback interval runs, the primary pool's first eligible machine (q=0.3).
//!
//! A pool with no eligible machine contributes nothing; with nothing at all: `None` (503).

use crate::placement::PlacementKey;
use crate::snapshot::Snapshot;
use crate::topology::Target;

/// Where a user goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The q=0.7 Contact.
    pub primary: Target,
    /// The q=0.3 Contact.
    pub backup: Option<Target>,
    /// Where proxy mode forwards.
    pub forward: Target,
}

/// The route for `key` under `snap`, `None` when no registrar can take the user.
pub fn route(snap: &Snapshot, key: &PlacementKey) -> Option<Route> {
    let topology = snap.topology();
    let home = topology.home_where(key, |t| snap.is_eligible(t));
    let pair = |primary: Target, backup: Option<Target>| Route {
        primary,
        backup,
        forward: primary,
    };
    if snap.is_failed_over(home.primary_pool) {
        return match (home.backup, home.primary) {
            (Some(b), p) => Some(pair(b, p)),
            (None, Some(p)) => Some(pair(p, None)),
            (None, None) => None,
        };
    }
    match (home.primary, home.backup) {
        (Some(p), b) => Some(pair(p, b)),
        (None, None) => None,
        (None, Some(b)) => {
            let waiting = topology.home_where(key, |t| snap.is_not_drained(t));
            Some(match waiting.primary {
                Some(p) => Route {
                    primary: p,
                    backup: Some(b),
                    forward: b,
                },
                None => pair(b, None),
            })
        }
    }
}
