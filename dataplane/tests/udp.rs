//! UDP engine tests over real sockets: request/reply under load with several workers, port 0,
//! oversize drops, forwarding, IPv6 and the backend choice.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use common::*;
use dataplane::{
    DropReason, Engine, EngineConfig, EngineError, Limits, ListenerSpec, Transport, UdpBackend,
};

fn udp_listener(addr: &str) -> ListenerSpec {
    ListenerSpec::plain(addr.parse().unwrap(), Transport::Udp)
}

fn client() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// Sends `count` datagrams with up to `window` in flight and checks every reply.
fn pump(server: SocketAddr, sock: &UdpSocket, tag: &str, count: usize, window: usize) {
    let mut outstanding = HashSet::new();
    let mut next = 0;
    let mut buf = vec![0u8; 70000];
    while next < count || !outstanding.is_empty() {
        while next < count && outstanding.len() < window {
            let m = sip_msg(&format!("{tag}-{next}"), "x");
            sock.send_to(&m, server).unwrap();
            outstanding.insert(next);
            next += 1;
        }
        let (n, from) = sock.recv_from(&mut buf).expect("reply within 5 s");
        assert_eq!(from, server);
        let reply = &buf[..n];
        assert!(
            reply.starts_with(b"ECHO OPTIONS sip:"),
            "{:?}",
            String::from_utf8_lossy(reply)
        );
        let text = String::from_utf8_lossy(reply);
        let id: usize = text
            .split("Call-ID: ")
            .nth(1)
            .unwrap()
            .split('\r')
            .next()
            .unwrap()
            .rsplit('-')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(outstanding.remove(&id), "unexpected reply {id}");
        assert_eq!(
            reply,
            echo_of(&sip_msg(&format!("{tag}-{id}"), "x")).as_slice()
        );
    }
}

fn request_reply_many_in_flight_several_workers(backend: UdpBackend) {
    let eng = start(3, backend, limits(), &[udp_listener("127.0.0.1:0")]);
    assert_eq!(eng.backend, backend);
    let server = eng.addr(Transport::Udp);
    let threads: Vec<_> = (0..6)
        .map(|c| {
            std::thread::spawn(move || {
                let s = client();
                pump(server, &s, &format!("c{c}"), 2000, 64);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // `sent` is counted after sendmmsg returns, which may be after the client got the reply.
    eventually("all sends counted", || eng.counters.total().sent == 12_000);
    let total = eng.counters.total();
    assert_eq!(total.received, 12_000);
    assert_eq!(total.dropped_total(), 0);
    let (stats, _) = eng.stop();
    assert_eq!(stats.received, 12_000);
}

fn port_zero_with_two_workers_gives_one_port_and_both_serve(backend: UdpBackend) {
    let eng = start(2, backend, limits(), &[udp_listener("127.0.0.1:0")]);
    let addrs = eng.addrs.clone();
    assert_eq!(addrs.len(), 1);
    let server = addrs[0].1;
    assert_ne!(server.port(), 0);
    // Many client ports spread over both SO_REUSEPORT sockets.
    for i in 0..32 {
        let s = client();
        pump(server, &s, &format!("p{i}"), 1, 1);
    }
    let seen = eng.handler.workers_seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "workers seen: {seen:?}");
    assert_eq!(eng.counters.workers(), 2);
    assert!(eng.counters.worker(0).received > 0 && eng.counters.worker(1).received > 0);
}

fn oversize_datagram_is_dropped_and_counted(backend: UdpBackend) {
    let lim = Limits {
        max_message: 200,
        ..limits()
    };
    let eng = start(1, backend, lim, &[udp_listener("127.0.0.1:0")]);
    let server = eng.addr(Transport::Udp);
    let s = client();
    s.send_to(&vec![b'a'; 201], server).unwrap();
    s.send_to(&vec![b'b'; 5000], server).unwrap();
    let ok = vec![b'c'; 200];
    s.send_to(&ok, server).unwrap();
    let mut buf = [0u8; 1000];
    let (n, _) = s.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], echo_of(&ok).as_slice());
    assert_eq!(eng.counters.total().dropped(DropReason::Oversize), 2);
    assert_eq!(eng.counters.total().received, 1);
}

fn drop_sends_nothing_and_send_forwards(backend: UdpBackend) {
    let eng = start(1, backend, limits(), &[udp_listener("127.0.0.1:0")]);
    let server = eng.addr(Transport::Udp);
    let target = client();
    let port = target.local_addr().unwrap().port();
    let s = client();
    s.send_to(b"DROP me", server).unwrap();
    let fwd = format!("FWD {port:<5} payload");
    s.send_to(fwd.as_bytes(), server).unwrap();
    let mut buf = [0u8; 1000];
    let (n, from) = target.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], fwd.as_bytes());
    assert_eq!(from, server, "forwarded from the listener's socket");
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    assert!(s.recv_from(&mut buf).is_err(), "DROP must not answer");
    assert_eq!(eng.counters.total().received, 2);
    eventually("forward counted", || eng.counters.total().sent == 1);
}

fn ipv6_loopback(backend: UdpBackend) {
    if UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("skipping: no IPv6 loopback");
        return;
    }
    let eng = start(
        2,
        backend,
        limits(),
        &[udp_listener("[::1]:0"), udp_listener("127.0.0.1:0")],
    );
    let v6 = eng.addrs[0].1;
    assert!(v6.is_ipv6());
    let s = UdpSocket::bind("[::1]:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    pump(v6, &s, "six", 100, 16);
    pump(eng.addrs[1].1, &client(), "four", 100, 16);
}

#[test]
fn ipv6_wildcard_is_v6_only() {
    // [::] with IPV6_V6ONLY leaves the IPv4 wildcard on the same port free.
    let Ok(eng) = Engine::bind(
        EngineConfig {
            workers: 1,
            udp_backend: UdpBackend::Epoll,
            limits: Limits::default(),
            ..EngineConfig::default()
        },
        &[udp_listener("[::]:0")],
    ) else {
        eprintln!("skipping: cannot bind [::]");
        return;
    };
    let port = eng.local_addrs()[0].1.port();
    UdpSocket::bind(("0.0.0.0", port)).expect("IPv4 wildcard on the same port");
}

#[test]
fn epoll_forced_and_auto_resolved() {
    let cfg = |b| EngineConfig {
        workers: 1,
        udp_backend: b,
        limits: Limits::default(),
        ..EngineConfig::default()
    };
    let l = [udp_listener("127.0.0.1:0")];
    assert_eq!(
        Engine::bind(cfg(UdpBackend::Epoll), &l)
            .unwrap()
            .udp_backend_in_use(),
        UdpBackend::Epoll
    );
    assert_ne!(
        Engine::bind(cfg(UdpBackend::Auto), &l)
            .unwrap()
            .udp_backend_in_use(),
        UdpBackend::Auto
    );
    match Engine::bind(cfg(UdpBackend::IoUring), &l) {
        Ok(e) => assert_eq!(e.udp_backend_in_use(), UdpBackend::IoUring),
        Err(EngineError::IoUringUnavailable(why)) => eprintln!("io_uring unavailable: {why}"),
        Err(e) => panic!("{e}"),
    }
}

fn shutdown_is_prompt(backend: UdpBackend) {
    let eng = start(4, backend, limits(), &[udp_listener("127.0.0.1:0")]);
    pump(eng.addr(Transport::Udp), &client(), "s", 10, 4);
    let (stats, took) = eng.stop();
    assert_eq!(stats.received, 10);
    assert!(took < Duration::from_secs(1), "{took:?}");
}

fn handler_panic_is_counted_and_worker_goes_on(backend: UdpBackend) {
    let eng = start(1, backend, limits(), &[udp_listener("127.0.0.1:0")]);
    let server = eng.addr(Transport::Udp);
    let s = client();
    // `PUSH` with no registered connection makes the test handler panic.
    s.send_to(b"PUSH nowhere", server).unwrap();
    pump(server, &s, "after-panic", 10, 4);
    assert_eq!(eng.counters.total().dropped(DropReason::HandlerPanic), 1);
}

/// Whether the io_uring backend passes its probe here.
fn uring_available() -> bool {
    let cfg = EngineConfig {
        workers: 1,
        udp_backend: UdpBackend::IoUring,
        limits: Limits::default(),
        ..EngineConfig::default()
    };
    match Engine::bind(cfg, &[udp_listener("127.0.0.1:0")]) {
        Ok(_) => true,
        Err(e) => {
            eprintln!("skipping io_uring variant: {e}");
            false
        }
    }
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod epoll {
            $(#[test] fn $name() { super::$name(super::UdpBackend::Epoll) })*
        }
        mod io_uring {
            $(#[test] fn $name() { if super::uring_available() { super::$name(super::UdpBackend::IoUring) } })*
        }
    };
}

both_backends!(
    request_reply_many_in_flight_several_workers,
    port_zero_with_two_workers_gives_one_port_and_both_serve,
    oversize_datagram_is_dropped_and_counted,
    drop_sends_nothing_and_send_forwards,
    ipv6_loopback,
    shutdown_is_prompt,
    handler_panic_is_counted_and_worker_goes_on,
);
