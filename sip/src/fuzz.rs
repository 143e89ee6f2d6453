//! Fuzzing hook shared by the cargo-fuzz target (`sip/fuzz`) and the proptest suite: parses
//! arbitrary bytes and, on success, checks the round trip and exercises every accessor and the
//! framer. It must never panic except on a real invariant violation.

use crate::{frame, parse, percent_decode, validate_request, Frame, Limits, Uri};

/// Parses `data`; if it parses, asserts `write_to == as_bytes`, that framing agrees with the
/// parse when the message carries a Content-Length, and runs every typed accessor.
pub fn parse_roundtrip(data: &[u8]) {
    let limits = Limits {
        max_message: usize::MAX,
        max_headers: usize::MAX,
        max_line: usize::MAX,
    };
    let framed = frame(data, &limits);
    let Ok(msg) = parse(data) else {
        return;
    };
    let mut out = Vec::with_capacity(msg.as_bytes().len());
    msg.write_to(&mut out);
    assert_eq!(out, msg.as_bytes(), "serialisation must be byte-exact");
    assert!(msg.head_len() <= msg.as_bytes().len());
    assert_eq!(msg.body().len(), msg.as_bytes().len() - msg.head_len());
    if msg.offset_in_input() == 0 && msg.content_length().ok().flatten().is_some() {
        if let Ok(Frame::Complete { len }) = framed {
            assert_eq!(len, msg.as_bytes().len(), "frame and parse must agree");
        }
    }
    let _ = msg.start_line();
    let _ = (msg.method(), msg.status(), msg.reason(), msg.version());
    for h in msg.headers() {
        assert_eq!(msg.as_bytes().get(h.value_range.clone()), Some(h.value));
        assert!(h.line.end <= msg.head_len());
    }
    let _ = msg.call_id();
    let _ = msg.cseq();
    let _ = msg.top_via().map(|v| (v.branch(), v.received(), v.rport()));
    msg.vias().for_each(drop);
    let mut buf = Vec::new();
    for n in [msg.from(), msg.to()].into_iter().flatten() {
        let _ = n.tag();
        if let Ok(u) = n.parsed_uri() {
            let _ = u.param(b"transport");
            if let Some(user) = u.user {
                buf.clear();
                let _ = percent_decode(user, &mut buf);
            }
        }
    }
    let _ = msg.max_forwards();
    let _ = msg.expires();
    let _ = msg.date();
    for c in msg.contacts().flatten() {
        let _ = (c.q_millis(), c.expires());
    }
    if let Some(u) = msg.request_uri() {
        let _ = Uri::parse(u);
    }
    let _ = validate_request(&msg);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoke() {
        parse_roundtrip(b"");
        parse_roundtrip(b"\r\n\r\n");
        parse_roundtrip(b"OPTIONS sip:a SIP/2.0\r\nl: 0\r\n\r\n");
        parse_roundtrip(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP [::1\r\n\r\n");
    }
}
