//! Per-worker shared state (single-threaded): handler, limits, counters, the connection registry
//! and the worker's UDP sockets, plus routing of bytes to stream connections.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::{Rc, Weak};
use std::sync::Arc;

use tokio::net::UdpSocket;

use crate::counters::WorkerCounters;
use crate::handle::TlsClientSlot;
use crate::handoff::{hand_off, Peers};
use crate::handshake_turns::HandshakeTurns;
use crate::stream::{open_outbound, BufferPool, Refused, Registry};
use crate::{
    Action, ConnId, Counters, DropReason, FrameError, FrameLimits, Handler, Limits, Peer, Shutdown,
    Transport,
};

/// State shared by one worker's tasks.
#[derive(Debug)]
pub(crate) struct WorkerCtx<H> {
    pub index: usize,
    pub handler: Arc<H>,
    pub limits: Limits,
    pub frame_limits: FrameLimits,
    counters: Arc<Counters>,
    pub shutdown: Shutdown,
    pub registry: RefCell<Registry>,
    /// This worker's UDP sockets with their listener addresses.
    pub udp: Vec<(SocketAddr, Rc<UdpSocket>)>,
    /// Read buffers of stream connections that are between messages (see `stream::conn`).
    pub buffers: RefCell<BufferPool>,
    /// The handler's output buffer for stream messages (handling never awaits, so one per
    /// worker serves every connection).
    pub stream_out: RefCell<Vec<u8>>,
    /// Every worker's handoff inbox, for connections owned by other workers.
    pub peers: Peers,
    /// Client configuration for outbound TLS connections (the engine's reloadable slot).
    pub tls_client: TlsClientSlot,
    /// TLS handshakes process their ClientHello one at a time, between other tasks.
    pub handshake_turns: HandshakeTurns,
    /// This context itself, for spawning outbound connection tasks.
    me: Weak<WorkerCtx<H>>,
}

impl<H: Handler> WorkerCtx<H> {
    /// Calls the handler, turning a panic into a counted drop so one bad message cannot take
    /// the worker's loop down.
    pub(crate) fn on_message(&self, msg: &[u8], peer: &Peer, out: &mut Vec<u8>) -> Action {
        match catch_unwind(AssertUnwindSafe(|| self.handler.on_message(msg, peer, out))) {
            Ok(a) => a,
            Err(_) => {
                out.clear();
                self.stats().add_dropped(DropReason::HandlerPanic, 1);
                Action::Drop
            }
        }
    }

    /// Queues `bytes` on this worker's stream connection to/from `to` over `transport`, opening
    /// (and registering, for reuse) an outbound connection when there is none.
    pub(crate) fn send_stream_to(&self, to: SocketAddr, transport: Transport, bytes: &[u8]) {
        let id = self.registry.borrow().find(to, transport);
        if let Some(id) = id {
            return self.send_conn(id, bytes);
        }
        let opened = self
            .me
            .upgrade()
            .is_some_and(|me| open_outbound(&me, to, transport, bytes));
        if !opened {
            self.stats().add_dropped(DropReason::NoRoute, 1);
        }
    }

    /// [`Handler::on_stream_error`] with the same panic guard.
    pub(crate) fn on_stream_error(
        &self,
        head: &[u8],
        err: &FrameError,
        peer: &Peer,
        out: &mut Vec<u8>,
    ) {
        let call = AssertUnwindSafe(|| self.handler.on_stream_error(head, err, peer, out));
        if catch_unwind(call).is_err() {
            out.clear();
            self.stats().add_dropped(DropReason::HandlerPanic, 1);
        }
    }
}

impl<H> WorkerCtx<H> {
    // One call site (the worker's start); a parameter struct would only restate the fields.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        index: usize,
        handler: Arc<H>,
        limits: Limits,
        counters: Arc<Counters>,
        shutdown: Shutdown,
        udp: Vec<(SocketAddr, Rc<UdpSocket>)>,
        peers: Peers,
        tls_client: TlsClientSlot,
        me: Weak<WorkerCtx<H>>,
    ) -> Self {
        let frame_limits = FrameLimits {
            max_message: limits.max_message,
            max_headers: limits.max_headers,
            max_line: limits.max_line,
        };
        WorkerCtx {
            index,
            handler,
            limits,
            frame_limits,
            counters,
            shutdown,
            registry: RefCell::new(Registry::new(index)),
            udp,
            buffers: RefCell::new(BufferPool::default()),
            stream_out: RefCell::new(Vec::new()),
            peers,
            tls_client,
            handshake_turns: HandshakeTurns::new(),
            me,
        }
    }

    pub(crate) fn stats(&self) -> &WorkerCounters {
        self.counters.worker_counters(self.index)
    }

    /// Queues `bytes` on stream connection `id`: directly when this worker owns it, else
    /// through the owning worker's handoff inbox.
    pub(crate) fn send_conn(&self, id: ConnId, bytes: &[u8]) {
        if id.worker() != self.index {
            hand_off(self, id, bytes);
            return;
        }
        let sent = self.registry.borrow().send(id, bytes);
        self.count_refusal(sent);
    }

    /// Counts a refused queueing on a connection's outbox.
    pub(crate) fn count_refusal(&self, sent: Result<(), Refused>) {
        match sent {
            Ok(()) => {}
            Err(Refused::Closed) => self.stats().add_dropped(DropReason::NoRoute, 1),
            Err(Refused::Full) => self.stats().add_dropped(DropReason::OutboxFull, 1),
        }
    }

    /// The UDP socket to send to `to` from: the one bound to `local` if any, else one of the
    /// same address family.
    pub(crate) fn udp_socket_for(
        &self,
        to: SocketAddr,
        local: SocketAddr,
    ) -> Option<&Rc<UdpSocket>> {
        self.udp
            .iter()
            .find(|(a, _)| *a == local)
            .or_else(|| self.udp.iter().find(|(a, _)| a.is_ipv4() == to.is_ipv4()))
            .map(|(_, s)| s)
    }
}
