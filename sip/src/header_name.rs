//! [`HeaderName`]: the header fields the codec knows by name, matched case-insensitively and in
//! their RFC 3261 / RFC 3265 / RFC 3515 / RFC 4028 compact forms.

use std::fmt;

use crate::lex::is_token;

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

/// A canonical header name prepared for a case-insensitive compare a word at a time: the first
/// and last `w` bytes (`w` = 2, 4 or 8, the widest with `2 * w >= len`; the two windows may
/// overlap and together cover the name) with letters lowercased, and masks with 0x20 at the
/// letters. A byte `b` has `b | 0x20 == l` for a lowercase letter `l` exactly when `b` is `l` or
/// its uppercase, so `(word | mask) == lowered` is `eq_ignore_ascii_case` for names of letters
/// and `-` (all the canonical ones). Names longer than 16 bytes compare bytewise.
#[derive(Clone, Copy)]
struct Key {
    canonical: &'static [u8],
    head: u64,
    tail: u64,
    head_mask: u64,
    tail_mask: u64,
}

impl Key {
    const fn of(canonical: &'static [u8]) -> Key {
        let n = canonical.len();
        let w = Self::width(n);
        let mut k = Key {
            canonical,
            head: 0,
            tail: 0,
            head_mask: 0,
            tail_mask: 0,
        };
        if w == 0 {
            return k;
        }
        let mut i = 0;
        while i < w {
            let (h, t) = (canonical[i], canonical[n - w + i]);
            let (hm, tm) = (Self::letter_bit(h), Self::letter_bit(t));
            k.head |= ((h | hm) as u64) << (8 * i);
            k.tail |= ((t | tm) as u64) << (8 * i);
            k.head_mask |= (hm as u64) << (8 * i);
            k.tail_mask |= (tm as u64) << (8 * i);
            i += 1;
        }
        k
    }

    const fn letter_bit(b: u8) -> u8 {
        if b.is_ascii_alphabetic() {
            0x20
        } else {
            0
        }
    }

    /// Window width for a name of `n` bytes (0: compare bytewise).
    #[inline]
    const fn width(n: usize) -> usize {
        match n {
            2..=3 => 2,
            4..=7 => 4,
            8..=16 => 8,
            _ => 0,
        }
    }

    /// The first and last `w` bytes of `name` as little-endian words.
    #[inline]
    fn words(name: &[u8], w: usize) -> Option<(u64, u64)> {
        let n = name.len();
        let tail = name.get(n.checked_sub(w)?..)?;
        Some(match w {
            2 => (
                u64::from(u16::from_le_bytes(name.get(..2)?.try_into().ok()?)),
                u64::from(u16::from_le_bytes(tail.try_into().ok()?)),
            ),
            4 => (
                u64::from(u32::from_le_bytes(name.get(..4)?.try_into().ok()?)),
                u64::from(u32::from_le_bytes(tail.try_into().ok()?)),
            ),
            _ => (
                u64::from_le_bytes(name.get(..8)?.try_into().ok()?),
                u64::from_le_bytes(tail.try_into().ok()?),
            ),
        })
    }

    /// `name.eq_ignore_ascii_case(self.canonical)`.
    #[inline]
    fn matches(&self, name: &[u8]) -> bool {
        if name.len() != self.canonical.len() {
            return false;
        }
        let w = Self::width(name.len());
        if w == 0 {
            return name.eq_ignore_ascii_case(self.canonical);
        }
        match Self::words(name, w) {
            Some((head, tail)) => {
                (head | self.head_mask) == self.head && (tail | self.tail_mask) == self.tail
            }
            None => false,
        }
    }
}

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
        let (canonical, header): (Key, HeaderName) = match (name.len(), first) {
            (3, b'v') => (const { Key::of(b"Via") }, H::Via),
            (4, b'f') => (const { Key::of(b"From") }, H::From),
            (2, b't') => (const { Key::of(b"To") }, H::To),
            (7, b'c') => match name.get(1).map(u8::to_ascii_lowercase) {
                Some(b'a') => (const { Key::of(b"Call-ID") }, H::CallId),
                _ => (const { Key::of(b"Contact") }, H::Contact),
            },
            (4, b'c') => (const { Key::of(b"CSeq") }, H::CSeq),
            (14, b'c') => (const { Key::of(b"Content-Length") }, H::ContentLength),
            (12, b'c') => (const { Key::of(b"Content-Type") }, H::ContentType),
            (16, b'c') => (const { Key::of(b"Content-Encoding") }, H::ContentEncoding),
            (12, b'm') => (const { Key::of(b"Max-Forwards") }, H::MaxForwards),
            (7, b'e') => (const { Key::of(b"Expires") }, H::Expires),
            (5, b'e') => (const { Key::of(b"Event") }, H::Event),
            (5, b'r') => (const { Key::of(b"Route") }, H::Route),
            (12, b'r') => (const { Key::of(b"Record-Route") }, H::RecordRoute),
            (7, b'r') => (const { Key::of(b"Require") }, H::Require),
            (8, b'r') => (const { Key::of(b"Refer-To") }, H::ReferTo),
            (11, b'r') => (const { Key::of(b"Retry-After") }, H::RetryAfter),
            (4, b'p') => (const { Key::of(b"Path") }, H::Path),
            (13, b'p') => (const { Key::of(b"Proxy-Require") }, H::ProxyRequire),
            (19, b'p') => (
                const { Key::of(b"Proxy-Authorization") },
                H::ProxyAuthorization,
            ),
            (18, b'p') => (
                const { Key::of(b"Proxy-Authenticate") },
                H::ProxyAuthenticate,
            ),
            (9, b's') => (const { Key::of(b"Supported") }, H::Supported),
            (6, b's') => (const { Key::of(b"Server") }, H::Server),
            (7, b's') => (const { Key::of(b"Subject") }, H::Subject),
            (15, b's') => (const { Key::of(b"Session-Expires") }, H::SessionExpires),
            (5, b'a') => (const { Key::of(b"Allow") }, H::Allow),
            (13, b'a') => (const { Key::of(b"Authorization") }, H::Authorization),
            (12, b'a') => (const { Key::of(b"Allow-Events") }, H::AllowEvents),
            (6, b'a') => (const { Key::of(b"Accept") }, H::Accept),
            (10, b'u') => (const { Key::of(b"User-Agent") }, H::UserAgent),
            (11, b'u') => (const { Key::of(b"Unsupported") }, H::Unsupported),
            (4, b'd') => (const { Key::of(b"Date") }, H::Date),
            (7, b'w') => (const { Key::of(b"Warning") }, H::Warning),
            (16, b'w') => (const { Key::of(b"WWW-Authenticate") }, H::WwwAuthenticate),
            _ => return HeaderName::Other,
        };
        if canonical.matches(name) {
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

/// A known name as a line may start with it: the canonical (or compact) spelling and its class.
struct Candidate {
    key: Key,
    name: HeaderName,
}

const fn cand(canonical: &'static [u8], name: HeaderName) -> Candidate {
    Candidate {
        key: Key::of(canonical),
        name,
    }
}

/// The known names by lowercased first letter, the most frequent in REGISTERs and dialogs
/// first; every long name of [`LONG`] and every compact form of [`HeaderName::from_bytes`] is
/// in the list of its letter (a test checks it).
fn candidates(first: u8) -> &'static [Candidate] {
    use HeaderName as H;
    static A: [Candidate; 4] = [
        cand(b"Allow", H::Allow),
        cand(b"Authorization", H::Authorization),
        cand(b"Allow-Events", H::AllowEvents),
        cand(b"Accept", H::Accept),
    ];
    static C: [Candidate; 7] = [
        cand(b"Call-ID", H::CallId),
        cand(b"CSeq", H::CSeq),
        cand(b"Contact", H::Contact),
        cand(b"Content-Length", H::ContentLength),
        cand(b"Content-Type", H::ContentType),
        cand(b"Content-Encoding", H::ContentEncoding),
        cand(b"c", H::ContentType),
    ];
    static D: [Candidate; 1] = [cand(b"Date", H::Date)];
    static E: [Candidate; 3] = [
        cand(b"Expires", H::Expires),
        cand(b"Event", H::Event),
        cand(b"e", H::ContentEncoding),
    ];
    static F: [Candidate; 2] = [cand(b"From", H::From), cand(b"f", H::From)];
    static I: [Candidate; 1] = [cand(b"i", H::CallId)];
    static K: [Candidate; 1] = [cand(b"k", H::Supported)];
    static L: [Candidate; 1] = [cand(b"l", H::ContentLength)];
    static M: [Candidate; 2] = [
        cand(b"Max-Forwards", H::MaxForwards),
        cand(b"m", H::Contact),
    ];
    static O: [Candidate; 1] = [cand(b"o", H::Event)];
    static P: [Candidate; 4] = [
        cand(b"Path", H::Path),
        cand(b"Proxy-Require", H::ProxyRequire),
        cand(b"Proxy-Authorization", H::ProxyAuthorization),
        cand(b"Proxy-Authenticate", H::ProxyAuthenticate),
    ];
    static R: [Candidate; 6] = [
        cand(b"Route", H::Route),
        cand(b"Record-Route", H::RecordRoute),
        cand(b"Require", H::Require),
        cand(b"Refer-To", H::ReferTo),
        cand(b"Retry-After", H::RetryAfter),
        cand(b"r", H::ReferTo),
    ];
    static S: [Candidate; 5] = [
        cand(b"Supported", H::Supported),
        cand(b"Server", H::Server),
        cand(b"Subject", H::Subject),
        cand(b"Session-Expires", H::SessionExpires),
        cand(b"s", H::Subject),
    ];
    static T: [Candidate; 2] = [cand(b"To", H::To), cand(b"t", H::To)];
    static U: [Candidate; 3] = [
        cand(b"User-Agent", H::UserAgent),
        cand(b"Unsupported", H::Unsupported),
        cand(b"u", H::AllowEvents),
    ];
    static V: [Candidate; 2] = [cand(b"Via", H::Via), cand(b"v", H::Via)];
    static W: [Candidate; 2] = [
        cand(b"Warning", H::Warning),
        cand(b"WWW-Authenticate", H::WwwAuthenticate),
    ];
    static X: [Candidate; 1] = [cand(b"x", H::SessionExpires)];
    match first {
        b'a' => &A,
        b'c' => &C,
        b'd' => &D,
        b'e' => &E,
        b'f' => &F,
        b'i' => &I,
        b'k' => &K,
        b'l' => &L,
        b'm' => &M,
        b'o' => &O,
        b'p' => &P,
        b'r' => &R,
        b's' => &S,
        b't' => &T,
        b'u' => &U,
        b'v' => &V,
        b'w' => &W,
        b'x' => &X,
        _ => &[],
    }
}

/// The header name a line starts with: its length (up to the first byte that is not a token
/// character, or the end) and its class; what scanning for that byte and then
/// [`HeaderName::from_bytes`] give. A known name followed by a non-token byte (`:`, white
/// space) is recognised without the byte-by-byte scan: its letters are compared a word at a
/// time and are token characters, so the scan would have stopped right after them.
#[inline(always)]
pub(crate) fn name_at_line_start(rest: &[u8]) -> (usize, HeaderName) {
    let first = rest.first().map_or(0, u8::to_ascii_lowercase);
    for c in candidates(first) {
        let n = c.key.canonical.len();
        if rest.get(n).is_some_and(|&b| !is_token(b))
            && rest.get(..n).is_some_and(|name| c.key.matches(name))
        {
            return (n, c.name);
        }
    }
    scan_name(rest)
}

/// [`name_at_line_start`] for names it has no shortcut for (extension headers, unusual
/// spellings); kept out of line so that the shortcut inlines small.
#[inline(never)]
fn scan_name(rest: &[u8]) -> (usize, HeaderName) {
    let n = rest
        .iter()
        .position(|&b| !is_token(b))
        .unwrap_or(rest.len());
    (n, HeaderName::from_bytes(rest.get(..n).unwrap_or(&[])))
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

    /// The word-at-a-time compare agrees with a case-insensitive search of the table for every
    /// long name with any one byte replaced by any byte value.
    #[test]
    fn word_compare_equals_bytewise_on_every_one_byte_change() {
        let reference = |name: &[u8]| {
            LONG.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map_or(HeaderName::Other, |&(_, h)| h)
        };
        for &(n, _) in LONG {
            for i in 0..n.len() {
                for b in 0..=255u8 {
                    let mut name = n.to_vec();
                    name[i] = b;
                    assert_eq!(
                        HeaderName::from_bytes(&name),
                        reference(&name),
                        "{}",
                        String::from_utf8_lossy(&name)
                    );
                }
            }
        }
    }

    #[test]
    fn names() {
        assert_eq!(HeaderName::CallId.as_str(), "Call-ID");
        assert_eq!(HeaderName::Other.to_string(), "Other");
        assert!(HeaderName::CSeq.is_single_valued());
        assert!(!HeaderName::Via.is_single_valued());
    }

    /// The scan the shortcut of [`name_at_line_start`] stands in for (its fallback).
    use super::scan_name as scanned;

    const COMPACT: &[u8] = b"vftimlckseorux";

    #[test]
    fn every_known_name_has_a_candidate_of_its_class() {
        let spellings = LONG.iter().map(|&(n, _)| n).chain(COMPACT.chunks(1));
        for name in spellings {
            let class = HeaderName::from_bytes(name);
            assert_ne!(class, HeaderName::Other);
            let found = candidates(name[0].to_ascii_lowercase())
                .iter()
                .find(|c| c.key.canonical == name)
                .unwrap_or_else(|| panic!("no candidate {}", String::from_utf8_lossy(name)));
            assert_eq!(found.name, class, "{}", String::from_utf8_lossy(name));
        }
        for first in 0..=255u8 {
            for c in candidates(first) {
                assert_eq!(HeaderName::from_bytes(c.key.canonical), c.name);
                assert_eq!(c.key.canonical[0].to_ascii_lowercase(), first);
            }
        }
    }

    #[test]
    fn shortcut_equals_the_scan_after_every_known_name() {
        let spellings = LONG.iter().map(|&(n, _)| n).chain(COMPACT.chunks(1));
        for name in spellings {
            for case in [
                name.to_vec(),
                name.to_ascii_uppercase(),
                name.to_ascii_lowercase(),
            ] {
                for next in 0..=255u8 {
                    let mut line = case.clone();
                    line.push(next);
                    line.extend_from_slice(b": x");
                    assert_eq!(name_at_line_start(&line), scanned(&line), "{line:?}");
                }
                assert_eq!(name_at_line_start(&case), scanned(&case));
                assert_eq!(
                    name_at_line_start(&case[..case.len() - 1]),
                    scanned(&case[..case.len() - 1])
                );
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 20_000, failure_persistence: None, ..Default::default() })]

        #[test]
        fn shortcut_equals_the_scan(
            which in 0..LONG.len() + 1,
            flips in proptest::collection::vec(proptest::prelude::any::<bool>(), 0..20),
            edit in proptest::option::of((0usize..20, proptest::prelude::any::<u8>())),
            tail in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::prelude::Just(b':'),
                    proptest::prelude::Just(b' '),
                    proptest::prelude::Just(b'\t'),
                    proptest::prelude::Just(b'-'),
                    proptest::prelude::Just(b'a'),
                    proptest::prelude::any::<u8>(),
                ],
                0..4,
            ),
        ) {
            // A known name (or a compact one), case flipped here and there, maybe one byte
            // changed, then a few bytes.
            let mut line = match LONG.get(which) {
                Some(&(n, _)) => n.to_vec(),
                None => vec![COMPACT[flips.len() % COMPACT.len()]],
            };
            for (b, flip) in line.iter_mut().zip(&flips) {
                if *flip {
                    *b ^= 0x20 * u8::from(b.is_ascii_alphabetic());
                }
            }
            if let Some((i, b)) = edit {
                let len = line.len();
                if let Some(x) = line.get_mut(i % len) {
                    *x = b;
                }
            }
            line.extend_from_slice(&tail);
            proptest::prop_assert_eq!(name_at_line_start(&line), scanned(&line));
        }
    }
}
