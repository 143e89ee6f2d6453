//! Worker pinning: with `Pinning::PerCore` (the default) a worker thread may run on one CPU
//! only; with `Pinning::Off` it keeps the process's whole CPU set. Read from inside the
//! handler (so on the worker thread itself) with `sched_getaffinity`.
#![allow(clippy::unwrap_used)]

use std::net::UdpSocket;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod common;

use dataplane::{Action, EngineConfig, Handler, Peer, Pinning, Shutdown};

/// CPUs the calling thread may run on.
fn allowed_cpus() -> usize {
    // SAFETY: cpu_set_t is plain data; zeroed is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer and size, for the calling thread (pid 0).
    let rc =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    assert_eq!(rc, 0, "sched_getaffinity");
    // SAFETY: `set` was filled above.
    (unsafe { libc::CPU_COUNT(&set) }) as usize
}

/// Answers every datagram and records how many CPUs its thread may use.
#[derive(Debug, Default)]
struct Affinity(AtomicUsize);

impl Handler for Affinity {
    fn on_message(&self, _msg: &[u8], _peer: &Peer, out: &mut Vec<u8>) -> Action {
        self.0.store(allowed_cpus(), Ordering::Relaxed);
        out.extend_from_slice(b"ok");
        Action::Reply
    }
}

/// The number of CPUs a worker of an engine with `pinning` may use.
fn worker_cpus(pinning: Pinning) -> usize {
    let engine = common::bind_udp(EngineConfig {
        workers: 1,
        pinning,
        ..EngineConfig::default()
    });
    let to = engine.local_addrs()[0].1;
    let handler = Arc::new(Affinity::default());
    let (shutdown, trigger) = Shutdown::new();
    let h = handler.clone();
    let thread = std::thread::spawn(move || engine.run(h, shutdown));
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    client.send_to(b"which cpus", to).unwrap();
    let mut buf = [0u8; 16];
    let n = client.recv(&mut buf).expect("an answer within 5 s");
    assert_eq!(&buf[..n], b"ok");
    trigger.trigger();
    thread.join().unwrap().unwrap();
    handler.0.load(Ordering::Relaxed)
}

#[test]
fn per_core_pins_a_worker_to_one_cpu_and_off_leaves_the_process_set() {
    let process = allowed_cpus();
    if process < 2 {
        eprintln!("one CPU allowed: pinning cannot be told apart, skipped");
        return;
    }
    assert_eq!(worker_cpus(Pinning::PerCore), 1);
    assert_eq!(worker_cpus(Pinning::Off), process);
}
