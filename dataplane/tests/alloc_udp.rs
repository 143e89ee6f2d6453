//! No allocation per datagram in the UDP loops: a counting global allocator counts what the
//! engine's worker threads allocate (a thread is counted from the handler's first call on it)
//! while a burst of datagrams goes through a real engine on loopback, after a warm-up burst.
//! Both backends (io_uring when the probe allows it, and epoll/recvmmsg).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dataplane::{Action, EngineConfig, Handler, Limits, Peer, Shutdown, UdpBackend};

#[global_allocator]
static GLOBAL: alloc_count::Counting = alloc_count::Counting;

/// Replies with a fixed-size answer, like a 301, and marks its thread as counted.
#[derive(Debug)]
struct Reply;

impl Handler for Reply {
    fn on_message(&self, msg: &[u8], _peer: &Peer, out: &mut Vec<u8>) -> Action {
        alloc_count::count_this_thread();
        out.extend_from_slice(b"SIP/2.0 301 Moved\r\n");
        out.extend_from_slice(msg);
        out.resize(out.len() + 300, b'x');
        Action::Reply
    }
}

/// Sends `n` datagrams from each client in windows of 32 and waits for every reply.
fn burst(clients: &[UdpSocket], to: SocketAddr, n: usize) {
    let mut buf = [0u8; 2048];
    for c in clients {
        let mut sent = 0;
        let mut got = 0;
        while got < n {
            while sent < n && sent - got < 32 {
                c.send_to(format!("REGISTER {sent:06}").as_bytes(), to)
                    .unwrap();
                sent += 1;
            }
            match c.recv_from(&mut buf) {
                Ok((len, _)) => {
                    assert!(len > 300);
                    got += 1;
                }
                Err(e) => panic!("reply {got} of {n} missing: {e}"),
            }
        }
    }
}

fn run(backend: UdpBackend) {
    let limits = Limits {
        udp_batch: 16,
        ..Limits::default()
    };
    let engine = common::bind_udp(EngineConfig {
        workers: 2,
        udp_backend: backend,
        limits,
        ..EngineConfig::default()
    });
    let to = engine.local_addrs()[0].1;
    let counters = engine.counters();
    let (shutdown, trigger) = Shutdown::new();
    let thread = std::thread::spawn(move || engine.run(Arc::new(Reply), shutdown));
    // Several clients so SO_REUSEPORT spreads them over both workers.
    let clients: Vec<UdpSocket> = (0..8)
        .map(|_| {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s
        })
        .collect();
    let ports: HashSet<u16> = clients
        .iter()
        .map(|c| c.local_addr().unwrap().port())
        .collect();
    assert_eq!(ports.len(), clients.len());
    burst(&clients, to, 2000);
    let before = alloc_count::counted_threads_total();
    let t0 = Instant::now();
    burst(&clients, to, 5000);
    let allocs = alloc_count::counted_threads_total() - before;
    trigger.trigger();
    let stats = thread.join().unwrap().unwrap();
    assert_eq!(stats.received, 8 * 7000);
    assert_eq!(stats.sent, 8 * 7000);
    assert_eq!(counters.total().dropped_total(), 0);
    assert_eq!(
        allocs,
        0,
        "{backend:?}: {allocs} allocations on worker threads for 40000 datagrams ({:?})",
        t0.elapsed()
    );
}

#[test]
fn udp_loops_allocate_nothing_per_datagram() {
    run(UdpBackend::Epoll);
    let uring = common::bind_udp(EngineConfig {
        workers: 1,
        udp_backend: UdpBackend::Auto,
        ..EngineConfig::default()
    })
    .udp_backend_in_use();
    if uring == UdpBackend::IoUring {
        run(UdpBackend::IoUring);
    } else {
        eprintln!("io_uring unavailable here: only the epoll backend was checked");
    }
}
