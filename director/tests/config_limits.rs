//! `[limits]`: defaults (everything off), values, and errors naming the line and field.

use director::config::{Config, FloodAction, LimitSettings};
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
