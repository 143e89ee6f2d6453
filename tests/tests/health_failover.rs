//! Health probing end to end with real processes: `loadgen registrar` listeners as the
//! registrars, the director probing them with OPTIONS. A muted registrar goes down and only its
//! users move, each to the next machine of their preferred order (the oracle's); a whole pool
//! down fails over to the backup pool after the failover interval and comes back after the
//! failback interval.

use std::time::Duration;

use system_tests::farm_topology::{
    config, contacts, farm_topology, first_up, placement, register_udp, Extra,
};
use system_tests::http::{pool_failed_over, registrar_state, wait_for};
use system_tests::registrar_farm::RegistrarFarm;
use system_tests::sip_client::udp_socket;
use system_tests::{Director, Topology};

const WAIT: Duration = Duration::from_secs(30);

fn aors(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("sip:user{i}@example.com")).collect()
}

/// What the 301 should say when exactly the registrars for which `up` holds are up and no pool
/// is failed over.
fn expected(
    topo: &Topology,
    aor: &str,
    up: &dyn Fn(&str) -> bool,
) -> (Option<String>, Option<String>) {
    let (pool, order, backup, border) = placement(topo, aor);
    let primary = first_up(topo, pool, &order, up);
    let backup = backup.and_then(|b| first_up(topo, b, &border, up));
    match (primary, backup) {
        (Some(p), b) => (Some(p), b),
        (None, b) => (b, None),
    }
}

fn wait_state(admin: std::net::SocketAddr, id: &str, state: &str) {
    wait_for(&format!("{id} {state}"), WAIT, || {
        (registrar_state(admin, id) == state).then_some(())
    });
}

#[test]
fn a_muted_registrar_moves_only_its_users_to_their_next_machine() {
    let farm = RegistrarFarm::start(5, "udp");
    let topo = farm_topology(&[3, 2], &farm.addrs);
    let director = Director::start(&config(&topo, &Extra::default()));
    let admin = director.listening.admin.expect("admin announced");
    let sock = udp_socket();
    let users = aors(120);
    let all_up = |_: &str| true;
    let before: Vec<_> = users
        .iter()
        .enumerate()
        .map(|(n, aor)| {
            let got = contacts(&register_udp(&sock, director.udp(), aor, n as u64));
            assert_eq!(got, expected(&topo, aor, &all_up), "{aor}, all up");
            got
        })
        .collect();

    let victim = topo.pools[0].registrars[0].clone();
    farm.mute(farm.addrs[0]);
    wait_state(admin, &victim.id, "down");

    let without = |id: &str| id != victim.id;
    let mut moved = 0;
    for (n, aor) in users.iter().enumerate() {
        let got = contacts(&register_udp(&sock, director.udp(), aor, 1000 + n as u64));
        assert_eq!(
            got,
            expected(&topo, aor, &without),
            "{aor} with {} down",
            victim.id
        );
        if before[n].0.as_deref() == Some(victim.contact.as_str()) {
            moved += 1;
            assert_ne!(got.0, before[n].0);
        } else {
            assert_eq!(
                got.0, before[n].0,
                "{aor} was not on the victim and must not move"
            );
        }
    }
    assert!(moved > 0, "some of the 120 users lived on {}", victim.id);

    farm.unmute(farm.addrs[0]);
    wait_state(admin, &victim.id, "up");
    for (n, aor) in users.iter().enumerate() {
        let got = contacts(&register_udp(&sock, director.udp(), aor, 2000 + n as u64));
        assert_eq!(got, before[n], "{aor} back home");
    }
}

#[test]
fn a_whole_pool_down_fails_over_to_the_backup_and_back() {
    let farm = RegistrarFarm::start(5, "udp");
    let topo = farm_topology(&[3, 2], &farm.addrs);
    let extra = Extra {
        failover_s: 3,
        failback_s: 2,
        ..Extra::default()
    };
    let director = Director::start(&config(&topo, &extra));
    let admin = director.listening.admin.expect("admin announced");
    let sock = udp_socket();
    let users = aors(40);
    let pool1_user = users
        .iter()
        .find(|a| placement(&topo, a).0 == 0)
        .expect("a pool1 user")
        .clone();
    let (_, order, _, border) = placement(&topo, &pool1_user);
    let home = topo.pools[0].registrars[order[0]].contact.clone();
    let backup = topo.pools[1].registrars[border[0]].contact.clone();

    for addr in &farm.addrs[..3] {
        farm.mute(*addr);
    }
    for r in &topo.pools[0].registrars {
        wait_state(admin, &r.id, "down");
    }
    // Within the failover interval the primary Contact stays the user's home (q=0.7) and the
    // backup registrar is the q=0.3 Contact.
    if !pool_failed_over(admin, "pool1") {
        let got = contacts(&register_udp(&sock, director.udp(), &pool1_user, 1));
        if !pool_failed_over(admin, "pool1") {
            assert_eq!(
                got,
                (Some(home.clone()), Some(backup.clone())),
                "waiting for failover"
            );
        }
    }
    wait_for("pool1 failed over", WAIT, || {
        pool_failed_over(admin, "pool1").then_some(())
    });
    let got = contacts(&register_udp(&sock, director.udp(), &pool1_user, 2));
    assert_eq!(
        got,
        (Some(backup.clone()), None),
        "failed over: the backup pool only"
    );
    // Users of pool2 stay home; their backup pool is down.
    for (n, aor) in users
        .iter()
        .enumerate()
        .filter(|(_, a)| placement(&topo, a).0 == 1)
    {
        let got = contacts(&register_udp(&sock, director.udp(), aor, 100 + n as u64));
        assert_eq!(
            got,
            expected(&topo, aor, &|id: &str| id.ends_with("pool2")),
            "{aor}"
        );
    }

    for addr in &farm.addrs[..3] {
        farm.unmute(*addr);
    }
    for r in &topo.pools[0].registrars {
        wait_state(admin, &r.id, "up");
    }
    // During the failback interval users stay on the backup pool, their home as q=0.3.
    if pool_failed_over(admin, "pool1") {
        let got = contacts(&register_udp(&sock, director.udp(), &pool1_user, 3));
        if pool_failed_over(admin, "pool1") {
            assert_eq!(
                got,
                (Some(backup.clone()), Some(home.clone())),
                "failing back"
            );
        }
    }
    wait_for("pool1 failed back", WAIT, || {
        (!pool_failed_over(admin, "pool1")).then_some(())
    });
    let got = contacts(&register_udp(&sock, director.udp(), &pool1_user, 4));
    assert_eq!(got, (Some(home), Some(backup)), "home again");
}

#[test]
fn no_registrar_anywhere_is_503_with_retry_after() {
    let farm = RegistrarFarm::start(2, "udp");
    let topo = farm_topology(&[1, 1], &farm.addrs);
    let director = Director::start(&config(&topo, &Extra::default()));
    let admin = director.listening.admin.expect("admin announced");
    for addr in &farm.addrs {
        farm.mute(*addr);
    }
    for id in ["fe1.pool1", "fe1.pool2"] {
        wait_state(admin, id, "down");
    }
    let a = register_udp(&udp_socket(), director.udp(), "sip:alice@example.com", 1);
    assert_eq!(a.code, 503, "{}", a.raw);
    assert!(a.header("retry-after").is_some(), "{}", a.raw);
}

#[test]
fn tcp_registrars_are_probed_over_tcp() {
    stream_registrars_are_probed("tcp");
}

#[test]
fn tls_registrars_are_probed_over_tls() {
    stream_registrars_are_probed("tls");
}

fn stream_registrars_are_probed(transport: &str) {
    let farm = RegistrarFarm::start(2, transport);
    let mut topo = farm_topology(&[1, 1], &farm.addrs);
    for p in &mut topo.pools {
        for r in &mut p.registrars {
            r.contact.push_str(&format!(";transport={transport}"));
        }
    }
    let director = Director::start(&config(&topo, &Extra::default()));
    let admin = director.listening.admin.expect("admin announced");
    wait_for("a probe answered", WAIT, || {
        let v = system_tests::http::get_json(admin, "/registrars");
        v["registrars"][0]["last_probe_ms"].as_f64()
    });
    farm.mute(farm.addrs[0]);
    wait_state(admin, "fe1.pool1", "down");
    assert_eq!(registrar_state(admin, "fe1.pool2"), "up");
    farm.unmute(farm.addrs[0]);
    wait_state(admin, "fe1.pool1", "up");
}

#[test]
fn within_the_failover_interval_redirect_keeps_the_home_and_proxy_uses_the_backup() {
    let farm = RegistrarFarm::start(3, "udp");
    let topo = farm_topology(&[2, 1], &farm.addrs);
    // A failover interval no test outlives: the pool stays "down, not failed over".
    let long = Extra {
        failover_s: 3600,
        ..Extra::default()
    };
    let redirect = Director::start(&config(&topo, &long));
    let proxy = Director::start(&config(
        &topo,
        &Extra {
            mode: "proxy",
            ..long
        },
    ));
    for addr in &farm.addrs[..2] {
        farm.mute(*addr);
    }
    for d in [&redirect, &proxy] {
        let admin = d.listening.admin.expect("admin announced");
        for r in &topo.pools[0].registrars {
            wait_state(admin, &r.id, "down");
        }
        assert!(!pool_failed_over(admin, "pool1"));
    }
    let sock = udp_socket();
    let local = sock.local_addr().expect("addr");
    let users: Vec<String> = aors(40)
        .into_iter()
        .filter(|a| placement(&topo, a).0 == 0)
        .collect();
    assert!(!users.is_empty());
    for (n, aor) in users.iter().enumerate() {
        let (_, order, _, _) = placement(&topo, aor);
        let home = topo.pools[0].registrars[order[0]].contact.clone();
        let backup = topo.pools[1].registrars[0].contact.clone();
        let got = contacts(&register_udp(&sock, redirect.udp(), aor, n as u64));
        assert_eq!(
            got,
            (Some(home), Some(backup)),
            "{aor}: home q=0.7, backup q=0.3"
        );
        // Proxy mode forwards to the backup registrar (the only one answering): a 200 from
        // listener 2 (loadgen tags its To with reg<index>).
        let raw = system_tests::sip_client::udp_exchange(
            &sock,
            proxy.udp(),
            system_tests::sip_client::register(aor, local, "UDP", 100 + n as u64).as_bytes(),
        )
        .unwrap_or_else(|| panic!("no answer for {aor}"));
        let a = system_tests::sip_client::parse_answer(&raw);
        assert_eq!(a.code, 200, "{raw}");
        assert!(
            a.header("to").is_some_and(|t| t.ends_with(";tag=reg2")),
            "{raw}"
        );
    }
}
