//! The preallocated client transaction table with RFC 3261 non-INVITE timers.
//!
//! Slots are reused through a free list; a generation number per slot makes every transaction's
//! Call-ID/branch unique and lets stale responses and stale timer entries be recognised. Timer
//! E (retransmit at T1, doubling up to T2) and timer F (give up after 64*T1) are kept in one
//! FIFO per retransmit level: every entry of a level has the same interval, so each FIFO is
//! ordered by deadline and the expiry scan only looks at queue heads. Stale entries are skipped
//! lazily. Times are nanoseconds since a process-wide epoch.

use std::collections::VecDeque;

/// Timer settings (nanoseconds).
#[derive(Debug, Clone, Copy)]
pub struct Timers {
    /// RFC 3261 T1.
    pub t1: u64,
    /// RFC 3261 T2.
    pub t2: u64,
    /// Timer F: the transaction times out this long after its first send.
    pub timeout: u64,
    /// Whether timer E retransmissions are sent (UDP only).
    pub retransmit: bool,
}

/// One transaction.
#[derive(Debug, Clone, Copy, Default)]
pub struct Slot {
    /// Generation; bumped on every allocation.
    pub gen: u32,
    /// In use.
    pub active: bool,
    /// A provisional response was seen (retransmit at T2 from now on).
    pub proceeding: bool,
    /// Retransmit level (number of retransmissions so far).
    pub level: u8,
    /// User index.
    pub user: u64,
    /// CSeq number.
    pub cseq: u32,
    /// Intended send time (latency origin in open-loop mode).
    pub intended: u64,
    /// Actual first send time.
    pub first_sent: u64,
    /// Next timer deadline.
    pub deadline: u64,
}

/// What expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Timer E fired: retransmit this slot.
    Retransmit(u32),
    /// Timer F fired: the transaction timed out (slot already freed).
    Timeout(u32),
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    slot: u32,
    gen: u32,
    level: u8,
}

/// The table.
#[derive(Debug)]
pub struct Table {
    slots: Vec<Slot>,
    free: Vec<u32>,
    queues: Vec<VecDeque<Entry>>,
    timers: Timers,
    active: usize,
}

impl Table {
    /// A table of `cap` slots.
    pub fn new(cap: usize, timers: Timers) -> Self {
        let cap = cap.clamp(1, u32::MAX as usize);
        let levels = if timers.retransmit {
            let mut l = 1;
            while l < 16 && (timers.t1 << (l - 1)) < timers.t2 {
                l += 1;
            }
            l
        } else {
            1
        };
        Table {
            slots: vec![Slot::default(); cap],
            free: (0..cap as u32).rev().collect(),
            queues: (0..levels).map(|_| VecDeque::new()).collect(),
            timers,
            active: 0,
        }
    }

    /// Transactions in flight.
    pub fn active(&self) -> usize {
        self.active
    }

    /// Free slots.
    pub fn free(&self) -> usize {
        self.free.len()
    }

    fn interval(&self, level: u8, proceeding: bool) -> u64 {
        if !self.timers.retransmit {
            return self.timers.timeout;
        }
        if proceeding {
            return self.timers.t2;
        }
        let shifted = self
            .timers
            .t1
            .checked_shl(u32::from(level))
            .unwrap_or(u64::MAX);
        shifted.min(self.timers.t2).max(1)
    }

    fn queue_of(&self, level: u8) -> usize {
        (level as usize).min(self.queues.len() - 1)
    }

    /// Starts a transaction sent at `now`, intended at `intended`. Returns `(slot, gen)`, or
    /// `None` when the table is full.
    pub fn start(&mut self, user: u64, cseq: u32, intended: u64, now: u64) -> Option<(u32, u32)> {
        let idx = self.free.pop()?;
        let interval = self.interval(0, false);
        let timeout = self.timers.timeout;
        let s = &mut self.slots[idx as usize];
        s.gen = s.gen.wrapping_add(1);
        s.active = true;
        s.proceeding = false;
        s.level = 0;
        s.user = user;
        s.cseq = cseq;
        s.intended = intended;
        s.first_sent = now;
        s.deadline = now.saturating_add(interval.min(timeout));
        let gen = s.gen;
        self.queues[0].push_back(Entry {
            slot: idx,
            gen,
            level: 0,
        });
        self.active += 1;
        Some((idx, gen))
    }

    /// The live slot `(idx, gen)`, if any.
    pub fn get(&self, idx: u32, gen: u32) -> Option<&Slot> {
        let s = self.slots.get(idx as usize)?;
        (s.active && s.gen == gen).then_some(s)
    }

    /// Whether `(idx, gen)` names a transaction that already ended (a late or duplicate
    /// response, e.g. the answer to a retransmission).
    pub fn ended(&self, idx: u32, gen: u32) -> bool {
        self.slots
            .get(idx as usize)
            .is_some_and(|s| !s.active && s.gen == gen)
    }

    /// Slot `idx` regardless of state (for retransmission formatting).
    pub fn slot(&self, idx: u32) -> &Slot {
        &self.slots[idx as usize]
    }

    /// Marks `(idx, gen)` as proceeding (a 1xx arrived).
    pub fn proceeding(&mut self, idx: u32, gen: u32) {
        if let Some(s) = self.slots.get_mut(idx as usize) {
            if s.active && s.gen == gen {
                s.proceeding = true;
            }
        }
    }

    /// Completes `(idx, gen)`; returns the slot as it was, or `None` if not live.
    pub fn finish(&mut self, idx: u32, gen: u32) -> Option<Slot> {
        let s = self.slots.get_mut(idx as usize)?;
        if !s.active || s.gen != gen {
            return None;
        }
        s.active = false;
        let copy = *s;
        self.free.push(idx);
        self.active -= 1;
        Some(copy)
    }

    /// Fires every timer due at `now`, appending what happened to `out`.
    pub fn expire(&mut self, now: u64, out: &mut Vec<Expiry>) {
        for q in 0..self.queues.len() {
            while let Some(&e) = self.queues[q].front() {
                let s = self.slots[e.slot as usize];
                if !s.active || s.gen != e.gen || s.level != e.level {
                    self.queues[q].pop_front();
                    continue;
                }
                if s.deadline > now {
                    break;
                }
                self.queues[q].pop_front();
                let give_up = s.first_sent.saturating_add(self.timers.timeout);
                if now >= give_up || !self.timers.retransmit {
                    let slot = &mut self.slots[e.slot as usize];
                    slot.active = false;
                    self.free.push(e.slot);
                    self.active -= 1;
                    out.push(Expiry::Timeout(e.slot));
                    continue;
                }
                let level = s.level.saturating_add(1);
                let interval = self.interval(level, s.proceeding);
                let slot = &mut self.slots[e.slot as usize];
                slot.level = level;
                slot.deadline = now.saturating_add(interval).min(give_up);
                let qi = self.queue_of(level);
                self.queues[qi].push_back(Entry {
                    slot: e.slot,
                    gen: e.gen,
                    level,
                });
                out.push(Expiry::Retransmit(e.slot));
            }
        }
    }

    /// The earliest pending deadline (may be early because of stale heads), if any.
    pub fn next_deadline(&self) -> Option<u64> {
        self.queues
            .iter()
            .filter_map(|q| q.front())
            .map(|e| self.slots[e.slot as usize].deadline)
            .min()
    }

    /// Frees every live transaction, returning how many there were.
    pub fn abandon_all(&mut self) -> usize {
        let n = self.active;
        for (i, s) in self.slots.iter_mut().enumerate() {
            if s.active {
                s.active = false;
                self.free.push(i as u32);
            }
        }
        for q in &mut self.queues {
            q.clear();
        }
        self.active = 0;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn timers(retransmit: bool) -> Timers {
        Timers {
            t1: 500 * MS,
            t2: 4000 * MS,
            timeout: 32_000 * MS,
            retransmit,
        }
    }

    #[test]
    fn retransmits_on_rfc_schedule_then_times_out() {
        let mut t = Table::new(4, timers(true));
        let (idx, _) = t.start(1, 1, 0, 0).expect("slot");
        let mut out = Vec::new();
        let mut fired = Vec::new();
        let mut now = 0;
        while now <= 40_000 * MS {
            out.clear();
            t.expire(now, &mut out);
            for e in &out {
                fired.push((now / MS, *e));
            }
            now += MS;
        }
        let retx: Vec<u64> = fired
            .iter()
            .filter(|(_, e)| matches!(e, Expiry::Retransmit(_)))
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(
            retx,
            vec![500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]
        );
        assert_eq!(fired.last(), Some(&(32_000, Expiry::Timeout(idx))));
        assert_eq!(t.active(), 0);
        assert_eq!(t.free(), 4);
    }

    #[test]
    fn finished_transactions_do_not_fire_and_stale_ids_are_rejected() {
        let mut t = Table::new(2, timers(false));
        let (a, ga) = t.start(1, 1, 0, 0).expect("slot");
        assert!(t.finish(a, ga).is_some());
        assert!(t.finish(a, ga).is_none());
        let (b, gb) = t.start(2, 1, 0, 0).expect("slot");
        assert!(t.get(a, ga).is_none() || (a == b && ga != gb));
        let mut out = Vec::new();
        t.expire(32_000 * MS, &mut out);
        assert_eq!(out, vec![Expiry::Timeout(b)]);
    }

    #[test]
    fn full_table_refuses() {
        let mut t = Table::new(1, timers(true));
        assert!(t.start(1, 1, 0, 0).is_some());
        assert!(t.start(1, 2, 0, 0).is_none());
        assert_eq!(t.abandon_all(), 1);
        assert!(t.start(1, 3, 0, 0).is_some());
    }
}
