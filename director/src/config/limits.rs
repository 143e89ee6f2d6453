//! Validation of `[limits]`: per-source flood limiting and the per-worker overload rate.

use toml::Spanned;

use super::error::{ConfigError, Problem};
use super::raw::RawLimits;
use super::settings::LimitSettings;
use super::validate::Source;
use crate::limiter::Rate;

const MAX_RETRY_AFTER_S: u32 = 3600;

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
