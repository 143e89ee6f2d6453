//! The TCP/TLS client loop of one connection: requests are pipelined over a kept-alive
//! connection (or, with --tls-new-connection-per-request, one request per connection),
//! responses are framed out of the byte stream. A lost connection counts as a connect error,
//! its outstanding transactions as abandoned, and is re-opened while sending continues.

use crate::cli::Transport;
use crate::fine_timer::{sleep_until, FineTimer};
use crate::plan::{Plan, Share};
use crate::session::{Control, Session};
use crate::stats::Stats;
use crate::wire;
use dataplane::handshake_turns::{HandshakeTurns, TurnTaking};
use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const BUF: usize = 64 * 1024;
/// Room a request needs in the write buffer.
const REQ_ROOM: usize = 1400;

enum Outcome {
    /// The session is finished.
    Finished,
    /// The connection should be replaced (lost, or one request per connection).
    Reconnect,
}

async fn connect_tcp(plan: &Plan, share: &Share) -> io::Result<TcpStream> {
    let sock = match plan.target {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if let Some(ip) = share.source {
        sock.bind(SocketAddr::new(ip, 0))?;
    }
    let s = sock.connect(plan.target).await?;
    s.set_nodelay(true)?;
    Ok(s)
}

/// Runs one connection slot's share of the load to completion. TLS handshakes take the
/// thread's `turns` for their expensive steps (unless the plan says not to): building the
/// ClientHello (key shares) and processing the server's flight (key exchange, certificate
/// verification) wait until the answers that have arrived on other connections are read.
pub async fn run(
    plan: Arc<Plan>,
    share: Share,
    stats: Rc<RefCell<Stats>>,
    control: Arc<Control>,
    turns: HandshakeTurns,
) {
    let placeholder = match share.source {
        Some(ip) => SocketAddr::new(ip, 0).to_string(),
        None => "127.0.0.1:0".to_string(),
    };
    // open-loop pacing finer than tokio's milliseconds (closed loop does not need one, and a
    // run with thousands of connections would hold as many more descriptors)
    let timer = share.rate.and_then(|_| FineTimer::new().ok());
    let mut sess = Session::new(plan.clone(), share, &placeholder, stats.clone(), control);
    let mut wbuf = vec![0u8; BUF];
    let mut rbuf = vec![0u8; BUF];
    loop {
        let now = plan.now();
        if sess.finished(now) {
            return;
        }
        if sess.allowed(now) == 0 && sess.active() == 0 {
            // Nothing to send yet (open-loop pacing): wait before connecting.
            let wake = plan.epoch + Duration::from_nanos(sess.next_wake(now));
            sleep_until(timer.as_ref(), wake).await;
            continue;
        }
        let tcp = match connect_tcp(&plan, &share).await {
            Ok(s) => s,
            Err(e) => {
                lost(&sess, &format!("connect: {e}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let local = tcp
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or(placeholder.clone());
        sess.set_local(&local);
        let outcome = match (&plan.transport, &plan.tls) {
            (Transport::Tls, Some(tls)) => {
                let connector = tokio_rustls::TlsConnector::from(tls.config.clone());
                let mut tcp = TurnTaking::new(tcp);
                let turn = match plan.handshake_turns {
                    true => {
                        tcp.take_turns(&turns);
                        Some(turns.turn().await)
                    }
                    false => None,
                };
                // the ClientHello is built here, synchronously
                let connecting = connector.connect(tls.server_name.clone(), tcp);
                drop(turn);
                match connecting.await {
                    Ok(mut s) => {
                        s.get_mut().0.stop_turns();
                        {
                            let mut st = sess.stats().borrow_mut();
                            st.connections += 1;
                            let conn = s.get_ref().1;
                            let kind = conn.handshake_kind();
                            st.resumed += u64::from(kind == Some(rustls::HandshakeKind::Resumed));
                            let v12 =
                                conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_2);
                            st.tls12 += u64::from(v12);
                        }
                        drive(&mut sess, s, &mut wbuf, &mut rbuf, timer.as_ref()).await
                    }
                    Err(e) => {
                        lost(&sess, &format!("TLS handshake: {e}"));
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        Outcome::Reconnect
                    }
                }
            }
            _ => {
                sess.stats().borrow_mut().connections += 1;
                drive(&mut sess, tcp, &mut wbuf, &mut rbuf, timer.as_ref()).await
            }
        };
        if let Outcome::Finished = outcome {
            return;
        }
    }
}

/// Counts a failed or lost connection; the first few are described on stderr.
fn lost(sess: &Session, why: &str) {
    let mut st = sess.stats().borrow_mut();
    st.errors.connect_error += 1;
    if st.errors.connect_error <= 3 {
        eprintln!("loadgen: {} connection: {why}", sess.plan().target);
    }
}

async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
    sess: &mut Session,
    mut stream: S,
    wbuf: &mut [u8],
    rbuf: &mut [u8],
    timer: Option<&FineTimer>,
) -> Outcome {
    let per_request = sess.plan().new_conn_per_request;
    let epoch = sess.plan().epoch;
    let mut started_here = 0u64;
    let mut rlen = 0usize;
    loop {
        let now = sess.plan().now();
        if sess.finished(now) {
            let _ = stream.shutdown().await;
            return Outcome::Finished;
        }
        let _ = sess.expire(now); // streams: timeouts only, no retransmission
        if per_request && started_here > 0 && sess.active() == 0 {
            let _ = stream.shutdown().await;
            return Outcome::Reconnect;
        }
        let mut allowed = sess.allowed(now);
        if per_request {
            allowed = allowed.min(usize::from(started_here == 0));
        }
        let mut wlen = 0;
        for _ in 0..allowed {
            if wbuf.len() - wlen < REQ_ROOM {
                break;
            }
            if let Some(n) = sess.start_one(now, &mut wbuf[wlen..]) {
                wlen += n;
                started_here += 1;
            }
        }
        if wlen > 0 {
            let wrote = async {
                stream.write_all(&wbuf[..wlen]).await?;
                stream.flush().await
            }
            .await;
            if let Err(e) = wrote {
                lost(sess, &format!("write: {e}"));
                sess.abandon_all();
                return Outcome::Reconnect;
            }
            continue;
        }
        let wake = epoch + Duration::from_nanos(sess.next_wake(now));
        tokio::select! {
            r = stream.read(&mut rbuf[rlen..]) => match r {
                Ok(0) | Err(_) => {
                    if !(per_request && sess.active() == 0) {
                        lost(sess, "closed by peer");
                        sess.abandon_all();
                    }
                    return Outcome::Reconnect;
                }
                Ok(n) => {
                    rlen += n;
                    let now = sess.plan().now();
                    match consume_frames(sess, &rbuf[..rlen], now) {
                        Ok(used) => {
                            rbuf.copy_within(used..rlen, 0);
                            rlen -= used;
                            if rlen == rbuf.len() {
                                sess.stats().borrow_mut().errors.parse_error += 1;
                                lost(sess, "response larger than the read buffer");
                                sess.abandon_all();
                                return Outcome::Reconnect;
                            }
                        }
                        Err(()) => {
                            sess.stats().borrow_mut().errors.parse_error += 1;
                            lost(sess, "unframeable response stream");
                            sess.abandon_all();
                            return Outcome::Reconnect;
                        }
                    }
                }
            },
            _ = sleep_until(timer, wake) => {}
        }
    }
}

/// Hands every complete message in `buf` to the session; returns the bytes consumed.
fn consume_frames(sess: &mut Session, buf: &[u8], now: u64) -> Result<usize, ()> {
    let mut pos = 0;
    while pos < buf.len() {
        match wire::frame(&buf[pos..]) {
            Ok(Some(len)) => {
                let msg = &buf[pos..pos + len];
                if !msg.starts_with(b"\r\n") {
                    sess.on_response(msg, now);
                }
                pos += len;
            }
            Ok(None) => break,
            Err(_) => return Err(()),
        }
    }
    Ok(pos)
}
