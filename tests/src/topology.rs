//! A topology as the tests describe it, rendered to the director's TOML configuration format.

use std::fmt::Write;

/// One registrar.
#[derive(Debug, Clone)]
pub struct Registrar {
    /// Machine id (what the hash uses).
    pub id: String,
    /// Weight (>= 1).
    pub weight: u32,
    /// Contact URI the 301 carries.
    pub contact: String,
}

/// One pool.
#[derive(Debug, Clone)]
pub struct Pool {
    /// Pool id.
    pub id: String,
    /// Pool weight.
    pub weight: u32,
    /// Backup pool id.
    pub backup: Option<String>,
    /// Machines.
    pub registrars: Vec<Registrar>,
}

/// Pools plus explicit homing rules.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    /// Pools in configuration order.
    pub pools: Vec<Pool>,
    /// `user@host` -> pool id.
    pub user_homing: Vec<(String, String)>,
    /// domain -> pool id.
    pub domain_homing: Vec<(String, String)>,
    /// Expires in the 301.
    pub expires: u32,
}

impl Topology {
    /// `pools` pools named `pool1..`, each with `per_pool` registrars of weight 1 (the second
    /// of each pool weighted 2 when `weighted`), pools paired in a ring as backups.
    pub fn ring(pools: usize, per_pool: usize, weighted: bool) -> Self {
        let pools = (1..=pools)
            .map(|p| Pool {
                id: format!("pool{p}"),
                weight: 1,
                backup: Some(format!("pool{}", p % pools + 1)).filter(|_| pools > 1),
                registrars: (1..=per_pool)
                    .map(|r| Registrar {
                        id: format!("fe{r}.pool{p}.example.com"),
                        weight: if weighted && r == 2 { 2 } else { 1 },
                        contact: format!("sip:fe{r}.pool{p}.example.com:5061;transport=TLS"),
                    })
                    .collect(),
            })
            .collect();
        Topology {
            pools,
            expires: 1800,
            ..Default::default()
        }
    }

    /// Index of a pool by id. Panics on an unknown id (a bug in the test).
    pub fn pool_index(&self, id: &str) -> usize {
        self.pools
            .iter()
            .position(|p| p.id == id)
            .unwrap_or_else(|| panic!("unknown pool {id}"))
    }

    /// The configuration file text, listening on `listen` (address, transport) pairs.
    pub fn to_toml(&self, listen: &[(&str, &str)], workers: u32) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "[director]\nworkers = {workers}\nexpires = {}\n",
            self.expires
        );
        for (addr, transport) in listen {
            let _ = writeln!(
                s,
                "[[listen]]\naddress = \"{addr}\"\ntransport = \"{transport}\"\n"
            );
        }
        for p in &self.pools {
            let _ = writeln!(s, "[[pool]]\nid = \"{}\"\nweight = {}", p.id, p.weight);
            if let Some(b) = &p.backup {
                let _ = writeln!(s, "backup = \"{b}\"");
            }
            for r in &p.registrars {
                let _ = writeln!(
                    s,
                    "\n[[pool.registrar]]\nid = \"{}\"\nweight = {}\ncontact = \"{}\"",
                    r.id, r.weight, r.contact
                );
            }
            s.push('\n');
        }
        for (user, pool) in &self.user_homing {
            let _ = writeln!(s, "[[homing]]\nuser = \"{user}\"\npool = \"{pool}\"\n");
        }
        for (domain, pool) in &self.domain_homing {
            let _ = writeln!(s, "[[homing]]\ndomain = \"{domain}\"\npool = \"{pool}\"\n");
        }
        s
    }
}
