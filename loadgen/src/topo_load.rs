//! Loads the `--verify` topology: pools, registrars (id, weight, contact), backups and
//! `homed_only` through the director library's own config loader (so the file is validated
//! exactly as the director does), `[[homing]]` rules read from the same TOML (the director
//! keeps them private). Our independent placement ([`crate::verify`]) then computes homes.

use crate::verify::{Machine, Pool, Topology};
use std::path::Path;

/// Canonical placement key of a homing `user` value: scheme dropped, user part
/// percent-decoded with case kept, host lowercased without port or parameters.
pub fn canonical_user(aor: &str) -> String {
    let s = aor.trim();
    let s = s
        .strip_prefix("sips:")
        .or_else(|| s.strip_prefix("sip:"))
        .unwrap_or(s);
    let s = s.split([';', '?', '>']).next().unwrap_or(s);
    let (user, host) = match s.rsplit_once('@') {
        Some((u, h)) => (Some(u.split(':').next().unwrap_or(u)), h),
        None => (None, s),
    };
    let host = canonical_host(host);
    match user {
        Some(u) => format!("{}@{host}", percent_decode(u)),
        None => host,
    }
}

fn canonical_host(h: &str) -> String {
    let h = h.trim();
    let h = if let Some(rest) = h.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        h.split(':').next().unwrap_or(h)
    };
    h.to_ascii_lowercase()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads `path` with the director's config loader, plus its `[[homing]]` rules.
pub fn load(path: &Path) -> Result<Topology, String> {
    let cfg = director::config::load_file(path).map_err(|e| format!("--verify: {e}"))?;
    let t = &cfg.topology;
    let pools = t
        .pools()
        .iter()
        .map(|p| Pool {
            id: p.id().as_str().to_string(),
            weight: p.weight().get(),
            machines: p
                .registrars()
                .iter()
                .map(|r| Machine {
                    id: r.id().as_str().to_string(),
                    weight: r.weight().get(),
                    contact: r.contact().to_string(),
                })
                .collect(),
            backup: p.backup().map(|b| t.pool(b).id().as_str().to_string()),
            homed_only: p.homed_only(),
        })
        .collect();
    let mut topo = Topology {
        pools,
        ..Topology::default()
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("--verify {}: {e}", path.display()))?;
    let raw: toml::Value = toml::from_str(&text).map_err(|e| format!("--verify: {e}"))?;
    if let Some(rules) = raw.get("homing").and_then(|h| h.as_array()) {
        for r in rules {
            let Some(pool) = r.get("pool").and_then(|p| p.as_str()) else {
                continue;
            };
            if let Some(u) = r.get("user").and_then(|u| u.as_str()) {
                topo.user_homes.insert(canonical_user(u), pool.to_string());
            } else if let Some(d) = r.get("domain").and_then(|d| d.as_str()) {
                topo.domain_homes
                    .insert(canonical_host(d), pool.to_string());
            }
        }
    }
    if topo.user_homes.len() + topo.domain_homes.len() != t.homing_rule_count() {
        return Err(format!(
            "--verify: read {} homing rules, the director has {}",
            topo.user_homes.len() + topo.domain_homes.len(),
            t.homing_rule_count()
        ));
    }
    Ok(topo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_keys() {
        assert_eq!(
            canonical_user("sip:Alice@Example.COM:5060;x=y"),
            "Alice@example.com"
        );
        assert_eq!(canonical_user("ceo@example.com"), "ceo@example.com");
        assert_eq!(canonical_user("sips:a%41b@h"), "aAb@h");
        assert_eq!(canonical_host("Branch1.Example.com"), "branch1.example.com");
    }
}

#[cfg(test)]
mod cross_check {
    use super::*;
    use director::placement::PlacementKey;

    /// Our placement and the director's agree on the example configuration (weights, a
    /// homed-only pool, user and domain homing rules).
    #[test]
    fn agrees_with_director_on_example_config() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../director/config/example.toml");
        let ours = load(&path).expect("example config loads");
        let cfg = director::config::load_file(&path).expect("director loads it");
        let t = &cfg.topology;
        let mut keys: Vec<String> = (0..3000).map(|i| format!("user{i}@example.com")).collect();
        keys.extend((0..50).map(|i| format!("user{i}@branch1.example.com")));
        keys.push("ceo@example.com".into());
        for key in &keys {
            let k = PlacementKey::parse_aor(key).expect("key");
            let home = t.home(&k);
            let exp = ours.expected(key).expect("placed");
            assert_eq!(exp.primary, t.registrar(home.primary).contact(), "{key}");
            assert_eq!(
                exp.backup,
                home.backup.map(|b| t.registrar(b).contact()),
                "{key}"
            );
        }
        let ceo = ours.expected("ceo@example.com").expect("placed");
        assert_eq!(ceo.primary_pool, "pool2");
        let branch = ours.expected("user1@branch1.example.com").expect("placed");
        assert_eq!(branch.primary_pool, "branch1");
    }
}
