//! The director's policy for one inbound message: bytes, source and routing snapshot in; a
//! response written into `out` and a verdict saying where it goes. No sockets, no clock.
//!
//! Redirect mode answers every request itself:
//! - `REGISTER` -> `301` with the first eligible registrar of the user's primary pool (q=0.7)
//!   and of its backup pool (q=0.3); `503` + `Retry-After` when neither pool has one;
//! - `OPTIONS` to the director itself (no user part in the Request-URI) -> `200`;
//! - `ACK` -> nothing (it acknowledges our own final answer); `CANCEL` -> `481` (we keep no
//!   transactions: the request it cancels was already answered);
//! - any other request -> `301` to the home of its Request-URI, like a redirect server;
//! - a `Require` naming any extension -> `420 Bad Extension` (RFC 3261 8.2.2.3);
//! - malformed requests -> `400` (`505` for another SIP version, `416` for a Request-URI that
//!   is not SIP) whenever a response can be addressed; responses -> dropped.
//!
//! Proxy mode (`mode = "proxy"`) forwards every request except OPTIONS to the director itself
//! statelessly to the user's registrar ([`crate::proxy`]), ACK and CANCEL included (the derived
//! branch sends them where their INVITE went), answers `483` when Max-Forwards is 0 and `503`
//! when no registrar can take the user, and relays responses back by Via. A request whose top
//! Route names the director is loose-routed ([`crate::proxy::route`]). `Require` is not checked
//! in proxy mode (RFC 3261 16.3: it is for the UAS).
//!
//! With `[auth]` on, a REGISTER is routed only once it authenticates as its To AOR
//! ([`crate::auth`]): otherwise `401` (challenges), `403` or `400`.
//!
//! Which registrars a user gets under the current health view is [`crate::routing::route`].

use std::net::SocketAddr;

use sip::{HeaderName, Message, Method, Scheme, Uri};

use crate::parse_slot;
use crate::placement::PlacementKey;
use crate::proxy::{self, forward::Hop, ForwardBufs, ForwardError, RelayTo};
use crate::response::{self, RedirectTargets};
use crate::routing::route;
use crate::salvage;
use crate::snapshot::Snapshot;
use crate::stats::MethodClass;
use crate::topology::{Mode, Target, Transport};

/// Seconds a client is told to wait when no registrar can take it.
pub const RETRY_AFTER_S: u32 = 30;

/// Where the bytes written into `out` go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Back to the source (over its connection for streams).
    Reply,
    /// To this address (UDP without `rport`: the source IP and the Via sent-by port,
    /// RFC 3261 18.2.2).
    ReplyTo(SocketAddr),
    /// Nothing to send.
    Drop,
    /// Forward (proxy mode) to this address over this transport.
    Forward {
        /// Destination.
        to: SocketAddr,
        /// Transport.
        transport: Transport,
    },
    /// Over this stream connection (a `dataplane::ConnId` as u64): a relayed response.
    ToConn(u64),
}

/// What happened, for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// `301` to the user's home.
    Redirected,
    /// `200` to an OPTIONS for the director itself.
    OptionsOk,
    /// `503`: no eligible registrar in the primary or backup pool.
    NoRegistrar,
    /// `481` to a CANCEL.
    CancelUnmatched,
    /// `400`/`416`/`501`/`505`.
    Rejected,
    /// An ACK, absorbed.
    AckAbsorbed,
    /// A response: the director originates no requests in redirect mode.
    ResponseDropped,
    /// Unparseable and unanswerable.
    GarbageDropped,
    /// Forwarded to a registrar (proxy mode).
    Forwarded,
    /// A registrar's response relayed back (proxy mode).
    Relayed,
    /// `483`: Max-Forwards reached 0 (proxy mode).
    TooManyHops,
    /// A response that is not ours or has nowhere to go, or a request whose registrar address
    /// is unresolved (proxy mode): dropped or answered 503.
    Unroutable,
    /// `401` with digest challenges (`[auth]`): no, stale or foreign credentials.
    Challenged,
    /// `403` (`[auth]`): wrong password, unknown user, or credentials of another user.
    AuthFailed,
}

impl Outcome {
    /// Every outcome, for metric registration.
    pub const ALL: [Outcome; 14] = [
        Outcome::Redirected,
        Outcome::OptionsOk,
        Outcome::NoRegistrar,
        Outcome::CancelUnmatched,
        Outcome::Rejected,
        Outcome::AckAbsorbed,
        Outcome::ResponseDropped,
        Outcome::GarbageDropped,
        Outcome::Forwarded,
        Outcome::Relayed,
        Outcome::TooManyHops,
        Outcome::Unroutable,
        Outcome::Challenged,
        Outcome::AuthFailed,
    ];

    /// Stable label for metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Redirected => "redirected",
            Outcome::OptionsOk => "options_ok",
            Outcome::NoRegistrar => "no_registrar",
            Outcome::CancelUnmatched => "cancel_unmatched",
            Outcome::Rejected => "rejected",
            Outcome::AckAbsorbed => "ack_absorbed",
            Outcome::ResponseDropped => "response_dropped",
            Outcome::GarbageDropped => "garbage_dropped",
            Outcome::Forwarded => "forwarded",
            Outcome::Relayed => "relayed",
            Outcome::TooManyHops => "too_many_hops",
            Outcome::Unroutable => "unroutable",
            Outcome::Challenged => "challenged",
            Outcome::AuthFailed => "auth_failed",
        }
    }
}

/// Facts about where a message came from.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The peer's address.
    pub addr: SocketAddr,
    /// True for TCP/TLS: responses go back over the connection, never by Via.
    pub stream: bool,
    /// Our address it arrived on (the listener's; may be a wildcard).
    pub local: SocketAddr,
    /// The stream connection it arrived on (`dataplane::ConnId::to_u64`).
    pub conn: Option<u64>,
    /// The canonical `user@host` of the verified TLS client certificate of that connection
    /// (`[auth] mode = "tls-client-cert"` / `"digest-or-cert"`), if any.
    pub cert_identity: Option<&'a [u8]>,
}

/// Reusable per-worker scratch space, so deciding allocates nothing once warmed up.
#[derive(Debug)]
pub struct Scratch {
    key: PlacementKey,
    bufs: ForwardBufs,
    /// The method of the last decided message, for metrics.
    pub method: MethodClass,
    /// The status code of the response written by the last decision (0: none).
    pub code: u16,
    /// The registrar the last decision sent the user to (301 primary or forward target).
    pub target: Option<Target>,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            key: PlacementKey::with_capacity(256),
            bufs: ForwardBufs::default(),
            method: MethodClass::None,
            code: 0,
            target: None,
        }
    }
}

/// Decides what to do with one message and writes the response (if any) into `out`.
pub fn decide(
    snap: &Snapshot,
    bytes: &[u8],
    source: Source,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) -> (Verdict, Outcome) {
    decide_in_mode(snap, snap.topology().mode(), bytes, source, scratch, out)
}

/// [`decide`] in an explicit mode (a listener's `mode` overriding `[director] mode`).
pub fn decide_in_mode(
    snap: &Snapshot,
    mode: Mode,
    bytes: &[u8],
    source: Source,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) -> (Verdict, Outcome) {
    out.clear();
    scratch.method = MethodClass::None;
    scratch.code = 0;
    scratch.target = None;
    // Parsed into this thread's message slot: its ~2 KiB span table is reused, not zeroed.
    let (verdict, outcome) = parse_slot::with_parsed(bytes, |parsed| {
        decide_inner(snap, mode, bytes, parsed, source, scratch, out)
    });
    if !out.is_empty() && matches!(verdict, Verdict::Reply | Verdict::ReplyTo(_)) {
        scratch.code = status_of(out);
    }
    (verdict, outcome)
}

fn status_of(out: &[u8]) -> u16 {
    out.get(8..11)
        .and_then(|c| std::str::from_utf8(c).ok())
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Most Via header fields in a request the director answers or forwards: every answer copies
/// each Via line (RFC 3261 8.2.6.2) and adds up to 8 fields of its own (a 301: From, To,
/// Call-ID, CSeq, two Contacts, Expires, Content-Length), within [`sip::MAX_HEADERS`].
pub const MAX_ANSWERED_VIAS: usize = sip::MAX_HEADERS - 8;

fn decide_inner(
    snap: &Snapshot,
    mode: Mode,
    bytes: &[u8],
    parsed: Result<&Message<'_>, sip::ParseError>,
    source: Source,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) -> (Verdict, Outcome) {
    let proxying = mode == Mode::Proxy;
    let msg = match parsed {
        Ok(msg) => msg,
        Err(err) => {
            return match salvage::write_bad_request(out, bytes, err.reason()) {
                true => (Verdict::Reply, Outcome::Rejected),
                false => (Verdict::Drop, Outcome::GarbageDropped),
            }
        }
    };
    if !msg.is_request() {
        if proxying {
            return relay(msg, scratch, out);
        }
        return (Verdict::Drop, Outcome::ResponseDropped);
    }
    scratch.method = MethodClass::of(msg.method());
    // One pass that validates and keeps what it parsed (top Via, From, To, ...).
    let validated = sip::validate_request_parts(msg);
    let vias = match &validated {
        Ok(parts) => parts.vias.len(),
        Err(_) => msg.headers_named(HeaderName::Via).count(),
    };
    if vias > MAX_ANSWERED_VIAS {
        // No answer of ours, valid request or not, could carry every Via line and still be
        // read by a parser with the header limit (ours included): a 400 that names why, with
        // as many as fit.
        if msg.method() == Some(Method::Ack) {
            return (Verdict::Drop, Outcome::AckAbsorbed);
        }
        return match salvage::write_bad_request(out, bytes, "Too Many Via Headers") {
            true => (reply_route(msg, source), Outcome::Rejected),
            false => (Verdict::Drop, Outcome::GarbageDropped),
        };
    }
    let parts = match validated {
        Ok(parts) => parts,
        Err(invalid) => {
            let verdict = reply_route(msg, source);
            if msg.method() == Some(Method::Ack) {
                return (Verdict::Drop, Outcome::AckAbsorbed);
            }
            let code = match invalid {
                sip::Invalid::RequestUri(_) if !msg.request_uri().is_some_and(is_sip_scheme) => 416,
                other => other.status(),
            };
            let reason = if code == 416 {
                "Unsupported URI Scheme"
            } else {
                invalid.reason()
            };
            response::write_simple(out, msg, source.addr, code, reason);
            return (verdict, Outcome::Rejected);
        }
    };
    let verdict = reply_route_via(&parts.top_via, source);
    let method = parts.method;
    if method != Method::Ack && !msg.request_uri().is_some_and(is_sip_scheme) {
        // RFC 3261 8.2.2.1: only sip: and sips: Request-URIs are served.
        response::write_simple(out, msg, source.addr, 416, "Unsupported URI Scheme");
        return (verdict, Outcome::Rejected);
    }
    if !proxying && !matches!(method, Method::Ack | Method::Cancel) {
        // RFC 3261 8.2.2.3: the director supports no extension a client may require.
        if let Some(require) = parts.require_index.and_then(|i| msg.header_at_index(i)) {
            let unsupported = ("Unsupported", require.value);
            response::write_with_header(out, msg, source.addr, 420, "Bad Extension", unsupported);
            return (verdict, Outcome::Rejected);
        }
    }
    if proxying {
        if method == Method::Options && parts.request_uri.user.is_none() {
            response::write_options_ok(out, msg, source.addr);
            return (verdict, Outcome::OptionsOk);
        }
        // Our name is needed only when the request carries a Route to compare it with.
        let us = |u: &Uri<'_>| {
            is_us(
                u,
                advertised_host(snap, source.local).as_str(),
                source.local,
            )
        };
        let mut remove_route = None;
        match proxy::loose_route(msg, us) {
            None => {}
            Some(Err(_)) => {
                if method == Method::Ack {
                    return (Verdict::Drop, Outcome::AckAbsorbed);
                }
                response::write_simple(out, msg, source.addr, 404, "Next Hop Not An Address");
                return (verdict, Outcome::Unroutable);
            }
            Some(Ok(lr)) => {
                if let (Some((to, transport)), false) = (lr.next, method == Method::Register) {
                    let next = Next {
                        to,
                        transport,
                        target: None,
                        remove_route: Some(lr.remove),
                    };
                    return send_forward(snap, msg, &parts, source, next, scratch, out, verdict);
                }
                remove_route = Some(lr.remove);
            }
        }
        let key = match method {
            Method::Register => parts.to.parsed_uri(),
            _ => Ok(parts.request_uri),
        };
        return forward(
            snap,
            msg,
            &parts,
            key,
            source,
            remove_route,
            scratch,
            out,
            verdict,
        );
    }
    match method {
        Method::Ack => (Verdict::Drop, Outcome::AckAbsorbed),
        Method::Cancel => {
            response::write_simple(
                out,
                msg,
                source.addr,
                481,
                "Call/Transaction Does Not Exist",
            );
            (verdict, Outcome::CancelUnmatched)
        }
        Method::Register => {
            let aor = parts.to.parsed_uri();
            redirect(snap, msg, &parts, aor, source, scratch, out, verdict)
        }
        Method::Options if parts.request_uri.user.is_none() => {
            response::write_options_ok(out, msg, source.addr);
            (verdict, Outcome::OptionsOk)
        }
        _ => {
            let target = Ok(parts.request_uri);
            redirect(snap, msg, &parts, target, source, scratch, out, verdict)
        }
    }
}

/// Answers `301` (or `503`) for the user named by `aor`.
#[allow(clippy::too_many_arguments)]
fn redirect(
    snap: &Snapshot,
    msg: &Message<'_>,
    parts: &sip::Validated<'_>,
    aor: Result<Uri<'_>, sip::ParseError>,
    source: Source,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
    verdict: Verdict,
) -> (Verdict, Outcome) {
    if !set_key(msg, aor, source, scratch, out) {
        return (verdict, Outcome::Rejected);
    }
    if let Some(outcome) = authenticate(snap, msg, source, scratch, out) {
        return (verdict, outcome);
    }
    let topology = snap.topology();
    let Some(route) = route(snap, &scratch.key) else {
        write_no_registrar(out, msg, source);
        return (verdict, Outcome::NoRegistrar);
    };
    let targets = RedirectTargets {
        primary: topology.registrar(route.primary).contact(),
        backup: route.backup.map(|b| topology.registrar(b).contact()),
    };
    let expires = topology.expires();
    response::write_redirect_validated(out, msg, parts, source.addr, targets, expires);
    scratch.target = Some(route.primary);
    (verdict, Outcome::Redirected)
}

/// `[auth]`: a REGISTER must prove it acts for its To AOR (in `scratch.key`) before it is
/// redirected or forwarded. `None`: go on; otherwise the 401/403/400 is written.
fn authenticate(
    snap: &Snapshot,
    msg: &Message<'_>,
    source: Source,
    scratch: &Scratch,
    out: &mut Vec<u8>,
) -> Option<Outcome> {
    let auth = snap.topology().auth()?;
    if msg.method() != Some(Method::Register) {
        return None;
    }
    crate::auth::gate(
        auth,
        msg,
        source.addr,
        source.cert_identity,
        &scratch.key,
        crate::auth::now_s(),
        out,
    )
}

fn write_no_registrar(out: &mut Vec<u8>, msg: &Message<'_>, source: Source) {
    response::write_retry_after(
        out,
        msg,
        source.addr,
        503,
        "No Registrar Available",
        RETRY_AFTER_S,
    );
}

/// The placement key of `aor`, or the 400 answering why there is none.
fn set_key(
    msg: &Message<'_>,
    aor: Result<Uri<'_>, sip::ParseError>,
    source: Source,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) -> bool {
    let uri = match aor {
        Ok(uri) if matches!(uri.scheme, Scheme::Sip | Scheme::Sips) => uri,
        Ok(_) => {
            let reason = "Address Of Record Must Be SIP or SIPS";
            response::write_simple(out, msg, source.addr, 400, reason);
            return false;
        }
        Err(err) => {
            response::write_simple(out, msg, source.addr, 400, err.reason());
            return false;
        }
    };
    if scratch.key.set_from_uri_parts(uri.user, uri.host).is_err() {
        response::write_simple(out, msg, source.addr, 400, "Malformed Address Of Record");
        return false;
    }
    true
}

/// Where a forwarded request goes.
struct Next {
    to: SocketAddr,
    transport: Transport,
    /// The registrar, when it goes to one (traffic counters).
    target: Option<Target>,
    /// Our Route value to remove (loose routing).
    remove_route: Option<std::ops::Range<usize>>,
}

/// Proxy mode: forwards the request to the user's registrar (or answers 483/503/400).
#[allow(clippy::too_many_arguments)]
fn forward(
    snap: &Snapshot,
    msg: &Message<'_>,
    parts: &sip::Validated<'_>,
    aor: Result<Uri<'_>, sip::ParseError>,
    source: Source,
    remove_route: Option<std::ops::Range<usize>>,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
    verdict: Verdict,
) -> (Verdict, Outcome) {
    if !set_key(msg, aor, source, scratch, out) {
        if msg.method() == Some(Method::Ack) {
            out.clear();
            return (Verdict::Drop, Outcome::AckAbsorbed);
        }
        return (verdict, Outcome::Rejected);
    }
    if let Some(outcome) = authenticate(snap, msg, source, scratch, out) {
        return (verdict, outcome);
    }
    let topology = snap.topology();
    let target = route(snap, &scratch.key).map(|r| (r.forward, snap.addr(r.forward)));
    let (target, to) = match target {
        Some((t, Some(to))) => (t, to),
        Some((_, None)) | None => {
            if msg.method() == Some(Method::Ack) {
                return (Verdict::Drop, Outcome::AckAbsorbed);
            }
            write_no_registrar(out, msg, source);
            let outcome = match target {
                Some(_) => Outcome::Unroutable,
                None => Outcome::NoRegistrar,
            };
            return (verdict, outcome);
        }
    };
    let next = Next {
        to,
        transport: topology.registrar(target).endpoint().transport,
        target: Some(target),
        remove_route,
    };
    send_forward(snap, msg, parts, source, next, scratch, out, verdict)
}

/// Writes the forwarded request toward `next` (or the 483/400 that replaces it).
#[allow(clippy::too_many_arguments)]
fn send_forward(
    snap: &Snapshot,
    msg: &Message<'_>,
    parts: &sip::Validated<'_>,
    source: Source,
    next: Next,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
    verdict: Verdict,
) -> (Verdict, Outcome) {
    let host = advertised_host(snap, source.local);
    let hop = Hop {
        source: source.addr,
        host: host.as_str(),
        port: source.local.port(),
        transport: next.transport,
        conn: if source.stream { source.conn } else { None },
        remove_route: next.remove_route,
    };
    match proxy::forward_validated(msg, parts, hop, &mut scratch.bufs, out) {
        Ok(()) => {
            scratch.target = next.target;
            let (to, transport) = (next.to, next.transport);
            (Verdict::Forward { to, transport }, Outcome::Forwarded)
        }
        Err(e) => {
            out.clear();
            let (code, reason, outcome) = match e {
                ForwardError::TooManyHops => (483, "Too Many Hops", Outcome::TooManyHops),
                ForwardError::TooManyHeaders => (400, "Too Many Headers", Outcome::Rejected),
                // Not reached for a validated request (it has a parseable top Via).
                ForwardError::BadVia | ForwardError::Edit => (400, "Bad Via", Outcome::Rejected),
            };
            if msg.method() == Some(Method::Ack) {
                // An ACK is never answered.
                return (Verdict::Drop, Outcome::AckAbsorbed);
            }
            response::write_simple(out, msg, source.addr, code, reason);
            (verdict, outcome)
        }
    }
}

/// Whether a Route URI names this director: its advertised host (or the listener's IP) and the
/// listener's port.
fn is_us(uri: &Uri<'_>, host: &str, local: SocketAddr) -> bool {
    if uri.port.unwrap_or(5060) != local.port() {
        return false;
    }
    if uri.host.eq_ignore_ascii_case(host.as_bytes()) {
        return true;
    }
    let bare = uri
        .host
        .strip_prefix(b"[")
        .and_then(|h| h.strip_suffix(b"]"))
        .unwrap_or(uri.host);
    std::str::from_utf8(bare)
        .ok()
        .and_then(|h| h.parse::<std::net::IpAddr>().ok())
        .is_some_and(|ip| ip == local.ip())
}

/// The director's host in its Via and Path: the listener's address, or (for a wildcard
/// listener) the configured `domain`.
fn advertised_host(snap: &Snapshot, local: SocketAddr) -> HostText<'_> {
    if let (true, Some(domain)) = (local.ip().is_unspecified(), snap.topology().domain()) {
        return HostText::Name(domain);
    }
    let mut ip = IpText::default();
    match local {
        // Dotted quad by hand: `core::fmt` took a tenth of a forwarded request's time.
        SocketAddr::V4(a) => {
            for (i, octet) in a.ip().octets().into_iter().enumerate() {
                if i > 0 {
                    ip.push(b".");
                }
                let mut digits = [0u8; sip::MAX_DECIMAL_LEN];
                ip.push(sip::decimal(u64::from(octet), &mut digits));
            }
        }
        SocketAddr::V6(a) => ip.push_fmt(format_args!("[{}]", a.ip())),
    }
    HostText::Ip(ip)
}

/// The advertised host: the configured name, or the listener's address written out.
enum HostText<'a> {
    Name(&'a str),
    Ip(IpText),
}

impl HostText<'_> {
    fn as_str(&self) -> &str {
        match self {
            HostText::Name(name) => name,
            HostText::Ip(ip) => ip.as_str(),
        }
    }
}

/// An IP address as text on the stack: `[` IPv6 `]` is at most 47 bytes.
struct IpText {
    buf: [u8; 48],
    len: usize,
}

impl Default for IpText {
    fn default() -> Self {
        IpText {
            buf: [0; 48],
            len: 0,
        }
    }
}

impl IpText {
    /// Appends ASCII `b` (as much as fits).
    fn push(&mut self, b: &[u8]) {
        let n = b.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&b[..n]);
        self.len += n;
    }
    fn push_fmt(&mut self, args: std::fmt::Arguments<'_>) {
        use std::io::Write;
        let mut cur = std::io::Cursor::new(&mut self.buf[self.len..]);
        if cur.write_fmt(args).is_ok() {
            self.len += cur.position() as usize;
        }
    }
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

/// Proxy mode: a registrar's response goes back by Via.
fn relay(msg: &Message<'_>, scratch: &mut Scratch, out: &mut Vec<u8>) -> (Verdict, Outcome) {
    match proxy::relay_response(msg, out) {
        Ok(to) => {
            scratch.code = msg.status().unwrap_or(0);
            let verdict = match to {
                RelayTo::Conn(c) => Verdict::ToConn(c),
                RelayTo::Addr(to, transport) => Verdict::Forward { to, transport },
            };
            (verdict, Outcome::Relayed)
        }
        Err(_) => {
            out.clear();
            (Verdict::Drop, Outcome::Unroutable)
        }
    }
}

/// RFC 3261 18.2.2 for a stateless element: streams answer over the connection; UDP answers
/// the source address when the client asked for `rport` (RFC 3581), otherwise the source IP at
/// the Via sent-by port (default 5060).
pub(crate) fn reply_route(msg: &Message<'_>, source: Source) -> Verdict {
    if source.stream {
        return Verdict::Reply;
    }
    match msg.top_via() {
        Ok(via) => reply_route_via(&via, source),
        Err(_) => Verdict::Reply,
    }
}

/// [`reply_route`] with the top Via already parsed.
fn reply_route_via(via: &sip::Via<'_>, source: Source) -> Verdict {
    if source.stream {
        return Verdict::Reply;
    }
    if via.rport().is_some() {
        return Verdict::Reply;
    }
    let port = via.port.unwrap_or(5060);
    if port == source.addr.port() {
        Verdict::Reply
    } else {
        Verdict::ReplyTo(SocketAddr::new(source.addr.ip(), port))
    }
}

fn is_sip_scheme(uri: &[u8]) -> bool {
    let starts = |p: &[u8]| {
        uri.get(..p.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(p))
    };
    starts(b"sip:") || starts(b"sips:")
}
