//! Checking one request's credentials against the credentials file: digest (RFC 3261 22.4,
//! RFC 2617 `qop=auth`, RFC 8760 `SHA-256`) with stateless nonces, or a verified TLS client
//! certificate identity. Pure: the caller passes the time and the AOR being acted for.

use sip::{HeaderName, Message};

use super::algorithm::{ct_eq, Algorithm, MAX_HEX};
use super::credentials::Credentials;
use super::credentials_header::{self, DigestCredentials, HeaderError};
use super::nonce::{NonceKey, NonceState};

/// Which proofs of identity the director accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// No authentication (the default).
    #[default]
    None,
    /// SIP digest.
    Digest,
    /// A verified TLS client certificate naming the AOR.
    TlsClientCert,
    /// Either: a matching certificate, else digest.
    DigestOrCert,
}

impl AuthMode {
    /// The configuration token.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::None => "none",
            AuthMode::Digest => "digest",
            AuthMode::TlsClientCert => "tls-client-cert",
            AuthMode::DigestOrCert => "digest-or-cert",
        }
    }
}

/// The verdict on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Authenticated: route it.
    Ok,
    /// `401` with fresh challenges (`stale=true`: the credentials were right but the nonce has
    /// expired, RFC 2617 3.2.1).
    Challenge {
        /// Whether to send `stale=true`.
        stale: bool,
    },
    /// `403`: wrong password, unknown user, a username that is not the AOR's user, or no
    /// acceptable certificate where only certificates are accepted.
    Forbidden,
    /// `400` with this reason: unparseable credentials or a digest-uri that is not the
    /// Request-URI.
    BadRequest(&'static str),
}

/// What the authenticator needs to know about the request besides its headers.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The request method (`REGISTER`), as in HA2.
    pub method: &'a [u8],
    /// The Request-URI as sent.
    pub request_uri: &'a [u8],
    /// The canonical AOR acted for (placement key bytes, `user@host`).
    pub aor: &'a [u8],
    /// Its user part (the only digest `username` accepted).
    pub user: Option<&'a [u8]>,
    /// The verified TLS client certificate's identity (canonical `user@host`), if any.
    pub cert_identity: Option<&'a [u8]>,
}

/// Authentication settings and state (immutable; part of the routing snapshot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticator {
    mode: AuthMode,
    realm: Box<str>,
    algorithms: Box<[Algorithm]>,
    nonces: NonceKey,
    users: Credentials,
}

impl Authenticator {
    /// An authenticator; `algorithms` is the order of challenges (non-empty for digest modes).
    pub fn new(
        mode: AuthMode,
        realm: &str,
        algorithms: &[Algorithm],
        nonces: NonceKey,
        users: Credentials,
    ) -> Self {
        Authenticator {
            mode,
            realm: realm.into(),
            algorithms: algorithms.into(),
            nonces,
            users,
        }
    }

    /// The mode.
    pub fn mode(&self) -> AuthMode {
        self.mode
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The algorithms, in challenge order.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    /// The users.
    pub fn credentials(&self) -> &Credentials {
        &self.users
    }

    /// Checks `msg` (acting for `subject.aor`) at Unix time `now_s`.
    pub fn check(&self, msg: &Message<'_>, subject: Subject<'_>, now_s: u64) -> Check {
        let cert_ok = subject.cert_identity.is_some_and(|id| id == subject.aor);
        match self.mode {
            AuthMode::None => Check::Ok,
            AuthMode::TlsClientCert if cert_ok => Check::Ok,
            AuthMode::TlsClientCert => Check::Forbidden,
            AuthMode::DigestOrCert if cert_ok => Check::Ok,
            AuthMode::Digest | AuthMode::DigestOrCert => self.check_digest(msg, subject, now_s),
        }
    }

    fn check_digest(&self, msg: &Message<'_>, subject: Subject<'_>, now_s: u64) -> Check {
        let mut ours = None;
        for h in msg.headers_named(HeaderName::Authorization) {
            match credentials_header::parse(h.value) {
                Ok(c) if *c.realm == *self.realm.as_bytes() => {
                    ours = Some(c);
                    break;
                }
                Ok(_) | Err(HeaderError::NotDigest) => {}
                Err(_) => return Check::BadRequest("Malformed Authorization"),
            }
        }
        let Some(c) = ours else {
            return Check::Challenge { stale: false };
        };
        self.check_credentials(&c, subject, now_s)
    }

    fn check_credentials(
        &self,
        c: &DigestCredentials<'_>,
        subject: Subject<'_>,
        now_s: u64,
    ) -> Check {
        if c.userhash
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case(b"true"))
        {
            return Check::BadRequest("Unsupported userhash");
        }
        let alg = match c.algorithm.as_deref() {
            None => Some(Algorithm::Md5),
            Some(token) => Algorithm::from_token(token),
        };
        let Some(alg) = alg.filter(|a| self.algorithms.contains(a)) else {
            return Check::Challenge { stale: false };
        };
        let qop_auth = match c.qop.as_deref() {
            None => false,
            Some(q) if q.eq_ignore_ascii_case(b"auth") => true,
            Some(_) => return Check::BadRequest("Unsupported qop"),
        };
        let (nc, cnonce) = match (qop_auth, c.nc.as_deref(), c.cnonce.as_deref()) {
            (false, _, _) => (&b""[..], &b""[..]),
            (true, Some(nc), Some(cn)) if is_nc(nc) && !cn.is_empty() => (nc, cn),
            (true, _, _) => return Check::BadRequest("Malformed Authorization"),
        };
        if !c.uri.eq_ignore_ascii_case(subject.request_uri) {
            return Check::BadRequest("Authorization URI Mismatch");
        }
        let nonce = self.nonces.check(&c.nonce, self.realm.as_bytes(), now_s);
        if nonce == NonceState::Forged {
            return Check::Challenge { stale: false };
        }
        if subject.user != Some(&*c.username) {
            return Check::Forbidden;
        }
        let Some(ha1) = self.users.get(subject.aor).and_then(|u| u.ha1(alg)) else {
            return Check::Forbidden;
        };
        let ha2 = alg.hex(&[subject.method, b":", &c.uri]);
        let expected = if qop_auth {
            alg.hex(&[
                ha1.as_bytes(),
                b":",
                &c.nonce,
                b":",
                nc,
                b":",
                cnonce,
                b":auth:",
                ha2.as_bytes(),
            ])
        } else {
            alg.hex(&[ha1.as_bytes(), b":", &c.nonce, b":", ha2.as_bytes()])
        };
        if !response_matches(&c.response, expected.as_bytes()) {
            return Check::Forbidden;
        }
        match nonce {
            NonceState::Fresh => Check::Ok,
            NonceState::Stale | NonceState::Forged => Check::Challenge { stale: true },
        }
    }

    /// Writes one `WWW-Authenticate` line per configured algorithm (in order) with a nonce for
    /// `now_s`.
    pub fn write_challenges(&self, out: &mut Vec<u8>, now_s: u64, stale: bool) {
        let nonce = self.nonces.mint(self.realm.as_bytes(), now_s);
        for alg in self.algorithms.iter() {
            out.extend_from_slice(b"WWW-Authenticate: Digest realm=\"");
            out.extend_from_slice(self.realm.as_bytes());
            out.extend_from_slice(b"\", nonce=\"");
            out.extend_from_slice(&nonce);
            out.extend_from_slice(b"\", algorithm=");
            out.extend_from_slice(alg.as_str().as_bytes());
            out.extend_from_slice(b", qop=\"auth\"");
            if stale {
                out.extend_from_slice(b", stale=true");
            }
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// `nc`: exactly 8 hex digits (RFC 2617 3.2.2).
fn is_nc(nc: &[u8]) -> bool {
    nc.len() == 8 && nc.iter().all(u8::is_ascii_hexdigit)
}

/// Constant-time comparison of the presented response (any hex case) with the expected one.
fn response_matches(presented: &[u8], expected: &[u8]) -> bool {
    if presented.len() != expected.len() || presented.len() > MAX_HEX {
        return false;
    }
    let mut lower = [0u8; MAX_HEX];
    lower[..presented.len()].copy_from_slice(presented);
    lower.make_ascii_lowercase();
    ct_eq(&lower[..presented.len()], expected)
}

/// Digest response computation from the password, as a client does it (for tests and tools).
pub fn client_response(alg: Algorithm, fields: &ClientFields<'_>) -> Vec<u8> {
    let ha1 = alg.hex(&[fields.username, b":", fields.realm, b":", fields.password]);
    let ha2 = alg.hex(&[fields.method, b":", fields.uri]);
    alg.hex(&[
        ha1.as_bytes(),
        b":",
        fields.nonce,
        b":",
        fields.nc,
        b":",
        fields.cnonce,
        b":auth:",
        ha2.as_bytes(),
    ])
    .as_bytes()
    .to_vec()
}

/// The inputs of a `qop=auth` digest response.
#[derive(Debug, Clone, Copy)]
pub struct ClientFields<'a> {
    /// `username`.
    pub username: &'a [u8],
    /// `realm`.
    pub realm: &'a [u8],
    /// The password.
    pub password: &'a [u8],
    /// The method.
    pub method: &'a [u8],
    /// `uri`.
    pub uri: &'a [u8],
    /// `nonce`.
    pub nonce: &'a [u8],
    /// `nc`.
    pub nc: &'a [u8],
    /// `cnonce`.
    pub cnonce: &'a [u8],
}
