//! The validated run plan: command-line options turned into numbers, plus how the load is
//! split over threads and sockets. Shared read-only by every worker.

use crate::cli::{LoadArgs, Transport};
use crate::request::Method;
use crate::txn::Timers;
use crate::verify::Topology;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Instant;

/// Nanoseconds in a millisecond.
pub const MS: u64 = 1_000_000;

/// Closed or open loop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Keep this many requests in flight per thread.
    Closed {
        /// Requests in flight per thread.
        per_thread: usize,
    },
    /// Send at this total rate, whatever the responses do.
    Open {
        /// Requests per second, all threads together.
        rate: f64,
    },
}

/// The accepted final status codes.
#[derive(Debug, Clone)]
pub struct Expect {
    ok: Vec<bool>,
    text: String,
}

impl Expect {
    /// Parses `2xx,301`-style lists.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut ok = vec![false; 700];
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let lower = part.to_ascii_lowercase();
            if let Some(c) = lower.strip_suffix("xx") {
                let d: usize = c.parse().map_err(|_| format!("bad --expect item {part}"))?;
                if !(1..=6).contains(&d) {
                    return Err(format!("bad --expect class {part}"));
                }
                ok[d * 100..d * 100 + 100]
                    .iter_mut()
                    .for_each(|b| *b = true);
            } else {
                let c: usize = part
                    .parse()
                    .map_err(|_| format!("bad --expect item {part}"))?;
                if !(200..700).contains(&c) {
                    return Err(format!("--expect code out of range: {part}"));
                }
                ok[c] = true;
            }
        }
        Ok(Expect {
            ok,
            text: s.to_string(),
        })
    }

    /// Whether `code` is accepted.
    #[inline]
    pub fn accepts(&self, code: u16) -> bool {
        self.ok.get(code as usize).copied().unwrap_or(false)
    }

    /// The list as given.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// TLS settings of the client.
#[derive(Debug, Clone)]
pub struct TlsPlan {
    /// Client configuration.
    pub config: Arc<rustls::ClientConfig>,
    /// Server name sent in SNI and verified.
    pub server_name: rustls::pki_types::ServerName<'static>,
}

/// Everything a worker needs.
#[derive(Debug)]
pub struct Plan {
    /// `register` or `options`.
    pub method: Method,
    /// Transport.
    pub transport: Transport,
    /// Resolved target.
    pub target: SocketAddr,
    /// Users.
    pub users: u64,
    /// AOR domain.
    pub domain: String,
    /// User part prefix.
    pub user_prefix: String,
    /// Threads.
    pub threads: usize,
    /// Sockets / connections (or, per-request connection mode, concurrent connection loops).
    pub sockets: usize,
    /// Source addresses to spread over (IPv4 loopback only).
    pub source_ips: u32,
    /// Closed or open loop.
    pub mode: Mode,
    /// Table size per socket.
    pub table_size: usize,
    /// Total request budget.
    pub count: Option<u64>,
    /// Send phase length.
    pub duration_ns: Option<u64>,
    /// Transaction timers.
    pub timers: Timers,
    /// Longest wait for outstanding transactions after sending stops.
    pub drain_ns: u64,
    /// Transactions whose origin (first send, open loop: intended send) is before this are
    /// not measured (`--warmup-ms`).
    pub warmup_ns: u64,
    /// Accepted final codes.
    pub expect: Expect,
    /// Topology for --verify.
    pub verify: Option<Topology>,
    /// sendmmsg/recvmmsg batch.
    pub batch: usize,
    /// Expires of REGISTER.
    pub expires: u32,
    /// Random run id (Call-ID uniqueness across runs).
    pub run_id: u64,
    /// TLS client settings.
    pub tls: Option<TlsPlan>,
    /// A new TCP/TLS connection per request.
    pub new_conn_per_request: bool,
    /// TLS handshakes take a thread's handshake turns (`dataplane::handshake_turns`).
    pub handshake_turns: bool,
    /// The process-wide time origin.
    pub epoch: Instant,
}

/// A socket's share of the load.
#[derive(Debug, Clone, Copy)]
pub struct Share {
    /// Global socket index.
    pub index: usize,
    /// Requests this socket may start (None = unbounded).
    pub count: Option<u64>,
    /// Closed loop: requests in flight on this socket.
    pub window: usize,
    /// Open loop: this socket's rate (requests/s).
    pub rate: Option<f64>,
    /// First user index of this socket.
    pub user_first: u64,
    /// Stride between this socket's users.
    pub user_stride: u64,
    /// Number of users of this socket.
    pub user_count: u64,
    /// Source address to bind.
    pub source: Option<IpAddr>,
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => v.is_loopback(),
        IpAddr::V6(v) => v.is_loopback() || v.to_ipv4_mapped().is_some_and(|m| m.is_loopback()),
    }
}

fn split(total: u64, parts: u64, i: u64) -> u64 {
    total / parts + u64::from(i < total % parts)
}

impl Plan {
    /// Validates `a` for `method`; `verify` is the already loaded topology, `tls` the TLS
    /// settings (built by the caller when the transport is TLS).
    pub fn new(
        a: &LoadArgs,
        method: Method,
        verify: Option<Topology>,
        tls: Option<TlsPlan>,
    ) -> Result<Plan, String> {
        let target = a
            .target
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve --target {}: {e}", a.target))?
            .next()
            .ok_or_else(|| format!("--target {} resolves to nothing", a.target))?;
        if !a.allow_remote && !is_loopback(target.ip()) {
            return Err(format!(
                "refusing non-loopback target {target} (pass --allow-remote to load a remote host)"
            ));
        }
        if a.threads == 0 || a.users == 0 || a.batch == 0 || a.source_ips == 0 {
            return Err("--threads, --users, --batch and --source-ips must be >= 1".into());
        }
        if a.batch > 1024 {
            return Err("--batch must be <= 1024".into());
        }
        if a.source_ips > 1 && !target.ip().is_loopback() {
            return Err("--source-ips spreads over 127.0.0.0/8: only for loopback targets".into());
        }
        if a.source_ips > 1 && !target.is_ipv4() {
            return Err("--source-ips needs an IPv4 loopback target".into());
        }
        if a.t1_ms == 0 || a.t2_ms < a.t1_ms {
            return Err("need 0 < --t1-ms <= --t2-ms".into());
        }
        let mode = match (a.rate, a.in_flight) {
            (Some(rate), _) => Mode::Open { rate },
            (None, per) => Mode::Closed {
                per_thread: per.unwrap_or(64).max(1),
            },
        };
        let sockets = if a.new_connection_per_request && a.transport != Transport::Udp {
            match mode {
                Mode::Closed { per_thread } => per_thread * a.threads,
                Mode::Open { .. } => a.connections.unwrap_or(64 * a.threads),
            }
        } else {
            a.connections.unwrap_or(a.threads)
        }
        .max(a.threads);
        let timeout_ms = a.timeout_ms.unwrap_or(64 * a.t1_ms).max(1);
        let timers = Timers {
            t1: a.t1_ms * MS,
            t2: a.t2_ms * MS,
            timeout: timeout_ms * MS,
            retransmit: a.transport == Transport::Udp && !a.no_retransmit,
        };
        let table_size = match mode {
            Mode::Closed { .. } => 0, // sized per socket from its window
            Mode::Open { rate } => a
                .max_in_flight
                .unwrap_or(((rate * 2.0 / sockets as f64) as usize).max(4096)),
        };
        let expect = match &a.expect {
            Some(s) => Expect::parse(s)?,
            None => Expect::parse(match method {
                Method::Register => "2xx,3xx",
                Method::Options => "2xx",
            })?,
        };
        let run_id = {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            xxhash_rust::xxh3::xxh3_64(
                &[t.to_le_bytes(), u64::from(std::process::id()).to_le_bytes()].concat(),
            ) & 0xffff_ffff_ffff
        };
        Ok(Plan {
            method,
            transport: a.transport,
            target,
            users: a.users,
            domain: a.domain.clone(),
            user_prefix: a.user_prefix.clone(),
            threads: a.threads,
            sockets,
            source_ips: a.source_ips,
            mode,
            table_size,
            count: a.count,
            duration_ns: a.duration.map(|d| (d.max(0.0) * 1e9) as u64),
            timers,
            drain_ns: a.drain_ms.unwrap_or(timeout_ms) * MS,
            warmup_ns: a.warmup_ms.saturating_mul(MS),
            expect,
            verify,
            batch: a.batch,
            expires: a.expires,
            run_id,
            tls,
            new_conn_per_request: a.new_connection_per_request && a.transport != Transport::Udp,
            handshake_turns: !a.no_handshake_turns,
            epoch: Instant::now(),
        })
    }

    /// Nanoseconds since the run's epoch.
    #[inline]
    pub fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// Global socket indices owned by thread `t`.
    pub fn sockets_of(&self, t: usize) -> impl Iterator<Item = usize> {
        (t..self.sockets).step_by(self.threads)
    }

    /// The share of socket `k`.
    pub fn share(&self, k: usize) -> Share {
        let (s, t) = (self.sockets as u64, self.threads as u64);
        let k64 = k as u64;
        let thread = k64 % t;
        let in_thread = split(s, t, thread);
        let local = k64 / t;
        let window = match self.mode {
            Mode::Closed { per_thread } => {
                if self.new_conn_per_request {
                    1
                } else {
                    (split(per_thread as u64, in_thread, local) as usize).max(1)
                }
            }
            Mode::Open { .. } => 0,
        };
        let rate = match self.mode {
            Mode::Open { rate } => Some(rate / s as f64),
            Mode::Closed { .. } => None,
        };
        let (user_first, user_stride, user_count) = if self.users >= s {
            (k64, s, split(self.users, s, k64))
        } else {
            (k64 % self.users, 1, 1)
        };
        let source = if self.source_ips > 1 {
            let base = u32::from(Ipv4Addr::new(127, 0, 0, 1));
            Some(IpAddr::V4(Ipv4Addr::from(
                base + (k as u32 % self.source_ips),
            )))
        } else {
            None
        };
        Share {
            index: k,
            count: self.count.map(|c| split(c, s, k64)),
            window,
            rate,
            user_first,
            user_stride,
            user_count,
            source,
        }
    }

    /// Human description of the load mode.
    pub fn mode_text(&self) -> String {
        match self.mode {
            Mode::Closed { per_thread } => {
                format!("closed loop, {per_thread} in flight per thread")
            }
            Mode::Open { rate } => format!("open loop, {rate:.0}/s"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn plan(args: &[&str]) -> Result<Plan, String> {
        let mut v = vec!["loadgen", "register"];
        v.extend_from_slice(args);
        let cli = crate::cli::Cli::try_parse_from(v).map_err(|e| e.to_string())?;
        let crate::cli::Cmd::Register(a) = cli.cmd else {
            return Err("not register".into());
        };
        Plan::new(&a, Method::Register, None, None)
    }

    #[test]
    fn shares_add_up() {
        let p = plan(&[
            "--threads",
            "3",
            "--connections",
            "7",
            "--count",
            "100",
            "--users",
            "50",
        ])
        .expect("plan");
        let shares: Vec<Share> = (0..7).map(|k| p.share(k)).collect();
        assert_eq!(
            shares.iter().map(|s| s.count.unwrap_or(0)).sum::<u64>(),
            100
        );
        assert_eq!(shares.iter().map(|s| s.user_count).sum::<u64>(), 50);
        for t in 0..3 {
            let w: usize = p.sockets_of(t).map(|k| p.share(k).window).sum();
            assert_eq!(w, 64, "thread {t}");
        }
    }

    #[test]
    fn refuses_remote_and_parses_expect() {
        assert!(plan(&["--target", "192.0.2.1:5060"]).is_err());
        assert!(plan(&["--target", "192.0.2.1:5060", "--allow-remote"]).is_ok());
        let e = Expect::parse("2xx,301").expect("parses");
        assert!(e.accepts(200) && e.accepts(299) && e.accepts(301) && !e.accepts(302));
        assert!(Expect::parse("9xx").is_err());
    }

    #[test]
    fn rate_accepts_per_second_suffix() {
        let p = plan(&["--rate", "1000/s"]).expect("plan");
        assert_eq!(p.mode, Mode::Open { rate: 1000.0 });
    }
}
