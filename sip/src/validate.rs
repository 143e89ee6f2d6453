//! [`validate_request`]: the RFC 3261 8.2 / 16.3 checks a stateless element makes before acting
//! on a request, reporting which one failed ([`Invalid`]) so the caller can answer 400, 416,
//! 501 or 505.

use crate::error::ParseError;
use crate::header_name::HeaderName;
use crate::message::Message;
use crate::start_line::StartLine;
use crate::uri::Uri;

/// Why a request must be rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Invalid {
    /// The message is a response.
    #[error("not a request")]
    NotARequest,
    /// The version is not SIP/2.0: answer 505.
    #[error("unsupported SIP version")]
    BadVersion,
    /// The Request-URI does not parse.
    #[error("malformed Request-URI: {0}")]
    RequestUri(ParseError),
    /// A SIP Request-URI with a `?headers` part (not allowed, RFC 3261 19.1.1).
    #[error("Request-URI carries headers")]
    RequestUriHeaders,
    /// A mandatory header is missing.
    #[error("missing {0}")]
    Missing(HeaderName),
    /// A single-valued header appears more than once.
    #[error("repeated {0}")]
    Repeated(HeaderName),
    /// A header does not parse.
    #[error("malformed {name}: {error}")]
    Header {
        /// Which header.
        name: HeaderName,
        /// What is wrong.
        error: ParseError,
    },
    /// The CSeq method differs from the request method. `unknown_method` is true when the
    /// request method is an extension method (answer 501 rather than 400).
    #[error("CSeq method does not match the request method")]
    CSeqMethodMismatch {
        /// The Request-Line method is not one this crate knows.
        unknown_method: bool,
    },
}

impl Invalid {
    /// Suggested status code: 505 for a bad version, 501 for a CSeq mismatch on an unknown
    /// method, 400 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Invalid::BadVersion => 505,
            Invalid::CSeqMethodMismatch {
                unknown_method: true,
            } => 501,
            _ => 400,
        }
    }

    /// Short reason phrase, e.g. `"Malformed Via"`, `"Missing Call-ID"`.
    pub fn reason(&self) -> &'static str {
        match self {
            Invalid::NotARequest => "Not A Request",
            Invalid::BadVersion => "Version Not Supported",
            Invalid::RequestUri(_) => "Malformed Request-URI",
            Invalid::RequestUriHeaders => "Headers In Request-URI",
            Invalid::Missing(h) => ParseError::MissingHeader(*h).reason(),
            Invalid::Repeated(h) => match h {
                HeaderName::From => "Repeated From",
                HeaderName::To => "Repeated To",
                HeaderName::CallId => "Repeated Call-ID",
                HeaderName::CSeq => "Repeated CSeq",
                HeaderName::MaxForwards => "Repeated Max-Forwards",
                _ => "Repeated Header",
            },
            Invalid::Header { error, .. } => error.reason(),
            Invalid::CSeqMethodMismatch { .. } => "CSeq Method Mismatch",
        }
    }
}

const REQUIRED: [HeaderName; 5] = [
    HeaderName::Via,
    HeaderName::From,
    HeaderName::To,
    HeaderName::CallId,
    HeaderName::CSeq,
];

const SINGLE: [HeaderName; 6] = [
    HeaderName::From,
    HeaderName::To,
    HeaderName::CallId,
    HeaderName::CSeq,
    HeaderName::MaxForwards,
    HeaderName::ContentLength,
];

fn header_err(name: HeaderName) -> impl Fn(ParseError) -> Invalid {
    move |error| Invalid::Header { name, error }
}

/// Checks a request the way a stateless proxy or redirect server must before acting on it:
/// SIP/2.0; a parseable Request-URI without headers; Via, From, To, Call-ID and CSeq present and
/// parseable; single-valued fields not repeated; CSeq method equal to the request method;
/// Max-Forwards in 0..=255; Contact values parseable. Content-Length was checked by `parse`.
pub fn validate_request(msg: &Message<'_>) -> Result<(), Invalid> {
    let StartLine::Request { method, uri } = msg.start_line() else {
        return Err(Invalid::NotARequest);
    };
    if msg.version() != b"SIP/2.0" {
        return Err(Invalid::BadVersion);
    }
    let u = Uri::parse(uri).map_err(Invalid::RequestUri)?;
    if u.is_sip() && !u.headers.is_empty() {
        return Err(Invalid::RequestUriHeaders);
    }
    let mut seen = [0u8; REQUIRED.len()];
    let mut single = [0u8; SINGLE.len()];
    for h in msg.headers() {
        if let Some(i) = REQUIRED.iter().position(|&r| r == h.name) {
            if let Some(s) = seen.get_mut(i) {
                *s = 1;
            }
        }
        if let Some(i) = SINGLE.iter().position(|&r| r == h.name) {
            if let Some(s) = single.get_mut(i) {
                *s = s.saturating_add(1);
            }
        }
    }
    if let Some((&name, _)) = REQUIRED.iter().zip(seen).find(|&(_, s)| s == 0) {
        return Err(Invalid::Missing(name));
    }
    if let Some((&name, _)) = SINGLE.iter().zip(single).find(|&(_, n)| n > 1) {
        return Err(Invalid::Repeated(name));
    }
    for v in msg.vias() {
        v.map_err(header_err(HeaderName::Via))?;
    }
    msg.from().map_err(header_err(HeaderName::From))?;
    msg.to().map_err(header_err(HeaderName::To))?;
    msg.call_id().map_err(header_err(HeaderName::CallId))?;
    let cseq = msg.cseq().map_err(header_err(HeaderName::CSeq))?;
    msg.max_forwards()
        .map_err(header_err(HeaderName::MaxForwards))?;
    for c in msg.contacts() {
        c.map_err(header_err(HeaderName::Contact))?;
    }
    if cseq.method != method {
        return Err(Invalid::CSeqMethodMismatch {
            unknown_method: method.is_other(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn check(m: &[u8]) -> Result<(), Invalid> {
        validate_request(&parse(m).unwrap())
    }

    const OK: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n\r\n";

    fn replace(from: &str, to: &str) -> Vec<u8> {
        String::from_utf8(OK.to_vec())
            .unwrap()
            .replacen(from, to, 1)
            .into_bytes()
    }

    #[test]
    fn accepts_and_rejects() {
        assert_eq!(check(OK), Ok(()));
        assert_eq!(
            check(&replace("SIP/2.0\r\n", "SIP/7.0\r\n")),
            Err(Invalid::BadVersion)
        );
        assert_eq!(Invalid::BadVersion.status(), 505);
        assert_eq!(
            check(&replace("Call-ID: c\r\n", "")),
            Err(Invalid::Missing(HeaderName::CallId))
        );
        assert_eq!(
            check(&replace("Call-ID: c\r\n", "Call-ID: c\r\ni: d\r\n")),
            Err(Invalid::Repeated(HeaderName::CallId))
        );
        assert_eq!(
            check(&replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE")),
            Err(Invalid::CSeqMethodMismatch {
                unknown_method: false
            })
        );
        let nm = String::from_utf8(replace("OPTIONS sip", "NEWMETHOD sip")).unwrap();
        let e = check(nm.replace("1 OPTIONS", "1 INVITE").as_bytes());
        assert_eq!(
            e,
            Err(Invalid::CSeqMethodMismatch {
                unknown_method: true
            })
        );
        assert_eq!(e.unwrap_err().status(), 501);
        assert_eq!(
            check(&replace("Max-Forwards: 70", "Max-Forwards: 256")),
            Err(Invalid::Header {
                name: HeaderName::MaxForwards,
                error: ParseError::BadMaxForwards
            })
        );
        assert_eq!(
            check(&replace("sip:a@b SIP", "sip:a@b?x=y SIP")),
            Err(Invalid::RequestUriHeaders)
        );
        assert!(matches!(
            check(&replace("sip:a@b SIP", "<sip:a@b> SIP")),
            Err(Invalid::RequestUri(_))
        ));
        assert_eq!(
            validate_request(&parse(b"SIP/2.0 200 OK\r\n\r\n").unwrap()),
            Err(Invalid::NotARequest)
        );
        assert_eq!(Invalid::Missing(HeaderName::Via).reason(), "Missing Via");
    }
}
