//! Routing a registrar's response back (RFC 3261 §16.11 / 18.2.2): the top Via must be ours
//! (our branch prefix); it is removed and the response goes to the next Via, over the client's
//! own connection when our Via names one, else to `received` (or the sent-by host when it is an
//! IP) at `rport` (or the sent-by port).

use std::net::{IpAddr, SocketAddr};

use sip::{Edit, HeaderName, Message};

use super::{BRANCH_PREFIX, CONN_PARAM};
use crate::response::first_value_end;
use crate::topology::Transport;

/// Why a response cannot be relayed (it is dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RelayError {
    /// The top Via is not the director's.
    #[error("top Via is not ours")]
    NotOurs,
    /// No Via below ours, or one we cannot send to (a host name without `received`).
    #[error("no usable Via below ours")]
    NoNextHop,
    /// The splice did not apply.
    #[error("edit failed")]
    Edit,
}

/// Where a relayed response goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayTo {
    /// Over this stream connection (a `ConnId` as u64).
    Conn(u64),
    /// To this address over this transport.
    Addr(SocketAddr, Transport),
}

/// Writes `msg` without our top Via into `out` and says where it goes.
pub fn relay_response(msg: &Message<'_>, out: &mut Vec<u8>) -> Result<RelayTo, RelayError> {
    // One pass over the Vias: ours, then the one the response goes to.
    let mut vias = msg.vias();
    let top = vias
        .next()
        .and_then(Result::ok)
        .ok_or(RelayError::NotOurs)?;
    if !top.branch().is_some_and(|b| b.starts_with(BRANCH_PREFIX)) {
        return Err(RelayError::NotOurs);
    }
    let conn = match top.param(CONN_PARAM) {
        None => None,
        // A connection id must carry its tag: a forged or stale one is not ours.
        Some(v) => Some(verified_conn(v.unwrap_or(&[])).ok_or(RelayError::NotOurs)?),
    };
    let next = vias
        .next()
        .and_then(Result::ok)
        .ok_or(RelayError::NoNextHop)?;
    let to = match conn {
        Some(c) => RelayTo::Conn(c),
        None => {
            let host = next.received().unwrap_or(next.host);
            let ip = parse_ip(host).ok_or(RelayError::NoNextHop)?;
            let transport = match next.transport {
                t if t.eq_ignore_ascii_case(b"TCP") => Transport::Tcp,
                t if t.eq_ignore_ascii_case(b"TLS") => Transport::Tls,
                _ => Transport::Udp,
            };
            let default_port = if transport == Transport::Tls {
                5061
            } else {
                5060
            };
            let port = match next.rport() {
                Some(Some(p)) => p,
                _ => next.port.unwrap_or(default_port),
            };
            RelayTo::Addr(SocketAddr::new(ip, port), transport)
        }
    };
    let header = msg.header(HeaderName::Via).ok_or(RelayError::NotOurs)?;
    let end = first_value_end(header.value);
    let removal = if end >= header.value.len() {
        header.line.clone()
    } else {
        // Several values in one header: remove ours, the comma and the LWS after it.
        let rest = header.value.get(end + 1..).unwrap_or(&[]);
        let ws = rest
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .count();
        header.value_range.start..header.value_range.start + end + 1 + ws
    };
    sip::apply_edits(msg, &[Edit::Remove(removal)], out).map_err(|_| RelayError::Edit)?;
    Ok(to)
}

/// `<id hex>-<tag hex>` with a matching tag.
fn verified_conn(v: &[u8]) -> Option<u64> {
    let v = std::str::from_utf8(v).ok()?;
    let (id, tag) = v.split_once('-')?;
    let id = u64::from_str_radix(id, 16).ok()?;
    let tag = u64::from_str_radix(tag, 16).ok()?;
    (super::conn_tag(id) == tag).then_some(id)
}

fn parse_ip(host: &[u8]) -> Option<IpAddr> {
    let s = std::str::from_utf8(host).ok()?;
    let s = s
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(s);
    s.parse().ok()
}
