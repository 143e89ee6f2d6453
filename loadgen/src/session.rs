//! Transport-independent client logic of one socket or connection: which request to start
//! next (closed-loop window or open-loop pacing, count and duration bounds, users and their
//! CSeq), formatting, timers, and classifying responses into the thread's [`Stats`].

use crate::plan::{Plan, Share};
use crate::request::{Template, TemplateSpec, Vary};
use crate::stats::Stats;
use crate::txn::{Expiry, Table};
use crate::wire;
use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Run-wide control shared by all sessions.
#[derive(Debug, Default)]
pub struct Control {
    /// Set to stop sending (SIGINT/SIGTERM); sessions then drain.
    pub stop: AtomicBool,
    /// Latest time any session stopped sending (ns since epoch).
    pub send_end: AtomicU64,
}

/// Open-loop pacing: request `n` is intended at `start + n * period`.
#[derive(Debug, Clone, Copy)]
struct Pacer {
    start: u64,
    period: f64,
}

impl Pacer {
    /// Requests that should have been started by `now`.
    fn due(&self, now: u64) -> u64 {
        if now < self.start {
            0
        } else {
            ((now - self.start) as f64 / self.period) as u64 + 1
        }
    }

    fn intended(&self, n: u64) -> u64 {
        self.start + (n as f64 * self.period) as u64
    }
}

/// One socket's client state.
#[derive(Debug)]
pub struct Session {
    plan: Arc<Plan>,
    share: Share,
    template: Template,
    table: Table,
    cseqs: Vec<u32>,
    next_user: u64,
    started: u64,
    pacer: Option<Pacer>,
    stats: Rc<RefCell<Stats>>,
    control: Arc<Control>,
    expiries: Vec<Expiry>,
    key_buf: String,
    send_end: Option<u64>,
}

fn make_template(plan: &Plan, share: &Share, local: &str) -> Template {
    let target = plan.target.to_string();
    Template::new(&TemplateSpec {
        method: plan.method,
        domain: &plan.domain,
        user_prefix: &plan.user_prefix,
        transport: plan.transport.via_name(),
        local,
        target: &target,
        run: plan.run_id,
        task: share.index as u32,
        expires: plan.expires,
    })
}

impl Session {
    /// A session for socket `share` whose local address is `local` (`ip:port`).
    pub fn new(
        plan: Arc<Plan>,
        share: Share,
        local: &str,
        stats: Rc<RefCell<Stats>>,
        control: Arc<Control>,
    ) -> Self {
        let template = make_template(&plan, &share, local);
        let cap = match share.rate {
            Some(_) => plan.table_size,
            None => share.window,
        };
        // The table (rate x 2 s slots in open loop) and the CSeq counters first: building them
        // took ~25 ms at 60k/s, and a pacer started before that began with that many requests
        // already due, a burst at the start of every open-loop run.
        let table = Table::new(cap, plan.timers);
        let cseqs = vec![0; share.user_count as usize];
        let now = plan.now();
        let pacer = share.rate.map(|r| Pacer {
            start: now,
            period: 1e9 / r,
        });
        Session {
            table,
            cseqs,
            template,
            share,
            next_user: 0,
            started: 0,
            pacer,
            stats,
            control,
            expiries: Vec::with_capacity(64),
            key_buf: String::with_capacity(128),
            send_end: None,
            plan,
        }
    }

    /// Rebuilds the request template for a new local address (a new connection).
    pub fn set_local(&mut self, local: &str) {
        self.template = make_template(&self.plan, &self.share, local);
    }

    /// The plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Shared per-thread stats.
    pub fn stats(&self) -> &Rc<RefCell<Stats>> {
        &self.stats
    }

    /// Transactions in flight.
    pub fn active(&self) -> usize {
        self.table.active()
    }

    /// Whether the send phase is over (count reached, duration over, or stop requested);
    /// records when it ended.
    pub fn sending_done(&mut self, now: u64) -> bool {
        if self.send_end.is_some() {
            return true;
        }
        let done = self.share.count.is_some_and(|c| self.started >= c)
            || self.plan.duration_ns.is_some_and(|d| now >= d)
            || self.control.stop.load(Ordering::Relaxed);
        if done {
            self.send_end = Some(now);
            self.control.send_end.fetch_max(now, Ordering::Relaxed);
        }
        done
    }

    /// Whether the session is finished: sending done and nothing in flight, or the drain time
    /// is over (the rest is then counted as abandoned).
    pub fn finished(&mut self, now: u64) -> bool {
        if !self.sending_done(now) {
            return false;
        }
        if self.table.active() == 0 {
            return true;
        }
        let end = self.send_end.unwrap_or(now);
        if now >= end.saturating_add(self.plan.drain_ns) {
            // Timeouts due by now count as timeouts, not as abandoned.
            let _ = self.expire(now);
            self.abandon_all();
            return true;
        }
        false
    }

    /// Counts everything in flight as abandoned (connection lost, or drain over).
    pub fn abandon_all(&mut self) {
        let n = self.table.abandon_all() as u64;
        self.stats.borrow_mut().errors.abandoned += n;
    }

    /// How many new requests may start now.
    pub fn allowed(&mut self, now: u64) -> usize {
        if self.sending_done(now) {
            return 0;
        }
        let by_count = self
            .share
            .count
            .map_or(u64::MAX, |c| c.saturating_sub(self.started));
        let by_mode = match self.pacer {
            Some(p) => p.due(now).saturating_sub(self.started),
            None => self.share.window.saturating_sub(self.table.active()) as u64,
        };
        by_count.min(by_mode).min(self.table.free() as u64) as usize
    }

    /// Starts one transaction and formats its request into `out`; `None` if none could start
    /// (table full or buffer too small: the latter is a configuration error, counted as a
    /// send error).
    pub fn start_one(&mut self, now: u64, out: &mut [u8]) -> Option<usize> {
        let intended = self.pacer.map_or(now, |p| p.intended(self.started));
        let local = self.next_user;
        self.next_user += 1;
        if self.next_user >= self.share.user_count {
            self.next_user = 0;
        }
        let user = self.share.user_first + local * self.share.user_stride;
        let cseq = {
            let c = &mut self.cseqs[local as usize];
            *c = c.wrapping_add(1).max(1);
            *c
        };
        let (slot, gen) = self.table.start(user, cseq, intended, now)?;
        self.started += 1;
        let v = Vary {
            user,
            cseq,
            slot,
            gen,
        };
        let mut st = self.stats.borrow_mut();
        st.sent += 1;
        match self.template.write(out, v) {
            Some(n) => Some(n),
            None => {
                st.errors.send_error += 1;
                None
            }
        }
    }

    /// Formats the retransmission of `slot` into `out`.
    pub fn format_retransmit(&self, slot: u32, out: &mut [u8]) -> Option<usize> {
        let s = self.table.slot(slot);
        let v = Vary {
            user: s.user,
            cseq: s.cseq,
            slot,
            gen: s.gen,
        };
        self.template.write(out, v)
    }

    /// Fires due timers: counts timeouts and returns the slots to retransmit.
    pub fn expire(&mut self, now: u64) -> &[Expiry] {
        self.expiries.clear();
        self.table.expire(now, &mut self.expiries);
        let timeouts = self
            .expiries
            .iter()
            .filter(|e| matches!(e, Expiry::Timeout(_)))
            .count() as u64;
        if timeouts > 0 {
            self.stats.borrow_mut().errors.timeout += timeouts;
        }
        &self.expiries
    }

    /// The `i`-th expiry of the last [`Session::expire`] call.
    pub fn expiry(&self, i: usize) -> Expiry {
        self.expiries[i]
    }

    /// Counts a retransmission that was sent.
    pub fn retransmitted(&self) {
        self.stats.borrow_mut().retransmits += 1;
    }

    /// When the session next needs attention without network input (ns since epoch).
    pub fn next_wake(&self, now: u64) -> u64 {
        let mut t = now + 100_000_000; // poll the stop flag at least every 100 ms
        if let Some(d) = self.table.next_deadline() {
            t = t.min(d);
        }
        if let Some(p) = self.pacer {
            if self.send_end.is_none() && self.table.free() > 0 {
                t = t.min(p.intended(self.started));
            }
        }
        if let Some(d) = self.plan.duration_ns {
            if self.send_end.is_none() {
                t = t.min(d);
            }
        }
        if let Some(e) = self.send_end {
            t = t.min(e.saturating_add(self.plan.drain_ns));
        }
        t.max(now)
    }

    /// Classifies one received message.
    pub fn on_response(&mut self, buf: &[u8], now: u64) {
        let mut st = self.stats.borrow_mut();
        let r = match wire::parse_response(buf) {
            Ok(r) => r,
            Err(_) => {
                st.errors.parse_error += 1;
                return;
            }
        };
        let Some((slot, gen)) = self.template.parse_call_id(r.call_id) else {
            st.errors.unmatched += 1;
            return;
        };
        let matches = self.table.get(slot, gen).is_some_and(|s| {
            s.cseq == r.cseq && r.cseq_method == self.template.method().as_str().as_bytes()
        });
        if !matches {
            if self.table.ended(slot, gen) {
                st.late += 1;
            } else {
                st.errors.unmatched += 1;
            }
            return;
        }
        if r.status < 200 {
            st.provisional += 1;
            self.table.proceeding(slot, gen);
            return;
        }
        let Some(s) = self.table.finish(slot, gen) else {
            return;
        };
        let origin = if self.pacer.is_some() {
            s.intended
        } else {
            s.first_sent
        };
        let measured = origin >= self.plan.warmup_ns;
        st.final_response(r.status, measured.then(|| now.saturating_sub(origin)));
        if !self.plan.expect.accepts(r.status) {
            st.errors.unexpected_status += 1;
        }
        if r.status == 301 {
            if let Some(topo) = &self.plan.verify {
                self.key_buf.clear();
                let _ = write!(
                    self.key_buf,
                    "{}{}@{}",
                    self.plan.user_prefix,
                    s.user,
                    self.plan.domain.to_ascii_lowercase()
                );
                let contacts = r.contacts().filter_map(Result::ok).map(|c| (c.uri, c.q));
                let outcome = match topo.expected(&self.key_buf) {
                    Some(exp) => crate::verify::check(&exp, contacts),
                    None => Err("no pool with a machine in the config".to_string()),
                };
                match outcome {
                    Ok(()) => st.verified += 1,
                    Err(why) => {
                        let key = &self.key_buf;
                        st.mismatch(|| format!("{key}: {why}"));
                    }
                }
            }
        }
    }
}
