//! SIP director library: configuration, topology, placement, the per-message decision and the
//! pieces of the `director` binary (CLI, run loop, signals, TLS setup).

pub mod admin;
pub mod auth;
pub mod cert_identity;
pub mod cli;
pub mod config;
pub mod control;
pub mod decision;
pub mod fuzz;
pub mod handler;
pub mod health;
pub mod limiter;
mod parse_slot;
pub mod placement;
pub mod proxy;
pub mod response;
pub mod routing;
pub mod run;
pub mod salvage;
pub mod signals;
pub mod snapshot;
mod stack_hash;
pub mod stats;
pub mod throttle;
pub mod tls;
pub mod tls_client;
pub mod topology;

/// The UDP backend chosen by the `DIRECTOR_UDP_BACKEND` environment variable (`auto`, the
/// default, `io_uring` or `epoll`), so tests and operators can force the fallback path.
pub fn udp_backend_from_env() -> Result<dataplane::UdpBackend, String> {
    match std::env::var("DIRECTOR_UDP_BACKEND").as_deref() {
        Err(_) | Ok("") | Ok("auto") => Ok(dataplane::UdpBackend::Auto),
        Ok("io_uring" | "io-uring" | "uring") => Ok(dataplane::UdpBackend::IoUring),
        Ok("epoll") => Ok(dataplane::UdpBackend::Epoll),
        Ok(other) => Err(format!(
            "DIRECTOR_UDP_BACKEND={other}: expected auto, io_uring or epoll"
        )),
    }
}
