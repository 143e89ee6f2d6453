//! Statistical properties of placement that DESIGN.md requires: minimal disruption when a
//! machine leaves or joins, balance across equal machines, and weights honoured.
//!
//! The bounds are far outside sampling noise (each comment gives the margin in standard
//! deviations), so these tests are deterministic in practice: the keys are fixed.

use director::placement::{first_eligible, rank, top2, Member, PlacementKey, Weight};
use proptest::prelude::*;

/// Users per test, and for the balance bound, which DESIGN.md states "over 1M users".
/// (Measured: the whole file runs in about 2 s in the unoptimised test profile.)
const USERS: usize = 200_000;
const BALANCE_USERS: usize = 1_000_000;

fn equal_machines(n: usize) -> Vec<Member> {
    (0..n)
        .map(|i| Member::new(format!("fe{i}.pool1.example.com"), Weight::ONE))
        .collect()
}

fn keys(n: usize) -> impl Iterator<Item = PlacementKey> {
    (0..n).map(|u| {
        PlacementKey::from_uri_parts(Some(format!("user{u}").as_bytes()), b"example.com")
            .expect("valid key")
    })
}

fn home(key: &PlacementKey, machines: &[Member]) -> usize {
    first_eligible(key, machines, |_| true).expect("non-empty")
}

#[test]
fn removing_a_machine_moves_exactly_its_users_evenly() {
    let all = equal_machines(12);
    let removed = 5;
    let rest: Vec<Member> = all
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != removed)
        .map(|(_, m)| m.clone())
        .collect();
    let mut received = vec![0usize; all.len()];
    let mut moved = 0;
    for key in keys(USERS) {
        let before = &all[home(&key, &all)].id;
        let after = &rest[home(&key, &rest)].id;
        if *before == all[removed].id {
            moved += 1;
            let to = all.iter().position(|m| m.id == *after).expect("in all");
            received[to] += 1;
        } else {
            assert_eq!(before, after, "{key:?} moved although its machine stayed");
        }
    }
    // moved ~ USERS/12 = 16667; each of the 11 others gets ~1515 (sigma ~37): +-15% is ~6 sigma.
    let share = moved as f64 / 11.0;
    for (i, &got) in received.iter().enumerate().filter(|&(i, _)| i != removed) {
        let ratio = got as f64 / share;
        assert!(
            (0.85..=1.15).contains(&ratio),
            "machine {i} got {got}, equal share {share}"
        );
    }
}

#[test]
fn adding_a_machine_moves_about_one_in_n_plus_one_all_to_it() {
    let old = equal_machines(12);
    let mut new = old.clone();
    new.push(Member::new("fe12.pool1.example.com", Weight::ONE));
    let mut moved = 0usize;
    for key in keys(USERS) {
        let before = home(&key, &old);
        let after = home(&key, &new);
        if before != after {
            assert_eq!(after, 12, "{key:?} moved, but not to the new machine");
            moved += 1;
        }
    }
    // Expected USERS/13 = 15385, sigma ~119: +-0.6% of USERS (1200 users) is ~10 sigma.
    let fraction = moved as f64 / USERS as f64;
    assert!(
        (fraction - 1.0 / 13.0).abs() < 0.006,
        "moved fraction {fraction}"
    );
}

#[test]
fn twelve_equal_machines_are_balanced() {
    let machines = equal_machines(12);
    let mut load = [0usize; 12];
    for key in keys(BALANCE_USERS) {
        load[home(&key, &machines)] += 1;
    }
    // 1M users: mean 83333, sigma ~276, so 1.05 x mean is ~15 sigma above the mean.
    let mean = BALANCE_USERS as f64 / 12.0;
    let max = load.iter().copied().max().unwrap_or(0) as f64;
    assert!(
        max / mean <= 1.05,
        "max/mean = {} (loads {load:?})",
        max / mean
    );
}

#[test]
fn weight_two_gets_twice_the_users() {
    // Alternating weights 1, 2, 1, 2, 1, 2: a weight-w machine wins with probability w / 9.
    let machines: Vec<Member> = (0..6)
        .map(|i| {
            let w = Weight::new(1 + (i % 2) as u32).expect("non-zero");
            Member::new(format!("m{i}"), w)
        })
        .collect();
    let mut load = [0usize; 6];
    for key in keys(USERS) {
        load[home(&key, &machines)] += 1;
    }
    let light: usize = load.iter().step_by(2).sum();
    let heavy: usize = load.iter().skip(1).step_by(2).sum();
    // heavy/light expected 2.0; sigma of the ratio ~0.01 at 200k users: +-0.1 is ~10 sigma.
    let ratio = heavy as f64 / light as f64;
    assert!(
        (ratio - 2.0).abs() < 0.1,
        "heavy/light = {ratio} (loads {load:?})"
    );
    for (i, &l) in load.iter().enumerate() {
        let expected = USERS as f64 * (1 + i % 2) as f64 / 9.0;
        assert!(
            (l as f64 / expected - 1.0).abs() < 0.06,
            "machine {i}: {l} vs {expected}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any user and host spelling gives the same key through both entry points, and the
    /// allocation-free hot path agrees with the full ranking under any eligibility.
    #[test]
    fn hot_path_matches_rank(user in "[a-zA-Z0-9.+_-]{1,24}", host in "[a-zA-Z0-9-]{1,12}\\.[a-zA-Z]{2,4}", mask in 0u32..4096) {
        let from_parts = PlacementKey::from_uri_parts(Some(user.as_bytes()), host.as_bytes())
            .expect("valid parts");
        let parsed = PlacementKey::parse_aor(&format!("sips:{user}@{host}:5061;transport=tls"))
            .expect("valid aor");
        prop_assert_eq!(&from_parts, &parsed);
        let lower_host = host.to_ascii_lowercase();
        prop_assert_eq!(from_parts.host(), lower_host.as_bytes());

        let machines = equal_machines(12);
        let eligible = |i: usize| mask & (1 << i) != 0;
        let order: Vec<usize> = rank(&parsed, &machines)
            .iter()
            .map(|r| r.index)
            .filter(|&i| eligible(i))
            .collect();
        prop_assert_eq!(first_eligible(&parsed, &machines, eligible), order.first().copied());
        prop_assert_eq!(top2(&parsed, &machines, eligible), (order.first().copied(), order.get(1).copied()));
    }

    /// Percent-encoding any user part and decoding it through the key gives the user back.
    #[test]
    fn percent_decoding_round_trips(user in proptest::collection::vec(any::<u8>(), 1..32)) {
        let escaped: String = user.iter().map(|b| format!("%{b:02X}")).collect();
        let key = PlacementKey::from_uri_parts(Some(escaped.as_bytes()), b"h.example")
            .expect("valid escapes");
        prop_assert_eq!(key.user(), Some(&user[..]));
    }
}
