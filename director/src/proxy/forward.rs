//! Forwarding one request: our Via on top (branch derived from the incoming one), the client's
//! Via completed with `received`/`rport`, Max-Forwards decremented (or set to 70), and for
//! REGISTER a Path header with the director's address (RFC 3327). Nothing else is touched: the
//! output is the input with those splices ([`sip::apply_edits`]).

use std::net::SocketAddr;

use sip::{Edit, HeaderName, Message, Method, Validated};

use super::{BRANCH_PREFIX, CONN_PARAM};
use crate::response::{push_decimal, push_hex, write_top_via, write_top_via_known};
use crate::stack_hash::StackHash;
use crate::topology::Transport;

/// Why a request cannot be forwarded (the caller answers it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ForwardError {
    /// Max-Forwards reached 0: answer 483.
    #[error("too many hops")]
    TooManyHops,
    /// No Via to put ours above, or an unusable one: answer 400.
    #[error("bad Via")]
    BadVia,
    /// The header fields added (our Via, a missing Max-Forwards, Path) would take the request
    /// past [`sip::MAX_HEADERS`], so that no parser with that limit, ours included, would read
    /// the forwarded request: answer 400 like a request that arrived with too many.
    #[error("too many headers to add ours")]
    TooManyHeaders,
    /// The splices did not apply (cannot happen with offsets from the parser).
    #[error("edit failed")]
    Edit,
}

/// Reusable buffers for the inserted header lines.
#[derive(Debug, Default)]
pub struct ForwardBufs {
    via: Vec<u8>,
    max_forwards: Vec<u8>,
    path: Vec<u8>,
}

/// Where the forwarded request is sent and how the director names itself.
#[derive(Debug, Clone)]
pub struct Hop<'a> {
    /// The request's source (for `received`/`rport` of the client's Via).
    pub source: SocketAddr,
    /// The director's host for its Via and Path (an IP, brackets for IPv6, or a name).
    pub host: &'a str,
    /// The director's port for its Via and Path.
    pub port: u16,
    /// Transport toward the registrar.
    pub transport: Transport,
    /// The client's stream connection (TCP/TLS clients), encoded in our Via.
    pub conn: Option<u64>,
    /// Our own Route value to remove (loose routing), if the request carried one.
    pub remove_route: Option<std::ops::Range<usize>>,
}

/// Writes the forwarded form of `msg` into `out`.
pub fn forward_request(
    msg: &Message<'_>,
    hop: Hop<'_>,
    bufs: &mut ForwardBufs,
    out: &mut Vec<u8>,
) -> Result<(), ForwardError> {
    let max_forwards = msg.max_forwards().map_err(|_| ForwardError::BadVia)?;
    let top = msg.top_via().map_err(|_| ForwardError::BadVia)?;
    forward_with(msg, max_forwards, &top, None, hop, bufs, out)
}

/// [`forward_request`] for a request [`sip::validate_request_parts`] accepted: its top Via and
/// Max-Forwards are taken from `parts` instead of being parsed again.
pub fn forward_validated(
    msg: &Message<'_>,
    parts: &Validated<'_>,
    hop: Hop<'_>,
    bufs: &mut ForwardBufs,
    out: &mut Vec<u8>,
) -> Result<(), ForwardError> {
    let top_len = Some(parts.top_via_value.len());
    forward_with(
        msg,
        parts.max_forwards,
        &parts.top_via,
        top_len,
        hop,
        bufs,
        out,
    )
}

/// The forwarding proper; `top_len` is the length of the piece `top` was parsed from, when the
/// caller knows it (the client's Via line is then written without a second parse).
fn forward_with(
    msg: &Message<'_>,
    max_forwards: Option<u8>,
    top: &sip::Via<'_>,
    top_len: Option<usize>,
    hop: Hop<'_>,
    bufs: &mut ForwardBufs,
    out: &mut Vec<u8>,
) -> Result<(), ForwardError> {
    if max_forwards == Some(0) {
        return Err(ForwardError::TooManyHops);
    }
    let via_header = msg.header(HeaderName::Via).ok_or(ForwardError::BadVia)?;
    let is_register = msg.method() == Some(Method::Register);
    // The Max-Forwards to decrement in place, if there is one (else ours is added).
    let max_forwards = max_forwards.zip(msg.header(HeaderName::MaxForwards));
    let added = 1 + usize::from(max_forwards.is_none()) + usize::from(is_register);
    if msg.header_count() + added > sip::MAX_HEADERS {
        return Err(ForwardError::TooManyHeaders);
    }

    // Our Via, then the client's top Via line with received/rport filled in.
    let via = &mut bufs.via;
    via.clear();
    via.extend_from_slice(b"Via: SIP/2.0/");
    via.extend_from_slice(match hop.transport {
        Transport::Udp => b"UDP",
        Transport::Tcp => b"TCP",
        Transport::Tls => b"TLS",
    });
    via.push(b' ');
    push_hostport(via, hop.host, hop.port);
    via.extend_from_slice(b";branch=");
    via.extend_from_slice(BRANCH_PREFIX);
    push_hex(via, branch_hash(msg, top));
    via.extend_from_slice(b";rport");
    if let Some(conn) = hop.conn {
        via.push(b';');
        via.extend_from_slice(CONN_PARAM);
        via.push(b'=');
        push_hex(via, conn);
        via.push(b'-');
        push_hex(via, super::conn_tag(conn));
    }
    via.extend_from_slice(b"\r\n");
    match top_len {
        Some(len) => write_top_via_known(via, via_header.value, (top, len), hop.source),
        None => write_top_via(via, via_header.value, hop.source),
    }

    let mf = &mut bufs.max_forwards;
    mf.clear();
    let mf_edit = match max_forwards {
        Some((n, h)) => {
            push_decimal(mf, u64::from(n - 1));
            Some((h.value_range.clone(), false))
        }
        None => {
            mf.extend_from_slice(b"Max-Forwards: 70\r\n");
            None
        }
    };

    let path = &mut bufs.path;
    path.clear();
    if is_register {
        path.extend_from_slice(b"Path: <sip:");
        push_hostport(path, hop.host, hop.port);
        if hop.transport != Transport::Udp {
            path.extend_from_slice(b";transport=");
            path.extend_from_slice(hop.transport.as_str().as_bytes());
        }
        path.extend_from_slice(b";lr>\r\n");
    }

    let via_edit = Edit::Replace {
        range: via_header.line.clone(),
        bytes: &bufs.via,
    };
    let mf_edit = match mf_edit {
        Some((range, _)) => Edit::Replace {
            range,
            bytes: &bufs.max_forwards,
        },
        None => Edit::Insert {
            at: via_header.line.end,
            bytes: &bufs.max_forwards,
        },
    };
    // Our Path goes first (RFC 3327 4.3): before any existing Path header (empty for others).
    let path_edit = Edit::Insert {
        at: msg
            .header(HeaderName::Path)
            .map_or(via_header.line.end, |h| h.line.start),
        bytes: &bufs.path,
    };
    let route_edit = Edit::Remove(hop.remove_route.clone().unwrap_or(0..0));
    let mut edits = [route_edit, via_edit, mf_edit, path_edit];
    // By position; at one offset, inserts before the replace/remove that starts there (e.g. our
    // Max-Forwards after the first Via line and a Route line right after it being removed).
    edits.sort_by_key(|e| match e {
        Edit::Insert { at, .. } => (*at, 0),
        Edit::Replace { range, .. } | Edit::Remove(range) => (range.start, 1),
    });
    sip::apply_edits(msg, &edits, out).map_err(|_| ForwardError::Edit)
}

/// RFC 3261 16.11: a branch that is the same for retransmissions and the CANCEL of the
/// request. With an RFC 3261 branch: hash of it and the sent-by; otherwise of the fields
/// 16.11 lists (top Via, Call-ID, CSeq number, From tag, To tag, Request-URI).
fn branch_hash(msg: &Message<'_>, top: &sip::Via<'_>) -> u64 {
    let mut h = StackHash::default();
    let mut part = |b: &[u8]| {
        h.update(b);
        h.update(&[0]);
    };
    // `branch()` is recorded by the Via parse, so asking twice costs nothing.
    if top.has_rfc3261_branch() {
        part(top.branch().unwrap_or(&[]));
        part(top.host);
        part(&top.port.unwrap_or(0).to_be_bytes());
    } else {
        part(msg.header(HeaderName::Via).map_or(&[][..], |v| v.value));
        part(msg.call_id().unwrap_or(&[]));
        part(
            msg.cseq()
                .map(|c| c.seq.to_be_bytes())
                .unwrap_or_default()
                .as_slice(),
        );
        part(msg.from().ok().and_then(|f| f.tag()).unwrap_or(&[]));
        part(msg.to().ok().and_then(|t| t.tag()).unwrap_or(&[]));
        part(msg.request_uri().unwrap_or(&[]));
    }
    h.digest()
}

fn push_hostport(out: &mut Vec<u8>, host: &str, port: u16) {
    out.extend_from_slice(host.as_bytes());
    out.push(b':');
    push_decimal(out, u64::from(port));
}
