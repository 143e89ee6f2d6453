//! [`ResponseWriter`]: writes a SIP response (status line, headers, copied request header
//! lines, `Content-Length` and the final CRLF) into a caller's `Vec<u8>` with no other
//! allocation. Used to build 301/200/400/503 answers.

use crate::header_name::HeaderName;
use crate::message::{Header, Message};

/// Builds a response in `out`. Start with [`ResponseWriter::new`], add headers, then call
/// [`ResponseWriter::finish`] (or [`ResponseWriter::finish_with_body`]).
#[derive(Debug)]
pub struct ResponseWriter<'o> {
    out: &'o mut Vec<u8>,
}

impl<'o> ResponseWriter<'o> {
    /// Appends `SIP/2.0 <code> <reason>\r\n` to `out`. `code` is written as three digits
    /// (values outside 100..=699 are clamped into that range).
    pub fn new(out: &'o mut Vec<u8>, code: u16, reason: &[u8]) -> Self {
        let c = code.clamp(100, 699);
        out.extend_from_slice(b"SIP/2.0 ");
        out.extend_from_slice(&[
            b'0' + (c / 100) as u8,
            b'0' + (c / 10 % 10) as u8,
            b'0' + (c % 10) as u8,
            b' ',
        ]);
        out.extend_from_slice(reason);
        out.extend_from_slice(b"\r\n");
        ResponseWriter { out }
    }

    /// Appends `name: value\r\n`.
    pub fn header(&mut self, name: &[u8], value: &[u8]) -> &mut Self {
        self.header_pieces(name, &[value])
    }

    /// Appends `name: ` followed by the concatenated `pieces` and CRLF.
    pub fn header_pieces(&mut self, name: &[u8], pieces: &[&[u8]]) -> &mut Self {
        self.out.extend_from_slice(name);
        self.out.extend_from_slice(b": ");
        for p in pieces {
            self.out.extend_from_slice(p);
        }
        self.out.extend_from_slice(b"\r\n");
        self
    }

    /// Appends `name: <decimal n>\r\n`.
    pub fn header_u32(&mut self, name: &[u8], n: u32) -> &mut Self {
        let mut buf = [0u8; crate::MAX_DECIMAL_LEN];
        self.header(name, crate::decimal(u64::from(n), &mut buf))
    }

    /// Copies a request header field's line(s) byte for byte (folding and compact name kept).
    pub fn copy_line(&mut self, msg: &Message<'_>, h: &Header<'_>) -> &mut Self {
        self.out
            .extend_from_slice(msg.as_bytes().get(h.line.clone()).unwrap_or(&[]));
        self
    }

    /// Copies every header field with this name, in order (e.g. all Via lines).
    pub fn copy_all(&mut self, msg: &Message<'_>, name: HeaderName) -> &mut Self {
        for h in msg.headers_named(name) {
            self.copy_line(msg, &h);
        }
        self
    }

    /// Appends raw bytes (must be complete header lines ending in CRLF).
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.out.extend_from_slice(bytes);
        self
    }

    /// Appends `Content-Length: 0\r\n\r\n`.
    pub fn finish(self) {
        self.out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    }

    /// Appends Content-Type, Content-Length, the blank line and the body.
    pub fn finish_with_body(mut self, content_type: &[u8], body: &[u8]) {
        self.header(b"Content-Type", content_type);
        self.header_u32(
            b"Content-Length",
            u32::try_from(body.len()).unwrap_or(u32::MAX),
        );
        self.out.extend_from_slice(b"\r\n");
        self.out.extend_from_slice(body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    #[test]
    fn redirect() {
        let req = parse(
            b"REGISTER sip:example.com SIP/2.0\r\n\
v: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1;rport\r\n\
From: <sip:a@example.com>;tag=1\r\n\
To: <sip:a@example.com>\r\n\
Call-ID: c1\r\n\
CSeq: 7 REGISTER\r\n\
Content-Length: 0\r\n\r\n",
        )
        .unwrap();
        let mut out = Vec::new();
        let mut w = ResponseWriter::new(&mut out, 301, b"Redirect request to Home Server");
        w.copy_all(&req, HeaderName::Via)
            .copy_line(&req, &req.header(HeaderName::From).unwrap())
            .header_pieces(
                b"To",
                &[req.header(HeaderName::To).unwrap().value, b";tag=x9"],
            )
            .copy_line(&req, &req.header(HeaderName::CallId).unwrap())
            .copy_line(&req, &req.header(HeaderName::CSeq).unwrap())
            .header(
                b"Contact",
                b"<sip:fe1.example.com:5061;transport=tls>;q=0.7",
            )
            .header_u32(b"Expires", 3600)
            .header_u32(b"X-Zero", 0);
        w.finish();
        let r = parse(&out).unwrap();
        assert_eq!(r.status(), Some(301));
        assert_eq!(r.to().unwrap().tag(), Some(&b"x9"[..]));
        assert_eq!(r.top_via().unwrap().rport(), Some(None));
        assert_eq!(r.expires(), Ok(Some(3600)));
        assert_eq!(r.header_by_raw_name(b"X-Zero").unwrap().value, b"0");
        assert_eq!(r.content_length(), Ok(Some(0)));
        assert!(out.starts_with(b"SIP/2.0 301 Redirect"));
    }

    #[test]
    fn with_body() {
        let mut out = Vec::new();
        ResponseWriter::new(&mut out, 200, b"OK").finish_with_body(b"text/plain", b"hello");
        let r = parse(&out).unwrap();
        assert_eq!(r.body(), b"hello");
        assert_eq!(r.content_length(), Ok(Some(5)));
        out.clear();
        ResponseWriter::new(&mut out, 4000, b"X").finish();
        assert!(out.starts_with(b"SIP/2.0 699 X\r\n"));
    }
}
