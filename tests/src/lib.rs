//! Harness for the process-level tests: finds (building if needed) the workspace binaries,
//! starts the `director` on loopback port 0 with a generated configuration, and stops it with
//! SIGTERM. The topology a test uses is described in Rust ([`Topology`]) so that the expected
//! placement ([`oracle`]) is computed from the specification, independently of the director's
//! own configuration and placement code.

pub mod farm_topology;
pub mod http;
pub mod oracle;
pub mod pki;
pub mod process;
pub mod registrar_farm;
pub mod sip_client;
pub mod topology;

pub use process::{bin, workspace_root, Director, Listening};
pub use topology::{Pool, Registrar, Topology};
