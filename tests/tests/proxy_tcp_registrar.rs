//! Proxy mode toward TCP registrars: the dataplane opens (and reuses) an outbound connection
//! to the registrar, the registrar's 200 comes back on it and is relayed to the UDP client.

use system_tests::farm_topology::{answered_by, config, farm_topology, home_index, proxy};
use system_tests::registrar_farm::RegistrarFarm;
use system_tests::sip_client::{parse_answer, register, udp_exchange, udp_socket};
use system_tests::Director;

fn assert_relayed_200(raw: &str, n: u64) {
    let a = parse_answer(raw);
    assert_eq!(a.code, 200, "{raw}");
    assert!(
        !raw.contains("z9hG4bKdR"),
        "the director's Via is removed: {raw}"
    );
    assert_eq!(a.header("call-id"), Some(format!("call-{n}@test").as_str()));
}

#[test]
fn tcp_registrars_get_requests_over_an_outbound_connection() {
    let farm = RegistrarFarm::start(2, "tcp");
    let mut topo = farm_topology(&[1, 1], &farm.addrs);
    for p in &mut topo.pools {
        for r in &mut p.registrars {
            r.contact.push_str(";transport=tcp");
        }
    }
    let director = Director::start(&config(&topo, &proxy(0)));
    let sock = udp_socket();
    let local = sock.local_addr().expect("addr");
    for n in 0..10u64 {
        let aor = format!("sip:o{n}@example.com");
        let raw = udp_exchange(
            &sock,
            director.udp(),
            register(&aor, local, "UDP", n).as_bytes(),
        )
        .unwrap_or_else(|| panic!("no answer for {aor}"));
        assert_relayed_200(&raw, n);
        assert_eq!(
            answered_by(&raw),
            home_index(&topo, &aor, |_| true),
            "{aor}"
        );
    }
}
