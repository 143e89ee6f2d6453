//! Command-line interface of the `director` binary: clap definitions and the logic of the
//! `check-config` and `user-pool-info` subcommands (returning text; `main` prints it and
//! maps errors to exit codes).

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::config::{self, Config, ConfigError};
use crate::placement::{KeyError, PlacementKey};
use crate::topology::{PoolInfo, Topology};

/// `director [run] [--config FILE] [--workers N]`, `director check-config FILE`,
/// `director user-pool-info AOR [--config FILE] [--json]`.
#[derive(Debug, Parser)]
#[command(
    name = "director",
    version,
    about = "SIP director: sends every REGISTER to its user's home registrar"
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do (default: run).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of the default `run` command.
    #[command(flatten)]
    pub run: RunArgs,
}

impl Cli {
    /// The command to execute, `run` when none was named.
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Run(self.run))
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the director (the default).
    Run(RunArgs),
    /// Validate a configuration file and summarise it.
    CheckConfig {
        /// The configuration file.
        file: PathBuf,
    },
    /// Show a user's primary and backup pool and machines in preferred order.
    UserPoolInfo {
        /// The user's address of record, e.g. sip:alice@example.com.
        aor: String,
        /// Configuration file (default: the embedded demo configuration).
        #[arg(long, short = 'c', value_name = "FILE")]
        config: Option<PathBuf>,
        /// Print JSON instead of a list.
        #[arg(long)]
        json: bool,
    },
}

/// Options of `director run`.
#[derive(Debug, Clone, Default, Args)]
pub struct RunArgs {
    /// Configuration file (default: the embedded demo configuration).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Worker threads, overriding the configuration (0 = one per core).
    #[arg(long, value_name = "N")]
    pub workers: Option<u32>,
    /// Pin each worker thread to its own CPU (true) or let the kernel place them (false),
    /// overriding `[director] pin_workers`.
    #[arg(long, value_name = "BOOL")]
    pub pin_workers: Option<bool>,
}

/// Why a CLI command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The AOR argument gives no placement key.
    #[error("invalid address of record `{aor}`: {source}")]
    Aor {
        /// The argument.
        aor: String,
        /// Why.
        #[source]
        source: KeyError,
    },
    /// A TLS file named by the configuration is unusable (listener certificate or key,
    /// `[proxy]` trust anchors or client certificate).
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// JSON output failed.
    #[error("cannot format JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// `director check-config FILE`: `FILE: OK — N pools, M registrars, K listeners`. Checks what
/// `director run` checks before binding: the file, and the TLS files it names (each TLS
/// listener's certificate and key, the `[proxy]` trust anchors and client certificate).
pub fn run_check_config(path: &Path) -> Result<String, CliError> {
    let config = config::load_file(path)?;
    for files in config.listeners.iter().filter_map(|l| l.tls.as_ref()) {
        crate::tls::server_config(files)?;
    }
    crate::tls_client::client_config(&config.proxy)?;
    Ok(format!(
        "{}: OK — {} pools, {} registrars, {} listeners",
        path.display(),
        config.topology.pools().len(),
        config.topology.registrar_count(),
        config.listeners.len()
    ))
}

/// `director user-pool-info AOR [--config FILE] [--json]`.
pub fn run_user_pool_info(
    aor: &str,
    config: Option<&Path>,
    json: bool,
) -> Result<String, CliError> {
    let config: Config = config::load(config)?;
    let report = UserPoolReport::new(aor, &config.topology)?;
    if json {
        Ok(serde_json::to_string_pretty(&report)?)
    } else {
        Ok(report.to_text())
    }
}

/// A user's placement as shown to operators (CLI and admin API), field names as in
/// Lync's `Get-CsUserPoolInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPoolReport {
    /// The AOR as given.
    pub identity: String,
    /// The canonical placement key.
    pub key: String,
    /// Primary pool id.
    pub primary_pool: String,
    /// Backup pool id, if any.
    pub backup_pool: Option<String>,
    /// "hashed", "user rule" or "domain rule".
    pub homing: String,
    /// Registrar ids of the primary pool in preferred order.
    pub primary_pool_machines_in_preferred_order: Vec<String>,
    /// Registrar ids of the backup pool in preferred order.
    pub backup_pool_machines_in_preferred_order: Vec<String>,
}

impl UserPoolReport {
    /// The report for an AOR (`sip:alice@example.com`, `alice@example.com`, ...).
    pub fn new(aor: &str, topology: &Topology) -> Result<Self, CliError> {
        let key = PlacementKey::parse_aor(aor).map_err(|source| CliError::Aor {
            aor: aor.to_owned(),
            source,
        })?;
        Ok(Self::from_info(
            aor.trim(),
            &key,
            &topology.user_pool_info(&key),
            topology,
        ))
    }

    /// The report from an already computed [`PoolInfo`].
    pub fn from_info(
        identity: &str,
        key: &PlacementKey,
        info: &PoolInfo,
        topology: &Topology,
    ) -> Self {
        let machines = |pool, order: &[crate::topology::RegistrarIdx]| -> Vec<String> {
            order
                .iter()
                .map(|&registrar| {
                    topology
                        .registrar(crate::topology::Target { pool, registrar })
                        .id()
                        .to_string()
                })
                .collect()
        };
        Self {
            identity: identity.to_owned(),
            key: key.to_string(),
            primary_pool: topology.pool(info.primary_pool).id().to_string(),
            backup_pool: info.backup_pool.map(|p| topology.pool(p).id().to_string()),
            homing: info.homing.as_str().to_owned(),
            primary_pool_machines_in_preferred_order: machines(
                info.primary_pool,
                &info.primary_machines,
            ),
            backup_pool_machines_in_preferred_order: info
                .backup_pool
                .map(|p| machines(p, &info.backup_machines))
                .unwrap_or_default(),
        }
    }

    /// The list form:
    /// ```text
    /// Identity         : sip:alice@example.com
    /// Key              : alice@example.com
    /// PrimaryPool      : pool1
    /// BackupPool       : pool2
    /// Homing           : hashed
    /// PrimaryPoolMachinesInPreferredOrder : fe2.pool1.example.com, ...
    /// BackupPoolMachinesInPreferredOrder  : se1.pool2.example.com, ...
    /// ```
    /// A missing backup pool shows as `(none)`.
    pub fn to_text(&self) -> String {
        let none = "(none)";
        let backup = self.backup_pool.as_deref().unwrap_or(none);
        let list = |v: &[String]| {
            if v.is_empty() {
                none.to_owned()
            } else {
                v.join(", ")
            }
        };
        format!(
            "Identity         : {}\nKey              : {}\nPrimaryPool      : {}\nBackupPool       : {}\nHoming           : {}\nPrimaryPoolMachinesInPreferredOrder : {}\nBackupPoolMachinesInPreferredOrder  : {}\n",
            self.identity,
            self.key,
            self.primary_pool,
            backup,
            self.homing,
            list(&self.primary_pool_machines_in_preferred_order),
            list(&self.backup_pool_machines_in_preferred_order),
        )
    }
}
