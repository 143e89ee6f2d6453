//! The configuration file as written: serde structures mirroring the TOML, every field
//! `Spanned` so that validation can name its line. Unknown fields are errors.

use serde::Deserialize;
use toml::Spanned;

use super::settings::{ClientCert, FloodAction};
use crate::topology::{Mode, Transport};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    #[serde(default)]
    pub director: Option<RawDirector>,
    #[serde(default)]
    pub listen: Vec<Spanned<RawListen>>,
    #[serde(default)]
    pub admin: Option<Spanned<RawAdmin>>,
    #[serde(default)]
    pub health: Option<RawHealth>,
    #[serde(default)]
    pub pool: Vec<Spanned<RawPool>>,
    #[serde(default)]
    pub homing: Vec<Spanned<RawHoming>>,
    #[serde(default)]
    pub limits: Option<RawLimits>,
    #[serde(default)]
    pub auth: Option<RawAuth>,
    #[serde(default)]
    pub proxy: Option<RawProxy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDirector {
    pub workers: Option<Spanned<u32>>,
    pub pin_workers: Option<Spanned<bool>>,
    pub mode: Option<Spanned<Mode>>,
    pub expires: Option<Spanned<u32>>,
    pub domain: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawListen {
    pub address: Spanned<String>,
    pub transport: Option<Spanned<Transport>>,
    pub certificate: Option<Spanned<String>>,
    pub private_key: Option<Spanned<String>>,
    pub client_ca: Option<Spanned<String>>,
    pub client_cert: Option<Spanned<ClientCert>>,
    pub mode: Option<Spanned<Mode>>,
    pub proxy_protocol: Option<Spanned<bool>>,
    pub proxy_protocol_from: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAdmin {
    pub address: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHealth {
    pub enabled: Option<Spanned<bool>>,
    pub interval_ms: Option<Spanned<u64>>,
    pub timeout_ms: Option<Spanned<u64>>,
    pub down_after: Option<Spanned<u32>>,
    pub up_after: Option<Spanned<u32>>,
    pub failover_interval_s: Option<Spanned<u64>>,
    pub failback_interval_s: Option<Spanned<u64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPool {
    pub id: Spanned<String>,
    pub weight: Option<Spanned<u32>>,
    pub backup: Option<Spanned<String>>,
    pub homed_only: Option<Spanned<bool>>,
    #[serde(default)]
    pub registrar: Vec<Spanned<RawRegistrar>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRegistrar {
    pub id: Spanned<String>,
    pub contact: Spanned<String>,
    pub weight: Option<Spanned<u32>>,
    pub address: Option<Spanned<String>>,
    pub drained: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHoming {
    pub user: Option<Spanned<String>>,
    pub domain: Option<Spanned<String>>,
    pub pool: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    pub per_source_rate: Option<Spanned<u32>>,
    pub per_source_burst: Option<Spanned<u32>>,
    pub flood_action: Option<Spanned<FloodAction>>,
    pub max_rate_per_worker: Option<Spanned<u32>>,
    pub retry_after_s: Option<Spanned<u32>>,
    pub max_connections_per_worker: Option<Spanned<u32>>,
    pub idle_timeout_s: Option<Spanned<u32>>,
    pub header_timeout_s: Option<Spanned<u32>>,
    pub max_message_bytes: Option<Spanned<u32>>,
    pub max_outbox_bytes: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAuth {
    pub mode: Option<Spanned<String>>,
    pub realm: Option<Spanned<String>>,
    pub credentials: Option<Spanned<String>>,
    pub nonce_lifetime_s: Option<Spanned<u64>>,
    pub nonce_secret: Option<Spanned<String>>,
    pub algorithms: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProxy {
    pub tls_ca: Option<Spanned<String>>,
    pub tls_verify: Option<Spanned<bool>>,
    pub tls_certificate: Option<Spanned<String>>,
    pub tls_private_key: Option<Spanned<String>>,
}
