//! Building the director's own responses (301, 200, 400, 4xx/5xx) from a request, statelessly.
//!
//! Everything here writes into a caller-owned `Vec<u8>` whose capacity is reused across messages,
//! so answering a REGISTER allocates nothing. The To tag is derived from the request (Call-ID and
//! From tag), so a retransmitted request gets a byte-identical answer without any stored state.

use std::net::SocketAddr;

use crate::stack_hash::StackHash;
use sip::{HeaderName, Message, Validated, Via};

/// The fixed reason phrase of the redirect, as the reference Director sends it.
pub const REDIRECT_REASON: &str = "Redirect request to Home Server";

/// The Contact URIs of a redirect, primary first.
#[derive(Debug, Clone, Copy)]
pub struct RedirectTargets<'t> {
    /// Contact of the primary registrar (sent with q=0.7).
    pub primary: &'t str,
    /// Contact of the backup registrar (sent with q=0.3), if the user has one.
    pub backup: Option<&'t str>,
}

/// Writes `SIP/2.0 301` with the primary and backup registrars as Contacts.
pub fn write_redirect(
    out: &mut Vec<u8>,
    req: &Message<'_>,
    source: SocketAddr,
    targets: RedirectTargets<'_>,
    expires: u32,
) {
    write_head(out, req, source, 301, REDIRECT_REASON);
    out.extend_from_slice(b"Contact: <");
    out.extend_from_slice(targets.primary.as_bytes());
    out.extend_from_slice(b">;q=0.7\r\n");
    if let Some(backup) = targets.backup {
        out.extend_from_slice(b"Contact: <");
        out.extend_from_slice(backup.as_bytes());
        out.extend_from_slice(b">;q=0.3\r\n");
    }
    out.extend_from_slice(b"Expires: ");
    push_decimal(out, u64::from(expires));
    out.extend_from_slice(b"\r\n");
    finish(out);
}

/// [`write_redirect`] for a request that passed [`sip::validate_request_parts`]: the same bytes,
/// built from the headers validation already found and parsed (no search, no second parse).
pub fn write_redirect_validated(
    out: &mut Vec<u8>,
    req: &Message<'_>,
    parts: &Validated<'_>,
    source: SocketAddr,
    targets: RedirectTargets<'_>,
    expires: u32,
) {
    out.extend_from_slice(REDIRECT_STATUS_LINE);
    let bytes = req.as_bytes();
    let mut first_via = true;
    for i in parts.vias.iter() {
        let Some(h) = req.header_at_index(i) else {
            continue;
        };
        if first_via {
            first_via = false;
            let known = (&parts.top_via, parts.top_via_value.len());
            write_top_via_known(out, h.value, known, source);
        } else {
            copy_header(out, bytes, &h, b"Via");
        }
    }
    if let Some(h) = req.header_at_index(parts.from_index) {
        copy_header(out, bytes, &h, b"From");
    }
    if let Some(h) = req.header_at_index(parts.to_index) {
        copy_header(out, bytes, &h, b"To");
        if parts.to.tag().is_none() {
            // Both ways of copying end the line with CRLF: put the tag before it.
            out.truncate(out.len() - 2);
            out.extend_from_slice(b";tag=");
            let from_tag = parts.from.tag().unwrap_or(b"");
            push_tag_of(out, parts.call_id, from_tag);
            out.extend_from_slice(b"\r\n");
        }
    }
    if let Some(h) = req.header_at_index(parts.call_id_index) {
        copy_header(out, bytes, &h, b"Call-ID");
    }
    if let Some(h) = req.header_at_index(parts.cseq_index) {
        copy_header(out, bytes, &h, b"CSeq");
    }
    push_contact(out, targets.primary, b">;q=0.7\r\n");
    if let Some(backup) = targets.backup {
        push_contact(out, backup, b">;q=0.3\r\n");
    }
    out.extend_from_slice(b"Expires: ");
    push_decimal(out, u64::from(expires));
    out.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
}

fn push_contact(out: &mut Vec<u8>, contact: &str, q: &[u8]) {
    out.extend_from_slice(b"Contact: <");
    out.extend_from_slice(contact.as_bytes());
    out.extend_from_slice(q);
}

/// The 301 status line.
const REDIRECT_STATUS_LINE: &[u8] = b"SIP/2.0 301 Redirect request to Home Server\r\n";

/// Writes `Name: value\r\n` with the value unfolded, as [`write_head`] does. When the request
/// wrote the field exactly that way (canonical name, `": "`, no fold), the line is copied whole
/// (a lone CR inside the value is kept either way).
#[inline]
fn copy_header(out: &mut Vec<u8>, bytes: &[u8], h: &sip::Header<'_>, name: &[u8]) {
    let exact = h.raw_name == name
        && h.value_range.start == h.line.start + name.len() + 2
        && h.value_range.end + 2 == h.line.end
        && bytes.get(h.line.start + name.len()..h.value_range.start) == Some(b": ")
        && !h.folded;
    if let (true, Some(line)) = (exact, bytes.get(h.line.clone())) {
        out.extend_from_slice(line);
        return;
    }
    push_header(out, name, h.value);
}

/// `name: value` and CRLF, the value unfolded (its line breaks and their white space made one
/// space).
fn push_header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    push_unfolded(out, value);
    out.extend_from_slice(b"\r\n");
}

/// Writes a response with no extra headers beyond the copied ones (e.g. `200 OK` to OPTIONS).
pub fn write_simple(
    out: &mut Vec<u8>,
    req: &Message<'_>,
    source: SocketAddr,
    code: u16,
    reason: &str,
) {
    write_head(out, req, source, code, reason);
    finish(out);
}

/// Writes a response with one extra header (e.g. `420 Bad Extension` + `Unsupported`).
pub fn write_with_header(
    out: &mut Vec<u8>,
    req: &Message<'_>,
    source: SocketAddr,
    code: u16,
    reason: &str,
    header: (&str, &[u8]),
) {
    write_head(out, req, source, code, reason);
    out.extend_from_slice(header.0.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(header.1);
    out.extend_from_slice(b"\r\n");
    finish(out);
}

/// Writes `200 OK` to an OPTIONS addressed to the director itself.
pub fn write_options_ok(out: &mut Vec<u8>, req: &Message<'_>, source: SocketAddr) {
    write_head(out, req, source, 200, "OK");
    out.extend_from_slice(b"Allow: REGISTER, OPTIONS, ACK, CANCEL\r\nAccept: application/sdp\r\n");
    finish(out);
}

/// Writes a response carrying `Retry-After` (503 when no registrar can take the user).
pub fn write_retry_after(
    out: &mut Vec<u8>,
    req: &Message<'_>,
    source: SocketAddr,
    code: u16,
    reason: &str,
    retry_after_s: u32,
) {
    write_head(out, req, source, code, reason);
    out.extend_from_slice(b"Retry-After: ");
    push_decimal(out, u64::from(retry_after_s));
    out.extend_from_slice(b"\r\n");
    finish(out);
}

/// Status line, then the headers a response copies from its request (RFC 3261 8.2.6.2): every
/// Via (the top one with `received`/`rport` filled in), From, To (tagged), Call-ID and CSeq.
/// Headers that are missing or unparseable in the request are left out, so this also serves 400s.
fn write_head(out: &mut Vec<u8>, req: &Message<'_>, source: SocketAddr, code: u16, reason: &str) {
    out.extend_from_slice(b"SIP/2.0 ");
    push_decimal(out, u64::from(code));
    out.push(b' ');
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\n");

    let mut first_via = true;
    for h in req.headers_named(HeaderName::Via) {
        if first_via {
            first_via = false;
            write_top_via(out, h.value, source);
        } else {
            push_header(out, b"Via", h.value);
        }
    }
    if let Some(h) = req.header(HeaderName::From) {
        push_header(out, b"From", h.value);
    }
    if let Some(h) = req.header(HeaderName::To) {
        out.extend_from_slice(b"To: ");
        push_unfolded(out, h.value);
        let has_tag = req.to().map(|to| to.tag().is_some()).unwrap_or(true);
        if !has_tag && code > 100 {
            out.extend_from_slice(b";tag=");
            push_tag(out, req);
        }
        out.extend_from_slice(b"\r\n");
    }
    if let Some(h) = req.header(HeaderName::CallId) {
        push_header(out, b"Call-ID", h.value);
    }
    if let Some(h) = req.header(HeaderName::CSeq) {
        push_header(out, b"CSeq", h.value);
    }
}

/// Copies the first Via header line. Its first value gets `received=` (RFC 3261 18.2.1: always,
/// which is allowed and simpler than comparing hosts) and, when the client asked with a bare
/// `rport`, `rport=<source port>` (RFC 3581); a `received`/`rport` it already carried is
/// replaced. Further comma-separated values are copied as they are.
pub(crate) fn write_top_via(out: &mut Vec<u8>, value: &[u8], source: SocketAddr) {
    let (first, rest) = value.split_at(first_value_end(value));
    write_top_via_parsed(out, value, Via::parse(first), rest, source);
}

/// [`write_top_via`] reusing `known`: the top Via a validated request's parts hold, with the
/// length of the raw piece it was parsed from. It is reused when that piece is the one
/// `first_value_end` cuts (it is, unless a `<` or `>` makes the two splitters disagree).
pub(crate) fn write_top_via_known(
    out: &mut Vec<u8>,
    value: &[u8],
    known: (&Via<'_>, usize),
    source: SocketAddr,
) {
    let (first, rest) = value.split_at(first_value_end(value));
    let via = if first.len() == known.1 {
        Ok(*known.0)
    } else {
        Via::parse(first)
    };
    write_top_via_parsed(out, value, via, rest, source);
}

/// [`write_top_via`] with the first value already parsed; `rest` is what follows it.
fn write_top_via_parsed(
    out: &mut Vec<u8>,
    value: &[u8],
    via: Result<Via<'_>, sip::ParseError>,
    rest: &[u8],
    source: SocketAddr,
) {
    out.extend_from_slice(b"Via: ");
    let Ok(via) = via else {
        // Unparseable (only reachable for a 400 about this very Via): echo it unchanged.
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
        return;
    };
    match canonical_sent_by(value, &via) {
        Some(sent_by) => out.extend_from_slice(sent_by),
        None => push_sent_by(out, &via),
    }
    // White space to trim or a quoted value (whose `;` is not a separator) takes the general path.
    let general = |b: &u8| b.is_ascii_whitespace() || *b == b'"';
    let wants_rport = if !via.params_plain() && via.params.iter().any(general) {
        push_via_params_general(out, via.params)
    } else {
        push_via_params_plain(out, via.params)
    };
    out.extend_from_slice(b";received=");
    push_ip(out, source);
    if wants_rport {
        out.extend_from_slice(b";rport=");
        push_decimal(out, u64::from(source.port()));
    }
    push_unfolded(out, rest);
    out.extend_from_slice(b"\r\n");
}

/// `SIP/2.0/UDP host[:port]` written from the parsed Via's pieces (canonical spacing).
fn push_sent_by(out: &mut Vec<u8>, via: &Via<'_>) {
    out.extend_from_slice(via.protocol);
    out.push(b'/');
    out.extend_from_slice(via.version);
    out.push(b'/');
    out.extend_from_slice(via.transport);
    out.push(b' ');
    out.extend_from_slice(via.host);
    if let Some(port) = via.port {
        out.push(b':');
        push_decimal(out, u64::from(port));
    }
}

/// The `SIP/2.0/UDP host[:port]` start of `value` when the request wrote it exactly as the
/// piece-by-piece copy would (no white space around `/` or `:`, one space before the host, the
/// port without leading zeros), so it can be copied as one slice. `via` was parsed from the
/// start of `value`.
fn canonical_sent_by<'v>(value: &'v [u8], via: &Via<'_>) -> Option<&'v [u8]> {
    let base = value.as_ptr() as usize;
    let at = |s: &[u8]| (s.as_ptr() as usize).wrapping_sub(base);
    let version_at = via.protocol.len() + 1;
    let transport_at = version_at + via.version.len() + 1;
    let host_at = transport_at + via.transport.len() + 1;
    let host_end = host_at + via.host.len();
    let laid_out = at(via.protocol) == 0
        && at(via.version) == version_at
        && at(via.transport) == transport_at
        && at(via.host) == host_at
        && value.get(version_at - 1) == Some(&b'/')
        && value.get(transport_at - 1) == Some(&b'/')
        && value.get(host_at - 1) == Some(&b' ');
    if !laid_out {
        return None;
    }
    let end = match via.port {
        None => host_end,
        Some(_) => {
            // The parsed port's digits follow the `:` (the parse read them there); they are
            // what the copy would write unless a leading zero pads them.
            if value.get(host_end) != Some(&b':') {
                return None;
            }
            let digits = value.get(host_end + 1..)?;
            let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 || (n > 1 && digits.first() == Some(&b'0')) {
                return None;
            }
            host_end + 1 + n
        }
    };
    value.get(..end)
}

/// Copies the top Via's parameters but `received` and `rport` (and empty ones), each as
/// `;param`; true when `rport` was there. For parameters without white space (the usual
/// case): runs of kept parameters are copied as one slice, since nothing needs trimming or
/// unfolding.
fn push_via_params_plain(out: &mut Vec<u8>, params: &[u8]) -> bool {
    let mut wants_rport = false;
    let mut run: Option<(usize, usize)> = None;
    let mut at = 0;
    for param in params.split(|&b| b == b';') {
        let (start, end) = (at, at + param.len());
        at = end + 1;
        let name = param.split(|&b| b == b'=').next().unwrap_or(param);
        let is_rport = name.eq_ignore_ascii_case(b"rport");
        wants_rport |= is_rport;
        if name.is_empty() || is_rport || name.eq_ignore_ascii_case(b"received") {
            if let Some((a, b)) = run.take() {
                out.push(b';');
                out.extend_from_slice(params.get(a..b).unwrap_or(&[]));
            }
        } else {
            run = Some((run.map_or(start, |(a, _)| a), end));
        }
    }
    if let Some((a, b)) = run {
        out.push(b';');
        out.extend_from_slice(params.get(a..b).unwrap_or(&[]));
    }
    wants_rport
}

/// [`push_via_params_plain`] for parameters with white space or folds: each trimmed and
/// unfolded.
fn push_via_params_general(out: &mut Vec<u8>, params: &[u8]) -> bool {
    let mut wants_rport = false;
    for param in split_params(params) {
        let param = param.trim_ascii();
        let name = param
            .split(|&b| b == b'=')
            .next()
            .unwrap_or(param)
            .trim_ascii();
        if name.is_empty() || name.eq_ignore_ascii_case(b"received") {
            continue;
        }
        if name.eq_ignore_ascii_case(b"rport") {
            wants_rport = true;
            continue;
        }
        out.push(b';');
        push_unfolded(out, param);
    }
    wants_rport
}

/// Via parameters split at each `;` outside a quoted string (inside one, `\` escapes the next
/// byte), as the parser reads them: a quoted value may hold `;`. An unterminated quote runs to
/// the end.
fn split_params(params: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(params);
    std::iter::from_fn(move || {
        let s = rest?;
        let (mut i, mut quoted) = (0, false);
        while let Some(&b) = s.get(i) {
            match b {
                b'\\' if quoted => i += 1,
                b'"' => quoted = !quoted,
                b';' if !quoted => break,
                _ => {}
            }
            i += 1;
        }
        let end = i.min(s.len());
        rest = s.get(end + 1..).filter(|_| end < s.len());
        s.get(..end)
    })
}

/// Content-Length and the blank line that ends every response we send.
fn finish(out: &mut Vec<u8>) {
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
}

/// A To tag that depends only on the request, so retransmissions get the same answer.
fn push_tag(out: &mut Vec<u8>, req: &Message<'_>) {
    let call_id = req.call_id().unwrap_or(b"");
    let from_tag = req.from().ok().and_then(|f| f.tag()).unwrap_or(b"");
    push_tag_of(out, call_id, from_tag);
}

fn push_tag_of(out: &mut Vec<u8>, call_id: &[u8], from_tag: &[u8]) {
    // XXH3 of `call_id || 0 || from_tag`, gathered on the stack when it fits (the usual case).
    let mut h = StackHash::default();
    h.update(call_id);
    h.update(b"\0");
    h.update(from_tag);
    push_hex(out, h.digest());
}

/// Appends `v` as 16 lower-case hex digits.
pub(crate) fn push_hex(out: &mut Vec<u8>, v: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..16).rev() {
        out.push(HEX[((v >> (shift * 4)) & 0xf) as usize]);
    }
}

/// Appends `v` in decimal without going through `fmt` (no allocation, no formatter machinery).
pub fn push_decimal(out: &mut Vec<u8>, v: u64) {
    let mut buf = [0u8; sip::MAX_DECIMAL_LEN];
    out.extend_from_slice(sip::decimal(v, &mut buf));
}

fn push_ip(out: &mut Vec<u8>, addr: SocketAddr) {
    use std::io::Write;
    match addr {
        SocketAddr::V4(a) => {
            // Formatted on the stack, then one copy.
            let mut buf = [0u8; 15];
            let mut n = 0;
            for (i, &b) in a.ip().octets().iter().enumerate() {
                if i > 0 {
                    buf[n] = b'.';
                    n += 1;
                }
                if b >= 100 {
                    buf[n] = b'0' + b / 100;
                    n += 1;
                }
                if b >= 10 {
                    buf[n] = b'0' + (b / 10) % 10;
                    n += 1;
                }
                buf[n] = b'0' + b % 10;
                n += 1;
            }
            out.extend_from_slice(&buf[..n]);
        }
        // RFC 3261 `received` takes the bare IPv6 address; Vec writes cannot fail.
        SocketAddr::V6(a) => {
            let _ = write!(out, "{}", a.ip());
        }
    }
}

/// End of the first comma-separated value of a header, skipping commas inside quoted strings.
pub(crate) fn first_value_end(v: &[u8]) -> usize {
    // Without a comma there is one value (the usual case): no byte-by-byte quote tracking.
    if memchr::memchr(b',', v).is_none() {
        return v.len();
    }
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, &b) in v.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match b {
            b'\\' if in_quotes => escaped = true,
            b'"' => in_quotes = !in_quotes,
            b',' if !in_quotes => return i,
            _ => {}
        }
    }
    v.len()
}

/// Copies a header value, replacing each line fold (CRLF followed by white space) with one
/// space, so every header we send fits on one line (RFC 3261 7.3.1 makes them equivalent).
fn push_unfolded(out: &mut Vec<u8>, value: &[u8]) {
    let mut rest = value;
    while let Some(cr) = memchr::memchr(b'\r', rest) {
        out.extend_from_slice(&rest[..cr]);
        let after = &rest[cr..];
        let fold = after.len() >= 3 && after[1] == b'\n' && matches!(after[2], b' ' | b'\t');
        if fold {
            out.push(b' ');
            let ws = after[2..]
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
            rest = &after[2 + ws..];
        } else {
            out.push(b'\r');
            rest = &after[1..];
        }
    }
    out.extend_from_slice(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_parameters_split_outside_quotes_only() {
        fn split(p: &[u8]) -> Vec<&[u8]> {
            split_params(p).collect()
        }
        assert_eq!(split(b"a;b=1"), [&b"a"[..], b"b=1"]);
        assert_eq!(split(b"x=\"a;b\";y"), [&b"x=\"a;b\""[..], b"y"]);
        assert_eq!(split(b"x=\"a\\\";b\";y"), [&b"x=\"a\\\";b\""[..], b"y"]);
        assert_eq!(split(b"x=\"open;y"), [&b"x=\"open;y"[..]]);
        assert_eq!(split(b"a;"), [&b"a"[..], b""]);
        assert_eq!(split(b""), [&b""[..]]);
    }

    #[test]
    fn a_quoted_via_parameter_survives_the_rewrite() {
        let source: SocketAddr = "198.51.100.7:5060".parse().unwrap();
        for value in [
            "SIP/2.0/UDP h;x=\"a;;rport;received=1\";branch=z9hG4bK1",
            "SIP/2.0/UDP h ; x = \"a ; b\" ; branch=z9hG4bK1",
            "SIP/2.0/UDP h;x=\"a;\r\r=\r;\u{c}\";branch=z9hG4bK1",
        ] {
            let mut out = Vec::new();
            write_top_via(&mut out, value.as_bytes(), source);
            let line = out
                .strip_prefix(b"Via: ")
                .unwrap()
                .strip_suffix(b"\r\n")
                .unwrap();
            let via = sip::Via::parse(line).unwrap_or_else(|e| panic!("{value:?}: {e:?}"));
            assert_eq!(via.branch(), Some(&b"z9hG4bK1"[..]), "{value:?}");
            assert_eq!(via.received(), Some(&b"198.51.100.7"[..]), "{value:?}");
            assert!(
                line.windows(3).any(|w| w == b"x=\"") || line.windows(5).any(|w| w == b"x = \""),
                "{value:?} -> {:?}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn tag_is_the_same_short_or_long() {
        for (c, f) in [
            (0usize, 0usize),
            (10, 5),
            (200, 55),
            (200, 56),
            (255, 0),
            (300, 10),
        ] {
            let (call_id, from_tag) = (vec![b'c'; c], vec![b'f'; f]);
            let mut h = xxhash_rust::xxh3::Xxh3::new();
            h.update(&call_id);
            h.update(b"\0");
            h.update(&from_tag);
            let (mut want, mut got) = (Vec::new(), Vec::new());
            push_hex(&mut want, h.digest());
            push_tag_of(&mut got, &call_id, &from_tag);
            assert_eq!(got, want, "{c} {f}");
        }
    }

    #[test]
    fn ipv4_received_is_dotted_decimal() {
        for ip in [
            "0.0.0.0",
            "1.2.3.4",
            "10.100.255.9",
            "255.255.255.255",
            "192.0.2.10",
        ] {
            let mut out = Vec::new();
            push_ip(&mut out, SocketAddr::new(ip.parse().unwrap(), 1));
            assert_eq!(out, ip.as_bytes());
        }
    }

    #[test]
    fn first_value_end_with_and_without_commas() {
        assert_eq!(first_value_end(b"a;b=c"), 5);
        assert_eq!(first_value_end(b"a, b"), 1);
        assert_eq!(first_value_end(b"\"x,y\" a, b"), 7);
        assert_eq!(first_value_end(b""), 0);
    }

    /// Where the sent-by prefix is copied whole, it equals the piece-by-piece copy.
    #[test]
    fn canonical_sent_by_equals_pieces() {
        let cases: [(&[u8], bool); 8] = [
            (b"SIP/2.0/UDP 10.0.0.1:5060;branch=x", true),
            (b"SIP/2.0/UDP [::1]:0", true),
            (b"SIP/2.0/TCP host.example.com;rport", true),
            (b"SIP/2.0/UDP h:05060;branch=x", false),
            (b"SIP / 2.0/UDP h", false),
            (b"SIP/2.0/UDP\th", false),
            (b"SIP/2.0/UDP  h:1", false),
            (b"SIP/2.0/UDP h : 1", false),
        ];
        for (value, whole) in cases {
            let via = Via::parse(value).unwrap();
            let mut pieces = Vec::new();
            push_sent_by(&mut pieces, &via);
            let got = canonical_sent_by(value, &via);
            assert_eq!(got.is_some(), whole, "{}", String::from_utf8_lossy(value));
            if let Some(got) = got {
                assert_eq!(got, &pieces[..]);
            }
        }
    }

    /// The run-copying parameter writer agrees with the one that trims and unfolds each.
    #[test]
    fn plain_via_params_match_general() {
        for params in [
            &b"branch=z9hG4bK1;rport"[..],
            b"rport;branch=x",
            b"a;;b;received=1.2.3.4;RPORT=7;c=d;Received",
            b"",
            b";",
            b"x=\"q;r\";y",
            b"rport",
            b"branch=a;maddr=b;ttl=1",
        ] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let ra = push_via_params_plain(&mut a, params);
            let rb = push_via_params_general(&mut b, params);
            assert_eq!((a, ra), (b, rb), "{}", String::from_utf8_lossy(params));
        }
    }

    /// The validated writer gives the same bytes as the general one, however the request
    /// spells its headers.
    #[test]
    fn validated_redirect_matches_general_writer() {
        let heads = [
            "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\n",
            "v: SIP/2.0/UDP h;received=1.2.3.4;branch=z9hG4bK2, SIP/2.0/TCP g;branch=x\r\nVia: SIP/2.0/TLS k\r\nf: \"A, B\" <sip:a@b>;tag=9\r\nt: <sip:a@b>;tag=old\r\ni: c2\r\nCSeq: 2 REGISTER\r\n",
            "Via :  SIP/2.0/UDP h;rport=9;branch=z9hG4bK3\r\nFROM: <sip:a@b>\r\nTo:\r\n <sip:a@b>\r\nCall-ID:c3\r\nCSeq: 3\r\n REGISTER\r\nMax-Forwards: 5\r\n",
            "Via: SIP/2.0/UDP h;rport;x=1;received=9.9.9.9;y;RPORT=5;z\r\nVia: SIP/2.0/UDP h2;a ; rport\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c5\r\nCSeq: 5 REGISTER\r\n",
            "Via: SIP/2.0/UDP h:05060;branch=z9hG4bK8\r\nv: SIP / 2.0 / UDP h2 : 7;x\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c8\r\nCSeq: 8 REGISTER\r\n",
            "Via: SIP/2.0/UDP\th:0;branch=z9hG4bK9\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c9\r\nCSeq: 9 REGISTER\r\n",
            "Via: SIP/2.0/UDP h;received=1.1.1.1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c6\r\nCSeq: 6 REGISTER\r\n",
            "Via: SIP/2.0/UDP h ; branch=z9hG4bK7 ;rport\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c7\r\nCSeq: 7 REGISTER\r\n",
            "Via: SIP/2.0/UDP h;branch=z9hG4bKa\r\nFrom: \"a\rb\" <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c10\r\nCSeq: 10\r\n   \r\n REGISTER\r\n",
            "Via: SIP/2.0/UDP h: 5062;branch=z9hG4bKd\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c12\r\nCSeq: 12 REGISTER\r\n",
            "Via: SIP/2.0/UDP h;branch=z9hG4bKb\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c11\r\n   \r\nCSeq: 11 REGISTER\r\n",
            "Via: SIP/2.0/UDP [::1]:5070;branch=z9hG4bK4\r\nVia: SIP/2.0/UDP x;branch=y\r\nFrom: sip:a@b;tag=2\r\nTo: sip:a@b\r\nCall-ID: c4\r\nCSeq: 4 REGISTER\r\nContact: <sip:a@h>\r\n",
        ];
        let sources: [SocketAddr; 2] = [
            "192.0.2.1:4000".parse().unwrap(),
            "[2001:db8::1]:5".parse().unwrap(),
        ];
        for head in heads {
            let bytes = format!("REGISTER sip:b SIP/2.0\r\n{head}Content-Length: 0\r\n\r\n");
            let msg = sip::parse(bytes.as_bytes()).unwrap();
            let parts = sip::validate_request_parts(&msg).unwrap();
            for source in sources {
                for backup in [None, Some("sip:se1;transport=tls")] {
                    let targets = RedirectTargets {
                        primary: "sip:fe1.example.com:5061;transport=TLS",
                        backup,
                    };
                    let (mut a, mut b) = (Vec::new(), Vec::new());
                    write_redirect(&mut a, &msg, source, targets, 3600);
                    write_redirect_validated(&mut b, &msg, &parts, source, targets, 3600);
                    assert_eq!(String::from_utf8_lossy(&b), String::from_utf8_lossy(&a));
                }
            }
        }
    }
}
