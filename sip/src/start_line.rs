//! The first line of a message: Request-Line (`Method SP Request-URI SP SIP-Version`) with
//! strictly single SPs, or Status-Line (`SIP-Version SP 3DIGIT SP Reason-Phrase`).

use crate::error::ParseError;
use crate::lex::is_token;
use crate::method::Method;

/// A parsed start line, borrowing from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// `Method SP Request-URI SP SIP/2.0`
    Request {
        /// The method.
        method: Method<'a>,
        /// The Request-URI exactly as on the wire.
        uri: &'a [u8],
    },
    /// `SIP/2.0 SP code SP reason`
    Response {
        /// Status code, 100..=699.
        code: u16,
        /// Reason phrase (may be empty, may be UTF-8).
        reason: &'a [u8],
    },
}

/// Offsets of the start line's parts, relative to the message start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawStart {
    /// `method = [0, method_end)`, `uri`, `version` ranges.
    Request {
        method_end: u32,
        uri_end: u32,
        line_end: u32,
    },
    /// `version = [0, version_end)`, `reason` range.
    Response {
        code: u16,
        version_end: u32,
        reason_start: u32,
        line_end: u32,
    },
}

/// Checks `SIP/1*DIGIT.1*DIGIT` ("SIP" case-insensitive as ABNF strings are).
pub(crate) fn is_sip_version(v: &[u8]) -> bool {
    if v == b"SIP/2.0" {
        return true;
    }
    let Some((name, num)) = v.split_at_checked(4) else {
        return false;
    };
    if !name.eq_ignore_ascii_case(b"SIP/") {
        return false;
    }
    let Some(dot) = memchr::memchr(b'.', num) else {
        return false;
    };
    let (major, minor) = (
        num.get(..dot).unwrap_or(&[]),
        num.get(dot + 1..).unwrap_or(&[]),
    );
    !major.is_empty()
        && !minor.is_empty()
        && major.iter().all(u8::is_ascii_digit)
        && minor.iter().all(u8::is_ascii_digit)
}

fn to_u32(n: usize) -> Result<u32, ParseError> {
    u32::try_from(n).map_err(|_| ParseError::TooLarge)
}

/// Parses the start line `line` (without its CRLF).
pub(crate) fn parse_start(line: &[u8]) -> Result<RawStart, ParseError> {
    let line_end = to_u32(line.len())?;
    if line.len() >= 4
        && line
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"))
    {
        return parse_status(line, line_end);
    }
    let method_end = line
        .iter()
        .position(|&b| b == b' ')
        .ok_or(ParseError::BadStartLine)?;
    let method = line.get(..method_end).unwrap_or(&[]);
    if method.is_empty() || !method.iter().all(|&b| is_token(b)) {
        return Err(if method.is_empty() {
            ParseError::BadStartLine
        } else {
            ParseError::BadMethod
        });
    }
    let rest = line.get(method_end + 1..).unwrap_or(&[]);
    let uri_len = rest
        .iter()
        .position(|&b| b == b' ')
        .ok_or(ParseError::BadStartLine)?;
    let uri = rest.get(..uri_len).unwrap_or(&[]);
    if uri.is_empty() || uri.iter().any(|&b| b <= b' ' || b >= 0x7f) {
        return Err(ParseError::BadStartLine);
    }
    let version = rest.get(uri_len + 1..).unwrap_or(&[]);
    if version.contains(&b' ') || version.is_empty() {
        return Err(ParseError::BadStartLine);
    }
    if !is_sip_version(version) {
        return Err(
            if version.len() >= 4
                && version
                    .get(..4)
                    .is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"))
            {
                ParseError::BadVersion
            } else {
                ParseError::BadStartLine
            },
        );
    }
    Ok(RawStart::Request {
        method_end: to_u32(method_end)?,
        uri_end: to_u32(method_end + 1 + uri_len)?,
        line_end,
    })
}

fn parse_status(line: &[u8], line_end: u32) -> Result<RawStart, ParseError> {
    let version_end = line
        .iter()
        .position(|&b| b == b' ')
        .ok_or(ParseError::BadStartLine)?;
    if !is_sip_version(line.get(..version_end).unwrap_or(&[])) {
        return Err(ParseError::BadVersion);
    }
    let rest = line.get(version_end + 1..).unwrap_or(&[]);
    let code_len = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
    let code = rest.get(..code_len).unwrap_or(&[]);
    if code.len() != 3 || !code.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::BadStatusCode);
    }
    let code = code.iter().fold(0u16, |a, &d| a * 10 + u16::from(d - b'0'));
    if !(100..=699).contains(&code) {
        return Err(ParseError::BadStatusCode);
    }
    let reason_start = (version_end + 1 + code_len + 1).min(line.len());
    let reason = line.get(reason_start..).unwrap_or(&[]);
    if reason.iter().any(|&b| b == b'\r' || b == b'\n') {
        return Err(ParseError::BadStartLine);
    }
    Ok(RawStart::Response {
        code,
        version_end: to_u32(version_end)?,
        reason_start: to_u32(reason_start)?,
        line_end,
    })
}

impl RawStart {
    /// Rebuilds the borrowed view over the message bytes `m`.
    pub(crate) fn view<'a>(&self, m: &'a [u8]) -> StartLine<'a> {
        match *self {
            RawStart::Request {
                method_end,
                uri_end,
                ..
            } => StartLine::Request {
                method: Method::from_bytes(m.get(..method_end as usize).unwrap_or(&[])),
                uri: m
                    .get(method_end as usize + 1..uri_end as usize)
                    .unwrap_or(&[]),
            },
            RawStart::Response {
                code,
                reason_start,
                line_end,
                ..
            } => StartLine::Response {
                code,
                reason: m
                    .get(reason_start as usize..line_end as usize)
                    .unwrap_or(&[]),
            },
        }
    }

    /// The `SIP/x.y` token.
    pub(crate) fn version<'a>(&self, m: &'a [u8]) -> &'a [u8] {
        match *self {
            RawStart::Request {
                uri_end, line_end, ..
            } => m
                .get(uri_end as usize + 1..line_end as usize)
                .unwrap_or(&[]),
            RawStart::Response { version_end, .. } => m.get(..version_end as usize).unwrap_or(&[]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(line: &[u8]) -> Result<StartLine<'_>, ParseError> {
        parse_start(line).map(|r| r.view(line))
    }

    #[test]
    fn request_line() {
        assert_eq!(
            view(b"REGISTER sip:example.com SIP/2.0"),
            Ok(StartLine::Request {
                method: Method::Register,
                uri: b"sip:example.com"
            })
        );
        let r = parse_start(b"OPTIONS sip:a SIP/7.0").unwrap();
        assert_eq!(r.version(b"OPTIONS sip:a SIP/7.0"), b"SIP/7.0");
    }

    #[test]
    fn strict_spaces() {
        assert_eq!(
            view(b"INVITE  sip:a SIP/2.0"),
            Err(ParseError::BadStartLine)
        );
        assert_eq!(
            view(b"INVITE sip:a  SIP/2.0"),
            Err(ParseError::BadStartLine)
        );
        assert_eq!(
            view(b"INVITE sip:a SIP/2.0  "),
            Err(ParseError::BadStartLine)
        );
        assert_eq!(
            view(b"INVITE sip:a; lr SIP/2.0"),
            Err(ParseError::BadStartLine)
        );
        assert_eq!(
            view(b"INVITE sip:a HTTP/1.1"),
            Err(ParseError::BadStartLine)
        );
        assert_eq!(view(b"INVITE sip:a SIP/2.x"), Err(ParseError::BadVersion));
        assert_eq!(view(b"INV\x01TE sip:a SIP/2.0"), Err(ParseError::BadMethod));
        assert_eq!(view(b""), Err(ParseError::BadStartLine));
    }

    #[test]
    fn status_line() {
        assert_eq!(
            view(b"SIP/2.0 200 OK"),
            Ok(StartLine::Response {
                code: 200,
                reason: b"OK"
            })
        );
        assert_eq!(
            view(b"SIP/2.0 100 "),
            Ok(StartLine::Response {
                code: 100,
                reason: b""
            })
        );
        assert_eq!(
            view(b"SIP/2.0 180"),
            Ok(StartLine::Response {
                code: 180,
                reason: b""
            })
        );
        assert_eq!(
            view(b"SIP/2.0 4294967301 big"),
            Err(ParseError::BadStatusCode)
        );
        assert_eq!(view(b"SIP/2.0 099 low"), Err(ParseError::BadStatusCode));
        assert_eq!(view(b"SIP/2.0 700 high"), Err(ParseError::BadStatusCode));
        assert_eq!(view(b"SIP/2.0 20 x"), Err(ParseError::BadStatusCode));
        assert_eq!(view(b"SIP/x 200 OK"), Err(ParseError::BadVersion));
        let utf8 = "SIP/2.0 200 = 2**3 * 5**2 но сто".as_bytes();
        assert!(matches!(
            view(utf8),
            Ok(StartLine::Response { code: 200, .. })
        ));
    }
}
