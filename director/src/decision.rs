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

use std::net::SocketAddr;

use sip::{HeaderName, Message, Method, Scheme, Uri};

use crate::placement::PlacementKey;
use crate::response::{self, RedirectTargets};
use crate::salvage;
use crate::snapshot::Snapshot;

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
}

impl Outcome {
    /// Every outcome, for metric registration.
    pub const ALL: [Outcome; 8] = [
        Outcome::Redirected,
        Outcome::OptionsOk,
        Outcome::NoRegistrar,
        Outcome::CancelUnmatched,
        Outcome::Rejected,
        Outcome::AckAbsorbed,
        Outcome::ResponseDropped,
        Outcome::GarbageDropped,
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
        }
    }
}

/// Facts about where a message came from.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    /// The peer's address.
    pub addr: SocketAddr,
    /// True for TCP/TLS: responses go back over the connection, never by Via.
    pub stream: bool,
}

/// Reusable per-worker scratch space, so deciding allocates nothing once warmed up.
#[derive(Debug)]
pub struct Scratch {
    key: PlacementKey,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            key: PlacementKey::with_capacity(256),
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
    out.clear();
    let msg = match sip::parse(bytes) {
        Ok(msg) => msg,
        Err(err) => {
            return match salvage::write_bad_request(out, bytes, err.reason()) {
                true => (Verdict::Reply, Outcome::Rejected),
                false => (Verdict::Drop, Outcome::GarbageDropped),
            }
        }
    };
    if !msg.is_request() {
        return (Verdict::Drop, Outcome::ResponseDropped);
    }
    let verdict = reply_route(&msg, source);
    if let Err(invalid) = sip::validate_request(&msg) {
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
        response::write_simple(out, &msg, source.addr, code, reason);
        return (verdict, Outcome::Rejected);
    }
    let Some(method) = msg.method() else {
        return (Verdict::Drop, Outcome::GarbageDropped);
    };
    if method != Method::Ack && !msg.request_uri().is_some_and(is_sip_scheme) {
        // RFC 3261 8.2.2.1: only sip: and sips: Request-URIs are served.
        response::write_simple(out, &msg, source.addr, 416, "Unsupported URI Scheme");
        return (verdict, Outcome::Rejected);
    }
    if !matches!(method, Method::Ack | Method::Cancel) {
        // RFC 3261 8.2.2.3: the director supports no extension a client may require.
        if let Some(require) = msg.header(HeaderName::Require) {
            let unsupported = ("Unsupported", require.value);
            response::write_with_header(out, &msg, source.addr, 420, "Bad Extension", unsupported);
            return (verdict, Outcome::Rejected);
        }
    }
    match method {
        Method::Ack => (Verdict::Drop, Outcome::AckAbsorbed),
        Method::Cancel => {
            response::write_simple(
                out,
                &msg,
                source.addr,
                481,
                "Call/Transaction Does Not Exist",
            );
            (verdict, Outcome::CancelUnmatched)
        }
        Method::Register => {
            let aor = msg.to().and_then(|to| to.parsed_uri());
            redirect(snap, &msg, aor, source, scratch, out, verdict)
        }
        Method::Options if !request_uri_has_user(&msg) => {
            response::write_options_ok(out, &msg, source.addr);
            (verdict, Outcome::OptionsOk)
        }
        _ => {
            let target = msg
                .request_uri()
                .map_or(Err(sip::ParseError::BadUri), Uri::parse);
            redirect(snap, &msg, target, source, scratch, out, verdict)
        }
    }
}

/// Answers `301` (or `503`) for the user named by `aor`.
fn redirect(
    snap: &Snapshot,
    msg: &Message<'_>,
    aor: Result<Uri<'_>, sip::ParseError>,
    source: Source,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
    verdict: Verdict,
) -> (Verdict, Outcome) {
    let uri = match aor {
        Ok(uri) if matches!(uri.scheme, Scheme::Sip | Scheme::Sips) => uri,
        Ok(_) => {
            let reason = "Address Of Record Must Be SIP or SIPS";
            response::write_simple(out, msg, source.addr, 400, reason);
            return (verdict, Outcome::Rejected);
        }
        Err(err) => {
            response::write_simple(out, msg, source.addr, 400, err.reason());
            return (verdict, Outcome::Rejected);
        }
    };
    if scratch.key.set_from_uri_parts(uri.user, uri.host).is_err() {
        response::write_simple(out, msg, source.addr, 400, "Malformed Address Of Record");
        return (verdict, Outcome::Rejected);
    }
    let topology = snap.topology();
    let home = topology.home_where(&scratch.key, |t| snap.is_eligible(t));
    // The backup registrar takes the primary's place when the whole primary pool is out.
    let (primary, backup) = match (home.primary, home.backup) {
        (Some(p), b) => (p, b),
        (None, Some(b)) => (b, None),
        (None, None) => {
            response::write_retry_after(
                out,
                msg,
                source.addr,
                503,
                "No Registrar Available",
                RETRY_AFTER_S,
            );
            return (verdict, Outcome::NoRegistrar);
        }
    };
    let targets = RedirectTargets {
        primary: topology.registrar(primary).contact(),
        backup: backup.map(|b| topology.registrar(b).contact()),
    };
    response::write_redirect(out, msg, source.addr, targets, topology.expires());
    (verdict, Outcome::Redirected)
}

/// RFC 3261 18.2.2 for a stateless element: streams answer over the connection; UDP answers
/// the source address when the client asked for `rport` (RFC 3581), otherwise the source IP at
/// the Via sent-by port (default 5060).
fn reply_route(msg: &Message<'_>, source: Source) -> Verdict {
    if source.stream {
        return Verdict::Reply;
    }
    let Ok(via) = msg.top_via() else {
        return Verdict::Reply;
    };
    if via.param(b"rport").is_some() {
        return Verdict::Reply;
    }
    let port = via.port.unwrap_or(5060);
    if port == source.addr.port() {
        Verdict::Reply
    } else {
        Verdict::ReplyTo(SocketAddr::new(source.addr.ip(), port))
    }
}

fn request_uri_has_user(msg: &Message<'_>) -> bool {
    msg.request_uri()
        .and_then(|u| Uri::parse(u).ok())
        .is_some_and(|u| u.user.is_some())
}

fn is_sip_scheme(uri: &[u8]) -> bool {
    let starts = |p: &[u8]| {
        uri.get(..p.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(p))
    };
    starts(b"sip:") || starts(b"sips:")
}
