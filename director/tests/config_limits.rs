//! `[limits]`: defaults (everything off), values, and errors naming the line and field.

use std::time::Duration;

use director::config::{Config, ConnectionLimits, FloodAction, LimitSettings};
use director::limiter::Rate;

const POOL: &str = r#"
[[pool]]
id = "pool1"

[[pool.registrar]]
id = "fe1"
contact = "sip:fe1.example.com"
"#;

fn parse(limits: &str) -> Result<Config, String> {
    let text = format!("{limits}\n{POOL}");
    Config::parse(&text, "limits.toml").map_err(|e| e.to_string())
}

#[test]
fn without_a_section_every_limit_is_off() {
    let config = parse("").unwrap();
    assert_eq!(config.limits, LimitSettings::default());
    assert_eq!(config.limits.per_source, None);
    assert_eq!(config.limits.per_worker, None);
    assert_eq!(config.limits.flood_action, FloodAction::Drop);
    assert_eq!(config.limits.retry_after_s, 5);
}

#[test]
fn every_field() {
    let config = parse(
        "[limits]\nper_source_rate = 200\nper_source_burst = 400\nflood_action = \"503\"\n\
         max_rate_per_worker = 50000\nretry_after_s = 10\n",
    )
    .unwrap();
    let l = config.limits;
    assert_eq!(l.per_source, Some(Rate::new(200, 400)));
    assert_eq!(l.flood_action, FloodAction::Reject);
    assert_eq!(l.per_worker, Some(Rate::new(50_000, 5_000)));
    assert_eq!(l.retry_after_s, 10);
}

#[test]
fn the_burst_defaults_to_one_second_of_rate_and_zero_rates_are_off() {
    let l = parse("[limits]\nper_source_rate = 300\n").unwrap().limits;
    assert_eq!(l.per_source, Some(Rate::new(300, 300)));
    let l = parse("[limits]\nper_source_rate = 0\nmax_rate_per_worker = 0\n")
        .unwrap()
        .limits;
    assert_eq!((l.per_source, l.per_worker), (None, None));
}

#[test]
fn errors_name_the_line_and_field() {
    let e = parse("[limits]\nper_source_rate = 10\nper_source_burst = 0\n").unwrap_err();
    assert_eq!(
        e,
        "limits.toml:3:20: field `limits.per_source_burst`: per_source_burst must be at least 1"
    );
    let e = parse("[limits]\nper_source_burst = 10\n").unwrap_err();
    assert!(
        e.starts_with("limits.toml:2:20: field `limits.per_source_burst`"),
        "{e}"
    );
    let e = parse("[limits]\nretry_after_s = 0\n").unwrap_err();
    assert!(
        e.starts_with("limits.toml:2:17: field `limits.retry_after_s`"),
        "{e}"
    );
    let e = parse("[limits]\nflood_action = \"reject\"\n").unwrap_err();
    assert!(e.contains("limits.toml:2:"), "{e}");
    assert!(e.contains("drop"), "{e}");
    let e = parse("[limits]\nper_source = 3\n").unwrap_err();
    assert!(e.contains("unknown field"), "{e}");
}

#[test]
fn connection_limits_default_to_the_dataplanes_own() {
    let c = parse("").unwrap().connection_limits;
    assert_eq!(c, ConnectionLimits::default());
    let ours = c.to_dataplane();
    let theirs = dataplane::Limits::default();
    assert_eq!(
        (
            ours.max_connections_per_worker,
            ours.idle_timeout,
            ours.header_timeout,
            ours.max_message,
            ours.max_outbox_bytes
        ),
        (
            theirs.max_connections_per_worker,
            theirs.idle_timeout,
            theirs.header_timeout,
            theirs.max_message,
            theirs.max_outbox_bytes
        )
    );
}

#[test]
fn connection_limits_are_read_and_range_checked() {
    let c = parse(
        "[limits]\nmax_connections_per_worker = 200\nidle_timeout_s = 30\nheader_timeout_s = 4\n\
         max_message_bytes = 8192\nmax_outbox_bytes = 65536\n",
    )
    .unwrap()
    .connection_limits;
    assert_eq!(
        c,
        ConnectionLimits {
            max_connections_per_worker: 200,
            idle_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(4),
            max_message_bytes: 8192,
            max_outbox_bytes: 65536,
        }
    );
    // They leave the flood limits off.
    assert_eq!(
        parse("[limits]\nidle_timeout_s = 30\n").unwrap().limits,
        LimitSettings::default()
    );
    for (text, field) in [
        (
            "max_connections_per_worker = 0",
            "max_connections_per_worker",
        ),
        ("idle_timeout_s = 0", "idle_timeout_s"),
        ("header_timeout_s = 3601", "header_timeout_s"),
        ("max_message_bytes = 1299", "max_message_bytes"),
        ("max_message_bytes = 65536", "max_message_bytes"),
        ("max_outbox_bytes = 100", "max_outbox_bytes"),
    ] {
        let e = parse(&format!("[limits]\n{text}\n")).unwrap_err();
        let col = field.len() + 4;
        assert!(
            e.starts_with(&format!(
                "limits.toml:2:{col}: field `limits.{field}`: {field} must be "
            )),
            "{text}: {e}"
        );
    }
}
