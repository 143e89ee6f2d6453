//! Stateless proxying (RFC 3261 §16.11): requests forwarded to the home registrar with our own
//! Via on top ([`forward`]), responses routed back by Via ([`relay`]), requests that name the
//! director in their Route (its Path, a preloaded outbound proxy) loose-routed ([`route`]). No state is kept: the
//! branch of our Via is derived from the incoming request, so a retransmission or a CANCEL is
//! forwarded with the same branch to the same registrar, and a response finds its way back from
//! the Vias alone (for TCP/TLS clients, from the connection id our Via carries).

pub mod forward;
pub mod relay;
pub mod route;

pub use forward::{forward_request, forward_validated, ForwardBufs, ForwardError};
pub use relay::{relay_response, RelayError, RelayTo};
pub use route::{loose_route, LooseRoute, RouteError};

/// Branch prefix of every Via the director adds (magic cookie + our mark).
pub const BRANCH_PREFIX: &[u8] = b"z9hG4bKdR";

/// Via parameter carrying the client's stream connection id: `<id hex>-<tag hex>`, the id from
/// `ConnId::to_u64` and the tag a keyed hash of it ([`conn_tag`]), so a forged response cannot
/// name another client's connection.
pub const CONN_PARAM: &[u8] = b"dc";

/// The tag authenticating a connection id in our Via: XXH3 of the id seeded with a secret drawn
/// once per process (responses always come back to the director that forwarded the request).
pub fn conn_tag(conn: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::OnceLock;
    static SECRET: OnceLock<u64> = OnceLock::new();
    let secret = *SECRET.get_or_init(|| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(u64::from(std::process::id()));
        h.finish()
    });
    xxhash_rust::xxh3::xxh3_64_with_seed(&conn.to_le_bytes(), secret)
}
