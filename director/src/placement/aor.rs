//! A small, independent splitter for SIP URIs written as text (CLI arguments, configuration
//! values). The wire path gets URI parts from the `sip` crate's parser instead.
//!
//! Accepted: `sip:` / `sips:` URIs (scheme case-insensitive), the same in `<...>`, or a bare
//! `user@host` / `host`. A password (`user:pw@`), port, `;params` and `?headers` are split off.

use super::key::KeyError;

/// Schemes recognised only to be refused with a clear message.
const OTHER_SCHEMES: &[&str] = &["tel", "pres", "im", "mailto", "http", "https", "urn"];

/// The parts of a URI, borrowed from the text (nothing decoded, nothing lowercased).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UriParts<'a> {
    /// `sip` or `sips` as written, `None` for a bare address.
    pub scheme: Option<&'a str>,
    /// The escaped user part, without password.
    pub user: Option<&'a str>,
    /// The host as written; an IPv6 reference keeps its brackets.
    pub host: &'a str,
    /// The port, if any.
    pub port: Option<u16>,
    /// The URI parameters without the leading `;` (empty if none).
    pub params: &'a str,
    /// The headers without the leading `?` (empty if none).
    pub headers: &'a str,
}

impl<'a> UriParts<'a> {
    /// Whether the scheme is `sips` (any case).
    pub fn is_sips(&self) -> bool {
        self.scheme.is_some_and(|s| s.eq_ignore_ascii_case("sips"))
    }

    /// The value of a URI parameter (name compared case-insensitively); `Some("")` for a
    /// parameter without value.
    pub fn param(&self, name: &str) -> Option<&'a str> {
        self.params
            .split(';')
            .filter(|p| !p.is_empty())
            .find_map(|p| match p.split_once('=') {
                Some((n, v)) if n.eq_ignore_ascii_case(name) => Some(v),
                None if p.eq_ignore_ascii_case(name) => Some(""),
                _ => None,
            })
    }
}

/// Splits a URI written as text into its parts.
pub fn split_uri(text: &str) -> Result<UriParts<'_>, KeyError> {
    let mut s = text.trim();
    if let Some(inner) = s.strip_prefix('<').and_then(|r| r.strip_suffix('>')) {
        s = inner.trim();
    }
    if s.is_empty() {
        return Err(KeyError::Empty);
    }
    let mut scheme = None;
    if let Some((prefix, rest)) = s.split_once(':') {
        if prefix.eq_ignore_ascii_case("sip") || prefix.eq_ignore_ascii_case("sips") {
            scheme = Some(prefix);
            s = rest;
        } else if OTHER_SCHEMES.iter().any(|o| o.eq_ignore_ascii_case(prefix)) {
            return Err(KeyError::UnsupportedScheme(prefix.to_owned()));
        }
    }
    let (user, hostport) = match s.split_once('@') {
        Some((userinfo, hostport)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _pw)| u);
            (Some(user), hostport)
        }
        None => (None, s),
    };
    let (host, after_host) = if hostport.starts_with('[') {
        let end = hostport.find(']').ok_or(KeyError::UnterminatedIpv6)?;
        hostport.split_at(end + 1)
    } else {
        let end = hostport.find([':', ';', '?']).unwrap_or(hostport.len());
        hostport.split_at(end)
    };
    if host.is_empty() {
        return Err(KeyError::EmptyHost);
    }
    let (port, after_port) = match after_host.strip_prefix(':') {
        Some(p) => {
            let end = p.find([';', '?']).unwrap_or(p.len());
            let (digits, rest) = p.split_at(end);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(KeyError::InvalidPort);
            }
            (
                Some(digits.parse::<u16>().map_err(|_| KeyError::InvalidPort)?),
                rest,
            )
        }
        None => (None, after_host),
    };
    let (params, headers) = match after_port.chars().next() {
        None => ("", ""),
        Some(';') => {
            let p = &after_port[1..];
            p.split_once('?').unwrap_or((p, ""))
        }
        Some('?') => ("", &after_port[1..]),
        Some(c) => return Err(KeyError::InvalidHost(c)),
    };
    Ok(UriParts {
        scheme,
        user,
        host,
        port,
        params,
        headers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_full_uri() {
        let p = split_uri("sips:alice:secret@Example.COM:5061;transport=tls;lr?subject=x")
            .expect("valid");
        assert_eq!(p.scheme, Some("sips"));
        assert!(p.is_sips());
        assert_eq!(p.user, Some("alice"));
        assert_eq!(p.host, "Example.COM");
        assert_eq!(p.port, Some(5061));
        assert_eq!(p.params, "transport=tls;lr");
        assert_eq!(p.param("TRANSPORT"), Some("tls"));
        assert_eq!(p.param("lr"), Some(""));
        assert_eq!(p.param("maddr"), None);
        assert_eq!(p.headers, "subject=x");
    }

    #[test]
    fn splits_bare_and_bracketed() {
        let p = split_uri(" <sip:[2001:DB8::1]:5060> ").expect("valid");
        assert_eq!(
            (p.user, p.host, p.port),
            (None, "[2001:DB8::1]", Some(5060))
        );
        let p = split_uri("bob@[::1]").expect("valid");
        assert_eq!((p.scheme, p.user, p.host), (None, Some("bob"), "[::1]"));
        let p = split_uri("example.com").expect("valid");
        assert_eq!((p.user, p.host, p.port), (None, "example.com", None));
        // RFC 3261 19.1.3: a user part may hold `;`.
        let p = split_uri("sip:alice;day=tuesday@atlanta.com").expect("valid");
        assert_eq!((p.user, p.host), (Some("alice;day=tuesday"), "atlanta.com"));
    }

    #[test]
    fn rejects() {
        assert_eq!(split_uri(""), Err(KeyError::Empty));
        assert_eq!(split_uri("<>"), Err(KeyError::Empty));
        assert_eq!(
            split_uri("tel:+1555"),
            Err(KeyError::UnsupportedScheme("tel".into()))
        );
        assert_eq!(split_uri("sip:a@h:50x"), Err(KeyError::InvalidPort));
        assert_eq!(split_uri("sip:a@h:99999"), Err(KeyError::InvalidPort));
        assert_eq!(split_uri("sip:a@"), Err(KeyError::EmptyHost));
        assert_eq!(split_uri("sip:a@[::1"), Err(KeyError::UnterminatedIpv6));
        assert_eq!(split_uri("sip:a@[::1]x"), Err(KeyError::InvalidHost('x')));
    }
}
