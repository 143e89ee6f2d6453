//! `/metrics`: the Prometheus/OpenMetrics text of the decision counters, response codes,
//! dataplane counters, registrar and pool states, probe latency and snapshot generation. A fresh
//! prometheus-client registry is filled from the live counters on every scrape (registrars come
//! and go with reloads, so nothing stale lingers).

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

use super::AdminContext;
use crate::control::Status;
use crate::decision::Outcome;
use crate::stats::{Limit, MethodClass, Origin, LIMIT_TRANSPORTS};

type Labels = Vec<(&'static str, String)>;

fn counters(registry: &mut Registry, name: &str, help: &str) -> Family<Labels, Counter> {
    let f = Family::<Labels, Counter>::default();
    registry.register(name, help, f.clone());
    f
}

fn gauges(registry: &mut Registry, name: &str, help: &str) -> Family<Labels, Gauge> {
    let f = Family::<Labels, Gauge>::default();
    registry.register(name, help, f.clone());
    f
}

/// Renders every metric.
pub(super) fn render(
    ctx: &AdminContext,
    status: Option<&Status>,
) -> Result<String, std::fmt::Error> {
    let mut r = Registry::default();

    let requests = counters(
        &mut r,
        "director_requests",
        "Messages handled, by request method (none: responses, garbage) and outcome",
    );
    for m in MethodClass::ALL {
        for o in Outcome::ALL {
            let n = ctx.stats.total_for(m, o);
            if n > 0 {
                requests
                    .get_or_create(&vec![
                        ("method", m.as_str().into()),
                        ("outcome", o.as_str().into()),
                    ])
                    .inc_by(n);
            }
        }
    }
    let responses = counters(
        &mut r,
        "director_responses",
        "Responses sent by the director (origin=local) or relayed from registrars (origin=relayed), by status code",
    );
    for (origin, code, n) in ctx.stats.responses() {
        let origin = match origin {
            Origin::Local => "local",
            Origin::Relayed => "relayed",
        };
        responses
            .get_or_create(&vec![("code", code.to_string()), ("origin", origin.into())])
            .inc_by(n);
    }

    let limited = counters(
        &mut r,
        "director_rate_limited",
        "Requests over their source's per_source_rate (dropped or answered 503), by transport",
    );
    let overloaded = counters(
        &mut r,
        "director_overload_rejected",
        "REGISTERs answered 503 because their worker was over max_rate_per_worker, by transport",
    );
    for (i, t) in LIMIT_TRANSPORTS.iter().enumerate() {
        let labels = vec![("transport", (*t).to_owned())];
        limited
            .get_or_create(&labels)
            .inc_by(ctx.stats.limited_total(Limit::PerSource, i));
        overloaded
            .get_or_create(&labels)
            .inc_by(ctx.stats.limited_total(Limit::Overload, i));
    }

    let dp = ctx.counters.total();
    let simple = |r: &mut Registry, name: &str, help: &str, v: u64| {
        let c: Counter = Counter::default();
        c.inc_by(v);
        r.register(name, help, c);
    };
    simple(
        &mut r,
        "director_dataplane_received",
        "Messages received (keepalives excluded)",
        dp.received,
    );
    simple(&mut r, "director_dataplane_sent", "Messages sent", dp.sent);
    simple(
        &mut r,
        "director_dataplane_keepalives",
        "CRLF keepalives received on streams",
        dp.keepalives,
    );
    simple(
        &mut r,
        "director_dataplane_connections_accepted",
        "Stream connections accepted",
        dp.connections_accepted,
    );
    let open: Gauge = Gauge::default();
    open.set(i64::try_from(dp.connections_open).unwrap_or(i64::MAX));
    r.register(
        "director_dataplane_connections_open",
        "Stream connections open now",
        open,
    );
    let held: Gauge = Gauge::default();
    held.set(i64::try_from(dp.read_buffers_held).unwrap_or(i64::MAX));
    r.register(
        "director_dataplane_read_buffers_held",
        "Stream connections holding a read buffer now (idle connections hold none)",
        held,
    );
    let drops = counters(
        &mut r,
        "director_dataplane_dropped",
        "Messages or connections dropped, by reason",
    );
    for reason in dataplane::DropReason::ALL {
        drops
            .get_or_create(&vec![("reason", reason.as_str().into())])
            .inc_by(dp.dropped(reason));
    }

    let generation: Gauge = Gauge::default();
    generation.set(i64::try_from(ctx.snapshot.load().generation()).unwrap_or(i64::MAX));
    r.register(
        "director_snapshot_generation",
        "Generation of the published routing snapshot",
        generation,
    );

    if let Some(status) = status {
        let probing: Gauge = Gauge::default();
        probing.set(i64::from(status.probing));
        r.register(
            "director_health_probing",
            "1 when registrars are probed",
            probing,
        );
        let state = gauges(
            &mut r,
            "director_registrar_state",
            "1 for the registrar's current state (up, down, draining)",
        );
        let up = gauges(
            &mut r,
            "director_registrar_up",
            "1 when the registrar answers probes",
        );
        let sent = counters(
            &mut r,
            "director_registrar_requests",
            "Users sent to the registrar: 301 primary Contacts (redirect) or forwarded requests (proxy)",
        );
        let latency = Family::<Labels, Gauge<f64, AtomicU64>>::default();
        r.register(
            "director_registrar_probe_latency_seconds",
            "Round-trip time of the last answered probe",
            latency.clone(),
        );
        for reg in &status.registrars {
            let base = vec![("pool", reg.pool.clone()), ("registrar", reg.id.clone())];
            for s in ["up", "down", "draining"] {
                let mut l = base.clone();
                l.push(("state", s.into()));
                state.get_or_create(&l).set(i64::from(reg.state == s));
            }
            up.get_or_create(&base).set(i64::from(reg.reachable));
            if let Some(slot) = reg.slot {
                sent.get_or_create(&base)
                    .inc_by(ctx.stats.registrar_total(slot));
            }
            if let Some(ms) = reg.last_probe_ms {
                latency.get_or_create(&base).set(ms / 1000.0);
            }
        }
        let failed = gauges(
            &mut r,
            "director_pool_failed_over",
            "1 when the pool's users are sent to its backup pool",
        );
        for p in &status.pools {
            failed
                .get_or_create(&vec![("pool", p.id.clone())])
                .set(i64::from(p.failed_over));
        }
    }

    let mut out = String::new();
    encode(&mut out, &r)?;
    Ok(out)
}
