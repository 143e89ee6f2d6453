//! An independent implementation of the placement specification in `shared/DESIGN.md`,
//! written from the text alone: canonical key, XXH3-64 scores maximised over weights, order by
//! descending score then id. The tests compare the director's answers with this.

use crate::topology::Topology;

/// Canonical key of a `sip:`/`sips:` AOR such as `sip:Alice@Example.COM:5061;transport=tls`.
pub fn key(aor: &str) -> Vec<u8> {
    let rest = aor
        .strip_prefix("sips:")
        .or_else(|| aor.strip_prefix("sip:"))
        .unwrap_or(aor);
    let (user, hostport) = match rest.rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let hostport = hostport.split([';', '?']).next().unwrap_or(hostport);
    let host = if hostport.starts_with('[') {
        &hostport[..hostport.find(']').map_or(hostport.len(), |i| i + 1)]
    } else {
        hostport.split(':').next().unwrap_or(hostport)
    };
    let mut out = Vec::new();
    if let Some(user) = user {
        let user = user.split(':').next().unwrap_or(user); // no password
                                                           // A ';' before the '@' belongs to the user part (RFC 3261 user-unreserved; RFC 4475
                                                           // semiuri): only URI parameters after the host are dropped.
        let b = user.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' && i + 2 < b.len() {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).expect("ascii escape");
                out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        out.push(b'@');
    }
    out.extend(host.bytes().map(|b| b.to_ascii_lowercase()));
    out
}

/// `max over i in 0..w of XXH3_64(key || 0 || id || 0 || decimal(i))`.
pub fn score(key: &[u8], id: &str, weight: u32) -> u64 {
    (0..weight)
        .map(|i| {
            let mut input = key.to_vec();
            input.push(0);
            input.extend_from_slice(id.as_bytes());
            input.push(0);
            input.extend_from_slice(i.to_string().as_bytes());
            xxhash_rust::xxh3::xxh3_64(&input)
        })
        .max()
        .unwrap_or(0)
}

/// Indices of `items` (id, weight) in preferred order.
pub fn order<'a>(key: &[u8], items: impl Iterator<Item = (&'a str, u32)>) -> Vec<usize> {
    let mut scored: Vec<(u64, &str, usize)> = items
        .enumerate()
        .map(|(i, (id, w))| (score(key, id, w), id, i))
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().map(|(_, _, i)| i).collect()
}

/// The expected Contacts of the 301 for `aor`: (primary, backup), all machines up.
pub fn expected_contacts(topo: &Topology, aor: &str) -> (String, Option<String>) {
    let k = key(aor);
    let host_start = k.iter().position(|&b| b == b'@').map_or(0, |i| i + 1);
    let user_rule = topo
        .user_homing
        .iter()
        .find(|(u, _)| u.as_bytes() == k.as_slice());
    let domain_rule = topo
        .domain_homing
        .iter()
        .find(|(d, _)| d.as_bytes() == &k[host_start..]);
    let pool = match user_rule.or(domain_rule) {
        Some((_, pool)) => topo.pool_index(pool),
        None => order(&k, topo.pools.iter().map(|p| (p.id.as_str(), p.weight)))[0],
    };
    let first = |p: usize| {
        let regs = &topo.pools[p].registrars;
        let i = order(&k, regs.iter().map(|r| (r.id.as_str(), r.weight)))[0];
        regs[i].contact.clone()
    };
    let backup = topo.pools[pool]
        .backup
        .as_ref()
        .map(|b| first(topo.pool_index(b)));
    (first(pool), backup)
}
