//! TCP engine tests over real sockets: framing across reads, pipelining, keepalives, framing
//! errors, limits, timeouts and shutdown.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::*;
use dataplane::{DropReason, Limits, ListenerSpec, Transport, UdpBackend};

fn tcp_engine(workers: usize, lim: Limits) -> Running {
    start(
        workers,
        UdpBackend::Epoll,
        lim,
        &[ListenerSpec::plain(localhost(0), Transport::Tcp)],
    )
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

fn read_exact(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut v = vec![0; n];
    s.read_exact(&mut v).unwrap();
    v
}

/// True when the peer closed (EOF or reset) within the read timeout.
fn closed(s: &mut TcpStream) -> bool {
    let mut b = [0u8; 256];
    loop {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[test]
fn message_split_at_every_byte_boundary() {
    let eng = tcp_engine(2, limits());
    let mut s = connect(eng.addr(Transport::Tcp));
    let m = sip_msg("split", "hello body");
    for k in 1..m.len() {
        s.write_all(&m[..k]).unwrap();
        std::thread::sleep(Duration::from_millis(1));
        s.write_all(&m[k..]).unwrap();
        assert_eq!(read_exact(&mut s, m.len() + 5), echo_of(&m), "split at {k}");
    }
    assert_eq!(eng.counters.total().received as usize, m.len() - 1);
}

#[test]
fn byte_by_byte_then_pipelined_in_one_write() {
    let eng = tcp_engine(1, limits());
    let mut s = connect(eng.addr(Transport::Tcp));
    let m = sip_msg("slow", "b");
    for b in &m {
        s.write_all(std::slice::from_ref(b)).unwrap();
    }
    assert_eq!(read_exact(&mut s, m.len() + 5), echo_of(&m));
    let msgs: Vec<Vec<u8>> = (0..20)
        .map(|i| sip_msg(&format!("p{i}"), &"x".repeat(i)))
        .collect();
    s.write_all(&msgs.concat()).unwrap();
    for m in &msgs {
        assert_eq!(read_exact(&mut s, m.len() + 5), echo_of(m));
    }
}

#[test]
fn keepalive_ping_gets_pong() {
    let eng = tcp_engine(1, limits());
    let mut s = connect(eng.addr(Transport::Tcp));
    s.write_all(b"\r\n\r\n").unwrap();
    assert_eq!(read_exact(&mut s, 2), b"\r\n");
    // A lone CRLF (a pong) is swallowed; a message right after a ping still frames.
    let m = sip_msg("after", "");
    let mut w = b"\r\n".to_vec();
    w.extend_from_slice(&m);
    s.write_all(&w).unwrap();
    assert_eq!(read_exact(&mut s, m.len() + 5), echo_of(&m));
    assert!(eng.counters.total().keepalives >= 2);
}

#[test]
fn framing_error_calls_handler_and_closes() {
    let eng = tcp_engine(1, limits());
    let mut s = connect(eng.addr(Transport::Tcp));
    s.write_all(b"OPTIONS sip:a SIP/2.0\r\nContent-Length: -5\r\n\r\n")
        .unwrap();
    let resp = b"SIP/2.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(read_exact(&mut s, resp.len()), resp);
    assert!(closed(&mut s));
    let errs = eng.handler.stream_errors.lock().unwrap().clone();
    assert_eq!(errs.len(), 1);
    assert!(errs[0].1.starts_with(b"OPTIONS"));
    assert_eq!(eng.counters.total().dropped(DropReason::FrameError), 1);
}

#[test]
fn oversize_message_is_cut() {
    let lim = Limits {
        max_message: 500,
        ..limits()
    };
    let eng = tcp_engine(1, lim);
    // Declared body too large.
    let mut s = connect(eng.addr(Transport::Tcp));
    s.write_all(b"OPTIONS sip:a SIP/2.0\r\nContent-Length: 10000\r\n\r\n")
        .unwrap();
    let _ = read_exact(&mut s, 10);
    assert!(closed(&mut s));
    // A head that never ends.
    let mut s = connect(eng.addr(Transport::Tcp));
    let mut head = b"OPTIONS sip:a SIP/2.0\r\n".to_vec();
    while head.len() < 2000 {
        head.extend_from_slice(b"X-Filler: 0123456789\r\n");
    }
    let _ = s.write_all(&head);
    assert!(closed(&mut s));
    assert_eq!(
        eng.handler
            .messages
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    assert_eq!(eng.counters.total().dropped(DropReason::FrameError), 2);
}

#[test]
fn close_action_replies_then_closes() {
    let eng = tcp_engine(1, limits());
    let mut s = connect(eng.addr(Transport::Tcp));
    let m = b"CLOSE sip:a SIP/2.0\r\nContent-Length: 0\r\n\r\n";
    s.write_all(m).unwrap();
    assert_eq!(read_exact(&mut s, m.len() + 5), echo_of(m));
    assert!(closed(&mut s));
    eventually("connection gauge back to 0", || {
        eng.counters.total().connections_open == 0
    });
}

#[test]
fn idle_timeout_closes() {
    let lim = Limits {
        idle_timeout: Duration::from_millis(200),
        ..limits()
    };
    let eng = tcp_engine(1, lim);
    let mut s = connect(eng.addr(Transport::Tcp));
    let m = sip_msg("idle", "");
    s.write_all(&m).unwrap();
    assert_eq!(read_exact(&mut s, m.len() + 5), echo_of(&m));
    let t0 = Instant::now();
    assert!(closed(&mut s));
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(150) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert_eq!(eng.counters.total().dropped(DropReason::IdleTimeout), 1);
}

#[test]
fn header_timeout_closes_slow_senders() {
    let lim = Limits {
        idle_timeout: Duration::from_secs(30),
        header_timeout: Duration::from_millis(300),
        ..limits()
    };
    let eng = tcp_engine(1, lim);
    let mut s = connect(eng.addr(Transport::Tcp));
    let t0 = Instant::now();
    // One byte every 50 ms: the idle timeout never fires, the header timeout must.
    for b in b"OPTIONS sip:slowloris@example.com SIP/2.0\r\nVia: SIP/2.0/TCP x\r\n" {
        if s.write_all(std::slice::from_ref(b)).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        if t0.elapsed() > Duration::from_secs(2) {
            break;
        }
    }
    assert!(closed(&mut s));
    assert!(t0.elapsed() < Duration::from_secs(3));
    assert_eq!(eng.counters.total().dropped(DropReason::HeaderTimeout), 1);
}

#[test]
fn connection_limit_per_worker() {
    let lim = Limits {
        max_connections_per_worker: 2,
        ..limits()
    };
    let eng = tcp_engine(1, lim);
    let addr = eng.addr(Transport::Tcp);
    let mut a = connect(addr);
    let mut b = connect(addr);
    let m = sip_msg("lim", "");
    for s in [&mut a, &mut b] {
        s.write_all(&m).unwrap();
        assert_eq!(read_exact(s, m.len() + 5), echo_of(&m));
    }
    let mut c = connect(addr);
    assert!(closed(&mut c));
    assert_eq!(eng.counters.total().dropped(DropReason::ConnectionLimit), 1);
    assert_eq!(eng.counters.total().connections_open, 2);
}

#[test]
fn shutdown_finishes_message_in_flight_and_closes_idle() {
    let eng = tcp_engine(2, limits());
    let addr = eng.addr(Transport::Tcp);
    let mut idle: Vec<TcpStream> = (0..4).map(|_| connect(addr)).collect();
    let mut busy = connect(addr);
    let m = sip_msg("inflight", "body");
    busy.write_all(&m[..20]).unwrap();
    eventually("5 connections open", || {
        eng.counters.total().connections_open == 5
    });
    std::thread::sleep(Duration::from_millis(50));
    eng.trigger();
    for s in idle.iter_mut() {
        assert!(closed(s), "idle connection closed on shutdown");
    }
    busy.write_all(&m[20..]).unwrap();
    assert_eq!(read_exact(&mut busy, m.len() + 5), echo_of(&m));
    assert!(closed(&mut busy));
    let (_, took) = eng.stop();
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[test]
fn shutdown_with_open_connections_is_prompt() {
    let eng = tcp_engine(3, limits());
    let addr = eng.addr(Transport::Tcp);
    let _conns: Vec<TcpStream> = (0..10).map(|_| connect(addr)).collect();
    eventually("10 connections open", || {
        eng.counters.total().connections_open == 10
    });
    let (stats, took) = eng.stop();
    assert!(took < Duration::from_millis(500), "{took:?}");
    assert_eq!(stats.connections_open, 0);
    assert_eq!(stats.connections_accepted, 10);
}

#[test]
fn udp_message_routed_to_stream_connection() {
    let eng = start(
        1,
        UdpBackend::Epoll,
        limits(),
        &[
            ListenerSpec::plain(localhost(0), Transport::Tcp),
            ListenerSpec::plain(localhost(0), Transport::Udp),
        ],
    );
    let mut s = connect(eng.addr(Transport::Tcp));
    let reg = b"REG sip:a SIP/2.0\r\nContent-Length: 0\r\n\r\n".to_vec();
    s.write_all(&reg).unwrap();
    assert_eq!(read_exact(&mut s, reg.len() + 5), echo_of(&reg));
    let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    u.send_to(b"PUSH by id", eng.addr(Transport::Udp)).unwrap();
    assert_eq!(read_exact(&mut s, 10), b"PUSH by id");
    u.send_to(b"PUSHADDR by remote", eng.addr(Transport::Udp))
        .unwrap();
    assert_eq!(read_exact(&mut s, 18), b"PUSHADDR by remote");
    drop(s);
    eventually("connection gone", || {
        eng.counters.total().connections_open == 0
    });
    u.send_to(b"PUSH to nobody", eng.addr(Transport::Udp))
        .unwrap();
    eventually("no route counted", || {
        eng.counters.total().dropped(DropReason::NoRoute) == 1
    });
}
