//! The control plane's state without threads: snapshots carry eligibility, addresses and
//! traffic slots; reloads carry health and drain state over by id and keep slots; address
//! changes and drain commands say whether routing changed; a registrar drained in the
//! configuration is drained from the start and after every reload that keeps it so, whatever
//! the drain commands say, and the commands' own drains carry over reloads.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use director::config::Config;
use director::control::{ControlState, DrainError};
use director::health::find_target;
use director::topology::Endpoint;

const BASE: &str = r#"
[health]
down_after = 1
up_after = 1

[[pool]]
id = "pool1"
[[pool.registrar]]
id = "a1"
contact = "sip:127.0.0.1:6001"
[[pool.registrar]]
id = "a2"
contact = "sip:127.0.0.1:6002"
"#;

fn resolve(e: &Endpoint) -> Option<SocketAddr> {
    format!("{}:{}", e.host, e.port).parse().ok()
}

fn state(text: &str) -> ControlState {
    ControlState::new(Config::parse(text, "t.toml").expect("valid"), resolve)
}

#[test]
fn snapshots_carry_addresses_slots_and_eligibility() {
    let mut s = state(BASE);
    let snap = s.snapshot();
    let a2 = find_target(snap.topology(), "a2").expect("a2");
    assert_eq!(snap.addr(a2), Some("127.0.0.1:6002".parse().expect("addr")));
    assert_eq!(snap.slot(a2), Some(1));
    assert!(snap.is_eligible(a2));
    assert!(s.probe("a2", None, Instant::now()), "down_after = 1");
    let next = s.snapshot();
    assert!(!next.is_eligible(a2));
    assert!(next.generation() > snap.generation());
    assert_eq!(s.status().registrars[1].state, "down");
}

#[test]
fn drain_and_address_changes_report_whether_routing_changed() {
    let mut s = state(BASE);
    assert_eq!(s.set_drained("a1", true), Ok(true));
    assert_eq!(s.set_drained("a1", true), Ok(false));
    assert_eq!(
        s.set_drained("zz", true),
        Err(DrainError::NotFound("zz".into()))
    );
    let moved: SocketAddr = "127.0.0.1:7001".parse().expect("addr");
    assert!(s.set_addr("a1", Some(moved)));
    assert!(!s.set_addr("a1", Some(moved)));
    let snap = s.snapshot();
    let a1 = find_target(snap.topology(), "a1").expect("a1");
    assert_eq!(snap.addr(a1), Some(moved));
    assert!(!snap.is_eligible(a1), "drained");
}

#[test]
fn reload_keeps_state_and_slots_by_id() {
    let mut s = state(BASE);
    s.probe("a2", Some(Duration::from_millis(3)), Instant::now());
    s.set_drained("a2", true).expect("known");
    let text = BASE.replace(
        "[[pool.registrar]]\nid = \"a1\"\ncontact = \"sip:127.0.0.1:6001\"\n",
        "[[pool.registrar]]\nid = \"a3\"\ncontact = \"sip:127.0.0.1:6003\"\n",
    );
    s.replace(Config::parse(&text, "t.toml").expect("valid"), resolve);
    let snap = s.snapshot();
    let a2 = find_target(snap.topology(), "a2").expect("a2");
    let a3 = find_target(snap.topology(), "a3").expect("a3");
    assert_eq!(snap.slot(a2), Some(1), "a2 keeps its counter slot");
    assert_eq!(snap.slot(a3), Some(2), "a3 gets a new one");
    let status = s.status();
    let reg = |id: &str| {
        status
            .registrars
            .iter()
            .find(|r| r.id == id)
            .cloned()
            .expect("listed")
    };
    assert_eq!(reg("a2").state, "draining");
    assert_eq!(reg("a2").last_probe_ms, Some(3.0));
    assert_eq!(reg("a3").state, "up");
}

#[test]
fn switching_probing_off_forgets_probe_results_but_not_drains() {
    let mut s = state(BASE);
    s.probe("a1", None, Instant::now());
    s.set_drained("a2", true).expect("known");
    let off = BASE.replace("[health]\n", "[health]\nenabled = false\n");
    s.replace(Config::parse(&off, "t.toml").expect("valid"), resolve);
    let status = s.status();
    assert!(!status.probing);
    assert_eq!(status.registrars[0].state, "up");
    assert_eq!(status.registrars[1].state, "draining");
}

#[test]
fn snapshots_carry_the_limits_with_a_version_that_changes_only_with_them() {
    let cfg = |limits: &str| Config::parse(&format!("{BASE}{limits}"), "t.toml").expect("valid");
    let mut s = ControlState::new(cfg(""), resolve);
    let first = s.snapshot();
    assert!(!first.limits().any(), "no [limits]: all off");
    let v0 = first.limits_version();

    // A reload that leaves [limits] alone (here: none) keeps the version.
    s.replace(cfg(""), resolve);
    assert_eq!(s.snapshot().limits_version(), v0);
    // Health changes publish with the same version too.
    s.probe("a1", None, Instant::now());
    assert_eq!(s.snapshot().limits_version(), v0);

    let tight = "\n[limits]\nper_source_rate = 5\nflood_action = \"503\"\n";
    s.replace(cfg(tight), resolve);
    let on = s.snapshot();
    assert_ne!(on.limits_version(), v0, "limits turned on");
    assert_eq!(
        on.limits().per_source.map(|r| (r.per_s, r.burst)),
        Some((5, 5))
    );
    s.replace(cfg(tight), resolve);
    assert_eq!(
        s.snapshot().limits_version(),
        on.limits_version(),
        "unchanged"
    );

    s.replace(cfg(""), resolve);
    let off = s.snapshot();
    assert!(!off.limits().any());
    assert_ne!(
        off.limits_version(),
        on.limits_version(),
        "limits turned off"
    );
    s.replace(cfg(tight), resolve);
    let again = s.snapshot().limits_version();
    assert!(
        again != off.limits_version() && again != on.limits_version(),
        "versions are never reused, so buckets are rebuilt"
    );
}

/// BASE with `drained = true` on the registrars `ids`.
fn drained_in_config(ids: &[&str]) -> Config {
    let mut text = BASE.to_owned();
    for id in ids {
        let line = format!("id = \"{id}\"\n");
        text = text.replace(&line, &format!("{line}drained = true\n"));
    }
    Config::parse(&text, "t.toml").expect("valid")
}

/// (drained, drained_by, state) of one registrar in `/registrars`.
fn drain_view(s: &ControlState, id: &str) -> (bool, Option<&'static str>, &'static str) {
    let status = s.status();
    let r = status
        .registrars
        .iter()
        .find(|r| r.id == id)
        .expect("listed");
    (r.drained, r.drained_by, r.state)
}

#[test]
fn a_registrar_drained_in_the_configuration_is_drained_from_the_start() {
    let mut s = ControlState::new(drained_in_config(&["a2"]), resolve);
    let snap = s.snapshot();
    let a2 = find_target(snap.topology(), "a2").expect("a2");
    assert!(!snap.is_eligible(a2));
    assert!(!snap.is_not_drained(a2));
    assert_eq!(drain_view(&s, "a2"), (true, Some("config"), "draining"));
    assert_eq!(drain_view(&s, "a1"), (false, None, "up"));

    // The API cannot undrain it: refused, nothing changes.
    assert_eq!(
        s.set_drained("a2", false),
        Err(DrainError::DrainedInConfig("a2".into()))
    );
    assert_eq!(drain_view(&s, "a2"), (true, Some("config"), "draining"));
    // Draining it again changes no routing; the configuration still names the cause.
    assert_eq!(s.set_drained("a2", true), Ok(false));
    assert_eq!(drain_view(&s, "a2"), (true, Some("config"), "draining"));
    // Effective drain = configuration OR API.
    assert_eq!(s.set_drained("a1", true), Ok(true));
    assert_eq!(drain_view(&s, "a1"), (true, Some("api"), "draining"));
    let snap = s.snapshot();
    let a1 = find_target(snap.topology(), "a1").expect("a1");
    assert!(!snap.is_eligible(a1) && !snap.is_eligible(a2));
}

#[test]
fn reloads_take_the_configuration_drain_from_the_file_and_carry_api_drains_over() {
    let mut s = ControlState::new(drained_in_config(&["a2"]), resolve);
    s.set_drained("a1", true).expect("known");

    // The file keeps a2 drained: still drained after the reload.
    s.replace(drained_in_config(&["a2"]), resolve);
    assert_eq!(drain_view(&s, "a2"), (true, Some("config"), "draining"));
    assert_eq!(drain_view(&s, "a1"), (true, Some("api"), "draining"));

    // The file no longer drains a2 and now drains a1 (already drained by the API).
    s.replace(drained_in_config(&["a1"]), resolve);
    assert_eq!(drain_view(&s, "a2"), (false, None, "up"));
    assert!(s
        .snapshot()
        .is_eligible(find_target(s.topology(), "a2").expect("a2")));
    assert_eq!(drain_view(&s, "a1"), (true, Some("config"), "draining"));
    assert_eq!(
        s.set_drained("a1", false),
        Err(DrainError::DrainedInConfig("a1".into()))
    );

    // The file drains nothing: a1 stays drained by its API command until undrained.
    s.replace(drained_in_config(&[]), resolve);
    assert_eq!(drain_view(&s, "a1"), (true, Some("api"), "draining"));
    assert_eq!(s.set_drained("a1", false), Ok(true));
    assert_eq!(drain_view(&s, "a1"), (false, None, "up"));

    // A configuration drain survives probing being switched off.
    let off = BASE
        .replace("[health]\n", "[health]\nenabled = false\n")
        .replace("id = \"a2\"\n", "id = \"a2\"\ndrained = true\n");
    s.replace(Config::parse(&off, "t.toml").expect("valid"), resolve);
    assert_eq!(drain_view(&s, "a2"), (true, Some("config"), "draining"));
}
