//! Several identical directors, as behind one DNS SRV name: each on its own loopback address
//! (127.0.0.2, 127.0.0.3, 127.0.0.4), same configuration, no shared state. Every user gets the
//! same answer from each, and when one is killed outright (SIGKILL, as in a crash) the others
//! keep answering exactly as before.

use std::net::SocketAddr;

use system_tests::sip_client::{parse_answer, register, udp_exchange, udp_socket};
use system_tests::{oracle, Director, Topology};

fn answer(
    sock: &std::net::UdpSocket,
    to: SocketAddr,
    aor: &str,
    n: u64,
) -> Option<Vec<(String, String)>> {
    let local = sock.local_addr().ok()?;
    let raw = udp_exchange(sock, to, register(aor, local, "UDP", n).as_bytes())?;
    Some(parse_answer(&raw).contacts)
}

#[test]
fn identical_directors_agree_and_survive_one_crash() {
    let topo = Topology::ring(3, 4, true);
    let mut directors: Vec<Director> = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
        .iter()
        .map(|ip| Director::start(&topo.to_toml(&[(&format!("{ip}:0"), "udp")], 1)))
        .collect();
    let addrs: Vec<SocketAddr> = directors.iter().map(|d| d.udp()).collect();
    assert!(addrs
        .iter()
        .all(|a| a.ip().to_string().starts_with("127.0.0.")));
    let sock = udp_socket();
    let users: Vec<String> = (0..200)
        .map(|i| format!("sip:member{i}@example.com"))
        .collect();
    for (n, aor) in users.iter().enumerate() {
        let (primary, backup) = oracle::expected_contacts(&topo, aor);
        let want = vec![
            (primary, "0.7".to_string()),
            (backup.expect("ring has backups"), "0.3".to_string()),
        ];
        for addr in &addrs {
            assert_eq!(
                answer(&sock, *addr, aor, n as u64).as_ref(),
                Some(&want),
                "{aor} at {addr}"
            );
        }
    }
    // Crash the first director: no graceful shutdown.
    directors[0].signal(libc::SIGKILL);
    let killed = std::time::Instant::now();
    while directors[0].is_running() {
        assert!(
            killed.elapsed() < std::time::Duration::from_secs(10),
            "still running 10 s after SIGKILL"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let short = udp_socket();
    short
        .set_read_timeout(Some(std::time::Duration::from_millis(300)))
        .unwrap();
    assert_eq!(
        answer(&short, addrs[0], &users[0], 9999),
        None,
        "killed director answers nothing"
    );
    // A client that fails over to the next SRV target gets the same answer for every user.
    for (n, aor) in users.iter().enumerate() {
        let from_b = answer(&sock, addrs[1], aor, 10_000 + n as u64).expect("b answers");
        let from_c = answer(&sock, addrs[2], aor, 20_000 + n as u64).expect("c answers");
        assert_eq!(from_b, from_c, "{aor}");
        assert_eq!(from_b[0].0, oracle::expected_contacts(&topo, aor).0);
    }
    for d in directors.drain(1..) {
        assert!(d.stop().success());
    }
}
