//! Thread-per-core SIP IO engine.
//!
//! One worker thread per core, each with its own tokio current-thread runtime and its own
//! SO_REUSEPORT sockets for every listener. UDP datagrams are received in batches
//! (`recvmmsg`/`sendmmsg` on the epoll backend), stream transports (TCP, TLS) are framed with the
//! SIP stream framer. Every complete message goes to a [`Handler`]; the engine knows nothing of
//! routing policy. A message for a stream connection owned by another worker crosses cores
//! through that worker's bounded inbox (the only cross-core path); idle stream connections hold
//! no read or write buffer.
//!
//! Entry points: [`Engine::bind`] then [`BoundEngine::run`]. [`BoundEngine::handle`] gives the
//! control plane a cloneable [`EngineHandle`] (TLS certificate and client configuration reload,
//! counters) before `run` takes the engine.

mod affinity;
mod bind;
mod cidr;
mod config;
mod counters;
mod ctx;
mod engine;
mod error;
mod framing;
mod handle;
mod handler;
mod handoff;
pub mod handshake_turns;
pub mod proxy_protocol;
mod shutdown;
mod stream;
mod transport;
mod udp;
mod worker;

pub use cidr::{Cidr, CidrError};
pub use config::{EngineConfig, Limits, ListenerSpec, Pinning, ProxyProtocol, UdpBackend};
pub use counters::{Counters, DropReason, Stats};
pub use engine::{BoundEngine, Engine};
pub use error::EngineError;
pub use framing::{frame, Frame, FrameError, FrameLimits};
pub use handle::EngineHandle;
pub use handler::{Action, Handler};
pub use shutdown::{Shutdown, ShutdownTrigger};
pub use transport::{ConnId, Peer, Transport};
