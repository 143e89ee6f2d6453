//! Handshake turns: one thread runs the expensive steps of its TLS handshakes one at a time, and
//! each only after the tasks that were ready when its turn came.
//!
//! A TLS 1.3 server spends nearly all of a handshake's CPU on the ClientHello: the key exchange,
//! a session ticket's decryption or the certificate signature, about 150-250 µs. A worker's
//! scheduler runs ready tasks in order, so without turns a message arriving on an established
//! connection waited behind every ClientHello that arrived before it: with 64 handshakes in
//! progress on one worker the REGISTER sent right after a handshake waited 6-7 ms
//! (docs/performance.md, "Handshakes take turns"). With turns it waits for at most the
//! handshake step being run, and the handshake rate stays what the CPU allows.
//!
//! Two ways to take a turn:
//!
//! - [`HandshakeTurns::turn`], around a step the caller runs itself: the director's processing
//!   of a ClientHello (`Accepted::into_connection`), a client's building of its ClientHello
//!   (key shares) in `TlsConnector::connect`.
//! - [`TurnTaking`], a TCP transport under the TLS layer that takes a turn whenever the peer's
//!   handshake bytes have arrived and the TLS layer is about to read them (it processes what it
//!   reads at once), and gives it back at the next read or write. The director uses it for the
//!   client's second flight where that is expensive (a client certificate to verify, TLS 1.2's
//!   client key exchange); loadgen for the server's flight (key exchange, certificate
//!   verification), so that its reading of answers is not held up by its own handshakes. These
//!   later steps take a [`HandshakeTurns::finishing_turn`], ahead of handshakes waiting to start.
//!
//! Waiting for bytes from the network never holds a turn, so a handshake with a 100 ms round
//! trip does not keep others from running. The turns are per thread (a worker's
//! `current_thread` runtime); they are not meant to be shared between threads.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// One thread's handshake turns. Cloning gives another handle to the same turns.
///
/// Two kinds: a handshake *starting* (a ClientHello to process or to build) and one
/// *finishing* (the peer's next flight). Finishing steps go first: starting ones queue at
/// `gate` one at a time before they queue at `run`, so a finishing step waits for at most the
/// step being run, one starting step and the finishing steps ahead of it, never for every
/// handshake that has begun since. Otherwise a client's Finished, and the request sent with it,
/// would wait behind the whole queue of new handshakes.
#[derive(Debug, Clone)]
pub struct HandshakeTurns {
    run: Arc<Semaphore>,
    gate: Arc<Semaphore>,
}

/// A held turn; the next waiting handshake may start once it is dropped.
#[derive(Debug)]
pub struct Turn {
    _run: Option<OwnedSemaphorePermit>,
    _gate: Option<OwnedSemaphorePermit>,
}

impl HandshakeTurns {
    pub fn new() -> Self {
        HandshakeTurns {
            run: Arc::new(Semaphore::new(1)),
            gate: Arc::new(Semaphore::new(1)),
        }
    }

    /// A turn for a handshake's first step: waits until no other step runs and no finishing
    /// step waits (first come, first served among starting steps), then lets every task that
    /// is ready at that moment run first. Cancel-safe: a connection dropped while waiting
    /// (timeout, shutdown) gives up its place.
    pub fn turn(&self) -> impl Future<Output = Turn> + 'static {
        let (run, gate) = (self.run.clone(), self.gate.clone());
        async move {
            // The semaphores are never closed; were they, handshakes would go on without turns.
            let gate = gate.acquire_owned().await.ok();
            let run = run.acquire_owned().await.ok();
            // Deferred until the thread has polled its sockets: what they woke runs before us.
            tokio::task::yield_now().await;
            Turn {
                _run: run,
                _gate: gate,
            }
        }
    }

    /// A turn for a later step of a handshake already under way: ahead of the starting steps
    /// still waiting (see the type's documentation); otherwise as [`HandshakeTurns::turn`].
    pub fn finishing_turn(&self) -> impl Future<Output = Turn> + 'static {
        let run = self.run.clone();
        async move {
            let run = run.acquire_owned().await.ok();
            tokio::task::yield_now().await;
            Turn {
                _run: run,
                _gate: None,
            }
        }
    }
}

impl Default for HandshakeTurns {
    fn default() -> Self {
        Self::new()
    }
}

/// Where a [`TurnTaking`] transport is with its turns.
enum TurnState {
    /// No turn held or wanted.
    Free,
    /// Handshake bytes have arrived; waiting for the turn to hand them to the TLS layer.
    Waiting(Pin<Box<dyn Future<Output = Turn>>>),
    /// The bytes last read are being processed under this turn.
    Held { _turn: Turn },
}

/// A TCP connection that, while it takes turns ([`TurnTaking::take_turns`]), hands bytes to
/// the reader only under a handshake turn: when bytes have arrived (a peek says so) it waits
/// for the turn, then reads. The turn is given back at the next read or write, which the TLS
/// layer makes only after processing what it read, or at once when the read finds nothing. No
/// turn is held while waiting for the network. Without turns it is the TCP stream.
pub struct TurnTaking {
    tcp: TcpStream,
    turns: Option<HandshakeTurns>,
    state: TurnState,
}

impl std::fmt::Debug for TurnTaking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            TurnState::Free => "free",
            TurnState::Waiting(_) => "waiting",
            TurnState::Held { .. } => "held",
        };
        f.debug_struct("TurnTaking")
            .field("tcp", &self.tcp)
            .field("takes_turns", &self.turns.is_some())
            .field("turn", &state)
            .finish()
    }
}

impl TurnTaking {
    /// A connection that takes no turns yet.
    pub fn new(tcp: TcpStream) -> Self {
        TurnTaking {
            tcp,
            turns: None,
            state: TurnState::Free,
        }
    }

    /// From now on, reads wait for a turn of `turns`.
    pub fn take_turns(&mut self, turns: &HandshakeTurns) {
        self.turns = Some(turns.clone());
    }

    /// No more turns (the handshake is done): gives back a held turn, leaves the queue.
    pub fn stop_turns(&mut self) {
        self.turns = None;
        self.state = TurnState::Free;
    }

    pub fn get_ref(&self) -> &TcpStream {
        &self.tcp
    }

    /// Done with the bytes read under the last turn.
    fn release(&mut self) {
        if matches!(self.state, TurnState::Held { .. }) {
            self.state = TurnState::Free;
        }
    }

    /// Ready once the next read may go ahead: at once without turns; with them, when bytes
    /// (or the end of the stream) are there and the turn is held.
    fn poll_turn(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.turns.is_none() {
            return Poll::Ready(Ok(()));
        }
        self.release();
        if let (TurnState::Free, Some(turns)) = (&self.state, &self.turns) {
            let mut one = [0u8; 1];
            let mut peek = ReadBuf::new(&mut one);
            match ready!(self.tcp.poll_peek(cx, &mut peek)) {
                // end of stream: nothing to process, no turn needed
                Ok(0) => return Poll::Ready(Ok(())),
                Ok(_) => {
                    let turn = turns.finishing_turn();
                    self.state = TurnState::Waiting(Box::pin(turn));
                }
                // the read reports it
                Err(_) => return Poll::Ready(Ok(())),
            }
        }
        if let TurnState::Waiting(turn) = &mut self.state {
            let turn = ready!(turn.as_mut().poll(cx));
            self.state = TurnState::Held { _turn: turn };
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for TurnTaking {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_turn(cx))?;
        let read = Pin::new(&mut this.tcp).poll_read(cx, buf);
        if read.is_pending() {
            this.release(); // nothing to process after all
        }
        read
    }
}

impl AsyncWrite for TurnTaking {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.release();
        Pin::new(&mut this.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.release();
        Pin::new(&mut this.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.release();
        Pin::new(&mut this.tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.release();
        Pin::new(&mut this.tcp).poll_shutdown(cx)
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

    /// A connected loopback pair: the accepted side wrapped, and the client.
    async fn tcp_pair() -> (super::TurnTaking, tokio::net::TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let client = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let (server, _) = listener.accept().await.expect("accept");
        (super::TurnTaking::new(server), client)
    }

    const SOON: std::time::Duration = std::time::Duration::from_secs(5);

    /// Spawns a reader that reads once, records it, answers and waits for more.
    fn reader(
        mut conn: super::TurnTaking,
        log: Rc<RefCell<Vec<String>>>,
    ) -> tokio::task::JoinHandle<()> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        spawn_local(async move {
            let mut b = [0u8; 16];
            let n = conn.read(&mut b).await.expect("read");
            log.borrow_mut().push(format!("read {n}"));
            conn.write_all(b"ok").await.expect("write");
            let _ = conn.read(&mut b).await; // waits for the network, holding no turn
        })
    }

    /// With turns, bytes that have arrived are handed over only under a turn, and waiting
    /// for the network holds none: a turn is free while the reader waits for bytes, the bytes
    /// wait while someone else holds the turn, and the reader's write gives its turn back.
    #[test]
    fn bytes_are_read_under_a_turn_and_the_network_is_awaited_without_one() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        run_local(async {
            let turns = HandshakeTurns::new();
            let log = Rc::new(RefCell::new(Vec::<String>::new()));
            let (mut conn, mut client) = tcp_pair().await;
            conn.take_turns(&turns);
            let task = reader(conn, log.clone());
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let held = tokio::time::timeout(SOON, turns.turn())
                .await
                .expect("a reader waiting for bytes held the turn");
            client.write_all(b"hello").await.expect("client write");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            assert!(
                log.borrow().is_empty(),
                "bytes were handed over while another step held the turn"
            );
            drop(held);
            let mut ok = [0u8; 2];
            tokio::time::timeout(SOON, client.read_exact(&mut ok))
                .await
                .expect("the reader never got the turn")
                .expect("client read");
            assert_eq!(*log.borrow(), ["read 5"]);
            // the reader wrote and waits for bytes again: it holds no turn
            let again = tokio::time::timeout(SOON, turns.turn()).await;
            assert!(again.is_ok(), "the reader kept its turn after writing");
            task.abort();
        });
    }

    /// Without turns (none asked for, or stopped) the connection reads at once.
    #[test]
    fn without_turns_bytes_are_read_at_once() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        run_local(async {
            let turns = HandshakeTurns::new();
            let _held = turns.turn().await;
            let log = Rc::new(RefCell::new(Vec::<String>::new()));
            let (mut conn, mut client) = tcp_pair().await;
            conn.take_turns(&turns);
            conn.stop_turns();
            let task = reader(conn, log.clone());
            client.write_all(b"hi").await.expect("client write");
            let mut ok = [0u8; 2];
            tokio::time::timeout(SOON, client.read_exact(&mut ok))
                .await
                .expect("a connection without turns waited for one")
                .expect("client read");
            assert_eq!(*log.borrow(), ["read 2"]);
            task.abort();
        });
    }

    /// Stopping the turns right after a read under a turn gives that turn back.
    #[test]
    fn stopping_turns_gives_a_held_turn_back() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        run_local(async {
            let turns = HandshakeTurns::new();
            let (mut conn, mut client) = tcp_pair().await;
            conn.take_turns(&turns);
            client.write_all(b"x").await.expect("client write");
            let mut b = [0u8; 4];
            let n = tokio::time::timeout(SOON, conn.read(&mut b))
                .await
                .expect("read under a free turn")
                .expect("read");
            assert_eq!(n, 1);
            let held = tokio::time::timeout(std::time::Duration::from_millis(50), turns.turn());
            assert!(
                held.await.is_err(),
                "no turn was held while the read was processed"
            );
            conn.stop_turns();
            let free = tokio::time::timeout(SOON, turns.turn()).await;
            assert!(free.is_ok(), "stop_turns kept the turn");
        });
    }

    /// A finishing step asked for while starting steps queue runs right after the step being
    /// run and at most one starting step, not after the whole queue.
    #[test]
    fn a_finishing_step_goes_ahead_of_queued_starting_steps() {
        run_local(async {
            let turns = HandshakeTurns::new();
            let log = Rc::new(RefCell::new(Vec::<String>::new()));
            let first = turns.turn().await;
            let starting: Vec<_> = (1..=4)
                .map(|i| {
                    let (turns, log) = (turns.clone(), log.clone());
                    spawn_local(async move {
                        let _turn = turns.turn().await;
                        log.borrow_mut().push(format!("start {i}"));
                    })
                })
                .collect();
            tokio::task::yield_now().await; // the four queue
            let finishing = {
                let (turns, log) = (turns.clone(), log.clone());
                spawn_local(async move {
                    let _turn = turns.finishing_turn().await;
                    log.borrow_mut().push("finish".into());
                })
            };
            tokio::task::yield_now().await;
            drop(first);
            finishing.await.expect("finishing task");
            for s in starting {
                s.await.expect("starting task");
            }
            let log = log.borrow();
            let at = log.iter().position(|l| l == "finish").expect("finished");
            assert!(
                at <= 1,
                "the finishing step waited behind {at} starting steps: {log:?}"
            );
            assert_eq!(log.len(), 5, "{log:?}");
        });
    }
}
