//! `[auth]` in the decision: a REGISTER is answered 401 until it carries the To user's digest
//! credentials, then redirected (or forwarded in proxy mode); other requests are not challenged.

use std::net::SocketAddr;

use director::auth::verify::client_response;
use director::auth::{Algorithm, ClientFields};
use director::config::Config;
use director::decision::{decide, decide_in_mode, Outcome, Scratch, Source, Verdict};
use director::snapshot::Snapshot;
use director::topology::Mode;

fn snapshot() -> Snapshot {
    let dir = std::env::temp_dir().join(format!("director-decision-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("users.toml"),
        "[[user]]\naor = \"alice@example.com\"\npassword = \"pw\"\n",
    )
    .expect("users");
    let text = "[auth]\nmode = \"digest\"\nrealm = \"example.com\"\ncredentials = \"users.toml\"\n\
        [[pool]]\nid = \"p\"\n[[pool.registrar]]\nid = \"fe1\"\ncontact = \"sip:fe1.example.com\"\n";
    let config = Config::parse(text, &dir.join("d.toml").display().to_string()).expect("config");
    Snapshot::all_up(config.topology, 1)
}

fn source() -> Source<'static> {
    let addr: SocketAddr = "192.0.2.1:5060".parse().expect("addr");
    Source {
        addr,
        stream: false,
        local: "127.0.0.1:5060".parse().expect("addr"),
        conn: None,
        cert_identity: None,
    }
}

fn register(method: &str, auth: &str) -> Vec<u8> {
    format!(
        "{method} sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK7\r\n\
         From: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\nCall-ID: c\r\n\
         CSeq: 1 {method}\r\nMax-Forwards: 70\r\n{auth}Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn nonce_of(out: &[u8]) -> String {
    let text = String::from_utf8_lossy(out);
    let start = text.find("nonce=\"").expect("a challenge") + 7;
    let end = text[start..].find('"').expect("quote") + start;
    text[start..end].to_owned()
}

fn answer(nonce: &str) -> String {
    let f = ClientFields {
        username: b"alice",
        realm: b"example.com",
        password: b"pw",
        method: b"REGISTER",
        uri: b"sip:example.com",
        nonce: nonce.as_bytes(),
        nc: b"00000001",
        cnonce: b"xyz",
    };
    let r = String::from_utf8(client_response(Algorithm::Md5, &f)).expect("hex");
    format!(
        "Authorization: Digest username=\"alice\", realm=\"example.com\", nonce=\"{nonce}\", \
         uri=\"sip:example.com\", response=\"{r}\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"xyz\"\r\n"
    )
}

#[test]
fn challenge_then_redirect_or_forward() {
    let snap = snapshot();
    let mut scratch = Scratch::default();
    let mut out = Vec::new();
    let (v, o) = decide(
        &snap,
        &register("REGISTER", ""),
        source(),
        &mut scratch,
        &mut out,
    );
    assert_eq!(
        (v, o, scratch.code),
        (Verdict::Reply, Outcome::Challenged, 401)
    );
    let text = String::from_utf8_lossy(&out).into_owned();
    assert_eq!(
        text.matches("WWW-Authenticate: Digest").count(),
        2,
        "{text}"
    );
    assert!(
        text.ends_with("Content-Length: 0\r\n\r\n") && !text.contains("fe1"),
        "{text}"
    );
    let auth = answer(&nonce_of(&out));
    let (_, o) = decide(
        &snap,
        &register("REGISTER", &auth),
        source(),
        &mut scratch,
        &mut out,
    );
    assert_eq!((o, scratch.code), (Outcome::Redirected, 301));
    let wrong = auth.replace("username=\"alice\"", "username=\"bob\"");
    let (_, o) = decide(
        &snap,
        &register("REGISTER", &wrong),
        source(),
        &mut scratch,
        &mut out,
    );
    assert_eq!((o, scratch.code), (Outcome::AuthFailed, 403));
    // Proxy mode: forwarded once authenticated.
    let req = register("REGISTER", &auth);
    let (_, o) = decide_in_mode(
        &snap,
        Mode::Proxy,
        &register("REGISTER", ""),
        source(),
        &mut scratch,
        &mut out,
    );
    assert_eq!(o, Outcome::Challenged);
    let (_, o) = decide_in_mode(&snap, Mode::Proxy, &req, source(), &mut scratch, &mut out);
    assert!(
        matches!(o, Outcome::Forwarded | Outcome::Unroutable),
        "{o:?}"
    );
    // Other requests are not challenged.
    let (_, o) = decide(
        &snap,
        &register("INVITE", ""),
        source(),
        &mut scratch,
        &mut out,
    );
    assert_eq!(o, Outcome::Redirected);
}
