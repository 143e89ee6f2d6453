//! Configuration: the operator's TOML file (documented in `docs/configuration.md`), parsed
//! and validated into [`Config`], whose [`Config::topology`] is the immutable routing snapshot.
//!
//! - [`Config::parse`] works on text plus a file name (for messages): no IO.
//! - [`load_file`] is the one function that reads a file; [`load()`] picks the file or the
//!   embedded default ([`Config::embedded_default`]).
//! - Every error names `FILE:LINE:COL` and the field (`pool[1].registrar[0].contact`).

mod auth;
mod error;
mod limits;
mod load;
mod location;
mod proxy;
mod raw;
mod settings;
mod validate;

pub use error::{ConfigError, Invalid, Location, Problem};
pub use load::{load, load_file, EMBEDDED_DEFAULT, EMBEDDED_DEFAULT_NAME};
pub use settings::{
    AdminSettings, ClientCert, Config, ConnectionLimits, FloodAction, HealthSettings,
    LimitSettings, Listener, ProxySettings, TlsFiles,
};
