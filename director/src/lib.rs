//! SIP director library: configuration, topology, placement and the CLI logic behind the
//! `director` binary.

pub mod cli;
pub mod config;
pub mod placement;
pub mod topology;
