//! Configuration errors: IO errors name the file; everything else names the file, line,
//! column and field: ``FILE:LINE:COL: field `pool[1].registrar[0].contact`: message``.

use std::fmt;

use crate::placement::KeyError;

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read configuration: {source}")]
    Io {
        /// The file as given.
        file: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid TOML, or not a valid configuration.
    #[error("{0}")]
    Invalid(Box<Invalid>),
    /// The credentials file named by `[auth] credentials` is not valid.
    #[error("{0}")]
    Credentials(Box<crate::auth::CredentialsError>),
}

impl ConfigError {
    /// The located problem, unless this is an IO error.
    pub fn invalid(&self) -> Option<&Invalid> {
        match self {
            ConfigError::Invalid(invalid) => Some(invalid),
            ConfigError::Io { .. } | ConfigError::Credentials(_) => None,
        }
    }
}

/// A 1-based line and column (the column counts characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// A problem at a place in a configuration file.
#[derive(Debug)]
pub struct Invalid {
    /// The file name as given.
    pub file: String,
    /// Where, when the problem has a place (a missing section has none).
    pub location: Option<Location>,
    /// The field path, e.g. `pool[1].registrar[0].contact`, when known.
    pub field: Option<String>,
    /// What is wrong.
    pub problem: Problem,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(at) = self.location {
            write!(f, ":{}:{}", at.line, at.column)?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// What is wrong with a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// Not TOML, a wrong type, an unknown or missing field (the TOML parser's message).
    #[error("{0}")]
    Toml(String),
    /// No `[[pool]]`.
    #[error("no [[pool]] defined: at least one pool is required")]
    NoPools,
    /// Every pool is `homed_only`.
    #[error("every pool is homed_only: at least one pool must take users without a homing rule")]
    NoHashedPool,
    /// A pool without `[[pool.registrar]]`.
    #[error("pool `{0}` has no [[pool.registrar]]")]
    EmptyPool(String),
    /// An id used twice.
    #[error("duplicate {kind} id `{id}` (first defined on line {first_line})")]
    DuplicateId {
        /// "pool" or "registrar".
        kind: &'static str,
        /// The id.
        id: String,
        /// Line of the first definition.
        first_line: usize,
    },
    /// An empty id or one with whitespace or control characters.
    #[error("invalid id `{0}`: ids are 1 to 255 bytes without whitespace or control characters")]
    InvalidId(String),
    /// A weight outside 1..=100.
    #[error("weight must be between 1 and {max}, got {got}", max = super::validate::MAX_WEIGHT)]
    Weight {
        /// The configured weight.
        got: u32,
    },
    /// A `backup` naming no pool.
    #[error("unknown backup pool `{0}`")]
    UnknownBackup(String),
    /// A pool that is its own backup.
    #[error("pool `{0}` cannot be its own backup")]
    SelfBackup(String),
    /// A homing rule to no pool.
    #[error("unknown pool `{0}`")]
    UnknownPool(String),
    /// A contact that is not a usable SIP URI.
    #[error("invalid contact URI `{uri}`: {reason}")]
    Contact {
        /// The configured value.
        uri: String,
        /// Why.
        reason: String,
    },
    /// A probe/proxy address that is not `HOST:PORT`.
    #[error(
        "invalid address `{0}`: expected HOST:PORT, e.g. 192.0.2.10:5061 or [2001:db8::1]:5061"
    )]
    Endpoint(String),
    /// A socket address that is not `IP:PORT`.
    #[error("invalid socket address `{0}`: expected IP:PORT, e.g. 127.0.0.1:5060 or [::1]:5060")]
    SocketAddress(String),
    /// A TLS listener without certificate or key.
    #[error("transport tls requires both `certificate` and `private_key`")]
    TlsWithoutCertificate,
    /// `certificate` / `private_key` on a UDP or TCP listener.
    #[error("`{0}` applies only to transport tls")]
    TlsFileWithoutTls(&'static str),
    /// `client_cert` on a listener that does not ask for client certificates.
    #[error("`client_cert` needs `client_ca` (the CAs client certificates are verified against)")]
    ClientCertWithoutCa,
    /// Two listeners on the same socket.
    #[error("duplicate listener {address} over {transport} (first defined on line {first_line})")]
    DuplicateListener {
        /// The address.
        address: String,
        /// "udp", or "tcp/tls" (TCP and TLS share the port space).
        transport: &'static str,
        /// Line of the first definition.
        first_line: usize,
    },
    /// `proxy_protocol` on a UDP listener.
    #[error("`proxy_protocol` applies only to transport tcp or tls")]
    ProxyProtocolOnUdp,
    /// `proxy_protocol_from` without `proxy_protocol = true`.
    #[error("`proxy_protocol_from` requires `proxy_protocol = true`")]
    ProxyFromWithoutProxy,
    /// A trusted source that is not an IP prefix.
    #[error("invalid address prefix `{value}`: {reason}")]
    Cidr {
        /// The configured value.
        value: String,
        /// Why.
        reason: String,
    },
    /// A homing rule with both or neither of `user` and `domain`.
    #[error("a [[homing]] rule needs exactly one of `user` or `domain`")]
    HomingShape,
    /// A user rule that is not a canonicalizable `user@domain`.
    #[error("invalid user `{value}`: {reason}")]
    HomingUser {
        /// The configured value.
        value: String,
        /// Why.
        reason: String,
    },
    /// A domain rule that is not a host.
    #[error("invalid domain `{value}`: {reason}")]
    HomingDomain {
        /// The configured value.
        value: String,
        /// Why.
        reason: String,
    },
    /// A rule for a user or domain that already has one.
    #[error("duplicate homing rule for `{key}` (first defined on line {first_line})")]
    DuplicateHoming {
        /// The canonical user or domain.
        key: String,
        /// Line of the first rule.
        first_line: usize,
    },
    /// The director's own domain is not a host name.
    #[error("invalid domain `{value}`: {reason}")]
    Domain {
        /// The configured value.
        value: String,
        /// Why.
        reason: KeyError,
    },
    /// A number out of its range.
    #[error("{0}")]
    Range(String),
    /// Only one of `[proxy] tls_certificate` and `tls_private_key`.
    #[error("`tls_certificate` and `tls_private_key` go together: `{0}` is missing")]
    ClientCertPair(&'static str),
    /// An empty file path.
    #[error("empty file path")]
    EmptyPath,
    /// An unusable `[auth]` setting.
    #[error("{0}")]
    Auth(String),
}
