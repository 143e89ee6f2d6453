//! PROXY protocol header parser (HAProxy spec, v1 text and v2 binary), pure: bytes in,
//! [`Parse::Incomplete`] or [`Parse::Parsed`] or a [`ProxyError`] out. No IO.
//!
//! A listener behind an L4 balancer reads this header before TLS and SIP framing; the source
//! address it carries replaces the balancer's address as the connection's remote address.
//! Every byte seen so far is checked against what a header can start with, so a connection
//! that sends no header at all fails at its first byte instead of waiting for the timeout.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Longest v1 header, `\r\n` included (spec section 2.1).
pub const V1_MAX_LEN: usize = 107;
/// The v2 signature (spec section 2.2).
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// Most address and TLV bytes accepted after the 16-byte v2 prefix (the spec allows 65535;
/// balancers send a few hundred at most).
pub const V2_MAX_PAYLOAD: usize = 4096;
/// Longest header this parser accepts, either version.
pub const MAX_HEADER_LEN: usize = 16 + V2_MAX_PAYLOAD;

const V1_PREFIX: &[u8] = b"PROXY ";

/// A complete header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyHeader {
    /// Bytes the header takes at the start of the stream (TLVs included).
    pub header_len: usize,
    /// The real client; `None` for v1 `UNKNOWN`, v2 `LOCAL` (health checks from the balancer
    /// itself) and address families other than INET/INET6: the connection's own address stands.
    pub source: Option<SocketAddr>,
    /// The address the client connected to, when given.
    pub destination: Option<SocketAddr>,
}

/// What the bytes so far amount to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parse {
    /// A valid beginning of a header; more bytes are needed.
    Incomplete,
    /// A whole header.
    Parsed(ProxyHeader),
}

/// Why the bytes are not a PROXY protocol header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    /// Neither `PROXY ` nor the v2 signature: the peer sent no header.
    #[error("no PROXY protocol header")]
    Missing,
    /// A v1 line without `\r\n` within 107 bytes.
    #[error("PROXY v1 header longer than 107 bytes")]
    V1TooLong,
    /// A v1 line that does not follow the grammar.
    #[error("malformed PROXY v1 header: {0}")]
    V1Malformed(&'static str),
    /// A v2 version nibble other than 2.
    #[error("unsupported PROXY v2 version {0}")]
    V2Version(u8),
    /// A v2 command other than LOCAL or PROXY.
    #[error("unsupported PROXY v2 command {0}")]
    V2Command(u8),
    /// A v2 length over [`V2_MAX_PAYLOAD`].
    #[error("PROXY v2 header of {0} bytes exceeds the limit")]
    V2TooLong(usize),
    /// A v2 length too short for its address family.
    #[error("PROXY v2 address block of {0} bytes too short for its family")]
    V2Truncated(usize),
}

/// Parses the header at the start of `buf`.
pub fn parse(buf: &[u8]) -> Result<Parse, ProxyError> {
    let Some(&first) = buf.first() else {
        return Ok(Parse::Incomplete);
    };
    if first == b'P' {
        parse_v1(buf)
    } else if first == V2_SIGNATURE[0] {
        parse_v2(buf)
    } else {
        Err(ProxyError::Missing)
    }
}

fn prefix_matches(buf: &[u8], prefix: &[u8]) -> bool {
    let n = buf.len().min(prefix.len());
    buf[..n] == prefix[..n]
}

fn parse_v1(buf: &[u8]) -> Result<Parse, ProxyError> {
    if !prefix_matches(buf, V1_PREFIX) {
        return Err(ProxyError::Missing);
    }
    let window = &buf[..buf.len().min(V1_MAX_LEN)];
    let Some(lf) = window.iter().position(|&b| b == b'\n') else {
        return if buf.len() >= V1_MAX_LEN {
            Err(ProxyError::V1TooLong)
        } else {
            Ok(Parse::Incomplete)
        };
    };
    if lf < V1_PREFIX.len() || buf[lf - 1] != b'\r' {
        return Err(ProxyError::V1Malformed("line does not end in CRLF"));
    }
    let line = std::str::from_utf8(&buf[V1_PREFIX.len()..lf - 1])
        .map_err(|_| ProxyError::V1Malformed("not ASCII"))?;
    let header_len = lf + 1;
    let mut fields = line.split(' ');
    let proto = fields.next().unwrap_or("");
    if proto == "UNKNOWN" {
        // Whatever follows UNKNOWN is ignored (spec 2.1).
        return Ok(Parse::Parsed(ProxyHeader {
            header_len,
            source: None,
            destination: None,
        }));
    }
    let v6 = match proto {
        "TCP4" => false,
        "TCP6" => true,
        _ => {
            return Err(ProxyError::V1Malformed(
                "protocol is not TCP4, TCP6 or UNKNOWN",
            ))
        }
    };
    let mut next = || {
        fields
            .next()
            .ok_or(ProxyError::V1Malformed("missing field"))
    };
    let (src, dst, sport, dport) = (next()?, next()?, next()?, next()?);
    if fields.next().is_some() {
        return Err(ProxyError::V1Malformed("extra field"));
    }
    let src = v1_ip(src, v6)?;
    let dst = v1_ip(dst, v6)?;
    Ok(Parse::Parsed(ProxyHeader {
        header_len,
        source: Some(SocketAddr::new(src, v1_port(sport)?)),
        destination: Some(SocketAddr::new(dst, v1_port(dport)?)),
    }))
}

fn v1_ip(s: &str, v6: bool) -> Result<IpAddr, ProxyError> {
    let ip = if v6 {
        s.parse::<Ipv6Addr>().map(IpAddr::V6)
    } else {
        s.parse::<Ipv4Addr>().map(IpAddr::V4)
    };
    ip.map_err(|_| ProxyError::V1Malformed("bad address"))
}

fn v1_port(s: &str) -> Result<u16, ProxyError> {
    let digits = !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit());
    let no_leading_zero = s == "0" || !s.starts_with('0');
    match s.parse::<u16>() {
        Ok(p) if digits && no_leading_zero => Ok(p),
        _ => Err(ProxyError::V1Malformed("bad port")),
    }
}

fn parse_v2(buf: &[u8]) -> Result<Parse, ProxyError> {
    if !prefix_matches(buf, &V2_SIGNATURE) {
        return Err(ProxyError::Missing);
    }
    if buf.len() < 16 {
        if let Some(&ver_cmd) = buf.get(12) {
            check_ver_cmd(ver_cmd)?;
        }
        return Ok(Parse::Incomplete);
    }
    let ver_cmd = buf[12];
    check_ver_cmd(ver_cmd)?;
    let family = buf[13] >> 4;
    let len = usize::from(u16::from_be_bytes([buf[14], buf[15]]));
    if len > V2_MAX_PAYLOAD {
        return Err(ProxyError::V2TooLong(16 + len));
    }
    let header_len = 16 + len;
    if buf.len() < header_len {
        return Ok(Parse::Incomplete);
    }
    let local = ver_cmd & 0x0f == 0;
    let addrs = &buf[16..header_len];
    let (source, destination) = match family {
        // LOCAL: the balancer speaking for itself (health check); addresses are ignored.
        _ if local => (None, None),
        1 => {
            let a = addrs.get(..12).ok_or(ProxyError::V2Truncated(len))?;
            let ip = |o: usize| IpAddr::V4(Ipv4Addr::new(a[o], a[o + 1], a[o + 2], a[o + 3]));
            let port = |o: usize| u16::from_be_bytes([a[o], a[o + 1]]);
            (
                Some(SocketAddr::new(ip(0), port(8))),
                Some(SocketAddr::new(ip(4), port(10))),
            )
        }
        2 => {
            let a = addrs.get(..36).ok_or(ProxyError::V2Truncated(len))?;
            let ip = |o: usize| {
                let mut b = [0u8; 16];
                b.copy_from_slice(&a[o..o + 16]);
                IpAddr::V6(Ipv6Addr::from(b))
            };
            let port = |o: usize| u16::from_be_bytes([a[o], a[o + 1]]);
            (
                Some(SocketAddr::new(ip(0), port(32))),
                Some(SocketAddr::new(ip(16), port(34))),
            )
        }
        // UNSPEC, UNIX or unknown: keep the connection's own addresses (spec 2.2).
        _ => (None, None),
    };
    Ok(Parse::Parsed(ProxyHeader {
        header_len,
        source,
        destination,
    }))
}

fn check_ver_cmd(ver_cmd: u8) -> Result<(), ProxyError> {
    let (version, command) = (ver_cmd >> 4, ver_cmd & 0x0f);
    if version != 2 {
        return Err(ProxyError::V2Version(version));
    }
    if command > 1 {
        return Err(ProxyError::V2Command(command));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(buf: &[u8]) -> ProxyHeader {
        match parse(buf) {
            Ok(Parse::Parsed(h)) => h,
            other => panic!("expected a header, got {other:?}"),
        }
    }

    /// Every strict prefix is `Incomplete`, the whole is parsed, trailing bytes are not taken.
    fn check_fragments(header: &[u8]) -> ProxyHeader {
        for n in 0..header.len() {
            assert_eq!(parse(&header[..n]), Ok(Parse::Incomplete), "prefix of {n}");
        }
        let mut with_data = header.to_vec();
        with_data.extend_from_slice(b"REGISTER sip:x SIP/2.0\r\n");
        let h = parsed(&with_data);
        assert_eq!(h.header_len, header.len());
        assert_eq!(parsed(header), h);
        h
    }

    fn sa(s: &str) -> Option<SocketAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn v1_tcp4() {
        let h = check_fragments(b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
        assert_eq!(h.source, sa("192.168.0.1:56324"));
        assert_eq!(h.destination, sa("192.168.0.11:443"));
    }

    #[test]
    fn v1_tcp6() {
        let h = check_fragments(b"PROXY TCP6 2001:db8::1 2001:db8::2 40000 5061\r\n");
        assert_eq!(h.source, sa("[2001:db8::1]:40000"));
        assert_eq!(h.destination, sa("[2001:db8::2]:5061"));
    }

    #[test]
    fn v1_unknown() {
        let h = check_fragments(b"PROXY UNKNOWN\r\n");
        assert_eq!((h.header_len, h.source, h.destination), (15, None, None));
        let h = parsed(b"PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n");
        assert_eq!(h.source, None);
    }

    #[test]
    fn v1_worst_case_fits() {
        let line = b"PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
        assert_eq!(line.len(), V1_MAX_LEN);
        assert_eq!(parsed(line).header_len, V1_MAX_LEN);
    }

    #[test]
    fn v1_errors() {
        let bad: &[(&[u8], ProxyError)] = &[
            (b"REGISTER sip:x SIP/2.0\r\n", ProxyError::Missing),
            (b"PROXZ", ProxyError::Missing),
            (b"\x16\x03\x01", ProxyError::Missing),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
                ProxyError::V1Malformed("line does not end in CRLF"),
            ),
            (
                b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
                ProxyError::V1Malformed("protocol is not TCP4, TCP6 or UNKNOWN"),
            ),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
                ProxyError::V1Malformed("missing field"),
            ),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
                ProxyError::V1Malformed("extra field"),
            ),
            (
                b"PROXY TCP4 ::1 5.6.7.8 1 2\r\n",
                ProxyError::V1Malformed("bad address"),
            ),
            (
                b"PROXY TCP6 1.2.3.4 ::1 1 2\r\n",
                ProxyError::V1Malformed("bad address"),
            ),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
                ProxyError::V1Malformed("bad port"),
            ),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
                ProxyError::V1Malformed("bad port"),
            ),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n",
                ProxyError::V1Malformed("bad port"),
            ),
            (
                b"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",
                ProxyError::V1Malformed("extra field"),
            ),
            (
                b"PROXY TCP4  1.2.3.4 5.6.7.8 1\r\n",
                ProxyError::V1Malformed("bad address"),
            ),
        ];
        for (input, err) in bad {
            assert_eq!(
                parse(input),
                Err(*err),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
        let long = [b"PROXY UNKNOWN ".as_slice(), &[b'x'; 100]].concat();
        assert_eq!(parse(&long[..106]), Ok(Parse::Incomplete));
        assert_eq!(parse(&long), Err(ProxyError::V1TooLong));
    }

    fn v2(ver_cmd: u8, fam: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = V2_SIGNATURE.to_vec();
        v.extend_from_slice(&[ver_cmd, fam]);
        v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn v2_proxy_inet_with_tlvs() {
        let mut p = vec![203, 0, 113, 7, 192, 0, 2, 1];
        p.extend_from_slice(&40000u16.to_be_bytes());
        p.extend_from_slice(&5060u16.to_be_bytes());
        // PP2_TYPE_AUTHORITY "sip.example.com" and an AWS VPC endpoint id TLV: skipped.
        p.extend_from_slice(&[0x02, 0, 15]);
        p.extend_from_slice(b"sip.example.com");
        p.extend_from_slice(&[0xEA, 0, 5, 0x01, b'v', b'p', b'c', b'e']);
        let h = check_fragments(&v2(0x21, 0x11, &p));
        assert_eq!(h.source, sa("203.0.113.7:40000"));
        assert_eq!(h.destination, sa("192.0.2.1:5060"));
        assert_eq!(h.header_len, 16 + p.len());
    }

    #[test]
    fn v2_proxy_inet6() {
        let src: Ipv6Addr = "2001:db8::7".parse().unwrap();
        let dst: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let mut p = src.octets().to_vec();
        p.extend_from_slice(&dst.octets());
        p.extend_from_slice(&[0x9c, 0x40, 0x13, 0xc5]);
        let h = check_fragments(&v2(0x21, 0x21, &p));
        assert_eq!(h.source, sa("[2001:db8::7]:40000"));
        assert_eq!(h.destination, sa("[2001:db8::1]:5061"));
    }

    #[test]
    fn v2_local_unspec_and_unix_keep_the_connection_address() {
        let h = check_fragments(&v2(0x20, 0x00, &[]));
        assert_eq!((h.header_len, h.source), (16, None));
        // LOCAL with addresses: still ignored.
        let h = parsed(&v2(0x20, 0x11, &[1; 12]));
        assert_eq!((h.header_len, h.source), (28, None));
        let h = parsed(&v2(0x21, 0x31, &[0; 216]));
        assert_eq!((h.header_len, h.source), (232, None));
        let h = parsed(&v2(0x21, 0x00, &[]));
        assert_eq!(h.source, None);
    }

    #[test]
    fn v2_errors() {
        assert_eq!(
            parse(&v2(0x11, 0x11, &[0; 12])),
            Err(ProxyError::V2Version(1))
        );
        assert_eq!(
            parse(&v2(0x22, 0x11, &[0; 12])),
            Err(ProxyError::V2Command(2))
        );
        // The version is checked as soon as its byte arrives.
        assert_eq!(
            parse(&v2(0x31, 0x11, &[])[..13]),
            Err(ProxyError::V2Version(3))
        );
        assert_eq!(
            parse(&v2(0x21, 0x11, &[0; 8])),
            Err(ProxyError::V2Truncated(8))
        );
        assert_eq!(
            parse(&v2(0x21, 0x21, &[0; 12])),
            Err(ProxyError::V2Truncated(12))
        );
        let mut big = v2(0x21, 0x11, &[]);
        big[14..16].copy_from_slice(&((V2_MAX_PAYLOAD + 1) as u16).to_be_bytes());
        assert_eq!(
            parse(&big),
            Err(ProxyError::V2TooLong(16 + V2_MAX_PAYLOAD + 1))
        );
        assert_eq!(parse(b"\r\n\r\n\0\r\nQUIX"), Err(ProxyError::Missing));
        assert_eq!(parse(b"\r\n\r\n"), Ok(Parse::Incomplete));
    }

    #[test]
    fn every_prefix_of_garbage_is_rejected_or_incomplete_never_panics() {
        let inputs: [&[u8]; 4] = [
            b"PROXY TCP4 \xff\xfe 1 2\r\n",
            b"PROXY \r\n",
            b"PROXY\r\n",
            &[
                0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11,
                0xff, 0xff,
            ],
        ];
        for input in inputs {
            for n in 0..=input.len() {
                let _ = parse(&input[..n]);
            }
            assert!(parse(input).is_err(), "{input:?}");
        }
    }
}
