//! Proxy mode toward registrars reached over TLS (`[proxy]`): the director opens a TLS
//! connection to the registrar, verifies its certificate against the registrar's configured
//! host NAME (`address = "localhost:PORT"`, a certificate without IP SAN) and the `tls_ca`
//! bundle, and relays the registrar's 200 to the UDP client. A certificate from another CA or
//! for another name is refused (nothing reaches the registrar, `tls_handshake` drops counted);
//! `tls_verify = false` accepts it; a missing `tls_ca` stops the start with status 2; replacing
//! the CA file and `POST /reload` takes effect for new connections. Mutual TLS: registrars that
//! require a client certificate (`loadgen registrar --client-ca`) accept the director's
//! `tls_certificate` signed by that CA, and refuse none or another CA's (`tls_handshake`).

use std::ffi::OsStr;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use system_tests::farm_topology::{answered_by, config, farm_topology, home_index, Extra};
use system_tests::http;
use system_tests::pki::TestCa;
use system_tests::process::scratch_dir;
use system_tests::registrar_farm::RegistrarFarm;
use system_tests::sip_client::{parse_answer, register, udp_exchange, udp_socket};
use system_tests::{bin, Director, Topology};

/// Two pools of one TLS registrar each (the farm's listeners), reached as `localhost:PORT`,
/// with `proxy` as the `[proxy]` section.
fn tls_setup(farm: &RegistrarFarm, proxy: &str) -> (Topology, String) {
    let mut topo = farm_topology(&[1, 1], &farm.addrs);
    for p in &mut topo.pools {
        for r in &mut p.registrars {
            r.contact.push_str(";transport=tls");
        }
    }
    let extra = Extra {
        mode: "proxy",
        interval_ms: 0,
        ..Extra::default()
    };
    let mut text = config(&topo, &extra);
    for addr in &farm.addrs {
        let contact = format!("contact = \"sip:{addr};transport=tls\"");
        let with_address = format!("{contact}\naddress = \"localhost:{}\"", addr.port());
        text = text.replacen(&contact, &with_address, 1);
    }
    text.push_str(&format!("\n[proxy]\n{proxy}\n"));
    (topo, text)
}

fn send(sock: &UdpSocket, director: SocketAddr, aor: &str, n: u64) -> Option<String> {
    let local = sock.local_addr().expect("addr");
    udp_exchange(sock, director, register(aor, local, "UDP", n).as_bytes())
}

/// Every user gets the 200 of its home registrar (by the independent placement oracle).
fn assert_all_reach_home(director: &Director, topo: &Topology, users: u64, tag: &str) {
    let sock = udp_socket();
    for n in 0..users {
        let aor = format!("sip:{tag}{n}@example.com");
        let raw =
            send(&sock, director.udp(), &aor, n).unwrap_or_else(|| panic!("no answer for {aor}"));
        let a = parse_answer(&raw);
        assert_eq!(a.code, 200, "{raw}");
        assert!(!raw.contains("z9hG4bKdR"), "our Via is removed: {raw}");
        assert_eq!(answered_by(&raw), home_index(topo, &aor, |_| true), "{aor}");
    }
}

fn tls_handshake_drops(director: &Director) -> u64 {
    let admin = director.listening.admin.expect("admin");
    http::metric(admin, TLS_HANDSHAKE_DROPS)
}

const TLS_HANDSHAKE_DROPS: &str = "director_dataplane_dropped_total{reason=\"tls_handshake\"}";

/// Nothing reaches the registrars, the client gets no answer, handshake failures are counted.
fn assert_refused(director: &Director, farm: &RegistrarFarm) {
    let sock = udp_socket();
    sock.set_read_timeout(Some(Duration::from_millis(700)))
        .expect("timeout");
    for n in 0..4u64 {
        let aor = format!("sip:refused{n}@example.com");
        assert!(
            send(&sock, director.udp(), &aor, n).is_none(),
            "{aor} answered"
        );
    }
    http::wait_for("tls_handshake drops", Duration::from_secs(5), || {
        (tls_handshake_drops(director) >= 1).then_some(())
    });
    for addr in &farm.addrs {
        assert_eq!(farm.received(*addr), 0, "{addr} got a request");
    }
}

#[test]
fn tls_registrars_are_verified_by_host_name_against_tls_ca() {
    let dir = scratch_dir("proxy-tls-ok");
    let ca = TestCa::new(&dir, "good");
    let (cert, key) = ca.dns_leaf(&dir, "localhost");
    let farm = RegistrarFarm::start_tls(2, &cert, &key);
    let (topo, text) = tls_setup(&farm, &format!("tls_ca = \"{}\"", ca.pem.display()));
    let director = Director::start(&text);
    assert_all_reach_home(&director, &topo, 12, "ok");
    let total: u64 = farm.addrs.iter().map(|a| farm.received(*a)).sum();
    assert_eq!(total, 12);
    assert_eq!(tls_handshake_drops(&director), 0);
}

#[test]
fn a_certificate_from_another_ca_is_refused() {
    let dir = scratch_dir("proxy-tls-wrong-ca");
    let good = TestCa::new(&dir, "good");
    let other = TestCa::new(&dir, "other");
    let (cert, key) = other.dns_leaf(&dir, "localhost");
    let farm = RegistrarFarm::start_tls(2, &cert, &key);
    let (_, text) = tls_setup(&farm, &format!("tls_ca = \"{}\"", good.pem.display()));
    let director = Director::start(&text);
    assert_refused(&director, &farm);
}

#[test]
fn a_certificate_for_another_name_is_refused() {
    let dir = scratch_dir("proxy-tls-wrong-name");
    let ca = TestCa::new(&dir, "good");
    let (cert, key) = ca.dns_leaf(&dir, "other.test");
    let farm = RegistrarFarm::start_tls(2, &cert, &key);
    let (_, text) = tls_setup(&farm, &format!("tls_ca = \"{}\"", ca.pem.display()));
    let director = Director::start(&text);
    assert_refused(&director, &farm);
}

#[test]
fn tls_verify_false_accepts_any_certificate() {
    let dir = scratch_dir("proxy-tls-noverify");
    let good = TestCa::new(&dir, "good");
    let other = TestCa::new(&dir, "other");
    let (cert, key) = other.dns_leaf(&dir, "other.test");
    let farm = RegistrarFarm::start_tls(2, &cert, &key);
    let proxy = format!("tls_ca = \"{}\"\ntls_verify = false", good.pem.display());
    let (topo, text) = tls_setup(&farm, &proxy);
    let director = Director::start(&text);
    assert_all_reach_home(&director, &topo, 6, "nv");
    director.log_until("tls_verify = false", Duration::from_secs(5));
}

#[test]
fn a_missing_tls_ca_stops_the_start_with_status_2() {
    let dir = scratch_dir("proxy-tls-missing");
    let missing = dir.join("no-such-ca.pem");
    let farm = RegistrarFarm::start(2, "tcp");
    let (_, text) = tls_setup(&farm, &format!("tls_ca = \"{}\"", missing.display()));
    let file = dir.join("director.toml");
    std::fs::write(&file, text).expect("write config");
    let out = Command::new(bin("director"))
        .arg("--config")
        .arg(&file)
        .output()
        .expect("run director");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening"));
}

#[test]
fn a_replaced_tls_ca_takes_effect_on_admin_reload() {
    let dir = scratch_dir("proxy-tls-reload");
    let good = TestCa::new(&dir, "good");
    let other = TestCa::new(&dir, "other");
    let (cert, key) = good.dns_leaf(&dir, "localhost");
    let farm = RegistrarFarm::start_tls(2, &cert, &key);
    let trusted = dir.join("trusted.pem");
    std::fs::copy(&other.pem, &trusted).expect("copy");
    let (topo, text) = tls_setup(&farm, &format!("tls_ca = \"{}\"", trusted.display()));
    let director = Director::start(&text);
    assert_refused(&director, &farm);

    std::fs::copy(&good.pem, &trusted).expect("copy");
    let admin = director.listening.admin.expect("admin");
    let (code, body) = http::post(admin, "/reload");
    assert_eq!(code, 200, "{body}");
    assert_all_reach_home(&director, &topo, 6, "rl");

    // An unusable file on a later reload is refused (logged); forwarding goes on.
    std::fs::write(&trusted, "not a certificate").expect("write");
    let (code, body) = http::post(admin, "/reload");
    assert_eq!(code, 200, "{body}");
    assert_all_reach_home(&director, &topo, 6, "kept");
}

/// A client certificate for the director (DNS name `director.test`) signed by `ca`.
fn client_leaf(dir: &Path, ca: &TestCa, tag: &str) -> (PathBuf, PathBuf) {
    let sub = dir.join(tag);
    std::fs::create_dir_all(&sub).expect("mkdir");
    ca.dns_leaf(&sub, "director.test")
}

/// A farm of two TLS registrars (certificates from `server_ca`) that require a client
/// certificate chaining to `client_ca`.
fn mutual_tls_farm(dir: &Path, server_ca: &TestCa, client_ca: &TestCa) -> RegistrarFarm {
    let (cert, key) = server_ca.dns_leaf(dir, "localhost");
    let args = [OsStr::new("--client-ca"), client_ca.pem.as_os_str()];
    RegistrarFarm::start_tls_with_args(2, &cert, &key, &args)
}

#[test]
fn mutual_tls_the_director_presents_its_client_certificate() {
    let dir = scratch_dir("proxy-tls-mutual");
    let server_ca = TestCa::new(&dir, "server");
    let client_ca = TestCa::new(&dir, "client");
    let farm = mutual_tls_farm(&dir, &server_ca, &client_ca);
    let (cert, key) = client_leaf(&dir, &client_ca, "director");
    let proxy = format!(
        "tls_ca = \"{}\"\ntls_certificate = \"{}\"\ntls_private_key = \"{}\"",
        server_ca.pem.display(),
        cert.display(),
        key.display()
    );
    let (topo, text) = tls_setup(&farm, &proxy);
    let director = Director::start(&text);
    assert_all_reach_home(&director, &topo, 12, "mtls");
    let total: u64 = farm.addrs.iter().map(|a| farm.received(*a)).sum();
    assert_eq!(total, 12);
    assert_eq!(tls_handshake_drops(&director), 0);
}

#[test]
fn mutual_tls_without_a_client_certificate_is_refused() {
    let dir = scratch_dir("proxy-tls-mutual-none");
    let server_ca = TestCa::new(&dir, "server");
    let client_ca = TestCa::new(&dir, "client");
    let farm = mutual_tls_farm(&dir, &server_ca, &client_ca);
    let (_, text) = tls_setup(&farm, &format!("tls_ca = \"{}\"", server_ca.pem.display()));
    let director = Director::start(&text);
    assert_client_certificate_refused(&director, &farm);
}

#[test]
fn mutual_tls_a_client_certificate_from_another_ca_is_refused() {
    let dir = scratch_dir("proxy-tls-mutual-other");
    let server_ca = TestCa::new(&dir, "server");
    let client_ca = TestCa::new(&dir, "client");
    let other = TestCa::new(&dir, "other");
    let farm = mutual_tls_farm(&dir, &server_ca, &client_ca);
    let (cert, key) = client_leaf(&dir, &other, "director");
    let proxy = format!(
        "tls_ca = \"{}\"\ntls_certificate = \"{}\"\ntls_private_key = \"{}\"",
        server_ca.pem.display(),
        cert.display(),
        key.display()
    );
    let (_, text) = tls_setup(&farm, &proxy);
    let director = Director::start(&text);
    assert_client_certificate_refused(&director, &farm);
}

fn assert_client_certificate_refused(director: &Director, farm: &RegistrarFarm) {
    let sock = udp_socket();
    sock.set_read_timeout(Some(Duration::from_millis(700)))
        .expect("timeout");
    for n in 0..4u64 {
        let aor = format!("sip:nocert{n}@example.com");
        assert!(
            send(&sock, director.udp(), &aor, n).is_none(),
            "{aor} answered"
        );
    }
    for addr in &farm.addrs {
        assert_eq!(farm.received(*addr), 0, "{addr} got a request");
    }
    // With TLS 1.3 the director's handshake completes before the registrar checks the client
    // certificate; the registrar's alert then ends the connection before any answer, which the
    // director counts as a TLS handshake failure.
    http::wait_for("tls_handshake drops", Duration::from_secs(5), || {
        (tls_handshake_drops(director) >= 1).then_some(())
    });
}
