//! Handshake turns: one worker runs the expensive step of its TLS handshakes one at a time, and
//! each only after the tasks that were ready when its turn came.
//!
//! A TLS 1.3 server spends nearly all of a handshake's CPU on the ClientHello: the key exchange,
//! a session ticket's decryption or the certificate signature, about 150-250 µs. The worker's
//! scheduler runs ready tasks in order, so without turns a message arriving on an established
//! connection waited behind every ClientHello that arrived before it: with 64 handshakes in
//! progress on one worker the REGISTER sent right after a handshake waited 6-7 ms
//! (docs/performance.md, "Handshakes take turns"). With turns it waits for at most the
//! handshake step being run, and the handshake rate stays what the CPU allows.
//!
//! Only the ClientHello step takes a turn. Waiting for bytes from the network holds none, so a
//! handshake with a 100 ms round trip does not keep others from running; the client's Finished
//! (a MAC check) needs none either. Two expensive steps in the client's second flight run
//! without a turn: the verification of a client certificate (listeners with `client_ca`) and,
//! with TLS 1.2, the client's key exchange.

use tokio::sync::{Semaphore, SemaphorePermit};

/// One worker's handshake turns.
#[derive(Debug)]
pub(crate) struct HandshakeTurns {
    one: Semaphore,
}

/// A held turn; the next waiting handshake may start once it is dropped.
#[derive(Debug)]
pub(crate) struct Turn<'a> {
    _permit: Option<SemaphorePermit<'a>>,
}

impl HandshakeTurns {
    pub(crate) fn new() -> Self {
        HandshakeTurns {
            one: Semaphore::new(1),
        }
    }

    /// Waits until no other handshake step runs (first come, first served), then lets every
    /// task that is ready at that moment run first. Cancel-safe: a connection dropped while
    /// waiting (timeout, shutdown) gives up its place.
    pub(crate) async fn turn(&self) -> Turn<'_> {
        // The semaphore is never closed; were it, handshakes would go on without turns.
        let permit = self.one.acquire().await.ok();
        // Deferred until the worker has polled its sockets: what they woke runs before us.
        tokio::task::yield_now().await;
        Turn { _permit: permit }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use tokio::sync::Notify;
    use tokio::task::{spawn_local, LocalSet};

    use super::HandshakeTurns;

    fn run_local<F: std::future::Future<Output = ()>>(f: F) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        LocalSet::new().block_on(&rt, f);
    }

    /// Spawns three handshakes that queue for turns and log their step; `during_step_0` runs
    /// inside the first step. Returns once all three are done.
    async fn three_steps(
        turns: Rc<HandshakeTurns>,
        log: Rc<RefCell<Vec<String>>>,
        during_step_0: Rc<dyn Fn()>,
    ) {
        let handshakes: Vec<_> = (0..3)
            .map(|i| {
                let (turns, log, during_step_0) =
                    (turns.clone(), log.clone(), during_step_0.clone());
                spawn_local(async move {
                    let _turn = turns.turn().await;
                    log.borrow_mut().push(format!("step {i}"));
                    if i == 0 {
                        during_step_0();
                    }
                })
            })
            .collect();
        for h in handshakes {
            h.await.expect("handshake task");
        }
    }

    /// Three handshakes queue for turns; while the first runs its step, an established
    /// connection becomes ready. It must run before the second handshake's step, not after
    /// every queued one (which is what plain task order would do).
    #[test]
    fn a_task_woken_during_a_step_runs_before_the_next_step() {
        run_local(async {
            let turns = Rc::new(HandshakeTurns::new());
            let log = Rc::new(RefCell::new(Vec::<String>::new()));
            let data = Rc::new(Notify::new());
            let established = {
                let (log, data) = (log.clone(), data.clone());
                spawn_local(async move {
                    data.notified().await;
                    log.borrow_mut().push("established".into());
                })
            };
            // bytes arrive for the established connection during step 0
            three_steps(turns, log.clone(), Rc::new(move || data.notify_one())).await;
            established.await.expect("established task");
            assert_eq!(
                *log.borrow(),
                ["step 0", "established", "step 1", "step 2"],
                "the established connection waited behind queued handshake steps"
            );
        });
    }

    /// The same with the wake-up coming from the worker's I/O driver, as in the worker: a
    /// datagram for an "established" socket arrives during step 0.
    #[test]
    fn a_socket_readable_during_a_step_is_served_before_the_next_step() {
        run_local(async {
            let turns = Rc::new(HandshakeTurns::new());
            let log = Rc::new(RefCell::new(Vec::<String>::new()));
            let established = tokio::net::UdpSocket::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let to = established.local_addr().expect("addr");
            let sender = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
            let reader = {
                let log = log.clone();
                spawn_local(async move {
                    let mut b = [0u8; 8];
                    let _ = established.recv(&mut b).await;
                    log.borrow_mut().push("established".into());
                })
            };
            tokio::task::yield_now().await; // the reader waits on its socket now
                                            // over loopback the datagram is queued on the socket when send_to returns, before
                                            // the step ends
            let send = move || {
                sender.send_to(b"x", to).expect("send");
            };
            three_steps(turns, log.clone(), Rc::new(send)).await;
            reader.await.expect("reader task");
            assert_eq!(
                *log.borrow(),
                ["step 0", "established", "step 1", "step 2"],
                "the readable socket waited behind queued handshake steps"
            );
        });
    }

    /// A handshake dropped while waiting for its turn (its timeout fired) does not keep the
    /// ones behind it waiting.
    #[test]
    fn a_waiter_dropped_in_the_queue_gives_up_its_place() {
        run_local(async {
            let turns = Rc::new(HandshakeTurns::new());
            let first = turns.turn().await;
            let ran = Rc::new(Cell::new(false));
            let dropped = {
                let (turns, ran) = (turns.clone(), ran.clone());
                spawn_local(async move {
                    let _turn = turns.turn().await;
                    ran.set(true);
                })
            };
            let last = {
                let turns = turns.clone();
                spawn_local(async move {
                    let _turn = turns.turn().await;
                })
            };
            tokio::task::yield_now().await; // both are queued now
            dropped.abort();
            drop(first);
            let done = tokio::time::timeout(std::time::Duration::from_secs(5), last).await;
            assert!(
                matches!(done, Ok(Ok(()))),
                "the turn after an abandoned waiter never came"
            );
            assert!(!ran.get(), "the aborted waiter ran its step");
        });
    }
}
