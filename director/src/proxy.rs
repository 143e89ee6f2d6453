//! Stateless proxying (RFC 3261 §16.11): requests forwarded to the home registrar with our own
//! Via on top ([`forward`]), responses routed back by Via ([`relay`]), requests that name the
//! director in their Route (its Path, a preloaded outbound proxy) loose-routed ([`route`]). No state is kept: the
//! branch of our Via is derived from the incoming request, so a retransmission or a CANCEL is
//! forwarded with the same branch to the same registrar, and a response finds its way back from
//! the Vias alone (for TCP/TLS clients, from the connection id our Via carries).

pub mod forward;
pub mod relay;
pub mod route;

pub use forward::{forward_request, ForwardBufs, ForwardError};
pub use relay::{relay_response, RelayError, RelayTo};
pub use route::{loose_route, LooseRoute, RouteError};

/// Branch prefix of every Via the director adds (magic cookie + our mark).
pub const BRANCH_PREFIX: &[u8] = b"z9hG4bKdR";

/// Via parameter carrying the client's stream connection id (hex of `ConnId::to_u64`).
pub const CONN_PARAM: &[u8] = b"dc";
