//! The health policy and the routing rule with synthetic time: up/down hysteresis, drain,
//! failover after the interval, failback, and what a user is sent to in each phase.

use std::time::{Duration, Instant};

use director::config::{Config, HealthSettings};
use director::health::{find_target, HealthPolicy, RegistrarState};
use director::placement::PlacementKey;
use director::routing::route;
use director::snapshot::Snapshot;
use director::topology::{Target, Topology};

const TOPO: &str = r#"
[health]
interval_ms = 1000
timeout_ms = 500
down_after = 2
up_after = 2
failover_interval_s = 10
failback_interval_s = 20

[[pool]]
id = "pool1"
backup = "pool2"
[[pool.registrar]]
id = "a1"
contact = "sip:a1.example.com"
[[pool.registrar]]
id = "a2"
contact = "sip:a2.example.com"

[[pool]]
id = "pool2"
[[pool.registrar]]
id = "b1"
contact = "sip:b1.example.com"
"#;

fn setup() -> (Topology, HealthSettings) {
    let c = Config::parse(TOPO, "t.toml").expect("valid");
    (c.topology, c.health)
}

fn t(topo: &Topology, id: &str) -> Target {
    find_target(topo, id).expect("registrar exists")
}

fn snap(topo: &Topology, p: &HealthPolicy) -> Snapshot {
    Snapshot::new(topo.clone(), p.eligibility(), Vec::new(), 1)
}

/// A user of pool1 (every user is: pool2 is the only other pool, but pool placement is by hash,
/// so pick one that hashes to pool1).
fn pool1_user(topo: &Topology) -> PlacementKey {
    (0..1000)
        .map(|i| PlacementKey::parse_aor(&format!("sip:u{i}@example.com")).expect("key"))
        .find(|k| topo.primary_pool(k).0 .0 == 0)
        .expect("some user in pool1")
}

fn fail(p: &mut HealthPolicy, t: Target, now: Instant) -> bool {
    p.probe(t, None, now)
}

fn ok(p: &mut HealthPolicy, t: Target, now: Instant) -> bool {
    p.probe(t, Some(Duration::from_millis(1)), now)
}

#[test]
fn down_after_and_up_after_hysteresis() {
    let (topo, s) = setup();
    let mut p = HealthPolicy::new(&topo, s);
    let a1 = t(&topo, "a1");
    let now = Instant::now();
    assert!(!fail(&mut p, a1, now), "one failure is not enough");
    assert!(fail(&mut p, a1, now), "the second makes it down");
    assert_eq!(
        p.registrar(a1).map(|h| h.state()),
        Some(RegistrarState::Down)
    );
    assert!(!ok(&mut p, a1, now));
    assert!(!fail(&mut p, a1, now), "a failure resets the up streak");
    assert!(!ok(&mut p, a1, now));
    assert!(ok(&mut p, a1, now), "two answers in a row make it up");
    assert_eq!(p.registrar(a1).map(|h| h.state()), Some(RegistrarState::Up));
}

#[test]
fn a_down_machine_moves_its_users_to_the_next_in_order() {
    let (topo, s) = setup();
    let mut p = HealthPolicy::new(&topo, s);
    let key = pool1_user(&topo);
    let first = route(&snap(&topo, &p), &key).expect("route").primary;
    let now = Instant::now();
    fail(&mut p, first, now);
    fail(&mut p, first, now);
    let r = route(&snap(&topo, &p), &key).expect("route");
    assert_ne!(r.primary, first);
    assert_eq!(r.primary.pool, first.pool, "stays in the primary pool");
    assert_eq!(r.forward, r.primary);
    assert_eq!(r.backup, Some(t(&topo, "b1")));
}

#[test]
fn drain_takes_a_machine_out_without_probes() {
    let (topo, s) = setup();
    let mut p = HealthPolicy::new(&topo, s);
    let key = pool1_user(&topo);
    let first = route(&snap(&topo, &p), &key).expect("route").primary;
    assert!(p.set_drained(first, true));
    assert!(!p.set_drained(first, true), "idempotent");
    assert_eq!(
        p.registrar(first).map(|h| h.state()),
        Some(RegistrarState::Draining)
    );
    assert_ne!(route(&snap(&topo, &p), &key).expect("route").primary, first);
    assert!(p.set_drained(first, false));
    assert_eq!(route(&snap(&topo, &p), &key).expect("route").primary, first);
}

#[test]
fn whole_pool_down_fails_over_after_the_interval_and_back_after_failback() {
    let (topo, s) = setup();
    let mut p = HealthPolicy::new(&topo, s);
    let key = pool1_user(&topo);
    let (a1, a2, b1) = (t(&topo, "a1"), t(&topo, "a2"), t(&topo, "b1"));
    let preferred = route(&snap(&topo, &p), &key).expect("route").primary;
    let t0 = Instant::now();
    for m in [a1, a2] {
        fail(&mut p, m, t0);
        fail(&mut p, m, t0);
    }
    // Within the failover interval: the primary Contact stays in pool1, backup is b1, proxy
    // mode forwards to b1.
    let r = route(&snap(&topo, &p), &key).expect("route");
    assert_eq!((r.primary, r.backup, r.forward), (preferred, Some(b1), b1));
    assert_eq!(p.next_deadline(), Some(t0 + Duration::from_secs(10)));
    assert!(!p.tick(t0 + Duration::from_secs(9)));
    assert!(p.tick(t0 + Duration::from_secs(10)), "fails over");
    let r = route(&snap(&topo, &p), &key).expect("route");
    assert_eq!((r.primary, r.backup, r.forward), (b1, None, b1));

    // pool1 comes back: users stay on pool2 during the failback interval, pool1 as q=0.3.
    let t1 = t0 + Duration::from_secs(30);
    for m in [a1, a2] {
        ok(&mut p, m, t1);
        ok(&mut p, m, t1);
    }
    let r = route(&snap(&topo, &p), &key).expect("route");
    assert_eq!((r.primary, r.backup), (b1, Some(preferred)));
    assert!(!p.tick(t1 + Duration::from_secs(19)));
    assert!(p.tick(t1 + Duration::from_secs(20)), "fails back");
    let r = route(&snap(&topo, &p), &key).expect("route");
    assert_eq!((r.primary, r.backup), (preferred, Some(b1)));
}

#[test]
fn a_flapping_pool_restarts_its_failover_timer() {
    let (topo, s) = setup();
    let mut p = HealthPolicy::new(&topo, s);
    let (a1, a2) = (t(&topo, "a1"), t(&topo, "a2"));
    let t0 = Instant::now();
    for m in [a1, a2] {
        fail(&mut p, m, t0);
        fail(&mut p, m, t0);
    }
    let t1 = t0 + Duration::from_secs(5);
    ok(&mut p, a1, t1);
    ok(&mut p, a1, t1);
    for _ in 0..2 {
        fail(&mut p, a1, t1 + Duration::from_secs(1));
    }
    assert!(
        !p.tick(t0 + Duration::from_secs(10)),
        "timer restarted at t1+1"
    );
    assert!(p.tick(t1 + Duration::from_secs(11)));
    assert!(p.eligibility().failed_over[0]);
}

#[test]
fn nothing_anywhere_is_none_and_no_backup_pool_is_none_at_once() {
    let (topo, s) = setup();
    let mut p = HealthPolicy::new(&topo, s);
    let key = pool1_user(&topo);
    let now = Instant::now();
    for id in ["a1", "a2", "b1"] {
        fail(&mut p, t(&topo, id), now);
        fail(&mut p, t(&topo, id), now);
    }
    assert_eq!(route(&snap(&topo, &p), &key), None);
}

#[test]
fn reload_carries_state_over_by_id() {
    let (topo, s) = setup();
    let mut p = HealthPolicy::new(&topo, s);
    let now = Instant::now();
    fail(&mut p, t(&topo, "a2"), now);
    fail(&mut p, t(&topo, "a2"), now);
    p.set_drained(t(&topo, "b1"), true);
    // New topology: a3 added in front of a2 (indices shift), a1 removed.
    let text = TOPO.replace(
        "[[pool.registrar]]\nid = \"a1\"\ncontact = \"sip:a1.example.com\"\n",
        "[[pool.registrar]]\nid = \"a3\"\ncontact = \"sip:a3.example.com\"\n",
    );
    let new = Config::parse(&text, "t.toml").expect("valid").topology;
    let q = p.carried_over(&topo, &new, s);
    let state = |id: &str| q.registrar(t(&new, id)).map(|h| h.state());
    assert_eq!(
        state("a3"),
        Some(RegistrarState::Up),
        "new machines start up"
    );
    assert_eq!(state("a2"), Some(RegistrarState::Down));
    assert_eq!(state("b1"), Some(RegistrarState::Draining));
}
