//! The few message facts loadgen needs (status, Call-ID, CSeq, Contacts; request headers for
//! the registrar simulator; stream framing), as a thin adapter over the `sip` crate so the
//! rest of loadgen sees one small interface.

use sip::HeaderName;

/// Why a message was not usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Not a syntactically valid SIP message of the expected kind.
    #[error("malformed message")]
    Malformed,
    /// A header the caller needs is absent or malformed.
    #[error("missing or malformed {0}")]
    Missing(&'static str),
}

/// Canonical names of the headers loadgen looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Name {
    /// Via / v
    Via,
    /// From / f
    From,
    /// To / t
    To,
    /// Call-ID / i
    CallId,
    /// CSeq
    CSeq,
    /// Contact / m
    Contact,
    /// Expires
    Expires,
    /// Anything else.
    Other,
}

fn classify(name: HeaderName) -> Name {
    match name {
        HeaderName::Via => Name::Via,
        HeaderName::From => Name::From,
        HeaderName::To => Name::To,
        HeaderName::CallId => Name::CallId,
        HeaderName::CSeq => Name::CSeq,
        HeaderName::Contact => Name::Contact,
        HeaderName::Expires => Name::Expires,
        _ => Name::Other,
    }
}

/// A parsed response.
#[derive(Clone)]
pub struct Response<'a> {
    /// Status code, 100..=699.
    pub status: u16,
    /// Call-ID value.
    pub call_id: &'a [u8],
    /// CSeq number.
    pub cseq: u32,
    /// CSeq method.
    pub cseq_method: &'a [u8],
    msg: sip::Message<'a>,
}

impl std::fmt::Debug for Response<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("cseq", &self.cseq)
            .finish()
    }
}

/// Parses a response and its Call-ID and CSeq.
pub fn parse_response(buf: &[u8]) -> Result<Response<'_>, WireError> {
    let msg = sip::parse(buf).map_err(|_| WireError::Malformed)?;
    let status = msg.status().ok_or(WireError::Malformed)?;
    let call_id = msg.call_id().map_err(|_| WireError::Missing("Call-ID"))?;
    let cseq = msg.cseq().map_err(|_| WireError::Missing("CSeq"))?;
    Ok(Response {
        status,
        call_id,
        cseq: cseq.seq,
        cseq_method: cseq.method.as_bytes(),
        msg,
    })
}

/// One Contact: the URI (without angle brackets) and its q parameter text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactRef<'a> {
    /// The URI.
    pub uri: &'a [u8],
    /// The `q` parameter value, if present.
    pub q: Option<&'a [u8]>,
}

impl<'a> Response<'a> {
    /// Contacts in order, across all Contact header fields; malformed entries and `*` are `Err`.
    pub fn contacts(&self) -> impl Iterator<Item = Result<ContactRef<'a>, WireError>> + '_ {
        self.msg.contacts().map(|c| {
            let c = c.map_err(|_| WireError::Missing("Contact"))?;
            let na = c.name_addr().ok_or(WireError::Missing("Contact"))?;
            Ok(ContactRef {
                uri: na.uri,
                q: c.q(),
            })
        })
    }
}

/// A parsed request: method plus access to its header fields.
#[derive(Clone)]
pub struct Request<'a> {
    /// The method token.
    pub method: &'a [u8],
    msg: sip::Message<'a>,
}

impl std::fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &String::from_utf8_lossy(self.method))
            .finish()
    }
}

impl<'a> Request<'a> {
    /// Header fields in order as `(name, raw name, trimmed value)`.
    pub fn headers(&self) -> impl Iterator<Item = (Name, &'a [u8], &'a [u8])> + '_ {
        self.msg
            .headers()
            .map(|h| (classify(h.name), h.raw_name, h.value))
    }
}

/// Parses a request.
pub fn parse_request(buf: &[u8]) -> Result<Request<'_>, WireError> {
    let msg = sip::parse(buf).map_err(|_| WireError::Malformed)?;
    let method = msg.method().ok_or(WireError::Malformed)?.as_bytes();
    Ok(Request { method, msg })
}

/// Stream framing: the length of the first complete message or CRLF keepalive run in `buf`
/// (`Ok(None)` when more bytes are needed); keepalives are recognisable by their leading CRLF.
pub fn frame(buf: &[u8]) -> Result<Option<usize>, WireError> {
    match sip::frame(buf, &sip::Limits::default()) {
        Ok(sip::Frame::Complete { len }) | Ok(sip::Frame::KeepAlive { len }) => Ok(Some(len)),
        Ok(sip::Frame::Incomplete) => Ok(None),
        Err(_) => Err(WireError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R301: &[u8] = b"SIP/2.0 301 Redirect request to Home Server\r\n\
Via: SIP/2.0/UDP 127.0.0.1:4000;branch=z9hG4bKx;received=127.0.0.1;rport=4000\r\n\
From: <sip:user1@example.com>;tag=1\r\nTo: <sip:user1@example.com>;tag=2\r\n\
Call-ID: abc-1-2-3\r\nCSeq: 7 REGISTER\r\n\
Contact: <sip:fe2.pool1.example.com:5061;transport=TLS>;q=0.7\r\n\
m: <sip:se2.pool2.example.com:5061;transport=TLS>;q=0.3, sip:x.example.com\r\n\
Content-Length: 0\r\n\r\n";

    #[test]
    fn response_fields() {
        let r = parse_response(R301).expect("parses");
        assert_eq!(r.status, 301);
        assert_eq!(r.call_id, b"abc-1-2-3");
        assert_eq!(r.cseq, 7);
        assert_eq!(r.cseq_method, b"REGISTER");
        let c: Vec<_> = r.contacts().map(|c| c.expect("contact")).collect();
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].uri, b"sip:fe2.pool1.example.com:5061;transport=TLS");
        assert_eq!(c[0].q, Some(b"0.7".as_slice()));
        assert_eq!(c[1].q, Some(b"0.3".as_slice()));
        assert_eq!(c[2].uri, b"sip:x.example.com");
        assert_eq!(c[2].q, None);
    }

    #[test]
    fn requests_are_not_responses() {
        assert!(parse_response(b"REGISTER sip:a SIP/2.0\r\nCall-ID: x\r\n\r\n").is_err());
        let r = parse_request(b"REGISTER sip:a SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\n\r\n")
            .expect("request");
        assert_eq!(r.method, b"REGISTER");
        assert_eq!(r.headers().count(), 2);
        assert_eq!(r.headers().next().map(|h| h.0), Some(Name::CallId));
        assert!(parse_response(b"SIP/2.0 200 OK\r\nCSeq: 1 X\r\n\r\n").is_err());
    }

    #[test]
    fn framing() {
        assert_eq!(frame(b"\r\n\r\nSIP"), Ok(Some(4)));
        assert_eq!(
            frame(b"SIP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nab"),
            Ok(Some(39))
        );
        assert_eq!(
            frame(b"SIP/2.0 200 OK\r\nContent-Length: 2\r\n\r\na"),
            Ok(None)
        );
        assert_eq!(frame(b"SIP/2.0 200 OK\r\n"), Ok(None));
    }
}
