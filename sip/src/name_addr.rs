//! [`NameAddr`] (From, To, Route, Record-Route, Path values: `[display] <uri> *(;param)` or a
//! bare addr-spec) and [`Contact`] (`*` or a name-addr with q/expires helpers).

use memchr::memchr;

use crate::error::ParseError;
use crate::lex::{find_param, is_lws, is_token, parse_dec, quoted_end, skip_lws, trim_lws, Params};
use crate::uri::{is_scheme, Uri};

/// A name-addr's parameters and its first `tag` value.
type TaggedParams<'a> = (&'a [u8], Option<&'a [u8]>);

/// `[display-name] <addr-spec> *(; param)` or `addr-spec *(; param)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// Display name: the tokens before `<`, or the inside of the quoted string (quoted pairs
    /// still escaped). `None` when absent.
    pub display_name: Option<&'a [u8]>,
    /// The URI inside `<>`, or the bare addr-spec.
    pub uri: &'a [u8],
    /// Header parameters after the first `;` (without it), LWS kept.
    pub params: &'a [u8],
    /// True when the URI was written inside `<>`.
    pub angle: bool,
    /// The first `tag` parameter's value, found while the parameters are checked.
    tag: Option<&'a [u8]>,
}

fn check_uri_shape(uri: &[u8]) -> Result<(), ParseError> {
    let colon = memchr(b':', uri).ok_or(ParseError::BadNameAddr)?;
    if uri
        .iter()
        .any(|&b| matches!(NA_CLASS[b as usize], NA_BAD | NA_GT))
    {
        return Err(ParseError::BadNameAddr);
    }
    check_scheme(uri.get(..colon).unwrap_or(&[]))
}

/// [`is_scheme`] as this parser's error.
#[inline]
fn check_scheme(scheme: &[u8]) -> Result<(), ParseError> {
    if is_scheme(scheme) {
        Ok(())
    } else {
        Err(ParseError::BadNameAddr)
    }
}

/// Byte classes of the URI scan: 0 for the bytes a URI may hold.
const NA_BAD: u8 = 1; // white space, controls, DEL, `<`, `"` (`>` ends an enclosed URI)
const NA_GT: u8 = 2;
const NA_COLON: u8 = 3;
const NA_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = match b {
            0..=b' ' | 0x7f | b'<' | b'"' => NA_BAD,
            b'>' => NA_GT,
            b':' => NA_COLON,
            _ => 0,
        };
        i += 1;
    }
    t
};

/// The URI of `<uri>...` given what follows the `<`: one pass to the `>` that rejects bytes
/// no URI holds and finds the scheme's colon.
#[inline]
fn enclosed_uri(inner: &[u8]) -> Result<&[u8], ParseError> {
    let mut colon = None;
    for (i, &b) in inner.iter().enumerate() {
        match NA_CLASS[b as usize] {
            0 => {}
            NA_GT => {
                let colon = colon.ok_or(ParseError::BadNameAddr)?;
                let uri = inner.get(..i).unwrap_or(&[]);
                check_scheme(uri.get(..colon).unwrap_or(&[]))?;
                return Ok(uri);
            }
            NA_COLON => {
                if colon.is_none() {
                    colon = Some(i);
                }
            }
            _ => return Err(ParseError::BadNameAddr),
        }
    }
    Err(ParseError::BadNameAddr)
}

impl<'a> NameAddr<'a> {
    /// Parses one value (already split on commas where the header is a list).
    pub fn parse(value: &'a [u8]) -> Result<NameAddr<'a>, ParseError> {
        let v = trim_lws(value);
        let (display_name, lt) = match v.first() {
            None => return Err(ParseError::BadNameAddr),
            Some(b'"') => {
                let end = quoted_end(v, 0)?;
                let lt = skip_lws(v, end);
                if v.get(lt) != Some(&b'<') {
                    return Err(ParseError::BadNameAddr);
                }
                (v.get(1..end - 1), lt)
            }
            Some(_) => {
                let j = v
                    .iter()
                    .position(|&b| !(is_token(b) || is_lws(b)))
                    .unwrap_or(v.len());
                if v.get(j) == Some(&b'<') {
                    let d = trim_lws(v.get(..j).unwrap_or(&[]));
                    ((!d.is_empty()).then_some(d), j)
                } else {
                    return Self::parse_addr_spec(v);
                }
            }
        };
        let inner = v.get(lt + 1..).unwrap_or(&[]);
        let uri = enclosed_uri(inner)?;
        let after = lt + 1 + uri.len() + 1;
        let (params, tag) = Self::params_after(v, after)?;
        Ok(NameAddr {
            display_name,
            uri,
            params,
            angle: true,
            tag,
        })
    }

    fn parse_addr_spec(v: &'a [u8]) -> Result<NameAddr<'a>, ParseError> {
        let end = v
            .iter()
            .position(|&b| b == b';' || is_lws(b))
            .unwrap_or(v.len());
        let uri = v.get(..end).unwrap_or(&[]);
        // RFC 3261 20: a URI with `,`, `?` or `;` must be enclosed in `<>`.
        if uri.iter().any(|&b| b == b',' || b == b'?') {
            return Err(ParseError::BadNameAddr);
        }
        check_uri_shape(uri)?;
        let (params, tag) = Self::params_after(v, end)?;
        Ok(NameAddr {
            display_name: None,
            uri,
            params,
            angle: false,
            tag,
        })
    }

    /// The parameters after `at`, checked, with the first `tag` parameter's value.
    fn params_after(v: &'a [u8], at: usize) -> Result<TaggedParams<'a>, ParseError> {
        let i = skip_lws(v, at);
        match v.get(i) {
            None => Ok((&[], None)),
            Some(b';') => {
                let p = v.get(i + 1..).unwrap_or(&[]);
                let mut tag = None;
                for param in Params::new(p) {
                    let (name, value) = param?;
                    if name.eq_ignore_ascii_case(b"tag") {
                        tag.get_or_insert(value);
                    }
                }
                Ok((p, tag.flatten()))
            }
            Some(_) => Err(ParseError::BadNameAddr),
        }
    }

    /// A header parameter by case-insensitive name: `None` absent, `Some(None)` without value.
    pub fn param(&self, name: &[u8]) -> Option<Option<&'a [u8]>> {
        find_param(self.params, name)
    }

    /// The `tag` parameter value (of the first `tag` parameter).
    pub fn tag(&self) -> Option<&'a [u8]> {
        self.tag
    }

    /// Parses the URI.
    pub fn parsed_uri(&self) -> Result<Uri<'a>, ParseError> {
        Uri::parse(self.uri)
    }
}

/// One Contact value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contact<'a> {
    /// `Contact: *` (remove all bindings).
    Star,
    /// A binding.
    Addr(NameAddr<'a>),
}

impl<'a> Contact<'a> {
    /// Parses one Contact value (already split on commas).
    pub fn parse(value: &'a [u8]) -> Result<Contact<'a>, ParseError> {
        let v = trim_lws(value);
        if v == b"*" {
            return Ok(Contact::Star);
        }
        if v.is_empty() {
            return Err(ParseError::BadContact);
        }
        NameAddr::parse(v).map(Contact::Addr)
    }

    /// The name-addr, unless `*`.
    pub fn name_addr(&self) -> Option<&NameAddr<'a>> {
        match self {
            Contact::Star => None,
            Contact::Addr(n) => Some(n),
        }
    }

    /// The raw `q` parameter value.
    pub fn q(&self) -> Option<&'a [u8]> {
        self.name_addr().and_then(|n| n.param(b"q").flatten())
    }

    /// `q` in thousandths (`0.7` -> 700, `1` -> 1000); `None` if absent or malformed.
    pub fn q_millis(&self) -> Option<u16> {
        let q = self.q()?;
        let (int, frac) = match memchr(b'.', q) {
            Some(d) => (q.get(..d)?, q.get(d + 1..)?),
            None => (q, &[][..]),
        };
        if frac.len() > 3 || !frac.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let whole = match int {
            b"0" => 0u16,
            b"1" => 1000,
            _ => return None,
        };
        let mut f = 0u16;
        for i in 0..3 {
            f = f * 10 + frac.get(i).map_or(0, |d| u16::from(d - b'0'));
        }
        let v = whole + f;
        (v <= 1000).then_some(v)
    }

    /// The `expires` parameter: `Ok(None)` absent, error if not a number <= 2^32-1.
    pub fn expires(&self) -> Result<Option<u32>, ParseError> {
        match self.name_addr().and_then(|n| n.param(b"expires")) {
            None => Ok(None),
            Some(v) => v
                .and_then(|v| parse_dec(v, u32::MAX))
                .map(Some)
                .ok_or(ParseError::BadExpires),
        }
    }
}

/// The parser before the one-pass scan of enclosed URIs, kept as the oracle of
/// `one_pass_equals_reference`.
#[cfg(test)]
mod reference {
    use memchr::memchr;

    use super::NameAddr;
    use crate::error::ParseError;
    use crate::lex::{
        find_param, is_lws, is_token, quoted_end, skip_lws, trim_lws, validate_params,
    };

    fn check_uri_shape(uri: &[u8]) -> Result<(), ParseError> {
        let colon = memchr(b':', uri).ok_or(ParseError::BadNameAddr)?;
        let scheme = uri.get(..colon).unwrap_or(&[]);
        let ok_scheme = scheme.first().is_some_and(u8::is_ascii_alphabetic)
            && scheme
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        if !ok_scheme
            || uri
                .iter()
                .any(|&b| b <= b' ' || b == 0x7f || matches!(b, b'<' | b'>' | b'"'))
        {
            return Err(ParseError::BadNameAddr);
        }
        Ok(())
    }

    pub(super) fn parse(value: &[u8]) -> Result<NameAddr<'_>, ParseError> {
        let v = trim_lws(value);
        let (display_name, lt) = match v.first() {
            None => return Err(ParseError::BadNameAddr),
            Some(b'"') => {
                let end = quoted_end(v, 0)?;
                let lt = skip_lws(v, end);
                if v.get(lt) != Some(&b'<') {
                    return Err(ParseError::BadNameAddr);
                }
                (v.get(1..end - 1), lt)
            }
            Some(_) => {
                let j = v
                    .iter()
                    .position(|&b| !(is_token(b) || is_lws(b)))
                    .unwrap_or(v.len());
                if v.get(j) == Some(&b'<') {
                    let d = trim_lws(v.get(..j).unwrap_or(&[]));
                    ((!d.is_empty()).then_some(d), j)
                } else {
                    return parse_addr_spec(v);
                }
            }
        };
        let inner = v.get(lt + 1..).unwrap_or(&[]);
        let gt = memchr(b'>', inner).ok_or(ParseError::BadNameAddr)?;
        let uri = inner.get(..gt).unwrap_or(&[]);
        check_uri_shape(uri)?;
        let after = lt + 1 + gt + 1;
        let params = params_after(v, after)?;
        Ok(NameAddr {
            display_name,
            uri,
            params,
            angle: true,
            tag: find_param(params, b"tag").flatten(),
        })
    }

    fn parse_addr_spec(v: &[u8]) -> Result<NameAddr<'_>, ParseError> {
        let end = v
            .iter()
            .position(|&b| b == b';' || is_lws(b))
            .unwrap_or(v.len());
        let uri = v.get(..end).unwrap_or(&[]);
        // RFC 3261 20: a URI with `,`, `?` or `;` must be enclosed in `<>`.
        if uri.iter().any(|&b| b == b',' || b == b'?') {
            return Err(ParseError::BadNameAddr);
        }
        check_uri_shape(uri)?;
        let params = params_after(v, end)?;
        Ok(NameAddr {
            display_name: None,
            uri,
            params,
            angle: false,
            tag: find_param(params, b"tag").flatten(),
        })
    }

    fn params_after(v: &[u8], at: usize) -> Result<&[u8], ParseError> {
        let i = skip_lws(v, at);
        match v.get(i) {
            None => Ok(&[]),
            Some(b';') => {
                let p = v.get(i + 1..).unwrap_or(&[]);
                validate_params(p)?;
                Ok(p)
            }
            Some(_) => Err(ParseError::BadNameAddr),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let n = NameAddr::parse(b"\"Alice \\\"A\\\"\" <sip:alice@example.com>;tag=123").unwrap();
        assert_eq!(n.display_name, Some(&b"Alice \\\"A\\\""[..]));
        assert_eq!(n.uri, b"sip:alice@example.com");
        assert_eq!(n.tag(), Some(&b"123"[..]));
        let n = NameAddr::parse(b"Bob Smith <sips:bob@[::1]:5061>").unwrap();
        assert_eq!(n.display_name, Some(&b"Bob Smith"[..]));
        assert_eq!(n.parsed_uri().unwrap().host, b"[::1]");
        let n = NameAddr::parse(b"caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(n.display_name, Some(&b"caller"[..]));
        let n = NameAddr::parse(b"sip:user@example.com;tag=1 ").unwrap();
        assert_eq!(
            (n.uri, n.tag(), n.angle),
            (&b"sip:user@example.com"[..], Some(&b"1"[..]), false)
        );
        let n = NameAddr::parse(b"\r\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n")
            .unwrap();
        assert_eq!(n.tag(), Some(&b"1918181833n"[..]));
        let n = NameAddr::parse(b"<sip:a@b;lr>").unwrap();
        assert_eq!(
            (n.display_name, n.uri, n.params),
            (None, &b"sip:a@b;lr"[..], &b""[..])
        );
    }

    #[test]
    fn rejects() {
        assert_eq!(
            NameAddr::parse(b"\"Mr. J. User <sip:j.user@example.com>"),
            Err(ParseError::UnterminatedQuote)
        );
        assert_eq!(
            NameAddr::parse(b"\"W\" < sip:t.watson@example.org >"),
            Err(ParseError::BadNameAddr)
        );
        assert_eq!(
            NameAddr::parse(b"Bell, Alexander <sip:a.g.bell@example.com>;tag=43"),
            Err(ParseError::BadNameAddr)
        );
        assert_eq!(
            NameAddr::parse(b"sip:user@example.com?Route=%3Csip:x%3E"),
            Err(ParseError::BadNameAddr)
        );
        assert_eq!(
            NameAddr::parse(b"\"Joe\" <sip:joe@example.org>;;;;"),
            Err(ParseError::BadParam)
        );
        assert_eq!(NameAddr::parse(b"<sip:a@b"), Err(ParseError::BadNameAddr));
        assert_eq!(NameAddr::parse(b""), Err(ParseError::BadNameAddr));
        assert_eq!(
            NameAddr::parse(b"<sip:a@b> junk"),
            Err(ParseError::BadNameAddr)
        );
    }

    const PIECES: &[&[u8]] = &[
        b"<",
        b">",
        b"\"",
        b"\\",
        b" ",
        b"\t",
        b"\r\n ",
        b"sip:",
        b"SIPS:",
        b"1a:",
        b"x+y:",
        b":",
        b"@",
        b";",
        b"=",
        b",",
        b"?",
        b"a",
        b"Bob",
        b"example.com",
        b"5060",
        b";tag=1",
        b";TAG=2",
        b";tag",
        b";lr",
        b"\x7f",
        b"\x00",
        b"\xc3\xa9",
        b"*",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 20000, failure_persistence: None, ..Default::default()
        })]
        /// The one-pass scan of enclosed URIs returns exactly what the earlier parser did.
        #[test]
        fn one_pass_equals_reference(
            parts in proptest::collection::vec(proptest::sample::select(PIECES.to_vec()), 0..10)
        ) {
            let s = parts.concat();
            proptest::prop_assert_eq!(NameAddr::parse(&s), reference::parse(&s));
        }

        /// The same on arbitrary bytes after a `<`.
        #[test]
        fn one_pass_equals_reference_on_bytes(s in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            let s = [&b"<"[..], &s].concat();
            proptest::prop_assert_eq!(NameAddr::parse(&s), reference::parse(&s));
        }
    }

    #[test]
    fn contacts() {
        assert_eq!(Contact::parse(b" * "), Ok(Contact::Star));
        let c = Contact::parse(b"<sip:a@b>;q=0.7;expires=3600").unwrap();
        assert_eq!(c.q_millis(), Some(700));
        assert_eq!(c.expires(), Ok(Some(3600)));
        let c = Contact::parse(b"<sip:a@b>;expires=280297596632815").unwrap();
        assert_eq!(c.expires(), Err(ParseError::BadExpires));
        assert_eq!(
            Contact::parse(b"<sip:a@b>;q=1").unwrap().q_millis(),
            Some(1000)
        );
        assert_eq!(Contact::parse(b"<sip:a@b>;q=1.5").unwrap().q_millis(), None);
        assert_eq!(Contact::parse(b"<sip:a@b>").unwrap().q_millis(), None);
        assert_eq!(Contact::parse(b""), Err(ParseError::BadContact));
        let c = Contact::parse(b"sip:+19725552222@gw1.example.net;unknownparam").unwrap();
        let n = c.name_addr().unwrap();
        assert_eq!(n.uri, b"sip:+19725552222@gw1.example.net");
        assert_eq!(n.param(b"unknownparam"), Some(None));
    }
}
