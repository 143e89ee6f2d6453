//! Parsing the value of an `Authorization` header carrying `Digest` credentials (RFC 3261 25.1,
//! RFC 7616 3.4): `Digest` followed by comma-separated `name=value` pairs, values tokens or
//! quoted strings (with `\` escapes), names case-insensitive. Borrowed from the message; only a
//! quoted string with an escape is copied.

use std::borrow::Cow;

/// Why an `Authorization` value is not usable digest credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The scheme is not `Digest`.
    #[error("authorization scheme is not Digest")]
    NotDigest,
    /// Broken syntax (a missing `=`, an unterminated quoted string, a stray character).
    #[error("malformed digest credentials")]
    Syntax,
    /// A parameter given twice.
    #[error("duplicate digest parameter")]
    Duplicate,
    /// A required parameter (username, realm, nonce, uri, response) is missing.
    #[error("missing digest parameter")]
    Missing,
}

/// Digest credentials as sent (values unquoted and unescaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestCredentials<'a> {
    /// `username`.
    pub username: Cow<'a, [u8]>,
    /// `realm`.
    pub realm: Cow<'a, [u8]>,
    /// `nonce`.
    pub nonce: Cow<'a, [u8]>,
    /// `uri` (the digest-uri).
    pub uri: Cow<'a, [u8]>,
    /// `response` (hex).
    pub response: Cow<'a, [u8]>,
    /// `algorithm`, if given (absent means MD5).
    pub algorithm: Option<Cow<'a, [u8]>>,
    /// `cnonce`.
    pub cnonce: Option<Cow<'a, [u8]>>,
    /// `nc` (8 hex digits).
    pub nc: Option<Cow<'a, [u8]>>,
    /// `qop`.
    pub qop: Option<Cow<'a, [u8]>>,
    /// `userhash` (RFC 7616): whether the username is hashed.
    pub userhash: Option<Cow<'a, [u8]>>,
}

/// Parses an `Authorization` header value.
pub fn parse(value: &[u8]) -> Result<DigestCredentials<'_>, HeaderError> {
    let value = trim(value);
    let scheme_end = value.iter().position(|b| is_lws(*b)).unwrap_or(value.len());
    if !value[..scheme_end].eq_ignore_ascii_case(b"Digest") {
        return Err(HeaderError::NotDigest);
    }
    let mut slots: [Option<Cow<'_, [u8]>>; 10] = Default::default();
    let mut rest = trim(&value[scheme_end..]);
    while !rest.is_empty() {
        let (name, val, after) = param(rest)?;
        if let Some(i) = NAMES.iter().position(|n| n.eq_ignore_ascii_case(name)) {
            if slots[i].replace(val).is_some() {
                return Err(HeaderError::Duplicate);
            }
        }
        rest = trim(after);
        match rest.first() {
            None => break,
            Some(b',') => rest = trim(&rest[1..]),
            Some(_) => return Err(HeaderError::Syntax),
        }
        if rest.is_empty() {
            return Err(HeaderError::Syntax);
        }
    }
    let [username, realm, nonce, uri, response, algorithm, cnonce, nc, qop, userhash] = slots;
    Ok(DigestCredentials {
        username: username.ok_or(HeaderError::Missing)?,
        realm: realm.ok_or(HeaderError::Missing)?,
        nonce: nonce.ok_or(HeaderError::Missing)?,
        uri: uri.ok_or(HeaderError::Missing)?,
        response: response.ok_or(HeaderError::Missing)?,
        algorithm,
        cnonce,
        nc,
        qop,
        userhash,
    })
}

const NAMES: [&[u8]; 10] = [
    b"username",
    b"realm",
    b"nonce",
    b"uri",
    b"response",
    b"algorithm",
    b"cnonce",
    b"nc",
    b"qop",
    b"userhash",
];

/// A parameter: (name, value, what follows it).
type Param<'a> = (&'a [u8], Cow<'a, [u8]>, &'a [u8]);

/// One `name = value` pair at the start of `s`.
fn param(s: &[u8]) -> Result<Param<'_>, HeaderError> {
    let name_end = s.iter().position(|b| !is_token(*b)).unwrap_or(s.len());
    if name_end == 0 {
        return Err(HeaderError::Syntax);
    }
    let (name, after) = s.split_at(name_end);
    let after = trim(after);
    let Some((b'=', after)) = after.split_first() else {
        return Err(HeaderError::Syntax);
    };
    let after = trim(after);
    if let Some((b'"', inner)) = after.split_first() {
        let (val, rest) = quoted(inner)?;
        return Ok((name, val, rest));
    }
    let end = after
        .iter()
        .position(|b| !is_token(*b))
        .unwrap_or(after.len());
    if end == 0 {
        return Err(HeaderError::Syntax);
    }
    Ok((name, Cow::Borrowed(&after[..end]), &after[end..]))
}

/// The content of a quoted string whose opening quote was consumed, and what follows it.
fn quoted(s: &[u8]) -> Result<(Cow<'_, [u8]>, &[u8]), HeaderError> {
    let mut i = 0;
    let mut escaped = false;
    while i < s.len() {
        match s[i] {
            b'"' => {
                let val = if escaped {
                    Cow::Owned(unescape(&s[..i]))
                } else {
                    Cow::Borrowed(&s[..i])
                };
                return Ok((val, &s[i + 1..]));
            }
            b'\\' => {
                escaped = true;
                i += 2;
            }
            b'\r' | b'\n' | 0 => return Err(HeaderError::Syntax),
            _ => i += 1,
        }
    }
    Err(HeaderError::Syntax)
}

fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut it = s.iter();
    while let Some(&b) = it.next() {
        if b == b'\\' {
            if let Some(&next) = it.next() {
                out.push(next);
            }
        } else {
            out.push(b);
        }
    }
    out
}

fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !is_lws(*first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !is_lws(*last) {
            break;
        }
        s = rest;
    }
    s
}

/// RFC 3261 25.1 `token` characters.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &[u8] = b"Digest username=\"Mufasa\",\r\n realm=\"testrealm@host.com\", \
        nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", qop=auth, \
        nc=00000001, cnonce=\"0a4f113b\", response=\"6629fae49393a05397450978507c4ef1\", \
        opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";

    #[test]
    fn rfc2617_example() {
        let c = parse(SAMPLE).expect("parses");
        assert_eq!(&*c.username, b"Mufasa");
        assert_eq!(&*c.realm, b"testrealm@host.com");
        assert_eq!(&*c.nonce, b"dcd98b7102dd2f0e8b11d0f600bfb0c093");
        assert_eq!(&*c.uri, b"/dir/index.html");
        assert_eq!(c.qop.as_deref(), Some(&b"auth"[..]));
        assert_eq!(c.nc.as_deref(), Some(&b"00000001"[..]));
        assert_eq!(c.cnonce.as_deref(), Some(&b"0a4f113b"[..]));
        assert_eq!(&*c.response, b"6629fae49393a05397450978507c4ef1");
        assert_eq!(c.algorithm, None);
        assert!(matches!(c.username, Cow::Borrowed(_)));
    }

    #[test]
    fn case_insensitive_names_and_escapes() {
        let c = parse(
            b"digest USERNAME=\"a\\\"b\", Realm=r, NONCE=\"n\", Uri=\"sip:x\", response=\"00\", ALGORITHM=SHA-256",
        )
        .expect("parses");
        assert_eq!(&*c.username, b"a\"b");
        assert_eq!(&*c.realm, b"r");
        assert_eq!(c.algorithm.as_deref(), Some(&b"SHA-256"[..]));
    }

    #[test]
    fn malformed() {
        assert_eq!(
            parse(b"Basic QWxhZGRpbjpvcGVu"),
            Err(HeaderError::NotDigest)
        );
        assert_eq!(parse(b"Digest username"), Err(HeaderError::Syntax));
        assert_eq!(parse(b"Digest username=\"abc"), Err(HeaderError::Syntax));
        assert_eq!(
            parse(b"Digest username=\"a\" realm=\"b\""),
            Err(HeaderError::Syntax)
        );
        assert_eq!(parse(b"Digest username=a,"), Err(HeaderError::Syntax));
        assert_eq!(parse(b"Digest username=,"), Err(HeaderError::Syntax));
        assert_eq!(
            parse(b"Digest username=a, username=b, realm=r, nonce=n, uri=u, response=x"),
            Err(HeaderError::Duplicate)
        );
        assert_eq!(
            parse(b"Digest username=a, realm=r"),
            Err(HeaderError::Missing)
        );
        assert_eq!(parse(b""), Err(HeaderError::NotDigest));
    }

    #[test]
    fn never_panics_on_prefixes() {
        for end in 0..SAMPLE.len() {
            let _ = parse(&SAMPLE[..end]);
        }
    }
}
