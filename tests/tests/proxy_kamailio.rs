//! Proxy mode with a real Kamailio 5.6 registrar (registrar + usrloc, tests/kamailio/
//! registrar.cfg) behind the director: the director probes it (OPTIONS), forwards REGISTERs
//! with its Via and Path, Kamailio saves the binding and answers 200 (echoing the Path, as the
//! UA supports it), and the answer comes back to the client with the director's Via removed.
//! A binding query afterwards lists the contact: the registration really happened.
//!
//! Skipped (passes with a note) when `kamailio` is not installed
//! (scripts/install-test-deps.sh installs it).

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use system_tests::farm_topology::{config, Extra};
use system_tests::http::{registrar_state, wait_for};
use system_tests::process::scratch_dir;
use system_tests::sip_client::{parse_answer, register, udp_exchange, udp_socket};
use system_tests::{workspace_root, Director, Pool, Registrar, Topology};

struct Kamailio(Child);

impl Drop for Kamailio {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.0.id() as i32, libc::SIGTERM);
        }
        let _ = self.0.wait();
    }
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn start_kamailio() -> Option<(Kamailio, SocketAddr)> {
    if Command::new("kamailio").arg("-v").output().is_err() {
        eprintln!("kamailio not installed: skipping (scripts/install-test-deps.sh)");
        return None;
    }
    let dir = scratch_dir("kamailio");
    let port = free_udp_port();
    let cfg = workspace_root().join("tests/kamailio/registrar.cfg");
    let child = Command::new("kamailio")
        .args(["-DD", "-E", "-f"])
        .arg(&cfg)
        .args(["-l", &format!("udp:127.0.0.1:{port}")])
        .args(["-m", "64", "-M", "8", "-Y"])
        .arg(&dir)
        .arg("-w")
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn kamailio");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let k = Kamailio(child);
    // Ready when it answers an OPTIONS.
    let sock = udp_socket();
    let local = sock.local_addr().expect("addr");
    wait_for("kamailio answering", Duration::from_secs(30), || {
        let opt = register("sip:probe@example.com", local, "UDP", 1)
            .replacen("REGISTER sip:example.com", "OPTIONS sip:example.com", 1)
            .replace("1 REGISTER", "1 OPTIONS");
        udp_exchange(&sock, addr, opt.as_bytes()).map(|_| ())
    });
    Some((k, addr))
}

#[test]
fn register_through_the_director_is_saved_by_kamailio() {
    let Some((_kamailio, kam)) = start_kamailio() else {
        return;
    };
    let topo = Topology {
        pools: vec![Pool {
            id: "pool1".into(),
            weight: 1,
            backup: None,
            registrars: vec![Registrar {
                id: "kamailio1".into(),
                weight: 1,
                contact: format!("sip:{kam}"),
            }],
        }],
        expires: 600,
        ..Default::default()
    };
    let extra = Extra {
        mode: "proxy",
        interval_ms: 200,
        ..Extra::default()
    };
    let director = Director::start(&config(&topo, &extra));
    let admin = director.listening.admin.expect("admin");
    // Probes reach Kamailio (it answers OPTIONS): the registrar is up.
    let probe = wait_for("a probe answered", Duration::from_secs(30), || {
        let v = system_tests::http::get_json(admin, "/registrars");
        v["registrars"][0]["last_probe_ms"].as_f64()
    });
    assert!(probe >= 0.0);
    assert_eq!(registrar_state(admin, "kamailio1"), "up");

    let sock = udp_socket();
    let local = sock.local_addr().expect("addr");
    let aor = "sip:alice@example.com";
    let req = register(aor, local, "UDP", 7)
        .replace("Content-Length: 0", "Supported: path\r\nContent-Length: 0");
    let raw = udp_exchange(&sock, director.udp(), req.as_bytes()).expect("an answer");
    let a = parse_answer(&raw);
    assert_eq!(a.code, 200, "{raw}");
    assert!(!raw.contains("z9hG4bKdR"), "director's Via removed: {raw}");
    assert!(raw.contains("branch=z9hG4bK-t7"), "{raw}");
    let path = a
        .header("path")
        .unwrap_or_else(|| panic!("Path echoed: {raw}"));
    let director_udp = director.udp();
    assert!(
        path.contains(&format!("sip:{director_udp};lr")),
        "Path names the director: {path}"
    );
    assert!(
        a.contacts
            .iter()
            .any(|(c, _)| c.contains(&local.to_string())),
        "binding saved: {raw}"
    );

    // A query (no Contact) lists the binding.
    let query = register(aor, local, "UDP", 8)
        .replace(&format!("Contact: <sip:ua@{local}>\r\n"), "")
        .replace("Expires: 3600\r\n", "");
    let raw = udp_exchange(&sock, director.udp(), query.as_bytes()).expect("an answer");
    let a = parse_answer(&raw);
    assert_eq!(a.code, 200, "{raw}");
    assert!(
        a.contacts
            .iter()
            .any(|(c, _)| c.contains(&local.to_string())),
        "binding listed: {raw}"
    );
}
