//! Shared test support: an echo handler and an engine running on a background thread.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dataplane::{
    Action, BoundEngine, Counters, Engine, EngineConfig, EngineError, EngineHandle, FrameError,
    Handler, Limits, ListenerSpec, Peer, Shutdown, ShutdownTrigger, Stats, Transport, UdpBackend,
};

/// Replies `ECHO <worker> ` + the message; a message starting with `CLOSE` gets its echo and then
/// the connection is closed, `DROP` gets nothing, `FWD <port>` is forwarded to 127.0.0.1:<port>,
/// `PUSH`/`PUSHADDR` go over the connection of the last `REG` (by id / by remote address),
/// `FWDTCP <port>` / `FWDTLS <port>` are sent to 127.0.0.1:<port> over an outbound stream,
/// `WHO` is answered `FROM <peer.remote>\r\n`, `STALL` blocks the worker for 300 ms and answers
/// nothing (so its socket's receive buffer fills).
#[derive(Debug, Default)]
pub struct Echo {
    pub messages: AtomicUsize,
    pub stream_errors: Mutex<Vec<(String, Vec<u8>)>>,
    pub workers_seen: Mutex<Vec<usize>>,
    /// The stream connection of the last `REG` message; `PUSH` messages are sent over it.
    pub registered: Mutex<Option<(dataplane::ConnId, SocketAddr)>>,
}

impl Handler for Echo {
    fn on_message(&self, msg: &[u8], peer: &Peer, out: &mut Vec<u8>) -> Action {
        self.messages.fetch_add(1, Ordering::Relaxed);
        {
            let mut w = self.workers_seen.lock().unwrap();
            if !w.contains(&peer.worker) {
                w.push(peer.worker);
            }
        }
        if msg.starts_with(b"REG") {
            *self.registered.lock().unwrap() = peer.conn.map(|c| (c, peer.remote));
        }
        if msg.starts_with(b"PUSHADDR") {
            let (_, remote) = self.registered.lock().unwrap().unwrap();
            out.extend_from_slice(msg);
            return Action::Send {
                to: remote,
                transport: Transport::Tcp,
            };
        }
        if msg.starts_with(b"PUSH") {
            let (conn, _) = self.registered.lock().unwrap().unwrap();
            out.extend_from_slice(msg);
            return Action::SendConn(conn);
        }
        if msg.starts_with(b"WHO") {
            out.extend_from_slice(format!("FROM {}\r\n", peer.remote).as_bytes());
            return Action::Reply;
        }
        if msg.starts_with(b"DROP") {
            return Action::Drop;
        }
        if msg.starts_with(b"STALL") {
            std::thread::sleep(Duration::from_millis(300));
            return Action::Drop;
        }
        for (prefix, transport) in [
            (&b"FWDTCP "[..], Transport::Tcp),
            (b"FWDTLS ", Transport::Tls),
        ] {
            if let Some(port) = msg.strip_prefix(prefix) {
                let port: u16 = std::str::from_utf8(&port[..5])
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap();
                out.extend_from_slice(msg);
                return Action::Send {
                    to: SocketAddr::from(([127, 0, 0, 1], port)),
                    transport,
                };
            }
        }
        if let Some(port) = msg.strip_prefix(b"FWD ") {
            let port: u16 = std::str::from_utf8(&port[..5])
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            out.extend_from_slice(msg);
            return Action::Send {
                to: SocketAddr::from(([127, 0, 0, 1], port)),
                transport: Transport::Udp,
            };
        }
        out.extend_from_slice(b"ECHO ");
        out.extend_from_slice(msg);
        if msg.starts_with(b"CLOSE") {
            Action::Close
        } else {
            Action::Reply
        }
    }

    fn on_stream_error(
        &self,
        head: &[u8],
        err: &FrameError,
        _peer: &Peer,
        out: &mut Vec<u8>,
    ) -> Action {
        self.stream_errors
            .lock()
            .unwrap()
            .push((err.to_string(), head.to_vec()));
        out.extend_from_slice(b"SIP/2.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        Action::Reply
    }
}

/// A SIP-ish message with a body.
pub fn sip_msg(tag: &str, body: &str) -> Vec<u8> {
    format!("OPTIONS sip:{tag}@example.com SIP/2.0\r\nCall-ID: {tag}\r\nContent-Length: {}\r\n\r\n{body}", body.len())
        .into_bytes()
}

/// The echo of `msg`.
pub fn echo_of(msg: &[u8]) -> Vec<u8> {
    let mut v = b"ECHO ".to_vec();
    v.extend_from_slice(msg);
    v
}

/// An engine on a background thread.
pub struct Running {
    pub addrs: Vec<(Transport, SocketAddr)>,
    pub backend: UdpBackend,
    pub counters: Arc<Counters>,
    pub handler: Arc<Echo>,
    pub handle: EngineHandle,
    trigger: ShutdownTrigger,
    thread: Option<JoinHandle<Result<Stats, EngineError>>>,
}

impl Running {
    pub fn addr(&self, t: Transport) -> SocketAddr {
        self.addrs.iter().find(|(tt, _)| *tt == t).unwrap().1
    }

    /// Triggers shutdown without waiting.
    pub fn trigger(&self) {
        self.trigger.trigger();
    }

    /// Triggers shutdown and waits (at most 5 s) for the engine to stop.
    pub fn stop(mut self) -> (Stats, Duration) {
        let t0 = Instant::now();
        self.trigger.trigger();
        let thread = self.thread.take().unwrap();
        while !thread.is_finished() {
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "engine did not stop within 5 s"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let stats = thread.join().unwrap().unwrap();
        (stats, t0.elapsed())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.trigger.trigger();
    }
}

pub fn limits() -> Limits {
    Limits {
        idle_timeout: Duration::from_secs(30),
        header_timeout: Duration::from_secs(10),
        ..Limits::default()
    }
}

pub fn start(
    workers: usize,
    backend: UdpBackend,
    limits: Limits,
    listeners: &[ListenerSpec],
) -> Running {
    try_start(workers, backend, limits, listeners).unwrap()
}

pub fn try_start(
    workers: usize,
    backend: UdpBackend,
    limits: Limits,
    listeners: &[ListenerSpec],
) -> Result<Running, EngineError> {
    try_start_with_client(workers, backend, limits, listeners, None)
}

/// [`try_start`] with a client configuration for outbound TLS.
pub fn try_start_with_client(
    workers: usize,
    backend: UdpBackend,
    limits: Limits,
    listeners: &[ListenerSpec],
    tls_client: Option<Arc<rustls::ClientConfig>>,
) -> Result<Running, EngineError> {
    let engine = Engine::bind(
        EngineConfig {
            workers,
            udp_backend: backend,
            limits,
            tls_client,
            ..EngineConfig::default()
        },
        listeners,
    )?;
    let addrs = engine.local_addrs();
    let backend = engine.udp_backend_in_use();
    let counters = engine.counters();
    let handle = engine.handle();
    let handler = Arc::new(Echo::default());
    let (shutdown, trigger) = Shutdown::new();
    let h = handler.clone();
    let thread = std::thread::spawn(move || engine.run(h, shutdown));
    Ok(Running {
        addrs,
        backend,
        counters,
        handler,
        handle,
        trigger,
        thread: Some(thread),
    })
}

/// An engine with `cfg` and one UDP listener on a free loopback port.
pub fn bind_udp(cfg: EngineConfig) -> BoundEngine {
    let udp = ListenerSpec::plain("127.0.0.1:0".parse().unwrap(), Transport::Udp);
    Engine::bind(cfg, &[udp]).unwrap()
}

/// Waits until `f` holds (at most 5 s).
pub fn eventually(what: &str, f: impl Fn() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub fn localhost(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// A server configuration with a fresh self-signed certificate for `name` (a host name or an IP
/// address) and a client configuration trusting exactly that certificate.
pub fn tls_pair(name: &str) -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let ck = rcgen::generate_simple_self_signed(vec![name.to_string()]).unwrap();
    let cert: CertificateDer<'static> = ck.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let server = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client))
}
