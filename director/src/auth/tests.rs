//! Digest verification against RFC vectors and the director's own rules (username bound to
//! the AOR, stale nonces, malformed credentials).

use super::algorithm::Algorithm;
use super::credentials::Credentials;
use super::nonce::{NonceKey, SECRET_LEN};
use super::verify::{client_response, AuthMode, Authenticator, Check, ClientFields, Subject};

fn rfc_fields<'a>(nonce: &'a [u8], cnonce: &'a [u8]) -> ClientFields<'a> {
    ClientFields {
        username: b"Mufasa",
        realm: b"testrealm@host.com",
        password: b"Circle Of Life",
        method: b"GET",
        uri: b"/dir/index.html",
        nonce,
        nc: b"00000001",
        cnonce,
    }
}

#[test]
fn rfc2617_md5_vector() {
    let f = rfc_fields(b"dcd98b7102dd2f0e8b11d0f600bfb0c093", b"0a4f113b");
    assert_eq!(
        client_response(Algorithm::Md5, &f),
        b"6629fae49393a05397450978507c4ef1"
    );
}

#[test]
fn rfc7616_sha256_vector() {
    let f = ClientFields {
        // RFC 7616 spells the password "Circle of Life" (RFC 2617: "Circle Of Life").
        realm: b"http-auth@example.org",
        password: b"Circle of Life",
        ..rfc_fields(
            b"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            b"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        )
    };
    assert_eq!(
        client_response(Algorithm::Sha256, &f),
        b"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    );
}

const REALM: &str = "example.com";
const NOW: u64 = 1_800_000_000;
const URI: &[u8] = b"sip:example.com";

fn authenticator(mode: AuthMode, algorithms: &[Algorithm]) -> Authenticator {
    let users = Credentials::parse(
        "[[user]]\naor = \"alice@example.com\"\npassword = \"wonderland\"\n\
         [[user]]\naor = \"bob@example.com\"\npassword = \"builder\"\n",
        "users.toml",
        REALM,
        algorithms,
    )
    .expect("valid credentials");
    let key = NonceKey::new([42; SECRET_LEN], 300);
    Authenticator::new(mode, REALM, algorithms, key, users)
}

fn digest() -> Authenticator {
    authenticator(AuthMode::Digest, &[Algorithm::Sha256, Algorithm::Md5])
}

fn register(authorization: Option<&str>) -> Vec<u8> {
    let mut m = String::from(
        "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n\
         From: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\nCall-ID: c1\r\n\
         CSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n",
    );
    if let Some(a) = authorization {
        m.push_str(&format!("Authorization: {a}\r\n"));
    }
    m.push_str("Content-Length: 0\r\n\r\n");
    m.into_bytes()
}

const ALICE: Subject<'static> = Subject {
    method: b"REGISTER",
    request_uri: URI,
    aor: b"alice@example.com",
    user: Some(b"alice"),
    cert_identity: None,
};

fn check(
    auth: &Authenticator,
    authorization: Option<&str>,
    subject: Subject<'_>,
    now: u64,
) -> Check {
    let bytes = register(authorization);
    let msg = sip::parse(&bytes).expect("valid request");
    auth.check(&msg, subject, now)
}

/// An `Authorization` value answering `nonce` as `user` with `password`.
fn answer(alg: Algorithm, user: &str, password: &str, nonce: &[u8]) -> String {
    let f = ClientFields {
        username: user.as_bytes(),
        realm: REALM.as_bytes(),
        password: password.as_bytes(),
        method: b"REGISTER",
        uri: URI,
        nonce,
        nc: b"00000001",
        cnonce: b"abcdef",
    };
    let response = client_response(alg, &f);
    format!(
        "Digest username=\"{user}\", realm=\"{REALM}\", nonce=\"{}\", uri=\"sip:example.com\", \
         response=\"{}\", algorithm={alg}, qop=auth, nc=00000001, cnonce=\"abcdef\"",
        String::from_utf8_lossy(nonce),
        String::from_utf8_lossy(&response)
    )
}

fn nonce_from_challenge(auth: &Authenticator, now: u64) -> Vec<u8> {
    let mut out = Vec::new();
    auth.write_challenges(&mut out, now, false);
    let text = String::from_utf8(out).expect("ascii");
    let start = text.find("nonce=\"").expect("nonce") + 7;
    let end = text[start..].find('"').expect("closing quote") + start;
    text.as_bytes()[start..end].to_vec()
}

#[test]
fn challenges_in_configured_order() {
    let auth = digest();
    let mut out = Vec::new();
    auth.write_challenges(&mut out, NOW, true);
    let text = String::from_utf8(out).expect("ascii");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("WWW-Authenticate: Digest realm=\"example.com\", nonce=\""));
    assert!(lines[0].ends_with("algorithm=SHA-256, qop=\"auth\", stale=true"));
    assert!(lines[1].contains("algorithm=MD5"));
}

#[test]
fn correct_answers_pass() {
    let auth = digest();
    let nonce = nonce_from_challenge(&auth, NOW);
    for alg in Algorithm::ALL {
        let a = answer(alg, "alice", "wonderland", &nonce);
        assert_eq!(check(&auth, Some(&a), ALICE, NOW + 10), Check::Ok, "{alg}");
    }
    // Uppercase hex in the response is accepted; an absent algorithm means MD5.
    let a = answer(Algorithm::Md5, "alice", "wonderland", &nonce).replace(", algorithm=MD5", "");
    assert_eq!(check(&auth, Some(&a), ALICE, NOW), Check::Ok);
}

#[test]
fn failures() {
    let auth = digest();
    let nonce = nonce_from_challenge(&auth, NOW);
    let ok = answer(Algorithm::Sha256, "alice", "wonderland", &nonce);
    assert_eq!(
        check(&auth, None, ALICE, NOW),
        Check::Challenge { stale: false }
    );
    let wrong = answer(Algorithm::Sha256, "alice", "guess", &nonce);
    assert_eq!(check(&auth, Some(&wrong), ALICE, NOW), Check::Forbidden);
    // Bob's correct credentials do not open Alice's AOR.
    let bob = answer(Algorithm::Sha256, "bob", "builder", &nonce);
    assert_eq!(check(&auth, Some(&bob), ALICE, NOW), Check::Forbidden);
    // Expired nonce with the right password: stale; with the wrong one: forbidden.
    assert_eq!(
        check(&auth, Some(&ok), ALICE, NOW + 301),
        Check::Challenge { stale: true }
    );
    assert_eq!(
        check(&auth, Some(&wrong), ALICE, NOW + 301),
        Check::Forbidden
    );
    // A nonce we never minted.
    let forged = answer(Algorithm::Sha256, "alice", "wonderland", &[b'0'; 48]);
    assert_eq!(
        check(&auth, Some(&forged), ALICE, NOW),
        Check::Challenge { stale: false }
    );
    // Another realm's credentials are ignored: challenge.
    let other = ok.replace("realm=\"example.com\"", "realm=\"elsewhere\"");
    assert_eq!(
        check(&auth, Some(&other), ALICE, NOW),
        Check::Challenge { stale: false }
    );
    // Digest-uri not the Request-URI.
    let uri = ok.replace("uri=\"sip:example.com\"", "uri=\"sip:other.com\"");
    assert_eq!(
        check(&auth, Some(&uri), ALICE, NOW),
        Check::BadRequest("Authorization URI Mismatch")
    );
    // Malformed, missing cnonce with qop, unsupported qop.
    let broken = ok.replace("nonce=\"", "nonce=");
    assert!(matches!(
        check(&auth, Some(&broken), ALICE, NOW),
        Check::BadRequest(_)
    ));
    let no_cnonce = ok.replace(", cnonce=\"abcdef\"", "");
    assert!(matches!(
        check(&auth, Some(&no_cnonce), ALICE, NOW),
        Check::BadRequest(_)
    ));
    let int = ok.replace("qop=auth", "qop=auth-int");
    assert_eq!(
        check(&auth, Some(&int), ALICE, NOW),
        Check::BadRequest("Unsupported qop")
    );
    // An algorithm not offered: challenge again.
    let md5_only = authenticator(AuthMode::Digest, &[Algorithm::Md5]);
    assert_eq!(
        check(&md5_only, Some(&ok), ALICE, NOW),
        Check::Challenge { stale: false }
    );
    // A Basic header is not ours.
    assert_eq!(
        check(&auth, Some("Basic YWxpY2U6d29uZGVybGFuZA=="), ALICE, NOW),
        Check::Challenge { stale: false }
    );
    // A user not in the file.
    let carol = Subject {
        aor: b"carol@example.com",
        user: Some(b"carol"),
        ..ALICE
    };
    let a = answer(Algorithm::Sha256, "carol", "x", &nonce);
    assert_eq!(check(&auth, Some(&a), carol, NOW), Check::Forbidden);
}

#[test]
fn nonce_from_another_director_with_the_same_secret() {
    let a = digest();
    let b = digest();
    let nonce = nonce_from_challenge(&a, NOW);
    let ans = answer(Algorithm::Md5, "alice", "wonderland", &nonce);
    assert_eq!(check(&b, Some(&ans), ALICE, NOW + 1), Check::Ok);
}

#[test]
fn certificates() {
    let cert = authenticator(AuthMode::TlsClientCert, &[Algorithm::Sha256]);
    let with = |id: &'static [u8]| Subject {
        cert_identity: Some(id),
        ..ALICE
    };
    assert_eq!(
        check(&cert, None, with(b"alice@example.com"), NOW),
        Check::Ok
    );
    assert_eq!(
        check(&cert, None, with(b"bob@example.com"), NOW),
        Check::Forbidden
    );
    assert_eq!(check(&cert, None, ALICE, NOW), Check::Forbidden);
    let either = authenticator(AuthMode::DigestOrCert, &[Algorithm::Sha256]);
    assert_eq!(
        check(&either, None, with(b"alice@example.com"), NOW),
        Check::Ok
    );
    assert_eq!(
        check(&either, None, with(b"bob@example.com"), NOW),
        Check::Challenge { stale: false }
    );
    let none = authenticator(AuthMode::None, &[Algorithm::Sha256]);
    assert_eq!(check(&none, None, ALICE, NOW), Check::Ok);
}
