//! Typed, lazily parsed header accessors on [`Message`]: Call-ID, CSeq, Via, From/To, Contact,
//! Max-Forwards, Expires, Date and generic name-addr lists (Route, Record-Route, Path).

use crate::error::ParseError;
use crate::header_name::HeaderName;
use crate::lex::{is_lws, is_token_str, parse_dec, skip_lws, trim_lws, CommaSplit};
use crate::message::Message;
use crate::method::Method;
use crate::name_addr::{Contact, NameAddr};
use crate::via::Via;

/// `CSeq: seq method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CSeq<'a> {
    /// Sequence number (<= 2^32-1).
    pub seq: u32,
    /// Method.
    pub method: Method<'a>,
}

impl<'a> CSeq<'a> {
    /// Parses a CSeq value.
    pub fn parse(value: &'a [u8]) -> Result<CSeq<'a>, ParseError> {
        let v = trim_lws(value);
        let digits = v
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(v.len());
        let seq = parse_dec(v.get(..digits).unwrap_or(&[]), u32::MAX).ok_or(ParseError::BadCSeq)?;
        if !v.get(digits).is_some_and(|&b| is_lws(b)) {
            return Err(ParseError::BadCSeq);
        }
        let method = v.get(skip_lws(v, digits)..).unwrap_or(&[]);
        if !is_token_str(method) {
            return Err(ParseError::BadCSeq);
        }
        Ok(CSeq {
            seq,
            method: Method::from_bytes(method),
        })
    }
}

/// A Call-ID value: non-empty, no white space or control characters.
#[inline]
pub(crate) fn check_call_id(v: &[u8]) -> Result<&[u8], ParseError> {
    if v.is_empty() || v.iter().any(|&b| is_lws(b) || b < 0x20 || b == 0x7f) {
        return Err(ParseError::BadCallId);
    }
    Ok(v)
}

/// A Max-Forwards value (0..=255).
#[inline]
pub(crate) fn parse_max_forwards(v: &[u8]) -> Result<u8, ParseError> {
    parse_dec(v, 255)
        .and_then(|v| u8::try_from(v).ok())
        .ok_or(ParseError::BadMaxForwards)
}

impl<'a> Message<'a> {
    fn required(&self, name: HeaderName) -> Result<&'a [u8], ParseError> {
        self.header(name)
            .map(|h| h.value)
            .ok_or(ParseError::MissingHeader(name))
    }

    /// Call-ID (non-empty, no white space).
    pub fn call_id(&self) -> Result<&'a [u8], ParseError> {
        check_call_id(self.required(HeaderName::CallId)?)
    }

    /// CSeq.
    pub fn cseq(&self) -> Result<CSeq<'a>, ParseError> {
        CSeq::parse(self.required(HeaderName::CSeq)?)
    }

    /// First value of the first Via header.
    pub fn top_via(&self) -> Result<Via<'a>, ParseError> {
        let v = self.required(HeaderName::Via)?;
        Via::parse(CommaSplit::new(v).next().unwrap_or(v))
    }

    /// Every Via value in order, across headers and commas.
    pub fn vias(&self) -> impl Iterator<Item = Result<Via<'a>, ParseError>> + '_ {
        self.headers_named(HeaderName::Via)
            .flat_map(|h| CommaSplit::new(h.value))
            .map(Via::parse)
    }

    /// From.
    pub fn from(&self) -> Result<NameAddr<'a>, ParseError> {
        NameAddr::parse(self.required(HeaderName::From)?)
    }

    /// To.
    pub fn to(&self) -> Result<NameAddr<'a>, ParseError> {
        NameAddr::parse(self.required(HeaderName::To)?)
    }

    /// Max-Forwards (0..=255), `None` when absent.
    pub fn max_forwards(&self) -> Result<Option<u8>, ParseError> {
        match self.header(HeaderName::MaxForwards) {
            None => Ok(None),
            Some(h) => parse_max_forwards(h.value).map(Some),
        }
    }

    /// Expires (seconds, <= 2^32-1), `None` when absent.
    pub fn expires(&self) -> Result<Option<u32>, ParseError> {
        match self.header(HeaderName::Expires) {
            None => Ok(None),
            Some(h) => parse_dec(h.value, u32::MAX)
                .map(Some)
                .ok_or(ParseError::BadExpires),
        }
    }

    /// Every Contact value in order (`*` or name-addr).
    pub fn contacts(&self) -> impl Iterator<Item = Result<Contact<'a>, ParseError>> + '_ {
        self.headers_named(HeaderName::Contact)
            .flat_map(|h| CommaSplit::new(h.value))
            .map(Contact::parse)
    }

    /// Every name-addr value of a list header such as Route, Record-Route or Path.
    pub fn name_addrs(
        &self,
        name: HeaderName,
    ) -> impl Iterator<Item = Result<NameAddr<'a>, ParseError>> + '_ {
        self.headers_named(name)
            .flat_map(|h| CommaSplit::new(h.value))
            .map(NameAddr::parse)
    }

    /// Date, checked to be `wkday, DD Mon YYYY HH:MM:SS GMT` (RFC 3261 20.17); `None` when absent.
    pub fn date(&self) -> Result<Option<&'a [u8]>, ParseError> {
        let Some(h) = self.header(HeaderName::Date) else {
            return Ok(None);
        };
        let v = h.value;
        let ok = v.len() == 29
            && v.get(3..5) == Some(b", ")
            && v.ends_with(b" GMT")
            && v.get(5..7)
                .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
            && v.get(12..16)
                .is_some_and(|d| d.iter().all(u8::is_ascii_digit));
        if ok {
            Ok(Some(v))
        } else {
            Err(ParseError::BadDate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::parse;

    const MSG: &[u8] = b"INVITE sip:bob@example.com SIP/2.0\r\n\
v: SIP/2.0/UDP [::1]:5060;branch=z9hG4bKa, SIP/2.0/TCP b.example.com;branch=z9hG4bKb\r\n\
Via: SIP/2.0/TLS c.example.com;branch=z9hG4bKc\r\n\
Max-Forwards: 0068\r\n\
f: \"A, B\" <sip:alice@example.com>;tag=1\r\n\
t: <sip:bob@example.com>\r\n\
i: call@1\r\n\
CSeq: 0009\r\n INVITE\r\n\
m: \"x,y\" <sip:a@h1;lr>;q=0.5, <sip:a@h2>\r\n\
Contact: *\r\n\
Expires: 3600\r\n\
Route: <sip:p1;lr>, <sip:p2;lr>\r\n\
Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n\
l: 0\r\n\r\n";

    #[test]
    fn typed() {
        let m = parse(MSG).unwrap();
        assert_eq!(m.call_id(), Ok(&b"call@1"[..]));
        assert_eq!(
            m.cseq(),
            Ok(CSeq {
                seq: 9,
                method: Method::Invite
            })
        );
        let top = m.top_via().unwrap();
        assert_eq!((top.host, top.port), (&b"[::1]"[..], Some(5060)));
        let hosts: Vec<_> = m.vias().map(|v| v.unwrap().host).collect();
        assert_eq!(
            hosts,
            vec![&b"[::1]"[..], b"b.example.com", b"c.example.com"]
        );
        assert_eq!(m.from().unwrap().display_name, Some(&b"A, B"[..]));
        assert_eq!(m.to().unwrap().uri, b"sip:bob@example.com");
        assert_eq!(m.max_forwards(), Ok(Some(68)));
        assert_eq!(m.expires(), Ok(Some(3600)));
        let c: Vec<_> = m.contacts().collect::<Result<_, _>>().unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].q_millis(), Some(500));
        assert_eq!(c[2], Contact::Star);
        assert_eq!(m.name_addrs(HeaderName::Route).count(), 2);
        assert!(m.date().unwrap().is_some());
    }

    #[test]
    fn cseq_errors() {
        assert_eq!(
            CSeq::parse(b"36893488147419103232 REGISTER"),
            Err(ParseError::BadCSeq)
        );
        assert_eq!(CSeq::parse(b"1REGISTER"), Err(ParseError::BadCSeq));
        assert_eq!(CSeq::parse(b"1 "), Err(ParseError::BadCSeq));
        assert_eq!(CSeq::parse(b"INVITE"), Err(ParseError::BadCSeq));
        assert_eq!(CSeq::parse(b"1 INVITE x"), Err(ParseError::BadCSeq));
        assert_eq!(CSeq::parse(b"4294967295 ACK").map(|c| c.seq), Ok(u32::MAX));
    }

    #[test]
    fn missing_and_bad() {
        let m = parse(b"OPTIONS sip:a SIP/2.0\r\nMax-Forwards: 300\r\nExpires: 99999999999\r\nDate: Fri, 01 Jan 2010 16:00:00 EST\r\n\r\n").unwrap();
        assert_eq!(
            m.call_id(),
            Err(ParseError::MissingHeader(HeaderName::CallId))
        );
        assert_eq!(m.top_via(), Err(ParseError::MissingHeader(HeaderName::Via)));
        assert_eq!(m.max_forwards(), Err(ParseError::BadMaxForwards));
        assert_eq!(m.expires(), Err(ParseError::BadExpires));
        assert_eq!(m.date(), Err(ParseError::BadDate));
        assert_eq!(m.vias().count(), 0);
    }
}
