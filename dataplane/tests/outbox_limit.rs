//! A stalled stream peer cannot make the worker buffer without bound: messages routed to a
//! connection whose reader stopped reading pile up to `max_outbox_bytes`, then are dropped and
//! counted (`OutboxFull`), while the worker keeps serving everyone else.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use common::*;
use dataplane::{DropReason, Limits, ListenerSpec, Transport, UdpBackend};

#[test]
fn a_stalled_connection_gets_at_most_its_outbox_limit() {
    let lim = Limits {
        max_outbox_bytes: 64 * 1024,
        ..limits()
    };
    let eng = start(
        1,
        UdpBackend::Epoll,
        lim,
        &[
            ListenerSpec::plain(localhost(0), Transport::Udp),
            ListenerSpec::plain(localhost(0), Transport::Tcp),
        ],
    );
    let mut stalled = TcpStream::connect(eng.addr(Transport::Tcp)).unwrap();
    stalled
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let reg = b"REGISTER sip:a SIP/2.0\r\nContent-Length: 0\r\n\r\n".to_vec();
    stalled.write_all(&reg).unwrap();
    let mut echo = vec![0; reg.len() + 5];
    stalled.read_exact(&mut echo).unwrap();
    // From now on `stalled` is never read: the kernel's buffers fill, then the outbox.
    let push = {
        let mut p = b"PUSH ".to_vec();
        p.resize(1000, b'p');
        p
    };
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let t0 = Instant::now();
    while eng.counters.total().dropped(DropReason::OutboxFull) == 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "outbox never reported full"
        );
        for _ in 0..200 {
            udp.send_to(&push, eng.addr(Transport::Udp)).unwrap();
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    // The worker still answers others.
    let ping = sip_msg("alive", "");
    udp.send_to(&ping, eng.addr(Transport::Udp)).unwrap();
    let mut buf = vec![0; 2048];
    let n = loop {
        let (n, _) = udp.recv_from(&mut buf).unwrap();
        if buf[..n].starts_with(b"ECHO ") {
            break n;
        }
    };
    assert_eq!(&buf[..n], &echo_of(&ping)[..]);
    drop(stalled);
    eng.stop();
}
