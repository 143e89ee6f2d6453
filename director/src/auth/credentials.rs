//! The credentials file (`[auth] credentials`): one `[[user]]` per address of record, with a
//! plaintext `password` or precomputed `ha1_md5` / `ha1_sha256` (hex of
//! `H(user ":" realm ":" password)`, where `user` is the AOR's user part). Parsed once at load;
//! only HA1 values are kept. Errors name `FILE:LINE:COL` and the field (`user[2].password`).
//!
//! ```toml
//! [[user]]
//! aor = "alice@example.com"
//! password = "secret"
//!
//! [[user]]
//! aor = "bob@example.com"
//! ha1_md5 = "0123456789abcdef0123456789abcdef"
//! ha1_sha256 = "..."
//! ```

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::algorithm::{Algorithm, HexDigest};
use crate::placement::PlacementKey;

/// HA1 values of one user, per algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    /// The AOR's user part: the digest `username` (and the `user` in HA1).
    pub user: Box<[u8]>,
    ha1: [Option<HexDigest>; 2],
}

impl UserEntry {
    /// HA1 for `alg`, if known.
    pub fn ha1(&self, alg: Algorithm) -> Option<&HexDigest> {
        self.ha1[slot(alg)].as_ref()
    }
}

fn slot(alg: Algorithm) -> usize {
    match alg {
        Algorithm::Sha256 => 0,
        Algorithm::Md5 => 1,
    }
}

/// Every user, by canonical AOR (`user@host`, as placement computes it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    users: HashMap<Box<[u8]>, UserEntry>,
}

impl Credentials {
    /// The entry for a canonical AOR (placement key bytes). No allocation.
    pub fn get(&self, aor: &[u8]) -> Option<&UserEntry> {
        self.users.get(aor)
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Parses a credentials file's text. `realm` and `algorithms` are the `[auth]` settings:
    /// passwords are hashed for each algorithm, and every user must have an HA1 for each.
    pub fn parse(
        text: &str,
        file: &str,
        realm: &str,
        algorithms: &[Algorithm],
    ) -> Result<Credentials, CredentialsError> {
        let err = |span: Range<usize>, field: Option<String>, problem: CredentialsProblem| {
            let (line, column) = line_col(text, span.start);
            CredentialsError {
                file: file.to_owned(),
                line,
                column,
                field,
                problem,
            }
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let msg = e.message().trim_end().to_owned();
            err(
                e.span().unwrap_or(0..0),
                None,
                CredentialsProblem::Toml(msg),
            )
        })?;
        if raw.user.is_empty() {
            return Err(err(0..0, Some("user".into()), CredentialsProblem::NoUsers));
        }
        let mut users = HashMap::with_capacity(raw.user.len());
        let mut lines: HashMap<Box<[u8]>, usize> = HashMap::new();
        for (i, u) in raw.user.iter().enumerate() {
            let field = |name: &str| Some(format!("user[{i}].{name}"));
            let u = u.get_ref();
            let at = |v: &Spanned<String>, name: &str, p| err(v.span(), field(name), p);
            let key = PlacementKey::parse_aor(u.aor.get_ref())
                .map_err(|e| at(&u.aor, "aor", CredentialsProblem::Aor(e.to_string())))?;
            let Some(user) = key.user() else {
                let why = "expected user@domain".to_owned();
                return Err(at(&u.aor, "aor", CredentialsProblem::Aor(why)));
            };
            let aor: Box<[u8]> = key.as_bytes().into();
            let line = line_col(text, u.aor.span().start).0;
            if let Some(&first_line) = lines.get(&aor) {
                let problem = CredentialsProblem::Duplicate {
                    aor: key.to_string(),
                    first_line,
                };
                return Err(at(&u.aor, "aor", problem));
            }
            lines.insert(aor.clone(), line);
            let mut ha1 = [None, None];
            match (&u.password, &u.ha1_md5, &u.ha1_sha256) {
                (Some(p), None, None) => {
                    if p.get_ref().is_empty() {
                        return Err(at(p, "password", CredentialsProblem::EmptyPassword));
                    }
                    for alg in Algorithm::ALL {
                        let parts: [&[u8]; 5] =
                            [user, b":", realm.as_bytes(), b":", p.get_ref().as_bytes()];
                        ha1[slot(alg)] = Some(alg.hex(&parts));
                    }
                }
                (Some(p), _, _) => {
                    return Err(at(p, "password", CredentialsProblem::PasswordAndHa1));
                }
                (None, md5, sha256) => {
                    for (v, alg, name) in [
                        (md5, Algorithm::Md5, "ha1_md5"),
                        (sha256, Algorithm::Sha256, "ha1_sha256"),
                    ] {
                        if let Some(v) = v {
                            let d =
                                HexDigest::from_hex(v.get_ref().trim(), alg).ok_or_else(|| {
                                    at(
                                        v,
                                        name,
                                        CredentialsProblem::Ha1 {
                                            alg,
                                            len: alg.hex_len(),
                                        },
                                    )
                                })?;
                            ha1[slot(alg)] = Some(d);
                        }
                    }
                }
            }
            if let Some(&alg) = algorithms.iter().find(|a| ha1[slot(**a)].is_none()) {
                return Err(at(&u.aor, "aor", CredentialsProblem::MissingHa1(alg)));
            }
            let entry = UserEntry {
                user: user.into(),
                ha1,
            };
            users.insert(aor, entry);
        }
        Ok(Credentials { users })
    }
}

/// A credentials file that cannot be used: ``FILE:LINE:COL: field `user[0].aor`: problem``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialsError {
    /// The file.
    pub file: String,
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
    /// The field path, when known.
    pub field: Option<String>,
    /// What is wrong.
    pub problem: CredentialsProblem,
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)?;
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.problem)
    }
}

impl std::error::Error for CredentialsError {}

/// What is wrong with a credentials file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsProblem {
    /// Not TOML, a wrong type, an unknown field.
    #[error("{0}")]
    Toml(String),
    /// No `[[user]]`.
    #[error("no [[user]] defined: at least one user is required")]
    NoUsers,
    /// An AOR that is not `user@domain`.
    #[error("invalid aor: {0}")]
    Aor(String),
    /// An AOR given twice.
    #[error("duplicate user `{aor}` (first defined on line {first_line})")]
    Duplicate {
        /// The canonical AOR.
        aor: String,
        /// Line of the first entry.
        first_line: usize,
    },
    /// An empty password.
    #[error("password must not be empty")]
    EmptyPassword,
    /// Both a password and an HA1.
    #[error("give either `password` or `ha1_md5`/`ha1_sha256`, not both")]
    PasswordAndHa1,
    /// An HA1 that is not hex of the right length.
    #[error("{alg} HA1 must be {len} hex digits")]
    Ha1 {
        /// The algorithm.
        alg: Algorithm,
        /// Expected hex digits.
        len: usize,
    },
    /// No HA1 for a configured algorithm.
    #[error("no password and no HA1 for {0}, which [auth] algorithms offers")]
    MissingHa1(Algorithm),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    user: Vec<Spanned<RawUser>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    aor: Spanned<String>,
    password: Option<Spanned<String>>,
    ha1_md5: Option<Spanned<String>>,
    ha1_sha256: Option<Spanned<String>>,
}

/// 1-based line and character column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[start..].chars().count() + 1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: &[Algorithm] = &[Algorithm::Sha256, Algorithm::Md5];

    fn parse(text: &str) -> Result<Credentials, CredentialsError> {
        Credentials::parse(text, "users.toml", "example.com", BOTH)
    }

    #[test]
    fn passwords_and_ha1s() {
        let md5 = Algorithm::Md5.hex(&[b"bob:example.com:pw"]);
        let sha = Algorithm::Sha256.hex(&[b"bob:example.com:pw"]);
        let text = format!(
            "[[user]]\naor = \"sip:Alice@Example.COM\"\npassword = \"secret\"\n\n[[user]]\naor = \"bob@example.com\"\nha1_md5 = \"{}\"\nha1_sha256 = \"{}\"\n",
            std::str::from_utf8(md5.as_bytes()).expect("hex"),
            std::str::from_utf8(sha.as_bytes()).expect("hex").to_uppercase(),
        );
        let c = parse(&text).expect("valid");
        assert_eq!(c.len(), 2);
        let alice = c.get(b"Alice@example.com").expect("alice, canonical key");
        assert_eq!(&*alice.user, b"Alice");
        assert_eq!(
            alice.ha1(Algorithm::Md5).map(HexDigest::as_bytes),
            Some(
                Algorithm::Md5
                    .hex(&[b"Alice:example.com:secret"])
                    .as_bytes()
            )
        );
        let bob = c.get(b"bob@example.com").expect("bob");
        assert_eq!(bob.ha1(Algorithm::Sha256), Some(&sha));
        assert_eq!(bob.ha1(Algorithm::Md5), Some(&md5));
    }

    fn problem(text: &str) -> (usize, Option<String>, CredentialsProblem) {
        let e = parse(text).expect_err("invalid");
        (e.line, e.field, e.problem)
    }

    #[test]
    fn errors_name_line_and_field() {
        let (line, field, p) =
            problem("[[user]]\naor = \"a@x\"\npassword = \"p\"\n[[user]]\naor = \"a@X\"\npassword = \"q\"\n");
        assert_eq!((line, field.as_deref()), (5, Some("user[1].aor")));
        assert!(matches!(
            p,
            CredentialsProblem::Duplicate { first_line: 2, .. }
        ));

        let (line, field, p) = problem("[[user]]\naor = \"a@x\"\nha1_md5 = \"abc\"\n");
        assert_eq!((line, field.as_deref()), (3, Some("user[0].ha1_md5")));
        assert!(matches!(p, CredentialsProblem::Ha1 { .. }));

        let md5 = "0".repeat(32);
        let (_, field, p) = problem(&format!("[[user]]\naor = \"a@x\"\nha1_md5 = \"{md5}\"\n"));
        assert_eq!(field.as_deref(), Some("user[0].aor"));
        assert_eq!(p, CredentialsProblem::MissingHa1(Algorithm::Sha256));
        let only_md5 = Credentials::parse(
            &format!("[[user]]\naor = \"a@x\"\nha1_md5 = \"{md5}\"\n"),
            "f",
            "r",
            &[Algorithm::Md5],
        );
        assert!(only_md5.is_ok());

        let (_, _, p) = problem("[[user]]\naor = \"a@x\"\npassword = \"\"\n");
        assert_eq!(p, CredentialsProblem::EmptyPassword);
        let (_, _, p) = problem(&format!(
            "[[user]]\naor = \"a@x\"\npassword = \"p\"\nha1_md5 = \"{md5}\"\n"
        ));
        assert_eq!(p, CredentialsProblem::PasswordAndHa1);
        let (_, field, p) = problem("[[user]]\naor = \"example.com\"\npassword = \"p\"\n");
        assert_eq!(field.as_deref(), Some("user[0].aor"));
        assert!(matches!(p, CredentialsProblem::Aor(_)));
        let (line, _, p) = problem("[[user]]\naor = \"a@x\"\npasword = \"p\"\n");
        assert_eq!(line, 3);
        assert!(matches!(p, CredentialsProblem::Toml(_)));
        assert_eq!(problem("").2, CredentialsProblem::NoUsers);
    }

    #[test]
    fn display_format() {
        let e = parse("[[user]]\naor = \"a@x\"\npassword = \"\"\n").expect_err("invalid");
        assert_eq!(
            e.to_string(),
            "users.toml:3:12: field `user[0].password`: password must not be empty"
        );
    }
}
