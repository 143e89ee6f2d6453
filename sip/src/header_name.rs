//! [`HeaderName`]: the header fields the codec knows by name, matched case-insensitively and in
//! their RFC 3261 / RFC 3265 / RFC 3515 / RFC 4028 compact forms.

use std::fmt;

/// A known header field name; anything else is [`HeaderName::Other`] (see `Header::raw_name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeaderName {
    /// `Via` / `v`
    Via,
    /// `From` / `f`
    From,
    /// `To` / `t`
    To,
    /// `Call-ID` / `i`
    CallId,
    /// `CSeq`
    CSeq,
    /// `Max-Forwards`
    MaxForwards,
    /// `Contact` / `m`
    Contact,
    /// `Expires`
    Expires,
    /// `Content-Length` / `l`
    ContentLength,
    /// `Content-Type` / `c`
    ContentType,
    /// `Route`
    Route,
    /// `Record-Route`
    RecordRoute,
    /// `Path`
    Path,
    /// `Supported` / `k`
    Supported,
    /// `Require`
    Require,
    /// `Proxy-Require`
    ProxyRequire,
    /// `Allow`
    Allow,
    /// `Authorization`
    Authorization,
    /// `User-Agent`
    UserAgent,
    /// `Server`
    Server,
    /// `Subject` / `s`
    Subject,
    /// `Content-Encoding` / `e`
    ContentEncoding,
    /// `Event` / `o`
    Event,
    /// `Refer-To` / `r`
    ReferTo,
    /// `Allow-Events` / `u`
    AllowEvents,
    /// `Session-Expires` / `x`
    SessionExpires,
    /// `Date`
    Date,
    /// `Retry-After`
    RetryAfter,
    /// `Warning`
    Warning,
    /// `Unsupported`
    Unsupported,
    /// `Proxy-Authorization`
    ProxyAuthorization,
    /// `WWW-Authenticate`
    WwwAuthenticate,
    /// `Proxy-Authenticate`
    ProxyAuthenticate,
    /// `Accept`
    Accept,
    /// Any other (extension) header.
    Other,
}

/// Long names (canonical spelling) in a table searched by length first.
const LONG: &[(&[u8], HeaderName)] = &[
    (b"Via", HeaderName::Via),
    (b"From", HeaderName::From),
    (b"To", HeaderName::To),
    (b"Call-ID", HeaderName::CallId),
    (b"CSeq", HeaderName::CSeq),
    (b"Max-Forwards", HeaderName::MaxForwards),
    (b"Contact", HeaderName::Contact),
    (b"Expires", HeaderName::Expires),
    (b"Content-Length", HeaderName::ContentLength),
    (b"Content-Type", HeaderName::ContentType),
    (b"Route", HeaderName::Route),
    (b"Record-Route", HeaderName::RecordRoute),
    (b"Path", HeaderName::Path),
    (b"Supported", HeaderName::Supported),
    (b"Require", HeaderName::Require),
    (b"Proxy-Require", HeaderName::ProxyRequire),
    (b"Allow", HeaderName::Allow),
    (b"Authorization", HeaderName::Authorization),
    (b"User-Agent", HeaderName::UserAgent),
    (b"Server", HeaderName::Server),
    (b"Subject", HeaderName::Subject),
    (b"Content-Encoding", HeaderName::ContentEncoding),
    (b"Event", HeaderName::Event),
    (b"Refer-To", HeaderName::ReferTo),
    (b"Allow-Events", HeaderName::AllowEvents),
    (b"Session-Expires", HeaderName::SessionExpires),
    (b"Date", HeaderName::Date),
    (b"Retry-After", HeaderName::RetryAfter),
    (b"Warning", HeaderName::Warning),
    (b"Unsupported", HeaderName::Unsupported),
    (b"Proxy-Authorization", HeaderName::ProxyAuthorization),
    (b"WWW-Authenticate", HeaderName::WwwAuthenticate),
    (b"Proxy-Authenticate", HeaderName::ProxyAuthenticate),
    (b"Accept", HeaderName::Accept),
];

impl HeaderName {
    /// Classifies a raw header name (case-insensitive; one-letter compact forms included).
    #[inline]
    pub fn from_bytes(name: &[u8]) -> HeaderName {
        if let [c] = name {
            return match c.to_ascii_lowercase() {
                b'v' => HeaderName::Via,
                b'f' => HeaderName::From,
                b't' => HeaderName::To,
                b'i' => HeaderName::CallId,
                b'm' => HeaderName::Contact,
                b'l' => HeaderName::ContentLength,
                b'c' => HeaderName::ContentType,
                b'k' => HeaderName::Supported,
                b's' => HeaderName::Subject,
                b'e' => HeaderName::ContentEncoding,
                b'o' => HeaderName::Event,
                b'r' => HeaderName::ReferTo,
                b'u' => HeaderName::AllowEvents,
                b'x' => HeaderName::SessionExpires,
                _ => HeaderName::Other,
            };
        }
        use HeaderName as H;
        // One candidate per (length, first letter), then one case-insensitive compare.
        let first = name.first().map_or(0, u8::to_ascii_lowercase);
        let (canonical, header): (&[u8], HeaderName) = match (name.len(), first) {
            (3, b'v') => (b"Via", H::Via),
            (4, b'f') => (b"From", H::From),
            (2, b't') => (b"To", H::To),
            (7, b'c') => match name.get(1).map(u8::to_ascii_lowercase) {
                Some(b'a') => (b"Call-ID", H::CallId),
                _ => (b"Contact", H::Contact),
            },
            (4, b'c') => (b"CSeq", H::CSeq),
            (14, b'c') => (b"Content-Length", H::ContentLength),
            (12, b'c') => (b"Content-Type", H::ContentType),
            (16, b'c') => (b"Content-Encoding", H::ContentEncoding),
            (12, b'm') => (b"Max-Forwards", H::MaxForwards),
            (7, b'e') => (b"Expires", H::Expires),
            (5, b'e') => (b"Event", H::Event),
            (5, b'r') => (b"Route", H::Route),
            (12, b'r') => (b"Record-Route", H::RecordRoute),
            (7, b'r') => (b"Require", H::Require),
            (8, b'r') => (b"Refer-To", H::ReferTo),
            (11, b'r') => (b"Retry-After", H::RetryAfter),
            (4, b'p') => (b"Path", H::Path),
            (13, b'p') => (b"Proxy-Require", H::ProxyRequire),
            (19, b'p') => (b"Proxy-Authorization", H::ProxyAuthorization),
            (18, b'p') => (b"Proxy-Authenticate", H::ProxyAuthenticate),
            (9, b's') => (b"Supported", H::Supported),
            (6, b's') => (b"Server", H::Server),
            (7, b's') => (b"Subject", H::Subject),
            (15, b's') => (b"Session-Expires", H::SessionExpires),
            (5, b'a') => (b"Allow", H::Allow),
            (13, b'a') => (b"Authorization", H::Authorization),
            (12, b'a') => (b"Allow-Events", H::AllowEvents),
            (6, b'a') => (b"Accept", H::Accept),
            (10, b'u') => (b"User-Agent", H::UserAgent),
            (11, b'u') => (b"Unsupported", H::Unsupported),
            (4, b'd') => (b"Date", H::Date),
            (7, b'w') => (b"Warning", H::Warning),
            (16, b'w') => (b"WWW-Authenticate", H::WwwAuthenticate),
            _ => return HeaderName::Other,
        };
        if name.eq_ignore_ascii_case(canonical) {
            header
        } else {
            HeaderName::Other
        }
    }

    /// Canonical spelling (`"Other"` for [`HeaderName::Other`]).
    pub fn as_str(self) -> &'static str {
        LONG.iter()
            .find(|&&(_, h)| h == self)
            .and_then(|(n, _)| std::str::from_utf8(n).ok())
            .unwrap_or("Other")
    }

    /// Reason phrase for a missing header, e.g. `"Missing Call-ID"`.
    pub(crate) fn missing_reason(self) -> &'static str {
        match self {
            HeaderName::Via => "Missing Via",
            HeaderName::From => "Missing From",
            HeaderName::To => "Missing To",
            HeaderName::CallId => "Missing Call-ID",
            HeaderName::CSeq => "Missing CSeq",
            _ => "Missing Header",
        }
    }

    /// Header fields whose value is a single item (RFC 3261 7.3.1): they may appear only once.
    pub fn is_single_valued(self) -> bool {
        matches!(
            self,
            HeaderName::From
                | HeaderName::To
                | HeaderName::CallId
                | HeaderName::CSeq
                | HeaderName::MaxForwards
                | HeaderName::ContentLength
                | HeaderName::ContentType
                | HeaderName::Expires
        )
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_and_compact() {
        assert_eq!(HeaderName::from_bytes(b"ViA"), HeaderName::Via);
        assert_eq!(HeaderName::from_bytes(b"v"), HeaderName::Via);
        assert_eq!(HeaderName::from_bytes(b"V"), HeaderName::Via);
        assert_eq!(HeaderName::from_bytes(b"call-id"), HeaderName::CallId);
        assert_eq!(HeaderName::from_bytes(b"I"), HeaderName::CallId);
        assert_eq!(
            HeaderName::from_bytes(b"MaX-fOrWaRdS"),
            HeaderName::MaxForwards
        );
        assert_eq!(HeaderName::from_bytes(b"l"), HeaderName::ContentLength);
        assert_eq!(HeaderName::from_bytes(b"m"), HeaderName::Contact);
        assert_eq!(HeaderName::from_bytes(b"C%6Fntact"), HeaderName::Other);
        assert_eq!(
            HeaderName::from_bytes(b"NewFangledHeader"),
            HeaderName::Other
        );
        assert_eq!(HeaderName::from_bytes(b"z"), HeaderName::Other);
    }

    #[test]
    fn every_long_name_round_trips() {
        for &(n, h) in LONG {
            assert_eq!(HeaderName::from_bytes(n), h);
            assert_eq!(HeaderName::from_bytes(n.to_ascii_lowercase().as_slice()), h);
            assert_eq!(h.as_str().as_bytes(), n);
        }
    }

    #[test]
    fn same_length_and_letter_are_told_apart() {
        assert_eq!(HeaderName::from_bytes(b"contact"), HeaderName::Contact);
        assert_eq!(HeaderName::from_bytes(b"CALL-ID"), HeaderName::CallId);
        assert_eq!(HeaderName::from_bytes(b"Cxntact"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b"Cabc-ID"), HeaderName::Other);
        for &(n, _) in LONG {
            let mut wrong = n.to_vec();
            let last = wrong.len() - 1;
            wrong[last] = b'#';
            assert_eq!(HeaderName::from_bytes(&wrong), HeaderName::Other);
        }
    }

    #[test]
    fn names() {
        assert_eq!(HeaderName::CallId.as_str(), "Call-ID");
        assert_eq!(HeaderName::Other.to_string(), "Other");
        assert!(HeaderName::CSeq.is_single_valued());
        assert!(!HeaderName::Via.is_single_valued());
    }
}
