//! Byte-level lexical helpers shared by every parser in the crate: character classes (token,
//! LWS), trimming, checked decimal parsing, quoted strings and quote/angle-aware comma splitting.
//!
//! Header values are handed around with their folding intact, so "linear white space" here means
//! SP, HT, CR and LF: inside one header value a CRLF is always followed by SP or HT.

use crate::error::ParseError;

/// Lookup table for RFC 3261 `token` characters: alphanum and `-.!%*_+`'~`.
const TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
            );
        i += 1;
    }
    t
};

/// True for an RFC 3261 `token` character.
#[inline]
pub(crate) fn is_token(b: u8) -> bool {
    TOKEN[b as usize]
}

/// True when every byte is a token character and there is at least one.
#[inline]
pub(crate) fn is_token_str(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_token(b))
}

/// Linear white space inside a header value (folding included).
#[inline]
pub(crate) fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Strips LWS from both ends.
#[inline]
pub(crate) fn trim_lws(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_lws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|&b| !is_lws(b)).map_or(start, |e| e + 1);
    s.get(start..end).unwrap_or(&[])
}

/// Index of the first non-LWS byte at or after `i` (or `s.len()`).
#[inline]
pub(crate) fn skip_lws(s: &[u8], mut i: usize) -> usize {
    while let Some(&b) = s.get(i) {
        if !is_lws(b) {
            break;
        }
        i += 1;
    }
    i
}

/// Parses `1*DIGIT` (leading zeros allowed) into a value no larger than `max`. Never overflows:
/// any number of digits is accepted, but the value must fit.
pub(crate) fn parse_dec(s: &[u8], max: u32) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(b - b'0');
        if v > u64::from(max) {
            return None;
        }
    }
    u32::try_from(v).ok()
}

/// Parses a port number (`1*DIGIT`, at most 65535).
#[inline]
pub(crate) fn parse_port(s: &[u8]) -> Option<u16> {
    parse_dec(s, u32::from(u16::MAX)).and_then(|v| u16::try_from(v).ok())
}

/// The port written by the digits at the start of `s`, with how many digits there are; `None`
/// when there are none or they exceed 65535.
pub(crate) fn leading_port(s: &[u8]) -> Option<(u16, usize)> {
    // One pass: the digits are counted and summed together (any number of leading zeros, as
    // `parse_port` allows).
    let mut v: u32 = 0;
    let mut n = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            break;
        }
        v = v * 10 + u32::from(b - b'0');
        if v > u32::from(u16::MAX) {
            return None;
        }
        n += 1;
    }
    if n == 0 {
        return None;
    }
    Some((u16::try_from(v).ok()?, n))
}

/// `s[i]` must be `"`; returns the index just past the closing quote. Quoted pairs (`\x`) are
/// skipped, so any byte (NUL, BEL, DEL, UTF-8) may appear inside.
pub(crate) fn quoted_end(s: &[u8], i: usize) -> Result<usize, ParseError> {
    let mut j = i + 1;
    loop {
        match s.get(j) {
            None => return Err(ParseError::UnterminatedQuote),
            Some(b'"') => return Ok(j + 1),
            Some(b'\\') => j += 2,
            Some(_) => j += 1,
        }
    }
}

/// Splits a header value on commas that are not inside a quoted string or `<...>`.
/// Yields raw (untrimmed) pieces; an unterminated quote swallows the rest so that the element
/// parser reports it.
#[derive(Debug, Clone)]
pub(crate) struct CommaSplit<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> CommaSplit<'a> {
    pub(crate) fn new(s: &'a [u8]) -> Self {
        CommaSplit { rest: Some(s) }
    }
}

impl<'a> Iterator for CommaSplit<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let s = self.rest?;
        // Most values hold one element: without a comma there is nothing to split.
        if memchr::memchr(b',', s).is_none() {
            self.rest = None;
            return Some(s);
        }
        let mut i = 0;
        let mut in_angle = false;
        while let Some(&b) = s.get(i) {
            match b {
                b'"' => match quoted_end(s, i) {
                    Ok(e) => {
                        i = e;
                        continue;
                    }
                    Err(_) => break,
                },
                b'<' => in_angle = true,
                b'>' => in_angle = false,
                b',' if !in_angle => {
                    self.rest = s.get(i + 1..);
                    return s.get(..i);
                }
                _ => {}
            }
            i += 1;
        }
        self.rest = None;
        Some(s)
    }
}

/// Iterator over `;`-separated generic parameters (the slice after the first `;`).
/// Yields `(name, value)` with LWS trimmed; a missing name, a non-token name, an empty value
/// after `=` or LWS inside a value is an error ([`ParseError::BadParam`]).
#[derive(Debug, Clone)]
pub(crate) struct Params<'a> {
    rest: Option<&'a [u8]>,
    /// Some parameter so far was not written plainly (white space, quotes, or malformed).
    general: bool,
}

impl<'a> Params<'a> {
    pub(crate) fn new(s: &'a [u8]) -> Self {
        Params {
            rest: if trim_lws(s).is_empty() {
                None
            } else {
                Some(s)
            },
            general: false,
        }
    }

    /// True when every parameter yielded so far was a plain `token[=value]` (no white space,
    /// no quotes; see `plain_param`).
    pub(crate) fn all_plain(&self) -> bool {
        !self.general
    }
}

/// One parameter: name and optional value (a quoted value keeps its quotes).
pub(crate) type Param<'a> = (&'a [u8], Option<&'a [u8]>);

impl<'a> Iterator for Params<'a> {
    type Item = Result<Param<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let s = self.rest?;
        // The usual `token[=value]` without white space or quotes: one pass, same result.
        if let Some((param, end)) = plain_param(s) {
            self.rest = if end < s.len() {
                s.get(end + 1..)
            } else {
                None
            };
            return Some(Ok(param));
        }
        self.general = true;
        let mut i = 0;
        let piece_end = loop {
            match s.get(i..).and_then(|r| memchr::memchr2(b';', b'"', r)) {
                None => break s.len(),
                Some(p) if s.get(i + p) == Some(&b';') => break i + p,
                Some(p) => match quoted_end(s, i + p) {
                    Ok(e) => i = e,
                    Err(e) => {
                        self.rest = None;
                        return Some(Err(e));
                    }
                },
            }
        };
        let piece = s.get(..piece_end).unwrap_or(&[]);
        self.rest = if piece_end < s.len() {
            s.get(piece_end + 1..)
        } else {
            None
        };
        Some(parse_param(piece))
    }
}

/// Bytes that may not appear in an unquoted parameter value.
const BAD_VALUE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b <= b' ' || b == b'"' || b == b',' || b == 0x7f;
        i += 1;
    }
    t
};

/// The first parameter of `s` when it is written plainly: a token name, then `;` or the end,
/// or `=` and a non-empty value of bytes that are neither [`BAD_VALUE`] nor `;`, then `;` or
/// the end. Returns it with the index of the `;` (or `s.len()`). `None` for anything else
/// (white space, quotes, empty name or value, a bad byte), left to the general path; where it
/// answers, the answer is the general path's: no `"` means the piece ends at the first `;`,
/// the name holds no `=`, and there is nothing to trim.
#[inline]
fn plain_param(s: &[u8]) -> Option<(Param<'_>, usize)> {
    let n = s.iter().position(|&b| !is_token(b)).unwrap_or(s.len());
    if n == 0 {
        return None;
    }
    let name = s.get(..n)?;
    match s.get(n) {
        None | Some(b';') => Some(((name, None), n)),
        Some(b'=') => {
            let rest = s.get(n + 1..)?;
            let m = rest
                .iter()
                .position(|&b| b == b';' || BAD_VALUE[b as usize])
                .unwrap_or(rest.len());
            if m == 0 || !matches!(rest.get(m), None | Some(b';')) {
                return None;
            }
            Some(((name, Some(rest.get(..m)?)), n + 1 + m))
        }
        Some(_) => None,
    }
}

fn parse_param(piece: &[u8]) -> Result<Param<'_>, ParseError> {
    let (name, value) = match memchr::memchr(b'=', piece) {
        Some(eq) => {
            let v = trim_lws(piece.get(eq + 1..).unwrap_or(&[]));
            (trim_lws(piece.get(..eq).unwrap_or(&[])), Some(v))
        }
        None => (trim_lws(piece), None),
    };
    if !is_token_str(name) {
        return Err(ParseError::BadParam);
    }
    if let Some(v) = value {
        match v.first() {
            None => return Err(ParseError::BadParam),
            Some(b'"') => {
                if quoted_end(v, 0)? != v.len() {
                    return Err(ParseError::BadParam);
                }
            }
            Some(_) => {
                if v.iter().any(|&b| BAD_VALUE[b as usize]) {
                    return Err(ParseError::BadParam);
                }
            }
        }
    }
    Ok((name, value))
}

/// Checks that every parameter in `s` is well formed (the parsers check theirs while they
/// read them; this is for tests and the reference parsers).
#[cfg(test)]
pub(crate) fn validate_params(s: &[u8]) -> Result<(), ParseError> {
    for p in Params::new(s) {
        p?;
    }
    Ok(())
}

/// Looks a parameter up by case-insensitive name: `None` absent, `Some(None)` present without
/// value, `Some(Some(v))` with value. Malformed parameters are skipped.
pub(crate) fn find_param<'a>(s: &'a [u8], name: &[u8]) -> Option<Option<&'a [u8]>> {
    Params::new(s)
        .flatten()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass `leading_port` answers what counting the digits and then `parse_port`
    /// on them would.
    #[test]
    fn leading_port_equals_digits_then_parse_port() {
        for s in [
            &b""[..],
            b"x",
            b"0",
            b"5060",
            b"5060;transport=udp",
            b"65535>",
            b"65536",
            b"000000000065535",
            b"99999999999999999999999",
            b"12a",
            b":5060",
        ] {
            let n = s
                .iter()
                .position(|b| !b.is_ascii_digit())
                .unwrap_or(s.len());
            let two_pass = parse_port(&s[..n]).map(|p| (p, n));
            assert_eq!(leading_port(s), two_pass, "{}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn tokens_and_trim() {
        assert!(is_token_str(b"INVITE"));
        assert!(is_token_str(b"!interesting-Method0123456789_*+`.%indeed'~"));
        assert!(!is_token_str(b"a b"));
        assert!(!is_token_str(b""));
        assert_eq!(trim_lws(b" \r\n\tabc \r\n "), b"abc");
        assert_eq!(trim_lws(b"  "), b"");
    }

    #[test]
    fn numbers_never_overflow() {
        assert_eq!(parse_dec(b"0009", u32::MAX), Some(9));
        assert_eq!(parse_dec(b"4294967295", u32::MAX), Some(u32::MAX));
        assert_eq!(parse_dec(b"4294967296", u32::MAX), None);
        assert_eq!(parse_dec(b"36893488147419103232", u32::MAX), None);
        assert_eq!(parse_dec(b"-1", u32::MAX), None);
        assert_eq!(parse_dec(b"", u32::MAX), None);
        assert_eq!(parse_port(b"65536"), None);
        assert_eq!(parse_port(b"5060"), Some(5060));
    }

    #[test]
    fn quoted() {
        assert_eq!(quoted_end(b"\"a\\\"b\" x", 0), Ok(6));
        assert_eq!(quoted_end(b"\"abc", 0), Err(ParseError::UnterminatedQuote));
        assert_eq!(
            quoted_end(b"\"abc\\", 0),
            Err(ParseError::UnterminatedQuote)
        );
    }

    #[test]
    fn comma_split_respects_quotes_and_angles() {
        let v: Vec<&[u8]> = CommaSplit::new(b"\"a,b\" <sip:x;a=1,2>, <sip:y>,sip:z").collect();
        assert_eq!(
            v,
            vec![&b"\"a,b\" <sip:x;a=1,2>"[..], b" <sip:y>", b"sip:z"]
        );
        let v: Vec<&[u8]> = CommaSplit::new(b"a,,").collect();
        assert_eq!(v, vec![&b"a"[..], b"", b""]);
    }

    #[test]
    fn params() {
        let p = b" branch = z9hG4bK1 ;rport; received=1.2.3.4;x=\"a;b\"";
        validate_params(p).unwrap();
        assert_eq!(find_param(p, b"BRANCH"), Some(Some(&b"z9hG4bK1"[..])));
        assert_eq!(find_param(p, b"rport"), Some(None));
        assert_eq!(find_param(p, b"x"), Some(Some(&b"\"a;b\""[..])));
        assert_eq!(find_param(p, b"nope"), None);
        assert_eq!(validate_params(b";"), Err(ParseError::BadParam));
        assert_eq!(validate_params(b"a;;"), Err(ParseError::BadParam));
        assert_eq!(validate_params(b"a="), Err(ParseError::BadParam));
        assert_eq!(validate_params(b"a=b c"), Err(ParseError::BadParam));
        assert!(validate_params(b"").is_ok());
    }

    /// The one-pass path gives what splitting and `parse_param` give, wherever it answers.
    #[test]
    fn plain_param_agrees_with_parse_param() {
        for s in [
            &b"branch=z9hG4bK1;rport"[..],
            b"rport",
            b"rport;x",
            b"tag=1a2b",
            b"a=b=c;d",
            b"a=;b",
            b"=a",
            b"a b",
            b"a =b",
            b"a= b",
            b"a=\"b\"",
            b"a=b\"c",
            b"a=b,c",
            b"a=\x7f",
            b";",
            b"",
            b"x=\"q;r\";y",
            b"lr;transport=tcp",
        ] {
            if let Some((param, end)) = plain_param(s) {
                let piece_end = s.iter().position(|&b| b == b';').unwrap_or(s.len());
                assert_eq!(end, piece_end, "{}", String::from_utf8_lossy(s));
                assert_eq!(parse_param(&s[..end]), Ok(param));
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 4000, failure_persistence: None, ..Default::default()
        })]
        /// On bytes that exercise every branch, the one-pass path agrees with the general one.
        #[test]
        fn plain_param_agrees_on_random_bytes(
            s in proptest::collection::vec(proptest::sample::select(
                b"ab1-.=;\" \t\r\n\\,\x7f\xc3".to_vec()), 0..12)
        ) {
            if let Some((param, end)) = plain_param(&s) {
                let piece_end = s.iter().position(|&b| b == b';').unwrap_or(s.len());
                proptest::prop_assert_eq!(end, piece_end);
                proptest::prop_assert_eq!(parse_param(&s[..end]), Ok(param));
            }
        }
    }
}
