//! Per-worker counters: cache-line-padded relaxed atomics, one writer (the worker), any readers.

use std::sync::atomic::{AtomicU64, Ordering};

/// Why a message or connection was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// A UDP datagram larger than `max_message`, or a stream buffer that filled up unframed.
    Oversize,
    /// Sending failed with an OS error.
    SendFailed,
    /// The UDP send buffer stayed full longer than `udp_send_wait`.
    SendBufferFull,
    /// A stream framing error.
    FrameError,
    /// A stream connection idle for `idle_timeout`.
    IdleTimeout,
    /// A stream message not completed within `header_timeout` (or a slow TLS handshake).
    HeaderTimeout,
    /// A connection over `max_connections_per_worker`.
    ConnectionLimit,
    /// No connection to send over (`Action::Send` to a stream peer, `SendConn` to a gone one).
    NoRoute,
    /// A failed TLS handshake.
    TlsHandshake,
    /// A receive error other than "would block".
    RecvError,
    /// The handler panicked on the message (caught; the worker goes on).
    HandlerPanic,
    /// The inbox of the worker owning the target connection was full (cross-core handoff).
    HandoffFull,
    /// The target stream connection already had `max_outbox_bytes` queued (a slow peer).
    OutboxFull,
    /// A connection to a PROXY protocol listener from a peer outside its trusted sources.
    ProxyUntrusted,
    /// A connection to a PROXY protocol listener without a valid header (missing, malformed,
    /// too long); a header not complete within `header_timeout` counts as `HeaderTimeout`.
    ProxyHeader,
    /// UDP datagrams the kernel dropped because the socket's receive buffer was full (the
    /// worker fell behind); read from the kernel once a second, so it lags by up to a second.
    UdpReceiveBuffer,
}

impl DropReason {
    /// Number of reasons.
    pub const COUNT: usize = 16;
    /// Every reason, in index order.
    pub const ALL: [DropReason; Self::COUNT] = [
        DropReason::Oversize,
        DropReason::SendFailed,
        DropReason::SendBufferFull,
        DropReason::FrameError,
        DropReason::IdleTimeout,
        DropReason::HeaderTimeout,
        DropReason::ConnectionLimit,
        DropReason::NoRoute,
        DropReason::TlsHandshake,
        DropReason::RecvError,
        DropReason::HandlerPanic,
        DropReason::HandoffFull,
        DropReason::OutboxFull,
        DropReason::ProxyUntrusted,
        DropReason::ProxyHeader,
        DropReason::UdpReceiveBuffer,
    ];

    /// A metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Oversize => "oversize",
            DropReason::SendFailed => "send_failed",
            DropReason::SendBufferFull => "send_buffer_full",
            DropReason::FrameError => "frame_error",
            DropReason::IdleTimeout => "idle_timeout",
            DropReason::HeaderTimeout => "header_timeout",
            DropReason::ConnectionLimit => "connection_limit",
            DropReason::NoRoute => "no_route",
            DropReason::TlsHandshake => "tls_handshake",
            DropReason::RecvError => "recv_error",
            DropReason::HandlerPanic => "handler_panic",
            DropReason::HandoffFull => "handoff_full",
            DropReason::OutboxFull => "outbox_full",
            DropReason::ProxyUntrusted => "proxy_untrusted",
            DropReason::ProxyHeader => "proxy_header",
            DropReason::UdpReceiveBuffer => "udp_receive_buffer",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One worker's counters, on their own cache lines.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct WorkerCounters {
    received: AtomicU64,
    sent: AtomicU64,
    keepalives: AtomicU64,
    connections_open: AtomicU64,
    connections_accepted: AtomicU64,
    read_buffers_held: AtomicU64,
    handed_off: AtomicU64,
    dropped: [AtomicU64; DropReason::COUNT],
}

impl WorkerCounters {
    pub(crate) fn add_received(&self, n: u64) {
        self.received.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn add_sent(&self, n: u64) {
        self.sent.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn add_keepalive(&self) {
        self.keepalives.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn add_dropped(&self, reason: DropReason, n: u64) {
        self.dropped[reason.index()].fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn conn_opened(&self) {
        self.connections_accepted.fetch_add(1, Ordering::Relaxed);
        self.connections_open.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn conn_closed(&self) {
        self.connections_open.fetch_sub(1, Ordering::Relaxed);
    }
    pub(crate) fn add_handed_off(&self) {
        self.handed_off.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn read_buffer_taken(&self) {
        self.read_buffers_held.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn read_buffer_released(&self) {
        self.read_buffers_held.fetch_sub(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> Stats {
        let mut dropped = [0; DropReason::COUNT];
        for (d, c) in dropped.iter_mut().zip(&self.dropped) {
            *d = c.load(Ordering::Relaxed);
        }
        Stats {
            received: self.received.load(Ordering::Relaxed),
            sent: self.sent.load(Ordering::Relaxed),
            keepalives: self.keepalives.load(Ordering::Relaxed),
            connections_open: self.connections_open.load(Ordering::Relaxed),
            connections_accepted: self.connections_accepted.load(Ordering::Relaxed),
            read_buffers_held: self.read_buffers_held.load(Ordering::Relaxed),
            handed_off: self.handed_off.load(Ordering::Relaxed),
            dropped,
        }
    }
}

/// All workers' counters; readable from any thread while the engine runs.
#[derive(Debug)]
pub struct Counters {
    workers: Box<[WorkerCounters]>,
}

impl Counters {
    pub(crate) fn new(workers: usize) -> Self {
        Counters {
            workers: (0..workers).map(|_| WorkerCounters::default()).collect(),
        }
    }

    pub(crate) fn worker_counters(&self, worker: usize) -> &WorkerCounters {
        &self.workers[worker]
    }

    /// Number of workers.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// One worker's values (panics on an out-of-range index).
    pub fn worker(&self, worker: usize) -> Stats {
        self.workers[worker].snapshot()
    }

    /// Sum over all workers.
    pub fn total(&self) -> Stats {
        let mut total = Stats::default();
        for w in self.workers.iter() {
            total.add(&w.snapshot());
        }
        total
    }
}

/// A snapshot of counter values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages received (datagrams and stream frames, keepalives excluded).
    pub received: u64,
    /// Messages sent.
    pub sent: u64,
    /// CRLF keepalives received on streams.
    pub keepalives: u64,
    /// Stream connections open now.
    pub connections_open: u64,
    /// Stream connections accepted in all (including those closed at once over the limit).
    pub connections_accepted: u64,
    /// Stream connections holding a read buffer now (a message in progress, or bytes that may
    /// be pending); idle connections hold none.
    pub read_buffers_held: u64,
    /// Messages passed to another worker for a stream connection it owns.
    pub handed_off: u64,
    /// Drops by [`DropReason`] index; read with [`Stats::dropped`].
    pub dropped: [u64; DropReason::COUNT],
}

impl Stats {
    /// Drops for one reason.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason.index()]
    }

    /// Drops for all reasons.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.iter().sum()
    }

    fn add(&mut self, o: &Stats) {
        self.received += o.received;
        self.sent += o.sent;
        self.keepalives += o.keepalives;
        self.connections_open += o.connections_open;
        self.connections_accepted += o.connections_accepted;
        self.read_buffers_held += o.read_buffers_held;
        self.handed_off += o.handed_off;
        for (a, b) in self.dropped.iter_mut().zip(o.dropped) {
            *a += b;
        }
    }
}
