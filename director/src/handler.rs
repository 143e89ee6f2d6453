//! The bridge between the dataplane and the policy: loads the current snapshot, runs
//! [`decide`](crate::decision::decide) and turns its verdict into a dataplane [`Action`].

use std::cell::RefCell;
use std::sync::Arc;

use arc_swap::ArcSwap;
use dataplane::{Action, ConnId, FrameError, Handler, Peer, Transport};
use rustls::pki_types::{CertificateDer, ServerName};

use crate::decision::{decide_in_mode, Outcome, Scratch, Source, Verdict};
use crate::salvage;
use crate::snapshot::Snapshot;
use crate::stats::{DecisionStats, Origin};
use crate::throttle::Throttle;
use crate::topology;

thread_local! {
    /// Each worker thread's scratch space (placement key buffer), reused for every message.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The director's dataplane handler.
#[derive(Debug)]
pub struct DirectorHandler {
    snapshot: Arc<ArcSwap<Snapshot>>,
    stats: Arc<DecisionStats>,
    /// Listeners whose `mode` overrides `[director] mode` (usually none).
    listener_modes: Box<[ListenerMode]>,
    /// Flood and overload limits (`[limits]`, from each snapshot).
    throttle: Throttle,
}

/// A listener's own mode: (bound address, stream or datagram) -> mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerMode {
    /// The bound address (may be a wildcard).
    pub addr: std::net::SocketAddr,
    /// TCP/TLS (true) or UDP.
    pub stream: bool,
    /// The mode of requests arriving there.
    pub mode: topology::Mode,
}

impl DirectorHandler {
    /// A handler reading routing state from `snapshot` and counting into `stats`.
    pub fn new(snapshot: Arc<ArcSwap<Snapshot>>, stats: Arc<DecisionStats>) -> Self {
        DirectorHandler {
            snapshot,
            throttle: Throttle::new(Arc::clone(&stats)),
            stats,
            listener_modes: Box::new([]),
        }
    }

    /// The same handler with per-listener modes.
    pub fn with_listener_modes(mut self, modes: Vec<ListenerMode>) -> Self {
        self.listener_modes = modes.into_boxed_slice();
        self
    }

    /// The mode for a message from `peer`: its listener's, else the topology's.
    fn mode_for(&self, peer: &Peer, snap: &Snapshot) -> topology::Mode {
        if self.listener_modes.is_empty() {
            return snap.topology().mode();
        }
        let stream = peer.transport.is_stream();
        let port = peer.local.port();
        let same = |m: &&ListenerMode| m.stream == stream && m.addr.port() == port;
        self.listener_modes
            .iter()
            .filter(same)
            .find(|m| m.addr.ip() == peer.local.ip())
            .or_else(|| {
                self.listener_modes
                    .iter()
                    .filter(same)
                    .find(|m| m.addr.ip().is_unspecified())
            })
            .map_or(snap.topology().mode(), |m| m.mode)
    }
}

impl Handler for DirectorHandler {
    fn on_message(&self, msg: &[u8], peer: &Peer, out: &mut Vec<u8>) -> Action {
        let snap = self.snapshot.load();
        // `[limits]` of this snapshot (nothing to do, and no clock read, when all are off).
        if let Some(refused) = self.throttle.check(msg, peer, &snap, out) {
            return refused;
        }
        let source = Source {
            addr: peer.remote,
            stream: peer.transport.is_stream(),
            local: peer.local,
            conn: peer.conn.map(ConnId::to_u64),
            cert_identity: peer.tls_identity.as_deref(),
        };
        let mode = self.mode_for(peer, &snap);
        let (verdict, outcome, method, code, target) =
            SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
                Ok(mut scratch) => {
                    let (v, o) = decide_in_mode(&snap, mode, msg, source, &mut scratch, out);
                    (v, o, scratch.method, scratch.code, scratch.target)
                }
                // Unreachable (no re-entrancy), but never panic on the hot path.
                Err(_) => {
                    let mut scratch = Scratch::default();
                    let (v, o) = decide_in_mode(&snap, mode, msg, source, &mut scratch, out);
                    (v, o, scratch.method, scratch.code, scratch.target)
                }
            });
        self.stats.record_method(peer.worker, method, outcome);
        if let Some(slot) = target.and_then(|t| snap.slot(t)) {
            self.stats.record_registrar(peer.worker, slot);
        }
        if code != 0 {
            let origin = match outcome {
                Outcome::Relayed => Origin::Relayed,
                _ => Origin::Local,
            };
            self.stats.record_response(peer.worker, origin, code);
        }
        match verdict {
            Verdict::Reply => Action::Reply,
            Verdict::ReplyTo(to) => Action::Send {
                to,
                transport: Transport::Udp,
            },
            Verdict::Drop => Action::Drop,
            Verdict::Forward { to, transport } => Action::Send {
                to,
                transport: match transport {
                    topology::Transport::Udp => Transport::Udp,
                    topology::Transport::Tcp => Transport::Tcp,
                    topology::Transport::Tls => Transport::Tls,
                },
            },
            Verdict::ToConn(raw) => Action::SendConn(ConnId::from_u64(raw)),
        }
    }

    fn on_stream_error(
        &self,
        head: &[u8],
        err: &FrameError,
        peer: &Peer,
        out: &mut Vec<u8>,
    ) -> Action {
        let outcome = if salvage::write_bad_request(out, head, err.reason()) {
            Outcome::Rejected
        } else {
            Outcome::GarbageDropped
        };
        self.stats.record(peer.worker, outcome);
        Action::Close
    }

    /// The configured host of the TLS registrar resolved to `to` (its name, or an IP literal),
    /// so the certificate is checked against the name the operator wrote; `None` (the IP
    /// address) for any other destination, e.g. a contact reached by loose routing.
    fn tls_server_name(&self, to: std::net::SocketAddr) -> Option<ServerName<'static>> {
        let snap = self.snapshot.load();
        let host = snap.tls_host_at(to)?;
        ServerName::try_from(host.to_owned()).ok()
    }

    /// The canonical `user@host` of a verified client certificate's first SIP URI
    /// ([`crate::cert_identity`]), for `[auth]` certificate modes.
    fn tls_identity(&self, end_entity: &CertificateDer<'_>) -> Option<Arc<[u8]>> {
        crate::cert_identity::identity(end_entity)
    }
}
