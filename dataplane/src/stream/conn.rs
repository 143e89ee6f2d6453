//! The per-connection loop over any byte stream (TCP or TLS): read into a growing buffer, cut
//! frames, call the handler per frame, write the replies once the buffer holds no complete
//! frame, and enforce idle and header (slowloris) timeouts and the shutdown rule (finish the
//! message in flight, then close).
//!
//! Memory: between messages a connection holds no read buffer and no write buffer. Once a read
//! came back short (so neither the socket's readiness nor the TLS layer holds more for us) and
//! every byte was handled, the read buffer goes back to the worker's pool; the next message is
//! awaited on the TCP socket's readiness, and only then is a buffer taken for a non-blocking
//! read. The handler's output buffer is one per worker.
//!
//! A TLS error (an alert or a protocol error, not an I/O error) before the peer sent a single
//! byte counts as `TlsHandshake`: with TLS 1.3 a server refusing our client certificate says so
//! only after our side of the handshake finished, with an alert in place of its first answer.

use std::future::{poll_fn, Future};
use std::io;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::handshake_turns::TurnTaking;
use tokio::time::Instant;

use super::outbox::Outbox;
use crate::ctx::WorkerCtx;
use crate::{frame, Action, DropReason, Frame, Handler, Peer, Transport};

/// How long a graceful close (TLS close_notify, FIN) may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// What processing the buffered bytes decided.
enum Next {
    Continue,
    Close,
}

/// A stream over a TCP socket whose readiness can be awaited without reading.
pub(crate) trait OverTcp: AsyncRead + AsyncWrite + Unpin {
    /// The underlying socket.
    fn tcp(&self) -> &TcpStream;
}

impl OverTcp for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl OverTcp for tokio_rustls::server::TlsStream<TurnTaking> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0.get_ref()
    }
}

impl OverTcp for tokio_rustls::client::TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}

/// Reads into `buf[end..]`. With no buffer (idle), waits for the socket to be readable, then
/// takes a pooled buffer and tries one read; if that finds nothing after all (spurious
/// readiness, or only part of a TLS record), the buffer goes back and the wait resumes.
async fn read_some<H, S: OverTcp>(
    ctx: &WorkerCtx<H>,
    stream: &mut S,
    buf: &mut Vec<u8>,
    end: usize,
    cap: usize,
) -> io::Result<usize> {
    if !buf.is_empty() {
        return stream.read(&mut buf[end..]).await;
    }
    loop {
        stream.tcp().readable().await?;
        *buf = take_buffer(ctx, cap);
        let mut read = pin!(stream.read(&mut buf[..]));
        let once = poll_fn(|cx| match read.as_mut().poll(cx) {
            Poll::Ready(r) => Poll::Ready(Some(r)),
            Poll::Pending => Poll::Ready(None),
        })
        .await;
        match once {
            Some(r) => return r,
            None => give_buffer(ctx, std::mem::take(buf)),
        }
    }
}

/// Serves one connection until EOF, error, timeout, `Action::Close`, a framing error or shutdown.
///
/// The stream and peer are borrowed, not moved in: an `async fn` keeps an argument moved in
/// twice in its state (as the argument and as the local it becomes), and the caller's task
/// would keep a third copy. A TLS stream is 1.3 kB, and the task is allocated whole for every
/// connection (docs/performance.md, "Memory per idle TLS connection").
pub(crate) async fn serve<H: Handler, S: OverTcp>(
    ctx: &WorkerCtx<H>,
    stream: &mut S,
    peer: &Peer,
    outbox: &Outbox,
) {
    let lim = &ctx.limits;
    let cap = lim.max_message.saturating_add(1);
    // Start with a buffer: the TLS layer may already hold bytes read during the handshake.
    let mut buf = take_buffer(ctx, cap);
    let mut drained = false;
    let (mut start, mut end) = (0usize, 0usize);
    let mut wbuf = Vec::new();
    let mut last_activity = Instant::now();
    let mut msg_started = last_activity;
    let mut stopping = false;
    let mut heard = false;
    let mut stop = pin!(ctx.shutdown.wait());
    let mut timer = pin!(tokio::time::sleep_until(last_activity + lim.idle_timeout));

    loop {
        let next = process(ctx, &buf[start..end], peer, &mut wbuf, &mut start);
        if !wbuf.is_empty() && !write_out(ctx, stream, &mut wbuf).await {
            break;
        }
        if matches!(next, Next::Close) {
            break;
        }
        // Compact: keep the partial message at the front.
        if start == end {
            start = 0;
            end = 0;
        } else if start > 0 {
            buf.copy_within(start..end, 0);
            end -= start;
            start = 0;
        }
        if stopping && end == 0 {
            break;
        }
        if end == 0 && drained && !buf.is_empty() {
            // Between messages with nothing pending: hold no buffers while idle.
            give_buffer(ctx, std::mem::take(&mut buf));
            wbuf = Vec::new();
        }
        if !buf.is_empty() && end == buf.len() {
            if buf.len() >= cap {
                // The framer should have said TooLarge; never buffer beyond the limit.
                ctx.stats().add_dropped(DropReason::Oversize, 1);
                break;
            }
            buf.resize((buf.len() * 2).min(cap), 0);
        }
        let (deadline, reason) = if end > 0 {
            (msg_started + lim.header_timeout, DropReason::HeaderTimeout)
        } else {
            (last_activity + lim.idle_timeout, DropReason::IdleTimeout)
        };
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        tokio::select! {
            biased;
            _ = &mut stop, if !stopping => {
                stopping = true;
            }
            _ = outbox.ready() => {
                let n = outbox.drain_into(&mut wbuf);
                if n > 0 {
                    ctx.stats().add_sent(n as u64);
                    if !write_out(ctx, stream, &mut wbuf).await {
                        break;
                    }
                }
            }
            r = read_some(ctx, stream, &mut buf, end, cap) => match r {
                Ok(0) => break,
                Err(e) => {
                    if !heard && is_tls_error(&e) {
                        tracing::debug!(remote = %peer.remote, error = %e, "TLS refused by the peer");
                        ctx.stats().add_dropped(DropReason::TlsHandshake, 1);
                    }
                    break;
                }
                Ok(n) => {
                    heard = true;
                    drained = end + n < buf.len();
                    last_activity = Instant::now();
                    if end == 0 {
                        msg_started = last_activity;
                    }
                    end += n;
                }
            },
            _ = &mut timer => {
                ctx.stats().add_dropped(reason, 1);
                break;
            }
        }
    }
    // Messages queued for us but never written are lost with the connection.
    let lost = outbox.close();
    if lost > 0 {
        ctx.stats().add_dropped(DropReason::SendFailed, lost as u64);
    }
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, stream.shutdown()).await;
    if !buf.is_empty() {
        give_buffer(ctx, buf);
    }
}

/// Whether a read failed in the TLS layer (alert received, protocol error) rather than below it.
fn is_tls_error(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>())
}

fn take_buffer<H>(ctx: &WorkerCtx<H>, cap: usize) -> Vec<u8> {
    ctx.stats().read_buffer_taken();
    ctx.buffers.borrow_mut().take(cap)
}

fn give_buffer<H>(ctx: &WorkerCtx<H>, buf: Vec<u8>) {
    ctx.stats().read_buffer_released();
    ctx.buffers.borrow_mut().give(buf);
}

/// Cuts and handles every complete frame in `data`, advancing `start`; replies go to `wbuf`.
fn process<H: Handler>(
    ctx: &WorkerCtx<H>,
    mut data: &[u8],
    peer: &Peer,
    wbuf: &mut Vec<u8>,
    start: &mut usize,
) -> Next {
    let stats = ctx.stats();
    // Handling never awaits, so the worker's one output buffer serves every connection.
    let mut out = ctx.stream_out.borrow_mut();
    let out = &mut *out;
    while !data.is_empty() {
        match frame(data, &ctx.frame_limits) {
            Ok(Frame::Incomplete) => break,
            Ok(Frame::KeepAlive { len }) => {
                let len = len.clamp(1, data.len());
                // RFC 5626 ping (CRLFCRLF) gets a pong (CRLF).
                if data[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                    wbuf.extend_from_slice(b"\r\n");
                }
                stats.add_keepalive();
                data = &data[len..];
                *start += len;
            }
            Ok(Frame::Complete { len }) => {
                let len = len.clamp(1, data.len());
                stats.add_received(1);
                out.clear();
                let action = ctx.on_message(&data[..len], peer, out);
                data = &data[len..];
                *start += len;
                match action {
                    Action::Reply => queue(wbuf, out, stats),
                    Action::Drop => {}
                    Action::Close => {
                        queue(wbuf, out, stats);
                        return Next::Close;
                    }
                    Action::SendConn(id) if Some(id) == peer.conn => queue(wbuf, out, stats),
                    Action::SendConn(id) => ctx.send_conn(id, out),
                    Action::Send {
                        to,
                        transport: Transport::Udp,
                    } => send_udp(ctx, out, to, peer),
                    Action::Send { to, transport } => ctx.send_stream_to(to, transport, out),
                }
            }
            Err(e) => {
                stats.add_dropped(DropReason::FrameError, 1);
                out.clear();
                ctx.on_stream_error(data, &e, peer, out);
                queue(wbuf, out, stats);
                return Next::Close;
            }
        }
    }
    Next::Continue
}

fn queue(wbuf: &mut Vec<u8>, out: &[u8], stats: &crate::counters::WorkerCounters) {
    if !out.is_empty() {
        wbuf.extend_from_slice(out);
        stats.add_sent(1);
    }
}

/// Forwards over UDP from this worker's socket; a full send buffer drops (counted).
fn send_udp<H>(ctx: &WorkerCtx<H>, out: &[u8], to: std::net::SocketAddr, peer: &Peer) {
    if out.is_empty() {
        return;
    }
    let stats = ctx.stats();
    let Some(sock) = ctx.udp_socket_for(to, peer.local) else {
        stats.add_dropped(DropReason::NoRoute, 1);
        return;
    };
    match sock.try_send_to(out, to) {
        Ok(_) => stats.add_sent(1),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
            stats.add_dropped(DropReason::SendBufferFull, 1)
        }
        Err(_) => stats.add_dropped(DropReason::SendFailed, 1),
    }
}

/// Writes and flushes `wbuf` (bounded by the idle timeout); false if the connection is unusable.
async fn write_out<H, S: AsyncWrite + Unpin>(
    ctx: &WorkerCtx<H>,
    stream: &mut S,
    wbuf: &mut Vec<u8>,
) -> bool {
    let write = async {
        stream.write_all(wbuf).await?;
        stream.flush().await
    };
    let ok = matches!(
        tokio::time::timeout(ctx.limits.idle_timeout, write).await,
        Ok(Ok(()))
    );
    if !ok {
        ctx.stats().add_dropped(DropReason::SendFailed, 1);
    }
    wbuf.clear();
    ok
}
