//! Placement: the consistent hash that finds every user's home, exactly as DESIGN.md
//! ("Placement: the hash, specified exactly") specifies it.
//!
//! - [`PlacementKey`]: the canonical address of record (`user@host`), built from URI parts
//!   ([`PlacementKey::from_uri_parts`]) or from a whole AOR string ([`PlacementKey::parse_aor`]).
//! - [`Scorer`]: `score(m) = max over i in 0..w of XXH3_64(key || 0x00 || id || 0x00 || decimal(i))`.
//! - [`rank()`], [`first_eligible`], [`top2`]: "machines in preferred order" (descending score,
//!   ties by id ascending), the latter two without allocation for the hot path.
//!
//! Everything here is pure: no IO, no clock, no floating point. A change of any output is a
//! breaking change pinned by `director/tests/placement_golden.rs`.

mod aor;
mod ids;
mod key;
mod rank;
mod score;

pub use aor::{split_uri, UriParts};
pub use ids::{MachineId, PoolId, Weight};
pub use key::{KeyError, PlacementKey};
pub use rank::{first_eligible, first_eligible_with, rank, top2, Candidate, Member, Ranked};
pub use score::Scorer;
