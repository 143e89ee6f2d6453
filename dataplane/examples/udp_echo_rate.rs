//! Rough single-worker UDP echo rate: one engine worker echoing, one client thread keeping
//! 64 datagrams in flight. `cargo run --release -p dataplane --example udp_echo_rate [epoll|uring]`.

use std::net::UdpSocket;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dataplane::{
    Action, Engine, EngineConfig, Handler, ListenerSpec, Peer, Shutdown, Transport, UdpBackend,
};

#[derive(Debug)]
struct Echo;

impl Handler for Echo {
    fn on_message(&self, msg: &[u8], _peer: &Peer, out: &mut Vec<u8>) -> Action {
        out.extend_from_slice(msg);
        Action::Reply
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let backend = match std::env::args().nth(1).as_deref() {
        Some("uring") => UdpBackend::IoUring,
        _ => UdpBackend::Epoll,
    };
    let cfg = EngineConfig {
        workers: 1,
        udp_backend: backend,
        ..EngineConfig::default()
    };
    let engine = Engine::bind(
        cfg,
        &[ListenerSpec::plain("127.0.0.1:0".parse()?, Transport::Udp)],
    )?;
    let server = engine.local_addrs()[0].1;
    let (shutdown, trigger) = Shutdown::new();
    let t = std::thread::spawn(move || engine.run(Arc::new(Echo), shutdown));
    let sock = UdpSocket::bind("127.0.0.1:0")?;
    sock.set_read_timeout(Some(Duration::from_millis(200)))?;
    let msg = vec![b'x'; 400];
    let mut buf = [0u8; 2048];
    for _ in 0..64 {
        sock.send_to(&msg, server)?;
    }
    let (mut n, t0) = (0u64, Instant::now());
    while t0.elapsed() < Duration::from_secs(3) {
        // On a timeout (a lost datagram) the send below replaces it.
        if sock.recv_from(&mut buf).is_ok() {
            n += 1;
        }
        sock.send_to(&msg, server)?;
    }
    let rate = n as f64 / t0.elapsed().as_secs_f64();
    println!("{backend:?}: {rate:.0} echoes/s (1 worker, 1 blocking client, 64 in flight)");
    trigger.trigger();
    let _ = t.join();
    Ok(())
}
