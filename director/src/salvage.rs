//! A best-effort `400 Bad Request` for a request the codec could not parse at all (a broken
//! start line or header section), so the client learns why instead of retransmitting into
//! silence. It copies the header lines a response must carry (Via, From, To, Call-ID, CSeq)
//! by name alone; without a Via and a Call-ID there is no one to answer and nothing is written.

/// Header names a response copies, long and compact forms.
const COPIED: [(&[u8], &[u8]); 5] = [
    (b"via", b"v"),
    (b"from", b"f"),
    (b"to", b"t"),
    (b"call-id", b"i"),
    (b"cseq", b"cseq"),
];

/// Writes `SIP/2.0 400 <reason>` into `out` if `bytes` looks like a request that names its
/// sender. Returns whether anything was written.
pub fn write_bad_request(out: &mut Vec<u8>, bytes: &[u8], reason: &str) -> bool {
    out.clear();
    if bytes.starts_with(b"SIP/") || bytes.is_empty() {
        return false; // a response, or nothing: never answer those
    }
    out.extend_from_slice(b"SIP/2.0 400 ");
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\n");
    let (mut have_via, mut have_call_id) = (false, false);
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
        copying = true;
        let value = line[colon + 1..].trim_ascii();
        out.extend_from_slice(line[..colon].trim_ascii());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
        have_via |= which == 0;
        have_call_id |= which == 3;
    }
    if !(have_via && have_call_id) {
        out.clear();
        return false;
    }
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    true
}
