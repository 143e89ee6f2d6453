//! Valid configurations: defaults, the embedded default, the example file, and the placement
//! queries of the resulting `Topology` (home, eligibility, homing rules, user pool info).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use director::config::{load_file, Config, EMBEDDED_DEFAULT};
use director::placement::{rank, PlacementKey};
use director::topology::{
    EligibleHome, Home, Homing, Mode, PoolIdx, RegistrarIdx, Target, Transport,
};

fn example() -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml");
    load_file(&path).expect("the example configuration is valid")
}

fn key(aor: &str) -> PlacementKey {
    PlacementKey::parse_aor(aor).expect("valid AOR")
}

#[test]
fn embedded_default_validates() {
    let config = Config::embedded_default().expect("embedded default is valid");
    let t = &config.topology;
    assert_eq!(t.mode(), Mode::Redirect);
    assert_eq!(t.expires(), 3600);
    let ids: Vec<&str> = t.pools().iter().map(|p| p.id().as_str()).collect();
    assert_eq!(ids, ["pool1", "pool2"]);
    assert_eq!(t.pool(PoolIdx(0)).backup(), Some(PoolIdx(1)));
    assert_eq!(t.pool(PoolIdx(1)).backup(), Some(PoolIdx(0)));
    assert_eq!(t.registrar_count(), 5);
    let loopback: SocketAddr = "127.0.0.1:5060".parse().expect("addr");
    let listeners: Vec<(SocketAddr, Transport)> = config
        .listeners
        .iter()
        .map(|l| (l.address, l.transport))
        .collect();
    assert_eq!(
        listeners,
        [(loopback, Transport::Udp), (loopback, Transport::Tcp)]
    );
    let fe2 = t.registrar(Target {
        pool: PoolIdx(0),
        registrar: RegistrarIdx(1),
    });
    assert_eq!(
        fe2.contact(),
        "sip:fe2.pool1.example.com:5061;transport=TLS"
    );
    assert_eq!(fe2.endpoint().port, 5061);
    assert_eq!(fe2.endpoint().transport, Transport::Tls);
    assert!(EMBEDDED_DEFAULT.contains("[[pool]]"));
}

#[test]
fn defaults_of_a_minimal_file() {
    let text =
        "[[pool]]\nid = \"p\"\n[[pool.registrar]]\nid = \"r\"\ncontact = \"sip:r.example.com\"\n";
    let config = Config::parse(text, "min.toml").expect("valid");
    assert_eq!(config.workers, 0);
    assert!(
        config.pin_workers,
        "workers are pinned unless the file says otherwise"
    );
    assert_eq!(config.topology.mode(), Mode::Redirect);
    assert_eq!(config.topology.expires(), 3600);
    assert_eq!(config.topology.domain(), None);
    assert_eq!(config.admin, None);
    assert_eq!(
        config.listeners.len(),
        2,
        "default listeners: 127.0.0.1:5060 udp + tcp"
    );
    let h = config.health;
    assert_eq!(h.interval, Duration::from_millis(5000));
    assert_eq!(h.timeout, Duration::from_millis(2000));
    assert_eq!((h.down_after, h.up_after), (3, 2));
    assert_eq!(h.failover_interval, Duration::from_secs(120));
    assert_eq!(h.failback_interval, Duration::from_secs(240));
    let r = &config.topology.pools()[0].registrars()[0];
    assert_eq!(r.weight().get(), 1);
    assert_eq!(
        (
            &*r.endpoint().host,
            r.endpoint().port,
            r.endpoint().transport
        ),
        ("r.example.com", 5060, Transport::Udp)
    );
}

#[test]
fn example_file_validates() {
    let config = example();
    let t = &config.topology;
    assert_eq!(t.pools().len(), 4);
    assert_eq!(t.registrar_count(), 8);
    assert_eq!(config.listeners.len(), 3);
    assert_eq!(t.domain(), Some("example.com"));
    assert_eq!(t.homing_rule_count(), 2);
    let tls = config.listeners[2].tls.as_ref().expect("tls files");
    assert!(tls.certificate.ends_with("config/tls/director.crt.pem"));
    let fe3 = &t.pools()[0].registrars()[2];
    assert_eq!(
        (&*fe3.endpoint().host, fe3.endpoint().port),
        ("192.0.2.13", 5061)
    );
    let big1 = &t.pools()[2].registrars()[0];
    assert_eq!(big1.endpoint().transport, Transport::Tls);
    assert_eq!(big1.endpoint().port, 5061);
    assert_eq!(
        config.admin.map(|a| a.address),
        Some("127.0.0.1:8080".parse().expect("addr"))
    );
}

#[test]
fn homing_rules_win_over_the_hash() {
    let config = example();
    let t = &config.topology;
    let branch = t.pool_by_id("branch1").expect("branch1");
    let pool2 = t.pool_by_id("pool2").expect("pool2");
    assert_eq!(
        t.primary_pool(&key("sip:bob@Branch1.example.com")),
        (branch, Homing::DomainRule)
    );
    assert_eq!(
        t.primary_pool(&key("sips:ceo@EXAMPLE.COM")),
        (pool2, Homing::UserRule)
    );
    // Case of the user is kept: `CEO` is another user, hashed.
    assert_eq!(
        t.primary_pool(&key("sip:CEO@example.com")).1,
        Homing::Hashed
    );
    // Nobody is hashed onto the homed_only branch pool.
    for u in 0..2000 {
        let (pool, homing) = t.primary_pool(&key(&format!("user{u}@example.com")));
        assert_eq!(homing, Homing::Hashed);
        assert_ne!(pool, branch);
    }
}

#[test]
fn home_is_first_of_primary_and_backup_order() {
    let config = example();
    let t = &config.topology;
    for u in 0..500 {
        let k = key(&format!("sip:user{u}@example.com"));
        let info = t.user_pool_info(&k);
        let home: Home = t.home(&k);
        assert_eq!(home.primary.pool, info.primary_pool);
        assert_eq!(home.primary.registrar, info.primary_machines[0]);
        assert_eq!(
            home.backup.map(|b| (b.pool, b.registrar)),
            info.backup_pool.map(|p| (p, info.backup_machines[0]))
        );
        let expected: Vec<RegistrarIdx> = rank(&k, t.pool(info.primary_pool).registrars())
            .iter()
            .map(|r| RegistrarIdx(r.index))
            .collect();
        assert_eq!(info.primary_machines, expected);
    }
}

#[test]
fn home_where_skips_ineligible_machines() {
    let config = Config::embedded_default().expect("valid");
    let t = &config.topology;
    let k = key("sip:alice@example.com");
    let info = t.user_pool_info(&k);
    let down = Target {
        pool: info.primary_pool,
        registrar: info.primary_machines[0],
    };
    let found: EligibleHome = t.home_where(&k, |target| target != down);
    assert_eq!(found.primary_pool, info.primary_pool);
    assert_eq!(
        found.primary.map(|p| p.registrar),
        Some(info.primary_machines[1])
    );
    // A whole pool down: no primary, the backup still answers.
    let primary_pool = info.primary_pool;
    let pool_down: &dyn Fn(Target) -> bool = &|target: Target| target.pool != primary_pool;
    let found = t.home_where(&k, pool_down);
    assert_eq!(found.primary, None);
    assert_eq!(found.backup, t.home(&k).backup);
}

#[test]
fn alice_in_the_demo() {
    // Pinned by the golden vectors: alice hashes to pool1 / fe2 among the demo pools.
    let config = Config::embedded_default().expect("valid");
    let t = &config.topology;
    let info = t.user_pool_info(&key("sip:alice@example.com"));
    assert_eq!(t.pool(info.primary_pool).id().as_str(), "pool1");
    let first = t.registrar(t.home(&key("alice@example.com")).primary);
    assert_eq!(first.id().as_str(), "fe2.pool1.example.com");
}

#[test]
fn ipv6_contact_and_address() {
    let text = "[[pool]]\nid = \"p\"\n[[pool.registrar]]\nid = \"r\"\ncontact = \"sip:[2001:DB8::1]:5070;transport=tcp\"\n\
                [[pool.registrar]]\nid = \"s\"\ncontact = \"sip:s.example.com\"\naddress = \"[2001:db8::2]:5080\"\n";
    let config = Config::parse(text, "v6.toml").expect("valid");
    let rs = config.topology.pools()[0].registrars();
    assert_eq!(
        (
            &*rs[0].endpoint().host,
            rs[0].endpoint().port,
            rs[0].endpoint().transport
        ),
        ("2001:db8::1", 5070, Transport::Tcp)
    );
    assert_eq!(
        (&*rs[1].endpoint().host, rs[1].endpoint().port),
        ("2001:db8::2", 5080)
    );
}

#[test]
fn a_listener_may_override_the_mode() {
    let text = "[director]\nmode = \"redirect\"\n\
        [[listen]]\naddress = \"127.0.0.1:5060\"\ntransport = \"udp\"\nmode = \"proxy\"\n\
        [[listen]]\naddress = \"127.0.0.1:5060\"\ntransport = \"tcp\"\n\
        [[pool]]\nid = \"p\"\n[[pool.registrar]]\nid = \"r\"\ncontact = \"sip:r.example.com\"\n";
    let config = Config::parse(text, "modes.toml").expect("valid");
    let modes: Vec<_> = config.listeners.iter().map(|l| l.mode).collect();
    assert_eq!(modes, [Some(Mode::Proxy), None]);
    let bad = text.replace("mode = \"proxy\"", "mode = \"bounce\"");
    let err = Config::parse(&bad, "modes.toml").expect_err("invalid mode");
    assert!(err.to_string().contains("listen[0].mode"), "{err}");
}
