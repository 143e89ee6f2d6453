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

/// A director in proxy mode whose one pool is the Kamailio registrar at `kam`, probed every
/// `interval_ms` (0: not probed).
fn director_before(kam: SocketAddr, interval_ms: u64) -> Director {
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
        interval_ms,
        ..Extra::default()
    };
    Director::start(&config(&topo, &extra))
}

#[test]
fn register_through_the_director_is_saved_by_kamailio() {
    let Some((_kamailio, kam)) = start_kamailio() else {
        return;
    };
    let director = director_before(kam, 200);
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

#[test]
fn kamailio_reaches_the_user_through_the_directors_path() {
    let Some((_kamailio, kam)) = start_kamailio() else {
        return;
    };
    let director = director_before(kam, 0);
    // Bob registers through the director (Path: the director).
    let ua = udp_socket();
    let ua_addr = ua.local_addr().expect("addr");
    let req = register("sip:bob@example.com", ua_addr, "UDP", 1)
        .replace("Content-Length: 0", "Supported: path\r\nContent-Length: 0");
    let raw = udp_exchange(&ua, director.udp(), req.as_bytes()).expect("an answer");
    assert_eq!(parse_answer(&raw).code, 200, "{raw}");

    // A caller sends an INVITE for bob straight to Kamailio; Kamailio relays it along the Path.
    let caller = udp_socket();
    let caller_addr = caller.local_addr().expect("addr");
    let invite = format!(
        "INVITE sip:bob@example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP {caller_addr};branch=z9hG4bK-inv1;rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:carol@example.com>;tag=c1\r\n\
         To: <sip:bob@example.com>\r\nCall-ID: inv1@test\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:carol@{caller_addr}>\r\nContent-Length: 0\r\n\r\n"
    );
    caller.send_to(invite.as_bytes(), kam).expect("send INVITE");
    let mut buf = vec![0u8; 65536];
    let got = loop {
        let (n, from) = ua.recv_from(&mut buf).expect("bob receives the INVITE");
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        if text.starts_with("INVITE ") {
            assert_eq!(from, director.udp(), "delivered by the director");
            break text;
        }
    };
    let vias: Vec<&str> = got.lines().filter(|l| l.starts_with("Via:")).collect();
    assert!(
        vias[0].contains("z9hG4bKdR"),
        "the director's Via on top: {got}"
    );
    assert!(
        !got.lines().any(|l| l.starts_with("Route:")),
        "the director's Route consumed: {got}"
    );

    // Bob answers 486 to the director, which relays it to Kamailio, which answers the caller.
    let header = |name: &str| -> Vec<&str> {
        got.lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .collect()
    };
    let via_lines: String = header("via")
        .iter()
        .map(|v| format!("Via: {v}\r\n"))
        .collect();
    let busy = format!(
        "SIP/2.0 486 Busy Here\r\n{via_lines}From: {}\r\nTo: {};tag=bob1\r\nCall-ID: {}\r\n\
         CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
        header("from")[0],
        header("to")[0],
        header("call-id")[0],
    );
    ua.send_to(busy.as_bytes(), director.udp())
        .expect("send 486");
    let answer = loop {
        let (n, _) = caller
            .recv_from(&mut buf)
            .expect("the caller gets an answer");
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        let code = parse_answer(&text).code;
        if code >= 200 {
            break text;
        }
    };
    assert_eq!(parse_answer(&answer).code, 486, "{answer}");
}
