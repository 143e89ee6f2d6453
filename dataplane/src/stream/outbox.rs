//! The outbox of one stream connection: bytes other tasks (UDP loops, other connections, the
//! handoff inbox) want sent on it, bounded in bytes so a slow or stalled peer cannot make the
//! worker buffer without limit. Single-threaded (shared by `Rc`); an empty outbox allocates
//! nothing beyond its small fixed part.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use tokio::sync::Notify;

/// Why bytes were not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The connection is closing.
    Closed,
    /// Queueing them would exceed the byte limit.
    Full,
}

/// Pending outgoing messages of one connection.
#[derive(Debug)]
pub(crate) struct Outbox {
    queue: RefCell<VecDeque<Vec<u8>>>,
    bytes: Cell<usize>,
    limit: usize,
    closed: Cell<bool>,
    ready: Notify,
}

impl Outbox {
    /// An empty outbox holding at most `limit` bytes (one message is always accepted when the
    /// outbox is empty, whatever its size).
    pub(crate) fn new(limit: usize) -> Self {
        Outbox {
            queue: RefCell::new(VecDeque::new()),
            bytes: Cell::new(0),
            limit,
            closed: Cell::new(false),
            ready: Notify::new(),
        }
    }

    /// Queues `msg` and wakes the connection.
    pub(crate) fn push(&self, msg: Vec<u8>) -> Result<(), Refused> {
        if self.closed.get() {
            return Err(Refused::Closed);
        }
        let total = self.bytes.get() + msg.len();
        if total > self.limit && self.bytes.get() > 0 {
            return Err(Refused::Full);
        }
        self.bytes.set(total);
        self.queue.borrow_mut().push_back(msg);
        self.ready.notify_one();
        Ok(())
    }

    /// Resolves when something may have been queued (a stored wake-up is never lost).
    pub(crate) async fn ready(&self) {
        self.ready.notified().await;
    }

    /// Moves everything queued to the end of `out`; the number of messages moved.
    pub(crate) fn drain_into(&self, out: &mut Vec<u8>) -> usize {
        let mut q = self.queue.borrow_mut();
        let n = q.len();
        for m in q.drain(..) {
            out.extend_from_slice(&m);
        }
        // Release the ring's memory: an idle connection's outbox holds nothing.
        q.shrink_to(0);
        self.bytes.set(0);
        n
    }

    /// Refuses further messages and discards the queued ones; how many were discarded.
    pub(crate) fn close(&self) -> usize {
        self.closed.set(true);
        let mut q = self.queue.borrow_mut();
        let n = q.len();
        q.clear();
        q.shrink_to(0);
        self.bytes.set(0);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_in_bytes_and_closable() {
        let o = Outbox::new(10);
        // One oversized message is accepted into an empty outbox.
        assert_eq!(o.push(vec![1; 12]), Ok(()));
        assert_eq!(o.push(vec![2; 1]), Err(Refused::Full));
        let mut out = Vec::new();
        assert_eq!(o.drain_into(&mut out), 1);
        assert_eq!(out.len(), 12);
        assert_eq!(o.push(vec![3; 6]), Ok(()));
        assert_eq!(o.push(vec![4; 4]), Ok(()));
        assert_eq!(o.push(vec![5; 1]), Err(Refused::Full));
        assert_eq!(o.close(), 2);
        assert_eq!(o.push(vec![6; 1]), Err(Refused::Closed));
    }
}
