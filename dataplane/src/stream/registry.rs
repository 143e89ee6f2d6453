//! Per-worker registry of open stream connections: slot + generation ids, lookup by remote
//! address, and an outbox per connection so other tasks (UDP loop, other connections) can send
//! over it. Single-threaded; other workers reach it through the worker's handoff inbox.

use std::collections::HashMap;
use std::net::SocketAddr;

use tokio::sync::mpsc::UnboundedSender;

use crate::{ConnId, Transport};

#[derive(Debug)]
struct Entry {
    remote: SocketAddr,
    transport: Transport,
    outbox: UnboundedSender<Vec<u8>>,
}

#[derive(Debug, Default)]
struct Slot {
    generation: u32,
    entry: Option<Entry>,
}

/// Open connections of one worker.
#[derive(Debug)]
pub(crate) struct Registry {
    worker: usize,
    slots: Vec<Slot>,
    free: Vec<u32>,
    by_remote: HashMap<(SocketAddr, Transport), ConnId>,
    open: usize,
}

impl Registry {
    pub(crate) fn new(worker: usize) -> Self {
        Registry {
            worker,
            slots: Vec::new(),
            free: Vec::new(),
            by_remote: HashMap::new(),
            open: 0,
        }
    }

    /// Open connections.
    pub(crate) fn open(&self) -> usize {
        self.open
    }

    /// Registers a connection; its outbox receives bytes others send to it.
    pub(crate) fn insert(
        &mut self,
        remote: SocketAddr,
        transport: Transport,
        outbox: UnboundedSender<Vec<u8>>,
    ) -> ConnId {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(Slot::default());
                (self.slots.len() - 1) as u32
            }
        };
        let s = &mut self.slots[slot as usize];
        s.generation = s.generation.wrapping_add(1) & 0xffff;
        s.entry = Some(Entry {
            remote,
            transport,
            outbox,
        });
        let id = ConnId::new(self.worker, s.generation, slot);
        self.by_remote.insert((remote, transport), id);
        self.open += 1;
        id
    }

    /// Forgets a connection.
    pub(crate) fn remove(&mut self, id: ConnId) {
        let Some(s) = self.slots.get_mut(id.slot() as usize) else {
            return;
        };
        if s.generation != id.generation() {
            return;
        }
        if let Some(e) = s.entry.take() {
            if self.by_remote.get(&(e.remote, e.transport)) == Some(&id) {
                self.by_remote.remove(&(e.remote, e.transport));
            }
            self.free.push(id.slot());
            self.open -= 1;
        }
    }

    /// The connection from `remote` over `transport`, if open on this worker.
    pub(crate) fn find(&self, remote: SocketAddr, transport: Transport) -> Option<ConnId> {
        self.by_remote.get(&(remote, transport)).copied()
    }

    /// Queues a copy of `bytes` on connection `id`; false if it is not open here.
    pub(crate) fn send(&self, id: ConnId, bytes: &[u8]) -> bool {
        self.outbox(id)
            .is_some_and(|o| o.send(bytes.to_vec()).is_ok())
    }

    /// Queues `bytes` on connection `id`; false if it is not open here.
    pub(crate) fn send_owned(&self, id: ConnId, bytes: Vec<u8>) -> bool {
        self.outbox(id).is_some_and(|o| o.send(bytes).is_ok())
    }

    fn outbox(&self, id: ConnId) -> Option<&UnboundedSender<Vec<u8>>> {
        if id.worker() != self.worker {
            return None;
        }
        match self.slots.get(id.slot() as usize) {
            Some(Slot {
                generation,
                entry: Some(e),
            }) if *generation == id.generation() => Some(&e.outbox),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_reused_with_new_generation() {
        let mut r = Registry::new(3);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let a: SocketAddr = "127.0.0.1:1000".parse().expect("addr");
        let id = r.insert(a, Transport::Tcp, tx.clone());
        assert_eq!(id.worker(), 3);
        assert_eq!(r.find(a, Transport::Tcp), Some(id));
        assert!(r.send(id, b"x"));
        assert_eq!(rx.try_recv().ok(), Some(b"x".to_vec()));
        r.remove(id);
        assert_eq!(r.open(), 0);
        let id2 = r.insert(a, Transport::Tcp, tx);
        assert_ne!(id, id2);
        assert!(!r.send(id, b"y"));
        assert!(r.send(id2, b"y"));
        assert_eq!(r.find(a, Transport::Udp), None);
    }
}
