//! Topologies whose registrars are the listeners of a
//! [`RegistrarFarm`](crate::registrar_farm::RegistrarFarm), rendered with the `[health]`,
//! `[admin]` and `mode` settings the resilience tests need, and the expected preferred orders
//! from the independent [`crate::oracle`].

use std::net::{SocketAddr, UdpSocket};

use crate::oracle;
use crate::sip_client::{parse_answer, register, udp_exchange, Answer};
use crate::topology::{Pool, Registrar, Topology};

/// Pools `pool1..` with `sizes[i]` registrars each, ids `feN.poolP`, contacts (and so probe
/// and proxy endpoints) the farm's addresses in order; pools paired in a ring.
pub fn farm_topology(sizes: &[usize], addrs: &[SocketAddr]) -> Topology {
    assert_eq!(
        sizes.iter().sum::<usize>(),
        addrs.len(),
        "one address per registrar"
    );
    let mut it = addrs.iter();
    let n = sizes.len();
    let pools = sizes
        .iter()
        .enumerate()
        .map(|(p, &size)| Pool {
            id: format!("pool{}", p + 1),
            weight: 1,
            backup: Some(format!("pool{}", (p + 1) % n + 1)).filter(|_| n > 1),
            registrars: (1..=size)
                .map(|r| Registrar {
                    id: format!("fe{r}.pool{}", p + 1),
                    weight: 1,
                    contact: format!("sip:{}", it.next().expect("address")),
                })
                .collect(),
        })
        .collect();
    Topology {
        pools,
        expires: 600,
        ..Default::default()
    }
}

/// Settings added to the rendered configuration.
#[derive(Debug, Clone)]
pub struct Extra {
    /// `redirect` or `proxy`.
    pub mode: &'static str,
    /// Probe interval (ms); probes off when 0.
    pub interval_ms: u64,
    /// Failover interval (s).
    pub failover_s: u64,
    /// Failback interval (s).
    pub failback_s: u64,
}

impl Default for Extra {
    fn default() -> Self {
        Extra {
            mode: "redirect",
            interval_ms: 100,
            failover_s: 2,
            failback_s: 2,
        }
    }
}

/// The configuration text: UDP and TCP on loopback port 0, one worker, admin on port 0.
pub fn config(topo: &Topology, extra: &Extra) -> String {
    let mut s = topo.to_toml(&[("127.0.0.1:0", "udp"), ("127.0.0.1:0", "tcp")], 1);
    s = s.replacen(
        "[director]\n",
        &format!("[director]\nmode = \"{}\"\n", extra.mode),
        1,
    );
    s.push_str("\n[admin]\naddress = \"127.0.0.1:0\"\n");
    if extra.interval_ms > 0 {
        s.push_str(&format!(
            "\n[health]\ninterval_ms = {i}\ntimeout_ms = {i}\ndown_after = 2\nup_after = 2\n\
             failover_interval_s = {}\nfailback_interval_s = {}\n",
            extra.failover_s,
            extra.failback_s,
            i = extra.interval_ms
        ));
    }
    s
}

/// A user's placement by the oracle: primary pool index, its registrars in preferred order,
/// backup pool index and its order.
pub fn placement(topo: &Topology, aor: &str) -> (usize, Vec<usize>, Option<usize>, Vec<usize>) {
    let k = oracle::key(aor);
    let pool = oracle::order(&k, topo.pools.iter().map(|p| (p.id.as_str(), p.weight)))[0];
    let order = |p: usize| {
        oracle::order(
            &k,
            topo.pools[p]
                .registrars
                .iter()
                .map(|r| (r.id.as_str(), r.weight)),
        )
    };
    let backup = topo.pools[pool].backup.as_ref().map(|b| topo.pool_index(b));
    (
        pool,
        order(pool),
        backup,
        backup.map(order).unwrap_or_default(),
    )
}

/// The first registrar (contact) of `pool` in `order` that `up` accepts.
pub fn first_up(
    topo: &Topology,
    pool: usize,
    order: &[usize],
    up: impl Fn(&str) -> bool,
) -> Option<String> {
    order
        .iter()
        .map(|&i| &topo.pools[pool].registrars[i])
        .find(|r| up(&r.id))
        .map(|r| r.contact.clone())
}

/// REGISTER over UDP, the answer parsed.
pub fn register_udp(sock: &UdpSocket, to: SocketAddr, aor: &str, n: u64) -> Answer {
    let local = sock.local_addr().expect("local addr");
    let raw = udp_exchange(sock, to, register(aor, local, "UDP", n).as_bytes())
        .unwrap_or_else(|| panic!("no answer for {aor}"));
    parse_answer(&raw)
}

/// The 301's contacts as (primary, backup) URIs.
pub fn contacts(a: &Answer) -> (Option<String>, Option<String>) {
    assert_eq!(a.code, 301, "{}", a.raw);
    let find = |q: &str| {
        a.contacts
            .iter()
            .find(|(_, v)| v == q)
            .map(|(c, _)| c.clone())
    };
    (find("0.7"), find("0.3"))
}

/// Proxy mode with probes every `interval_ms` (0: no `[health]` section).
pub fn proxy(interval_ms: u64) -> Extra {
    Extra {
        mode: "proxy",
        interval_ms,
        ..Extra::default()
    }
}

/// Index into the farm's addresses of the user's first machine for which `up` holds.
pub fn home_index(topo: &Topology, aor: &str, up: impl Fn(&str) -> bool) -> usize {
    let (pool, order, _, _) = placement(topo, aor);
    let offset: usize = topo.pools[..pool].iter().map(|p| p.registrars.len()).sum();
    let r = order
        .iter()
        .copied()
        .find(|&i| up(&topo.pools[pool].registrars[i].id))
        .expect("an up machine");
    offset + r
}

/// The farm listener that answered: `loadgen registrar` tags its To with `reg<index hex>`.
pub fn answered_by(raw: &str) -> usize {
    let to = parse_answer(raw).header("to").expect("To").to_string();
    let tag = to.split(";tag=reg").nth(1).expect("farm tag");
    usize::from_str_radix(tag.trim(), 16).expect("hex index")
}
