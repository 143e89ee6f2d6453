//! Semantic validation: [`RawConfig`] (as written) to [`Config`] (usable), with defaults
//! applied and every error pointing at the offending field's line.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::error::{ConfigError, Invalid, Problem};
use super::location::line_col;
use super::raw::{RawConfig, RawHealth, RawHoming, RawListen, RawPool, RawRegistrar};
use super::settings::{AdminSettings, ClientCert, Config, HealthSettings, Listener, TlsFiles};
use crate::placement::{split_uri, MachineId, PlacementKey, PoolId, Weight};
use crate::topology::{Endpoint, Pool, PoolIdx, Registrar, Topology, Transport};

/// Largest pool or registrar weight: scoring costs one hash per weight unit per request.
pub(crate) const MAX_WEIGHT: u32 = 100;
const MAX_WORKERS: u32 = 1024;
const MAX_ID_LEN: usize = 255;
const DEFAULT_EXPIRES: u32 = 3600;
const DEFAULT_ADMIN: &str = "127.0.0.1:8080";
const DEFAULT_LISTEN: &str = "127.0.0.1:5060";

/// Where errors point: the file name and its text (for line numbers).
pub(super) struct Source<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl Source<'_> {
    fn line(&self, span: &Range<usize>) -> usize {
        line_col(self.text, span.start).line
    }

    pub(super) fn at<T>(&self, value: &Spanned<T>, field: String, problem: Problem) -> ConfigError {
        self.at_span(value.span(), Some(field), problem)
    }

    pub(super) fn at_span(
        &self,
        span: Range<usize>,
        field: Option<String>,
        problem: Problem,
    ) -> ConfigError {
        ConfigError::Invalid(Box::new(Invalid {
            file: self.file.to_owned(),
            location: Some(line_col(self.text, span.start)),
            field,
            problem,
        }))
    }

    fn nowhere(&self, field: &str, problem: Problem) -> ConfigError {
        ConfigError::Invalid(Box::new(Invalid {
            file: self.file.to_owned(),
            location: None,
            field: Some(field.to_owned()),
            problem,
        }))
    }
}

/// Validates a parsed file. `base_dir` resolves relative TLS file paths.
pub(super) fn validate(
    raw: RawConfig,
    src: &Source<'_>,
    base_dir: &Path,
) -> Result<Config, ConfigError> {
    let director = raw.director;
    let (mut workers, mut mode, mut expires, mut domain) =
        (0, Default::default(), DEFAULT_EXPIRES, None);
    let mut pin_workers = true;
    if let Some(d) = director {
        if let Some(p) = d.pin_workers {
            pin_workers = *p.get_ref();
        }
        if let Some(w) = d.workers {
            if *w.get_ref() > MAX_WORKERS {
                let msg = format!("workers must be at most {MAX_WORKERS}, got {}", w.get_ref());
                return Err(src.at(&w, "director.workers".into(), Problem::Range(msg)));
            }
            workers = *w.get_ref();
        }
        if let Some(m) = d.mode {
            mode = *m.get_ref();
        }
        if let Some(e) = d.expires {
            expires = *e.get_ref();
        }
        if let Some(dom) = d.domain {
            let key =
                PlacementKey::from_uri_parts(None, dom.get_ref().as_bytes()).map_err(|reason| {
                    let problem = Problem::Domain {
                        value: dom.get_ref().clone(),
                        reason,
                    };
                    src.at(&dom, "director.domain".into(), problem)
                })?;
            domain = Some(key.to_string().into_boxed_str());
        }
    }
    let listeners = listeners(raw.listen, src, base_dir)?;
    let admin = match raw.admin {
        None => None,
        Some(admin) => Some(AdminSettings {
            address: match &admin.get_ref().address {
                Some(a) => socket_addr(a, "admin.address".into(), src)?,
                None => DEFAULT_ADMIN.parse().map_err(|_| {
                    src.at(
                        &admin,
                        "admin".into(),
                        Problem::SocketAddress(DEFAULT_ADMIN.into()),
                    )
                })?,
            },
        }),
    };
    let health = health(raw.health, src)?;
    let connection_limits = super::limits::connection_limits(raw.limits.as_ref(), src)?;
    let limits = super::limits::limits(raw.limits, src)?;
    let (pools, pool_ids) = pools(raw.pool, src)?;
    let (user_rules, domain_rules) = homing(raw.homing, &pool_ids, src)?;
    let client_certs = listeners
        .iter()
        .any(|l| l.tls.as_ref().is_some_and(|t| t.client_ca.is_some()));
    let auth = super::auth::auth(raw.auth, domain.as_deref(), client_certs, src, base_dir)?;
    let proxy = super::proxy::proxy(raw.proxy, src, base_dir)?;
    Ok(Config {
        workers,
        pin_workers,
        listeners,
        admin,
        health,
        limits,
        connection_limits,
        proxy,
        topology: Topology {
            mode,
            expires,
            domain,
            pools,
            user_rules,
            domain_rules,
            auth,
        },
    })
}

fn socket_addr(
    value: &Spanned<String>,
    field: String,
    src: &Source<'_>,
) -> Result<SocketAddr, ConfigError> {
    value.get_ref().trim().parse().map_err(|_| {
        src.at(
            value,
            field,
            Problem::SocketAddress(value.get_ref().clone()),
        )
    })
}

fn listeners(
    raw: Vec<Spanned<RawListen>>,
    src: &Source<'_>,
    base_dir: &Path,
) -> Result<Vec<Listener>, ConfigError> {
    if raw.is_empty() {
        let address = DEFAULT_LISTEN
            .parse()
            .map_err(|_| src.nowhere("listen", Problem::SocketAddress(DEFAULT_LISTEN.into())))?;
        return Ok([Transport::Udp, Transport::Tcp]
            .into_iter()
            .map(|transport| Listener {
                address,
                transport,
                tls: None,
                mode: None,
                proxy_protocol: false,
                proxy_protocol_from: Vec::new(),
            })
            .collect());
    }
    let mut seen: HashMap<(SocketAddr, bool), usize> = HashMap::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, l) in raw.into_iter().enumerate() {
        let field = |name: &str| format!("listen[{i}].{name}");
        let l = l.into_inner();
        let address = socket_addr(&l.address, field("address"), src)?;
        let transport = l
            .transport
            .as_ref()
            .map_or(Transport::Udp, |t| *t.get_ref());
        let tls = match (transport, l.certificate, l.private_key) {
            (Transport::Tls, Some(cert), Some(key)) => Some(TlsFiles {
                certificate: base_dir.join(cert.get_ref()),
                private_key: base_dir.join(key.get_ref()),
                client_ca: l.client_ca.as_ref().map(|ca| base_dir.join(ca.get_ref())),
                client_cert: l
                    .client_cert
                    .as_ref()
                    .map_or_else(ClientCert::default, |c| *c.get_ref()),
            }),
            (Transport::Tls, _, _) => {
                let span = l.transport.as_ref().map_or(l.address.span(), Spanned::span);
                return Err(src.at_span(
                    span,
                    Some(field("transport")),
                    Problem::TlsWithoutCertificate,
                ));
            }
            (_, Some(cert), _) => {
                return Err(src.at(
                    &cert,
                    field("certificate"),
                    Problem::TlsFileWithoutTls("certificate"),
                ))
            }
            (_, None, Some(key)) => {
                return Err(src.at(
                    &key,
                    field("private_key"),
                    Problem::TlsFileWithoutTls("private_key"),
                ))
            }
            (_, None, None) => None,
        };
        if let (None, Some(ca)) = (&tls, &l.client_ca) {
            return Err(src.at(
                ca,
                field("client_ca"),
                Problem::TlsFileWithoutTls("client_ca"),
            ));
        }
        if let (None, Some(c)) = (&l.client_ca, &l.client_cert) {
            return Err(src.at(c, field("client_cert"), Problem::ClientCertWithoutCa));
        }
        let line = src.line(&l.address.span());
        // Port 0 asks the kernel for a free port: two such listeners never collide.
        let fixed_port = address.port() != 0;
        if let Some(&first_line) = seen
            .get(&(address, transport.is_stream()))
            .filter(|_| fixed_port)
        {
            let problem = Problem::DuplicateListener {
                address: address.to_string(),
                transport: if transport.is_stream() {
                    "tcp/tls"
                } else {
                    "udp"
                },
                first_line,
            };
            return Err(src.at(&l.address, field("address"), problem));
        }
        seen.insert((address, transport.is_stream()), line);
        let (proxy_protocol, proxy_protocol_from) =
            proxy_protocol(l.proxy_protocol, l.proxy_protocol_from, transport, i, src)?;
        out.push(Listener {
            address,
            transport,
            tls,
            mode: l.mode.map(Spanned::into_inner),
            proxy_protocol,
            proxy_protocol_from,
        });
    }
    Ok(out)
}

/// `proxy_protocol` (TCP/TLS only) and its trusted sources (only with it on).
fn proxy_protocol(
    on: Option<Spanned<bool>>,
    from: Option<Spanned<Vec<Spanned<String>>>>,
    transport: Transport,
    i: usize,
    src: &Source<'_>,
) -> Result<(bool, Vec<dataplane::Cidr>), ConfigError> {
    let field = |name: &str| format!("listen[{i}].{name}");
    let enabled = on.as_ref().is_some_and(|o| *o.get_ref());
    if let Some(o) = on.as_ref().filter(|_| enabled && !transport.is_stream()) {
        return Err(src.at(o, field("proxy_protocol"), Problem::ProxyProtocolOnUdp));
    }
    let Some(from) = from else {
        return Ok((enabled, Vec::new()));
    };
    if !enabled {
        return Err(src.at(
            &from,
            field("proxy_protocol_from"),
            Problem::ProxyFromWithoutProxy,
        ));
    }
    let mut trusted = Vec::with_capacity(from.get_ref().len());
    for (k, c) in from.into_inner().into_iter().enumerate() {
        let parsed = c
            .get_ref()
            .trim()
            .parse()
            .map_err(|e: dataplane::CidrError| {
                let problem = Problem::Cidr {
                    value: c.get_ref().clone(),
                    reason: e.to_string(),
                };
                src.at(&c, field(&format!("proxy_protocol_from[{k}]")), problem)
            })?;
        trusted.push(parsed);
    }
    Ok((true, trusted))
}

fn health(raw: Option<RawHealth>, src: &Source<'_>) -> Result<HealthSettings, ConfigError> {
    let mut h = HealthSettings::default();
    let Some(raw) = raw else {
        return Ok(h);
    };
    h.enabled = raw.enabled.as_ref().is_none_or(|e| *e.get_ref());
    let positive = |v: &Option<Spanned<u64>>, name: &str| -> Result<Option<u64>, ConfigError> {
        match v {
            Some(s) if *s.get_ref() == 0 => Err(src.at(
                s,
                format!("health.{name}"),
                Problem::Range(format!("{name} must be at least 1")),
            )),
            Some(s) => Ok(Some(*s.get_ref())),
            None => Ok(None),
        }
    };
    if let Some(ms) = positive(&raw.interval_ms, "interval_ms")? {
        h.interval = Duration::from_millis(ms);
    }
    if let Some(ms) = positive(&raw.timeout_ms, "timeout_ms")? {
        h.timeout = Duration::from_millis(ms);
    }
    if h.timeout > h.interval {
        let msg = format!(
            "timeout_ms ({}) must not exceed interval_ms ({})",
            h.timeout.as_millis(),
            h.interval.as_millis()
        );
        let span = raw
            .timeout_ms
            .as_ref()
            .or(raw.interval_ms.as_ref())
            .map(Spanned::span);
        let field = if raw.timeout_ms.is_some() {
            "health.timeout_ms"
        } else {
            "health.interval_ms"
        };
        return Err(src.at_span(
            span.unwrap_or(0..0),
            Some(field.into()),
            Problem::Range(msg),
        ));
    }
    let widen = |v: &Option<Spanned<u32>>| {
        v.as_ref()
            .map(|s| Spanned::new(s.span(), u64::from(*s.get_ref())))
    };
    if let Some(n) = positive(&widen(&raw.down_after), "down_after")? {
        h.down_after = u32::try_from(n).unwrap_or(u32::MAX);
    }
    if let Some(n) = positive(&widen(&raw.up_after), "up_after")? {
        h.up_after = u32::try_from(n).unwrap_or(u32::MAX);
    }
    if let Some(s) = raw.failover_interval_s {
        h.failover_interval = Duration::from_secs(*s.get_ref());
    }
    if let Some(s) = raw.failback_interval_s {
        h.failback_interval = Duration::from_secs(*s.get_ref());
    }
    Ok(h)
}

fn weight(
    raw: &Option<Spanned<u32>>,
    field: String,
    src: &Source<'_>,
) -> Result<Weight, ConfigError> {
    let Some(w) = raw else {
        return Ok(Weight::ONE);
    };
    match Weight::new(*w.get_ref()) {
        Some(weight) if weight.get() <= MAX_WEIGHT => Ok(weight),
        _ => Err(src.at(w, field, Problem::Weight { got: *w.get_ref() })),
    }
}

fn check_id(id: &Spanned<String>, field: String, src: &Source<'_>) -> Result<(), ConfigError> {
    let s = id.get_ref();
    if s.is_empty()
        || s.len() > MAX_ID_LEN
        || s.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(src.at(id, field, Problem::InvalidId(s.clone())));
    }
    Ok(())
}

fn pools(
    raw: Vec<Spanned<RawPool>>,
    src: &Source<'_>,
) -> Result<(Vec<Pool>, HashMap<String, PoolIdx>), ConfigError> {
    if raw.is_empty() {
        return Err(src.nowhere("pool", Problem::NoPools));
    }
    let mut pool_ids: HashMap<String, PoolIdx> = HashMap::new();
    let mut pool_lines: HashMap<String, usize> = HashMap::new();
    let mut registrar_lines: HashMap<String, usize> = HashMap::new();
    for (i, p) in raw.iter().enumerate() {
        let id = &p.get_ref().id;
        check_id(id, format!("pool[{i}].id"), src)?;
        if let Some(&first_line) = pool_lines.get(id.get_ref()) {
            let problem = Problem::DuplicateId {
                kind: "pool",
                id: id.get_ref().clone(),
                first_line,
            };
            return Err(src.at(id, format!("pool[{i}].id"), problem));
        }
        pool_lines.insert(id.get_ref().clone(), src.line(&id.span()));
        pool_ids.insert(id.get_ref().clone(), PoolIdx(i));
    }
    let mut pools = Vec::with_capacity(raw.len());
    for (i, p) in raw.iter().enumerate() {
        let p = p.get_ref();
        let backup = match &p.backup {
            None => None,
            Some(b) if b.get_ref() == p.id.get_ref() => {
                return Err(src.at(
                    b,
                    format!("pool[{i}].backup"),
                    Problem::SelfBackup(b.get_ref().clone()),
                ))
            }
            Some(b) => Some(*pool_ids.get(b.get_ref()).ok_or_else(|| {
                src.at(
                    b,
                    format!("pool[{i}].backup"),
                    Problem::UnknownBackup(b.get_ref().clone()),
                )
            })?),
        };
        if p.registrar.is_empty() {
            return Err(src.at(
                &p.id,
                format!("pool[{i}]"),
                Problem::EmptyPool(p.id.get_ref().clone()),
            ));
        }
        let mut registrars = Vec::with_capacity(p.registrar.len());
        for (j, r) in p.registrar.iter().enumerate() {
            registrars.push(registrar(
                r.get_ref(),
                &format!("pool[{i}].registrar[{j}]"),
                &mut registrar_lines,
                src,
            )?);
        }
        pools.push(Pool {
            id: PoolId::new(p.id.get_ref().as_str()),
            weight: weight(&p.weight, format!("pool[{i}].weight"), src)?,
            backup,
            homed_only: p.homed_only.as_ref().is_some_and(|h| *h.get_ref()),
            registrars,
        });
    }
    if pools.iter().all(|p| p.homed_only) {
        let first = raw.first().and_then(|p| p.get_ref().homed_only.as_ref());
        let span = first.map_or(0..0, Spanned::span);
        return Err(src.at_span(
            span,
            Some("pool[0].homed_only".into()),
            Problem::NoHashedPool,
        ));
    }
    Ok((pools, pool_ids))
}

fn registrar(
    r: &RawRegistrar,
    path: &str,
    lines: &mut HashMap<String, usize>,
    src: &Source<'_>,
) -> Result<Registrar, ConfigError> {
    check_id(&r.id, format!("{path}.id"), src)?;
    if let Some(&first_line) = lines.get(r.id.get_ref()) {
        let problem = Problem::DuplicateId {
            kind: "registrar",
            id: r.id.get_ref().clone(),
            first_line,
        };
        return Err(src.at(&r.id, format!("{path}.id"), problem));
    }
    lines.insert(r.id.get_ref().clone(), src.line(&r.id.span()));
    let contact = r.contact.get_ref().trim();
    let mut endpoint = contact_endpoint(contact).map_err(|reason| {
        let problem = Problem::Contact {
            uri: r.contact.get_ref().clone(),
            reason,
        };
        src.at(&r.contact, format!("{path}.contact"), problem)
    })?;
    if let Some(address) = &r.address {
        let (host, port) = host_port(address.get_ref()).ok_or_else(|| {
            src.at(
                address,
                format!("{path}.address"),
                Problem::Endpoint(address.get_ref().clone()),
            )
        })?;
        endpoint.host = host;
        endpoint.port = port;
    }
    Ok(Registrar {
        id: MachineId::new(r.id.get_ref().as_str()),
        weight: weight(&r.weight, format!("{path}.weight"), src)?,
        contact: contact.into(),
        endpoint,
        drained: r.drained.as_ref().is_some_and(|d| *d.get_ref()),
    })
}

/// Checks a Contact URI and derives where to reach it: transport from `transport=` (or `sips`),
/// port from the URI (or 5060 / 5061 for TLS).
fn contact_endpoint(contact: &str) -> Result<Endpoint, String> {
    if contact
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'))
    {
        return Err("must not contain spaces, quotes or angle brackets".into());
    }
    let parts = split_uri(contact).map_err(|e| e.to_string())?;
    if parts.scheme.is_none() {
        return Err("must start with sip: or sips:".into());
    }
    let key =
        PlacementKey::from_uri_parts(None, parts.host.as_bytes()).map_err(|e| e.to_string())?;
    let transport = match parts
        .param("transport")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None => {
            if parts.is_sips() {
                Transport::Tls
            } else {
                Transport::Udp
            }
        }
        Some("udp") if parts.is_sips() => return Err("sips: cannot use transport=udp".into()),
        Some("udp") => Transport::Udp,
        Some("tcp") if parts.is_sips() => Transport::Tls,
        Some("tcp") => Transport::Tcp,
        Some("tls") => Transport::Tls,
        Some(other) => return Err(format!("unsupported transport `{other}` (udp, tcp or tls)")),
    };
    let default_port = if transport == Transport::Tls {
        5061
    } else {
        5060
    };
    Ok(Endpoint {
        host: unbracket(&key.to_string()).into(),
        port: parts.port.unwrap_or(default_port),
        transport,
    })
}

fn unbracket(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// `HOST:PORT` with an IP address or a host name; IPv6 in brackets.
fn host_port(text: &str) -> Option<(Box<str>, u16)> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some((addr.ip().to_string().into(), addr.port()));
    }
    let (host, port) = text.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let key = PlacementKey::from_uri_parts(None, host.as_bytes()).ok()?;
    if host.starts_with('[') {
        return None; // a bracketed host that is not an IPv6 address
    }
    Some((key.to_string().into(), port))
}

type Rules = HashMap<Box<[u8]>, PoolIdx>;

fn homing(
    raw: Vec<Spanned<RawHoming>>,
    pool_ids: &HashMap<String, PoolIdx>,
    src: &Source<'_>,
) -> Result<(Rules, Rules), ConfigError> {
    let mut users = Rules::new();
    let mut domains = Rules::new();
    let mut lines: HashMap<Box<[u8]>, usize> = HashMap::new();
    for (i, rule) in raw.iter().enumerate() {
        let field = |name: &str| format!("homing[{i}].{name}");
        let r = rule.get_ref();
        let pool = *pool_ids.get(r.pool.get_ref()).ok_or_else(|| {
            src.at(
                &r.pool,
                field("pool"),
                Problem::UnknownPool(r.pool.get_ref().clone()),
            )
        })?;
        let (value, key, rules) = match (&r.user, &r.domain) {
            (Some(user), None) => {
                let invalid = |reason: String| {
                    let problem = Problem::HomingUser {
                        value: user.get_ref().clone(),
                        reason,
                    };
                    src.at(user, field("user"), problem)
                };
                let key =
                    PlacementKey::parse_aor(user.get_ref()).map_err(|e| invalid(e.to_string()))?;
                if key.user().is_none() {
                    return Err(invalid(
                        "expected user@domain (use `domain =` for a whole domain)".into(),
                    ));
                }
                (user, Box::<[u8]>::from(key.as_bytes()), &mut users)
            }
            (None, Some(domain)) => {
                let invalid = |reason: String| {
                    let problem = Problem::HomingDomain {
                        value: domain.get_ref().clone(),
                        reason,
                    };
                    src.at(domain, field("domain"), problem)
                };
                let key = PlacementKey::parse_aor(domain.get_ref())
                    .map_err(|e| invalid(e.to_string()))?;
                if key.user().is_some() {
                    return Err(invalid(
                        "expected a domain without user (use `user =` for one user)".into(),
                    ));
                }
                (domain, Box::<[u8]>::from(key.host()), &mut domains)
            }
            _ => return Err(src.at(rule, format!("homing[{i}]"), Problem::HomingShape)),
        };
        if let Some(&first_line) = lines.get(&key) {
            let problem = Problem::DuplicateHoming {
                key: String::from_utf8_lossy(&key).into_owned(),
                first_line,
            };
            let name = if r.user.is_some() { "user" } else { "domain" };
            return Err(src.at(value, field(name), problem));
        }
        lines.insert(key.clone(), src.line(&value.span()));
        rules.insert(key, pool);
    }
    Ok((users, domains))
}

/// Resolves the directory relative TLS paths are taken from.
pub(super) fn base_dir(file: &str) -> PathBuf {
    Path::new(file)
        .parent()
        .map_or_else(PathBuf::new, Path::to_path_buf)
}
