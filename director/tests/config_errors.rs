//! Broken configurations: every error names `FILE:LINE:COL`, the field path and the problem.

use director::config::{Config, ConfigError, Problem};

/// A valid configuration; the tests below break one thing at a time.
const BASE: &str = r#"[director]
mode = "redirect"
expires = 3600

[[listen]]
address = "127.0.0.1:5060"
transport = "udp"

[[pool]]
id = "pool1"
backup = "pool2"

[[pool.registrar]]
id = "fe1.pool1.example.com"
contact = "sip:fe1.pool1.example.com:5061;transport=TLS"

[[pool]]
id = "pool2"
backup = "pool1"

[[pool.registrar]]
id = "se1.pool2.example.com"
contact = "sip:se1.pool2.example.com:5061;transport=TLS"

[[pool.registrar]]
id = "se2.pool2.example.com"
contact = "sip:se2.pool2.example.com:5061;transport=TLS"
"#;

fn error_of(text: &str) -> String {
    match Config::parse(text, "broken.toml") {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// `BASE` with the first occurrence of `from` replaced by `to`.
fn broken(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from:?} not in BASE");
    BASE.replacen(from, to, 1)
}

#[test]
fn base_is_valid() {
    let config = Config::parse(BASE, "base.toml").expect("BASE is valid");
    assert_eq!(config.topology.pools().len(), 2);
}

#[test]
fn toml_syntax_error() {
    let text = broken(
        "[[pool.registrar]]\nid = \"se1",
        "[[pool.registrar]\nid = \"se1",
    );
    assert_eq!(
        error_of(&text),
        "broken.toml:21:18: unclosed array table, expected `]`"
    );
}

#[test]
fn unknown_field_is_a_typo() {
    let text = broken("contact = \"sip:se1", "contct = \"sip:se1");
    assert_eq!(
        error_of(&text),
        "broken.toml:23:1: field `pool[1].registrar[0].contct`: unknown field `contct`, \
         expected one of `id`, `contact`, `weight`, `address`, `drained`"
    );
}

#[test]
fn wrong_type() {
    let text = broken("expires = 3600", "expires = \"1h\"");
    assert_eq!(
        error_of(&text),
        "broken.toml:3:11: field `director.expires`: invalid type: string \"1h\", expected u32"
    );
}

#[test]
fn unknown_mode() {
    let text = broken("mode = \"redirect\"", "mode = \"forward\"");
    assert_eq!(
        error_of(&text),
        "broken.toml:2:8: field `director.mode`: unknown variant `forward`, expected `redirect` or `proxy`"
    );
}

#[test]
fn missing_contact() {
    let text = broken(
        "contact = \"sip:se2.pool2.example.com:5061;transport=TLS\"\n",
        "",
    );
    assert_eq!(
        error_of(&text),
        "broken.toml:25:1: field `pool[1].registrar[1]`: missing field `contact`"
    );
}

#[test]
fn unknown_backup_pool() {
    let text = broken("backup = \"pool1\"", "backup = \"pool9\"");
    assert_eq!(
        error_of(&text),
        "broken.toml:19:10: field `pool[1].backup`: unknown backup pool `pool9`"
    );
}

#[test]
fn backup_is_self() {
    let text = broken("backup = \"pool2\"", "backup = \"pool1\"");
    assert_eq!(
        error_of(&text),
        "broken.toml:11:10: field `pool[0].backup`: pool `pool1` cannot be its own backup"
    );
}

#[test]
fn duplicate_pool_id() {
    let text = broken("id = \"pool2\"", "id = \"pool1\"");
    assert_eq!(
        error_of(&text),
        "broken.toml:18:6: field `pool[1].id`: duplicate pool id `pool1` (first defined on line 10)"
    );
}

#[test]
fn duplicate_registrar_id_across_pools() {
    let text = broken(
        "id = \"se2.pool2.example.com\"",
        "id = \"fe1.pool1.example.com\"",
    );
    assert_eq!(
        error_of(&text),
        "broken.toml:26:6: field `pool[1].registrar[1].id`: duplicate registrar id \
         `fe1.pool1.example.com` (first defined on line 14)"
    );
}

#[test]
fn weight_zero() {
    let text = broken("backup = \"pool1\"\n", "backup = \"pool1\"\nweight = 0\n");
    assert_eq!(
        error_of(&text),
        "broken.toml:20:10: field `pool[1].weight`: weight must be between 1 and 100, got 0"
    );
}

#[test]
fn negative_registrar_weight() {
    let text = broken(
        "contact = \"sip:se2.pool2.example.com:5061;transport=TLS\"",
        "contact = \"sip:se2.pool2.example.com:5061;transport=TLS\"\nweight = -1",
    );
    assert_eq!(
        error_of(&text),
        "broken.toml:28:10: field `pool[1].registrar[1].weight`: invalid value: integer `-1`, expected u32"
    );
}

#[test]
fn no_pools() {
    let text = &BASE[..BASE.find("[[pool]]").expect("pool in BASE")];
    let err = Config::parse(text, "broken.toml").expect_err("no pools");
    assert_eq!(
        err.to_string(),
        "broken.toml: field `pool`: no [[pool]] defined: at least one pool is required"
    );
    assert_eq!(err.invalid().map(|i| &i.problem), Some(&Problem::NoPools));
}

#[test]
fn pool_without_registrars() {
    let text = format!("{BASE}\n[[pool]]\nid = \"pool3\"\n");
    assert_eq!(
        error_of(&text),
        "broken.toml:30:6: field `pool[2]`: pool `pool3` has no [[pool.registrar]]"
    );
}

#[test]
fn bad_contact_uri() {
    let text = broken(
        "sip:se1.pool2.example.com:5061;transport=TLS",
        "se1.pool2.example.com:5061",
    );
    assert_eq!(
        error_of(&text),
        "broken.toml:23:11: field `pool[1].registrar[0].contact`: invalid contact URI \
         `se1.pool2.example.com:5061`: must start with sip: or sips:"
    );
    let text = broken(
        "sip:se1.pool2.example.com:5061;transport=TLS",
        "sip:se1.pool2.example.com:5061;transport=sctp",
    );
    assert!(error_of(&text).starts_with(
        "broken.toml:23:11: field `pool[1].registrar[0].contact`: invalid contact URI"
    ));
    let text = broken(
        "sip:se1.pool2.example.com:5061;transport=TLS",
        "sip:se1.pool2.example.com:99999",
    );
    assert!(error_of(&text).ends_with("invalid port"));
}

#[test]
fn tls_without_certificate() {
    let text = broken("transport = \"udp\"", "transport = \"tls\"");
    assert_eq!(
        error_of(&text),
        "broken.toml:7:13: field `listen[0].transport`: transport tls requires both \
         `certificate` and `private_key`"
    );
}

#[test]
fn certificate_on_udp() {
    let text = broken(
        "transport = \"udp\"",
        "transport = \"udp\"\ncertificate = \"cert.pem\"",
    );
    assert_eq!(
        error_of(&text),
        "broken.toml:8:15: field `listen[0].certificate`: `certificate` applies only to transport tls"
    );
}

#[test]
fn duplicate_listener() {
    let text = broken(
        "transport = \"udp\"\n",
        "transport = \"tcp\"\n\n[[listen]]\naddress = \"127.0.0.1:5060\"\ntransport = \"tls\"\ncertificate = \"c\"\nprivate_key = \"k\"\n",
    );
    assert_eq!(
        error_of(&text),
        "broken.toml:10:11: field `listen[1].address`: duplicate listener 127.0.0.1:5060 \
         over tcp/tls (first defined on line 6)"
    );
}

#[test]
fn bad_listen_address() {
    let text = broken("127.0.0.1:5060", "localhost:5060");
    assert_eq!(
        error_of(&text),
        "broken.toml:6:11: field `listen[0].address`: invalid socket address `localhost:5060`: \
         expected IP:PORT, e.g. 127.0.0.1:5060 or [::1]:5060"
    );
}

#[test]
fn homing_to_unknown_pool() {
    let text = format!("{BASE}\n[[homing]]\nuser = \"alice@example.com\"\npool = \"pool7\"\n");
    assert_eq!(
        error_of(&text),
        "broken.toml:31:8: field `homing[0].pool`: unknown pool `pool7`"
    );
}

#[test]
fn homing_user_not_canonicalizable() {
    let text = format!("{BASE}\n[[homing]]\nuser = \"a%zzlice@example.com\"\npool = \"pool1\"\n");
    assert_eq!(
        error_of(&text),
        "broken.toml:30:8: field `homing[0].user`: invalid user `a%zzlice@example.com`: \
         invalid percent-escape at byte 1 of the user part"
    );
    let text = format!("{BASE}\n[[homing]]\nuser = \"example.com\"\npool = \"pool1\"\n");
    assert!(error_of(&text).starts_with("broken.toml:30:8: field `homing[0].user`: invalid user"));
}

#[test]
fn homing_needs_user_or_domain() {
    let text = format!(
        "{BASE}\n[[homing]]\nuser = \"a@example.com\"\ndomain = \"example.com\"\npool = \"pool1\"\n"
    );
    assert_eq!(
        error_of(&text),
        "broken.toml:29:1: field `homing[0]`: a [[homing]] rule needs exactly one of `user` or `domain`"
    );
}

#[test]
fn duplicate_homing_rule() {
    let text = format!(
        "{BASE}\n[[homing]]\nuser = \"sip:alice@EXAMPLE.com\"\npool = \"pool1\"\n\n[[homing]]\nuser = \"alice@example.com\"\npool = \"pool2\"\n"
    );
    assert_eq!(
        error_of(&text),
        "broken.toml:34:8: field `homing[1].user`: duplicate homing rule for \
         `alice@example.com` (first defined on line 30)"
    );
}

#[test]
fn health_timeout_exceeds_interval() {
    let text = format!("{BASE}\n[health]\ninterval_ms = 1000\ntimeout_ms = 1500\n");
    assert_eq!(
        error_of(&text),
        "broken.toml:31:14: field `health.timeout_ms`: timeout_ms (1500) must not exceed interval_ms (1000)"
    );
}

#[test]
fn all_pools_homed_only() {
    let text = broken(
        "backup = \"pool2\"",
        "backup = \"pool2\"\nhomed_only = true",
    )
    .replacen(
        "backup = \"pool1\"",
        "backup = \"pool1\"\nhomed_only = true",
        1,
    );
    let err = error_of(&text);
    assert!(
        err.starts_with("broken.toml:12:14: field `pool[0].homed_only`: every pool is homed_only"),
        "{err}"
    );
}

#[test]
fn io_error_names_the_file() {
    let err = director::config::load_file(std::path::Path::new("/nonexistent/director.toml"))
        .expect_err("missing file");
    assert!(matches!(err, ConfigError::Io { .. }));
    assert!(
        err.to_string()
            .starts_with("/nonexistent/director.toml: cannot read configuration: "),
        "{err}"
    );
}

#[test]
fn drained_must_be_a_boolean() {
    let text = broken(
        "contact = \"sip:se1",
        "drained = \"yes\"\ncontact = \"sip:se1",
    );
    let err = error_of(&text);
    assert!(
        err.starts_with("broken.toml:23:11: field `pool[1].registrar[0].drained`"),
        "{err}"
    );
}
