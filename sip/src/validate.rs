//! [`validate_request`]: the RFC 3261 8.2 / 16.3 checks a stateless element makes before acting
//! on a request, reporting which one failed ([`Invalid`]) so the caller can answer 400, 416,
//! 501 or 505.

use crate::accessors::{check_call_id, parse_max_forwards, CSeq};
use crate::error::ParseError;
use crate::header_name::HeaderName;
use crate::lex::CommaSplit;
use crate::message::Message;
use crate::method::Method;
use crate::name_addr::{Contact, NameAddr};
use crate::start_line::StartLine;
use crate::uri::Uri;
use crate::via::Via;

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

/// Headers that must be present, in the order a missing one is reported.
const REQUIRED: [HeaderName; 5] = [
    HeaderName::Via,
    HeaderName::From,
    HeaderName::To,
    HeaderName::CallId,
    HeaderName::CSeq,
];

/// Single-valued headers checked for repetition, in the order a repeated one is reported.
const SINGLE: [HeaderName; 6] = [
    HeaderName::From,
    HeaderName::To,
    HeaderName::CallId,
    HeaderName::CSeq,
    HeaderName::MaxForwards,
    HeaderName::ContentLength,
];

/// Slot of a header in the one-pass scan: 0..5 are REQUIRED minus Via plus Max-Forwards
/// (From, To, Call-ID, CSeq, Max-Forwards), matching `SINGLE[..5]`; 5 is Content-Length.
#[inline]
fn single_slot(name: HeaderName) -> Option<usize> {
    match name {
        HeaderName::From => Some(0),
        HeaderName::To => Some(1),
        HeaderName::CallId => Some(2),
        HeaderName::CSeq => Some(3),
        HeaderName::MaxForwards => Some(4),
        HeaderName::ContentLength => Some(5),
        _ => None,
    }
}

fn header_err(name: HeaderName) -> impl Fn(ParseError) -> Invalid {
    move |error| Invalid::Header { name, error }
}

/// Header field indices of a message (at most [`crate::MAX_HEADERS`] = 128 fields) as a bit
/// set, iterated in wire order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeaderSet(u128);

impl HeaderSet {
    #[inline]
    fn insert(&mut self, i: usize) {
        self.0 |= 1u128
            .checked_shl(u32::try_from(i).unwrap_or(u32::MAX))
            .unwrap_or(0);
    }

    /// The indices, ascending (for [`Message::header_at_index`]).
    #[inline]
    pub fn iter(self) -> impl Iterator<Item = usize> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            Some(i)
        })
    }

    /// True when no index is in the set.
    #[inline]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many indices are in the set.
    #[inline]
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }
}

/// What [`validate_request_parts`] parsed on the way, so a caller acting on a valid request
/// neither searches the headers nor parses them again.
#[derive(Debug, Clone, Copy)]
pub struct Validated<'a> {
    /// The request method.
    pub method: Method<'a>,
    /// The parsed Request-URI.
    pub request_uri: Uri<'a>,
    /// The first value of the first Via header (what [`Message::top_via`] returns).
    pub top_via: Via<'a>,
    /// The raw first comma-separated piece of the first Via value that `top_via` was parsed
    /// from (untrimmed).
    pub top_via_value: &'a [u8],
    /// Every Via header field, in wire order.
    pub vias: HeaderSet,
    /// From (the only one).
    pub from: NameAddr<'a>,
    /// To (the only one).
    pub to: NameAddr<'a>,
    /// Call-ID value.
    pub call_id: &'a [u8],
    /// CSeq.
    pub cseq: CSeq<'a>,
    /// Max-Forwards, `None` when absent.
    pub max_forwards: Option<u8>,
    /// Index of the From header field.
    pub from_index: usize,
    /// Index of the To header field.
    pub to_index: usize,
    /// Index of the Call-ID header field.
    pub call_id_index: usize,
    /// Index of the CSeq header field.
    pub cseq_index: usize,
    /// Index of the first Require header field, if any.
    pub require_index: Option<usize>,
}

/// Checks a request the way a stateless proxy or redirect server must before acting on it:
/// SIP/2.0; a parseable Request-URI without headers; Via, From, To, Call-ID and CSeq present and
/// parseable; single-valued fields not repeated; CSeq method equal to the request method;
/// Max-Forwards in 0..=255; Contact values parseable. Content-Length was checked by `parse`.
pub fn validate_request(msg: &Message<'_>) -> Result<(), Invalid> {
    validate_request_parts(msg).map(|_| ())
}

/// [`validate_request`], returning what it parsed: one pass over the header index, each
/// header parsed once.
pub fn validate_request_parts<'a>(msg: &Message<'a>) -> Result<Validated<'a>, Invalid> {
    let StartLine::Request { method, uri } = msg.start_line() else {
        return Err(Invalid::NotARequest);
    };
    if msg.version() != b"SIP/2.0" {
        return Err(Invalid::BadVersion);
    }
    let request_uri = Uri::parse(uri).map_err(Invalid::RequestUri)?;
    if request_uri.is_sip() && !request_uri.headers.is_empty() {
        return Err(Invalid::RequestUriHeaders);
    }
    // One pass: first index and count of each single-valued header, Via/Contact positions.
    let mut first = [usize::MAX; SINGLE.len()];
    let mut count = [0u8; SINGLE.len()];
    let mut vias = HeaderSet::default();
    let mut contacts = HeaderSet::default();
    let mut require_index = None;
    for (i, name) in msg.names().enumerate() {
        match name {
            HeaderName::Via => vias.insert(i),
            HeaderName::Contact => contacts.insert(i),
            HeaderName::Require => {
                if require_index.is_none() {
                    require_index = Some(i);
                }
            }
            other => {
                if let Some(k) = single_slot(other) {
                    if let (Some(f), Some(c)) = (first.get_mut(k), count.get_mut(k)) {
                        if *c == 0 {
                            *f = i;
                        }
                        *c = c.saturating_add(1);
                    }
                }
            }
        }
    }
    let present = |name: HeaderName| match name {
        HeaderName::Via => !vias.is_empty(),
        other => single_slot(other)
            .and_then(|k| count.get(k))
            .is_some_and(|&c| c > 0),
    };
    if let Some(&name) = REQUIRED.iter().find(|&&name| !present(name)) {
        return Err(Invalid::Missing(name));
    }
    if let Some((&name, _)) = SINGLE.iter().zip(count).find(|&(_, n)| n > 1) {
        return Err(Invalid::Repeated(name));
    }
    let mut top_via = None;
    for i in vias.iter() {
        for v in CommaSplit::new(msg.value_at(i)) {
            let via = Via::parse(v).map_err(header_err(HeaderName::Via))?;
            top_via.get_or_insert((via, v));
        }
    }
    let [from_index, to_index, call_id_index, cseq_index, mf_index, _] = first;
    let from = NameAddr::parse(msg.value_at(from_index)).map_err(header_err(HeaderName::From))?;
    let to = NameAddr::parse(msg.value_at(to_index)).map_err(header_err(HeaderName::To))?;
    let call_id =
        check_call_id(msg.value_at(call_id_index)).map_err(header_err(HeaderName::CallId))?;
    let cseq = CSeq::parse(msg.value_at(cseq_index)).map_err(header_err(HeaderName::CSeq))?;
    let max_forwards = match mf_index {
        usize::MAX => None,
        i => {
            Some(parse_max_forwards(msg.value_at(i)).map_err(header_err(HeaderName::MaxForwards))?)
        }
    };
    for i in contacts.iter() {
        for c in CommaSplit::new(msg.value_at(i)) {
            Contact::parse(c).map_err(header_err(HeaderName::Contact))?;
        }
    }
    if cseq.method != method {
        return Err(Invalid::CSeqMethodMismatch {
            unknown_method: method.is_other(),
        });
    }
    // Via is present (checked above) and CommaSplit yields at least one piece per value.
    let (top_via, top_via_value) = top_via.ok_or(Invalid::Missing(HeaderName::Via))?;
    Ok(Validated {
        method,
        request_uri,
        top_via,
        top_via_value,
        vias,
        from,
        to,
        call_id,
        cseq,
        max_forwards,
        from_index,
        to_index,
        call_id_index,
        cseq_index,
        require_index,
    })
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
    fn parts_agree_with_the_accessors() {
        let m = b"REGISTER sip:b SIP/2.0\r\nv: SIP/2.0/UDP h:5070;rport;branch=z9hG4bK1, SIP/2.0/TCP g\r\n\
Max-Forwards: 70\r\nf: <sip:x@y>;tag=1\r\nRequire: foo\r\nt: \"A\" <sip:a@b>\r\nVia: SIP/2.0/UDP k\r\n\
i: c\r\nCSeq: 7\r\n REGISTER\r\nm: <sip:a@h>, <sip:a@i>\r\n\r\n";
        let msg = parse(m).unwrap();
        let p = validate_request_parts(&msg).unwrap();
        assert_eq!(Ok(p.top_via), msg.top_via());
        assert_eq!(p.top_via_value, b"SIP/2.0/UDP h:5070;rport;branch=z9hG4bK1");
        assert_eq!(Ok(p.from), msg.from());
        assert_eq!(Ok(p.to), msg.to());
        assert_eq!(Ok(p.call_id), msg.call_id());
        assert_eq!(Ok(p.cseq), msg.cseq());
        assert_eq!(Ok(p.max_forwards), msg.max_forwards());
        assert_eq!(p.method, Method::Register);
        let vias: Vec<_> = p.vias.iter().collect();
        let want: Vec<_> = msg
            .headers()
            .enumerate()
            .filter(|(_, h)| h.name == HeaderName::Via)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(vias, want);
        let at = |i: usize| msg.header_at_index(i).map(|h| h.name);
        assert_eq!(at(p.from_index), Some(HeaderName::From));
        assert_eq!(at(p.to_index), Some(HeaderName::To));
        assert_eq!(at(p.call_id_index), Some(HeaderName::CallId));
        assert_eq!(at(p.cseq_index), Some(HeaderName::CSeq));
        assert_eq!(p.require_index.and_then(at), Some(HeaderName::Require));
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
