//! Cross-core handoff: `Action::SendConn` for a TCP connection owned by another worker reaches
//! it through that worker's inbox. UDP `PUSH` datagrams from many source ports land on both
//! workers (SO_REUSEPORT), and every one of them must come out of the one registered connection.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

use common::*;
use dataplane::{DropReason, ListenerSpec, Transport, UdpBackend};

fn run(backend: UdpBackend) {
    let eng = start(
        2,
        backend,
        limits(),
        &[
            ListenerSpec::plain(localhost(0), Transport::Udp),
            ListenerSpec::plain(localhost(0), Transport::Tcp),
        ],
    );
    let mut conn = TcpStream::connect(eng.addr(Transport::Tcp)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let reg = b"REGISTER sip:a SIP/2.0\r\nContent-Length: 0\r\n\r\n".to_vec();
    conn.write_all(&reg).unwrap();
    let mut echo = vec![0; reg.len() + 5];
    conn.read_exact(&mut echo).unwrap();
    assert_eq!(echo, echo_of(&reg));
    let owner = eng.handler.registered.lock().unwrap().unwrap().0.worker();

    // 32 sockets: SO_REUSEPORT spreads them over both workers.
    let socks: Vec<UdpSocket> = (0..32)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    let mut expected = Vec::new();
    for (i, s) in socks.iter().enumerate() {
        let m = format!("PUSH {i:04}\n");
        s.send_to(m.as_bytes(), eng.addr(Transport::Udp)).unwrap();
        expected.extend_from_slice(m.as_bytes());
    }
    let mut got = vec![0; expected.len()];
    conn.read_exact(&mut got).unwrap();
    // Order across workers is not defined: compare as sorted lines.
    let lines = |b: &[u8]| {
        let mut v: Vec<Vec<u8>> = b.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
        v.sort();
        v
    };
    assert_eq!(lines(&got), lines(&expected));
    let other = 1 - owner;
    let t = eng.counters.total();
    assert!(
        eng.counters.worker(other).received > 0,
        "no PUSH landed on worker {other}: the handoff was not exercised"
    );
    assert_eq!(t.handed_off, eng.counters.worker(other).received);
    assert_eq!(t.dropped_total(), 0);

    // Once the connection is gone, handoffs to it count as no route.
    drop(conn);
    eventually("closed", || eng.counters.total().connections_open == 0);
    for s in &socks {
        s.send_to(b"PUSH late\n", eng.addr(Transport::Udp)).unwrap();
    }
    eventually("every late PUSH counted as no route", || {
        eng.counters.total().dropped(DropReason::NoRoute) == 32
    });
    eng.stop();
}

#[test]
fn send_conn_reaches_a_connection_of_another_worker_epoll() {
    run(UdpBackend::Epoll);
}

#[test]
fn send_conn_reaches_a_connection_of_another_worker_auto() {
    run(UdpBackend::Auto);
}
