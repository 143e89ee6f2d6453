//! The control plane: one thread ("control") with a tokio current-thread runtime that owns the
//! [`ControlState`], runs the health probes, polls the configuration file, executes admin and
//! signal commands, and publishes one new [`Snapshot`](crate::snapshot::Snapshot) through the
//! shared `ArcSwap` whenever routing changes. Nothing here runs on a worker.

mod runtime;
mod state;

pub use runtime::{spawn, Command, ControlHandle, ReloadOutcome};
pub use state::{system_resolve, ControlState, DrainError, PoolStatus, RegistrarStatus, Status};
