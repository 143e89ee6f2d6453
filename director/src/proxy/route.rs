//! Loose routing (RFC 3261 16.4, 16.12) for requests that name the director in their top Route
//! header: the Path the director added to a REGISTER brings the registrar's requests toward the
//! user back through it, and a UA may preload the director as its outbound proxy. The director's
//! Route value is removed; the next hop is the next Route, else the Request-URI when it is an IP
//! address (a registered contact), else the user's home as for any request.

use std::net::{IpAddr, SocketAddr};
use std::ops::Range;

use sip::{HeaderName, Message, NameAddr, Scheme, Uri};

use crate::response::first_value_end;
use crate::topology::Transport;

/// The outcome of looking at the top Route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LooseRoute {
    /// The bytes of our Route value to remove (a whole header line, or one list value).
    pub remove: Range<usize>,
    /// Where the request goes: the next Route or the Request-URI's address; `None`: route it to
    /// the user's home (the Request-URI is not an address).
    pub next: Option<(SocketAddr, Transport)>,
}

/// Why a Route toward the director cannot be followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The next Route names a host, not an address (no DNS on the hot path).
    #[error("next hop is not an IP address")]
    NotAnAddress,
}

/// `Some` when the top Route names the director (`is_us` decides on the URI).
pub fn loose_route(
    msg: &Message<'_>,
    is_us: impl Fn(&Uri<'_>) -> bool,
) -> Option<Result<LooseRoute, RouteError>> {
    let header = msg.header(HeaderName::Route)?;
    let end = first_value_end(header.value);
    let first = header.value.get(..end)?;
    let uri = NameAddr::parse(first)
        .ok()
        .and_then(|n| Uri::parse(n.uri).ok())?;
    if !is_us(&uri) {
        return None;
    }
    let (remove, next_route) = if end >= header.value.len() {
        let next = msg
            .headers_named(HeaderName::Route)
            .nth(1)
            .map(|h| h.value.get(..first_value_end(h.value)).unwrap_or(h.value));
        (header.line.clone(), next)
    } else {
        let rest = header.value.get(end + 1..).unwrap_or(&[]);
        let ws = rest
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .count();
        let rest = rest.get(ws..).unwrap_or(&[]);
        let next = rest.get(..first_value_end(rest));
        (
            header.value_range.start..header.value_range.start + end + 1 + ws,
            next,
        )
    };
    let next = match next_route {
        Some(v) => {
            let uri = NameAddr::parse(v).ok().and_then(|n| Uri::parse(n.uri).ok());
            match uri.and_then(|u| address_of(&u)) {
                Some(a) => Some(a),
                None => return Some(Err(RouteError::NotAnAddress)),
            }
        }
        None => msg
            .request_uri()
            .and_then(|r| Uri::parse(r).ok())
            .and_then(|u| address_of(&u)),
    };
    Some(Ok(LooseRoute { remove, next }))
}

/// The socket address and transport of a URI whose host is an IP address.
pub fn address_of(uri: &Uri<'_>) -> Option<(SocketAddr, Transport)> {
    let host = std::str::from_utf8(uri.host).ok()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let ip: IpAddr = host.parse().ok()?;
    let transport = match uri.param(b"transport").flatten() {
        Some(t) if t.eq_ignore_ascii_case(b"tcp") => Transport::Tcp,
        Some(t) if t.eq_ignore_ascii_case(b"tls") => Transport::Tls,
        _ if matches!(uri.scheme, Scheme::Sips) => Transport::Tls,
        _ => Transport::Udp,
    };
    let default_port = if transport == Transport::Tls {
        5061
    } else {
        5060
    };
    Some((
        SocketAddr::new(ip, uri.port.unwrap_or(default_port)),
        transport,
    ))
}
