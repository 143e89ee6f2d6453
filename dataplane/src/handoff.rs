//! Cross-core handoff: a message for a stream connection owned by another worker (e.g. a
//! response routed back by Via over the client's own connection, when the response arrived on a
//! different core) goes through that worker's bounded inbox. The owning worker's inbox task
//! wakes, and queues the bytes on the connection. A full inbox drops the message (counted as
//! [`crate::DropReason::HandoffFull`]) rather than blocking the sending core.

use std::rc::Rc;
use std::sync::Arc;

use tokio::sync::mpsc::{channel, error::TrySendError, Receiver, Sender};

use crate::ctx::WorkerCtx;
use crate::{ConnId, DropReason};

/// Messages one worker's inbox holds before further handoffs to it are dropped.
pub(crate) const INBOX_CAPACITY: usize = 4096;

/// Bytes for connection `id` of the receiving worker.
#[derive(Debug)]
pub(crate) struct Handoff {
    id: ConnId,
    bytes: Vec<u8>,
}

/// Every worker's inbox sender, indexed by worker.
pub(crate) type Peers = Arc<[Sender<Handoff>]>;

/// One inbox per worker: the shared senders and each worker's receiver.
pub(crate) fn inboxes(workers: usize) -> (Peers, Vec<Receiver<Handoff>>) {
    let (tx, rx): (Vec<_>, Vec<_>) = (0..workers).map(|_| channel(INBOX_CAPACITY)).unzip();
    (tx.into(), rx)
}

/// Sends a copy of `bytes` to connection `id` on its owning worker (not the caller's).
pub(crate) fn hand_off<H>(ctx: &WorkerCtx<H>, id: ConnId, bytes: &[u8]) {
    let Some(tx) = ctx.peers.get(id.worker()) else {
        ctx.stats().add_dropped(DropReason::NoRoute, 1);
        return;
    };
    let msg = Handoff {
        id,
        bytes: bytes.to_vec(),
    };
    match tx.try_send(msg) {
        Ok(()) => ctx.stats().add_handed_off(),
        Err(TrySendError::Full(_)) => ctx.stats().add_dropped(DropReason::HandoffFull, 1),
        Err(TrySendError::Closed(_)) => ctx.stats().add_dropped(DropReason::NoRoute, 1),
    }
}

/// The inbox task of one worker: delivers handed-off messages to its connections until
/// shutdown. A connection that is gone by then counts as [`DropReason::NoRoute`], one with a
/// full outbox as [`DropReason::OutboxFull`].
pub(crate) async fn run_inbox<H>(ctx: Rc<WorkerCtx<H>>, mut inbox: Receiver<Handoff>) {
    let shutdown = ctx.shutdown.clone();
    loop {
        let msg = tokio::select! {
            biased;
            _ = shutdown.wait() => return,
            m = inbox.recv() => m,
        };
        let Some(Handoff { id, bytes }) = msg else {
            return;
        };
        let sent = ctx.registry.borrow().send_owned(id, bytes);
        ctx.count_refusal(sent);
    }
}
