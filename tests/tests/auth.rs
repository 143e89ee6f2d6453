//! `[auth] mode = "digest"` with the real binary over UDP: a REGISTER without credentials gets
//! `401` with SHA-256 and MD5 challenges and no trace of the topology; correct SHA-256 and MD5
//! answers get the 301; a wrong password and another user's credentials get 403; an expired
//! nonce gets `401 stale=true`. The client side of digest is computed here independently.

use std::net::{SocketAddr, UdpSocket};

use md5::Md5;
use sha2::{Digest, Sha256};
use system_tests::process::scratch_dir;
use system_tests::sip_client::{parse_answer, register, udp_exchange, udp_socket, Answer};
use system_tests::{oracle, Director, Topology};

const REALM: &str = "example.com";
const ALICE: &str = "sip:alice@example.com";

fn hex_digest(alg: &str, text: &str) -> String {
    let bytes: Vec<u8> = match alg {
        "SHA-256" => Sha256::digest(text.as_bytes()).to_vec(),
        "MD5" => Md5::digest(text.as_bytes()).to_vec(),
        other => panic!("no algorithm {other}"),
    };
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `Authorization` header line answering `nonce` (RFC 2617 3.2.2, qop=auth).
fn authorization(alg: &str, user: &str, password: &str, nonce: &str) -> String {
    let uri = "sip:example.com";
    let (nc, cnonce) = ("00000001", "c0ffee42");
    let ha1 = hex_digest(alg, &format!("{user}:{REALM}:{password}"));
    let ha2 = hex_digest(alg, &format!("REGISTER:{uri}"));
    let response = hex_digest(alg, &format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"));
    format!(
        "Authorization: Digest username=\"{user}\", realm=\"{REALM}\", nonce=\"{nonce}\", \
         uri=\"{uri}\", response=\"{response}\", algorithm={alg}, qop=auth, nc={nc}, \
         cnonce=\"{cnonce}\"\r\n"
    )
}

struct Client {
    sock: UdpSocket,
    local: SocketAddr,
    to: SocketAddr,
    n: u64,
}

impl Client {
    fn send(&mut self, aor: &str, extra: &str) -> Answer {
        self.n += 1;
        let req = register(aor, self.local, "UDP", self.n);
        let req = req.replacen("Content-Length: 0", &format!("{extra}Content-Length: 0"), 1);
        let raw = udp_exchange(&self.sock, self.to, req.as_bytes()).expect("an answer");
        parse_answer(&raw)
    }
}

/// The `(algorithm, nonce, stale)` of every challenge, in order.
fn challenges(a: &Answer) -> Vec<(String, String, bool)> {
    let param = |v: &str, name: &str| -> Option<String> {
        let start = v.find(&format!("{name}="))? + name.len() + 1;
        let rest = v[start..].trim_start_matches('"');
        let end = rest.find(['"', ',']).unwrap_or(rest.len());
        Some(rest[..end].to_string())
    };
    a.headers
        .iter()
        .filter(|(n, _)| n == "www-authenticate")
        .map(|(_, v)| {
            assert!(v.starts_with("Digest "), "{v}");
            assert_eq!(param(v, "realm").as_deref(), Some(REALM));
            assert_eq!(param(v, "qop").as_deref(), Some("auth"));
            (
                param(v, "algorithm").expect("algorithm"),
                param(v, "nonce").expect("nonce"),
                param(v, "stale").as_deref() == Some("true"),
            )
        })
        .collect()
}

#[test]
fn digest_before_redirect() {
    let topo = Topology::ring(2, 3, false);
    let dir = scratch_dir("auth");
    let users = dir.join("users.toml");
    std::fs::write(
        &users,
        "[[user]]\naor = \"alice@example.com\"\npassword = \"wonderland\"\n\n\
         [[user]]\naor = \"bob@example.com\"\npassword = \"builder\"\n",
    )
    .expect("write users");
    let config = format!(
        "{}\n[auth]\nmode = \"digest\"\nrealm = \"{REALM}\"\ncredentials = \"{}\"\nnonce_lifetime_s = 2\n",
        topo.to_toml(&[("127.0.0.1:0", "udp")], 1),
        users.display()
    );
    let director = Director::start(&config);
    let sock = udp_socket();
    let local = sock.local_addr().expect("local address");
    let mut client = Client {
        sock,
        local,
        to: director.udp(),
        n: 0,
    };

    // No credentials: 401, SHA-256 offered first, and nothing about the registrars.
    let a = client.send(ALICE, "");
    assert_eq!(
        (a.code, a.reason.as_str()),
        (401, "Unauthorized"),
        "{}",
        a.raw
    );
    let ch = challenges(&a);
    let algs: Vec<&str> = ch.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(algs, ["SHA-256", "MD5"]);
    assert!(ch.iter().all(|c| !c.2), "not stale");
    assert!(
        a.contacts.is_empty() && a.header("contact").is_none(),
        "{}",
        a.raw
    );
    assert!(!a.raw.contains("pool"), "topology revealed: {}", a.raw);
    let nonce = ch[0].1.clone();

    // Correct answers with either algorithm: the 301 of the design.
    let (primary, backup) = oracle::expected_contacts(&topo, ALICE);
    let want: Vec<(String, String)> = std::iter::once((primary, "0.7".to_string()))
        .chain(backup.map(|b| (b, "0.3".to_string())))
        .collect();
    for alg in ["SHA-256", "MD5"] {
        let a = client.send(ALICE, &authorization(alg, "alice", "wonderland", &nonce));
        assert_eq!(a.code, 301, "{alg}: {}", a.raw);
        assert_eq!(a.contacts, want, "{alg}");
    }

    // A wrong password: 403, no Contact.
    let a = client.send(ALICE, &authorization("SHA-256", "alice", "guess", &nonce));
    assert_eq!((a.code, a.reason.as_str()), (403, "Forbidden"), "{}", a.raw);
    assert!(a.contacts.is_empty());

    // Bob's valid credentials do not register Alice; they do register Bob.
    let a = client.send(ALICE, &authorization("SHA-256", "bob", "builder", &nonce));
    assert_eq!(a.code, 403, "{}", a.raw);
    let a = client.send(
        "sip:bob@example.com",
        &authorization("MD5", "bob", "builder", &nonce),
    );
    assert_eq!(a.code, 301, "{}", a.raw);

    // A nonce we never issued: challenged again, not stale.
    let forged = "0".repeat(48);
    let a = client.send(
        ALICE,
        &authorization("SHA-256", "alice", "wonderland", &forged),
    );
    assert_eq!(a.code, 401, "{}", a.raw);
    assert!(challenges(&a).iter().all(|c| !c.2));

    // Once the nonce is older than nonce_lifetime_s: 401 with stale=true and a fresh nonce
    // that works.
    std::thread::sleep(std::time::Duration::from_millis(3_100));
    let a = client.send(
        ALICE,
        &authorization("SHA-256", "alice", "wonderland", &nonce),
    );
    assert_eq!(a.code, 401, "{}", a.raw);
    let ch = challenges(&a);
    assert!(ch.iter().all(|c| c.2), "stale=true: {}", a.raw);
    assert_ne!(ch[0].1, nonce);
    let a = client.send(
        ALICE,
        &authorization("SHA-256", "alice", "wonderland", &ch[0].1),
    );
    assert_eq!(a.code, 301, "{}", a.raw);

    // Malformed credentials: 400.
    let a = client.send(
        ALICE,
        "Authorization: Digest username=\"alice\", realm=\"example.com\r\n",
    );
    assert_eq!(a.code, 400, "{}", a.raw);

    assert!(director.stop().success());
}
