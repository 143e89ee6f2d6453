//! Counters and the latency histogram of a run. Each worker thread owns one [`Stats`] and
//! merges it into the shared total a few times a second; the total feeds the progress line and
//! the final summary.

use hdrhistogram::Histogram;

/// Largest latency the histogram records (ns); larger values are clamped.
pub const MAX_LATENCY_NS: u64 = 3_600_000_000_000;

/// How many verify mismatch descriptions are kept for printing.
pub const MAX_SAMPLES: usize = 5;

/// Error counters by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Errors {
    /// Timer F expired without a final response.
    pub timeout: u64,
    /// A final response whose status is not in the expected set.
    pub unexpected_status: u64,
    /// A datagram/frame that did not parse as a SIP response, or lacked Call-ID/CSeq.
    pub parse_error: u64,
    /// A 301 whose Contacts disagree with the placement computed from the config.
    pub verify_mismatch: u64,
    /// A response matching no transaction of this run (foreign Call-ID, wrong CSeq).
    pub unmatched: u64,
    /// A socket send failed.
    pub send_error: u64,
    /// A TCP/TLS connect or handshake failed, or the peer closed the connection.
    pub connect_error: u64,
    /// Still in flight when the run ended (after the drain time).
    pub abandoned: u64,
}

impl Errors {
    fn add(&mut self, o: &Errors) {
        self.timeout += o.timeout;
        self.unexpected_status += o.unexpected_status;
        self.parse_error += o.parse_error;
        self.verify_mismatch += o.verify_mismatch;
        self.unmatched += o.unmatched;
        self.send_error += o.send_error;
        self.connect_error += o.connect_error;
        self.abandoned += o.abandoned;
    }

    /// Sum over the kinds that mean a failed transaction or a bad response.
    pub fn total(&self) -> u64 {
        self.timeout
            + self.unexpected_status
            + self.parse_error
            + self.verify_mismatch
            + self.unmatched
            + self.send_error
            + self.connect_error
            + self.abandoned
    }
}

/// Counters and latency of (part of) a run.
#[derive(Debug, Clone)]
pub struct Stats {
    /// New requests sent (transactions started).
    pub sent: u64,
    /// Retransmissions sent.
    pub retransmits: u64,
    /// Provisional (1xx) responses received.
    pub provisional: u64,
    /// Responses to transactions that had already ended (answers to retransmissions, or
    /// after a timeout); not errors.
    pub late: u64,
    /// Final responses by status code (index = code, 100..=699).
    pub by_status: Vec<u64>,
    /// 301s checked by --verify and found right.
    pub verified: u64,
    /// Connections opened (TCP/TLS).
    pub connections: u64,
    /// TLS connections whose handshake resumed an earlier session (the rest were full).
    pub resumed: u64,
    /// TLS connections that negotiated TLS 1.2 (the rest TLS 1.3).
    pub tls12: u64,
    /// Errors by kind.
    pub errors: Errors,
    /// First few verify mismatches, described.
    pub mismatch_samples: Vec<String>,
    /// Latency of completed transactions (final response), ns.
    pub latency: Histogram<u64>,
}

impl Default for Stats {
    fn default() -> Self {
        Self::new()
    }
}

impl Stats {
    /// Empty stats.
    pub fn new() -> Self {
        // 3 significant digits from 1 ns to an hour: bounded and valid, so this cannot fail.
        let latency = Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3)
            .unwrap_or_else(|_| Histogram::new(3).expect("histogram with 3 significant digits"));
        Stats {
            sent: 0,
            retransmits: 0,
            provisional: 0,
            late: 0,
            by_status: vec![0; 700],
            verified: 0,
            connections: 0,
            resumed: 0,
            tls12: 0,
            errors: Errors::default(),
            mismatch_samples: Vec::new(),
            latency,
        }
    }

    /// Records a final response `code`, and its latency unless it is `None` (warm-up).
    #[inline]
    pub fn final_response(&mut self, code: u16, latency_ns: Option<u64>) {
        if let Some(c) = self.by_status.get_mut(code as usize) {
            *c += 1;
        }
        if let Some(ns) = latency_ns {
            self.latency.saturating_record(ns.clamp(1, MAX_LATENCY_NS));
        }
    }

    /// Final responses received.
    pub fn finals(&self) -> u64 {
        self.by_status.iter().sum()
    }

    /// Final responses by class: index 0 = 1xx (unused), 1 = 2xx, ... 5 = 6xx.
    pub fn by_class(&self) -> [u64; 6] {
        let mut out = [0u64; 6];
        for (code, n) in self.by_status.iter().enumerate() {
            if *n > 0 && (100..700).contains(&code) {
                out[code / 100 - 1] += n;
            }
        }
        out
    }

    /// Keeps a mismatch description if fewer than [`MAX_SAMPLES`] are kept.
    pub fn mismatch(&mut self, describe: impl FnOnce() -> String) {
        self.errors.verify_mismatch += 1;
        if self.mismatch_samples.len() < MAX_SAMPLES {
            self.mismatch_samples.push(describe());
        }
    }

    /// Adds `o` into `self`.
    pub fn merge(&mut self, o: &Stats) {
        self.sent += o.sent;
        self.retransmits += o.retransmits;
        self.provisional += o.provisional;
        self.late += o.late;
        for (a, b) in self.by_status.iter_mut().zip(&o.by_status) {
            *a += b;
        }
        self.verified += o.verified;
        self.connections += o.connections;
        self.resumed += o.resumed;
        self.tls12 += o.tls12;
        self.errors.add(&o.errors);
        for s in &o.mismatch_samples {
            if self.mismatch_samples.len() < MAX_SAMPLES {
                self.mismatch_samples.push(s.clone());
            }
        }
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.latency.add(&o.latency);
    }

    /// True when nothing was recorded since the last reset.
    pub fn is_empty(&self) -> bool {
        self.sent == 0
            && self.retransmits == 0
            && self.provisional == 0
            && self.late == 0
            && self.latency.is_empty()
            && self.errors.total() == 0
            && self.connections == 0
            && self.verified == 0
    }

    /// Clears everything, keeping allocations.
    pub fn reset(&mut self) {
        self.sent = 0;
        self.retransmits = 0;
        self.provisional = 0;
        self.late = 0;
        self.by_status.iter_mut().for_each(|c| *c = 0);
        self.verified = 0;
        self.connections = 0;
        self.resumed = 0;
        self.tls12 = 0;
        self.errors = Errors::default();
        self.mismatch_samples.clear();
        self.latency.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_everything() {
        let mut a = Stats::new();
        a.sent = 3;
        a.final_response(200, Some(1000));
        a.final_response(301, Some(2000));
        a.errors.timeout = 1;
        let mut b = Stats::new();
        b.sent = 2;
        b.final_response(200, Some(3000));
        b.mismatch(|| "x".into());
        a.merge(&b);
        assert_eq!(a.sent, 5);
        assert_eq!(a.finals(), 3);
        assert_eq!(a.by_status[200], 2);
        assert_eq!(a.by_class(), [0, 2, 1, 0, 0, 0]);
        assert_eq!(a.errors.verify_mismatch, 1);
        assert_eq!(a.errors.total(), 2);
        assert_eq!(a.latency.len(), 3);
        b.reset();
        assert!(b.is_empty());
    }
}
