//! Validation of `[limits]`: per-source flood limiting and the per-worker overload rate, and
//! the connection and message-size limits the engine takes at start.

use toml::Spanned;

use super::error::{ConfigError, Problem};
use super::raw::RawLimits;
use super::settings::{ConnectionLimits, LimitSettings};
use super::validate::Source;
use crate::limiter::Rate;

const MAX_RETRY_AFTER_S: u32 = 3600;
const MAX_CONNECTIONS_PER_WORKER: u32 = 1_000_000;
const MAX_IDLE_TIMEOUT_S: u32 = 86_400;
const MAX_HEADER_TIMEOUT_S: u32 = 3600;
/// RFC 3261 18.1.1: a UDP request up to 1300 bytes must be handled.
const MIN_MESSAGE_BYTES: u32 = 1300;
/// The largest UDP payload.
const MAX_MESSAGE_BYTES: u32 = 65_535;
/// One typical answer must fit.
const MIN_OUTBOX_BYTES: u32 = 4096;
const MAX_OUTBOX_BYTES: u32 = 64 * 1024 * 1024;

/// `[limits]` as written to [`LimitSettings`]; no section: every limit off.
pub(super) fn limits(
    raw: Option<RawLimits>,
    src: &Source<'_>,
) -> Result<LimitSettings, ConfigError> {
    let mut l = LimitSettings::default();
    let Some(raw) = raw else {
        return Ok(l);
    };
    let range = |v: &Spanned<u32>, name: &str, msg: String| {
        src.at_span(
            v.span(),
            Some(format!("limits.{name}")),
            Problem::Range(msg),
        )
    };
    let rate = raw.per_source_rate.as_ref().map_or(0, |r| *r.get_ref());
    match (&raw.per_source_burst, rate) {
        (Some(b), _) if *b.get_ref() == 0 => {
            let msg = "per_source_burst must be at least 1".to_owned();
            return Err(range(b, "per_source_burst", msg));
        }
        (Some(b), 0) => {
            let msg = "per_source_burst needs a per_source_rate above 0".to_owned();
            return Err(range(b, "per_source_burst", msg));
        }
        (burst, rate) if rate > 0 => {
            let burst = burst.as_ref().map_or(rate, |b| *b.get_ref());
            l.per_source = Some(Rate::new(rate, burst));
        }
        _ => {}
    }
    if let Some(a) = raw.flood_action {
        l.flood_action = *a.get_ref();
    }
    if let Some(r) = raw.max_rate_per_worker.map(Spanned::into_inner) {
        if r > 0 {
            // A tenth of a second's worth may arrive at once.
            l.per_worker = Some(Rate::new(r, r.div_ceil(10)));
        }
    }
    if let Some(s) = &raw.retry_after_s {
        let v = *s.get_ref();
        if !(1..=MAX_RETRY_AFTER_S).contains(&v) {
            let msg = format!("retry_after_s must be 1..={MAX_RETRY_AFTER_S}, got {v}");
            return Err(range(s, "retry_after_s", msg));
        }
        l.retry_after_s = v;
    }
    Ok(l)
}

/// The connection and message-size fields of `[limits]` (each at its default when absent).
pub(super) fn connection_limits(
    raw: Option<&RawLimits>,
    src: &Source<'_>,
) -> Result<ConnectionLimits, ConfigError> {
    let mut c = ConnectionLimits::default();
    let Some(raw) = raw else {
        return Ok(c);
    };
    let field = |v: &Option<Spanned<u32>>, name: &str, lo: u32, hi: u32| match v {
        None => Ok(None),
        Some(s) if (lo..=hi).contains(s.get_ref()) => Ok(Some(*s.get_ref())),
        Some(s) => Err(src.at_span(
            s.span(),
            Some(format!("limits.{name}")),
            Problem::Range(format!("{name} must be {lo}..={hi}, got {}", s.get_ref())),
        )),
    };
    let secs = |v: u32| std::time::Duration::from_secs(u64::from(v));
    if let Some(v) = field(
        &raw.max_connections_per_worker,
        "max_connections_per_worker",
        1,
        MAX_CONNECTIONS_PER_WORKER,
    )? {
        c.max_connections_per_worker = v;
    }
    if let Some(v) = field(&raw.idle_timeout_s, "idle_timeout_s", 1, MAX_IDLE_TIMEOUT_S)? {
        c.idle_timeout = secs(v);
    }
    if let Some(v) = field(
        &raw.header_timeout_s,
        "header_timeout_s",
        1,
        MAX_HEADER_TIMEOUT_S,
    )? {
        c.header_timeout = secs(v);
    }
    if let Some(v) = field(
        &raw.max_message_bytes,
        "max_message_bytes",
        MIN_MESSAGE_BYTES,
        MAX_MESSAGE_BYTES,
    )? {
        c.max_message_bytes = v;
    }
    if let Some(v) = field(
        &raw.max_outbox_bytes,
        "max_outbox_bytes",
        MIN_OUTBOX_BYTES,
        MAX_OUTBOX_BYTES,
    )? {
        c.max_outbox_bytes = v;
    }
    Ok(c)
}
