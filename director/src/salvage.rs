//! A best-effort `400 Bad Request` for a request the codec could not parse at all (a broken
//! start line or header section), so the client learns why instead of retransmitting into
//! silence. It copies the header lines a response must carry (Via, From, To, Call-ID, CSeq)
//! by name alone; without a Via and a Call-ID there is no one to answer and nothing is written.
//! From, To, Call-ID and CSeq are copied once (the first of each), and at most [`MAX_VIAS`] Via
//! lines, so the answer to a request with too many header fields still parses
//! ([`sip::MAX_HEADERS`]).

/// Header names a response copies, long and compact forms.
const COPIED: [(&[u8], &[u8]); 5] = [
    (b"via", b"v"),
    (b"from", b"f"),
    (b"to", b"t"),
    (b"call-id", b"i"),
    (b"cseq", b"cseq"),
];

/// Most Via lines copied: with one each of From, To, Call-ID, CSeq and Content-Length, the
/// response stays within [`sip::MAX_HEADERS`] header fields.
pub const MAX_VIAS: usize = sip::MAX_HEADERS - 5;

/// Writes `SIP/2.0 400 <reason>` into `out` if `bytes` looks like a request that names its
/// sender. Returns whether anything was written.
pub fn write_bad_request(out: &mut Vec<u8>, bytes: &[u8], reason: &str) -> bool {
    out.clear();
    // The parser skips CRLFs before the start line; so does this check.
    let head = bytes.trim_ascii_start();
    if head.starts_with(b"SIP/") || head.starts_with(b"ACK ") || head.is_empty() {
        // A response, an ACK (never answered, RFC 3261 17.2.1) or nothing.
        return false;
    }
    out.extend_from_slice(b"SIP/2.0 400 ");
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\n");
    // Lines copied per name in `COPIED` (Via may repeat, the others are copied once).
    let mut copied = [0usize; COPIED.len()];
    let mut copying = false;
    for line in bytes.split(|&b| b == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line.iter().any(|&b| b == b'\r' || b == 0) {
            copying = false;
            continue;
        }
        if matches!(line.first(), Some(b' ' | b'\t')) {
            if copying {
                // Unfold: a continuation line joins the header being copied.
                out.truncate(out.len() - 2);
                out.push(b' ');
                out.extend_from_slice(line.trim_ascii());
                out.extend_from_slice(b"\r\n");
            }
            continue;
        }
        copying = false;
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        let Some(which) = COPIED.iter().position(|(long, short)| {
            name.eq_ignore_ascii_case(long) || name.eq_ignore_ascii_case(short)
        }) else {
            continue;
        };
        let limit = if which == 0 { MAX_VIAS } else { 1 };
        if copied[which] >= limit {
            continue;
        }
        copied[which] += 1;
        copying = true;
        let value = line[colon + 1..].trim_ascii();
        out.extend_from_slice(line[..colon].trim_ascii());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    if copied[0] == 0 || copied[3] == 0 {
        out.clear();
        return false;
    }
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_and_responses_are_never_answered() {
        let mut out = Vec::new();
        for bytes in [
            &b"ACK sip:h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\ni: c\r\nBad\r\n\r\n"[..],
            b"\r\nACK sip:h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\ni: c\r\nBad\r\n\r\n",
            b"\r\nSIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\ni: c\r\nBad\r\n\r\n",
            b"\r\n\r\n",
        ] {
            assert!(!write_bad_request(&mut out, bytes, "Bad"), "{bytes:?}");
            assert!(out.is_empty());
        }
        let invite = b"\r\nINVITE sip:h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\ni: c\r\nBad\r\n\r\n";
        assert!(write_bad_request(&mut out, invite, "Bad"));
    }

    #[test]
    fn too_many_header_fields_still_get_a_parseable_answer() {
        let mut req = b"OPTIONS sip:h SIP/2.0\r\n".to_vec();
        for i in 0..200 {
            req.extend_from_slice(format!("v: SIP/2.0/UDP h:{i};branch=z9hG4bK{i}\r\n").as_bytes());
            req.extend_from_slice(b"t: <sip:h>\r\ni: call\r\n");
        }
        req.extend_from_slice(b"\r\n");
        assert!(
            sip::parse(&req).is_err(),
            "the request itself has too many fields"
        );
        let mut out = Vec::new();
        assert!(write_bad_request(&mut out, &req, "Too Many Headers"));
        let resp = sip::parse(&out).expect("the answer parses");
        assert_eq!(resp.status(), Some(400));
        assert_eq!(resp.vias().count(), MAX_VIAS);
        let names: Vec<_> = resp.headers().map(|h| h.name).collect();
        assert_eq!(names.len(), sip::MAX_HEADERS - 2, "{names:?}");
        let count = |n| names.iter().filter(|&&x| x == n).count();
        assert_eq!(count(sip::HeaderName::To), 1);
        assert_eq!(count(sip::HeaderName::CallId), 1);
        // The first Via is the one the answer goes back to.
        assert!(resp.vias().next().is_some_and(|v| v.is_ok()));
    }

    #[test]
    fn no_via_or_no_call_id_means_no_answer() {
        let mut out = Vec::new();
        assert!(!write_bad_request(
            &mut out,
            b"OPTIONS x\r\ni: c\r\n\r\n",
            "r"
        ));
        assert!(out.is_empty());
        let req = b"OPTIONS x\r\nv: SIP/2.0/UDP h\r\n\r\n";
        assert!(!write_bad_request(&mut out, req, "r"));
    }
}
