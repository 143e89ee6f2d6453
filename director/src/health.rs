//! Registrar health: the pure policy ([`policy`]: probe results and `now` in, states and
//! eligibility out) and the probes that feed it ([`probe`]: SIP OPTIONS over UDP or TCP).

pub mod policy;
pub mod probe;
pub mod tls_client;

pub use policy::{
    find_target, Eligibility, HealthPolicy, PoolHealth, RegistrarHealth, RegistrarState,
};
