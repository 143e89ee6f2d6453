//! Entry points: parse configuration text ([`Config::parse`]), read a file ([`load_file`], the
//! only IO here), or use the embedded default ([`Config::embedded_default`]).

use std::path::Path;

use super::error::{ConfigError, Problem};
use super::location::field_path_at;
use super::raw::RawConfig;
use super::settings::Config;
use super::validate::{base_dir, validate, Source};

/// The embedded default configuration (a loopback demo, see `config/default.toml`).
pub const EMBEDDED_DEFAULT: &str = include_str!("default.toml");

/// The file name used in messages about the embedded default.
pub const EMBEDDED_DEFAULT_NAME: &str = "<embedded default>";

impl Config {
    /// Parses and validates configuration text. `file` names it in error messages and is the
    /// base for relative TLS and credentials file paths. No IO but reading the `[auth]`
    /// credentials file, when one is configured.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let src = Source { file, text };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let field = field_path_at(text, span.start);
            src.at_span(
                span,
                field,
                Problem::Toml(e.message().trim_end().to_owned()),
            )
        })?;
        validate(raw, &src, &base_dir(file))
    }

    /// The embedded default configuration: 127.0.0.1:5060 over UDP and TCP, pools `pool1`
    /// (fe1..fe3) and `pool2` (se1, se2) as each other's backup.
    pub fn embedded_default() -> Result<Config, ConfigError> {
        Config::parse(EMBEDDED_DEFAULT, EMBEDDED_DEFAULT_NAME)
    }
}

/// Reads and validates a configuration file; read errors name the file.
pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        file: file.clone(),
        source,
    })?;
    Config::parse(&text, &file)
}

/// The file if one is given, else the embedded default.
pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
    match path {
        Some(path) => load_file(path),
        None => Config::embedded_default(),
    }
}
