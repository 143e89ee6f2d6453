//! [`Uri`]: SIP/SIPS/tel/absolute URI parsing over borrowed bytes (RFC 3261 19.1, 25.1), and
//! [`percent_decode`]. The user part stays escaped; decoding is explicit and happens once.

use memchr::memchr;

use crate::error::ParseError;
use crate::lex::{find_param, leading_port};

/// URI scheme (case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme<'a> {
    /// `sip:`
    Sip,
    /// `sips:`
    Sips,
    /// `tel:` (RFC 3966)
    Tel,
    /// Any other scheme, as written.
    Other(&'a [u8]),
}

/// A parsed URI. For `sip:`/`sips:` every field is filled in; for `tel:` the number is in
/// `user`; for other schemes only `opaque` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uri<'a> {
    /// Scheme.
    pub scheme: Scheme<'a>,
    /// User part, still %-escaped (use [`percent_decode`]). May contain `;` and `?`.
    pub user: Option<&'a [u8]>,
    /// Password (after `user:`), still escaped.
    pub password: Option<&'a [u8]>,
    /// Host: a name, an IPv4 address or an IPv6 reference with its brackets (`[::1]`).
    pub host: &'a [u8],
    /// Port, if given.
    pub port: Option<u16>,
    /// URI parameters after the first `;` (without it), e.g. `transport=tcp;lr`.
    pub params: &'a [u8],
    /// Headers after `?` (without it), still escaped.
    pub headers: &'a [u8],
    /// Everything after `scheme:`.
    pub opaque: &'a [u8],
}

pub(crate) fn is_scheme(s: &[u8]) -> bool {
    match s.split_first() {
        Some((f, rest)) => {
            f.is_ascii_alphabetic()
                && rest
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        }
        None => false,
    }
}

/// Checks that every `%` is followed by two hex digits.
pub(crate) fn check_escapes(s: &[u8]) -> Result<(), ParseError> {
    let mut i = 0;
    while let Some(p) = s.get(i..).and_then(|r| memchr(b'%', r)) {
        let at = i + p;
        match (s.get(at + 1), s.get(at + 2)) {
            (Some(a), Some(b)) if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => i = at + 3,
            _ => return Err(ParseError::BadEscape),
        }
    }
    Ok(())
}

/// Bytes of a host name or IPv4 address: letters, digits, `-`, `.` and `_`.
const HOST_NAME: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
        i += 1;
    }
    t
};

/// Parses `host [":" port]` at the start of `s`: returns host, port and the index after them.
/// IPv6 references keep their brackets.
pub(crate) fn parse_hostport(s: &[u8]) -> Option<(&[u8], Option<u16>, usize)> {
    let host_end = parse_host(s)?;
    let host = s.get(..host_end)?;
    if s.get(host_end) == Some(&b':') {
        let (port, n) = leading_port(s.get(host_end + 1..)?)?;
        Some((host, Some(port), host_end + 1 + n))
    } else {
        Some((host, None, host_end))
    }
}

/// The length of the host (a name, an IPv4 address or a bracketed IPv6 reference) at the start
/// of `s`; `None` when there is none.
pub(crate) fn parse_host(s: &[u8]) -> Option<usize> {
    let host_end = if s.first() == Some(&b'[') {
        let close = memchr(b']', s)?;
        let inner = s.get(1..close)?;
        if inner.is_empty()
            || !inner
                .iter()
                .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return None;
        }
        close + 1
    } else {
        let n = s
            .iter()
            .position(|&b| !HOST_NAME[b as usize])
            .unwrap_or(s.len());
        if n == 0 {
            return None;
        }
        n
    };
    Some(host_end)
}

/// Byte classes of the one pass in [`Uri::parse`]: 0 for the bytes it passes over.
const U_BAD: u8 = 1; // white space, controls, DEL and above, `<`, `>`, `"`: never in a URI
const U_COLON: u8 = 2;
const U_AT: u8 = 3;
const U_PCT: u8 = 4;
const URI_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = match b {
            0..=b' ' | 0x7f..=0xff | b'<' | b'>' | b'"' => U_BAD,
            b':' => U_COLON,
            b'@' => U_AT,
            b'%' => U_PCT,
            _ => 0,
        };
        i += 1;
    }
    t
};

/// What the one pass over a URI found: the scheme's colon and, after it, the first `:`, `@`
/// and `%`.
struct Marks {
    colon: Option<usize>,
    colon2: Option<usize>,
    at: Option<usize>,
    pct: Option<usize>,
}

impl Marks {
    /// `None` when `s` holds a byte no URI may hold.
    #[inline]
    fn scan(s: &[u8]) -> Option<Marks> {
        let mut m = Marks {
            colon: None,
            colon2: None,
            at: None,
            pct: None,
        };
        for (i, &b) in s.iter().enumerate() {
            match URI_CLASS[b as usize] {
                0 => {}
                U_BAD => return None,
                U_COLON => {
                    if m.colon.is_none() {
                        m.colon = Some(i);
                    } else if m.colon2.is_none() {
                        m.colon2 = Some(i);
                    }
                }
                U_AT => {
                    if m.at.is_none() && m.colon.is_some() {
                        m.at = Some(i);
                    }
                }
                _ => {
                    if m.pct.is_none() && m.colon.is_some() {
                        m.pct = Some(i);
                    }
                }
            }
        }
        Some(m)
    }
}

impl<'a> Uri<'a> {
    /// Parses a URI. Rejects white space, controls, `<`, `>` and `"` anywhere, bad `%`
    /// escapes in SIP URIs, empty user parts, bad hosts and ports.
    ///
    /// One pass over the bytes finds what is never allowed and where the scheme's colon, the
    /// user part's `@` and `:` and the first `%` are; the rest looks only at the pieces.
    pub fn parse(s: &'a [u8]) -> Result<Uri<'a>, ParseError> {
        let marks = Marks::scan(s).ok_or(ParseError::BadUri)?;
        let colon = marks.colon.ok_or(ParseError::BadUri)?;
        let scheme_bytes = s.get(..colon).unwrap_or(&[]);
        let rest = s.get(colon + 1..).unwrap_or(&[]);
        let scheme = if scheme_bytes.eq_ignore_ascii_case(b"sip") {
            Scheme::Sip
        } else if scheme_bytes.eq_ignore_ascii_case(b"sips") {
            Scheme::Sips
        } else if scheme_bytes.eq_ignore_ascii_case(b"tel") {
            Scheme::Tel
        } else if is_scheme(scheme_bytes) {
            Scheme::Other(scheme_bytes)
        } else {
            return Err(ParseError::BadUri);
        };
        let mut uri = Uri {
            scheme,
            user: None,
            password: None,
            host: &[],
            port: None,
            params: &[],
            headers: &[],
            opaque: rest,
        };
        match scheme {
            Scheme::Sip | Scheme::Sips => {
                // the marks, as offsets into `rest`
                let offset = |mark: Option<usize>| mark.map(|m| m - (colon + 1));
                let (at, colon2, pct) = (offset(marks.at), offset(marks.colon2), offset(marks.pct));
                uri.parse_sip(rest, at, colon2, pct)?;
            }
            Scheme::Tel => {
                let semi = memchr(b';', rest).unwrap_or(rest.len());
                let number = rest.get(..semi).unwrap_or(&[]);
                if number.is_empty() {
                    return Err(ParseError::BadUri);
                }
                uri.user = Some(number);
                uri.params = rest.get(semi + 1..).unwrap_or(&[]);
            }
            Scheme::Other(_) => {
                if rest.is_empty() {
                    return Err(ParseError::BadUri);
                }
            }
        }
        Ok(uri)
    }

    /// `rest` is what follows `sip:`; `at`, `colon` and `pct` are the first `@`, `:` and `%`
    /// in it, if any.
    fn parse_sip(
        &mut self,
        rest: &'a [u8],
        at: Option<usize>,
        colon: Option<usize>,
        pct: Option<usize>,
    ) -> Result<(), ParseError> {
        let hostpart = match at {
            Some(at) => {
                let userinfo = rest.get(..at).unwrap_or(&[]);
                let (user, password) = match colon {
                    Some(c) if c < at => (userinfo.get(..c).unwrap_or(&[]), userinfo.get(c + 1..)),
                    _ => (userinfo, None),
                };
                if user.is_empty() {
                    return Err(ParseError::BadUri);
                }
                if pct.is_some_and(|p| p < at) {
                    check_escapes(userinfo)?;
                }
                self.user = Some(user);
                self.password = password;
                rest.get(at + 1..).unwrap_or(&[])
            }
            None => rest,
        };
        let (host, port, n) = parse_hostport(hostpart).ok_or(ParseError::BadUri)?;
        self.host = host;
        self.port = port;
        let tail = hostpart.get(n..).unwrap_or(&[]);
        if tail.is_empty() {
            return Ok(());
        }
        let (params_part, headers) = match memchr(b'?', tail) {
            Some(q) => (
                tail.get(..q).unwrap_or(&[]),
                tail.get(q + 1..).unwrap_or(&[]),
            ),
            None => (tail, &[][..]),
        };
        match params_part.split_first() {
            None => {}
            Some((b';', p)) => {
                if p.split(|&b| b == b';')
                    .any(|piece| piece.is_empty() || piece.first() == Some(&b'='))
                {
                    return Err(ParseError::BadUri);
                }
                self.params = p;
            }
            Some(_) => return Err(ParseError::BadUri),
        }
        if tail.get(params_part.len()) == Some(&b'?') && headers.is_empty() {
            return Err(ParseError::BadUri);
        }
        if pct.is_some() {
            check_escapes(self.params)?;
            check_escapes(headers)?;
        }
        self.headers = headers;
        Ok(())
    }

    /// True for `sip:` or `sips:`.
    pub fn is_sip(&self) -> bool {
        matches!(self.scheme, Scheme::Sip | Scheme::Sips)
    }

    /// A URI parameter by case-insensitive name: `None` absent, `Some(None)` without value.
    pub fn param(&self, name: &[u8]) -> Option<Option<&'a [u8]>> {
        find_param(self.params, name)
    }
}

/// Decodes `%HH` escapes exactly once, appending to `out` (NUL octets are kept). A `%` not
/// followed by two hex digits is [`ParseError::BadEscape`]; `out` is then left partly filled.
pub fn percent_decode(input: &[u8], out: &mut Vec<u8>) -> Result<(), ParseError> {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    out.reserve(input.len());
    let mut i = 0;
    while let Some(p) = input.get(i..).and_then(|r| memchr(b'%', r)) {
        out.extend_from_slice(input.get(i..i + p).unwrap_or(&[]));
        let at = i + p;
        let hi = input
            .get(at + 1)
            .copied()
            .and_then(hex)
            .ok_or(ParseError::BadEscape)?;
        let lo = input
            .get(at + 2)
            .copied()
            .and_then(hex)
            .ok_or(ParseError::BadEscape)?;
        out.push(hi << 4 | lo);
        i = at + 3;
    }
    out.extend_from_slice(input.get(i..).unwrap_or(&[]));
    Ok(())
}

/// The parser before the one-pass rewrite, kept as the oracle of `one_pass_equals_reference`.
#[cfg(test)]
mod reference {
    use super::*;

    pub(super) fn parse(s: &[u8]) -> Result<Uri<'_>, ParseError> {
        Uri::parse_ref(s)
    }

    impl<'a> Uri<'a> {
        /// Parses a URI. Rejects white space, controls, `<`, `>` and `"` anywhere, bad `%`
        /// escapes in SIP URIs, empty user parts, bad hosts and ports.
        fn parse_ref(s: &'a [u8]) -> Result<Uri<'a>, ParseError> {
            if s.iter()
                .any(|&b| b <= b' ' || b >= 0x7f || matches!(b, b'<' | b'>' | b'"'))
            {
                return Err(ParseError::BadUri);
            }
            let colon = memchr(b':', s).ok_or(ParseError::BadUri)?;
            let scheme_bytes = s.get(..colon).unwrap_or(&[]);
            if !is_scheme(scheme_bytes) {
                return Err(ParseError::BadUri);
            }
            let rest = s.get(colon + 1..).unwrap_or(&[]);
            let scheme = if scheme_bytes.eq_ignore_ascii_case(b"sip") {
                Scheme::Sip
            } else if scheme_bytes.eq_ignore_ascii_case(b"sips") {
                Scheme::Sips
            } else if scheme_bytes.eq_ignore_ascii_case(b"tel") {
                Scheme::Tel
            } else {
                Scheme::Other(scheme_bytes)
            };
            let mut uri = Uri {
                scheme,
                user: None,
                password: None,
                host: &[],
                port: None,
                params: &[],
                headers: &[],
                opaque: rest,
            };
            match scheme {
                Scheme::Sip | Scheme::Sips => {
                    uri.parse_sip_ref(rest)?;
                }
                Scheme::Tel => {
                    let semi = memchr(b';', rest).unwrap_or(rest.len());
                    let number = rest.get(..semi).unwrap_or(&[]);
                    if number.is_empty() {
                        return Err(ParseError::BadUri);
                    }
                    uri.user = Some(number);
                    uri.params = rest.get(semi + 1..).unwrap_or(&[]);
                }
                Scheme::Other(_) => {
                    if rest.is_empty() {
                        return Err(ParseError::BadUri);
                    }
                }
            }
            Ok(uri)
        }

        fn parse_sip_ref(&mut self, rest: &'a [u8]) -> Result<(), ParseError> {
            let hostpart = match memchr(b'@', rest) {
                Some(at) => {
                    let userinfo = rest.get(..at).unwrap_or(&[]);
                    let (user, password) = match memchr(b':', userinfo) {
                        Some(c) => (userinfo.get(..c).unwrap_or(&[]), userinfo.get(c + 1..)),
                        None => (userinfo, None),
                    };
                    if user.is_empty() {
                        return Err(ParseError::BadUri);
                    }
                    check_escapes(userinfo)?;
                    self.user = Some(user);
                    self.password = password;
                    rest.get(at + 1..).unwrap_or(&[])
                }
                None => rest,
            };
            let (host, port, n) = parse_hostport(hostpart).ok_or(ParseError::BadUri)?;
            self.host = host;
            self.port = port;
            let tail = hostpart.get(n..).unwrap_or(&[]);
            let (params_part, headers) = match memchr(b'?', tail) {
                Some(q) => (
                    tail.get(..q).unwrap_or(&[]),
                    tail.get(q + 1..).unwrap_or(&[]),
                ),
                None => (tail, &[][..]),
            };
            match params_part.split_first() {
                None => {}
                Some((b';', p)) => {
                    if p.split(|&b| b == b';')
                        .any(|piece| piece.is_empty() || piece.first() == Some(&b'='))
                    {
                        return Err(ParseError::BadUri);
                    }
                    self.params = p;
                }
                Some(_) => return Err(ParseError::BadUri),
            }
            if tail.get(params_part.len()) == Some(&b'?') && headers.is_empty() {
                return Err(ParseError::BadUri);
            }
            check_escapes(self.params)?;
            check_escapes(headers)?;
            self.headers = headers;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_sip() {
        let u = Uri::parse(b"sip:alice@example.com:5070;transport=tcp;lr?subject=x").unwrap();
        assert_eq!(u.scheme, Scheme::Sip);
        assert_eq!(u.user, Some(&b"alice"[..]));
        assert_eq!(u.host, b"example.com");
        assert_eq!(u.port, Some(5070));
        assert_eq!(u.params, b"transport=tcp;lr");
        assert_eq!(u.param(b"TRANSPORT"), Some(Some(&b"tcp"[..])));
        assert_eq!(u.param(b"lr"), Some(None));
        assert_eq!(u.param(b"maddr"), None);
        assert_eq!(u.headers, b"subject=x");
        let u = Uri::parse(b"SIP:example.com").unwrap();
        assert_eq!((u.user, u.host, u.port), (None, &b"example.com"[..], None));
    }

    #[test]
    fn ipv6_and_sips() {
        let u = Uri::parse(b"sips:bob@[2001:db8::1]:5061;transport=tls").unwrap();
        assert_eq!(u.scheme, Scheme::Sips);
        assert_eq!(u.host, b"[2001:db8::1]");
        assert_eq!(u.port, Some(5061));
        let u = Uri::parse(b"sip:[::1]").unwrap();
        assert_eq!((u.host, u.port), (&b"[::1]"[..], None));
        assert!(Uri::parse(b"sip:[::1").is_err());
        assert!(Uri::parse(b"sip:[zz]").is_err());
    }

    #[test]
    fn odd_user_parts() {
        let u = Uri::parse(b"sip:user;par=u%40example.net@example.com").unwrap();
        assert_eq!(u.user, Some(&b"user;par=u%40example.net"[..]));
        assert_eq!(u.host, b"example.com");
        assert_eq!(u.params, b"");
        let mut out = Vec::new();
        percent_decode(u.user.unwrap(), &mut out).unwrap();
        assert_eq!(out, b"user;par=u@example.net");
        let u = Uri::parse(b"sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com").unwrap();
        assert_eq!(
            u.user,
            Some(&b"1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"[..])
        );
        assert_eq!(
            u.password,
            Some(&b"&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"[..])
        );
        assert_eq!(u.host, b"example.com");
    }

    #[test]
    fn rejects() {
        for bad in [
            &b"<sip:user@example.com>"[..],
            b"sip:user@example.com; lr",
            b"sip:@example.com",
            b"sip:user@",
            b"sip:us%zzer@example.com",
            b"sip:a@b:99999",
            b"sip:a@b:",
            b"sip:a@b;;lr",
            b"1sip:a",
            b"nocolon",
            b"sip:a@b?",
            b"x:",
        ] {
            assert!(Uri::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn other_schemes() {
        let u = Uri::parse(b"nobodyKnowsThisScheme:totallyopaquecontent").unwrap();
        assert_eq!(u.scheme, Scheme::Other(b"nobodyKnowsThisScheme"));
        assert_eq!(u.opaque, b"totallyopaquecontent");
        assert!(Uri::parse(b"soap.beep://192.0.2.103:3002").is_ok());
        let t = Uri::parse(b"tel:+1-201-555-0123;phone-context=example.com").unwrap();
        assert_eq!(t.scheme, Scheme::Tel);
        assert_eq!(t.user, Some(&b"+1-201-555-0123"[..]));
        assert_eq!(t.param(b"phone-context"), Some(Some(&b"example.com"[..])));
    }

    #[test]
    fn decoding() {
        let mut out = Vec::new();
        percent_decode(b"null-%00-null", &mut out).unwrap();
        assert_eq!(out, b"null-\0-null");
        out.clear();
        percent_decode(b"v%61lue%25%34%31", &mut out).unwrap();
        assert_eq!(out, b"value%41");
        out.clear();
        assert_eq!(percent_decode(b"%4", &mut out), Err(ParseError::BadEscape));
        assert_eq!(percent_decode(b"%G0", &mut out), Err(ParseError::BadEscape));
    }

    /// Pieces that reach every branch of both parsers: schemes in both cases, the marks
    /// (`:`, `@`, `%`, `?`, `;`, `=`), escapes good and bad, IPv6 brackets, forbidden bytes.
    const PIECES: &[&[u8]] = &[
        b"sip:",
        b"SIPS:",
        b"tel:",
        b"x-y:",
        b"1a:",
        b"sip",
        b":",
        b"@",
        b"%",
        b"%4",
        b"%41",
        b"%zz",
        b"?",
        b";",
        b"=",
        b"a",
        b"Bob",
        b"9",
        b"5060",
        b"99999",
        b".",
        b"-",
        b"[",
        b"]",
        b"::1",
        b"example.com",
        b";lr",
        b";transport=tcp",
        b"?h=v",
        b" ",
        b"<",
        b">",
        b"\"",
        b"\x7f",
        b"\xc3",
        b"_",
        b"~",
        b"&",
        b"+",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 20000, failure_persistence: None, ..Default::default()
        })]
        /// The one-pass parser returns exactly what the earlier multi-pass one did.
        #[test]
        fn one_pass_equals_reference(
            parts in proptest::collection::vec(proptest::sample::select(PIECES.to_vec()), 0..10)
        ) {
            let s = parts.concat();
            proptest::prop_assert_eq!(Uri::parse(&s), reference::parse(&s));
        }

        /// The same on arbitrary bytes.
        #[test]
        fn one_pass_equals_reference_on_bytes(s in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            proptest::prop_assert_eq!(Uri::parse(&s), reference::parse(&s));
        }
    }

    #[test]
    fn one_pass_equals_reference_on_the_examples() {
        for s in [
            &b"sip:alice@example.com:5070;transport=tcp;lr?subject=x"[..],
            b"sip:user;par=u%40example.net@example.com",
            b"sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
            b"sips:bob@[2001:db8::1]:5061;transport=tls",
            b"sip:a:b:c@d:5",
            b"sip:a@b@c",
            b"sip:%41@b;x=%4",
            b"sip:a@b?x=%zz",
            b"tel:+1-201-555-0123;phone-context=example.com",
            b"nobodyKnowsThisScheme:totallyopaquecontent",
        ] {
            assert_eq!(Uri::parse(s), reference::parse(s), "{}", String::from_utf8_lossy(s));
        }
    }
}
