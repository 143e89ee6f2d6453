//! The admin HTTP API of a running director: drain/undrain move users like a failure would
//! (only the drained machine's users), a registrar drained in the configuration gets no users
//! from the start, cannot be undrained by the API (409) and gets its users back when the file
//! no longer drains it, `/registrars`, `/healthz`, `/metrics` names and values,
//! `/user-pool-info` identical to the CLI's `--json`, and errors (unknown registrar, wrong
//! method, unknown path).

use std::process::Command;

use system_tests::farm_topology::{
    config, contacts, farm_topology, first_up, placement, register_udp, Extra,
};
use system_tests::http::{get, get_json, post, registrar_state};
use system_tests::registrar_farm::RegistrarFarm;
use system_tests::sip_client::udp_socket;
use system_tests::{bin, Director};

#[test]
fn drain_moves_only_the_drained_machines_users_and_undrain_brings_them_back() {
    let farm = RegistrarFarm::start(5, "udp");
    let topo = farm_topology(&[3, 2], &farm.addrs);
    // Probing off: drain works without health information.
    let extra = Extra {
        interval_ms: 0,
        ..Extra::default()
    };
    let director = Director::start(&config(&topo, &extra));
    let admin = director.listening.admin.expect("admin announced");
    let sock = udp_socket();
    let users: Vec<String> = (0..80).map(|i| format!("sip:d{i}@example.com")).collect();
    let before: Vec<_> = users
        .iter()
        .enumerate()
        .map(|(n, a)| contacts(&register_udp(&sock, director.udp(), a, n as u64)))
        .collect();

    let drained = topo.pools[0].registrars[1].clone();
    let (code, body) = post(admin, &format!("/registrars/{}/drain", drained.id));
    assert_eq!(code, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        (v["drained"].as_bool(), v["changed"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(registrar_state(admin, &drained.id), "draining");
    assert_eq!(drained_by(admin, &drained.id), Some("api".to_owned()));

    let mut moved = 0;
    for (n, aor) in users.iter().enumerate() {
        let got = contacts(&register_udp(&sock, director.udp(), aor, 100 + n as u64));
        let (pool, order, backup, border) = placement(&topo, aor);
        let up = |id: &str| id != drained.id;
        let want_primary = first_up(&topo, pool, &order, up);
        let want_backup = backup.and_then(|b| first_up(&topo, b, &border, up));
        assert_eq!(got, (want_primary, want_backup), "{aor}");
        if before[n].0.as_deref() == Some(drained.contact.as_str()) {
            moved += 1;
        } else {
            assert_eq!(got.0, before[n].0, "{aor} must not move");
        }
    }
    assert!(moved > 0);

    let (code, body) = post(admin, &format!("/registrars/{}/undrain", drained.id));
    assert_eq!(code, 200, "{body}");
    assert_eq!(registrar_state(admin, &drained.id), "up");
    assert_eq!(drained_by(admin, &drained.id), None);
    for (n, aor) in users.iter().enumerate() {
        let got = contacts(&register_udp(&sock, director.udp(), aor, 200 + n as u64));
        assert_eq!(got, before[n], "{aor} back");
    }
}

/// `drained_by` of one registrar in `/registrars` (`None`: null).
fn drained_by(admin: std::net::SocketAddr, id: &str) -> Option<String> {
    let v = get_json(admin, "/registrars");
    let r = v["registrars"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["id"] == id).cloned())
        .unwrap_or_else(|| panic!("{id} not in /registrars: {v}"));
    assert_eq!(
        r["drained"].as_bool(),
        Some(!r["drained_by"].is_null()),
        "{r}"
    );
    r["drained_by"].as_str().map(str::to_owned)
}

#[test]
fn a_registrar_drained_in_the_configuration_gets_no_users_until_the_file_undrains_it() {
    let farm = RegistrarFarm::start(5, "udp");
    let topo = farm_topology(&[3, 2], &farm.addrs);
    let extra = Extra {
        interval_ms: 0,
        ..Extra::default()
    };
    let drained = topo.pools[0].registrars[1].clone();
    let plain = config(&topo, &extra);
    let id_line = format!("id = \"{}\"\n", drained.id);
    assert!(plain.contains(&id_line), "{plain}");
    let with_drain = plain.replace(&id_line, &format!("{id_line}drained = true\n"));
    let director = Director::start(&with_drain);
    let admin = director.listening.admin.expect("admin announced");
    assert_eq!(registrar_state(admin, &drained.id), "draining");
    assert_eq!(drained_by(admin, &drained.id), Some("config".to_owned()));

    // From the start: the oracle's answer with that machine out, never its Contact.
    let sock = udp_socket();
    let users: Vec<String> = (0..80).map(|i| format!("sip:c{i}@example.com")).collect();
    let check = |first_n: u64, up: &dyn Fn(&str) -> bool| {
        let mut on_drained = 0;
        for (n, aor) in users.iter().enumerate() {
            let got = contacts(&register_udp(
                &sock,
                director.udp(),
                aor,
                first_n + n as u64,
            ));
            let (pool, order, backup, border) = placement(&topo, aor);
            let want_primary = first_up(&topo, pool, &order, up);
            let want_backup = backup.and_then(|b| first_up(&topo, b, &border, up));
            assert_eq!(got, (want_primary, want_backup), "{aor}");
            if got.0.as_deref() == Some(drained.contact.as_str()) {
                on_drained += 1;
            }
        }
        on_drained
    };
    let not_drained = |id: &str| id != drained.id;
    assert_eq!(check(0, &not_drained), 0);

    // The API cannot undrain it: 409, and nothing changes.
    let (code, body) = post(admin, &format!("/registrars/{}/undrain", drained.id));
    assert_eq!(code, 409, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    let error = v["error"].as_str().unwrap_or_default();
    assert!(error.contains("drained in the configuration"), "{body}");
    assert_eq!(registrar_state(admin, &drained.id), "draining");
    assert_eq!(check(100, &not_drained), 0);

    // The file no longer drains it: reload, and its users are back.
    std::fs::write(&director.config_path, &plain).expect("write config");
    let (code, body) = post(admin, "/reload");
    assert_eq!(code, 200, "{body}");
    assert_eq!(registrar_state(admin, &drained.id), "up");
    assert_eq!(drained_by(admin, &drained.id), None);
    assert!(check(200, &|_: &str| true) > 0, "its users are back");
    assert!(director.stop().success());
}

#[test]
fn status_metrics_and_user_pool_info() {
    let farm = RegistrarFarm::start(3, "udp");
    let topo = farm_topology(&[2, 1], &farm.addrs);
    let director = Director::start(&config(&topo, &Extra::default()));
    let admin = director.listening.admin.expect("admin announced");

    let (code, body) = get(admin, "/healthz");
    assert_eq!(code, 200);
    assert!(body.starts_with("ok"), "{body}");

    let regs = get_json(admin, "/registrars");
    assert_eq!(regs["probing"], true);
    let ids: Vec<&str> = regs["registrars"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(ids, ["fe1.pool1", "fe2.pool1", "fe1.pool2"]);
    assert_eq!(regs["registrars"][0]["address"], farm.addrs[0].to_string());

    // Some traffic so the counters move.
    let sock = udp_socket();
    for n in 0..5 {
        register_udp(&sock, director.udp(), &format!("sip:m{n}@example.com"), n);
    }
    system_tests::http::wait_for(
        "a probe answered",
        std::time::Duration::from_secs(30),
        || {
            let (_, m) = get(admin, "/metrics");
            m.contains("director_registrar_probe_latency_seconds{")
                .then_some(())
        },
    );
    let total: u64 = get_json(admin, "/registrars")["registrars"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| r["requests"].as_u64())
        .sum();
    assert_eq!(total, 5, "each 301 counted for its primary registrar");
    let (code, metrics) = get(admin, "/metrics");
    assert_eq!(code, 200);
    for needle in [
        "director_requests_total{method=\"REGISTER\",outcome=\"redirected\"} 5",
        "director_responses_total{code=\"301\",origin=\"local\"} 5",
        "director_dataplane_received_total",
        "director_dataplane_dropped_total{reason=\"no_route\"} 0",
        "director_registrar_state{pool=\"pool1\",registrar=\"fe1.pool1\",state=\"up\"} 1",
        "director_registrar_up{pool=\"pool2\",registrar=\"fe1.pool2\"} 1",
        "director_pool_failed_over{pool=\"pool1\"} 0",
        "director_registrar_requests_total{pool=\"pool1\",registrar=\"fe1.pool1\"}",
        "director_snapshot_generation",
        "# EOF",
    ] {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }

    // Same JSON as the CLI.
    let aor = "sip:alice@example.com";
    let api = get_json(admin, "/user-pool-info?aor=sip:alice%40example.com");
    let out = Command::new(bin("director"))
        .args(["user-pool-info", aor, "--json", "--config"])
        .arg(&director.config_path)
        .output()
        .expect("run CLI");
    assert!(out.status.success());
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).expect("CLI JSON");
    assert_eq!(api, cli);

    // Where alice goes right now: the oracle's answer with everything up.
    let route = get_json(admin, "/user-route?aor=sip:alice%40example.com");
    let (primary, backup) = system_tests::oracle::expected_contacts(&topo, aor);
    assert_eq!(route["primary"]["contact"], primary.as_str(), "{route}");
    assert_eq!(
        route["backup"]["contact"],
        backup.as_deref().unwrap_or(""),
        "{route}"
    );
    assert_eq!(route["forward"], route["primary"]);
    assert_eq!(route["no_registrar"], false);

    assert_eq!(get(admin, "/user-pool-info").0, 400);
    assert_eq!(get(admin, "/user-route").0, 400);
    assert_eq!(get(admin, "/user-pool-info?aor=mailto:x").0, 400);
    assert_eq!(post(admin, "/registrars/nope/drain").0, 404);
    assert_eq!(get(admin, "/registrars/fe1.pool1/drain").0, 405);
    assert_eq!(get(admin, "/nothing").0, 404);
}
