//! `loadgen registrar`: a farm of registrar simulators. Each listener answers REGISTER and
//! OPTIONS with 200 OK (Vias, From, To + tag, Call-ID, CSeq copied; REGISTER echoes Contact
//! with expires), other methods with 405, ACK with nothing. Listeners can be muted (they then
//! drop requests silently) over the control socket (`mute ADDR|all`, `unmute ADDR|all`,
//! `stats`) or with SIGUSR1 (mute all) / SIGUSR2 (unmute all). SIGTERM/SIGINT print per
//! listener counters and exit.

use crate::cli::{ListenTransport, RegistrarArgs};
use crate::wire::{self, Name};
use crate::{registrar_udp, reuseport};
use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One listener's state (shared by its UDP threads, `registrar_udp`).
#[derive(Debug)]
pub(crate) struct Listener {
    pub(crate) addr: SocketAddr,
    transport: &'static str,
    pub(crate) muted: AtomicBool,
    pub(crate) received: AtomicU64,
    pub(crate) answered: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) malformed: AtomicU64,
}

impl Listener {
    fn line(&self) -> String {
        format!(
            "{} {} received {} answered {} dropped_muted {} malformed {}{}",
            self.transport,
            self.addr,
            self.received.load(Ordering::Relaxed),
            self.answered.load(Ordering::Relaxed),
            self.dropped.load(Ordering::Relaxed),
            self.malformed.load(Ordering::Relaxed),
            if self.muted.load(Ordering::Relaxed) {
                " muted"
            } else {
                ""
            }
        )
    }
}

/// Builds the answer to `req` into `out`; `false` when nothing is to be sent.
pub(crate) fn answer(
    req: &[u8],
    tag: &str,
    expires: u32,
    out: &mut Vec<u8>,
) -> Result<bool, wire::WireError> {
    let r = wire::parse_request(req)?;
    out.clear();
    if r.method == b"ACK" {
        return Ok(false);
    }
    let ok = r.method == b"REGISTER" || r.method == b"OPTIONS";
    out.extend_from_slice(if ok {
        b"SIP/2.0 200 OK\r\n".as_slice()
    } else {
        b"SIP/2.0 405 Method Not Allowed\r\n".as_slice()
    });
    let mut has_call_id = false;
    let req_expires = r
        .headers()
        .find(|h| h.0 == Name::Expires)
        .map(|h| h.2)
        .and_then(|v| std::str::from_utf8(v).ok()?.parse::<u32>().ok())
        .unwrap_or(expires);
    for (name, _, value) in r.headers() {
        let label: &[u8] = match name {
            Name::Via => b"Via: ",
            Name::From => b"From: ",
            Name::To => b"To: ",
            Name::CallId => {
                has_call_id = true;
                b"Call-ID: "
            }
            Name::CSeq => b"CSeq: ",
            Name::Contact if r.method == b"REGISTER" && ok => b"Contact: ",
            _ => continue,
        };
        out.extend_from_slice(label);
        out.extend_from_slice(value);
        if name == Name::To && !contains_ci(value, b";tag=") {
            out.extend_from_slice(b";tag=");
            out.extend_from_slice(tag.as_bytes());
        }
        if name == Name::Contact && value != b"*" && !contains_ci(value, b"expires=") {
            // Written straight into `out` (io::Write for Vec): no String per REGISTER.
            let _ = write!(out, ";expires={req_expires}");
        }
        out.extend_from_slice(b"\r\n");
    }
    if !has_call_id {
        return Err(wire::WireError::Missing("Call-ID"));
    }
    if !ok {
        out.extend_from_slice(b"Allow: REGISTER, OPTIONS\r\n");
    }
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    Ok(true)
}

fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

async fn serve_stream<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    l: Arc<Listener>,
    tag: String,
    expires: u32,
) {
    let mut buf = vec![0u8; 65536];
    let mut len = 0;
    let mut out = Vec::with_capacity(2048);
    let mut wbuf = Vec::with_capacity(16384);
    loop {
        let n = match s.read(&mut buf[len..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        len += n;
        let mut pos = 0;
        while pos < len {
            match wire::frame(&buf[pos..len]) {
                Ok(Some(flen)) => {
                    let msg = &buf[pos..pos + flen];
                    pos += flen;
                    if msg.starts_with(b"\r\n") {
                        continue;
                    }
                    l.received.fetch_add(1, Ordering::Relaxed);
                    if l.muted.load(Ordering::Relaxed) {
                        l.dropped.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    match answer(msg, &tag, expires, &mut out) {
                        Ok(true) => {
                            wbuf.extend_from_slice(&out);
                            l.answered.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(false) => {}
                        Err(_) => {
                            l.malformed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                Ok(None) => break,
                Err(_) => {
                    l.malformed.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        }
        buf.copy_within(pos..len, 0);
        len -= pos;
        if len == buf.len() {
            return; // a message larger than the buffer: give up on this connection
        }
        if !wbuf.is_empty() {
            if s.write_all(&wbuf).await.is_err() || s.flush().await.is_err() {
                return;
            }
            wbuf.clear();
        }
    }
}

async fn accept_loop(
    lst: TcpListener,
    l: Arc<Listener>,
    tag: String,
    expires: u32,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    loop {
        let Ok((s, _)) = lst.accept().await else {
            continue;
        };
        let _ = s.set_nodelay(true);
        let (l, tag, tls) = (l.clone(), tag.clone(), tls.clone());
        tokio::spawn(async move {
            match tls {
                Some(acc) => {
                    if let Ok(t) = acc.accept(s).await {
                        serve_stream(t, l, tag, expires).await;
                    }
                }
                None => serve_stream(s, l, tag, expires).await,
            }
        });
    }
}

fn apply(listeners: &[Arc<Listener>], cmd: &str) -> String {
    let mut parts = cmd.split_whitespace();
    let verb = parts.next().unwrap_or("");
    let which = parts.next().unwrap_or("all");
    let mute = match verb {
        "mute" => true,
        "unmute" => false,
        "stats" => {
            let mut s: String = listeners.iter().map(|l| l.line() + "\n").collect();
            s.push_str("ok");
            return s;
        }
        _ => return format!("error unknown command {verb:?}"),
    };
    let mut hit = 0;
    for l in listeners {
        if which == "all" || l.addr.to_string() == which {
            l.muted.store(mute, Ordering::Relaxed);
            hit += 1;
        }
    }
    if hit == 0 {
        format!("error no listener {which}")
    } else {
        format!("ok {verb} {hit}")
    }
}

async fn control_loop(lst: TcpListener, listeners: Arc<Vec<Arc<Listener>>>) {
    loop {
        let Ok((s, _)) = lst.accept().await else {
            continue;
        };
        let ls = listeners.clone();
        tokio::spawn(async move {
            let (r, mut w) = s.into_split();
            let mut lines = BufReader::new(r).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let reply = apply(&ls, line.trim());
                if w.write_all(format!("{reply}\n").as_bytes()).await.is_err() {
                    return;
                }
            }
        });
    }
}

fn resolve(s: &str) -> Result<SocketAddr, String> {
    s.to_socket_addrs()
        .ok()
        .and_then(|mut i| i.next())
        .ok_or_else(|| format!("cannot resolve {s}"))
}

/// Runs the farm until SIGTERM/SIGINT.
pub fn run(a: &RegistrarArgs) -> i32 {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loadgen registrar: {e}");
            return 1;
        }
    };
    match rt.block_on(serve(a)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("loadgen registrar: {e}");
            1
        }
    }
}

async fn serve(a: &RegistrarArgs) -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    let tls = match a.transport {
        ListenTransport::Tls => {
            let cfg = match (&a.certificate, &a.private_key) {
                (Some(cert), Some(key)) => {
                    crate::tls::server_from_files(cert, key, a.client_ca.as_deref())?
                }
                _ => crate::tls::self_signed_server(a.client_ca.as_deref())?.0,
            };
            Some(tokio_rustls::TlsAcceptor::from(cfg))
        }
        _ => None,
    };
    let mut listeners = Vec::new();
    let mut out = std::io::stdout();
    for (i, spec) in a.listen.iter().enumerate() {
        let addr = resolve(spec)?;
        let tag = format!("reg{i:x}");
        let (name, l) = match a.transport {
            ListenTransport::Udp => {
                let (bound, socks) = reuseport::bind_shared(addr, a.threads)
                    .map_err(|e| format!("bind {addr}: {e}"))?;
                let l = Arc::new(new_listener(bound, "udp"));
                registrar_udp::spawn(socks, &l, &tag, a.expires, a.reply_sockets)
                    .map_err(|e| format!("threads for {bound}: {e}"))?;
                ("udp", l)
            }
            ListenTransport::Tcp | ListenTransport::Tls => {
                let s = TcpListener::bind(addr)
                    .await
                    .map_err(|e| format!("bind {addr}: {e}"))?;
                let bound = s.local_addr().map_err(|e| e.to_string())?;
                let name = if tls.is_some() { "tls" } else { "tcp" };
                let l = Arc::new(new_listener(bound, name));
                tokio::spawn(accept_loop(s, l.clone(), tag, a.expires, tls.clone()));
                (name, l)
            }
        };
        let _ = writeln!(out, "listening {name} {}", l.addr);
        listeners.push(l);
    }
    let listeners = Arc::new(listeners);
    if let Some(c) = &a.control {
        let addr = resolve(c)?;
        let s = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("bind control {addr}: {e}"))?;
        let bound = s.local_addr().map_err(|e| e.to_string())?;
        let _ = writeln!(out, "control {bound}");
        tokio::spawn(control_loop(s, listeners.clone()));
    }
    let _ = out.flush();
    let mut usr1 = signal(SignalKind::user_defined1()).map_err(|e| e.to_string())?;
    let mut usr2 = signal(SignalKind::user_defined2()).map_err(|e| e.to_string())?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    loop {
        tokio::select! {
            _ = usr1.recv() => { apply(&listeners, "mute all"); }
            _ = usr2.recv() => { apply(&listeners, "unmute all"); }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    for l in listeners.iter() {
        let _ = writeln!(out, "{}", l.line());
    }
    let _ = out.flush();
    Ok(())
}

fn new_listener(addr: SocketAddr, transport: &'static str) -> Listener {
    Listener {
        addr,
        transport,
        muted: AtomicBool::new(false),
        received: AtomicU64::new(0),
        answered: AtomicU64::new(0),
        dropped: AtomicU64::new(0),
        malformed: AtomicU64::new(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_register_with_200_and_copies_headers() {
        let req = b"REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n\
v: SIP/2.0/UDP b;branch=z9hG4bK2\r\nFrom: <sip:u@example.com>;tag=1\r\n\
To: <sip:u@example.com>\r\nCall-ID: c1\r\nCSeq: 3 REGISTER\r\n\
Contact: <sip:u@1.2.3.4>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
        let mut out = Vec::new();
        assert_eq!(answer(req, "t1", 600, &mut out), Ok(true));
        let s = String::from_utf8(out).expect("utf8");
        assert!(s.starts_with(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nVia: SIP/2.0/UDP b;"
        ));
        assert!(s.contains("To: <sip:u@example.com>;tag=t1\r\n"));
        assert!(s.contains("Contact: <sip:u@1.2.3.4>;expires=600\r\n"));
        assert!(s.contains("CSeq: 3 REGISTER\r\nContact"));
        assert!(!s.contains("Max-Forwards"));
        let r = wire::parse_response(s.as_bytes()).expect("response parses");
        assert_eq!((r.status, r.cseq), (200, 3));
    }

    #[test]
    fn other_methods_get_405_and_ack_nothing() {
        let mut out = Vec::new();
        let inv = b"INVITE sip:x SIP/2.0\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n";
        assert_eq!(answer(inv, "t", 1, &mut out), Ok(true));
        assert!(out.starts_with(b"SIP/2.0 405 "));
        let ack = b"ACK sip:x SIP/2.0\r\nCall-ID: c\r\nCSeq: 1 ACK\r\n\r\n";
        assert_eq!(answer(ack, "t", 1, &mut out), Ok(false));
    }

    #[test]
    fn control_commands() {
        let ls = vec![
            Arc::new(new_listener("127.0.0.1:5070".parse().expect("addr"), "udp")),
            Arc::new(new_listener("127.0.0.1:5071".parse().expect("addr"), "udp")),
        ];
        assert_eq!(apply(&ls, "mute 127.0.0.1:5071"), "ok mute 1");
        assert!(ls[1].muted.load(Ordering::Relaxed) && !ls[0].muted.load(Ordering::Relaxed));
        assert_eq!(apply(&ls, "unmute all"), "ok unmute 2");
        assert!(apply(&ls, "mute 1.2.3.4:5").starts_with("error"));
        assert!(apply(&ls, "stats").ends_with("ok"));
    }
}
