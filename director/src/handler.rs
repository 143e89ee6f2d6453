//! The bridge between the dataplane and the policy: loads the current snapshot, runs
//! [`decide`](crate::decision::decide) and turns its verdict into a dataplane [`Action`].

use std::cell::RefCell;
use std::sync::Arc;

use arc_swap::ArcSwap;
use dataplane::{Action, ConnId, FrameError, Handler, Peer, Transport};

use crate::decision::{decide, Outcome, Scratch, Source, Verdict};
use crate::salvage;
use crate::snapshot::Snapshot;
use crate::stats::{DecisionStats, Origin};
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
}

impl DirectorHandler {
    /// A handler reading routing state from `snapshot` and counting into `stats`.
    pub fn new(snapshot: Arc<ArcSwap<Snapshot>>, stats: Arc<DecisionStats>) -> Self {
        DirectorHandler { snapshot, stats }
    }
}

impl Handler for DirectorHandler {
    fn on_message(&self, msg: &[u8], peer: &Peer, out: &mut Vec<u8>) -> Action {
        let snap = self.snapshot.load();
        let source = Source {
            addr: peer.remote,
            stream: peer.transport.is_stream(),
            local: peer.local,
            conn: peer.conn.map(ConnId::to_u64),
        };
        let (verdict, outcome, method, code, target) =
            SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
                Ok(mut scratch) => {
                    let (v, o) = decide(&snap, msg, source, &mut scratch, out);
                    (v, o, scratch.method, scratch.code, scratch.target)
                }
                // Unreachable (no re-entrancy), but never panic on the hot path.
                Err(_) => {
                    let mut scratch = Scratch::default();
                    let (v, o) = decide(&snap, msg, source, &mut scratch, out);
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
}
