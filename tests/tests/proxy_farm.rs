//! Proxy mode end to end with `loadgen registrar` behind the director: REGISTER over UDP and
//! over TCP reaches the user's home registrar (the oracle's first machine) and the registrar's
//! 200 comes back with the director's Via removed (over the client's own TCP connection); a
//! muted registrar's users are forwarded to their next machine; Max-Forwards 0 gets 483; a
//! loadgen run through the director sees zero errors.

use std::process::{Command, Stdio};
use std::time::Duration;

use system_tests::farm_topology::{answered_by, config, farm_topology, home_index, proxy, Extra};
use system_tests::http::{registrar_state, wait_for};
use system_tests::registrar_farm::RegistrarFarm;
use system_tests::sip_client::{
    parse_answer, read_stream_message, register, tcp_connect, tcp_send, udp_exchange, udp_socket,
};
use system_tests::{bin, Director};

fn assert_relayed_200(raw: &str, n: u64) {
    let a = parse_answer(raw);
    assert_eq!(a.code, 200, "{raw}");
    assert!(
        !raw.contains("z9hG4bKdR"),
        "the director's Via is removed: {raw}"
    );
    let via = a.header("via").expect("Via");
    assert!(via.contains(&format!("branch=z9hG4bK-t{n}")), "{raw}");
    assert_eq!(a.header("call-id"), Some(format!("call-{n}@test").as_str()));
}

#[test]
fn register_over_udp_reaches_the_home_registrar_and_the_200_comes_back() {
    let farm = RegistrarFarm::start(5, "udp");
    let topo = farm_topology(&[3, 2], &farm.addrs);
    let director = Director::start(&config(&topo, &proxy(0)));
    let sock = udp_socket();
    let local = sock.local_addr().expect("addr");
    for n in 0..20u64 {
        let aor = format!("sip:p{n}@example.com");
        let home = farm.addrs[home_index(&topo, &aor, |_| true)];
        let before = farm.received(home);
        let raw = udp_exchange(
            &sock,
            director.udp(),
            register(&aor, local, "UDP", n).as_bytes(),
        )
        .unwrap_or_else(|| panic!("no answer for {aor}"));
        assert_relayed_200(&raw, n);
        assert_eq!(farm.received(home), before + 1, "{aor} forwarded to {home}");
    }
    // Max-Forwards 0: answered by the director.
    let req = register("sip:p0@example.com", local, "UDP", 99)
        .replace("Max-Forwards: 70", "Max-Forwards: 0");
    let raw = udp_exchange(&sock, director.udp(), req.as_bytes()).expect("answer");
    assert_eq!(parse_answer(&raw).code, 483, "{raw}");
}

#[test]
fn register_over_tcp_gets_its_200_over_the_same_connection() {
    let farm = RegistrarFarm::start(3, "udp");
    let topo = farm_topology(&[2, 1], &farm.addrs);
    let director = Director::start(&config(&topo, &proxy(0)));
    let mut conn = tcp_connect(director.tcp());
    let local = conn.local_addr().expect("addr");
    let mut pending = Vec::new();
    for n in 0..10u64 {
        let aor = format!("sip:t{n}@example.com");
        tcp_send(&mut conn, register(&aor, local, "TCP", n).as_bytes());
        let raw =
            read_stream_message(&mut conn, &mut pending).expect("a response on the connection");
        assert_relayed_200(&raw, n);
    }
}

#[test]
fn a_muted_registrars_users_are_forwarded_to_their_next_machine() {
    let farm = RegistrarFarm::start(5, "udp");
    let topo = farm_topology(&[3, 2], &farm.addrs);
    let director = Director::start(&config(&topo, &proxy(100)));
    let admin = director.listening.admin.expect("admin");
    let victim = topo.pools[0].registrars[0].id.clone();
    farm.mute(farm.addrs[0]);
    wait_for("victim down", Duration::from_secs(30), || {
        (registrar_state(admin, &victim) == "down").then_some(())
    });
    let sock = udp_socket();
    let local = sock.local_addr().expect("addr");
    let mut rerouted = 0;
    for n in 0..30u64 {
        let aor = format!("sip:m{n}@example.com");
        let home = home_index(&topo, &aor, |id| id != victim);
        rerouted += usize::from(home_index(&topo, &aor, |_| true) == 0);
        let raw = udp_exchange(
            &sock,
            director.udp(),
            register(&aor, local, "UDP", n).as_bytes(),
        )
        .unwrap_or_else(|| panic!("no answer for {aor}"));
        assert_relayed_200(&raw, n);
        assert_eq!(answered_by(&raw), home, "{aor}");
    }
    assert!(rerouted > 0, "some users lived on the muted registrar");
}

#[test]
fn loadgen_through_the_proxy_sees_zero_errors() {
    loadgen_through_the_proxy(&[]);
}

/// The same on the epoll + recvmmsg/sendmmsg fallback: requests out and responses back both
/// go through it.
#[test]
fn loadgen_through_the_proxy_sees_zero_errors_on_the_epoll_fallback() {
    loadgen_through_the_proxy(&[("DIRECTOR_UDP_BACKEND", "epoll")]);
}

fn loadgen_through_the_proxy(env: &[(&str, &str)]) {
    let farm = RegistrarFarm::start(5, "udp");
    let topo = farm_topology(&[3, 2], &farm.addrs);
    let director = Director::start_with_env(&config(&topo, &proxy(0)), env);
    if !env.is_empty() {
        assert!(
            director.ready_line.contains("udp_backend=Epoll"),
            "{}",
            director.ready_line
        );
    }
    let out = Command::new(bin("loadgen"))
        .args(["register", "--target", &director.udp().to_string()])
        .args(["--rate", "1000", "--duration", "3", "--users", "2000"])
        .args(["--expect", "2xx", "--quiet", "--json", "-"])
        .stdout(Stdio::piped())
        .output()
        .expect("run loadgen");
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("loadgen JSON");
    let requests = json["requests"].as_u64().unwrap_or(0);
    assert!(requests > 2000, "{json}");
    assert_eq!(json["errors_total"].as_u64(), Some(0), "{json}");
    assert_eq!(json["responses"].as_u64(), Some(requests), "{json}");
    let received: u64 = farm.addrs.iter().map(|a| farm.received(*a)).sum();
    assert!(received >= requests, "every request reached a registrar");
}

#[test]
fn stream_client_responses_cross_workers() {
    // Two workers: a registrar's UDP response may land on the worker that does not own the
    // client's TCP connection; the dataplane hands it over.
    let farm = RegistrarFarm::start(3, "udp");
    let topo = farm_topology(&[2, 1], &farm.addrs);
    let text = config(&topo, &proxy(0)).replace("workers = 1", "workers = 2");
    let director = Director::start(&text);
    let mut conn = tcp_connect(director.tcp());
    let local = conn.local_addr().expect("addr");
    let mut pending = Vec::new();
    for n in 0..30u64 {
        let aor = format!("sip:x{n}@example.com");
        tcp_send(&mut conn, register(&aor, local, "TCP", n).as_bytes());
        let raw =
            read_stream_message(&mut conn, &mut pending).expect("a response on the connection");
        assert_relayed_200(&raw, n);
    }
}

#[test]
fn a_listener_mode_overrides_the_director_mode() {
    let farm = RegistrarFarm::start(3, "udp");
    let topo = farm_topology(&[2, 1], &farm.addrs);
    // Redirect by default; the UDP listener proxies.
    let text = config(
        &topo,
        &Extra {
            interval_ms: 0,
            ..Extra::default()
        },
    )
    .replacen(
        "transport = \"udp\"\n",
        "transport = \"udp\"\nmode = \"proxy\"\n",
        1,
    );
    let director = Director::start(&text);
    let sock = udp_socket();
    let local = sock.local_addr().expect("addr");
    let aor = "sip:l1@example.com";
    let raw = udp_exchange(
        &sock,
        director.udp(),
        register(aor, local, "UDP", 1).as_bytes(),
    )
    .expect("an answer over UDP");
    assert_relayed_200(&raw, 1);
    let mut conn = tcp_connect(director.tcp());
    let tlocal = conn.local_addr().expect("addr");
    tcp_send(&mut conn, register(aor, tlocal, "TCP", 2).as_bytes());
    let raw = read_stream_message(&mut conn, &mut Vec::new()).expect("an answer over TCP");
    assert_eq!(
        parse_answer(&raw).code,
        301,
        "TCP keeps redirect mode: {raw}"
    );
}
