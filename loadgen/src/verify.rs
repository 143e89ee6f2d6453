//! An independent implementation of the DESIGN.md placement spec, used by `--verify` to check
//! every 301: primary Contact (q=0.7) must be the first machine in preferred order of the
//! user's primary pool, backup Contact (q=0.3) the first machine of that pool's backup pool.
//!
//! Deliberately shares no code with the director's placement module, so a disagreement shows
//! up as verify mismatches instead of being hidden by a shared bug.

use crate::wbuf::WBuf;
use std::collections::HashMap;
use xxhash_rust::xxh3::xxh3_64;

/// A registrar machine.
#[derive(Debug, Clone)]
pub struct Machine {
    /// Configured id (hashed).
    pub id: String,
    /// Weight >= 1.
    pub weight: u32,
    /// Contact URI the director puts in the 301 (no angle brackets).
    pub contact: String,
}

/// A registrar pool.
#[derive(Debug, Clone)]
pub struct Pool {
    /// Configured id (hashed for pool choice).
    pub id: String,
    /// Weight >= 1.
    pub weight: u32,
    /// Machines.
    pub machines: Vec<Machine>,
    /// Id of the backup pool.
    pub backup: Option<String>,
    /// Only explicitly homed users live here; the pool hash never picks it.
    pub homed_only: bool,
}

/// The topology as far as placement is concerned.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    /// Pools.
    pub pools: Vec<Pool>,
    /// Explicit homing by user key (`user@host`) -> pool id.
    pub user_homes: HashMap<String, String>,
    /// Explicit homing by domain (lowercase host) -> pool id.
    pub domain_homes: HashMap<String, String>,
}

/// `max over i in 0..w of XXH3_64(key || 0x00 || id || 0x00 || decimal(i))`, seed 0.
pub fn score(key: &[u8], id: &[u8], weight: u32, scratch: &mut Vec<u8>) -> u64 {
    scratch.clear();
    scratch.extend_from_slice(key);
    scratch.push(0);
    scratch.extend_from_slice(id);
    scratch.push(0);
    let base = scratch.len();
    let mut best = 0u64;
    for i in 0..weight.max(1) {
        scratch.truncate(base);
        let mut digits = [0u8; 10];
        let mut w = WBuf::new(&mut digits);
        w.dec(u64::from(i));
        let n = w.len();
        scratch.extend_from_slice(&digits[..n]);
        best = best.max(xxh3_64(scratch));
    }
    best
}

/// Index of the first item in preferred order: highest score, ties by id ascending.
fn first<T>(key: &[u8], items: &[T], id_weight: impl Fn(&T) -> (&str, u32)) -> Option<usize> {
    first_where(key, items, id_weight, |_| true)
}

/// [`first`] among the items for which `keep` holds.
fn first_where<T>(
    key: &[u8],
    items: &[T],
    id_weight: impl Fn(&T) -> (&str, u32),
    keep: impl Fn(&T) -> bool,
) -> Option<usize> {
    let mut scratch = Vec::with_capacity(key.len() + 64);
    let mut best: Option<(u64, usize)> = None;
    for (i, it) in items.iter().enumerate().filter(|(_, it)| keep(it)) {
        let (id, w) = id_weight(it);
        let s = score(key, id.as_bytes(), w, &mut scratch);
        let better = match best {
            None => true,
            Some((bs, bi)) => s > bs || (s == bs && id < id_weight(&items[bi]).0),
        };
        if better {
            best = Some((s, i));
        }
    }
    best.map(|b| b.1)
}

/// Machines of `pool` in preferred order for `key` (all of them; cross-checks `first`).
#[cfg(test)]
pub fn preferred_order<'a>(key: &[u8], pool: &'a Pool) -> Vec<&'a Machine> {
    let mut scratch = Vec::new();
    let mut v: Vec<(u64, &Machine)> = pool
        .machines
        .iter()
        .map(|m| (score(key, m.id.as_bytes(), m.weight, &mut scratch), m))
        .collect();
    v.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
    v.into_iter().map(|x| x.1).collect()
}

/// What a 301 for a user must contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected<'a> {
    /// Primary pool id.
    pub primary_pool: &'a str,
    /// Contact of the first machine of the primary pool.
    pub primary: &'a str,
    /// Contact of the first machine of the backup pool, if the pool has one.
    pub backup: Option<&'a str>,
}

impl Topology {
    fn pool(&self, id: &str) -> Option<&Pool> {
        self.pools.iter().find(|p| p.id == id)
    }

    /// The primary pool for `key` (`user@host`): explicit homing first, else the pool hash.
    pub fn primary_pool(&self, key: &str) -> Option<&Pool> {
        if let Some(p) = self.user_homes.get(key).and_then(|id| self.pool(id)) {
            return Some(p);
        }
        let host = key.rsplit_once('@').map_or(key, |(_, h)| h);
        if let Some(p) = self.domain_homes.get(host).and_then(|id| self.pool(id)) {
            return Some(p);
        }
        first_where(
            key.as_bytes(),
            &self.pools,
            |p| (p.id.as_str(), p.weight),
            |p| !p.homed_only,
        )
        .map(|i| &self.pools[i])
    }

    /// What the 301 for `key` must say, `None` if no pool has a machine.
    pub fn expected(&self, key: &str) -> Option<Expected<'_>> {
        let pool = self.primary_pool(key)?;
        let pm = first(key.as_bytes(), &pool.machines, |m| {
            (m.id.as_str(), m.weight)
        })?;
        let backup = pool
            .backup
            .as_deref()
            .and_then(|b| self.pool(b))
            .and_then(|bp| {
                first(key.as_bytes(), &bp.machines, |m| (m.id.as_str(), m.weight))
                    .map(|i| bp.machines[i].contact.as_str())
            });
        Some(Expected {
            primary_pool: &pool.id,
            primary: &pool.machines[pm].contact,
            backup,
        })
    }
}

/// Normalises a contact URI for comparison: angle brackets and surrounding space removed.
pub fn norm_uri(u: &str) -> &str {
    let u = u.trim();
    let u = u.strip_prefix('<').unwrap_or(u);
    u.strip_suffix('>').unwrap_or(u).trim()
}

/// Whether a received contact URI equals a configured one (case-insensitive, as hosts,
/// schemes and transport values are).
pub fn same_uri(got: &[u8], want: &str) -> bool {
    let want = norm_uri(want);
    let got = std::str::from_utf8(got).map(norm_uri).unwrap_or("");
    got.eq_ignore_ascii_case(want)
}

/// Checks the Contacts of a 301 (`(uri, q)` pairs) against `exp`; `Err` describes the mismatch.
pub fn check<'a>(
    exp: &Expected<'_>,
    contacts: impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)>,
) -> Result<(), String> {
    let mut primary: Option<&[u8]> = None;
    let mut backup: Option<&[u8]> = None;
    let mut n = 0;
    for (uri, q) in contacts {
        n += 1;
        match q {
            Some(b"0.7") => primary = Some(uri),
            Some(b"0.3") => backup = Some(uri),
            _ => {}
        }
    }
    let show = |o: Option<&[u8]>| o.map_or("-".into(), |b| String::from_utf8_lossy(b).into_owned());
    let ok_primary = primary.is_some_and(|p| same_uri(p, exp.primary));
    let ok_backup = match (exp.backup, backup) {
        (Some(w), Some(g)) => same_uri(g, w),
        (None, None) => true,
        _ => false,
    };
    if ok_primary && ok_backup {
        Ok(())
    } else {
        Err(format!(
            "expected primary {} (pool {}) backup {}; got {} contacts, q=0.7 {} q=0.3 {}",
            exp.primary,
            exp.primary_pool,
            exp.backup.unwrap_or("-"),
            n,
            show(primary),
            show(backup)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, w: u32) -> Machine {
        Machine {
            id: id.into(),
            weight: w,
            contact: format!("sip:{id}.example.com:5061;transport=TLS"),
        }
    }

    fn topo() -> Topology {
        Topology {
            pools: vec![
                Pool {
                    id: "pool1".into(),
                    weight: 1,
                    machines: vec![m("fe1", 1), m("fe2", 1), m("fe3", 2)],
                    backup: Some("pool2".into()),
                    homed_only: false,
                },
                Pool {
                    id: "pool2".into(),
                    weight: 1,
                    machines: vec![m("se1", 1), m("se2", 1)],
                    backup: Some("pool1".into()),
                    homed_only: false,
                },
            ],
            ..Topology::default()
        }
    }

    #[test]
    fn score_matches_spec_bytes() {
        let mut s = Vec::new();
        let want = xxh3_64(b"alice@example.com\0fe1\x000");
        assert_eq!(score(b"alice@example.com", b"fe1", 1, &mut s), want);
        let w2 = want.max(xxh3_64(b"alice@example.com\0fe1\x001"));
        assert_eq!(score(b"alice@example.com", b"fe1", 2, &mut s), w2);
    }

    #[test]
    fn first_agrees_with_full_order() {
        let t = topo();
        for i in 0..200 {
            let key = format!("user{i}@example.com");
            let e = t.expected(&key).expect("placed");
            let pool = t.primary_pool(&key).expect("pool");
            assert_eq!(preferred_order(key.as_bytes(), pool)[0].contact, e.primary);
            assert!(e.backup.is_some());
            assert_ne!(e.primary_pool, "");
        }
    }

    #[test]
    fn homing_wins_and_check_compares() {
        let mut t = topo();
        t.domain_homes
            .insert("branch.example.com".into(), "pool2".into());
        let e = t.expected("bob@branch.example.com").expect("placed");
        assert_eq!(e.primary_pool, "pool2");
        let p = e.primary;
        let b = e.backup.expect("backup");
        let good = [
            (p.as_bytes(), Some(b"0.7".as_slice())),
            (b.as_bytes(), Some(b"0.3".as_slice())),
        ];
        assert!(check(&e, good.iter().copied()).is_ok());
        let bad = [
            (b.as_bytes(), Some(b"0.7".as_slice())),
            (p.as_bytes(), Some(b"0.3".as_slice())),
        ];
        assert!(check(&e, bad.iter().copied()).is_err());
    }
}
