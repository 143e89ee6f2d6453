//! RFC 4475 torture-test conformance: walks MANIFEST.tsv and checks every message against its
//! expected class (`valid`, `invalid`, `semantic`), the exact failure of each invalid one, specific
//! facts about individual messages, stream framing and the byte-exact round trip.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{corpus_dir, load_manifest, Entry};
use sip::{
    frame, parse, percent_decode, validate_request, Contact, Frame, HeaderName, Limits, Message,
    Method, StartLine, Uri,
};

/// The first problem a stateless element would find in `b`, as `"stage: error"`, or `"ok"`.
/// Stages: `parse`, `validate` (requests), then the typed accessors the director uses.
fn diagnose(b: &[u8]) -> String {
    let m = match parse(b) {
        Err(e) => return format!("parse: {e:?}"),
        Ok(m) => m,
    };
    if m.is_request() {
        if let Err(e) = validate_request(&m) {
            return format!("validate: {e:?}");
        }
    }
    accessor_failure(&m).unwrap_or_else(|| "ok".to_string())
}

fn accessor_failure(m: &Message<'_>) -> Option<String> {
    let fail = |name: &str, e: sip::ParseError| Some(format!("{name}: {e:?}"));
    if let Err(e) = m.top_via() {
        return fail("top_via", e);
    }
    if let Some(Err(e)) = m.vias().find(Result::is_err) {
        return fail("vias", e);
    }
    match m.from() {
        Err(e) => return fail("from", e),
        Ok(n) => {
            if let Err(e) = n.parsed_uri() {
                return fail("from uri", e);
            }
        }
    }
    match m.to() {
        Err(e) => return fail("to", e),
        Ok(n) => {
            if let Err(e) = n.parsed_uri() {
                return fail("to uri", e);
            }
        }
    }
    if let Err(e) = m.cseq() {
        return fail("cseq", e);
    }
    if let Err(e) = m.call_id() {
        return fail("call_id", e);
    }
    if let Err(e) = m.max_forwards() {
        return fail("max_forwards", e);
    }
    if let Err(e) = m.expires() {
        return fail("expires", e);
    }
    for c in m.contacts() {
        match c {
            Err(e) => return fail("contacts", e),
            Ok(c) => {
                if let Err(e) = c.expires() {
                    return fail("contact expires", e);
                }
            }
        }
    }
    if let Some(u) = m.request_uri() {
        if let Err(e) = Uri::parse(u) {
            return fail("request uri", e);
        }
    }
    if let Err(e) = m.date() {
        return fail("date", e);
    }
    None
}

/// Expected outcome of [`diagnose`] for every message that is not plainly "ok".
const EXPECTED_FAILURES: &[(&str, &str)] = &[
    // 3.1.2 invalid
    (
        "badinv01.dat",
        "validate: Header { name: Via, error: BadVia }",
    ),
    (
        "clerr.dat",
        "parse: BodyTruncated { declared: 9999, available: 154 }",
    ),
    ("ncl.dat", "parse: BadContentLength"),
    (
        "scalar02.dat",
        "validate: Header { name: CSeq, error: BadCSeq }",
    ),
    ("scalarlg.dat", "cseq: BadCSeq"),
    (
        "quotbal.dat",
        "validate: Header { name: To, error: UnterminatedQuote }",
    ),
    ("ltgtruri.dat", "validate: RequestUri(BadUri)"),
    ("lwsruri.dat", "parse: BadStartLine"),
    ("lwsstart.dat", "parse: BadStartLine"),
    ("trws.dat", "parse: BadStartLine"),
    ("escruri.dat", "validate: RequestUriHeaders"),
    ("baddate.dat", "date: BadDate"),
    (
        "regbadct.dat",
        "validate: Header { name: Contact, error: BadNameAddr }",
    ),
    (
        "badaspec.dat",
        "validate: Header { name: To, error: BadNameAddr }",
    ),
    // The archive copy lacks the blank line ending the head (see the corpus README).
    ("baddn.dat", "parse: UnterminatedHead"),
    ("badvers.dat", "validate: BadVersion"),
    (
        "mismatch01.dat",
        "validate: CSeqMethodMismatch { unknown_method: false }",
    ),
    (
        "mismatch02.dat",
        "validate: CSeqMethodMismatch { unknown_method: true }",
    ),
    ("bigcode.dat", "parse: BadStatusCode"),
    // 3.3 semantic messages that a stateless element must refuse
    ("insuf.dat", "validate: Missing(From)"),
    ("multi01.dat", "validate: Repeated(From)"),
    ("mcl01.dat", "parse: DuplicateContentLength"),
];

fn expected_for(file: &str) -> &'static str {
    EXPECTED_FAILURES
        .iter()
        .find(|(f, _)| *f == file)
        .map_or("ok", |(_, e)| e)
}

fn get(entries: &[Entry], file: &str) -> Vec<u8> {
    entries
        .iter()
        .find(|e| e.file == file)
        .unwrap_or_else(|| panic!("{file} missing"))
        .bytes
        .clone()
}

fn decoded(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    percent_decode(s, &mut out).unwrap();
    out
}

#[test]
fn manifest_classes_and_expected_failures() {
    let entries = load_manifest();
    assert_eq!(entries.len(), 49, "RFC 4475 has 49 messages");
    let mut problems = Vec::new();
    for e in &entries {
        let got = diagnose(&e.bytes);
        let want = expected_for(&e.file);
        match e.expected.as_str() {
            "valid" => {
                if got != "ok" {
                    problems.push(format!("{} ({}) valid but: {got}", e.file, e.section));
                }
            }
            "invalid" => {
                if got == "ok" {
                    problems.push(format!("{} ({}) invalid but accepted", e.file, e.section));
                }
            }
            "semantic" => {}
            other => panic!("unknown class {other} for {}", e.file),
        }
        if got != want {
            problems.push(format!("{}: expected `{want}`, got `{got}`", e.file));
        }
    }
    for (f, _) in EXPECTED_FAILURES {
        assert!(
            entries.iter().any(|e| e.file == *f),
            "table names unknown file {f}"
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn round_trip_every_parsed_message() {
    for e in load_manifest() {
        if let Ok(m) = parse(&e.bytes) {
            let mut out = Vec::new();
            m.write_to(&mut out);
            assert_eq!(out, m.as_bytes(), "{}", e.file);
            assert!(e.bytes.starts_with(m.as_bytes()), "{}", e.file);
        }
        sip::fuzz::parse_roundtrip(&e.bytes);
    }
}

#[test]
fn baddn_terminated_variant_fails_on_display_name() {
    let b = std::fs::read(corpus_dir().join("variants/baddn-terminated.dat")).unwrap();
    assert_eq!(
        diagnose(&b),
        "validate: Header { name: From, error: BadNameAddr }"
    );
}

#[test]
fn scalar_overflows_are_errors_not_wraps() {
    let b = get(&load_manifest(), "scalar02.dat");
    let m = parse(&b).unwrap();
    assert_eq!(m.cseq(), Err(sip::ParseError::BadCSeq));
    assert_eq!(m.max_forwards(), Err(sip::ParseError::BadMaxForwards));
    assert_eq!(m.expires(), Err(sip::ParseError::BadExpires));
    let c = m.contacts().next().unwrap().unwrap();
    assert_eq!(c.expires(), Err(sip::ParseError::BadExpires));
    let b = get(&load_manifest(), "badinv01.dat");
    let m = parse(&b).unwrap();
    assert!(m.top_via().is_err());
    assert!(m.contacts().next().unwrap().is_err());
}

#[test]
fn escapes() {
    let entries = load_manifest();
    let b = get(&entries, "esc01.dat");
    let m = parse(&b).unwrap();
    let ruri = Uri::parse(m.request_uri().unwrap()).unwrap();
    assert_eq!(decoded(ruri.user.unwrap()), b"sips:user@example.com");
    assert_eq!(ruri.host, b"example.net");
    assert_eq!(
        decoded(m.to().unwrap().parsed_uri().unwrap().user.unwrap()),
        b"user"
    );
    assert_eq!(
        decoded(m.from().unwrap().parsed_uri().unwrap().user.unwrap()),
        b"I have spaces"
    );
    let c = m.contacts().next().unwrap().unwrap();
    let cu = c.name_addr().unwrap().parsed_uri().unwrap();
    assert_eq!(decoded(cu.user.unwrap()), b"caller");
    assert_eq!(decoded(cu.param(b"n%61me").unwrap().unwrap()), b"value%41");
    assert_eq!(m.header(HeaderName::ContentType).unwrap().raw_name, b"C");

    let b = get(&entries, "escnull.dat");
    let m = parse(&b).unwrap();
    assert_eq!(
        decoded(m.to().unwrap().parsed_uri().unwrap().user.unwrap()),
        b"null-\0-null"
    );
    let users: Vec<Vec<u8>> = m
        .contacts()
        .map(|c| {
            decoded(
                c.unwrap()
                    .name_addr()
                    .unwrap()
                    .parsed_uri()
                    .unwrap()
                    .user
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(users, vec![b"\0".to_vec(), b"\0\0".to_vec()]);

    let b = get(&entries, "esc02.dat");
    let m = parse(&b).unwrap();
    assert_eq!(m.method(), Some(Method::Other(b"RE%47IST%45R")));
    assert_eq!(m.contacts().count(), 2);
    assert_eq!(m.to().unwrap().display_name, Some(&b"%Z%45"[..]));
}

#[test]
fn semiuri_user_part() {
    let b = get(&load_manifest(), "semiuri.dat");
    let m = parse(&b).unwrap();
    let u = Uri::parse(m.request_uri().unwrap()).unwrap();
    assert_eq!(u.user, Some(&b"user;par=u%40example.net"[..]));
    assert_eq!(decoded(u.user.unwrap()), b"user;par=u@example.net");
    assert_eq!(u.host, b"example.com");
    assert_eq!(u.params, b"");
}

#[test]
fn longreq_and_wsinv() {
    let entries = load_manifest();
    let b = get(&entries, "longreq.dat");
    let m = parse(&b).unwrap();
    assert_eq!(m.as_bytes().len(), 3515);
    let vias: Vec<_> = m.vias().map(Result::unwrap).collect();
    assert_eq!(vias.len(), 34);
    assert_eq!(vias[0].host, b"sip33.example.com");
    let branch = vias[33].branch().unwrap();
    assert_eq!(
        branch,
        format!("very{}branchvalue", "long".repeat(50)).as_bytes()
    );
    let to = m.to().unwrap();
    assert!(to
        .display_name
        .unwrap()
        .windows(70)
        .any(|w| w == "extreme".repeat(10).as_bytes()));
    let tag = m.from().unwrap().tag().unwrap();
    assert_eq!(tag, format!("12{}424", "982".repeat(50)).as_bytes());

    let b = get(&entries, "wsinv.dat");
    let m = parse(&b).unwrap();
    assert_eq!(m.vias().count(), 3);
    assert_eq!(m.max_forwards(), Ok(Some(68)));
    let cseq = m.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (9, Method::Invite));
    assert_eq!(m.from().unwrap().tag(), Some(&b"98asjd8"[..]));
    assert_eq!(m.to().unwrap().tag(), Some(&b"1918181833n"[..]));
    let c = m.contacts().next().unwrap().unwrap();
    assert_eq!(c.q_millis(), Some(330));
    assert_eq!(
        c.name_addr().unwrap().param(b"newparam"),
        Some(Some(&b"newvalue"[..]))
    );
    assert_eq!(
        m.vias().nth(2).unwrap().unwrap().branch(),
        Some(&b"z9hG4bK30239"[..])
    );
    assert_eq!(m.body().len(), 150);
}

#[test]
fn bodies_and_trailing_octets() {
    let entries = load_manifest();
    let b = get(&entries, "dblreq.dat");
    let m = parse(&b).unwrap();
    assert_eq!(m.body(), b"");
    assert!(m.as_bytes().ends_with(b"Content-Length: 0\r\n\r\n"));
    assert!(!m.as_bytes().windows(6).any(|w| w == b"INVITE"));
    assert_eq!(m.method(), Some(Method::Register));

    let b = get(&entries, "mpart01.dat");
    let m = parse(&b).unwrap();
    assert_eq!(m.body().len(), 553);

    let b = get(&entries, "inv2543.dat");
    let m = parse(&b).unwrap();
    assert_eq!(m.content_length(), Ok(None));
    assert_eq!(m.body().len(), 105);
    assert_eq!(m.top_via().unwrap().branch(), None);
}

#[test]
fn reason_phrases() {
    let entries = load_manifest();
    let b = get(&entries, "unreason.dat");
    let m = parse(&b).unwrap();
    let StartLine::Response { code, reason } = m.start_line() else {
        panic!("not a response")
    };
    assert_eq!(code, 200);
    let reason = std::str::from_utf8(reason).unwrap();
    assert!(reason.starts_with("= 2**3 * 5**2 "));
    assert!(reason.ends_with("простое"));
    assert!(reason.contains("сто"));

    let b = get(&entries, "noreason.dat");
    let m = parse(&b).unwrap();
    assert_eq!(
        m.start_line(),
        StartLine::Response {
            code: 100,
            reason: b""
        }
    );
}

#[test]
fn misc_valid_facts() {
    let entries = load_manifest();
    let b = get(&entries, "transports.dat");
    let m = parse(&b).unwrap();
    let t: Vec<_> = m.vias().map(|v| v.unwrap().transport).collect();
    assert_eq!(t, vec![&b"UDP"[..], b"SCTP", b"TLS", b"UNKNOWN", b"TCP"]);

    let b = get(&entries, "intmeth.dat");
    let m = parse(&b).unwrap();
    assert!(m.method().unwrap().is_other());
    assert!(m.to().unwrap().display_name.unwrap().contains(&0));
    assert_eq!(m.cseq().unwrap().method, m.method().unwrap());

    let b = get(&entries, "lwsdisp.dat");
    assert_eq!(
        parse(&b).unwrap().from().unwrap().display_name,
        Some(&b"caller"[..])
    );

    let b = get(&entries, "cparam01.dat");
    let m = parse(&b).unwrap();
    let Contact::Addr(n) = m.contacts().next().unwrap().unwrap() else {
        panic!()
    };
    assert_eq!(n.param(b"unknownparam"), Some(None));
    assert_eq!(n.parsed_uri().unwrap().param(b"unknownparam"), None);
    let b = get(&entries, "cparam02.dat");
    let m = parse(&b).unwrap();
    let Contact::Addr(n) = m.contacts().next().unwrap().unwrap() else {
        panic!()
    };
    assert_eq!(n.param(b"unknownparam"), None);
    assert_eq!(n.parsed_uri().unwrap().param(b"unknownparam"), Some(None));

    let b = get(&entries, "regescrt.dat");
    let m = parse(&b).unwrap();
    let Contact::Addr(n) = m.contacts().next().unwrap().unwrap() else {
        panic!()
    };
    assert_eq!(
        n.parsed_uri().unwrap().headers,
        b"Route=%3Csip:sip.example.com%3E"
    );

    let b = get(&entries, "zeromf.dat");
    assert_eq!(parse(&b).unwrap().max_forwards(), Ok(Some(0)));
}

fn frameable(entries: &[Entry]) -> Vec<(String, Vec<u8>)> {
    entries
        .iter()
        .filter(|e| e.expected == "valid")
        .map(|e| (e.file.clone(), parse(&e.bytes).unwrap().as_bytes().to_vec()))
        .collect()
}

#[test]
fn frame_byte_by_byte() {
    let limits = Limits::default();
    for (file, msg) in frameable(&load_manifest()) {
        for i in 0..msg.len() {
            assert_eq!(
                frame(&msg[..i], &limits),
                Ok(Frame::Incomplete),
                "{file} at {i}"
            );
        }
        assert_eq!(
            frame(&msg, &limits),
            Ok(Frame::Complete { len: msg.len() }),
            "{file}"
        );
    }
}

#[test]
fn frame_back_to_back_with_keepalives() {
    let limits = Limits::default();
    let msgs = frameable(&load_manifest());
    for pair in msgs.windows(2) {
        let (a, b) = (&pair[0].1, &pair[1].1);
        let mut stream = a.clone();
        stream.extend_from_slice(b"\r\n\r\n");
        stream.extend_from_slice(b);
        let mut pos = 0;
        let mut got = Vec::new();
        while pos < stream.len() {
            match frame(&stream[pos..], &limits).unwrap() {
                Frame::Complete { len } => {
                    let m = parse(&stream[pos..pos + len]).unwrap();
                    assert_eq!(m.as_bytes().len(), len);
                    got.push(len);
                    pos += len;
                }
                Frame::KeepAlive { len } => {
                    assert_eq!(len, 4);
                    pos += len;
                }
                Frame::Incomplete => panic!("{} then {} incomplete at {pos}", pair[0].0, pair[1].0),
            }
        }
        assert_eq!(got, vec![a.len(), b.len()]);
    }
}

#[test]
fn frame_rejects_bad_lengths_on_streams() {
    let entries = load_manifest();
    let limits = Limits::default();
    assert_eq!(
        frame(&get(&entries, "ncl.dat"), &limits),
        Err(sip::FrameError::BadContentLength)
    );
    assert_eq!(
        frame(&get(&entries, "mcl01.dat"), &limits),
        Err(sip::FrameError::DuplicateContentLength)
    );
    assert_eq!(
        frame(&get(&entries, "clerr.dat"), &limits),
        Ok(Frame::Incomplete)
    );
}
