//! Hot reload of the topology under `loadgen register` load: a file change, `POST /reload` and
//! SIGHUP each publish the new topology, an invalid file is refused (422, logged with
//! file:line) and the running one stays, and the load sees zero errors throughout.

use std::process::{Command, Stdio};
use std::time::Duration;

use system_tests::farm_topology::{config, contacts, register_udp, Extra};
use system_tests::http::{get_json, post, wait_for};
use system_tests::sip_client::udp_socket;
use system_tests::topology::Registrar;
use system_tests::{bin, oracle, Director, Topology};

const WAIT: Duration = Duration::from_secs(30);

fn generation(admin: std::net::SocketAddr) -> u64 {
    get_json(admin, "/registrars")["generation"]
        .as_u64()
        .expect("generation")
}

fn registrar_count(admin: std::net::SocketAddr) -> usize {
    get_json(admin, "/registrars")["registrars"]
        .as_array()
        .map_or(0, Vec::len)
}

fn with_extra_registrar(topo: &Topology, n: usize) -> Topology {
    let mut t = topo.clone();
    t.pools[0].registrars.push(Registrar {
        id: format!("new{n}.pool1.example.com"),
        weight: 1,
        contact: format!("sip:new{n}.pool1.example.com:5061;transport=TLS"),
    });
    t
}

#[test]
fn reload_under_load_has_zero_errors_and_refuses_invalid_files() {
    let topo = Topology::ring(2, 3, false);
    let extra = Extra {
        interval_ms: 0,
        ..Extra::default()
    };
    let mut director = Director::start(&config(&topo, &extra));
    let admin = director.listening.admin.expect("admin announced");
    let path = director.config_path.clone();

    let load = Command::new(bin("loadgen"))
        .args(["register", "--target", &director.udp().to_string()])
        .args(["--rate", "1500", "--duration", "5", "--users", "5000"])
        .args(["--quiet", "--json", "-"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start loadgen");
    std::thread::sleep(Duration::from_millis(500));

    // 1. File change.
    let g0 = generation(admin);
    let t1 = with_extra_registrar(&topo, 1);
    std::fs::write(&path, config(&t1, &extra)).expect("write config");
    wait_for("file change reload", WAIT, || {
        (registrar_count(admin) == 7).then_some(())
    });
    assert!(generation(admin) > g0);

    // 2. Invalid file: refused, the running topology stays.
    let broken = config(&t1, &extra).replace("[[pool]]\nid = \"pool2\"", "[[pool]]\nid = 42");
    std::fs::write(&path, &broken).expect("write config");
    let (code, body) = post(admin, "/reload");
    assert_eq!(code, 422, "{body}");
    assert!(
        body.contains("director.toml:"),
        "error names file:line: {body}"
    );
    assert_eq!(registrar_count(admin), 7);

    // 3. Admin reload of a valid file.
    let t2 = with_extra_registrar(&t1, 2);
    std::fs::write(&path, config(&t2, &extra)).expect("write config");
    let (code, body) = post(admin, "/reload");
    assert_eq!(code, 200, "{body}");
    assert_eq!(registrar_count(admin), 8);

    // 4. SIGHUP.
    let t3 = with_extra_registrar(&t2, 3);
    std::fs::write(&path, config(&t3, &extra)).expect("write config");
    director.signal(libc::SIGHUP);
    wait_for("SIGHUP reload", WAIT, || {
        (registrar_count(admin) == 9).then_some(())
    });

    let out = load.wait_with_output().expect("loadgen output");
    assert!(out.status.success(), "loadgen failed");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("loadgen JSON");
    let requests = json["requests"].as_u64().unwrap_or(0);
    assert!(requests > 3000, "only {requests} requests: {json}");
    assert_eq!(json["errors_total"].as_u64(), Some(0), "{json}");
    assert_eq!(json["responses"].as_u64(), Some(requests), "{json}");

    // The new topology answers: every user per the oracle on t3.
    let sock = udp_socket();
    for n in 0..50u64 {
        let aor = format!("sip:r{n}@example.com");
        let (p, b) = oracle::expected_contacts(&t3, &aor);
        let got = contacts(&register_udp(&sock, director.udp(), &aor, n));
        assert_eq!(got, (Some(p), b), "{aor}");
    }
    let log = director
        .log_until("reload refused", Duration::from_secs(5))
        .join("\n");
    assert!(
        log.contains("reload refused"),
        "invalid file logged:\n{log}"
    );
    assert!(director.is_running());
}

#[test]
fn a_reload_that_moves_a_registrar_keeps_its_state_and_probes_the_new_address() {
    use system_tests::farm_topology::farm_topology;
    use system_tests::http::registrar_state;
    use system_tests::registrar_farm::RegistrarFarm;

    let farm = RegistrarFarm::start(3, "udp");
    let topo = farm_topology(&[1, 1], &farm.addrs[..2]);
    let extra = Extra {
        mode: "proxy",
        ..Extra::default()
    };
    let director = Director::start(&config(&topo, &extra));
    let admin = director.listening.admin.expect("admin announced");
    farm.mute(farm.addrs[0]);
    wait_for("fe1.pool1 down", WAIT, || {
        (registrar_state(admin, "fe1.pool1") == "down").then_some(())
    });
    // Same id, new address (an answering listener): the state carries over (down), then the
    // probes of the new address bring it up.
    let mut moved = topo.clone();
    moved.pools[0].registrars[0].contact = format!("sip:{}", farm.addrs[2]);
    std::fs::write(&director.config_path, config(&moved, &extra)).expect("write config");
    let (code, body) = post(admin, "/reload");
    assert_eq!(code, 200, "{body}");
    let v = get_json(admin, "/registrars");
    assert_eq!(
        v["registrars"][0]["address"],
        farm.addrs[2].to_string(),
        "{v}"
    );
    wait_for("fe1.pool1 up at its new address", WAIT, || {
        (registrar_state(admin, "fe1.pool1") == "up").then_some(())
    });
}
