//! `[[listen]] proxy_protocol` and `proxy_protocol_from`: accepted on TCP/TLS, refused on UDP,
//! trusted prefixes parsed, every error naming `FILE:LINE:COL` and the field.
#![allow(clippy::unwrap_used)]

use director::config::Config;

const POOLS: &str = r#"
[[pool]]
id = "pool1"

[[pool.registrar]]
id = "fe1.pool1.example.com"
contact = "sip:fe1.pool1.example.com:5061;transport=TLS"
"#;

fn with_listen(listen: &str) -> String {
    format!("[[listen]]\naddress = \"127.0.0.1:5060\"\n{listen}{POOLS}")
}

fn error_of(listen: &str) -> String {
    match Config::parse(&with_listen(listen), "pp.toml") {
        Ok(_) => panic!("expected an error for:\n{listen}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn off_by_default_and_on_with_trusted_sources() {
    let c = Config::parse(&with_listen("transport = \"tcp\"\n"), "pp.toml").unwrap();
    assert!(!c.listeners[0].proxy_protocol);
    assert!(c.listeners[0].proxy_protocol_from.is_empty());

    let text = with_listen(
        "transport = \"tcp\"\nproxy_protocol = true\n\
         proxy_protocol_from = [\"10.0.0.0/8\", \"192.0.2.10\", \"2001:db8::/32\"]\n",
    );
    let c = Config::parse(&text, "pp.toml").unwrap();
    let l = &c.listeners[0];
    assert!(l.proxy_protocol);
    let got: Vec<String> = l
        .proxy_protocol_from
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(got, ["10.0.0.0/8", "192.0.2.10/32", "2001:db8::/32"]);
    assert!(l.proxy_protocol_from[0].contains("10.1.2.3".parse().unwrap()));

    // Without a list every peer may send the header.
    let c = Config::parse(
        &with_listen("transport = \"tcp\"\nproxy_protocol = true\n"),
        "pp.toml",
    )
    .unwrap();
    assert!(c.listeners[0].proxy_protocol && c.listeners[0].proxy_protocol_from.is_empty());
}

#[test]
fn refused_on_udp() {
    assert_eq!(
        error_of("transport = \"udp\"\nproxy_protocol = true\n"),
        "pp.toml:4:18: field `listen[0].proxy_protocol`: `proxy_protocol` applies only to \
         transport tcp or tls"
    );
    // Explicitly off on UDP is fine.
    Config::parse(&with_listen("proxy_protocol = false\n"), "pp.toml").unwrap();
}

#[test]
fn trusted_sources_need_proxy_protocol_and_valid_prefixes() {
    assert_eq!(
        error_of("transport = \"tcp\"\nproxy_protocol_from = [\"10.0.0.0/8\"]\n"),
        "pp.toml:4:23: field `listen[0].proxy_protocol_from`: `proxy_protocol_from` requires \
         `proxy_protocol = true`"
    );
    assert_eq!(
        error_of(
            "transport = \"tcp\"\nproxy_protocol = true\n\
             proxy_protocol_from = [\"10.0.0.0/8\", \"10.0.0.0/33\"]\n"
        ),
        "pp.toml:5:38: field `listen[0].proxy_protocol_from[1]`: invalid address prefix \
         `10.0.0.0/33`: prefix length `33` is not 0..=32 (IPv4) or 0..=128 (IPv6)"
    );
    assert_eq!(
        error_of("transport = \"tcp\"\nproxy_protocol = true\nproxy_protocol_from = [\"lb.example.com\"]\n"),
        "pp.toml:5:24: field `listen[0].proxy_protocol_from[0]`: invalid address prefix \
         `lb.example.com`: `lb.example.com` is not an IP address"
    );
}
