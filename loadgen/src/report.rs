//! The end-of-run summary (human text and JSON, same numbers) and the live progress line.

use crate::plan::Plan;
use crate::stats::{Errors, Stats};
use serde::Serialize;
use std::collections::BTreeMap;

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    /// Completed transactions measured.
    pub count: u64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
}

/// Everything the run measured; serialised as the `--json` output.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// `register` or `options`.
    pub command: String,
    /// `udp`, `tcp` or `tls`.
    pub transport: String,
    /// Target address.
    pub target: String,
    /// `closed` or `open`.
    pub mode: String,
    /// Open loop: requested rate (requests/s).
    pub target_rate: Option<f64>,
    /// Closed loop: requests in flight per thread.
    pub in_flight_per_thread: Option<usize>,
    /// Worker threads.
    pub threads: usize,
    /// Sockets or connection slots.
    pub sockets: usize,
    /// Distinct users.
    pub users: u64,
    /// Seconds from start until sending stopped.
    pub send_duration_s: f64,
    /// Seconds from start until the last response or timeout (wall time of the run).
    pub elapsed_s: f64,
    /// Transactions started (each counted once, retransmissions not included).
    pub requests: u64,
    /// requests / send_duration_s.
    pub request_rate: f64,
    /// Retransmissions sent (UDP timer E).
    pub retransmits: u64,
    /// Final responses (matched to a live transaction).
    pub responses: u64,
    /// responses / elapsed_s.
    pub response_rate: f64,
    /// Provisional (1xx) responses.
    pub provisional: u64,
    /// Responses to already ended transactions (answers to retransmissions; not errors).
    pub late: u64,
    /// Final responses by status code.
    pub status: BTreeMap<u16, u64>,
    /// Final responses by class (`2xx` ...).
    pub classes: BTreeMap<String, u64>,
    /// 301s checked with --verify and found right.
    pub verified: u64,
    /// TCP/TLS connections established.
    pub connections: u64,
    /// Of those, TLS connections whose handshake resumed a session.
    pub resumed_handshakes: u64,
    /// Of those, TLS connections that negotiated TLS 1.2 (the rest TLS 1.3).
    pub tls12_handshakes: u64,
    /// Errors by kind.
    pub errors: Errors,
    /// Sum of the error kinds.
    pub errors_total: u64,
    /// The first few verify mismatches.
    pub mismatch_samples: Vec<String>,
    /// Accepted final codes.
    pub expect: String,
    /// Latency of final responses, microseconds (open loop: from the intended send time).
    pub latency_us: Latency,
    /// `--warmup-ms`: transactions started before this are in the counts, not in `latency_us`.
    pub warmup_ms: u64,
}

fn us(ns: u64) -> f64 {
    (ns as f64 / 1000.0 * 10.0).round() / 10.0
}

/// Latency summary of `s`.
pub fn latency(s: &Stats) -> Latency {
    let h = &s.latency;
    let q = |x: f64| {
        if h.is_empty() {
            0.0
        } else {
            us(h.value_at_quantile(x))
        }
    };
    Latency {
        count: h.len(),
        mean: if h.is_empty() {
            0.0
        } else {
            us(h.mean() as u64)
        },
        p50: q(0.5),
        p90: q(0.9),
        p99: q(0.99),
        p999: q(0.999),
        max: if h.is_empty() { 0.0 } else { us(h.max()) },
    }
}

impl Summary {
    /// Builds the summary of a finished run.
    pub fn new(command: &str, plan: &Plan, s: &Stats, send_s: f64, elapsed_s: f64) -> Self {
        let status: BTreeMap<u16, u64> = s
            .by_status
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(c, n)| (c as u16, *n))
            .collect();
        let classes = s
            .by_class()
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, n)| (format!("{}xx", i + 1), *n))
            .collect();
        let (target_rate, in_flight) = match plan.mode {
            crate::plan::Mode::Open { rate } => (Some(rate), None),
            crate::plan::Mode::Closed { per_thread } => (None, Some(per_thread)),
        };
        let responses = s.finals();
        let send_s = send_s.max(1e-9);
        let elapsed_s = elapsed_s.max(1e-9);
        Summary {
            command: command.to_string(),
            transport: plan.transport.name().to_string(),
            target: plan.target.to_string(),
            mode: if target_rate.is_some() {
                "open"
            } else {
                "closed"
            }
            .to_string(),
            target_rate,
            in_flight_per_thread: in_flight,
            threads: plan.threads,
            sockets: plan.sockets,
            users: plan.users,
            send_duration_s: (send_s * 1000.0).round() / 1000.0,
            elapsed_s: (elapsed_s * 1000.0).round() / 1000.0,
            requests: s.sent,
            request_rate: (s.sent as f64 / send_s).round(),
            retransmits: s.retransmits,
            responses,
            response_rate: (responses as f64 / elapsed_s).round(),
            provisional: s.provisional,
            late: s.late,
            status,
            classes,
            verified: s.verified,
            connections: s.connections,
            resumed_handshakes: s.resumed,
            tls12_handshakes: s.tls12,
            errors: s.errors,
            errors_total: s.errors.total(),
            mismatch_samples: s.mismatch_samples.clone(),
            expect: plan.expect.text().to_string(),
            latency_us: latency(s),
            warmup_ms: plan.warmup_ns / crate::plan::MS,
        }
    }

    /// The human-readable summary.
    pub fn text(&self, plan: &Plan) -> String {
        let mut o = String::new();
        let e = &self.errors;
        o += &format!(
            "loadgen {}: {} -> {}, {} thread(s), {} socket(s), {}, {} users\n",
            self.command,
            self.transport,
            self.target,
            self.threads,
            self.sockets,
            plan.mode_text(),
            self.users
        );
        o += &format!(
            "  duration     {:.3} s sending, {:.3} s total\n",
            self.send_duration_s, self.elapsed_s
        );
        o += &format!(
            "  requests     {} ({:.0}/s), {} retransmits\n",
            self.requests, self.request_rate, self.retransmits
        );
        o += &format!(
            "  responses    {} final ({:.0}/s), {} provisional, {} late\n",
            self.responses, self.response_rate, self.provisional, self.late
        );
        for (code, n) in &self.status {
            o += &format!("    {code}        {n}\n");
        }
        if plan.verify.is_some() {
            o += &format!(
                "  verified     {} 301s matched the placement\n",
                self.verified
            );
        }
        if self.connections > 0 && self.transport == "tls" {
            o += &format!(
                "  connections  {} ({} TLS handshakes resumed, {} full; {} TLS 1.2, {} TLS 1.3)\n",
                self.connections,
                self.resumed_handshakes,
                self.connections - self.resumed_handshakes.min(self.connections),
                self.tls12_handshakes,
                self.connections - self.tls12_handshakes.min(self.connections)
            );
        } else if self.connections > 0 {
            o += &format!("  connections  {}\n", self.connections);
        }
        o += &format!(
            "  errors       {} (timeout {}, unexpected status {}, parse error {}, verify mismatch {}, \
             unmatched {}, send error {}, connect error {}, abandoned {})\n",
            self.errors_total,
            e.timeout,
            e.unexpected_status,
            e.parse_error,
            e.verify_mismatch,
            e.unmatched,
            e.send_error,
            e.connect_error,
            e.abandoned
        );
        for m in &self.mismatch_samples {
            o += &format!("    mismatch: {m}\n");
        }
        let l = &self.latency_us;
        o += &format!(
            "  latency      p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  (mean {}, n={})\n",
            human(l.p50),
            human(l.p90),
            human(l.p99),
            human(l.p999),
            human(l.max),
            human(l.mean),
            l.count
        );
        o
    }
}

/// Microseconds as `123 µs` or `4.56 ms` or `1.23 s`.
pub fn human(us: f64) -> String {
    if us < 10_000.0 {
        format!("{us:.0} µs")
    } else if us < 10_000_000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// One progress line from the running total.
pub fn progress_line(secs: f64, s: &Stats, rate: f64) -> String {
    let c = s.by_class();
    let p99 = if s.latency.is_empty() {
        "-".to_string()
    } else {
        human(us(s.latency.value_at_quantile(0.99)))
    };
    format!(
        "[{secs:6.1}s] sent {} ({rate:.0}/s) 1xx {} 2xx {} 3xx {} 4xx {} 5xx {} 6xx {} errors {} p99 {p99}",
        s.sent,
        s.provisional,
        c[1],
        c[2],
        c[3],
        c[4],
        c[5],
        s.errors.total()
    )
}
