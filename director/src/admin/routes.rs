//! Admin request routing: method + path + query in, [`Reply`] (status, content type, body) out.
//! [`handle`] is independent of hyper so it can be tested directly.

use bytes_body::full;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};

use super::{metrics, AdminContext};
use crate::cli::UserPoolReport;
use crate::control::DrainError;
use crate::placement::PlacementKey;
use crate::topology::{Mode, Target};

/// An admin answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Content type.
    pub content_type: &'static str,
    /// Body.
    pub body: String,
}

impl Reply {
    fn json(status: u16, value: &impl serde::Serialize) -> Reply {
        match serde_json::to_string_pretty(value) {
            Ok(body) => Reply {
                status,
                content_type: "application/json",
                body: body + "\n",
            },
            Err(e) => Reply::text(500, format!("cannot format JSON: {e}")),
        }
    }

    fn text(status: u16, body: impl Into<String>) -> Reply {
        let mut body = body.into();
        if !body.ends_with('\n') {
            body.push('\n');
        }
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body,
        }
    }

    fn error(status: u16, message: impl Into<String>) -> Reply {
        Reply::json(status, &serde_json::json!({ "error": message.into() }))
    }
}

mod bytes_body {
    use super::*;
    pub fn full(r: super::Reply) -> Response<Full<Bytes>> {
        let mut resp = Response::new(Full::new(Bytes::from(r.body)));
        *resp.status_mut() = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
        if let Ok(v) = r.content_type.parse() {
            resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
        }
        resp
    }
}

pub(super) async fn respond(ctx: &AdminContext, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    full(handle(ctx, &method, &path, &query).await)
}

/// Answers one admin request.
pub async fn handle(ctx: &AdminContext, method: &Method, path: &str, query: &str) -> Reply {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        (&Method::GET, ["metrics"]) => {
            let status = ctx.control.status().await.ok();
            match metrics::render(ctx, status.as_ref()) {
                Ok(body) => Reply {
                    status: 200,
                    content_type: "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    body,
                },
                Err(e) => Reply::text(500, format!("cannot encode metrics: {e}")),
            }
        }
        (&Method::GET, ["healthz"]) => {
            let generation = ctx.snapshot.load().generation();
            match ctx.control.status().await {
                Ok(_) => Reply::text(200, format!("ok generation={generation}")),
                Err(_) => Reply::text(503, "control plane not responding"),
            }
        }
        (&Method::GET, ["user-pool-info"]) => user_pool_info(ctx, query),
        (&Method::GET, ["user-route"]) => user_route(ctx, query),
        (&Method::GET, ["registrars"]) => match ctx.control.status().await {
            Ok(mut status) => {
                for r in &mut status.registrars {
                    r.requests = r.slot.map_or(0, |s| ctx.stats.registrar_total(s));
                }
                Reply::json(200, &status)
            }
            Err(e) => Reply::error(503, e.to_string()),
        },
        (&Method::POST, ["registrars", id, verb @ ("drain" | "undrain")]) => {
            let id = percent_decode(id);
            let drained = *verb == "drain";
            match ctx.control.drain(&id, drained).await {
                Ok(Ok(changed)) => Reply::json(
                    200,
                    &serde_json::json!({ "id": id, "drained": drained, "changed": changed }),
                ),
                Ok(Err(e @ DrainError::NotFound(_))) => Reply::error(404, e.to_string()),
                Ok(Err(e @ DrainError::DrainedInConfig(_))) => Reply::error(409, e.to_string()),
                Err(e) => Reply::error(503, e.to_string()),
            }
        }
        (&Method::POST, ["reload"]) => {
            // Certificates first (as on SIGHUP), then the topology.
            ctx.tls.reload("admin");
            match ctx.control.reload("admin").await {
                Ok(Ok(summary)) => Reply::json(200, &serde_json::json!({ "reloaded": summary })),
                Ok(Err(e)) => Reply::error(422, e),
                Err(e) => Reply::error(503, e.to_string()),
            }
        }
        (
            _,
            ["metrics" | "healthz" | "user-pool-info" | "user-route" | "registrars" | "reload"],
        )
        | (_, ["registrars", _, "drain" | "undrain"]) => Reply::error(405, "method not allowed"),
        _ => Reply::error(404, format!("no such endpoint: {path}")),
    }
}

fn aor_param(query: &str) -> Result<String, Reply> {
    query
        .split('&')
        .find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == "aor").then(|| percent_decode(v))
        })
        .ok_or_else(|| {
            Reply::error(
                400,
                "missing query parameter aor (e.g. ?aor=sip:alice@example.com)",
            )
        })
}

fn user_pool_info(ctx: &AdminContext, query: &str) -> Reply {
    let aor = match aor_param(query) {
        Ok(a) => a,
        Err(reply) => return reply,
    };
    let snap = ctx.snapshot.load();
    match UserPoolReport::new(&aor, snap.topology()) {
        Ok(report) => Reply::json(200, &report),
        Err(e) => Reply::error(400, e.to_string()),
    }
}

/// Where the user is sent right now, under the published health view.
fn user_route(ctx: &AdminContext, query: &str) -> Reply {
    let aor = match aor_param(query) {
        Ok(a) => a,
        Err(reply) => return reply,
    };
    let key = match PlacementKey::parse_aor(&aor) {
        Ok(k) => k,
        Err(e) => return Reply::error(400, format!("invalid address of record `{aor}`: {e}")),
    };
    let snap = ctx.snapshot.load();
    let topo = snap.topology();
    let describe = |t: Target| {
        let r = topo.registrar(t);
        serde_json::json!({
            "pool": topo.pool(t.pool).id().as_str(),
            "id": r.id().as_str(),
            "contact": r.contact(),
            "address": snap.addr(t).map(|a| a.to_string()),
        })
    };
    let route = crate::routing::route(&snap, &key);
    let mode = match topo.mode() {
        Mode::Redirect => "redirect",
        Mode::Proxy => "proxy",
    };
    Reply::json(
        200,
        &serde_json::json!({
            "aor": aor,
            "key": key.to_string(),
            "mode": mode,
            "generation": snap.generation(),
            "primary": route.map(|r| describe(r.primary)),
            "backup": route.and_then(|r| r.backup).map(describe),
            "forward": route.map(|r| describe(r.forward)),
            "no_registrar": route.is_none(),
        }),
    )
}

/// `%XX` and `+` decoding of a query value or path segment (invalid escapes kept as is).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
