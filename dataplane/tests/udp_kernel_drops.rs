//! Kernel receive drops are counted: a worker stalled by its handler lets its UDP socket's
//! receive buffer overflow, and every datagram sent is then either received or counted as
//! `DropReason::UdpReceiveBuffer` (read from the kernel with SO_MEMINFO once a second), with
//! both backends, over two overflows (the second one is seen by a later periodic reading).
#![allow(clippy::unwrap_used)]

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use common::*;
use dataplane::{DropReason, ListenerSpec, Transport, UdpBackend};

/// Datagrams sent while the worker is stalled: far more than a receive buffer holds.
const BLAST: u64 = 40_000;

/// Stalls the worker and sends `BLAST` datagrams; returns how many were sent.
fn stall_and_blast(client: &UdpSocket, server: SocketAddr) -> u64 {
    client.send_to(b"STALL", server).unwrap();
    let mut sent = 1;
    for i in 0..BLAST {
        if client
            .send_to(format!("DROP {i:08}").as_bytes(), server)
            .is_ok()
        {
            sent += 1;
        }
    }
    sent
}

fn overflow(backend: UdpBackend) {
    let listen = ListenerSpec::plain("127.0.0.1:0".parse().unwrap(), Transport::Udp);
    let Ok(engine) = try_start(1, backend, limits(), &[listen]) else {
        assert_eq!(backend, UdpBackend::IoUring, "epoll must always start");
        eprintln!("io_uring unavailable here; skipping its run");
        return;
    };
    let server = engine.addr(Transport::Udp);
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut sent = 0;
    let mut dropped_before = 0;
    for round in 1..=2 {
        sent += stall_and_blast(&client, server);
        let accounted = || {
            let t = engine.counters.total();
            t.received + t.dropped(DropReason::UdpReceiveBuffer)
        };
        // The drop count is read once a second: wait for the books to balance.
        let t0 = Instant::now();
        while accounted() != sent {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "round {round}: received + kernel drops never reached {sent}: {:?}",
                engine.counters.total()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let t = engine.counters.total();
        let dropped = t.dropped(DropReason::UdpReceiveBuffer);
        assert!(
            dropped > dropped_before,
            "round {round}: the stalled worker's buffer should have overflowed: {t:?}"
        );
        // Nothing else went missing or was double counted.
        assert_eq!(t.dropped_total(), dropped, "{t:?}");
        eprintln!(
            "{backend:?} round {round}: sent {sent}, received {}, kernel drops {dropped}",
            t.received
        );
        dropped_before = dropped;
    }
    engine.stop();
}

#[test]
fn kernel_drops_counted_epoll() {
    overflow(UdpBackend::Epoll);
}

#[test]
fn kernel_drops_counted_io_uring() {
    overflow(UdpBackend::IoUring);
}
