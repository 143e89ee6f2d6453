//! The flood limiter's token buckets and per-source table, with synthetic time.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use director::limiter::{source_key, Bucket, Rate, SourceTable};

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn taken(table: &mut SourceTable, ip: IpAddr, n: usize, now_ms: u64) -> usize {
    (0..n).filter(|_| table.allow(ip, now_ms)).count()
}

#[test]
fn a_bucket_allows_its_burst_then_its_rate() {
    let rate = Rate::new(100, 10);
    let mut b = Bucket::full(rate, 0);
    assert_eq!((0..50).filter(|_| b.take(rate, 0)).count(), 10);
    assert!(!b.take(rate, 0));
    // 100/s: one token every 10 ms.
    assert!(!b.take(rate, 9));
    assert!(b.take(rate, 10));
    assert!(!b.take(rate, 10));
    // A second later: refilled to the burst, not beyond.
    assert_eq!((0..50).filter(|_| b.take(rate, 1010)).count(), 10);
}

#[test]
fn a_bucket_counts_fractions_of_tokens_exactly() {
    // 3 per second: 1000 ms earns exactly 3, spread over ticks that do not divide evenly.
    let rate = Rate::new(3, 2);
    let mut b = Bucket::full(rate, 0);
    assert!(b.take(rate, 0) && b.take(rate, 0));
    let mut granted = 0;
    for t in 1..=3000u64 {
        if b.take(rate, t) {
            granted += 1;
        }
    }
    assert_eq!(granted, 9);
}

#[test]
fn a_tick_going_backwards_earns_nothing() {
    let rate = Rate::new(1000, 1);
    let mut b = Bucket::full(rate, 500);
    assert!(b.take(rate, 500));
    assert!(!b.take(rate, 100));
    assert!(!b.take(rate, 500));
    assert!(b.take(rate, 501));
}

#[test]
fn zero_rates_are_raised_to_one() {
    assert_eq!(Rate::new(0, 0), Rate { per_s: 1, burst: 1 });
}

#[test]
fn one_flooding_source_is_limited_and_others_are_not() {
    let mut table = SourceTable::new(4096, Rate::new(100, 20), 7);
    let flooder = v4(127, 0, 0, 5);
    // 10 000 requests in one second from the flooder: burst plus one second's rate.
    let mut granted = 0;
    for i in 0..10_000u64 {
        let now = i / 10;
        if table.allow(flooder, now) {
            granted += 1;
        }
        // Another client at 10/s in the same second is never refused.
        if i % 1000 == 0 {
            assert!(table.allow(v4(10, 0, 0, 1), now), "at {now} ms");
        }
    }
    assert!((100..=121).contains(&granted), "granted {granted}");
}

#[test]
fn many_sources_each_get_their_own_burst() {
    let mut table = SourceTable::new(4096, Rate::new(10, 5), 1);
    for i in 0..1000u32 {
        let ip = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
        assert_eq!(taken(&mut table, ip, 5, 0), 5, "source {i}");
    }
    // Nearly all are remembered (a few lost their slot to a source hashing to the same two):
    // a second round right away is refused.
    let refused = (0..1000u32)
        .filter(|i| !table.allow(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)), 0))
        .count();
    assert!(refused >= 950, "refused {refused}");
}

#[test]
fn a_full_table_evicts_idle_sources_not_the_flooder() {
    let mut table = SourceTable::new(16, Rate::new(10, 5), 3);
    let flooder = v4(192, 0, 2, 1);
    assert_eq!(taken(&mut table, flooder, 100, 0), 5);
    // Far more sources than slots pass through, each sending once (they stay nearly full).
    for i in 0..10_000u32 {
        let ip = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
        assert!(table.allow(ip, 10), "a new source starts with its burst");
    }
    // The flooder is still limited: at 50 ms it has earned nothing beyond 0.5 tokens.
    assert_eq!(taken(&mut table, flooder, 100, 50), 0);
}

#[test]
fn ipv6_sources_are_keyed_by_their_64_prefix() {
    let a: Ipv6Addr = "2001:db8:1:2::1".parse().unwrap();
    let b: Ipv6Addr = "2001:db8:1:2:ffff::9".parse().unwrap();
    let c: Ipv6Addr = "2001:db8:1:3::1".parse().unwrap();
    assert_eq!(source_key(a.into()), source_key(b.into()));
    assert_ne!(source_key(a.into()), source_key(c.into()));
    let mut table = SourceTable::new(64, Rate::new(1, 3), 9);
    assert_eq!(taken(&mut table, a.into(), 2, 0), 2);
    assert_eq!(taken(&mut table, b.into(), 5, 0), 1);
    assert_eq!(taken(&mut table, c.into(), 5, 0), 3);
}

#[test]
fn ipv4_mapped_addresses_are_the_ipv4_source() {
    let mapped: Ipv6Addr = "::ffff:127.0.0.5".parse().unwrap();
    assert_eq!(source_key(mapped.into()), source_key(v4(127, 0, 0, 5)));
    // An IPv6 prefix never collides with an IPv4 key.
    let zero: Ipv6Addr = "::".parse().unwrap();
    assert_ne!(source_key(zero.into()), source_key(v4(0, 0, 0, 0)));
}
