//! The few message facts loadgen needs (status, Call-ID, CSeq, Contacts; request headers for
//! the registrar simulator), behind one small interface.
//!
//! Interim: a minimal header scanner until the `sip` crate's parser lands; then these
//! functions become thin adapters over `sip::parse` and the scanner goes away.

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

fn classify(name: &[u8]) -> Name {
    let eq = |s: &str| name.eq_ignore_ascii_case(s.as_bytes());
    if eq("via") || eq("v") {
        Name::Via
    } else if eq("from") || eq("f") {
        Name::From
    } else if eq("to") || eq("t") {
        Name::To
    } else if eq("call-id") || eq("i") {
        Name::CallId
    } else if eq("cseq") {
        Name::CSeq
    } else if eq("contact") || eq("m") {
        Name::Contact
    } else if eq("expires") {
        Name::Expires
    } else {
        Name::Other
    }
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if first.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if last.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// Start line and header lines of a message (folded lines are not supported by the interim
/// scanner; they are rare and loadgen's peers never send them).
#[derive(Debug, Clone, Copy)]
pub struct Head<'a> {
    start: &'a [u8],
    headers: &'a [u8],
}

impl<'a> Head<'a> {
    fn split(buf: &'a [u8]) -> Result<Self, WireError> {
        let mut buf = buf;
        while buf.starts_with(b"\r\n") {
            buf = &buf[2..];
        }
        let end = find(buf, b"\r\n\r\n").ok_or(WireError::Malformed)?;
        let head = &buf[..end + 2];
        let line_end = find(head, b"\r\n").ok_or(WireError::Malformed)?;
        Ok(Head {
            start: &head[..line_end],
            headers: &head[line_end + 2..],
        })
    }

    /// Header fields in order as `(name, raw name, trimmed value)`.
    pub fn headers(&self) -> impl Iterator<Item = (Name, &'a [u8], &'a [u8])> + 'a {
        self.headers
            .split(|&c| c == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .filter(|l| !l.is_empty())
            .filter_map(|l| {
                let colon = l.iter().position(|&c| c == b':')?;
                let raw = trim(&l[..colon]);
                Some((classify(raw), raw, trim(&l[colon + 1..])))
            })
    }

    fn first(&self, n: Name) -> Option<&'a [u8]> {
        self.headers().find(|h| h.0 == n).map(|h| h.2)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_cseq(v: &[u8]) -> Option<(u32, &[u8])> {
    let v = trim(v);
    let sp = v.iter().position(|c| c.is_ascii_whitespace())?;
    let num = std::str::from_utf8(&v[..sp]).ok()?.parse().ok()?;
    Some((num, trim(&v[sp..])))
}

/// A parsed response.
#[derive(Debug, Clone, Copy)]
pub struct Response<'a> {
    /// Status code, 100..=699.
    pub status: u16,
    /// Call-ID value.
    pub call_id: &'a [u8],
    /// CSeq number.
    pub cseq: u32,
    /// CSeq method.
    pub cseq_method: &'a [u8],
    head: Head<'a>,
}

/// Parses a response (`SIP/2.0 code reason`) and its Call-ID and CSeq.
pub fn parse_response(buf: &[u8]) -> Result<Response<'_>, WireError> {
    let head = Head::split(buf)?;
    let line = head.start;
    let rest = line.strip_prefix(b"SIP/2.0 ").ok_or(WireError::Malformed)?;
    if rest.len() < 3 || (rest.len() > 3 && rest[3] != b' ') {
        return Err(WireError::Malformed);
    }
    let status: u16 = std::str::from_utf8(&rest[..3])
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|c| (100..700).contains(c))
        .ok_or(WireError::Malformed)?;
    let call_id = head
        .first(Name::CallId)
        .ok_or(WireError::Missing("Call-ID"))?;
    let (cseq, cseq_method) = head
        .first(Name::CSeq)
        .and_then(parse_cseq)
        .ok_or(WireError::Missing("CSeq"))?;
    Ok(Response {
        status,
        call_id,
        cseq,
        cseq_method,
        head,
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
    /// Contacts in order, across all Contact header fields; malformed entries are `Err`.
    pub fn contacts(&self) -> impl Iterator<Item = Result<ContactRef<'a>, WireError>> + 'a {
        self.head
            .headers()
            .filter(|h| h.0 == Name::Contact)
            .flat_map(|h| split_contacts(h.2))
            .map(parse_contact)
    }
}

/// Splits a Contact value at commas outside `<...>` and quotes.
fn split_contacts(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0usize);
    for (i, &c) in v.iter().enumerate() {
        match c {
            b'"' => quoted = !quoted,
            b'<' if !quoted => depth += 1,
            b'>' if !quoted => depth -= 1,
            b',' if !quoted && depth == 0 => {
                parts.push(trim(&v[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(trim(&v[start..]));
    parts.into_iter().filter(|p| !p.is_empty())
}

fn parse_contact(c: &[u8]) -> Result<ContactRef<'_>, WireError> {
    let (uri, params) = if let Some(lt) = c.iter().position(|&b| b == b'<') {
        let gt = c[lt..]
            .iter()
            .position(|&b| b == b'>')
            .ok_or(WireError::Missing("Contact"))?;
        (&c[lt + 1..lt + gt], &c[lt + gt + 1..])
    } else {
        let semi = c.iter().position(|&b| b == b';').unwrap_or(c.len());
        (&c[..semi], &c[semi..])
    };
    let q = params
        .split(|&b| b == b';')
        .map(trim)
        .find_map(|p| p.strip_prefix(b"q=").or_else(|| p.strip_prefix(b"Q=")))
        .map(trim);
    Ok(ContactRef { uri: trim(uri), q })
}

/// A parsed request: method plus access to its header fields.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The method token.
    pub method: &'a [u8],
    head: Head<'a>,
}

impl<'a> Request<'a> {
    /// Header fields in order.
    pub fn headers(&self) -> impl Iterator<Item = (Name, &'a [u8], &'a [u8])> + 'a {
        self.head.headers()
    }
}

/// Parses a request line (`METHOD URI SIP/2.0`) and splits the header fields.
pub fn parse_request(buf: &[u8]) -> Result<Request<'_>, WireError> {
    let head = Head::split(buf)?;
    let mut parts = head.start.split(|&c| c == b' ');
    let method = parts
        .next()
        .filter(|m| !m.is_empty())
        .ok_or(WireError::Malformed)?;
    let _uri = parts.next().ok_or(WireError::Malformed)?;
    if parts.next() != Some(b"SIP/2.0".as_slice()) || method.starts_with(b"SIP/") {
        return Err(WireError::Malformed);
    }
    Ok(Request { method, head })
}

/// Stream framing: the length of the first complete message in `buf` (head + Content-Length
/// body), `Ok(None)` when more bytes are needed, and leading CRLF keepalives as their length.
pub fn frame(buf: &[u8]) -> Result<Option<usize>, WireError> {
    let mut skip = 0;
    while buf[skip..].starts_with(b"\r\n") {
        skip += 2;
    }
    if skip > 0 {
        return Ok(Some(skip));
    }
    let Some(end) = find(buf, b"\r\n\r\n") else {
        return if buf.len() > 65536 {
            Err(WireError::Malformed)
        } else {
            Ok(None)
        };
    };
    let head = Head::split(&buf[..end + 4])?;
    let clen = match head
        .headers()
        .find(|h| h.1.eq_ignore_ascii_case(b"content-length") || h.1 == b"l")
    {
        Some(h) => std::str::from_utf8(h.2)
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
            .ok_or(WireError::Missing("Content-Length"))?,
        None => 0,
    };
    let total = end + 4 + clen;
    Ok((buf.len() >= total).then_some(total))
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
