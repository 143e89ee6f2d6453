//! [`Via`]: one Via value, `SIP / 2.0 / transport sent-by *(; via-param)`, with LWS allowed
//! around `/`, `:` and `;` (RFC 3261 20.42, 25.1), and RFC 3581 `rport`.

use crate::error::ParseError;
use crate::lex::{
    find_param, is_lws, is_token, leading_port, parse_port, skip_lws, trim_lws, Params,
};
use crate::uri::parse_host;

/// One Via value (a Via header may hold several, comma-separated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Via<'a> {
    /// Protocol name (`SIP`).
    pub protocol: &'a [u8],
    /// Protocol version (`2.0`).
    pub version: &'a [u8],
    /// Transport (`UDP`, `TCP`, `TLS`, `SCTP`, `WS`, or an extension token).
    pub transport: &'a [u8],
    /// sent-by host (IPv6 with brackets).
    pub host: &'a [u8],
    /// sent-by port.
    pub port: Option<u16>,
    /// Parameters after the first `;` (without it), LWS kept.
    pub params: &'a [u8],
    /// The first `rport` parameter, found while the parameters are checked.
    rport: Option<Option<u16>>,
    /// The first `branch` and `received` parameters, found the same way (what
    /// [`Via::param`] would answer for them).
    branch: Option<Option<&'a [u8]>>,
    received: Option<Option<&'a [u8]>>,
    /// Every parameter is a plain `token[=value]` (no white space, no quotes).
    params_plain: bool,
}

fn token_at(s: &[u8], i: usize) -> Option<(&[u8], usize)> {
    let rest = s.get(i..)?;
    let n = rest
        .iter()
        .position(|&b| !is_token(b))
        .unwrap_or(rest.len());
    (n > 0).then(|| (rest.get(..n).unwrap_or(&[]), i + n))
}

fn expect(s: &[u8], i: usize, c: u8) -> Option<usize> {
    let i = skip_lws(s, i);
    (s.get(i) == Some(&c)).then(|| skip_lws(s, i + 1))
}

impl<'a> Via<'a> {
    /// Parses one Via value (already split on commas).
    pub fn parse(value: &'a [u8]) -> Result<Via<'a>, ParseError> {
        Self::parse_inner(trim_lws(value)).ok_or(ParseError::BadVia)
    }

    fn parse_inner(v: &'a [u8]) -> Option<Via<'a>> {
        let (protocol, i) = token_at(v, 0)?;
        let i = expect(v, i, b'/')?;
        let (version, i) = token_at(v, i)?;
        let i = expect(v, i, b'/')?;
        let (transport, i) = token_at(v, i)?;
        if !v.get(i).is_some_and(|&b| is_lws(b)) {
            return None;
        }
        let i = skip_lws(v, i);
        let sent_by = v.get(i..)?;
        // LWS is allowed around the ':' of sent-by (RFC 3261 25.1: COLON = SWS ":" SWS).
        let n = parse_host(sent_by)?;
        let host = sent_by.get(..n)?;
        let mut port = None;
        let mut j = skip_lws(v, i + n);
        if v.get(j) == Some(&b':') {
            let k = skip_lws(v, j + 1);
            let (p, d) = leading_port(v.get(k..)?)?;
            port = Some(p);
            j = skip_lws(v, k + d);
        }
        let params = match v.get(j) {
            None => &[][..],
            Some(b';') => v.get(j + 1..)?,
            Some(_) => return None,
        };
        let (mut rport, mut branch, mut received) = (None, None, None);
        let mut it = Params::new(params);
        for p in &mut it {
            let (name, value) = p.ok()?;
            if name.eq_ignore_ascii_case(b"branch") {
                branch.get_or_insert(value);
            } else if name.eq_ignore_ascii_case(b"rport") {
                let port = match value {
                    Some(v) => Some(parse_port(v)?),
                    None => None,
                };
                rport.get_or_insert(port);
            } else if name.eq_ignore_ascii_case(b"received") {
                received.get_or_insert(value);
            }
        }
        Some(Via {
            protocol,
            version,
            transport,
            host,
            port,
            params,
            rport,
            branch,
            received,
            params_plain: it.all_plain(),
        })
    }

    /// A parameter by case-insensitive name: `None` absent, `Some(None)` without value.
    pub fn param(&self, name: &[u8]) -> Option<Option<&'a [u8]>> {
        find_param(self.params, name)
    }

    /// The `branch` parameter value.
    pub fn branch(&self) -> Option<&'a [u8]> {
        self.branch.flatten()
    }

    /// The `received` parameter value.
    pub fn received(&self) -> Option<&'a [u8]> {
        self.received.flatten()
    }

    /// RFC 3581 `rport`: `None` absent, `Some(None)` present without value, `Some(Some(p))`.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.rport
    }

    /// True when every parameter is written plainly, `token[=value]` with no white space or
    /// quotes, so the parameters can be copied as they are.
    pub fn params_plain(&self) -> bool {
        self.params_plain
    }

    /// The `maddr` parameter value.
    pub fn maddr(&self) -> Option<&'a [u8]> {
        self.param(b"maddr").flatten()
    }

    /// True if the branch starts with the RFC 3261 magic cookie `z9hG4bK`.
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with(b"z9hG4bK"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typical() {
        let v = Via::parse(b"SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776;rport").unwrap();
        assert_eq!(v.transport, b"UDP");
        assert_eq!(v.host, b"10.0.0.1");
        assert_eq!(v.port, Some(5060));
        assert_eq!(v.branch(), Some(&b"z9hG4bK776"[..]));
        assert_eq!(v.rport(), Some(None));
        assert_eq!(v.received(), None);
        assert!(v.has_rfc3261_branch());
        let v = Via::parse(b"SIP/2.0/TCP h;rport=5070;received=192.0.2.1").unwrap();
        assert_eq!(v.rport(), Some(Some(5070)));
        assert_eq!(v.received(), Some(&b"192.0.2.1"[..]));
    }

    #[test]
    fn lws_everywhere() {
        let v = Via::parse(b"SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw").unwrap();
        assert_eq!(
            (v.protocol, v.version, v.transport),
            (&b"SIP"[..], &b"2.0"[..], &b"UDP"[..])
        );
        assert_eq!(v.host, b"192.0.2.2");
        let v = Via::parse(b" SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239")
            .unwrap();
        assert_eq!(v.branch(), Some(&b"z9hG4bK30239"[..]));
        let v = Via::parse(b"SIP/2.0/UDP host : 5061 ;branch=x").unwrap();
        assert_eq!(v.port, Some(5061));
        for text in [
            &b"SIP/2.0/UDP h: 5062"[..],
            b"SIP/2.0/UDP h:\r\n 5062",
            b"SIP/2.0/UDP h :5062",
        ] {
            let v = Via::parse(text).unwrap();
            assert_eq!((v.host, v.port), (&b"h"[..], Some(5062)));
        }
    }

    #[test]
    fn ipv6() {
        let v = Via::parse(b"SIP/2.0/UDP [::1]:5060;branch=z9hG4bKx").unwrap();
        assert_eq!(v.host, b"[::1]");
        assert_eq!(v.port, Some(5060));
        let v = Via::parse(b"SIP/2.0/TLS [2001:db8::9]").unwrap();
        assert_eq!((v.host, v.port), (&b"[2001:db8::9]"[..], None));
    }

    /// What the parse records while checking the parameters agrees with a lookup afterwards.
    #[test]
    fn recorded_params_and_plainness() {
        for text in [
            &b"SIP/2.0/UDP h;branch=z9hG4bK1;rport"[..],
            b"SIP/2.0/UDP h;rport=5;branch=x;RPORT=7",
            b"SIP/2.0/UDP h;RPort;rport=9",
            b"SIP/2.0/UDP h;branch=x",
            b"SIP/2.0/UDP h",
            b"SIP/2.0/UDP h ; rport = 6",
            b"SIP/2.0/UDP h;x=\"a b\";rport",
            b"SIP/2.0/UDP h;x=\"ab\"",
            b"SIP/2.0/UDP h;branch=\r\n z9;rport",
            b"SIP/2.0/UDP h;BRANCH=z9hG4bKa;branch=z9hG4bKb;received=192.0.2.1",
            b"SIP/2.0/UDP h;branch;branch=z9hG4bKb;Received;received=192.0.2.2",
            b"SIP/2.0/UDP h;rport=5060;received=\"192.0.2.3\";branch=z9hG4bKc",
            b"SIP/2.0/UDP h;received = 192.0.2.4 ; branch = z9hG4bKd",
        ] {
            let v = Via::parse(text).unwrap();
            let looked_up = v.param(b"rport").map(|p| p.and_then(parse_port));
            assert_eq!(v.rport(), looked_up, "{}", String::from_utf8_lossy(text));
            let (branch, received) = (v.param(b"branch").flatten(), v.param(b"received").flatten());
            assert_eq!(v.branch(), branch, "{}", String::from_utf8_lossy(text));
            assert_eq!(v.received(), received, "{}", String::from_utf8_lossy(text));
            let plain = !v
                .params
                .iter()
                .any(|&b| b.is_ascii_whitespace() || b == b'"');
            assert_eq!(v.params_plain(), plain, "{}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn rejects() {
        for bad in [
            &b"SIP/2.0/UDP 192.0.2.15;;"[..],
            b"SIP/2.0/UDP",
            b"SIP/2.0 host",
            b"SIP/2.0/UDP host;rport=99999",
            b"SIP/2.0/UDP host:99999",
            b"SIP/2.0/UDP host:",
            b"SIP/2.0/UDP host: ;branch=x",
            b"SIP/2.0/UDP host junk",
            b"SIP/2.0/UDPhost",
            b"",
        ] {
            assert_eq!(
                Via::parse(bad),
                Err(ParseError::BadVia),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
