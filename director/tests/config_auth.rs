//! `[auth]`: off by default, every field, the credentials file read relative to the
//! configuration, and errors naming the file, line and field (of either file).

use std::path::PathBuf;

use director::auth::{Algorithm, AuthMode};
use director::config::{ClientCert, Config};

const POOL: &str = r#"
[[pool]]
id = "pool1"

[[pool.registrar]]
id = "fe1"
contact = "sip:fe1.example.com"
"#;

/// A fresh directory holding `users.toml` with `users`; returns the config file path in it.
fn dir_with(users: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("director-config-auth-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("users.toml"), users).expect("write users");
    dir.join("director.toml")
}

const USERS: &str = "[[user]]\naor = \"alice@example.com\"\npassword = \"secret\"\n";

fn parse(auth: &str, users: &str) -> Result<Config, String> {
    let file = dir_with(users);
    let text = format!("{auth}\n{POOL}");
    Config::parse(&text, &file.display().to_string()).map_err(|e| e.to_string())
}

#[test]
fn off_without_a_section_or_with_mode_none() {
    assert!(parse("", USERS).expect("valid").topology.auth().is_none());
    let none = parse("[auth]\nmode = \"none\"\n", USERS).expect("valid");
    assert!(none.topology.auth().is_none());
}

#[test]
fn digest_with_defaults() {
    let c = parse(
        "[auth]\nmode = \"digest\"\nrealm = \"example.com\"\ncredentials = \"users.toml\"\n",
        USERS,
    )
    .expect("valid");
    let auth = c.topology.auth().expect("auth on");
    assert_eq!(auth.mode(), AuthMode::Digest);
    assert_eq!(auth.realm(), "example.com");
    assert_eq!(auth.algorithms(), &[Algorithm::Sha256, Algorithm::Md5]);
    assert!(auth.credentials().get(b"alice@example.com").is_some());
}

#[test]
fn every_field_and_realm_from_domain() {
    let c = parse(
        "[director]\ndomain = \"Example.COM\"\n[auth]\nmode = \"digest\"\ncredentials = \"users.toml\"\n\
         nonce_lifetime_s = 60\nnonce_secret = \"shared-by-all-directors\"\nalgorithms = [\"MD5\"]\n",
        USERS,
    )
    .expect("valid");
    let auth = c.topology.auth().expect("auth on");
    assert_eq!(auth.realm(), "example.com");
    assert_eq!(auth.algorithms(), &[Algorithm::Md5]);
}

#[test]
fn errors_name_line_and_field() {
    let base = "[auth]\nmode = \"digest\"\nrealm = \"example.com\"\ncredentials = \"users.toml\"\n";
    let err =
        |extra: &str, users: &str| parse(&format!("{base}{extra}"), users).expect_err("invalid");
    let e = err("algorithms = [\"SHA-256\", \"SHA-512\"]\n", USERS);
    assert!(
        e.contains(":5:26: field `auth.algorithms`: unknown algorithm `SHA-512`"),
        "{e}"
    );
    let e = err("algorithms = []\n", USERS);
    assert!(e.contains(":5:") && e.contains("at least one"), "{e}");
    let e = err("nonce_lifetime_s = 0\n", USERS);
    assert!(e.contains(":5:20: field `auth.nonce_lifetime_s`"), "{e}");
    let e = err("nonce_secret = \"short\"\n", USERS);
    assert!(
        e.contains("field `auth.nonce_secret`: nonce_secret must be at least 16"),
        "{e}"
    );
    let e = err("", "[[user]]\naor = \"alice@example.com\"\npassword = 7\n");
    assert!(e.contains("users.toml:3:12"), "{e}");
    let e = parse(
        "[auth]\nmode = \"digest\"\nrealm = \"r\"\ncredentials = \"missing.toml\"\n",
        USERS,
    )
    .expect_err("missing file");
    assert!(
        e.contains(":4:15: field `auth.credentials`: cannot read credentials file"),
        "{e}"
    );
    let e = parse(
        "[auth]\nmode = \"digest\"\ncredentials = \"users.toml\"\n",
        USERS,
    )
    .expect_err("no realm");
    assert!(e.contains("field `auth.realm`"), "{e}");
    let e = parse(
        "[auth]\nmode = \"digest\"\nrealm = \"a\\\"b\"\ncredentials = \"users.toml\"\n",
        USERS,
    )
    .expect_err("quote in realm");
    assert!(e.contains("field `auth.realm`"), "{e}");
    let e = parse("[auth]\nmode = \"kerberos\"\n", USERS).expect_err("mode");
    assert!(e.contains(":2:8: field `auth.mode`: unknown mode"), "{e}");
    let e = parse("[auth]\nmode = \"digest-or-cert\"\nrealm = \"r\"\n", USERS)
        .expect_err("digest-or-cert without credentials");
    assert!(e.contains("field `auth.credentials`"), "{e}");
    let e = parse("[auth]\nmode = \"digest\"\nrealm = \"r\"\n", USERS).expect_err("no credentials");
    assert!(e.contains("field `auth.credentials`"), "{e}");
    let e = parse("[auth]\nmod = \"digest\"\n", USERS).expect_err("unknown field");
    assert!(e.contains(":2:1"), "{e}");
}

/// A TLS listener asking for client certificates (files are read at start, not by parse).
const CLIENT_CA_LISTENER: &str = "[[listen]]\naddress = \"127.0.0.1:5061\"\ntransport = \"tls\"\n\
    certificate = \"c.pem\"\nprivate_key = \"k.pem\"\nclient_ca = \"ca.pem\"\n";

#[test]
fn certificate_modes() {
    let text = format!("{CLIENT_CA_LISTENER}[auth]\nmode = \"tls-client-cert\"\nrealm = \"r\"\n");
    let c = parse(&text, USERS).expect("valid");
    let auth = c.topology.auth().expect("auth on");
    assert_eq!(auth.mode(), AuthMode::TlsClientCert);
    assert!(auth.credentials().is_empty());
    // Certificates only: no realm needed (no challenge is ever sent).
    let text = format!("{CLIENT_CA_LISTENER}[auth]\nmode = \"tls-client-cert\"\n");
    parse(&text, USERS).expect("valid without realm");
    let text = "[auth]\nmode = \"digest-or-cert\"\nrealm = \"r\"\ncredentials = \"users.toml\"\n";
    let c = parse(text, USERS).expect("valid");
    assert_eq!(
        c.topology.auth().expect("on").mode(),
        AuthMode::DigestOrCert
    );
}

#[test]
fn certificates_only_without_client_ca_is_refused() {
    let err = parse("[auth]\nmode = \"tls-client-cert\"\nrealm = \"r\"\n", USERS)
        .expect_err("no listener asks for client certificates");
    assert!(err.contains(":2:8: field `auth.mode`"), "{err}");
    assert!(err.contains("client_ca"), "{err}");
}

#[test]
fn client_cert_required_or_optional() {
    let listener = |c: &Config| c.listeners[0].tls.clone().expect("tls").client_cert;
    let c = parse(CLIENT_CA_LISTENER, USERS).expect("valid");
    assert_eq!(listener(&c), ClientCert::Optional, "the default");
    let text = format!("{CLIENT_CA_LISTENER}client_cert = \"required\"\n");
    assert_eq!(
        listener(&parse(&text, USERS).expect("valid")),
        ClientCert::Required
    );
    let text = format!("{CLIENT_CA_LISTENER}client_cert = \"always\"\n");
    let err = parse(&text, USERS).expect_err("unknown value");
    assert!(err.contains(":7:15"), "{err}");
    assert!(
        err.contains("optional") && err.contains("required"),
        "{err}"
    );
    // Without client_ca there is nothing to verify a certificate against.
    let text = "[[listen]]\naddress = \"127.0.0.1:5061\"\ntransport = \"tls\"\n\
        certificate = \"c.pem\"\nprivate_key = \"k.pem\"\nclient_cert = \"required\"\n";
    let err = parse(text, USERS).expect_err("client_cert without client_ca");
    assert!(
        err.ends_with(
            ":6:15: field `listen[0].client_cert`: `client_cert` needs `client_ca` (the CAs \
             client certificates are verified against)"
        ),
        "{err}"
    );
}
