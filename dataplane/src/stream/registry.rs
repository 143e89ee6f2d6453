//! Per-worker registry of open stream connections: slot + generation ids, lookup by remote
//! address, and a bounded outbox per connection so other tasks (UDP loop, other connections) can send
//! over it. Single-threaded; other workers reach it through the worker's handoff inbox.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::Rc;

use super::outbox::{Outbox, Refused};
use crate::{ConnId, Transport};

#[derive(Debug)]
struct Entry {
    remote: SocketAddr,
    transport: Transport,
    outbox: Rc<Outbox>,
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
        outbox: Rc<Outbox>,
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

    /// Queues a copy of `bytes` on connection `id`.
    pub(crate) fn send(&self, id: ConnId, bytes: &[u8]) -> Result<(), Refused> {
        self.outbox(id).ok_or(Refused::Closed)?.push(bytes.to_vec())
    }

    /// Queues `bytes` on connection `id`.
    pub(crate) fn send_owned(&self, id: ConnId, bytes: Vec<u8>) -> Result<(), Refused> {
        self.outbox(id).ok_or(Refused::Closed)?.push(bytes)
    }

    fn outbox(&self, id: ConnId) -> Option<&Outbox> {
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
        let outbox = Rc::new(Outbox::new(1000));
        let a: SocketAddr = "127.0.0.1:1000".parse().expect("addr");
        let id = r.insert(a, Transport::Tcp, outbox.clone());
        assert_eq!(id.worker(), 3);
        assert_eq!(r.find(a, Transport::Tcp), Some(id));
        assert!(r.send(id, b"x").is_ok());
        let mut got = Vec::new();
        outbox.drain_into(&mut got);
        assert_eq!(got, b"x");
        r.remove(id);
        assert_eq!(r.open(), 0);
        let id2 = r.insert(a, Transport::Tcp, outbox);
        assert_ne!(id, id2);
        assert_eq!(r.send(id, b"y"), Err(Refused::Closed));
        assert!(r.send(id2, b"y").is_ok());
        assert_eq!(r.find(a, Transport::Udp), None);
    }
}
