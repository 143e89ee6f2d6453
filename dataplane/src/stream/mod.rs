//! Stream transports (TCP, TLS): accepting, the per-connection framing loop and
//! the per-worker connection registry.

mod accept;
mod conn;
mod connect;
mod outbox;
mod pool;
mod proxy_header;
mod registry;

pub(crate) use accept::accept_loop;
pub(crate) use connect::open_outbound;
pub(crate) use outbox::Refused;
pub(crate) use pool::BufferPool;
pub(crate) use registry::Registry;
