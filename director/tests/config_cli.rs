//! The CLI logic through the library: argument parsing, `check-config` and
//! `user-pool-info` output (text and JSON).

use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser};
use director::cli::{run_check_config, run_user_pool_info, Cli, CliError, Command};
use director::config::Config;

fn example_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml")
}

fn parse(args: &[&str]) -> Command {
    Cli::try_parse_from(args)
        .expect("valid arguments")
        .into_command()
}

#[test]
fn clap_definitions_are_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn run_is_the_default_subcommand() {
    match parse(&["director"]) {
        Command::Run(args) => assert_eq!((args.config, args.workers), (None, None)),
        other => panic!("{other:?}"),
    }
    match parse(&["director", "--config", "d.toml", "--workers", "4"]) {
        Command::Run(args) => {
            assert_eq!(args.config, Some(PathBuf::from("d.toml")));
            assert_eq!(args.workers, Some(4));
        }
        other => panic!("{other:?}"),
    }
    match parse(&["director", "run", "-c", "d.toml"]) {
        Command::Run(args) => assert_eq!(args.config, Some(PathBuf::from("d.toml"))),
        other => panic!("{other:?}"),
    }
    match parse(&["director", "--pin-workers", "false"]) {
        Command::Run(args) => assert_eq!(args.pin_workers, Some(false)),
        other => panic!("{other:?}"),
    }
    assert!(Cli::try_parse_from(["director", "--pin-workers", "sometimes"]).is_err());
}

#[test]
fn pin_workers_in_the_file() {
    let pool =
        "[[pool]]\nid = \"p\"\n[[pool.registrar]]\nid = \"r\"\ncontact = \"sip:r.example.com\"\n";
    let config = Config::parse(
        &format!("[director]\npin_workers = false\n{pool}"),
        "p.toml",
    )
    .expect("valid");
    assert!(!config.pin_workers);
    let err = Config::parse(
        &format!("[director]\npin_workers = \"no\"\n{pool}"),
        "p.toml",
    )
    .expect_err("not a boolean")
    .to_string();
    assert!(
        err.starts_with("p.toml:2:15: field `director.pin_workers`"),
        "{err}"
    );
}

#[test]
fn subcommands_parse() {
    match parse(&["director", "check-config", "d.toml"]) {
        Command::CheckConfig { file } => assert_eq!(file, PathBuf::from("d.toml")),
        other => panic!("{other:?}"),
    }
    match parse(&[
        "director",
        "user-pool-info",
        "sip:alice@example.com",
        "--json",
        "--config",
        "d.toml",
    ]) {
        Command::UserPoolInfo { aor, config, json } => {
            assert_eq!(aor, "sip:alice@example.com");
            assert_eq!(config, Some(PathBuf::from("d.toml")));
            assert!(json);
        }
        other => panic!("{other:?}"),
    }
    assert!(Cli::try_parse_from(["director", "check-config"]).is_err());
}

#[test]
fn check_config_ok() {
    // The example names TLS files next to it; check-config loads them, so give it a copy with
    // a freshly generated certificate there.
    let dir = std::env::temp_dir().join(format!("director-cli-ok-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("tls")).expect("temp dir");
    let path = dir.join("example.toml");
    std::fs::copy(example_path(), &path).expect("copy example");
    let ck = rcgen::generate_simple_self_signed(vec!["director.example.com".into()]).expect("cert");
    std::fs::write(dir.join("tls/director.crt.pem"), ck.cert.pem()).expect("write cert");
    std::fs::write(
        dir.join("tls/director.key.pem"),
        ck.signing_key.serialize_pem(),
    )
    .expect("write key");
    let out = run_check_config(&path).expect("valid example");
    assert_eq!(
        out,
        format!(
            "{}: OK — 4 pools, 8 registrars, 3 listeners",
            path.display()
        )
    );

    // Without its certificate the example is refused, naming the file.
    std::fs::remove_file(dir.join("tls/director.crt.pem")).expect("remove cert");
    let err = run_check_config(&path).expect_err("missing certificate");
    assert!(matches!(err, CliError::Tls(_)), "{err:?}");
    assert!(err.to_string().contains("director.crt.pem"), "{err}");
}

#[test]
fn check_config_reports_errors() {
    let dir = std::env::temp_dir().join(format!("director-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("bad.toml");
    std::fs::write(&path, "[director]\nmode = \"proxy\"\nworkers = \"many\"\n").expect("write");
    let err = run_check_config(&path).expect_err("invalid");
    assert!(matches!(err, CliError::Config(_)));
    assert_eq!(
        err.to_string(),
        format!(
            "{}:3:11: field `director.workers`: invalid type: string \"many\", expected u32",
            path.display()
        )
    );
    let missing = dir.join("missing.toml");
    let err = run_check_config(&missing).expect_err("missing");
    assert!(err
        .to_string()
        .starts_with(&format!("{}: cannot read", missing.display())));
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn user_pool_info_text_with_embedded_default() {
    let out = run_user_pool_info("sip:alice@example.com", None, false).expect("ok");
    assert_eq!(
        out,
        "Identity         : sip:alice@example.com\n\
         Key              : alice@example.com\n\
         PrimaryPool      : pool1\n\
         BackupPool       : pool2\n\
         Homing           : hashed\n\
         PrimaryPoolMachinesInPreferredOrder : fe2.pool1.example.com, fe3.pool1.example.com, fe1.pool1.example.com\n\
         BackupPoolMachinesInPreferredOrder  : se1.pool2.example.com, se2.pool2.example.com\n"
    );
}

#[test]
fn user_pool_info_rules_and_json() {
    let path = example_path();
    let out = run_user_pool_info(
        "sips:ceo@Example.COM:5061;transport=tls",
        Some(&path),
        false,
    )
    .expect("ok");
    assert!(
        out.contains("Key              : ceo@example.com\n"),
        "{out}"
    );
    assert!(out.contains("PrimaryPool      : pool2\n"), "{out}");
    assert!(out.contains("Homing           : user rule\n"), "{out}");

    let json = run_user_pool_info("bob@branch1.example.com", Some(&path), true).expect("ok");
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v["Identity"], "bob@branch1.example.com");
    assert_eq!(v["Key"], "bob@branch1.example.com");
    assert_eq!(v["PrimaryPool"], "branch1");
    assert_eq!(v["BackupPool"], "pool1");
    assert_eq!(v["Homing"], "domain rule");
    assert_eq!(
        v["PrimaryPoolMachinesInPreferredOrder"],
        serde_json::json!(["sba.branch1.example.com"])
    );
    assert_eq!(
        v["BackupPoolMachinesInPreferredOrder"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
}

#[test]
fn user_pool_info_bad_aor() {
    let err = run_user_pool_info("tel:+15551234567", None, false).expect_err("tel");
    assert_eq!(
        err.to_string(),
        "invalid address of record `tel:+15551234567`: unsupported URI scheme `tel` (expected sip or sips)"
    );
    let err = run_user_pool_info("sip:al%zzice@example.com", None, true).expect_err("escape");
    assert!(matches!(err, CliError::Aor { .. }));
}
