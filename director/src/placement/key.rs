//! The canonical placement key (address of record): `user@host` or `host`.
//!
//! Canonicalisation (DESIGN.md): the user part is percent-decoded exactly once (an invalid
//! escape is an error), its case is kept; the host is ASCII-lowercased, without port or
//! parameters; the scheme is dropped (`sip:` and `sips:` are the same user). An IPv6 host
//! keeps its brackets (`[2001:db8::1]`), lowercased, and is otherwise not rewritten: the hash
//! is over the text, so `[::1]` and `[0::1]` are different keys. The key is a byte string:
//! the UTF-8 bytes of the AOR; a decoded user may hold any byte (NUL included), kept as is.

use std::fmt;

use super::aor::split_uri;

/// Why a URI or its parts give no placement key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// A `%` in the user part not followed by two hex digits.
    #[error("invalid percent-escape at byte {position} of the user part")]
    InvalidEscape {
        /// Offset of the `%` in the escaped user part.
        position: usize,
    },
    /// `sip:@host`: a user part that is present but empty.
    #[error("empty user part")]
    EmptyUser,
    /// No host.
    #[error("empty host")]
    EmptyHost,
    /// A byte that cannot appear in a host (after port and parameters were removed).
    #[error("invalid character {0:?} in host")]
    InvalidHost(char),
    /// An IPv6 reference without its closing `]`.
    #[error("unterminated IPv6 reference (missing `]`)")]
    UnterminatedIpv6,
    /// A port that is not a decimal number 0..=65535.
    #[error("invalid port")]
    InvalidPort,
    /// A URI scheme other than `sip` or `sips`.
    #[error("unsupported URI scheme `{0}` (expected sip or sips)")]
    UnsupportedScheme(String),
    /// Nothing to parse.
    #[error("empty address")]
    Empty,
}

/// The canonical key of a user: the bytes the placement hash is computed over.
///
/// For the hot path, keep one key per worker and refill it with
/// [`PlacementKey::set_from_uri_parts`]: its buffer is reused, so no allocation happens once
/// it has grown to the longest key seen.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PlacementKey {
    bytes: Vec<u8>,
    /// Where the host starts in `bytes` (0 when there is no user part).
    host_start: usize,
}

impl PlacementKey {
    /// An empty key (hashes as the empty string) to be filled with
    /// [`PlacementKey::set_from_uri_parts`]; `capacity` bytes are reserved.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(capacity),
            host_start: 0,
        }
    }

    /// The key of a URI from its parts: `user` is the escaped user part (no password, no
    /// parameters), `host` the host as written (IPv6 with brackets, no port).
    pub fn from_uri_parts(user: Option<&[u8]>, host: &[u8]) -> Result<Self, KeyError> {
        let mut key = Self::with_capacity(user.map_or(0, <[u8]>::len) + 1 + host.len());
        key.set_from_uri_parts(user, host)?;
        Ok(key)
    }

    /// Like [`PlacementKey::from_uri_parts`], reusing this key's buffer. On error the key is
    /// left empty.
    pub fn set_from_uri_parts(&mut self, user: Option<&[u8]>, host: &[u8]) -> Result<(), KeyError> {
        self.bytes.clear();
        self.host_start = 0;
        let result = self.fill(user, host);
        if result.is_err() {
            self.bytes.clear();
            self.host_start = 0;
        }
        result
    }

    fn fill(&mut self, user: Option<&[u8]>, host: &[u8]) -> Result<(), KeyError> {
        validate_host(host)?;
        if let Some(user) = user {
            if user.is_empty() {
                return Err(KeyError::EmptyUser);
            }
            percent_decode_into(user, &mut self.bytes)?;
            self.bytes.push(b'@');
            self.host_start = self.bytes.len();
        }
        self.bytes.extend(host.iter().map(u8::to_ascii_lowercase));
        Ok(())
    }

    /// The key of an address of record written as text, for the CLI and configuration:
    /// `sip:alice@Example.COM:5061;transport=tls`, `sips:...`, `<sip:...>` or bare
    /// `alice@example.com` / `example.com`. A password, port, parameters and headers are
    /// dropped.
    pub fn parse_aor(aor: &str) -> Result<Self, KeyError> {
        let parts = split_uri(aor)?;
        Self::from_uri_parts(parts.user.map(str::as_bytes), parts.host.as_bytes())
    }

    /// The bytes hashed by placement.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The decoded user part, if any.
    pub fn user(&self) -> Option<&[u8]> {
        (self.host_start > 0).then(|| &self.bytes[..self.host_start - 1])
    }

    /// The lowercased host (what domain homing rules match).
    pub fn host(&self) -> &[u8] {
        &self.bytes[self.host_start..]
    }
}

impl fmt::Display for PlacementKey {
    /// The key as text (invalid UTF-8 shown with replacement characters).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.bytes))
    }
}

impl fmt::Debug for PlacementKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PlacementKey({:?})",
            String::from_utf8_lossy(&self.bytes)
        )
    }
}

fn validate_host(host: &[u8]) -> Result<(), KeyError> {
    let Some(&first) = host.first() else {
        return Err(KeyError::EmptyHost);
    };
    if first == b'[' {
        let inner = match host.split_last() {
            Some((b']', rest)) if rest.len() > 1 => &rest[1..],
            _ => return Err(KeyError::UnterminatedIpv6),
        };
        return match inner
            .iter()
            .find(|b| !(b.is_ascii_hexdigit() || matches!(b, b':' | b'.' | b'%')))
        {
            Some(&b) => Err(KeyError::InvalidHost(char::from(b))),
            None => Ok(()),
        };
    }
    match host.iter().find(|&&b| is_forbidden_in_host(b)) {
        Some(&b) => Err(KeyError::InvalidHost(char::from(b))),
        None => Ok(()),
    }
}

fn is_forbidden_in_host(b: u8) -> bool {
    b.is_ascii_control()
        || matches!(
            b,
            b' ' | b'@'
                | b':'
                | b';'
                | b'?'
                | b'<'
                | b'>'
                | b'"'
                | b'/'
                | b'\\'
                | b'['
                | b']'
                | b','
        )
}

fn percent_decode_into(escaped: &[u8], out: &mut Vec<u8>) -> Result<(), KeyError> {
    let mut i = 0;
    while i < escaped.len() {
        let b = escaped[i];
        if b == b'%' {
            let hi = escaped.get(i + 1).copied().and_then(hex_value);
            let lo = escaped.get(i + 2).copied().and_then(hex_value);
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                _ => return Err(KeyError::InvalidEscape { position: i }),
            }
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Ok(())
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(user: Option<&str>, host: &str) -> Result<PlacementKey, KeyError> {
        PlacementKey::from_uri_parts(user.map(str::as_bytes), host.as_bytes())
    }

    #[test]
    fn canonical_forms() {
        let k = key(Some("Alice"), "Example.COM").expect("valid");
        assert_eq!(k.as_bytes(), b"Alice@example.com");
        assert_eq!(k.user(), Some(&b"Alice"[..]));
        assert_eq!(k.host(), b"example.com");
        let k = key(None, "Example.COM").expect("valid");
        assert_eq!(k.as_bytes(), b"example.com");
        assert_eq!(k.user(), None);
        let k = key(Some("bob"), "[2001:DB8::1]").expect("valid");
        assert_eq!(k.as_bytes(), b"bob@[2001:db8::1]");
    }

    #[test]
    fn decodes_exactly_once_and_keeps_nul() {
        let k = key(Some("a%2541%00b%40c"), "h").expect("valid");
        assert_eq!(k.as_bytes(), b"a%41\0b@c@h");
        assert_eq!(k.user(), Some(&b"a%41\0b@c"[..]));
        assert_eq!(k.host(), b"h");
        let k = key(Some("J%C3%BCrgen"), "h").expect("valid");
        assert_eq!(k.as_bytes(), "Jürgen@h".as_bytes());
    }

    #[test]
    fn rejects_bad_parts() {
        assert_eq!(
            key(Some("a%4"), "h"),
            Err(KeyError::InvalidEscape { position: 1 })
        );
        assert_eq!(
            key(Some("%g0"), "h"),
            Err(KeyError::InvalidEscape { position: 0 })
        );
        assert_eq!(key(Some(""), "h"), Err(KeyError::EmptyUser));
        assert_eq!(key(Some("a"), ""), Err(KeyError::EmptyHost));
        assert_eq!(key(Some("a"), "h:5060"), Err(KeyError::InvalidHost(':')));
        assert_eq!(key(Some("a"), "[::1"), Err(KeyError::UnterminatedIpv6));
    }

    #[test]
    fn reuse_keeps_buffer_and_clears_on_error() {
        let mut k = PlacementKey::with_capacity(64);
        k.set_from_uri_parts(Some(b"alice"), b"X.org")
            .expect("valid");
        assert_eq!(k.as_bytes(), b"alice@x.org");
        assert!(k.set_from_uri_parts(Some(b"%"), b"x.org").is_err());
        assert_eq!(k.as_bytes(), b"");
        k.set_from_uri_parts(None, b"Y.org").expect("valid");
        assert_eq!(k.as_bytes(), b"y.org");
        assert_eq!(k.user(), None);
    }
}
