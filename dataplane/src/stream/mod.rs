//! Stream transports (TCP, TLS): accepting, handshake turns, the per-connection framing loop and
//! the per-worker connection registry.

mod accept;
mod conn;
mod connect;
mod handshake_turns;
mod outbox;
mod pool;
mod proxy_header;
mod registry;

pub(crate) use accept::accept_loop;
pub(crate) use connect::open_outbound;
pub(crate) use handshake_turns::HandshakeTurns;
pub(crate) use outbox::Refused;
pub(crate) use pool::BufferPool;
pub(crate) use registry::Registry;
