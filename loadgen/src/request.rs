//! Request formatting: REGISTER and OPTIONS written into a caller's buffer from a per-socket
//! template, with the transaction's slot and generation encoded in Call-ID and branch so a
//! response maps back to its table slot in O(1) without allocating.

use crate::wbuf::{parse_hex, WBuf};

/// Which request the load consists of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// REGISTER for `sip:user{i}@{domain}`.
    Register,
    /// OPTIONS to the target (keepalive load).
    Options,
}

impl Method {
    /// The method token.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Register => "REGISTER",
            Method::Options => "OPTIONS",
        }
    }
}

/// Everything a request needs that does not change between requests of one socket.
#[derive(Debug, Clone)]
pub struct Template {
    method: Method,
    start_and_via: Vec<u8>,
    from_open: Vec<u8>,
    from_close: Vec<u8>,
    to_close: Vec<u8>,
    call_id_open: Vec<u8>,
    cseq_close: Vec<u8>,
    contact_close: Vec<u8>,
    call_id_prefix: Vec<u8>,
    user_prefix: Vec<u8>,
    expires: u32,
}

/// What varies per request.
#[derive(Debug, Clone, Copy)]
pub struct Vary {
    /// User index: the AOR is `sip:{prefix}{user}@{domain}`.
    pub user: u64,
    /// CSeq number.
    pub cseq: u32,
    /// Table slot of the transaction.
    pub slot: u32,
    /// Generation of the slot (makes Call-ID and branch unique per transaction).
    pub gen: u32,
}

/// Inputs for [`Template::new`].
#[derive(Debug, Clone)]
pub struct TemplateSpec<'a> {
    /// REGISTER or OPTIONS.
    pub method: Method,
    /// Domain of the AORs.
    pub domain: &'a str,
    /// User part prefix (`user`).
    pub user_prefix: &'a str,
    /// `UDP`, `TCP` or `TLS`.
    pub transport: &'a str,
    /// Local `ip:port` (Via sent-by and Contact host).
    pub local: &'a str,
    /// Target `ip:port` (OPTIONS Request-URI and To).
    pub target: &'a str,
    /// Random per-process run id (keeps Call-IDs unique across runs).
    pub run: u64,
    /// Socket/connection index inside the process.
    pub task: u32,
    /// Expires value for REGISTER.
    pub expires: u32,
}

impl Template {
    /// Builds the constant pieces.
    pub fn new(s: &TemplateSpec<'_>) -> Self {
        let ruri = match s.method {
            Method::Register => format!("sip:{}", s.domain),
            Method::Options => format!("sip:{}", s.target),
        };
        let call_id_prefix = format!("{:x}-{:x}-", s.run, s.task).into_bytes();
        let start_and_via = format!(
            "{} {} SIP/2.0\r\nVia: SIP/2.0/{} {};branch=z9hG4bK{:x}.{:x}.",
            s.method.as_str(),
            ruri,
            s.transport,
            s.local,
            s.run,
            s.task
        )
        .into_bytes();
        let from_open =
            format!(";rport\r\nMax-Forwards: 70\r\nFrom: <sip:{}", s.user_prefix).into_bytes();
        let from_close = format!("@{}>;tag=", s.domain).into_bytes();
        let to_close = match s.method {
            Method::Register => format!("@{}>", s.domain),
            Method::Options => String::new(),
        }
        .into_bytes();
        let call_id_open = b"\r\nCall-ID: ".to_vec();
        let cseq_close = format!(" {}\r\n", s.method.as_str()).into_bytes();
        let tparam = if s.transport.eq_ignore_ascii_case("udp") {
            String::new()
        } else {
            format!(";transport={}", s.transport.to_ascii_lowercase())
        };
        let contact_close = format!("@{}{}>\r\nExpires: ", s.local, tparam).into_bytes();
        let mut t = Template {
            method: s.method,
            start_and_via,
            from_open,
            from_close,
            to_close,
            call_id_open,
            cseq_close,
            contact_close,
            call_id_prefix,
            user_prefix: s.user_prefix.as_bytes().to_vec(),
            expires: s.expires,
        };
        if s.method == Method::Options {
            // OPTIONS: To is the target itself, no Contact/Expires.
            t.to_close = format!("{}>", s.target).into_bytes();
        }
        t
    }

    /// The request method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// Formats one request into `out`; `None` if it does not fit.
    pub fn write(&self, out: &mut [u8], v: Vary) -> Option<usize> {
        let mut w = WBuf::new(out);
        w.put(&self.start_and_via)
            .hex(u64::from(v.slot))
            .put(b".")
            .hex(u64::from(v.gen))
            .put(&self.from_open)
            .dec(v.user)
            .put(&self.from_close)
            .hex(u64::from(v.gen))
            .put(b"\r\nTo: <sip:");
        match self.method {
            Method::Register => {
                w.put(&self.user_prefix).dec(v.user).put(&self.to_close);
            }
            Method::Options => {
                w.put(&self.to_close);
            }
        }
        w.put(&self.call_id_open)
            .put(&self.call_id_prefix)
            .hex(u64::from(v.slot))
            .put(b"-")
            .hex(u64::from(v.gen))
            .put(b"\r\nCSeq: ")
            .dec(u64::from(v.cseq))
            .put(&self.cseq_close);
        if self.method == Method::Register {
            w.put(b"Contact: <sip:")
                .put(&self.user_prefix)
                .dec(v.user)
                .put(&self.contact_close)
                .dec(u64::from(self.expires))
                .put(b"\r\n");
        }
        w.put(b"Content-Length: 0\r\n\r\n");
        if w.overflowed() {
            None
        } else {
            Some(w.len())
        }
    }

    /// Recovers `(slot, gen)` from a Call-ID this template produced; `None` for foreign ones.
    pub fn parse_call_id(&self, call_id: &[u8]) -> Option<(u32, u32)> {
        let rest = call_id.strip_prefix(self.call_id_prefix.as_slice())?;
        let dash = rest.iter().position(|&c| c == b'-')?;
        let slot = parse_hex(&rest[..dash])?;
        let gen = parse_hex(&rest[dash + 1..])?;
        Some((u32::try_from(slot).ok()?, u32::try_from(gen).ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(method: Method) -> TemplateSpec<'static> {
        TemplateSpec {
            method,
            domain: "example.com",
            user_prefix: "user",
            transport: "UDP",
            local: "127.0.0.1:40000",
            target: "127.0.0.1:5060",
            run: 0xabc,
            task: 3,
            expires: 3600,
        }
    }

    #[test]
    fn register_is_well_formed_and_round_trips_ids() {
        let t = Template::new(&spec(Method::Register));
        let mut buf = [0u8; 1024];
        let v = Vary {
            user: 42,
            cseq: 7,
            slot: 0x1f,
            gen: 9,
        };
        let n = t.write(&mut buf, v).expect("fits");
        let s = std::str::from_utf8(&buf[..n]).expect("utf8");
        assert!(s.starts_with("REGISTER sip:example.com SIP/2.0\r\n"), "{s}");
        assert!(s.contains("Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKabc.3.1f.9;rport\r\n"));
        assert!(s.contains("From: <sip:user42@example.com>;tag=9\r\n"));
        assert!(s.contains("To: <sip:user42@example.com>\r\n"));
        assert!(s.contains("Call-ID: abc-3-1f-9\r\n"));
        assert!(s.contains("CSeq: 7 REGISTER\r\n"));
        assert!(s.contains("Contact: <sip:user42@127.0.0.1:40000>\r\nExpires: 3600\r\n"));
        assert!(s.ends_with("Content-Length: 0\r\n\r\n"));
        assert_eq!(t.parse_call_id(b"abc-3-1f-9"), Some((0x1f, 9)));
        assert_eq!(t.parse_call_id(b"abc-4-1f-9"), None);
        assert_eq!(t.parse_call_id(b"abc-3-zz-9"), None);
    }

    #[test]
    fn options_targets_the_target() {
        let t = Template::new(&spec(Method::Options));
        let mut buf = [0u8; 1024];
        let v = Vary {
            user: 1,
            cseq: 1,
            slot: 0,
            gen: 0,
        };
        let n = t.write(&mut buf, v).expect("fits");
        let s = std::str::from_utf8(&buf[..n]).expect("utf8");
        assert!(
            s.starts_with("OPTIONS sip:127.0.0.1:5060 SIP/2.0\r\n"),
            "{s}"
        );
        assert!(s.contains("To: <sip:127.0.0.1:5060>\r\n"));
        assert!(!s.contains("Contact"));
    }

    #[test]
    fn too_small_buffer_is_none() {
        let t = Template::new(&spec(Method::Register));
        let mut buf = [0u8; 50];
        let v = Vary {
            user: 1,
            cseq: 1,
            slot: 0,
            gen: 0,
        };
        assert!(t.write(&mut buf, v).is_none());
    }
}
