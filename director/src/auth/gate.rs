//! Where authentication meets the request path: before a REGISTER is redirected or forwarded,
//! [`gate`] checks it against the snapshot's [`Authenticator`] and, when it may not pass,
//! writes the `401` (challenges), `403` or `400` in its place.

use std::net::SocketAddr;

use sip::Message;

use super::verify::{Authenticator, Check, Subject};
use crate::decision::Outcome;
use crate::placement::PlacementKey;
use crate::response;

/// Checks `msg`, acting for the AOR `key` (over a TLS connection whose client certificate names
/// `cert_identity`, if any), at Unix time `now_s`. `None`: it may be routed;
/// otherwise the response is in `out` and this is its outcome.
pub(crate) fn gate(
    auth: &Authenticator,
    msg: &Message<'_>,
    source: SocketAddr,
    cert_identity: Option<&[u8]>,
    key: &PlacementKey,
    now_s: u64,
    out: &mut Vec<u8>,
) -> Option<Outcome> {
    let (Some(method), Some(request_uri)) = (msg.method(), msg.request_uri()) else {
        response::write_simple(out, msg, source, 400, "Bad Request");
        return Some(Outcome::Rejected);
    };
    let subject = Subject {
        method: method.as_bytes(),
        request_uri,
        aor: key.as_bytes(),
        user: key.user(),
        cert_identity,
    };
    match auth.check(msg, subject, now_s) {
        Check::Ok => None,
        Check::Challenge { stale } => {
            write_challenge(auth, msg, source, now_s, stale, out);
            Some(Outcome::Challenged)
        }
        Check::Forbidden => {
            response::write_simple(out, msg, source, 403, "Forbidden");
            Some(Outcome::AuthFailed)
        }
        Check::BadRequest(reason) => {
            response::write_simple(out, msg, source, 400, reason);
            Some(Outcome::Rejected)
        }
    }
}

/// The end of every response [`response`] writes.
const TAIL: &[u8] = b"Content-Length: 0\r\n\r\n";

/// `401 Unauthorized` with one `WWW-Authenticate` per algorithm, inserted before the final
/// `Content-Length`.
fn write_challenge(
    auth: &Authenticator,
    msg: &Message<'_>,
    source: SocketAddr,
    now_s: u64,
    stale: bool,
    out: &mut Vec<u8>,
) {
    response::write_simple(out, msg, source, 401, "Unauthorized");
    if out.ends_with(TAIL) {
        out.truncate(out.len() - TAIL.len());
        auth.write_challenges(out, now_s, stale);
        out.extend_from_slice(TAIL);
    }
}
